//! The module boundaries, checked on the source text. Fails naming file:line.
//!
//! - The sans-IO core: nothing under src/smtp/ may use tokio, sockets, openssl, hickory, a
//!   clock or print.
//! - The import rules (code outside tests): src/smtp imports none of
//!   `crate::{net, render, cli, repl, serve, error}` nor any mode (`check`, `probe`, `demo`,
//!   `app`); src/render none of `crate::{net, cli}`; src/net none of `crate::{cli, repl, render}`
//!   nor any mode (`serve`, `check`, `probe`, `demo`, `app`): the modes build on the core and
//!   the connection layer, never the other way round.
//! - One renderer per run: only src/app.rs and src/render build a renderer or make the colour
//!   decision (`serve::start`, for tests and embedders, excepted; the binary never calls it).
//! - No flag names in the core: a string literal in src/smtp code (outside tests) holds no
//!   `--long-flag`. What the core advises is a `Remedy` the front end words; the exceptions are
//!   listed in [`FLAG_EXCEPTIONS`] with their reason. (SMTP itself has no `--` token.)

use std::collections::HashSet;
use std::path::{Path, PathBuf};

const FORBIDDEN: &[&str] = &[
    "tokio",
    "std::net",
    "openssl",
    "hickory",
    "Instant::now",
    "SystemTime",
    "println!",
    "eprintln!",
    "print!(",
    "dbg!",
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a line: without its `//` comment (doc comments included).
fn code(line: &str) -> &str {
    line.split("//").next().unwrap_or("")
}

fn scan(dir: &Path, hits: &mut Vec<String>) {
    let mut files = Vec::new();
    rust_files(dir, &mut files);
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        for (n, line) in text.lines().enumerate() {
            for word in FORBIDDEN {
                if code(line).contains(word) {
                    hits.push(format!("{}:{}: {word}", path.display(), n + 1));
                }
            }
        }
    }
}

#[test]
fn smtp_core_does_no_io() {
    let mut hits = Vec::new();
    scan(&src().join("smtp"), &mut hits);
    assert!(
        hits.is_empty(),
        "I/O in the sans-IO core:\n{}",
        hits.join("\n")
    );
}

/// Files that are test modules (`#[cfg(test)] mod name;`), anywhere under src/.
fn test_module_files() -> HashSet<PathBuf> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut tests = HashSet::new();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        for (i, line) in lines.iter().enumerate() {
            let Some(name) = line
                .strip_prefix("mod ")
                .or_else(|| line.strip_prefix("pub(crate) mod "))
                .and_then(|r| r.strip_suffix(';'))
            else {
                continue;
            };
            if i == 0 || lines[i - 1] != "#[cfg(test)]" {
                continue;
            }
            // `a/mod.rs` and `lib.rs` declare siblings; `a/b.rs` declares `a/b/name.rs`.
            let stem = path.file_stem().unwrap();
            let dir = if stem == "mod" || stem == "lib" {
                path.parent().unwrap().to_path_buf()
            } else {
                path.with_extension("")
            };
            tests.insert(dir.join(format!("{name}.rs")));
            tests.insert(dir.join(name).join("mod.rs"));
        }
    }
    tests
}

/// The `crate::` paths a piece of code names: `crate::net::x` gives `net`, `crate::{net, cli}`
/// gives both.
fn crate_paths(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let after = &rest[i + "crate::".len()..];
        if let Some(group) = after.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    found.push(name);
                }
            }
        } else {
            let name: String = after
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            found.push(name);
        }
        rest = after;
    }
    found
}

/// Every non-test use of `crate::<forbidden>` under `src/<dir>`, as `file:line: crate::name`.
fn imports(dir: &str, forbidden: &[&str]) -> Vec<String> {
    let tests = test_module_files();
    let mut files = Vec::new();
    rust_files(&src().join(dir), &mut files);
    let mut hits = Vec::new();
    for path in files {
        if tests.contains(&path) {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        // One statement may span lines (`use crate::{\n net,\n}`): join the code, keep line
        // starts to name the line.
        let mut joined = String::new();
        let mut starts = Vec::new();
        let lexed = Lexed::new(&text);
        for (n, line) in text.lines().enumerate() {
            starts.push(joined.len());
            if !lexed.test_only[n] {
                joined.push_str(code(line));
            }
            joined.push('\n');
        }
        let mut offset = 0;
        while let Some(i) = joined[offset..].find("crate::") {
            let at = offset + i;
            let stmt_end = joined[at..].find(';').map_or(joined.len(), |e| at + e);
            let names = crate_paths(&joined[at..stmt_end.max(at + 7)]);
            let lineno = starts.partition_point(|s| *s <= at);
            for name in names {
                if forbidden.contains(&name.as_str()) {
                    hits.push(format!("{}:{lineno}: crate::{name}", path.display()));
                }
            }
            offset = at + "crate::".len();
        }
    }
    hits.sort();
    hits.dedup();
    hits
}

/// A source file split by what each byte is: the code with comments and literals blanked
/// (`structure`), the contents of string literals only (`strings`), both line for line with the
/// text; and which lines belong to an item under `#[cfg(test)]` (`test_only`).
struct Lexed {
    strings: Vec<String>,
    test_only: Vec<bool>,
}

impl Lexed {
    fn new(text: &str) -> Lexed {
        #[derive(PartialEq)]
        enum In {
            Code,
            Str,
            RawStr(usize),
            Block,
        }
        let mut structure = String::new();
        let mut strings = String::new();
        let chars: Vec<char> = text.chars().collect();
        let mut state = In::Code;
        let mut i = 0;
        let mut put = |c: char, s: bool, lit: bool| {
            let keep = |on: bool| if c == '\n' || on { c } else { ' ' };
            structure.push(keep(s));
            strings.push(keep(lit));
        };
        while i < chars.len() {
            let c = chars[i];
            let next = chars.get(i + 1).copied();
            match state {
                In::Code => match (c, next) {
                    ('/', Some('/')) => {
                        while i < chars.len() && chars[i] != '\n' {
                            put(chars[i], false, false);
                            i += 1;
                        }
                        continue;
                    }
                    ('/', Some('*')) => state = In::Block,
                    ('"', _) => state = In::Str,
                    ('r', Some('#' | '"'))
                        if i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_') =>
                    {
                        let hashes = chars[i + 1..].iter().take_while(|&&h| h == '#').count();
                        if chars.get(i + 1 + hashes) == Some(&'"') {
                            for _ in 0..=hashes + 1 {
                                put(chars[i], false, false);
                                i += 1;
                            }
                            state = In::RawStr(hashes);
                            continue;
                        }
                    }
                    // A char literal ('x', '\n', '{'), not a lifetime ('a).
                    ('\'', _) => {
                        let len = if next == Some('\\') {
                            chars[i + 2..]
                                .iter()
                                .position(|&q| q == '\'')
                                .map(|p| p + 3)
                        } else {
                            (chars.get(i + 2) == Some(&'\'')).then_some(3)
                        };
                        if let Some(len) = len {
                            for _ in 0..len {
                                put(chars[i], false, false);
                                i += 1;
                            }
                            continue;
                        }
                    }
                    _ => {}
                },
                In::Str => match c {
                    '\\' => {
                        put(c, false, true);
                        if let Some(n) = next {
                            put(n, false, true);
                        }
                        i += 2;
                        continue;
                    }
                    '"' => {
                        state = In::Code;
                        put(c, false, false);
                        i += 1;
                        continue;
                    }
                    _ => {}
                },
                In::RawStr(hashes) => {
                    if c == '"' && chars[i + 1..].iter().take(hashes).all(|&h| h == '#') {
                        for _ in 0..=hashes {
                            put(chars[i], false, false);
                            i += 1;
                        }
                        state = In::Code;
                        continue;
                    }
                }
                In::Block => {
                    if c == '*' && next == Some('/') {
                        put(c, false, false);
                        put('/', false, false);
                        i += 2;
                        state = In::Code;
                        continue;
                    }
                }
            }
            let (s, lit) = match state {
                In::Code => (c != '"', false),
                In::Str | In::RawStr(_) => (false, c != '"'),
                In::Block => (false, false),
            };
            put(c, s, lit);
            i += 1;
        }
        let structure: Vec<&str> = structure.split('\n').collect();
        let strings: Vec<String> = strings.split('\n').map(str::to_string).collect();
        // An item under `#[cfg(test)]`: a declaration to its `;`, a body to its closing brace.
        let mut test_only = vec![false; structure.len()];
        let mut n = 0;
        while n < structure.len() {
            if structure[n].trim() != "#[cfg(test)]" {
                n += 1;
                continue;
            }
            let mut depth = 0i32;
            let mut opened = false;
            while n < structure.len() {
                test_only[n] = true;
                for c in structure[n].chars() {
                    match c {
                        '{' => {
                            depth += 1;
                            opened = true;
                        }
                        '}' => depth -= 1,
                        _ => {}
                    }
                }
                let line = structure[n].trim_end();
                n += 1;
                let attr = line.trim_start().starts_with("#[");
                if !attr && ((opened && depth <= 0) || (!opened && line.ends_with(';'))) {
                    break;
                }
            }
        }
        Lexed { strings, test_only }
    }
}

/// Flags the core may still name, and why.
const FLAG_EXCEPTIONS: &[(&str, &str)] = &[
    // The one table of the one-shot send's words for each remedy: how a hint reads by default
    // (its `Display` and JSON), kept beside `Remedy` so JSON needs no renderer.
    ("smtp/codes/remedy.rs", "*"),
    // `ehlo serve`'s fault and quirk specifications are parsed in the server core, and their
    // errors and help name the option they came from.
    ("smtp/server/fault.rs", "*"),
    ("smtp/server/quirk.rs", "*"),
    // Sent on the wire by `ehlo serve`: the reply text says which `--fail` injected it.
    ("smtp/server.rs", "--fail"),
];

/// The `--long-flag`s in the string literals of `text`, as (line, flag).
fn flags_in_strings(text: &str) -> Vec<(usize, String)> {
    let lexed = Lexed::new(text);
    let mut found = Vec::new();
    for (n, s) in lexed.strings.iter().enumerate() {
        if lexed.test_only[n] {
            continue;
        }
        let b = s.as_bytes();
        for i in 0..b.len().saturating_sub(2) {
            let token_start = i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'-');
            if token_start && &b[i..i + 2] == b"--" && b[i + 2].is_ascii_lowercase() {
                let flag: String = s[i..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                    .collect();
                found.push((n + 1, flag));
            }
        }
    }
    found
}

#[test]
fn smtp_core_names_no_flags() {
    let tests = test_module_files();
    let mut files = Vec::new();
    rust_files(&src().join("smtp"), &mut files);
    let mut hits = Vec::new();
    for path in files {
        if tests.contains(&path) {
            continue;
        }
        let rel = path
            .strip_prefix(src())
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        for (line, flag) in flags_in_strings(&text) {
            let excused = FLAG_EXCEPTIONS
                .iter()
                .any(|(file, f)| *file == rel && (*f == "*" || *f == flag));
            if !excused {
                hits.push(format!("src/{rel}:{line}: {flag}"));
            }
        }
    }
    assert!(
        hits.is_empty(),
        "flag names in the sans-IO core (name a Remedy instead):\n{}",
        hits.join("\n")
    );
}

#[test]
fn flag_scan_reads_strings_only_and_skips_tests() {
    let text = r##"
//! Doc: --doc-flag is not code.
fn f() -> &'static str {
    let _c = '"';
    let _u = "https://example.test/a--b xn--bcher-kva";
    /* a --block comment */
    let _r = r#"raw "--raw-flag" here"#;
    "use --real-flag, \"--escaped\" too
     and --next-line"
}
#[cfg(test)]
fn helper() -> &'static str {
    "--in-test-helper"
}
fn g() -> &'static str {
    "--after-helper"
}
#[cfg(test)]
mod tests;
#[cfg(test)]
mod inline {
    const X: &str = "--inline-test";
}
"##;
    let flags: Vec<String> = flags_in_strings(text).into_iter().map(|(_, f)| f).collect();
    assert_eq!(
        flags,
        [
            "--raw-flag",
            "--real-flag",
            "--escaped",
            "--next-line",
            "--after-helper"
        ]
    );
}

#[test]
fn import_rules_hold() {
    let rules: &[(&str, &[&str])] = &[
        (
            "smtp",
            &[
                "net", "render", "cli", "repl", "serve", "error", "check", "probe", "demo", "app",
            ],
        ),
        ("render", &["net", "cli"]),
        (
            "net",
            &[
                "cli", "repl", "render", "serve", "check", "probe", "demo", "app",
            ],
        ),
    ];
    let mut hits = Vec::new();
    for (dir, forbidden) in rules {
        hits.extend(imports(dir, forbidden));
    }
    assert!(
        hits.is_empty(),
        "imports across a module boundary:\n{}",
        hits.join("\n")
    );
}

#[test]
fn import_scan_sees_grouped_and_nested_paths() {
    // The scanner must catch every spelling, or the rule above could pass vacuously.
    assert_eq!(crate_paths("use crate::net::conn;"), ["net"]);
    assert_eq!(
        crate_paths("use crate::{net::dns, render};"),
        ["net", "render"]
    );
    assert_eq!(crate_paths("x: crate::cli::args::Cli"), ["cli"]);
    assert!(!imports("smtp", &["smtp"]).is_empty(), "smtp names itself");
}

/// The code of every file under `src/<dir>` outside tests (test module files skipped, an inline
/// `#[cfg(test)]` module ends the file), one entry per line: (file, line number, code without
/// comments).
fn non_test_code(dir: &str) -> Vec<(PathBuf, usize, String)> {
    let tests = test_module_files();
    let mut files = Vec::new();
    rust_files(&src().join(dir), &mut files);
    files.sort();
    let mut out = Vec::new();
    for path in files {
        if tests.contains(&path) {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for (n, line) in text.lines().enumerate() {
            if line.trim() == "#[cfg(test)]" {
                break;
            }
            out.push((path.clone(), n + 1, code(line).to_string()));
        }
    }
    out
}

/// What builds a renderer or makes the run's colour decision, as code names it.
const RENDERER_BUILDERS: &[&str] = &[
    "make_to",
    "make_batched",
    "make_console",
    "json_copy",
    "Human::new",
    "Json::new",
    "CheckRenderer::new",
    "CheckRenderer::for_mode",
    "CheckRenderer::for_probe",
    "CheckRenderer::with_writer",
    "style::configure",
];

/// The renderer builders a line of code names: the names above (as whole words), and
/// `render::make` itself (also inside a `render::{…}` import group).
fn builders_named(code: &str) -> Vec<String> {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut found = Vec::new();
    for name in RENDERER_BUILDERS {
        let mut rest = code;
        while let Some(i) = rest.find(name) {
            let before = rest[..i].chars().next_back();
            let after = rest[i + name.len()..].chars().next();
            if !before.is_some_and(ident) && !after.is_some_and(ident) {
                found.push((*name).to_string());
            }
            rest = &rest[i + name.len()..];
        }
    }
    let mut rest = code;
    while let Some(i) = rest.find("render::") {
        let after = &rest[i + "render::".len()..];
        let group = after
            .strip_prefix('{')
            .map(|g| &g[..g.find('}').unwrap_or(g.len())]);
        let names: Vec<&str> = match group {
            Some(g) => g.split(',').map(str::trim).collect(),
            None => vec![after.split(|c: char| !ident(c)).next().unwrap_or("")],
        };
        if names.contains(&"make") {
            found.push("render::make".into());
        }
        rest = after;
    }
    found
}

/// One renderer per run, built in one place: the dispatcher (`src/app.rs`) builds every mode's
/// renderer through `render` and hands it down; no mode builds its own or makes its own colour
/// decision. `serve::start` (the library's way to run a server in a test or another program,
/// rendering with `make_batched`) is the one other builder, and no code of the binary calls
/// it: `ehlo serve` runs `serve::run` with app's renderer, the demo's embedded server gets a
/// renderer that drops its events.
#[test]
fn only_app_builds_the_renderer() {
    let mut hits = Vec::new();
    let mut in_app = HashSet::new();
    for (path, n, line) in non_test_code("") {
        let rel = path.strip_prefix(src()).unwrap().to_path_buf();
        let in_render = rel.starts_with("render");
        let names = builders_named(&line);
        if rel == Path::new("app.rs") {
            in_app.extend(names);
            continue;
        }
        let library_start = rel == Path::new("serve/mod.rs") && names == ["make_batched"];
        if !in_render && !library_start {
            for name in names {
                hits.push(format!("{}:{n}: {name}", path.display()));
            }
        }
        // `serve::start` from anywhere, or a bare `start(` call inside src/serve.
        let bare_start = rel.starts_with("serve")
            && line.match_indices("start(").any(|(i, _)| {
                let before = line[..i].chars().next_back();
                !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.')
                    && !line[..i].trim_end().ends_with("fn")
            });
        if line.contains("serve::start(") || bare_start {
            hits.push(format!("{}:{n}: serve::start", path.display()));
        }
    }
    assert!(
        hits.is_empty(),
        "a renderer built outside app.rs:\n{}",
        hits.join("\n")
    );
    // The scan must see app's own calls, or the rule above could pass vacuously.
    for name in [
        "render::make",
        "make_to",
        "make_batched",
        "make_console",
        "json_copy",
        "CheckRenderer::new",
        "CheckRenderer::for_probe",
    ] {
        assert!(
            in_app.contains(name),
            "{name} not seen in app.rs: {in_app:?}"
        );
    }
    assert_eq!(
        builders_named("use crate::render::{self, make}; Human::new(o); x.make_to(y)"),
        ["make_to", "Human::new", "render::make"]
    );
    assert!(builders_named("render::make_batched_x(f); my_make_to(a)").is_empty());
}
