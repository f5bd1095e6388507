//! Comments and docs state facts and cite what a reader can look up (RFC sections, public
//! projects' issues): never a numbered item of a tracker that is not in the repository
//! (`issue 14 item 3`, `defect 9`), which says nothing to whoever reads the code.

use std::path::{Path, PathBuf};

/// Public projects whose own issue numbers may be cited (the name on the same line).
const PUBLIC: &[&str] = &["swaks", "rustyline"];

/// A pointer into a numbered list: `issue 14`, `issue #14`, `defect 9`, `item 3 of issue`,
/// any case; `None` when the line has none or names a public project.
fn pointer(line: &str) -> Option<String> {
    let lower = line.to_ascii_lowercase();
    if PUBLIC.iter().any(|p| lower.contains(p)) {
        return None;
    }
    for word in ["issue", "defect"] {
        for (i, _) in lower.match_indices(word) {
            if lower[..i].ends_with(|c: char| c.is_ascii_alphanumeric()) {
                continue;
            }
            let rest = lower[i + word.len()..].trim_start_matches('s');
            let rest = rest.strip_prefix(' ').unwrap_or(rest);
            let rest = rest.strip_prefix('#').unwrap_or(rest);
            if rest.starts_with(|c: char| c.is_ascii_digit()) {
                let n: String = rest.chars().take_while(char::is_ascii_digit).collect();
                return Some(format!("{word} {n}"));
            }
        }
    }
    None
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else if path
            .extension()
            .is_some_and(|e| e == "rs" || e == "sh" || e == "md" || e == "toml")
        {
            out.push(path);
        }
    }
}

#[test]
fn no_comment_points_into_an_outside_tracker() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = vec![root.join("README.md"), root.join("build.rs")];
    for dir in ["src", "tests", "benches"] {
        files(&root.join(dir), &mut paths);
    }
    let this = Path::new(file!()).file_name().unwrap();
    let mut hits = Vec::new();
    for path in paths {
        if path.file_name() == Some(this) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        for (n, line) in text.lines().enumerate() {
            if let Some(p) = pointer(line) {
                let rel = path.strip_prefix(root).unwrap().display();
                hits.push(format!("{rel}:{}: {p}", n + 1));
            }
        }
    }
    assert!(
        hits.is_empty(),
        "state the fact (behaviour, RFC section) instead of a tracker's number:\n{}",
        hits.join("\n")
    );
}

#[test]
fn pointers_are_recognised() {
    for line in [
        "// `250-x` forever (issue 14 item 3): cut",
        "/// Issue 14 item 6: streamed",
        "/// Defect 9: `:quit` prints",
        "// see issue #12",
        "# DNSSEC and DANE, issues 11",
    ] {
        assert!(pointer(line).is_some(), "{line}");
    }
    for line in [
        "/// Result for one recipient (swaks issue #58).",
        "//! rustyline issue 690",
        "// RFC 4180 §2 item 2",
        "// the issue is 3 octets short",
        "// a tissue 4",
    ] {
        assert_eq!(pointer(line), None, "{line}");
    }
}
