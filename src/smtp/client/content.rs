//! The content in the client session: DATA or BDAT chunks (RFC 3030), the replies after the final
//! dot (LMTP one per recipient, RFC 2033 §4.2; PRDR).

use crate::smtp::command::Command;
use crate::smtp::data;
use crate::smtp::event::{Phase, RcptStatus, SentKind};
use crate::smtp::outbox::Form;
use crate::smtp::reply::Reply;

use super::{Ending, Expect, Protocol, Session, SessionError, StopAt};

/// How many BDAT chunks may wait for their replies at once when the session pipelines
/// (RFC 3030 §4.2 lets a client send chunks without waiting for each 250, RFC 2920). Bounded so
/// the server's replies to chunks not yet read (a few dozen octets each) always fit its socket
/// buffer: a server that cannot write a reply stops reading, and a client that writes without
/// reading would then wait on it for ever (RFC 2920 §3.1 asks clients not to deadlock so).
pub(super) const CHUNK_WINDOW: usize = 16;

/// The BDAT content still to send (RFC 3030 §2): the encoded message, held once, shared, and
/// cut into chunks as they go; each chunk is written from it, not copied. (A `Vec` per chunk,
/// made up front, cost about 90 bytes a chunk: gigabytes for a large message under `--bdat 1`.)
#[derive(Debug, Default)]
pub(super) struct Chunks {
    body: std::sync::Arc<Vec<u8>>,
    size: usize,
    /// Where the next chunk starts.
    at: usize,
    /// A chunk is still to go (an empty message is one empty `BDAT 0 LAST`).
    left: bool,
    /// Chunks sent whose reply has not come yet.
    in_flight: usize,
    /// Chunks answered so far (counted as their replies are read).
    pub(super) answered: usize,
    /// How many chunks the message makes.
    total: usize,
}

impl Chunks {
    /// `body` in chunks of `size` octets (0: one chunk).
    fn new(body: Vec<u8>, size: usize) -> Chunks {
        let size = if size == 0 { body.len().max(1) } else { size };
        let body_len = body.len();
        Chunks {
            body: std::sync::Arc::new(body),
            size,
            at: 0,
            left: true,
            in_flight: 0,
            answered: 0,
            total: body_len.div_ceil(size).max(1),
        }
    }

    /// The next chunk (its range in the body) and whether it is the last; `None` once the last
    /// is out.
    fn next_chunk(&mut self) -> Option<(std::ops::Range<usize>, bool)> {
        if !self.left {
            return None;
        }
        let start = self.at;
        let end = self.body.len().min(start.saturating_add(self.size));
        self.at = end;
        self.left = end < self.body.len();
        Some((start..end, !self.left))
    }

    /// How many chunks the message makes.
    pub(super) fn count(&self) -> usize {
        self.total
    }

    /// Send no more chunks.
    pub(super) fn clear(&mut self) {
        self.left = false;
        self.body = std::sync::Arc::default();
    }
}

impl Session {
    // ----- CHUNKING (RFC 3030) --------------------------------------------------------------

    /// Are BDAT chunks sent without waiting for each reply? Only when the session pipelines
    /// (`--pipeline` and PIPELINING offered) and CHUNKING is offered: under `--force-ext` a
    /// server without it would take the content for commands.
    fn pipelines_chunks(&self) -> bool {
        self.pipelining && self.caps.as_ref().is_some_and(|c| c.has("CHUNKING"))
    }

    /// Can the first chunks follow MAIL and RCPT in the same pipelined group, before their
    /// replies (RFC 3030 §4.2's example)? Not when what follows the last chunk depends on
    /// which recipients were accepted: LMTP gives one reply per accepted recipient (RFC 2033
    /// §4.2), PRDR one per accepted recipient after its 353.
    pub(super) fn chunks_with_envelope(&self) -> bool {
        self.pipelines_chunks() && self.plan.protocol != Protocol::Lmtp && !self.prdr_used
    }

    /// The message's length as BDAT sends it, counted once (without making its bytes) for
    /// `SIZE=` and the BDAT line alike.
    pub(super) fn chunked_len(&mut self) -> usize {
        *(self.chunked_len)
            .get_or_insert_with(|| data::encoded_chunked_len(&self.message, self.plan.fixup))
    }

    /// Start the content by BDAT: a message of one chunk is queued as content (encoded only
    /// as it is written, as DATA's is: held as given plus once encoded); a longer one is
    /// encoded once and its chunks are written from that. Either way the message is encoded
    /// once: its length is counted, not encoded (it used to be encoded for `SIZE=`, again for
    /// the length, and a third time as the one chunk was written).
    pub(super) fn begin_bdat(&mut self, chunk: usize) {
        self.bdat_begun = true;
        let len = self.chunked_len();
        if chunk == 0 || chunk >= len {
            self.chunks = Chunks::default();
            self.send_bdat_line(len, true);
            if len > 0 {
                self.out.send_content(
                    &self.message,
                    self.plan.fixup,
                    Form::Bdat,
                    Phase::Dot,
                    self.tls,
                );
            }
            self.after_last_chunk();
            return;
        }
        let body = data::encode_chunked(&self.message, self.plan.fixup);
        debug_assert_eq!(body.len(), len);
        self.chunks = Chunks::new(body, chunk);
        self.send_chunks();
    }

    /// Send chunks while the window allows (one at a time unless chunks are pipelined).
    fn send_chunks(&mut self) {
        let window = if self.pipelines_chunks() {
            CHUNK_WINDOW
        } else {
            1
        };
        while self.chunks.in_flight < window && !self.finishing() {
            let Some((range, last)) = self.chunks.next_chunk() else {
                return;
            };
            self.chunks.in_flight += 1;
            self.send_bdat_line(range.len(), last);
            if !range.is_empty() {
                let body = std::sync::Arc::clone(&self.chunks.body);
                self.out.send_shared(&body, range, Phase::Dot, self.tls);
            }
            if last {
                self.chunks.clear();
                self.after_last_chunk();
                return;
            }
            self.expect_reply(Expect::Bdat);
        }
    }

    /// `BDAT n [LAST]`: the chunk follows in the same write, no dot-stuffing (RFC 3030 §2).
    fn send_bdat_line(&mut self, size: usize, last: bool) {
        let wire = Command::Bdat { size, last }.encode();
        let text = String::from_utf8_lossy(&wire)
            .trim_end_matches("\r\n")
            .to_string();
        self.out
            .send(&wire, text, SentKind::Command, Phase::Dot, false, self.tls);
    }

    fn after_last_chunk(&mut self) {
        self.expect_end_of_content();
        self.drop_after_send(StopAt::Dot);
    }

    pub(super) fn on_bdat(&mut self, reply: Reply) {
        self.chunks.in_flight = self.chunks.in_flight.saturating_sub(1);
        if !Expect::Bdat.wants(reply.code) {
            // RFC 3030 §2: after a refused chunk no more are sent and the message is failed;
            // the chunks already on their way are answered (with errors) before QUIT is.
            let n = self.chunks.answered;
            let total = self.chunks.count();
            let after = self
                .pending
                .iter()
                .filter(|e| matches!(e, Expect::Bdat))
                .count()
                + usize::from(
                    self.pending
                        .iter()
                        .any(|e| matches!(e, Expect::Dot(_) | Expect::PrdrStart)),
                );
            if after > 0 {
                self.out.info(format!(
                    "BDAT chunk {n} of {total} was refused: no more chunks are sent; the \
                     replies to the {after} already sent after it follow, and the message is \
                     not accepted whatever they say (RFC 3030 §2)"
                ));
            }
            self.message_accepted = Some(false);
            self.chunks.clear();
            // LMTP: once BDAT LAST is out, each accepted recipient awaits its own reply
            // (`expect_end_of_content`). A refused chunk fails the message for all of them,
            // so that refusal is their last word, not a missing reply: each is refused with it.
            for i in std::mem::take(&mut self.dot_targets) {
                if let Some(r) = self.rcpt_results.get_mut(i)
                    && r.status == RcptStatus::NoDeliveryReply
                {
                    r.delivery(&reply, false);
                }
            }
            self.fail(SessionError::UnexpectedReply {
                phase: Phase::Dot,
                expected: "250",
                verb: None,
                reply: Box::new(reply),
            });
            return;
        }
        self.send_chunks();
    }

    /// What follows the content: one reply; LMTP one per accepted recipient (RFC 2033 §4.2);
    /// PRDR a 353 and then one per accepted recipient and a final one.
    pub(super) fn expect_end_of_content(&mut self) {
        let accepted: Vec<usize> = (0..self.rcpt_results.len())
            .filter(|&i| self.rcpt_results[i].status == RcptStatus::Accepted)
            .collect();
        if self.plan.protocol == Protocol::Lmtp {
            let n = accepted.len().max(1);
            for &i in &accepted {
                self.rcpt_results[i].awaiting_delivery();
            }
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
            self.rcpt_results[i].awaiting_delivery();
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
        self.out.send_content(
            &self.message,
            self.plan.fixup,
            Form::Data,
            Phase::Dot,
            self.tls,
        );
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
            std::iter::from_fn(|| c.next_chunk().map(|(r, last)| (c.body[r].to_vec(), last)))
                .collect::<Vec<_>>()
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
        assert_eq!(Chunks::new(b"abcdefg".to_vec(), 3).count(), 3);
        assert_eq!(Chunks::new(b"abcdef".to_vec(), 3).count(), 2);
        assert_eq!(Chunks::new(Vec::new(), 0).count(), 1);
        let mut c = Chunks::new(b"abcdef".to_vec(), 2);
        assert!(c.next_chunk().is_some());
        c.clear();
        assert_eq!(c.next_chunk(), None);
    }
}
