//! A writer that never blocks whoever writes to it (`ehlo serve`'s transcript and its errors):
//! what is written goes, a batch at a time, through a bounded queue to a thread of its own that
//! writes it out. When the reader of the output does not keep up (`ehlo serve | sleep 1000`: a
//! pipe nobody reads fills after 64 KiB), the queue fills and what does not fit is dropped and
//! counted, so that the server goes on serving its clients; once the writer has caught up (its
//! queue is empty again), one line on stderr says how much was lost (JSON Lines: a `warning`
//! record on stdout too, where the records resume). Before, the rendering thread
//! blocked in `write(2)`, the channel of events behind it filled, and every connection waited on
//! it. Stdout and stderr share the one queue and thread ([`behind_both`]), so their lines come
//! out in the order they were written (both on one terminal, `2>&1`), and a stderr nobody reads
//! holds up nothing either.

use std::collections::VecDeque;
use std::io::Write;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// Most bytes waiting for the writer thread; more is dropped.
const QUEUED: usize = 1024 * 1024;
/// Bytes gathered before they are handed over without a flush.
const BATCH: usize = 64 * 1024;
/// How long the end of the run waits for the writer to write what is queued. A reader that
/// does not read for that long loses the rest (said on stderr) rather than keeping the process
/// from exiting.
const END_WAIT: Duration = Duration::from_secs(5);
/// How long the end of the run waits for that last line to be taken by stderr: a stderr nobody
/// reads must not keep the process from exiting either.
const SAY_WAIT: Duration = Duration::from_secs(1);

/// Which stream a batch goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dest {
    Out,
    Err,
}

/// What the writing sides and the writer thread share.
#[derive(Default)]
struct Queue {
    batches: VecDeque<(Dest, Vec<u8>)>,
    bytes: usize,
    /// Writing sides not dropped yet; the last one to go closes the queue.
    writers: usize,
    /// The writing sides are gone: write what is left, then end.
    closed: bool,
    /// The writer thread has ended.
    done: bool,
    /// Dropped since the last time it was said.
    dropped_lines: u64,
    dropped_bytes: u64,
    /// The stream the writer thread is writing to now, if any.
    writing: Option<Dest>,
    /// Some of what was dropped was dropped while the writer waited on stderr.
    dropped_on_err: bool,
}

struct Shared {
    queue: Mutex<Queue>,
    /// Signalled when a batch is queued, when the writing side closes, and when the thread ends.
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }
}

type Stream = Arc<Mutex<Box<dyn Write + Send>>>;

/// `out` (carrying `what`, e.g. `transcript`) and stderr, written in order by one thread of
/// their own: writes to the returned writers (stdout's, stderr's) never wait for either stream.
pub(crate) fn behind_both(
    what: &'static str,
    out: Box<dyn Write + Send>,
) -> (Box<dyn Write + Send>, Box<dyn Write + Send>) {
    let (out, err) = pair_with(
        what,
        out,
        Box::new(std::io::stderr()),
        QUEUED,
        END_WAIT,
        SAY_WAIT,
    );
    (Box::new(out), Box::new(err))
}

/// [`behind_both`]'s stdout side alone (stderr is written to only to say what was dropped).
#[cfg(test)]
fn behind_with(
    what: &'static str,
    out: Box<dyn Write + Send>,
    err: Box<dyn Write + Send>,
    queued: usize,
    end_wait: Duration,
) -> Box<dyn Write + Send> {
    Box::new(pair_with(what, out, err, queued, end_wait, SAY_WAIT).0)
}

fn pair_with(
    what: &'static str,
    out: Box<dyn Write + Send>,
    err: Box<dyn Write + Send>,
    queued: usize,
    end_wait: Duration,
    say_wait: Duration,
) -> (Behind, Behind) {
    let shared = Arc::new(Shared {
        queue: Mutex::new(Queue {
            writers: 2,
            ..Queue::default()
        }),
        changed: Condvar::new(),
    });
    let theirs = Arc::clone(&shared);
    let err: Stream = Arc::new(Mutex::new(err));
    let their_err = Arc::clone(&err);
    let spawned = std::thread::Builder::new()
        .name("output".into())
        .spawn(move || write_out(&theirs, out, what, &their_err));
    if let Err(e) = spawned {
        // No thread: nothing would ever write the queue. Say so once; the output is lost.
        let mut err = err.lock().unwrap_or_else(|p| p.into_inner());
        let _ = writeln!(
            err,
            "*** the {what} cannot be written: no thread for it ({e})"
        );
        shared.lock().done = true;
    }
    let side = |dest| Behind {
        dest,
        pending: Vec::with_capacity(if dest == Dest::Out { BATCH } else { 0 }),
        shared: Arc::clone(&shared),
        queued,
        end_wait,
        say_wait,
        what,
        err: Arc::clone(&err),
    };
    (side(Dest::Out), side(Dest::Err))
}

/// The writer thread: write each batch, and say what was dropped once the queue is empty.
fn write_out(shared: &Shared, mut out: Box<dyn Write + Send>, what: &'static str, err: &Stream) {
    // Near enough the run's start for a record's `t_ms`: the renderer is made as the run starts.
    let started = std::time::Instant::now();
    loop {
        let batch = {
            let mut q = shared.lock();
            loop {
                q.writing = None;
                if let Some((dest, b)) = q.batches.pop_front() {
                    q.bytes -= b.len();
                    q.writing = Some(dest);
                    break Some((dest, b));
                }
                if q.dropped_lines + q.dropped_bytes > 0 {
                    // Caught up after a loss: say it now, between two batches.
                    let (lines, bytes) = (q.dropped_lines, q.dropped_bytes);
                    let stream = if q.dropped_on_err { "stderr" } else { "stdout" };
                    q.dropped_lines = 0;
                    q.dropped_bytes = 0;
                    q.dropped_on_err = false;
                    drop(q);
                    let _ = out.flush();
                    let why = format!(
                        "{stream} was not read for a while, and the server went on serving rather than wait for it"
                    );
                    let said = say_dropped(err, what, lines, bytes, &why);
                    // JSON Lines has the gap as a `warning` record too, where the records
                    // resume: a reader of stdout alone learns that some are missing.
                    if what == JSON_LINES {
                        let record = serde_json::json!({
                            "type": "warning",
                            "data": {"message": said},
                            "t_ms": (started.elapsed().as_secs_f64() * 10_000.0).round() / 10.0,
                        });
                        let _ = writeln!(out, "{record}");
                        let _ = out.flush();
                    }
                    q = shared.lock();
                    continue;
                }
                if q.closed {
                    break None;
                }
                q = shared.changed.wait(q).unwrap_or_else(|p| p.into_inner());
            }
        };
        let Some((dest, batch)) = batch else { break };
        // Errors are the watched stream's to keep (`watch`); a closed pipe only drains.
        match dest {
            Dest::Out => {
                let _ = out.write_all(&batch);
                let _ = out.flush();
            }
            Dest::Err => {
                let mut err = err.lock().unwrap_or_else(|p| p.into_inner());
                let _ = err.write_all(&batch);
                let _ = err.flush();
            }
        }
    }
    let _ = out.flush();
    shared.lock().done = true;
    shared.changed.notify_all();
}

/// [`crate::render::what`]'s name for JSON Lines output.
const JSON_LINES: &str = "JSON Lines";

/// Say on stderr how much was dropped; returns what was said (without its `***`).
fn say_dropped(err: &Stream, what: &str, lines: u64, bytes: u64, why: &str) -> String {
    let said = format!(
        "{lines} line{} ({bytes} bytes) of the {what} were dropped: {why}",
        crate::smtp::event::plural_s(lines),
    );
    let mut err = err.lock().unwrap_or_else(|p| p.into_inner());
    let _ = writeln!(err, "*** {said}");
    let _ = err.flush();
    said
}

/// A writing side.
struct Behind {
    /// The stream it writes to.
    dest: Dest,
    /// Written since the last hand-over.
    pending: Vec<u8>,
    shared: Arc<Shared>,
    queued: usize,
    end_wait: Duration,
    say_wait: Duration,
    what: &'static str,
    err: Stream,
}

impl Behind {
    /// Hand `batch` to the writer thread, or drop it (counted) when the queue is full.
    fn hand_over(&mut self, batch: Vec<u8>) {
        if batch.is_empty() {
            return;
        }
        let mut q = self.shared.lock();
        if q.done || q.bytes + batch.len() > self.queued {
            q.dropped_bytes += batch.len() as u64;
            q.dropped_lines += lines_in(&batch);
            q.dropped_on_err |= q.writing == Some(Dest::Err);
            return;
        }
        q.bytes += batch.len();
        q.batches.push_back((self.dest, batch));
        drop(q);
        self.shared.changed.notify_one();
    }

    /// Hand over what is pending up to its last complete line, so that a dropped batch never
    /// leaves half a line behind (a line longer than a batch goes as it is).
    fn hand_over_lines(&mut self) {
        let cut = match self.pending.iter().rposition(|&b| b == b'\n') {
            Some(i) => i + 1,
            None => self.pending.len(),
        };
        let rest = self.pending.split_off(cut);
        let batch = std::mem::replace(&mut self.pending, rest);
        self.hand_over(batch);
        if self.dest == Dest::Out {
            self.pending.reserve(BATCH);
        }
    }
}

/// Lines in `batch`, a last one without its newline counted too.
fn lines_in(batch: &[u8]) -> u64 {
    let newlines = batch.iter().filter(|&&b| b == b'\n').count() as u64;
    newlines + u64::from(batch.last().is_some_and(|&b| b != b'\n'))
}

impl Write for Behind {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(buf);
        // Stdout gathers a batch; an error line goes at once, behind the stdout lines handed
        // over before it (the renderer hands those over first), so the two keep their order.
        let complete = match self.dest {
            Dest::Out => self.pending.len() >= BATCH,
            Dest::Err => buf.contains(&b'\n') || self.pending.len() >= BATCH,
        };
        if complete {
            self.hand_over_lines();
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let batch = std::mem::take(&mut self.pending);
        self.hand_over(batch);
        Ok(())
    }
}

impl Drop for Behind {
    /// Hand over the rest; the last side to go gives the writer [`END_WAIT`] to write it out.
    fn drop(&mut self) {
        let _ = self.flush();
        let mut q = self.shared.lock();
        q.writers = q.writers.saturating_sub(1);
        if q.writers > 0 {
            return;
        }
        q.closed = true;
        self.shared.changed.notify_all();
        let deadline = std::time::Instant::now() + self.end_wait;
        while !q.done {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                let lines =
                    q.dropped_lines + q.batches.iter().map(|(_, b)| lines_in(b)).sum::<u64>();
                let bytes = q.dropped_bytes + q.bytes as u64;
                let stream = if q.writing == Some(Dest::Err) {
                    "stderr"
                } else {
                    "stdout"
                };
                drop(q);
                if bytes > 0 {
                    // Said by a thread of its own, waited for a bounded time: the writer may be
                    // stuck on stderr itself (holding it), and this must not keep the process
                    // from exiting.
                    let (err, what) = (Arc::clone(&self.err), self.what);
                    let (said, saying) = std::sync::mpsc::channel();
                    let spawned =
                        std::thread::Builder::new()
                            .name("output-end".into())
                            .spawn(move || {
                                say_dropped(
                                    &err,
                                    what,
                                    lines,
                                    bytes,
                                    &format!("{stream} was still not read when the server stopped"),
                                );
                                let _ = said.send(());
                            });
                    if spawned.is_ok() {
                        let _ = saying.recv_timeout(self.say_wait);
                    }
                }
                return;
            }
            q = self
                .shared
                .changed
                .wait_timeout(q, left)
                .map(|(q, _)| q)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Shared bytes a test can read back.
    #[derive(Clone, Default)]
    struct Bytes(Arc<Mutex<Vec<u8>>>);

    impl Bytes {
        fn text(&self) -> String {
            String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
        }
    }

    impl Write for Bytes {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// A stdout nobody reads until `open` is set: each write waits for it.
    struct Stuck {
        open: Arc<(Mutex<bool>, Condvar)>,
        out: Bytes,
    }

    impl Stuck {
        /// A stuck stdout writing into `out`, and the gate that opens it.
        fn new(out: &Bytes) -> (Self, Arc<(Mutex<bool>, Condvar)>) {
            let open = Arc::new((Mutex::new(false), Condvar::new()));
            let stuck = Stuck {
                open: Arc::clone(&open),
                out: out.clone(),
            };
            (stuck, open)
        }
    }

    /// The reader comes back: open the gate, then wait until the writer has drained its queue
    /// and said the loss on `err`.
    fn reopen_and_wait_for_the_loss(open: &Arc<(Mutex<bool>, Condvar)>, err: &Bytes) {
        {
            let (m, cv) = &**open;
            *m.lock().unwrap() = true;
            cv.notify_all();
        }
        let waited = std::time::Instant::now();
        while err.text().is_empty() && waited.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    impl Write for Stuck {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let (m, cv) = &*self.open;
            let mut open = m.lock().unwrap();
            while !*open {
                open = cv.wait(open).unwrap();
            }
            self.out.write(buf)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn everything_is_written_in_order_when_the_reader_keeps_up() {
        let (out, err) = (Bytes::default(), Bytes::default());
        let mut w = behind_with(
            "transcript",
            Box::new(out.clone()),
            Box::new(err.clone()),
            1 << 20,
            END_WAIT,
        );
        let mut want = String::new();
        for i in 0..5000 {
            let line = format!("line {i}\n");
            w.write_all(line.as_bytes()).unwrap();
            want.push_str(&line);
            if i % 7 == 0 {
                w.flush().unwrap();
            }
        }
        drop(w);
        assert_eq!(out.text(), want);
        assert_eq!(err.text(), "", "nothing was dropped");
    }

    #[test]
    fn a_reader_that_does_not_read_never_blocks_the_writer_and_the_loss_is_said_once() {
        let (out, err) = (Bytes::default(), Bytes::default());
        let (stuck, open) = Stuck::new(&out);
        // A queue of 100 bytes: "line N\n" lines fill it quickly.
        let mut w = behind_with(
            "transcript",
            Box::new(stuck),
            Box::new(err.clone()),
            100,
            END_WAIT,
        );
        let started = std::time::Instant::now();
        for i in 0..1000 {
            w.write_all(format!("line {i:03}\n").as_bytes()).unwrap();
            w.flush().unwrap();
        }
        // The old way, the first write would have waited for the reader for ever.
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(err.text(), "", "nothing said before the writer catches up");
        // The writer drains its queue, then says the loss.
        reopen_and_wait_for_the_loss(&open, &err);
        w.write_all(b"after\n").unwrap();
        drop(w);
        let written = out.text();
        let lines: Vec<&str> = written.lines().collect();
        // Whole lines only, in order, ending with the one written after the reader came back.
        assert!(
            lines
                .iter()
                .all(|l| l.starts_with("line ") && l.len() == 8 || *l == "after"),
            "{written}"
        );
        assert_eq!(lines.last(), Some(&"after"));
        let kept = lines.len() as u64 - 1;
        let said = err.text();
        assert_eq!(said.lines().count(), 1, "said once: {said}");
        let dropped = 1000 - kept;
        assert!(dropped > 0);
        assert!(
            said.starts_with(&format!(
                "*** {dropped} lines ({} bytes) of the transcript were dropped: stdout was not read for a while",
                dropped * 9
            )),
            "{said}"
        );
    }

    /// JSON Lines: the loss is a `warning` record on stdout too, with the words said on
    /// stderr, where the records resume.
    #[test]
    fn json_lines_carry_the_loss_as_a_warning_record() {
        let (out, err) = (Bytes::default(), Bytes::default());
        let (stuck, open) = Stuck::new(&out);
        let mut w = behind_with(
            JSON_LINES,
            Box::new(stuck),
            Box::new(err.clone()),
            100,
            END_WAIT,
        );
        for i in 0..1000 {
            w.write_all(format!("{{\"n\":{}}}\n", 1000 + i).as_bytes())
                .unwrap();
            w.flush().unwrap();
        }
        reopen_and_wait_for_the_loss(&open, &err);
        w.write_all(b"{\"n\":\"after\"}\n").unwrap();
        drop(w);
        let said = err.text();
        let said = said
            .strip_prefix("*** ")
            .and_then(|s| s.strip_suffix('\n'))
            .unwrap_or_else(|| panic!("{said:?}"));
        let records: Vec<serde_json::Value> = out
            .text()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
            .collect();
        let warned: Vec<usize> = (0..records.len())
            .filter(|&i| records[i]["type"] == "warning")
            .collect();
        assert_eq!(warned.len(), 1, "{records:?}");
        let w = &records[warned[0]];
        assert_eq!(w["data"]["message"], said, "{w}");
        assert!(
            said.contains("of the JSON Lines were dropped: stdout"),
            "{said}"
        );
        assert!(w["t_ms"].is_number(), "{w}");
        // Where the records resume: before the one written after the reader came back.
        assert_eq!(records.last().unwrap()["n"], "after");
        assert!(warned[0] < records.len() - 1);
    }

    #[test]
    fn the_end_waits_a_bounded_time_for_a_reader_that_never_reads() {
        let open = Arc::new((Mutex::new(false), Condvar::new()));
        let err = Bytes::default();
        let stuck = Stuck {
            open: Arc::clone(&open),
            out: Bytes::default(),
        };
        let mut w = behind_with(
            "JSON Lines",
            Box::new(stuck),
            Box::new(err.clone()),
            1 << 20,
            Duration::from_millis(200),
        );
        for i in 0..10 {
            w.write_all(format!("{{\"n\":{i}}}\n").as_bytes()).unwrap();
            w.flush().unwrap();
        }
        let started = std::time::Instant::now();
        drop(w);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        let said = err.text();
        // The first line is being written (stuck) and the other nine are queued, or (the writer
        // thread not scheduled yet on a busy machine) all ten are.
        let tail =
            "of the JSON Lines were dropped: stdout was still not read when the server stopped\n";
        assert!(
            said == format!("*** 9 lines (72 bytes) {tail}")
                || said == format!("*** 10 lines (80 bytes) {tail}"),
            "{said}"
        );
        let (m, cv) = &*open;
        *m.lock().unwrap() = true;
        cv.notify_all();
    }

    #[test]
    fn stdout_and_stderr_lines_come_out_in_the_order_they_were_written() {
        // Both streams on one file (`2>&1`): the error lines sit between the transcript lines
        // they were written between, as the renderer writes them (stdout handed over first).
        let both = Bytes::default();
        let (mut out, mut err) = pair_with(
            "transcript",
            Box::new(both.clone()),
            Box::new(both.clone()),
            1 << 20,
            END_WAIT,
            SAY_WAIT,
        );
        let mut want = String::new();
        for i in 0..2000 {
            let line = format!("=== line {i}\n");
            out.write_all(line.as_bytes()).unwrap();
            want.push_str(&line);
            if i % 10 == 3 {
                out.flush().unwrap();
                let e = format!("*** error {i}\n");
                err.write_all(e.as_bytes()).unwrap();
                want.push_str(&e);
            }
        }
        drop(err);
        drop(out);
        assert_eq!(both.text(), want);
    }

    #[test]
    fn a_stderr_nobody_reads_never_blocks_the_writer_and_the_loss_is_said() {
        // Before, the error lines of `ehlo serve` were written to stderr directly: a stderr
        // pipe nobody reads blocked the rendering thread, and with it every connection.
        let open = Arc::new((Mutex::new(false), Condvar::new()));
        let (out, said) = (Bytes::default(), Bytes::default());
        let stuck = Stuck {
            open: Arc::clone(&open),
            out: said.clone(),
        };
        let (mut o, mut e) = pair_with(
            "transcript",
            Box::new(out.clone()),
            Box::new(stuck),
            100,
            Duration::from_millis(200),
            Duration::from_millis(200),
        );
        // The writer is stuck on stderr before the flood: a loss is blamed on the stream the
        // writer waits on when it happens, and a busy machine may not have scheduled the
        // writer thread at all before the queue of 100 bytes fills (CI saw "stdout" named).
        e.write_all(b"*** ---\n").unwrap();
        let waited = std::time::Instant::now();
        while o.shared.lock().writing != Some(Dest::Err) {
            assert!(
                waited.elapsed() < Duration::from_secs(10),
                "writer never started"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        let started = std::time::Instant::now();
        for i in 0..1000 {
            o.write_all(format!("=== {i:03}\n").as_bytes()).unwrap();
            o.flush().unwrap();
            e.write_all(format!("*** {i:03}\n").as_bytes()).unwrap();
        }
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        // The end, too, waits a bounded time for a stderr that is never read, the writer
        // thread being stuck on it.
        drop(e);
        let ending = std::time::Instant::now();
        drop(o);
        assert!(
            ending.elapsed() < Duration::from_secs(3),
            "{:?}",
            ending.elapsed()
        );
        // Opened now: what was kept comes out in order, whole lines, and the loss is said
        // naming stderr.
        {
            let (m, cv) = &*open;
            *m.lock().unwrap() = true;
            cv.notify_all();
        }
        let waited = std::time::Instant::now();
        while !said.text().contains("dropped") && waited.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(5));
        }
        let text = said.text();
        assert!(
            text.lines()
                .all(|l| l.len() == 7 && l.starts_with("*** ") || l.contains("dropped")),
            "{text}"
        );
        assert!(
            text.contains("of the transcript were dropped: stderr was"),
            "{text}"
        );
    }
}
