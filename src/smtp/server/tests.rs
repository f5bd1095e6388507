//! Byte-buffer tests of the server `Session` (the sans-IO testing style of quinn-proto and rustls): exact reply bytes, actions and
//! events for each behaviour and each fault.

use super::*;

/// Everything the session produced, in stream order.
#[derive(Debug, Default)]
struct Output {
    bytes: Vec<u8>,
    /// Actions other than the content ones ([`ServerAction::Content`], [`ServerAction::Discard`]),
    /// which [`drain`] applies to the message being received as a driver would; a `Store` here
    /// carries that message's content.
    actions: Vec<ServerAction>,
    /// Bytes and actions interleaved as the driver sees them (content actions left out).
    stream: Vec<Result<Vec<u8>, ServerAction>>,
    events: Vec<Event>,
    /// Content pieces received, and how many messages were discarded.
    pieces: Vec<usize>,
    discards: usize,
}

thread_local! {
    /// The message being received by each session of the test (by address: a session is not
    /// moved once it reads content), as a driver keeps it.
    static DRAFTS: std::cell::RefCell<std::collections::HashMap<usize, Vec<u8>>> =
        std::cell::RefCell::default();
}

impl Output {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
    fn stored(&self) -> Vec<StoredMessage> {
        self.actions
            .iter()
            .filter_map(|a| match a {
                ServerAction::Store(m) => Some((**m).clone()),
                _ => None,
            })
            .collect()
    }
    fn replies(&self) -> Vec<(u16, Phase)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::ServerReply { reply, phase, .. } => Some((reply.code?, *phase)),
                _ => None,
            })
            .collect()
    }
}

fn drain(s: &mut Session) -> Output {
    let mut o = Output::default();
    let key = std::ptr::from_ref::<Session>(s) as usize;
    loop {
        if let Some(b) = s.poll_transmit() {
            o.bytes.extend_from_slice(&b);
            o.stream.push(Ok(b));
        } else if let Some(mut a) = s.poll_action() {
            match &mut a {
                ServerAction::Content(piece) => {
                    o.pieces.push(piece.len());
                    DRAFTS.with(|d| d.borrow_mut().entry(key).or_default().extend(&*piece));
                    continue;
                }
                ServerAction::Discard => {
                    o.discards += 1;
                    DRAFTS.with(|d| d.borrow_mut().remove(&key));
                    continue;
                }
                ServerAction::Store(m) => {
                    assert!(m.content.is_empty(), "the content was streamed");
                    m.content = DRAFTS
                        .with(|d| d.borrow_mut().remove(&key))
                        .unwrap_or_default();
                    assert_eq!(m.size, m.content.len());
                }
                _ => {}
            }
            o.actions.push(a.clone());
            let store = matches!(a, ServerAction::Store(_));
            o.stream.push(Err(a));
            if store {
                // The driver kept the message (see `store_failure_is_451` for the other case).
                s.stored(StoreOutcome::Kept);
            }
        } else {
            break;
        }
    }
    while let Some(e) = s.poll_event() {
        o.events.push(e);
    }
    o
}

fn cfg() -> ServerConfig {
    ServerConfig {
        hostname: "mx.test".into(),
        users: vec![("alice".into(), Secret::new("s3cret"))],
        ..ServerConfig::default()
    }
}

fn faults(f: &[&str]) -> Faults {
    let v: Vec<String> = f.iter().map(|s| s.to_string()).collect();
    crate::cli::serve_specs::faults(&v, &[], &[]).unwrap()
}

fn session(c: ServerConfig) -> (Session, Output) {
    // A new session of this thread: a draft left by a dropped one (at the same address) goes.
    DRAFTS.with(|d| d.borrow_mut().clear());
    let mut s = Session::new(c);
    s.greeting();
    let o = drain(&mut s);
    (s, o)
}

fn feed(s: &mut Session, input: &[u8]) -> Output {
    s.feed(input);
    drain(s)
}

const EHLO_REPLY: &str = "250-mx.test Hello client.test\r\n250-PIPELINING\r\n250-SIZE 10485760\r\n\
250-AUTH PLAIN LOGIN CRAM-MD5\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n\
250-SMTPUTF8\r\n250 CHUNKING\r\n";

#[test]
fn full_plain_transaction() {
    let (mut s, o) = session(cfg());
    assert_eq!(o.text(), "220 mx.test ESMTP ehlo serve ready\r\n");
    assert_eq!(o.replies(), vec![(220, Phase::Banner)]);

    let o = feed(&mut s, b"EHLO client.test\r\n");
    assert_eq!(o.text(), EHLO_REPLY);
    assert_eq!(
        o.events[0],
        Event::ClientCommand {
            text: "EHLO client.test".into(),
            tls: false,
            phase: Phase::Helo,
            redacted: false
        }
    );
    assert_eq!(o.replies(), vec![(250, Phase::Helo)]);

    assert_eq!(
        feed(&mut s, b"MAIL FROM:<a@x.test> SIZE=20\r\n").text(),
        "250 2.1.0 Ok\r\n"
    );
    assert_eq!(
        feed(&mut s, b"RCPT TO:<b@y.test>\r\n").text(),
        "250 2.1.5 Ok\r\n"
    );
    let o = feed(&mut s, b"DATA\r\n");
    assert_eq!(o.text(), "354 End data with <CR><LF>.<CR><LF>\r\n");
    assert_eq!(o.replies(), vec![(354, Phase::Data)]);

    let o = feed(&mut s, b"Subject: hi\r\n\r\nbody\r\n.\r\n");
    let stored = o.stored();
    assert_eq!(stored.len(), 1);
    let m = &stored[0];
    assert_eq!(m.from, "a@x.test");
    assert_eq!(m.rcpts, vec!["b@y.test".to_string()]);
    assert_eq!(m.content, b"Subject: hi\r\n\r\nbody\r\n");
    assert_eq!(m.helo.as_deref(), Some("client.test"));
    assert_eq!(m.mail_params, vec!["SIZE=20".to_string()]);
    assert!(!m.tls && m.auth_user.is_none() && !m.bare_newlines);
    assert_eq!(o.text(), format!("250 2.0.0 Ok: queued as {}\r\n", m.id));
    assert_eq!(m.id.len(), 10);
    // The message is stored before the reply saying so is written.
    assert!(matches!(o.stream[0], Err(ServerAction::Store(_))));
    assert_eq!(o.replies(), vec![(250, Phase::Dot)]);

    let o = feed(&mut s, b"QUIT\r\n");
    assert_eq!(o.text(), "221 2.0.0 Bye\r\n");
    assert_eq!(o.actions, vec![ServerAction::Close]);
    assert!(s.is_closed());
    // Nothing more after QUIT.
    assert!(feed(&mut s, b"NOOP\r\n").bytes.is_empty());
}

#[test]
fn without_transcript_the_bytes_are_the_same_and_no_transcript_event_is_made() {
    // Multi-line, enhanced-code, fault, AUTH and refused replies, written with and without the
    // transcript (`ehlo serve --quiet`): byte for byte the same wire and the same actions.
    let script: &[&[u8]] = &[
        b"EHLO client.test\r\n",
        b"HELP\r\n",
        b"AUTH PLAIN AGFsaWNlAHMzY3JldA==\r\n",
        b"MAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nRCPT TO:<c@y.test>\r\nDATA\r\n",
        b"Subject: hi\r\n\r\nbody\r\n.\r\n",
        b"BOGUS\r\nMAIL FROM:<a\rb>\r\nNOOP\r\nQUIT\r\n",
    ];
    let run = |transcript: bool| {
        let f = faults(&["rcpt#2=550:5.1.1"]);
        let (mut s, first) = session(ServerConfig {
            transcript,
            faults: f,
            seed: 3,
            ..cfg()
        });
        let mut outs = vec![first];
        for input in script {
            outs.push(feed(&mut s, input));
        }
        outs
    };
    let (with, without) = (run(true), run(false));
    for (a, b) in with.iter().zip(&without) {
        assert_eq!(a.text(), b.text());
        assert_eq!(a.actions, b.actions);
        assert!(
            !b.events
                .iter()
                .any(|e| matches!(e, Event::ClientCommand { .. } | Event::ServerReply { .. }))
        );
    }
    let all: String = with.iter().map(Output::text).collect();
    for reply in [
        "250-mx.test Hello",
        "214-2.0.0 ehlo serve",
        "235 2.7.0",
        "550 5.1.1 Fault",
    ] {
        assert!(all.contains(reply), "{reply} in {all}");
    }
    assert!(
        all.contains("501 5.1.7") && all.ends_with("221 2.0.0 Bye\r\n"),
        "{all}"
    );
    assert!(with.iter().any(|o| !o.replies().is_empty()));
}

#[test]
fn queue_ids_are_deterministic_per_seed() {
    let run = |seed| {
        let (mut s, _) = session(ServerConfig { seed, ..cfg() });
        let o = feed(
            &mut s,
            b"HELO c\r\nMAIL FROM:<>\r\nRCPT TO:<b@y>\r\nDATA\r\nx\r\n.\r\n",
        );
        o.stored()[0].id.clone()
    };
    assert_eq!(run(7), run(7));
    assert_ne!(run(7), run(8));
    assert_eq!(run(0), run(0));
}

#[test]
fn pipelined_transaction_in_one_feed() {
    let (mut s, _) = session(cfg());
    let o = feed(
        &mut s,
        b"EHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nRCPT TO:<c@y>\r\nDATA\r\nhello\r\n.\r\nQUIT\r\n",
    );
    let codes: Vec<u16> = o.replies().iter().map(|r| r.0).collect();
    assert_eq!(codes, vec![250, 250, 250, 250, 354, 250, 221]);
    let m = &o.stored()[0];
    assert_eq!(m.rcpts, vec!["b@y".to_string(), "c@y".to_string()]);
    assert_eq!(m.content, b"hello\r\n");
    assert_eq!(o.actions.last(), Some(&ServerAction::Close));
}

#[test]
fn dot_stuffed_content_is_unstuffed() {
    let (mut s, _) = session(cfg());
    feed(
        &mut s,
        b"HELO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n",
    );
    let o = feed(&mut s, b"..leading dot\r\n...two\r\n.\r\n");
    assert_eq!(o.stored()[0].content, b".leading dot\r\n..two\r\n");
}

#[test]
fn byte_at_a_time_gives_the_same_result() {
    let input: &[u8] =
        b"EHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\nl1\r\n..l2\r\n.\r\nQUIT\r\n";
    let (mut whole, _) = session(cfg());
    let a = feed(&mut whole, input);
    let (mut bytewise, _) = session(cfg());
    let mut b = Output::default();
    for byte in input {
        let o = feed(&mut bytewise, std::slice::from_ref(byte));
        b.bytes.extend(o.bytes);
        b.actions.extend(o.actions);
    }
    assert_eq!(a.bytes, b.bytes);
    assert_eq!(a.actions, b.actions);
    assert_eq!(b.stored()[0].content, b"l1\r\n.l2\r\n");
}

#[test]
fn bare_lf_content_is_kept_and_flagged() {
    let (mut s, _) = session(cfg());
    feed(
        &mut s,
        b"HELO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n",
    );
    // `\n.\n` is not the end marker (smuggling defence); only CRLF.CRLF is.
    let o = feed(&mut s, b"a\n.\nb\r\n.\r\n");
    let m = &o.stored()[0];
    assert_eq!(m.content, b"a\n.\nb\r\n");
    assert!(m.bare_newlines);
    assert!(
        o.events
            .iter()
            .any(|e| matches!(e, Event::Warning { message } if message.contains("smuggling")))
    );
}

/// 8-bit content is stored as sent, and said when the client did not declare it (RFC 6152
/// §3): a client under test that forgets `BODY=8BITMIME` used to go unnoticed.
#[test]
fn undeclared_eight_bit_content_is_stored_with_a_warning() {
    let eight_bit_warning = |o: &Output| -> Vec<String> {
        o.events
            .iter()
            .filter_map(|e| match e {
                Event::Warning { message } if message.contains("8-bit") => {
                    Some(message.to_string())
                }
                _ => None,
            })
            .collect()
    };
    let send = |s: &mut Session, mail: &str, content: &[u8]| -> Output {
        feed(s, format!("{mail}\r\nRCPT TO:<b@y>\r\nDATA\r\n").as_bytes());
        feed(s, content)
    };
    let (mut s, _) = session(cfg());
    feed(&mut s, b"EHLO c\r\n");
    let o = send(&mut s, "MAIL FROM:<a@x>", "caf\u{e9}\r\n.\r\n".as_bytes());
    assert_eq!(o.stored()[0].content, "caf\u{e9}\r\n".as_bytes());
    let w = eight_bit_warning(&o);
    assert_eq!(w.len(), 1, "{:?}", o.events);
    assert!(w[0].contains("MAIL declared no BODY=8BITMIME"), "{w:?}");
    for declared in ["MAIL FROM:<a@x> BODY=8BITMIME", "MAIL FROM:<a@x> SMTPUTF8"] {
        let o = send(&mut s, declared, "caf\u{e9}\r\n.\r\n".as_bytes());
        assert_eq!(o.stored().len(), 1);
        assert!(
            eight_bit_warning(&o).is_empty(),
            "{declared}: {:?}",
            o.events
        );
    }
    let o = send(&mut s, "MAIL FROM:<a@x>", b"plain\r\n.\r\n");
    assert_eq!(o.stored().len(), 1);
    assert!(eight_bit_warning(&o).is_empty(), "{:?}", o.events);
    // Not offered at all (HELO): said so.
    let (mut s, _) = session(cfg());
    feed(&mut s, b"HELO c\r\n");
    let o = send(
        &mut s,
        "MAIL FROM:<a@x>",
        &[b'x', 0xff, b'\r', b'\n', b'.', b'\r', b'\n'],
    );
    assert_eq!(o.stored().len(), 1);
    let w = eight_bit_warning(&o);
    assert!(
        w.len() == 1 && w[0].contains("8BITMIME was not offered"),
        "{w:?}"
    );
}

#[test]
fn bare_lf_command_lines_are_accepted_with_a_deviation() {
    let (mut s, _) = session(cfg());
    let o = feed(&mut s, b"HELO c\nNOOP\n");
    assert_eq!(o.text(), "250 mx.test\r\n250 2.0.0 Ok\r\n");
    let devs: Vec<_> = o
        .events
        .iter()
        .filter(|e| matches!(e, Event::Deviation { .. }))
        .collect();
    assert_eq!(devs.len(), 1, "recorded once per session");
    // A client's command line, not a reply, in the phase of the command it ended (not the
    // one before).
    let (mut s, _) = session(cfg());
    let o = feed(&mut s, b"EHLO c\r\nMAIL FROM:<a@x>\n");
    let devs: Vec<_> = o
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Deviation { deviation, phase } => Some((deviation.clone(), *phase)),
            _ => None,
        })
        .collect();
    assert_eq!(devs, [(Deviation::BareLfCommand, Phase::Mail)]);
    assert_eq!(
        crate::render::human::describe_deviation(&Deviation::BareLfCommand),
        "command line from the client ended in a bare LF instead of CRLF (RFC 5321 §2.3.8; taken as the line end)"
    );
}

#[test]
fn sequence_and_syntax_errors() {
    let (mut s, _) = session(cfg());
    assert_eq!(
        feed(&mut s, b"MAIL FROM:<a@x>\r\n").text(),
        "503 5.5.1 Error: send HELO/EHLO first\r\n"
    );
    feed(&mut s, b"EHLO c\r\n");
    assert_eq!(
        feed(&mut s, b"RCPT TO:<b@y>\r\n").text(),
        "503 5.5.1 Error: need MAIL command\r\n"
    );
    assert_eq!(
        feed(&mut s, b"DATA\r\n").text(),
        "503 5.5.1 Error: need MAIL command\r\n"
    );
    assert_eq!(
        feed(&mut s, b"FOO bar\r\n").text(),
        "500 5.5.2 Error: command not recognized\r\n"
    );
    // RFC 3463 §3.6 X.5.2 (unrecognized), as Postfix answers it; it said 5.5.1.
    for verb in [&b"TURN\r\n"[..], b"LHLO c\r\n", "\u{e9}\r\n".as_bytes()] {
        assert_eq!(
            feed(&mut s, verb).text(),
            "500 5.5.2 Error: command not recognized\r\n"
        );
    }
    assert!(
        feed(&mut s, b"MAIL TO:<a@x>\r\n")
            .text()
            .starts_with("501 5.5.4 ")
    );
    assert_eq!(
        feed(&mut s, b"\r\n").text(),
        "500 5.5.2 Error: bad syntax\r\n"
    );
    feed(&mut s, b"MAIL FROM:<a@x>\r\n");
    assert_eq!(
        feed(&mut s, b"MAIL FROM:<a@x>\r\n").text(),
        "503 5.5.1 Error: nested MAIL command\r\n"
    );
    assert_eq!(
        feed(&mut s, b"DATA\r\n").text(),
        "554 5.5.1 Error: no valid recipients\r\n"
    );
    assert_eq!(
        feed(&mut s, b"MAIL FROM:<a@x> FOO=1\r\n").text(),
        "503 5.5.1 Error: nested MAIL command\r\n"
    );
    assert_eq!(feed(&mut s, b"RSET\r\n").text(), "250 2.0.0 Ok\r\n");
    assert_eq!(
        feed(&mut s, b"MAIL FROM:<a@x> FOO=1\r\n").text(),
        "555 5.5.4 Unsupported option: FOO=1\r\n"
    );
    // A parameter without a keyword is quoted whole, as Postfix quotes it (it was quoted as
    // nothing: `Unsupported option: `).
    assert_eq!(
        feed(&mut s, b"MAIL FROM:<a@x> =1\r\n").text(),
        "555 5.5.4 Unsupported option: =1\r\n"
    );
    feed(&mut s, b"MAIL FROM:<a@x>\r\n");
    assert_eq!(
        feed(&mut s, b"RCPT TO:<b@y> =x\r\n").text(),
        "555 5.5.4 Unsupported option: =x\r\n"
    );
    assert_eq!(feed(&mut s, b"RSET\r\n").text(), "250 2.0.0 Ok\r\n");
    assert_eq!(
        feed(&mut s, b"MAIL FROM:<a@x> SIZE=99999999999\r\n").text(),
        "552 5.3.4 Message size exceeds fixed limit\r\n"
    );
    assert_eq!(
        feed(&mut s, b"VRFY bob\r\n").text(),
        "252 2.5.0 Cannot VRFY user, but will accept message and attempt delivery\r\n"
    );
    assert_eq!(
        feed(&mut s, b"HELP\r\n").text(),
        "214-2.0.0 ehlo serve: a test SMTP server\r\n214 2.0.0 Commands: EHLO HELO AUTH MAIL RCPT DATA BDAT RSET NOOP VRFY HELP QUIT\r\n"
    );
}

/// HELP lists what this session would carry out: it used to name STARTTLS, AUTH and BDAT
/// whatever the options, to a client that then got 502 for them.
#[test]
fn help_lists_only_the_commands_offered() {
    let help = |c: ServerConfig| {
        let (mut s, _) = session(c);
        feed(&mut s, b"HELP\r\n").text()
    };
    let bare = ServerConfig {
        hostname: "mx.test".into(),
        faults: faults(&["hide=CHUNKING"]),
        ..ServerConfig::default()
    };
    assert_eq!(
        help(bare),
        "214-2.0.0 ehlo serve: a test SMTP server\r\n214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA RSET NOOP VRFY HELP QUIT\r\n"
    );
    let tls = ServerConfig {
        starttls: true,
        ..cfg()
    };
    assert!(help(tls).ends_with(
        "Commands: EHLO HELO STARTTLS AUTH MAIL RCPT DATA BDAT RSET NOOP VRFY HELP QUIT\r\n"
    ));
    let (mut s, _) = session(ServerConfig {
        starttls: true,
        faults: faults(&["hide=STARTTLS", "hide=AUTH"]),
        ..cfg()
    });
    let r = feed(&mut s, b"HELP\r\n").text();
    assert!(!r.contains("STARTTLS") && !r.contains("AUTH"), "{r}");
    assert!(
        feed(&mut s, b"STARTTLS\r\n").text().starts_with("502 "),
        "HELP agrees with the refusal"
    );
}

#[test]
fn recipient_cap() {
    let (mut s, _) = session(cfg());
    feed(&mut s, b"EHLO c\r\nMAIL FROM:<a@x>\r\n");
    let mut input = Vec::new();
    for i in 0..=MAX_RCPTS {
        input.extend_from_slice(format!("RCPT TO:<r{i}@y>\r\n").as_bytes());
    }
    let o = feed(&mut s, &input);
    assert_eq!(o.replies().len(), MAX_RCPTS + 1);
    assert!(
        o.text()
            .ends_with("250 2.1.5 Ok\r\n452 4.5.3 Error: too many recipients\r\n")
    );
}

/// A caller may hand over any amount at once (a fuzzer, a test, a driver reading more): the
/// session takes it [`FEED_PIECE`] bytes at a time. Before, the whole call went into the input
/// buffer and each of its lines moved the rest of it, so the work grew with the square of the
/// call's size.
#[test]
fn a_large_feed_is_read_a_piece_at_a_time_with_every_command_answered() {
    let (mut s, _) = session(cfg());
    let n = 50_000;
    let o = feed(&mut s, "NOOP\r\n".repeat(n).as_bytes());
    assert!(
        s.inbuf.capacity() <= 2 * (FEED_PIECE + MAX_SASL_LINE),
        "input buffer of {} bytes for a {} byte feed",
        s.inbuf.capacity(),
        6 * n
    );
    assert_eq!(o.text(), "250 2.0.0 Ok\r\n".repeat(n));
    // A line split across two pieces is one line.
    let line = format!("NOOP {}\r\n", "x".repeat(100));
    let pad = "NOOP\r\n".repeat(FEED_PIECE / 12);
    let split = format!(
        "{pad}{}{line}",
        "\r\n".repeat((FEED_PIECE - pad.len() - 50) / 2)
    );
    assert!(split.len() > FEED_PIECE && split.len() - line.len() < FEED_PIECE);
    let o = feed(&mut s, split.as_bytes());
    assert!(o.text().ends_with("250 2.0.0 Ok\r\n"), "{}", o.text());
    assert_eq!(
        o.text().matches("250 2.0.0 Ok").count(),
        FEED_PIECE / 12 + 1
    );
}

#[test]
fn oversize_line_is_refused_as_soon_as_it_passes_the_limit_and_bounded() {
    let (mut s, _) = session(cfg());
    // Fed in pieces with no LF: answered once the limit is passed, not at the line end (a
    // 13 MB line used to get no reply until the idle timeout), and not kept.
    let o = feed(&mut s, &[b'A'; 2048]);
    assert_eq!(o.text(), "500 5.5.2 Line too long\r\n");
    assert!(o.events.iter().any(|e| matches!(
        e,
        Event::Deviation {
            deviation: Deviation::OverlongLine {
                len: 2049,
                limit: MAX_LINE
            },
            ..
        }
    )));
    for _ in 0..100 {
        let o = feed(&mut s, &[b'A'; 1000]);
        assert!(o.bytes.is_empty() && o.events.is_empty(), "{o:?}");
        assert!(s.inbuf.len() <= MAX_LINE);
    }
    // The rest of the line gets no second reply; the session goes on.
    let o = feed(&mut s, b"\r\nNOOP\r\n");
    assert_eq!(o.text(), "250 2.0.0 Ok\r\n");
    // A line whose LF came in the same read, beyond the limit, is answered once too.
    let o = feed(
        &mut s,
        format!("NOOP {}\r\nNOOP\r\n", "x".repeat(2100)).as_bytes(),
    );
    assert_eq!(o.text(), "500 5.5.2 Line too long\r\n250 2.0.0 Ok\r\n");
    // A line of exactly 2048 octets with its CRLF is fine (it is just unknown).
    let mut line = vec![b'X'; 2046];
    line.extend_from_slice(b"\r\n");
    assert_eq!(
        feed(&mut s, &line).text(),
        "500 5.5.2 Error: command not recognized\r\n"
    );
}

/// RFC 5321 §4.5.3.1.4 sets 512 octets for a command line and §4.5.3.1 asks a server to take
/// longer ones where it can: Postfix takes up to 2048 (`line_length_limit`), Exim 16 KiB. A
/// line of 1001 to 2048 octets (a MAIL with many parameters, a long NOOP) got `500 5.5.2 Line
/// too long` here where both answer it; now it is answered as any other line.
#[test]
fn command_lines_up_to_2048_octets_are_taken_as_postfix_takes_them() {
    let (mut s, _) = session(cfg());
    feed(&mut s, b"EHLO c.test\r\n");
    let noop = format!("NOOP {}\r\n", "n".repeat(2048 - "NOOP \r\n".len()));
    assert_eq!(noop.len(), 2048);
    assert_eq!(feed(&mut s, noop.as_bytes()).text(), "250 2.0.0 Ok\r\n");
    let blanks = " ".repeat(1400);
    let mail = format!("MAIL FROM:<a@b.test>{blanks}SIZE=10 BODY=8BITMIME\r\n");
    assert!(mail.len() > 1400 && mail.len() <= 2048);
    assert_eq!(feed(&mut s, mail.as_bytes()).text(), "250 2.1.0 Ok\r\n");
    let rcpt = format!(
        "RCPT TO:<{}@b.test>{blanks}NOTIFY=NEVER\r\n",
        "r".repeat(64)
    );
    assert_eq!(feed(&mut s, rcpt.as_bytes()).text(), "250 2.1.5 Ok\r\n");
    // One octet more is still refused.
    let over = format!("NOOP {}\r\n", "n".repeat(2049 - "NOOP \r\n".len()));
    assert_eq!(
        feed(&mut s, over.as_bytes()).text(),
        "500 5.5.2 Line too long\r\n"
    );
}

#[test]
fn helo_resets_and_lmtp() {
    let (mut s, o) = session(ServerConfig {
        lmtp: true,
        ..cfg()
    });
    assert_eq!(o.text(), "220 mx.test LMTP ehlo serve ready\r\n");
    assert_eq!(
        feed(&mut s, b"EHLO c\r\n").text(),
        "500 5.5.1 Error: this is an LMTP server, use LHLO\r\n"
    );
    assert!(
        feed(&mut s, b"LHLO c\r\n")
            .text()
            .starts_with("250-mx.test Hello c\r\n")
    );
    let o = feed(
        &mut s,
        b"MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nRCPT TO:<c@y>\r\nDATA\r\nhi\r\n.\r\n",
    );
    let id = o.stored()[0].id.clone();
    assert!(o.text().ends_with(&format!(
        "354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 <b@y> Ok: delivered as {id}\r\n250 2.0.0 <c@y> Ok: delivered as {id}\r\n"
    )));
    let (mut s, _) = session(cfg());
    assert!(feed(&mut s, b"LHLO c\r\n").text().starts_with("500 5.5.2"));
}

/// With CHUNKING hidden, BDAT is answered at once and the connection closed, as Postfix
/// answers it with `smtpd_discard_ehlo_keywords = chunking`: the server never offered
/// CHUNKING, so it neither waits for a chunk the client may never send nor reads one as commands.
#[test]
fn hidden_chunking_refuses_bdat_at_once_and_closes() {
    let hide = || ServerConfig {
        faults: crate::cli::serve_specs::faults(&[], &[], &["CHUNKING".into()]).unwrap(),
        ..cfg()
    };
    let (mut s, _) = session(hide());
    feed(&mut s, b"EHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\n");
    // No chunk bytes follow: the reply does not wait for them.
    let o = feed(&mut s, b"BDAT 5\r\n");
    assert_eq!(o.text(), "521 5.5.1 Error: command not implemented\r\n");
    assert!(s.is_closed());
    // A chunk sent anyway is not taken as commands.
    let (mut s, _) = session(hide());
    feed(&mut s, b"EHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\n");
    let o = feed(&mut s, b"BDAT 6 LAST\r\nNOOP\r\n");
    assert_eq!(o.text(), "521 5.5.1 Error: command not implemented\r\n");
    assert!(o.stored().is_empty());
}

#[test]
fn bdat_chunks() {
    let (mut s, _) = session(cfg());
    feed(&mut s, b"EHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\n");
    // A chunk may contain anything, CRLF.CRLF included, and is not un-stuffed.
    let o = feed(&mut s, b"BDAT 7\r\nab\r\n.\r\nBDAT 3 LAST\r\n..x");
    let m = &o.stored()[0];
    assert_eq!(m.content, b"ab\r\n.\r\n..x");
    assert_eq!(
        o.text(),
        format!(
            "250 2.0.0 7 octets received\r\n250 2.0.0 Ok: queued as {}\r\n",
            m.id
        )
    );
    // Refused BDAT: the chunk is still read, then the refusal; the stream stays in sync.
    let o = feed(&mut s, b"BDAT 6\r\nNOOP\r\nNOOP\r\n");
    assert_eq!(
        o.text(),
        "503 5.5.1 Error: need MAIL command\r\n250 2.0.0 Ok\r\n"
    );
    // DATA after BDAT in one transaction is out of sequence.
    feed(&mut s, b"MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nBDAT 1\r\nx");
    assert_eq!(
        feed(&mut s, b"DATA\r\n").text(),
        "503 5.5.1 Error: DATA after BDAT in one transaction\r\n"
    );
    // Too big: content beyond the limit is discarded, 552 after the chunk.
    let (mut s, _) = session(ServerConfig {
        max_size: 4,
        ..cfg()
    });
    feed(&mut s, b"EHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\n");
    let o = feed(&mut s, b"BDAT 10 LAST\r\n0123456789NOOP\r\n");
    assert_eq!(
        o.text(),
        "552 5.3.4 Message size exceeds fixed limit\r\n250 2.0.0 Ok\r\n"
    );
    assert!(o.stored().is_empty());
}

#[test]
fn data_too_big() {
    let (mut s, _) = session(ServerConfig {
        max_size: 4,
        ..cfg()
    });
    feed(
        &mut s,
        b"EHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n",
    );
    let o = feed(&mut s, b"0123456789\r\n.\r\n");
    assert_eq!(o.text(), "552 5.3.4 Message size exceeds fixed limit\r\n");
    assert!(o.stored().is_empty());
}

/// `--max-size 0`: no limit (RFC 1870 §4), advertised as a bare `SIZE` rather than `SIZE 0`,
/// and neither `MAIL … SIZE=` nor the content is refused for its size.
#[test]
fn max_size_zero_is_no_limit() {
    let (mut s, _) = session(ServerConfig {
        max_size: 0,
        ..cfg()
    });
    let o = feed(&mut s, b"EHLO c\r\n");
    let ehlo = o.text();
    assert!(ehlo.contains("250-SIZE\r\n"), "{ehlo}");
    assert!(!ehlo.contains("SIZE 0"), "{ehlo}");
    let o = feed(
        &mut s,
        b"MAIL FROM:<a@x> SIZE=99999999999\r\nRCPT TO:<b@y>\r\nDATA\r\n",
    );
    assert!(o.text().starts_with("250 2.1.0"), "{}", o.text());
    let o = feed(&mut s, b"0123456789\r\n.\r\n");
    assert!(o.text().starts_with("250 2.0.0"), "{}", o.text());
    assert_eq!(o.stored().len(), 1);
    // BDAT too.
    feed(&mut s, b"MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\n");
    let o = feed(&mut s, b"BDAT 10 LAST\r\n0123456789");
    assert!(o.text().starts_with("250 2.0.0"), "{}", o.text());
    assert_eq!(o.stored().len(), 1);
}

// ---- AUTH ----------------------------------------------------------------------------------

fn b64(s: &[u8]) -> String {
    B64.encode(s)
}

/// A configured password a client sends outside an AUTH exchange (`NOOP <password>`, its
/// base64 after the 235) is shown masked in the transcript,
/// as the client's own REPL masks it; the line still gets its answer. It was shown as sent.
#[test]
fn a_configured_password_sent_outside_auth_is_masked_in_the_transcript() {
    let (mut s, _) = session(cfg());
    feed(&mut s, b"EHLO c\r\n");
    for (line, shown) in [
        ("NOOP s3cret".to_string(), "NOOP ********"),
        (b64(b"s3cret"), "********"),
        ("NOOP public".to_string(), "NOOP public"),
    ] {
        let o = feed(&mut s, format!("{line}\r\n").as_bytes());
        assert!(
            o.text().starts_with('2') || o.text().starts_with('5'),
            "{}",
            o.text()
        );
        match &o.events[0] {
            Event::ClientCommand { text, redacted, .. } => {
                assert_eq!(text, shown, "{line}");
                assert_eq!(*redacted, shown != line, "{line}");
            }
            e => panic!("{e:?}"),
        }
    }
}

#[test]
fn auth_plain_ok_and_bad() {
    let (mut s, _) = session(cfg());
    feed(&mut s, b"EHLO c\r\n");
    let bad = format!("AUTH PLAIN {}\r\n", b64(b"\0alice\0wrong"));
    let o = feed(&mut s, bad.as_bytes());
    assert_eq!(o.text(), "535 5.7.8 Authentication credentials invalid\r\n");
    match &o.events[0] {
        Event::ClientCommand { text, redacted, .. } => {
            assert!(*redacted);
            assert!(text.starts_with("AUTH PLAIN ****"), "{text}");
            assert!(!text.contains(&b64(b"\0alice\0wrong")));
        }
        e => panic!("{e:?}"),
    }
    let good = format!("AUTH PLAIN {}\r\n", b64(b"\0alice\0s3cret"));
    let o = feed(&mut s, good.as_bytes());
    assert_eq!(o.text(), "235 2.7.0 Authentication successful\r\n");
    assert_eq!(o.replies(), vec![(235, Phase::Auth)]);
    assert_eq!(
        feed(&mut s, good.as_bytes()).text(),
        "503 5.5.1 Error: already authenticated\r\n"
    );
    let o = feed(
        &mut s,
        b"MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\nx\r\n.\r\n",
    );
    assert_eq!(o.stored()[0].auth_user.as_deref(), Some("alice"));
}

#[test]
fn auth_plain_refuses_an_authzid_other_than_the_user() {
    // RFC 4616 §2: the server must check the client may act as the authzid; serve knows no
    // such rights, so an authzid other than the user is refused (535 5.7.8, as Postfix with
    // Dovecot answers), and counts as a failed attempt. The user's own name is fine.
    let (mut s, _) = session(cfg());
    feed(&mut s, b"EHLO c\r\n");
    let other = format!("AUTH PLAIN {}\r\n", b64(b"root\0alice\0s3cret"));
    let o = feed(&mut s, other.as_bytes());
    assert!(o.text().starts_with("535 5.7.8 "), "{}", o.text());
    assert!(o.text().contains("authorization identity"), "{}", o.text());
    assert!(
        o.actions.contains(&ServerAction::Delay(250)),
        "{:?}",
        o.actions
    );
    let own = format!("AUTH PLAIN {}\r\n", b64(b"alice\0alice\0s3cret"));
    let o = feed(&mut s, own.as_bytes());
    assert_eq!(o.text(), "235 2.7.0 Authentication successful\r\n");
    let o = feed(
        &mut s,
        b"MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\nx\r\n.\r\n",
    );
    assert_eq!(o.stored()[0].auth_user.as_deref(), Some("alice"));
    // Also with --accept-any-auth: any credentials, but no acting as someone else.
    let (mut s, _) = session(ServerConfig {
        accept_any_auth: true,
        ..cfg()
    });
    feed(&mut s, b"EHLO c\r\n");
    let o = feed(&mut s, other.as_bytes());
    assert!(o.text().starts_with("535 5.7.8 "), "{}", o.text());
}

#[test]
fn auth_plain_without_initial_response_and_login() {
    let (mut s, _) = session(cfg());
    feed(&mut s, b"EHLO c\r\n");
    assert_eq!(feed(&mut s, b"AUTH PLAIN\r\n").text(), "334 \r\n");
    let resp = format!("{}\r\n", b64(b"\0alice\0s3cret"));
    let o = feed(&mut s, resp.as_bytes());
    assert_eq!(o.text(), "235 2.7.0 Authentication successful\r\n");
    match &o.events[0] {
        Event::ClientCommand {
            text,
            redacted,
            phase,
            ..
        } => {
            assert!(*redacted && *phase == Phase::Auth);
            assert!(text.chars().all(|c| c == '*'));
        }
        e => panic!("{e:?}"),
    }

    let (mut s, _) = session(cfg());
    feed(&mut s, b"EHLO c\r\n");
    assert_eq!(
        feed(&mut s, b"AUTH LOGIN\r\n").text(),
        "334 VXNlcm5hbWU6\r\n"
    );
    assert_eq!(
        feed(&mut s, format!("{}\r\n", b64(b"alice")).as_bytes()).text(),
        "334 UGFzc3dvcmQ6\r\n"
    );
    assert_eq!(
        feed(&mut s, format!("{}\r\n", b64(b"s3cret")).as_bytes()).text(),
        "235 2.7.0 Authentication successful\r\n"
    );

    // Cancel and bad base64.
    let (mut s, _) = session(cfg());
    feed(&mut s, b"EHLO c\r\n");
    feed(&mut s, b"AUTH LOGIN\r\n");
    assert_eq!(
        feed(&mut s, b"*\r\n").text(),
        "501 5.0.0 Authentication cancelled\r\n"
    );
    feed(&mut s, b"AUTH LOGIN\r\n");
    assert_eq!(
        feed(&mut s, b"!!!\r\n").text(),
        "501 5.5.2 Cannot decode response\r\n"
    );
    assert_eq!(
        feed(&mut s, b"AUTH DIGEST-MD5\r\n").text(),
        "504 5.5.4 Unrecognized authentication type\r\n"
    );
}

#[test]
fn auth_not_offered_without_users() {
    let (mut s, _) = session(ServerConfig {
        users: vec![],
        ..cfg()
    });
    let o = feed(&mut s, b"EHLO c\r\n");
    assert!(!o.text().contains("AUTH"));
    assert_eq!(
        feed(&mut s, b"AUTH PLAIN AGEAYg==\r\n").text(),
        "502 5.5.1 Error: authentication not enabled\r\n"
    );
    // accept-any takes anything.
    let (mut s, _) = session(ServerConfig {
        users: vec![],
        accept_any_auth: true,
        ..cfg()
    });
    feed(&mut s, b"EHLO c\r\n");
    assert_eq!(
        feed(&mut s, b"AUTH PLAIN AGEAYg==\r\n").text(),
        "235 2.7.0 Authentication successful\r\n"
    );
}

#[test]
fn cram_md5_rfc2195_vector() {
    assert_eq!(
        cram_md5_digest(
            "tanstaaftanstaaf",
            "<1896.697170952@postoffice.reston.mci.net>"
        ),
        "b913a602c7eda7a495b4e6e7334d3890"
    );
    assert!(cram_md5_verify(
        "tanstaaftanstaaf",
        "<1896.697170952@postoffice.reston.mci.net>",
        "B913A602C7EDA7A495B4E6E7334D3890"
    ));
    assert!(!cram_md5_verify(
        "x",
        "<1.2@h>",
        "b913a602c7eda7a495b4e6e7334d3890"
    ));
}

#[test]
fn cram_md5_exchange() {
    let (mut s, _) = session(cfg());
    feed(&mut s, b"EHLO c\r\n");
    let o = feed(&mut s, b"AUTH CRAM-MD5\r\n");
    let text = o.text();
    let chal_b64 = text
        .strip_prefix("334 ")
        .and_then(|t| t.strip_suffix("\r\n"))
        .unwrap();
    let challenge = String::from_utf8(B64.decode(chal_b64).unwrap()).unwrap();
    assert!(challenge.starts_with('<') && challenge.ends_with("@mx.test>"));
    // The digest is computed here independently of the server's code path.
    use hmac::{Hmac, KeyInit, Mac};
    let mut mac = Hmac::<md5::Md5>::new_from_slice(b"s3cret").unwrap();
    mac.update(challenge.as_bytes());
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let resp = format!("{}\r\n", b64(format!("alice {hex}").as_bytes()));
    assert_eq!(
        feed(&mut s, resp.as_bytes()).text(),
        "235 2.7.0 Authentication successful\r\n"
    );

    // A wrong digest fails; the same seed gives the same challenge.
    let (mut s2, _) = session(cfg());
    feed(&mut s2, b"EHLO c\r\n");
    assert_eq!(feed(&mut s2, b"AUTH CRAM-MD5\r\n").text(), text);
    let bad = format!("{}\r\n", b64(b"alice 00000000000000000000000000000000"));
    assert_eq!(
        feed(&mut s2, bad.as_bytes()).text(),
        "535 5.7.8 Authentication credentials invalid\r\n"
    );
}

// ---- STARTTLS ------------------------------------------------------------------------------

#[test]
fn starttls_resets_state() {
    let (mut s, _) = session(ServerConfig {
        starttls: true,
        ..cfg()
    });
    let o = feed(&mut s, b"EHLO c\r\n");
    assert!(o.text().contains("250-STARTTLS\r\n"));
    feed(&mut s, b"MAIL FROM:<a@x>\r\n");
    let o = feed(&mut s, b"STARTTLS\r\n");
    assert_eq!(o.text(), "220 2.0.0 Ready to start TLS\r\n");
    assert_eq!(o.actions, vec![ServerAction::StartTls]);
    assert_eq!(o.replies(), vec![(220, Phase::StartTls)]);
    s.tls_established();
    assert!(s.is_tls());
    // EHLO was forgotten (RFC 3207 §4.2).
    assert_eq!(
        feed(&mut s, b"MAIL FROM:<a@x>\r\n").text(),
        "503 5.5.1 Error: send HELO/EHLO first\r\n"
    );
    let o = feed(&mut s, b"EHLO c\r\n");
    assert!(!o.text().contains("STARTTLS"));
    assert_eq!(o.replies(), vec![(250, Phase::HeloAfterTls)]);
    assert!(matches!(
        o.events[0],
        Event::ClientCommand { tls: true, .. }
    ));
    assert_eq!(
        feed(&mut s, b"STARTTLS\r\n").text(),
        "503 5.5.1 Error: TLS already active\r\n"
    );
    let o = feed(
        &mut s,
        b"MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\nx\r\n.\r\n",
    );
    assert!(o.stored()[0].tls);
}

#[test]
fn starttls_not_offered() {
    let (mut s, _) = session(cfg());
    feed(&mut s, b"EHLO c\r\n");
    assert_eq!(
        feed(&mut s, b"STARTTLS\r\n").text(),
        "502 5.5.1 Error: command not implemented\r\n"
    );
}

#[test]
fn starttls_injection_is_discarded_and_recorded() {
    let (mut s, _) = session(ServerConfig {
        starttls: true,
        ..cfg()
    });
    feed(&mut s, b"EHLO c\r\n");
    let o = feed(&mut s, b"STARTTLS\r\nMAIL FROM:<evil@x>\r\n");
    // Only the 220: the injected MAIL is not answered, not even after the handshake.
    assert_eq!(o.text(), "220 2.0.0 Ready to start TLS\r\n");
    assert!(o.events.iter().any(|e| matches!(
        e,
        Event::Deviation {
            deviation: Deviation::StartTlsInjection { bytes, .. },
            phase: Phase::StartTls
        } if bytes.0 == b"MAIL FROM:<evil@x>\r\n"
    )));
    // Bytes fed while waiting for the handshake are discarded too.
    let o = feed(&mut s, b"RCPT TO:<x@y>\r\n");
    assert!(o.bytes.is_empty());
    assert!(matches!(o.events[0], Event::Deviation { .. }));
    s.tls_established();
    assert_eq!(
        feed(&mut s, b"RCPT TO:<b@y>\r\n").text(),
        "503 5.5.1 Error: need MAIL command\r\n"
    );
}

#[test]
fn tls_failure_closes() {
    let (mut s, _) = session(ServerConfig {
        starttls: true,
        ..cfg()
    });
    feed(&mut s, b"EHLO c\r\nSTARTTLS\r\n");
    s.tls_failed();
    assert_eq!(drain(&mut s).actions, vec![ServerAction::Close]);
    assert!(s.is_closed());
}

#[test]
fn require_tls_and_require_auth_refuse_mail_until_done() {
    // RFC 3207 §4 / RFC 4954 §6: 530 5.7.0 to MAIL until the client did STARTTLS / AUTH, so a
    // client that skips a failed STARTTLS or AUTH cannot go on and send.
    let good = format!("AUTH PLAIN {}\r\n", b64(b"\0alice\0s3cret"));
    let bad = format!("AUTH PLAIN {}\r\n", b64(b"\0alice\0wrong"));
    let (mut s, _) = session(ServerConfig {
        starttls: true,
        require_tls: true,
        require_auth: true,
        ..cfg()
    });
    feed(&mut s, b"EHLO c\r\n");
    assert_eq!(
        feed(&mut s, b"MAIL FROM:<a@x>\r\n").text(),
        "530 5.7.0 Must issue a STARTTLS command first\r\n"
    );
    feed(&mut s, b"STARTTLS\r\n");
    s.tls_established();
    feed(&mut s, b"EHLO c\r\n");
    assert_eq!(
        feed(&mut s, b"MAIL FROM:<a@x>\r\n").text(),
        "530 5.7.0 Authentication required\r\n"
    );
    assert!(feed(&mut s, bad.as_bytes()).text().starts_with("535 "));
    assert_eq!(
        feed(&mut s, b"MAIL FROM:<a@x>\r\n").text(),
        "530 5.7.0 Authentication required\r\n"
    );
    assert!(feed(&mut s, good.as_bytes()).text().starts_with("235 "));
    let o = feed(
        &mut s,
        b"MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\nx\r\n.\r\n",
    );
    assert_eq!(o.stored().len(), 1);

    // Implicit TLS satisfies --require-tls; without it (the defaults) mail needs neither.
    let (mut s, _) = session(ServerConfig {
        tls: true,
        require_tls: true,
        ..cfg()
    });
    feed(&mut s, b"EHLO c\r\n");
    assert_eq!(
        feed(&mut s, b"MAIL FROM:<a@x>\r\n").text(),
        "250 2.1.0 Ok\r\n"
    );
    let (mut s, _) = session(cfg());
    feed(&mut s, b"EHLO c\r\n");
    assert_eq!(
        feed(&mut s, b"MAIL FROM:<a@x>\r\n").text(),
        "250 2.1.0 Ok\r\n"
    );
}

#[test]
fn auth_waits_for_starttls() {
    let tls_cfg = || ServerConfig {
        starttls: true,
        ..cfg()
    };
    // RFC 4954 §4 / RFC 3207 §4: no AUTH in plain text while STARTTLS is on offer.
    let (mut s, _) = session(tls_cfg());
    let o = feed(&mut s, b"EHLO c\r\n");
    assert!(o.text().contains("250-STARTTLS\r\n"));
    assert!(!o.text().contains("AUTH"), "{}", o.text());
    let good = format!("AUTH PLAIN {}\r\n", b64(b"\0alice\0s3cret"));
    assert_eq!(
        feed(&mut s, good.as_bytes()).text(),
        "530 5.7.0 Must issue a STARTTLS command first\r\n"
    );
    feed(&mut s, b"STARTTLS\r\n");
    s.tls_established();
    let o = feed(&mut s, b"EHLO c\r\n");
    assert!(o.text().contains("250-AUTH PLAIN LOGIN CRAM-MD5\r\n"));
    assert_eq!(
        feed(&mut s, good.as_bytes()).text(),
        "235 2.7.0 Authentication successful\r\n"
    );

    // --auth-before-tls: offered and accepted before STARTTLS.
    let (mut s, _) = session(ServerConfig {
        auth_before_tls: true,
        ..tls_cfg()
    });
    let o = feed(&mut s, b"EHLO c\r\n");
    assert!(o.text().contains("250-STARTTLS\r\n250-AUTH PLAIN"));
    assert!(feed(&mut s, good.as_bytes()).text().starts_with("235 "));

    // STARTTLS hidden: it is not on offer, so AUTH is.
    let (mut s, _) = session(ServerConfig {
        faults: crate::cli::serve_specs::faults(&[], &[], &["STARTTLS".to_string()]).unwrap(),
        ..tls_cfg()
    });
    assert!(feed(&mut s, b"EHLO c\r\n").text().contains("250-AUTH "));
}

/// Drive a session to the end of DATA, with QUIT pipelined after the dot, without acking the
/// Store action (the `drain` helper acks it).
fn until_store(c: ServerConfig) -> (Session, Vec<u8>) {
    let (mut s, _) = session(c);
    s.feed(b"EHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nRCPT TO:<c@y>\r\nDATA\r\n");
    let mut bytes = Vec::new();
    while let Some(b) = s.poll_transmit() {
        bytes.extend(b);
    }
    s.feed(b"hi\r\n.\r\nQUIT\r\n");
    (s, bytes)
}

/// An LMTP session's one message to two recipients (`<b@y>`, `<c@y>`), its Store acked with
/// `outcome`: the per-recipient replies after the dot (RFC 2033 section 4.2).
fn lmtp_two_recipients_stored(outcome: StoreOutcome) -> String {
    let (mut s, _) = session(ServerConfig {
        lmtp: true,
        ..cfg()
    });
    s.feed(b"LHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nRCPT TO:<c@y>\r\nDATA\r\nhi\r\n.\r\n");
    while s.poll_transmit().is_some() {}
    assert!(matches!(s.poll_action(), Some(ServerAction::Content(_))));
    while s.poll_transmit().is_some() {}
    assert!(matches!(s.poll_action(), Some(ServerAction::Store(_))));
    s.stored(outcome);
    drain(&mut s).text()
}

#[test]
fn store_failure_is_451_and_waits_for_the_outcome() {
    let (mut s, _) = until_store(cfg());
    assert!(matches!(s.poll_action(), Some(ServerAction::Content(c)) if c == b"hi\r\n"));
    assert!(matches!(s.poll_action(), Some(ServerAction::Store(_))));
    // Nothing is written (not even the pipelined QUIT's 221) before the outcome is known.
    assert_eq!(s.poll_transmit(), None);
    assert_eq!(s.poll_action(), None);
    s.stored(StoreOutcome::Failed);
    let o = drain(&mut s);
    assert_eq!(
        o.text(),
        "451 4.3.0 Error: could not store the message, try again later\r\n221 2.0.0 Bye\r\n"
    );
    assert!(o.replies().contains(&(451, Phase::Dot)));

    let (mut s, _) = until_store(cfg());
    assert!(matches!(s.poll_action(), Some(ServerAction::Content(c)) if c == b"hi\r\n"));
    assert!(matches!(s.poll_action(), Some(ServerAction::Store(_))));
    s.stored(StoreOutcome::Kept);
    assert!(drain(&mut s).text().starts_with("250 2.0.0 Ok: queued as "));

    // LMTP: one 451 per recipient.
    assert_eq!(
        lmtp_two_recipients_stored(StoreOutcome::Failed),
        "451 4.3.0 <b@y> Error: could not store the message, try again later\r\n\
         451 4.3.0 <c@y> Error: could not store the message, try again later\r\n"
    );
}

/// Storage ran out (a full disk, a quota, the free-space reserve): `452 4.3.1`, the
/// transient "mail system full" (RFC 3463 §3.4 X.3.1), as Postfix answers, not `451 4.3.0`.
#[test]
fn no_room_to_store_is_452_4_3_1() {
    let (mut s, _) = until_store(cfg());
    assert!(matches!(s.poll_action(), Some(ServerAction::Content(_))));
    assert!(matches!(s.poll_action(), Some(ServerAction::Store(_))));
    s.stored(StoreOutcome::NoSpace);
    assert_eq!(
        drain(&mut s).text(),
        "452 4.3.1 Insufficient system storage\r\n221 2.0.0 Bye\r\n"
    );

    assert_eq!(
        lmtp_two_recipients_stored(StoreOutcome::NoSpace),
        "452 4.3.1 <b@y> Insufficient system storage\r\n\
         452 4.3.1 <c@y> Insufficient system storage\r\n"
    );
}

/// The room the driver reports is checked at MAIL: none left, or less than the `SIZE=`
/// declared, is `452 4.3.1` (said once as a warning); enough room, or none known, is `250`.
/// None left at DATA is `452 4.3.1` too.
#[test]
fn mail_is_refused_452_when_the_driver_has_no_room() {
    let (mut s, _) = session(cfg());
    feed(&mut s, b"EHLO c\r\n");
    s.set_storage_room(Some(0));
    let o = feed(&mut s, b"MAIL FROM:<a@x>\r\n");
    assert_eq!(o.text(), "452 4.3.1 Insufficient system storage\r\n");
    let warnings: Vec<String> = o
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Warning { message } => Some(message.words(|_| String::new())),
            _ => None,
        })
        .collect();
    assert_eq!(warnings, ["MAIL refused: no storage left for a message"]);
    // No transaction was started.
    assert!(
        feed(&mut s, b"RCPT TO:<b@y>\r\n")
            .text()
            .starts_with("503 ")
    );

    s.set_storage_room(Some(1000));
    assert_eq!(
        feed(&mut s, b"MAIL FROM:<a@x> SIZE=1001\r\n").text(),
        "452 4.3.1 Insufficient system storage\r\n"
    );
    assert_eq!(
        feed(&mut s, b"MAIL FROM:<a@x> SIZE=1000\r\n").text(),
        "250 2.1.0 Ok\r\n"
    );
    // The room runs out between MAIL and DATA: DATA gets 452 too, no 354.
    assert!(
        feed(&mut s, b"RCPT TO:<b@y>\r\n")
            .text()
            .starts_with("250 ")
    );
    s.set_storage_room(Some(0));
    assert_eq!(
        feed(&mut s, b"DATA\r\n").text(),
        "452 4.3.1 Insufficient system storage\r\n"
    );
    assert!(!s.in_content());
    feed(&mut s, b"RSET\r\n");
    s.set_storage_room(None);
    assert_eq!(
        feed(&mut s, b"MAIL FROM:<a@x> SIZE=5000\r\n").text(),
        "250 2.1.0 Ok\r\n"
    );
}

/// The driver measures its room only for a read that may run MAIL or DATA
/// (`Session::may_check_room`): every way such a command can arrive says yes (any case,
/// pipelined, split between reads, left buffered after a message's content), and the
/// commands that never read the room say no.
#[test]
fn the_room_is_wanted_only_where_mail_or_data_may_run() {
    let (mut s, _) = session(cfg());
    for cmd in [
        &b"EHLO c\r\n"[..],
        b"RCPT TO:<b@y>\r\n",
        b"QUIT\r\n",
        b"NOOP\r\n",
    ] {
        assert!(!s.may_check_room(cmd), "{}", String::from_utf8_lossy(cmd));
    }
    for cmd in [
        &b"MAIL FROM:<a@x>\r\n"[..],
        b"mail from:<a@x>\r\n",
        b"DATA\r\n",
        b"data\r\n",
        b"RSET\r\nMaIl FROM:<a@x>\r\n",
    ] {
        assert!(s.may_check_room(cmd), "{}", String::from_utf8_lossy(cmd));
    }
    feed(&mut s, b"EHLO c\r\n");
    assert!(!s.may_check_room(&[]), "nothing buffered");
    // A command split between reads: the start is buffered, the rest alone has no MAIL.
    feed(&mut s, b"MA");
    assert!(s.may_check_room(b"IL FROM:<a@x>\r\n"));
    s.set_storage_room(Some(0));
    assert_eq!(
        feed(&mut s, b"IL FROM:<a@x>\r\n").text(),
        "452 4.3.1 Insufficient system storage\r\n"
    );
    feed(&mut s, b"DA");
    assert!(s.may_check_room(b"TA\r\n"));
    feed(&mut s, b"TA\r\n");
    // A MAIL pipelined after a message's content waits in the buffer for `stored`.
    s.set_storage_room(None);
    feed(&mut s, b"MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n");
    assert!(s.in_content());
    s.feed(b"Subject: t\r\n\r\nhi\r\n.\r\nMAIL FROM:<a@x>\r\n");
    assert!(s.may_check_room(&[]));
    // Once it has run (the driver's `stored`), nothing is left that wants the room.
    let o = drain(&mut s);
    assert!(o.text().ends_with("250 2.1.0 Ok\r\n"), "{}", o.text());
    assert!(!s.may_check_room(&[]));
}

// ---- faults --------------------------------------------------------------------------------

fn faulty(f: &[&str]) -> (Session, Output) {
    session(ServerConfig {
        faults: faults(f),
        starttls: true,
        // These tests are about faults, not the AUTH-after-TLS policy (tested on its own).
        auth_before_tls: true,
        ..cfg()
    })
}

#[test]
fn fault_rcpt_every_and_nth() {
    let (mut s, _) = faulty(&["rcpt=550:5.1.1"]);
    let o = feed(&mut s, b"EHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\n");
    assert!(o.text().ends_with(
        "250 2.1.0 Ok\r\n550 5.1.1 Fault injected by ehlo serve (--fail rcpt=550:5.1.1)\r\n"
    ));
    assert_eq!(
        feed(&mut s, b"DATA\r\n").text(),
        "554 5.5.1 Error: no valid recipients\r\n"
    );

    let (mut s, _) = faulty(&["rcpt#2=452:4.2.2:Mailbox full"]);
    let o = feed(
        &mut s,
        b"EHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nRCPT TO:<c@y>\r\nRCPT TO:<d@y>\r\nDATA\r\nx\r\n.\r\n",
    );
    let codes: Vec<u16> = o.replies().iter().map(|r| r.0).collect();
    assert_eq!(codes, vec![250, 250, 250, 452, 250, 354, 250]);
    assert!(o.text().contains("452 4.2.2 Mailbox full\r\n"));
    assert_eq!(
        o.stored()[0].rcpts,
        vec!["b@y".to_string(), "d@y".to_string()]
    );
}

#[test]
fn fault_mail_data_dot() {
    let (mut s, _) = faulty(&["mail=451:4.3.0"]);
    let o = feed(&mut s, b"EHLO c\r\nMAIL FROM:<a@x>\r\n");
    assert!(
        o.text()
            .ends_with("451 4.3.0 Fault injected by ehlo serve (--fail mail=451:4.3.0)\r\n")
    );
    assert_eq!(
        feed(&mut s, b"RCPT TO:<b@y>\r\n").text(),
        "503 5.5.1 Error: need MAIL command\r\n"
    );

    let (mut s, _) = faulty(&["data=554"]);
    let o = feed(
        &mut s,
        b"EHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n",
    );
    assert!(
        o.text()
            .ends_with("554 5.0.0 Fault injected by ehlo serve (--fail data=554)\r\n"),
        "without X.Y.Z the class's X.0.0 (ENHANCEDSTATUSCODES is advertised)"
    );
    // No 354, so the next line is a command again.
    assert_eq!(feed(&mut s, b"NOOP\r\n").text(), "250 2.0.0 Ok\r\n");

    let (mut s, _) = faulty(&["dot=552:5.3.4"]);
    let o = feed(
        &mut s,
        b"EHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\nx\r\n.\r\n",
    );
    assert!(o.text().ends_with("354 End data with <CR><LF>.<CR><LF>\r\n552 5.3.4 Fault injected by ehlo serve (--fail dot=552:5.3.4)\r\n"));
    assert!(o.stored().is_empty());
    assert_eq!(o.replies().last(), Some(&(552, Phase::Dot)));
}

#[test]
fn fault_helo_421_closes() {
    let (mut s, _) = faulty(&["helo=421"]);
    let o = feed(&mut s, b"EHLO c\r\nNOOP\r\n");
    assert_eq!(
        o.text(),
        "421 Fault injected by ehlo serve (--fail helo=421)\r\n"
    );
    assert_eq!(o.actions, vec![ServerAction::Close]);
    assert!(s.is_closed());
}

#[test]
fn fault_connect() {
    let (s, o) = faulty(&["connect=421:4.3.2:Go away"]);
    assert_eq!(o.text(), "421 4.3.2 Go away\r\n");
    assert_eq!(o.actions, vec![ServerAction::Close]);
    assert!(s.is_closed());

    // 554 greeting: no service, 503 to everything but QUIT (RFC 5321 §3.1).
    let (mut s, o) = faulty(&["connect=554"]);
    assert!(o.text().starts_with("554 "));
    assert!(o.actions.is_empty());
    assert_eq!(
        feed(&mut s, b"EHLO c\r\n").text(),
        "503 5.5.1 Error: no SMTP service here\r\n"
    );
    assert_eq!(feed(&mut s, b"QUIT\r\n").text(), "221 2.0.0 Bye\r\n");

    // A 4xx greeting other than 421 refuses service too (RFC 5321 §3.1, §4.2.1: the client
    // must not go on): no mail is taken, nothing is stored.
    let (mut s, o) = faulty(&["connect=450"]);
    assert!(o.text().starts_with("450 "), "{}", o.text());
    assert!(o.actions.is_empty());
    let o = feed(
        &mut s,
        b"EHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n",
    );
    assert_eq!(
        o.text(),
        "503 5.5.1 Error: no SMTP service here\r\n".repeat(6) + "221 2.0.0 Bye\r\n"
    );
    assert!(o.stored().is_empty());

    let (s, o) = faulty(&["connect=drop"]);
    assert!(o.bytes.is_empty());
    assert_eq!(o.actions, vec![ServerAction::Close]);
    assert!(s.is_closed());
}

#[test]
fn fault_banner_silent_and_garbage() {
    let (mut s, o) = faulty(&["banner=silent"]);
    assert!(o.bytes.is_empty() && o.actions.is_empty());
    // It still answers commands if the client talks first.
    assert_eq!(feed(&mut s, b"NOOP\r\n").text(), "250 2.0.0 Ok\r\n");

    let (_, o) = faulty(&["banner=garbage"]);
    assert_eq!(o.text(), "ehlo-serve: this banner has no reply code\r\n");
    assert!(matches!(
        &o.events[0],
        Event::ServerReply { reply, .. } if reply.code.is_none()
    ));
}

#[test]
fn fault_auth_and_starttls() {
    let (mut s, _) = faulty(&["auth=535"]);
    feed(&mut s, b"EHLO c\r\n");
    let good = format!("AUTH PLAIN {}\r\n", b64(b"\0alice\0s3cret"));
    assert_eq!(
        feed(&mut s, good.as_bytes()).text(),
        "535 5.0.0 Fault injected by ehlo serve (--fail auth=535)\r\n"
    );

    let (mut s, _) = faulty(&["starttls=454:4.7.0"]);
    feed(&mut s, b"EHLO c\r\n");
    let o = feed(&mut s, b"STARTTLS\r\n");
    assert_eq!(
        o.text(),
        "454 4.7.0 Fault injected by ehlo serve (--fail starttls=454:4.7.0)\r\n"
    );
    assert!(o.actions.is_empty());
    assert!(!s.is_tls());
}

#[test]
fn fault_drop_closes_without_reply() {
    let (mut s, _) = faulty(&["rcpt=drop"]);
    let o = feed(
        &mut s,
        b"EHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nQUIT\r\n",
    );
    assert!(o.text().ends_with("250 2.1.0 Ok\r\n"));
    assert_eq!(o.actions, vec![ServerAction::Close]);

    let (mut s, _) = faulty(&["dot=drop"]);
    let o = feed(
        &mut s,
        b"EHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\nx\r\n.\r\n",
    );
    assert!(
        o.text()
            .ends_with("354 End data with <CR><LF>.<CR><LF>\r\n")
    );
    assert_eq!(o.actions, vec![ServerAction::Close]);
    assert!(o.stored().is_empty());
}

/// The info lines of `o`'s events.
fn infos(o: &Output) -> Vec<String> {
    o.events
        .iter()
        .filter_map(|e| match e {
            Event::Info { message } => Some(message.words(|r| format!("{r:?}"))),
            _ => None,
        })
        .collect()
}

#[test]
fn a_drop_fault_says_it_fired_and_which_message_it_cost() {
    // Before, the transcript showed only "Connection closed", which reads as the client's
    // doing, and nothing said the message received was not stored.
    let (mut s, _) = faulty(&["dot=drop"]);
    let o = feed(
        &mut s,
        b"EHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\nx\r\n.\r\n",
    );
    assert_eq!(
        infos(&o),
        [
            "fault injected (--fail dot=drop): closing the connection without a reply: the message received is not stored"
        ]
    );
    let (mut s, _) = faulty(&["mail#2=drop"]);
    let o = feed(&mut s, b"EHLO c\r\nMAIL FROM:<a@x>\r\nRSET\r\n");
    assert!(infos(&o).is_empty(), "the first MAIL is answered");
    let o = feed(&mut s, b"MAIL FROM:<a@x>\r\n");
    assert_eq!(
        infos(&o),
        ["fault injected (--fail mail#2=drop): closing the connection without a reply"]
    );
    assert!(o.bytes.is_empty());
    // Between BDAT chunks the message received so far is lost too.
    let (mut s, _) = faulty(&["bdat#2=drop"]);
    let o = feed(
        &mut s,
        b"EHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nBDAT 3\r\nabcBDAT 3 LAST\r\ndef",
    );
    assert_eq!(
        infos(&o),
        [
            "fault injected (--fail bdat#2=drop): closing the connection without a reply: the message received is not stored"
        ]
    );
    assert_eq!(o.discards, 1);
}

#[test]
fn fault_bare_lf_replies() {
    let (mut s, o) = faulty(&["bare-lf"]);
    assert_eq!(o.text(), "220 mx.test ESMTP ehlo serve ready\n");
    let o = feed(&mut s, b"EHLO c\r\n");
    assert!(!o.bytes.windows(2).any(|w| w == b"\r\n"));
    assert!(
        o.text()
            .starts_with("250-mx.test Hello c\n250-PIPELINING\n")
    );
    // The event shows the bytes really written.
    assert!(matches!(
        &o.events[1],
        Event::ServerReply { reply, .. } if reply.raw.0 == o.bytes
    ));
}

#[test]
fn fault_trickle_writes_one_byte_per_delay() {
    let (_, o) = faulty(&["trickle=7"]);
    let banner = b"220 mx.test ESMTP ehlo serve ready\r\n";
    assert_eq!(o.bytes, banner);
    assert_eq!(o.stream.len(), banner.len() * 2 - 1);
    for (i, item) in o.stream.iter().enumerate() {
        if i % 2 == 0 {
            assert_eq!(item, &Ok(vec![banner[i / 2]]));
        } else {
            assert_eq!(item, &Err(ServerAction::Delay(7)));
        }
    }
}

#[test]
fn delays_come_before_the_reply() {
    let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let f = crate::cli::serve_specs::faults(&[], &v(&["connect:100", "rcpt#2:2000"]), &[]).unwrap();
    let (mut s, o) = session(ServerConfig { faults: f, ..cfg() });
    assert_eq!(o.stream[0], Err(ServerAction::Delay(100)));
    assert!(o.stream[1].is_ok());
    let o = feed(
        &mut s,
        b"EHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nRCPT TO:<c@y>\r\n",
    );
    // EHLO, MAIL, RCPT#1 replies, then the delay, then RCPT#2's reply.
    assert_eq!(o.stream.len(), 5);
    assert_eq!(o.stream[3], Err(ServerAction::Delay(2000)));
    assert_eq!(o.stream[4], Ok(b"250 2.1.5 Ok\r\n".to_vec()));
}

/// A driver that reports events when a delay starts (as `ehlo serve` does, so that the
/// commands read show before the wait) gets only those of what came before the delay: the
/// delayed reply, and what was pipelined after it, once the delayed bytes are taken. They used
/// to come out before the wait, so JSON `t_ms` put a `--delay rcpt:2000` reply 2 s too early.
#[test]
fn a_delayed_reply_is_reported_when_written_not_when_the_wait_starts() {
    let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let f = crate::cli::serve_specs::faults(&[], &v(&["rcpt:2000"]), &[]).unwrap();
    let (mut s, _) = session(ServerConfig { faults: f, ..cfg() });
    s.feed(b"EHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nNOOP\r\n");
    let reply = |e: &Event| match e {
        Event::ServerReply { reply, .. } => reply.code,
        _ => None,
    };
    let command = |e: &Event| match e {
        Event::ClientCommand { text, .. } => Some(text.clone()),
        _ => None,
    };
    // EHLO's and MAIL's replies, then the delay.
    assert!(s.poll_transmit().is_some() && s.poll_transmit().is_some());
    assert_eq!(s.poll_action(), Some(ServerAction::Delay(2000)));
    let before: Vec<Event> = std::iter::from_fn(|| s.poll_event()).collect();
    assert_eq!(
        before.iter().filter_map(command).collect::<Vec<_>>(),
        ["EHLO c", "MAIL FROM:<a@x>", "RCPT TO:<b@y>"]
    );
    assert_eq!(
        before.iter().filter_map(reply).collect::<Vec<_>>(),
        [250, 250]
    );
    // The wait is over once its bytes are taken: RCPT's reply, then NOOP and its reply.
    assert_eq!(s.poll_transmit(), Some(b"250 2.1.5 Ok\r\n".to_vec()));
    let after: Vec<Event> = std::iter::from_fn(|| s.poll_event()).collect();
    assert_eq!(
        after.iter().filter_map(reply).collect::<Vec<_>>(),
        [250, 250]
    );
    assert_eq!(
        after.iter().filter_map(command).collect::<Vec<_>>(),
        ["NOOP"]
    );
}

#[test]
fn hide_extensions() {
    let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let f = crate::cli::serve_specs::faults(
        &[],
        &[],
        &v(&["STARTTLS", "ENHANCEDSTATUSCODES", "CHUNKING", "AUTH"]),
    )
    .unwrap();
    let (mut s, _) = session(ServerConfig {
        faults: f,
        starttls: true,
        ..cfg()
    });
    let o = feed(&mut s, b"EHLO c\r\n");
    assert_eq!(
        o.text(),
        "250-mx.test Hello c\r\n250-PIPELINING\r\n250-SIZE 10485760\r\n250-8BITMIME\r\n250-DSN\r\n250 SMTPUTF8\r\n"
    );
    // Hidden means unavailable, and replies lose their enhanced codes.
    assert_eq!(
        feed(&mut s, b"STARTTLS\r\n").text(),
        "502 Error: command not implemented\r\n"
    );
    assert_eq!(
        feed(&mut s, b"AUTH PLAIN\r\n").text(),
        "502 Error: authentication not enabled\r\n"
    );
    assert_eq!(feed(&mut s, b"NOOP\r\n").text(), "250 Ok\r\n");

    let f = crate::cli::serve_specs::faults(&[], &[], &v(&["esmtp"])).unwrap();
    let (mut s, _) = session(ServerConfig { faults: f, ..cfg() });
    assert!(feed(&mut s, b"EHLO c\r\n").text().starts_with("502 "));
    assert_eq!(feed(&mut s, b"HELO c\r\n").text(), "250 mx.test\r\n");
}

#[test]
fn garbage_input_never_panics() {
    // A crude deterministic fuzz: every session must stay bounded and keep answering.
    let mut rng = Rng::new(42);
    for round in 0..200 {
        let (mut s, _) = session(ServerConfig {
            starttls: round % 2 == 0,
            accept_any_auth: true,
            max_size: 64,
            ..cfg()
        });
        for _ in 0..20 {
            let len = (rng.next() % 300) as usize;
            let words: &[&[u8]] = &[
                b"EHLO x\r\n",
                b"MAIL FROM:<a@b>\r\n",
                b"RCPT TO:<c@d>\r\n",
                b"DATA\r\n",
                b"BDAT 5\r\n",
                b"AUTH LOGIN\r\n",
                b"STARTTLS\r\n",
                b".\r\n",
                b"\r\n",
                b"\n",
                b"\r",
            ];
            let mut input = Vec::new();
            while input.len() < len {
                let r = rng.next();
                if r.is_multiple_of(3) {
                    input.extend_from_slice(words[(r / 3) as usize % words.len()]);
                } else {
                    input.push((r >> 8) as u8);
                }
            }
            s.feed(&input);
            if matches!(s.mode, Mode::WaitTls) {
                s.tls_established();
            }
            let _ = drain(&mut s);
            assert!(s.inbuf.len() <= MAX_LINE + 300);
        }
    }
}

#[test]
fn timeout_says_421_and_closes() {
    let (mut s, _) = session(cfg());
    s.timed_out();
    let o = drain(&mut s);
    assert_eq!(o.text(), "421 4.4.2 mx.test Error: timeout exceeded\r\n");
    assert_eq!(o.actions, vec![ServerAction::Close]);
}

/// Cut because every connection slot stayed in use: the same 421 4.4.2, naming the reason.
#[test]
fn busy_timeout_says_421_naming_why_and_closes() {
    let (mut s, _) = session(cfg());
    s.busy_timed_out();
    let o = drain(&mut s);
    assert_eq!(
        o.text(),
        "421 4.4.2 mx.test Error: timeout exceeded: the server is busy (every connection slot \
         in use), try again later\r\n"
    );
    assert_eq!(o.actions, vec![ServerAction::Close]);
}

/// The server stopping (SIGTERM, Ctrl-C) mid-message: `421 4.3.2`, the content streamed so
/// far discarded, then the close; nothing more once closed.
#[test]
fn shutting_down_says_421_discards_and_closes() {
    let (mut s, _) = session(cfg());
    feed(
        &mut s,
        b"EHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n",
    );
    let o = feed(&mut s, b"Subject: half\r\n");
    assert_eq!(o.pieces.len(), 1);
    s.shutting_down();
    let o = drain(&mut s);
    assert_eq!(
        o.text(),
        "421 4.3.2 mx.test Service shutting down, closing connection\r\n"
    );
    assert_eq!(o.discards, 1, "the half message is dropped");
    assert_eq!(o.actions, vec![ServerAction::Close]);
    assert!(o.stored().is_empty());
    s.shutting_down();
    assert!(drain(&mut s).bytes.is_empty());
}

/// Hostile clients, generated: random mixes of commands, content, line ends and garbage in
/// random pieces must never panic the server session, and its input buffer stays bounded.
#[test]
fn random_client_input_never_panics_and_stays_bounded() {
    use crate::smtp::rng::Rng;
    const PIECES: &[&[u8]] = &[
        b"EHLO x\r\n",
        b"HELO x\r\n",
        b"LHLO x\r\n",
        b"MAIL FROM:<a@b>\r\n",
        b"MAIL FROM:<a@b> SIZE=99999999999\r\n",
        b"RCPT TO:<c@d>\r\n",
        b"DATA\r\n",
        b"BDAT 5\r\n",
        b"BDAT 0 LAST\r\n",
        b"BDAT 99999999999999999999\r\n",
        b"AUTH PLAIN\r\n",
        b"AUTH LOGIN\r\n",
        b"AUTH CRAM-MD5\r\n",
        b"AHRpbQBwYXNz\r\n",
        b"*\r\n",
        b"STARTTLS\r\n",
        b"RSET\r\n",
        b"NOOP\r\n",
        b".\r\n",
        b"..x\r\n",
        b"\r\n",
        b"\n",
        b"\r",
        b"\x00\xff garbage",
        b"QUIT\r\n",
    ];
    let mut rng = Rng::new(0xD1B5_4A32_D192_ED03);
    for round in 0..400 {
        let mut c = cfg();
        c.starttls = round % 2 == 0;
        c.lmtp = round % 5 == 0;
        let (mut s, _) = session(c);
        let mut input = Vec::new();
        for _ in 0..rng.below(60) {
            if rng.below(40) == 0 {
                input.extend(std::iter::repeat_n(b'Z', 5_000 + rng.below(20_000)));
            } else {
                input.extend_from_slice(PIECES[rng.below(PIECES.len())]);
            }
        }
        let mut at = 0;
        while at < input.len() && !s.is_closed() {
            let end = (at + 1 + rng.below(64)).min(input.len());
            s.feed(&input[at..end]);
            at = end;
            let o = drain(&mut s);
            if o.actions.contains(&ServerAction::StartTls) {
                s.tls_established();
            }
            assert!(
                s.inbuf.len() <= 64 * 1024,
                "round {round}: input buffer grew to {}",
                s.inbuf.len()
            );
        }
        s.peer_closed();
        let _ = drain(&mut s);
    }
}

// ---- hostile clients: control characters, bare CR, endless and trickling input -------------

fn greeted() -> Session {
    let (mut s, _) = session(ServerConfig {
        auth_before_tls: true,
        ..cfg()
    });
    feed(&mut s, b"EHLO client.test\r\n");
    s
}

#[test]
fn auth_failures_grow_slower_then_end_the_connection() {
    // Brute force on one connection: 535 after a growing delay, then 421 4.7.0 and close at
    // the third failure (the default).
    let mut s = greeted();
    let bad = format!("AUTH PLAIN {}\r\n", B64.encode(b"\0alice\0wrong"));
    let o = feed(&mut s, bad.as_bytes());
    assert_eq!(o.text(), "535 5.7.8 Authentication credentials invalid\r\n");
    assert_eq!(o.actions, [ServerAction::Delay(250)]);
    let o = feed(&mut s, b"AUTH LOGIN\r\n");
    assert!(o.text().starts_with("334 "));
    feed(&mut s, format!("{}\r\n", B64.encode("alice")).as_bytes());
    let o = feed(&mut s, format!("{}\r\n", B64.encode("nope")).as_bytes());
    assert_eq!(o.actions, [ServerAction::Delay(500)]);
    assert!(o.text().starts_with("535 "), "{}", o.text());
    assert!(!s.is_closed());
    let o = feed(&mut s, b"AUTH PLAIN !!notbase64\r\n");
    assert_eq!(
        o.text(),
        "421 4.7.0 mx.test Error: too many failed authentication attempts (3)\r\n"
    );
    assert_eq!(o.actions, [ServerAction::Delay(750), ServerAction::Close]);
    assert!(s.is_closed());
    // A good password after failures still works below the limit.
    let mut s = greeted();
    feed(&mut s, bad.as_bytes());
    let good = format!("AUTH PLAIN {}\r\n", B64.encode(b"\0alice\0s3cret"));
    assert!(feed(&mut s, good.as_bytes()).text().starts_with("235 "));
    // 0 = no limit.
    let (mut s, _) = session(ServerConfig {
        auth_before_tls: true,
        max_auth_failures: 0,
        ..cfg()
    });
    feed(&mut s, b"EHLO client.test\r\n");
    for _ in 0..10 {
        assert!(feed(&mut s, bad.as_bytes()).text().starts_with("535 "));
    }
    assert_eq!(auth_failure_delay_ms(10), 2000);
}

#[test]
fn control_characters_in_addresses_are_refused() {
    for (bad, name) in [
        (&b"a\rb@x.test"[..], "\\x0D"),
        (b"a\0b@x.test", "\\x00"),
        (b"a\x1b[31mb@x.test", "\\x1B"),
    ] {
        let mut s = greeted();
        let mut line = b"MAIL FROM:<".to_vec();
        line.extend_from_slice(bad);
        line.extend_from_slice(b">\r\n");
        let o = feed(&mut s, &line);
        assert_eq!(
            o.text(),
            format!("501 5.1.7 Bad sender address syntax (control character {name})\r\n")
        );
        feed(&mut s, b"MAIL FROM:<a@x.test>\r\n");
        let mut line = b"RCPT TO:<".to_vec();
        line.extend_from_slice(bad);
        line.extend_from_slice(b">\r\n");
        let o = feed(&mut s, &line);
        assert_eq!(
            o.text(),
            format!("501 5.1.3 Bad recipient address syntax (control character {name})\r\n")
        );
    }
}

#[test]
fn a_bare_cr_inside_a_command_line_is_refused_not_split() {
    // RFC 5321 §2.3.8: a CR only as part of the CRLF ending a line. `RSET<CR>QUIT` is one bad
    // line, not a RSET and a QUIT (nor a NOOP whose argument carries a CR into the transcript).
    let mut s = greeted();
    let o = feed(&mut s, b"RSET\rQUIT\r\n");
    assert_eq!(
        o.text(),
        "500 5.5.2 Error: bad syntax: bare CR inside the command line (lines end in CRLF only)\r\n"
    );
    assert!(!s.is_closed());
    assert!(
        feed(&mut s, b"NOOP a\rb\r\n")
            .text()
            .starts_with("500 5.5.2 ")
    );
    // In MAIL and RCPT, even in the parameters, it is the address syntax error (501 5.1.7, as for
    // a control character in the address above).
    let o = feed(&mut s, b"MAIL FROM:<a@x.test> SIZE=1\rX\r\n");
    assert!(o.text().starts_with("501 5.1.7 "), "{}", o.text());
    assert_eq!(feed(&mut s, b"NOOP\r\n").text(), "250 2.0.0 Ok\r\n");
}

#[test]
fn credentials_injected_after_starttls_are_masked() {
    let (mut s, _) = session(ServerConfig {
        starttls: true,
        ..cfg()
    });
    feed(&mut s, b"EHLO client.test\r\n");
    let plain = B64.encode(b"\0alice\0s3cret");
    let login_user = B64.encode("alice");
    let login_pass = B64.encode("s3cret");
    let input = format!(
        "STARTTLS\r\nAUTH PLAIN {plain}\r\nMAIL FROM:<a@x.test>\r\nAUTH LOGIN\r\n{login_user}\r\n{login_pass}\r\n"
    );
    let o = feed(&mut s, input.as_bytes());
    let (shown, len) = o
        .events
        .iter()
        .find_map(|e| match e {
            Event::Deviation {
                deviation: Deviation::StartTlsInjection { bytes, len },
                ..
            } => Some((String::from_utf8_lossy(&bytes.0).into_owned(), *len)),
            _ => None,
        })
        .expect("the injection is reported");
    assert!(!shown.contains(&plain), "{shown}");
    assert!(!shown.contains(&login_pass), "{shown}");
    assert!(!shown.contains("s3cret"), "{shown}");
    // After an AUTH line nothing can tell a SASL response from a command: all masked.
    assert_eq!(
        shown,
        "AUTH PLAIN ********\r\n********\r\n********\r\n********\r\n********\r\n"
    );
    // The count is of the bytes that came, not of the masked text shown for them.
    assert_eq!(len, input.len() - "STARTTLS\r\n".len());
    assert_ne!(len, shown.len());
}

#[test]
fn a_long_injection_after_starttls_is_counted_whole_and_shown_cut() {
    let (mut s, _) = session(ServerConfig {
        starttls: true,
        ..cfg()
    });
    feed(&mut s, b"EHLO client.test\r\n");
    let injected = "NOOP\r\n".repeat(200);
    let o = feed(&mut s, format!("STARTTLS\r\n{injected}").as_bytes());
    let (shown, len) = o
        .events
        .iter()
        .find_map(|e| match e {
            Event::Deviation {
                deviation: Deviation::StartTlsInjection { bytes, len },
                ..
            } => Some((bytes.0.len(), *len)),
            _ => None,
        })
        .expect("the injection is reported");
    assert_eq!((shown, len), (512, 1200));
}

#[test]
fn unparsable_auth_lines_are_masked_in_the_transcript() {
    let plain = B64.encode(b"\0alice\0Sekr3tPW99");
    let (mut s, _) = session(cfg());
    feed(&mut s, b"EHLO c\r\n");
    for (line, want) in [
        (format!("AUTH PLAIN {plain} extra"), "AUTH PLAIN ********"),
        (format!("auth\tplain\t{plain}\tx"), "auth\tplain\t********"),
        (format!("AUTH PLAIN {plain} = ="), "AUTH PLAIN ********"),
        // No SASL mechanism name (RFC 4422 §3.1) where one belongs: the credential itself.
        (format!("AUTH {plain}"), "AUTH ********"),
        (format!("AUTH PLAIN:{plain}"), "AUTH ********"),
        (format!("AUTH {plain} {plain}"), "AUTH ********"),
    ] {
        let o = feed(&mut s, format!("{line}\r\n").as_bytes());
        assert!(o.text().starts_with('5'), "{line:?}: {}", o.text());
        // Nor does the reply repeat any of it.
        assert!(!o.text().contains(&plain), "{line:?}: {}", o.text());
        match &o.events[0] {
            Event::ClientCommand { text, redacted, .. } => {
                assert_eq!((text.as_str(), *redacted), (want, true), "{line:?}");
            }
            e => panic!("{e:?}"),
        }
    }
    // A line that only looks like AUTH is shown as it came.
    let o = feed(&mut s, b"AUTHORIZE me now\r\n");
    match &o.events[0] {
        Event::ClientCommand { text, redacted, .. } => {
            assert_eq!((text.as_str(), *redacted), ("AUTHORIZE me now", false));
        }
        e => panic!("{e:?}"),
    }
}

#[test]
fn an_unparsable_auth_injected_after_starttls_is_masked_with_what_follows() {
    let (mut s, _) = session(ServerConfig {
        starttls: true,
        ..cfg()
    });
    feed(&mut s, b"EHLO client.test\r\n");
    let plain = B64.encode(b"\0alice\0Sekr3tPW99");
    let pass = B64.encode("Sekr3tPW99");
    let input = format!("STARTTLS\r\nNOOP\r\nAUTH PLAIN {plain} extra\r\n{pass}\r\n");
    let o = feed(&mut s, input.as_bytes());
    let shown = o
        .events
        .iter()
        .find_map(|e| match e {
            Event::Deviation {
                deviation: Deviation::StartTlsInjection { bytes, .. },
                ..
            } => Some(String::from_utf8_lossy(&bytes.0).into_owned()),
            _ => None,
        })
        .expect("the injection is reported");
    assert_eq!(shown, "NOOP\r\nAUTH PLAIN ********\r\n********\r\n");
}

// ---- LMTP per-recipient faults (RFC 2033 §4.2) ----------------------------------------------

fn lmtp_faulty(f: &[&str]) -> (Session, Output) {
    let v: Vec<String> = f.iter().map(|s| s.to_string()).collect();
    let d: Vec<String> = Vec::new();
    session(ServerConfig {
        lmtp: true,
        faults: crate::cli::serve_specs::faults(&v, &d, &[]).unwrap(),
        ..cfg()
    })
}

const LMTP_THREE: &[u8] =
    b"LHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nRCPT TO:<c@y>\r\nRCPT TO:<d@y>\r\nDATA\r\nhi\r\n.\r\n";

#[test]
fn lmtp_rcpt_fault_refuses_that_recipient_only() {
    let (mut s, _) = lmtp_faulty(&["lmtp-rcpt#2=552:5.2.2"]);
    let o = feed(&mut s, LMTP_THREE);
    let after: Vec<(u16, Phase)> = o
        .replies()
        .into_iter()
        .filter(|r| r.1 == Phase::Dot)
        .collect();
    assert_eq!(
        after,
        vec![(250, Phase::Dot), (552, Phase::Dot), (250, Phase::Dot)]
    );
    let text = o.text();
    assert!(
        text.contains(
            "552 5.2.2 <c@y> Fault injected by ehlo serve (--fail lmtp-rcpt#2=552:5.2.2)\r\n"
        ),
        "{text}"
    );
    assert!(text.contains("250 2.0.0 <b@y> Ok: delivered as "), "{text}");
    assert!(text.contains("250 2.0.0 <d@y> Ok: delivered as "), "{text}");
    // Stored for the recipients that accepted it, not for the refused one.
    let stored = o.stored();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].rcpts, vec!["b@y".to_string(), "d@y".to_string()]);
}

#[test]
fn lmtp_rcpt_fault_defaults_and_every_recipient() {
    // Without #N every recipient; without X.Y.Z the class's X.0.0; with TEXT as given.
    let (mut s, _) = lmtp_faulty(&["lmtp-rcpt=452::Over quota, try later"]);
    let o = feed(&mut s, LMTP_THREE);
    assert!(o.stored().is_empty(), "every recipient refused it");
    assert!(
        o.text()
            .ends_with("452 4.0.0 Over quota, try later\r\n452 4.0.0 Over quota, try later\r\n452 4.0.0 Over quota, try later\r\n"),
        "{}",
        o.text()
    );
    // The session goes on: the next transaction is normal.
    let o = feed(
        &mut s,
        b"MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\nx\r\n.\r\n",
    );
    assert!(
        o.text()
            .ends_with("\r\n452 4.0.0 Over quota, try later\r\n")
    );

    // Only the first recipient.
    let (mut s, _) = lmtp_faulty(&["lmtp-rcpt#1=550"]);
    let o = feed(&mut s, LMTP_THREE);
    assert!(
        o.text().contains("550 5.0.0 <b@y> Fault injected"),
        "{}",
        o.text()
    );
    assert_eq!(o.stored()[0].rcpts.len(), 2);
}

#[test]
fn lmtp_rcpt_drop_closes_after_the_earlier_replies() {
    let (mut s, _) = lmtp_faulty(&["lmtp-rcpt#2=drop"]);
    let o = feed(&mut s, LMTP_THREE);
    let dots: Vec<u16> = o
        .replies()
        .into_iter()
        .filter(|r| r.1 == Phase::Dot)
        .map(|r| r.0)
        .collect();
    assert_eq!(dots, vec![250]);
    assert!(o.actions.contains(&ServerAction::Close));
    // d@y is never answered: the client must take the message as not delivered to it
    // (RFC 2033 §4.2), so it is not stored for d@y either; likewise after a 421.
    assert_eq!(o.stored()[0].rcpts, vec!["b@y".to_string()]);
    let (mut s, _) = lmtp_faulty(&["lmtp-rcpt#2=421"]);
    let o = feed(&mut s, LMTP_THREE);
    assert!(
        o.text()
            .ends_with("421 4.0.0 <c@y> Fault injected by ehlo serve (--fail lmtp-rcpt#2=421)\r\n"),
        "{}",
        o.text()
    );
    assert_eq!(o.stored()[0].rcpts, vec!["b@y".to_string()]);
    // The first recipient closes: nobody is answered, nothing is stored.
    let (mut s, _) = lmtp_faulty(&["lmtp-rcpt#1=421"]);
    let o = feed(&mut s, LMTP_THREE);
    assert!(o.stored().is_empty());
    assert!(s.is_closed());
}

#[test]
fn lmtp_rcpt_is_a_known_point_and_a_delay_point() {
    let f = crate::cli::serve_specs::faults(
        &["lmtp-rcpt#2=552:5.2.2".to_string()],
        &["lmtp-rcpt#1:1500".to_string()],
        &[],
    )
    .unwrap();
    assert!(f.uses(Point::LmtpRcpt));
    assert_eq!(f.delay(Point::LmtpRcpt, 1), Some(1500));
    let (mut s, _) = session(ServerConfig {
        lmtp: true,
        faults: f,
        ..cfg()
    });
    let o = feed(&mut s, LMTP_THREE);
    assert!(o.actions.contains(&ServerAction::Delay(1500)));
}

/// The session streams the content instead of holding the message. A 2 MB
/// message fed in 16 KiB reads leaves in pieces no bigger than a read, the session's own
/// buffers stay small meanwhile, and the message joined from the pieces is exact. (Before,
/// the whole message sat in the session until the final dot.)
#[test]
fn content_is_streamed_in_pieces_as_it_is_read() {
    let (mut s, _) = session(ServerConfig {
        max_size: 4 << 20,
        ..cfg()
    });
    feed(
        &mut s,
        b"EHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n",
    );
    let body = b"0123456789 .abcdefghijklmnopqrstuvwxyz\r\n..stuffed\r\n".repeat(40_000);
    let wire = crate::smtp::data::encode(&body, crate::smtp::data::Fixup::ALL);
    let mut pieces = Vec::new();
    let mut stored = Vec::new();
    for read in wire.chunks(16 * 1024) {
        let o = feed(&mut s, read);
        // At most the read, plus a CR held back from the read before it.
        assert!(
            o.pieces.iter().all(|&n| n <= read.len() + 1),
            "{:?}",
            o.pieces
        );
        stored.extend(o.stored());
        pieces.extend(o.pieces);
        if matches!(s.mode, Mode::Data(_)) {
            // Everything read went out: the session keeps none of the content.
            assert!(s.inbuf.is_empty());
        }
    }
    assert!(pieces.len() >= wire.len() / (16 * 1024), "{}", pieces.len());
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].content, body);
    assert_eq!(stored[0].size, body.len());

    // BDAT streams each chunk the same way.
    feed(&mut s, b"MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\n");
    let o = feed(&mut s, format!("BDAT {}\r\n", body.len()).as_bytes());
    assert!(o.pieces.is_empty());
    let mut n = 0;
    for read in body.chunks(16 * 1024) {
        let o = feed(&mut s, read);
        assert_eq!(o.pieces, [read.len()]);
        n += 1;
    }
    assert!(n > 100);
    let o = feed(&mut s, b"BDAT 2 LAST\r\nxy");
    let m = &o.stored()[0];
    assert_eq!(m.content.len(), body.len() + 2);
    assert!(m.content.ends_with(b"\r\nxy") && !m.bare_newlines);
}

/// Every way a transaction with streamed content ends without a message says `Discard`, once,
/// so the driver removes what it wrote; a stored message never does.
#[test]
fn unstored_content_is_discarded() {
    let start = b"EHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\n";
    // Too big (DATA and BDAT), RSET between BDAT chunks, a new EHLO, a dot fault, a BDAT fault.
    let cases: [(&[&str], usize, &[u8], u16); 6] = [
        (&[], 8, b"DATA\r\n0123456789\r\n.\r\n", 552),
        (&[], 8, b"BDAT 10 LAST\r\n0123456789", 552),
        (&[], 100, b"BDAT 3\r\nabcRSET\r\n", 250),
        (&[], 100, b"BDAT 3\r\nabcEHLO d\r\n", 250),
        (&["dot#1=554"], 100, b"DATA\r\nabc\r\n.\r\n", 554),
        (&["bdat#1=452"], 100, b"BDAT 3 LAST\r\nabc", 452),
    ];
    for (fault, max_size, input, code) in cases {
        let (mut s, _) = session(ServerConfig {
            max_size,
            faults: faults(fault),
            ..cfg()
        });
        feed(&mut s, start);
        let o = feed(&mut s, input);
        let case = String::from_utf8_lossy(input);
        assert!(!o.pieces.is_empty(), "{case}: content was streamed");
        assert_eq!(o.discards, 1, "{case}");
        assert!(o.stored().is_empty(), "{case}");
        assert_eq!(
            o.replies().last().map(|r| r.0),
            Some(code),
            "{case}: {}",
            o.text()
        );
        // The next message is whole and stored without a discard.
        let o = feed(
            &mut s,
            b"RSET\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nBDAT 2 LAST\r\nok",
        );
        assert_eq!(o.discards, 0, "{case}");
        assert_eq!(o.stored()[0].content, b"ok", "{case}");
    }
    // LMTP: every recipient refused by its fault.
    let (mut s, _) = session(ServerConfig {
        lmtp: true,
        faults: faults(&["lmtp-rcpt#1=550"]),
        ..cfg()
    });
    let o = feed(
        &mut s,
        b"LHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\nabc\r\n.\r\n",
    );
    assert_eq!((o.discards, o.stored().len()), (1, 0), "{}", o.text());
    // The connection ends mid-content: the idle timeout, the client's close.
    for timeout in [true, false] {
        let (mut s, _) = session(cfg());
        let o = feed(
            &mut s,
            b"EHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\nabc",
        );
        assert_eq!((o.pieces.len(), o.discards), (1, 0));
        if timeout {
            s.timed_out();
        } else {
            s.peer_closed();
        }
        let o = drain(&mut s);
        assert_eq!(o.discards, 1);
        if timeout {
            assert_eq!(o.actions, [ServerAction::Close]);
        }
    }
}

/// BDAT's bare CR/LF check runs over the content as it streams: a CRLF split between two
/// chunks is a line end, a CR ending the message is bare.
#[test]
fn bdat_bare_newlines_across_chunks() {
    for (chunks, bare) in [
        (&[&b"a\r"[..], b"\nb"][..], false),
        (&[b"a\r", b"b"], true),
        (&[b"a", b"\nb"], true),
        (&[b"a\r\n", b"b\r"], true),
        (&[b"a\r\n", b"b\r\n"], false),
    ] {
        let (mut s, _) = session(cfg());
        feed(&mut s, b"EHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\n");
        let mut o = Output::default();
        for (i, c) in chunks.iter().enumerate() {
            let last = if i + 1 == chunks.len() { " LAST" } else { "" };
            let mut input = format!("BDAT {}{last}\r\n", c.len()).into_bytes();
            input.extend_from_slice(c);
            o = feed(&mut s, &input);
        }
        let m = &o.stored()[0];
        assert_eq!(m.bare_newlines, bare, "{chunks:?}");
        assert_eq!(m.content, chunks.concat());
        // BDAT content has no end-of-data marker to smuggle past (RFC 3030 §2), and with
        // BODY=BINARYMIME any octet is fine: no smuggling warning.
        assert!(
            !o.events
                .iter()
                .any(|e| matches!(e, Event::Warning { message } if message.contains("smuggling"))),
            "{chunks:?}: {:?}",
            o.events
        );
    }
    let (mut s, _) = session(cfg());
    let o = feed(
        &mut s,
        b"EHLO c\r\nMAIL FROM:<a@x> BODY=BINARYMIME\r\nRCPT TO:<b@y>\r\nBDAT 5 LAST\r\na\nb\rc",
    );
    assert_eq!(o.stored()[0].content, b"a\nb\rc");
    assert!(
        !o.events.iter().any(|e| matches!(e, Event::Warning { .. })),
        "{:?}",
        o.events
    );
}

#[test]
fn sasl_responses_sent_after_a_refused_auth_are_masked_until_a_command_comes() {
    let (mut s, _) = session(cfg());
    feed(&mut s, b"EHLO c\r\n");
    let good = format!("AUTH PLAIN {}\r\n", b64(b"\0alice\0s3cret"));
    assert!(feed(&mut s, good.as_bytes()).text().starts_with("235"));
    let shown = |o: &Output| match &o.events[0] {
        Event::ClientCommand { text, redacted, .. } => (text.clone(), *redacted),
        e => panic!("{e:?}"),
    };
    // Refused outright: a client that does not wait for the 503 sends its LOGIN responses
    // anyway, as lines that are no command.
    let o = feed(&mut s, b"AUTH LOGIN\r\n");
    assert!(o.text().starts_with("503"), "{}", o.text());
    for line in [b64(b"alice"), b64(b"s3cret"), "*".to_string()] {
        let o = feed(&mut s, format!("{line}\r\n").as_bytes());
        assert!(o.text().starts_with('5'), "{line}: {}", o.text());
        assert_eq!(shown(&o), ("********".to_string(), true), "{line}");
    }
    // A command ends it: what follows is shown as it came.
    let o = feed(&mut s, b"NOOP\r\n");
    assert_eq!(shown(&o), ("NOOP".to_string(), false));
    let o = feed(&mut s, b"YWxpY2U=\r\n");
    assert_eq!(shown(&o), ("YWxpY2U=".to_string(), false));
    // Words that are not one base64 token are shown too, AUTH or not before them.
    feed(&mut s, b"AUTH LOGIN\r\n");
    let o = feed(&mut s, b"hello there\r\n");
    assert_eq!(shown(&o), ("hello there".to_string(), false));
}

#[test]
fn injected_bytes_after_a_cancelled_auth_are_shown_and_non_utf8_is_kept() {
    let (mut s, _) = session(ServerConfig {
        starttls: true,
        ..cfg()
    });
    feed(&mut s, b"EHLO client.test\r\n");
    let user = B64.encode("alice");
    let mut input =
        format!("STARTTLS\r\nAUTH LOGIN\r\n{user}\r\n*\r\nMAIL FROM:<a@x.test>\r\n").into_bytes();
    input.extend_from_slice(b"\xff\r\n\xfe\n");
    let o = feed(&mut s, &input);
    let shown = o
        .events
        .iter()
        .find_map(|e| match e {
            Event::Deviation {
                deviation: Deviation::StartTlsInjection { bytes, .. },
                ..
            } => Some(bytes.0.clone()),
            _ => None,
        })
        .expect("the injection is reported");
    // The `*` ends the exchange (RFC 4954 §4): what follows is a command again, shown as it came.
    assert_eq!(
        shown,
        b"AUTH LOGIN\r\n********\r\n*\r\nMAIL FROM:<a@x.test>\r\n\xff\r\n\xfe\n"
    );
}

/// RFC 2033 §4.2/§4.3: after the content, one reply per accepted recipient, refusals
/// included. A single 552 or fault reply would leave the client waiting for the rest, or
/// reading the next command's reply as the second recipient's.
#[test]
fn lmtp_refusals_after_the_content_answer_every_recipient() {
    const TWO: &[u8] = b"LHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nRCPT TO:<c@y>\r\n";
    let dots = |o: &Output| -> Vec<u16> {
        o.replies()
            .into_iter()
            .filter(|r| r.1 == Phase::Dot)
            .map(|r| r.0)
            .collect()
    };
    // DATA over --max-size.
    let (mut s, _) = session(ServerConfig {
        lmtp: true,
        max_size: 4,
        ..cfg()
    });
    feed(&mut s, TWO);
    let o = feed(&mut s, b"DATA\r\n0123456789\r\n.\r\nNOOP\r\n");
    assert_eq!(dots(&o), vec![552, 552], "{}", o.text());
    assert!(
        o.text()
            .ends_with("552 5.3.4 Message size exceeds fixed limit\r\n250 2.0.0 Ok\r\n")
    );
    assert!(o.stored().is_empty());
    // BDAT LAST over --max-size.
    feed(
        &mut s,
        b"MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nRCPT TO:<c@y>\r\n",
    );
    let o = feed(&mut s, b"BDAT 10 LAST\r\n0123456789NOOP\r\n");
    assert_eq!(
        o.text(),
        "552 5.3.4 Message size exceeds fixed limit\r\n552 5.3.4 Message size exceeds fixed limit\r\n250 2.0.0 Ok\r\n"
    );
    // A fault on BDAT LAST: one reply per recipient; on a chunk before it, one.
    let (mut s, _) = lmtp_faulty(&["bdat#2=452:4.3.1"]);
    feed(&mut s, TWO);
    let o = feed(&mut s, b"BDAT 2\r\nabBDAT 2 LAST\r\ncdNOOP\r\n");
    let fault = "452 4.3.1 Fault injected by ehlo serve (--fail bdat#2=452:4.3.1)\r\n";
    assert_eq!(
        o.text(),
        format!("250 2.0.0 2 octets received\r\n{fault}{fault}250 2.0.0 Ok\r\n")
    );
    assert!(o.stored().is_empty());
    let (mut s, _) = lmtp_faulty(&["bdat#1=452:4.3.1"]);
    feed(&mut s, TWO);
    let o = feed(&mut s, b"BDAT 2\r\nabNOOP\r\n");
    assert_eq!(
        o.text(),
        format!("{fault}250 2.0.0 Ok\r\n").replace("bdat#2", "bdat#1")
    );
    // Plain SMTP keeps its single reply.
    let (mut s, _) = faulty(&["bdat=452:4.3.1"]);
    feed(
        &mut s,
        b"EHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nRCPT TO:<c@y>\r\n",
    );
    let o = feed(&mut s, b"BDAT 2 LAST\r\ncdNOOP\r\n");
    assert_eq!(o.text().matches("452 ").count(), 1, "{}", o.text());
}

/// A parameter of an extension that was not advertised (hidden, or a HELO session) is refused
/// with 555 5.5.4 (RFC 5321 §4.1.1.11), as hidden CHUNKING, STARTTLS and AUTH already were;
/// an unknown BODY value is 501; BODY=BINARYMIME then DATA is 503 (RFC 3030 §3).
#[test]
fn malformed_or_repeated_mail_and_rcpt_parameters_are_refused() {
    // Each value is checked against its grammar (RFC 1870 §3 SIZE, RFC 3461 §4.1-4.4 DSN,
    // RFC 6531 §3.4 SMTPUTF8, RFC 4954 §5 AUTH), and RET, ENVID, NOTIFY and ORCPT may come
    // once (RFC 3461 §4; Postfix and Exim refuse a repeat).
    let (mut s, _) = session(cfg());
    feed(&mut s, b"EHLO c\r\n");
    for (line, want) in [
        (
            "MAIL FROM:<a@x> RET=FOO",
            "501 5.5.4 Bad RET parameter syntax",
        ),
        ("MAIL FROM:<a@x> RET", "501 5.5.4 Bad RET parameter syntax"),
        (
            "MAIL FROM:<a@x> RET=FULL RET=HDRS",
            "501 5.5.4 Duplicate RET parameter",
        ),
        (
            "MAIL FROM:<a@x> ENVID=a+",
            "501 5.5.4 Bad ENVID parameter syntax",
        ),
        (
            "MAIL FROM:<a@x> ENVID=a+2b",
            "501 5.5.4 Bad ENVID parameter syntax",
        ),
        (
            "MAIL FROM:<a@x> ENVID=",
            "501 5.5.4 Bad ENVID parameter syntax",
        ),
        (
            "MAIL FROM:<a@x> SMTPUTF8=yes",
            "501 5.5.4 Bad SMTPUTF8 parameter syntax",
        ),
        (
            "MAIL FROM:<a@x> SIZE=+5",
            "501 5.5.4 Bad message size syntax",
        ),
        ("MAIL FROM:<a@x> SIZE=", "501 5.5.4 Bad message size syntax"),
        ("MAIL FROM:<a@x> SIZE", "501 5.5.4 Bad message size syntax"),
        (
            "MAIL FROM:<a@x> SIZE=123456789012345678901",
            "501 5.5.4 Bad message size syntax",
        ),
        (
            "MAIL FROM:<a@x> AUTH=a+",
            "501 5.5.4 Bad AUTH parameter syntax",
        ),
    ] {
        let got = feed(&mut s, format!("{line}\r\n").as_bytes()).text();
        assert!(got.starts_with(want), "{line}: {got}");
    }
    // Still no transaction: each was refused.
    assert!(
        feed(&mut s, b"RCPT TO:<b@y>\r\n")
            .text()
            .starts_with("503 ")
    );
    // A 20-digit SIZE is syntax, only too big.
    assert_eq!(
        feed(&mut s, b"MAIL FROM:<a@x> SIZE=99999999999999999999\r\n").text(),
        "552 5.3.4 Message size exceeds fixed limit\r\n"
    );
    assert_eq!(
        feed(
            &mut s,
            b"MAIL FROM:<a@x> RET=full ENVID=QQ+2Bx.1 SMTPUTF8 SIZE=007\r\n"
        )
        .text(),
        "250 2.1.0 Ok\r\n"
    );
    for (line, want) in [
        (
            "RCPT TO:<b@y> NOTIFY=FOO",
            "501 5.5.4 Bad NOTIFY parameter syntax",
        ),
        (
            "RCPT TO:<b@y> NOTIFY=NEVER,SUCCESS",
            "501 5.5.4 Bad NOTIFY parameter syntax",
        ),
        (
            "RCPT TO:<b@y> NOTIFY=SUCCESS,SUCCESS",
            "501 5.5.4 Bad NOTIFY parameter syntax",
        ),
        (
            "RCPT TO:<b@y> NOTIFY",
            "501 5.5.4 Bad NOTIFY parameter syntax",
        ),
        (
            "RCPT TO:<b@y> ORCPT=c@d",
            "501 5.5.4 Bad ORCPT parameter syntax",
        ),
        (
            "RCPT TO:<b@y> ORCPT=rfc822;c+@d",
            "501 5.5.4 Bad ORCPT parameter syntax",
        ),
        (
            "RCPT TO:<b@y> ORCPT=;c@d",
            "501 5.5.4 Bad ORCPT parameter syntax",
        ),
        (
            "RCPT TO:<b@y> NOTIFY=NEVER NOTIFY=NEVER",
            "501 5.5.4 Duplicate NOTIFY parameter",
        ),
        (
            "RCPT TO:<b@y> ORCPT=rfc822;b@y orcpt=rfc822;b@y",
            "501 5.5.4 Duplicate ORCPT parameter",
        ),
    ] {
        let got = feed(&mut s, format!("{line}\r\n").as_bytes()).text();
        assert!(got.starts_with(want), "{line}: {got}");
    }
    assert_eq!(
        feed(
            &mut s,
            b"RCPT TO:<b@y> NOTIFY=failure,Delay ORCPT=RFC822;b+2Bx@y\r\nDATA\r\nx\r\n.\r\n"
        )
        .stored()[0]
            .rcpts,
        vec!["b@y".to_string()]
    );
}

/// RFC 3461 §4.2 and §4.4 bound ENVID to 100 and ORCPT to 500 characters and want printable
/// US-ASCII inside the xtext: each malformed value gets 501 5.5.4 with the reason.
#[test]
fn dsn_values_past_their_length_or_not_printable_are_refused_with_a_reason() {
    let (mut s, _) = session(cfg());
    feed(&mut s, b"EHLO c\r\n");
    let envid = |v: &str| format!("MAIL FROM:<a@x> ENVID={v}\r\n");
    for (line, want) in [
        (
            envid(&"e".repeat(101)),
            "501 5.5.4 Bad ENVID parameter syntax (101 characters, more than 100, RFC 3461 section 4.4)",
        ),
        // The bound is on the value as sent: 34 encoded bytes are 102 characters.
        (
            envid(&"+41".repeat(34)),
            "501 5.5.4 Bad ENVID parameter syntax (102 characters, more than 100, RFC 3461 section 4.4)",
        ),
        (
            envid("a+00"),
            "501 5.5.4 Bad ENVID parameter syntax (decodes to a byte that is not printable \
             US-ASCII, RFC 3461 section 4)",
        ),
        (
            envid("a+C3+A9"),
            "501 5.5.4 Bad ENVID parameter syntax (decodes to a byte that is not printable \
             US-ASCII, RFC 3461 section 4)",
        ),
        (
            envid("a+zz"),
            "501 5.5.4 Bad ENVID parameter syntax ('=' or a '+' not followed by two upper-case \
             hex digits, RFC 3461 section 4)",
        ),
        (
            envid("a\u{e9}"),
            "501 5.5.4 Bad ENVID parameter syntax (not xtext: a space, control or non-ASCII \
             character, RFC 3461 section 4)",
        ),
        (envid(""), "501 5.5.4 Bad ENVID parameter syntax (empty)"),
        (
            "MAIL FROM:<a@x> RET=ALL\r\n".into(),
            "501 5.5.4 Bad RET parameter syntax (FULL or HDRS, RFC 3461 section 4.3)",
        ),
    ] {
        assert_eq!(
            feed(&mut s, line.as_bytes()).text(),
            format!("{want}\r\n"),
            "{line}"
        );
    }
    // At the bound, with a space and a tab inside: taken.
    let at_bound = format!("{}+20+09", "e".repeat(94));
    assert_eq!(
        feed(&mut s, envid(&at_bound).as_bytes()).text(),
        "250 2.1.0 Ok\r\n"
    );
    let orcpt = |v: &str| format!("RCPT TO:<b@y> ORCPT={v}\r\n");
    for (line, want) in [
        (
            orcpt(&format!("rfc822;{}", "o".repeat(494))),
            "501 5.5.4 Bad ORCPT parameter syntax (501 characters, more than 500, RFC 3461 section 4.2)",
        ),
        (
            orcpt("b@y"),
            "501 5.5.4 Bad ORCPT parameter syntax (no addr-type: addr-type;xtext, e.g. rfc822;, \
             RFC 3461 section 4.2)",
        ),
        (
            orcpt("rfc(822);b@y"),
            "501 5.5.4 Bad ORCPT parameter syntax (the addr-type is not an atom, RFC 3461 section 4.2)",
        ),
        (
            orcpt("rfc822;b+0D+0A@y"),
            "501 5.5.4 Bad ORCPT parameter syntax (decodes to a byte that is not printable \
             US-ASCII, RFC 3461 section 4)",
        ),
        (
            orcpt("rfc822;"),
            "501 5.5.4 Bad ORCPT parameter syntax (empty)",
        ),
        (
            "RCPT TO:<b@y> NOTIFY=NEVER,DELAY\r\n".into(),
            "501 5.5.4 Bad NOTIFY parameter syntax (NEVER, or a list of SUCCESS, FAILURE, DELAY \
             each at most once, RFC 3461 section 4.1)",
        ),
    ] {
        assert_eq!(
            feed(&mut s, line.as_bytes()).text(),
            format!("{want}\r\n"),
            "{line}"
        );
    }
    assert_eq!(
        feed(
            &mut s,
            orcpt(&format!("rfc822;{}", "o".repeat(493))).as_bytes()
        )
        .text(),
        "250 2.1.5 Ok\r\n"
    );
}

#[test]
fn parameters_of_extensions_not_advertised_are_refused() {
    let hide = |h: &[&str]| {
        let v: Vec<String> = h.iter().map(|x| x.to_string()).collect();
        ServerConfig {
            faults: crate::cli::serve_specs::faults(&[], &[], &v).unwrap(),
            ..cfg()
        }
    };
    let (mut s, _) = session(hide(&["SIZE", "8BITMIME", "SMTPUTF8", "DSN"]));
    feed(&mut s, b"EHLO c\r\n");
    for (line, want) in [
        (
            "MAIL FROM:<a@x> SMTPUTF8",
            "555 5.5.4 Unsupported option: SMTPUTF8\r\n",
        ),
        (
            "MAIL FROM:<a@x> SIZE=10",
            "555 5.5.4 Unsupported option: SIZE=10\r\n",
        ),
        (
            "MAIL FROM:<a@x> RET=HDRS",
            "555 5.5.4 Unsupported option: RET=HDRS\r\n",
        ),
        (
            "MAIL FROM:<a@x> ENVID=x",
            "555 5.5.4 Unsupported option: ENVID=x\r\n",
        ),
        (
            "MAIL FROM:<a@x> BODY=8BITMIME",
            "555 5.5.4 Unsupported option: BODY=8BITMIME\r\n",
        ),
        (
            "MAIL FROM:<a@x> BODY=FOO",
            "501 5.5.4 Bad BODY value: FOO (7BIT, 8BITMIME or BINARYMIME)\r\n",
        ),
        // AUTH is offered to this session (users, no STARTTLS): its parameter stays.
        ("MAIL FROM:<a@x> AUTH=<>", "250 2.1.0 Ok\r\n"),
        (
            "RCPT TO:<b@y> NOTIFY=NEVER",
            "555 5.5.4 Unsupported option: NOTIFY=NEVER\r\n",
        ),
        (
            "RCPT TO:<b@y> ORCPT=rfc822;b@y",
            "555 5.5.4 Unsupported option: ORCPT=rfc822;b@y\r\n",
        ),
    ] {
        assert_eq!(
            feed(&mut s, format!("{line}\r\n").as_bytes()).text(),
            want,
            "{line}"
        );
    }

    // Advertised, all accepted; BODY=BINARYMIME needs BDAT.
    let (mut s, _) = session(cfg());
    feed(&mut s, b"EHLO c\r\n");
    let o = feed(
        &mut s,
        b"MAIL FROM:<a@x> SIZE=10 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=x AUTH=<>\r\n\
          RCPT TO:<b@y> NOTIFY=NEVER ORCPT=rfc822;b@y\r\nRSET\r\n",
    );
    assert_eq!(o.text(), "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.0.0 Ok\r\n");
    let o = feed(
        &mut s,
        b"MAIL FROM:<a@x> BODY=binarymime\r\nRCPT TO:<b@y>\r\nDATA\r\nBDAT 3 LAST\r\nabc",
    );
    let text = o.text();
    assert!(
        text.starts_with(
            "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n503 5.5.1 Error: BODY=BINARYMIME content must be sent with BDAT\r\n250 2.0.0 Ok: queued as "
        ),
        "{text}"
    );
    assert_eq!(o.stored()[0].content, b"abc");
    // Without CHUNKING there is no BINARYMIME.
    let (mut s, _) = session(hide(&["CHUNKING"]));
    feed(&mut s, b"EHLO c\r\n");
    assert_eq!(
        feed(&mut s, b"MAIL FROM:<a@x> BODY=BINARYMIME\r\n").text(),
        "555 5.5.4 Unsupported option: BODY=BINARYMIME\r\n"
    );
    let (mut s, _) = session(hide(&["AUTH"]));
    feed(&mut s, b"EHLO c\r\n");
    assert_eq!(
        feed(&mut s, b"MAIL FROM:<a@x> AUTH=<>\r\n").text(),
        "555 5.5.4 Unsupported option: AUTH=<>\r\n"
    );
    // HELO advertises nothing, so no parameter is valid after it.
    let (mut s, _) = session(cfg());
    feed(&mut s, b"HELO c\r\n");
    assert_eq!(
        feed(&mut s, b"MAIL FROM:<a@x> SIZE=10\r\n").text(),
        "555 5.5.4 Unsupported option: SIZE=10\r\n"
    );
    assert_eq!(
        feed(&mut s, b"MAIL FROM:<a@x>\r\n").text(),
        "250 2.1.0 Ok\r\n"
    );
}

/// RFC 5321 §4.5.3.1.5: every reply line fits in 512 octets with its CRLF, also when it echoes
/// a long text of the client's (an EHLO argument, an unknown parameter, a BODY value): the
/// echoed part is cut and ends in `...`.
#[test]
fn reply_lines_echoing_the_client_stay_within_512_octets() {
    let (mut s, _) = session(cfg());
    let long = format!("{}.test", "a".repeat(700));
    let mut out = String::new();
    for cmd in [
        format!("EHLO {long}\r\n"),
        format!("MAIL FROM:<a@b.test> {}=1\r\n", "X".repeat(900)),
        format!("MAIL FROM:<a@b.test> BODY={}\r\n", "Y".repeat(900)),
        format!("HELO {long}\r\n"),
    ] {
        let o = feed(&mut s, cmd.as_bytes());
        out.push_str(&o.text());
    }
    for line in out.split_inclusive("\r\n") {
        assert!(line.len() <= 512, "{} octets: {line}", line.len());
    }
    assert!(out.starts_with("250-mx.test Hello aaaa"), "{out}");
    assert!(out.contains("a...\r\n250-PIPELINING"), "{out}");
    assert!(out.contains("555 5.5.4 Unsupported option: XXX"), "{out}");
    assert!(out.contains("X...\r\n"), "{out}");
    assert!(out.contains("501 5.5.4 Bad BODY value: YYY"), "{out}");
    // A short text is left whole.
    let o = feed(&mut s, b"NOOP\r\n");
    assert_eq!(o.text(), "250 2.0.0 Ok\r\n");
}

#[test]
fn a_non_ascii_address_needs_smtputf8_and_utf8() {
    let (mut s, _) = session(cfg());
    feed(&mut s, b"EHLO c.test\r\n");
    let reply = |s: &mut Session, line: &[u8]| {
        let o = feed(s, &[line, b"\r\n"].concat());
        o.text()
    };
    assert_eq!(
        reply(&mut s, "MAIL FROM:<josé@c.test>".as_bytes()),
        "553 5.6.7 Must declare SMTPUTF8 to send unicode address\r\n"
    );
    assert_eq!(
        reply(&mut s, b"MAIL FROM:<a\xff@c.test> SMTPUTF8"),
        "500 5.5.2 Error: bad UTF-8 syntax\r\n"
    );
    assert_eq!(
        reply(&mut s, "MAIL FROM:<josé@c.test> SMTPUTF8".as_bytes()),
        "250 2.1.0 Ok\r\n"
    );
    assert_eq!(
        reply(&mut s, "RCPT TO:<pelé@s.test>".as_bytes()),
        "250 2.1.5 Ok\r\n"
    );
    assert_eq!(
        reply(&mut s, b"RCPT TO:<b\xff@s.test>"),
        "500 5.5.2 Error: bad UTF-8 syntax\r\n"
    );
    reply(&mut s, b"RSET");
    assert_eq!(reply(&mut s, b"MAIL FROM:<a@c.test>"), "250 2.1.0 Ok\r\n");
    assert_eq!(
        reply(&mut s, "RCPT TO:<pelé@s.test>".as_bytes()),
        "553 5.6.7 Must declare SMTPUTF8 to send unicode address\r\n"
    );
    // An ASCII address in a transaction without SMTPUTF8 is still fine.
    assert_eq!(reply(&mut s, b"RCPT TO:<b@s.test>"), "250 2.1.5 Ok\r\n");
}

#[test]
fn sasl_responses_may_be_long_up_to_the_rfc_4954_buffer_then_fail_with_5_5_6() {
    let (mut s, _) = session(ServerConfig {
        accept_any_auth: true,
        ..cfg()
    });
    feed(&mut s, b"EHLO c.test\r\n");
    // A response of 5000 octets (a long password, a Kerberos ticket) is one SASL line, not a
    // command over the 2048-octet limit.
    let long = B64.encode([b"\0alice\0".as_slice(), &[b'p'; 3700]].concat());
    assert!(long.len() > 4900 && long.len() < MAX_SASL_LINE);
    assert_eq!(feed(&mut s, b"AUTH PLAIN\r\n").text(), "334 \r\n");
    let o = feed(&mut s, format!("{long}\r\n").as_bytes());
    assert_eq!(o.text(), "235 2.7.0 Authentication successful\r\n");
    assert!(!format!("{:?}", o.events).contains(&long));

    let (mut s, _) = session(ServerConfig {
        accept_any_auth: true,
        ..cfg()
    });
    feed(&mut s, b"EHLO c.test\r\n");
    assert_eq!(
        feed(&mut s, b"AUTH LOGIN\r\n").text(),
        "334 VXNlcm5hbWU6\r\n"
    );
    // Over the buffer, fed in pieces: the AUTH fails with 500 5.5.6 as soon as the buffer is
    // passed, the rest of the line is discarded unanswered, and the session reads commands again.
    let mut replies = String::new();
    for _ in 0..20 {
        replies += &feed(&mut s, &[b'Q'; 1000]).text();
        assert!(s.inbuf.len() <= MAX_SASL_LINE);
    }
    assert_eq!(
        replies,
        "500 5.5.6 Authentication Exchange line is too long\r\n"
    );
    let o = feed(&mut s, b"\r\nNOOP\r\n");
    assert_eq!(o.text(), "250 2.0.0 Ok\r\n");
    let o = feed(&mut s, b"AUTH LOGIN\r\n");
    assert_eq!(o.text(), "334 VXNlcm5hbWU6\r\n");
    let o = feed(&mut s, &[b'Q'; MAX_SASL_LINE]);
    assert_eq!(
        o.text(),
        "500 5.5.6 Authentication Exchange line is too long\r\n"
    );
    assert!(o.events.iter().any(|e| matches!(
        e,
        Event::Deviation {
            deviation: Deviation::OverlongLine {
                len: 12_289,
                limit: MAX_SASL_LINE
            },
            phase: Phase::Auth,
        }
    )));
    assert!(feed(&mut s, &[b'Q'; 5000]).bytes.is_empty());
    assert!(feed(&mut s, b"\r\n").bytes.is_empty());
    // A command line is still held to 2048 octets.
    let o = feed(&mut s, format!("NOOP {}\r\n", "x".repeat(2100)).as_bytes());
    assert_eq!(o.text(), "500 5.5.2 Line too long\r\n");
}

#[test]
fn control_characters_the_client_sent_are_not_echoed_in_replies() {
    let (mut s, _) = session(cfg());
    let o = feed(&mut s, b"EHLO x\x1b[31mred\x00nul\x7f\r\n");
    assert!(
        o.text().starts_with("250-mx.test Hello x?[31mred?nul?\r\n"),
        "{:?}",
        o.text()
    );
    // The session keeps the name as sent; only the reply is neutered.
    assert_eq!(s.helo.as_deref(), Some("x\x1b[31mred\x00nul\x7f"));
    // So is every other reply that quotes the client: an unknown parameter, a BDAT word.
    let o = feed(&mut s, b"MAIL FROM:<a@b> X\x1b[2J=1\r\n");
    assert_eq!(o.text(), "555 5.5.4 Unsupported option: X?[2J=1\r\n");
    let o = feed(&mut s, b"BDAT 1 \x00\r\n");
    assert_eq!(
        o.text(),
        "501 5.5.4 Syntax error in BDAT parameters: expected LAST, got ?\r\n"
    );
}

/// A client's line that is not UTF-8 is shown with each such byte as `\xNN`, as the client
/// side shows a reply's: `RCPT TO:<b\xff@s.test>` was shown (transcript, JSON `client_command`)
/// with U+FFFD, which says a byte came but not which; and a LOGIN user name with one was
/// `redacted` though nothing was masked.
#[test]
fn a_client_line_that_is_not_utf8_is_shown_with_the_bytes_it_had() {
    let (mut s, _) = session(cfg());
    feed(&mut s, b"EHLO c\r\n");
    let shown = |o: &Output| match &o.events[0] {
        Event::ClientCommand { text, redacted, .. } => (text.clone(), *redacted),
        e => panic!("{e:?}"),
    };
    let o = feed(&mut s, b"NOOP caf\xe9 \xff\xfe\r\n");
    assert_eq!(shown(&o), ("NOOP caf\\xE9 \\xFF\\xFE".to_string(), false));
    let o = feed(&mut s, b"AUTH LOGIN\r\n");
    assert!(o.text().starts_with("334"), "{}", o.text());
    let o = feed(&mut s, b"al\xefce\r\n");
    assert_eq!(shown(&o), ("al\\xEFce".to_string(), false));
}

/// `RCPT TO:<bad@>` and the other paths Postfix (`501 5.1.3 Bad recipient address syntax`) and
/// Exim (`501 <bad@>: domain missing or malformed`) both refuse were taken with 250: a CI run
/// against `ehlo serve` passed a client that every real MTA fails. The transaction stays open
/// for the next recipient; what either MTA takes is still taken.
#[test]
fn malformed_envelope_addresses_are_refused_as_postfix_and_exim_refuse_them() {
    let (mut s, _) = session(cfg());
    feed(&mut s, b"EHLO c\r\n");
    assert_eq!(
        feed(&mut s, b"MAIL FROM:<bad@>\r\n").text(),
        "501 5.1.7 Bad sender address syntax (no domain after the @)\r\n"
    );
    assert_eq!(
        feed(&mut s, b"MAIL FROM:<a@[1.2.3]>\r\n").text(),
        "501 5.1.7 Bad sender address syntax ([1.2.3] is not an address literal ([1.2.3.4] or [IPv6:2001:db8::1]))\r\n"
    );
    assert_eq!(feed(&mut s, b"MAIL FROM:<>\r\n").text(), "250 2.1.0 Ok\r\n");
    for (rcpt, why) in [
        ("bad@", "no domain after the @"),
        ("@b.test", "empty local part"),
        ("a@b@c.test", "an @ in the local part (quote it)"),
        ("a@x..b.test", "an empty label in the domain x..b.test"),
        ("a@b!c.test", "'!' in the domain b!c.test"),
        ("a@-x.test", "the domain label -x starts or ends with '-'"),
    ] {
        assert_eq!(
            feed(&mut s, format!("RCPT TO:<{rcpt}>\r\n").as_bytes()).text(),
            format!("501 5.1.3 Bad recipient address syntax ({why})\r\n"),
            "{rcpt}"
        );
    }
    for taken in [
        "postmaster",
        "a@[IPv6:::1]",
        "\"a b\"@b.test",
        "@relay.test:a@b.test",
    ] {
        assert_eq!(
            feed(&mut s, format!("RCPT TO:<{taken}>\r\n").as_bytes()).text(),
            "250 2.1.5 Ok\r\n",
            "{taken}"
        );
    }
}

/// A repeated SIZE, BODY or SMTPUTF8 was refused `501 5.5.4 Duplicate SIZE parameter` where
/// Postfix and Exim both answer 250: a client passing every real MTA failed here. It is taken
/// now, with a warning that names the repeat; a repeated RET (RFC 3461 §4) is still refused, as
/// both refuse it.
#[test]
fn a_repeated_size_body_or_smtputf8_is_taken_with_a_warning() {
    let (mut s, _) = session(cfg());
    feed(&mut s, b"EHLO c\r\n");
    let o = feed(
        &mut s,
        b"MAIL FROM:<a@x> SIZE=10 size=20 BODY=8BITMIME BODY=7BIT SMTPUTF8 SMTPUTF8\r\n",
    );
    assert_eq!(o.text(), "250 2.1.0 Ok\r\n");
    assert!(
        o.events
            .iter()
            .any(|e| matches!(e, Event::Warning { message, .. }
            if message.starts_with("MAIL repeats SIZE, BODY, SMTPUTF8: taken"))),
        "{:?}",
        o.events
    );
    feed(&mut s, b"RSET\r\n");
    assert_eq!(
        feed(&mut s, b"MAIL FROM:<a@x> RET=FULL RET=HDRS\r\n").text(),
        "501 5.5.4 Duplicate RET parameter\r\n"
    );
}

/// `EHLO h\xe9` (a Latin-1 name, not UTF-8) was greeted `250 … Hello h\u{FFFD}`, the name kept
/// altered, where Postfix answers `500 5.5.2 Error: bad UTF-8 syntax` and Exim `501
/// Syntactically invalid EHLO argument(s)`. Refused now as Postfix refuses it, and the session
/// still has no EHLO; a UTF-8 name is taken (Postfix takes it).
#[test]
fn a_hello_name_that_is_not_utf8_is_refused() {
    let (mut s, _) = session(cfg());
    for line in [&b"EHLO h\xe9\r\n"[..], b"HELO h\xe9\r\n"] {
        assert_eq!(
            feed(&mut s, line).text(),
            "500 5.5.2 Error: bad UTF-8 syntax\r\n"
        );
    }
    assert_eq!(
        feed(&mut s, b"MAIL FROM:<a@x>\r\n").text(),
        "503 5.5.1 Error: send HELO/EHLO first\r\n"
    );
    // A UTF-8 name is greeted; the reply quotes it in ASCII (see below).
    let ok = feed(&mut s, "EHLO hé\r\n".as_bytes()).text();
    assert!(ok.starts_with("250-mx.test Hello h?\r\n"), "{ok}");
    assert_eq!(s.helo.as_deref(), Some("hé"));
}

/// RFC 5321 §4.2.1: reply text is HT, SP and printable US-ASCII. A reply quoting the client
/// carried its non-ASCII characters as they came, and a byte that was not UTF-8 as the three
/// octets of U+FFFD (`555 5.5.4 Unsupported option: X\xEF\xBF\xBD` for `X\xE9=1`), which no
/// client sent; the server's own reasons carried `§` (`RFC 3461 §4.3`) in UTF-8. Now `?` and
/// `section`. The `--fail` text the user wrote is sent as written.
#[test]
fn reply_text_is_ascii_whatever_the_client_sent() {
    let (mut s, _) = session(cfg());
    let mut all = feed(&mut s, "EHLO dömäin.test\r\n".as_bytes()).text();
    assert!(
        all.starts_with("250-mx.test Hello d?m?in.test\r\n"),
        "{all}"
    );
    for (line, want) in [
        (
            "MAIL FROM:<a@b> Xé=1\r\n".as_bytes(),
            "555 5.5.4 Unsupported option: X?=1\r\n",
        ),
        (
            "MAIL FROM:<a@b> BODY=é\r\n".as_bytes(),
            "501 5.5.4 Bad BODY value: ? (7BIT, 8BITMIME or BINARYMIME)\r\n",
        ),
        (
            b"MAIL FROM:<a@b> RET=x\r\n",
            "501 5.5.4 Bad RET parameter syntax (FULL or HDRS, RFC 3461 section 4.3)\r\n",
        ),
    ] {
        let got = feed(&mut s, line).text();
        assert_eq!(got, want, "{}", String::from_utf8_lossy(line));
        all.push_str(&got);
    }
    assert!(all.bytes().all(|b| b.is_ascii()), "{all}");
    let (mut s, _) = session(ServerConfig {
        faults: faults(&["rcpt=550:5.1.1:Ünbekannt"]),
        ..cfg()
    });
    feed(&mut s, b"EHLO c\r\nMAIL FROM:<a@b>\r\n");
    assert_eq!(
        feed(&mut s, b"RCPT TO:<c@d>\r\n").text(),
        "550 5.1.1 Ünbekannt\r\n"
    );
}

/// Postfix checks a MAIL's or RCPT's order before its syntax: `RCPT TO:<a@b` (or `RCPT TO:`,
/// `RCPT TO:<>`) with no MAIL is `503 5.5.1 Error: need MAIL command`, a malformed MAIL inside
/// a transaction `503 5.5.1 Error: nested MAIL command`; serve answered the syntax (501).
#[test]
fn a_malformed_mail_or_rcpt_that_may_not_come_now_gets_the_order_reply_first() {
    let (mut s, _) = session(cfg());
    assert_eq!(
        feed(&mut s, b"MAIL FROM:<a@b\r\n").text(),
        "503 5.5.1 Error: send HELO/EHLO first\r\n"
    );
    feed(&mut s, b"EHLO c\r\n");
    for line in [&b"RCPT TO:<a@b\r\n"[..], b"RCPT TO:<>\r\n", b"RCPT TO:\r\n"] {
        assert_eq!(
            feed(&mut s, line).text(),
            "503 5.5.1 Error: need MAIL command\r\n",
            "{}",
            String::from_utf8_lossy(line)
        );
    }
    feed(&mut s, b"MAIL FROM:<a@b>\r\n");
    assert_eq!(
        feed(&mut s, b"MAIL FROM:<a@b>junk\r\n").text(),
        "503 5.5.1 Error: nested MAIL command\r\n"
    );
    let (mut s, _) = session(ServerConfig {
        require_tls: true,
        starttls: true,
        ..cfg()
    });
    feed(&mut s, b"EHLO c\r\n");
    assert_eq!(
        feed(&mut s, b"MAIL FROM:\r\n").text(),
        "530 5.7.0 Must issue a STARTTLS command first\r\n"
    );
}

/// RFC 3463 §3.2: a path that is there but malformed is the address's fault, X.1.7 for the
/// sender and X.1.3 for a recipient, as Postfix answers it; it was `501 5.5.4 Syntax error in
/// MAIL parameters: …`. A missing path stays the command's `5.5.4`, as Postfix's `Syntax: MAIL
/// FROM:<address>`.
#[test]
fn malformed_paths_get_the_address_codes_as_postfix_gives_them() {
    let (mut s, _) = session(cfg());
    feed(&mut s, b"EHLO c\r\n");
    for (line, want) in [
        (
            &b"MAIL FROM:<a@b\r\n"[..],
            "501 5.1.7 Bad sender address syntax (unterminated path: missing '>')\r\n",
        ),
        (
            b"MAIL FROM:<a@b>junk\r\n",
            "501 5.1.7 Bad sender address syntax (unexpected text after the path: junk)\r\n",
        ),
        (
            b"MAIL FROM:a\"b@c\r\n",
            "501 5.1.7 Bad sender address syntax (a path without angle brackets has an \
             unterminated quote or a '<' or '>')\r\n",
        ),
        (
            b"MAIL FROM:\r\n",
            "501 5.5.4 Syntax error in MAIL parameters: expected FROM:<path>\r\n",
        ),
        (
            b"MAIL FROM <a@b>\r\n",
            "501 5.5.4 Syntax error in MAIL parameters: expected FROM:<path>\r\n",
        ),
        (b"MAIL FROM:<a@b>\r\n", "250 2.1.0 Ok\r\n"),
        (
            b"RCPT TO:<c@d\r\n",
            "501 5.1.3 Bad recipient address syntax (unterminated path: missing '>')\r\n",
        ),
        (
            b"RCPT TO:<c@d>>\r\n",
            "501 5.1.3 Bad recipient address syntax (unexpected text after the path: >)\r\n",
        ),
        (
            b"RCPT TO:<>\r\n",
            "501 5.1.3 Bad recipient address syntax (the null path <> is not a valid \
             recipient)\r\n",
        ),
        (
            b"RCPT TO:\r\n",
            "501 5.5.4 Syntax error in RCPT parameters: expected TO:<path>\r\n",
        ),
    ] {
        assert_eq!(
            feed(&mut s, line).text(),
            want,
            "{}",
            String::from_utf8_lossy(line)
        );
    }
}

/// A byte that is not UTF-8 was refused in EHLO/HELO only (`500 5.5.2`); in other commands it
/// was read lossily: `NOOP \xe9` 250, `VRFY \xe9` 252, `MAIL … X\xe9=1` 555 quoting `X?`, an
/// unknown `X\xe9Y` "command not recognized", an address 501 5.1.7/5.1.3. RFC 5321 §2.4 (commands
/// are US-ASCII) and RFC 6531 §3.3 (UTF-8 in an SMTPUTF8 session) leave such a byte no place in
/// any command, and Postfix answers every such line `500 5.5.2 Error: bad UTF-8 syntax`, before
/// the order or the syntax is looked at: so does serve now, SMTPUTF8 declared or not.
#[test]
fn a_command_line_that_is_not_utf8_is_refused_whatever_the_command() {
    let (mut s, _) = session(cfg());
    feed(&mut s, b"EHLO c.test\r\n");
    let bad = "500 5.5.2 Error: bad UTF-8 syntax\r\n";
    for line in [
        &b"NOOP \xe9\r\n"[..],
        b"VRFY \xe9\r\n",
        b"HELP \xe9\r\n",
        b"RSET \xe9\r\n",
        b"X\xe9Y\r\n",
        // Out of order (no MAIL yet): the UTF-8 check comes first, as in Postfix.
        b"RCPT TO:<r\xe9@b.test>\r\n",
        b"MAIL FROM:<a\xe9@b.test>\r\n",
        b"MAIL FROM:<a@b.test> X\xe9=1\r\n",
        b"MAIL FROM:<a@b.test> BODY=\xe9\r\n",
    ] {
        assert_eq!(feed(&mut s, line).text(), bad, "{line:?}");
    }
    // In an SMTPUTF8 transaction too; UTF-8 itself is taken there.
    assert_eq!(
        feed(&mut s, b"MAIL FROM:<a@b.test> SMTPUTF8\r\n").text(),
        "250 2.1.0 Ok\r\n"
    );
    assert_eq!(feed(&mut s, b"RCPT TO:<r\xe9@b.test>\r\n").text(), bad);
    assert_eq!(
        feed(&mut s, b"RCPT TO:<r@b.test> NOTIFY=\xe9\r\n").text(),
        bad
    );
    assert_eq!(
        feed(&mut s, "RCPT TO:<ré@b.test>\r\n".as_bytes()).text(),
        "250 2.1.5 Ok\r\n"
    );
    // And with SMTPUTF8 not on offer.
    let hidden = ServerConfig {
        faults: crate::cli::serve_specs::faults(&[], &[], &["SMTPUTF8".into()]).unwrap(),
        ..cfg()
    };
    let (mut s, _) = session(hidden);
    feed(&mut s, b"EHLO c.test\r\n");
    assert_eq!(feed(&mut s, b"NOOP \xff\r\n").text(), bad);
    assert_eq!(feed(&mut s, b"NOOP\r\n").text(), "250 2.0.0 Ok\r\n");
}

/// `555 5.5.4 Unsupported option:` quoted the keyword upper-cased (`X-FOO` for `x-foo=Bar`), a
/// word the client never sent; Postfix quotes the parameter as sent (`x-foo=Bar`). So does
/// serve now, in MAIL and RCPT, BODY= too.
#[test]
fn an_unsupported_parameter_is_quoted_as_the_client_sent_it() {
    let (mut s, _) = session(cfg());
    feed(&mut s, b"EHLO c.test\r\n");
    assert_eq!(
        feed(&mut s, b"MAIL FROM:<a@b.test> x-foo=Bar\r\n").text(),
        "555 5.5.4 Unsupported option: x-foo=Bar\r\n"
    );
    assert_eq!(
        feed(&mut s, b"MAIL FROM:<a@b.test> junk\r\n").text(),
        "555 5.5.4 Unsupported option: junk\r\n"
    );
    feed(&mut s, b"MAIL FROM:<a@b.test>\r\n");
    assert_eq!(
        feed(&mut s, b"RCPT TO:<r@b.test> xNotify=never\r\n").text(),
        "555 5.5.4 Unsupported option: xNotify=never\r\n"
    );
    let hidden = ServerConfig {
        faults: crate::cli::serve_specs::faults(&[], &[], &["8BITMIME".into()]).unwrap(),
        ..cfg()
    };
    let (mut s, _) = session(hidden);
    feed(&mut s, b"EHLO c.test\r\n");
    assert_eq!(
        feed(&mut s, b"MAIL FROM:<a@b.test> body=8bitmime\r\n").text(),
        "555 5.5.4 Unsupported option: body=8bitmime\r\n"
    );
    assert_eq!(
        feed(&mut s, b"MAIL FROM:<a@b.test> BODY=nine\r\n").text(),
        "501 5.5.4 Bad BODY value: nine (7BIT, 8BITMIME or BINARYMIME)\r\n"
    );
}

/// A PROXY header that arrives before the greeting (the driver's `--greet-pause`) is refused
/// by name in place of the greeting, not as an unnamed early talker (`554 5.5.1`); other
/// early input still is one.
#[test]
fn a_proxy_header_before_the_greeting_is_refused_by_name() {
    let mut v2 = crate::smtp::server::proxy::V2_SIGNATURE.to_vec();
    v2.extend_from_slice(&[
        0x21, 0x11, 0, 12, 192, 0, 2, 7, 192, 0, 2, 1, 0x15, 0xb3, 0, 25,
    ]);
    for (early, version) in [
        (&b"PROXY TCP4 192.0.2.7 192.0.2.1 5555 25\r\n"[..], 1),
        (&v2[..], 2),
    ] {
        let mut s = Session::new(cfg());
        s.early_input(early);
        s.greeting();
        let o = drain(&mut s);
        assert_eq!(
            o.text(),
            format!(
                "421 4.3.0 mx.test Error: PROXY protocol header (v{version}) not expected \
                 here: closing\r\n"
            )
        );
        assert!(s.is_closed());
    }
    let mut s = Session::new(cfg());
    s.early_input(b"EHLO x\r\n");
    s.greeting();
    assert!(drain(&mut s).text().starts_with("554 5.5.1 "));
}

/// A PROXY header whose first piece is shorter than what tells it (`PRO`; the v2 signature's
/// first bytes) leaves the early input undecided, and the rest decides: it used to be the
/// first piece alone, an unnamed early talker. Other early input decides at once.
#[test]
fn a_proxy_header_before_the_greeting_may_come_in_pieces() {
    let sig = crate::smtp::server::proxy::V2_SIGNATURE;
    let v2_rest = [&sig[5..], &[0x20, 0x00, 0, 0][..]].concat();
    for (pieces, version) in [
        (
            vec![&b"PRO"[..], b"XY TCP4 192.0.2.7 192.0.2.1 5555 25\r\n"],
            1,
        ),
        (vec![&b"P"[..], b"R", b"OXY UNKNOWN\r\n"], 1),
        (vec![&sig[..5], &sig[5..7], &v2_rest[2..]], 2),
    ] {
        let mut s = Session::new(cfg());
        let (last, first) = pieces.split_last().unwrap();
        for piece in first {
            s.early_input(piece);
            assert!(s.early_input_undecided(), "{}", piece.escape_ascii());
        }
        s.early_input(last);
        assert!(!s.early_input_undecided());
        s.greeting();
        assert_eq!(
            drain(&mut s).text(),
            format!(
                "421 4.3.0 mx.test Error: PROXY protocol header (v{version}) not expected \
                 here: closing\r\n"
            )
        );
    }
    for pieces in [
        vec![&b"EHLO x\r\n"[..]],
        vec![b"PR", b"EHLO x\r\n"],
        vec![b"PRO"],
    ] {
        let mut s = Session::new(cfg());
        for piece in &pieces {
            s.early_input(piece);
        }
        assert_eq!(
            s.early_input_undecided(),
            pieces.len() == 1 && pieces[0] == b"PRO"
        );
        s.greeting();
        assert!(drain(&mut s).text().starts_with("554 5.5.1 "));
        assert!(!s.early_input_undecided());
    }
}

/// A PROXY protocol header (what `ehlo --proxy`, HAProxy's `send-proxy` or a load balancer
/// sends first) was read as commands: v1 `500 5.5.2 Error: command not recognized`, v2's
/// signature as two empty lines, a NUL line and a `QUIT`; the client went on out of step
/// (`ehlo --proxy` exited 25). Now refused by name with `421 4.3.0` and closed, with a warning,
/// whether it comes whole or a byte at a time; a later `PROXY` line and a first empty line are
/// what they were.
#[test]
fn a_proxy_header_first_is_refused_by_name_and_the_connection_closed() {
    let refusal = |v: u8| {
        format!(
            "421 4.3.0 mx.test Error: PROXY protocol header (v{v}) not expected here: closing\r\n"
        )
    };
    let warned = |o: &Output| {
        o.events
            .iter()
            .any(|e| matches!(e, Event::Warning { message } if message.contains("PROXY protocol")))
    };
    let (mut s, _) = session(cfg());
    let o = feed(
        &mut s,
        b"PROXY TCP4 192.0.2.7 192.0.2.1 5555 25\r\nEHLO x\r\n",
    );
    assert_eq!(o.text(), refusal(1));
    assert!(warned(&o) && s.is_closed());

    let mut v2 = crate::smtp::server::proxy::V2_SIGNATURE.to_vec();
    v2.extend_from_slice(&[
        0x21, 0x11, 0, 12, 192, 0, 2, 7, 192, 0, 2, 1, 0x15, 0xb3, 0, 25,
    ]);
    v2.extend_from_slice(b"EHLO x\r\n");
    let (mut s, _) = session(cfg());
    let mut text = String::new();
    for b in &v2 {
        text.push_str(&feed(&mut s, &[*b]).text());
    }
    assert_eq!(text, refusal(2));
    assert!(s.is_closed());

    // An empty first line is still a line; PROXY after the first command is an unknown one.
    let (mut s, _) = session(cfg());
    assert_eq!(
        feed(&mut s, b"\r\nNOOP\r\n").text(),
        "500 5.5.2 Error: bad syntax\r\n250 2.0.0 Ok\r\n"
    );
    assert_eq!(
        feed(&mut s, b"PROXY TCP4 192.0.2.7 192.0.2.1 5555 25\r\n").text(),
        "500 5.5.2 Error: command not recognized\r\n"
    );
    assert!(!s.is_closed());
}

/// A client that sends unknown commands (or any 500-504 error) forever was answered forever:
/// at the hard error limit the erring command is answered, then `421 4.7.0` and close (as
/// Postfix's `smtpd_hard_error_limit`); the driver learns why once.
#[test]
fn the_hard_error_limit_ends_a_client_that_only_errs() {
    let mut c = cfg();
    c.hard_error_limit = 3;
    let (mut s, _) = session(c);
    let o = feed(&mut s, b"XYZZY\r\nEHLO\r\n");
    assert_eq!(o.text().matches("500 5.5.2").count(), 1, "{}", o.text());
    assert!(o.actions.is_empty());
    let o = feed(&mut s, b"FOO\r\nNOOP\r\n");
    assert_eq!(
        o.text(),
        "500 5.5.2 Error: command not recognized\r\n\
         421 4.7.0 mx.test Error: too many errors, closing connection\r\n"
    );
    assert_eq!(o.actions, vec![ServerAction::Close]);
    assert_eq!(
        s.closed_for_errors(),
        Some(ErrorClose {
            errors: 3,
            limit: 3,
            junk: false,
            busy: false
        })
    );
    assert_eq!(s.closed_for_errors(), None);
}

/// Injected faults are the user's, not the client's: never counted. A kept message starts the
/// counts again ("without delivering mail", postconf(5)).
#[test]
fn injected_faults_and_delivered_mail_leave_the_error_count_alone() {
    let mut c = cfg();
    c.hard_error_limit = 2;
    c.faults = faults(&["mail=501"]);
    let (mut s, _) = session(c);
    let o = feed(
        &mut s,
        b"EHLO c\r\nMAIL FROM:<a@b>\r\nMAIL FROM:<a@b>\r\nMAIL FROM:<a@b>\r\n",
    );
    assert_eq!(o.text().matches("501 ").count(), 3, "{}", o.text());
    assert!(o.actions.is_empty(), "{}", o.text());

    let mut c = cfg();
    c.hard_error_limit = 2;
    let (mut s, _) = session(c);
    let o = feed(
        &mut s,
        b"EHLO c\r\nXYZZY\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n",
    );
    assert!(
        o.text()
            .ends_with("354 End data with <CR><LF>.<CR><LF>\r\n"),
        "{}",
        o.text()
    );
    let o = feed(&mut s, b"hi\r\n.\r\nXYZZY\r\n");
    assert!(
        o.text()
            .ends_with("500 5.5.2 Error: command not recognized\r\n"),
        "{}",
        o.text()
    );
    assert!(!o.actions.contains(&ServerAction::Close), "{}", o.text());
}

/// NOOP, RSET, VRFY and HELP past the junk-command limit count as errors (Postfix's
/// `smtpd_junk_command_limit`); while the server is busy both limits are 1 (its stress mode):
/// the second junk command is answered, then `421 4.7.0`.
#[test]
fn junk_commands_past_their_limit_are_errors_and_busy_lowers_both_limits() {
    let mut c = cfg();
    c.hard_error_limit = 2;
    c.junk_command_limit = 3;
    let (mut s, _) = session(c);
    let o = feed(&mut s, b"NOOP\r\nRSET\r\nVRFY x\r\nHELP\r\n");
    assert!(o.actions.is_empty(), "{}", o.text());
    let o = feed(&mut s, b"NOOP\r\n");
    assert_eq!(
        o.text(),
        "250 2.0.0 Ok\r\n421 4.7.0 mx.test Error: too many errors, closing connection\r\n"
    );
    assert_eq!(
        s.closed_for_errors(),
        Some(ErrorClose {
            errors: 2,
            limit: 2,
            junk: true,
            busy: false
        })
    );

    let mut c = cfg();
    c.hard_error_limit = 20;
    c.junk_command_limit = 100;
    let (mut s, _) = session(c);
    let o = feed(&mut s, b"NOOP\r\nNOOP\r\nXYZZY\r\n");
    assert!(o.actions.is_empty(), "{}", o.text());
    s.set_busy(true);
    let o = feed(&mut s, b"NOOP\r\n");
    assert_eq!(
        o.text(),
        "250 2.0.0 Ok\r\n421 4.7.0 mx.test Error: too many errors, closing connection\r\n"
    );
    assert_eq!(
        s.closed_for_errors().map(|e| (e.limit, e.busy)),
        Some((1, true))
    );

    // 0 turns a limit off, busy or not.
    let mut c = cfg();
    c.hard_error_limit = 0;
    let (mut s, _) = session(c);
    s.set_busy(true);
    let o = feed(&mut s, &b"XYZZY\r\n".repeat(50));
    assert!(o.actions.is_empty(), "{}", o.text());
}

/// Past the soft error limit every reply waits (Postfix's `smtpd_soft_error_limit` and
/// `smtpd_error_sleep_time`): the session says so with a `Delay` before the reply, the driver
/// waits. The errors up to the limit are answered at once; a kept message starts the count
/// again, so the replies after it are not delayed.
#[test]
fn past_the_soft_error_limit_each_reply_is_delayed_until_a_message_is_delivered() {
    let mut c = cfg();
    c.soft_error_limit = 2;
    c.error_sleep_ms = 700;
    c.hard_error_limit = 20;
    let (mut s, _) = session(c);
    let o = feed(&mut s, b"XYZZY\r\nXYZZY\r\n");
    assert_eq!(o.text().matches("500 5.5.2").count(), 2, "{}", o.text());
    assert!(o.actions.is_empty(), "{:?}", o.actions);
    // The third error is past the limit: its reply waits, and so does every reply after it,
    // an error or not.
    let o = feed(&mut s, b"XYZZY\r\n");
    assert_eq!(o.actions, vec![ServerAction::Delay(700)]);
    assert!(matches!(
        o.stream.first(),
        Some(Err(ServerAction::Delay(700)))
    ));
    let o = feed(
        &mut s,
        b"EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n",
    );
    assert_eq!(o.actions, vec![ServerAction::Delay(700); 4], "{}", o.text());
    // The kept message's 250 and what follows are not delayed.
    let o = feed(&mut s, b"hi\r\n.\r\nXYZZY\r\nNOOP\r\n");
    assert!(
        !o.actions
            .iter()
            .any(|a| matches!(a, ServerAction::Delay(_))),
        "{:?}",
        o.actions
    );
    assert!(o.text().starts_with("250 2.0.0 Ok: queued"), "{}", o.text());

    // 0 turns it off.
    let mut c = cfg();
    c.soft_error_limit = 0;
    c.error_sleep_ms = 700;
    let (mut s, _) = session(c);
    let o = feed(&mut s, &b"XYZZY\r\n".repeat(15));
    assert!(o.actions.is_empty(), "{:?}", o.actions);
}

#[test]
fn disclose_users_shows_a_user_with_a_domain_as_is() {
    let (mut s, _) = session(ServerConfig {
        users: vec![
            ("alice".into(), Secret::new("s3cret")),
            ("me@ehlo.test".into(), Secret::new("pw")),
        ],
        quirks: Quirks {
            disclose_users: true,
            ..Quirks::default()
        },
        ..cfg()
    });
    // A bare local part gets the server's name; a user with a domain has one already.
    assert_eq!(
        feed(&mut s, b"VRFY alice\r\n").text(),
        "250 2.1.5 <alice@mx.test>\r\n"
    );
    assert_eq!(
        feed(&mut s, b"VRFY <me@ehlo.test>\r\n").text(),
        "250 2.1.5 <me@ehlo.test>\r\n"
    );
    assert_eq!(
        feed(&mut s, b"EXPN Me@Ehlo.Test\r\n").text(),
        "250 2.1.5 <me@ehlo.test>\r\n"
    );
    assert_eq!(
        feed(&mut s, b"VRFY nobody@ehlo.test\r\n").text(),
        "550 5.1.1 User unknown\r\n"
    );
}
