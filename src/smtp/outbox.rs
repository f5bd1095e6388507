//! The outbox of a sans-IO session: the bytes it wants written and the events it saw, in order,
//! and how it reports what it writes (one [`Event::Sent`] per write, plus the raw bytes for
//! `--show-raw-text` with a secret's bytes replaced by their masked display form). One type for
//! the planned client session and the REPL's manual session, so both queue and mask alike.

use std::collections::VecDeque;
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

/// What a session wants written and what it has to say, drained by the driver
/// (`poll_transmit`, `poll_event`).
#[derive(Debug)]
pub(crate) struct Outbox {
    /// Bytes not yet handed to the driver: one buffer, so pipelined commands leave together.
    bytes: Vec<u8>,
    /// A message queued with [`Outbox::send_content`]: encoded again only when handed to the
    /// driver (after `bytes`, before `after`), once its transcript event has been shown and
    /// dropped, so the encoded message and its transcript text are never held at once.
    content: Option<(Arc<Vec<u8>>, data::Fixup)>,
    /// Bytes queued after `content`.
    after: Vec<u8>,
    events: VecDeque<Event>,
    /// Events handed out so far (numbers the queue's events).
    polled: u64,
    /// The `RawSent` of a message queued with [`Outbox::send_content`]: which event it is, and
    /// the message, encoded for it only when it is handed out, once the `Sent` before it (whose
    /// text is the same bytes) has been shown and dropped.
    raw_content: Option<(u64, Arc<Vec<u8>>, data::Fixup)>,
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
            bytes: Vec::new(),
            content: None,
            after: Vec::new(),
            events: VecDeque::new(),
            polled: 0,
            raw_content: None,
            raw_events,
            last_phase: Phase::Banner,
            writes: 0,
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
        // A PROXY header precedes the dialogue: it is no command's phase.
        if kind != SentKind::Proxy {
            self.last_phase = phase;
        }
        self.writes = self.writes.wrapping_add(1);
        if self.content.is_some() {
            self.after.extend_from_slice(wire);
        } else {
            self.bytes.extend_from_slice(wire);
        }
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

    /// Queue a message's content for DATA (`message` encoded with `fixup`, see
    /// [`data::encode`]) and report it as [`Outbox::send`] does. The encoded bytes become the
    /// transcript's text without a copy (when they are UTF-8) and are encoded again, the same
    /// way, for the `RawSent` event when it is handed out and for the wire when
    /// [`Outbox::poll_transmit`] hands it to the driver: a large message is held as given plus
    /// once encoded, not three or four times.
    pub(crate) fn send_content(
        &mut self,
        message: &Arc<Vec<u8>>,
        fixup: data::Fixup,
        phase: Phase,
        tls: bool,
    ) {
        if self.content.is_some() {
            // Never the case in a session (one message, then its replies); sent as bytes.
            let wire = data::encode(message, fixup);
            let display = display_text(wire.clone());
            self.send(&wire, display, SentKind::Body, phase, false, tls);
            return;
        }
        self.last_phase = phase;
        self.writes = self.writes.wrapping_add(1);
        let wire = data::encode(message, fixup);
        let bytes = wire.len();
        let lines = data::count_lines(&wire);
        let text = display_text(wire);
        self.content = Some((Arc::clone(message), fixup));
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
            self.raw_content = Some((at, Arc::clone(message), fixup));
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
        let mut bytes = std::mem::take(&mut self.bytes);
        if let Some((message, fixup)) = self.content.take() {
            data::encode_into(&mut bytes, &message, fixup);
            bytes.append(&mut self.after);
        }
        (!bytes.is_empty()).then_some(bytes)
    }

    /// Next event, if any.
    pub(crate) fn poll_event(&mut self) -> Option<Event> {
        let mut ev = self.events.pop_front()?;
        let n = self.polled;
        self.polled += 1;
        if let Event::RawSent { bytes } = &mut ev
            && self.raw_content.as_ref().is_some_and(|(at, ..)| *at == n)
            && let Some((_, message, fixup)) = self.raw_content.take()
        {
            bytes.0 = data::encode(&message, fixup);
        }
        Some(ev)
    }
}

/// The transcript's text of a write: its bytes as text, without the final line end(s); the
/// bytes themselves when they are UTF-8 (no copy), else with U+FFFD for what is not.
fn display_text(wire: Vec<u8>) -> String {
    let mut text = match String::from_utf8(wire) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
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
            let text = String::from_utf8_lossy(&wire)
                .trim_end_matches("\r\n")
                .to_string();
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
            by_content.send_content(&Arc::new(message.to_vec()), fixup, Phase::Dot, false);
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
