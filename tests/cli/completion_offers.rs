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
            // As bash calls a completion function: the words (`=` one of its own, as
            // COMP_WORDBREAKS makes it), the index of the one completed.
            Shell::Bash => format!(
                "source {s}; COMP_LINE='{line}'; COMP_POINT=${{#COMP_LINE}}; \
                 read -ra COMP_WORDS <<< \"${{COMP_LINE//=/ = }}\"; \
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
            // elvish's editor (`edit:`) exists in an interactive shell alone: the completer is
            // kept in a variable and called as the editor calls it, the words then the one
            // completed; the editor's filter by what is typed is done here.
            Shell::Elvish => {
                let source = std::fs::read_to_string(&script)
                    .unwrap()
                    .replace(
                        "set edit:completion:arg-completer[ehlo] =",
                        "var completer =",
                    )
                    .replace("edit:complex-candidate $text &display=", "put $text; nop ")
                    .replace("edit:complex-candidate $prefix$value", "put $prefix$value");
                let mut words: Vec<&str> = line.split(' ').collect();
                let typed = words.pop().unwrap_or_default();
                let words: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
                let file = dir.path().join("run.elv");
                std::fs::write(
                    &file,
                    format!(
                        "{source}\n$completer {} '{typed}' | each {{|c| \
                         if (str:has-prefix $c '{typed}') {{ echo $c }} }}\n",
                        words.join(" ")
                    ),
                )
                .unwrap();
                file.display().to_string()
            }
            _ => unreachable!("{shell}"),
        };
        let args: Vec<&str> = if shell == Shell::Elvish {
            vec!["-norc", &code]
        } else {
            vec!["-c", &code]
        };
        let o = std::process::Command::new(&program)
            .args(&args)
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

/// The option values are offered in every shell, PowerShell's and elvish's scripts too (clap_complete
/// writes those two with the options alone): a value enum (`--protocol`, `--tls-verify`), a hand
/// list (`--tls-protocol`), a subcommand's own (`check --only`, `--expect`), and `-S` (`--silent`'s
/// levels) apart from `-s` (`--server`, a host: no list); after a space or after `--opt=` in one
/// word (bash offered nothing there, PowerShell and elvish the options again).
pub(crate) fn values(shell: Shell) {
    let lines = [
        "ehlo --protocol ",
        "ehlo --protocol LM",
        "ehlo --tls-verify ",
        "ehlo --tls-protocol no_",
        "ehlo check --only tls.c",
        "ehlo check example.com --expect dmarc.p",
        "ehlo -S ",
        "ehlo -s ",
        "ehlo --to x --auth CRAM",
        "ehlo --protocol=LM",
        "ehlo --tls-verify=",
        "ehlo check --only=tls.c",
        "ehlo check example.com --expect=dmarc.p",
    ];
    let got = offers(shell, &lines);
    let of = |line: &str| -> Vec<String> {
        let mut w = got.iter().find(|(l, _)| l == line).unwrap().1.clone();
        w.sort();
        w
    };
    let ctx = |line: &str| format!("{shell} `{line}` offers {:?}", of(line));
    assert!(
        of("ehlo --protocol ").contains(&"LMTP".to_string()),
        "{}",
        ctx("ehlo --protocol ")
    );
    assert!(
        of("ehlo --protocol ").contains(&"ESMTP".to_string()),
        "{}",
        ctx("ehlo --protocol ")
    );
    assert_eq!(
        of("ehlo --protocol LM"),
        ["LMTP", "LMTPA", "LMTPS", "LMTPSA"],
        "{}",
        ctx("ehlo --protocol LM")
    );
    assert_eq!(
        of("ehlo --tls-verify "),
        ["dane", "pkix"],
        "{}",
        ctx("ehlo --tls-verify ")
    );
    assert_eq!(
        of("ehlo --tls-protocol no_"),
        ["no_tlsv1", "no_tlsv1_1", "no_tlsv1_2", "no_tlsv1_3"],
        "{}",
        ctx("ehlo --tls-protocol no_")
    );
    let only = of("ehlo check --only tls.c");
    assert!(
        only.len() >= 2 && only.iter().all(|w| w.starts_with("tls.cert")),
        "{}",
        ctx("ehlo check --only tls.c")
    );
    assert!(
        of("ehlo check example.com --expect dmarc.p")
            .iter()
            .any(|w| w.starts_with("dmarc.p")),
        "{}",
        ctx("ehlo check example.com --expect dmarc.p")
    );
    assert_eq!(of("ehlo -S "), ["1", "2", "3"], "{}", ctx("ehlo -S "));
    assert!(
        !of("ehlo -s ").contains(&"1".to_string()),
        "{}",
        ctx("ehlo -s ")
    );
    assert_eq!(
        of("ehlo --to x --auth CRAM"),
        ["CRAM-MD5", "CRAM-SHA1"],
        "{}",
        ctx("ehlo --to x --auth CRAM")
    ); // `--opt=VALUE`: the values after the `=`. bash breaks the word there and replaces the
    // part after it; fish and elvish (and PowerShell) replace the whole word, `--opt=` kept.
    let bare = |line: &str| -> Vec<String> {
        let option = line.rsplit(' ').next().unwrap().split('=').next().unwrap();
        of(line)
            .iter()
            .map(|w| match shell {
                Shell::Bash => w.clone(),
                _ => w
                    .strip_prefix(&format!("{option}="))
                    .unwrap_or_else(|| panic!("{} lacks {option}=", ctx(line)))
                    .to_string(),
            })
            .collect()
    };
    assert_eq!(
        bare("ehlo --protocol=LM"),
        ["LMTP", "LMTPA", "LMTPS", "LMTPSA"],
        "{}",
        ctx("ehlo --protocol=LM")
    );
    assert_eq!(
        bare("ehlo --tls-verify="),
        ["dane", "pkix"],
        "{}",
        ctx("ehlo --tls-verify=")
    );
    let only = bare("ehlo check --only=tls.c");
    assert!(
        only.len() >= 2 && only.iter().all(|w| w.starts_with("tls.cert")),
        "{}",
        ctx("ehlo check --only=tls.c")
    );
    let expect = bare("ehlo check example.com --expect=dmarc.p");
    assert!(
        !expect.is_empty() && expect.iter().all(|w| w.starts_with("dmarc.p")),
        "{}",
        ctx("ehlo check example.com --expect=dmarc.p")
    );
}
