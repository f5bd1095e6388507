//! Where `ehlo serve` keeps messages: a bounded in-memory list (for `ServerHandle::messages`), a
//! Maildir and an mbox. Content is streamed: the session hands it over piece by piece as it is
//! read ([`Store::begin`] opens a [`Draft`], [`Draft::write`] takes each piece,
//! [`Store::commit_locked`] keeps the message), so a message written to files is never held whole in
//! memory, and a message that is refused, aborted or cut off (the draft is dropped) leaves no
//! file behind.
//!
//! - Memory: the metadata of the last [`MEMORY_LIMIT`] messages. Their content is kept only
//!   when no Maildir or mbox is given (the files have it otherwise), and then at most
//!   [`MEMORY_BYTES`] of it in all: the oldest contents are dropped first (their
//!   [`StoredMessage::size`] stays), so a long run holds a bounded amount of memory whatever the
//!   message sizes. Messages being received count against the same budget: a message that
//!   does not fit keeps its metadata only.
//! - Maildir: the exact content bytes (CRLF line ends as received) are written to
//!   `DIR/tmp/<name>` as they arrive, synced and renamed into `DIR/new/<name>` when the message
//!   is accepted (the Maildir delivery protocol: a reader never sees a partial file in `new/`),
//!   `<name>` being `<unix seconds>.P<pid>Q<counter>.ehlo` (unique per process; an existing
//!   name is skipped). A discarded message's `tmp/` file is removed.
//! - mbox (mboxrd): a `From <sender> <asctime UTC>` line, the content with LF line ends and every
//!   line matching `>*From ` quoted with one more `>`, then an empty line. The quoted content
//!   goes to an unnamed temporary file as it arrives; once the message is accepted, the From_
//!   line and that file are appended to the mbox under an exclusive `flock(2)` on it (each
//!   append opens the mbox anew, so the sessions of this server wait for each other as other
//!   processes do), and synced; an append that fails midway is cut back off (the mbox is
//!   truncated to its old length). The lock is taken with [`Store::try_lock_mbox`], which never
//!   waits: the server retries it on its own clock, so a lock held elsewhere for long delays one
//!   message (and then refuses it), never the server's threads.
//!   Appending to the mbox directly would hold its lock for as long as the slowest client takes
//!   to send, and a server killed mid-message would leave half a message in the mbox.
//!
//! Free space: the file systems written to (the Maildir's, the mbox's and the temporary
//! directory's) keep a reserve ([`Store::min_free`]), as Postfix keeps `queue_minfree` and
//! Exim `check_spool_space`: [`Store::room`] is what the session checks at MAIL, and a draft
//! whose writes would eat into the reserve fails at once. Such a failure, and a write that
//! fails with `ENOSPC` or `EDQUOT`, is a [`StoreError`] marked `no_space` (answered
//! `452 4.3.1`); its partial files are removed when it fails, not when the content ends.

use std::collections::VecDeque;
use std::fs::{self, File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crate::smtp::server::StoredMessage;

/// Messages kept in memory at most; older ones are dropped first.
pub(crate) const MEMORY_LIMIT: usize = 1000;

/// Message content kept in memory at most, in bytes, all messages together (memory-only mode).
pub(crate) const MEMORY_BYTES: usize = 8 * 1024 * 1024;

/// Content shown in the transcript of a stored message (its `MessageStored` event), at most:
/// the start of the message; the files have all of it.
pub(super) const SHOWN_BYTES: usize = 64 * 1024;

/// Permissions of the files messages are written to (a Maildir file, a new mbox, the mbox's
/// temporary file): the owner's only, as Postfix's local delivery and procmail create mailboxes.
/// Test mail carries what real mail does (reset links, tokens).
const MAILBOX_MODE: u32 = 0o600;

/// How much content a draft writes between two looks at the free space (statvfs(3)): a
/// session may go this far into the reserve before it is stopped.
const ROOM_CHECK_BYTES: usize = 64 * 1024;

/// Why a message could not be stored.
#[derive(Debug)]
pub(crate) struct StoreError {
    /// What failed, naming the file.
    pub(crate) message: String,
    /// For want of storage (a full file system or quota, or the free-space reserve reached):
    /// answered `452 4.3.1`, any other failure `451 4.3.0`.
    pub(crate) no_space: bool,
}

impl From<String> for StoreError {
    fn from(message: String) -> StoreError {
        StoreError {
            message,
            no_space: false,
        }
    }
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// An I/O error `what` met: `no_space` when the file system is full (`ENOSPC`), the user's
/// quota is (`EDQUOT`), or the file would pass the process's file-size limit (`EFBIG`: `ulimit
/// -f`, setrlimit(2)'s RLIMIT_FSIZE, whose SIGXFSZ `app` blocks) — a limit on storage the
/// administrator can raise, as a quota is, so a smaller message or a later try may fit.
fn io_error(what: impl std::fmt::Display, e: &std::io::Error) -> StoreError {
    let no_space = matches!(
        e.raw_os_error(),
        Some(nix::libc::ENOSPC | nix::libc::EDQUOT | nix::libc::EFBIG)
    );
    StoreError {
        message: format!("{what}: {e}"),
        no_space,
    }
}

/// Bytes free to an unprivileged writer on the file system holding `dir` (`f_bavail` in
/// `f_frsize` units, POSIX statvfs), or `None` when it cannot be asked.
fn free_bytes(dir: &Path) -> Option<u64> {
    let v = nix::sys::statvfs::statvfs(dir).ok()?;
    // u64 already on 64-bit Linux; 32-bit targets have a narrower `c_ulong`.
    #[allow(clippy::useless_conversion)]
    let (blocks, size) = (
        u64::from(v.blocks_available()),
        u64::from(v.fragment_size()),
    );
    Some(blocks.saturating_mul(size))
}

/// Shared message storage of one server.
#[derive(Debug)]
pub(crate) struct Store {
    memory: Mutex<Memory>,
    maildir: Option<PathBuf>,
    mbox: Option<PathBuf>,
    counter: AtomicU64,
    /// Content bytes held by drafts in memory-only mode (part of the [`MEMORY_BYTES`] budget).
    receiving: AtomicUsize,
    /// Keep messages in memory at all (off when nothing will ask: the command line's server).
    keep: bool,
    /// Keep the start of each content for the transcript (off under `--quiet`).
    show: bool,
    /// Free space kept on each file system written to, in bytes (0: no reserve).
    min_free: u64,
    /// `--min-free` as the server's own lines name it in brackets, with where it was set when
    /// that was below the command line (`--min-free, set by EHLO_MIN_FREE in the environment`).
    /// Never in a reply: a client is told only that there is no room.
    min_free_named: String,
    /// A directory on each file system message bytes are written to.
    places: Vec<PathBuf>,
    /// This process's id, for Maildir and mbox temporary file names: read once, not a
    /// `getpid(2)` per message.
    pid: u32,
}

impl Store {
    /// Prepare the Maildir (creating `tmp`, `new`, `cur`) and check the mbox can be opened.
    /// Each place a message will be written is tried once here (a file created in the
    /// Maildir's `tmp/` and renamed into `new/`, a temporary file for the mbox), so an
    /// unwritable one is an error at start rather than a `451` for every message.
    pub(crate) fn new(maildir: Option<PathBuf>, mbox: Option<PathBuf>) -> Result<Store, String> {
        let pid = std::process::id();
        if let Some(dir) = &maildir {
            for sub in ["tmp", "new", "cur"] {
                fs::create_dir_all(dir.join(sub))
                    .map_err(|e| format!("cannot create Maildir {}: {e}", dir.display()))?;
            }
            maildir_probe(dir, pid)
                .map_err(|e| format!("cannot write to Maildir {}: {e}", dir.display()))?;
        }
        if let Some(p) = &mbox {
            OpenOptions::new()
                .create(true)
                .append(true)
                .mode(MAILBOX_MODE)
                .open(p)
                .map_err(|e| format!("cannot open mbox {}: {e}", p.display()))?;
            tempfile_unnamed(pid).map_err(|e| {
                format!(
                    "cannot create the mbox's temporary file in {} (TMPDIR): {e}",
                    std::env::temp_dir().display()
                )
            })?;
        }
        let mut places = Vec::new();
        if let Some(dir) = &maildir {
            places.push(dir.join("tmp"));
        }
        if let Some(p) = &mbox {
            places.push(mbox_dir(p).to_path_buf());
            places.push(std::env::temp_dir());
        }
        Ok(Store {
            memory: Mutex::new(Memory::default()),
            maildir,
            mbox,
            counter: AtomicU64::new(0),
            receiving: AtomicUsize::new(0),
            keep: true,
            show: true,
            min_free: 0,
            min_free_named: "--min-free".into(),
            places,
            pid,
        })
    }

    /// Keep `bytes` free on each file system messages are written to (0: no reserve; a full
    /// file system is still answered `452 4.3.1`).
    pub(crate) fn min_free(mut self, bytes: u64, named: &str) -> Store {
        self.min_free = bytes;
        self.min_free_named = named.to_string();
        self
    }

    /// Bytes of message that can still be written before the reserve is reached on the
    /// fullest file system written to; `None` without a reserve, without files, or when no
    /// file system can be asked.
    pub(crate) fn room(&self) -> Option<u64> {
        if self.min_free == 0 {
            return None;
        }
        self.places
            .iter()
            .filter_map(|dir| free_bytes(dir))
            .map(|free| free.saturating_sub(self.min_free))
            .min()
    }

    /// At start: a file system written to that has less free space than the reserve, so that
    /// every MAIL would get `452 4.3.1` (the 10 MiB default on a small tmpfs, a `--min-free`
    /// larger than the disk); the words of the warning, `None` when there is room.
    pub(crate) fn short_of_reserve(&self) -> Option<String> {
        if self.min_free == 0 {
            return None;
        }
        let (dir, free) = self
            .places
            .iter()
            .filter_map(|dir| free_bytes(dir).map(|free| (dir, free)))
            .find(|(_, free)| *free < self.min_free)?;
        Some(format!(
            "only {free} bytes are free on the file system of {}, less than the {} kept free \
             ({}): every MAIL gets 452 4.3.1 until there is room (--min-free 0 keeps no \
             reserve)",
            dir.display(),
            self.min_free,
            self.min_free_named
        ))
    }

    /// `Err` (no space) when `bytes` more would reach the reserve on the file system of `dir`.
    fn check_room_in(&self, dir: &Path, bytes: u64, what: &str) -> Result<(), StoreError> {
        if self.min_free == 0 {
            return Ok(());
        }
        match free_bytes(dir) {
            Some(free) if free.saturating_sub(self.min_free) < bytes => Err(StoreError {
                message: format!(
                    "{what}: {free} bytes free on its file system, {bytes} more would go \
                     below the {} kept free ({})",
                    self.min_free, self.min_free_named
                ),
                no_space: true,
            }),
            _ => Ok(()),
        }
    }

    /// Leave out what no one will read: the in-memory list (`keep` false: the command line's
    /// server, which has no [`Store::messages`] caller) and the content's start for the
    /// transcript (`show` false: `--quiet`). The files are written all the same.
    pub(crate) fn keeping(mut self, keep: bool, show: bool) -> Store {
        self.keep = keep;
        self.show = show;
        self
    }

    /// A message starts: its files are opened (an error is kept in the draft and reported by
    /// [`Store::commit`], so the client gets `451` or `452` after its content, not a broken
    /// stream).
    pub(crate) fn begin(&self) -> Draft<'_> {
        let mut d = Draft {
            store: self,
            maildir: None,
            mbox: None,
            memory: (self.keep && self.maildir.is_none() && self.mbox.is_none()).then(Vec::new),
            shown: Vec::new(),
            size: 0,
            unchecked: 0,
            error: None,
        };
        if let Some(dir) = &self.maildir {
            match self.maildir_open(dir) {
                Ok(f) => d.maildir = Some(f),
                Err(e) => d.error = Some(e),
            }
        }
        if self.mbox.is_some() && d.error.is_none() {
            match tempfile_unnamed(self.pid) {
                Ok(file) => {
                    d.mbox = Some(MboxTemp {
                        file,
                        quoter: MboxQuoter::default(),
                        buf: Vec::new(),
                    });
                }
                Err(e) => d.error = Some(io_error("mbox temporary file", &e)),
            }
        }
        d
    }

    /// The mbox messages are appended to, if any.
    pub(crate) fn mbox_path(&self) -> Option<&Path> {
        self.mbox.as_deref()
    }

    /// Open the mbox and take its exclusive `flock(2)` without waiting: `Ok(None)` while
    /// another open file description holds it (another process, or another session of this
    /// one). Only meaningful with an mbox.
    pub(crate) fn try_lock_mbox(&self) -> Result<Option<LockedMbox>, String> {
        let Some(path) = &self.mbox else {
            return Err("no mbox".into());
        };
        let f = open_mbox(path)?;
        match f.try_lock() {
            Ok(()) => Ok(Some(LockedMbox(f))),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(mbox_error(path)(e)),
        }
    }

    /// [`Store::commit_locked`], waiting for the mbox lock as long as it takes (tests).
    #[cfg(test)]
    pub(crate) fn commit(
        &self,
        draft: Draft<'_>,
        m: &StoredMessage,
    ) -> Result<Vec<String>, StoreError> {
        let locked = match &self.mbox {
            Some(path) => {
                let f = open_mbox(path)?;
                f.lock().map_err(mbox_error(path))?;
                Some(LockedMbox(f))
            }
            None => None,
        };
        self.commit_locked(draft, m, locked)
    }

    /// Keep the message whose content `draft` received: rename the Maildir file into `new/`,
    /// append to the mbox (`mbox`: it, locked by [`Store::try_lock_mbox`]; needed when the
    /// store has one), then keep it in memory. Returns the paths written, or the first error
    /// (then nothing is kept, the files are removed, and the client is told `452` or `451`).
    pub(crate) fn commit_locked(
        &self,
        mut draft: Draft<'_>,
        m: &StoredMessage,
        mbox: Option<LockedMbox>,
    ) -> Result<Vec<String>, StoreError> {
        debug_assert_eq!(draft.size, m.size);
        if let Some(e) = draft.error.take() {
            return Err(e);
        }
        let mut paths = Vec::new();
        // Synced first, renamed last: a failing mbox append leaves no Maildir file behind
        // (dropping `md` removes it from `tmp/`).
        let mut md = draft.maildir.take();
        if let Some(md) = &md {
            md.file
                .sync_all()
                .map_err(|e| io_error(format_args!("Maildir {}", md.tmp.display()), &e))?;
        }
        if let (Some(path), Some(temp)) = (&self.mbox, draft.mbox.take()) {
            let locked = mbox.ok_or_else(|| format!("mbox {}: not locked", path.display()))?;
            mbox_append(self, path, locked, &m.from, temp)?;
            paths.push(path.display().to_string());
        }
        if let Some(md) = &mut md {
            fs::rename(&md.tmp, &md.new)
                .map_err(|e| format!("Maildir {}: {e}", md.new.display()))?;
            // Renamed: nothing left in `tmp/` to remove.
            md.tmp = PathBuf::new();
            paths.insert(0, md.new.display().to_string());
        }
        // Only a message that was kept everywhere asked for counts as stored (the client is
        // told 451 otherwise). In memory: the metadata, and the content only without files.
        if self.keep {
            let kept = StoredMessage {
                content: draft.take_memory().unwrap_or_default(),
                ..m.clone_metadata()
            };
            let mut mem = self.memory.lock().unwrap_or_else(|p| p.into_inner());
            mem.push(kept);
        }
        Ok(paths)
    }

    /// [`Store::begin`], one write and [`Store::commit`]: a whole message at once.
    #[cfg(test)]
    pub(crate) fn store(&self, m: &StoredMessage) -> Result<Vec<String>, StoreError> {
        let mut d = self.begin();
        d.write(&m.content);
        self.commit(d, m)
    }

    /// Everything kept in memory, oldest first.
    pub(crate) fn messages(&self) -> Vec<StoredMessage> {
        let mem = self.memory.lock().unwrap_or_else(|p| p.into_inner());
        mem.list.iter().cloned().collect()
    }

    /// Create the message's file in `DIR/tmp/` under a fresh name.
    fn maildir_open(&self, dir: &Path) -> Result<MaildirFile, StoreError> {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let pid = self.pid;
        let err = |e: std::io::Error| io_error(format_args!("Maildir {}", dir.display()), &e);
        // A stale file of an earlier process with the same pid may exist: skip such names.
        for _ in 0..1000 {
            let n = self.counter.fetch_add(1, Ordering::Relaxed);
            let name = format!("{secs}.P{pid}Q{n}.ehlo");
            let tmp = dir.join("tmp").join(&name);
            let new = dir.join("new").join(&name);
            if new.exists() {
                continue;
            }
            match OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(MAILBOX_MODE)
                .open(&tmp)
            {
                Ok(file) => return Ok(MaildirFile { file, tmp, new }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(err(e)),
            }
        }
        Err(format!("Maildir {}: no free file name", dir.display()).into())
    }
}

/// The mbox at `path` opened for appending, created with [`MAILBOX_MODE`] when missing: the one
/// way [`Store::try_lock_mbox`] and the tests' `Store::commit` open it.
fn open_mbox(path: &Path) -> Result<File, String> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(MAILBOX_MODE)
        .open(path)
        .map_err(mbox_error(path))
}

/// An I/O error on the mbox at `path`, naming the file.
fn mbox_error(path: &Path) -> impl Fn(std::io::Error) -> String + '_ {
    move |e| format!("mbox {}: {e}", path.display())
}

/// The directory of the mbox at `path` (the current one for a bare file name).
fn mbox_dir(path: &Path) -> &Path {
    path.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// The mbox, opened for appending under an exclusive `flock(2)` ([`Store::try_lock_mbox`]);
/// closing it releases the lock.
#[derive(Debug)]
pub(crate) struct LockedMbox(File);

/// A message being received (see the module doc): dropping it discards it, files included.
#[derive(Debug)]
pub(crate) struct Draft<'a> {
    store: &'a Store,
    maildir: Option<MaildirFile>,
    mbox: Option<MboxTemp>,
    /// Memory-only mode: the content, while it fits the budget (`None` once it does not).
    memory: Option<Vec<u8>>,
    /// The start of the content, for the transcript ([`SHOWN_BYTES`]).
    shown: Vec<u8>,
    /// Content bytes received.
    size: usize,
    /// Content bytes written since the free space was last looked at.
    unchecked: usize,
    /// The first write error: the message will be refused.
    error: Option<StoreError>,
}

impl Draft<'_> {
    /// A write failed: the message will be refused whatever happens next.
    pub(crate) fn failed(&self) -> bool {
        self.error.is_some()
    }

    /// The next piece of the content.
    pub(crate) fn write(&mut self, piece: &[u8]) {
        self.size += piece.len();
        if self.store.show {
            let room = SHOWN_BYTES.saturating_sub(self.shown.len());
            self.shown
                .extend_from_slice(&piece[..piece.len().min(room)]);
        }
        if self.error.is_some() {
            return;
        }
        if let Err(e) = self.write_files(piece) {
            // The partial files go now (the Maildir's `tmp/` file is removed, the mbox's
            // temporary file closed): a full disk gets its space back at once, not when the
            // client has sent the rest.
            self.maildir = None;
            self.mbox = None;
            self.error = Some(e);
        }
        if let Some(mem) = &mut self.memory {
            let held = self
                .store
                .receiving
                .fetch_add(piece.len(), Ordering::Relaxed);
            if held + piece.len() <= MEMORY_BYTES {
                mem.extend_from_slice(piece);
            } else {
                // Over the budget: this message keeps its metadata only.
                let given_back = mem.len() + piece.len();
                self.store
                    .receiving
                    .fetch_sub(given_back, Ordering::Relaxed);
                self.memory = None;
            }
        }
    }

    /// Write a piece to the files, first making sure (every [`ROOM_CHECK_BYTES`]) that it
    /// leaves the reserve free.
    fn write_files(&mut self, piece: &[u8]) -> Result<(), StoreError> {
        if self.maildir.is_none() && self.mbox.is_none() {
            return Ok(());
        }
        self.unchecked += piece.len();
        if self.unchecked >= ROOM_CHECK_BYTES {
            let ahead = self.unchecked as u64;
            self.unchecked = 0;
            if let Some(md) = &self.maildir {
                let what = format!("Maildir {}", md.tmp.display());
                self.store.check_room_in(&md.tmp, ahead, &what)?;
            }
            if self.mbox.is_some() {
                let tmp = std::env::temp_dir();
                self.store
                    .check_room_in(&tmp, ahead, "mbox temporary file")?;
            }
        }
        if let Some(md) = &mut self.maildir {
            md.file
                .write_all(piece)
                .map_err(|e| io_error(format_args!("Maildir {}", md.tmp.display()), &e))?;
        }
        if let Some(mb) = &mut self.mbox {
            mb.write(piece)
                .map_err(|e| io_error("mbox temporary file", &e))?;
        }
        Ok(())
    }

    /// The start of the content (at most [`SHOWN_BYTES`]), for the transcript.
    pub(crate) fn take_shown(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.shown)
    }

    /// The content held for memory-only mode, out of the receiving budget.
    fn take_memory(&mut self) -> Option<Vec<u8>> {
        let mem = self.memory.take()?;
        self.store.receiving.fetch_sub(mem.len(), Ordering::Relaxed);
        Some(mem)
    }
}

impl Drop for Draft<'_> {
    fn drop(&mut self) {
        let _ = self.take_memory();
    }
}

/// A message's file in the Maildir's `tmp/`, removed when dropped unless renamed (`tmp` empty).
#[derive(Debug)]
struct MaildirFile {
    file: File,
    tmp: PathBuf,
    new: PathBuf,
}

impl Drop for MaildirFile {
    fn drop(&mut self) {
        if !self.tmp.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// The quoted content of a message for the mbox, in an unnamed temporary file.
#[derive(Debug)]
struct MboxTemp {
    file: File,
    quoter: MboxQuoter,
    /// Quoted bytes on their way to `file`.
    buf: Vec<u8>,
}

impl MboxTemp {
    fn write(&mut self, piece: &[u8]) -> std::io::Result<()> {
        self.buf.clear();
        self.quoter.push(piece, &mut self.buf);
        self.file.write_all(&self.buf)
    }
}

/// Deliver an empty file into the Maildir as a message would go (created in `tmp/`, renamed
/// into `new/`), then remove it. Its name starts with a dot, which Maildir readers skip.
fn maildir_probe(dir: &Path, pid: u32) -> std::io::Result<()> {
    let name = format!(".ehlo-serve-probe.{pid}");
    let (tmp, new) = (dir.join("tmp").join(&name), dir.join("new").join(&name));
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)
        .map_err(|e| std::io::Error::new(e.kind(), format!("tmp/: {e}")))?;
    let moved = fs::rename(&tmp, &new);
    let _ = fs::remove_file(if moved.is_ok() { &new } else { &tmp });
    moved.map_err(|e| std::io::Error::new(e.kind(), format!("new/: {e}")))
}

/// A temporary file without a name (removed as soon as it is created, so nothing is left
/// behind whatever happens to the process), in the system's temporary directory; `pid` (this
/// process's, read once per store) keeps its name apart from another server's.
fn tempfile_unnamed(pid: u32) -> std::io::Result<File> {
    static N: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir();
    for _ in 0..1000 {
        let n = N.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!(".ehlo-serve-mbox-{pid}-{n}"));
        match OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(MAILBOX_MODE)
            .open(&path)
        {
            Ok(f) => {
                fs::remove_file(&path)?;
                return Ok(f);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other("no free temporary file name"))
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

/// Quotes message content for an mboxrd file as it streams by: CRLF becomes LF, every line
/// matching `>*From ` gets one more `>`, the last line is ended. Constant memory: a line start
/// still undecided is held as a count of `>` and the length of the `From ` prefix seen.
#[derive(Debug)]
struct MboxQuoter {
    /// At a line start, before deciding whether it needs quoting.
    deciding: bool,
    /// Undecided line start: this many `>`, then this much of `From `.
    quotes: usize,
    from: usize,
    /// A byte of the current line was read.
    begun: bool,
    /// A CR was read; an LF next makes it a line end.
    cr: bool,
}

impl Default for MboxQuoter {
    fn default() -> Self {
        MboxQuoter {
            deciding: true,
            quotes: 0,
            from: 0,
            begun: false,
            cr: false,
        }
    }
}

impl MboxQuoter {
    const FROM: &'static [u8] = b"From ";

    fn push(&mut self, bytes: &[u8], out: &mut Vec<u8>) {
        for &b in bytes {
            self.byte(b, out);
        }
    }

    fn byte(&mut self, b: u8, out: &mut Vec<u8>) {
        if std::mem::take(&mut self.cr) {
            if b == b'\n' {
                self.end_line(out);
                return;
            }
            // A bare CR is content.
            out.push(b'\r');
        }
        self.begun = true;
        if self.deciding && b != b'\r' && b != b'\n' {
            if self.from == 0 && b == b'>' {
                self.quotes += 1;
                return;
            }
            if b == Self::FROM[self.from] {
                self.from += 1;
                if self.from == Self::FROM.len() {
                    out.push(b'>');
                    self.undecided(out);
                }
                return;
            }
            self.undecided(out);
        } else if self.deciding {
            self.undecided(out);
        }
        match b {
            b'\r' => self.cr = true,
            b'\n' => self.end_line(out),
            _ => out.push(b),
        }
    }

    /// Write the held line start as it was; the line is decided.
    fn undecided(&mut self, out: &mut Vec<u8>) {
        out.extend(std::iter::repeat_n(b'>', self.quotes));
        out.extend_from_slice(&Self::FROM[..self.from]);
        self.quotes = 0;
        self.from = 0;
        self.deciding = false;
    }

    fn end_line(&mut self, out: &mut Vec<u8>) {
        self.undecided(out);
        out.push(b'\n');
        self.deciding = true;
        self.begun = false;
    }

    /// The end of the content: a CR at the very end is dropped (like one before an LF), an
    /// unterminated last line is ended, and the empty line that separates messages follows.
    fn finish(&mut self, out: &mut Vec<u8>) {
        self.cr = false;
        if self.begun {
            self.end_line(out);
        }
        out.push(b'\n');
        *self = MboxQuoter::default();
    }
}

/// The `From ` line of a message: the envelope sender (`MAILER-DAEMON` for the null sender, as
/// Postfix's local(8) writes it) as [`mbox_sender`] spells it, and the date.
fn from_line(from: &str, date: &str) -> String {
    let sender = if from.is_empty() {
        "MAILER-DAEMON".to_string()
    } else {
        mbox_sender(from)
    };
    format!("From {sender} {date}\n")
}

/// The envelope sender as the `From ` line names it, written as Postfix's local(8) does
/// (mail_copy.c: the address unquoted on receipt, then `quote_822_local`): a source route
/// (RFC 5321 §4.1.2 `A-d-l ":"`, which §3.3 and Appendix C let a server ignore) dropped, and
/// the local part quoted only when it is no Dot-string (RFC 5321 §4.1.2), with `"` and `\`
/// escaped. `<@relay:a@x>` is `a@x`, `"ab"@x` is `ab@x`, `"a b"@x` stays quoted: a reader that
/// takes the line's first blank-free word as the address (RFC 4155) no longer gets `"a` from
/// `@r:"a b"@x`, and one sender is written one way, whatever quoting the client chose.
fn mbox_sender(from: &str) -> String {
    let mailbox = strip_source_route(from);
    let (local, domain) = split_mailbox(mailbox);
    let local = unquote_local(local);
    let dot_string = !local.is_empty()
        && local.split('.').all(|atom| {
            !atom.is_empty()
                && atom
                    .bytes()
                    // RFC 5322 §3.2.3 atext, and UTF-8 (RFC 6531 §3.3 extends atext with it).
                    .all(|b| {
                        b.is_ascii_alphanumeric()
                            || b"!#$%&'*+-/=?^_`{|}~".contains(&b)
                            || b >= 0x80
                    })
        });
    let mut out = String::with_capacity(mailbox.len() + 2);
    if dot_string {
        out.push_str(&local);
    } else {
        out.push('"');
        for c in local.chars() {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('"');
    }
    if let Some(domain) = domain {
        out.push('@');
        out.push_str(domain);
    }
    out
}

/// `@a,@b:mailbox` without `@a,@b:` (a `:` inside an address literal such as
/// `@[IPv6:::1]` is no end of the route).
fn strip_source_route(path: &str) -> &str {
    if !path.starts_with('@') {
        return path;
    }
    let mut in_literal = false;
    for (i, c) in path.char_indices() {
        match c {
            '[' => in_literal = true,
            ']' => in_literal = false,
            ':' if !in_literal => return &path[i + 1..],
            _ => {}
        }
    }
    path
}

/// The local part and the domain (after the last `@` outside a quoted string), if any.
fn split_mailbox(mailbox: &str) -> (&str, Option<&str>) {
    let (mut quoted, mut escaped, mut at) = (false, false, None);
    for (i, c) in mailbox.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '@' if !quoted => at = Some(i),
            _ => {}
        }
    }
    match at {
        Some(i) => (&mailbox[..i], Some(&mailbox[i + 1..])),
        None => (mailbox, None),
    }
}

/// A Quoted-string local part's content (`"a\"b"` is `a"b`); any other local part as it is.
fn unquote_local(local: &str) -> String {
    let Some(inner) = local
        .strip_prefix('"')
        .and_then(|l| l.strip_suffix('"'))
        .filter(|_| local.len() >= 2)
    else {
        return local.to_string();
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            c => out.push(c),
        }
    }
    out
}

/// The mboxrd form of one message (From_ line, quoted content, trailing empty line).
#[cfg(test)]
fn mbox_entry(m: &StoredMessage, date: &str) -> Vec<u8> {
    let mut out = from_line(&m.from, date).into_bytes();
    let mut q = MboxQuoter::default();
    q.push(&m.content, &mut out);
    q.finish(&mut out);
    out
}

/// Append the From_ line and the quoted content in `temp` to the mbox at `path` (`locked`: it,
/// under its lock), synced; on failure the mbox is cut back to its length before.
fn mbox_append(
    store: &Store,
    path: &Path,
    locked: LockedMbox,
    from: &str,
    mut temp: MboxTemp,
) -> Result<(), StoreError> {
    let fmt = time::macros::format_description!(
        "[weekday repr:short] [month repr:short] [day padding:space] [hour]:[minute]:[second] [year]"
    );
    let date = time::OffsetDateTime::now_utc()
        .format(&fmt)
        .unwrap_or_else(|_| "Thu Jan  1 00:00:00 1970".into());
    let err = |e: std::io::Error| io_error(format_args!("mbox {}", path.display()), &e);
    temp.buf.clear();
    temp.quoter.finish(&mut temp.buf);
    let tail = std::mem::take(&mut temp.buf);
    temp.file
        .write_all(&tail)
        .map_err(|e| io_error("mbox temporary file", &e))?;
    let from_line = from_line(from, &date);
    // Room for the whole entry before a byte of it is appended.
    let entry = temp.file.stream_position().map_err(err)? + from_line.len() as u64;
    store.check_room_in(mbox_dir(path), entry, &format!("mbox {}", path.display()))?;
    // Other processes append too (a second `ehlo serve`, an MDA, a mail reader): the exclusive
    // flock(2) is held for the whole From_ line and content, as procmail and mutt do. Released
    // when `f` is closed.
    let LockedMbox(mut f) = locked;
    let before = f.metadata().map_err(err)?.len();
    let appended = f
        .write_all(from_line.as_bytes())
        .and_then(|()| temp.file.seek(SeekFrom::Start(0)))
        .and_then(|_| std::io::copy(&mut temp.file, &mut f))
        .and_then(|_| f.sync_data());
    if let Err(e) = appended {
        let _ = f.set_len(before);
        return Err(err(e));
    }
    Ok(())
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
    fn a_store_keeping_nothing_in_memory_still_writes_the_maildir() {
        let dir = tempfile::tempdir().unwrap();
        let md = dir.path().join("md");
        let s = Store::new(Some(md.clone()), None)
            .unwrap()
            .keeping(false, false);
        let mut d = s.begin();
        d.write(b"Subject: s\r\n\r\nbody\r\n");
        assert!(d.take_shown().is_empty(), "nothing kept for a transcript");
        let m = msg(b"Subject: s\r\n\r\nbody\r\n");
        let paths = s.commit(d, &m).unwrap();
        assert_eq!(paths.len(), 1);
        assert_eq!(fs::read(&paths[0]).unwrap(), m.content);
        assert!(s.messages().is_empty());

        // Memory only, keeping nothing: no list, and no budget held by a draft.
        let s = Store::new(None, None).unwrap().keeping(false, true);
        let mut d = s.begin();
        d.write(b"abc");
        assert_eq!(s.receiving.load(Ordering::Relaxed), 0);
        assert_eq!(d.take_shown(), b"abc");
        assert_eq!(s.commit(d, &msg(b"abc")).unwrap(), Vec::<String>::new());
        assert!(s.messages().is_empty());
        // The default keeps both.
        let s = Store::new(None, None).unwrap();
        s.store(&msg(b"abc")).unwrap();
        assert_eq!(s.messages()[0].content, b"abc");
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

    /// The sender is written as Postfix's local(8) writes it (checked against Postfix 3's
    /// Return-Path, the same quote_822_local form): route dropped, quotes only where needed.
    #[test]
    fn mbox_from_line_spells_the_sender_as_postfix_local_does() {
        for (path, want) in [
            ("a@x.test", "a@x.test"),
            ("\"a b\"@x.test", "\"a b\"@x.test"),
            ("\"ab\"@x.test", "ab@x.test"),
            ("\"a.b\"@x.test", "a.b@x.test"),
            ("\"a\\\"b\"@x.test", "\"a\\\"b\"@x.test"),
            ("\"a\\\\b\"@x.test", "\"a\\\\b\"@x.test"),
            ("\"a..b\"@x.test", "\"a..b\"@x.test"),
            ("\".a\"@x.test", "\".a\"@x.test"),
            ("\"a@b\"@x.test", "\"a@b\"@x.test"),
            ("\"\"@x.test", "\"\"@x.test"),
            ("@relay.test:a@x.test", "a@x.test"),
            ("@r1.test,@r2.test:\"a b\"@x.test", "\"a b\"@x.test"),
            ("@[IPv6:::1]:a@x.test", "a@x.test"),
            ("jöe@x.test", "jöe@x.test"),
            ("postmaster", "postmaster"),
            ("a@[192.0.2.1]", "a@[192.0.2.1]"),
        ] {
            assert_eq!(
                from_line(path, "D"),
                format!("From {want} D\n"),
                "MAIL FROM:<{path}>"
            );
        }
        assert_eq!(from_line("", "D"), "From MAILER-DAEMON D\n");
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

    /// The mboxrd quoting as it was done on a whole message before streaming: the reference
    /// the streaming quoter must match.
    fn quoted_whole(content: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut rest = content;
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

    #[test]
    fn mbox_quoting_streams_in_any_split() {
        let mut rng = crate::smtp::rng::Rng::new(14);
        let atoms: [&[u8]; 9] = [
            b"From ", b"Fro", b">", b"\r", b"\n", b"\r\n", b"x", b" ", b"m",
        ];
        for _ in 0..3000 {
            let mut content = Vec::new();
            for _ in 0..rng.below(24) {
                content.extend_from_slice(atoms[rng.below(atoms.len())]);
            }
            let want = quoted_whole(&content);
            let mut got = Vec::new();
            let mut q = MboxQuoter::default();
            let mut rest = &content[..];
            while !rest.is_empty() {
                let n = 1 + rng.below(rest.len().min(6));
                q.push(&rest[..n], &mut got);
                rest = &rest[n..];
            }
            q.finish(&mut got);
            assert_eq!(
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(&want),
                "{:?}",
                String::from_utf8_lossy(&content)
            );
        }
        // A line of a million `>` is held as a count, not as bytes.
        let mut q = MboxQuoter::default();
        let mut out = Vec::new();
        q.push(&vec![b'>'; 1_000_000], &mut out);
        assert!(out.is_empty() && q.quotes == 1_000_000);
        q.push(b"From x", &mut out);
        assert_eq!(out.len(), 1_000_000 + 1 + 6);
    }

    /// Streaming to the files: a message written in pieces lands whole (Maildir `new/`, mbox),
    /// one that is dropped midway leaves nothing (no `tmp/` file, the mbox unchanged).
    #[test]
    fn drafts_stream_to_the_files_and_dropped_ones_leave_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let md = dir.path().join("Maildir");
        let mb = dir.path().join("mbox");
        let s = Store::new(Some(md.clone()), Some(mb.clone())).unwrap();
        let body = b"Subject: s\r\n\r\nFrom the start\r\n".repeat(10_000);
        let mut d = s.begin();
        for piece in body.chunks(4096) {
            d.write(piece);
        }
        assert_eq!(fs::read_dir(md.join("tmp")).unwrap().count(), 1);
        assert_eq!(fs::read_dir(md.join("new")).unwrap().count(), 0);
        assert_eq!(
            fs::metadata(&mb).unwrap().len(),
            0,
            "nothing in the mbox yet"
        );
        let shown = d.take_shown();
        assert_eq!(shown, body[..SHOWN_BYTES]);
        let paths = s.commit(d, &msg_meta(body.len())).unwrap();
        assert_eq!(fs::read(&paths[0]).unwrap(), body);
        assert_eq!(fs::read_dir(md.join("tmp")).unwrap().count(), 0);
        let mbox = fs::read(&mb).unwrap();
        assert!(mbox.starts_with(b"From a@x "));
        let from_end = mbox.iter().position(|&b| b == b'\n').unwrap() + 1;
        assert_eq!(mbox[from_end..], quoted_whole(&body));
        let before = mbox.len();

        let mut d = s.begin();
        d.write(b"half a message");
        drop(d);
        assert_eq!(fs::read_dir(md.join("tmp")).unwrap().count(), 0);
        assert_eq!(fs::read_dir(md.join("new")).unwrap().count(), 1);
        assert_eq!(fs::read(&mb).unwrap().len(), before);
        assert_eq!(s.messages().len(), 1);
        assert!(s.messages()[0].content.is_empty());
    }

    /// Memory-only mode: messages being received share the content budget, so many large
    /// messages arriving at once hold a bounded amount of memory; one that does not fit keeps
    /// its metadata only.
    #[test]
    fn receiving_shares_the_memory_budget() {
        let s = Store::new(None, None).unwrap();
        let piece = vec![b'x'; 1024 * 1024];
        let mut drafts: Vec<Draft<'_>> = (0..3).map(|_| s.begin()).collect();
        for _ in 0..3 {
            for d in &mut drafts {
                d.write(&piece);
            }
        }
        assert!(s.receiving.load(Ordering::Relaxed) <= MEMORY_BYTES);
        let kept: Vec<bool> = drafts.iter().map(|d| d.memory.is_some()).collect();
        assert_eq!(kept, [true, true, false]);
        for d in drafts {
            s.commit(d, &msg_meta(3 * piece.len())).unwrap();
        }
        assert_eq!(s.receiving.load(Ordering::Relaxed), 0);
        let sizes: Vec<(usize, usize)> = s
            .messages()
            .iter()
            .map(|m| (m.content.len(), m.size))
            .collect();
        assert_eq!(sizes[2], (0, 3 * piece.len()));
        // Dropped drafts give their share back.
        let mut d = s.begin();
        d.write(&piece);
        drop(d);
        assert_eq!(s.receiving.load(Ordering::Relaxed), 0);
    }

    fn msg_meta(size: usize) -> StoredMessage {
        StoredMessage { size, ..msg(b"") }
    }

    /// Two stores on one mbox (two `ehlo serve` processes, or a server and an MDA) appending
    /// at once: the mbox lock (an exclusive flock per open file) keeps every message whole.
    /// Two stores of one process stand for two processes: each append opens its own file
    /// description, which is what flock(2) locks.
    #[test]
    fn concurrent_stores_on_one_mbox_do_not_interleave() {
        let dir = tempfile::tempdir().unwrap();
        let mb = dir.path().join("mbox");
        const EACH: usize = 12;
        let line_count = 4096;
        let barrier = std::sync::Barrier::new(2);
        std::thread::scope(|scope| {
            for letter in [b'a', b'b'] {
                let (mb, barrier) = (&mb, &barrier);
                scope.spawn(move || {
                    let s = Store::new(None, Some(mb.clone())).unwrap();
                    let mut body = Vec::new();
                    for _ in 0..line_count {
                        body.extend_from_slice(&[letter; 63]);
                        body.extend_from_slice(b"\r\n");
                    }
                    barrier.wait();
                    for _ in 0..EACH {
                        let mut d = s.begin();
                        for piece in body.chunks(8192) {
                            d.write(piece);
                        }
                        s.commit(d, &msg_meta(body.len())).unwrap();
                    }
                });
            }
        });
        let mbox = fs::read(&mb).unwrap();
        let mut whole = 0;
        for entry in mbox
            .split(|&b| b == b'\n')
            .collect::<Vec<_>>()
            .split(|l| l.starts_with(b"From "))
            .skip(1)
        {
            // One message: its lines all of one letter, then the empty separator line.
            let lines: Vec<&&[u8]> = entry.iter().filter(|l| !l.is_empty()).collect();
            assert_eq!(lines.len(), line_count, "a message was cut or interleaved");
            let first = lines[0][0];
            assert!(
                lines
                    .iter()
                    .all(|l| l.len() == 63 && l.iter().all(|&b| b == first)),
                "two messages interleaved"
            );
            whole += 1;
        }
        assert_eq!(whole, 2 * EACH);
    }

    /// A Maildir that cannot be written (its `tmp/` on a file system that takes no file: the
    /// permission bits would not stop root) is refused when the store is made, not found out
    /// message by message; a writable one keeps no trace of the check.
    #[test]
    fn an_unwritable_maildir_is_refused_at_start() {
        let dir = tempfile::tempdir().unwrap();
        let md = dir.path().join("md");
        fs::create_dir_all(md.join("new")).unwrap();
        fs::create_dir_all(md.join("cur")).unwrap();
        std::os::unix::fs::symlink("/proc", md.join("tmp")).unwrap();
        let e = Store::new(Some(md.clone()), None).unwrap_err();
        assert!(
            e.contains("cannot write to Maildir") && e.contains("tmp/"),
            "{e}"
        );
        assert!(!e.contains('\n'), "{e}");

        let ok = dir.path().join("ok");
        Store::new(Some(ok.clone()), None).unwrap();
        for sub in ["tmp", "new", "cur"] {
            assert_eq!(fs::read_dir(ok.join(sub)).unwrap().count(), 0, "{sub}");
        }
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
