//! What the generated shell completions offer for a command line, run by the real shell: shared by
//! the default suite (bash, on every machine) and the interop suite (fish, which it installs).

use clap_complete::Shell;
use ehlo::cli::generate;

/// What a shell offers for each command line, with the completions as generated, run by the real
/// shell in a directory holding one file (`a-file.txt`), so an offer of file names shows.
fn offers(shell: Shell, lines: &[&str]) -> Vec<(String, Vec<String>)> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a-file.txt"), "x").unwrap();
    let program = shell.to_string();
    let script = dir.path().join("completion");
    std::fs::write(&script, generate::completions(shell)).unwrap();
    let mut out = Vec::new();
    for line in lines {
        let code = match shell {
            // As bash calls a completion function: the words, the index of the one completed.
            Shell::Bash => format!(
                "source {s}; COMP_LINE='{line}'; COMP_POINT=${{#COMP_LINE}}; \
                 read -ra COMP_WORDS <<< \"$COMP_LINE\"; \
                 [[ $COMP_LINE == *' ' ]] && COMP_WORDS+=(''); \
                 COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); \
                 _ehlo ehlo \"${{COMP_WORDS[-1]}}\" \"${{COMP_WORDS[-2]}}\" 2>/dev/null; \
                 printf '%s\\n' \"${{COMPREPLY[@]}}\"",
                s = script.display()
            ),
            Shell::Fish => format!(
                "source {s}; complete -C '{line}' | string replace -r '\\t.*' ''",
                s = script.display()
            ),
            _ => unreachable!("{shell}"),
        };
        let o = std::process::Command::new(&program)
            .args(["-c", &code])
            .current_dir(dir.path())
            .env("HOME", dir.path())
            .env("XDG_CONFIG_HOME", dir.path())
            .env("XDG_DATA_HOME", dir.path())
            .output()
            .unwrap_or_else(|e| {
                panic!("{program} is not installed (tests/interop/setup.sh installs it): {e}")
            });
        let words = String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(str::trim)
            .filter(|w| !w.is_empty())
            .map(String::from)
            .collect();
        out.push((line.to_string(), words));
    }
    out
}

/// The completions offer what each word takes, in the real bash and fish: the subcommands first,
/// a subcommand's own flags, an option's value list after a space (fish offered file names for
/// every option of the send), nothing for an address or a fault spec (file names before), files
/// where a file is expected, and only the mechanisms `ehlo probe --auth` accepts.
pub(crate) fn check(shell: Shell) {
    let file = "a-file.txt".to_string();
    {
        let lines = [
            "ehlo ",
            "ehlo check --",
            "ehlo --auth ",
            "ehlo -a ",
            "ehlo --tls-verify ",
            "ehlo --quit-after ",
            "ehlo -s host --quit-after ",
            "ehlo --to ",
            "ehlo serve --fail ",
            "ehlo check --only ",
            "ehlo --tls-ca-path ",
            "ehlo probe --auth ",
            "ehlo -a --to x --insec",
            "ehlo --auth LOGIN --insec",
        ];
        let got = offers(shell, &lines);
        let of = |line: &str| -> &Vec<String> { &got.iter().find(|(l, _)| l == line).unwrap().1 };
        let ctx = |line: &str| format!("{shell} `{line}` offers {:?}", of(line));
        for sub in [
            "check", "probe", "repl", "replay", "serve", "demo", "explain",
        ] {
            assert!(of("ehlo ").iter().any(|w| w == sub), "{}", ctx("ehlo "));
        }
        let check = of("ehlo check --");
        assert!(
            check.iter().any(|w| w == "--fail-on"),
            "{}",
            ctx("ehlo check --")
        );
        assert!(
            !check.iter().any(|w| w == "--quit-after"),
            "{}",
            ctx("ehlo check --")
        );
        for line in ["ehlo --auth ", "ehlo -a "] {
            assert!(of(line).iter().any(|w| w == "CRAM-MD5"), "{}", ctx(line));
            assert!(of(line).iter().any(|w| w == "XOAUTH2"), "{}", ctx(line));
            assert!(!of(line).contains(&file), "{}", ctx(line));
        }
        let mut modes = of("ehlo --tls-verify ").clone();
        modes.sort();
        assert_eq!(modes, ["dane", "pkix"], "{}", ctx("ehlo --tls-verify "));
        for line in ["ehlo --quit-after ", "ehlo -s host --quit-after "] {
            assert!(of(line).iter().any(|w| w == "RCPT"), "{}", ctx(line));
        }
        for line in ["ehlo --to ", "ehlo serve --fail ", "ehlo check --only "] {
            assert!(!of(line).contains(&file), "{}", ctx(line));
        }
        assert!(
            of("ehlo --tls-ca-path ").contains(&file),
            "{}",
            ctx("ehlo --tls-ca-path ")
        );
        let probe = of("ehlo probe --auth ");
        assert!(
            probe.iter().any(|w| w == "PLAIN"),
            "{}",
            ctx("ehlo probe --auth ")
        );
        for token in ["XOAUTH2", "OAUTHBEARER"] {
            assert!(
                !probe.iter().any(|w| w == token),
                "{}",
                ctx("ehlo probe --auth ")
            );
        }
        for line in ["ehlo -a --to x --insec", "ehlo --auth LOGIN --insec"] {
            assert_eq!(of(line), &["--insecure"], "{}", ctx(line));
        }
    }
}
