//! The module boundaries, checked on the source text. Fails naming file:line.
//!
//! - The sans-IO core: nothing under src/smtp/ may use tokio, sockets, openssl, hickory, a
//!   clock or print.
//! - The import rules (code outside tests): src/smtp imports none of
//!   `crate::{net, render, cli, repl, serve, error}` nor any mode (`check`, `probe`, `demo`,
//!   `app`); src/render none of `crate::{net, cli}`; src/net none of `crate::{cli, repl, render}`
//!   nor any mode (`serve`, `check`, `probe`, `demo`, `app`): the modes build on the core and
//!   the connection layer, never the other way round. A path counts by the crate-level module it
//!   reaches: `crate::`, `super::` and `self::` paths are resolved against the file's module (inline
//!   `mod x { … }` included), nested `{…}` groups are read to their matching brace, and a name the
//!   crate root brings in with `use` (`crate::Error`) counts as the module it comes from.
//! - One renderer per run: only src/app.rs and src/render build a renderer or make the colour
//!   decision (`serve::start`, for tests and embedders, excepted; the binary never calls it).
//! - No flag names in the core: a string literal in src/smtp code (outside tests) holds no
//!   `--long-flag`. What the core advises is a `Remedy` the front end words, and what it is
//!   configured with arrives typed (the command line parses `ehlo serve`'s `--fail`/`--quirk`
//!   values). (SMTP itself has no `--` token.)

use std::collections::{HashMap, HashSet};
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

/// The code of each line of `text`: comments (doc comments included) and the contents of string
/// and char literals blanked, so `"a//b"`, `'"'` and `// crate::net` hide nothing and fake nothing.
fn code_lines(text: &str) -> Vec<String> {
    Lexed::new(text).structure
}

fn scan(dir: &Path, hits: &mut Vec<String>) {
    let mut files = Vec::new();
    rust_files(dir, &mut files);
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        for (n, line) in code_lines(&text).iter().enumerate() {
            for word in FORBIDDEN {
                if line.contains(word) {
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

fn ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The module a file under src/ is: `lib.rs` is the crate root, `smtp/mod.rs` is `smtp`,
/// `smtp/client/plan.rs` is `smtp::client::plan`.
fn module_of(rel: &Path) -> Vec<String> {
    let mut module: Vec<String> = rel
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if module == ["lib"] || module.last().is_some_and(|m| m == "mod") {
        module.pop();
    }
    module
}

/// A position in code (comments and literals blanked).
struct Cursor<'a> {
    chars: &'a [char],
    pos: usize,
}

impl Cursor<'_> {
    fn skip_ws(&mut self) {
        while self.chars.get(self.pos).is_some_and(|c| c.is_whitespace()) {
            self.pos += 1;
        }
    }
    /// Consume `token` (after white space) if it comes next.
    fn eat(&mut self, token: &str) -> bool {
        self.skip_ws();
        let n = token.chars().count();
        let next = self.chars.get(self.pos..self.pos + n);
        if next.is_some_and(|s| s.iter().copied().eq(token.chars())) {
            self.pos += n;
            return true;
        }
        false
    }
    /// Consume an identifier (after white space) if one comes next.
    fn word(&mut self) -> Option<String> {
        self.skip_ws();
        let start = self.pos;
        while self.chars.get(self.pos).copied().is_some_and(ident) {
            self.pos += 1;
        }
        (self.pos > start).then(|| self.chars[start..self.pos].iter().collect())
    }
}

/// One path segment applied to `path`: `super` goes up, `self` stays, a name goes down. False
/// when `super` would leave the crate.
fn step(path: &mut Vec<String>, segment: &str) -> bool {
    match segment {
        "super" => path.pop().is_some(),
        "self" => true,
        name => {
            path.push(name.to_string());
            true
        }
    }
}

/// The rest of a path whose segments so far resolved to `path` (absolute, from the crate root):
/// every full path it names, groups (`::{a, b::{c, d}}`, nested to any depth) and globs
/// included, each with the name it binds (its last segment, `as` alias or `*`).
fn path_tree(cur: &mut Cursor, mut path: Vec<String>, out: &mut Vec<(Vec<String>, String)>) {
    while cur.eat("::") {
        if cur.eat("*") {
            out.push((path, "*".into()));
            return;
        }
        if cur.eat("{") {
            loop {
                if cur.eat("}") {
                    return;
                }
                if cur.eat("*") {
                    out.push((path.clone(), "*".into()));
                } else {
                    let Some(segment) = cur.word() else { return };
                    let mut item = path.clone();
                    if step(&mut item, &segment) {
                        path_tree(cur, item, out);
                    }
                }
                if !cur.eat(",") {
                    cur.eat("}");
                    return;
                }
            }
        }
        match cur.word() {
            Some(segment) if step(&mut path, &segment) => {}
            _ => return,
        }
    }
    let before_as = cur.pos;
    let bound = match cur.word() {
        Some(w) if w == "as" => cur.word(),
        _ => {
            cur.pos = before_as;
            None
        }
    };
    let bound = bound.or_else(|| path.last().cloned()).unwrap_or_default();
    out.push((path, bound));
}

/// The code of `text` outside `#[cfg(test)]` items, as one string (lines kept).
fn non_test_text(text: &str) -> Vec<char> {
    let lexed = Lexed::new(text);
    let mut out = String::new();
    for (line, test) in lexed.structure.iter().zip(&lexed.test_only) {
        if !test {
            out.push_str(line);
        }
        out.push('\n');
    }
    out.chars().collect()
}

/// What the crate root brings into scope with `use` (every descendant can name it as
/// `crate::Name`), mapped to the top-level module it comes from: `pub(crate) use error::Error;`
/// maps `Error` to `error`.
fn root_names(lib: &str) -> HashMap<String, String> {
    let chars = non_test_text(lib);
    let mut names = HashMap::new();
    let mut i = 0;
    while i < chars.len() {
        let starts_word = ident(chars[i]) && (i == 0 || !ident(chars[i - 1]));
        let mut cur = Cursor {
            chars: &chars,
            pos: i,
        };
        if starts_word && cur.word().as_deref() == Some("use") {
            // In the crate root a path is relative to the root: `crate::`, `self::` or none.
            let mut out = Vec::new();
            if let Some(first) = cur.word() {
                let mut base = Vec::new();
                if step(&mut base, if first == "crate" { "self" } else { &first }) {
                    path_tree(&mut cur, base, &mut out);
                }
            }
            for (path, bound) in out {
                if let Some(module) = path.first() {
                    names.insert(bound, module.clone());
                }
            }
        }
        i += 1;
    }
    names
}

/// The crate-level modules the code of `text` (a file of `module`, outside tests) reaches by
/// `crate::`, `super::` and `self::` paths, as (line, module); `root` maps the crate root's own
/// `use` names to their modules. A glob of the crate root itself (`super::*` from a top-level
/// module) reaches every module and is reported as `*`.
fn reached(text: &str, module: &[String], root: &HashMap<String, String>) -> Vec<(usize, String)> {
    let chars = non_test_text(text);
    let mut found = Vec::new();
    let mut line = 1;
    let mut depth = 0;
    // Inline modules (`mod name { … }`) open around here, with the brace depth of their body.
    let mut inline: Vec<(String, i32)> = Vec::new();
    // The words since the last punctuation (to see `mod name {`).
    let mut words: Vec<String> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if ident(c) && (i == 0 || !ident(chars[i - 1])) {
            let mut cur = Cursor {
                chars: &chars,
                pos: i,
            };
            let word = cur.word().unwrap_or_default();
            let end = cur.pos;
            // `a::super::b` is not a path start (`x: crate::y` is).
            let before: String = chars[..i]
                .iter()
                .rev()
                .filter(|c| !c.is_whitespace())
                .take(2)
                .collect();
            let after_colons = before == "::";
            let mut look = Cursor {
                chars: &chars,
                pos: end,
            };
            let starts_path = matches!(word.as_str(), "crate" | "super" | "self")
                && !after_colons
                && look.eat("::");
            if starts_path {
                let mut here: Vec<String> = module.to_vec();
                here.extend(inline.iter().map(|(m, _)| m.clone()));
                let mut base = if word == "crate" { Vec::new() } else { here };
                let mut out = Vec::new();
                if step(&mut base, if word == "crate" { "self" } else { &word }) {
                    let mut cur = Cursor {
                        chars: &chars,
                        pos: end,
                    };
                    path_tree(&mut cur, base, &mut out);
                }
                for (path, bound) in out {
                    match path.first() {
                        Some(first) => {
                            found.push((line, root.get(first).unwrap_or(first).clone()));
                        }
                        None if bound == "*" => found.push((line, "*".into())),
                        None => {}
                    }
                }
            }
            words.push(word);
            i = end;
            continue;
        }
        match c {
            '\n' => line += 1,
            '{' => {
                depth += 1;
                if let [.., m, name] = words.as_slice()
                    && m == "mod"
                {
                    inline.push((name.clone(), depth));
                }
            }
            '}' => {
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
                depth -= 1;
            }
            _ => {}
        }
        if !c.is_whitespace() {
            words.clear();
        }
        i += 1;
    }
    found
}

/// Every non-test path under `src/<dir>` that reaches a crate-level module in `forbidden` (or
/// globs the whole crate root), as `file:line: crate::name`.
fn imports(dir: &str, forbidden: &[&str]) -> Vec<String> {
    let tests = test_module_files();
    let root = root_names(&std::fs::read_to_string(src().join("lib.rs")).unwrap());
    let mut files = Vec::new();
    rust_files(&src().join(dir), &mut files);
    let mut hits = Vec::new();
    for path in files {
        if tests.contains(&path) {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let module = module_of(path.strip_prefix(src()).unwrap());
        for (line, name) in reached(&text, &module, &root) {
            if name == "*" || forbidden.contains(&name.as_str()) {
                hits.push(format!("{}:{line}: crate::{name}", path.display()));
            }
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
    structure: Vec<String>,
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
            /// A block comment, nested this deep (`/* /* */ */`).
            Block(usize),
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
                    ('/', Some('*')) => {
                        put(c, false, false);
                        put('*', false, false);
                        i += 2;
                        state = In::Block(1);
                        continue;
                    }
                    ('"', _) => state = In::Str,
                    // `r"…"`, `r#"…"#`, and the byte string forms `br"…"`, `br#"…"#`.
                    ('r', Some('#' | '"'))
                        if i == 0
                            || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_')
                            || (chars[i - 1] == 'b'
                                && (i == 1
                                    || !(chars[i - 2].is_alphanumeric()
                                        || chars[i - 2] == '_'))) =>
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
                    // A char literal ('x', '/', '\n', '\'', '{'), not a lifetime ('a).
                    ('\'', _) => {
                        let len = if next == Some('\\') {
                            // The escaped character is never the closing quote.
                            chars
                                .get(i + 3..)
                                .and_then(|rest| rest.iter().position(|&q| q == '\''))
                                .map(|p| p + 4)
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
                In::Block(depth) => {
                    if c == '*' && next == Some('/') {
                        put(c, false, false);
                        put('/', false, false);
                        i += 2;
                        state = if depth == 1 {
                            In::Code
                        } else {
                            In::Block(depth - 1)
                        };
                        continue;
                    }
                    if c == '/' && next == Some('*') {
                        put(c, false, false);
                        put('*', false, false);
                        i += 2;
                        state = In::Block(depth + 1);
                        continue;
                    }
                }
            }
            let (s, lit) = match state {
                In::Code => (c != '"', false),
                In::Str | In::RawStr(_) => (false, c != '"'),
                In::Block(_) => (false, false),
            };
            put(c, s, lit);
            i += 1;
        }
        let structure: Vec<String> = structure.split('\n').map(str::to_string).collect();
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
        Lexed {
            structure,
            strings,
            test_only,
        }
    }
}

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
            hits.push(format!("src/{rel}:{line}: {flag}"));
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

/// The crate-level modules `text` (the file `rel` under src/) reaches, with the crate root's
/// names taken from `lib`.
fn reached_in(rel: &str, lib: &str, text: &str) -> Vec<String> {
    reached(text, &module_of(Path::new(rel)), &root_names(lib))
        .into_iter()
        .map(|(_, m)| m)
        .collect()
}

#[test]
fn import_scan_sees_grouped_and_nested_paths() {
    // The scanner must catch every spelling, or the rule above could pass vacuously.
    let at = |text: &str| reached_in("smtp/x.rs", "", text);
    assert_eq!(at("use crate::net::conn;"), ["net"]);
    assert_eq!(at("use crate::{net::dns, render};"), ["net", "render"]);
    assert_eq!(at("x: crate::cli::args::Cli"), ["cli"]);
    assert_eq!(
        at("use crate::{\n    net,\n    cli::args,\n};"),
        ["net", "cli"]
    );
    assert!(!imports("smtp", &["smtp"]).is_empty(), "smtp names itself");
}

#[test]
fn import_scan_reads_nested_groups_to_their_brace() {
    let at = |text: &str| reached_in("smtp/x.rs", "", text);
    // A group inside a group used to end the outer one at the first `}`.
    assert_eq!(
        at("use crate::{smtp::{a, b}, net};"),
        ["smtp", "smtp", "net"]
    );
    assert_eq!(
        at("use crate::{smtp::{a::{b, c}, d}, render::{x, y}, cli};"),
        ["smtp", "smtp", "smtp", "render", "render", "cli"]
    );
    assert_eq!(
        at("use crate::{smtp::{self, *}, error::*};"),
        ["smtp", "smtp", "error"]
    );
    // Names that are not paths from the crate root are not modules.
    assert!(at("use std::net::TcpStream; let n = net::x();").is_empty());
}

#[test]
fn import_scan_sees_crate_root_names_as_their_module() {
    let lib = "mod error;\npub mod net;\npub(crate) use error::Error;\npub use net::{conn::Connection as Conn, dns};\n#[cfg(test)]\nuse cli::Hidden;\n";
    let at = |text: &str| reached_in("smtp/x.rs", lib, text);
    assert_eq!(at("fn f() -> crate::Error { todo!() }"), ["error"]);
    assert_eq!(
        at("use crate::{Error, Conn, dns};"),
        ["error", "net", "net"]
    );
    // A name the root imports only in tests is not a root name.
    assert_eq!(at("use crate::Hidden;"), ["Hidden"]);
    // And the real crate root: `crate::Error` is the `error` module.
    let real = root_names(&std::fs::read_to_string(src().join("lib.rs")).unwrap());
    assert_eq!(real.get("Error").map(String::as_str), Some("error"));
}

#[test]
fn import_scan_resolves_super_and_self() {
    assert_eq!(module_of(Path::new("lib.rs")), Vec::<String>::new());
    assert_eq!(module_of(Path::new("smtp/mod.rs")), ["smtp"]);
    assert_eq!(
        module_of(Path::new("smtp/client/plan.rs")),
        ["smtp", "client", "plan"]
    );
    assert_eq!(
        module_of(Path::new("smtp/client/mod.rs")),
        ["smtp", "client"]
    );
    // (file, crate root, code, modules reached)
    let cases: &[(&str, &str, &str, &[&str])] = &[
        // From smtp/mod.rs `super` is the crate root; from smtp/x/y.rs it takes three.
        ("smtp/mod.rs", "", "use super::net;", &["net"]),
        (
            "smtp/x/y.rs",
            "",
            "use super::super::super::net::conn;",
            &["net"],
        ),
        (
            "smtp/x/mod.rs",
            "",
            "let c = super::super::cli::f();",
            &["cli"],
        ),
        (
            "smtp/mod.rs",
            "",
            "use super::{render, smtp};",
            &["render", "smtp"],
        ),
        ("smtp/mod.rs", "", "use super::*;", &["*"]),
        // An inline module is one more level.
        (
            "smtp/mod.rs",
            "",
            "mod inner {\n    use super::super::net;\n}\nuse super::cli;",
            &["net", "cli"],
        ),
        // Allowed: these stay inside smtp.
        ("smtp/x/y.rs", "", "use super::super::net;", &["smtp"]),
        (
            "smtp/client/mod.rs",
            "",
            "use super::reply::Reply;",
            &["smtp"],
        ),
        (
            "smtp/mod.rs",
            "",
            "use self::net::X; self::cli::f();",
            &["smtp", "smtp"],
        ),
        (
            "smtp/mod.rs",
            "",
            "pub(super) fn f() {} pub(crate) fn g() {}",
            &[],
        ),
        // Root names through `super` from a top-level module.
        (
            "smtp/mod.rs",
            "pub(crate) use error::Error;",
            "use super::Error;",
            &["error"],
        ),
    ];
    for (file, root, code, want) in cases {
        assert_eq!(reached_in(file, root, code), *want, "{file}: {code}");
    }
}

#[test]
fn import_scan_skips_literals_and_comments_only() {
    let at = |text: &str| reached_in("smtp/x.rs", "", text);
    // `//` inside a string or a char used to end the line's code there.
    assert_eq!(
        at(r#"let u = "http://x"; let n = crate::net::f();"#),
        ["net"]
    );
    assert_eq!(
        at("let s = ['/', '/']; let n = crate::net::f(); // crate::cli"),
        ["net"]
    );
    // A `"` char literal opens no string.
    assert_eq!(
        at(r#"let q = '"'; let n = crate::net::f(); let r = '"';"#),
        ["net"]
    );
    assert_eq!(at(r"let q = '\''; let n = crate::net::f();"), ["net"]);
    assert_eq!(
        at(r###"let r = br#"a"#; let n = crate::net::f();"###),
        ["net"]
    );
    assert_eq!(
        at("/* /* nested */ crate::cli */ let n = crate::net::f();"),
        ["net"]
    );
    // What only looks like a path is not one.
    assert!(at(r#"let s = "crate::net"; /* crate::cli */ // crate::render"#).is_empty());
    assert!(at("let s = r\"use crate::net;\";").is_empty());
    // Lines under #[cfg(test)] are tests.
    assert!(at("#[cfg(test)]\nmod tests {\n    use crate::net;\n}\n").is_empty());
    // The I/O scan reads code the same way.
    let lines = code_lines("let u = \"http://x\"; println!(\"\");\nlet s = \"println!\";");
    assert!(lines[0].contains("println!") && !lines[1].contains("println!"));
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
        for (n, line) in code_lines(&text).into_iter().enumerate() {
            if line.trim() == "#[cfg(test)]" {
                break;
            }
            out.push((path.clone(), n + 1, line));
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
