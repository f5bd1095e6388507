//! Configuration layering (swaks.md §6, swaks's `.swaksrc` / `SWAKS_OPT_*`): a config file <
//! `EHLO_*` environment variables < the command line, done as an argv rewrite before clap parses
//! anything, so the flag table in [`super::args`] stays the only definition of an option.
//!
//! - **File**: `--config FILE`, else `$EHLO_CONFIG`, else `$XDG_CONFIG_HOME/ehlo/config` (an unset,
//!   empty or relative `XDG_CONFIG_HOME` falls back to `~/.config/ehlo/config`); a missing default
//!   file is no error, a missing named one is. `--no-config` (or `EHLO_NO_CONFIG` set to anything)
//!   turns the file off. One option per line, leading dashes optional, blank lines and lines
//!   starting with `#` ignored; the value is everything after the first space or tab, literally
//!   (`name=value` works too); a line ending in one space gives an empty value.
//! - **Environment**: `EHLO_<NAME>` where `<NAME>` is a long option or alias of the one-shot send,
//!   upper-cased with dashes as underscores (`EHLO_AUTH_USER=me` is `--auth-user me`), taken in
//!   sorted order; an empty value is the flag without a value. `EHLO_AUTH_TOKEN` is
//!   `--auth-oauth-token` (its documented secret source). An empty `EHLO_AUTH_PASSWORD` /
//!   `EHLO_AUTH_TOKEN` means unset, as before. Test knobs ([`RESERVED_ENV`]) and any other
//!   `EHLO_*` name that is no option are ignored (`--dump-config` lists them).
//! - **Merge**: lower layers come first in the merged argv. A single-value option set in a
//!   higher layer drops the lower one, and so does any option it conflicts with (`--tls-optional`
//!   on the command line replaces `tls` from the file); repeatable options (`--to`, `--header`…)
//!   accumulate, lowest layer first. Within one layer the last occurrence of a single-value
//!   option wins.
//!
//! Only the one-shot send is layered: a subcommand (`serve`, `demo`, `repl`, `replay`), `--help`,
//! `--version`, a bare `ehlo` and a command line clap refuses anyway are passed through untouched.

use std::collections::{HashMap, HashSet};
use std::ffi::{OsStr, OsString};
use std::io::Read;
use std::path::{Path, PathBuf};

use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches, Command, CommandFactory};

use crate::cli::args::Cli;
use crate::error::Error;

/// Prefix of the environment variables that set options.
pub const ENV_PREFIX: &str = "EHLO_";

/// `EHLO_*` names that are test knobs, never options (kept out of the mapping even if a flag of
/// that name is added one day).
pub const RESERVED_ENV: &[&str] = &["EHLO_REGENERATE", "EHLO_INTEROP_BIN", "EHLO_INTEROP_KEEP"];

/// Environment names that are not derived from a flag name: the documented secret sources.
const ENV_ALIASES: &[(&str, &str)] = &[("EHLO_AUTH_TOKEN", "auth_oauth_token")];

/// Environment variables that choose the file instead of setting an option.
const ENV_CONFIG: &str = "EHLO_CONFIG";
const ENV_NO_CONFIG: &str = "EHLO_NO_CONFIG";

/// Ids of the flags that steer layering itself (not allowed in the file).
const CONTROL_IDS: &[&str] = &["config", "no_config", "dump_config"];

/// Largest config file read (it is a handful of lines; this bounds memory on a wrong path).
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// The outside world layering depends on, so tests can give their own.
#[derive(Debug, Clone, Default)]
pub struct LayerEnv {
    /// The `EHLO_*` environment variables.
    pub vars: Vec<(String, OsString)>,
    /// Where the default config file is (None: no home directory known).
    pub default_file: Option<PathBuf>,
}

impl LayerEnv {
    /// The real process environment.
    pub fn current() -> LayerEnv {
        let vars = std::env::vars_os()
            .filter_map(|(k, v)| {
                let k = k.into_string().ok()?;
                k.starts_with(ENV_PREFIX).then_some((k, v))
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

/// `$XDG_CONFIG_HOME/ehlo/config`, else `$HOME/.config/ehlo/config`. The XDG Base Directory
/// specification says a relative `XDG_CONFIG_HOME` is invalid and must be ignored.
pub fn default_config_path(xdg: Option<OsString>, home: Option<OsString>) -> Option<PathBuf> {
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
pub enum Origin {
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
pub struct Setting {
    /// clap id of the flag.
    pub id: String,
    /// Its long name (the canonical spelling).
    pub name: String,
    /// The value, if one was given (comma lists joined as written).
    pub value: Option<OsString>,
    /// Where it came from.
    pub origin: Origin,
    secret: bool,
}

impl Setting {
    /// The argv word for it: `--name` or `--name=value` (the `=` form keeps a value that starts
    /// with a dash a value).
    fn token(&self) -> OsString {
        let mut t = OsString::from(format!("--{}", self.name));
        if let Some(v) = &self.value {
            t.push("=");
            t.push(v);
        }
        t
    }

    /// The setting as a config file line; secrets become `<redacted>` unless `show_secrets`.
    pub fn line(&self, show_secrets: bool) -> String {
        match &self.value {
            None => self.name.clone(),
            Some(_) if self.secret && !show_secrets => format!("{} <redacted>", self.name),
            Some(v) => format!("{} {}", self.name, v.to_string_lossy()),
        }
    }
}

/// Which config file was used, for `--dump-config`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileState {
    /// Read this file.
    Read(PathBuf),
    /// The default file does not exist.
    Absent(PathBuf),
    /// No home directory, so no default file.
    NoHome,
    /// `--no-config` / `EHLO_NO_CONFIG`.
    Off,
}

/// The result of layering.
#[derive(Debug, Clone)]
pub struct Layered {
    /// The merged argv for clap (program name first).
    pub args: Vec<OsString>,
    /// The effective settings in merged order (empty when nothing was layered).
    pub settings: Vec<Setting>,
    /// Settings of a lower layer that a higher one replaced.
    pub overridden: Vec<Setting>,
    /// `EHLO_*` variables that are no option.
    pub ignored_env: Vec<String>,
    /// The config file.
    pub file: FileState,
}

impl Layered {
    /// `--dump-config` output: the effective options in config file format, grouped by layer
    /// with `#` comment lines, so it can be saved as a config file as is.
    pub fn dump(&self, show_secrets: bool) -> String {
        let mut out = String::from(
            "# ehlo --dump-config: effective options, lowest precedence first (file < environment < command line)\n",
        );
        out.push_str(&match &self.file {
            FileState::Read(p) => format!("# config file: {}\n", p.display()),
            FileState::Absent(p) => {
                format!("# config file: none ({} does not exist)\n", p.display())
            }
            FileState::NoHome => "# config file: none (no home directory)\n".into(),
            FileState::Off => "# config file: turned off (--no-config)\n".into(),
        });
        let mut last: Option<&str> = None;
        for s in &self.settings {
            let group = match &s.origin {
                Origin::File { .. } => "# from the config file",
                Origin::Env(_) => "# from the environment",
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
        for name in &self.ignored_env {
            out.push_str(&format!("# ignored: {name} (not an option)\n"));
        }
        out
    }
}

/// The flag table, seen from layering.
struct Table {
    cmd: Command,
    conflicts: HashMap<String, HashSet<String>>,
}

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
        Table { cmd, conflicts }
    }

    fn by_id(&self, id: &str) -> Option<&Arg> {
        self.cmd.get_arguments().find(|a| a.get_id() == id)
    }

    /// A long name, alias or one-character short of the one-shot send.
    fn lookup(&self, name: &str) -> Lookup<'_> {
        let found = self.cmd.get_arguments().find(|a| {
            a.get_long() == Some(name)
                || a.get_all_aliases().unwrap_or_default().contains(&name)
                || (name.chars().count() == 1 && a.get_short().is_some_and(|s| name.starts_with(s)))
        });
        match found {
            None => Lookup::Unknown,
            Some(a) => {
                if CONTROL_IDS.contains(&a.get_id().as_str()) || is_meta(a) {
                    Lookup::CommandLineOnly
                } else {
                    Lookup::Arg(a)
                }
            }
        }
    }

    fn repeatable(&self, id: &str) -> bool {
        self.by_id(id)
            .is_some_and(|a| matches!(a.get_action(), ArgAction::Append | ArgAction::Count))
    }

    fn conflict(&self, a: &str, b: &str) -> bool {
        self.conflicts.get(a).is_some_and(|s| s.contains(b))
    }

    /// Does a setting of `id` give way to this set of higher-layer ids?
    fn overridden(&self, id: &str, higher: &HashSet<String>) -> bool {
        (higher.contains(id) && !self.repeatable(id)) || higher.iter().any(|h| self.conflict(id, h))
    }

    /// A setting for `arg` with a value as written in a file or variable: checks the
    /// value/no-value shape, then lets clap validate the value itself. `Err` is the reason,
    /// without the value (it may be a secret).
    fn setting(
        &self,
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
        match self
            .cmd
            .clone()
            .try_get_matches_from([OsString::from("ehlo"), s.token()])
        {
            Ok(_) => Ok(s),
            Err(e) => Err(clap_reason(&e)),
        }
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

/// The first line of a clap error without its `error: ` prefix.
fn clap_reason(e: &clap::Error) -> String {
    let text = e.to_string();
    let first = text.lines().next().unwrap_or_default().trim();
    first.strip_prefix("error: ").unwrap_or(first).to_string()
}

/// Merge the config file and the environment into `argv` (already single-dash rewritten).
/// `Err` is a usage error naming the file and line or the variable.
pub fn apply(argv: Vec<OsString>, env: &LayerEnv) -> Result<Layered, Error> {
    let passthrough = |argv: Vec<OsString>| Layered {
        args: argv,
        settings: Vec::new(),
        overridden: Vec::new(),
        ignored_env: Vec::new(),
        file: FileState::Off,
    };
    if argv.len() <= 1 {
        // A bare `ehlo` shows the help, config file or not.
        return Ok(passthrough(argv));
    }
    // Nothing to layer (no config file, no option in the environment, no layering flag): the
    // command line is the whole story. This is the common case, and building and running the
    // flag table twice would cost more than a local SMTP dialogue.
    let env_sets_options = env
        .vars
        .iter()
        .any(|(name, _)| name.starts_with(ENV_PREFIX) && !RESERVED_ENV.contains(&name.as_str()));
    let steers_layering = argv.iter().skip(1).any(|a| {
        let a = a.to_string_lossy();
        a == "--config" || a.starts_with("--config=") || a == "--dump-config"
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
    let matches = match table.cmd.clone().try_get_matches_from(&argv) {
        // Help, version and bad command lines: clap says the same thing again on the real parse.
        Err(_) => return Ok(passthrough(argv)),
        Ok(m) if m.subcommand().is_some() => return Ok(passthrough(argv)),
        Ok(m) => m,
    };

    // Environment first: it may name the file.
    let mut vars: Vec<&(String, OsString)> = env.vars.iter().collect();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    let mut env_settings = Vec::new();
    let mut ignored_env = Vec::new();
    let mut env_file: Option<PathBuf> = None;
    let mut env_no_config = false;
    for (name, value) in vars {
        let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        if RESERVED_ENV.contains(&name.as_str()) {
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
        let arg = match ENV_ALIASES.iter().find(|(n, _)| n == name) {
            Some((_, id)) => table.by_id(id),
            None => match table.lookup(&rest.to_ascii_lowercase().replace('_', "-")) {
                // Shorts are spelt with their long name in the environment.
                Lookup::Arg(a) if rest.len() > 1 => Some(a),
                Lookup::CommandLineOnly if rest.len() > 1 => {
                    return Err(Error::Usage(format!(
                        "{name}: this option can only be given on the command line"
                    )));
                }
                _ => None,
            },
        };
        let Some(arg) = arg else {
            ignored_env.push(name.clone());
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
    let file = if let Some(p) = named {
        Some((p, true))
    } else if matches.get_flag("no_config") || env_no_config {
        None
    } else if let Some(p) = env_file {
        Some((p, true))
    } else {
        env.default_file.clone().map(|p| (p, false))
    };
    let (file_state, file_settings) = match file {
        None if matches.get_flag("no_config") || env_no_config => (FileState::Off, Vec::new()),
        None => (FileState::NoHome, Vec::new()),
        Some((path, named)) => match read_config(&path)? {
            None if named => {
                return Err(Error::Usage(format!(
                    "cannot read config file {}: it does not exist",
                    path.display()
                )));
            }
            None => (FileState::Absent(path), Vec::new()),
            Some(text) => {
                let settings = parse_file(&table, &path, &text)?;
                (FileState::Read(path), settings)
            }
        },
    };

    // Merge: walk down from the command line, dropping what a higher layer replaces.
    let cmdline = table.command_line(&matches);
    let mut higher: HashSet<String> = cmdline.iter().map(|s| s.id.clone()).collect();
    let mut overridden = Vec::new();
    let mut kept_layers: Vec<Vec<Setting>> = Vec::new();
    for layer in [env_settings, file_settings] {
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
        higher.extend(kept.iter().map(|s| s.id.clone()));
        kept_layers.push(kept);
    }
    overridden.reverse();
    let mut settings: Vec<Setting> = kept_layers.into_iter().rev().flatten().collect();

    let mut args = Vec::with_capacity(argv.len() + settings.len());
    let mut iter = argv.into_iter();
    args.extend(iter.next());
    args.extend(settings.iter().map(Setting::token));
    args.extend(iter);
    settings.extend(cmdline);
    Ok(Layered {
        args,
        settings,
        overridden,
        ignored_env,
        file: file_state,
    })
}

/// The file's text, `None` if it does not exist. Other failures (a directory, no permission,
/// not UTF-8, too large) are errors.
fn read_config(path: &Path) -> Result<Option<String>, Error> {
    let fail =
        |why: String| Error::Usage(format!("cannot read config file {}: {why}", path.display()));
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

/// One config line as (name, value): `None` for blank and comment lines.
pub fn split_line(line: &str) -> Option<(&str, Option<&str>)> {
    let line = line.strip_suffix('\r').unwrap_or(line).trim_start();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let body = line
        .strip_prefix("--")
        .or_else(|| line.strip_prefix('-'))
        .unwrap_or(line);
    let (name, value) = match body.find([' ', '\t']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    Some(match name.split_once('=') {
        Some((n, v)) if value.is_none() => (n, Some(v)),
        _ => (name, value),
    })
}

fn parse_file(table: &Table, path: &Path, text: &str) -> Result<Vec<Setting>, Error> {
    let mut out = Vec::new();
    for (i, line) in text.split('\n').enumerate() {
        let Some((name, value)) = split_line(line) else {
            continue;
        };
        let at = |why: String| Error::Usage(format!("{}:{}: {why}", path.display(), i + 1));
        let arg = match table.lookup(name) {
            Lookup::Arg(a) => a,
            Lookup::CommandLineOnly => {
                return Err(at(format!(
                    "'{name}' can only be given on the command line"
                )));
            }
            Lookup::Unknown => {
                return Err(at(format!(
                    "unknown option '{name}' (the config file takes options of the one-shot send)"
                )));
            }
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
            "to file@x\nheader X-A: file\n",
            &[("EHLO_TO", "env@x")],
            &["-t", "argv@x", "--header", "X-B: argv"],
        )
        .unwrap();
        let cli = <Cli as clap::Parser>::try_parse_from(&l.args).unwrap();
        assert_eq!(cli.send.envelope.to, ["file@x", "env@x", "argv@x"]);
        assert_eq!(cli.send.message.header, ["X-A: file", "X-B: argv"]);
    }

    #[test]
    fn conflicting_flags_give_way_to_the_higher_layer() {
        let l = layered(
            "tls\nbody hello\n",
            &[],
            &["-t", "a@b", "--tlsc", "-d", "raw"],
        )
        .unwrap();
        let cli = <Cli as clap::Parser>::try_parse_from(&l.args).unwrap();
        assert!(cli.send.tls.tls_on_connect && !cli.send.tls.tls);
        assert_eq!(cli.send.message.body, None);
        assert_eq!(l.overridden.len(), 2);
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
        assert_eq!(cli.send.auth.auth_oauth_token.unwrap().expose(), "tok-1");
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
        let m = err("tls\n\n# c\nno-such-flag 1\n");
        assert!(m.ends_with("config:4: unknown option 'no-such-flag' (the config file takes options of the one-shot send)"), "{m}");
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
        assert_eq!(l.file, FileState::Off);
        assert_eq!(strings(&l.args), ["--no-config", "-t", "a@b"]);
        let l = layered("from file@x\n", &[("EHLO_NO_CONFIG", "")], &["-t", "a@b"]).unwrap();
        assert_eq!(l.file, FileState::Off);
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

    #[test]
    fn secrets_are_detected_from_the_table() {
        let t = Table::new();
        let secret = |id: &str| t.by_id(id).unwrap().is_hide_env_values_set();
        assert!(secret("auth_password") && secret("auth_oauth_token"));
        assert!(!secret("auth_user"));
        // No flag is spelt like a reserved test knob.
        for r in RESERVED_ENV {
            let name = r[ENV_PREFIX.len()..].to_ascii_lowercase().replace('_', "-");
            assert!(matches!(t.lookup(&name), Lookup::Unknown), "{r}");
        }
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
}
