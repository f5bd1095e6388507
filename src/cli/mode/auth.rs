//! AUTH flags → the session's `AuthPlan`: mechanisms, swaks's `--auth-map`/`--auth-extra`, and the
//! secrets from flags, files, `~/.netrc` or a prompt.

use super::{Environment, strip_angles, usage};
use crate::cli::secrets;
use crate::error::Error;
use crate::smtp::auth::{Credentials, SUPPORTED, Secret};
use crate::smtp::client::AuthRequirement;

pub(super) fn mechanisms(
    flag: &str,
    list: &[String],
    aliases: &[(String, String)],
) -> Result<Vec<String>, Error> {
    let mut out = Vec::new();
    for m in list {
        let m = m.trim().to_ascii_uppercase();
        if m.is_empty() {
            continue;
        }
        let alias = aliases.iter().any(|(a, _)| *a == m)
            || crate::smtp::auth::ALIASES.iter().any(|(a, _)| *a == m);
        // swaks exits 10 ("No auth types supported", its exit for a mechanism it cannot run
        // locally) when no type it can run is left; ehlo refuses the list at the first.
        if !alias && !SUPPORTED.contains(&m.as_str()) {
            return Err(Error::Prerequisite(format!(
                "{flag}: ehlo does not implement {m} (it knows {})",
                SUPPORTED.join(", ")
            )));
        }
        if !out.contains(&m) {
            out.push(m);
        }
    }
    Ok(out)
}

/// `--auth-map ALIAS=TYPE,…` (swaks): upper-case pairs whose TYPE ehlo implements.
pub(super) fn auth_map(list: &[String]) -> Result<Vec<(String, String)>, Error> {
    let mut out = Vec::new();
    for item in list.iter().map(|i| i.trim()).filter(|i| !i.is_empty()) {
        let Some((alias, mech)) = item.split_once('=') else {
            return Err(usage(format!(
                "--auth-map: '{item}' is not ALIAS=TYPE (e.g. --auth-map SPA=NTLM)"
            )));
        };
        let (alias, mech) = (
            alias.trim().to_ascii_uppercase(),
            mech.trim().to_ascii_uppercase(),
        );
        if alias.is_empty() || !SUPPORTED.contains(&mech.as_str()) {
            return Err(usage(format!(
                "--auth-map: '{item}': TYPE must be a mechanism ehlo implements ({})",
                SUPPORTED.join(", ")
            )));
        }
        // A mechanism's own name (or a built-in alias) cannot name another one: `PLAIN=LOGIN`
        // ran LOGIN's exchange after `AUTH PLAIN`, which no server reads as either; swaks keeps
        // its own map for those names and runs PLAIN.
        let builtin = crate::smtp::auth::ALIASES
            .iter()
            .find(|(a, _)| *a == alias)
            .map(|(_, of)| *of)
            .or_else(|| SUPPORTED.iter().copied().find(|m| *m == alias));
        if let Some(builtin) = builtin
            && builtin != mech
        {
            return Err(usage(format!(
                "--auth-map: '{item}': {alias} already names {builtin}; an ALIAS is a server's \
                 other name for TYPE (e.g. --auth-map X-PLAIN=PLAIN)"
            )));
        }
        out.push((alias, mech));
    }
    Ok(out)
}

/// `--auth-extra KEY=VALUE,…` (swaks): the DIGEST-MD5 / NTLM settings, into the credentials.
/// Keys are case-insensitive; an unknown key is refused rather than ignored.
pub(super) fn auth_extra(list: &[String], creds: &mut Credentials) -> Result<(), Error> {
    for item in list.iter().filter(|i| !i.trim().is_empty()) {
        let Some((key, value)) = item.split_once('=') else {
            return Err(usage(format!(
                "--auth-extra: '{item}' is not KEY=VALUE (e.g. --auth-extra realm=example.com)"
            )));
        };
        let raw = value.trim();
        let value = Some(value.to_string());
        match key.trim().to_ascii_lowercase().as_str() {
            "realm" | "domain" => creds.realm = value,
            "dmd5-serv-type" => creds.service = value,
            "dmd5-host" => creds.service_host = value,
            "dmd5-serv-name" => creds.service_name = value,
            "ntlm-version" => {
                creds.ntlm_v1 = match raw {
                    "1" | "v1" => true,
                    "2" | "v2" => false,
                    _ => {
                        return Err(usage(format!(
                            "--auth-extra: ntlm-version is 1 or 2, not '{raw}'"
                        )));
                    }
                }
            }
            other => {
                return Err(usage(format!(
                    "--auth-extra: unknown key '{other}' (ehlo knows realm, domain, \
                     dmd5-serv-type, dmd5-host, dmd5-serv-name, ntlm-version)"
                )));
            }
        }
    }
    Ok(())
}

/// AUTH without TLS sends the credentials readable on the wire: ask on a terminal, refuse
/// non-interactively (the run would otherwise leak them silently from a script). The session
/// refuses with the same words when an optional STARTTLS leaves the connection unencrypted.
pub(super) fn confirm_plaintext_auth(env: &Environment) -> Result<(), Error> {
    use crate::smtp::client::{plaintext_auth_declined, plaintext_auth_refused};
    let Some(prompt) = env.prompt else {
        return Err(usage(plaintext_auth_refused().to_string()));
    };
    if plaintext_auth_confirmed(prompt)
        .map_err(|e| usage(format!("cannot read the answer from the terminal: {e}")))?
    {
        Ok(())
    } else {
        Err(usage(plaintext_auth_declined().to_string()))
    }
}

/// Ask on the terminal whether AUTH may send the credentials unencrypted: before the run when
/// no TLS is planned, or while it runs when an optional STARTTLS did not happen. Only `y` or
/// `yes` is a yes.
pub(crate) fn plaintext_auth_confirmed(
    prompt: crate::cli::secrets::Prompt,
) -> std::io::Result<bool> {
    const QUESTION: &str = "AUTH without TLS: send credentials unencrypted? [y/N] ";
    let typed = prompt(QUESTION, true)?;
    let answer = typed.trim().to_ascii_lowercase();
    if !matches!(answer.as_str(), "" | "y" | "yes" | "n" | "no") {
        // Asked before the password is: one who expected that prompt typed the password here.
        secrets::mask_echoed_answer(QUESTION, &typed);
    }
    Ok(matches!(answer.as_str(), "y" | "yes"))
}

/// One line of a stdin that is not a terminal, its line end dropped, as swaks reads an answer
/// to its `Username: `/`Password: ` prompt; at the end of stdin (or a closed one) an empty line.
/// Read a byte at a time, so nothing after the line is taken from a stdin the message may
/// share, and at most [`MAX_ANSWER`] bytes of it kept.
fn stdin_line(env: &Environment) -> String {
    use std::io::Read;
    let mut line = Vec::new();
    let mut input = (env.stdin)();
    let mut byte = [0u8; 1];
    loop {
        match input.read(&mut byte) {
            Ok(0) => break,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            // A closed stdin (EBADF) ends the line as its end does.
            Err(_) => break,
            Ok(_) if byte[0] == b'\n' => break,
            Ok(_) if line.len() < MAX_ANSWER => line.push(byte[0]),
            _ => {}
        }
    }
    let end = line.strip_suffix(b"\r").unwrap_or(&line);
    String::from_utf8_lossy(end).into_owned()
}

/// The longest answer read from a piped stdin; the rest of its line is read and dropped.
const MAX_ANSWER: usize = 4096;

fn is_oauth(mechanism: &str) -> bool {
    matches!(mechanism, "XOAUTH2" | "OAUTHBEARER")
}

/// User, password and token for AUTH, from (in order) the flag (from any layer: the config file,
/// `EHLO_AUTH_PASSWORD` / `EHLO_AUTH_TOKEN`, the command line), the `--auth-*-file` (layering
/// already dropped whichever of the two a higher layer replaced), `~/.netrc` (password and
/// login only), and a prompt on a terminal. Without a terminal a missing secret is a usage error
/// naming the sources for `--auth`; with `--auth-optional(-strict)` the user name and password
/// are read from stdin, a line each, as swaks reads them (a note in `notes` says so).
type Found = (Option<String>, Option<Secret>, Option<Secret>);
pub(super) fn find_secrets(
    auth: &crate::cli::args::AuthArgs,
    mechanisms: &[String],
    requirement: AuthRequirement,
    host: Option<&str>,
    env: &Environment,
    stdin_taken: bool,
    notes: &mut Vec<String>,
) -> Result<Found, Error> {
    // `-au` / `-ap` without a value (swaks: .netrc, then a prompt) arrive empty.
    let mut user = auth
        .auth_user
        .as_deref()
        .filter(|u| !u.is_empty())
        .map(|u| strip_angles(u).to_string());
    // swaks: "The string <> can be supplied to mean an empty password" (as `-au '<>'` is an
    // empty user name).
    let empty = auth
        .auth_password
        .as_ref()
        .is_some_and(|p| p.expose() == "<>");
    let mut password = if empty {
        Some(Secret::new(""))
    } else {
        secrets::password(
            auth.auth_password.clone(),
            auth.auth_password_file.as_deref(),
            secrets::PasswordEnv::Layered,
        )
        .map_err(usage)?
    };
    let mut token = auth.auth_oauth_token.clone();
    if token.is_none()
        && let Some(f) = &auth.auth_token_file
    {
        token = Some(secrets::first_line("--auth-token-file", f).map_err(usage)?);
    }
    // Which kinds of secret the requested mechanisms can use (none named = any offered).
    let any = mechanisms.is_empty();
    let takes_token = any || mechanisms.iter().any(|m| is_oauth(m));
    let takes_password = any || mechanisms.iter().any(|m| !is_oauth(m));
    // XOAUTH2/OAUTHBEARER named explicitly also take a password as the token (see
    // `auth::bearer_token`): `-a XOAUTH2 --auth-password TOKEN` works.
    let satisfied = |p: &Option<Secret>, t: &Option<Secret>| {
        (takes_password && p.is_some()) || (takes_token && (t.is_some() || (!any && p.is_some())))
    };
    if !satisfied(&password, &token)
        && takes_password
        && let Some(e) = secrets::netrc_file(env.home.as_deref(), host, user.as_deref())
        && e.password.is_some()
    {
        if user.is_none() {
            user = e.login;
        }
        password = e.password;
    }
    // `-au` without a value asks for the user name, like a missing password.
    let user_asked = auth.auth_user.as_deref() == Some("") && user.is_none();
    // A password but no user name (swaks's `--auth` with $EHLO_AUTH_PASSWORD, or `--ap` alone):
    // every mechanism a password serves needs one, so it is asked for on a terminal (swaks asks
    // for both) and refused without one, before connecting; the session used to connect and
    // fail at its first mechanism with "DIGEST-MD5 needs a user name". Not when OAUTHBEARER
    // (whose user is optional) or an --auth-map name may be tried.
    let user_missing = user.is_none()
        && token.is_none()
        && password.is_some()
        && mechanisms
            .iter()
            .all(|m| m != "OAUTHBEARER" && SUPPORTED.contains(&m.as_str()));
    if satisfied(&password, &token) && !user_asked && !user_missing {
        return Ok((user, password, token));
    }
    let wants_token = !takes_password;
    let Some(prompt) = env.prompt else {
        // swaks asks `Username: ` and `Password: ` whatever stdin is, and with
        // `--auth-optional(-strict)` reads the answers from a pipe (at its end, or from
        // /dev/null, empty ones, which it then sends): so does ehlo, one line each, where it
        // used to skip AUTH (`--auth-optional`) or refuse the run (`--auth-optional-strict`,
        // exit 1) while swaks delivered. `--auth` still wants a terminal or a source.
        // A stdin that carries the message (`--data -`, `--body -`, `--attach -`) is the
        // message's: swaks reads it first, so its prompts meet the end of stdin and send empty
        // answers; ehlo gives the same empty answers without reading a byte of the message.
        if requirement != AuthRequirement::Required && !wants_token {
            let answer = || {
                if stdin_taken {
                    String::new()
                } else {
                    stdin_line(env)
                }
            };
            if user.is_none() {
                user = Some(strip_angles(answer().trim()).to_string());
            }
            if password.is_none() {
                password = Some(Secret::new(answer()));
            }
            let flag = if requirement == AuthRequirement::Optional {
                "auth-optional"
            } else {
                "auth-optional-strict"
            };
            notes.push(if stdin_taken {
                format!(
                    "--{flag}: no user name or password from a flag, file or ~/.netrc, and stdin \
                     carries the message: empty ones, as swaks's prompts read them after the \
                     message"
                )
            } else {
                format!(
                    "--{flag}: no user name or password from a flag, file or ~/.netrc and stdin \
                     is not a terminal: read from stdin, one line each, as swaks reads them (at \
                     its end, empty)"
                )
            });
            return Ok((user, password, token));
        }
        if requirement == AuthRequirement::Optional {
            return Ok((user, password, token));
        }
        if user_asked {
            return Err(usage(
                "--auth-user was given without a user name and ~/.netrc has none for this server \
                 (stdin is not a terminal, so ehlo cannot prompt): give --auth-user USER",
            ));
        }
        if user_missing && satisfied(&password, &token) {
            return Err(usage(
                "--auth: no user name: give --auth-user USER or $EHLO_AUTH_USER \
                 (stdin is not a terminal, so ehlo cannot prompt)",
            ));
        }
        let at = host.map(|h| format!(" for {h}")).unwrap_or_default();
        return Err(usage(if wants_token {
            "--auth: no OAuth token: give --auth-oauth-token, $EHLO_AUTH_TOKEN or --auth-token-file (stdin is not a terminal, so ehlo cannot prompt)"
                .to_string()
        } else {
            format!(
                "--auth: no password: give --auth-password, $EHLO_AUTH_PASSWORD, --auth-password-file or a ~/.netrc entry{at} (stdin is not a terminal, so ehlo cannot prompt)"
            )
        }));
    };
    let ask = |q: &str, echo: bool| {
        prompt(q, echo).map_err(|e| usage(format!("cannot read from the terminal: {e}")))
    };
    let server = host.unwrap_or("the server");
    if user.is_none() {
        let u = ask(&format!("AUTH user name for {server}: "), true)?;
        user = Some(strip_angles(u.trim()).to_string());
    }
    if satisfied(&password, &token) {
        return Ok((user, password, token));
    }
    let who = user.as_deref().unwrap_or_default();
    if wants_token {
        token = Some(Secret::new(ask(
            &format!("OAuth token for {who} at {server} (not echoed): "),
            false,
        )?));
    } else {
        password = Some(Secret::new(ask(
            &format!("Password for {who} at {server} (not echoed): "),
            false,
        )?));
    }
    Ok((user, password, token))
}
