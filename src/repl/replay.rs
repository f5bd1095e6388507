//! Running a recording (`ehlo replay FILE`, `:replay FILE`): each input through the REPL's
//! engine, each reply checked against the script's expectations (codes, `x` wildcards,
//! enhanced codes), one `replay_mismatch` event per difference, `--keep-going` and its table of
//! every mismatch, and the run's summary in JSON mode. The exit code is the failing phase's
//! (`error.rs`).

use std::sync::{Arc, Mutex};

use super::editor::{CompletionData, Ui};
use super::record::{Expect, Script};
use super::{Ended, Engine, Feed, Flow, ReplayConfig, Seen};
use crate::error::{EXIT_OK, EXIT_USAGE, Error};
use crate::render::Renderer;
use crate::smtp::event::{Event, Phase, Summary, plural_s};

/// Run a recording (`script`, loaded by the dispatcher, `app`, with [`super::record::load`]) against
/// a server, rendering through `sink` (the run's renderer, with the `--log` copy when asked);
/// fail with the phase's exit code when a reply differs. `--deadline` counts from `started`
/// (before the script was read).
pub(crate) async fn replay(
    cfg: ReplayConfig,
    mut script: Script,
    sink: Box<dyn Renderer>,
    started: std::time::Instant,
) -> u8 {
    script.any_file = cfg.any_file;
    let completion = Arc::new(Mutex::new(CompletionData::default()));
    let mut engine = Engine::new(cfg.session, sink, completion);
    engine.keep_going = cfg.keep_going;
    // SIGINT, SIGTERM (a CI job cancelled, timeout(1)) and SIGHUP end the replay as they end
    // a send: no more steps, the summary, 128 + the signal's number.
    let mut signals = crate::net::driver::RunSignals::listen();
    // `--deadline` bounds the whole replay as it bounds a send: no more steps, no QUIT.
    let until = cfg
        .deadline
        .map(|d| (d, tokio::time::Instant::from_std(started) + d));
    let past = async {
        match until {
            Some((_, at)) => tokio::time::sleep_until(at).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = engine.run_script(&script, true, None) => {}
        sig = crate::net::driver::RunSignals::next(&mut signals) => {
            engine.say(&format!("*** {sig}: leaving"));
            engine.end(Ended::from_error(&Error::Signalled(sig)));
        }
        () = past => {
            let e = engine.deadline_cut(until.map(|(d, _)| d).unwrap_or_default());
            engine.say(&format!("*** {e}"));
            engine.end(Ended::from_error(&e));
        }
    }
    engine.close_quietly().await;
    engine.summary();
    engine.sink.finish();
    engine.exit_code()
}

/// How long replay waits for a `~` reply when `--timeout` is 0 (none).
const UNASKED_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// One difference, for the `--keep-going` table.
#[derive(Debug, Clone)]
pub(super) struct Mismatch {
    line: usize,
    command: String,
    expected: String,
    got: String,
    /// The exit code it means, and the one-line reason.
    code: u8,
    reason: String,
}

impl Engine {
    /// A replay `--deadline` (`limit`) cut: in the phase of the reply awaited, or of the last
    /// command (connecting before the session: exit 2), with that phase's timeout code. Said
    /// as the send says it, by the step ("while waiting for the reply to RCPT"), and the
    /// script line that step came from.
    fn deadline_cut(&self, limit: std::time::Duration) -> Error {
        let session = self.session.as_ref().filter(|_| self.connected());
        let phase = session.map_or(Phase::Connect, |s| s.phase());
        let step = match session {
            None if self.session.is_none() => "while connecting".to_string(),
            None => "after the connection closed".to_string(),
            Some(s) if s.awaiting_reply() && phase == Phase::Banner => {
                "while waiting for the banner".to_string()
            }
            // What the step's reply answers, in the send's words, as the session knows it:
            // the typed verb (NOOP, VRFY: commands in no phase are named too), the message,
            // or the command of a meta-command's exchange (`:starttls`: STARTTLS).
            Some(s) if s.awaiting_reply() => {
                format!("while waiting for the reply to {}", s.answered())
            }
            Some(_) if phase == Phase::Banner => "after the banner".to_string(),
            Some(s) => format!("after the reply to {}", s.answered()),
        };
        let at = match self.replay_line {
            0 => step,
            n => format!("{step}, line {n} of the script"),
        };
        Error::Deadline {
            phase,
            limit,
            at,
            unsure_delivery: phase == Phase::Dot
                && session.is_some_and(|s| s.message_accepted().is_none()),
        }
    }

    /// Run a recording: connect (standalone replay) or use the current connection (`:replay`),
    /// check every reply. Returns 0 or the exit code of the first difference, as the run's
    /// ending ([`Engine::end`]) says; with `--keep-going` every step runs and a table of every
    /// difference ends the run.
    pub(super) async fn run_script(
        &mut self,
        script: &Script,
        standalone: bool,
        ui: Option<&mut Ui>,
    ) -> u8 {
        // `:replay` is refused while a script runs, so this run is the only one.
        self.mismatches.clear();
        self.replaying = true;
        let code = self.run_steps(script, standalone, ui).await;
        self.replaying = false;
        code
    }

    async fn run_steps(
        &mut self,
        script: &Script,
        standalone: bool,
        mut ui: Option<&mut Ui>,
    ) -> u8 {
        for w in &script.warnings {
            self.emit(Event::warning(format!("replay: {w}")));
        }
        self.replay_line = 0;
        if standalone {
            let mut feed = Feed::Lines {
                lines: super::record::BodyLines::default(),
                ui: ui.as_deref_mut(),
            };
            if let Err(e) = self.connect(&mut feed, true, true).await {
                return self.end(e);
            }
            let banner = self.await_unasked(0, &script.banner).await;
            if !banner.is_empty() && self.check(0, "(banner)", banner).is_some() && !self.keep_going
            {
                return self.end_on_mismatch();
            }
        } else if let Some(first) = script.banner.first() {
            // `:replay` in a session: its banner came before the script ran. Said, not
            // passed over in silence as if it had matched.
            self.say(&format!(
                "replay: line {}: the script's banner ({}) is not checked: this session's came before the script ran (`ehlo replay FILE` checks it)",
                first.lineno,
                show(script.banner.iter().map(ToString::to_string))
            ));
        }
        // A script too large to hold is read again as it runs: a step of it at a time.
        for step in script.each_step() {
            let mut step = match step {
                Ok(step) => step,
                // The file changed or went away since it was checked: no more steps.
                Err(e) => {
                    self.error(format!("replay: {e}"));
                    self.fail(EXIT_USAGE, "failed", Some(e));
                    return match self.failed.take() {
                        Some(failed) => self.end(failed),
                        None => EXIT_USAGE,
                    };
                }
            };
            self.replay_line = step.lineno;
            let mut feed = Feed::Lines {
                lines: std::mem::take(&mut step.body).into_lines(),
                ui: ui.as_deref_mut(),
            };
            self.failed = None;
            // The replies of the steps before (the banner) are not this step's: a step refused
            // before it was sent said "got 220, then failed".
            self.seen.clear();
            let writes = self.session.as_ref().map(|s| s.writes());
            // Typed content of a DATA is no meta-command, whatever it starts with.
            let in_data = self.session.as_ref().is_some_and(|s| s.state().in_data);
            // The step as every output names it: a hand-written secret (an AUTH's initial
            // response, a SASL response) masked as its `sent` event is, and a line the REPL
            // refuses as no command (a password at the wrong prompt) not repeated, as the
            // REPL does not repeat it.
            let verb = step.input.split_whitespace().next().unwrap_or("");
            let no_command = !in_data
                && !self.expects_secret()
                && !verb.starts_with(':')
                && super::meta::cannot_be_command(
                    verb,
                    self.session.as_ref().and_then(|s| s.capabilities()),
                );
            let shown = if no_command {
                "(a non-command: not repeated)".to_string()
            } else {
                shown_input(&step.input, self.expects_secret())
            };
            // A relative `:data @FILE` names a file beside the script, not in the current
            // directory.
            let input = if in_data {
                step.input.clone()
            } else {
                beside_script(script, &step.input)
            };
            let refused = (!in_data).then(|| refused_step(script, &input)).flatten();
            let flow = match refused {
                Some(why) => {
                    self.seen.clear();
                    self.error(format!("replay: line {}: {why}", step.lineno));
                    self.fail(EXIT_USAGE, "failed", Some(why));
                    Flow::Continue
                }
                None => Box::pin(self.execute(&input, &mut feed)).await,
            };
            // A step that failed here, before sending anything (`:data @FILE` unreadable,
            // `:send` without an envelope), while the connection is up and replies were
            // expected: a local error (exit 1), not the last command's phase.
            let local = self
                .failed
                .as_ref()
                .is_none_or(|f| f.code == EXIT_USAGE && f.label == "failed");
            if local
                && !step.expect.is_empty()
                && self.seen.is_empty()
                && self
                    .session
                    .as_ref()
                    .is_some_and(|s| !s.is_closed() && Some(s.writes()) == writes)
            {
                let why = format!("`> {shown}` failed before sending anything (the error above)");
                if !self.keep_going {
                    self.error(format!(
                        "replay: line {}: {why}: exit {EXIT_USAGE}",
                        step.lineno
                    ));
                }
                self.fail(EXIT_USAGE, "failed", Some(why));
            }
            if let Some(mut failed) = self.failed.take() {
                // The step could not run at all (a secret nobody can give), or failed past its
                // replies (a TLS handshake): its phase's code. The summary's `error` names the
                // step's line, as the `error` event and a mismatch's reason do (it did not).
                if !self.keep_going {
                    failed.reason = failed.reason.map(|why| at_line(step.lineno, why));
                    return self.end(failed);
                }
                // A `:starttls` that did not end in TLS: even `--keep-going` sends nothing
                // more (it would go in plain text), however it failed (refused, not
                // advertised, no reply, a failed handshake: all STARTTLS's code).
                let stop = failed.code == crate::error::phase_exit_code(Phase::StartTls);
                let expected = show(step.expect.iter().map(ToString::to_string));
                let (got, why) = match failed.reason {
                    Some(why) if self.seen.is_empty() => ("(not sent)".to_string(), why),
                    Some(why) => (
                        format!(
                            "{}, then failed",
                            show(self.seen.iter().map(|s| s.code.to_string()))
                        ),
                        why,
                    ),
                    None => ("(not sent)".to_string(), "not sent".to_string()),
                };
                self.mismatches.push(Mismatch {
                    line: step.lineno,
                    command: shown.clone(),
                    expected,
                    got,
                    code: failed.code,
                    reason: at_line(step.lineno, why),
                });
                if stop {
                    break;
                }
            } else {
                let expect = self.await_unasked(step.lineno, &step.expect).await;
                if self.check(step.lineno, &shown, expect).is_some() && !self.keep_going {
                    return self.end_on_mismatch();
                }
            }
            if flow == Flow::Quit {
                break;
            }
        }
        if self.mismatches.is_empty() {
            let n = script.step_count();
            self.say(&format!(
                "replay: {n} step{}, every reply as recorded",
                plural_s(n)
            ));
            return EXIT_OK;
        }
        let table = mismatch_table(&self.mismatches, script.step_count());
        // The table is for people; JSON consumers have had one event per mismatch.
        if !self.cfg.json {
            self.say(&table);
        }
        self.end_on_mismatch()
    }

    /// Wait for the replies a step's `~` lines (at its end) expect to come unasked, up to the
    /// timeout (they came while the REPL waited for input: a 421 before a close, a late
    /// reply), unless they are in already. Returns the expectations to check: all of them, or
    /// without the `~` ones that did not come (a note says so: a server that closed an idle
    /// session does not, when the script runs without pauses).
    async fn await_unasked<'e>(&mut self, lineno: usize, expected: &'e [Expect]) -> &'e [Expect] {
        let unasked = expected.iter().rev().take_while(|e| e.unasked).count();
        if unasked == 0 || self.seen.len() >= expected.len() {
            return expected;
        }
        let wait = if self.timeout().is_zero() {
            UNASKED_WAIT
        } else {
            self.timeout()
        };
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            self.pump_out().await;
            let closed = self.session.as_ref().is_none_or(|s| s.is_closed());
            if self.seen.len() >= expected.len() || closed || self.conn.is_none() {
                break;
            }
            match tokio::time::timeout_at(deadline, self.read_some()).await {
                Ok(n) => self.on_read(n),
                Err(_) => break,
            }
        }
        let missing = expected.len().saturating_sub(self.seen.len()).min(unasked);
        if missing == 0 {
            return expected;
        }
        let keep = expected.len() - missing;
        let codes: Vec<String> = expected[keep..].iter().map(ToString::to_string).collect();
        let at = if lineno == 0 {
            "the banner".to_string()
        } else {
            format!("line {lineno}")
        };
        self.say(&format!(
            "replay: {at}: the unasked {} recorded after it did not come within {}s: not checked",
            codes.join(", "),
            wait.as_secs_f64()
        ));
        &expected[..keep]
    }

    /// The run ends on the first difference found: its exit code and reason.
    fn end_on_mismatch(&mut self) -> u8 {
        let first = &self.mismatches[0];
        let ended = Ended::new(first.code, "replay_mismatch", Some(first.reason.clone()));
        self.end(ended)
    }

    /// Compare the replies seen with the expected ones; on a difference emit a
    /// `replay_mismatch` event and return the exit code of the phase it happened in.
    fn check(&mut self, lineno: usize, input: &str, expected: &[Expect]) -> Option<u8> {
        let differs = |(s, e): (&Seen, &Expect)| !e.matches(s.code, s.enhanced);
        let first_diff = self.seen.iter().zip(expected).position(differs);
        if first_diff.is_none() && self.seen.len() == expected.len() {
            return None;
        }
        let i = first_diff.unwrap_or(self.seen.len().min(expected.len()));
        // Enhanced codes are shown where the script asks for them.
        let with_enhanced = expected.iter().any(|e| e.enhanced.is_some());
        let got: Vec<String> = self
            .seen
            .iter()
            .map(|s| match s.enhanced {
                // A line without a reply code (a garbled banner): no `0` posing as one.
                _ if s.reply.code.is_none() => NO_CODE.to_string(),
                Some(e) if with_enhanced => format!("{} {e}", s.code),
                _ => s.code.to_string(),
            })
            .collect();
        let expected: Vec<String> = expected.iter().map(ToString::to_string).collect();
        let reply = self.seen.get(i).map(|s| s.reply.clone());
        // The phase the difference happened in decides the exit code (error.rs); none when
        // the server had closed the connection.
        let phase = match self.seen.get(i) {
            Some(s) => Some(s.phase),
            None if self.session.as_ref().is_none_or(|s| s.is_closed()) => None,
            None => Some(
                self.session
                    .as_ref()
                    .map(|s| s.phase())
                    .unwrap_or(Phase::Other),
            ),
        };
        let (expected_s, got_s) = (show(expected.iter().cloned()), show(got.iter().cloned()));
        let at = if lineno == 0 {
            "banner".to_string()
        } else {
            format!("line {lineno} `> {input}`")
        };
        let detail = self
            .seen
            .get(i)
            .map(|s| match s.reply.code {
                Some(_) => format!(" ({} {})", s.code, s.text),
                None => format!(
                    " (\"{}\")",
                    s.reply.lines.first().map_or("", String::as_str)
                ),
            })
            .unwrap_or_default();
        let e = Error::ReplayMismatch {
            phase,
            reason: format!("replay: {at}: expected {expected_s}, got {got_s}{detail}"),
        };
        let code = e.exit_code();
        self.emit(Event::ReplayMismatch {
            line: lineno,
            command: input.to_string(),
            expected,
            got,
            reply,
            phase,
            exit_code: code,
        });
        self.mismatches.push(Mismatch {
            line: lineno,
            command: input.to_string(),
            expected: expected_s,
            got: got_s,
            code,
            reason: e.to_string(),
        });
        Some(code)
    }

    /// The run's last event (`summary`, as a send ends), whatever the format: the `--log` copy
    /// ends with it too; the human transcript, which has said it all already, leaves it out
    /// (`render::without_summary`). Its exit code, outcome and error are how the run ended
    /// ([`Engine::end`]), as the process's exit code is.
    pub(super) fn summary(&mut self) {
        let session = self.session.as_ref();
        let (outcome, error) = match &self.ended {
            None => ("ok".to_string(), None),
            // A code the one table labels has that label here too, as in a send's summary.
            Some(e) => (
                Error::label_of_code(e.code).unwrap_or(e.label).to_string(),
                e.reason.clone(),
            ),
        };
        let summary = Summary {
            exit_code: self.exit_code(),
            outcome,
            error,
            server: self.server.clone(),
            tls: self.tls_version.clone(),
            recipients: session.map(|s| s.recipients().to_vec()).unwrap_or_default(),
            message_accepted: session.and_then(|s| s.message_accepted()),
            timings: self.timings.clone(),
            failover: Vec::new(),
        };
        self.emit(Event::Summary(summary));
    }
}

/// Why a script may not run this input, if it may not: a script is a file from anywhere, so it
/// writes no file (`:record`, as it runs no other script: `:replay`) and sends only files from
/// its own directory (`:data @FILE`) unless `ehlo replay --allow-any-file` says otherwise.
fn refused_step(script: &Script, input: &str) -> Option<String> {
    let input = input.trim();
    if !input.starts_with(':') {
        return None;
    }
    // A meta-command the REPL does not take (a typo made editing the recording: `:startls`)
    // fails the step: it used to be said and passed over, and a script whose step checked no
    // reply then passed (exit 0) without running it.
    let meta = match super::meta::parse(input) {
        Ok(meta) => meta,
        Err(why) => return Some(format!("`{input}` was not run: {why}")),
    };
    match meta {
        super::meta::Meta::Record(..) => Some(format!(
            "`{input}` is refused in a replayed script: a script writes no file (nothing was sent)"
        )),
        super::meta::Meta::Data { file: Some(path) } if !script.any_file => {
            // A file that cannot be resolved cannot be read either: that step fails as usual.
            let real = std::fs::canonicalize(&path).ok()?;
            if script.dir.as_ref().is_some_and(|d| real.starts_with(d)) {
                return None;
            }
            let dir = script
                .dir
                .as_ref()
                .map_or("(unknown)".to_string(), |d| d.display().to_string());
            Some(format!(
                "`{input}` is refused: {} is outside the script's directory {dir} (nothing was sent; ehlo replay --allow-any-file allows it)",
                path.display()
            ))
        }
        _ => None,
    }
}

/// `input` with a relative `:data @FILE` resolved against the script's directory (the
/// README's "files under the script's own directory"); every other input as it is.
fn beside_script(script: &Script, input: &str) -> String {
    let trimmed = input.trim();
    if !trimmed.starts_with(":data") {
        return input.to_string();
    }
    match (super::meta::parse(trimmed), script.dir.as_ref()) {
        (Ok(super::meta::Meta::Data { file: Some(path) }), Some(dir)) if path.is_relative() => {
            format!(":data @{}", dir.join(path).display())
        }
        _ => input.to_string(),
    }
}

/// A script's input as it may be shown (mismatch events and table, the summary's error):
/// `AUTH MECH <initial response>` and `:raw` bytes holding one with the response masked, and
/// the whole line when the session expects a SASL response (`secret`).
fn shown_input(input: &str, secret: bool) -> String {
    if secret {
        return crate::smtp::auth::MASK.to_string();
    }
    let trimmed = input.trim();
    let masked = if trimmed.starts_with(':') {
        super::meta::redact_raw_line(trimmed)
    } else {
        crate::smtp::manual::redact_typed_line(trimmed)
    };
    masked.unwrap_or_else(|| input.to_string())
}

/// A step's failure as the summary's `error` says it: `replay: line N: why`, as the `error`
/// event before it and a mismatch's reason (`replay: line N `> …`: expected …`) name the line.
fn at_line(lineno: usize, why: String) -> String {
    if why.starts_with("replay: line ") {
        why
    } else {
        format!("replay: line {lineno}: {why}")
    }
}

/// Codes for a message: `250, 354` or `nothing`.
fn show(v: impl Iterator<Item = String>) -> String {
    let v: Vec<String> = v.collect();
    if v.is_empty() {
        "nothing".into()
    } else {
        v.join(", ")
    }
}

/// What a replay shows for a reply without a reply code (RFC 5321 §4.2: every reply starts
/// with one), in `got`: a garbled banner was shown as code `0`.
pub(crate) const NO_CODE: &str = "a line without a reply code";

/// The `--keep-going` table: one row per difference (line, command, expected, got).
fn mismatch_table(rows: &[Mismatch], steps: usize) -> String {
    const COMMAND_MAX: usize = 40;
    let cut = |s: &str| {
        let s: String = s
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        if s.chars().count() > COMMAND_MAX {
            let mut t: String = s.chars().take(COMMAND_MAX - 1).collect();
            t.push('…');
            t
        } else {
            s
        }
    };
    let cells: Vec<[String; 4]> = rows
        .iter()
        .map(|m| {
            let line = if m.line == 0 {
                "banner".to_string()
            } else {
                m.line.to_string()
            };
            [line, cut(&m.command), m.expected.clone(), m.got.clone()]
        })
        .collect();
    let head = ["LINE", "COMMAND", "EXPECTED", "GOT"];
    let mut width = head.map(|h| h.chars().count());
    for r in &cells {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let row = |r: [&str; 4]| {
        let mut line = String::new();
        for (i, (c, w)) in r.iter().zip(width).enumerate() {
            line.push_str("  ");
            line.push_str(c);
            if i < 3 {
                line.push_str(&" ".repeat(w - c.chars().count()));
            }
        }
        line.trim_end().to_string()
    };
    let mismatches = if rows.len() == 1 { "" } else { "es" };
    let mut out = format!(
        "replay: {} mismatch{mismatches} in {steps} step{}; exit code {} (the first)\n",
        rows.len(),
        plural_s(steps),
        rows[0].code
    );
    out.push_str(&row(head));
    for r in &cells {
        out.push('\n');
        out.push_str(&row([&r[0], &r[1], &r[2], &r[3]]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The script format's help says how long a `~` reply is waited for when `--timeout 0`
    /// sets no limit: it said "up to --timeout" alone, and replay waited 30 s.
    #[test]
    fn the_help_gives_the_wait_for_an_unasked_reply_without_a_timeout() {
        let words = format!("{} s with --timeout 0", UNASKED_WAIT.as_secs());
        assert!(super::super::record::FORMAT.contains(&words), "{words}");
    }

    #[test]
    fn the_table_lines_up_and_cuts_long_commands() {
        let m = |line, command: &str, expected: &str, got: &str, code| Mismatch {
            line,
            command: command.into(),
            expected: expected.into(),
            got: got.into(),
            code,
            reason: String::new(),
        };
        let long = format!("RCPT TO:<{}@d.test>", "x".repeat(60));
        let t = mismatch_table(
            &[
                m(0, "(banner)", "220", "554", 21),
                m(7, &long, "250 2.1.5", "550 5.1.1", 24),
            ],
            9,
        );
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(
            lines[0],
            "replay: 2 mismatches in 9 steps; exit code 21 (the first)"
        );
        // One of each is not "1 mismatches in 1 steps" (it was "mismatch(es)", "step(s)").
        let one = mismatch_table(&[m(0, "(banner)", "220", "554", 21)], 1);
        assert!(
            one.starts_with("replay: 1 mismatch in 1 step; exit code 21 (the first)\n"),
            "{one}"
        );
        let col = |l: &str, w: &str| l.find(w).map(|i| l[..i].chars().count());
        assert_eq!(col(lines[1], "EXPECTED"), col(lines[3], "250 2.1.5"));
        assert!(lines[2].starts_with("  banner  (banner)"), "{t}");
        assert!(
            lines[3].contains("RCPT TO:<xxx") && lines[3].contains('…'),
            "{t}"
        );
        assert!(lines[3].ends_with("550 5.1.1"), "{t}");
    }
}
