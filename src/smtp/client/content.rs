//! The content in the client session: DATA or BDAT chunks (RFC 3030), the replies after the final
//! dot (LMTP one per recipient, RFC 2033 §4.2; PRDR).

use crate::smtp::command::Command;
use crate::smtp::data;
use crate::smtp::event::{Phase, RcptStatus, SentKind};
use crate::smtp::reply::Reply;

use super::{Ending, Expect, Protocol, Session, SessionError, StopAt};

/// The BDAT content still to send (RFC 3030 §2): the encoded message, held once and cut into
/// chunks as they go. (A `Vec` per chunk, made up front, cost about 90 bytes a chunk: gigabytes
/// for a large message under `--bdat 1`.)
#[derive(Debug, Default)]
pub(super) struct Chunks {
    body: Vec<u8>,
    size: usize,
    /// Where the next chunk starts.
    at: usize,
    /// A chunk is still to go (an empty message is one empty `BDAT 0 LAST`).
    left: bool,
}

impl Chunks {
    /// `body` in chunks of `size` octets (0: one chunk).
    fn new(body: Vec<u8>, size: usize) -> Chunks {
        let size = if size == 0 { body.len().max(1) } else { size };
        Chunks {
            body,
            size,
            at: 0,
            left: true,
        }
    }

    /// The next chunk and whether it is the last; `None` once the last is out.
    fn next_chunk(&mut self) -> Option<(Vec<u8>, bool)> {
        if !self.left {
            return None;
        }
        let end = self.body.len().min(self.at.saturating_add(self.size));
        let chunk = self.body[self.at..end].to_vec();
        self.at = end;
        self.left = end < self.body.len();
        Some((chunk, !self.left))
    }

    /// Send no more chunks.
    pub(super) fn clear(&mut self) {
        *self = Chunks::default();
    }
}

impl Session {
    // ----- CHUNKING (RFC 3030) --------------------------------------------------------------

    pub(super) fn begin_bdat(&mut self, chunk: usize) {
        let body = data::encode_chunked(&self.message, self.plan.fixup);
        self.chunks = Chunks::new(body, chunk);
        self.send_chunk();
    }

    /// `BDAT n [LAST]` and the chunk in one write, no dot-stuffing (RFC 3030 §2).
    pub(super) fn send_chunk(&mut self) {
        let Some((chunk, last)) = self.chunks.next_chunk() else {
            return;
        };
        let phase = Phase::Dot;
        let cmd = Command::Bdat {
            size: chunk.len(),
            last,
        };
        let wire = cmd.encode();
        let text = String::from_utf8_lossy(&wire)
            .trim_end_matches("\r\n")
            .to_string();
        self.out
            .send(&wire, text, SentKind::Command, phase, false, self.tls);
        if !chunk.is_empty() {
            let display = String::from_utf8_lossy(&chunk)
                .trim_end_matches("\r\n")
                .to_string();
            self.out
                .send(&chunk, display, SentKind::Body, phase, false, self.tls);
        }
        if last {
            self.expect_end_of_content();
            self.drop_after_send(StopAt::Dot);
        } else {
            self.expect_reply(Expect::Bdat);
        }
    }

    pub(super) fn on_bdat(&mut self, reply: Reply) {
        if !Expect::Bdat.wants(reply.code) {
            self.message_accepted = Some(false);
            self.chunks.clear();
            self.fail(SessionError::UnexpectedReply {
                phase: Phase::Dot,
                expected: "250",
                verb: None,
                reply: Box::new(reply),
            });
            return;
        }
        self.send_chunk();
    }

    /// What follows the content: one reply; LMTP one per accepted recipient (RFC 2033 §4.2);
    /// PRDR a 353 and then one per accepted recipient and a final one.
    pub(super) fn expect_end_of_content(&mut self) {
        let accepted: Vec<usize> = (0..self.rcpt_results.len())
            .filter(|&i| self.rcpt_results[i].status == RcptStatus::Accepted)
            .collect();
        if self.plan.protocol == Protocol::Lmtp {
            let n = accepted.len().max(1);
            self.dot_targets = accepted;
            self.expect_reply(Expect::Dot(n));
        } else if self.prdr_used {
            self.dot_targets = accepted;
            self.expect_reply(Expect::PrdrStart);
        } else {
            self.expect_reply(Expect::Dot(1));
        }
    }

    // ----- PRDR (draft-hall-prdr §4) --------------------------------------------------------

    pub(super) fn on_prdr_start(&mut self, reply: Reply) {
        if reply.code != Some(353) {
            // The server declined per-recipient replies: this is the final one.
            self.out
                .info("no 353 after the content: the server gives one reply for all recipients");
            self.on_dot(reply, 1);
            return;
        }
        let targets = self.dot_targets.clone();
        for i in targets {
            self.pending.push_back(Expect::PrdrRcpt(i));
        }
        self.pending.push_back(Expect::Dot(1));
    }

    /// Record recipient `n`'s reply after the content (LMTP, PRDR): in `data_*`, and as the
    /// recipient's status, code and text, since the delivery verdict is the final word on it.
    pub(super) fn record_data_reply(&mut self, n: usize, reply: &Reply) {
        let delivered = Expect::PrdrRcpt(n).wants(reply.code);
        if let Some(r) = self.rcpt_results.get_mut(n) {
            r.delivery(reply, delivered);
        }
    }

    pub(super) fn accepted_count(&self) -> usize {
        self.rcpt_results
            .iter()
            .filter(|r| r.status == RcptStatus::Accepted)
            .count()
    }

    pub(super) fn on_data(&mut self, reply: Reply) {
        if reply.code != Some(354) {
            let e = SessionError::UnexpectedReply {
                phase: Phase::Data,
                expected: "354",
                verb: None,
                reply: Box::new(reply),
            };
            self.fail(e);
            return;
        }
        if self.error.is_some() {
            // Pipelined DATA got 354 although no recipient was accepted: end the (empty)
            // message at once, as RFC 2920 §3.1 asks, and leave.
            self.out.send(
                b".\r\n",
                ".".into(),
                SentKind::Body,
                Phase::Dot,
                false,
                self.tls,
            );
            self.expect_reply(Expect::Dot(1));
            self.ending = Ending::Finishing;
            self.send_command(&Command::Quit, Phase::Quit, Expect::Quit);
            return;
        }
        if self.stop_here(StopAt::Data) {
            return;
        }
        self.out
            .send_content(&self.message, self.plan.fixup, Phase::Dot, self.tls);
        self.expect_end_of_content();
        self.drop_after_send(StopAt::Dot);
    }

    pub(super) fn on_dot(&mut self, reply: Reply, left: usize) {
        let ok = Expect::Dot(left).wants(reply.code);
        let lmtp = self.plan.protocol == Protocol::Lmtp && !self.dot_targets.is_empty();
        // LMTP (RFC 2033 §4.2): this reply is the delivery verdict for one accepted recipient,
        // in RCPT order; record it there so the summary says who did not get the message. Any
        // refused delivery fails the end-of-data phase (26).
        if lmtp
            && let Some(&n) = self
                .dot_targets
                .len()
                .checked_sub(left)
                .and_then(|k| self.dot_targets.get(k))
        {
            self.record_data_reply(n, &reply);
        }
        self.message_accepted = Some(self.message_accepted.unwrap_or(true) && ok);
        if !ok {
            self.set_error(SessionError::UnexpectedReply {
                phase: Phase::Dot,
                expected: "250",
                verb: None,
                reply: Box::new(reply),
            });
        }
        if left > 1 {
            self.pending.push_front(Expect::Dot(left - 1));
            return;
        }
        if self.stop_here(StopAt::Dot) {
            return;
        }
        self.quit();
    }
}

#[cfg(test)]
mod tests {
    use super::Chunks;

    /// Chunks are cut as they go: every size, the last one marked, an empty message one empty
    /// last chunk, nothing after `clear`.
    #[test]
    fn chunks_cover_the_body_once_and_mark_the_last() {
        let cut = |body: &[u8], size| {
            let mut c = Chunks::new(body.to_vec(), size);
            std::iter::from_fn(|| c.next_chunk()).collect::<Vec<_>>()
        };
        assert_eq!(
            cut(b"abcdefg", 3),
            [
                (b"abc".to_vec(), false),
                (b"def".to_vec(), false),
                (b"g".to_vec(), true)
            ]
        );
        assert_eq!(cut(b"abcdef", 3).last(), Some(&(b"def".to_vec(), true)));
        assert_eq!(cut(b"abc", 0), [(b"abc".to_vec(), true)]);
        assert_eq!(cut(b"abc", usize::MAX), [(b"abc".to_vec(), true)]);
        assert_eq!(cut(b"", 0), [(Vec::new(), true)]);
        assert_eq!(cut(b"", 5), [(Vec::new(), true)]);
        let mut c = Chunks::new(b"abcdef".to_vec(), 2);
        assert!(c.next_chunk().is_some());
        c.clear();
        assert_eq!(c.next_chunk(), None);
    }
}
