//! Output: every event goes through exactly one [`Renderer`], human ([`human`]) or JSON Lines
//! ([`json`]). Renderers never steer the protocol; what they write to stdout or a file goes
//! through a [`watch::Watch`], which keeps a write error (a full disk) to be said after the run
//! and lets a closed stdout (`| head`) pass quietly.

pub(crate) mod behind;
pub(crate) mod check;
#[cfg(test)]
pub(crate) mod doc_table;
pub(crate) mod explain;
pub(crate) mod glyphs;
pub(crate) mod human;
pub(crate) mod json;
pub(crate) mod junit;
pub(crate) mod remedy;
pub(crate) mod style;
#[cfg(test)]
pub(crate) mod test_sink;
pub(crate) mod watch;

use std::time::Duration;

use crate::smtp::event::{Event, Sink};
use watch::Watch;

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour when the stream is a terminal (honours NO_COLOR, CLICOLOR, CLICOLOR_FORCE, TERM=dumb).
    #[default]
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// `--explain`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ExplainLevel {
    /// Explain every reply.
    All,
    /// Explain errors and unusual replies (the default).
    #[default]
    Errors,
    /// Explain nothing.
    None,
}

/// How the human transcript looks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HumanOptions {
    /// Colour choice.
    pub color: ColorChoice,
    /// Which replies get explanations.
    pub explain: ExplainLevel,
    /// `--show-time-lapse`: `None` off, `Some(false)` fractional, `Some(true)` whole seconds.
    pub time_lapse: Option<bool>,
    /// `--suppress-data`: print "N lines sent" instead of the message.
    pub suppress_data: bool,
    /// `--silent`: 0 normal; 1 nothing until the first error, then everything; 2 errors only;
    /// 3 nothing.
    pub silent: u8,
    /// `--show-raw-text`: hex dump of every read and write.
    pub show_raw: bool,
    /// Print the swaks hint prefixes (`===`, ` ->`, `<- `…).
    pub hints: bool,
    /// `--hide-send`, `--hide-receive`, `--hide-informational`, `--hide-all`: kinds of line not
    /// printed at all.
    pub hide: Kinds,
    /// `--no-send-hints`, `--no-receive-hints`, `--no-info-hints`: kinds of line printed without
    /// their hint prefix (`hints: false` drops them all).
    pub bare: Kinds,
    /// The REPL: hints name its commands (`:starttls --ca FILE`), not the one-shot send's flags.
    pub repl: bool,
    /// `ehlo replay` (with `repl`): its TLS hints name replay's flags (`--tls-ca-path`), which
    /// set what the script's `:starttls` steps check against.
    pub replay: bool,
    /// The send's command line was typed in swaks's spelling (a single-dash long option such as
    /// `-tls` or `-au`): its hints name the flags so (`add -tls`), which swaks takes too.
    pub swaks_spelling: bool,
    /// Wrap ehlo's own lines (`===`, `!!!`, `***`, explanations) wider than this many columns,
    /// continuation lines under the same hint, indented ([`human`]); lines of the wire (sent,
    /// received, hex dumps) are never cut. `ehlo demo` reads at 80 columns; a send's transcript
    /// stays one event a line for scripts (`None`).
    pub wrap: Option<usize>,
}

/// Kinds of transcript line, as swaks splits them for its hide and no-hint options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Kinds {
    /// Lines sent (` ->`, `**>`, ` ~>`, and the `  >` hex dump).
    pub(crate) send: bool,
    /// Replies received (`<- `, `<**`, `<~ `, the `<  ` hex dump, their explanations).
    pub(crate) receive: bool,
    /// ehlo's own information (`===`, `!!!`).
    pub(crate) info: bool,
    /// ehlo's own errors (`***`): only `--hide-all` hides them; `--no-info-hints` bares them.
    pub(crate) errors: bool,
}

impl Default for HumanOptions {
    fn default() -> Self {
        HumanOptions {
            color: ColorChoice::Auto,
            explain: ExplainLevel::Errors,
            time_lapse: None,
            suppress_data: false,
            silent: 0,
            show_raw: false,
            hints: true,
            hide: Kinds::default(),
            bare: Kinds::default(),
            repl: false,
            replay: false,
            swaks_spelling: false,
            wrap: None,
        }
    }
}

/// Which renderer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    /// The annotated transcript.
    Human(HumanOptions),
    /// JSON Lines on stdout.
    Json,
}

/// Consumes events. `elapsed` is the time since the run started.
pub trait Renderer: Send {
    /// Render one event.
    fn event(&mut self, event: &Event, elapsed: Duration);
    /// `ehlo serve`: the events that follow belong to this connection (`None`: to the server
    /// itself). JSON puts it on each line as `session`; the transcript says it with a `session
    /// N` line instead.
    fn session(&mut self, _id: Option<u64>) {}
    /// Flush anything buffered (silent mode 1 keeps lines until an error).
    fn finish(&mut self) {}
    /// Write out what a batched renderer ([`make_batched`]) holds; no-op otherwise.
    fn flush(&mut self) {}
    /// Change the transcript's look mid-run (the REPL's `:set explain`, `:set echo`); a
    /// renderer without those options (JSON) ignores it.
    fn reconfigure(&mut self, _change: &dyn Fn(&mut HumanOptions)) {}
}

/// The run's renderer is its event sink: the driver writes to a [`Sink`], not to `render`.
/// `-n`/`--suppress-data` for JSON Lines: each `sent` event of the message body reaches `sink`
/// with its `text` empty (its `bytes` and `lines` kept), as the human transcript prints
/// "N lines sent" instead of the message.
pub(crate) struct SuppressBody<'a>(pub(crate) &'a mut dyn Sink);

impl Sink for SuppressBody<'_> {
    fn event(&mut self, event: &Event, elapsed: std::time::Duration) {
        match event {
            Event::Sent {
                kind: crate::smtp::event::SentKind::Body,
                text,
                ..
            } if !text.is_empty() => {
                let mut quiet = event.clone();
                if let Event::Sent { text, .. } = &mut quiet {
                    text.clear();
                }
                self.0.event(&quiet, elapsed);
            }
            _ => self.0.event(event, elapsed),
        }
    }
}

impl Sink for Box<dyn Renderer> {
    fn event(&mut self, event: &Event, elapsed: Duration) {
        Renderer::event(self.as_mut(), event, elapsed)
    }
}

pub(crate) use crate::smtp::escape::invisible_format;

/// One renderer made of two: every event goes to `first`, then to `second` (the REPL's
/// transcript and its `--log` JSON copy).
pub(crate) fn tee(first: Box<dyn Renderer>, second: Box<dyn Renderer>) -> Box<dyn Renderer> {
    Box::new(Tee(first, second))
}

struct Tee(Box<dyn Renderer>, Box<dyn Renderer>);

impl Renderer for Tee {
    fn event(&mut self, event: &Event, elapsed: Duration) {
        self.0.event(event, elapsed);
        self.1.event(event, elapsed);
    }
    fn session(&mut self, id: Option<u64>) {
        self.0.session(id);
        self.1.session(id);
    }
    fn finish(&mut self) {
        self.0.finish();
        self.1.finish();
    }
    fn flush(&mut self) {
        self.0.flush();
        self.1.flush();
    }
    fn reconfigure(&mut self, change: &dyn Fn(&mut HumanOptions)) {
        self.0.reconfigure(change);
        self.1.reconfigure(change);
    }
}

/// `renderer` without the `summary` event: the REPL's and replay's transcript, which has said
/// how the run went as it went (their `--log` JSON copy keeps it).
pub(crate) fn without_summary(renderer: Box<dyn Renderer>) -> Box<dyn Renderer> {
    Box::new(WithoutSummary(renderer))
}

struct WithoutSummary(Box<dyn Renderer>);

impl Renderer for WithoutSummary {
    fn event(&mut self, event: &Event, elapsed: Duration) {
        if !matches!(event, Event::Summary(_)) {
            self.0.event(event, elapsed);
        }
    }
    fn session(&mut self, id: Option<u64>) {
        self.0.session(id);
    }
    fn finish(&mut self) {
        self.0.finish();
    }
    fn flush(&mut self) {
        self.0.flush();
    }
    fn reconfigure(&mut self, change: &dyn Fn(&mut HumanOptions)) {
        self.0.reconfigure(change);
    }
}

/// [`make`], but stdout is buffered and handed over only on [`Renderer::flush`] (or a full
/// batch): for `ehlo serve`, whose rendering thread flushes whenever it has no event waiting, so
/// a busy server writes many lines per system call and an idle one shows everything at once.
/// The writing is done by a thread of its own ([`behind`]), which drops (and counts) what a
/// stdout nobody reads cannot take instead of holding up the server. Stdout is watched by
/// `watch` (under the queue, so that the write that fails is seen).
pub(crate) fn make_batched(format: &Format, watch: &Watch) -> Box<dyn Renderer> {
    // Gathered and written by a thread of its own (`behind`): a stdout nobody reads must not
    // hold up the server's connections.
    // Stderr (human errors) goes through the same thread, in order with stdout: a stderr
    // nobody reads must not hold it up either.
    let (out, err) = behind::behind_both(what(format), watch.stdout(what(format)));
    match format {
        Format::Human(opts) => {
            style::configure(opts.color, false);
            let mut h = human::Human::new(opts.clone(), out, err);
            h.batched = true;
            Box::new(h)
        }
        Format::Json => {
            style::configure(ColorChoice::Never, true);
            drop(err);
            let mut j = json::Json::new(out);
            j.batched = true;
            Box::new(j)
        }
    }
}

/// What a renderer of `format` writes, as [`Watch`] names it: `transcript` or `JSON Lines`.
pub(crate) fn what(format: &Format) -> &'static str {
    match format {
        Format::Human(_) => "transcript",
        Format::Json => "JSON Lines",
    }
}

/// Build the renderer for `format`, writing to stdout, watched by `watch` (and stderr for human
/// errors). Also makes the run's colour decision ([`style::configure`]); `--json` turns colour
/// off.
pub(crate) fn make(format: &Format, watch: &Watch) -> Box<dyn Renderer> {
    make_to(format, None, None, watch)
}

/// [`make`] with the transcript's two streams sent elsewhere (`--output-file*`, watched by the
/// caller); `None` keeps stdout (watched by `watch`) / stderr. A file is never coloured under
/// `--color auto`.
pub(crate) fn make_to(
    format: &Format,
    out: Option<Box<dyn std::io::Write + Send>>,
    err: Option<Box<dyn std::io::Write + Send>>,
    watch: &Watch,
) -> Box<dyn Renderer> {
    let redirected = out.is_some() || err.is_some();
    let out = out.unwrap_or_else(|| watch.stdout(what(format)));
    let err = err.unwrap_or_else(|| Box::new(std::io::stderr()));
    build(format, out, err, redirected)
}

/// The REPL's renderer, writing to its console: on a terminal the line editor's two writers
/// (lines printed above the prompt, on the terminal itself), from a pipe stdout and stderr. The
/// console is the terminal, so unlike [`make_to`]'s files it is coloured under `--color auto`
/// exactly when stdout / stderr would be. Makes the run's colour decision as [`make`] does;
/// `out` (stdout, or the terminal it is) is watched by `watch`.
pub(crate) fn make_console(
    format: &Format,
    out: Box<dyn std::io::Write + Send>,
    err: Box<dyn std::io::Write + Send>,
    watch: &Watch,
) -> Box<dyn Renderer> {
    let out = watch.watched(what(format), "stdout", out);
    build(format, out, err, false)
}

/// Make the colour decision and build the renderer; `to_file`: the streams are files, never
/// coloured under `--color auto`.
fn build(
    format: &Format,
    out: Box<dyn std::io::Write + Send>,
    err: Box<dyn std::io::Write + Send>,
    to_file: bool,
) -> Box<dyn Renderer> {
    match format {
        Format::Human(opts) => {
            style::configure(opts.color, false);
            let mut opts = opts.clone();
            if opts.color == ColorChoice::Auto && to_file {
                opts.color = ColorChoice::Never;
            }
            Box::new(human::Human::new(opts, out, err))
        }
        Format::Json => {
            style::configure(ColorChoice::Never, true);
            Box::new(json::Json::new(out))
        }
    }
}

/// A JSON Lines copy of every event into `out` (the REPL's `--log FILE`), to [`tee`] beside the
/// run's renderer. Part of that renderer, not a second one: it makes no colour decision.
pub(crate) fn json_copy(out: Box<dyn std::io::Write + Send>) -> Box<dyn Renderer> {
    Box::new(json::Json::new(out))
}

/// A renderer that drops every event: for a server embedded in another mode whose transcript
/// nobody sees (the demo's). Writes nothing and makes no colour decision, so it is never a
/// second renderer of the run.
pub(crate) fn discard() -> Box<dyn Renderer> {
    Box::new(Discard)
}

struct Discard;

impl Renderer for Discard {
    fn event(&mut self, _event: &Event, _elapsed: Duration) {}
}

/// A test's environment: `pairs` as the variable lookup `glyphs` and `style` read the locale
/// and colour variables through, every other variable unset.
#[cfg(test)]
pub(crate) fn env_of(
    pairs: &'static [(&'static str, &'static str)],
) -> impl Fn(&str) -> Option<String> {
    move |k| {
        pairs
            .iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| (*v).to_string())
    }
}
