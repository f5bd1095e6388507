//! `ehlo demo`, the README's first command: it must succeed offline, quickly, and show every
//! phase of a send (connect, banner, EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA, QUIT).

use std::time::Duration;

use crate::util::{ehlo, ehlo_with, read_to_end};

#[test]
fn demo_shows_every_phase() {
    let r = ehlo(&["demo", "--color", "never"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.elapsed < Duration::from_secs(10),
        "demo took {:?}",
        r.elapsed
    );
    let out = &r.stdout;
    // In transcript order: each phase must come after the previous one.
    let phases = [
        "<-  220 demo.ehlo.test ESMTP",
        " -> EHLO client.demo.test",
        " -> STARTTLS",
        "<-  220 2.0.0 Ready to start TLS",
        "=== TLS started with cipher",
        "passed CA verification, passed host verification",
        " ~> EHLO client.demo.test",
        "<~  250-AUTH PLAIN LOGIN CRAM-MD5",
        " ~> AUTH ",
        "<~  235 2.7.0 Authentication successful",
        " ~> MAIL FROM:<alice@demo.test>",
        " ~> RCPT TO:<bob@demo.test>",
        "<~  250 2.1.5 Ok",
        " ~> RCPT TO:<nobody@demo.test>",
        "<~* 550 5.1.1 <nobody@demo.test>",
        "5.1.1 = Bad destination mailbox address",
        " ~> DATA",
        "<~  354 ",
        " ~> ..this line starts with a dot",
        " ~> .\n",
        "<~  250 2.0.0 Ok: queued as ",
        " ~> QUIT",
        "<~  221 2.0.0 Bye",
        "the embedded server stored 1 message:",
        "tls=true auth=demo",
        "===   | .this line starts with a dot",
    ];
    let mut at = 0;
    for p in phases {
        match out[at..].find(p) {
            Some(i) => at += i + p.len(),
            None => panic!("demo output lacks {p:?} after byte {at}:\n{out}"),
        }
    }
    // AUTH is not offered before TLS (RFC 4954 §4): the first EHLO reply has no AUTH line.
    let before_tls = &out[..out.find("=== TLS started").unwrap()];
    assert!(
        !before_tls.lines().any(|l| l.starts_with("<-  250-AUTH")),
        "{before_tls}"
    );
    // The demo password is never shown.
    assert!(!out.contains("demo-password"), "{out}");
}

#[test]
fn demo_json_is_json_lines() {
    let r = ehlo_with(&["demo", "--json"], None, Duration::from_secs(10));
    assert_eq!(r.code, 0, "{}", r.all());
    let mut types = Vec::new();
    for line in r.stdout.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        types.push(
            v["type"]
                .as_str()
                .expect("every event has a type")
                .to_string(),
        );
        if v["type"] == "tls_started" {
            assert_eq!(v["data"]["info"]["verify"]["ok"], true, "{line}");
        }
    }
    // The JSON Lines contract: schema first, summary last (after the stored message's lines).
    assert_eq!(
        types.first().map(String::as_str),
        Some("schema"),
        "{types:?}"
    );
    assert_eq!(
        types.last().map(String::as_str),
        Some("summary"),
        "{types:?}"
    );
    assert_eq!(
        types.iter().filter(|t| *t == "summary").count(),
        1,
        "{types:?}"
    );
    assert!(r.stdout.contains("the embedded server stored 1 message:"));
    // `t_ms` counts from the run's start on every line: the stored message's lines and the
    // summary after the send were at 0.0, before the send's first line.
    let times: Vec<f64> = r
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["t_ms"].as_f64())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]) && times.last() > times.first(),
        "{times:?}"
    );
    for t in [
        "schema",
        "connected",
        "tls_started",
        "sent",
        "received",
        "summary",
    ] {
        assert!(types.iter().any(|x| x == t), "no {t} event in {types:?}");
    }
    let codes: Vec<i64> = r
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["type"] == "received")
        .filter_map(|v| v["data"]["reply"]["code"].as_i64())
        .collect();
    assert!(
        codes.contains(&550) && codes.contains(&235) && codes.contains(&221),
        "{codes:?}"
    );
}

/// The demo has one renderer and one colour decision: `--color always` colours its transcript
/// even into a pipe, as a send's, and the embedded server (whose transcript is not shown) does
/// not undo that decision; `--color never` has no colour at all.
#[test]
fn demo_colours_as_asked_into_a_pipe() {
    let r = ehlo(&["demo", "--color", "always"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("\u{1b}["), "{}", r.stdout);
    assert!(r.stdout.contains("<~  235 2.7.0 Authentication successful"));
    let r = ehlo(&["demo", "--color", "never"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(!r.all().contains('\u{1b}'), "{}", r.all());
}

/// The command the demo says its transcript comes from (as `sh` reads it back: `\` newline
/// continues a line, a quoted line break is kept) carries every setting of the send: sender,
/// EHLO name, the message itself and where the password comes from.
fn demo_command(out: &str) -> String {
    let lines: Vec<&str> = out
        .lines()
        .skip_while(|l| !l.starts_with("===   ehlo --server"))
        .map(|l| l.strip_prefix("=== ").unwrap_or(l))
        .collect();
    let end = lines
        .iter()
        .position(|l| *l == "'")
        .expect("the --data quote closed");
    lines[..=end]
        .join("\n")
        .replace(" \\\n", " ")
        .trim_start()
        .to_string()
}

#[test]
fn demo_prints_the_command_that_does_the_same() {
    let r = ehlo(&["demo", "--color", "never"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let out = &r.stdout;
    assert!(
        out.contains("The send below is the same as running this one-shot command"),
        "{out}"
    );
    let cmd = demo_command(out);
    for flag in [
        "ehlo --server localhost:",
        "--tls --tls-ca-path ",
        "--auth --auth-user demo",
        "--auth-password-file ",
        "--helo client.demo.test ",
        "--from alice@demo.test ",
        "--to bob@demo.test,nobody@demo.test ",
        "--data '",
    ] {
        assert!(cmd.contains(flag), "{flag:?} missing from {cmd}");
    }
    // --data holds the message the server stored, line for line.
    let data = &cmd[cmd.find("--data '").unwrap() + 8..cmd.rfind('\'').unwrap()];
    let stored: Vec<&str> = out
        .lines()
        .filter_map(|l| l.split_once("  | ").map(|(_, t)| t))
        .collect();
    let sent: Vec<&str> = data.trim_end_matches('\n').split('\n').collect();
    // The stored copy has the dot-stuffing undone: the same lines.
    assert_eq!(sent, stored, "{cmd}");
}

/// The demo is the first thing a newcomer runs: its opening (what runs, and the command that
/// does the same) fits an 80-column terminal, one flag group a line, instead of one line of
/// some 600 characters that wrapped. (Paths under a long TMPDIR are printed whole.)
#[test]
fn demo_opening_fits_80_columns() {
    let r = ehlo(&["demo", "--color", "never"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let opening: Vec<&str> = r
        .stdout
        .lines()
        .take_while(|l| !l.contains("A/AAAA lookup"))
        .collect();
    assert!(opening.len() > 10, "{}", r.stdout);
    for l in &opening {
        assert!(
            l.chars().count() <= 80,
            "{} columns: {l}",
            l.chars().count()
        );
    }
}

/// The whole demo reads at 80 columns: the certificate, its verification, the explanation of
/// the 5.1.1 and the summary quoting the server were 106 to 140 columns wide. ehlo's own lines
/// wrap under their hint, indented, and lose nothing: joined again they say what they said;
/// the lines of the wire and of the message are never cut.
#[test]
fn the_whole_demo_fits_80_columns_and_loses_nothing() {
    let r = ehlo(&["demo", "--color", "never"]);
    assert_eq!(r.code, 0, "{}", r.all());
    for l in r.stdout.lines() {
        assert!(
            l.chars().count() <= 80,
            "{} columns: {l}",
            l.chars().count()
        );
    }
    let joined = r
        .stdout
        .lines()
        .map(|l| l.strip_prefix("===").unwrap_or(l).trim())
        .collect::<Vec<_>>()
        .join(" ");
    for said in [
        "subjectAltName=[DNS:localhost] notAfter=[4096-01-01T00:00:00Z]",
        "passed host verification (using host localhost to verify; matched DNS:localhost)",
        "Permanent failure: the recipient mailbox does not exist here (the part before the @ is wrong)",
        "<nobody@demo.test> rejected (550 5.1.1 <nobody@demo.test>: Recipient address rejected: User unknown)",
    ] {
        assert!(joined.contains(said), "{said}\n{}", r.stdout);
    }
    // A continuation line keeps its hint and is indented under it.
    assert!(
        r.stdout
            .lines()
            .any(|l| l.starts_with("===       ") && l.ends_with("address rejected: User unknown)")),
        "{}",
        r.stdout
    );
    // The server's reply itself is not cut.
    assert!(
        r.stdout.contains(
            "<~* 550 5.1.1 <nobody@demo.test>: Recipient address rejected: User unknown\n"
        ),
        "{}",
        r.stdout
    );
}

/// A signal in the middle of the demo ends it as it ends a send (exit 128 + N, a summary with
/// `outcome` `interrupted`) and leaves nothing under TMPDIR: not the certificate, the key or
/// the password file. The demo is held mid-run by its own output: a TMPDIR path long enough to
/// make its first line (which names the two files) longer than a 4 KiB pipe that is not read,
/// so it cannot finish before the signal comes.
#[test]
fn demo_interrupted_removes_its_files() {
    use std::process::{Command, Stdio};

    for (json, signal, code) in [
        (false, nix::sys::signal::Signal::SIGINT, 130),
        (true, nix::sys::signal::Signal::SIGTERM, 143),
    ] {
        let base = tempfile::tempdir().unwrap();
        let mut tmp = base.path().to_path_buf();
        for c in ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'] {
            tmp.push(c.to_string().repeat(240));
        }
        std::fs::create_dir_all(&tmp).unwrap();
        let (r, w) = nix::unistd::pipe().unwrap();
        nix::fcntl::fcntl(&w, nix::fcntl::FcntlArg::F_SETPIPE_SZ(4096)).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ehlo"));
        crate::util::isolate(&mut cmd);
        cmd.arg("demo")
            .args(if json {
                &["--json"][..]
            } else {
                &["--color", "never"][..]
            })
            .env("TMPDIR", &tmp)
            .stdin(Stdio::null())
            .stdout(Stdio::from(w))
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn ehlo");
        drop(cmd);
        let pid = nix::unistd::Pid::from_raw(child.id() as i32);
        // Its directory exists (and its first line is stuck in the pipe).
        let t0 = std::time::Instant::now();
        let listed = |tmp: &std::path::Path| -> Vec<String> {
            std::fs::read_dir(tmp)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        };
        while !listed(&tmp).iter().any(|n| n.starts_with("ehlo-demo-")) {
            assert!(t0.elapsed() < Duration::from_secs(20), "no demo directory");
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(300));
        assert!(child.try_wait().unwrap().is_none(), "the demo ended early");
        nix::sys::signal::kill(pid, signal).unwrap();
        let out = read_to_end(std::fs::File::from(r));
        let err = read_to_end(child.stderr.take().unwrap());
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(code), "{out}{err}");
        assert_eq!(listed(&tmp), Vec::<String>::new(), "{out}{err}");
        if json {
            let last = out.lines().last().unwrap_or_default();
            assert!(last.contains(r#""type":"summary""#), "{out}");
            assert!(last.contains(r#""outcome":"interrupted""#), "{last}");
            assert!(last.contains("interrupted by SIGTERM"), "{last}");
        } else {
            assert!(
                err.contains("Result: failed (exit 130): interrupted by SIGINT"),
                "{out}{err}"
            );
        }
    }
}

/// The command the demo prints can be pasted into a shell whatever TMPDIR is: a path with a
/// blank or a quote is quoted.
#[test]
fn demo_command_quotes_its_paths() {
    let base = tempfile::tempdir().unwrap();
    let tmp = base.path().join("my tmp's");
    std::fs::create_dir(&tmp).unwrap();
    let r = crate::util::ehlo_with_env(
        &["demo", "--color", "never"],
        &[("TMPDIR", tmp.to_str().unwrap())],
        None,
        Duration::from_secs(30),
    );
    assert_eq!(r.code, 0, "{}", r.all());
    // The whole path is one single-quoted word, its own quote written '\''.
    let path = format!("{}/ehlo-demo-", tmp.display());
    let want = format!("--tls-ca-path '{}", path.replace('\'', "'\\''"));
    assert!(r.stdout.contains(&want), "{want} not in {}", r.stdout);
    assert!(r.stdout.contains("/cert.pem' \\\n"), "{}", r.stdout);
    assert!(r.stdout.contains("/password' \\\n"), "{}", r.stdout);
}

/// In a network namespace where `lo` is down (`unshare -rn`) the embedded server binds
/// 127.0.0.1 but cannot be reached: the demo says so in one line with what to do, exit 10 (a
/// prerequisite), not a raw OS error per address and the connect exit code 2.
#[test]
fn demo_without_loopback_says_so_in_one_line() {
    for json in [false, true] {
        let mut args = vec!["-rn", env!("CARGO_BIN_EXE_ehlo"), "demo"];
        if json {
            args.push("--json");
        }
        let out = std::process::Command::new("unshare")
            .args(&args)
            .env("NO_COLOR", "1")
            .stdin(std::process::Stdio::null())
            .output()
            .expect("unshare runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(10), "{stdout}{stderr}");
        assert!(!stderr.contains("os error"), "{stderr}");
        assert!(!stdout.contains("os error"), "{stdout}");
        if json {
            let last: serde_json::Value =
                serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
            assert_eq!(last["type"], "summary", "{stdout}");
            assert_eq!(last["data"]["exit_code"], 10, "{stdout}");
            let error = last["data"]["error"].as_str().unwrap();
            assert!(error.contains("loopback is not reachable"), "{stdout}");
        } else {
            assert!(stdout.trim().is_empty(), "{stdout}");
            assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
            assert!(stderr.contains("loopback is not reachable"), "{stderr}");
            assert!(stderr.contains("ip link set lo up"), "{stderr}");
        }
    }
}

/// A newcomer's first run ends with where to go next: after the result, the other modes as
/// commands to adapt (the send to a real server, repl, serve, explain, check), each a mode
/// ehlo has; the send's line is one ehlo takes (`--dump` reads it without connecting) and the
/// explain line runs as printed. Only in the transcript: in JSON the summary stays last.
#[test]
fn demo_ends_with_what_to_try_next() {
    let r = ehlo(&["demo", "--color", "never"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let tail = &r.stdout[r.stdout.find("=== Result: ok").expect("a result")..];
    let next = tail
        .find("=== What to try next")
        .map(|i| &tail[i..])
        .unwrap_or_else(|| panic!("no next steps after the result:\n{}", r.stdout));
    let commands: Vec<Vec<&str>> = next
        .lines()
        .filter_map(|l| l.strip_prefix("===   ehlo "))
        .map(|c| c.split(' ').collect())
        .collect();
    let modes: Vec<&str> = commands.iter().map(|c| c[0]).collect();
    assert_eq!(
        modes,
        ["--server", "repl", "serve", "explain", "check"],
        "{next}"
    );
    for mode in &modes[1..] {
        let h = ehlo(&["help", mode]);
        assert_eq!(h.code, 0, "{mode}: {}", h.all());
    }
    let mut send = commands[0].clone();
    send.push("--dump");
    let d = ehlo(&send);
    assert_eq!(d.code, 0, "{send:?}: {}", d.all());
    let explain = ehlo(&["explain", "550 5.1.1 User unknown"]);
    assert_eq!(explain.code, 0, "{}", explain.all());
    assert!(
        next.contains("ehlo explain '550 5.1.1 User unknown'"),
        "{next}"
    );
}

/// The demo's transcript is plain ASCII, so a newcomer whose terminal is not in a UTF-8 locale
/// (`LANG=C`, `LC_ALL=POSIX`: a bare container, a serial console) sees no mojibake: "What to try
/// next" said `:data…`, whose three UTF-8 bytes such a terminal shows as `â€¦` or `???`.
#[test]
fn demo_transcript_is_ascii_in_a_c_locale() {
    let r = crate::util::ehlo_with_env(
        &["demo", "--color", "never"],
        &[("LANG", "C"), ("LC_ALL", "POSIX")],
        None,
        Duration::from_secs(30),
    );
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("=== What to try next"), "{}", r.stdout);
    let all = r.all();
    let not_ascii: Vec<&str> = all.lines().filter(|l| !l.is_ascii()).collect();
    assert!(not_ascii.is_empty(), "{not_ascii:#?}");
}
