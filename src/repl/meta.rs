//! The REPL's `:` meta-commands (never sent to the server): parsing, the `:raw` escape language,
//! the `:set` settings and the default message of `:send`.

use std::path::PathBuf;
use std::time::Duration;

use crate::render::ExplainLevel;
use crate::smtp::capabilities::Capabilities;

/// One meta-command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Meta {
    /// `:starttls [--insecure] [--ca FILE] [--sni NAME]`.
    StartTls(TlsOptions),
    /// `:auth [MECH [user[:secret]]]`.
    Auth {
        /// Mechanism name; `None` = the strongest one the server offers.
        mechanism: Option<String>,
        /// User name (prompted for when missing and the mechanism needs one).
        user: Option<String>,
        /// The secret after the user's first `:` (curl's `-u user:password`); `None` =
        /// from `--auth-*-file`, the environment or the prompt.
        secret: Option<crate::smtp::auth::Secret>,
    },
    /// `:data [@file]`.
    Data {
        /// Content file; `None` = type it.
        file: Option<PathBuf>,
    },
    /// `:edit` (or `:data --edit`): DATA and a message written in `$VISUAL`/`$EDITOR`.
    Edit,
    /// `:send`: a default message to the current envelope.
    Send,
    /// `:raw "..."`: these exact bytes.
    Raw(Vec<u8>),
    /// `:explain CODE`.
    Explain(String),
    /// `:caps`.
    Caps,
    /// `:reconnect [HOST[:PORT]]`.
    Reconnect(Option<String>),
    /// `:record [FILE]` (no file: stop recording).
    Record(Option<PathBuf>, RecordMode),
    /// `:replay FILE`.
    Replay(PathBuf),
    /// `:status`: the connection, TLS, AUTH, envelope, last reply, SIZE and the settings.
    Status,
    /// `:set [NAME [VALUE]]`.
    Set(SetCommand),
    /// `:help`.
    Help,
    /// `:quit`.
    Quit,
}

/// How `:record FILE` treats an existing file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum RecordMode {
    /// `:record FILE`: refuse an existing file.
    #[default]
    New,
    /// `:record! FILE`: replace it.
    Overwrite,
    /// `:record -a FILE`: add to its end.
    Append,
}

/// What `:set` was asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SetCommand {
    /// `:set`: list every setting.
    List,
    /// `:set NAME`: show one.
    Show(SettingName),
    /// `:set NAME VALUE`: change one.
    Change(Setting),
}

/// The names `:set` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SettingName {
    Timeout,
    Explain,
    Echo,
}

/// One setting with its new value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Setting {
    /// `:set timeout 5`: the per-reply timeout, in `--timeout`'s syntax (N, Ns, Nm, Nh; 0 =
    /// none).
    Timeout(Duration),
    /// `:set explain all|errors|none` (as `--explain`; `on` = all, `off` = none).
    Explain(ExplainLevel),
    /// `:set echo on|off`: the transcript repeats each line sent (` -> MAIL FROM:…`) or not.
    Echo(bool),
}

/// `:set` names and the values offered for each (completion, errors, `:help`).
pub(crate) const SETTINGS: &[(&str, &[&str])] = &[
    ("timeout", &["5", "30", "2m", "0"]),
    ("explain", &["all", "errors", "none"]),
    ("echo", &["on", "off"]),
];

/// The words of an explain level, as `--explain` spells them.
pub(crate) fn explain_word(level: ExplainLevel) -> &'static str {
    match level {
        ExplainLevel::All => "all",
        ExplainLevel::Errors => "errors",
        ExplainLevel::None => "none",
    }
}

fn parse_set(rest: &str) -> Result<SetCommand, String> {
    let mut w = rest.split_whitespace();
    let Some(name) = w.next() else {
        return Ok(SetCommand::List);
    };
    let value = w.next();
    if let Some(extra) = w.next() {
        return Err(format!(":set takes NAME VALUE, not {extra:?} after them"));
    }
    let which = match name.to_ascii_lowercase().as_str() {
        "timeout" => SettingName::Timeout,
        "explain" => SettingName::Explain,
        "echo" => SettingName::Echo,
        other => {
            return Err(format!(
                "unknown setting {other:?}: :set timeout DURATION, :set explain all|errors|none, :set echo on|off"
            ));
        }
    };
    let Some(value) = value else {
        return Ok(SetCommand::Show(which));
    };
    let v = value.to_ascii_lowercase();
    let setting = match which {
        SettingName::Timeout => crate::cli::args::parse_duration(&v)
            .map(Setting::Timeout)
            .map_err(|e| format!(":set timeout: {e}; e.g. :set timeout 5, 90s, 2m, 0 (none)"))?,
        SettingName::Explain => Setting::Explain(match v.as_str() {
            "all" | "on" => ExplainLevel::All,
            "errors" => ExplainLevel::Errors,
            "none" | "off" => ExplainLevel::None,
            _ => {
                return Err(format!(
                    ":set explain takes all, errors or none (as --explain), not {value:?}"
                ));
            }
        }),
        SettingName::Echo => Setting::Echo(match v.as_str() {
            "on" | "yes" | "true" => true,
            "off" | "no" | "false" => false,
            _ => return Err(format!(":set echo takes on or off, not {value:?}")),
        }),
    };
    Ok(SetCommand::Change(setting))
}

/// Completion of a meta-command's arguments (`:set ` names and values) for `line` with the
/// cursor at its end; `None` when the meta-command completes nothing here.
pub(crate) fn complete_args(line: &str, word_start: usize) -> Option<Vec<String>> {
    let mut words = line[..word_start].split_whitespace();
    let name = words.next()?.to_ascii_lowercase();
    let before: Vec<&str> = words.collect();
    let word = line[word_start..].to_ascii_lowercase();
    let offer: Vec<&str> = match (name.as_str(), before.as_slice()) {
        (":set", []) => SETTINGS.iter().map(|(n, _)| *n).collect(),
        (":set", [setting]) => SETTINGS
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(setting))
            .map(|(_, v)| v.to_vec())
            .unwrap_or_default(),
        (":set", _) => Vec::new(),
        _ => return None,
    };
    Some(
        offer
            .into_iter()
            .filter(|c| c.starts_with(&word))
            .map(str::to_string)
            .collect(),
    )
}

/// The options of `:starttls` (for this handshake; they stay until changed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct TlsOptions {
    /// `--insecure`: do not enforce verification (the verdict is still shown).
    pub(crate) insecure: bool,
    /// `--ca FILE`: also trust this CA file or directory.
    pub(crate) ca: Option<PathBuf>,
    /// `--sni NAME`: send this SNI and verify the certificate against it.
    pub(crate) sni: Option<String>,
}

fn parse_tls_options(rest: &str) -> Result<TlsOptions, String> {
    let mut o = TlsOptions::default();
    let mut w = rest.split_whitespace();
    while let Some(a) = w.next() {
        match a {
            "--insecure" | "-k" => o.insecure = true,
            "--ca" => {
                let f = w
                    .next()
                    .ok_or(":starttls --ca needs a FILE (a PEM file or a directory)")?;
                o.ca = Some(PathBuf::from(f));
            }
            "--sni" => {
                let n = w.next().ok_or(":starttls --sni needs a NAME")?;
                let n =
                    crate::net::tls::sni_name(n).map_err(|e| format!(":starttls --sni: {e}"))?;
                o.sni = Some(n);
            }
            other => {
                return Err(format!(
                    ":starttls takes [--insecure] [--ca FILE] [--sni NAME], not {other:?}"
                ));
            }
        }
    }
    Ok(o)
}

/// Meta-command names, for completion and the "unknown" hint.
pub(crate) const NAMES: &[&str] = &[
    ":starttls",
    ":auth ",
    ":data",
    ":edit",
    ":send",
    ":raw \"",
    ":explain ",
    ":caps",
    ":reconnect",
    ":record ",
    ":replay ",
    ":status",
    ":set ",
    ":help",
    ":quit",
];

/// Other names the prompt takes for a meta-command (`:q` for `:quit`): `(alias, name)`.
/// `:help` and README list them from here.
pub(crate) const ALIASES: &[(&str, &str)] = &[
    (":tls", ":starttls"),
    (":connect", ":reconnect"),
    (":h", ":help"),
    (":?", ":help"),
    (":q", ":quit"),
    (":exit", ":quit"),
];

/// SMTP verbs a typed line may start with (RFC 5321 §4.1, RFC 821 §4.1.1's SEND, SOML, SAML
/// and TURN, and the extensions ehlo knows).
const VERBS: &[&str] = &[
    "EHLO", "HELO", "LHLO", "MAIL", "RCPT", "DATA", "BDAT", "RSET", "VRFY", "EXPN", "HELP", "NOOP",
    "QUIT", "STARTTLS", "AUTH", "XCLIENT", "XFORWARD", "ETRN", "ATRN", "BURL", "SEND", "SOML",
    "SAML", "TURN",
];

/// The verbs of [`VERBS`] that `caps` advertises as keywords (ETRN, XCLIENT, XFORWARD): the
/// prompt takes them, so completion offers them once the EHLO reply lists them.
pub(crate) fn advertised_verbs(caps: &Capabilities) -> impl Iterator<Item = &'static str> + '_ {
    VERBS.iter().copied().filter(|v| caps.has(v))
}

/// Is `word` an SMTP verb the REPL knows (any case)?
pub(crate) fn is_verb(word: &str) -> bool {
    VERBS.iter().any(|v| v.eq_ignore_ascii_case(word))
}

/// Can a line that starts with `word` not be an SMTP command to send as typed? A first word
/// that is neither a verb the REPL knows nor a keyword the server advertised (`X-LINK2STATE`,
/// `XEXCH50`) is most likely a password typed or pasted at the wrong prompt (`hunter2`, a
/// base64 blob, or letters only: `hunterpass` typed after the server refused the user name of
/// an `AUTH LOGIN` with 535 and so asked no password): the REPL neither sends, shows, logs nor
/// keeps it. Sending it would put the password on the wire, in the clear before STARTTLS, and
/// in every file the session writes. A test of the server's answer to an unknown verb is sent
/// with `:raw "XYZZY\r\n"`. An empty word (a blank line) is not such a line.
pub(crate) fn cannot_be_command(word: &str, caps: Option<&Capabilities>) -> bool {
    !word.is_empty() && !is_verb(word) && !caps.is_some_and(|c| c.has(word))
}

/// Is `line` an AUTH whose credential is the mask itself (`AUTH PLAIN ********`), as the
/// history keeps a typed AUTH? Recalled and sent, it could only be a failed login (`*` is no
/// base64 character, RFC 4648 §4; RFC 4954 §4), which servers count against the client.
pub(crate) fn is_masked_auth(line: &str) -> bool {
    crate::smtp::manual::redact_typed_line(line).is_some_and(|m| m == line.trim_end())
}

/// An `:auth` user word split as curl splits `-u user:password`: at the first `:`, the part
/// after it the secret (the password, or the token of XOAUTH2/OAUTHBEARER). Nothing after the
/// `:` is no secret (`None`: it is asked for, as without the `:`). A user name that holds a `:`
/// is given at the prompt `:auth MECH` alone asks, or in `EHLO_AUTH_USER`, which are not split.
fn split_user_secret(word: &str) -> (&str, Option<crate::smtp::auth::Secret>) {
    match word.split_once(':') {
        Some((user, secret)) => (
            user,
            (!secret.is_empty()).then(|| crate::smtp::auth::Secret::new(secret)),
        ),
        None => (word, None),
    }
}

/// Why `:auth MECH :password` is refused (the line is not repeated: it holds the password).
const EMPTY_AUTH_USER: &str = ":auth MECH user:password needs the user before the ':' (a user name with a ':' in it: :auth MECH alone asks for it)";

/// Is `line` an `:auth MECH user:********`, as the history keeps one typed with its password?
/// The mask is no password: recalled and entered it is refused, not sent, as a masked AUTH.
pub(crate) fn is_masked_auth_meta(line: &str) -> bool {
    matches!(parse(line), Ok(Meta::Auth { secret: Some(s), .. }) if s.expose() == crate::smtp::auth::MASK)
}

/// Why a line [`is_masked_auth_meta`] is refused.
pub(crate) const MASKED_AUTH_META: &str = "not sent: ******** is the mask the history keeps in place of the password of :auth MECH user:password, not the password: type it again, or :auth MECH user to be asked for it";

/// Does `line` hold the mask (`********`, no `*` on either side) where the history, `--log`
/// and `--record` put a secret seen earlier in the session (`:raw "<base64 of the
/// password>\r\n"` sent after the exchange ended)? Recalled or replayed, it would send the mask
/// in the secret's place: refused, not sent, as a masked AUTH is.
pub(crate) fn holds_mask(line: &str) -> bool {
    let mask = crate::smtp::auth::MASK;
    line.match_indices(mask)
        .any(|(at, _)| !line[..at].ends_with('*') && !line[at + mask.len()..].starts_with('*'))
}

/// Why a line [`holds_mask`] is refused.
pub(crate) const MASKED_SECRET: &str = "not sent: ******** is the mask the history and recordings keep in place of a secret seen earlier in the session, not the secret: type the line again";

/// Why a line [`is_masked_auth`] is refused.
pub(crate) const MASKED_AUTH: &str = "not sent: ******** is the mask the history keeps in place of an AUTH line's credential, not the credential: type the AUTH line again, or use :auth MECHANISM USER";

/// Why a line [`cannot_be_command`] is refused (the line itself is not repeated); a word one
/// edit from a verb (`EHLLO`) gets the verb meant, still without the word.
pub(crate) fn not_a_command(word: &str) -> String {
    let meant = misspelt_verb(word)
        .map(|v| format!(" (a typo of {v}?)"))
        .unwrap_or_default();
    format!(
        "not sent: the line's first word is no SMTP verb ehlo knows or the server advertised{meant}; a password typed at the wrong prompt? It is not repeated, logged, recorded or kept in the history; :raw \"...\\r\\n\" sends any line as typed"
    )
}

/// The verb `verb` is probably a typo of (`EHLLO` → `EHLO`): one edit away (or two letters
/// swapped) from a known verb and not a verb itself; named when such a line is refused.
pub(crate) fn misspelt_verb(verb: &str) -> Option<&'static str> {
    let v = verb.to_ascii_uppercase();
    if v.len() < 3 || !v.bytes().all(|b| b.is_ascii_alphabetic()) || VERBS.contains(&v.as_str()) {
        return None;
    }
    VERBS.iter().copied().find(|k| one_edit(&v, k))
}

/// Is `name` a mechanism `:auth` runs (an alias such as SPA too)?
pub(crate) fn implemented_mechanism(name: &str) -> bool {
    crate::smtp::auth::mechanism(
        &name.to_ascii_uppercase(),
        &crate::smtp::auth::Credentials::default(),
    )
    .is_some()
}

/// `:auth`'s mechanism as an error may name it: only when it is a mechanism the server
/// advertised, one of the well-known SASL names of the IANA registry ehlo does not implement,
/// or one edit from one it does (`PLAN`). Any other word is not repeated: it may be the
/// password typed where the mechanism goes (`:auth USER PASSWORD`, `:auth PASSWORD`).
pub(crate) fn nameable_mechanism(name: &str, offered: &[String]) -> bool {
    const KNOWN: &[&str] = &[
        "ANONYMOUS",
        "EXTERNAL",
        "GSSAPI",
        "GS2-KRB5",
        "KERBEROS_V4",
        "KERBEROS_V5",
        "OTP",
        "SKEY",
        "SECURID",
        "SCRAM-SHA-1",
        "SCRAM-SHA-1-PLUS",
        "SCRAM-SHA-256-PLUS",
        "SCRAM-SHA-512",
        "SCRAM-SHA-512-PLUS",
        "CRAM-SHA256",
        "DIGEST-SHA",
        "9798-U-RSA-SHA1-ENC",
        "EAP-AES128",
        "SAML20",
        "OPENID20",
    ];
    let upper = name.to_ascii_uppercase();
    offered.iter().any(|o| o.eq_ignore_ascii_case(name))
        || KNOWN.contains(&upper.as_str())
        || crate::smtp::auth::SUPPORTED
            .iter()
            .chain(crate::smtp::auth::ALIASES.iter().map(|(alias, _)| alias))
            .any(|k| *k == upper || one_edit(&upper, k))
}

/// One insertion, deletion, substitution or swap of neighbours apart.
fn one_edit(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let p = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let (ra, rb) = (&a[p..], &b[p..]);
    match ra.len() as isize - rb.len() as isize {
        0 => {
            ra[1..] == rb[1..]
                || (ra.len() >= 2 && ra[0] == rb[1] && ra[1] == rb[0] && ra[2..] == rb[2..])
        }
        1 => ra[1..] == *rb,
        -1 => *ra == rb[1..],
        _ => false,
    }
}

/// The `:help` text.
pub(crate) const HELP: &str = "\
Lines are sent as typed, with CRLF. Meta-commands (never sent):
  :starttls [--insecure] [--ca FILE] [--sni NAME]
                       STARTTLS and the TLS handshake (with evidence); a certificate that
                       fails verification reconnects in plain text so you can retry
                       (piped, a failed handshake ends the run: exit 29)
  :auth [MECH [user[:password]]]
                       AUTH with PLAIN, LOGIN, CRAM-MD5, CRAM-SHA1, DIGEST-MD5, NTLM (or
                       SPA, MSN), SCRAM-SHA-256, XOAUTH2, OAUTHBEARER
                       (no MECH: the strongest one offered); user:password is split at the
                       first ':' as curl's -u is (the password, or token, shown and kept as
                       ********, recorded as :auth MECH user); else the secret comes from
                       --auth-password-file, EHLO_AUTH_PASSWORD/EHLO_AUTH_TOKEN or a prompt,
                       never shown or stored; a user name holding a ':' is typed at the
                       prompt :auth MECH alone gives (or EHLO_AUTH_USER); without TLS it
                       asks first
  :data [@file]        DATA and a message (typed until a lone \".\", or from a file),
                       dot-stuffed and CRLF-normalised for you; a message over the SIZE
                       the server advertised (RFC 1870) is not sent without a yes (piped:
                       refused; --strict then exits 25, the DATA phase's code)
  :edit                DATA and a message written in $VISUAL, else $EDITOR, else vi (also
                       :data --edit); it starts with the headers :send would use, in a
                       private temporary file (0600) removed afterwards; saved empty or
                       unchanged, or an editor exiting non-zero, sends nothing
  :send                a small default message to the current envelope
  :raw \"...\"           exact bytes; escapes \\r \\n \\t \\\\ \\\" \\xNN (e.g. :raw \"\\n.\\n\")
  :explain CODE        what a reply code means (550, 5.7.1, \"550 5.7.1\")
  :caps                the parsed EHLO capabilities
  :reconnect [HOST]    close and connect again (to the same server, or HOST[:PORT])
  :record FILE         record a replayable script (:record alone stops); replay it with
                       `ehlo replay FILE --server HOST:PORT`; an existing FILE is refused:
                       :record! FILE replaces it, :record -a FILE appends
  :replay FILE         run a recorded script here (a script cannot itself :replay)
  :status              the session at a glance: server, state, TLS version, cipher and
                       verification verdict, AUTH user (never the secret), the envelope so
                       far, the last reply, the SIZE limit, the settings, the recording
  :set [NAME [VALUE]]  change a setting for this session; alone it lists them:
                         :set timeout 5     per-reply timeout, as --timeout (5, 90s, 2m; 0 none)
                         :set explain all   explain every reply; errors (the default) only
                                            errors and unusual replies; none (on/off = all/none)
                         :set echo off      the transcript stops repeating the lines sent
                                            ( -> MAIL FROM:…); --log and :record keep them
  :help                this text
  :quit                QUIT and leave (Ctrl-D does the same)
Also taken: :tls for :starttls, :connect for :reconnect, :h and :? for :help,
:q and :exit for :quit.
Replies show how long they took, SASL challenges (334) their decoded text. A line whose
first word is no verb ehlo knows or the server advertised (EHLLO, XYZZY, a password typed
at the wrong prompt) is refused unsent, and neither repeated nor kept (:raw sends
anything as typed: :raw \"XYZZY\\r\\n\"); STARTTLS inside a transaction, and a typed
content line whose leading dot the server will strip, are warned about first. A typed
BDAT n [LAST] (CHUNKING, RFC 3030) asks for its n octets first, at a `chunk N left>` prompt:
each line counts with its CRLF (2 octets), a line of exactly the octets left ends the chunk
without one; then line and chunk go out together and its one reply is awaited. A line that
does not fit is not taken (a terminal gives it back to edit; piped, the BDAT is not sent);
nothing of the BDAT is sent before the chunk is whole (Ctrl-C cancels). A 421 means
the server closes the connection. While a reply takes over a second, a terminal shows one
status line, updated in place and erased when the reply is complete or the timeout fires:
waiting 7 s, 9 bytes so far: \"250-mx.exa\" (never in a pipe, with --json, or in a file).
Ctrl-C stops waiting.";

/// Examples of every meta-command (`ehlo repl --help`, the man page).
pub(crate) const EXAMPLES: &str = "\
Examples (the prompt shows the state: ehlo[tls|authed|mail]>):
  $ ehlo repl mx.example.net --helo me.example.org --tls
  > :caps                    the EHLO reply, parsed
  > :auth                    the strongest one offered
  > :auth PLAIN tim          this mechanism and user
  > MAIL FROM:<me@example.org>
  > RCPT TO:<you@example.net>
  > :status                  TLS, AUTH, envelope, SIZE…
  > :data @msg.eml           a file (over SIZE: asked first)
  > :data                    type it; a lone . ends it
  > :edit                    write it in $VISUAL/$EDITOR
  > :send                    a test message to the envelope
  > :starttls --ca ca.pem --sni mx.example.net
  > :starttls --insecure     the verdict, not enforced
  > :set                     the settings: timeout, explain, echo
  > :set timeout 2m          for a slow server
  > :set explain all         explain every reply, not only errors
  > :set echo off            replies only in the transcript
  > :raw \"NOOP\\n\"            a bare LF: what does the server do?
  > :explain 550 5.7.1       what a code means, nothing sent
  > :record session.ehlo     then: ehlo replay session.ehlo
  > :replay session.ehlo     run a recorded script here
  > :reconnect mx2.example.net:587
  > :help
  > :quit
  $ printf 'EHLO me\\nNOOP\\nQUIT\\n' | ehlo repl HOST --json --strict";

/// Parse a line starting with `:`. The error is a one-line hint.
pub(crate) fn parse(line: &str) -> Result<Meta, String> {
    let line = line.trim_start();
    let (name, rest) = match line.split_once([' ', '\t']) {
        Some((n, r)) => (n, r.trim()),
        None => (line, ""),
    };
    let arg = (!rest.is_empty()).then(|| rest.to_string());
    let need = |what: &str| format!("{name} needs {what} (see :help)");
    // A command that takes no argument refuses one rather than do what was not asked
    // (`:send text` sending the default message, `:quit now` leaving).
    let alone = |m: Meta| {
        if rest.is_empty() {
            Ok(m)
        } else {
            Err(format!("{name} takes nothing (see :help)"))
        }
    };
    let lower = name.to_ascii_lowercase();
    let canonical = ALIASES
        .iter()
        .find(|(alias, _)| *alias == lower)
        .map_or(lower.as_str(), |(_, n)| n);
    match canonical {
        ":" => Err("\":\" alone is no meta-command: :help lists them".into()),
        ":starttls" => parse_tls_options(rest).map(Meta::StartTls),
        ":auth" => {
            let mut w = rest.split_whitespace();
            let mechanism = w.next().map(str::to_string);
            let word = w.next();
            if w.next().is_some() {
                return Err(
                    ":auth takes MECH [user[:password]]; without the password it is prompted for"
                        .into(),
                );
            }
            let (user, secret) = match word.map(split_user_secret) {
                None => (None, None),
                Some(("", _)) => return Err(EMPTY_AUTH_USER.into()),
                Some((u, s)) => (Some(u.to_string()), s),
            };
            Ok(Meta::Auth {
                mechanism,
                user,
                secret,
            })
        }
        ":edit" if rest.is_empty() => Ok(Meta::Edit),
        ":edit" => Err(":edit takes nothing: the editor is $VISUAL, else $EDITOR, else vi".into()),
        ":data" => match arg {
            None => Ok(Meta::Data { file: None }),
            Some(a) if a == "--edit" || a == "-e" => Ok(Meta::Edit),
            Some(a) => match a.strip_prefix('@') {
                Some(f) if !f.is_empty() => Ok(Meta::Data {
                    file: Some(PathBuf::from(f)),
                }),
                _ => Err(":data takes @FILE, --edit, or nothing to type the message".into()),
            },
        },
        ":send" => alone(Meta::Send),
        ":raw" => {
            if rest.is_empty() {
                return Err(need("bytes, e.g. :raw \"\\n.\\n\""));
            }
            unescape_arg(rest).map(Meta::Raw)
        }
        // `:explain "550 5.7.1"` as :help shows it: the quotes only group the words.
        ":explain" => arg
            .map(|a| {
                let q = a.strip_prefix('"').and_then(|a| a.strip_suffix('"'));
                Meta::Explain(q.unwrap_or(&a).trim().to_string())
            })
            .filter(|m| *m != Meta::Explain(String::new()))
            .ok_or_else(|| need("a code")),
        ":caps" => alone(Meta::Caps),
        ":reconnect" => Ok(Meta::Reconnect(arg)),
        ":record" => match rest.strip_prefix("-a") {
            Some(f) if f.is_empty() || f.starts_with([' ', '\t']) => match f.trim() {
                "" => Err(":record -a needs a FILE to append to".into()),
                f => Ok(Meta::Record(Some(PathBuf::from(f)), RecordMode::Append)),
            },
            _ => Ok(Meta::Record(arg.map(PathBuf::from), RecordMode::New)),
        },
        ":record!" => arg
            .map(|a| Meta::Record(Some(PathBuf::from(a)), RecordMode::Overwrite))
            .ok_or_else(|| need("a FILE")),
        ":replay" => arg
            .map(|a| Meta::Replay(PathBuf::from(a)))
            .ok_or_else(|| need("a file")),
        ":status" => alone(Meta::Status),
        ":set" => parse_set(rest).map(Meta::Set),
        ":help" => alone(Meta::Help),
        ":quit" => alone(Meta::Quit),
        _ => {
            // Its first three characters (`:` and two), not bytes: `:7\u{cd7}` cut inside a
            // character panicked.
            let head = name.char_indices().nth(3).map_or(name.len(), |(i, _)| i);
            let close: Vec<&str> = NAMES
                .iter()
                .map(|n| n.trim_end_matches([' ', '"']))
                .filter(|n| n.starts_with(&name[..head]))
                .collect();
            Err(if close.is_empty() {
                format!("unknown meta-command {name}: :help lists them")
            } else {
                format!(
                    "unknown meta-command {name}: did you mean {}? (:help lists them)",
                    close.join(" or ")
                )
            })
        }
    }
}

/// The argument of `:raw`: `"..."` (quotes required around text with spaces at the ends) or a
/// bare word, with escapes. Text after the closing quote is an error.
pub(crate) fn unescape_arg(arg: &str) -> Result<Vec<u8>, String> {
    match arg.strip_prefix('"') {
        Some(inner) => {
            let (bytes, consumed) = unescape(inner, true)?;
            if consumed != inner.len() {
                return Err("missing closing quote in :raw \"...\"".into());
            }
            Ok(bytes)
        }
        None => Ok(unescape(arg, false)?.0),
    }
}

/// Decode escapes until the end, or (quoted) the closing `"`. Returns the bytes and how much
/// of `s` was used (including the closing quote).
fn unescape(s: &str, quoted: bool) -> Result<(Vec<u8>, usize), String> {
    let mut out = Vec::new();
    let mut it = s.char_indices();
    while let Some((i, c)) = it.next() {
        match c {
            '"' if quoted => {
                let used = i + 1;
                if !s[used..].trim().is_empty() {
                    return Err(format!(
                        "unexpected text after the closing quote: {:?}",
                        &s[used..]
                    ));
                }
                return Ok((out, s.len()));
            }
            '\\' => {
                let Some((_, e)) = it.next() else {
                    return Err("a lone \\ at the end: write \\\\ for a backslash".into());
                };
                match e {
                    'r' => out.push(b'\r'),
                    'n' => out.push(b'\n'),
                    't' => out.push(b'\t'),
                    '0' => out.push(0),
                    '\\' => out.push(b'\\'),
                    '"' => out.push(b'"'),
                    'x' => {
                        let hex: String = it.by_ref().take(2).map(|(_, h)| h).collect();
                        let v = (hex.len() == 2)
                            .then(|| u8::from_str_radix(&hex, 16).ok())
                            .flatten()
                            .ok_or_else(|| format!("\\x needs two hex digits, got {hex:?}"))?;
                        out.push(v);
                    }
                    other => {
                        return Err(format!(
                            "unknown escape \\{other}: use \\r \\n \\t \\0 \\\\ \\\" or \\xNN"
                        ));
                    }
                }
            }
            _ => {
                let mut b = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
            }
        }
    }
    if quoted {
        return Err("missing closing quote in :raw \"...\"".into());
    }
    Ok((out, s.len()))
}

/// A typed `:raw` line whose bytes hold `AUTH MECH <initial response>`, with the response
/// masked (for the history); an `:auth` line whose mechanism ehlo does not implement, masked
/// after `:auth` (`:auth USER PASSWORD`, the mechanism left out, or a password typed in its
/// place); `None` for every other line.
pub(crate) fn redact_raw_line(line: &str) -> Option<String> {
    let bytes = match parse(line) {
        Ok(Meta::Raw(bytes)) => bytes,
        Ok(Meta::Auth {
            mechanism: Some(m), ..
        }) if !implemented_mechanism(&m) => {
            let name = line.split_whitespace().next().unwrap_or(":auth");
            return Some(format!("{name} {}", crate::smtp::auth::MASK));
        }
        // `:auth MECH user:password`: the password masked, the user kept (as the recording's
        // `:auth MECH user` step and `:status` name it).
        Ok(Meta::Auth {
            mechanism: Some(m),
            user: Some(u),
            secret: Some(_),
        }) => {
            let name = line.split_whitespace().next().unwrap_or(":auth");
            return Some(format!("{name} {m} {u}:{}", crate::smtp::auth::MASK));
        }
        // `:auth MECH :password`, refused: all after the mechanism masked.
        Err(e) if e == EMPTY_AUTH_USER => {
            let mut w = line.split_whitespace();
            let name = w.next().unwrap_or(":auth");
            let mech = w.next().unwrap_or("");
            return Some(format!("{name} {mech} {}", crate::smtp::auth::MASK));
        }
        // A quoting slip (no closing quote, text after it, a bad escape) or a misspelt name
        // (`:rwa`): nothing was sent, but the line as typed is still drawn and kept in the
        // history.
        Err(_) if line.trim_start().starts_with(':') => return mask_unread_raw_auth(line),
        _ => return None,
    };
    let (masked, redacted) = crate::smtp::manual::mask_raw_auth(&String::from_utf8_lossy(&bytes));
    redacted.then(|| format!(":raw {}", escape(masked.as_bytes())))
}

/// A meta-command line that could not be read (a `:raw` whose argument has a slip, or a
/// misspelt name), as it may be shown or stored: when it holds
/// `AUTH MECH` and text after the mechanism (an initial response, or SASL responses after
/// `\r\n`), that text is masked whole; `None` when there is nothing to mask. Escapes are not
/// decoded (they may be what is wrong), so `\t` counts as a separator and `\r\n` ends a word.
fn mask_unread_raw_auth(line: &str) -> Option<String> {
    let upper = line.to_ascii_uppercase();
    let at = upper.find("AUTH")?;
    let after = at + "AUTH".len();
    let rest = &line[after..];
    // The separators between AUTH and the mechanism: blanks or `\t` escapes.
    let mut i = 0;
    loop {
        if rest[i..].starts_with([' ', '\t']) {
            i += 1;
        } else if rest[i..].starts_with("\\t") {
            i += 2;
        } else {
            break;
        }
    }
    if i == 0 {
        return None;
    }
    let mech = rest[i..]
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .map_or(rest.len(), |n| i + n);
    if mech == i {
        return None;
    }
    // What follows the mechanism, without the line ends and closing quote that carry nothing.
    let tail = rest[mech..]
        .replace("\\r", "")
        .replace("\\n", "")
        .replace('"', "");
    if tail.trim().is_empty() {
        return None;
    }
    Some(format!(
        "{} {}",
        &line[..after + mech],
        crate::smtp::auth::MASK
    ))
}

/// Quote bytes back into the `:raw` language (for recordings).
pub(crate) fn escape(bytes: &[u8]) -> String {
    let mut s = String::from("\"");
    for &b in bytes {
        match b {
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            b'\t' => s.push_str("\\t"),
            b'\\' => s.push_str("\\\\"),
            b'"' => s.push_str("\\\""),
            0x20..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s.push('"');
    s
}

/// The envelope typed so far (for `:send`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Envelope {
    /// MAIL FROM address.
    pub(crate) from: Option<String>,
    /// RCPT TO addresses.
    pub(crate) rcpts: Vec<String>,
}

impl Envelope {
    /// Follow a typed command line: MAIL starts an envelope, RCPT adds to it, RSET/EHLO/HELO
    /// clear it.
    pub(crate) fn observe(&mut self, line: &str) {
        let upper = line.to_ascii_uppercase();
        if upper.starts_with("MAIL FROM:") {
            self.from = Some(path(&line[10..]));
            self.rcpts.clear();
        } else if upper.starts_with("RCPT TO:") {
            self.rcpts.push(path(&line[8..]));
        } else if ["RSET", "EHLO", "HELO", "LHLO"]
            .iter()
            .any(|v| upper.split_whitespace().next() == Some(v))
        {
            *self = Envelope::default();
        }
    }
}

impl Envelope {
    /// The server refused a typed MAIL or RCPT (`line`): a refused sender leaves no envelope,
    /// a refused recipient is not part of it (`:status`, `:send`).
    pub(crate) fn refused(&mut self, line: &str) {
        let upper = line.to_ascii_uppercase();
        if upper.starts_with("MAIL FROM:") {
            *self = Envelope::default();
        } else if upper.starts_with("RCPT TO:") {
            let addr = path(&line[8..]);
            if let Some(i) = self.rcpts.iter().rposition(|r| *r == addr) {
                self.rcpts.remove(i);
            }
        }
    }
}

/// The address inside `<…>` (or the first word).
fn path(s: &str) -> String {
    let s = s.trim_start();
    match s.strip_prefix('<').and_then(|r| r.split_once('>')) {
        Some((p, _)) => p.to_string(),
        None => s.split_whitespace().next().unwrap_or("").to_string(),
    }
}

/// A small default message (`:send`): Date, From, To, Subject, Message-Id and a line of text.
pub(crate) fn default_message(env: &Envelope, hostname: &str, date: &str, unique: &str) -> Vec<u8> {
    let mut m = message_headers(env, hostname, date, unique);
    m.extend_from_slice(b"\nThis is a test mailing sent by ehlo repl.\n");
    m
}

/// The header block of [`default_message`] (what `:edit` starts from), without the blank line.
pub(crate) fn message_headers(env: &Envelope, hostname: &str, date: &str, unique: &str) -> Vec<u8> {
    let from = env.from.clone().unwrap_or_default();
    let from = if from.is_empty() {
        format!("<>@{hostname}")
    } else {
        from
    };
    let to = if env.rcpts.is_empty() {
        "undisclosed-recipients:;".to_string()
    } else {
        env.rcpts.join(", ")
    };
    format!(
        "Date: {date}\nFrom: {from}\nTo: {to}\nSubject: test {date}\nMessage-Id: <{unique}@{hostname}>\nX-Mailer: ehlo repl\n"
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An unknown meta-command with a character of several bytes in its first three is
    /// refused, not a panic (typed `:7\u{cd7}` ended the REPL; a replay script's step too).
    #[test]
    fn an_unknown_meta_command_of_wide_characters_is_refused() {
        for line in [":7\u{cd7}", ":\u{e9}\u{e9}", ":\u{1f600}x"] {
            assert!(
                parse(line).unwrap_err().contains("unknown meta-command"),
                "{line}"
            );
        }
    }

    #[test]
    fn only_an_auth_whose_credential_is_the_mask_is_the_history_s_copy() {
        assert!(is_masked_auth("AUTH PLAIN ********"));
        assert!(is_masked_auth("auth ********"));
        assert!(!is_masked_auth("AUTH PLAIN AHRpbQBodW50ZXIy"));
        assert!(!is_masked_auth("AUTH PLAIN ="));
        assert!(!is_masked_auth("AUTH LOGIN"));
        assert!(!is_masked_auth("NOOP ********"));
    }

    /// Commands that take nothing refuse an argument (`:send text` sent the default message,
    /// `:quit now` left), and a lone `:` is named as such, not answered with every command.
    #[test]
    fn commands_without_arguments_refuse_one() {
        for (line, meta) in [
            (":send", Meta::Send),
            (":caps", Meta::Caps),
            (":status", Meta::Status),
            (":help", Meta::Help),
            (":quit", Meta::Quit),
        ] {
            assert_eq!(parse(line), Ok(meta));
            assert_eq!(
                parse(&format!("{line} extra")),
                Err(format!("{line} takes nothing (see :help)"))
            );
        }
        let lone = parse(":").unwrap_err();
        assert!(lone.starts_with("\":\" alone"), "{lone}");
        assert!(!lone.contains("did you mean"), "{lone}");
    }

    /// What the history keeps of a `:raw` line: an AUTH's initial response and every line after
    /// an AUTH (its SASL responses) masked, tabs or not.
    #[test]
    fn raw_lines_with_sasl_responses_are_masked_for_the_history() {
        let p = "U2VrcjN0UFc5OQ==";
        let b = "AGFsaWNlAFNla3IzdFBXOTk=";
        for (line, want) in [
            (
                format!(r#":raw "AUTH LOGIN\r\nYWxpY2U=\r\n{p}\r\n""#),
                Some(r#":raw "AUTH LOGIN\r\n********\r\n********\r\n""#),
            ),
            (
                format!(r#":raw "AUTH PLAIN\r\n{b}\r\n""#),
                Some(r#":raw "AUTH PLAIN\r\n********\r\n""#),
            ),
            (
                format!(r#":raw "AUTH\tPLAIN\t{b}\r\n""#),
                Some(r#":raw "AUTH\tPLAIN\t********\r\n""#),
            ),
            (r#":raw "AUTH LOGIN\r\n""#.to_string(), None),
            (r#":raw "NOOP\r\n""#.to_string(), None),
        ] {
            assert_eq!(redact_raw_line(&line).as_deref(), want, "{line}");
        }
    }

    /// A `:raw` line with a quoting slip sends nothing, but is drawn and kept in the history as
    /// typed: an AUTH's response in it is masked all the same. It used to be kept in clear
    /// (`:raw "AUTH PLAIN <base64 of user and password>` in the history file).
    #[test]
    fn raw_lines_that_cannot_be_read_are_masked_for_the_history() {
        let b = "AGFsaWNlAFNla3IzdFBXOTk=";
        for (line, want) in [
            // No closing quote.
            (
                format!(r#":raw "AUTH PLAIN {b}"#),
                Some(r#":raw "AUTH PLAIN ********"#),
            ),
            // Text after the closing quote.
            (
                format!(r#":raw "AUTH PLAIN {b}\r\n" x"#),
                Some(r#":raw "AUTH PLAIN ********"#),
            ),
            // A bad escape, SASL responses after the line end, lower case, `\t` separators.
            (
                format!(r#":RAW "auth\tlogin\r\nYWxpY2U=\r\n{b}\q"#),
                Some(r#":RAW "auth\tlogin ********"#),
            ),
            (r#":raw "AUTH LOGIN\r\n"#.to_string(), None),
            (r#":raw "NOOP\q""#.to_string(), None),
            // A misspelt `:raw`.
            (
                format!(r#":rwa "AUTH PLAIN {b}""#),
                Some(r#":rwa "AUTH PLAIN ********"#),
            ),
        ] {
            assert!(parse(&line).is_err(), "{line}");
            let got = redact_raw_line(&line);
            assert_eq!(got.as_deref(), want, "{line}");
            assert!(!got.unwrap_or_default().contains(b), "{line}");
        }
    }

    /// `:help` names every mechanism `:auth` runs, and the other names it takes. It named
    /// six of ten: CRAM-SHA1, DIGEST-MD5 and NTLM (SPA, MSN) were missing.
    #[test]
    fn help_names_every_auth_mechanism() {
        let auth = HELP
            .split("\n  :data")
            .next()
            .and_then(|h| h.split("  :auth").nth(1))
            .unwrap();
        let names = crate::smtp::auth::SUPPORTED.iter().copied().chain(
            crate::smtp::auth::ALIASES
                .iter()
                .flat_map(|(a, b)| [*a, *b]),
        );
        for name in names {
            assert!(
                auth.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                    .any(|w| w == name),
                "{name} missing from :help's :auth: {auth}"
            );
        }
    }

    #[test]
    fn typos_of_verbs_are_caught_and_verbs_are_not() {
        assert_eq!(misspelt_verb("EHLLO"), Some("EHLO"));
        assert_eq!(misspelt_verb("ehol"), Some("EHLO"));
        assert_eq!(misspelt_verb("MIAL"), Some("MAIL"));
        assert_eq!(misspelt_verb("RCTP"), Some("RCPT"));
        assert_eq!(misspelt_verb("STARTLS"), Some("STARTTLS"));
        assert_eq!(misspelt_verb("QUITT"), Some("QUIT"));
        for ok in [
            "EHLO", "ehlo", "STARTTLS", "XYZZY", "FOOBAR", "LATER", "SLOW", "<a>", "",
        ] {
            assert_eq!(misspelt_verb(ok), None, "{ok}");
        }
    }

    /// A first word that is no verb ehlo knows nor a keyword the server advertised cannot be a
    /// command, letters only or not (a letters-only password typed at the command prompt went
    /// out as one); a verb, an RFC 821 one or an advertised extension can.
    #[test]
    fn words_that_cannot_be_commands() {
        let caps = Capabilities::from_reply(&crate::smtp::reply::Reply::new(
            250,
            &["x.test", "X-LINK2STATE", "XEXCH50"],
        ));
        for no in [
            "hunter2",
            "Wrong-Prompt-42",
            "AGFsaWNl+/=",
            ".",
            "250",
            "x.y",
            "hunterpass",
            "XYZZY",
            "EHLLO",
        ] {
            assert!(cannot_be_command(no, Some(&caps)), "{no}");
        }
        for yes in [
            "",
            "EHLO",
            "ehlo",
            "turn",
            "Soml",
            "X-LINK2STATE",
            "xexch50",
        ] {
            assert!(!cannot_be_command(yes, Some(&caps)), "{yes}");
        }
        assert!(cannot_be_command("XEXCH50", None));
        // The reason never repeats the word; a typo gets the verb meant.
        assert!(!not_a_command("hunterpass").contains("hunterpass"));
        assert!(not_a_command("EHLLO").contains("(a typo of EHLO?)"));
        assert!(!not_a_command("EHLLO").contains("EHLLO"));
        assert!(!not_a_command("hunterpass").contains("typo"));
    }

    /// `:auth` with a mechanism ehlo does not implement is kept masked (it may be `:auth USER
    /// PASSWORD`), and named in errors only when it surely is a mechanism.
    #[test]
    fn unknown_auth_mechanisms_are_masked_and_named_only_when_sure() {
        let m = crate::smtp::auth::MASK;
        assert_eq!(
            redact_raw_line(":auth tim S3cret-pw"),
            Some(format!(":auth {m}"))
        );
        assert_eq!(
            redact_raw_line(":auth S3cret-pw"),
            Some(format!(":auth {m}"))
        );
        assert_eq!(redact_raw_line(":auth PLAIN tim"), None);
        // The password of curl's `user:password` form is masked, the user kept; it was kept
        // whole in the history and on the screen.
        assert_eq!(
            redact_raw_line(":auth  LOGIN alice:hunter2:x").as_deref(),
            Some(":auth LOGIN alice:********")
        );
        assert_eq!(redact_raw_line(":auth PLAIN alice:"), None);
        assert_eq!(
            redact_raw_line(":auth PLAIN :hunter2").as_deref(),
            Some(":auth PLAIN ********")
        );
        // What the history keeps, recalled, is refused: the mask is no password.
        assert!(is_masked_auth_meta(":auth LOGIN alice:********"));
        assert!(!is_masked_auth_meta(":auth LOGIN alice:hunter2"));
        assert!(!is_masked_auth_meta(":auth LOGIN alice"));
        assert_eq!(redact_raw_line(":auth spa tim"), None);
        assert_eq!(redact_raw_line(":auth"), None);
        let offered = vec!["X-WEIRD".to_string()];
        for named in ["GSSAPI", "x-weird", "PLAN", "CRAM-MD4", "SCRAM-SHA-1"] {
            assert!(nameable_mechanism(named, &offered), "{named}");
        }
        for hidden in ["S3cret-pw", "tim", "FOO", "hunter2"] {
            assert!(!nameable_mechanism(hidden, &offered), "{hidden}");
        }
    }

    #[test]
    fn raw_escapes() {
        assert_eq!(unescape_arg("\"\\n.\\n\"").unwrap(), b"\n.\n");
        assert_eq!(
            unescape_arg("\"a\\r\\n\\t\\\\\\\"\\x00\\xFF\"").unwrap(),
            b"a\r\n\t\\\"\x00\xff"
        );
        assert_eq!(unescape_arg("NOOP\\r\\n").unwrap(), b"NOOP\r\n");
        assert_eq!(unescape_arg("\"é\"").unwrap(), "é".as_bytes());
        assert!(unescape_arg("\"\\q\"").is_err());
        assert!(unescape_arg("\"\\x4\"").is_err());
        assert!(unescape_arg("\"\\xZZ\"").is_err());
        assert!(unescape_arg("\"abc").is_err());
        assert!(unescape_arg("\"abc\" tail").is_err());
        assert!(unescape_arg("abc\\").is_err());
    }

    #[test]
    fn escape_round_trips() {
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(unescape_arg(&escape(&all)).unwrap(), all);
    }

    #[test]
    fn metas() {
        assert_eq!(
            parse(":starttls"),
            Ok(Meta::StartTls(TlsOptions::default()))
        );
        assert_eq!(
            parse(":starttls --insecure --ca /x.pem --sni mx.test"),
            Ok(Meta::StartTls(TlsOptions {
                insecure: true,
                ca: Some("/x.pem".into()),
                sni: Some("mx.test".into())
            }))
        );
        // An IP address, IPv6 too, is taken (and not sent as SNI); it was refused as "not a
        // host name" while IPv4 was taken.
        for ip in ["10.0.0.1", "::1", "[::1]"] {
            assert_eq!(
                parse(&format!(":starttls --sni {ip}")),
                Ok(Meta::StartTls(TlsOptions {
                    sni: Some(ip.into()),
                    ..TlsOptions::default()
                }))
            );
        }
        assert!(parse(":starttls --ca").is_err());
        assert!(
            parse(":starttls --bogus")
                .unwrap_err()
                .contains("--insecure")
        );
        assert_eq!(
            parse(":auth plain tim"),
            Ok(Meta::Auth {
                mechanism: Some("plain".into()),
                user: Some("tim".into()),
                secret: None
            })
        );
        assert_eq!(
            parse(":auth"),
            Ok(Meta::Auth {
                mechanism: None,
                user: None,
                secret: None
            })
        );
        assert!(parse(":auth PLAIN tim secret").is_err());
        // curl's `user:password`: split at the first ':', the rest (colons too) the secret; it
        // was all taken for the user name. Nothing after the ':' is no secret (asked for).
        assert_eq!(
            parse(":auth LOGIN alice:se:cret"),
            Ok(Meta::Auth {
                mechanism: Some("LOGIN".into()),
                user: Some("alice".into()),
                secret: Some(crate::smtp::auth::Secret::new("se:cret"))
            })
        );
        assert_eq!(
            parse(":auth PLAIN alice:"),
            Ok(Meta::Auth {
                mechanism: Some("PLAIN".into()),
                user: Some("alice".into()),
                secret: None
            })
        );
        let e = parse(":auth PLAIN :hunter2").unwrap_err();
        assert!(!e.contains("hunter2"), "{e}");
        assert_eq!(
            parse(":data @/tmp/m.eml"),
            Ok(Meta::Data {
                file: Some("/tmp/m.eml".into())
            })
        );
        assert_eq!(parse(":data"), Ok(Meta::Data { file: None }));
        assert_eq!(parse(":edit"), Ok(Meta::Edit));
        assert_eq!(parse(":data --edit"), Ok(Meta::Edit));
        assert!(parse(":edit x").is_err());
        assert!(parse(":data x").is_err());
        assert_eq!(parse(":raw \"\\n\""), Ok(Meta::Raw(b"\n".to_vec())));
        assert!(parse(":raw \"\\z\"").is_err());
        assert_eq!(parse(":explain 5.7.1"), Ok(Meta::Explain("5.7.1".into())));
        assert_eq!(parse(":record"), Ok(Meta::Record(None, RecordMode::New)));
        assert_eq!(
            parse(":record! f.ehlo"),
            Ok(Meta::Record(Some("f.ehlo".into()), RecordMode::Overwrite))
        );
        assert_eq!(
            parse(":record -a f.ehlo"),
            Ok(Meta::Record(Some("f.ehlo".into()), RecordMode::Append))
        );
        assert!(parse(":record -a").is_err());
        assert_eq!(
            parse(":explain \"550 5.7.1\""),
            Ok(Meta::Explain("550 5.7.1".into()))
        );
        assert_eq!(parse(":QUIT"), Ok(Meta::Quit));
        let e = parse(":stattls").unwrap_err();
        assert!(e.contains(":starttls"), "{e}");
        assert!(parse(":zzz").unwrap_err().contains(":help"));
    }

    #[test]
    fn set_names_values_and_errors() {
        use std::time::Duration;
        assert_eq!(parse(":set"), Ok(Meta::Set(SetCommand::List)));
        assert_eq!(
            parse(":set Echo"),
            Ok(Meta::Set(SetCommand::Show(SettingName::Echo)))
        );
        assert_eq!(
            parse(":set timeout 5"),
            Ok(Meta::Set(SetCommand::Change(Setting::Timeout(
                Duration::from_secs(5)
            ))))
        );
        assert_eq!(
            parse(":set timeout 2m"),
            Ok(Meta::Set(SetCommand::Change(Setting::Timeout(
                Duration::from_secs(120)
            ))))
        );
        assert_eq!(
            parse(":set explain off"),
            Ok(Meta::Set(SetCommand::Change(Setting::Explain(
                ExplainLevel::None
            ))))
        );
        assert_eq!(
            parse(":set explain ALL"),
            Ok(Meta::Set(SetCommand::Change(Setting::Explain(
                ExplainLevel::All
            ))))
        );
        assert_eq!(
            parse(":set echo off"),
            Ok(Meta::Set(SetCommand::Change(Setting::Echo(false))))
        );
        assert!(
            parse(":set timeout -1")
                .unwrap_err()
                .contains(":set timeout")
        );
        assert!(parse(":set echo 2").unwrap_err().contains("on or off"));
        assert!(parse(":set explain some").unwrap_err().contains("errors"));
        assert!(
            parse(":set colour on")
                .unwrap_err()
                .contains("unknown setting")
        );
        assert!(parse(":set echo on now").is_err());
        assert_eq!(parse(":status"), Ok(Meta::Status));
    }

    #[test]
    fn set_completes_names_then_values() {
        assert_eq!(
            complete_args(":set ", 5),
            Some(vec!["timeout".into(), "explain".into(), "echo".into()])
        );
        assert_eq!(
            complete_args(":set e", 5),
            Some(vec!["explain".into(), "echo".into()])
        );
        assert_eq!(
            complete_args(":set echo o", 10),
            Some(vec!["on".into(), "off".into()])
        );
        assert_eq!(
            complete_args(":set explain ", 13),
            Some(vec!["all".into(), "errors".into(), "none".into()])
        );
        assert_eq!(complete_args(":set echo on ", 13), Some(vec![]));
        assert_eq!(complete_args(":data ", 6), None);
    }

    /// The man page shows every meta-command in use.
    #[test]
    fn examples_show_every_meta_command() {
        for n in NAMES {
            let n = n.trim_end_matches([' ', '"']);
            assert!(EXAMPLES.contains(&format!("  > {n}")), "{n} has no example");
        }
    }

    /// `:help` is also the EXTRA section of `man ehlo-repl` (the REPL's long help): every
    /// meta-command is in it.
    #[test]
    fn help_names_every_meta_command() {
        for n in NAMES {
            let n = n.trim_end_matches([' ', '"']);
            assert!(HELP.contains(&format!("  {n}")), "{n} missing from :help");
        }
        for extra in [
            ":record!",
            ":record -a",
            "--ca FILE",
            "--sni NAME",
            "--insecure",
        ] {
            assert!(HELP.contains(extra), "{extra} missing from :help");
        }
    }

    /// README's `ehlo repl` row, which names the meta-commands and their aliases.
    fn readme_repl_row() -> &'static str {
        include_str!("../../README.md")
            .lines()
            .find(|l| l.starts_with("| `ehlo repl HOST"))
            .expect("README has the ehlo repl row")
    }

    /// Every alias the prompt takes is what its command is, and `:help` and README's `ehlo repl`
    /// row name it (neither listed `:tls`, `:connect`, `:h`, `:?`, `:q` or `:exit`).
    #[test]
    fn help_and_readme_name_every_alias() {
        let row = readme_repl_row();
        for (alias, name) in ALIASES {
            assert!(NAMES.iter().any(|n| n.trim_end() == *name), "{name}");
            for arg in ["", " x"] {
                let (a, n) = (format!("{alias}{arg}"), format!("{name}{arg}"));
                // The same command, or refused alike (the reason names the word typed).
                let same = |l: &str| parse(l).map_err(|_| ());
                assert_eq!(same(&a), same(&n), "{a}");
                let upper = format!("{}{arg}", alias.to_uppercase());
                assert_eq!(same(&upper), same(&n), "{upper}");
            }
            // `:q and :exit for :quit`: the alias, then (maybe after others) its command.
            let said = HELP
                .split(&format!(" {alias} "))
                .nth(1)
                .or_else(|| HELP.split(&format!("\n{alias} ")).nth(1));
            assert!(
                said.and_then(|rest| rest.split([',', '.']).next())
                    .is_some_and(|clause| clause.ends_with(&format!("for {name}"))),
                "{alias} missing from :help"
            );
            assert!(
                row.contains(&format!("`{alias}`")),
                "{alias} missing from README's ehlo repl row"
            );
        }
    }

    /// README's `ehlo repl` row names every meta-command `:help` lists (`:caps`, `:reconnect`,
    /// `:replay`, `:help` and `:quit` were missing from it).
    #[test]
    fn readme_names_every_meta_command() {
        let row = readme_repl_row();
        for n in NAMES {
            let n = n.trim_end_matches([' ', '"']);
            assert!(
                row.contains(&format!("`{n}`")) || row.contains(&format!("`{n} ")),
                "{n} missing from README's ehlo repl row"
            );
        }
    }

    #[test]
    fn envelope_and_default_message() {
        let mut e = Envelope::default();
        e.observe("mail from:<a@b.test> SIZE=10");
        e.observe("RCPT TO:<c@d.test>");
        e.observe("rcpt to: <e@f.test>");
        assert_eq!(e.from.as_deref(), Some("a@b.test"));
        assert_eq!(e.rcpts, vec!["c@d.test", "e@f.test"]);
        let m = String::from_utf8(default_message(&e, "h.test", "Mon, 1 Jan 2024", "1.2")).unwrap();
        assert!(m.contains("From: a@b.test\nTo: c@d.test, e@f.test\n"));
        assert!(m.contains("Message-Id: <1.2@h.test>"));
        e.refused("RCPT TO:<c@d.test> NOTIFY=NEVER");
        assert_eq!(e.rcpts, vec!["e@f.test"]);
        e.refused("RCPT TO:<x@y.test>");
        assert_eq!(e.rcpts, vec!["e@f.test"]);
        e.observe("RSET");
        assert_eq!(e, Envelope::default());
    }
}
