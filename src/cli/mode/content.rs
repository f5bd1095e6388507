//! The message: `--data`/`--body` read from text, stdin or files, composed with its parts, and the
//! data fix-ups.

use std::io::Read;
use std::path::Path;

use super::{Environment, MAX_MESSAGE_BYTES, usage};
use crate::cli::args::{MessageArgs, PartArg, PartKind};
use crate::cli::message::{self, MessageSpec, Part};
use crate::error::Error;
use crate::smtp::data::Fixup;

/// swaks's older bare-file form (`--body /path/to/gtube`, still in its quick start): an argument
/// without `@` that names an existing file is that file's content. Returns the path and the
/// one-line deprecation note to show.
fn bare_file<'a>(flag: &str, arg: &'a str) -> Option<(&'a str, String)> {
    if arg.is_empty() || arg.starts_with(['@', '-']) || arg.contains(['\n', '\r']) {
        return None;
    }
    Path::new(arg).is_file().then(|| {
        (
            arg,
            format!("{flag} {arg}: reading the file (swaks's deprecated bare-file form; write {flag} @{arg})"),
        )
    })
}

/// Read `TEXT`, `-` (stdin) or `@FILE`; `@@X` is the literal text `@X` (swaks's escape), and
/// `@-` is stdin as `-` is (swaks opens `@FILE` with Perl's two-argument `open`, for which `-`
/// is stdin: `--attach @-` attaches stdin there, with no file name; write `@./-` for a file
/// named `-`). A bare
/// argument naming an existing file is read too ([`bare_file`]), with a note in `notes`.
/// The bytes come back as read: the caller applies the `\n` rule ([`message::backslash_n`]).
/// `shared` is stdin already read for several options (see [`compose`]).
fn read_content(
    flag: &str,
    arg: &str,
    env: &Environment,
    notes: &mut Vec<String>,
    shared: Option<&[u8]>,
) -> Result<Vec<u8>, Error> {
    let owned;
    let arg = match bare_file(flag, arg) {
        Some((path, note)) => {
            notes.push(note);
            owned = format!("@{path}");
            owned.as_str()
        }
        None => arg,
    };
    let too_big = || {
        usage(format!(
            "{flag}: larger than {} MiB",
            MAX_MESSAGE_BYTES >> 20
        ))
    };
    let bytes = if let Some(stdin) = shared.filter(|_| arg == "-" || arg == "@-") {
        stdin.to_vec()
    } else if arg == "-" || arg == "@-" {
        (env.read_stdin)(MAX_MESSAGE_BYTES).map_err(|e| {
            if e.kind() == std::io::ErrorKind::FileTooLarge {
                too_big()
            } else {
                usage(format!("{flag}: cannot read stdin: {e}"))
            }
        })?
    } else if let Some(literal) = arg.strip_prefix("@@") {
        format!("@{literal}").into_bytes()
    } else if let Some(path) = arg.strip_prefix('@') {
        // A file over the limit is refused by its size, not read ([`super::read_file_capped`]).
        std::fs::File::open(path)
            .and_then(|f| super::read_file_capped(f, MAX_MESSAGE_BYTES))
            .map_err(|e| usage(format!("{flag}: cannot read {path}: {e}")))?
            .ok_or_else(too_big)?
    } else {
        arg.as_bytes().to_vec()
    };
    if bytes.len() as u64 > MAX_MESSAGE_BYTES {
        return Err(too_big());
    }
    Ok(bytes)
}

/// A `--data` (or `--attach`) text that can only be a file name (`--data mesage.eml`, `--data /tmp`): one
/// word, no header (`:`) or line break in it, a `/` or a `.EXT` ending, that names no regular
/// file: what it names instead ("no such file", "a directory, not a file", …). It is sent as
/// the whole message, as swaks's bare-file form allows ([`bare_file`] reads only a regular
/// file), so the run succeeds with a message of one word: said, so the mistake is seen.
fn names_no_file(arg: &str) -> Option<&'static str> {
    let extension = arg.rsplit_once('.').is_some_and(|(stem, ext)| {
        !stem.is_empty()
            && (1..=5).contains(&ext.len())
            && ext.bytes().all(|b| b.is_ascii_alphanumeric())
    });
    let word = !arg.is_empty()
        && !arg.starts_with(['@', '-'])
        && !arg.contains([':', '\\', '\n', '\r'])
        && !arg.chars().any(char::is_whitespace)
        && (arg.contains('/') || extension);
    if !word {
        return None;
    }
    match std::fs::metadata(arg) {
        Err(_) => Some("no such file"),
        Ok(m) if m.is_dir() => Some("a directory, not a file"),
        Ok(m) if !m.is_file() => Some("not a regular file (a device, FIFO or socket)"),
        Ok(_) => None,
    }
}

/// `--data`'s message ([`read_content`]), refused when the file or stdin it names is empty:
/// DATA would carry no message at all (no `From:`, no `Date:`, RFC 5322 §3.6), which is what a
/// `cmd | ehlo --data -` whose `cmd` failed gives. swaks v20201014 refuses it too (exit 1: it
/// takes the empty text for a file name it cannot open).
fn read_data(arg: &str, env: &Environment, notes: &mut Vec<String>) -> Result<Vec<u8>, Error> {
    let data = read_content("--data", arg, env, notes, None)?;
    if let Some(what) = names_no_file(arg) {
        notes.push(format!(
            "--data {arg}: {what}, so these words are the whole message \
             (a file is read with --data @FILE)"
        ));
    }
    if data.is_empty() {
        let what = match arg {
            "-" | "@-" => "stdin is empty",
            _ => "the file is empty",
        };
        return Err(usage(format!(
            "--data {arg}: {what}, so there is no message to send (swaks refuses it too); \
             `--data '\\n'` sends an empty message on purpose"
        )));
    }
    Ok(data)
}

/// `--body`'s text ([`read_content`]), except that an empty `--body ''` reads one line from
/// stdin, as swaks v20201014 does: it takes an empty value for none given and asks `Body: `
/// (on a terminal the prompt shows; a pipe or file gives its first line). swaks asks again for
/// ever when stdin is at its end (`/dev/null`, closed); here that is a usage error, never a
/// hang. The line's end is not part of the body.
fn read_body(
    arg: &str,
    env: &Environment,
    notes: &mut Vec<String>,
    shared: Option<&[u8]>,
) -> Result<Vec<u8>, Error> {
    if !arg.is_empty() {
        return read_content("--body", arg, env, notes, shared);
    }
    let at_end = || {
        usage(
            "--body '': swaks takes an empty --body for none given and reads the body from \
             stdin (one line), but stdin has none: give the text, `--body -` for all of stdin, or \
             `--body @/dev/null` for an empty body",
        )
    };
    let line = match env.prompt {
        Some(prompt) => match prompt("Body: ", true) {
            Ok(line) => line.into_bytes(),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Err(at_end()),
            Err(e) => return Err(usage(format!("--body '': cannot read stdin: {e}"))),
        },
        None => {
            let mut line = Vec::new();
            let mut input = (env.stdin)().take(MAX_MESSAGE_BYTES + 1);
            let mut byte = [0u8; 1];
            loop {
                match input.read(&mut byte) {
                    Ok(0) => break,
                    Ok(_) if byte[0] == b'\n' => {
                        line.push(b'\n');
                        break;
                    }
                    Ok(_) => line.push(byte[0]),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    // A closed stdin (EBADF) has no line either.
                    Err(_) if line.is_empty() => return Err(at_end()),
                    Err(e) => return Err(usage(format!("--body '': cannot read stdin: {e}"))),
                }
            }
            if line.is_empty() {
                return Err(at_end());
            }
            if line.len() as u64 > MAX_MESSAGE_BYTES {
                return Err(usage(format!(
                    "--body: larger than {} MiB",
                    MAX_MESSAGE_BYTES >> 20
                )));
            }
            let end = line.strip_suffix(b"\n").unwrap_or(&line);
            end.strip_suffix(b"\r").unwrap_or(end).to_vec()
        }
    };
    notes.push(
        "--body '': the body is one line read from stdin, as swaks reads it (`--body -` reads all \
         of stdin)"
            .into(),
    );
    Ok(line)
}

/// `--no-data-fixup` data goes out as given, so it must carry its own end marker or the server
/// waits for more until the reply timeout (swaks #69). Data that ends in `CRLF .` without the
/// final CRLF gets it, as swaks does; data with no end marker at all is refused before anything
/// is sent.
pub(super) fn raw_data_end(message: &mut Vec<u8>, notes: &mut Vec<String>) -> Result<(), Error> {
    if message.ends_with(b"\r\n.\r\n") || message == b".\r\n" {
        return Ok(());
    }
    if message.ends_with(b"\r\n.") || message == b"." {
        message.extend_from_slice(b"\r\n");
        notes.push("--no-data-fixup: added the CRLF after the final dot (as swaks does)".into());
        return Ok(());
    }
    Err(usage(
        "--no-data-fixup: the data does not end with CRLF . CRLF, so the server would wait for \
         more (write the end marker yourself as real CR LF bytes, which -ndf does not make of a \
         written \\r\\n: --data @FILE, or in bash --data $'Subject: x\\r\\n\\r\\nbody\\r\\n.\\r\\n')",
    ))
}

/// `--no-data-fixup` turns everything off; the finer switches one fix-up each (swaks #51).
/// A final `.` line is taken for the user's own end marker only in `--data` text (or `-g`'s
/// stdin): in a message ehlo composes (`--body`, parts) it is content.
pub(super) fn fixup_of(msg: &MessageArgs) -> Fixup {
    if msg.no_data_fixup {
        return Fixup::NONE;
    }
    Fixup {
        strip_from: !msg.no_strip_from,
        crlf: !msg.no_crlf_fixup,
        dot_stuff: !msg.no_dot_stuffing,
        end_marker: true,
        own_end_marker: msg.data.is_some() || msg.g,
    }
}

/// The options that read the message (or a part of it) from stdin, in the order they are
/// read: `--data -` (or `-g` without --data), `--body -` / `--body ''`, `--attach -` and the
/// other parts given `-` or `@-`.
pub(super) fn stdin_users(msg: &MessageArgs) -> Vec<&'static str> {
    let g_data = (msg.g && msg.data.is_none()).then(|| "-".to_string());
    let data_arg = msg.data.as_ref().or(g_data.as_ref());
    [("--data", data_arg), ("--body", msg.body.as_ref())]
        .into_iter()
        .filter(|(f, v)| {
            matches!(v.map(String::as_str), Some("-" | "@-"))
                || (*f == "--body" && v.map(String::as_str) == Some(""))
        })
        .map(|(f, _)| f)
        .chain(
            msg.parts
                .iter()
                .filter(|p| p.value == "-" || p.value == "@-")
                .map(|p| part_flag(p.kind)),
        )
        .collect()
}

/// What [`compose`] gives: the message's bytes, its info notes and the note on headers sent
/// RFC 2047 encoded.
pub(super) type Composed = (Vec<u8>, Vec<String>, Vec<String>);

/// The message bytes, info notes and what the message holds other than swaks would send
/// for the same command line (headers RFC 2047 encoded, an attachment's guessed type): `--data` as given (tokens replaced unless
/// `--no-data-fixup`), or the composed message with its parts. Every file and stdin is read
/// here, before anything is sent; the total stays under [`MAX_MESSAGE_BYTES`]. `default_body`
/// (the `--dump-as-body` text) is the body when `--body` is not given, taken literally;
/// `utf8_headers` (`--smtputf8`) writes non-ASCII header values as typed (RFC 6532).
#[allow(clippy::too_many_arguments)]
pub(super) fn compose(
    msg: &MessageArgs,
    fixup: Fixup,
    (to, to_typed): (&[String], &str),
    (cc, cc_typed): (&[String], &str),
    (bcc, bcc_typed): (&[String], &str),
    from: &str,
    env: &Environment,
    default_body: Option<&[u8]>,
    utf8_headers: bool,
) -> Result<Composed, Error> {
    // swaks's deprecated `-g` stands in for `--data -` when no --data is given (swaks v20201014
    // ignores it next to --data; v20240103 dropped it).
    let g_data = (msg.g && msg.data.is_none()).then(|| "-".to_string());
    let data_arg = msg.data.as_ref().or(g_data.as_ref());
    let g_note = msg.g.then_some(match &msg.data {
        None => "-g: reading the message from stdin (swaks's deprecated form; write --data -)",
        Some(_) => "-g is ignored: --data is given (as swaks does)",
    });
    let stdin_users = stdin_users(msg);
    // swaks reads stdin once and gives the same content to each `-` of --body and --attach
    // ("the same content will be attached each time"); ehlo refused the line. --data and the
    // one line of `--body ''` still take stdin alone.
    let shares = stdin_users.len() > 1
        && !stdin_users.contains(&"--data")
        && msg.body.as_deref() != Some("");
    if stdin_users.len() > 1 && !shares {
        return Err(usage(format!(
            "{}: stdin can be read only once (also given to {})",
            stdin_users[1], stdin_users[0]
        )));
    }
    let spec = MessageSpec {
        to,
        to_typed: Some(to_typed),
        cc,
        cc_typed: Some(cc_typed),
        bcc,
        bcc_typed: Some(bcc_typed),
        from,
        utf8_headers,
        ..Default::default()
    };
    // Header syntax first: a bad header is reported before any file is read.
    let mut encoded = Vec::new();
    for (flag, list) in [("--header", &msg.header), ("--add-header", &msg.add_header)] {
        for h in list {
            encoded.extend(message::check_header_arg(flag, h, &spec, &env.message).map_err(usage)?);
        }
    }
    // A non-ASCII header value goes out RFC 2047 encoded (readable everywhere, no SMTPUTF8
    // needed), where swaks sends the UTF-8 bytes as typed: the same command line would put
    // other bytes on the wire, so the run says so.
    let mut unlike: Vec<String> = Vec::new();
    unlike.extend((!encoded.is_empty()).then(|| {
        format!(
            "{}: non-ASCII, so sent RFC 2047 encoded (=?utf-8?...?=); swaks sends the UTF-8 \
             bytes as typed (--smtputf8 sends them so)",
            encoded.join(", ")
        )
    }));
    let new_notes = || -> Vec<String> { g_note.iter().map(|n| n.to_string()).collect() };
    // swaks takes an empty --data for none given and asks for it (a line it then reads as a
    // --data argument), asking again for ever at the end of stdin: it never sends an empty
    // message for it, so neither does ehlo.
    if data_arg.is_some_and(String::is_empty) {
        return Err(usage(
            "--data '': swaks takes an empty --data for none given and asks for it on stdin; \
             give the message, `--data -` to read it from stdin, or `--data @FILE`",
        ));
    }
    // swaks refuses an empty --attach or --attach-body ("option attach specified with no
    // argument", exit 1): it names no content. ehlo sent an empty part in its place.
    if let Some(p) = msg.parts.iter().find(|p| p.value.is_empty()) {
        let flag = part_flag(p.kind);
        return Err(usage(format!(
            "{flag} '': the value is empty (swaks refuses it too); give the text, \
             `{flag} @FILE` or `{flag} -` for stdin"
        )));
    }
    if let Some(d) = data_arg {
        if fixup == Fixup::NONE {
            if let Some(flag) = [("--header", &msg.header), ("--add-header", &msg.add_header)]
                .into_iter()
                .find_map(|(f, l)| (!l.is_empty()).then_some(f))
            {
                return Err(usage(format!(
                    "{flag} cannot change a --data message sent with --no-data-fixup \
                     (its bytes go out exactly as given)"
                )));
            }
            if msg.body.is_some() || default_body.is_some() {
                return Err(usage(
                    "--body and --dump-as-body cannot go into a --data message sent with \
                     --no-data-fixup (no %BODY% token is replaced)",
                ));
            }
            let mut notes = new_notes();
            // swaks's --no-data-fixup: not even `\n` is replaced.
            let data = read_data(d, env, &mut notes)?;
            return Ok((data, notes, unlike));
        }
        let mut notes = new_notes();
        let data = message::backslash_n_owned(read_data(d, env, &mut notes)?);
        // `--body` fills the message's %BODY% token (swaks's template token).
        let body = msg
            .body
            .as_deref()
            .map(|b| read_body(b, env, &mut notes, None).map(message::backslash_n_owned))
            .transpose()?;
        if body.is_some()
            && !["%BODY%", "..BODY.."]
                .iter()
                .any(|t| data.windows(t.len()).any(|w| w == t.as_bytes()))
        {
            notes.push("--body is not used: the --data message has no %BODY% token".into());
        }
        let spec = MessageSpec {
            headers: &msg.header,
            add_headers: &msg.add_header,
            body: body.as_deref().or(default_body),
            ..spec
        };
        let data = message::data_message(data, &spec, &env.message).map_err(usage)?;
        return Ok((data, notes, unlike));
    }
    let mut notes = new_notes();
    let shared = if shares {
        Some(read_content(stdin_users[0], "-", env, &mut notes, None)?)
    } else {
        None
    };
    let shared = shared.as_deref();
    let body = msg
        .body
        .as_deref()
        .map(|b| read_body(b, env, &mut notes, shared).map(message::backslash_n_owned))
        .transpose()?
        .or_else(|| default_body.map(<[u8]>::to_vec));
    let mut total = body.as_ref().map_or(0, Vec::len) as u64;
    let mut parts = Vec::with_capacity(msg.parts.len());
    for p in &msg.parts {
        let part = part_of(p, env, &mut notes, &mut unlike, shared)?;
        total += part.content.len() as u64;
        if total > MAX_MESSAGE_BYTES {
            return Err(usage(format!(
                "{}: the message would be larger than {} MiB",
                part_flag(p.kind),
                MAX_MESSAGE_BYTES >> 20
            )));
        }
        parts.push(part);
    }
    let composed = message::compose(
        &MessageSpec {
            headers: &msg.header,
            add_headers: &msg.add_header,
            body: body.as_deref(),
            parts: &parts,
            // Nothing will turn ehlo's LF into CRLF: write its own lines right.
            crlf: !fixup.crlf && fixup != Fixup::NONE,
            ..spec
        },
        &env.message,
    )
    .map_err(usage)?;
    notes.extend(composed.notes);
    Ok((composed.bytes, notes, unlike))
}

fn part_flag(kind: PartKind) -> &'static str {
    match kind {
        PartKind::Body => "--attach-body",
        PartKind::Inline => "--attach-inline",
        PartKind::Attachment => "--attach",
    }
}

/// Read one part option and decide its type and file name: `--attach-type` if given, else
/// guessed from the file name (text/plain for body parts), else application/octet-stream; the
/// file's base name unless `--attach-name` says otherwise. A guessed type goes to `unlike`:
/// swaks sends such a file as application/octet-stream.
fn part_of(
    p: &PartArg,
    env: &Environment,
    notes: &mut Vec<String>,
    unlike: &mut Vec<String>,
    shared: Option<&[u8]>,
) -> Result<Part, Error> {
    let flag = part_flag(p.kind);
    let content = read_content(flag, &p.value, env, notes, shared)?;
    // `--attach report.pdf` with no such file attaches the word itself, as in swaks, and the
    // run succeeds: said, as for `--data`, so a wrong name or directory is seen. (An
    // `--attach-body` is text, like `--body`: no note.)
    if p.kind != PartKind::Body
        && let Some(what) = names_no_file(&p.value)
    {
        notes.push(format!(
            "{flag} {}: {what}, so these words are the part's content (a file is read \
             with {flag} @FILE)",
            p.value
        ));
    }
    let path = p
        .value
        .strip_prefix('@')
        .filter(|path| !p.value.starts_with("@@") && *path != "-")
        .or_else(|| bare_file(flag, &p.value).map(|(path, _)| path))
        .map(Path::new);
    let content_type = match &p.content_type {
        Some(t) => {
            let (essence, _) = t.split_once(';').unwrap_or((t, ""));
            let token = |s: &str| {
                !s.is_empty()
                    && s.bytes()
                        .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?=".contains(&b))
            };
            let ok = essence
                .trim()
                .split_once('/')
                .is_some_and(|(a, b)| token(a) && token(b));
            if !ok || t.contains(|c: char| c.is_control()) {
                return Err(usage(format!(
                    "--attach-type: '{}' is not a MIME type (type/subtype, e.g. text/html)",
                    t.escape_debug()
                )));
            }
            // Kept as typed: swaks matches the type as given (`^text/plain$`), so a blank
            // around it makes a part that is not its plain text (see `plain` below).
            t.clone()
        }
        None => match (p.kind, path) {
            (PartKind::Body, _) => "text/plain".to_string(),
            // `--attach-name ''` names nothing: swaks then sends the file as
            // application/octet-stream, so the path's extension is not looked at either.
            _ if p.name.as_deref() == Some("") => "application/octet-stream".to_string(),
            (_, Some(path)) => match super::mime_type::for_path(path) {
                // swaks v20201014 types every --attach without --attach-type
                // application/octet-stream, base64: the same command line sends another part
                // here, so it is said (as an encoded header is), with the flag that sends
                // swaks's. The guess stays: a receiver opens a .csv or .pdf by its type.
                // (swaks has no --attach-inline: nothing to compare it with.)
                Some(guessed) if guessed != "application/octet-stream" => {
                    if p.kind == PartKind::Attachment {
                        unlike.push(format!(
                            "{flag} {}: sent as {guessed}, the type its name ends in; swaks \
                         sends application/octet-stream, base64 (--attach-type \
                         application/octet-stream sends it so)",
                            p.value
                        ));
                    }
                    guessed.to_string()
                }
                _ => "application/octet-stream".to_string(),
            },
            (_, None) => "application/octet-stream".to_string(),
        },
    };
    let filename = match &p.name {
        Some(n) if n.is_empty() => None,
        Some(n) => {
            if n.contains(|c: char| c.is_control()) {
                return Err(usage(format!(
                    "--attach-name: '{}' contains a control character",
                    n.escape_debug()
                )));
            }
            Some(n.clone())
        }
        None if p.kind == PartKind::Body => None,
        None => path
            .and_then(Path::file_name)
            .map(|f| f.to_string_lossy().into_owned()),
    };
    // swaks writes a body part whose type is exactly `text/plain` (no parameter) into the DATA
    // as it is (it ignores an `--attach-name` for a body part), where a literal `\n` becomes a line break as in --body;
    // every other part, `text/plain; charset=utf-8` and ` text/plain` (a blank before it) too,
    // it sends base64, as given.
    let plain = content_type.eq_ignore_ascii_case("text/plain");
    let content = if p.kind == PartKind::Body && plain {
        message::backslash_n(&content)
    } else {
        content
    };
    Ok(Part {
        kind: p.kind,
        content_type,
        filename,
        content,
    })
}
