//! Configuration layering (swaks's `.swaksrc` / `SWAKS_OPT_*`): a config file < swaks's
//! `SWAKS_OPT_*` environment variables < `EHLO_*` ones < the command line, done as an argv rewrite before clap parses
//! anything, so the flag table in [`super::args`] stays the only definition of an option.
//!
//! - **File**: `--config FILE`, else `$EHLO_CONFIG`, else swaks's `$SWAKS_OPT_config` (empty: no
//!   file), else `$XDG_CONFIG_HOME/ehlo/config` (an unset,
//!   empty or relative `XDG_CONFIG_HOME` falls back to `~/.config/ehlo/config`); a missing default
//!   file is no error, a missing named one is. `--no-config` (or `EHLO_NO_CONFIG` set to anything)
//!   turns the file off. One option per line, leading dashes optional, blank lines and lines
//!   starting with `#` ignored; the value is everything after the first space or tab, literally
//!   (`name=value` works too, the value then being everything after the first `=`, spaces
//!   included); a line ending in one space gives an empty value.
//! - **Environment**: `EHLO_<NAME>` where `<NAME>` is a long option or alias of the one-shot send,
//!   upper-cased with dashes as underscores (`EHLO_AUTH_USER=me` is `--auth-user me`), taken in
//!   sorted order; an empty value is the flag without a value. `EHLO_AUTH_TOKEN` is
//!   `--auth-oauth-token` (its documented secret source). An empty `EHLO_AUTH_PASSWORD` /
//!   `EHLO_AUTH_TOKEN` means unset, as before. Build and test knobs ([`RESERVED_ENV`], `EHLO_INTEROP_*`) are
//!   ignored silently; any other `EHLO_*` name that is no option of any mode is ignored with a
//!   warning naming the variable meant when one is near (`EHLO_TIMOUT`: `EHLO_TIMEOUT`;
//!   `--dump-config` lists them too, and the other modes' variables it passed over). swaks's
//!   `SWAKS_OPT_<name>` (name as swaks spells it, `_` for `-`; `SWAKS_OPT_h_<Header>`,
//!   `SWAKS_OPT_no_<name>`) are a layer of their own between the file and `EHLO_*`; one that
//!   names no option of the send is refused, as swaks refuses it.
//! - **Merge**: lower layers come first in the merged argv. A single-value option set in a
//!   higher layer drops the lower one, and so does any option it conflicts with (`--tls-optional`
//!   on the command line replaces `tls` from the file); repeatable options (`--to`, `--header`…)
//!   accumulate, lowest layer first. Within one layer the last occurrence of a single-value
//!   option wins.
//! - **Unset** (swaks's `--no-<opt>`): `--no-<opt>` (or `-no-<opt>`) on the command line removes every
//!   value of `<opt>` from the file and the environment and every earlier occurrence on the
//!   command line (a later one stays); `EHLO_NO_<OPT>` (empty) does the same to the file, a
//!   `no-<opt>` line to the lines above it. `--no-header-<Name>` (`--no-h-<Name>`) removes the
//!   `--header`s for that header name only, compared case-insensitively, where swaks removes
//!   every earlier `--header`; `--no-header` removes them all. Flags whose own name starts with
//!   `no-` (`--no-config`, `--no-hints`…) are those flags, not negations. The `--no-` words never
//!   reach clap; `--dump-config` lists what each one removed.
//!
//! - **Subcommands** (`serve`, `demo`, `repl`, `replay`, `explain`, `check`, `probe`) read the
//!   `EHLO_*` layer only, by the same naming rule, for their own flags: `EHLO_TIMEOUT=5s ehlo
//!   check D` is `ehlo check --timeout=5s D`; the command line wins, repeatable flags add up,
//!   a bad value is a usage error naming the variable. Flags the table marks `hide_env` (a
//!   subcommand's port, server, recipients, login, session steps, serve's certificate) come
//!   from the command line only, so that `EHLO_TO` or `EHLO_PORT` set for sends never points a
//!   probe or a check elsewhere. The config file and `SWAKS_OPT_*` are the send's (swaks has no
//!   subcommands). A variable of another mode's flag (`EHLO_FAIL_ON` while sending) is passed
//!   over without a word; one that names no flag of any mode is warned about, once, with the
//!   nearest name of every mode's.
//!
//! `--help`, `--version`, a bare `ehlo` and a command line clap refuses anyway are passed
//! through untouched.

use std::collections::{HashMap, HashSet};
use std::ffi::{OsStr, OsString};
use std::io::Read;
use std::path::{Path, PathBuf};

use clap::builder::Resettable;
use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches, Command, CommandFactory};

use crate::cli::args::Cli;
use crate::error::Error;

/// Prefix of the environment variables that set options.
pub(crate) const ENV_PREFIX: &str = "EHLO_";

/// swaks's prefix (`SWAKS_OPT_auth_user`, `SWAKS_OPT_h_From`): read too, below `EHLO_*`, so
/// existing CI environments keep working.
pub(crate) const SWAKS_ENV_PREFIX: &str = "SWAKS_OPT_";

/// `EHLO_*` names that are build and test knobs, never options (kept out of the mapping even if
/// a flag of that name is added one day, and never warned about): the tests' (`tests/`), the
/// benchmarks' (`benches/`: they export them, so every ehlo they time inherits them, and a
/// warning each run would be timed with it) and `build.rs`'s.
pub(crate) const RESERVED_ENV: &[&str] = &[
    "EHLO_REGENERATE",
    "EHLO_BIN",
    "EHLO_HOT_TARGET_DIR",
    "EHLO_INTEROP_BIN",
    "EHLO_INTEROP_KEEP",
    "EHLO_INTEROP_AUTH_ADDR",
    "EHLO_RSS_MESSAGES",
    "EHLO_NO_PACKED_RELOCS",
    "EHLO_NO_SYMBOL_ORDERING",
];

/// Prefix of the interop tests' own variables (`tests/interop/`), all reserved like
/// [`RESERVED_ENV`].
const RESERVED_PREFIX: &str = "EHLO_INTEROP_";

/// A build or test knob ([`RESERVED_ENV`], or any `EHLO_INTEROP_*`): never an option, never
/// warned about, whichever mode runs.
fn reserved(name: &str) -> bool {
    RESERVED_ENV.contains(&name) || name.starts_with(RESERVED_PREFIX)
}

/// Environment names that are not derived from a flag name: the documented secret sources.
const ENV_ALIASES: &[(&str, &str)] = &[("EHLO_AUTH_TOKEN", "auth_oauth_token")];

/// swaks's `SWAKS_OPT_config`: the config file to read (same syntax), or empty for none. It
/// ranks below ehlo's own `EHLO_CONFIG`/`EHLO_NO_CONFIG` and the command line's choice.
const SWAKS_OPT_CONFIG: &str = "SWAKS_OPT_config";

/// Environment variables that choose the file instead of setting an option.
const ENV_CONFIG: &str = "EHLO_CONFIG";
const ENV_NO_CONFIG: &str = "EHLO_NO_CONFIG";

/// Ids of the flags that steer layering itself (not allowed in the file).
const CONTROL_IDS: &[&str] = &["config", "no_config", "dump_config"];

/// Largest config file read (it is a handful of lines; this bounds memory on a wrong path).
pub(crate) const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// The outside world layering depends on, so tests can give their own.
#[derive(Debug, Clone, Default)]
pub(crate) struct LayerEnv {
    /// The `EHLO_*` environment variables.
    pub(crate) vars: Vec<(String, OsString)>,
    /// Where the default config file is (None: no home directory known).
    pub(crate) default_file: Option<PathBuf>,
}

impl LayerEnv {
    /// The real process environment.
    pub(crate) fn current() -> LayerEnv {
        let vars = std::env::vars_os()
            .filter_map(|(k, v)| {
                let k = k.into_string().ok()?;
                (k.starts_with(ENV_PREFIX) || k.starts_with(SWAKS_ENV_PREFIX)).then_some((k, v))
            })
            .collect();
        LayerEnv {
            vars,
            default_file: default_config_path(
                std::env::var_os("XDG_CONFIG_HOME"),
                std::env::var_os("HOME"),
            ),
        }
    }
}

/// swaks reads the first `.swaksrc` that exists in `$SWAKS_HOME`, `$HOME`, `$LOGDIR` (in that
/// order, unset or empty ones skipped), unless told otherwise; ehlo reads its own file (same
/// syntax). When no ehlo file was read (the default one is absent) and a swaks one
/// exists, say so rather than ignore it without a word: a swaks user's defaults would otherwise
/// silently not apply. `--config FILE` or `--no-config` (a file state other than absent) says
/// the user chose, and then nothing is said.
pub(crate) fn swaksrc_note(
    file: &FileState,
    swaks_home: Option<OsString>,
    home: Option<OsString>,
    logdir: Option<OsString>,
) -> Option<String> {
    if !matches!(file, FileState::Absent(_) | FileState::NoHome) {
        return None;
    }
    let path = [swaks_home, home, logdir]
        .into_iter()
        .flatten()
        .filter(|d| !d.is_empty())
        .map(|d| Path::new(&d).join(".swaksrc"))
        .find(|p| p.is_file())?;
    Some(format!(
        "{} (swaks's config file) is not read by ehlo: `--config {}` reads it (same syntax), `--no-config` silences this note",
        path.display(),
        path.display()
    ))
}

/// `$XDG_CONFIG_HOME/ehlo/config`, else `$HOME/.config/ehlo/config`. The XDG Base Directory
/// specification says a relative `XDG_CONFIG_HOME` is invalid and must be ignored.
pub(crate) fn default_config_path(
    xdg: Option<OsString>,
    home: Option<OsString>,
) -> Option<PathBuf> {
    let base = xdg
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| {
            home.map(PathBuf::from)
                .filter(|h| !h.as_os_str().is_empty())
                .map(|h| h.join(".config"))
        })?;
    Some(base.join("ehlo").join("config"))
}

/// Where a setting came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Origin {
    /// A config file line (1-based).
    File {
        /// The file.
        path: PathBuf,
        /// Line number.
        line: usize,
    },
    /// An environment variable.
    Env(String),
    /// The command line.
    CommandLine,
}

impl Origin {
    /// Where a setting below the command line came from, as a refusal it causes names it
    /// (`EHLO_TLS_CERT in the environment`, `line 3 of /home/me/.config/ehlo/config`); `None`
    /// for the command line, which the user typed and needs no pointing at.
    pub(crate) fn source(&self) -> Option<String> {
        match self {
            Origin::File { path, line } => Some(format!("line {line} of {}", path.display())),
            Origin::Env(name) => Some(format!("{name} in the environment")),
            Origin::CommandLine => None,
        }
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::File { path, line } => write!(f, "{}:{line}", path.display()),
            Origin::Env(name) => f.write_str(name),
            Origin::CommandLine => f.write_str("command line"),
        }
    }
}

/// One option occurrence of one layer.
#[derive(Debug, Clone)]
pub(crate) struct Setting {
    /// clap id of the flag.
    pub(crate) id: String,
    /// Its long name (the canonical spelling).
    pub(crate) name: String,
    /// The value, if one was given (comma lists joined as written).
    pub(crate) value: Option<OsString>,
    /// Where it came from.
    pub(crate) origin: Origin,
    secret: bool,
}

impl Setting {
    /// The argv word for it: `--name` or `--name=value` (the `=` form keeps a value that starts
    /// with a dash a value).
    pub(crate) fn token(&self) -> OsString {
        let mut t = OsString::from(format!("--{}", self.name));
        if let Some(v) = &self.value {
            t.push("=");
            t.push(v);
        }
        t
    }

    /// The setting as a config file line; secrets become `<redacted>` unless `show_secrets`.
    pub(crate) fn line(&self, show_secrets: bool) -> String {
        match &self.value {
            None => self.name.clone(),
            Some(_) if self.secret && !show_secrets => format!("{} <redacted>", self.name),
            Some(v) => format!("{} {}", self.name, v.to_string_lossy()),
        }
    }
}

/// What a `--no-<opt>` word unsets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Unsets {
    /// Every value of this flag (clap id).
    Id(String),
    /// The `--header`s for this header name (compared case-insensitively). swaks's
    /// `--no-header-Name` removes every earlier `--header`; this is the more useful per-name form.
    Header(String),
}

/// One `--no-<opt>` word (or `EHLO_NO_<OPT>` variable, or `no-<opt>` config line).
#[derive(Debug, Clone)]
pub(crate) struct Negation {
    /// As written, without dashes (`no-from`, `no-header-Subject`).
    pub(crate) spelling: String,
    /// What it unsets.
    pub(crate) target: Unsets,
    /// Where it came from.
    pub(crate) origin: Origin,
    seq: usize,
}

impl Negation {
    /// Whether it unsets `s` (the definition the indexed walks in [`first_negation`] and
    /// `strip_negations` are checked against).
    #[cfg(test)]
    fn matches(&self, s: &Setting) -> bool {
        match &self.target {
            Unsets::Id(id) => s.id == *id,
            Unsets::Header(name) => {
                s.id == "header"
                    && s.value.as_ref().is_some_and(|v| {
                        let v = v.to_string_lossy();
                        let n = v.split_once(':').map_or(&*v, |(n, _)| n);
                        n.trim().eq_ignore_ascii_case(name)
                    })
            }
        }
    }
}

/// A setting that a `--no-<opt>` removed, for `--dump-config`.
#[derive(Debug, Clone)]
pub(crate) struct Unset {
    /// What was removed.
    pub(crate) setting: Setting,
    /// What removed it.
    pub(crate) by: Negation,
}

/// Drop from each of `layers` what `negs` unset, every negation reaching every setting: each
/// setting goes to the first negation that matches it. One pass over the settings with the
/// negations indexed by flag and by header name, where a `retain` per negation was quadratic in
/// `--no-<opt>` words times settings. `unset` gets the removals in the order the negations
/// were given (within one negation: layer by layer, each in its own order).
fn unset_in(layers: &mut [&mut Vec<Setting>], negs: &[Negation], unset: &mut Vec<Unset>) {
    let mut removed = Vec::new();
    for (layer, settings) in layers.iter_mut().enumerate() {
        let at = vec![settings.len(); negs.len()];
        for (neg, index, setting) in first_negation(settings, negs, &at) {
            removed.push((neg, layer, index, setting));
        }
    }
    removed.sort_unstable_by_key(|&(neg, layer, index, _)| (neg, layer, index));
    unset.extend(removed.into_iter().map(|(neg, _, _, setting)| Unset {
        setting,
        by: negs[neg].clone(),
    }));
}

/// The ehlo flag (long name) that swaks's one-letter option `letter` stands for, so that
/// `--no-q`, `--no-n`, `--no-p`, `--no-S`… unset it as swaks's `--no-<name>` does for every name
/// of an option (`-q rcpt --no-q` delivers the message in swaks). ehlo's own one-letter flags
/// (`-k`, `-V`) are not swaks's and stay refused, and so is `g`: swaks rewrites `-g` before it
/// parses options and refuses `--no-g`.
fn swaks_letter(letter: &str) -> Option<&'static str> {
    if letter.chars().count() != 1 || letter == "g" {
        return None;
    }
    crate::cli::swaks::OPTIONS
        .iter()
        .find(|o| o.names.contains(&letter))
        .and_then(|o| o.ehlo)
}

/// The header name a `--header` value sets, lower-cased (a `--no-header-<Name>` compares it
/// case-insensitively).
fn header_key(s: &Setting) -> Option<String> {
    let v = s.value.as_ref()?.to_string_lossy();
    let n = v.split_once(':').map_or(&*v, |(n, _)| n);
    Some(n.trim().to_ascii_lowercase())
}

/// Remove from `settings` what `negs` unset, where negation `k` reaches the settings before
/// index `at[k]` (`at` never decreases): each setting goes to the first negation after it that
/// matches. Returns (negation, index of the setting, setting) for each removal, in no order.
/// One backward walk: the negations met so far are indexed by flag id and header name, the
/// nearest one winning, so the cost is linear in settings plus negations.
fn first_negation(
    settings: &mut Vec<Setting>,
    negs: &[Negation],
    at: &[usize],
) -> Vec<(usize, usize, Setting)> {
    let mut by_id: HashMap<&str, usize> = HashMap::new();
    let mut by_header: HashMap<String, usize> = HashMap::new();
    let mut next = negs.len();
    let mut removed = Vec::new();
    let mut kept = Vec::with_capacity(settings.len());
    for (index, s) in std::mem::take(settings).into_iter().enumerate().rev() {
        while next > 0 && at[next - 1] > index {
            next -= 1;
            match &negs[next].target {
                Unsets::Id(id) => by_id.insert(id.as_str(), next),
                Unsets::Header(name) => by_header.insert(name.to_ascii_lowercase(), next),
            };
        }
        let by_name = if s.id == "header" && !by_header.is_empty() {
            header_key(&s).and_then(|k| by_header.get(&k).copied())
        } else {
            None
        };
        match by_id
            .get(s.id.as_str())
            .copied()
            .into_iter()
            .chain(by_name)
            .min()
        {
            Some(neg) => removed.push((neg, index, s)),
            None => kept.push(s),
        }
    }
    kept.reverse();
    *settings = kept;
    removed
}

/// The command line without its `--no-<opt>` words, what they removed, the words themselves,
/// and the `--auth-password` occurrences left (see [`PasswordWords`]).
type Stripped = (Vec<OsString>, Vec<Unset>, Vec<Negation>, Vec<PasswordWords>);

/// One command-line `--auth-password` occurrence: its words' indices in the stripped argv, and
/// whether it has no value (swaks's `-ap` alone: "the password comes from the other sources").
type PasswordWords = (Vec<usize>, bool);

/// Which config file was used, for `--dump-config`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FileState {
    /// Read this file.
    Read(PathBuf),
    /// The default file does not exist.
    Absent(PathBuf),
    /// No home directory, so no default file.
    NoHome,
    /// Turned off by this (`--no-config` or `EHLO_NO_CONFIG`).
    Off(&'static str),
}

/// The result of layering.
#[derive(Debug, Clone)]
pub(crate) struct Layered {
    /// The merged argv for clap (program name first).
    pub(crate) args: Vec<OsString>,
    /// The effective settings in merged order (empty when nothing was layered).
    pub(crate) settings: Vec<Setting>,
    /// Settings of a lower layer that a higher one replaced.
    pub(crate) overridden: Vec<Setting>,
    /// Every `--no-<opt>` seen, lowest layer first.
    pub(crate) negations: Vec<Negation>,
    /// Settings a `--no-<opt>` removed.
    pub(crate) unset: Vec<Unset>,
    /// `EHLO_*` variables that are no option.
    pub(crate) ignored_env: Vec<String>,
    /// For an ignored `EHLO_*` name that is a misspelling (`EHLO_TIMOUT`), the variable meant
    /// (`EHLO_TIMEOUT`).
    pub(crate) env_hints: HashMap<String, String>,
    /// Variables ignored for a reason of their own, with it: `EHLO_*` naming a flag that only
    /// the command line takes (`EHLO_HELP`, `EHLO_VERSION`, `EHLO_DUMP_CONFIG`…; refusing them
    /// made every send exit 1).
    pub(crate) ignored_why: Vec<(String, String)>,
    /// `EHLO_*` variables for another mode's flags, with those modes (`EHLO_FAIL_ON`: `check`):
    /// not read by this one, and no mistake (one environment serves every mode).
    pub(crate) other_modes: Vec<(String, String)>,
    /// The password comes from `EHLO_AUTH_PASSWORD` alone (no `--auth-password` on the command
    /// line, in the file or in `SWAKS_OPT_*`): it does not turn AUTH on by itself.
    pub(crate) password_from_env: bool,
    /// The config file.
    pub(crate) file: FileState,
    /// Said on stderr before the run: a config file holding a secret that others may read.
    pub(crate) warnings: Vec<String>,
}

impl Layered {
    /// `argv` as given: nothing layered into it, nothing to report.
    fn unlayered(args: Vec<OsString>, file: FileState) -> Self {
        Layered {
            args,
            settings: Vec::new(),
            overridden: Vec::new(),
            negations: Vec::new(),
            unset: Vec::new(),
            ignored_env: Vec::new(),
            env_hints: HashMap::new(),
            ignored_why: Vec::new(),
            other_modes: Vec::new(),
            password_from_env: false,
            file,
            warnings: Vec::new(),
        }
    }

    /// `--dump-config` output: the effective options in config file format, grouped by layer
    /// with `#` comment lines, so it can be saved as a config file as is.
    pub(crate) fn dump(&self, show_secrets: bool) -> String {
        let mut out = String::from(
            "# ehlo --dump-config: effective options, lowest precedence first (file < SWAKS_OPT_* < EHLO_* < command line)\n",
        );
        out.push_str(&match &self.file {
            FileState::Read(p) => format!("# config file: {}\n", p.display()),
            FileState::Absent(p) => {
                format!("# config file: none ({} does not exist)\n", p.display())
            }
            FileState::NoHome => "# config file: none (no home directory)\n".into(),
            FileState::Off(by) => format!("# config file: turned off ({by})\n"),
        });
        let mut last: Option<&str> = None;
        for s in &self.settings {
            let group = match &s.origin {
                Origin::File { .. } => "# from the config file",
                Origin::Env(n) if n.starts_with(SWAKS_ENV_PREFIX) => {
                    "# from the environment (SWAKS_OPT_*)"
                }
                Origin::Env(_) => "# from the environment (EHLO_*)",
                Origin::CommandLine => "# from the command line",
            };
            if last != Some(group) {
                out.push_str(group);
                out.push('\n');
                last = Some(group);
            }
            out.push_str(&s.line(show_secrets));
            out.push('\n');
        }
        for s in &self.overridden {
            out.push_str(&format!(
                "# overridden: {} ({})\n",
                s.line(show_secrets),
                s.origin
            ));
        }
        // What each negation removed, in `unset` order (a scan of `unset` per negation was
        // quadratic in `--no-<opt>` words).
        let mut by_seq: HashMap<usize, Vec<&Unset>> = HashMap::new();
        for u in &self.unset {
            by_seq.entry(u.by.seq).or_default().push(u);
        }
        for n in &self.negations {
            let mut any = false;
            for u in by_seq.get(&n.seq).into_iter().flatten() {
                any = true;
                out.push_str(&format!(
                    "# unset: {} ({}) by {} ({})\n",
                    u.setting.line(show_secrets),
                    u.setting.origin,
                    n.spelling,
                    n.origin
                ));
            }
            if !any {
                out.push_str(&format!(
                    "# unset: nothing by {} ({})\n",
                    n.spelling, n.origin
                ));
            }
        }
        for name in &self.ignored_env {
            match self.env_hints.get(name) {
                Some(meant) => out.push_str(&format!(
                    "# ignored: {name} (not an option; did you mean {meant}?)\n"
                )),
                None => out.push_str(&format!("# ignored: {name} (not an option)\n")),
            }
        }
        for (name, why) in &self.ignored_why {
            out.push_str(&format!("# ignored: {name} ({why})\n"));
        }
        for (name, modes) in &self.other_modes {
            out.push_str(&format!(
                "# not read by the send: {name} (an option of {modes})\n"
            ));
        }
        out
    }
}

/// The flag table, seen from layering.
struct Table {
    cmd: Command,
    conflicts: HashMap<String, HashSet<String>>,
    /// Numbers the negations, so the dump can tell two `--no-from` apart.
    seq: std::cell::Cell<usize>,
    /// Where each name is in the table.
    index: Names,
    /// One-flag commands that check a value (see [`command_of`]), made on first use.
    alone: std::cell::RefCell<HashMap<String, Command>>,
}

/// The table's flags by id, by long name or alias, and by short, as positions in the table
/// (the first flag wins a name, as a scan of the table in order would find): a config line or
/// variable costs one look-up, not a walk over every flag.
#[derive(Default)]
struct Names {
    ids: HashMap<String, usize>,
    longs: HashMap<String, usize>,
    shorts: HashMap<char, usize>,
}

impl Names {
    fn new(cmd: &Command) -> Names {
        let mut n = Names::default();
        for (i, a) in cmd.get_arguments().enumerate() {
            n.ids.entry(a.get_id().to_string()).or_insert(i);
            for name in super::args::long_names(a) {
                n.longs.entry(name.to_string()).or_insert(i);
            }
            if let Some(c) = a.get_short() {
                n.shorts.entry(c).or_insert(i);
            }
        }
        n
    }
}

/// A command with `arg` as its only flag, to check a value from a file or variable the way
/// clap checks it on the command line (value parser, delimiter, number of values) and with
/// the same messages. Parsing one word against it costs one flag, where a clone of the whole
/// table per config line made a large file take seconds. The links to other flags (`requires`,
/// conflicts, overrides, groups) are dropped: they concern the merged command line, which clap
/// parses as a whole afterwards, and alone a `tls-cert` line could never satisfy its
/// `requires = "tls_key"`.
fn command_of(arg: &Arg) -> Command {
    let arg = arg
        .clone()
        .requires(Resettable::Reset)
        .conflicts_with(Resettable::Reset)
        .overrides_with(Resettable::Reset)
        .group(Resettable::Reset)
        .required(false);
    Command::new("ehlo")
        .disable_help_flag(true)
        .disable_version_flag(true)
        .args_override_self(true)
        .arg(arg)
}

/// Repeatable flags that a higher layer replaces instead of adding to: swaks's `--to`, `--cc`
/// and `--bcc` are single settings, so a `.swaksrc` recipient plus `-t` on the command line
/// sends to the command line's only. (Repeated in one layer they still add up.)
const REPLACED_BY_HIGHER: &[&str] = &["to", "cc", "bcc"];

/// A secret and the file it can be read from: two ways to give one setting, so a higher layer's
/// either replaces a lower layer's other (a command-line `--auth-password-file` beats
/// `EHLO_AUTH_PASSWORD` and a config-file `auth-password`, where keeping both let the lower
/// layer's value win). Given in one layer, both are kept (the value wins, see `mode::auth::find_secrets`).
const REPLACE_EACH_OTHER: &[(&str, &str)] = &[
    ("auth_password", "auth_password_file"),
    ("auth_oauth_token", "auth_token_file"),
];

/// What a name in the file or the environment refers to.
enum Lookup<'a> {
    Arg(&'a Arg),
    /// Layering controls, help, version.
    CommandLineOnly,
    Unknown,
}

impl Table {
    fn new() -> Table {
        let mut cmd = Cli::command();
        cmd.build();
        let mut conflicts: HashMap<String, HashSet<String>> = HashMap::new();
        for a in cmd.get_arguments() {
            for b in cmd.get_arg_conflicts_with(a) {
                let (a, b) = (a.get_id().to_string(), b.get_id().to_string());
                conflicts.entry(a.clone()).or_default().insert(b.clone());
                conflicts.entry(b).or_default().insert(a);
            }
        }
        for (a, b) in REPLACE_EACH_OTHER {
            conflicts
                .entry(a.to_string())
                .or_default()
                .insert(b.to_string());
            conflicts
                .entry(b.to_string())
                .or_default()
                .insert(a.to_string());
        }
        Table {
            index: Names::new(&cmd),
            cmd,
            conflicts,
            seq: std::cell::Cell::new(0),
            alone: std::cell::RefCell::new(HashMap::new()),
        }
    }

    /// The table for parsing the command line alone: without the `requires` links (a
    /// command-line `--tls-key` needs the `--tls-cert` a config file or `EHLO_TLS_CERT` may
    /// give; clap checks them on the merged command line). Conflicts stay: they are wrong in
    /// any layering.
    fn command_line_cmd(&self) -> Command {
        let mut cmd = self
            .cmd
            .clone()
            .mut_args(|a| a.requires(Resettable::Reset).required(false));
        // A subcommand's too: a flag it needs (`requires`) may come from its `EHLO_*` layer,
        // and a misspelt variable is named even when a required word is missing, as in the
        // send (clap says what is missing on the real parse).
        let names: Vec<String> = cmd
            .get_subcommands()
            .map(|s| s.get_name().to_string())
            .collect();
        for name in names {
            cmd = cmd.mut_subcommand(name, |s| {
                s.mut_args(|a| a.requires(Resettable::Reset).required(false))
            });
        }
        cmd
    }

    /// The flag at `i` in the table's order.
    fn at(&self, i: usize) -> Option<&Arg> {
        self.cmd.get_arguments().nth(i)
    }

    fn by_id(&self, id: &str) -> Option<&Arg> {
        self.at(*self.index.ids.get(id)?)
    }

    /// A long name, alias or one-character short of the one-shot send.
    fn lookup(&self, name: &str) -> Lookup<'_> {
        // swaks's `h` is --helo (clap's -h is help): `h NAME` in a file, SWAKS_OPT_h.
        let name = if name == "h" { "helo" } else { name };
        let long = self.index.longs.get(name).copied();
        let mut chars = name.chars();
        let short = match (chars.next(), chars.next()) {
            (Some(c), None) => self.index.shorts.get(&c).copied(),
            _ => None,
        };
        // The first flag of the table that has the name, whichever way.
        let found = long.into_iter().chain(short).min().and_then(|i| self.at(i));
        match found {
            None => Lookup::Unknown,
            Some(a) => {
                if CONTROL_IDS.contains(&a.get_id().as_str()) || is_meta(a) || !env_may_set(a) {
                    Lookup::CommandLineOnly
                } else {
                    Lookup::Arg(a)
                }
            }
        }
    }

    /// The `EHLO_*` variable an ignored `name` most likely meant: the closest as typed of the
    /// names the environment takes (the send's long options and aliases, `EHLO_NO_<OPT>`,
    /// [`ENV_ALIASES`], [`ENV_CONFIG`], [`ENV_NO_CONFIG`]), within the command line's
    /// distance for a misspelt flag (one edit per three characters, at least one); a long name
    /// before an alias at the same distance.
    fn env_hint(&self, name: &str) -> Option<String> {
        let typed = name.strip_prefix(ENV_PREFIX)?.to_ascii_uppercase();
        let env_name = |long: &str| long.to_ascii_uppercase().replace('-', "_");
        let mut known: Vec<(bool, String)> = [ENV_CONFIG, ENV_NO_CONFIG]
            .into_iter()
            .chain(ENV_ALIASES.iter().map(|(n, _)| *n))
            .map(|n| (false, n[ENV_PREFIX.len()..].to_string()))
            .collect();
        for (long, &i) in &self.index.longs {
            if long.chars().count() < 2 || !matches!(self.lookup(long), Lookup::Arg(_)) {
                continue;
            }
            let alias = self.at(i).and_then(Arg::get_long) != Some(long.as_str());
            known.push((alias, env_name(long)));
            if typed.starts_with("NO_") {
                known.push((alias, format!("NO_{}", env_name(long))));
            }
        }
        // Every subcommand's flags too: the hint is against every mode's variables, whichever
        // mode runs.
        for sub in self.cmd.get_subcommands() {
            for a in sub
                .get_arguments()
                .filter(|a| !is_meta(a) && env_may_set(a))
            {
                let aliases = a.get_all_aliases().unwrap_or_default();
                for (alias, long) in a
                    .get_long()
                    .map(|l| (false, l))
                    .into_iter()
                    .chain(aliases.into_iter().map(|l| (true, l)))
                {
                    if long.chars().count() >= 2 {
                        known.push((alias, env_name(long)));
                    }
                }
            }
        }
        crate::suggest::nearest(&typed, known.into_iter().map(|(alias, n)| (n, alias)))
            .map(|n| format!("{ENV_PREFIX}{n}"))
    }

    /// Why a config file line's `name` is refused: no option of the send, the file's only
    /// reader. The modes whose option it is (`fail-on`: `ehlo check`'s and `ehlo probe`'s, which read no file),
    /// else the send's option closest to it as typed (`timout`: `timeout`, the command line's
    /// rule, [`crate::suggest::nearest`]), as a misspelt flag or `EHLO_*` variable is answered.
    fn file_unknown(&self, name: &str) -> String {
        const WHY: &str = "the config file takes options of the one-shot send";
        let modes = self.modes_naming(name);
        if !modes.is_empty() {
            let modes: Vec<String> = modes.iter().map(|m| format!("'ehlo {m}'")).collect();
            return format!(
                "unknown option '{name}' (an option of {}: {WHY} only)",
                modes.join(", ")
            );
        }
        let names = self
            .index
            .longs
            .iter()
            .filter(|(long, _)| {
                long.chars().count() >= 3 && matches!(self.lookup(long), Lookup::Arg(_))
            })
            .map(|(long, &i)| {
                let alias = self.at(i).and_then(Arg::get_long) != Some(long.as_str());
                (long.as_str(), alias)
            });
        match crate::suggest::nearest(name, names) {
            Some(meant) => format!("unknown option '{name}' (did you mean '{meant}'?)"),
            None => format!("unknown option '{name}' ({WHY})"),
        }
    }

    /// The subcommands with a flag named `flag_name` (`EHLO_<NAME>` lower-cased, dashes for
    /// underscores; help aside): a variable for one mode is no mistake in another.
    fn modes_naming(&self, flag_name: &str) -> Vec<&str> {
        self.cmd
            .get_subcommands()
            .filter(|sub| match sub_lookup(sub, flag_name) {
                Lookup::Arg(_) => true,
                Lookup::CommandLineOnly => !flag_name.starts_with("help"),
                Lookup::Unknown => false,
            })
            .map(Command::get_name)
            .collect()
    }

    /// Whether the one-shot send reads `EHLO_<NAME>` (`rest`, the part after `EHLO_`): one of its
    /// flags, an `EHLO_NO_<OPT>` negation or a documented secret source ([`ENV_ALIASES`]).
    fn send_reads(&self, rest: &str) -> bool {
        let flag_name = rest.to_ascii_lowercase().replace('_', "-");
        ENV_ALIASES
            .iter()
            .any(|(n, _)| n.strip_prefix(ENV_PREFIX) == Some(rest))
            || (rest.len() > 1 && matches!(self.lookup(&flag_name), Lookup::Arg(_)))
            || flag_name
                .strip_prefix("no-")
                .is_some_and(|o| o.len() > 1 && matches!(self.lookup(o), Lookup::Arg(_)))
    }

    fn repeatable(&self, id: &str) -> bool {
        self.by_id(id)
            .is_some_and(|a| matches!(a.get_action(), ArgAction::Append | ArgAction::Count))
    }

    fn conflict(&self, a: &str, b: &str) -> bool {
        self.conflicts.get(a).is_some_and(|s| s.contains(b))
    }

    /// [`one_layer_conflict`] with the send's conflicts; a secret and its file
    /// ([`REPLACE_EACH_OTHER`]) may share a layer (the value wins later).
    fn send_layer_conflict(&self, layer: &[Setting]) -> Result<(), Error> {
        let paired = |a: &str, b: &str| {
            REPLACE_EACH_OTHER
                .iter()
                .any(|&(x, y)| (x, y) == (a, b) || (y, x) == (a, b))
        };
        one_layer_conflict(layer, |a, b| self.conflict(a, b) && !paired(a, b))
    }

    /// Does a setting of `id` give way to this set of higher-layer ids? A repeatable flag
    /// accumulates across layers, except the recipients ([`REPLACED_BY_HIGHER`]).
    fn overridden(&self, id: &str, higher: &HashSet<String>) -> bool {
        (higher.contains(id) && (!self.repeatable(id) || REPLACED_BY_HIGHER.contains(&id)))
            || higher.iter().any(|h| self.conflict(id, h))
    }

    /// A setting for `arg` with a value as written in a file or variable: checks the
    /// value/no-value shape, then lets clap validate the value itself (against [`command_of`]).
    /// `Err` is the reason, without the value (it may be a secret).
    fn setting(
        &self,
        arg: &Arg,
        value: Option<OsString>,
        origin: Origin,
    ) -> Result<Setting, String> {
        self.setting_in("", arg, value, origin)
    }

    /// [`Table::setting`] for a flag of `mode` (`""`: the send; a subcommand's flag may share
    /// an id with a send flag of another value parser).
    fn setting_in(
        &self,
        mode: &str,
        arg: &Arg,
        value: Option<OsString>,
        origin: Origin,
    ) -> Result<Setting, String> {
        let long = arg
            .get_long()
            .map(str::to_string)
            .unwrap_or_else(|| arg.get_id().to_string());
        let takes = arg.get_action().takes_values();
        let optional = arg.get_num_args().is_some_and(|r| r.min_values() == 0);
        let value = match value {
            Some(v) if !takes && !v.is_empty() => {
                return Err(format!("'{long}' takes no value"));
            }
            Some(v) if !takes || (optional && v.is_empty()) => None,
            None if takes && !optional => {
                return Err(format!("'{long}' needs a value"));
            }
            v => v,
        };
        let s = Setting {
            id: arg.get_id().to_string(),
            name: long,
            value,
            origin,
            secret: arg.is_hide_env_values_set(),
        };
        self.check(mode, arg, &s).map(|()| s)
    }

    /// clap's verdict on `s`, a setting of `arg` (a flag of `mode`): its value parsed by
    /// [`command_of`]`(arg)`. A secret's value is never quoted: its reason is clap's without it.
    fn check(&self, mode: &str, arg: &Arg, s: &Setting) -> Result<(), String> {
        let mut alone = self.alone.borrow_mut();
        let cmd = alone
            .entry(format!("{mode}/{}", s.id))
            .or_insert_with(|| command_of(arg));
        match cmd.try_get_matches_from_mut([OsString::from("ehlo"), s.token()]) {
            Ok(_) => Ok(()),
            Err(_) if s.secret => Err(format!("invalid value for '--{}' (not shown)", s.name)),
            // Worded as the same bad value on the command line is: the flag, the value, the
            // parser's reason or the possible values (clap's own line has the value name,
            // `'--timeout <DURATION>'`, and no list).
            Err(e) => Err(value_reason(&e)),
        }
    }

    /// `name` (after the dashes, without `=value`) as a `--no-<opt>`: `None` when it is no
    /// negation (no `no-` prefix, or a real flag such as `no-config` or `no-hints`); `Err` is
    /// the reason when it negates nothing known.
    fn negation(&self, name: &str, origin: Origin) -> Option<Result<Negation, String>> {
        let rest = name.strip_prefix("no-")?;
        if !matches!(self.lookup(name), Lookup::Unknown) {
            return None;
        }
        // A config line names options without dashes.
        let dash = if matches!(origin, Origin::File { .. }) {
            ""
        } else {
            "--"
        };
        let target = match rest
            .strip_prefix("header-")
            .or_else(|| rest.strip_prefix("h-"))
        {
            Some(h) if !h.is_empty() && !h.contains([':', ' ', '\t']) => {
                Ok(Unsets::Header(h.to_string()))
            }
            _ => {
                // A swaks letter (`--no-q`) unsets its option by the long name; ehlo's own
                // one-letter flags are no names here.
                let letter = swaks_letter(rest);
                let long = letter.unwrap_or(rest);
                let named = letter.is_some() || rest.chars().count() > 1;
                match self.lookup(long) {
                    Lookup::Arg(a) if named => Ok(Unsets::Id(a.get_id().to_string())),
                    Lookup::CommandLineOnly if named => {
                        Err(format!("'{dash}{name}': --{long} cannot be unset"))
                    }
                    _ => Err(format!(
                        "unknown option '{dash}{name}' (--no-<option> unsets an option of the one-shot send; '{rest}' is none)"
                    )),
                }
            }
        };
        let seq = self.seq.get();
        self.seq.set(seq + 1);
        Some(target.map(|target| Negation {
            spelling: name.to_string(),
            target,
            origin,
            seq,
        }))
    }

    /// The flag a command-line word names: a long name or alias after `--`.
    fn by_long(&self, name: &str) -> Option<&Arg> {
        self.at(*self.index.longs.get(name)?)
    }

    fn by_short(&self, c: char) -> Option<&Arg> {
        self.at(*self.index.shorts.get(&c)?)
    }

    /// Take the `--no-<opt>` words out of the command line (up to `--` or the first word that is
    /// no option, such as a subcommand) and drop the occurrences they unset that come before
    /// them. Returns the argv for clap, what was removed and the negations in order.
    fn strip_negations(&self, argv: Vec<OsString>) -> Result<Stripped, Error> {
        struct Occ {
            setting: Setting,
            words: Vec<usize>,
            /// Inside a bundle of shorts (`-4k`): cannot be taken out alone.
            bundled: Option<String>,
        }
        /// The occurrences so far, whether each was unset, and those not unset yet by flag id
        /// and by `--header` name (lower-cased).
        #[derive(Default)]
        struct Occs {
            list: Vec<Occ>,
            removed: Vec<bool>,
            by_id: HashMap<String, Vec<usize>>,
            by_header: HashMap<String, Vec<usize>>,
        }
        impl Occs {
            fn push(&mut self, o: Occ) {
                let k = self.list.len();
                self.by_id.entry(o.setting.id.clone()).or_default().push(k);
                if o.setting.id == "header"
                    && let Some(key) = header_key(&o.setting)
                {
                    self.by_header.entry(key).or_default().push(k);
                }
                self.removed.push(false);
                self.list.push(o);
            }
        }
        let mut occs = Occs::default();
        let mut drop = vec![false; argv.len()];
        let mut unset = Vec::new();
        let mut negations = Vec::new();
        let setting = |a: &Arg, value: Option<OsString>| Setting {
            id: a.get_id().to_string(),
            name: a
                .get_long()
                .map(str::to_string)
                .unwrap_or_else(|| a.get_id().to_string()),
            value,
            origin: Origin::CommandLine,
            secret: a.is_hide_env_values_set(),
        };
        // The value of `a` when it is not attached: the next word if it needs one, or if it may
        // take one and the next word is no option (clap's rule for optional values).
        let detached = |a: &Arg, i: usize| -> Option<usize> {
            if !a.get_action().takes_values() {
                return None;
            }
            let next = argv.get(i + 1)?;
            let optional = a.get_num_args().is_some_and(|r| r.min_values() == 0);
            (!optional || !next.to_string_lossy().starts_with('-')).then_some(i + 1)
        };
        let mut i = 1;
        while i < argv.len() {
            let Some(s) = argv[i].to_str() else { break };
            if s == "--" || s == "-" || !s.starts_with('-') {
                break;
            }
            let body = s
                .strip_prefix("--")
                .or_else(|| s.strip_prefix('-').filter(|b| b.starts_with("no-")));
            if let Some(body) = body {
                let (name, inline) = match body.split_once('=') {
                    Some((n, v)) => (n, Some(v)),
                    None => (body, None),
                };
                if let Some(neg) = self.negation(name, Origin::CommandLine) {
                    let neg = neg.map_err(Error::Usage)?;
                    if inline.is_some() {
                        return Err(Error::Usage(format!("'--{name}' takes no value")));
                    }
                    // The occurrences it matches that are still there, in order: taken from
                    // the index (an occurrence goes once; a scan of every earlier one per
                    // negation was quadratic in a long command line).
                    let hits = match &neg.target {
                        Unsets::Id(id) => occs.by_id.remove(id.as_str()),
                        Unsets::Header(h) => occs.by_header.remove(&h.to_ascii_lowercase()),
                    };
                    for k in hits.unwrap_or_default() {
                        if occs.removed[k] {
                            continue;
                        }
                        occs.removed[k] = true;
                        let o = &occs.list[k];
                        if let Some(word) = &o.bundled {
                            return Err(Error::Usage(format!(
                                "'--{name}' cannot unset --{} inside '{word}': give those flags separately",
                                o.setting.name
                            )));
                        }
                        for &w in &o.words {
                            drop[w] = true;
                        }
                        unset.push(Unset {
                            setting: o.setting.clone(),
                            by: neg.clone(),
                        });
                    }
                    drop[i] = true;
                    negations.push(neg);
                    i += 1;
                    continue;
                }
                if s.starts_with("--") {
                    let Some(a) = self.by_long(name) else {
                        i += 1;
                        continue;
                    };
                    let mut words = vec![i];
                    let value = match inline {
                        Some(v) if a.get_action().takes_values() => Some(OsString::from(v)),
                        Some(_) => None,
                        None => detached(a, i).map(|j| {
                            words.push(j);
                            argv[j].clone()
                        }),
                    };
                    i = words[words.len() - 1] + 1;
                    occs.push(Occ {
                        setting: setting(a, value),
                        words,
                        bundled: None,
                    });
                    continue;
                }
            }
            // Shorts: `-x`, `-xVALUE`, `-x VALUE`, or a bundle `-4k`.
            let chars: Vec<char> = s.chars().skip(1).collect();
            let mut next = i + 1;
            for (k, &c) in chars.iter().enumerate() {
                let Some(a) = self.by_short(c) else { break };
                if a.get_action().takes_values() {
                    let rest: String = chars[k + 1..].iter().collect();
                    let rest = rest.strip_prefix('=').unwrap_or(&rest).to_string();
                    let mut words = vec![i];
                    let value = if !rest.is_empty() {
                        Some(OsString::from(rest))
                    } else {
                        detached(a, i).map(|j| {
                            words.push(j);
                            next = j + 1;
                            argv[j].clone()
                        })
                    };
                    occs.push(Occ {
                        setting: setting(a, value),
                        words,
                        bundled: (k > 0).then(|| s.to_string()),
                    });
                    break;
                }
                occs.push(Occ {
                    setting: setting(a, None),
                    words: vec![i],
                    bundled: (chars.len() > 1).then(|| s.to_string()),
                });
            }
            i = next;
        }
        // Word i of `argv` is word `i - (words dropped before it)` of the result.
        let mut shift = Vec::with_capacity(drop.len());
        let mut dropped = 0;
        for &d in &drop {
            shift.push(dropped);
            dropped += usize::from(d);
        }
        let passwords = occs
            .list
            .iter()
            .zip(&occs.removed)
            .filter(|(o, removed)| {
                !**removed && o.setting.id == "auth_password" && o.bundled.is_none()
            })
            .map(|(o, _)| {
                let words = o.words.iter().map(|&w| w - shift[w]).collect();
                (words, o.setting.value.as_ref().is_none_or(|v| v.is_empty()))
            })
            .collect();
        let args = argv
            .into_iter()
            .enumerate()
            .filter(|(i, _)| !drop[*i])
            .map(|(_, a)| a)
            .collect();
        Ok((args, unset, negations, passwords))
    }

    /// The options the command line itself sets, in command-line order (for the dump and for
    /// deciding what it overrides).
    fn command_line(&self, m: &ArgMatches) -> Vec<Setting> {
        let mut found: Vec<(usize, Setting)> = Vec::new();
        for a in self.cmd.get_arguments() {
            let id = a.get_id().as_str();
            if m.value_source(id) != Some(ValueSource::CommandLine)
                || CONTROL_IDS.contains(&id)
                || is_meta(a)
            {
                continue;
            }
            let index = m.index_of(id).unwrap_or(usize::MAX);
            let name = a.get_long().unwrap_or(id).to_string();
            let mk = |value: Option<OsString>| Setting {
                id: id.to_string(),
                name: name.clone(),
                value,
                origin: Origin::CommandLine,
                secret: a.is_hide_env_values_set(),
            };
            if !a.get_action().takes_values() {
                found.push((index, mk(None)));
                continue;
            }
            let Some(occurrences) = m.get_raw_occurrences(id) else {
                found.push((index, mk(None)));
                continue;
            };
            for occ in occurrences {
                let parts: Vec<&OsStr> = occ.collect();
                let value = (!parts.is_empty()).then(|| {
                    let mut v = OsString::new();
                    for (i, p) in parts.iter().enumerate() {
                        if i > 0 {
                            v.push(",");
                        }
                        v.push(p);
                    }
                    v
                });
                found.push((index, mk(value)));
            }
        }
        found.sort_by_key(|(i, _)| *i);
        found.into_iter().map(|(_, s)| s).collect()
    }
}

/// Help and version flags: never from a file or the environment.
fn is_meta(a: &Arg) -> bool {
    matches!(
        a.get_action(),
        ArgAction::Help | ArgAction::HelpShort | ArgAction::HelpLong | ArgAction::Version
    )
}

/// Whether `EHLO_<NAME>` may set `a`. `hide_env` in the flag table marks a flag that a mode
/// takes from its command line only (clap reads no variable of ours, so the mark changes no help
/// text): a subcommand's target port, server, recipients and login, and steps a session adds.
fn env_may_set(a: &Arg) -> bool {
    !a.is_hide_env_set()
}

/// A long name or alias (two characters or more: shorts are spelt with their long name in the
/// environment) among a subcommand's flags.
fn sub_lookup<'a>(sub: &'a Command, name: &str) -> Lookup<'a> {
    let found = sub
        .get_arguments()
        .find(|a| name.chars().count() > 1 && super::args::long_names(a).any(|l| l == name));
    match found {
        None => Lookup::Unknown,
        Some(a) if is_meta(a) || !env_may_set(a) => Lookup::CommandLineOnly,
        Some(a) => Lookup::Arg(a),
    }
}

/// What [`with_sources`] puts after `flag` (`--strict`) in a line naming it: ` (set by
/// EHLO_STRICT in the environment)`, empty when the command line alone set it. For the refusals
/// raised once the run has started (`--local-interface`'s, the REPL's `--strict`), worded by
/// the connection layer and the REPL, which know no settings.
pub(crate) fn source_mark(flag: &str, settings: &[Setting]) -> String {
    with_sources(flag, settings)
        .get(flag.len()..)
        .unwrap_or_default()
        .to_string()
}

/// Each flag set below the command line with its [`source_mark`], for a part that words lines
/// naming flags it was handed but knows no settings (serve's start warnings).
pub(crate) fn source_marks(settings: &[Setting]) -> Vec<(String, String)> {
    let mut marks: Vec<(String, String)> = Vec::new();
    for s in settings.iter().filter(|s| s.origin != Origin::CommandLine) {
        let flag = format!("--{}", s.name);
        if !marks.iter().any(|(f, _)| *f == flag) {
            let mark = source_mark(&flag, settings);
            marks.push((flag, mark));
        }
    }
    marks
}

/// `flag` as a message names it inside brackets after what it limited (`within 1s (--timeout)`,
/// `deadline reached (--deadline)`), with where it was set when that was below the command line
/// in the same brackets: `--timeout, set by EHLO_TIMEOUT in the environment` (a [`source_mark`]
/// would nest a second pair).
pub(crate) fn bracketed(flag: &str, settings: &[Setting]) -> String {
    in_brackets(flag, &source_mark(flag, settings))
}

/// `flag` with its [`source_mark`] (` (set by EHLO_TIMEOUT in the environment)`, or nothing)
/// moved inside the brackets a message puts the flag in: `--timeout, set by EHLO_TIMEOUT in the
/// environment`.
pub(crate) fn in_brackets(flag: &str, mark: &str) -> String {
    match mark.strip_prefix(" (").and_then(|m| m.strip_suffix(')')) {
        Some(inner) => format!("{flag}, {inner}"),
        None => flag.to_string(),
    }
}

/// `line`, a refusal of the validated flags, with each flag it names that was set below the
/// command line followed by where: `--helo (set by EHLO_HELO in the environment): the name is
/// empty`, `--dsn-envid (set by line 2 of ~/.config/ehlo/config): …`. A flag the command line
/// gives too (a repeatable one) is `also set by`. Each flag is marked once, at its first mention
/// as a whole word (`--tls` is not `--tls-cert`); one written on with `=value` or `/--other`
/// (`--tls-cert/--tls-key: …`) gets its mark after that word, naming itself, the marks of one
/// word joined in one pair of brackets. A line naming none is returned as is. Only names and
/// places are added, never a value.
pub(crate) fn with_sources(line: &str, settings: &[Setting]) -> String {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let mut marks: Vec<(usize, String)> = Vec::new();
    let mut done: Vec<&str> = Vec::new();
    for s in settings {
        if s.origin == Origin::CommandLine || done.contains(&s.name.as_str()) {
            continue;
        }
        done.push(&s.name);
        let mut sources: Vec<String> = Vec::new();
        for o in settings.iter().filter(|o| o.name == s.name) {
            if let Some(source) = o.origin.source()
                && !sources.contains(&source)
            {
                sources.push(source);
            }
        }
        let also = settings
            .iter()
            .any(|o| o.name == s.name && o.origin == Origin::CommandLine);
        let flag = format!("--{}", s.name);
        let Some(at) = line
            .match_indices(&flag)
            .map(|(i, _)| i)
            .find(|&i| !line[..i].ends_with(word) && !line[i + flag.len()..].starts_with(word))
        else {
            continue;
        };
        let end = at + flag.len();
        let rest = &line[end..];
        let (end, named) = if rest.starts_with(['=', '/']) {
            let stop = |c: char| c.is_whitespace() || (rest.starts_with('/') && c == ':');
            (rest.find(stop).map_or(line.len(), |n| end + n), true)
        } else {
            // The last of a `/` list (`--tls-key` of `--tls-cert/--tls-key`) names itself too.
            (end, line[..at].ends_with('/'))
        };
        marks.push((
            end,
            format!(
                "{}{}set by {}",
                if named {
                    format!("{flag} ")
                } else {
                    String::new()
                },
                if also { "also " } else { "" },
                sources.join(" and ")
            ),
        ));
    }
    // From the end, so that each position still counts in the line as given.
    marks.sort_by_key(|(end, _)| std::cmp::Reverse(*end));
    let mut out = line.to_string();
    let mut i = 0;
    while i < marks.len() {
        let end = marks[i].0;
        let mut group: Vec<&str> = Vec::new();
        while i < marks.len() && marks[i].0 == end {
            group.push(&marks[i].1);
            i += 1;
        }
        out.insert_str(end, &format!(" ({})", group.join(", ")));
    }
    out
}

/// The `EHLO_*` variable that may give `--long` in `sub` (`None`: the send), as a refusal
/// offers it beside the flag: `None` when the flag is taken on the command line only (a
/// subcommand's port or certificate, help, the layering controls) or is no flag there.
pub(crate) fn env_var_for(sub: Option<&str>, long: &str) -> Option<String> {
    let mut cmd = Cli::command();
    cmd.build();
    let (cmd, control) = match sub {
        Some(name) => (cmd.find_subcommand(name)?, &[][..]),
        None => (&cmd, CONTROL_IDS),
    };
    let arg = cmd.get_arguments().find(|a| a.get_long() == Some(long))?;
    (!control.contains(&arg.get_id().as_str()) && !is_meta(arg) && env_may_set(arg)).then(|| {
        format!(
            "{ENV_PREFIX}{}",
            long.to_ascii_uppercase().replace('-', "_")
        )
    })
}

/// The first line of a clap error without its `error: ` prefix.
/// clap's refusal of one layered value, worded as [`super::value_error_text`] words it on the
/// command line; another kind of error as [`clap_reason`].
fn value_reason(e: &clap::Error) -> String {
    super::value_error_text(e, "").unwrap_or_else(|| clap_reason(e))
}

fn clap_reason(e: &clap::Error) -> String {
    let text = e.to_string();
    let first = text.lines().next().unwrap_or_default().trim();
    first.strip_prefix("error: ").unwrap_or(first).to_string()
}

/// Whether the command line or the environment asks the one-shot send (or a subcommand whose
/// output is the send's JSON Lines) for `--json`: how a mistake [`apply`] found in a lower
/// layer is reported (the merged flags are never parsed
/// then). The command line's `--json` / `--no-json` decide; else `EHLO_JSON` or
/// `SWAKS_OPT_json` (set empty, as a flag is), unless `EHLO_NO_JSON` unsets the latter. (The
/// file is not read again: its mistake may be the reason.) A command line clap cannot parse (an
/// unknown flag, a bad value: the mistake itself) is read word by word instead
/// ([`json_by_word`]), so that its usage error still ends the JSON Lines a CI job asked for.
pub(crate) fn command_line_json(
    argv: Vec<OsString>,
    env: &LayerEnv,
) -> (bool, Option<&'static str>) {
    let set = |name: &str| env.vars.iter().any(|(n, v)| n == name && v.is_empty());
    let table = Table::new();
    let Ok((stripped, _, negations, _)) = table.strip_negations(argv.clone()) else {
        return json_by_word(&argv, set);
    };
    let Ok(m) = table.command_line_cmd().try_get_matches_from(&stripped) else {
        return json_by_word(&argv, set);
    };
    if let Some((name, sub_m)) = m.subcommand() {
        // The modes whose output is the send's JSON Lines (`Cli::json_lines`), and the two
        // with a report of their own (`Cli::json_report`); their mistake is in their own
        // `EHLO_*` layer.
        return by_mode(name, sub_m.get_flag("json") || set("EHLO_JSON"));
    }
    let json_unset = |n: &Negation| n.target == Unsets::Id("json".into());
    if m.get_flag("json") || negations.iter().any(json_unset) {
        return (m.get_flag("json"), None);
    }
    (
        set("EHLO_JSON") || (set("SWAKS_OPT_json") && !set("EHLO_NO_JSON")),
        None,
    )
}

/// What `--json` (`json`) means for subcommand `name`: the send's JSON Lines for the modes whose
/// output they are (`Cli::json_lines`), a report of its own for the two that have one
/// (`Cli::json_report`), none for the rest.
fn by_mode(name: &str, json: bool) -> (bool, Option<&'static str>) {
    match name {
        "serve" | "demo" | "repl" | "replay" => (json, None),
        "check" if json => (false, Some("check")),
        "probe" if json => (false, Some("probe")),
        "explain" if json => (false, Some("explain")),
        _ => (false, None),
    }
}

/// Where the send's `--output-file`, `--output-file-stdout` and `--output-file-stderr` point in
/// the layers below the command line (`EHLO_*` < command line, `SWAKS_OPT_*` below `EHLO_*`,
/// the config file lowest), each from the highest layer that names it: for a mistake found
/// before the layers were merged (a command line clap refused, a bad value in the file or the
/// environment), as swaks writes the complaint into an output file its config file or
/// `SWAKS_OPT_*` named. Read leniently, line by line, since the file may hold the mistake; the
/// file is the one [`apply`] would read (`--config`, `EHLO_CONFIG`, `SWAKS_OPT_config`, the
/// default) when it is a regular file, none with `--no-config` or `EHLO_NO_CONFIG`.
pub(crate) fn output_files_below(argv: &[OsString], env: &LayerEnv) -> [Option<PathBuf>; 3] {
    const NAMES: [&str; 3] = ["output-file", "output-file-stdout", "output-file-stderr"];
    let var = |name: &str| {
        env.vars
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let mut out: [Option<PathBuf>; 3] = Default::default();
    for (slot, name) in out.iter_mut().zip(NAMES) {
        let ehlo = format!("{ENV_PREFIX}{}", name.to_uppercase().replace('-', "_"));
        let swaks = format!("{SWAKS_ENV_PREFIX}{}", name.replace('-', "_"));
        *slot = var(&ehlo)
            .or_else(|| var(&swaks))
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
    }
    // The file the layers would read, chosen as `send_layers` chooses it.
    let mut named = None;
    let mut no_config = false;
    let mut words = argv.iter().skip(1);
    while let Some(word) = words.next() {
        match word.to_str() {
            Some("--") => break,
            Some("--no-config") => no_config = true,
            Some("--config") => named = words.next().map(PathBuf::from),
            Some(w) if w.starts_with("--config=") => named = Some(PathBuf::from(&w[9..])),
            _ => {}
        }
    }
    let file = if named.is_some() {
        named
    } else if no_config || var(ENV_NO_CONFIG).is_some() {
        None
    } else if let Some(p) = var(ENV_CONFIG) {
        Some(PathBuf::from(p))
    } else if let Some(p) = var(SWAKS_OPT_CONFIG) {
        (!p.is_empty()).then(|| PathBuf::from(p))
    } else {
        env.default_file.clone()
    };
    // A regular file only: a FIFO would block (and one named on the command line has been
    // read already, by the refused run itself).
    let mut text = String::new();
    let regular = |p: &PathBuf| std::fs::metadata(p).is_ok_and(|m| m.is_file());
    if let Some(f) = file
        .filter(regular)
        .and_then(|p| std::fs::File::open(p).ok())
    {
        use std::io::Read;
        let _ = f.take(MAX_CONFIG_BYTES).read_to_string(&mut text);
    }
    let mut in_file: [Option<PathBuf>; 3] = Default::default();
    for (name, value) in text.split('\n').filter_map(split_line) {
        let (name, value) = match name.strip_prefix("no-") {
            Some(negated) => (negated, None),
            None => (name, value.filter(|v| !v.is_empty())),
        };
        if let Some(i) = NAMES.iter().position(|n| *n == name) {
            in_file[i] = value.map(PathBuf::from);
        }
    }
    for (slot, f) in out.iter_mut().zip(in_file) {
        if slot.is_none() {
            *slot = f;
        }
    }
    out
}

/// [`command_line_json`] for a command line clap refused: the mode is the first word when it
/// names a subcommand, and `--json` / `--no-json` (or swaks's `-json`) anywhere before a `--`
/// decide, the last one winning, as clap's override does; else the environment as above.
fn json_by_word(argv: &[OsString], set: impl Fn(&str) -> bool) -> (bool, Option<&'static str>) {
    let mut asked = None;
    for word in argv.iter().skip(1).map(|w| w.to_string_lossy()) {
        match word.as_ref() {
            "--" => break,
            "--json" | "-json" => asked = Some(true),
            "--no-json" | "-no-json" => asked = Some(false),
            _ => {}
        }
    }
    let sub = argv.get(1).map(|w| w.to_string_lossy().into_owned());
    let json = |fallback: bool| asked.unwrap_or(fallback);
    match sub.as_deref() {
        Some(
            name @ ("serve" | "demo" | "repl" | "replay" | "check" | "probe" | "explain" | "help"),
        ) => by_mode(name, json(set("EHLO_JSON"))),
        _ => (
            json(set("EHLO_JSON") || (set("SWAKS_OPT_json") && !set("EHLO_NO_JSON"))),
            None,
        ),
    }
}

/// Merge the config file and the environment into `argv` (already single-dash rewritten).
/// `Err` is a usage error naming the file and line or the variable.
pub(crate) fn apply(argv: Vec<OsString>, env: &LayerEnv) -> Result<Layered, Error> {
    let passthrough = |argv| Layered::unlayered(argv, FileState::Off("not layered"));
    if argv.len() <= 1 {
        // A bare `ehlo` gets the short usage, config file or not (`cli::parse` answers it first).
        return Ok(passthrough(argv));
    }
    // Nothing to layer (no config file, no option in the environment, no layering flag): the
    // command line is the whole story. This is the common case, and building and running the
    // flag table twice would cost more than a local SMTP dialogue.
    let env_sets_options = env.vars.iter().any(|(name, _)| {
        (name.starts_with(ENV_PREFIX) && !reserved(name)) || name.starts_with(SWAKS_ENV_PREFIX)
    });
    let steers_layering = argv.iter().skip(1).any(|a| {
        let a = a.to_string_lossy();
        a == "--config"
            || a.starts_with("--config=")
            || a == "--dump-config"
            || a.starts_with("--no-")
            || a.starts_with("-no-")
    });
    let file_exists = env.default_file.as_ref().is_some_and(|p| p.exists());
    if !env_sets_options && !steers_layering && !file_exists {
        return Ok(Layered {
            file: match &env.default_file {
                Some(p) => FileState::Absent(p.clone()),
                None => FileState::NoHome,
            },
            ..passthrough(argv)
        });
    }
    let table = Table::new();
    // `--no-<opt>` words never reach clap: they unset earlier command-line occurrences here and
    // lower layers below. Only the send's options come before a subcommand's word.
    let stripped = table.strip_negations(argv).map_err(nothing_sent)?;
    let matches = match table.command_line_cmd().try_get_matches_from(&stripped.0) {
        // Help, version and bad command lines: clap says the same thing again on the real parse.
        // (A flag missing one it requires is no bad command line yet: the layers may give it.)
        Err(_) => return Ok(passthrough(stripped.0)),
        Ok(m) if m.subcommand().is_some() => {
            return Ok(match m.subcommand() {
                Some((name, sub_m)) if env_sets_options => {
                    subcommand_env(&table, stripped.0, name, sub_m, env)?
                }
                _ => passthrough(stripped.0),
            });
        }
        Ok(m) => m,
    };
    send_layers(&table, stripped, &matches, env).map_err(nothing_sent)
}

/// A refusal of the send's layers says that nothing went out, as the send's command-line
/// usage errors do (`invalid value 'x' for --timeout: …; nothing was sent`): a bad value in
/// the config file, an `EHLO_*` or a `SWAKS_OPT_*` variable was worded as on the command line
/// but without it. A subcommand's refusals, on its command line or from its `EHLO_*`, say
/// whose flag it is instead.
fn nothing_sent(e: Error) -> Error {
    match e {
        Error::Usage(m) if !m.contains("nothing was sent") => {
            Error::Usage(format!("{m}; nothing was sent"))
        }
        e => e,
    }
}

/// The send's layers (config file < `SWAKS_OPT_*` < `EHLO_*` < command line) merged into the
/// command line with its negations stripped (`stripped`, parsed as `matches`).
fn send_layers(
    table: &Table,
    stripped: Stripped,
    matches: &ArgMatches,
    env: &LayerEnv,
) -> Result<Layered, Error> {
    let (mut argv, mut unset, cmdline_negations, cmdline_passwords) = stripped;
    // Environment first: it may name the file.
    let mut vars: Vec<&(String, OsString)> = env.vars.iter().collect();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    // swaks's SWAKS_OPT_* are a layer of their own, below EHLO_*: an EHLO_TO replaces a
    // SWAKS_OPT_to as a higher layer's recipients do (in one layer they added up).
    let mut swaks_settings = Vec::new();
    let mut swaks_negations = Vec::new();
    let mut env_settings = Vec::new();
    let mut env_negations = Vec::new();
    let mut ignored_env = Vec::new();
    let mut ignored_why = Vec::new();
    let mut other_modes = Vec::new();
    let mut env_file: Option<PathBuf> = None;
    let mut swaks_file: Option<PathBuf> = None;
    // swaks's SWAKS_OPT_<name>.
    for (name, value) in &vars {
        let Some(rest) = name.strip_prefix(SWAKS_ENV_PREFIX) else {
            continue;
        };
        let flag = rest.replace('_', "-");
        let origin = Origin::Env(name.clone());
        if flag == "config" {
            // swaks reads this file instead of its `.swaksrc` (empty: none at all); ignoring
            // it sent with other settings (another server) after a warning.
            swaks_file = Some(PathBuf::from(value));
            continue;
        }
        let fail = |e: String| Error::Usage(format!("{name}: {e}"));
        if let Some(header) = flag
            .strip_prefix("header-")
            .or_else(|| flag.strip_prefix("h-"))
            .filter(|h| !h.is_empty())
            && matches!(table.lookup(&flag), Lookup::Unknown)
            && let Some(arg) = table.by_id("header")
        {
            // The value as given, so clap refuses one that is not UTF-8 as it does an
            // EHLO_HEADER or --header (a lossy copy sent U+FFFD instead).
            let mut v = OsString::from(format!("{header}: "));
            v.push(value);
            swaks_settings.push(table.setting(arg, Some(v), origin).map_err(fail)?);
            continue;
        }
        // swaks reads each variable as the option it names: `SWAKS_OPT_no_from` unsets the
        // sender as `--no-from` does (the variables go in sorted order, so after
        // `SWAKS_OPT_from`), and a name that is no option makes swaks refuse the run ("Unknown
        // option", exit 1): so does ehlo, rather than send with a warning.
        match table.negation(&flag, origin.clone()) {
            Some(Ok(n)) if value.is_empty() => {
                swaks_negations.push(n);
                continue;
            }
            Some(Ok(_)) => {
                return Err(fail(format!("'--{flag}' takes no value (set it empty)")));
            }
            Some(Err(why)) => return Err(fail(why)),
            None => {}
        }
        match table.lookup(&flag) {
            Lookup::Arg(arg) => {
                if value.is_empty() && arg.is_hide_env_values_set() {
                    continue;
                }
                let v = (!value.is_empty()).then(|| value.clone());
                swaks_settings.push(table.setting(arg, v, origin).map_err(fail)?);
            }
            Lookup::Unknown => {
                return Err(fail(match crate::cli::swaks::find(&flag) {
                    Some(opt) => crate::cli::swaks::unsupported(&format!("--{flag}"), opt),
                    None => format!(
                        "'--{flag}' is no option of the send (swaks refuses it too: \"Unknown \
                         option\")"
                    ),
                }));
            }
            // Help and version (swaks prints them and sends nothing: a send here would be
            // something else) and ehlo's layering controls.
            Lookup::CommandLineOnly => {
                return Err(fail(format!(
                    "'--{flag}' is taken from the command line only"
                )));
            }
        }
    }
    let mut env_no_config = false;
    for (name, value) in vars {
        let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        if reserved(name) {
            continue;
        }
        if name == ENV_CONFIG {
            if !value.is_empty() {
                env_file = Some(PathBuf::from(value));
            }
            continue;
        }
        if name == ENV_NO_CONFIG {
            env_no_config = true;
            continue;
        }
        let flag_name = rest.to_ascii_lowercase().replace('_', "-");
        match table.negation(&flag_name, Origin::Env(name.clone())) {
            Some(Ok(n)) => {
                if !value.is_empty() {
                    return Err(Error::Usage(format!(
                        "{name}: '--{flag_name}' takes no value (set it empty)"
                    )));
                }
                env_negations.push(n);
                continue;
            }
            Some(Err(_)) => {
                ignored_env.push(name.clone());
                continue;
            }
            None => {}
        }
        let arg = match ENV_ALIASES.iter().find(|(n, _)| n == name) {
            Some((_, id)) => table.by_id(id),
            None => match table.lookup(&flag_name) {
                // Shorts are spelt with their long name in the environment.
                Lookup::Arg(a) if rest.len() > 1 => Some(a),
                Lookup::CommandLineOnly if rest.len() > 1 => {
                    ignored_why.push((
                        name.clone(),
                        format!("--{flag_name} is taken on the command line only"),
                    ));
                    continue;
                }
                _ => None,
            },
        };
        let Some(arg) = arg else {
            let modes = table.modes_naming(&flag_name);
            if modes.is_empty() {
                ignored_env.push(name.clone());
            } else {
                let modes: Vec<String> = modes.iter().map(|m| format!("ehlo {m}")).collect();
                other_modes.push((name.clone(), modes.join(" and ")));
            }
            continue;
        };
        // An empty secret source means "not set" (clap's own `env =` semantics).
        if value.is_empty() && arg.is_hide_env_values_set() {
            continue;
        }
        let value = (!value.is_empty()).then(|| value.clone());
        let s = table
            .setting(arg, value, Origin::Env(name.clone()))
            .map_err(|e| Error::Usage(format!("{name}: {e}")))?;
        env_settings.push(s);
    }

    // The file.
    let named = matches.get_one::<PathBuf>("config").cloned();
    // (path, named: a missing file is an error, regular: only a regular file is read).
    let file = if let Some(p) = named {
        Some((p, true, false))
    } else if matches.get_flag("no_config") || env_no_config {
        None
    } else if let Some(p) = env_file {
        Some((p, true, true))
    } else if let Some(p) = swaks_file.clone().filter(|p| !p.as_os_str().is_empty()) {
        Some((p, true, true))
    } else if swaks_file.is_some() {
        None
    } else {
        env.default_file.clone().map(|p| (p, false, true))
    };
    let mut file_negations = Vec::new();
    let mut warnings = Vec::new();
    let (file_state, mut file_settings) = match file {
        None if matches.get_flag("no_config") => (FileState::Off("--no-config"), Vec::new()),
        None if env_no_config => (FileState::Off(ENV_NO_CONFIG), Vec::new()),
        None if swaks_file.is_some() => (FileState::Off(SWAKS_OPT_CONFIG), Vec::new()),
        None => (FileState::NoHome, Vec::new()),
        // A file the command line did not name (EHLO_CONFIG's, the default one) stops every
        // send until it is fixed: the refusal says how to run without it.
        Some((path, named, regular)) => match read_config(&path, regular).map_err(|e| match e {
            Error::Usage(m) if regular => {
                Error::Usage(format!("{m} (--no-config or {ENV_NO_CONFIG}=1 skips it)"))
            }
            e => e,
        })? {
            None if named => {
                return Err(Error::Usage(format!(
                    "cannot read config file {}: it does not exist",
                    path.display()
                )));
            }
            None => (FileState::Absent(path), Vec::new()),
            Some(text) => {
                let settings = parse_file(table, &path, &text, &mut unset, &mut file_negations)?;
                warnings.extend(readable_secret(&path, &settings));
                (FileState::Read(path), settings)
            }
        },
    };

    // Negations reach every lower layer: EHLO_NO_*'s SWAKS_OPT_* and the file, the command
    // line's all three; SWAKS_OPT_no_*'s their own layer too (swaks reads it after the
    // option it negates) and the file.
    unset_in(
        &mut [&mut swaks_settings, &mut file_settings],
        &swaks_negations,
        &mut unset,
    );
    unset_in(
        &mut [&mut swaks_settings, &mut file_settings],
        &env_negations,
        &mut unset,
    );
    unset_in(
        &mut [&mut env_settings, &mut swaks_settings, &mut file_settings],
        &cmdline_negations,
        &mut unset,
    );
    let mut negations = file_negations;
    negations.extend(swaks_negations);
    negations.extend(env_negations);
    negations.extend(cmdline_negations);

    // Merge: walk down from the command line, dropping what a higher layer replaces.
    let mut cmdline = table.command_line(matches);
    let mut higher: HashSet<String> = cmdline.iter().map(|s| s.id.clone()).collect();
    // `--auth-password` without a value (the last one on the command line) says "from the
    // other sources": it replaces no lower layer's password or password file.
    let bare_password = cmdline_passwords.last().is_some_and(|(_, bare)| *bare);
    if bare_password {
        higher.remove("auth_password");
    }
    let mut overridden = Vec::new();
    let mut kept_layers: Vec<Vec<Setting>> = Vec::new();
    for layer in [env_settings, swaks_settings, file_settings] {
        let mut kept = Vec::new();
        let mut single_seen = HashSet::new();
        for s in layer.into_iter().rev() {
            let dup = !table.repeatable(&s.id) && !single_seen.insert(s.id.clone());
            if dup || table.overridden(&s.id, &higher) {
                overridden.push(s);
            } else {
                kept.push(s);
            }
        }
        kept.reverse();
        table.send_layer_conflict(&kept)?;
        higher.extend(kept.iter().map(|s| s.id.clone()));
        kept_layers.push(kept);
    }
    overridden.reverse();
    let mut settings: Vec<Setting> = kept_layers.into_iter().rev().flatten().collect();
    // A lower layer gives the password a bare command-line `--auth-password` left open: the
    // command line's occurrences go, or the last (empty) one would win in clap's parse.
    if bare_password && settings.iter().any(|s| s.id == "auth_password") {
        let gone: HashSet<usize> = cmdline_passwords
            .iter()
            .flat_map(|(words, _)| words.iter().copied())
            .collect();
        argv = argv
            .into_iter()
            .enumerate()
            .filter(|(i, _)| !gone.contains(i))
            .map(|(_, a)| a)
            .collect();
        cmdline.retain(|s| s.id != "auth_password");
    }

    let mut args = Vec::with_capacity(argv.len() + settings.len());
    let mut iter = argv.into_iter();
    args.extend(iter.next());
    args.extend(settings.iter().map(Setting::token));
    args.extend(iter);
    // Set by EHLO_AUTH_PASSWORD, and no other layer named the password (one EHLO_AUTH_PASSWORD
    // replaced still counts: the user wrote `auth-password` there).
    let from_env = |s: &Setting| s.origin == Origin::Env("EHLO_AUTH_PASSWORD".into());
    let mut passwords = settings
        .iter()
        .chain(&overridden)
        .filter(|s| s.id == "auth_password")
        .peekable();
    let password_from_env =
        cmdline_passwords.is_empty() && passwords.peek().is_some() && passwords.all(from_env);
    settings.extend(cmdline);
    let env_hints = ignored_env
        .iter()
        .filter_map(|name| Some((name.clone(), table.env_hint(name)?)))
        .collect();
    Ok(Layered {
        password_from_env,
        args,
        settings,
        overridden,
        negations,
        unset,
        ignored_env,
        env_hints,
        ignored_why,
        other_modes,
        file: file_state,
        warnings,
    })
}

/// A config file that holds a secret (`auth-password`, `auth-oauth-token` with a value) and that
/// its group or others may read: said once, with the fix. It is read all the same (swaks reads
/// a `.swaksrc` whatever its mode, and refusing would stop every send), but the password is
/// then as open as the file: ssh refuses a private key in that state, and BSD ftp(1) a
/// `.netrc` with a password in it. A pipe (`--config <(…)`) has no such mode.
fn readable_secret(path: &Path, settings: &[Setting]) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let secret = settings.iter().find(|s| s.secret && s.value.is_some())?;
    let meta = std::fs::metadata(path).ok().filter(|m| m.is_file())?;
    let mode = meta.permissions().mode() & 0o777;
    (mode & 0o044 != 0).then(|| {
        format!(
            "{} holds a secret ({}) and its group or others may read it (mode {mode:03o}): chmod 600 {}",
            path.display(),
            secret.name,
            path.display()
        )
    })
}

/// Two flags that cannot go together (clap's `conflicts_with`: `--tls` and `--tls-on-connect`,
/// `--ipv4` and `--ipv6`) both set in one layer below the command line, neither replaced by a
/// higher one: refused naming both places. clap's own error named neither (`the argument
/// '--tls' cannot be used with '--tls-on-connect'`, its usage line showing words nobody typed),
/// so a conflict inside the config file or the environment looked like one on the command line.
fn one_layer_conflict(
    layer: &[Setting],
    conflict: impl Fn(&str, &str) -> bool,
) -> Result<(), Error> {
    for (i, later) in layer.iter().enumerate() {
        if let Some(earlier) = layer[..i].iter().find(|e| conflict(&e.id, &later.id)) {
            return Err(Error::Usage(format!(
                "{}: '{}' cannot be used with '{}' ({}): keep one (--{} or --{} on the command line replaces both)",
                later.origin, later.name, earlier.name, earlier.origin, earlier.name, later.name
            )));
        }
    }
    Ok(())
}

/// The `EHLO_*` layer of a subcommand (`name`, parsed from the command line alone as `sub_m`):
/// `EHLO_<FLAG>` sets the subcommand's `--<flag>` by the send's naming rule, below its command
/// line. Flags the table marks as command line only ([`env_may_set`]: a subcommand's port,
/// server, recipients and login, so a variable set for sends never points a probe at another
/// mailbox) and other modes' variables are passed over without a word; a name no mode has is
/// reported with the one meant. No config file and no `SWAKS_OPT_*`: those are the send's
/// (swaks has no subcommands). A bad value is a usage error naming the variable; a secret's
/// value is never quoted.
fn subcommand_env(
    table: &Table,
    argv: Vec<OsString>,
    name: &str,
    sub_m: &ArgMatches,
    env: &LayerEnv,
) -> Result<Layered, Error> {
    let unlayered = |argv| Layered::unlayered(argv, FileState::Off("not read by subcommands"));
    let Some(sub) = table.cmd.find_subcommand(name) else {
        return Ok(unlayered(argv));
    };
    // The subcommand's word: the first after the program name that is no option (the send's
    // flags conflict with subcommands, so it is the first word).
    let Some(at) = argv
        .iter()
        .skip(1)
        .position(|a| a.to_str().is_some_and(|a| !a.starts_with('-')))
        .map(|i| i + 1)
    else {
        return Ok(unlayered(argv));
    };
    let given: HashSet<String> = sub
        .get_arguments()
        .map(|a| a.get_id().to_string())
        .filter(|id| sub_m.value_source(id) == Some(ValueSource::CommandLine))
        .collect();
    // Either side may declare a conflict (`--ipv4` names `--ipv6`).
    let conflicts_given = |a: &Arg| {
        sub.get_arg_conflicts_with(a)
            .iter()
            .any(|b| given.contains(b.get_id().as_str()))
            || sub
                .get_arguments()
                .filter(|b| given.contains(b.get_id().as_str()))
                .any(|b| {
                    sub.get_arg_conflicts_with(b)
                        .iter()
                        .any(|c| c.get_id() == a.get_id())
                })
    };
    let mut vars: Vec<&(String, OsString)> = env.vars.iter().collect();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    let mut layered = unlayered(Vec::new());
    for (var, value) in vars {
        let Some(rest) = var.strip_prefix(ENV_PREFIX) else {
            // SWAKS_OPT_*: the send's.
            continue;
        };
        if reserved(var) || var == ENV_CONFIG || var == ENV_NO_CONFIG {
            continue;
        }
        let flag_name = rest.to_ascii_lowercase().replace('_', "-");
        let arg = match sub_lookup(sub, &flag_name) {
            Lookup::Arg(a) => a,
            Lookup::CommandLineOnly
                if sub
                    .get_arguments()
                    .any(|a| is_meta(a) && a.get_long() == Some(flag_name.as_str())) =>
            {
                layered.ignored_why.push((
                    var.clone(),
                    format!("--{flag_name} is taken on the command line only"),
                ));
                continue;
            }
            // Marked as command line only here, or another mode's.
            Lookup::CommandLineOnly => continue,
            Lookup::Unknown => {
                if !table.send_reads(rest) && table.modes_naming(&flag_name).is_empty() {
                    layered.ignored_env.push(var.clone());
                }
                continue;
            }
        };
        // An empty secret means unset, as in the send.
        if value.is_empty() && arg.is_hide_env_values_set() {
            continue;
        }
        let value = (!value.is_empty()).then(|| value.clone());
        let s = table
            .setting_in(name, arg, value, Origin::Env(var.clone()))
            .map_err(|e| Error::Usage(format!("{var}: {e}")))?;
        // The command line wins: a single-value flag it gives, or one that conflicts with a
        // flag it gives, drops the variable; a repeatable one adds up (the send's rule).
        let repeatable = matches!(arg.get_action(), ArgAction::Append | ArgAction::Count);
        if (given.contains(&s.id) && !repeatable) || conflicts_given(arg) {
            layered.overridden.push(s);
        } else {
            layered.settings.push(s);
        }
    }
    // Either side may declare a conflict, as above.
    let declares = |a: &str, b: &str| {
        sub.get_arguments()
            .find(|x| x.get_id() == a)
            .is_some_and(|x| {
                sub.get_arg_conflicts_with(x)
                    .iter()
                    .any(|c| c.get_id() == b)
            })
    };
    one_layer_conflict(&layered.settings, |a, b| declares(a, b) || declares(b, a))?;
    layered.env_hints = layered
        .ignored_env
        .iter()
        .filter_map(|n| Some((n.clone(), table.env_hint(n)?)))
        .collect();
    let mut args = argv;
    let tail = args.split_off(at + 1);
    args.extend(layered.settings.iter().map(Setting::token));
    args.extend(tail);
    layered.args = args;
    Ok(layered)
}

/// The file's text, `None` if it does not exist. Other failures (a directory, no permission,
/// not UTF-8, too large) are errors. With `regular` (the default file and `EHLO_CONFIG`, which
/// every send reads unasked) anything but a regular file is refused before it is opened: a
/// FIFO there blocked every send in `open` forever, before any `--timeout` applied. A file
/// named on the command line may be a pipe (`--config <(…)`, or a named FIFO).
fn read_config(path: &Path, regular: bool) -> Result<Option<String>, Error> {
    let fail =
        |why: String| Error::Usage(format!("cannot read config file {}: {why}", path.display()));
    if regular {
        match std::fs::metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(fail(e.to_string())),
            Ok(m) if !m.is_file() => {
                return Err(fail(format!(
                    "not a regular file ({}); only --config FILE may name a pipe",
                    file_kind(&m.file_type())
                )));
            }
            Ok(_) => {}
        }
    }
    let f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(fail(e.to_string())),
    };
    let mut bytes = Vec::new();
    f.take(MAX_CONFIG_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(e.to_string()))?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(fail(format!("larger than {MAX_CONFIG_BYTES} bytes")));
    }
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|e| fail(format!("not UTF-8 (byte {})", e.utf8_error().valid_up_to())))
}

/// What a file that is not a regular one is, for the message.
fn file_kind(t: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else {
        "not a file"
    }
}

/// One config line as (name, value): `None` for blank and comment lines.
pub(crate) fn split_line(line: &str) -> Option<(&str, Option<&str>)> {
    let line = line.strip_suffix('\r').unwrap_or(line).trim_start();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let body = line
        .strip_prefix("--")
        .or_else(|| line.strip_prefix('-'))
        .unwrap_or(line);
    // `name=value` splits at the first `=` when the name has no blank before it, so the value
    // keeps its spaces (`auth-password=correct horse battery`). swaks splits such a line at the
    // space and refuses what is left over (quoting it: part of a password); a split at the
    // space here named `auth-password=correct` as an unknown option.
    let blank = body.find([' ', '\t']);
    Some(match (body.find('='), blank) {
        (Some(eq), b) if b.is_none_or(|b| eq < b) => (&body[..eq], Some(&body[eq + 1..])),
        (_, Some(i)) => (&body[..i], Some(&body[i + 1..])),
        (_, None) => (body, None),
    })
}

/// The file's settings; a `no-<opt>` line unsets the lines above it (into `unset`) and is added
/// to `negations`.
fn parse_file(
    table: &Table,
    path: &Path,
    text: &str,
    unset: &mut Vec<Unset>,
    negations: &mut Vec<Negation>,
) -> Result<Vec<Setting>, Error> {
    let mut out = Vec::new();
    // The `no-<opt>` lines, and how many settings come before each; applied once at the end.
    let mut file_negations = Vec::new();
    let mut reach = Vec::new();
    for (i, line) in text.split('\n').enumerate() {
        let Some((name, value)) = split_line(line) else {
            continue;
        };
        let at = |why: String| Error::Usage(format!("{}:{}: {why}", path.display(), i + 1));
        let origin = Origin::File {
            path: path.to_path_buf(),
            line: i + 1,
        };
        if let Some(n) = table.negation(name, origin) {
            let n = n.map_err(at)?;
            if value.is_some() {
                return Err(at(format!("'{name}' takes no value")));
            }
            reach.push(out.len());
            file_negations.push(n);
            continue;
        }
        // swaks's documented header lines: `h-Name: value`, `h-Name value`, `header-Name value`.
        if let Some(header) = name
            .strip_prefix("header-")
            .or_else(|| name.strip_prefix("h-"))
            .map(|h| h.strip_suffix(':').unwrap_or(h))
            .filter(|h| !h.is_empty() && !h.contains(':'))
            && matches!(table.lookup(name), Lookup::Unknown)
            && let Some(arg) = table.by_id("header")
        {
            let origin = Origin::File {
                path: path.to_path_buf(),
                line: i + 1,
            };
            let v = OsString::from(format!("{header}: {}", value.unwrap_or_default()));
            out.push(table.setting(arg, Some(v), origin).map_err(at)?);
            continue;
        }
        let arg = match table.lookup(name) {
            Lookup::Arg(a) => a,
            Lookup::CommandLineOnly => {
                return Err(at(format!(
                    "'{name}' can only be given on the command line"
                )));
            }
            Lookup::Unknown => return Err(at(table.file_unknown(name))),
        };
        let origin = Origin::File {
            path: path.to_path_buf(),
            line: i + 1,
        };
        out.push(
            table
                .setting(arg, value.map(OsString::from), origin)
                .map_err(at)?,
        );
    }
    let mut removed = first_negation(&mut out, &file_negations, &reach);
    removed.sort_unstable_by_key(|&(neg, index, _)| (neg, index));
    unset.extend(removed.into_iter().map(|(neg, _, setting)| Unset {
        setting,
        by: file_negations[neg].clone(),
    }));
    negations.extend(file_negations);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(a: &[&str]) -> Vec<OsString> {
        std::iter::once("ehlo")
            .chain(a.iter().copied())
            .map(OsString::from)
            .collect()
    }

    fn strings(v: &[OsString]) -> Vec<String> {
        v.iter()
            .skip(1)
            .map(|s| s.to_string_lossy().into_owned())
            .collect()
    }

    /// A temp dir with `config` holding `text`, and an env pointing at it.
    fn with_file(text: &str, vars: &[(&str, &str)]) -> (tempfile::TempDir, LayerEnv) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ehlo").join("config");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        let env = LayerEnv {
            vars: vars
                .iter()
                .map(|(k, v)| (k.to_string(), OsString::from(v)))
                .collect(),
            default_file: Some(path),
        };
        (dir, env)
    }

    #[test]
    fn a_swaksrc_is_named_when_no_ehlo_file_was_read() {
        let dir = tempfile::tempdir().unwrap();
        let home = || Some(dir.path().as_os_str().to_owned());
        let absent = FileState::Absent(dir.path().join("ehlo/config"));
        assert_eq!(
            swaksrc_note(&absent, None, home(), None),
            None,
            "no .swaksrc, no note"
        );
        std::fs::write(dir.path().join(".swaksrc"), "from me@example.test\n").unwrap();
        let note = swaksrc_note(&absent, None, home(), None).expect("a note");
        assert!(
            note.contains(".swaksrc") && note.contains("--config"),
            "{note}"
        );
        assert!(swaksrc_note(&FileState::NoHome, None, home(), None).is_some());
        // swaks takes the first of SWAKS_HOME, HOME, LOGDIR that has a .swaksrc: a SWAKS_HOME
        // without one falls through to HOME's, and one with a .swaksrc wins.
        let other = tempfile::tempdir().unwrap();
        let os = |p: &Path| Some(p.as_os_str().to_owned());
        let note = swaksrc_note(&absent, os(other.path()), home(), None).expect("HOME's");
        assert!(
            note.starts_with(&dir.path().display().to_string()),
            "{note}"
        );
        let note = swaksrc_note(&absent, Some("".into()), None, home()).expect("LOGDIR's");
        assert!(
            note.starts_with(&dir.path().display().to_string()),
            "{note}"
        );
        std::fs::write(other.path().join(".swaksrc"), "").unwrap();
        let note = swaksrc_note(&absent, os(other.path()), home(), None).expect("SWAKS_HOME's");
        assert!(
            note.starts_with(&other.path().display().to_string()),
            "{note}"
        );
        // A file chosen or turned off: the user decided.
        assert_eq!(
            swaksrc_note(&FileState::Off("--no-config"), None, home(), None),
            None
        );
        let read = FileState::Read(dir.path().join("ehlo/config"));
        assert_eq!(swaksrc_note(&read, None, home(), None), None);
    }

    fn layered(text: &str, vars: &[(&str, &str)], a: &[&str]) -> Result<Layered, Error> {
        let (_dir, env) = with_file(text, vars);
        apply(argv(a), &env)
    }

    #[test]
    fn line_syntax() {
        assert_eq!(split_line("tls"), Some(("tls", None)));
        assert_eq!(split_line("--tls"), Some(("tls", None)));
        assert_eq!(split_line("-tls\r"), Some(("tls", None)));
        assert_eq!(split_line("  # comment"), None);
        assert_eq!(split_line(""), None);
        assert_eq!(split_line("   "), None);
        assert_eq!(
            split_line("from a@b # not a comment"),
            Some(("from", Some("a@b # not a comment")))
        );
        assert_eq!(
            split_line("header Subject: two  spaces "),
            Some(("header", Some("Subject: two  spaces ")))
        );
        assert_eq!(split_line("from "), Some(("from", Some(""))));
        assert_eq!(split_line("--server=h:25"), Some(("server", Some("h:25"))));
        assert_eq!(split_line("helo\tme"), Some(("helo", Some("me"))));
        // `=` before any blank: the value is the rest, spaces and all.
        assert_eq!(
            split_line("auth-password=correct horse battery"),
            Some(("auth-password", Some("correct horse battery")))
        );
        assert_eq!(split_line("from=a b\tc"), Some(("from", Some("a b\tc"))));
        assert_eq!(split_line("helo="), Some(("helo", Some(""))));
        // A blank first: the `=` is part of the value.
        assert_eq!(
            split_line("header X-A: b=c d"),
            Some(("header", Some("X-A: b=c d")))
        );
    }

    #[test]
    fn default_path_follows_xdg() {
        let p = |x: Option<&str>, h: Option<&str>| {
            default_config_path(x.map(OsString::from), h.map(OsString::from))
        };
        assert_eq!(
            p(Some("/x"), Some("/home/u")),
            Some(PathBuf::from("/x/ehlo/config"))
        );
        assert_eq!(
            p(None, Some("/home/u")),
            Some(PathBuf::from("/home/u/.config/ehlo/config"))
        );
        assert_eq!(
            p(Some(""), Some("/home/u")),
            Some(PathBuf::from("/home/u/.config/ehlo/config"))
        );
        assert_eq!(
            p(Some("rel"), Some("/home/u")),
            Some(PathBuf::from("/home/u/.config/ehlo/config"))
        );
        assert_eq!(p(None, None), None);
    }

    #[test]
    fn file_then_env_then_argv() {
        let l = layered(
            "# defaults\nserver file.test:25\n--from file@x\nhelo file\ntimeout 5\n",
            &[("EHLO_FROM", "env@x"), ("EHLO_HELO", "env")],
            &["--helo", "argv", "-t", "r@x"],
        )
        .unwrap();
        let cli = <Cli as clap::Parser>::try_parse_from(&l.args).unwrap();
        let e = &cli.send.envelope;
        assert_eq!(e.from.as_deref(), Some("env@x"));
        assert_eq!(e.helo.as_deref(), Some("argv"));
        assert_eq!(cli.send.transport.server.unwrap().host, "file.test");
        assert_eq!(
            cli.send.transport.timeout,
            std::time::Duration::from_secs(5)
        );
        // Single-value settings that were replaced are not passed on at all.
        assert_eq!(
            strings(&l.args),
            [
                "--server=file.test:25",
                "--timeout=5",
                "--from=env@x",
                "--helo",
                "argv",
                "-t",
                "r@x"
            ]
        );
    }

    #[test]
    fn repeatable_flags_accumulate_lowest_first() {
        let l = layered(
            "to file@x\nto file2@x\nheader X-A: file\n",
            &[("EHLO_CC", "env@x")],
            &["--cc", "argv@x", "--header", "X-B: argv"],
        )
        .unwrap();
        let cli = <Cli as clap::Parser>::try_parse_from(&l.args).unwrap();
        assert_eq!(cli.send.message.header, ["X-A: file", "X-B: argv"]);
        // Recipients add up within a layer; a higher layer replaces them (swaks's scalars).
        assert_eq!(cli.send.envelope.to, ["file@x", "file2@x"]);
        assert_eq!(cli.send.envelope.cc, ["argv@x"]);
        let l = layered("to file@x\n", &[("EHLO_TO", "env@x")], &["-s", "h"]).unwrap();
        let cli = <Cli as clap::Parser>::try_parse_from(&l.args).unwrap();
        assert_eq!(cli.send.envelope.to, ["env@x"]);
    }

    /// swaks's own config-file example: `h-From: "Fred Example" <fred@example.com>`, and the
    /// `h-Name value` / `header-Name value` spellings.
    #[test]
    fn header_lines_as_swaks_documents_them() {
        let l = layered(
            "h-From: \"Fred Example\" <fred@example.com>\nh-X-One one\n--header-X-Two two words\n",
            &[],
            &["-t", "a@b"],
        )
        .unwrap();
        let cli = <Cli as clap::Parser>::try_parse_from(&l.args).unwrap();
        assert_eq!(
            cli.send.message.header,
            [
                "From: \"Fred Example\" <fred@example.com>",
                "X-One: one",
                "X-Two: two words"
            ]
        );
    }

    /// swaks's SWAKS_OPT_* variables are read as well, below EHLO_* (which wins).
    #[test]
    fn swaks_opt_variables_are_read_and_ehlo_wins() {
        let l = layered(
            "",
            &[
                ("SWAKS_OPT_from", "swaks@x"),
                ("SWAKS_OPT_helo", "swaks.helo"),
                ("SWAKS_OPT_h_X_Test", "from swaks"),
                ("SWAKS_OPT_auth_user", "u"),
                ("EHLO_HELO", "ehlo.helo"),
            ],
            &["-t", "a@b"],
        )
        .unwrap();
        let cli = <Cli as clap::Parser>::try_parse_from(&l.args).unwrap();
        assert_eq!(cli.send.envelope.from.as_deref(), Some("swaks@x"));
        assert_eq!(cli.send.envelope.helo.as_deref(), Some("ehlo.helo"));
        assert_eq!(cli.send.message.header, ["X-Test: from swaks"]);
        assert_eq!(cli.send.auth.auth_user.as_deref(), Some("u"));
    }

    /// A SWAKS_OPT_h_<Name> value that is not UTF-8 is refused as EHLO_HEADER's is, not
    /// turned into U+FFFD.
    #[test]
    fn a_non_utf8_swaks_header_is_refused() {
        use std::os::unix::ffi::OsStringExt;
        let bad = OsString::from_vec(b"caf\xe9".to_vec());
        for name in ["SWAKS_OPT_h_X_Test", "EHLO_HEADER"] {
            let env = LayerEnv {
                vars: vec![(name.to_string(), bad.clone())],
                default_file: None,
            };
            match apply(argv(&["-t", "a@b"]), &env) {
                Err(Error::Usage(m)) => assert!(m.starts_with(&format!("{name}: ")), "{m}"),
                other => panic!("{name}: {other:?}"),
            }
        }
    }

    /// SWAKS_OPT_* is a layer below EHLO_*: EHLO_TO replaces SWAKS_OPT_to (they added up),
    /// and EHLO_NO_<OPT> unsets a SWAKS_OPT_ one.
    #[test]
    fn swaks_opt_is_a_layer_below_ehlo() {
        let l = layered(
            "to file@x\n",
            &[
                ("SWAKS_OPT_to", "swaks@x"),
                ("EHLO_TO", "ehlo@x"),
                ("SWAKS_OPT_from", "swaks-from@x"),
                ("EHLO_NO_FROM", ""),
            ],
            &["--helo", "h"],
        )
        .unwrap();
        let cli = <Cli as clap::Parser>::try_parse_from(&l.args).unwrap();
        assert_eq!(cli.send.envelope.to, ["ehlo@x"]);
        assert_eq!(cli.send.envelope.from, None);
        let dump = l.dump(false);
        assert!(
            dump.contains("# overridden: to swaks@x (SWAKS_OPT_to)"),
            "{dump}"
        );
        assert!(
            dump.contains("# unset: from swaks-from@x (SWAKS_OPT_from) by no-from"),
            "{dump}"
        );
        // SWAKS_OPT_to still replaces the file's.
        let l = layered(
            "to file@x\n",
            &[("SWAKS_OPT_to", "swaks@x")],
            &["--helo", "h"],
        )
        .unwrap();
        let cli = <Cli as clap::Parser>::try_parse_from(&l.args).unwrap();
        assert_eq!(cli.send.envelope.to, ["swaks@x"]);
    }

    #[test]
    fn a_secret_in_a_file_others_may_read_is_warned_about() {
        use std::os::unix::fs::PermissionsExt;
        let (dir, env) = with_file("server s.test\nauth-password hunter2\n", &[]);
        let path = env.default_file.clone().unwrap();
        let warn = |mode: u32| {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            apply(argv(&["-t", "a@b"]), &env).unwrap().warnings
        };
        let w = warn(0o644);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains("holds a secret (auth-password)"), "{w:?}");
        assert!(w[0].contains("(mode 644): chmod 600 "), "{w:?}");
        assert!(!w[0].contains("hunter2"), "{w:?}");
        assert_eq!(warn(0o640).len(), 1);
        assert!(warn(0o600).is_empty());
        assert!(warn(0o400).is_empty());
        // No secret in it, nothing to say; nor for an empty `auth-password` (asks for one).
        std::fs::write(&path, "server s.test\nauth-password\n").unwrap();
        assert!(warn(0o644).is_empty());
        drop(dir);
    }

    #[test]
    fn conflicting_flags_in_one_layer_name_both_places() {
        let e = usage(layered(
            "timeout 5s\ntls\ntls-on-connect\n",
            &[],
            &["-t", "a@b"],
        ));
        assert!(
            e.contains("/config:3: 'tls-on-connect' cannot be used with 'tls' (")
                && e.ends_with(
                    "/config:2): keep one (--tls or --tls-on-connect on the command line replaces \
                     both); nothing was sent"
                ),
            "{e}"
        );
        let e = usage(layered(
            "",
            &[("EHLO_TLS", ""), ("EHLO_TLS_ON_CONNECT", "")],
            &["-t", "a@b"],
        ));
        assert!(
            e.starts_with(
                "EHLO_TLS_ON_CONNECT: 'tls-on-connect' cannot be used with 'tls' (EHLO_TLS)"
            ),
            "{e}"
        );
        // A higher layer's flag replaces both; across layers the higher one wins, as before.
        assert!(layered("tls\ntls-on-connect\n", &[], &["-t", "a@b", "--tls"]).is_ok());
        assert!(layered("tls\n", &[("EHLO_TLS_ON_CONNECT", "")], &["-t", "a@b"]).is_ok());
        // A subcommand's variables too (`ehlo check`'s --ipv4 and --ipv6).
        let e = usage(layered(
            "",
            &[("EHLO_IPV4", ""), ("EHLO_IPV6", "")],
            &["check", "example.com"],
        ));
        assert_eq!(
            e,
            "EHLO_IPV6: 'ipv6' cannot be used with 'ipv4' (EHLO_IPV4): keep one (--ipv4 or --ipv6 on the command line replaces both)"
        );
        assert!(
            layered(
                "",
                &[("EHLO_IPV4", ""), ("EHLO_IPV6", "")],
                &["check", "-4", "example.com"]
            )
            .is_ok()
        );
        // A secret and its file may share a layer (the value wins later).
        assert!(
            layered(
                "auth-password x\nauth-password-file /dev/null\n",
                &[],
                &["-t", "a@b"]
            )
            .is_ok()
        );
    }

    #[test]
    fn conflicting_flags_give_way_to_the_higher_layer() {
        let l = layered(
            "tls\nauth-optional\n",
            &[],
            &["-t", "a@b", "--tlsc", "-a", "PLAIN"],
        )
        .unwrap();
        let cli = <Cli as clap::Parser>::try_parse_from(&l.args).unwrap();
        assert!(cli.send.tls.tls_on_connect && !cli.send.tls.tls);
        // --auth and --auth-optional do not conflict: as in swaks, the file's auth-optional
        // makes the command line's `-a PLAIN` optional.
        assert_eq!(cli.send.auth.auth_optional, Some(Vec::new()));
        assert_eq!(cli.send.auth.auth, Some(vec!["PLAIN".to_string()]));
        assert_eq!(l.overridden.len(), 1);
    }

    /// A secret and its file replace each other across layers, either way round; in one layer
    /// both stay (the value wins later).
    #[test]
    fn a_secret_and_its_file_replace_each_other_across_layers() {
        let parse = |l: &Layered| <Cli as clap::Parser>::try_parse_from(&l.args).unwrap();
        let l = layered(
            "auth-password file-pw\nauth-oauth-token file-tok\n",
            &[],
            &[
                "-t",
                "a@b",
                "--auth-password-file",
                "/p",
                "--auth-token-file",
                "/t",
            ],
        )
        .unwrap();
        let a = parse(&l).send.auth;
        assert!(a.auth_password.is_none() && a.auth_oauth_token.is_none());
        assert_eq!(a.auth_password_file, Some(PathBuf::from("/p")));
        assert_eq!(l.overridden.len(), 2);
        // The environment's secret gives way to the command line's file.
        let l = layered(
            "",
            &[
                ("EHLO_AUTH_PASSWORD", "env-pw"),
                ("EHLO_AUTH_TOKEN", "env-tok"),
            ],
            &[
                "-t",
                "a@b",
                "--auth-password-file",
                "/p",
                "--auth-token-file",
                "/t",
            ],
        )
        .unwrap();
        let a = parse(&l).send.auth;
        assert!(a.auth_password.is_none() && a.auth_oauth_token.is_none());
        // The other way round: a higher value drops a lower file.
        let l = layered(
            "auth-password-file /p\nauth-token-file /t\n",
            &[
                ("EHLO_AUTH_PASSWORD", "env-pw"),
                ("EHLO_AUTH_TOKEN", "env-tok"),
            ],
            &["-t", "a@b"],
        )
        .unwrap();
        let a = parse(&l).send.auth.0;
        assert!(a.auth_password_file.is_none() && a.auth_token_file.is_none());
        assert_eq!(a.auth_password.unwrap().expose(), "env-pw");
        // Both in one layer: both kept.
        let l = layered(
            "auth-password pw\nauth-password-file /p\n",
            &[],
            &["-t", "a@b"],
        )
        .unwrap();
        let a = parse(&l).send.auth;
        assert!(a.auth_password.is_some() && a.auth_password_file.is_some());
    }

    /// A command-line flag that requires another (`--tls-key` needs `--tls-cert`) is layered
    /// when the other comes from the file or the environment, not passed through alone.
    #[test]
    fn a_required_partner_may_come_from_a_lower_layer() {
        for (text, vars, a) in [
            (
                "tls-cert /c\n",
                &[][..],
                &["-t", "a@b", "--tls-key", "/k"][..],
            ),
            (
                "",
                &[("EHLO_TLS_CERT", "/c")][..],
                &["-t", "a@b", "--tls-key", "/k"],
            ),
            (
                "tls-cert /c\ntls-key /k\n",
                &[],
                &["-t", "a@b", "--tls-chain", "/ch"],
            ),
        ] {
            let l = layered(text, vars, a).unwrap();
            let cli = <Cli as clap::Parser>::try_parse_from(&l.args)
                .unwrap_or_else(|e| panic!("{a:?}: {e}"));
            assert_eq!(cli.send.tls.tls_cert, Some(PathBuf::from("/c")));
            assert_eq!(cli.send.tls.tls_key, Some(PathBuf::from("/k")));
        }
        // Still missing after layering: clap's error on the merged command line.
        let l = layered("", &[("EHLO_HELO", "h")], &["-t", "a@b", "--tls-key", "/k"]).unwrap();
        assert!(<Cli as clap::Parser>::try_parse_from(&l.args).is_err());
    }

    /// `--auth-password` without a value on the command line leaves the password to the other
    /// sources, a lower layer's included (its help says so); with a value it replaces them.
    #[test]
    fn a_bare_auth_password_takes_the_lower_layers_password() {
        let password = |text: &str, vars: &[(&str, &str)], a: &[&str]| {
            let l = layered(text, vars, a).unwrap();
            let cli = <Cli as clap::Parser>::try_parse_from(&l.args).unwrap();
            cli.send
                .auth
                .0
                .auth_password
                .map(|p| p.expose().to_string())
        };
        let env = [("EHLO_AUTH_PASSWORD", "env-pw")];
        for bare in [
            &["-t", "a@b", "--auth-password"][..],
            &["--auth-password", "-t", "a@b"],
            &["--ap", "--tls", "-t", "a@b"],
            &["-t", "a@b", "--auth-password="],
            &["--ap", "argv-pw", "-t", "a@b", "--ap"],
        ] {
            assert_eq!(
                password("", &env, bare).as_deref(),
                Some("env-pw"),
                "{bare:?}"
            );
            assert_eq!(
                password("auth-password file-pw\n", &[], bare).as_deref(),
                Some("file-pw"),
                "{bare:?}"
            );
            // Nothing lower: still the bare flag (netrc, a prompt).
            assert_eq!(
                password("", &[("EHLO_HELO", "h")], bare).as_deref(),
                Some("")
            );
        }
        // A lower layer's password file stays too.
        let l = layered("auth-password-file /p\n", &[], &["-t", "a@b", "--ap"]).unwrap();
        let cli = <Cli as clap::Parser>::try_parse_from(&l.args).unwrap();
        assert_eq!(cli.send.auth.auth_password_file, Some(PathBuf::from("/p")));
        // With a value the command line wins.
        assert_eq!(
            password("", &env, &["-t", "a@b", "--ap", "argv-pw"]).as_deref(),
            Some("argv-pw")
        );
        assert_eq!(
            password("", &env, &["-t", "a@b", "--ap", "--ap", "argv-pw"]).as_deref(),
            Some("argv-pw")
        );
    }

    #[test]
    fn empty_env_value_is_a_flag_and_secrets_map() {
        let l = layered(
            "",
            &[
                ("EHLO_TLS", ""),
                ("EHLO_AUTH", ""),
                ("EHLO_AUTH_TOKEN", "tok-1"),
                ("EHLO_AUTH_PASSWORD", ""),
                ("EHLO_INTEROP_BIN", "/bin/true"),
                ("EHLO_REGENERATE", "1"),
                ("EHLO_NOT_AN_OPTION", "x"),
            ],
            &["-t", "a@b"],
        )
        .unwrap();
        let cli = <Cli as clap::Parser>::try_parse_from(&l.args).unwrap();
        assert!(cli.send.tls.tls);
        assert_eq!(cli.send.auth.auth, Some(vec![]));
        assert_eq!(cli.send.auth.0.auth_oauth_token.unwrap().expose(), "tok-1");
        assert_eq!(l.ignored_env, ["EHLO_NOT_AN_OPTION"]);
        let dump = l.dump(false);
        assert!(!dump.contains("tok-1"), "{dump}");
        assert!(dump.contains("auth-oauth-token <redacted>"), "{dump}");
        assert!(l.dump(true).contains("auth-oauth-token tok-1"));
    }

    #[test]
    fn bad_lines_name_file_and_line() {
        let err = |text: &str| match layered(text, &[], &["-t", "a@b"]) {
            Err(Error::Usage(m)) => m,
            other => panic!("{text:?}: {other:?}"),
        };
        let m = err("tls\n\n# c\nsuch-flag 1\n");
        assert!(m.ends_with("config:4: unknown option 'such-flag' (the config file takes options of the one-shot send); nothing was sent"), "{m}");
        let m = err("timeout 5x\n");
        assert!(m.contains("config:1: ") && m.contains("--timeout"), "{m}");
        assert!(err("tls yes\n").contains("config:1: 'tls' takes no value"));
        assert!(err("from\n").contains("config:1: 'from' needs a value"));
        assert!(err("dump-config\n").contains("only be given on the command line"));
        assert!(err("help\n").contains("only be given on the command line"));
        assert!(err("listen 0.0.0.0:25\n").contains("unknown option 'listen'"));
        // A secret's value never appears in an error.
        let m = match layered("", &[("EHLO_TIMEOUT", "hunter2")], &["-t", "a@b"]) {
            Err(Error::Usage(m)) => m,
            other => panic!("{other:?}"),
        };
        assert!(m.starts_with("EHLO_TIMEOUT: "), "{m}");
    }

    #[test]
    fn no_config_and_named_files() {
        let l = layered("from file@x\n", &[], &["--no-config", "-t", "a@b"]).unwrap();
        assert_eq!(l.file, FileState::Off("--no-config"));
        assert_eq!(strings(&l.args), ["--no-config", "-t", "a@b"]);
        let l = layered("from file@x\n", &[("EHLO_NO_CONFIG", "")], &["-t", "a@b"]).unwrap();
        assert_eq!(l.file, FileState::Off("EHLO_NO_CONFIG"));
        assert!(
            l.dump(false)
                .contains("# config file: turned off (EHLO_NO_CONFIG)\n")
        );
        // A named file that does not exist is an error; the default one is not.
        let env = LayerEnv {
            vars: vec![],
            default_file: Some("/nonexistent/ehlo/config".into()),
        };
        let l = apply(argv(&["-t", "a@b"]), &env).unwrap();
        assert!(matches!(l.file, FileState::Absent(_)));
        assert!(apply(argv(&["--config", "/nonexistent/x", "-t", "a@b"]), &env).is_err());
        let env = LayerEnv {
            vars: vec![("EHLO_CONFIG".into(), "/nonexistent/y".into())],
            default_file: None,
        };
        assert!(apply(argv(&["-t", "a@b"]), &env).is_err());
    }

    /// A command line clap refuses (the mistake itself) is read word by word for `--json`: it
    /// answered "no JSON" for all of them, so their usage error wrote nothing on stdout.
    #[test]
    fn json_is_read_from_a_command_line_clap_refuses() {
        let none = LayerEnv {
            vars: vec![],
            default_file: None,
        };
        let json_env = LayerEnv {
            vars: vec![("EHLO_JSON".into(), "".into())],
            default_file: None,
        };
        for (args, env, want) in [
            (&["--json", "--bogus"][..], &none, (true, None)),
            (&["--json", "--bogus", "--no-json"], &none, (false, None)),
            (&["--bogus", "--", "--json"], &none, (false, None)),
            (&["--bogus"], &json_env, (true, None)),
            (&["repl", "--json", "--bogus"], &none, (true, None)),
            (&["serve", "--bogus"], &json_env, (true, None)),
            (
                &["check", "--json", "--bogus"],
                &none,
                (false, Some("check")),
            ),
            (&["probe", "--bogus"], &json_env, (false, Some("probe"))),
            (
                &["explain", "--json", "--bogus"],
                &none,
                (false, Some("explain")),
            ),
        ] {
            assert_eq!(command_line_json(argv(args), env), want, "{args:?}");
        }
    }

    #[test]
    fn subcommands_help_and_bare_ehlo_are_not_layered() {
        for a in [
            &[][..],
            &["serve"],
            &["--help"],
            &["demo", "--json"],
            &["--version"],
        ] {
            let l = layered("from file@x\n", &[("EHLO_HELO", "h")], a).unwrap();
            assert_eq!(strings(&l.args), a, "{a:?}");
        }
    }

    /// A subcommand's `EHLO_*` layer: its own flags, inserted after the subcommand's word
    /// (before its operands), the command line's single-value flags winning, repeatable ones
    /// adding up; the config file, `SWAKS_OPT_*` and other modes' variables are not read.
    #[test]
    fn a_subcommand_reads_its_own_variables_below_its_command_line() {
        let vars = [
            ("EHLO_TIMEOUT", "5s"),
            ("EHLO_SKIP", "dkim.*"),
            ("EHLO_PORT", "587"),
            ("EHLO_FROM", "ci@example.test"),
            ("SWAKS_OPT_timeout", "9s"),
        ];
        let l = layered("timeout 7s\n", &vars, &["check", "d.test"]).unwrap();
        assert_eq!(
            strings(&l.args),
            ["check", "--skip=dkim.*", "--timeout=5s", "d.test"]
        );
        assert!(l.ignored_env.is_empty() && l.ignored_why.is_empty());
        let argv = ["check", "--timeout", "2s", "--skip", "spf.*", "d.test"];
        let l = layered("", &vars, &argv).unwrap();
        let mut want = vec!["check", "--skip=dkim.*"];
        want.extend_from_slice(&argv[1..]);
        assert_eq!(strings(&l.args), want);
        assert_eq!(l.overridden.len(), 1);
        assert_eq!(l.overridden[0].origin, Origin::Env("EHLO_TIMEOUT".into()));
        // A conflicting command-line flag drops the variable too.
        let l = layered("", &[("EHLO_IPV6", "")], &["check", "-4", "d.test"]).unwrap();
        assert_eq!(strings(&l.args), ["check", "-4", "d.test"]);
        // A bad value names the variable.
        let e = usage(layered(
            "",
            &[("EHLO_TIMEOUT", "abc")],
            &["check", "d.test"],
        ));
        assert!(e.starts_with("EHLO_TIMEOUT: invalid value 'abc'"), "{e}");
        // A name no mode has is reported, with the nearest of every mode's names.
        let l = layered("", &[("EHLO_DEADLNE", "1m")], &["repl"]).unwrap();
        assert_eq!(l.ignored_env, ["EHLO_DEADLNE"]);
        assert_eq!(l.env_hints["EHLO_DEADLNE"], "EHLO_DEADLINE");
    }

    /// The flags a subcommand takes from its command line only (`hide_env` in the flag table):
    /// where to connect, whom to mail or log in as, steps a session adds, serve's certificate.
    /// None of the send's: it reads every option from the environment.
    #[test]
    fn subcommands_take_these_flags_from_the_command_line_only() {
        let t = Table::new();
        assert!(t.cmd.get_arguments().all(env_may_set));
        let mut marked: Vec<String> = t
            .cmd
            .get_subcommands()
            .flat_map(|s| {
                s.get_arguments()
                    .filter(|a| !env_may_set(a))
                    .map(|a| format!("{} --{}", s.get_name(), a.get_long().unwrap_or_default()))
            })
            .collect();
        marked.sort();
        assert_eq!(
            marked,
            [
                "check --connect-to",
                "check --host",
                "check --port",
                "check --tls-on-connect",
                "probe --auth",
                "probe --auth-password-file",
                "probe --auth-user",
                "probe --from",
                "probe --port",
                "probe --tls",
                "probe --tls-on-connect",
                "probe --to",
                "repl --helo",
                "repl --port",
                "repl --tls",
                "repl --tls-on-connect",
                "replay --helo",
                "replay --port",
                "replay --server",
                "replay --tls",
                "replay --tls-on-connect",
                "serve --tls-cert",
                "serve --tls-key",
                "serve --tls-on-connect",
            ]
        );
        // Every password-taking flag is a secret, whichever mode has it.
        let serve = t.cmd.find_subcommand("serve").unwrap();
        let user = serve
            .get_arguments()
            .find(|a| a.get_id() == "user")
            .unwrap();
        assert!(user.is_hide_env_values_set());
    }

    /// One environment serves every mode: a variable the send reads and a subcommand reads too
    /// (`EHLO_TIMEOUT`, `EHLO_JSON`, `EHLO_HELO` for check) takes a value the same way in both
    /// (with or without one, the same value name), so one set for sends never refuses a
    /// subcommand's run for its shape.
    #[test]
    fn a_variable_of_the_send_and_a_subcommand_has_one_shape() {
        let t = Table::new();
        let shape = |a: &Arg| {
            (
                a.get_action().takes_values(),
                a.get_num_args().map(|r| r.min_values()),
                a.get_value_names().map(<[_]>::to_vec),
            )
        };
        let mut shared = 0;
        for sub in t.cmd.get_subcommands() {
            for a in sub
                .get_arguments()
                .filter(|a| env_may_set(a) && !is_meta(a))
            {
                let Some(long) = a.get_long() else { continue };
                if let Lookup::Arg(send) = t.lookup(long) {
                    shared += 1;
                    assert_eq!(shape(send), shape(a), "{} --{long}", sub.get_name());
                }
            }
        }
        assert!(shared > 20, "{shared}");
    }

    #[test]
    fn secrets_are_detected_from_the_table() {
        let t = Table::new();
        let secret = |id: &str| t.by_id(id).unwrap().is_hide_env_values_set();
        assert!(secret("auth_password") && secret("auth_oauth_token"));
        assert!(!secret("auth_user"));
        // No flag is spelt like a reserved test knob, nor starts like the interop tests' ones.
        assert!(t.index.longs.keys().all(|l| !l.starts_with("interop-")));
        for r in RESERVED_ENV {
            let name = r[ENV_PREFIX.len()..].to_ascii_lowercase().replace('_', "-");
            assert!(matches!(t.lookup(&name), Lookup::Unknown), "{r}");
        }
    }

    /// Every `EHLO_*` variable the repository's own scripts set or read is a reserved knob or
    /// an option's variable: one that is neither would be warned about in every run those
    /// scripts start (the benchmarks timed that warning with the send).
    #[test]
    fn the_scripts_own_variables_are_never_warned_about() {
        let t = Table::new();
        let scripts = [
            include_str!("../../benches/bench.sh"),
            include_str!("../../benches/check.sh"),
            include_str!("../../benches/hot-functions.sh"),
            include_str!("../../build.rs"),
            include_str!("../../.ci/run"),
            include_str!("../../tests/interop/setup.sh"),
            include_str!("../../tests/interop/dnssec.sh"),
            include_str!("../../tests/interop/exim.sh"),
            include_str!("../../tests/interop/run.sh"),
            include_str!("../../tests/interop/teardown.sh"),
        ];
        let mut seen = 0;
        for text in scripts {
            for (at, _) in text.match_indices(ENV_PREFIX) {
                let name: String = text[at..]
                    .chars()
                    .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                    .collect();
                if name.len() == ENV_PREFIX.len() || name.ends_with('_') {
                    continue;
                }
                seen += 1;
                let flag = name[ENV_PREFIX.len()..]
                    .to_ascii_lowercase()
                    .replace('_', "-");
                assert!(
                    reserved(&name)
                        || name == ENV_CONFIG
                        || name == ENV_NO_CONFIG
                        || !matches!(t.lookup(&flag), Lookup::Unknown),
                    "{name} is read by a script but would be warned about as no option"
                );
            }
        }
        assert!(seen >= 8, "{seen}");
    }

    #[test]
    fn dump_lists_every_layer() {
        let l = layered(
            "auth-password file-secret\nserver s.test\n",
            &[("EHLO_AUTH_USER", "me")],
            &["-t", "a@b,c@d", "--tls"],
        )
        .unwrap();
        let d = l.dump(false);
        assert!(!d.contains("file-secret"), "{d}");
        let body: Vec<&str> = d.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            body,
            [
                "auth-password <redacted>",
                "server s.test",
                "auth-user me",
                "to a@b,c@d",
                "tls"
            ]
        );
    }

    fn usage(r: Result<Layered, Error>) -> String {
        match r {
            Err(Error::Usage(m)) => m,
            other => panic!("{other:?}"),
        }
    }

    /// A bad value in the config file (or an `EHLO_*` variable) is worded as the same value on
    /// the command line: after the file and line, the same flag, value and reason, the
    /// possible values of a flag that has a list, and that nothing was sent. It used to be
    /// clap's own first line, with the value name (`'--timeout <DURATION>'`) and no list
    /// (`invalid value 'foo' for '--protocol <PROTOCOL>'`, nothing more), and then the line
    /// without its "; nothing was sent".
    #[test]
    fn a_bad_value_in_the_file_is_worded_as_on_the_command_line() {
        use clap::CommandFactory;
        for (name, value) in [
            ("protocol", "foo"),
            ("timeout", "5x"),
            ("quit-after", "FOO"),
            ("port", "99999"),
        ] {
            let args = argv(&["--to", "a@b.test", &format!("--{name}"), value]);
            let e = super::super::Cli::command()
                .try_get_matches_from(&args)
                .unwrap_err();
            let line = super::super::invalid_value_line(&e, &args).expect("a value error");
            let on_argv = line.as_str();
            assert!(on_argv.ends_with("; nothing was sent"), "{on_argv}");
            let e = usage(layered(
                &format!("{name} {value}\n"),
                &[],
                &["--to", "a@b.test"],
            ));
            let (at, said) = e.split_once(": ").expect(&e);
            assert!(at.ends_with(":1"), "{e}");
            assert_eq!(said, on_argv, "{name}");
            assert!(!said.contains('<'), "{e}");
        }
        let e = usage(layered("protocol foo\n", &[], &["--to", "a@b.test"]));
        assert!(
            e.ends_with(
                "invalid value 'foo' for --protocol (possible values: SMTP, ESMTP, LMTP, \
                         SSMTP, SSMTPA, SMTPS, ESMTPA, ESMTPS, ESMTPSA, LMTPA, LMTPS, LMTPSA); \
                 nothing was sent"
            ),
            "{e}"
        );
        let e = usage(layered(
            "",
            &[("EHLO_TIMEOUT", "abc")],
            &["--to", "a@b.test"],
        ));
        assert_eq!(
            e,
            "EHLO_TIMEOUT: invalid value 'abc' for --timeout: 'abc' is not a duration (N, Ns, Nm \
             or Nh); nothing was sent"
        );
        // The same in swaks's SWAKS_OPT_* layer.
        let e = usage(layered(
            "",
            &[("SWAKS_OPT_timeout", "abc")],
            &["--to", "a@b.test"],
        ));
        assert_eq!(
            e,
            "SWAKS_OPT_timeout: invalid value 'abc' for --timeout: 'abc' is not a duration (N, \
             Ns, Nm or Nh); nothing was sent"
        );
    }

    #[test]
    fn no_opt_unsets_lower_layers_and_earlier_words() {
        // The file's --from is gone, so the default sender applies; clap never sees --no-from.
        let l = layered(
            "from file@x\nhelo file\n",
            &[("EHLO_AUTH_USER", "me")],
            &["-t", "a@b", "--no-from", "--no-auth-user"],
        )
        .unwrap();
        assert_eq!(strings(&l.args), ["--helo=file", "-t", "a@b"]);
        let cli = <Cli as clap::Parser>::try_parse_from(&l.args).unwrap();
        assert_eq!(cli.send.envelope.from, None);
        assert_eq!(cli.send.auth.auth_user, None);
        assert_eq!(l.unset.len(), 2);
        // Earlier on the same command line, every spelling; a later occurrence stays.
        let l = layered(
            "",
            &[],
            &[
                "-f",
                "a@x",
                "--from=b@x",
                "--from",
                "c@x",
                "-fd@x",
                "--no-from",
                "--from",
                "e@x",
                "-t",
                "a@b",
            ],
        )
        .unwrap();
        assert_eq!(strings(&l.args), ["--from", "e@x", "-t", "a@b"]);
        assert_eq!(l.unset.len(), 4);
        // Flags without a value, optional values (the next word is the value unless an option),
        // aliases, and the single-dash spelling.
        let l = layered(
            "tls\n",
            &[],
            &[
                "-t",
                "a@b",
                "-a",
                "PLAIN",
                "-S",
                "--ao",
                "-no-tls",
                "--no-auth",
                "--no-silent",
                "--no-ao",
            ],
        )
        .unwrap();
        assert_eq!(strings(&l.args), ["-t", "a@b"]);
        assert_eq!(l.unset.len(), 4);
    }

    #[test]
    fn real_no_flags_are_not_negations() {
        let l = layered(
            "",
            &[],
            &[
                "-t",
                "a@b",
                "--no-hints",
                "--no-data-fixup",
                "--no-dot-stuffing",
                "--no-crlf-fixup",
                "--no-strip-from",
                "--no-config",
            ],
        )
        .unwrap();
        assert!(l.negations.is_empty());
        let cli = <Cli as clap::Parser>::try_parse_from(&l.args).unwrap();
        assert!(cli.send.output.no_hints && cli.send.message.no_data_fixup);
        // …and they can be negated themselves.
        let l = layered("no-hints\n", &[], &["-t", "a@b", "--no-no-hints"]).unwrap();
        assert_eq!(strings(&l.args), ["-t", "a@b"]);
    }

    #[test]
    fn no_header_is_per_name_and_no_header_alone_is_all() {
        let l = layered(
            "header Subject: file\nheader X-A: file\n",
            &[("EHLO_HEADER", "x-a: env")],
            &[
                "-t",
                "a@b",
                "--header",
                "X-B: argv",
                "--header",
                "x-A: argv",
                "--no-header-X-A",
            ],
        )
        .unwrap();
        let cli = <Cli as clap::Parser>::try_parse_from(&l.args).unwrap();
        assert_eq!(cli.send.message.header, ["Subject: file", "X-B: argv"]);
        assert_eq!(l.unset.len(), 3);
        let l = layered(
            "header Subject: file\n",
            &[],
            &[
                "-t",
                "a@b",
                "--header",
                "X-B: argv",
                "--no-header",
                "--ah",
                "X-C: kept",
            ],
        )
        .unwrap();
        let cli = <Cli as clap::Parser>::try_parse_from(&l.args).unwrap();
        assert!(cli.send.message.header.is_empty());
        assert_eq!(cli.send.message.add_header, ["X-C: kept"]);
    }

    #[test]
    fn env_and_file_negations() {
        // EHLO_NO_<OPT> unsets the file, not the environment; a file line unsets lines above it.
        let l = layered(
            "from file@x\nhelo a\nno-helo\nhelo b\nheader Subject: s\n",
            &[
                ("EHLO_NO_FROM", ""),
                ("EHLO_NO_HEADER_SUBJECT", ""),
                ("EHLO_HELO", "env"),
            ],
            &["-t", "a@b"],
        )
        .unwrap();
        assert_eq!(strings(&l.args), ["--helo=env", "-t", "a@b"]);
        assert_eq!(l.unset.len(), 3);
        assert!(
            usage(layered("", &[("EHLO_NO_FROM", "x")], &["-t", "a@b"])).contains("takes no value")
        );
        // An unknown EHLO_NO_* is ignored like any other name that is no option.
        let l = layered("", &[("EHLO_NO_BOGUS", "")], &["-t", "a@b"]).unwrap();
        assert_eq!(l.ignored_env, ["EHLO_NO_BOGUS"]);
        assert!(
            usage(layered("no-bogus\n", &[], &["-t", "a@b"])).contains("config:1: unknown option")
        );
        assert!(
            usage(layered("no-from x\n", &[], &["-t", "a@b"]))
                .contains("config:1: 'no-from' takes no value")
        );
    }

    #[test]
    fn bad_negations_are_usage_errors() {
        let m = usage(layered("", &[], &["-t", "a@b", "--no-bogus"]));
        assert!(m.starts_with("unknown option '--no-bogus'"), "{m}");
        assert!(usage(layered("", &[], &["--no-from=x", "-t", "a@b"])).contains("takes no value"));
        assert!(
            usage(layered("", &[], &["-t", "a@b", "--no-dump-config"])).contains("cannot be unset")
        );
        assert!(usage(layered("", &[], &["-t", "a@b", "--no-help"])).contains("cannot be unset"));
        assert!(usage(layered("", &[], &["-t", "a@b", "--no-header-"])).contains("unknown option"));
        let m = usage(layered("", &[], &["-t", "a@b", "-4k", "--no-insecure"]));
        assert!(m.contains("inside '-4k'"), "{m}");
        // The value of an option and everything after `--` or a subcommand is left alone.
        let l = layered("", &[], &["-t", "a@b", "--helo", "--no-bogus"]).unwrap();
        assert_eq!(strings(&l.args), ["-t", "a@b", "--helo", "--no-bogus"]);
        let l = layered("", &[], &["serve", "--no-bogus"]).unwrap();
        assert_eq!(strings(&l.args), ["serve", "--no-bogus"]);
    }

    #[test]
    fn dump_shows_what_was_unset() {
        let l = layered(
            "from file@x\nauth-password file-secret\n",
            &[],
            &["-t", "a@b", "--no-from", "--no-auth-password", "--no-helo"],
        )
        .unwrap();
        let d = l.dump(false);
        assert!(!d.contains("file-secret"), "{d}");
        let path = match &l.file {
            FileState::Read(p) => p.display().to_string(),
            other => panic!("{other:?}"),
        };
        assert!(
            d.contains(&format!(
                "# unset: from file@x ({path}:1) by no-from (command line)\n"
            )),
            "{d}"
        );
        assert!(d.contains("# unset: auth-password <redacted> ("), "{d}");
        assert!(
            d.contains("# unset: nothing by no-helo (command line)\n"),
            "{d}"
        );
        let body: Vec<&str> = d.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(body, ["to a@b"]);
    }
    /// A value is checked against a one-flag command; the verdict and the message must be the
    /// ones a parse of the whole table gives, for every flag a file may set and values that
    /// each parser refuses somewhere (bad numbers, durations, lists, empty parts, too many
    /// values). The one difference on purpose: a flag that `requires` another is no longer
    /// refused alone.
    #[test]
    fn values_are_checked_as_the_whole_table_checks_them() {
        let table = Table::new();
        let values = [
            "",
            "x",
            "-1",
            "0",
            "1",
            "65536",
            "5x",
            "10s",
            "a,b",
            "a,,b",
            ",",
            "PLAIN,LOGIN",
            "pkix",
            "i",
            "4",
            "all",
            "192.0.2.1:99999",
            "user@example.test",
        ];
        let (mut accepted, mut refused, mut needs_another) = (0, 0, 0);
        for arg in table.cmd.get_arguments() {
            let Some(long) = arg.get_long() else { continue };
            if !matches!(table.lookup(long), Lookup::Arg(_)) {
                continue;
            }
            let written = std::iter::once(None).chain(values.map(|v| Some(OsString::from(v))));
            for v in written {
                let Ok(s) = table
                    .setting(arg, v.clone(), Origin::CommandLine)
                    .or_else(|e| {
                        // Refused by clap (not by the shape checks before it): rebuild the setting
                        // to ask the whole table about the same word.
                        let shape = e.ends_with("takes no value") || e.ends_with("needs a value");
                        if shape {
                            return Err(());
                        }
                        Ok(Setting {
                            id: arg.get_id().to_string(),
                            name: long.to_string(),
                            value: v.clone().filter(|v| {
                                !v.is_empty()
                                    || arg.get_num_args().is_some_and(|r| r.min_values() > 0)
                            }),
                            origin: Origin::CommandLine,
                            secret: false,
                        })
                    })
                else {
                    continue;
                };
                let alone = table.check("", arg, &s);
                let whole = table
                    .cmd
                    .clone()
                    .try_get_matches_from([OsString::from("ehlo"), s.token()])
                    .map(drop)
                    .map_err(|e| value_reason(&e));
                match (&alone, &whole) {
                    (Ok(()), Err(e)) if e.starts_with("the following required arguments") => {
                        needs_another += 1;
                    }
                    _ => {
                        assert_eq!(alone, whole, "--{long} {v:?}");
                        if alone.is_ok() {
                            accepted += 1;
                        } else {
                            refused += 1;
                        }
                    }
                }
            }
        }
        assert!(
            accepted > 500 && refused > 50 && needs_another > 0,
            "{accepted} {refused} {needs_another}"
        );
    }

    /// A flag that needs another (`tls-cert` needs `tls-key`) can be set in the file next to
    /// it, where checking each line alone against the whole table refused it; alone, clap's
    /// parse of the merged command line still says what is missing.
    #[test]
    fn flags_that_need_another_can_be_set_in_the_file() {
        let l = layered(
            "tls-cert c.pem\ntls-key k.pem\ntls-chain ch.pem\n",
            &[],
            &["-t", "a@b"],
        )
        .unwrap();
        let cli = <Cli as clap::Parser>::try_parse_from(&l.args).unwrap();
        assert_eq!(cli.send.tls.tls_cert, Some(PathBuf::from("c.pem")));
        let l = layered("tls-cert c.pem\n", &[], &["-t", "a@b"]).unwrap();
        let e = <Cli as clap::Parser>::try_parse_from(&l.args).unwrap_err();
        assert!(e.to_string().contains("--tls-key"), "{e}");
    }

    /// `no-<opt>` lines between settings: each removes what is above it and nothing below, a
    /// setting goes to the first negation after it that matches, and `--dump-config` lists the
    /// removals negation by negation, in line order.
    #[test]
    fn file_negations_keep_their_order() {
        let text = "to a@x\nheader X-A: 1\nno-to\nto b@x\nheader x-a: 2\nheader X-B: 3\n\
                    no-header-X-A\nheader X-A: 4\nno-header\nno-header-x-b\nheader X-C: 5\nto c@x\n\
                    helo h1\nno-helo\nhelo h2\nheader X-D: 6\n";
        let l = layered(
            text,
            &[("EHLO_NO_TO", "")],
            &["-t", "a@b", "--no-header-x-c"],
        )
        .unwrap();
        // What comes after the last negation of it stays.
        assert_eq!(
            strings(&l.args),
            ["--helo=h2", "--header=X-D: 6", "-t", "a@b"]
        );
        let d = l.dump(false);
        let path = match &l.file {
            FileState::Read(p) => p.display().to_string(),
            other => panic!("{other:?}"),
        };
        let unset: Vec<String> = d
            .lines()
            .filter(|l| l.starts_with("# unset:"))
            .map(|l| l.replace(&path, "F"))
            .collect();
        assert_eq!(
            unset,
            [
                "# unset: to a@x (F:1) by no-to (F:3)",
                "# unset: header X-A: 1 (F:2) by no-header-X-A (F:7)",
                "# unset: header x-a: 2 (F:5) by no-header-X-A (F:7)",
                "# unset: header X-B: 3 (F:6) by no-header (F:9)",
                "# unset: header X-A: 4 (F:8) by no-header (F:9)",
                "# unset: nothing by no-header-x-b (F:10)",
                "# unset: helo h1 (F:13) by no-helo (F:14)",
                "# unset: to b@x (F:4) by no-to (EHLO_NO_TO)",
                "# unset: to c@x (F:12) by no-to (EHLO_NO_TO)",
                "# unset: header X-C: 5 (F:11) by no-header-x-c (command line)",
            ]
        );
    }

    /// 50 000 config lines, half of them `no-to` after as many `to`s, and as many `--no-to`
    /// words against them from the environment and the command line: every line is checked
    /// and every negation applied in one pass (this took minutes while each line cloned the
    /// flag table and each negation walked every setting before it).
    #[test]
    fn a_large_file_with_many_negations_is_layered() {
        let n = 25_000;
        let mut text = String::new();
        for i in 0..n {
            text.push_str(&format!("to r{i}@x\nno-bcc\n"));
        }
        text.push_str("no-to\nto last@x\nhelo h\n");
        let l = layered(&text, &[], &["--no-bcc", "--cc", "a@b"]).unwrap();
        assert_eq!(strings(&l.args), ["--to=last@x", "--helo=h", "--cc", "a@b"]);
        assert_eq!(l.unset.len(), n);
        assert_eq!(l.negations.len(), n + 2);
        assert!(l.unset.iter().all(|u| u.by.spelling == "no-to"));
        let d = l.dump(false);
        assert_eq!(d.matches("# unset: nothing by no-bcc").count(), n + 1);
    }
    /// The negations applied one `retain` at a time, as first written: the oracle for the
    /// one-pass walk.
    fn unset_by_retain(
        settings: &mut Vec<Setting>,
        negs: &[Negation],
        at: &[usize],
    ) -> Vec<(usize, String)> {
        let mut removed = Vec::new();
        // Each negation sees the settings before its place that are still there.
        let mut tagged: Vec<(usize, Setting)> =
            std::mem::take(settings).into_iter().enumerate().collect();
        for (k, n) in negs.iter().enumerate() {
            tagged.retain(|(i, s)| {
                let hit = *i < at[k] && n.matches(s);
                if hit {
                    removed.push((k, s.line(true)));
                }
                !hit
            });
        }
        *settings = tagged.into_iter().map(|(_, s)| s).collect();
        removed
    }

    #[test]
    fn one_pass_negations_match_one_retain_per_negation() {
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut below = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let setting = |id: &str, value: Option<&str>| Setting {
            id: id.into(),
            name: id.into(),
            value: value.map(OsString::from),
            origin: Origin::CommandLine,
            secret: false,
        };
        let targets = [
            Unsets::Id("to".into()),
            Unsets::Id("header".into()),
            Unsets::Header("X-A".into()),
            Unsets::Header("x-b".into()),
        ];
        let values = ["X-A: 1", "x-a:2", " X-B : 3", "X-C: 4", "X-A"];
        for _ in 0..2000 {
            let settings: Vec<Setting> = (0..below(10))
                .map(|_| match below(3) {
                    0 => setting("to", Some("a@b")),
                    1 => setting("header", None),
                    _ => setting("header", Some(values[below(values.len())])),
                })
                .collect();
            let negs: Vec<Negation> = (0..below(5))
                .map(|seq| Negation {
                    spelling: format!("n{seq}"),
                    target: targets[below(targets.len())].clone(),
                    origin: Origin::CommandLine,
                    seq,
                })
                .collect();
            let mut at: Vec<usize> = negs.iter().map(|_| below(settings.len() + 1)).collect();
            at.sort_unstable();
            let (mut a, mut b) = (settings.clone(), settings.clone());
            let mut walked: Vec<(usize, usize, String)> = first_negation(&mut a, &negs, &at)
                .into_iter()
                .map(|(k, i, s)| (k, i, s.line(true)))
                .collect();
            walked.sort();
            let walked: Vec<(usize, String)> = walked.into_iter().map(|(k, _, l)| (k, l)).collect();
            assert_eq!(walked, unset_by_retain(&mut b, &negs, &at));
            let lines = |v: &[Setting]| v.iter().map(|s| s.line(true)).collect::<Vec<_>>();
            assert_eq!(lines(&a), lines(&b));
        }
    }

    /// Many `--no-<opt>` words on the command line: each takes what it unsets from an index.
    #[test]
    fn a_long_command_line_with_many_negations_is_layered() {
        let n = 20_000;
        let mut a: Vec<String> = Vec::new();
        for i in 0..n {
            a.extend([format!("--to=r{i}@x"), "--no-to".into()]);
            a.extend([
                "--header".into(),
                format!("X-{}: {i}", i % 3),
                "--no-header-x-1".into(),
            ]);
        }
        a.extend(["-t".into(), "last@x".into()]);
        let words: Vec<&str> = a.iter().map(String::as_str).collect();
        let l = layered("", &[], &words).unwrap();
        let kept = strings(&l.args);
        let x1 = (0..n).filter(|i| i % 3 == 1).count();
        assert_eq!(kept.len(), 2 * (n - x1) + 2, "{:?}", &kept[..6]);
        assert_eq!(kept[kept.len() - 2..], ["-t", "last@x"]);
        assert!(
            !kept
                .iter()
                .any(|w| w.starts_with("X-1:") || w.starts_with("--to"))
        );
        assert_eq!(l.unset.len(), n + x1);
    }

    /// A refusal of the validated flags names where each flag it names was set below the
    /// command line, at the flag as a whole word, once, never with a value; a command-line flag
    /// and a line naming no layered flag are left as they were.
    #[test]
    fn a_refusal_names_where_its_flags_were_set() {
        let set = |name: &str, origin: Origin| Setting {
            id: name.replace('-', "_"),
            name: name.into(),
            value: Some("secret-value".into()),
            origin,
            secret: false,
        };
        let env = |v: &str| Origin::Env(v.into());
        let file = Origin::File {
            path: PathBuf::from("/home/me/.config/ehlo/config"),
            line: 3,
        };
        let settings = [
            set("tls", env("EHLO_TLS")),
            set("tls-cert", env("EHLO_TLS_CERT")),
            set("tls-key", file.clone()),
            set("header", file),
            set("header", Origin::CommandLine),
            set("helo", Origin::CommandLine),
            set("dsn-envid", env("EHLO_DSN_ENVID")),
        ];
        for (line, want) in [
            (
                "--dsn-envid: the value is empty",
                "--dsn-envid (set by EHLO_DSN_ENVID in the environment): the value is empty",
            ),
            // `--tls` is no part of `--tls-cert`; a `/` list names each flag in one bracket.
            (
                "--tls-cert/--tls-key: cannot read c.pem",
                "--tls-cert/--tls-key (--tls-cert set by EHLO_TLS_CERT in the environment, \
                 --tls-key set by line 3 of /home/me/.config/ehlo/config): cannot read c.pem",
            ),
            (
                "--header 'X' and --header 'Y' clash; --helo is fine",
                "--header (also set by line 3 of /home/me/.config/ehlo/config) 'X' and \
                 --header 'Y' clash; --helo is fine",
            ),
            (
                "--dsn-envid=abc is bad",
                "--dsn-envid=abc (--dsn-envid set by EHLO_DSN_ENVID in the environment) is bad",
            ),
            ("--helo must be one word", "--helo must be one word"),
            (
                "--tls-verify-host is refused",
                "--tls-verify-host is refused",
            ),
        ] {
            let got = with_sources(line, &settings);
            assert_eq!(got, want);
            assert!(!got.contains("secret-value"), "{got}");
        }
        // The mark alone, for a refusal worded once the run has started.
        assert_eq!(
            source_mark("--dsn-envid", &settings),
            " (set by EHLO_DSN_ENVID in the environment)"
        );
        assert_eq!(
            source_mark("--header", &settings),
            " (also set by line 3 of /home/me/.config/ehlo/config)"
        );
        assert_eq!(source_mark("--helo", &settings), "");
        assert_eq!(source_mark("--strict", &settings), "");
        // The same inside the brackets that name the flag after what it limited.
        assert_eq!(
            bracketed("--dsn-envid", &settings),
            "--dsn-envid, set by EHLO_DSN_ENVID in the environment"
        );
        assert_eq!(bracketed("--helo", &settings), "--helo");
    }
}
