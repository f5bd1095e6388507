//! An in-memory client ↔ server pair (after rustls-test and quinn-proto's
//! `Pair`): `smtp::client::Session` talks to `smtp::server::Session` by shuttling bytes between
//! them, no sockets and no clock. Each side is checked against the other: the bytes the client
//! wrote, the bytes the server wrote, both event streams, what the server stored, and the exit code
//! the client's outcome maps to (`crate::error::Error::Session(..).exit_code()`).
//!
//! STARTTLS is simulated: when both sides have asked for the handshake, both are told it worked
//! (the real handshake is the driver's business and is tested against real peers).

use crate::error::Error;
use crate::smtp::auth::{Credentials, Secret};
use crate::smtp::client::{self, Action, AuthPlan, AuthRequirement, Plan, Protocol, StartTls};
use crate::smtp::event::{Event, Phase, RcptStatus, SentKind};
use crate::smtp::server::{self, Faults, ServerAction, ServerConfig, StoredMessage};

/// The two sessions and everything that passed between them.
struct Pair {
    client: client::Session,
    server: server::Session,
    /// Every byte the client wrote, in order.
    c2s: Vec<u8>,
    /// Every byte the server wrote, in order.
    s2c: Vec<u8>,
    client_events: Vec<Event>,
    server_events: Vec<Event>,
    stored: Vec<StoredMessage>,
    /// Content of the message the server is receiving (its `Content` pieces so far).
    draft: Vec<u8>,
    /// Server delays asked for (ms), in order; honoured as no-ops here.
    delays: Vec<u64>,
    client_wants_tls: bool,
    server_wants_tls: bool,
    /// Every write by the client (pipelining leaves in one write).
    client_writes: Vec<Vec<u8>>,
    /// Deliver bytes in pieces of at most this size in both directions (1 = a trickle).
    chunk: usize,
    /// Cut the connection once the client has written this many bytes (both sides see a close).
    cut_after: Option<usize>,
}

impl Pair {
    fn new(plan: Plan, cfg: ServerConfig) -> Pair {
        let mut server = server::Session::new(cfg);
        server.greeting();
        Pair {
            client: client::Session::new(plan),
            server,
            c2s: Vec::new(),
            s2c: Vec::new(),
            client_events: Vec::new(),
            server_events: Vec::new(),
            stored: Vec::new(),
            draft: Vec::new(),
            delays: Vec::new(),
            client_wants_tls: false,
            server_wants_tls: false,
            client_writes: Vec::new(),
            chunk: usize::MAX,
            cut_after: None,
        }
    }

    /// Server → client: everything the server has queued, in stream order. Returns whether
    /// anything moved.
    fn transfer_server(&mut self) -> bool {
        let mut moved = false;
        loop {
            if let Some(b) = self.server.poll_transmit() {
                self.s2c.extend_from_slice(&b);
                for piece in b.chunks(self.chunk) {
                    self.client.feed(piece);
                }
                moved = true;
            } else if let Some(a) = self.server.poll_action() {
                moved = true;
                match a {
                    ServerAction::StartTls => self.server_wants_tls = true,
                    ServerAction::Close => self.client.feed_eof(),
                    ServerAction::Delay(ms) => self.delays.push(ms),
                    ServerAction::Content(piece) => self.draft.extend_from_slice(&piece),
                    ServerAction::Discard => self.draft.clear(),
                    ServerAction::Store(mut m) => {
                        m.content = std::mem::take(&mut self.draft);
                        assert_eq!(m.size, m.content.len(), "streamed content and size agree");
                        self.stored.push(*m);
                        self.server.stored(crate::smtp::server::StoreOutcome::Kept);
                    }
                }
            } else {
                break;
            }
        }
        while let Some(e) = self.server.poll_event() {
            self.server_events.push(e);
        }
        moved
    }

    /// Client → server: queued bytes and actions. Returns whether anything moved.
    fn transfer_client(&mut self) -> bool {
        let mut moved = false;
        while let Some(e) = self.client.poll_event() {
            self.client_events.push(e);
            moved = true;
        }
        if let Some(mut b) = self.client.poll_transmit() {
            let mut cut = false;
            if let Some(limit) = self.cut_after {
                let room = limit.saturating_sub(self.c2s.len());
                if b.len() >= room {
                    b.truncate(room);
                    cut = true;
                }
            }
            self.c2s.extend_from_slice(&b);
            self.client_writes.push(b.clone());
            for piece in b.chunks(self.chunk) {
                self.server.feed(piece);
            }
            if cut {
                // The wire breaks: the server sees the client go, the client sees EOF.
                self.cut_after = None;
                self.server.peer_closed();
                self.client.feed_eof();
            }
            moved = true;
        }
        while let Some(a) = self.client.poll_action() {
            moved = true;
            match a {
                Action::StartTls => self.client_wants_tls = true,
                Action::Close => self.server.peer_closed(),
                // Nobody to ask in a paired run: the answer is no.
                Action::ConfirmPlaintextAuth => self.client.plaintext_auth_answered(false),
            }
        }
        if self.client_wants_tls && self.server_wants_tls {
            self.client_wants_tls = false;
            self.server_wants_tls = false;
            self.server.tls_established();
            self.client.tls_established();
            moved = true;
        }
        moved
    }

    /// Run until neither side has anything left to say (bounded: a livelock fails the test).
    fn drive(&mut self) {
        for _ in 0..10_000 {
            let a = self.transfer_client();
            let b = self.transfer_server();
            if !a && !b {
                // A server that closed while the client still waits: the client sees EOF.
                if self.server.is_closed() && !self.client.is_closed() {
                    self.client.feed_eof();
                    continue;
                }
                while let Some(e) = self.client.poll_event() {
                    self.client_events.push(e);
                }
                return;
            }
        }
        panic!("the pair never settled");
    }

    fn exit_code(&self) -> u8 {
        match self.client.outcome() {
            Ok(()) => 0,
            Err(e) => Error::Session(e.clone()).exit_code(),
        }
    }

    fn c2s(&self) -> String {
        String::from_utf8_lossy(&self.c2s).into_owned()
    }

    fn s2c(&self) -> String {
        String::from_utf8_lossy(&self.s2c).into_owned()
    }

    /// (code, phase) of every reply the client received.
    fn client_replies(&self) -> Vec<(u16, Phase)> {
        self.client_events
            .iter()
            .filter_map(|e| match e {
                Event::Received { reply, phase, .. } => Some((reply.code?, *phase)),
                _ => None,
            })
            .collect()
    }

    /// Command lines the server read, as shown (secrets masked).
    fn server_commands(&self) -> Vec<String> {
        self.server_events
            .iter()
            .filter_map(|e| match e {
                Event::ClientCommand { text, .. } => Some(text.clone()),
                _ => None,
            })
            .collect()
    }

    /// Text the client displayed for what it sent.
    fn client_sent(&self) -> Vec<(String, SentKind)> {
        self.client_events
            .iter()
            .filter_map(|e| match e {
                Event::Sent { text, kind, .. } => Some((text.clone(), *kind)),
                _ => None,
            })
            .collect()
    }
}

const MESSAGE: &[u8] = b"Subject: pair\r\n\r\nhello\r\n";

fn plan(rcpts: &[&str]) -> Plan {
    Plan {
        helo: "client.test".into(),
        from: "sender@client.test".into(),
        rcpts: rcpts.iter().map(|s| s.to_string()).collect(),
        message: MESSAGE.to_vec(),
        ..Plan::default()
    }
}

fn server_cfg() -> ServerConfig {
    ServerConfig {
        hostname: "server.test".into(),
        users: vec![("alice".into(), Secret::new("wonder-land"))],
        ..ServerConfig::default()
    }
}

fn faults(specs: &[&str]) -> Faults {
    let v: Vec<String> = specs.iter().map(|s| s.to_string()).collect();
    crate::cli::serve_specs::faults(&v, &[], &[]).unwrap()
}

fn run(plan: Plan, cfg: ServerConfig) -> Pair {
    let mut p = Pair::new(plan, cfg);
    p.drive();
    p
}

fn with_faults(specs: &[&str]) -> ServerConfig {
    ServerConfig {
        faults: faults(specs),
        ..server_cfg()
    }
}

#[test]
fn a_whole_transaction_end_to_end() {
    let p = run(plan(&["a@server.test", "b@server.test"]), server_cfg());
    assert_eq!(p.exit_code(), 0, "{:?}", p.client.outcome());
    assert!(p.client.is_closed() && p.server.is_closed());
    assert_eq!(
        p.c2s(),
        "EHLO client.test\r\n\
         MAIL FROM:<sender@client.test> SIZE=24\r\n\
         RCPT TO:<a@server.test>\r\n\
         RCPT TO:<b@server.test>\r\n\
         DATA\r\n\
         Subject: pair\r\n\r\nhello\r\n.\r\n\
         QUIT\r\n"
    );
    assert_eq!(
        p.client_replies(),
        [
            (220, Phase::Banner),
            (250, Phase::Helo),
            (250, Phase::Mail),
            (250, Phase::Rcpt),
            (250, Phase::Rcpt),
            (354, Phase::Data),
            (250, Phase::Dot),
            (221, Phase::Quit),
        ]
    );
    // Each reply the client parsed is byte for byte what the server wrote.
    let raw: Vec<u8> = p
        .client_events
        .iter()
        .filter_map(|e| match e {
            Event::Received { reply, .. } => Some(reply.raw.0.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(raw, p.s2c);
    // No deviation and no warning, except the finding that this server (users, no STARTTLS)
    // offers AUTH in clear text.
    assert!(p.client_events.iter().all(|e| match e {
        Event::Deviation { .. } => false,
        Event::Warning { message } =>
            message.contains("offers AUTH") && message.contains("before TLS"),
        _ => true,
    }));
    assert_eq!(p.stored.len(), 1);
    let m = &p.stored[0];
    assert_eq!(m.from, "sender@client.test");
    assert_eq!(m.rcpts, ["a@server.test", "b@server.test"]);
    assert_eq!(m.content, MESSAGE);
    assert_eq!(m.helo.as_deref(), Some("client.test"));
    assert_eq!(p.client.message_accepted(), Some(true));
    assert!(
        p.client
            .recipients()
            .iter()
            .all(|r| r.status == RcptStatus::Accepted)
    );
    assert!(p.delays.is_empty());
}

#[test]
fn pipelining_sends_mail_rcpts_and_data_in_one_write() {
    let mut pl = plan(&["a@server.test", "b@server.test"]);
    pl.pipeline = true;
    let p = run(pl, server_cfg());
    assert_eq!(p.exit_code(), 0, "{:?}", p.client.outcome());
    assert!(p.s2c().contains("250-PIPELINING\r\n"), "{}", p.s2c());
    let batch = String::from_utf8_lossy(&p.client_writes[1]);
    assert_eq!(
        batch,
        "MAIL FROM:<sender@client.test> SIZE=24\r\nRCPT TO:<a@server.test>\r\nRCPT TO:<b@server.test>\r\nDATA\r\n"
    );
    assert_eq!(p.stored.len(), 1);
    assert_eq!(p.stored[0].content, MESSAGE);
}

#[test]
fn pipelined_refusal_of_one_recipient_still_delivers_to_the_other() {
    let mut pl = plan(&["a@server.test", "b@server.test"]);
    pl.pipeline = true;
    let p = run(
        pl,
        ServerConfig {
            faults: faults(&["rcpt#1=550:5.1.1"]),
            ..server_cfg()
        },
    );
    assert_eq!(p.exit_code(), 0, "{:?}", p.client.outcome());
    let r = p.client.recipients();
    assert_eq!(r[0].status, RcptStatus::PermFailed);
    assert_eq!(r[0].enhanced.as_deref(), Some("5.1.1"));
    assert_eq!(r[1].status, RcptStatus::Accepted);
    assert_eq!(p.stored[0].rcpts, ["b@server.test"]);
}

fn auth_plan(mech: &str, password: &str) -> Plan {
    let mut pl = plan(&["a@server.test"]);
    pl.auth = Some(AuthPlan {
        mechanisms: vec![mech.into()],
        requirement: AuthRequirement::Required,
        credentials: Credentials {
            user: "alice".into(),
            password: Some(Secret::new(password)),
            ..Credentials::default()
        },
        allow_plaintext: true,
        ..AuthPlan::default()
    });
    pl
}

#[test]
fn auth_plain_login_and_cram_md5_against_the_servers_users() {
    for mech in ["PLAIN", "LOGIN", "CRAM-MD5"] {
        let p = run(auth_plan(mech, "wonder-land"), server_cfg());
        assert_eq!(p.exit_code(), 0, "{mech}: {:?}", p.client.outcome());
        assert!(
            p.client_replies().contains(&(235, Phase::Auth)),
            "{mech}: {}",
            p.s2c()
        );
        assert_eq!(p.stored.len(), 1, "{mech}");
        assert_eq!(p.stored[0].auth_user.as_deref(), Some("alice"), "{mech}");
        // Neither side shows the password or its base64.
        let shown = format!(
            "{:?}{:?}{:?}",
            p.server_commands(),
            p.client_sent(),
            p.client_events
        );
        assert!(!shown.contains("wonder-land"), "{mech}: {shown}");
        for secret in [
            "AGFsaWNlAHdvbmRlci1sYW5k", // \0alice\0wonder-land
            "d29uZGVyLWxhbmQ=",         // wonder-land
        ] {
            assert!(!shown.contains(secret), "{mech}: {shown}");
        }
    }
}

#[test]
fn a_wrong_password_is_exit_28_for_every_mechanism() {
    for mech in ["PLAIN", "LOGIN", "CRAM-MD5"] {
        let p = run(auth_plan(mech, "not-it"), server_cfg());
        assert_eq!(p.exit_code(), 28, "{mech}: {:?}", p.client.outcome());
        assert!(p.client_replies().contains(&(535, Phase::Auth)), "{mech}");
        assert!(p.stored.is_empty());
        assert!(!p.c2s().contains("MAIL FROM"), "{mech}: {}", p.c2s());
        assert!(p.c2s().ends_with("QUIT\r\n"), "{mech}: {}", p.c2s());
    }
}

#[test]
fn server_faults_map_to_the_clients_exit_codes() {
    // (fault, recipients, exit code, what the server stored)
    let cases: &[(&str, &[&str], u8, usize)] = &[
        (
            "rcpt#2=550:5.1.1",
            &["a@server.test", "b@server.test"],
            0,
            1,
        ),
        ("rcpt=550:5.1.1", &["a@server.test", "b@server.test"], 24, 0),
        ("rcpt#1=452:4.5.3", &["a@server.test"], 24, 0),
        ("dot=552:5.3.4", &["a@server.test"], 26, 0),
        ("data=554", &["a@server.test"], 25, 0),
        ("mail=553:5.1.8", &["a@server.test"], 23, 0),
        ("helo=550", &["a@server.test"], 22, 0),
        ("connect=421", &["a@server.test"], 21, 0),
        ("connect=554", &["a@server.test"], 21, 0),
        ("quit=500", &["a@server.test"], 27, 1),
        ("mail=drop", &["a@server.test"], 6, 0),
    ];
    for (spec, rcpts, code, stored) in cases {
        let p = run(
            plan(rcpts),
            ServerConfig {
                faults: faults(&[spec]),
                ..server_cfg()
            },
        );
        assert_eq!(
            p.exit_code(),
            *code,
            "{spec}: {:?}\nc2s: {}\ns2c: {}",
            p.client.outcome(),
            p.c2s(),
            p.s2c()
        );
        assert_eq!(p.stored.len(), *stored, "{spec}");
        assert!(p.client.is_closed(), "{spec}: client still open");
    }
}

#[test]
fn rcpt_two_refused_is_reported_per_recipient() {
    let p = run(
        plan(&["a@server.test", "b@server.test"]),
        ServerConfig {
            faults: faults(&["rcpt#2=550:5.1.1"]),
            ..server_cfg()
        },
    );
    let r = p.client.recipients();
    assert_eq!(r[0].status, RcptStatus::Accepted);
    assert_eq!(r[1].status, RcptStatus::PermFailed);
    assert_eq!(r[1].code, Some(550));
    assert_eq!(r[1].enhanced.as_deref(), Some("5.1.1"));
    assert_eq!(p.stored[0].rcpts, ["a@server.test"]);
}

#[test]
fn a_421_banner_ends_the_session_without_a_command() {
    let p = run(
        plan(&["a@server.test"]),
        ServerConfig {
            faults: faults(&["connect=421"]),
            ..server_cfg()
        },
    );
    assert_eq!(p.exit_code(), 21);
    assert!(p.s2c().starts_with("421 "), "{}", p.s2c());
    assert!(!p.c2s().contains("EHLO"), "{}", p.c2s());
}

#[test]
fn dot_stuffed_content_arrives_unstuffed_byte_exact() {
    let content: &[u8] = b"Subject: dots\r\n\r\n.\r\n..two\r\n.leading\r\nmid.dle\r\n. \r\nend\r\n";
    let mut pl = plan(&["a@server.test"]);
    pl.message = content.to_vec();
    let p = run(pl, server_cfg());
    assert_eq!(p.exit_code(), 0, "{:?}", p.client.outcome());
    assert!(
        p.c2s()
            .contains("\r\n\r\n..\r\n...two\r\n..leading\r\nmid.dle\r\n.. \r\nend\r\n.\r\n"),
        "stuffed on the wire: {}",
        p.c2s()
    );
    assert_eq!(p.stored[0].content, content);
    assert!(!p.stored[0].bare_newlines);
}

#[test]
fn bare_lf_content_is_normalised_before_it_leaves() {
    let mut pl = plan(&["a@server.test"]);
    pl.message = b"Subject: lf\n\n.dot\nline\n".to_vec();
    let p = run(pl, server_cfg());
    assert_eq!(p.exit_code(), 0, "{:?}", p.client.outcome());
    assert_eq!(p.stored[0].content, b"Subject: lf\r\n\r\n.dot\r\nline\r\n");
    assert!(!p.stored[0].bare_newlines);
}

#[test]
fn lmtp_gets_one_reply_per_accepted_recipient() {
    let mut pl = plan(&["a@server.test", "b@server.test", "c@server.test"]);
    pl.protocol = Protocol::Lmtp;
    let p = run(
        pl,
        ServerConfig {
            lmtp: true,
            faults: faults(&["rcpt#2=550:5.1.1"]),
            ..server_cfg()
        },
    );
    assert_eq!(p.exit_code(), 0, "{:?}", p.client.outcome());
    assert!(p.c2s().starts_with("LHLO client.test\r\n"), "{}", p.c2s());
    let dots: Vec<_> = p
        .client_replies()
        .into_iter()
        .filter(|(_, ph)| *ph == Phase::Dot)
        .collect();
    assert_eq!(dots, [(250, Phase::Dot), (250, Phase::Dot)]);
    assert_eq!(p.stored[0].rcpts, ["a@server.test", "c@server.test"]);
    assert!(p.c2s().ends_with("QUIT\r\n"));
}

#[test]
fn lmtp_per_recipient_dot_failure_counts_against_the_message() {
    let mut pl = plan(&["a@server.test"]);
    pl.protocol = Protocol::Lmtp;
    let p = run(
        pl,
        ServerConfig {
            lmtp: true,
            faults: faults(&["dot=552:5.2.2"]),
            ..server_cfg()
        },
    );
    assert_eq!(p.exit_code(), 26, "{:?}", p.client.outcome());
    let r = &p.client.recipients()[0];
    assert_eq!(r.status, RcptStatus::PermFailed);
    assert_eq!((r.code, r.enhanced.as_deref()), (Some(552), Some("5.2.2")));
}

#[test]
fn lmtp_delivery_verdicts_land_on_the_right_recipients() {
    // b is refused at RCPT, so the two delivery replies belong to a and c. (The server session
    // fails every LMTP delivery alike; mixed verdicts are covered end to end in tests/cli.)
    let mut pl = plan(&["a@server.test", "b@server.test", "c@server.test"]);
    pl.protocol = Protocol::Lmtp;
    let p = run(
        pl,
        ServerConfig {
            lmtp: true,
            faults: faults(&["rcpt#2=550:5.1.1", "dot=452:4.2.2"]),
            ..server_cfg()
        },
    );
    assert_eq!(p.exit_code(), 26, "{:?}", p.client.outcome());
    let got: Vec<(RcptStatus, Option<u16>)> = p
        .client
        .recipients()
        .iter()
        .map(|r| (r.status, r.code))
        .collect();
    assert_eq!(
        got,
        [
            (RcptStatus::TempFailed, Some(452)),
            (RcptStatus::PermFailed, Some(550)),
            (RcptStatus::TempFailed, Some(452)),
        ]
    );
}

#[test]
fn starttls_restarts_the_dialogue_and_forgets_the_first_ehlo() {
    let mut pl = plan(&["a@server.test"]);
    pl.starttls = StartTls::Required;
    let p = run(
        pl,
        ServerConfig {
            starttls: true,
            ..server_cfg()
        },
    );
    assert_eq!(p.exit_code(), 0, "{:?}", p.client.outcome());
    assert!(
        p.c2s()
            .starts_with("EHLO client.test\r\nSTARTTLS\r\nEHLO client.test\r\nMAIL FROM:"),
        "{}",
        p.c2s()
    );
    assert!(p.stored[0].tls);
    assert!(p.client.is_tls() && p.server.is_tls());
    assert!(
        p.client.capabilities().is_some_and(|c| !c.has("STARTTLS")),
        "post-TLS EHLO must not offer STARTTLS again"
    );
}

#[test]
fn required_starttls_the_server_does_not_offer_is_exit_29() {
    let mut pl = plan(&["a@server.test"]);
    pl.starttls = StartTls::Required;
    let p = run(pl, server_cfg());
    assert_eq!(p.exit_code(), 29, "{:?}", p.client.outcome());
    assert!(!p.c2s().contains("MAIL FROM"), "{}", p.c2s());
}

#[test]
fn ehlo_refused_falls_back_to_helo() {
    let p = run(
        plan(&["a@server.test"]),
        ServerConfig {
            faults: faults(&["helo#1=502"]),
            ..server_cfg()
        },
    );
    assert_eq!(p.exit_code(), 0, "{:?}", p.client.outcome());
    assert!(
        p.c2s()
            .starts_with("EHLO client.test\r\nHELO client.test\r\n"),
        "{}",
        p.c2s()
    );
}

#[test]
fn one_byte_at_a_time_both_ways_changes_nothing() {
    let whole = run(plan(&["a@server.test", "b@server.test"]), server_cfg());
    let mut p = Pair::new(plan(&["a@server.test", "b@server.test"]), server_cfg());
    p.chunk = 1;
    p.drive();
    assert_eq!(p.exit_code(), 0, "{:?}", p.client.outcome());
    assert_eq!(p.c2s, whole.c2s);
    assert_eq!(p.s2c, whole.s2c);
    assert_eq!(p.client_replies(), whole.client_replies());
    assert_eq!(p.stored, whole.stored);
}

#[test]
fn a_garbage_banner_is_exit_21_and_nothing_is_sent() {
    let mut cfg = server_cfg();
    cfg.faults.banner = crate::smtp::server::BannerMode::Garbage;
    let p = run(plan(&["a@server.test"]), cfg);
    assert_eq!(p.exit_code(), 21, "{:?}", p.client.outcome());
    assert!(!p.c2s().contains("EHLO"), "{}", p.c2s());
}

#[test]
fn a_silent_banner_leaves_the_client_waiting_for_the_drivers_timeout() {
    let mut cfg = server_cfg();
    cfg.faults.banner = crate::smtp::server::BannerMode::Silent;
    let p = run(plan(&["a@server.test"]), cfg);
    assert!(p.c2s.is_empty());
    assert!(!p.client.is_closed());
    assert_eq!(p.client.phase(), Phase::Banner);
    assert_eq!(
        Error::Timeout {
            phase: p.client.phase(),
            secs: 1.0,
            implicit_tls: false,
            handshake: false,
        }
        .exit_code(),
        21
    );
}

#[test]
fn bare_lf_replies_are_tolerated_and_reported() {
    let p = run(plan(&["a@server.test"]), with_faults(&["bare-lf"]));
    assert_eq!(p.exit_code(), 0, "{:?}", p.client.outcome());
    assert!(p.s2c().contains("250 ") && !p.s2c().contains('\r'));
    let bare = p.client_events.iter().any(|e| match e {
        Event::Received { reply, .. } => reply
            .deviations
            .iter()
            .any(|d| matches!(d, crate::smtp::event::Deviation::BareLf)),
        Event::Deviation { deviation, .. } => {
            matches!(deviation, crate::smtp::event::Deviation::BareLf)
        }
        _ => false,
    });
    assert!(bare, "{:?}", p.client_events);
    assert_eq!(p.stored.len(), 1);
}

#[test]
fn a_disconnect_in_the_middle_of_data_is_exit_6_and_nothing_is_stored() {
    let mut pl = plan(&["a@server.test"]);
    pl.message = b"Subject: cut\r\n\r\nfirst half\r\nsecond half\r\n".to_vec();
    let mut p = Pair::new(pl, server_cfg());
    // Everything up to and including DATA, then part of the content.
    let upto = "EHLO client.test\r\nMAIL FROM:<sender@client.test> SIZE=41\r\nRCPT TO:<a@server.test>\r\nDATA\r\nSubject: cut\r\n\r\nfirst".len();
    p.cut_after = Some(upto);
    p.drive();
    assert!(p.c2s().ends_with("first"), "{}", p.c2s());
    assert_eq!(p.exit_code(), 6, "{:?}", p.client.outcome());
    assert!(p.stored.is_empty());
    assert!(p.server.is_closed() && p.client.is_closed());
}

#[test]
fn a_drop_after_the_content_is_exit_6() {
    let p = run(plan(&["a@server.test"]), with_faults(&["dot=drop"]));
    assert_eq!(p.exit_code(), 6, "{:?}", p.client.outcome());
    assert_eq!(p.client.message_accepted(), None);
}
