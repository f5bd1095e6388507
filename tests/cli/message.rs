//! Message composition end to end through the binary: MIME parts from --attach* decode back
//! byte-exact from --dump-mail and from the wire, RFC 2047 headers, Content-IDs, swaks tokens,
//! --header-<Name>, the finer DATA fix-ups, and bad input refused before any connection.

use std::time::Duration;

use base64::Engine;

use crate::util::*;

/// Deterministic pseudo-random bytes from the crate's one seeded generator.
fn random_bytes(seed: u64, n: usize) -> Vec<u8> {
    ehlo::smtp::rng::Rng::new(seed).bytes(n)
}

/// The MIME part whose header block contains `marker`: (headers, raw body). Boundaries are
/// taken from the message itself, so this does not trust the composer's layout.
fn part<'m>(msg: &'m str, marker: &str) -> (&'m str, &'m str) {
    let mut boundaries = Vec::new();
    let mut rest = msg;
    while let Some(i) = rest.find("boundary=\"") {
        let b = &rest[i + 10..];
        let end = b.find('"').unwrap();
        boundaries.push(format!("--{}", &b[..end]));
        rest = &b[end..];
    }
    for b in &boundaries {
        for chunk in msg.split(b.as_str()).skip(1) {
            let chunk = chunk.trim_start_matches(['\r', '\n']);
            let Some((headers, body)) = chunk.split_once("\n\n").or(chunk.split_once("\r\n\r\n"))
            else {
                continue;
            };
            if headers.contains(marker) {
                return (headers, body.trim_end_matches(['\r', '\n']));
            }
        }
    }
    panic!("no part with {marker:?} in {msg}");
}

fn unbase64(text: &str) -> Vec<u8> {
    let joined: String = text.split_whitespace().collect();
    base64::engine::general_purpose::STANDARD
        .decode(joined)
        .unwrap()
}

/// Decode `=?utf-8?B?…?=` / `=?utf-8?Q?…?=` words, joining adjacent ones (RFC 2047 §6.2).
fn unwords(value: &str) -> String {
    let value = value
        .replace("?=\r\n =?", "?==?")
        .replace("?=\n =?", "?==?");
    let value = value.replace("?= =?", "?==?");
    let mut out = Vec::new();
    let mut rest = value.as_str();
    while let Some(start) = rest.find("=?utf-8?") {
        out.extend_from_slice(&rest.as_bytes()[..start]);
        let word = &rest[start + 8..];
        let end = word[2..].find("?=").unwrap() + 2;
        let text = &word[2..end];
        if word.starts_with('B') {
            out.extend(unbase64(text));
        } else {
            let t = text.replace('_', " ");
            let b = t.as_bytes();
            let mut i = 0;
            while i < b.len() {
                if b[i] == b'=' {
                    out.push(u8::from_str_radix(&t[i + 1..i + 3], 16).unwrap());
                    i += 3;
                } else {
                    out.push(b[i]);
                    i += 1;
                }
            }
        }
        rest = &word[end + 2..];
    }
    out.extend_from_slice(rest.as_bytes());
    String::from_utf8(out).unwrap()
}

/// The unfolded header `name` of a message (first occurrence).
fn header(msg: &str, name: &str) -> String {
    let head = msg.split("\n\n").next().unwrap();
    let mut lines = head
        .lines()
        .skip_while(|l| !l.starts_with(&format!("{name}: ")));
    let mut h = lines
        .next()
        .unwrap_or_else(|| panic!("no {name} in {head}"))
        .to_string();
    for l in lines.take_while(|l| l.starts_with([' ', '\t'])) {
        h.push('\n');
        h.push_str(l);
    }
    h
}

#[test]
fn dump_mail_attachment_decodes_back_byte_exact() {
    let dir = tempfile::tempdir().unwrap();
    let bin = random_bytes(0x5eed, 10_000);
    let path = dir.path().join("random.bin");
    std::fs::write(&path, &bin).unwrap();
    let text = "a.txt line\n.leading dot\nnaïve\n";
    let tpath = dir.path().join("notes.txt");
    std::fs::write(&tpath, text).unwrap();
    let run = ehlo(&[
        "-t",
        "a@example.test",
        "--body",
        "see attachments",
        "--attach",
        &format!("@{}", path.display()),
        "--attach",
        &format!("@{}", tpath.display()),
        "--attach-name",
        "renamed.dat",
        "--attach",
        "inline text",
        "--dump-mail",
    ]);
    assert_eq!(run.code, 0, "{}", run.all());
    // Printed as sent: CRLF line ends only (read below with LF ones).
    assert!(!run.stdout.replace("\r\n", "").contains('\n'));
    let msg = &run.stdout.replace("\r\n", "\n");
    assert!(header(msg, "Content-Type").starts_with("Content-Type: multipart/mixed;"));
    assert_eq!(header(msg, "MIME-Version"), "MIME-Version: 1.0");
    let (h, b) = part(msg, "filename=\"random.bin\"");
    assert!(h.contains("Content-Type: application/octet-stream"), "{h}");
    assert!(h.contains("Content-Transfer-Encoding: base64"), "{h}");
    assert_eq!(unbase64(b), bin);
    // Text attachment: type from the name, UTF-8 declared, content exact after decoding.
    let (h, b) = part(msg, "filename=\"notes.txt\"");
    assert!(
        h.contains("Content-Type: text/plain; charset=\"utf-8\""),
        "{h}"
    );
    let decoded = if h.contains("base64") {
        unbase64(b)
    } else {
        assert!(h.contains("quoted-printable"), "{h}");
        let t = b.replace("=\n", "");
        let mut out = Vec::new();
        let mut i = 0;
        while i < t.len() {
            if t.as_bytes()[i] == b'=' {
                out.push(u8::from_str_radix(&t[i + 1..i + 3], 16).unwrap());
                i += 3;
            } else {
                out.push(t.as_bytes()[i]);
                i += 1;
            }
        }
        out
    };
    assert_eq!(decoded, text.as_bytes());
    let (h, b) = part(msg, "filename=\"renamed.dat\"");
    assert!(h.contains("application/octet-stream"), "{h}");
    assert_eq!(unbase64(b), b"inline text");
    let (h, b) = part(
        msg,
        "Content-Type: text/plain; charset=\"utf-8\"\nContent-Transfer-Encoding: 7bit",
    );
    assert!(!h.contains("Content-Disposition"), "{h}");
    assert_eq!(b, "see attachments");
}

#[test]
fn utf8_subject_and_display_name_are_rfc2047_encoded() {
    let run = ehlo(&[
        "-t",
        "a@example.test",
        "--header",
        "Subject: Grüße aus Köln 🎉",
        "--h-From",
        "Jörg Müller <j@example.test>",
        "--body",
        "Grüße",
        "--dump-mail",
    ]);
    assert_eq!(run.code, 0, "{}", run.all());
    let msg = &run.stdout.replace("\r\n", "\n");
    let head = msg.split("\n\n").next().unwrap();
    assert!(head.is_ascii(), "{head}");
    let subject = header(msg, "Subject");
    assert!(subject.starts_with("Subject: =?utf-8?"), "{subject}");
    assert_eq!(unwords(&subject), "Subject: Grüße aus Köln 🎉");
    let from = header(msg, "From");
    assert!(from.ends_with(" <j@example.test>"), "{from}");
    assert_eq!(unwords(&from), "From: Jörg Müller <j@example.test>");
    // The UTF-8 body is declared and sent as 8bit.
    assert!(
        head.contains("\nContent-Type: text/plain; charset=utf-8\n"),
        "{head}"
    );
    assert!(head.contains("\nContent-Transfer-Encoding: 8bit"), "{head}");
    assert!(msg.ends_with("\n\nGrüße\n"), "{msg}");
}

#[test]
fn inline_part_has_a_content_id_and_an_info_line() {
    let dir = tempfile::tempdir().unwrap();
    let png = random_bytes(7, 300);
    let path = dir.path().join("logo.png");
    std::fs::write(&path, &png).unwrap();
    let run = ehlo(&[
        "-t",
        "a@example.test",
        "--attach-body",
        "plain version",
        "--attach-type",
        "text/html",
        "--attach-body",
        "<p><img src=\"cid:logo.png@me@example.test\"></p>",
        "--attach-type",
        "image/png",
        "--attach-inline",
        &format!("@{}", path.display()),
        "--from",
        "me@example.test",
        "--helo",
        "client.test",
        "--dump-mail",
    ]);
    assert_eq!(run.code, 0, "{}", run.all());
    let msg = &run.stdout.replace("\r\n", "\n");
    let ct = header(msg, "Content-Type");
    assert!(ct.starts_with("Content-Type: multipart/related;"), "{ct}");
    assert!(ct.contains("type=\"multipart/alternative\""), "{ct}");
    assert!(
        msg.contains("Content-Type: multipart/alternative;"),
        "{msg}"
    );
    let (h, b) = part(msg, "Content-Type: image/png");
    let cid_line = h.lines().find(|l| l.starts_with("Content-ID: <")).unwrap();
    let cid = cid_line
        .trim_start_matches("Content-ID: <")
        .trim_end_matches('>');
    assert!(cid.starts_with("logo.png@"), "{cid}");
    assert!(
        h.contains("Content-Disposition: inline; filename=\"logo.png\""),
        "{h}"
    );
    assert_eq!(unbase64(b), png);
    // The info line tells the user the cid to reference (on stderr with --dump-mail).
    assert!(
        run.stderr.contains(&format!(
            "=== inline part 1 (logo.png): Content-ID <{cid}>, reference it as cid:{cid}"
        )),
        "{}",
        run.stderr
    );
    // Text parts come first, plain before html. (swaks's tokens are replaced only in a bare
    // text/plain part: swaks sends a text/html one as written.)
    let plain = msg.find("plain version").unwrap();
    let html = msg.find("cid:logo.png@me@example.test").unwrap();
    let image = msg.find("Content-Type: image/png").unwrap();
    assert!(plain < html && html < image, "{msg}");
}

#[test]
fn tokens_are_replaced_in_headers_and_body() {
    let run = ehlo(&[
        "-t",
        "a@example.test,b@example.test",
        "--cc",
        "c@example.test",
        "--bcc",
        "d@example.test",
        "-f",
        "me@example.test",
        "--header",
        "Subject: on %DATE%",
        "--add-header",
        "X-Ids: %MESSAGEID% ..TO_ADDRESS..%NEWLINE%X-Copy: %CC_ADDRESS% %BCC_ADDRESS%",
        "--header-X-Version",
        "%EHLO_VERSION%/%SWAKS_VERSION%",
        "--body",
        "from %FROM_ADDRESS%%NEWLINE%%UNKNOWN% stays",
        "--dump-mail",
    ]);
    assert_eq!(run.code, 0, "{}", run.all());
    let msg = &run.stdout.replace("\r\n", "\n");
    let date = header(msg, "Date").trim_start_matches("Date: ").to_string();
    assert_eq!(header(msg, "Subject"), format!("Subject: on {date}"));
    let mid = header(msg, "Message-Id");
    let mid = mid
        .trim_start_matches("Message-Id: <")
        .trim_end_matches('>');
    assert_eq!(
        header(msg, "X-Ids"),
        format!("X-Ids: {mid} a@example.test,b@example.test")
    );
    assert_eq!(
        header(msg, "X-Copy"),
        "X-Copy: c@example.test d@example.test"
    );
    let v = env!("CARGO_PKG_VERSION");
    assert_eq!(header(msg, "X-Version"), format!("X-Version: {v}/{v}"));
    assert!(
        msg.ends_with("\n\nfrom me@example.test\n%UNKNOWN% stays\n"),
        "{msg}"
    );
}

#[test]
fn attachment_goes_out_crlf_and_decodes_from_the_wire() {
    let dir = tempfile::tempdir().unwrap();
    let bin = random_bytes(99, 4000);
    let path = dir.path().join("blob.bin");
    std::fs::write(&path, &bin).unwrap();
    let srv = scripted(after_greet(accept_all()));
    let arg = format!("@{}", path.display());
    let run = send(
        &srv,
        &["--attach", &arg, "--header", "Subject: Überraschung"],
    );
    let wire = srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    let data = wire.as_str();
    let start = data.find("\r\nDate: ").unwrap() + 2;
    let end = data[start..].find("\r\n.\r\n").unwrap() + start;
    let message = &data[start..end + 2];
    // Every line ends in CRLF on the wire.
    for (i, b) in message.bytes().enumerate() {
        if b == b'\n' {
            assert_eq!(message.as_bytes()[i - 1], b'\r', "bare LF at {i}");
        }
    }
    let unix = message.replace("\r\n", "\n");
    let (_, b) = part(&unix, "filename=\"blob.bin\"");
    assert_eq!(unbase64(b), bin);
    assert_eq!(unwords(&header(&unix, "Subject")), "Subject: Überraschung");
}

#[test]
fn finer_fixups_change_the_wire() {
    let wire_of = |extra: &[&str]| {
        let srv = scripted(after_greet(accept_all()));
        let mut args = vec!["-d", "Subject: x\\n\\nline1\\n..two\\n.three"];
        args.extend_from_slice(extra);
        let run = send(&srv, &args);
        assert_eq!(run.code, 0, "{extra:?}: {}", run.all());
        let wire = srv.finish();
        let start = wire.find("Subject: x").unwrap();
        wire[start..].split("QUIT").next().unwrap().to_string()
    };
    assert_eq!(
        wire_of(&[]),
        "Subject: x\r\n\r\nline1\r\n...two\r\n..three\r\n.\r\n"
    );
    assert_eq!(
        wire_of(&["--no-dot-stuffing"]),
        "Subject: x\r\n\r\nline1\r\n..two\r\n.three\r\n.\r\n"
    );
    assert_eq!(
        wire_of(&["--no-crlf-fixup"]),
        "Subject: x\n\nline1\n...two\n..three\r\n.\r\n"
    );
}

#[test]
fn a_body_ending_in_a_dot_line_keeps_it_on_the_wire() {
    // `--body` is content, not an end marker: its final `.` line goes out stuffed, as swaks
    // sends it. `--data` text ending in a `.` line is the user's own marker.
    let srv = scripted(after_greet(accept_all()));
    let run = send(&srv, &["--body", "hello\n."]);
    assert_eq!(run.code, 0, "{}", run.all());
    let wire = srv.finish();
    assert!(wire.contains("\r\n\r\nhello\r\n..\r\n.\r\nQUIT"), "{wire}");
    let srv = scripted(after_greet(accept_all()));
    let run = send(&srv, &["-d", "Subject: x\n\nhello\n."]);
    assert_eq!(run.code, 0, "{}", run.all());
    let wire = srv.finish();
    assert!(wire.contains("\r\n\r\nhello\r\n.\r\nQUIT"), "{wire}");
}

#[test]
fn extensions_are_asked_for_by_the_bytes_sent() {
    // The mbox `From ` line is stripped before sending: its non-ASCII sender needs neither
    // SMTPUTF8 nor 8BITMIME; a message without a header block has no header to internationalise.
    for data in [
        "From jörg@x.de Thu Dec  3 10:00:00 2026\nSubject: plain\n\nbody\n",
        "Just text, no header block\n\nmore\n",
    ] {
        let srv = scripted(after_greet(accept_all()));
        let run = send(&srv, &["-d", data]);
        assert_eq!(run.code, 0, "{data:?}: {}", run.all());
        let wire = srv.finish();
        let mail = wire.lines().find(|l| l.starts_with("MAIL")).unwrap();
        assert!(
            !mail.contains("SMTPUTF8") && !mail.contains("BODY="),
            "{data:?}: {wire}"
        );
    }
    // A body line that only looks non-ASCII-headed is body: 8BITMIME (offered), no SMTPUTF8.
    let srv = scripted(after_greet(accept_all()));
    let run = send(&srv, &["-d", "Grüße, just a body line\n\nmore\n"]);
    assert_eq!(run.code, 0, "{}", run.all());
    let wire = srv.finish();
    let mail = wire.lines().find(|l| l.starts_with("MAIL")).unwrap();
    assert!(
        mail.contains("BODY=8BITMIME") && !mail.contains("SMTPUTF8"),
        "{wire}"
    );
}

#[test]
fn no_crlf_fixup_keeps_the_body_s_line_ends_but_writes_ehlo_s_own_in_crlf() {
    // A bare-LF test through --body: the server must see ehlo's headers as proper CRLF lines
    // (or it refuses the first one) and the body's bare LFs as given.
    let srv = scripted(after_greet(accept_all()));
    let run = send(&srv, &["--no-crlf-fixup", "--body", "a\n.\nb"]);
    assert_eq!(run.code, 0, "{}", run.all());
    let wire = srv.finish();
    let start = wire.find("Date: ").unwrap();
    let message = wire[start..].split("QUIT").next().unwrap();
    let (head, body) = message.split_once("\r\n\r\n").expect("a CRLF blank line");
    assert!(!head.replace("\r\n", "").contains('\n'), "{message:?}");
    assert_eq!(body, "a\n..\nb\r\n.\r\n");
}

#[test]
fn data_takes_header_and_add_header() {
    let srv = scripted(after_greet(accept_all()));
    let run = send(
        &srv,
        &[
            "-d",
            "Subject: old\\nTo: %TO_ADDRESS%\\n\\nSubject: body line\\n",
            "--header",
            "Subject: new",
            "--add-header",
            "X-Added: %FROM_ADDRESS%",
            "--h-X-Via-Header",
            "v",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.all());
    let wire = srv.finish();
    let start = wire.find("Subject: new").expect(&wire);
    let msg = wire[start..].split("\r\n.\r\n").next().unwrap();
    assert_eq!(
        msg,
        "Subject: new\r\nTo: rcpt@scripted.test\r\nX-Added: sender@client.test\r\nX-Via-Header: v\r\n\
         \r\nSubject: body line",
        "{wire}"
    );
}

#[test]
fn data_new_headers_token_places_added_headers() {
    let srv = scripted(after_greet(accept_all()));
    let run = send(
        &srv,
        &[
            "-d",
            "Subject: s\\n%NEW_HEADERS%\\n%BODY%",
            "--ah",
            "X-A: 1\\nX-B: 2",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.all());
    let wire = srv.finish();
    assert!(
        wire.contains("\r\nSubject: s\r\nX-A: 1\r\nX-B: 2\r\n\r\nThis is a test mailing\r\n.\r\n"),
        "{wire}"
    );
}

#[test]
fn no_data_fixup_sends_bytes_as_given() {
    let srv = scripted(after_greet(accept_all()));
    let run = send(
        &srv,
        &[
            "--no-data-fixup",
            "-d",
            "Subject: %DATE%\r\n\r\n.x\r\n.\r\n",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.all());
    let wire = srv.finish();
    assert!(
        wire.contains("\r\nSubject: %DATE%\r\n\r\n.x\r\n.\r\nQUIT"),
        "{wire}"
    );
}

#[test]
fn bad_message_input_exits_1_before_connecting() {
    // A listener that must never see a connection.
    let listener = crate::util::tripwire();
    let server = listener.local_addr().unwrap().to_string();
    let cases: &[(&[&str], &str)] = &[
        (
            &["--attach", "@/no/such/file.bin"],
            "--attach: cannot read /no/such/file.bin",
        ),
        (
            &["--attach-inline", "@/no/such/img.png"],
            "--attach-inline: cannot read /no/such/img.png",
        ),
        (
            &["--header", "no colon here"],
            "--header: 'no colon here' is not 'Name: value'",
        ),
        (
            &["--add-header", "Bad Name: x"],
            "--add-header: 'Bad Name: x': the header name",
        ),
        (&["--h-Bad\u{7}", "x"], "--header: "),
        (
            &["--to", "Bob <bob@example.test>"],
            "--to: 'Bob <bob@example.test>' contains white space",
        ),
        (
            &["--from", "a b@example.test"],
            "--from: 'a b@example.test' contains white space",
        ),
        (
            &["--attach-type", "text", "--attach", "x"],
            "--attach-type: 'text' is not a MIME type",
        ),
        (
            &["--attach", "x", "--attach-name", "late"],
            "--attach-name applies to the",
        ),
        (&["-d", "x", "--attach", "y"], "cannot be used with"),
        (
            &["-d", "S: x\\n\\nb", "--ndf", "--add-header", "X-A: 1"],
            "--add-header cannot change a --data message sent with --no-data-fixup",
        ),
        (
            &["-d", "S: x", "--header", "no colon"],
            "--header: 'no colon' is not 'Name: value'",
        ),
    ];
    for (extra, want) in cases {
        let mut args = vec!["--server", server.as_str(), "--timeout", "3"];
        if !extra.contains(&"--to") {
            args.extend(["--to", "a@example.test"]);
        }
        args.extend_from_slice(extra);
        let run = ehlo(&args);
        assert_eq!(run.code, 1, "{extra:?}: {}", run.all());
        assert!(run.stderr.contains(want), "{extra:?}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{extra:?}: {}", run.stdout);
    }
    assert!(
        listener.accept().is_err(),
        "bad input must be refused before connecting"
    );
}

/// A line over 998 octets (RFC 5322 §2.1.1) is sent as given, but not without a word: it went
/// out silently, and relays split such lines.
#[test]
fn a_line_over_998_octets_is_warned_about() {
    let srv = scripted(after_greet(accept_all()));
    let long = "x".repeat(1200);
    let run = send(
        &srv,
        &[
            "--data",
            &format!("Subject: x\\n\\nshort\\n{long}\\nend\\n"),
        ],
    );
    let wire = srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(wire.contains(&format!("\r\n{long}\r\n")), "{wire}");
    assert!(
        run.all()
            .contains("line 4 of the message is 1200 octets, over the 998 RFC 5322 §2.1.1 allows"),
        "{}",
        run.all()
    );
    let srv = scripted(after_greet(accept_all()));
    let run = send(&srv, &["--data", "Subject: x\\n\\nshort\\n"]);
    srv.finish();
    assert!(!run.all().contains("998"), "{}", run.all());
}

/// As in swaks, a literal `\n` in a text/plain `--attach-body` is a line break, as in `--body`,
/// named or not (swaks ignores `--attach-name` for a body part); a part of another type (which
/// swaks sends base64) keeps it.
#[test]
fn attach_body_text_plain_takes_backslash_n_as_swaks_does() {
    let run = ehlo(&[
        "-t",
        "a@example.test",
        "--attach-body",
        "AB\\nCD",
        "--attach-type",
        "text/html",
        "--attach-body",
        "<p>x\\ny</p>",
        "--dump-mail",
    ]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(run.stdout.contains("\r\nAB\r\nCD\r\n"), "{}", run.stdout);
    assert!(run.stdout.contains("<p>x\\ny</p>"), "{}", run.stdout);
    let run = ehlo(&[
        "-t",
        "a@example.test",
        "--attach-name",
        "n.txt",
        "--attach-body",
        "AB\\nCD",
        "--dump-mail",
    ]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(run.stdout.contains("\r\nAB\r\nCD\r\n"), "{}", run.stdout);
    assert!(!run.stdout.contains("AB\\nCD"), "{}", run.stdout);
}

/// Each input is bounded (64 MiB), and so is what its tokens make of it: `%BODY%` a hundred
/// times over a 1 MiB body is refused before connecting, not built (it was: 100 MiB sent, and
/// a few more tokens took gigabytes of memory).
#[test]
fn tokens_cannot_grow_the_message_past_the_bound() {
    let listener = crate::util::tripwire();
    let server = listener.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("many.eml");
    std::fs::write(&data, format!("Subject: x\n\n{}", "%BODY%\n".repeat(100))).unwrap();
    let body = dir.path().join("body.txt");
    std::fs::write(&body, "y".repeat(1 << 20)).unwrap();
    let (data, body) = (
        format!("@{}", data.display()),
        format!("@{}", body.display()),
    );
    let run = ehlo(&[
        "--server",
        &server,
        "--timeout",
        "3",
        "--to",
        "a@example.test",
        "--data",
        &data,
        "--body",
        &body,
    ]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.stderr
            .contains("the message would be larger than 64 MiB once its %TOKEN%s are replaced"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(listener.accept().is_err(), "refused before connecting");
}

/// swaks's quick start sends GTUBE with `--body /path/to/gtube`: a bare argument that names an
/// existing file is the file (with a one-line note suggesting `@FILE`); anything else is text.
#[test]
fn bare_file_arguments_read_the_file_as_swaks_does() {
    let dir = tempfile::tempdir().unwrap();
    let body = dir.path().join("gtube.txt");
    std::fs::write(&body, "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE\n").unwrap();
    let att = dir.path().join("report.csv");
    std::fs::write(&att, "a,b\n1,2\n").unwrap();
    let (body, att) = (body.to_str().unwrap(), att.to_str().unwrap());

    let r = ehlo(&["-t", "a@example.test", "--body", body, "--dump-mail"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains(body), "{}", r.stdout);
    assert!(
        r.stderr.contains(&format!("--body @{body}")),
        "{}",
        r.stderr
    );
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);

    let r = ehlo(&["-t", "a@example.test", "--attach", att, "--dump-mail"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (headers, content) = part(&r.stdout, "report.csv");
    assert!(headers.contains("text/csv"), "{headers}");
    assert!(
        content.contains("a,b") && content.contains("1,2"),
        "{content}"
    );
    assert!(
        r.stderr.contains(&format!("--attach @{att}")),
        "{}",
        r.stderr
    );

    let r = ehlo(&["-t", "a@example.test", "--data", body, "--dump-mail"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with("XJS*C4JDBQADN1"), "{}", r.stdout);

    // Not a file: the text itself, no note.
    let r = ehlo(&[
        "-t",
        "a@example.test",
        "--body",
        "/no/such/gtube",
        "--dump-mail",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("/no/such/gtube"), "{}", r.stdout);
    assert!(r.stderr.is_empty(), "{}", r.stderr);
}

/// `--data mesage.eml` (a typo in the file's name) sends the two words as the whole message, as
/// swaks's bare-file form allows; the run succeeded with nothing said. A one-word `--data` that
/// can only be a file name, and names none, is now said in one line naming `@FILE`; a text
/// that may be a message is not.
#[test]
fn a_data_naming_a_missing_file_is_said() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("mesage.eml");
    let missing = missing.to_str().unwrap();
    // A word naming a directory or a device is no file either: it was sent as the message
    // with nothing said (`--data /tmp`, `--data /dev/zero`).
    let d = dir.path().to_str().unwrap();
    let device = "not a regular file (a device, FIFO or socket)";
    for (arg, what) in [
        (missing, "no such file"),
        ("mesage.eml", "no such file"),
        ("./msg", "no such file"),
        (d, "a directory, not a file"),
        ("/dev/null", device),
    ] {
        let r = ehlo(&["-t", "a@example.test", "--data", arg, "--dump-mail"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(r.stdout.starts_with(arg), "{}", r.stdout);
        assert_eq!(
            r.stderr,
            format!(
                "=== --data {arg}: {what}, so these words are the whole message (a file is \
                 read with --data @FILE)\n"
            ),
            "{arg}"
        );
    }
    for arg in [
        "Subject: x\\n\\nhi",
        "hello",
        "hello world.txt",
        "Subject:a.b",
    ] {
        let r = ehlo(&["-t", "a@example.test", "--data", arg, "--dump-mail"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(r.stderr.is_empty(), "{arg}: {}", r.stderr);
    }
}

/// `--attach report.pdf` naming no file attached the word itself (as swaks does) and the run
/// succeeded with nothing said; now one line says so, as for `--data`. Text that may be the
/// content itself, and `--attach-body` (text, like `--body`), get no note.
#[test]
fn an_attach_naming_a_missing_file_is_said() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("report.pdf");
    let missing = missing.to_str().unwrap();
    for flag in ["--attach", "--attach-inline"] {
        for arg in [missing, "report.pdf", "./scan"] {
            let r = ehlo(&["-t", "a@example.test", flag, arg, "--dump-mail"]);
            assert_eq!(r.code, 0, "{}", r.stderr);
            assert!(
                r.stderr.contains(&format!(
                    "=== {flag} {arg}: no such file, so these words are the part's content (a \
                     file is read with {flag} @FILE)\n"
                )),
                "{flag} {arg}: {}",
                r.stderr
            );
        }
    }
    for (flag, arg) in [
        ("--attach", "some inline text"),
        ("--attach", "hello"),
        ("--attach-body", "page.html"),
    ] {
        let r = ehlo(&["-t", "a@example.test", flag, arg, "--dump-mail"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(
            !r.stderr.contains("no such file"),
            "{flag} {arg}: {}",
            r.stderr
        );
    }
}

/// `--no-data-fixup` data must carry its own end marker: one that lacks only the final CRLF gets
/// it (as swaks does), one with none is refused before connecting, never a hang until the
/// timeout (swaks #69).
#[test]
fn no_data_fixup_never_hangs_on_a_missing_end_marker() {
    let srv = scripted(after_greet(accept_all()));
    let run = send(&srv, &["-ndf", "--data", "Subject: x\r\n\r\nbody\r\n."]);
    let got = srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(got.contains("\r\nbody\r\n.\r\nQUIT"), "{got:?}");

    let run = ehlo_with(
        &[
            "-s",
            "127.0.0.1:9",
            "-t",
            "a@b.test",
            "-ndf",
            "--data",
            "Subject: x\r\n\r\nbody\r\n",
        ],
        None,
        std::time::Duration::from_secs(20),
    );
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(run.stderr.contains("--no-data-fixup"), "{}", run.stderr);
    // The way out it suggests works with -ndf: real CR LF bytes (a file, bash's $'…'), not a
    // written \r\n, which -ndf sends as four characters and refuses the same way.
    assert!(run.stderr.contains("--data @FILE"), "{}", run.stderr);
    assert!(run.stderr.contains("--data $'Subject"), "{}", run.stderr);
    assert!(!run.stderr.contains("--data 'Subject"), "{}", run.stderr);
    assert!(
        !run.all().contains("Trying"),
        "refused before connecting: {}",
        run.all()
    );
}

/// swaks 20201014 replaces with `--header` only a header the message has; the others join the
/// `--add-header`s, after them, every line kept: two `--header X-A` add two headers.
#[test]
fn repeated_header_of_a_new_name_goes_out_twice_after_the_add_headers() {
    let srv = scripted(after_greet(accept_all()));
    let run = send(
        &srv,
        &[
            "--header",
            "X-A: 1",
            "--h-X-A",
            "2",
            "--add-header",
            "X-B: 1",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.all());
    let wire = srv.finish();
    assert!(
        wire.contains("\r\nX-B: 1\r\nX-A: 1\r\nX-A: 2\r\n\r\nThis is a test mailing\r\n.\r\n"),
        "{wire}"
    );
}

/// A file over its limit is refused by its size, before a byte of it is read: a message
/// (`--data @`, `--body @`, `--attach @`, `--data -` with stdin a file, the REPL's
/// `:data @FILE`; 64 MiB); a replay script, read a line at a time, by its first line's. Each used to be read to one byte past
/// its limit first (70 MB resident for a 1 GB `--data @FILE`, up to a second); under a data
/// limit lower than that (`ulimit -d`) the run aborted, exit 134, "memory allocation of
/// 67108865 bytes failed", or said "out of memory" instead of the limit.
#[test]
fn a_file_over_its_limit_is_refused_by_its_size_unread() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.eml");
    // Sparse: no disk space, no time.
    let f = std::fs::File::create(&big).unwrap();
    f.set_len((64 << 20) + 1).unwrap();
    let big = big.to_str().unwrap();
    let at_big = format!("@{big}");
    // Nothing may connect: a run that got past the refusal would say so.
    let closed = tripwire();
    let server = closed.local_addr().unwrap().to_string();
    for flag in ["--data", "--body", "--attach"] {
        let args = ["--server", &server, "--to", "x@example.test", flag, &at_big];
        let run = run_cmd(
            under_data_limit(32 << 10),
            &args,
            None,
            Duration::from_secs(30),
        );
        assert_eq!(run.code, 1, "{flag}: {}", run.all());
        assert!(
            run.stderr.contains(&format!("{flag}: larger than 64 MiB")),
            "{flag}: {}",
            run.all()
        );
        assert!(!run.all().contains("Trying"), "{flag}: {}", run.all());
    }
    // Stdin redirected from the file (`--data - < big.eml`): its size is looked at too.
    let mut cmd = under_data_limit(32 << 10);
    isolate(&mut cmd);
    let out = cmd
        .args(["--server", &server, "--to", "x@example.test", "--data", "-"])
        .stdin(std::fs::File::open(big).unwrap())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("--data: larger than 64 MiB"), "{stderr}");
    // A domain list (`ehlo check @FILE`, 64 MiB): this one, without a newline, was one line
    // held to the limit.
    let run = run_cmd(
        under_data_limit(32 << 10),
        &["check", &at_big],
        None,
        Duration::from_secs(30),
    );
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.stderr.contains("is larger than 64 MiB"),
        "{}",
        run.all()
    );
    // A replay script is read a line at a time, a file of any size: this one line is refused
    // past 1 MiB, read on unheld to count it, under a lower data limit.
    let run = run_cmd(
        under_data_limit(8 << 10),
        &["replay", big, "--server", &server],
        None,
        Duration::from_secs(30),
    );
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.stderr
            .contains("line 1: a line of 67 108 865 bytes, longer than any"),
        "{}",
        run.all()
    );
    // The REPL's `:data @FILE`: refused, nothing sent, the session goes on to its QUIT.
    let srv = scripted(vec![
        Step::Send(b"220 scripted.test ESMTP\r\n"),
        Step::Expect("QUIT"),
        Step::Send(b"221 bye\r\n"),
    ]);
    let addr = srv.server();
    let stdin = format!(":data {at_big}\n");
    let run = run_cmd(
        under_data_limit(32 << 10),
        &["repl", &addr],
        Some(stdin.as_bytes()),
        Duration::from_secs(30),
    );
    assert!(run.stderr.contains("is over 64 MiB"), "{}", run.all());
    assert_eq!(srv.finish(), "QUIT\r\n");
}
