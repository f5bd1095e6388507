//! Output that could not be written: every stream a renderer writes to stdout or to a file
//! (`--output-file`, `--log`, a REPL recording) goes through a [`Watch`]ed writer that keeps the
//! first error that is not a closed pipe, and the dispatcher (`app`) names each such stream on
//! stderr once the run is over ([`Watch::report`]); the REPL says a file's as soon as it sees
//! it, its session going on ([`Watch::take_files`]). Each loss is said once. A closed pipe (`| head`) stays quiet, as in
//! ripgrep; a full disk or an I/O error used to lose the output without a word. The run's exit
//! code stands: it says what happened to the mail, which a lost transcript does not change
//! (a dump, whose output is its whole result, is the exception: `app`).

use std::io::Write;
use std::sync::{Arc, Mutex};

use crate::render::human::escape_str;

/// The run's watched streams and what became of them; clones share them.
#[derive(Clone, Default)]
pub(crate) struct Watch(Arc<Mutex<Vec<Stream>>>);

/// One watched stream.
struct Stream {
    /// What it carries: `transcript`, `JSON Lines`, `report`, `log`.
    what: &'static str,
    /// Where it goes: `stdout`, a file's name.
    target: String,
    /// The first error writing it, not a closed pipe.
    lost: Option<String>,
    /// Its loss has been said ([`Watch::take`]): later errors are the same loss, not said again.
    said: bool,
}

impl Watch {
    /// `out`, writing `what` to `target`, with its errors kept here.
    pub(crate) fn watched(
        &self,
        what: &'static str,
        target: impl Into<String>,
        out: Box<dyn Write + Send>,
    ) -> Box<dyn Write + Send> {
        self.push(what, target.into(), out, None)
    }

    fn push(
        &self,
        what: &'static str,
        target: String,
        out: Box<dyn Write + Send>,
        cut: Option<Cut>,
    ) -> Box<dyn Write + Send> {
        let file = target != "stdout";
        let mut streams = self.0.lock().unwrap_or_else(|p| p.into_inner());
        streams.push(Stream {
            what,
            target,
            lost: None,
            said: false,
        });
        Box::new(Watched {
            out,
            watch: self.clone(),
            index: streams.len() - 1,
            file,
            stopped: false,
            cut,
        })
    }

    /// A file of ehlo's own (`--log`, a recording), writing `what`, watched as
    /// [`watched`](Self::watched) is. At its first error the file is also cut back to its last
    /// whole line when it is a regular file: a write past the file-size limit (or onto a full
    /// disk) stores the part of the line that fitted, and a JSON Lines log or a recording that
    /// ends inside a line is not one a reader can trust.
    pub(crate) fn watched_file(
        &self,
        what: &'static str,
        target: impl Into<String>,
        file: std::fs::File,
    ) -> Box<dyn Write + Send> {
        let cut = Cut::of(&file);
        self.push(what, target.into(), Box::new(file), cut)
    }

    /// Two streams into one file of ehlo's own (`--output-file FILE` carrying both stdout's
    /// and stderr's output): watched as [`watched_file`](Self::watched_file) is, with one cut
    /// point for both (each line is appended after the other's), and the first error of
    /// either stopping both, so that neither writes past the loss. `file` is shared through
    /// a clone of its handle, so the lines interleave in order.
    pub(crate) fn watched_file_twice(
        &self,
        what: &'static str,
        target: impl Into<String>,
        file: std::fs::File,
    ) -> std::io::Result<(Box<dyn Write + Send>, Box<dyn Write + Send>)> {
        let target = target.into();
        let other = file.try_clone()?;
        let cut = Cut::of(&file);
        let one = self.push(what, target.clone(), Box::new(file), cut.clone());
        let two = self.push(what, target, Box::new(other), cut);
        Ok((one, two))
    }

    /// Stdout, carrying `what`, watched.
    pub(crate) fn stdout(&self, what: &'static str) -> Box<dyn Write + Send> {
        self.watched(what, "stdout", Box::new(std::io::stdout()))
    }

    /// The lines saying which streams lost output and why, one a stream (its first error; one
    /// line for two streams into the same target, `--output-file` carrying both). They are
    /// taken: a second call says nothing again.
    pub(crate) fn take(&self) -> Vec<String> {
        self.take_where(|_| true)
    }

    /// [`take`](Self::take) for the streams written to files of their own (`--log`, a REPL
    /// recording), not stdout: said as soon as the REPL sees them, while the session goes on
    /// (the transcript that says it is still written).
    pub(crate) fn take_files(&self) -> Vec<String> {
        self.take_where(|s| s.target != "stdout")
    }

    fn take_where(&self, wanted: impl Fn(&Stream) -> bool) -> Vec<String> {
        let mut streams = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let mut lines: Vec<String> = Vec::new();
        let mut said: Vec<String> = Vec::new();
        for s in streams.iter_mut().filter(|s| wanted(s)) {
            if s.lost.is_some() {
                s.said = true;
            }
            if let Some(why) = s.lost.take()
                && !said.contains(&s.target)
            {
                // A file is written no more after its first error ([`Watched`]).
                let after = if s.target == "stdout" {
                    ""
                } else {
                    "; nothing more is written to it"
                };
                lines.push(format!(
                    "the {} could not be written to {}: {}{after}",
                    s.what,
                    escape_str(&s.target),
                    escape_str(&why)
                ));
                said.push(s.target.clone());
            }
        }
        lines
    }

    /// Whether a stream has lost output (and [`take`](Self::take) has not said it yet).
    pub(crate) fn any_lost(&self) -> bool {
        let streams = self.0.lock().unwrap_or_else(|p| p.into_inner());
        streams.iter().any(|s| s.lost.is_some())
    }

    /// Say [`take`](Self::take) on stderr, each line as an error (`*** `).
    pub(crate) fn report(&self) {
        for line in self.take() {
            super::glyphs::say_error(&line);
        }
    }

    fn note(&self, index: usize, e: &std::io::Error) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            return;
        }
        let mut streams = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = streams.get_mut(index)
            && s.lost.is_none()
            && !s.said
        {
            s.lost = Some(e.to_string());
        }
    }
}

/// A writer whose errors its [`Watch`] keeps (and passes on: callers drop them).
///
/// A file (any target but stdout) is written no more after its first error that is not a closed
/// pipe: were space to come back (a full disk freed), later lines would follow the lost ones
/// with no mark of the gap, a log or a recording that looks whole and is not. Stopped, the file
/// is what was written up to the loss, said once. Stdout goes on: a terminal or pipe has no
/// such gap to hide, and `ehlo serve` writes to it for as long as it serves.
struct Watched {
    out: Box<dyn Write + Send>,
    watch: Watch,
    index: usize,
    /// It writes to a file, not stdout.
    file: bool,
    /// A file's first error was met: every later write fails at once, unwritten.
    stopped: bool,
    /// For a regular file of ehlo's own ([`Watch::watched_file`]): how to cut it back to its
    /// last whole line at the first error (shared by two streams into one file).
    cut: Option<Cut>,
}

/// Where a file's last whole line ends, and a handle to cut it there (ftruncate(2)); clones
/// share it.
#[derive(Clone)]
struct Cut(Arc<Mutex<CutState>>);

struct CutState {
    handle: std::fs::File,
    /// Bytes in the file: its length when opened and every byte written since.
    written: u64,
    /// Bytes up to the end of the last whole line written.
    whole: u64,
    /// The file was cut at an error: nothing more is written to it, by any stream.
    stopped: bool,
}

impl Cut {
    /// For a regular file only: a device or FIFO (`/dev/null`) has no length to cut.
    fn of(file: &std::fs::File) -> Option<Cut> {
        match (file.metadata(), file.try_clone()) {
            (Ok(meta), Ok(handle)) if meta.is_file() => Some(Cut(Arc::new(Mutex::new(CutState {
                handle,
                written: meta.len(),
                whole: meta.len(),
                stopped: false,
            })))),
            _ => None,
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, CutState> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Watched {
    fn kept<T>(&mut self, r: std::io::Result<T>) -> std::io::Result<T> {
        if let Err(e) = &r {
            if e.kind() == std::io::ErrorKind::Interrupted {
                return r;
            }
            self.watch.note(self.index, e);
            if self.file && e.kind() != std::io::ErrorKind::BrokenPipe {
                self.stopped = true;
                if let Some(cut) = &self.cut {
                    let mut c = cut.state();
                    if !c.stopped {
                        c.stopped = true;
                        let _ = c.handle.set_len(c.whole);
                    }
                }
            }
        }
        r
    }

    /// This stream, or another into the same file, met an error.
    fn is_stopped(&self) -> bool {
        self.stopped || self.cut.as_ref().is_some_and(|c| c.state().stopped)
    }

    fn stopped() -> std::io::Error {
        std::io::Error::other("not written: an earlier write failed")
    }
}

impl Write for Watched {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.is_stopped() {
            return Err(Watched::stopped());
        }
        let r = self.out.write(buf);
        if let (Ok(n), Some(cut)) = (&r, &self.cut) {
            let mut c = cut.state();
            let done = &buf[..*n];
            if let Some(end) = done.iter().rposition(|&b| b == b'\n') {
                c.whole = c.written + end as u64 + 1;
            }
            c.written += *n as u64;
        }
        self.kept(r)
    }
    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        if self.is_stopped() {
            return Err(Watched::stopped());
        }
        if self.cut.is_some() {
            // write(2) by write(2), so that the bytes a short write stored are counted.
            let mut rest = buf;
            while !rest.is_empty() {
                match self.write(rest) {
                    Ok(0) => {
                        let e = std::io::Error::from(std::io::ErrorKind::WriteZero);
                        return self.kept(Err(e));
                    }
                    Ok(n) => rest = &rest[n..],
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            return Ok(());
        }
        let r = self.out.write_all(buf);
        self.kept(r)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        if self.is_stopped() {
            return Err(Watched::stopped());
        }
        let r = self.out.flush();
        self.kept(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fails every write and flush with `kind`.
    struct Failing(std::io::ErrorKind);

    impl Write for Failing {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::new(self.0, format!("{:?}", self.0)))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Err(std::io::Error::new(self.0, format!("{:?}", self.0)))
        }
    }

    #[test]
    fn the_first_error_is_kept_and_a_closed_pipe_is_not_one() {
        use std::io::ErrorKind::{BrokenPipe, StorageFull, TimedOut};
        let watch = Watch::default();
        let mut pipe = watch.watched("transcript", "stdout", Box::new(Failing(BrokenPipe)));
        assert!(writeln!(pipe, "x").is_err());
        assert!(watch.take().is_empty(), "a closed pipe is no loss");
        let mut disk = watch.watched("log", "a.log", Box::new(Failing(StorageFull)));
        let mut again = watch.watched("log", "a.log", Box::new(Failing(TimedOut)));
        let mut fine = watch.watched("report", "b", Box::new(Vec::new()));
        assert!(writeln!(fine, "x").and_then(|()| fine.flush()).is_ok());
        assert!(!watch.any_lost());
        assert!(disk.flush().is_err());
        assert!(watch.any_lost());
        let _ = disk.write_all(b"later");
        let _ = again.flush();
        assert_eq!(
            watch.take(),
            ["the log could not be written to a.log: StorageFull; nothing more is written to it"],
            "the first error, once a target"
        );
        assert!(watch.take().is_empty(), "said once");
        assert!(!watch.any_lost());
        // An error after it was said is the same loss: not said again.
        let _ = disk.flush();
        assert!(!watch.any_lost());
        assert!(watch.take().is_empty(), "said once, later errors too");
    }

    /// Fails its first write, then takes every byte: a full disk that space came back to.
    struct FailsOnce {
        failed: bool,
        got: Arc<Mutex<Vec<u8>>>,
    }

    impl Write for FailsOnce {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if !self.failed {
                self.failed = true;
                return Err(std::io::ErrorKind::StorageFull.into());
            }
            self.got.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// A file is written no more after its first error: lines written once space came back
    /// would follow the lost one with no mark of the gap. Stdout goes on.
    #[test]
    fn a_file_is_written_no_more_after_its_first_error() {
        let watch = Watch::default();
        for (target, later) in [("a.log", &b""[..]), ("stdout", &b"two\n"[..])] {
            let got = Arc::new(Mutex::new(Vec::new()));
            let sink = FailsOnce {
                failed: false,
                got: got.clone(),
            };
            let mut w = watch.watched("log", target, Box::new(sink));
            assert!(w.write_all(b"one\n").is_err());
            let _ = w.write_all(b"two\n");
            let _ = w.flush();
            assert_eq!(&got.lock().unwrap()[..], later, "{target}");
        }
    }

    /// The REPL says a file's loss as it happens ([`Watch::take_files`]), stdout's at the end.
    #[test]
    fn files_are_taken_apart_from_stdout() {
        use std::io::ErrorKind::StorageFull;
        let watch = Watch::default();
        let mut out = watch.watched("transcript", "stdout", Box::new(Failing(StorageFull)));
        let mut log = watch.watched("log", "a.log", Box::new(Failing(StorageFull)));
        let _ = out.flush();
        let _ = log.flush();
        assert_eq!(
            watch.take_files(),
            ["the log could not be written to a.log: StorageFull; nothing more is written to it"]
        );
        let _ = log.flush();
        assert_eq!(
            watch.take(),
            ["the transcript could not be written to stdout: StorageFull"]
        );
    }
}
