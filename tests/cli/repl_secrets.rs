//! Secrets through `ehlo repl` against `ehlo serve --user`: AUTH sent by `:raw` (its SASL
//! responses in the same bytes or typed after it), AUTH typed with tabs, and an AUTH line the
//! server cannot parse. The password, its base64 and the PLAIN blob reach the server but never
//! the REPL's transcript, `--json`, `--record` file or `--log`, nor serve's transcript or
//! `--json`; a masked write's JSON `bytes` is the mask's length; the recording still replays.
//! A secret the server echoes back is masked too.

use std::io::{Read, Write};
use std::time::Duration;

use base64::Engine as _;

use ehlo::net::testutil::FakeDns;

use crate::serve::Serve;
use crate::util::{Run, Step, ehlo_with, ehlo_with_env, ehlo_x_then, scripted};

const USER_PASS: &str = "alice:Sekr3tPW99";
const PASSWORD: &str = "Sekr3tPW99";

fn b64(s: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// `ehlo replay REC --server ADDR --allow-plaintext-auth` (and `extra`) with `env` set: the
/// recordings of these tests replayed against a fresh `ehlo serve` that asks for AUTH.
fn replay_with_auth(
    rec: &std::path::Path,
    addr: &str,
    extra: &[&str],
    env: &[(&str, &str)],
) -> Run {
    let mut args = vec![
        "replay",
        rec.to_str().unwrap(),
        "--server",
        addr,
        "--allow-plaintext-auth",
    ];
    args.extend_from_slice(extra);
    ehlo_with_env(&args, env, None, Duration::from_secs(60))
}

/// The password, its base64 and the AUTH PLAIN blob.
fn secrets() -> [String; 3] {
    [
        PASSWORD.to_string(),
        b64(PASSWORD.as_bytes()),
        b64(b"\0alice\0Sekr3tPW99"),
    ]
}

/// How a form of a secret is looked for: as written, or in any ASCII case (a message may
/// quote a typed word upper- or lower-cased, `:set` lower-cases it: a secret still).
#[derive(Clone, Copy)]
enum Case {
    Exact,
    Any,
}

/// No form of a secret (`forms`) in any of `places`, each what it is and its text.
fn assert_no_secret_in(
    places: &[(impl AsRef<str>, impl AsRef<str>)],
    forms: &[String],
    case: Case,
) {
    for (place, text) in places {
        let (place, text) = (place.as_ref(), text.as_ref());
        let seen = |t: &str| match case {
            Case::Exact => t.to_string(),
            Case::Any => t.to_ascii_uppercase(),
        };
        let hay = seen(text);
        for form in forms {
            assert!(
                !hay.contains(&seen(form)),
                "{place} holds {form:?}{}:\n{text}",
                if matches!(case, Case::Any) {
                    " (in any case)"
                } else {
                    ""
                }
            );
        }
    }
}

/// The password, its base64 or the PLAIN blob in none of `places`, as written.
fn assert_no_secret(places: &[(impl AsRef<str>, impl AsRef<str>)]) {
    assert_no_secret_in(places, &secrets(), Case::Exact);
}

/// A run's transcript and the recording and `--log` files it wrote, named.
fn outputs(
    transcript: &str,
    rec: &std::path::Path,
    log: &std::path::Path,
) -> [(&'static str, String); 3] {
    [
        ("the transcript", transcript.to_string()),
        ("the recording", std::fs::read_to_string(rec).unwrap()),
        ("the log", std::fs::read_to_string(log).unwrap()),
    ]
}

/// One REPL session against a fresh `ehlo serve --user` (one session), writing `--record` and
/// `--log` into `dir` (`session.ehlo`, `log.jsonl`), `extra` before them: the run, serve's
/// transcript, and the two files' paths.
fn logged_session(
    dir: &std::path::Path,
    extra: &[&str],
    stdin: &str,
) -> (Run, String, std::path::PathBuf, std::path::PathBuf) {
    let (rec, log) = (dir.join("session.ehlo"), dir.join("log.jsonl"));
    let srv = Serve::start(&["--user", USER_PASS, "--max-sessions", "1"]);
    let mut args = extra.to_vec();
    args.extend([
        "--record",
        rec.to_str().unwrap(),
        "--log",
        log.to_str().unwrap(),
    ]);
    let run = repl(&srv.addr, &args, stdin);
    let (_, serve_out) = srv.finish();
    (run, serve_out, rec, log)
}

/// Five sessions, each authenticating once (serve refuses a second AUTH): `:raw` AUTH LOGIN
/// answered by typed lines; one `:raw` with a command, AUTH LOGIN and both responses; `:raw`
/// AUTH PLAIN with the blob on the next line; typed `AUTH<TAB>PLAIN<TAB>blob`; typed
/// `AUTH PLAIN<TAB>blob`. `extra` goes before the QUIT.
fn script(extra: &str) -> String {
    let [_, p, b] = secrets();
    format!(
        "EHLO x\n:raw \"AUTH LOGIN\\r\\n\"\nYWxpY2U=\n{p}\n:reconnect\n\
         EHLO x\n:raw \"NOOP\\r\\nAUTH LOGIN\\r\\nYWxpY2U=\\r\\n{p}\\r\\n\"\n:reconnect\n\
         EHLO x\n:raw \"AUTH PLAIN\\r\\n{b}\\r\\n\"\n:reconnect\n\
         EHLO x\nAUTH\tPLAIN\t{b}\n:reconnect\n\
         EHLO x\nAUTH PLAIN\t{b}\n{extra}QUIT\n"
    )
}

fn repl(addr: &str, extra_args: &[&str], stdin: &str) -> Run {
    let mut args = vec!["repl", addr, "--allow-plaintext-auth", "--color", "never"];
    args.extend_from_slice(extra_args);
    ehlo_with(&args, Some(stdin.as_bytes()), Duration::from_secs(60))
}

/// Every JSON `sent` event whose text was masked counts the bytes shown, not the wire's.
fn assert_masked_byte_counts(what: &str, jsonl: &str) -> usize {
    let mut masked = 0;
    for line in jsonl.lines().filter(|l| l.starts_with('{')) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        if v["type"] != "sent" || v["data"]["redacted"] != true {
            continue;
        }
        masked += 1;
        let text = v["data"]["text"].as_str().unwrap();
        let shown = if v["data"]["kind"] == "raw" {
            text.len()
        } else {
            text.len() + 2
        };
        assert_eq!(v["data"]["bytes"], shown, "{what}: {line}");
    }
    masked
}

#[test]
fn raw_and_tabbed_auth_never_leave_a_secret_in_any_repl_output_and_still_replay() {
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("session.ehlo");
    let log = dir.path().join("log.jsonl");
    let srv = Serve::start(&["--user", USER_PASS, "--max-sessions", "6"]);
    let run = repl(
        &srv.addr,
        &[
            "--record",
            rec.to_str().unwrap(),
            "--log",
            log.to_str().unwrap(),
        ],
        &script(""),
    );
    assert_eq!(run.code, 0, "{}", run.all());
    // Each of the five AUTHs went through: the secrets did reach the server.
    assert_eq!(run.stdout.matches("235 2.7.0").count(), 5, "{}", run.all());
    // The sixth session: a client line serve cannot parse as AUTH (a word too many).
    let [_, _, blob] = secrets();
    let mut c = std::net::TcpStream::connect(&srv.addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    c.write_all(format!("EHLO x\r\nAUTH PLAIN {blob} extra\r\nQUIT\r\n").as_bytes())
        .unwrap();
    let mut answers = String::new();
    let _ = c.read_to_string(&mut answers);
    assert!(answers.contains("221"), "{answers}");
    let (code, serve_out) = srv.finish();
    assert_eq!(code, 0, "{serve_out}");

    let transcript = run.all();
    let written = outputs(&transcript, &rec, &log);
    let [_, (_, rec_text), (_, log_text)] = &written;
    assert_no_secret(&written);
    assert_no_secret(&[("serve's transcript", &serve_out)]);
    // Fixed-length masks where the secrets were.
    for shown in [
        " -> ********\n",
        " -> AUTH LOGIN\n -> ********\n -> ********\n",
        " -> AUTH PLAIN\n -> ********\n",
        " -> AUTH\\x09PLAIN\\x09********\n",
        " -> AUTH PLAIN\\x09********\n",
    ] {
        assert!(
            transcript.contains(shown),
            "{shown:?} not in:\n{transcript}"
        );
    }
    assert!(!transcript.contains("*********"), "{transcript}");
    assert!(
        serve_out.contains("<-  AUTH PLAIN ********\n"),
        "{serve_out}"
    );
    assert!(assert_masked_byte_counts("the log", log_text) >= 6);
    // Each AUTH is an `:auth` step that reads the secret at replay, with the replies `:auth`
    // draws (the empty 334 a PLAIN without initial response drew is not among them).
    for step in [
        "> :raw \"NOOP\\r\\n\"\n< 250\n",
        "> :auth PLAIN alice\n< 235\n",
    ] {
        assert!(rec_text.contains(step), "{step:?} not in:\n{rec_text}");
    }
    // Both LOGINs name the user: the one typed after the raw AUTH too (from its first
    // response, the user being no secret).
    let login = "> :auth LOGIN alice\n< 334\n< 334\n< 235\n";
    assert_eq!(rec_text.matches(login).count(), 2, "{rec_text}");

    let replay_srv = Serve::start(&["--user", USER_PASS, "--max-sessions", "5"]);
    let replay = replay_with_auth(
        &rec,
        &replay_srv.addr,
        &["--json"],
        &[
            ("EHLO_AUTH_USER", "alice"),
            ("EHLO_AUTH_PASSWORD", PASSWORD),
        ],
    );
    assert_eq!(replay.code, 0, "{}", replay.all());
    assert_no_secret(&[("replay --json", &replay.all())]);
    assert!(assert_masked_byte_counts("replay --json", &replay.stdout) >= 5);
}

/// A typed `AUTH LOGIN <base64 user>` is recorded as `:auth LOGIN alice`, which sends no
/// initial response on replay: the step holds the one 334 more that draws (the server asks for
/// the user name), so the recording replays against the same server; no secret is written.
#[test]
fn typed_auth_login_with_an_initial_response_records_what_replay_draws() {
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("login.ehlo");
    let [_, p, _] = secrets();
    let srv = Serve::start(&["--user", USER_PASS, "--max-sessions", "1"]);
    let run = repl(
        &srv.addr,
        &["--record", rec.to_str().unwrap()],
        &format!("EHLO x\nAUTH LOGIN {}\n{p}\nQUIT\n", b64(b"alice")),
    );
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(run.stdout.contains("235 2.7.0"), "{}", run.all());
    let _ = srv.finish();
    let rec_text = std::fs::read_to_string(&rec).unwrap();
    assert_no_secret(&[("the recording", &rec_text)]);
    assert!(
        rec_text.contains("> :auth LOGIN alice\n< 334\n< 334\n< 235\n> QUIT\n"),
        "{rec_text}"
    );

    let replay_srv = Serve::start(&["--user", USER_PASS, "--max-sessions", "1"]);
    let replay = replay_with_auth(
        &rec,
        &replay_srv.addr,
        &[],
        &[("EHLO_AUTH_PASSWORD", PASSWORD)],
    );
    assert_eq!(replay.code, 0, "{}", replay.all());
    assert!(
        replay.all().contains("every reply as recorded"),
        "{}",
        replay.all()
    );
    assert_no_secret(&[("the replay", &replay.all())]);
}

#[test]
fn repl_json_and_serve_json_mask_raw_tabbed_and_unparsable_auth() {
    let srv = Serve::start(&["--user", USER_PASS, "--max-sessions", "5", "--json"]);
    let [_, _, blob] = secrets();
    let run = repl(
        &srv.addr,
        &["--json"],
        &script(&format!("AUTH PLAIN {blob} extra\n")),
    );
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(
        run.stdout.matches("\"code\":235").count(),
        5,
        "{}",
        run.all()
    );
    let (code, serve_out) = srv.finish();
    assert_eq!(code, 0, "{serve_out}");
    assert_no_secret(&[("repl --json", &run.all())]);
    assert_no_secret(&[("serve --json", &serve_out)]);
    // Typed with tabs: masked and said to be.
    assert!(
        run.stdout
            .contains(r#""text":"AUTH\tPLAIN\t********","kind":"command","bytes":21"#),
        "{}",
        run.stdout
    );
    assert!(assert_masked_byte_counts("repl --json", &run.stdout) >= 7);
    // serve's client_command for the line it cannot parse.
    assert!(
        serve_out.contains(
            r#""text":"AUTH PLAIN ********","tls":false,"phase":"other","redacted":true"#
        ),
        "{serve_out}"
    );
}

/// A server that echoes the secret lines back (sendmail: `500 5.5.1 Command unrecognized:
/// "<the line>"`, or a 535 quoting the PLAIN blob): a typed `AUTH PLAIN <blob>`, typed LOGIN
/// responses, a `:raw` AUTH PLAIN and `:auth PLAIN`. The echoes are masked in the transcript,
/// `--json`, `--log` and the recording, as the one-shot send masks them (they were printed).
#[test]
fn a_secret_the_server_echoes_is_masked_in_every_repl_output() {
    let [pw, pw64, blob] = secrets();
    let dir = tempfile::tempdir().unwrap();
    for json in [false, true] {
        let echo = |text: String| Step::SendOwned(text.into_bytes());
        let server = scripted(vec![
            Step::Send(b"220 echo.test ESMTP\r\n"),
            Step::Expect("EHLO x"),
            Step::Send(b"250-echo.test\r\n250 AUTH PLAIN LOGIN\r\n"),
            Step::Line,
            echo(format!("535 5.7.8 rejected: {blob}\r\n")),
            Step::Expect("AUTH LOGIN"),
            Step::Send(b"334 VXNlcm5hbWU6\r\n"),
            Step::Expect("YWxpY2U="),
            Step::Send(b"334 UGFzc3dvcmQ6\r\n"),
            Step::Line,
            echo(format!(
                "500 5.5.1 Command unrecognized: \"{pw64}\" ({pw})\r\n"
            )),
            Step::Line,
            echo(format!(
                "500 5.5.1 Command unrecognized: \"AUTH PLAIN {blob}\"\r\n"
            )),
            Step::Line,
            echo(format!("535-5.7.8 {blob}\r\n535 5.7.8 {pw} refused\r\n")),
            Step::Expect("QUIT"),
            echo(format!("221 bye {pw64}\r\n")),
        ]);
        let addr = server.server();
        let rec = dir.path().join(format!("echo-{json}.ehlo"));
        let log = dir.path().join(format!("echo-{json}.log"));
        let mut args = vec![
            "repl",
            addr.as_str(),
            "--allow-plaintext-auth",
            "--color",
            "never",
            "--record",
            rec.to_str().unwrap(),
            "--log",
            log.to_str().unwrap(),
        ];
        if json {
            args.push("--json");
        }
        let stdin = format!(
            "EHLO x\nAUTH PLAIN {blob}\nAUTH LOGIN\nYWxpY2U=\n{pw64}\n:raw \"AUTH PLAIN {blob}\\r\\n\"\n:auth PLAIN alice\nQUIT\n"
        );
        let run = ehlo_with_env(
            &args,
            &[("EHLO_AUTH_PASSWORD", PASSWORD)],
            Some(stdin.as_bytes()),
            Duration::from_secs(30),
        );
        let got = server.finish();
        assert_eq!(
            got,
            format!(
                "EHLO x\r\nAUTH PLAIN {blob}\r\nAUTH LOGIN\r\nYWxpY2U=\r\n{pw64}\r\nAUTH PLAIN {blob}\r\nAUTH PLAIN {blob}\r\nQUIT\r\n"
            ),
            "{}",
            run.all()
        );
        assert_eq!(run.code, 0, "{}", run.all());
        // The echoes did come back, masked.
        let out = run.all();
        assert!(out.contains("Command unrecognized"), "{out}");
        assert!(out.contains("********"), "{out}");
        assert_no_secret(&outputs(&out, &rec, &log));
    }
}

/// Secrets typed where the REPL did not expect one, piped: `AUTH <blob>` and
/// `AUTH PLAIN:<blob>` (the mechanism left out or glued on: the word is the credential), the
/// password alone on a line (pasted at the command prompt), and `:auth USER PASSWORD` (the
/// mechanism left out). The blob lines reach the server (typed AUTH goes out as typed); the
/// others never do; no output, `--log` or `--record` file holds a secret in any case (`:status`
/// and the recorded step used to show the blob upper-cased: `:auth AGFSAWNL…`, and the refused
/// mechanism was named: "does not implement AUTH SEKR3TPW99").
#[test]
fn secrets_typed_where_no_secret_was_expected_are_never_shown_or_stored() {
    let [_, _, blob] = secrets();
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("session.ehlo");
    let log = dir.path().join("log.jsonl");
    let auth_blob: &'static str = Box::leak(format!("AUTH {blob}").into_boxed_str());
    let auth_glued: &'static str = Box::leak(format!("AUTH PLAIN:{blob}").into_boxed_str());
    let server = scripted(vec![
        Step::Send(b"220 scripted.test ESMTP\r\n"),
        Step::Expect("EHLO x.test"),
        Step::Send(b"250-scripted.test\r\n250 AUTH PLAIN LOGIN\r\n"),
        Step::Expect(auth_blob),
        Step::Send(b"501 5.5.4 Syntax: AUTH mechanism\r\n"),
        Step::Expect(auth_glued),
        Step::Send(b"501 5.5.4 Syntax: AUTH mechanism\r\n"),
        Step::Expect("NOOP"),
        Step::Send(b"250 2.0.0 ok\r\n"),
        Step::Expect("QUIT"),
        Step::Send(b"221 bye\r\n"),
    ]);
    let addr = server.server();
    let script = format!(
        "EHLO x.test\n{auth_blob}\n{auth_glued}\n:status\n{PASSWORD}\n:auth alice {PASSWORD}\n\
         :auth {PASSWORD}\nNOOP\nQUIT\n"
    );
    let run = repl(
        &addr,
        &[
            "--record",
            rec.to_str().unwrap(),
            "--log",
            log.to_str().unwrap(),
        ],
        &script,
    );
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(
        server.finish(),
        format!("EHLO x.test\r\n{auth_blob}\r\n{auth_glued}\r\nNOOP\r\nQUIT\r\n"),
        "{}",
        run.all()
    );
    let written = outputs(&run.all(), &rec, &log);
    let [_, (_, rec_text), _] = &written;
    // Upper-cased, a secret is still one (only its case is lost).
    assert_no_secret_in(&written, &secrets(), Case::Any);
    let out = run.all();
    assert_eq!(out.matches(" -> AUTH ********\n").count(), 2, "{out}");
    assert!(
        out.contains("with no mechanism named: not authenticated"),
        "{out}"
    );
    assert!(
        out.contains("not sent: the line's first word is no SMTP verb"),
        "{out}"
    );
    assert_eq!(
        out.matches("ehlo does not implement the mechanism named (not repeated")
            .count(),
        2,
        "{out}"
    );
    // Each AUTH is an `:auth` step naming nothing of the blob.
    assert_eq!(
        rec_text.matches("> :auth\n< 501\n").count(),
        2,
        "{rec_text}"
    );

    // --strict: a line that cannot be a command is a step that could not run (exit 1), as a
    // misspelt verb is; nothing of it went out.
    let server = scripted(ehlo_x_then(vec![
        Step::Expect("QUIT"),
        Step::Send(b"221 bye\r\n"),
    ]));
    let addr = server.server();
    let run = repl(
        &addr,
        &["--strict", "--json"],
        &format!("EHLO x.test\n{PASSWORD}\nNOOP\n"),
    );
    assert_eq!(run.code, 1, "{}", run.all());
    assert_eq!(server.finish(), "EHLO x.test\r\nQUIT\r\n", "{}", run.all());
    assert_no_secret(&[("--strict --json", &run.all())]);
}

/// The `--log` and `--record` files hold the whole dialogue (the AUTH user, the message): they
/// are created readable by their owner only (0600), as the history is, whatever the umask.
#[test]
fn the_log_and_the_recording_are_created_for_their_owner_only() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("session.ehlo");
    let log = dir.path().join("log.jsonl");
    let srv = Serve::start(&["--user", USER_PASS]);
    let run = repl(
        &srv.addr,
        &[
            "--record",
            rec.to_str().unwrap(),
            "--log",
            log.to_str().unwrap(),
        ],
        "EHLO x.test\nNOOP\nQUIT\n",
    );
    assert_eq!(run.code, 0, "{}", run.all());
    for f in [&rec, &log] {
        let mode = std::fs::metadata(f).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}: {mode:o}", f.display());
    }
}

/// An AUTH LOGIN whose user and password are each sent by a `:raw` of their own is recorded
/// as the typed one is (`:auth LOGIN alice`, its three codes): the user from the first `:raw`
/// response (it was left out, the step then needing `EHLO_AUTH_USER` at replay), the password
/// nowhere. So is AUTH PLAIN with its blob in a `:raw` after the 334, and a LOGIN whose two
/// responses share one `:raw`. Each recording replays with the password alone.
#[test]
fn auth_answered_by_raw_lines_is_recorded_as_the_typed_one() {
    let [_, p, blob] = secrets();
    let user = b64(b"alice");
    for (stdin, step) in [
        (
            format!(
                "EHLO x\n:raw \"AUTH LOGIN\\r\\n\"\n:raw \"{user}\\r\\n\"\n:raw \"{p}\\r\\n\"\nQUIT\n"
            ),
            "> :auth LOGIN alice\n< 334\n< 334\n< 235\n> QUIT\n",
        ),
        (
            format!("EHLO x\n:raw \"AUTH PLAIN\\r\\n\"\n:raw \"{blob}\\r\\n\"\nQUIT\n"),
            "> :auth PLAIN alice\n< 235\n> QUIT\n",
        ),
        (
            format!("EHLO x\n:raw \"AUTH LOGIN\\r\\n\"\n:raw \"{user}\\r\\n{p}\\r\\n\"\nQUIT\n"),
            "> :auth LOGIN alice\n< 334\n< 334\n< 235\n> QUIT\n",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let rec = dir.path().join("raw.ehlo");
        let srv = Serve::start(&["--user", USER_PASS, "--max-sessions", "1"]);
        let run = repl(&srv.addr, &["--record", rec.to_str().unwrap()], &stdin);
        assert_eq!(run.code, 0, "{}", run.all());
        assert!(run.stdout.contains("235 2.7.0"), "{}", run.all());
        let _ = srv.finish();
        let rec_text = std::fs::read_to_string(&rec).unwrap();
        assert_no_secret(&[("the recording", &rec_text)]);
        assert!(rec_text.contains(step), "{step:?} not in:\n{rec_text}");

        // No EHLO_AUTH_USER: the user is in the recording.
        let replay_srv = Serve::start(&["--user", USER_PASS, "--max-sessions", "1"]);
        let replay = replay_with_auth(
            &rec,
            &replay_srv.addr,
            &[],
            &[("EHLO_AUTH_PASSWORD", PASSWORD)],
        );
        assert_eq!(replay.code, 0, "{}\n{rec_text}", replay.all());
        assert!(
            replay.all().contains("every reply as recorded"),
            "{}",
            replay.all()
        );
        assert_no_secret(&[("the replay", &replay.all())]);
    }
}

/// The secrets the REPL has seen (a typed AUTH PLAIN blob: the blob, the password inside it
/// and its base64) stay known for the rest of the session, on every connection: a later line
/// that carries one with no SASL exchange open (`:raw "<base64 of the password>\r\n"` after
/// the 235, `NOOP <password>`, `NOOP <blob>`, and after `:reconnect` `NOOP <base64>`) goes
/// to the server as typed but is shown, logged and recorded with the fixed-length mask in the
/// secret's place. Such a recorded line is refused on replay, nothing of it sent, as a masked
/// AUTH is. These lines used to be shown, logged and recorded as typed.
#[test]
fn a_secret_seen_earlier_is_masked_in_every_later_line_on_any_connection() {
    let [pw, pw64, blob] = secrets();
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("session.ehlo");
    let log = dir.path().join("log.jsonl");
    let srv = Serve::start(&["--user", USER_PASS, "--max-sessions", "2"]);
    let script = format!(
        "EHLO x\nAUTH PLAIN {blob}\n:raw \"{pw64}\\r\\n\"\nNOOP {pw}\nNOOP {blob}\n:reconnect\n\
         EHLO x\nNOOP {pw64}\nQUIT\n"
    );
    let run = repl(
        &srv.addr,
        &[
            "--record",
            rec.to_str().unwrap(),
            "--log",
            log.to_str().unwrap(),
        ],
        &script,
    );
    let (code, serve_out) = srv.finish();
    assert_eq!(code, 0, "{serve_out}");
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(run.stdout.contains("235 2.7.0"), "{}", run.all());
    // What the server read: the NOOP lines (their bytes as typed are the lib test's
    // `a_secret_seen_is_masked_in_every_later_write`), shown masked by serve too, which knows
    // the password it was given.
    assert!(
        serve_out.matches("<-  NOOP ********\n").count() >= 2,
        "{serve_out}"
    );
    assert_no_secret(&[("serve's transcript", &serve_out)]);
    let transcript = run.all();
    let written = outputs(&transcript, &rec, &log);
    let [_, (_, rec_text), (_, log_text)] = &written;
    assert_no_secret(&written);
    for shown in [" -> ********\n", " -> NOOP ********\n"] {
        assert!(
            transcript.contains(shown),
            "{shown:?} not in:\n{transcript}"
        );
    }
    assert_eq!(transcript.matches(" -> NOOP ********\n").count(), 3);
    assert!(!transcript.contains("*********"), "{transcript}");
    // A masked write's JSON `bytes` is the mask's length: the AUTH and the four lines.
    assert!(assert_masked_byte_counts("the log", log_text) >= 5);
    for step in ["> :raw \"********\\r\\n\"\n", "> NOOP ********\n"] {
        assert!(rec_text.contains(step), "{step:?} not in:\n{rec_text}");
    }

    // Replayed, the first masked line is refused before anything of it is sent.
    let replay_srv = Serve::start(&["--user", USER_PASS, "--max-sessions", "1"]);
    let replay = replay_with_auth(
        &rec,
        &replay_srv.addr,
        &[],
        &[
            ("EHLO_AUTH_USER", "alice"),
            ("EHLO_AUTH_PASSWORD", PASSWORD),
        ],
    );
    let (_, replay_serve) = replay_srv.finish();
    assert_eq!(replay.code, 1, "{}", replay.all());
    let out = replay.all();
    assert!(
        out.contains("not sent: ******** is the mask the history and recordings keep"),
        "{out}"
    );
    assert!(
        out.contains("`> :raw \"********\\r\\n\"` failed before sending anything"),
        "{out}"
    );
    assert!(!replay_serve.contains("<-  ********"), "{replay_serve}");
    assert_no_secret(&[("the replay", &out)]);
}

/// Every form of the password a test below checks for: as typed, its base64 with and without
/// the `=` padding, and the characters of its base64 at each offset inside a longer base64
/// text (RFC 4648 §4: the secret starting at byte 0, 1 or 2 of a 3-byte group).
fn password_forms() -> Vec<String> {
    let mut forms = vec![
        PASSWORD.to_string(),
        b64(PASSWORD.as_bytes()),
        b64(PASSWORD.as_bytes()).trim_end_matches('=').to_string(),
    ];
    for offset in 0..3 {
        let mut bytes = vec![b'x'; offset];
        bytes.extend_from_slice(PASSWORD.as_bytes());
        let enc = b64(&bytes);
        forms.push(enc[[0, 2, 3][offset]..][..8].to_string());
    }
    forms
}

/// Typed SASL responses in the forms servers take but the REPL did not read: the password's
/// base64 without its `=` padding after AUTH LOGIN's `334 UGFzc3dvcmQ6` (RFC 4648 §3.2; the
/// REPL only decoded padded base64, so it never learnt the password, and a later `NOOP
/// <password>` was shown, logged and recorded as typed; the padded base64's mask left the
/// unpadded one's last characters shown, `NOOP ********OQ`), a PLAIN blob with another
/// authzid typed on the line after the `334 `, and, with `EHLO_AUTH_PASSWORD` set (the
/// password `:auth` would use, known from the start), a response holding the password after
/// another byte (`base64("x" + password)`) then `NOOP <password>`, which was shown as typed
/// though the REPL was given the password. No output, `--log` or `--record` file holds any
/// form of it.
#[test]
fn typed_responses_unpadded_or_with_the_password_inside_teach_the_repl_the_password() {
    let pw = PASSWORD;
    let nopad = b64(pw.as_bytes()).trim_end_matches('=').to_string();
    let bob_blob = b64(b"bob\0alice\0Sekr3tPW99");
    let x_pw = b64(format!("x{pw}").as_bytes());
    type Script<'a> = (&'a str, String, &'a [(&'a str, &'a str)]);
    let cases: [Script; 3] = [
        (
            "unpadded AUTH LOGIN response",
            format!("EHLO x\nAUTH LOGIN\nYWxpY2U=\n{nopad}\nNOOP {pw}\nNOOP {nopad}\nQUIT\n"),
            &[],
        ),
        (
            "PLAIN blob with another authzid on its own line",
            format!("EHLO x\nAUTH PLAIN\n{bob_blob}\nNOOP {pw}\nNOOP {nopad}\nQUIT\n"),
            &[],
        ),
        (
            "EHLO_AUTH_PASSWORD and a response with the password after a byte",
            format!("EHLO x\nAUTH LOGIN\nYWxpY2U=\n{x_pw}\nNOOP {pw}\nNOOP {nopad}\nQUIT\n"),
            &[("EHLO_AUTH_PASSWORD", PASSWORD)],
        ),
    ];
    for (what, script, env) in cases {
        let dir = tempfile::tempdir().unwrap();
        let rec = dir.path().join("session.ehlo");
        let log = dir.path().join("log.jsonl");
        let srv = Serve::start(&["--user", USER_PASS, "--max-sessions", "1"]);
        let run = ehlo_with_env(
            &[
                "repl",
                &srv.addr,
                "--color",
                "never",
                "--record",
                rec.to_str().unwrap(),
                "--log",
                log.to_str().unwrap(),
            ],
            env,
            Some(script.as_bytes()),
            Duration::from_secs(60),
        );
        let (_, serve_out) = srv.finish();
        assert_eq!(run.code, 0, "{what}: {}\n{serve_out}", run.all());
        let transcript = run.all();
        // The NOOPs did go out, each shown with the fixed-length mask alone in the secret's
        // place.
        assert_eq!(
            transcript.matches(" -> NOOP ********\n").count(),
            2,
            "{what}:\n{transcript}"
        );
        let forms: Vec<String> = password_forms()
            .into_iter()
            .chain([bob_blob.clone(), x_pw.clone()])
            .collect();
        let written = outputs(&transcript, &rec, &log);
        let named = written.map(|(place, text)| (format!("{what}: {place}"), text));
        assert_no_secret_in(&named, &forms, Case::Exact);
    }
}

/// A recorded BDAT chunk line (`|`) that holds the mask where its session saw a secret is
/// refused on replay as a recorded `>` line that holds it is: nothing of the BDAT is sent,
/// exit 1 naming the step. It used to go out with the mask in the secret's place.
#[test]
fn replay_refuses_a_chunk_line_that_holds_the_mask() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("chunk.ehlo");
    std::fs::write(
        &script,
        "< 220\n> EHLO x\n< 250\n> BDAT 14 LAST\n| key ********\n< 250\n> QUIT\n< 221\n",
    )
    .unwrap();
    let srv = Serve::start(&["--max-sessions", "1"]);
    let run = ehlo_with(
        &["replay", script.to_str().unwrap(), "--server", &srv.addr],
        None,
        Duration::from_secs(60),
    );
    let (_, serve_out) = srv.finish();
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.all().contains(
            "BDAT 14 LAST: not sent: ******** is the mask the history and recordings keep"
        ),
        "{}",
        run.all()
    );
    assert!(run.all().contains("line 4"), "{}", run.all());
    assert!(!serve_out.contains("BDAT"), "{serve_out}");
}

/// A `--log` file or a `:record!` target that exists with a wider mode (0644: made by hand, or
/// by an older ehlo, which used the umask's) is narrowed to 0600 when ehlo writes it, as the
/// history is when saved: it kept its mode, showing the session's addresses and message to
/// every user of the machine.
#[test]
fn a_wider_log_or_recording_that_exists_is_narrowed_to_its_owner() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("session.ehlo");
    let log = dir.path().join("log.jsonl");
    for f in [&rec, &log] {
        std::fs::write(f, "old\n").unwrap();
        std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let srv = Serve::start(&["--user", USER_PASS]);
    let script = format!(":record! {}\nEHLO x.test\nNOOP\nQUIT\n", rec.display());
    let run = repl(&srv.addr, &["--log", log.to_str().unwrap()], &script);
    assert_eq!(run.code, 0, "{}", run.all());
    for f in [&rec, &log] {
        let mode = std::fs::metadata(f).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}: {mode:o}", f.display());
        assert!(!std::fs::read_to_string(f).unwrap().starts_with("old"));
    }
}

/// Narrowing a file that exists is said, once, as a warning of the transcript (`!!!`, and in
/// the `--log` copy), as the session's other warnings are: the user
/// must know their file's mode changed — `narrowed FILE to 0600 (it was 0644)` — for the
/// `--log` file, a `:record!` and a `:record -a` target alike. A file already 0600 is not
/// narrowed, and nothing is said of it.
#[test]
fn narrowing_a_wider_log_or_recording_is_said_once() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.jsonl");
    let replaced = dir.path().join("replaced.ehlo");
    let appended = dir.path().join("appended.ehlo");
    let private = dir.path().join("private.ehlo");
    for (f, mode) in [
        (&log, 0o644),
        (&replaced, 0o644),
        (&appended, 0o640),
        (&private, 0o600),
    ] {
        std::fs::write(f, "old\n").unwrap();
        std::fs::set_permissions(f, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    let srv = Serve::start(&["--user", USER_PASS]);
    let script = format!(
        ":record! {}\n:record -a {}\n:record! {}\nEHLO x.test\nQUIT\n",
        replaced.display(),
        appended.display(),
        private.display()
    );
    let run = repl(&srv.addr, &["--log", log.to_str().unwrap()], &script);
    assert_eq!(run.code, 0, "{}", run.all());
    for (f, was) in [(&log, "0644"), (&replaced, "0644"), (&appended, "0640")] {
        let line = format!("narrowed {} to 0600 (it was {was})", f.display());
        let warned = format!("!!! {line}");
        assert_eq!(
            run.all().matches(&warned).count(),
            1,
            "{line}\n{}",
            run.all()
        );
        let mode = std::fs::metadata(f).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}: {mode:o}", f.display());
    }
    assert_eq!(run.all().matches("narrowed").count(), 3, "{}", run.all());
    let private_mode = std::fs::metadata(&private).unwrap().permissions().mode() & 0o777;
    assert_eq!(private_mode, 0o600);
    // The `--log` copy keeps the warnings too, as JSON Lines.
    let copy = std::fs::read_to_string(&log).unwrap();
    for f in [&log, &replaced, &appended] {
        let line = format!("narrowed {} to 0600", f.display());
        assert!(copy.contains(&line), "{line}\n{copy}");
    }
    assert!(!copy.contains("private.ehlo to"), "{copy}");
}

/// A typed BDAT's chunk line that holds a secret the session saw (the password of a typed
/// AUTH, its base64) is recorded with the mask in its place, as a typed DATA's content line and
/// a `:data` message's are: the `|` lines of the chunk were written as typed, so the
/// `--record` file held the password while the transcript and `--log` masked it.
#[test]
fn a_typed_chunk_line_holding_a_secret_is_recorded_masked() {
    let dir = tempfile::tempdir().unwrap();
    let [_, p, _] = secrets();
    let chunk = format!("key {PASSWORD}");
    let stdin = format!(
        "EHLO x\nAUTH LOGIN\nYWxpY2U=\n{p}\nMAIL FROM:<a@example.com>\nRCPT TO:<b@example.com>\n\
         BDAT {} LAST\n{chunk}\nQUIT\n",
        chunk.len()
    );
    let (run, serve_out, rec, log) = logged_session(dir.path(), &[], &stdin);
    assert_eq!(run.code, 0, "{}", run.all());
    // The chunk reached the server as typed, and was accepted.
    assert!(run.stdout.contains(" -> BDAT 14 LAST\n"), "{}", run.all());
    assert!(run.stdout.contains("<-  250 2.0.0"), "{}", run.all());
    let written = outputs(&run.all(), &rec, &log);
    let [_, (_, rec_text), _] = &written;
    assert_no_secret(&written);
    assert!(serve_out.contains("BDAT 14 LAST"), "{serve_out}");
    assert!(
        rec_text.contains("> BDAT 14 LAST\n| key ********\n"),
        "{rec_text}"
    );
}

/// The password typed into every message that quotes a typed word, after an unpadded AUTH LOGIN
/// response taught it to the REPL: an unknown meta-command named by it (or by its base64),
/// `:explain`'s and `:starttls`'s argument, `:set`'s name and value (quoted lower-cased), a
/// path `:data @`, `:record` and `:replay` could not open, a `:raw` left unquoted, a line with
/// no SMTP verb, and a line typed once the connection closed. Each message is said with the
/// fixed-length mask in the secret's place; no output, `--log` or `--record` file holds any form
/// of it, in any case (the errors quoted it as typed: `unknown meta-command :Sekr3tPW99`,
/// `"U2VrcjN0UFc5OQ" is not a reply code`, `unknown setting "sekr3tpw99"`).
#[test]
fn a_learnt_password_typed_into_a_message_that_quotes_the_line_is_masked_there() {
    let pw = PASSWORD;
    let nopad = b64(pw.as_bytes()).trim_end_matches('=').to_string();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    let script = format!(
        "EHLO x\nAUTH LOGIN\nYWxpY2U=\n{nopad}\n:{pw}\n:{nopad}\n:explain {pw}\n:explain {nopad}\n\
         :starttls {pw}\n:set {pw} on\n:set timeout {pw}\n:data @{d}/{pw}\n\
         :record {d}/none/{pw}\n:replay {d}/{pw}\n:raw \"{pw}\n{pw}\n{nopad}\n\
         :raw \"QUIT\\r\\n\"\nNOOP {pw}\n"
    );
    let (run, serve_out, rec, log) = logged_session(dir.path(), &[], &script);
    let out = run.all();
    for said in [
        "unknown meta-command :********: :help lists them",
        "\"********\" is not a reply code",
        ":starttls takes [--insecure] [--ca FILE] [--sni NAME], not \"********\"",
        "unknown setting \"********\"",
        ":set timeout: '********' is not a duration",
        "/********: No such file or directory",
        "not connected: `NOOP ********` not sent",
    ] {
        assert!(out.contains(said), "{said:?} not said:\n{out}\n{serve_out}");
    }
    assert_eq!(
        out.matches("unknown meta-command :********:").count(),
        2,
        "{out}"
    );
    assert_no_secret_in(&outputs(&out, &rec, &log), &password_forms(), Case::Any);
}

/// Every event the REPL writes passes through the secrets its session has learnt, whatever
/// layer made it: after an AUTH LOGIN taught it the password, `:reconnect <password>.test`
/// (and lower-cased) said `********.test does not exist` but the `--log` file's `dns_query` and
/// `dns_failed` events (from the DNS layer) held the name as typed; a `:replay` script's
/// warning quoting its cut last line (`< 250 # <password>`) and the `replay_mismatch` of a step
/// holding the password were shown and logged as they were. No output, `--log` or `--record`
/// file holds any form of it now, in any case.
#[test]
fn every_event_the_repl_writes_masks_a_learnt_secret() {
    let (dns, _h) = FakeDns::start(vec![]);
    let dns = dns.to_string();
    let pw = PASSWORD;
    let lower = pw.to_ascii_lowercase();
    let [_, p, _] = secrets();
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("cut.ehlo");
    // The last line without its newline: a warning quotes it.
    std::fs::write(&script, format!("> NOOP {pw}\n< 500\n> NOOP\n< 250 # {pw}")).unwrap();
    let stdin = format!(
        "EHLO x\nAUTH LOGIN\nYWxpY2U=\n{p}\n:replay {}\n:reconnect {pw}.test\n\
         :reconnect {lower}.test\n",
        script.display()
    );
    let (run, serve_out, rec, log) = logged_session(dir.path(), &["--dns-server", &dns], &stdin);
    let out = run.all();
    assert!(out.contains("235 2.7.0"), "{out}\n{serve_out}");
    // The step did reach the server as written.
    assert!(serve_out.contains("<-  NOOP ********\n"), "{serve_out}");
    let written = outputs(&out, &rec, &log);
    let [_, _, (_, log_text)] = &written;
    for said in [
        "the file ends without a newline after \"< 250 # ********\"",
        "replay: line 1 `> NOOP ********`: expected 500, got 250",
        "********.test does not exist (NXDOMAIN)",
    ] {
        assert!(out.contains(said), "{said:?} not said:\n{out}");
    }
    assert_eq!(
        out.matches("********.test does not exist").count(),
        2,
        "{out}"
    );
    // Once for each `:reconnect`, once for the step and the script.
    for (logged, times) in [
        (r#"{"type":"dns_query","data":{"name":"********.test","#, 2),
        (r#"{"type":"dns_failed","data":{"name":"********.test","#, 2),
        (r#""command":"NOOP ********""#, 1),
        ("# ********\\\": a recording ends every line", 1),
    ] {
        assert_eq!(
            log_text.matches(logged).count(),
            times,
            "{logged:?}:\n{log_text}"
        );
    }
    assert_no_secret_in(&written, &password_forms(), Case::Any);
}
