//! Hostile input, generated: random mixes of reply fragments, line ends and garbage fed in random pieces must never panic the session, and its one read buffer must stay bounded.

use super::*;
use crate::smtp::auth::{Credentials, Secret};
use crate::smtp::rng::Rng;

const PIECES: &[&[u8]] = &[
    b"220 ok\r\n",
    b"220-multi\r\n",
    b"250-PIPELINING\r\n",
    b"250-STARTTLS\r\n",
    b"250-AUTH PLAIN LOGIN CRAM-MD5 SCRAM-SHA-256\r\n",
    b"250 2.1.0 ok\r\n",
    b"251-mixed\r\n",
    b"334 \r\n",
    b"334 VXNlcm5hbWU6\r\n",
    b"334 !!notbase64\r\n",
    b"354 go\r\n",
    b"421 4.3.2 bye\r\n",
    b"452 4.5.3 full\r\n",
    b"550 5.1.1 no\r\n",
    b"999 odd\r\n",
    b"\r\n",
    b"\n",
    b"\r",
    b"garbage without a code",
    b"\x00\xff\xfe\x16\x03\x01",
    b"2",
    b"25",
    b"250",
    b"-",
    b" ",
];

fn random_bytes(rng: &mut Rng) -> Vec<u8> {
    let mut v = Vec::new();
    for _ in 0..rng.below(40) {
        if rng.below(50) == 0 {
            // Now and then a very long line with no end.
            v.extend(std::iter::repeat_n(b'A', 20_000 + rng.below(20_000)));
        } else {
            v.extend_from_slice(PIECES[rng.below(PIECES.len())]);
        }
    }
    v
}

#[test]
fn random_replies_never_panic_and_the_buffer_stays_bounded() {
    let mut rng = Rng::new(0x9E37_79B9_7F4A_7C15);
    for round in 0..400 {
        let mut plan = Plan {
            helo: "client.test".into(),
            from: "a@client.test".into(),
            rcpts: vec!["b@server.test".into(), "c@server.test".into()],
            message: b"Subject: x\n\n.body\n".to_vec(),
            pipeline: round % 2 == 0,
            ..Plan::default()
        };
        if round % 3 == 0 {
            plan.starttls = StartTls::Optional;
        }
        if round % 4 == 0 {
            plan.auth = Some(AuthPlan {
                credentials: Credentials {
                    user: "u".into(),
                    password: Some(Secret::new("p")),
                    nonce: Some("fixed-test-nonce".into()),
                    ..Credentials::default()
                },
                allow_plaintext: true,
                ..AuthPlan::default()
            });
        }
        let mut s = Session::new(plan);
        let input = random_bytes(&mut rng);
        let mut at = 0;
        while at < input.len() && !s.is_closed() {
            let n = 1 + rng.below(64);
            let end = (at + n).min(input.len());
            s.feed(&input[at..end]);
            at = end;
            while s.poll_transmit().is_some() {}
            while s.poll_event().is_some() {}
            if s.poll_action() == Some(Action::StartTls) {
                s.tls_established();
            }
            assert!(
                s.buf.len() <= 64 + Limits::default().max_line,
                "round {round}: read buffer grew to {}",
                s.buf.len()
            );
        }
        s.feed_eof();
        assert!(s.is_closed(), "round {round}: EOF always ends the session");
        let _ = s.outcome();
    }
}
