//! `Cli` → [`Mode`]: validation and normalisation only (no DNS, no sockets), building the
//! `smtp::client::Plan` and the driver settings (ripgrep's lowargs/hiargs split). Every failure is an [`Error::Usage`] whose one-line reason names the flag.
//!
//! The only outside world read here: environment variables (`LOGNAME`/`USER` for the default
//! sender), the host name, the clock (for the message's `Date`), `--body`/`--data` files or stdin,
//! whether `--tls-ca-path` exists, and for AUTH the secret files, `~/.netrc` and a terminal prompt
//! ([`super::secrets`]). The environment parts go through [`Environment`] so tests can fake them.

use std::io::Read;

use crate::cli::args::{Cli, Command, DemoArgs};
use crate::cli::message::MessageContext;
use crate::error::Error;
use crate::net::route::ConnectPlan;
use crate::render::{ColorChoice, Format, HumanOptions};
use crate::repl::{ReplConfig, ReplayConfig};
use crate::serve::ServeOptions;
use crate::smtp::client::{Plan, StopKind};
use check::check_config;
use repl::{repl_config, replay_config};
use send::send_config;
use serve::serve_options;

mod auth;
pub(crate) use auth::plaintext_auth_confirmed;
mod check;
mod content;
mod ext;
mod mime_type;
pub(crate) mod probe;
mod proxy;
mod repl;
mod send;
mod serve;
#[cfg(test)]
mod tests;

/// Everything a one-shot send needs.
#[derive(Debug, Clone)]
pub(crate) struct SendConfig {
    /// Where and how to connect.
    pub(crate) connect: ConnectPlan,
    /// The protocol plan.
    pub(crate) plan: Plan,
    /// Output.
    pub(crate) format: Format,
    /// `--dump-mail`: print the message and send nothing.
    pub(crate) dump_mail: bool,
    /// `-n`/`--suppress-data` (the human transcript has it in its options; JSON Lines here).
    pub(crate) suppress_data: bool,
    /// Info lines about the composed message (e.g. inline parts' Content-IDs), shown before
    /// the transcript (on stderr with `--dump-mail`).
    pub(crate) notes: Vec<String>,
    /// Warnings about the command line itself (a recipient flag repeated, which swaks would
    /// read otherwise), shown before the notes as every other warning of the send is.
    pub(crate) warnings: Vec<String>,
    /// What the run does other than swaks would for the same command line (text, and whether
    /// it is a warning rather than information): said before the transcript, also under
    /// swaks's `-S`/`-S 2` (on stderr there; `render::human`), which hide the other lines.
    pub(crate) unlike_swaks: Vec<(String, bool)>,
    /// `--output-file*`: where the transcript's streams go instead of the terminal.
    pub(crate) output: OutputFiles,
    /// The terminal, for a question the session raises while it runs (AUTH over a connection
    /// an optional STARTTLS left unencrypted); `None` without one.
    pub(crate) prompt: Option<crate::cli::secrets::Prompt>,
    /// `--deadline`: the bound on the whole send (`None`: none, as `0` is).
    pub(crate) deadline: Option<std::time::Duration>,
}

/// `--output-file`, `--output-file-stdout`, `--output-file-stderr`: a file (appended to, as
/// swaks does) per stream; `None` is the terminal. `&STDOUT` / `&STDERR` name the terminal's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct OutputFiles {
    /// Where stdout's lines go.
    pub(crate) stdout: Option<std::path::PathBuf>,
    /// Where stderr's (`***`) lines go.
    pub(crate) stderr: Option<std::path::PathBuf>,
}

impl OutputFiles {
    /// `--output-file-stdout`/`--output-file-stderr`, each else `--output-file` (as swaks).
    pub(crate) fn of(o: &crate::cli::args::OutputArgs) -> OutputFiles {
        OutputFiles {
            stdout: o
                .output_file_stdout
                .clone()
                .or_else(|| o.output_file.clone()),
            stderr: o
                .output_file_stderr
                .clone()
                .or_else(|| o.output_file.clone()),
        }
    }
}

/// What to run.
#[derive(Debug, Clone)]
pub(crate) enum Mode {
    /// One-shot send.
    Send(Box<SendConfig>),
    /// `ehlo serve`.
    Serve(Box<ServeOptions>),
    /// `ehlo demo`.
    Demo(Format),
    /// `ehlo repl`.
    Repl(Box<ReplConfig>),
    /// `ehlo replay`.
    Replay(Box<ReplayConfig>),
    /// `--dump-config` (`what: "config"`), `--dump` (`"settings"`), `--support`
    /// (`"support"`): text to print; with `--json` as one `dump` event.
    DumpConfig {
        /// Which dump.
        what: &'static str,
        /// The text.
        text: String,
        /// `--json`.
        json: bool,
        /// `--output-file*`: where the dump goes instead of stdout (as swaks writes its
        /// `--dump` there).
        output: OutputFiles,
    },
    /// `--dump-mail`: the composed message, printed instead of sent.
    DumpMail {
        /// Notes about the message (stderr).
        notes: Vec<String>,
        /// The message.
        message: Vec<u8>,
        /// `--json`: one `dump` event instead of the bytes.
        json: bool,
        /// `--output-file*`: where the message (and the notes) go instead of the terminal.
        output: OutputFiles,
    },
    /// `ehlo explain`: the text to explain, the phase if given, JSON or not.
    Explain {
        /// The words given (`-` = read stdin).
        text: Vec<String>,
        /// `--phase`.
        phase: Option<crate::smtp::event::Phase>,
        /// `--json`.
        json: bool,
    },
    /// `ehlo check`.
    Check(Box<crate::check::CheckConfig>),
    /// `ehlo probe`.
    Probe(Box<crate::probe::ProbeConfig>),
}

impl Mode {
    /// The mode writes the send's JSON Lines (`--json` of the send, `serve`, `demo`, `repl`,
    /// `replay`): a mistake found before it runs is reported with a `schema` line and a
    /// `summary` on stdout too.
    pub(crate) fn json_lines(&self) -> bool {
        match self {
            Mode::Send(c) => matches!(c.format, Format::Json),
            Mode::Serve(o) => matches!(o.format, Format::Json),
            Mode::Demo(f) => matches!(f, Format::Json),
            Mode::Repl(c) => c.json,
            Mode::Replay(c) => c.session.json,
            Mode::DumpConfig { .. }
            | Mode::DumpMail { .. }
            | Mode::Explain { .. }
            | Mode::Check(_)
            | Mode::Probe(_) => false,
        }
    }
}

/// Largest `--body`/`--data` file or stdin ehlo reads (memory stays bounded on `--data @/dev/zero`).
pub(crate) const MAX_MESSAGE_BYTES: u64 = 64 << 20;

/// All of the file `f`, or `Ok(None)` when it holds more than `max` bytes. A regular file's
/// size is looked at first (its metadata, from where `f` stands), so one over `max` is refused
/// without a byte of it read: a 1 GB `--data @FILE` used to be read to 64 MiB before its
/// refusal (70 MB resident, up to a second). Anything else (a pipe, a FIFO, `/dev/stdin` on
/// one, a character device such as `/dev/zero`) has no size to look at and is read to one byte
/// past `max`, never more.
pub(crate) fn read_file_capped(mut f: std::fs::File, max: u64) -> std::io::Result<Option<Vec<u8>>> {
    use std::io::Seek;
    let size = f
        .metadata()
        .ok()
        .filter(std::fs::Metadata::is_file)
        .map(|m| m.len().saturating_sub(f.stream_position().unwrap_or(0)));
    if size.is_some_and(|n| n > max) {
        return Ok(None);
    }
    let mut buf = Vec::new();
    // Sized from the file's length, a regular file arrives in one read instead of a read per
    // doubling of the buffer from 32 bytes (a pipe reports none: no hint).
    buf.reserve_exact(usize::try_from(size.unwrap_or(0)).unwrap_or(0));
    (&mut f).take(max + 1).read_to_end(&mut buf)?;
    Ok((buf.len() as u64 <= max).then_some(buf))
}

/// The parts of the process environment the configuration depends on.
pub(crate) struct Environment {
    /// `$LOGNAME`, else `$USER` (local part of the default sender).
    pub(crate) user: Option<String>,
    /// Looks up the password database's name for the real user id (the default sender's local
    /// part without `$LOGNAME`/`$USER`, or with `--force-getpwuid`). A function, called only
    /// when no `--from` is given: the lookup goes through NSS (nscd socket, nsswitch.conf,
    /// /etc/passwd), work a send with `--from` does not need.
    pub(crate) pw_user: fn() -> Option<String>,
    /// Local host name (default `--helo`, default sender's domain, `Message-Id`).
    pub(crate) hostname: String,
    /// Clock and pid for the default message.
    pub(crate) message: MessageContext,
    /// Reads all of stdin (for `--body -` / `--data -`) when it holds at most `limit` bytes;
    /// more is an error of kind [`std::io::ErrorKind::FileTooLarge`] ([`read_file_capped`]).
    pub(crate) read_stdin: fn(limit: u64) -> std::io::Result<Vec<u8>>,
    /// Stdin to read a line at a time (`ehlo check -`: the domain list is never held whole).
    pub(crate) stdin: fn() -> Box<dyn Read + Send>,
    /// `$HOME`, for `~/.netrc`.
    pub(crate) home: Option<std::path::PathBuf>,
    /// Asks the user on the terminal; `None` when stdin is not a terminal (no prompts then).
    pub(crate) prompt: Option<crate::cli::secrets::Prompt>,
}

impl Environment {
    /// The real process environment.
    pub(crate) fn current() -> Environment {
        let hostname = gethostname::gethostname()
            .to_string_lossy()
            .trim()
            .to_string();
        let hostname = if hostname.is_empty() {
            "localhost".to_string()
        } else {
            hostname
        };
        let user = ["LOGNAME", "USER"]
            .iter()
            .filter_map(|k| std::env::var(k).ok())
            .find(|v| !v.trim().is_empty());
        Environment {
            user,
            pw_user: || {
                nix::unistd::User::from_uid(nix::unistd::getuid())
                    .ok()
                    .flatten()
                    .map(|u| u.name)
                    .filter(|n| !n.is_empty())
            },
            message: MessageContext::current(&hostname),
            hostname,
            read_stdin: |limit| {
                // Stdin's own descriptor, shared (its offset too): a regular file redirected
                // to it is refused by its size, before a byte of it is read.
                use std::os::fd::AsFd;
                let fd = std::io::stdin().as_fd().try_clone_to_owned()?;
                read_file_capped(std::fs::File::from(fd), limit)?
                    .ok_or_else(|| std::io::ErrorKind::FileTooLarge.into())
            },
            stdin: || Box::new(std::io::stdin()),
            home: std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .map(std::path::PathBuf::from),
            prompt: std::io::IsTerminal::is_terminal(&std::io::stdin())
                .then_some(crate::cli::secrets::tty_prompt as crate::cli::secrets::Prompt),
        }
    }
}

/// Validate and normalise the parsed command line.
pub(crate) fn from_cli(cli: Cli) -> Result<Mode, Error> {
    from_cli_in(cli, &Environment::current())
}

/// [`from_cli`] with an explicit environment (tests).
pub(crate) fn from_cli_in(cli: Cli, env: &Environment) -> Result<Mode, Error> {
    match cli.command {
        Some(Command::Serve(args)) => serve_options(*args).map(|o| Mode::Serve(Box::new(o))),
        Some(Command::Demo(DemoArgs { json, color })) => {
            Ok(Mode::Demo(match simple_format(json, color) {
                // The demo is read, not parsed: its lines fit 80 columns.
                Format::Human(opts) => Format::Human(HumanOptions {
                    wrap: Some(80),
                    ..opts
                }),
                f => f,
            }))
        }
        Some(Command::Repl(a)) => repl_config(*a).map(|c| Mode::Repl(Box::new(c))),
        Some(Command::Replay(a)) => replay_config(*a).map(|c| Mode::Replay(Box::new(c))),
        Some(Command::Explain(a)) => Ok(Mode::Explain {
            text: a.text,
            phase: a.phase.map(|p| p.phase()),
            json: a.json,
        }),
        Some(Command::Check(a)) => check_config(*a, env).map(|c| Mode::Check(Box::new(c))),
        Some(Command::Probe(a)) => probe::probe_config(*a, env).map(|c| Mode::Probe(Box::new(c))),
        None => send_config(cli.send, env).map(|c| Mode::Send(Box::new(c))),
    }
}

fn usage(msg: impl Into<String>) -> Error {
    Error::Usage(msg.into())
}

/// The flag that asked for a stop point, for refusals naming it.
fn stop_flag(kind: StopKind) -> &'static str {
    match kind {
        StopKind::Quit => "--quit-after",
        StopKind::Drop => "--drop-after",
        StopKind::DropAfterSend => "--drop-after-send",
    }
}

fn simple_format(json: bool, color: ColorChoice) -> Format {
    if json {
        Format::Json
    } else {
        Format::Human(HumanOptions {
            color,
            ..HumanOptions::default()
        })
    }
}

/// A value that goes into an SMTP command line must not contain CR or LF: it would end the
/// command early and smuggle a second one.
fn no_line_break(flag: &str, value: &str) -> Result<(), Error> {
    if value.contains(['\r', '\n']) {
        return Err(usage(format!(
            "{flag}: '{}' contains a line break",
            value.escape_debug()
        )));
    }
    Ok(())
}

/// `--helo NAME` of every mode that greets (send, check, probe), or this host's name: trimmed,
/// not empty, and on one line: a CR or LF would end the EHLO early and send what follows as a
/// command of its own (RFC 5321 §2.3.8), e.g. a MAIL that check promises never to send.
fn helo_name(given: Option<&str>, hostname: &str) -> Result<String, Error> {
    let helo = given.map(str::trim).unwrap_or(hostname).to_string();
    if helo.is_empty() {
        return Err(usage("--helo: the name is empty"));
    }
    no_line_break("--helo", &helo)?;
    Ok(helo)
}

/// Strip one pair of enclosing angle brackets (`<a@b>` → `a@b`, `<>` → ``): the session adds its
/// own, and users often paste addresses with them.
fn strip_angles(addr: &str) -> &str {
    addr.strip_prefix('<')
        .and_then(|a| a.strip_suffix('>'))
        .unwrap_or(addr)
}

/// Trimmed, non-empty addresses from a comma-split list (swaks keeps the whitespace; ehlo
/// trims it so `-t "a@x, b@y"` does what it looks like).
fn addresses(flag: &str, list: &[String]) -> Result<Vec<String>, Error> {
    let mut out = Vec::new();
    for given in list {
        let a = strip_angles(given.trim()).trim();
        if a.is_empty() && !given.trim().is_empty() {
            // `<>` (the null reverse-path) typed as a recipient: dropping it as an empty list
            // element would leave the run with other recipients, or none, without a word.
            return Err(usage(format!(
                "{flag}: '{}' is the null address, which names no recipient (RFC 5321 §4.1.1.3: \
                 RCPT needs a mailbox; swaks sends it as RCPT TO:<<>>, which servers refuse)",
                given.trim()
            )));
        }
        if a.is_empty() {
            continue;
        }
        no_line_break(flag, a)?;
        no_space(flag, a)?;
        out.push(a.to_string());
    }
    Ok(out)
}

/// An envelope address has no white space (RFC 5321 §4.1.2) outside a quoted local part; a
/// display name belongs in a header (`--header 'To: Name <a@b>'`).
fn no_space(flag: &str, addr: &str) -> Result<(), Error> {
    let unquoted = match addr.strip_prefix('"').and_then(|a| a.rsplit_once("\"@")) {
        Some((_, domain)) => domain,
        None => addr,
    };
    if unquoted.contains(char::is_whitespace) {
        return Err(usage(format!(
            "{flag}: '{}' contains white space; give the bare address (a display name goes \
             in a header, e.g. --header 'To: Name <a@b>')",
            addr.escape_debug()
        )));
    }
    Ok(())
}
