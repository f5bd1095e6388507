//! Completions and man pages generated from the one flag table, into memory (the committed
//! `completions/` and `man/` are checked against this by `tests/cli/generated.rs`). Output must be byte-stable: no dates, no paths, and no OpenSSL version (the long
//! version names the OpenSSL found at run time, which differs between machines).

use clap::{Command, CommandFactory};
use clap_complete::Shell;

use crate::cli::args::Cli;

/// Every shell with committed completions, and the file name each is committed under.
pub const SHELLS: &[(Shell, &str)] = &[
    (Shell::Bash, "ehlo.bash"),
    (Shell::Zsh, "_ehlo"),
    (Shell::Fish, "ehlo.fish"),
    (Shell::PowerShell, "_ehlo.ps1"),
    (Shell::Elvish, "ehlo.elv"),
];

/// The command as documented: the flag table without the machine-dependent long version.
fn command() -> Command {
    let mut cmd = Cli::command().long_version(None::<&str>);
    cmd.build();
    cmd
}

/// Completion script for `shell`.
pub fn completions(shell: Shell) -> Vec<u8> {
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut command(), "ehlo", &mut buf);
    buf
}

/// Man pages: `ehlo.1` and one `ehlo-<sub>.1` per subcommand, with their contents.
pub fn man_pages() -> Vec<(String, Vec<u8>)> {
    let cmd = command();
    let mut pages = Vec::new();
    let mut push = |name: String, c: Command| {
        let mut buf = Vec::new();
        // Rendering into a Vec cannot fail with an I/O error.
        if clap_mangen::Man::new(c).render(&mut buf).is_ok() {
            pages.push((name, buf));
        }
    };
    push("ehlo.1".to_string(), cmd.clone());
    for sub in cmd.get_subcommands() {
        if sub.get_name() == "help" {
            continue;
        }
        push(format!("ehlo-{}.1", sub.get_name()), sub.clone());
    }
    pages
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `man ehlo-repl` documents every meta-command of the REPL's command table (the one
    /// completion and the "did you mean" hint use), each at the start of its own entry.
    #[test]
    fn the_repl_man_page_names_every_meta_command() {
        let pages = man_pages();
        let page = pages
            .iter()
            .find(|(n, _)| n == "ehlo-repl.1")
            .map(|(_, p)| String::from_utf8_lossy(p).replace("\\-", "-"))
            .expect("ehlo-repl.1");
        for name in crate::repl::meta::NAMES {
            let name = name.trim_end_matches([' ', '"']);
            assert!(
                page.lines().any(|l| l.trim_start().starts_with(name)),
                "{name} is not documented in ehlo-repl.1"
            );
        }
        for form in [":record! FILE", ":record -a FILE", ":data --edit", "Ctrl-R"] {
            assert!(page.contains(form), "{form} is not in ehlo-repl.1");
        }
    }

    #[test]
    fn outputs_are_deterministic_and_name_the_flags() {
        for (shell, _) in SHELLS {
            let a = completions(*shell);
            assert_eq!(a, completions(*shell));
            let text = String::from_utf8(a).unwrap();
            assert!(text.contains("quit-after"), "{shell}");
        }
        let pages = man_pages();
        let names: Vec<&str> = pages.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "ehlo.1",
                "ehlo-serve.1",
                "ehlo-demo.1",
                "ehlo-repl.1",
                "ehlo-replay.1",
                "ehlo-explain.1",
                "ehlo-check.1",
                "ehlo-probe.1"
            ]
        );
        for (name, page) in &pages {
            let text = String::from_utf8_lossy(page);
            assert!(text.starts_with(".ie"), "{name}: {text:.40}");
            assert!(
                !text.contains("OpenSSL"),
                "{name} embeds the OpenSSL version"
            );
        }
        assert!(String::from_utf8_lossy(&pages[1].1).contains("max\\-sessions"));
        let check = String::from_utf8_lossy(&pages[6].1);
        assert!(
            check.contains("\\-\\-expect") && check.contains("41"),
            "{check:.200}"
        );
    }
}
