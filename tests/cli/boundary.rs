//! The sans-IO boundary (style practice 1): nothing under src/smtp/ may use tokio, sockets,
//! openssl, hickory, a clock or print. Fails naming file:line.

use std::path::Path;

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

fn scan(dir: &Path, hits: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            scan(&path, hits);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            for (n, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                for word in FORBIDDEN {
                    if code.contains(word) {
                        hits.push(format!("{}:{}: {word}", path.display(), n + 1));
                    }
                }
            }
        }
    }
}

#[test]
fn smtp_core_does_no_io() {
    let mut hits = Vec::new();
    scan(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src/smtp"),
        &mut hits,
    );
    assert!(
        hits.is_empty(),
        "I/O in the sans-IO core:\n{}",
        hits.join("\n")
    );
}
