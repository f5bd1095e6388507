//! Recorded REPL scripts (`:record FILE`, `ehlo replay FILE`): a line-oriented text format.
//!
//! ```text
//! # comment
//! < 220            reply code(s) of the banner (before the first input)
//! > EHLO me.test   one input line: a typed SMTP line or a meta-command
//! < 250            each reply code that input drew, in order
//! > :data
//! | Subject: hi    content lines of a typed `:data` (dot-stuffing is applied when replayed)
//! < 354
//! < 250
//! ```
//!
//! Secrets are never written: `:auth MECH user` is recorded without the password (replay reads
//! it from `EHLO_AUTH_PASSWORD` / `EHLO_AUTH_TOKEN`), and a SASL response typed by hand is left
//! out with a comment.

use std::io::Write;
use std::path::Path;

/// Largest script read (a recording is small; this keeps a wrong file from eating memory).
const MAX_SCRIPT: u64 = 16 * 1024 * 1024;

/// One recorded input and what it drew.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Step {
    /// Line number in the file (for messages).
    pub(crate) lineno: usize,
    /// The input line.
    pub(crate) input: String,
    /// Content lines of a typed `:data`.
    pub(crate) body: Vec<String>,
    /// Reply codes, in order.
    pub(crate) codes: Vec<u16>,
}

/// A parsed recording.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Script {
    /// Banner reply codes (empty when recording began mid-session: not checked then).
    pub(crate) banner: Vec<u16>,
    /// Inputs in order.
    pub(crate) steps: Vec<Step>,
}

/// Parse a recording. Errors name the line.
pub(crate) fn parse(text: &str) -> Result<Script, String> {
    let mut script = Script::default();
    for (i, line) in text.lines().enumerate() {
        let lineno = i + 1;
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(rest) = line.strip_prefix("< ") {
            let code: u16 = rest
                .trim()
                .parse()
                .ok()
                .filter(|c| (100..1000).contains(c))
                .ok_or_else(|| format!("line {lineno}: a reply code must be 3 digits: {line:?}"))?;
            match script.steps.last_mut() {
                Some(s) => s.codes.push(code),
                None => script.banner.push(code),
            }
        } else if let Some(rest) = line.strip_prefix("> ") {
            script.steps.push(Step {
                lineno,
                input: rest.to_string(),
                ..Step::default()
            });
        } else if line == ">" {
            script.steps.push(Step {
                lineno,
                ..Step::default()
            });
        } else if let Some(rest) = line.strip_prefix('|') {
            let body = rest.strip_prefix(' ').unwrap_or(rest);
            match script.steps.last_mut() {
                Some(s) if s.codes.is_empty() => s.body.push(body.to_string()),
                _ => return Err(format!("line {lineno}: content line outside a :data step")),
            }
        } else {
            return Err(format!(
                "line {lineno}: expected `> input`, `< code`, `| content` or `# comment`: {line:?}"
            ));
        }
    }
    Ok(script)
}

/// Read and parse a recording file.
pub(crate) fn load(path: &Path) -> Result<Script, String> {
    let f =
        std::fs::File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut text = String::new();
    std::io::Read::read_to_string(&mut std::io::Read::take(f, MAX_SCRIPT), &mut text)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    parse(&text)
}

/// Writes a recording as the session goes.
pub(crate) struct Recorder {
    out: Box<dyn Write + Send>,
}

impl Recorder {
    /// Open `path` (refusing, replacing or appending to an existing file) and write the header.
    pub(crate) fn create(
        path: &Path,
        server: &str,
        mode: super::meta::RecordMode,
    ) -> Result<Recorder, String> {
        use super::meta::RecordMode;
        let mut o = std::fs::OpenOptions::new();
        match mode {
            RecordMode::New => o.write(true).create_new(true),
            RecordMode::Overwrite => o.write(true).create(true).truncate(true),
            RecordMode::Append => o.append(true).create(true),
        };
        let f = o.open(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                format!(
                    "{} exists: :record! FILE replaces it, :record -a FILE appends to it",
                    path.display()
                )
            } else {
                format!("cannot write {}: {e}", path.display())
            }
        })?;
        let mut r = Recorder::new(Box::new(std::io::BufWriter::new(f)));
        r.comment(&format!(
            "ehlo repl recording ({server}); replay with: ehlo replay FILE --server HOST:PORT"
        ));
        Ok(r)
    }

    /// A recorder writing to any stream (tests).
    pub(crate) fn new(out: Box<dyn Write + Send>) -> Recorder {
        Recorder { out }
    }

    /// `# text`.
    pub(crate) fn comment(&mut self, text: &str) {
        for l in text.lines() {
            let _ = writeln!(self.out, "# {l}");
        }
        let _ = self.out.flush();
    }

    /// Reply codes without an input (the banner).
    pub(crate) fn codes(&mut self, codes: &[u16]) {
        for c in codes {
            let _ = writeln!(self.out, "< {c}");
        }
        let _ = self.out.flush();
    }

    /// One input, its content lines and the codes it drew.
    pub(crate) fn step(&mut self, input: &str, body: &[String], codes: &[u16]) {
        // An input holding a line break would not read back as one step: keep it on one line.
        let input = input.replace(['\r', '\n'], " ");
        let _ = writeln!(self.out, "> {input}");
        for b in body {
            let _ = writeln!(self.out, "| {}", b.replace(['\r', '\n'], " "));
        }
        self.codes(codes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn round_trip() {
        let buf = Shared::default();
        let mut r = Recorder::new(Box::new(buf.clone()));
        r.comment("hello");
        r.codes(&[220]);
        r.step("EHLO x", &[], &[250]);
        r.step(
            ":data",
            &["Subject: s".into(), "".into(), ".dot".into()],
            &[354, 250],
        );
        r.step("NOOP", &[], &[]);
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        assert_eq!(
            text,
            "# hello\n< 220\n> EHLO x\n< 250\n> :data\n| Subject: s\n| \n| .dot\n< 354\n< 250\n> NOOP\n"
        );
        let s = parse(&text).unwrap();
        assert_eq!(s.banner, vec![220]);
        assert_eq!(s.steps.len(), 3);
        assert_eq!(s.steps[1].body, vec!["Subject: s", "", ".dot"]);
        assert_eq!(s.steps[1].codes, vec![354, 250]);
        assert_eq!(s.steps[2].lineno, 11);
    }

    #[test]
    fn bad_lines_are_errors_with_line_numbers() {
        assert!(parse("< 2x0").unwrap_err().contains("line 1"));
        assert!(parse("> A\n< 250\n| late").unwrap_err().contains("line 3"));
        assert!(parse("hello").unwrap_err().contains("line 1"));
        assert!(parse("| x").is_err());
        assert_eq!(parse("").unwrap(), Script::default());
    }
}
