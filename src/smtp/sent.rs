//! How a session reports what it writes: one [`Event::Sent`] per write, plus the raw bytes for
//! `--show-raw-text` with a secret's bytes replaced by their masked display form. Shared by the
//! planned client session and the REPL's manual session so both mask the same way.

use std::collections::VecDeque;

use crate::smtp::data;
use crate::smtp::event::{Bytes, Event, Phase, SentKind};

/// One write, as the session describes it.
pub(crate) struct Outgoing<'a> {
    /// Bytes on the wire.
    pub(crate) wire: &'a [u8],
    /// What the transcript shows (secrets already masked).
    pub(crate) display: String,
    /// What kind of bytes.
    pub(crate) kind: SentKind,
    /// Phase it belongs to.
    pub(crate) phase: Phase,
    /// Did masking hide a secret in `display`?
    pub(crate) redacted: bool,
    /// Over TLS?
    pub(crate) tls: bool,
}

/// Queue the events for one write: `Sent`, and `RawSent` when `raw_events` is on.
pub(crate) fn report(out: Outgoing<'_>, raw_events: bool, events: &mut VecDeque<Event>) {
    let lines = match out.kind {
        SentKind::Body => data::count_lines(out.wire),
        _ => 1,
    };
    let raw = raw_events.then(|| {
        if out.redacted {
            // The raw dump must not reveal what the display masks.
            let mut d = out.display.clone().into_bytes();
            d.extend_from_slice(b"\r\n");
            d
        } else {
            out.wire.to_vec()
        }
    });
    events.push_back(Event::Sent {
        text: out.display,
        kind: out.kind,
        bytes: out.wire.len(),
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
