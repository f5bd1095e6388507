//! The one dispatcher: [`run`] asks `cli` for the [`Mode`] the command line means, builds the
//! async runtime and the run's one renderer (every mode's, through `render`; the REPL's over
//! the terminal it starts here), runs the mode and returns its exit code (every code comes
//! from `error.rs`). A mistake found before a renderer exists is reported here ([`refuse`]):
//! one line on stderr, and with `--json` the JSON Lines' `schema` and `summary` on stdout.
//! Every renderer's stdout and files are watched ([`Watch`]): output lost to a full disk or an
//! I/O error is said on stderr once the mode is over, its exit code standing.

use std::ffi::OsString;
use std::io::{IsTerminal, Write};

use crate::cli::Refused;
use crate::cli::mode::Mode;
use crate::error::{EXIT_OK, EXIT_PREREQ, Error};
use crate::render::check::CheckRenderer;
use crate::render::watch::Watch;
use crate::render::{self, Format, Renderer};
use crate::smtp::event::{Event, Summary};

/// Parse `args`, run the chosen mode, return the exit code; then say on stderr which output
/// could not be written ([`Watch::report`]). First of all, before any secret is read: no core
/// dump of this process ([`crate::coredump::forbid`]); and a file-size limit met is an error,
/// not the end ([`keep_file_size_errors`]).
pub(crate) fn run(args: impl IntoIterator<Item = OsString>) -> u8 {
    crate::coredump::forbid();
    keep_file_size_errors();
    let watch = Watch::default();
    let code = run_watched(args, &watch);
    watch.report();
    code
}

/// Block SIGXFSZ in this thread, and so in every thread started from it (before the runtime
/// starts its workers): a write past the file-size limit (`ulimit -f`, setrlimit(2)'s
/// RLIMIT_FSIZE) then fails with EFBIG, a write error like a full disk's, said as one
/// ([`Watch`], the REPL's history). The signal's default action ended the process in the middle
/// of the write, a REPL with its terminal left raw and its history file cut short. Blocked, not
/// ignored (which takes `unsafe` in Rust): programs ehlo starts get it unblocked, as Rust's
/// `Command` clears the signal mask in the child. A failure changes nothing: unsaid.
fn keep_file_size_errors() {
    let mut set = nix::sys::signal::SigSet::empty();
    set.add(nix::sys::signal::Signal::SIGXFSZ);
    let _ = set.thread_block();
}

fn run_watched(args: impl IntoIterator<Item = OsString>, watch: &Watch) -> u8 {
    let (mode, warned) = match crate::cli::parse(args) {
        Ok(p) => (p.mode, p.warned),
        Err(Refused::Answered(code)) => return code,
        Err(Refused::Error {
            error,
            report: Some(mode),
            warned,
            ..
        }) => return refuse_report(&error, mode, &warned, watch),
        Err(Refused::Error {
            error,
            json,
            output,
            warned,
            ..
        }) => return refuse_to(&error, json, &output, &warned, watch),
    };
    run_mode(mode, warned, watch)
}

/// Run the parsed `mode` (`warned`: what was said about the command line, see
/// [`warned_before`]). A function of its own, never inlined into [`run_watched`]: its frame
/// (the runtime, the renderers, the mode's values: about 21 KB) would otherwise already be on
/// the stack while the flag table is built, whose calls are the deepest of a run (clap's
/// derive code, frames of 12-22 KB each), and every page of that depth is a page fault: a
/// plain send touched 76 KB of stack, 60 KB since.
#[inline(never)]
fn run_mode(mode: Mode, warned: Vec<String>, watch: &Watch) -> u8 {
    match mode {
        // A dump goes where the transcript would (`--output-file*`), as swaks writes its
        // `--dump` and `--dump-mail` there.
        Mode::DumpConfig {
            what,
            text,
            json,
            output,
        } => {
            let (out, err) = match open_dump(json, &output, &warned, watch) {
                Ok(o) => o,
                Err(code) => return code,
            };
            if json {
                let mut renderer = render::make_to(&Format::Json, out, err, watch);
                warned_before(Said::Events(&mut renderer), true, &warned);
                dump_to(renderer, what, text, watch)
            } else {
                to_out(out, text.as_bytes(), watch)
            }
        }
        Mode::DumpMail {
            notes,
            message,
            json,
            output,
        } => {
            let (out, err) = match open_dump(json, &output, &warned, watch) {
                Ok(o) => o,
                Err(code) => return code,
            };
            if json {
                let mut renderer = render::make_to(&Format::Json, out, err, watch);
                warned_before(Said::Events(&mut renderer), true, &warned);
                for note in notes {
                    renderer.event(&Event::info(note), std::time::Duration::ZERO);
                }
                let text = String::from_utf8_lossy(&message).into_owned();
                return dump_to(renderer, "mail", text, watch);
            }
            // The message as it would be sent (without the transfer's dot-stuffing), nothing
            // sent; notes go to stderr so stdout stays the message.
            let mut err = err.unwrap_or_else(|| Box::new(std::io::stderr()));
            for note in &notes {
                let line = format!("=== {note}");
                let _ = writeln!(err, "{}", render::glyphs::plain(&line));
            }
            let _ = err.flush();
            to_out(out, &message, watch)
        }
        Mode::Explain { text, phase, json } => explain(&text, phase, json),
        mode => {
            // The REPL on a terminal reads SIGINT and SIGQUIT from the kernel's queue
            // (`repl::interrupts`): blocked here, before the runtime starts its threads, so
            // that none of them takes one through a handler.
            let interrupts = match &mode {
                Mode::Repl(_) if std::io::stdin().is_terminal() => crate::repl::interrupts::block(),
                _ => None,
            };
            // A one-shot send is one connection at a time: a single-threaded runtime starts
            // faster and keeps fewer pages than worker threads that would only wait. A server
            // that writes no files is one event loop too, like Postfix's smtp-sink: its
            // connections only read, parse and write, and tasks handed between two workers
            // cost a futex wake-up and a thread switch per hand-over (serving 5000 messages
            // over 20 concurrent sessions took 10% more CPU time on two workers). With a
            // Maildir or mbox, each stored message waits for its fsync; on two workers one
            // slow disk does not stall every connection. `check` and `probe` run many
            // connections at once and get two workers.
            let one_thread = match &mode {
                Mode::Send(_) => true,
                Mode::Serve(o) => o.maildir.is_none() && o.mbox.is_none(),
                _ => false,
            };
            let mut builder = if one_thread {
                tokio::runtime::Builder::new_current_thread()
            } else {
                let mut b = tokio::runtime::Builder::new_multi_thread();
                b.worker_threads(2);
                b
            };
            let runtime = match builder.enable_all().build() {
                Ok(rt) => rt,
                Err(e) => {
                    let e = Error::Prerequisite(format!("cannot start the async runtime: {e}"));
                    return refuse(&e, mode.json_lines(), &warned, watch);
                }
            };
            // Boxed: the future of every mode's run together is tens of kilobytes, and on the
            // stack, inside this frame, the compiler's stack probe touched each of its pages at
            // start (14 page faults of fresh stack in a plain send); on the heap only the
            // parts the mode in use writes are touched.
            runtime.block_on(Box::pin(dispatch(mode, &warned, interrupts, watch)))
        }
    }
}

/// Where [`warned_before`] writes: the run's renderer of events, or `check`'s and `probe`'s
/// report.
enum Said<'r> {
    Events(&'r mut Box<dyn Renderer>),
    Report(&'r mut CheckRenderer),
}

/// What was said on stderr about the command line before the mode ran (`warned`: an `EHLO_*`
/// variable left unread, an `SSL_CERT_FILE` naming no file; `cli::Parsed`), as the first
/// lines after `schema` of the mode's JSON (`json`): `warning` events, or the report's
/// `warning` lines; a JSON consumer reads only stdout. Every mode's one way to say them: the
/// human output has them on stderr only, where they were said once.
fn warned_before(to: Said<'_>, json: bool, warned: &[String]) {
    if !json {
        return;
    }
    match to {
        Said::Events(renderer) => {
            for line in warned {
                renderer.event(&Event::warning(line.clone()), std::time::Duration::ZERO);
            }
        }
        Said::Report(report) => warned.iter().for_each(|line| report.warned_before(line)),
    }
}

/// Run a mode that talks to the network (or listens on it), `warned` what [`warned_before`]
/// writes; `interrupts`: the REPL's queue of SIGINT and SIGQUIT.
async fn dispatch(
    mode: Mode,
    warned: &[String],
    interrupts: Option<nix::sys::signalfd::SignalFd>,
    watch: &Watch,
) -> u8 {
    match mode {
        Mode::Send(cfg) => {
            let json = matches!(cfg.format, Format::Json);
            let (out, err) = match open_outputs(&cfg.output, render::what(&cfg.format), watch) {
                Ok(o) => o,
                Err(e) => return refuse(&e, json, warned, watch),
            };
            let mut renderer = render::make_to(&cfg.format, out, err, watch);
            warned_before(Said::Events(&mut renderer), json, warned);
            for warning in &cfg.warnings {
                let warning = Event::warning(warning.clone());
                renderer.event(&warning, std::time::Duration::ZERO);
            }
            for (text, warning) in &cfg.unlike_swaks {
                let unlike = Event::unlike_swaks(text.clone(), *warning);
                renderer.event(&unlike, std::time::Duration::ZERO);
            }
            for note in &cfg.notes {
                let info = Event::info(note.clone());
                renderer.event(&info, std::time::Duration::ZERO);
            }
            // A question the session raises while it runs goes to the terminal, if any; an
            // answer that cannot be read is a no.
            let confirm = cfg.prompt.map(|prompt| {
                move || crate::cli::mode::plaintext_auth_confirmed(prompt).unwrap_or(false)
            });
            let confirm = confirm.as_ref().map(|f| f as &dyn Fn() -> bool);
            let mut quiet;
            let sink: &mut dyn crate::smtp::event::Sink = if cfg.suppress_data && json {
                quiet = render::SuppressBody(&mut renderer);
                &mut quiet
            } else {
                &mut renderer
            };
            let code = crate::net::driver::send_asking(
                &cfg.connect,
                cfg.plan,
                sink,
                confirm,
                cfg.deadline,
            )
            .await;
            renderer.finish();
            code
        }
        Mode::Serve(opts) => {
            // Batched: the server's rendering thread writes many lines per system call.
            let mut renderer = render::make_batched(&opts.format, watch);
            let json = matches!(opts.format, Format::Json);
            warned_before(Said::Events(&mut renderer), json, warned);
            crate::serve::run(*opts, renderer).await
        }
        Mode::Demo(format) => {
            let json = matches!(format, Format::Json);
            let mut renderer = render::make(&format, watch);
            warned_before(Said::Events(&mut renderer), json, warned);
            crate::demo::run(renderer, json).await
        }
        Mode::Repl(cfg) => repl(*cfg, warned, interrupts, watch).await,
        Mode::Replay(cfg) => {
            // `--deadline` bounds the whole run from here, the script's reading (a FIFO) too.
            let started = std::time::Instant::now();
            let wait = crate::repl::record::ScriptWait {
                idle: cfg.session.link.timeout,
                idle_named: cfg.session.timeout_named.clone(),
                deadline: cfg.deadline.map(|d| (d, started + d)),
                deadline_note: cfg.deadline_note.clone(),
            };
            let script = match crate::repl::record::load(&cfg.script, wait) {
                Ok(s) => s,
                Err(e) => return refuse(&Error::Usage(e), cfg.session.json, warned, watch),
            };
            let log = match open_log(cfg.session.log.as_deref(), watch) {
                Ok(l) => l,
                Err(e) => return refuse(&e, cfg.session.json, warned, watch),
            };
            let mut renderer = log.beside(transcript(
                render::make(&cfg.session.format(), watch),
                cfg.session.json,
            ));
            warned_before(Said::Events(&mut renderer), cfg.session.json, warned);
            crate::repl::replay(*cfg, script, renderer, started).await
        }
        Mode::Check(c) => {
            let mut renderer = CheckRenderer::new(&c, watch);
            warned_before(Said::Report(&mut renderer), c.json, warned);
            crate::check::run(*c, &mut renderer).await
        }
        Mode::Probe(c) => {
            let mut renderer = CheckRenderer::for_probe(c.color, c.json, c.fail_on, watch);
            warned_before(Said::Report(&mut renderer), c.json, warned);
            renderer.start(1);
            crate::probe::run(&c, &mut renderer).await
        }
        Mode::DumpConfig { .. } | Mode::DumpMail { .. } | Mode::Explain { .. } => {
            unreachable!("answered without a runtime")
        }
    }
}

/// A dump under `--json`: the JSON Lines of a run that sent nothing (`schema`, one `dump` event
/// with the text, a `summary` with exit 0), so that the output stays JSON Lines. They are its
/// whole result, as the text is without `--json` ([`to_stdout`]):
/// when they cannot be written, the run fails (exit 10; `watch` says why).
fn dump_to(mut renderer: Box<dyn Renderer>, what: &str, text: String, watch: &Watch) -> u8 {
    let zero = std::time::Duration::ZERO;
    renderer.event(
        &Event::Dump {
            what: what.to_string(),
            text,
        },
        zero,
    );
    renderer.event(
        &Event::Summary(Summary {
            exit_code: EXIT_OK,
            outcome: "ok".into(),
            error: None,
            server: None,
            tls: None,
            recipients: Vec::new(),
            message_accepted: None,
            timings: Vec::new(),
            failover: Vec::new(),
        }),
        zero,
    );
    renderer.finish();
    if watch.any_lost() {
        EXIT_PREREQ
    } else {
        EXIT_OK
    }
}

/// `ehlo repl`: the `--log` file first (a bad path is a usage error before the terminal is
/// touched), then the terminal (raw mode, line editor; inside the runtime, which its job-control
/// signals need), then the renderer over the terminal's console, and the session.
async fn repl(
    cfg: crate::repl::ReplConfig,
    warned: &[String],
    interrupts: Option<nix::sys::signalfd::SignalFd>,
    watch: &Watch,
) -> u8 {
    let log = match open_log(cfg.log.as_deref(), watch) {
        Ok(l) => l,
        Err(e) => return refuse(&e, cfg.json, warned, watch),
    };
    // `--record FILE` likewise: an unwritable or existing file (never replaced unasked, as
    // `:record FILE` does not) refuses the run before anything is sent.
    if let Some(path) = cfg.record.as_deref() {
        let created = private_file().create_new(true).open(path);
        if let Err(e) = created {
            let note = &cfg.record_note;
            let why = if e.kind() == std::io::ErrorKind::AlreadyExists {
                format!(
                    "--record{note}: {} exists: remove it first, or type :record! FILE in the session to replace it",
                    path.display()
                )
            } else {
                format!("--record{note}: cannot write {}: {e}", path.display())
            };
            return refuse(&Error::Usage(why), cfg.json, warned, watch);
        }
    }
    let (ui, out, err) = crate::repl::editor::Ui::start(std::io::stdin().is_terminal());
    let console = render::make_console(&cfg.format(), out, err, watch);
    let mut renderer = log.beside(transcript(console, cfg.json));
    warned_before(Said::Events(&mut renderer), cfg.json, warned);
    crate::repl::run(cfg, ui, renderer, interrupts, watch).await
}

/// The REPL's or replay's own output: JSON as is, a human transcript without the run's
/// `summary` (said as the run went; the `--log` copy keeps it).
fn transcript(renderer: Box<dyn Renderer>, json: bool) -> Box<dyn Renderer> {
    if json {
        renderer
    } else {
        render::without_summary(renderer)
    }
}

/// Report a mistake found before the mode runs (no renderer yet) and return its exit code:
/// `*** reason` on stderr, as swaks does; with `json` (the send's JSON Lines were asked for)
/// also the `schema` line and a `summary` on stdout, so that a JSON run always starts with
/// `schema` and ends with `summary` (`render::json`).
/// What was said on stderr before (`warned`, [`warned_before`]) is a `warning` line before the
/// `summary` under `--json`.
fn refuse(error: &Error, json: bool, warned: &[String], watch: &Watch) -> u8 {
    let code = error.report();
    if json {
        refusal_summary(render::make(&Format::Json, watch), error, code, warned);
    }
    code
}

/// The JSON Lines a refused run writes after its `schema` line: the `warning`s said before it
/// (`warned`), then a `summary` with the mistake's exit code, its label as the `outcome` and
/// its words as the `error`.
fn refusal_summary(mut renderer: Box<dyn Renderer>, error: &Error, code: u8, warned: &[String]) {
    warned_before(Said::Events(&mut renderer), true, warned);
    let summary = Summary {
        exit_code: code,
        outcome: error.label().to_string(),
        error: Some(error.to_string()),
        ..Summary::default()
    };
    renderer.event(&Event::Summary(summary), std::time::Duration::ZERO);
    renderer.finish();
}

/// [`refuse`] into the send's `--output-file*` streams when it names any (swaks writes a bad
/// value's complaint into its output file; a file left as it was would pass for this run's).
/// A file that cannot be opened is said on stderr, then the reason.
fn refuse_to(
    error: &Error,
    json: bool,
    output: &crate::cli::mode::OutputFiles,
    warned: &[String],
    watch: &Watch,
) -> u8 {
    if *output == crate::cli::mode::OutputFiles::default() {
        return refuse(error, json, warned, watch);
    }
    let format = if json {
        Format::Json
    } else {
        Format::Human(Default::default())
    };
    let (out, err) = match open_outputs(output, render::what(&format), watch) {
        Ok(o) => o,
        Err(e) => {
            e.report();
            return refuse(error, json, warned, watch);
        }
    };
    let code = error.exit_code();
    match err {
        Some(mut err) => {
            let _ = writeln!(err, "*** {error}");
            let _ = err.flush();
        }
        None => {
            let _ = writeln!(std::io::stderr(), "*** {error}");
        }
    }
    if json {
        refusal_summary(
            render::make_to(&Format::Json, out, None, watch),
            error,
            code,
            warned,
        );
    }
    code
}

/// [`refuse`] for `check --json` and `probe --json` (`mode`): the reason on stderr, and their
/// report's `schema`, an `error` line and the `summary` (`exit_code` the mistake's, no domain,
/// `stopped` the reason) on stdout, as a run that cannot start writes them (`render::check`);
/// for `explain --json`, its one object saying why ([`explain_refused`]).
fn refuse_report(error: &Error, mode: &'static str, warned: &[String], watch: &Watch) -> u8 {
    if mode == "explain" {
        // One object, no `warning` lines (its format has none; stderr had them).
        return explain_refused(error);
    }
    let code = error.exit_code();
    let mut report = CheckRenderer::for_mode(
        mode,
        true,
        crate::check::model::FailOn::Fail,
        watch.stdout("report"),
    );
    warned_before(Said::Report(&mut report), true, warned);
    report.refused(&error.to_string(), code);
    code
}

/// Options that create a file for writing readable by its owner only (mode 0600, as the REPL's
/// history file): a session's log or recording holds its whole dialogue — the AUTH user name,
/// the addresses, the message — though never a secret. Open with [`open_private`], which
/// narrows a file that exists too.
pub(crate) fn private_file() -> std::fs::OpenOptions {
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).mode(0o600);
    o
}

/// Open `path` with `options` ([`private_file`]'s) and narrow a regular file that others could
/// read or write to its owner's bits (0644 → 0600), as the REPL's history is narrowed when it is
/// saved: a log or recording made wider before — by hand, or by an older ehlo, which created
/// them with the umask's mode — would otherwise go on showing every later session's addresses
/// and messages to the other users. OpenSSH's `ssh -E` and bash's history create their files
/// 0600 too; ehlo also narrows one that exists, as it rewrites it. A device or FIFO (`/dev/null`,
/// `/dev/stderr`) is left alone, and so is a file ehlo may write but does not own (fchmod(2)
/// fails with EPERM: unsaid, as the file is the owner's to guard).
/// The second value says a narrowing, once, for the caller to warn of: the user must know
/// their file's mode changed (`narrowed FILE to 0600 (it was 0644)`).
pub(crate) fn open_private(
    options: &std::fs::OpenOptions,
    path: &std::path::Path,
) -> std::io::Result<(std::fs::File, Option<String>)> {
    use std::os::unix::fs::PermissionsExt as _;
    let f = options.open(path)?;
    let mut said = None;
    if let Ok(meta) = f.metadata()
        && meta.is_file()
        && meta.permissions().mode() & 0o077 != 0
    {
        let was = meta.permissions().mode() & 0o7777;
        let narrowed = meta.permissions().mode() & 0o700;
        if f.set_permissions(std::fs::Permissions::from_mode(narrowed))
            .is_ok()
        {
            said = Some(narrowed_line(path, narrowed, was));
        }
    }
    Ok((f, said))
}

/// How a private file's narrowing is said, once: `narrowed FILE to 0600 (it was 0644)`. The
/// `--log` file and recordings ([`open_private`]) and the REPL's history say it alike.
pub(crate) fn narrowed_line(path: &std::path::Path, now: u32, was: u32) -> String {
    format!(
        "narrowed {} to {now:04o} (it was {was:04o})",
        path.display()
    )
}

/// The `--log` file opened by [`open_log`], and what [`open_private`] says of it (a wider
/// mode narrowed), for the run's renderer to warn of once it is made.
struct Log {
    file: Option<Box<dyn Write + Send>>,
    narrowed: Option<String>,
}

impl Log {
    /// The renderer over `renderer` with the log's copy beside it, warned of the narrowing.
    fn beside(self, renderer: Box<dyn Renderer>) -> Box<dyn Renderer> {
        let mut renderer = with_log(renderer, self.file);
        if let Some(said) = self.narrowed {
            renderer.event(&Event::warning(said), std::time::Duration::ZERO);
        }
        renderer
    }
}

/// Open (truncate) the REPL's or replay's `--log FILE`, watched by `watch`.
fn open_log(path: Option<&std::path::Path>, watch: &Watch) -> Result<Log, Error> {
    let Some(path) = path else {
        return Ok(Log {
            file: None,
            narrowed: None,
        });
    };
    let (f, narrowed) = open_private(private_file().truncate(true), path)
        .map_err(|e| Error::Usage(format!("cannot write the log {}: {e}", path.display())))?;
    let f = watch.watched_file("log", path.display().to_string(), f);
    Ok(Log {
        file: Some(Box::new(std::io::LineWriter::new(f))),
        narrowed,
    })
}

/// The run's renderer, and beside it every event as JSON Lines into the `--log` file.
fn with_log(renderer: Box<dyn Renderer>, log: Option<Box<dyn Write + Send>>) -> Box<dyn Renderer> {
    match log {
        Some(file) => render::tee(renderer, render::json_copy(file)),
        None => renderer,
    }
}

type OutStream = Option<Box<dyn Write + Send>>;

/// A dump's (`--dump`, `--dump-mail`) streams: its `--output-file*` opened as the format
/// `json` chooses would open them, or the refusal's exit code (said through [`refuse`]).
fn open_dump(
    json: bool,
    output: &crate::cli::mode::OutputFiles,
    warned: &[String],
    watch: &Watch,
) -> Result<(OutStream, OutStream), u8> {
    let format = if json {
        Format::Json
    } else {
        Format::Human(Default::default())
    };
    open_outputs(output, render::what(&format), watch).map_err(|e| refuse(&e, json, warned, watch))
}

/// Open the `--output-file*` files for appending, as swaks opens them (`>>`): a run's lines
/// go after an earlier run's, none lost. One file for both streams is opened once so their
/// lines interleave in order. `&STDOUT` / `&STDERR` are the process's own streams.
/// Stdout and the files, carrying `what`, are watched by `watch`.
fn open_outputs(
    o: &crate::cli::mode::OutputFiles,
    what: &'static str,
    watch: &Watch,
) -> Result<(OutStream, OutStream), Error> {
    use std::path::Path;
    let cannot =
        |p: &Path, e: std::io::Error| Error::Usage(format!("cannot write {}: {e}", p.display()));
    let special = |p: &Path| -> Option<Box<dyn Write + Send>> {
        match p.to_str() {
            Some("&STDOUT") => Some(watch.stdout(what)),
            Some("&STDERR") => Some(Box::new(std::io::stderr())),
            _ => None,
        }
    };
    let open = |p: &Path| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)
            .map_err(|e| cannot(p, e))
    };
    // A file of ehlo's own: cut back to its last whole line at its first write error, as the
    // log and a recording are (a write past `ulimit -f` stores the part of a line that fitted).
    let line_writer = |w: Box<dyn Write + Send>| -> Box<dyn Write + Send> {
        Box::new(std::io::LineWriter::new(w))
    };
    let file = |p: &Path, f: std::fs::File| {
        line_writer(watch.watched_file(what, p.display().to_string(), f))
    };
    let is_special = |p: &Path| matches!(p.to_str(), Some("&STDOUT" | "&STDERR"));
    let (out, err): (OutStream, OutStream) = match (&o.stdout, &o.stderr) {
        // The same file for both streams: one handle, shared, so the lines interleave in
        // order and one cut point serves both.
        (Some(p), Some(q)) if p == q && !is_special(p) => {
            let f = open(p)?;
            let (a, b) = watch
                .watched_file_twice(what, p.display().to_string(), f)
                .map_err(|e| cannot(p, e))?;
            (Some(line_writer(a)), Some(line_writer(b)))
        }
        (out, err) => {
            let out = match out {
                None => None,
                Some(p) => Some(match special(p) {
                    Some(s) => s,
                    None => file(p, open(p)?),
                }),
            };
            let err = match err {
                None => None,
                Some(p) => Some(match special(p) {
                    Some(s) => s,
                    None => file(p, open(p)?),
                }),
            };
            (out, err)
        }
    };
    Ok((out, err))
}

/// Largest input `ehlo explain -` reads from stdin (a bounce is a few kilobytes).
const MAX_EXPLAIN_INPUT: u64 = 1 << 20;

/// `ehlo explain`: no connection, no runtime; the same engine as the transcript. With `json`,
/// stdout gets one object whatever happens: the report, or why there is none
/// ([`explain_refused`]).
fn explain(words: &[String], phase: Option<crate::smtp::event::Phase>, json: bool) -> u8 {
    use std::io::Read;
    let refused = |e: Error| {
        if json {
            explain_refused(&e)
        } else {
            e.report()
        }
    };
    let input = if words.len() == 1 && words[0] == "-" {
        let read = |buf: &mut Vec<u8>| {
            std::io::stdin()
                .lock()
                .take(MAX_EXPLAIN_INPUT)
                .read_to_end(buf)
                .map(drop)
        };
        let mut buf = Vec::new();
        let got = if json {
            read_or_signal(read).map(|b| buf = b)
        } else {
            read(&mut buf).map_err(|e| Error::Prerequisite(format!("cannot read stdin: {e}")))
        };
        if let Err(e) = got {
            return refused(e);
        }
        // A byte that is not UTF-8 as the transcript shows it (`\xFF`), not U+FFFD.
        crate::smtp::reply::text_of(&buf).into_owned()
    } else {
        words.join(" ")
    };
    let Some(found) = crate::smtp::explain::analyse(&input, phase) else {
        return refused(Error::Usage(
            "no SMTP reply code in the input: give a reply (550 5.1.1 User unknown), a bounce's \
             diagnostic line, or a code (550, 5.7.1)"
                .into(),
        ));
    };
    let text = if json {
        match crate::render::explain::json_line(&found) {
            Ok(t) => t,
            Err(e) => return Error::Prerequisite(format!("cannot encode JSON: {e}")).report(),
        }
    } else {
        // The report in ASCII when the locale is not UTF-8; JSON stays UTF-8.
        let text =
            crate::render::explain::report_text(&found, crate::render::remedy::FrontEnd::Send);
        crate::render::glyphs::plain(&text).into_owned()
    };
    explain_out(&text)
}

/// `ehlo explain --json -`'s stdin, read by `read` on a thread of its own while this one
/// watches for SIGINT, SIGTERM and SIGHUP (blocked, read from a signalfd as the REPL reads
/// its own): a stdin that never ends (a stalled pipe, a terminal) and a cancelled CI job then
/// end with the one JSON line saying so (`interrupted`, 128+N) as every mode's JSON ends,
/// where the signal's default action left stdout empty. `Err`: why there is no input.
fn read_or_signal(
    read: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()> + Send + 'static,
) -> Result<Vec<u8>, Error> {
    use nix::sys::signal::{SigSet, Signal};
    use nix::sys::signalfd::{SfdFlags, SignalFd};
    let cannot = |e: std::io::Error| Error::Prerequisite(format!("cannot read stdin: {e}"));
    let mut set = SigSet::empty();
    for s in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        set.add(s);
    }
    let signals = set.thread_block().ok().and_then(|()| {
        SignalFd::with_flags(&set, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC).ok()
    });
    let Some(signals) = signals else {
        // Nothing blocked (or unblocked again): the signals keep their default action.
        let _ = set.thread_unblock();
        let mut buf = Vec::new();
        return read(&mut buf).map(|()| buf).map_err(cannot);
    };
    let (tx, rx) = std::sync::mpsc::channel();
    // Started after the signals were blocked: the reader never takes one either.
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = tx.send(read(&mut buf).map(|()| buf));
    });
    loop {
        match rx.recv_timeout(std::time::Duration::from_millis(50)) {
            Ok(read) => return read.map_err(cannot),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                return Err(cannot(std::io::Error::other("the reader stopped")));
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
        }
        if let Ok(Some(info)) = signals.read_signal() {
            use crate::error::Ending;
            let ending = match info.ssi_signo {
                n if n == Signal::SIGTERM as u32 => Ending::Term,
                n if n == Signal::SIGHUP as u32 => Ending::Hup,
                _ => Ending::Int,
            };
            return Err(Error::Signalled(ending));
        }
    }
}

/// `ehlo explain --json` with no report to give (`error`: input without a code, a command line
/// refused once its flags are parsed, stdin unreadable): the `*** ` line on stderr, and on
/// stdout the one object saying why, with the exit code, as every mode's JSON ends; returns
/// the exit code.
fn explain_refused(error: &Error) -> u8 {
    let code = error.report();
    match explain_out(&crate::render::explain::json_refusal(error)) {
        EXIT_OK => code,
        failed => failed,
    }
}

/// Write `ehlo explain`'s output `text` and its newline to stdout: exit 0, or 10 when it
/// cannot be written (a closed pipe is success, `| head`).
fn explain_out(text: &str) -> u8 {
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Error::Prerequisite(format!("cannot write to stdout: {e}")).report()
        }
        _ => EXIT_OK,
    }
}

/// Write `bytes` to stdout. A closed stdout (`| head`) is success, as in ripgrep.
fn to_stdout(bytes: &[u8]) -> u8 {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Error::Prerequisite(format!("cannot write to stdout: {e}")).report()
        }
        _ => EXIT_OK,
    }
}

/// [`to_stdout`], or into the `--output-file*` stream `out` when there is one (`watch` says
/// why a write failed; the run then fails, exit 10, as for stdout).
fn to_out(out: Option<Box<dyn Write + Send>>, bytes: &[u8], watch: &Watch) -> u8 {
    let Some(mut out) = out else {
        return to_stdout(bytes);
    };
    let written = out.write_all(bytes).and_then(|()| out.flush());
    drop(out);
    match written {
        Err(e) if !watch.any_lost() => {
            Error::Prerequisite(format!("cannot write the output file: {e}")).report()
        }
        _ if watch.any_lost() => EXIT_PREREQ,
        _ => EXIT_OK,
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::OsString;

    #[test]
    fn run_can_be_called_more_than_once() {
        let args = || {
            [
                "ehlo",
                "--dump-mail",
                "-t",
                "a@example.test",
                "--body",
                "twice",
            ]
            .map(OsString::from)
        };
        assert_eq!(crate::run(args()), 0);
        assert_eq!(crate::run(args()), 0);
        let bad = || ["ehlo", "--no-such-flag"].map(OsString::from);
        assert_eq!(crate::run(bad()), 1);
        assert_eq!(crate::run(bad()), 1);
        let usage = || ["ehlo", "-s", "h"].map(OsString::from);
        assert_eq!(crate::run(usage()), 1);
        assert_eq!(crate::run(usage()), 1);
    }
}
