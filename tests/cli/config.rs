//! Config layering end to end (src/cli/layers.rs): a config file under a temporary
//! `XDG_CONFIG_HOME` < `EHLO_*` variables < the command line, `--config`, `--no-config`, bad
//! lines and `--dump-config`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::util::{Run, accept_all, after_greet, ehlo_with_env, scripted};

/// A temporary XDG_CONFIG_HOME holding `ehlo/config` = `text`.
fn home(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ehlo").join("config");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, text).unwrap();
    (dir, file)
}

fn run(xdg: &Path, env: &[(&str, &str)], args: &[&str]) -> Run {
    let xdg = xdg.to_str().unwrap();
    let mut all = vec![("XDG_CONFIG_HOME", xdg)];
    all.extend_from_slice(env);
    ehlo_with_env(args, &all, None, Duration::from_secs(30))
}

/// The header block of a `--dump-mail`.
fn header(out: &str, name: &str) -> String {
    out.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .unwrap_or_else(|| panic!("no {name} header in\n{out}"))
        .to_string()
}

#[test]
fn file_env_argv_precedence_and_repeatable_flags() {
    let (dir, _) = home(
        "# my defaults\n\
         \n\
         --from file@example.test\n\
         header Subject: from the file\n\
         to file@example.test\n\
         -header X-Layer: file # not a comment: taken literally\n",
    );
    let r = run(
        dir.path(),
        &[
            ("EHLO_FROM", "env@example.test"),
            ("EHLO_TO", "env@example.test"),
        ],
        &[
            "-t",
            "argv@example.test",
            "--header",
            "Subject: from argv",
            "--dump-mail",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    // Single-value: env beats the file.
    assert_eq!(header(&r.stdout, "From"), "env@example.test");
    // Recipients: a higher layer replaces a lower one, as swaks's scalar --to.
    assert_eq!(header(&r.stdout, "To"), "argv@example.test");
    // --header replaces a header of the same name; the argv one comes last and wins.
    assert_eq!(header(&r.stdout, "Subject"), "from argv");
    assert_eq!(
        header(&r.stdout, "X-Layer"),
        "file # not a comment: taken literally"
    );

    // The command line beats both.
    let r = run(
        dir.path(),
        &[("EHLO_FROM", "env@example.test")],
        &[
            "-t",
            "a@example.test",
            "-f",
            "argv@example.test",
            "--dump-mail",
        ],
    );
    assert_eq!(header(&r.stdout, "From"), "argv@example.test");
}

#[test]
fn config_reaches_the_wire() {
    let server = scripted(after_greet(accept_all()));
    let (dir, _) = home(&format!(
        "server {}\nhelo from-config.test\ntimeout 5\ncolor never\n",
        server.server()
    ));
    let r = run(
        dir.path(),
        &[("EHLO_FROM", "env@example.test")],
        &["-t", "rcpt@example.test"],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    let got = server.finish();
    assert!(got.contains("EHLO from-config.test\r\n"), "{got}");
    assert!(got.contains("MAIL FROM:<env@example.test>"), "{got}");
}

#[test]
fn bad_line_is_exit_1_with_file_and_line() {
    let (dir, file) = home("to a@example.test\n# fine\ntimeout soon\n");
    let r = run(dir.path(), &[], &["--dump-mail"]);
    assert_eq!(r.code, 1, "{}", r.all());
    let want = format!("{}:3: ", file.display());
    assert!(r.stderr.contains(&want), "{}", r.stderr);
    assert!(r.stderr.contains("--timeout"), "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "one line: {}", r.stderr);

    let (dir, file) = home("tls\nno-such-option x\n");
    let r = run(dir.path(), &[], &["-t", "a@example.test", "--dump-mail"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains(&format!(
            "{}:2: unknown option 'no-such-option'",
            file.display()
        )),
        "{}",
        r.stderr
    );

    // A bad environment value names the variable.
    let (dir, _) = home("");
    let r = run(
        dir.path(),
        &[("EHLO_PORT", "99999")],
        &["-t", "a@example.test", "--dump-mail"],
    );
    assert_eq!(r.code, 1);
    assert!(r.stderr.starts_with("*** EHLO_PORT: "), "{}", r.stderr);
}

/// A config line a newcomer gets wrong is answered as the same word on the command line is: a
/// misspelt key names the send's option meant, another mode's key names that mode (the file
/// is the send's only); one line naming the file and line, exit 1, nothing sent.
#[test]
fn a_misspelt_or_another_mode_s_key_names_the_one_meant() {
    let server = crate::util::tripwire();
    let at = server.local_addr().unwrap().to_string();
    for (text, line, want) in [
        (
            "tls\ntimout 5s\n",
            2,
            "unknown option 'timout' (did you mean 'timeout'?)",
        ),
        (
            "quit-afer rcpt\n",
            1,
            "unknown option 'quit-afer' (did you mean 'quit-after'?)",
        ),
        (
            "fail-on warn\n",
            1,
            "unknown option 'fail-on' (an option of 'ehlo check', 'ehlo probe': the config \
             file takes options of the one-shot send only)",
        ),
        (
            "listen 127.0.0.1:2525\n",
            1,
            "unknown option 'listen' (an option of 'ehlo serve': the config file takes options \
             of the one-shot send only)",
        ),
        (
            "frobnicate 1\n",
            1,
            "unknown option 'frobnicate' (the config file takes options of the one-shot send)",
        ),
    ] {
        let (dir, file) = home(text);
        let r = run(dir.path(), &[], &["-s", &at, "-t", "a@example.test"]);
        assert_eq!(r.code, 1, "{text:?}: {}", r.all());
        assert_eq!(
            r.stderr,
            format!("*** {}:{line}: {want}; nothing was sent\n", file.display()),
            "{text:?}"
        );
        assert_eq!(r.stdout, "", "{text:?}");
    }
    assert!(server.accept().is_err(), "a connection was made");
}

/// A default config file that cannot be read (not UTF-8 here: a permission test means nothing
/// to root) stops every send: the one line names it and how to run without it, exit 1, and
/// `--no-config` or `EHLO_NO_CONFIG` does run.
#[test]
fn an_unreadable_default_file_says_how_to_run_without_it() {
    let (dir, file) = home("");
    std::fs::write(&file, b"from a@example.test\n\xff\n").unwrap();
    let args = ["-t", "a@example.test", "--dump-mail"];
    let r = run(dir.path(), &[], &args);
    assert_eq!(r.code, 1, "{}", r.all());
    assert_eq!(
        r.stderr,
        format!(
            "*** cannot read config file {}: not UTF-8 (byte 20) (--no-config or \
             EHLO_NO_CONFIG=1 skips it); nothing was sent\n",
            file.display()
        )
    );
    let r = run(
        dir.path(),
        &[],
        &["--no-config", "-t", "a@example.test", "--dump-mail"],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    let r = run(dir.path(), &[("EHLO_NO_CONFIG", "1")], &args);
    assert_eq!(r.code, 0, "{}", r.all());
    // Named on the command line, the file is the user's choice: no hint.
    let named = file.to_str().unwrap();
    let r = run(
        dir.path(),
        &[],
        &["--config", named, "-t", "a@example.test"],
    );
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(!r.stderr.contains("--no-config"), "{}", r.stderr);
}

#[test]
fn no_config_and_named_config() {
    let (dir, _) = home("from file@example.test\n");
    let r = run(
        dir.path(),
        &[],
        &["--no-config", "-t", "a@example.test", "--dump-mail"],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    assert_ne!(header(&r.stdout, "From"), "file@example.test");

    let other = dir.path().join("other.conf");
    std::fs::write(&other, "from named@example.test\n").unwrap();
    let other = other.to_str().unwrap();
    let r = run(
        dir.path(),
        &[],
        &["--config", other, "-t", "a@example.test", "--dump-mail"],
    );
    assert_eq!(header(&r.stdout, "From"), "named@example.test");
    let r = run(
        dir.path(),
        &[("EHLO_CONFIG", other)],
        &["-t", "a@example.test", "--dump-mail"],
    );
    assert_eq!(header(&r.stdout, "From"), "named@example.test");

    let r = run(
        dir.path(),
        &[],
        &["--config", "/nonexistent/ehlo.conf", "-t", "a@b.test"],
    );
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("/nonexistent/ehlo.conf"), "{}", r.stderr);
    // Subcommands are not layered: a send option in the file does not break `serve --help`.
    let r = run(dir.path(), &[("EHLO_TLS", "")], &["serve", "--help"]);
    assert_eq!(r.code, 0, "{}", r.all());
}

#[test]
fn dump_config_redacts_secrets() {
    let (dir, file) = home("server mx.example.test:587\ntls\nauth-password file-hunter2\n");
    let r = run(
        dir.path(),
        &[
            ("EHLO_AUTH_USER", "me@example.test"),
            ("EHLO_AUTH_TOKEN", "env-token-s3cret"),
            ("EHLO_INTEROP_BIN", "/bin/false"),
        ],
        &["-t", "a@example.test", "--tls-optional", "--dump-config"],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    let out = &r.stdout;
    assert!(!out.contains("hunter2"), "{out}");
    assert!(!out.contains("s3cret"), "{out}");
    assert!(
        out.contains(&format!("# config file: {}", file.display())),
        "{out}"
    );
    let body: Vec<&str> = out.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(
        body,
        [
            "server mx.example.test:587",
            // --tls and --tls-optional combine as in swaks (the optional one applies).
            "tls",
            "auth-password <redacted>",
            // Environment variables in sorted order: EHLO_AUTH_TOKEN < EHLO_AUTH_USER.
            "auth-oauth-token <redacted>",
            "auth-user me@example.test",
            "to a@example.test",
            "tls-optional",
        ],
        "{out}"
    );
    assert!(!out.contains("# overridden: tls ("), "{out}");
    // The dump is itself a valid config file.
    let saved = dir.path().join("saved.conf");
    std::fs::write(&saved, out.replace("<redacted>", "x")).unwrap();
    let r = run(
        dir.path(),
        &[],
        &["--config", saved.to_str().unwrap(), "--dump-config"],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("\ntls-optional\n"), "{}", r.stdout);
}

#[test]
fn no_opt_on_the_command_line_unsets_the_file_and_env() {
    // The file sets --from; --no-from drops it and the default sender applies.
    let (dir, file) = home("from file@example.test\nheader X-Keep: yes\n");
    let r = run(dir.path(), &[], &["-t", "a@example.test", "--dump-mail"]);
    assert_eq!(header(&r.stdout, "From"), "file@example.test");
    let default_from = {
        let r = run(
            dir.path(),
            &[],
            &["--no-config", "-t", "a@example.test", "--dump-mail"],
        );
        header(&r.stdout, "From")
    };
    let r = run(
        dir.path(),
        &[],
        &["-t", "a@example.test", "--no-from", "--dump-mail"],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(header(&r.stdout, "From"), default_from);
    assert_eq!(header(&r.stdout, "X-Keep"), "yes");

    // The environment sets headers; --no-header-X removes that name only (any case).
    let r = run(
        dir.path(),
        &[("EHLO_HEADER", "X-Env: from env")],
        &["-t", "a@example.test", "-no-header-x-env", "--dump-mail"],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(!r.stdout.contains("X-Env"), "{}", r.stdout);
    assert_eq!(header(&r.stdout, "X-Keep"), "yes");
    // --no-header removes them all.
    let r = run(
        dir.path(),
        &[("EHLO_HEADER", "X-Env: from env")],
        &["-t", "a@example.test", "--no-header", "--dump-mail"],
    );
    assert!(
        !r.stdout.contains("X-Env") && !r.stdout.contains("X-Keep"),
        "{}",
        r.stdout
    );

    // --dump-config says what was unset and by what.
    let r = run(
        dir.path(),
        &[("EHLO_AUTH_USER", "me")],
        &[
            "-t",
            "a@example.test",
            "--no-from",
            "--no-auth-user",
            "--no-tls",
            "--dump-config",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    let out = &r.stdout;
    assert!(
        out.contains(&format!(
            "# unset: from file@example.test ({}:1) by no-from (command line)\n",
            file.display()
        )),
        "{out}"
    );
    assert!(
        out.contains("# unset: auth-user me (EHLO_AUTH_USER) by no-auth-user (command line)\n"),
        "{out}"
    );
    assert!(
        out.contains("# unset: nothing by no-tls (command line)\n"),
        "{out}"
    );
    let body: Vec<&str> = out.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(body, ["header X-Keep: yes", "to a@example.test"], "{out}");
}

#[test]
fn unknown_no_opt_is_exit_1() {
    let (dir, _) = home("");
    let r = run(dir.path(), &[], &["-t", "a@example.test", "--no-bogus"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert_eq!(
        r.stderr,
        "*** unknown option '--no-bogus' (--no-<option> unsets an option of the one-shot send; 'bogus' is none); nothing was sent\n"
    );
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    // Also without any config file or environment to layer.
    let r = run(
        dir.path(),
        &[],
        &["--no-config", "-t", "a@example.test", "--no-from=x"],
    );
    assert_eq!(r.code, 1, "{}", r.all());
    assert_eq!(
        r.stderr,
        "*** '--no-from' takes no value; nothing was sent\n"
    );
}

/// `--dump`: the settings after every layer (file, `SWAKS_OPT_*`, `EHLO_*`, command line) in
/// swaks's sections and order, secrets masked unless `--show-secrets`, nothing sent, exit 0.
#[test]
fn dump_shows_the_layered_settings_in_swaks_sections() {
    let listener = crate::util::tripwire();
    let server = listener.local_addr().unwrap().to_string();
    let (dir, _) = home(&format!(
        "server {server}\nauth-user file-user\nauth-password file-hunter2\nheader Subject: layered\n"
    ));
    let env = [
        ("SWAKS_OPT_helo", "swaks-env.example"),
        ("EHLO_TIMEOUT", "45s"),
        ("SWAKS_OPT_timeout", "10s"),
    ];
    let args = [
        "-t",
        "a@example.test",
        "--xclient-addr",
        "192.0.2.7",
        "--dump",
    ];
    let r = run(dir.path(), &env, &args);
    assert_eq!(r.code, 0, "{}", r.all());
    let out = &r.stdout;
    // Nothing was sent, not even a connection attempt.
    assert!(listener.accept().is_err(), "--dump connected to the server");
    assert!(!out.contains("hunter2"), "{out}");
    let titles: Vec<&str> = out.lines().filter(|l| l.ends_with("Info:")).collect();
    assert_eq!(
        titles,
        [
            "App Info:",
            "Output Info:",
            "Transport Info:",
            "Protocol Info:",
            "XCLIENT Info:",
            "PROXY Info:",
            "TLS / Encryption Info:",
            "Authentication Info:",
            "DATA Info:",
        ],
        "{out}"
    );
    assert!(out.starts_with("=== TLS supported"), "{out}");
    let port = server.rsplit(':').next().unwrap();
    for line in [
        "  server          = 127.0.0.1".to_string(),
        format!("  port            = {port}"),
        // SWAKS_OPT_helo, and EHLO_TIMEOUT over SWAKS_OPT_timeout.
        "  helo            = swaks-env.example".into(),
        "  timeout         = 45".into(),
        "  to              = a@example.test".into(),
        "  strings         = XCLIENT ADDR=192.0.2.7".into(),
        "  tls = no".into(),
        "  auth           = required".into(),
        "  username       = 'file-user'".into(),
        "  password       = '********'".into(),
        "Subject: layered".into(),
        "This is a test mailing".into(),
    ] {
        assert!(out.lines().any(|l| l == line), "no {line:?} in\n{out}");
    }
    // The command line is the merged one, secrets masked there too.
    assert!(
        out.contains("  Cmd Line = ehlo ") && out.contains("--auth-password=********"),
        "{out}"
    );

    // Asked for: the password shows.
    let mut shown = args.to_vec();
    shown.push("--show-secrets");
    let r = run(dir.path(), &env, &shown);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.contains("  password       = 'file-hunter2'"),
        "{}",
        r.stdout
    );

    // Some sections, in swaks's order whatever the order asked; a bad name is exit 1.
    let r = run(
        dir.path(),
        &env,
        &["-t", "a@example.test", "--dump", "auth,TLS"],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    let titles: Vec<&str> = r.stdout.lines().filter(|l| l.ends_with("Info:")).collect();
    assert_eq!(titles, ["TLS / Encryption Info:", "Authentication Info:"]);
    let r = run(
        dir.path(),
        &env,
        &["-t", "a@example.test", "--dump", "TLS,nope"],
    );
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("'nope' is not a section"), "{}", r.stderr);
    assert!(listener.accept().is_err(), "--dump connected to the server");
}

/// swaks reads `~/.swaksrc` by default; ehlo reads its own file. A swaks user's file is named
/// on stderr when ehlo read none, so their defaults do not silently stop applying; `--config`
/// reads it (same syntax) and `--no-config` silences the note.
#[test]
fn a_swaksrc_is_named_not_silently_ignored() {
    let (xdg, _) = home("");
    std::fs::remove_file(xdg.path().join("ehlo").join("config")).unwrap();
    let swaks = tempfile::tempdir().unwrap();
    let rc = swaks.path().join(".swaksrc");
    std::fs::write(&rc, "h-Subject: from the swaksrc\n").unwrap();
    let sh = swaks.path().to_str().unwrap();
    let args = ["-t", "a@example.test", "--dump-mail"];

    let r = run(xdg.path(), &[("SWAKS_HOME", sh)], &args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains(".swaksrc") && r.stderr.contains("not read"),
        "{}",
        r.stderr
    );
    assert!(!r.stdout.contains("from the swaksrc"), "{}", r.stdout);

    let rc_s = rc.to_str().unwrap();
    let r = run(
        xdg.path(),
        &[("SWAKS_HOME", sh)],
        &["-t", "a@example.test", "--dump-mail", "--config", rc_s],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("Subject: from the swaksrc"),
        "{}",
        r.stdout
    );
    assert!(!r.stderr.contains("not read"), "{}", r.stderr);

    let r = run(
        xdg.path(),
        &[("SWAKS_HOME", sh)],
        &["-t", "a@example.test", "--dump-mail", "--no-config"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stderr.contains(".swaksrc"), "{}", r.stderr);

    // --dump-config and --dump print what they would use, the note included.
    for (shows, prefix) in [("--dump-config", "# note: "), ("--dump", "Note: ")] {
        let r = run(
            xdg.path(),
            &[("SWAKS_HOME", sh)],
            &["-t", "a@example.test", shows],
        );
        assert_eq!(r.code, 0, "{}", r.all());
        let want = format!("{prefix}{rc_s} (swaks's config file) is not read by ehlo");
        assert!(r.stdout.contains(&want), "{shows}: {}", r.stdout);
    }
    // EHLO_NO_CONFIG, ehlo's own, beats swaks's SWAKS_OPT_config and is named as what turned
    // the file off.
    let r = run(
        xdg.path(),
        &[("SWAKS_OPT_config", rc_s), ("EHLO_NO_CONFIG", "")],
        &["-t", "a@example.test", "--dump-config"],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stderr.is_empty(), "{}", r.stderr);
    assert!(
        r.stdout
            .contains("# config file: turned off (EHLO_NO_CONFIG)"),
        "{}",
        r.stdout
    );
}

/// swaks's `SWAKS_OPT_config=FILE` reads FILE instead of `~/.swaksrc` (empty: no file at all).
/// ehlo ignored it with a warning and sent with other settings: another server, another
/// recipient. Now it chooses the file below `--config`, `--no-config` and `EHLO_CONFIG`.
#[test]
fn swaks_opt_config_chooses_the_file() {
    let (xdg, own) = home("h-Subject own file\n");
    let swaks = tempfile::tempdir().unwrap();
    let rc = swaks.path().join("rc");
    std::fs::write(&rc, "to rc@example.test\nh-Subject swaks file\n").unwrap();
    let rc_s = rc.to_str().unwrap();
    let own_s = own.to_str().unwrap();
    let dump = ["--dump-mail"];

    let r = run(xdg.path(), &[("SWAKS_OPT_config", rc_s)], &dump);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stderr.is_empty(), "{}", r.stderr);
    assert_eq!(header(&r.stdout, "To"), "rc@example.test");
    assert_eq!(header(&r.stdout, "Subject"), "swaks file");

    // Empty: no file, not even ehlo's default one (and no note about a .swaksrc).
    let r = run(
        xdg.path(),
        &[
            ("SWAKS_OPT_config", ""),
            ("SWAKS_HOME", swaks.path().to_str().unwrap()),
        ],
        &["-t", "a@example.test", "--dump-mail"],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stderr.is_empty(), "{}", r.stderr);
    assert!(
        header(&r.stdout, "Subject").starts_with("test "),
        "{}",
        r.stdout
    );

    // EHLO_CONFIG and the command line's --config / --no-config come first.
    let r = run(
        xdg.path(),
        &[("SWAKS_OPT_config", rc_s), ("EHLO_CONFIG", own_s)],
        &["-t", "a@example.test", "--dump-mail"],
    );
    assert_eq!(header(&r.stdout, "Subject"), "own file", "{}", r.all());
    let r = run(
        xdg.path(),
        &[("SWAKS_OPT_config", rc_s)],
        &["-t", "a@example.test", "--dump-mail", "--config", own_s],
    );
    assert_eq!(header(&r.stdout, "Subject"), "own file", "{}", r.all());
    let r = run(
        xdg.path(),
        &[("SWAKS_OPT_config", rc_s)],
        &["-t", "a@example.test", "--dump-mail", "--no-config"],
    );
    assert!(
        header(&r.stdout, "Subject").starts_with("test "),
        "{}",
        r.all()
    );

    // A file it names that is not there is one line naming it, exit 1, as swaks ("Config
    // file … could not be opened").
    let missing = swaks.path().join("missing");
    let r = run(
        xdg.path(),
        &[("SWAKS_OPT_config", missing.to_str().unwrap())],
        &["-t", "a@example.test", "--dump-mail"],
    );
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("missing"), "{}", r.stderr);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
}

/// `--no-auth-password` / `--no-auth-oauth-token` drop EHLO_AUTH_PASSWORD / EHLO_AUTH_TOKEN:
/// clap must not read the variables again behind layering's back.
#[test]
fn no_auth_secret_drops_the_environment_value() {
    let (dir, _) = home("");
    for (var, no) in [
        ("EHLO_AUTH_PASSWORD", "--no-auth-password"),
        ("EHLO_AUTH_TOKEN", "--no-auth-oauth-token"),
    ] {
        let args = [
            "-t",
            "a@example.test",
            "--au",
            "me",
            "--dump",
            "auth",
            "--show-secrets",
        ];
        let r = run(dir.path(), &[(var, "env-hunter2")], &args);
        assert_eq!(r.code, 0, "{}", r.all());
        assert!(r.stdout.contains("'env-hunter2'"), "{var}: {}", r.stdout);
        let mut unset = args.to_vec();
        unset.push(no);
        let r = run(dir.path(), &[(var, "env-hunter2")], &unset);
        assert_eq!(r.code, 0, "{}", r.all());
        assert!(!r.stdout.contains("env-hunter2"), "{no}: {}", r.stdout);
        let r = run(
            dir.path(),
            &[(var, "env-hunter2")],
            &[no, "-t", "a@example.test", "--dump-config"],
        );
        assert!(
            r.stdout.contains(&format!("by no-{}", &no[5..])),
            "{}",
            r.stdout
        );
    }
}

/// `name=value` with spaces in the value: the value is everything after the first `=`, and a
/// line that names no option is reported by its name alone (the old split at the space printed
/// "unknown option 'auth-password=correct'": part of the password).
#[test]
fn name_equals_value_keeps_spaces_and_errors_quote_no_value() {
    let (dir, file) = home("auth-user me\nauth-password=correct horse battery\n");
    let r = run(
        dir.path(),
        &[],
        &["-t", "a@example.test", "--dump", "auth", "--show-secrets"],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout
            .contains("password       = 'correct horse battery'"),
        "{}",
        r.stdout
    );
    for line in [
        "auth-pasword=correct horse battery",
        "auth-pasword=correct",
        "no-such=correct horse",
    ] {
        std::fs::write(&file, format!("{line}\n")).unwrap();
        let r = run(dir.path(), &[], &["-t", "a@example.test", "--dump-mail"]);
        assert_eq!(r.code, 1, "{line}: {}", r.all());
        assert!(!r.stderr.contains("correct"), "{line}: {}", r.stderr);
        assert!(r.stderr.contains("unknown option '"), "{}", r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    }
}

/// A FIFO at the default path or at EHLO_CONFIG is refused at once (one line, exit 1): every
/// send reads those unasked, and opening a FIFO blocked before any `--timeout`. A pipe named on
/// the command line (`--config <(…)`, a named FIFO) is still read.
#[test]
fn a_fifo_is_read_only_when_named_on_the_command_line() {
    let (dir, file) = home("");
    std::fs::remove_file(&file).unwrap();
    nix::unistd::mkfifo(&file, nix::sys::stat::Mode::S_IRWXU).unwrap();
    let fifo = file.to_str().unwrap();
    let limit = Duration::from_secs(10);
    let xdg = dir.path().to_str().unwrap();
    let args = ["-t", "a@example.test", "--dump-mail"];
    for env in [
        vec![("XDG_CONFIG_HOME", xdg)],
        vec![("XDG_CONFIG_HOME", "/nonexistent"), ("EHLO_CONFIG", fifo)],
    ] {
        let started = std::time::Instant::now();
        let r = ehlo_with_env(&args, &env, None, limit);
        assert!(started.elapsed() < limit, "{env:?}: blocked");
        assert_eq!(r.code, 1, "{env:?}: {}", r.all());
        assert!(
            r.stderr.contains(&format!(
                "cannot read config file {fifo}: not a regular file (a FIFO)"
            )),
            "{}",
            r.stderr
        );
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    }
    // Named on the command line: read (a writer feeds it).
    let path = file.clone();
    let writer = std::thread::spawn(move || {
        std::fs::write(&path, "header Subject: from the fifo\n").unwrap();
    });
    let r = ehlo_with_env(
        &["--config", fifo, "-t", "a@example.test", "--dump-mail"],
        &[("XDG_CONFIG_HOME", "/nonexistent")],
        None,
        limit,
    );
    writer.join().unwrap();
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(header(&r.stdout, "Subject"), "from the fifo");
}

/// As in swaks (`defined($auth_pass_t)`), an --auth-password (command line, config file,
/// SWAKS_OPT_auth_password) turns AUTH on; EHLO_AUTH_PASSWORD alone does not.
#[test]
fn an_explicit_auth_password_turns_auth_on() {
    let (dir, file) = home("");
    let args = ["-t", "a@example.test", "--dump", "auth"];
    let auth = |env: &[(&str, &str)], extra: &[&str]| {
        let mut a = args.to_vec();
        a.extend_from_slice(extra);
        let r = run(dir.path(), env, &a);
        assert_eq!(r.code, 0, "{}", r.all());
        r.stdout
            .lines()
            .find_map(|l| {
                l.split_once('=')
                    .filter(|(k, _)| k.trim() == "auth")
                    .map(|(_, v)| v.trim())
            })
            .unwrap_or_else(|| panic!("{}", r.stdout))
            .to_string()
    };
    assert_eq!(auth(&[], &["--auth-password", "xx"]), "required");
    assert_eq!(auth(&[], &["--ap"]), "required");
    assert_eq!(auth(&[("SWAKS_OPT_auth_password", "xx")], &[]), "required");
    assert_eq!(auth(&[("EHLO_AUTH_PASSWORD", "xx")], &[]), "no");
    // EHLO_AUTH_PASSWORD with a bare --auth-password: the flag was given.
    assert_eq!(auth(&[("EHLO_AUTH_PASSWORD", "xx")], &["--ap"]), "required");
    std::fs::write(&file, "auth-password xx\n").unwrap();
    assert_eq!(auth(&[], &[]), "required");
    // The file named the password, whatever EHLO_AUTH_PASSWORD replaced it with.
    assert_eq!(auth(&[("EHLO_AUTH_PASSWORD", "yy")], &[]), "required");
}

/// EHLO_HELP / EHLO_VERSION / EHLO_DUMP_CONFIG name flags only the command line takes: they
/// are ignored with a warning like other names that are no option (they made every send exit 1).
#[test]
fn command_line_only_names_in_the_environment_are_ignored() {
    let (dir, _) = home("");
    let env = [
        ("EHLO_HELP", ""),
        ("EHLO_VERSION", "1"),
        ("EHLO_DUMP_CONFIG", ""),
    ];
    let r = run(dir.path(), &env, &["-t", "a@example.test", "--dump-mail"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(header(&r.stdout, "To"), "a@example.test");
    for (name, flag) in [
        ("EHLO_HELP", "--help"),
        ("EHLO_VERSION", "--version"),
        ("EHLO_DUMP_CONFIG", "--dump-config"),
    ] {
        assert!(
            r.stderr.contains(&format!(
                "*** {name} is ignored: {flag} is taken on the command line only"
            )),
            "{}",
            r.stderr
        );
    }
    let r = run(dir.path(), &env, &["-t", "a@example.test", "--dump-config"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout
            .contains("# ignored: EHLO_HELP (--help is taken on the command line only)"),
        "{}",
        r.stdout
    );
}

/// A misspelt EHLO_* variable is said once on stderr with the variable meant (it set nothing);
/// an unknown one without a near name is said without a guess; the build's and tests' own
/// EHLO_* knobs are not options and are not warned about.
#[test]
fn a_misspelt_variable_names_the_one_meant() {
    let (dir, _) = home("");
    let env = [
        ("EHLO_TIMOUT", "5"),
        ("EHLO_NO_FORM", ""),
        ("EHLO_XYZZY", "1"),
        ("EHLO_REGENERATE", "1"),
        ("EHLO_NO_PACKED_RELOCS", "1"),
        ("EHLO_INTEROP_AUTH_ADDR", "127.0.0.1:1"),
        ("EHLO_INTEROP_NSD_PORT", "5392"),
    ];
    let r = run(dir.path(), &env, &["-t", "a@example.test", "--dump-mail"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(
        r.stderr.lines().collect::<Vec<_>>(),
        [
            "*** EHLO_NO_FORM is ignored: it names no option of any mode \
             (did you mean EHLO_NO_FROM?)",
            "*** EHLO_TIMOUT is ignored: it names no option of any mode \
             (did you mean EHLO_TIMEOUT?)",
            "*** EHLO_XYZZY is ignored: it names no option of any mode",
        ],
        "{}",
        r.stderr
    );
    let r = run(dir.path(), &env, &["-t", "a@example.test", "--dump-config"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout
            .contains("# ignored: EHLO_TIMOUT (not an option; did you mean EHLO_TIMEOUT?)\n"),
        "{}",
        r.stdout
    );
}

/// Under `--json` a variable left unread is a `warning` line of the send's JSON Lines too, as
/// its other warnings before it connects are (a repeated `-t`, an `SSL_CERT_FILE` naming no
/// file), and still the one line on stderr: it was on stderr only, so the JSON Lines of a run
/// whose `EHLO_TIMOUT=5` set nothing did not say so.
#[test]
fn a_misspelt_variable_is_a_json_warning_too() {
    let (dir, _) = home("");
    let srv = scripted(after_greet(accept_all()));
    let server = srv.server();
    let args = ["-s", &server, "-t", "a@example.test", "--json"];
    let r = run(dir.path(), &[("EHLO_TIMOUT", "5")], &args);
    srv.finish();
    assert_eq!(r.code, 0, "{}", r.all());
    let said = "EHLO_TIMOUT is ignored: it names no option of any mode \
                (did you mean EHLO_TIMEOUT?)";
    let warnings: Vec<String> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["type"] == "warning")
        .map(|v| v["data"]["message"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(warnings, [said], "{}", r.stdout);
    assert_eq!(
        r.stderr.lines().collect::<Vec<_>>(),
        [format!("*** {said}")]
    );
}

/// `--json` asked for by EHLO_JSON / SWAKS_OPT_json: a mistake in the file or the environment
/// is reported with the JSON summary too, as with a command-line `--json`.
#[test]
fn json_from_the_environment_covers_layering_mistakes() {
    let (dir, _) = home("bogus-option 1\n");
    let args = ["-t", "a@example.test"];
    for env in [
        vec![("EHLO_JSON", "")],
        vec![("SWAKS_OPT_json", "")],
        vec![
            ("EHLO_JSON", ""),
            ("EHLO_NO_CONFIG", ""),
            ("EHLO_PORT", "99999"),
        ],
    ] {
        let r = run(dir.path(), &env, &args);
        assert_eq!(r.code, 1, "{env:?}: {}", r.all());
        let kinds: Vec<String> = r
            .stdout
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                v["type"].as_str().unwrap_or_default().to_string()
            })
            .collect();
        assert_eq!(kinds, ["schema", "summary"], "{env:?}: {}", r.all());
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    }
    // The command line's --no-json and EHLO_NO_JSON (over SWAKS_OPT_json) still say no.
    let r = run(
        dir.path(),
        &[("EHLO_JSON", "")],
        &["-t", "a@example.test", "--no-json"],
    );
    assert_eq!((r.code, r.stdout.as_str()), (1, ""), "{}", r.all());
    let env = [("SWAKS_OPT_json", ""), ("EHLO_NO_JSON", "")];
    let r = run(dir.path(), &env, &args);
    assert_eq!((r.code, r.stdout.as_str()), (1, ""), "{}", r.all());
}

/// Two flags that cannot go together, both in the config file (or both in `EHLO_*`), are
/// refused naming both lines (exit 1, nothing sent); clap's message had named neither and shown
/// a usage line of words nobody typed. A command-line flag still replaces both.
#[test]
fn conflicting_flags_in_one_layer_are_named_by_place() {
    let (dir, file) = home("tls\ntls-on-connect\n");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let r = run(dir.path(), &[], &["-s", &addr, "-t", "a@b.test"]);
    assert_eq!(r.code, 1, "{}", r.all());
    let f = file.display();
    assert!(
        r.all().contains(&format!(
            "{f}:2: 'tls-on-connect' cannot be used with 'tls' ({f}:1)"
        )),
        "{}",
        r.all()
    );
    assert!(!r.all().contains("Usage:"), "{}", r.all());
    let accepted = listener.accept();
    assert!(
        accepted.is_err_and(|e| e.kind() == std::io::ErrorKind::WouldBlock),
        "a connection was made"
    );
    let r = run(
        dir.path(),
        &[],
        &[
            "-s",
            "127.0.0.1:1",
            "-t",
            "a@b.test",
            "--tls",
            "--dump-config",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.all()
            .contains(&format!("# overridden: tls-on-connect ({f}:2)")),
        "{}",
        r.all()
    );
    let r = run(
        dir.path(),
        &[("EHLO_TLS", ""), ("EHLO_TLS_ON_CONNECT", "")],
        &["--no-config", "-s", "127.0.0.1:1", "-t", "a@b.test"],
    );
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.all()
            .contains("EHLO_TLS_ON_CONNECT: 'tls-on-connect' cannot be used with 'tls' (EHLO_TLS)"),
        "{}",
        r.all()
    );
}

/// A `config`, `no-config`, `version` or `help` line in a config file is refused in one line
/// naming the file and line, nothing sent (README, swaks section): swaks ignores a `config`
/// line (it reads one file) and prints its version or manual for the others, so no silent
/// stand-in would do the same.
#[test]
fn a_command_line_only_option_in_the_config_file_is_refused() {
    let trap = crate::util::tripwire();
    let server = trap.local_addr().unwrap().to_string();
    for line in ["config other.rc", "no-config", "version", "help"] {
        let (dir, file) = home(&format!("{line}\n"));
        let f = file.to_str().unwrap();
        let r = run(
            dir.path(),
            &[],
            &["--to", "a@b.test", "--server", &server, "--config", f],
        );
        let name = line.split(' ').next().unwrap();
        assert_eq!(r.code, 1, "{line}: {}", r.all());
        assert_eq!(
            r.stderr.trim_end(),
            format!("*** {f}:1: '{name}' can only be given on the command line; nothing was sent"),
            "{line}"
        );
        assert!(r.stdout.is_empty(), "{line}: {}", r.all());
    }
    assert!(trap.accept().is_err(), "nothing may connect");
}

/// A refusal that a config file line causes names the file and the line (as a variable's names
/// the variable, `env_modes::a_refusal_a_variable_causes_names_the_variable`): clap's line
/// named only the flag missing, which no command line typed had asked for.
#[test]
fn a_refusal_a_file_line_causes_names_the_line() {
    let (dir, file) = home("# TLS client certificate\ntls-cert c.pem\n");
    let r = run(dir.path(), &[], &["-t", "a@b.test"]);
    assert_eq!(r.code, 1, "{}", r.all());
    let want = format!(
        "*** --tls-cert (set by line 2 of {}) needs --tls-key <FILE> or EHLO_TLS_KEY (usage: ",
        file.display()
    );
    assert!(r.stderr.starts_with(&want), "{}", r.all());
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.all());
    // A validated flag's refusal names the line too.
    let (dir, file) = home("dsn-envid caf\u{e9}\n");
    let r = run(dir.path(), &[], &["-t", "a@b.test", "-s", "127.0.0.1:1"]);
    assert_eq!(r.code, 1, "{}", r.all());
    let want = format!("*** --dsn-envid (set by line 1 of {}): ", file.display());
    assert!(r.stderr.starts_with(&want), "{}", r.all());
}
