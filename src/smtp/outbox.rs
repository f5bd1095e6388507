//! The outbox of a sans-IO session: the bytes it wants written and the events it saw, in order,
//! and how it reports what it writes (one [`Event::Sent`] per write, plus the raw bytes for
//! `--show-raw-text` with a secret's bytes replaced by their masked display form). One type for
//! the planned client session and the REPL's manual session, so both queue and mask alike.

use std::collections::VecDeque;
use std::ops::Range;
use std::sync::Arc;

use crate::smtp::codes::Hint;
use crate::smtp::data;
use crate::smtp::event::{Bytes, Event, Phase, SentKind};

/// One write, as the session describes it.
struct Outgoing<'a> {
    /// Bytes on the wire.
    wire: &'a [u8],
    /// What the transcript shows (secrets already masked).
    display: String,
    /// What kind of bytes.
    kind: SentKind,
    /// Phase it belongs to.
    phase: Phase,
    /// Did masking hide a secret in `display`?
    redacted: bool,
    /// Over TLS?
    tls: bool,
}

/// How a message queued with [`Outbox::send_content`] is encoded for the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Form {
    /// After DATA: dot-stuffed, with its end marker ([`data::encode`]).
    Data,
    /// One BDAT chunk that is the whole message: no stuffing, no end marker
    /// ([`data::encode_chunked`]).
    Bdat,
}

impl Form {
    fn encode_into(self, out: &mut Vec<u8>, message: &[u8], fixup: data::Fixup) {
        match self {
            Form::Data => data::encode_into(out, message, fixup),
            Form::Bdat => data::encode_chunked_into(out, message, fixup),
        }
    }

    fn encode(self, message: &[u8], fixup: data::Fixup) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_into(&mut out, message, fixup);
        out
    }
}

/// A slice of a shared buffer this long or longer is handed to the driver as it is (see
/// [`Transmit`]); a shorter one is copied into the write buffer, so small pipelined chunks
/// still leave together in one write.
const SHARED_MIN: usize = 64 * 1024;

/// The bytes of an event made when it is handed out.
#[derive(Debug)]
enum Lazy {
    /// A `RawSent`: the message encoded.
    Content(Arc<Vec<u8>>, data::Fixup, Form),
    /// A `Sent`'s text: the slice as text.
    Text(Arc<Vec<u8>>, Range<usize>),
    /// A `RawSent`: the slice.
    Raw(Arc<Vec<u8>>, Range<usize>),
}

/// One queued piece of the bytes to write.
#[derive(Debug)]
enum Segment {
    /// Bytes as given.
    Bytes(Vec<u8>),
    /// A message, encoded only when handed to the driver.
    Content(Arc<Vec<u8>>, data::Fixup, Form),
    /// Part of a buffer the session keeps (a BDAT chunk of the encoded message).
    Shared(Arc<Vec<u8>>, Range<usize>),
}

/// The bytes of one step to write, in order: buffers of their own and slices of buffers the
/// session shares (a BDAT chunk, written from the encoded message rather than copied).
#[derive(Debug, Default)]
pub(crate) struct Transmit {
    parts: Vec<Part>,
}

#[derive(Debug)]
enum Part {
    Owned(Vec<u8>),
    Shared(Arc<Vec<u8>>, Range<usize>),
}

impl Transmit {
    /// The pieces to write, in order.
    pub(crate) fn parts(&self) -> impl Iterator<Item = &[u8]> {
        self.parts.iter().map(|p| match p {
            Part::Owned(v) => v.as_slice(),
            Part::Shared(b, r) => &b[r.clone()],
        })
    }

    /// All the bytes in one buffer (a copy of the shared slices).
    pub(crate) fn into_bytes(self) -> Vec<u8> {
        let mut parts = self.parts.into_iter();
        let mut out = match parts.next() {
            Some(Part::Owned(v)) => v,
            Some(Part::Shared(b, r)) => b[r].to_vec(),
            None => return Vec::new(),
        };
        for p in parts {
            match p {
                Part::Owned(v) => out.extend_from_slice(&v),
                Part::Shared(b, r) => out.extend_from_slice(&b[r]),
            }
        }
        out
    }
}

/// What a session wants written and what it has to say, drained by the driver
/// (`poll_transmit`, `poll_event`).
#[derive(Debug)]
pub(crate) struct Outbox {
    /// Bytes not yet handed to the driver, in order: pipelined commands leave together.
    queue: Vec<Segment>,
    events: VecDeque<Event>,
    /// Events handed out so far (numbers the queue's events).
    polled: u64,
    /// Events whose bytes are made only when they are handed out (by event number, in order):
    /// the `RawSent` of a message queued with [`Outbox::send_content`], encoded once the `Sent`
    /// before it (whose text is the same bytes) has been shown and dropped; the `Sent` and
    /// `RawSent` of a shared chunk, copied from it then. So a window of pipelined chunks is
    /// never held as text all at once.
    lazy: VecDeque<(u64, Lazy)>,
    /// Emit `RawSent` events (for `--show-raw-text`).
    raw_events: bool,
    /// Phase of the last write (for a timeout while no reply is pending).
    last_phase: Phase,
    /// Writes queued so far (did an input send anything at all?).
    writes: u64,
}

impl Outbox {
    /// An empty outbox; `raw_events` adds a `RawSent` to every write.
    pub(crate) fn new(raw_events: bool) -> Outbox {
        Outbox {
            queue: Vec::new(),
            events: VecDeque::new(),
            polled: 0,
            lazy: VecDeque::new(),
            raw_events,
            last_phase: Phase::Banner,
            writes: 0,
        }
    }

    /// Queue bytes to write, after what is queued.
    fn queue_bytes(&mut self, wire: &[u8]) {
        match self.queue.last_mut() {
            Some(Segment::Bytes(b)) => b.extend_from_slice(wire),
            _ => self.queue.push(Segment::Bytes(wire.to_vec())),
        }
    }

    /// Queue one write and report it (`Sent`, and `RawSent` when asked for). `display` is what
    /// the transcript shows (secrets masked, `redacted` when that hid one).
    pub(crate) fn send(
        &mut self,
        wire: &[u8],
        display: String,
        kind: SentKind,
        phase: Phase,
        redacted: bool,
        tls: bool,
    ) {
        self.queue_bytes(wire);
        self.report(wire, display, kind, phase, redacted, tls);
    }

    /// Queue `body[range]` as one write of content (a BDAT chunk) and report it as
    /// [`Outbox::send`] does; a long slice is written from `body` itself, not copied (see
    /// [`Outbox::poll_transmit_parts`]).
    pub(crate) fn send_shared(
        &mut self,
        body: &Arc<Vec<u8>>,
        range: Range<usize>,
        phase: Phase,
        tls: bool,
    ) {
        let wire = &body[range.clone()];
        let lines = data::count_lines(wire);
        if wire.len() < SHARED_MIN {
            self.queue_bytes(wire);
        } else {
            self.queue
                .push(Segment::Shared(Arc::clone(body), range.clone()));
        }
        self.count_write(SentKind::Body, phase);
        let at = self.polled + self.events.len() as u64;
        self.events.push_back(Event::Sent {
            text: String::new(),
            kind: SentKind::Body,
            bytes: range.len(),
            lines,
            tls,
            expected: true,
            redacted: false,
            phase,
        });
        self.lazy
            .push_back((at, Lazy::Text(Arc::clone(body), range.clone())));
        if self.raw_events {
            self.events.push_back(Event::RawSent {
                bytes: Bytes(Vec::new()),
            });
            self.lazy
                .push_back((at + 1, Lazy::Raw(Arc::clone(body), range)));
        }
    }

    /// Count one queued write of `kind` in `phase` ([`Outbox::writes`], [`Outbox::last_phase`]).
    fn count_write(&mut self, kind: SentKind, phase: Phase) {
        // A PROXY header precedes the dialogue: it is no command's phase.
        if kind != SentKind::Proxy {
            self.last_phase = phase;
        }
        self.writes = self.writes.wrapping_add(1);
    }

    fn report(
        &mut self,
        wire: &[u8],
        display: String,
        kind: SentKind,
        phase: Phase,
        redacted: bool,
        tls: bool,
    ) {
        self.count_write(kind, phase);
        let out = Outgoing {
            wire,
            display,
            kind,
            phase,
            redacted,
            tls,
        };
        report(out, self.raw_events, &mut self.events);
    }

    /// Queue a message's content (`message` encoded with `fixup` in `form`, see
    /// [`data::encode`] and [`data::encode_chunked`]) and report it as [`Outbox::send`] does.
    /// The encoded bytes become the transcript's text without a copy (when they are UTF-8)
    /// and are encoded again, the same way, for the `RawSent` event when it is handed out and
    /// for the wire when [`Outbox::poll_transmit`] hands it to the driver: a large message is
    /// held as given plus once encoded, not three or four times.
    pub(crate) fn send_content(
        &mut self,
        message: &Arc<Vec<u8>>,
        fixup: data::Fixup,
        form: Form,
        phase: Phase,
        tls: bool,
    ) {
        let wire = form.encode(message, fixup);
        self.count_write(SentKind::Body, phase);
        let bytes = wire.len();
        let lines = data::count_lines(&wire);
        let text = display_text(wire);
        self.queue
            .push(Segment::Content(Arc::clone(message), fixup, form));
        self.events.push_back(Event::Sent {
            text,
            kind: SentKind::Body,
            bytes,
            lines,
            tls,
            expected: true,
            redacted: false,
            phase,
        });
        if self.raw_events {
            let at = self.polled + self.events.len() as u64;
            self.lazy
                .push_back((at, Lazy::Content(Arc::clone(message), fixup, form)));
            self.events.push_back(Event::RawSent {
                bytes: Bytes(Vec::new()),
            });
        }
    }

    /// Cancel a SASL exchange: a lone `*` line (RFC 4954 §4).
    pub(crate) fn cancel_auth(&mut self, tls: bool) {
        self.send(
            b"*\r\n",
            "*".into(),
            SentKind::Auth,
            Phase::Auth,
            false,
            tls,
        );
    }

    /// The phase of the last write (a command's, not a PROXY header's).
    pub(crate) fn last_phase(&self) -> Phase {
        self.last_phase
    }

    /// How many writes were queued so far.
    pub(crate) fn writes(&self) -> u64 {
        self.writes
    }

    /// Queue an event.
    pub(crate) fn push(&mut self, ev: Event) {
        self.events.push_back(ev);
    }

    /// Queue an informational message that names no remedy.
    pub(crate) fn info(&mut self, message: impl Into<String>) {
        self.push(Event::info(message));
    }

    /// Queue an informational message whose remedies the front end words.
    pub(crate) fn note(&mut self, message: Hint) {
        self.push(Event::Info { message });
    }

    /// Queue a warning that names no remedy.
    pub(crate) fn warn(&mut self, message: impl Into<String>) {
        self.push(Event::warning(message));
    }

    /// Queue a warning that advises something: its remedies (`⟨name⟩` in a composed text, see
    /// [`Hint::new`]) are worded by the front end that shows it.
    pub(crate) fn advise(&mut self, message: Hint) {
        self.push(Event::Warning { message });
    }

    /// Queue an error.
    pub(crate) fn error(&mut self, message: impl Into<String>) {
        self.push(Event::Error {
            message: message.into(),
        });
    }

    /// Bytes to write, if any: everything queued so far, in one buffer.
    pub(crate) fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.poll_transmit_parts().map(Transmit::into_bytes)
    }

    /// Bytes to write, if any: everything queued so far, a queued message encoded now, and
    /// a long BDAT chunk as a slice of the session's buffer (the driver writes the parts in
    /// order), so no chunk is copied on its way out.
    pub(crate) fn poll_transmit_parts(&mut self) -> Option<Transmit> {
        let mut parts: Vec<Part> = Vec::new();
        for seg in std::mem::take(&mut self.queue) {
            match seg {
                Segment::Shared(body, range) => parts.push(Part::Shared(body, range)),
                Segment::Bytes(b) => match parts.last_mut() {
                    Some(Part::Owned(v)) => v.extend_from_slice(&b),
                    _ => parts.push(Part::Owned(b)),
                },
                Segment::Content(message, fixup, form) => {
                    if !matches!(parts.last(), Some(Part::Owned(_))) {
                        parts.push(Part::Owned(Vec::new()));
                    }
                    if let Some(Part::Owned(v)) = parts.last_mut() {
                        form.encode_into(v, &message, fixup);
                    }
                }
            }
        }
        parts.retain(|p| !matches!(p, Part::Owned(v) if v.is_empty()));
        (!parts.is_empty()).then_some(Transmit { parts })
    }

    /// Next event, if any.
    pub(crate) fn poll_event(&mut self) -> Option<Event> {
        let mut ev = self.events.pop_front()?;
        let n = self.polled;
        self.polled += 1;
        if self.lazy.front().is_some_and(|(at, _)| *at == n)
            && let Some((_, lazy)) = self.lazy.pop_front()
        {
            match (&mut ev, lazy) {
                (Event::RawSent { bytes }, Lazy::Content(message, fixup, form)) => {
                    bytes.0 = form.encode(&message, fixup);
                }
                (Event::RawSent { bytes }, Lazy::Raw(body, range)) => {
                    bytes.0 = body[range].to_vec();
                }
                (Event::Sent { text, .. }, Lazy::Text(body, range)) => {
                    *text = display_text(body[range].to_vec());
                }
                _ => {}
            }
        }
        Some(ev)
    }
}

/// The transcript's text of a write: its bytes as text, without the final line end(s); the
/// bytes themselves when they are UTF-8 (no copy), else each byte that is not as `\xNN`, as
/// a reply's text shows it ([`crate::smtp::reply::text_of`]): a Latin-1 `é` in a message
/// went into the transcript and the JSON `sent` text as U+FFFD, the byte sent lost.
pub(crate) fn display_text(wire: Vec<u8>) -> String {
    let mut text = match String::from_utf8(wire) {
        Ok(text) => text,
        Err(e) => crate::smtp::reply::text_of(e.as_bytes()).into_owned(),
    };
    let shown = text.trim_end_matches("\r\n").len();
    text.truncate(shown);
    text
}

/// Queue the events for one write: `Sent`, and `RawSent` when `raw_events` is on.
fn report(out: Outgoing<'_>, raw_events: bool, events: &mut VecDeque<Event>) {
    let lines = match out.kind {
        SentKind::Body => data::count_lines(out.wire),
        _ => 1,
    };
    // A masked write is described by what is shown, never by the wire: neither the raw dump
    // nor the byte count may tell the secret (its length included). `:raw` text carries its own
    // line ends; every other write is a line that goes out with CRLF.
    let shown = out.redacted.then(|| {
        let mut d = out.display.clone().into_bytes();
        if out.kind != SentKind::Raw {
            d.extend_from_slice(b"\r\n");
        }
        d
    });
    let bytes = shown.as_ref().map_or(out.wire.len(), Vec::len);
    let raw = raw_events.then(|| shown.unwrap_or_else(|| out.wire.to_vec()));
    events.push_back(Event::Sent {
        text: out.display,
        kind: out.kind,
        bytes,
        lines,
        tls: out.tls,
        expected: true,
        redacted: out.redacted,
        phase: out.phase,
    });
    if let Some(raw) = raw {
        events.push_back(Event::RawSent { bytes: Bytes(raw) });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent_bytes(ob: &mut Outbox) -> Vec<(usize, Option<Vec<u8>>)> {
        let mut v = Vec::new();
        while let Some(ev) = ob.poll_event() {
            match ev {
                Event::Sent { bytes, .. } => v.push((bytes, None)),
                Event::RawSent { bytes } => v.last_mut().unwrap().1 = Some(bytes.0),
                _ => {}
            }
        }
        v
    }

    /// A message queued as content is reported and written exactly as the same bytes sent as
    /// one write are (the transcript's text, counts and raw bytes; the wire, in queue order),
    /// though its raw bytes and its wire are encoded again only when handed out.
    #[test]
    fn content_is_reported_and_written_as_its_encoded_bytes() {
        for (message, fixup) in [
            (&b"Subject: x\n\n.dot\nline\r\n\r\n"[..], data::Fixup::ALL),
            (b"a\xffb\r\n.\r\n", data::Fixup::NONE),
            (b"", data::Fixup::ALL),
        ] {
            let wire = data::encode(message, fixup);
            let events =
                |ob: &mut Outbox| std::iter::from_fn(|| ob.poll_event()).collect::<Vec<_>>();
            let mut by_bytes = Outbox::new(true);
            let text = display_text(wire.clone());
            by_bytes.send(
                b"DATA\r\n",
                "DATA".into(),
                SentKind::Command,
                Phase::Data,
                false,
                false,
            );
            by_bytes.send(&wire, text, SentKind::Body, Phase::Dot, false, false);
            by_bytes.send(
                b"QUIT\r\n",
                "QUIT".into(),
                SentKind::Command,
                Phase::Quit,
                false,
                false,
            );
            let mut by_content = Outbox::new(true);
            by_content.send(
                b"DATA\r\n",
                "DATA".into(),
                SentKind::Command,
                Phase::Data,
                false,
                false,
            );
            by_content.send_content(
                &Arc::new(message.to_vec()),
                fixup,
                Form::Data,
                Phase::Dot,
                false,
            );
            by_content.send(
                b"QUIT\r\n",
                "QUIT".into(),
                SentKind::Command,
                Phase::Quit,
                false,
                false,
            );
            assert_eq!(events(&mut by_content), events(&mut by_bytes));
            assert_eq!(by_content.writes(), 3);
            assert_eq!(by_content.poll_transmit(), by_bytes.poll_transmit());
            assert_eq!(by_content.poll_transmit(), None);
        }
    }

    /// A message that is not UTF-8 (a Latin-1 `é`) is shown with the byte sent as `\xE9`, as a
    /// reply's text shows one, whether queued as content or as a chunk of a shared body: its
    /// `sent` text had U+FFFD, which says a byte was there but not which.
    #[test]
    fn a_byte_that_is_not_utf8_is_shown_as_the_byte_sent() {
        let message = Arc::new(b"Subject: caf\xe9\r\n\r\nna\xefve\r\n".to_vec());
        let mut ob = Outbox::new(false);
        ob.send_content(&message, data::Fixup::ALL, Form::Data, Phase::Dot, false);
        ob.send_shared(&message, 0..message.len(), Phase::Dot, false);
        let texts: Vec<String> = std::iter::from_fn(|| ob.poll_event())
            .filter_map(|e| match e {
                Event::Sent { text, .. } => Some(text),
                _ => None,
            })
            .collect();
        assert_eq!(
            texts,
            [
                "Subject: caf\\xE9\r\n\r\nna\\xEFve\r\n.",
                "Subject: caf\\xE9\r\n\r\nna\\xEFve"
            ]
        );
    }

    /// A long chunk of a shared body is handed out as a slice of it (no copy), a short one is
    /// copied so small pipelined chunks leave in one write; either way the bytes and the
    /// transcript are those of the slice, in queue order.
    #[test]
    fn shared_chunks_are_written_from_the_body_in_order() {
        let body = Arc::new(
            (0..SHARED_MIN * 2 + 10)
                .map(|i| b'a' + (i % 26) as u8)
                .collect::<Vec<u8>>(),
        );
        let mut ob = Outbox::new(false);
        ob.send(
            b"BDAT 3\r\n",
            "BDAT 3".into(),
            SentKind::Command,
            Phase::Dot,
            false,
            false,
        );
        ob.send_shared(&body, 0..3, Phase::Dot, false);
        let long = 3..3 + SHARED_MIN;
        ob.send(
            b"BDAT 65536\r\n",
            "BDAT 65536".into(),
            SentKind::Command,
            Phase::Dot,
            false,
            false,
        );
        ob.send_shared(&body, long.clone(), Phase::Dot, false);
        ob.send(
            b"QUIT\r\n",
            "QUIT".into(),
            SentKind::Command,
            Phase::Quit,
            false,
            false,
        );
        let t = ob.poll_transmit_parts().unwrap();
        let parts: Vec<&[u8]> = t.parts().collect();
        assert_eq!(parts.len(), 3, "bytes, the long slice, bytes");
        assert_eq!(parts[0], b"BDAT 3\r\nabcBDAT 65536\r\n");
        assert_eq!(parts[1].as_ptr(), body[long.clone()].as_ptr(), "not a copy");
        assert_eq!(parts[2], b"QUIT\r\n");
        let mut whole = b"BDAT 3\r\nabcBDAT 65536\r\n".to_vec();
        whole.extend_from_slice(&body[long.clone()]);
        whole.extend_from_slice(b"QUIT\r\n");
        assert_eq!(t.into_bytes(), whole);
        assert!(ob.poll_transmit_parts().is_none());
        let texts: Vec<(String, usize)> = std::iter::from_fn(|| ob.poll_event())
            .filter_map(|e| match e {
                Event::Sent { text, bytes, .. } => Some((text, bytes)),
                _ => None,
            })
            .collect();
        assert_eq!(texts[1], ("abc".to_string(), 3));
        assert_eq!(texts[3].1, SHARED_MIN);
        assert_eq!(texts[3].0.as_bytes(), &body[long]);
    }

    #[test]
    fn a_masked_write_reports_the_shown_length_not_the_secret_length() {
        let mut ob = Outbox::new(true);
        for secret in ["x", "a-much-longer-secret-of-thirty-six!"] {
            let wire = format!("AUTH PLAIN {secret}\r\n");
            ob.send(
                wire.as_bytes(),
                "AUTH PLAIN ********".into(),
                SentKind::Command,
                Phase::Auth,
                true,
                false,
            );
        }
        let got = sent_bytes(&mut ob);
        let shown = b"AUTH PLAIN ********\r\n".to_vec();
        assert_eq!(got, vec![(21, Some(shown.clone())), (21, Some(shown))]);
        // The wire still carries the secret.
        let wire = ob.poll_transmit().unwrap();
        assert!(wire.windows(6).any(|w| w == b"thirty"));
        // `:raw` text keeps its own line ends; unmasked writes count the wire.
        ob.send(
            b"AUTH LOGIN\r\nc2VjcmV0\r\n",
            "AUTH LOGIN\r\n********\r\n".into(),
            SentKind::Raw,
            Phase::Auth,
            true,
            false,
        );
        ob.send(
            b"NOOP\r\n",
            "NOOP".into(),
            SentKind::Command,
            Phase::Other,
            false,
            false,
        );
        assert_eq!(
            sent_bytes(&mut ob),
            vec![
                (22, Some(b"AUTH LOGIN\r\n********\r\n".to_vec())),
                (6, Some(b"NOOP\r\n".to_vec()))
            ]
        );
    }
}
