//! Where `ehlo serve` keeps messages: a bounded in-memory list (for `ServerHandle::messages`), a
//! Maildir and an mbox.
//!
//! - Memory: the metadata of the last [`MEMORY_LIMIT`] messages. Their content is kept only
//!   when no Maildir or mbox is given (the files have it otherwise), and then at most
//!   [`MEMORY_BYTES`] of it in all: the oldest contents are dropped first (their
//!   [`StoredMessage::size`] stays), so a long run holds a bounded amount of memory whatever the
//!   message sizes.
//!
//! - Maildir: the exact content bytes (CRLF line ends as received) are written to
//!   `DIR/tmp/<name>` and renamed into `DIR/new/<name>`, `<name>` being
//!   `<unix seconds>.P<pid>Q<counter>.ehlo` (unique per process; an existing name is skipped).
//! - mbox (mboxrd): a `From <sender> <asctime UTC>` line, the content with LF line ends and every
//!   line matching `>*From ` quoted with one more `>`, then an empty line.

use std::collections::VecDeque;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::smtp::server::StoredMessage;

/// Messages kept in memory at most; older ones are dropped first.
pub(crate) const MEMORY_LIMIT: usize = 1000;

/// Message content kept in memory at most, in bytes, all messages together (memory-only mode).
pub(crate) const MEMORY_BYTES: usize = 8 * 1024 * 1024;

/// Shared message storage of one server.
#[derive(Debug)]
pub(crate) struct Store {
    memory: Mutex<Memory>,
    maildir: Option<PathBuf>,
    mbox: Option<Mutex<PathBuf>>,
    counter: AtomicU64,
}

impl Store {
    /// Prepare the Maildir (creating `tmp`, `new`, `cur`) and check the mbox can be opened.
    pub(crate) fn new(maildir: Option<PathBuf>, mbox: Option<PathBuf>) -> Result<Store, String> {
        if let Some(dir) = &maildir {
            for sub in ["tmp", "new", "cur"] {
                fs::create_dir_all(dir.join(sub))
                    .map_err(|e| format!("cannot create Maildir {}: {e}", dir.display()))?;
            }
        }
        if let Some(p) = &mbox {
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .map_err(|e| format!("cannot open mbox {}: {e}", p.display()))?;
        }
        Ok(Store {
            memory: Mutex::new(Memory::default()),
            maildir,
            mbox: mbox.map(Mutex::new),
            counter: AtomicU64::new(0),
        })
    }

    /// Write `m` to the Maildir / mbox, then keep it in memory. Returns the paths written, or
    /// the first error (then the message is not kept in memory either).
    pub(crate) fn store(&self, m: &StoredMessage) -> Result<Vec<String>, String> {
        let mut paths = Vec::new();
        if let Some(dir) = &self.maildir {
            paths.push(self.maildir_write(dir, &m.content)?);
        }
        if let Some(lock) = &self.mbox {
            let path = lock.lock().unwrap_or_else(|p| p.into_inner());
            mbox_append(&path, m)?;
            paths.push(path.display().to_string());
        }
        // Only a message that was kept everywhere asked for counts as stored (the client is
        // told 451 otherwise). In memory: the metadata, and the content only without files.
        let keep_content = self.maildir.is_none() && self.mbox.is_none();
        let kept = StoredMessage {
            content: if keep_content {
                m.content.clone()
            } else {
                Vec::new()
            },
            ..m.clone_metadata()
        };
        let mut mem = self.memory.lock().unwrap_or_else(|p| p.into_inner());
        mem.push(kept);
        Ok(paths)
    }

    /// Everything kept in memory, oldest first.
    pub(crate) fn messages(&self) -> Vec<StoredMessage> {
        let mem = self.memory.lock().unwrap_or_else(|p| p.into_inner());
        mem.list.iter().cloned().collect()
    }

    fn maildir_write(&self, dir: &Path, content: &[u8]) -> Result<String, String> {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let pid = std::process::id();
        let err = |e: std::io::Error| format!("Maildir {}: {e}", dir.display());
        // A stale file of an earlier process with the same pid may exist: skip such names.
        for _ in 0..1000 {
            let n = self.counter.fetch_add(1, Ordering::Relaxed);
            let name = format!("{secs}.P{pid}Q{n}.ehlo");
            let tmp = dir.join("tmp").join(&name);
            let new = dir.join("new").join(&name);
            if new.exists() {
                continue;
            }
            let mut f = match OpenOptions::new().write(true).create_new(true).open(&tmp) {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(err(e)),
            };
            f.write_all(content)
                .and_then(|()| f.sync_all())
                .map_err(err)?;
            drop(f);
            fs::rename(&tmp, &new).map_err(err)?;
            return Ok(new.display().to_string());
        }
        Err(format!("Maildir {}: no free file name", dir.display()))
    }
}

/// The in-memory list: at most [`MEMORY_LIMIT`] messages and [`MEMORY_BYTES`] of content.
#[derive(Debug, Default)]
struct Memory {
    list: VecDeque<StoredMessage>,
    /// Content bytes held by `list`.
    bytes: usize,
}

impl Memory {
    fn push(&mut self, m: StoredMessage) {
        if self.list.len() >= MEMORY_LIMIT
            && let Some(old) = self.list.pop_front()
        {
            self.bytes -= old.content.len();
        }
        self.bytes += m.content.len();
        self.list.push_back(m);
        // Drop the oldest contents (never the metadata) until the total fits again; a message
        // bigger than the whole budget keeps none.
        for old in self.list.iter_mut() {
            if self.bytes <= MEMORY_BYTES {
                break;
            }
            self.bytes -= old.content.len();
            old.content = Vec::new();
        }
    }
}

/// The mboxrd form of one message (From_ line, quoted content, trailing empty line).
pub(crate) fn mbox_entry(m: &StoredMessage, date: &str) -> Vec<u8> {
    let sender = if m.from.is_empty() {
        "MAILER-DAEMON"
    } else {
        m.from.as_str()
    };
    let mut out = format!("From {sender} {date}\n").into_bytes();
    let mut rest: &[u8] = &m.content;
    while !rest.is_empty() {
        let (line, next) = match rest.iter().position(|&b| b == b'\n') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, &b""[..]),
        };
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let unquoted = line
            .iter()
            .position(|&b| b != b'>')
            .map_or(&b""[..], |i| &line[i..]);
        if unquoted.starts_with(b"From ") {
            out.push(b'>');
        }
        out.extend_from_slice(line);
        out.push(b'\n');
        rest = next;
    }
    out.push(b'\n');
    out
}

fn mbox_append(path: &Path, m: &StoredMessage) -> Result<(), String> {
    let fmt = time::macros::format_description!(
        "[weekday repr:short] [month repr:short] [day padding:space] [hour]:[minute]:[second] [year]"
    );
    let date = time::OffsetDateTime::now_utc()
        .format(&fmt)
        .unwrap_or_else(|_| "Thu Jan  1 00:00:00 1970".into());
    let err = |e: std::io::Error| format!("mbox {}: {e}", path.display());
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(err)?;
    f.write_all(&mbox_entry(m, &date)).map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(content: &[u8]) -> StoredMessage {
        StoredMessage {
            id: "X".into(),
            from: "a@x".into(),
            mail_params: vec![],
            rcpts: vec!["b@y".into()],
            content: content.to_vec(),
            size: content.len(),
            tls: false,
            auth_user: None,
            helo: None,
            bare_newlines: false,
        }
    }

    #[test]
    fn mbox_quotes_from_lines() {
        let e = mbox_entry(
            &msg(b"Subject: s\r\n\r\nFrom here\r\n>From there\r\nFrom:x\r\nend"),
            "Thu Jan  1 00:00:00 1970",
        );
        assert_eq!(
            String::from_utf8(e).unwrap(),
            "From a@x Thu Jan  1 00:00:00 1970\nSubject: s\n\n>From here\n>>From there\nFrom:x\nend\n\n"
        );
        let mut null = msg(b"x\r\n");
        null.from.clear();
        assert!(mbox_entry(&null, "D").starts_with(b"From MAILER-DAEMON D\n"));
    }

    #[test]
    fn maildir_and_mbox_files() {
        let dir = tempfile::tempdir().unwrap();
        let md = dir.path().join("Maildir");
        let mb = dir.path().join("mbox");
        let s = Store::new(Some(md.clone()), Some(mb.clone())).unwrap();
        let p1 = s.store(&msg(b"one\r\n")).unwrap();
        let p2 = s.store(&msg(b"two\r\n")).unwrap();
        assert_ne!(p1[0], p2[0]);
        assert!(p1[0].contains("/new/") && p1[0].ends_with(".ehlo"));
        assert_eq!(fs::read(&p1[0]).unwrap(), b"one\r\n");
        assert_eq!(fs::read_dir(md.join("tmp")).unwrap().count(), 0);
        let mbox = String::from_utf8(fs::read(&mb).unwrap()).unwrap();
        assert_eq!(mbox.matches("From a@x ").count(), 2);
        assert!(mbox.contains("\none\n\nFrom a@x ") && mbox.ends_with("two\n\n"));
        assert_eq!(s.messages().len(), 2);
    }

    #[test]
    fn memory_keeps_a_byte_budget_of_content_and_only_metadata_with_files() {
        // Memory only: 3 MiB messages, far more than the budget in all.
        let s = Store::new(None, None).unwrap();
        let big = vec![b'x'; 3 * 1024 * 1024];
        for _ in 0..40 {
            s.store(&msg(&big)).unwrap();
        }
        let all = s.messages();
        assert_eq!(all.len(), 40);
        let held: usize = all.iter().map(|m| m.content.len()).sum();
        assert!(held <= MEMORY_BYTES, "{held} bytes of content held");
        assert!(held > 0, "the newest contents stay");
        assert_eq!(all.last().unwrap().content.len(), big.len());
        assert!(all[0].content.is_empty());
        assert!(all.iter().all(|m| m.size == big.len()), "sizes stay");
        // A message larger than the whole budget keeps its metadata only.
        s.store(&msg(&vec![b'y'; MEMORY_BYTES + 1])).unwrap();
        let last = s.messages().pop().unwrap();
        assert!(last.content.is_empty());
        assert_eq!(last.size, MEMORY_BYTES + 1);

        // With a Maildir the file has the content: memory keeps none.
        let dir = tempfile::tempdir().unwrap();
        let s = Store::new(Some(dir.path().join("md")), None).unwrap();
        s.store(&msg(b"on disk\r\n")).unwrap();
        let m = &s.messages()[0];
        assert!(m.content.is_empty());
        assert_eq!(m.size, 9);
    }

    #[test]
    fn memory_is_bounded() {
        let s = Store::new(None, None).unwrap();
        for i in 0..MEMORY_LIMIT + 5 {
            s.store(&msg(format!("{i}").as_bytes())).unwrap();
        }
        let all = s.messages();
        assert_eq!(all.len(), MEMORY_LIMIT);
        assert_eq!(all[0].content, b"5");
    }
}
