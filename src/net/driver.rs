//! The send's async driver: opens the connection through the connection layer ([`super::conn`])
//! (routed by MX, the next MX address after a server that never greets: refusing, silent,
//! closing or not speaking SMTP; or, with implicit TLS, one that gives no usable TLS session),
//! pumps bytes between it and `smtp::client::Session` under
//! per-reply timeouts, runs the TLS upgrade when the session asks, and hands every event to the
//! run's event sink. Protocol decisions stay in the session. The one-shot send's `--deadline`
//! (one bound on the whole run, where `--timeout` bounds each step) is kept here too, with the
//! clock: the session never sees it.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt;

use crate::error::{Ending, Error};
use crate::net::conn::{self, Connection, alert_wait};
use crate::net::route::{ConnectPlan, Transport};
use crate::net::tls;
use crate::smtp::client::{Action, Plan, Session, SessionError};
use crate::smtp::event::{Event, Phase, PhaseTiming, SentKind, Sink, Summary, Timed};

/// Hands events to the sink with the elapsed time, and keeps per-phase timings.
struct Output<'a> {
    sink: &'a mut dyn Sink,
    start: Instant,
    timings: Vec<PhaseTiming>,
    /// Asks the user whether AUTH may go out unencrypted (true = yes); `None`: nobody to ask.
    confirm_plaintext: Option<&'a dyn Fn() -> bool>,
    /// Where the run is, for a `--deadline` that cuts it.
    at: Whereabouts,
}

/// Where a send is, read off its events (and set by the driver around a TLS handshake and a
/// write): what `--deadline` says it cut, and the phase whose timeout exit code the cut gets.
struct Whereabouts {
    /// The phase of the step under way when no reply is awaited.
    phase: Phase,
    /// That step, in words ("while connecting to mx.example.net [192.0.2.1:25]").
    doing: String,
    /// The replies awaited, oldest first (several when pipelined): each one's phase and what
    /// it answers (`DATA`, `the message`; empty for the banner).
    pending: VecDeque<(Phase, String)>,
    /// Bytes are being written (the last of `pending` is what they are).
    writing: bool,
}

impl Whereabouts {
    fn new() -> Whereabouts {
        Whereabouts {
            phase: Phase::Dns,
            doing: "before connecting".into(),
            pending: VecDeque::new(),
            writing: false,
        }
    }

    /// A step that awaits no reply (a lookup, a connection attempt, a TLS handshake).
    fn doing(&mut self, phase: Phase, what: String) {
        self.phase = phase;
        self.doing = what;
        self.pending.clear();
        self.writing = false;
    }

    fn see(&mut self, event: &Event) {
        match event {
            Event::DnsQuery { name, rtype } => {
                self.doing(
                    Phase::Dns,
                    format!("while waiting for the {rtype} answer for {name}"),
                );
            }
            Event::Connecting { host, addr } => {
                let to = if host == addr {
                    host.clone()
                } else {
                    crate::net::conn::host_at(host, addr)
                };
                self.doing(Phase::Connect, format!("while connecting to {to}"));
            }
            Event::Connected { .. } => self.awaiting(Phase::Banner, String::new()),
            Event::Sent {
                kind, text, phase, ..
            } => {
                let what = match kind {
                    SentKind::Proxy => return,
                    SentKind::Body => "the message".to_string(),
                    SentKind::Auth => "AUTH".to_string(),
                    SentKind::Raw => "the raw bytes".to_string(),
                    SentKind::Command => text
                        .split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_ascii_uppercase(),
                };
                // The message's lines and its final dot get one reply.
                if *kind == SentKind::Body && self.pending.back().is_some_and(|(_, w)| *w == what) {
                    return;
                }
                self.pending.push_back((*phase, what));
            }
            Event::Received { phase, .. } => {
                let answered = self.pending.pop_front();
                if self.pending.is_empty() {
                    self.phase = answered.as_ref().map_or(*phase, |(p, _)| *p);
                    self.doing = match answered {
                        Some((_, w)) if !w.is_empty() => format!("after the reply to {w}"),
                        _ => "after the banner".into(),
                    };
                }
            }
            _ => {}
        }
    }

    /// The banner (`what` empty) or a reply is awaited with nothing else outstanding.
    fn awaiting(&mut self, phase: Phase, what: String) {
        self.doing(phase, String::new());
        self.pending.push_back((phase, what));
    }

    /// Where the run is, in words, and the phase of that step.
    fn describe(&self) -> (Phase, String) {
        let waited = |w: &String| {
            if w.is_empty() {
                "the banner".to_string()
            } else {
                format!("the reply to {w}")
            }
        };
        match (self.writing, self.pending.front(), self.pending.back()) {
            (true, _, Some((phase, w))) if !w.is_empty() => (*phase, format!("while sending {w}")),
            (_, Some((phase, _)), _) if self.pending.len() > 1 => {
                let all: Vec<&str> = self.pending.iter().map(|(_, w)| w.as_str()).collect();
                (
                    *phase,
                    format!("while waiting for the replies to {}", all.join(", ")),
                )
            }
            (_, Some((phase, w)), _) => (*phase, format!("while waiting for {}", waited(w))),
            (_, None, _) => (self.phase, self.doing.clone()),
        }
    }

    /// The message's data went out (or was going out) and its reply has not come.
    fn delivery_unsure(&self) -> bool {
        self.pending.iter().any(|(p, _)| *p == Phase::Dot)
    }
}

impl<'a> Output<'a> {
    fn new(sink: &'a mut dyn Sink, confirm_plaintext: Option<&'a dyn Fn() -> bool>) -> Output<'a> {
        Output {
            sink,
            start: Instant::now(),
            timings: Vec::new(),
            confirm_plaintext,
            at: Whereabouts::new(),
        }
    }
    /// Hand one event on; a `Timing` also counts towards its phase's total for the summary.
    fn emit(&mut self, event: Event) {
        self.at.see(&event);
        PhaseTiming::add(&mut self.timings, &event);
        self.sink.event(&event, self.start.elapsed());
    }
    /// Hand `events` on, in order.
    fn emit_all(&mut self, events: Vec<Event>) {
        for event in events {
            self.emit(event);
        }
    }
    /// How long the reply of `phase` took to arrive.
    fn reply_timing(phase: Phase, d: Duration) -> Event {
        Event::Timing {
            what: Timed::Reply,
            phase,
            ms: d.as_secs_f64() * 1000.0,
        }
    }
    fn summary_timings(&self) -> Vec<PhaseTiming> {
        self.timings.clone()
    }
}

/// What a finished run knows, for the summary.
#[derive(Default)]
struct RunState {
    server: Option<String>,
    tls: Option<String>,
    recipients: Vec<crate::smtp::event::RecipientResult>,
    message_accepted: Option<bool>,
    failover: Vec<crate::smtp::event::FailoverFailure>,
}

/// Run one session for a caller that owns the run's signals (`check`, the demo): connect as
/// `connect` says, drive a session of `plan`, hand every event (the error and the summary
/// included) to `sink` and return the exit code. Only a `--pipe` command's signals are
/// handled here (forwarded to its group, see [`RunSignals`]).
pub(crate) async fn send(connect: &ConnectPlan, plan: Plan, sink: &mut dyn Sink) -> u8 {
    let pipe = matches!(connect.link.transport, Transport::Pipe(_));
    drive(connect, plan, sink, None, pipe, None).await
}

/// The one-shot send (`ehlo HOST ...`): [`send`], with SIGINT, SIGTERM and SIGHUP handled for
/// every transport (a CI job's cancellation and timeout(1) send SIGTERM): the run ends as
/// interrupted with its summary and 128 + the signal's number. `confirm_plaintext` asks the user
/// when the session wants to know whether AUTH may go out over a connection that is not
/// encrypted (an optional STARTTLS that did not happen): true = yes. Without it such a question
/// is answered no.
///
/// `deadline` (`--deadline`) bounds the whole run, every lookup, connection attempt, handshake,
/// write and reply of it: when it passes the run ends there, its connection dropped (no QUIT
/// waited for), with [`Error::Deadline`] saying where.
pub(crate) async fn send_asking(
    connect: &ConnectPlan,
    plan: Plan,
    sink: &mut dyn Sink,
    confirm_plaintext: Option<&dyn Fn() -> bool>,
    deadline: Option<Duration>,
) -> u8 {
    drive(connect, plan, sink, confirm_plaintext, true, deadline).await
}

/// How [`drive`]'s run ended.
enum Ended {
    /// By itself.
    Run(Result<(), Error>),
    /// A signal.
    Signal(Ending),
    /// `--deadline` passed.
    Deadline,
}

/// [`send`] and [`send_asking`]: with `signals`, the run listens for SIGINT/SIGTERM/SIGHUP.
async fn drive(
    connect: &ConnectPlan,
    plan: Plan,
    sink: &mut dyn Sink,
    confirm_plaintext: Option<&dyn Fn() -> bool>,
    signals: bool,
    deadline: Option<Duration>,
) -> u8 {
    let mut out = Output::new(sink, confirm_plaintext);
    let mut state = RunState::default();
    // The session under way, kept outside the run so that a deadline that drops the run can
    // still read what it had done (its recipients, whether the message was accepted).
    let mut current: Option<Session> = None;
    let until = deadline.map(|d| tokio::time::Instant::now() + d);
    let ended = {
        let running = run(connect, plan, &mut out, &mut state, &mut current);
        let mut signals = signals.then(RunSignals::listen).flatten();
        let past = async {
            match until {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            r = running => Ended::Run(r),
            ending = RunSignals::next(&mut signals) => Ended::Signal(ending),
            () = past => Ended::Deadline,
        }
    };
    let result = match ended {
        Ended::Run(r) => r,
        Ended::Signal(ending) => Err(Error::Signalled(ending)),
        Ended::Deadline => Err(cut(&mut out, &mut state, current.as_ref(), deadline)),
    };
    let (exit_code, outcome, error) = match &result {
        Ok(()) => (0, "ok".to_string(), None),
        // The summary carries the error: one line on stderr, not two.
        Err(e) => (e.exit_code(), e.label().to_string(), Some(e.to_string())),
    };
    let summary = Summary {
        exit_code,
        outcome,
        error,
        server: state.server,
        tls: state.tls,
        recipients: state.recipients,
        message_accepted: state.message_accepted,
        timings: out.summary_timings(),
        failover: state.failover,
    };
    out.emit(Event::Summary(summary));
    exit_code
}

/// The run `--deadline` cut: what its session had done goes to the summary, and the error says
/// where it was cut. A session that had already failed and was only waiting for the reply to
/// its QUIT keeps its own error (as when QUIT's reply times out), the cut said as a warning.
fn cut(
    out: &mut Output<'_>,
    state: &mut RunState,
    session: Option<&Session>,
    limit: Option<Duration>,
) -> Error {
    let (phase, at) = out.at.describe();
    let e = Error::Deadline {
        phase,
        limit: limit.unwrap_or_default(),
        at,
        unsure_delivery: out.at.delivery_unsure(),
    };
    let Some(session) = session else {
        return e;
    };
    state.recipients = session.recipients().to_vec();
    state.message_accepted = session.message_accepted();
    match session.outcome() {
        Err(failed) if phase == Phase::Quit => {
            out.emit(Event::warning(format!("{e}: not waited for")));
            Error::Session(failed.clone())
        }
        _ => e,
    }
}

async fn run(
    connect: &ConnectPlan,
    plan: Plan,
    out: &mut Output<'_>,
    state: &mut RunState,
    current: &mut Option<Session>,
) -> Result<(), Error> {
    // Until the session runs, every recipient is "not attempted" (so a connect failure still
    // reports them in the summary).
    state.recipients = plan
        .rcpts
        .iter()
        .map(|r| crate::smtp::event::RecipientResult::new(r.as_str()))
        .collect();
    // One copy of the message for every server tried, not one per session.
    let mut plan = plan;
    let message = Arc::new(std::mem::take(&mut plan.message));
    let mut dialer = conn::Dialer::new(connect);
    // Why the last server that never greeted was left for the next MX address.
    let mut left: Option<Error> = None;
    loop {
        *current = None;
        let conn = match dialer.next(&mut |e| out.emit(e)).await {
            Ok(c) => c,
            // No other candidate answered: the last server's failure is the answer (its exit
            // code), with the failures after it in the transcript.
            Err(e) => {
                state.failover = dialer.failures();
                return Err(match left {
                    Some(failure) => {
                        out.emit(Event::info("no other MX address to try"));
                        failure
                    }
                    None => e,
                });
            }
        };
        let server = conn.server.clone();
        let session = current.insert(Session::sharing(plan.clone(), Arc::clone(&message)));
        let result = attempt(conn, session, connect, out, state).await;
        // Whether a server that never greeted (or gave no implicit TLS session) means "try
        // another" is the plan's (MX routing only); whether it greeted is the session's.
        let unusable = match &result {
            Err(Stop::ImplicitTls(e)) => Some(format!("gave no usable implicit TLS session ({e})")),
            _ => session.left_in_greeting().map(|how| how.describe()),
        };
        if connect.tries_next_mx_on_refusal()
            && let Some(how) = unusable
        {
            out.emit(Event::warning(format!(
                "{server} {how}: left for the next MX address (RFC 5321 §5.1)"
            )));
            dialer.leave(&how);
            // A silent server's timeout and a failed handshake are the driver's errors; every
            // other way, the session's.
            left = result
                .err()
                .map(Stop::into_error)
                .or_else(|| session.outcome().err().cloned().map(Error::Session));
            // The summary's timings are those of the server it names; the DNS time (the MX
            // lookup and every address lookup) is the run's.
            out.timings.retain(|t| t.phase == Phase::Dns);
            continue;
        }
        state.failover = dialer.failures();
        result.map_err(Stop::into_error)?;
        return match session.outcome() {
            Ok(()) => Ok(()),
            Err(e) => Err(Error::Session(e.clone())),
        };
    }
}

/// How an [`attempt`] failed short of the session's own outcome.
#[derive(Debug)]
enum Stop {
    /// The server failed the implicit TLS handshake (see [`conn::TlsFailure`]): no SMTP was
    /// spoken, so routed by MX the next MX address may take the mail.
    ImplicitTls(Error),
    /// Anything else: the run's answer.
    Failed(Error),
}

impl Stop {
    fn into_error(self) -> Error {
        match self {
            Stop::ImplicitTls(e) | Stop::Failed(e) => e,
        }
    }
}

impl From<Error> for Stop {
    fn from(e: Error) -> Stop {
        Stop::Failed(e)
    }
}

/// One session of the run over `conn`, to its end (the outcome is the session's).
async fn attempt(
    mut conn: Connection,
    session: &mut Session,
    connect: &ConnectPlan,
    out: &mut Output<'_>,
    state: &mut RunState,
) -> Result<(), Stop> {
    state.server = Some(conn.server.clone());
    // A server left before this one tells nothing about this one's TLS.
    state.tls = None;
    let mut child = conn.child.take();
    // Whatever way this attempt ends, nothing the `--pipe` command started outlives it.
    let _group = PipeGroup::new(child.as_ref().and_then(tokio::process::Child::id));
    // The session's preamble (a PROXY header) goes out before anything else, an implicit TLS
    // handshake included (HAProxy PROXY protocol §2).
    if let Some(preamble) = session.poll_transmit() {
        drain(session, out);
        conn.send(&preamble, Phase::Proxy, connect.link.timeout)
            .await?;
    }
    if connect.link.tls_on_connect && !session.is_closed() {
        out.at.doing(
            Phase::StartTls,
            "in the TLS handshake (implicit TLS, before any SMTP)".into(),
        );
        conn = match conn.upgrade(connect, &mut |e| out.emit(e)).await {
            Ok(c) => c,
            Err(f) if f.by_server => return Err(Stop::ImplicitTls(f.error)),
            Err(f) => return Err(f.error.into()),
        };
        out.at.awaiting(Phase::Banner, String::new());
        state.tls = conn.tls.clone();
        session.implicit_tls_established();
    }
    // What a secure TLSA RRset means for the session is the session's to decide.
    if conn.dane.is_some() {
        session.secure_tlsa_found();
    }
    let result = pump(conn, session, connect, out, state).await;
    let mut spawn_failure = None;
    if let Some(child) = child.as_mut() {
        // stdin is closed with the connection: give the child a moment to exit, then kill it.
        // A session the transport ended (a timeout, a failed write) has shown the child does
        // not answer: no moment for it, the run is over at its --timeout.
        let grace = if result.is_ok() {
            Duration::from_secs(2)
        } else {
            Duration::ZERO
        };
        match tokio::time::timeout(grace, child.wait()).await {
            Ok(Ok(status)) if !status.success() => {
                out.emit(Event::info(format!("child process exited with {status}")));
                spawn_failure = pipe_spawn_failure(status.code(), session.outcome());
            }
            Ok(_) => {}
            Err(_) => {
                // The shell's children too, before the shell is reaped (its id, the group's,
                // cannot be reused while it is unreaped).
                PipeGroup::end(child.id());
                let _ = child.kill().await;
            }
        }
    }
    state.recipients = session.recipients().to_vec();
    state.message_accepted = session.message_accepted();
    if let (Some(reason), Transport::Pipe(command)) = (spawn_failure, &connect.link.transport) {
        // The shell could not run the command: that is a failure to connect (swaks exit 2).
        return Err(Error::Connect {
            target: format!("child process '{command}'"),
            reason,
        }
        .into());
    }
    Ok(result?)
}

/// The process group of a `--pipe` child (it leads a group of its own): ended when the attempt
/// ends, however it ends (done, an error, a timeout, a signal), so that a command the shell did
/// not exec (`sleep 101` under dash, a pipeline, a `cmd &` still holding the pipe) does not
/// outlive the run. A group already gone is no error. See [`PipeGroup::end`].
struct PipeGroup(Option<u32>);

/// How long a `--pipe` command's group has to end after SIGTERM before it gets SIGKILL.
const PIPE_GRACE: Duration = Duration::from_millis(500);

/// How often, within [`PIPE_GRACE`], ehlo looks whether the group has ended.
const PIPE_GRACE_POLL: Duration = Duration::from_millis(10);

/// The leader (= group id) of the `--pipe` command's group while it runs, 0 when none: where
/// [`RunSignals`] forwards a signal ehlo gets.
static PIPE_GROUP: AtomicI32 = AtomicI32::new(0);

impl PipeGroup {
    fn new(leader: Option<u32>) -> PipeGroup {
        if let Some(pid) = Self::pid(leader) {
            PIPE_GROUP.store(pid, Ordering::SeqCst);
        }
        PipeGroup(leader)
    }

    /// The group id to signal: never 0 or 1 (killpg would mean our own group, or init's).
    fn pid(leader: Option<u32>) -> Option<i32> {
        leader
            .and_then(|p| i32::try_from(p).ok())
            .filter(|&p| p > 1)
    }

    /// End the group as service managers do (systemd's KillMode=control-group): SIGTERM and
    /// SIGCONT (a stopped member gets the SIGTERM only once continued), so that a command can
    /// clean up (its spool file, its log), then SIGKILL to whatever still runs after
    /// [`PIPE_GRACE`], so that one that traps or ignores SIGTERM cannot stay. A group that ends
    /// at once costs no wait. It blocks for at most the grace: the run is ending, and on the
    /// current-thread runtime of a send nothing else is left to do.
    fn end(leader: Option<u32>) {
        use nix::sys::signal::{Signal, killpg};
        let Some(pid) = Self::pid(leader) else {
            return;
        };
        let group = nix::unistd::Pid::from_raw(pid);
        if killpg(group, Signal::SIGTERM).is_err() {
            // No process is left in the group.
            return;
        }
        let _ = killpg(group, Signal::SIGCONT);
        let deadline = Instant::now() + PIPE_GRACE;
        while Instant::now() < deadline {
            if !group_running(pid) {
                return;
            }
            std::thread::sleep(PIPE_GRACE_POLL);
        }
        let _ = killpg(group, Signal::SIGKILL);
    }
}

/// Does process group `pgid` have a member that has not ended? A member that ended but is not
/// reaped yet (a zombie: the shell until ehlo waits for it, an orphan until init does) counts as
/// ended, which `killpg(pgid, 0)` cannot tell. Where `/proc` cannot be read, that is the answer.
fn group_running(pgid: i32) -> bool {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pgid), None).is_ok();
    };
    dir.flatten()
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
        })
        .any(|e| {
            std::fs::read_to_string(e.path().join("stat"))
                .is_ok_and(|stat| stat_in_group_and_running(&stat, pgid))
        })
}

/// proc_pid_stat(5): `PID (COMM) STATE PPID PGRP …`; COMM may hold spaces and parentheses, so
/// the fields are read after the last `)`.
fn stat_in_group_and_running(stat: &str, pgid: i32) -> bool {
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return false;
    };
    let mut fields = rest.split_whitespace();
    let state = fields.next();
    let pgrp = fields.nth(1).and_then(|g| g.parse::<i32>().ok());
    pgrp == Some(pgid) && !matches!(state, Some("Z" | "X" | "x"))
}

impl Drop for PipeGroup {
    fn drop(&mut self) {
        if let Some(pid) = Self::pid(self.0) {
            let _ = PIPE_GROUP.compare_exchange(pid, 0, Ordering::SeqCst, Ordering::SeqCst);
        }
        Self::end(self.0);
    }
}

/// SIGINT, SIGTERM, SIGHUP and SIGQUIT during a run that ends on them with its report (a send,
/// `check`, `probe`, `replay`): 128 + the signal's number for a send, "stopped" for the checks.
/// SIGQUIT (`Ctrl-\` at a terminal) asks for a core dump, which ehlo never writes ([`crate::coredump`]): left
/// to its default action it only killed the run without its summary (and left a `--pipe`
/// command behind), so it ends the run as SIGINT does, with 131. A send
/// over `--pipe` runs a command that leads a process group of its own (so that the end of the
/// run can kill it whole), which puts it out of reach of signals sent to ehlo's group (Ctrl-C,
/// a job control `kill %1`, a closed terminal) and of signals sent to ehlo alone (`timeout`,
/// `kill PID`): ehlo forwards them to the command's group first, and the group is ended
/// ([`PipeGroup::end`]) as the attempt is dropped.
pub(crate) struct RunSignals {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
    quit: tokio::signal::unix::Signal,
}

impl RunSignals {
    /// Listening from before the run starts (a signal in between would kill ehlo, and leave a
    /// `--pipe` command behind); `None` when a handler cannot be installed (the default
    /// dispositions stay).
    pub(crate) fn listen() -> Option<RunSignals> {
        use tokio::signal::unix::{SignalKind, signal};
        Some(RunSignals {
            int: signal(SignalKind::interrupt()).ok()?,
            term: signal(SignalKind::terminate()).ok()?,
            hup: signal(SignalKind::hangup()).ok()?,
            quit: signal(SignalKind::quit()).ok()?,
        })
    }

    /// The next signal (never, without listeners), already forwarded to a `--pipe` command's
    /// group if one runs.
    pub(crate) async fn next(this: &mut Option<RunSignals>) -> Ending {
        match this {
            Some(s) => s.forwarded().await,
            None => std::future::pending().await,
        }
    }

    async fn forwarded(&mut self) -> Ending {
        use nix::sys::signal::Signal;
        let (ending, sig) = tokio::select! {
            _ = self.int.recv() => (Ending::Int, Signal::SIGINT),
            _ = self.term.recv() => (Ending::Term, Signal::SIGTERM),
            _ = self.hup.recv() => (Ending::Hup, Signal::SIGHUP),
            _ = self.quit.recv() => (Ending::Quit, Signal::SIGQUIT),
        };
        let group = PIPE_GROUP.load(Ordering::SeqCst);
        if group > 1 {
            let _ = nix::sys::signal::killpg(nix::unistd::Pid::from_raw(group), sig);
        }
        ending
    }
}

/// A `--pipe` child that ended before any banner with the shell's "cannot execute" (126) or
/// "not found" (127) status never ran: the reason to report, else `None`.
fn pipe_spawn_failure(code: Option<i32>, outcome: Result<(), &SessionError>) -> Option<String> {
    let before_banner = matches!(
        outcome,
        Err(SessionError::Closed {
            phase: Phase::Banner
        })
    );
    match code {
        Some(126) if before_banner => {
            Some("/bin/sh could not execute the command (exit 126)".into())
        }
        Some(127) if before_banner => Some("/bin/sh did not find the command (exit 127)".into()),
        _ => None,
    }
}

/// Run the session over `conn` until it ends, then close the connection on every path (the
/// error and timeout ones included): over TLS that sends a close_notify alert first (RFC 8446
/// §6.1), so the server sees an orderly end rather than a truncated session (Exim logs
/// "non-properly terminated" otherwise).
async fn pump(
    conn: Connection,
    session: &mut Session,
    plan: &ConnectPlan,
    out: &mut Output<'_>,
    state: &mut RunState,
) -> Result<(), Error> {
    let mut slot = Some(conn);
    let result = pump_in(&mut slot, session, plan, out, state).await;
    if let Some(mut conn) = slot {
        conn.shutdown().await;
    }
    result
}

/// [`pump`]'s loop. `slot` holds the connection (empty only while a STARTTLS handshake has it,
/// and after a failed one: there is no session left to close then).
async fn pump_in(
    slot: &mut Option<Connection>,
    session: &mut Session,
    plan: &ConnectPlan,
    out: &mut Output<'_>,
    state: &mut RunState,
) -> Result<(), Error> {
    let Some(conn) = slot.as_mut() else {
        return Ok(());
    };
    let timeout = plan.link.timeout;
    // Read into the vector's spare capacity, not a zeroed buffer: zeroing 16 KiB touched four
    // fresh pages of heap (a page fault each) for replies that are mostly a few hundred bytes.
    let mut buf: Vec<u8> = Vec::with_capacity(16 * 1024);
    let mut waiting_since = conn.connected_at;
    // The server closed after a write failed (its reply read from behind the reset): nothing
    // more is written to it, the QUIT that follows a refusal included.
    let mut peer_closed = false;
    let raw = session.raw_events();
    loop {
        // What the session said since the last read (the replies, each with the time it took,
        // and the commands answering them): handed on once the next write is out (below).
        let mut said = Vec::new();
        while let Some(ev) = session.poll_event() {
            // The time a reply took comes before the reply, as swaks prints it (`=== response
            // in 0.004s`, then the `<-` lines).
            if let Event::Received { phase, .. } = &ev {
                said.push(Output::reply_timing(*phase, waiting_since.elapsed()));
                waiting_since = Instant::now();
            }
            said.push(ev);
        }
        let Some(conn) = slot.as_mut() else {
            out.emit_all(said);
            return Ok(());
        };
        if let Some(transmit) = session.poll_transmit_parts() {
            let written = Instant::now();
            let phase = session.phase();
            // The write goes out before the events that led to it are rendered: the server
            // works on the command while the transcript is written (a plain send renders
            // about 35 lines in 7 steps; written first, each step's rendering waited for the
            // server's reply). The output is the same, in the same order: a write that cannot
            // finish at once (a full socket buffer, a TLS record still going out) waits after
            // the events are rendered, as before, so a `--deadline` that cuts it finds the
            // transcript complete and the step named.
            // QUIT into a connection known to be closed would only add "write failed: QUIT:
            // Broken pipe" to the close the session says next.
            // Nor is it shown as sent.
            if peer_closed && phase == Phase::Quit {
                said.retain(|ev| {
                    !matches!(
                        ev,
                        Event::Sent {
                            phase: Phase::Quit,
                            ..
                        } | Event::RawSent { .. }
                    )
                });
                out.emit_all(said);
                session.feed_eof();
                continue;
            }
            let (sent, at) = {
                let mut send = std::pin::pin!(conn.send_parts(&transmit, phase, timeout));
                match ready_now(send.as_mut()).await {
                    Some(sent) => {
                        let at = Instant::now();
                        out.emit_all(said);
                        (sent, at)
                    }
                    None => {
                        out.emit_all(said);
                        out.at.writing = true;
                        let sent = send.await;
                        out.at.writing = false;
                        (sent, Instant::now())
                    }
                }
            };
            match sent {
                // The write failed (not timed out): a TLS server's alert may say why, if it
                // comes within what is left of the write's timeout.
                Err(e @ Error::Io { .. }) => {
                    let wait = alert_wait(timeout, written.elapsed());
                    if let Some(reason) = conn.alert_after_write_error(wait).await {
                        return Err(tls_ended(reason, out));
                    }
                    // QUIT that cannot be written finds the server gone, as a close read
                    // instead of its 221 does: the session says so and its outcome stands (a
                    // `--pipe` command that refused the banner with 554 and exited is exit 21,
                    // as over TCP and in swaks, not a broken pipe's 6).
                    if phase == Phase::Quit {
                        out.emit(Event::warning(format!("write failed: {e}")));
                        session.feed_eof();
                        continue;
                    }
                    // A reply the server sent before it cut the connection (a BDAT refused at
                    // once, its chunk never read) says why: the session reads it as if the
                    // write had gone through, then the close. It was lost behind "Connection
                    // reset by peer" (exit 6).
                    let unread = conn.unread_after_write_error(wait).await;
                    if !unread.is_empty() {
                        out.emit(Event::warning(format!("write failed: {e}")));
                        session.feed(&unread);
                        session.feed_eof();
                        peer_closed = true;
                        continue;
                    }
                    return Err(e);
                }
                Err(e) => return Err(e),
                Ok(()) => {}
            }
            waiting_since = at;
        } else {
            out.emit_all(said);
        }
        match session.poll_action() {
            Some(Action::StartTls) => {
                let Some(plain) = slot.take() else {
                    return Ok(());
                };
                out.at.doing(
                    Phase::StartTls,
                    "in the TLS handshake (after the server's 220 to STARTTLS)".into(),
                );
                match plain.start_tls(plan, &mut |e| out.emit(e)).await {
                    Ok(c) => {
                        out.at
                            .doing(Phase::HeloAfterTls, "after the TLS handshake".into());
                        state.tls = c.tls.clone();
                        *slot = Some(c);
                        session.tls_established();
                    }
                    Err(Error::Session(SessionError::Tls(reason))) => {
                        session.tls_failed(reason);
                        drain(session, out);
                        return Ok(());
                    }
                    Err(e) => return Err(e),
                }
                waiting_since = Instant::now();
                continue;
            }
            Some(Action::Close) => {
                drain(session, out);
                return Ok(());
            }
            Some(Action::ConfirmPlaintextAuth) => {
                // What the session said so far is on the screen before the question.
                drain(session, out);
                let yes = out.confirm_plaintext.is_some_and(|ask| ask());
                session.plaintext_auth_answered(yes);
                // The time spent answering is not the server's.
                waiting_since = Instant::now();
                continue;
            }
            None => {}
        }
        if session.is_closed() {
            drain(session, out);
            return Ok(());
        }
        buf.clear();
        let read = conn.stream.read_buf(&mut buf);
        let n = if timeout.is_zero() {
            Some(read.await)
        } else {
            // The timeout is per reply (swaks): the whole reply must arrive within it, parsing
            // included, so a server trickling one byte at a time cannot hold us forever. A
            // deadline already passed (bytes kept coming, none completing the reply) is the
            // same timeout: the read would return at once and never let the clock strike.
            let deadline = tokio::time::Instant::from_std(waiting_since + timeout);
            if tokio::time::Instant::now() >= deadline {
                None
            } else {
                tokio::time::timeout_at(deadline, read).await.ok()
            }
        };
        let Some(n) = n else {
            // What the timeout means in this phase is the session's to say, however the
            // deadline was found passed.
            let secs = timeout.as_secs_f64();
            let failed = session.on_timeout(secs);
            if !session.is_closed() {
                // QUIT is on its way (as swaks sends it): its reply gets the same timeout, and
                // the session's own error decides the exit code.
                continue;
            }
            drain(session, out);
            return match failed {
                Some(phase) => Err(Error::Timeout {
                    phase,
                    secs,
                    implicit_tls: false,
                    handshake: false,
                }),
                None => Ok(()),
            };
        };
        // The server may have renegotiated TLS during this read: said, and a refused
        // renegotiation (an untrusted certificate under --tls-verify, or no end to them) ends
        // the session as a TLS failure, whatever the read returned.
        for ev in conn.stream.renegotiation_news() {
            out.emit(ev);
        }
        if let Some(why) = conn.stream.renegotiation().and_then(|r| r.refusal()) {
            drain(session, out);
            let reason = crate::smtp::codes::Hint::plain(why);
            out.emit(Event::TlsFailed {
                reason: reason.clone(),
            });
            return Err(Error::Session(SessionError::Tls(reason)));
        }
        match n {
            Ok(0) => session.feed_eof(),
            Ok(n) => {
                if raw {
                    out.emit(Event::RawReceived {
                        bytes: crate::smtp::event::Bytes(session.redact_received(&buf[..n])),
                    });
                }
                // The deadline is checked before the next read, once the replies this
                // completed have moved `waiting_since` on.
                session.feed(&buf[..n]);
            }
            Err(e) => {
                if let Some(reason) = tls::alert_on_read(&e) {
                    return Err(tls_ended(reason, out));
                }
                // A reset after a 421 is the close it announced, met by the QUIT written
                // after it: no warning (the reply already said the server is closing).
                let announced =
                    session.close_announced() && e.kind() == std::io::ErrorKind::ConnectionReset;
                if !announced {
                    out.emit(Event::warning(format!("read failed: {e}")));
                }
                session.feed_eof();
            }
        }
    }
}

/// The server ended the TLS session with an alert (`reason`): said as a TLS failure, and the
/// run's error (exit 29).
fn tls_ended(reason: crate::smtp::codes::Hint, out: &mut Output<'_>) -> Error {
    let msg = reason.after("the server ended the TLS session: ");
    out.emit(Event::TlsFailed {
        reason: msg.clone(),
    });
    Error::Session(SessionError::Tls(msg))
}

/// `fut` polled once: its output if it is ready at once, `None` if it would wait (then it is
/// still to be awaited, its waker registered).
async fn ready_now<F: std::future::Future>(mut fut: std::pin::Pin<&mut F>) -> Option<F::Output> {
    use std::task::Poll;
    std::future::poll_fn(|cx| match fut.as_mut().poll(cx) {
        Poll::Ready(v) => Poll::Ready(Some(v)),
        Poll::Pending => Poll::Ready(None),
    })
    .await
}

fn drain(session: &mut Session, out: &mut Output<'_>) {
    while let Some(ev) = session.poll_event() {
        out.emit(ev);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `--deadline` says it cut, read off the events: a lookup, a connection attempt, the
    /// banner, a reply (pipelined ones together), a write, the message's reply (delivery then
    /// unknown).
    #[test]
    fn the_deadline_names_the_step_it_cut() {
        let sent = |text: &str, kind, phase| Event::Sent {
            text: text.into(),
            kind,
            bytes: text.len(),
            lines: 1,
            tls: false,
            expected: true,
            redacted: false,
            phase,
        };
        let received = |phase| Event::Received {
            reply: crate::smtp::reply::Reply::new(250, &[]),
            tls: false,
            expected: true,
            phase,
            explanation: Default::default(),
        };
        let mut at = Whereabouts::new();
        at.see(&Event::DnsQuery {
            name: "example.net".into(),
            rtype: "MX".into(),
        });
        let said = |at: &Whereabouts, phase, words: &str| {
            assert_eq!(at.describe(), (phase, words.to_string()));
        };
        said(
            &at,
            Phase::Dns,
            "while waiting for the MX answer for example.net",
        );
        at.see(&Event::Connecting {
            host: "mx.example.net".into(),
            addr: "192.0.2.1:25".into(),
        });
        said(
            &at,
            Phase::Connect,
            "while connecting to mx.example.net [192.0.2.1:25]",
        );
        at.see(&Event::Connected {
            host: "mx.example.net".into(),
            peer: "192.0.2.1:25".into(),
            local: "192.0.2.9:40000".into(),
            proxy: None,
        });
        said(&at, Phase::Banner, "while waiting for the banner");
        at.see(&received(Phase::Banner));
        said(&at, Phase::Banner, "after the banner");
        at.see(&sent("EHLO client.test", SentKind::Command, Phase::Helo));
        said(&at, Phase::Helo, "while waiting for the reply to EHLO");
        at.see(&received(Phase::Helo));
        for (text, phase) in [
            ("MAIL FROM:<a@b.test>", Phase::Mail),
            ("RCPT TO:<c@d.test>", Phase::Rcpt),
            ("DATA", Phase::Data),
        ] {
            at.see(&sent(text, SentKind::Command, phase));
        }
        said(
            &at,
            Phase::Mail,
            "while waiting for the replies to MAIL, RCPT, DATA",
        );
        at.see(&received(Phase::Mail));
        at.see(&received(Phase::Rcpt));
        said(&at, Phase::Data, "while waiting for the reply to DATA");
        assert!(!at.delivery_unsure());
        at.see(&received(Phase::Data));
        said(&at, Phase::Data, "after the reply to DATA");
        at.see(&sent("(body)", SentKind::Body, Phase::Dot));
        at.see(&sent(".", SentKind::Body, Phase::Dot));
        at.writing = true;
        said(&at, Phase::Dot, "while sending the message");
        at.writing = false;
        said(
            &at,
            Phase::Dot,
            "while waiting for the reply to the message",
        );
        assert!(at.delivery_unsure());
        at.see(&received(Phase::Dot));
        assert!(!at.delivery_unsure());
    }

    /// A command goes out before the transcript of the reply that led to it is rendered, so
    /// the server works on it meanwhile; the events are rendered as before, in the same order.
    /// The sink, rendering the banner, waits for the server to have the EHLO: before, EHLO was
    /// written only after the banner's lines, and this waited in vain.
    #[test]
    fn a_command_is_written_before_the_reply_that_led_to_it_is_rendered() {
        use std::io::{BufRead, BufReader, Write};
        use std::sync::mpsc;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let (heard, ehlo_heard) = mpsc::channel::<String>();
        let server = std::thread::spawn(move || {
            let (stream, _) = listener.accept().expect("accept");
            let mut w = stream.try_clone().expect("clone");
            let mut r = BufReader::new(stream);
            w.write_all(b"220 t.test ESMTP\r\n").expect("banner");
            let mut line = String::new();
            let mut data = false;
            loop {
                line.clear();
                if r.read_line(&mut line).expect("read") == 0 {
                    return;
                }
                let reply: &[u8] = if data {
                    if line != ".\r\n" {
                        continue;
                    }
                    data = false;
                    b"250 2.0.0 queued\r\n"
                } else if line.starts_with("EHLO") {
                    let _ = heard.send(line.clone());
                    b"250 t.test\r\n"
                } else if line.starts_with("DATA") {
                    data = true;
                    b"354 go on\r\n"
                } else if line.starts_with("QUIT") {
                    b"221 2.0.0 bye\r\n"
                } else {
                    b"250 2.1.0 ok\r\n"
                };
                w.write_all(reply).expect("reply");
            }
        });
        struct Watching {
            ehlo_heard: mpsc::Receiver<String>,
            /// What the server had read when the banner was rendered.
            at_banner: Option<String>,
            kinds: Vec<String>,
        }
        impl Sink for Watching {
            fn event(&mut self, event: &Event, _: Duration) {
                let kind = match event {
                    Event::Timing { phase, .. } => format!("timing {phase:?}"),
                    Event::Received { phase, .. } => format!("received {phase:?}"),
                    Event::Sent { text, .. } => {
                        format!("sent {}", text.lines().next().unwrap_or(""))
                    }
                    _ => return,
                };
                if kind == "received Banner" {
                    self.at_banner = self.ehlo_heard.recv_timeout(Duration::from_secs(5)).ok();
                }
                self.kinds.push(kind);
            }
        }
        let mut sink = Watching {
            ehlo_heard,
            at_banner: None,
            kinds: Vec::new(),
        };
        let connect = crate::net::route::Link {
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            ..Default::default()
        }
        .to(crate::net::route::Target::Host {
            host: "127.0.0.1".into(),
            port,
        });
        let plan = Plan {
            helo: "client.test".into(),
            from: "a@x.test".into(),
            rcpts: vec!["b@y.test".into()],
            message: b"Subject: t\r\n\r\nhi\r\n".to_vec(),
            ..Plan::default()
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let code = runtime.block_on(send(&connect, plan, &mut sink));
        server.join().expect("server");
        assert_eq!(code, 0, "{:?}", sink.kinds);
        assert_eq!(sink.at_banner.as_deref(), Some("EHLO client.test\r\n"));
        let phases = ["Helo", "Mail", "Rcpt", "Data", "Dot", "Quit"];
        let sent = [
            "EHLO client.test",
            "MAIL FROM:<a@x.test>",
            "RCPT TO:<b@y.test>",
            "DATA",
        ];
        let mut want = vec!["timing Connect".to_string(), "timing Banner".into()];
        want.push("received Banner".into());
        for (i, phase) in phases.iter().enumerate() {
            match (sent.get(i), *phase) {
                (Some(text), _) => want.push(format!("sent {text}")),
                (None, "Dot") => want.push("sent Subject: t".into()),
                (None, _) => want.push("sent QUIT".into()),
            }
            want.push(format!("timing {phase}"));
            want.push(format!("received {phase}"));
        }
        assert_eq!(sink.kinds, want);
    }

    #[test]
    fn a_group_member_is_read_after_the_last_parenthesis_and_a_zombie_has_ended() {
        // PID (COMM) STATE PPID PGRP: a command name with ") S 1 " in it cannot fool it.
        assert!(stat_in_group_and_running("42 (sleep) S 41 40 40 0", 40));
        assert!(stat_in_group_and_running(
            "42 (a) S 1 2 (b)) R 41 40 40",
            40
        ));
        assert!(!stat_in_group_and_running("42 (sleep) S 41 39 39 0", 40));
        assert!(!stat_in_group_and_running("42 (sleep) Z 41 40 40 0", 40));
        assert!(!stat_in_group_and_running("garbage", 40));
    }

    #[test]
    fn ending_a_group_that_traps_sigterm_kills_it_after_the_grace() {
        use std::io::BufRead;
        use std::os::unix::process::CommandExt;
        // A group whose one member ignores SIGTERM: SIGKILL after the grace, not before.
        let mut child = std::process::Command::new("/bin/sh")
            .args([
                "-c",
                "trap '' TERM; echo trapped; while :; do sleep 0.05; done",
            ])
            .process_group(0)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("sh");
        let pid = child.id();
        // The shell has set its trap once it says so (a fixed pause was not always enough on a
        // busy machine: the SIGTERM came first and ended the shell at once).
        let mut said = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut said)
            .unwrap();
        assert_eq!(said, "trapped\n");
        let started = Instant::now();
        PipeGroup::end(Some(pid));
        let took = started.elapsed();
        let status = child.wait().expect("wait");
        assert!(took >= PIPE_GRACE, "SIGKILL came after {took:?}");
        assert!(took < PIPE_GRACE * 4, "ending took {took:?}");
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(9),
            "{status:?}"
        );
        // One that ends on SIGTERM costs no grace.
        let mut child = std::process::Command::new("/bin/sh")
            .args(["-c", "exec sleep 30"])
            .process_group(0)
            .spawn()
            .expect("sh");
        std::thread::sleep(Duration::from_millis(100));
        let started = Instant::now();
        // The leader is not reaped while this runs: a zombie counts as ended.
        PipeGroup::end(Some(child.id()));
        let took = started.elapsed();
        let status = child.wait().expect("wait");
        assert!(took < PIPE_GRACE, "a SIGTERMed group took {took:?}");
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(15),
            "{status:?}"
        );
    }
}
