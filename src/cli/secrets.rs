//! Where AUTH secrets come from besides argv and the environment (which clap handles): the first
//! line of `--auth-password-file` / `--auth-token-file`, `~/.netrc` (a small parser of our own),
//! and a prompt on the terminal without echo. Also the yes/no question before AUTH over an
//! unencrypted connection. Nothing here prints a secret.

use std::io::{BufRead, Read, Write};
use std::path::Path;

use crate::smtp::auth::Secret;

/// Largest secret or `.netrc` file read (bounded memory on `--auth-password-file /dev/zero`).
const MAX_SECRET_FILE: u64 = 1 << 20;

/// Reads one line from the user's terminal after showing `prompt`; `echo: false` hides what is
/// typed. `None` in [`super::mode::Environment`] when stdin is not a terminal.
pub(crate) type Prompt = fn(prompt: &str, echo: bool) -> std::io::Result<String>;

/// The first line of `path`, without its line ending. An empty first line is an error: a
/// password file that yields an empty password is almost always a mistake.
pub(crate) fn first_line(flag: &str, path: &Path) -> Result<Secret, String> {
    let f = std::fs::File::open(path)
        .map_err(|e| format!("{flag}: cannot read {}: {e}", path.display()))?;
    let mut line = String::new();
    std::io::BufReader::new(f.take(MAX_SECRET_FILE))
        .read_line(&mut line)
        .map_err(|e| format!("{flag}: cannot read {}: {e}", path.display()))?;
    let line = line.trim_end_matches(['\n', '\r']);
    if line.is_empty() {
        return Err(format!(
            "{flag}: the first line of {} is empty",
            path.display()
        ));
    }
    Ok(Secret::new(line))
}

/// The variable holding the AUTH password.
const PASSWORD_ENV: &str = "EHLO_AUTH_PASSWORD";

/// `$EHLO_AUTH_PASSWORD`, when set and not empty.
fn password_from_env() -> Option<Secret> {
    std::env::var(PASSWORD_ENV)
        .ok()
        .filter(|p| !p.is_empty())
        .map(Secret::new)
}

/// Who reads `$EHLO_AUTH_PASSWORD` for [`password`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PasswordEnv {
    /// The configuration layers (the send): its value arrives as `given`, ranked as its layer,
    /// or was dropped (by `--no-auth-password`, or by a file named on a higher layer).
    Layered,
    /// Nobody before (`probe`, the REPL's `:auth`, which have no layers): [`password`] reads
    /// it, after the command line's file.
    Read,
}

/// The AUTH password before `~/.netrc` and a prompt, by one rule for the send, `probe` and the
/// REPL's `:auth`: `given` (`--auth-password` from the send's winning configuration layer),
/// then the first line of `--auth-password-file`, then `$EHLO_AUTH_PASSWORD`. So the command
/// line's file beats the environment everywhere: for the send because layering drops the
/// environment's value when the command line names the file, for the others because the
/// environment is read only without a file. An empty value counts as none.
pub(crate) fn password(
    given: Option<Secret>,
    file: Option<&Path>,
    env: PasswordEnv,
) -> Result<Option<Secret>, String> {
    password_with(given, file, env, password_from_env)
}

/// [`password`] with the environment read by `read_env` (tests pass their own).
fn password_with(
    given: Option<Secret>,
    file: Option<&Path>,
    env: PasswordEnv,
    read_env: fn() -> Option<Secret>,
) -> Result<Option<Secret>, String> {
    if let Some(p) = given.filter(|p| !p.is_empty()) {
        return Ok(Some(p));
    }
    if let Some(f) = file {
        return first_line("--auth-password-file", f).map(Some);
    }
    Ok(match env {
        PasswordEnv::Read => read_env(),
        PasswordEnv::Layered => None,
    })
}

/// What a `.netrc` entry gives.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct NetrcEntry {
    /// `login`.
    pub(crate) login: Option<String>,
    /// `password`.
    pub(crate) password: Option<Secret>,
}

/// Find the entry for `host` in `.netrc` text (the format of ftp(1) and curl): `machine NAME`
/// entries, then `default`, each with `login`/`password`/`account` tokens; `macdef` bodies (up
/// to an empty line) are skipped; double-quoted tokens may hold spaces. When `user` is given, a
/// `machine` or `default` entry whose login differs is passed over. Host names compare case-insensitively.
pub(crate) fn netrc_lookup(
    text: &str,
    host: Option<&str>,
    user: Option<&str>,
) -> Option<NetrcEntry> {
    let host = host.map(|h| h.trim_end_matches('.').to_ascii_lowercase());
    let mut found_default: Option<NetrcEntry> = None;
    let mut current: Option<(Option<String>, NetrcEntry)> = None; // (machine or None = default)
    let mut tokens = tokenize(text).into_iter();
    let mut finish = |cur: Option<(Option<String>, NetrcEntry)>| -> Option<NetrcEntry> {
        let (machine, entry) = cur?;
        let user_ok = match (user, &entry.login) {
            (Some(u), Some(l)) => u == l,
            _ => true,
        };
        match machine {
            Some(m) if Some(m.to_ascii_lowercase()) == host && user_ok => Some(entry),
            // The same user check as for `machine` (curl skips such a `default` too): a
            // password for another login is not this user's.
            None if found_default.is_none() && user_ok => {
                found_default = Some(entry);
                None
            }
            _ => None,
        }
    };
    while let Some(tok) = tokens.next() {
        match tok.as_str() {
            "machine" => {
                if let Some(e) = finish(current.take()) {
                    return Some(e);
                }
                current = Some((
                    Some(tokens.next().unwrap_or_default()),
                    NetrcEntry::default(),
                ));
            }
            "default" => {
                if let Some(e) = finish(current.take()) {
                    return Some(e);
                }
                current = Some((None, NetrcEntry::default()));
            }
            "login" => {
                let v = tokens.next();
                if let Some((_, e)) = current.as_mut() {
                    e.login = v;
                }
            }
            "password" => {
                let v = tokens.next();
                if let Some((_, e)) = current.as_mut() {
                    e.password = v.map(Secret::new);
                }
            }
            "account" => {
                tokens.next();
            }
            "\u{0}macdef" => {
                // The tokenizer already swallowed the macro body.
            }
            _ => {}
        }
    }
    if let Some(e) = finish(current.take()) {
        return Some(e);
    }
    found_default
}

/// Split `.netrc` text into tokens; `macdef NAME` and its body (up to an empty line) become the
/// single marker token `"\0macdef"`.
fn tokenize(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let mut chars = line.chars().peekable();
        let mut line_tokens = Vec::new();
        loop {
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
            let Some(&c) = chars.peek() else { break };
            if c == '#' && line_tokens.is_empty() {
                break; // comment line (curl and GNU inetutils accept these)
            }
            let mut tok = String::new();
            if c == '"' {
                chars.next();
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => tok.extend(chars.next()),
                        _ => tok.push(c),
                    }
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() {
                        break;
                    }
                    tok.push(c);
                    chars.next();
                }
            }
            line_tokens.push(tok);
        }
        if line_tokens.first().is_some_and(|t| t == "macdef") {
            out.push("\u{0}macdef".to_string());
            for body in lines.by_ref() {
                if body.trim().is_empty() {
                    break;
                }
            }
            continue;
        }
        out.extend(line_tokens);
    }
    out
}

/// Read `~/.netrc` (bounded) and look `host` up; a missing file is simply no entry.
pub(crate) fn netrc_file(
    home: Option<&Path>,
    host: Option<&str>,
    user: Option<&str>,
) -> Option<NetrcEntry> {
    let path = home?.join(".netrc");
    let mut text = String::new();
    std::fs::File::open(path)
        .ok()?
        .take(MAX_SECRET_FILE)
        .read_to_string(&mut text)
        .ok()?;
    netrc_lookup(&text, host, user)
}

/// A line typed at an echoing prompt (`prompt`, written on stderr) that is no answer to it, a
/// password typed at a `[y/N]` question: drawn over with the mask, so that it does not stay in
/// clear on the terminal and in its scrollback (the REPL's editor does the same). Only when
/// stdin and stderr are a terminal that takes cursor moves (not `TERM=dumb`).
pub(crate) fn mask_echoed_answer(prompt: &str, answer: &str) {
    use std::io::IsTerminal;
    use std::os::fd::AsFd;
    let err = std::io::stderr();
    let dumb = std::env::var("TERM").map_or(true, |t| t.is_empty() || t == "dumb");
    if dumb || !err.is_terminal() || !std::io::stdin().is_terminal() {
        return;
    }
    let cols = terminal_size::terminal_size_of(err.as_fd())
        .map_or(80, |(w, _)| usize::from(w.0))
        .max(1);
    // The rows the prompt and the echo took; Enter's newline went to the next one.
    let rows = (prompt.chars().count() + answer.chars().count())
        .div_ceil(cols)
        .max(1);
    let mut e = err.lock();
    let _ = write!(
        e,
        "\x1b[{rows}A\r\x1b[J{prompt}{}\r\n",
        crate::smtp::auth::MASK
    );
    let _ = e.flush();
}

/// The real terminal prompt: `prompt` on stderr, one line from stdin; with `echo: false` the
/// terminal's ECHO flag is off while the line is typed (and restored afterwards).
pub(crate) fn tty_prompt(prompt: &str, echo: bool) -> std::io::Result<String> {
    use nix::sys::termios::{LocalFlags, SetArg, tcgetattr, tcsetattr};
    let stdin = std::io::stdin();
    // Echo goes off before the prompt shows: a secret typed (or pasted) the moment the prompt
    // appears must not be echoed by a line discipline that has not been told yet.
    let saved = if echo {
        None
    } else {
        let saved = tcgetattr(&stdin).map_err(std::io::Error::from)?;
        let mut quiet = saved.clone();
        quiet.local_flags.remove(LocalFlags::ECHO);
        // Keep ECHONL so the user sees that Enter was taken.
        quiet.local_flags.insert(LocalFlags::ECHONL);
        tcsetattr(&stdin, SetArg::TCSANOW, &quiet).map_err(std::io::Error::from)?;
        Some(saved)
    };
    let shown = {
        let mut err = std::io::stderr().lock();
        write!(err, "{prompt}").and_then(|()| err.flush())
    };
    if let Err(e) = shown {
        if let Some(saved) = saved {
            let _ = tcsetattr(&stdin, SetArg::TCSANOW, &saved);
        }
        return Err(e);
    }
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    if let Some(saved) = saved {
        let _ = tcsetattr(&stdin, SetArg::TCSANOW, &saved);
    }
    if read? == 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "end of input",
        ));
    }
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NETRC: &str = "\
# a comment
machine smtp.example.com login alice password \"pa ss\\\"word\"
machine other.example login bob password bobpw
macdef init
machine evil.example login mallory password nope

machine Mail.Example.NET
  login carol
  password carolpw
  account ignored
default login anon password anonpw
";

    #[test]
    fn netrc_machine_default_quotes_and_macdef() {
        let e = netrc_lookup(NETRC, Some("smtp.example.com"), None).unwrap();
        assert_eq!(e.login.as_deref(), Some("alice"));
        assert_eq!(e.password.unwrap().expose(), "pa ss\"word");
        let e = netrc_lookup(NETRC, Some("mail.example.net."), None).unwrap();
        assert_eq!(e.login.as_deref(), Some("carol"));
        assert_eq!(e.password.unwrap().expose(), "carolpw");
        // Inside a macdef body: not an entry.
        let e = netrc_lookup(NETRC, Some("evil.example"), None).unwrap();
        assert_eq!(e.login.as_deref(), Some("anon"));
        // Unknown host: the default entry.
        let e = netrc_lookup(NETRC, Some("unknown.example"), None).unwrap();
        assert_eq!(e.password.unwrap().expose(), "anonpw");
        // A given user that does not match the machine's login falls to default, which
        // applies only when its login is that user too (curl skips it otherwise): anon's
        // password is not zed's.
        assert_eq!(
            netrc_lookup(NETRC, Some("other.example"), Some("zed")),
            None
        );
        assert_eq!(
            netrc_lookup(NETRC, Some("unknown.example"), Some("zed")),
            None
        );
        let e = netrc_lookup(NETRC, Some("other.example"), Some("anon")).unwrap();
        assert_eq!(e.password.unwrap().expose(), "anonpw");
        // A default without a login serves any user.
        let e = netrc_lookup("default password any", Some("x"), Some("zed")).unwrap();
        assert_eq!(e.password.unwrap().expose(), "any");
        let e = netrc_lookup(NETRC, Some("other.example"), Some("bob")).unwrap();
        assert_eq!(e.password.unwrap().expose(), "bobpw");
        assert_eq!(netrc_lookup("machine a login b", Some("x"), None), None);
        assert_eq!(netrc_lookup("", Some("x"), None), None);
        // No host known (MX routing): only `default` applies.
        let e = netrc_lookup(NETRC, None, None).unwrap();
        assert_eq!(e.login.as_deref(), Some("anon"));
        // Truncated files do not panic.
        assert_eq!(netrc_lookup("machine", Some("x"), None), None);
        let e = netrc_lookup("machine x password", Some("x"), None).unwrap();
        assert!(e.password.is_none());
    }

    #[test]
    fn first_line_of_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("pw");
        std::fs::write(&p, "hunter2\r\nsecond line\n").unwrap();
        assert_eq!(first_line("--f", &p).unwrap().expose(), "hunter2");
        std::fs::write(&p, "\nx").unwrap();
        assert!(first_line("--f", &p).unwrap_err().contains("empty"));
        let e = first_line("--f", &dir.path().join("missing")).unwrap_err();
        assert!(e.starts_with("--f: cannot read"), "{e}");
    }

    #[test]
    fn password_given_then_file_then_environment() {
        use PasswordEnv::{Layered, Read};
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pw");
        std::fs::write(&file, "from-file\n").unwrap();
        let env = || Some(Secret::new("from-env"));
        let no_env = || None;
        let got = |given: Option<&str>, file: Option<&Path>, who, read: fn() -> Option<Secret>| {
            password_with(given.map(Secret::new), file, who, read)
                .unwrap()
                .map(|s| s.expose().to_string())
        };
        for who in [Layered, Read] {
            // A given value wins; an empty one counts as none.
            assert_eq!(
                got(Some("given"), Some(&file), who, env).as_deref(),
                Some("given")
            );
            assert_eq!(
                got(Some(""), Some(&file), who, env).as_deref(),
                Some("from-file")
            );
            // The file beats the environment.
            assert_eq!(
                got(None, Some(&file), who, env).as_deref(),
                Some("from-file")
            );
            assert_eq!(got(None, None, who, no_env), None);
        }
        // The environment is read only when nobody read it before.
        assert_eq!(got(None, None, Read, env).as_deref(), Some("from-env"));
        assert_eq!(got(None, None, Layered, env), None);
        // An unreadable file is an error, not a fall-back to the environment.
        let missing = dir.path().join("missing");
        let e = password_with(None, Some(&missing), Read, env).unwrap_err();
        assert!(e.starts_with("--auth-password-file: cannot read"), "{e}");
    }
}
