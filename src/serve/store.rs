//! Where `ehlo serve` keeps messages: a bounded in-memory list (for `ServerHandle::messages`), a
//! Maildir and an mbox.
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
pub const MEMORY_LIMIT: usize = 1000;

/// Shared message storage of one server.
#[derive(Debug)]
pub(crate) struct Store {
    memory: Mutex<VecDeque<StoredMessage>>,
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
            memory: Mutex::new(VecDeque::new()),
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
        // told 451 otherwise).
        let mut mem = self.memory.lock().unwrap_or_else(|p| p.into_inner());
        if mem.len() >= MEMORY_LIMIT {
            mem.pop_front();
        }
        mem.push_back(m.clone());
        Ok(paths)
    }

    /// Everything kept in memory, oldest first.
    pub(crate) fn messages(&self) -> Vec<StoredMessage> {
        let mem = self.memory.lock().unwrap_or_else(|p| p.into_inner());
        mem.iter().cloned().collect()
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
