//! `ehlo repl` — a smarter telnet for SMTP — and `ehlo replay`. The async side owns the
//! connection (opened and upgraded by the one connection layer, `net::conn`) and a sans-IO
//! [`ManualSession`]; line input runs on its own thread ([`editor`]); every event goes through
//! the same renderers as a send. No protocol code here: this module only moves bytes, asks the
//! connection layer for the TLS handshake the session wants and interprets `:` meta-commands
//! ([`meta`]). Recordings: [`record`]; running them: [`replay`].

mod edit;
pub(crate) mod editor;
pub(crate) mod interrupts;
pub(crate) mod meta;
pub(crate) mod record;
mod replay;

pub(crate) use replay::replay;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt;

use crate::error::{EXIT_OK, Ending, Error, phase_exit_code};
use crate::net::conn::{self, Connection};
use crate::net::route::{Link, Target};
use crate::render::remedy::FrontEnd;
use crate::render::{HumanOptions, Renderer};
use crate::smtp::auth::{Credentials, Secret};
use crate::smtp::client::Action;
use crate::smtp::client::SessionError;
use crate::smtp::codes::TlsAsked;
use crate::smtp::event::{Event, Phase, Sink, plural_s};
use crate::smtp::manual::{ChunkLine, ChunkOwed, ManualSession, TypedChunk};
use editor::{CompletionData, HeldAs, Input, LineKind, Ui};
use interrupts::Interrupts;
use meta::{Envelope, Meta};
use record::Recorder;

/// What `ehlo repl` runs with (built by the CLI from its flags).
#[derive(Debug, Clone, Default)]
pub(crate) struct ReplConfig {
    /// The server to connect to at start; `None` starts offline (`:reconnect HOST` later).
    pub(crate) target: Option<Target>,
    /// `--port`: also applied to a `:reconnect HOST` target.
    pub(crate) port: Option<u16>,
    /// How to connect (family, DNS, TLS, timeouts), whichever the target.
    pub(crate) link: Link,
    /// `--helo NAME`: EHLO right after the banner.
    pub(crate) ehlo: Option<String>,
    /// `--tls`: STARTTLS right after that EHLO.
    pub(crate) starttls: bool,
    /// The transcript's look (colour, explanations).
    pub(crate) human: HumanOptions,
    /// `--show-secrets`.
    pub(crate) show_secrets: bool,
    /// `--log FILE`: also every event as JSON Lines.
    pub(crate) log: Option<PathBuf>,
    /// `--record FILE`.
    pub(crate) record: Option<PathBuf>,
    /// Said after `--record` in its refusal (an existing or unwritable FILE): where the flag
    /// was set when that was below the command line, else empty.
    pub(crate) record_note: String,
    /// The password for `:auth`: `--auth-password-file`, else `$EHLO_AUTH_PASSWORD` (the send's
    /// order, [`crate::cli::secrets::password`]).
    pub(crate) auth_password: Option<Secret>,
    /// `--auth-token-file`: the token for `:auth XOAUTH2|OAUTHBEARER`.
    pub(crate) auth_token: Option<Secret>,
    /// `--allow-plaintext-auth`: `:auth` without TLS does not ask first.
    pub(crate) allow_plaintext_auth: bool,
    /// `--json`: JSON Lines events on stdout (the send's schema) instead of the transcript.
    pub(crate) json: bool,
    /// `--strict`: end the session at the first 4xx/5xx reply (after QUIT) with its phase's
    /// exit code; piped, also at a reply that does not come within the timeout.
    pub(crate) strict: bool,
    /// Said after `--strict` in the refusal that ends the session: where the flag was set when
    /// that was below the command line (` (set by EHLO_STRICT in the environment)`), else empty.
    pub(crate) strict_note: String,
    /// `--timeout` as a refusal names it in brackets: with where it was set when that was below
    /// the command line (`--timeout, set by EHLO_TIMEOUT in the environment`), `:set timeout`
    /// once that changed it.
    pub(crate) timeout_named: String,
}

/// What `ehlo replay` runs with.
#[derive(Debug, Clone)]
pub(crate) struct ReplayConfig {
    /// The recorded script.
    pub(crate) script: PathBuf,
    /// The session to run it in (always with a target; no automatic EHLO or STARTTLS).
    pub(crate) session: ReplConfig,
    /// `--keep-going`: run every step, then list every mismatch.
    pub(crate) keep_going: bool,
    /// `--allow-any-file`: `:data @FILE` steps may read files outside the script's directory.
    pub(crate) any_file: bool,
    /// `--deadline`: the bound on the whole replay (`None`: none, as `0` is).
    pub(crate) deadline: Option<Duration>,
    /// Said after `--deadline` when it cuts the script's reading: where the flag was set when
    /// that was below the command line, else empty.
    pub(crate) deadline_note: String,
}

/// Said before STARTTLS goes out inside a mail transaction.
const STARTTLS_IN_TRANSACTION: &str = "STARTTLS inside a mail transaction: after the handshake the server forgets the envelope and the EHLO (RFC 3207 §4.2); many refuse it with 503";

/// How long to listen for replies to `:raw` bytes (nobody knows how many will come).
const RAW_QUIET: Duration = Duration::from_millis(700);

/// How long a reply may take before the terminal shows "waiting 7 s, 9 bytes so far".
const STATUS_AFTER: Duration = Duration::from_secs(1);

/// Most bytes of an unfinished reply the waiting status quotes (the newest ones).
const STATUS_BYTES: usize = 48;

impl ReplConfig {
    /// The renderer this session's transcript needs: JSON Lines with `--json`, else the
    /// transcript with these options.
    pub(crate) fn format(&self) -> crate::render::Format {
        if self.json {
            crate::render::Format::Json
        } else {
            crate::render::Format::Human(self.human.clone())
        }
    }
}

/// Run the REPL until `:quit`, Ctrl-D or the end of piped input, reading from `ui` (started by
/// the dispatcher, `app`) and rendering through `sink` (the run's renderer over `ui`'s console,
/// with the `--log` copy when asked). Returns the exit code: 0, or the connect/usage code when
/// the first connection cannot be made. `watch` keeps the recordings' write errors, as it does
/// the transcript's, for the dispatcher to say after the run.
pub(crate) async fn run(
    cfg: ReplConfig,
    mut ui: Ui,
    sink: Box<dyn Renderer>,
    interrupts: Option<nix::sys::signalfd::SignalFd>,
    watch: &crate::render::watch::Watch,
) -> u8 {
    let record = cfg.record.clone();
    let completion = ui.completion();
    let mut engine = Engine::new(cfg, sink, completion);
    engine.watch = watch.clone();
    engine.interactive = ui.is_tty();
    engine.interrupt = ui.is_tty().then(|| ui.interrupt());
    // The live "waiting 7 s" line: a terminal's transcript only (never JSON on a terminal).
    engine.status = if engine.cfg.json {
        None
    } else {
        ui.status_line()
    };
    // "closed — :reconnect or :quit" is for a person at a terminal, not for a script.
    engine.notices = ui.is_tty();
    let editing = engine.editing.clone();
    let interactive = ui.is_tty();
    engine.interrupts = interrupts.map(Interrupts::new);
    let queue = engine.interrupts.clone();
    if let Some(path) = &record {
        // The file `--record FILE` names was created for this run (`app`), empty.
        engine.start_recording(path, meta::RecordMode::Overwrite);
    }
    // `biased`, the signals first: their handlers are installed by `terminated`'s first poll,
    // before the session can send a byte or print a reply, so a SIGINT that comes after the
    // first reply is seen never ends the process without its summary (polled in random order,
    // the session could run as far as a reply that was already waiting before the handlers).
    tokio::select! {
        biased;
        sig = terminated(interactive, editing, queue) => {
            // SIGTERM/SIGHUP/SIGINT/SIGQUIT: no QUIT dialogue (the
            // terminal may be gone), but the same clean-up as every other exit: the terminal
            // restored, the history saved, an `:edit` draft removed. Nothing is drawn after
            // the line that says so: no prompt, no "waiting" line.
            // A line half typed at the prompt when the terminal closed (SIGHUP) or a signal
            // came is discarded: the transcript and the `--log` say so, with its length only
            // (it may be a password; at a secret prompt not even that), before the leaving
            // line, which stays the last drawn.
            // So are the lines typed ahead while a reply was awaited, not read yet: counted,
            // never shown, their length never told (one may be a SASL response typed ahead of
            // its 334).
            let unsent = ui.leaving();
            if let Some(note) = unsent.at_prompt.note() {
                engine.say(&note);
            }
            if unsent.ahead_lines > 0 {
                let l = unsent.ahead_lines;
                engine.say(&format!(
                    "*** {l} line{} typed ahead not sent, discarded",
                    plural_s(l)
                ));
            }
            engine.data_cut_by_signal();
            engine.say(&format!("*** {sig}: leaving"));
            // As the send over `--pipe` ends on one: outcome `interrupted`, the signal named.
            engine.end(Ended::from_error(&Error::Signalled(sig)));
        }
        () = session_loop(&mut engine, &mut ui) => engine.unfinished_ending(),
    };
    engine.close_quietly().await;
    engine.summary();
    engine.sink.finish();
    // Always restore the terminal (raw mode off, bracketed paste off) and save the history.
    ui.shutdown();
    engine.exit_code()
}

/// Wait for SIGTERM, SIGHUP, SIGINT or SIGQUIT (on a terminal the editor reads Ctrl-C
/// and Ctrl-\ as keys, so these come from `kill`, or from the terminal while `:edit`'s editor
/// has it: then they are the editor's business and ignored, as git does). On a terminal they
/// are read from `queue` ([`interrupts`]); through handlers only when it could not be opened.
async fn terminated(
    interactive: bool,
    editing: Arc<AtomicBool>,
    queue: Option<Interrupts>,
) -> Ending {
    use tokio::signal::unix::{Signal, SignalKind, signal};
    let (Ok(mut t), Ok(mut h)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) else {
        return std::future::pending().await;
    };
    // Piped, SIGINT (a `kill -INT`, Ctrl-C at the terminal of the pipeline) ends the run as
    // SIGTERM does, with the summary and 130, not killed without either; so does SIGQUIT, with
    // 131: the core dump it asks for is one ehlo never writes (`crate::coredump`), as in a send.
    let (mut int, mut quit): (Option<Signal>, Option<Signal>) = if !interactive || queue.is_none() {
        (
            signal(SignalKind::interrupt()).ok(),
            signal(SignalKind::quit()).ok(),
        )
    } else {
        (None, None)
    };
    async fn next(s: &mut Option<Signal>) {
        match s {
            Some(s) => {
                s.recv().await;
            }
            None => std::future::pending().await,
        }
    }
    async fn queued(q: &Option<Interrupts>) -> Ending {
        match q {
            Some(q) => q.next().await,
            None => std::future::pending().await,
        }
    }
    loop {
        let key = tokio::select! {
            _ = t.recv() => return Ending::Term,
            _ = h.recv() => return Ending::Hup,
            _ = next(&mut int) => Ending::Int,
            _ = next(&mut quit) => Ending::Quit,
            k = queued(&queue) => k,
        };
        if !editing.load(Ordering::SeqCst) {
            return key;
        }
    }
}

/// The session until it ends: normally (`:quit`, the end of the input), or on a failure that
/// ends it, recorded in [`Engine::ended`] (the exit code and the summary read it from there).
async fn session_loop(engine: &mut Engine, ui: &mut Ui) {
    if engine.target.is_some() {
        if let Err(e) = engine.connect(&mut Feed::Ui(ui), true, true).await {
            engine.end(e);
            return;
        }
        // `--tls` refused on a terminal, and the user did not want plain text: ended.
        if engine.ended.is_some() || engine.strict_failure().await {
            return;
        }
    } else {
        engine.say("not connected: :reconnect HOST[:PORT] to connect, :help for help");
    }
    // Piped: a typed SASL exchange ended (refused, or a 235 or 503 before a response was
    // asked for) and no command has come since: the lines that follow are the responses the
    // script meant for it (see [`after_ended_sasl`]). `Some(true)`: it ended with a 235.
    let mut ended_sasl: Option<bool> = None;
    // Piped: a line of a typed DATA was refused and the message abandoned; its other lines,
    // up to its `.`, are content, never commands.
    let mut skip_message = false;
    loop {
        engine.say_lost_files();
        let (prompt, kind) = engine.prompt();
        ui.request(&prompt, kind);
        let input = if engine.connected() {
            tokio::select! {
                i = ui.recv() => i,
                n = engine.read_some() => {
                    let before = engine.sasl_mark();
                    let replies = engine.seen.len();
                    engine.on_read(n);
                    engine.pump_out().await;
                    engine.record_unasked(replies);
                    // A late final reply (the wait for it was stopped or timed out).
                    if !ui.is_tty()
                        && let Some(ok) = sasl_exchange_ended(before, engine.sasl_mark())
                    {
                        ended_sasl = Some(ok);
                    }
                    // A reply nobody asked for (a 421 before closing) counts for --strict too.
                    if engine.strict_failure().await {
                        return;
                    }
                    continue;
                }
            }
        } else {
            ui.recv().await
        };
        engine.input_notes(ui);
        match input {
            Input::Line(line) if skip_message => skip_message = line != ".",
            Input::Line(line) => {
                // Typed at the secret prompt, but the exchange ended meanwhile (a refusal, a
                // close): sent now it would go as a command, shown and stored. Not sent.
                if ui.typed_secret()
                    && !engine.expects_secret()
                    && !line.is_empty()
                    && !line.trim_start().starts_with(':')
                {
                    engine.error("the SASL exchange ended while this response was typed: not sent");
                    continue;
                }
                if let Some(ok) = ended_sasl {
                    if after_ended_sasl(&line) {
                        if !line.trim().is_empty() {
                            let after = if ok {
                                "after the AUTH's 235 (its exchange had ended)"
                            } else {
                                "after the refused AUTH"
                            };
                            engine.error(format!(
                                "{}: taken for a SASL response {after}: not sent (nor is any line before the next command)",
                                crate::smtp::auth::MASK
                            ));
                        }
                        continue;
                    }
                    ended_sasl = None;
                }
                // More lines of the same paste are waiting: pipeline when the server allows.
                engine.more_pasted = ui.more_pasted();
                engine.failed = None;
                engine.timed_out = None;
                let before = engine.sasl_mark();
                engine.stopped_waiting = false;
                let flow = engine.execute(&line, &mut Feed::Ui(ui)).await;
                if std::mem::take(&mut engine.stopped_waiting) {
                    // Ctrl-C stopped a wait: the lines typed ahead are not run but kept.
                    let held = if engine.doing_auth
                        || engine.expects_secret()
                        || sasl_exchange_ended(before, engine.sasl_mark()).is_some()
                    {
                        HeldAs::Secret
                    } else if engine.doing.eq_ignore_ascii_case("`DATA`") {
                        HeldAs::Content
                    } else {
                        HeldAs::Commands
                    };
                    if let Some(note) = ui.hold_typeahead(held) {
                        engine.emit(Event::warning(note));
                    }
                }
                // What was said about the lines the input read itself (`:data` content).
                engine.input_notes(ui);
                engine.more_pasted = false;
                if sasl_typeahead_refused(before, engine.sasl_mark()) {
                    // Keys typed while the exchange was open (responses typed ahead) wait in
                    // the editor; the exchange ended unauthenticated (a refusal, a close), so
                    // read at a command prompt they would go out as commands, shown and kept
                    // in the history. They are read as secrets and, by the rule above, not sent.
                    ui.secret_typeahead();
                }
                // A pipe has no keys typed ahead: once the exchange has ended, however it
                // ended, its next lines are read by the rule of `after_ended_sasl`.
                if !ui.is_tty()
                    && let Some(ok) = sasl_exchange_ended(before, engine.sasl_mark())
                {
                    ended_sasl = Some(ok);
                }
                if engine.ended.is_some() || engine.strict_failure().await || flow == Flow::Quit {
                    return;
                }
            }
            // Ctrl-C at a SASL response's prompt abandons the exchange, as at `:auth`'s
            // prompt: left open, the next line typed (not echoed: it is read as a secret)
            // would go out as the response.
            Input::Interrupted if engine.expects_secret() => {
                engine.say("AUTH cancelled (Ctrl-C): \"*\" ends the SASL exchange (RFC 4954 §4)");
                engine.cancel_sasl().await;
                if engine.ended.is_some() {
                    return;
                }
            }
            Input::Interrupted => {}
            Input::Refused => {
                // Inside a typed DATA the message would go out without the line: abandoned
                // as at the end of input inside it (nothing delivered, `--strict`: 25).
                if engine.in_data() {
                    engine
                        .abandon_data("a line of the message was refused: the message is not sent (the connection is closed without the final \".\"); its other lines, up to the \".\", are skipped")
                        .await;
                    skip_message = true;
                    if engine.ended.is_some() {
                        return;
                    }
                }
            }
            Input::Eof => {
                // The terminal closed with a line half typed: said, by its length only (it
                // may be a password), as when a signal ends the REPL.
                if let Some(note) = ui.discarded_at_eof().note() {
                    engine.say(&note);
                }
                engine.quit().await;
                return;
            }
        }
    }
}

/// Piped, after a SASL exchange ended, however it ended (a typed `AUTH LOGIN` refused with 538
/// instead of 334, answered 235 or 503 at once, or after fewer 334s than the script has
/// responses): is `line` one of the responses the script meant for it, never to be sent (it
/// would go out as a command, echoed and stored in clear)? Every line up to the next one that
/// is a command: a `:` meta-command or a line that starts with an SMTP verb. (No verb is the
/// base64 of printable text, so a response is never taken for one.) A pipe cannot tell a
/// response from a command by timing, as a terminal's type-ahead can: only by its form.
fn after_ended_sasl(line: &str) -> bool {
    let line = line.trim_start();
    let verb = line.split_whitespace().next().unwrap_or("");
    !line.starts_with(':') && !meta::is_verb(verb)
}

/// Did a SASL exchange run during a command (one was under way before it, or one started) and
/// end, whatever its final reply? `Some(true)` when it ended with a 235. `before` and `after`
/// are [`Engine::sasl_mark`]s.
fn sasl_exchange_ended(before: (bool, u32, bool), after: (bool, u32, bool)) -> Option<bool> {
    let (open_before, started_before, _) = before;
    let (open_after, started_after, ok_after) = after;
    let ran = open_before || started_after != started_before;
    (ran && !open_after).then_some(ok_after)
}

/// Did a SASL exchange run during a command (one was under way before it, or one started) and
/// end without its 235 (a refusal, a 503 when already authenticated, a close)? `before` and
/// `after` are [`Engine::sasl_mark`]s.
fn sasl_typeahead_refused(before: (bool, u32, bool), after: (bool, u32, bool)) -> bool {
    sasl_exchange_ended(before, after) == Some(false)
}

/// An SMTP line as the notes about it name it (`MAIL FROM:<a@b>`, secrets masked).
fn shown_input(line: &str) -> String {
    let shown = crate::smtp::manual::redact_typed_line(line.trim())
        .unwrap_or_else(|| line.trim().to_string());
    format!("`{shown}`")
}

/// Does the REPL go on after an input?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Continue,
    Quit,
}

/// Where an input that needs more lines (`:data`, `:auth`) gets them.
enum Feed<'a> {
    /// Ask the user.
    Ui(&'a mut Ui),
    /// From a recording (content lines). Questions (a user name, a secret, "send without
    /// TLS?") go to the REPL's terminal during `:replay`, to the terminal `ehlo replay` runs
    /// on, or nowhere (then the caller says what to set instead).
    Lines {
        lines: record::BodyLines,
        ui: Option<&'a mut Ui>,
    },
}

impl Feed<'_> {
    /// The next content line.
    async fn line(&mut self, prompt: &str, kind: LineKind) -> Input {
        match self {
            Feed::Ui(ui) => ui.line(prompt, kind).await,
            Feed::Lines { lines, .. } => lines.next().map(Input::Line).unwrap_or(Input::Eof),
        }
    }

    /// Can a question be put to a person (a terminal)?
    fn can_ask(&self) -> bool {
        use std::io::IsTerminal;
        match self {
            Feed::Ui(ui) => ui.is_tty(),
            Feed::Lines { ui: Some(ui), .. } if ui.is_tty() => true,
            Feed::Lines { .. } => std::io::stdin().is_terminal(),
        }
    }

    /// Ask a question: `None` when nobody can answer (or it was cancelled). A piped REPL reads
    /// the answer from its script (as typed lines would be).
    async fn ask(&mut self, prompt: &str, kind: LineKind) -> Option<String> {
        use std::io::IsTerminal;
        match self {
            Feed::Ui(ui) => match ui.line(prompt, kind).await {
                Input::Line(l) => Some(l),
                _ => None,
            },
            Feed::Lines { ui: Some(ui), .. } if ui.is_tty() => match ui.line(prompt, kind).await {
                Input::Line(l) => Some(l),
                _ => None,
            },
            Feed::Lines { .. } if std::io::stdin().is_terminal() => {
                let (prompt, echo) = (prompt.to_string(), kind != LineKind::Secret);
                tokio::task::spawn_blocking(move || {
                    crate::cli::secrets::tty_prompt(&prompt, echo).ok()
                })
                .await
                .ok()
                .flatten()
            }
            Feed::Lines { .. } => None,
        }
    }

    /// The terminal of the REPL running a `:replay`, for the questions of its steps.
    fn ui(&mut self) -> Option<&mut Ui> {
        match self {
            Feed::Ui(ui) => Some(&mut **ui),
            Feed::Lines { ui, .. } => ui.as_deref_mut(),
        }
    }
}

/// A reply owed to an input whose wait ended ([`Engine::late`]).
#[derive(Debug, Clone)]
struct Late {
    /// The input, as shown (secrets masked).
    what: String,
    /// When its wait began.
    since: Instant,
    /// Part of a SASL exchange: recorded with the exchange, as a reply in time would be.
    auth: bool,
}

/// One reply seen while an input ran: for recordings and replay checks.
struct Seen {
    code: u16,
    enhanced: Option<crate::smtp::reply::EnhancedCode>,
    phase: Phase,
    text: String,
    /// The whole reply, as the `received` event carried it (secrets masked): a replay's
    /// `replay_mismatch` event quotes it in the same shape.
    reply: Box<crate::smtp::reply::Reply>,
}

/// `--tls` (or a replayed `:starttls`) and TLS did not start (not advertised, refused, or
/// answered without a 220): the core's failure ([`SessionError::starttls_required`]), its
/// remedy worded for `front` (the REPL, or replay).
fn starttls_ended(e: &SessionError, front: FrontEnd) -> Ended {
    let reason = match e {
        SessionError::NotAdvertised {
            extension,
            hint: Some(h),
            ..
        } => format!(
            "{extension} is not advertised by the server ({})",
            crate::render::remedy::words(h, front)
        ),
        e => e.to_string(),
    };
    let e = Error::Session(e.clone());
    Ended::new(e.exit_code(), e.label(), Some(reason))
}

/// How a run (or the input being run) failed: the exit code it means, the JSON summary's
/// `outcome` label and its one-line reason (`None`: the summary has no `error`).
#[derive(Debug, Clone)]
struct Ended {
    code: u8,
    label: &'static str,
    reason: Option<String>,
}

impl Ended {
    fn new(code: u8, label: &'static str, reason: Option<String>) -> Ended {
        Ended {
            code,
            label,
            reason,
        }
    }

    /// An error's exit code, label and message.
    fn from_error(e: &Error) -> Ended {
        Ended::new(e.exit_code(), e.label(), Some(e.to_string()))
    }
}

/// The session stopped reading a server that would not stop talking (a reply past the
/// reader's size limit, or 100 replies in a row nobody asked for) and closed the connection:
/// on purpose, but the dialogue could not go on as asked. `--strict` and a replay end the run
/// on it now (`failed`); a piped run without `--strict` at its end (`unfinished`), with the
/// phase's code, as the send fails on such a reply ([`Engine::unfinished_ending`]; it used to
/// exit 0, a flooding server passing as a good one). Fields, not `&mut Engine`: it is called
/// while the session is borrowed.
fn stopped_reading(
    failed: &mut Option<Ended>,
    unfinished: &mut Option<(Ended, String)>,
    ended: Ended,
) {
    if unfinished.is_none() {
        let reason = ended.reason.clone().unwrap_or_default();
        let said = format!("{reason}: the run could not finish (exit {})", ended.code);
        let copy = Ended::new(ended.code, ended.label, ended.reason.clone());
        *unfinished = Some((copy, said));
    }
    *failed = Some(ended);
}

struct Engine {
    cfg: ReplConfig,
    target: Option<Target>,
    conn: Option<Connection>,
    session: Option<ManualSession>,
    /// The run's one event sink: the human renderer (with the `--log` JSON copy). Every
    /// line the REPL shows goes through it, notes included.
    sink: Box<dyn Renderer>,
    /// When the run started (events carry the time since then).
    start: Instant,
    completion: Arc<Mutex<CompletionData>>,
    recorder: Option<Recorder>,
    /// Keeps a recording's write errors (a full disk) to be said after the run.
    watch: crate::render::watch::Watch,
    envelope: Envelope,
    seen: Vec<Seen>,
    /// Replies still owed to inputs whose wait ended (`--timeout`, Ctrl-C), oldest first: what
    /// each input was (as shown, secrets masked) and when its wait began. A reply that comes
    /// later pairs with the oldest (as the session pairs it), not with the input then running.
    late: std::collections::VecDeque<Late>,
    /// Late replies ([`Engine::late`]) that came during the current input: not its replies,
    /// but a late refusal still counts for `--strict`.
    late_seen: Vec<Seen>,
    /// The input being run, as [`Engine::late`] names it.
    doing: String,
    /// The input being run is part of a SASL exchange (an AUTH, a response): its replies are
    /// recorded with the exchange's `:auth` step however late they come.
    doing_auth: bool,
    /// Ctrl-C stopped a wait during the input being run: what was typed ahead is held.
    stopped_waiting: bool,
    /// Waiting for the replies still owed on the way out ([`Engine::quit`]): a wait that ends
    /// is not said.
    draining: bool,
    rbuf: Vec<u8>,
    waiting_since: Instant,
    last_activity: Instant,
    /// Print the "server closed" notice once per connection.
    close_reported: bool,
    close_expected: bool,
    /// The banner's timeout was warned about on this connection.
    banner_warned: bool,
    /// The server sent a 421: the close that follows is its own, announced.
    announced_close: bool,
    /// A terminal is attached.
    interactive: bool,
    /// Ctrl-C on the terminal while a reply is awaited: stop waiting.
    interrupt: Option<Arc<editor::Interrupt>>,
    /// Options of the latest `:starttls` (`--insecure`, `--ca`, `--sni`).
    tls_opts: meta::TlsOptions,
    /// A handshake failed and took the connection with it: connect again in plain text.
    tls_retry: bool,
    /// The last handshake failed, or the server ended the TLS session with an alert (its
    /// summary label and reason, with the STARTTLS phase's exit code), and nothing has decided
    /// yet what follows: a piped run ends on it ([`Engine::strict_failure`]) instead of going
    /// on in plain text; on a terminal `:starttls` connects again in plain text.
    tls_pending: Option<Ended>,
    /// The latest EHLO/HELO line typed (sent again after such a reconnection).
    greeting: Option<String>,
    /// The input being run could not run (its phase's exit code, no reason: "not sent"), or
    /// failed past its replies (a replayed handshake: with its reason). Cleared before each
    /// input; `--strict` and replay end the run on it, the replay's table shows it. Set by
    /// [`Engine::fail`].
    failed: Option<Ended>,
    /// The line being run came from a paste with more lines waiting.
    more_pasted: bool,
    /// Pipelined commands sent but not yet recorded (their replies pair in order).
    unrecorded: Vec<String>,
    /// A hand-typed AUTH was recorded as `:auth`: the typed SASL responses that follow add
    /// their reply codes to that step.
    typed_auth_recorded: bool,
    /// That `:auth` step was recorded before the empty 334 its AUTH drew came (the wait was
    /// stopped or timed out): the 334 is left out when it comes with a response's codes, as
    /// [`Engine::record_auth_step`] leaves it out when it comes in time.
    auth_334_due: bool,
    /// REPL (not replay): print the "closed — :reconnect or :quit" notice.
    notices: bool,
    /// The terminal's status line, for "waiting 7 s, 9 bytes so far" (`None`: a pipe, `--json`,
    /// replay), and whether it shows something now.
    status: Option<editor::StatusLine>,
    status_shown: bool,
    /// What the last TLS handshake of this connection negotiated (for `:status`).
    tls_info: Option<crate::smtp::event::TlsInfo>,
    /// The mechanism and user of the latest AUTH on this connection (never the secret).
    auth_user: Option<(String, String)>,
    /// The latest reply, as `:status` shows it.
    last_reply: Option<String>,
    /// The file being recorded to.
    recording: Option<PathBuf>,
    /// The RFC 1870 size of the content typed after a DATA so far.
    typed_size: crate::smtp::data::SizeWatch,
    /// `ehlo replay --keep-going`: every step runs whatever differs.
    keep_going: bool,
    /// The differences a replay found, in order.
    mismatches: Vec<replay::Mismatch>,
    /// A script is running (`ehlo replay`, `:replay`): a `:replay` inside it is refused.
    replaying: bool,
    /// The script line of the step a replay is running (0: the banner, before any step), for
    /// what a `--deadline` cut says.
    replay_line: usize,
    /// `:edit`'s editor has the terminal (SIGINT/SIGQUIT from it are the editor's).
    editing: Arc<AtomicBool>,
    /// The queue SIGINT/SIGQUIT are read from on a terminal (`:edit` drops what its editor
    /// got).
    interrupts: Option<Interrupts>,
    /// The last wait for a reply ran out of time (`--timeout`) in this phase: not a failure
    /// by itself (the late reply is shown when it comes), but a piped `--strict` run ends on
    /// it with the phase's exit code, as the send does.
    timed_out: Option<Phase>,
    /// What first kept a piped run from finishing: a wait that ran out (its phase's code,
    /// `timeout`), a reply the REPL stopped reading (cut for size, or the 100th unasked one in
    /// a row: the phase's code), or the server dropping the connection while the script still
    /// had lines to send (6, `closed`), with the line that says so at the end. A piped run
    /// without `--strict` ends with it ([`Engine::unfinished_ending`]).
    unfinished: Option<(Ended, String)>,
    /// The server the session last connected to, as the send's summary names it
    /// (`host [addr]`), and the TLS version its connection last negotiated.
    server: Option<String>,
    tls_version: Option<String>,
    /// Time per phase over the whole session (the summary's `timings`).
    timings: Vec<crate::smtp::event::PhaseTiming>,
    /// How the run ended, when it failed: the exit code, the JSON summary's outcome and
    /// reason all read this one value. Set only by [`Engine::end`], when the run stops.
    ended: Option<Ended>,
    /// Connections made so far (to tell whether one was made during an input).
    connects: u32,
    /// A `:` line was typed inside the current typed message (warned about once).
    colon_in_data: bool,
    /// A typed message was open (after DATA's 354, before its final "."), as last seen: when
    /// the connection is gone, the lines up to a lone "." are that message's, not commands.
    data_cut: bool,
    helo_default: String,
}

impl Engine {
    fn new(
        cfg: ReplConfig,
        sink: Box<dyn Renderer>,
        completion: Arc<Mutex<CompletionData>>,
    ) -> Engine {
        let helo_default = gethostname::gethostname()
            .to_string_lossy()
            .trim()
            .to_string();
        let now = Instant::now();
        // The password and token `:auth` would use (`--auth-password-file`, `EHLO_AUTH_PASSWORD`,
        // `--auth-token-file`) are known before any exchange: a line that carries one (`NOOP
        // <password>`, a typed response holding it) is masked from the first, as a secret the
        // session has seen is.
        if !cfg.show_secrets
            && let Ok(mut c) = completion.lock()
        {
            for s in [&cfg.auth_password, &cfg.auth_token].into_iter().flatten() {
                for f in crate::smtp::auth::secret_forms(s.expose()) {
                    if !c.secrets.contains(&f) {
                        c.secrets.push(f);
                    }
                }
            }
        }
        Engine {
            target: cfg.target.clone(),
            cfg,
            conn: None,
            session: None,
            sink: Box::new(Masked {
                inner: sink,
                completion: completion.clone(),
            }),
            start: now,
            completion,
            recorder: None,
            watch: crate::render::watch::Watch::default(),
            envelope: Envelope::default(),
            seen: Vec::new(),
            late: std::collections::VecDeque::new(),
            late_seen: Vec::new(),
            doing: "the banner".to_string(),
            doing_auth: false,
            stopped_waiting: false,
            draining: false,
            rbuf: vec![0u8; 16 * 1024],
            waiting_since: now,
            last_activity: now,
            close_reported: false,
            close_expected: false,
            banner_warned: false,
            announced_close: false,
            interactive: false,
            interrupt: None,
            tls_opts: meta::TlsOptions::default(),
            tls_retry: false,
            tls_pending: None,
            greeting: None,
            failed: None,
            more_pasted: false,
            unrecorded: Vec::new(),
            typed_auth_recorded: false,
            auth_334_due: false,
            notices: false,
            status: None,
            status_shown: false,
            tls_info: None,
            auth_user: None,
            last_reply: None,
            recording: None,
            typed_size: Default::default(),
            keep_going: false,
            mismatches: Vec::new(),
            replaying: false,
            replay_line: 0,
            editing: Arc::new(AtomicBool::new(false)),
            interrupts: None,
            timed_out: None,
            unfinished: None,
            server: None,
            tls_version: None,
            timings: Vec::new(),
            ended: None,
            connects: 0,
            colon_in_data: false,
            data_cut: false,
            helo_default: if helo_default.is_empty() {
                "localhost".into()
            } else {
                helo_default
            },
        }
    }

    /// The per-reply timeout (zero = none).
    fn timeout(&self) -> Duration {
        self.cfg.link.timeout
    }

    /// No reply within `--timeout` in `phase`: the send's error for it (its exit code, its
    /// `timeout` outcome, its wording).
    fn reply_timeout(&self, phase: Phase) -> Error {
        Error::Timeout {
            phase,
            secs: self.timeout().as_secs_f64(),
            implicit_tls: false,
            handshake: false,
        }
    }

    /// The `--log` or recording file that could not be written (a full disk, the file-size
    /// limit) since the last input: one line each, once, as soon as the session sees it. The
    /// session goes on; what was lost is lost (a recording may end inside a step).
    fn say_lost_files(&mut self) {
        for line in self.watch.take_files() {
            self.error(line);
        }
    }

    fn say(&mut self, text: &str) {
        self.emit(Event::Note { text: text.into() });
    }

    fn emit(&mut self, ev: Event) {
        Sink::event(&mut self.sink, &ev, self.start.elapsed());
    }

    fn error(&mut self, message: impl Into<String>) {
        self.emit(Event::Error {
            message: message.into(),
        });
    }

    /// Report what the piped reader said about the lines read (refused, cut), as the REPL's
    /// other errors are: on stderr, or as events under `--json`.
    fn input_notes(&mut self, ui: &Ui) {
        for note in ui.take_notes() {
            match note {
                editor::InputNote::Warning(text) => self.emit(Event::warning(text)),
                editor::InputNote::Error(text) => self.error(text),
            }
        }
    }

    /// Is the next typed line a SASL response?
    fn expects_secret(&self) -> bool {
        self.session.as_ref().is_some_and(|s| s.expects_secret())
    }

    /// Where the session's SASL exchanges stand: one under way, how many have started, and
    /// whether the last to end got its 235 ([`sasl_typeahead_refused`] compares two of these).
    fn sasl_mark(&self) -> (bool, u32, bool) {
        match &self.session {
            Some(s) => (
                s.expects_secret(),
                s.exchanges_started(),
                s.last_exchange_ok(),
            ),
            None => (false, 0, false),
        }
    }

    fn connected(&self) -> bool {
        self.conn.is_some() && self.session.as_ref().is_some_and(|s| !s.is_closed())
    }

    fn prompt(&self) -> (String, LineKind) {
        match &self.session {
            None => ("ehlo[offline]> ".into(), LineKind::Command),
            Some(s) => {
                let kind = if s.expects_secret() {
                    LineKind::Secret
                } else if s.state().in_data {
                    LineKind::Data
                } else {
                    LineKind::Command
                };
                (s.state().prompt(), kind)
            }
        }
    }

    fn start_recording(&mut self, path: &std::path::Path, mode: meta::RecordMode) {
        let server = self
            .target
            .as_ref()
            .map(|t| t.to_string())
            .unwrap_or_default();
        match Recorder::create(path, &server, mode, &self.watch) {
            Ok((r, narrowed)) => {
                self.recorder = Some(r);
                self.recording = Some(path.to_path_buf());
                self.say(&format!("recording to {}", path.display()));
                if let Some(said) = narrowed {
                    self.emit(Event::warning(said));
                }
            }
            Err(e) => {
                // Nothing will be recorded: a step that could not run (`--strict`: exit 1).
                self.error(e.clone());
                self.fail(crate::error::EXIT_USAGE, "failed", Some(e));
            }
        }
    }

    /// The replies seen from `from` on came while the prompt waited for input (a 421 before
    /// the server closes, a reply later than the timeout): recorded as `~` lines after the
    /// step they follow, for replay to wait for and check.
    fn record_unasked(&mut self, from: usize) {
        let mut codes: Vec<u16> = self.seen.iter().skip(from).map(|s| s.code).collect();
        // The empty 334 of a hand-made AUTH recorded as an `:auth` step that sends an initial
        // response (see `auth_334_due`): the step draws none on replay.
        if self.auth_334_due && !codes.is_empty() {
            self.auth_334_due = false;
            if codes.first() == Some(&334) {
                codes.remove(0);
            }
        }
        if let Some(r) = self.recorder.as_mut()
            && !codes.is_empty()
        {
            r.unasked(&codes);
        }
    }

    fn record(&mut self, input: &str, body: &[String]) {
        let codes: Vec<u16> = self.seen.iter().map(|s| s.code).collect();
        // A line holding a secret seen this session is written with the mask in its place:
        // replayed, it is refused as a masked AUTH is. `:auth MECH user` steps are the
        // recorder's own (their user is no secret, even when a typed AUTH LOGIN sent it).
        let input = if input.starts_with(":auth") {
            input.to_string()
        } else {
            self.masked(input)
        };
        let body: Vec<String> = body.iter().map(|l| self.masked(l)).collect();
        if let Some(r) = self.recorder.as_mut() {
            r.step(&input, &body, &codes);
        }
    }

    /// Add what the session saw to the registry of secrets ([`CompletionData::secrets`]),
    /// which outlives the connection: in memory only.
    fn learn_secrets(&mut self) {
        let Some(s) = self.session.as_ref() else {
            return;
        };
        if s.secrets().is_empty() {
            return;
        }
        if let Ok(mut c) = self.completion.lock() {
            for k in s.secrets() {
                if !c.secrets.contains(k) {
                    c.secrets.push(k.clone());
                }
            }
        }
    }

    /// `text` with every secret of the registry masked (the text itself when it holds none).
    fn masked(&self, text: &str) -> String {
        masked_by(&self.completion, text)
    }

    // ----- connection ---------------------------------------------------------------------

    /// Connect through the connection layer (MX in preference order for `@domain`, the family
    /// filter, implicit TLS), read the banner, then the automatic `--helo` / `--tls` steps
    /// (`--tls` only when `auto_tls`: never on the plain-text connection that follows a failed
    /// handshake, which would fail the same way). `Err` says how, for a caller that ends the
    /// run on it (its exit code from `error.rs`).
    async fn connect(
        &mut self,
        feed: &mut Feed<'_>,
        first: bool,
        auto_tls: bool,
    ) -> Result<(), Ended> {
        let Some(target) = self.target.clone() else {
            let e = Error::Usage("no server: :reconnect HOST[:PORT]".into());
            self.error(e.to_string());
            return Err(Ended::from_error(&e));
        };
        self.seen.clear();
        self.forget_late();
        self.doing = "the banner".to_string();
        self.doing_auth = false;
        self.tls_info = None;
        self.auth_user = None;
        self.last_reply = None;
        let plan = self.cfg.link.to(target);
        let (sink, start) = (&mut self.sink, self.start);
        let (tls_info, timings) = (&mut self.tls_info, &mut self.timings);
        let opened = conn::connect(&plan, &mut |e| {
            keep_tls_info(&e, tls_info);
            crate::smtp::event::PhaseTiming::add(timings, &e);
            sink.event(&e, start.elapsed())
        })
        .await;
        let conn = match opened {
            Ok(c) => c,
            Err(e) => {
                self.report_connect_error(&e);
                return Err(Ended::from_error(&e));
            }
        };
        let implicit = plan.link.tls_on_connect;
        self.connects = self.connects.wrapping_add(1);
        self.server = Some(conn.server.clone());
        self.tls_version = conn.tls.clone();
        self.conn = Some(conn);
        self.close_reported = false;
        self.close_expected = false;
        self.data_cut = false;
        self.banner_warned = false;
        self.announced_close = false;
        self.envelope = Envelope::default();
        let mut session = ManualSession::new(
            self.cfg.ehlo.clone().unwrap_or(self.helo_default.clone()),
            implicit,
            self.cfg.show_secrets,
        );
        // The secrets of the connections before this one stay masked on it.
        if let Ok(c) = self.completion.lock() {
            session.learn_secrets(&c.secrets);
        }
        self.session = Some(session);
        self.waiting_since = Instant::now();
        self.settle().await;
        if first {
            let codes: Vec<u16> = self.seen.iter().map(|s| s.code).collect();
            if let Some(r) = self.recorder.as_mut() {
                r.codes(&codes);
            }
        } else {
            // `:reconnect` with the banner's code, before the automatic steps that follow it,
            // so the recording replays in the order things happened.
            self.record(":reconnect", &[]);
        }
        if !self.connected() {
            return Ok(());
        }
        if let Some(name) = self
            .cfg
            .ehlo
            .clone()
            .or_else(|| (self.cfg.starttls && !implicit).then(|| self.helo_default.clone()))
        {
            let _ = Box::pin(self.execute(&format!("EHLO {name}"), feed)).await;
        }
        if auto_tls && self.cfg.starttls && !implicit && self.connected() {
            let offered = self
                .session
                .as_ref()
                .and_then(|s| s.capabilities())
                .is_some_and(|c| c.has("STARTTLS"));
            // `--tls` asks for TLS, as swaks's does (exit 29 when it is "not available for
            // any reason"): not offered is not sent, and a refusal is no reason to go on in
            // plain text (RFC 3207 §4: a client may end the session instead).
            let refused = if offered {
                let connects = self.connects;
                // Sent for `--tls`, not typed: a refusal's hint names the flag.
                if let Some(s) = self.session.as_mut() {
                    s.set_tls_asked(TlsAsked::Itself);
                }
                let _ = Box::pin(self.execute(":starttls", feed)).await;
                if let Some(s) = self.session.as_mut() {
                    s.set_tls_asked(TlsAsked::Command);
                }
                // Still this connection (a failed handshake connects again: said already),
                // and still in plain text.
                let up = self.connects == connects
                    && self.connected()
                    && !self.session.as_ref().is_some_and(|s| s.is_tls());
                if up && self.tls_pending.is_none() {
                    match self.seen.first() {
                        // Refused, or answered with a code that does not start TLS: decided
                        // by the core, as for the send.
                        Some(r) => Some(
                            SessionError::starttls_required(
                                Some((*r.reply).clone()),
                                TlsAsked::Itself,
                            )
                            .map_or_else(
                                || Ended::new(phase_exit_code(Phase::StartTls), "tls", None),
                                |e| starttls_ended(&e, FrontEnd::Repl),
                            ),
                        ),
                        // No reply within `--timeout`: as the send's timeout in that phase.
                        None => Some(Ended::from_error(&self.reply_timeout(Phase::StartTls))),
                    }
                } else {
                    None
                }
            } else {
                SessionError::starttls_required(None, TlsAsked::Itself)
                    .map(|e| starttls_ended(&e, FrontEnd::Repl))
            };
            if let Some(ended) = refused {
                self.tls_refused(ended, feed).await;
            }
        }
        Ok(())
    }

    /// `--tls`, and the connection is still in plain text although the handshake did not fail
    /// (STARTTLS refused, not offered, no reply): a TLS failure all the same. Piped, the run
    /// ends with the STARTTLS phase's code ([`Engine::strict_failure`]); on a terminal the
    /// session goes on in plain text only when the user says so (lines typed ahead would
    /// otherwise go out unencrypted), else it ends with that code.
    async fn tls_refused(&mut self, ended: Ended, feed: &mut Feed<'_>) {
        let reason = ended.reason.clone().unwrap_or_default();
        if self.tls_failure_ends_run() {
            self.tls_pending = Some(ended);
            return;
        }
        self.error(format!("--tls: {reason}: the connection is not encrypted"));
        let answer = if feed.can_ask() {
            feed.ask("go on in plain text? [y/N] ", LineKind::Answer)
                .await
        } else {
            None
        };
        if matches!(
            answer.map(|a| a.trim().to_ascii_lowercase()).as_deref(),
            Some("y" | "yes")
        ) {
            return;
        }
        let code = ended.code;
        self.error(format!(
            "--tls: nothing is sent in plain text; ending the session (exit {code})"
        ));
        self.end(ended);
        self.quit().await;
    }

    /// Say why connecting or the TLS handshake failed, unless the connection layer already
    /// did (`TlsFailed`).
    fn report_connect_error(&mut self, e: &Error) {
        match e {
            Error::Session(SessionError::Tls(reason))
                if reason.starts_with("certificate verification failed") =>
            {
                self.emit(Event::TlsFailed {
                    reason: reason.clone(),
                });
            }
            Error::Session(SessionError::Tls(_)) => {}
            // Said by the connection layer too (`TlsFailed`).
            Error::Timeout {
                handshake: true, ..
            } => {}
            other => self.error(other.to_string()),
        }
    }

    /// After a failed handshake: a new connection in plain text, the last EHLO again, and a
    /// word on how to retry.
    async fn reconnect_after_tls_failure(&mut self, feed: &mut Feed<'_>) {
        self.close_quietly().await;
        self.session = None;
        self.say(
            "the failed handshake ended the connection: connecting again in plain text; retry with :starttls --ca FILE, :starttls --sni NAME or :starttls --insecure",
        );
        let greeting = self.greeting.clone();
        if Box::pin(self.connect(feed, false, false)).await.is_ok()
            && self.connected()
            && let Some(g) = greeting
            && self
                .session
                .as_ref()
                .is_some_and(|s| s.capabilities().is_none())
        {
            let _ = Box::pin(self.execute(&g, feed)).await;
        }
    }

    /// Close the connection without a word (end of the program, `:reconnect`).
    async fn close_quietly(&mut self) {
        // Quiet, but not about `:data`'s message still waiting for DATA's 354: it is dropped
        // with the connection, and said so (a silent server, its QUIT unanswered too).
        if let Some(s) = self.session.as_mut() {
            s.drop_unsent_message();
        }
        self.pump_out().await;
        if let Some(mut c) = self.conn.take() {
            c.shutdown().await;
        }
        if let Some(s) = self.session.as_mut() {
            // Closed by ehlo itself (an abandoned message, the end of the run): no drop by
            // the server ([`Engine::lost_to_close`]); one that came first stays one.
            if !s.is_closed() {
                self.close_expected = true;
            }
            s.close();
            while s.poll_event().is_some() {}
            while s.poll_action().is_some() {}
        }
    }

    /// QUIT if the connection is still up (Ctrl-D, end of a script, `:quit`).
    async fn quit(&mut self) {
        // Leaving: the close that follows QUIT needs no ":reconnect or :quit" notice.
        self.close_reported = true;
        if self.connected() {
            self.seen.clear();
            if self.in_data() {
                // The input ended (Ctrl-D, the end of a script) inside a typed message: the
                // final dot would deliver it cut short.
                self.abandon_data("the input ended inside DATA: the message was not finished, and is not sent (the connection is closed without the final \".\")").await;
                return;
            }
            if self.session.as_ref().is_some_and(|s| s.quit_sent()) {
                // A QUIT went out already (typed, its reply late or never coming): not again;
                // the connection is closed on the way out, once the replies still owed have
                // had one more wait to come in (shown and recorded with their inputs).
                // Each owed reply gets its own wait (they come one after the other); no warning
                // when one does not, as the session is ending anyway.
                self.draining = true;
                while !self.late.is_empty() && self.connected() {
                    let owed = self.late.len();
                    self.waiting_since = Instant::now();
                    self.settle().await;
                    if self.late.len() == owed {
                        break;
                    }
                }
                self.draining = false;
                return;
            }
            // Leaving inside a SASL exchange (Ctrl-D or `:quit` at its prompt): QUIT now would
            // go out as the response, a credential the server checks and logs as failed.
            self.cancel_sasl().await;
            if !self.connected() {
                return;
            }
            if let Some(s) = self.session.as_mut() {
                s.send_line("QUIT");
            }
            self.settle().await;
            self.record(":quit", &[]);
        }
    }

    /// Cancel a SASL exchange under way with `*` (RFC 4954 §4: "If the client wishes to cancel
    /// an authentication exchange, it issues a line with a single '*'") and wait for its reply:
    /// the next line is a command again. Nothing when no exchange waits for a response.
    async fn cancel_sasl(&mut self) {
        if !self.connected() || !self.expects_secret() {
            return;
        }
        self.seen.clear();
        if let Some(s) = self.session.as_mut() {
            s.send_line("*");
        }
        self.settle().await;
        // As a typed `*` is recorded: it names no user, and the replies go with the AUTH step.
        self.recorder.iter_mut().for_each(|r| r.sasl_response("*"));
        self.record_secret_codes("the SASL exchange was cancelled with \"*\"");
        self.seen.clear();
    }

    /// A typed message left unfinished (`why`): the recording holds its lines as typed, so it
    /// says after them that the final "." never went out and nothing was delivered (a
    /// recording cut inside DATA read as a message sent).
    fn record_data_unsent(&mut self, why: &str) {
        if let Some(r) = self.recorder.as_mut() {
            r.comment(&format!("the message above was not sent: {why}"));
        }
    }

    /// A signal ends the REPL ([`run`]) inside a typed DATA: the transcript, the `--log` and
    /// the recording say that the message was not finished, as the end of the input does.
    fn data_cut_by_signal(&mut self) {
        if self.in_data() {
            let why = "the REPL left inside DATA: the message was not finished, and is not sent (the connection is closed without the final \".\")";
            self.say(&format!("*** {why}"));
            self.record_data_unsent(why);
        }
    }

    /// Inside a typed DATA?
    fn in_data(&self) -> bool {
        self.connected() && self.session.as_ref().is_some_and(|s| s.state().in_data)
    }

    /// Abandon a typed message (`reason` says why): closing without the final dot leaves the
    /// transaction unfinished, so nothing is delivered (RFC 5321 §4.1.1.4), as telnet or swaks
    /// leave it. `--strict` ends the run with DATA's code.
    async fn abandon_data(&mut self, reason: &str) {
        self.close_reported = true;
        self.error(reason);
        self.record_data_unsent(reason);
        if self.cfg.strict && self.ended.is_none() {
            let code = phase_exit_code(Phase::Data);
            self.end(Ended::new(code, "strict", Some(reason.to_string())));
        }
        self.close_quietly().await;
    }

    // ----- pumping --------------------------------------------------------------------------

    async fn read_some(&mut self) -> std::io::Result<usize> {
        match self.conn.as_mut() {
            Some(c) => c.stream.read(&mut self.rbuf).await,
            None => std::future::pending().await,
        }
    }

    fn on_read(&mut self, n: std::io::Result<usize>) {
        if self.session.is_none() {
            return;
        }
        // The server may have renegotiated TLS during this read: said as the send says it, and
        // a refused renegotiation (an untrusted certificate, or no end to them) ends the
        // session as the TLS failure it is, with the send's line, whatever the read returned.
        let (news, refusal) = match self.conn.as_ref() {
            Some(c) => (
                c.stream.renegotiation_news(),
                c.stream.renegotiation().and_then(|r| r.refusal()),
            ),
            None => (Vec::new(), None),
        };
        for ev in news {
            self.emit(ev);
        }
        let Some(s) = self.session.as_mut() else {
            return;
        };
        if let Some(why) = refusal {
            // We cut the connection, not the server: no "closed unexpectedly" line.
            s.dropped();
            self.tls_failed(crate::smtp::codes::Hint::plain(why));
            return;
        }
        match n {
            Ok(0) => s.feed_eof(),
            Ok(n) => {
                self.last_activity = Instant::now();
                s.feed(&self.rbuf[..n]);
            }
            Err(e) => match crate::net::tls::alert_on_read(&e) {
                Some(reason) => {
                    s.feed_eof();
                    self.tls_ended(reason);
                }
                None => {
                    let warning = Event::warning(format!("read failed: {e}"));
                    self.sink.event(&warning, self.start.elapsed());
                    s.feed_eof();
                }
            },
        }
    }

    /// The server ended the TLS session with an alert (`reason`): a TLS 1.3 server refuses a
    /// missing or unacceptable client certificate only after the client's Finished (RFC 8446
    /// §4.4.2.4), so the refusal comes with the first read or write after the handshake. Said
    /// as the TLS failure it is; a piped run ends on it with the STARTTLS phase's code, as on a
    /// failed handshake ([`Engine::strict_failure`]).
    fn tls_ended(&mut self, reason: crate::smtp::codes::Hint) {
        self.tls_failed(reason.after("the server ended the TLS session: "));
    }

    /// The TLS session failed after its handshake (`msg` says why): said, and a piped run ends
    /// on it with the STARTTLS phase's code.
    fn tls_failed(&mut self, msg: crate::smtp::codes::Hint) {
        self.emit(Event::TlsFailed {
            reason: msg.clone(),
        });
        self.close_reported = true;
        let text = crate::render::remedy::words(&msg, FrontEnd::Repl);
        self.tls_pending = Some(Ended::new(
            phase_exit_code(Phase::StartTls),
            "tls",
            Some(text),
        ));
    }

    /// Render what the session has to say, write what it wants written, run its actions.
    async fn pump_out(&mut self) {
        loop {
            let Some(s) = self.session.as_mut() else {
                return;
            };
            let mut progressed = false;
            while let Some(ev) = s.poll_event() {
                progressed = true;
                match &ev {
                    Event::Received { reply, phase, .. } => {
                        // A 421 announces the server's close (RFC 5321 §3.8).
                        self.announced_close |= reply.announces_close();
                        // A reply the close cut short answers nothing (RFC 5321 §4.2.1: a
                        // reply ends with its line end): shown, but not a reply for replay,
                        // a recording or --strict.
                        let cut = reply
                            .deviations
                            .contains(&crate::smtp::event::Deviation::TruncatedAtClose);
                        // Cut for size: the session closed the connection, on purpose but
                        // not as asked (as the send fails: TooLarge, the phase's code).
                        if let Some(crate::smtp::event::Deviation::ReplyTooLarge {
                            bytes, ..
                        }) = reply.deviations.iter().find(|d| {
                            matches!(d, crate::smtp::event::Deviation::ReplyTooLarge { .. })
                        }) {
                            let e = Error::Session(SessionError::TooLarge {
                                phase: *phase,
                                detail: format!(
                                    "cut after {}, reading stopped",
                                    crate::smtp::event::count_bytes(*bytes)
                                ),
                            });
                            stopped_reading(
                                &mut self.failed,
                                &mut self.unfinished,
                                Ended::from_error(&e),
                            );
                        }
                        // The reply owed to an input whose wait ended: its, as the session
                        // pairs it (said so, timed from that input, recorded as a `~` line
                        // after it), not the reply of the input now running.
                        let late = self.late.pop_front();
                        let seen = Seen {
                            code: reply.code.unwrap_or(0),
                            enhanced: reply.enhanced,
                            phase: *phase,
                            text: reply.lines.first().cloned().unwrap_or_default(),
                            reply: Box::new(reply.clone()),
                        };
                        let since = match &late {
                            Some(l) => {
                                let ms = l.since.elapsed().as_secs_f64() * 1000.0;
                                self.sink.event(
                                    &Event::info(format!(
                                        "late reply to {} ({} after it)",
                                        l.what,
                                        crate::render::human::latency(ms)
                                    )),
                                    self.start.elapsed(),
                                );
                                if cut {
                                    // Answers nothing (see below).
                                } else if l.auth {
                                    // The exchange's replies go to its `:auth` step.
                                    self.seen.push(seen);
                                } else {
                                    if let Some(r) = self.recorder.as_mut() {
                                        r.late(seen.code);
                                    }
                                    self.late_seen.push(seen);
                                }
                                l.since
                            }
                            None => {
                                if !cut {
                                    self.seen.push(seen);
                                }
                                self.waiting_since
                            }
                        };
                        // The timing first: the transcript shows it on the reply's last line.
                        let t = self.start.elapsed();
                        let ms = since.elapsed().as_secs_f64() * 1000.0;
                        self.last_reply = Some(last_reply_text(reply, *phase, ms));
                        let timing = Event::Timing {
                            what: crate::smtp::event::Timed::Reply,
                            phase: *phase,
                            ms,
                        };
                        crate::smtp::event::PhaseTiming::add(&mut self.timings, &timing);
                        self.sink.event(&timing, t);
                        self.sink.event(&ev, t);
                        // A late reply does not restart the wait of the input now running.
                        if late.is_none() {
                            self.waiting_since = Instant::now();
                        }
                        continue;
                    }
                    // The session stopped reading a server that kept talking unasked: it
                    // closed the connection, on purpose but not as asked (as a reply cut
                    // for size: the phase's code).
                    Event::Deviation {
                        deviation: crate::smtp::event::Deviation::UnsolicitedFlood { replies },
                        phase,
                    } => {
                        stopped_reading(
                            &mut self.failed,
                            &mut self.unfinished,
                            Ended::new(
                                crate::error::reply_exit_code(*phase),
                                "unexpected_reply",
                                Some(format!(
                                    "{}: the server sent {} replies in a row that nobody asked \
                                     for, reading stopped",
                                    phase.label(),
                                    crate::smtp::event::group_digits(*replies)
                                )),
                            ),
                        );
                    }
                    // The session closed it (QUIT, a cut reply) unless a 421 came first.
                    Event::Closed { expected } => {
                        self.close_expected = *expected && !self.announced_close
                    }
                    _ => {}
                }
                self.sink.event(&ev, self.start.elapsed());
            }
            if let Some(bytes) = s.poll_transmit() {
                progressed = true;
                let phase = s.phase();
                let t = self.timeout();
                let t0 = Instant::now();
                let written = match self.conn.as_mut() {
                    Some(c) => c.send(&bytes, phase, t).await,
                    None => Err(Error::Io {
                        phase,
                        source: std::io::ErrorKind::NotConnected.into(),
                    }),
                };
                if let Err(e) = written {
                    // A TLS server's alert, waiting unread, may say why the write failed.
                    let alert = match (&e, self.conn.as_mut()) {
                        (Error::Io { .. }, Some(c)) => {
                            let wait = crate::net::conn::alert_wait(t, t0.elapsed());
                            c.alert_after_write_error(wait).await
                        }
                        _ => None,
                    };
                    if let Some(reason) = alert {
                        if let Some(s) = self.session.as_mut() {
                            s.feed_eof();
                        }
                        self.tls_ended(reason);
                        self.waiting_since = Instant::now();
                        self.last_activity = self.waiting_since;
                        continue;
                    }
                    if let Error::Timeout { .. } = e {
                        // The server did not take the write in time: it stopped reading (or
                        // reads too slowly), it did not close. The connection cannot go on
                        // (part of the write may have gone out): ehlo closes it, and the run
                        // ends as on a reply that never came, the phase's code, as the send
                        // ends on the same write. It was said as the server's close (exit 6).
                        self.emit(Event::warning(format!(
                            "the write of {} did not finish within --timeout ({}s): the \
                             server is not reading (or too slowly); closing the connection",
                            crate::smtp::event::count_bytes(bytes.len()),
                            t.as_secs_f64()
                        )));
                        self.timed_out_at(
                            phase,
                            "a write the server did not take within --timeout",
                        );
                        if let Some(s) = self.session.as_mut() {
                            s.close();
                        }
                    } else {
                        // A reply the server sent before it cut the connection (a BDAT refused
                        // at once, its chunk never read) says why: shown before the close.
                        let unread = match (&e, self.conn.as_mut()) {
                            (Error::Io { .. }, Some(c)) => {
                                let wait = crate::net::conn::alert_wait(t, t0.elapsed());
                                c.unread_after_write_error(wait).await
                            }
                            _ => Vec::new(),
                        };
                        let message = match e {
                            Error::Io { source, .. } => format!("write failed: {source}"),
                            other => format!("write failed: {other}"),
                        };
                        self.emit(Event::warning(message));
                        if let Some(s) = self.session.as_mut() {
                            if !unread.is_empty() {
                                s.feed(&unread);
                            }
                            s.feed_eof();
                        }
                    }
                }
                self.waiting_since = Instant::now();
                self.last_activity = self.waiting_since;
            }
            let action = self.session.as_mut().and_then(|s| s.poll_action());
            match action {
                Some(Action::StartTls) => {
                    progressed = true;
                    self.handshake().await;
                }
                Some(Action::Close) => {
                    progressed = true;
                    if let Some(mut c) = self.conn.take() {
                        c.shutdown().await;
                    }
                }
                // A planned session's question; the REPL's own `:auth` asks before it sends.
                Some(Action::ConfirmPlaintextAuth) | None => {}
            }
            if !progressed {
                break;
            }
        }
        self.learn_secrets();
        let changed = self.session.as_mut().is_none_or(|s| s.take_caps_changed());
        if changed && let Ok(mut c) = self.completion.lock() {
            // Drop the old copy before making the new one.
            c.caps = None;
            c.caps = self
                .session
                .as_ref()
                .and_then(|s| s.capabilities().cloned());
        }
        if self.session.as_ref().is_some_and(|s| s.is_closed()) {
            // However the session ended (a reply too large, a timeout, an error): close the
            // connection properly, over TLS with a close_notify first (RFC 8446 §6.1).
            if let Some(mut c) = self.conn.take() {
                c.shutdown().await;
            }
            self.forget_late();
            if !self.close_reported && self.notices {
                self.close_reported = true;
                let msg = if self.close_expected {
                    "connection closed — :reconnect or :quit"
                } else {
                    "server closed the connection — :reconnect or :quit"
                };
                self.say(msg);
            }
        }
    }

    /// The STARTTLS upgrade the session asked for, through the connection layer.
    async fn handshake(&mut self) {
        let Some(conn) = self.conn.take() else {
            if let Some(s) = self.session.as_mut() {
                s.tls_failed("STARTTLS without a connection");
            }
            return;
        };
        let Some(target) = self.target.clone() else {
            return;
        };
        let mut plan = self.cfg.link.to(target);
        plan.link.tls = self.starttls_params(&self.tls_opts);
        let (sink, start) = (&mut self.sink, self.start);
        let (tls_info, timings) = (&mut self.tls_info, &mut self.timings);
        // Ctrl-C stops this wait as it stops a reply's: the handshake cannot be resumed, so
        // the connection it took goes with it, as with a handshake that timed out.
        let interrupt = self.interrupt.clone();
        let mut on_event = |e: Event| {
            keep_tls_info(&e, tls_info);
            crate::smtp::event::PhaseTiming::add(timings, &e);
            sink.event(&e, start.elapsed())
        };
        let upgraded = tokio::select! {
            r = conn.start_tls(&plan, &mut on_event) => Some(r),
            _ = ctrl_c(interrupt) => None,
        };
        let Some(upgraded) = upgraded else {
            let reason = "the TLS handshake was stopped (Ctrl-C): the connection is closed";
            // What was typed ahead is held as at a reply's wait: it was run, said not sent.
            self.stopped_waiting = true;
            self.error(reason);
            self.tls_pending = Some(Ended::new(
                phase_exit_code(Phase::StartTls),
                "interrupted",
                Some(reason.to_string()),
            ));
            self.tls_retry = false;
            self.close_reported = false;
            if let Some(s) = self.session.as_mut() {
                s.close();
            }
            self.waiting_since = Instant::now();
            return;
        };
        match upgraded {
            Ok(c) => {
                self.tls_version = c.tls.clone();
                self.conn = Some(c);
                if let Some(s) = self.session.as_mut() {
                    s.tls_established();
                }
            }
            Err(e) => {
                // Said once (the connection layer's TlsFailed, or this), never again by the
                // session; the half-done handshake leaves the connection useless, so the
                // session ends quietly and `:starttls` connects again in plain text.
                self.report_connect_error(&e);
                self.tls_pending = Some(Ended::new(
                    phase_exit_code(Phase::StartTls),
                    e.label(),
                    Some(e.to_string()),
                ));
                self.tls_retry = !matches!(e, Error::Timeout { .. });
                self.close_reported = self.tls_retry;
                if let Some(s) = self.session.as_mut() {
                    s.close();
                }
            }
        }
        self.waiting_since = Instant::now();
    }

    /// The TLS parameters of a `:starttls` with options `o`: the session's, changed by them.
    fn starttls_params(&self, o: &meta::TlsOptions) -> crate::net::tls::TlsParams {
        let mut tls = self.cfg.link.tls.clone();
        if o.insecure {
            tls.verify = false;
        }
        if let Some(ca) = &o.ca {
            tls.ca_path = Some(ca.clone());
        }
        if let Some(sni) = &o.sni {
            tls.sni = Some(sni.clone());
            tls.verify_name = Some(sni.clone());
        }
        tls
    }

    /// Why `:starttls --ca FILE` cannot be used (a missing FILE, one that cannot be read or
    /// holds no PEM certificate), by the check the send runs on its TLS inputs before
    /// connecting; `None` without `--ca`, or when FILE is usable.
    fn unusable_ca(&self, o: &meta::TlsOptions) -> Option<String> {
        let ca = o.ca.as_ref()?;
        let params = crate::net::tls::TlsParams {
            ca_path: Some(ca.clone()),
            ..crate::net::tls::TlsParams::default()
        };
        let reason = crate::net::tls::check(&params).err()?;
        // The check names the send's flag; here the file came with `--ca`.
        Some(
            reason
                .strip_prefix("--tls-ca-path: ")
                .unwrap_or(&reason)
                .to_string(),
        )
    }

    /// Pump until every expected reply is in (or the timeout, or Ctrl-C on a terminal). After
    /// `:raw`, listen until the line has been quiet for a moment. On a terminal, a reply that
    /// takes more than [`STATUS_AFTER`] gets the live status line, erased before the next prompt.
    async fn settle(&mut self) {
        self.settle_waiting().await;
        self.clear_status();
    }

    async fn settle_waiting(&mut self) {
        let timeout = self.timeout();
        loop {
            self.pump_out().await;
            let Some(s) = self.session.as_ref() else {
                return;
            };
            if s.is_closed() || self.conn.is_none() {
                return;
            }
            let raw_wait = !s.awaiting_reply() && s.raw_outstanding();
            if !s.awaiting_reply() && !raw_wait {
                return;
            }
            let deadline = if raw_wait {
                self.last_activity + RAW_QUIET
            } else if timeout.is_zero() {
                Instant::now() + Duration::from_secs(86400 * 365)
            } else {
                self.waiting_since + timeout
            };
            let deadline = tokio::time::Instant::from_std(deadline);
            let interrupt = self.interrupt.clone();
            // The next update of the status line: a second after the wait began, then on each
            // whole second of it.
            let tick = (self.status.is_some() && !raw_wait).then(|| {
                let waited = self.waiting_since.elapsed();
                let next = if waited < STATUS_AFTER {
                    STATUS_AFTER
                } else {
                    Duration::from_secs(waited.as_secs() + 1)
                };
                tokio::time::Instant::from_std(self.waiting_since + next)
            });
            let r = tokio::select! {
                r = tokio::time::timeout_at(deadline, self.read_some()) => Some(Some(r)),
                _ = ctrl_c(interrupt) => None,
                _ = tokio::time::sleep_until(tick.unwrap_or(deadline)), if tick.is_some() => Some(None),
            };
            let r = match r {
                Some(None) => {
                    self.show_waiting();
                    continue;
                }
                Some(Some(r)) => Some(r),
                None => None,
            };
            match r {
                None => {
                    self.owe_late();
                    self.stopped_waiting = true;
                    self.clear_status();
                    self.emit(Event::warning(
                        "stopped waiting (Ctrl-C): a late reply will be shown when it arrives",
                    ));
                    return;
                }
                Some(Err(_)) => {
                    // What the silence means is the core's to say (a silent greeting: an
                    // implicit-TLS port?), worded for the REPL by the renderer.
                    if !raw_wait && !self.draining {
                        self.owe_late();
                        self.ran_out();
                        self.clear_status();
                        self.say_ran_out(None);
                    }
                    return;
                }
                Some(Ok(n)) => {
                    self.on_read(n);
                    // The bytes so far, live (a byte that comes just before each tick must
                    // not keep the line from ever showing); or the line erased before the
                    // reply is printed.
                    let awaiting = self.session.as_ref().is_some_and(|s| s.awaiting_reply());
                    if awaiting && !raw_wait && self.waiting_since.elapsed() >= STATUS_AFTER {
                        self.show_waiting();
                    } else {
                        self.clear_status();
                    }
                    // A read that is always ready never lets `timeout_at` fire: bytes that
                    // keep coming without completing the reply still end the wait on time.
                    if !raw_wait
                        && !timeout.is_zero()
                        && tokio::time::Instant::now() >= deadline
                        && self.session.as_ref().is_some_and(|s| s.awaiting_reply())
                    {
                        self.pump_out().await;
                        self.owe_late();
                        self.ran_out();
                        self.clear_status();
                        // What was read may have been a late reply to an earlier input only.
                        let some = self.session.as_ref().is_some_and(|s| s.partial().is_some());
                        self.say_ran_out(Some(format!(
                            "no {}reply within {}s: a late reply will be shown when it arrives",
                            if some { "complete " } else { "" },
                            timeout.as_secs_f64()
                        )));
                        return;
                    }
                }
            }
        }
    }

    /// Say that a wait ran out, every time: what it means is the core's to say (a silent
    /// greeting: an implicit-TLS port?), worded for the REPL by the renderer; the greeting's
    /// diagnosis once per connection, the waits after it while it is still owed as such.
    /// `other`: the words for a wait outside the greeting.
    fn say_ran_out(&mut self, other: Option<String>) {
        let banner = self
            .session
            .as_ref()
            .is_some_and(|s| s.phase() == Phase::Banner);
        let message = match other {
            Some(words) if !banner => crate::smtp::codes::Hint::plain(words),
            _ => crate::smtp::manual::wait_ran_out(
                self.session.as_ref(),
                self.timeout().as_secs_f64(),
                self.cfg.link.tls_on_connect,
                self.banner_warned,
            ),
        };
        self.banner_warned |= banner;
        self.emit(Event::Warning { message });
    }

    /// A wait for a reply ran out (`--timeout`) in the session's phase: `--strict` ends the
    /// run on it now, a piped run without it at its end ([`Engine::unfinished_ending`]).
    fn ran_out(&mut self) {
        if let Some(phase) = self.session.as_ref().map(|s| s.phase()) {
            self.timed_out_at(phase, "the first reply that did not come within --timeout");
        }
    }

    /// [`Engine::ran_out`] for a wait in `phase`, `what` it was: a reply, or a write the
    /// server did not take.
    fn timed_out_at(&mut self, phase: Phase, what: &str) {
        self.timed_out = Some(phase);
        if self.unfinished.is_none() {
            let e = self.reply_timeout(phase);
            let code = crate::error::reply_exit_code(phase);
            let said = format!("{e}: {what} (exit {code})");
            self.unfinished = Some((Ended::new(code, e.label(), Some(e.to_string())), said));
        }
    }

    /// A line of the script was not sent because the connection is closed: when the server
    /// dropped it (not after QUIT, nor after a 421, a refusal that announces its close: an
    /// answer, as every refusal is without `--strict`), the run could not finish, and a piped
    /// run ends with the send's `closed` (6) for it ([`Engine::unfinished_ending`]), as
    /// `--strict` ends at the close itself.
    fn lost_to_close(&mut self) {
        if self.unfinished.is_some() || self.close_expected || self.announced_close {
            return;
        }
        let Some(s) = self.session.as_ref().filter(|s| s.is_closed()) else {
            return;
        };
        let e = Error::Session(SessionError::Closed { phase: s.phase() });
        let code = e.exit_code();
        let reason = "the server closed the connection while the script had lines to send";
        let said = format!("{reason}: the run could not finish (exit {code})");
        self.unfinished = Some((Ended::new(code, e.label(), Some(reason.to_string())), said));
    }

    /// Piped without `--strict`, the script ran to its end and nothing else ended the run, but
    /// it could not finish: a reply did not come within `--timeout` (the run ends with that
    /// phase's code and the `timeout` outcome, as the send ends on it: the README's exit
    /// codes, "a timeout exits with the code of the phase it hit"), or the server dropped the
    /// connection while lines were left to send (`closed`, 6, as the send's). The first of
    /// them decides. A refusal is an answer, and leaves the exit code alone without
    /// `--strict`; a reply that never came, or lines that could not go out, are none. On a
    /// terminal it only warns.
    fn unfinished_ending(&mut self) {
        if self.interactive || self.ended.is_some() {
            return;
        }
        let Some((ended, said)) = self.unfinished.take() else {
            return;
        };
        self.error(said);
        self.end(ended);
    }

    /// The wait for the running input's replies ended before they all came: the replies still
    /// owed are its (those owed to earlier inputs are in [`Engine::late`] already).
    fn owe_late(&mut self) {
        let owed = self.session.as_ref().map_or(0, |s| s.replies_owed());
        let new = owed.saturating_sub(self.late.len());
        // A pipelined group (RFC 2920 §3.1): its commands went out without waiting, and the
        // replies still owed are those of its last `new` commands, in order — the pipelined
        // ones, then the one that ended the group — each paired with its own command, as
        // commands sent one by one are.
        let group: Vec<String> = self
            .unrecorded
            .iter()
            .map(|l| shown_input(l))
            .chain([self.doing.clone()])
            .collect();
        for i in 0..new {
            let what = (group.len() + i)
                .checked_sub(new)
                .and_then(|k| group.get(k))
                .unwrap_or(&self.doing)
                .clone();
            self.late.push_back(Late {
                what,
                since: self.waiting_since,
                auth: self.doing_auth,
            });
        }
        if let Some(r) = self.recorder.as_mut()
            && new > 0
            && !self.doing_auth
        {
            r.owe(new);
        }
    }

    /// The replies still owed will not come (the connection ended).
    fn forget_late(&mut self) {
        if !self.late.is_empty() {
            self.late.clear();
            if let Some(r) = self.recorder.as_mut() {
                r.forget_owed();
            }
        }
    }

    /// Draw "waiting 7 s, 9 bytes so far: "250 sl"" on the terminal's status line.
    fn show_waiting(&mut self) {
        let Some(line) = &self.status else {
            return;
        };
        let Some(s) = self.session.as_ref().filter(|s| s.awaiting_reply()) else {
            return;
        };
        let secs = self.waiting_since.elapsed().as_secs();
        let mut text = format!("waiting {secs} s");
        match s.partial() {
            None => text.push_str(", nothing received yet"),
            Some((p, unfinished)) => {
                let b = crate::smtp::event::count_bytes(p.bytes);
                text.push_str(&format!(", {b} so far"));
                if p.lines > 0 {
                    let s = plural_s(p.lines);
                    text.push_str(&format!(" ({} complete line{s})", p.lines));
                }
                if !unfinished.is_empty() {
                    // A secret the server echoes is masked here as in the reply's line, also
                    // the part of it come so far.
                    let secrets = self
                        .completion
                        .lock()
                        .map(|c| c.secrets.clone())
                        .unwrap_or_default();
                    let shown = crate::smtp::auth::redact_unfinished(unfinished, &secrets);
                    let from = shown.len().saturating_sub(STATUS_BYTES);
                    let more = if from > 0 { "…" } else { "" };
                    text.push_str(&format!(": {more}{}", meta::escape(&shown[from..])));
                }
            }
        }
        text.push_str(" — Ctrl-C stops waiting");
        line.show(&text);
        self.status_shown = true;
    }

    /// Erase the status line, if it shows something.
    fn clear_status(&mut self) {
        if std::mem::take(&mut self.status_shown)
            && let Some(line) = &self.status
        {
            line.clear();
        }
    }

    /// The input being run failed in a way a replay or `--strict` ends the run on (see
    /// [`Engine::failed`]).
    fn fail(&mut self, code: u8, label: &'static str, reason: Option<String>) {
        self.failed = Some(Ended::new(code, label, reason));
    }

    /// The run ends on `ended`: the exit code ([`Engine::exit_code`]) and the JSON summary both
    /// read it from here. Returns its code.
    fn end(&mut self, ended: Ended) -> u8 {
        let code = ended.code;
        self.ended = Some(ended);
        code
    }

    /// The run's exit code: 0, or that of how it ended.
    fn exit_code(&self) -> u8 {
        self.ended.as_ref().map_or(EXIT_OK, |e| e.code)
    }

    /// `--strict`: does the run end after the last input, because it drew a 4xx/5xx reply (its
    /// phase's code), timed out (piped only), could not run (`:auth` without a secret), or the
    /// server dropped the connection? QUIT is sent first while the connection is up, and the
    /// ending is recorded ([`Engine::end`]). A failed handshake ends a piped run with `--tls`
    /// too.
    async fn strict_failure(&mut self) -> bool {
        if let Some(tls) = self.tls_pending.take()
            && self.tls_failure_ends_run()
        {
            let code = tls.code;
            // Piped without either flag, the script's next lines were written for TLS too.
            let flag = if self.cfg.strict {
                format!("--strict{}", self.cfg.strict_note)
            } else if self.cfg.starttls {
                "--tls".to_string()
            } else {
                "piped".to_string()
            };
            // A refusal says what was refused; a handshake's reason was said as it failed.
            let what = match &tls.reason {
                // Not advertised, refused, no reply: said as the summary says it.
                Some(r) if r.starts_with("STARTTLS") || tls.label != "tls" => r.clone(),
                Some(r) if r.starts_with("the server ended the TLS session") => {
                    "the server ended the TLS session".to_string()
                }
                _ => "the TLS handshake failed".to_string(),
            };
            self.error(format!(
                "{flag}: {what}: nothing more is sent in plain text; ending the session (exit {code})"
            ));
            self.end(tls);
            self.quit().await;
            return true;
        }
        if !self.cfg.strict {
            return false;
        }
        // A reply that never came (`--timeout`): the phase's code and the `timeout` outcome, as
        // the send ends. Piped only: a terminal session warns and goes on (the late reply is
        // shown when it comes).
        if let Some(phase) = self.timed_out.take()
            && !self.interactive
        {
            let e = self.reply_timeout(phase);
            // A command in no SMTP phase (NOOP, RSET, VRFY) that drew no reply: the server
            // has not closed (6), it failed to answer (36), as replay exits on that step.
            let code = crate::error::reply_exit_code(phase);
            let note = &self.cfg.strict_note;
            self.error(format!(
                "--strict{note}: {e}: ending the session (exit {code})"
            ));
            self.end(Ended::new(code, e.label(), Some(e.to_string())));
            // As the send: QUIT, unless not one byte of a banner came (there may be no SMTP
            // server to talk to).
            let silent_banner = phase == Phase::Banner
                && self.session.as_ref().is_some_and(|s| s.partial().is_none());
            if silent_banner {
                self.close_reported = true;
            } else {
                self.quit().await;
            }
            return true;
        }
        let (code, label, reason) = if let Some(f) = self.failed.take() {
            let why = f
                .reason
                .unwrap_or_else(|| "a step could not run".to_string());
            // A failure that has the send's label for it (a flood, a cut reply, a failed
            // AUTH exchange) keeps it, as the same run without `--strict` ends with it; only
            // a step that could not run as written is `strict`'s own.
            let label = if f.label == "failed" {
                "strict"
            } else {
                f.label
            };
            (f.code, label, why)
        } else if let Some(s) = self
            .seen
            .iter()
            .chain(&self.late_seen)
            .find(|s| !(200..400).contains(&s.code))
        {
            // 4xx/5xx, but also a reply with no code (kept as 0) or outside 2xx–5xx (1xx,
            // 6xx): no answer a command can succeed on (RFC 5321 §4.2.1).
            let reply = match s.code {
                0 => format!("a reply with no code: {}", s.text),
                c => format!("{c} {}", s.text),
            };
            // Labelled and coded as the send's summary has the same refusal (a refused RCPT:
            // `no_recipients`, 24), so a script reads both alike.
            (
                crate::error::reply_exit_code(s.phase),
                crate::error::reply_failure_label(s.phase),
                reply,
            )
        } else if let Some(s) = self.session.as_ref().filter(|s| s.is_closed())
            && !self.close_expected
        {
            // As the send's: `closed`, 6.
            let e = Error::Session(SessionError::Closed { phase: s.phase() });
            (
                e.exit_code(),
                e.label(),
                "the server closed the connection".to_string(),
            )
        } else {
            return false;
        };
        let note = &self.cfg.strict_note;
        self.error(format!(
            "--strict{note}: {reason}: ending the session (exit {code})"
        ));
        self.end(Ended::new(code, label, Some(reason)));
        self.quit().await;
        true
    }

    /// Does a failed handshake end the run? Piped, always: the script's lines after its
    /// `:starttls` (or `--tls`) were written for a TLS session and must not go out in plain
    /// text (a man in the middle can break the handshake to get them), as replay never goes
    /// on either; on a terminal the session connects again in plain text so the user can
    /// retry (`:starttls --ca FILE`…), as `:help` says.
    fn tls_failure_ends_run(&self) -> bool {
        !self.interactive
    }

    // ----- inputs -------------------------------------------------------------------------

    /// Run one input line (an SMTP line or a meta-command) to completion.
    async fn execute(&mut self, line: &str, feed: &mut Feed<'_>) -> Flow {
        if self.data_cut && !self.connected() {
            // The connection closed inside a typed message (a 421, a drop): the lines after
            // it up to a lone "." are that message's, so said, not read as commands (refused
            // as passwords, or meta-commands run). On a terminal a `:` line is the user acting
            // on the close (:reconnect, :quit).
            if !(self.interactive && line.trim_start().starts_with(':')) {
                let what = if line == "." {
                    self.data_cut = false;
                    "the message's final \".\""
                } else {
                    "a line of the message"
                };
                self.error(format!("not connected: {what} not sent (the connection closed inside DATA; the message was not delivered)"));
                self.lost_to_close();
                return Flow::Continue;
            }
            self.data_cut = false;
        }
        let in_data = self.session.as_ref().is_some_and(|s| s.state().in_data);
        let verb = line.split_whitespace().next().unwrap_or("");
        if !in_data
            && !self.expects_secret()
            && !verb.starts_with(':')
            && meta::cannot_be_command(verb, self.session.as_ref().and_then(|s| s.capabilities()))
        {
            // Refused before anything else is said or kept about it (not even as what a late
            // reply answers): a password pasted at the command prompt must not reach the
            // server, the transcript, --log, --record or the history.
            let why = meta::not_a_command(verb);
            self.error(why.clone());
            self.fail(crate::error::EXIT_USAGE, "failed", Some(why));
            return Flow::Continue;
        }
        // An AUTH recalled from the history (sending it would be a failed login), or
        // `:auth MECH user:********` recalled (the mask is no password).
        let masked = if meta::is_masked_auth(line) {
            Some(meta::MASKED_AUTH)
        } else if meta::is_masked_auth_meta(line) {
            Some(meta::MASKED_AUTH_META)
        } else if meta::holds_mask(line) {
            // A line that held a secret seen earlier in the session, as the history and a
            // recording keep it: the mask is not the secret.
            Some(meta::MASKED_SECRET)
        } else {
            None
        };
        // Inside a typed DATA a line of stars is content (`********` a separator); a
        // recording's content line that held a secret is refused all the same.
        let refuse = (!in_data && !self.expects_secret())
            || (in_data && self.replaying && meta::holds_mask(line));
        if let Some(why) = masked.filter(|_| refuse) {
            self.error(why);
            self.fail(crate::error::EXIT_USAGE, "failed", Some(why.to_string()));
            return Flow::Continue;
        }
        self.seen.clear();
        self.late_seen.clear();
        self.doing_auth = self.expects_secret()
            || line.trim_start().starts_with(":auth")
            || (!in_data && typed_auth_step(line).is_some());
        self.doing = if self.expects_secret() {
            "the SASL response".to_string()
        } else if in_data {
            "a line of the message".to_string()
        } else if line.trim_start().starts_with(':') {
            // A meta-command by its name only (`:raw` bytes may hold a secret).
            format!("`{}`", line.split_whitespace().next().unwrap_or(":"))
        } else {
            self.masked(&shown_input(line))
        };
        if !in_data && line.trim_start().starts_with(':') {
            return self.meta(line.trim(), feed).await;
        }
        if !in_data && line.trim().is_empty() {
            return Flow::Continue;
        }
        if !self.connected() {
            // Named (secrets masked), so that a script's reader knows which lines were lost.
            self.error(format!(
                "not connected: {} not sent (:reconnect or :quit)",
                self.doing
            ));
            self.lost_to_close();
            return Flow::Continue;
        }
        let secret = self.session.as_ref().is_some_and(|s| s.expects_secret());
        if in_data && line.starts_with('.') && line != "." && !line.starts_with("..") {
            // Typed content is sent as typed: RFC 5321 §4.5.2 has the server drop the dot.
            self.emit(Event::warning("the server will strip this dot (RFC 5321 §4.5.2): type .. for a literal dot, or use :data, which dot-stuffs for you"));
        }
        if !in_data && !secret {
            let verb = line.split_whitespace().next().unwrap_or("");
            let in_transaction = self
                .session
                .as_ref()
                .is_some_and(|s| s.state().in_transaction);
            if in_transaction && verb.eq_ignore_ascii_case("STARTTLS") {
                self.emit(Event::warning(STARTTLS_IN_TRANSACTION));
            }
            self.envelope.observe(line);
            let verb = line.split_whitespace().next().unwrap_or("");
            if ["EHLO", "HELO", "LHLO"]
                .iter()
                .any(|v| verb.eq_ignore_ascii_case(v))
            {
                self.greeting = Some(line.to_string());
            }
        }
        // A typed BDAT: the server reads its chunk before it answers (RFC 3030 §2), so the
        // chunk is asked for first and sent with the line.
        if !in_data
            && !secret
            && let Some(owed) = self.session.as_ref().and_then(|s| s.chunk_owed(line))
        {
            self.typed_size.reset();
            self.colon_in_data = false;
            self.typed_auth_recorded = false;
            self.auth_334_due = false;
            self.bdat(line, owed, feed).await;
            return Flow::Continue;
        }
        if in_data {
            self.watch_typed_size(line);
            if line.trim_start().starts_with(':')
                && !std::mem::replace(&mut self.colon_in_data, true)
            {
                // Said once per message: after the 354 every line is content.
                self.emit(Event::warning("inside DATA every line is message content, this one too: meta-commands (:quit, :raw…) work again after a line holding only \".\""));
            }
        } else {
            self.typed_size.reset();
            self.colon_in_data = false;
        }
        if let Some(s) = self.session.as_mut() {
            s.send_line(line);
        }
        // A pasted group: with PIPELINING (RFC 2920 §3.1) the commands that may be grouped go
        // out without waiting; the replies pair with them in order when the group ends.
        if self.more_pasted && !in_data && !secret && self.pipelinable(line) {
            self.unrecorded.push(line.to_string());
            return Flow::Continue;
        }
        self.settle().await;
        self.data_cut = (in_data && line != ".")
            || self.in_data()
            || self.session.as_ref().is_some_and(|s| s.closed_in_data());
        self.record_group();
        if !in_data
            && !secret
            && self
                .seen
                .first()
                .is_some_and(|r| !(200..300).contains(&r.code))
        {
            self.envelope.refused(line);
        }
        if secret {
            self.recorder.iter_mut().for_each(|r| r.sasl_response(line));
            self.record_secret_codes(
                "a SASL response typed by hand is not recorded (use :auth instead)",
            );
        } else if !in_data && let Some(step) = typed_auth_step(line) {
            self.typed_auth_recorded = true;
            let mut w = step.split_whitespace().skip(1);
            let mech = w.next().unwrap_or("no mechanism named").to_string();
            let user = w
                .next()
                .unwrap_or("(typed in the SASL exchange)")
                .to_string();
            self.auth_user = Some((mech, user));
            if let Some(r) = self.recorder.as_mut() {
                r.comment(
                    "AUTH typed by hand, recorded as :auth without its secret (replay reads EHLO_AUTH_PASSWORD / EHLO_AUTH_TOKEN)",
                );
            }
            self.record_auth_step(&step, line);
        } else {
            if !in_data {
                self.typed_auth_recorded = false;
                self.auth_334_due = false;
            }
            self.record(line, &[]);
        }
        if !in_data
            && !secret
            && line
                .split_whitespace()
                .next()
                .is_some_and(|v| v.eq_ignore_ascii_case("STARTTLS"))
            && !self.replaying
        {
            // A typed STARTTLS whose handshake failed goes on as `:starttls`'s does, which its
            // error's advice (`:starttls --insecure`…) takes for granted.
            let retry = std::mem::take(&mut self.tls_retry);
            self.after_starttls(retry, feed).await;
        }
        Flow::Continue
    }

    /// After STARTTLS (`:starttls` or typed): a failed handshake is left to
    /// [`Engine::strict_failure`] when it ends the run (piped: nothing more goes out in plain
    /// text); on a terminal the session goes on, connecting again in plain text when the
    /// handshake took the connection with it (`retry`).
    async fn after_starttls(&mut self, retry: bool, feed: &mut Feed<'_>) {
        if self.tls_pending.is_some() && self.tls_failure_ends_run() {
            return;
        }
        self.tls_pending = None;
        if retry {
            self.reconnect_after_tls_failure(feed).await;
        }
    }

    /// A SASL response (typed, or `:raw` bytes inside an exchange) is never written: its reply
    /// codes belong to the `:auth` step its AUTH was recorded as, or `note` says it was left out.
    fn record_secret_codes(&mut self, note: &str) {
        let mut codes: Vec<u16> = self.seen.iter().map(|s| s.code).collect();
        if self.auth_334_due && !codes.is_empty() {
            self.auth_334_due = false;
            if codes.first() == Some(&334) {
                codes.remove(0);
            }
        }
        if let Some(r) = self.recorder.as_mut() {
            if self.typed_auth_recorded {
                r.codes(&codes);
            } else {
                r.comment(note);
            }
        }
    }

    /// Record a hand-made AUTH (`line`, typed or sent by `:raw`) as the `:auth` step `step`.
    /// When `line` had no initial response but `:auth` sends one (PLAIN, XOAUTH2…), the empty
    /// 334 the server asked for it with is not part of what the step draws on replay; when
    /// `line` had one that `:auth` does not send (`AUTH LOGIN <user>`), the step draws one 334
    /// more on replay (the server asks for what the initial response gave), unless the server
    /// refused the AUTH line outright.
    fn record_auth_step(&mut self, step: &str, line: &str) {
        let mut codes: Vec<u16> = self.seen.iter().map(|s| s.code).collect();
        let mech = step.split_whitespace().nth(1).unwrap_or("");
        let initial = crate::smtp::auth::auth_line_secret(line).map(|(_, ir)| ir);
        let skip = initial == Some(false) && sends_initial_response(mech);
        if skip && codes.first() == Some(&334) {
            codes.remove(0);
        }
        let asked = codes
            .first()
            .is_none_or(|&c| c == 334 || (200..300).contains(&c));
        if initial == Some(true) && !sends_initial_response(mech) && asked {
            codes.insert(0, 334);
        }
        self.auth_334_due = skip && self.seen.is_empty();
        if let Some(r) = self.recorder.as_mut() {
            r.step(step, &[], &codes);
        }
    }

    /// `:raw` bytes as a recording holds them: never a secret. An AUTH among them is recorded
    /// as the typed AUTH is (an `:auth` step that reads the secret at replay), the lines before
    /// it as a `:raw` step with the replies that paired with them; bytes sent inside an
    /// exchange (`in_sasl`) are SASL responses, left out like typed ones, and, as a typed
    /// first response does, the first of them names the user of an `AUTH LOGIN` or `AUTH
    /// PLAIN` recorded without one (its password is never written).
    fn record_raw(&mut self, bytes: &[u8], in_sasl: bool) {
        if in_sasl {
            let text = String::from_utf8_lossy(bytes);
            let first = text.split('\n').next().unwrap_or("").trim_end_matches('\r');
            self.recorder
                .iter_mut()
                .for_each(|r| r.sasl_response(first));
            self.record_secret_codes(
                "SASL responses sent by :raw are not recorded (use :auth instead)",
            );
            return;
        }
        let text = String::from_utf8_lossy(bytes);
        let masked = crate::smtp::manual::mask_raw(&text, false);
        let Some(before) = masked.auth_line else {
            // Masked before escaping: a password with a `"` or `\` in it is escaped there.
            let secrets = self
                .completion
                .lock()
                .map(|c| c.secrets.clone())
                .unwrap_or_default();
            let bytes =
                crate::smtp::auth::redact(bytes, &secrets).unwrap_or_else(|| bytes.to_vec());
            self.record(&format!(":raw {}", meta::escape(&bytes)), &[]);
            return;
        };
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        if before > 0 {
            let prefix: String = self.masked(&lines[..before].concat());
            let n = before.min(self.seen.len());
            let codes: Vec<u16> = self.seen.drain(..n).map(|s| s.code).collect();
            if let Some(r) = self.recorder.as_mut() {
                r.step(
                    &format!(":raw {}", meta::escape(prefix.as_bytes())),
                    &[],
                    &codes,
                );
            }
        }
        // The AUTH line, with the line after it standing for the initial response it lacks
        // (where the user name is, for PLAIN and LOGIN).
        let auth = lines[before].trim_end_matches(['\r', '\n']);
        let line = match (
            crate::smtp::auth::auth_line_secret(auth),
            lines.get(before + 1),
        ) {
            (Some((_, false)), Some(next)) => {
                format!(
                    "{} {}",
                    auth.trim_end(),
                    next.trim_end_matches(['\r', '\n'])
                )
            }
            _ => auth.to_string(),
        };
        let step = typed_auth_step(&line).unwrap_or_else(|| ":auth".to_string());
        self.typed_auth_recorded = true;
        if let Some(r) = self.recorder.as_mut() {
            r.comment("AUTH sent by :raw, recorded as :auth without its secret (replay reads EHLO_AUTH_PASSWORD / EHLO_AUTH_TOKEN)");
        }
        self.record_auth_step(&step, auth);
    }

    /// May `line` be sent without waiting for its reply, inside a pasted group? Only with
    /// PIPELINING offered, and only the commands RFC 2920 §3.1 lets sit inside a group.
    fn pipelinable(&self, line: &str) -> bool {
        let offered = self
            .session
            .as_ref()
            .and_then(|s| s.capabilities())
            .is_some_and(|c| c.has("PIPELINING"));
        let verb = line
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        offered && matches!(verb.as_str(), "MAIL" | "RCPT" | "RSET")
    }

    /// Record the commands of a pipelined group with the replies that paired with them, in
    /// order; the rest of the replies belong to the command that ended the group.
    fn record_group(&mut self) {
        if self.unrecorded.is_empty() {
            return;
        }
        let lines = std::mem::take(&mut self.unrecorded);
        let n = lines.len().min(self.seen.len());
        let firsts: Vec<Seen> = self.seen.drain(..n).collect();
        for (l, reply) in lines.iter().zip(&firsts) {
            if !(200..300).contains(&reply.code) {
                self.envelope.refused(l);
            }
        }
        let lines: Vec<String> = lines.iter().map(|l| self.masked(l)).collect();
        if let Some(r) = self.recorder.as_mut() {
            for (i, l) in lines.iter().enumerate() {
                let codes: Vec<u16> = firsts.get(i).map(|s| vec![s.code]).unwrap_or_default();
                r.step(l, &[], &codes);
            }
        }
    }

    async fn meta(&mut self, line: &str, feed: &mut Feed<'_>) -> Flow {
        let m = match meta::parse(line) {
            Ok(m) => m,
            Err(e) => {
                self.error(e);
                return Flow::Continue;
            }
        };
        let needs_connection = matches!(
            m,
            Meta::StartTls(_)
                | Meta::Auth { .. }
                | Meta::Data { .. }
                | Meta::Edit
                | Meta::Send
                | Meta::Raw(_)
        );
        if needs_connection && !self.connected() {
            if !self.interactive && m == (Meta::Data { file: None }) {
                // A script's `:data` is followed by its message up to a lone "."; read as
                // when connected, so that its lines are not taken for commands.
                let mut lines = 0usize;
                loop {
                    match feed.line("data> ", LineKind::Data).await {
                        Input::Line(l) if l == "." => break,
                        Input::Line(_) => lines += 1,
                        Input::Refused => {
                            if let Feed::Ui(ui) = feed {
                                self.input_notes(ui);
                            }
                            lines += 1;
                        }
                        _ => break,
                    }
                }
                self.error(format!(
                    "not connected: `:data` and its message ({lines} line{}) not sent (:reconnect or :quit)",
                    plural_s(lines)
                ));
                self.lost_to_close();
                return Flow::Continue;
            }
            self.error("not connected: :reconnect or :quit");
            self.lost_to_close();
            return Flow::Continue;
        }
        match m {
            Meta::StartTls(opts) => {
                if let Some(reason) = self.unusable_ca(&opts) {
                    // A mistake in the command, as a bad `--tls-ca-path` is for the send (exit
                    // 1): said before STARTTLS, not found inside the handshake.
                    self.error(format!(":starttls --ca: {reason} (nothing was sent)"));
                    self.fail(crate::error::EXIT_USAGE, "failed", None);
                    return Flow::Continue;
                }
                // RFC 6066 §3 permits no IP literal in SNI: none is sent, the address is
                // still the name checked; said before STARTTLS, as the send says it.
                if let Some(ip) = opts
                    .sni
                    .as_deref()
                    .filter(|n| crate::net::tls::ip_address(n))
                {
                    self.emit(Event::warning(format!(
                        ":starttls --sni {ip}: an IP address is not a name SNI can carry (RFC 6066 §3): no SNI is sent; the certificate is checked against {ip}"
                    )));
                }
                self.tls_opts = opts;
                if self
                    .session
                    .as_ref()
                    .is_some_and(|s| s.state().in_transaction)
                {
                    self.emit(Event::warning(STARTTLS_IN_TRANSACTION));
                }
                if let Some(s) = self.session.as_mut() {
                    s.starttls();
                }
                self.settle().await;
                self.record(line, &[]);
                let retry = std::mem::take(&mut self.tls_retry);
                // The server said 220 but the session is not in TLS: the handshake failed.
                let accepted = self.seen.first().is_some_and(|r| r.reply.is_ready());
                let plain = !self.session.as_ref().is_some_and(|s| s.is_tls());
                if plain && self.replaying {
                    // A script goes on only in TLS after a `:starttls`: never in plain text
                    // after a failed handshake or a refusal (the steps after it were meant
                    // for TLS), `--keep-going` or not. How it did not start is the core's
                    // decision, as for the send and `repl --tls`: not advertised in the EHLO
                    // reply, refused (`unexpected_reply`), no reply (`timeout`), another code
                    // or a failed handshake (`tls`); all exit 29.
                    let code = phase_exit_code(Phase::StartTls);
                    let not_offered = self
                        .session
                        .as_ref()
                        .and_then(|s| s.capabilities())
                        .is_some_and(|c| !c.has("STARTTLS"));
                    let handshake = || {
                        Ended::new(code, "tls", Some("the TLS handshake failed".to_string()))
                    };
                    let ended = match self.seen.first() {
                        _ if accepted => handshake(),
                        Some(_) if not_offered => {
                            SessionError::starttls_required(None, TlsAsked::Command)
                                .map_or_else(handshake, |e| starttls_ended(&e, FrontEnd::Replay))
                        }
                        Some(r) => SessionError::starttls_required(
                            Some((*r.reply).clone()),
                            TlsAsked::Command,
                        )
                        .map_or_else(handshake, |e| starttls_ended(&e, FrontEnd::Replay)),
                        None => Ended::from_error(&self.reply_timeout(Phase::StartTls)),
                    };
                    let what = ended.reason.unwrap_or_default();
                    let reason = format!("{what}: nothing more is sent");
                    self.error(format!("replay: {reason} (exit {})", ended.code));
                    self.fail(ended.code, ended.label, Some(reason));
                } else {
                    self.after_starttls(retry, feed).await;
                }
            }
            Meta::Auth {
                mechanism,
                user,
                secret,
            } => self.auth(mechanism, user, secret, feed).await,
            Meta::Data { file } => self.data(file, feed).await,
            Meta::Edit => self.edit(feed).await,
            Meta::Send => {
                if self.envelope.from.is_none() || self.envelope.rcpts.is_empty() {
                    let why = ":send needs an envelope: type MAIL FROM:<…> and RCPT TO:<…> first";
                    self.error(why);
                    self.fail(crate::error::EXIT_USAGE, "failed", Some(why.into()));
                    return Flow::Continue;
                }
                let msg = self.default_message();
                if !self.size_allows(&msg, feed).await {
                    return Flow::Continue;
                }
                if let Some(s) = self.session.as_mut() {
                    s.data(&msg);
                }
                self.settle().await;
                self.record(":send", &[]);
            }
            Meta::Raw(bytes) => {
                let in_sasl = self.session.as_ref().is_some_and(|s| s.expects_secret());
                if let Some(s) = self.session.as_mut() {
                    s.send_raw(&bytes);
                }
                self.last_activity = Instant::now();
                self.settle().await;
                self.record_raw(&bytes, in_sasl);
            }
            // The same engine as `ehlo explain`: codes alone, or a whole pasted reply.
            Meta::Explain(code) => match crate::smtp::explain::analyse(&code, None) {
                Some(report) => self.say(&crate::render::explain::report_text(
                    &report,
                    FrontEnd::Repl,
                )),
                None => self.error(format!(
                    "{code:?} is not a reply code: try :explain 550, :explain 5.7.1 or :explain \"550 5.7.1\""
                )),
            },
            Meta::Caps => {
                let text = match self.session.as_ref().and_then(|s| s.capabilities()) {
                    None => "no EHLO reply yet (or forgotten after STARTTLS): type EHLO name".to_string(),
                    Some(c) if c.keywords.is_empty() => {
                        format!("{}: no extensions (HELO, or a bare EHLO reply)", c.greeting)
                    }
                    Some(c) => caps_text(c),
                };
                self.say(&text);
            }
            Meta::Reconnect(t) => {
                if let Some(t) = t {
                    let default_port = if self.cfg.link.tls_on_connect { 465 } else { 25 };
                    let port_of = crate::cli::args::parse_service_port;
                    match Target::parse(&t, self.cfg.port, default_port, port_of) {
                        Ok(target) => {
                            // As the command line's address: a port inside it wins over --port.
                            let inside = crate::net::route::port_inside(&t, port_of);
                            if let Some(w) = crate::net::route::port_inside_warning(
                                "the address",
                                inside,
                                self.cfg.port,
                            ) {
                                self.emit(Event::warning(w));
                            }
                            self.target = Some(target);
                        }
                        // A step that could not run (`--strict`, replay: exit 1); a replayed
                        // `:reconnect` to a bad address used to be said and passed over.
                        Err(e) => {
                            self.error(e.clone());
                            self.fail(crate::error::EXIT_USAGE, "failed", Some(e));
                            return Flow::Continue;
                        }
                    }
                }
                self.close_quietly().await;
                self.session = None;
                // Recorded by connect, right after the banner.
                let _ = Box::pin(self.connect(feed, false, true)).await;
            }
            Meta::Record(None, _) => {
                self.recording = None;
                if self.recorder.take().is_some() {
                    self.say("recording stopped");
                } else {
                    self.say("not recording: :record FILE starts");
                }
            }
            Meta::Record(Some(path), mode) => {
                self.start_recording(&path, mode);
                if let Some(r) = self.recorder.as_mut() {
                    r.began_mid_session();
                }
            }
            // A script that replays a script (itself, at worst) would recurse without end and
            // mix its mismatches with the outer run's: one script at a time.
            Meta::Replay(_) if self.replaying => {
                self.error(
                    ":replay inside a replayed script is refused: a script cannot run another script (nothing was sent)",
                );
                self.fail(crate::error::EXIT_USAGE, "failed", None);
            }
            // A FIFO nobody writes is given up after `--timeout` (`:set timeout`), as a reply.
            Meta::Replay(path) => match record::load(
                &path,
                record::ScriptWait {
                    idle: self.timeout(),
                    idle_named: self.cfg.timeout_named.clone(),
                    deadline: None,
                    deadline_note: String::new(),
                },
            ) {
                Ok(script) => {
                    let code = Box::pin(self.run_script(&script, false, feed.ui())).await;
                    // How the script ended is the script's: said here, and the session goes on.
                    self.ended = None;
                    if code != EXIT_OK {
                        self.say(&format!("replay stopped (a send would exit {code})"));
                    }
                }
                Err(e) => self.error(e),
            },
            Meta::Status => {
                let report = self.status_report();
                self.say(&report);
            }
            Meta::Set(cmd) => self.set(cmd, line),
            Meta::Help => self.say(meta::HELP),
            Meta::Quit => {
                self.quit().await;
                return Flow::Quit;
            }
        }
        Flow::Continue
    }

    fn default_message(&self) -> Vec<u8> {
        let (date, unique) = message_ids();
        meta::default_message(&self.envelope, &self.helo_default, &date, &unique)
    }

    /// The SIZE limit the server advertised (RFC 1870 §4); `None` when there is none (not
    /// offered, no EHLO yet, or `SIZE 0`: no fixed limit).
    fn size_limit(&self) -> Option<u64> {
        self.session
            .as_ref()
            .and_then(|s| s.capabilities())
            .and_then(|c| c.size())
            .filter(|&l| l > 0)
    }

    /// May a message of `content` go out? Over the advertised SIZE (counted as RFC 1870 §3
    /// does: CRLF line ends, without dot-stuffing or the final dot) a terminal is asked;
    /// without one the message is refused with the DATA phase's exit code (for `--strict`).
    async fn size_allows(&mut self, content: &[u8], feed: &mut Feed<'_>) -> bool {
        let Some(limit) = self.size_limit() else {
            return true;
        };
        let size = crate::smtp::data::encoded_chunked_len(content, crate::smtp::data::Fixup::ALL);
        if size as u64 <= limit {
            return true;
        }
        let (size_s, limit_s) = (
            crate::smtp::event::count_bytes(size),
            crate::smtp::event::count_bytes(limit as usize),
        );
        if feed.can_ask() {
            self.emit(Event::warning(format!(
                    "the message is {size_s}, over the server's SIZE limit of {limit_s} (RFC 1870): expect a 552"
                )));
            let answer = feed
                .ask("send it anyway? [y/N] ", LineKind::Answer)
                .await
                .map(|a| a.trim().to_ascii_lowercase());
            if matches!(answer.as_deref(), Some("y" | "yes")) {
                return true;
            }
            self.say("message not sent");
            return false;
        }
        self.error(format!(
            "message not sent: it is {size_s}, over the server's SIZE limit of {limit_s} (RFC 1870); a terminal would ask"
        ));
        self.fail(phase_exit_code(Phase::Data), "failed", None);
        false
    }

    /// Content typed after a DATA goes out line by line, so it cannot be held back: once it
    /// passes the advertised SIZE, say so (once per message), before the final dot draws 552.
    fn watch_typed_size(&mut self, line: &str) {
        let limit = self.size_limit();
        if let Some(size) = self.typed_size.line(line, limit) {
            self.emit(Event::warning(format!(
                    "the message typed so far is {}, over the server's SIZE limit of {} (RFC 1870): expect a 552 after the final dot",
                    crate::smtp::event::count_bytes(size),
                    crate::smtp::event::count_bytes(limit.unwrap_or_default() as usize)
                )));
        }
    }

    /// `:set`: list, show or change a setting for the rest of the session.
    fn set(&mut self, cmd: meta::SetCommand, line: &str) {
        use meta::{SetCommand, Setting, SettingName};
        let shown = |e: &Engine, name: SettingName| -> String {
            match name {
                SettingName::Timeout => {
                    let t = e.timeout();
                    if t.is_zero() {
                        "timeout  none (replies are awaited until they come or Ctrl-C)".into()
                    } else {
                        format!("timeout  {}s per reply", t.as_secs())
                    }
                }
                SettingName::Explain => format!(
                    "explain  {}",
                    match e.cfg.human.explain {
                        crate::render::ExplainLevel::All => "all (every reply)",
                        crate::render::ExplainLevel::Errors =>
                            "errors (errors and unusual replies)",
                        crate::render::ExplainLevel::None => "none",
                    }
                ),
                SettingName::Echo => format!(
                    "echo     {}",
                    if e.cfg.human.hide.send {
                        "off (lines sent are not repeated in the transcript)"
                    } else {
                        "on (each line sent is shown as ` -> …`)"
                    }
                ),
            }
        };
        let name = match cmd {
            SetCommand::List => {
                let all = [
                    SettingName::Timeout,
                    SettingName::Explain,
                    SettingName::Echo,
                ]
                .map(|n| shown(self, n))
                .join("\n");
                self.say(&all);
                return;
            }
            SetCommand::Show(n) => {
                let text = shown(self, n);
                self.say(&text);
                return;
            }
            SetCommand::Change(Setting::Timeout(d)) => {
                self.cfg.link.timeout = d;
                self.cfg.timeout_named = ":set timeout".into();
                SettingName::Timeout
            }
            SetCommand::Change(Setting::Explain(level)) => {
                self.cfg.human.explain = level;
                self.sink.reconfigure(&|o| o.explain = level);
                SettingName::Explain
            }
            SetCommand::Change(Setting::Echo(on)) => {
                self.cfg.human.hide.send = !on;
                self.sink.reconfigure(&|o| o.hide.send = !on);
                SettingName::Echo
            }
        };
        let mut text = shown(self, name);
        if self.cfg.json && name != SettingName::Timeout {
            text.push_str(" (the JSON Lines on stdout always carry every event)");
        }
        self.say(&text);
        // A replay of the recording runs with the same settings.
        self.record(line, &[]);
    }

    /// `:status`: where the session stands, one labelled line per topic.
    fn status_report(&self) -> String {
        let mut out: Vec<(&str, String)> = Vec::new();
        let session = self.session.as_ref();
        let target = self.target.as_ref().map(ToString::to_string);
        out.push((
            "server",
            match (&self.conn, target) {
                (Some(c), _) if self.connected() => c.server.clone(),
                (_, Some(t)) => format!("{t} (not connected: :reconnect)"),
                (_, None) => "none (:reconnect HOST[:PORT])".into(),
            },
        ));
        out.push((
            "state",
            match session {
                Some(s) => {
                    let p = s.state().prompt();
                    let p = p.trim_end().trim_end_matches('>').to_string();
                    if s.awaiting_reply() {
                        format!("{p}, a reply still awaited")
                    } else {
                        p
                    }
                }
                None => "offline".into(),
            },
        ));
        out.push((
            "TLS",
            match (&self.tls_info, session.is_some_and(|s| s.is_tls())) {
                (Some(i), true) => tls_summary(i),
                _ => "none: plain text (:starttls to upgrade)".into(),
            },
        ));
        out.push((
            "AUTH",
            match (&self.auth_user, session.is_some_and(|s| s.state().authed)) {
                (Some((m, u)), true) => format!("{u} with {m}: authenticated"),
                (Some((m, u)), false) => format!("{u} with {m}: not authenticated"),
                (None, _) => "none (:auth [MECH [user]])".into(),
            },
        ));
        out.push((
            "envelope",
            match session.is_some_and(|s| s.state().in_transaction) {
                true => {
                    let e = &self.envelope;
                    let mut t = format!("MAIL FROM:<{}>", e.from.clone().unwrap_or_default());
                    if e.rcpts.is_empty() {
                        t.push_str(", no RCPT TO yet");
                    }
                    for r in &e.rcpts {
                        t.push_str(&format!(", RCPT TO:<{r}>"));
                    }
                    t
                }
                false => "none (no mail transaction open: MAIL FROM:<…> starts one)".into(),
            },
        ));
        out.push((
            "last reply",
            self.last_reply.clone().unwrap_or_else(|| "none yet".into()),
        ));
        let caps = session.and_then(|s| s.capabilities());
        out.push((
            "SIZE",
            match caps.map(|c| c.size()) {
                None => "unknown: no EHLO reply yet (type EHLO name)".into(),
                Some(None) => "not advertised".into(),
                Some(Some(0)) => "advertised without a fixed limit (SIZE 0)".into(),
                Some(Some(n)) => format!(
                    "{} (RFC 1870; :data asks before sending more)",
                    crate::smtp::event::count_bytes(n as usize)
                ),
            },
        ));
        let t = self.timeout();
        out.push((
            "settings",
            format!(
                "timeout {}, explain {}, echo {}",
                if t.is_zero() {
                    "none".to_string()
                } else {
                    format!("{}s", t.as_secs())
                },
                meta::explain_word(self.cfg.human.explain),
                if self.cfg.human.hide.send {
                    "off"
                } else {
                    "on"
                }
            ),
        ));
        out.push((
            "recording",
            self.recording
                .as_ref()
                .map_or("off (:record FILE)".into(), |p| p.display().to_string()),
        ));
        out.iter()
            .map(|(k, v)| format!("{k:<11}{v}"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// `:edit`: the message written in the user's editor, on the terminal handed over to it
    /// (cooked, not read by the REPL meanwhile), then sent as `:data` sends (dot-stuffed,
    /// CRLF) and recorded as a `:data` step with its lines, so the recording replays without
    /// an editor. An editor that fails, or a draft saved empty or unchanged, sends nothing.
    async fn edit(&mut self, feed: &mut Feed<'_>) {
        let Feed::Ui(ui) = feed else {
            self.error(":edit needs a terminal for the editor: in a script, type the message after :data, or :data @FILE");
            self.fail(phase_exit_code(Phase::Data), "failed", None);
            return;
        };
        if !ui.is_tty() {
            self.error(":edit needs a terminal for the editor: piped input types the message after :data, or sends :data @FILE");
            self.fail(phase_exit_code(Phase::Data), "failed", None);
            return;
        }
        let (date, unique) = message_ids();
        let mut template =
            meta::message_headers(&self.envelope, &self.helo_default, &date, &unique);
        template.push(b'\n');
        let draft = match edit::Draft::create(&template) {
            Ok(d) => d,
            Err(e) => {
                self.error(format!(
                    "cannot create the message file: {e} (nothing was sent)"
                ));
                return;
            }
        };
        let editor = edit::editor_command();
        self.say(&format!("editing the message in {editor}: save and quit to send it; save it empty (or quit without saving) to cancel"));
        self.editing.store(true, Ordering::SeqCst);
        ui.hand_over();
        let status = edit::run_editor(&editor, draft.path()).await;
        // Raw again first: from then on Ctrl-C and Ctrl-\ are keys, not signals. A SIGINT or
        // SIGQUIT queued before that came while the terminal was cooked, the editor's time (a
        // Ctrl-C that ended the editor signalled the REPL at the same moment, or one pressed
        // as it exited): the editor's, not the REPL's, dropped. Dropped before the raw modes
        // were set, one pressed in between was the REPL's and ended it.
        ui.take_back();
        if let Some(i) = &self.interrupts {
            i.discard();
        }
        self.editing.store(false, Ordering::SeqCst);
        let content = match status {
            Err(e) => Err(format!("cannot run the editor ({editor}): {e}")),
            Ok(st) if !st.success() => Err(format!("the editor ({editor}) failed ({st})")),
            Ok(_) => read_bounded(draft.path()),
        };
        drop(draft);
        let content = match content {
            Ok(c) if c.iter().all(u8::is_ascii_whitespace) => {
                self.say("the message is empty: cancelled, nothing was sent");
                return;
            }
            Ok(c) if c == template => {
                self.say("the message is unchanged: cancelled, nothing was sent (:send sends a default message)");
                return;
            }
            Ok(c) => c,
            Err(e) => {
                self.say(&format!("{e}: message cancelled, nothing was sent"));
                return;
            }
        };
        let text = String::from_utf8_lossy(&content);
        let body: Vec<String> = text
            .strip_suffix('\n')
            .unwrap_or(&text)
            .split('\n')
            .map(|l| l.strip_suffix('\r').unwrap_or(l).to_string())
            .collect();
        if !self.size_allows(&content, feed).await {
            return;
        }
        if let Some(s) = self.session.as_mut() {
            s.data(&content);
        }
        self.settle().await;
        self.record(":data", &body);
    }

    /// `:auth [MECH [user[:secret]]]`: explained instead of sent before EHLO; the strongest
    /// offered mechanism when none is named; a question before credentials go out unencrypted;
    /// the user and secret from the command, the environment, `--auth-*-file` or the terminal.
    async fn auth(
        &mut self,
        mechanism: Option<String>,
        user: Option<String>,
        typed_secret: Option<Secret>,
        feed: &mut Feed<'_>,
    ) {
        let Some(caps) = self
            .session
            .as_ref()
            .and_then(|s| s.capabilities())
            .cloned()
        else {
            self.error(
                ":auth needs the server's EHLO reply first (it lists the AUTH mechanisms): type EHLO name",
            );
            self.fail(phase_exit_code(Phase::Auth), "failed", None);
            return;
        };
        let offered = caps.auth_mechanisms();
        let env_token = std::env::var("EHLO_AUTH_TOKEN")
            .ok()
            .filter(|s| !s.is_empty());
        let mech = match mechanism {
            Some(m) => m.to_ascii_uppercase(),
            None => {
                let have_token = env_token.is_some() || self.cfg.auth_token.is_some();
                let pick = crate::smtp::auth::SUPPORTED.iter().find(|m| {
                    offered.iter().any(|o| o.eq_ignore_ascii_case(m))
                        && (have_token || !matches!(**m, "XOAUTH2" | "OAUTHBEARER"))
                });
                match pick {
                    Some(m) => {
                        self.say(&format!(
                            "AUTH {m}: the strongest mechanism the server offers that ehlo implements"
                        ));
                        m.to_string()
                    }
                    None => {
                        self.error(format!(
                            "the server offers no AUTH mechanism ehlo implements (offered: {}): :auth MECH to try one anyway",
                            if offered.is_empty() { "none".to_string() } else { offered.join(" ") }
                        ));
                        self.fail(phase_exit_code(Phase::Auth), "failed", None);
                        return;
                    }
                }
            }
        };
        // A mechanism ehlo does not know is refused before anything is asked: a piped
        // script's next line must not be read for a step that cannot run. Nothing was sent:
        // the send's `--auth BOGUS` exits 10 (swaks's "No auth types supported"), so does this.
        if !meta::implemented_mechanism(&mech) {
            // Named only when it is surely a mechanism: `:auth USER PASSWORD` (or the
            // password alone) puts a secret here, and errors reach --log, --json and the
            // summary.
            let named = if meta::nameable_mechanism(&mech, &offered) {
                format!("AUTH {mech}")
            } else {
                "the mechanism named (not repeated: it may be a password typed in its place; :auth MECH [user], the secret is asked for)".to_string()
            };
            let why = format!(
                "ehlo does not implement {named} (it knows {})",
                crate::smtp::auth::SUPPORTED.join(", ")
            );
            self.error(why.clone());
            let e = Error::Prerequisite(why.clone());
            self.fail(e.exit_code(), e.label(), Some(why));
            return;
        }
        let encrypted = self.session.as_ref().is_some_and(|s| s.is_tls());
        if !encrypted && !self.cfg.allow_plaintext_auth {
            let answer = if feed.can_ask() {
                feed.ask(
                    "AUTH without TLS: send the credentials unencrypted? [y/N] ",
                    LineKind::Answer,
                )
                .await
            } else {
                None
            };
            if !matches!(
                answer
                    .as_deref()
                    .map(|a| a.trim().to_ascii_lowercase())
                    .as_deref(),
                Some("y" | "yes")
            ) {
                let reason = "AUTH not sent: the connection is not encrypted; :starttls first, or start with --allow-plaintext-auth";
                self.error(reason);
                // The send's refusal, with its exit code (1, a usage error: nothing was sent)
                // and label; the reason for the summary's `error`.
                let e = Error::Session(SessionError::PlaintextAuth(crate::smtp::codes::Hint::new(
                    reason,
                )));
                self.fail(e.exit_code(), e.label(), Some(reason.to_string()));
                return;
            }
        }
        let user = match user.or_else(|| std::env::var("EHLO_AUTH_USER").ok()) {
            Some(u) => u,
            // Only a person is asked: a piped script's next line is a command, not a user name.
            // Nothing was sent: as the send refuses `--auth` without a user name to be had, and
            // as a missing password below, a usage error (exit 1, `mode::auth`).
            None if !feed.can_ask() => {
                let why = format!(
                    "AUTH {mech} needs a user: :auth {mech} USER, or set EHLO_AUTH_USER (no terminal to ask on)"
                );
                self.error(why.clone());
                let e = Error::Usage(why.clone());
                self.fail(e.exit_code(), e.label(), Some(why));
                return;
            }
            None => match feed.ask("user: ", LineKind::Data).await {
                Some(u) => u,
                None => {
                    self.error(format!(
                        "AUTH {mech} needs a user: :auth {mech} USER, or set EHLO_AUTH_USER"
                    ));
                    self.fail(phase_exit_code(Phase::Auth), "failed", None);
                    return;
                }
            },
        };
        let token_mech = matches!(mech.as_str(), "XOAUTH2" | "OAUTHBEARER");
        // The secret typed with the user (`user:secret`, curl's form) first, as the most
        // specific; then the command line's file before the environment, as the send's
        // layering orders them.
        let (given, prompt, what) = if token_mech {
            (
                typed_secret.or_else(|| {
                    self.cfg
                        .auth_token
                        .clone()
                        .or_else(|| env_token.clone().map(Secret::new))
                }),
                "token (not shown): ",
                "a token: set EHLO_AUTH_TOKEN or pass --auth-token-file FILE",
            )
        } else {
            (
                typed_secret.or_else(|| self.cfg.auth_password.clone()),
                "password (not shown): ",
                "a password: set EHLO_AUTH_PASSWORD or pass --auth-password-file FILE",
            )
        };
        // Every mechanism needs one (the password, or the token for the OAuth ones).
        let secret = match given {
            Some(s) => Some(s),
            // Only a person is asked: a piped script's next line is a command, not a secret.
            // Nothing was sent: the send without a password to be had is a usage error (exit
            // 1, `mode::auth`), and so is this step.
            None if !feed.can_ask() => {
                let why = format!("AUTH {mech} needs {what} (no terminal to ask on)");
                self.error(why.clone());
                let e = Error::Usage(why.clone());
                self.fail(e.exit_code(), e.label(), Some(why));
                return;
            }
            None => match feed.ask(prompt, LineKind::Secret).await {
                Some(s) => Some(Secret::new(s)),
                None => {
                    // Asked on the terminal, and Ctrl-C (or Ctrl-D) answered.
                    self.error(format!(
                        "AUTH {mech} cancelled at the prompt: nothing was sent"
                    ));
                    self.fail(phase_exit_code(Phase::Auth), "failed", None);
                    return;
                }
            },
        };
        let mut creds = Credentials {
            user: user.clone(),
            nonce: crate::net::tls::scram_nonce(),
            host: self.conn.as_ref().map(|c| c.host.clone()),
            port: self.target.as_ref().map(Target::port),
            ..Credentials::default()
        };
        if token_mech {
            creds.token = secret;
        } else {
            creds.password = secret;
        }
        let started = self.session.as_mut().is_some_and(|s| s.auth(&mech, creds));
        if started {
            self.auth_user = Some((mech.clone(), user.clone()));
        }
        self.settle().await;
        if started {
            self.record(&format!(":auth {mech} {user}"), &[]);
        }
        // A 235 the mechanism refused (no proof the server knows the password): AUTH failed,
        // as the send fails it (exit 28), for --strict and replay.
        if let Some((mechanism, reason)) = self.session.as_mut().and_then(|s| s.take_auth_refuted())
        {
            let e = Error::Session(SessionError::Auth { mechanism, reason });
            self.failed = Some(Ended::from_error(&e));
        }
    }

    async fn data(&mut self, file: Option<std::path::PathBuf>, feed: &mut Feed<'_>) {
        let (content, body, input) = match file {
            Some(path) => match read_bounded(&path) {
                Ok(c) => (c, Vec::new(), format!(":data @{}", path.display())),
                Err(e) => {
                    // Nothing was sent: a step that could not run (`--strict`: exit 1).
                    self.error(e.clone());
                    self.fail(crate::error::EXIT_USAGE, "failed", Some(e));
                    return;
                }
            },
            None => {
                if self.interactive {
                    self.say("type the message; a line holding only \".\" ends it (dot-stuffing is done for you), Ctrl-C cancels");
                }
                let mut lines = Vec::new();
                // A piped line of it was refused (not UTF-8): the message is read to its end
                // and not sent (it would go out without the line).
                let mut refused = false;
                // Bytes held so far, line ends counted: the message is held whole until its
                // ".", so it is bounded as `:data @FILE` is ([`read_bounded`]).
                let mut held = 0usize;
                let mut too_long = false;
                // Lines typed, whatever became of them (said if the connection closes).
                let mut typed = 0usize;
                loop {
                    let input = match feed {
                        Feed::Ui(ui) => {
                            ui.request("data> ", LineKind::Data);
                            match self.watched_line(ui).await {
                                Some(input) => input,
                                // The server closed the connection (a 421, a drop) while the
                                // message was typed: shown as it came, said now on a terminal.
                                None if ui.is_tty() => {
                                    self.message_not_sent(typed);
                                    return;
                                }
                                // Piped: the message's lines are still its own, not commands.
                                None => ui.recv().await,
                            }
                        }
                        _ => feed.line("data> ", LineKind::Data).await,
                    };
                    if matches!(&input, Input::Line(l) if l != ".") || input == Input::Refused {
                        typed += 1;
                    }
                    match input {
                        Input::Line(l) if l == "." => break,
                        Input::Line(_) if refused || too_long => {}
                        Input::Refused => {
                            if let Feed::Ui(ui) = feed {
                                self.input_notes(ui);
                            }
                            refused = true;
                            lines = Vec::new();
                        }
                        Input::Line(l) => {
                            held += l.len() + 1;
                            if lines.len() >= TYPED_MESSAGE_LINES || held > MESSAGE_MAX {
                                // Read on to its "." (none of its lines is a command), then
                                // refused: it used to stop reading here, so the rest of the
                                // message ran as commands.
                                too_long = true;
                                lines = Vec::new();
                                continue;
                            }
                            lines.push(l)
                        }
                        Input::Interrupted => {
                            self.say("message cancelled: nothing was sent");
                            return;
                        }
                        Input::Eof => {
                            if matches!(feed, Feed::Ui(_)) || refused {
                                // As the end of input inside a typed DATA: nothing delivered
                                // (`--strict`: exit 25, the README's).
                                let why = "message cancelled (end of input before the final \".\"): nothing was sent";
                                self.say(why);
                                self.fail(phase_exit_code(Phase::Data), "failed", Some(why.into()));
                                return;
                            }
                            break;
                        }
                    }
                }
                if !self.connected() {
                    self.message_not_sent(typed);
                    return;
                }
                if refused {
                    let why = "message cancelled: a line of it was refused: nothing was sent";
                    self.error(why);
                    self.fail(phase_exit_code(Phase::Data), "failed", Some(why.into()));
                    return;
                }
                if too_long {
                    let why = "message cancelled: longer than 64 MiB or 1000000 lines, the most \
                        `:data` holds: nothing was sent";
                    self.error(why);
                    self.fail(phase_exit_code(Phase::Data), "failed", Some(why.into()));
                    return;
                }
                let mut c = lines.join("\n").into_bytes();
                c.push(b'\n');
                (c, lines, ":data".to_string())
            }
        };
        if !self.size_allows(&content, feed).await {
            return;
        }
        if let Some(s) = self.session.as_mut() {
            s.data(&content);
        }
        self.settle().await;
        // The server dropped the connection before DATA's 354: the message was not sent (the
        // core said so), and the run could not finish, as when a line is lost to the close.
        if self.session.as_ref().is_some_and(|s| s.message_dropped()) {
            self.lost_to_close();
        }
        self.record(&input, &body);
    }
}

impl Engine {
    /// A typed `BDAT size [LAST]` ([`ManualSession::chunk_owed`]): its chunk is read first, as
    /// lines (each counts its CRLF; one that fills what is left exactly ends the chunk without
    /// it, [`TypedChunk`]), then line and chunk go out together and the one reply is awaited.
    /// Nothing is sent until the chunk is whole: a cancel (Ctrl-C), the end of the input or a
    /// line that does not fit (piped, replayed) sends nothing of the BDAT. On a terminal a
    /// line that does not fit is given back to be edited.
    async fn bdat(&mut self, line: &str, owed: ChunkOwed, feed: &mut Feed<'_>) {
        let fail = |engine: &mut Engine, why: String| {
            engine.error(why.clone());
            engine.fail(crate::error::EXIT_USAGE, "failed", Some(why));
        };
        if owed.size > MESSAGE_MAX {
            fail(
                self,
                format!(
                    "{line}: ehlo holds a typed chunk whole, at most {} MiB (this one is {}): \
                     nothing was sent (:raw sends any bytes)",
                    MESSAGE_MAX / (1024 * 1024),
                    crate::smtp::event::count_bytes(owed.size)
                ),
            );
            return;
        }
        // The chunk is held as its octets alone: a string a typed line (the recording's `|`
        // lines, read back from the octets instead) cost some 30 bytes a line more, ~1 GB for
        // 64 MiB of empty lines.
        let mut chunk = TypedChunk::new(owed.size);
        if owed.size > 0 && self.interactive {
            self.say(&format!(
                "type the chunk's {} octets: each line counts with its CRLF (2 octets), a line of \
                 exactly the octets left ends the chunk without one; nothing is sent before the \
                 chunk is whole, Ctrl-C cancels",
                owed.size
            ));
        }
        let mut again = String::new();
        while chunk.left() > 0 {
            let prompt = format!("chunk {} left> ", chunk.left());
            let input = match feed {
                Feed::Ui(ui) => {
                    ui.request_with(&prompt, LineKind::Data, &again);
                    match self.watched_line(ui).await {
                        Some(input) => input,
                        // The server closed the connection (a 421, a drop) while the chunk was
                        // typed: said now, shown as it came, not after the chunk is done.
                        None if ui.is_tty() => {
                            self.chunk_not_sent(line, owed.size - chunk.left(), owed.size);
                            return;
                        }
                        // Piped: the chunk's lines are still the chunk's, not commands.
                        None => ui.recv().await,
                    }
                }
                _ => feed.line(&prompt, LineKind::Data).await,
            };
            again.clear();
            match input {
                // A recording's chunk line that held a secret seen in its session, as a
                // recorded `>` line that did is refused: the mask is not the secret.
                Input::Line(l) if self.replaying && meta::holds_mask(&l) => {
                    fail(self, format!("{line}: {}", meta::MASKED_SECRET));
                    return;
                }
                Input::Line(l) => match chunk.take(&l) {
                    ChunkLine::Taken | ChunkLine::TakenWithoutCrlf => {}
                    ChunkLine::TooLong { octets, left } => {
                        let fits = if left >= 2 {
                            format!("a line of {} octets, or of {left} to end it", left - 2)
                        } else {
                            format!("a line of {left} octet to end it")
                        };
                        let said = format!(
                            "{line}: this line is {octets} octets, {} with its CRLF, and the \
                             chunk has {left} left ({fits})",
                            octets + 2
                        );
                        if matches!(feed, Feed::Ui(ui) if ui.is_tty()) {
                            self.error(format!(
                                "{said}: not taken, given back to edit (Ctrl-C cancels the BDAT: \
                                 nothing of it was sent)"
                            ));
                            again = l;
                            continue;
                        }
                        fail(
                            self,
                            format!("{said}: the BDAT is not sent (nothing of it was)"),
                        );
                        return;
                    }
                },
                Input::Refused => {
                    if let Feed::Ui(ui) = feed {
                        self.input_notes(ui);
                    }
                    fail(
                        self,
                        format!(
                            "{line}: a line of its chunk was refused: nothing of the BDAT was sent"
                        ),
                    );
                    return;
                }
                Input::Interrupted => {
                    self.say(&format!("{line} cancelled: nothing of it was sent"));
                    return;
                }
                Input::Eof if chunk.bytes().is_empty() && matches!(feed, Feed::Lines { .. }) => {
                    // A script step without content lines (`ehlo replay` of a recording made
                    // before chunks were recorded): the line alone, as it was sent then; the
                    // chunk is the next step's bytes.
                    self.emit(Event::warning(format!(
                        "{line}: no content lines (`|`) for its {} octets: the line is sent \
                         alone, the server reads the next step's bytes as its chunk",
                        owed.size
                    )));
                    break;
                }
                Input::Eof => {
                    let why = format!(
                        "{line}: the input ended after {} of the chunk's {} octets: nothing of \
                         the BDAT was sent",
                        owed.size - chunk.left(),
                        owed.size
                    );
                    self.say(&why);
                    self.fail(phase_exit_code(Phase::Dot), "failed", Some(why));
                    return;
                }
            }
        }
        if !self.connected() {
            self.chunk_not_sent(line, owed.size - chunk.left(), owed.size);
            return;
        }
        if chunk.left() > 0 {
            if let Some(s) = self.session.as_mut() {
                s.send_line(line);
            }
        } else if let Some(s) = self.session.as_mut() {
            s.send_bdat(line, chunk.bytes());
        }
        self.settle().await;
        self.data_cut = self.session.as_ref().is_some_and(|s| s.closed_in_data());
        self.record_group();
        let codes: Vec<u16> = self.seen.iter().map(|s| s.code).collect();
        // Its lines masked as a `:data` message's are (`record`): a chunk line can hold a
        // password typed earlier in the session.
        let completion = &self.completion;
        let mask = |l: &str| masked_by(completion, l);
        let input = mask(line);
        if let Some(r) = self.recorder.as_mut() {
            r.step_chunk(&input, chunk.bytes(), &codes, mask);
        }
    }
}

impl Engine {
    /// The next line of a typed chunk or `:data` message (`ui` asked for it), the server
    /// watched meanwhile as at the command prompt: what it sends (a 421) is shown when it
    /// comes, not after the chunk or message is sent. `None` once the connection is closed
    /// with the line still being typed.
    async fn watched_line(&mut self, ui: &mut Ui) -> Option<Input> {
        while self.connected() {
            tokio::select! {
                i = ui.recv() => return Some(i),
                n = self.read_some() => {
                    let replies = self.seen.len();
                    self.on_read(n);
                    self.pump_out().await;
                    self.record_unasked(replies);
                }
            }
        }
        None
    }

    /// A typed `:data` whose connection closed before its final "." (nothing of it is sent
    /// before then): said with how many lines were typed, as a script's `:data` read once the
    /// connection is closed is.
    fn message_not_sent(&mut self, typed: usize) {
        self.error(format!(
            "not connected: `:data` and its message ({typed} line{} typed) not sent: the \
             connection closed before the message was whole (:reconnect or :quit)",
            plural_s(typed)
        ));
        self.lost_to_close();
    }

    /// A typed BDAT whose connection closed before its chunk went out: nothing of it was
    /// sent; said with what was typed, as a script line lost to the close is.
    fn chunk_not_sent(&mut self, line: &str, typed: usize, size: usize) {
        self.error(format!(
            "not connected: `{line}` and its chunk not sent ({typed} of its {size} octets \
             typed): the connection closed before the chunk was whole (:reconnect or :quit)"
        ));
        self.lost_to_close();
    }
}

/// A hand-typed `AUTH MECH [initial-response]` as the replayable `:auth MECH [user]` step
/// that carries no secret: the user is read from the initial response where the mechanism puts
/// it (PLAIN, LOGIN, XOAUTH2, OAUTHBEARER). `None` for lines that are not AUTH.
fn typed_auth_step(line: &str) -> Option<String> {
    use base64::Engine as _;
    let mut w = line.split_whitespace();
    if !w.next()?.eq_ignore_ascii_case("AUTH") {
        return None;
    }
    let mech = w.next()?.to_ascii_uppercase();
    if !crate::smtp::auth::is_mechanism_name(&mech) {
        // No mechanism name but the credential itself (`AUTH <blob>`, `AUTH PLAIN:<blob>`,
        // as the transcript reads it): a step that names nothing of it.
        return Some(":auth".to_string());
    }
    let ir = w
        .next()
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&ir);
    let user = match mech.as_str() {
        // authzid NUL authcid NUL password (RFC 4616 §2)
        "PLAIN" => text.split('\0').nth(1).map(str::to_string),
        "LOGIN" => (!text.is_empty()).then(|| text.to_string()),
        // user=U ^A auth=Bearer T ^A ^A
        "XOAUTH2" => text
            .split('\x01')
            .find_map(|p| p.strip_prefix("user="))
            .map(str::to_string),
        // gs2 header n,a=U, (RFC 7628 §3.1)
        "OAUTHBEARER" => text
            .split(['\x01', ','])
            .find_map(|p| p.strip_prefix("a="))
            .map(str::to_string),
        _ => None,
    }
    .filter(|u| !u.is_empty() && !u.contains(char::is_whitespace));
    Some(match user {
        Some(u) => format!(":auth {mech} {u}"),
        None => format!(":auth {mech}"),
    })
}

/// Does `:auth MECH` send an initial response (so a hand-made `AUTH MECH` without one drew an
/// extra 334 that a replay of the step will not)?
fn sends_initial_response(mech: &str) -> bool {
    let creds = Credentials {
        user: "u".into(),
        password: Some(Secret::new("p")),
        token: Some(Secret::new("t")),
        nonce: Some("n".into()),
        ..Credentials::default()
    };
    crate::smtp::auth::mechanism(mech, &creds).is_some_and(|mut m| m.initial_response().is_some())
}

/// TLS for `:status`: `TLSv1.3 TLS_AES_256_GCM_SHA384 (256 bits); certificate verified for
/// mx.example.net`, or why it was not and whether that was enforced.
fn tls_summary(i: &crate::smtp::event::TlsInfo) -> String {
    let v = &i.verify;
    let name = v
        .checked_name
        .as_deref()
        .map(|n| format!(" for {}", crate::render::human::escape_str(n)))
        .unwrap_or_default();
    let verdict = if v.ok {
        format!("certificate verified{name}")
    } else {
        let why = v
            .reason
            .as_deref()
            .map(|r| format!(": {}", crate::render::human::escape_str(r)))
            .unwrap_or_default();
        let enforced = if v.enforced {
            ""
        } else {
            " (not enforced: :starttls --insecure)"
        };
        format!("certificate NOT verified{name}{why}{enforced}")
    };
    format!(
        "{} {} ({} bits); {verdict}",
        crate::render::human::escape_str(&i.version),
        crate::render::human::escape_str(&i.cipher),
        i.bits
    )
}

/// Keep what a TLS handshake negotiated, as it passes on its way to the renderer.
fn keep_tls_info(e: &Event, into: &mut Option<crate::smtp::event::TlsInfo>) {
    match e {
        Event::TlsStarted { info } => *into = Some(info.clone()),
        // The certificate now in use: the renegotiation's (the session's cipher too).
        Event::TlsRenegotiated { info } => *into = Some(info.clone()),
        _ => {}
    }
}

/// A reply as `:status` shows it: `250 2.1.5 ok (RCPT, 3 ms)`, with the number of lines of a
/// multi-line one.
fn last_reply_text(reply: &crate::smtp::reply::Reply, phase: Phase, ms: f64) -> String {
    let code = reply
        .code
        .map_or("(no code)".to_string(), |c| c.to_string());
    let first = reply.lines.first().map(String::as_str).unwrap_or("");
    let more = match reply.lines.len() {
        0 | 1 => String::new(),
        n => format!(", {n} lines"),
    };
    format!(
        "{code} {} ({}{more}, {})",
        crate::render::human::escape_str(first),
        phase.label(),
        crate::render::human::latency(ms)
    )
}

/// The Date header's value and a unique Message-Id local part for a default message.
fn message_ids() -> (String, String) {
    use time::format_description::well_known::Rfc2822;
    let now = time::OffsetDateTime::now_local().unwrap_or_else(|_| time::OffsetDateTime::now_utc());
    let date = now.format(&Rfc2822).unwrap_or_default();
    let unique = format!(
        "{}.{}.{}",
        now.unix_timestamp(),
        std::process::id(),
        crate::net::tls::scram_nonce()
            .unwrap_or_default()
            .replace(['+', '/', '='], "")
    );
    (date, unique)
}

/// Read a message file, refusing anything over 64 MiB (the REPL holds it in memory): a
/// regular file by its size, before a byte of it is read ([`crate::cli::mode::read_file_capped`]).
fn read_bounded(path: &std::path::Path) -> Result<Vec<u8>, String> {
    std::fs::File::open(path)
        .and_then(|f| crate::cli::mode::read_file_capped(f, MESSAGE_MAX as u64))
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?
        .ok_or_else(|| format!("{} is over 64 MiB", path.display()))
}

/// The largest message `:data` sends, typed or `@FILE`: the send's `--data` limit.
const MESSAGE_MAX: usize = crate::cli::mode::MAX_MESSAGE_BYTES as usize;

/// The most lines a typed `:data` message holds (each is a `String` until the ".").
const TYPED_MESSAGE_LINES: usize = 1_000_000;

/// Ctrl-C while waiting for a reply: a key on the terminal (the editor reads it; in script mode
/// SIGINT keeps its default).
async fn ctrl_c(interrupt: Option<Arc<editor::Interrupt>>) {
    match interrupt {
        Some(n) => n.pressed().await,
        None => std::future::pending::<()>().await,
    }
}

/// The run's renderer behind the session's secrets: every event the REPL writes (the
/// transcript, `--json`, the `--log` copy) passes through here, whatever made it — a `sent`
/// or `received` line the core masked already, an error or note quoting a typed word, a
/// warning quoting a script's line, a `dns_query` for a `:reconnect` host from `src/net` —
/// with each secret the session has seen masked in every text it carries, in any case (a
/// DNS name or a `:set` argument is lower-cased on its way).
struct Masked {
    inner: Box<dyn Renderer>,
    completion: Arc<Mutex<CompletionData>>,
}

impl Masked {
    /// `event` with its secrets masked; `None` when it holds none (sent as it is).
    fn mask(&self, event: &Event) -> Option<Event> {
        let c = self.completion.lock().unwrap_or_else(|p| p.into_inner());
        if c.secrets.is_empty() {
            return None;
        }
        let mut masked = event.clone();
        let mut hit = false;
        masked.texts_mut(&mut |t| {
            if let Some(m) = crate::smtp::auth::redact_any_case(t.as_bytes(), &c.secrets) {
                *t = String::from_utf8_lossy(&m).into_owned();
                hit = true;
            }
        });
        hit.then_some(masked)
    }
}

impl Renderer for Masked {
    fn event(&mut self, event: &Event, elapsed: Duration) {
        let masked = self.mask(event);
        self.inner.event(masked.as_ref().unwrap_or(event), elapsed);
    }
    fn session(&mut self, id: Option<u64>) {
        self.inner.session(id);
    }
    fn finish(&mut self) {
        self.inner.finish();
    }
    fn flush(&mut self) {
        self.inner.flush();
    }
    fn reconfigure(&mut self, change: &dyn Fn(&mut crate::render::HumanOptions)) {
        self.inner.reconfigure(change);
    }
}

/// `text` with the mask in place of each secret the session saw ([`CompletionData::mask`]).
fn masked_by(completion: &Mutex<CompletionData>, text: &str) -> String {
    completion
        .lock()
        .ok()
        .and_then(|c| c.mask(text))
        .unwrap_or_else(|| text.to_string())
}

/// The widest the keyword column of `:caps` grows: wide enough for every registered EHLO
/// keyword (ENHANCEDSTATUSCODES, RFC 2034, is 19); a longer one (a hostile server's) spills
/// past it rather than pad every other line to its length.
const CAPS_COLUMN_MAX: usize = 32;

/// `:caps`: the greeting, then one keyword a line, its parameters in a column after the
/// longest keyword shown (it was a fixed 16, which ENHANCEDSTATUSCODES spilled past).
fn caps_text(c: &crate::smtp::capabilities::Capabilities) -> String {
    let width = c
        .keywords
        .iter()
        .map(|k| k.keyword.chars().count())
        .max()
        .unwrap_or(0)
        .min(CAPS_COLUMN_MAX);
    let mut t = format!("{}:", c.greeting);
    for k in &c.keywords {
        let line = format!("  {:<width$} {}", k.keyword, k.params.join(" "));
        t.push('\n');
        t.push_str(line.trim_end());
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `:caps` lines its parameters up after the longest keyword: SIZE's and AUTH's start in
    /// the same column as the one after ENHANCEDSTATUSCODES (19 characters, past the 16 the
    /// column was), and a keyword without parameters leaves no trailing blanks.
    #[test]
    fn caps_column_fits_the_longest_keyword() {
        use crate::smtp::capabilities::{Capabilities, Capability};
        let kw = |k: &str, p: &[&str]| Capability {
            keyword: k.into(),
            params: p.iter().map(|s| s.to_string()).collect(),
            raw: String::new(),
        };
        let c = Capabilities {
            greeting: "mx.example.org".into(),
            keywords: vec![
                kw("SIZE", &["10240000"]),
                kw("ENHANCEDSTATUSCODES", &[]),
                kw("AUTH", &["PLAIN", "LOGIN"]),
            ],
            auth_cut_at: None,
        };
        assert_eq!(
            caps_text(&c),
            "mx.example.org:\n  SIZE                10240000\n  ENHANCEDSTATUSCODES\n  AUTH                PLAIN LOGIN"
        );
        // A keyword longer than the cap spills; the others are not padded to its length.
        let long = "X".repeat(200);
        let c = Capabilities {
            greeting: "g".into(),
            keywords: vec![kw(&long, &["a"]), kw("SIZE", &["1"])],
            auth_cut_at: None,
        };
        let text = caps_text(&c);
        assert!(text.contains(&format!("\n  {long} a")), "{text}");
        assert!(
            text.ends_with(&format!("\n  SIZE{} 1", " ".repeat(CAPS_COLUMN_MAX - 4))),
            "{text}"
        );
    }

    #[test]
    fn typeahead_is_secret_after_an_exchange_that_did_not_authenticate() {
        // (under way, started, the last to end got 235) before and after a command.
        // AUTH LOGIN refused at once: started during the command, over, refused.
        assert!(sasl_typeahead_refused((false, 0, false), (false, 1, false)));
        // The last response refused (535), after an earlier exchange that succeeded.
        assert!(sasl_typeahead_refused((true, 1, true), (false, 1, false)));
        // A second AUTH refused with 503 while authenticated.
        assert!(sasl_typeahead_refused((false, 1, true), (false, 2, false)));
        // The exchange got its 235: what was typed ahead is the next command, also when
        // already authenticated before (a second AUTH that succeeds).
        assert!(!sasl_typeahead_refused((true, 1, false), (false, 1, true)));
        assert!(!sasl_typeahead_refused((false, 1, true), (false, 2, true)));
        // Still under way (a 334): the next prompt is a secret one anyway.
        assert!(!sasl_typeahead_refused((false, 0, false), (true, 1, false)));
        // No exchange at all, after a refused one.
        assert!(!sasl_typeahead_refused(
            (false, 3, false),
            (false, 3, false)
        ));
    }
}
