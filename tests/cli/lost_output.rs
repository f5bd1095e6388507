//! Output that cannot be written: stdout on a full disk (`/dev/full`, every write fails with
//! ENOSPC), an `--output-file`, `--log` or `:record` file there. The send, `ehlo serve`, the piped REPL and
//! `ehlo demo` each say so in one line on stderr once the run is over, the exit code standing;
//! a closed pipe (`| head`) stays quiet. And a stdout nobody reads: `ehlo serve` goes on serving,
//! dropping what does not fit its queue and saying so.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{Step, accept_all, after_greet, isolate, read_to_end, scripted, send_args};

const FULL: &str = "could not be written to stdout: No space left on device";

/// Run `ehlo args` with `stdin` typed in and stdout going to `stdout`; its exit code and stderr.
fn run_to(args: &[&str], stdin: &[u8], stdout: Stdio) -> (i32, String) {
    run_cmd_to(
        Command::new(env!("CARGO_BIN_EXE_ehlo")),
        args,
        stdin,
        stdout,
    )
}

/// `ehlo` under a file-size limit of `blocks` blocks of 512 bytes (POSIX `ulimit -f`): a write
/// past it fails with EFBIG (`File too large`), SIGXFSZ being blocked.
fn under_file_limit(blocks: u32) -> Command {
    let mut cmd = Command::new("/bin/sh");
    cmd.args([
        "-c",
        &format!("ulimit -f {blocks} && exec \"$0\" \"$@\""),
        env!("CARGO_BIN_EXE_ehlo"),
    ]);
    cmd
}

/// [`run_to`] for `cmd`, `ehlo` or a shell that runs it.
fn run_cmd_to(mut cmd: Command, args: &[&str], stdin: &[u8], stdout: Stdio) -> (i32, String) {
    isolate(&mut cmd);
    cmd.env("NO_COLOR", "1")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(stdout)
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn ehlo");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let mut err = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("ehlo {args:?} hangs");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (status.code().unwrap_or(-1), reader.join().unwrap())
}

fn full() -> Stdio {
    Stdio::from(std::fs::File::create("/dev/full").unwrap())
}

/// A pipe whose reader is gone: every write fails with EPIPE, as after `| head -1` has read.
fn closed_pipe() -> Stdio {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    Stdio::from(writer)
}

fn owned(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

#[test]
fn a_send_says_its_transcript_was_lost_and_keeps_its_exit_code() {
    for (json, what) in [(false, "transcript"), (true, "JSON Lines")] {
        let server = scripted(after_greet(accept_all()));
        let mut args = send_args(&server.server());
        if json {
            args.push("--json".into());
        }
        let (code, err) = run_to(&owned(&args), b"", full());
        assert_eq!(code, 0, "{err}");
        assert!(server.finish().ends_with("QUIT\r\n"), "the send went on");
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(
            lines.last().copied(),
            Some(format!("*** the {what} {FULL} (os error 28)").as_str()),
            "said once, last: {err}"
        );
        assert_eq!(err.matches("could not be written").count(), 1, "{err}");

        // A refused recipient: its exit code (24) stands.
        let server = scripted(after_greet(vec![
            Step::Expect("MAIL FROM:"),
            Step::Send(b"250 ok\r\n"),
            Step::Expect("RCPT TO:"),
            Step::Send(b"550 5.1.1 unknown\r\n"),
            Step::Expect("QUIT"),
            Step::Send(b"221 bye\r\n"),
        ]));
        let mut args = send_args(&server.server());
        if json {
            args.push("--json".into());
        }
        let (code, err) = run_to(&owned(&args), b"", full());
        assert_eq!(code, 24, "{err}");
        assert!(err.contains(&format!("the {what} {FULL}")), "{err}");
        server.finish();

        // `| head`: quiet.
        let server = scripted(after_greet(accept_all()));
        let mut args = send_args(&server.server());
        if json {
            args.push("--json".into());
        }
        let (code, err) = run_to(&owned(&args), b"", closed_pipe());
        assert_eq!(code, 0, "{err}");
        assert!(!err.contains("could not be written"), "{err}");
        server.finish();
    }
}

/// `--output-file FILE` writes through a file that can fail as stdout can.
#[test]
fn an_output_file_on_a_full_disk_is_named() {
    let server = scripted(after_greet(accept_all()));
    let mut args = send_args(&server.server());
    args.extend(["--output-file".into(), "/dev/full".into()]);
    let (code, err) = run_to(&owned(&args), b"", Stdio::null());
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        err.matches(
            "*** the transcript could not be written to /dev/full: No space left on device"
        )
        .count(),
        1,
        "one line for the file both streams share: {err}"
    );
    server.finish();
}

fn repl_server() -> crate::util::Scripted {
    scripted(vec![
        Step::Send(b"220 scripted.test ESMTP\r\n"),
        Step::Expect("EHLO"),
        Step::Send(b"250 scripted.test\r\n"),
        Step::Expect("QUIT"),
        Step::Send(b"221 bye\r\n"),
    ])
}

#[test]
fn a_piped_repl_says_its_transcript_or_log_was_lost() {
    for (json, what) in [(false, "transcript"), (true, "JSON Lines")] {
        let server = repl_server();
        let addr = server.server();
        let mut args = vec!["repl", addr.as_str()];
        if json {
            args.push("--json");
        }
        let (code, err) = run_to(&args, b"EHLO x\nQUIT\n", full());
        assert_eq!(server.finish(), "EHLO x\r\nQUIT\r\n", "{err}");
        assert_eq!(code, 0, "{err}");
        assert!(err.contains(&format!("*** the {what} {FULL}")), "{err}");

        let server = repl_server();
        let addr = server.server();
        args[1] = addr.as_str();
        let (code, err) = run_to(&args, b"EHLO x\nQUIT\n", closed_pipe());
        assert_eq!(server.finish(), "EHLO x\r\nQUIT\r\n", "{err}");
        assert_eq!(code, 0, "{err}");
        assert!(!err.contains("could not be written"), "{err}");
    }

    // `--log FILE` on a full disk, the transcript itself fine.
    let server = repl_server();
    let addr = server.server();
    let args = ["repl", addr.as_str(), "--log", "/dev/full"];
    let (code, err) = run_to(&args, b"EHLO x\nQUIT\n", Stdio::null());
    assert_eq!(server.finish(), "EHLO x\r\nQUIT\r\n", "{err}");
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("*** the log could not be written to /dev/full: No space left on device"),
        "{err}"
    );
    assert!(!err.contains("to stdout"), "{err}");

    // A recording (`:record! FILE` replaces a file) on a full disk.
    let server = repl_server();
    let addr = server.server();
    let args = ["repl", addr.as_str()];
    let (code, err) = run_to(&args, b":record! /dev/full\nEHLO x\nQUIT\n", Stdio::null());
    assert_eq!(server.finish(), "EHLO x\r\nQUIT\r\n", "{err}");
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        err.lines().last(),
        Some(
            "*** the recording could not be written to /dev/full: No space left on device (os error 28); \
             nothing more is written to it"
        ),
        "{err}"
    );
}

#[test]
fn serve_says_its_transcript_was_lost_when_it_stops() {
    for (json, what) in [(false, "transcript"), (true, "JSON Lines")] {
        // Its `listening on` line is lost too: the port is found free here first (another
        // process may take it in between: then serve exits 2 and another port is tried).
        let mut tries = 0;
        let (code, err) = loop {
            tries += 1;
            let port = crate::util::free_port();
            let addr = format!("127.0.0.1:{port}");
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_ehlo"));
            isolate(&mut cmd);
            cmd.args(["serve", "--listen", &addr, "--max-sessions", "1"]);
            if json {
                cmd.arg("--json");
            }
            let mut child = cmd
                .stdin(Stdio::null())
                .stdout(full())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn ehlo serve");
            let deadline = Instant::now() + Duration::from_secs(15);
            let mut sent = false;
            let status = loop {
                if let Some(st) = child.try_wait().unwrap() {
                    break st;
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("serve never served (sent: {sent}) or never stopped");
                }
                if !sent {
                    sent = crate::util::ehlo(&owned(&send_args(&addr))).code == 0;
                }
                std::thread::sleep(Duration::from_millis(20));
            };
            let err = read_to_end(child.stderr.take().unwrap());
            let code = status.code().unwrap_or(-1);
            if code == 2 && tries < 3 {
                continue;
            }
            assert!(sent, "{err}");
            break (code, err);
        };
        assert_eq!(code, 0, "{err}");
        assert_eq!(
            err.lines().last(),
            Some(format!("*** the {what} {FULL} (os error 28)").as_str()),
            "{err}"
        );
    }
}

#[test]
fn demo_says_its_transcript_was_lost() {
    for (json, what) in [(false, "transcript"), (true, "JSON Lines")] {
        let args: &[&str] = if json { &["demo", "--json"] } else { &["demo"] };
        let (code, err) = run_to(args, b"", full());
        assert_eq!(code, 0, "{err}");
        assert!(err.contains(&format!("*** the {what} {FULL}")), "{err}");
        let (code, err) = run_to(args, b"", closed_pipe());
        assert_eq!(code, 0, "{err}");
        assert!(!err.contains("could not be written"), "{err}");
    }
}

/// A dump's output is its whole result: lost, the run fails (exit 10), JSON Lines or text.
#[test]
fn a_dump_that_cannot_be_written_exits_10() {
    let mail = ["--dump-mail", "--to", "a@example.test", "--body", "x"];
    for json in [false, true] {
        for args in [&mail[..], &["--dump-config"][..]] {
            let mut args = args.to_vec();
            if json {
                args.push("--json");
            }
            let (code, err) = run_to(&args, b"", full());
            assert_eq!(code, 10, "{args:?}: {err}");
            assert!(err.contains("No space left on device"), "{args:?}: {err}");
            assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
            let (code, err) = run_to(&args, b"", closed_pipe());
            assert_eq!(code, 0, "{args:?}: {err}");
            assert!(err.is_empty(), "{args:?}: {err}");
        }
    }
}

/// Run `n` transactions of `body_bytes` each on one connection to `addr`, waiting at most 10 s
/// for each reply: a server held up by its own output fails here.
fn transactions(addr: &str, n: usize, body_bytes: usize) -> Result<(), String> {
    use std::io::BufRead;
    let stream = std::net::TcpStream::connect(addr).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut w = stream.try_clone().unwrap();
    let mut r = std::io::BufReader::new(stream);
    let mut reply = |what: &str, i: usize| -> Result<String, String> {
        loop {
            let mut line = String::new();
            match r.read_line(&mut line) {
                Ok(0) => return Err(format!("closed awaiting {what} of message {i}")),
                Ok(_) if line.as_bytes().get(3) == Some(&b'-') => continue,
                Ok(_) => return Ok(line),
                Err(e) => return Err(format!("no reply to {what} of message {i}: {e}")),
            }
        }
    };
    reply("the banner", 0)?;
    w.write_all(b"EHLO client.test\r\n").unwrap();
    reply("EHLO", 0)?;
    let line = format!("{}\r\n", "x".repeat(76));
    let body = line.repeat(body_bytes.div_ceil(line.len()));
    for i in 1..=n {
        w.write_all(b"MAIL FROM:<a@client.test>\r\n").unwrap();
        reply("MAIL", i)?;
        w.write_all(b"RCPT TO:<b@serve.test>\r\n").unwrap();
        reply("RCPT", i)?;
        w.write_all(b"DATA\r\n").unwrap();
        reply("DATA", i)?;
        w.write_all(format!("Subject: {i}\r\n\r\n{body}.\r\n").as_bytes())
            .unwrap();
        let done = reply("the final dot", i)?;
        if !done.starts_with("250") {
            return Err(format!("message {i}: {done}"));
        }
    }
    w.write_all(b"QUIT\r\n").unwrap();
    reply("QUIT", n + 1)?;
    Ok(())
}

/// `ehlo serve | sleep 1000`: once the pipe was full, the rendering thread (or, with `--quiet`,
/// the runtime itself) waited in write(2) and no client was served any more. Now the output
/// queues up to a bound, the rest is dropped, and the loss is said on stderr once the reader
/// catches up.
#[test]
fn serve_goes_on_serving_while_nobody_reads_its_stdout() {
    // The transcript shows the start of each message (some 15 KB of these): 400 of them are
    // more than the 1 MiB queue and the pipe's 64 KiB together even when the renderer is all
    // of serve's 1024-event channel behind the client as it finishes (some 12 events a
    // message: some 85 messages behind on a loaded machine, where 150 messages dropped nothing
    // and no loss was said). Quiet shows a line a message: 3000 of them are more than the pipe
    // and the old queue of 1024 events (and less than the new queue).
    for (quiet, n, bytes) in [(false, 400, 20_000), (true, 3000, 10)] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ehlo"));
        isolate(&mut cmd);
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--color", "never"]);
        if quiet {
            cmd.arg("--quiet");
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn ehlo serve");
        // Read stdout up to the address, then not at all.
        let out = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            let mut out = std::io::BufReader::new(out);
            let mut line = String::new();
            while out.read_line(&mut line).unwrap_or(0) > 0 {
                if let Some(at) = line.find("listening on ") {
                    let addr = line[at + 13..].split([',', ' ', '\n']).next().unwrap();
                    let _ = tx.send((addr.to_string(), out));
                    return;
                }
                line.clear();
            }
        });
        let (addr, mut unread) = rx
            .recv_timeout(Duration::from_secs(15))
            .expect("serve says where it listens");
        let (etx, erx) = std::sync::mpsc::channel();
        let mut err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(&mut err).lines() {
                let Ok(line) = line else { break };
                if etx.send(line).is_err() {
                    break;
                }
            }
        });

        let served = transactions(&addr, n, bytes);
        // Another client, while the first one's output is still unread.
        let second = transactions(&addr, 1, 10);
        if served.is_err() || second.is_err() {
            let _ = child.kill();
            let _ = child.wait();
        }
        assert_eq!(served, Ok(()), "quiet: {quiet}");
        assert_eq!(second, Ok(()), "quiet: {quiet}");

        // The reader comes back: it gets whole lines, and stderr says what it missed.
        let drain = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = unread.read_to_string(&mut text);
            text
        });
        let mut said = String::new();
        if !quiet {
            let deadline = Instant::now() + Duration::from_secs(15);
            while !said.contains("were dropped") && Instant::now() < deadline {
                if let Ok(line) = erx.recv_timeout(Duration::from_millis(100)) {
                    said.push_str(&line);
                    said.push('\n');
                }
            }
        }
        // A client after the output caught up (the loss said): its session is shown whole.
        // It comes only now: one that came while the queue was still full was shown whole only
        // when the renderer happened to be so far behind that it reached that session after
        // the reader was back (a slower debug build, an idle machine), not under load.
        let third = transactions(&addr, 1, 10);
        if third.is_err() {
            let _ = child.kill();
        }
        assert_eq!(third, Ok(()), "quiet: {quiet}");
        let pid = nix::unistd::Pid::from_raw(child.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
        let status = child.wait().unwrap();
        let text = drain.join().unwrap();
        while let Ok(line) = erx.recv_timeout(Duration::from_secs(2)) {
            said.push_str(&line);
            said.push('\n');
        }
        assert_eq!(status.code(), Some(0), "{said}");
        let stored = text.matches("=== stored message ").count();
        if quiet {
            assert_eq!(stored, n + 2, "nothing dropped: {said}");
            assert_eq!(said, "", "quiet: {quiet}");
        } else {
            assert_eq!(said.lines().count(), 1, "said once: {said}");
            let dropped: u64 = said
                .strip_prefix("*** ")
                .and_then(|s| s.split(' ').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("{said}"));
            assert!(
                said.ends_with(" of the transcript were dropped: stdout was not read for a while, and the server went on serving rather than wait for it\n"),
                "{said}"
            );
            assert!(dropped > 0 && stored < n + 2, "{stored} of {} shown", n + 2);
            // The third client's session came after the loss: it is shown whole, and last.
            assert!(
                text.trim_end()
                    .ends_with("=== Connection closed with remote host."),
                "{}",
                &text[text.len().saturating_sub(500)..]
            );
            assert!(
                text.contains("Subject: 1\n") || text.contains("Subject: 1\r"),
                "the start is kept"
            );
        }
    }
}

/// A piped REPL's `--log` and recording reaching the file-size limit (`ulimit -f`) mid-session:
/// the file is written no more after its first error, and cut back to its last whole line (the
/// write past the limit had stored the part of a line that fitted), so each of the log's lines
/// is a JSON object and the recording ends between lines; the loss is said once, with that.
/// Before, the file ended inside a line, and later writes went on being tried.
#[test]
fn a_log_or_recording_past_the_file_size_limit_stops_at_its_last_whole_line() {
    let noops = 8;
    for how in ["--log", ":record!"] {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("out.file");
        let path = file.to_str().unwrap();
        let mut steps = vec![
            Step::Send(b"220 scripted.test ESMTP\r\n"),
            Step::Expect("EHLO"),
            Step::Send(b"250 scripted.test\r\n"),
        ];
        for _ in 0..noops {
            steps.push(Step::Expect("NOOP"));
            steps.push(Step::Send(b"250 2.0.0 ok\r\n"));
        }
        steps.extend([Step::Expect("QUIT"), Step::Send(b"221 bye\r\n")]);
        let server = scripted(steps);
        let addr = server.server();
        let mut args = vec!["repl", addr.as_str()];
        let mut script = String::new();
        if how == "--log" {
            args.extend(["--log", path]);
        } else {
            script.push_str(&format!(":record! {path}\n"));
        }
        script.push_str("EHLO x\n");
        for i in 0..noops {
            script.push_str(&format!("NOOP {i}{}\n", "y".repeat(150)));
        }
        script.push_str("QUIT\n");
        let (code, err) = run_cmd_to(under_file_limit(2), &args, script.as_bytes(), Stdio::null());
        assert!(server.finish().ends_with("QUIT\r\n"), "{how}: {err}");
        assert_eq!(code, 0, "{how}: {err}");
        let what = if how == "--log" { "log" } else { "recording" };
        let said: Vec<&str> = err
            .lines()
            .filter(|l| l.contains("could not be written"))
            .collect();
        assert_eq!(
            said,
            [format!(
                "*** the {what} could not be written to {path}: File too large (os error 27); \
                 nothing more is written to it"
            )],
            "{how}: {err}"
        );
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            !text.is_empty() && text.len() < 1024,
            "{how}: {}",
            text.len()
        );
        assert!(text.ends_with('\n'), "{how}: ends inside a line: {text:?}");
        if how == "--log" {
            for line in text.lines() {
                serde_json::from_str::<serde_json::Value>(line)
                    .unwrap_or_else(|e| panic!("{line:?}: {e}"));
            }
        }
    }
}

/// `--output-file FILE` of a send reaching the file-size limit: one line names the file and the
/// reason, and the exit code stays the mail's (0: accepted), as on a full disk; the file is cut
/// back to its last whole line, as the log and a recording are (it used to end with the part of
/// a line that fitted under the limit, 512 bytes). The same file for both streams
/// (`--output-file-stdout F --output-file-stderr F`) shares one cut point.
#[test]
fn an_output_file_past_the_file_size_limit_is_named_and_the_exit_code_stands() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out.txt");
    let path = file.to_str().unwrap();
    let server = scripted(after_greet(accept_all()));
    let mut args = send_args(&server.server());
    args.extend(["--output-file".into(), path.into()]);
    let (code, err) = run_cmd_to(under_file_limit(1), &owned(&args), b"", Stdio::null());
    assert!(
        server.finish().ends_with("QUIT\r\n"),
        "the send went on: {err}"
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        err.lines().collect::<Vec<_>>(),
        [format!(
            "*** the transcript could not be written to {path}: File too large (os error 27); \
             nothing more is written to it"
        )],
        "{err}"
    );
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        !text.is_empty() && text.len() < 512,
        "written up to the limit, less the cut line: {}",
        text.len()
    );
    assert!(text.ends_with('\n'), "ends inside a line: {text:?}");
}
