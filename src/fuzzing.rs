//! Entry points for the fuzz targets in `fuzz/` and the stable replay of their corpus
//! (`tests/fuzz_corpus.rs`): each takes arbitrary bytes, drives one parser or session the way
//! the program does, and panics only when an invariant breaks (a bound exceeded, a parse that
//! does not round-trip). Not part of the supported API (`#[doc(hidden)]`).

use std::ffi::OsString;

use crate::smtp::capabilities::{Capabilities, MAX_AUTH_MECHANISMS};
use crate::smtp::client::{Action, Plan, Session};
use crate::smtp::command::Command;
use crate::smtp::data::{DataProgress, DataReader};
use crate::smtp::reply::{Limits, ReplyParser};
use crate::smtp::server::{ServerAction, ServerConfig};

/// One fuzz entry point.
pub type Target = fn(&[u8]);

/// Every target, by the name of its fuzz binary and corpus directory.
pub const TARGETS: &[(&str, Target)] = &[
    ("reply", reply),
    ("capabilities", capabilities),
    ("command", command),
    ("data_reader", data_reader),
    ("client_session", client_session),
    ("server_session", server_session),
    ("replay_script", replay_script),
    ("config_file", config_file),
];

/// Split `data` into pieces whose sizes come from its first byte, so the same input is also
/// tried in uneven reads.
fn pieces(data: &[u8]) -> (Vec<&[u8]>, &[u8]) {
    let Some((&first, rest)) = data.split_first() else {
        return (Vec::new(), data);
    };
    let size = usize::from(first % 64) + 1;
    (rest.chunks(size).collect(), rest)
}

/// The reply parser, in uneven pieces then EOF: the caller's buffer stays bounded, every reply
/// stays within the limits.
pub fn reply(data: &[u8]) {
    let limits = Limits {
        max_line: 64,
        max_lines: 8,
        max_bytes: 512,
    };
    let (chunks, _) = pieces(data);
    let mut p = ReplyParser::new(limits);
    let mut buf = Vec::new();
    let check = |r: &crate::smtp::reply::Reply| {
        assert!(r.lines.len() <= limits.max_lines);
        assert!(r.raw.0.len() <= limits.max_bytes + limits.max_line + 2);
        assert!(r.lines.iter().all(|l| l.len() <= 4 * limits.max_line));
    };
    for c in chunks {
        buf.extend_from_slice(c);
        while let Some(r) = p.next_reply(&mut buf) {
            check(&r);
        }
        assert!(buf.len() <= limits.max_line + 1 + c.len());
        let _ = p.progress(&buf);
    }
    while let Some(r) = p.finish(&mut buf) {
        check(&r);
    }
}

/// The EHLO capabilities of whatever the parser makes of `data`.
pub fn capabilities(data: &[u8]) {
    let mut buf = data.to_vec();
    let mut p = ReplyParser::default();
    while let Some(r) = p.next_reply(&mut buf).or_else(|| p.finish(&mut buf)) {
        let caps = Capabilities::from_reply(&r);
        let mechs = caps.auth_mechanisms();
        assert!(mechs.len() <= MAX_AUTH_MECHANISMS);
        for m in &mechs {
            assert!(caps.offers_auth(m), "{m} listed but not offered");
        }
        let _ = (caps.size(), caps.has("PIPELINING"), caps.params("AUTH"));
    }
}

/// The server's command parser: a parsed command encodes to a line that parses to the same
/// command.
pub fn command(data: &[u8]) {
    let Ok(cmd) = Command::parse(data) else {
        return;
    };
    let wire = cmd.encode();
    assert!(wire.ends_with(b"\r\n"), "{wire:?}");
    let again = Command::parse(&wire[..wire.len() - 2])
        .unwrap_or_else(|e| panic!("{cmd:?} encoded as {wire:?} does not parse: {e}"));
    assert_eq!(again, cmd, "round trip through {wire:?}");
}

/// The DATA reader in uneven pieces, its content taken as it arrives (as `ehlo serve` streams
/// it): bounded content, and the message it finds is the one found when everything arrives at
/// once.
pub fn data_reader(data: &[u8]) {
    const MAX: usize = 256;
    let (chunks, whole) = pieces(data);
    let mut r = DataReader::new(MAX);
    let mut split = Vec::new();
    let mut streamed = Vec::new();
    for c in chunks {
        let mut next = c.to_vec();
        loop {
            match r.feed(&next) {
                DataProgress::More => {
                    let piece = r.take();
                    // At most this read, plus a CR held back from the one before it.
                    assert!(piece.len() <= next.len() + 1);
                    streamed.extend(piece);
                    break;
                }
                DataProgress::Done { message, rest, .. } => {
                    streamed.extend(message);
                    assert!(streamed.len() <= MAX);
                    split.push(std::mem::take(&mut streamed));
                    next = rest;
                }
            }
        }
        assert!(r.len() <= MAX);
        assert_eq!(r.len(), streamed.len());
    }
    let mut r = DataReader::new(MAX);
    let mut at_once = Vec::new();
    let mut next = whole.to_vec();
    while let DataProgress::Done { message, rest, .. } = r.feed(&next) {
        at_once.push(message);
        next = rest;
    }
    assert_eq!(split, at_once);
}

/// The client session against a server saying `data`, in uneven pieces: no panic, the read
/// buffer bounded, and it ends when the bytes do.
pub fn client_session(data: &[u8]) {
    let plan = Plan {
        helo: "fuzz.test".into(),
        from: "a@fuzz.test".into(),
        rcpts: vec!["b@fuzz.test".into(), "c@fuzz.test".into()],
        message: b"Subject: fuzz\r\n\r\n.body\r\n".to_vec(),
        ..Plan::default()
    };
    let (chunks, _) = pieces(data);
    let mut s = Session::new(plan);
    for c in chunks {
        let _ = s.poll_transmit();
        s.feed(c);
        while let Some(a) = s.poll_action() {
            if a == Action::StartTls {
                s.tls_established();
            }
        }
        while s.poll_event().is_some() {}
        let _ = s.progress();
        if s.is_closed() {
            return;
        }
    }
    s.feed_eof();
    while s.poll_event().is_some() {}
    assert!(s.is_closed());
}

/// The server session against a client saying `data`, in uneven pieces: every action handled
/// as `ehlo serve` would, no panic, nothing unbounded.
pub fn server_session(data: &[u8]) {
    let cfg = ServerConfig {
        starttls: true,
        auth_before_tls: true,
        users: vec![("user".into(), crate::smtp::auth::Secret::new("pass"))],
        max_size: 4096,
        ..ServerConfig::default()
    };
    let (chunks, _) = pieces(data);
    let mut s = crate::smtp::server::Session::new(cfg);
    s.greeting();
    // The content of the message being received, as the driver keeps it.
    let mut draft: Option<usize> = None;
    for c in chunks {
        s.feed(c);
        loop {
            let mut progressed = s.poll_transmit().is_some();
            if let Some(a) = s.poll_action() {
                progressed = true;
                match a {
                    ServerAction::StartTls => s.tls_established(),
                    ServerAction::Content(piece) => {
                        // Streamed: never more than was just read (or kept from before TLS).
                        assert!(!piece.is_empty());
                        let n = draft.get_or_insert(0);
                        *n += piece.len();
                        assert!(*n <= 4096, "{n} bytes of content past the size limit");
                    }
                    ServerAction::Discard => {
                        assert!(draft.take().is_some(), "discard without content");
                    }
                    ServerAction::Store(m) => {
                        assert!(m.content.is_empty());
                        assert_eq!(m.size, draft.take().unwrap_or(0));
                        s.stored(crate::smtp::server::StoreOutcome::Kept);
                    }
                    ServerAction::Close | ServerAction::Delay(_) => {}
                }
            }
            if !progressed {
                break;
            }
        }
        while s.poll_event().is_some() {}
        if s.is_closed() {
            return;
        }
    }
    s.peer_closed();
}

/// The `ehlo replay` script reader, as it reads a file (any bytes: a line that is not UTF-8 is
/// refused by its number).
pub fn replay_script(data: &[u8]) {
    if let Ok(script) = crate::repl::record::parse_bytes(data) {
        let lines = memchr::memchr_iter(b'\n', data).count() + 1;
        assert!(script.steps.len() <= lines);
        assert!(
            script
                .steps
                .iter()
                .all(|s| s.lineno >= 1 && s.lineno <= lines)
        );
        // Every expected reply prints back as a `< ` line (`~ ` for one that came unasked) that
        // parses to the same pattern.
        let expects = script
            .banner
            .iter()
            .chain(script.steps.iter().flat_map(|s| &s.expect));
        for e in expects {
            assert!(e.lineno >= 1 && e.lineno <= lines);
            let lead = if e.unasked { '~' } else { '<' };
            let again =
                crate::repl::record::parse(&format!("> X\n{lead} {e}\n")).expect("round trip");
            let mut back = again.steps[0].expect[0];
            back.lineno = e.lineno;
            assert_eq!(back, *e);
        }
    }
}

/// The config-file reader: `data` as the file named by `--config`, layered under an empty
/// command line. Errors are fine; panics are not.
pub fn config_file(data: &[u8]) {
    thread_local! {
        static FILE: tempfile_path::TempPath = tempfile_path::TempPath::new();
    }
    FILE.with(|f| {
        if std::fs::write(&f.0, data).is_err() {
            return;
        }
        let argv: Vec<OsString> = ["ehlo", "--config"]
            .iter()
            .map(OsString::from)
            .chain([f.0.clone().into_os_string()])
            .chain(
                ["--to", "a@fuzz.test", "--dump-config"]
                    .iter()
                    .map(OsString::from),
            )
            .collect();
        let env = crate::cli::layers::LayerEnv {
            vars: Vec::new(),
            default_file: None,
        };
        let _ = crate::cli::layers::apply(argv, &env);
    });
}

/// A per-thread scratch file for [`config_file`], removed when the thread ends.
mod tempfile_path {
    use std::path::PathBuf;

    pub(super) struct TempPath(pub(super) PathBuf);

    impl TempPath {
        pub(super) fn new() -> TempPath {
            let n = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            let dir = std::env::temp_dir();
            TempPath(dir.join(format!("ehlo-fuzz-config-{}-{n}.conf", std::process::id())))
        }
    }

    impl Drop for TempPath {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}
