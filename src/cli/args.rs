//! THE flag table (clap derive): swaks's vocabulary, grouped by topic. Help, completions and man
//! pages are all generated from this one table (clap_complete, clap_mangen), so a flag exists
//! here or nowhere. Swaks spellings are `visible_alias`es so users see the mapping in `--help`.
//!
//! Values are parsed into typed form where clap can report a bad value well (durations, ports,
//! `--server` forms, stop points); cross-flag rules that need several flags at once live in
//! [`super::mode`].

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::LazyLock;
use std::time::Duration;

use clap::builder::PossibleValue;
use clap::{Args, Parser, Subcommand, ValueEnum, ValueHint};

use crate::render::{ColorChoice, ExplainLevel};
use crate::smtp::auth::Secret;
use crate::smtp::client::{Protocol, StopAt};

/// `-V` and `--version` output: ehlo's version plus the OpenSSL it is linked against, because
/// TLS behaviour (legacy protocols, cipher names) depends on it and bug reports need it. Both
/// spellings print it: a bug report quoting `-V` must not lose the OpenSSL line.
pub(crate) static LONG_VERSION: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{} ({})",
        env!("CARGO_PKG_VERSION"),
        openssl::version::version()
    )
});

const LONG_ABOUT: &str = "\
Debug SMTP from the shell: send one annotated test message (swaks-style), or run a local test \
server.

Without a subcommand ehlo sends one message: it connects to --server (or the MX of the last \
recipient's domain), greets, optionally starts TLS and authenticates, sends the envelope and a \
default test message, and prints the conversation. Exit codes follow swaks (0 ok, 1 usage, \
2 connect, 6 closed, 10 setup, 21-36 per SMTP phase, 128+N ended by signal N: SIGINT, SIGTERM, \
SIGHUP, SIGQUIT); `ehlo check` and `ehlo probe` add 40 (a check failed) and 41 (something could not be \
tested, or the run was stopped by a signal).";

const DASHES_NOTE: &str = "\
Long options take two dashes (--tls). For swaks habits, a single-dash spelling of a long option \
or a swaks alias (-tls, -au, -tlsc, -stl) is accepted too, and as in swaks a unique prefix of a \
long name (-tls-on); an ambiguous or unknown word is refused. As in swaks, -h NAME is --helo NAME; -h alone is help.";

const AFTER_LONG_HELP: &str = "\
Long options take two dashes (--tls). For swaks habits, a single-dash spelling of a long option \
or a swaks alias (-tls, -au, -tlsc, -stl) is accepted too, and as in swaks a unique prefix of a \
long name (-tls-on); an ambiguous or unknown word is refused. As in swaks, -h NAME is --helo NAME; -h alone is help, and help together with other arguments is refused \
(exit 1) so that a script never exits 0 without sending. A swaks option ehlo does not implement \
is refused the same way, naming its long form.

Differences from swaks: --to/--cc/--bcc trim whitespace around each comma-separated address; \
TLS certificates are verified by default (--insecure to turn that off); AUTH and TLS secrets \
are never printed unless --show-secrets.

Examples:
  Send a test message through the recipient's MX:
    ehlo --to user@example.com
  Submission on port 587 with STARTTLS and AUTH (password from the environment):
    EHLO_AUTH_PASSWORD=secret ehlo -s smtp.example.com:587 --tls --au me@example.com \\
        -t you@example.net
  Implicit TLS on port 465, trying only PLAIN:
    ehlo -s smtp.example.com --tls-on-connect -a PLAIN --au me@example.com -t you@example.net
  Check whether a recipient is accepted (exit 0 = yes, 24 = refused):
    ehlo -q rcpt --silent 3 -t someone@example.com
  Look at the banner and EHLO capabilities only:
    ehlo -s mx.example.com -q ehlo
  Print the message ehlo would send:
    ehlo -t you@example.net --header 'Subject: hello' --body @body.txt --dump-mail
  Machine-readable output:
    ehlo -s 127.0.0.1:2525 -t a@example.test --json
  Try it without a mail server:
    ehlo demo";

const SERVE_LONG_HELP: &str = "\
Examples:
  A server with STARTTLS and one account, for testing a client (mail only after both):
    ehlo serve --starttls --user alice:secret --require-tls --require-auth
  Refuse every recipient with 550 5.1.1:
    ehlo serve --fail rcpt=550:5.1.1
  Keep what arrives:
    ehlo serve --maildir ./mail";

/// Debug SMTP from the shell.
#[derive(Debug, Parser)]
#[command(
    name = "ehlo",
    version = LONG_VERSION.as_str(),
    about = "Debug SMTP from the shell: annotated one-shot sends and a local test server",
    long_about = LONG_ABOUT,
    after_help = DASHES_NOTE,
    after_long_help = AFTER_LONG_HELP,
    args_conflicts_with_subcommands = true,
    args_override_self = true,
    propagate_version = true,
    arg_required_else_help = true,
    max_term_width = 100
)]
// No `mut_args = negative_numbers_are_values` here, unlike the subcommands: clap's `mut_args`
// moves every flag of the table into a new vector (about 160 flags of some 580 bytes each,
// then a second, doubled reallocation for `--help` and `--version`), a cost every one-shot send
// paid at start. The send's numeric flags say `allow_negative_numbers = true` themselves; the
// test `every_numeric_flag_takes_a_negative_number_as_its_value` finds one that does not.
pub(crate) struct Cli {
    /// The one-shot send (no subcommand).
    #[command(flatten)]
    pub(crate) send: SendArgs,
    /// A subcommand instead of the one-shot send.
    #[command(subcommand)]
    pub(crate) command: Option<Command>,
}

impl Cli {
    /// `--json` given to a mode whose output is the send's JSON Lines (the send, `serve`,
    /// `demo`, `repl`, `replay`): a mistake found once the flags are parsed is then reported
    /// with a `schema` line and a `summary` on stdout too (`render::json`). `check`, `probe`
    /// and `explain` have formats of their own.
    pub(crate) fn json_lines(&self) -> bool {
        match &self.command {
            None => self.send.output.json,
            Some(Command::Serve(a)) => a.json,
            Some(Command::Demo(a)) => a.json,
            Some(Command::Repl(a)) => a.conn.json,
            Some(Command::Replay(a)) => a.conn.json,
            Some(Command::Explain(_) | Command::Check(_) | Command::Probe(_)) => false,
        }
    }

    /// `--json` given to `check`, `probe` or `explain`: the mode (`"check"`, `"probe"`,
    /// `"explain"`) whose JSON Lines report (`render::check`) a mistake found once the flags
    /// are parsed is written in, as its `schema`, an `error` and the `summary`; `explain`'s
    /// one object says why instead (`render::explain::json_refusal`).
    pub(crate) fn json_report(&self) -> Option<&'static str> {
        match &self.command {
            Some(Command::Check(a)) if a.json => Some("check"),
            Some(Command::Probe(a)) if a.json => Some("probe"),
            Some(Command::Explain(a)) if a.json => Some("explain"),
            _ => None,
        }
    }
}

/// Subcommands. Their flags are added to the command only when clap builds that subcommand
/// (`defer`): a one-shot send, the common case, then does not construct the hundreds of
/// arguments of serve, repl, check and probe before parsing (measured with callgrind). Help,
/// completions, man pages and `Command::build` still see every flag. The deferred part runs
/// after the variant's doc comment has set the about, so the `Args` structs of the subcommands
/// (and what they flatten) carry no doc comment of their own; the generated-files test
/// (`tests/cli/generated.rs`) fails if one overrides an about. The text after a subcommand's
/// options (`after_long_help`, some 20 KB for the six, the REPL's formatted) is set in that
/// deferred part too, on its `Args` struct: on the variant it was copied at every start.
///
/// Every flag of a subcommand is also set by `EHLO_<FLAG>` (the send's naming rule,
/// `cli::layers`), except those marked `hide_env = true` (clap reads no variable of ours, so
/// the mark shows in no help text): the ones that, with the target on the command line, choose
/// the port or server, whom a probe mails or logs in as, steps a session adds, or serve's
/// certificate (the send's `--tls-cert` is a client certificate). A variable set for sends
/// (`EHLO_TO`, `EHLO_PORT`, `EHLO_AUTH_USER`) must not point a subcommand elsewhere.
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub(crate) enum Command {
    /// Run a local SMTP test server (STARTTLS, AUTH, fault injection, message storage)
    Serve(Box<ServeArgs>),
    /// Start a throwaway server and send one annotated message to it (no network needed)
    Demo(DemoArgs),
    /// Interactive SMTP session: a smarter telnet (completion, :starttls, :auth, :data, :record)
    Repl(Box<ReplArgs>),
    /// Run a script recorded with `ehlo repl --record` / `:record`; fail when a reply differs
    Replay(Box<ReplayArgs>),
    /// Explain a reply without connecting: codes, a pasted reply or a bounce's diagnostic line
    Explain(ExplainArgs),
    /// Deliverability checks for CI: every MX, STARTTLS, certificates, SPF/DMARC/MTA-STS/TLS-RPT records
    Check(Box<CheckArgs>),
    /// Opt-in safety probes of a server you operate: SMTP smuggling, STARTTLS injection, relay, enumeration
    Probe(Box<ProbeArgs>),
}

/// A numeric option's value may be a negative number (`-p -1`, `serve --max-connections -1`),
/// so that its own parser answers ("'-1' is not a port", "-1 is not in 1..=10000") where clap
/// took `-1` for an option and said "unexpected argument '-1'". Applied to every flag of each
/// subcommand (their `Args` structs, as `defer` builds them); the send's numeric flags (`Cli`)
/// say `allow_negative_numbers = true` each, which spares every send a rebuilt flag table (see
/// `Cli`). A test walks the whole command for a numeric flag without it. Only numbers: `--to -1`
/// is still an unknown option, as in swaks.
pub(crate) fn negative_numbers_are_values(arg: clap::Arg) -> clap::Arg {
    if is_numeric(&arg) {
        arg.allow_negative_numbers(true)
    } else {
        arg
    }
}

/// The names `--NAME` reaches a flag by: its long name, then its aliases.
pub(crate) fn long_names(arg: &clap::Arg) -> impl Iterator<Item = &str> {
    arg.get_long()
        .into_iter()
        .chain(arg.get_all_aliases().unwrap_or_default())
}

/// Whether a flag's value parser yields a number or a duration: the flags whose value may be
/// written `-1`.
pub(crate) fn is_numeric(arg: &clap::Arg) -> bool {
    use std::any::TypeId;
    let id = arg.get_value_parser().type_id();
    [
        TypeId::of::<u8>(),
        TypeId::of::<u16>(),
        TypeId::of::<u32>(),
        TypeId::of::<u64>(),
        TypeId::of::<usize>(),
        TypeId::of::<Duration>(),
    ]
    .iter()
    .any(|t| id == *t)
}

const PROBE_LONG_HELP: &str = "\
Probes (status pass, warn, fail, skip, or inconclusive = could not be told):
  smuggle.lf-lf smuggle.lf-crlf smuggle.crlf-lf smuggle.cr-cr smuggle.crlf-cr smuggle.cr-crlf
  smuggle.lf-cr smuggle.cr-lf smuggle.crlf-nul   one message whose body holds that end-of-data
      variant and a second MAIL/RCPT/DATA (SMTP smuggling, SEC Consult, Dec 2023; the
      <LF>.<CR><LF> form is CVE-2023-51764 Postfix, -51765 Sendmail, -51766 Exim); fail when
      the server answers the embedded commands. These SEND MAIL to --to.
  smuggle.lf-headers         the <LF>.<LF> variant in a message whose lines all end in a bare
      LF (Exim's LF-only mode: its CVE-2023-51766 fix still ends DATA there)
  pipelining.early-talker    EHLO sent before the greeting (RFC 5321 §4.3.1)
  pipelining.unadvertised    a pipelined group when PIPELINING is not advertised (RFC 2920)
  starttls.injection starttls.injection-ehlo   STARTTLS and RSET (EHLO) in one packet
      (CVE-2011-0411)
  starttls.downgrade         AUTH offered before STARTTLS; MAIL accepted without TLS
  relay.open                 RCPT to --relay-to without AUTH (never DATA)
  enum.vrfy enum.expn enum.rcpt   whether the server tells existing users from unknown ones
  limits.line limits.bare-lf-command limits.nul   over-long lines, bare LF and NUL in commands
Every result carries the exact bytes sent and the replies (evidence.transcript), what a fail
means and how Postfix and Exim fix it. Only --to receives mail; each message carries a token
in its Subject and body, printed at the start, so the mailbox shows what got through. On a
terminal, probes that send mail ask first unless --yes.

Exit codes: 0 every probe and expectation met; 40 a probe failed or an --expect was not met;
41 nothing failed but something was inconclusive, or an --expect not decided (its probe
inconclusive or not run), or --deadline or a signal stopped the run (--untested-ok makes an
inconclusive run 0, unless an --expect was not decided); 1 usage (no --to, unknown probe id).
A probe that a met --expect ID=STATUS asked for does not count: --expect smuggle.lf-lf=fail
against a server meant to be vulnerable exits 0.

Examples:
  Every probe against your own MX (mail goes to you@example.com only):
    ehlo probe mx.example.com --to you@example.com --yes
  The submission port as an authenticated user (password from the environment):
    EHLO_AUTH_PASSWORD=secret ehlo probe smtp.example.com:587 --tls --au me@example.com \\
        --to me@example.com --yes
  Only the smuggling probes over STARTTLS, JUnit for CI:
    ehlo probe mx.example.com --tls --to you@example.com --only 'smuggle.*' --junit probe.xml --yes
  No mail at all: the STARTTLS, relay and enumeration probes:
    ehlo probe mx.example.com --to you@example.com --only 'starttls.*' --only relay.open \\
        --only 'enum.*'";

// `ehlo probe` flags (→ `probe::ProbeConfig`). No doc comment: under `defer` clap would take it
// for the subcommand's about, over the variant's (see [`Command`]).
#[derive(Debug, Args)]
#[command(
    mut_args = negative_numbers_are_values,
    after_long_help = PROBE_LONG_HELP
)]
pub(crate) struct ProbeArgs {
    /// Server to probe: `HOST[:PORT]`, `[IPv6]:PORT`, or `@domain` for its MX
    #[arg(value_name = "HOST[:PORT] | @domain")]
    pub(crate) target: String,

    /// A recipient you own: the only address that receives mail (required)
    #[arg(short = 't', long, value_name = "ADDRESS", hide_env = true)]
    pub(crate) to: Option<String>,

    /// Envelope sender and From: [default: the --to address]
    #[arg(short = 'f', long, value_name = "ADDRESS", hide_env = true)]
    pub(crate) from: Option<String>,

    /// Name to greet with in EHLO [default: this host's name]
    #[arg(long, value_name = "NAME")]
    pub(crate) helo: Option<String>,

    /// An address outside the server's domains, for relay.open
    #[arg(
        long,
        value_name = "ADDRESS",
        default_value = "ehlo-relay-probe@example.net"
    )]
    pub(crate) relay_to: String,

    /// Port number or service name [default: 25; 465 with --tls-on-connect]
    ///
    /// A port given with the server (HOST:PORT) wins over this one, as in a send (and swaks).
    #[arg(short = 'p', long, value_name = "PORT|SERVICE", value_parser = parse_service_port, hide_env = true)]
    pub(crate) port: Option<u16>,

    /// STARTTLS after EHLO before each probe's commands (probes about plaintext ignore it)
    #[arg(long, conflicts_with = "tls_on_connect", hide_env = true)]
    pub(crate) tls: bool,

    /// Start TLS right after connecting (implicit TLS, default port 465)
    #[arg(long, visible_alias = "tlsc", hide_env = true)]
    pub(crate) tls_on_connect: bool,

    /// Do not enforce certificate verification
    #[arg(short = 'k', long)]
    pub(crate) insecure: bool,

    /// CA certificates to trust instead of the system store: a PEM file or a directory of them
    #[arg(long, value_name = "PATH", value_hint = ValueHint::AnyPath)]
    pub(crate) tls_ca_path: Option<PathBuf>,

    /// Run only these probes (repeatable; * matches any characters, e.g. smuggle.*)
    #[arg(long, value_name = "ID-GLOB")]
    pub(crate) only: Vec<String>,

    /// Leave out these probes (repeatable; * matches any characters)
    #[arg(long, value_name = "ID-GLOB")]
    pub(crate) skip: Vec<String>,

    /// Require a result (repeatable): ID=STATUS (smuggle.lf-lf=pass, enum.rcpt=warn) or
    /// ID.KEY OP VALUE on a probe's evidence (starttls.downgrade.mail_without_tls=false), KEY
    /// a dotted path into nested evidence (limits.line.control.answered=true); a probe a met
    /// ID=STATUS asked for does not count (smuggle.lf-lf=fail met: exit 0)
    #[arg(long, value_name = "EXPR")]
    pub(crate) expect: Vec<String>,

    /// Which statuses fail the run (exit 40)
    #[arg(long, value_name = "LEVEL", value_enum, default_value_t = crate::check::model::FailOn::Fail)]
    pub(crate) fail_on: crate::check::model::FailOn,

    /// Exit 0, not 41, when nothing failed but something could not be tested (a DNS or network
    /// error, a timeout); the report still shows it. A run cut by --deadline or a signal still
    /// exits 41
    #[arg(long)]
    pub(crate) untested_ok: bool,

    /// Print JSON Lines (one line per probe and a summary) instead of the report
    #[arg(long)]
    pub(crate) json: bool,

    /// Also write the results as JUnit XML to FILE (a testcase per probe)
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub(crate) junit: Option<PathBuf>,

    /// Timeout of each step: connect, each reply, the TLS handshake (N, Ns, Nm or Nh; 0 = none)
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub(crate) timeout: Duration,

    /// Stop the whole run after this long and report what is done (N, Ns, Nm or Nh)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub(crate) deadline: Option<Duration>,

    /// Authenticate as USER before each probe's commands, except relay.open
    ///
    /// The password comes from --auth-password-file, else EHLO_AUTH_PASSWORD, else a prompt on
    /// the terminal (never echoed). It is never printed: the transcript shows each secret SASL
    /// response as ********.
    #[arg(long, visible_alias = "au", value_name = "USER", hide_env = true)]
    pub(crate) auth_user: Option<String>,

    // Its help lists `smtp::auth::password_mechanisms`, the list the probe accepts.
    #[arg(
        long,
        value_name = "MECH",
        help = probe_auth_help(),
        default_value = "PLAIN",
        requires = "auth_user",
        hide_env = true
    )]
    pub(crate) auth: String,

    /// The password for --auth-user, from the first line of FILE (before EHLO_AUTH_PASSWORD:
    /// the command line beats the environment, as in the send)
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath, requires = "auth_user", hide_env = true)]
    pub(crate) auth_password_file: Option<PathBuf>,

    /// Allow --auth-user over a connection that is not encrypted
    ///
    /// Without --tls or --tls-on-connect, --auth-user asks for confirmation on a terminal and
    /// refuses to run non-interactively unless this flag is given (each probe authenticates, so
    /// the password would cross the wire in the clear once per probe).
    #[arg(long)]
    pub(crate) allow_plaintext_auth: bool,

    /// Do not ask before probes that send mail
    #[arg(short = 'y', long)]
    pub(crate) yes: bool,

    /// DNS server to ask instead of the system's: IP[:PORT] (port defaults to 53)
    #[arg(long, value_name = "IP[:PORT]", value_parser = parse_dns_server)]
    pub(crate) dns_server: Option<SocketAddr>,

    /// Use IPv4 only
    #[arg(short = '4', long = "ipv4", conflicts_with = "ipv6")]
    pub(crate) ipv4: bool,

    /// Use IPv6 only
    #[arg(short = '6', long = "ipv6")]
    pub(crate) ipv6: bool,

    /// When to use colour
    #[arg(long, value_name = "WHEN", value_enum, default_value_t = ColorChoice::Auto)]
    pub(crate) color: ColorChoice,
}

/// The help of `ehlo probe --auth`: every name it accepts, from the one list.
fn probe_auth_help() -> String {
    let names: Vec<&str> = crate::smtp::auth::password_mechanisms().collect();
    // "SPA and MSN are NTLM": the aliases of each mechanism, named once.
    let mut of: Vec<(&str, Vec<&str>)> = Vec::new();
    for (alias, mech) in crate::smtp::auth::ALIASES {
        if !names.contains(alias) {
            continue;
        }
        match of.iter_mut().find(|(m, _)| m == mech) {
            Some((_, v)) => v.push(alias),
            None => of.push((mech, vec![alias])),
        }
    }
    let aliases: Vec<String> = of
        .iter()
        .map(|(mech, v)| {
            let verb = if v.len() == 1 { "is" } else { "are" };
            format!("{} {verb} {mech}", v.join(" and "))
        })
        .collect();
    let aliases = if aliases.is_empty() {
        String::new()
    } else {
        format!(" ({})", aliases.join("; "))
    };
    format!(
        "SASL mechanism for --auth-user (the send's password ones): {}{aliases}",
        names.join(", ")
    )
}

const EXPLAIN_LONG_HELP: &str = "\
Examples:
  What a code means after each command:
    ehlo explain 550 5.7.1
  A whole reply, as the server sent it (every line):
    ehlo explain '550-5.7.26 This mail is unauthenticated...
  550 5.7.26 ... - gsmtp' --phase dot
  A bounce's diagnostic line (the command it answered is read from it):
    ehlo explain 'host mx.example.org said: 550 5.1.1 User unknown (in reply to RCPT TO command)'
  From a file or a pipe:
    ehlo explain - < bounce.txt

Exit status: 0 when a reply code was found and explained, 1 when the input holds none, 10
when the explanation could not be written (a full disk, an I/O error). With --json, stdout
holds one object either way: the explanation, or the reason (error, exit_code, outcome).";

// `ehlo explain` flags. No doc comment: under `defer` clap would take it
// for the subcommand's about, over the variant's (see [`Command`]).
#[derive(Debug, Args)]
#[command(
    mut_args = negative_numbers_are_values,
    after_long_help = EXPLAIN_LONG_HELP
)]
pub(crate) struct ExplainArgs {
    /// The reply, a bounce's diagnostic text, or just codes (`550`, `5.7.1`); `-` reads stdin
    #[arg(value_name = "CODE|TEXT", required = true, num_args = 1..)]
    pub(crate) text: Vec<String>,

    /// The command the reply answers [default: read from the text, else every command]
    #[arg(long, value_name = "PHASE", value_enum)]
    pub(crate) phase: Option<PhaseArg>,

    /// Print one JSON object instead of text
    #[arg(long)]
    pub(crate) json: bool,
}

/// `--phase` values of `ehlo explain`: the command a reply answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PhaseArg {
    /// The greeting after connecting
    Banner,
    /// EHLO, HELO or LHLO
    #[value(alias = "helo", alias = "lhlo")]
    Ehlo,
    /// STARTTLS
    Starttls,
    /// AUTH
    Auth,
    /// MAIL FROM
    Mail,
    /// RCPT TO
    Rcpt,
    /// The DATA command (its 354)
    Data,
    /// The end of the message content (the final dot, BDAT LAST; LMTP and PRDR per recipient)
    #[value(alias = "eod", alias = "end-of-data")]
    Dot,
    /// QUIT
    Quit,
}

impl PhaseArg {
    /// The core's phase.
    pub(crate) fn phase(self) -> crate::smtp::event::Phase {
        use crate::smtp::event::Phase;
        match self {
            PhaseArg::Banner => Phase::Banner,
            PhaseArg::Ehlo => Phase::Helo,
            PhaseArg::Starttls => Phase::StartTls,
            PhaseArg::Auth => Phase::Auth,
            PhaseArg::Mail => Phase::Mail,
            PhaseArg::Rcpt => Phase::Rcpt,
            PhaseArg::Data => Phase::Data,
            PhaseArg::Dot => Phase::Dot,
            PhaseArg::Quit => Phase::Quit,
        }
    }
}

// `ehlo repl`: a smarter telnet for SMTP. No doc comment: under `defer` clap would take it
// for the subcommand's about, over the variant's (see [`Command`]).
#[derive(Debug, Clone, Default, Args)]
#[command(
    mut_args = negative_numbers_are_values,
    after_long_help = format!("{}\n\n{}\n\n{}", crate::repl::meta::HELP, crate::repl::editor::KEYS, crate::repl::meta::EXAMPLES)
)]
pub(crate) struct ReplArgs {
    /// Server to talk to: `HOST[:PORT]`, `[IPv6]:PORT`, or `@domain` for its first MX.
    #[arg(value_name = "HOST[:PORT] | @domain")]
    pub(crate) target: Option<String>,
    /// Connection and output flags.
    #[command(flatten)]
    pub(crate) conn: ConnArgs,
    /// Send `EHLO NAME` right after the banner
    // Not in ConnArgs: a replay's script holds its own EHLO and :starttls steps.
    #[arg(long, visible_aliases = ["ehlo", "lhlo"], value_name = "NAME", hide_env = true)]
    pub(crate) helo: Option<String>,
    /// STARTTLS right after the first EHLO (implies --helo with this host's name if not given)
    ///
    /// When the handshake fails, a piped session ends (exit 29: nothing more is sent in plain
    /// text); on a terminal ehlo connects again in plain text, once, for `:starttls --ca FILE`.
    /// STARTTLS refused or not offered (then not sent) ends a piped session the same way; a
    /// terminal asks before going on in plain text.
    #[arg(long, hide_env = true)]
    pub(crate) tls: bool,
    /// Record the session as a replayable script in FILE (secrets are never written). An
    /// existing FILE is never replaced (`:record! FILE` in the session replaces one); one that
    /// cannot be written refuses the run (exit 1).
    #[arg(long, value_name = "FILE")]
    pub(crate) record: Option<PathBuf>,
    /// End the session at the first 4xx/5xx reply: QUIT, then exit with that phase's code
    ///
    /// Also a step that cannot run and so sends nothing (`:auth` with no secret, an unreadable
    /// `:data @FILE`: exit 1; a mechanism ehlo does not implement: exit 10; as the send), an `:auth`
    /// whose 235 proves
    /// nothing (SCRAM or DIGEST-MD5 without the server's proof: exit 28, as the send), a
    /// dropped connection (exit 6), a
    /// failed TLS handshake (exit 29; nothing more is sent in plain text) or, piped, a reply
    /// that does not come within `--timeout` (the phase's code, as the send).
    /// Meant for scripts piped into `ehlo repl`. Piped without it, a refusal is an answer
    /// (exit 0) and the script runs to its end, but a reply that did not come within
    /// `--timeout`, or one the REPL stopped reading (past 1 MiB or 1000 lines, the 100th
    /// unasked one in a row), still ends it with that phase's code, and a connection the
    /// server dropped while lines were left with exit 6 (the first of them), as the send.
    #[arg(long)]
    pub(crate) strict: bool,
}

// `ehlo replay`: run a script recorded with `:record` and fail when a reply code differs. No doc comment: under `defer` clap would take it
// for the subcommand's about, over the variant's (see [`Command`]).
#[derive(Debug, Clone, Default, Args)]
#[command(
    mut_args = negative_numbers_are_values,
    after_long_help = crate::repl::record::FORMAT
)]
pub(crate) struct ReplayArgs {
    /// The recorded script.
    #[arg(value_name = "FILE")]
    pub(crate) file: PathBuf,
    /// Server to replay against: `HOST[:PORT]`, `[IPv6]:PORT`, or `@domain`.
    #[arg(short = 's', long, value_name = "HOST[:PORT]", value_hint = ValueHint::Hostname, hide_env = true)]
    pub(crate) server: String,
    /// Run every step even after a mismatch, then list every mismatch (line, command,
    /// expected, got); the exit code is the first one's
    #[arg(long)]
    pub(crate) keep_going: bool,
    /// Let `:data @FILE` steps send files outside the script's directory (refused otherwise:
    /// a script is not trusted to send any file you can read)
    #[arg(long)]
    pub(crate) allow_any_file: bool,
    /// Bound the whole replay (connecting, every step): N, Ns, Nm or Nh; 0 = none
    ///
    /// When it passes the replay ends at once, without QUIT, saying where ("deadline 20s
    /// reached while waiting for the reply to DATA"), with the exit code a timeout has there.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub(crate) deadline: Option<Duration>,
    /// Connection and output flags.
    #[command(flatten)]
    pub(crate) conn: ConnArgs,
    // `ehlo repl`'s --helo and --tls add steps; a script holds its own. Hidden, and refused
    // with that reason (left unknown, clap would suggest --tlsc for --tls).
    /// Refused: an `ehlo repl` flag; the script holds its own EHLO
    #[arg(long, hide = true, visible_aliases = ["ehlo", "lhlo"], value_name = "NAME", hide_env = true)]
    pub(crate) helo: Option<String>,
    /// Refused: an `ehlo repl` flag; the script holds its own :starttls
    #[arg(long, hide = true, hide_env = true)]
    pub(crate) tls: bool,
}

// Connection and output flags of `repl` and `replay`: the send's spellings, value parsers,
// units and defaults for the options they share. No doc comment, as on the subcommands' own
// structs: under `defer` clap would take it for their about.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct ConnArgs {
    /// Port number or service name (smtp, submission, smtps…) [default: 25; 465 with --tls-on-connect]
    ///
    /// A port given with the server (HOST:PORT) wins over this one, as in a send (and swaks).
    /// A name is looked up as for a send.
    #[arg(short = 'p', long, value_name = "PORT|SERVICE", value_parser = parse_service_port, hide_env = true)]
    pub(crate) port: Option<u16>,

    /// Start TLS right after connecting (implicit TLS, default port 465)
    #[arg(long, visible_alias = "tlsc", hide_env = true)]
    pub(crate) tls_on_connect: bool,

    /// Do not enforce certificate verification (the result is still shown)
    #[arg(short = 'k', long)]
    pub(crate) insecure: bool,

    /// CA certificates to trust instead of the system store: a PEM file or a directory of them
    #[arg(long, value_name = "PATH", value_hint = ValueHint::AnyPath)]
    pub(crate) tls_ca_path: Option<PathBuf>,

    /// DNS server to ask instead of the system's: IP[:PORT] (port defaults to 53)
    #[arg(long, value_name = "IP[:PORT]", value_parser = parse_dns_server)]
    pub(crate) dns_server: Option<SocketAddr>,

    /// Per-reply timeout (also for connecting): N, Ns, Nm or Nh; 0 = none
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub(crate) timeout: Duration,

    /// Use IPv4 only
    #[arg(short = '4', long = "ipv4", conflicts_with = "ipv6")]
    pub(crate) ipv4: bool,

    /// Use IPv6 only
    #[arg(short = '6', long = "ipv6")]
    pub(crate) ipv6: bool,

    /// When to use colour
    #[arg(long, value_name = "WHEN", value_enum, default_value_t = ColorChoice::Auto)]
    pub(crate) color: ColorChoice,

    /// Which replies get a plain-language explanation
    #[arg(long, value_name = "WHICH", value_enum, default_value_t = ExplainLevel::Errors)]
    pub(crate) explain: ExplainLevel,

    /// Accepted for swaks compatibility: password and token prompts never echo
    #[arg(long, visible_alias = "pp")]
    pub(crate) protect_prompt: bool,

    /// Show passwords and tokens in the output instead of masking them
    #[arg(long)]
    pub(crate) show_secrets: bool,

    /// Also write every event as JSON Lines to FILE (ending with the run's summary, with or
    /// without --json)
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub(crate) log: Option<PathBuf>,

    /// Print JSON Lines events instead of the transcript (the send's schema; a summary last)
    #[arg(long)]
    pub(crate) json: bool,

    /// The password for `:auth`, from the first line of FILE (before EHLO_AUTH_PASSWORD)
    ///
    /// `:auth` takes this file first, then EHLO_AUTH_PASSWORD, then asks on the terminal (never
    /// echoed): the command line beats the environment, as in the send.
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub(crate) auth_password_file: Option<PathBuf>,

    /// The OAuth token for `:auth XOAUTH2|OAUTHBEARER`, from the first line of FILE (before
    /// EHLO_AUTH_TOKEN)
    ///
    /// `:auth` takes this file first, then EHLO_AUTH_TOKEN, then asks on the terminal (never
    /// echoed): the command line beats the environment, as in the send.
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub(crate) auth_token_file: Option<PathBuf>,

    /// Let `:auth` send credentials over a connection that is not encrypted without asking
    #[arg(long)]
    pub(crate) allow_plaintext_auth: bool,
}

/// Flags of the one-shot send, one flattened struct per help heading.
#[derive(Debug, Clone, Args)]
pub(crate) struct SendArgs {
    /// Envelope: first, as `--help` lists the groups in this order and --to, --from and --helo
    /// are what every send is written with (they were below some 360 lines of transport, TLS
    /// and AUTH options).
    #[command(flatten)]
    pub(crate) envelope: EnvelopeArgs,
    /// Transport.
    #[command(flatten)]
    pub(crate) transport: TransportArgs,
    /// TLS; in the table only when the command line names one of its flags.
    #[command(flatten)]
    pub(crate) tls: Rare<TlsArgs>,
    /// AUTH; in the table only when the command line names one of its flags.
    #[command(flatten)]
    pub(crate) auth: Rare<AuthArgs>,
    /// Message.
    #[command(flatten)]
    pub(crate) message: MessageArgs,
    /// Output.
    #[command(flatten)]
    pub(crate) output: OutputArgs,
    /// Stop points.
    #[command(flatten)]
    pub(crate) stop: StopArgs,
    /// ESMTP extensions (ext helper); in the table only when the command line names one.
    #[command(flatten)]
    pub(crate) ext: Rare<ExtArgs>,
    /// XCLIENT, XFORWARD and PROXY (ext helper); in the table only when the command line
    /// names one.
    #[command(flatten)]
    pub(crate) xclient: Rare<XclientArgs>,
    /// Configuration layering (config file, environment).
    #[command(flatten)]
    pub(crate) config: ConfigArgs,
}

thread_local! {
    /// The [`Lean`] groups left out while [`Cli::parse_args`] builds and reads its lean table
    /// ([`LeanTable`]): a set of [`Lean::GROUP`] bits, 0 for the whole table.
    static LEAN_TABLE: std::cell::Cell<u8> = const { std::cell::Cell::new(0) };
}

/// While alive, `Cli::command()` leaves the [`Rare`] groups of its bits out of the table and
/// their fields take their defaults. Only `Cli::parse_args` makes one, for the groups a command
/// line names no flag of; everything else (help, completions, the man page, layering) builds
/// the whole table.
pub(crate) struct LeanTable(());

impl LeanTable {
    fn enter(left_out: u8) -> LeanTable {
        LEAN_TABLE.with(|l| l.set(left_out));
        LeanTable(())
    }

    /// Whether any group is left out.
    #[cfg(test)]
    fn active() -> bool {
        LEAN_TABLE.with(std::cell::Cell::get) != 0
    }

    /// Whether the groups of `group` (a [`Lean::GROUP`]) are left out.
    fn leaves_out(group: u8) -> bool {
        LEAN_TABLE.with(std::cell::Cell::get) & group != 0
    }
}

impl Drop for LeanTable {
    fn drop(&mut self) {
        LEAN_TABLE.with(|l| l.set(0));
    }
}

/// A flag group that [`Rare`] leaves out of a lean table when no word of the command line
/// names one of its flags ([`left_out_groups`]).
pub(crate) trait Lean {
    /// The group's bit in [`LEAN_TABLE`] (groups tested by the same words share one).
    const GROUP: u8;
}

/// The ESMTP extensions and XCLIENT/XFORWARD/PROXY: named by [`RARE_WORDS`].
const RARE_GROUP: u8 = 1;
/// TLS: named by [`names_a_tls_flag`].
const TLS_GROUP: u8 = 2;
/// AUTH: named by [`names_an_auth_flag`].
const AUTH_GROUP: u8 = 4;

impl Lean for ExtArgs {
    const GROUP: u8 = RARE_GROUP;
}

impl Lean for XclientArgs {
    const GROUP: u8 = RARE_GROUP;
}

impl Lean for TlsArgs {
    const GROUP: u8 = TLS_GROUP;
}

impl Lean for AuthArgs {
    const GROUP: u8 = AUTH_GROUP;
}

/// The groups of [`Lean`] that no word of `args` (the program name aside) could name a flag of.
/// Exact for the TLS and AUTH groups' flag words, generous elsewhere: a word taken for a flag
/// that is none only costs the lean parse, and a flag missed is refused by the lean table,
/// which sends the command line to the whole one (clap takes no prefix of a long name, and
/// swaks's single-dash and prefix spellings are rewritten to long names before this).
fn left_out_groups(args: &[std::ffi::OsString]) -> u8 {
    let mut left_out = RARE_GROUP | TLS_GROUP | AUTH_GROUP;
    if names_a_rare_flag(args) {
        left_out &= !RARE_GROUP;
    }
    for word in args.iter().skip(1) {
        let word = word.to_string_lossy();
        if names_a_tls_flag(&word) {
            left_out &= !TLS_GROUP;
        }
        if names_an_auth_flag(&word) {
            left_out &= !AUTH_GROUP;
        }
    }
    left_out
}

/// The long name of a `--name` or `--name=value` word, or the letters of a `-xyz` bundle of
/// short flags (whose value may follow in the same word: all its letters count).
enum FlagWord<'a> {
    Long(&'a str),
    Shorts(&'a str),
    None,
}

fn flag_word(word: &str) -> FlagWord<'_> {
    if let Some(long) = word.strip_prefix("--") {
        FlagWord::Long(long.split('=').next().unwrap_or(long))
    } else if let Some(shorts) = word.strip_prefix('-') {
        FlagWord::Shorts(shorts)
    } else {
        FlagWord::None
    }
}

/// Whether `word` could give a TLS flag: a long name with `tls` in it (every TLS flag and alias
/// but one: `--tls`, `--tlsc`, `--tlsa-file`...), `--insecure`, or `-k` alone or in a bundle.
fn names_a_tls_flag(word: &str) -> bool {
    match flag_word(word) {
        FlagWord::Long(name) => name.contains("tls") || name == "insecure",
        FlagWord::Shorts(letters) => letters.contains('k'),
        FlagWord::None => false,
    }
}

/// The AUTH group's long names and aliases without `auth` in them.
const AUTH_OTHER_NAMES: [&str; 11] = [
    "ae",
    "ahp",
    "am",
    "ao",
    "aos",
    "ap",
    "apt",
    "au",
    "pp",
    "protect-prompt",
    "show-secrets",
];

/// Whether `word` could give an AUTH flag: a long name with `auth` in it or one of
/// [`AUTH_OTHER_NAMES`], or `-a` alone or in a bundle.
fn names_an_auth_flag(word: &str) -> bool {
    match flag_word(word) {
        FlagWord::Long(name) => name.contains("auth") || AUTH_OTHER_NAMES.contains(&name),
        FlagWord::Shorts(letters) => letters.contains('a'),
        FlagWord::None => false,
    }
}

/// The words whose mention on the command line puts the [`Rare`] groups in the table: every
/// long name of their flags contains one (they have no short names and no aliases; a test walks
/// the groups). A value that happens to contain one only costs the lean parse.
const RARE_WORDS: [&str; 9] = [
    "xclient",
    "xforward",
    "proxy",
    "smtputf8",
    "force-ext",
    "dsn-",
    "requiretls",
    "bdat",
    "prdr",
];

/// Whether any word of `args` (the program name aside) could name a flag of a [`Rare`] group.
fn names_a_rare_flag(args: &[std::ffi::OsString]) -> bool {
    args.iter().skip(1).any(|word| {
        let word = word.to_string_lossy().to_ascii_lowercase();
        RARE_WORDS.iter().any(|rare| word.contains(rare))
    })
}

/// A flag group of the one-shot send that a plain send does not use (the ESMTP extensions;
/// XCLIENT, XFORWARD and PROXY; TLS; AUTH: 78 of the send's ~160 flags). Building a flag costs
/// clap some 3 000 instructions, filling in a `bool` flag's default 4 000 more (callgrind), so a
/// send that names none of a group's flags is parsed without the group ([`Cli::parse_args`]);
/// with a [`LeanTable`] leaving it out the group adds no flag and reads as `T::default()`, which
/// is what parsing a command line without its flags gives (a test compares the two).
#[derive(Debug, Clone, Default)]
pub(crate) struct Rare<T>(pub(crate) T);

impl<T> std::ops::Deref for Rare<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> std::ops::DerefMut for Rare<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T: Args + Default + Lean> Args for Rare<T> {
    fn group_id() -> Option<clap::Id> {
        if LeanTable::leaves_out(T::GROUP) {
            None
        } else {
            T::group_id()
        }
    }

    fn augment_args(cmd: clap::Command) -> clap::Command {
        if LeanTable::leaves_out(T::GROUP) {
            cmd
        } else {
            T::augment_args(cmd)
        }
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        if LeanTable::leaves_out(T::GROUP) {
            cmd
        } else {
            T::augment_args_for_update(cmd)
        }
    }
}

impl<T: clap::FromArgMatches + Default + Lean> clap::FromArgMatches for Rare<T> {
    fn from_arg_matches(matches: &clap::ArgMatches) -> Result<Self, clap::Error> {
        if LeanTable::leaves_out(T::GROUP) {
            Ok(Rare(T::default()))
        } else {
            T::from_arg_matches(matches).map(Rare)
        }
    }

    fn from_arg_matches_mut(matches: &mut clap::ArgMatches) -> Result<Self, clap::Error> {
        if LeanTable::leaves_out(T::GROUP) {
            Ok(Rare(T::default()))
        } else {
            T::from_arg_matches_mut(matches).map(Rare)
        }
    }

    fn update_from_arg_matches(&mut self, matches: &clap::ArgMatches) -> Result<(), clap::Error> {
        if LeanTable::leaves_out(T::GROUP) {
            Ok(())
        } else {
            self.0.update_from_arg_matches(matches)
        }
    }

    fn update_from_arg_matches_mut(
        &mut self,
        matches: &mut clap::ArgMatches,
    ) -> Result<(), clap::Error> {
        if LeanTable::leaves_out(T::GROUP) {
            Ok(())
        } else {
            self.0.update_from_arg_matches_mut(matches)
        }
    }
}

/// Where and how to connect.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Transport")]
pub(crate) struct TransportArgs {
    /// Server to connect to [default: MX of the last recipient's domain]
    ///
    /// HOST[:PORT], [HOST]:PORT or HOST/PORT; IPv6 addresses need the brackets or the slash form
    /// when a port is given ([2001:db8::1]:587, 2001:db8::1/587), and may carry their zone, the
    /// interface to use ([fe80::1%eth0]:25, fe80::1%2). The port may be a service name
    /// as for --port (mx.example.com:submission). Without --server ehlo looks up
    /// the MX of the last recipient's domain (a literal like user@[192.0.2.1] is used directly).
    #[arg(short = 's', long, value_name = "HOST[:PORT]", value_parser = parse_server, value_hint = ValueHint::Hostname)]
    pub(crate) server: Option<ServerSpec>,

    // ----- other transports (ext helper) -----
    /// Speak SMTP/LMTP over a UNIX-domain socket instead of TCP
    #[arg(long, value_name = "PATH", value_hint = ValueHint::AnyPath,
          conflicts_with_all = ["server", "pipe"])]
    pub(crate) socket: Option<PathBuf>,

    /// Speak SMTP over a child process's stdin/stdout, e.g. "/usr/sbin/sendmail -bs"
    ///
    /// The command runs through /bin/sh -c; its stderr goes to the terminal.
    #[arg(long, value_name = "COMMAND", value_hint = ValueHint::CommandString,
          conflicts_with = "server")]
    pub(crate) pipe: Option<String>,

    /// Connect to where mail for DOMAIN goes (its MX hosts) instead of the recipient's domain
    #[arg(long, value_name = "DOMAIN", conflicts_with_all = ["server", "socket", "pipe"])]
    pub(crate) copy_routing: Option<String>,

    /// Port number or service name (smtp, submission, smtps…) [default: 25; 465 with --tls-on-connect; 24 for LMTP]
    ///
    /// A port given in --server (HOST:PORT) wins over this one, as in swaks. A name is looked
    /// up in /etc/services, then in a
    /// built-in table of the mail services (smtp 25, lmtp 24, submission 587, smtps and
    /// submissions 465).
    #[arg(short = 'p', long, value_name = "PORT|SERVICE", value_parser = parse_service_port,
          allow_negative_numbers = true)]
    pub(crate) port: Option<u16>,

    /// Local address to connect from: HOST[:PORT] (an IP address or a name)
    #[arg(long, visible_alias = "li", value_name = "HOST[:PORT]", value_parser = parse_local_interface)]
    pub(crate) local_interface: Option<ServerSpec>,

    /// Local port to connect from (number or service name)
    ///
    /// A port given in --local-interface (HOST:PORT) wins over this one, as in swaks.
    #[arg(long, visible_aliases = ["lport", "lp"], value_name = "PORT", value_parser = parse_service_port,
          allow_negative_numbers = true)]
    pub(crate) local_port: Option<u16>,

    /// Use IPv4 only
    #[arg(short = '4', long = "ipv4", conflicts_with = "ipv6")]
    pub(crate) ipv4: bool,

    /// Use IPv6 only
    #[arg(short = '6', long = "ipv6")]
    pub(crate) ipv6: bool,

    /// Protocol variant (case-insensitive) [default: ESMTP]
    ///
    /// SMTP sends HELO; ESMTP sends EHLO (HELO if refused); LMTP sends LHLO and uses port 24.
    /// Suffixes as in swaks: S = TLS (STARTTLS, or TLS on connect and port 465 for SSMTP and
    /// SMTPS), A = AUTH. Explicit TLS and AUTH flags win over what the protocol implies.
    #[arg(long, value_name = "PROTOCOL", ignore_case = true)]
    pub(crate) protocol: Option<ProtocolArg>,

    /// Per-reply timeout: N, Ns, Nm or Nh; 0 = none
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration,
          allow_negative_numbers = true)]
    pub(crate) timeout: Duration,

    /// Timeout of each connection attempt [default: --timeout]
    #[arg(long, value_name = "DURATION", value_parser = parse_duration,
          allow_negative_numbers = true)]
    pub(crate) connect_timeout: Option<Duration>,

    /// Bound the whole send: N, Ns, Nm or Nh; 0 = none [default: none]
    ///
    /// --timeout bounds each step (the MX lookup, each connection attempt, each reply, a TLS
    /// handshake), not their sum. When the deadline passes the run ends at once, without waiting
    /// for a reply to QUIT, saying where it was cut ("deadline 20s reached while waiting for the
    /// reply to DATA"), with the exit code a timeout there has (2 in DNS or connect, 25 at DATA,
    /// 26 after the message…). A message cut after its data went out may or may not have been
    /// delivered.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration,
          allow_negative_numbers = true)]
    pub(crate) deadline: Option<Duration>,

    /// DNS server to ask instead of the system's: IP[:PORT] (port defaults to 53)
    #[arg(long, value_name = "IP[:PORT]", value_parser = parse_dns_server)]
    pub(crate) dns_server: Option<SocketAddr>,

    /// DNSSEC validation of the DNS answers: off, validate or trust-ad [default: off]
    ///
    /// validate: ehlo checks the signatures itself (RFC 4035), from the root trust anchors built
    /// in or the --dns-trust-anchor file; each answer is shown as secure or insecure, and a
    /// bogus one (bad or expired signature, missing RRSIG) fails the lookup like a SERVFAIL
    /// (exit 2). trust-ad: believe the AD bit of the recursive resolver (--dns-server or
    /// /etc/resolv.conf), as posttls-finger does: AD set is secure, clear is insecure, SERVFAIL
    /// is bogus; only as safe as that resolver and the path to it (use one on loopback). off:
    /// queries carry no DO bit and no validation work is done.
    #[arg(long, value_name = "MODE", value_enum)]
    pub(crate) dnssec: Option<DnssecArg>,

    /// Trust the DNSKEY records in FILE (zone-file lines) instead of the root anchors (needs
    /// --dnssec validate; for private and test zones)
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub(crate) dns_trust_anchor: Option<PathBuf>,
}

/// `--dnssec` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum DnssecArg {
    /// No validation (the send's default)
    Off,
    /// Validate signatures here, from the trust anchors
    Validate,
    /// Believe the AD bit of the configured recursive resolver
    TrustAd,
}

/// `--tls-verify` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum TlsVerifyArg {
    /// The CA store and the host name (what ehlo does anyway unless --insecure)
    Pkix,
    /// The host's DNSSEC-validated TLSA records when published, else the CA store
    Dane,
}

/// TLS.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "TLS")]
pub(crate) struct TlsArgs {
    /// Require STARTTLS (exit 29 if it is not offered or fails)
    ///
    /// With --tls-optional or --tls-optional-strict too, the optional one applies (the strict
    /// one when both are given), as in swaks.
    #[arg(long, conflicts_with = "tls_on_connect")]
    pub(crate) tls: bool,

    /// Try STARTTLS; carry on in plain text if it is not offered or refused
    #[arg(long, visible_alias = "tlso", conflicts_with = "tls_on_connect")]
    pub(crate) tls_optional: bool,

    /// Use STARTTLS if offered; fail if it is offered and fails
    #[arg(long, visible_alias = "tlsos", conflicts_with = "tls_on_connect")]
    pub(crate) tls_optional_strict: bool,

    /// Start TLS right after connecting (implicit TLS, default port 465)
    #[arg(long, visible_alias = "tlsc")]
    pub(crate) tls_on_connect: bool,

    /// Do not enforce certificate verification (the result is still shown)
    #[arg(short = 'k', long, conflicts_with = "tls_verify")]
    pub(crate) insecure: bool,

    /// Verify the certificate: pkix (the CA store and the name, the default: the flag alone is
    /// accepted for swaks compatibility) or dane (TLSA records, RFC 7672)
    ///
    /// dane, like posttls-finger -l dane: for each host tried (each MX when routed by MX) the
    /// TLSA records at _PORT._tcp.HOST are looked up with DNSSEC validation (--dnssec validate
    /// unless --dnssec trust-ad is given). A secure RRset with a usable record (DANE-EE 3, DANE-TA
    /// 2) makes STARTTLS mandatory and authenticates the server by the records (exit 29 with the
    /// per-depth evidence if none matches); an insecure or absent one falls back to the CA store;
    /// a bogus one or a failed lookup skips that host (RFC 7672 §2.2) — exit 2 if none is left.
    /// Without --tls/--tls-optional, STARTTLS is used when offered. The transcript and the JSON
    /// (tls_policy) say which was used and why.
    #[arg(long, value_name = "MODE", num_args = 0..=1, default_missing_value = "pkix",
          value_enum, conflicts_with_all = ["tlsa", "tlsa_file"])]
    pub(crate) tls_verify: Option<TlsVerifyArg>,

    /// Enforce only the chain check (a trusted CA, within its dates), not the name
    ///
    /// swaks's --tls-verify-ca: without --tls-verify-host (or --tls-verify) a certificate for
    /// another name passes; the name check is still shown.
    #[arg(long, conflicts_with = "insecure")]
    pub(crate) tls_verify_ca: bool,

    /// Enforce only the name check (SAN or CN against the server name), not the chain
    ///
    /// swaks's --tls-verify-host: without --tls-verify-ca (or --tls-verify) a self-signed or
    /// expired certificate for the right name passes; the chain check is still shown.
    #[arg(long, conflicts_with = "insecure")]
    pub(crate) tls_verify_host: bool,

    /// CA certificates to trust instead of the system store: a PEM file or a directory of them
    #[arg(long, value_name = "PATH", value_hint = ValueHint::AnyPath)]
    pub(crate) tls_ca_path: Option<PathBuf>,

    /// Server name to send in SNI [default: the server host name, unless it is an IP address]
    #[arg(long, value_name = "NAME")]
    pub(crate) tls_sni: Option<String>,

    /// Name to verify the certificate against [default: the server host name]
    #[arg(long, value_name = "NAME")]
    pub(crate) tls_verify_target: Option<String>,

    /// Authenticate the server by this TLSA record instead of the CA store (repeatable; DANE)
    ///
    /// "USAGE SELECTOR MTYPE HEX" as published in DNS, e.g. "3 1 1 ab12…": usages 3 (DANE-EE:
    /// the leaf's key or certificate; no name or date checks) and 2 (DANE-TA: the chain must
    /// verify to the matched certificate and the leaf name the host, --tls-verify-target or,
    /// routed by MX, the recipient's domain) count;
    /// PKIX usages 0 and 1 are ignored, as RFC 7672 says. Needs --tls or --tls-on-connect. If no
    /// usable record matches the server's chain: exit 29 with the reason and, per chain depth,
    /// the digest each certificate has, so a record can be checked before it is published (a
    /// certificate rollover).
    #[arg(long, value_name = "RECORD", value_parser = parse_tlsa)]
    pub(crate) tlsa: Vec<crate::net::dane::Tlsa>,

    /// Read TLSA records from FILE: one per line, bare or as zone-file lines (what
    /// `ldns-dane -t` reads); `;` and `#` start comments
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub(crate) tlsa_file: Option<PathBuf>,

    // ---- TLS in depth: versions, ciphers, client certificate, peer certificate dumps ----
    /// TLS versions: an allow list (tlsv1_2,tlsv1_3) or a deny list (no_tlsv1_3), never mixed
    ///
    /// Names: tlsv1, tlsv1_1, tlsv1_2, tlsv1_3 (no_ before a name denies it). A deny list narrows
    /// the default (TLS 1.2 and 1.3). The obsolete TLS 1.0 and 1.1 are reached only when named in
    /// an allow list: ehlo then lowers the TLS library's security level to 0 (@SECLEVEL=0) for
    /// that connection's handshake and says so; the server's certificate is still verified at
    /// the usual level. SSLv2 and SSLv3 are not supported. The versions allowed must
    /// be contiguous (not tlsv1_1,tlsv1_3): the TLS library negotiates one range.
    #[arg(long, visible_alias = "tlsp", value_name = "LIST", value_parser = parse_tls_protocols)]
    pub(crate) tls_protocol: Option<TlsProtocols>,

    /// Cipher list for TLS 1.2 and below (`openssl ciphers` syntax), e.g. ECDHE-RSA-AES128-GCM-SHA256
    #[arg(long, value_name = "CIPHERS")]
    pub(crate) tls_cipher: Option<String>,

    /// TLS 1.3 cipher suites, e.g. TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256
    #[arg(long, value_name = "SUITES")]
    pub(crate) tls_ciphersuites: Option<String>,

    /// Client certificate to present when the server asks (PEM; needs --tls-key)
    #[arg(long, value_name = "FILE", requires = "tls_key", value_hint = ValueHint::FilePath)]
    pub(crate) tls_cert: Option<PathBuf>,

    /// Private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1; not encrypted)
    #[arg(long, value_name = "FILE", requires = "tls_cert", value_hint = ValueHint::FilePath)]
    pub(crate) tls_key: Option<PathBuf>,

    /// Intermediate certificates to send after --tls-cert (PEM)
    #[arg(long, value_name = "FILE", requires = "tls_cert", value_hint = ValueHint::FilePath)]
    pub(crate) tls_chain: Option<PathBuf>,

    /// Save the server's certificate as PEM to FILE [default: print it in the transcript]
    #[arg(long, value_name = "FILE", num_args = 0..=1, value_hint = ValueHint::FilePath)]
    pub(crate) tls_get_peer_cert: Option<Option<PathBuf>>,

    /// Save the server's certificate chain as sent, PEM, to FILE [default: print it]
    #[arg(long, value_name = "FILE", num_args = 0..=1, value_hint = ValueHint::FilePath)]
    pub(crate) tls_get_peer_chain: Option<Option<PathBuf>>,
}

/// `--tls-protocol`, parsed: the allowed versions, ascending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TlsProtocols(pub(crate) Vec<crate::net::tls::TlsVersion>);

fn parse_tlsa(s: &str) -> Result<crate::net::dane::Tlsa, String> {
    crate::net::dane::Tlsa::parse(s)
}

fn parse_tls_protocols(s: &str) -> Result<TlsProtocols, String> {
    crate::net::tls::parse_protocols(s).map(TlsProtocols)
}

/// AUTH.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "AUTH")]
pub(crate) struct AuthArgs {
    /// Require AUTH, trying these mechanisms in order [default: the strongest offered]
    ///
    /// Without a value every advertised mechanism ehlo implements is tried, strongest first.
    /// Exit 28 if AUTH is not offered or fails. With --auth-optional(-strict) too, as in swaks,
    /// AUTH is optional (strict when both are given) and the mechanisms are --auth's, else
    /// the optional flag's.
    #[arg(short = 'a', long, value_name = "MECH,...", num_args = 0..=1, value_delimiter = ',')]
    pub(crate) auth: Option<Vec<String>>,

    /// Try AUTH; carry on if it is not offered or fails
    ///
    /// Not when the server fails to prove it knows the password (SCRAM, DIGEST-MD5): that
    /// server may be an impostor, and the session ends (exit 28).
    #[arg(long, visible_alias = "ao", value_name = "MECH,...", num_args = 0..=1,
          value_delimiter = ',')]
    pub(crate) auth_optional: Option<Vec<String>>,

    /// AUTH if offered; fail if it is tried and fails
    #[arg(long, visible_alias = "aos", value_name = "MECH,...", num_args = 0..=1,
          value_delimiter = ',')]
    pub(crate) auth_optional_strict: Option<Vec<String>>,

    /// User name (implies --auth); without a value: ~/.netrc, then a prompt
    ///
    /// Given without a value (as swaks allows), the user name comes from ~/.netrc or, on a
    /// terminal, a prompt; without a terminal ehlo says so and exits 1. '<>' is the empty user
    /// name (swaks): PLAIN and LOGIN send it as such.
    #[arg(long, visible_alias = "au", value_name = "USER", num_args = 0..=1,
          default_missing_value = "")]
    pub(crate) auth_user: Option<String>,

    /// Password (argv is visible to other users: prefer EHLO_AUTH_PASSWORD or a file)
    ///
    /// Command-line arguments can be read by every user of the machine (ps, /proc). ehlo looks
    /// for the password in this order: --auth-password (or $EHLO_AUTH_PASSWORD),
    /// --auth-password-file, ~/.netrc (machine = the --server host, or its default entry), and
    /// finally a prompt without echo when stdin is a terminal. The password and the file replace
    /// each other across layers (config file < EHLO_* < command line): a command-line
    /// --auth-password-file beats $EHLO_AUTH_PASSWORD and a config-file auth-password.
    ///
    /// Given without a value (as swaks allows), the password comes from the other sources,
    /// $EHLO_AUTH_PASSWORD and the config file included.
    ///
    /// As in swaks, --auth-password (on the command line, in the config file or as
    /// SWAKS_OPT_auth_password) turns AUTH on like --auth-user; $EHLO_AUTH_PASSWORD alone does
    /// not, so it can stay set for the sends that ask for AUTH.
    // No clap `env =` here or on --auth-oauth-token: layering (layers.rs) is the only reader of
    // EHLO_AUTH_PASSWORD / EHLO_AUTH_TOKEN, so `--no-auth-password` and a higher layer's
    // `--auth-password-file` can drop them. `hide_env_values` marks the flag as a secret.
    #[arg(long, visible_alias = "ap", value_name = "PASSWORD", hide_env_values = true,
          value_parser = parse_secret, num_args = 0..=1,
          default_missing_value = "")]
    pub(crate) auth_password: Option<Secret>,

    /// Authorisation identity (PLAIN authzid, SCRAM a=, DIGEST-MD5 authzid)
    ///
    /// Only those three mechanisms carry one, so only they are tried (the others would
    /// authenticate as the user alone); none of them offered is an AUTH failure (exit 28).
    #[arg(long, value_name = "ID")]
    pub(crate) auth_authzid: Option<String>,

    /// OAuth 2.0 bearer token for XOAUTH2 and OAUTHBEARER (argv is visible to other users)
    ///
    /// Looked for in this order: --auth-oauth-token (or $EHLO_AUTH_TOKEN), --auth-token-file,
    /// and a prompt without echo when stdin is a terminal. The token and the file replace each
    /// other across layers, as --auth-password and --auth-password-file do.
    #[arg(long, value_name = "TOKEN", hide_env_values = true, value_parser = parse_secret)]
    pub(crate) auth_oauth_token: Option<Secret>,

    // ---- secret sources beyond argv and the environment ----
    /// Read the password from the first line of FILE (replaces a lower layer's password, e.g.
    /// $EHLO_AUTH_PASSWORD; an --auth-password of the same layer wins)
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub(crate) auth_password_file: Option<PathBuf>,

    /// Read the OAuth 2.0 token from the first line of FILE (replaces a lower layer's token,
    /// e.g. $EHLO_AUTH_TOKEN; an --auth-oauth-token of the same layer wins)
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub(crate) auth_token_file: Option<PathBuf>,

    /// Send AUTH even if the server does not advertise it
    #[arg(long)]
    pub(crate) auth_force: bool,

    /// The password came from $EHLO_AUTH_PASSWORD alone (layering says so): it then does not
    /// turn AUTH on. `cli::parse` fills it.
    #[arg(skip)]
    pub(crate) password_from_env: bool,

    /// Show the decoded AUTH exchange (secrets still masked)
    #[arg(long, visible_alias = "apt")]
    pub(crate) auth_plaintext: bool,

    /// Another name for a mechanism: AUTH ALIAS is sent and run as TYPE (SPA and MSN are NTLM)
    #[arg(
        long,
        visible_alias = "am",
        value_name = "ALIAS=TYPE,...",
        value_delimiter = ','
    )]
    pub(crate) auth_map: Vec<String>,

    /// DIGEST-MD5 and NTLM settings: realm=, domain=, dmd5-serv-type=, dmd5-host=, dmd5-serv-name=, ntlm-version=
    ///
    /// realm (or domain) is the DIGEST-MD5 realm [default: the first the server offers] and the
    /// NTLM domain [default: none]; the DIGEST-MD5 digest-uri is
    /// dmd5-serv-type/dmd5-host[/dmd5-serv-name] [default: smtp/the server's host name].
    /// ntlm-version=1 sends NTLMv1 and LM responses (what swaks sends; Exim's spa knows only
    /// those) instead of NTLMv2 [default: 2].
    #[arg(
        long,
        visible_alias = "ae",
        value_name = "KEY=VALUE,...",
        value_delimiter = ','
    )]
    pub(crate) auth_extra: Vec<String>,

    /// Accepted for swaks compatibility: ehlo always hides secrets
    ///
    /// ehlo shows them as ******** (not TEXT); given with --show-secrets, the AUTH exchange
    /// stays masked all the same.
    #[arg(long, visible_alias = "ahp", value_name = "TEXT", num_args = 0..=1)]
    pub(crate) auth_hide_password: Option<Option<String>>,

    /// Accepted for swaks compatibility: password and token prompts never echo
    #[arg(long, visible_alias = "pp")]
    pub(crate) protect_prompt: bool,

    /// Show passwords and tokens in the output instead of masking them
    #[arg(long)]
    pub(crate) show_secrets: bool,

    /// Allow AUTH over a connection that is not encrypted
    ///
    /// Without --tls or --tls-on-connect, --auth asks for confirmation on a terminal and refuses
    /// to run non-interactively unless this flag is given. With --tls-optional(-strict), when
    /// STARTTLS did not happen, AUTH asks on a terminal as it is about to start, and without
    /// one is refused (exit 1, nothing sent) unless this flag is given.
    #[arg(long)]
    pub(crate) allow_plaintext_auth: bool,
}

/// Envelope.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Envelope")]
pub(crate) struct EnvelopeArgs {
    /// Recipients (comma-separated, repeatable)
    ///
    /// Whitespace around each address is trimmed (swaks keeps it). The last recipient's domain
    /// picks the MX when --server is not given; recipients of other domains go to that server
    /// too, with a warning.
    #[arg(short = 't', long, value_name = "ADDR,...", value_delimiter = ',')]
    pub(crate) to: Vec<String>,

    /// Recipients also listed in a Cc: header
    #[arg(long, value_name = "ADDR,...", value_delimiter = ',')]
    pub(crate) cc: Vec<String>,

    /// Recipients not listed in any header
    #[arg(long, value_name = "ADDR,...", value_delimiter = ',')]
    pub(crate) bcc: Vec<String>,

    /// Each of `--to`, `--cc` and `--bcc` given more than once, with how many times and every
    /// address (`Cli::parse_args` fills it): repeated, they add up, where swaks keeps the last,
    /// which `cli::parse` says on stderr.
    #[arg(skip)]
    pub(crate) repeated: Vec<Repeated>,

    /// The first of `--to`, `--cc` and `--bcc` given a value that names no address (`--cc ''`),
    /// with that value (`Cli::parse_args` fills it); the send refuses it.
    #[arg(skip)]
    pub(crate) blank: Option<(&'static str, String)>,

    /// Sender; <> is the null sender [default: $LOGNAME@<local host name>]
    ///
    /// Without --from the local part is $LOGNAME, else $USER, else the name the password
    /// database gives the user running ehlo.
    #[arg(short = 'f', long, value_name = "ADDR")]
    pub(crate) from: Option<String>,

    /// Default sender from the password database, ignoring $LOGNAME and $USER
    #[arg(long)]
    pub(crate) force_getpwuid: bool,

    /// Name to greet with in EHLO/HELO/LHLO [default: the local host name]
    #[arg(long, visible_aliases = ["ehlo", "lhlo"], value_name = "NAME")]
    pub(crate) helo: Option<String>,

    /// Send MAIL, RCPTs and DATA in one write when PIPELINING is offered
    ///
    /// With --bdat, the chunks too (RFC 3030 §4.2): up to 16 before their replies.
    #[arg(long)]
    pub(crate) pipeline: bool,

    /// Extra MAIL FROM parameter, sent as given (repeatable), e.g. BODY=8BITMIME
    #[arg(long, value_name = "PARAM")]
    pub(crate) mail_param: Vec<String>,

    /// Extra RCPT TO parameter, sent as given (repeatable), e.g. NOTIFY=NEVER
    #[arg(long, value_name = "PARAM")]
    pub(crate) rcpt_param: Vec<String>,
}

/// Message content.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Message")]
pub(crate) struct MessageArgs {
    /// Body of the default message: TEXT, - for stdin, or @FILE [default: "This is a test mailing"]
    #[arg(long, value_name = "TEXT|-|@FILE", value_hint = ValueHint::FilePath)]
    pub(crate) body: Option<String>,

    /// Set a header, replacing one of the same name in the default or --data message (repeatable)
    ///
    /// swaks's `--header-NAME VALUE` and `--h-NAME VALUE` are the same. Non-ASCII values are
    /// RFC 2047 encoded. In --header, --add-header, --body, --attach-body and --data (unless
    /// --no-data-fixup) these tokens are replaced, also spelled ..NAME..: %DATE%, %MESSAGEID%,
    /// %TO_ADDRESS%, %FROM_ADDRESS%, %CC_ADDRESS%, %BCC_ADDRESS%, %NEWLINE%, %EHLO_VERSION%
    /// (= %SWAKS_VERSION%); in --data also %NEW_HEADERS% and %BODY%.
    #[arg(long, value_name = "NAME: VALUE")]
    pub(crate) header: Vec<String>,

    /// Add a header (repeatable); with --data at %NEW_HEADERS%, else after its last header
    #[arg(long, visible_alias = "ah", value_name = "NAME: VALUE")]
    pub(crate) add_header: Vec<String>,

    /// The whole message instead of the default one: TEXT, - for stdin, or @FILE
    ///
    /// A literal \n becomes a line break, in TEXT, stdin or FILE alike (as in swaks; not with
    /// --no-data-fixup). @@X means the text @X.
    #[arg(short = 'd', long, value_name = "TEXT|-|@FILE", value_hint = ValueHint::FilePath)]
    pub(crate) data: Option<String>,

    /// swaks's deprecated -g: read the message from stdin (--data -) unless --data is given
    #[arg(short = 'g', long = "g", hide = true)]
    pub(crate) g: bool,

    /// Send the message bytes exactly as given: no CRLF fix-up, no dot-stuffing, no final dot
    #[arg(long, visible_alias = "ndf")]
    pub(crate) no_data_fixup: bool,

    /// Print the message that would be sent and exit without connecting
    #[arg(long)]
    pub(crate) dump_mail: bool,

    /// Make the body the --dump of this run's settings [default sections: all but SUPPORT, DATA]
    ///
    /// As in swaks: the sections of --dump except SUPPORT and DATA (given, they are left out);
    /// --body wins over it. The password is masked unless --dump-as-body-shows-password.
    #[arg(long, visible_alias = "dab", value_name = "SECTION,...", num_args = 0..=1,
          default_missing_value = "ALL", value_parser = crate::cli::dump::parse_sections)]
    pub(crate) dump_as_body: Option<crate::cli::dump::Sections>,

    /// --dump-as-body with the password shown (implies --dump-as-body)
    #[arg(long, visible_alias = "dabsp")]
    pub(crate) dump_as_body_shows_password: bool,

    // --- MIME parts and finer fix-ups (message helper). The part options are ordered:
    // `--attach-type` applies to every part option after it up to an `--attach-body`,
    // `--attach-name` to the next one;
    // `Cli::parse_args` reads that order into `parts`.
    /// Attach a part (repeatable): @FILE, - for stdin, or TEXT; makes the message multipart/mixed
    #[arg(long, value_name = "@FILE|-|TEXT", value_hint = ValueHint::FilePath,
          conflicts_with = "data")]
    pub(crate) attach: Vec<String>,

    /// A text part of the body (repeatable): several form multipart/alternative [type: text/plain]
    #[arg(long, value_name = "@FILE|-|TEXT", value_hint = ValueHint::FilePath,
          conflicts_with_all = ["data", "body"])]
    pub(crate) attach_body: Vec<String>,

    /// Attach an inline part with a Content-ID (repeatable), e.g. an image for cid: in HTML
    #[arg(long, value_name = "@FILE|-|TEXT", value_hint = ValueHint::FilePath,
          conflicts_with = "data")]
    pub(crate) attach_inline: Vec<String>,

    /// MIME type of the part options after it, up to an --attach-body [default: guessed from a file name, else application/octet-stream]
    #[arg(long, value_name = "MIME", conflicts_with = "data")]
    pub(crate) attach_type: Vec<String>,

    /// File name of the next part option; empty (or no value) = no file name
    #[arg(long, value_name = "NAME", num_args = 0..=1, default_missing_value = "",
          conflicts_with = "data")]
    pub(crate) attach_name: Vec<String>,

    /// Do not double a leading dot (RFC 5321 §4.5.2): a lone "." line then ends the data early
    #[arg(long)]
    pub(crate) no_dot_stuffing: bool,

    /// Do not turn bare LF or CR into CRLF
    #[arg(long)]
    pub(crate) no_crlf_fixup: bool,

    /// Keep a leading mbox "From " line
    #[arg(long, visible_alias = "nsf")]
    pub(crate) no_strip_from: bool,

    /// The part options in command-line order (filled by [`Cli::parse_args`]).
    #[arg(skip)]
    pub(crate) parts: Vec<PartArg>,
}

/// What a part option makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PartKind {
    /// `--attach-body`: a text part of the body.
    Body,
    /// `--attach-inline`: an inline part with a Content-ID.
    Inline,
    /// `--attach`: an attachment.
    Attachment,
}

/// One part option with the `--attach-type` / `--attach-name` that apply to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PartArg {
    /// Which option.
    pub(crate) kind: PartKind,
    /// Its value: `@FILE`, `-` or text.
    pub(crate) value: String,
    /// The last `--attach-type` before it and after the last `--attach-body`, if any.
    pub(crate) content_type: Option<String>,
    /// The `--attach-name` right before it, if any (`Some("")` = no file name).
    pub(crate) name: Option<String>,
}

impl Cli {
    /// Parse like `Cli::try_parse_from`, and also record the order of the part options (which
    /// derive cannot express): `--attach-type` is sticky up to the next `--attach-body`, which
    /// puts the default back as swaks does, and `--attach-name` applies once.
    ///
    /// A command line that names no flag of some [`Rare`] groups is parsed first with a table
    /// without those groups (their fields take their defaults); whatever that parse refuses
    /// (help, version, an unknown flag, a bad value) is parsed again with the whole table, so
    /// every message and help text is the whole table's.
    pub(crate) fn parse_args<I, T>(args: I) -> Result<Cli, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let args: Vec<std::ffi::OsString> = args.into_iter().map(Into::into).collect();
        let left_out = left_out_groups(&args);
        if left_out != 0 {
            let _lean = LeanTable::enter(left_out);
            if let Ok(cli) = Cli::parse_with_table(&args) {
                return Ok(cli);
            }
        }
        Cli::parse_with_table(&args)
    }

    /// [`Cli::parse_args`] with the table `Cli::command` builds (whole, or lean inside a
    /// [`LeanTable`]).
    fn parse_with_table(args: &[std::ffi::OsString]) -> Result<Cli, clap::Error> {
        use clap::{CommandFactory, FromArgMatches};
        let mut cmd = Cli::command();
        let mut matches = cmd.try_get_matches_from_mut(args)?;
        // The struct takes the values out of the matches (`from_arg_matches_mut`; the plain
        // form clones every matched argument first, 3% of a plain send's instructions by
        // callgrind), so what it cannot express (the order of the options) is read first.
        if matches.subcommand().is_some() {
            return Cli::from_arg_matches_mut(&mut matches).map_err(|e| e.format(&mut cmd));
        }
        #[derive(Clone, Copy)]
        enum Opt {
            Part(PartKind),
            Type,
            Name,
        }
        let mut seen: Vec<(usize, Opt, String)> = Vec::new();
        for (id, opt) in [
            ("attach", Opt::Part(PartKind::Attachment)),
            ("attach_body", Opt::Part(PartKind::Body)),
            ("attach_inline", Opt::Part(PartKind::Inline)),
            ("attach_type", Opt::Type),
            ("attach_name", Opt::Name),
        ] {
            let (Some(idx), Some(vals)) = (matches.indices_of(id), matches.get_many::<String>(id))
            else {
                continue;
            };
            seen.extend(idx.zip(vals).map(|(i, v)| (i, opt, v.clone())));
        }
        seen.sort_by_key(|(i, _, _)| *i);
        let mut content_type = None;
        let mut name = None;
        let mut parts = Vec::new();
        let mut last_type_used = true;
        for (_, opt, value) in seen {
            match opt {
                Opt::Type => {
                    content_type = Some(value);
                    last_type_used = false;
                }
                Opt::Name => name = Some(value),
                Opt::Part(kind) => {
                    last_type_used = true;
                    // swaks resets its MIME type after each body part ("The current MIME type
                    // gets reset to application/octet-stream between processing body parts
                    // and other parts"), so a type given for an --attach-body types no
                    // option after it.
                    let content_type = if kind == PartKind::Body {
                        content_type.take()
                    } else {
                        content_type.clone()
                    };
                    parts.push(PartArg {
                        kind,
                        value,
                        content_type,
                        name: name.take(),
                    });
                }
            }
        }
        let dangling = if name.is_some() {
            Some("--attach-name")
        } else if !last_type_used {
            Some("--attach-type")
        } else {
            None
        };
        if let Some(flag) = dangling {
            return Err(cmd.error(
                clap::error::ErrorKind::ArgumentConflict,
                format!(
                    "{flag} applies to the --attach, --attach-body or --attach-inline after it, \
                     and none follows"
                ),
            ));
        }
        let order = if LeanTable::leaves_out(RARE_GROUP) {
            Vec::new()
        } else {
            xclient_order(&matches)
        };
        let repeated = repeated_recipients(&matches);
        let blank = blank_recipient(&matches);
        let mut cli = Cli::from_arg_matches_mut(&mut matches).map_err(|e| e.format(&mut cmd))?;
        cli.send.envelope.repeated = repeated;
        cli.send.envelope.blank = blank;
        cli.send.message.parts = parts;
        cli.send.xclient.xclient_order = order;
        // This is the one-shot send (the only mode without a subcommand): it runs once and the
        // process ends. Freeing the flag table it was parsed with (some 170 arguments, each
        // with allocations of its own) cost 6% of a plain send's instructions (callgrind) for
        // memory nothing asks for again, so it is left to the end of the process; page faults
        // and peak RSS were the same either way.
        std::mem::forget(cmd);
        Ok(cli)
    }
}

/// A recipient flag given more than once in one parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Repeated {
    /// Its clap id (`to`, `cc`, `bcc`).
    pub(crate) id: &'static str,
    /// How many times it was given (a comma list is one time).
    pub(crate) times: usize,
    /// Every address of every occurrence, in order.
    pub(crate) addresses: Vec<String>,
}

/// The first `--to`, `--cc` or `--bcc` whose value names no address at all (`--cc ''`,
/// `-t ' '`, `--bcc ,`), with that value: swaks takes an empty value for one not given and asks
/// for it (`Cc: ` on the terminal, a line of stdin in a pipe), so dropping it would send what
/// swaks never sends without a word. An empty element beside an address (`-t a@x,`) is only
/// dropped.
fn blank_recipient(matches: &clap::ArgMatches) -> Option<(&'static str, String)> {
    for id in ["to", "cc", "bcc"] {
        let Some(occurrences) = matches.get_occurrences::<String>(id) else {
            continue;
        };
        for occurrence in occurrences {
            let values: Vec<&String> = occurrence.collect();
            if values.iter().all(|v| v.trim().is_empty()) {
                let joined: Vec<&str> = values.iter().map(|v| v.as_str()).collect();
                return Some((id, joined.join(",")));
            }
        }
    }
    None
}

/// The recipient flags given more than once (a comma list in one flag is once).
fn repeated_recipients(matches: &clap::ArgMatches) -> Vec<Repeated> {
    let mut out = Vec::new();
    for id in ["to", "cc", "bcc"] {
        let Some(occurrences) = matches.get_occurrences::<String>(id) else {
            continue;
        };
        let mut times = 0;
        let mut addresses = Vec::new();
        for occurrence in occurrences {
            times += 1;
            addresses.extend(occurrence.cloned());
        }
        if times > 1 {
            out.push(Repeated {
                id,
                times,
                addresses,
            });
        }
    }
    out
}

/// The XCLIENT options in command-line order. A repeated attribute option counts where it was
/// last given (its value is the last one).
fn xclient_order(matches: &clap::ArgMatches) -> Vec<XclientItem> {
    let mut seen: Vec<(usize, XclientItem)> = Vec::new();
    for (id, name) in XCLIENT_ATTRS {
        if let Some(i) = matches.indices_of(id).and_then(Iterator::last) {
            seen.push((i, XclientItem::Attr(name)));
        }
    }
    if let (Some(idx), Some(vals)) = (
        matches.indices_of("xclient"),
        matches.get_many::<String>("xclient"),
    ) {
        seen.extend(idx.zip(vals).map(|(i, v)| (i, XclientItem::Raw(v.clone()))));
    }
    if let Some(idx) = matches.indices_of("xclient_delim") {
        seen.extend(idx.map(|i| (i, XclientItem::Delim)));
    }
    seen.sort_by_key(|(i, _)| *i);
    seen.into_iter().map(|(_, item)| item).collect()
}

/// Output.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Output")]
pub(crate) struct OutputArgs {
    /// Print JSON Lines events instead of the transcript
    #[arg(long)]
    pub(crate) json: bool,

    /// When to use colour
    #[arg(long, value_name = "WHEN", value_enum, default_value_t = ColorChoice::Auto)]
    pub(crate) color: ColorChoice,

    /// Which replies get a plain-language explanation
    #[arg(long, value_name = "WHICH", value_enum, default_value_t = ExplainLevel::Errors)]
    pub(crate) explain: ExplainLevel,

    /// Show how long each reply took (i = whole seconds)
    #[arg(long, visible_alias = "stl", value_name = "i", num_args = 0..=1, value_parser = ["i"])]
    pub(crate) show_time_lapse: Option<Option<String>>,

    /// Print "N lines sent" instead of the message
    #[arg(short = 'n', long, visible_alias = "n")]
    pub(crate) suppress_data: bool,

    /// Quieter: 1 = nothing until an error, then everything from it on; 2 = errors only; 3 = nothing (-S alone = 1)
    #[arg(short = 'S', long, value_name = "LEVEL", num_args = 0..=1, default_missing_value = "1",
          value_parser = clap::value_parser!(u8).range(1..=3),
          allow_negative_numbers = true)]
    pub(crate) silent: Option<u8>,

    /// Hex dump of every read and write
    #[arg(long, visible_alias = "raw")]
    pub(crate) show_raw_text: bool,

    /// Drop the ===, ->, <- prefixes from transcript lines
    #[arg(long, visible_alias = "nth")]
    pub(crate) no_hints: bool,

    /// Drop the -> / ~> / **> prefixes from lines sent
    #[arg(long, visible_alias = "nsh")]
    pub(crate) no_send_hints: bool,

    /// Drop the <- / <~ / <** prefixes from replies received
    #[arg(long, visible_alias = "nrh")]
    pub(crate) no_receive_hints: bool,

    /// Drop the === / *** prefixes from ehlo's own lines
    #[arg(long, visible_alias = "nih")]
    pub(crate) no_info_hints: bool,

    /// Do not print the replies received
    #[arg(long, visible_alias = "hr")]
    pub(crate) hide_receive: bool,

    /// Do not print the lines sent
    #[arg(long, visible_alias = "hs")]
    pub(crate) hide_send: bool,

    /// Do not print ehlo's own information lines (=== and !!!; errors still show)
    #[arg(long, visible_alias = "hi")]
    pub(crate) hide_informational: bool,

    /// Print nothing at all (the exit code tells the result)
    #[arg(long, visible_alias = "ha")]
    pub(crate) hide_all: bool,

    /// Append the transcript (both streams) to FILE instead of the terminal (as swaks)
    ///
    /// &STDOUT and &STDERR name the terminal's streams (as in swaks).
    #[arg(long, visible_alias = "output", value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub(crate) output_file: Option<PathBuf>,

    /// Append what would go to stdout to FILE instead
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub(crate) output_file_stdout: Option<PathBuf>,

    /// Append what would go to stderr (*** lines) to FILE instead
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub(crate) output_file_stderr: Option<PathBuf>,

    /// Print the resolved settings in swaks's sections and exit without connecting [default: ALL]
    ///
    /// Sections (comma-separated, case-insensitive): SUPPORT, APP, OUTPUT, TRANSPORT, PROTOCOL,
    /// XCLIENT, PROXY, TLS, AUTH, DATA, ALL. The settings are the merged ones (config file,
    /// EHLO_* and SWAKS_OPT_* environment, command line). Secrets are masked unless
    /// --show-secrets (swaks always shows the password); nothing is prompted for.
    #[arg(long, value_name = "SECTION,...", num_args = 0..=1, default_missing_value = "ALL",
          value_parser = crate::cli::dump::parse_sections)]
    pub(crate) dump: Option<crate::cli::dump::Sections>,
}

/// Stop points (only one at a time).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Stop points")]
pub(crate) struct StopArgs {
    /// Send QUIT after this step's reply
    ///
    /// Steps (case-insensitive): PROXY, CONNECT (BANNER), FIRST-HELO (FIRST-EHLO, FIRST-LHLO),
    /// XCLIENT, XCLIENT-HELO, TLS (STARTTLS), HELO (EHLO, LHLO), AUTH, MAIL (FROM), RCPT (TO). A stop before RCPT makes
    /// --to unnecessary (but --server is then needed). With --drop-after or --drop-after-send
    /// too, the first stop point the session reaches applies (at one step: the drop after
    /// sending, then the drop, then QUIT), as in swaks.
    #[arg(
        short = 'q',
        long,
        visible_alias = "quit",
        value_name = "STEP",
        ignore_case = true
    )]
    pub(crate) quit_after: Option<QuitPoint>,

    /// Close the connection after this step's reply, without QUIT
    ///
    /// Steps as for --quit-after, plus DATA and DOT (after the final dot).
    #[arg(long, visible_aliases = ["drop", "da"], value_name = "STEP", ignore_case = true)]
    pub(crate) drop_after: Option<StopPoint>,

    /// Close the connection right after sending this step's command
    ///
    /// Steps as for --drop-after.
    #[arg(long, visible_alias = "das", value_name = "STEP", ignore_case = true)]
    pub(crate) drop_after_send: Option<StopPoint>,
}

/// ESMTP extensions: advertised → used; not advertised → an error with its own exit code, or
/// sent anyway with --force-ext.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Extensions")]
pub(crate) struct ExtArgs {
    /// Use SMTPUTF8 (RFC 6531) even when no address or header needs it (exit 31 if not offered)
    ///
    /// Without this flag SMTPUTF8 is still used when an address or a header is not ASCII.
    #[arg(long)]
    pub(crate) smtputf8: bool,

    /// Use extensions the server does not advertise instead of failing
    #[arg(long)]
    pub(crate) force_ext: bool,

    /// DSN (RFC 3461): NOTIFY= on every RCPT: NEVER, or a list of SUCCESS,FAILURE,DELAY
    #[arg(long, value_name = "WHEN", value_parser = parse_dsn_notify)]
    pub(crate) dsn_notify: Option<String>,

    /// DSN: RET= on MAIL (return the FULL message or only the HDRS in a failure report)
    #[arg(long, value_name = "WHAT", value_enum, ignore_case = true)]
    pub(crate) dsn_ret: Option<DsnRet>,

    /// DSN: ENVID= on MAIL (envelope identifier: printable ASCII, at most 100 characters
    /// once xtext-encoded)
    #[arg(long, value_name = "ID")]
    pub(crate) dsn_envid: Option<String>,

    /// DSN: ORCPT= on every RCPT, naming the recipient as given (xtext-encoded, at most 500
    /// characters)
    #[arg(long)]
    pub(crate) dsn_orcpt: bool,

    /// REQUIRETLS on MAIL (RFC 8689): needs --tls or --tls-on-connect, even with --force-ext
    #[arg(long)]
    pub(crate) requiretls: bool,

    /// Send the message with BDAT (CHUNKING, RFC 3030) in chunks of SIZE [default: one chunk]
    ///
    /// No dot-stuffing and no end marker; exit 25 if CHUNKING is not offered.
    #[arg(long, value_name = "SIZE", num_args = 0..=1, value_parser = parse_chunk_size,
          allow_negative_numbers = true)]
    pub(crate) bdat: Option<Option<usize>>,

    /// Ask for per-recipient replies after the message (PRDR; exit 30 if not offered)
    #[arg(long)]
    pub(crate) prdr: bool,
}

/// `--dsn-ret` values (RFC 3461 §4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum DsnRet {
    /// The whole message
    #[value(name = "FULL")]
    Full,
    /// Only the headers
    #[value(name = "HDRS")]
    Hdrs,
}

/// XCLIENT and XFORWARD (Postfix), PROXY protocol (HAProxy).
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "XCLIENT, XFORWARD and PROXY")]
pub(crate) struct XclientArgs {
    /// XCLIENT ADDR= (the client address to impersonate; a bare IPv6 one goes as IPV6:ADDR)
    #[arg(long, value_name = "IP")]
    pub(crate) xclient_addr: Option<String>,
    /// XCLIENT NAME= (the client's host name)
    #[arg(long, value_name = "NAME")]
    pub(crate) xclient_name: Option<String>,
    /// XCLIENT PORT=
    #[arg(long, value_name = "PORT")]
    pub(crate) xclient_port: Option<String>,
    /// XCLIENT PROTO= (SMTP or ESMTP)
    #[arg(long, value_name = "PROTO")]
    pub(crate) xclient_proto: Option<String>,
    /// XCLIENT DESTADDR= (the server address; a bare IPv6 one goes as IPV6:ADDR)
    #[arg(long, value_name = "IP")]
    pub(crate) xclient_destaddr: Option<String>,
    /// XCLIENT DESTPORT=
    #[arg(long, value_name = "PORT")]
    pub(crate) xclient_destport: Option<String>,
    /// XCLIENT HELO=
    #[arg(long, value_name = "NAME")]
    pub(crate) xclient_helo: Option<String>,
    /// XCLIENT LOGIN=
    #[arg(long, value_name = "USER")]
    pub(crate) xclient_login: Option<String>,
    /// XCLIENT REVERSE_NAME=
    #[arg(long, value_name = "NAME")]
    pub(crate) xclient_reverse_name: Option<String>,
    /// A raw XCLIENT argument string, sent as its own command (repeatable)
    #[arg(long, value_name = "ATTRS")]
    pub(crate) xclient: Vec<String>,
    /// Send XCLIENT before STARTTLS instead of after
    #[arg(long)]
    pub(crate) xclient_before_starttls: bool,
    /// Carry on without XCLIENT when it is not offered or refused
    #[arg(long)]
    pub(crate) xclient_optional: bool,
    // --- XCLIENT command groups and strict optional mode (ext2) ---
    /// Carry on without XCLIENT when it is not offered; fail (exit 33) when it is refused
    #[arg(long)]
    pub(crate) xclient_optional_strict: bool,
    /// Start a new XCLIENT command here: the --xclient-* attributes before and after it go in
    /// separate commands (repeatable; ignored where no group would be split)
    // (A list of `true`s, one per occurrence: a counting flag keeps only its last position.)
    #[arg(long, num_args = 0, default_missing_value = "true", action = clap::ArgAction::Append)]
    pub(crate) xclient_delim: Vec<bool>,
    /// The --xclient-* attributes, --xclient strings and --xclient-delim marks in command-line
    /// order; `Cli::parse_args` fills it.
    #[arg(skip)]
    pub(crate) xclient_order: Vec<XclientItem>,
    /// Do not check XCLIENT attributes against the advertised list
    #[arg(long)]
    pub(crate) xclient_no_verify: bool,

    /// XFORWARD NAME=
    #[arg(long, value_name = "NAME")]
    pub(crate) xforward_name: Option<String>,
    /// XFORWARD ADDR=
    #[arg(long, value_name = "IP")]
    pub(crate) xforward_addr: Option<String>,
    /// XFORWARD PORT=
    #[arg(long, value_name = "PORT")]
    pub(crate) xforward_port: Option<String>,
    /// XFORWARD PROTO=
    #[arg(long, value_name = "PROTO")]
    pub(crate) xforward_proto: Option<String>,
    /// XFORWARD HELO=
    #[arg(long, value_name = "NAME")]
    pub(crate) xforward_helo: Option<String>,
    /// XFORWARD IDENT=
    #[arg(long, value_name = "ID")]
    pub(crate) xforward_ident: Option<String>,
    /// XFORWARD SOURCE= (LOCAL or REMOTE)
    #[arg(long, value_name = "WHERE")]
    pub(crate) xforward_source: Option<String>,

    // The PROXY options' values are taken as given and checked by the mode builder: a bad one
    // exits 35 with the other PROXY mistakes (swaks's "Error in PROXY option processing"), not
    // 1 as clap's refusal would.
    /// Send a PROXY protocol header of this version before the banner [default: 1 when any --proxy* is given] (exit 35 on bad values)
    #[arg(long, value_name = "1|2")]
    pub(crate) proxy_version: Option<String>,
    /// PROXY: address family [default: from --proxy-source]; UNKNOWN sends no addresses
    #[arg(long, value_name = "FAMILY", value_parser = AnyWordOf::<ProxyFamilyArg>::new())]
    pub(crate) proxy_family: Option<String>,
    /// PROXY v2: command, PROXY (a relayed client) or LOCAL (the proxy's own connection)
    #[arg(long, value_name = "COMMAND", value_parser = AnyWordOf::<ProxyCommandArg>::new())]
    pub(crate) proxy_command: Option<String>,
    /// PROXY v2: transport protocol, STREAM (TCP) or DGRAM (UDP) [default: STREAM]
    #[arg(long, value_name = "PROTOCOL", value_parser = AnyWordOf::<ProxyProtocolArg>::new())]
    pub(crate) proxy_protocol: Option<String>,
    /// PROXY: original client address
    #[arg(long, value_name = "IP")]
    pub(crate) proxy_source: Option<String>,
    /// PROXY: original client port
    #[arg(long, value_name = "PORT")]
    pub(crate) proxy_source_port: Option<String>,
    /// PROXY: address the client connected to
    #[arg(long, value_name = "IP")]
    pub(crate) proxy_dest: Option<String>,
    /// PROXY: port the client connected to
    #[arg(long, value_name = "PORT")]
    pub(crate) proxy_dest_port: Option<String>,
    /// A raw PROXY header: TEXT, sent as "PROXY TEXT" (CRLF added; with --proxy-version 2 the
    /// text follows the v2 signature), base64:DATA (sent as decoded) or @FILE (sent byte for
    /// byte; @@X is the text @X)
    #[arg(long, value_name = "TEXT|base64:DATA|@FILE", value_hint = ValueHint::FilePath)]
    pub(crate) proxy: Option<String>,
}

/// One XCLIENT option in command-line order (swaks's `--xclient-delim` groups).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum XclientItem {
    /// An attribute option, by its XCLIENT name (`ADDR`, `NAME`, ...).
    Attr(&'static str),
    /// A raw `--xclient` string: a command of its own.
    Raw(String),
    /// `--xclient-delim`: end the current group.
    Delim,
}

/// The XCLIENT attribute options: clap id and XCLIENT name, in Postfix's documented order.
pub(crate) const XCLIENT_ATTRS: [(&str, &str); 9] = [
    ("xclient_addr", "ADDR"),
    ("xclient_name", "NAME"),
    ("xclient_port", "PORT"),
    ("xclient_proto", "PROTO"),
    ("xclient_helo", "HELO"),
    ("xclient_login", "LOGIN"),
    ("xclient_destaddr", "DESTADDR"),
    ("xclient_destport", "DESTPORT"),
    ("xclient_reverse_name", "REVERSE_NAME"),
];

/// A value parser that takes any word as it is, while `--help`, the man page and the completions
/// list `E`'s values: for options whose values the mode builder checks, so that a bad one gets
/// that option's exit code rather than clap's usage error (the PROXY options: 35, as in swaks).
/// The mode builder matches the word with [`ValueEnum::from_str`], case ignored.
#[derive(Clone)]
pub(crate) struct AnyWordOf<E>(std::marker::PhantomData<E>);

impl<E> AnyWordOf<E> {
    fn new() -> Self {
        AnyWordOf(std::marker::PhantomData)
    }
}

impl<E: ValueEnum + Clone + Send + Sync + 'static> clap::builder::TypedValueParser
    for AnyWordOf<E>
{
    type Value = String;

    fn parse_ref(
        &self,
        _cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        Ok(value.to_string_lossy().into_owned())
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(
            E::value_variants()
                .iter()
                .filter_map(ValueEnum::to_possible_value),
        ))
    }
}

/// `--proxy-family` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ProxyFamilyArg {
    /// TCP over IPv4 (swaks's v2 name: AF_INET)
    #[value(name = "TCP4", aliases = ["INET", "AF_INET"])]
    Tcp4,
    /// TCP over IPv6 (AF_INET6)
    #[value(name = "TCP6", aliases = ["INET6", "AF_INET6"])]
    Tcp6,
    /// Unknown addresses (v1 `PROXY UNKNOWN`, v2 AF_UNSPEC)
    #[value(name = "UNKNOWN", aliases = ["UNSPEC", "AF_UNSPEC"])]
    Unknown,
    /// UNIX socket paths in --proxy-source/--proxy-dest (v2 only)
    #[value(name = "AF_UNIX", alias = "UNIX")]
    Unix,
}

/// `--proxy-command` values (PROXY protocol v2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ProxyCommandArg {
    /// A relayed client connection
    #[value(name = "PROXY")]
    Proxy,
    /// The proxy's own connection (health check)
    #[value(name = "LOCAL")]
    Local,
}

/// `--proxy-protocol` values (PROXY protocol v2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ProxyProtocolArg {
    /// SOCK_STREAM (TCP)
    #[value(name = "STREAM")]
    Stream,
    /// SOCK_DGRAM (UDP)
    #[value(name = "DGRAM")]
    Dgram,
}

fn parse_dsn_notify(s: &str) -> Result<String, String> {
    crate::smtp::ext::parse_notify(s)
}

fn parse_chunk_size(s: &str) -> Result<usize, String> {
    match parse_size(s)? {
        0 => Err("the chunk size must be at least 1 octet".into()),
        n => Ok(n),
    }
}

// ---- Configuration layering (src/cli/layers.rs reads these before clap sees the merged argv) --

/// Config file and environment layering (swaks's `.swaksrc` / `SWAKS_OPT_*`).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Configuration")]
pub(crate) struct ConfigArgs {
    /// Read options from FILE [default: $XDG_CONFIG_HOME/ehlo/config or ~/.config/ehlo/config]
    ///
    /// One option per line, leading dashes optional, # starts a comment line; the value is
    /// everything after the first space, taken literally (NAME=VALUE: everything after the
    /// first =, spaces included). Without --config: $EHLO_CONFIG, else swaks's $SWAKS_OPT_config
    /// (empty: none), else the default (each must be a regular file; --config may name a pipe);
    /// --no-config or EHLO_NO_CONFIG reads none.
    /// Precedence: config file < swaks's SWAKS_OPT_* variables (SWAKS_OPT_auth_user=me)
    /// < EHLO_* variables (EHLO_AUTH_USER=me is --auth-user me; empty = flag without value) <
    /// command line. --no-OPTION unsets OPTION from the lower layers and earlier on the command
    /// line (--no-from, --no-tls); --no-header-NAME drops the --header lines for NAME only (swaks
    /// drops them all), --no-header all of them. The file and SWAKS_OPT_* apply to the one-shot
    /// send only; a subcommand reads EHLO_* for its own flags below its command line, except
    /// the port, server, recipients and login (ehlo check --timeout: EHLO_TIMEOUT).
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath, conflicts_with = "no_config")]
    pub(crate) config: Option<PathBuf>,

    /// Do not read a config file (EHLO_NO_CONFIG too; SWAKS_OPT_* and EHLO_* still apply)
    #[arg(long)]
    pub(crate) no_config: bool,

    /// Print the effective options (file, environment, command line), secrets redacted, and exit
    #[arg(long)]
    pub(crate) dump_config: bool,

    /// Print what this build supports (TLS library, AUTH mechanisms, transports, …) and exit
    #[arg(long)]
    pub(crate) support: bool,

    /// The merged command line (after layering), for `--dump`'s and `--dump-as-body`'s "Cmd
    /// Line"; `cli::parse` fills it.
    #[arg(skip)]
    pub(crate) command_line: Vec<String>,
}

// `ehlo serve` flags (→ `serve::ServeOptions`). No doc comment: under `defer` clap would take it
// for the subcommand's about, over the variant's (see [`Command`]).
#[derive(Debug, Args)]
#[command(
    mut_args = negative_numbers_are_values,
    after_long_help = SERVE_LONG_HELP
)]
pub(crate) struct ServeArgs {
    /// Address to listen on: ADDR:PORT, [IPv6]:PORT ([fe80::1%eth0]:PORT with its zone), or
    /// HOST:PORT for every address the name resolves to (port 0 picks a free port)
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:2525")]
    pub(crate) listen: String,

    /// Implicit TLS on every connection
    // From the command line only: an `EHLO_TLS_ON_CONNECT` set for sends must not turn a local
    // sink into an implicit-TLS one that the application under test cannot talk to.
    #[arg(
        long,
        visible_alias = "tlsc",
        conflicts_with = "starttls",
        hide_env = true
    )]
    pub(crate) tls_on_connect: bool,

    /// Offer STARTTLS
    #[arg(long)]
    pub(crate) starttls: bool,

    /// Certificate (PEM) [default: a generated self-signed one]
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath, requires = "tls_key", hide_env = true)]
    pub(crate) tls_cert: Option<PathBuf>,

    /// Private key (PEM: PKCS#8, PKCS#1 or SEC1)
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath, requires = "tls_cert", hide_env = true)]
    pub(crate) tls_key: Option<PathBuf>,

    /// Accept these credentials for AUTH (repeatable, one per name)
    // Checked in `cli::mode::serve`, not by a value parser: clap's error would quote the value,
    // password included.
    #[arg(long, value_name = "NAME:PASS", hide_env_values = true)]
    pub(crate) user: Vec<String>,

    /// Accept any credentials
    #[arg(long)]
    pub(crate) accept_any_auth: bool,

    /// Offer AUTH before STARTTLS too (by default AUTH waits for TLS when --starttls is given)
    #[arg(long)]
    pub(crate) auth_before_tls: bool,

    /// Refuse MAIL with 530 5.7.0 until the client started TLS (RFC 3207 §4), as a submission
    /// server does
    #[arg(long)]
    pub(crate) require_tls: bool,

    /// Refuse MAIL with 530 5.7.0 until the client authenticated (RFC 4954 §6), as a
    /// submission server does: a client that goes on after a failed AUTH fails here too
    #[arg(long)]
    pub(crate) require_auth: bool,

    /// Inject a failure (repeatable), e.g. rcpt=550:5.1.1, data=452, connect=421
    #[arg(long, value_name = "SPEC", long_help = crate::cli::serve_specs::FAIL_HELP)]
    pub(crate) fail: Vec<String>,

    /// Wait before answering a command (repeatable), e.g. data:2000
    #[arg(long, value_name = "CMD:MS", value_parser = parse_delay)]
    pub(crate) delay: Vec<String>,

    /// Do not advertise this EHLO extension (repeatable), e.g. PIPELINING
    #[arg(long, value_name = "EXT")]
    pub(crate) hide: Vec<String>,

    /// Speak LMTP (LHLO, one reply per recipient after DATA)
    #[arg(long)]
    pub(crate) lmtp: bool,

    /// Largest message accepted (advertised as SIZE): bytes, or with K/M/G (binary units); 0 =
    /// no limit, advertised as a bare SIZE (RFC 1870 §4; the content is streamed, so memory
    /// stays bounded)
    #[arg(long, value_name = "SIZE", default_value = "10MiB", value_parser = parse_size)]
    pub(crate) max_size: usize,

    /// Free space to keep on the --maildir/--mbox file system (and TMPDIR's, for the mbox):
    /// below it MAIL and the message get 452 4.3.1, as Postfix's queue_minfree; 0 = no
    /// reserve (a full disk is still 452 4.3.1); without --maildir/--mbox it does nothing (a
    /// warning says so) [default: 10MiB]
    // No clap default: whether it was given decides that warning (`serve::idle_flags`).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub(crate) min_free: Option<usize>,

    /// Store received messages in this Maildir
    #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath)]
    pub(crate) maildir: Option<PathBuf>,

    /// Append received messages to this mbox file
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub(crate) mbox: Option<PathBuf>,

    /// Seed for the server's randomness (reproducible runs)
    #[arg(long, value_name = "N", value_parser = parse_u64)]
    pub(crate) seed: Option<u64>,

    /// Host name in the banner and the EHLO reply: a domain or an address literal ([192.0.2.1])
    #[arg(long, value_name = "NAME", default_value = "ehlo.serve")]
    pub(crate) hostname: String,

    /// Exit after N sessions, for scripts and tests
    #[arg(long, value_name = "N", value_parser = u64_in(1..=i64::MAX))]
    pub(crate) max_sessions: Option<u64>,

    /// Open connections allowed at once; one more is answered 421 4.3.2 and closed
    #[arg(long, value_name = "N", default_value_t = 256, value_parser = u64_in(1..=1_000_000))]
    pub(crate) max_connections: u64,

    /// Time allowed for each complete command, twice that for a message's content, then 421
    /// 4.4.2 (RFC 5321 §4.5.3.2.7), and for a TLS handshake; 0 turns it off
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
    pub(crate) idle_timeout: Duration,

    /// Once a client is turned away because every --max-connections slot is in use (busy, as
    /// Postfix's stress mode), the time each open session has left, then 421 4.4.2; 0 turns it
    /// off
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub(crate) busy_timeout: Duration,

    /// Failed AUTH attempts per connection before 421 4.7.0 and close (each failure waits a
    /// little longer); 0 = no limit; without --user/--accept-any-auth it does nothing (a
    /// warning says so) [default: 3]
    // No clap default: whether it was given decides that warning (`serve::idle_flags`).
    #[arg(long, value_name = "N")]
    pub(crate) max_auth_failures: Option<u32>,

    /// Errors a client may make (replies 500-504: unknown commands, bad syntax, bad sequence)
    /// without a message delivered: the last is answered, then 421 4.7.0 and close; 1 while
    /// busy, as Postfix's stress mode; 0 = no limit
    #[arg(long, value_name = "N", default_value_t = crate::serve::HARD_ERROR_LIMIT)]
    pub(crate) hard_error_limit: u32,

    /// NOOP, RSET, VRFY and HELP commands a client may send without a message delivered; each
    /// one past it counts as an error (--hard-error-limit); 1 while busy; 0 = no limit
    #[arg(long, value_name = "N", default_value_t = crate::serve::JUNK_COMMAND_LIMIT)]
    pub(crate) junk_command_limit: u32,

    /// Errors (as --hard-error-limit counts them) a client may make without a message delivered
    /// before every further reply waits --error-sleep-time, as Postfix's smtpd_soft_error_limit;
    /// 0 = no limit
    #[arg(long, value_name = "N", default_value_t = crate::serve::SOFT_ERROR_LIMIT)]
    pub(crate) soft_error_limit: u32,

    /// Wait MS milliseconds before each reply once a client is past --soft-error-limit
    /// (Postfix's smtpd_error_sleep_time, 1s); 0 turns it off; as long as --idle-timeout or
    /// longer, a start warning says so
    #[arg(long, value_name = "MS", default_value_t = 1000, value_parser = u64_in(0..=60_000))]
    pub(crate) error_sleep_time: u64,

    /// One line per stored message (plus warnings and errors) instead of the whole transcript:
    /// for a sink under load
    #[arg(long)]
    pub(crate) quiet: bool,

    /// Behave like a vulnerable MTA (repeatable): bare-lf-dot, starttls-keep, disclose-users, answer-unsynced
    #[arg(long, value_name = "NAME", long_help = crate::cli::serve_specs::QUIRK_HELP,
          value_parser = clap::builder::PossibleValuesParser::new(crate::cli::serve_specs::QUIRK_NAMES))]
    pub(crate) quirk: Vec<String>,

    /// Wait MS milliseconds before the greeting and refuse a client that talks first (554
    /// 5.5.1, RFC 5321 §4.3.1), as postscreen's greet wait does; 0 = greet at once
    #[arg(long, value_name = "MS", default_value_t = 0, value_parser = u64_in(0..=60_000))]
    pub(crate) greet_pause: u64,

    /// Read a PROXY protocol header (HAProxy v1 or v2) before the greeting, as a server behind
    /// a proxy does (HAProxy's accept-proxy, Postfix's smtpd_upstream_proxy_protocol): each
    /// connection must start with one, within --proxy-timeout; the client it names is shown as
    /// the connection's
    #[arg(long)]
    pub(crate) accept_proxy: bool,

    /// Time a connection has to send its whole PROXY header (--accept-proxy), then 421 4.3.0
    /// and close, as Postfix's smtpd_upstream_proxy_timeout
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_positive_duration,
          requires = "accept_proxy")]
    pub(crate) proxy_timeout: Duration,

    /// Print JSON Lines events instead of the transcript
    #[arg(long)]
    pub(crate) json: bool,

    /// When to use colour
    #[arg(long, value_name = "WHEN", value_enum, default_value_t = ColorChoice::Auto)]
    pub(crate) color: ColorChoice,
}

const CHECK_LONG_HELP: &str = "\
Checks (status pass, info, skip, warn, fail, or error = could not be tested):
  domain:  mx.lookup mx.null mx.target ipv6.mx mtasts.txt mtasts.fetch mtasts.policy
           mtasts.mx-match tlsrpt.record spf.record dmarc.record dkim.hint
           dnssec.domain dnssec.mx dane.tlsa dane.usable dane.rollover
  per MX address (probed once per run, shared by every domain using it):
           smtp.connect smtp.banner smtp.ehlo smtp.banner-name tls.starttls tls.handshake
           tls.cert.chain tls.cert.name tls.cert.expiry tls.cert.key dane.starttls dane.match
           rdns.fcrdns
  opt-in:  smtp.postmaster (--rcpt-probe) smtp.open-relay (--relay-probe)
           tls.versions (--tls-probe)
A 421 greeting (\"too many connections\") is an error (could not test), never \"no STARTTLS\".
Certificate chain and name problems are warnings on port 25 unless an MTA-STS policy (testing
or enforce mode) covers the MX or an --expect says otherwise, and failures on implicit TLS and
on ports 465 and 587, whose submission clients verify (RFC 8314 §5.3): --cert-problems chooses.
The MTA-STS policy is fetched over HTTPS (certificate verified for mta-sts.DOMAIN, redirects
not followed).
check never sends DATA, and sends MAIL and RCPT only for --rcpt-probe and --relay-probe
(then QUIT).

Exit codes: 0 every check and expectation met; 40 a check failed or an --expect was not met;
41 nothing failed but something could not be tested (DNS, network, 421, timeout), an --expect
then not decided, its reason said, or --deadline or a signal cut the run (41 whatever the
domains it reached found: which ones it reached is timing); --untested-ok makes it 0 unless
--deadline or a signal cut the run or an --expect was not decided; 1 usage; 10 no DNS
resolver could be set up (/etc/resolv.conf missing, unreadable or naming none, without
--dns-server).
A check that a met --expect ID=STATUS asked for does not count (--expect dmarc.record=fail
met exits 0).

Examples:
  Check two domains, fail the pipeline on any failure:
    ehlo check example.com example.net
  Require STARTTLS and at least 21 days of certificate validity on every MX:
    ehlo check example.com --expect tls.starttls=pass --expect 'tls.cert.days>=21'
  A list of domains, JSON Lines for jq, a known DMARC issue waived:
    ehlo check @domains.txt --json --waive dmarc.record@example.org
  Only the DNS records, no SMTP connections:
    ehlo check example.com --only 'mx.*' --only '*.record' --only mtasts.txt";

// `ehlo check` flags (→ `check::CheckConfig`). No doc comment: under `defer` clap would take it
// for the subcommand's about, over the variant's (see [`Command`]).
#[derive(Debug, Args)]
#[command(
    mut_args = negative_numbers_are_values,
    after_long_help = CHECK_LONG_HELP
)]
pub(crate) struct CheckArgs {
    /// Domains to check; @FILE reads one per line (# comments), - reads them from stdin
    #[arg(value_name = "DOMAIN|@FILE|-", required_unless_present = "host")]
    pub(crate) domains: Vec<String>,

    /// Check this one server: alone (a host name or an IP address), its per-address checks
    /// only (smtp.*, tls.*, rdns.fcrdns), on --port; with domains, as their MX in place of
    /// their MX records (a new MX before the DNS change)
    ///
    /// With domains, HOST must be a host name; the MX records are not looked up (mx.lookup says
    /// so) and each domain's MTA-STS mx patterns, TLSA records at _PORT._tcp.HOST, SPF, DMARC
    /// and TLS-RPT are judged against HOST, probed once for all of them.
    // From the command line only, as the port and the TLS mode: a variable left set would turn
    // every check of a list into a check of one server.
    // With domains: `CheckConfig::mx_host` (`cli::mode::check`).
    #[arg(long, value_name = "HOST", hide_env = true)]
    pub(crate) host: Option<String>,

    /// Connect to this address for --host HOST instead of HOST's DNS addresses (a server not
    /// yet in DNS); the name is still what is judged (repeatable or comma-separated)
    ///
    /// The certificate is verified against HOST, MTA-STS mx patterns and TLSA records at
    /// _PORT._tcp.HOST name HOST; only the TCP connection goes to IP (an IPv6 address with or
    /// without brackets; the port is --port's), as curl's --connect-to. HOST's own A/AAAA
    /// records are not asked (mx.target says so, JSON evidence address_source "--connect-to"),
    /// so dnssec.mx is a skip naming --connect-to; its TLSA records are still looked up.
    // From the command line only, as --host: a variable left set would send every check's
    // connection to one address.
    #[arg(long, value_name = "IP", requires = "host", value_delimiter = ',',
          value_parser = parse_connect_to, hide_env = true)]
    pub(crate) connect_to: Vec<IpAddr>,

    /// Print JSON Lines (one line per check, per domain, and a summary) instead of the report
    #[arg(long)]
    pub(crate) json: bool,

    /// Also write the results as JUnit XML to FILE (a testsuite per domain, a testcase per check)
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub(crate) junit: Option<PathBuf>,

    /// Require a result (repeatable): ID=STATUS (tls.starttls=pass) or FIELD OP VALUE
    /// (tls.version>=1.2, tls.cert.days>=21, mx.count>=2; OP one of = != >= <= > <) or ID.KEY
    /// OP VALUE, KEY a dotted path into nested evidence
    /// (tls.cert.chain.chain.0.subject=CN=mx.example.com); a check a met ID=STATUS asked for
    /// does not count (dmarc.record=fail met: no exit 40)
    #[arg(long, value_name = "EXPR")]
    pub(crate) expect: Vec<String>,

    /// Which statuses fail the run (exit 40)
    #[arg(long, value_name = "LEVEL", value_enum, default_value_t = crate::check::model::FailOn::Fail)]
    pub(crate) fail_on: crate::check::model::FailOn,

    /// Exit 0, not 41, when nothing failed but something could not be tested (a DNS or network
    /// error, a timeout); the report still shows it. A run cut by --deadline or a signal still
    /// exits 41
    #[arg(long)]
    pub(crate) untested_ok: bool,

    /// A known issue (repeatable): reported, but not counted in the verdict; DOMAIN may be *
    #[arg(long, value_name = "ID-GLOB@DOMAIN")]
    pub(crate) waive: Vec<String>,

    /// Run only these checks (repeatable; * matches any characters, e.g. tls.*). A session step
    /// left out (smtp.connect, smtp.banner, smtp.ehlo, tls.starttls, tls.handshake) that failed
    /// or could not be tested, so that a selected check after it was skipped, is still reported
    /// and judged as in a full run: --only 'tls.*' against an MX refusing connections fails
    #[arg(long, value_name = "ID-GLOB")]
    pub(crate) only: Vec<String>,

    /// Leave out these checks (repeatable; * matches any characters); a failed session step left
    /// out is still reported and judged when a check after it was skipped, as with --only
    #[arg(long, value_name = "ID-GLOB")]
    pub(crate) skip: Vec<String>,

    /// Domains checked at once, 1 to 1000. Each holds some 40-60 KB while in flight, and DNS
    /// lookups are capped at 256 at once: more domains only help while MX hosts are slow to answer
    #[arg(long, value_name = "N", default_value_t = 32,
          value_parser = clap::value_parser!(u32).range(1..=MAX_CONCURRENCY))]
    pub(crate) concurrency: u32,

    /// SMTP connections at once to one address
    #[arg(long, value_name = "N", default_value_t = 2,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub(crate) per_ip: u32,

    /// Stop the whole run after this long and report what is done (N, Ns, Nm or Nh)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub(crate) deadline: Option<Duration>,

    /// Timeout of each step: connect, each reply, the TLS handshake (N, Ns, Nm or Nh; 0 = none)
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub(crate) timeout: Duration,

    /// Warn when a certificate expires in fewer days than this
    #[arg(long, value_name = "N", default_value_t = 14)]
    pub(crate) cert_days: u32,

    /// What a certificate chain or name problem (tls.cert.chain, tls.cert.name) is: auto fails
    /// it on implicit TLS and on ports 465 and 587, whose clients verify (RFC 8314 §5.3), and
    /// warns elsewhere, as on port 25, where MTAs encrypt without verifying (RFC 7435)
    ///
    /// An MTA-STS policy (testing or enforce) covering the MX makes them failures whatever this
    /// says; a name matched by the subject CN alone stays a warning.
    #[arg(long, value_name = "LEVEL", value_enum,
          default_value_t = crate::check::model::CertProblems::Auto)]
    pub(crate) cert_problems: crate::check::model::CertProblems,

    /// Also probe MX addresses in loopback, private and other special-purpose ranges (RFC 6890)
    #[arg(long)]
    pub(crate) allow_private: bool,

    /// Also check that every MX accepts MAIL FROM:<> and RCPT TO:<postmaster@DOMAIN>
    /// (smtp.postmaster; one more session per domain and MX address, then QUIT, never DATA)
    #[arg(long)]
    pub(crate) rcpt_probe: bool,

    /// Also check that every MX refuses RCPT TO:<relay-probe@example.net> from us
    /// (smtp.open-relay; one more session per MX address, then QUIT, never DATA)
    #[arg(long)]
    pub(crate) relay_probe: bool,

    /// Also find which TLS versions each MX accepts (tls.versions; one more connection per
    /// version: 1.0, 1.1, 1.2, 1.3)
    #[arg(long)]
    pub(crate) tls_probe: bool,

    /// SMTP port to probe on every MX, a number or a service name (a staging MTA or a test;
    /// mail exchange uses 25) [default: 25; 465 with --tls-on-connect]
    #[arg(short = 'p', long, value_name = "PORT|SERVICE", value_parser = parse_service_port, hide_env = true)]
    pub(crate) port: Option<u16>,

    /// Start TLS right after connecting (implicit TLS, default port 465) instead of STARTTLS:
    /// judges a submissions listener's certificate, version and cipher (tls.starttls skipped)
    #[arg(long, visible_alias = "tlsc", hide_env = true)]
    pub(crate) tls_on_connect: bool,

    /// HTTPS port of the MTA-STS policy host (RFC 8461 fixes 443; for tests)
    #[arg(long, value_name = "PORT", default_value_t = 443, hide = true)]
    pub(crate) mta_sts_port: u16,

    /// Name to greet with in EHLO [default: this host's name]
    #[arg(long, value_name = "NAME")]
    pub(crate) helo: Option<String>,

    /// DNS server to ask instead of the system's: IP[:PORT] (port defaults to 53)
    #[arg(long, value_name = "IP[:PORT]", value_parser = parse_dns_server)]
    pub(crate) dns_server: Option<SocketAddr>,

    /// DNSSEC for the dnssec.* and dane.* checks: validate, trust-ad or off [default: validate]
    ///
    /// validate: ehlo checks the signatures itself from the root trust anchors (or
    /// --dns-trust-anchor); trust-ad: believe the AD bit of the resolver; off: the DNSSEC and
    /// DANE checks are skipped. The other checks never depend on it.
    #[arg(long, value_name = "MODE", value_enum)]
    pub(crate) dnssec: Option<DnssecArg>,

    /// Trust the DNSKEY records in FILE (zone-file lines) instead of the root anchors (with
    /// --dnssec validate; for private and test zones)
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub(crate) dns_trust_anchor: Option<PathBuf>,

    /// CA certificates to trust instead of the system store: a PEM file or a directory of them
    #[arg(long, value_name = "PATH", value_hint = ValueHint::AnyPath)]
    pub(crate) tls_ca_path: Option<PathBuf>,

    /// Use IPv4 only
    #[arg(short = '4', long = "ipv4", conflicts_with = "ipv6")]
    pub(crate) ipv4: bool,

    /// Use IPv6 only
    #[arg(short = '6', long = "ipv6")]
    pub(crate) ipv6: bool,

    /// When to use colour
    #[arg(long, value_name = "WHEN", value_enum, default_value_t = ColorChoice::Auto)]
    pub(crate) color: ColorChoice,
}

// `ehlo demo` flags. No doc comment: under `defer` clap would take it
// for the subcommand's about, over the variant's (see [`Command`]).
#[derive(Debug, Args)]
#[command(mut_args = negative_numbers_are_values)]
pub(crate) struct DemoArgs {
    /// Print JSON Lines events instead of the transcript
    #[arg(long)]
    pub(crate) json: bool,

    /// When to use colour
    #[arg(long, value_name = "WHEN", value_enum, default_value_t = ColorChoice::Auto)]
    pub(crate) color: ColorChoice,
}

/// `--server` as given: the host and the port if one was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ServerSpec {
    /// Host name or IP literal, without brackets.
    pub(crate) host: String,
    /// Port from the argument, if any.
    pub(crate) port: Option<u16>,
}

/// `--protocol` values (swaks's table: SMTP, ESMTP, LMTP and their S/A variants).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ProtocolArg {
    /// HELO only
    #[value(name = "SMTP")]
    Smtp,
    /// EHLO, falling back to HELO
    #[value(name = "ESMTP")]
    Esmtp,
    /// LHLO, port 24
    #[value(name = "LMTP")]
    Lmtp,
    /// ESMTP with TLS on connect, port 465
    #[value(name = "SSMTP")]
    Ssmtp,
    /// SSMTP with AUTH
    #[value(name = "SSMTPA")]
    Ssmtpa,
    /// HELO with TLS on connect, port 465
    #[value(name = "SMTPS")]
    Smtps,
    /// ESMTP with AUTH
    #[value(name = "ESMTPA")]
    Esmtpa,
    /// ESMTP with STARTTLS
    #[value(name = "ESMTPS")]
    Esmtps,
    /// ESMTP with STARTTLS and AUTH
    #[value(name = "ESMTPSA")]
    Esmtpsa,
    /// LMTP with AUTH
    #[value(name = "LMTPA")]
    Lmtpa,
    /// LMTP with STARTTLS
    #[value(name = "LMTPS")]
    Lmtps,
    /// LMTP with STARTTLS and AUTH
    #[value(name = "LMTPSA")]
    Lmtpsa,
}

/// What a `--protocol` value implies (as in swaks): the greeting and which TLS/AUTH flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Implied {
    /// Greeting verb.
    pub(crate) protocol: Protocol,
    /// `--tls-on-connect`.
    pub(crate) tls_on_connect: bool,
    /// `--tls`.
    pub(crate) starttls: bool,
    /// `--auth`.
    pub(crate) auth: bool,
}

impl ProtocolArg {
    /// The greeting and the flags this protocol implies. Ports follow from these (465 with
    /// TLS on connect, 24 for LMTP), so they are not repeated here.
    pub(crate) fn implies(self) -> Implied {
        use ProtocolArg as P;
        let protocol = match self {
            P::Smtp | P::Smtps => Protocol::Smtp,
            P::Lmtp | P::Lmtpa | P::Lmtps | P::Lmtpsa => Protocol::Lmtp,
            _ => Protocol::Esmtp,
        };
        Implied {
            protocol,
            tls_on_connect: matches!(self, P::Ssmtp | P::Ssmtpa | P::Smtps),
            starttls: matches!(self, P::Esmtps | P::Esmtpsa | P::Lmtps | P::Lmtpsa),
            auth: matches!(
                self,
                P::Ssmtpa | P::Esmtpa | P::Esmtpsa | P::Lmtpa | P::Lmtpsa
            ),
        }
    }
}

/// Stop points for the drop options (swaks's stop points). Aliases are swaks's synonyms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum StopPoint {
    /// After connecting (the banner)
    #[value(name = "CONNECT", alias = "BANNER")]
    Connect,
    /// After sending the PROXY header (--quit-after: after the banner, as swaks)
    #[value(name = "PROXY")]
    Proxy,
    /// After the first EHLO/HELO/LHLO
    #[value(name = "FIRST-HELO", aliases = ["FIRST-EHLO", "FIRST-LHLO"])]
    FirstHelo,
    /// After XCLIENT
    #[value(name = "XCLIENT")]
    Xclient,
    /// After the EHLO that follows XCLIENT
    #[value(name = "XCLIENT-HELO", aliases = ["XCLIENT-EHLO", "XCLIENT-LHLO"])]
    XclientHelo,
    /// After STARTTLS
    #[value(name = "TLS", alias = "STARTTLS")]
    Tls,
    /// After the last EHLO/HELO/LHLO
    #[value(name = "HELO", aliases = ["EHLO", "LHLO"])]
    Helo,
    /// After AUTH
    #[value(name = "AUTH")]
    Auth,
    /// After MAIL FROM
    #[value(name = "MAIL", alias = "FROM")]
    Mail,
    /// After the last RCPT TO
    #[value(name = "RCPT", alias = "TO")]
    Rcpt,
    /// After DATA
    #[value(name = "DATA")]
    Data,
    /// After the final dot
    #[value(name = "DOT")]
    Dot,
}

impl StopPoint {
    /// The core's stop point.
    pub(crate) fn at(self) -> StopAt {
        match self {
            StopPoint::Connect => StopAt::Connect,
            StopPoint::Proxy => StopAt::Proxy,
            StopPoint::FirstHelo => StopAt::FirstHelo,
            StopPoint::Xclient => StopAt::Xclient,
            StopPoint::XclientHelo => StopAt::XclientHelo,
            StopPoint::Tls => StopAt::Tls,
            StopPoint::Helo => StopAt::Helo,
            StopPoint::Auth => StopAt::Auth,
            StopPoint::Mail => StopAt::Mail,
            StopPoint::Rcpt => StopAt::Rcpt,
            StopPoint::Data => StopAt::Data,
            StopPoint::Dot => StopAt::Dot,
        }
    }
}

/// A stop point valid for `--quit-after`: every [`StopPoint`] except DATA and DOT (QUIT cannot
/// be sent in the middle of DATA, so swaks offers those to the drop options only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct QuitPoint(pub(crate) StopPoint);

impl ValueEnum for QuitPoint {
    fn value_variants<'a>() -> &'a [Self] {
        &[
            QuitPoint(StopPoint::Proxy),
            QuitPoint(StopPoint::Connect),
            QuitPoint(StopPoint::FirstHelo),
            QuitPoint(StopPoint::Xclient),
            QuitPoint(StopPoint::XclientHelo),
            QuitPoint(StopPoint::Tls),
            QuitPoint(StopPoint::Helo),
            QuitPoint(StopPoint::Auth),
            QuitPoint(StopPoint::Mail),
            QuitPoint(StopPoint::Rcpt),
        ]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        self.0.to_possible_value()
    }
}

fn parse_secret(s: &str) -> Result<Secret, String> {
    Ok(Secret::new(s))
}

/// A `u64` flag's value within `range`, read as clap reads the narrower integers (as `i64`, then
/// the range checked): `-1` is "-1 is not in 1..=1000000", where clap's own `u64` parser said
/// "invalid digit found in string".
fn u64_in(
    range: std::ops::RangeInclusive<i64>,
) -> impl clap::builder::TypedValueParser<Value = u64> {
    use clap::builder::TypedValueParser;
    clap::value_parser!(i64).range(range).map(i64::unsigned_abs)
}

/// A `u64` flag's value over its whole range; a negative or non-numeric value is named as such.
fn parse_u64(s: &str) -> Result<u64, String> {
    s.parse()
        .map_err(|_| format!("'{s}' is not a whole number (0-{})", u64::MAX))
}

fn parse_port(s: &str) -> Result<u16, String> {
    match s.parse::<u16>() {
        Ok(0) | Err(_) => Err(format!("'{s}' is not a port number (1-65535)")),
        Ok(p) => Ok(p),
    }
}

/// `--server`: `HOST`, `HOST:PORT`, `[HOST]`, `[HOST]:PORT`, `HOST/PORT`, or a bare IPv6
/// address (more than one colon and no brackets cannot be `HOST:PORT`); an IPv6 address may
/// carry its zone (`fe80::1%eth0`, `[fe80::1%2]:25`: RFC 4007 §11). The port may be a
/// service name (`mx.example:submission`), as swaks's parse_server and getservbyname take it.
///
/// Nothing is trimmed: a blank before the port is the port's ([`parse_service_port`] refuses
/// it), one around the host is whitespace in the host (refused below), where swaks fails to
/// resolve or connect to it.
pub(crate) fn parse_server(s: &str) -> Result<ServerSpec, String> {
    // A list (`a:1,b:2`) is one value to swaks too: it looks the whole text up as one name and
    // exits 2. No host name or address holds a comma (RFC 1123 §2.1), so it is said here.
    if s.contains(',') {
        return Err(format!(
            "'{s}' is a list: one HOST[:PORT] a value (no host name holds a comma)"
        ));
    }
    let (host, port) = crate::net::route::split_server(s, parse_service_port)?;
    if host.chars().any(char::is_control) {
        return Err(format!("'{host}' contains a control character"));
    }
    if host.chars().any(char::is_whitespace) {
        return Err(format!("'{host}' contains whitespace"));
    }
    // A name DNS cannot be asked about (an empty label, one over 63 octets, an `xn--` label
    // that is no A-label: RFC 5891 §5.4) is refused before any query, as `--to`'s domain is.
    if crate::net::route::ip_literal(host).is_none() {
        let name = host.strip_suffix('.').unwrap_or(host);
        if let Some(why) = crate::net::route::unaskable(name) {
            return Err(format!("'{host}' cannot be looked up: {why}"));
        }
    }
    Ok(ServerSpec {
        host: host.to_string(),
        port,
    })
}

/// `IP[:PORT]` with IPv6 as `[ADDR]:PORT` or a bare `ADDR`; `default_port` when none is given.
fn parse_ip_port(s: &str, default_port: u16) -> Result<SocketAddr, String> {
    let s = s.trim();
    if let Ok(addr) = s.parse::<SocketAddr>() {
        // Port 0 is no server's port: refused here, as `parse_port` refuses it elsewhere, not
        // left to fail later as a lookup ("no connections available", exit 2).
        if addr.port() == 0 {
            parse_port("0")?;
        }
        return Ok(addr);
    }
    let bare = s
        .strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .unwrap_or(s);
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, default_port));
    }
    if let Some((ip, port)) = s.rsplit_once(':')
        && ip.parse::<IpAddr>().is_ok()
    {
        parse_port(port)?;
    }
    Err(format!(
        "'{s}' is not an IP address with an optional port (IPv6 as [ADDR]:PORT)"
    ))
}

fn parse_local_interface(s: &str) -> Result<ServerSpec, String> {
    parse_server(s)
}

/// The mail services by name, for systems without /etc/services (minimal containers).
const MAIL_SERVICES: &[(&str, u16)] = &[
    ("smtp", 25),
    ("mail", 25),
    ("lmtp", 24),
    ("submission", 587),
    ("smtps", 465),
    ("submissions", 465),
    ("urd", 465),
    ("ssmtp", 465),
];

/// `--port`: a number (1-65535) or a TCP service name, looked up in /etc/services first, then
/// in [`MAIL_SERVICES`] (swaks resolves names with getservbyname). A blank around it
/// (`-p ' 2525'`, `--server 'host: 2525'`) is refused as swaks refuses it ("unable to resolve
/// service name  2525 into a port"): it was trimmed and taken.
pub(crate) fn parse_service_port(s: &str) -> Result<u16, String> {
    if s.trim() != s {
        return Err(format!(
            "'{s}' has a blank around it: a port is a number (1-65535) or a service name with nothing else"
        ));
    }
    let t = s;
    let digits = t.strip_prefix('-').unwrap_or(t);
    if digits.bytes().all(|b| b.is_ascii_digit()) && !digits.is_empty() {
        return match t.parse::<u16>() {
            Ok(0) | Err(_) => Err(format!("'{t}' is not a port (1-65535)")),
            Ok(p) => Ok(p),
        };
    }
    if let Ok(text) = std::fs::read_to_string("/etc/services")
        && let Some(p) = service_in(&text, t)
    {
        return Ok(p);
    }
    MAIL_SERVICES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(t))
        .map(|(_, p)| *p)
        .ok_or_else(|| format!("'{t}' is neither a port number nor a known TCP service name"))
}

/// The TCP port of service `name` (or one of its aliases) in /etc/services text.
fn service_in(text: &str, name: &str) -> Option<u16> {
    text.lines().find_map(|line| {
        let line = line.split('#').next().unwrap_or_default();
        let mut words = line.split_whitespace();
        let service = words.next()?;
        let (port, proto) = words.next()?.split_once('/')?;
        let named = service == name || words.any(|alias| alias == name);
        (named && proto == "tcp")
            .then(|| port.parse().ok())
            .flatten()
    })
}

fn parse_dns_server(s: &str) -> Result<SocketAddr, String> {
    parse_ip_port(s, 53)
}

/// `ehlo check --connect-to`: an IP address, an IPv6 one with or without brackets (`[::1]`, as
/// swaks's and curl's host:port spellings bracket it). A host name is refused (the point is an
/// address DNS does not give yet), and so is a port (it is --port's, one for every address).
fn parse_connect_to(s: &str) -> Result<IpAddr, String> {
    let inner = s
        .strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .unwrap_or(s);
    if let Ok(ip) = inner.parse::<IpAddr>() {
        if inner != s && ip.is_ipv4() {
            return Err(format!("'{s}': only an IPv6 address goes in brackets"));
        }
        return Ok(ip);
    }
    if s.parse::<SocketAddr>().is_ok() {
        return Err(format!(
            "'{s}' has a port: give the address alone, the port is --port's"
        ));
    }
    Err(format!(
        "'{s}' is not an IP address: --connect-to takes the address HOST will have (IPv4, or IPv6 with or without brackets)"
    ))
}

/// Most domains `ehlo check` has in flight at once (`--concurrency`). Each holds some 40-60 KB
/// (its checks' state, its answers, its sessions'); DNS lookups wait for one of
/// [`crate::check::DNS_IN_FLIGHT`] permits and SMTP sessions for `--per-ip`, so past a few
/// hundred more domains at once only add memory: 3000 domains of DNS-only work peaked at 134 MB
/// at `--concurrency 3000`, 62 MB at 1000, 26 MB at 32, in the same time, so 10000 (the former
/// ceiling) held some 400 MB for nothing. A value over it is a usage error, exit 1.
pub(crate) const MAX_CONCURRENCY: i64 = 1000;

/// Longest duration taken ([`parse_duration`]): a year. Far longer than any SMTP timeout
/// (RFC 5321 4.5.3.2 suggests minutes), and far from what overflows a clock's instant when added
/// to it (a panic once, `u64::MAX` seconds).
pub(crate) const DURATION_MAX: Duration = Duration::from_secs(8760 * 3600);

/// `--timeout`: `N` or `Ns` seconds, `Nm` minutes, `Nh` hours (the unit in either case, as
/// swaks's `time_to_seconds` reads it); `0` means no timeout; at most [`DURATION_MAX`] (8760h).
/// Every duration flag and `:set timeout` read it. A blank around the value (`" 5s"`, `"5s "`,
/// quoted on the command line or left in a config file) is refused as swaks refuses it
/// (`^(\d+)([hms])?$`): it was trimmed and taken once.
/// [`parse_duration`], not zero (a limit that cannot be turned off).
fn parse_positive_duration(s: &str) -> Result<Duration, String> {
    match parse_duration(s)? {
        d if d.is_zero() => Err(format!("'{s}' is no time at all: give 1s or more")),
        d => Ok(d),
    }
}

pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    if s.trim() != s && !s.trim().is_empty() {
        return Err(format!(
            "'{s}' has a blank around it: a duration is N, Ns, Nm or Nh with nothing else"
        ));
    }
    let (digits, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => s.split_at(i),
        None => (s, ""),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("'{s}' is not a duration (N, Ns, Nm or Nh)"))?;
    let factor = |unit: &str| match unit.to_ascii_lowercase().as_str() {
        "" | "s" => Some(1),
        "m" => Some(60),
        "h" => Some(3600),
        _ => None,
    };
    if let Some((fraction, unit)) = fraction(unit)
        && let Some(f) = factor(unit)
    {
        // `1.5m` is 90s: say what to write when it is a whole number of seconds.
        let instead = in_whole_units(n, fraction, f, &[(1, "s")])
            .map(|w| format!(": write {w}"))
            .unwrap_or_default();
        return Err(format!(
            "'{s}' has a fraction: a duration is a whole number of seconds, minutes or hours \
             (N, Ns, Nm or Nh){instead}"
        ));
    }
    let Some(factor) = factor(unit) else {
        return Err(format!("'{s}' has an unknown unit (use s, m or h)"));
    };
    n.checked_mul(factor)
        .map(Duration::from_secs)
        .filter(|d| *d <= DURATION_MAX)
        .ok_or_else(|| format!("'{s}' is too long (at most 8760h, a year; 0 means none)"))
}

/// `--max-size`: bytes, or a number with K/M/G (binary multiples; `KiB`, `MB`… spellings too).
pub(crate) fn parse_size(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let (digits, unit) = match t.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => t.split_at(i),
        None => (t, ""),
    };
    let n: usize = digits
        .parse()
        .map_err(|_| format!("'{s}' is not a size (e.g. 1048576, 512K, 10M)"))?;
    let factor = |unit: &str| -> Option<usize> {
        match unit.trim().to_ascii_lowercase().as_str() {
            "" | "b" => Some(1),
            "k" | "kb" | "kib" => Some(1 << 10),
            "m" | "mb" | "mib" => Some(1 << 20),
            "g" | "gb" | "gib" => Some(1 << 30),
            _ => None,
        }
    };
    if let Some((fraction, unit)) = fraction(unit)
        && let Some(f) = factor(unit)
    {
        // `1.5M` is 1536K: say what to write when it is a whole number of K or bytes.
        let units = [(1 << 20, "M"), (1 << 10, "K"), (1, "")];
        let instead = in_whole_units(n as u64, fraction, f as u64, &units)
            .map(|w| format!(": write {w}"))
            .unwrap_or_default();
        return Err(format!(
            "'{s}' has a fraction: a size is a whole number of bytes, K, M or G{instead}"
        ));
    }
    let Some(factor) = factor(unit) else {
        return Err(format!("'{s}' has an unknown unit (use K, M or G)"));
    };
    n.checked_mul(factor)
        .ok_or_else(|| format!("'{s}' is too large"))
}

/// The decimal fraction at the start of what follows a number's digits (`.5m` → `5`, `m`;
/// a comma too), and the rest after it; `None` when there is none.
fn fraction(rest: &str) -> Option<(&str, &str)> {
    let r = rest.strip_prefix(['.', ','])?;
    let end = r.find(|c: char| !c.is_ascii_digit()).unwrap_or(r.len());
    (end > 0).then(|| r.split_at(end))
}

/// `whole.fraction` times `factor` written in the largest of `units` (largest first, each
/// `(size, suffix)`) that it is a whole number of and smaller than `factor`, e.g. `1536K` for
/// 1.5 × 1M; `None` when none fits (or the numbers are absurdly long).
fn in_whole_units(
    whole: u64,
    fraction: &str,
    factor: u64,
    units: &[(u64, &str)],
) -> Option<String> {
    let digits = u32::try_from(fraction.len()).ok().filter(|&d| d <= 18)?;
    let scale = 10u128.pow(digits);
    let scaled = u128::from(whole) * scale + fraction.parse::<u128>().ok()?;
    let total = scaled.checked_mul(u128::from(factor))?;
    units
        .iter()
        .filter(|(size, _)| *size < factor)
        .find_map(|&(size, suffix)| {
            let per = scale * u128::from(size);
            (total % per == 0).then(|| format!("{}{suffix}", total / per))
        })
}

/// `serve --user NAME:PASS` (split at the first colon, so the password may contain colons).
/// `serve --delay CMD:MS`: syntax only; the server decides which commands it knows.
fn parse_delay(s: &str) -> Result<String, String> {
    match s.split_once(':') {
        Some((cmd, ms)) if !cmd.is_empty() && ms.parse::<u64>().is_ok() => Ok(s.to_string()),
        _ => Err(format!(
            "'{s}' is not CMD:MS (e.g. data:2000 waits 2 s before answering DATA)"
        )),
    }
}

/// The flag a TLS setting's message names (the net layer words its errors with these, naming
/// no flag itself): the long names of the flags above that set each one.
impl std::fmt::Display for crate::net::tls::TlsSetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::net::tls::TlsSetting;
        f.write_str(match self {
            TlsSetting::CaPath => "--tls-ca-path",
            TlsSetting::Protocol => "--tls-protocol",
            TlsSetting::Cipher => "--tls-cipher",
            TlsSetting::Ciphersuites => "--tls-ciphersuites",
            TlsSetting::Cert => "--tls-cert",
            TlsSetting::Key => "--tls-key",
            TlsSetting::Chain => "--tls-chain",
        })
    }
}

#[cfg(test)]
mod tests {

    /// Every flag whose value is a number or a duration, in the send and in every subcommand,
    /// takes a negative number as its value (its parser then says why it is wrong), so a
    /// struct that leaves out `negative_numbers_are_values` is noticed here.
    #[test]
    fn every_numeric_flag_takes_a_negative_number_as_its_value() {
        use clap::CommandFactory;
        let mut cmd = super::Cli::command();
        cmd.build();
        let mut seen = 0;
        let mut missing = Vec::new();
        for c in std::iter::once(&cmd).chain(cmd.get_subcommands()) {
            for a in c.get_arguments() {
                if super::is_numeric(a) {
                    seen += 1;
                    if !a.is_allow_negative_numbers_set() {
                        missing.push(format!("{} --{}", c.get_name(), a.get_id()));
                    }
                }
            }
        }
        assert!(seen > 20, "only {seen} numeric flags found");
        assert!(missing.is_empty(), "{missing:?}");
    }

    /// The text after each subcommand's options (`ehlo repl --help`'s meta-commands and keys,
    /// `check`'s and `probe`'s tables, some 20 KB in all) is set on the subcommand when clap
    /// builds it (help, an error, completions, man pages), not when the table is made for a
    /// parse: a one-shot send never shows it, and copied it at every start.
    #[test]
    fn subcommand_long_help_is_set_only_when_the_subcommand_is_built() {
        let expected = [
            ("serve", SERVE_LONG_HELP.to_string()),
            (
                "repl",
                format!(
                    "{}\n\n{}\n\n{}",
                    crate::repl::meta::HELP,
                    crate::repl::editor::KEYS,
                    crate::repl::meta::EXAMPLES
                ),
            ),
            ("replay", crate::repl::record::FORMAT.to_string()),
            ("explain", EXPLAIN_LONG_HELP.to_string()),
            ("check", CHECK_LONG_HELP.to_string()),
            ("probe", PROBE_LONG_HELP.to_string()),
        ];
        let mut cmd = Cli::command();
        for (name, _) in &expected {
            let sub = cmd.find_subcommand(name).expect(name);
            assert!(
                sub.get_after_long_help().is_none(),
                "{name}: set before the build"
            );
        }
        assert!(cmd.get_after_long_help().is_some(), "the send's own stays");
        cmd.build();
        for (name, text) in &expected {
            let sub = cmd.find_subcommand(name).expect(name);
            let got = sub.get_after_long_help().map(ToString::to_string);
            assert_eq!(got.as_deref(), Some(text.as_str()), "{name}");
        }
        let mut repl = Cli::command();
        let help = repl
            .find_subcommand_mut("repl")
            .expect("repl")
            .render_long_help()
            .to_string();
        assert!(help.contains(crate::repl::editor::KEYS.lines().next().unwrap()));
    }

    /// Each TLS setting's word is the long name of a flag of the send's table.
    #[test]
    fn tls_setting_words_are_flags_of_the_table() {
        let cmd = <Cli as clap::CommandFactory>::command();
        let send_longs: Vec<String> = cmd
            .get_arguments()
            .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
            .collect();
        for s in crate::net::tls::TlsSetting::ALL {
            assert!(send_longs.contains(&s.to_string()), "{s}");
        }
    }
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("ehlo").chain(args.iter().copied()))
    }

    #[test]
    fn debug_assert() {
        Cli::command().debug_assert();
    }

    /// The text after each mode's options is laid out by hand: rows and examples one a line,
    /// continuation lines indented under their row, prose broken by hand. clap breaks a line
    /// over its 100 columns at a blank and starts the rest at the line's own indent: an
    /// example command cut in two runs without its last arguments when copied (`ehlo probe
    /// --help`'s `--to me@example.com --yes` went to a line of its own), a row's end falls
    /// under the wrong column ("(CVE-2011-0411)") and hand-broken prose gets a stub line
    /// ("step and ends"). So only a paragraph that is one line may be wider: clap wraps it
    /// whole.
    #[test]
    fn hand_laid_help_lines_fit_the_width_clap_wraps_at() {
        // Built: a subcommand's long help is set only when it is (see `Command`).
        let mut root = Cli::command();
        root.build();
        let mut long = Vec::new();
        for cmd in std::iter::once(&root).chain(root.get_subcommands()) {
            for text in [cmd.get_after_help(), cmd.get_after_long_help()]
                .into_iter()
                .flatten()
            {
                let text = text.to_string();
                let lines: Vec<&str> = text.lines().collect();
                for (i, line) in lines.iter().enumerate() {
                    let one_line_paragraph = !line.starts_with(' ')
                        && lines.get(i + 1).is_none_or(|next| next.trim().is_empty())
                        && (i == 0 || lines[i - 1].trim().is_empty());
                    if line.chars().count() > 100 && !one_line_paragraph {
                        long.push(format!("{}: {line}", cmd.get_name()));
                    }
                }
            }
        }
        assert!(
            long.is_empty(),
            "wider than 100 columns:\n{}",
            long.join("\n")
        );
    }

    #[test]
    fn server_forms() {
        let s = |x| parse_server(x).unwrap();
        assert_eq!(
            s("mx.example.com"),
            ServerSpec {
                host: "mx.example.com".into(),
                port: None
            }
        );
        assert_eq!(s("mx.example.com:587").port, Some(587));
        assert_eq!(s("192.0.2.1:2525").host, "192.0.2.1");
        assert_eq!(s("[2001:db8::1]:587").host, "2001:db8::1");
        assert_eq!(s("[2001:db8::1]:587").port, Some(587));
        assert_eq!(s("[2001:db8::1]").port, None);
        assert_eq!(s("2001:db8::1/25").host, "2001:db8::1");
        assert_eq!(s("2001:db8::1/25").port, Some(25));
        assert_eq!(s("host/465").port, Some(465));
        assert_eq!(s("::1").host, "::1");
        assert_eq!(s("::1").port, None);
        // A service name, as swaks takes it (getservbyname).
        assert_eq!(s("mx.example.com:submission").port, Some(587));
        assert_eq!(s("[::1]:smtp").port, Some(25));
        assert_eq!(s("host/smtps").port, Some(465));
        assert!(parse_server("host:0").is_err());
        assert!(parse_server("host:99999").is_err());
        assert!(parse_server("host:abc").is_err());
        assert!(parse_server(":25").is_err());
        assert!(parse_server("[::1").is_err());
        assert!(parse_server("[::1]x").is_err());
        assert!(parse_server("a:b:c").is_err());
        // A scoped IPv6 address keeps its zone (interface name or index), bare or bracketed.
        for (text, host, port) in [
            ("fe80::1%lo", "fe80::1%lo", None),
            ("fe80::1%1", "fe80::1%1", None),
            ("[fe80::1%lo]:25", "fe80::1%lo", Some(25)),
            ("fe80::1%eth0/587", "fe80::1%eth0", Some(587)),
        ] {
            assert_eq!(
                parse_server(text),
                Ok(ServerSpec {
                    host: host.into(),
                    port
                }),
                "{text}"
            );
        }
        assert!(parse_server("fe80::1%").is_err());
        assert!(parse_server("").is_err());
        assert!(parse_server("ho st").is_err());
    }

    /// `--port` and `--timeout` read one syntax in every mode: a port number or service name,
    /// a duration with units.
    #[test]
    fn every_port_and_timeout_flag_reads_the_same_syntax() {
        fn walk(cmd: &clap::Command, mode: &str, out: &mut Vec<(String, String, String)>) {
            for a in cmd.get_arguments() {
                if let Some(long @ ("port" | "timeout")) = a.get_long() {
                    let names = a.get_value_names().map(|v| v.join(" "));
                    out.push((mode.into(), long.into(), names.unwrap_or_default()));
                }
            }
            for sub in cmd.get_subcommands() {
                walk(sub, sub.get_name(), out);
            }
        }
        let mut cmd = Cli::command();
        cmd.build();
        let mut found = Vec::new();
        walk(&cmd, "send", &mut found);
        for mode in ["send", "repl", "check", "probe"] {
            for flag in ["port", "timeout"] {
                assert!(
                    found.iter().any(|(m, f, _)| m == mode && f == flag),
                    "{mode} --{flag} not seen: {found:?}"
                );
            }
        }
        for (mode, flag, names) in &found {
            let want = if flag == "port" {
                "PORT|SERVICE"
            } else {
                "DURATION"
            };
            assert_eq!(names, want, "{mode} --{flag}");
        }
        // And the parsers behind the names.
        let check = |argv: &[&str]| match parse(argv).unwrap().command {
            Some(Command::Check(c)) => (c.port, c.timeout),
            _ => panic!("not check"),
        };
        assert_eq!(
            check(&["check", "d.test", "-p", "submission", "--timeout", "1m"]),
            (Some(587), Duration::from_secs(60))
        );
        // No port given: 25, or 465 with --tls-on-connect (`cli::mode::check`).
        assert_eq!(check(&["check", "d.test"]), (None, Duration::from_secs(10)));
        assert!(parse(&["check", "d.test", "-p", "0"]).is_err());
        let Some(Command::Probe(p)) =
            parse(&["probe", "h.test", "-p", "smtps", "--timeout", "90s"])
                .unwrap()
                .command
        else {
            panic!("not probe")
        };
        assert_eq!((p.port, p.timeout), (Some(465), Duration::from_secs(90)));
    }

    #[test]
    fn service_ports() {
        assert_eq!(parse_service_port("587"), Ok(587));
        assert_eq!(parse_service_port("submission"), Ok(587));
        assert_eq!(parse_service_port("smtps"), Ok(465));
        assert_eq!(parse_service_port("smtp"), Ok(25));
        assert!(parse_service_port("0").is_err());
        assert!(parse_service_port("70000").is_err());
        assert!(parse_service_port("no-such-service").is_err());
        let etc =
            "# comment\nsmtp\t\t25/tcp\t\tmail\nsubmissions\t465/tcp\t\tssmtp smtps\nfoo 99/udp\n";
        assert_eq!(service_in(etc, "mail"), Some(25));
        assert_eq!(service_in(etc, "smtps"), Some(465));
        assert_eq!(service_in(etc, "foo"), None);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        // swaks reads the unit case-insensitively (`/^(\d+)([hms])?$/i`).
        assert_eq!(parse_duration("2S"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("1M"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("1H"), Ok(Duration::from_secs(3600)));
        assert!(parse_duration("").is_err());
        // swaks refuses these ("Unknown timeout format ' 5s'"): no blank is trimmed away.
        for blank in [" 5s", "5s ", "\t5", "5\n", " "] {
            let e = parse_duration(blank).unwrap_err();
            assert!(e.starts_with(&format!("'{blank}'")), "{blank:?}: {e}");
        }
        assert!(parse_duration("-1").is_err());
        assert!(parse_duration("5x").is_err());
        assert!(parse_duration("1.5s").is_err());
        assert!(parse_duration("99999999999999999999").is_err());
        assert!(parse_duration("9999999999999999h").is_err());
        assert_eq!(parse_duration("8760h"), Ok(DURATION_MAX));
        assert_eq!(parse_duration("31536000"), Ok(DURATION_MAX));
        for past in [
            "8761h",
            "31536001",
            "18446744073709551615",
            "5124095576030431h",
        ] {
            let e = parse_duration(past).unwrap_err();
            assert!(e.contains("at most 8760h"), "{past}: {e}");
        }
    }

    #[test]
    fn repl_and_replay_share_the_send_spellings() {
        // Every option repl/replay have in common with a send: same short, same value name,
        // same aliases, same value parser (the type it makes) and same default.
        let mut root = Cli::command();
        root.build();
        let send: Vec<&clap::Arg> = root.get_arguments().collect();
        let mut drift = Vec::new();
        for name in ["repl", "replay"] {
            let sub = root.find_subcommand(name).unwrap();
            let mut shared = 0;
            for arg in sub.get_arguments() {
                let Some(long) = arg.get_long() else { continue };
                let Some(twin) = send.iter().find(|a| a.get_long() == Some(long)) else {
                    continue;
                };
                shared += 1;
                let differs = [
                    ("short", arg.get_short() != twin.get_short()),
                    (
                        "value name",
                        arg.get_value_names() != twin.get_value_names(),
                    ),
                    (
                        "aliases",
                        arg.get_visible_aliases() != twin.get_visible_aliases(),
                    ),
                    (
                        "value parser",
                        arg.get_value_parser().type_id() != twin.get_value_parser().type_id()
                            // replay's --server also takes `@domain` (its first MX, parsed with
                            // the port as the REPL's target is); a send leaves --server out.
                            && (name, long) != ("replay", "server"),
                    ),
                    (
                        "default",
                        arg.get_default_values() != twin.get_default_values(),
                    ),
                    (
                        "number of values",
                        arg.get_num_args() != twin.get_num_args(),
                    ),
                ];
                drift.extend(
                    differs
                        .iter()
                        .filter(|(_, d)| *d)
                        .map(|(what, _)| format!("{name} --{long}: {what}")),
                );
            }
            assert!(shared >= 10, "{name} shares only {shared} options");
        }
        assert!(drift.is_empty(), "{drift:#?}");
        // -t is --to, so not a repl option; --timeout takes a send's duration.
        assert!(parse(&["repl", "h", "-t", "5"]).is_err());
        let Some(Command::Repl(a)) = parse(&["repl", "h", "--timeout", "2m"]).unwrap().command
        else {
            panic!("not repl")
        };
        assert_eq!(a.conn.timeout, Duration::from_secs(120));
        // The greeting name is spelled as for a send: --helo, or its aliases --ehlo/--lhlo.
        for flag in ["--helo", "--ehlo", "--lhlo"] {
            let Some(Command::Repl(a)) = parse(&["repl", "h", flag, "me.test"]).unwrap().command
            else {
                panic!("not repl")
            };
            assert_eq!(a.helo.as_deref(), Some("me.test"), "{flag}");
        }
        assert!(parse(&["replay", "f", "-s", "h", "--timeout", "1x"]).is_err());
    }

    #[test]
    fn timeout_flag_default_and_units() {
        let c = parse(&["-t", "a@b.c"]).unwrap();
        assert_eq!(c.send.transport.timeout, Duration::from_secs(30));
        let c = parse(&["-t", "a@b.c", "--timeout", "2m"]).unwrap();
        assert_eq!(c.send.transport.timeout, Duration::from_secs(120));
        assert!(parse(&["-t", "a@b.c", "--timeout", "2d"]).is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("10MiB"), Ok(10 << 20));
        assert_eq!(parse_size("512K"), Ok(512 << 10));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert!(parse_size("ten").is_err());
        assert!(parse_size("1T").is_err());
    }

    /// A fraction is what is wrong with `1.5M`, not its unit; what to write instead when the
    /// size is whole in a smaller unit.
    #[test]
    fn fractions_are_named_with_what_to_write() {
        assert_eq!(
            parse_size("1.5M"),
            Err(
                "'1.5M' has a fraction: a size is a whole number of bytes, K, M or G: write \
                 1536K"
                    .into()
            )
        );
        assert_eq!(
            parse_size("0.5g").unwrap_err(),
            "'0.5g' has a fraction: a size is a whole number of bytes, K, M or G: write 512M"
        );
        assert!(
            parse_size("1,25MiB")
                .unwrap_err()
                .ends_with(": write 1280K")
        );
        assert!(parse_size("1.0001K").unwrap_err().ends_with("K, M or G"));
        assert!(parse_size("1.5").unwrap_err().ends_with("K, M or G"));
        assert!(parse_size("1.5T").unwrap_err().contains("unknown unit"));
        assert_eq!(
            parse_duration("1.5s"),
            Err(
                "'1.5s' has a fraction: a duration is a whole number of seconds, minutes or \
                 hours (N, Ns, Nm or Nh)"
                    .into()
            )
        );
        assert!(parse_duration("1.5m").unwrap_err().ends_with(": write 90s"));
        assert!(
            parse_duration("0.5H")
                .unwrap_err()
                .ends_with(": write 1800s")
        );
        assert!(
            parse_duration("2.5")
                .unwrap_err()
                .ends_with("(N, Ns, Nm or Nh)")
        );
        assert!(parse_duration("1.").unwrap_err().contains("unknown unit"));
        assert!(
            parse_duration("1.99999999999999999999999h")
                .unwrap_err()
                .ends_with("(N, Ns, Nm or Nh)")
        );
    }

    #[test]
    fn ip_ports() {
        assert_eq!(
            parse_dns_server("192.0.2.53"),
            Ok("192.0.2.53:53".parse().unwrap())
        );
        assert_eq!(
            parse_dns_server("127.0.0.1:5353"),
            Ok("127.0.0.1:5353".parse().unwrap())
        );
        assert_eq!(parse_dns_server("::1"), Ok("[::1]:53".parse().unwrap()));
        assert_eq!(parse_dns_server("[::1]"), Ok("[::1]:53".parse().unwrap()));
        assert_eq!(
            parse_dns_server("[::1]:5353"),
            Ok("[::1]:5353".parse().unwrap())
        );
        assert!(parse_dns_server("dns.example").is_err());
        assert!(parse_dns_server("127.0.0.1:99999").is_err());
        assert!(parse_dns_server("127.0.0.1:0").is_err());
        assert!(parse_dns_server("[::1]:0").is_err());
        assert_eq!(
            parse_local_interface("192.0.2.7"),
            Ok(ServerSpec {
                host: "192.0.2.7".into(),
                port: None
            })
        );
        assert_eq!(
            parse_local_interface("client.example:2500").unwrap().port,
            Some(2500)
        );
    }

    #[test]
    fn protocol_implications() {
        let p = |s: &str| {
            parse(&["-t", "a@b.c", "--protocol", s])
                .unwrap()
                .send
                .transport
                .protocol
                .unwrap()
        };
        assert_eq!(p("smtp").implies().protocol, Protocol::Smtp);
        assert_eq!(p("ESMTP"), ProtocolArg::Esmtp);
        assert_eq!(p("esmtp").implies(), Implied::default());
        let lmtpsa = p("LmtpSA").implies();
        assert_eq!(lmtpsa.protocol, Protocol::Lmtp);
        assert!(lmtpsa.starttls && lmtpsa.auth && !lmtpsa.tls_on_connect);
        let ssmtpa = p("ssmtpa").implies();
        assert!(ssmtpa.tls_on_connect && ssmtpa.auth && !ssmtpa.starttls);
        let smtps = p("SMTPS").implies();
        assert_eq!(smtps.protocol, Protocol::Smtp);
        assert!(smtps.tls_on_connect);
        assert!(p("ESMTPS").implies().starttls);
        assert!(!p("ESMTPS").implies().auth);
        assert!(p("esmtpa").implies().auth);
        assert!(parse(&["-t", "a@b.c", "--protocol", "smtpx"]).is_err());
    }

    #[test]
    fn stop_points() {
        let c = parse(&["-s", "h", "-q", "ehlo"]).unwrap();
        assert_eq!(c.send.stop.quit_after, Some(QuitPoint(StopPoint::Helo)));
        let c = parse(&["-s", "h", "--quit", "Banner"]).unwrap();
        assert_eq!(c.send.stop.quit_after, Some(QuitPoint(StopPoint::Connect)));
        let c = parse(&["-s", "h", "--da", "first-lhlo"]).unwrap();
        assert_eq!(c.send.stop.drop_after, Some(StopPoint::FirstHelo));
        let c = parse(&["-s", "h", "--drop", "dot"]).unwrap();
        assert_eq!(c.send.stop.drop_after, Some(StopPoint::Dot));
        let c = parse(&["-s", "h", "--das", "from"]).unwrap();
        assert_eq!(c.send.stop.drop_after_send, Some(StopPoint::Mail));
        let c = parse(&["-s", "h", "--das", "STARTTLS"]).unwrap();
        assert_eq!(c.send.stop.drop_after_send, Some(StopPoint::Tls));
        // DATA and DOT are for the drop options only.
        assert!(parse(&["-s", "h", "-q", "data"]).is_err());
        assert!(parse(&["-s", "h", "-q", "dot"]).is_err());
        // Several stop options together, as in swaks: the send uses the first one reached.
        let c = parse(&["-s", "h", "-q", "rcpt", "--da", "mail", "--das", "dot"]).unwrap();
        assert_eq!(c.send.stop.quit_after, Some(QuitPoint(StopPoint::Rcpt)));
        assert_eq!(c.send.stop.drop_after, Some(StopPoint::Mail));
        assert_eq!(c.send.stop.drop_after_send, Some(StopPoint::Dot));
        assert!(parse(&["-s", "h", "-q", "nowhere"]).is_err());
    }

    #[test]
    fn comma_lists_append() {
        let c = parse(&["-t", "a@x, b@y", "--to", "c@z", "--cc", "d@w,e@v"]).unwrap();
        assert_eq!(c.send.envelope.to, ["a@x", " b@y", "c@z"]);
        assert_eq!(c.send.envelope.cc, ["d@w", "e@v"]);
    }

    #[test]
    fn optional_values() {
        let c = parse(&["-t", "a@b.c", "-a"]).unwrap();
        assert_eq!(c.send.auth.auth, Some(vec![]));
        let c = parse(&["-t", "a@b.c", "-a", "PLAIN,login"]).unwrap();
        assert_eq!(c.send.auth.auth, Some(vec!["PLAIN".into(), "login".into()]));
        let c = parse(&["-t", "a@b.c", "-S"]).unwrap();
        assert_eq!(c.send.output.silent, Some(1));
        let c = parse(&["-t", "a@b.c", "-S", "3"]).unwrap();
        assert_eq!(c.send.output.silent, Some(3));
        assert!(parse(&["-t", "a@b.c", "-S", "4"]).is_err());
        let c = parse(&["-t", "a@b.c", "--stl"]).unwrap();
        assert_eq!(c.send.output.show_time_lapse, Some(None));
        let c = parse(&["-t", "a@b.c", "--stl", "i"]).unwrap();
        assert_eq!(c.send.output.show_time_lapse, Some(Some("i".into())));
        assert!(parse(&["-t", "a@b.c", "--stl", "x"]).is_err());
    }

    #[test]
    fn conflicts() {
        assert!(parse(&["-t", "a@b.c", "-4", "-6"]).is_err());
        assert!(parse(&["-t", "a@b.c", "--tls", "--tls-on-connect"]).is_err());
        // swaks combines a required and an optional form (the optional one wins): no conflict.
        assert!(parse(&["-t", "a@b.c", "--tls", "--tlso", "--tlsos"]).is_ok());
        assert!(parse(&["-t", "a@b.c", "-a", "--ao", "--aos"]).is_ok());
        assert!(parse(&["-t", "a@b.c", "-k", "--tls-verify"]).is_err());
        assert!(parse(&["-t", "a@b.c", "serve"]).is_err());
        assert!(parse(&["serve", "--starttls", "--tls-on-connect"]).is_err());
        assert!(parse(&["serve", "--tls-cert", "c.pem"]).is_err());
    }

    #[test]
    fn last_occurrence_wins() {
        // swaks semantics: a repeated single-value option replaces the earlier one.
        let c = parse(&["-t", "a@b.c", "-f", "x@y", "-f", "z@w"]).unwrap();
        assert_eq!(c.send.envelope.from.as_deref(), Some("z@w"));
    }

    #[test]
    fn serve_flags() {
        let c = parse(&["serve"]).unwrap();
        let Some(Command::Serve(s)) = c.command else {
            panic!("not serve")
        };
        assert_eq!(s.listen, "127.0.0.1:2525");
        assert_eq!(s.max_size, 10 << 20);
        assert_eq!(s.hostname, "ehlo.serve");
        let c = parse(&[
            "serve",
            "--user",
            "alice:pa:ss",
            "--user",
            "bob:x",
            "--delay",
            "data:200",
            "--max-sessions",
            "2",
        ])
        .unwrap();
        let Some(Command::Serve(s)) = c.command else {
            panic!("not serve")
        };
        assert_eq!(s.user, ["alice:pa:ss", "bob:x"]);
        assert_eq!(s.delay, ["data:200"]);
        assert_eq!(s.max_sessions, Some(2));
        assert!(parse(&["serve", "--delay", "data"]).is_err());
        assert!(parse(&["serve", "--max-sessions", "0"]).is_err());
    }

    #[test]
    fn secrets_do_not_leak_through_debug() {
        let c = parse(&["-t", "a@b.c", "--auth-password", "hunter2"]).unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    /// No two flags share a short, a long or an alias, in any command: clap would accept the
    /// table and one of the two would silently never match.
    #[test]
    fn no_duplicate_names() {
        let mut root = Cli::command();
        root.build();
        let mut cmds = vec![root.clone()];
        cmds.extend(root.get_subcommands().cloned());
        for cmd in &cmds {
            let mut shorts = std::collections::HashSet::new();
            let mut longs = std::collections::HashSet::new();
            for arg in cmd.get_arguments() {
                for s in arg
                    .get_short()
                    .into_iter()
                    .chain(arg.get_all_short_aliases().unwrap_or_default())
                {
                    assert!(shorts.insert(s), "{}: duplicate short -{s}", cmd.get_name());
                }
                for l in long_names(arg) {
                    assert!(
                        longs.insert(l.to_string()),
                        "{}: duplicate long --{l}",
                        cmd.get_name()
                    );
                }
            }
        }
    }

    fn words(args: &[&str]) -> Vec<std::ffi::OsString> {
        std::iter::once("ehlo")
            .chain(args.iter().copied())
            .map(Into::into)
            .collect()
    }

    /// The whole table's parse and answer (`Cli::parse_with_table` without a `LeanTable`).
    fn whole(args: &[&str]) -> String {
        match Cli::parse_with_table(&words(args)) {
            Ok(cli) => format!("{cli:?}"),
            Err(e) => format!("{:?} {}", e.kind(), e.render()),
        }
    }

    /// Every flag of a `Rare` group is named by a word of `RARE_WORDS` (so a command line that
    /// gives it never takes the lean table), and can be given no other way: no short name, no
    /// alias without such a word.
    #[test]
    fn every_flag_of_a_rare_group_is_named_by_a_rare_word() {
        let groups = [
            ExtArgs::augment_args(clap::Command::new("ext")),
            XclientArgs::augment_args(clap::Command::new("xclient")),
        ];
        let mut n = 0;
        for group in &groups {
            for arg in group.get_arguments() {
                n += 1;
                let id = arg.get_id();
                assert!(arg.get_short().is_none(), "{id} has a short name");
                assert!(
                    arg.get_all_short_aliases().is_none(),
                    "{id} has a short alias"
                );
                assert!(!arg.is_positional(), "{id} is positional");
                let longs = arg
                    .get_long()
                    .into_iter()
                    .chain(arg.get_all_aliases().unwrap_or_default());
                for long in longs {
                    let word = format!("--{long}");
                    assert!(
                        names_a_rare_flag(&words(&[&word])),
                        "{word} is not named by RARE_WORDS"
                    );
                }
            }
        }
        assert_eq!(n, 40, "the rare groups' flags");
    }

    /// Every way to give a flag of the TLS or AUTH group (its long name and every alias, with
    /// or without `=value`, its short name alone or in a bundle) is a word that keeps the group
    /// in the table; what would be no flag of the group (a value, a stop point named `tls`, the
    /// flags of other groups) leaves it out.
    #[test]
    fn every_way_to_give_a_tls_or_auth_flag_keeps_its_group() {
        let groups = [
            (
                TLS_GROUP,
                TlsArgs::augment_args(clap::Command::new("tls")),
                21,
            ),
            (
                AUTH_GROUP,
                AuthArgs::augment_args(clap::Command::new("auth")),
                17,
            ),
        ];
        for (bit, group, count) in &groups {
            let mut n = 0;
            for arg in group.get_arguments() {
                n += 1;
                let id = arg.get_id();
                assert!(!arg.is_positional(), "{id} is positional");
                assert!(
                    arg.get_all_short_aliases().is_none(),
                    "{id} has a short alias"
                );
                let longs = arg
                    .get_long()
                    .into_iter()
                    .chain(arg.get_all_aliases().unwrap_or_default());
                let mut ways: Vec<String> = longs
                    .flat_map(|l| [format!("--{l}"), format!("--{l}=x")])
                    .collect();
                if let Some(c) = arg.get_short() {
                    ways.extend([format!("-{c}"), format!("-4{c}"), format!("-{c}x")]);
                }
                for word in ways {
                    assert_eq!(
                        left_out_groups(&words(&[&word])) & bit,
                        0,
                        "{word} leaves its group out"
                    );
                }
            }
            assert_eq!(n, *count, "the group's flags");
        }
        let plain = words(&[
            "--server",
            "127.0.0.1:2525",
            "-t",
            "auth@tls.example",
            "-f",
            "-",
            "--from=k@a",
            "-q",
            "tls",
            "--quit-after=auth",
            "--header",
            "X-Auth: --tls",
            "--",
            "tlsa",
        ]);
        assert_eq!(left_out_groups(&plain), RARE_GROUP | TLS_GROUP | AUTH_GROUP);
    }

    /// The lean table is the whole one without the rare groups' 40 flags.
    #[test]
    fn the_lean_table_leaves_out_the_rare_groups() {
        let mut whole = Cli::command();
        whole.build();
        let all = RARE_GROUP | TLS_GROUP | AUTH_GROUP;
        for (left_out, fewer) in [
            (RARE_GROUP, 40),
            (TLS_GROUP, 21),
            (AUTH_GROUP, 17),
            (all, 78),
        ] {
            let mut lean = {
                let _lean = LeanTable::enter(left_out);
                let mut cmd = Cli::command();
                // clap's own checks of the table (debug builds): no flag left in it refers
                // to one left out (a conflict, a requirement).
                cmd.build();
                cmd
            };
            assert!(!LeanTable::active());
            assert_eq!(
                whole.get_arguments().count() - lean.get_arguments().count(),
                fewer,
                "{left_out}"
            );
            lean.build();
            // The flags no group holds never name one (a group's own flag may name another:
            // `--requiretls` keeps TLS in, which only costs the lean parse).
            if left_out != all {
                continue;
            }
            for a in lean.get_arguments() {
                let word = format!("--{}", a.get_long().unwrap_or_default());
                assert_eq!(
                    left_out_groups(&words(&[&word])) & left_out,
                    left_out,
                    "{word} is in the lean table and names a group left out of it"
                );
            }
        }
    }

    /// What `parse_args` makes of a command line, lean table or not, is what the whole table
    /// makes of it: the same `Cli` (the rare groups' defaults included), and for a command line
    /// clap refuses or answers (help, version, an unknown or misspelt flag, a bad value, a
    /// subcommand's help) the same error kind and text.
    #[test]
    fn parse_args_answers_as_the_whole_table_does() {
        let lines: &[&[&str]] = &[
            &["-s", "127.0.0.1:2525", "--to", "a@example.test"],
            &[
                "-t",
                "a@example.test",
                "-f",
                "b@example.test",
                "--data",
                "@m.eml",
                "--color",
                "never",
            ],
            &[
                "-t",
                "a@example.test",
                "--tls",
                "-a",
                "PLAIN",
                "--au",
                "u",
                "--json",
                "-q",
                "rcpt",
            ],
            &[
                "-t",
                "a@example.test",
                "--attach-type",
                "text/plain",
                "--attach",
                "@x",
            ],
            &[
                "-t",
                "a@example.test",
                "--xclient-addr",
                "192.0.2.1",
                "--xclient-delim",
                "--xclient",
                "NAME=x",
            ],
            &[
                "-t",
                "a@example.test",
                "--proxy-version",
                "2",
                "--bdat",
                "--prdr",
                "--dsn-ret",
                "HDRS",
            ],
            &["-t", "a@example.test", "--header", "X-Proxy: yes"],
            &["-t", "a@example.test", "-k", "--tlsc", "--tls-verify"],
            &[
                "-t",
                "a@example.test",
                "--tls-verify=dane",
                "--tlsp",
                "tlsv1_3",
            ],
            &["-t", "a@example.test", "-nk", "--tls-get-peer-cert"],
            &[
                "-t",
                "a@example.test",
                "--tlso",
                "--tls-sni=x.test",
                "--tlsa",
                "3 1 1 ab",
            ],
            &["-t", "a@example.test", "--tls", "--tls-on-connect"],
            &["-t", "a@example.test", "--tls-cert", "c.pem"],
            &["-t", "a@example.test", "--tlsa-fil", "f"],
            &["-t", "a@example.test", "--insecure", "--tls-verify-ca"],
            &[
                "-t",
                "a@example.test",
                "-aPLAIN,LOGIN",
                "--ap",
                "-x",
                "--apt",
            ],
            &[
                "-t",
                "a@example.test",
                "--au=u",
                "--ao",
                "--pp",
                "--show-secrets",
            ],
            &[
                "-t",
                "a@example.test",
                "--auth-user",
                "--auth-map",
                "SPA=NTLM",
            ],
            &[
                "-t",
                "a@example.test",
                "-a",
                "--ahp",
                "--am",
                "X=PLAIN",
                "--ae",
                "realm=r",
            ],
            &["-t", "a@example.test", "--auth-pasword", "p"],
            &[
                "-t",
                "a@example.test",
                "-q",
                "tls",
                "--header",
                "X-Auth: --tls",
            ],
            &["-t", "a@example.test", "--quit-after=auth", "--from=-k"],
            &["-t", "a@example.test", "-f", "-a"],
            &["-t", "a@example.test", "--", "--tls"],
            &["--help"],
            &["-h"],
            &["--version"],
            &["help"],
            &["-t"],
            &["--xclient-adr", "192.0.2.1"],
            &["--xclient-addr"],
            &["--bdta"],
            &["--smtputf"],
            &["-t", "a@example.test", "--port", "x"],
            &["-t", "a@example.test", "--attach-name", "n"],
            &["-t", "a@example.test", "--timeout", "soon"],
            &["serve", "--port", "0"],
            &["serve", "--help"],
            &["check", "example.test", "--json"],
            &["repl", "--tls", "127.0.0.1"],
            &["explain", "550"],
        ];
        for line in lines {
            let got = match Cli::parse_args(words(line)) {
                Ok(cli) => format!("{cli:?}"),
                Err(e) => format!("{:?} {}", e.kind(), e.render()),
            };
            assert!(!LeanTable::active());
            assert_eq!(got, whole(line), "{line:?}");
        }
    }

    /// A config file's or the environment's TLS and AUTH settings reach the parse when the
    /// command line names neither group: layering writes them into the argv it parses, as
    /// long names, so the lean table keeps their groups (and leaves out the rest).
    #[test]
    fn layered_tls_and_auth_settings_apply_without_the_command_line_naming_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(&path, "tls-sni sni.example.test\nauth-user u\n").unwrap();
        let env = crate::cli::layers::LayerEnv {
            vars: vec![
                ("EHLO_INSECURE".into(), "".into()),
                ("EHLO_AUTH_AUTHZID".into(), "z".into()),
            ],
            default_file: Some(path),
        };
        let argv = words(&["-t", "a@example.test", "--server", "127.0.0.1:2525"]);
        assert_eq!(left_out_groups(&argv), RARE_GROUP | TLS_GROUP | AUTH_GROUP);
        let layered = crate::cli::layers::apply(argv, &env).expect("layered");
        assert_eq!(left_out_groups(&layered.args), RARE_GROUP);
        let cli = Cli::parse_args(layered.args.iter()).expect("parsed");
        assert!(cli.send.tls.insecure);
        assert_eq!(cli.send.tls.tls_sni.as_deref(), Some("sni.example.test"));
        assert_eq!(cli.send.auth.auth_user.as_deref(), Some("u"));
        assert_eq!(cli.send.auth.auth_authzid.as_deref(), Some("z"));
        let whole = Cli::parse_with_table(&layered.args).expect("parsed");
        assert_eq!(format!("{cli:?}"), format!("{whole:?}"));
    }

    /// Help and error texts: clap's rendering from the whole table, byte for byte, for the
    /// plain command lines that take the lean table first.
    #[test]
    fn help_and_errors_come_from_the_whole_table() {
        for line in [
            &["--help"][..],
            &["-h"],
            &["--to"],
            &["--unknown-flag"],
            &["-t", "a@b", "-p", "x"],
            &["-t", "a@b", "--tls-on-conect"],
            &["-t", "a@b", "--aut"],
        ] {
            let whole = Cli::command()
                .try_get_matches_from(words(line))
                .expect_err("refused");
            let got = Cli::parse_args(words(line)).expect_err("refused");
            assert_eq!(
                got.render().ansi().to_string(),
                whole.render().ansi().to_string(),
                "{line:?}"
            );
        }
    }
}
