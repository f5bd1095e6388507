//! Message content for DATA (RFC 5321 §4.1.1.4, §4.5.2): CRLF normalisation, dot-stuffing and the
//! end marker for the client; the incremental end-of-data detector and un-stuffer for the server.
//!
//! TODO(core-codec helper): implement; the signatures are the contract.

/// Which fix-ups to apply to user-supplied content (swaks's order: strip a trailing `CRLF.CRLF`,
/// double leading dots, LF→CRLF, append `CRLF.CRLF`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fixup {
    /// Remove a leading mbox `From ` line.
    pub strip_from: bool,
    /// Turn bare LF (and bare CR) into CRLF.
    pub crlf: bool,
    /// Double a leading dot on each line (§4.5.2).
    pub dot_stuff: bool,
    /// Strip a user-supplied final `.` line and append `CRLF.CRLF`.
    pub end_marker: bool,
}

impl Default for Fixup {
    fn default() -> Self {
        Fixup::ALL
    }
}

impl Fixup {
    /// Everything on (the default).
    pub const ALL: Fixup = Fixup {
        strip_from: true,
        crlf: true,
        dot_stuff: true,
        end_marker: true,
    };
    /// Nothing: bytes go out exactly as given (`--no-data-fixup`).
    pub const NONE: Fixup = Fixup {
        strip_from: false,
        crlf: false,
        dot_stuff: false,
        end_marker: false,
    };
}

/// Encode message content for the wire after DATA, applying `fixup`. With `Fixup::ALL` the result
/// always ends in `\r\n.\r\n` and contains no bare LF or CR.
pub fn encode(content: &[u8], fixup: Fixup) -> Vec<u8> {
    let _ = (content, fixup);
    todo!("core-codec helper")
}

/// Number of lines in wire-encoded content (for "N lines sent").
pub fn count_lines(wire: &[u8]) -> usize {
    let _ = wire;
    todo!("core-codec helper")
}

/// Server side: an incremental reader of DATA content that finds the `CRLF.CRLF` end marker and
/// removes dot-stuffing, with a size bound.
#[derive(Debug, Default)]
pub struct DataReader {
    _private: (),
}

/// What [`DataReader::feed`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataProgress {
    /// More content is needed.
    More,
    /// The end marker was found; `rest` are the bytes after it (pipelined commands).
    Done {
        /// The un-stuffed message content (without the final `.` line).
        message: Vec<u8>,
        /// Bytes after the end marker.
        rest: Vec<u8>,
        /// Did the content contain a bare LF or bare CR (smuggling evidence)?
        bare_newlines: bool,
        /// Content beyond the size limit was discarded (the reader stayed bounded).
        too_big: bool,
    },
}

impl DataReader {
    /// A reader keeping at most `max` bytes of content.
    pub fn new(max: usize) -> Self {
        let _ = max;
        todo!("core-codec helper")
    }
    /// Feed bytes read from the socket.
    pub fn feed(&mut self, bytes: &[u8]) -> DataProgress {
        let _ = bytes;
        todo!("core-codec helper")
    }
}
