//! `ehlo serve`: a tokio listener hosting `smtp::server::Session`, with STARTTLS / implicit TLS, AUTH,
//! fault injection and message storage.
//!
//! Each connection is one task pumping the socket through a sans-IO [`Session`] (see its module
//! doc for the ordered bytes/actions stream). Events of every connection go through one channel
//! to one rendering thread (a task of the runtime under `--quiet`, which shows a line per
//! message and no transcript: the session then makes none); when the connection changes, an
//! `Info` line `session N` says whose events follow. Messages go to a bounded in-memory list, and to a Maildir / mbox when asked
//! ([`store`]); their content is written as it arrives (the session's
//! [`ServerAction::Content`] pieces), never held whole, and the transcript shows its first
//! [`SHOWN_BYTES`].
//!
//! Limits, so it is safe to leave running: at most `--max-connections` open connections (256;
//! one more is answered `421 4.3.2` and closed); an idle timeout (the driver owns it, the core
//! has no clock) of `--idle-timeout` (5 minutes, RFC 5321 §4.5.3.2.7) for each complete command
//! line, however its bytes trickle in, and twice that for a message's content (ehlo's own
//! choice: §4.5.3.2 sets the server no limit there; its 10 minutes of §4.5.3.2.6 are the
//! client's wait for the reply after the final dot), then `421 4.4.2`; the same limit for a client to take any byte of our
//! replies (one that sends and never reads is closed, and nothing is read from it meanwhile);
//! the same limit for a TLS handshake; once a client is turned away because every connection
//! slot is in use (busy, Postfix's stress mode), `--busy-timeout` (10 s) left to each open session, whatever it sends (see
//! [`Busy`]), a TLS handshake, `--greet-pause` and a PROXY header's wait included;
//! `--max-auth-failures` failed AUTH attempts per connection, `--hard-error-limit` errors and
//! `--junk-command-limit` junk commands, both 1 while busy (see `smtp::server`). When the server stops, a handshake under way ends at once and a client that
//! reads no reply gets [`CLOSE_WAIT`] more, each with its line and `closed` event.

mod fds;
mod listen;
mod store;
mod tls;

pub use listen::Listen;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use openssl::ssl::SslAcceptor;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio_openssl::SslStream;

use crate::Error;
use crate::render::{Format, HumanOptions, Renderer};
use crate::smtp::auth::Secret;
use crate::smtp::codes::Hint;
use crate::smtp::event::{AcceptedTls, Bytes, Event};
use crate::smtp::server::{Faults, ServerAction, ServerConfig, Session, StoreOutcome};

pub(crate) use crate::smtp::server::StoredMessage;
#[cfg(test)]
use store::SHOWN_BYTES;

/// Time allowed for the client's next complete command (RFC 5321 §4.5.3.2.7: 5 minutes).
pub(crate) const IDLE_TIMEOUT: Duration = Duration::from_secs(300);
/// Default `--busy-timeout`: what Postfix's stress mode sets smtpd_timeout to (its
/// STRESS_README), here as the time each session has left once every slot is in use.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Default `--hard-error-limit`: Postfix's `smtpd_hard_error_limit` (postconf(5)).
pub(crate) const HARD_ERROR_LIMIT: u32 = 20;
/// Default `--junk-command-limit`: Postfix's `smtpd_junk_command_limit` (postconf(5)).
pub(crate) const JUNK_COMMAND_LIMIT: u32 = 100;
/// Default `--soft-error-limit`: Postfix's `smtpd_soft_error_limit` (postconf(5)).
pub(crate) const SOFT_ERROR_LIMIT: u32 = 10;
/// Default `--error-sleep-time`: Postfix's `smtpd_error_sleep_time` (postconf(5)).
pub(crate) const ERROR_SLEEP_TIME: Duration = Duration::from_secs(1);
/// Open connections allowed at once by default.
pub(crate) const MAX_CONNECTIONS: usize = 256;
/// Default `--min-free`: the free space kept on the file systems messages are written to
/// (Postfix refuses mail below 1.5 × its 10 MB message_size_limit; Exim's check_spool_space
/// is commonly 10M).
pub(crate) const MIN_FREE: u64 = 10 * 1024 * 1024;
/// Default `--max-auth-failures`.
const MAX_AUTH_FAILURES: u32 = 3;
/// Connections being refused (the `421 4.3.2` being written) at once; beyond it an excess
/// connection is closed without a word, so a flood cannot pile up refusal tasks.
const MAX_REFUSING: usize = 64;
/// Bytes read from a connection at a time.
const READ_BUF: usize = 16 * 1024;
/// Time the open sessions get to say `421 4.3.2` and close when the server stops; those still
/// busy after it (a TLS handshake, a client that reads nothing) are ended without it.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// Settings of the embedded server.
#[derive(Clone)]
pub struct ServeOptions {
    /// Where to listen (default 127.0.0.1:2525; port 0 picks a free one): an address, or a
    /// host name resolved when the server binds, listened on at every address it has.
    pub listen: Listen,
    /// Implicit TLS on every connection.
    pub tls_on_connect: bool,
    /// Offer STARTTLS.
    pub starttls: bool,
    /// Certificate (PEM); a self-signed one is generated when absent.
    pub cert: Option<PathBuf>,
    /// Private key (PEM: PKCS#8, PKCS#1 or SEC1).
    pub key: Option<PathBuf>,
    /// Accepted `NAME:PASS` pairs for AUTH PLAIN/LOGIN/CRAM-MD5.
    pub users: Vec<(String, String)>,
    /// Accept any credentials.
    pub accept_any_auth: bool,
    /// Advertise and accept AUTH before STARTTLS even when STARTTLS is offered.
    pub auth_before_tls: bool,
    /// `--require-tls`: refuse MAIL (`530 5.7.0`) until the session is in TLS.
    pub require_tls: bool,
    /// `--require-auth`: refuse MAIL (`530 5.7.0`) until the client authenticated.
    pub require_auth: bool,
    /// Fault specs (`rcpt=550:5.1.1`, `data=452`, `connect=421`, …), validated at start.
    pub faults: Vec<String>,
    /// Delay specs (`cmd:ms`).
    pub delays: Vec<String>,
    /// Extensions not to advertise.
    pub hide: Vec<String>,
    /// LMTP mode (LHLO, one reply per recipient after DATA).
    pub lmtp: bool,
    /// Largest message accepted (SIZE); 0 = no limit (a bare `SIZE` is advertised).
    pub max_size: usize,
    /// Free space kept on the file systems messages are written to, in bytes: below it MAIL
    /// and the message are answered `452 4.3.1`; 0 = no reserve; `None`: the default, 10 MiB.
    /// Given without `maildir`/`mbox`, a start warning says it does nothing.
    pub min_free: Option<u64>,
    /// Store messages in this Maildir.
    pub maildir: Option<PathBuf>,
    /// Append messages to this mbox.
    pub mbox: Option<PathBuf>,
    /// Seed for any randomness.
    pub seed: Option<u64>,
    /// Host name in the banner and EHLO reply.
    pub hostname: String,
    /// Exit after this many sessions (tests).
    pub max_sessions: Option<usize>,
    /// Open connections allowed at once; one more is refused with `421 4.3.2`.
    pub max_connections: usize,
    /// Time allowed for each complete command (twice for message content); zero = none.
    pub idle_timeout: Duration,
    /// `--busy-timeout`: once a connection is turned away because every `max_connections` slot
    /// is in use (the server is busy), the time each open session has left before `421 4.4.2`;
    /// zero = never busy.
    pub busy_timeout: Duration,
    /// Failed AUTH attempts per connection before `421 4.7.0` (0 = no limit); `None`: the
    /// default, 3. Given with no AUTH on offer, a start warning says it does nothing.
    pub max_auth_failures: Option<u32>,
    /// `--hard-error-limit`: client errors (replies 500-504) without a message delivered
    /// before `421 4.7.0`; 1 while busy; 0 = no limit.
    pub hard_error_limit: u32,
    /// `--junk-command-limit`: NOOP/RSET/VRFY/HELP without a message delivered before each
    /// counts as an error; 1 while busy; 0 = no limit.
    pub junk_command_limit: u32,
    /// `--soft-error-limit`: client errors without a message delivered past which every
    /// reply waits `error_sleep_time`; not lowered while busy; 0 = no limit.
    pub soft_error_limit: u32,
    /// `--error-sleep-time`: the wait before each reply past `soft_error_limit`.
    pub error_sleep_time: Duration,
    /// `--quirk`: vulnerable behaviours for testing safety probes (`smtp::server::quirk`).
    pub quirks: crate::smtp::server::Quirks,
    /// `--greet-pause`: wait this long before the greeting and refuse a client that talks
    /// first (zero = greet at once, early talkers are not noticed).
    pub greet_pause: Duration,
    /// `--accept-proxy`: every connection starts with a PROXY protocol header (v1 or v2),
    /// read before the greeting and any TLS; the client it names is the connection's.
    pub proxy_protocol: bool,
    /// `--proxy-timeout`: time a connection has to send its whole PROXY header.
    pub proxy_timeout: Duration,
    /// Each flag set below the command line (`--min-free`), with where it was set as a line
    /// naming it says so after it (` (set by EHLO_MIN_FREE in the environment)`): for the start
    /// warnings that a flag does nothing here ([`ServeOptions::source_mark`]) and the lines that
    /// name a limit in brackets ([`ServeOptions::named`]). A flag not listed was typed, or left
    /// at its default.
    pub source_marks: Vec<(String, String)>,
    /// Output.
    pub format: Format,
    /// `--quiet`: one line per stored message (and warnings and errors), no transcript and no
    /// message content.
    pub quiet: bool,
}

impl Default for ServeOptions {
    /// Loopback port 2525, no TLS, no AUTH, no faults, 10 MiB SIZE, host name `localhost`.
    fn default() -> Self {
        ServeOptions {
            listen: Listen::Addr(SocketAddr::from(([127, 0, 0, 1], 2525))),
            tls_on_connect: false,
            starttls: false,
            cert: None,
            key: None,
            users: Vec::new(),
            accept_any_auth: false,
            auth_before_tls: false,
            require_tls: false,
            require_auth: false,
            faults: Vec::new(),
            delays: Vec::new(),
            hide: Vec::new(),
            lmtp: false,
            max_size: 10 * 1024 * 1024,
            min_free: None,
            maildir: None,
            mbox: None,
            seed: None,
            hostname: "localhost".into(),
            max_sessions: None,
            max_connections: MAX_CONNECTIONS,
            idle_timeout: IDLE_TIMEOUT,
            busy_timeout: BUSY_TIMEOUT,
            max_auth_failures: None,
            hard_error_limit: HARD_ERROR_LIMIT,
            junk_command_limit: JUNK_COMMAND_LIMIT,
            soft_error_limit: SOFT_ERROR_LIMIT,
            error_sleep_time: ERROR_SLEEP_TIME,
            quirks: crate::smtp::server::Quirks::default(),
            greet_pause: Duration::ZERO,
            proxy_protocol: false,
            proxy_timeout: PROXY_TIMEOUT,
            source_marks: Vec::new(),
            format: Format::Human(HumanOptions::default()),
            quiet: false,
        }
    }
}

impl std::fmt::Debug for ServeOptions {
    /// Like the derived form, but passwords are shown as their length only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let users: Vec<(&str, Secret)> = self
            .users
            .iter()
            .map(|(u, p)| (u.as_str(), Secret::new(p.clone())))
            .collect();
        f.debug_struct("ServeOptions")
            .field("listen", &self.listen)
            .field("tls_on_connect", &self.tls_on_connect)
            .field("starttls", &self.starttls)
            .field("cert", &self.cert)
            .field("key", &self.key)
            .field("users", &users)
            .field("accept_any_auth", &self.accept_any_auth)
            .field("auth_before_tls", &self.auth_before_tls)
            .field("require_tls", &self.require_tls)
            .field("require_auth", &self.require_auth)
            .field("faults", &self.faults)
            .field("delays", &self.delays)
            .field("hide", &self.hide)
            .field("lmtp", &self.lmtp)
            .field("max_size", &self.max_size)
            .field("min_free", &self.min_free)
            .field("maildir", &self.maildir)
            .field("mbox", &self.mbox)
            .field("seed", &self.seed)
            .field("hostname", &self.hostname)
            .field("max_sessions", &self.max_sessions)
            .field("max_connections", &self.max_connections)
            .field("idle_timeout", &self.idle_timeout)
            .field("busy_timeout", &self.busy_timeout)
            .field("max_auth_failures", &self.max_auth_failures)
            .field("hard_error_limit", &self.hard_error_limit)
            .field("junk_command_limit", &self.junk_command_limit)
            .field("soft_error_limit", &self.soft_error_limit)
            .field("error_sleep_time", &self.error_sleep_time)
            .field("quirks", &self.quirks)
            .field("greet_pause", &self.greet_pause)
            .field("proxy_protocol", &self.proxy_protocol)
            .field("proxy_timeout", &self.proxy_timeout)
            .field("source_marks", &self.source_marks)
            .field("format", &self.format)
            .field("quiet", &self.quiet)
            .finish()
    }
}

/// Events of connection `N` (0 = the server itself) on their way to the rendering thread.
type Tagged = (u64, Event);

/// Bound of the event channel: connections wait (backpressure) rather than buffer without end.
const EVENT_QUEUE: usize = 1024;
/// `--quiet`: how long a rendered line may wait to be handed to the output thread, so that
/// the lines of messages stored close together go out in one write. Handing over at every
/// pause of the event queue woke that thread once every two or three messages under load
/// (1 900 futex wake-ups and thread switches for 5000 messages), on the core the clients
/// needed; a person watching the lines cannot see 20 ms.
const QUIET_FLUSH: Duration = Duration::from_millis(20);

/// What every connection task shares.
struct Shared {
    config: ServerConfig,
    seed: u64,
    idle_timeout: Duration,
    /// `--greet-pause`.
    greet_pause: Duration,
    /// `--accept-proxy`.
    proxy_protocol: bool,
    /// `--proxy-timeout`.
    proxy_timeout: Duration,
    /// `--accept-proxy`, `--idle-timeout` and `--proxy-timeout` as the lines of a connection
    /// they end name them ([`ServeOptions::named`]).
    accept_proxy_named: String,
    idle_timeout_named: String,
    proxy_timeout_named: String,
    /// `--busy-timeout` and how the lines name it.
    busy_timeout: Duration,
    busy_timeout_named: String,
    /// `--hard-error-limit` and `--junk-command-limit` as the line of a session they end
    /// names them.
    hard_error_limit_named: String,
    junk_command_limit_named: String,
    /// While every slot is in use: when the open sessions' time runs out (the moment the
    /// server became busy plus `--busy-timeout`); None while a slot is free. Only the accept
    /// loop, which counts the connections, changes it.
    busy: watch::Receiver<Option<tokio::time::Instant>>,
    tls_on_connect: bool,
    acceptor: Option<SslAcceptor>,
    store: Arc<store::Store>,
    /// This server's sessions take their turn at the mbox here, so that its flock(2) is only
    /// ever waited for because of another process.
    mbox_turn: tokio::sync::Mutex<()>,
    events: mpsc::Sender<Tagged>,
    /// `--quiet`: only [`quiet_keeps`] events reach the renderer.
    quiet: bool,
    /// Becomes true when the server stops: each open session answers `421 4.3.2` and closes.
    stop: watch::Receiver<bool>,
}

/// What `--quiet` still shows: stored messages (one line each: their content is left out),
/// warnings and errors, and failed TLS handshakes.
fn quiet_keeps(ev: &Event) -> bool {
    matches!(
        ev,
        Event::MessageStored { .. }
            | Event::Warning { .. }
            | Event::Error { .. }
            | Event::TlsFailed { .. }
    )
}

/// `--quiet` shows no `session N` line and no connection: a warning, an error or a failed TLS
/// handshake says itself which session and client it is about, so that each problem is one
/// line that can be traced (as Postfix's `lost connection after DATA from host[addr]`).
fn naming_the_client(ev: Event, id: u64, peer: SocketAddr) -> Event {
    // Formatted only for the events that carry it: a stored message's line (every message
    // under load) has no use for it.
    let who = || format!("session {id} ({peer})");
    match ev {
        Event::Warning { message } => Event::Warning {
            message: message.after(&format!("{}: ", who())),
        },
        Event::Error { message } => Event::Error {
            message: format!("{}: {message}", who()),
        },
        // The renderer says a reason that starts with "TLS " as it is.
        Event::TlsFailed { reason } => {
            let text = reason.words(|_| String::new());
            let who = who();
            let lead = if text.starts_with("TLS ") {
                format!("TLS: {who}: ")
            } else {
                format!("TLS handshake failed in {who}: ")
            };
            Event::TlsFailed {
                reason: reason.after(&lead),
            }
        }
        other => other,
    }
}

/// A running server (see [`start`]).
pub struct ServerHandle {
    addr: SocketAddr,
    // Not `Shared`: that holds the event sender, which must go away for the renderer to finish.
    store: Arc<store::Store>,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for ServerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerHandle")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl ServerHandle {
    /// The address actually bound (with the real port when 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The messages stored so far, oldest first (at most [`store::MEMORY_LIMIT`]; the content only
    /// without a Maildir or mbox, and at most [`store::MEMORY_BYTES`] of it in all).
    pub fn messages(&self) -> Vec<StoredMessage> {
        self.store.messages()
    }

    /// Stop accepting, end the open connections, flush the renderer and wait for all of it.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }
}

/// Run the server until Ctrl-C, SIGTERM or SIGHUP (or `max_sessions`), rendering each session
/// through `renderer` (the run's one renderer, built by the dispatcher, `app`:
/// `render::make_batched`), which also reports a failure to start. Returns the exit code: 0
/// after a clean shutdown, 1 for bad options, 2 when the address cannot be bound.
pub(crate) async fn run(opts: ServeOptions, renderer: Box<dyn Renderer>) -> u8 {
    // Handlers first, so that no signal finds the default action once the server is up: it
    // would end the process at once (143 for SIGTERM), leaving a half-received message's
    // Maildir file behind; and as PID 1 (a container) SIGTERM without a handler is ignored.
    let mut signals = Signals::new();
    // Nothing asks this server for its messages: keep none in memory.
    let json = matches!(opts.format, crate::render::Format::Json);
    let handle = match start_or_return(opts, renderer, false).await {
        Ok(h) => h,
        Err((e, mut r)) => {
            r.event(
                &Event::Error {
                    message: e.to_string(),
                },
                Duration::ZERO,
            );
            if json {
                // JSON Lines on stdout: the reason goes to stderr too, and the run ends with
                // its summary (src/render/json.rs).
                e.report();
                r.event(&Event::Summary(serve_summary(Some(&e))), Duration::ZERO);
            }
            r.finish();
            return e.exit_code();
        }
    };
    let ServerHandle {
        shutdown, mut task, ..
    } = handle;
    tokio::select! {
        () = signals.next() => {
            let _ = shutdown.send(true);
            let _ = task.await;
        }
        _ = &mut task => {}
    }
    crate::error::EXIT_OK
}

/// The `summary` of a server run: exit 0 and `ok` when it stopped (a signal, `--max-sessions`),
/// or the error that kept it from starting.
fn serve_summary(error: Option<&Error>) -> crate::smtp::event::Summary {
    crate::smtp::event::Summary {
        exit_code: error.map_or(crate::error::EXIT_OK, Error::exit_code),
        outcome: error.map_or("ok", Error::label).to_string(),
        error: error.map(Error::to_string),
        ..Default::default()
    }
}

/// The signals that stop `ehlo serve` cleanly: SIGINT (Ctrl-C), SIGTERM (`kill`, `docker
/// stop`, systemd) and SIGHUP (the terminal went away). A handler that cannot be installed is
/// left out (its signal keeps the default action).
struct Signals {
    int: Option<tokio::signal::unix::Signal>,
    term: Option<tokio::signal::unix::Signal>,
    hup: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    fn new() -> Signals {
        use tokio::signal::unix::{SignalKind, signal};
        Signals {
            int: signal(SignalKind::interrupt()).ok(),
            term: signal(SignalKind::terminate()).ok(),
            hup: signal(SignalKind::hangup()).ok(),
        }
    }

    /// The first of them to arrive.
    async fn next(&mut self) {
        async fn one(s: &mut Option<tokio::signal::unix::Signal>) {
            match s {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending().await,
            }
        }
        tokio::select! {
            () = one(&mut self.int) => {}
            () = one(&mut self.term) => {}
            () = one(&mut self.hup) => {}
        }
    }
}

/// Start the server in the background, rendering through
/// `crate::render::make_batched` (use `HumanOptions { silent: 3, .. }` for a
/// quiet in-process server). For tests and embedders; `ehlo serve` itself runs [`run`].
pub async fn start(opts: ServeOptions) -> Result<ServerHandle, Error> {
    // Tests and embedders: no dispatcher is there to say what this stdout lost (`ehlo serve`'s
    // own is watched by `app`).
    let watch = crate::render::watch::Watch::default();
    let renderer = crate::render::make_batched(&opts.format, &watch);
    start_with(opts, renderer).await
}

/// [`start`] with a renderer of the caller's choice.
pub async fn start_with(
    opts: ServeOptions,
    renderer: Box<dyn Renderer>,
) -> Result<ServerHandle, Error> {
    start_or_return(opts, renderer, true)
        .await
        .map_err(|(e, _)| e)
}

/// What [`start_with`] sets up before anything runs: each step may fail.
struct Bound {
    faults: Faults,
    acceptor: Option<SslAcceptor>,
    /// `--tls-cert` out of its dates: said at start ([`tls::acceptor`]).
    cert_warning: Option<String>,
    store: Arc<store::Store>,
    /// Every listener of `listen`, with its bound address (never empty).
    listeners: Vec<(TcpListener, SocketAddr)>,
}

/// The options' own mistakes, found without touching a file or a socket: the faults as typed,
/// or a one-line refusal naming the flags. `ehlo serve` asks at parse time too (`cli`), so that
/// a refusal of a flag set by `EHLO_*` names the variable, as every other refusal of the
/// command line does; [`bind`] asks again for a server started from the library.
pub(crate) fn check_options(opts: &ServeOptions) -> Result<Faults, Error> {
    let faults = crate::cli::serve_specs::faults(&opts.faults, &opts.delays, &opts.hide)
        .map_err(|e| Error::Usage(e.to_string()))?;
    if !opts.lmtp && faults.uses(crate::smtp::server::Point::LmtpRcpt) {
        return Err(Error::Usage(
            "--fail/--delay lmtp-rcpt needs --lmtp (an SMTP server gives one reply for the whole message: use dot)".into(),
        ));
    }
    if opts.tls_on_connect && opts.starttls {
        return Err(Error::Usage(
            "--tls-on-connect and --starttls exclude each other".into(),
        ));
    }
    if let Some(why) = dead_fault(opts, &faults) {
        return Err(Error::Usage(why));
    }
    // A requirement no client can meet would refuse every message: say so at start.
    if opts.require_tls && !(opts.tls_on_connect || (opts.starttls && !faults.hides("STARTTLS"))) {
        return Err(Error::Usage(
            "--require-tls needs TLS on offer: --starttls (not hidden) or --tls-on-connect".into(),
        ));
    }
    if opts.require_auth
        && ((opts.users.is_empty() && !opts.accept_any_auth) || faults.hides("AUTH"))
    {
        return Err(Error::Usage(
            "--require-auth needs AUTH on offer: --user or --accept-any-auth (and no --hide AUTH)"
                .into(),
        ));
    }
    if !(opts.tls_on_connect || opts.starttls) && (opts.cert.is_some() || opts.key.is_some()) {
        return Err(Error::Usage(
            "--tls-cert/--tls-key need --starttls or --tls-on-connect".into(),
        ));
    }
    if opts.cert.is_some() != opts.key.is_some() {
        return Err(Error::Usage(
            "--tls-cert and --tls-key must be given together".into(),
        ));
    }
    Ok(faults)
}

/// Check the options, build the TLS acceptor and the store, bind the listener.
async fn bind(opts: &ServeOptions, keep: bool) -> Result<Bound, Error> {
    let faults = check_options(opts)?;
    let (acceptor, cert_warning) = if opts.tls_on_connect || opts.starttls {
        let (a, w) = tls::acceptor(
            opts.cert.as_deref(),
            opts.key.as_deref(),
            std::slice::from_ref(&opts.hostname),
        )?;
        (Some(a), w)
    } else {
        (None, None)
    };
    let store = Arc::new(
        store::Store::new(opts.maildir.clone(), opts.mbox.clone())
            .map_err(Error::Usage)?
            .keeping(keep, !opts.quiet)
            .min_free(opts.min_free.unwrap_or(MIN_FREE), &opts.named("--min-free")),
    );
    let listeners = listen::bind_all(&opts.listen).await?;
    Ok(Bound {
        faults,
        acceptor,
        cert_warning,
        store,
        listeners,
    })
}

/// [`start_with`], handing the renderer back with the error when the server cannot start, so
/// the one renderer of `ehlo serve` also reports that.
async fn start_or_return(
    opts: ServeOptions,
    renderer: Box<dyn Renderer>,
    keep: bool,
) -> Result<ServerHandle, (Error, Box<dyn Renderer>)> {
    let Bound {
        faults,
        acceptor,
        cert_warning,
        store,
        listeners,
    } = match bind(&opts, keep).await {
        Ok(b) => b,
        Err(e) => return Err((e, renderer)),
    };
    let (tx, mut rx) = mpsc::channel::<Tagged>(EVENT_QUEUE);
    let started = Instant::now();
    // One thread renders everything, so lines of concurrent sessions never tear. Output is
    // written in batches: whenever no event is waiting, what the renderer holds is flushed.
    // --quiet renders in a task of the server's own runtime instead: one short line per
    // message does not need a thread of its own, and waking one for each line cost a futex
    // call and a thread switch per message.
    let quiet = opts.quiet;
    let mut lines = Lines {
        renderer,
        current: 0,
        quiet,
        started,
        json: matches!(opts.format, crate::render::Format::Json),
    };
    let rendering = if quiet {
        Rendering::Task(tokio::spawn(async move {
            // When the first line not yet handed over was rendered ([`QUIET_FLUSH`]); one
            // timer, re-armed for each batch.
            let mut held: Option<tokio::time::Instant> = None;
            let mut due = Box::pin(tokio::time::sleep(QUIET_FLUSH));
            loop {
                let (id, ev) = match rx.try_recv() {
                    Ok(x) => x,
                    Err(mpsc::error::TryRecvError::Empty) => {
                        let next = if held.is_some() {
                            tokio::select! {
                                x = rx.recv() => x,
                                () = due.as_mut() => {
                                    lines.renderer.flush();
                                    held = None;
                                    rx.recv().await
                                }
                            }
                        } else {
                            rx.recv().await
                        };
                        match next {
                            Some(x) => x,
                            None => break,
                        }
                    }
                    Err(mpsc::error::TryRecvError::Disconnected) => break,
                };
                lines.event(id, &ev);
                match held {
                    None => {
                        let now = tokio::time::Instant::now();
                        held = Some(now);
                        due.as_mut().reset(now + QUIET_FLUSH);
                    }
                    Some(since) if since.elapsed() >= QUIET_FLUSH => {
                        // Events that never pause still go out on time.
                        lines.renderer.flush();
                        held = None;
                    }
                    Some(_) => {}
                }
            }
            lines.end();
        }))
    } else {
        Rendering::Thread(std::thread::spawn(move || {
            loop {
                let (id, ev) = match rx.try_recv() {
                    Ok(x) => x,
                    Err(mpsc::error::TryRecvError::Empty) => {
                        lines.renderer.flush();
                        match rx.blocking_recv() {
                            Some(x) => x,
                            None => break,
                        }
                    }
                    Err(mpsc::error::TryRecvError::Disconnected) => break,
                };
                lines.event(id, &ev);
            }
            lines.end();
        }))
    };

    let config = server_config(&opts, faults);
    // Reproducible only when asked: a fixed default seed would repeat every CRAM-MD5
    // challenge, so a captured response would replay. The seed in use is printed.
    let seed = opts.seed.unwrap_or_else(crate::net::conn::random_seed);
    let (shutdown, shutdown_rx) = watch::channel(false);
    let (busy, busy_rx) = watch::channel(None);
    let shared = Arc::new(Shared {
        config,
        seed,
        idle_timeout: opts.idle_timeout,
        greet_pause: opts.greet_pause,
        proxy_protocol: opts.proxy_protocol,
        proxy_timeout: opts.proxy_timeout,
        accept_proxy_named: opts.named("--accept-proxy"),
        idle_timeout_named: opts.named("--idle-timeout"),
        proxy_timeout_named: opts.named("--proxy-timeout"),
        busy_timeout: opts.busy_timeout,
        busy_timeout_named: opts.named("--busy-timeout"),
        hard_error_limit_named: opts.named("--hard-error-limit"),
        junk_command_limit_named: opts.named("--junk-command-limit"),
        busy: busy_rx,
        tls_on_connect: opts.tls_on_connect,
        acceptor,
        store: Arc::clone(&store),
        mbox_turn: tokio::sync::Mutex::new(()),
        events: tx,
        quiet: opts.quiet,
        stop: shutdown_rx.clone(),
    });

    // Before the server says where it listens: from then on it may be asked for connections.
    let max_connections = opts.max_connections.max(1);
    let fd_warning = fds::raise_limit(
        fds::needed(max_connections),
        &format!(
            "--max-connections{} {max_connections}",
            opts.source_mark("--max-connections")
        ),
    );
    let (listeners, addrs): (Vec<TcpListener>, Vec<SocketAddr>) = listeners.into_iter().unzip();
    let addr = addrs[0];
    // `[::ffff:127.0.0.1]:P` is the IPv4 loopback (RFC 4291 §2.5.5.2): only local clients.
    for a in addrs
        .iter()
        .filter(|a| !a.ip().to_canonical().is_loopback())
    {
        let _ = shared
            .events
            .send((
                0,
                Event::warning(format!(
                        "listening on {}, which is not a loopback address: anyone who can reach it can use this test server",
                        opts.listen.show(*a)
                    )),
            ))
            .await;
    }
    for a in &addrs {
        let _ = shared
            .events
            .send((
                0,
                Event::Listening {
                    address: a.to_string(),
                },
            ))
            .await;
    }
    let _ = shared
        .events
        .send((
            0,
            Event::info(describe(&opts, &shared.config, &addrs, seed)),
        ))
        .await;

    for w in fd_warning
        .into_iter()
        .chain(cert_warning)
        .chain(idle_flags(&opts, &shared.config))
        .chain(error_sleep_warnings(&opts))
    {
        let _ = shared.events.send((0, Event::warning(w))).await;
    }
    if let Some(w) = shared.store.short_of_reserve() {
        let _ = shared.events.send((0, Event::warning(w))).await;
    }
    let task = tokio::spawn(accept_loop(
        listeners,
        shared,
        shutdown_rx,
        Limits {
            max_sessions: opts.max_sessions,
            max_connections,
            named: format!("--max-connections{}", opts.source_mark("--max-connections")),
            busy,
        },
        rendering,
    ));
    Ok(ServerHandle {
        addr,
        store,
        shutdown,
        task,
    })
}

/// A `--fail`/`--delay` whose command the sessions never run to that point with these options:
/// refused at start rather than silently never applied.
fn dead_fault(opts: &ServeOptions, faults: &Faults) -> Option<String> {
    use crate::smtp::server::Point;
    let starttls = opts.starttls && !faults.hides("STARTTLS");
    let auth = (opts.accept_any_auth || !opts.users.is_empty()) && !faults.hides("AUTH");
    let dead = [
        (
            Point::StartTls,
            !starttls,
            "starttls",
            "needs --starttls (and no --hide STARTTLS): STARTTLS is otherwise refused before any fault",
        ),
        (
            Point::Auth,
            !auth,
            "auth",
            "needs --user or --accept-any-auth (and no --hide AUTH): AUTH is otherwise refused before any fault",
        ),
        (
            Point::Vrfy,
            opts.quirks.disclose_users,
            "vrfy",
            "cannot apply with --quirk disclose-users, which answers VRFY itself",
        ),
        (
            Point::Bdat,
            faults.hides("CHUNKING"),
            "bdat",
            "cannot apply with --hide CHUNKING: BDAT is then refused before any fault",
        ),
    ];
    dead.iter()
        .find(|(point, never, _, _)| *never && faults.uses(*point))
        .map(|(_, _, name, why)| format!("--fail/--delay {name} {why}"))
}

/// Flags that mean something only with another one, given without it: each a one-line start
/// warning, not a refusal (the server works as asked; the flag just changes nothing), as
/// Postfix's postconf warns of a parameter that takes no effect. Refusals for a pairing that
/// would leave the server unable to do its job (`--require-tls` without TLS on offer, a
/// `--tls-cert` without TLS) stay in [`bind`].
fn idle_flags(opts: &ServeOptions, config: &ServerConfig) -> Vec<String> {
    // `--hide EXT` or `--fail hide=EXT`.
    let hidden = |ext: &str| config.faults.hides(ext);
    let accounts = opts.accept_any_auth || !opts.users.is_empty();
    let no_auth = "without --user or --accept-any-auth (and no --hide AUTH) no AUTH is offered";
    let idle = [
        (
            opts.min_free.is_some() && opts.maildir.is_none() && opts.mbox.is_none(),
            "--min-free",
            "without --maildir or --mbox nothing is written, so no free space is kept",
        ),
        (
            opts.max_auth_failures.is_some() && !config.offers_auth(),
            "--max-auth-failures",
            no_auth,
        ),
        (
            opts.auth_before_tls && !config.offers_auth(),
            "--auth-before-tls",
            no_auth,
        ),
        (
            opts.auth_before_tls && config.offers_auth() && !config.offers_starttls(),
            "--auth-before-tls",
            "without --starttls (not hidden) AUTH does not wait for TLS anyway",
        ),
        (
            opts.quirks.starttls_keep && !config.offers_starttls(),
            "--quirk starttls-keep",
            "without --starttls (not hidden) there is no STARTTLS to keep plaintext across",
        ),
        (
            opts.quirks.answer_unsynced && !hidden("PIPELINING"),
            "--quirk answer-unsynced",
            "without --hide PIPELINING pipelined commands are answered anyway",
        ),
        (
            hidden("STARTTLS") && !opts.starttls,
            "--hide STARTTLS",
            "without --starttls STARTTLS is not offered anyway",
        ),
        (
            hidden("AUTH") && !accounts,
            "--hide AUTH",
            "without --user or --accept-any-auth AUTH is not offered anyway",
        ),
    ];
    idle.iter()
        .filter(|(given_alone, _, _)| *given_alone)
        .map(|(_, flag, why)| {
            // After the flag as spelt (`--hide STARTTLS`), where the flag itself was set.
            let name = flag.split(' ').next().unwrap_or(flag);
            let mark = opts.source_mark(name);
            format!("{flag}{mark} does nothing here: {why}")
        })
        .collect()
}

/// `--soft-error-limit`/`--error-sleep-time` against the limits they meet, each a start
/// warning (still served: a reply slower than a client's timeout is a fault worth injecting).
/// A soft limit at or above `--hard-error-limit` delays nothing: the session is closed at the
/// hard limit's error, answered at once. An error sleep as long as `--idle-timeout` or longer
/// makes every reply past the soft limit come as late as a client that waits as long as this
/// server does gives up (RFC 5321 §4.5.3.2 gives both sides 5 minutes; Postfix's
/// `smtpd_error_sleep_time`, 1 s, is far below its `smtpd_timeout`, 300 s).
fn error_sleep_warnings(opts: &ServeOptions) -> Vec<String> {
    let (soft, sleep, hard) = (
        opts.soft_error_limit,
        opts.error_sleep_time,
        opts.hard_error_limit,
    );
    if soft == 0 || sleep.is_zero() {
        return Vec::new();
    }
    if hard != 0 && soft >= hard {
        return vec![format!(
            "--soft-error-limit {soft}{} does nothing here: --hard-error-limit {hard}{} closes \
             the session at that error, before any reply is delayed",
            opts.source_mark("--soft-error-limit"),
            opts.source_mark("--hard-error-limit"),
        )];
    }
    if !opts.idle_timeout.is_zero() && sleep >= opts.idle_timeout {
        return vec![format!(
            "--error-sleep-time {} s{} is not shorter than --idle-timeout {} s{}: past the soft \
             error limit ({soft}) every reply comes as late as a client that waits as long as \
             this server does gives up on it",
            sleep.as_secs_f64(),
            opts.source_mark("--error-sleep-time"),
            opts.idle_timeout.as_secs_f64(),
            opts.source_mark("--idle-timeout"),
        )];
    }
    Vec::new()
}

impl ServeOptions {
    /// What a line naming `flag` (`--min-free`) says after it: where it was set when that was
    /// below the command line (` (set by EHLO_MIN_FREE in the environment)`), else nothing.
    fn source_mark(&self, flag: &str) -> &str {
        self.source_marks
            .iter()
            .find(|(f, _)| f == flag)
            .map_or("", |(_, mark)| mark.as_str())
    }

    /// `flag` as a line naming it in brackets says it: with where it was set when that was
    /// below the command line (`--idle-timeout, set by EHLO_IDLE_TIMEOUT in the environment`),
    /// else the flag alone.
    fn named(&self, flag: &str) -> String {
        crate::cli::layers::in_brackets(flag, self.source_mark(flag))
    }
}

/// The sessions' settings from the options (`faults` already parsed).
fn server_config(opts: &ServeOptions, faults: Faults) -> ServerConfig {
    ServerConfig {
        hostname: opts.hostname.clone(),
        lmtp: opts.lmtp,
        starttls: opts.starttls,
        tls: opts.tls_on_connect,
        users: opts
            .users
            .iter()
            .map(|(u, p)| (u.clone(), Secret::new(p.clone())))
            .collect(),
        accept_any_auth: opts.accept_any_auth,
        auth_before_tls: opts.auth_before_tls,
        require_tls: opts.require_tls,
        require_auth: opts.require_auth,
        max_size: opts.max_size,
        faults,
        seed: 0,
        max_auth_failures: opts.max_auth_failures.unwrap_or(MAX_AUTH_FAILURES),
        hard_error_limit: opts.hard_error_limit,
        junk_command_limit: opts.junk_command_limit,
        soft_error_limit: opts.soft_error_limit,
        error_sleep_ms: u64::try_from(opts.error_sleep_time.as_millis()).unwrap_or(u64::MAX),
        quirks: opts.quirks,
        // --quiet drops the transcript: the session need not make it.
        transcript: !opts.quiet,
    }
}

/// The start-up line. What is offered comes from the session's own rules (`config`), so a
/// `--hide` is reflected: `--starttls --hide STARTTLS` offers no TLS and AUTH in plain text.
fn describe(opts: &ServeOptions, config: &ServerConfig, addrs: &[SocketAddr], seed: u64) -> String {
    let addrs: Vec<String> = addrs.iter().map(|a| opts.listen.show(*a)).collect();
    let mut parts = vec![format!(
        "{} server listening on {}",
        if opts.lmtp { "LMTP" } else { "SMTP" },
        addrs.join(" and ")
    )];
    if opts.tls_on_connect {
        parts.push("implicit TLS".into());
    }
    if config.offers_starttls() {
        parts.push("STARTTLS offered".into());
    } else if opts.starttls {
        parts.push("STARTTLS hidden (not offered)".into());
    }
    let accounts = opts.accept_any_auth || !opts.users.is_empty();
    if accounts && !config.offers_auth() {
        parts.push("AUTH hidden (not offered)".into());
    } else if opts.accept_any_auth {
        parts.push("AUTH accepts anything".into());
    } else if !opts.users.is_empty() {
        parts.push(format!(
            "AUTH for {} user{}",
            opts.users.len(),
            crate::smtp::event::plural_s(opts.users.len())
        ));
    }
    if config.offers_auth() {
        if config.auth_waits_for_starttls() {
            parts.push("AUTH after STARTTLS only".into());
        } else if config.offers_starttls() {
            parts.push("AUTH also before STARTTLS".into());
        } else if !opts.tls_on_connect {
            parts.push("AUTH in plain text".into());
        }
    }
    if opts.require_tls {
        parts.push("MAIL only after TLS".into());
    }
    if opts.require_auth {
        parts.push("MAIL only after AUTH".into());
    }
    if !opts.faults.is_empty() {
        parts.push(format!("faults: {}", opts.faults.join(" ")));
    }
    // Everything else that makes this server answer unlike a plain one is said too: a run
    // whose client sees a slow reply, a missing extension or a vulnerable MTA's behaviour
    // must not look, in its own transcript, like a plain server's.
    if !opts.delays.is_empty() {
        parts.push(format!("delays: {}", opts.delays.join(" ")));
    }
    if !opts.hide.is_empty() {
        parts.push(format!("hidden: {}", opts.hide.join(" ")));
    }
    let q = &opts.quirks;
    let quirks: Vec<&str> = [
        (q.bare_lf_dot, "bare-lf-dot"),
        (q.starttls_keep, "starttls-keep"),
        (q.disclose_users, "disclose-users"),
        (q.answer_unsynced, "answer-unsynced"),
    ]
    .into_iter()
    .filter_map(|(on, name)| on.then_some(name))
    .collect();
    if !quirks.is_empty() {
        parts.push(format!("quirks: {}", quirks.join(" ")));
    }
    if !opts.greet_pause.is_zero() {
        parts.push(format!("greet pause {} ms", opts.greet_pause.as_millis()));
    }
    if opts.proxy_protocol {
        parts.push("PROXY protocol header required".into());
    }
    if let Some(d) = &opts.maildir {
        parts.push(format!("Maildir {}", d.display()));
    }
    if let Some(m) = &opts.mbox {
        parts.push(format!("mbox {}", m.display()));
    }
    // Each limit with where it was set when that was below the command line, as the lines
    // it ends a session with say.
    let max_connections = opts.max_connections.max(1);
    let secs = |d: Duration| {
        if d.is_zero() {
            "off".to_string()
        } else {
            format!("{} s", d.as_secs_f64())
        }
    };
    let count = |n: u32| {
        if n == 0 {
            "off".to_string()
        } else {
            n.to_string()
        }
    };
    parts.push(format!(
        "at most {max_connections} connection{}{}, idle timeout {}{}, busy timeout {}{}, \
         error limit {}{}, junk-command limit {}{}, {}",
        crate::smtp::event::plural_s(max_connections),
        opts.source_mark("--max-connections"),
        secs(opts.idle_timeout),
        opts.source_mark("--idle-timeout"),
        secs(opts.busy_timeout),
        opts.source_mark("--busy-timeout"),
        count(opts.hard_error_limit),
        opts.source_mark("--hard-error-limit"),
        count(opts.junk_command_limit),
        opts.source_mark("--junk-command-limit"),
        soft_errors(opts),
    ));
    parts.push(format!("seed {seed} (--seed {seed} repeats this run)"));
    parts.join(", ")
}

/// The start line's words for `--soft-error-limit` and `--error-sleep-time`, each with where
/// it was set when that was below the command line.
fn soft_errors(opts: &ServeOptions) -> String {
    if opts.soft_error_limit == 0 || opts.error_sleep_time.is_zero() {
        return format!(
            "soft error limit off{}{}",
            opts.source_mark("--soft-error-limit"),
            opts.source_mark("--error-sleep-time")
        );
    }
    format!(
        "soft error limit {}{}, then {} s before each reply{}",
        opts.soft_error_limit,
        opts.source_mark("--soft-error-limit"),
        opts.error_sleep_time.as_secs_f64(),
        opts.source_mark("--error-sleep-time")
    )
}

/// Where the events are rendered.
enum Rendering {
    Thread(std::thread::JoinHandle<()>),
    Task(tokio::task::JoinHandle<()>),
}

/// The renderer and what it needs to say whose events follow.
struct Lines {
    renderer: Box<dyn Renderer>,
    /// The connection whose events were rendered last.
    current: u64,
    quiet: bool,
    started: Instant,
    /// JSON Lines: the run ends with a `summary` line, as every mode's does.
    json: bool,
}

impl Lines {
    /// The server has stopped (every session's events are out): the JSON `summary`, then the
    /// renderer's end.
    fn end(&mut self) {
        self.renderer.session(None);
        if self.json {
            self.renderer
                .event(&Event::Summary(serve_summary(None)), self.started.elapsed());
        }
        self.renderer.finish();
    }

    fn event(&mut self, id: u64, ev: &Event) {
        self.renderer.session((id != 0).then_some(id));
        if !self.quiet && id != 0 && id != self.current {
            self.current = id;
            self.renderer.event(
                &Event::info(format!("session {id}")),
                self.started.elapsed(),
            );
        }
        self.renderer.event(ev, self.started.elapsed());
    }
}

/// How many connections the accept loop takes.
struct Limits {
    max_sessions: Option<usize>,
    max_connections: usize,
    /// `--max-connections` with where it was set when that was below the command line.
    named: String,
    /// Tells the sessions when the server is busy ([`Shared::busy`]).
    busy: watch::Sender<Option<tokio::time::Instant>>,
}

/// The busy state (Postfix's stress mode, its STRESS_README: clients are turned away while
/// every process is busy): entered when a new connection arrives while every slot is in use
/// (that one gets `421 4.3.2`), left when a slot is free again, each said in the log. Taking the
/// last slot is not enough: `--max-connections 1` was busy from its first client, which was cut
/// after `--busy-timeout` and at its second `NOOP` with nobody waiting. While it lasts each open
/// session has `--busy-timeout` left (see `connection`); it is never entered with that at 0.
struct Busy {
    since: Option<Instant>,
}

impl Busy {
    /// `open` connections hold a slot; `turned_away`: one more has just been refused.
    async fn update(&mut self, open: usize, turned_away: bool, limits: &Limits, shared: &Shared) {
        let full = open >= limits.max_connections;
        let line = match (self.since, full) {
            (None, true) if turned_away && !shared.busy_timeout.is_zero() => {
                let now = Instant::now();
                self.since = Some(now);
                limits.busy.send_replace(Some(
                    tokio::time::Instant::from_std(now) + shared.busy_timeout,
                ));
                format!(
                    "busy: {} in use ({}) and a new connection was turned away: each open \
                     session has {} s left ({}), a new connection gets 421 4.3.2",
                    if limits.max_connections == 1 {
                        "the one connection slot is".to_string()
                    } else {
                        format!("all {} connection slots are", limits.max_connections)
                    },
                    limits.named,
                    shared.busy_timeout.as_secs_f64(),
                    shared.busy_timeout_named
                )
            }
            (Some(since), false) => {
                self.since = None;
                limits.busy.send_replace(None);
                format!(
                    "no longer busy: {open} of {} connection slot{} in use after {:.1} s",
                    limits.max_connections,
                    crate::smtp::event::plural_s(limits.max_connections),
                    since.elapsed().as_secs_f64()
                )
            }
            _ => return,
        };
        let _ = shared.events.send((0, Event::info(line))).await;
    }
}

/// The next connection on any of `listeners`.
/// An address as the IP version it is: a dual-stack listener (`--listen '[::]:2525'`, which
/// Linux leaves open to IPv4 too, `IPV6_V6ONLY` off) sees an IPv4 client as an IPv4-mapped
/// IPv6 address (RFC 4291 §2.5.5.2): shown as it came, `::ffff:127.0.0.1` read as an IPv6
/// client and `[::ffff:127.0.0.1]:41026` named no address the client had. Postfix and Exim log
/// such a client by its IPv4 address; so does the transcript, `--json` and `--quiet`. Other IPv6
/// addresses keep their scope (a link-local client's zone).
fn unmapped(a: SocketAddr) -> SocketAddr {
    match a {
        SocketAddr::V6(v6) => match v6.ip().to_ipv4_mapped() {
            Some(v4) => SocketAddr::new(v4.into(), v6.port()),
            None => a,
        },
        SocketAddr::V4(_) => a,
    }
}

async fn accept_any(
    listeners: &[TcpListener],
) -> std::io::Result<(tokio::net::TcpStream, SocketAddr)> {
    std::future::poll_fn(|cx| {
        for l in listeners {
            if let std::task::Poll::Ready(r) = l.poll_accept(cx) {
                return std::task::Poll::Ready(r.map(|(s, peer)| (s, unmapped(peer))));
            }
        }
        std::task::Poll::Pending
    })
    .await
}

async fn accept_loop(
    listeners: Vec<TcpListener>,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
    limits: Limits,
    rendering: Rendering,
) {
    let mut conns = JoinSet::new();
    let mut refusing = JoinSet::new();
    let mut accepted: u64 = 0;
    let mut stopped = false;
    let mut spare = fds::Spare::new();
    // Connections answered `421 4.3.2` since the descriptors ran out (None: they have not).
    let mut starved: Option<u64> = None;
    let mut busy = Busy { since: None };
    while limits.max_sessions.is_none_or(|m| accepted < m as u64) {
        tokio::select! {
            _ = shutdown.changed() => { stopped = true; break; }
            r = accept_any(&listeners) => match r {
                Ok((stream, peer)) => {
                    while conns.try_join_next().is_some() {}
                    while refusing.try_join_next().is_some() {}
                    busy.update(conns.len(), false, &limits, &shared).await;
                    if conns.len() >= limits.max_connections {
                        let _ = shared.events.send((0, Event::warning(format!(
                                "refused a connection from {peer}: {} open, the {} limit",
                                conns.len(),
                                limits.named
                            )))).await;
                        // A client turned away: now the server is busy (not when the last
                        // slot was taken, with nobody waiting).
                        busy.update(conns.len(), true, &limits, &shared).await;
                        if refusing.len() < MAX_REFUSING {
                            // On an implicit-TLS listener the refusal is said inside TLS, as
                            // every reply there is (RFC 8314 §3.3).
                            let tls = shared.acceptor.clone().filter(|_| shared.tls_on_connect);
                            refusing.spawn(refuse(stream, shared.config.hostname.clone(), limits.max_connections, tls));
                        }
                        continue;
                    }
                    if let Some(n) = starved.take() {
                        let _ = shared.events.send((0, Event::info(format!(
                            "accepting connections again ({n} refused for want of file descriptors)"
                        )))).await;
                    }
                    accepted += 1;
                    // Boxed: the task then holds a pointer, and spawning and finishing it
                    // no longer copy the whole connection future (kilobytes) several times.
                    conns.spawn(Box::pin(connection(accepted, stream, peer, Arc::clone(&shared))));
                }
                Err(e) if fds::exhausted(&e) => {
                    if starved.is_none() {
                        // Said once, not per connection: a flood would otherwise write a line
                        // ten times a second for as long as it lasts.
                        let _ = shared.events.send((0, Event::warning(format!(
                            "out of file descriptors ({e}; ulimit -n {}) with {} connections open: each new connection gets 421 4.3.2 and is closed until some close (raise `ulimit -n` or lower {})",
                            fds::limit().map_or("unlimited".to_string(), |l| l.to_string()),
                            conns.len(),
                            limits.named
                        )))).await;
                    }
                    let n = starved.get_or_insert(0);
                    if refuse_starved(&listeners, &mut spare, &shared).await {
                        *n += 1;
                    } else {
                        // No descriptor to make room with: do not spin on a listener that
                        // stays readable.
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
                Err(e) => {
                    let _ = shared.events.send((0, Event::warning(format!("accept failed: {e}")))).await;
                    // A failure that lasts: do not spin.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            // Finished sessions are reaped at the next accept (above), not as each ends: waking
            // this loop for every one of them cost an accept(2) that found nobody, and the
            // watch on `shutdown` made and dropped again, per connection.
            Some(_) = refusing.join_next(), if !refusing.is_empty() => {}
            // While busy, each session's end is seen at once: the slot it frees ends the
            // busy state (and its time limit for the others) now, not at the next accept.
            Some(_) = conns.join_next(), if busy.since.is_some() => {
                while conns.try_join_next().is_some() {}
                busy.update(conns.len(), false, &limits, &shared).await;
            }
        }
    }
    drop(listeners);
    // No connection comes any more: the ones open keep their own time limits.
    busy.update(0, false, &limits, &shared).await;
    if !stopped {
        // max_sessions reached: let the open sessions finish, unless told to stop.
        loop {
            tokio::select! {
                _ = shutdown.changed() => break,
                r = conns.join_next() => if r.is_none() { break },
            }
        }
    }
    // Each open session was told to stop (it answers 421 and closes, see `connection`): give
    // them a moment for that, then end the ones stuck elsewhere (a handshake, a write).
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while conns.join_next().await.is_some() {}
    })
    .await;
    conns.shutdown().await;
    refusing.shutdown().await;
    // The rendering thread ends once every sender is gone.
    drop(shared);
    match rendering {
        Rendering::Thread(t) => {
            let _ = tokio::task::spawn_blocking(move || t.join()).await;
        }
        Rendering::Task(t) => {
            let _ = t.await;
        }
    }
}

/// Out of file descriptors, with a connection waiting: close the spare descriptor, accept the
/// connection in its place, tell it `421 4.3.2` (RFC 5321 §3.8; RFC 3463 X.3.2, the system is
/// not accepting messages) and close it, then take the spare again. Never waits on the client:
/// the reply is one write into an empty socket buffer, and an implicit-TLS connection, which
/// could only be answered after a handshake, is closed without it. False when there was no
/// spare descriptor or no connection could be accepted with it.
async fn refuse_starved(
    listeners: &[TcpListener],
    spare: &mut fds::Spare,
    shared: &Shared,
) -> bool {
    if !spare.release() {
        spare.retake();
        return false;
    }
    let accepted = tokio::time::timeout(Duration::from_millis(10), accept_any(listeners)).await;
    let refused = match accepted {
        Ok(Ok((stream, _))) => {
            if !shared.tls_on_connect {
                let line = format!(
                    "421 4.3.2 {} Error: too many open files, try again later\r\n",
                    shared.config.hostname
                );
                // Written directly (the socket is non-blocking and its buffer empty): the
                // runtime's readiness of a socket it has just registered is not known yet.
                if let Ok(mut s) = stream.into_std() {
                    let _ = std::io::Write::write(&mut s, line.as_bytes());
                }
            }
            true
        }
        _ => false,
    };
    spare.retake();
    refused
}

/// One connection too many: `421 4.3.2` (RFC 5321 §3.8, the server is not available now; RFC
/// 3463 §3.4 X.3.2, "System not accepting network messages" for excessive load: every slot of
/// the whole server is in use, as Postfix's postscreen answers `421 4.3.2 All server ports are
/// busy`; X.7.0, a security or policy status, fits a limit on one client, such as Postfix's
/// `smtpd_client_connection_count_limit`, which this is not) and close, never waiting long on a client that does not read (or does not finish
/// its handshake: `tls`, the acceptor of an implicit-TLS listener, where the refusal follows the
/// handshake like any greeting there).
async fn refuse(mut stream: TcpStream, hostname: String, max: usize, tls: Option<SslAcceptor>) {
    let line = format!("421 4.3.2 {hostname} Error: too many connections ({max})\r\n");
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        match tls {
            None => {
                let _ = stream.write_all(line.as_bytes()).await;
                let _ = stream.shutdown().await;
            }
            Some(acc) => {
                if let Ok((mut s, _)) = crate::net::tls::accept(stream, &acc).await {
                    let _ = s.write_all(line.as_bytes()).await;
                    let _ = s.shutdown().await;
                }
            }
        }
    })
    .await;
}

/// The transport of one connection: plain TCP, or TLS once started.
enum Conn {
    Plain(TcpStream),
    Tls(Box<SslStream<TcpStream>>),
}

impl Conn {
    async fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Conn::Plain(s) => s.read(buf).await,
            Conn::Tls(s) => s.read(buf).await,
        }
    }
    /// Read into `buf`'s spare capacity (its length grows by what was read), so the buffer is
    /// never zeroed first.
    async fn read_buf(&mut self, buf: &mut Vec<u8>) -> std::io::Result<usize> {
        match self {
            Conn::Plain(s) => s.read_buf(buf).await,
            Conn::Tls(s) => s.read_buf(buf).await,
        }
    }
    async fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        match self {
            Conn::Plain(s) => s.write(b).await,
            Conn::Tls(s) => s.write(b).await,
        }
    }
    async fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Conn::Plain(s) => s.flush().await,
            Conn::Tls(s) => s.flush().await,
        }
    }
    /// Write all of `b`, but give up when the client takes no byte of it for `limit` (zero:
    /// no limit). A client that sends and never reads fills its receive window, then ours;
    /// a write without a bound would then hold the connection (and its slot) forever.
    ///
    /// Once the server stops (`stop`), the client has [`CLOSE_WAIT`] more to take it: its
    /// `421 4.3.2` goes out to a client that reads, and one that does not is closed with a word
    /// in the transcript, not ended without one when the shutdown's grace runs out.
    async fn write_all_within(
        &mut self,
        mut b: &[u8],
        limit: Duration,
        stop: &mut watch::Receiver<bool>,
    ) -> Result<(), WriteEnd> {
        // Plain TCP whose socket is known to have room (nearly every reply): written at once,
        // without the two timers and the watch on `stop` below (a tenth of the server's own
        // instructions per message, callgrind). What does not go (the socket full, or its
        // room not yet known) takes the bounded way.
        if let Conn::Plain(s) = self {
            while !b.is_empty() {
                match s.try_write(b) {
                    Ok(0) => return Err(WriteEnd::Failed(std::io::ErrorKind::WriteZero.into())),
                    Ok(n) => b = &b[n..],
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(e) => return Err(WriteEnd::Failed(e)),
                }
            }
            if b.is_empty() {
                return Ok(());
            }
        }
        let write = async {
            while !b.is_empty() {
                let n = within(limit, self.write(b)).await??;
                if n == 0 {
                    return Err(WriteEnd::Failed(std::io::ErrorKind::WriteZero.into()));
                }
                b = &b[n..];
            }
            within(limit, self.flush()).await??;
            Ok(())
        };
        let stopping = async {
            // A dropped sender (the handle gone) stops the server too.
            let _ = stop.wait_for(|s| *s).await;
            tokio::time::sleep(CLOSE_WAIT).await;
        };
        tokio::select! {
            r = write => r,
            () = stopping => Err(WriteEnd::Stopping),
        }
    }
    /// End the connection: TLS says `close_notify` first (for at most [`CLOSE_WAIT`]: a client
    /// that reads nothing must not hold the close either); plain TCP needs nothing before the
    /// socket is dropped (closing it sends the FIN; a `shutdown` first only cost a system
    /// call, which usually failed with the client already gone after QUIT).
    async fn close(self) {
        if let Conn::Tls(mut s) = self {
            let _ = tokio::time::timeout(CLOSE_WAIT, s.shutdown()).await;
        }
    }
}

/// How long the TLS `close_notify` may take at the end of a connection.
const CLOSE_WAIT: Duration = Duration::from_secs(1);

/// Why a write to the client ended early.
#[derive(Debug)]
enum WriteEnd {
    /// The socket said no.
    Failed(std::io::Error),
    /// The client took no byte within the limit.
    Stalled,
    /// The server stopped and the client took no byte for [`CLOSE_WAIT`] after it.
    Stopping,
}

impl From<std::io::Error> for WriteEnd {
    fn from(e: std::io::Error) -> WriteEnd {
        WriteEnd::Failed(e)
    }
}

/// `fut` unless `limit` (non-zero) passes first.
async fn within<T>(
    limit: Duration,
    fut: impl std::future::Future<Output = T>,
) -> Result<T, WriteEnd> {
    if limit.is_zero() {
        return Ok(fut.await);
    }
    tokio::time::timeout(limit, fut)
        .await
        .map_err(|_| WriteEnd::Stalled)
}

/// Per-connection PRNG seed: different for each connection, the same across runs.
fn session_seed(seed: u64, id: u64) -> u64 {
    seed ^ id.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

async fn connection(id: u64, mut stream: TcpStream, via: SocketAddr, shared: Arc<Shared>) {
    // --accept-proxy: the header first, before any TLS and the greeting; the client it names
    // is the connection's from then on (the transcript, JSON, --quiet's lines), as Postfix logs
    // the client of smtpd_upstream_proxy_protocol.
    let header = if shared.proxy_protocol {
        Some(read_proxy_header(&mut stream, &shared).await)
    } else {
        None
    };
    let named = match &header {
        Some(Ok(h)) => h.addrs.map(|(c, d)| (unmapped(c), unmapped(d))),
        _ => None,
    };
    let peer = named.map_or(via, |(c, _)| c);
    let emit = |ev: Event| {
        let ev = if shared.quiet {
            quiet_keeps(&ev).then(|| naming_the_client(ev, id, peer))
        } else {
            Some(ev)
        };
        let tx = ev.map(|ev| (shared.events.clone(), ev));
        async move {
            if let Some((tx, ev)) = tx {
                let _ = tx.send((id, ev)).await;
            }
        }
    };
    // --quiet drops the event anyway: skip its address lookups and formatting (one
    // getsockname and three strings per connection).
    if !shared.quiet {
        let local = match named {
            Some((_, d)) => d.to_string(),
            None => stream
                .local_addr()
                .map(|a| unmapped(a).to_string())
                .unwrap_or_default(),
        };
        let proxy = match &header {
            Some(Ok(h)) => Some(crate::smtp::event::ProxyVia {
                version: h.version,
                via: via.to_string(),
                named: named.is_some(),
            }),
            _ => None,
        };
        emit(Event::Connected {
            host: peer.ip().to_string(),
            peer: peer.to_string(),
            local,
            proxy,
        })
        .await;
    }
    if let Some(Err(why)) = header {
        emit(Event::warning(format!(
            "no valid PROXY protocol header ({}): {why}: closing the connection",
            shared.accept_proxy_named
        )))
        .await;
        // Said to a client that reads plain text; an implicit-TLS one would read it as a
        // broken record, so it is only closed.
        if !shared.tls_on_connect {
            let line = format!(
                "421 4.3.0 {} Error: no valid PROXY protocol header: closing\r\n",
                shared.config.hostname
            );
            let _ = tokio::time::timeout(CLOSE_WAIT, stream.write_all(line.as_bytes())).await;
        }
        // Closed by the server (said as such), not by the client.
        emit(Event::Closed { expected: true }).await;
        return;
    }
    // Linux gives an accepted socket the listener's TCP_NODELAY (`listen::bind_one`): no
    // system call per connection for it there.
    #[cfg(not(target_os = "linux"))]
    let _ = stream.set_nodelay(true);

    let mut conn = if shared.tls_on_connect {
        match handshake(&shared, stream).await {
            Ok((s, info)) => {
                emit(Event::TlsAccepted { info }).await;
                Conn::Tls(Box::new(s))
            }
            Err(failed) => {
                emit(Event::TlsFailed {
                    reason: failed.reason,
                })
                .await;
                emit(Event::Closed {
                    expected: failed.server_closed,
                })
                .await;
                return;
            }
        }
    } else {
        Conn::Plain(stream)
    };

    let mut stop = shared.stop.clone();
    let mut busy = shared.busy.clone();
    let mut cfg = shared.config.clone();
    cfg.seed = session_seed(shared.seed, id);
    let mut session = Session::new(cfg);
    if !shared.greet_pause.is_zero() {
        // --greet-pause: a client that talks before the greeting is an early talker
        // (RFC 5321 §4.3.1); the session refuses it.
        // A stop meanwhile is answered `421 4.3.2` in place of the greeting (RFC 5321 §3.1), at
        // once: the pause used to run on past the shutdown's grace, and the session was then
        // ended without a word (no `closed` line).
        // A first read that is only the start of a PROXY header (`PRO`: a proxy may write its
        // header in two pieces) does not decide: more is read, until the pause ends or, past
        // it, for at most PROXY_TIMEOUT (the time `--accept-proxy` gives a whole header).
        // It used to be judged alone, an unnamed early talker.
        let mut early = [0u8; 512];
        let mut until = tokio::time::Instant::now() + shared.greet_pause;
        let mut extended = false;
        let mut cut = false;
        loop {
            tokio::select! {
                r = tokio::time::timeout_at(until, conn.read(&mut early)) => {
                    if let Ok(Ok(n)) = r {
                        session.early_input(&early[..n]);
                        if n > 0 && session.early_input_undecided() {
                            // Moved once, at the first piece: a byte at a time gains nothing.
                            if !extended {
                                extended = true;
                                until = until.max(tokio::time::Instant::now() + PROXY_TIMEOUT);
                            }
                            continue;
                        }
                    }
                }
                _ = stop.wait_for(|s| *s) => session.shutting_down(),
                // The pause holds a slot too: not past the busy timeout.
                () = busy_over(shared.busy.clone()) => cut = true,
            }
            break;
        }
        if cut {
            busy_cut(&mut session, &shared, &emit).await;
        }
    }
    if !session.is_closed() {
        session.greeting();
    }
    // Filled through its spare capacity: a zeroed 16 KiB per connection was a tenth of the
    // CPU time of a short session (callgrind).
    let mut buf = Vec::with_capacity(READ_BUF);
    // The message being received, if its content has started (dropping it discards it).
    let mut draft: Option<store::Draft<'_>> = None;
    let mut units = u64::MAX;
    let mut deadline = None;
    // One timer per connection, armed lazily: moving `deadline` later (every command) only
    // stores it, and the timer is re-armed when it fires early; registering a fresh timer
    // around each read cost two locks of the timer wheel per read.
    let mut timer: Option<Pin<Box<tokio::time::Sleep>>> = None;
    let mut wrote = false;
    let expected = 'outer: loop {
        // Bytes and actions in their one order (see `smtp::server`).
        loop {
            if let Some(bytes) = session.poll_transmit() {
                wrote = true;
                // Nothing is read while a write waits, so the client's further commands stay
                // in the kernel (TCP flow control stops it) instead of queueing replies here:
                // what is held is at most the replies to one read.
                match conn
                    .write_all_within(&bytes, shared.idle_timeout, &mut stop)
                    .await
                {
                    Ok(()) => {}
                    Err(WriteEnd::Failed(e)) => {
                        drain_events(&mut session, &emit).await;
                        emit(Event::warning(format!("write failed: {e}"))).await;
                        break 'outer false;
                    }
                    Err(WriteEnd::Stalled) => {
                        drain_events(&mut session, &emit).await;
                        emit(Event::warning(format!(
                            "write timeout: the client took no byte of our replies within {} s \
                             (--idle-timeout; it sends without reading them): closing",
                            shared.idle_timeout.as_secs_f64()
                        )))
                        .await;
                        // No 421: nothing more can be written to it. The close is bounded too.
                        break 'outer false;
                    }
                    Err(WriteEnd::Stopping) => {
                        drain_events(&mut session, &emit).await;
                        emit(Event::warning(
                            "the server is stopping and the client takes no byte of our replies \
                             (it sends without reading them): closing",
                        ))
                        .await;
                        break 'outer false;
                    }
                }
            } else if let Some(action) = session.poll_action() {
                match action {
                    ServerAction::Delay(ms) => {
                        drain_events(&mut session, &emit).await;
                        // A delayed reply holds a slot too: not past the busy timeout.
                        let mut cut = false;
                        tokio::select! {
                            () = tokio::time::sleep(Duration::from_millis(ms)) => {}
                            _ = stop.wait_for(|s| *s) => session.shutting_down(),
                            () = busy_over(shared.busy.clone()), if !session.is_closed() => {
                                cut = true;
                            }
                        }
                        if cut {
                            busy_cut(&mut session, &shared, &emit).await;
                        }
                    }
                    ServerAction::Close => {
                        drain_events(&mut session, &emit).await;
                        if let Some(e) = session.closed_for_errors() {
                            emit(Event::warning(error_limit_line(&shared, e))).await;
                        }
                        break 'outer true;
                    }
                    ServerAction::Content(piece) => {
                        draft
                            .get_or_insert_with(|| shared.store.begin())
                            .write(&piece);
                    }
                    ServerAction::Discard => draft = None,
                    ServerAction::Store(m) => {
                        drain_events(&mut session, &emit).await;
                        let d = draft.take().unwrap_or_else(|| shared.store.begin());
                        let kept = store_message(&shared, d, *m, &emit).await;
                        // Pipelined commands after the content (a next MAIL) run now.
                        if session.may_check_room(&[]) {
                            session.set_storage_room(shared.store.room());
                        }
                        session.stored(kept);
                    }
                    ServerAction::StartTls => {
                        drain_events(&mut session, &emit).await;
                        let Conn::Plain(tcp) = conn else {
                            // STARTTLS inside TLS is refused by the session; never here.
                            break 'outer false;
                        };
                        match handshake(&shared, tcp).await {
                            Ok((s, info)) => {
                                emit(Event::TlsAccepted { info }).await;
                                conn = Conn::Tls(Box::new(s));
                                session.tls_established();
                            }
                            Err(failed) => {
                                emit(Event::TlsFailed {
                                    reason: failed.reason,
                                })
                                .await;
                                session.tls_failed();
                                drain_events(&mut session, &emit).await;
                                emit(Event::Closed {
                                    expected: failed.server_closed,
                                })
                                .await;
                                return;
                            }
                        }
                    }
                }
            } else {
                break;
            }
        }
        drain_events(&mut session, &emit).await;
        // The idle timeout runs per complete command (or message content), not per read: it
        // restarts only when the session has read one, or just answered.
        if wrote || session.units_read() != units {
            units = session.units_read();
            let limit = if session.in_content() {
                shared.idle_timeout.saturating_mul(2)
            } else {
                shared.idle_timeout
            };
            deadline = (!limit.is_zero()).then(|| tokio::time::Instant::now() + limit);
        }
        wrote = false;
        // While the server is busy, its time limit when that comes first (see `Busy`).
        let cap = *busy.borrow();
        session.set_busy(cap.is_some());
        let cut = cap.filter(|c| deadline.is_none_or(|d| *c < d));
        let deadline = cut.or(deadline);
        buf.clear();
        let read = conn.read_buf(&mut buf);
        let read = async {
            match deadline {
                Some(d) => {
                    let t = timer.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(d)));
                    if d < t.deadline() {
                        // A shorter limit than the armed one (a command after message content).
                        t.as_mut().reset(d);
                    }
                    read_until(read, t.as_mut(), d).await
                }
                None => Ok(read.await),
            }
        };
        // The server stops (a signal, `ServerHandle::shutdown`, or the handle dropped): the
        // session says `421 4.3.2` and closes, a message being received is dropped.
        let r = tokio::select! {
            r = read => Some(r),
            _ = stop.wait_for(|s| *s) => None,
            // Busy begins or ends: the read is taken up again under the new limit.
            Ok(()) = busy.changed() => continue,
        };
        let Some(r) = r else {
            // As for a client that closes in the middle of a message (below): --quiet would
            // otherwise say nothing of the message lost.
            if shared.quiet && session.message_unfinished() {
                emit(Event::warning(
                    "the server stopped in the middle of a message: nothing stored",
                ))
                .await;
            }
            session.shutting_down();
            continue;
        };
        match r {
            Ok(Ok(0)) => {
                // Said in the transcript too: it shows a message's content only once stored,
                // so a close after `354` read as one at any other point, with no word of the
                // content that arrived and was dropped.
                if session.message_unfinished() {
                    emit(Event::warning(
                        "the client closed the connection in the middle of a message: nothing stored",
                    ))
                    .await;
                }
                session.peer_closed();
                break false;
            }
            Ok(Ok(_)) => {
                if !session.in_content() && session.may_check_room(&buf) {
                    // What MAIL (and DATA) finds: the free space above --min-free, as it is
                    // now. Measured only for a read that may hold one: a `statfs(2)` per
                    // file system written to, not to be paid for EHLO, RCPT or QUIT.
                    session.set_storage_room(shared.store.room());
                }
                session.feed(&buf);
                // Bytes that keep the read always ready still end on time.
                if deadline.is_some_and(|d| tokio::time::Instant::now() >= d)
                    && session.units_read() == units
                {
                    if cut.is_some() {
                        busy_cut(&mut session, &shared, &emit).await;
                    } else {
                        idle(&mut session, &shared, &emit).await;
                    }
                }
            }
            Ok(Err(e)) => {
                // A reset (RST) in the middle of a message loses it as a close does: said so,
                // or `--quiet` showed only "read failed" with no word of the message.
                let lost = if session.message_unfinished() {
                    " in the middle of a message: nothing stored"
                } else {
                    ""
                };
                // A TLS error in words, not OpenSSL's error stack.
                let why = crate::net::tls::server_read_reason(&e)
                    .map_or_else(|| e.to_string(), |h| h.to_string());
                emit(Event::warning(format!("read failed{lost}: {why}"))).await;
                session.peer_closed();
                break false;
            }
            Err(_) if cut.is_some() => busy_cut(&mut session, &shared, &emit).await,
            Err(_) => idle(&mut session, &shared, &emit).await,
        }
    };
    conn.close().await;
    emit(Event::Closed { expected }).await;
}

/// Time a client of `--accept-proxy` has to send its whole PROXY header unless
/// `--proxy-timeout` says otherwise (Postfix's `smtpd_upstream_proxy_timeout` default).
const PROXY_TIMEOUT: Duration = Duration::from_secs(5);

/// Read the PROXY protocol header a connection begins with, to its last byte and no further
/// (what follows may be a TLS ClientHello): at most 107 octets for v1, 16 + 65535 for v2,
/// within `--proxy-timeout`; a stop ends the wait.
async fn read_proxy_header(
    stream: &mut TcpStream,
    shared: &Shared,
) -> Result<crate::smtp::server::proxy::ProxyHeader, String> {
    use crate::smtp::server::proxy::{Step, step};
    // Octets of the header received so far, for the timeout's words: a header begun and not
    // finished (a v2 length larger than what follows) was said to be "none".
    let got = std::sync::atomic::AtomicUsize::new(0);
    let read = async {
        let mut buf = Vec::new();
        loop {
            match step(&buf) {
                Step::Need(n) => {
                    let at = buf.len();
                    buf.resize(at + n, 0);
                    let mut filled = at;
                    while filled < buf.len() {
                        match stream.read(&mut buf[filled..]).await {
                            Ok(0) => {
                                return Err(if filled == 0 {
                                    "the client closed the connection without sending one".into()
                                } else {
                                    "the client closed the connection in the middle of it".into()
                                });
                            }
                            Ok(k) => {
                                filled += k;
                                got.store(filled, std::sync::atomic::Ordering::Relaxed);
                            }
                            Err(e) => return Err(format!("read failed: {e}")),
                        }
                    }
                }
                Step::Done(h) => return Ok(h),
                Step::Bad(why) => return Err(why),
            }
        }
    };
    let mut stop = shared.stop.clone();
    let r = tokio::select! {
        r = tokio::time::timeout(shared.proxy_timeout, read) => r.ok(),
        _ = stop.wait_for(|s| *s) => return Err("the server is stopping".into()),
        // The wait holds a slot: not past the busy timeout.
        () = busy_over(shared.busy.clone()) => {
            let n = got.load(std::sync::atomic::Ordering::Relaxed);
            return Err(format!(
                "{n} octet{} of one came before the busy timeout ({} s, {}; every connection \
                 slot is in use)",
                if n == 1 { "" } else { "s" },
                shared.busy_timeout.as_secs_f64(),
                shared.busy_timeout_named
            ));
        }
    };
    r.unwrap_or_else(|| {
        let secs = shared.proxy_timeout.as_secs_f64();
        Err(match got.load(std::sync::atomic::Ordering::Relaxed) {
            0 => format!(
                "none came within {secs} s ({}; a client that sends nothing waits for a \
                 greeting: it is no proxy)",
                shared.proxy_timeout_named
            ),
            n => format!(
                "only {n} octet{} of one came within {secs} s ({}): the header is not complete",
                if n == 1 { "" } else { "s" },
                shared.proxy_timeout_named
            ),
        })
    })
}

/// `read` unless `deadline` passes first (`Err`). `timer` fires at or before `deadline`; fired
/// early (the deadline moved on since it was armed), it is re-armed.
async fn read_until<F: std::future::Future>(
    read: F,
    mut timer: Pin<&mut tokio::time::Sleep>,
    deadline: tokio::time::Instant,
) -> Result<F::Output, ()> {
    let mut read = std::pin::pin!(read);
    loop {
        tokio::select! {
            biased;
            r = &mut read => return Ok(r),
            () = timer.as_mut() => {
                if tokio::time::Instant::now() >= deadline {
                    return Err(());
                }
                timer.as_mut().reset(deadline);
            }
        }
    }
}

/// No complete command within the idle timeout: say so in the transcript, then the session's
/// `421 4.4.2` and close.
async fn idle<F, Fut>(session: &mut Session, shared: &Shared, emit: &F)
where
    F: Fn(Event) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let what = if session.in_content() {
        "message content"
    } else {
        "command"
    };
    let mut limit = shared.idle_timeout;
    if session.in_content() {
        limit = limit.saturating_mul(2);
    }
    emit(Event::warning(format!(
        "idle timeout: no complete {what} within {} s ({}): closing",
        limit.as_secs_f64(),
        shared.idle_timeout_named
    )))
    .await;
    session.timed_out();
}

/// The server has been busy (every slot in use) for `--busy-timeout`: say so in the
/// transcript, then the session's `421 4.4.2` naming why, and close, freeing the slot.
async fn busy_cut<F, Fut>(session: &mut Session, shared: &Shared, emit: &F)
where
    F: Fn(Event) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let lost = if session.message_unfinished() {
        " in the middle of a message (nothing stored)"
    } else {
        ""
    };
    emit(Event::warning(format!(
        "busy timeout: all connection slots have been in use for {} s ({}): closing{lost}",
        shared.busy_timeout.as_secs_f64(),
        shared.busy_timeout_named
    )))
    .await;
    session.busy_timed_out();
}

/// Done when the server has been busy (every slot in use) for `--busy-timeout`, now or once it
/// becomes busy; never while a slot is free. For the waits before a session's commands (a TLS
/// handshake, `--greet-pause`, a PROXY header), which hold a slot as a session does.
async fn busy_over(mut busy: watch::Receiver<Option<tokio::time::Instant>>) {
    loop {
        let cap = *busy.borrow_and_update();
        let changed = async {
            if busy.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        match cap {
            Some(at) => tokio::select! {
                () = tokio::time::sleep_until(at) => return,
                () = changed => {}
            },
            None => changed.await,
        }
    }
}

/// The log line of a session closed at its error limit (`421 4.7.0` sent).
fn error_limit_line(shared: &Shared, e: crate::smtp::server::ErrorClose) -> String {
    let busy = if e.busy {
        "; 1 while busy: every connection slot in use and a client turned away"
    } else {
        ""
    };
    let last = if e.junk {
        format!(
            ", the last a NOOP, RSET, VRFY or HELP past the junk-command limit ({})",
            shared.junk_command_limit_named
        )
    } else {
        String::new()
    };
    format!(
        "too many errors: {} error{} without a message delivered, the limit {} ({}{busy}){last}: \
         closing",
        e.errors,
        if e.errors == 1 { "" } else { "s" },
        e.limit,
        shared.hard_error_limit_named
    )
}

async fn drain_events<F, Fut>(session: &mut Session, emit: &F)
where
    F: Fn(Event) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    while let Some(ev) = session.poll_event() {
        emit(ev).await;
    }
}

/// A server handshake that did not complete.
struct HandshakeFailed {
    /// Why, without the "TLS handshake failed:" the renderer puts before it.
    reason: Hint,
    /// The server ended it (the client took too long, or the server stopped), rather than the
    /// client or an error.
    server_closed: bool,
}

/// The server handshake, within `--idle-timeout` (none when that is 0) like any other wait for
/// the client and ended when the server stops, described from the server's side: the SNI
/// received and whether a client certificate was asked for (never "SNI sent").
async fn handshake(
    shared: &Shared,
    tcp: TcpStream,
) -> Result<(SslStream<TcpStream>, AcceptedTls), HandshakeFailed> {
    let failed = |reason: Hint| HandshakeFailed {
        reason,
        server_closed: false,
    };
    let Some(acc) = &shared.acceptor else {
        return Err(failed(Hint::plain("TLS is not configured")));
    };
    let accept = crate::net::tls::accept(tcp, acc);
    let done = async {
        if shared.idle_timeout.is_zero() {
            Ok(accept.await)
        } else {
            tokio::time::timeout(shared.idle_timeout, accept).await
        }
    };
    // The server stops: a handshake the client has not finished ends now, and says so. It
    // used to go on until the shutdown's grace ran out and its task was ended without a word:
    // `--json` had a `connected` with no `closed` for it, and every stop with a client stalled
    // in a handshake took the whole grace.
    let mut stop = shared.stop.clone();
    let done = tokio::select! {
        done = done => done,
        // A handshake holds a slot as a session does: not past the busy timeout.
        () = busy_over(shared.busy.clone()) => {
            return Err(HandshakeFailed {
                reason: Hint::plain(format!(
                    "the client had not finished it at the busy timeout ({} s, {}; every \
                     connection slot is in use): closing the connection",
                    shared.busy_timeout.as_secs_f64(),
                    shared.busy_timeout_named
                )),
                server_closed: true,
            });
        }
        _ = stop.wait_for(|s| *s) => {
            return Err(HandshakeFailed {
                reason: Hint::plain(
                    "the server is stopping and the client had not finished it: closing the connection",
                ),
                server_closed: true,
            });
        }
    };
    let (s, info) = match done {
        Ok(Ok(r)) => r,
        Ok(Err(crate::net::tls::TlsError::Handshake(reason))) => return Err(failed(reason)),
        Ok(Err(e)) => return Err(failed(Hint::plain(e.to_string()))),
        Err(_) => {
            return Err(HandshakeFailed {
                reason: Hint::plain(format!(
                    "the client did not finish it within {} s ({}): closing the connection",
                    shared.idle_timeout.as_secs_f64(),
                    shared.idle_timeout_named
                )),
                server_closed: true,
            });
        }
    };
    let requested = acc
        .context()
        .verify_mode()
        .contains(openssl::ssl::SslVerifyMode::PEER);
    let client_cert = s.ssl().peer_certificate().map(|c| {
        c.subject_name()
            .entries()
            .map(|e| {
                let key = e.object().nid().short_name().unwrap_or("?");
                let val = e.data().to_string().unwrap_or_default();
                format!("{key}={val}")
            })
            .collect::<Vec<_>>()
            .join(", ")
    });
    let accepted = AcceptedTls {
        version: info.version,
        cipher: info.cipher,
        bits: info.bits,
        sni_received: info.sni,
        client_cert_requested: requested,
        client_cert,
    };
    Ok((s, accepted))
}

/// Keep the message whose content `draft` received (memory, Maildir, mbox); when a file could
/// not be written the session answers `452 4.3.1` (no space: a full file system or quota, or
/// the `--min-free` reserve reached) or `451 4.3.0` (anything else) instead of claiming it was
/// queued.
async fn store_message<F, Fut>(
    shared: &Shared,
    mut draft: store::Draft<'_>,
    m: StoredMessage,
    emit: &F,
) -> StoreOutcome
where
    F: Fn(Event) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let shown = draft.take_shown();
    // The mbox lock is waited for here, on the runtime's clock: a blocking flock(2) would hold
    // a worker thread for as long as another process keeps the lock (both workers, and so
    // every session, the accept loop and the shutdown, with two such messages).
    // The turn is waited for even when the server stops: it is held by one of this server's
    // sessions, for one append or, while another process holds the lock, until the stop ends
    // that wait. Given up at the stop, a message received whole was answered 451 "locked by
    // another process" when only its sibling sessions were ahead of it (24 of 60 TLS clients
    // at a SIGTERM).
    let _turn = match shared.store.mbox_path() {
        Some(_) => Some(shared.mbox_turn.lock().await),
        None => None,
    };
    // Taking the mbox lock and writing the files fail alike: one error, answered 451 4.3.0
    // (452 4.3.1 for want of space).
    let stored: Result<Vec<String>, store::StoreError> = async {
        let locked = match shared.store.mbox_path() {
            Some(path) if !draft.failed() => Some(lock_mbox(shared, path, &m.id, emit).await?),
            _ => None,
        };
        shared.store.commit_locked(draft, &m, locked)
    }
    .await;
    let paths = match stored {
        Ok(paths) => paths,
        Err(e) => {
            let (outcome, answer) = if e.no_space {
                (StoreOutcome::NoSpace, "452 4.3.1")
            } else {
                (StoreOutcome::Failed, "451 4.3.0")
            };
            emit(Event::Error {
                message: format!("could not store message {}: {e} (answering {answer})", m.id),
            })
            .await;
            return outcome;
        }
    };
    // The start of the content ([`SHOWN_BYTES`]); --quiet: one line per message, so the
    // content stays out.
    emit(Event::MessageStored {
        bytes: m.size,
        path: (!paths.is_empty()).then(|| paths.join(", ")),
        paths,
        content: Bytes(if shared.quiet { Vec::new() } else { shown }),
        from: m.from,
        rcpts: m.rcpts,
        id: m.id,
    })
    .await;
    StoreOutcome::Kept
}

/// How long a message waits for another holder of the mbox lock before it is refused with
/// `451 4.3.0` (Postfix's local delivery tries 20 times, a second apart, before it defers).
const MBOX_LOCK_WAIT: Duration = Duration::from_secs(20);
/// How often the mbox lock is tried again meanwhile.
const MBOX_LOCK_RETRY: Duration = Duration::from_millis(50);

/// The mbox at `path`, locked, waiting at most [`MBOX_LOCK_WAIT`] for another holder (said
/// once in the transcript), and not at all once the server stops.
async fn lock_mbox<F, Fut>(
    shared: &Shared,
    path: &std::path::Path,
    id: &str,
    emit: &F,
) -> Result<store::LockedMbox, String>
where
    F: Fn(Event) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let started = tokio::time::Instant::now();
    let mut stop = shared.stop.clone();
    let mut said = false;
    loop {
        if let Some(locked) = shared.store.try_lock_mbox()? {
            return Ok(locked);
        }
        if started.elapsed() >= MBOX_LOCK_WAIT {
            return Err(format!(
                "mbox {}: still locked by another process after {} s",
                path.display(),
                MBOX_LOCK_WAIT.as_secs()
            ));
        }
        if !said {
            said = true;
            emit(Event::warning(format!(
                "message {id}: mbox {} is locked by another process: waiting (at most {} s)",
                path.display(),
                MBOX_LOCK_WAIT.as_secs()
            )))
            .await;
        }
        tokio::select! {
            () = tokio::time::sleep(MBOX_LOCK_RETRY) => {}
            _ = stop.wait_for(|s| *s) => {
                // One last try: the holder may have let go since the one above.
                if let Some(locked) = shared.store.try_lock_mbox()? {
                    return Ok(locked);
                }
                return Err(format!("mbox {}: locked by another process, and the server is stopping", path.display()));
            }
        }
    }
}

#[cfg(test)]
mod tests;
