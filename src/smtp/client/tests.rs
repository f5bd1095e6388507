//! Client session tests: plans run against scripted replies.

use super::*;
use crate::error::Error;
use crate::smtp::auth::{self, Credentials};
use crate::smtp::codes::{Part, Remedy};
use crate::smtp::data::Fixup;
use crate::smtp::event::RcptStatus;
use crate::smtp::ext::{self, Attribute, Dsn};

fn plan() -> Plan {
    Plan {
        helo: "client.test".into(),
        from: "a@client.test".into(),
        rcpts: vec!["b@server.test".into()],
        message: b"Subject: hi\n\nbody\n.dot\n".to_vec(),
        ..Plan::default()
    }
}

fn sent(s: &mut Session) -> String {
    String::from_utf8(s.poll_transmit().unwrap_or_default()).unwrap()
}

fn events(s: &mut Session) -> Vec<Event> {
    std::iter::from_fn(|| s.poll_event()).collect()
}

fn exit_code(s: &Session) -> u8 {
    match s.outcome() {
        Ok(()) => 0,
        Err(e) => Error::Session(e.clone()).exit_code(),
    }
}

const EHLO_REPLY: &str =
    "250-server.test\r\n250-PIPELINING\r\n250-STARTTLS\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n";

#[test]
fn plain_transaction_sends_exact_bytes() {
    let mut s = Session::new(plan());
    assert_eq!(sent(&mut s), "");
    s.feed(b"220 server.test ESMTP\r\n");
    assert_eq!(sent(&mut s), "EHLO client.test\r\n");
    s.feed(EHLO_REPLY.as_bytes());
    assert_eq!(sent(&mut s), "MAIL FROM:<a@client.test>\r\n");
    s.feed(b"250 2.1.0 Ok\r\n");
    assert_eq!(sent(&mut s), "RCPT TO:<b@server.test>\r\n");
    s.feed(b"250 2.1.5 Ok\r\n");
    assert_eq!(sent(&mut s), "DATA\r\n");
    s.feed(b"354 go ahead\r\n");
    assert_eq!(
        sent(&mut s),
        "Subject: hi\r\n\r\nbody\r\n..dot\r\n.\r\n",
        "CRLF fix-up, dot-stuffing and end marker"
    );
    s.feed(b"250 2.0.0 queued as X\r\n");
    assert_eq!(sent(&mut s), "QUIT\r\n");
    s.feed(b"221 2.0.0 Bye\r\n");
    assert_eq!(s.poll_action(), Some(Action::Close));
    assert!(s.is_closed());
    assert_eq!(exit_code(&s), 0);
    assert_eq!(s.message_accepted(), Some(true));
    assert_eq!(s.recipients()[0].status, RcptStatus::Accepted);
    let ev = events(&mut s);
    let received = ev
        .iter()
        .filter(|e| matches!(e, Event::Received { expected: true, .. }))
        .count();
    assert_eq!(received, 7, "every reply reported as expected: {ev:?}");
    assert!(ev.contains(&Event::Closed { expected: true }));
}

#[test]
fn replies_split_byte_by_byte_give_the_same_dialogue() {
    let mut s = Session::new(plan());
    for b in b"220 server.test ESMTP\r\n" {
        s.feed(&[*b]);
    }
    assert_eq!(sent(&mut s), "EHLO client.test\r\n");
    for b in EHLO_REPLY.as_bytes() {
        s.feed(&[*b]);
    }
    assert_eq!(sent(&mut s), "MAIL FROM:<a@client.test>\r\n");
}

#[test]
fn one_refused_recipient_of_two_is_not_fatal() {
    let mut p = plan();
    p.rcpts = vec!["nobody@server.test".into(), "b@server.test".into()];
    let mut s = Session::new(p);
    s.feed(b"220 x\r\n");
    s.feed(EHLO_REPLY.as_bytes());
    s.feed(b"250 ok\r\n");
    assert_eq!(
        sent(&mut s).lines().last().unwrap(),
        "RCPT TO:<nobody@server.test>"
    );
    s.feed(b"550 5.1.1 <nobody@server.test>: Recipient address rejected\r\n");
    assert_eq!(sent(&mut s), "RCPT TO:<b@server.test>\r\n");
    s.feed(b"250 ok\r\n");
    assert_eq!(sent(&mut s), "DATA\r\n");
    let r = s.recipients();
    assert_eq!(r[0].status, RcptStatus::PermFailed);
    assert_eq!(r[0].enhanced.as_deref(), Some("5.1.1"));
    assert_eq!(r[1].status, RcptStatus::Accepted);
}

#[test]
fn all_recipients_refused_is_exit_24_and_quits() {
    let mut s = Session::new(plan());
    s.feed(b"220 x\r\n");
    s.feed(EHLO_REPLY.as_bytes());
    s.feed(b"250 ok\r\n");
    let _ = sent(&mut s);
    s.feed(b"452 4.5.3 Too many recipients\r\n");
    assert_eq!(sent(&mut s), "QUIT\r\n");
    s.feed(b"221 bye\r\n");
    assert_eq!(exit_code(&s), 24);
    assert_eq!(s.recipients()[0].status, RcptStatus::TempFailed);
}

#[test]
fn starttls_discards_injected_bytes_and_ehlos_again() {
    let mut p = plan();
    p.starttls = StartTls::Required;
    let mut s = Session::new(p);
    s.feed(b"220 x\r\n");
    s.feed(EHLO_REPLY.as_bytes());
    assert_eq!(
        sent(&mut s).lines().last().unwrap(),
        "STARTTLS",
        "STARTTLS before anything else"
    );
    let _ = events(&mut s);
    s.feed(b"220 2.0.0 Ready\r\n250-injected\r\n250 AUTH PLAIN\r\n");
    assert_eq!(s.poll_action(), Some(Action::StartTls));
    let ev = events(&mut s);
    assert!(
        ev.iter().any(|e| matches!(
            e,
            Event::Deviation { deviation: Deviation::StartTlsInjection { bytes, .. }, .. }
                if bytes.0 == b"250-injected\r\n250 AUTH PLAIN\r\n"
        )),
        "{ev:?}"
    );
    assert!(
        warnings(&ev).is_empty(),
        "said once, as the deviation: {ev:?}"
    );
    assert!(s.capabilities().is_some());
    s.tls_established();
    assert!(s.capabilities().is_none(), "pre-TLS capabilities forgotten");
    assert_eq!(sent(&mut s), "EHLO client.test\r\n");
    s.feed(b"250-server.test\r\n250 AUTH PLAIN\r\n");
    assert_eq!(sent(&mut s), "MAIL FROM:<a@client.test>\r\n");
    assert!(s.is_tls());
}

/// A large call is added to the read buffer [`FEED_PIECE`] bytes at a time: the buffer held it
/// whole before, and each reply taken from it moved what followed, so the work grew with the
/// square of the call. What follows STARTTLS's reply is still reported whole, even when it all
/// comes in one call with the banner, the EHLO reply and the 220.
#[test]
fn a_large_feed_is_read_a_piece_at_a_time_and_an_injection_still_reported_whole() {
    let mut s = Session::new(plan());
    let mut big = b"220 x\r\n".to_vec();
    for _ in 0..900 {
        big.extend_from_slice(format!("250-X{}\r\n", "y".repeat(990)).as_bytes());
    }
    big.extend_from_slice(b"250 8BITMIME\r\n");
    s.feed(&big);
    assert!(
        s.buf.capacity() <= 2 * (crate::smtp::FEED_PIECE + Limits::default().max_line),
        "read buffer of {} bytes for a {} byte call",
        s.buf.capacity(),
        big.len()
    );
    assert_eq!(
        sent(&mut s).lines().last().unwrap(),
        "MAIL FROM:<a@client.test>"
    );

    let mut p = plan();
    p.starttls = StartTls::Required;
    let mut s = Session::new(p);
    let injected = "250-injected\r\n".repeat(3000);
    s.feed(format!("220 x\r\n{EHLO_REPLY}220 2.0.0 Ready\r\n{injected}").as_bytes());
    assert_eq!(s.poll_action(), Some(Action::StartTls));
    let ev = events(&mut s);
    assert!(
        ev.iter().any(|e| matches!(
            e,
            Event::Deviation { deviation: Deviation::StartTlsInjection { len, .. }, .. }
                if *len == injected.len()
        )),
        "{ev:?}"
    );
}

#[test]
fn required_starttls_not_advertised_is_exit_29() {
    let mut p = plan();
    p.starttls = StartTls::Required;
    let mut s = Session::new(p);
    s.feed(b"220 x\r\n");
    s.feed(b"250-server.test\r\n250 8BITMIME\r\n");
    assert!(sent(&mut s).ends_with("QUIT\r\n"));
    s.feed(b"221 bye\r\n");
    assert_eq!(exit_code(&s), 29);
}

#[test]
fn a_secure_tlsa_rrset_makes_starttls_required() {
    // The host has secure TLSA records: STARTTLS not offered ends the session (exit 29), where
    // the plan's optional-strict alone would carry on in plain text.
    for dane in [false, true] {
        let mut p = plan();
        p.starttls = StartTls::OptionalStrict;
        let mut s = Session::new(p);
        if dane {
            s.secure_tlsa_found();
        }
        s.feed(b"220 x\r\n");
        s.feed(b"250-server.test\r\n250 8BITMIME\r\n");
        let w = sent(&mut s);
        if dane {
            assert!(w.ends_with("QUIT\r\n"), "{w}");
            s.feed(b"221 bye\r\n");
            assert_eq!(exit_code(&s), 29);
        } else {
            assert!(w.ends_with("MAIL FROM:<a@client.test>\r\n"), "{w}");
        }
    }
    // Offered: it is used.
    let mut s = Session::new(plan());
    s.secure_tlsa_found();
    s.feed(b"220 x\r\n");
    s.feed(b"250-server.test\r\n250 STARTTLS\r\n");
    assert!(sent(&mut s).ends_with("STARTTLS\r\n"));
    // Over implicit TLS nothing changes: no STARTTLS, straight on to the transaction.
    let mut s = over_tls(plan());
    s.secure_tlsa_found();
    s.feed(b"220 x\r\n");
    s.feed(b"250-server.test\r\n250 STARTTLS\r\n");
    assert_eq!(
        sent(&mut s),
        "EHLO client.test\r\nMAIL FROM:<a@client.test>\r\n"
    );
}

#[test]
fn optional_starttls_not_advertised_carries_on() {
    let mut p = plan();
    p.starttls = StartTls::Optional;
    let mut s = Session::new(p);
    s.feed(b"220 x\r\n");
    s.feed(b"250-server.test\r\n250 8BITMIME\r\n");
    assert!(sent(&mut s).ends_with("MAIL FROM:<a@client.test>\r\n"));
}

#[test]
fn ehlo_refused_falls_back_to_helo() {
    let mut s = Session::new(plan());
    s.feed(b"220 x\r\n");
    let _ = sent(&mut s);
    s.feed(b"502 5.5.2 Command not recognized\r\n");
    assert_eq!(sent(&mut s), "HELO client.test\r\n");
    s.feed(b"250 x\r\n");
    assert_eq!(sent(&mut s), "MAIL FROM:<a@client.test>\r\n");
}

#[test]
fn pipelining_sends_mail_rcpts_and_data_in_one_write() {
    let mut p = plan();
    p.pipeline = true;
    p.rcpts.push("c@server.test".into());
    let mut s = Session::new(p);
    s.feed(b"220 x\r\n");
    let _ = sent(&mut s);
    s.feed(EHLO_REPLY.as_bytes());
    assert_eq!(
        sent(&mut s),
        "MAIL FROM:<a@client.test>\r\nRCPT TO:<b@server.test>\r\nRCPT TO:<c@server.test>\r\nDATA\r\n"
    );
    s.feed(b"250 ok\r\n250 ok\r\n550 5.1.1 no\r\n354 go\r\n");
    assert!(sent(&mut s).ends_with("\r\n.\r\n"));
    assert_eq!(s.recipients()[1].status, RcptStatus::PermFailed);
}

#[test]
fn pipelined_failure_of_every_rcpt_ends_a_354_with_a_dot() {
    let mut p = plan();
    p.pipeline = true;
    let mut s = Session::new(p);
    s.feed(b"220 x\r\n");
    s.feed(EHLO_REPLY.as_bytes());
    let _ = sent(&mut s);
    s.feed(b"250 ok\r\n550 no\r\n354 go\r\n");
    assert_eq!(sent(&mut s), ".\r\nQUIT\r\n");
    s.feed(b"554 no valid recipients\r\n221 bye\r\n");
    assert!(s.is_closed());
    assert_eq!(exit_code(&s), 24);
}

#[test]
fn pipelined_refused_mail_waits_for_the_data_reply_before_quit() {
    let start = || {
        let mut p = plan();
        p.pipeline = true;
        let mut s = Session::new(p);
        s.feed(b"220 x\r\n");
        s.feed(EHLO_REPLY.as_bytes());
        let _ = sent(&mut s);
        s.feed(b"550 5.1.0 sender refused\r\n");
        // Nothing yet: QUIT sent now would be message text to a server that 354s the DATA.
        assert_eq!(sent(&mut s), "");
        s
    };
    // A server that answers DATA 354 all the same gets the lone dot, then QUIT.
    let mut s = start();
    s.feed(b"250 ok\r\n354 go\r\n");
    assert_eq!(sent(&mut s), ".\r\nQUIT\r\n");
    s.feed(b"554 no transaction\r\n221 bye\r\n");
    assert!(s.is_closed());
    assert_eq!(exit_code(&s), 23);
    // The usual answers (Postfix: 503 to RCPT and to DATA): QUIT after them, still MAIL's 23.
    let mut s = start();
    s.feed(b"503 5.5.1 need MAIL\r\n");
    assert_eq!(sent(&mut s), "");
    s.feed(b"503 5.5.1 need RCPT\r\n");
    assert_eq!(sent(&mut s), "QUIT\r\n");
    s.feed(b"221 bye\r\n");
    assert!(s.is_closed());
    assert_eq!(exit_code(&s), 23);
}

#[test]
fn close_in_the_middle_of_data_is_exit_6() {
    let mut s = Session::new(plan());
    s.feed(b"220 x\r\n");
    s.feed(EHLO_REPLY.as_bytes());
    s.feed(b"250 ok\r\n250 ok\r\n354 go\r\n");
    let _ = sent(&mut s);
    s.feed_eof();
    assert!(s.is_closed());
    assert_eq!(exit_code(&s), 6);
    assert!(events(&mut s).contains(&Event::Closed { expected: false }));
}

/// A session at the end of data: content sent, the dot's reply awaited.
fn at_dot() -> Session {
    let mut s = Session::new(plan());
    s.feed(b"220 x\r\n");
    s.feed(EHLO_REPLY.as_bytes());
    s.feed(b"250 ok\r\n250 ok\r\n354 go\r\n");
    assert!(sent(&mut s).ends_with(".\r\n"));
    s
}

#[test]
fn a_reply_to_the_dot_cut_off_by_the_close_is_no_acceptance() {
    // A first line without the last, or a last line without its CRLF, then the close: the
    // reply never ended, so the message is not accepted (Postfix: "lost connection after end
    // of data", a deferral). The partial reply is still shown, as not what was expected.
    for cut in [&b"250-2.0.0 queued as X\r\n"[..], b"250 2.0.0 queued"] {
        let mut s = at_dot();
        s.feed(cut);
        assert!(!s.is_closed(), "{}", String::from_utf8_lossy(cut));
        s.feed_eof();
        assert!(s.is_closed());
        assert_eq!(exit_code(&s), 6, "{}", String::from_utf8_lossy(cut));
        assert!(
            matches!(s.outcome(), Err(SessionError::Closed { phase: Phase::Dot })),
            "{:?}",
            s.outcome()
        );
        assert_eq!(s.message_accepted(), Some(false));
        assert_eq!(sent(&mut s), "", "no QUIT on a closed connection");
        let ev = events(&mut s);
        let cut_reply = ev.iter().find_map(|e| match e {
            Event::Received {
                reply,
                expected,
                phase: Phase::Dot,
                ..
            } => Some((reply.clone(), *expected)),
            _ => None,
        });
        let (reply, expected) = cut_reply.expect("the partial reply is reported");
        assert_eq!(reply.code, Some(250));
        assert!(reply.deviations.contains(&Deviation::TruncatedAtClose));
        assert!(!expected);
        assert!(ev.contains(&Event::Closed { expected: false }));
    }
}

#[test]
fn a_cut_off_reply_is_blamed_on_its_own_phase() {
    // EHLO: a cut `250-` is no greeting, so MAIL is never sent.
    let mut s = Session::new(plan());
    s.feed(b"220 x\r\n");
    let _ = sent(&mut s);
    s.feed(b"250-server.test\r\n250-bar\r\n");
    s.feed_eof();
    assert_eq!(sent(&mut s), "");
    assert!(
        matches!(
            s.outcome(),
            Err(SessionError::Closed { phase: Phase::Helo })
        ),
        "{:?}",
        s.outcome()
    );
    assert_eq!(s.message_accepted(), None, "no content was sent");
    // RCPT: a cut reply is no accepted recipient (sent, no reply), and DATA is never sent.
    let mut s = Session::new(plan());
    s.feed(b"220 x\r\n");
    s.feed(EHLO_REPLY.as_bytes());
    s.feed(b"250 ok\r\n");
    let _ = sent(&mut s);
    s.feed(b"250-2.1.5 ok\r\n");
    s.feed_eof();
    assert_eq!(sent(&mut s), "");
    assert!(
        matches!(
            s.outcome(),
            Err(SessionError::Closed { phase: Phase::Rcpt })
        ),
        "{:?}",
        s.outcome()
    );
    assert_eq!(s.recipients()[0].status, RcptStatus::NoReply);
    assert_eq!(exit_code(&s), 6);
}

#[test]
fn a_cut_off_goodbye_after_an_accepted_message_is_still_success() {
    // QUIT was sent: the close is expected, and a `221` without its CRLF changes nothing.
    let mut s = at_dot();
    s.feed(b"250 2.0.0 queued\r\n");
    assert_eq!(sent(&mut s), "QUIT\r\n");
    s.feed(b"221 bye");
    s.feed_eof();
    assert_eq!(exit_code(&s), 0);
    assert_eq!(s.message_accepted(), Some(true));
}

#[test]
fn a_close_instead_of_the_221_is_exit_6_after_an_accepted_message_too() {
    // swaks: "Remote host closed connection unexpectedly" (6). The message was accepted all
    // the same, and the session says so.
    let mut s = at_dot();
    s.feed(b"250 2.0.0 queued\r\n");
    assert_eq!(sent(&mut s), "QUIT\r\n");
    let _ = events(&mut s);
    s.feed_eof();
    assert_eq!(exit_code(&s), 6);
    assert_eq!(s.message_accepted(), Some(true));
    let ev = events(&mut s);
    assert!(infos(&ev).iter().any(|i| i.contains("accepted")), "{ev:?}");
}

#[test]
fn error_reply_then_close_keeps_the_phase_code() {
    let mut s = Session::new(plan());
    s.feed(b"220 x\r\n");
    s.feed(EHLO_REPLY.as_bytes());
    s.feed(b"550 5.7.1 sender refused\r\n");
    assert!(sent(&mut s).ends_with("QUIT\r\n"));
    s.feed_eof();
    assert_eq!(exit_code(&s), 23, "swaks: 550 to MAIL then close → 23");
}

#[test]
fn garbage_and_421_banners_are_exit_21() {
    for banner in [&b"hello there\r\n"[..], b"421 4.3.2 busy\r\n"] {
        let mut s = Session::new(plan());
        s.feed(banner);
        assert_eq!(sent(&mut s), "QUIT\r\n");
        s.feed_eof();
        assert_eq!(exit_code(&s), 21, "{}", String::from_utf8_lossy(banner));
    }
}

/// A 421 says the server is closing the connection (RFC 5321 §3.8): the close after it (no 221
/// to the QUIT sent after it) is the one announced. It was reported as "Remote host closed
/// connection unexpectedly" right under the explanation "the server is closing the connection".
/// The phase's exit code stands; a close after another refusal is still unexpected.
#[test]
fn the_close_a_421_announced_is_expected() {
    let mut s = Session::new(plan());
    s.feed(b"421 4.7.0 Too many connections\r\n");
    assert_eq!(sent(&mut s), "QUIT\r\n");
    assert!(s.close_announced());
    s.feed_eof();
    assert_eq!(exit_code(&s), 21);
    let ev = events(&mut s);
    assert!(ev.contains(&Event::Closed { expected: true }), "{ev:?}");
    // After the 220: a 421 to RCPT, then the close.
    let mut s = Session::new(plan());
    s.feed(b"220 x\r\n");
    s.feed(EHLO_REPLY.as_bytes());
    s.feed(b"250 ok\r\n");
    s.feed(b"421 4.7.0 rate limited, closing\r\n");
    assert!(sent(&mut s).ends_with("QUIT\r\n"));
    s.feed_eof();
    assert_eq!(exit_code(&s), 24);
    let ev = events(&mut s);
    assert!(ev.contains(&Event::Closed { expected: true }), "{ev:?}");
    // A 554 greeting announces no close: the close instead of the 221 stays unexpected.
    let mut s = Session::new(plan());
    s.feed(b"554 5.7.1 go away\r\n");
    assert_eq!(sent(&mut s), "QUIT\r\n");
    assert!(!s.close_announced());
    s.feed_eof();
    assert_eq!(exit_code(&s), 21);
    let ev = events(&mut s);
    assert!(ev.contains(&Event::Closed { expected: false }), "{ev:?}");
}

/// A server that never greeted: a 4xx/5xx refusal, a line that is no reply, another code, a
/// greeting past the size limits, a TLS record, a close before or during the greeting, silence
/// or a greeting cut short by the timeout. A failure after the 220 is not one.
#[test]
fn every_way_of_not_greeting_is_told_apart_from_a_failure_after_the_220() {
    for banner in [
        &b"421 4.3.2 busy\r\n"[..],
        b"450 later\r\n",
        b"554 5.7.1 go away\r\n",
    ] {
        let mut s = Session::new(plan());
        s.feed(banner);
        assert_eq!(sent(&mut s), "QUIT\r\n");
        s.feed(b"221 bye\r\n");
        let Some(NoGreeting::Refused(reply)) = s.left_in_greeting() else {
            panic!("{:?}", s.left_in_greeting());
        };
        assert_eq!(
            reply.code.map(|c| c.to_string()),
            Some(String::from_utf8_lossy(&banner[..3]).into_owned())
        );
        assert_eq!(exit_code(&s), 21);
    }
    let fed = |bytes: &[u8], eof: bool| {
        let mut s = Session::new(plan());
        s.feed(bytes);
        if eof {
            s.feed_eof();
        }
        s
    };
    let http = fed(b"HTTP/1.1 400 Bad Request\r\n", false);
    assert_eq!(
        http.left_in_greeting().map(|n| n.describe()).as_deref(),
        Some("sent no SMTP greeting but HTTP/1.1 400 Bad Request")
    );
    let binary = fed(b"\x00\x01\xfe\x1b[2J\r\n", false);
    assert_eq!(
        binary.left_in_greeting().map(|n| n.describe()).as_deref(),
        Some("sent no SMTP greeting but \\x00\\x01\\xFE\\x1B[2J")
    );
    let long = fed(&[&[b'x'; 300][..], b"\r\n"].concat(), false);
    let said = long.left_in_greeting().map(|n| n.describe()).unwrap();
    assert!(said.ends_with("xxx…"), "{said}");
    assert!(said.chars().count() < 130, "{said}");
    assert!(matches!(
        fed(b"250 hello\r\n", false).left_in_greeting(),
        Some(NoGreeting::NotSmtp(_))
    ));
    assert!(matches!(
        fed(&[0x16, 0x03, 0x01, 0x00, 0x2a], false).left_in_greeting(),
        Some(NoGreeting::NotSmtp(_))
    ));
    let huge = fed(&b"220-x\r\n".repeat(100_000), false);
    assert!(
        matches!(huge.left_in_greeting(), Some(NoGreeting::TooLarge(_))),
        "{:?}",
        huge.outcome()
    );
    assert_eq!(fed(b"", true).left_in_greeting(), Some(NoGreeting::Closed));
    assert_eq!(
        fed(b"220-half of a", true).left_in_greeting(),
        Some(NoGreeting::Closed)
    );
    let mut silent = Session::new(plan());
    assert_eq!(silent.on_timeout(1.0), Some(Phase::Banner));
    assert_eq!(silent.left_in_greeting(), Some(NoGreeting::Silent(1.0)));
    assert_eq!(
        NoGreeting::Silent(1.0).describe(),
        "sent no complete greeting within 1 s"
    );
    // Part of a greeting, then the timeout: closed without QUIT (the rest of the greeting would
    // answer it), and the server never greeted.
    let mut slow = Session::new(plan());
    slow.feed(b"220 almost");
    assert_eq!(slow.on_timeout(1.0), None);
    assert_eq!(sent(&mut slow), "");
    assert_eq!(slow.left_in_greeting(), Some(NoGreeting::Silent(1.0)));
    // A 220 and then a refused EHLO, or a close after it: the server did greet.
    let later = fed(b"220 x\r\n554 5.7.1 no\r\n", false);
    let closed_later = fed(b"220 x\r\n", true);
    let fine = fed(b"220 x\r\n", false);
    for (what, s) in [
        ("refused EHLO", later),
        ("closed after 220", closed_later),
        ("greeted", fine),
    ] {
        assert!(s.left_in_greeting().is_none(), "{what}: {:?}", s.outcome());
    }
}

#[test]
fn dot_refused_is_exit_26() {
    let mut s = Session::new(plan());
    s.feed(b"220 x\r\n");
    s.feed(EHLO_REPLY.as_bytes());
    s.feed(b"250 ok\r\n250 ok\r\n354 go\r\n552 5.3.4 too big\r\n");
    assert!(sent(&mut s).ends_with("QUIT\r\n"));
    s.feed(b"221 bye\r\n");
    assert_eq!(exit_code(&s), 26);
    assert_eq!(s.message_accepted(), Some(false));
}

#[test]
fn quit_after_rcpt_stops_cleanly() {
    let mut p = plan();
    p.stop = Some(Stop {
        kind: StopKind::Quit,
        at: StopAt::Rcpt,
    });
    let mut s = Session::new(p);
    s.feed(b"220 x\r\n");
    s.feed(EHLO_REPLY.as_bytes());
    s.feed(b"250 ok\r\n250 ok\r\n");
    assert!(sent(&mut s).ends_with("RCPT TO:<b@server.test>\r\nQUIT\r\n"));
    s.feed(b"221 bye\r\n");
    assert_eq!(exit_code(&s), 0);
}

#[test]
fn drop_after_send_mail_closes_without_reading() {
    let mut p = plan();
    p.stop = Some(Stop {
        kind: StopKind::DropAfterSend,
        at: StopAt::Mail,
    });
    let mut s = Session::new(p);
    s.feed(b"220 x\r\n");
    s.feed(EHLO_REPLY.as_bytes());
    assert!(sent(&mut s).ends_with("MAIL FROM:<a@client.test>\r\n"));
    assert_eq!(s.poll_action(), Some(Action::Close));
    assert_eq!(exit_code(&s), 0);
}

fn auth_plan(mechs: &[&str], requirement: AuthRequirement) -> Plan {
    let mut p = plan();
    p.auth = Some(AuthPlan {
        mechanisms: mechs.iter().map(|m| m.to_string()).collect(),
        requirement,
        credentials: Credentials {
            user: "tim".into(),
            password: Some(auth::Secret::new("tanstaaftanstaaf")),
            ..Credentials::default()
        },
        allow_plaintext: true,
        ..AuthPlan::default()
    });
    p
}

fn sent_texts(ev: &[Event]) -> Vec<String> {
    ev.iter()
        .filter_map(|e| match e {
            Event::Sent { text, .. } => Some(text.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn auth_plain_is_sent_and_masked_in_events() {
    let mut s = Session::new(auth_plan(&["PLAIN"], AuthRequirement::Required));
    s.feed(b"220 x\r\n");
    s.feed(EHLO_REPLY.as_bytes());
    let wire = sent(&mut s);
    // base64("\0tim\0tanstaaftanstaaf")
    assert!(
        wire.ends_with("AUTH PLAIN AHRpbQB0YW5zdGFhZnRhbnN0YWFm\r\n"),
        "{wire}"
    );
    let texts = sent_texts(&events(&mut s));
    let shown = texts.last().unwrap();
    assert_eq!(shown, &format!("AUTH PLAIN {}", crate::smtp::auth::MASK));
    s.feed(b"235 2.7.0 ok\r\n");
    assert_eq!(sent(&mut s), "MAIL FROM:<a@client.test>\r\n");
    let all = format!("{:?}", events(&mut s));
    assert!(!all.contains("tanstaaf") && !all.contains("AHRpbQB0YW5zdGFhZnRhbnN0YWFm"));
}

#[test]
fn auth_login_answers_both_prompts() {
    let mut s = Session::new(auth_plan(&["LOGIN"], AuthRequirement::Required));
    s.feed(b"220 x\r\n");
    s.feed(EHLO_REPLY.as_bytes());
    assert!(sent(&mut s).ends_with("AUTH LOGIN\r\n"));
    s.feed(b"334 VXNlcm5hbWU6\r\n");
    assert_eq!(sent(&mut s), "dGlt\r\n");
    s.feed(b"334 UGFzc3dvcmQ6\r\n");
    assert_eq!(sent(&mut s), "dGFuc3RhYWZ0YW5zdGFhZg==\r\n");
    s.feed(b"235 ok\r\n");
    assert_eq!(sent(&mut s), "MAIL FROM:<a@client.test>\r\n");
}

#[test]
fn auth_cram_md5_matches_rfc_2195() {
    let mut s = Session::new(auth_plan(&["CRAM-MD5"], AuthRequirement::Required));
    s.feed(b"220 x\r\n");
    s.feed(b"250-x\r\n250 AUTH CRAM-MD5\r\n");
    assert!(sent(&mut s).ends_with("AUTH CRAM-MD5\r\n"));
    s.feed(b"334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n");
    // base64("tim b913a602c7eda7a495b4e6e7334d3890")
    assert_eq!(
        sent(&mut s),
        "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw\r\n"
    );
}

#[test]
fn auth_aliases_send_the_advertised_name_and_run_the_mechanism() {
    // The server calls NTLM "MSN" (swaks's built-in --auth-map): -a NTLM sends AUTH MSN
    // and answers with NTLM messages.
    let mut p = auth_plan(&["NTLM"], AuthRequirement::Required);
    if let Some(a) = p.auth.as_mut() {
        a.credentials.nonce = Some("n".into());
    }
    let mut s = Session::new(p);
    s.feed(b"220 x\r\n");
    s.feed(b"250-x\r\n250 AUTH LOGIN MSN\r\n");
    assert!(sent(&mut s).ends_with("AUTH MSN\r\n"));
    s.feed(b"334 \r\n");
    // base64 of "NTLMSSP\0" + type 1.
    assert!(sent(&mut s).starts_with("TlRMTVNTUAABAAAA"));
    // A user's --auth-map: AUTH X-DIGEST runs DIGEST-MD5, the alias named directly.
    let mut p = auth_plan(&["X-DIGEST"], AuthRequirement::Required);
    if let Some(a) = p.auth.as_mut() {
        a.aliases = vec![("X-DIGEST".into(), "DIGEST-MD5".into())];
        a.credentials.nonce = Some("cn".into());
    }
    let mut s = Session::new(p);
    s.feed(b"220 x\r\n");
    s.feed(b"250-x\r\n250 AUTH X-DIGEST\r\n");
    assert!(sent(&mut s).ends_with("AUTH X-DIGEST\r\n"));
    // base64 of: nonce="n",algorithm=md5-sess
    s.feed(b"334 bm9uY2U9Im4iLGFsZ29yaXRobT1tZDUtc2Vzcw==\r\n");
    let answer = sent(&mut s);
    let decoded = auth::decode_challenge(answer.trim_end()).unwrap();
    assert!(
        String::from_utf8(decoded)
            .unwrap()
            .starts_with("username=\"tim\",nonce=\"n\",nc=00000001,cnonce=\"cn\""),
        "{answer}"
    );
    // A forged rspauth: the server does not know the password; AUTH fails (28).
    s.feed(b"334 cnNwYXV0aD0wMDAw\r\n");
    assert_eq!(sent(&mut s), "*\r\n");
}

#[test]
fn auth_refused_is_exit_28_unless_optional() {
    let mut s = Session::new(auth_plan(&["PLAIN"], AuthRequirement::Required));
    s.feed(b"220 x\r\n");
    s.feed(EHLO_REPLY.as_bytes());
    let _ = sent(&mut s);
    s.feed(b"535 5.7.8 bad credentials\r\n");
    assert_eq!(sent(&mut s), "QUIT\r\n");
    s.feed(b"221 bye\r\n");
    assert_eq!(exit_code(&s), 28);

    let mut s = Session::new(auth_plan(&["PLAIN"], AuthRequirement::Optional));
    s.feed(b"220 x\r\n");
    s.feed(EHLO_REPLY.as_bytes());
    let _ = sent(&mut s);
    s.feed(b"535 5.7.8 bad credentials\r\n");
    assert_eq!(sent(&mut s), "MAIL FROM:<a@client.test>\r\n");
}

/// A 421 to AUTH (the server is closing, RFC 5321 §3.8) ends the session at AUTH with that
/// reason even when AUTH is optional: it used to carry on with MAIL into the close (exit 6,
/// "closed the connection during MAIL").
#[test]
fn auth_answered_421_ends_the_session_even_when_optional() {
    for requirement in [AuthRequirement::Optional, AuthRequirement::OptionalStrict] {
        let mut s = Session::new(auth_plan(&["PLAIN"], requirement));
        s.feed(b"220 x\r\n");
        s.feed(EHLO_REPLY.as_bytes());
        let _ = sent(&mut s);
        s.feed(b"421 4.7.0 closing\r\n");
        assert_eq!(sent(&mut s), "QUIT\r\n", "{requirement:?}");
        s.feed(b"221 bye\r\n");
        assert_eq!(exit_code(&s), 28, "{requirement:?}");
    }
}

/// `--auth-authzid` is never dropped silently: only PLAIN, SCRAM-SHA-256 and DIGEST-MD5 carry
/// an authorisation identity, so only they are tried. It used to pick CRAM-MD5 (or the LOGIN
/// asked for) and authenticate as the user alone, "ok".
#[test]
fn an_authzid_is_only_sent_by_a_mechanism_that_carries_it() {
    let with_authzid = |mechs: &[&str]| {
        let mut p = auth_plan(mechs, AuthRequirement::Required);
        if let Some(a) = p.auth.as_mut() {
            a.credentials.authzid = Some("boss".into());
        }
        Session::new(p)
    };
    // None named: the strongest offered would be CRAM-MD5; PLAIN carries the authzid.
    let mut s = with_authzid(&[]);
    s.feed(b"220 x\r\n");
    s.feed(b"250-x\r\n250 AUTH PLAIN LOGIN CRAM-MD5\r\n");
    let wire = sent(&mut s);
    // base64("boss\0tim\0tanstaaftanstaaf")
    assert!(
        wire.ends_with("AUTH PLAIN Ym9zcwB0aW0AdGFuc3RhYWZ0YW5zdGFhZg==\r\n"),
        "{wire}"
    );
    // Named: LOGIN is skipped for the PLAIN after it.
    let mut s = with_authzid(&["LOGIN", "PLAIN"]);
    s.feed(b"220 x\r\n");
    s.feed(b"250-x\r\n250 AUTH PLAIN LOGIN\r\n");
    assert!(sent(&mut s).contains("AUTH PLAIN Ym9zc"));
    // Nothing offered can carry it: AUTH fails (28) with the reason, no AUTH is sent.
    let mut s = with_authzid(&[]);
    s.feed(b"220 x\r\n");
    s.feed(b"250-x\r\n250 AUTH LOGIN CRAM-MD5\r\n");
    let wire = sent(&mut s);
    assert!(!wire.contains("AUTH"), "{wire}");
    assert!(wire.ends_with("QUIT\r\n"), "{wire}");
    s.feed(b"221 bye\r\n");
    assert_eq!(exit_code(&s), 28);
    let why = format!("{:?}", s.outcome());
    assert!(why.contains("authorisation identity"), "{why}");
}

/// A mechanism that cannot run for want of a credential is named once in the failure: "AUTH
/// LOGIN: LOGIN needs a user name", not "AUTH AUTH: LOGIN: LOGIN needs a user name".
#[test]
fn a_mechanism_missing_a_credential_is_named_once() {
    let mut p = auth_plan(&["LOGIN"], AuthRequirement::Required);
    if let Some(a) = p.auth.as_mut() {
        a.credentials.user.clear();
    }
    let mut s = Session::new(p);
    s.feed(b"220 x\r\n");
    s.feed(EHLO_REPLY.as_bytes());
    assert!(sent(&mut s).ends_with("QUIT\r\n"));
    s.feed(b"221 bye\r\n");
    assert_eq!(exit_code(&s), 28);
    let why = s.outcome().err().map(|e| e.to_string()).unwrap_or_default();
    assert_eq!(why, "AUTH LOGIN: LOGIN needs a user name");
}

#[test]
fn auth_falls_back_to_the_next_mechanism_when_one_is_unsupported() {
    let mut s = Session::new(auth_plan(&[], AuthRequirement::Required));
    s.feed(b"220 x\r\n");
    s.feed(b"250-x\r\n250 AUTH PLAIN CRAM-MD5\r\n");
    assert!(
        sent(&mut s).ends_with("AUTH CRAM-MD5\r\n"),
        "strongest first"
    );
    s.feed(b"504 5.5.4 not today\r\n");
    assert!(sent(&mut s).starts_with("AUTH PLAIN "));
}

#[test]
fn auth_without_a_mechanism_tries_every_advertised_one_and_reports_each() {
    // swaks tries them all and the help says so: a 535 for one is not the end.
    let mut s = Session::new(auth_plan(&[], AuthRequirement::Required));
    s.feed(b"220 x\r\n");
    s.feed(b"250-x\r\n250 AUTH PLAIN LOGIN CRAM-MD5\r\n");
    assert!(sent(&mut s).ends_with("AUTH CRAM-MD5\r\n"));
    s.feed(b"334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n");
    let _ = sent(&mut s);
    s.feed(b"535 Incorrect authentication data\r\n");
    let w = sent(&mut s);
    assert!(
        w.starts_with("AUTH PLAIN ") || w.starts_with("AUTH LOGIN"),
        "{w}"
    );
    let first_next = if w.starts_with("AUTH PLAIN") {
        "PLAIN"
    } else {
        "LOGIN"
    };
    // Answer whatever comes with 535 until every mechanism was tried.
    let mut tried = vec!["CRAM-MD5".to_string(), first_next.to_string()];
    let mut w = w;
    loop {
        if w.starts_with("AUTH LOGIN") {
            s.feed(b"334 VXNlcm5hbWU6\r\n");
            let _ = sent(&mut s);
            s.feed(b"334 UGFzc3dvcmQ6\r\n");
            let _ = sent(&mut s);
        }
        s.feed(b"535 Incorrect authentication data\r\n");
        w = sent(&mut s);
        if w == "QUIT\r\n" {
            break;
        }
        let m = w
            .trim_start_matches("AUTH ")
            .split([' ', '\r'])
            .next()
            .unwrap();
        tried.push(m.to_string());
    }
    // swaks's order: CRAM-MD5, LOGIN, PLAIN.
    assert_eq!(tried, ["CRAM-MD5", "LOGIN", "PLAIN"]);
    s.feed(b"221 bye\r\n");
    assert_eq!(exit_code(&s), 28);
    let infos: Vec<String> = events(&mut s)
        .into_iter()
        .filter_map(|e| match e {
            Event::Info { message } => Some(message.to_string()),
            _ => None,
        })
        .collect();
    assert!(
        infos
            .iter()
            .any(|m| m.contains("AUTH CRAM-MD5 refused with 535: trying")),
        "{infos:?}"
    );
    assert!(
        infos
            .iter()
            .any(|m| m.contains("every mechanism was refused")
                && m.contains("CRAM-MD5 (535)")
                && m.contains("PLAIN (535)")
                && m.contains("LOGIN (535)")),
        "{infos:?}"
    );
}

#[test]
fn auth_not_advertised_before_tls_hints_at_tls() {
    let mut s = Session::new(auth_plan(&["PLAIN"], AuthRequirement::Required));
    s.feed(b"220 x\r\n");
    s.feed(b"250-x\r\n250 STARTTLS\r\n");
    assert!(sent(&mut s).ends_with("QUIT\r\n"));
    let e = s.outcome().unwrap_err().to_string();
    assert!(e.contains("--tls"), "{e}");
}

#[test]
fn bad_base64_challenge_cancels_the_exchange() {
    let mut s = Session::new(auth_plan(&["CRAM-MD5"], AuthRequirement::Required));
    s.feed(b"220 x\r\n");
    s.feed(b"250-x\r\n250 AUTH CRAM-MD5\r\n");
    let _ = sent(&mut s);
    s.feed(b"334 !!!not base64!!!\r\n");
    assert_eq!(sent(&mut s), "*\r\n");
    s.feed(b"501 5.7.0 cancelled\r\n");
    assert_eq!(sent(&mut s), "QUIT\r\n");
    s.feed(b"221 bye\r\n");
    assert_eq!(exit_code(&s), 28);
}

/// An optional STARTTLS the server does not offer leaves the connection in the clear: AUTH is
/// refused there, before any credential goes out, unless the plan allows plaintext AUTH (a
/// flag or a confirmation); the refusal is the usage error the check before connecting gives.
#[test]
fn auth_over_a_connection_an_optional_starttls_left_clear_needs_permission() {
    for starttls in [StartTls::Optional, StartTls::OptionalStrict] {
        let mut p = auth_plan(&["PLAIN"], AuthRequirement::Required);
        p.starttls = starttls;
        p.auth.as_mut().unwrap().allow_plaintext = false;
        let mut s = Session::new(p.clone());
        s.feed(b"220 x\r\n");
        s.feed(b"250-x\r\n250 AUTH PLAIN LOGIN\r\n");
        let w = sent(&mut s);
        assert_eq!(w, "EHLO client.test\r\nQUIT\r\n", "{starttls:?}");
        s.feed(b"221 bye\r\n");
        let e = s.outcome().unwrap_err();
        assert_eq!(e.to_string(), plaintext_auth_refused().to_string());
        assert!(
            e.to_string().contains("--allow-plaintext-auth") && e.to_string().contains("--tls"),
            "{e}"
        );
        assert_eq!(exit_code(&s), 1, "the pre-flight refusal's code");
        assert_eq!(e.label(), "usage");
        // Even --auth-optional does not send them: the refusal is about the credentials.
        let mut q = p.clone();
        q.auth.as_mut().unwrap().requirement = AuthRequirement::Optional;
        let mut s = Session::new(q);
        s.feed(b"220 x\r\n");
        s.feed(b"250-x\r\n250 AUTH PLAIN LOGIN\r\n");
        assert_eq!(sent(&mut s), "EHLO client.test\r\nQUIT\r\n");
        // Allowed: AUTH goes out, with the warning.
        p.auth.as_mut().unwrap().allow_plaintext = true;
        let mut s = Session::new(p);
        s.feed(b"220 x\r\n");
        s.feed(b"250-x\r\n250 AUTH PLAIN LOGIN\r\n");
        assert!(sent(&mut s).ends_with("AUTH PLAIN AHRpbQB0YW5zdGFhZnRhbnN0YWFm\r\n"));
        assert!(
            warnings(&events(&mut s))
                .iter()
                .any(|w| w.contains("AUTH over an unencrypted connection"))
        );
    }
    // Once TLS is up, no permission is needed.
    let mut p = auth_plan(&["PLAIN"], AuthRequirement::Required);
    p.starttls = StartTls::Optional;
    p.auth.as_mut().unwrap().allow_plaintext = false;
    let mut s = Session::new(p);
    s.feed(b"220 x\r\n");
    assert_eq!(sent(&mut s), "EHLO client.test\r\n");
    s.feed(b"250-x\r\n250 STARTTLS\r\n");
    assert_eq!(sent(&mut s), "STARTTLS\r\n");
    s.feed(b"220 go\r\n");
    assert_eq!(s.poll_action(), Some(Action::StartTls));
    s.tls_established();
    assert_eq!(sent(&mut s), "EHLO client.test\r\n");
    s.feed(b"250-x\r\n250 AUTH PLAIN\r\n");
    let w = sent(&mut s);
    assert_eq!(w, "AUTH PLAIN AHRpbQB0YW5zdGFhZnRhbnN0YWFm\r\n");
}

/// With a plan that may ask (the driver has a terminal), an optional STARTTLS that did not
/// happen makes the session ask before AUTH instead of refusing: nothing goes out until the
/// answer; yes sends AUTH with the warning, no ends the session as the refusal does (1).
#[test]
fn auth_over_a_clear_connection_asks_when_the_plan_says_so() {
    for yes in [true, false] {
        let mut p = auth_plan(&["PLAIN"], AuthRequirement::Optional);
        p.starttls = StartTls::Optional;
        let a = p.auth.as_mut().unwrap();
        a.allow_plaintext = false;
        a.confirm_plaintext = true;
        let mut s = Session::new(p);
        s.feed(b"220 x\r\n");
        s.feed(b"250-x\r\n250 AUTH PLAIN LOGIN\r\n");
        assert_eq!(sent(&mut s), "EHLO client.test\r\n");
        assert_eq!(s.poll_action(), Some(Action::ConfirmPlaintextAuth));
        assert_eq!(s.poll_transmit(), None, "nothing before the answer");
        s.plaintext_auth_answered(yes);
        if yes {
            assert!(sent(&mut s).ends_with("AUTH PLAIN AHRpbQB0YW5zdGFhZnRhbnN0YWFm\r\n"));
            assert!(
                warnings(&events(&mut s))
                    .iter()
                    .any(|w| w.contains("AUTH over an unencrypted connection"))
            );
            // A second answer changes nothing.
            s.plaintext_auth_answered(false);
            assert_eq!(s.poll_transmit(), None);
        } else {
            assert_eq!(sent(&mut s), "QUIT\r\n");
            s.feed(b"221 bye\r\n");
            let e = s.outcome().unwrap_err();
            assert_eq!(e.to_string(), plaintext_auth_declined().to_string());
            assert_eq!(exit_code(&s), 1);
        }
    }
}

/// DIGEST-MD5 up to the digest-response (the server's nonce "n").
fn digest_md5_answered(requirement: AuthRequirement) -> Session {
    let mut p = auth_plan(&["DIGEST-MD5"], requirement);
    p.auth.as_mut().unwrap().credentials.nonce = Some("cn".into());
    let mut s = Session::new(p);
    s.feed(b"220 x\r\n");
    s.feed(b"250-x\r\n250 AUTH DIGEST-MD5\r\n");
    assert!(sent(&mut s).ends_with("AUTH DIGEST-MD5\r\n"));
    // base64 of: nonce="n",algorithm=md5-sess
    s.feed(b"334 bm9uY2U9Im4iLGFsZ29yaXRobT1tZDUtc2Vzcw==\r\n");
    assert!(sent(&mut s).starts_with("dXNlcm5hbWU9"));
    s
}

/// A server that fails to prove it knows the password (a forged rspauth), is cancelled with
/// "*" and then claims success with 235 has not authenticated the session, and may be an
/// impostor that holds the connection as authenticated: the session ends (QUIT, 28) whatever
/// the requirement, and the 235 is called what it is.
#[test]
fn a_235_to_a_cancelled_exchange_is_never_success() {
    for requirement in [
        AuthRequirement::Optional,
        AuthRequirement::OptionalStrict,
        AuthRequirement::Required,
    ] {
        let mut s = digest_md5_answered(requirement);
        let _ = events(&mut s);
        // base64 of: rspauth=0000
        s.feed(b"334 cnNwYXV0aD0wMDAw\r\n");
        assert_eq!(sent(&mut s), "*\r\n");
        s.feed(b"235 2.7.0 Authentication successful\r\n");
        assert!(!s.authenticated, "{requirement:?}");
        let ev = events(&mut s);
        assert!(
            ev.iter().any(|e| matches!(
                e,
                Event::Received {
                    expected: false,
                    reply,
                    explanation,
                    ..
                } if reply.code == Some(235)
                    && explanation.basic.as_deref().is_some_and(|b| b.contains("not authenticated"))
            )),
            "a 235 to \"*\" is not the reply expected: {ev:?}"
        );
        assert_eq!(sent(&mut s), "QUIT\r\n", "{requirement:?}");
        s.feed(b"221 bye\r\n");
        assert_eq!(exit_code(&s), 28, "{requirement:?}");
        let e = s.outcome().unwrap_err().to_string();
        assert!(
            e.contains("server signature did not verify") && e.contains("235"),
            "{e}"
        );
    }
}

/// The usual answer to "*" (501): the reason we cancelled is what is reported, not
/// "expected 235, got 501"; a server proof that failed ends the session even when AUTH is
/// optional (RFC 5802 §9: the server may be an impostor).
#[test]
fn a_cancelled_exchange_reports_why_it_was_cancelled() {
    for requirement in [
        AuthRequirement::Optional,
        AuthRequirement::OptionalStrict,
        AuthRequirement::Required,
    ] {
        let mut s = digest_md5_answered(requirement);
        s.feed(b"334 cnNwYXV0aD0wMDAw\r\n");
        assert_eq!(sent(&mut s), "*\r\n");
        let _ = events(&mut s);
        s.feed(b"501 5.7.0 Authentication cancelled\r\n");
        assert_eq!(sent(&mut s), "QUIT\r\n", "{requirement:?}");
        assert!(!s.authenticated);
        s.feed(b"221 bye\r\n");
        assert_eq!(exit_code(&s), 28, "{requirement:?}");
        let e = s.outcome().unwrap_err().to_string();
        assert!(
            e.contains("AUTH DIGEST-MD5: server signature did not verify"),
            "{e}"
        );
    }
}

/// A challenge ehlo cannot read (not base64) is cancelled too, but that is no failed server
/// proof: optional AUTH still carries on unauthenticated after the server's answer.
#[test]
fn a_cancel_for_an_unreadable_challenge_stays_optional() {
    let mut s = digest_md5_answered(AuthRequirement::Optional);
    s.feed(b"334 !!!\r\n");
    assert_eq!(sent(&mut s), "*\r\n");
    let _ = events(&mut s);
    s.feed(b"501 5.7.0 Authentication cancelled\r\n");
    assert_eq!(sent(&mut s), "MAIL FROM:<a@client.test>\r\n");
    let warned = warnings(&events(&mut s));
    assert!(
        warned
            .iter()
            .any(|w| w.contains("base64") && w.contains("carrying on without AUTH")),
        "{warned:?}"
    );
}

/// A SCRAM server that sends a wrong `v=` (RFC 5802 §5: the client MUST verify it) is
/// cancelled; with optional AUTH the session still ends, whether the server then answers
/// 235 or 535.
#[test]
fn a_wrong_scram_signature_ends_the_session_even_when_optional() {
    use base64::Engine;
    for answer in ["235 2.7.0 ok\r\n", "535 5.7.8 no\r\n"] {
        for requirement in [AuthRequirement::Optional, AuthRequirement::OptionalStrict] {
            let mut p = auth_plan(&["SCRAM-SHA-256"], requirement);
            if let Some(a) = p.auth.as_mut() {
                a.credentials.nonce = Some("rOprNGfwEbeRWgbNEkqO".into());
            }
            let mut s = Session::new(p);
            s.feed(b"220 x\r\n");
            s.feed(b"250-x\r\n250 AUTH SCRAM-SHA-256\r\n");
            assert!(sent(&mut s).contains("AUTH SCRAM-SHA-256 "));
            let first = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
                         s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
            s.feed(
                format!(
                    "334 {}\r\n",
                    base64::engine::general_purpose::STANDARD.encode(first)
                )
                .as_bytes(),
            );
            let _ = sent(&mut s);
            let forged = "v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
            s.feed(
                format!(
                    "334 {}\r\n",
                    base64::engine::general_purpose::STANDARD.encode(forged)
                )
                .as_bytes(),
            );
            assert_eq!(sent(&mut s), "*\r\n");
            s.feed(answer.as_bytes());
            assert!(!s.authenticated);
            assert_eq!(sent(&mut s), "QUIT\r\n", "{answer:?} {requirement:?}");
            s.feed(b"221 bye\r\n");
            assert_eq!(exit_code(&s), 28);
            let e = s.outcome().unwrap_err().to_string();
            assert!(e.contains("server signature did not verify"), "{e}");
        }
    }
}

/// A 235 straight after DIGEST-MD5's digest-response (no rspauth) claims a success the server
/// never proved: the session ends with optional AUTH too.
#[test]
fn an_unproven_235_ends_the_session_even_when_optional() {
    let mut s = digest_md5_answered(AuthRequirement::Optional);
    s.feed(b"235 2.7.0 ok\r\n");
    assert_eq!(sent(&mut s), "QUIT\r\n");
    assert!(!s.authenticated);
    s.feed(b"221 bye\r\n");
    assert_eq!(exit_code(&s), 28);
}

/// RFC 2831 §2.1.3: a DIGEST-MD5 server proves it knows the password with rspauth; a 235
/// straight after the digest-response proves nothing.
#[test]
fn digest_md5_235_without_rspauth_fails() {
    let mut s = digest_md5_answered(AuthRequirement::Required);
    s.feed(b"235 2.7.0 ok\r\n");
    assert_eq!(sent(&mut s), "QUIT\r\n");
    assert!(!s.authenticated);
    s.feed(b"221 bye\r\n");
    assert_eq!(exit_code(&s), 28);
    let e = s.outcome().unwrap_err().to_string();
    assert!(e.contains("rspauth"), "{e}");
}

/// swaks's --auth-optional-strict fails only when AUTH was tried and failed: a mechanism
/// asked for that the server does not offer is skipped. With none named, a server offering
/// only mechanisms ehlo has no credentials for is a failure.
#[test]
fn auth_optional_strict_skips_a_named_mechanism_not_offered() {
    let mut s = Session::new(auth_plan(&["CRAM-MD5"], AuthRequirement::OptionalStrict));
    s.feed(b"220 x\r\n");
    s.feed(EHLO_REPLY.as_bytes());
    assert!(sent(&mut s).ends_with("MAIL FROM:<a@client.test>\r\n"));
    let warned = warnings(&events(&mut s));
    assert!(
        warned
            .iter()
            .any(|w| w.contains("asked for CRAM-MD5") && w.contains("--auth-optional-strict")),
        "{warned:?}"
    );
    let mut s = Session::new(auth_plan(&[], AuthRequirement::OptionalStrict));
    s.feed(b"220 x\r\n");
    s.feed(b"250-x\r\n250 AUTH XOAUTH2\r\n");
    assert!(sent(&mut s).ends_with("QUIT\r\n"));
    s.feed(b"221 bye\r\n");
    assert_eq!(exit_code(&s), 28);
}

/// An AUTH line past the 8 KiB line limit is cut there, and a mechanism after the cut is never
/// seen: the failure says the line was cut, not merely that the server does not offer it.
#[test]
fn a_mechanism_lost_by_the_auth_line_cut_names_the_cut() {
    let filler: Vec<String> = (0..1200).map(|i| format!("X-M{i:04}")).collect();
    let ehlo = format!(
        "250-x\r\n250-AUTH {} PLAIN LOGIN\r\n250 8BITMIME\r\n",
        filler.join(" ")
    );
    for mechs in [&["PLAIN"][..], &[]] {
        let mut s = Session::new(auth_plan(mechs, AuthRequirement::Required));
        s.feed(b"220 x\r\n");
        s.feed(ehlo.as_bytes());
        assert!(sent(&mut s).ends_with("QUIT\r\n"), "{mechs:?}");
        s.feed(b"221 bye\r\n");
        assert_eq!(exit_code(&s), 28);
        let e = s.outcome().unwrap_err().to_string();
        assert!(
            e.contains("the AUTH line was cut at 8192 bytes")
                && e.contains("mechanisms after the cut were not seen"),
            "{mechs:?}: {e}"
        );
    }
    // An AUTH line that fits says nothing of a cut.
    let mut s = Session::new(auth_plan(&["CRAM-MD5"], AuthRequirement::Required));
    s.feed(b"220 x\r\n");
    s.feed(EHLO_REPLY.as_bytes());
    s.feed(b"221 bye\r\n");
    let e = s.outcome().unwrap_err().to_string();
    assert!(
        e.contains("asked for CRAM-MD5") && !e.contains("cut"),
        "{e}"
    );
}

/// `--auth-plaintext` shows a decoded challenge: the server's CR LF (and other controls) are
/// escaped, so it cannot forge transcript lines.
#[test]
fn a_decoded_challenge_cannot_start_a_line() {
    let mut p = auth_plan(&["LOGIN"], AuthRequirement::Required);
    p.auth.as_mut().unwrap().show_plaintext = true;
    let mut s = Session::new(p);
    s.feed(b"220 x\r\n");
    s.feed(EHLO_REPLY.as_bytes());
    let _ = sent(&mut s);
    let _ = events(&mut s);
    let challenge = b"\x1b[31mUser\r\n=== Result: ok (forged)\n<-  235 forged";
    let line = format!(
        "334 {}\r\n",
        crate::smtp::auth::encode_response(&auth::Step {
            data: challenge.to_vec(),
            display: String::new(),
            secret: false,
        })
    );
    s.feed(line.as_bytes());
    let shown: Vec<String> = infos(&events(&mut s))
        .into_iter()
        .filter(|i| i.starts_with("challenge decoded"))
        .collect();
    assert_eq!(
        shown,
        ["challenge decoded: \\x1b[31mUser\\x0d\\x0a=== Result: ok (forged)\\x0a<-  235 forged"]
    );
}

#[test]
fn auth_offered_before_tls_is_a_finding_but_not_after() {
    let warned = |ev: &[Event]| {
        ev.iter().any(|e| {
            matches!(e, Event::Warning { message } if message.contains("offers AUTH (PLAIN LOGIN) before TLS"))
        })
    };
    let mut p = plan();
    p.starttls = StartTls::Required;
    let mut s = Session::new(p);
    s.feed(b"220 x\r\n");
    s.feed(EHLO_REPLY.as_bytes());
    assert!(warned(&events(&mut s)), "plain-text EHLO offering AUTH");
    s.feed(b"220 go\r\n");
    s.tls_established();
    s.feed(b"250-x\r\n250 AUTH PLAIN LOGIN\r\n");
    assert!(
        !warned(&events(&mut s)),
        "AUTH inside TLS is how it should be"
    );
}

/// A hostile EHLO offering hundreds of mechanisms, none of them usable: the one-line reason of
/// exit 28 names eight and how many more, as the warning about AUTH before TLS does. It named
/// a hundred (over 500 characters).
#[test]
fn no_usable_mechanism_among_hundreds_is_a_short_reason() {
    let mut ehlo = String::from("250-x\r\n");
    for line in 0..20 {
        let names: Vec<String> = (0..25).map(|i| format!("X{}", line * 25 + i)).collect();
        ehlo.push_str(&format!("250-AUTH {}\r\n", names.join(" ")));
    }
    ehlo.push_str("250 8BITMIME\r\n");
    let mut s = Session::new(auth_plan(&[], AuthRequirement::Required));
    s.feed(b"220 x\r\n");
    s.feed(ehlo.as_bytes());
    assert!(sent(&mut s).ends_with("QUIT\r\n"));
    s.feed(b"221 bye\r\n");
    let e = s.outcome().unwrap_err().to_string();
    assert!(
        e.contains("the server offers X0 X1 X2 X3 X4 X5 X6 X7 and over 92 more and ehlo"),
        "{e}"
    );
    assert!(e.len() < 200, "{} characters: {e}", e.len());
    assert_eq!(exit_code(&s), 28);
    // Fewer than the cap are counted exactly.
    let mut s = Session::new(auth_plan(&["X-NONE"], AuthRequirement::Required));
    s.feed(b"220 x\r\n");
    s.feed(b"250-x\r\n250 AUTH A B C D E F G H I J\r\n");
    let _ = sent(&mut s);
    s.feed(b"221 bye\r\n");
    let e = s.outcome().unwrap_err().to_string();
    assert!(
        e.contains("the server offers A B C D E F G H and 2 more"),
        "{e}"
    );
}

#[test]
fn null_sender_is_empty_brackets() {
    let mut p = plan();
    p.from = String::new();
    let mut s = Session::new(p);
    s.feed(b"220 x\r\n");
    s.feed(EHLO_REPLY.as_bytes());
    assert!(sent(&mut s).ends_with("MAIL FROM:<>\r\n"));
}

// ----- extensions ------------------------------------------------------------------------

const EXT_EHLO: &str = "250-server.test\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250-8BITMIME\r\n\
250-SMTPUTF8\r\n250-DSN\r\n250-CHUNKING\r\n250-PRDR\r\n250-REQUIRETLS\r\n\
250 XCLIENT ADDR NAME HELO\r\n";
const BARE_EHLO: &str = "250-server.test\r\n250 PIPELINING\r\n";

/// Run to the MAIL command with this EHLO reply; returns what was written after EHLO.
fn to_mail(p: Plan, ehlo: &str) -> (Session, String) {
    to_mail_in(Session::new(p), ehlo)
}

/// A session of `p` over implicit TLS (the driver's handshake done).
fn over_tls(p: Plan) -> Session {
    let mut s = Session::new(p);
    s.implicit_tls_established();
    s
}

fn to_mail_in(mut s: Session, ehlo: &str) -> (Session, String) {
    s.feed(b"220 x\r\n");
    let _ = sent(&mut s);
    s.feed(ehlo.as_bytes());
    let w = sent(&mut s);
    (s, w)
}

fn refused_before_mail(p: Plan, ehlo: &str, code: u8, needle: &str) {
    refused_before_mail_in(Session::new(p), ehlo, code, needle);
}

fn refused_before_mail_in(s: Session, ehlo: &str, code: u8, needle: &str) {
    let (mut s, w) = to_mail_in(s, ehlo);
    assert_eq!(w, "QUIT\r\n", "nothing of the transaction is sent");
    s.feed(b"221 bye\r\n");
    assert_eq!(exit_code(&s), code);
    let e = s.outcome().unwrap_err().to_string();
    assert!(e.contains(needle), "{e}");
}

#[test]
fn smtputf8_is_automatic_for_a_utf8_address() {
    let mut p = plan();
    p.rcpts = vec!["jöe@server.test".into()];
    let (mut s, w) = to_mail(p, EXT_EHLO);
    assert_eq!(w, "MAIL FROM:<a@client.test> SMTPUTF8 SIZE=27\r\n");
    s.feed(b"250 ok\r\n");
    assert_eq!(sent(&mut s), "RCPT TO:<jöe@server.test>\r\n");
}

#[test]
fn smtputf8_for_a_utf8_header_and_forced() {
    let mut p = plan();
    p.message = "Subject: café\n\nbody\n".as_bytes().to_vec();
    let (_, w) = to_mail(p, EXT_EHLO);
    assert!(
        w.starts_with("MAIL FROM:<a@client.test> SMTPUTF8 BODY=8BITMIME SIZE="),
        "{w}"
    );
    let mut p = plan();
    p.ext.smtputf8 = true;
    let (_, w) = to_mail(p, EXT_EHLO);
    assert!(
        w.starts_with("MAIL FROM:<a@client.test> SMTPUTF8 SIZE="),
        "{w}"
    );
}

#[test]
fn smtputf8_not_advertised_is_exit_31_unless_forced() {
    let mut p = plan();
    p.from = "ålice@client.test".into();
    refused_before_mail(p.clone(), BARE_EHLO, 31, "SMTPUTF8");
    p.ext.force = true;
    let (mut s, w) = to_mail(p, BARE_EHLO);
    assert_eq!(w, "MAIL FROM:<ålice@client.test> SMTPUTF8\r\n");
    assert!(
        events(&mut s)
            .iter()
            .any(|e| matches!(e, Event::Warning { message } if message.contains("--force-ext")))
    );
}

/// An ASCII local part at an IDN domain, to a server without SMTPUTF8: the domain goes out in
/// its A-label form (RFC 5890 §2.3.2.1), which needs no extension (RFC 6531 §3.2), with one
/// info line per address so converted; it exited 31 before sending anything. With SMTPUTF8
/// offered the address goes as given.
#[test]
fn an_idn_domain_goes_as_its_a_labels_to_a_server_without_smtputf8() {
    let mut p = plan();
    p.from = "me@straße.test".into();
    p.rcpts = vec!["jo@bücher.test".into(), "b@server.test".into()];
    p.a_labels = vec![
        ("me@straße.test".into(), "me@xn--strae-oqa.test".into()),
        ("jo@bücher.test".into(), "jo@xn--bcher-kva.test".into()),
    ];
    let (mut s, w) = to_mail(p.clone(), BARE_EHLO);
    assert_eq!(w, "MAIL FROM:<me@xn--strae-oqa.test>\r\n");
    let notes = infos(&events(&mut s));
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(
        notes[1].starts_with("<jo@bücher.test> is sent as <jo@xn--bcher-kva.test>"),
        "{notes:?}"
    );
    s.feed(b"250 ok\r\n");
    assert_eq!(sent(&mut s), "RCPT TO:<jo@xn--bcher-kva.test>\r\n");
    // Offered: the UTF-8 form, declared, and no note.
    let (mut s, w) = to_mail(p.clone(), EXT_EHLO);
    assert!(w.starts_with("MAIL FROM:<me@straße.test> SMTPUTF8"), "{w}");
    assert!(infos(&events(&mut s)).is_empty());
    // A non-ASCII local part has no ASCII form: still refused before MAIL (exit 31).
    p.rcpts.push("jöe@bücher.test".into());
    refused_before_mail(p, BARE_EHLO, 31, "SMTPUTF8");
}

#[test]
fn a_utf8_header_without_smtputf8_goes_undeclared_with_one_warning() {
    let mut p = plan();
    p.message = "Subject: café\n\nbody\n".as_bytes().to_vec();
    let warnings = |s: &mut Session| -> Vec<String> {
        events(s)
            .into_iter()
            .filter_map(|e| match e {
                Event::Warning { message } => Some(message.to_string()),
                _ => None,
            })
            .collect()
    };
    // Neither SMTPUTF8 nor 8BITMIME: sent as swaks sends it, one warning naming both.
    let (mut s, w) = to_mail(p.clone(), BARE_EHLO);
    assert_eq!(w, "MAIL FROM:<a@client.test>\r\n");
    let got = warnings(&mut s);
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].contains("RFC 6531 §3.2"), "{got:?}");
    assert!(got[0].contains("SMTPUTF8 nor 8BITMIME"), "{got:?}");
    assert!(got[0].contains("--force-ext"), "{got:?}");
    s.feed(b"250 ok\r\n");
    assert_eq!(sent(&mut s), "RCPT TO:<b@server.test>\r\n");
    // 8BITMIME offered, SMTPUTF8 not: BODY= declared, the header still undeclared and said.
    let (mut s, w) = to_mail(p.clone(), "250-server.test\r\n250 8BITMIME\r\n");
    assert_eq!(w, "MAIL FROM:<a@client.test> BODY=8BITMIME\r\n");
    let got = warnings(&mut s);
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].contains("advertise SMTPUTF8:"), "{got:?}");
    // --force-ext declares both.
    let mut forced = p.clone();
    forced.ext.force = true;
    let (_, w) = to_mail(forced, BARE_EHLO);
    assert_eq!(w, "MAIL FROM:<a@client.test> SMTPUTF8 BODY=8BITMIME\r\n");
    // --smtputf8 still requires it (exit 31), and so does a UTF-8 address.
    let mut asked = p.clone();
    asked.ext.smtputf8 = true;
    refused_before_mail(asked, BARE_EHLO, 31, "SMTPUTF8");
    // Stopping before DATA sends no header: nothing to warn about.
    let mut early = p;
    early.stop = Some(Stop {
        at: StopAt::Rcpt,
        kind: StopKind::Quit,
    });
    let (mut s, _) = to_mail(early, BARE_EHLO);
    assert!(warnings(&mut s).is_empty());
}

#[test]
fn eight_bit_body_declares_8bitmime_or_goes_undeclared_with_a_warning() {
    let mut p = plan();
    p.message = "Subject: x\n\ncafé\n".as_bytes().to_vec();
    let (_, w) = to_mail(p.clone(), EXT_EHLO);
    assert!(
        w.starts_with("MAIL FROM:<a@client.test> BODY=8BITMIME SIZE="),
        "{w}"
    );
    // Not advertised: sent as swaks sends it, undeclared, and said.
    let (mut s, w) = to_mail(p.clone(), BARE_EHLO);
    assert_eq!(w, "MAIL FROM:<a@client.test>\r\n");
    assert!(
        events(&mut s)
            .iter()
            .any(|e| matches!(e, Event::Warning { message } if message.contains("RFC 6152")))
    );
    // --force-ext declares it anyway.
    let mut forced = p.clone();
    forced.ext.force = true;
    let (_, w) = to_mail(forced, BARE_EHLO);
    assert_eq!(w, "MAIL FROM:<a@client.test> BODY=8BITMIME\r\n");
    // Stopping before DATA sends no content: nothing to warn about.
    let mut early = p.clone();
    early.stop = Some(Stop {
        at: StopAt::Rcpt,
        kind: StopKind::Quit,
    });
    let (mut s, _) = to_mail(early, BARE_EHLO);
    assert!(
        !events(&mut s)
            .iter()
            .any(|e| matches!(e, Event::Warning { .. })),
    );
    // A BODY= given by the user is not doubled.
    p.mail_params = vec!["BODY=BINARYMIME".into()];
    let (_, w) = to_mail(p, EXT_EHLO);
    assert_eq!(w.matches("BODY=").count(), 1, "{w}");
}

#[test]
fn size_is_declared_and_over_the_limit_warned() {
    let mut p = plan();
    p.message = vec![b'x'; 2000];
    let (mut s, w) = to_mail(p, EXT_EHLO);
    assert_eq!(w, "MAIL FROM:<a@client.test> SIZE=2002\r\n");
    let ev = events(&mut s);
    assert!(
        ev.iter().any(
            |e| matches!(e, Event::Warning { message } if message.contains("SIZE limit of 1000"))
        ),
        "{ev:?}"
    );
    // Not advertised: no SIZE=.
    let (_, w) = to_mail(plan(), BARE_EHLO);
    assert_eq!(w, "MAIL FROM:<a@client.test>\r\n");
}

fn dsn_plan() -> Plan {
    let mut p = plan();
    p.ext.dsn = Dsn {
        notify: Some("SUCCESS,FAILURE".into()),
        ret: Some(ext::Ret::Hdrs),
        envid: Some("id 42".into()),
        orcpt: true,
    };
    p
}

#[test]
fn dsn_parameters_on_mail_and_rcpt() {
    let (mut s, w) = to_mail(dsn_plan(), EXT_EHLO);
    assert_eq!(
        w,
        "MAIL FROM:<a@client.test> SIZE=27 RET=HDRS ENVID=id+2042\r\n"
    );
    s.feed(b"250 ok\r\n");
    assert_eq!(
        sent(&mut s),
        "RCPT TO:<b@server.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b@server.test\r\n"
    );
    refused_before_mail(dsn_plan(), BARE_EHLO, 23, "DSN");
}

/// A DSN parameter given both by its flag and by --mail-param/--rcpt-param goes out once, as
/// the user's raw parameter: twice on one command is a syntax error servers refuse with 501.
#[test]
fn a_raw_dsn_parameter_replaces_the_flags_one() {
    let mut p = dsn_plan();
    p.mail_params = vec!["ret=FULL".into()];
    p.rcpt_params = vec!["NOTIFY=NEVER".into()];
    let (mut s, w) = to_mail(p, EXT_EHLO);
    assert_eq!(
        w,
        "MAIL FROM:<a@client.test> SIZE=27 ENVID=id+2042 ret=FULL\r\n"
    );
    s.feed(b"250 ok\r\n");
    assert_eq!(
        sent(&mut s),
        "RCPT TO:<b@server.test> ORCPT=rfc822;b@server.test NOTIFY=NEVER\r\n"
    );
}

#[test]
fn requiretls_needs_tls_and_the_keyword() {
    let mut p = plan();
    p.ext.requiretls = true;
    refused_before_mail(p.clone(), EXT_EHLO, 23, "TLS");
    // Forcing the extensions waives the keyword, not the TLS.
    let mut forced = p.clone();
    forced.ext.force = true;
    refused_before_mail(forced, EXT_EHLO, 23, "TLS");
    let (_, w) = to_mail_in(over_tls(p.clone()), EXT_EHLO);
    assert_eq!(w, "MAIL FROM:<a@client.test> SIZE=27 REQUIRETLS\r\n");
    refused_before_mail_in(over_tls(p), BARE_EHLO, 23, "REQUIRETLS");
}

fn bdat_plan(chunk: usize) -> Plan {
    let mut p = plan();
    p.ext.bdat = Some(chunk);
    p
}

#[test]
fn bdat_sends_exact_chunks_without_dot_stuffing() {
    let (mut s, w) = to_mail(bdat_plan(10), EXT_EHLO);
    assert!(w.starts_with("MAIL "));
    s.feed(b"250 ok\r\n");
    assert_eq!(sent(&mut s), "RCPT TO:<b@server.test>\r\n");
    s.feed(b"250 ok\r\n");
    // "Subject: hi\r\n\r\nbody\r\n.dot\r\n" is 27 octets: 10 + 10 + 7.
    assert_eq!(sent(&mut s), "BDAT 10\r\nSubject: h");
    s.feed(b"250 2.0.0 10 octets\r\n");
    assert_eq!(
        sent(&mut s),
        "BDAT 10\r\ni\r\n\r\nbody\r",
        "chunks ignore lines"
    );
    s.feed(b"250 2.0.0 10 octets\r\n");
    assert_eq!(sent(&mut s), "BDAT 7 LAST\r\n\n.dot\r\n");
    s.feed(b"250 2.0.0 queued\r\n");
    assert_eq!(sent(&mut s), "QUIT\r\n");
    s.feed(b"221 bye\r\n");
    assert_eq!(exit_code(&s), 0);
    assert_eq!(s.message_accepted(), Some(true));
}

/// The `SIZE=` declared and the BDAT chunks sent, one reply at a time: the size and every
/// chunk's count are those of the bytes `encode_chunked` makes (the message is counted once and
/// encoded once; it used to be encoded for each), for messages with and without a `From ` line,
/// bare line ends, a final `.` line and none, under several fix-ups and chunk sizes.
#[test]
fn bdat_size_and_chunks_are_the_encoded_message_whatever_the_chunk() {
    let messages: [&[u8]; 6] = [
        b"",
        b".\r\n",
        b"Subject: hi\n\nbody\n.dot\n",
        b"From x@y Mon\nSubject: a\r\n\r\nbare\rcr\nend\r\n.\r\n",
        b"no line end at all",
        b"a\r\n\r\n.\n..\r.\r\n.",
    ];
    let fixups = [
        Fixup::ALL,
        Fixup::NONE,
        Fixup {
            strip_from: false,
            ..Fixup::ALL
        },
        Fixup {
            crlf: false,
            ..Fixup::ALL
        },
        Fixup {
            end_marker: false,
            own_end_marker: false,
            ..Fixup::ALL
        },
    ];
    for message in messages {
        for fixup in fixups {
            let want = crate::smtp::data::encode_chunked(message, fixup);
            for chunk in [0, 1, 3, want.len().max(1), want.len() + 5] {
                let case = format!("{message:?} {fixup:?} chunk {chunk}");
                let mut p = bdat_plan(chunk);
                p.message = message.to_vec();
                p.fixup = fixup;
                let (mut s, mail) = to_mail(p, EXT_EHLO);
                assert!(
                    mail.ends_with(&format!(" SIZE={}\r\n", want.len())),
                    "{case}: {mail}"
                );
                s.feed(b"250 ok\r\n");
                assert_eq!(sent(&mut s), "RCPT TO:<b@server.test>\r\n", "{case}");
                s.feed(b"250 ok\r\n");
                let mut got = Vec::new();
                let mut chunks = 0;
                loop {
                    let out = s.poll_transmit().unwrap_or_default();
                    if out == b"QUIT\r\n" {
                        break;
                    }
                    let eol = out.windows(2).position(|w| w == b"\r\n").unwrap();
                    let line = std::str::from_utf8(&out[..eol]).unwrap();
                    let mut words = line.split(' ');
                    assert_eq!(words.next(), Some("BDAT"), "{case}: {line}");
                    let n: usize = words.next().unwrap().parse().unwrap();
                    let last = words.next() == Some("LAST");
                    assert_eq!(out.len() - eol - 2, n, "{case}: {line}");
                    got.extend_from_slice(&out[eol + 2..]);
                    chunks += 1;
                    assert!(chunks <= want.len() + 1, "{case}: too many chunks");
                    s.feed(b"250 ok\r\n");
                    assert_eq!(last, got.len() == want.len(), "{case}: {line}");
                }
                assert_eq!(got, want, "{case}");
                let expected_chunks = if chunk == 0 || chunk >= want.len() {
                    1
                } else {
                    want.len().div_ceil(chunk)
                };
                assert_eq!(chunks, expected_chunks, "{case}");
            }
        }
    }
}

/// RFC 3030 §4.2: with PIPELINING the whole message goes in the envelope's group, BDAT LAST
/// and all, and the replies come back in order.
#[test]
fn bdat_whole_message_pipelined_with_the_envelope() {
    let mut p = bdat_plan(0);
    p.pipeline = true;
    let (mut s, w) = to_mail(p, EXT_EHLO);
    assert_eq!(
        w,
        "MAIL FROM:<a@client.test> SIZE=27\r\nRCPT TO:<b@server.test>\r\n\
         BDAT 27 LAST\r\nSubject: hi\r\n\r\nbody\r\n.dot\r\n",
        "no DATA, and the content in the same write"
    );
    s.feed(b"250 ok\r\n250 ok\r\n250 2.0.0 queued\r\n");
    assert_eq!(sent(&mut s), "QUIT\r\n");
    s.feed(b"221 bye\r\n");
    assert_eq!(exit_code(&s), 0);
    assert_eq!(s.message_accepted(), Some(true));
}

/// A message of 1-octet chunks (27): the envelope and the first 16 chunks go together, then one
/// more per reply, so no more than 16 replies are ever owed; each reply answers its own chunk.
#[test]
fn bdat_chunks_are_pipelined_within_a_window() {
    let mut p = bdat_plan(1);
    p.pipeline = true;
    let (mut s, w) = to_mail(p, EXT_EHLO);
    let chunks = |w: &str| w.matches("BDAT 1").count();
    assert!(w.starts_with(
        "MAIL FROM:<a@client.test> SIZE=27\r\nRCPT TO:<b@server.test>\r\nBDAT 1\r\nS"
    ));
    assert_eq!(chunks(&w), content::CHUNK_WINDOW, "{w}");
    s.feed(b"250 ok\r\n250 ok\r\n");
    assert_eq!(sent(&mut s), "", "the RCPT replies free no chunk");
    let mut total = chunks(&w);
    for _ in 0..27 - content::CHUNK_WINDOW {
        s.feed(b"250 2.0.0 1 octet\r\n");
        let w = sent(&mut s);
        assert_eq!(chunks(&w), 1, "{w}");
        total += 1;
    }
    assert_eq!(total, 27);
    // The last one sent is LAST; QUIT waits for every reply.
    for _ in 0..content::CHUNK_WINDOW - 1 {
        s.feed(b"250 2.0.0 1 octet\r\n");
        assert_eq!(sent(&mut s), "");
    }
    s.feed(b"250 2.0.0 queued\r\n");
    assert_eq!(sent(&mut s), "QUIT\r\n");
    s.feed(b"221 bye\r\n");
    assert_eq!(exit_code(&s), 0);
    assert_eq!(s.message_accepted(), Some(true));
}

/// RFC 3030 §2: a refused chunk in the middle of a pipelined group fails the message (exit 26)
/// even when the server then says 250 to BDAT LAST; no further chunk goes, the replies owed
/// are read before QUIT's, and an info line names the chunk.
#[test]
fn bdat_a_refused_middle_chunk_fails_the_pipelined_message() {
    let mut p = bdat_plan(10);
    p.pipeline = true;
    let (mut s, w) = to_mail(p, EXT_EHLO);
    assert!(
        w.ends_with("BDAT 10\r\nSubject: hBDAT 10\r\ni\r\n\r\nbody\rBDAT 7 LAST\r\n\n.dot\r\n"),
        "{w}"
    );
    let _ = events(&mut s);
    s.feed(b"250 ok\r\n250 ok\r\n250 2.0.0 10 octets\r\n452 4.3.1 out of space\r\n");
    assert_eq!(sent(&mut s), "QUIT\r\n");
    let ev = events(&mut s);
    assert!(
        infos(&ev)
            .iter()
            .any(|i| i.starts_with("BDAT chunk 2 of 3 was refused")
                && i.contains("the replies to the 1 already sent after it follow")),
        "{:?}",
        infos(&ev)
    );
    s.feed(b"250 2.0.0 queued as X\r\n221 bye\r\n");
    assert_eq!(exit_code(&s), 26);
    assert_eq!(s.message_accepted(), Some(false));
    let ev = events(&mut s);
    assert!(
        ev.iter()
            .any(|e| matches!(e, Event::Received { reply, .. } if reply.code == Some(250))),
        "the late 250 is shown: {ev:?}"
    );
}

/// Every recipient refused while the pipelined chunks are on their way: their refusals are
/// shown, the exit is the recipients' (24), and no chunk beyond the window follows.
#[test]
fn bdat_pipelined_with_no_recipient_accepted_is_24() {
    let mut p = bdat_plan(1);
    p.pipeline = true;
    let (mut s, _) = to_mail(p, EXT_EHLO);
    s.feed(b"250 ok\r\n550 5.1.1 no such user\r\n");
    assert_eq!(sent(&mut s), "QUIT\r\n");
    for _ in 0..content::CHUNK_WINDOW {
        s.feed(b"554 5.5.1 Error: no valid recipients\r\n");
        assert_eq!(sent(&mut s), "", "no further chunk");
    }
    s.feed(b"221 bye\r\n");
    assert_eq!(exit_code(&s), 24);
    assert_eq!(s.message_accepted(), None);
}

/// LMTP and PRDR answer the content once per accepted recipient, so the chunks wait for the
/// RCPT replies there (then go pipelined); without --pipeline they go one at a time.
#[test]
fn bdat_chunks_wait_for_the_rcpt_replies_under_prdr_or_without_pipelining() {
    let mut p = bdat_plan(10);
    p.pipeline = true;
    p.ext.prdr = true;
    let (mut s, w) = to_mail(p, EXT_EHLO);
    assert!(w.ends_with("RCPT TO:<b@server.test>\r\n"), "{w}");
    s.feed(b"250 ok\r\n250 ok\r\n");
    assert_eq!(sent(&mut s).matches("BDAT ").count(), 3);
    let (mut s, w) = to_mail(bdat_plan(10), EXT_EHLO);
    assert_eq!(w, "MAIL FROM:<a@client.test> SIZE=27\r\n");
    s.feed(b"250 ok\r\n250 ok\r\n");
    assert_eq!(
        sent(&mut s),
        "RCPT TO:<b@server.test>\r\nBDAT 10\r\nSubject: h"
    );
}

/// Stop points with pipelined chunks: a drop after sending DOT closes once BDAT LAST is
/// written (nothing read); a stop at RCPT sends no chunk.
#[test]
fn bdat_pipelined_stop_points() {
    let mut p = bdat_plan(10);
    p.pipeline = true;
    p.stop = stop(StopKind::DropAfterSend, StopAt::Dot);
    let (mut s, w) = to_mail(p, EXT_EHLO);
    assert!(w.ends_with("BDAT 7 LAST\r\n\n.dot\r\n"), "{w}");
    assert_eq!(s.poll_action(), Some(Action::Close));
    assert!(s.is_closed());
    assert_eq!(exit_code(&s), 0);
    let mut p = bdat_plan(10);
    p.pipeline = true;
    p.stop = stop(StopKind::Quit, StopAt::Rcpt);
    let (mut s, w) = to_mail(p, EXT_EHLO);
    assert_eq!(
        w,
        "MAIL FROM:<a@client.test> SIZE=27\r\nRCPT TO:<b@server.test>\r\n"
    );
    s.feed(b"250 ok\r\n");
    assert_eq!(sent(&mut s), "");
    s.feed(b"250 ok\r\n");
    assert_eq!(sent(&mut s), "QUIT\r\n");
}

/// `--pipeline` with a stop at RCPT (`-q`, `--drop-after`, `--drop-after-send`) still
/// pipelines: MAIL and every RCPT in one write, without DATA, as swaks writes them (it had
/// gone one command at a time). A stop at MAIL sends MAIL alone.
#[test]
fn pipelined_stop_at_rcpt_sends_the_envelope_in_one_write() {
    let two = || {
        let mut p = plan();
        p.pipeline = true;
        p.rcpts.push("c@server.test".into());
        p
    };
    const ENVELOPE: &str =
        "MAIL FROM:<a@client.test>\r\nRCPT TO:<b@server.test>\r\nRCPT TO:<c@server.test>\r\n";
    // --quit-after RCPT: QUIT once every reply is in.
    let mut p = two();
    p.stop = stop(StopKind::Quit, StopAt::Rcpt);
    let (mut s, w) = to_mail_in(Session::new(p), EHLO_REPLY);
    assert_eq!(w, ENVELOPE);
    s.feed(b"250 ok\r\n250 ok\r\n");
    assert_eq!(sent(&mut s), "");
    s.feed(b"250 ok\r\n");
    assert_eq!(sent(&mut s), "QUIT\r\n");
    s.feed(b"221 bye\r\n");
    assert_eq!(exit_code(&s), 0);
    assert_eq!(s.recipients()[1].status, RcptStatus::Accepted);
    // --drop-after RCPT: closes once the replies are read.
    let mut p = two();
    p.stop = stop(StopKind::Drop, StopAt::Rcpt);
    let (mut s, w) = to_mail_in(Session::new(p), EHLO_REPLY);
    assert_eq!(w, ENVELOPE);
    s.feed(b"250 ok\r\n250 ok\r\n250 ok\r\n");
    assert_eq!(sent(&mut s), "");
    assert!(s.is_closed());
    assert_eq!(exit_code(&s), 0);
    // --drop-after-send RCPT: closes right after writing them.
    let mut p = two();
    p.stop = stop(StopKind::DropAfterSend, StopAt::Rcpt);
    let (s, w) = to_mail_in(Session::new(p), EHLO_REPLY);
    assert_eq!(w, ENVELOPE);
    assert!(s.is_closed());
    // A refused MAIL: no DATA is coming, so QUIT goes at once (exit 23).
    let mut p = two();
    p.stop = stop(StopKind::Quit, StopAt::Rcpt);
    let (mut s, _) = to_mail_in(Session::new(p), EHLO_REPLY);
    s.feed(b"550 5.1.0 sender refused\r\n");
    assert_eq!(sent(&mut s), "QUIT\r\n");
    s.feed(b"503 need MAIL\r\n503 need MAIL\r\n221 bye\r\n");
    assert!(s.is_closed());
    assert_eq!(exit_code(&s), 23);
    // Every RCPT refused: exit 24, as without --pipeline.
    let mut p = two();
    p.stop = stop(StopKind::Quit, StopAt::Rcpt);
    let (mut s, _) = to_mail_in(Session::new(p), EHLO_REPLY);
    s.feed(b"250 ok\r\n550 no\r\n550 no\r\n");
    assert_eq!(sent(&mut s), "QUIT\r\n");
    s.feed(b"221 bye\r\n");
    assert_eq!(exit_code(&s), 24);
    // A stop at MAIL: MAIL alone.
    let mut p = two();
    p.stop = stop(StopKind::Quit, StopAt::Mail);
    let (mut s, w) = to_mail_in(Session::new(p), EHLO_REPLY);
    assert_eq!(w, "MAIL FROM:<a@client.test>\r\n");
    s.feed(b"250 ok\r\n");
    assert_eq!(sent(&mut s), "QUIT\r\n");
}

#[test]
fn bdat_empty_message_and_raw_bytes() {
    let mut p = bdat_plan(0);
    p.message = Vec::new();
    let (mut s, _) = to_mail(p, EXT_EHLO);
    s.feed(b"250 ok\r\n250 ok\r\n");
    assert!(sent(&mut s).ends_with("\r\nBDAT 0 LAST\r\n"));
    let mut p = bdat_plan(0);
    p.message = b"a\n.\n".to_vec();
    p.fixup = Fixup::NONE;
    let (mut s, _) = to_mail(p, EXT_EHLO);
    s.feed(b"250 ok\r\n250 ok\r\n");
    assert!(
        sent(&mut s).ends_with("\r\nBDAT 4 LAST\r\na\n.\n"),
        "no fix-up at all"
    );
}

#[test]
fn bdat_not_advertised_is_25_and_a_refused_chunk_26() {
    refused_before_mail(bdat_plan(0), BARE_EHLO, 25, "CHUNKING");
    let (mut s, _) = to_mail(bdat_plan(10), EXT_EHLO);
    s.feed(b"250 ok\r\n250 ok\r\n");
    let _ = sent(&mut s);
    s.feed(b"552 5.3.4 too big\r\n");
    assert_eq!(sent(&mut s), "QUIT\r\n", "no further chunk");
    s.feed(b"221 bye\r\n");
    assert_eq!(exit_code(&s), 26);
    assert_eq!(s.message_accepted(), Some(false));
}

fn prdr_plan() -> Plan {
    let mut p = plan();
    p.ext.prdr = true;
    p.rcpts = vec![
        "b@server.test".into(),
        "gone@server.test".into(),
        "c@server.test".into(),
    ];
    p
}

#[test]
fn prdr_reads_353_then_one_reply_per_recipient_then_the_final_one() {
    let (mut s, w) = to_mail(prdr_plan(), EXT_EHLO);
    assert_eq!(w, "MAIL FROM:<a@client.test> SIZE=27 PRDR\r\n");
    s.feed(b"250 ok\r\n250 ok\r\n550 5.1.1 no\r\n250 ok\r\n354 go\r\n");
    assert!(sent(&mut s).ends_with("\r\n.\r\n"));
    s.feed(b"353 content analysis started\r\n");
    assert_eq!(sent(&mut s), "");
    s.feed(b"250 2.1.5 ok for b\r\n");
    s.feed(b"550 5.7.1 refused for c\r\n");
    assert_eq!(sent(&mut s), "", "still waiting for the final reply");
    s.feed(b"250 2.0.0 accepted for some\r\n");
    assert_eq!(sent(&mut s), "QUIT\r\n");
    s.feed(b"221 bye\r\n");
    assert_eq!(exit_code(&s), 0);
    let r = s.recipients();
    assert_eq!(r[0].data_code, Some(250));
    assert_eq!(r[1].data_code, None, "refused at RCPT: no data reply");
    assert_eq!(r[2].data_code, Some(550));
    assert_eq!(r[2].data_enhanced.as_deref(), Some("5.7.1"));
}

/// The explanations of the replies received, in order, with their severity.
fn explained(s: &mut Session) -> Vec<(u16, codes::Explanation, bool)> {
    events(s)
        .into_iter()
        .filter_map(|e| match e {
            Event::Received {
                reply,
                explanation,
                expected,
                ..
            } => Some((reply.code.unwrap_or(0), explanation, expected)),
            _ => None,
        })
        .collect()
}

#[test]
fn prdr_353_is_explained_as_prdr_and_refusals_as_per_recipient() {
    let (mut s, _) = to_mail(prdr_plan(), EXT_EHLO);
    s.feed(b"250 ok\r\n250 ok\r\n550 5.1.1 no\r\n250 ok\r\n354 go\r\n");
    let _ = sent(&mut s);
    let _ = events(&mut s);
    s.feed(b"353 content analysis started\r\n250 ok for b\r\n550 refused for c\r\n");
    s.feed(b"250 accepted for some\r\n");
    let ex = explained(&mut s);
    let (code, e, expected) = &ex[0];
    assert_eq!(*code, 353);
    assert!(*expected);
    assert_eq!(e.severity, Some(codes::Severity::Ok));
    let basic = e.basic.as_deref().unwrap();
    assert!(
        basic.contains("PRDR") && !basic.contains("out of step"),
        "{basic}"
    );
    let (code, e, _) = &ex[2];
    assert_eq!(*code, 550);
    let basic = e.basic.as_deref().unwrap();
    assert!(basic.contains("refused for this recipient only"), "{basic}");
    let hint = e.hint.as_ref().unwrap().to_string();
    assert!(hint.contains("this one recipient"), "{hint}");
    // The final reply is about the message again.
    assert!(!ex[3].1.basic.as_deref().unwrap().contains("recipient only"));
}

#[test]
fn lmtp_mailbox_full_552_is_a_full_mailbox_not_a_big_message() {
    let mut s = lmtp_to_dot(lmtp_plan());
    let _ = events(&mut s);
    s.feed(b"250 2.0.0 delivered to b\r\n552 5.2.2 <c@server.test> Mailbox is full\r\n");
    let ex = explained(&mut s);
    let (code, e, _) = &ex[1];
    assert_eq!(*code, 552);
    let hint = e.hint.as_ref().unwrap().to_string();
    assert!(hint.contains("full") && !hint.contains("too big"), "{hint}");
    let basic = e.basic.as_deref().unwrap();
    assert!(
        basic.contains("LMTP") && basic.contains("this recipient"),
        "{basic}"
    );
}

/// A greeting that no HELO follows is not explained as one that does: LHLO (RFC 2033 §4.1),
/// HELO (the fallback itself, or `--protocol SMTP`), the EHLO after STARTTLS.
#[test]
fn a_refused_greeting_without_fallback_says_so() {
    let hint_of = |s: &mut Session| {
        let ex = explained(s);
        let (code, e, _) = ex.last().expect("a reply");
        assert_eq!(*code, 500);
        (
            e.basic.clone().unwrap_or_default(),
            e.hint.as_ref().map(|h| h.to_string()).unwrap_or_default(),
        )
    };
    let mut s = Session::new(lmtp_plan());
    s.feed(b"220 x\r\n");
    assert_eq!(sent(&mut s), "LHLO client.test\r\n");
    let _ = events(&mut s);
    s.feed(b"500 5.5.2 Error: command not recognized\r\n");
    let (basic, hint) = hint_of(&mut s);
    assert!(basic.starts_with("LHLO not understood"), "{basic}");
    assert!(
        hint.contains("LMTP") && !hint.contains("falls back"),
        "{hint}"
    );
    assert_eq!(sent(&mut s), "QUIT\r\n", "no HELO after LHLO");

    let mut s = Session::new(plan());
    s.feed(b"220 x\r\n");
    let _ = (sent(&mut s), events(&mut s));
    s.feed(b"500 what\r\n");
    let (_, hint) = hint_of(&mut s);
    assert!(
        hint.contains("falls back to HELO"),
        "the EHLO that HELO follows: {hint}"
    );
    assert_eq!(sent(&mut s), "HELO client.test\r\n");
    s.feed(b"500 what\r\n");
    let (basic, hint) = hint_of(&mut s);
    assert!(basic.starts_with("HELO not understood"), "{basic}");
    assert!(
        !hint.contains("falls back") && !hint.contains("EHLO unknown"),
        "{hint}"
    );
}

#[test]
fn a_multi_line_refusal_keeps_every_line_in_the_recipient_result() {
    let (mut s, _) = to_mail(plan(), BARE_EHLO);
    s.feed(b"250 OK\r\n");
    let _ = sent(&mut s);
    s.feed(
        b"550-Verification failed for <a@client.test>\r\n550-Unrouteable address\r\n\
          550 Sender verify failed\r\n",
    );
    let r = s.recipients();
    assert_eq!(
        r[0].text.as_deref(),
        Some("Verification failed for <a@client.test>\nUnrouteable address\nSender verify failed")
    );
    let ex = explained(&mut s);
    let e = &ex.last().unwrap().1;
    let hint = e.hint.as_ref().unwrap().to_string();
    assert!(
        hint.contains("about the sender") && hint.contains("--from"),
        "{hint}"
    );
    assert!(
        e.basic.as_deref().unwrap().contains("envelope sender"),
        "{:?}",
        e.basic
    );
    // Repeated enhanced codes are dropped from every line, not only the first.
    let (mut s, _) = to_mail(plan(), BARE_EHLO);
    s.feed(b"250 OK\r\n");
    s.feed(b"550-5.7.26 This mail is unauthenticated,\r\n550 5.7.26 and has been blocked.\r\n");
    assert_eq!(
        s.recipients()[0].text.as_deref(),
        Some("This mail is unauthenticated,\nand has been blocked.")
    );
}

#[test]
fn prdr_declined_after_the_data_is_the_final_reply() {
    let (mut s, _) = to_mail(prdr_plan(), EXT_EHLO);
    s.feed(b"250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n");
    let _ = sent(&mut s);
    s.feed(b"250 2.0.0 queued\r\n");
    assert_eq!(sent(&mut s), "QUIT\r\n");
    assert_eq!(s.message_accepted(), Some(true));
}

#[test]
fn prdr_not_advertised_is_exit_30() {
    refused_before_mail(prdr_plan(), BARE_EHLO, 30, "PRDR");
}

fn lmtp_plan() -> Plan {
    let mut p = plan();
    p.protocol = Protocol::Lmtp;
    p.rcpts = vec![
        "b@server.test".into(),
        "gone@server.test".into(),
        "c@server.test".into(),
    ];
    p
}

fn lmtp_to_dot(p: Plan) -> Session {
    let mut s = Session::new(p);
    s.feed(b"220 x\r\n");
    assert_eq!(sent(&mut s), "LHLO client.test\r\n");
    s.feed(b"250-x\r\n250 8BITMIME\r\n");
    s.feed(b"250 ok\r\n250 ok\r\n550 5.1.1 no\r\n250 ok\r\n354 go\r\n");
    assert!(sent(&mut s).ends_with("\r\n.\r\n"));
    s
}

#[test]
fn lmtp_one_reply_per_accepted_recipient() {
    let mut s = lmtp_to_dot(lmtp_plan());
    s.feed(b"250 2.0.0 delivered to b\r\n");
    assert_eq!(sent(&mut s), "");
    s.feed(b"452 4.2.2 c over quota\r\n");
    assert_eq!(sent(&mut s), "QUIT\r\n");
    s.feed(b"221 bye\r\n");
    assert_eq!(
        exit_code(&s),
        26,
        "a refused delivery fails the end of data"
    );
    let r = s.recipients();
    assert_eq!(r[0].data_code, Some(250));
    assert_eq!(r[1].data_code, None);
    assert_eq!(
        (r[1].status, r[1].code),
        (RcptStatus::PermFailed, Some(550))
    );
    assert_eq!(r[2].data_code, Some(452));
    assert_eq!(r[2].status, RcptStatus::TempFailed);
    assert_eq!(r[2].data_text.as_deref(), Some("c over quota"));
}

#[test]
fn lmtp_refused_for_everyone_is_26() {
    let mut s = lmtp_to_dot(lmtp_plan());
    s.feed(b"550 5.1.1 no b\r\n550 5.1.1 no c\r\n");
    assert_eq!(sent(&mut s), "QUIT\r\n");
    s.feed(b"221 bye\r\n");
    assert_eq!(exit_code(&s), 26);
    assert_eq!(s.message_accepted(), Some(false));
}

/// LMTP (RFC 2033 §4.2): the server closes after the first of two delivery replies. The run
/// fails, and the recipient whose reply never came is not reported as accepted from its RCPT
/// reply: its delivery is unknown.
#[test]
fn lmtp_a_delivery_reply_that_never_came_leaves_the_recipient_unknown() {
    let mut s = lmtp_to_dot(lmtp_plan());
    s.feed(b"250 2.0.0 delivered to b\r\n");
    s.feed_eof();
    assert_eq!(exit_code(&s), 6);
    let r = s.recipients();
    assert_eq!(
        (r[0].status, r[0].data_code),
        (RcptStatus::Accepted, Some(250))
    );
    assert_eq!(
        (r[1].status, r[1].code),
        (RcptStatus::PermFailed, Some(550))
    );
    assert_eq!(
        (r[2].status, r[2].code, r[2].data_code),
        (RcptStatus::NoDeliveryReply, Some(250), None),
        "RCPT's 250 stays as its code, the status says no delivery reply came"
    );
}

/// PRDR: the same for a per-recipient reply that never came after the 353; a server that
/// declines PRDR (no 353) gives one reply for everyone, and then they are all accepted.
#[test]
fn prdr_a_recipient_reply_that_never_came_leaves_the_recipient_unknown() {
    let (mut s, _) = to_mail(prdr_plan(), EXT_EHLO);
    s.feed(b"250 ok\r\n250 ok\r\n550 5.1.1 no\r\n250 ok\r\n354 go\r\n");
    let _ = sent(&mut s);
    s.feed(b"353 go on\r\n250 2.1.5 ok for b\r\n");
    s.feed_eof();
    assert_eq!(exit_code(&s), 6);
    let r = s.recipients();
    assert_eq!(r[0].status, RcptStatus::Accepted);
    assert_eq!(r[1].status, RcptStatus::PermFailed);
    assert_eq!(
        (r[2].status, r[2].code),
        (RcptStatus::NoDeliveryReply, Some(250))
    );

    let (mut s, _) = to_mail(prdr_plan(), EXT_EHLO);
    s.feed(b"250 ok\r\n250 ok\r\n550 5.1.1 no\r\n250 ok\r\n354 go\r\n");
    let _ = sent(&mut s);
    s.feed(b"250 2.0.0 accepted for all\r\n");
    assert_eq!(sent(&mut s), "QUIT\r\n");
    s.feed(b"221 bye\r\n");
    assert_eq!(exit_code(&s), 0);
    let r = s.recipients();
    assert_eq!(r[0].status, RcptStatus::Accepted);
    assert_eq!(r[2].status, RcptStatus::Accepted);
}

#[test]
fn lmtp_with_bdat_reads_one_reply_per_recipient_after_last() {
    let mut p = lmtp_plan();
    p.ext.bdat = Some(0);
    p.rcpts.truncate(1);
    let mut s = Session::new(p);
    s.feed(b"220 x\r\n");
    s.feed(b"250-x\r\n250 CHUNKING\r\n");
    s.feed(b"250 ok\r\n250 ok\r\n");
    let w = sent(&mut s);
    assert!(
        w.ends_with("BDAT 27 LAST\r\nSubject: hi\r\n\r\nbody\r\n.dot\r\n"),
        "{w}"
    );
    s.feed(b"250 2.0.0 delivered\r\n");
    assert_eq!(sent(&mut s), "QUIT\r\n");
    assert_eq!(s.recipients()[0].data_code, Some(250));
}

/// LMTP with pipelined chunks: a chunk refused after BDAT LAST went out fails the message for
/// every accepted recipient, so each is refused with that reply (not left without a reply
/// after the content); the late replies to the chunks after it change nothing.
#[test]
fn lmtp_a_chunk_refused_after_last_went_out_refuses_each_recipient() {
    let mut p = lmtp_plan();
    p.ext.bdat = Some(10);
    p.pipeline = true;
    let mut s = Session::new(p);
    s.feed(b"220 x\r\n");
    s.feed(b"250-x\r\n250-PIPELINING\r\n250 CHUNKING\r\n");
    s.feed(b"250 ok\r\n250 ok\r\n550 5.1.1 no\r\n250 ok\r\n");
    let w = sent(&mut s);
    assert!(w.contains("BDAT 7 LAST\r\n"), "{w}");
    s.feed(b"452 4.3.1 out of space\r\n");
    assert_eq!(sent(&mut s), "QUIT\r\n");
    s.feed(b"503 5.5.1 need MAIL\r\n503 5.5.1 need MAIL\r\n221 bye\r\n");
    assert_eq!(exit_code(&s), 26);
    assert_eq!(s.message_accepted(), Some(false));
    let r = s.recipients();
    for i in [0, 2] {
        assert_eq!(
            (r[i].status, r[i].code, r[i].data_code, r[i].text.as_deref()),
            (
                RcptStatus::TempFailed,
                Some(452),
                Some(452),
                Some("out of space")
            ),
            "{:?}",
            r[i]
        );
    }
    assert_eq!(
        (r[1].status, r[1].code),
        (RcptStatus::PermFailed, Some(550))
    );
}

fn xclient_plan() -> Plan {
    let mut p = plan();
    p.ext.xclient = Some(XclientPlan {
        commands: vec![XclientCommand::Attrs(vec![
            Attribute {
                name: "ADDR".into(),
                value: "192.0.2.1".into(),
            },
            Attribute {
                name: "HELO".into(),
                value: "a b".into(),
            },
        ])],
        ..XclientPlan::default()
    });
    p
}

#[test]
fn xclient_then_ehlo_again() {
    let (mut s, w) = to_mail(xclient_plan(), EXT_EHLO);
    assert_eq!(w, "XCLIENT ADDR=192.0.2.1 HELO=a+20b\r\n");
    s.feed(b"220 server.test ESMTP\r\n");
    assert_eq!(sent(&mut s), "EHLO client.test\r\n");
    assert!(s.capabilities().is_none(), "capabilities forgotten");
    s.feed(b"250-server.test\r\n250 8BITMIME\r\n");
    assert_eq!(sent(&mut s), "MAIL FROM:<a@client.test>\r\n");
}

#[test]
fn xclient_failures_are_33_and_34() {
    // Not advertised.
    refused_before_mail(xclient_plan(), BARE_EHLO, 33, "XCLIENT");
    // An attribute the server does not list.
    let mut p = xclient_plan();
    if let Some(x) = p.ext.xclient.as_mut() {
        x.commands.push(XclientCommand::Attrs(vec![Attribute {
            name: "LOGIN".into(),
            value: "u".into(),
        }]));
    }
    refused_before_mail(p.clone(), EXT_EHLO, 33, "LOGIN");
    // ... unless --xclient-no-verify.
    if let Some(x) = p.ext.xclient.as_mut() {
        x.no_verify = true;
    }
    let (_, w) = to_mail(p, EXT_EHLO);
    assert!(w.starts_with("XCLIENT ADDR="), "{w}");
    // Refused.
    let (mut s, _) = to_mail(xclient_plan(), EXT_EHLO);
    s.feed(b"550 5.7.0 not authorized\r\n");
    assert_eq!(sent(&mut s), "QUIT\r\n");
    s.feed(b"221 bye\r\n");
    assert_eq!(exit_code(&s), 33);
    // EHLO after XCLIENT refused.
    let (mut s, _) = to_mail(xclient_plan(), EXT_EHLO);
    s.feed(b"220 again\r\n");
    let _ = sent(&mut s);
    s.feed(b"554 5.7.1 go away\r\n");
    assert_eq!(sent(&mut s), "QUIT\r\n");
    s.feed(b"221 bye\r\n");
    assert_eq!(exit_code(&s), 34);
}

#[test]
fn xclient_optional_carries_on_and_stop_points() {
    let mut p = xclient_plan();
    if let Some(x) = p.ext.xclient.as_mut() {
        x.requirement = XclientRequirement::Optional;
    }
    let (_, w) = to_mail(p, BARE_EHLO);
    assert_eq!(w, "MAIL FROM:<a@client.test>\r\n");

    let mut p = xclient_plan();
    p.stop = Some(Stop {
        kind: StopKind::Quit,
        at: StopAt::Xclient,
    });
    let (mut s, _) = to_mail(p, EXT_EHLO);
    s.feed(b"220 again\r\n");
    assert_eq!(sent(&mut s), "QUIT\r\n");

    let mut p = xclient_plan();
    p.stop = Some(Stop {
        kind: StopKind::Quit,
        at: StopAt::XclientHelo,
    });
    let (mut s, _) = to_mail(p, EXT_EHLO);
    s.feed(b"220 again\r\n");
    assert_eq!(sent(&mut s), "EHLO client.test\r\n");
    s.feed(b"250 ok\r\n");
    assert_eq!(sent(&mut s), "QUIT\r\n");
    s.feed(b"221 bye\r\n");
    assert_eq!(exit_code(&s), 0);
}

#[test]
fn xclient_optional_strict_skips_unadvertised_but_fails_when_refused() {
    let strict = || {
        let mut p = xclient_plan();
        if let Some(x) = p.ext.xclient.as_mut() {
            x.requirement = XclientRequirement::OptionalStrict;
        }
        p
    };
    // Not advertised: carry on.
    let (_, w) = to_mail(strict(), BARE_EHLO);
    assert_eq!(w, "MAIL FROM:<a@client.test>\r\n");
    // An attribute not advertised: carry on too (swaks: no attempt was made).
    let mut p = strict();
    if let Some(x) = p.ext.xclient.as_mut() {
        x.commands.push(XclientCommand::Attrs(vec![Attribute {
            name: "LOGIN".into(),
            value: "u".into(),
        }]));
    }
    let (_, w) = to_mail(p, EXT_EHLO);
    assert_eq!(w, "MAIL FROM:<a@client.test> SIZE=27\r\n");
    // Advertised and refused: exit 33.
    let (mut s, w) = to_mail(strict(), EXT_EHLO);
    assert!(w.starts_with("XCLIENT "), "{w}");
    s.feed(b"550 5.7.0 not authorized\r\n");
    assert_eq!(sent(&mut s), "QUIT\r\n");
    s.feed(b"221 bye\r\n");
    assert_eq!(exit_code(&s), 33);
}

#[test]
fn xclient_commands_go_one_by_one() {
    let mut p = xclient_plan();
    if let Some(x) = p.ext.xclient.as_mut() {
        x.commands
            .push(XclientCommand::Raw("NAME=[UNAVAILABLE]".into()));
        x.commands.push(XclientCommand::Attrs(vec![Attribute {
            name: "NAME".into(),
            value: "n.test".into(),
        }]));
    }
    let (mut s, w) = to_mail(p, EXT_EHLO);
    assert_eq!(w, "XCLIENT ADDR=192.0.2.1 HELO=a+20b\r\n");
    s.feed(b"220 again\r\n");
    assert_eq!(sent(&mut s), "XCLIENT NAME=[UNAVAILABLE]\r\n");
    s.feed(b"220 again\r\n");
    assert_eq!(sent(&mut s), "XCLIENT NAME=n.test\r\n");
    s.feed(b"220 again\r\n");
    assert_eq!(sent(&mut s), "EHLO client.test\r\n");
    // A refusal in the middle stops there (exit 33).
    let mut p = xclient_plan();
    if let Some(x) = p.ext.xclient.as_mut() {
        x.commands.push(XclientCommand::Raw("NAME=x".into()));
    }
    let (mut s, _) = to_mail(p, EXT_EHLO);
    s.feed(b"220 again\r\n");
    assert_eq!(sent(&mut s), "XCLIENT NAME=x\r\n");
    s.feed(b"501 5.5.4 bad\r\n");
    assert_eq!(sent(&mut s), "QUIT\r\n");
    s.feed(b"221 bye\r\n");
    assert_eq!(exit_code(&s), 33);
}

#[test]
fn xclient_before_starttls() {
    let mut p = xclient_plan();
    p.starttls = StartTls::Required;
    if let Some(x) = p.ext.xclient.as_mut() {
        x.before_starttls = true;
    }
    let ehlo = "250-x\r\n250-STARTTLS\r\n250 XCLIENT ADDR HELO\r\n";
    let (mut s, w) = to_mail(p, ehlo);
    assert!(w.starts_with("XCLIENT "), "{w}");
    s.feed(b"220 again\r\n");
    assert_eq!(sent(&mut s), "EHLO client.test\r\n");
    s.feed(ehlo.as_bytes());
    assert_eq!(sent(&mut s), "STARTTLS\r\n", "XCLIENT only once");
}

#[test]
fn xforward_before_mail() {
    let mut p = plan();
    p.ext.xforward = vec![Attribute {
        name: "ADDR".into(),
        value: "192.0.2.9".into(),
    }];
    let (mut s, w) = to_mail(p.clone(), "250-x\r\n250 XFORWARD NAME ADDR\r\n");
    assert_eq!(w, "XFORWARD ADDR=192.0.2.9\r\n");
    s.feed(b"250 2.0.0 Ok\r\n");
    assert_eq!(sent(&mut s), "MAIL FROM:<a@client.test>\r\n");
    refused_before_mail(p, BARE_EHLO, 23, "XFORWARD");
}

/// An XCLIENT or XFORWARD attribute the server does not offer is named for its number
/// ("attribute LOGIN", "attributes LOGIN, DESTADDR"), not "attribute(s)".
#[test]
fn unadvertised_attributes_are_worded_for_their_number() {
    let attr = |name: &str| Attribute {
        name: name.into(),
        value: "v".into(),
    };
    let xclient = |names: &[&str]| {
        let mut p = xclient_plan();
        if let Some(x) = p.ext.xclient.as_mut() {
            x.commands.push(XclientCommand::Attrs(
                names.iter().map(|n| attr(n)).collect(),
            ));
        }
        let (mut s, w) = to_mail(p, EXT_EHLO);
        assert_eq!(w, "QUIT\r\n");
        s.feed(b"221 bye\r\n");
        s.outcome().unwrap_err().to_string()
    };
    let one = xclient(&["LOGIN"]);
    assert!(one.contains("attribute LOGIN not advertised"), "{one}");
    assert!(one.contains("sends it anyway"), "{one}");
    let two = xclient(&["LOGIN", "DESTADDR"]);
    assert!(
        two.contains("attributes LOGIN, DESTADDR not advertised"),
        "{two}"
    );
    assert!(two.contains("sends them anyway"), "{two}");
    let xforward = |names: &[&str]| {
        let mut p = plan();
        p.ext.xforward = names.iter().map(|n| attr(n)).collect();
        let (mut s, w) = to_mail(p, "250-x\r\n250 XFORWARD ADDR\r\n");
        assert_eq!(w, "QUIT\r\n");
        s.feed(b"221 bye\r\n");
        s.outcome().unwrap_err().to_string()
    };
    let one = xforward(&["NAME"]);
    assert!(one.contains("attribute NAME not advertised"), "{one}");
    let two = xforward(&["NAME", "PROTO"]);
    assert!(
        two.contains("attributes NAME, PROTO not advertised"),
        "{two}"
    );
}

#[test]
fn drop_at_proxy_closes_before_the_banner() {
    for kind in [StopKind::Drop, StopKind::DropAfterSend] {
        let mut p = plan();
        p.stop = Some(Stop {
            kind,
            at: StopAt::Proxy,
        });
        p.proxy = Some(b"PROXY TCP4 192.0.2.1 192.0.2.2 1234 25\r\n".to_vec());
        let mut s = Session::new(p);
        assert_eq!(s.poll_action(), Some(Action::Close));
        // The header still goes out: the stop is after it.
        assert_eq!(sent(&mut s), "PROXY TCP4 192.0.2.1 192.0.2.2 1234 25\r\n");
        assert_eq!(exit_code(&s), 0);
    }
}

/// swaks v20240103: quit-after PROXY reads the banner and says QUIT (as quit-after CONNECT).
#[test]
fn quit_at_proxy_reads_the_banner_and_quits() {
    let mut p = plan();
    p.stop = Some(Stop {
        kind: StopKind::Quit,
        at: StopAt::Proxy,
    });
    p.proxy = Some(b"PROXY TCP4 192.0.2.1 192.0.2.2 1234 25\r\n".to_vec());
    let mut s = Session::new(p);
    assert_eq!(sent(&mut s), "PROXY TCP4 192.0.2.1 192.0.2.2 1234 25\r\n");
    s.feed(b"220 mx.example ESMTP\r\n");
    assert_eq!(sent(&mut s), "QUIT\r\n");
    s.feed(b"221 bye\r\n");
    assert_eq!(exit_code(&s), 0);
}

#[test]
fn the_proxy_header_is_the_first_write_reported_in_clear() {
    for raw in [false, true] {
        let header = b"PROXY TCP4 192.0.2.1 192.0.2.2 1234 25\r\n".to_vec();
        let mut s = Session::new(Plan {
            proxy: Some(header.clone()),
            raw_events: raw,
            ..plan()
        });
        // Before the banner, before any TLS: the driver writes it first.
        assert_eq!(s.poll_transmit(), Some(header.clone()));
        let ev = events(&mut s);
        match &ev[0] {
            Event::Sent {
                text,
                kind: SentKind::Proxy,
                phase: Phase::Proxy,
                tls: false,
                bytes,
                ..
            } => {
                assert_eq!(text, "PROXY TCP4 192.0.2.1 192.0.2.2 1234 25");
                assert_eq!(*bytes, header.len());
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            ev.iter()
                .any(|e| matches!(e, Event::RawSent { bytes } if bytes.0 == header)),
            raw,
            "{ev:?}"
        );
        // Then the session waits for the banner as usual.
        assert!(!s.is_closed());
        s.feed(b"220 mx.test ESMTP\r\n");
        assert_eq!(sent(&mut s), "EHLO client.test\r\n");
    }
}

#[test]
fn a_proxy_v2_header_is_shown_as_base64() {
    let mut header = super::PROXY_V2_SIGNATURE.to_vec();
    header.extend_from_slice(&[
        0x21, 0x11, 0x00, 0x0c, 192, 0, 2, 1, 192, 0, 2, 2, 4, 210, 0, 25,
    ]);
    let mut s = Session::new(Plan {
        proxy: Some(header.clone()),
        ..plan()
    });
    assert_eq!(s.poll_transmit(), Some(header.clone()));
    let ev = events(&mut s);
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(&header);
    assert!(
        matches!(&ev[0], Event::Sent { text, kind: SentKind::Proxy, .. } if *text == format!("PROXY v2 header (base64): {b64}")),
        "{ev:?}"
    );
}

#[test]
fn without_a_proxy_header_nothing_is_written_before_the_banner() {
    let mut s = Session::new(plan());
    assert_eq!(s.poll_transmit(), None);
    assert!(events(&mut s).is_empty());
}

#[test]
fn a_timeout_ends_with_quit_except_before_any_banner_byte() {
    // Nothing at all in the banner phase: close, no QUIT.
    let mut s = Session::new(plan());
    assert_eq!(s.on_timeout(1.0), Some(Phase::Banner));
    assert!(s.is_closed());
    assert!(s.poll_transmit().is_none());
    // Half a banner arrived: the rest of it would be read as QUIT's reply after another
    // timeout; close without QUIT.
    let mut s = Session::new(plan());
    s.feed(b"220-slow");
    assert_eq!(s.on_timeout(1.0), None);
    assert!(s.is_closed());
    assert!(s.poll_transmit().is_none());
    assert_eq!(exit_code(&s), 21);
    // Half of MAIL's reply: the same.
    let mut s = Session::new(plan());
    s.feed(b"220 x\r\n");
    s.feed(EHLO_REPLY.as_bytes());
    let _ = sent(&mut s);
    s.feed(b"250 2.1");
    assert_eq!(s.on_timeout(1.0), None);
    assert!(s.is_closed());
    assert!(s.poll_transmit().is_none());
    assert_eq!(exit_code(&s), 23);
    // Waiting for MAIL's reply: QUIT; whatever comes next answers it; the code is MAIL's.
    let mut s = Session::new(plan());
    s.feed(b"220 x\r\n");
    s.feed(EHLO_REPLY.as_bytes());
    let _ = sent(&mut s);
    assert_eq!(s.on_timeout(1.0), None);
    assert_eq!(sent(&mut s), "QUIT\r\n");
    assert!(matches!(
        s.outcome(),
        Err(SessionError::Timeout {
            phase: Phase::Mail,
            ..
        })
    ));
    s.feed(b"221 bye\r\n");
    assert!(s.is_closed());
    assert_eq!(exit_code(&s), 23);
    // The QUIT's own reply timing out: close, no second QUIT.
    let mut s = Session::new(plan());
    s.feed(b"220 x\r\n");
    s.feed(EHLO_REPLY.as_bytes());
    let _ = sent(&mut s);
    assert_eq!(s.on_timeout(1.0), None);
    let _ = sent(&mut s);
    assert_eq!(s.on_timeout(1.0), None);
    assert!(s.is_closed());
    assert!(s.poll_transmit().is_none());
    assert_eq!(exit_code(&s), 23);
}

fn warnings(ev: &[Event]) -> Vec<String> {
    ev.iter()
        .filter_map(|e| match e {
            Event::Warning { message } => Some(message.to_string()),
            _ => None,
        })
        .collect()
}

#[test]
fn tls_record_helper_recognises_handshakes_and_alerts_only() {
    let hint = |b: &[u8]| super::banner::tls_record_instead_of_greeting(b);
    let advice = Hint::new(hint(&[0x16, 0x03, 0x03, 0x00, 0x7a]).unwrap());
    assert!(advice.parts().contains(&Part::Do(Remedy::TlsOnConnect)));
    assert!(advice.contains("use --tls-on-connect"));
    assert!(
        hint(&[0x15, 0x03, 0x01, 0x00, 0x02])
            .unwrap()
            .contains("alert")
    );
    assert!(hint(&[0x16, 0x03]).is_some());
    assert_eq!(hint(b"220 mx ESMTP\r\n"), None);
    assert_eq!(hint(&[0x16, 0x03, 0x09]), None);
    assert_eq!(hint(&[0x17, 0x03, 0x03]), None);
    assert_eq!(hint(&[0x16]), None);
    assert_eq!(hint(&[]), None);
}

#[test]
fn a_tls_record_instead_of_the_banner_fails_at_once_without_quit() {
    for bytes in [
        &b"\x15\x03\x03\x00\x02\x02\x46"[..],
        &b"\x16\x03\x01\x00\x2a\x02\x00\x00\x26\x03\x03"[..],
    ] {
        let mut s = Session::new(plan());
        s.feed(bytes);
        // Nothing is written to a server that does not speak plain SMTP, and the session asks
        // for the connection to be closed.
        assert_eq!(sent(&mut s), "");
        assert_eq!(s.poll_action(), Some(Action::Close));
        assert!(s.is_closed());
        let ev = events(&mut s);
        let w = warnings(&ev);
        assert_eq!(w.len(), 1, "{ev:?}");
        assert!(
            w[0].starts_with("this port speaks implicit TLS: try --tls-on-connect ("),
            "{w:?}"
        );
        assert!(
            !ev.iter().any(|e| matches!(e, Event::Closed { .. })),
            "{ev:?}"
        );
        match s.outcome() {
            Err(SessionError::UnexpectedReply {
                phase: Phase::Banner,
                expected: "220",
                verb: None,
                reply,
            }) => {
                assert!(reply.lines[0].starts_with("<TLS record: "), "{reply:?}");
                assert_eq!(reply.raw.0, bytes);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(exit_code(&s), 21);
    }
}

#[test]
fn tls_record_bytes_are_only_judged_at_the_start_of_a_plaintext_banner() {
    let record = b"\x16\x03\x03\x00\x02";
    // Implicit TLS: the session runs over the decrypted stream, so these are just bad bytes.
    let mut s = over_tls(plan());
    s.feed(record);
    assert!(
        !warnings(&events(&mut s))
            .iter()
            .any(|w| w.contains("implicit TLS"))
    );
    assert!(!s.is_closed());
    // Part of a banner already arrived: what follows belongs to it.
    let mut s = Session::new(plan());
    s.feed(b"220-mx.test\r\n");
    s.feed(record);
    assert!(
        !warnings(&events(&mut s))
            .iter()
            .any(|w| w.contains("implicit TLS"))
    );
    assert!(!s.is_closed());
    // After the banner, such bytes are an ordinary bad reply, not mode confusion.
    let mut s = Session::new(plan());
    s.feed(b"220 mx.test ESMTP\r\n");
    assert_eq!(sent(&mut s), "EHLO client.test\r\n");
    s.feed(record);
    assert!(
        !warnings(&events(&mut s))
            .iter()
            .any(|w| w.contains("implicit TLS"))
    );
}

#[test]
fn a_silent_plaintext_banner_times_out_with_the_implicit_tls_hint() {
    let mut s = Session::new(plan());
    assert_eq!(s.on_timeout(2.0), Some(Phase::Banner));
    assert!(s.is_closed());
    assert_eq!(s.poll_action(), Some(Action::Close));
    let w = warnings(&events(&mut s));
    assert_eq!(
        w,
        [
            "no banner: not one byte in 2 s; this port may speak implicit TLS (try --tls-on-connect), or the server is overloaded"
        ]
    );
    // Over implicit TLS that hint would be wrong: the timeout alone is reported.
    let mut s = over_tls(plan());
    assert_eq!(s.on_timeout(2.0), Some(Phase::Banner));
    assert!(warnings(&events(&mut s)).is_empty());
}

#[test]
fn a_timeout_says_what_had_arrived_of_the_reply() {
    let mut s = Session::new(plan());
    s.feed(b"220 mx.test ESMTP no line end yet");
    // Part of a banner came: the rest would be read as QUIT's reply, so no QUIT.
    assert_eq!(s.on_timeout(1.5), None);
    assert!(s.is_closed());
    assert_eq!(exit_code(&s), 21);
    let w = warnings(&events(&mut s));
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].starts_with("no complete banner within 1.5 s: "),
        "{w:?}"
    );
    // In a later phase the phase is named.
    let mut s = Session::new(plan());
    s.feed(b"220 mx.test ESMTP\r\n");
    sent(&mut s);
    s.feed(b"250-mx.test\r\n");
    assert_eq!(s.on_timeout(3.0), None);
    assert_eq!(sent(&mut s), "", "half a reply: no QUIT");
    assert_eq!(exit_code(&s), 22);
    let w = warnings(&events(&mut s));
    assert!(
        w[0].starts_with("no complete reply in EHLO phase within 3 s: "),
        "{w:?}"
    );
}

#[test]
fn a_timeout_waiting_for_quit_after_an_error_keeps_that_error() {
    let mut s = Session::new(plan());
    s.feed(b"554 5.7.1 go away\r\n");
    assert_eq!(sent(&mut s), "QUIT\r\n");
    events(&mut s);
    // No 221 comes: the run failed with the 554, not with the timeout.
    assert_eq!(s.on_timeout(2.0), None);
    assert!(s.is_closed());
    assert_eq!(
        warnings(&events(&mut s)),
        ["no reply to QUIT within 2s: closing"]
    );
    assert_eq!(exit_code(&s), 21);
}

/// The info lines of a batch of events.
fn infos(ev: &[Event]) -> Vec<String> {
    ev.iter()
        .filter_map(|e| match e {
            Event::Info { message } => Some(message.to_string()),
            _ => None,
        })
        .collect()
}

fn stop(kind: StopKind, at: StopAt) -> Option<Stop> {
    Some(Stop { kind, at })
}

/// After a greeting that ends the session at a stop point: QUIT for a quit (then its reply), a
/// close and nothing more for the drops. Either way exit 0 and no MAIL.
fn ends_at_stop(mut s: Session, kind: StopKind, written: &str) {
    let what = format!("{kind:?}");
    match kind {
        StopKind::Quit => {
            assert_eq!(written, "QUIT\r\n", "{what}");
            s.feed(b"221 bye\r\n");
            assert!(s.is_closed(), "{what}");
        }
        StopKind::Drop | StopKind::DropAfterSend => {
            assert_eq!(written, "", "{what}");
            assert_eq!(s.poll_action(), Some(Action::Close), "{what}");
            assert!(s.is_closed(), "{what}");
        }
    }
    assert_eq!(exit_code(&s), 0, "{what}");
}

/// swaks stops at `tls` and `auth` whether or not TLS or AUTH happened: a stop point there never
/// lets the session go on to MAIL, and the transcript says the step was skipped.
#[test]
fn tls_and_auth_stop_points_stop_there_when_the_step_did_not_happen() {
    for at in [StopAt::Tls, StopAt::Auth] {
        for kind in [StopKind::Quit, StopKind::Drop, StopKind::DropAfterSend] {
            let mut p = plan();
            p.stop = stop(kind, at);
            let (mut s, w) = to_mail(p, BARE_EHLO);
            let said = infos(&events(&mut s));
            let word = if at == StopAt::Tls {
                "STARTTLS"
            } else {
                "AUTH"
            };
            assert!(
                said.iter()
                    .any(|i| i.contains(&format!("no {word} in this session"))),
                "{at:?} {kind:?}: {said:?}"
            );
            ends_at_stop(s, kind, &w);
        }
    }
}

#[test]
fn a_tls_stop_applies_after_optional_starttls_was_not_advertised_or_refused() {
    for kind in [StopKind::Quit, StopKind::Drop, StopKind::DropAfterSend] {
        let mut p = plan();
        p.starttls = StartTls::Optional;
        p.stop = stop(kind, StopAt::Tls);
        let (s, w) = to_mail(p, BARE_EHLO);
        ends_at_stop(s, kind, &w);
    }
    // Advertised and refused: the reply to STARTTLS is read, then the stop (a drop-after-send
    // closes once STARTTLS is out, as before).
    for kind in [StopKind::Quit, StopKind::Drop] {
        let mut p = plan();
        p.starttls = StartTls::Optional;
        p.stop = stop(kind, StopAt::Tls);
        let (mut s, w) = to_mail(p, EHLO_REPLY);
        assert_eq!(w, "STARTTLS\r\n");
        s.feed(b"454 4.7.0 TLS not available\r\n");
        let w = sent(&mut s);
        ends_at_stop(s, kind, &w);
    }
    // Required and not advertised is still exit 29, not a stop.
    let mut p = plan();
    p.starttls = StartTls::Required;
    p.stop = stop(StopKind::Quit, StopAt::Tls);
    refused_before_mail(p, BARE_EHLO, 29, "STARTTLS");
}

#[test]
fn an_auth_stop_applies_after_optional_auth_was_skipped_or_failed() {
    let optional = |kind| {
        let mut p = auth_plan(&["PLAIN"], AuthRequirement::Optional);
        p.stop = stop(kind, StopAt::Auth);
        p
    };
    // Not advertised.
    for kind in [StopKind::Quit, StopKind::Drop, StopKind::DropAfterSend] {
        let (s, w) = to_mail(optional(kind), BARE_EHLO);
        ends_at_stop(s, kind, &w);
    }
    // Advertised, refused: exit 0 with no MAIL, as swaks (it quits at `auth` with 0).
    for kind in [StopKind::Quit, StopKind::Drop] {
        let (mut s, w) = to_mail(optional(kind), EHLO_REPLY);
        assert!(w.starts_with("AUTH PLAIN "), "{w}");
        s.feed(b"535 5.7.8 bad credentials\r\n");
        let w = sent(&mut s);
        ends_at_stop(s, kind, &w);
    }
    // The mechanism asked for is not offered: skipped under optional AUTH, then the stop.
    let (s, w) = to_mail(optional(StopKind::Quit), "250-x\r\n250 AUTH LOGIN\r\n");
    ends_at_stop(s, StopKind::Quit, &w);
    // A cancelled exchange (bad challenge) under optional AUTH: the 501 to the "*", then the
    // stop, exit 0.
    let mut p = auth_plan(&["CRAM-MD5"], AuthRequirement::Optional);
    p.stop = stop(StopKind::Quit, StopAt::Auth);
    let (mut s2, w2) = to_mail(p, "250-x\r\n250 AUTH CRAM-MD5\r\n");
    assert_eq!(w2, "AUTH CRAM-MD5\r\n");
    s2.feed(b"334 !!!notbase64\r\n");
    assert_eq!(sent(&mut s2), "*\r\n");
    s2.feed(b"501 5.0.0 cancelled\r\n");
    let w2 = sent(&mut s2);
    ends_at_stop(s2, StopKind::Quit, &w2);
    // --auth-optional-strict that was tried and refused, and required AUTH, still fail (28).
    let mut p = auth_plan(&["PLAIN"], AuthRequirement::OptionalStrict);
    p.stop = stop(StopKind::Quit, StopAt::Auth);
    let (mut s, _) = to_mail(p, EHLO_REPLY);
    s.feed(b"535 5.7.8 bad credentials\r\n");
    assert_eq!(sent(&mut s), "QUIT\r\n");
    s.feed(b"221 bye\r\n");
    assert_eq!(exit_code(&s), 28);
    let mut p = auth_plan(&["PLAIN"], AuthRequirement::Required);
    p.stop = stop(StopKind::Quit, StopAt::Auth);
    refused_before_mail(p, BARE_EHLO, 28, "AUTH");
    // AUTH that succeeded stops as before, without the "skipped" line.
    let mut p = auth_plan(&["PLAIN"], AuthRequirement::Required);
    p.stop = stop(StopKind::Quit, StopAt::Auth);
    let (mut s, _) = to_mail(p, EHLO_REPLY);
    s.feed(b"235 2.7.0 ok\r\n");
    assert_eq!(sent(&mut s), "QUIT\r\n");
    assert!(
        infos(&events(&mut s))
            .iter()
            .all(|i| !i.contains("no AUTH"))
    );
}

/// A stop point's QUIT wants its `221` as the session's own does: a server that closes instead
/// is exit 6 (swaks: "Remote host closed connection unexpectedly" after `-q helo`, `-q mail`,
/// `-q rcpt`, with or without `--pipeline`); with the `221` it is exit 0. A probe's plan
/// (`stop_wants_goodbye` off) takes the close as the end it asked for.
#[test]
fn a_close_instead_of_the_221_after_a_stop_point_is_exit_6() {
    for (at, pipeline) in [
        (StopAt::Helo, false),
        (StopAt::Mail, false),
        (StopAt::Mail, true),
        (StopAt::Rcpt, false),
        (StopAt::Rcpt, true),
    ] {
        for (goodbye, wanted) in [(true, true), (false, true), (false, false)] {
            let what = format!("{at:?} pipeline={pipeline} goodbye={goodbye} wanted={wanted}");
            let mut p = plan();
            p.stop = stop(StopKind::Quit, at);
            p.stop_wants_goodbye = wanted;
            p.pipeline = pipeline;
            let mut s = Session::new(p);
            s.feed(b"220 x\r\n");
            let _ = sent(&mut s);
            s.feed(EHLO_REPLY.as_bytes());
            // Answer MAIL and RCPT (each written alone, or together with --pipeline) until
            // QUIT goes out.
            let mut written = sent(&mut s);
            let mut answered = 0;
            loop {
                let quit = written.ends_with("QUIT\r\n");
                let commands = written.lines().filter(|l| !l.starts_with("QUIT")).count();
                for _ in 0..commands {
                    answered += 1;
                    s.feed(b"250 ok\r\n");
                }
                if quit {
                    break;
                }
                assert!(answered < 3, "{what}: {written}");
                written = sent(&mut s);
            }
            if goodbye {
                s.feed(b"221 bye\r\n");
            }
            s.feed_eof();
            assert!(s.is_closed(), "{what}");
            assert_eq!(
                exit_code(&s),
                if goodbye || !wanted { 0 } else { 6 },
                "{what}"
            );
        }
    }
}

/// Implicit TLS: the TLS stop is right after the handshake, before the banner is read (swaks's
/// `--tls-on-connect` path): QUIT at once, or a close.
#[test]
fn implicit_tls_stop_points_act_right_after_the_handshake() {
    let mut p = plan();
    p.stop = stop(StopKind::Quit, StopAt::Tls);
    let mut s = over_tls(p);
    assert_eq!(sent(&mut s), "QUIT\r\n");
    // The banner arrives first: reported as the banner, not taken for QUIT's reply.
    s.feed(b"220 mx.example ESMTP\r\n");
    assert!(!s.is_closed());
    assert_eq!(sent(&mut s), "");
    s.feed(b"221 bye\r\n");
    assert!(s.is_closed());
    assert_eq!(exit_code(&s), 0);
    let phases: Vec<(Phase, bool)> = events(&mut s)
        .iter()
        .filter_map(|e| match e {
            Event::Received {
                phase, expected, ..
            } => Some((*phase, *expected)),
            _ => None,
        })
        .collect();
    assert_eq!(phases, [(Phase::Banner, true), (Phase::Quit, true)]);
    // A server that closes after its banner instead of answering QUIT: an expected close
    // (swaks reads the banner as QUIT's reply), for the send too.
    let mut p = plan();
    p.stop = stop(StopKind::Quit, StopAt::Tls);
    p.stop_wants_goodbye = true;
    let mut s = over_tls(p);
    let _ = sent(&mut s);
    s.feed(b"220 mx.example ESMTP\r\n");
    s.feed_eof();
    assert_eq!(exit_code(&s), 0);
    for kind in [StopKind::Drop, StopKind::DropAfterSend] {
        let mut p = plan();
        p.stop = stop(kind, StopAt::Tls);
        let mut s = over_tls(p);
        let w = sent(&mut s);
        ends_at_stop(s, kind, &w);
    }
    // Other stop points over implicit TLS still read the banner first.
    let mut p = plan();
    p.stop = stop(StopKind::Quit, StopAt::Helo);
    let mut s = over_tls(p);
    assert_eq!(sent(&mut s), "");
    s.feed(b"220 x\r\n");
    assert_eq!(sent(&mut s), "EHLO client.test\r\n");
    s.feed(BARE_EHLO.as_bytes());
    assert_eq!(sent(&mut s), "QUIT\r\n");
}

#[test]
fn a_multi_line_reply_ending_in_a_refusal_is_a_refusal() {
    // RCPT: `250-` then `550` refuses the recipient (exit 24, as swaks), whatever the first line.
    let mut s = Session::new(plan());
    s.feed(b"220 x\r\n");
    s.feed(EHLO_REPLY.as_bytes());
    s.feed(b"250 ok\r\n");
    let _ = sent(&mut s);
    s.feed(b"250-2.1.5 ok\r\n550 5.1.1 user unknown\r\n");
    assert_eq!(sent(&mut s), "QUIT\r\n");
    s.feed(b"221 bye\r\n");
    assert_eq!(exit_code(&s), 24);
    assert_eq!(s.recipients()[0].status, RcptStatus::PermFailed);
    assert_eq!(s.recipients()[0].code, Some(550));
    let ev = events(&mut s);
    assert!(
        ev.iter().any(|e| matches!(
            e,
            Event::Received { reply, expected: false, .. } if reply.code == Some(550)
        )),
        "{ev:?}"
    );

    // A banner `220-` then `554` is a refusal to talk (exit 21).
    let mut s = Session::new(plan());
    s.feed(b"220-mx.example ESMTP\r\n554 5.7.1 go away\r\n");
    assert_eq!(sent(&mut s), "QUIT\r\n");
    s.feed(b"221 bye\r\n");
    assert_eq!(exit_code(&s), 21);

    // LMTP: a recipient's `250-` then `550` after the content is a refused delivery.
    let mut s = lmtp_to_dot(lmtp_plan());
    s.feed(b"250-2.0.0 b ok\r\n550 5.1.1 b refused\r\n250 2.0.0 c ok\r\n");
    assert_eq!(sent(&mut s), "QUIT\r\n");
    s.feed(b"221 bye\r\n");
    assert_eq!(exit_code(&s), 26);
    assert_eq!(s.recipients()[0].status, RcptStatus::PermFailed);
    assert_eq!(s.recipients()[0].data_code, Some(550));
    assert_eq!(s.recipients()[2].status, RcptStatus::Accepted);
}

/// Whether the `Received` event for the last reply fed was judged expected.
fn last_received_expected(s: &mut Session) -> Option<bool> {
    events(s).iter().rev().find_map(|e| match e {
        Event::Received { expected, .. } => Some(*expected),
        _ => None,
    })
}

#[test]
fn only_the_codes_rfc_5321_names_are_success() {
    // RFC 5321 §4.3.2: 250 after the dot. A 221 (or 220, 299) is not "queued": exit 26, as
    // swaks, and the event says it was not what the command wanted.
    for code in ["221 2.0.0 closing", "220 hi", "299 odd", "251 forwarded"] {
        let mut s = at_dot();
        let _ = events(&mut s);
        s.feed(format!("{code}\r\n").as_bytes());
        assert_eq!(last_received_expected(&mut s), Some(false), "{code}");
        assert_eq!(s.message_accepted(), Some(false), "{code}");
        let _ = sent(&mut s);
        s.feed(b"221 bye\r\n");
        assert_eq!(exit_code(&s), 26, "{code}");
    }

    // MAIL: 250 only (exit 23).
    let mut s = Session::new(plan());
    s.feed(b"220 x\r\n");
    s.feed(EHLO_REPLY.as_bytes());
    let _ = sent(&mut s);
    s.feed(b"221 2.0.0 bye\r\n");
    assert_eq!(sent(&mut s), "QUIT\r\n");
    s.feed(b"221 bye\r\n");
    assert_eq!(exit_code(&s), 23);

    // RCPT: 250, 251, 252 accept; a 220 does not (exit 24).
    for (code, ok) in [("251", true), ("252", true), ("220", false), ("299", false)] {
        let mut s = Session::new(plan());
        s.feed(b"220 x\r\n");
        s.feed(EHLO_REPLY.as_bytes());
        s.feed(b"250 ok\r\n");
        let _ = sent(&mut s);
        s.feed(format!("{code} x\r\n").as_bytes());
        let w = sent(&mut s);
        assert_eq!(w == "DATA\r\n", ok, "{code}: {w}");
        let want = if ok {
            RcptStatus::Accepted
        } else {
            RcptStatus::PermFailed
        };
        assert_eq!(s.recipients()[0].status, want, "{code}");
    }

    // EHLO: 250 only (exit 22).
    let mut s = Session::new(plan());
    s.feed(b"220 x\r\n");
    let _ = sent(&mut s);
    s.feed(b"220 again\r\n");
    assert_eq!(sent(&mut s), "QUIT\r\n");
    s.feed(b"221 bye\r\n");
    assert_eq!(exit_code(&s), 22);

    // A BDAT chunk: 250 only (exit 26).
    let (mut s, _) = to_mail(bdat_plan(10), EXT_EHLO);
    s.feed(b"250 ok\r\n250 ok\r\n");
    let _ = sent(&mut s);
    s.feed(b"221 closing\r\n");
    assert_eq!(sent(&mut s), "QUIT\r\n", "no further chunk");
    s.feed(b"221 bye\r\n");
    assert_eq!(exit_code(&s), 26);

    // LMTP: a recipient's 251 after the content is no delivery.
    let mut s = lmtp_to_dot(lmtp_plan());
    s.feed(b"251 b?\r\n250 2.0.0 c ok\r\n");
    s.feed(b"221 bye\r\n");
    assert_eq!(exit_code(&s), 26);
    assert_eq!(s.recipients()[0].status, RcptStatus::PermFailed);
}

fn early_reported(ev: &[Event]) -> usize {
    ev.iter()
        .filter(|e| {
            matches!(
                e,
                Event::Deviation {
                    deviation: Deviation::EarlyReply,
                    ..
                }
            )
        })
        .count()
}

#[test]
fn an_early_reply_is_never_the_verdict_on_the_content_a_chunk_or_auth() {
    // A `250` sent with the 354, before the content: reported, and no acceptance (exit 26).
    let mut s = Session::new(plan());
    s.feed(b"220 x\r\n");
    s.feed(EHLO_REPLY.as_bytes());
    s.feed(b"250 ok\r\n250 ok\r\n");
    let _ = sent(&mut s);
    s.feed(b"354 go\r\n250 queued early\r\n");
    assert!(sent(&mut s).ends_with(".\r\nQUIT\r\n"));
    assert_eq!(early_reported(&events(&mut s)), 1);
    assert_eq!(s.message_accepted(), Some(false));
    s.feed(b"500 what\r\n221 bye\r\n");
    assert_eq!(exit_code(&s), 26);

    // A 235 sent with the EHLO reply, before AUTH: not authenticated (exit 28).
    let mut s = Session::new(auth_plan(&["PLAIN"], AuthRequirement::Required));
    s.feed(b"220 x\r\n");
    s.feed(format!("{EHLO_REPLY}235 2.7.0 early ok\r\n").as_bytes());
    let w = sent(&mut s);
    assert!(w.ends_with("QUIT\r\n"), "{w}");
    assert_eq!(early_reported(&events(&mut s)), 1);
    s.feed(b"535 5.7.8 bad password\r\n221 bye\r\n");
    assert_eq!(exit_code(&s), 28);

    // A 250 sent with the RCPT reply, before the BDAT chunk: no chunk acceptance (exit 26).
    let (mut s, _) = to_mail(bdat_plan(10), EXT_EHLO);
    s.feed(b"250 ok\r\n");
    let _ = sent(&mut s);
    s.feed(b"250 ok\r\n250 early\r\n");
    let w = sent(&mut s);
    assert!(w.ends_with("QUIT\r\n") && !w.contains("BDAT 7"), "{w}");
    assert_eq!(early_reported(&events(&mut s)), 1);
    s.feed(b"250 ok\r\n221 bye\r\n");
    assert_eq!(exit_code(&s), 26);
}

#[test]
fn login_and_plain_answer_prompts_that_are_not_base64() {
    // LOGIN answers by position (swaks does too): prompts in plain text still get the user
    // name and the password.
    let mut s = Session::new(auth_plan(&["LOGIN"], AuthRequirement::Required));
    s.feed(b"220 x\r\n");
    s.feed(EHLO_REPLY.as_bytes());
    assert!(sent(&mut s).ends_with("AUTH LOGIN\r\n"));
    s.feed(b"334 Username:\r\n");
    assert_eq!(sent(&mut s), "dGlt\r\n");
    s.feed(b"334 Password please!\r\n");
    assert_eq!(sent(&mut s), "dGFuc3RhYWZ0YW5zdGFhZg==\r\n");
    s.feed(b"235 ok\r\n");
    assert_eq!(sent(&mut s), "MAIL FROM:<a@client.test>\r\n");
    // PLAIN: its one 334 (when no initial response went out) asks for the message, whatever
    // its text.
    let creds = Credentials {
        user: "tim".into(),
        password: Some(auth::Secret::new("tanstaaftanstaaf")),
        ..Credentials::default()
    };
    assert!(
        auth::mechanism("PLAIN", &creds)
            .unwrap()
            .ignores_challenge()
    );
}

#[test]
fn a_credential_the_server_echoes_is_masked_in_every_reply_shown() {
    // sendmail-style: the password line comes back in a 500. Neither its base64 form nor the
    // plain password may reach an event or the error.
    let mut p = auth_plan(&["LOGIN"], AuthRequirement::Required);
    if let Some(a) = p.auth.as_mut() {
        a.credentials.password = Some(auth::Secret::new("S3cretPW"));
    }
    let mut s = Session::new(p);
    s.feed(b"220 x\r\n");
    s.feed(EHLO_REPLY.as_bytes());
    let _ = sent(&mut s);
    s.feed(b"334 VXNlcm5hbWU6\r\n");
    assert_eq!(sent(&mut s), "dGlt\r\n");
    s.feed(b"334 UGFzc3dvcmQ6\r\n");
    assert_eq!(sent(&mut s), "UzNjcmV0UFc=\r\n");
    s.feed(b"500 5.5.1 unrecognized command UzNjcmV0UFc= (S3cretPW)\r\n");
    let _ = sent(&mut s);
    s.feed(b"221 bye S3cretPW\r\n");
    assert_eq!(exit_code(&s), 28);
    let ev = format!("{:?}", events(&mut s));
    let err = format!("{} {:?}", s.outcome().unwrap_err(), s.outcome());
    for text in [&ev, &err] {
        assert!(
            !text.contains("UzNjcmV0UFc") && !text.contains("S3cretPW"),
            "{text}"
        );
    }
    assert!(ev.contains("unrecognized command ********"), "{ev}");
    assert_eq!(
        s.redact_received(b"x UzNjcmV0UFc= y"),
        b"x ******** y".to_vec()
    );
}

#[test]
fn a_code_below_100_is_shown_with_its_three_digits() {
    let mut s = Session::new(plan());
    s.feed(b"099 odd\r\n");
    let _ = sent(&mut s);
    s.feed(b"221 bye\r\n");
    let err = s.outcome().unwrap_err().to_string();
    assert!(err.contains("got 099 odd"), "{err}");
    assert_eq!(
        crate::render::human::describe_deviation(&Deviation::OddCode { code: 0 }),
        "reply code 000 is outside 2xx–5xx"
    );
}

/// NTLM (NTLMv2 by default) answered 535: the refusal says that a server knowing only NTLMv1
/// (Exim's `spa`) refuses v2 like a wrong password, and what sends v1; with v1 sent, it does
/// not. No other mechanism's 535 says it.
#[test]
fn an_ntlmv2_refusal_suggests_ntlmv1() {
    use base64::Engine;
    // A CHALLENGE message (type 2, [MS-NLMP] §2.2.1.2): NTLM and UNICODE, no target info.
    let mut challenge = b"NTLMSSP\0".to_vec();
    challenge.extend(2u32.to_le_bytes());
    challenge.extend([0, 0, 0, 0, 48, 0, 0, 0]);
    challenge.extend(0x0000_0201u32.to_le_bytes());
    challenge.extend([1, 2, 3, 4, 5, 6, 7, 8]);
    challenge.extend([0; 16]);
    let challenge = base64::engine::general_purpose::STANDARD.encode(challenge);
    let run = |mech: &str, v1: bool| {
        let mut p = auth_plan(&[mech], AuthRequirement::Required);
        if let Some(a) = p.auth.as_mut() {
            a.credentials.nonce = Some("n".into());
            a.credentials.time = Some(1_700_000_000);
            a.credentials.ntlm_v1 = v1;
        }
        let mut s = Session::new(p);
        s.feed(b"220 x\r\n");
        s.feed(b"250-x\r\n250 AUTH NTLM PLAIN\r\n");
        assert!(sent(&mut s).contains(&format!("AUTH {mech}")));
        if mech == "NTLM" {
            s.feed(b"334 NTLM supported\r\n");
            sent(&mut s);
            s.feed(format!("334 {challenge}\r\n").as_bytes());
            sent(&mut s);
        }
        s.feed(b"535 Incorrect authentication data\r\n");
        assert_eq!(exit_code(&s), 28);
        infos(&events(&mut s))
            .into_iter()
            .filter(|i| i.contains("NTLMv1"))
            .collect::<Vec<_>>()
    };
    let hint = run("NTLM", false);
    assert_eq!(hint.len(), 1, "{hint:?}");
    assert!(
        hint[0].contains("try --auth-extra ntlm-version=1"),
        "{hint:?}"
    );
    assert!(hint[0].contains("Exim's spa"), "{hint:?}");
    assert_eq!(run("NTLM", true), Vec::<String>::new());
    assert_eq!(run("PLAIN", false), Vec::<String>::new());
}

/// Only 220 starts TLS (RFC 3207 §4): a 250 to STARTTLS is no refusal, and is not called one.
/// `--tls-optional` carries on in plain text saying so; `--tls` and `--tls-optional-strict`
/// end with exit 29 and the same words; a 454 is still a refusal.
#[test]
fn a_250_to_starttls_is_said_as_not_started_not_as_refused() {
    const WORDS: &str = "STARTTLS was answered 250, not 220 (RFC 3207 §4): TLS not started";
    let mut p = plan();
    p.starttls = StartTls::Optional;
    let (mut s, w) = to_mail(p, EHLO_REPLY);
    assert_eq!(w, "STARTTLS\r\n");
    let _ = events(&mut s);
    s.feed(b"250 ok\r\n");
    assert_eq!(sent(&mut s), "MAIL FROM:<a@client.test>\r\n");
    assert!(!s.is_tls());
    let warnings: Vec<String> = events(&mut s)
        .into_iter()
        .filter_map(|e| match e {
            Event::Warning { message } => Some(message.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(
        warnings,
        [format!("{WORDS}; carrying on without TLS (--tls-optional)")]
    );
    for policy in [StartTls::Required, StartTls::OptionalStrict] {
        let mut p = plan();
        p.starttls = policy;
        let (mut s, w) = to_mail(p, EHLO_REPLY);
        assert_eq!(w, "STARTTLS\r\n");
        s.feed(b"250 ok\r\n");
        assert_eq!(
            sent(&mut s),
            "QUIT\r\n",
            "{policy:?}: nothing in plain text"
        );
        s.feed(b"221 bye\r\n");
        assert_eq!(exit_code(&s), 29, "{policy:?}");
        assert_eq!(s.outcome().unwrap_err().to_string(), WORDS, "{policy:?}");
    }
    // A refusal keeps its words.
    let mut p = plan();
    p.starttls = StartTls::Optional;
    let (mut s, _) = to_mail(p, EHLO_REPLY);
    s.feed(b"454 4.7.0 not now\r\n");
    let ev = format!("{:?}", events(&mut s));
    assert!(
        ev.contains("STARTTLS was refused: carrying on without TLS"),
        "{ev}"
    );
    assert!(!ev.contains("RFC 3207"), "{ev}");
}

/// A reply cut at the parser's limit is worded once: the deviation line and the session's error
/// (the summary's `Result: failed` line) give the same account of what arrived, whether the
/// cut came inside one unended line or after many lines.
#[test]
fn a_cut_reply_reads_the_same_in_the_deviation_and_the_summary() {
    let one_line = [b"250-".to_vec(), vec![b'x'; 1_100_000]].concat();
    let lines = [b"250-".to_vec(), vec![b'x'; 900], b"\r\n".to_vec()]
        .concat()
        .repeat(1200);
    for (input, words) in [
        (
            one_line,
            "bytes without a line end passed the limit of 1 048 576 bytes",
        ),
        (
            lines,
            "bytes in 1 001 lines passed the limit of 1 048 576 bytes and 1000 lines",
        ),
    ] {
        let mut s = Session::new(plan());
        s.feed(b"220 x\r\n");
        let _ = sent(&mut s);
        s.feed(&input);
        let deviation = events(&mut s)
            .iter()
            .find_map(|e| match e {
                Event::Received { reply, .. } => reply
                    .deviations
                    .iter()
                    .find(|d| matches!(d, Deviation::ReplyTooLarge { .. }))
                    .map(crate::render::human::describe_deviation),
                _ => None,
            })
            .expect("a ReplyTooLarge deviation");
        let error = s.outcome().unwrap_err().to_string();
        let cut = error.split_once("reply too large: ").unwrap().1;
        assert!(cut.contains(words), "{cut}");
        assert_eq!(
            deviation,
            format!("reply too large: {cut}; stopped reading")
        );
    }
}

/// A 555 to MAIL FROM or RCPT TO (RFC 5321 §4.1.1.11: parameters not recognized) names the
/// parameters that command carried, from the plan: the hint listed the usual ones (SIZE=,
/// BODY=, …, NOTIFY=, ORCPT=) whatever had been sent. A reply the hint rules read otherwise
/// keeps its hint.
#[test]
fn a_refusal_of_parameters_names_those_sent() {
    let hint_of = |ev: &[Event], phase: Phase| -> String {
        ev.iter()
            .find_map(|e| match e {
                Event::Received {
                    phase: p,
                    explanation,
                    ..
                } if *p == phase && explanation.hint.is_some() => explanation
                    .hint
                    .as_ref()
                    .map(|h| h.words(|r| format!("{r:?}"))),
                _ => None,
            })
            .unwrap_or_default()
    };
    let mut p = plan();
    p.mail_params = vec!["XFOO=1".into()];
    let (mut s, w) = to_mail(p, BARE_EHLO);
    assert!(w.starts_with("MAIL FROM:<a@client.test> XFOO=1\r\n"), "{w}");
    s.feed(b"555 5.5.4 Unsupported option: XFOO\r\n");
    let h = hint_of(&events(&mut s), Phase::Mail);
    assert_eq!(
        h,
        "the server did not accept the parameter of this MAIL FROM, XFOO=1: only use extensions \
         the EHLO reply lists"
    );
    assert!(!h.contains("ENVID"), "{h}");

    // Several, ehlo's own SIZE= among them, and a 455 (RFC 5321 §4.2.3) alike.
    let mut p = plan();
    p.mail_params = vec!["XFOO=1".into(), "XBAZ".into()];
    let (mut s, _) = to_mail(p, EXT_EHLO);
    s.feed(b"455 4.5.4 cannot accommodate\r\n");
    let h = hint_of(&events(&mut s), Phase::Mail);
    assert!(
        h.starts_with(
            "the server did not accept a parameter of this MAIL FROM (SIZE=27 XFOO=1 XBAZ)"
        ),
        "{h}"
    );

    // RCPT TO: the DSN parameters of the plan and the user's.
    let mut p = dsn_plan();
    p.rcpt_params = vec!["XBAR".into()];
    let (mut s, _) = to_mail(p, EXT_EHLO);
    s.feed(b"250 ok\r\n555 5.5.4 Unsupported option: XBAR\r\n");
    let h = hint_of(&events(&mut s), Phase::Rcpt);
    // The reply names XBAR: that one, not the DSN parameters the server took (Postfix's words).
    assert!(
        h.starts_with("the server did not accept the parameter of this RCPT TO, XBAR:"),
        "{h}"
    );
    // A 555 that names none of them lists them all.
    let mut p = dsn_plan();
    p.rcpt_params = vec!["XBAR".into()];
    let (mut s, _) = to_mail(p, EXT_EHLO);
    s.feed(b"250 ok\r\n555 5.5.4 parameters not supported\r\n");
    let h = hint_of(&events(&mut s), Phase::Rcpt);
    assert!(
        h.starts_with(
            "the server did not accept a parameter of this RCPT TO (NOTIFY=SUCCESS,FAILURE \
             ORCPT=rfc822;b@server.test XBAR)"
        ),
        "{h}"
    );

    // None sent: the refusal is not about one.
    let (mut s, _) = to_mail(plan(), BARE_EHLO);
    s.feed(b"555 5.5.4 no\r\n");
    let h = hint_of(&events(&mut s), Phase::Mail);
    assert!(h.contains("which carried none"), "{h}");

    // Another code keeps the hint its rules give.
    let mut p = plan();
    p.mail_params = vec!["XFOO=1".into()];
    let (mut s, _) = to_mail(p, BARE_EHLO);
    s.feed(b"550 5.7.1 sender refused\r\n");
    let h = hint_of(&events(&mut s), Phase::Mail);
    assert!(!h.contains("XFOO"), "{h}");
}
