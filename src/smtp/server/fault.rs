//! Deterministic fault injection for the server `Session`, as typed values: where in the
//! dialogue (a [`Point`], the Nth time or every time) the server replies another code, drops
//! the connection or waits; the greeting's misbehaviour; bare-LF and byte-by-byte replies;
//! extensions not advertised. The front end parses what the user typed into these (its grammar
//! and its usage errors are the command line's) and the session only asks
//! [`Faults::fault`], [`Faults::delay`] and [`Faults::hides`].
//!
//! The first matching fault or delay wins. A 421 reply also closes the connection (RFC 5321
//! §3.8); a 5xx `connect` reply is a "no service" greeting (RFC 5321 §3.1): every later command
//! except QUIT gets 503. `lmtp-rcpt` is one recipient's own reply after the content (RFC 2033
//! §4.2), the others still get `250`. Delays are actions the listener honours; the core never
//! reads a clock.

use crate::smtp::reply::EnhancedCode;

/// Where in the dialogue a fault or delay applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Point {
    /// The greeting (RFC 5321 §4.3.1).
    Connect,
    /// EHLO / HELO / LHLO.
    Helo,
    /// STARTTLS (RFC 3207).
    StartTls,
    /// The AUTH verdict (RFC 4954).
    Auth,
    /// MAIL FROM.
    Mail,
    /// RCPT TO.
    Rcpt,
    /// The DATA command (its 354).
    Data,
    /// The reply after the content (end of DATA, or BDAT LAST).
    Dot,
    /// Each BDAT chunk (RFC 3030).
    Bdat,
    /// RSET.
    Rset,
    /// NOOP.
    Noop,
    /// VRFY.
    Vrfy,
    /// QUIT.
    Quit,
    /// LMTP: one recipient's reply after the content (RFC 2033 §4.2); `#N` counts the
    /// recipients of the transaction.
    LmtpRcpt,
}

impl Point {
    /// Number of points (for counter arrays).
    pub(crate) const COUNT: usize = 14;

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// What happens at a faulty point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FaultAction {
    /// Reply with this code instead.
    Reply {
        /// 400–599.
        code: u16,
        /// Enhanced status code, if given.
        enhanced: Option<EnhancedCode>,
        /// Reply text, if given.
        text: Option<String>,
    },
    /// Close the connection without replying.
    Drop,
}

/// One `POINT[#N]=ACTION` fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fault {
    /// Where.
    pub(crate) point: Point,
    /// Only the Nth occurrence (1-based) in a connection, or every one.
    pub(crate) nth: Option<u32>,
    /// What.
    pub(crate) action: FaultAction,
    /// Where the fault came from, in the front end's words (the option and its value): quoted
    /// in the default reply text, so a client's log says which fault it met.
    pub(crate) origin: String,
}

/// One `POINT[#N]:MS` delay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Delay {
    /// Where.
    pub(crate) point: Point,
    /// Only the Nth occurrence, or every one.
    pub(crate) nth: Option<u32>,
    /// Milliseconds.
    pub(crate) ms: u64,
}

/// How the greeting misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum BannerMode {
    /// A normal 220.
    #[default]
    Normal,
    /// Never send a banner.
    Silent,
    /// A line without a reply code.
    Garbage,
}

/// Every fault, delay and hidden extension of a server, validated.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Faults {
    /// Reply/drop faults in the order given (the first match wins).
    pub(crate) faults: Vec<Fault>,
    /// Delays in the order given (the first match wins).
    pub(crate) delays: Vec<Delay>,
    /// End reply lines with a bare LF.
    pub(crate) bare_lf: bool,
    /// Write replies one byte at a time with this many ms between bytes.
    pub(crate) trickle: Option<u64>,
    /// Banner behaviour.
    pub(crate) banner: BannerMode,
    /// Upper-cased extensions not to advertise.
    pub(crate) hide: Vec<String>,
}

impl Faults {
    /// The fault for the `n`th (1-based) occurrence of `point`, if any.
    pub(crate) fn fault(&self, point: Point, n: u32) -> Option<&Fault> {
        self.faults
            .iter()
            .find(|f| f.point == point && f.nth.is_none_or(|k| k == n))
    }

    /// The delay before the reply to the `n`th occurrence of `point`, if any.
    pub(crate) fn delay(&self, point: Point, n: u32) -> Option<u64> {
        self.delays
            .iter()
            .find(|d| d.point == point && d.nth.is_none_or(|k| k == n))
            .map(|d| d.ms)
    }

    /// Does any fault or delay apply at `point`?
    pub(crate) fn uses(&self, point: Point) -> bool {
        self.faults.iter().any(|f| f.point == point) || self.delays.iter().any(|d| d.point == point)
    }

    /// Is `ext` (upper-case) hidden?
    pub(crate) fn hides(&self, ext: &str) -> bool {
        self.hide.iter().any(|h| h == ext)
    }
}
