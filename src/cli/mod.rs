//! Command-line front: rewrite swaks-style single-dash long options, merge the config file and
//! `EHLO_*` environment ([`layers`]), parse ([`args`], the one flag table of every subcommand),
//! validate into a typed [`mode::Mode`] ([`mode`]). A mistake found before the flags are
//! parsed is printed here once; one found later goes back to `crate::app` ([`Refused`]), which
//! reports it as the mode's `--json` asks. Running the mode is `crate::app`'s job. Keeps no global state, so [`parse`] can be called more than once.

pub(crate) mod args;
pub(crate) mod dump;
pub mod generate;
pub(crate) mod layers;
pub(crate) mod message;
pub(crate) mod mode;
pub(crate) mod secrets;
pub(crate) mod serve_specs;
pub(crate) mod swaks;

use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::io::Write as _;

use clap::CommandFactory;

use crate::error::{EXIT_OK, EXIT_USAGE, Error};
use crate::render::glyphs;
use crate::render::human::escape_lines;
use args::Cli;
use mode::Mode;
use swaks::SwaksOpt;

/// A command line that runs no mode.
#[derive(Debug)]
pub(crate) enum Refused {
    /// Answered here already: help and version (printed, 0), or a mistake found before the
    /// flags could be parsed (clap's errors, a bad single-dash word; printed once, its code).
    Answered(u8),
    /// A mistake found once the flags are parsed, for the caller (`app`) to report: `*** reason`
    /// on stderr, and with `json` (the mode's `--json`, [`Cli::json_lines`]) the JSON Lines'
    /// `schema` and `summary` on stdout too.
    Error {
        /// What is wrong; its exit code is the run's.
        error: Error,
        /// The run asked for the send's JSON Lines.
        json: bool,
        /// `check --json` or `probe --json` ([`Cli::json_report`]): their report's `schema`,
        /// `error` and `summary` lines on stdout too.
        report: Option<&'static str>,
        /// The send's `--output-file*` once the flags are parsed: the `***` line (and the JSON
        /// Lines) go there, as swaks writes a bad value's complaint into its output file.
        output: Box<mode::OutputFiles>,
        /// What was said on stderr before the mistake was found ([`Parsed::warned`]): under
        /// `--json`, `warning` lines before the `summary` too.
        warned: Vec<String>,
    },
}

/// What a bare `ehlo` prints: the usage and the commonest forms, each line within 100 columns.
pub(crate) const BARE_USAGE: &str = "\
Usage: ehlo [OPTIONS] -t ADDR      send one test message (swaks-style flags)
       ehlo <COMMAND> [ARGS]

Common forms:
  ehlo demo                               a throwaway local server and one annotated send
  ehlo -t you@example.com                 send a test message to the recipient's MX
  ehlo -t you@example.com -s mail.example.com:587 --tls --auth-user you
                                          the same through your submission server
  ehlo check example.com                  deliverability checks (MX, STARTTLS, SPF, DMARC…)
  ehlo repl mail.example.com              type SMTP yourself, with completion

`ehlo --help` for every flag, `ehlo COMMAND --help` for a command's.
";

/// The [`Mode`] to run, and what was said about the command line before it runs.
pub(crate) struct Parsed {
    /// The mode.
    pub(crate) mode: Mode,
    /// Warnings already said on stderr, once each, before the mode runs: an `EHLO_*` variable
    /// left unread (misspelt, or no option of this mode), and outside the send (whose renderer
    /// says it) an `SSL_CERT_FILE` naming no file. Under the mode's `--json` they are `warning`
    /// lines of its output too (`app::warned_before`): a CI job reading the JSON alone learns
    /// that the `EHLO_TMEOUT=5` it set did not set the timeout.
    pub(crate) warned: Vec<String>,
}

/// Turn `args` into the [`Mode`] to run, or say why there is none ([`Refused`]).
pub(crate) fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Parsed, Refused> {
    let mut warned = Vec::new();
    match parse_mode(args, &mut warned) {
        Ok(mode) => Ok(Parsed { mode, warned }),
        Err(Refused::Error {
            error,
            json,
            report,
            output,
            ..
        }) => Err(Refused::Error {
            error,
            json,
            report,
            output,
            warned,
        }),
        Err(answered) => Err(answered),
    }
}

/// `ehlo repl`, `ehlo replay` and `ehlo probe` read their address as the send reads `--server`:
/// a port inside it wins over `--port` (swaks's parse_server); said as the send says it
/// ([`crate::net::route::port_inside_warning`]) instead of silently.
fn port_inside_warning(cli: &Cli) -> Option<String> {
    use crate::net::route::{port_inside, port_inside_warning};
    let port_of = args::parse_service_port;
    let (what, address, given) = match &cli.command {
        Some(args::Command::Repl(a)) => ("the address", a.target.as_deref()?, a.conn.port),
        Some(args::Command::Replay(a)) => ("--server", a.server.as_str(), a.conn.port),
        Some(args::Command::Probe(a)) => ("the address", a.target.as_str(), a.port),
        _ => return None,
    };
    port_inside_warning(what, port_inside(address, port_of), given)
}

/// [`parse`]'s work; each warning said on stderr before the mode runs is also put in `warned`.
fn parse_mode(
    args: impl IntoIterator<Item = OsString>,
    warned: &mut Vec<String>,
) -> Result<Mode, Refused> {
    let args: Vec<OsString> = args.into_iter().collect();
    if args.len() <= 1 {
        // A bare `ehlo` is someone finding their way: a few lines on stderr, not the hundreds of
        // lines of `--help` (as `git` alone lists its common commands and `curl` alone points to
        // `--help`). A usage error: exit 1. Never a send: swaks alone prompts for To: on a
        // terminal, ehlo never prompted, and no other command line changes meaning.
        let _ = std::io::stderr().write_all(BARE_USAGE.as_bytes());
        return Err(Refused::Answered(EXIT_USAGE));
    }
    // Config file < EHLO_* environment < command line, merged into one argv (layers.rs). A
    // mistake in the file or the environment is found before the merged flags are parsed:
    // whether `--json` was asked for is read from the command line and the environment. So is
    // it for a mistake in the flags themselves (an unknown flag, a bad value): with `--json`,
    // the usage error is also the JSON Lines' `schema` and `summary`, as every other one is.
    let env = layers::LayerEnv::current();
    let usage = |error: Error, argv: &[OsString]| {
        let (json, report) = layers::command_line_json(argv.to_vec(), &env);
        Refused::Error {
            error,
            json,
            report,
            output: Box::new(output_by_word(argv, &env)),
            warned: Vec::new(),
        }
    };
    let typed = args.clone();
    let args = rewrite_single_dash(args.clone()).map_err(|e| usage(e, &args))?;
    // A word written in swaks's single-dash spelling (`-tls`, `-au`): the send's hints spell
    // the flags so too.
    let swaks_spelling = args != typed;
    let layered = match layers::apply(args.clone(), &env) {
        Ok(l) => l,
        Err(error) => {
            let output = Box::new(output_by_word(&args, &env));
            let (json, report) = layers::command_line_json(args, &env);
            return Err(Refused::Error {
                error,
                json,
                report,
                output,
                warned: Vec::new(),
            });
        }
    };
    for name in &layered.ignored_env {
        let hint = match layered.env_hints.get(name) {
            Some(meant) => format!(" (did you mean {meant}?)"),
            None => String::new(),
        };
        warned.push(format!(
            "{name} is ignored: it names no option of any mode{hint}"
        ));
    }
    for (name, why) in &layered.ignored_why {
        warned.push(format!("{name} is ignored: {why}"));
    }
    // Not `eprintln!`: a closed stderr is no reason to panic.
    warned.iter().for_each(|line| glyphs::say_error(line));
    for warning in &layered.warnings {
        glyphs::say_error(&warning.to_string());
    }
    let mut cli = match Cli::parse_args(layered.args.iter()) {
        Ok(cli) => cli,
        Err(e) => {
            let line = stray_word_hint(&e, &layered.args)
                .or_else(|| stray_word_line(&e, &layered.args))
                .or_else(|| subcommand_unknown_flag(&e, &layered.args))
                .or_else(|| invalid_value_line(&e, &layered.args))
                .or_else(|| missing_argument_line(&e, &layered))
                .or_else(|| conflict_line(&e, &layered.args));
            if let Some(line) = line {
                return Err(usage(Error::Usage(line), &layered.args));
            }
            // Help and version go to stdout and succeed; everything else is a usage error
            // (exit 1 as in swaks, not clap's 2). A closed pipe is not worth reporting. A value
            // given to a flag taking a secret is never shown, whatever clap quotes. Only an
            // error can quote one: help and version skip the search, which builds every
            // subcommand's flag table (a third of `ehlo --version`'s instructions, callgrind).
            let secrets = if e.use_stderr() {
                secret_values(&layered.args)
            } else {
                Vec::new()
            };
            let text = if secrets.is_empty() {
                String::new()
            } else {
                e.to_string()
            };
            if e.use_stderr() {
                // With `--json` the mistake is one line, as every other usage error's, and the
                // JSON Lines' `schema` and `summary` (or the report's lines) follow.
                let (json, report) = layers::command_line_json(layered.args.clone(), &env);
                if json || report.is_some() {
                    let full = masked(&e.to_string(), &secrets, &layered.args);
                    let first = full.lines().next().unwrap_or_default();
                    let line = first.strip_prefix("error: ").unwrap_or(first).to_string();
                    return Err(Refused::Error {
                        error: Error::Usage(line),
                        json,
                        report,
                        output: Default::default(),
                        warned: Vec::new(),
                    });
                }
            }
            if secrets.iter().any(|v| text.contains(v.as_str())) {
                let _ = write!(
                    std::io::stderr(),
                    "{}",
                    escape_lines(&masked(&text, &secrets, &layered.args))
                );
            } else if !e.use_stderr() {
                // Help and version are the whole result, as `ehlo explain`'s explanation is:
                // one that cannot be written (a full disk) exits 10 as it does, not 0 with
                // nothing said; a closed pipe (`| head -1`) is still success.
                let printed = e.print().and_then(|()| std::io::stdout().flush());
                return Err(Refused::Answered(match printed {
                    Err(w) if w.kind() != std::io::ErrorKind::BrokenPipe => {
                        Error::Prerequisite(format!("cannot write to stdout: {w}")).report()
                    }
                    _ => EXIT_OK,
                }));
            } else if e.to_string().chars().any(|c| c != '\n' && c.is_control()) {
                // clap quotes the arguments as given: a control character in one (ESC, CR) is
                // shown escaped, as in every other usage error, not sent to the terminal.
                let _ = write!(std::io::stderr(), "{}", escape_lines(&e.to_string()));
            } else {
                let _ = e.print();
            }
            return Err(Refused::Answered(EXIT_USAGE));
        }
    };
    cli.send.auth.password_from_env = layered.password_from_env;
    // A refusal of the validated flags names where a flag it names was set, when that was
    // below the command line (the flag alone sent a CI user looking at a command line that
    // never had it).
    let settings = &layered.settings;
    let sourced = |error: Error| match error {
        Error::Usage(m) => Error::Usage(layers::with_sources(&m, settings)),
        Error::Prerequisite(m) => Error::Prerequisite(layers::with_sources(&m, settings)),
        e => e,
    };
    if cli.command.is_none() && cli.send.config.support {
        return Ok(Mode::DumpConfig {
            what: "support",
            text: swaks::support(),
            json: cli.json_lines(),
            // swaks prints --support on the terminal whatever --output-file says.
            output: mode::OutputFiles::default(),
        });
    }
    let swaksrc_note = layers::swaksrc_note(
        &layered.file,
        std::env::var_os("SWAKS_HOME"),
        std::env::var_os("HOME"),
        std::env::var_os("LOGDIR"),
    );
    if cli.command.is_none() && cli.send.config.dump_config {
        let mut text = layered.dump(cli.send.auth.show_secrets);
        if let Some(note) = &swaksrc_note {
            text.push_str(&format!("# note: {note}\n"));
        }
        return Ok(Mode::DumpConfig {
            what: "config",
            text,
            json: cli.json_lines(),
            output: mode::OutputFiles::of(&cli.send.output),
        });
    }
    cli.send.config.command_line = layered
        .args
        .iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    if cli.command.is_none()
        && let Some(sections) = cli.send.output.dump.clone()
    {
        // The settings as the send would use them, printed instead of sent (with --json as one
        // `dump` event; a mistake is the one line on stderr and, with --json, the `schema` and
        // `summary` lines, as for `--dump-mail` and the send).
        let args = cli.send.clone();
        let reveal = args.auth.show_secrets;
        let json = cli.json_lines();
        let output = mode::OutputFiles::of(&cli.send.output);
        return match mode::from_cli(cli).map_err(|error| Refused::Error {
            error: sourced(error),
            json,
            report: None,
            output: Box::new(output),
            warned: Vec::new(),
        })? {
            Mode::Send(cfg) => {
                let mut text = dump::render(&args, &cfg, &sections, reveal);
                if let Some(note) = &swaksrc_note {
                    text.push_str(&format!("Note: {note}\n"));
                }
                Ok(Mode::DumpConfig {
                    what: "settings",
                    text,
                    json,
                    output: cfg.output.clone(),
                })
            }
            _ => Err(Refused::Answered(EXIT_USAGE)),
        };
    }
    let json = cli.json_lines();
    let report = cli.json_report();
    let repeats = repeated_notes(&cli.send.envelope.repeated, &layered.settings);
    let output = if cli.command.is_none() {
        mode::OutputFiles::of(&cli.send.output)
    } else {
        mode::OutputFiles::default()
    };
    let port_warning = port_inside_warning(&cli);
    let mut mode = mode::from_cli(cli).map_err(|error| Refused::Error {
        error: sourced(error),
        json,
        report,
        output: Box::new(output),
        warned: Vec::new(),
    })?;
    if let Mode::Send(cfg) = &mut mode {
        // A swaks command line that repeats `-t` sends to more recipients here: said before
        // connecting, through the send's renderer as its other warnings are.
        let repeats = repeats.into_iter().map(|r| (r, true));
        cfg.unlike_swaks.splice(0..0, repeats);
        if let crate::render::Format::Human(o) = &mut cfg.format {
            o.swaks_spelling = swaks_spelling;
        }
        if let Some(note) = swaksrc_note {
            cfg.notes.insert(0, note);
        }
    }
    // The refusals raised once the run has started name where their flag was set too, as
    // `sourced` does for the refusals of the parsed flags.
    match &mut mode {
        Mode::Send(cfg) => {
            if let Some(local) = &mut cfg.connect.link.local {
                local.note = layers::source_mark("--local-interface", settings);
            }
            // `--tls-protocol, set by …`: the words after the flag.
            let named = layers::bracketed("--tls-protocol", settings);
            cfg.connect.link.tls.protocols_note = named["--tls-protocol".len()..].to_string();
        }
        Mode::Repl(cfg) => {
            cfg.strict_note = layers::source_mark("--strict", settings);
            cfg.record_note = layers::source_mark("--record", settings);
            cfg.timeout_named = layers::bracketed("--timeout", settings);
        }
        Mode::Replay(cfg) => {
            cfg.deadline_note = layers::source_mark("--deadline", settings);
            cfg.session.timeout_named = layers::bracketed("--timeout", settings);
        }
        Mode::Check(cfg) => cfg.deadline_named = layers::bracketed("--deadline", settings),
        Mode::Probe(cfg) => cfg.deadline_named = layers::bracketed("--deadline", settings),
        Mode::Serve(opts) => {
            opts.source_marks = layers::source_marks(settings);
        }
        _ => {}
    }
    // The send says it through its renderer (its `warnings`); the REPL, replay and probe here,
    // as every warning about their command line, once, before anything connects.
    if let Some(line) = port_warning {
        glyphs::say_error(&line);
        warned.push(line);
    }
    // An `SSL_CERT_FILE` naming no file, for the modes that may verify against the system
    // store (not when `--tls-ca-path` replaces it): said once, before anything connects.
    let system_store = match &mode {
        Mode::Send(cfg) => cfg.connect.link.tls.ca_path.is_none(),
        Mode::Repl(cfg) => cfg.link.tls.ca_path.is_none(),
        Mode::Check(cfg) => cfg.probe.ca_path.is_none(),
        Mode::Probe(cfg) => cfg.plan.link.tls.ca_path.is_none(),
        _ => false,
    };
    if system_store
        && let Some(line) = crate::net::trust::missing_cert_file(|k| std::env::var_os(k))
    {
        match &mut mode {
            // Through the send's renderer, as its other warnings are (JSON Lines too).
            Mode::Send(cfg) => cfg.warnings.push(line),
            _ => {
                glyphs::say_error(&line);
                warned.push(line);
            }
        }
    }
    match mode {
        Mode::Send(cfg) if cfg.dump_mail => Ok(Mode::DumpMail {
            json: matches!(cfg.format, crate::render::Format::Json),
            output: cfg.output.clone(),
            // The encoded-header note is about the message's bytes, so a dump says it too; a
            // repeated `-t` is about where it would go, which a dump does not.
            notes: (cfg.unlike_swaks.into_iter())
                .filter_map(|(n, warning)| (!warning).then_some(n))
                .chain(cfg.notes)
                .collect(),
            message: crate::smtp::data::encode_chunked(&cfg.plan.message, cfg.plan.fixup),
        }),
        mode => Ok(mode),
    }
}

/// Most addresses a [`repeated_notes`] line lists; the rest are counted.
const REPEATED_SHOWN: usize = 10;

/// One line for each recipient flag repeated within one layer (`-t a -t b`, two `to` lines in
/// the config file): ehlo sends to every address (documented in the README), where swaks's
/// Getopt::Long keeps the last value of a scalar option, so the same command line would reach
/// fewer recipients there. A higher layer's recipients replace a lower one's
/// (`layers::REPLACED_BY_HIGHER`), so the occurrences clap saw all come from one layer,
/// named from `settings` (empty when nothing was layered: the command line). A comma list in
/// one flag is one occurrence: swaks sends to each of its addresses too.
fn repeated_notes(repeated: &[args::Repeated], settings: &[layers::Setting]) -> Vec<String> {
    repeated
        .iter()
        .map(|r| {
            let origin = settings
                .iter()
                .find(|s| s.id == r.id)
                .map(|s| &s.origin)
                .unwrap_or(&layers::Origin::CommandLine);
            let flag = match r.id {
                "to" => "-t/--to".to_string(),
                id => format!("--{id}"),
            };
            let (what, place) = match origin {
                layers::Origin::CommandLine => (flag, String::new()),
                layers::Origin::File { path, .. } => (
                    r.id.to_string(),
                    format!(" in the config file {}", path.display()),
                ),
                layers::Origin::Env(name) => (flag, format!(" in {name}")),
            };
            // As given: the renderer escapes what a terminal must not get.
            let mut shown: Vec<String> = r
                .addresses
                .iter()
                .take(REPEATED_SHOWN)
                .cloned()
                .collect();
            if r.addresses.len() > REPEATED_SHOWN {
                shown.push(format!("and {} more", r.addresses.len() - REPEATED_SHOWN));
            }
            format!(
                "{what} given {} times{place}: ehlo sends to every one ({}); swaks would send only to the last",
                r.times,
                shown.join(", ")
            )
        })
        .collect()
}

/// A word clap took for an unknown subcommand (`ehlo user@example.com`, or after flags
/// `ehlo -q rcpt user@example.com`) that is plainly an address or a host: swaks users write
/// `swaks --to user@example.com`, and clap's "unrecognized subcommand" does not say what is
/// missing. Said in one line naming the flag meant. Only a word no subcommand could be: one
/// with `@`, or a host name or address literal with a dot or colon (no subcommand name has
/// either), and not when it may be part of a secret; anything else is [`stray_word_line`]'s,
/// with clap's suggestion (`reply` → `repl`).
fn stray_word_hint(e: &clap::Error, args: &[OsString]) -> Option<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if !matches!(
        e.kind(),
        ErrorKind::InvalidSubcommand | ErrorKind::ArgumentConflict
    ) {
        return None;
    }
    let Some(ContextValue::String(word)) = e.get(ContextKind::InvalidSubcommand) else {
        return None;
    };
    // A secret's second word (`-ap S3cret S3cret`) is never quoted, nor hinted at: it, and any
    // other word (`ehlo -t a@b.test extra`, an unquoted `--body hello world`), are
    // stray_word_line's.
    let secrets = secret_values(args);
    let (what, flag) = classify_stray_word(word).filter(|_| !within_a_secret(word, &secrets))?;
    // A host with no recipient on the command line (`ehlo example.com`): `ehlo --server
    // example.com` alone would be refused next for its missing --to, so the command named is
    // one that runs; a plain domain may be one to check.
    let meant = if flag == "--server" && !names_a_recipient(args) {
        let check = if word.contains([':', '[', '/', '%']) {
            String::new()
        } else {
            format!(", or `ehlo check {word}`")
        };
        format!("`ehlo {flag} {word} -t ADDR`{check}")
    } else {
        format!("`ehlo {flag} {word}`")
    };
    Some(format!(
        "'{word}' looks like {what}: did you mean {meant}? (nothing was sent)"
    ))
}

/// Whether the command line (config file and `EHLO_*` variables included) names a recipient:
/// `-t`/`--to` in any spelling clap reads (`-tADDR`, `--to=ADDR`), or swaks's `--to` alias.
fn names_a_recipient(args: &[OsString]) -> bool {
    let mut cmd = Cli::command();
    cmd.build();
    let Some(to) = cmd.get_arguments().find(|a| a.get_id() == "to") else {
        return false;
    };
    let longs: Vec<&str> = to
        .get_long()
        .into_iter()
        .chain(to.get_all_aliases().unwrap_or_default())
        .collect();
    let short = to.get_short();
    args.iter().skip(1).filter_map(|a| a.to_str()).any(|a| {
        if let Some(l) = a.strip_prefix("--") {
            let name = l.split_once('=').map_or(l, |(n, _)| n);
            longs.contains(&name)
        } else {
            let mut c = a.chars();
            c.next() == Some('-') && short.is_some() && c.next() == short
        }
    })
}

/// Whether a stray `word` is, or holds, one of the command line's `secrets` (a secret's second
/// word when its value was not quoted).
fn within_a_secret(word: &str, secrets: &[String]) -> bool {
    secrets
        .iter()
        .any(|s| s.contains(word) || word.contains(s.as_str()))
}

/// A word that is neither an option nor a subcommand, where [`stray_word_hint`] sees no address
/// or host in it, as one line like every other bad input, instead of clap's block of five
/// (`error: unrecognized subcommand`, a tip, two usage lines, where the help is): a misspelt
/// subcommand (`ehlo dmeo`, `ehlo help chek`) with the one meant ([`crate::suggest::nearest`],
/// the flags' rule), else the subcommands.
/// And after the send's flags (`ehlo --to a@b foo`) clap said "the subcommand 'foo' cannot be
/// used with '--to'" of a word that is no subcommand: the send takes no word of its own.
fn stray_word_line(e: &clap::Error, args: &[OsString]) -> Option<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let Some(ContextValue::String(word)) = e.get(ContextKind::InvalidSubcommand) else {
        return None;
    };
    // A word that may be part of a secret is not shown: one within a secret's value, or right
    // after it (`--auth-password two words`, a password with a space not quoted).
    let secrets = secret_values(args);
    let after_secret = args
        .iter()
        .position(|a| a.to_str() == Some(word.as_str()))
        .and_then(|i| args.get(i.checked_sub(1)?))
        .map(|before| before.to_string_lossy())
        .is_some_and(|before| {
            secrets
                .iter()
                .any(|s| *before == **s || before.ends_with(&format!("={s}")))
        });
    if after_secret || within_a_secret(word, &secrets) {
        let end = if e.kind() == ErrorKind::ArgumentConflict {
            "; nothing was sent"
        } else {
            ""
        };
        return Some(format!(
            "unexpected word after a password or token (not shown: it may be part of it; quote a \
             value with a space){end}"
        ));
    }
    let mut cmd = Cli::command();
    cmd.build();
    let names: Vec<&str> = cmd
        .get_subcommands()
        .map(|c| c.get_name())
        .filter(|n| *n != "help")
        .collect();
    let in_help = args.get(1).and_then(|a| a.to_str()) == Some("help");
    let end = if in_help { "" } else { "; nothing was sent" };
    match e.kind() {
        ErrorKind::InvalidSubcommand => {
            let here = if in_help { " for 'ehlo help'" } else { "" };
            let why = match crate::suggest::nearest(word, names.iter().map(|n| (*n, false))) {
                Some(meant) => format!("did you mean '{meant}'?"),
                None if in_help => format!("the subcommands: {}", names.join(", ")),
                None => format!(
                    "the subcommands: {}; the send takes options only: see 'ehlo --help'",
                    names.join(", ")
                ),
            };
            Some(format!("unknown subcommand '{word}'{here} ({why}){end}"))
        }
        ErrorKind::ArgumentConflict if !names.contains(&word.as_str()) => Some(format!(
            "unexpected word '{word}': the send takes options only, each value right after its \
             flag (a value with spaces needs quotes; see 'ehlo --help'){end}"
        )),
        _ => None,
    }
}

/// A value clap refuses (`--tls-verify=false`, `--dnssec x`, `--timeout abc`, `--tls-verify=`)
/// as one line, like every other bad input, instead of clap's block of four: the flag, the
/// value, why (the parser's reason, or the valid values, and clap's suggestion when it has
/// one). A value that may be a secret is left to clap's redacted error.
fn invalid_value_line(e: &clap::Error, args: &[OsString]) -> Option<String> {
    use clap::error::{ContextKind, ContextValue};
    let value = match e.get(ContextKind::InvalidValue) {
        Some(ContextValue::String(v)) => v.as_str(),
        _ => return None,
    };
    if !value.is_empty()
        && secret_values(args)
            .iter()
            .any(|s| s.contains(value) || value.contains(s.as_str()))
    {
        return None;
    }
    // The send says nothing went out, as its other usage errors do; a subcommand says whose
    // flag it is, as `subcommand_unknown_flag` does.
    let sub = subcommand_named(args);
    let tail = match sub {
        Some(name) => format!(" of 'ehlo {name}'"),
        None => String::new(),
    };
    let end = if sub.is_some() {
        ""
    } else {
        "; nothing was sent"
    };
    Some(format!("{}{end}", value_error_text(e, &tail)?))
}

/// The words of a bad value, the same wherever it was given (the command line, a config file
/// line, an `EHLO_*` or `SWAKS_OPT_*` variable; those add where): `invalid value 'V' for
/// --flag{tail}: the parser's reason (possible values: …; did you mean '…'?)`, or `--flag
/// needs a value…`. `None` for another kind of error. The caller leaves out a secret's value.
pub(crate) fn value_error_text(e: &clap::Error, tail: &str) -> Option<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if !matches!(
        e.kind(),
        ErrorKind::InvalidValue | ErrorKind::ValueValidation
    ) {
        return None;
    }
    let Some(ContextValue::String(arg)) = e.get(ContextKind::InvalidArg) else {
        return None;
    };
    let value = match e.get(ContextKind::InvalidValue) {
        Some(ContextValue::String(v)) => v.as_str(),
        _ => return None,
    };
    // `--tls-verify [<MODE>]` → `--tls-verify`; a positional keeps its `<NAME>`.
    let flag = if arg.starts_with('-') {
        arg.split(' ').next().unwrap_or(arg)
    } else {
        arg.as_str()
    };
    let reason = std::error::Error::source(e)
        .map(|src| format!(": {src}"))
        .unwrap_or_default();
    let mut why = Vec::new();
    // A flag left without its value (`-f` last), a path or free text (`--junit ""`) has no list
    // of valid values (clap hands an empty one): no empty "()".
    if let Some(ContextValue::Strings(valid)) = e.get(ContextKind::ValidValue)
        && !valid.is_empty()
    {
        why.push(format!("possible values: {}", valid.join(", ")));
    }
    if let Some(ContextValue::String(s)) = e.get(ContextKind::SuggestedValue) {
        why.push(format!("did you mean '{s}'?"));
    }
    let why = if why.is_empty() {
        String::new()
    } else {
        format!(" ({})", why.join("; "))
    };
    Some(if value.is_empty() {
        format!("{flag}{tail} needs a value{reason}{why}")
    } else {
        format!("invalid value '{value}' for {flag}{tail}{reason}{why}")
    })
}

/// Two flags that cannot go together (`-4 -6`, `--tls --tls-on-connect`, a trailing
/// `--attach-type`) as one line, like every other bad input, instead of clap's block of four
/// (`error: …`, the usage line, where the help is): swaks says it in one line too ("Options -4
/// and -6 are mutually exclusive"). A secret in it is masked as in clap's own errors.
fn conflict_line(e: &clap::Error, args: &[OsString]) -> Option<String> {
    if e.kind() != clap::error::ErrorKind::ArgumentConflict {
        return None;
    }
    use clap::error::{ContextKind, ContextValue};
    // clap lists several prior flags on lines of their own; its context names them all.
    let prior = match e.get(ContextKind::PriorArg) {
        Some(ContextValue::String(p)) => Some(format!("'{p}'")),
        Some(ContextValue::Strings(ps)) if !ps.is_empty() => Some(
            ps.iter()
                .map(|p| format!("'{p}'"))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        _ => None,
    };
    let what = match (e.get(ContextKind::InvalidArg), prior) {
        (Some(ContextValue::String(arg)), Some(prior)) => {
            format!("'{arg}' cannot be used with {prior}")
        }
        // A conflict worded by ehlo itself (a trailing `--attach-type`): its one line.
        _ => {
            let text = e.to_string();
            let first = text.lines().next()?.trim();
            let first = first.strip_prefix("error:").unwrap_or(first).trim();
            first
                .strip_prefix("the argument ")
                .unwrap_or(first)
                .to_string()
        }
    };
    if what.is_empty() {
        return None;
    }
    let what = what.as_str();
    let what = masked(what, &secret_values(args), args);
    let sub = subcommand_named(args);
    Some(match sub {
        Some(name) => format!("{what} (in 'ehlo {name}')"),
        None => format!("{what}; nothing was sent"),
    })
}

/// A subcommand run without what it needs (`ehlo explain`, `ehlo check`, `ehlo replay FILE`)
/// as one line, like every other bad input, instead of clap's block of five: what is missing,
/// the usage line, and where the help is. When a flag set below the command line is what needs
/// it (`EHLO_TLS_CERT` without a key, a config file's `proxy-timeout` without
/// `--accept-proxy`), the line starts with that flag and where it was set ([`needed_by`]), and
/// offers the variable that may give what is missing: clap's line named the missing flag alone,
/// so a CI job whose environment set the other could not tell where it came from.
fn missing_argument_line(e: &clap::Error, layered: &layers::Layered) -> Option<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if e.kind() != ErrorKind::MissingRequiredArgument {
        return None;
    }
    let Some(ContextValue::Strings(missing)) = e.get(ContextKind::InvalidArg) else {
        return None;
    };
    let Some(ContextValue::StyledStr(usage)) = e.get(ContextKind::Usage) else {
        return None;
    };
    let usage = usage.to_string();
    let usage = usage.trim().strip_prefix("Usage:").unwrap_or(&usage).trim();
    // `ehlo explain <CODE|TEXT>...` → `ehlo explain`.
    let mode: Vec<&str> = usage
        .split_whitespace()
        .take_while(|w| !w.starts_with(['-', '<', '[']))
        .collect();
    let mode = mode.join(" ");
    let sub = subcommand_named(&layered.args);
    let needers = needed_by(missing, layered, sub);
    let list = |with_env: bool| {
        let words: Vec<String> = missing
            .iter()
            .map(|m| {
                // `--tls-key <FILE>` → `--tls-key <FILE> or EHLO_TLS_KEY`, where the mode reads it.
                let long = m.strip_prefix("--").and_then(|m| m.split(' ').next());
                match long
                    .filter(|_| with_env)
                    .and_then(|l| layers::env_var_for(sub, l))
                {
                    Some(var) => format!("{m} or {var}"),
                    None => m.clone(),
                }
            })
            .collect();
        match words.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
            _ => words.join(""),
        }
    };
    if !needers.is_empty() {
        let verb = if needers.len() == 1 { "needs" } else { "need" };
        let who = needers.join(" and ");
        let list = list(true);
        return Some(match sub {
            Some(name) => format!(
                "{who} {verb} {list} (in 'ehlo {name}'; usage: {usage}; 'ehlo {name} --help' says more)"
            ),
            None => format!("{who} {verb} {list} (usage: {usage}); nothing was sent"),
        });
    }
    let list = list(false);
    // The send (`--tls-cert` without `--tls-key`) says nothing went out, as its other usage
    // errors do.
    Some(if mode == "ehlo" {
        format!("missing {list} (usage: {usage}); nothing was sent")
    } else {
        format!("'{mode}' needs {list} (usage: {usage}; '{mode} --help' says more)")
    })
}

/// The flags set below the command line (config file, `SWAKS_OPT_*`, `EHLO_*`) that need one
/// of `missing` (clap's `requires`), each as `--flag (set by …)`. clap's error does not say
/// which flag required the missing one, and its table has no getter for `requires`: each
/// layered setting is parsed alone (with its subcommand's word), and one whose parse misses an
/// argument of `missing` is one that needs it. A command-line flag is not looked at: its
/// refusal reads as before. Runs on this refusal's path only.
fn needed_by(missing: &[String], layered: &layers::Layered, sub: Option<&str>) -> Vec<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let below: Vec<&layers::Setting> = layered
        .settings
        .iter()
        .filter(|s| s.origin != layers::Origin::CommandLine)
        .collect();
    if below.is_empty() {
        return Vec::new();
    }
    let mut cmd = Cli::command();
    cmd.build();
    let mut found: Vec<String> = Vec::new();
    for s in below {
        let mut argv = vec![OsString::from("ehlo")];
        argv.extend(sub.map(OsString::from));
        argv.push(s.token());
        let Err(e) = cmd.try_get_matches_from_mut(argv) else {
            continue;
        };
        let needs = e.kind() == ErrorKind::MissingRequiredArgument
            && matches!(e.get(ContextKind::InvalidArg), Some(ContextValue::Strings(m))
                if m.iter().any(|m| missing.contains(m)));
        if needs && let Some(source) = s.origin.source() {
            let who = format!("--{} (set by {source})", s.name);
            if !found.contains(&who) {
                found.push(who);
            }
        }
    }
    found
}

/// A flag the subcommand does not take (`ehlo check --to x`, `ehlo check --timout 5s`), as one
/// line instead of clap's block, whose tips mislead here ("to pass '--to' as a value, use
/// '-- --to'", or "a similar argument exists: '--tls-on-connect'" for `--to`): the modes whose
/// option the word is (a swaks flag given to `check` is the send's), else the subcommand's own
/// option closest to it as typed ([`crate::suggest::nearest`], the send's rule), else only where to look. A
/// word that may hold a secret is left to clap's redacted error.
fn subcommand_unknown_flag(e: &clap::Error, args: &[OsString]) -> Option<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if e.kind() != ErrorKind::UnknownArgument {
        return None;
    }
    let Some(ContextValue::String(word)) = e.get(ContextKind::InvalidArg) else {
        return None;
    };
    let sub_name = args.get(1)?.to_str()?;
    let mut cmd = Cli::command();
    cmd.build();
    let sub = cmd
        .get_subcommands()
        .find(|c| c.get_name() == sub_name && c.get_name() != "help")?;
    let secrets = secret_values(args);
    if secrets
        .iter()
        .any(|s| s.contains(word.as_str()) || word.contains(s.as_str()))
    {
        return None;
    }
    // A word that is no option at all (`ehlo demo now`, `ehlo repl HOST extra`) is an argument
    // the subcommand does not take, not an unknown option: its usage says what it takes.
    if !word.starts_with('-') {
        let usage = sub.clone().render_usage().to_string();
        let usage = usage.trim().strip_prefix("Usage:").unwrap_or(&usage).trim();
        // `ehlo repl mx.example.com 25`, telnet's two words: the port goes after a colon.
        if matches!(sub_name, "repl" | "probe")
            && !word.is_empty()
            && word.len() <= 5
            && word.bytes().all(|b| b.is_ascii_digit())
            && let Some(host) = args
                .iter()
                .position(|a| a.to_str() == Some(word.as_str()))
                .and_then(|i| args.get(i.checked_sub(1)?)?.to_str())
                .filter(|h| !h.starts_with('-') && !h.contains(':') && *h != sub_name)
        {
            return Some(format!(
                "unexpected argument '{word}' for 'ehlo {sub_name}': a port follows the host \
                 after a colon, 'ehlo {sub_name} {host}:{word}' (or --port {word})"
            ));
        }
        // `ehlo replay FILE HOST:PORT`, as `ehlo repl HOST` takes it: replay's is --server.
        if sub_name == "replay"
            && classify_stray_word(word).is_some_and(|(_, flag)| flag == "--server")
            && !std::path::Path::new(word).exists()
        {
            return Some(format!(
                "unexpected argument '{word}' for 'ehlo replay': the server is --server's, \
                 'ehlo replay FILE --server {word}'"
            ));
        }
        return Some(format!(
            "unexpected argument '{word}' for 'ehlo {sub_name}' (usage: {usage}; 'ehlo {sub_name} --help' says more)"
        ));
    }
    let (long, short) = match word.strip_prefix("--") {
        Some(l) => (Some(l), None),
        None => (None, word.strip_prefix('-').and_then(|s| s.chars().next())),
    };
    let takes = |c: &clap::Command| -> Option<(String, bool)> {
        c.get_arguments().find_map(|a| {
            let by_long = long.is_some_and(|l| {
                a.get_long() == Some(l) || a.get_all_aliases().unwrap_or_default().contains(&l)
            });
            let by_short = short.is_some_and(|s| {
                a.get_short() == Some(s)
                    || a.get_all_short_aliases().unwrap_or_default().contains(&s)
            });
            let needs_value = a.get_num_args().is_some_and(|n| n.min_values() > 0);
            (by_long || by_short)
                .then(|| (a.get_long().unwrap_or_default().to_string(), needs_value))
        })
    };
    let mut modes = Vec::new();
    let mut meant = None;
    // Whether some other mode's flag spelled so could be what was meant here: not when each
    // needs a value and none follows the word (`ehlo serve -q` is no `--quit-after STEP`).
    let mut could_be_theirs = false;
    let value_follows = match args.iter().position(|a| a.to_str() == Some(word.as_str())) {
        Some(i) => args
            .get(i + 1)
            .and_then(|v| v.to_str())
            .is_some_and(|v| v == "-" || !v.starts_with('-')),
        // Written with its value (`-qrcpt`, `--to=x`).
        None => true,
    };
    let mut note = |mode: String, (l, needs_value): (String, bool)| {
        modes.push(mode);
        could_be_theirs |= value_follows || !needs_value;
        meant.get_or_insert(l);
    };
    if let Some(l) = takes(&cmd) {
        note("the send".to_string(), l);
    }
    for other in cmd.get_subcommands() {
        if other.get_name() != sub_name
            && let Some(l) = takes(other)
        {
            note(format!("'ehlo {}'", other.get_name()), l);
        }
    }
    // A short with no value after it can only be a switch: the subcommand's own switches whose
    // long name it abbreviates, read as the send reads `-X` (Getopt::Long, as in swaks).
    let own_switches: Vec<String> = match short {
        Some(s) if !value_follows => {
            let mut names: Vec<String> = sub
                .get_arguments()
                .filter(|a| !a.get_action().takes_values())
                .flat_map(args::long_names)
                .filter(|l| l.starts_with(s))
                .map(|l| format!("'--{l}'"))
                .collect();
            names.sort();
            names.dedup();
            names
        }
        _ => Vec::new(),
    };
    let here = format!("'ehlo {sub_name}'");
    let hint = if !own_switches.is_empty() && !could_be_theirs {
        let list = match own_switches.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
            _ => own_switches.join(""),
        };
        let theirs = match (&meant, modes.split_last()) {
            (Some(l), Some((last, rest))) => {
                let list = match rest {
                    [] => last.clone(),
                    _ => format!("{} and {last}", rest.join(", ")),
                };
                format!(" {word} is --{l} only in {list}, where it takes a value")
            }
            _ => String::new(),
        };
        format!("did you mean {list}?{theirs}")
    } else if !modes.is_empty() {
        let spelled = match (short, &meant) {
            (Some(_), Some(l)) if !l.is_empty() => format!("--{l}, "),
            _ => String::new(),
        };
        let list = match modes.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
            _ => modes.join(""),
        };
        // `ehlo repl --server mx.example`: the server is the subcommand's first argument.
        let target = sub
            .get_positionals()
            .find_map(|a| {
                let v = a.get_value_names()?.first()?.split_whitespace().next()?;
                Some(v.to_string())
            })
            .filter(|v| v.starts_with("HOST") && meant.as_deref() == Some("server"))
            .map(|v| format!(": the server is its argument, 'ehlo {sub_name} {v}'"))
            .or_else(|| serve_listen_hint(sub_name, meant.as_deref(), word, args))
            .unwrap_or_default();
        format!("{spelled}an option of {list}, not of {here}{target}")
    } else if let Some(n) = long.and_then(|l| {
        let names = sub.get_arguments().flat_map(|a| {
            a.get_long().map(|n| (n, false)).into_iter().chain(
                a.get_all_aliases()
                    .unwrap_or_default()
                    .into_iter()
                    .map(|n| (n, true)),
            )
        });
        crate::suggest::nearest(l, names)
    }) {
        format!("did you mean '--{n}'?")
    } else if let Some(n) = long.and_then(|l| other_word_for(l, sub)) {
        format!("did you mean '--{n}'?")
    } else {
        format!("see 'ehlo {sub_name} --help'")
    };
    Some(format!("unknown option '{word}' for {here} ({hint})"))
}

/// Other tools' names for an option a subcommand takes under its own name, no spelling away
/// (`--assert` for `--expect`): the one `sub` takes, for the hint. Not an alias: the word is
/// still refused.
fn other_word_for(typed: &str, sub: &clap::Command) -> Option<&'static str> {
    const OTHER_WORDS: &[(&str, &str)] = &[("assert", "expect")];
    let typed = typed.split('=').next().unwrap_or(typed);
    OTHER_WORDS
        .iter()
        .find(|(w, _)| typed.eq_ignore_ascii_case(w))
        .map(|(_, n)| *n)
        .filter(|n| sub.get_arguments().any(|a| a.get_long() == Some(*n)))
}

/// `ehlo serve --port 2525` (or `--server`, the send's words for where): the server takes its
/// address and port from `--listen ADDR:PORT` alone, so the refusal names that form, with the
/// value typed when it says a port or an address (`--listen 127.0.0.1:2525`).
fn serve_listen_hint(
    sub_name: &str,
    meant: Option<&str>,
    word: &str,
    args: &[OsString],
) -> Option<String> {
    if sub_name != "serve" || !matches!(meant, Some("port" | "server")) {
        return None;
    }
    let value = args
        .iter()
        .position(|a| a.to_str() == Some(word))
        .and_then(|i| args.get(i + 1)?.to_str())
        .filter(|v| !v.is_empty() && !v.starts_with('-'));
    let listen = match (meant, value) {
        (Some("port"), Some(p)) if p.bytes().all(|b| b.is_ascii_digit()) => {
            format!("127.0.0.1:{p}")
        }
        // An address with its port is --listen's form already.
        (Some("server"), Some(v)) if v.contains(':') => v.to_string(),
        _ => "127.0.0.1:2525".to_string(),
    };
    Some(format!(
        ": it listens where --listen ADDR:PORT says, 'ehlo serve --listen {listen}'"
    ))
}

/// What a stray word looks like, and the flag that takes it: an address (`--to`), a host
/// name or address literal with an optional port (`--server`), or neither.
fn classify_stray_word(word: &str) -> Option<(&'static str, &'static str)> {
    if word.is_empty() || word.starts_with('-') || word.chars().any(char::is_whitespace) {
        return None;
    }
    if let Some((local, domain)) = word.rsplit_once('@') {
        return (!local.is_empty() && !domain.is_empty()).then_some(("an address", "--to"));
    }
    let host_chars = word
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || ".-_:[]%/".contains(c));
    let dotted = word.contains('.') || word.contains(':');
    (host_chars && dotted && word.chars().any(|c| c.is_ascii_alphanumeric()))
        .then_some(("a host", "--server"))
}

/// swaks accepts one dash for long options (`-tls`, `-au`); clap does not. Rewrite a single-dash
/// word that exactly matches a long flag or alias of any ehlo command, or (outside a subcommand)
/// uniquely abbreviates one as swaks's Getopt::Long allows (optionally with
/// `=value`) to the two-dash form. Single-character shorts (`-t`, `-S`) and anything else are left
/// alone, and so is the value of an option that takes one (`--helo -tls` keeps `-tls` as the
/// name), and everything after `--`.
///
/// swaks's dynamic `--header-<Name> VALUE` / `--h-<Name> VALUE` (one or two dashes, or
/// `=VALUE`) cannot be declared to clap; they become `--header "Name: VALUE"`. Without a value
/// they become a bare `--header`, which clap reports as missing its value.
///
/// No swaks command line may silently mean something else here (swaks has no bundling, and
/// clap would read `-dab` as `-d ab`):
/// - `-h NAME` is `--helo NAME`, as in swaks; `-h` with no name after it is help.
/// - A swaks spelling ehlo does not implement ([`swaks::OPTIONS`]) is refused naming its long
///   form, and so is `-hX…`, which clap would read as help.
/// - Help together with any other argument (besides a subcommand name) is refused: a script
///   that meant something else must not exit 0 without sending.
pub(crate) fn rewrite_single_dash(args: Vec<OsString>) -> Result<Vec<OsString>, Error> {
    // Nothing to rewrite: skip building the flag table of every command, which costs as much as
    // the whole parse (measured with callgrind). The static lists below stand in for the table;
    // a unit test keeps them equal to it.
    if !args.iter().skip(1).any(needs_table(&args)) {
        return Ok(args);
    }
    rewrite_with_table(args)
}

/// The short flags of the one-shot send (with clap's `-h` and `-V`), sorted: any other `-X`
/// word goes through the table, which reads it as Getopt::Long reads it for swaks, a prefix of
/// a long name (`-v` is `--version`, `-e NAME` `--ehlo NAME`, that is `--helo NAME`), or refuses it in one line.
/// Equal to `Cli::command()`'s by a unit test.
const TOP_SHORTS: &[char] = &[
    '4', '6', 'S', 'V', 'a', 'd', 'f', 'g', 'h', 'k', 'n', 'p', 'q', 's', 't',
];

/// The long names and aliases of the one-shot send's flags (with clap's `help` and `version`),
/// sorted: a `--name` or `--name=value` word with one of these is passed on as written
/// ([`rewrite_with_table`]'s `top_exact`). Equal to `Cli::command()`'s by a unit test.
const TOP_LONGS: &[&str] = &[
    "add-header",
    "ae",
    "ah",
    "ahp",
    "allow-plaintext-auth",
    "am",
    "ao",
    "aos",
    "ap",
    "apt",
    "attach",
    "attach-body",
    "attach-inline",
    "attach-name",
    "attach-type",
    "au",
    "auth",
    "auth-authzid",
    "auth-extra",
    "auth-force",
    "auth-hide-password",
    "auth-map",
    "auth-oauth-token",
    "auth-optional",
    "auth-optional-strict",
    "auth-password",
    "auth-password-file",
    "auth-plaintext",
    "auth-token-file",
    "auth-user",
    "bcc",
    "bdat",
    "body",
    "cc",
    "color",
    "config",
    "connect-timeout",
    "copy-routing",
    "da",
    "dab",
    "dabsp",
    "das",
    "data",
    "deadline",
    "dns-server",
    "dns-trust-anchor",
    "dnssec",
    "drop",
    "drop-after",
    "drop-after-send",
    "dsn-envid",
    "dsn-notify",
    "dsn-orcpt",
    "dsn-ret",
    "dump",
    "dump-as-body",
    "dump-as-body-shows-password",
    "dump-config",
    "dump-mail",
    "ehlo",
    "explain",
    "force-ext",
    "force-getpwuid",
    "from",
    "g",
    "ha",
    "header",
    "helo",
    "help",
    "hi",
    "hide-all",
    "hide-informational",
    "hide-receive",
    "hide-send",
    "hr",
    "hs",
    "insecure",
    "ipv4",
    "ipv6",
    "json",
    "lhlo",
    "li",
    "local-interface",
    "local-port",
    "lp",
    "lport",
    "mail-param",
    "n",
    "ndf",
    "nih",
    "no-config",
    "no-crlf-fixup",
    "no-data-fixup",
    "no-dot-stuffing",
    "no-hints",
    "no-info-hints",
    "no-receive-hints",
    "no-send-hints",
    "no-strip-from",
    "nrh",
    "nsf",
    "nsh",
    "nth",
    "output",
    "output-file",
    "output-file-stderr",
    "output-file-stdout",
    "pipe",
    "pipeline",
    "port",
    "pp",
    "prdr",
    "protect-prompt",
    "protocol",
    "proxy",
    "proxy-command",
    "proxy-dest",
    "proxy-dest-port",
    "proxy-family",
    "proxy-protocol",
    "proxy-source",
    "proxy-source-port",
    "proxy-version",
    "quit",
    "quit-after",
    "raw",
    "rcpt-param",
    "requiretls",
    "server",
    "show-raw-text",
    "show-secrets",
    "show-time-lapse",
    "silent",
    "smtputf8",
    "socket",
    "stl",
    "support",
    "suppress-data",
    "timeout",
    "tls",
    "tls-ca-path",
    "tls-cert",
    "tls-chain",
    "tls-cipher",
    "tls-ciphersuites",
    "tls-get-peer-cert",
    "tls-get-peer-chain",
    "tls-key",
    "tls-on-connect",
    "tls-optional",
    "tls-optional-strict",
    "tls-protocol",
    "tls-sni",
    "tls-verify",
    "tls-verify-ca",
    "tls-verify-host",
    "tls-verify-target",
    "tlsa",
    "tlsa-file",
    "tlsc",
    "tlso",
    "tlsos",
    "tlsp",
    "to",
    "version",
    "xclient",
    "xclient-addr",
    "xclient-before-starttls",
    "xclient-delim",
    "xclient-destaddr",
    "xclient-destport",
    "xclient-helo",
    "xclient-login",
    "xclient-name",
    "xclient-no-verify",
    "xclient-optional",
    "xclient-optional-strict",
    "xclient-port",
    "xclient-proto",
    "xclient-reverse-name",
    "xforward-addr",
    "xforward-helo",
    "xforward-ident",
    "xforward-name",
    "xforward-port",
    "xforward-proto",
    "xforward-source",
];

/// `-X`, one letter that is no short flag of the one-shot send ([`TOP_SHORTS`]): read as a
/// prefix of a long name, as swaks's Getopt::Long reads it.
fn is_unknown_short(word: &str) -> bool {
    let mut c = word.chars();
    c.next() == Some('-')
        && c.next()
            .is_some_and(|c| TOP_SHORTS.binary_search(&c).is_err())
        && c.next().is_none()
}

/// The send's `--output-file*` streams named on a command line that could not be parsed (a bad
/// value, an unknown flag, a mistake in a config file), read word by word as
/// [`layers::command_line_json`] reads `--json` then: the refusal's `***` line goes there, as
/// swaks writes a bad value's complaint into its output file. The last of each flag wins, as
/// on a parsed command line; a subcommand's line names none (only the send has the flags).
/// A stream the command line does not name comes from the layers below it
/// ([`layers::output_files_below`]: the environment, the config file), as in swaks.
fn output_by_word(argv: &[OsString], env: &layers::LayerEnv) -> mode::OutputFiles {
    let in_subcommand = argv
        .get(1)
        .and_then(|a| a.to_str())
        .is_some_and(|s| SUBCOMMANDS.binary_search(&s).is_ok());
    let (mut both, mut stdout, mut stderr) = (None, None, None);
    if !in_subcommand {
        let mut words = argv.iter().skip(1);
        while let Some(word) = words.next() {
            let Some(word) = word.to_str() else { continue };
            if word == "--" {
                break;
            }
            let (name, inline) = match word.split_once('=') {
                Some((name, value)) => (name, Some(value)),
                None => (word, None),
            };
            let slot = match name {
                "--output-file" | "--output" => &mut both,
                "--output-file-stdout" => &mut stdout,
                "--output-file-stderr" => &mut stderr,
                _ => continue,
            };
            let value = match inline {
                Some(v) => Some(std::path::PathBuf::from(v)),
                None => words.next().map(std::path::PathBuf::from),
            };
            if let Some(v) = value.filter(|v| !v.as_os_str().is_empty()) {
                *slot = Some(v);
            }
        }
    }
    if !in_subcommand {
        let [b, o, e] = layers::output_files_below(argv, env);
        both = both.or(b);
        stdout = stdout.or(o);
        stderr = stderr.or(e);
    }
    mode::OutputFiles {
        stdout: stdout.or_else(|| both.clone()),
        stderr: stderr.or(both),
    }
}

/// The subcommand names (with clap's `help`), sorted. Equal to `Cli::command()`'s by a unit
/// test.
const SUBCOMMANDS: &[&str] = &[
    "check", "demo", "explain", "help", "probe", "repl", "replay", "serve",
];

/// Whether a word of `args` may be rewritten or refused by [`rewrite_with_table`]: a `-long`
/// word, `-h`, `--help`, `--header-X`/`--h-X`, and outside a subcommand a `--name` that is not
/// exactly a long name or alias of the one-shot send (a prefix, a swaks spelling, an unknown
/// name). Inside a subcommand every other `--name` is passed on as written.
fn needs_table(args: &[OsString]) -> impl Fn(&OsString) -> bool {
    let in_subcommand = args
        .get(1)
        .and_then(|a| a.to_str())
        .is_some_and(|s| SUBCOMMANDS.binary_search(&s).is_ok());
    move |a: &OsString| {
        let s = a.to_string_lossy();
        (s.starts_with('-') && !s.starts_with("--") && s.chars().count() > 2)
            || s == "-h"
            || (!in_subcommand && is_unknown_short(&s))
            || s.starts_with("--header-")
            || s.starts_with("--h-")
            || s.strip_prefix("--").is_some_and(|n| {
                let n = n.split('=').next().unwrap_or(n);
                n == "help"
                    || (!in_subcommand && !n.is_empty() && TOP_LONGS.binary_search(&n).is_err())
            })
    }
}

/// [`rewrite_single_dash`] with the whole flag table built.
fn rewrite_with_table(args: Vec<OsString>) -> Result<Vec<OsString>, Error> {
    let mut cmd = Cli::command();
    cmd.build();
    let subcommands: HashSet<String> = cmd
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    let mut longs = HashSet::new();
    // Per command (the one-shot send is `None`): the names whose flag needs a value, so the
    // word after it is that value. Kept apart because one name can differ between commands
    // (`--auth-user` needs a value in `repl` but not in the send, where `-au -ap` is two flags
    // as in swaks, and the word after `-au` is never its value when it starts with a dash).
    let mut needs_value: HashMap<Option<String>, (HashSet<String>, HashSet<char>)> = HashMap::new();
    // Per command: the spellings (`--silent`, `-S`) of a flag whose value is an optional number,
    // so that a negative number after it is its value, as Getopt::Long's `:i` reads swaks's
    // `-S -1` (swaks takes it for `-S 1`), never a one-letter option `-1`.
    let mut optional_number: HashMap<Option<String>, HashSet<String>> = HashMap::new();
    // Per command: the spellings of a flag whose value is a number or a duration and must be
    // given, so that `--deadline -1s` reaches its parser ("'-1s' is not a duration") where
    // clap, which takes only a bare negative number for a value, read `-1s` as the options
    // `-1` and `-s` ("unexpected argument '-1'").
    let mut numeric_needs: HashMap<Option<String>, HashSet<String>> = HashMap::new();
    // The one-shot send's names (long names and aliases) → its long name, for prefixes.
    let mut top: Vec<(String, String)> = Vec::new();
    for arg in cmd.get_arguments() {
        if let Some(long) = arg.get_long() {
            for l in std::iter::once(long).chain(arg.get_all_aliases().unwrap_or_default()) {
                top.push((l.to_string(), long.to_string()));
            }
        }
    }
    let secret_longs: HashSet<&str> = secret_long_names(&cmd).collect();
    let mut cmds = vec![(None, &cmd)];
    cmds.extend(
        cmd.get_subcommands()
            .map(|c| (Some(c.get_name().to_string()), c)),
    );
    for (key, c) in cmds {
        let optional = optional_number.entry(key.clone()).or_default();
        let numeric = numeric_needs.entry(key.clone()).or_default();
        let (needs_long, needs_short) = needs_value.entry(key).or_default();
        for arg in c.get_arguments() {
            let needs = arg.get_action().takes_values()
                && arg.get_num_args().is_some_and(|r| r.min_values() > 0);
            if !needs && arg.get_action().takes_values() && args::is_numeric(arg) {
                optional.extend(args::long_names(arg).map(|l| format!("--{l}")));
                optional.extend(arg.get_short().map(|s| format!("-{s}")));
            }
            for l in args::long_names(arg) {
                longs.insert(l.to_string());
                if needs {
                    needs_long.insert(l.to_string());
                }
            }
            if needs && let Some(s) = arg.get_short() {
                needs_short.insert(s);
            }
            if needs && args::is_numeric(arg) {
                numeric.extend(args::long_names(arg).map(|l| format!("--{l}")));
                numeric.extend(arg.get_short().map(|s| format!("-{s}")));
            }
        }
    }
    let no_needs = (HashSet::new(), HashSet::new());
    let no_optional = HashSet::new();
    // The word before was a flag's value, not a flag.
    let mut after_value = false;

    let mut out = Vec::with_capacity(args.len());
    let mut iter = args.into_iter().peekable();
    out.extend(iter.next()); // program name
    let mut value_next = false;
    let mut rest_literal = false;
    // Inside a subcommand swaks's vocabulary does not apply.
    let mut in_subcommand = false;
    // The subcommand those words belong to (`None`: the one-shot send).
    let mut command: Option<String> = None;
    let mut help: Option<String> = None;
    let mut others = 0usize;
    // The word before was a flag taking a secret (its value is never quoted in a refusal).
    let mut after_secret = false;
    while let Some(arg) = iter.next() {
        let follows_secret = std::mem::take(&mut after_secret);
        let follows_value = std::mem::take(&mut after_value);
        if rest_literal || value_next {
            after_value = value_next;
            value_next = false;
            others += 1;
            // `--deadline -1s`, `-t -5m`: a negative duration is the flag's value, glued to
            // it so clap does not read it as options; its parser then refuses it in one line.
            let flag = out.last().and_then(|w| w.to_str()).map(str::to_string);
            if after_value
                && let (Some(flag), Some(word)) = (flag, arg.to_str())
                && looks_negative(word)
                && numeric_needs
                    .get(&command)
                    .is_some_and(|n| n.contains(&flag))
            {
                let glue = if flag.starts_with("--") { "=" } else { "" };
                out.pop();
                out.push(OsString::from(format!("{flag}{glue}{word}")));
                continue;
            }
            out.push(arg);
            continue;
        }
        let Some(s) = arg.to_str() else {
            others += 1;
            out.push(arg);
            continue;
        };
        if s == "--" {
            rest_literal = true;
            others += 1;
            out.push(arg);
            continue;
        }
        if !in_subcommand && out.len() == 1 && subcommands.contains(s) {
            in_subcommand = true;
            command = Some(s.to_string());
            out.push(arg);
            continue;
        }
        let (needs_value_long, needs_value_short) = needs_value.get(&command).unwrap_or(&no_needs);
        let after_optional_number = !follows_value
            && out.last().and_then(|w| w.to_str()).is_some_and(|w| {
                optional_number
                    .get(&command)
                    .unwrap_or(&no_optional)
                    .contains(w)
            });
        if after_optional_number && is_negative_number(s) {
            // Its value, which its own parser refuses ("-1 is not in 1..=3").
            others += 1;
            after_value = true;
            out.push(arg);
            continue;
        }
        if matches!(s, "--help" | "-help") || (s == "-h" && in_subcommand) {
            help = Some(s.to_string());
            out.push(OsString::from(if s == "-h" { "-h" } else { "--help" }));
            continue;
        }
        if s == "-h" {
            // swaks: -h NAME is --helo NAME. With no name after it, it is help.
            match iter.peek().and_then(|n| n.to_str()) {
                Some(next) if !next.starts_with('-') || next == "-" => {
                    out.push(OsString::from("--helo"));
                    value_next = true;
                    others += 1;
                }
                _ => {
                    help = Some(s.to_string());
                    out.push(arg);
                }
            }
            continue;
        }
        others += 1;
        // `--name…` or `-name…` (a single dash followed by more than one character).
        let long = s
            .strip_prefix("--")
            .or_else(|| s.strip_prefix('-').filter(|body| body.chars().count() > 1));
        if let Some(name) = long.and_then(dynamic_header) {
            let (name, inline) = match name.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (name, None),
            };
            let value = inline.or_else(|| {
                let next = iter.next()?;
                Some(next.to_string_lossy().into_owned())
            });
            out.push(OsString::from("--header"));
            if let Some(v) = value {
                // `--h-From: VALUE` (swaks's documented spelling) names the header with a colon.
                let name = name.strip_suffix(':').unwrap_or(name);
                out.push(OsString::from(format!("{name}: {v}")));
            }
            continue;
        }
        match long {
            Some(body) => {
                let (name, inline) = match body.split_once('=') {
                    Some((n, _)) => (n, true),
                    None => (body, false),
                };
                let top_exact = top.iter().any(|(l, _)| l == name);
                if !in_subcommand && !top_exact {
                    match swaks::find(name) {
                        Some(opt) if opt.ehlo.is_none() => {
                            return Err(Error::Usage(swaks::unsupported(s, opt)));
                        }
                        // `-h=NAME`, `--h NAME`: --helo.
                        Some(_) if name == "h" => {
                            value_next = !inline;
                            out.push(OsString::from(format!("--helo{}", &body[1..])));
                            continue;
                        }
                        // `--t ADDR`, `--s=HOST`: swaks takes any spelling with either dash.
                        Some(_) if name.chars().count() == 1 => {
                            let c = name.chars().next().unwrap_or_default();
                            value_next = !inline && needs_value_short.contains(&c);
                            out.push(OsString::from(format!("-{body}")));
                            continue;
                        }
                        Some(SwaksOpt {
                            ehlo: Some(long), ..
                        }) => {
                            after_secret = !inline && secret_longs.contains(long);
                            value_next = !inline && needs_value_long.contains(*long);
                            let tail = &body[name.len()..];
                            out.push(OsString::from(format!("--{long}{tail}")));
                            continue;
                        }
                        _ => {}
                    }
                    if !name.starts_with("no-") {
                        // Getopt::Long as swaks configures it: a unique prefix of a long
                        // name, with one dash or two, and no short option with a glued value.
                        let dashes = if s.starts_with("--") { "--" } else { "-" };
                        let long = resolve_prefix(name, &top, &secret_longs).map_err(|why| {
                            let near = Near {
                                top: &top,
                                cmd: &cmd,
                                subcommands: &subcommands,
                            };
                            Error::Usage(why.message(dashes, follows_secret, &near))
                        })?;
                        after_secret = !inline && secret_longs.contains(long.as_str());
                        value_next = !inline && needs_value_long.contains(long.as_str());
                        let tail = &body[name.len()..];
                        out.push(OsString::from(format!("--{long}{tail}")));
                        continue;
                    }
                }
                if !in_subcommand {
                    after_secret = !inline && secret_longs.contains(name);
                }
                value_next = !inline && needs_value_long.contains(name);
                if !s.starts_with("--") && longs.contains(name) {
                    out.push(OsString::from(format!("-{s}")));
                } else {
                    out.push(arg);
                }
            }
            // `-v`, `-e NAME`: no short flag of the send, so swaks's Getopt::Long reads the
            // letter as a prefix of a long name (`-v` prints the version there): read it so, or
            // refuse it in one line, rather than clap's usage block.
            None if !in_subcommand && is_unknown_short(s) => {
                let name = &s[1..];
                let long = resolve_prefix(name, &top, &secret_longs).map_err(|why| {
                    let near = Near {
                        top: &top,
                        cmd: &cmd,
                        subcommands: &subcommands,
                    };
                    Error::Usage(why.message("-", follows_secret, &near))
                })?;
                after_secret = secret_longs.contains(long.as_str());
                value_next = needs_value_long.contains(long.as_str());
                out.push(OsString::from(format!("--{long}")));
            }
            None => {
                // `-x` alone: a short that needs a value takes the next word.
                let mut chars = s.chars();
                value_next = chars.next() == Some('-')
                    && chars.next().is_some_and(|c| needs_value_short.contains(&c))
                    && chars.next().is_none();
                out.push(arg);
            }
        }
    }
    if let Some(word) = help
        && others > 0
    {
        return Err(Error::Usage(format!(
            "'{word}' asks for help, and help does not run together with other arguments \
             (-h NAME is --helo NAME, as in swaks); nothing was sent"
        )));
    }
    Ok(out)
}

/// `-1s`, `-5m`, `-0.5`: a word that starts as a negative number does.
fn looks_negative(word: &str) -> bool {
    word.strip_prefix('-')
        .is_some_and(|d| d.starts_with(|c: char| c.is_ascii_digit() || c == '.'))
}

/// `-1`, `-25`: a word that is a negative whole number.
fn is_negative_number(word: &str) -> bool {
    word.strip_prefix('-')
        .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
}

/// The values `args` gives to flags taking a secret (`--auth-password S3cr3t`, `-ap=S3cr3t`,
/// and the word after such a flag even when it looks like an option), in any subcommand.
fn secret_values(args: &[OsString]) -> Vec<String> {
    let mut cmd = Cli::command();
    cmd.build();
    let mut names: HashSet<String> = HashSet::new();
    let mut cmds = vec![&cmd];
    cmds.extend(cmd.get_subcommands());
    for c in cmds {
        names.extend(secret_long_names(c).map(|l| format!("--{l}")));
        names.extend(
            c.get_arguments()
                .filter(|a| a.is_hide_env_values_set())
                .filter_map(|a| a.get_short().map(|c| format!("-{c}"))),
        );
    }
    let mut out = Vec::new();
    let mut words = args.iter().skip(1).map(|a| a.to_string_lossy());
    while let Some(w) = words.next() {
        if w == "--" {
            break;
        }
        match w.split_once('=') {
            Some((n, v)) if names.contains(n) => out.push(v.to_string()),
            None if names.contains(w.as_ref()) => out.extend(words.next().map(|v| v.into_owned())),
            _ => {}
        }
    }
    out.retain(|v| !v.is_empty());
    // Longest first, so that a secret containing another is hidden whole.
    out.sort_by_key(|v| std::cmp::Reverse(v.len()));
    out
}

/// The words clap writes itself in an error: every option's `--long`/`-s` spelling (aliases
/// too) and value placeholder (`<MECH,...>`'s `MECH,...`), in every subcommand.
fn clap_words() -> HashSet<String> {
    let mut cmd = Cli::command();
    cmd.build();
    let mut out = HashSet::new();
    let mut cmds = vec![&cmd];
    cmds.extend(cmd.get_subcommands());
    for c in cmds {
        for a in c.get_arguments() {
            out.extend(args::long_names(a).map(|l| format!("--{l}")));
            out.extend(a.get_short().map(|c| format!("-{c}")));
            for v in a.get_value_names().unwrap_or_default() {
                out.extend(v.split(|c: char| !is_word_char(c)).map(str::to_string));
            }
        }
    }
    out
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '-' || c == '_'
}

/// The subcommand a command line names (`ehlo check …`: `check`), `None` for the one-shot send.
fn subcommand_named(args: &[OsString]) -> Option<&str> {
    args.get(1)
        .and_then(|a| a.to_str())
        .filter(|a| Cli::command().find_subcommand(a).is_some())
}

/// `text` (an error message about `args`) with [`redact`] applied when one of `secrets` is in
/// it, the words typed being `args`'.
fn masked(text: &str, secrets: &[String], args: &[OsString]) -> String {
    if !secrets.iter().any(|s| text.contains(s.as_str())) {
        return text.to_string();
    }
    let typed: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    redact(text, secrets, &clap_words(), &typed)
}

/// `text` with every one of `secrets` replaced by `********` where it stands alone or inside a
/// word the user typed (`'-apS3cret'`), but not inside a word clap wrote itself (an option's
/// name such as `--auth-optional` when the password is `p` or `auth`, or its own English):
/// masking there garbled the message and showed where the secret's letters are.
fn redact(
    text: &str,
    secrets: &[String],
    clap_words: &HashSet<String>,
    typed: &[String],
) -> String {
    secrets.iter().fold(text.to_string(), |t, v| {
        let mut out = String::with_capacity(t.len());
        let mut at = 0;
        while let Some(i) = t[at..].find(v.as_str()).map(|i| at + i) {
            let end = i + v.len();
            let from = t[..i]
                .char_indices()
                .rev()
                .take_while(|&(_, c)| is_word_char(c))
                .last()
                .map_or(i, |(k, _)| k);
            let to = t[end..]
                .char_indices()
                .find(|&(_, c)| !is_word_char(c))
                .map_or(t.len(), |(k, _)| end + k);
            let word = &t[from..to];
            let own = (from, to) != (i, end)
                && (clap_words.contains(word) || !typed.iter().any(|a| a.contains(word)));
            out.push_str(&t[at..i]);
            out.push_str(if own { v.as_str() } else { "********" });
            at = end;
        }
        out.push_str(&t[at..]);
        out
    })
}

/// Why a word names no option of the one-shot send.
#[derive(Debug)]
enum NoOption {
    /// A prefix of these long names (more than one option).
    Ambiguous(String, Vec<String>),
    /// A prefix of only this swaks option, which ehlo does not implement.
    Unsupported(String, &'static SwaksOpt),
    /// Nothing starts with it. The second: the word starts with a name taking a secret
    /// (`-apS3cret`), so only that name is quoted. The third: the word starts with a
    /// single-character option taking a value (`-tfoo`), which swaks does not read as `-t foo`.
    Unknown(String, Option<String>, Option<char>),
}

/// What an unknown word may have meant: the send's names (name or alias → long name), the
/// other modes' (read from the flag table only when a word is unknown) and the subcommands.
struct Near<'a> {
    top: &'a [(String, String)],
    cmd: &'a clap::Command,
    subcommands: &'a HashSet<String>,
}

impl Near<'_> {
    /// A hint for `word` (after the dashes), if one fits: the subcommand it names, the modes
    /// whose option it is, or the send's option it is closest to as typed (one edit — a
    /// character added, dropped, changed, or two swapped — per three characters, at least one).
    fn hint(&self, word: &str) -> Option<String> {
        if self.subcommands.contains(word) && word != "help" {
            return Some(format!("'{word}' is a subcommand: ehlo {word} …"));
        }
        // The other modes whose long name or alias `word` is, to say where the flag belongs.
        let mut modes: Vec<&str> = self
            .cmd
            .get_subcommands()
            .filter(|sub| {
                sub.get_arguments()
                    .any(|arg| args::long_names(arg).any(|l| l == word))
            })
            .map(clap::Command::get_name)
            .collect();
        modes.sort_unstable();
        modes.dedup();
        if !modes.is_empty() {
            let modes: Vec<String> = modes.iter().map(|m| format!("'ehlo {m}'")).collect();
            return Some(format!(
                "an option of {}, not of the send",
                modes.join(", ")
            ));
        }
        // Two-letter aliases (--au, --ap, --hs…) are not offered, but the two-letter long
        // names are: `--tto` is one edit from --to, the flag every send has.
        let names = self
            .top
            .iter()
            .filter(|(n, long)| n.chars().count() >= 3 || n == long)
            .map(|(n, long)| (n.as_str(), n != long));
        crate::suggest::nearest(word, names).map(|n| format!("did you mean '--{n}'?"))
    }
}

impl NoOption {
    /// The one-line refusal. `dashes` as the word was written; `follows_secret`: the word came
    /// right after a flag taking a secret and may be that secret, so it is not quoted; `near`:
    /// where to look for what an unknown word may have meant.
    fn message(&self, dashes: &str, follows_secret: bool, near: &Near<'_>) -> String {
        if follows_secret {
            return "unknown option right after a flag taking a secret (the word is not shown: \
                    it may be the secret; write --flag=VALUE); nothing was sent"
                .to_string();
        }
        if let NoOption::Unknown(word, None, _) = self
            && let Some(hint) = near.hint(word)
        {
            return format!("unknown option '{dashes}{word}' ({hint}); nothing was sent");
        }
        match self {
            NoOption::Ambiguous(word, longs) => {
                let list: Vec<String> = longs.iter().map(|l| format!("--{l}")).collect();
                format!(
                    "option '{dashes}{word}' is ambiguous (it could be {}); nothing was sent",
                    list.join(", ")
                )
            }
            NoOption::Unsupported(word, opt) => swaks::unsupported(&format!("{dashes}{word}"), opt),
            NoOption::Unknown(_, Some(secret), _) => format!(
                "unknown option '{dashes}{secret}…' (the rest is not shown: it may be a secret; \
                 as in swaks, no value is glued to an option: write '{dashes}{secret} VALUE' or \
                 '{dashes}{secret}=VALUE'); nothing was sent"
            ),
            // A glued value is a reading of a one-dash word only (`-tuser@example.com`).
            NoOption::Unknown(word, None, Some(short)) if dashes == "-" => {
                let helo = if *short == 'h' {
                    "; -h NAME is --helo NAME"
                } else {
                    ""
                };
                format!(
                    "unknown option '{dashes}{word}' (as in swaks, it is not -{short} with a \
                     glued value: write '-{short} VALUE' or '-{short}=VALUE'{helo}); nothing was \
                     sent"
                )
            }
            NoOption::Unknown(word, None, _) => {
                format!("unknown option '{dashes}{word}'; nothing was sent")
            }
        }
    }
}

/// What a prefix hits: an ehlo long name, or a swaks option ehlo does not implement.
#[derive(Clone, Copy)]
enum Hit<'a> {
    Ehlo(&'a str),
    Unsupported(&'static SwaksOpt),
}

impl Hit<'_> {
    fn long(&self) -> &str {
        match self {
            Hit::Ehlo(l) => l,
            Hit::Unsupported(o) => o.names[0],
        }
    }
}

/// The distinct options whose names start with `name`.
fn hits<'a>(names: impl Iterator<Item = (&'a str, Hit<'a>)>, name: &str) -> Vec<Hit<'a>> {
    let mut out: Vec<Hit<'a>> = Vec::new();
    for (n, hit) in names {
        if n.starts_with(name) && !out.iter().any(|h| h.long() == hit.long()) {
            out.push(hit);
        }
    }
    out
}

/// The long name of the one-shot send's option that `name` (after the dashes, not an exact
/// name) abbreviates, as Getopt::Long's `auto_abbrev` does for swaks (case-sensitive: swaks
/// sets `no_ignore_case`): when it is a prefix of one swaks option's names, that option (as
/// swaks reads it); otherwise the names it is a prefix of, ehlo's and swaks's, must all be one
/// option. A swaks option ehlo lacks is refused ([`swaks::unsupported`]). `secrets`: the names
/// of flags taking a secret.
fn resolve_prefix(
    name: &str,
    top: &[(String, String)],
    secrets: &HashSet<&str>,
) -> Result<String, NoOption> {
    let swaks_names = || {
        swaks::OPTIONS.iter().flat_map(|o| {
            let hit = o.ehlo.map_or(Hit::Unsupported(o), Hit::Ehlo);
            o.names.iter().map(move |n| (*n, hit))
        })
    };
    let mut found = hits(swaks_names(), name);
    if found.len() != 1 {
        let ehlo = top.iter().map(|(n, l)| (n.as_str(), Hit::Ehlo(l.as_str())));
        found = hits(ehlo.chain(swaks_names()), name);
    }
    match found.as_slice() {
        [Hit::Ehlo(long)] => Ok((*long).to_string()),
        [Hit::Unsupported(opt)] => Err(NoOption::Unsupported(name.to_string(), opt)),
        [] => {
            let secret = secrets
                .iter()
                .filter(|s| name.starts_with(**s))
                .max_by_key(|s| s.len())
                .map(|s| (*s).to_string());
            let mut chars = name.chars();
            let short = chars.next().filter(|c| {
                swaks::find(&c.to_string()).is_some_and(|o| o.takes != swaks::Takes::None)
            });
            Err(NoOption::Unknown(name.to_string(), secret, short))
        }
        many => {
            let mut longs: Vec<String> = many.iter().map(|h| h.long().to_string()).collect();
            longs.sort();
            Err(NoOption::Ambiguous(name.to_string(), longs))
        }
    }
}

/// `header-Name…` / `h-Name…` (after the dashes) → `Name…`, unless it is a declared flag.
fn dynamic_header(body: &str) -> Option<&str> {
    let name = body
        .strip_prefix("header-")
        .or_else(|| body.strip_prefix("h-"))?;
    (!name.is_empty() && !name.starts_with('=')).then_some(name)
}

/// The long names and aliases of `cmd`'s secret options (password, token): those whose
/// environment values clap hides. Their values are never shown.
pub(crate) fn secret_long_names(cmd: &clap::Command) -> impl Iterator<Item = &str> {
    cmd.get_arguments()
        .filter(|a| a.is_hide_env_values_set())
        .flat_map(args::long_names)
}

#[cfg(test)]
mod tests {
    /// A long list of repeated recipients shows ten and counts the rest; an address is kept
    /// as given (the renderer escapes a control byte, as in any warning); `--cc` is named with
    /// its dashes.
    #[test]
    fn repeated_recipients_are_listed_bounded() {
        let mut addresses: Vec<String> = (0..12).map(|i| format!("r{i}@x.test")).collect();
        addresses[0] = "a\u{1b}@x.test".to_string();
        let notes = super::repeated_notes(
            &[super::args::Repeated {
                id: "cc",
                times: 12,
                addresses,
            }],
            &[],
        );
        assert_eq!(
            notes,
            [
                "--cc given 12 times: ehlo sends to every one (a\u{1b}@x.test, r1@x.test, \
              r2@x.test, r3@x.test, r4@x.test, r5@x.test, r6@x.test, r7@x.test, r8@x.test, \
              r9@x.test, and 2 more); swaks would send only to the last"
            ]
        );
    }

    /// A stray word is an address or a host only when no subcommand could be named so.
    #[test]
    fn stray_words_are_classified() {
        for (word, want) in [
            ("user@example.com", Some("--to")),
            ("\"a b\"@example.com", None),
            ("@example.com", None),
            ("mx.example.com", Some("--server")),
            ("mx.example.com:587", Some("--server")),
            ("192.0.2.1", Some("--server")),
            ("[fe80::1%lo]:25", Some("--server")),
            ("repl", None),
            ("localhost", None),
            ("-tls", None),
            ("...", None),
            ("a/b c", None),
        ] {
            assert_eq!(
                super::classify_stray_word(word).map(|(_, flag)| flag),
                want,
                "{word}"
            );
        }
    }

    use super::*;
    use clap::Parser;

    fn rw(args: &[&str]) -> Vec<String> {
        let v = std::iter::once("ehlo")
            .chain(args.iter().copied())
            .map(OsString::from)
            .collect();
        rewrite_single_dash(v)
            .unwrap()
            .into_iter()
            .skip(1)
            .map(|a| a.into_string().unwrap())
            .collect()
    }

    fn os(words: &[&str]) -> Vec<OsString> {
        std::iter::once("ehlo")
            .chain(words.iter().copied())
            .map(OsString::from)
            .collect()
    }

    /// The static lists the fast path reads are the flag table's: sorted, no name missing, none
    /// extra.
    #[test]
    fn static_lists_are_the_flag_tables() {
        let mut cmd = Cli::command();
        cmd.build();
        let mut longs: Vec<&str> = cmd.get_arguments().flat_map(args::long_names).collect();
        longs.sort_unstable();
        longs.dedup();
        assert_eq!(TOP_LONGS, longs, "TOP_LONGS must list these, sorted");
        let mut shorts: Vec<char> = cmd.get_arguments().filter_map(|a| a.get_short()).collect();
        shorts.sort_unstable();
        shorts.dedup();
        assert_eq!(TOP_SHORTS, shorts, "TOP_SHORTS must list these, sorted");
        let mut subs: Vec<&str> = cmd.get_subcommands().map(|c| c.get_name()).collect();
        subs.sort_unstable();
        assert_eq!(SUBCOMMANDS, subs, "SUBCOMMANDS must list these, sorted");
        // Every swaks spelling ehlo has under the same long name skips the table too.
        for o in swaks::OPTIONS {
            for n in o.names.iter().filter(|n| o.ehlo == Some(**n)) {
                assert!(TOP_LONGS.contains(n), "{n}");
            }
        }
    }

    /// A command line the fast path passes on as written is one the table would pass on as
    /// written too: every long name and alias of the one-shot send, alone and with `=value`,
    /// and any `--name` inside a subcommand. Prefixes, swaks spellings and unknown names still
    /// go through the table.
    #[test]
    fn fast_path_agrees_with_the_table() {
        let same = |words: &[&str]| {
            let args = os(words);
            assert!(
                !args.iter().skip(1).any(needs_table(&args)),
                "{words:?} builds the table"
            );
            assert_eq!(rewrite_with_table(args.clone()).unwrap(), args, "{words:?}");
        };
        for name in TOP_LONGS.iter().filter(|n| **n != "help") {
            same(&[&format!("--{name}"), "x"]);
            same(&[&format!("--{name}=x")]);
        }
        same(&[
            "--json",
            "--dnssec",
            "validate",
            "--server",
            "127.0.0.1:2525",
            "-t",
            "a@b",
        ]);
        // A subcommand's name is one only as the first word.
        same(&["--json", "serve"]);
        for sub in SUBCOMMANDS.iter().filter(|n| **n != "help") {
            same(&[sub, "--json", "--no-such-flag=1", "--tls", "x", "-t"]);
        }
        for words in [
            &["--jso"][..],
            &["--ehl", "x"],
            &["--no-such-flag"],
            &["--help"],
            &["-tls"],
            &["-h"],
            &["--h-Subject", "x"],
            &["check", "--header-X", "y"],
            &["check", "--help"],
        ] {
            let args = os(words);
            assert!(
                args.iter().skip(1).any(needs_table(&args)),
                "{words:?} skips the table"
            );
        }
    }

    #[test]
    fn single_dash_long_options_are_rewritten() {
        assert_eq!(rw(&["-tls"]), ["--tls"]);
        assert_eq!(
            rw(&["-au", "me", "-ap", "pw"]),
            ["--au", "me", "--ap", "pw"]
        );
        assert_eq!(
            rw(&["-tlsc", "-stl", "-da", "rcpt"]),
            ["--tlsc", "--stl", "--da", "rcpt"]
        );
        assert_eq!(rw(&["-quit-after=rcpt"]), ["--quit-after=rcpt"]);
        assert_eq!(rw(&["-help"]), ["--help"]);
        assert_eq!(rw(&["serve", "-lmtp"]), ["serve", "--lmtp"]);
    }

    #[test]
    fn shorts_and_unknown_words_stay() {
        assert_eq!(
            rw(&[
                "-t", "a@b", "-f", "c@d", "-s", "h", "-p", "25", "-a", "-q", "rcpt", "-d", "x"
            ]),
            [
                "-t", "a@b", "-f", "c@d", "-s", "h", "-p", "25", "-a", "-q", "rcpt", "-d", "x"
            ]
        );
        assert_eq!(
            rw(&["-4", "-6", "-n", "-S", "-k"]),
            ["-4", "-6", "-n", "-S", "-k"]
        );
        assert_eq!(rw(&["--tls"]), ["--tls"]);
    }

    #[test]
    fn unique_prefixes_resolve_and_the_rest_is_refused_as_in_getopt_long() {
        // A unique prefix of one option's names, one dash or two (swaks's reading first).
        assert_eq!(rw(&["-tls-on"]), ["--tls-on-connect"]);
        assert_eq!(rw(&["--tls-on-c"]), ["--tls-on-connect"]);
        assert_eq!(rw(&["-force"]), ["--force-getpwuid"]);
        assert_eq!(rw(&["-auth-pass", "-tls"]), ["--auth-password", "--tls"]);
        // One letter that is no short flag of the send: a prefix too (`-v` is swaks's
        // --version), refused in one line when it names no single option.
        assert_eq!(rw(&["-v"]), ["--version"]);
        assert_eq!(rw(&["-e", "-x"]), ["--helo", "-x"]);
        assert_eq!(rw(&["serve", "-v"]), ["serve", "-v"]);
        let one = |words: &[&str]| {
            let v = std::iter::once("ehlo").chain(words.iter().copied());
            match rewrite_single_dash(v.map(OsString::from).collect()) {
                Err(Error::Usage(m)) => m,
                other => panic!("{words:?}: {other:?}"),
            }
        };
        assert!(one(&["-b"]).contains("'-b' is ambiguous"));
        assert!(!one(&["-auth-pass", "-x"]).contains("-x"));
        assert_eq!(rw(&["-auth-u=me"]), ["--auth-user=me"]);
        assert_eq!(rw(&["--serv", "-x"]), ["--server", "-x"]);
        // An exact name wins over the longer names it is a prefix of.
        assert_eq!(rw(&["-tls-optional"]), ["--tls-optional"]);
        // Ambiguous, unknown, and glued values (`-tfoo` is not `-t foo` in swaks).
        for (word, want) in [
            ("-sup", "ambiguous (it could be --support, --suppress-data)"),
            ("-tsl", "unknown option '-tsl'"),
            ("-tuser@example.com", "it is not -t with a glued value"),
            ("-nosuchflag", "unknown option '-nosuchflag'"),
            ("--nosuchflag", "unknown option '--nosuchflag'"),
            ("-trig", "swaks's --trigger-deprecation"),
        ] {
            let e = rw_err(&[word, "NEXTWORD"]);
            assert!(e.contains(want), "{word}: {e}");
            assert!(
                e.contains("nothing was sent") && !e.contains("NEXTWORD"),
                "{word}: {e}"
            );
        }
        // A secret is not quoted, glued or after its flag.
        let e = rw_err(&["-apS3cr3t"]);
        assert!(e.contains("'-ap…'") && !e.contains("S3cr3t"), "{e}");
        let e = rw_err(&["--auth-password", "-S3cr3t"]);
        assert!(!e.contains("S3cr3t"), "{e}");
        // Subcommands keep clap's own reading.
        assert_eq!(rw(&["serve", "-p2525"]), ["serve", "-p2525"]);
    }

    /// A misspelt option of the send names the one meant, an option of another mode names
    /// that mode, a subcommand written as a flag names the subcommand; the glued-value
    /// reading is offered for a one-dash word only, when nothing closer fits.
    #[test]
    fn unknown_options_say_what_was_meant() {
        for (word, want) in [
            ("--tls-verfy", "(did you mean '--tls-verify'?)"),
            ("--tsl", "(did you mean '--tls'?)"),
            ("-tsl", "(did you mean '--tls'?)"),
            ("--quit-afer", "(did you mean '--quit-after'?)"),
            ("--silnt", "(did you mean '--silent'?)"),
            ("--form", "(did you mean '--from'?)"),
            // A two-letter long name is offered too (its two-letter aliases are not).
            ("--tto", "(did you mean '--to'?)"),
            ("--strict", "(an option of 'ehlo repl', not of the send)"),
            ("--listen", "(an option of 'ehlo serve', not of the send)"),
            (
                "--expect",
                "(an option of 'ehlo check', 'ehlo probe', not of the send)",
            ),
            ("--demo", "('demo' is a subcommand: ehlo demo …)"),
            ("-tuser@example.com", "it is not -t with a glued value"),
        ] {
            let e = rw_err(&[word, "NEXTWORD"]);
            assert!(e.contains(want), "{word}: {e}");
            assert!(e.contains("nothing was sent"), "{word}: {e}");
        }
        for word in [
            "--tls-verfy",
            "--quit-afer",
            "--nosuchflag",
            "--tuser@example.com",
        ] {
            let e = rw_err(&[word]);
            assert!(!e.contains("glued"), "{word}: {e}");
        }
        // Nothing close enough: no guess; nor a two-letter alias (--au is --auth-user).
        for word in ["--nosuchflag", "--aux"] {
            let e = rw_err(&[word]);
            assert!(!e.contains("did you mean"), "{word}: {e}");
        }
        // A secret is still never quoted, nor guessed at.
        let e = rw_err(&["--auth-password", "--tls-verfy"]);
        assert!(!e.contains("verfy") && !e.contains("did you mean"), "{e}");
    }

    #[test]
    fn clap_errors_hide_secret_values() {
        let args: Vec<OsString> = [
            "ehlo",
            "--auth-password",
            "-pw1",
            "--ap=pw2",
            "--auth-oauth-token",
            "tok",
        ]
        .map(OsString::from)
        .to_vec();
        let secrets = secret_values(&args);
        assert_eq!(secrets, ["-pw1", "pw2", "tok"]);
        assert_eq!(
            redact(
                "unexpected argument '-pw1' and tok",
                &secrets,
                &clap_words(),
                &[]
            ),
            "unexpected argument '********' and ********"
        );
    }

    /// A short password inside a flag name is no secret shown: masking it there garbled
    /// `--auth-optional` into `--auth-o********tional` and told where the password's letters
    /// were. A value quoted back is still masked, also inside a longer word of the user's.
    #[test]
    fn redact_leaves_clap_own_words_alone() {
        let words = clap_words();
        let typed: Vec<String> = ["ehlo", "-a", "-ao", "-ap", "auth", "-ap", "p", "-apS3cret"]
            .map(String::from)
            .to_vec();
        let secrets = vec!["auth".to_string(), "p".to_string(), "s".to_string()];
        assert_eq!(
            redact(
                "Usage: the argument '--auth-optional [<MECH,...>]' cannot be used with 'p'",
                &secrets,
                &words,
                &typed
            ),
            "Usage: the argument '--auth-optional [<MECH,...>]' cannot be used with '********'"
        );
        let secrets = vec!["S3cret".to_string()];
        assert_eq!(
            redact(
                "unexpected argument '-apS3cret' found",
                &secrets,
                &words,
                &typed
            ),
            "unexpected argument '-ap********' found"
        );
    }

    #[test]
    fn dynamic_header_flags_become_header() {
        assert_eq!(
            rw(&["--header-Subject", "hi there", "-h-X-Test", "-1"]),
            ["--header", "Subject: hi there", "--header", "X-Test: -1"]
        );
        assert_eq!(
            rw(&["--h-Subject=a=b", "-header-X=", "--tls"]),
            ["--header", "Subject: a=b", "--header", "X: ", "--tls"]
        );
        // No value: a bare --header, which clap reports.
        assert_eq!(rw(&["--h-Subject"]), ["--header"]);
        let e = Cli::parse_args(
            rewrite_single_dash(
                ["ehlo", "-t", "a@b.c", "--h-Subject"]
                    .map(OsString::from)
                    .to_vec(),
            )
            .unwrap(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("--header"), "{e}");
        // Not a dynamic header: the value of another option, after --, or no name.
        assert_eq!(rw(&["--helo", "--h-X"]), ["--helo", "--h-X"]);
        assert_eq!(rw(&["--", "--h-X", "y"]), ["--", "--h-X", "y"]);
        assert!(rw_err(&["--h-", "y"]).contains("unknown option '--h-'"));
        assert_eq!(rw(&["--header", "X: y"]), ["--header", "X: y"]);
    }

    fn rw_err(args: &[&str]) -> String {
        let v = std::iter::once("ehlo")
            .chain(args.iter().copied())
            .map(OsString::from)
            .collect();
        rewrite_single_dash(v).unwrap_err().to_string()
    }

    #[test]
    fn short_h_with_a_name_is_helo_as_in_swaks() {
        assert_eq!(rw(&["-h", "me.example"]), ["--helo", "me.example"]);
        assert_eq!(
            rw(&["-t", "a@b.c", "-h", "x", "-s", "h"]),
            ["-t", "a@b.c", "--helo", "x", "-s", "h"]
        );
        assert_eq!(rw(&["-h=me"]), ["--helo=me"]);
        assert_eq!(rw(&["--h", "me"]), ["--helo", "me"]);
        // Alone it is help; inside a subcommand it stays clap's help.
        assert_eq!(rw(&["-h"]), ["-h"]);
        assert_eq!(rw(&["--help"]), ["--help"]);
        assert_eq!(rw(&["serve", "-h"]), ["serve", "-h"]);
        assert_eq!(rw(&["repl", "--help"]), ["repl", "--help"]);
        // The value of another option is never taken for -h.
        assert_eq!(rw(&["--helo", "-h"]), ["--helo", "-h"]);
    }

    #[test]
    fn help_with_other_arguments_is_refused() {
        for args in [
            &["-t", "a@b.c", "--help"][..],
            &["-t", "a@b.c", "-h"],
            &["-h", "-t", "a@b.c"],
            &["-help", "-s", "x"],
            &["serve", "--starttls", "--help"],
        ] {
            let e = rw_err(args);
            assert!(e.contains("nothing was sent"), "{args:?}: {e}");
            assert!(e.contains("--helo"), "{args:?}: {e}");
        }
        // `-hfoo` would be clap's -h (help) with -f oo; swaks has no option named `hfoo`.
        let e = rw_err(&["-hfoo"]);
        assert!(e.contains("-h NAME is --helo NAME"), "{e}");
    }

    #[test]
    fn swaks_words_as_values_stay_values() {
        // (Every swaks spelling is checked in swaks.rs; here: a value is never a spelling.)
        assert_eq!(rw(&["--body", "-dab"]), ["--body", "-dab"]);
        assert_eq!(rw(&["--", "-nsh"]), ["--", "-nsh"]);
        assert_eq!(rw(&["-nsh", "-hr"]), ["--nsh", "--hr"]);
    }

    #[test]
    fn option_values_are_not_rewritten() {
        assert_eq!(rw(&["--helo", "-tls"]), ["--helo", "-tls"]);
        assert_eq!(rw(&["-helo", "-tls"]), ["--helo", "-tls"]);
        assert_eq!(rw(&["-f", "-tls"]), ["-f", "-tls"]);
        assert_eq!(rw(&["--helo=x", "-tls"]), ["--helo=x", "--tls"]);
        assert_eq!(rw(&["--", "-tls"]), ["--", "-tls"]);
        // An optional value (--auth [MECH]) does not swallow the next option.
        assert_eq!(rw(&["-a", "-tls"]), ["-a", "--tls"]);
    }

    #[test]
    fn every_swaks_alias_parses_single_dash() {
        // swaks spelling → the field it must set.
        type Case = (&'static [&'static str], fn(&Cli) -> bool);
        let cases: &[Case] = &[
            (&["-tls"], |c| c.send.tls.tls),
            (&["-tlso"], |c| c.send.tls.tls_optional),
            (&["-tlsos"], |c| c.send.tls.tls_optional_strict),
            (&["-tlsc"], |c| c.send.tls.tls_on_connect),
            (&["-au", "u"], |c| c.send.auth.auth_user.is_some()),
            (&["-ao"], |c| c.send.auth.auth_optional.is_some()),
            (&["-aos"], |c| c.send.auth.auth_optional_strict.is_some()),
            (&["-apt"], |c| c.send.auth.auth_plaintext),
            (&["-ahp"], |c| c.send.auth.auth_hide_password.is_some()),
            (&["-ah", "X: y"], |c| c.send.message.add_header.len() == 1),
            (&["-ndf"], |c| c.send.message.no_data_fixup),
            (&["-stl"], |c| c.send.output.show_time_lapse.is_some()),
            (&["-raw"], |c| c.send.output.show_raw_text),
            (&["-nth"], |c| c.send.output.no_hints),
            (&["-li", "127.0.0.1"], |c| {
                c.send.transport.local_interface.is_some()
            }),
            (&["-quit", "helo"], |c| c.send.stop.quit_after.is_some()),
            (&["-drop", "helo"], |c| c.send.stop.drop_after.is_some()),
            (&["-das", "helo"], |c| c.send.stop.drop_after_send.is_some()),
            (&["-ehlo", "me"], |c| c.send.envelope.helo.is_some()),
            (&["-lhlo", "me"], |c| c.send.envelope.helo.is_some()),
            (&["-n"], |c| c.send.output.suppress_data),
            (&["--n"], |c| c.send.output.suppress_data),
        ];
        for (args, check) in cases {
            let mut v = vec!["ehlo", "-s", "h", "-t", "a@b.c"];
            v.extend_from_slice(args);
            let cli = Cli::try_parse_from(
                rewrite_single_dash(v.iter().map(OsString::from).collect()).unwrap(),
            )
            .unwrap_or_else(|e| panic!("{args:?}: {e}"));
            assert!(check(&cli), "{args:?} did not set its flag");
        }
    }
}
