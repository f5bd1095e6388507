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

/// The command as documented: the flag table with ehlo's version alone, without the OpenSSL
/// found at run time (machine-dependent).
fn documented() -> Command {
    Cli::command().version(env!("CARGO_PKG_VERSION"))
}

/// [`documented`], built.
fn command() -> Command {
    let mut cmd = documented();
    cmd.build();
    cmd
}

/// The long name a hidden option is given before the completions are generated, so that its
/// lines can be taken out of them.
const HIDDEN: &str = "ehlo-hidden-option-";

/// Completion script for `shell`. Hidden options (refused spellings such as `ehlo replay
/// --helo`, the test-only `check --mta-sts-port`, swaks's deprecated `-g`) are not offered:
/// clap_complete lists every option, so each is renamed to a marker and its lines dropped.
pub fn completions(shell: Shell) -> Vec<u8> {
    // Built first: the subcommands' options are only added then (`defer`).
    let mut cmd = with_value_hints(with_value_lists(without_hidden(command()), "", shell));
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "ehlo", &mut buf);
    let script = drop_hidden(&String::from_utf8_lossy(&buf), shell);
    match shell {
        Shell::Fish => fish_values_after_a_space(&fish_redirections_escaped(&script), &cmd),
        Shell::Zsh => zsh_no_space_after_separators(&zsh_options_where_clap_parses_them(&script)),
        Shell::Bash => bash_values_after_equals(&bash_no_space_after_separators(&script)),
        Shell::PowerShell => powershell_values(&script, &value_table(&cmd, "ehlo")),
        Shell::Elvish => elvish_values(&script, &value_table(&cmd, "ehlo")),
        _ => script,
    }
    .into_bytes()
}

/// The fish script with `<` and `>` in a value list escaped: fish reads the `-a` list as a
/// command line, where they are redirections (`tls.version>=` made fish refuse the whole file,
/// "Expected a string, but found a redirection"); clap_complete escapes only `\`, `'` and `,`.
/// They occur nowhere else in the generated script.
fn fish_redirections_escaped(script: &str) -> String {
    script
        .split_inclusive('\n')
        .map(|line| {
            // A list's first value follows `-a "` on the option's own line.
            let (head, list) = line
                .rsplit_once(" -a \"")
                .map_or(("", line), |(h, l)| (h, l));
            match list.split_once("\\t'") {
                Some((value, rest)) if value.contains(['<', '>']) => {
                    let value = value.replace('<', "\\<").replace('>', "\\>");
                    let head = if head.is_empty() {
                        String::new()
                    } else {
                        format!("{head} -a \"")
                    };
                    format!("{head}{value}\\t'{rest}")
                }
                _ => line.to_string(),
            }
        })
        .collect()
}

/// The zsh script with two of clap_complete's `_arguments` specs fixed, so that zsh reads the
/// words as clap does. The top level went on taking the send's options after a subcommand's
/// name (`ehlo probe --auth <TAB>` offered the send's mechanisms, XOAUTH2 included, which
/// probe refuses): `-A "-*"` ends its options at the first word that is none, the subcommand.
/// And a subcommand's repeated positional (`ehlo check DOMAIN…`, `ehlo explain TEXT…`) was
/// written `'*::NAME…'`, which leaves the words after it to that argument alone: `ehlo check
/// example.com --<TAB>` offered nothing and `--fail-on <TAB>` file names. `'*:NAME…'` keeps
/// options parsed between and after them, as clap does.
fn zsh_options_where_clap_parses_them(script: &str) -> String {
    let top = "    _arguments \"${_arguments_options[@]}\" : \\\n";
    assert!(
        script.contains(top),
        "clap_complete's zsh top-level _arguments call has changed"
    );
    let script = script.replacen(
        top,
        "    _arguments \"${_arguments_options[@]}\" -A \"-*\" : \\\n",
        1,
    );
    script
        .split_inclusive('\n')
        .map(|line| match line.strip_prefix("'*::") {
            Some(rest) => format!("'*:{rest}"),
            None => line.to_string(),
        })
        .collect()
}

/// The bash script with no space after a value offered up to its separator (`check --expect
/// tls.st<TAB>` gives `tls.starttls=`, the status to be typed next): clap_complete's arm for a
/// list of values lets bash add one. fish adds none after `=` or `@` by itself.
fn bash_no_space_after_separators(script: &str) -> String {
    let no_space = "                    if [[ \"${BASH_VERSINFO[0]}\" -ge 4 ]]; then\n\
                    \x20                       compopt -o nospace\n\
                    \x20                   fi\n";
    let mut out = String::with_capacity(script.len());
    for line in script.split_inclusive('\n') {
        out.push_str(line);
        let words = line
            .split_once("compgen -W \"")
            .and_then(|(_, rest)| rest.split_once('"'))
            .map(|(words, _)| words);
        if words.is_some_and(|w| w.split(' ').any(|w| w.ends_with(['=', '@']))) {
            out.push_str(no_space);
        }
    }
    out
}

/// The bash script completing a value written on with `=` (`--protocol=LM<TAB>`): bash breaks
/// the line at `=` (it is in `COMP_WORDBREAKS`), so the function got `=` as the word before the
/// one completed, or as that word, matched no option's arm, and offered nothing. The option is
/// then the word before the `=`, and the value what follows it; bash replaces only that part.
fn bash_values_after_equals(script: &str) -> String {
    let anchor = "    prev=\"$3\"\n";
    assert!(
        script.matches(anchor).count() == 1,
        "clap_complete's bash function has changed"
    );
    let fix = "    prev=\"$3\"\n\
               \x20   # `--opt=VALUE`: bash made `=` a word of its own (COMP_WORDBREAKS).\n\
               \x20   if [[ \"${cur}\" == \"=\" ]]; then\n\
               \x20       cur=\"\"\n\
               \x20   elif [[ \"${prev}\" == \"=\" && ${COMP_CWORD} -ge 2 ]]; then\n\
               \x20       prev=\"${COMP_WORDS[COMP_CWORD-2]}\"\n\
               \x20   fi\n";
    script.replacen(anchor, fix, 1)
}

/// The zsh script with no space after a value offered up to its separator, as in
/// [`bash_no_space_after_separators`]: the spec's `:(WORD…)` list, after which zsh adds one,
/// becomes `:{compadd -S '' -- WORD…}`.
fn zsh_no_space_after_separators(script: &str) -> String {
    script
        .split_inclusive('\n')
        .map(|line| {
            let Some(open) = line.rfind(":(") else {
                return line.to_string();
            };
            let Some(close) = line[open..].find(")'").map(|c| open + c) else {
                return line.to_string();
            };
            let words = &line[open + 2..close];
            if !words.split(' ').any(|w| w.ends_with(['=', '@'])) {
                return line.to_string();
            }
            format!(
                "{}:{{compadd -S \"\" -- {words}}}{}",
                &line[..open],
                &line[close + 1..]
            )
        })
        .collect()
}

/// `cmd` and its subcommands with every option that takes a value and says nothing of it
/// (an address, a name, a duration, a fault spec…) marked as taking no file name: the
/// completions' default for such an option is the files of the current directory (bash,
/// zsh's `_default`, fish), which `--to <TAB>` or `serve --fail <TAB>` should not offer.
/// Options that take a path say so in the flag table (`ValueHint::FilePath`, `AnyPath`).
fn with_value_hints(mut cmd: Command) -> Command {
    let ids: Vec<String> = cmd
        .get_arguments()
        .filter(|a| {
            !a.is_positional()
                && a.get_action().takes_values()
                && a.get_value_hint() == clap::ValueHint::Unknown
                && a.get_possible_values().is_empty()
        })
        .map(|a| a.get_id().to_string())
        .collect();
    for id in ids {
        cmd = cmd.mut_arg(id, |a| a.value_hint(clap::ValueHint::Other));
    }
    let subs: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    for sub in subs {
        cmd = cmd.mut_subcommand(sub, with_value_hints);
    }
    cmd
}

/// The fish script with its test "has a subcommand been given?" fixed for the send's own
/// options, whose completions all hang on it. clap_complete runs fish's `argparse` on the
/// words before the cursor, which fails while the last one is an option waiting for its value
/// (`ehlo --auth <TAB>`): fish then offered file names instead of the option's values. And an
/// option whose value is optional (`--auth [MECH]`, `--tls-verify [MODE]`, `--silent
/// [LEVEL]`) takes the next word only when it is no option, as clap parses it, where
/// `argparse` always took it (`ehlo -a --to x --<TAB>` offered nothing).
fn fish_values_after_a_space(script: &str, cmd: &Command) -> String {
    let mut optional: Vec<String> = Vec::new();
    for a in cmd.get_arguments() {
        let range = a.get_num_args().unwrap_or_default();
        if a.is_positional() || !a.get_action().takes_values() || range.min_values() != 0 {
            continue;
        }
        optional.extend(
            a.get_short_and_visible_aliases()
                .unwrap_or_default()
                .iter()
                .map(|c| format!("-{c}")),
        );
        optional.extend(
            a.get_long_and_visible_aliases()
                .unwrap_or_default()
                .iter()
                .map(|l| format!("--{l}")),
        );
    }
    let generated =
        "    argparse -s (__fish_ehlo_global_optspecs) -- $cmd 2>/dev/null\n    or return\n";
    let fixed = format!(
        "    # An option whose value is optional takes the next word only when it is no option.\n\
         \x20   set -l words\n\
         \x20   for i in (seq (count $cmd))\n\
         \x20       if contains -- $cmd[$i] {optional}\n\
         \x20           and begin; test $i -eq (count $cmd); or string match -q -- '-*' $cmd[(math $i + 1)]; end\n\
         \x20           continue\n\
         \x20       end\n\
         \x20       set -a words $cmd[$i]\n\
         \x20   end\n\
         \x20   # The last word may be an option waiting for the value being completed.\n\
         \x20   argparse -s (__fish_ehlo_global_optspecs) -- $words 2>/dev/null\n\
         \x20   or begin\n\
         \x20       set -e words[-1]\n\
         \x20       argparse -s (__fish_ehlo_global_optspecs) -- $words 2>/dev/null\n\
         \x20   end\n\
         \x20   or return\n",
        optional = optional.join(" ")
    );
    assert!(
        script.matches(generated).count() == 1,
        "clap_complete's fish test for a subcommand has changed"
    );
    script.replacen(generated, &fixed, 1)
}

/// Every option name that takes a list of values, with its command path (`ehlo`, `ehlo;check`,
/// as PowerShell's and elvish's scripts name a command) and the values, in the flag table's
/// order: `ehlo --protocol`, `ehlo;check --only`. The values bash, zsh and fish are offered.
fn value_table(cmd: &Command, path: &str) -> Vec<(String, Vec<String>)> {
    let mut table = Vec::new();
    for a in cmd.get_arguments() {
        if a.is_positional() || a.is_hide_set() || !a.get_action().takes_values() {
            continue;
        }
        let values: Vec<String> = a
            .get_possible_values()
            .iter()
            .filter(|v| !v.is_hide_set())
            .map(|v| v.get_name().to_string())
            .collect();
        if values.is_empty() {
            continue;
        }
        let shorts = a.get_short_and_visible_aliases().unwrap_or_default();
        let longs = a.get_long_and_visible_aliases().unwrap_or_default();
        let names = shorts
            .iter()
            .map(|c| format!("-{c}"))
            .chain(longs.iter().map(|l| format!("--{l}")));
        for name in names {
            table.push((format!("{path} {name}"), values.clone()));
        }
    }
    for sub in cmd.get_subcommands() {
        table.extend(value_table(sub, &format!("{path};{}", sub.get_name())));
    }
    table
}

/// `text` as a single-quoted word of PowerShell or elvish: both double a `'` inside.
fn single_quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The PowerShell script with the option values offered: clap_complete's lists the options and
/// subcommands alone, so `ehlo --protocol <TAB>` or `ehlo check --only <TAB>` offered them
/// (or file names) where bash, zsh and fish offer the values. The word before the one completed
/// names the option; the command is its first two words (`ehlo;check`), so a domain typed
/// before the option (`ehlo check example.com --only`) does not hide it.
fn powershell_values(script: &str, table: &[(String, Vec<String>)]) -> String {
    let anchor = "    $completions = @(switch ($command) {\n";
    assert!(
        script.matches(anchor).count() == 1,
        "clap_complete's PowerShell completion switch has changed"
    );
    let mut block = String::from(
        "    # An option's values: the word before the one completed names the option, or the\n\
         \x20   # word completed does before its '=' (`--protocol=LM`), which the values then follow.\n\
         \x20   $previous = ''\n\
         \x20   foreach ($element in $commandElements) {\n\
         \x20       if ($element.Extent.EndOffset -ge $cursorPosition) { break }\n\
         \x20       $previous = $element.Extent.Text\n\
         \x20   }\n\
         \x20   $prefix = ''\n\
         \x20   $typed = $wordToComplete\n\
         \x20   if ($wordToComplete -match '^(-[^=]+)=(.*)$') {\n\
         \x20       $previous = $Matches[1]\n\
         \x20       $prefix = $Matches[1] + '='\n\
         \x20       $typed = $Matches[2]\n\
         \x20   }\n\
         \x20   $sub = (($command -split ';') | Select-Object -First 2) -join ';'\n\
         \x20   $values = @(switch -CaseSensitive -Exact (\"$sub $previous\") {\n",
    );
    for (key, values) in table {
        let words: Vec<String> = values.iter().map(|v| single_quoted(v)).collect();
        block.push_str(&format!(
            "        {} {{ {} }}\n",
            single_quoted(key),
            words.join(", ")
        ));
    }
    block.push_str(
        "    })\n\
         \x20   if ($values.Count -gt 0) {\n\
         \x20       $values.Where{ $_ -like \"$typed*\" } | ForEach-Object {\n\
         \x20           [CompletionResult]::new(\"$prefix$_\", $_, [CompletionResultType]::ParameterValue, $_)\n\
         \x20       }\n\
         \x20       return\n\
         \x20   }\n\n",
    );
    block.push_str(anchor);
    script.replacen(anchor, &block, 1)
}

/// The elvish script with the option values offered, as [`powershell_values`] does: elvish
/// passes the words, the one completed last, and filters the candidates by what is typed.
fn elvish_values(script: &str, table: &[(String, Vec<String>)]) -> String {
    let anchor = "    $completions[$command]\n}\n";
    assert!(
        script.ends_with(anchor),
        "clap_complete's elvish completion call has changed"
    );
    let mut block = String::from("    var values = [\n");
    for (key, values) in table {
        let words: Vec<String> = values.iter().map(|v| single_quoted(v)).collect();
        block.push_str(&format!(
            "        &{}= [{}]\n",
            single_quoted(key),
            words.join(" ")
        ));
    }
    block.push_str(
        "    ]\n\
         \x20   # An option's values: the word before the one completed names the option, or the\n\
         \x20   # word completed does before its '=' (`--protocol=LM`), which the values then follow.\n\
         \x20   var sub = (str:join ';' [(str:split ';' $command | take 2)])\n\
         \x20   var key = $sub' '$words[-2]\n\
         \x20   var prefix = ''\n\
         \x20   var at = (str:index $words[-1] '=')\n\
         \x20   if (and (str:has-prefix $words[-1] '-') (> $at 1)) {\n\
         \x20       set key = $sub' '$words[-1][0..$at]\n\
         \x20       set prefix = $words[-1][0..(+ $at 1)]\n\
         \x20   }\n\
         \x20   if (has-key $values $key) {\n\
         \x20       for value $values[$key] {\n\
         \x20           edit:complex-candidate $prefix$value\n\
         \x20       }\n\
         \x20   } else {\n\
         \x20       $completions[$command]\n\
         \x20   }\n\
         }\n",
    );
    format!("{}{block}", &script[..script.len() - anchor.len()])
}

/// The TLS versions `--tls-protocol` names (an allow list, or a deny list with `no_`), as
/// `net::tls::parse_protocols` reads them.
const TLS_PROTOCOLS: &[&str] = &[
    "tlsv1_2",
    "tlsv1_3",
    "tlsv1",
    "tlsv1_1",
    "no_tlsv1",
    "no_tlsv1_1",
    "no_tlsv1_2",
    "no_tlsv1_3",
];

/// Options whose values are a fixed list that their own parser checks (free text to clap): the
/// list, by option id, so that the completions offer it instead of file names (one item of a
/// comma list at a time). For the completions only: parsing is unchanged.
/// `sub` is the subcommand (`""`: the send): `ehlo probe --auth` takes the password
/// mechanisms alone. `check --expect` offers the shorthand fields (`tls.version`, the
/// operator and value typed next) after the `ID=` forms. fish puts a space after a word that
/// does not end in one of `/=@:.,-` and has no way to ask for none, and `--expect tls.version `
/// with its space is no expectation: fish is offered each field with the operators that end in
/// `=` instead ([`fish_field_forms`]), and `tls.ver<TAB>` fills in `tls.version`, the common
/// part, then lists them. `ehlo probe` has no shorthand fields, and the `ID.KEY` forms (either
/// mode) name evidence members that no table lists.
fn value_lists(sub: &str, shell: Shell) -> Vec<(&'static str, Vec<&'static str>)> {
    let mechanisms: Vec<&'static str> = if sub == "probe" {
        crate::smtp::auth::password_mechanisms().collect()
    } else {
        crate::smtp::auth::SUPPORTED
            .iter()
            .copied()
            .chain(crate::smtp::auth::ALIASES.iter().map(|(alias, _)| *alias))
            .collect()
    };
    let sections = crate::cli::dump::section_names();
    // `check` and `probe` take their own ids: `--only`/`--skip ID-GLOB` (repeatable, no
    // comma list), `--expect ID=STATUS` and `check --waive ID-GLOB@DOMAIN` offered up to
    // their separator, the rest typed (no space follows: `with_no_space_after_separators`).
    let ids: &[crate::check::model::CheckDef] = match sub {
        "check" => crate::check::model::CHECKS,
        "probe" => crate::probe::script::PROBES,
        _ => &[],
    };
    let ids_then = |sep: &str| -> Vec<&'static str> {
        // clap takes only `'static` values without its `string` feature; the few KB leaked
        // per generated script are freed at exit.
        ids.iter()
            .map(|d| &*Box::leak(format!("{}{sep}", d.id).into_boxed_str()))
            .collect()
    };
    let plain: Vec<&'static str> = ids.iter().map(|d| d.id).collect();
    let mut lists = vec![
        ("auth", mechanisms.clone()),
        ("auth_optional", mechanisms.clone()),
        ("auth_optional_strict", mechanisms),
        ("silent", vec!["1", "2", "3"]),
        ("dump", sections.clone()),
        ("dump_as_body", sections),
        ("tls_protocol", TLS_PROTOCOLS.to_vec()),
        ("hide", crate::cli::serve_specs::HIDEABLE.to_vec()),
    ];
    if !ids.is_empty() {
        lists.extend([
            ("only", plain.clone()),
            ("skip", plain),
            ("expect", {
                let mut forms = ids_then("=");
                if sub == "check" {
                    let fields = crate::check::select::FIELDS.iter().map(|f| f.0);
                    if shell == Shell::Fish {
                        forms.extend(fields.flat_map(fish_field_forms));
                    } else {
                        forms.extend(fields);
                    }
                }
                forms
            }),
            ("waive", ids_then("@")),
        ]);
    }
    lists
}

/// `check --expect`'s shorthand fields whose value is text, not a number: `>=` and `<=` compare
/// numbers only (`dmarc.p>=reject` is refused), so fish is offered `=` and `!=` for them.
const TEXT_FIELDS: &[&str] = &["dmarc.p", "mtasts.id", "mtasts.mode"];

/// `field` with each operator that ends in `=` (fish adds no space after it): `tls.version=`,
/// `tls.version!=`, `tls.version>=`, `tls.version<=`; `>` and `<` are typed.
fn fish_field_forms(field: &'static str) -> Vec<&'static str> {
    let ops: &[&str] = if TEXT_FIELDS.contains(&field) {
        &["=", "!="]
    } else {
        &["=", "!=", ">=", "<="]
    };
    ops.iter()
        .map(|op| &*Box::leak(format!("{field}{op}").into_boxed_str()))
        .collect()
}

/// `cmd` and its subcommands with [`value_lists`] as the possible values of those options.
fn with_value_lists(mut cmd: Command, sub: &str, shell: Shell) -> Command {
    let lists = value_lists(sub, shell);
    let ids: Vec<String> = cmd
        .get_arguments()
        .filter(|a| a.get_action().takes_values())
        .map(|a| a.get_id().to_string())
        .collect();
    for (id, values) in lists {
        if ids.iter().any(|i| i == id) {
            cmd = cmd.mut_arg(id, |a| {
                a.value_parser(clap::builder::PossibleValuesParser::new(values))
            });
        }
    }
    let subs: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    for sub in subs {
        cmd = cmd.mut_subcommand(&sub, |c| with_value_lists(c, &sub, shell));
    }
    cmd
}

/// `cmd` with each hidden option's names replaced by the one [`HIDDEN`] marker name.
fn without_hidden(mut cmd: Command) -> Command {
    let hidden: Vec<String> = cmd
        .get_arguments()
        .filter(|a| a.is_hide_set() && !a.is_positional())
        .map(|a| a.get_id().to_string())
        .collect();
    // Distinct names in one command; clap takes only `'static` names without its `string`
    // feature.
    const NAMES: [&str; 4] = [
        "ehlo-hidden-option-1",
        "ehlo-hidden-option-2",
        "ehlo-hidden-option-3",
        "ehlo-hidden-option-4",
    ];
    assert!(
        hidden.len() <= NAMES.len(),
        "more hidden options than marker names"
    );
    for (id, long) in hidden.iter().zip(NAMES) {
        cmd = cmd.mut_arg(id, |a| {
            a.short(None).short_alias(None).alias(None).long(long)
        });
    }
    let subs: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    for sub in subs {
        cmd = cmd.mut_subcommand(sub, without_hidden);
    }
    cmd
}

/// The completion script without the lines, words and (bash) case arms naming a marker.
fn drop_hidden(script: &str, shell: Shell) -> String {
    let marker = format!("--{HIDDEN}");
    let mut out = String::with_capacity(script.len());
    let mut in_arm = false;
    for line in script.split_inclusive('\n') {
        if in_arm {
            in_arm = line.trim() != ";;";
            continue;
        }
        if !line.contains(HIDDEN) {
            out.push_str(line);
            continue;
        }
        if shell == Shell::Fish && line.trim_start().starts_with("string join") {
            // The word list of an optspec function.
            let kept: Vec<&str> = line.split(' ').filter(|w| !w.contains(HIDDEN)).collect();
            let mut kept = kept.join(" ");
            if !kept.ends_with('\n') {
                kept.push('\n');
            }
            out.push_str(&kept);
        }
        if shell == Shell::Bash {
            if line.trim_start().starts_with(&marker) && line.trim_end().ends_with(')') {
                // `--marker)` opens a case arm that ends at its `;;`.
                in_arm = true;
                continue;
            }
            // The word list of `opts="…"`.
            let kept: Vec<&str> = line
                .split(' ')
                .filter(|w| !w.trim_end_matches(['"', '\n']).starts_with(&marker))
                .collect();
            let mut kept = kept.join(" ");
            if line.trim_end().ends_with('"') && !kept.trim_end().ends_with('"') {
                kept = kept.trim_end().to_string() + "\"\n";
            }
            out.push_str(&kept);
        }
    }
    out
}

/// `page` with each paragraph of its EXTRA section (the help's closing text) that holds an
/// indented line, its examples and tables, set in no-fill mode (`.nf` … `.fi`): man shows them
/// as `--help` does. Filled, they were joined, justified and hyphenated at the page's width, so
/// an example copied from `man ehlo-serve` read `--re‐` / `quire-auth`, `'smug‐` / `gling.*'`
/// went over two lines, and a replay script line `>  EHLO  me.test` gained spaces. Prose
/// paragraphs (no indented line) are still filled to the reader's width.
fn laid_out_as_written(page: &str) -> String {
    let Some(start) = page
        .find("\n.SH EXTRA\n")
        .map(|at| at + "\n.SH EXTRA\n".len())
    else {
        return page.to_string();
    };
    let end = page[start..]
        .find("\n.SH ")
        .map_or(page.len(), |at| start + at + 1);
    let section: Vec<String> = page[start..end]
        .trim_end_matches('\n')
        .split("\n\n")
        .map(|paragraph| {
            if paragraph.lines().any(|l| l.starts_with(' ')) {
                format!(".nf\n{paragraph}\n.fi")
            } else {
                paragraph.to_string()
            }
        })
        .collect();
    format!(
        "{}{}\n{}",
        &page[..start],
        section.join("\n\n"),
        &page[end..]
    )
}

/// Man pages: `ehlo.1` and one `ehlo-<sub>.1` per subcommand, with their contents.
pub fn man_pages() -> Vec<(String, Vec<u8>)> {
    let cmd = command();
    let mut pages = Vec::new();
    let mut push = |name: String, c: Command| {
        let mut buf = Vec::new();
        // Rendering into a Vec cannot fail with an I/O error.
        if clap_mangen::Man::new(c).render(&mut buf).is_ok() {
            pages.push((
                name,
                laid_out_as_written(&String::from_utf8_lossy(&buf)).into_bytes(),
            ));
        }
    };
    // Without clap's `help` subcommand, which has no page of its own: ehlo.1 lists each
    // subcommand as a reference to its page (`ehlo-serve(1)`).
    let mut top = documented().disable_help_subcommand(true);
    top.build();
    push("ehlo.1".to_string(), top);
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

    /// The examples and tables closing each man page are shown as written, as in `--help`:
    /// every indented line of the EXTRA section is inside a no-fill block, and the man pages
    /// have examples there at all (`ehlo.1`, `ehlo-probe.1`, `ehlo-serve.1`…). Filled, man
    /// joined, justified and hyphenated them (`--re‐quire-auth` over two lines).
    #[test]
    fn man_page_examples_are_not_filled() {
        let mut examples = 0;
        for (name, page) in man_pages() {
            let page = String::from_utf8(page).unwrap();
            let Some(extra) = page.split("\n.SH EXTRA\n").nth(1) else {
                continue;
            };
            let extra = extra.split("\n.SH ").next().unwrap();
            let mut filled = true;
            for line in extra.lines() {
                match line {
                    ".nf" => filled = false,
                    ".fi" => filled = true,
                    l if l.starts_with(' ') => {
                        assert!(!filled, "{name}: a filled example or table line: {l}");
                        examples += usize::from(l.trim_start().starts_with("ehlo "));
                    }
                    _ => {}
                }
            }
            assert!(filled, "{name}: a no-fill block left open");
        }
        assert!(examples >= 20, "only {examples} example lines");
    }

    /// PowerShell's and elvish's scripts offer the option values bash, zsh and fish offer
    /// (clap_complete writes those two with the options alone; no pwsh runs on the test
    /// machines, elvish's is run by the interop suite): the send's value enums and lists, a
    /// subcommand's own (`check --only`), and `-S` apart from `-s` (PowerShell's `switch` is
    /// case-insensitive unless told), after a space or after `--opt=` in the same word.
    #[test]
    fn powershell_and_elvish_offer_option_values() {
        let ps = String::from_utf8(completions(Shell::PowerShell)).unwrap();
        let elv = String::from_utf8(completions(Shell::Elvish)).unwrap();
        for line in [
            "'ehlo --tls-verify' { 'pkix', 'dane' }",
            "'ehlo -S' { '1', '2', '3' }",
            "'ehlo --protocol' { 'SMTP', 'ESMTP', 'LMTP',",
            "'ehlo;check --only' { 'mx.lookup',",
            "switch -CaseSensitive -Exact (\"$sub $previous\")",
            // `--protocol=LM`: the option before the `=`, the values after it.
            "if ($wordToComplete -match '^(-[^=]+)=(.*)$') {",
            "$values.Where{ $_ -like \"$typed*\" }",
            "[CompletionResult]::new(\"$prefix$_\", $_,",
        ] {
            assert!(ps.contains(line), "_ehlo.ps1 lacks {line}");
        }
        assert!(
            !ps.contains("'ehlo -s' {"),
            "_ehlo.ps1 offers values for --server"
        );
        for line in [
            "&'ehlo --tls-verify'= ['pkix' 'dane']",
            "&'ehlo -S'= ['1' '2' '3']",
            "&'ehlo;check --skip'= ['mx.lookup'",
            "set key = $sub' '$words[-1][0..$at]",
            "edit:complex-candidate $prefix$value",
        ] {
            assert!(elv.contains(line), "ehlo.elv lacks {line}");
        }
        let check_ids = crate::check::model::CHECKS.len();
        let only = ps
            .lines()
            .find(|l| l.contains("'ehlo;check --only'"))
            .unwrap();
        assert_eq!(only.matches(", '").count() + 1, check_ids, "{only}");
        let probe = ps
            .lines()
            .find(|l| l.contains("'ehlo;probe --auth'"))
            .unwrap();
        assert!(
            probe.contains("'PLAIN'") && !probe.contains("'XOAUTH2'"),
            "{probe}"
        );
    }

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

    /// Options whose values are a fixed list complete those values, not file names (bash:
    /// the case arm of each option), and every value offered is one the parser takes.
    #[test]
    fn fixed_value_lists_complete_their_values() {
        let bash = String::from_utf8(completions(Shell::Bash)).unwrap();
        let arms = |flag: &str| -> Vec<String> {
            let head = format!("                {flag})\n");
            bash.match_indices(&head)
                .map(|(at, _)| {
                    let body = &bash[at + head.len()..];
                    body[..body.find(";;").unwrap()].to_string()
                })
                .collect()
        };
        for (flag, value) in [
            ("--auth", "SCRAM-SHA-256"),
            ("--auth-optional", "CRAM-MD5"),
            ("--silent", "2"),
            ("--dump", "TRANSPORT"),
            ("--tls-protocol", "tlsv1_3"),
            ("--hide", "PIPELINING"),
        ] {
            let found = arms(flag);
            assert!(!found.is_empty(), "no case arm for {flag}");
            for arm in found {
                assert!(arm.contains("compgen -W"), "{flag}: {arm}");
                assert!(arm.contains(value), "{flag}: {value} not in {arm}");
            }
        }
        for p in TLS_PROTOCOLS {
            assert!(crate::net::tls::parse_protocols(p).is_ok(), "{p}");
        }
        for s in crate::cli::dump::section_names() {
            assert!(crate::cli::dump::parse_sections(s).is_ok(), "{s}");
        }
    }

    /// `check` and `probe` complete their own ids, from the lists they run (no second list):
    /// `--only`/`--skip` the ids, `--expect` `ID=` and `check --waive` `ID@`, with no space
    /// after the separator in bash; `--only` offered nothing before, and bash file names.
    #[test]
    fn check_and_probe_ids_complete_from_their_lists() {
        let bash = String::from_utf8(completions(Shell::Bash)).unwrap();
        let fish = String::from_utf8(completions(Shell::Fish)).unwrap();
        let zsh = String::from_utf8(completions(Shell::Zsh)).unwrap();
        for t in TEXT_FIELDS {
            let known = crate::check::select::FIELDS.iter().any(|f| f.0 == *t);
            assert!(known, "TEXT_FIELDS: {t} is no field");
        }
        let subs = [
            ("check", crate::check::model::CHECKS, true),
            ("probe", crate::probe::script::PROBES, false),
        ];
        for (sub, defs, waive) in subs {
            let start = bash.find(&format!("ehlo__subcmd__{sub})\n")).unwrap();
            let section = &bash[start..];
            let section = &section[..section.find("\n            ;;\n").unwrap()];
            let mut flags = vec![("--only", ""), ("--skip", ""), ("--expect", "=")];
            if waive {
                flags.push(("--waive", "@"));
            }
            for (flag, sep) in flags {
                let head = format!("                {flag})\n");
                let arm = &section[section.find(&head).expect(flag) + head.len()..];
                let arm = &arm[..arm.find(";;").unwrap()];
                let words = arm.split_once("compgen -W \"").expect(flag).1;
                let words: Vec<&str> = words[..words.find('"').unwrap()].split(' ').collect();
                let want: Vec<String> = defs.iter().map(|d| format!("{}{sep}", d.id)).collect();
                // `check --expect` offers its shorthand fields after the ids (not in fish).
                let fields: Vec<String> = if sub == "check" && flag == "--expect" {
                    crate::check::select::FIELDS
                        .iter()
                        .map(|f| f.0.to_string())
                        .collect()
                } else {
                    Vec::new()
                };
                assert_eq!(
                    words,
                    [want.clone(), fields.clone()].concat(),
                    "bash {sub} {flag}"
                );
                assert_eq!(
                    arm.contains("compopt -o nospace"),
                    !sep.is_empty(),
                    "bash {sub} {flag}: {arm}"
                );
                let line = format!(
                    "complete -c ehlo -n \"__fish_ehlo_using_subcommand {sub}\" -l {}",
                    &flag[2..]
                );
                let block = &fish[fish.find(&line).expect(&line)..];
                let block = &block[..block[1..].find("\ncomplete ").unwrap()];
                for id in &want {
                    assert!(
                        block.contains(&format!("{id}\\t")),
                        "fish {sub} {flag}: {id}"
                    );
                }
                // fish adds a space after a candidate unless it ends in one of `/=@:.,-`
                // (fish's complete.cpp, "resolve_auto_space"): each field comes with the
                // operators that end in `=`, never bare (`--expect tls.version ` is nothing).
                for field in &fields {
                    assert!(
                        !block.contains(&format!("\n{field}\\t")),
                        "fish {sub} {flag}: {field} would get a space after it"
                    );
                    assert!(
                        block.contains(&format!("\n{field}=\\t")),
                        "fish {sub} {flag}: {field}= missing"
                    );
                    assert_eq!(
                        block.contains(&format!("\n{field}\\>=\\t")),
                        !TEXT_FIELDS.contains(&field.as_str()),
                        "fish {sub} {flag}: {field}>= is for numbers only"
                    );
                }
                let candidates = block
                    .lines()
                    .skip(1)
                    .chain(
                        block
                            .lines()
                            .next()
                            .and_then(|l| l.split_once("-a \""))
                            .map(|x| x.1),
                    )
                    .filter_map(|l| l.split_once("\\t").map(|(c, _)| c));
                for c in candidates {
                    assert!(
                        sep.is_empty() || c.ends_with(['=', '@']),
                        "fish {sub} {flag}: '{c}' would get a space after it"
                    );
                }
                // zsh (checked by hand in zsh 5.9): no space after the separator either.
                if !sep.is_empty() {
                    let spec = zsh
                        .lines()
                        .filter(|l| l.starts_with(&format!("'*{flag}=[")))
                        .find(|l| l.contains(&want[0]))
                        .expect(flag);
                    assert!(
                        spec.contains(&format!(":{{compadd -S \"\" -- {} ", want[0])),
                        "zsh {sub} {flag}: {spec}"
                    );
                    for field in &fields {
                        assert!(
                            spec.contains(&format!(" {field} "))
                                || spec.contains(&format!(" {field}}}")),
                            "zsh {sub} {flag}: {field}: {spec}"
                        );
                    }
                }
            }
        }
    }

    /// zsh reads the words as clap does: the top level stops taking options at the subcommand
    /// (`ehlo probe --auth <TAB>` completes probe's `--auth`, not the send's), and options
    /// are parsed after a subcommand's repeated positional (`ehlo check example.com --<TAB>`).
    /// Checked by hand in zsh 5.9; here, the specs that make it so.
    #[test]
    fn zsh_specs_leave_options_to_the_subcommand_and_after_positionals() {
        let zsh = String::from_utf8(completions(Shell::Zsh)).unwrap();
        let top = zsh.lines().find(|l| l.contains("_arguments \"")).unwrap();
        assert!(top.contains(r#"-A "-*""#), "{top}");
        assert_eq!(zsh.matches(r#"-A "-*""#).count(), 1);
        assert!(
            !zsh.lines().any(|l| l.starts_with("'*::")),
            "a '*::' positional"
        );
        for positional in ["'*:domains -- ", "'*:text -- "] {
            assert!(zsh.contains(positional), "{positional}");
        }
        // The probe's own mechanism list leaves out the token mechanisms it refuses.
        let probe = &zsh[zsh.find("(probe)").unwrap()..];
        let auth = probe.lines().find(|l| l.starts_with("'--auth=[")).unwrap();
        assert!(
            auth.contains("PLAIN") && !auth.contains("XOAUTH2"),
            "{auth}"
        );
    }

    /// Every page ehlo.1 refers to (`ehlo-serve(1)`) is one of the pages generated.
    #[test]
    fn the_man_page_refers_only_to_pages_that_exist() {
        let pages = man_pages();
        let names: Vec<String> = pages
            .iter()
            .map(|(n, _)| n.trim_end_matches(".1").to_string())
            .collect();
        let top = pages
            .iter()
            .find(|(n, _)| n == "ehlo.1")
            .map(|(_, p)| String::from_utf8_lossy(p).replace("\\-", "-"))
            .expect("ehlo.1");
        let mut seen = 0;
        for (at, _) in top.match_indices("(1)") {
            let name = top[..at]
                .rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                .next()
                .unwrap_or_default();
            if name.starts_with("ehlo-") {
                seen += 1;
                assert!(names.iter().any(|n| n == name), "{name}(1) has no page");
            }
        }
        assert!(seen >= 7, "{seen} references");
    }

    #[test]
    fn outputs_are_deterministic_and_name_the_flags() {
        for (shell, _) in SHELLS {
            let a = completions(*shell);
            assert_eq!(a, completions(*shell));
            let text = String::from_utf8(a).unwrap();
            assert!(text.contains("quit-after"), "{shell}");
            // Hidden options are not offered (they are refused or for tests only).
            assert!(!text.contains(HIDDEN), "{shell}");
            assert!(!text.contains("mta-sts-port"), "{shell}");
            assert!(!text.contains("--g "), "{shell}");
        }
        // `ehlo replay` refuses --helo/--ehlo/--lhlo/--tls (the script holds its own).
        let fish = String::from_utf8(completions(Shell::Fish)).unwrap();
        let replay: Vec<&str> = fish
            .lines()
            .filter(|l| l.contains("__fish_ehlo_using_subcommand replay\""))
            .collect();
        assert!(replay.iter().any(|l| l.contains("-l keep-going")));
        for refused in ["-l helo", "-l ehlo", "-l lhlo", "-l tls ", "-l record"] {
            assert!(!replay.iter().any(|l| l.contains(refused)), "{refused}");
        }
        let bash = String::from_utf8(completions(Shell::Bash)).unwrap();
        assert!(bash.contains(" --quit-after "), "{bash:.100}");
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
