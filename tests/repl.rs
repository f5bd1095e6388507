//! `ehlo repl` and `ehlo replay` end to end: a script piped into the REPL against an in-test
//! scripted SMTP server (exact bytes: CRLF, dot-stuffing, `:raw`), record → replay green and
//! red, and a real pseudo-terminal opened in-process (nothing outside Cargo) and read through a
//! vt100 screen (completion, prompt state, the terminal left in cooked mode after the server
//! drops the connection; Ctrl-C cancels the typed line, Ctrl-D quits).

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::OwnedFd;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::fcntl::{FcntlArg, FdFlag, fcntl};
use nix::pty::{OpenptyResult, Winsize, openpty};
use nix::sys::termios::{LocalFlags, tcgetattr};

const EHLO: &str = env!("CARGO_BIN_EXE_ehlo");

/// How the scripted server answers.
#[derive(Clone, Copy)]
struct Behaviour {
    rcpt: u16,
    /// Offer PIPELINING. Whatever this says, a line that arrived before the previous one was
    /// answered is noted `[early]` in what the server received (a client error without
    /// PIPELINING, the point of it with).
    pipelining: bool,
}

/// A scripted SMTP server on 127.0.0.1:0 serving `conns` connections one after the other; the
/// handle returns every byte received on each. Verbs: EHLO (SIZE, 8BITMIME, DSN), MAIL/RCPT/
/// NOOP/RSET (250, RCPT per `behaviour`), DATA (354, then content up to CRLF.CRLF → 250), QUIT
/// (221 and close), HELP LATER (250, then an unsolicited 421 and close after 400 ms), HELP SLOW (a reply
/// at one byte a second), HELP SLEEP (250 after three seconds), anything else 500.
fn server(behaviour: Behaviour, conns: usize) -> (SocketAddr, JoinHandle<Vec<Vec<u8>>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let h = std::thread::spawn(move || {
        let mut all = Vec::new();
        for _ in 0..conns {
            let Ok((s, _)) = l.accept() else { break };
            all.push(serve_one(s, behaviour));
        }
        all
    });
    (addr, h)
}

fn serve_one(s: TcpStream, b: Behaviour) -> Vec<u8> {
    serve_conn(s, b, false)
}

/// [`serve_one`]; with `garbage_tls`, STARTTLS is offered, answered 220 and then with bytes that
/// are no TLS record (the handshake fails), and the connection closed.
fn serve_conn(s: TcpStream, b: Behaviour, garbage_tls: bool) -> Vec<u8> {
    serve_conn_paced(s, b, garbage_tls, Duration::ZERO)
}

/// [`serve_conn`], DATA's 354 sent `data_pause` after the DATA line.
fn serve_conn_paced(
    s: TcpStream,
    b: Behaviour,
    garbage_tls: bool,
    data_pause: Duration,
) -> Vec<u8> {
    // A bound for a client that hangs, not for a slow one: a debug build reading a 1 MiB
    // line on a loaded machine (one core shared by the tests' threads) took over 20 s.
    s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    let mut w = s.try_clone().unwrap();
    let mut r = BufReader::new(s);
    let mut got = Vec::new();
    let _ = w.write_all(b"220 scripted.test ESMTP\r\n");
    loop {
        let mut line = Vec::new();
        match r.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        got.extend_from_slice(&line);
        // A BDAT line comes with its chunk (RFC 3030 §2): that is no early line.
        if line.ends_with(b"\r\n")
            && !r.buffer().is_empty()
            && !line.to_ascii_uppercase().starts_with(b"BDAT")
        {
            got.extend_from_slice(b"[early]");
        }
        let text = String::from_utf8_lossy(&line)
            .trim_end()
            .to_ascii_uppercase();
        // `HELP WORD` asks for the scripted behaviour WORD (FLOOD, SLOW, SLEEP, LATER): the REPL
        // sends no line whose first word is no SMTP verb.
        let verb = text
            .strip_prefix("HELP ")
            .unwrap_or(&text)
            .split(' ')
            .next()
            .unwrap_or("")
            .to_string();
        let reply: &[u8] = match verb.as_str() {
            // It offers STARTTLS, as a server that answers it with 220 would.
            "EHLO" if garbage_tls => b"250-scripted.test\r\n250-STARTTLS\r\n250 SIZE 1000000\r\n",
            "EHLO" if b.pipelining => b"250-scripted.test\r\n250-PIPELINING\r\n250-SIZE 1000000\r\n250-8BITMIME\r\n250-AUTH LOGIN PLAIN\r\n250 DSN\r\n",
            "EHLO" => b"250-scripted.test\r\n250-SIZE 1000000\r\n250-8BITMIME\r\n250-AUTH LOGIN PLAIN\r\n250 DSN\r\n",
            "MAIL" | "NOOP" | "RSET" => b"250 2.0.0 ok\r\n",
            "RCPT" if b.rcpt == 250 => b"250 2.1.5 ok\r\n",
            "RCPT" => b"550 5.1.1 no such user\r\n",
            "DATA" => {
                std::thread::sleep(data_pause);
                let _ = w.write_all(b"354 go ahead\r\n");
                loop {
                    let mut l = Vec::new();
                    match r.read_until(b'\n', &mut l) {
                        Ok(0) | Err(_) => return got,
                        Ok(_) => {}
                    }
                    got.extend_from_slice(&l);
                    if l == b".\r\n" {
                        break;
                    }
                }
                b"250 2.0.0 queued\r\n"
            }
            "QUIT" => {
                let _ = w.write_all(b"221 2.0.0 bye\r\n");
                break;
            }
            // RFC 3030 §2: the chunk's octets follow the line, then one reply.
            "BDAT" => {
                let size: usize = text
                    .split_whitespace()
                    .nth(1)
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0);
                let mut chunk = vec![0u8; size];
                if r.read_exact(&mut chunk).is_err() {
                    return got;
                }
                got.extend_from_slice(&chunk);
                let _ = w.write_all(format!("250 2.0.0 {size} octets\r\n").as_bytes());
                b""
            }
            "STARTTLS" if garbage_tls => {
                let _ = w.write_all(b"220 2.0.0 ready\r\n\0\0\0\0\0HELLO this is not TLS\r\n");
                break;
            }
            "FLOOD" => {
                // A reply that never ends (`250-x` forever), until the client goes away.
                let chunk = b"250-x\r\n".repeat(4096);
                let start = Instant::now();
                while start.elapsed() < Duration::from_secs(20) && w.write_all(&chunk).is_ok() {}
                break;
            }
            // SASL as a real server answers it (RFC 4954): an initial response → 235; AUTH
            // LOGIN without one → two 334 challenges, each answered by a typed line.
            "AUTH" => {
                let words: Vec<&str> = text.split_whitespace().collect();
                if words.len() == 2 && words[1] == "LOGIN" {
                    for challenge in ["334 VXNlcm5hbWU6\r\n", "334 UGFzc3dvcmQ6\r\n"] {
                        let _ = w.write_all(challenge.as_bytes());
                        let mut l = Vec::new();
                        match r.read_until(b'\n', &mut l) {
                            Ok(0) | Err(_) => return got,
                            Ok(_) => {}
                        }
                        got.extend_from_slice(&l);
                    }
                }
                b"235 2.7.0 authenticated\r\n"
            }
            // A slow server: this reply trickles at one byte a second.
            "SLOW" => {
                for b in b"250 slow\r\n" {
                    std::thread::sleep(Duration::from_secs(1));
                    let _ = w.write_all(&[*b]);
                }
                b""
            }
            // A server that thinks for three seconds before answering.
            "SLEEP" => {
                std::thread::sleep(Duration::from_secs(3));
                b"250 2.0.0 awake\r\n"
            }
            "LATER" => {
                let _ = w.write_all(b"250 ok, closing soon\r\n");
                std::thread::sleep(Duration::from_millis(400));
                let _ = w.write_all(b"421 4.4.2 scripted.test closing\r\n");
                break;
            }
            _ => b"500 5.5.2 what\r\n",
        };
        let _ = w.write_all(reply);
    }
    got
}

struct Run {
    code: i32,
    out: String,
}

fn ehlo(args: &[&str], stdin: &[u8], env: &[(&str, &str)]) -> Run {
    let home = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(EHLO);
    cmd.args(args)
        .env("NO_COLOR", "1")
        .env("HOME", home.path())
        .env("XDG_DATA_HOME", home.path())
        .env_remove("EHLO_AUTH_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    // Written from a thread: a long script is still being written while the output is read.
    let mut input = child.stdin.take().unwrap();
    let stdin = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&stdin);
    });
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t1 = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let t2 = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        // A hang, not slowness: 10 000 piped DATA lines took over 30 s on one core shared
        // with 32 test threads (5 s alone).
        if start.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("ehlo {args:?} hangs");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = writer.join();
    Run {
        code: status.code().unwrap_or(-1),
        out: format!("{}{}", t1.join().unwrap(), t2.join().unwrap()),
    }
}

const SCRIPT: &str = "EHLO x.test\nMAIL FROM:<a@b.test>\nRCPT TO:<c@d.test>\n:data\nSubject: t\n\n.leading dot\n..two\n.\n:raw \"\\n.\\n\"\n:raw \"\\q\"\nNOOP\nQUIT\n";

#[test]
fn piped_script_sends_exact_bytes() {
    let (addr, h) = plain_server();
    let run = ehlo(&["repl", &addr.to_string()], SCRIPT.as_bytes(), &[]);
    assert_eq!(run.code, 0, "{}", run.out);
    let got = h.join().unwrap().remove(0);
    // Every line with CRLF, the typed body dot-stuffed, the raw bytes exact, nothing from the
    // bad escape.
    assert_eq!(
        String::from_utf8_lossy(&got),
        "EHLO x.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nDATA\r\nSubject: t\r\n\r\n..leading dot\r\n...two\r\n.\r\n\n.\nNOOP\r\nQUIT\r\n"
    );
    assert!(run.out.contains("unknown escape"), "{}", run.out);
}

#[test]
fn a_reply_that_never_ends_is_cut_and_the_repl_goes_on() {
    // The REPL used to read `250-x` forever at full CPU, deaf to its timeout, QUIT and
    // end of input. The reply is cut at the limits, the connection dropped, input still read.
    let (addr, h) = plain_server();
    let start = Instant::now();
    let run = ehlo(
        &["repl", &addr.to_string(), "--timeout", "10"],
        b"HELP FLOOD\nQUIT\n",
        &[],
    );
    // Piped, the run ends with the code --strict gives the cut (it exited 0, as if the
    // server were a good one), once the input is read: 36, a reply to a command in no phase
    // (HELP) that could not be taken; not 6, as it was while the cut counted as the server's
    // close (it was ehlo that stopped reading).
    assert_eq!(run.code, 36, "{}", run.out);
    // Said by the reply (the `!!!` line), and once more only as the run's ending.
    let notices: Vec<&str> = run
        .out
        .lines()
        .filter(|l| l.contains("reply too large"))
        .collect();
    assert_eq!(notices.len(), 2, "{notices:?}");
    assert!(
        notices[0].starts_with("!!! deviation: reply too large: 7 007 bytes in 1 001 lines"),
        "{notices:?}"
    );
    assert!(
        notices[1].starts_with("*** command: reply too large: cut after 7 007 bytes")
            && notices[1].ends_with("the run could not finish (exit 36)"),
        "{notices:?}"
    );
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
    h.join().unwrap();
}

#[test]
fn unknown_meta_command_gets_a_hint_and_sends_nothing() {
    let (addr, h) = plain_server();
    let run = ehlo(&["repl", &addr.to_string()], b":stattls\nQUIT\n", &[]);
    assert_eq!(run.code, 0);
    assert!(run.out.contains(":starttls"), "{}", run.out);
    assert_eq!(h.join().unwrap()[0], b"QUIT\r\n");
}

#[test]
fn record_then_replay_green_and_red() {
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("session.ehlo");
    let rec_s = rec.to_str().unwrap();
    let (addr, h) = plain_server();
    let script = "EHLO x.test\nMAIL FROM:<a@b.test>\nRCPT TO:<c@d.test>\n:data\nSubject: t\n\n.dot\n.\nQUIT\n";
    let run = ehlo(
        &["repl", &addr.to_string(), "--record", rec_s],
        script.as_bytes(),
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.out);
    h.join().unwrap();
    let text = std::fs::read_to_string(&rec).unwrap();
    assert!(text.contains("< 220\n> EHLO x.test\n< 250\n"), "{text}");
    assert!(
        text.contains("> :data\n| Subject: t\n| \n| .dot\n< 354\n< 250\n"),
        "{text}"
    );

    // Same server behaviour: green, and the same bytes go out.
    let (addr, h) = plain_server();
    let run = ehlo(&["replay", rec_s, "--server", &addr.to_string()], b"", &[]);
    assert_eq!(run.code, 0, "{}", run.out);
    let got = h.join().unwrap().remove(0);
    assert!(String::from_utf8_lossy(&got).contains("\r\n..dot\r\n.\r\n"));

    // The server now refuses the recipient: red, with the RCPT exit code and both codes shown.
    let (addr, _h) = server(
        Behaviour {
            rcpt: 550,
            pipelining: false,
        },
        1,
    );
    let run = ehlo(&["replay", rec_s, "--server", &addr.to_string()], b"", &[]);
    assert_eq!(run.code, 24, "{}", run.out);
    assert!(run.out.contains("expected 250, got 550"), "{}", run.out);
}

/// A piped REPL on a scripted server (RCPT 250, no PIPELINING) with `--allow-plaintext-auth`,
/// `--record REC` and `--log LOG`, fed `script` with `env` set.
fn piped_recorded_auth_repl(
    rec: &std::path::Path,
    log: &std::path::Path,
    script: &[u8],
    env: &[(&str, &str)],
) -> (Run, JoinHandle<Vec<Vec<u8>>>) {
    let (addr, h) = plain_server();
    let run = ehlo(
        &[
            "repl",
            &addr.to_string(),
            "--allow-plaintext-auth",
            "--record",
            rec.to_str().unwrap(),
            "--log",
            log.to_str().unwrap(),
        ],
        script,
        env,
    );
    (run, h)
}

#[test]
fn auth_secret_from_the_environment_is_never_shown_or_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("auth.ehlo");
    let log = dir.path().join("log.jsonl");
    let (run, h) = piped_recorded_auth_repl(
        &rec,
        &log,
        b"EHLO x.test\n:auth PLAIN tim\nQUIT\n",
        &[("EHLO_AUTH_PASSWORD", "hunter2hunter2")],
    );
    assert_eq!(run.code, 0, "{}", run.out);
    // The secret went to the server (the scripted server answers 500 to AUTH; that is fine).
    let got = String::from_utf8(h.join().unwrap().remove(0)).unwrap();
    assert!(
        got.starts_with("EHLO x.test\r\nAUTH PLAIN AHRpbQBodW50ZXIy"),
        "{got}"
    );
    for text in [
        run.out.clone(),
        std::fs::read_to_string(&rec).unwrap(),
        std::fs::read_to_string(&log).unwrap(),
    ] {
        assert!(!text.contains("hunter2"), "{text}");
        assert!(!text.contains("AHRpbQBodW50ZXIy"), "{text}");
    }
    assert!(
        std::fs::read_to_string(&rec)
            .unwrap()
            .contains("> :auth PLAIN tim\n")
    );
}

/// A piped `:auth` with both `--auth-password-file` and `$EHLO_AUTH_PASSWORD` set takes the
/// file's password (the command line before the environment, as the send and `probe`).
#[test]
fn repl_auth_takes_the_password_file_before_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "from-the-file\n").unwrap();
    let (addr, h) = plain_server();
    let run = ehlo(
        &[
            "repl",
            &addr.to_string(),
            "--allow-plaintext-auth",
            "--auth-password-file",
            pw.to_str().unwrap(),
        ],
        b"EHLO x.test\n:auth PLAIN tim\nQUIT\n",
        &[("EHLO_AUTH_PASSWORD", "from-the-environment")],
    );
    assert_eq!(run.code, 0, "{}", run.out);
    let got = String::from_utf8(h.join().unwrap().remove(0)).unwrap();
    // \0tim\0from-the-file
    assert!(
        got.starts_with("EHLO x.test\r\nAUTH PLAIN AHRpbQBmcm9tLXRoZS1maWxl\r\n"),
        "{got}"
    );
}

/// `:auth MECH user:password` is curl's `-u user:password`: split at the first ':', the rest
/// the password (it was all taken for the user name, and so shown, logged and recorded). The
/// password typed there wins over `$EHLO_AUTH_PASSWORD`, never reaches the screen, the log or
/// the recording (`:auth MECH user`), and `:status` names the user alone. `:auth MECH :pw`
/// (no user) is refused without repeating the line.
#[test]
fn auth_user_colon_password_is_split_as_curl_does_and_the_password_kept_out() {
    use base64::Engine as _;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("auth.ehlo");
    let log = dir.path().join("log.jsonl");
    let (run, h) = piped_recorded_auth_repl(
        &rec,
        &log,
        b"EHLO x.test\n:auth PLAIN alice:Typed:Pw-31\n:auth LOGIN bob:Login-Pw-32\n:status\n\
          :auth PLAIN :Lone-Pw-33\nQUIT\n",
        &[("EHLO_AUTH_PASSWORD", "from-the-environment")],
    );
    assert_eq!(run.code, 0, "{}", run.out);
    let got = String::from_utf8(h.join().unwrap().remove(0)).unwrap();
    let plain = b64("\0alice\0Typed:Pw-31");
    let want = format!(
        "EHLO x.test\r\nAUTH PLAIN {plain}\r\nAUTH LOGIN\r\n{}\r\n{}\r\nQUIT\r\n",
        b64("bob"),
        b64("Login-Pw-32")
    );
    assert_eq!(got, want);
    let rec = std::fs::read_to_string(&rec).unwrap();
    assert!(rec.contains("> :auth PLAIN alice\n"), "{rec}");
    assert!(rec.contains("> :auth LOGIN bob\n"), "{rec}");
    let log = std::fs::read_to_string(&log).unwrap();
    for text in [&run.out, &rec, &log] {
        for secret in [
            "Typed:Pw-31",
            "Pw-31",
            "Login-Pw-32",
            "Lone-Pw-33",
            &plain,
            &b64("Login-Pw-32"),
        ] {
            assert!(!text.contains(secret), "{secret:?} in:\n{text}");
        }
    }
    assert!(
        run.out.contains("bob with LOGIN: authenticated"),
        "{}",
        run.out
    );
    assert!(
        run.out.contains("needs the user before the ':'"),
        "{}",
        run.out
    );
}

// ----- a real terminal: an in-process pseudo-terminal read through a vt100 screen ----------------

/// `ehlo` running on the slave side of a 160x50 pseudo-terminal (stdin, stdout and stderr all the
/// slave, like a shell would start it; no controlling terminal is needed by the editor). A reader
/// thread feeds everything written to the terminal into a vt100 screen, which the tests read like
/// a terminal emulator would show it, and answers a cursor-position query (`ESC [ 6 n`)
/// like a terminal does. Keys are bytes written to the master side.
struct Pty {
    child: Child,
    master: File,
    /// Kept open so the terminal's modes can be read after `ehlo` has left.
    slave: OwnedFd,
    screen: Arc<Mutex<vt100::Parser>>,
    /// Every byte written to the terminal, as written (what the screen shows hides what was
    /// drawn and erased again).
    written: Arc<Mutex<Vec<u8>>>,
    /// Drain marks asked for and seen by the reader thread ([`Pty::drain`]).
    drains: Arc<(AtomicU64, AtomicU64)>,
}

const ROWS: u16 = 50;
const COLS: u16 = 160;

impl Pty {
    fn start(home: &std::path::Path, args: &[&str]) -> Pty {
        Pty::start_with(home, args, COLS, false)
    }
    /// `ehlo repl ADDR EXTRA…` at its first prompt (`ehlo[plain]>`).
    fn repl(home: &std::path::Path, addr: impl std::fmt::Display, extra: &[&str]) -> Pty {
        let addr = addr.to_string();
        let mut args = vec!["repl", addr.as_str()];
        args.extend_from_slice(extra);
        let t = Pty::start(home, &args);
        t.wait("the first prompt", |s| last_prompt(s) == "ehlo[plain]>");
        t
    }
    /// `cols` wide; `own_group`: `ehlo` leads a process group of its own, as a shell starts a
    /// job (so a stop signal it raises stops it alone, and the group is not orphaned).
    fn start_with(home: &std::path::Path, args: &[&str], cols: u16, own_group: bool) -> Pty {
        Pty::start_env(home, args, cols, own_group, &[])
    }
    /// [`Pty::start_with`] with more environment variables.
    fn start_env(
        home: &std::path::Path,
        args: &[&str],
        cols: u16,
        own_group: bool,
        env: &[(&str, &str)],
    ) -> Pty {
        Pty::spawn(home, args, cols, own_group, env, true, None)
    }
    /// [`Pty::start`] without `NO_COLOR`: the transcript's colours reach the screen.
    fn start_coloured(home: &std::path::Path, args: &[&str]) -> Pty {
        Pty::spawn(home, args, COLS, false, &[], false, None)
    }
    /// [`Pty::start`] with stdout going to `out` (a pipe or a file), stdin and stderr the
    /// terminal: `ehlo repl … | tee log` typed at a terminal.
    fn start_stdout_to(home: &std::path::Path, args: &[&str], out: File) -> Pty {
        Pty::spawn(home, args, COLS, false, &[], true, Some(out))
    }
    /// [`Pty::start_env`] through `/bin/sh -c 'ulimit -S -c 4 && exec ehlo …'`: `ehlo` starts
    /// with a soft core-file limit of 2048 bytes (4 blocks of 512, POSIX `ulimit`), as after a
    /// user's `ulimit -c`; the shell execs it only once the limit is set, keeping the pid.
    fn start_under_core_limit(home: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Pty {
        let mut cmd = Command::new("/bin/sh");
        cmd.args(["-c", "ulimit -S -c 4 && exec \"$0\" \"$@\"", EHLO]);
        Pty::spawn_cmd(cmd, home, args, COLS, false, env, true, None)
    }
    /// [`Pty::start`] through `/bin/sh -c 'ulimit -f BLOCKS && exec ehlo …'`: no file `ehlo`
    /// writes may grow past `blocks` × 512 bytes (POSIX `ulimit`), as after a user's `ulimit -f`;
    /// a write past it raises SIGXFSZ, whose default action ends the process.
    fn start_under_file_limit(home: &std::path::Path, args: &[&str], blocks: u32) -> Pty {
        let mut cmd = Command::new("/bin/sh");
        cmd.args([
            "-c",
            &format!("ulimit -f {blocks} && exec \"$0\" \"$@\""),
            EHLO,
        ]);
        Pty::spawn_cmd(cmd, home, args, COLS, false, &[], true, None)
    }
    fn spawn(
        home: &std::path::Path,
        args: &[&str],
        cols: u16,
        own_group: bool,
        env: &[(&str, &str)],
        no_color: bool,
        stdout: Option<File>,
    ) -> Pty {
        let cmd = Command::new(EHLO);
        Pty::spawn_cmd(cmd, home, args, cols, own_group, env, no_color, stdout)
    }
    #[allow(clippy::too_many_arguments)]
    fn spawn_cmd(
        mut cmd: Command,
        home: &std::path::Path,
        args: &[&str],
        cols: u16,
        own_group: bool,
        env: &[(&str, &str)],
        no_color: bool,
        stdout: Option<File>,
    ) -> Pty {
        let size = Winsize {
            ws_row: ROWS,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        let OpenptyResult { master, slave } = openpty(&size, None).expect("openpty");
        // Neither end may leak into processes other tests spawn meanwhile.
        for fd in [&master, &slave] {
            fcntl(fd, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC)).unwrap();
        }
        let stdio = || Stdio::from(slave.try_clone().unwrap());
        cmd.args(args)
            .env_clear()
            .env("HOME", home)
            .env("XDG_DATA_HOME", home)
            .env("TERM", "xterm")
            // A user's terminal: UTF-8 (with no locale at all ehlo prints ASCII).
            .env("LANG", "C.UTF-8")
            .stdin(stdio())
            .stdout(stdout.map_or_else(stdio, Stdio::from))
            .stderr(stdio());
        if no_color {
            cmd.env("NO_COLOR", "1");
        }
        if let Some(path) = std::env::var_os("PATH") {
            cmd.env("PATH", path);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        if own_group {
            std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        }
        let child = cmd.spawn().expect("spawn ehlo on the pty");
        drop(cmd);
        let master = File::from(master);
        let screen = Arc::new(Mutex::new(vt100::Parser::new(
            ROWS.try_into().unwrap(),
            cols.try_into().unwrap(),
            1000,
        )));
        let written = Arc::new(Mutex::new(Vec::new()));
        let drains = Arc::new((AtomicU64::new(0), AtomicU64::new(0)));
        let marks = drains.clone();
        let (mut rd, mut answer, sc, log) = (
            master.try_clone().unwrap(),
            master.try_clone().unwrap(),
            screen.clone(),
            written.clone(),
        );
        // Ends when every slave descriptor is closed (read fails with EIO) or the test exits.
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            let mut tail: Vec<u8> = Vec::new();
            while let Ok(n) = rd.read(&mut buf) {
                if n == 0 {
                    break;
                }
                // A drain mark (a NUL the test wrote after ehlo left) is no output of ehlo's.
                let mut chunk = buf[..n].to_vec();
                let mut marked = 0;
                while marks.0.load(Ordering::SeqCst) > marks.1.load(Ordering::SeqCst) + marked
                    && let Some(i) = chunk.iter().rposition(|&b| b == 0)
                {
                    chunk.remove(i);
                    marked += 1;
                }
                log.lock().unwrap().extend_from_slice(&chunk);
                let mut p = sc.lock().unwrap();
                p.process(&chunk);
                // The query may straddle two reads: look at the last few bytes too.
                tail.extend_from_slice(&chunk);
                let queries = tail.windows(4).filter(|w| w == b"\x1b[6n").count();
                if queries > 0 {
                    let (row, col) = p.screen().cursor_position();
                    for _ in 0..queries {
                        let _ = write!(answer, "\x1b[{};{}R", row + 1, col + 1);
                    }
                    tail.clear();
                }
                let keep = tail.len().saturating_sub(3);
                tail.drain(..keep);
                drop(p);
                marks.1.fetch_add(marked, Ordering::SeqCst);
            }
        });
        Pty {
            child,
            master,
            slave,
            screen,
            written,
            drains,
        }
    }
    /// Wait until the reader thread has put everything written to the terminal so far on the
    /// screen: a NUL written to the terminal now comes after all of it, and the reader says
    /// when it has seen it (and leaves it out). Once `ehlo` has left, its last lines may still
    /// be on their way through the pseudo-terminal: the screen read at once missed them.
    fn drain(&self) {
        let asked = self.drains.0.fetch_add(1, Ordering::SeqCst) + 1;
        nix::unistd::write(&self.slave, b"\0").expect("write the drain mark");
        let start = Instant::now();
        while self.drains.1.load(Ordering::SeqCst) < asked {
            if start.elapsed() > Duration::from_secs(20) {
                panic!(
                    "the terminal's output was never read; screen:\n{}",
                    self.screen()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    /// Types `text` (bytes as a terminal sends them: `\r` for Enter, `\t` for Tab, 0x03 for
    /// Ctrl-C, 0x04 for Ctrl-D).
    fn keys(&mut self, text: impl AsRef<[u8]>) {
        self.master.write_all(text.as_ref()).unwrap();
        self.master.flush().unwrap();
    }
    /// What the terminal shows, one line per row, trailing blanks trimmed.
    fn screen(&self) -> String {
        self.screen.lock().unwrap().screen().contents()
    }
    /// Every byte written to the terminal so far.
    fn written(&self) -> Vec<u8> {
        self.written.lock().unwrap().clone()
    }
    /// Wait until the bytes written to the terminal hold `bytes` (what the screen cannot show:
    /// bytes that are not UTF-8, cursor moves).
    fn wait_written(&self, what: &str, bytes: &[u8]) {
        let start = Instant::now();
        while !self.written().windows(bytes.len()).any(|w| w == bytes) {
            if start.elapsed() > Duration::from_secs(20) {
                panic!(
                    "timed out waiting for {what}; written:\n{:?}",
                    String::from_utf8_lossy(&self.written())
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    /// Wait until the screen satisfies `f`.
    fn wait(&self, what: &str, f: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if f(&s) {
                return s;
            }
            if start.elapsed() > Duration::from_secs(20) {
                panic!("timed out waiting for {what}; screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    /// Wait until `ehlo` has read and handled every key typed so far, for keys that draw
    /// nothing to wait for (a secret's mask already shown, lines typed ahead of a reply): the
    /// terminal holds no unread input and the editor's reader thread is asleep in poll(2)
    /// again, which it enters only once it has fed what it read to the editor. Polling the
    /// slave side first runs the kernel's pending hand-over of typed bytes to the line
    /// discipline (n_tty's poll flushes the port's buffer), so bytes still on their way count
    /// as unread. Linux's /proc names where each thread sleeps (`wchan`); the async runtime's
    /// threads sleep in epoll, the reader alone in poll.
    fn wait_keys_read(&self) {
        use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
        use std::os::fd::AsFd;
        let start = Instant::now();
        loop {
            let mut fds = [PollFd::new(self.slave.as_fd(), PollFlags::POLLIN)];
            let unread = poll(&mut fds, PollTimeout::ZERO).unwrap_or(1) > 0;
            if !unread && self.reader_in_poll().is_some() {
                return;
            }
            if start.elapsed() > Duration::from_secs(20) {
                panic!("ehlo never read the keys typed; screen:\n{}", self.screen());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    /// The editor's reader thread's /proc directory while it sleeps in poll(2) ([`Pty::wait_keys_read`]).
    fn reader_in_poll(&self) -> Option<std::path::PathBuf> {
        let task = format!("/proc/{}/task", self.child.id());
        std::fs::read_dir(task)
            .ok()?
            .flatten()
            .map(|t| t.path())
            .find(|t| {
                let wchan = std::fs::read_to_string(t.join("wchan")).unwrap_or_default();
                wchan.contains("poll") && !wchan.contains("epoll") && !wchan.contains("ep_poll")
            })
    }
    /// Wait until the editor's reader has found nothing to read `n` times (each poll(2) that
    /// times out, 50 ms, is an idle moment: a lone ESC is the Escape key after one, outside a
    /// paste). Counted by the thread's voluntary context switches, one per sleep.
    fn wait_idle_polls(&self, n: u64) {
        let switches = |task: &std::path::Path| {
            let status = std::fs::read_to_string(task.join("status")).unwrap_or_default();
            status
                .lines()
                .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        let start = Instant::now();
        let mut first = None;
        loop {
            if let Some(task) = self.reader_in_poll()
                && let Some(now) = switches(&task)
            {
                let (_, before) = *first.get_or_insert((task.clone(), now));
                if first.as_ref().is_some_and(|(t, _)| *t == task) && now >= before + n {
                    return;
                }
            }
            if start.elapsed() > Duration::from_secs(20) {
                panic!(
                    "the editor never idled {n} times; screen:\n{}",
                    self.screen()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    /// Wait until the terminal's line discipline is (`cooked`) or is not (raw) canonical with
    /// echo; returns whether it got there in time.
    fn wait_mode(&self, cooked: bool) -> bool {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            let t = tcgetattr(&self.slave).unwrap();
            let icanon = t.local_flags.contains(LocalFlags::ICANON);
            let echo = t.local_flags.contains(LocalFlags::ECHO);
            if (icanon && echo) == cooked && (icanon || echo) == cooked {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }
    /// Send `sig` (a name without `SIG`: `HUP`, `WINCH`…) to `ehlo` with kill(1).
    fn signal(&self, sig: &str) {
        let st = Command::new("kill")
            .args([&format!("-{sig}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(st.success(), "kill -{sig}");
    }
    /// Type `EHLO x.test` and wait for the reply, known by a line holding `shows`, and the next
    /// `ehlo[plain]>` prompt.
    fn ehlo(&mut self, shows: &str) {
        self.keys("EHLO x.test\r");
        self.wait("the EHLO reply and a prompt", |s| {
            s.contains(shows) && last_prompt(s) == "ehlo[plain]>"
        });
    }
    /// Send NOOP and wait for its reply and the `ehlo[plain]>` prompt after it.
    fn noop(&mut self) {
        self.keys("NOOP\r");
        self.wait("the NOOP reply", |s| {
            s.contains("2.0.0 ok") && last_prompt(s) == "ehlo[plain]>"
        });
    }
    /// Type `:quit` and expect the REPL to end with exit code 0.
    fn quit(&mut self) {
        self.keys(":quit\r");
        assert_eq!(self.exit_code(), 0, "{}", self.screen());
    }
    /// Wait for `ehlo` to leave; its exit code.
    fn exit_code(&mut self) -> i32 {
        let start = Instant::now();
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                self.drain();
                return st.code().unwrap_or(-1);
            }
            if start.elapsed() > Duration::from_secs(20) {
                panic!("ehlo did not leave; screen:\n{}", self.screen());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    /// After `ehlo` left: the terminal is back in cooked mode (ICANON and ECHO set).
    fn assert_cooked(&self) {
        let t = tcgetattr(&self.slave).unwrap();
        assert!(
            t.local_flags.contains(LocalFlags::ICANON) && t.local_flags.contains(LocalFlags::ECHO),
            "terminal left raw: {:?}",
            t.local_flags
        );
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() % 1_000_000_000)
        .unwrap_or(0)
}

/// The last line holding a prompt.
fn last_prompt(screen: &str) -> String {
    screen
        .lines()
        .rev()
        .find(|l| l.starts_with("ehlo["))
        .unwrap_or("")
        .trim_end()
        .to_string()
}

#[test]
fn terminal_completion_prompt_state_and_cooked_mode_after_a_drop() {
    let home = tempfile::tempdir().unwrap();
    let (mut t, h) = plain_terminal(home.path(), &[]);
    // At the prompt the line editor has the terminal raw: the cooked check below means something.
    assert!(
        t.wait_mode(false),
        "the terminal never went raw at the prompt"
    );
    t.ehlo("8BITMIME");
    // Completion of a verb: MA<TAB> → MAIL FROM:
    t.keys("MA\t");
    t.wait("MAIL FROM: completed", |s| {
        last_prompt(s) == "ehlo[plain]> MAIL FROM:"
    });
    t.keys("<a@b.test> BO\t");
    // Two BODY= candidates share "BODY=": the common prefix is completed.
    t.wait("BODY= completed", |s| {
        last_prompt(s).starts_with("ehlo[plain]> MAIL FROM:<a@b.test> BODY=")
    });
    t.keys("8BITMIME\r");
    t.wait("the transaction prompt", |s| {
        last_prompt(s) == "ehlo[plain|mail]>"
    });
    // The server answers, then drops the connection a moment later while the prompt is active.
    t.keys("HELP LATER\r");
    let s = t.wait("the drop notice", |s| {
        s.contains("server closed the connection — :reconnect or :quit")
    });
    assert!(s.contains("421"), "{s}");
    // The 421 announced the close: it is no surprise.
    assert!(!s.contains("unexpectedly"), "{s}");
    // The prompt on screen was drawn before the drop; the next one shows the state.
    t.keys("\r");
    t.wait("the closed prompt", |s| last_prompt(s) == "ehlo[closed]>");
    t.quit();
    t.assert_cooked();
    let got = h.join().unwrap().remove(0);
    assert_eq!(
        String::from_utf8_lossy(&got),
        "EHLO x.test\r\nMAIL FROM:<a@b.test> BODY=8BITMIME\r\nHELP LATER\r\n"
    );
}

/// A reply that comes while the prompt waits for input (LATER: 250, then an unasked 421 and a
/// close 400 ms later) is recorded as a `~` line after its step; replay waits for it and checks
/// it (green as recorded, red when another code is expected) and, when it does not come,
/// says so and does not check it. It used to be missing from the recording.
#[test]
fn terminal_unasked_replies_are_recorded_and_replayed() {
    let home = tempfile::tempdir().unwrap();
    let rec = home.path().join("late.ehlo");
    let (addr, h) = plain_server();
    let mut t = Pty::repl(home.path(), addr, &["--record", rec.to_str().unwrap()]);
    t.ehlo("8BITMIME");
    t.keys("HELP LATER\r");
    t.wait("the drop notice", |s| {
        s.contains("server closed the connection — :reconnect or :quit")
    });
    t.quit();
    h.join().unwrap();
    let text = std::fs::read_to_string(&rec).unwrap();
    assert!(text.contains("> HELP LATER\n< 250\n~ 421\n"), "{text}");

    let replay = |script: &str, extra: &[&str]| {
        let file = home.path().join("edited.ehlo");
        std::fs::write(&file, script).unwrap();
        let (addr, _h) = plain_server();
        let addr = addr.to_string();
        let mut args = vec!["replay", file.to_str().unwrap(), "--server", addr.as_str()];
        args.extend_from_slice(extra);
        ehlo(&args, b"", &[])
    };
    let run = replay(&text, &[]);
    assert_eq!(run.code, 0, "{}", run.out);
    assert!(run.out.contains("every reply as recorded"), "{}", run.out);
    // The count's noun agrees with it ("step(s)" before).
    let done = run
        .out
        .lines()
        .find(|l| l.contains("every reply as recorded"))
        .unwrap();
    let n: usize = done["replay: ".len()..]
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let noun = if n == 1 { "step," } else { "steps," };
    assert!(
        done.starts_with(&format!("replay: {n} {noun} every")),
        "{done}"
    );
    assert!(!run.out.contains("not checked"), "{}", run.out);
    // Another code expected: checked, a mismatch.
    let run = replay(&text.replace("~ 421", "~ 221"), &[]);
    assert_ne!(run.code, 0, "{}", run.out);
    assert!(
        run.out.contains("expected 250, 221, got 250, 421"),
        "{}",
        run.out
    );
    // Expected after a command that draws none: not there within the timeout, not checked.
    let run = replay(
        &text.replace("> HELP LATER\n< 250\n~ 421", "> NOOP\n< 250\n~ 421"),
        &["--timeout", "1"],
    );
    assert_eq!(run.code, 0, "{}", run.out);
    assert!(
        run.out
            .contains("the unasked 421 recorded after it did not come within 1s: not checked"),
        "{}",
        run.out
    );
}

#[test]
fn terminal_ctrl_c_cancels_the_line_and_ctrl_d_quits_cooked() {
    let home = tempfile::tempdir().unwrap();
    let (mut t, h) = plain_terminal(home.path(), &[]);
    assert!(
        t.wait_mode(false),
        "the terminal never went raw at the prompt"
    );
    // Ctrl-C with a typed line: the line is dropped, nothing is sent, a fresh prompt is shown.
    t.keys("MAIL FROM:<never@sent.test>");
    t.wait("the typed line", |s| {
        last_prompt(s) == "ehlo[plain]> MAIL FROM:<never@sent.test>"
    });
    t.keys("\x03");
    t.wait("an empty prompt after Ctrl-C", |s| {
        last_prompt(s) == "ehlo[plain]>"
    });
    // The session is still usable, and the cancelled line never reached the server.
    t.keys("NOOP\r");
    t.wait("the NOOP reply", |s| s.contains("2.0.0 ok"));
    t.wait("the prompt after NOOP", |s| {
        last_prompt(s) == "ehlo[plain]>"
    });
    // Ctrl-D at an empty prompt: QUIT is sent and the REPL leaves.
    t.keys("\x04");
    assert_eq!(t.exit_code(), 0, "{}", t.screen());
    t.wait("the goodbye", |s| s.contains("221"));
    t.assert_cooked();
    // Leaving is not a lost connection.
    assert!(
        !t.screen().contains(":reconnect or :quit"),
        "{}",
        t.screen()
    );
    let got = h.join().unwrap().remove(0);
    assert_eq!(String::from_utf8_lossy(&got), "NOOP\r\nQUIT\r\n");
}

/// A typed `AUTH PLAIN <initial response>` dropped with Ctrl-C stays on the screen masked, as
/// an entered one does (the terminal's scrollback keeps what is drawn): it used to stay in
/// clear, followed by `^C`. So does a line that cannot be a command (a password typed at the
/// command prompt). Nothing is sent.
#[test]
fn terminal_ctrl_c_on_a_typed_secret_leaves_it_masked() {
    let home = tempfile::tempdir().unwrap();
    let (mut t, h) = plain_terminal(home.path(), &[]);
    // base64 of "\0user\0fixture-secret".
    let blob = "AHVzZXIAZml4dHVyZS1zZWNyZXQ=";
    t.keys(format!("AUTH PLAIN {blob}"));
    t.wait("the typed line", |s| s.contains(blob));
    t.keys("\x03");
    t.wait("the masked line", |s| {
        s.contains("ehlo[plain]> AUTH PLAIN ********^C") && last_prompt(s) == "ehlo[plain]>"
    });
    t.keys("hunter2");
    t.wait("the typed password", |s| s.contains("hunter2"));
    t.keys("\x03");
    let s = t.wait("the masked password", |s| {
        s.contains("ehlo[plain]> ********^C") && last_prompt(s) == "ehlo[plain]>"
    });
    assert!(!s.contains(blob) && !s.contains("hunter2"), "{s}");
    t.quit();
    let got = h.join().unwrap().remove(0);
    assert_eq!(String::from_utf8(got).unwrap(), "QUIT\r\n");
}

/// A bracketed paste of several commands is split into lines, each sent with CRLF;
/// with PIPELINING the MAIL/RCPT group goes out at once and the replies pair in order (the
/// refused recipient is the second RCPT, the prompt follows the server into DATA); without it
/// the commands go one by one (the server never sees a command before it answered the last).
fn paste_session(pipelining: bool) -> (String, String, String) {
    let home = tempfile::tempdir().unwrap();
    let rec = home.path().join("paste.ehlo");
    let (addr, h) = server(
        Behaviour {
            rcpt: 250,
            pipelining,
        },
        1,
    );
    let mut t = Pty::repl(home.path(), addr, &["--record", rec.to_str().unwrap()]);
    t.ehlo("250 DSN");
    t.keys(
        "\x1b[200~MAIL FROM:<a@b.test>\nRCPT TO:<c@d.test>\r\nRCPT TO:<e@f.test>\nDATA\n\x1b[201~",
    );
    t.wait("the data prompt", |s| {
        s.contains("354 go ahead") && last_prompt(s) == "ehlo[plain|data]>"
    });
    t.keys("\x1b[200~Subject: pasted\n\nbody\tline\n\x1b[201~");
    t.keys(".\r");
    t.wait("the message queued", |s| s.contains("2.0.0 queued"));
    t.wait("a fresh prompt", |s| last_prompt(s) == "ehlo[plain]>");
    t.quit();
    let screen = t.screen();
    let got = String::from_utf8(h.join().unwrap().remove(0)).unwrap();
    (got, screen, std::fs::read_to_string(&rec).unwrap())
}

#[test]
fn terminal_bracketed_paste_is_pipelined_when_offered() {
    let (got, screen, rec) = paste_session(true);
    // Each pipelined command is recorded with the reply that paired with it.
    assert!(
        rec.contains("> MAIL FROM:<a@b.test>\n< 250\n> RCPT TO:<c@d.test>\n< 250\n> RCPT TO:<e@f.test>\n< 250\n> DATA\n< 354\n"),
        "{rec}"
    );
    assert_eq!(
        got,
        "EHLO x.test\r\nMAIL FROM:<a@b.test>\r\n[early]RCPT TO:<c@d.test>\r\n[early]RCPT TO:<e@f.test>\r\n[early]DATA\r\nSubject: pasted\r\n\r\nbody\tline\r\n.\r\nQUIT\r\n"
    );
    assert!(!screen.contains("nobody asked"), "{screen}");
    assert!(!screen.contains("500 5.5.2"), "{screen}");
}

/// Ctrl-C while a pipelined paste (MAIL, RCPT, then NOOP, which ends the group) waits for its
/// replies: each late reply is then said to be its own command's, in order, as when commands
/// go one by one — they were all said to be the NOOP's.
#[test]
fn terminal_ctrl_c_in_a_pipelined_paste_pairs_each_late_reply_with_its_command() {
    let home = tempfile::tempdir().unwrap();
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let (stopped, hold) = std::sync::mpsc::channel::<()>();
    let h = std::thread::spawn(move || {
        let (s, _) = l.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut w = s.try_clone().unwrap();
        let mut r = BufReader::new(s);
        let mut got = String::new();
        let mut line = || {
            let mut l = String::new();
            r.read_line(&mut l).unwrap();
            got.push_str(&l);
            l
        };
        w.write_all(b"220 slow.test ESMTP\r\n").unwrap();
        assert!(line().starts_with("EHLO"));
        w.write_all(b"250-slow.test\r\n250 PIPELINING\r\n").unwrap();
        // The whole group, then its replies once the Ctrl-C has stopped the wait (a fixed
        // 2 s pause was not always long enough for it at 64 test threads).
        for _ in 0..3 {
            line();
        }
        let _ = hold.recv_timeout(Duration::from_secs(20));
        w.write_all(b"250 2.1.0 sender ok\r\n250 2.1.5 rcpt ok\r\n250 2.0.0 noop ok\r\n")
            .unwrap();
        if line().starts_with("QUIT") {
            let _ = w.write_all(b"221 2.0.0 bye\r\n");
        }
        got
    });
    let mut t = Pty::repl(home.path(), addr, &[]);
    t.ehlo("250 PIPELINING");
    t.keys("\x1b[200~MAIL FROM:<a@b.test>\nRCPT TO:<c@d.test>\nNOOP\n\x1b[201~");
    t.wait("the group sent", |s| s.contains("-> NOOP"));
    t.keys("\x03");
    t.wait("the wait stopped", |s| {
        s.contains("stopped waiting (Ctrl-C)")
    });
    stopped.send(()).unwrap();
    let s = t.wait("the three late replies", |s| s.contains("noop ok ("));
    let labels: Vec<&str> = s
        .lines()
        .filter_map(|l| l.split("late reply to ").nth(1))
        .map(|rest| rest.split(" (").next().unwrap_or(""))
        .collect();
    assert_eq!(
        labels,
        ["`MAIL FROM:<a@b.test>`", "`RCPT TO:<c@d.test>`", "`NOOP`"],
        "{s}"
    );
    t.quit();
    let got = h.join().unwrap();
    assert!(
        got.starts_with("EHLO x.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nNOOP\r\n"),
        "{got}"
    );
}

#[test]
fn terminal_bracketed_paste_goes_one_by_one_without_pipelining() {
    let (got, screen, _) = paste_session(false);
    assert_eq!(
        got,
        "EHLO x.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nRCPT TO:<e@f.test>\r\nDATA\r\nSubject: pasted\r\n\r\nbody\tline\r\n.\r\nQUIT\r\n"
    );
    assert!(!screen.contains("nobody asked"), "{screen}");
}

/// A paste whose end marker comes in two reads, its ESC first and `[201~` later than the
/// editor's idle poll (a slow link): the ESC waits for the rest, the paste ends, and what is
/// typed next is a line of its own — nothing of the marker reaches the server.
#[test]
fn terminal_paste_end_marker_split_after_its_esc_ends_the_paste() {
    let home = tempfile::tempdir().unwrap();
    let (mut t, h) = plain_terminal(home.path(), &[]);
    t.keys("\x1b[200~NOOP a\r\x1b");
    t.wait("the NOOP answer", |s| s.contains("250 2.0.0 ok"));
    // Several idle polls of the editor (50 ms each) go by before the rest of the marker.
    t.wait_keys_read();
    t.wait_idle_polls(3);
    t.keys("[201~");
    t.wait_keys_read();
    t.keys("NOOP b\r");
    t.wait("the second NOOP answer", |s| {
        s.matches("250 2.0.0 ok").count() == 2
    });
    t.quit();
    let got = String::from_utf8(h.join().unwrap().remove(0)).unwrap();
    assert_eq!(got, "NOOP a\r\nNOOP b\r\nQUIT\r\n");
}

/// SIGTERM, SIGHUP, SIGINT or SIGQUIT (from `kill`: Ctrl-C and Ctrl-\ are keys) at the prompt
/// (raw mode, bracketed paste on) leave the terminal cooked, the history saved, and exit 128 +
/// the signal's number.
#[test]
fn terminal_sigterm_and_sighup_restore_the_terminal_and_save_history() {
    for (sig, code) in [("TERM", 143), ("HUP", 129), ("INT", 130), ("QUIT", 131)] {
        let home = tempfile::tempdir().unwrap();
        let (mut t, _h) = plain_terminal(home.path(), &[]);
        t.noop();
        t.keys("RSET half typed");
        assert!(
            t.wait_mode(false),
            "the terminal never went raw at the prompt"
        );
        t.signal(sig);
        assert_eq!(t.exit_code(), code, "SIG{sig}: {}", t.screen());
        t.assert_cooked();
        let hist = std::fs::read_to_string(home.path().join("ehlo/history")).unwrap();
        assert_eq!(hist, "NOOP\n", "SIG{sig}");
    }
}

/// A history file made wider before (0644: by hand, or an older ehlo) is narrowed to 0600 when
/// saved, and that is said once on the restored terminal, in the words the `--log` file and
/// recordings use (`narrowed FILE to 0600 (it was 0644)`); it used to be narrowed silently. A
/// history already 0600 is saved without a word.
#[test]
fn terminal_a_wider_history_is_narrowed_and_said_once() {
    use std::os::unix::fs::PermissionsExt as _;
    let home = tempfile::tempdir().unwrap();
    let history = home.path().join("ehlo/history");
    std::fs::create_dir_all(history.parent().unwrap()).unwrap();
    std::fs::write(&history, "VRFY old\n").unwrap();
    std::fs::set_permissions(&history, std::fs::Permissions::from_mode(0o644)).unwrap();
    let said = format!("narrowed {} to 0600 (it was 0644)", history.display());
    for (round, times) in [(1, 1), (2, 0)] {
        let (mut t, _h) = plain_terminal(home.path(), &[]);
        t.noop();
        t.quit();
        t.assert_cooked();
        let screen = t.screen();
        assert_eq!(
            screen.matches(&said).count(),
            times,
            "round {round}: {screen}"
        );
        assert!(!screen.contains("narrowed") || times == 1, "{screen}");
        let mode = std::fs::metadata(&history).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{mode:o}");
    }
    assert!(
        std::fs::read_to_string(&history)
            .unwrap()
            .starts_with("VRFY old\nNOOP\n")
    );
}

/// Under a file-size limit (`ulimit -f`) smaller than the history, its save at the end fails:
/// the file keeps what it held, one line says so, the terminal is left cooked and the exit code
/// is the session's. The save used to empty the file first and then write it, so the limit's
/// SIGXFSZ killed the REPL halfway: the history cut to the limit, the terminal left raw.
#[test]
fn terminal_a_history_save_past_the_file_size_limit_keeps_the_old_file() {
    let home = tempfile::tempdir().unwrap();
    let history = home.path().join("ehlo/history");
    std::fs::create_dir_all(history.parent().unwrap()).unwrap();
    // 4000 bytes; the limit is 2048.
    let old: String = (0..400).map(|i| format!("VRFY {i:04}\n")).collect();
    std::fs::write(&history, &old).unwrap();
    let (addr, _h) = plain_server();
    let mut t = Pty::start_under_file_limit(home.path(), &["repl", &addr.to_string()], 4);
    t.wait("the first prompt", |s| last_prompt(s) == "ehlo[plain]>");
    t.noop();
    t.quit();
    t.assert_cooked();
    assert_eq!(std::fs::read_to_string(&history).unwrap(), old);
    let screen = t.screen();
    let said: Vec<&str> = screen
        .lines()
        .filter(|l| l.contains("history could not be saved"))
        .collect();
    assert_eq!(said.len(), 1, "{screen}");
    assert!(said[0].contains("File too large"), "{screen}");
    // Nothing was left beside it.
    let left: Vec<_> = std::fs::read_dir(history.parent().unwrap())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(left, [std::ffi::OsString::from("history")]);
}

/// `--log FILE` or `--record FILE` reaching the file-size limit (`ulimit -f`) mid-session: one
/// line says so when it happens, once, the session goes on (the next command is sent and
/// answered) and ends as it would have, the terminal cooked. The write used to raise SIGXFSZ,
/// which ended the REPL at once with the terminal left raw.
#[test]
fn terminal_a_log_or_recording_past_the_file_size_limit_is_said_once_and_the_session_goes_on() {
    for flag in ["--log", "--record"] {
        let home = tempfile::tempdir().unwrap();
        let file = home.path().join("out.file");
        let file_arg = file.to_str().unwrap();
        let (addr, h) = plain_server();
        let mut t = Pty::start_under_file_limit(
            home.path(),
            &["repl", &addr.to_string(), flag, file_arg],
            2,
        );
        t.wait("the first prompt", |s| last_prompt(s) == "ehlo[plain]>");
        let long = "x".repeat(300);
        for i in 1..=6 {
            t.keys(format!("NOOP {i}{long}\r"));
            t.wait("the NOOP reply", |s| {
                s.matches("2.0.0 ok").count() == i && last_prompt(s) == "ehlo[plain]>"
            });
        }
        t.wait("the warning", |s| s.contains("could not be written"));
        t.keys("NOOP after\r");
        t.wait("the last NOOP's reply", |s| {
            s.matches("2.0.0 ok").count() == 7 && last_prompt(s) == "ehlo[plain]>"
        });
        t.keys(":quit\r");
        assert_eq!(t.exit_code(), 0, "{flag}: {}", t.screen());
        t.assert_cooked();
        let screen = t.screen();
        assert_eq!(
            screen.matches("could not be written").count(),
            1,
            "{flag}: {screen}"
        );
        assert!(screen.contains("File too large"), "{flag}: {screen}");
        assert!(std::fs::metadata(&file).unwrap().len() <= 1024, "{flag}");
        let got = String::from_utf8(h.join().unwrap().remove(0)).unwrap();
        assert!(got.contains("NOOP after\r\nQUIT\r\n"), "{flag}: {got}");
    }
}

/// SIGTERM or SIGHUP at the prompt (a line half typed) or while a reply is awaited (the
/// "waiting" line shown): "*** SIGTERM: leaving" is the last thing drawn, only the terminal's
/// modes are put back after it (bracketed paste off). The prompt or the "waiting" line used to
/// be drawn once more after it, just before the terminal was restored.
#[test]
fn terminal_nothing_is_drawn_after_a_signal_s_leaving_line() {
    for sig in ["TERM", "HUP"] {
        for waiting in [false, true] {
            let home = tempfile::tempdir().unwrap();
            let (addr, _h) = silent_server(true);
            let mut t = Pty::repl(home.path(), addr, &[]);
            t.ehlo("250 silent.test");
            if waiting {
                t.keys("MAIL FROM:<a@b.test>\r");
                t.wait("the waiting line", |s| {
                    s.lines().any(|l| l.starts_with("waiting "))
                });
            } else {
                t.keys("RSET half typed");
                t.wait("the typed text", |s| s.contains("RSET half typed"));
            }
            t.signal(sig);
            t.exit_code();
            t.assert_cooked();
            let line = format!("*** SIG{sig}: leaving");
            let start = Instant::now();
            let after = loop {
                let all = String::from_utf8_lossy(&t.written()).into_owned();
                if let Some(i) = all.rfind(&line) {
                    let after = all[i + line.len()..].to_string();
                    if after.contains("\x1b[?2004l") {
                        break after;
                    }
                }
                assert!(
                    start.elapsed() < Duration::from_secs(20),
                    "SIG{sig}: no leaving line and restore: {all:?}"
                );
                std::thread::sleep(Duration::from_millis(20));
            };
            assert!(
                !after.contains("ehlo[") && !after.contains("waiting") && !after.contains("RSET"),
                "SIG{sig}, waiting {waiting}: drawn after the leaving line: {after:?}"
            );
            assert!(!after.contains("\x1b[2m"), "SIG{sig}: {after:?}");
            let screen = t.screen();
            let last = screen.lines().rev().find(|l| !l.trim().is_empty()).unwrap();
            assert!(
                last.contains(&line),
                "SIG{sig}, waiting {waiting}: {screen}"
            );
        }
    }
}

/// The terminal closes (SIGHUP) with a line half typed at the prompt: it is not sent, and the
/// `--log` ends saying an unsent line of that many characters was discarded (never its text:
/// it may be a secret), then the leaving line and the summary. It used to vanish unsaid.
#[test]
fn terminal_sighup_with_a_half_typed_line_logs_its_length_only() {
    let home = tempfile::tempdir().unwrap();
    let (mut t, h, log) = logged_terminal(home.path(), &[]);
    t.noop();
    t.keys("RSET half typed");
    t.wait("the typed text", |s| s.contains("RSET half typed"));
    t.signal("HUP");
    assert_eq!(t.exit_code(), 129, "{}", t.screen());
    let got = String::from_utf8(h.join().unwrap().remove(0)).unwrap();
    assert!(
        !got.contains("RSET"),
        "the half-typed line went out: {got:?}"
    );
    let logged = log.text();
    let said = logged
        .find("an unsent line of 15 characters was discarded")
        .unwrap_or_else(|| panic!("no discard line in the log: {logged}"));
    let leaving = logged.find("SIGHUP: leaving").expect("the leaving line");
    assert!(said < leaving, "{logged}");
    assert!(!logged.contains("half typed"), "{logged}");
}

/// A recording cut inside a typed DATA, by the end of the input (piped here) or by a signal
/// (the terminal closed): its message lines are followed by a comment that the message was not
/// sent. It ended with the lines and `# end of recording`, read as a message delivered. On a
/// signal the transcript and the `--log` say so too (the end of the input said so already).
#[test]
fn a_recording_cut_inside_data_says_the_message_was_not_sent() {
    let behaviour = Behaviour {
        rcpt: 250,
        pipelining: false,
    };
    let dir = tempfile::tempdir().unwrap();
    let piped_rec = dir.path().join("piped.ehlo");
    let (addr, h) = server(behaviour, 1);
    let run = ehlo(
        &[
            "repl",
            &addr.to_string(),
            "--record",
            piped_rec.to_str().unwrap(),
        ],
        b"EHLO me\nMAIL FROM:<a@b.test>\nRCPT TO:<c@d.test>\nDATA\nSubject: cut\n\nbody\n",
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.out);
    let got = String::from_utf8(h.join().unwrap().remove(0)).unwrap();
    assert!(
        got.ends_with("DATA\r\nSubject: cut\r\n\r\nbody\r\n"),
        "{got:?}"
    );

    let home = tempfile::tempdir().unwrap();
    let (rec, log) = (dir.path().join("hup.ehlo"), dir.path().join("hup.log"));
    let (addr, h) = server(behaviour, 1);
    let mut t = Pty::repl(
        home.path(),
        addr,
        &[
            "--record",
            rec.to_str().unwrap(),
            "--log",
            log.to_str().unwrap(),
        ],
    );
    for line in ["EHLO me", "MAIL FROM:<a@b.test>", "RCPT TO:<c@d.test>"] {
        t.keys(format!("{line}\r"));
        t.wait("the reply", |s| {
            s.contains(&format!(" -> {line}")) && last_prompt(s).starts_with("ehlo[plain")
        });
    }
    t.keys("DATA\r");
    t.wait("the DATA prompt", |s| last_prompt(s) == "ehlo[plain|data]>");
    t.keys("Subject: cut\r\rbody\r");
    t.wait("the body sent", |s| s.contains(" -> body"));
    t.signal("HUP");
    assert_eq!(t.exit_code(), 129, "{}", t.screen());
    h.join().unwrap();
    let logged = std::fs::read_to_string(&log).unwrap();
    let said = logged
        .find("the REPL left inside DATA: the message was not finished, and is not sent")
        .unwrap_or_else(|| panic!("not said in the log: {logged}"));
    assert!(said < logged.find("SIGHUP: leaving").unwrap(), "{logged}");
    for rec in [piped_rec, rec] {
        let rec = std::fs::read_to_string(&rec).unwrap();
        let body = rec.find("> body\n").unwrap_or_else(|| panic!("{rec}"));
        let note = rec[body..]
            .find("\n# the message above was not sent: ")
            .unwrap_or_else(|| panic!("no note after the message: {rec}"));
        assert!(
            rec[body + note..].ends_with("# end of recording\n"),
            "{rec}"
        );
    }
}

/// SIGHUP with a password half typed at `:auth`'s prompt: the `--log` says a secret was
/// discarded without counting its characters (it used to say `an unsent line of 11
/// characters`, the length of the password being typed; ehlo's masks have a fixed length for
/// that reason).
#[test]
fn terminal_sighup_at_a_password_prompt_does_not_count_the_secret() {
    sighup_with_a_secret_half_typed(
        &["--allow-plaintext-auth"],
        "the password prompt",
        |s| s.contains("password (not shown):"),
        "a secret half typed at its prompt was discarded, unsent",
    );
}

/// SIGHUP with a password half typed at `:auth`'s `[y/N]` question (one who expected the
/// password prompt): the `--log` said `an unsent line of 11 characters was discarded`, the
/// password's length. Now an answer half typed there is said discarded, uncounted.
#[test]
fn terminal_sighup_at_a_yes_no_question_does_not_count_the_answer() {
    sighup_with_a_secret_half_typed(
        &[],
        "the plaintext question",
        |s| {
            s.trim_end()
                .ends_with("send the credentials unencrypted? [y/N]")
        },
        "an answer half typed at a [y/N] question was discarded, unsent",
    );
}

/// `:auth PLAIN user` in a logged session, an 11-character secret typed (not entered) once
/// `asked` shows, then SIGHUP: exit 129 and the log says `said`, without the secret or its
/// length.
fn sighup_with_a_secret_half_typed(
    flags: &[&str],
    label: &str,
    asked: impl Fn(&str) -> bool,
    said: &str,
) {
    let home = tempfile::tempdir().unwrap();
    let (mut t, _h, log) = logged_terminal(home.path(), flags);
    t.ehlo("250 DSN");
    t.keys(":auth PLAIN user\r");
    t.wait(label, asked);
    t.keys("fixture-sec");
    t.wait_keys_read();
    t.signal("HUP");
    assert_eq!(t.exit_code(), 129, "{}", t.screen());
    let logged = log.text();
    assert!(logged.contains(said), "{logged}");
    assert!(
        !logged.contains("11 characters") && !logged.contains("fixture-sec"),
        "{logged}"
    );
}

/// The terminal itself goes away (its master end closed, as when a terminal window or an ssh
/// connection closes) with a line half typed: the editor reads the end of the input before
/// any SIGHUP, and the line used to vanish unsaid (a SIGHUP that came first said it). Here no
/// SIGHUP comes at all (the pseudo-terminal is not `ehlo`'s controlling one): the `--log` says
/// the line was discarded, by its length only, and the session ends with QUIT.
#[test]
fn terminal_closed_with_a_half_typed_line_logs_its_length_only() {
    let home = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let log = files.path().join("log.txt");
    let (addr, h) = plain_server();
    let size = Winsize {
        ws_row: ROWS,
        ws_col: COLS,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    let OpenptyResult { master, slave } = openpty(&size, None).expect("openpty");
    for fd in [&master, &slave] {
        fcntl(fd, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC)).unwrap();
    }
    let stdio = || Stdio::from(slave.try_clone().unwrap());
    let mut cmd = Command::new(EHLO);
    cmd.args(["repl", &addr.to_string(), "--log", log.to_str().unwrap()])
        .env_clear()
        .env("HOME", home.path())
        .env("XDG_DATA_HOME", home.path())
        .env("TERM", "xterm")
        .env("LANG", "C.UTF-8")
        .env("NO_COLOR", "1")
        .stdin(stdio())
        .stdout(stdio())
        .stderr(stdio());
    let mut child = cmd.spawn().expect("spawn ehlo on the pty");
    drop(cmd);
    drop(slave);
    let mut master = File::from(master);
    // Read what ehlo writes until `what` shows (the only reader: dropping `master` closes the
    // terminal).
    let mut seen = Vec::new();
    let mut read_until = |master: &mut File, what: &str| {
        let mut buf = [0u8; 4096];
        while !String::from_utf8_lossy(&seen).contains(what) {
            let n = master.read(&mut buf).expect("read the terminal");
            assert!(n > 0, "{}", String::from_utf8_lossy(&seen));
            seen.extend_from_slice(&buf[..n]);
        }
    };
    read_until(&mut master, "ehlo[plain]> ");
    master.write_all(b"RSET half typed").unwrap();
    read_until(&mut master, "RSET half typed");
    drop(master);
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "ehlo did not leave"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let got = String::from_utf8(h.join().unwrap().remove(0)).unwrap();
    assert_eq!(got, "QUIT\r\n", "{status:?}");
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains("an unsent line of 15 characters was discarded"),
        "no discard line in the log: {logged}"
    );
    assert!(!logged.contains("half typed"), "{logged}");
}

/// The terminal closes (SIGHUP) while a reply is awaited and lines were typed ahead (two
/// entered, one half typed): none is sent, and the `--log` says how many lines were
/// discarded before the leaving line, never their text. They vanished unsaid: only a line
/// half typed at a prompt was reported.
#[test]
fn terminal_sighup_with_lines_typed_ahead_logs_their_count_only() {
    let home = tempfile::tempdir().unwrap();
    let (mut t, h, log) = logged_terminal(home.path(), &[]);
    t.keys("HELP SLEEP\r");
    t.wait("SLEEP sent", |s| s.contains(" -> HELP SLEEP"));
    t.keys("MAIL FROM:<a@b>\rRSET\rhalf");
    t.wait_keys_read();
    t.signal("HUP");
    assert_eq!(t.exit_code(), 129, "{}", t.screen());
    let got = String::from_utf8(h.join().unwrap().remove(0)).unwrap();
    assert_eq!(got, "HELP SLEEP\r\n");
    let logged = log.text();
    let said = logged
        .find("3 lines typed ahead not sent, discarded")
        .unwrap_or_else(|| panic!("no discard line in the log: {logged}"));
    let leaving = logged.find("SIGHUP: leaving").expect("the leaving line");
    assert!(said < leaving, "{logged}");
    assert!(
        !logged.contains("RSET") && !logged.contains("half"),
        "{logged}"
    );
}

/// SASL responses typed ahead while AUTH LOGIN's 334 is awaited, then a signal: they are
/// counted as lines only, never by length (a byte count gave the password's base64 length
/// away: "2 lines typed ahead (36 bytes)"), and neither is shown, logged nor recorded.
#[test]
fn terminal_sighup_with_sasl_responses_typed_ahead_tells_no_length() {
    use base64::Engine as _;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let (user, password) = (b64("tim"), b64("Typed-Ahead-Secret-7"));
    let home = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let log = files.path().join("log.txt");
    let rec = files.path().join("rec.ehlo");
    let (addr, h) = late_sasl_server(false);
    let mut t = Pty::repl(
        home.path(),
        addr,
        &[
            "--log",
            log.to_str().unwrap(),
            "--record",
            rec.to_str().unwrap(),
        ],
    );
    t.keys("EHLO me\r");
    t.wait("the EHLO reply", |s| s.contains("AUTH PLAIN LOGIN"));
    t.wait("the prompt", |s| last_prompt(s) == "ehlo[plain]>");
    t.keys("AUTH LOGIN\r");
    t.wait("AUTH sent", |s| s.contains(" -> AUTH LOGIN"));
    t.keys(format!("{user}\r{password}\r"));
    t.wait_keys_read();
    t.signal("HUP");
    assert_eq!(t.exit_code(), 129, "{}", t.screen());
    let got = String::from_utf8(h.join().unwrap()).unwrap();
    assert_eq!(got, "EHLO me\r\nAUTH LOGIN\r\n");
    let logged = std::fs::read_to_string(&log).unwrap();
    let screen = t.screen();
    for text in [&logged, &screen] {
        assert!(
            text.contains("*** 2 lines typed ahead not sent, discarded"),
            "{text}"
        );
        assert!(!text.contains("typed ahead ("), "{text}");
    }
    let recorded = std::fs::read_to_string(&rec).unwrap();
    let history = std::fs::read_to_string(home.path().join("ehlo/history")).unwrap_or_default();
    for text in [&logged, &screen, &recorded, &history] {
        assert!(!text.contains(&user) && !text.contains(&password), "{text}");
    }
}

/// `TERM=dumb` (Emacs' `M-x shell`, some CI terminals) or no `TERM`: the editor writes no
/// control sequence at all (no bracketed paste, no cursor moves or clearing, no dim history
/// hint, no status line while waiting): the prompt, the typed characters echoed, a backspace
/// rubbed out with backspace-space-backspace, and a typed secret rubbed out the same way.
/// Editing still works. It used to write the sequences a dumb terminal prints as garbage.
#[test]
fn terminal_dumb_gets_no_control_sequences() {
    let blob = "AGVobG90ZXN0AFNla3IzdFBXOTk=";
    for term in ["dumb", ""] {
        let home = tempfile::tempdir().unwrap();
        let (addr, h) = plain_server();
        let mut t = Pty::start_env(
            home.path(),
            &["repl", &addr.to_string()],
            COLS,
            false,
            &[("TERM", term)],
        );
        t.wait("the first prompt", |s| last_prompt(s) == "ehlo[plain]>");
        t.keys("NOOP hello\r");
        t.wait("the NOOP reply", |s| {
            s.contains("250 2.0.0 ok") && last_prompt(s) == "ehlo[plain]>"
        });
        // Three seconds without a reply: a status line would be drawn.
        t.keys("HELP SLEEP\r");
        t.wait("the SLEEP reply", |s| {
            s.matches("250").count() >= 2 && last_prompt(s) == "ehlo[plain]>"
        });
        // A history hint would be drawn after "NO"; a typo rubbed out. Each key is echoed
        // before the next is typed (a 100 ms pause was not always enough at 64 test threads:
        // the editor read them together and drew the line once, "NOOP 2").
        let mut echoed = String::new();
        for (keys, echo) in [
            ("NO", "NO"),
            ("X", "X"),
            ("\x7f", "\x08 \x08"),
            ("OP 2", "OP 2"),
        ] {
            t.keys(keys);
            echoed.push_str(echo);
            let start = Instant::now();
            loop {
                let all = String::from_utf8_lossy(&t.written()).into_owned();
                let line = all.rsplit("ehlo[plain]> ").next().unwrap_or_default();
                if line == echoed {
                    break;
                }
                assert!(
                    start.elapsed() < Duration::from_secs(20),
                    "TERM={term:?}: {echoed:?} not echoed: {all:?}"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        t.keys("\r");
        t.wait("the second NOOP reply", |s| {
            s.contains("ehlo[plain]> NOOP 2") && last_prompt(s) == "ehlo[plain]>"
        });
        // Echoed as typed, rubbed out when entered.
        t.keys(format!("AUTH PLAIN {blob}"));
        t.wait("the echo", |s| s.contains(blob));
        t.keys("\r");
        t.wait("the AUTH reply", |s| {
            s.contains("AUTH PLAIN ****") && last_prompt(s) == "ehlo[plain|authed]>"
        });
        t.quit();
        t.assert_cooked();
        let written = String::from_utf8_lossy(&t.written()).into_owned();
        assert!(!written.contains('\x1b'), "TERM={term:?}: {written:?}");
        assert!(!written.contains("waiting "), "TERM={term:?}: {written:?}");
        assert!(
            written.contains("NOX\x08 \x08OP 2"),
            "TERM={term:?}: {written:?}"
        );
        let rubbed = format!("{blob}{}********", "\x08 \x08".repeat(blob.len()));
        assert!(written.contains(&rubbed), "TERM={term:?}: {written:?}");
        let screen = t.screen();
        assert!(!screen.contains(blob), "TERM={term:?}: {screen}");
        let got = String::from_utf8(h.join().unwrap().remove(0)).unwrap();
        assert_eq!(
            got,
            format!("NOOP hello\r\nHELP SLEEP\r\nNOOP 2\r\nAUTH PLAIN {blob}\r\nQUIT\r\n"),
            "TERM={term:?}"
        );
    }
}

/// `:auth` before EHLO explains and sends nothing; on a plain connection it asks
/// before credentials go out unencrypted (no → nothing sent); without a mechanism it picks the
/// strongest one offered (PLAIN over LOGIN here) and asks for the user and the password.
/// `:auth LOGIN tim` on a plain-text connection asks `send the credentials unencrypted?
/// [y/N]` first; one who expected the password prompt types the password there. It was echoed
/// and stayed in clear after the question (in the scrollback). Now an answer that is neither a
/// yes nor a no is drawn as the mask once entered (a `y`, an `n` stay as typed); it counts as a
/// no, nothing is sent, and it reaches no file.
#[test]
fn terminal_a_password_typed_at_a_yes_no_question_is_masked() {
    let password = "Wrong-Prompt-Pw-5";
    let home = tempfile::tempdir().unwrap();
    let (mut t, h, log) = logged_terminal(home.path(), &[]);
    t.ehlo("250 DSN");
    t.keys(":auth LOGIN tim\r");
    t.wait("the plaintext question", |s| {
        s.trim_end()
            .ends_with("send the credentials unencrypted? [y/N]")
    });
    t.keys(format!("{password}\r"));
    let s = t.wait("the refusal", |s| {
        s.contains("AUTH not sent") && last_prompt(s) == "ehlo[plain]>"
    });
    assert!(s.contains("unencrypted? [y/N] ********\n"), "{s}");
    t.keys(":auth LOGIN tim\r");
    t.wait("the question again", |s| s.matches("[y/N]").count() == 2);
    t.keys("n\r");
    let s = t.wait("the refusal again", |s| {
        s.matches("AUTH not sent").count() == 2 && last_prompt(s) == "ehlo[plain]>"
    });
    assert!(s.contains("unencrypted? [y/N] n\n"), "{s}");
    t.quit();
    let got = String::from_utf8(h.join().unwrap().remove(0)).unwrap();
    assert_eq!(got, "EHLO x.test\r\nQUIT\r\n");
    let logged = log.text();
    let history = std::fs::read_to_string(home.path().join("ehlo/history")).unwrap_or_default();
    for text in [&t.screen(), &logged, &history] {
        assert!(!text.contains(password), "{text}");
    }
}

#[test]
fn terminal_auth_explains_asks_before_plaintext_and_picks_the_strongest() {
    let home = tempfile::tempdir().unwrap();
    let (mut t, h) = plain_terminal(home.path(), &[]);
    t.keys(":auth PLAIN tim\r");
    t.wait("the explanation", |s| {
        s.contains(":auth needs the server's EHLO reply first") && last_prompt(s) == "ehlo[plain]>"
    });
    t.ehlo("250 DSN");
    t.keys(":auth\r");
    t.wait("the plaintext question", |s| {
        s.trim_end()
            .ends_with("send the credentials unencrypted? [y/N]")
    });
    t.keys("n\r");
    t.wait("the refusal", |s| {
        s.contains("AUTH not sent") && last_prompt(s) == "ehlo[plain]>"
    });
    t.keys(":auth\r");
    t.wait("the question again", |s| s.matches("[y/N]").count() == 2);
    t.keys("y\r");
    t.wait("the mechanism and the user prompt", |s| {
        s.contains("AUTH PLAIN: the strongest mechanism") && s.trim_end().ends_with("user:")
    });
    t.keys("tim\r");
    t.wait("the password prompt", |s| {
        s.trim_end().ends_with("password (not shown):")
    });
    t.keys("pw-typed-here\r");
    t.wait("authenticated", |s| {
        s.contains("235 2.7.0") && last_prompt(s) == "ehlo[plain|authed]>"
    });
    let screen = t.screen();
    assert!(!screen.contains("pw-typed-here"), "{screen}");
    t.quit();
    let got = String::from_utf8(h.join().unwrap().remove(0)).unwrap();
    // \0tim\0pw-typed-here
    assert_eq!(
        got,
        "EHLO x.test\r\nAUTH PLAIN AHRpbQBwdy10eXBlZC1oZXJl\r\nQUIT\r\n"
    );
}

const AUTH_SCRIPT: &str = "< 220\n> EHLO x.test\n< 250\n> :auth PLAIN tim\n< 235\n> :quit\n< 221\n";

/// `ehlo replay` of a script with `:auth` asks for the password on a terminal; with
/// no terminal it names EHLO_AUTH_PASSWORD and --auth-password-file and exits 1, as the send
/// with no password to be had (nothing was sent); the file works.
#[test]
fn replay_auth_prompts_on_a_terminal_and_names_the_password_sources_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("auth.ehlo");
    std::fs::write(&script, AUTH_SCRIPT).unwrap();
    let script_s = script.to_str().unwrap();
    let b = Behaviour {
        rcpt: 250,
        pipelining: false,
    };

    // A terminal: the password is asked for, not echoed.
    let (addr, h) = server(b, 1);
    let mut t = Pty::start(
        dir.path(),
        &[
            "replay",
            script_s,
            "--server",
            &addr.to_string(),
            "--allow-plaintext-auth",
        ],
    );
    t.wait("the password prompt", |s| {
        s.trim_end().ends_with("password (not shown):")
    });
    t.keys("pw-typed-here\r");
    assert_eq!(t.exit_code(), 0, "{}", t.screen());
    // The process has left but its last output may still be on its way through the pty: wait
    // for the QUIT reply (the last thing shown) before looking for what must not be there.
    let s = t.wait("the QUIT reply", |s| s.contains("221 2.0.0 bye"));
    assert!(!s.contains("pw-typed-here"), "{s}");
    let got = String::from_utf8(h.join().unwrap().remove(0)).unwrap();
    assert!(
        got.contains("AUTH PLAIN AHRpbQBwdy10eXBlZC1oZXJl\r\n"),
        "{got}"
    );

    // No terminal, no secret: the error says where the password can come from.
    let (addr, _h) = server(b, 1);
    let run = ehlo(
        &[
            "replay",
            script_s,
            "--server",
            &addr.to_string(),
            "--allow-plaintext-auth",
        ],
        b"",
        &[],
    );
    assert_eq!(run.code, 1, "{}", run.out);
    assert!(
        run.out.contains("EHLO_AUTH_PASSWORD") && run.out.contains("--auth-password-file"),
        "{}",
        run.out
    );

    // --auth-password-file, which beats $EHLO_AUTH_PASSWORD (the command line before the
    // environment, as in the send).
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "from-the-file\n").unwrap();
    let (addr, h) = server(b, 1);
    let run = ehlo(
        &[
            "replay",
            script_s,
            "--server",
            &addr.to_string(),
            "--allow-plaintext-auth",
            "--auth-password-file",
            pw.to_str().unwrap(),
        ],
        b"",
        &[("EHLO_AUTH_PASSWORD", "from-the-environment")],
    );
    assert_eq!(run.code, 0, "{}", run.out);
    let got = String::from_utf8(h.join().unwrap().remove(0)).unwrap();
    // \0tim\0from-the-file
    assert!(
        got.contains("AUTH PLAIN AHRpbQBmcm9tLXRoZS1maWxl\r\n"),
        "{got}"
    );
}

/// After `:reconnect`, the automatic steps (`--ehlo`) are recorded after the
/// `:reconnect` line, so the unedited recording replays green.
#[test]
fn record_after_reconnect_is_in_order_and_replays() {
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("re.ehlo");
    let rec_s = rec.to_str().unwrap();
    let b = Behaviour {
        rcpt: 250,
        pipelining: false,
    };
    let (addr, h) = server(b, 2);
    let run = ehlo(
        &[
            "repl",
            &addr.to_string(),
            "--ehlo",
            "x.test",
            "--record",
            rec_s,
        ],
        b"NOOP\n:reconnect\nNOOP\nQUIT\n",
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.out);
    h.join().unwrap();
    let text = std::fs::read_to_string(&rec).unwrap();
    let steps: String = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(
        steps,
        "< 220\n> EHLO x.test\n< 250\n> NOOP\n< 250\n> :reconnect\n< 220\n> EHLO x.test\n< 250\n> NOOP\n< 250\n> QUIT\n< 221",
        "{text}"
    );
    let (addr, _h) = server(b, 2);
    let run = ehlo(&["replay", rec_s, "--server", &addr.to_string()], b"", &[]);
    assert_eq!(run.code, 0, "{}", run.out);
}

/// `ehlo serve --starttls` with a certificate made here (CN=localhost, IP:127.0.0.1) that no
/// system CA signed; returns the server, its address and the certificate file.
fn tls_serve(dir: &std::path::Path) -> (Child, SocketAddr, std::path::PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let st = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
        ])
        .arg("/CN=localhost")
        .args([
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("the openssl CLI (a base system command, see README)");
    assert!(st.success());
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let child = Command::new(EHLO)
        .args([
            "serve",
            "--listen",
            &addr.to_string(),
            "--starttls",
            "--tls-cert",
        ])
        .arg(&cert)
        .arg("--tls-key")
        .arg(&key)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while TcpStream::connect(addr).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "ehlo serve never listened"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (child, addr, cert)
}

/// A certificate that fails verification is reported once, with hints in REPL
/// commands; the session stays usable (connected again in plain text, EHLO again) and
/// `:starttls --ca FILE` then succeeds; a missing `--ca` file sends nothing.
#[test]
fn terminal_starttls_failure_keeps_the_session_and_retries_with_a_ca() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, addr, cert) = tls_serve(dir.path());
    let mut t = Pty::repl(dir.path(), addr, &[]);
    t.ehlo("STARTTLS");
    t.keys(":starttls --ca /nonexistent/ca.pem\r");
    t.wait("the missing CA", |s| {
        s.contains("does not exist (nothing was sent)")
    });
    t.keys(":starttls\r");
    let s = t.wait("the reconnection", |s| {
        s.contains("connecting again in plain text")
            && s.matches("250-STARTTLS").count() == 2
            && last_prompt(s) == "ehlo[plain]>"
    });
    assert_eq!(
        s.matches("certificate verification failed").count(),
        1,
        "{s}"
    );
    assert!(s.contains(":starttls --ca FILE"), "{s}");
    assert!(
        !s.contains("--tls-ca-path") && !s.contains("TLS failed"),
        "{s}"
    );
    t.keys(format!(":starttls --ca {}\r", cert.display()));
    t.wait("the TLS prompt", |s| last_prompt(s) == "ehlo[tls]>");
    t.keys("EHLO x.test\r");
    t.wait("EHLO inside TLS", |s| {
        s.matches("250-").count() > 4 && last_prompt(s) == "ehlo[tls]>"
    });
    t.quit();
    t.assert_cooked();
    let _ = server.kill();
    let _ = server.wait();
}

/// A STARTTLS typed by hand whose handshake fails goes on as `:starttls`'s does: connected
/// again in plain text (EHLO again), so that the error's advice, `:starttls --ca FILE`, works.
/// It used to leave the session closed, and `:starttls --ca FILE` then said "not connected".
#[test]
fn terminal_typed_starttls_failure_connects_again_like_the_meta_command() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, addr, cert) = tls_serve(dir.path());
    let mut t = Pty::repl(dir.path(), addr, &[]);
    t.ehlo("STARTTLS");
    t.keys("STARTTLS\r");
    let s = t.wait("the reconnection", |s| {
        s.contains("connecting again in plain text")
            && s.matches("250-STARTTLS").count() == 2
            && last_prompt(s) == "ehlo[plain]>"
    });
    assert!(s.contains(":starttls --ca FILE"), "{s}");
    assert!(!s.contains("ehlo[closed]"), "{s}");
    t.keys(format!(":starttls --ca {}\r", cert.display()));
    t.wait("the TLS prompt", |s| last_prompt(s) == "ehlo[tls]>");
    assert!(!t.screen().contains("not connected"), "{}", t.screen());
    t.quit();
    t.assert_cooked();
    let _ = server.kill();
    let _ = server.wait();
}

/// Recalls the last history line (Up), which must be `masked` at the authenticated prompt, and
/// enters it; waits for the REPL's refusal of a masked line and returns the screen.
fn recall_masked_and_enter(t: &mut Pty, masked: &str) -> String {
    t.keys("\x1b[A");
    t.wait("the recalled line", |s| {
        last_prompt(s) == format!("ehlo[plain|authed]> {masked}")
    });
    t.keys("\r");
    t.wait("the refusal", |s| {
        s.contains("the mask the history keeps") && last_prompt(s) == "ehlo[plain|authed]>"
    })
}

/// An AUTH line with its credential is kept in the history masked (`AUTH PLAIN ********`);
/// recalled (Up) and entered, it is refused, not sent: the mask is no credential, and sending
/// it could only be a failed login counted against the client. It used to go out as is.
#[test]
fn terminal_recalled_masked_auth_is_not_sent() {
    let home = tempfile::tempdir().unwrap();
    let (mut t, h) = plain_terminal(home.path(), &[]);
    t.ehlo("8BITMIME");
    t.keys("AUTH PLAIN AHRpbQBodW50ZXIyaHVudGVyMg==\r");
    t.wait("the AUTH reply", |s| {
        s.contains("-> AUTH PLAIN ********") && last_prompt(s) == "ehlo[plain|authed]>"
    });
    let s = recall_masked_and_enter(&mut t, "AUTH PLAIN ********");
    assert_eq!(s.matches("-> AUTH PLAIN").count(), 1, "{s}");
    t.quit();
    let got = String::from_utf8(h.join().unwrap().remove(0)).unwrap();
    assert_eq!(got.matches("AUTH").count(), 1, "{got}");
    assert!(!got.contains("********"), "{got}");
}

/// `:auth PLAIN alice:password` typed on a terminal (curl's `user:password`): the password goes
/// to the server, and the line is drawn again and kept in the history as
/// `:auth PLAIN alice:********`, recorded as `:auth PLAIN alice`, never in the `--log`; that
/// line recalled and entered is refused, not sent with the mask as the password. The whole
/// word was the user name: on the screen, in the history and in the recording.
#[test]
fn terminal_auth_user_colon_password_is_masked_on_screen_and_in_every_file() {
    use base64::Engine as _;
    let password = "Curl-Form-Pw:41";
    let plain = base64::engine::general_purpose::STANDARD.encode(format!("\0alice\0{password}"));
    let home = tempfile::tempdir().unwrap();
    let rec_dir = tempfile::tempdir().unwrap();
    let rec = rec_dir.path().join("session.ehlo");
    let log = rec_dir.path().join("log.jsonl");
    let (mut t, h) = recorded_auth_session(home.path(), &rec, &log);
    t.keys(format!(":auth PLAIN alice:{password}\r"));
    t.wait("the :auth answer", |s| {
        s.contains("235 2.7.0") && last_prompt(s) == "ehlo[plain|authed]>"
    });
    let screen = recall_masked_and_enter(&mut t, ":auth PLAIN alice:********");
    t.quit();
    assert!(
        screen.contains("> :auth PLAIN alice:********\n"),
        "{screen}"
    );
    assert!(!screen.contains("Curl-Form-Pw"), "{screen}");
    let got = String::from_utf8(h.join().unwrap().remove(0)).unwrap();
    assert_eq!(
        got,
        format!("EHLO x.test\r\nAUTH PLAIN {plain}\r\nQUIT\r\n")
    );
    let history = std::fs::read_to_string(home.path().join("ehlo/history")).unwrap();
    assert!(
        history.contains(":auth PLAIN alice:********\n"),
        "{history}"
    );
    let rec = std::fs::read_to_string(&rec).unwrap();
    assert!(rec.contains("> :auth PLAIN alice\n"), "{rec}");
    let log = std::fs::read_to_string(&log).unwrap();
    for text in [&history, &rec, &log] {
        assert!(!text.contains("Curl-Form-Pw"), "{text}");
        assert!(!text.contains(&plain), "{text}");
    }
}

/// Ctrl-C while a reply is awaited stops the wait, and what was typed ahead before it is not
/// run, as a terminal's interrupt key flushes type-ahead: a whole line is kept in the history
/// (said so; Up recalls it), a half-typed one stays at the prompt. The NOOP typed ahead used
/// to go out at the next prompt.
#[test]
fn terminal_ctrl_c_while_waiting_keeps_what_was_typed_ahead_before_it() {
    let home = tempfile::tempdir().unwrap();
    let (mut t, h) = plain_terminal(home.path(), &[]);
    t.keys("HELP SLEEP\r");
    t.wait("HELP SLEEP sent", |s| s.contains("-> HELP SLEEP"));
    t.keys("NOOP\rRSET half");
    t.wait_keys_read();
    t.keys("\x03");
    let s = t.wait("the NOOP kept and the half line back", |s| {
        s.contains("stopped waiting (Ctrl-C)")
            && s.contains(
                "1 line typed ahead not sent (Ctrl-C): kept in the history, Up recalls them",
            )
            && last_prompt(s) == "ehlo[plain]> RSET half"
    });
    assert!(!s.contains("-> NOOP"), "{s}");
    assert!(!s.contains("-> RSET"), "{s}");
    // Up recalls the line kept.
    t.keys("\x15\x1b[A");
    t.wait("NOOP recalled", |s| last_prompt(s) == "ehlo[plain]> NOOP");
    t.keys("\x15:quit\r");
    assert_eq!(t.exit_code(), 0, "{}", t.screen());
    let got = String::from_utf8(h.join().unwrap().remove(0)).unwrap();
    assert!(got.contains("HELP SLEEP\r\n"), "{got}");
    assert!(!got.contains("NOOP"), "{got}");
    assert!(!got.contains("RSET"), "{got}");
}

/// A line typed ahead with the editing keys a terminal sends as escape sequences (Left, Home,
/// Delete): the Ctrl-C behind it stops the wait, and the line is kept as those keys made it,
/// not run. Any ESC typed ahead used to hide the Ctrl-C: the wait went on, and when the reply
/// came the line ran (sent to the server), the Ctrl-C then stopping its wait instead.
#[test]
fn terminal_ctrl_c_after_arrow_keys_typed_ahead_keeps_the_line_as_edited() {
    let home = tempfile::tempdir().unwrap();
    let (mut t, h) = plain_terminal(home.path(), &[]);
    t.keys("HELP SLEEP\r");
    t.wait("HELP SLEEP sent", |s| s.contains("-> HELP SLEEP"));
    // "VRFY ab", Left, "X"; then "SET", Home, "R", End, "x", Left, Delete; then Alt-b, "Z".
    t.keys("VRFY ab\x1b[DX\rSET\x1b[HR\x1b[Fx\x1b[D\x1b[3~\rNOOP x\x1bbZ\r");
    t.wait_keys_read();
    t.keys("\x03");
    let s = t.wait("the lines kept as edited", |s| {
        s.contains("stopped waiting (Ctrl-C)")
            && s.contains("3 lines typed ahead not sent (Ctrl-C): kept in the history, Up recalls them; one kept has a key typed ahead that only a prompt can act on")
            && last_prompt(s) == "ehlo[plain]>"
    });
    assert!(!s.contains("-> VRFY"), "{s}");
    t.keys("\x1b[A");
    t.wait("the Alt-b line recalled", |s| {
        last_prompt(s) == "ehlo[plain]> NOOP xZ"
    });
    t.keys("\x1b[A");
    t.wait("RSET recalled", |s| last_prompt(s) == "ehlo[plain]> RSET");
    t.keys("\x1b[A");
    t.wait("VRFY aXb recalled", |s| {
        last_prompt(s) == "ehlo[plain]> VRFY aXb"
    });
    t.keys("\x15:quit\r");
    assert_eq!(t.exit_code(), 0, "{}", t.screen());
    let got = String::from_utf8(h.join().unwrap().remove(0)).unwrap();
    assert!(!got.contains("VRFY"), "{got}");
}

/// A Ctrl-C typed ahead right after an escape sequence cut mid-parameters (`ESC [ 1 ;`, a
/// modified arrow's start) stops the wait: the line before it is kept, the cut part dropped
/// and said, and the key typed next is its own. The Ctrl-C used to be taken into the unended
/// sequence: the wait went on, NOOP was sent when the reply came, and the next key typed was
/// swallowed as the sequence's end.
#[test]
fn terminal_ctrl_c_cutting_an_escape_sequence_typed_ahead_stops_the_wait() {
    let home = tempfile::tempdir().unwrap();
    let (mut t, h) = plain_terminal(home.path(), &[]);
    t.keys("HELP SLEEP\r");
    t.wait("HELP SLEEP sent", |s| s.contains("-> HELP SLEEP"));
    t.keys("NOOP\r\x1b[1;");
    t.wait_keys_read();
    t.keys("\x03");
    let s = t.wait("the wait stopped, the line kept, the cut key said", |s| {
        s.contains("stopped waiting (Ctrl-C)")
            && s.contains("1 line typed ahead not sent (Ctrl-C): kept in the history, Up recalls them; a key typed just before the Ctrl-C was cut by it (an escape sequence without its end): dropped")
            && last_prompt(s) == "ehlo[plain]>"
    });
    assert!(!s.contains("-> NOOP"), "{s}");
    t.keys("X");
    t.wait("the next key typed", |s| last_prompt(s) == "ehlo[plain]> X");
    t.keys("\x15:quit\r");
    assert_eq!(t.exit_code(), 0, "{}", t.screen());
    let got = String::from_utf8(h.join().unwrap().remove(0)).unwrap();
    assert!(!got.contains("NOOP"), "{got}");
}

/// A bracketed paste typed ahead whose end marker never comes (pasted into a slow reply's
/// wait): its whole line runs when the reply comes, as typed-ahead lines do, and the rest is
/// taken as typed once the input has been quiet a second: drawn at the prompt, not sent
/// without Enter, and the keys after it are keys (Ctrl-C cancels the line). The paste used to
/// stay open: the line was not drawn and Ctrl-C and the arrows went into it as pasted text.
#[test]
fn terminal_a_paste_left_open_in_a_wait_is_kept_as_typed() {
    let home = tempfile::tempdir().unwrap();
    let (mut t, h) = plain_terminal(home.path(), &[]);
    t.keys("HELP SLEEP\r");
    t.wait("HELP SLEEP sent", |s| s.contains("-> HELP SLEEP"));
    t.keys("\x1b[200~NOOP\rRSET");
    t.wait("the pasted line sent, the rest at the prompt", |s| {
        s.contains("-> NOOP") && last_prompt(s) == "ehlo[plain]> RSET"
    });
    t.keys("\x03");
    t.wait("the line cancelled", |s| {
        s.contains("ehlo[plain]> RSET^C") && last_prompt(s) == "ehlo[plain]>"
    });
    t.keys("\x1b[A");
    t.wait("Up recalls the NOOP", |s| {
        last_prompt(s) == "ehlo[plain]> NOOP"
    });
    t.keys("\x15:quit\r");
    assert_eq!(t.exit_code(), 0, "{}", t.screen());
    let got = String::from_utf8(h.join().unwrap().remove(0)).unwrap();
    assert!(got.contains("NOOP\r\n"), "{got}");
    assert!(!got.contains("RSET"), "{got}");
}

/// Of the lines typed ahead of a wait Ctrl-C stopped, one that cannot be a command (a password
/// typed at the wrong prompt) is not kept in the history, and the lines after a typed AUTH are
/// not either (its responses): counted, never shown, nor written to the history file.
#[test]
fn terminal_ctrl_c_while_waiting_keeps_no_secret_typed_ahead() {
    let home = tempfile::tempdir().unwrap();
    let (mut t, _h) = plain_terminal(home.path(), &[]);
    t.keys("HELP SLEEP\r");
    t.wait("HELP SLEEP sent", |s| s.contains("-> HELP SLEEP"));
    t.keys("hunter2pw\rNOOP\rAUTH LOGIN\rdXNlcg==\r");
    t.wait_keys_read();
    t.keys("\x03");
    let s = t.wait("the lines counted", |s| {
        s.contains(
            "4 lines typed ahead not sent (Ctrl-C): 2 kept in the history (Up recalls them), 2 not",
        ) && last_prompt(s) == "ehlo[plain]>"
    });
    assert!(!s.contains("hunter2pw"), "{s}");
    assert!(!s.contains("dXNlcg=="), "{s}");
    t.keys(":quit\r");
    assert_eq!(t.exit_code(), 0, "{}", t.screen());
    let history = std::fs::read_to_string(home.path().join("ehlo/history")).unwrap();
    assert!(history.contains("NOOP\nAUTH LOGIN\n"), "{history}");
    assert!(!history.contains("hunter2pw"), "{history}");
    assert!(!history.contains("dXNlcg=="), "{history}");
}

/// [`server`]'s scripted server for one connection, its 354 two seconds after DATA: the
/// handle returns every byte received.
fn slow_data_server() -> (SocketAddr, JoinHandle<Vec<u8>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let h = std::thread::spawn(move || {
        let (s, _) = l.accept().unwrap();
        let b = Behaviour {
            rcpt: 250,
            pipelining: false,
        };
        serve_conn_paced(s, b, false, Duration::from_secs(2))
    });
    (addr, h)
}

/// Ctrl-C while DATA's 354 is awaited, the message's first lines typed ahead: they are not
/// sent, nor run at the `mail` prompt, but kept in the history and said so; the late 354 puts
/// the prompt in DATA and says what to type. They used to run at the `mail` prompt, refused as
/// no SMTP verb, drawn as `********` and lost.
#[test]
fn terminal_ctrl_c_while_data_waits_keeps_the_message_lines_typed_ahead() {
    let home = tempfile::tempdir().unwrap();
    let (addr, h) = slow_data_server();
    let mut t = Pty::repl(home.path(), addr, &[]);
    t.ehlo("8BITMIME");
    t.keys("MAIL FROM:<a@b.test>\r");
    t.wait("MAIL answered", |s| last_prompt(s) == "ehlo[plain|mail]>");
    t.keys("RCPT TO:<c@d.test>\r");
    t.wait("RCPT answered", |s| s.contains("2.1.5 ok"));
    t.keys("DATA\r");
    t.wait("DATA sent", |s| s.contains("-> DATA"));
    t.keys("Subject: a\rline2\r");
    t.wait_keys_read();
    t.keys("\x03");
    let s = t.wait("the late 354 and the data prompt", |s| {
        s.contains("2 lines typed ahead not sent (Ctrl-C): kept in the history, Up recalls them")
            && s.contains("354 go ahead")
            && s.contains("every line until then is its content")
            && last_prompt(s) == "ehlo[plain|data]>"
    });
    assert!(!s.contains("********"), "{s}");
    assert!(!s.contains("no SMTP verb"), "{s}");
    // Both recalled, oldest first two steps up.
    t.keys("\x1b[A\x1b[A");
    t.wait("Subject recalled", |s| {
        last_prompt(s) == "ehlo[plain|data]> Subject: a"
    });
    t.keys("\r");
    t.keys("line2\r.\r");
    t.wait("queued", |s| s.contains("2.0.0 queued"));
    t.keys(":quit\r");
    assert_eq!(t.exit_code(), 0, "{}", t.screen());
    let got = String::from_utf8(h.join().unwrap()).unwrap();
    assert!(
        got.ends_with("DATA\r\nSubject: a\r\nline2\r\n.\r\nQUIT\r\n"),
        "{got}"
    );
}

/// Two sessions at once with one history file: each keeps its own commands when the other
/// saved first (both sessions' lines, in the order the sessions ended, after what the file
/// held). The session that ended last used to write only what it had loaded and typed,
/// dropping the other's.
#[test]
fn terminal_two_sessions_at_once_both_keep_their_history() {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join("ehlo")).unwrap();
    std::fs::write(home.path().join("ehlo/history"), "VRFY old\n").unwrap();
    let (addr, _h) = server(
        Behaviour {
            rcpt: 250,
            pipelining: false,
        },
        2,
    );
    let mut a = Pty::start(home.path(), &["repl", &addr.to_string()]);
    a.wait("A's prompt", |s| last_prompt(s) == "ehlo[plain]>");
    a.keys("NOOP a\r");
    a.wait("A's NOOP reply", |s| {
        s.contains("2.0.0 ok") && last_prompt(s) == "ehlo[plain]>"
    });
    // B starts while A runs: the second connection of the scripted server.
    let mut b = Pty::start(home.path(), &["repl", &addr.to_string()]);
    a.keys(":quit\r");
    assert_eq!(a.exit_code(), 0, "{}", a.screen());
    b.wait("B's prompt", |s| last_prompt(s) == "ehlo[plain]>");
    b.keys("NOOP b\r");
    b.wait("B's NOOP reply", |s| {
        s.contains("2.0.0 ok") && last_prompt(s) == "ehlo[plain]>"
    });
    b.quit();
    let hist = std::fs::read_to_string(home.path().join("ehlo/history")).unwrap();
    assert_eq!(hist, "VRFY old\nNOOP a\n:quit\nNOOP b\n:quit\n");
}

/// A piped `:starttls --ca FILE` whose FILE holds no certificate (junk, an empty directory) is
/// checked as the send checks `--tls-ca-path` before connecting: one line naming the file,
/// STARTTLS never sent, the session goes on; with `--strict` the run ends with the usage code
/// (1), QUIT first. It used to send STARTTLS and fail inside the handshake.
#[test]
fn piped_starttls_with_an_unusable_ca_file_sends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate\n").unwrap();
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    for ca in [&junk, &empty] {
        for strict in [false, true] {
            let (addr, h) = plain_server();
            let addr = addr.to_string();
            let mut args = vec!["repl", addr.as_str()];
            if strict {
                args.push("--strict");
            }
            let script = format!("EHLO x.test\n:starttls --ca {}\nNOOP\nQUIT\n", ca.display());
            let run = ehlo(&args, script.as_bytes(), &[]);
            let got = String::from_utf8_lossy(&h.join().unwrap().remove(0)).to_string();
            let said = format!(
                ":starttls --ca: {} holds no PEM certificate (expected -----BEGIN CERTIFICATE-----) (nothing was sent)",
                ca.display()
            );
            assert_eq!(run.out.matches(&said).count(), 1, "{}", run.out);
            if strict {
                assert_eq!(run.code, 1, "{}", run.out);
                assert_eq!(got, "EHLO x.test\r\nQUIT\r\n", "{}", run.out);
                assert!(
                    run.out.contains("ending the session (exit 1)"),
                    "{}",
                    run.out
                );
            } else {
                assert_eq!(run.code, 0, "{}", run.out);
                assert_eq!(got, "EHLO x.test\r\nNOOP\r\nQUIT\r\n", "{}", run.out);
            }
        }
    }
}

/// The bytes each ended connection received.
type Received = Arc<Mutex<Vec<Vec<u8>>>>;

/// The scripted server ([`serve_conn`]: STARTTLS answered with bytes that are no TLS) on every
/// connection made to it, however many; the bytes each one received once it ended, and how
/// many were accepted.
fn starttls_garbage_server() -> (SocketAddr, Received, Arc<Mutex<usize>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let (done, accepted) = (Arc::new(Mutex::new(Vec::new())), Arc::new(Mutex::new(0)));
    let (d, a) = (done.clone(), accepted.clone());
    std::thread::spawn(move || {
        while let Ok((s, _)) = l.accept() {
            *a.lock().unwrap() += 1;
            let d = d.clone();
            std::thread::spawn(move || {
                let b = Behaviour {
                    rcpt: 250,
                    pipelining: false,
                };
                let got = serve_conn(s, b, true);
                d.lock().unwrap().push(got);
            });
        }
    });
    (addr, done, accepted)
}

/// Every connection's bytes once all `accepted` have ended.
fn received(done: &Mutex<Vec<Vec<u8>>>, accepted: &Mutex<usize>) -> Vec<String> {
    let start = Instant::now();
    loop {
        let n = *accepted.lock().unwrap();
        let d = done.lock().unwrap();
        if d.len() == n {
            return d
                .iter()
                .map(|b| String::from_utf8_lossy(b).into())
                .collect();
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "a connection never ended"
        );
        drop(d);
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Piped with `--tls` (and with `--strict` and a typed `:starttls`), a failed handshake ends
/// the run with exit 29 and a summary that says so: one connection, nothing sent in plain text
/// after it. It used to connect again and redo the automatic STARTTLS, hundreds of times, until
/// the stack overflowed (exit 134); `--strict` went on in plain text with exit 0 (or, after a
/// typed STARTTLS, exit 6).
#[test]
fn piped_tls_failure_ends_the_run_and_sends_nothing_in_plain_text() {
    let runs: [(&[&str], &str); 4] = [
        (
            &["--tls", "--helo", "x.test"],
            "MAIL FROM:<a@b.test>\nQUIT\n",
        ),
        (
            &["--tls", "--helo", "x.test", "--json"],
            "MAIL FROM:<a@b.test>\nQUIT\n",
        ),
        (
            &["--strict", "--json"],
            "EHLO x.test\n:starttls\nMAIL FROM:<a@b.test>\nQUIT\n",
        ),
        (
            &["--strict"],
            "EHLO x.test\nSTARTTLS\nMAIL FROM:<a@b.test>\nQUIT\n",
        ),
    ];
    for (flags, script) in runs {
        let (addr, done, accepted) = starttls_garbage_server();
        let addr = addr.to_string();
        let mut args = vec!["repl", addr.as_str()];
        args.extend_from_slice(flags);
        let run = ehlo(&args, script.as_bytes(), &[]);
        assert_eq!(run.code, 29, "{flags:?}: {}", run.out);
        let got = received(&done, &accepted);
        assert_eq!(
            got,
            ["EHLO x.test\r\nSTARTTLS\r\n"],
            "{flags:?}: {}",
            run.out
        );
        assert!(
            !run.out.contains("connecting again"),
            "{flags:?}: {}",
            run.out
        );
        if flags.contains(&"--json") {
            let summary: serde_json::Value = run
                .out
                .lines()
                .find(|l| l.starts_with(r#"{"type":"summary""#))
                .map(|l| serde_json::from_str(l).unwrap())
                .unwrap_or_else(|| panic!("no summary: {}", run.out));
            assert_eq!(summary["data"]["exit_code"], 29, "{summary}");
            assert_eq!(summary["data"]["outcome"], "tls", "{summary}");
            assert!(
                summary["data"]["error"]
                    .as_str()
                    .is_some_and(|e| e.starts_with("TLS handshake failed")),
                "{summary}"
            );
        } else {
            let said = format!(
                "{}: the TLS handshake failed: nothing more is sent in plain text",
                flags[0]
            );
            assert!(run.out.contains(&said), "{}", run.out);
        }
    }
}

/// On a terminal, `--tls` with a failing handshake says so once and connects again in plain
/// text, once (no automatic STARTTLS on that connection), leaving the prompt to the user.
#[test]
fn terminal_tls_failure_reconnects_once_in_plain_text() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, done, accepted) = starttls_garbage_server();
    let mut t = Pty::start(
        dir.path(),
        &["repl", &addr.to_string(), "--tls", "--helo", "x.test"],
    );
    let s = t.wait("the plain-text prompt after the failure", |s| {
        s.contains("connecting again in plain text") && last_prompt(s) == "ehlo[plain]>"
    });
    assert_eq!(
        s.matches("connecting again in plain text").count(),
        1,
        "{s}"
    );
    assert_eq!(s.matches("-> STARTTLS").count(), 1, "{s}");
    t.quit();
    t.assert_cooked();
    let got = received(&done, &accepted);
    assert_eq!(
        got,
        ["EHLO x.test\r\nSTARTTLS\r\n", "EHLO x.test\r\nQUIT\r\n"],
        "{}",
        t.screen()
    );
}

/// On a terminal, `--tls` against a server that does not offer STARTTLS says so and goes on in
/// plain text only on the user's yes: "n" (or anything typed ahead) ends the session with exit
/// 29 and nothing but QUIT sent; "y" goes on. It used to go on in plain text without a word
/// beyond "sending it anyway", and exit 0.
#[test]
fn terminal_tls_not_offered_asks_before_going_on_in_plain_text() {
    for yes in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let (addr, h) = plain_server();
        let mut t = Pty::start(
            dir.path(),
            &["repl", &addr.to_string(), "--tls", "--helo", "x.test"],
        );
        t.wait("the question", |s| {
            s.contains("--tls: STARTTLS is not advertised by the server")
                && s.contains("go on in plain text? [y/N]")
        });
        if yes {
            t.keys("y\r");
            t.wait("the plain-text prompt", |s| {
                last_prompt(s) == "ehlo[plain]>"
            });
            t.keys("NOOP\r");
            t.wait("the NOOP reply", |s| s.contains("250 2.0.0 ok"));
            t.quit();
        } else {
            t.keys("MAIL FROM:<a@b.test>\r");
            assert_eq!(t.exit_code(), 29, "{}", t.screen());
            // Its last words reach the screen through the reader thread, maybe after it left.
            t.wait("the refusal", |s| {
                s.contains("nothing is sent in plain text")
            });
        }
        t.assert_cooked();
        let got = String::from_utf8(h.join().unwrap().remove(0)).unwrap();
        let want = if yes {
            "EHLO x.test\r\nNOOP\r\nQUIT\r\n"
        } else {
            "EHLO x.test\r\nQUIT\r\n"
        };
        assert_eq!(got, want, "{}", t.screen());
    }
}

/// Ctrl-C at `:auth`'s password prompt cancels: the REPL says so (it used to say there was
/// "no terminal to ask on", on the terminal it had just asked on), and nothing is sent.
#[test]
fn terminal_ctrl_c_at_the_password_prompt_says_cancelled() {
    let home = tempfile::tempdir().unwrap();
    let (mut t, h) = plain_terminal(home.path(), &["--allow-plaintext-auth"]);
    t.ehlo("250 DSN");
    t.keys(":auth PLAIN bob\r");
    t.wait("the password prompt", |s| {
        s.contains("password (not shown):")
    });
    t.keys("\x03");
    let s = t.wait("the cancel", |s| s.contains("AUTH PLAIN cancelled"));
    assert!(!s.contains("no terminal to ask on"), "{s}");
    t.quit();
    let got = String::from_utf8(h.join().unwrap().remove(0)).unwrap();
    assert_eq!(got, "EHLO x.test\r\nQUIT\r\n");
}

/// `:auth DIGEST-MD5|NTLM|CRAM-SHA1 USER` asks for the password on the terminal like every
/// password mechanism (README: "then asks on the terminal"). They used to fail at once ("needs a
/// password"), and a password then typed at the command prompt went out as a command.
#[test]
fn terminal_auth_asks_the_password_for_every_password_mechanism() {
    for mech in ["DIGEST-MD5", "NTLM", "CRAM-SHA1"] {
        let home = tempfile::tempdir().unwrap();
        let (mut t, h) = plain_terminal(home.path(), &["--allow-plaintext-auth"]);
        t.ehlo("250 DSN");
        t.keys(format!(":auth {mech} bob\r"));
        t.wait("the password prompt", |s| {
            s.contains("password (not shown):") || s.contains("needs a password")
        });
        assert!(
            t.screen().contains("password (not shown):"),
            "{mech}: {}",
            t.screen()
        );
        t.keys("\x03");
        t.wait("the cancel", |s| {
            s.contains(&format!("AUTH {mech} cancelled"))
        });
        t.quit();
        let got = String::from_utf8(h.join().unwrap().remove(0)).unwrap();
        assert_eq!(got, "EHLO x.test\r\nQUIT\r\n", "{mech}");
    }
}

/// `:quit` prints no "closed — :reconnect or :quit" notice.
#[test]
fn terminal_quit_prints_no_reconnect_notice() {
    let home = tempfile::tempdir().unwrap();
    let (mut t, h) = plain_terminal(home.path(), &[]);
    t.quit();
    t.wait("the goodbye", |s| s.contains("221 2.0.0 bye"));
    assert!(
        !t.screen().contains(":reconnect or :quit"),
        "{}",
        t.screen()
    );
    assert_eq!(h.join().unwrap()[0], b"QUIT\r\n");
}

/// `:record FILE` refuses an existing file (`:record!` replaces, `:record -a`
/// appends); `:explain "550 5.7.1"` works as `:help` shows it; a piped session gets no
/// "— :reconnect or :quit" notice when the server closes.
#[test]
fn record_refuses_to_overwrite_and_explain_takes_quotes() {
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("kept.ehlo");
    std::fs::write(&rec, "# precious\n").unwrap();
    let rec_s = rec.to_str().unwrap();
    let (addr, h) = plain_server();
    let script = format!(
        ":record {rec_s}\nNOOP\n:record -a {rec_s}\nRSET\n:record\n:explain \"550 5.7.1\"\nQUIT\n"
    );
    let run = ehlo(&["repl", &addr.to_string()], script.as_bytes(), &[]);
    assert_eq!(run.code, 0, "{}", run.out);
    h.join().unwrap();
    assert!(
        run.out.contains("exists: :record! FILE replaces it"),
        "{}",
        run.out
    );
    assert!(!run.out.contains("is not a reply code"), "{}", run.out);
    assert!(run.out.contains("5.7.1"), "{}", run.out);
    assert!(!run.out.contains(":reconnect or :quit"), "{}", run.out);
    let text = std::fs::read_to_string(&rec).unwrap();
    assert!(text.starts_with("# precious\n"), "{text}");
    assert!(text.contains("> RSET\n< 250\n"), "{text}");
    assert!(!text.contains("> NOOP"), "{text}");

    let (addr, h) = plain_server();
    let script = format!(":record! {rec_s}\nNOOP\nQUIT\n");
    let run = ehlo(&["repl", &addr.to_string()], script.as_bytes(), &[]);
    assert_eq!(run.code, 0, "{}", run.out);
    h.join().unwrap();
    let text = std::fs::read_to_string(&rec).unwrap();
    assert!(
        !text.contains("precious") && text.contains("> NOOP\n< 250\n"),
        "{text}"
    );
}

/// The 50 lines typed ahead in [`terminal_type_ahead_of_50_lines_during_a_slow_reply`]: MAIL,
/// RCPT, `:data`, 46 content lines and the lone dot.
fn fifty_lines() -> Vec<String> {
    let mut v = vec![
        "MAIL FROM:<a@b.test>".to_string(),
        "RCPT TO:<c@d.test>".to_string(),
        ":data".to_string(),
    ];
    v.extend((1..=46).map(|i| format!("body line {i:02} with\ta tab")));
    v.push(".".to_string());
    assert_eq!(v.len(), 50);
    v
}

/// Type-ahead (rustyline's per-call reader loses it, rustyline issue 690): every line typed while a
/// reply is awaited must reach the server, in order — here 50 lines arrive in one read (a paste
/// without bracketing, a slow link) while the server trickles its reply at one byte a second.
#[test]
fn terminal_type_ahead_of_50_lines_during_a_slow_reply() {
    let home = tempfile::tempdir().unwrap();
    let (mut t, h) = plain_terminal(home.path(), &[]);
    t.keys("HELP SLOW\r");
    // Sent, so its reply (ten bytes, one a second) is being awaited: type ahead now.
    t.wait("SLOW sent", |s| s.contains(" -> HELP SLOW"));
    let lines = fifty_lines();
    let typed: String = lines.iter().map(|l| format!("{l}\r")).collect();
    t.keys(&typed);
    // Nothing typed ahead is echoed into the transcript while the reply is still
    // coming (each screen looked at before the reply is complete shows none of it).
    let watch = Instant::now();
    while watch.elapsed() < Duration::from_secs(1) {
        let s = t.screen();
        if s.contains("250 slow") {
            break;
        }
        assert!(!s.contains("MAIL FROM:<a@b.test>"), "echoed early:\n{s}");
        std::thread::sleep(Duration::from_millis(20));
    }
    t.wait("the message queued", |s| s.contains("2.0.0 queued"));
    t.wait("a fresh prompt", |s| last_prompt(s) == "ehlo[plain]>");
    t.keys("QUIT\r");
    t.wait("the goodbye", |s| s.contains("221 2.0.0 bye"));
    t.quit();
    t.assert_cooked();
    let got = String::from_utf8(h.join().unwrap().remove(0)).unwrap();
    let mut want =
        String::from("HELP SLOW\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nDATA\r\n");
    for l in &lines[3..] {
        want.push_str(l);
        want.push_str("\r\n");
    }
    want.push_str("QUIT\r\n");
    assert_eq!(got, want);
}

/// Secrets typed by hand — `AUTH PLAIN <blob>`, an `AUTH LOGIN` answered line by line,
/// `AUTH XOAUTH2 <blob>` — reach the server but no file the REPL writes (history under the data
/// directory, the `:record` script, the `--log`) holds the password, the token, their base64 or
/// the PLAIN blob; the screen shows fixed-length masks.
#[test]
fn terminal_typed_secrets_never_reach_a_file() {
    use base64::Engine as _;
    let b64 = |s: &[u8]| base64::engine::general_purpose::STANDARD.encode(s);
    let password = "Correct-Horse-Battery-9";
    let token = "ya29.tokentokentoken-XYZ";
    let plain = b64(format!("\0tim\0{password}").as_bytes());
    let xoauth = b64(format!("user=tim\x01auth=Bearer {token}\x01\x01").as_bytes());
    let bearer = b64(format!("n,a=tim,\x01auth=Bearer {token}\x01\x01").as_bytes());
    // Typed at the `:auth` prompt (not echoed, never in the history).
    let prompted = "Prompted-Secret-77";
    let prompted_plain = b64(format!("\0tim\0{prompted}").as_bytes());
    let raw_plain = b64(b"\0raw\0Raw-Typed-Secret-5");
    let secrets = [
        password.to_string(),
        token.to_string(),
        b64(password.as_bytes()),
        b64(token.as_bytes()),
        plain.clone(),
        xoauth.clone(),
        bearer.clone(),
        prompted.to_string(),
        b64(prompted.as_bytes()),
        prompted_plain.clone(),
        "Raw-Typed-Secret-5".to_string(),
        raw_plain.clone(),
    ];
    let home = tempfile::tempdir().unwrap();
    let rec_dir = tempfile::tempdir().unwrap();
    let rec = rec_dir.path().join("session.ehlo");
    let log = rec_dir.path().join("log.jsonl");
    let (mut t, h) = recorded_auth_session(home.path(), &rec, &log);
    t.keys(format!("AUTH PLAIN {plain}\r"));
    t.wait("the PLAIN answer", |s| s.matches("235 2.7.0").count() == 1);
    t.wait("a prompt", |s| last_prompt(s).starts_with("ehlo["));
    t.keys("AUTH LOGIN\r");
    t.wait("the user challenge", |s| s.contains("334 VXNlcm5hbWU6"));
    t.keys(format!("{}\r", b64(b"tim")));
    t.wait("the password challenge", |s| s.contains("334 UGFzc3dvcmQ6"));
    t.keys(format!("{}\r", b64(password.as_bytes())));
    t.wait("the LOGIN answer", |s| s.matches("235 2.7.0").count() == 2);
    t.keys(format!("AUTH XOAUTH2 {xoauth}\r"));
    t.wait("the XOAUTH2 answer", |s| {
        s.matches("235 2.7.0").count() == 3
    });
    t.wait("a prompt", |s| last_prompt(s).starts_with("ehlo["));
    t.keys(format!("AUTH OAUTHBEARER {bearer}\r"));
    t.wait("the OAUTHBEARER answer", |s| {
        s.matches("235 2.7.0").count() == 4
    });
    t.wait("a prompt", |s| last_prompt(s).starts_with("ehlo["));
    t.keys(":auth PLAIN tim\r");
    t.wait("the password prompt", |s| {
        s.trim_end().ends_with("password (not shown):")
    });
    t.keys(format!("{prompted}\r"));
    t.wait("the :auth answer", |s| s.matches("235 2.7.0").count() == 5);
    t.wait("a prompt", |s| last_prompt(s).starts_with("ehlo["));
    // `:raw` sends what it is given, an AUTH line too; it is stored masked all the same.
    t.keys(format!(":raw \"AUTH PLAIN {raw_plain}\\r\\n\"\r"));
    t.wait("the :raw AUTH answer", |s| {
        s.matches("235 2.7.0").count() == 6
    });
    t.wait("a prompt", |s| last_prompt(s).starts_with("ehlo["));
    t.keys("QUIT\r");
    t.wait("the goodbye", |s| s.contains("221 2.0.0 bye"));
    t.quit();
    let screen = t.screen();
    let got = String::from_utf8(h.join().unwrap().remove(0)).unwrap();
    // The secrets did go to the server.
    assert!(got.contains(&format!("AUTH PLAIN {plain}\r\n")), "{got}");
    assert!(
        got.contains(&format!("{}\r\n", b64(password.as_bytes()))),
        "{got}"
    );
    assert!(got.contains(&format!("AUTH XOAUTH2 {xoauth}\r\n")), "{got}");
    assert!(
        got.contains(&format!("AUTH OAUTHBEARER {bearer}\r\n")),
        "{got}"
    );
    assert!(
        got.contains(&format!("AUTH PLAIN {prompted_plain}\r\n")),
        "{got}"
    );
    assert!(
        got.contains(&format!("AUTH PLAIN {raw_plain}\r\n")),
        "{got}"
    );
    // Masks have one length whatever the secret's length.
    assert!(screen.contains("AUTH PLAIN ********\n"), "{screen}");
    assert!(screen.contains("AUTH XOAUTH2 ********\n"), "{screen}");
    assert!(screen.contains("AUTH OAUTHBEARER ********\n"), "{screen}");
    assert!(screen.contains("AUTH PLAIN ********"), "{screen}");
    assert!(!screen.contains("*********"), "{screen}");
    // Every file under the data directory (history) and next to the recording.
    let mut files = Vec::new();
    let mut dirs = vec![home.path().to_path_buf(), rec_dir.path().to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                files.push(p);
            }
        }
    }
    let history = home.path().join("ehlo/history");
    assert!(files.contains(&history), "no history written: {files:?}");
    assert!(files.contains(&rec) && files.contains(&log), "{files:?}");
    for f in &files {
        let text = String::from_utf8_lossy(&std::fs::read(f).unwrap()).into_owned();
        for s in &secrets {
            assert!(
                !text.contains(s.as_str()),
                "{} holds {s:?}:\n{text}",
                f.display()
            );
        }
    }
    // The history still shows what was done, masked.
    let hist = std::fs::read_to_string(&history).unwrap();
    assert!(hist.contains("AUTH PLAIN ********"), "{hist}");
    assert!(
        hist.contains(":raw \"AUTH PLAIN ********\\r\\n\""),
        "{hist}"
    );
    // The recording replays: each AUTH as an `:auth` step that reads the secret at replay.
    let rec = std::fs::read_to_string(&rec).unwrap();
    for step in [
        "> :auth PLAIN tim\n",
        "> :auth XOAUTH2 tim\n",
        "> :auth OAUTHBEARER tim\n",
        "> :auth PLAIN raw\n",
    ] {
        assert!(rec.contains(step), "{step:?} not in\n{rec}");
    }
}

/// Secrets typed where none was expected: `AUTH <blob>` (the mechanism left out: the history
/// kept the blob and `:status` showed it upper-cased), `:auth USER PASSWORD` (kept whole in the
/// history) and a password typed at the command prompt (sent, shown, kept). Now the blob goes
/// out (typed AUTH is sent as typed) but is drawn and kept masked, and the other two are not
/// sent, drawn as the mask or not repeated, and not kept. A history file made wider than 0600
/// before is narrowed when saved.
#[test]
fn terminal_secrets_typed_where_none_was_expected_stay_out_of_the_history() {
    use base64::Engine as _;
    use std::os::unix::fs::PermissionsExt;
    let password = "Wrong-Prompt-Secret-42";
    let blob = base64::engine::general_purpose::STANDARD.encode(format!("\0tim\0{password}"));
    let home = tempfile::tempdir().unwrap();
    let history = home.path().join("ehlo/history");
    std::fs::create_dir_all(history.parent().unwrap()).unwrap();
    std::fs::write(&history, "NOOP\n").unwrap();
    std::fs::set_permissions(&history, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (mut t, h) = plain_terminal(home.path(), &["--allow-plaintext-auth"]);
    t.ehlo("250 DSN");
    t.keys(format!("AUTH {blob}\r"));
    t.wait("the AUTH answer", |s| s.contains("235 2.7.0"));
    t.wait("a prompt", |s| last_prompt(s).starts_with("ehlo["));
    t.keys(format!("{password}\r"));
    t.wait("the refusal", |s| {
        s.contains("not sent: the line's first word is no SMTP verb")
    });
    t.keys(format!(":auth tim {password}\r"));
    t.wait("the :auth refusal", |s| {
        s.contains("ehlo does not implement the mechanism named")
    });
    t.keys(":status\r");
    t.wait("the status", |s| s.contains("with no mechanism named"));
    t.keys("QUIT\r");
    t.wait("the goodbye", |s| s.contains("221 2.0.0 bye"));
    t.quit();
    let screen = t.screen();
    let got = String::from_utf8(h.join().unwrap().remove(0)).unwrap();
    assert_eq!(
        got,
        format!("EHLO x.test\r\nAUTH {blob}\r\nQUIT\r\n"),
        "{screen}"
    );
    // Drawn again masked over what the keys echoed.
    assert!(screen.contains("AUTH ********\n"), "{screen}");
    let upper = screen.to_ascii_uppercase();
    assert!(!upper.contains(&blob.to_ascii_uppercase()), "{screen}");
    assert!(!upper.contains(&password.to_ascii_uppercase()), "{screen}");
    let hist = std::fs::read_to_string(&history).unwrap();
    assert_eq!(
        hist,
        "NOOP\nEHLO x.test\nAUTH ********\n:auth ********\n:status\nQUIT\n:quit\n"
    );
    let mode = std::fs::metadata(&history).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
}

/// A password of letters only, typed at the command prompt after the server refused an
/// `AUTH LOGIN` at once (535, no 334 asking for it), is no command: it used to go out as one
/// (in the clear, before any STARTTLS), echoed as sent and written to the history, the `--log`
/// and the recording; an unknown letters-only word now needs `:raw`, as a typo did.
#[test]
fn terminal_a_letters_only_password_typed_after_a_refused_auth_goes_nowhere() {
    let password = "Lettersonlysecret";
    let home = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let log = files.path().join("log.json");
    let rec = files.path().join("session.ehlo");
    let (addr, h) = auth_answering_server(b"535 5.7.8 Authentication credentials invalid\r\n");
    let mut t = Pty::repl(
        home.path(),
        addr,
        &[
            "--allow-plaintext-auth",
            "--log",
            log.to_str().unwrap(),
            "--record",
            rec.to_str().unwrap(),
        ],
    );
    t.ehlo("250 AUTH LOGIN PLAIN");
    t.keys("AUTH LOGIN\r");
    t.wait("the refusal", |s| {
        s.contains("535 5.7.8") && last_prompt(s) == "ehlo[plain]>"
    });
    t.keys(format!("{password}\r"));
    t.wait("the line refused", |s| {
        s.contains("not sent: the line's first word is no SMTP verb")
    });
    t.keys("EHLLO x.test\r");
    t.wait("the typo refused", |s| s.contains("(a typo of EHLO?)"));
    t.keys(":raw \"XYZZY\\r\\n\"\r");
    t.wait("the unknown verb's answer", |s| {
        s.contains("500 5.5.2 what")
    });
    t.keys("QUIT\r");
    t.wait("the goodbye", |s| s.contains("221 2.0.0 bye"));
    t.quit();
    let screen = t.screen();
    let got = String::from_utf8(h.join().unwrap()).unwrap();
    assert_eq!(
        got, "EHLO x.test\r\nAUTH LOGIN\r\nXYZZY\r\nQUIT\r\n",
        "{screen}"
    );
    assert!(!screen.contains(password), "{screen}");
    assert!(!screen.contains("EHLLO x.test\n"), "{screen}");
    let hist = std::fs::read_to_string(home.path().join("ehlo/history")).unwrap();
    assert_eq!(
        hist,
        "EHLO x.test\nAUTH LOGIN\n:raw \"XYZZY\\r\\n\"\nQUIT\n:quit\n"
    );
    for f in [&log, &rec] {
        let text = std::fs::read_to_string(f).unwrap();
        assert!(!text.contains(password), "{}: {text}", f.display());
        assert!(!text.contains("EHLLO"), "{}: {text}", f.display());
    }
}

/// AUTH LOGIN sent by `:raw` — answered by lines typed after it, or with both responses in the
/// same bytes — reaches the server, but the responses reach no file the REPL writes: the typed
/// ones are asked for as secrets (not echoed, never in the history), the `:raw` line is kept in
/// the history with every line after the AUTH masked, and the recording has `:auth` steps.
#[test]
fn terminal_raw_auth_responses_never_reach_a_file() {
    use base64::Engine as _;
    let b64 = |s: &[u8]| base64::engine::general_purpose::STANDARD.encode(s);
    let typed = "Raw-Login-Typed-6";
    let inline = "Raw-Login-Inline-8";
    let secrets = [
        typed.to_string(),
        b64(typed.as_bytes()),
        inline.to_string(),
        b64(inline.as_bytes()),
    ];
    let home = tempfile::tempdir().unwrap();
    let rec_dir = tempfile::tempdir().unwrap();
    let rec = rec_dir.path().join("session.ehlo");
    let log = rec_dir.path().join("log.jsonl");
    let (mut t, h) = recorded_auth_session(home.path(), &rec, &log);
    t.keys(":raw \"AUTH LOGIN\\r\\n\"\r");
    t.wait("the user challenge", |s| s.contains("334 VXNlcm5hbWU6"));
    t.keys(format!("{}\r", b64(b"tim")));
    t.wait("the password challenge", |s| s.contains("334 UGFzc3dvcmQ6"));
    t.keys(format!("{}\r", b64(typed.as_bytes())));
    t.wait("the LOGIN answer", |s| s.matches("235 2.7.0").count() == 1);
    t.wait("a prompt", |s| last_prompt(s).starts_with("ehlo["));
    t.keys(format!(
        ":raw \"AUTH LOGIN\\r\\n{}\\r\\n{}\\r\\n\"\r",
        b64(b"tim"),
        b64(inline.as_bytes())
    ));
    t.wait("the inline LOGIN answer", |s| {
        s.matches("235 2.7.0").count() == 2
    });
    t.wait("a prompt", |s| last_prompt(s).starts_with("ehlo["));
    t.keys("QUIT\r");
    t.wait("the goodbye", |s| s.contains("221 2.0.0 bye"));
    t.quit();
    let screen = t.screen();
    let got = String::from_utf8(h.join().unwrap().remove(0)).unwrap();
    for pw in [typed, inline] {
        assert!(
            got.contains(&format!("{}\r\n", b64(pw.as_bytes()))),
            "{got}"
        );
    }
    // The transcript shows fixed-length masks; the typed responses were not echoed.
    assert_eq!(screen.matches(" -> ********\n").count(), 4, "{screen}");
    let history = home.path().join("ehlo/history");
    for f in [&history, &rec, &log] {
        let text = std::fs::read_to_string(f).unwrap();
        for s in secrets.iter().chain([b64(b"tim")].iter()) {
            assert!(
                !text.contains(s.as_str()),
                "{} holds {s:?}:\n{text}",
                f.display()
            );
        }
    }
    // (The inline responses are on the screen once: in the `:raw` line as the user typed it.)
    assert!(!screen.contains(&b64(typed.as_bytes())), "{screen}");
    let hist = std::fs::read_to_string(&history).unwrap();
    assert!(hist.contains(":raw \"AUTH LOGIN\\r\\n\"\n"), "{hist}");
    assert!(
        hist.contains(":raw \"AUTH LOGIN\\r\\n********\\r\\n********\\r\\n\"\n"),
        "{hist}"
    );
    let rec = std::fs::read_to_string(&rec).unwrap();
    // Both with the user (the typed one from its first response): each replays with only the
    // password given.
    let step = "> :auth LOGIN tim\n< 334\n< 334\n< 235\n";
    assert_eq!(rec.matches(step).count(), 2, "{step:?} not twice in\n{rec}");
}

/// A terminal REPL on a scripted server (RCPT 250, no PIPELINING) with `--record REC`,
/// `--log LOG` and `--allow-plaintext-auth`, past its first prompt and the EHLO reply.
fn recorded_auth_session(
    home: &std::path::Path,
    rec: &std::path::Path,
    log: &std::path::Path,
) -> (Pty, JoinHandle<Vec<Vec<u8>>>) {
    let (mut t, h) = plain_terminal(
        home,
        &[
            "--record",
            rec.to_str().unwrap(),
            "--log",
            log.to_str().unwrap(),
            "--allow-plaintext-auth",
        ],
    );
    t.ehlo("250 DSN");
    (t, h)
}

/// A server that refuses every AUTH (538: encryption required, as aiosmtpd does without TLS)
/// and answers any other line not QUIT with 500, or 250 for NOOP. Returns every byte received.
fn auth_refusing_server() -> (SocketAddr, JoinHandle<Vec<u8>>) {
    auth_answering_server(
        b"538 5.7.11 Encryption required for requested authentication mechanism\r\n",
    )
}

/// The same server answering every AUTH with `auth` at once (a 235, a 503, a 535: anything
/// but the 334 that asks for a response).
fn auth_answering_server(auth: &'static [u8]) -> (SocketAddr, JoinHandle<Vec<u8>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let h = std::thread::spawn(move || {
        let Ok((s, _)) = l.accept() else {
            return Vec::new();
        };
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut w = s.try_clone().unwrap();
        let mut r = BufReader::new(s);
        let mut got = Vec::new();
        let _ = w.write_all(b"220 refusing.test ESMTP\r\n");
        loop {
            let mut line = Vec::new();
            match r.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            got.extend_from_slice(&line);
            let verb = String::from_utf8_lossy(&line)
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_ascii_uppercase();
            let reply: &[u8] = match verb.as_str() {
                "EHLO" => b"250-refusing.test\r\n250 AUTH LOGIN PLAIN\r\n",
                "AUTH" => auth,
                "NOOP" => b"250 2.0.0 ok\r\n",
                "QUIT" => {
                    let _ = w.write_all(b"221 2.0.0 bye\r\n");
                    break;
                }
                _ => b"500 5.5.2 what\r\n",
            };
            let _ = w.write_all(reply);
        }
        got
    });
    (addr, h)
}

/// Piped, a typed `AUTH LOGIN` / `AUTH PLAIN` without an initial response that the server
/// refuses (no 334) is followed by the lines meant as its SASL responses: they are not
/// commands (no SMTP verb, no `:`), so they are taken for responses: never sent, shown only as
/// the fixed mask, in the transcript, the JSON, the `--log` file and the recording; the next
/// command goes out again. With `--strict` the refusal ends the run before them. They used to
/// go out as commands, echoed in clear.
#[test]
fn piped_responses_after_a_refused_auth_are_never_sent_or_shown() {
    let b64 = |s: &[u8]| {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(s)
    };
    let (user, pass, plain) = (
        b64(b"tim"),
        b64(b"pw-after-refusal"),
        b64(b"\0tim\0pw-after-refusal"),
    );
    let scripts = [
        format!("EHLO x.test\nAUTH LOGIN\n{user}\n{pass}\nNOOP\nQUIT\n"),
        format!("EHLO x.test\nauth plain\n{plain}\n\nNOOP\nQUIT\n"),
    ];
    for script in &scripts {
        for flags in [&[][..], &["--json"][..], &["--strict"][..]] {
            let dir = tempfile::tempdir().unwrap();
            let (rec, log) = (dir.path().join("s.rec"), dir.path().join("s.jsonl"));
            let (addr, h) = auth_refusing_server();
            let addr = addr.to_string();
            let mut args = vec![
                "repl",
                addr.as_str(),
                "--allow-plaintext-auth",
                "--record",
                rec.to_str().unwrap(),
                "--log",
                log.to_str().unwrap(),
            ];
            args.extend_from_slice(flags);
            let run = ehlo(&args, script.as_bytes(), &[]);
            let got = String::from_utf8(h.join().unwrap()).unwrap();
            let texts = [
                ("output", run.out.clone()),
                ("recording", std::fs::read_to_string(&rec).unwrap()),
                ("log", std::fs::read_to_string(&log).unwrap()),
                ("server", got.clone()),
            ];
            for (what, text) in &texts {
                for secret in [&user, &pass, &plain] {
                    assert!(
                        !text.contains(secret.as_str()),
                        "{flags:?}: the {what} holds {secret}:\n{text}"
                    );
                }
            }
            if flags == ["--strict"] {
                assert_eq!(run.code, 28, "{}", run.out);
                continue;
            }
            assert_eq!(run.code, 0, "{}", run.out);
            // The next command goes out: the lines after the refusal were skipped, not the
            // rest of the script.
            assert!(got.ends_with("NOOP\r\nQUIT\r\n"), "{got}");
            assert!(
                !got.contains("500") && !run.out.contains("500 5.5.2"),
                "{}",
                run.out
            );
            assert!(run.out.contains("********"), "{}", run.out);
            assert!(
                run.out
                    .contains("taken for a SASL response after the refused AUTH: not sent"),
                "{}",
                run.out
            );
        }
    }
}

/// Piped, a typed `AUTH LOGIN` that the server answers at once with its final reply — a 235
/// (some servers authenticate by address or certificate), a 503, a 535 — is followed by the
/// lines the script meant as the user and the password: they are never sent as commands, nor
/// written in clear in the transcript, the `--json` `sent` events, the `--log` file or the
/// recording; the next command goes out. After a 235 they used to go out as commands.
#[test]
fn piped_responses_after_an_auth_answered_at_once_are_never_sent_or_shown() {
    let b64 = |s: &[u8]| {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(s)
    };
    let (user, pass) = (b64(b"tim"), b64(b"pw-answered-at-once"));
    let script = format!("EHLO x.test\nAUTH LOGIN\n{user}\n{pass}\nNOOP\nQUIT\n");
    let replies: [&[u8]; 3] = [
        b"235 2.7.0 Authentication successful\r\n",
        b"503 5.5.1 Already authenticated\r\n",
        b"535 5.7.8 Authentication credentials invalid\r\n",
    ];
    for reply in replies {
        for flags in [&[][..], &["--json"][..]] {
            let dir = tempfile::tempdir().unwrap();
            let (rec, log) = (dir.path().join("s.rec"), dir.path().join("s.jsonl"));
            let (addr, h) = auth_answering_server(reply);
            let addr = addr.to_string();
            let mut args = vec![
                "repl",
                addr.as_str(),
                "--allow-plaintext-auth",
                "--record",
                rec.to_str().unwrap(),
                "--log",
                log.to_str().unwrap(),
            ];
            args.extend_from_slice(flags);
            let run = ehlo(&args, script.as_bytes(), &[]);
            let got = String::from_utf8(h.join().unwrap()).unwrap();
            let code = String::from_utf8_lossy(&reply[..3]).to_string();
            assert_eq!(
                got, "EHLO x.test\r\nAUTH LOGIN\r\nNOOP\r\nQUIT\r\n",
                "{code} {flags:?}: {}",
                run.out
            );
            let texts = [
                ("output", run.out.clone()),
                ("recording", std::fs::read_to_string(&rec).unwrap()),
                ("log", std::fs::read_to_string(&log).unwrap()),
            ];
            for (what, text) in &texts {
                for secret in [&user, &pass] {
                    assert!(
                        !text.contains(secret.as_str()),
                        "{code} {flags:?}: the {what} holds {secret}:\n{text}"
                    );
                }
            }
            assert_eq!(run.code, 0, "{code}: {}", run.out);
            assert!(run.out.contains("taken for a SASL response"), "{}", run.out);
        }
    }
}

/// A server whose 334 to an AUTH without initial response comes only after the first SASL
/// response did (as a slow server's is overtaken by what the user typed meanwhile): AUTH PLAIN →
/// 334 and 235 at once; AUTH LOGIN → both 334s, then 235 after the password (RFC 4954 §4).
/// Every other line is answered at once. `refuse`: AUTH PLAIN is refused instead, 1.5 s late.
/// Returns every byte received.
fn late_sasl_server(refuse: bool) -> (SocketAddr, JoinHandle<Vec<u8>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let h = std::thread::spawn(move || {
        let Ok((s, _)) = l.accept() else {
            return Vec::new();
        };
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut w = s.try_clone().unwrap();
        let mut r = BufReader::new(s);
        let mut got = Vec::new();
        let next = |r: &mut BufReader<TcpStream>, got: &mut Vec<u8>| {
            let mut line = Vec::new();
            match r.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => None,
                Ok(_) => {
                    got.extend_from_slice(&line);
                    Some(
                        String::from_utf8_lossy(&line)
                            .trim_end()
                            .to_ascii_uppercase(),
                    )
                }
            }
        };
        let _ = w.write_all(b"220 slow.test ESMTP\r\n");
        while let Some(text) = next(&mut r, &mut got) {
            let reply: &[u8] = if text.starts_with("EHLO") {
                b"250-slow.test\r\n250 AUTH PLAIN LOGIN\r\n"
            } else if text == "AUTH PLAIN" && refuse {
                std::thread::sleep(Duration::from_millis(1500));
                b"504 5.5.4 not now\r\n"
            } else if text == "AUTH PLAIN" {
                if next(&mut r, &mut got).is_none() {
                    break;
                }
                b"334 \r\n235 2.7.0 authenticated\r\n"
            } else if text == "AUTH LOGIN" {
                if next(&mut r, &mut got).is_none() {
                    break;
                }
                let _ = w.write_all(b"334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n");
                if next(&mut r, &mut got).is_none() {
                    break;
                }
                b"235 2.7.0 authenticated\r\n"
            } else if text == "QUIT" {
                let _ = w.write_all(b"221 2.0.0 bye\r\n");
                break;
            } else {
                b"250 2.0.0 ok\r\n"
            };
            let _ = w.write_all(reply);
        }
        got
    });
    (addr, h)
}

/// A SASL response typed before the server's 334 arrives (the wait for it ran out: "no reply
/// within 1s") is a secret all the same: not echoed, masked in the transcript, never in the
/// history nor the recording (where the exchange is the `:auth` step a timely 334 makes); once
/// the exchange's final reply is in, the next line is a command again, shown as typed.
#[test]
fn terminal_sasl_responses_typed_before_the_334_stay_secret() {
    use base64::Engine as _;
    let b64 = |s: &[u8]| base64::engine::general_purpose::STANDARD.encode(s);
    let password = "Late-Typed-Secret-4";
    let blob = b64(format!("\0tim\0{password}").as_bytes());
    let user = b64(b"tim.login");
    let login_pw = b64(password.as_bytes());
    let secrets = [
        password.to_string(),
        blob.clone(),
        user.clone(),
        login_pw.clone(),
    ];
    let home = tempfile::tempdir().unwrap();
    let rec_dir = tempfile::tempdir().unwrap();
    let rec = rec_dir.path().join("session.ehlo");
    let (addr, h) = late_sasl_server(false);
    let mut t = Pty::repl(
        home.path(),
        addr,
        &[
            "--timeout",
            "1",
            "--record",
            rec.to_str().unwrap(),
            "--allow-plaintext-auth",
        ],
    );
    t.keys("EHLO x.test\r");
    t.wait("the EHLO reply", |s| s.contains("250 AUTH PLAIN LOGIN"));
    t.wait("a prompt", |s| last_prompt(s) == "ehlo[plain]>");
    let timeouts = |s: &str| s.matches("no reply within 1s").count();
    let before = timeouts(&t.screen());
    t.keys("AUTH PLAIN\r");
    t.wait("the wait to run out", |s| timeouts(s) > before);
    t.keys(format!("{blob}\r"));
    t.wait("the PLAIN answer", |s| s.contains("235 2.7.0"));
    t.wait("a prompt", |s| last_prompt(s) == "ehlo[plain|authed]>");
    // The exchange is over: a command is shown again.
    t.keys("NOOP\r");
    t.wait("the NOOP answer", |s| s.contains("250 2.0.0 ok"));
    let before = timeouts(&t.screen());
    t.keys("AUTH LOGIN\r");
    t.wait("the wait to run out", |s| timeouts(s) > before);
    t.keys(format!("{user}\r{login_pw}\r"));
    t.wait("the LOGIN answer", |s| s.matches("235 2.7.0").count() == 2);
    t.wait("a prompt", |s| last_prompt(s) == "ehlo[plain|authed]>");
    t.keys("QUIT\r");
    t.wait("the goodbye", |s| s.contains("221 2.0.0 bye"));
    t.quit();
    let screen = t.screen();
    let got = String::from_utf8(h.join().unwrap()).unwrap();
    // The secrets did reach the server, as typed.
    assert_eq!(
        got,
        format!(
            "EHLO x.test\r\nAUTH PLAIN\r\n{blob}\r\nNOOP\r\nAUTH LOGIN\r\n{user}\r\n{login_pw}\r\nQUIT\r\n"
        )
    );
    assert_eq!(screen.matches(" -> ********\n").count(), 3, "{screen}");
    assert!(screen.contains(" -> NOOP\n"), "{screen}");
    assert!(screen.contains(" -> QUIT\n"), "{screen}");
    for s in &secrets {
        assert!(
            !screen.contains(s.as_str()),
            "the screen holds {s:?}:\n{screen}"
        );
    }
    let history = home.path().join("ehlo/history");
    let hist = std::fs::read_to_string(&history).unwrap();
    let rec = std::fs::read_to_string(&rec).unwrap();
    for (what, text) in [("the history", &hist), ("the recording", &rec)] {
        for s in &secrets {
            assert!(!text.contains(s.as_str()), "{what} holds {s:?}:\n{text}");
        }
    }
    assert_eq!(
        hist,
        "EHLO x.test\nAUTH PLAIN\nNOOP\nAUTH LOGIN\nQUIT\n:quit\n"
    );
    // As the 334 in time records it: the empty 334 PLAIN asked with is not part of the step.
    // The user named by the first response joins the step (never the password).
    assert!(rec.contains("> :auth PLAIN tim\n< 235\n> NOOP\n"), "{rec}");
    assert!(
        rec.contains("> :auth LOGIN tim.login\n< 334\n< 334\n< 235\n> QUIT\n"),
        "{rec}"
    );
}

/// A response half typed at the secret prompt when the server refuses the AUTH: the prompt
/// keeps hiding it, and entered after the refusal it is not sent as a command (it would be shown
/// and kept in the history), it is dropped with a word.
#[test]
fn terminal_a_response_typed_as_the_exchange_ends_is_never_shown() {
    let secret = "Half-Typed-Secret-3";
    let home = tempfile::tempdir().unwrap();
    let (addr, h) = late_sasl_server(true);
    let mut t = Pty::repl(
        home.path(),
        addr,
        &["--timeout", "1", "--allow-plaintext-auth"],
    );
    t.keys("AUTH PLAIN\r");
    t.wait("the wait to run out", |s| s.contains("no reply within 1s"));
    t.keys(secret);
    t.wait("the refusal", |s| s.contains("504 5.5.4 not now"));
    t.keys("\r");
    t.wait("the word on it", |s| {
        s.contains("the SASL exchange ended while this response was typed: not sent")
    });
    t.keys("QUIT\r");
    t.wait("the goodbye", |s| s.contains("221 2.0.0 bye"));
    t.quit();
    let screen = t.screen();
    assert!(!screen.contains(secret), "{screen}");
    let hist = std::fs::read_to_string(home.path().join("ehlo/history")).unwrap();
    assert!(!hist.contains(secret), "{hist}");
    let got = String::from_utf8(h.join().unwrap()).unwrap();
    assert_eq!(got, "AUTH PLAIN\r\nQUIT\r\n");
}

/// A server whose AUTH asks for one response (`334 VXNlcm5hbWU6`) and answers a `*` as RFC 4954
/// §4 says (501, the exchange cancelled), anything else with 535 (a failed login, the kind a
/// server logs and fail2ban counts); NOOP 250, QUIT 221. Returns every byte received.
fn cancelling_sasl_server() -> (SocketAddr, JoinHandle<Vec<u8>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let h = std::thread::spawn(move || {
        let Ok((s, _)) = l.accept() else {
            return Vec::new();
        };
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut w = s.try_clone().unwrap();
        let mut r = BufReader::new(s);
        let mut got = Vec::new();
        let _ = w.write_all(b"220 sasl.test ESMTP\r\n");
        let mut in_auth = false;
        loop {
            let mut line = Vec::new();
            match r.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            got.extend_from_slice(&line);
            if std::mem::take(&mut in_auth) {
                let reply: &[u8] = if line == b"*\r\n" {
                    b"501 5.7.0 Authentication aborted\r\n"
                } else {
                    b"535 5.7.8 Error: authentication failed\r\n"
                };
                let _ = w.write_all(reply);
                continue;
            }
            let verb = String::from_utf8_lossy(&line)
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_ascii_uppercase();
            let reply: &[u8] = match verb.as_str() {
                "EHLO" => b"250-sasl.test\r\n250 AUTH LOGIN PLAIN\r\n",
                "AUTH" => {
                    in_auth = true;
                    b"334 VXNlcm5hbWU6\r\n"
                }
                "NOOP" => b"250 2.0.0 ok\r\n",
                "QUIT" => {
                    let _ = w.write_all(b"221 2.0.0 bye\r\n");
                    break;
                }
                _ => b"500 5.5.2 what\r\n",
            };
            let _ = w.write_all(reply);
        }
        got
    });
    (addr, h)
}

/// Leaving at the prompt of a typed AUTH's SASL response (Ctrl-D, `:quit`) cancels the exchange
/// with `*` first (RFC 4954 §4), and QUIT goes out as a command; Ctrl-C there cancels it too, so
/// the next line typed is a command again (echoed, sent as typed). `QUIT` and the next command
/// used to go out as the response: a failed login (535) the server logged, shown only as
/// `********`, and the session left without its QUIT. The server's 501 to the `*` answers the
/// user's own cancel: it used to get the hint "the server wants authentication: add :auth …".
#[test]
fn terminal_leaving_or_ctrl_c_at_a_sasl_prompt_cancels_the_exchange() {
    for (keys, wire) in [
        ("\x04", "AUTH LOGIN\r\n*\r\nQUIT\r\n"),
        (":quit\r", "AUTH LOGIN\r\n*\r\nQUIT\r\n"),
        ("abc\x03", "AUTH LOGIN\r\n*\r\nNOOP\r\nQUIT\r\n"),
    ] {
        let home = tempfile::tempdir().unwrap();
        let (addr, h) = cancelling_sasl_server();
        let mut t = Pty::repl(home.path(), addr, &["--allow-plaintext-auth"]);
        t.keys("AUTH LOGIN\r");
        t.wait("the challenge", |s| s.contains("334 VXNlcm5hbWU6"));
        t.keys(keys);
        if keys.ends_with('\x03') {
            t.wait("the cancel", |s| s.contains("501 5.7.0"));
            t.keys("NOOP\r");
            let s = t.wait("the NOOP's reply", |s| s.contains("250 2.0.0 ok"));
            assert!(s.contains("-> NOOP"), "{s}");
            t.quit();
        } else {
            assert_eq!(t.exit_code(), 0, "{}", t.screen());
        }
        let screen = t.screen();
        // A reply line, not any "535": the server's random port may hold those digits.
        assert!(!screen.contains("<-  535"), "{keys:?}: {screen}");
        // The 501 answers the cancel the user asked for: no call to authenticate.
        assert!(
            !screen.contains("wants authentication"),
            "{keys:?}: {screen}"
        );
        let got = String::from_utf8(h.join().unwrap()).unwrap();
        assert_eq!(got, wire, "{keys:?}: {screen}");
        t.assert_cooked();
    }
}

/// A server that offers STARTTLS, answers it 220 and then says nothing (no TLS record): the
/// handshake waits. Returns every byte received.
fn silent_tls_server() -> (
    SocketAddr,
    JoinHandle<Vec<u8>>,
    std::sync::mpsc::Receiver<()>,
) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let (hello, hello_seen) = std::sync::mpsc::channel();
    let h = std::thread::spawn(move || {
        let Ok((s, _)) = l.accept() else {
            return Vec::new();
        };
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut w = s.try_clone().unwrap();
        let mut r = BufReader::new(s);
        let mut got = Vec::new();
        let _ = w.write_all(b"220 silent.test ESMTP\r\n");
        loop {
            let mut line = Vec::new();
            match r.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            got.extend_from_slice(&line);
            if line.to_ascii_uppercase().starts_with(b"EHLO") {
                let _ = w.write_all(b"250-silent.test\r\n250 STARTTLS\r\n");
            } else if line.to_ascii_uppercase().starts_with(b"STARTTLS") {
                let _ = w.write_all(b"220 2.0.0 go ahead\r\n");
                // The ClientHello arrives (said once its first byte is in); no answer, until
                // the client goes away.
                let mut first = [0u8; 1];
                if r.read_exact(&mut first).is_ok() {
                    let _ = hello.send(());
                }
                let mut rest = Vec::new();
                let _ = r.read_to_end(&mut rest);
                break;
            }
        }
        got
    });
    (addr, h, hello_seen)
}

/// Ctrl-C during a `:starttls` handshake stops it at once, as it stops the wait for a reply:
/// the connection goes with it (a handshake cannot be resumed) and the session goes on. It used
/// to be ignored until `--timeout` (here a minute) ended the handshake.
#[test]
fn terminal_ctrl_c_stops_a_tls_handshake() {
    let home = tempfile::tempdir().unwrap();
    let (addr, h, hello_seen) = silent_tls_server();
    let mut t = Pty::repl(home.path(), addr, &["--timeout", "60"]);
    t.ehlo("250 STARTTLS");
    t.keys(":starttls\r");
    t.wait("the 220", |s| s.contains("220 2.0.0 go ahead"));
    // The handshake is under way (its ClientHello sent, no answer coming).
    hello_seen
        .recv_timeout(Duration::from_secs(20))
        .expect("no ClientHello came");
    let start = Instant::now();
    t.keys("\x03");
    let s = t.wait("the handshake stopped", |s| {
        s.contains("TLS handshake was stopped (Ctrl-C)") && last_prompt(s) == "ehlo[closed]>"
    });
    assert!(start.elapsed() < Duration::from_secs(10), "{s}");
    t.quit();
    t.assert_cooked();
    let got = h.join().unwrap();
    assert!(got.starts_with(b"EHLO x.test\r\nSTARTTLS\r\n"), "{got:?}");
}

/// Lines typed ahead of a `:starttls` handshake that Ctrl-C stops are held as at a reply's
/// wait: not run, kept in the history, said. They used to run at the next prompt, on the
/// connection the stopped handshake had closed: each said not sent, and lost.
/// The same for the SMTP verb typed (`STARTTLS`, not `:starttls`): the handshake stops at
/// once, the whole line typed ahead is kept, the half-typed one stays at the prompt.
#[test]
fn terminal_ctrl_c_stopping_a_tls_handshake_keeps_the_lines_typed_ahead() {
    for command in [":starttls", "STARTTLS"] {
        let home = tempfile::tempdir().unwrap();
        let (addr, h, hello_seen) = silent_tls_server();
        let mut t = Pty::repl(home.path(), addr, &["--timeout", "60"]);
        t.ehlo("250 STARTTLS");
        t.keys(format!("{command}\r"));
        t.wait("the 220", |s| s.contains("220 2.0.0 go ahead"));
        hello_seen
            .recv_timeout(Duration::from_secs(20))
            .expect("no ClientHello came");
        t.keys("MAIL FROM:<a@b.test>\rRCPT half");
        t.wait_keys_read();
        let start = Instant::now();
        t.keys("\x03");
        let s = t.wait("the line kept", |s| {
            s.contains("TLS handshake was stopped (Ctrl-C)")
                && s.contains(
                    "1 line typed ahead not sent (Ctrl-C): kept in the history, Up recalls them",
                )
                && last_prompt(s) == "ehlo[closed]> RCPT half"
        });
        assert!(start.elapsed() < Duration::from_secs(10), "{command}: {s}");
        assert!(!s.contains("not connected"), "{command}: {s}");
        t.keys("\x15\x1b[A");
        t.wait("MAIL recalled", |s| {
            last_prompt(s) == "ehlo[closed]> MAIL FROM:<a@b.test>"
        });
        t.keys("\x15");
        t.quit();
        let got = h.join().unwrap();
        assert!(!got.windows(4).any(|w| w == b"MAIL"), "{command}: {got:?}");
        assert!(!got.windows(4).any(|w| w == b"RCPT"), "{command}: {got:?}");
    }
}

/// stdin a terminal, stdout a pipe (`ehlo repl … | tee log`, `--json > file`): the prompt
/// and the echo are drawn on the terminal (stderr), and the pipe gets the transcript without
/// a terminal control sequence. They used to go into the pipe: nothing on the terminal (typing
/// blind) and a JSON Lines file whose first line began with `ESC[?2004h`.
#[test]
fn terminal_prompt_stays_on_the_terminal_when_stdout_is_a_pipe() {
    for json in [false, true] {
        let home = tempfile::tempdir().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out");
        let (addr, h) = plain_server();
        let addr = addr.to_string();
        let mut args = vec!["repl", addr.as_str()];
        if json {
            args.push("--json");
        }
        let mut t = Pty::start_stdout_to(home.path(), &args, File::create(&path).unwrap());
        t.wait("the first prompt", |s| last_prompt(s) == "ehlo[plain]>");
        t.keys("NOOP\r");
        t.wait("the line echoed", |s| s.contains("ehlo[plain]> NOOP"));
        t.quit();
        t.assert_cooked();
        let out = std::fs::read_to_string(&path).unwrap();
        assert!(!out.contains('\x1b'), "{out:?}");
        assert!(!out.contains("ehlo[plain]>"), "{out:?}");
        if json {
            for l in out.lines() {
                assert!(l.starts_with("{\"type\":"), "{l:?} in {out:?}");
            }
            assert!(out.contains("\"text\":\"NOOP\""), "{out}");
        } else {
            assert!(out.contains("-> NOOP"), "{out}");
            assert!(out.contains("250 2.0.0 ok"), "{out}");
        }
        assert_eq!(h.join().unwrap()[0], b"NOOP\r\nQUIT\r\n");
    }
}

/// A byte typed on the terminal that is not UTF-8 (a Latin-1 terminal's `é`) is never sent
/// altered: the line is refused whole with a word, as a piped one is. It used to go out with
/// U+FFFD's three bytes in its place.
#[test]
fn terminal_line_with_bytes_that_are_not_utf8_is_refused() {
    let home = tempfile::tempdir().unwrap();
    let (mut t, h) = plain_terminal(home.path(), &[]);
    t.master.write_all(b"NOOP caf\xe9\r").unwrap();
    t.wait("the refusal", |s| s.contains("bytes that are not UTF-8"));
    t.keys("NOOP ok\r");
    t.wait("the reply", |s| s.contains("250 2.0.0 ok"));
    t.quit();
    let got = h.join().unwrap().remove(0);
    assert_eq!(
        got,
        b"NOOP ok\r\nQUIT\r\n",
        "{}",
        String::from_utf8_lossy(&got)
    );
}

/// In a locale that is not UTF-8 (`LANG=C`; a Latin-1 one, whose terminal sends such bytes) the
/// editor's own words are ASCII, as the transcript's are: a typed byte that is not UTF-8 is
/// drawn as `?` (U+FFFD's three bytes show as `ï¿½` there, three columns where the editor counts
/// one), and the status line of a slow reply says ` - Ctrl-C stops waiting`, not with an em
/// dash. Both were UTF-8 whatever the locale.
#[test]
fn terminal_in_a_c_locale_draws_its_own_words_in_ascii() {
    let home = tempfile::tempdir().unwrap();
    let (addr, h) = plain_server();
    let mut t = Pty::start_env(
        home.path(),
        &["repl", &addr.to_string()],
        COLS,
        false,
        &[("LANG", "C")],
    );
    t.wait("the first prompt", |s| last_prompt(s) == "ehlo[plain]>");
    t.master.write_all(b"NOOP caf\xe9!").unwrap();
    t.wait("the byte drawn", |s| {
        last_prompt(s) == "ehlo[plain]> NOOP caf?!"
    });
    t.keys("\r");
    t.wait("the refusal", |s| {
        s.contains("bytes that are not UTF-8 (shown as ?): not sent")
    });
    t.keys("HELP SLEEP\r");
    let s = t.wait("the status line", |s| s.contains("Ctrl-C stops waiting"));
    assert!(
        s.contains("waiting 1 s, nothing received yet - Ctrl-C stops waiting")
            || s.contains("waiting 2 s, nothing received yet - Ctrl-C stops waiting"),
        "{s}"
    );
    t.wait("the reply", |s| s.contains("2.0.0 awake"));
    t.quit();
    let written = String::from_utf8_lossy(&t.written()).into_owned();
    assert!(
        !written.contains('\u{2014}') && !written.contains('\u{fffd}'),
        "{written:?}"
    );
    let got = h.join().unwrap().remove(0);
    assert_eq!(String::from_utf8(got).unwrap(), "HELP SLEEP\r\nQUIT\r\n");
}

/// A Latin-1 terminal (`LANG=de_DE.ISO-8859-1`) sends `é` as the one byte 0xE9 and shows the
/// byte 0xE9 as `é`. The line `NOOP café` typed there was refused as "not UTF-8" (the `é`
/// lost), and what the editor drew was UTF-8: a recalled `NOOP 日本 x` came out as six bytes
/// the terminal shows as six characters where the editor counted four columns, so its cursor
/// moves landed two columns off. Now the typed byte is the terminal's `é`, sent as UTF-8 (the
/// session's text, as a piped line is), and everything drawn is in the terminal's bytes: `é`
/// as 0xE9, a character Latin-1 has not as `?`, one column, counted as one.
#[test]
fn terminal_in_a_latin1_locale_keeps_typed_characters_and_draws_in_its_bytes() {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join("ehlo")).unwrap();
    std::fs::write(home.path().join("ehlo/history"), "NOOP 日本 x\n").unwrap();
    let (addr, h) = plain_server();
    let mut t = Pty::start_env(
        home.path(),
        &["repl", &addr.to_string()],
        COLS,
        false,
        &[("LANG", "de_DE.ISO-8859-1")],
    );
    t.wait("the first prompt", |s| last_prompt(s) == "ehlo[plain]>");
    // Up: the recalled line, and the cursor put after it: 13 columns of prompt and 9 of line.
    t.keys("\x1b[A");
    t.wait_written("the recalled line", b"ehlo[plain]> NOOP ?? x\r\x1b[22C");
    t.keys("\x15");
    t.keys(b"NOOP caf\xe9\r");
    t.wait("the NOOP answer", |s| s.contains("250 2.0.0 ok"));
    t.quit();
    let got = String::from_utf8(h.join().unwrap().remove(0)).unwrap();
    assert_eq!(got, "NOOP caf\u{e9}\r\nQUIT\r\n");
    let written = t.written();
    let has = |b: &[u8]| written.windows(b.len()).any(|w| w == b);
    assert!(has(b"> NOOP caf\xe9\r"), "{written:?}");
    assert!(!has("é".as_bytes()) && !has("日".as_bytes()), "{written:?}");
}

/// Control bytes inside a bracketed paste (NUL, Ctrl-A, DEL, an ESC and the byte after it) are
/// text, not keys: they used to be dropped, and `NOOP a\0b\x01c\x7fd\x1bef` went out as
/// `NOOP abcdf`, a line nobody pasted. The line is now refused whole with a word, as one that
/// is not UTF-8 is; the paste's other lines go out as pasted, CRLF and a bare CR each one line end.
#[test]
fn terminal_paste_with_control_bytes_refuses_the_line_and_sends_the_rest() {
    let home = tempfile::tempdir().unwrap();
    let (mut t, h) = plain_terminal(home.path(), &[]);
    t.master
        .write_all(b"\x1b[200~NOOP 1\r\nNOOP a\0b\x01c\x7fd\x1bef\rNOOP 2\x1b[201~\r")
        .unwrap();
    t.wait("the refusal", |s| s.contains("holds pasted control bytes"));
    t.wait("the reply to NOOP 2", |s| {
        s.matches("250 2.0.0 ok").count() == 2
    });
    t.quit();
    let got = h.join().unwrap().remove(0);
    assert_eq!(
        got,
        b"NOOP 1\r\nNOOP 2\r\nQUIT\r\n",
        "{}",
        String::from_utf8_lossy(&got)
    );
}

// ----- against the real Postfix (interop suite) --------------------------------------------------

/// Against the local Postfix submission port (STARTTLS, AUTH through Dovecot): Ctrl-C at the
/// prompt of a typed `AUTH LOGIN`'s response cancels it (`*`, Postfix's 501), and the AUTH typed
/// next authenticates; Ctrl-D at such a prompt cancels it too before QUIT. Neither is a failed
/// login (535): they used to send the next command, or QUIT, as the user name. Run by
/// tests/interop/run.sh; it fails (never skips) when Postfix is not there.
#[test]
#[ignore = "interop: run with tests/interop/run.sh"]
fn terminal_cancel_at_a_sasl_prompt_through_postfix_is_no_failed_login() {
    use base64::Engine as _;
    assert!(
        std::net::TcpStream::connect("127.0.0.1:2587").is_ok(),
        "Postfix is not listening on 127.0.0.1:2587: run tests/interop/setup.sh (as root)"
    );
    let plain = base64::engine::general_purpose::STANDARD.encode(b"\0ehlotest\0interop-secret-1");
    for ctrl_d in [false, true] {
        let home = tempfile::tempdir().unwrap();
        let mut t = Pty::start(home.path(), &["repl", "localhost:2587", "--insecure"]);
        t.wait("the first prompt", |s| last_prompt(s) == "ehlo[plain]>");
        t.keys(":starttls\r");
        t.wait("the TLS prompt", |s| last_prompt(s) == "ehlo[tls]>");
        t.keys("AUTH LOGIN\r");
        t.wait("the challenge", |s| s.contains("334 VXNlcm5hbWU6"));
        if ctrl_d {
            t.keys("\x04");
            assert_eq!(t.exit_code(), 0, "{}", t.screen());
        } else {
            t.keys("\x03");
            t.wait("the cancel", |s| {
                s.contains("501 5.7.0") && last_prompt(s) == "ehlo[tls]>"
            });
            t.keys(format!("AUTH PLAIN {plain}\r"));
            t.wait("the success", |s| s.contains("235 2.7.0"));
            t.quit();
        }
        let s = t.screen();
        assert!(s.contains("501 5.7.0"), "{s}");
        // Postfix's "501 5.7.0 Authentication aborted" answers the user's own cancel: no
        // advice to authenticate.
        assert!(!s.contains("wants authentication"), "{s}");
        assert!(s.contains("221 2.0.0"), "{s}");
        assert!(!s.contains("<-  535"), "{s}");
        t.assert_cooked();
    }
}

/// Against the local Postfix: a typed MAIL FROM or RCPT TO that Postfix answers "555 5.5.4
/// Unsupported option: X" gets a hint naming the parameter the reply names (else those the
/// command carried), as the send's does; it used to get the general list (SIZE=, BODY=, SMTPUTF8,
/// …), none of which was typed.
/// Run by tests/interop/run.sh; it fails (never skips) when Postfix is not there.
#[test]
#[ignore = "interop: run with tests/interop/run.sh"]
fn piped_555_to_typed_parameters_through_postfix_names_them() {
    assert!(
        std::net::TcpStream::connect("127.0.0.1:2525").is_ok(),
        "Postfix is not listening on 127.0.0.1:2525: run tests/interop/setup.sh (as root)"
    );
    let script = "EHLO x.test\nMAIL FROM:<a@x.test> FOO=bar SIZE=10\nMAIL FROM:<a@x.test>\n\
                  RCPT TO:<b@ehlo.test> XTAG=1\nQUIT\n";
    let r = ehlo(&["repl", "127.0.0.1:2525"], script.as_bytes(), &[]);
    assert!(r.out.contains("555 5.5.4"), "{}", r.out);
    // Postfix names the one it refused: the hint names that one, not every parameter typed.
    assert!(
        r.out
            .contains("hint: the server did not accept the parameter of this MAIL FROM, FOO=bar"),
        "{}",
        r.out
    );
    assert!(!r.out.contains("(FOO=bar SIZE=10)"), "{}", r.out);
    assert!(
        r.out
            .contains("hint: the server did not accept the parameter of this RCPT TO, XTAG=1"),
        "{}",
        r.out
    );
    // The general hint lists parameters nobody typed here.
    assert!(!r.out.contains("(SIZE=, BODY=, SMTPUTF8"), "{}", r.out);
    assert!(!r.out.contains("ORCPT= need the DSN"), "{}", r.out);
}

/// What a user does in `ehlo repl` against the local Postfix: EHLO, `:starttls`, MAIL, RCPT,
/// `:data` with lines starting with dots, QUIT — typed into a real terminal. The message must
/// land in the Maildir with the dots exactly as typed (ehlo stuffs them, Postfix un-stuffs them).
/// Run by tests/interop/run.sh; it fails (never skips) when Postfix is not there.
#[test]
#[ignore = "interop: run with tests/interop/run.sh"]
fn terminal_session_through_postfix_starttls_lands_byte_exact() {
    assert!(
        std::net::TcpStream::connect("127.0.0.1:2525").is_ok(),
        "Postfix is not listening on 127.0.0.1:2525: run tests/interop/setup.sh (as root)"
    );
    let token = format!("repl-{}-{}", std::process::id(), rand_suffix());
    let home = tempfile::tempdir().unwrap();
    let mut t = Pty::start(home.path(), &["repl", "localhost:2525", "--insecure"]);
    t.wait("the first prompt", |s| last_prompt(s) == "ehlo[plain]>");
    t.keys("EHLO client.ehlo.test\r");
    t.wait("the EHLO reply and a new prompt", |s| {
        s.contains("250 CHUNKING") && last_prompt(s) == "ehlo[plain]>"
    });
    t.keys(":starttls\r");
    t.wait("the TLS prompt", |s| last_prompt(s) == "ehlo[tls]>");
    t.keys("MAIL FROM:<sender@ehlo.test>\r");
    t.wait("the transaction prompt", |s| {
        last_prompt(s) == "ehlo[tls|mail]>"
    });
    t.keys("RCPT TO:<ehlotest@ehlo.test>\r");
    t.wait("the RCPT reply and a new prompt", |s| {
        s.contains("2.1.5") && last_prompt(s) == "ehlo[tls|mail]>"
    });
    t.keys(":data\r");
    // The data prompt is `data> `; the cursor row shows it empty once a line can be typed.
    let data_rows = |s: &str| s.lines().filter(|l| l.starts_with("data>")).count();
    let fresh = |s: &str| s.trim_end().lines().last() == Some("data>");
    t.wait("the data prompt", |s| data_rows(s) == 1 && fresh(s));
    let lines = [
        format!("Subject: {token}"),
        String::new(),
        ".one leading dot".to_string(),
        "..two leading dots".to_string(),
        "plain line".to_string(),
    ];
    // One line at a time, each once the next data prompt is up (type-ahead is covered by
    // terminal_type_ahead_reaches_aiosmtpd_complete_behind_a_slow_reply).
    for (i, l) in lines.iter().enumerate() {
        t.keys(format!("{l}\r"));
        t.wait("the next data prompt", |s| {
            data_rows(s) == i + 2 && fresh(s)
        });
    }
    t.keys(".\r");
    t.wait("the queued reply", |s| s.contains("queued as"));
    t.keys("QUIT\r");
    t.wait("the goodbye and the closed prompt", |s| {
        s.contains("221 2.0.0") && last_prompt(s) == "ehlo[closed]>"
    });
    t.quit();
    t.assert_cooked();
    let maildir = std::path::Path::new("/home/ehlotest/Maildir");
    let deadline = Instant::now() + Duration::from_secs(20);
    let stored = loop {
        let found = ["new", "cur"].iter().find_map(|sub| {
            std::fs::read_dir(maildir.join(sub))
                .ok()?
                .flatten()
                .find_map(|e| {
                    let b = std::fs::read(e.path()).ok()?;
                    String::from_utf8_lossy(&b).contains(&token).then_some(b)
                })
        });
        if let Some(b) = found {
            break String::from_utf8_lossy(&b).into_owned();
        }
        assert!(
            Instant::now() < deadline,
            "the message never reached {}",
            maildir.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    // Postfix's local delivery stores lines with LF and adds the headers we left out (Date,
    // Message-Id, From) to the header block; the body must be exactly what was typed.
    assert!(stored.lines().any(|l| l == lines[0]), "{stored}");
    let body = stored.split_once("\n\n").map(|(_, b)| b).expect("a body");
    assert_eq!(
        body, ".one leading dot\n..two leading dots\nplain line\n",
        "stored message:\n{stored}"
    );
    assert!(
        stored.contains("with ESMTPS"),
        "Postfix recorded the TLS session: {stored}"
    );
}

/// A relay in front of `upstream` for one connection: client bytes go through at once; the
/// server's reply to `NOOP` trickles at one byte a second (a slow server), the rest at once.
fn trickle_relay(upstream: &'static str) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        let Ok((client, _)) = l.accept() else { return };
        let server = TcpStream::connect(upstream).expect("the upstream peer");
        let slow = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (mut c_rd, mut s_wr, flag) = (
            client.try_clone().unwrap(),
            server.try_clone().unwrap(),
            slow.clone(),
        );
        std::thread::spawn(move || {
            let mut seen: Vec<u8> = Vec::new();
            let mut buf = [0u8; 4096];
            while let Ok(n) = c_rd.read(&mut buf) {
                if n == 0 || s_wr.write_all(&buf[..n]).is_err() {
                    break;
                }
                seen.extend_from_slice(&buf[..n]);
                if seen.windows(6).any(|w| w == b"NOOP\r\n") {
                    flag.store(true, std::sync::atomic::Ordering::SeqCst);
                    seen.clear();
                }
                let keep = seen.len().saturating_sub(5);
                seen.drain(..keep);
            }
            let _ = s_wr.shutdown(std::net::Shutdown::Write);
        });
        let (mut s_rd, mut c_wr) = (server, client);
        let mut buf = [0u8; 4096];
        while let Ok(n) = s_rd.read(&mut buf) {
            if n == 0 {
                break;
            }
            for &b in &buf[..n] {
                if slow.load(std::sync::atomic::Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_secs(1));
                    if b == b'\n' {
                        slow.store(false, std::sync::atomic::Ordering::SeqCst);
                    }
                }
                if c_wr.write_all(&[b]).is_err() {
                    return;
                }
            }
        }
    });
    addr
}

/// Type-ahead against a real server: 50 lines typed ahead while the reply to NOOP trickles in at
/// one byte a second arrive at aiosmtpd complete and in order (the stored message is exactly the
/// typed body). Fails (never skips) when aiosmtpd is not there.
#[test]
#[ignore = "interop: run with tests/interop/run.sh"]
fn terminal_type_ahead_reaches_aiosmtpd_complete_behind_a_slow_reply() {
    assert!(
        TcpStream::connect("127.0.0.1:8025").is_ok(),
        "aiosmtpd is not listening on 127.0.0.1:8025: run tests/interop/setup.sh (as root)"
    );
    let token = format!("typeahead-{}-{}", std::process::id(), rand_suffix());
    let relay = trickle_relay("127.0.0.1:8025");
    let home = tempfile::tempdir().unwrap();
    let mut t = Pty::start(home.path(), &["repl", &relay.to_string()]);
    t.wait("the first prompt", |s| last_prompt(s) == "ehlo[plain]>");
    t.keys("EHLO client.ehlo.test\r");
    t.wait("the EHLO reply", |s| {
        s.contains("250 HELP") && last_prompt(s) == "ehlo[plain]>"
    });
    t.keys("NOOP\r");
    // Sent, so its reply (trickling at a byte a second) is being awaited: type ahead now.
    t.wait("NOOP sent", |s| s.contains(" -> NOOP"));
    let mut lines = fifty_lines();
    lines[3] = format!("Subject: {token}");
    let typed: String = lines.iter().map(|l| format!("{l}\r")).collect();
    t.keys(&typed);
    t.wait("the message stored", |s| s.contains("OK stored as"));
    t.wait("a fresh prompt", |s| last_prompt(s) == "ehlo[plain]>");
    t.quit();
    t.assert_cooked();
    let dir = std::path::Path::new("/tmp/ehlo-interop/aiosmtpd");
    let stored = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
        .find_map(|e| {
            let b = std::fs::read(e.path()).ok()?;
            String::from_utf8_lossy(&b).contains(&token).then_some(b)
        })
        .expect("the message in the aiosmtpd sink");
    let mut want = String::new();
    for l in &lines[3..49] {
        want.push_str(l);
        want.push_str("\r\n");
    }
    assert_eq!(String::from_utf8_lossy(&stored), want);
}

/// `:edit` against a real server: what the editor saved (a line starting with a dot included)
/// is stored by aiosmtpd exactly, the dot un-stuffed. Fails (never skips) when aiosmtpd is not
/// there.
#[test]
#[ignore = "interop: run with tests/interop/run.sh"]
fn terminal_edit_reaches_aiosmtpd_exactly() {
    assert!(
        TcpStream::connect("127.0.0.1:8025").is_ok(),
        "aiosmtpd is not listening on 127.0.0.1:8025: run tests/interop/setup.sh (as root)"
    );
    let token = format!("edit-{}-{}", std::process::id(), rand_suffix());
    let home = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let editor = script(
        out.path(),
        "editor.sh",
        &format!(
            "#!/bin/sh\nprintf 'Subject: {token}\\n\\n.one leading dot\\n..two\\nplain\\n' > \"$1\"\n"
        ),
    );
    let mut t = Pty::start_env(
        home.path(),
        &["repl", "127.0.0.1:8025"],
        COLS,
        false,
        &[("VISUAL", editor.to_str().unwrap())],
    );
    t.wait("the first prompt", |s| last_prompt(s) == "ehlo[plain]>");
    t.keys("EHLO client.ehlo.test\r");
    t.wait("the EHLO reply", |s| {
        s.contains("250 HELP") && last_prompt(s) == "ehlo[plain]>"
    });
    t.keys("MAIL FROM:<sender@ehlo.test>\r");
    t.wait("the MAIL reply", |s| last_prompt(s) == "ehlo[plain|mail]>");
    t.keys("RCPT TO:<rcpt@ehlo.test>\r");
    t.wait("the RCPT reply", |s| {
        s.matches("250").count() >= 3 && last_prompt(s) == "ehlo[plain|mail]>"
    });
    t.keys(":edit\r");
    t.wait("the message stored", |s| s.contains("OK stored as"));
    t.wait("a fresh prompt", |s| last_prompt(s) == "ehlo[plain]>");
    t.quit();
    t.assert_cooked();
    let dir = std::path::Path::new("/tmp/ehlo-interop/aiosmtpd");
    let stored = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
        .find_map(|e| {
            let b = std::fs::read(e.path()).ok()?;
            String::from_utf8_lossy(&b).contains(&token).then_some(b)
        })
        .expect("the message in the aiosmtpd sink");
    assert_eq!(
        String::from_utf8_lossy(&stored),
        format!("Subject: {token}\r\n\r\n.one leading dot\r\n..two\r\nplain\r\n")
    );
}

#[test]
fn probe_asks_on_a_terminal_before_sending_mail() {
    let dir = tempfile::tempdir().unwrap();
    // "n": nothing runs, not even a connection.
    let quiet = TcpListener::bind("127.0.0.1:0").unwrap();
    quiet.set_nonblocking(true).unwrap();
    let addr = quiet.local_addr().unwrap().to_string();
    let args = |addr: &str| {
        vec![
            "probe".to_string(),
            addr.to_string(),
            "--to".into(),
            "me@example.test".into(),
            "--only".into(),
            "smuggle.lf-lf".into(),
        ]
    };
    let a = args(&addr);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let mut t = Pty::start(dir.path(), &a);
    let s = t.wait("the confirmation", |s| s.contains("Continue? [y/N]"));
    assert!(s.contains("up to 2 messages to me@example.test"), "{s}");
    t.keys("n\r");
    assert_eq!(t.exit_code(), 1, "{}", t.screen());
    // Output written just before the exit may still be in the pty: wait for it, never assume.
    t.wait("the refusal", |s| {
        s.contains("not confirmed; nothing was sent")
    });
    assert!(quiet.accept().is_err(), "a connection was made after 'n'");

    // "y": the probe runs (the scripted server ends DATA only at CRLF.CRLF: a pass).
    let (addr, h) = server(
        Behaviour {
            rcpt: 250,
            pipelining: true,
        },
        1,
    );
    let a = args(&addr.to_string());
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let mut t = Pty::start(dir.path(), &a);
    t.wait("the confirmation", |s| s.contains("Continue? [y/N]"));
    t.keys("y\r");
    assert_eq!(t.exit_code(), 0, "{}", t.screen());
    t.wait("the verdict", |s| s.contains("pass  smuggle.lf-lf"));
    let got = String::from_utf8_lossy(&h.join().unwrap().remove(0)).into_owned();
    assert!(got.contains("RCPT TO:<me@example.test>"), "{got}");

    // --yes: no question.
    let (addr, _h) = server(
        Behaviour {
            rcpt: 250,
            pipelining: true,
        },
        1,
    );
    let mut a = args(&addr.to_string());
    a.push("--yes".into());
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let mut t = Pty::start(dir.path(), &a);
    assert_eq!(t.exit_code(), 0, "{}", t.screen());
    let s = t.wait("the verdict", |s| s.contains("pass  smuggle.lf-lf"));
    assert!(!s.contains("Continue?"), "{s}");
}

// ----- the line editor: wrapping, wide and combining characters, Ctrl-R, Ctrl-Z -------------

impl Pty {
    /// The cursor, (row, column) from the top left.
    fn cursor(&self) -> (u16, u16) {
        self.screen.lock().unwrap().screen().cursor_position()
    }
    /// The row the last prompt starts on.
    fn prompt_row(&self, prefix: &str) -> u16 {
        let p = self.screen.lock().unwrap();
        let (_, cols) = p.screen().size();
        let rows: Vec<String> = p.screen().rows(0, cols.into()).collect();
        rows.iter()
            .rposition(|r| r.starts_with(prefix))
            .unwrap_or_else(|| panic!("no row starts with {prefix:?}: {rows:#?}")) as u16
    }
    /// The rows from `row` to the last one written, each with trailing blanks trimmed.
    fn rows_from(&self, row: u16) -> String {
        let p = self.screen.lock().unwrap();
        let (_, cols) = p.screen().size();
        let rows: Vec<String> = p.screen().rows(0, cols.into()).collect();
        rows[usize::from(row)..]
            .iter()
            .map(|r| r.trim_end().to_string())
            .collect::<Vec<_>>()
            .join("\n")
            .trim_end()
            .to_string()
    }
    /// Wait until the terminal's bracketed paste mode is `on` (or off).
    fn wait_bracketed_paste(&self, on: bool) {
        let start = Instant::now();
        while self.screen.lock().unwrap().screen().bracketed_paste() != on {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "bracketed paste never went {}; screen:\n{}",
                if on { "on" } else { "off" },
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    /// Wait until the cursor is at `want`.
    fn wait_cursor(&self, what: &str, want: (u16, u16)) {
        let start = Instant::now();
        while self.cursor() != want {
            if start.elapsed() > Duration::from_secs(20) {
                panic!(
                    "{what}: cursor at {:?}, expected {want:?}; screen:\n{}",
                    self.cursor(),
                    self.screen()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// The scripted [`server`] answering RCPT 250, without PIPELINING, for one connection.
fn plain_server() -> (SocketAddr, JoinHandle<Vec<Vec<u8>>>) {
    server(
        Behaviour {
            rcpt: 250,
            pipelining: false,
        },
        1,
    )
}

/// The REPL's transcript goes to the terminal through the line editor, and is coloured there
/// under `--color auto` as a send's is on a terminal: the editor's console is the terminal, not
/// a file (which auto never colours). `NO_COLOR` turns it off.
#[test]
fn terminal_transcript_is_coloured_under_auto_unless_no_color() {
    for coloured in [true, false] {
        let home = tempfile::tempdir().unwrap();
        let (addr, h) = plain_server();
        let args = ["repl", &addr.to_string()];
        let mut t = if coloured {
            Pty::start_coloured(home.path(), &args)
        } else {
            Pty::start(home.path(), &args)
        };
        t.wait("the first prompt", |s| last_prompt(s) == "ehlo[plain]>");
        let (row, col) = {
            let p = t.screen.lock().unwrap();
            let text = p.screen().contents();
            let (row, line) = text
                .lines()
                .enumerate()
                .find(|(_, l)| l.contains("220 scripted.test"))
                .unwrap_or_else(|| panic!("no banner on screen:\n{text}"));
            (row, line.find("220 scripted.test").unwrap())
        };
        let fg = {
            let p = t.screen.lock().unwrap();
            p.screen()
                .cell(row as u16, col as u16)
                .map(|c| c.fgcolor())
                .unwrap()
        };
        assert_eq!(
            fg != vt100::Color::Default,
            coloured,
            "colour of the banner reply {fg:?}; screen:\n{}",
            t.screen()
        );
        t.keys(":quit\r");
        assert_eq!(t.exit_code(), 0, "{}", t.screen());
        h.join().unwrap();
    }
}

/// A `--log` file that cannot be written is a usage error (exit 1, one line naming the file)
/// before anything starts: the terminal is never put in raw mode, nothing is sent; the same
/// from a pipe and in `ehlo replay`.
#[test]
fn unwritable_log_is_a_usage_error_before_the_terminal_is_touched() {
    let home = tempfile::tempdir().unwrap();
    let log = home.path().join("no-such-dir").join("x.jsonl");
    let log_s = log.to_str().unwrap();
    let want = format!("*** cannot write the log {log_s}: ");
    // A listener nobody accepts on: a connection attempt would show as "Trying".
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    let mut t = Pty::start(home.path(), &["repl", &addr, "--log", log_s]);
    assert_eq!(t.exit_code(), 1, "{}", t.screen());
    // What ehlo wrote before it left reaches the screen through the reader thread, maybe
    // later (the screen was read empty once at 64 test threads).
    let screen = t.wait("the refusal", |s| s.contains(&want));
    assert!(!screen.contains("Trying"), "{screen}");
    t.assert_cooked();

    let run = ehlo(&["repl", &addr, "--log", log_s], b"QUIT\n", &[]);
    assert_eq!(run.code, 1, "{}", run.out);
    assert!(run.out.starts_with(&want), "{}", run.out);
    let script = home.path().join("s.ehlo");
    std::fs::write(&script, "< 220\n> QUIT\n< 221\n").unwrap();
    let run = ehlo(
        &[
            "replay",
            script.to_str().unwrap(),
            "-s",
            &addr,
            "--log",
            log_s,
        ],
        b"",
        &[],
    );
    assert_eq!(run.code, 1, "{}", run.out);
    assert!(run.out.starts_with(&want), "{}", run.out);
    assert!(!run.out.contains("Trying"), "{}", run.out);
}

/// From a pipe, and in `ehlo replay`, the transcript colours as a send's does: `--color always`
/// colours even into a pipe (and beats NO_COLOR), `auto` and `never` do not.
#[test]
fn piped_repl_and_replay_colour_as_asked() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("s.ehlo");
    std::fs::write(&script, "< 220\n> EHLO x.test\n< 250\n> QUIT\n< 221\n").unwrap();
    for colour in ["always", "auto", "never"] {
        let (addr, h) = plain_server();
        let run = ehlo(
            &["repl", &addr.to_string(), "--color", colour],
            b"EHLO x.test\nQUIT\n",
            &[],
        );
        assert_eq!(run.code, 0, "{}", run.out);
        h.join().unwrap();
        assert_eq!(
            run.out.contains("\u{1b}["),
            colour == "always",
            "repl --color {colour}: {}",
            run.out
        );
        let (addr, h) = plain_server();
        let run = ehlo(
            &[
                "replay",
                script.to_str().unwrap(),
                "-s",
                &addr.to_string(),
                "--color",
                colour,
            ],
            b"",
            &[],
        );
        assert_eq!(run.code, 0, "{}", run.out);
        h.join().unwrap();
        assert_eq!(
            run.out.contains("\u{1b}["),
            colour == "always",
            "replay --color {colour}: {}",
            run.out
        );
    }
}

/// A line longer than the terminal is wide wraps over rows (not scrolled sideways out of
/// sight): every character is on screen, the cursor moves across row boundaries onto the
/// right cell, an edit in the middle redraws every row with nothing left behind, and the
/// server gets the line exactly.
#[test]
fn terminal_long_lines_wrap_over_rows_and_edit_in_place() {
    let home = tempfile::tempdir().unwrap();
    let (addr, h) = plain_server();
    let mut t = Pty::start_with(home.path(), &["repl", &addr.to_string()], 40, false);
    t.wait("the first prompt", |s| last_prompt(s) == "ehlo[plain]>");
    let tail: String = (0..100)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    t.keys(format!("NOOP {tail}"));
    // 13 columns of prompt + 105 typed: three rows of 40, the cursor after the last one.
    let want = format!("ehlo[plain]> NOOP {tail}");
    t.wait("the whole line, wrapped", |s| last_prompt(s) == want);
    let row = t.prompt_row("ehlo[plain]> NOOP");
    t.wait_cursor("after typing", (row + 2, 38));
    // Home, then five to the right: the first row, after "NOOP ".
    t.keys("\x01\x1b[C\x1b[C\x1b[C\x1b[C\x1b[C");
    t.wait_cursor("after Home and five Right", (row, 18));
    t.keys("XYZ");
    let want = format!("ehlo[plain]> NOOP XYZ{tail}");
    t.wait("the insertion, every row redrawn", |s| {
        last_prompt(s) == want
    });
    // End, then back across the boundary between the last two rows.
    // 13 + 108 = 121 columns: a fourth row with one character.
    t.keys("\x05");
    t.wait_cursor("after End", (row + 3, 1));
    t.keys("\x1b[D\x1b[D\x1b[D");
    t.wait_cursor("after three Left", (row + 2, 38));
    t.keys("\x7f");
    let mut edited = format!("NOOP XYZ{tail}");
    edited.remove(edited.len() - 4);
    t.wait("the deletion", |s| {
        last_prompt(s) == format!("ehlo[plain]> {edited}")
    });
    t.keys("\r");
    t.wait("the reply", |s| s.contains("2.0.0 ok"));
    t.wait("a fresh prompt", |s| last_prompt(s) == "ehlo[plain]>");
    // The submitted line shows once, whole; no stale rows of earlier drawings.
    let screen = t.screen();
    assert_eq!(
        screen.matches("ehlo[plain]> NOOP XYZ").count(),
        1,
        "{screen}"
    );
    assert!(
        screen.contains(&format!("ehlo[plain]> {edited}\n")),
        "{screen}"
    );
    t.quit();
    let got = h.join().unwrap().remove(0);
    assert_eq!(
        String::from_utf8(got).unwrap(),
        format!("{edited}\r\nQUIT\r\n")
    );
}

/// Wide characters (CJK, emoji) take two columns and never split across rows; a combining
/// mark takes none and goes with its character (one step of the cursor, one Backspace).
#[test]
fn terminal_wide_and_combining_characters_keep_the_cursor_on_its_cell() {
    let home = tempfile::tempdir().unwrap();
    let (addr, h) = plain_server();
    let mut t = Pty::start_with(home.path(), &["repl", &addr.to_string()], 40, false);
    t.wait("the first prompt", |s| last_prompt(s) == "ehlo[plain]>");
    let a21 = "a".repeat(21);
    // 13 + 5 + 21 = 39 columns: "用" does not fit in the last one and starts the next row.
    t.keys(format!("NOOP {a21}用😀"));
    t.wait("the wide characters", |s| s.contains("\n用😀"));
    let row = t.prompt_row("ehlo[plain]> NOOP");
    assert_eq!(
        t.rows_from(row),
        format!("ehlo[plain]> NOOP {a21}\n用😀"),
        "the row ends a column early rather than split a wide character"
    );
    t.wait_cursor("after two wide characters", (row + 1, 4));
    t.keys("\x1b[D");
    t.wait_cursor("one Left: before the emoji", (row + 1, 2));
    t.keys("\x1b[D\x1b[D");
    t.wait_cursor("two more: on the last a, row above", (row, 38));
    // e + COMBINING ACUTE ACCENT: one column, one cluster.
    t.keys("e\u{301}");
    t.wait_cursor("after é", (row, 39));
    t.keys("\x1b[D");
    t.wait_cursor("Left over é as one", (row, 38));
    t.keys("X\x1b[C");
    t.wait_cursor("Right over é as one", (row + 1, 0));
    t.keys("\x7f");
    let want = format!("NOOP {}Xa用😀", "a".repeat(20));
    let start = Instant::now();
    while t.rows_from(row).replace('\n', "") != format!("ehlo[plain]> {want}") {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "é not deleted whole: {:?} cursor {:?}\n{}",
            t.rows_from(row),
            t.cursor(),
            t.screen()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    t.keys("\r");
    t.wait("the reply", |s| s.contains("2.0.0 ok"));
    t.quit();
    let got = h.join().unwrap().remove(0);
    assert_eq!(
        String::from_utf8(got).unwrap(),
        format!("{want}\r\nQUIT\r\n")
    );
}

/// Ctrl-R searches the history backwards as readline does: the match shows as the line,
/// Ctrl-R again finds an older one, Ctrl-G gives the line back, Enter runs the match, another
/// key keeps it for editing, and a query nothing matches says so.
#[test]
fn terminal_ctrl_r_searches_the_history() {
    let home = tempfile::tempdir().unwrap();
    let (mut t, h) = plain_terminal(home.path(), &[]);
    for l in ["EHLO x.test", "NOOP first", "NOOP second", "RSET"] {
        t.keys(format!("{l}\r"));
        t.wait("the reply", |s| {
            s.contains(&format!("> {l}")) && last_prompt(s) == "ehlo[plain]>"
        });
    }
    let search_line = |s: &str| {
        s.lines()
            .rev()
            .find(|l| l.contains("reverse-i-search"))
            .unwrap_or("")
            .trim_end()
            .to_string()
    };
    t.keys("half\x12NOOP");
    t.wait("the newest match", |s| {
        search_line(s) == "(reverse-i-search)`NOOP': NOOP second"
    });
    t.keys("\x12");
    t.wait("an older match", |s| {
        search_line(s) == "(reverse-i-search)`NOOP': NOOP first"
    });
    t.keys("\x12");
    t.wait("no older match", |s| {
        search_line(s) == "(failed reverse-i-search)`NOOP': NOOP first"
    });
    t.keys("\x07");
    t.wait("Ctrl-G: the line before the search", |s| {
        last_prompt(s) == "ehlo[plain]> half"
    });
    t.keys("\x15\x12EH");
    t.wait("EHLO found", |s| {
        search_line(s) == "(reverse-i-search)`EH': EHLO x.test"
    });
    t.keys("\r");
    t.wait("EHLO run again", |s| {
        s.matches("250 DSN").count() == 2 && last_prompt(s) == "ehlo[plain]>"
    });
    t.keys("\x12sec\x05!");
    t.wait("the match kept for editing", |s| {
        last_prompt(s) == "ehlo[plain]> NOOP second!"
    });
    t.keys("\r");
    t.wait("its reply", |s| {
        s.contains("> NOOP second!") && last_prompt(s) == "ehlo[plain]>"
    });
    t.quit();
    let got = h.join().unwrap().remove(0);
    assert_eq!(
        String::from_utf8(got).unwrap(),
        "EHLO x.test\r\nNOOP first\r\nNOOP second\r\nRSET\r\nEHLO x.test\r\nNOOP second!\r\nQUIT\r\n"
    );
}

/// Suspend `ehlo` with `stop` at a half-typed line, as a shell job: the terminal is cooked (and
/// bracketed paste off) while it is stopped; continued, it takes the terminal raw again and
/// redraws the line, which is then sent whole.
fn suspend_and_resume(stop: impl FnOnce(&mut Pty)) {
    let home = tempfile::tempdir().unwrap();
    let (addr, h) = plain_server();
    let mut t = Pty::start_with(home.path(), &["repl", &addr.to_string()], COLS, true);
    t.wait("the first prompt", |s| last_prompt(s) == "ehlo[plain]>");
    assert!(t.wait_mode(false), "the terminal never went raw");
    t.keys("NOOP half");
    t.wait("the typed text", |s| {
        last_prompt(s) == "ehlo[plain]> NOOP half"
    });
    let pid = t.child.id().to_string();
    let state = || {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // pid (comm) STATE …: the state follows the last ')'.
        stat.rsplit(')').next().unwrap_or("").trim().chars().next()
    };
    stop(&mut t);
    let start = Instant::now();
    while state() != Some('T') {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "never stopped: {:?}; screen:\n{}",
            state(),
            t.screen()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    t.assert_cooked();
    // Written before the stop, but the screen may not have read it yet.
    t.wait_bracketed_paste(false);
    let st = Command::new("kill").args(["-CONT", &pid]).status().unwrap();
    assert!(st.success());
    assert!(t.wait_mode(false), "not raw again after SIGCONT");
    t.wait("the line redrawn", |s| {
        last_prompt(s) == "ehlo[plain]> NOOP half"
            && s.lines()
                .filter(|l| l.starts_with("ehlo[plain]> NOOP half"))
                .count()
                == 2
    });
    t.wait_bracketed_paste(true);
    t.keys(" done\r");
    t.wait("the reply", |s| s.contains("2.0.0 ok"));
    t.quit();
    t.assert_cooked();
    let got = h.join().unwrap().remove(0);
    assert_eq!(
        String::from_utf8(got).unwrap(),
        "NOOP half done\r\nQUIT\r\n"
    );
}

/// Ctrl-Z (the key: the editor has the terminal raw) suspends as a shell job should.
#[test]
fn terminal_ctrl_z_suspends_with_the_terminal_restored_and_resumes() {
    suspend_and_resume(|t| t.keys("\x1a"));
}

/// `kill -TSTP` from outside (not the key) does the same: the terminal restored first.
#[test]
fn terminal_sigtstp_from_outside_restores_the_terminal_and_resumes() {
    suspend_and_resume(|t| {
        let pid = t.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TSTP", &pid])
                .status()
                .unwrap()
                .success()
        );
    });
}

/// Ctrl-Z while a reply is awaited stops the REPL at once, as the key does at a prompt: it used
/// to wait, queued behind the reply (or the timeout, 30 s by default), since the terminal is raw
/// and only Ctrl-C was read then. Continued, the reply is shown and the session goes on.
#[test]
fn terminal_ctrl_z_while_a_reply_is_awaited_stops_at_once() {
    let home = tempfile::tempdir().unwrap();
    let (addr, h) = plain_server();
    let mut t = Pty::start_with(home.path(), &["repl", &addr.to_string()], COLS, true);
    t.wait("the first prompt", |s| last_prompt(s) == "ehlo[plain]>");
    // The server answers HELP SLEEP after three seconds.
    t.keys("HELP SLEEP\r");
    t.wait("the line sent", |s| s.contains("-> HELP SLEEP"));
    t.keys("\x1a");
    let pid = t.child.id().to_string();
    let state = || {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        stat.rsplit(')').next().unwrap_or("").trim().chars().next()
    };
    let start = Instant::now();
    while state() != Some('T') {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "never stopped: {:?}; screen:\n{}",
            state(),
            t.screen()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        !t.screen().contains("awake"),
        "stopped only after the reply:\n{}",
        t.screen()
    );
    t.assert_cooked();
    let st = Command::new("kill").args(["-CONT", &pid]).status().unwrap();
    assert!(st.success());
    assert!(t.wait_mode(false), "not raw again after SIGCONT");
    t.wait("the reply", |s| {
        s.contains("2.0.0 awake") && last_prompt(s) == "ehlo[plain]>"
    });
    t.quit();
    let got = h.join().unwrap().remove(0);
    assert_eq!(String::from_utf8(got).unwrap(), "HELP SLEEP\r\nQUIT\r\n");
}

/// A hand-written script: `x` wildcards in codes, an enhanced code checked when given,
/// comments after codes. Green when the server matches; red with the phase's exit code and
/// both codes when the enhanced code differs although the basic code matches.
#[test]
fn replay_wildcards_enhanced_codes_and_comments() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("hand.ehlo");
    let text = "# written by hand\n< 2xx  # any greeting\n> EHLO x.test\n< 25x\n> MAIL FROM:<a@b.test>\n< 250 2.0.0 # sender ok\n> RCPT TO:<c@d.test>\n< 2xx 2.1.x\t# accepted\n> QUIT\n< 221\n";
    std::fs::write(&script, text).unwrap();
    let (addr, h) = plain_server();
    let run = ehlo(
        &["replay", script.to_str().unwrap(), "-s", &addr.to_string()],
        b"",
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.out);
    assert!(run.out.contains("every reply as recorded"), "{}", run.out);
    h.join().unwrap();

    std::fs::write(&script, text.replace("2.1.x", "2.1.0")).unwrap();
    let (addr, _h) = plain_server();
    let run = ehlo(
        &["replay", script.to_str().unwrap(), "-s", &addr.to_string()],
        b"",
        &[],
    );
    assert_eq!(run.code, 24, "{}", run.out);
    assert!(
        run.out
            .contains("line 7 `> RCPT TO:<c@d.test>`: expected 2xx 2.1.0, got 250 2.1.5"),
        "{}",
        run.out
    );

    // A malformed expectation is a usage error naming the line, before anything is sent.
    std::fs::write(&script, "< 220\n> NOOP\n< 250 accepted\n").unwrap();
    let run = ehlo(
        &["replay", script.to_str().unwrap(), "-s", "127.0.0.1:9"],
        b"",
        &[],
    );
    assert_eq!(run.code, 1, "{}", run.out);
    assert!(run.out.contains("line 3"), "{}", run.out);
}

/// A script over 16 MiB is read to its end, neither refused for its size nor cut (it was cut
/// there once, and passed without its last steps): 16 MiB of comments and nothing else is
/// refused as checking nothing, with one line; and a bad line is quoted short: a binary file
/// is not echoed back whole.
#[test]
fn replay_reads_an_oversized_script_whole_and_quotes_a_bad_line_short() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.ehlo");
    std::fs::write(&big, "# c\n".repeat(4 * 1024 * 1024 + 1)).unwrap();
    let (code, stdout, stderr) =
        ehlo_split(&["replay", big.to_str().unwrap(), "-s", "127.0.0.1:9"], b"");
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("holds no step and no reply"), "{stderr}");

    let bin = dir.path().join("bin.ehlo");
    std::fs::write(&bin, "\0".repeat(1024 * 1024)).unwrap();
    let (code, stdout, stderr) =
        ehlo_split(&["replay", bin.to_str().unwrap(), "-s", "127.0.0.1:9"], b"");
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stderr.contains("line 1: ") && stderr.contains("(1 048 576 bytes in all)"),
        "{stderr}"
    );
    assert!(stderr.len() < 2000, "{} bytes on stderr", stderr.len());
}

/// A server that greets with `banner` and records what it receives until the client closes.
fn greeting_server(banner: &'static [u8]) -> (SocketAddr, JoinHandle<Vec<u8>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let h = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let _ = s.write_all(banner);
        let mut got = Vec::new();
        let _ = s.read_to_end(&mut got);
        got
    });
    (addr, h)
}

/// A 421 greeting explains the close that follows (RFC 5321 §3.8): no "closed
/// unexpectedly" after it, nothing more is sent, and the notice names the server as the one
/// that closed.
#[test]
fn a_421_banner_is_the_reason_for_the_close_not_a_surprise() {
    let (addr, h) = greeting_server(b"421 4.3.2 too busy, try later\r\n");
    let run = ehlo(&["repl", &addr.to_string()], b"NOOP\n", &[]);
    assert_eq!(run.code, 0, "{}", run.out);
    assert!(run.out.contains("421 4.3.2 too busy"), "{}", run.out);
    assert!(!run.out.contains("unexpectedly"), "{}", run.out);
    assert!(!run.out.contains(":reconnect or :quit —"), "{}", run.out);
    assert_eq!(h.join().unwrap(), b"");

    let home = tempfile::tempdir().unwrap();
    let (addr, h) = greeting_server(b"421 4.3.2 too busy, try later\r\n");
    let mut t = Pty::start(home.path(), &["repl", &addr.to_string()]);
    let s = t.wait("the notice", |s| {
        s.contains("server closed the connection — :reconnect or :quit")
    });
    assert!(!s.contains("unexpectedly"), "{s}");
    t.quit();
    assert_eq!(h.join().unwrap(), b"");
}

/// The REPL words the implicit-TLS hint for itself: silence where the banner belongs
/// names `ehlo repl --tls-on-connect` (a new session; the REPL has no command for it). The
/// core says what the silence means, as a remedy; `ehlo replay` words it with its own flag.
#[test]
fn a_silent_port_gets_the_implicit_tls_hint_worded_for_the_repl() {
    let (addr, h) = greeting_server(b"");
    let run = ehlo(&["repl", &addr.to_string(), "--timeout", "1"], b"", &[]);
    // A greeting that never came: the banner's code, as the send's (piped, even without
    // `--strict`).
    assert_eq!(run.code, 21, "{}", run.out);
    assert!(
        run.out
            .contains("no banner within 1s: this port may speak implicit TLS (try a new session with ehlo repl --tls-on-connect)"),
        "{}",
        run.out
    );
    h.join().unwrap();
}

/// Hints are worded in REPL commands from their structured form (the remedy, not
/// the send's flag text): `:explain` and reply explanations say `:starttls` and
/// `:auth PLAIN USER` where `ehlo explain` says `--tls` and `--auth --auth-user USER`.
#[test]
fn hints_name_repl_commands_in_the_repl_and_flags_in_a_send() {
    let (addr, h) = plain_server();
    let script = ":explain \"530 5.7.0 Must issue a STARTTLS command first\"\n:explain \"530 5.7.0 Authentication required\"\nQUIT\n";
    let run = ehlo(&["repl", &addr.to_string()], script.as_bytes(), &[]);
    assert_eq!(run.code, 0, "{}", run.out);
    h.join().unwrap();
    assert!(
        run.out
            .contains("hint: the server wants STARTTLS first: add :starttls"),
        "{}",
        run.out
    );
    assert!(
        run.out.contains(
            "the server wants authentication: add :auth PLAIN USER (usually with :starttls)"
        ),
        "{}",
        run.out
    );
    assert!(!run.out.contains("--tls"), "{}", run.out);
    assert!(!run.out.contains('⟨'), "{}", run.out);
    let run = ehlo(
        &["explain", "530 5.7.0 Must issue a STARTTLS command first"],
        b"",
        &[],
    );
    assert!(run.out.contains("add --tls"), "{}", run.out);
}

/// Best-REPL list: warnings before the mistake. A misspelt verb is refused with the verb it
/// probably is (`:raw` sends anything as typed); STARTTLS inside a transaction and a typed
/// content line starting with a lone "." are warned about and sent.
#[test]
fn warnings_before_the_mistake() {
    let (addr, h) = plain_server();
    let script = "EHLLO x.test\nEHLO x.test\nMAIL FROM:<a@b.test>\nSTARTTLS\nRCPT TO:<c@d.test>\nDATA\n.hidden dot\n..kept\n.\nQUIT\n";
    let run = ehlo(&["repl", &addr.to_string()], script.as_bytes(), &[]);
    assert_eq!(run.code, 0, "{}", run.out);
    assert!(
        run.out.contains("not sent: the line's first word is no SMTP verb ehlo knows or the server advertised (a typo of EHLO?)"),
        "{}",
        run.out
    );
    assert!(
        run.out.contains("STARTTLS inside a mail transaction"),
        "{}",
        run.out
    );
    assert_eq!(
        run.out.matches("the server will strip this dot").count(),
        1,
        "{}",
        run.out
    );
    let got = String::from_utf8(h.join().unwrap().remove(0)).unwrap();
    assert!(got.starts_with("EHLO x.test\r\n"), "{got}");
    assert!(got.contains("\r\n.hidden dot\r\n..kept\r\n.\r\n"), "{got}");
}

/// Best-REPL list: each reply line ends with its latency, and SASL challenges are shown
/// decoded (`334 VXNlcm5hbWU6 (Username:)`), on a terminal.
#[test]
fn terminal_replies_show_latency_and_decoded_challenges() {
    let home = tempfile::tempdir().unwrap();
    let (addr, h) = plain_server();
    let mut t = Pty::start(
        home.path(),
        &["repl", &addr.to_string(), "--allow-plaintext-auth"],
    );
    let s = t.wait("the first prompt", |s| last_prompt(s) == "ehlo[plain]>");
    let banner = s.lines().find(|l| l.contains("220 scripted.test")).unwrap();
    assert!(
        banner.trim_end().ends_with(" ms)") || banner.trim_end().ends_with(" s)"),
        "{s}"
    );
    t.keys("AUTH LOGIN\r");
    t.wait("the first challenge decoded", |s| {
        s.contains("334 VXNlcm5hbWU6 (Username:)")
    });
    t.keys("dXNlcg==\r");
    t.wait("the second challenge decoded", |s| {
        s.contains("334 UGFzc3dvcmQ6 (Password:)")
    });
    t.keys("cGFzcw==\r");
    t.wait("authenticated", |s| s.contains("235 2.7.0 authenticated ("));
    t.quit();
    h.join().unwrap();
}

/// `ehlo` with stdin piped: exit code, stdout alone, stderr alone.
fn ehlo_split(args: &[&str], stdin: &[u8]) -> (i32, String, String) {
    let home = tempfile::tempdir().unwrap();
    let mut child = Command::new(EHLO)
        .args(args)
        .env("NO_COLOR", "1")
        .env("HOME", home.path())
        .env("XDG_DATA_HOME", home.path())
        .env_remove("EHLO_AUTH_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A run that ends before reading all its input (at its QUIT) closes the pipe; on a busy
    // machine that can come before this write is done (BrokenPipe at 64 test threads): the
    // run's behaviour, checked below, not a failure of the harness.
    if let Err(e) = child.stdin.take().unwrap().write_all(stdin) {
        assert_eq!(
            e.kind(),
            std::io::ErrorKind::BrokenPipe,
            "writing stdin: {e}"
        );
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// Every line of `stdout` as JSON: the first is `schema`, the last `summary`.
fn json_lines(stdout: &str) -> Vec<serde_json::Value> {
    let v: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l:?}")))
        .collect();
    assert_eq!(
        v.first().map(|e| e["type"].clone()),
        Some("schema".into()),
        "{stdout}"
    );
    assert_eq!(
        v.last().map(|e| e["type"].clone()),
        Some("summary".into()),
        "{stdout}"
    );
    v
}

fn of_type<'a>(v: &'a [serde_json::Value], t: &str) -> Vec<&'a serde_json::Value> {
    v.iter().filter(|e| e["type"] == t).collect()
}

const TWO_MISMATCHES: &str = "< 220\n> EHLO x.test\n< 250\n> MAIL FROM:<a@b.test>\n< 250\n> RCPT TO:<c@d.test>\n< 250 2.1.5  # the server now refuses\n> RSET\n< 250\n> MAIL FROM:<again@b.test>\n< 5xx\n> QUIT\n< 221\n";

/// `--keep-going` runs every step whatever differs, ends with a table of every mismatch (line,
/// command, expected, got) and exits with the first one's phase code (RCPT: 24); without it
/// the replay stops at the first.
#[test]
fn replay_keep_going_lists_every_mismatch_and_exits_with_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("two.ehlo");
    std::fs::write(&script, TWO_MISMATCHES).unwrap();
    let refusing = || {
        server(
            Behaviour {
                rcpt: 550,
                pipelining: false,
            },
            1,
        )
    };
    let (addr, h) = refusing();
    let run = ehlo(
        &[
            "replay",
            script.to_str().unwrap(),
            "-s",
            &addr.to_string(),
            "--keep-going",
        ],
        b"",
        &[],
    );
    assert_eq!(run.code, 24, "{}", run.out);
    let got = String::from_utf8(h.join().unwrap().remove(0)).unwrap();
    assert!(
        got.contains("MAIL FROM:<again@b.test>\r\nQUIT\r\n"),
        "{got}"
    );
    let mut lines = run
        .out
        .lines()
        .skip_while(|l| !l.starts_with("replay: 2 mismatches in 6 steps; exit code 24"));
    let table: Vec<&str> = lines
        .next()
        .into_iter()
        .chain(lines.take_while(|l| l.starts_with("  ")))
        .collect();
    assert_eq!(table.len(), 4, "{}", run.out);
    let cols: Vec<Vec<&str>> = table[1..]
        .iter()
        .map(|l| {
            l.split("  ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect()
        })
        .collect();
    assert_eq!(cols[0], ["LINE", "COMMAND", "EXPECTED", "GOT"]);
    assert_eq!(
        cols[1],
        ["6", "RCPT TO:<c@d.test>", "250 2.1.5", "550 5.1.1"]
    );
    assert_eq!(cols[2], ["10", "MAIL FROM:<again@b.test>", "5xx", "250"]);

    // Without --keep-going: the first mismatch ends the replay (no second MAIL, no table).
    let (addr, h) = refusing();
    let run = ehlo(
        &["replay", script.to_str().unwrap(), "-s", &addr.to_string()],
        b"",
        &[],
    );
    assert_eq!(run.code, 24, "{}", run.out);
    assert!(!run.out.contains("(the first)"), "{}", run.out);
    let got = String::from_utf8(h.join().unwrap().remove(0)).unwrap();
    assert!(!got.contains("again@b.test"), "{got}");
}

/// A `:replay` inside a replayed script is refused (exit 1, nothing sent for it): a script
/// that replays itself ends at once instead of recursing without end, and a nested replay can
/// no longer wipe the outer run's mismatches (a failing `--keep-going` run that passed).
#[test]
fn replay_refuses_a_nested_replay_and_keeps_the_outer_mismatches() {
    let dir = tempfile::tempdir().unwrap();
    let own = dir.path().join("self.ehlo");
    std::fs::write(
        &own,
        format!(
            "< 220\n> EHLO x.test\n< 250\n> :replay {}\n> QUIT\n< 221\n",
            own.display()
        ),
    )
    .unwrap();
    let (addr, _h) = plain_server();
    let run = ehlo(
        &["replay", own.to_str().unwrap(), "-s", &addr.to_string()],
        b"",
        &[],
    );
    assert_eq!(run.code, 1, "{}", run.out);
    assert_eq!(
        run.out
            .matches(":replay inside a replayed script is refused")
            .count(),
        1,
        "{}",
        run.out
    );

    let inner = dir.path().join("inner.ehlo");
    std::fs::write(&inner, "> NOOP\n< 250\n").unwrap();
    let outer = dir.path().join("outer.ehlo");
    std::fs::write(
        &outer,
        format!(
            "< 220\n> EHLO x.test\n< 250\n> MAIL FROM:<a@b.test>\n< 250\n> RCPT TO:<c@d.test>\n< 250\n> :replay {}\n> QUIT\n< 221\n",
            inner.display()
        ),
    )
    .unwrap();
    let (addr, h) = server(
        Behaviour {
            rcpt: 550,
            pipelining: false,
        },
        1,
    );
    let (code, stdout, _) = ehlo_split(
        &[
            "replay",
            outer.to_str().unwrap(),
            "-s",
            &addr.to_string(),
            "--keep-going",
            "--json",
        ],
        b"",
    );
    assert_eq!(code, 24, "{stdout}");
    let v = json_lines(&stdout);
    assert_eq!(of_type(&v, "replay_mismatch").len(), 1, "{stdout}");
    let summary = &v.last().unwrap()["data"];
    assert_eq!(summary["outcome"], "replay_mismatch", "{stdout}");
    assert_eq!(summary["exit_code"], 24, "{stdout}");
    let got = String::from_utf8(h.join().unwrap().remove(0)).unwrap();
    assert!(!got.contains("NOOP"), "{got}");
    assert!(got.ends_with("QUIT\r\n"), "{got}");
}

/// `ehlo replay --json`: JSON Lines on stdout only, the send's events plus one
/// `replay_mismatch` per difference, and a summary with the exit code.
#[test]
fn replay_json_has_one_mismatch_event_each_and_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("two.ehlo");
    std::fs::write(&script, TWO_MISMATCHES).unwrap();
    let (addr, _h) = server(
        Behaviour {
            rcpt: 550,
            pipelining: false,
        },
        1,
    );
    let (code, stdout, stderr) = ehlo_split(
        &[
            "replay",
            script.to_str().unwrap(),
            "-s",
            &addr.to_string(),
            "--json",
            "--keep-going",
        ],
        b"",
    );
    assert_eq!(code, 24, "{stdout}{stderr}");
    assert_eq!(stderr, "");
    let v = json_lines(&stdout);
    let m = of_type(&v, "replay_mismatch");
    assert_eq!(m.len(), 2, "{stdout}");
    assert_eq!(m[0]["data"]["line"], 6);
    assert_eq!(m[0]["data"]["command"], "RCPT TO:<c@d.test>");
    assert_eq!(m[0]["data"]["expected"], serde_json::json!(["250 2.1.5"]));
    assert_eq!(m[0]["data"]["got"], serde_json::json!(["550 5.1.1"]));
    assert_eq!(m[0]["data"]["phase"], "rcpt");
    assert_eq!(m[0]["data"]["exit_code"], 24);
    // The differing reply is a reply object, as the `received` event of that reply carries it
    // (it used to be the string "550 5.1.1 …").
    let received = of_type(&v, "received");
    let refusal = received
        .iter()
        .find(|e| e["data"]["reply"]["code"] == 550)
        .expect("the 550 was received");
    assert_eq!(m[0]["data"]["reply"], refusal["data"]["reply"], "{stdout}");
    assert_eq!(m[0]["data"]["reply"]["enhanced"], "5.1.1", "{stdout}");
    assert!(m[0]["data"]["reply"]["lines"].is_array(), "{stdout}");
    assert_eq!(m[1]["data"]["expected"], serde_json::json!(["5xx"]));
    assert_eq!(m[1]["data"]["exit_code"], 23);
    assert!(!of_type(&v, "sent").is_empty() && !of_type(&v, "received").is_empty());
    let summary = &v.last().unwrap()["data"];
    assert_eq!(summary["exit_code"], 24);
    assert_eq!(summary["outcome"], "replay_mismatch");
}

/// Piped `ehlo repl --json`: stdout is JSON Lines in the send's schema (schema first, the
/// sent lines and replies, a summary last), nothing on stderr.
#[test]
fn piped_json_is_the_send_schema() {
    let (addr, h) = plain_server();
    let (code, stdout, stderr) = ehlo_split(
        &["repl", &addr.to_string(), "--json"],
        b"EHLO x.test\nNOOP\n:caps\nQUIT\n",
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(stderr, "");
    let v = json_lines(&stdout);
    let sent: Vec<&str> = of_type(&v, "sent")
        .iter()
        .map(|e| e["data"]["text"].as_str().unwrap())
        .collect();
    assert_eq!(sent, ["EHLO x.test", "NOOP", "QUIT"]);
    let codes: Vec<i64> = of_type(&v, "received")
        .iter()
        .map(|e| e["data"]["reply"]["code"].as_i64().unwrap())
        .collect();
    assert_eq!(codes, [220, 250, 250, 221]);
    assert!(
        of_type(&v, "note")
            .iter()
            .any(|n| n["data"]["text"].as_str().unwrap().contains("SIZE"))
    );
    assert_eq!(v.last().unwrap()["data"]["exit_code"], 0);
    assert_eq!(v.last().unwrap()["data"]["outcome"], "ok");
    h.join().unwrap();
}

/// Piped `ehlo repl --strict`: the first 4xx/5xx reply ends the session, QUIT is sent, and the
/// exit code is that phase's (RCPT: 24); without `--strict` the script runs on and exits 0.
#[test]
fn piped_strict_stops_at_the_first_failure_with_its_phase_code() {
    let script = b"EHLO x.test\nMAIL FROM:<a@b.test>\nRCPT TO:<c@d.test>\nDATA\nhello\n.\nQUIT\n";
    let refusing = || {
        server(
            Behaviour {
                rcpt: 550,
                pipelining: false,
            },
            1,
        )
    };
    let (addr, h) = refusing();
    let run = ehlo(&["repl", &addr.to_string(), "--strict"], script, &[]);
    assert_eq!(run.code, 24, "{}", run.out);
    assert!(
        run.out.contains("--strict: 550 5.1.1 no such user"),
        "{}",
        run.out
    );
    assert_eq!(
        String::from_utf8(h.join().unwrap().remove(0)).unwrap(),
        "EHLO x.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nQUIT\r\n"
    );

    let (addr, h) = refusing();
    let run = ehlo(&["repl", &addr.to_string()], script, &[]);
    assert_eq!(run.code, 0, "{}", run.out);
    assert!(
        String::from_utf8(h.join().unwrap().remove(0))
            .unwrap()
            .contains("DATA\r\n")
    );

    // With --json: the summary says so, labelled and coded as the one-shot send's summary is
    // for the same refusal (it used to say `strict`).
    let (addr, _h) = refusing();
    let (code, stdout, _) = ehlo_split(&["repl", &addr.to_string(), "--strict", "--json"], script);
    assert_eq!(code, 24, "{stdout}");
    let v = json_lines(&stdout);
    let summary = &v.last().unwrap()["data"];
    assert_eq!(summary["exit_code"], 24);
    let (addr, _h) = refusing();
    let (send_code, send_out, _) = ehlo_split(
        &[
            "--server",
            &addr.to_string(),
            "--from",
            "a@b.test",
            "--to",
            "c@d.test",
            "--helo",
            "x.test",
            "--json",
        ],
        b"",
    );
    let send = json_lines(&send_out);
    let send_summary = &send.last().unwrap()["data"];
    assert_eq!(send_summary["outcome"], "no_recipients", "{send_out}");
    assert_eq!(summary["outcome"], send_summary["outcome"], "{stdout}");
    assert_eq!(code, send_code, "{send_out}");
    assert_eq!(summary["exit_code"], send_summary["exit_code"]);
    assert!(
        summary["error"].as_str().unwrap().contains("550"),
        "{stdout}"
    );
}

/// A reply that differs (replay) or fails (`--strict`) on a command in no SMTP phase (NOOP,
/// VRFY) exits 36, not 6: the server had not closed.
#[test]
fn an_unexpected_reply_outside_the_phases_exits_36() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("noop.ehlo");
    std::fs::write(
        &script,
        "< 220\n> EHLO x.test\n< 250\n> NOOP\n< 5xx\n> QUIT\n< 221\n",
    )
    .unwrap();
    let (addr, _h) = plain_server();
    let (code, stdout, _) = ehlo_split(
        &[
            "replay",
            script.to_str().unwrap(),
            "-s",
            &addr.to_string(),
            "--json",
        ],
        b"",
    );
    assert_eq!(code, 36, "{stdout}");
    let v = json_lines(&stdout);
    assert_eq!(of_type(&v, "replay_mismatch")[0]["data"]["exit_code"], 36);

    let (addr, h) = plain_server();
    let run = ehlo(
        &["repl", &addr.to_string(), "--strict"],
        b"EHLO x.test\nVRFY postmaster\nNOOP\n",
        &[],
    );
    assert_eq!(run.code, 36, "{}", run.out);
    assert!(run.out.contains("--strict: 500 5.5.2 what"), "{}", run.out);
    let got = String::from_utf8(h.join().unwrap().remove(0)).unwrap();
    assert!(got.ends_with("VRFY postmaster\r\nQUIT\r\n"), "{got}");
}

/// A scripted server ([`plain_server`]) and `ehlo repl` (with `extra` arguments) on a terminal,
/// at its first prompt.
/// A session's `--log` file, in a directory of its own that lives as long as this does.
struct Log {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
}

impl Log {
    fn new() -> Log {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.txt");
        Log { _dir: dir, path }
    }
    /// What the session logged.
    fn text(&self) -> String {
        std::fs::read_to_string(&self.path).unwrap()
    }
}

/// [`plain_terminal`] with `--log` to a file of its own.
fn logged_terminal(home: &std::path::Path, extra: &[&str]) -> (Pty, JoinHandle<Vec<Vec<u8>>>, Log) {
    let log = Log::new();
    let mut args = vec!["--log", log.path.to_str().unwrap()];
    args.extend_from_slice(extra);
    let (t, h) = plain_terminal(home, &args);
    (t, h, log)
}

/// `ehlo repl` against a [`plain_server`], at its first prompt; the server's handle.
fn plain_terminal(home: &std::path::Path, extra: &[&str]) -> (Pty, JoinHandle<Vec<Vec<u8>>>) {
    let (addr, h) = plain_server();
    (Pty::repl(home, addr, extra), h)
}

/// A typed `BDAT n [LAST]` on a terminal (RFC 3030 §2: the server reads n octets before it
/// replies): its chunk is asked for at a `chunk N left>` prompt, each line counted with its
/// CRLF and a last line of exactly the octets left without one; a line that fits neither way
/// is said and given back to edit, not a byte of it sent; then line and chunk go out together
/// and the one reply comes at once. Ctrl-C at the chunk prompt cancels the BDAT: nothing of
/// it is sent. The line used to go out alone and wait --timeout for a reply only the chunk
/// draws; the chunk's lines then went out as commands (or were refused as no verb).
#[test]
fn terminal_typed_bdat_asks_for_its_chunk_and_gives_back_a_line_that_does_not_fit() {
    let home = tempfile::tempdir().unwrap();
    let (mut t, h) = plain_terminal(home.path(), &["--timeout", "60"]);
    t.ehlo("8BITMIME");
    let chunk_prompt = |s: &str| {
        s.lines()
            .rev()
            .find(|l| l.starts_with("chunk ") || l.starts_with("ehlo["))
            .unwrap_or("")
            .trim_end()
            .to_string()
    };
    t.keys("BDAT 12 LAST\r");
    t.wait("the chunk prompt", |s| chunk_prompt(s) == "chunk 12 left>");
    t.keys("hello\r");
    t.wait("5 left", |s| chunk_prompt(s) == "chunk 5 left>");
    t.keys("world!\r");
    t.wait("the line given back", |s| {
        s.contains("BDAT 12 LAST: this line is 6 octets, 8 with its CRLF, and the chunk has 5 left (a line of 3 octets, or of 5 to end it): not taken, given back to edit")
            && chunk_prompt(s) == "chunk 5 left> world!"
    });
    // Backspace: `world` fills the 5 octets left, without a CRLF.
    t.keys("\x7f\r");
    t.wait("the reply to the chunk", |s| {
        s.contains("250 2.0.0 12 octets") && last_prompt(s) == "ehlo[plain]>"
    });
    t.keys("BDAT 3\r");
    t.wait("the chunk prompt", |s| chunk_prompt(s) == "chunk 3 left>");
    t.keys("\x03");
    t.wait("the cancel", |s| {
        s.contains("BDAT 3 cancelled: nothing of it was sent") && last_prompt(s) == "ehlo[plain]>"
    });
    let s = t.screen();
    assert!(!s.contains("no reply within"), "{s}");
    t.quit();
    let got = h.join().unwrap().remove(0);
    assert_eq!(
        String::from_utf8_lossy(&got),
        "EHLO x.test\r\nBDAT 12 LAST\r\nhello\r\nworldQUIT\r\n"
    );
}

/// A server that answers EHLO, then, when `go` says so (the test saw the prompt it waits for),
/// sends an unasked 421 and closes; the handle returns every byte received.
fn closing_server(go: std::sync::mpsc::Receiver<()>) -> (SocketAddr, JoinHandle<Vec<u8>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let h = std::thread::spawn(move || {
        let (s, _) = l.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        let mut w = s.try_clone().unwrap();
        let mut r = BufReader::new(s);
        let mut got = Vec::new();
        w.write_all(b"220 closing.test ESMTP\r\n").unwrap();
        let _ = r.read_until(b'\n', &mut got);
        w.write_all(b"250-closing.test\r\n250 CHUNKING\r\n")
            .unwrap();
        let _ = go.recv();
        let _ = w.write_all(b"421 4.3.2 closing.test shutting down\r\n");
        let _ = w.shutdown(std::net::Shutdown::Write);
        let _ = r.read_to_end(&mut got);
        got
    });
    (addr, h)
}

/// A 421 and the close that come while a typed BDAT's chunk is being typed at the
/// `chunk N left>` prompt are shown when they come (as at the command prompt), and the BDAT
/// is said not sent, with how much of its chunk was typed; nothing of it goes out. The 421
/// used to be seen only after the whole chunk was typed and sent into the closed session.
#[test]
fn terminal_a_close_while_a_chunk_is_typed_is_shown_at_once_and_nothing_is_sent() {
    let home = tempfile::tempdir().unwrap();
    let (go, wait) = std::sync::mpsc::channel();
    let (addr, h) = closing_server(wait);
    let mut t = Pty::repl(home.path(), addr, &["--timeout", "60"]);
    t.ehlo("CHUNKING");
    let chunk_prompt = |s: &str| {
        s.lines()
            .rev()
            .find(|l| l.starts_with("chunk ") || l.starts_with("ehlo["))
            .unwrap_or("")
            .trim_end()
            .to_string()
    };
    t.keys("BDAT 12 LAST\r");
    t.wait("the chunk prompt", |s| chunk_prompt(s) == "chunk 12 left>");
    t.keys("hello\r");
    t.wait("5 left", |s| chunk_prompt(s) == "chunk 5 left>");
    go.send(()).unwrap();
    let s = t.wait("the 421 and the BDAT said not sent", |s| {
        s.contains("421 4.3.2 closing.test shutting down")
            && s.contains(
                "not connected: `BDAT 12 LAST` and its chunk not sent (7 of its 12 octets typed)",
            )
    });
    assert!(!s.contains("-> BDAT"), "{s}");
    t.keys(":quit\r");
    assert_eq!(t.exit_code(), 0, "{}", t.screen());
    let got = String::from_utf8(h.join().unwrap()).unwrap();
    assert_eq!(got, "EHLO x.test\r\n");
}

/// Types the envelope [`closing_server_after`]'s tests give it (MAIL then RCPT), each reply
/// awaited at the prompt.
fn closing_envelope(t: &mut Pty) {
    t.keys("MAIL FROM:<a@x.test>\r");
    t.wait("MAIL's reply", |s| {
        s.contains("2.1.0 ok") && last_prompt(s) == "ehlo[plain|mail]>"
    });
    t.keys("RCPT TO:<b@x.test>\r");
    t.wait("RCPT's reply", |s| {
        s.contains("2.1.5 ok") && last_prompt(s) == "ehlo[plain|mail]>"
    });
}

/// A server that answers its first commands with `replies` (one a line read), then, when `go`
/// says so (the test saw the prompt it waits for), sends an unasked 421 and closes; the handle
/// returns every byte received.
fn closing_server_after(
    replies: &'static [&'static [u8]],
    go: std::sync::mpsc::Receiver<()>,
) -> (SocketAddr, JoinHandle<Vec<u8>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let h = std::thread::spawn(move || {
        let (s, _) = l.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        let mut w = s.try_clone().unwrap();
        let mut r = BufReader::new(s);
        let mut got = Vec::new();
        w.write_all(b"220 closing.test ESMTP\r\n").unwrap();
        for reply in replies {
            let _ = r.read_until(b'\n', &mut got);
            w.write_all(reply).unwrap();
        }
        let _ = go.recv();
        let _ = w.write_all(b"421 4.3.2 closing.test shutting down\r\n");
        let _ = w.shutdown(std::net::Shutdown::Write);
        let _ = r.read_to_end(&mut got);
        got
    });
    (addr, h)
}

/// The last line holding a prompt, `data>` (`:data`'s) included.
fn last_data_prompt(screen: &str) -> String {
    screen
        .lines()
        .rev()
        .find(|l| l.starts_with("ehlo[") || l.starts_with("data>"))
        .unwrap_or("")
        .trim_end()
        .to_string()
}

/// A 421 and the close that come while a `:data` message is being typed at its `data>` prompt
/// are shown when they come (as at the command prompt), and the `:data` is said not sent, with
/// how many lines of it were typed; nothing of it (not even DATA) goes out. The 421 used to be
/// seen only after the final "." was typed, and then only "not connected".
#[test]
fn terminal_a_close_while_a_data_message_is_typed_is_shown_at_once_and_nothing_is_sent() {
    let home = tempfile::tempdir().unwrap();
    let (go, wait) = std::sync::mpsc::channel();
    let (addr, h) = closing_server_after(
        &[
            b"250-closing.test\r\n250 SIZE 1000\r\n",
            b"250 2.1.0 ok\r\n",
            b"250 2.1.5 ok\r\n",
        ],
        wait,
    );
    let mut t = Pty::repl(home.path(), addr, &["--timeout", "60"]);
    t.ehlo("SIZE 1000");
    closing_envelope(&mut t);
    t.keys(":data\r");
    t.wait("the data prompt", |s| last_data_prompt(s) == "data>");
    t.keys("Subject: hi\r");
    t.wait("a second data prompt", |s| {
        s.lines().filter(|l| l.starts_with("data>")).count() == 2 && last_data_prompt(s) == "data>"
    });
    t.keys("\rhello\r");
    t.wait("a fourth data prompt", |s| {
        s.lines().filter(|l| l.starts_with("data>")).count() == 4 && last_data_prompt(s) == "data>"
    });
    go.send(()).unwrap();
    let s = t.wait("the 421 and the :data said not sent", |s| {
        s.contains("421 4.3.2 closing.test shutting down")
            && s.contains("not connected: `:data` and its message (3 lines typed) not sent")
            && last_prompt(s) == "ehlo[closed]>"
    });
    assert!(!s.contains("-> DATA"), "{s}");
    t.keys(":quit\r");
    assert_eq!(t.exit_code(), 0, "{}", t.screen());
    let got = String::from_utf8(h.join().unwrap()).unwrap();
    assert_eq!(
        got,
        "EHLO x.test\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@x.test>\r\n"
    );
}

/// A 421 and the close that come while a typed DATA's message is being typed (each line goes
/// out as it is typed) are shown when they come, and every line typed after them, up to the
/// final ".", is said not sent: nothing more goes into the closed connection.
#[test]
fn terminal_a_close_inside_a_typed_data_is_shown_at_once_and_no_line_is_sent_after_it() {
    let home = tempfile::tempdir().unwrap();
    let (go, wait) = std::sync::mpsc::channel();
    let (addr, h) = closing_server_after(
        &[
            b"250 closing.test\r\n",
            b"250 2.1.0 ok\r\n",
            b"250 2.1.5 ok\r\n",
            b"354 go ahead\r\n",
        ],
        wait,
    );
    let mut t = Pty::repl(home.path(), addr, &["--timeout", "60"]);
    t.ehlo("closing.test");
    closing_envelope(&mut t);
    t.keys("DATA\r");
    t.wait("354", |s| {
        s.contains("354 go ahead") && last_prompt(s) == "ehlo[plain|data]>"
    });
    t.keys("Subject: hi\r");
    t.wait("the line sent", |s| {
        s.contains("-> Subject: hi") && last_prompt(s) == "ehlo[plain|data]>"
    });
    go.send(()).unwrap();
    t.wait("the 421 at the data prompt", |s| {
        s.contains("421 4.3.2 closing.test shutting down") && last_prompt(s) == "ehlo[closed]>"
    });
    t.keys("secret line\r");
    t.wait("the line said not sent", |s| {
        s.contains("not connected: a line of the message not sent")
    });
    t.keys(".\r");
    let s = t.wait("the dot said not sent", |s| {
        s.contains("not connected: the message's final \".\" not sent")
    });
    assert!(!s.contains("-> secret line"), "{s}");
    t.keys(":quit\r");
    assert_eq!(t.exit_code(), 0, "{}", t.screen());
    let got = String::from_utf8(h.join().unwrap()).unwrap();
    assert_eq!(
        got,
        "EHLO x.test\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nDATA\r\nSubject: hi\r\n"
    );
}

/// A secret seen earlier in the session (the PLAIN blob typed with AUTH, and so the password
/// and its base64 inside it) is masked wherever a later line carries it with no SASL exchange
/// open: `:raw "<base64 of the password>\r\n"` and `NOOP <password>` after the 235 go to the
/// server as typed, but are drawn again masked on the screen, shown masked by the transcript
/// and kept masked in the history and the --log; recalled and entered, the masked line is
/// refused, not sent. They used to be shown, logged and kept as typed.
#[test]
fn terminal_a_secret_seen_earlier_is_masked_in_later_lines_everywhere() {
    use base64::Engine as _;
    let pw = "Later-Line-Pw7";
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let blob = b64(&format!("\0alice\0{pw}"));
    let pw64 = b64(pw);
    let home = tempfile::tempdir().unwrap();
    let (mut t, h, log) = logged_terminal(home.path(), &[]);
    t.ehlo("8BITMIME");
    let authed = "ehlo[plain|authed]>";
    t.keys(format!("AUTH PLAIN {blob}\r"));
    t.wait("the AUTH reply", |s| {
        s.contains("-> AUTH PLAIN ********") && last_prompt(s) == authed
    });
    t.keys(format!(":raw \"{pw64}\\r\\n\"\r"));
    t.wait("the raw line's reply", |s| {
        s.contains("-> ********") && s.contains("500 5.5.2 what") && last_prompt(s) == authed
    });
    t.keys(format!("NOOP {pw}\r"));
    t.wait("the NOOP's reply", |s| {
        s.contains("-> NOOP ********") && last_prompt(s) == authed
    });
    t.keys("\x1b[A");
    t.wait("the recalled line", |s| {
        last_prompt(s) == format!("{authed} NOOP ********")
    });
    t.keys("\r");
    let screen = t.wait("the refusal", |s| {
        s.contains("not sent: ******** is the mask the history and recordings keep")
            && last_prompt(s) == authed
    });
    assert!(screen.contains("> NOOP ********\n"), "{screen}");
    assert!(screen.contains("> :raw \"********\\r\\n\"\n"), "{screen}");
    t.quit();
    let got = String::from_utf8(h.join().unwrap().remove(0)).unwrap();
    assert_eq!(
        got,
        format!("EHLO x.test\r\nAUTH PLAIN {blob}\r\n{pw64}\r\nNOOP {pw}\r\nQUIT\r\n")
    );
    let history = std::fs::read_to_string(home.path().join("ehlo/history")).unwrap();
    assert!(history.contains("NOOP ********\n"), "{history}");
    assert!(history.contains(":raw \"********\\r\\n\"\n"), "{history}");
    let log = log.text();
    for text in [&screen, &history, &log] {
        for secret in [pw, pw64.as_str(), blob.as_str()] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }
}

/// The live indicator: while a reply trickles in at one byte a
/// second, the terminal shows one status line with the seconds waited and the bytes so far
/// (escaped), updated in place; it is gone once the reply is complete, the reply and the next
/// prompt are drawn intact, and a line typed meanwhile runs after it.
#[test]
fn terminal_waiting_indicator_shows_the_bytes_so_far_and_is_erased() {
    let home = tempfile::tempdir().unwrap();
    let (mut t, h) = plain_terminal(home.path(), &[]);
    t.keys("HELP SLOW\r");
    // Nothing yet, then the partial reply, escaped, on one line updated in place.
    let s = t.wait("the indicator with the first bytes", |s| {
        s.lines()
            .any(|l| l.starts_with("waiting ") && l.contains(" so far: \"25"))
    });
    let status: Vec<&str> = s.lines().filter(|l| l.starts_with("waiting ")).collect();
    assert_eq!(status.len(), 1, "{s}");
    assert!(status[0].contains("Ctrl-C stops waiting"), "{s}");
    // Typed ahead while the indicator runs: kept, and run after the reply.
    t.keys("NOOP\r");
    let s = t.wait("more bytes, the same line", |s| {
        s.lines()
            .any(|l| l.starts_with("waiting ") && l.contains(" so far: \"250 s"))
    });
    assert_eq!(
        s.lines().filter(|l| l.starts_with("waiting ")).count(),
        1,
        "{s}"
    );
    let s = t.wait("the reply complete and the NOOP answered", |s| {
        s.contains("250 slow (") && s.contains("2.0.0 ok") && last_prompt(s) == "ehlo[plain]>"
    });
    // Erased without a trace: no indicator left, the reply line whole, nothing after the prompt.
    assert!(!s.contains("waiting "), "{s}");
    assert!(!s.contains("so far"), "{s}");
    let reply = s.lines().find(|l| l.contains("250 slow (")).unwrap();
    assert!(reply.starts_with("<-  250 slow ("), "{s}");
    assert!(reply.trim_end().ends_with(" s)"), "{s}");
    let rows: Vec<&str> = s.lines().collect();
    let slow = rows.iter().position(|l| l.contains("250 slow (")).unwrap();
    assert_eq!(rows[slow + 1].trim_end(), "ehlo[plain]> NOOP", "{s}");
    assert!(rows[slow + 2].starts_with(" -> NOOP"), "{s}");
    t.quit();
    t.assert_cooked();
    assert_eq!(
        String::from_utf8(h.join().unwrap().remove(0)).unwrap(),
        "HELP SLOW\r\nNOOP\r\nQUIT\r\n"
    );
}

/// A terminal that reflows its rows when it shrinks (tmux, VTE, kitty, iTerm2; the vt100 screen
/// here keeps rows as xterm does, so the test does the reflow as tmux 3.3 does: the row's text
/// spread over the narrower rows, the cursor kept at its place in the text) takes the status
/// line over two rows. The next update and the reply's arrival leave none of it (the update
/// clears to the end of the screen, not only its row): the cursor
/// waited at the status row's start (the first of the two), and the erase takes both. It was
/// left at the end (the second row), and `waiting 1 s, nothing received` stayed as a stale row.
#[test]
fn terminal_status_line_reflowed_by_a_shrink_leaves_no_stale_row() {
    let home = tempfile::tempdir().unwrap();
    let (mut t, h) = plain_terminal(home.path(), &[]);
    t.keys("HELP SLEEP\r");
    t.wait("the indicator", |s| {
        s.lines()
            .any(|l| l.starts_with("waiting ") && l.contains("Ctrl-C stops waiting"))
    });
    let narrow: u16 = 30;
    {
        let mut p = t.screen.lock().unwrap();
        let (_, cols) = p.screen().size();
        let rows: Vec<String> = p.screen().rows(0, cols.into()).collect();
        let row = rows
            .iter()
            .rposition(|r| r.starts_with("waiting "))
            .unwrap();
        let text = rows[row].trim_end().to_string();
        assert!(text.chars().count() > usize::from(narrow), "{text}");
        let (_, col) = p.screen().cursor_position();
        p.screen_mut()
            .set_size(ROWS.try_into().unwrap(), narrow.try_into().unwrap());
        let (at_row, at_col) = (row + usize::from(col / narrow), usize::from(col % narrow));
        p.process(
            format!(
                "\x1b[{};1H\x1b[J{text}\x1b[{};{}H",
                row + 1,
                at_row + 1,
                at_col + 1
            )
            .as_bytes(),
        );
    }
    t.resize(narrow);
    // The next update, cut to the new width, takes the second row too.
    let s = t.wait("the indicator drawn anew at the new width", |s| {
        s.lines()
            .any(|l| l.starts_with("waiting ") && l.trim_end().ends_with('…'))
    });
    assert!(!s.contains("stops waiting"), "{s}");
    let s = t.wait("the reply and a fresh prompt", |s| {
        s.contains("2.0.0 awake") && last_prompt(s) == "ehlo[plain]>"
    });
    assert!(!s.contains("waiting"), "{s}");
    assert!(!s.contains("nothing received"), "{s}");
    t.quit();
    assert_eq!(
        String::from_utf8(h.join().unwrap().remove(0)).unwrap(),
        "HELP SLEEP\r\nQUIT\r\n"
    );
}

/// The indicator is for a person at a terminal: never with `--json` on a terminal (sampled all
/// through a slow reply), never in a pipe, the `--log` file or the recording.
#[test]
fn the_waiting_indicator_stays_out_of_json_pipes_and_files() {
    let home = tempfile::tempdir().unwrap();
    let (addr, h) = plain_server();
    let mut t = Pty::start(home.path(), &["repl", &addr.to_string(), "--json"]);
    t.wait("the banner event", |s| s.contains("scripted.test"));
    assert!(t.wait_mode(false), "the terminal never went raw");
    t.keys("HELP SLOW\r");
    let start = Instant::now();
    loop {
        let s = t.screen();
        assert!(!s.contains("waiting "), "{s}");
        // The reply's text (the typed command is upper case).
        if s.contains("slow") {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "{s}");
        std::thread::sleep(Duration::from_millis(20));
    }
    t.quit();
    h.join().unwrap();

    let (addr, h) = plain_server();
    let dir = tempfile::tempdir().unwrap();
    let (rec, log) = (dir.path().join("s.ehlo"), dir.path().join("s.jsonl"));
    let run = ehlo(
        &[
            "repl",
            &addr.to_string(),
            "--record",
            rec.to_str().unwrap(),
            "--log",
            log.to_str().unwrap(),
        ],
        b"HELP SLOW\nQUIT\n",
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.out);
    assert!(run.out.contains("250 slow ("), "{}", run.out);
    for text in [
        run.out,
        std::fs::read_to_string(&rec).unwrap(),
        std::fs::read_to_string(&log).unwrap(),
    ] {
        assert!(!text.contains("waiting "), "{text}");
        assert!(!text.contains("so far"), "{text}");
    }
    h.join().unwrap();
}

/// `:status` and `:set`: the session at a glance, settings listed, changed (the
/// timeout, explanations, the echo of lines sent) and refused with a reason when the value is
/// wrong; the timeout set is the one the next reply is held to.
#[test]
fn status_and_set_in_a_session() {
    let (addr, h) = plain_server();
    let script = "\
:status
EHLO x.test
MAIL FROM:<a@b.test>
RCPT TO:<c@d.test>
:set
:set explain all
:set echo off
NOOP
:set bogus 1
:set timeout 5x
:set echo maybe
:set explain loud
:set timeout 1
HELP SLEEP
:set timeout 10
:set echo on
:status
RSET
:status
QUIT
";
    let run = ehlo(&["repl", &addr.to_string()], script.as_bytes(), &[]);
    // The SLEEP held to 1 s drew no reply in time: a piped run ends with the code of a
    // command in no phase (36), as `--strict` would, once the script has run to its end.
    assert_eq!(run.code, 36, "{}", run.out);
    let out = &run.out;
    // Before EHLO.
    assert!(
        out.contains("TLS        none: plain text (:starttls to upgrade)"),
        "{out}"
    );
    assert!(
        out.contains("SIZE       unknown: no EHLO reply yet"),
        "{out}"
    );
    assert!(out.contains("AUTH       none"), "{out}");
    // `:set` alone lists the three, with their defaults.
    assert!(out.contains("timeout  30s per reply"), "{out}");
    assert!(
        out.contains("explain  errors (errors and unusual replies)"),
        "{out}"
    );
    assert!(out.contains("echo     on (each line sent"), "{out}");
    // explain all: the plain 250 to NOOP is explained; echo off: NOOP is not repeated.
    let from = out.find("echo     off").unwrap();
    let noop = from + out[from..].find("250 2.0.0 ok").unwrap();
    assert!(!out.contains(" -> NOOP"), "{out}");
    assert!(
        out[noop..].lines().nth(1).unwrap().starts_with("    "),
        "{out}"
    );
    // Bad names and values: one line each, naming what is allowed.
    assert!(
        out.contains("unknown setting \"bogus\": :set timeout DURATION"),
        "{out}"
    );
    assert!(
        out.contains(":set timeout: '5x' has an unknown unit"),
        "{out}"
    );
    assert!(
        out.contains(":set echo takes on or off, not \"maybe\""),
        "{out}"
    );
    assert!(
        out.contains(":set explain takes all, errors or none"),
        "{out}"
    );
    // The 1 s timeout holds the three-second SLEEP to it.
    assert!(out.contains("no reply within 1s"), "{out}");
    // The status in the transaction: envelope, SIZE, last reply, settings.
    let status = &out[out.rfind("echo     on (each line sent is shown").unwrap()..];
    assert!(
        status.contains("envelope   MAIL FROM:<a@b.test>, RCPT TO:<c@d.test>"),
        "{out}"
    );
    assert!(
        status.contains("SIZE       1 000 000 bytes (RFC 1870"),
        "{out}"
    );
    assert!(
        status.contains("settings   timeout 10s, explain all, echo on"),
        "{out}"
    );
    assert!(status.contains("state      ehlo[plain|mail]"), "{out}");
    assert!(status.contains("last reply 250 2.0.0 "), "{out}");
    assert!(status.contains("recording  off"), "{out}");
    // After RSET the transaction is gone.
    let after = &status[status.find(" -> RSET").unwrap()..];
    assert!(
        after.contains("envelope   none (no mail transaction open"),
        "{out}"
    );
    // The echo is back: RSET is shown.
    assert!(out.contains(" -> RSET"), "{out}");
    assert_eq!(
        String::from_utf8(h.join().unwrap().remove(0)).unwrap(),
        "EHLO x.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nNOOP\r\nHELP SLEEP\r\nRSET\r\nQUIT\r\n"
    );
}

/// `:set` completes its names and values on a terminal.
#[test]
fn terminal_set_completes_names_and_values() {
    let home = tempfile::tempdir().unwrap();
    let (mut t, h) = plain_terminal(home.path(), &[]);
    t.keys(":set ec\t");
    t.wait("the name completed", |s| {
        last_prompt(s) == "ehlo[plain]> :set echo"
    });
    t.keys(" of\t");
    t.wait("the value completed", |s| {
        last_prompt(s) == "ehlo[plain]> :set echo off"
    });
    t.keys("\r");
    t.wait("the setting changed", |s| s.contains("echo     off"));
    t.quit();
    h.join().unwrap();
}

/// A message over the SIZE the server advertised (RFC 1870): piped, `:data` refuses it in one
/// line and sends nothing (`--strict` exits with the DATA phase's 25); content typed after a raw
/// DATA, which goes out line by line, is warned about once when it passes the limit.
#[test]
fn piped_data_over_the_advertised_size_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.eml");
    // 10 000 lines of 100 bytes: 1 010 000 bytes with CRLF, over the server's SIZE 1000000.
    std::fs::write(&big, format!("{}\n", "x".repeat(99)).repeat(10_000)).unwrap();
    let (addr, h) = plain_server();
    let script = format!(
        "EHLO x.test\nMAIL FROM:<a@b.test>\nRCPT TO:<c@d.test>\n:data @{}\nQUIT\n",
        big.display()
    );
    let run = ehlo(
        &["repl", &addr.to_string(), "--strict"],
        script.as_bytes(),
        &[],
    );
    assert_eq!(run.code, 25, "{}", run.out);
    let refusals: Vec<&str> = run
        .out
        .lines()
        .filter(|l| l.contains("message not sent"))
        .collect();
    assert_eq!(
        refusals,
        [
            "*** message not sent: it is 1 010 000 bytes, over the server's SIZE limit of 1 000 000 bytes (RFC 1870); a terminal would ask"
        ],
        "{}",
        run.out
    );
    assert_eq!(
        String::from_utf8(h.join().unwrap().remove(0)).unwrap(),
        "EHLO x.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nQUIT\r\n"
    );

    // Typed after DATA: sent as typed, with one warning when it passes the limit.
    let (addr, h) = plain_server();
    let mut script = String::from(
        "EHLO x.test\nMAIL FROM:<a@b.test>\nRCPT TO:<c@d.test>\n:set echo off\nDATA\n",
    );
    script.push_str(&format!("{}\n", "y".repeat(99)).repeat(10_000));
    script.push_str(".\nQUIT\n");
    let run = ehlo(&["repl", &addr.to_string()], script.as_bytes(), &[]);
    assert_eq!(run.code, 0, "{}", run.out);
    let warnings: Vec<&str> = run
        .out
        .lines()
        .filter(|l| l.contains("over the server's SIZE limit"))
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].starts_with("!!! the message typed so far is 1 000 ")
            && warnings[0].ends_with("expect a 552 after the final dot"),
        "{warnings:?}"
    );
    let got = String::from_utf8(h.join().unwrap().remove(0)).unwrap();
    assert_eq!(got.matches(&"y".repeat(99)).count(), 10_000);
}

/// On a terminal, `:data` over the advertised SIZE warns and asks: no keeps the message back,
/// yes sends it.
#[test]
fn terminal_data_over_the_advertised_size_asks_first() {
    let home = tempfile::tempdir().unwrap();
    let big = home.path().join("big.eml");
    std::fs::write(&big, format!("{}\n", "x".repeat(99)).repeat(10_000)).unwrap();
    let (mut t, h) = plain_terminal(home.path(), &[]);
    t.ehlo("250 DSN");
    t.keys(":set echo off\r");
    t.keys("MAIL FROM:<a@b.test>\r");
    t.keys("RCPT TO:<c@d.test>\r");
    t.wait("the transaction", |s| last_prompt(s) == "ehlo[plain|mail]>");
    t.keys(format!(":data @{}\r", big.display()));
    let s = t.wait("the question", |s| s.contains("send it anyway? [y/N]"));
    assert!(
        s.contains("!!! the message is 1 010 000 bytes, over the server's SIZE limit of 1 000 000 bytes (RFC 1870): expect a 552"),
        "{s}"
    );
    t.keys("n\r");
    t.wait("kept back", |s| s.contains("message not sent"));
    t.wait("the prompt again", |s| {
        last_prompt(s) == "ehlo[plain|mail]>"
    });
    t.keys(format!(":data @{}\r", big.display()));
    t.wait("the question again", |s| {
        s.matches("send it anyway? [y/N]").count() == 2
    });
    t.keys("y\r");
    t.wait("the message queued", |s| s.contains("2.0.0 queued"));
    t.quit();
    let got = String::from_utf8(h.join().unwrap().remove(0)).unwrap();
    assert_eq!(got.matches("DATA\r\n").count(), 1, "{:.300}", got);
    assert_eq!(got.matches(&"x".repeat(99)).count(), 10_000);
}

/// `:status` shows the envelope the server took: a refused recipient is not in it.
#[test]
fn status_envelope_leaves_out_refused_recipients() {
    let (addr, h) = server(
        Behaviour {
            rcpt: 550,
            pipelining: false,
        },
        1,
    );
    let run = ehlo(
        &["repl", &addr.to_string()],
        b"EHLO x.test\nMAIL FROM:<a@b.test>\nRCPT TO:<c@d.test>\n:status\nQUIT\n",
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.out);
    assert!(
        run.out
            .contains("envelope   MAIL FROM:<a@b.test>, no RCPT TO yet"),
        "{}",
        run.out
    );
    assert!(
        run.out
            .contains("last reply 550 5.1.1 no such user (RCPT, "),
        "{}",
        run.out
    );
    h.join().unwrap();
}

// ----- `:edit`, resizing and job control from outside ------------------------------------------

/// An executable shell script `name` in `dir`.
fn script(dir: &std::path::Path, name: &str, text: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

/// MAIL and RCPT typed, each answered, at a fresh prompt.
fn envelope_typed(t: &mut Pty) {
    t.ehlo("250 DSN");
    t.keys("MAIL FROM:<a@b.test>\r");
    t.wait("the MAIL reply", |s| last_prompt(s) == "ehlo[plain|mail]>");
    t.keys("RCPT TO:<c@d.test>\r");
    t.wait("the RCPT reply", |s| {
        s.contains("2.1.5 ok") && last_prompt(s) == "ehlo[plain|mail]>"
    });
}

/// `:edit` hands the terminal to `$EDITOR`: cooked while it runs and not read by the REPL (a
/// line typed into the editor reaches the editor, not the REPL), on a draft that starts with
/// the headers `:send` would use, in a 0600 file of a 0700 directory that is gone afterwards;
/// the saved message is dot-stuffed and sent as `:data` sends it, and recorded as a `:data`
/// step; the terminal is raw again at the next prompt.
#[test]
fn terminal_edit_sends_what_the_editor_saved_from_a_private_draft() {
    let home = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let o = out.path().to_str().unwrap();
    let editor = script(
        out.path(),
        "editor.sh",
        &format!(
            r#"#!/bin/sh
stat -c %a "$1" > {o}/file-mode
stat -c %a "$(dirname "$1")" > {o}/dir-mode
printf '%s\n' "$1" > {o}/path
cp "$1" {o}/template
stty -a > {o}/stty 2>&1
echo EDITOR READY
# The line is typed now; a REPL still reading the terminal would take it meanwhile.
sleep 1
IFS= read -r typed
printf 'Subject: edited\n\n.dot line\n%s\nlast line\n' "$typed" > "$1"
"#
        ),
    );
    let rec = out.path().join("edit.ehlo");
    let (addr, h) = plain_server();
    let mut t = Pty::start_env(
        home.path(),
        &["repl", &addr.to_string(), "--record", rec.to_str().unwrap()],
        COLS,
        false,
        &[("EDITOR", editor.to_str().unwrap())],
    );
    t.wait("the first prompt", |s| last_prompt(s) == "ehlo[plain]>");
    envelope_typed(&mut t);
    t.keys(":edit\r");
    t.wait("the editor", |s| s.contains("EDITOR READY"));
    assert!(t.wait_mode(true), "the editor got a raw terminal");
    // Typed into the editor: if the REPL still read the terminal it would take these bytes.
    t.keys("typed in the editor\r");
    t.wait("the message queued", |s| s.contains("2.0.0 queued"));
    t.wait("a fresh prompt", |s| last_prompt(s) == "ehlo[plain]>");
    assert!(t.wait_mode(false), "not raw again after the editor");
    t.keys("QUIT\r");
    t.wait("the goodbye", |s| s.contains("221 2.0.0 bye"));
    t.quit();
    t.assert_cooked();
    let got = String::from_utf8(h.join().unwrap().remove(0)).unwrap();
    assert_eq!(
        got,
        "EHLO x.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nDATA\r\nSubject: edited\r\n\r\n..dot line\r\ntyped in the editor\r\nlast line\r\n.\r\nQUIT\r\n"
    );
    let read = |n: &str| std::fs::read_to_string(out.path().join(n)).unwrap();
    assert_eq!(read("file-mode").trim(), "600");
    assert_eq!(read("dir-mode").trim(), "700");
    let draft = std::path::PathBuf::from(read("path").trim());
    assert!(!draft.exists(), "{} left behind", draft.display());
    assert!(
        !draft.parent().unwrap().exists(),
        "the draft's directory left behind"
    );
    let template = read("template");
    assert!(
        template.contains("From: a@b.test\n")
            && template.contains("To: c@d.test\n")
            && template.contains("\nMessage-Id: <")
            && template.ends_with("X-Mailer: ehlo repl\n\n"),
        "{template}"
    );
    let stty: Vec<String> = read("stty").split_whitespace().map(String::from).collect();
    assert!(
        stty.contains(&"icanon".to_string()) && stty.contains(&"echo".to_string()),
        "the editor's terminal was not cooked: {stty:?}"
    );
    // Recorded as a `:data` step, so the recording replays without an editor.
    let rec = std::fs::read_to_string(&rec).unwrap();
    assert!(
        rec.contains("> :data\n| Subject: edited\n| \n| .dot line\n| typed in the editor\n| last line\n< 354\n< 250\n"),
        "{rec}"
    );
}

/// The REPL holds AUTH secrets: started with a core-file limit it runs with a soft limit of 0
/// (the hard one kept), and the `:edit` editor, the user's program, gets the limit back.
#[test]
fn terminal_no_core_dump_of_the_repl_but_the_editor_keeps_the_users_limit() {
    let home = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let o = out.path().to_str().unwrap();
    let editor = script(
        out.path(),
        "editor.sh",
        &format!(
            "#!/bin/sh\nawk '/core file/ {{print $5, $6}}' /proc/$$/limits > {o}/core\nexit 3\n"
        ),
    );
    let (addr, _h) = plain_server();
    let mut t = Pty::start_under_core_limit(
        home.path(),
        &["repl", &addr.to_string()],
        &[("EDITOR", editor.to_str().unwrap())],
    );
    t.wait("the first prompt", |s| last_prompt(s) == "ehlo[plain]>");
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", t.child.id())).unwrap();
    let repl: Vec<&str> = limits
        .lines()
        .find_map(|l| l.strip_prefix("Max core file size"))
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(repl[0], "0", "the REPL's core limit: {repl:?}");
    envelope_typed(&mut t);
    t.keys(":edit\r");
    let note = "failed (exit status: 3): message cancelled, nothing was sent";
    t.wait(note, |s| {
        s.contains(note) && last_prompt(s) == "ehlo[plain|mail]>"
    });
    let editor_limit = std::fs::read_to_string(out.path().join("core")).unwrap();
    assert_eq!(editor_limit.trim(), format!("2048 {}", repl[1]));
    t.keys("QUIT\r");
    t.wait("the goodbye", |s| s.contains("221 2.0.0 bye"));
    t.quit();
}

/// `$VISUAL` comes before `$EDITOR`; an editor exiting non-zero, a draft saved empty and one
/// left unchanged each cancel with a note and send nothing (no DATA); SIGINT while the editor
/// has the terminal is the editor's (the REPL carries on), also when it ends the editor as it
/// reaches the REPL (Ctrl-C: the terminal signals the REPL and the editor at once); SIGTERM
/// while it runs ends the REPL with the terminal restored and the draft removed. Every draft
/// directory is gone.
#[test]
fn terminal_edit_cancels_prefers_visual_and_cleans_up_on_signals() {
    let home = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let o = out.path().to_str().unwrap();
    let visual = script(
        out.path(),
        "visual.sh",
        &format!(
            r#"#!/bin/sh
printf '%s\n' "$1" >> {o}/paths
case "$(cat {o}/mode)" in
fail) exit 3 ;;
empty) : > "$1" ;;
same) ;;
send)
    echo VISUAL WAITING
    IFS= read -r typed
    printf 'Subject: visual\n\n%s\n' "$typed" > "$1" ;;
hang)
    echo VISUAL HANGS
    exec sleep 60 ;;
interrupted)
    echo VISUAL INTERRUPTIBLE
    exec sleep 60 ;;
esac
"#
        ),
    );
    let editor = script(
        out.path(),
        "editor.sh",
        "#!/bin/sh\necho from EDITOR > \"$1\"\n",
    );
    let mode = |m: &str| std::fs::write(out.path().join("mode"), m).unwrap();
    let (addr, h) = plain_server();
    // A process group of its own, as a shell's job: the REPL and its editor are the group a
    // terminal's Ctrl-C signals.
    let mut t = Pty::start_env(
        home.path(),
        &["repl", &addr.to_string()],
        COLS,
        true,
        &[
            ("VISUAL", visual.to_str().unwrap()),
            ("EDITOR", editor.to_str().unwrap()),
        ],
    );
    t.wait("the first prompt", |s| last_prompt(s) == "ehlo[plain]>");
    envelope_typed(&mut t);
    for (m, note) in [
        (
            "fail",
            "failed (exit status: 3): message cancelled, nothing was sent",
        ),
        ("empty", "the message is empty: cancelled, nothing was sent"),
        (
            "same",
            "the message is unchanged: cancelled, nothing was sent",
        ),
    ] {
        mode(m);
        t.keys(":edit\r");
        t.wait(note, |s| {
            s.contains(note) && last_prompt(s) == "ehlo[plain|mail]>"
        });
    }
    let pid = t.child.id().to_string();
    let kill = |signal: &str, target: &str| {
        assert!(
            Command::new("kill")
                .args([signal, "--", target])
                .status()
                .unwrap()
                .success()
        );
    };
    // Ctrl-C that ends the editor: SIGINT to the whole group, the REPL and the editor at once.
    // The editor dies of it; the REPL, which gets it as the editor ends, carries on.
    mode("interrupted");
    t.keys(":edit\r");
    t.wait("the editor", |s| s.contains("VISUAL INTERRUPTIBLE"));
    kill("-INT", &format!("-{pid}"));
    let note = "failed (signal: 2 (SIGINT)): message cancelled, nothing was sent";
    t.wait(note, |s| {
        s.contains(note) && last_prompt(s) == "ehlo[plain|mail]>"
    });
    mode("send");
    t.keys(":data --edit\r");
    t.wait("the editor", |s| s.contains("VISUAL WAITING"));
    kill("-INT", &pid);
    t.keys("after an interrupt\r");
    t.wait("the message queued", |s| s.contains("2.0.0 queued"));
    t.wait("a fresh prompt", |s| last_prompt(s) == "ehlo[plain]>");
    t.keys("MAIL FROM:<a@b.test>\r");
    t.wait("the MAIL reply", |s| last_prompt(s) == "ehlo[plain|mail]>");
    mode("hang");
    t.keys(":edit\r");
    t.wait("the editor", |s| s.contains("VISUAL HANGS"));
    kill("-TERM", &pid);
    assert_eq!(t.exit_code(), 143, "{}", t.screen());
    t.assert_cooked();
    let got = String::from_utf8(h.join().unwrap().remove(0)).unwrap();
    assert_eq!(
        got,
        "EHLO x.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nDATA\r\nSubject: visual\r\n\r\nafter an interrupt\r\n.\r\nMAIL FROM:<a@b.test>\r\n"
    );
    let paths = std::fs::read_to_string(out.path().join("paths")).unwrap();
    assert_eq!(paths.lines().count(), 6, "{paths}");
    for p in paths.lines() {
        let dir = std::path::Path::new(p).parent().unwrap();
        assert!(!dir.exists(), "{} left behind", dir.display());
    }
}

/// A SIGINT that comes after `:edit`'s editor has ended and before the REPL has its terminal
/// raw again (a Ctrl-C pressed as the editor exits: the terminal is still cooked, so it is a
/// signal, not a key) is the editor's time, not the REPL's: dropped, and the message is sent.
/// It ended the REPL: the signals queued were dropped before the raw modes were set, and one
/// that came in between was read as the REPL's own.
///
/// Made deterministic with job control, as a shell's: `ehlo` runs as the foreground job of a
/// session on the terminal (python3 as the shell); the editor hands the terminal to a helper
/// of its own group and exits, so the REPL's setting of its raw modes stops it (SIGTTOU, a
/// background job's `tcsetattr`, POSIX); the helper, once it sees the REPL stopped, signals it
/// (SIGINT), gives the terminal back and continues it.
#[test]
#[ignore = "runs python3 as the job-control shell: tests/interop/run.sh runs it"]
fn terminal_a_sigint_as_the_editor_exits_is_not_the_repls() {
    let home = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let python = Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .expect("python3");
    let python = String::from_utf8(python.stdout).unwrap().trim().to_string();
    let shell = script(
        out.path(),
        "shell.py",
        r#"import os, sys
# A session on the terminal (stdin), ehlo its foreground job in a group of its own; this
# process stays in the session, so ehlo's group is not orphaned and a stop signal stops it.
os.setsid()
tty = os.open(os.ttyname(0), os.O_RDWR)
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.setpgid(0, 0)
    os.read(r, 1)
    os.environ["REPL_PID"] = str(os.getpid())
    os.execv(sys.argv[1], sys.argv[1:])
os.setpgid(pid, pid)
os.tcsetpgrp(tty, pid)
os.write(w, b"x")
_, status = os.waitpid(pid, 0)
code = os.waitstatus_to_exitcode(status)
sys.exit(128 - code if code < 0 else code)
"#,
    );
    let editor = script(
        out.path(),
        "editor.py",
        r#"import os, signal, sys, time
repl = int(os.environ["REPL_PID"])
tty = os.open("/dev/tty", os.O_RDWR)
r, w = os.pipe()
helper = os.fork()
if helper == 0:
    os.setpgid(0, 0)
    signal.signal(signal.SIGTTOU, signal.SIG_IGN)
    os.read(r, 1)
    # The REPL stops when it sets its raw modes from the background (waited for 60 s at most).
    state = lambda: open(f"/proc/{repl}/stat").read().rsplit(")", 1)[1].split()[0]
    until = time.monotonic() + 60
    while state() != "T" and time.monotonic() < until:
        time.sleep(0.01)
    os.kill(repl, signal.SIGINT)
    os.tcsetpgrp(tty, os.getpgid(repl))
    os.killpg(os.getpgid(repl), signal.SIGCONT)
    os._exit(0)
os.setpgid(helper, helper)
os.tcsetpgrp(tty, helper)
with open(sys.argv[1], "w") as f:
    f.write("Subject: raced\n\nsent all the same\n")
os.write(w, b"x")
"#,
    );
    let (addr, h) = plain_server();
    let mut cmd = Command::new(&python);
    cmd.arg(&shell).arg(EHLO);
    let mut t = Pty::spawn_cmd(
        cmd,
        home.path(),
        &["repl", &addr.to_string()],
        COLS,
        false,
        &[("VISUAL", &format!("{python} {}", editor.to_str().unwrap()))],
        true,
        None,
    );
    t.wait("the first prompt", |s| last_prompt(s) == "ehlo[plain]>");
    envelope_typed(&mut t);
    t.keys(":edit\r");
    t.wait("the message queued", |s| {
        s.contains("2.0.0 queued") || s.contains("SIGINT")
    });
    t.wait("a fresh prompt", |s| last_prompt(s) == "ehlo[plain]>");
    assert!(!t.screen().contains("SIGINT"), "{}", t.screen());
    t.keys("QUIT\r");
    t.wait("the goodbye", |s| s.contains("221 2.0.0 bye"));
    t.quit();
    let got = String::from_utf8(h.join().unwrap().remove(0)).unwrap();
    assert_eq!(
        got,
        "EHLO x.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nDATA\r\nSubject: raced\r\n\r\nsent all the same\r\n.\r\nQUIT\r\n"
    );
}

/// Piped, there is no terminal to lend an editor: `:edit` says what to do instead and sends
/// nothing; `--strict` ends with the DATA phase's code.
#[test]
fn piped_edit_is_refused_with_the_alternatives() {
    let (addr, h) = plain_server();
    let run = ehlo(
        &["repl", &addr.to_string()],
        b"EHLO x.test\nMAIL FROM:<a@b.test>\nRCPT TO:<c@d.test>\n:edit\nQUIT\n",
        &[("EDITOR", "/bin/true")],
    );
    assert_eq!(run.code, 0, "{}", run.out);
    assert!(
        run.out.contains(":edit needs a terminal for the editor")
            && run.out.contains(":data @FILE"),
        "{}",
        run.out
    );
    let got = String::from_utf8(h.join().unwrap().remove(0)).unwrap();
    assert!(!got.contains("DATA"), "{got}");
    let (addr, _h) = plain_server();
    let run = ehlo(
        &["repl", &addr.to_string(), "--strict"],
        b"EHLO x.test\n:edit\nQUIT\n",
        &[],
    );
    assert_eq!(run.code, 25, "{}", run.out);
}

impl Pty {
    /// Resize the terminal as an emulator does: the screen, the pty's size (TIOCSWINSZ, by
    /// `stty` on the terminal), then SIGWINCH (the kernel sends it to the terminal's
    /// foreground group; `ehlo` here has no controlling terminal, so it is sent by hand).
    fn resize(&self, cols: u16) {
        self.screen
            .lock()
            .unwrap()
            .screen_mut()
            .set_size(ROWS.try_into().unwrap(), cols.try_into().unwrap());
        let st = Command::new("stty")
            .args(["cols", &cols.to_string(), "rows", &ROWS.to_string()])
            .stdin(Stdio::from(self.slave.try_clone().unwrap()))
            .status()
            .unwrap();
        assert!(st.success());
        self.signal("WINCH");
    }
}

/// SIGWINCH: a line wrapped over rows is drawn again at the new width — narrower, then wider —
/// with every character once, nothing left of the old drawing and the cursor on its cell;
/// typing goes on and the server gets the line exactly.
#[test]
fn terminal_resize_redraws_the_wrapped_line_at_the_new_width() {
    let home = tempfile::tempdir().unwrap();
    let (addr, h) = plain_server();
    let mut t = Pty::start_with(home.path(), &["repl", &addr.to_string()], 40, false);
    t.wait("the first prompt", |s| last_prompt(s) == "ehlo[plain]>");
    let tail: String = (0..100)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    t.keys(format!("NOOP {tail}"));
    let text = format!("ehlo[plain]> NOOP {tail}");
    t.wait("the whole line, wrapped", |s| last_prompt(s) == text);
    let row = t.prompt_row("ehlo[plain]> NOOP");
    t.wait_cursor("after typing", (row + 2, 38));
    // The rows the text takes at `cols` columns.
    let rows_at = |cols: usize| {
        text.as_bytes()
            .chunks(cols)
            .map(|c| String::from_utf8(c.to_vec()).unwrap())
            .collect::<Vec<_>>()
            .join("\n")
    };
    let wait_rows = |t: &Pty, cols: usize| {
        let start = Instant::now();
        while t.rows_from(row) != rows_at(cols) {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "not redrawn at {cols} columns:\n{}\nwanted:\n{}",
                t.rows_from(row),
                rows_at(cols)
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    // 118 columns: 30 + 30 + 30 + 28.
    t.resize(30);
    wait_rows(&t, 30);
    t.wait_cursor("after narrowing", (row + 3, 28));
    // 60 + 58.
    t.resize(60);
    wait_rows(&t, 60);
    t.wait_cursor("after widening", (row + 1, 58));
    t.keys("\x01\x1b[C\x1b[C\x1b[C\x1b[C\x1b[C");
    t.wait_cursor("Home and five Right at the new width", (row, 18));
    t.keys("XY\r");
    t.wait("the reply", |s| s.contains("2.0.0 ok"));
    t.wait("a fresh prompt", |s| last_prompt(s) == "ehlo[plain]>");
    assert_eq!(
        t.screen().matches("ehlo[plain]> NOOP").count(),
        1,
        "{}",
        t.screen()
    );
    t.quit();
    let got = h.join().unwrap().remove(0);
    assert_eq!(
        String::from_utf8(got).unwrap(),
        format!("NOOP XY{tail}\r\nQUIT\r\n")
    );
}

/// A line taller than the screen (53 rows of 40 columns on a 50-row terminal): Home put the
/// cursor on the top row, but on the row of the line there, not on the prompt's (the rows above
/// the screen cannot be reached: the redraw began on the top row), so the cursor was drawn on
/// another character than the one it edits. Now a window of the screen's height around the
/// cursor is drawn: after Home the prompt row is the top row, after End the last row is the
/// bottom one, and an edit in the middle lands where it is drawn.
#[test]
fn terminal_a_line_taller_than_the_screen_is_drawn_around_the_cursor() {
    let home = tempfile::tempdir().unwrap();
    let (addr, h) = plain_server();
    let mut t = Pty::start_with(home.path(), &["repl", &addr.to_string()], 40, false);
    t.wait("the first prompt", |s| last_prompt(s) == "ehlo[plain]>");
    let tail: String = (0..2100)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    t.keys(format!("NOOP {tail}"));
    let text = format!("ehlo[plain]> NOOP {tail}");
    let rows: Vec<String> = text
        .as_bytes()
        .chunks(40)
        .map(|c| String::from_utf8(c.to_vec()).unwrap())
        .collect();
    assert!(rows.len() > usize::from(ROWS), "{}", rows.len());
    let window = |t: &Pty, first: usize| {
        let start = Instant::now();
        let want = rows[first..first + usize::from(ROWS)].join("\n");
        while t.rows_from(0) != want {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "not the rows from {first}:\n{}",
                t.rows_from(0)
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    let last = rows.len() - usize::from(ROWS);
    window(&t, last);
    t.wait_cursor("at the end", (ROWS - 1, (text.len() % 40) as u16));
    t.keys("\x01");
    window(&t, 0);
    t.wait_cursor("Home: on the prompt row", (0, 13));
    t.keys("\x1b[C\x1b[C\x1b[C\x1b[C\x1b[CZ");
    t.wait("Z inserted on the top row", |s| {
        s.starts_with("ehlo[plain]> NOOP Zabc")
    });
    t.wait_cursor("after Z", (0, 19));
    t.keys("\x05\r");
    t.wait("the reply", |s| s.contains("2.0.0 ok"));
    t.quit();
    let got = h.join().unwrap().remove(0);
    assert_eq!(
        String::from_utf8(got).unwrap(),
        format!("NOOP Z{tail}\r\nQUIT\r\n")
    );
}

/// The indicator is erased when the timeout fires too: the warning takes its place, and the
/// late reply is shown when it comes, with nothing of the indicator left.
#[test]
fn terminal_waiting_indicator_is_erased_when_the_timeout_fires() {
    let home = tempfile::tempdir().unwrap();
    let (mut t, h) = plain_terminal(home.path(), &["--timeout", "4"]);
    t.keys("HELP SLOW\r");
    t.wait("the indicator", |s| {
        s.lines()
            .any(|l| l.starts_with("waiting ") && l.contains(" so far"))
    });
    // "no reply within 4s", or "no complete reply…" when a byte came as the time ran out.
    let s = t.wait("the timeout warning and a prompt", |s| {
        s.contains("reply within 4s") && last_prompt(s) == "ehlo[plain]>"
    });
    assert!(!s.contains("waiting "), "{s}");
    let warning = s.lines().find(|l| l.contains("reply within 4s")).unwrap();
    assert!(warning.starts_with("!!! no "), "{s}");
    let s = t.wait("the late reply", |s| s.contains("250 slow"));
    assert!(!s.contains("waiting "), "{s}");
    t.quit();
    t.assert_cooked();
    h.join().unwrap();
}

/// `:status` on TLS and after AUTH: the version, cipher and the verification verdict (verified
/// with the CA given; not verified and not enforced under `--insecure`), and the AUTH user —
/// never the password or its base64.
#[test]
fn status_reports_the_tls_verdict_and_the_auth_user_never_the_secret() {
    use base64::Engine as _;
    let dir = tempfile::tempdir().unwrap();
    let (mut tls, addr, cert) = tls_serve(dir.path());
    let status_after = |starttls: &str| {
        let script = format!("EHLO x.test\n{starttls}\n:status\nQUIT\n");
        let run = ehlo(&["repl", &addr.to_string()], script.as_bytes(), &[]);
        assert_eq!(run.code, 0, "{}", run.out);
        let tls_line = run
            .out
            .lines()
            .find(|l| l.starts_with("TLS        "))
            .unwrap_or_else(|| panic!("{}", run.out))
            .to_string();
        assert!(tls_line.starts_with("TLS        TLSv1."), "{}", run.out);
        assert!(tls_line.contains(" bits); "), "{}", run.out);
        tls_line
    };
    let verified = status_after(&format!(":starttls --ca {}", cert.display()));
    assert!(verified.contains("; certificate verified"), "{verified}");
    let insecure = status_after(":starttls --insecure");
    assert!(
        insecure.contains("; certificate NOT verified")
            && insecure.ends_with("(not enforced: :starttls --insecure)"),
        "{insecure}"
    );
    let _ = tls.kill();
    let _ = tls.wait();

    let (addr, h) = plain_server();
    let password = "s3cret-Pa55word";
    let run = ehlo(
        &["repl", &addr.to_string(), "--allow-plaintext-auth"],
        b"EHLO x.test\n:auth PLAIN tim\n:status\nQUIT\n",
        &[("EHLO_AUTH_PASSWORD", password)],
    );
    assert_eq!(run.code, 0, "{}", run.out);
    assert!(
        run.out.contains("AUTH       tim with PLAIN: authenticated"),
        "{}",
        run.out
    );
    let blob = base64::engine::general_purpose::STANDARD.encode(format!("\0tim\0{password}"));
    assert!(
        !run.out.contains(password) && !run.out.contains(&blob),
        "{}",
        run.out
    );
    h.join().unwrap();
}

/// With `--tls`, after `:reconnect`, the automatic EHLO and STARTTLS of the new
/// connection are recorded after the `:reconnect` line (not before it), so the unedited
/// recording replays green against the same kind of server.
#[test]
fn record_after_reconnect_with_tls_is_in_order_and_replays() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, addr, cert) = tls_serve(dir.path());
    let rec = dir.path().join("tls.ehlo");
    let rec_s = rec.to_str().unwrap();
    let cert_s = cert.to_str().unwrap();
    let run = ehlo(
        &[
            "repl",
            &addr.to_string(),
            "--tls",
            "--ehlo",
            "x.test",
            "--tls-ca-path",
            cert_s,
            "--record",
            rec_s,
        ],
        b"NOOP\n:reconnect\nNOOP\nQUIT\n",
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.out);
    let text = std::fs::read_to_string(&rec).unwrap();
    let steps: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    let at = |what: &str| -> Vec<usize> {
        steps
            .iter()
            .enumerate()
            .filter(|(_, l)| l.starts_with(what))
            .map(|(i, _)| i)
            .collect()
    };
    let reconnect = at("> :reconnect");
    let ehlos = at("> EHLO x.test");
    let starttls = at("> :starttls");
    assert_eq!(reconnect.len(), 1, "{text}");
    // One automatic EHLO and one `:starttls` (which stands for STARTTLS and the EHLO inside
    // TLS, replies `< 220` `< 250`) per connection.
    assert_eq!(ehlos.len(), 2, "{text}");
    assert_eq!(starttls.len(), 2, "{text}");
    let r = reconnect[0];
    // The first connection's automatic steps come before `:reconnect`, the second's after it.
    assert!(ehlos[0] < r && r < ehlos[1], "{text}");
    assert!(starttls[0] < r && r < starttls[1], "{text}");
    // The new connection's banner, EHLO and STARTTLS follow `:reconnect` directly, in order.
    assert_eq!(
        steps[r..r + 7],
        [
            "> :reconnect",
            "< 220",
            "> EHLO x.test",
            "< 250",
            "> :starttls",
            "< 220",
            "< 250"
        ],
        "{text}"
    );
    let run = ehlo(
        &[
            "replay",
            rec_s,
            "--server",
            &addr.to_string(),
            "--tls-ca-path",
            cert_s,
        ],
        b"",
        &[],
    );
    assert_eq!(run.code, 0, "{text}\n{}", run.out);
    let _ = server.kill();
    let _ = server.wait();
}

/// A replayed `:starttls` whose handshake fails (the certificate is not trusted) ends the
/// replay with exit 29 (STARTTLS), never connecting again in plain text: nothing after it goes
/// out in clear, `--keep-going` included, and the JSON summary says tls.
#[test]
fn replay_a_failed_handshake_exits_29_and_sends_nothing_in_clear() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, addr, _cert) = tls_serve(dir.path());
    let script = dir.path().join("tls.ehlo");
    std::fs::write(
        &script,
        "< 220\n> EHLO x.test\n< 250\n> :starttls\n< 220\n< 250\n> MAIL FROM:<a@b.test>\n< 250\n> QUIT\n< 221\n",
    )
    .unwrap();
    let (s, addr_s) = (script.to_str().unwrap(), addr.to_string());
    for extra in [&[][..], &["--keep-going"]] {
        let mut args = vec!["replay", s, "-s", &addr_s, "--json"];
        args.extend_from_slice(extra);
        let (code, stdout, stderr) = ehlo_split(&args, b"");
        assert_eq!(code, 29, "{extra:?}: {stdout}{stderr}");
        let v = json_lines(&stdout);
        let sent: Vec<&str> = of_type(&v, "sent")
            .iter()
            .map(|e| e["data"]["text"].as_str().unwrap())
            .collect();
        assert_eq!(sent, ["EHLO x.test", "STARTTLS"], "{extra:?}: {stdout}");
        assert_eq!(of_type(&v, "connected").len(), 1, "{extra:?}: {stdout}");
        assert!(
            !stdout.contains("connecting again in plain text"),
            "{stdout}"
        );
        let summary = &v.last().unwrap()["data"];
        assert_eq!(summary["exit_code"], 29, "{stdout}");
    }
    let _ = server.kill();
    let _ = server.wait();
}

/// Completion does not offer parameters already typed: on a MAIL FROM line that already
/// carries `SIZE=10`, Tab no longer offers `SIZE=` (the prefix `S` stays as typed) while a
/// parameter not yet typed (`BODY=`) is still completed; before `SIZE=` is typed, `S` Tab does
/// complete it, so the refusal comes from the typed parameter, not from the server's offer.
#[test]
fn terminal_completion_leaves_out_parameters_already_typed() {
    let home = tempfile::tempdir().unwrap();
    let (mut t, h) = plain_terminal(home.path(), &[]);
    t.ehlo("250 DSN");
    t.keys("MAIL FROM:<a@b.test> S\t");
    t.wait("SIZE= offered while not yet typed", |s| {
        last_prompt(s) == "ehlo[plain]> MAIL FROM:<a@b.test> SIZE="
    });
    // `Q` after the Tab is a marker: the editor handles keys in order, so once it is on screen
    // the Tab was handled, and a completion would show as `SIZE=Q`.
    t.keys("10 S\tQ");
    let s = t.wait("the marker after Tab", |s| last_prompt(s).ends_with('Q'));
    assert_eq!(
        last_prompt(&s),
        "ehlo[plain]> MAIL FROM:<a@b.test> SIZE=10 SQ",
        "{s}"
    );
    t.keys("\x7f\x7fB\t");
    t.wait("BODY= still offered", |s| {
        last_prompt(s) == "ehlo[plain]> MAIL FROM:<a@b.test> SIZE=10 BODY="
    });
    t.keys("\x03");
    t.wait("an empty prompt after Ctrl-C", |s| {
        last_prompt(s) == "ehlo[plain]>"
    });
    t.quit();
    let got = h.join().unwrap().remove(0);
    // Completion sends nothing: the cancelled MAIL line never reached the server.
    assert_eq!(String::from_utf8_lossy(&got), "EHLO x.test\r\nQUIT\r\n");
}

/// `:starttls --sni NAME` takes effect: the certificate (signed for localhost and 127.0.0.1,
/// trusted with `--ca`) is verified against NAME, not against the address connected to. A name
/// the certificate does not carry fails naming it (the session connects again in plain text);
/// the name it carries verifies.
#[test]
fn terminal_starttls_sni_names_the_certificate_to_verify() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, addr, cert) = tls_serve(dir.path());
    let mut t = Pty::repl(dir.path(), addr, &[]);
    t.ehlo("STARTTLS");
    t.keys(format!(
        ":starttls --ca {} --sni wrong.example.test\r",
        cert.display()
    ));
    let s = t.wait("the reconnection after the wrong name", |s| {
        s.contains("connecting again in plain text")
            && s.matches("250-STARTTLS").count() == 2
            && last_prompt(s) == "ehlo[plain]>"
    });
    // The name went out as SNI and was the one verified (the typed line also holds it, so
    // these look for the report's own wording).
    assert!(s.contains("TLS SNI sent: wrong.example.test"), "{s}");
    assert!(
        s.contains("using host wrong.example.test to verify")
            && s.contains("not valid for wrong.example.test"),
        "{s}"
    );
    t.keys(format!(
        ":starttls --ca {} --sni localhost\r",
        cert.display()
    ));
    let s = t.wait("the TLS prompt", |s| last_prompt(s) == "ehlo[tls]>");
    assert!(s.contains("TLS SNI sent: localhost"), "{s}");
    assert_eq!(
        s.matches("certificate verification failed").count(),
        1,
        "{s}"
    );
    t.quit();
    t.assert_cooked();
    let _ = server.kill();
    let _ = server.wait();
}

/// `:starttls --sni ADDRESS`: RFC 6066 §3 allows no IP literal in SNI, so none is sent and
/// that is said once before STARTTLS (it was left to the "TLS no SNI sent" line), while the
/// certificate is still checked against the address (here its IP subjectAltName: TLS is up).
#[test]
fn piped_starttls_sni_with_an_address_is_warned_about_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, addr, cert) = tls_serve(dir.path());
    let script = format!(
        "EHLO x.test\n:starttls --ca {} --sni 127.0.0.1\nQUIT\n",
        cert.display()
    );
    let run = ehlo(&["repl", &addr.to_string()], script.as_bytes(), &[]);
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(run.code, 0, "{}", run.out);
    assert_eq!(
        run.out
            .matches(
                "!!! :starttls --sni 127.0.0.1: an IP address is not a name SNI can carry \
                 (RFC 6066 §3): no SNI is sent; the certificate is checked against 127.0.0.1"
            )
            .count(),
        1,
        "{}",
        run.out
    );
    assert!(run.out.contains("TLS no SNI sent"), "{}", run.out);
    assert!(
        run.out
            .contains("using host 127.0.0.1 to verify; matched IP:127.0.0.1"),
        "{}",
        run.out
    );
}

/// A server that greets (unless `banner` is false), answers EHLO and then says nothing to MAIL;
/// it returns every byte received until the client closes.
fn silent_server(banner: bool) -> (SocketAddr, JoinHandle<Vec<u8>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let h = std::thread::spawn(move || {
        let (s, _) = l.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut w = s.try_clone().unwrap();
        let mut r = BufReader::new(s);
        if banner {
            let _ = w.write_all(b"220 silent.test ESMTP\r\n");
        }
        let mut got = Vec::new();
        loop {
            let mut line = Vec::new();
            match r.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            got.extend_from_slice(&line);
            if line.to_ascii_uppercase().starts_with(b"EHLO") {
                let _ = w.write_all(b"250 silent.test\r\n");
            }
        }
        got
    });
    (addr, h)
}

/// Piped `--strict`: a reply that never comes ends the session as the send ends it, with the
/// phase's exit code (banner 21, MAIL 23) and the summary's `timeout` outcome; QUIT follows a
/// silent MAIL, nothing follows a silent banner. Without `--strict` the timeout warns and the
/// script goes on, but the run still ends with the phase's code and the `timeout` outcome (it
/// exited 0: a server that never answered passed a CI job).
#[test]
fn piped_strict_ends_on_a_timeout_with_the_phase_code() {
    let (addr, h) = silent_server(false);
    let (code, stdout, _) = ehlo_split(
        &[
            "repl",
            &addr.to_string(),
            "--timeout",
            "1",
            "--strict",
            "--json",
        ],
        b"EHLO x.test\nQUIT\n",
    );
    assert_eq!(code, 21, "{stdout}");
    let v = json_lines(&stdout);
    let summary = &v.last().unwrap()["data"];
    assert_eq!(summary["exit_code"], 21, "{stdout}");
    assert_eq!(summary["outcome"], "timeout", "{stdout}");
    assert!(
        summary["error"].as_str().unwrap().contains("banner"),
        "{stdout}"
    );
    assert!(of_type(&v, "sent").is_empty(), "{stdout}");
    assert_eq!(h.join().unwrap(), b"");

    let script = b"EHLO x.test\nMAIL FROM:<a@b.test>\nRCPT TO:<c@d.test>\nQUIT\n";
    let (addr, h) = silent_server(true);
    let (code, stdout, _) = ehlo_split(
        &[
            "repl",
            &addr.to_string(),
            "--timeout",
            "1",
            "--strict",
            "--json",
        ],
        script,
    );
    assert_eq!(code, 23, "{stdout}");
    let v = json_lines(&stdout);
    let summary = &v.last().unwrap()["data"];
    assert_eq!(summary["exit_code"], 23, "{stdout}");
    assert_eq!(summary["outcome"], "timeout", "{stdout}");
    assert_eq!(
        String::from_utf8(h.join().unwrap()).unwrap(),
        "EHLO x.test\r\nMAIL FROM:<a@b.test>\r\nQUIT\r\n"
    );

    // Not strict: the timeout warns and the script goes on, to its end; the exit code is the
    // phase's all the same.
    let (addr, h) = silent_server(true);
    let run = ehlo(&["repl", &addr.to_string(), "--timeout", "1"], script, &[]);
    assert_eq!(run.code, 23, "{}", run.out);
    assert!(run.out.contains("no reply within 1s"), "{}", run.out);
    assert!(
        String::from_utf8(h.join().unwrap())
            .unwrap()
            .contains("RCPT TO:<c@d.test>\r\nQUIT\r\n")
    );
    let (addr, h) = silent_server(true);
    let (code, stdout, _) = ehlo_split(
        &["repl", &addr.to_string(), "--timeout", "1", "--json"],
        script,
    );
    assert_eq!(code, 23, "{stdout}");
    let v = json_lines(&stdout);
    let summary = &v.last().unwrap()["data"];
    assert_eq!(summary["exit_code"], 23, "{stdout}");
    assert_eq!(summary["outcome"], "timeout", "{stdout}");
    h.join().unwrap();
}

/// The piped REPL's and the replay's JSON summary say what the session saw (as the spec in
/// `render/json.rs` has it): the server in the send's form, the latest transaction's recipients
/// with their replies, the verdict on its content and the time per phase; `server` is null
/// when no connection was made.
#[test]
fn the_summary_says_what_the_session_saw() {
    let (addr, h) = plain_server();
    let (code, stdout, stderr) = ehlo_split(
        &["repl", &addr.to_string(), "--json"],
        b"EHLO x.test\nMAIL FROM:<a@b.test>\nRCPT TO:<c@d.test>\nDATA\nhello\n.\nQUIT\n",
    );
    h.join().unwrap();
    assert_eq!(code, 0, "{stdout}{stderr}");
    let v = json_lines(&stdout);
    let summary = &v.last().unwrap()["data"];
    assert_eq!(summary["server"], format!("127.0.0.1 [{addr}]"), "{stdout}");
    assert_eq!(summary["tls"], serde_json::Value::Null, "{stdout}");
    assert_eq!(
        summary["recipients"],
        serde_json::json!([{"address": "c@d.test", "status": "accepted", "code": 250,
            "enhanced": "2.1.5", "text": "ok"}]),
        "{stdout}"
    );
    assert_eq!(summary["message_accepted"], true, "{stdout}");
    let phases: Vec<&str> = summary["timings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["phase"].as_str().unwrap())
        .collect();
    for p in [
        "connect", "banner", "helo", "mail", "rcpt", "data", "dot", "quit",
    ] {
        assert!(phases.contains(&p), "{p} missing: {stdout}");
    }
    // Each phase's total is what its `timing` events add up to.
    let rcpt_total: f64 = of_type(&v, "timing")
        .iter()
        .filter(|t| t["data"]["phase"] == "rcpt")
        .map(|t| t["data"]["ms"].as_f64().unwrap())
        .sum();
    let rcpt = summary["timings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["phase"] == "rcpt")
        .unwrap()["ms"]
        .as_f64()
        .unwrap();
    assert!((rcpt - rcpt_total).abs() < 0.01, "{rcpt} vs {rcpt_total}");

    // A refused recipient and the replay's summary: the same members.
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("refused.ehlo");
    std::fs::write(
        &script,
        "< 220\n> EHLO x.test\n< 250\n> MAIL FROM:<a@b.test>\n< 250\n> RCPT TO:<c@d.test>\n< 550\n> QUIT\n< 221\n",
    )
    .unwrap();
    let (addr, h) = server(
        Behaviour {
            rcpt: 550,
            pipelining: false,
        },
        1,
    );
    let (code, stdout, _) = ehlo_split(
        &[
            "replay",
            script.to_str().unwrap(),
            "-s",
            &addr.to_string(),
            "--json",
        ],
        b"",
    );
    h.join().unwrap();
    assert_eq!(code, 0, "{stdout}");
    let v = json_lines(&stdout);
    let summary = &v.last().unwrap()["data"];
    assert_eq!(summary["server"], format!("127.0.0.1 [{addr}]"));
    assert_eq!(
        summary["recipients"][0]["status"], "perm_failed",
        "{stdout}"
    );
    assert_eq!(summary["recipients"][0]["code"], 550, "{stdout}");
    assert_eq!(summary["message_accepted"], serde_json::Value::Null);
    assert!(!summary["timings"].as_array().unwrap().is_empty());

    // Nothing listens: no connection, no server.
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    for args in [
        vec!["repl", "--json"],
        vec!["replay", script.to_str().unwrap(), "--json", "-s"],
    ] {
        let mut args = args.clone();
        let target = closed.to_string();
        if args[0] == "repl" {
            args.insert(1, &target);
        } else {
            args.push(&target);
        }
        let (code, stdout, _) = ehlo_split(&args, b"EHLO x.test\n");
        assert_ne!(code, 0, "{stdout}");
        let summary = &json_lines(&stdout).last().unwrap()["data"].clone();
        assert_eq!(summary["server"], serde_json::Value::Null, "{stdout}");
        assert_eq!(summary["exit_code"], code, "{stdout}");
    }
}

/// `:starttls` against the local Postfix: the summary names the TLS version negotiated.
/// Run by tests/interop/run.sh; it fails (never skips) when Postfix is not there.
#[test]
#[ignore = "interop: run with tests/interop/run.sh"]
fn piped_json_summary_names_the_tls_version_after_starttls() {
    assert!(
        std::net::TcpStream::connect("127.0.0.1:2525").is_ok(),
        "Postfix is not listening on 127.0.0.1:2525: run tests/interop/setup.sh (as root)"
    );
    let (code, stdout, stderr) = ehlo_split(
        &["repl", "127.0.0.1:2525", "--json", "-k"],
        b"EHLO x.test\n:starttls\nQUIT\n",
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    let v = json_lines(&stdout);
    let summary = &v.last().unwrap()["data"];
    assert_eq!(summary["tls"], "TLSv1.3", "{stdout}");
    assert!(
        summary["timings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["phase"] == "start_tls"),
        "{stdout}"
    );
}

/// A piped line over 1 MiB is cut there and the rest of it, up to its line end, dropped with a
/// one-line notice: its tail never goes out as another command or content line (a content line
/// of 'x' * 1 MiB + "." once split into a lone "." that ended the message early, and the rest
/// of the body went out as commands).
#[test]
fn piped_line_over_a_mebibyte_is_cut_never_split() {
    let (addr, h) = plain_server();
    let mut script = b"EHLO me\nNOOP ".to_vec();
    script.extend(std::iter::repeat_n(b'A', (1 << 20) - 5));
    script.extend_from_slice(b"RSET\nMAIL FROM:<a@b.test>\nRCPT TO:<c@d.test>\nDATA\n");
    script.extend(std::iter::repeat_n(b'x', 1 << 20));
    script.extend_from_slice(b".\nsecond line\n.\nQUIT\n");
    let run = ehlo(&["repl", &addr.to_string()], &script, &[]);
    assert_eq!(
        run.code,
        0,
        "{}",
        &run.out[run.out.len().saturating_sub(2000)..]
    );
    let got = h.join().unwrap().remove(0);
    let got = String::from_utf8_lossy(&got);
    let lines: Vec<&str> = got.split("\r\n").collect();
    // The NOOP line is cut at 1 MiB; its tail "RSET" is not a command.
    assert_eq!(lines[1].len(), 1 << 20, "{}", &got[..60]);
    assert!(lines[1].starts_with("NOOP AAA") && lines[1].ends_with('A'));
    assert!(!lines.contains(&"RSET"), "the tail went out as a command");
    // The content line is cut before its "."; the message goes on to its real end.
    let tail: Vec<&str> = lines
        .iter()
        .skip(2)
        .copied()
        .filter(|l| l.len() < 100)
        .collect();
    assert_eq!(
        tail,
        [
            "MAIL FROM:<a@b.test>",
            "RCPT TO:<c@d.test>",
            "DATA",
            "second line",
            ".",
            "QUIT",
            ""
        ],
        "{}",
        &run.out[run.out.len().saturating_sub(2000)..]
    );
    assert_eq!(
        run.out.matches("longer than 1 MiB").count(),
        2,
        "{}",
        run.out.len()
    );
}

/// A replayed `:raw` step that draws another reply exits 36 (bytes in no phase, as the replay
/// help says), not the previous command's phase; a step that fails here before sending
/// anything (an unreadable `:data @FILE`, `:send` without an envelope) exits 1, a local error,
/// not the phase of the last command sent.
#[test]
fn replay_raw_mismatch_is_36_and_a_step_that_cannot_run_is_1() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "> MAIL FROM:<a@b.test>\n< 250\n> :raw \"XYZZY\\r\\n\"\n< 250\n",
            36,
            "expected 250, got 500",
        ),
        (
            "> MAIL FROM:<a@b.test>\n< 250\n> RCPT TO:<c@d.test>\n< 250\n> :data @/nonexistent/msg.eml\n< 354\n< 250\n",
            1,
            "cannot read /nonexistent/msg.eml",
        ),
        ("> :send\n< 354\n< 250\n", 1, ":send needs an envelope"),
    ];
    for (i, (steps, code, says)) in cases.into_iter().enumerate() {
        let path = dir.path().join(format!("s{i}.ehlo"));
        let script = format!("< 220\n> EHLO x.test\n< 250\n{steps}> QUIT\n< 221\n");
        std::fs::write(&path, &script).unwrap();
        for keep_going in [false, true] {
            let (addr, _h) = plain_server();
            let mut args = vec!["replay", path.to_str().unwrap(), "--server"];
            let addr = addr.to_string();
            args.push(&addr);
            if keep_going {
                args.push("--keep-going");
            }
            let run = ehlo(&args, b"", &[]);
            assert_eq!(run.code, code, "{script}{keep_going}: {}", run.out);
            assert!(run.out.contains(says), "{script}: {}", run.out);
            if code == 1 && !keep_going {
                assert!(
                    run.out
                        .contains("failed before sending anything (the error above): exit 1"),
                    "{}",
                    run.out
                );
            }
        }
    }
}

/// A replayed script writes no file (`:record!` would replace any file the user can write,
/// `:record -a` append to it) and sends no file outside its own directory (`:data @/etc/…`)
/// unless `--allow-any-file`: each such step is refused (exit 1) with nothing sent.
#[test]
fn replay_refuses_record_and_files_outside_the_script_directory() {
    let dir = tempfile::tempdir().unwrap();
    let other = tempfile::tempdir().unwrap();
    let victim = other.path().join("victim.txt");
    std::fs::write(&victim, "precious\n").unwrap();
    let outside = other.path().join("outside.eml");
    std::fs::write(&outside, "Subject: outside\r\n\r\nsecret local file\r\n").unwrap();
    let inside = dir.path().join("inside.eml");
    std::fs::write(
        &inside,
        "Subject: inside\r\n\r\nfrom the script's directory\r\n",
    )
    .unwrap();
    let envelope = "> MAIL FROM:<a@b.test>\n< 250\n> RCPT TO:<c@d.test>\n< 250\n";
    let run_script = |name: &str, steps: &str, extra: &[&str]| {
        let path = dir.path().join(name);
        let script = format!("< 220\n> EHLO x.test\n< 250\n{steps}> QUIT\n< 221\n");
        std::fs::write(&path, script).unwrap();
        let (addr, h) = plain_server();
        let addr = addr.to_string();
        let mut args = vec!["replay", path.to_str().unwrap(), "--server", &addr];
        args.extend_from_slice(extra);
        let run = ehlo(&args, b"", &[]);
        let got = String::from_utf8_lossy(&h.join().unwrap().remove(0)).into_owned();
        (run, got)
    };
    let v = victim.to_str().unwrap();
    for record in [format!(":record! {v}"), format!(":record -a {v}")] {
        let (run, _) = run_script("rec.ehlo", &format!("> {record}\n"), &[]);
        assert_eq!(run.code, 1, "{record}: {}", run.out);
        assert!(run.out.contains("a script writes no file"), "{}", run.out);
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    }
    // The JSON summary labels exit 1 as a send does (the one table of exit codes): "usage".
    let (run, _) = run_script("rec.ehlo", &format!("> :record! {v}\n"), &["--json"]);
    assert_eq!(run.code, 1, "{}", run.out);
    let summary = run
        .out
        .lines()
        .rev()
        .find(|l| l.starts_with(r#"{"type":"summary""#))
        .unwrap_or_else(|| panic!("no summary: {}", run.out));
    let summary: serde_json::Value = serde_json::from_str(summary).unwrap();
    assert_eq!(summary["data"]["outcome"], "usage", "{}", run.out);
    assert_eq!(summary["data"]["exit_code"], 1, "{}", run.out);
    let data_out = format!("{envelope}> :data @{}\n< 354\n< 250\n", outside.display());
    let (run, got) = run_script("out.ehlo", &data_out, &[]);
    assert_eq!(run.code, 1, "{}", run.out);
    assert!(
        run.out.contains("outside the script's directory"),
        "{}",
        run.out
    );
    assert!(
        !got.contains("DATA") && !got.contains("secret local file"),
        "{got}"
    );
    // Asked for: sent.
    let (run, got) = run_script("out.ehlo", &data_out, &["--allow-any-file"]);
    assert_eq!(run.code, 0, "{}", run.out);
    assert!(got.contains("secret local file"), "{got}");
    // A file beside the script: sent without the flag.
    let data_in = format!("{envelope}> :data @{}\n< 354\n< 250\n", inside.display());
    let (run, got) = run_script("in.ehlo", &data_in, &[]);
    assert_eq!(run.code, 0, "{}", run.out);
    assert!(got.contains("from the script's directory"), "{got}");
}

/// A piped line that is not UTF-8 is refused whole, with its number: nothing of it is sent
/// (it once went out with EF BF BD in place of each bad byte, and was recorded so); a message
/// it was part of is not sent either (it once went out without the line).
#[test]
fn piped_line_that_is_not_utf8_is_refused_never_altered() {
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("s.ehlo");
    let (addr, h) = plain_server();
    let script = b"EHLO x.test\nNOOP caf\xe9\nMAIL FROM:<a@b.test>\nRCPT TO:<c@d.test>\n:data\nSubject: \xff\xfe\nok line\n.\nQUIT\n";
    let run = ehlo(
        &["repl", &addr.to_string(), "--record", rec.to_str().unwrap()],
        script,
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.out);
    let got = h.join().unwrap().remove(0);
    assert!(
        !got.windows(3).any(|w| w == "\u{fffd}".as_bytes()),
        "{got:?}"
    );
    assert_eq!(
        String::from_utf8(got).unwrap(),
        "EHLO x.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nQUIT\r\n"
    );
    assert!(
        run.out
            .contains("message cancelled: a line of it was refused"),
        "{}",
        run.out
    );
    assert!(run.out.contains("input line 2 is not UTF-8"), "{}", run.out);
    assert!(run.out.contains("input line 6 is not UTF-8"), "{}", run.out);
    let text = std::fs::read_to_string(&rec).unwrap();
    assert!(
        !text.contains('\u{fffd}') && !text.contains("NOOP"),
        "{text}"
    );
}

/// Under `--json`, a piped line refused as not UTF-8 and one cut at 1 MiB are said as JSON
/// events on stdout, in order with the rest, like the REPL's other errors: nothing is left on
/// stderr as text (they were printed there as `*** ...` whatever the format).
#[test]
fn piped_line_refusals_are_json_events_under_json() {
    let (addr, h) = plain_server();
    let mut script = b"EHLO x.test\nNOOP caf\xe9\n".to_vec();
    script.extend_from_slice(b"NOOP ");
    script.extend(std::iter::repeat_n(b'A', (1 << 20) + 10));
    script.extend_from_slice(b"\nQUIT\n");
    let (code, out, err) = ehlo_split(&["repl", &addr.to_string(), "--json"], &script);
    assert_eq!(code, 0, "{err}");
    let got = h.join().unwrap().remove(0);
    assert!(
        got.starts_with(b"EHLO x.test\r\nNOOP AAA"),
        "{:?}",
        &got[..40]
    );
    assert!(err.is_empty(), "stderr: {err}");
    let events: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let said = |what: &str| {
        events.iter().position(|e| {
            e["type"] == "error"
                && e["data"]["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with(what))
        })
    };
    let bad = said("input line 2 is not UTF-8").expect("no event for line 2");
    let long = said("input line 3 is longer than 1 MiB").expect("no event for line 3");
    // Each before the command that came after it is sent.
    let sent = |text: &str| {
        events
            .iter()
            .position(|e| {
                e["type"] == "sent"
                    && e["data"]["text"]
                        .as_str()
                        .is_some_and(|t| t.starts_with(text))
            })
            .unwrap_or_else(|| panic!("{text} not sent"))
    };
    assert!(
        bad < sent("NOOP AAA") && long < sent("NOOP AAA"),
        "{out:.2000}"
    );
}

/// A hand-typed `AUTH LOGIN` without an initial response is recorded with the user decoded
/// from the first SASL response (a name, not a secret; the password is never written), so the
/// recording replays with only the password given, as a `:raw` AUTH's does.
#[test]
fn typed_auth_login_is_recorded_with_its_user_and_replays() {
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("login.ehlo");
    let (addr, h) = plain_server();
    // "tim", "hunter2"
    let run = ehlo(
        &[
            "repl",
            &addr.to_string(),
            "--allow-plaintext-auth",
            "--record",
            rec.to_str().unwrap(),
        ],
        b"EHLO x.test\nAUTH LOGIN\ndGlt\naHVudGVyMg==\nNOOP\nQUIT\n",
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.out);
    h.join().unwrap();
    let text = std::fs::read_to_string(&rec).unwrap();
    assert!(
        text.contains("> :auth LOGIN tim\n< 334\n< 334\n< 235\n> NOOP\n"),
        "{text}"
    );
    assert!(
        !text.contains("hunter2") && !text.contains("aHVudGVyMg"),
        "{text}"
    );
    let (addr, h) = plain_server();
    let run = ehlo(
        &[
            "replay",
            rec.to_str().unwrap(),
            "--server",
            &addr.to_string(),
            "--allow-plaintext-auth",
        ],
        b"",
        &[("EHLO_AUTH_PASSWORD", "hunter2")],
    );
    assert_eq!(run.code, 0, "{}", run.out);
    let got = String::from_utf8(h.join().unwrap().remove(0)).unwrap();
    assert!(
        got.contains("AUTH LOGIN\r\ndGlt\r\naHVudGVyMg==\r\n"),
        "{got}"
    );
}

/// A typed `AUTH PLAIN <blob>` (and a `:raw` one) is echoed key by key as it is typed, so the
/// blob does pass through the terminal; after Enter the line is drawn again masked over the
/// rows it took (here a narrow terminal wraps it over several), so the screen, and the
/// scrollback the emulator keeps, hold only the mask. What this proves: the final screen
/// state (what a user or a later copy of the scrollback sees), not the bytes that went
/// through the pty before the redraw. It used to stay there in clear.
#[test]
fn terminal_a_typed_auth_line_is_redrawn_masked() {
    use base64::Engine as _;
    let b64 = |s: &[u8]| base64::engine::general_purpose::STANDARD.encode(s);
    let plain = b64(b"\0tim\0A-Long-Typed-Password-That-Wraps-1234567890");
    let raw_plain = b64(b"\0tim\0Raw-Long-Typed-Password-That-Wraps-987654");
    let home = tempfile::tempdir().unwrap();
    let (addr, h) = plain_server();
    let mut t = Pty::start_with(
        home.path(),
        &["repl", &addr.to_string(), "--allow-plaintext-auth"],
        40,
        false,
    );
    t.wait("the first prompt", |s| last_prompt(s) == "ehlo[plain]>");
    t.ehlo("250 DSN");
    t.keys(format!("AUTH PLAIN {plain}"));
    // Echoed as typed (wrapped: its tail is on the screen).
    t.wait("the echo", |s| s.contains(&plain[plain.len() - 12..]));
    t.keys("\r");
    t.wait("the PLAIN answer", |s| s.matches("235 2.7.0").count() == 1);
    t.wait("a prompt", |s| last_prompt(s).starts_with("ehlo["));
    t.keys(format!(":raw \"AUTH PLAIN {raw_plain}\\r\\n\""));
    t.wait("the echo", |s| {
        s.contains(&raw_plain[raw_plain.len() - 12..])
    });
    t.keys("\r");
    t.wait("the :raw answer", |s| s.matches("235 2.7.0").count() == 2);
    t.wait("a prompt", |s| last_prompt(s).starts_with("ehlo["));
    t.keys("QUIT\r");
    t.wait("the goodbye", |s| s.contains("221 2.0.0 bye"));
    t.quit();
    let got = String::from_utf8(h.join().unwrap().remove(0)).unwrap();
    assert!(got.contains(&format!("AUTH PLAIN {plain}\r\n")), "{got}");
    assert!(
        got.contains(&format!("AUTH PLAIN {raw_plain}\r\n")),
        "{got}"
    );
    // The whole scrollback, rows joined as the terminal wrapped them.
    let everything = {
        let mut p = t.screen.lock().unwrap();
        p.screen_mut().set_scrollback(usize::MAX);
        let back = p.screen().scrollback();
        let mut rows: Vec<String> = p.screen().rows(0, 40).collect();
        while back > 0 && p.screen().scrollback() > 0 {
            let s = p.screen().scrollback();
            p.screen_mut().set_scrollback(s.saturating_sub(50));
            rows.extend(p.screen().rows(0, 40));
        }
        p.screen_mut().set_scrollback(0);
        rows.concat()
    };
    let screen = t.screen();
    for secret in [&plain, &raw_plain] {
        // Any 12 characters of it, wherever a row broke it.
        for i in 0..secret.len() - 12 {
            let piece = &secret[i..i + 12];
            assert!(
                !everything.contains(piece) && !screen.contains(piece),
                "the terminal still shows {piece:?} of the secret:\n{screen}"
            );
        }
    }
    // The prompt rows hold the lines as accepted, masked.
    assert!(screen.contains("]> AUTH PLAIN ********\n"), "{screen}");
    assert!(
        screen.contains("]> :raw \"AUTH PLAIN ********\\r\\n\"\n"),
        "{screen}"
    );
}

/// A secret the server echoes back in a reply that trickles in is masked in the live "bytes
/// so far" status line as in the reply's line once whole, also the part of it come so far:
/// the status line showed the typed AUTH PLAIN blob a 535 quoted, as far as it had come.
#[test]
fn terminal_waiting_indicator_masks_a_secret_the_server_echoes() {
    use base64::Engine as _;
    let blob = base64::engine::general_purpose::STANDARD.encode("\0alice\0Trickled-Pw-42");
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let echoed = blob.clone();
    let h = std::thread::spawn(move || {
        let (s, _) = l.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        let mut w = s.try_clone().unwrap();
        let mut r = BufReader::new(s);
        let mut line = String::new();
        w.write_all(b"220 echo.test ESMTP\r\n").unwrap();
        r.read_line(&mut line).unwrap();
        w.write_all(b"250-echo.test\r\n250 AUTH PLAIN\r\n").unwrap();
        line.clear();
        r.read_line(&mut line).unwrap();
        // The 535 quotes the blob: half of it, then the rest, then the line's end.
        let (first, rest) = echoed.split_at(20);
        w.write_all(format!("535 5.7.8 rejected: {first}").as_bytes())
            .unwrap();
        go_rx.recv().unwrap();
        w.write_all(rest.as_bytes()).unwrap();
        go_rx.recv().unwrap();
        w.write_all(b" bad\r\n").unwrap();
        line.clear();
        r.read_line(&mut line).unwrap();
        let _ = w.write_all(b"221 bye\r\n");
    });
    let home = tempfile::tempdir().unwrap();
    let mut t = Pty::repl(home.path(), addr, &["--allow-plaintext-auth"]);
    t.ehlo("AUTH PLAIN");
    t.keys(format!("AUTH PLAIN {blob}\r"));
    let status = |s: &str| {
        s.lines()
            .find(|l| l.starts_with("waiting ") && l.contains(" so far"))
            .map(str::to_string)
    };
    let s = t.wait("the status line with half the echo", |s| {
        status(s).is_some_and(|l| l.contains("rejected: "))
    });
    let half = status(&s).unwrap();
    assert!(half.contains("rejected: ********\""), "{half}");
    assert!(!half.contains(&blob[4..20]), "{half}");
    go_tx.send(()).unwrap();
    let s = t.wait("the status line with the whole echo", |s| {
        status(s).is_some_and(|l| l.contains(&format!(" {} bytes so far", 20 + blob.len())))
    });
    let whole = status(&s).unwrap();
    assert!(whole.contains("rejected: ********\""), "{whole}");
    assert!(!whole.contains(&blob[4..]), "{whole}");
    go_tx.send(()).unwrap();
    let s = t.wait("the reply whole", |s| {
        s.contains("535 5.7.8 rejected: ******** bad") && last_prompt(s) == "ehlo[plain]>"
    });
    assert!(!s.contains(&blob[4..20]), "{s}");
    t.quit();
    h.join().unwrap();
}

/// `ehlo serve --user alice:Sekr3tPW99` on a free port (AUTH in plain text).
fn auth_serve() -> (Child, SocketAddr) {
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let child = Command::new(EHLO)
        .args(["serve", "--listen", &addr.to_string()])
        .args(["--user", "alice:Sekr3tPW99"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while TcpStream::connect(addr).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "ehlo serve never listened"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (child, addr)
}

/// On a terminal, after AUTH LOGIN answered with the password's base64 without its `=`
/// padding (RFC 4648 §3.2), `NOOP <that base64>` and `NOOP <password>` are drawn and kept in
/// the history as `NOOP ********`, never `NOOP ********OQ` (the padded form's mask left the
/// unpadded one's tail) nor the password; and the password typed where a message quotes the
/// line (an unknown meta-command, `:explain`'s argument, a line with no SMTP verb) is masked
/// there on the screen, in the `--log` and the `--record` file: `unknown meta-command
/// :Sekr3tPW99` was drawn and logged as typed.
#[test]
fn terminal_an_unpadded_auth_login_response_masks_the_password_on_screen_and_in_every_file() {
    use base64::Engine as _;
    let pw = "Sekr3tPW99";
    let padded = base64::engine::general_purpose::STANDARD.encode(pw);
    let nopad = padded.trim_end_matches('=').to_string();
    let home = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let rec = files.path().join("session.ehlo");
    let log = files.path().join("log.jsonl");
    let (mut server, addr) = auth_serve();
    let mut t = Pty::repl(
        home.path(),
        addr,
        &[
            "--allow-plaintext-auth",
            "--record",
            rec.to_str().unwrap(),
            "--log",
            log.to_str().unwrap(),
        ],
    );
    t.keys("EHLO x.test\r");
    t.wait("the EHLO reply", |s| {
        s.contains("250 CHUNKING") && last_prompt(s) == "ehlo[plain]>"
    });
    t.keys("AUTH LOGIN\r");
    t.wait("the user name asked", |s| s.contains("334 VXNlcm5hbWU6"));
    t.keys("YWxpY2U=\r");
    t.wait("the password asked", |s| s.contains("334 UGFzc3dvcmQ6"));
    t.keys(format!("{nopad}\r"));
    t.wait("the exchange's end", |s| {
        s.contains("501 5.5.2") && last_prompt(s) == "ehlo[plain]>"
    });
    t.keys(format!("NOOP {nopad}\r"));
    t.wait("the first NOOP's reply", |s| {
        s.matches("250 2.0.0 Ok").count() == 1 && last_prompt(s) == "ehlo[plain]>"
    });
    t.keys(format!("NOOP {pw}\r"));
    t.wait("the second NOOP's reply", |s| {
        s.matches("250 2.0.0 Ok").count() == 2 && last_prompt(s) == "ehlo[plain]>"
    });
    t.keys(format!(":{pw}\r"));
    t.wait("the unknown meta-command", |s| {
        s.contains("unknown meta-command") && last_prompt(s) == "ehlo[plain]>"
    });
    t.keys(format!(":explain {nopad}\r"));
    t.wait("the :explain refusal", |s| {
        s.contains("is not a reply code")
    });
    t.keys(format!("{pw}\r"));
    t.wait("the no-verb refusal", |s| s.contains("no SMTP verb"));
    let screen = t.wait("a prompt", |s| last_prompt(s) == "ehlo[plain]>");
    t.quit();
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(screen.matches(" -> NOOP ********\n").count(), 2, "{screen}");
    assert!(
        screen.contains("unknown meta-command :********: :help lists them"),
        "{screen}"
    );
    assert!(
        screen.contains("\"********\" is not a reply code"),
        "{screen}"
    );
    let history = std::fs::read_to_string(home.path().join("ehlo/history")).unwrap();
    // The two NOOPs, masked alike, are one history line (a repeat is kept once).
    assert!(
        history.contains("\nNOOP ********\n:********\n"),
        "{history}"
    );
    let rec = std::fs::read_to_string(&rec).unwrap();
    let log = std::fs::read_to_string(&log).unwrap();
    for (place, text) in [
        ("the screen", &screen),
        ("the history", &history),
        ("the recording", &rec),
        ("the log", &log),
    ] {
        assert!(!text.contains("********OQ"), "{place}:\n{text}");
        for form in [pw, padded.as_str(), nopad.as_str()] {
            assert!(!text.contains(form), "{place} holds {form:?}:\n{text}");
        }
    }
}
