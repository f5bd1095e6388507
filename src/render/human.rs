//! The human renderer: swaks's transcript hints (`===`, `***`, ` ->`, `<- `, ` ~>`, `<~ `, `**>`,
//! `<**`), colour by meaning, reply explanations, time lapse, hex dumps and silent modes.
//!
//! Every line is `<hint> <text>` (as swaks prints its transcript): a three-character hint and a space, so text starts
//! in column 5. ehlo adds one hint of its own, `!!!`, for warnings and tolerated protocol
//! deviations (stdout, next to the reply they concern). `***` lines go to stderr; everything
//! else to stdout. Bytes from the network are never written raw: control characters, invalid
//! UTF-8 and bidi overrides are shown as escapes ([`escape_bytes`]).

use std::fmt::Write as _;
use std::io::Write;
use std::time::Duration;

use super::glyphs;
use super::style::{self, Role};
use super::{ColorChoice, ExplainLevel, HumanOptions, Renderer};
use crate::render::remedy::{self, FrontEnd};
use crate::smtp::codes::{Explanation, Severity};
pub(crate) use crate::smtp::escape::{escape_bytes, escape_str, push_escaped};
use crate::smtp::event::{
    AcceptedTls, CertInfo, DaneVerdict, Deviation, Event, RcptStatus, SentKind, Summary, Timed,
    TlsInfo, VerifyPart, group_digits, plural_s,
};
use crate::smtp::reply::Reply;

/// `text` in pieces of at most `width` columns, cut at spaces: the first keeps the line's own
/// indentation, the others are indented 4 columns more (under the hint, as the certificate's
/// continuation lines are). A word wider than the room is never cut: nothing is hidden.
fn wrap_line(text: &str, width: usize) -> Vec<String> {
    let lead = text.len() - text.trim_start_matches(' ').len();
    wrap(text, width, &" ".repeat(lead + 4))
}

/// `text` in pieces of at most `width` columns, cut at spaces (greedy), the first as it starts,
/// each other one after `more`. A word wider than the room has a line of its own, uncut.
pub(super) fn wrap(text: &str, width: usize, more: &str) -> Vec<String> {
    use unicode_width::UnicodeWidthStr;
    if text.width() <= width {
        return vec![text.to_string()];
    }
    let mut out = Vec::new();
    let mut prefix = "";
    let mut rest = text;
    loop {
        let room = width.saturating_sub(prefix.width());
        if rest.width() <= room {
            out.push(format!("{prefix}{rest}"));
            break;
        }
        let start = rest.len() - rest.trim_start_matches(' ').len();
        let mut cut = None;
        for (i, _) in rest.match_indices(' ').filter(|(i, _)| *i > start) {
            if rest[..i].width() <= room || cut.is_none() {
                cut = Some(i);
            }
            if rest[..i].width() > room {
                break;
            }
        }
        let Some(i) = cut else {
            out.push(format!("{prefix}{rest}"));
            break;
        };
        out.push(format!("{prefix}{}", rest[..i].trim_end()));
        rest = rest[i..].trim_start_matches(' ');
        if rest.is_empty() {
            break;
        }
        prefix = more;
    }
    out
}

/// Most DNS records / SANs listed on one line before "… (N more)".
const LIST_LIMIT: usize = 8;
/// Longest excerpt of peer text quoted inside a deviation description.
const EXCERPT_LIMIT: usize = 80;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stream {
    Out,
    Err,
}

/// Which kind of line an event produces (swaks's send / receive / program split).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Send,
    Receive,
    Program,
}

/// Human transcript writer. Normal lines go to `out`, `***` errors to `err`.
pub(crate) struct Human {
    opts: HumanOptions,
    out: Box<dyn Write + Send>,
    err: Box<dyn Write + Send>,
    color_out: bool,
    color_err: bool,
    /// Silent mode 1: has an error been seen (so lines now flow)?
    triggered: bool,
    /// Flush only when asked ([`Renderer::flush`]), not after every event.
    pub(crate) batched: bool,
    /// What the connection is with, from `Connected`'s peer (swaks's wording): a `--pipe`
    /// child (`pid N`), a `--socket` path (`unix:…`) or a remote host.
    peer_kind: PeerKind,
    /// The kind of the event being rendered (for `--hide-*` and `--no-*-hints`).
    kind: Kind,
    /// REPL: how long the reply about to be rendered took (its `Timing` comes first there),
    /// shown at the end of its last line.
    latency_ms: Option<f64>,
    /// The lines being written are a text's own line breaks ([`Self::multi`]): not wrapped.
    laid_out: bool,
    /// The lines being written are the wire's (sent, received, a stored message's content):
    /// written as they came, never folded to ASCII ([`glyphs::plain`]).
    verbatim: bool,
    /// A message's lines being shown ([`Self::sent`]): stdout's lines gathered here and written
    /// [`HELD_BYTES`] at a time, not one write(2) per line (20 million for a 60 MB message of
    /// short lines, most of the send's time).
    held: Option<Vec<u8>>,
    /// A one-shot send's failed connection attempt, its `***` line held until the next event:
    /// when that is the summary and its error already says the same reason (the last attempt's),
    /// the line is dropped, so one refusal is one line, not two.
    connect_failed: Option<(String, String)>,
}

/// How much of a message's transcript is gathered before it is written.
const HELD_BYTES: usize = 64 * 1024;

#[derive(Clone, Copy, PartialEq, Eq)]
enum PeerKind {
    Remote,
    Socket,
    Child,
}

impl Human {
    /// Writer on any pair of streams (tests). Colour follows `opts.color`; for `Auto` it follows
    /// the decisions made by [`style::configure`].
    pub(crate) fn new(
        opts: HumanOptions,
        out: Box<dyn Write + Send>,
        err: Box<dyn Write + Send>,
    ) -> Human {
        let (color_out, color_err) = match opts.color {
            ColorChoice::Always => (true, true),
            ColorChoice::Never => (false, false),
            ColorChoice::Auto => (style::stdout_color(), style::stderr_color()),
        };
        Human {
            opts,
            out,
            err,
            color_out,
            color_err,
            triggered: false,
            batched: false,
            peer_kind: PeerKind::Remote,
            kind: Kind::Program,
            latency_ms: None,
            laid_out: false,
            verbatim: false,
            held: None,
            connect_failed: None,
        }
    }

    /// Write the held `Error connecting` line ([`Self::connect_failed`]), if any.
    fn release_connect_failed(&mut self) {
        if let Some((text, _)) = self.connect_failed.take() {
            self.error(&text);
        }
    }

    /// Emit one line. `hint` is the three-character prefix (`"   "` for an indented continuation
    /// line); `error` marks lines that count as errors for the silent modes.
    fn line(&mut self, stream: Stream, hint: &str, text: &str, role: Role, error: bool) {
        let Some(no_hint) = self.shown(hint, error) else {
            return;
        };
        // `wrap` (the demo): ehlo's own words only, never what went over the wire, the
        // message's lines (`  | `), a text that chose its own line breaks (the command the
        // demo prints, to copy whole) nor an error (`***`: one line, as every error is).
        if let Some(width) = self.opts.wrap
            && matches!(hint, "===" | "!!!" | "   ")
            && !self.laid_out
            && !text.trim_start().starts_with('|')
        {
            let pieces = wrap_line(text, width.saturating_sub(4));
            if pieces.len() > 1 {
                for p in pieces {
                    self.line_as_is(stream, hint, &p, role, error, no_hint);
                }
                return;
            }
        }
        self.line_as_is(stream, hint, text, role, error, no_hint);
    }

    /// Is a line with `hint` shown (the silent modes, `--hide-*`)? `Some(no_hint)` when it is,
    /// `no_hint` for `--no-*-hints`.
    fn shown(&self, hint: &str, error: bool) -> Option<bool> {
        match self.opts.silent {
            0 => {}
            1 | 2 if error => {}
            1 => {}
            _ => return None,
        }
        let (hide, bare) = (self.opts.hide, self.opts.bare);
        let (hidden, no_hint) = match self.kind {
            Kind::Send => (hide.send, bare.send),
            Kind::Receive => (hide.receive, bare.receive),
            Kind::Program if hint == "***" => (hide.errors, bare.errors),
            Kind::Program => (hide.info, bare.info),
        };
        (!hidden).then_some(no_hint)
    }

    /// A wire line longer than [`HELD_BYTES`] (a message's, on stdout), escaped and written
    /// in pieces of about that size, as [`Self::line`] writes it whole: the whole line's
    /// escaped copy, `hint text` and painted copies were three more copies of it (a 60 MB
    /// one-line message peaked at 299 MB resident, the same in short lines at 122 MB). A piece
    /// ends before a UTF-8 lead byte, so no character is cut.
    fn long_wire_line(&mut self, hint: &str, raw: &[u8], role: Role, error: bool) {
        let Some(no_hint) = self.shown(hint, error) else {
            return;
        };
        if self.opts.silent == 1 && !self.triggered {
            if !error {
                return;
            }
            self.triggered = true;
        }
        let mut rest = raw;
        let mut first = true;
        while !rest.is_empty() {
            let mut cut = rest.len().min(HELD_BYTES);
            while cut > 0 && cut < rest.len() && rest[cut] & 0xC0 == 0x80 {
                cut -= 1;
            }
            if cut == 0 {
                cut = rest.len().min(HELD_BYTES);
            }
            let (piece, tail) = rest.split_at(cut);
            let mut text = if first && self.opts.hints && !no_hint {
                format!("{hint} ")
            } else {
                String::new()
            };
            text.push_str(&escape_bytes(piece));
            let painted = role.paint(&text, self.color_out);
            self.write_part(Stream::Out, &painted, false);
            first = false;
            rest = tail;
        }
        self.write_part(Stream::Out, "", true);
    }

    fn line_as_is(
        &mut self,
        stream: Stream,
        hint: &str,
        text: &str,
        role: Role,
        error: bool,
        no_hint: bool,
    ) {
        // Silent mode 1 (swaks): nothing until the first error, then everything from that error
        // on; what came before it is not replayed.
        if self.opts.silent == 1 && !self.triggered {
            if !error {
                return;
            }
            self.triggered = true;
        }
        // One allocation for the line; painted (a second one) only when the stream has colour.
        let hinted = self.opts.hints && !no_hint;
        let mut line = String::with_capacity(if hinted { hint.len() + 1 } else { 0 } + text.len());
        if hinted {
            line.push_str(hint);
            line.push(' ');
        }
        line.push_str(text);
        let on = match stream {
            Stream::Out => self.color_out,
            Stream::Err => self.color_err,
        };
        if on {
            line = role.paint(&line, true);
        }
        self.write(stream, &line);
    }

    fn write(&mut self, stream: Stream, text: &str) {
        self.write_part(stream, text, true);
    }

    /// [`Self::write`], the line end only when `end`.
    fn write_part(&mut self, stream: Stream, text: &str, end: bool) {
        // ehlo's own glyphs in ASCII when the locale is not UTF-8; the wire's text as it came.
        let text = if self.verbatim {
            std::borrow::Cow::Borrowed(text)
        } else {
            glyphs::plain(text)
        };
        // A closed pipe (`| head`) must not stop or crash the run: write errors are dropped
        // here; stdout's and a file's are kept by their `Watch` and said after the run
        // (render::watch).
        let w = match stream {
            Stream::Out => {
                if let Some(held) = self.held.as_mut() {
                    held.extend_from_slice(text.as_bytes());
                    if end {
                        held.push(b'\n');
                    }
                    if held.len() >= HELD_BYTES {
                        self.write_held();
                    }
                    return;
                }
                &mut self.out
            }
            Stream::Err => {
                // Held or batched: what stdout holds came first, so it goes out first.
                self.write_held();
                if self.batched {
                    let _ = self.out.flush();
                }
                &mut self.err
            }
        };
        let _ = if end {
            writeln!(w, "{text}")
        } else {
            write!(w, "{text}")
        };
    }

    /// Write out the lines [`Self::held`] gathered (it stays on).
    fn write_held(&mut self) {
        if let Some(held) = self.held.as_mut()
            && !held.is_empty()
        {
            let _ = self.out.write_all(held);
            held.clear();
        }
    }

    fn info(&mut self, text: &str) {
        self.line(Stream::Out, "===", text, Role::Info, false);
    }

    fn warn(&mut self, text: &str) {
        self.line(Stream::Out, "!!!", text, Role::Warning, false);
    }

    fn error(&mut self, text: &str) {
        self.line(Stream::Err, "***", text, Role::Error, true);
    }

    /// A line saying the run does other than swaks would for the same command line: a
    /// warning or info line as any other, but swaks's silent levels 1 and 2 (`-S`, `-S 2`),
    /// which hide those, do not hide it: it goes to stderr there, where they still print
    /// errors, so a run under `-S` never differs from swaks without a word. It does not
    /// count as an error (`-S 1` does not start showing the transcript for it); `-S 3`
    /// prints nothing, as it prints no error, and `--hide-*`/`--no-*-hints` apply as to
    /// ehlo's other lines.
    fn unlike_swaks(&mut self, text: &str, warning: bool) {
        let (hint, role) = if warning {
            ("!!!", Role::Warning)
        } else {
            ("===", Role::Info)
        };
        if !matches!(self.opts.silent, 1 | 2) {
            self.multi(Stream::Out, hint, text, role, false);
            return;
        }
        let (hidden, no_hint) = (self.opts.hide.info, self.opts.bare.info);
        if hidden {
            return;
        }
        for l in text.lines() {
            let l = escape_str(l);
            let composed = if self.opts.hints && !no_hint {
                format!("{hint} {l}")
            } else {
                l
            };
            let painted = role.paint(&composed, self.color_err);
            self.write(Stream::Err, &painted);
        }
    }

    /// A message that may span lines: the hint is repeated on each.
    fn multi(&mut self, stream: Stream, hint: &str, text: &str, role: Role, error: bool) {
        self.laid_out = text.contains('\n');
        for l in text.lines() {
            let l = escape_str(l);
            self.line(stream, hint, &l, role, error);
        }
        self.laid_out = false;
        if text.is_empty() {
            self.line(stream, hint, "", role, error);
        }
    }

    /// A note (REPL help, `:caps`, notices): the text as it is, no hint, never coloured;
    /// control characters (from a server's EHLO keywords, say) escaped like everything else.
    fn note(&mut self, text: &str) {
        if self.opts.silent > 0 || self.opts.hide.info {
            return;
        }
        for l in text.split('\n') {
            let l = escape_str(l);
            self.write(Stream::Out, &l);
        }
    }

    fn sent(&mut self, text: &str, kind: SentKind, lines: usize, tls: bool, expected: bool) {
        let hint = match (tls, expected) {
            (false, true) => " ->",
            (true, true) => " ~>",
            (false, false) => "**>",
            (true, false) => "*~>",
        };
        if kind == SentKind::Body && self.opts.suppress_data {
            let n = format!("{lines} lines sent");
            self.line(Stream::Out, hint, &n, Role::Sent, !expected);
            return;
        }
        self.verbatim = true;
        self.held = Some(Vec::with_capacity(HELD_BYTES.min(text.len() + 64)));
        for l in split_lines(text.as_bytes()) {
            if l.len() > HELD_BYTES {
                self.long_wire_line(hint, l, Role::Sent, !expected);
                continue;
            }
            let l = escape_bytes(l);
            self.line(Stream::Out, hint, &l, Role::Sent, !expected);
        }
        self.write_held();
        self.held = None;
        self.verbatim = false;
    }

    fn received(&mut self, reply: &Reply, tls: bool, expected: bool, explanation: &Explanation) {
        let hint = match (tls, expected) {
            (false, true) => "<- ",
            (true, true) => "<~ ",
            (false, false) => "<**",
            (true, false) => "<~*",
        };
        let role = if expected {
            Role::ReceivedOk
        } else {
            Role::ReceivedError
        };
        let error = !expected;
        let mut lines = reply_lines(reply);
        if self.opts.repl {
            // SASL challenges (RFC 4954 §4) are base64: show what they say.
            if reply.is_sasl_challenge() {
                for (shown, text) in lines.iter_mut().zip(&reply.lines) {
                    if let Some(plain) = decoded_challenge(text) {
                        let _ = write!(shown, " ({})", escape_str(&plain));
                    }
                }
            }
            if let (Some(ms), Some(last)) = (self.latency_ms.take(), lines.last_mut()) {
                let _ = write!(last, " ({})", latency(ms));
            }
        }
        self.verbatim = true;
        for l in lines {
            self.line(Stream::Out, hint, &l, role, error);
        }
        self.verbatim = false;
        for d in &reply.deviations {
            let text = format!("deviation: {}", describe_deviation(d));
            self.line(Stream::Out, "!!!", &text, Role::Warning, error);
        }
        if self.wants_explanation(reply, expected, explanation) {
            for (label, meaning, role) in explanation_lines(reply, explanation, &self.opts) {
                self.line(
                    Stream::Out,
                    "   ",
                    &format!("{label} {meaning}"),
                    role,
                    error,
                );
            }
        }
    }

    fn wants_explanation(&self, reply: &Reply, expected: bool, ex: &Explanation) -> bool {
        match self.opts.explain {
            ExplainLevel::None => false,
            ExplainLevel::All => true,
            ExplainLevel::Errors => {
                let severity = ex.severity.unwrap_or(match reply.class() {
                    Some(2 | 3) => Severity::Ok,
                    Some(4) => Severity::Transient,
                    _ => Severity::Permanent,
                });
                severity != Severity::Ok || !reply.deviations.is_empty() || !expected
            }
        }
    }

    fn tls_started(&mut self, info: &TlsInfo) {
        let tls = |h: &mut Human, t: &str| h.line(Stream::Out, "===", t, Role::Tls, false);
        tls(
            self,
            &format!(
                "TLS started with cipher {}:{}:{}",
                escape_str(&info.version),
                escape_str(&info.cipher),
                info.bits
            ),
        );
        tls(
            self,
            match (info.client_cert_configured, info.client_cert_requested) {
                (true, true) => "TLS client certificate sent",
                (true, false) => "TLS client certificate configured but not requested (not sent)",
                (false, true) => "TLS client certificate requested but none configured (not sent)",
                (false, false) => "TLS client certificate not sent",
            },
        );
        match &info.sni {
            Some(name) => tls(self, &format!("TLS SNI sent: {}", escape_str(name))),
            None => tls(self, "TLS no SNI sent"),
        }
        self.peer_evidence("TLS peer", info);
        let ocsp = if info.ocsp_stapled { "yes" } else { "no" };
        tls(self, &format!("TLS OCSP response stapled: {ocsp}"));
    }

    /// A renegotiation's different certificate: the one in use from now on, each line marked
    /// so that it is not read as the first handshake's (shown at "TLS started").
    fn tls_renegotiated(&mut self, info: &TlsInfo) {
        let mut head =
            "TLS renegotiated: the server now presents a different certificate".to_string();
        // The cipher is chosen once the new handshake ends, after its certificate is judged.
        match (info.version.is_empty(), info.cipher.is_empty()) {
            (true, _) => {}
            (false, true) => {
                let _ = write!(head, " ({})", escape_str(&info.version));
            }
            (false, false) => {
                let _ = write!(
                    head,
                    " (cipher {}:{}:{})",
                    escape_str(&info.version),
                    escape_str(&info.cipher),
                    info.bits
                );
            }
        }
        self.line(Stream::Out, "===", &head, Role::Warning, false);
        self.peer_evidence("TLS renegotiated peer", info);
    }

    /// The peer's chain and its verdicts (CA and name, DANE), each line starting with `label`.
    fn peer_evidence(&mut self, label: &str, info: &TlsInfo) {
        let tls = |h: &mut Human, t: &str| h.line(Stream::Out, "===", t, Role::Tls, false);
        for (i, cert) in info.chain.iter().enumerate() {
            self.peer_cert(label, i, cert);
        }
        // A renegotiation's leaf is told from the first handshake's by its fingerprint too.
        if let Some(leaf) = info.chain.first().filter(|_| label != "TLS peer") {
            let text = format!("{label}[0] sha256=[{}]", escape_str(&leaf.sha256));
            tls(self, &text);
        }
        let v = &info.verify;
        let ca = if v.chain_ok {
            "passed CA verification".to_string()
        } else {
            match &v.reason {
                Some(r) => format!("failed CA verification ({})", escape_str(r)),
                None => "failed CA verification".to_string(),
            }
        };
        let host = match &v.checked_name {
            None => "no host verification (no name to check)".to_string(),
            Some(name) => {
                let verdict = if v.name_ok { "passed" } else { "failed" };
                let detail = match &v.matched {
                    Some(m) if v.name_ok => format!("; matched {}", escape_str(m)),
                    _ if !v.name_ok => "; no name in the certificate matched".to_string(),
                    _ => String::new(),
                };
                format!(
                    "{verdict} host verification (using host {} to verify{detail})",
                    escape_str(name)
                )
            }
        };
        let text = format!("{label} certificate {ca}, {host}");
        let dane_ok = info.dane.as_ref().is_some_and(|d| d.ok);
        let role = if v.ok || dane_ok {
            Role::Tls
        } else {
            Role::Warning
        };
        self.line(Stream::Out, "===", &text, role, false);
        if let Some(d) = &info.dane {
            if !v.ok && d.ok {
                tls(
                    self,
                    "(CA verification not needed: DANE authenticates the server)",
                );
            }
            self.dane(d);
        } else if !v.ok && !v.enforced {
            let why = v.waived.as_deref().unwrap_or("--insecure");
            self.line(
                Stream::Out,
                "===",
                &format!("(verification not enforced: {})", escape_str(why)),
                Role::Warning,
                false,
            );
        } else if !v.ok && v.passed() {
            let note = match v.only {
                Some(VerifyPart::Chain) => "(host verification not enforced: --tls-verify-ca)",
                _ => "(CA verification not enforced: --tls-verify-host)",
            };
            self.line(Stream::Out, "===", note, Role::Warning, false);
        }
    }

    /// The DANE verdict: ignored records, per chain depth the association data and the records
    /// it matched (`spki sha256 … [matched] <- 3 1 1 ab12…`, as danecheck shows it), the result.
    fn dane(&mut self, d: &DaneVerdict) {
        let tls = |h: &mut Human, t: &str| h.line(Stream::Out, "===", t, Role::Tls, false);
        let n = d.records.len();
        tls(
            self,
            &format!("TLS DANE: {n} TLSA record{} to match", plural_s(n)),
        );
        for i in &d.ignored {
            self.line(
                Stream::Out,
                "===",
                &format!("TLS DANE ignored {}", escape_str(i)),
                Role::Warning,
                false,
            );
        }
        for e in &d.evidence {
            let digest = match &e.error {
                Some(err) => format!("({})", escape_str(err)),
                // A whole certificate or key is long: its start is enough to tell them apart.
                None if e.digest.len() > 128 => {
                    format!("{}… ({} octets)", &e.digest[..64], e.digest.len() / 2)
                }
                None => e.digest.clone(),
            };
            let matched = if e.matched.is_empty() {
                String::new()
            } else {
                format!(" [matched] <- {}", e.matched.join(", "))
            };
            tls(
                self,
                &format!(
                    "TLS DANE depth {} {} {} {digest}{matched}",
                    e.depth, e.selector, e.mtype
                ),
            );
        }
        if d.ok {
            let by = d.matched.as_deref().unwrap_or_default();
            let short = match by.rsplit_once(' ') {
                Some((head, data)) if data.len() > 16 => format!("{head} {}…", &data[..16]),
                _ => by.to_string(),
            };
            let note = d.note.as_deref().unwrap_or_default();
            tls(
                self,
                &format!(
                    "TLS DANE passed: {} ({})",
                    escape_str(&short),
                    escape_str(note)
                ),
            );
        } else {
            let reason = d.reason.as_deref().unwrap_or("no record matched");
            self.line(
                Stream::Out,
                "===",
                &format!("TLS DANE failed: {}", escape_str(reason)),
                Role::Warning,
                false,
            );
            if !d.enforced {
                self.line(
                    Stream::Out,
                    "===",
                    "(DANE not enforced: --insecure)",
                    Role::Warning,
                    false,
                );
            }
        }
    }

    /// The server's side of a handshake (`ehlo serve`): what the client sent, what was asked.
    fn tls_accepted(&mut self, info: &AcceptedTls) {
        let tls = |h: &mut Human, t: &str| h.line(Stream::Out, "===", t, Role::Tls, false);
        tls(
            self,
            &format!(
                "TLS started with cipher {}:{}:{}",
                escape_str(&info.version),
                escape_str(&info.cipher),
                info.bits
            ),
        );
        match &info.sni_received {
            Some(name) => tls(self, &format!("TLS SNI received: {}", escape_str(name))),
            None => tls(self, "TLS no SNI received"),
        }
        let cert = match (&info.client_cert, info.client_cert_requested) {
            (Some(subject), _) => format!(
                "TLS client certificate received: subject=[{}]",
                escape_str(subject)
            ),
            (None, true) => "TLS client certificate requested, none sent".to_string(),
            (None, false) => "TLS client certificate not requested".to_string(),
        };
        tls(self, &cert);
    }

    fn peer_cert(&mut self, label: &str, i: usize, cert: &CertInfo) {
        let head = format!("{label}[{i}]");
        // Continuation lines line up under "subject=".
        let pad = " ".repeat(head.len() + 3);
        self.line(
            Stream::Out,
            "===",
            &format!("{head}   subject=[{}]", escape_str(&cert.subject)),
            Role::Tls,
            false,
        );
        let mut detail = Vec::new();
        if let Some(cn) = common_name(&cert.subject) {
            detail.push(format!("commonName=[{}]", escape_str(cn)));
        }
        if !cert.sans.is_empty() {
            detail.push(format!(
                "subjectAltName=[{}]",
                bounded_list(&cert.sans, ", ")
            ));
        }
        let mut line = detail.join(", ");
        if !line.is_empty() {
            line.push(' ');
        }
        if cert.not_yet_valid {
            let _ = write!(
                line,
                "notBefore=[{}] (not valid yet) notAfter=[{}]",
                escape_str(&cert.not_before),
                escape_str(&cert.not_after)
            );
        } else {
            let _ = write!(
                line,
                "notAfter=[{}] ({})",
                escape_str(&cert.not_after),
                days_phrase(cert.days_left)
            );
        }
        let role = if cert.days_left < 0 || cert.not_yet_valid {
            Role::Error
        } else {
            Role::Tls
        };
        self.line(Stream::Out, "===", &format!("{pad}{line}"), role, false);
        if !cert.issuer.is_empty() {
            let text = format!("{pad}issuer=[{}]", escape_str(&cert.issuer));
            self.line(Stream::Out, "===", &text, Role::Tls, false);
        }
    }

    fn timing(&mut self, what: Timed, ms: f64) {
        let Some(whole) = self.opts.time_lapse else {
            return;
        };
        let secs = (ms / 1000.0).max(0.0);
        let amount = if whole {
            format!("{}s", secs.floor())
        } else {
            format!("{secs:.3}s")
        };
        let text = match what {
            Timed::Dns => format!("DNS lookup took {amount}"),
            Timed::Connect => format!("connect took {amount}"),
            Timed::TlsHandshake => format!("TLS handshake took {amount}"),
            Timed::Reply => format!("response in {amount}"),
        };
        self.info(&text);
    }

    fn summary(&mut self, s: &Summary) {
        let ok = s.exit_code == 0;
        let (stream, hint, role) = if ok {
            (Stream::Out, "===", Role::Info)
        } else {
            (Stream::Err, "***", Role::Error)
        };
        let head = if ok {
            "Result: ok".to_string()
        } else {
            let why = s.error.as_deref().unwrap_or(&s.outcome);
            format!("Result: failed (exit {}): {}", s.exit_code, escape_str(why))
        };
        self.line(stream, hint, &head, role, !ok);
        let any_failed = s.recipients.iter().any(|r| {
            r.status != RcptStatus::Accepted
                || r.data_code.is_some_and(|c| !(200..300).contains(&c))
        });
        if s.recipients.len() > 1 || any_failed {
            for r in &s.recipients {
                let status = match r.status {
                    RcptStatus::Accepted => "accepted",
                    RcptStatus::TempFailed => "temporarily rejected",
                    RcptStatus::PermFailed => "rejected",
                    RcptStatus::NotAttempted => "not attempted",
                    RcptStatus::NoReply => "sent, no reply",
                    // LMTP / PRDR: the RCPT reply was an acceptance, the delivery verdict
                    // never came; the reply shown is the RCPT one.
                    RcptStatus::NoDeliveryReply => {
                        "no reply after the content: not known to be delivered"
                    }
                };
                let mut text = format!("  <{}> {status}", escape_str(&r.address));
                let reply: Vec<String> = [
                    r.code.map(|c| c.to_string()),
                    r.enhanced.as_deref().map(escape_str),
                    r.text.as_deref().map(reply_text),
                ]
                .into_iter()
                .flatten()
                .collect();
                if !reply.is_empty() {
                    let rcpt = if r.status == RcptStatus::NoDeliveryReply {
                        "RCPT: "
                    } else {
                        ""
                    };
                    let _ = write!(text, " ({rcpt}{})", reply.join(" "));
                }
                // LMTP / PRDR: the recipient's own reply after the content.
                if let Some(code) = r.data_code
                    && (r.code != Some(code) || r.text != r.data_text)
                {
                    let after: Vec<String> = [
                        Some(code.to_string()),
                        r.data_enhanced.as_deref().map(escape_str),
                        r.data_text.as_deref().map(reply_text),
                    ]
                    .into_iter()
                    .flatten()
                    .collect();
                    let _ = write!(text, ", message: {}", after.join(" "));
                }
                let role = match (ok, r.status) {
                    (true, RcptStatus::Accepted) => Role::Info,
                    (true, _) => Role::Warning,
                    (false, _) => Role::Error,
                };
                self.line(stream, hint, &text, role, !ok);
            }
        }
    }
}

impl Renderer for Human {
    fn reconfigure(&mut self, change: &dyn Fn(&mut HumanOptions)) {
        change(&mut self.opts);
    }

    fn event(&mut self, event: &Event, _elapsed: Duration) {
        if let Some((_, reason)) = &self.connect_failed {
            // The summary that repeats the reason stands for the held line.
            let repeated = matches!(event, Event::Summary(s)
                if s.exit_code != 0 && s.error.as_deref().is_some_and(|e| e.contains(reason.as_str())));
            if repeated {
                self.connect_failed = None;
            } else {
                self.release_connect_failed();
            }
        }
        self.kind = match event {
            Event::Sent { .. } | Event::RawSent { .. } => Kind::Send,
            Event::Received { .. } | Event::RawReceived { .. } => Kind::Receive,
            _ => Kind::Program,
        };
        match event {
            Event::Info { message } => {
                let message = remedy::words(message, front_end(&self.opts));
                self.multi(Stream::Out, "===", &message, Role::Info, false);
            }
            Event::Warning { message } => {
                let message = remedy::words(message, front_end(&self.opts));
                self.multi(Stream::Out, "!!!", &message, Role::Warning, false);
            }
            Event::UnlikeSwaks { message, warning } => self.unlike_swaks(message, *warning),
            Event::Error { message } => self.multi(Stream::Err, "***", message, Role::Error, true),
            Event::Note { text } => self.note(text),
            Event::Dump { text, .. } => self.write(Stream::Out, text.trim_end_matches('\n')),
            Event::ReplayMismatch {
                line,
                command,
                expected,
                got,
                reply,
                ..
            } => {
                let at = if *line == 0 {
                    "banner".to_string()
                } else {
                    format!("line {line} `> {}`", escape_str(command))
                };
                let list = |v: &[String]| {
                    if v.is_empty() {
                        "nothing".to_string()
                    } else {
                        escape_str(&v.join(", "))
                    }
                };
                let detail = reply
                    .as_deref()
                    .map(|r| {
                        let text = r.lines.first().map(String::as_str).unwrap_or_default();
                        let shown = match r.code {
                            Some(code) => format!("{code} {text}"),
                            // No reply code: the line as it came, quoted.
                            None => format!("\"{text}\""),
                        };
                        format!(" ({})", escape_str(&shown))
                    })
                    .unwrap_or_default();
                let message = format!(
                    "replay: {at}: expected {}, got {}{detail}",
                    list(expected),
                    list(got)
                );
                self.multi(Stream::Err, "***", &message, Role::Error, true);
            }
            // The answer says what was asked; printing the question too is noise. A failed
            // lookup is said by a warning or by the result line.
            Event::DnsQuery { .. } | Event::DnsFailed { .. } => {}
            Event::DnsAnswer {
                name,
                rtype,
                records,
                proof,
            } => {
                let list = if records.is_empty() {
                    "no records".to_string()
                } else {
                    bounded_list(records, ", ")
                };
                let proof = proof
                    .as_deref()
                    .map(|p| format!(" (DNSSEC: {})", escape_str(p)))
                    .unwrap_or_default();
                let text = format!(
                    "{} lookup for {}: {list}{proof}",
                    escape_str(rtype),
                    escape_str(name)
                );
                self.info(&text);
            }
            Event::TlsPolicy {
                host,
                policy,
                tls_required,
                reason,
            } => {
                let how = match policy.as_str() {
                    "dane" => "DANE (TLSA records)",
                    "encrypt" => "none (no usable TLSA record)",
                    _ => "PKIX (CA store and name)",
                };
                let text = format!(
                    "TLS verification for {}: {how}{}: {}",
                    escape_str(host),
                    if *tls_required { ", TLS required" } else { "" },
                    escape_str(reason)
                );
                self.info(&text);
            }
            Event::Connecting { host, addr } => {
                let text = trying(host, addr);
                self.info(&text);
            }
            Event::Connected {
                host,
                peer,
                local,
                proxy,
            } => {
                self.peer_kind = if peer.starts_with("pid ") {
                    PeerKind::Child
                } else if peer.starts_with("unix:") {
                    PeerKind::Socket
                } else {
                    PeerKind::Remote
                };
                let via = match proxy {
                    // `ehlo serve --accept-proxy`: the client as the header names it.
                    Some(p) if !p.named => format!(
                        " (through the proxy {}: its PROXY v{} header names no client)",
                        escape_str(&p.via),
                        p.version
                    ),
                    Some(p) => format!(
                        " (client {}, to {}, as the PROXY v{} header from the proxy {} names them)",
                        escape_str(peer),
                        escape_str(local),
                        p.version,
                        escape_str(&p.via)
                    ),
                    None => String::new(),
                };
                self.info(&format!("Connected to {}.{via}", escape_str(host)));
            }
            Event::ConnectFailed {
                host, addr, reason, ..
            } => {
                let text = format!(
                    "Error connecting to {} ({}): {}",
                    escape_str(host),
                    escape_str(addr),
                    escape_str(reason)
                );
                if self.opts.repl {
                    self.error(&text);
                } else {
                    self.connect_failed = Some((text, reason.clone()));
                }
            }
            Event::Sent {
                text,
                kind,
                lines,
                tls,
                expected,
                ..
            } => self.sent(text, *kind, *lines, *tls, *expected),
            Event::Received {
                reply,
                tls,
                expected,
                explanation,
                ..
            } => self.received(reply, *tls, *expected, explanation),
            Event::RawSent { bytes } => {
                if self.opts.show_raw {
                    for l in hex_dump(&bytes.0) {
                        self.line(Stream::Out, "  >", &l, Role::Dim, false);
                    }
                }
            }
            Event::RawReceived { bytes } => {
                if self.opts.show_raw {
                    for l in hex_dump(&bytes.0) {
                        self.line(Stream::Out, "<  ", &l, Role::Dim, false);
                    }
                }
            }
            Event::Deviation { deviation, phase } => {
                let text = format!(
                    "deviation during {}: {}",
                    phase.label(),
                    describe_deviation(deviation)
                );
                self.warn(&text);
            }
            Event::TlsStarted { info } => self.tls_started(info),
            Event::TlsRenegotiated { info } => self.tls_renegotiated(info),
            Event::TlsAccepted { info } => self.tls_accepted(info),
            // The start-up `info` line already says where it listens, with the settings.
            Event::Listening { .. } => {}
            Event::TlsFailed { reason } => {
                let reason = remedy::words(reason, front_end(&self.opts));
                // A reason that names TLS already ("TLS handshake failed: …", "TLS setup
                // failed: …") is said as it is, not after a second "TLS handshake failed".
                if reason.starts_with("TLS ") {
                    self.error(&escape_str(&reason));
                } else {
                    self.error(&format!("TLS handshake failed: {}", escape_str(&reason)));
                }
            }
            Event::Timing { what, ms, .. } => {
                if self.opts.repl && *what == Timed::Reply {
                    self.latency_ms = Some(*ms);
                }
                self.timing(*what, *ms)
            }
            Event::Closed { expected: true } => {
                if self.peer_kind == PeerKind::Child {
                    self.info("Connection closed with child process.");
                } else {
                    self.info("Connection closed with remote host.");
                }
            }
            Event::Closed { expected: false } => match self.peer_kind {
                PeerKind::Remote => self.error("Remote host closed connection unexpectedly."),
                PeerKind::Socket => self.error("Socket closed connection unexpectedly."),
                PeerKind::Child => self.error("Child process closed connection unexpectedly."),
            },
            Event::Summary(s) => self.summary(s),
            // The server's point of view (`ehlo serve`): commands come in, replies go out.
            Event::ClientCommand { text, tls, .. } => {
                let hint = if *tls { "<~ " } else { "<- " };
                self.verbatim = true;
                self.line(
                    Stream::Out,
                    hint,
                    &escape_str(text),
                    Role::ReceivedOk,
                    false,
                );
                self.verbatim = false;
            }
            Event::ServerReply { reply, tls, .. } => {
                let (hint, role) = match (*tls, reply.class()) {
                    (false, Some(2 | 3)) => (" ->", Role::Sent),
                    (true, Some(2 | 3)) => (" ~>", Role::Sent),
                    (false, _) => ("**>", Role::ReceivedError),
                    (true, _) => ("*~>", Role::ReceivedError),
                };
                self.verbatim = true;
                for l in reply_lines(reply) {
                    self.line(Stream::Out, hint, &l, role, false);
                }
                self.verbatim = false;
            }
            Event::MessageStored {
                from,
                rcpts,
                bytes,
                path,
                id,
                content,
                ..
            } => {
                // Built in one string: this line is all `serve --quiet` shows of each message.
                let mut text = String::with_capacity(64 + id.len() + from.len());
                text.push_str("stored message ");
                push_escaped(&mut text, id);
                text.push_str(" from <");
                push_escaped(&mut text, from);
                text.push_str("> to ");
                for (i, r) in rcpts.iter().enumerate() {
                    if i > 0 {
                        text.push_str(", ");
                    }
                    text.push('<');
                    push_escaped(&mut text, r);
                    text.push('>');
                }
                let _ = write!(text, " ({bytes} bytes)");
                if let Some(p) = path {
                    let _ = write!(text, " in {}", escape_str(p));
                }
                self.info(&text);
                const SHOWN: usize = 200;
                let raw = &content.0;
                let body = String::from_utf8_lossy(raw);
                let mut shown = raw.len();
                for (n, l) in body.lines().enumerate() {
                    if n == SHOWN {
                        shown = raw
                            .iter()
                            .enumerate()
                            .filter(|&(_, &b)| b == b'\n')
                            .nth(SHOWN - 1)
                            .map_or(raw.len(), |(i, _)| i + 1);
                        break;
                    }
                    self.verbatim = true;
                    self.info(&format!("  | {}", escape_str(l)));
                    self.verbatim = false;
                }
                // Past 200 lines, or past the start a large message's event carries.
                if !raw.is_empty() && shown < *bytes {
                    let rest = group_digits(bytes - shown);
                    self.info(&format!("  | … ({rest} more bytes)"));
                }
            }
        }
        if !self.batched {
            let _ = self.out.flush();
        }
    }

    fn flush(&mut self) {
        let _ = self.out.flush();
        let _ = self.err.flush();
    }

    fn finish(&mut self) {
        self.release_connect_failed();
        let _ = self.out.flush();
        let _ = self.err.flush();
    }
}

/// `=== Trying …` text: `host:port (ip)` when the address is a socket address of a named host.
fn trying(host: &str, addr: &str) -> String {
    let host_e = escape_str(host);
    // A scoped IPv6 literal is its own address: `[fe80::1%eth0]:25`, the zone as written.
    if host.contains('%')
        && addr
            .strip_prefix('[')
            .and_then(|r| r.split_once("]:"))
            .is_some_and(|(h, _)| h == host)
    {
        return format!("Trying {}...", escape_str(addr));
    }
    match addr.parse::<std::net::SocketAddr>() {
        Ok(sa) if sa.ip().to_string() == host || host.is_empty() => format!("Trying {sa}..."),
        Ok(sa) => format!("Trying {host_e}:{} ({})...", sa.port(), sa.ip()),
        Err(_) if addr.is_empty() || addr == host => format!("Trying {host_e}..."),
        Err(_) => format!("Trying {host_e} ({})...", escape_str(addr)),
    }
}

fn days(n: i64) -> String {
    if n == 1 {
        "1 day".to_string()
    } else {
        format!("{n} days")
    }
}

fn days_phrase(days_left: i64) -> String {
    if days_left < 0 {
        format!("expired {} ago", days(-days_left))
    } else {
        format!("{} left", days(days_left))
    }
}

/// The CN of a subject written as `/CN=x/O=y` (OpenSSL oneline) or `CN=x, O=y` (RFC 4514).
fn common_name(subject: &str) -> Option<&str> {
    subject
        .split(['/', ','])
        .map(str::trim)
        .find_map(|part| part.strip_prefix("CN="))
}

/// `a, b, c … (N more)`, escaped, at most [`LIST_LIMIT`] items.
fn bounded_list(items: &[String], sep: &str) -> String {
    let mut s: Vec<String> = items
        .iter()
        .take(LIST_LIMIT)
        .map(|i| escape_str(i))
        .collect();
    if items.len() > LIST_LIMIT {
        s.push(format!("… ({} more)", items.len() - LIST_LIMIT));
    }
    s.join(sep)
}

/// Split on LF, dropping one CR before each LF and the empty piece after a final LF. Lazily:
/// a message's body is shown a line at a time, without a list of its lines.
fn split_lines(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    // The empty piece after a final LF is no line (an empty text is one empty line). The line
    // ends are found by memchr, not a closure called for every byte: the tests' debug builds run
    // ehlo's own code unoptimised (a 20 MB message's transcript).
    let mut rest = Some(bytes.strip_suffix(b"\n").unwrap_or(bytes));
    std::iter::from_fn(move || {
        let r = rest?;
        let piece = match memchr::memchr(b'\n', r) {
            Some(lf) => {
                rest = Some(&r[lf + 1..]);
                &r[..lf]
            }
            None => {
                rest = None;
                r
            }
        };
        Some(piece.strip_suffix(b"\r").unwrap_or(piece))
    })
}

/// An event's lines as the send's human transcript shows them, without colour, for a front end
/// whose transcript is lines of its own (`ehlo probe`'s evidence): the same words, not a
/// second wording of them. Each line keeps its prefix (`=== `, `!!! `).
pub(crate) fn plain_lines(event: &Event) -> Vec<String> {
    /// Both of the renderer's streams, gathered in order.
    #[derive(Clone, Default)]
    struct Gathered(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
    impl Write for Gathered {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let mut v = self.0.lock().unwrap_or_else(|p| p.into_inner());
            v.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let text = Gathered::default();
    let opts = HumanOptions {
        color: ColorChoice::Never,
        ..HumanOptions::default()
    };
    let mut h = Human::new(opts, Box::new(text.clone()), Box::new(text.clone()));
    h.event(event, Duration::ZERO);
    h.finish();
    drop(h);
    let bytes = std::mem::take(&mut *text.0.lock().unwrap_or_else(|p| p.into_inner()));
    String::from_utf8_lossy(&bytes)
        .lines()
        .map(str::to_string)
        .collect()
}

/// The reply as it arrived, one display line per wire line (`250-SIZE`, `250 HELP`), escaped.
/// Falls back to code + separator + text when the raw bytes are absent.
pub(crate) fn reply_lines(reply: &Reply) -> Vec<String> {
    if !reply.raw.0.is_empty() {
        return split_lines(&reply.raw.0).map(escape_bytes).collect();
    }
    let n = reply.lines.len();
    reply
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| match reply.code {
            Some(code) => {
                let sep = if i + 1 == n { ' ' } else { '-' };
                format!("{code}{sep}{}", escape_str(l))
            }
            None => escape_str(l),
        })
        .collect()
}

/// Explanation lines as `(label, meaning, role)`; the label is already padded so that the `=`
/// signs (and the `:` of `hint:`) line up, with the meaning text starting at the same column.
fn explanation_lines(
    reply: &Reply,
    ex: &Explanation,
    opts: &HumanOptions,
) -> Vec<(String, String, Role)> {
    let mut out = Vec::new();
    if let (Some(code), Some(basic)) = (reply.code, &ex.basic) {
        out.push((format!("{:>7} =", code), escape_str(basic), Role::Dim));
    }
    if let Some(e) = &ex.enhanced {
        let meaning = if e.meaning.is_empty() || e.meaning == e.title {
            escape_str(&e.title)
        } else if e.title.is_empty() {
            escape_str(&e.meaning)
        } else {
            format!("{}: {}", escape_str(&e.title), escape_str(&e.meaning))
        };
        out.push((format!("{:>7} =", escape_str(&e.code)), meaning, Role::Dim));
    }
    if let Some(h) = &ex.hint {
        let text = remedy::words(h, front_end(opts));
        out.push((format!("{:>9}", "hint:"), escape_str(&text), Role::Hint));
    }
    out
}

/// A SASL challenge's text when it is base64 of printable text (`VXNlcm5hbWU6` → `Username:`).
fn decoded_challenge(text: &str) -> Option<String> {
    use base64::Engine as _;
    let t = text.trim();
    if t.is_empty() || t.len() > 512 {
        return None;
    }
    let bytes = base64::engine::general_purpose::STANDARD.decode(t).ok()?;
    let plain = String::from_utf8(bytes).ok()?;
    (!plain.is_empty() && plain.chars().all(|c| !c.is_control())).then_some(plain)
}

/// A reply's latency for people: `12 ms`, `1.4 s`.
pub(crate) fn latency(ms: f64) -> String {
    let ms = ms.max(0.0);
    if ms < 1000.0 {
        format!("{} ms", ms.round())
    } else {
        format!("{:.1} s", ms / 1000.0)
    }
}

/// The front end a human transcript words remedies for.
fn front_end(o: &HumanOptions) -> FrontEnd {
    match (o.repl, o.replay) {
        (true, true) => FrontEnd::Replay,
        (true, false) => FrontEnd::Repl,
        (false, _) if o.swaks_spelling => FrontEnd::Swaks,
        (false, _) => FrontEnd::Send,
    }
}

/// One sentence describing a tolerated deviation, for humans (shared with the REPL and serve).
pub(crate) fn describe_deviation(d: &Deviation) -> String {
    match d {
        Deviation::BareLf => {
            "reply line ended in a bare LF instead of CRLF (RFC 5321 §2.3.8)".to_string()
        }
        Deviation::BareLfCommand => {
            "command line from the client ended in a bare LF instead of CRLF (RFC 5321 §2.3.8; taken as the line end)".to_string()
        }
        Deviation::BareCr => "reply line contains a CR that is not followed by LF".to_string(),
        Deviation::MixedCodes { first, found } => format!(
            "multi-line reply switched from code {first} to {found} (RFC 5321 §4.2.1: one code per reply); the last line's code counts"
        ),
        Deviation::MissingCode { line } => {
            format!(
                "line does not start with a three-digit code: \"{}\"",
                excerpt(line)
            )
        }
        Deviation::OddCode { code } => format!("reply code {code:03} is outside 2xx–5xx"),
        Deviation::BadSeparator { line } => format!(
            "character after the code is neither space nor hyphen: \"{}\"",
            excerpt(line)
        ),
        Deviation::OverlongLine { len, limit } => format!(
            "line of at least {len} bytes exceeds the {limit}-byte limit; the rest was discarded"
        ),
        Deviation::ReplyTooLarge { .. } => format!(
            "reply too large: {}; stopped reading",
            crate::smtp::reply::describe_cut(d)
        ),
        Deviation::NotUtf8 => "reply text is not valid UTF-8 (shown with escapes)".to_string(),
        Deviation::EnhancedClassMismatch { code, enhanced } => format!(
            "enhanced code {} does not match the class of reply code {code} (RFC 3463 §2)",
            excerpt(enhanced)
        ),
        Deviation::TruncatedAtClose => {
            "connection closed in the middle of a reply; the partial reply is shown".to_string()
        }
        Deviation::StartTlsInjection { bytes, len } => format!(
            "{len} bytes arrived after the STARTTLS 220 and before the TLS handshake; discarded \
             (command injection, CVE-2011-0411): \"{}\"",
            excerpt(&escape_bytes(&bytes.0))
        ),
        Deviation::UnsolicitedReply => "server sent a reply nobody asked for".to_string(),
        Deviation::UnsolicitedFlood { replies } => format!(
            "server sent {} replies in a row that nobody asked for; stopped reading",
            group_digits(*replies)
        ),
        Deviation::EarlyReply => "a reply arrived before its command was sent: the server is \
                                  out of step, so later replies may answer earlier commands"
            .to_string(),
        Deviation::LongReplyLine { len } => {
            format!("reply line of {len} octets exceeds the 512-octet limit (RFC 5321 §4.5.3.1.5)")
        }
    }
}

/// Escaped and cut to [`EXCERPT_LIMIT`] characters.
fn excerpt(s: &str) -> String {
    let e = escape_str(s);
    if e.chars().count() <= EXCERPT_LIMIT {
        e
    } else {
        let mut cut: String = e.chars().take(EXCERPT_LIMIT).collect();
        cut.push('…');
        cut
    }
}

/// A multi-line reply's text on one summary line: every line kept, joined with " / ".
pub(crate) fn reply_text(text: &str) -> String {
    text.split('\n')
        .map(escape_str)
        .collect::<Vec<_>>()
        .join(" / ")
}

/// [`escape_str`] line by line: a message of several lines keeps its line breaks, and every
/// other control character (ESC, CR, BS, C1) in it, from a user's argument as from a server's
/// reply, reaches the terminal escaped.
pub(crate) fn escape_lines(text: &str) -> String {
    text.split('\n')
        .map(escape_str)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Hex dump lines: `0000: 45 48 4C 4F  20 68 …  EHLO.h…` — offset, 16 bytes in 4 groups of 4,
/// then the bytes as ASCII with `.` for anything unprintable.
pub(crate) fn hex_dump(bytes: &[u8]) -> impl Iterator<Item = String> {
    bytes.chunks(16).enumerate().map(|(i, chunk)| {
        let mut line = format!("{:04X}: ", i * 16);
        for j in 0..16 {
            if j > 0 {
                line.push(' ');
                if j % 4 == 0 {
                    line.push(' ');
                }
            }
            match chunk.get(j) {
                Some(b) => {
                    let _ = write!(line, "{b:02X}");
                }
                None => line.push_str("  "),
            }
        }
        line.push_str("  ");
        line.extend(chunk.iter().map(|&b| {
            if (0x20..0x7f).contains(&b) {
                b as char
            } else {
                '.'
            }
        }));
        line
    })
}

#[cfg(test)]
mod tests {

    use super::*;

    #[test]
    fn split_lines_is_the_split_on_lf_without_a_final_empty_piece_and_one_cr() {
        let reference = |bytes: &[u8]| -> Vec<Vec<u8>> {
            bytes
                .strip_suffix(b"\n")
                .unwrap_or(bytes)
                .split(|&b| b == b'\n')
                .map(|p| p.strip_suffix(b"\r").unwrap_or(p).to_vec())
                .collect()
        };
        // Every text of up to six bytes from {a, CR, LF}, then some longer ones.
        let mut texts: Vec<Vec<u8>> = vec![Vec::new()];
        for len in 1..=6u32 {
            for n in 0..3usize.pow(len) {
                let mut t = Vec::new();
                let mut k = n;
                for _ in 0..len {
                    t.push([b'a', b'\r', b'\n'][k % 3]);
                    k /= 3;
                }
                texts.push(t);
            }
        }
        texts.push(b"one\r\ntwo\r\n\r\n\nthree\r\r\n".to_vec());
        for t in texts {
            let got: Vec<Vec<u8>> = split_lines(&t).map(<[u8]>::to_vec).collect();
            assert_eq!(got, reference(&t), "{t:?}");
        }
    }
    use crate::smtp::codes::{EnhancedInfo, Hint};
    use crate::smtp::event::{Bytes, Phase, RecipientResult, VerifyVerdict};

    use crate::render::test_sink::Shared;

    struct Run {
        out: Shared,
        err: Shared,
    }

    fn render(opts: HumanOptions, events: &[Event]) -> Run {
        let out = Shared::default();
        let err = Shared::default();
        let opts = HumanOptions {
            color: ColorChoice::Never,
            ..opts
        };
        let mut h = Human::new(opts, Box::new(out.clone()), Box::new(err.clone()));
        for e in events {
            h.event(e, Duration::from_millis(5));
        }
        h.finish();
        Run { out, err }
    }

    fn sent(text: &str, tls: bool, expected: bool) -> Event {
        Event::Sent {
            text: text.into(),
            kind: SentKind::Command,
            bytes: text.len() + 2,
            lines: 1,
            tls,
            expected,
            redacted: false,
            phase: Phase::Other,
        }
    }

    fn recv(reply: Reply, tls: bool, expected: bool) -> Event {
        recv_ex(reply, tls, expected, Explanation::default())
    }

    fn recv_ex(reply: Reply, tls: bool, expected: bool, explanation: Explanation) -> Event {
        Event::Received {
            reply,
            tls,
            expected,
            phase: Phase::Other,
            explanation,
        }
    }

    fn info(m: &str) -> Event {
        Event::info(m)
    }

    fn plain_session() -> Vec<Event> {
        vec![
            Event::Connecting {
                host: "mx.example.net".into(),
                addr: "192.0.2.1:25".into(),
            },
            Event::Connected {
                host: "mx.example.net".into(),
                peer: "192.0.2.1:25".into(),
                local: "192.0.2.9:40000".into(),
                proxy: None,
            },
            recv(Reply::new(220, &["mx.example.net ESMTP"]), false, true),
            sent("EHLO client.example.org", false, true),
            recv(
                Reply::new(250, &["mx.example.net", "SIZE 1000", "HELP"]),
                false,
                true,
            ),
            sent("MAIL FROM:<alice@example.org>", false, true),
            recv(Reply::new(250, &["2.1.0 Ok"]), false, true),
            sent("RCPT TO:<nobody@example.net>", false, true),
            recv(
                Reply::new(
                    550,
                    &["5.1.1 <nobody@example.net>: Recipient address rejected"],
                ),
                false,
                false,
            ),
            sent("QUIT", false, true),
            recv(Reply::new(221, &["2.0.0 Bye"]), false, true),
            Event::Closed { expected: true },
        ]
    }

    #[test]
    fn plain_session_transcript() {
        let r = render(HumanOptions::default(), &plain_session());
        assert_eq!(
            r.out.text(),
            "\
=== Trying mx.example.net:25 (192.0.2.1)...
=== Connected to mx.example.net.
<-  220 mx.example.net ESMTP
 -> EHLO client.example.org
<-  250-mx.example.net
<-  250-SIZE 1000
<-  250 HELP
 -> MAIL FROM:<alice@example.org>
<-  250 2.1.0 Ok
 -> RCPT TO:<nobody@example.net>
<** 550 5.1.1 <nobody@example.net>: Recipient address rejected
 -> QUIT
<-  221 2.0.0 Bye
=== Connection closed with remote host.
"
        );
        assert_eq!(r.err.text(), "");
    }

    #[test]
    fn reply_hints_word_their_remedies_per_front_end() {
        let ex = Explanation {
            basic: Some("refused".into()),
            enhanced: None,
            hint: Some("relay denied: add ⟨auth⟩, or ⟨tls⟩ first".into()),
            severity: Some(Severity::Permanent),
        };
        let ev = [recv_ex(
            Reply::new(554, &["relay denied"]),
            false,
            false,
            ex,
        )];
        let send = render(HumanOptions::default(), &ev);
        assert!(
            send.out
                .text()
                .contains("hint: relay denied: add --auth --auth-user USER, or --tls first"),
            "{}",
            send.out.text()
        );
        let repl = HumanOptions {
            repl: true,
            ..HumanOptions::default()
        };
        let repl = render(repl, &ev);
        assert!(
            repl.out
                .text()
                .contains("hint: relay denied: add :auth PLAIN USER, or :starttls first"),
            "{}",
            repl.out.text()
        );
    }

    /// The client session's warnings name remedies, not flags: the send words them as its
    /// flags, the REPL as its commands; text from elsewhere stays as it is.
    #[test]
    fn warnings_word_their_remedies_per_front_end() {
        let ev = [
            Event::Warning {
                message: Hint::new(
                    "AUTH over an unencrypted connection: the credentials can be read on the wire (add ⟨tls⟩)",
                ),
            },
            Event::warning("the server said ⟨tls⟩"),
        ];
        let send = render(HumanOptions::default(), &ev).out.text();
        assert!(
            send.contains("!!! AUTH over an unencrypted connection: the credentials can be read on the wire (add --tls)"),
            "{send}"
        );
        assert!(send.contains("!!! the server said ⟨tls⟩"), "{send}");
        let repl = HumanOptions {
            repl: true,
            ..HumanOptions::default()
        };
        let repl = render(repl, &ev).out.text();
        assert!(repl.contains("read on the wire (add :starttls)"), "{repl}");
    }

    #[test]
    fn a_tls_failure_is_named_once() {
        let ev = [
            Event::TlsFailed {
                reason: Hint::plain(
                    "TLS handshake failed: the peer closed the connection during the handshake",
                ),
            },
            Event::TlsFailed {
                reason: Hint::plain("the server ended the TLS session: tlsv13 alert"),
            },
        ];
        let err = render(HumanOptions::default(), &ev).err.text();
        assert_eq!(
            err,
            "*** TLS handshake failed: the peer closed the connection during the handshake\n\
             *** TLS handshake failed: the server ended the TLS session: tlsv13 alert\n",
            "{err}"
        );
    }

    #[test]
    fn notes_are_shown_as_they_are_with_control_bytes_escaped() {
        let note = Event::Note {
            text: "mx.test:\n  SIZE             10\x1b[31m".into(),
        };
        let r = render(HumanOptions::default(), &[note]);
        assert_eq!(r.out.text(), "mx.test:\n  SIZE             10\\x1B[31m\n");
        assert_eq!(r.err.text(), "");
    }

    #[test]
    fn multi_line_reply_without_raw_is_reconstructed() {
        let mut reply = Reply::new(250, &["a", "b", "c"]);
        reply.raw = Bytes::default();
        let r = render(HumanOptions::default(), &[recv(reply, true, true)]);
        assert_eq!(r.out.text(), "<~  250-a\n<~  250-b\n<~  250 c\n");
    }

    #[test]
    fn raw_reply_control_bytes_are_escaped() {
        let mut reply = Reply::new(250, &["x"]);
        reply.raw = Bytes(b"250-a\x1b[31mred\n250 b\tc\xff\x7f\r\n".to_vec());
        reply.deviations = vec![Deviation::BareLf];
        let r = render(
            HumanOptions {
                explain: ExplainLevel::None,
                ..Default::default()
            },
            &[recv(reply, false, true)],
        );
        assert_eq!(
            r.out.text(),
            "<-  250-a\\x1B[31mred\n<-  250 b\\x09c\\xFF\\x7F\n\
             !!! deviation: reply line ended in a bare LF instead of CRLF (RFC 5321 §2.3.8)\n"
        );
        assert!(!r.out.text().contains('\x1b'));
    }

    #[test]
    fn escapes_c1_and_bidi() {
        assert_eq!(escape_str("a\u{9b}b\u{202e}c"), "a\\u{009B}b\\u{202E}c");
        assert_eq!(escape_bytes(b"ok\x00"), "ok\\x00");
    }

    /// A server's banner `mx<U+FEFF>.test` showed as `mx.test` in the transcript: it is not
    /// that name, and zero-width characters are shown escaped as the bidi controls are.
    #[test]
    fn zero_width_and_invisible_characters_are_shown_escaped() {
        assert_eq!(
            escape_str("mx\u{feff}.test \u{200b}\u{200c}\u{200d}\u{ad}\u{2060}\u{2064}é✓"),
            "mx\\u{FEFF}.test \\u{200B}\\u{200C}\\u{200D}\\u{00AD}\\u{2060}\\u{2064}é✓"
        );
    }

    /// U+061C is a bidi control like U+202E (an MTA-STS policy line carried it to the terminal
    /// raw); U+2028/U+2029 end a line in editors and log viewers.
    #[test]
    fn escapes_every_bidi_control_and_the_unicode_line_separators() {
        assert_eq!(
            escape_str("mx.\u{61c}a\u{2028}b\u{2029}c"),
            "mx.\\u{061C}a\\u{2028}b\\u{2029}c"
        );
    }

    fn tls_info(days_left: i64, ok: bool, enforced: bool) -> TlsInfo {
        TlsInfo {
            version: "TLSv1.3".into(),
            cipher: "TLS_AES_256_GCM_SHA384".into(),
            bits: 256,
            sni: Some("mx.example.net".into()),
            chain: vec![CertInfo {
                subject: "/CN=mx.example.net".into(),
                issuer: "/CN=Example CA/O=Example".into(),
                sans: vec!["DNS:mx.example.net".into(), "DNS:example.net".into()],
                not_before: "2026-01-01T00:00:00Z".into(),
                not_after: "2027-01-01T00:00:00Z".into(),
                days_left,
                not_yet_valid: false,
                sha256: "AA:BB".into(),
                pem: String::new(),
            }],
            verify: VerifyVerdict {
                ok,
                enforced,
                checked_name: Some("mx.example.net".into()),
                chain_ok: ok,
                name_ok: true,
                matched: Some("DNS:mx.example.net".into()),
                reason: (!ok).then(|| "self-signed certificate".into()),
                only: None,
                waived: None,
            },
            client_cert_sent: false,
            client_cert_requested: false,
            client_cert_configured: false,
            ocsp_stapled: false,
            dane: None,
        }
    }

    #[test]
    fn tls_block() {
        let r = render(
            HumanOptions::default(),
            &[
                Event::TlsStarted {
                    info: tls_info(120, true, true),
                },
                sent("EHLO client.example.org", true, true),
                recv(Reply::new(250, &["mx.example.net"]), true, true),
            ],
        );
        assert_eq!(
            r.out.text(),
            "\
=== TLS started with cipher TLSv1.3:TLS_AES_256_GCM_SHA384:256
=== TLS client certificate not sent
=== TLS SNI sent: mx.example.net
=== TLS peer[0]   subject=[/CN=mx.example.net]
===               commonName=[mx.example.net], subjectAltName=[DNS:mx.example.net, DNS:example.net] notAfter=[2027-01-01T00:00:00Z] (120 days left)
===               issuer=[/CN=Example CA/O=Example]
=== TLS peer certificate passed CA verification, passed host verification (using host mx.example.net to verify; matched DNS:mx.example.net)
=== TLS OCSP response stapled: no
 ~> EHLO client.example.org
<~  250 mx.example.net
"
        );
    }

    /// A renegotiation's different certificate is shown as the one now in use: a head line,
    /// then every line of its block marked "renegotiated" (with the SHA-256 fingerprint), so
    /// it is not read as the first handshake's; the session's parameters are not repeated.
    #[test]
    fn tls_renegotiated_certificate_is_marked() {
        let mut info = tls_info(120, true, true);
        info.version = "TLSv1.2".into();
        info.cipher = String::new();
        info.chain[0].sha256 = "AB:CD".into();
        let r = render(HumanOptions::default(), &[Event::TlsRenegotiated { info }]);
        assert_eq!(
            r.out.text(),
            "\
=== TLS renegotiated: the server now presents a different certificate (TLSv1.2)
=== TLS renegotiated peer[0]   subject=[/CN=mx.example.net]
===                            commonName=[mx.example.net], subjectAltName=[DNS:mx.example.net, DNS:example.net] notAfter=[2027-01-01T00:00:00Z] (120 days left)
===                            issuer=[/CN=Example CA/O=Example]
=== TLS renegotiated peer[0] sha256=[AB:CD]
=== TLS renegotiated peer certificate passed CA verification, passed host verification (using host mx.example.net to verify; matched DNS:mx.example.net)
"
        );
    }

    /// A certificate not valid yet says from when, instead of counting the days it has left.
    #[test]
    fn tls_not_yet_valid() {
        let mut info = tls_info(1488, false, true);
        info.chain[0].not_yet_valid = true;
        info.chain[0].not_before = "2030-01-01T00:00:00Z".into();
        let r = render(HumanOptions::default(), &[Event::TlsStarted { info }]);
        let out = r.out.text();
        assert!(
            out.contains(
                "notBefore=[2030-01-01T00:00:00Z] (not valid yet) notAfter=[2027-01-01T00:00:00Z]\n"
            ),
            "{out}"
        );
        assert!(!out.contains("days left"), "{out}");
        // The warning is the connection layer's `Warning` event (`tls::dates_words`), which
        // JSON carries too: the renderer composes none of its own.
        assert!(!out.contains("!!!"), "{out}");
    }

    #[test]
    fn tls_insecure_expired_and_expiring() {
        let r = render(
            HumanOptions::default(),
            &[Event::TlsStarted {
                info: tls_info(-3, false, false),
            }],
        );
        let out = r.out.text();
        assert!(out.contains("notAfter=[2027-01-01T00:00:00Z] (expired 3 days ago)\n"));
        assert!(!out.contains("!!!"), "{out}");
        assert!(out.contains(
            "=== TLS peer certificate failed CA verification (self-signed certificate), passed host"
        ));
        assert!(out.contains("=== (verification not enforced: --insecure)\n"));
        // `--tls-verify dane` with a secure TLSA RRset of unusable records says its own why.
        let mut info = tls_info(30, false, false);
        info.verify.waived = Some("the TLSA records are all unusable".into());
        let r = render(HumanOptions::default(), &[Event::TlsStarted { info }]);
        let out = r.out.text();
        assert!(
            out.contains("=== (verification not enforced: the TLSA records are all unusable)\n")
                && !out.contains("--insecure"),
            "{out}"
        );

        let r = render(
            HumanOptions::default(),
            &[Event::TlsStarted {
                info: tls_info(5, true, true),
            }],
        );
        let out = r.out.text();
        assert!(!out.contains("!!!"), "{out}");
        assert!(!out.contains("not enforced"));
    }

    fn rejected() -> Event {
        recv_ex(
            Reply::new(550, &["5.1.1 <nobody@example.net>: no such user"]),
            false,
            false,
            Explanation {
                basic: Some("mailbox unavailable".into()),
                enhanced: Some(EnhancedInfo {
                    code: "5.1.1".into(),
                    title: "Bad destination mailbox address".into(),
                    meaning: "the mailbox does not exist".into(),
                }),
                hint: Some("check the recipient's spelling".into()),
                severity: Some(Severity::Permanent),
            },
        )
    }

    fn accepted_explained() -> Event {
        recv_ex(
            Reply::new(250, &["2.1.0 Ok"]),
            false,
            true,
            Explanation {
                basic: Some("requested action completed".into()),
                enhanced: None,
                hint: None,
                severity: Some(Severity::Ok),
            },
        )
    }

    #[test]
    fn explanation_levels() {
        let events = [accepted_explained(), rejected()];
        let errors = "\
<-  250 2.1.0 Ok
<** 550 5.1.1 <nobody@example.net>: no such user
        550 = mailbox unavailable
      5.1.1 = Bad destination mailbox address: the mailbox does not exist
        hint: check the recipient's spelling
";
        let r = render(HumanOptions::default(), &events);
        assert_eq!(r.out.text(), errors);

        let r = render(
            HumanOptions {
                explain: ExplainLevel::All,
                ..Default::default()
            },
            &events,
        );
        assert_eq!(
            r.out.text(),
            "<-  250 2.1.0 Ok\n        250 = requested action completed\n".to_string()
                + &errors["<-  250 2.1.0 Ok\n".len()..]
        );

        let r = render(
            HumanOptions {
                explain: ExplainLevel::None,
                ..Default::default()
            },
            &events,
        );
        assert_eq!(
            r.out.text(),
            "<-  250 2.1.0 Ok\n<** 550 5.1.1 <nobody@example.net>: no such user\n"
        );
    }

    #[test]
    fn explanation_alignment_without_hints() {
        let r = render(
            HumanOptions {
                hints: false,
                ..Default::default()
            },
            &[rejected()],
        );
        assert_eq!(
            r.out.text(),
            "\
550 5.1.1 <nobody@example.net>: no such user
    550 = mailbox unavailable
  5.1.1 = Bad destination mailbox address: the mailbox does not exist
    hint: check the recipient's spelling
"
        );
    }

    #[test]
    fn deviation_on_ok_reply_is_explained_at_errors_level() {
        let mut reply = Reply::new(250, &["ok"]);
        reply.deviations = vec![Deviation::MixedCodes {
            first: 250,
            found: 251,
        }];
        let ex = Explanation {
            basic: Some("done".into()),
            severity: Some(Severity::Ok),
            ..Default::default()
        };
        let r = render(HumanOptions::default(), &[recv_ex(reply, false, true, ex)]);
        assert_eq!(
            r.out.text(),
            "<-  250 ok\n\
             !!! deviation: multi-line reply switched from code 250 to 251 (RFC 5321 §4.2.1: one code per reply); the last line's code counts\n\
             \x20       250 = done\n"
        );
    }

    fn body() -> Event {
        Event::Sent {
            text: "Subject: hi\r\n\r\nhello\r\n.\r\n".into(),
            kind: SentKind::Body,
            bytes: 27,
            lines: 4,
            tls: false,
            expected: true,
            redacted: false,
            phase: Phase::Dot,
        }
    }

    /// An output that keeps every write's size, in order, and the bytes written.
    #[derive(Clone, Default)]
    struct Writes(std::sync::Arc<std::sync::Mutex<(Vec<usize>, Vec<u8>)>>);
    impl Write for Writes {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            let mut g = self.0.lock().unwrap();
            g.0.push(b.len());
            g.1.extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// A message's lines are written 64 KiB at a time: a 20 000-line message took 20 000
    /// writes or more (one write(2) per line to stdout: 20 million for a 60 MB message of
    /// short lines, 20 s of system time), and the transcript is unchanged.
    #[test]
    fn a_messages_lines_are_written_in_few_writes() {
        let text = "a line of the message\r\n".repeat(20_000);
        let event = Event::Sent {
            bytes: text.len(),
            text,
            kind: SentKind::Body,
            lines: 20_000,
            tls: false,
            expected: true,
            redacted: false,
            phase: Phase::Dot,
        };
        let (out, err) = (Writes::default(), Writes::default());
        let opts = HumanOptions {
            color: ColorChoice::Never,
            ..Default::default()
        };
        let mut h = Human::new(opts, Box::new(out.clone()), Box::new(err.clone()));
        h.event(&event, Duration::ZERO);
        h.event(&info("after it"), Duration::ZERO);
        h.finish();
        let (sizes, bytes) = out.0.lock().unwrap().clone();
        let writes = sizes.len();
        let shown = String::from_utf8(bytes).unwrap();
        assert_eq!(
            shown,
            " -> a line of the message\n".repeat(20_000) + "=== after it\n"
        );
        assert!(writes < 20, "{writes} writes");
    }

    /// A message line longer than 64 KiB is written in pieces, never whole (it was escaped,
    /// prefixed and painted as three more copies of it), and reads as it did: a character
    /// across a piece's edge whole, an invalid byte and a control character escaped.
    #[test]
    fn a_long_message_line_is_written_in_pieces_as_it_read() {
        let mut line = Vec::new();
        for i in 0..150_000usize {
            line.extend_from_slice(match i % 7 {
                0 => "é".as_bytes(),
                3 => b"\xff",
                5 => b"\x1b",
                _ => b"abcdefghi",
            });
        }
        let mut wire = b"Subject: long\r\n\r\n".to_vec();
        wire.extend_from_slice(&line);
        wire.extend_from_slice(b"\r\n.\r\n");
        let event = Event::Sent {
            bytes: wire.len(),
            text: String::from_utf8_lossy(&wire).into_owned(),
            kind: SentKind::Body,
            lines: 4,
            tls: false,
            expected: true,
            redacted: false,
            phase: Phase::Dot,
        };
        let want = format!(
            " -> Subject: long\n -> \n -> {}\n -> .\n",
            escape_bytes(String::from_utf8_lossy(&line).as_bytes())
        );
        let out = Writes::default();
        let opts = HumanOptions {
            color: ColorChoice::Never,
            ..Default::default()
        };
        let mut h = Human::new(opts, Box::new(out.clone()), Box::new(Writes::default()));
        h.event(&event, Duration::ZERO);
        h.finish();
        let (sizes, bytes) = out.0.lock().unwrap().clone();
        let largest = sizes.into_iter().max().unwrap_or(0);
        let got = String::from_utf8(bytes).unwrap();
        let at = got
            .bytes()
            .zip(want.bytes())
            .take_while(|(a, b)| a == b)
            .count();
        assert!(
            got == want,
            "differs at {at} of {}/{}: {:?} / {:?}",
            got.len(),
            want.len(),
            &got[at.saturating_sub(20)..(at + 20).min(got.len())],
            &want[at.saturating_sub(20)..(at + 20).min(want.len())]
        );
        assert!(largest <= 3 * HELD_BYTES, "a write of {largest} bytes");
        assert!(want.len() > 8 * HELD_BYTES);
    }

    #[test]
    fn body_lines_and_suppress_data() {
        let r = render(HumanOptions::default(), &[body()]);
        assert_eq!(r.out.text(), " -> Subject: hi\n -> \n -> hello\n -> .\n");
        let r = render(
            HumanOptions {
                suppress_data: true,
                ..Default::default()
            },
            &[body()],
        );
        assert_eq!(r.out.text(), " -> 4 lines sent\n");
    }

    #[test]
    fn silent_1_holds_until_error_then_flows() {
        let opts = HumanOptions {
            silent: 1,
            ..Default::default()
        };
        // No error: nothing at all.
        let r = render(
            opts.clone(),
            &[
                info("hello"),
                sent("NOOP", false, true),
                Event::Closed { expected: true },
            ],
        );
        assert_eq!(r.out.text(), "");
        assert_eq!(r.err.text(), "");

        let r = render(
            opts,
            &[
                info("one"),
                sent("RCPT TO:<x@y>", false, true),
                recv(Reply::new(550, &["no"]), false, false),
                info("after"),
            ],
        );
        // From the error on; the lines before it are not replayed (swaks).
        assert_eq!(r.out.text(), "<** 550 no\n=== after\n");
    }

    #[test]
    fn silent_1_triggered_by_stderr_error_keeps_order_per_stream() {
        let r = render(
            HumanOptions {
                silent: 1,
                ..Default::default()
            },
            &[info("one"), Event::Closed { expected: false }, info("two")],
        );
        assert_eq!(r.out.text(), "=== two\n");
        assert_eq!(
            r.err.text(),
            "*** Remote host closed connection unexpectedly.\n"
        );
    }

    #[test]
    fn silent_2_only_errors() {
        let mut events = plain_session();
        events.push(Event::Error {
            message: "boom".into(),
        });
        let r = render(
            HumanOptions {
                silent: 2,
                ..Default::default()
            },
            &events,
        );
        assert_eq!(
            r.out.text(),
            "<** 550 5.1.1 <nobody@example.net>: Recipient address rejected\n"
        );
        assert_eq!(r.err.text(), "*** boom\n");
    }

    #[test]
    fn hide_options_drop_their_kind_of_line() {
        use crate::render::Kinds;
        let mut events = plain_session();
        events.push(Event::Error {
            message: "boom".into(),
        });
        let opts = |hide| HumanOptions {
            hide,
            ..Default::default()
        };
        let r = render(
            opts(Kinds {
                receive: true,
                ..Kinds::default()
            }),
            &events,
        );
        assert!(!r.out.text().contains("<-") && !r.out.text().contains("<**"));
        assert!(r.out.text().contains(" -> QUIT") && r.out.text().contains("=== Connected"));
        let r = render(
            opts(Kinds {
                send: true,
                ..Kinds::default()
            }),
            &events,
        );
        assert!(!r.out.text().contains(" ->"), "{}", r.out.text());
        assert!(r.out.text().contains("<-  221"));
        let r = render(
            opts(Kinds {
                info: true,
                ..Kinds::default()
            }),
            &events,
        );
        assert!(!r.out.text().contains("==="), "{}", r.out.text());
        assert!(r.out.text().contains(" -> QUIT") && r.out.text().contains("<-  221"));
        // -hi keeps errors; -ha hides them too.
        assert_eq!(r.err.text(), "*** boom\n");
        let r = render(
            opts(Kinds {
                send: true,
                receive: true,
                info: true,
                errors: true,
            }),
            &events,
        );
        assert_eq!(r.out.text(), "");
        assert_eq!(r.err.text(), "");
    }

    #[test]
    fn no_hint_options_bare_their_kind_of_line() {
        use crate::render::Kinds;
        let mut events = plain_session();
        events.push(Event::Error {
            message: "boom".into(),
        });
        let opts = |bare| HumanOptions {
            bare,
            ..Default::default()
        };
        let r = render(
            opts(Kinds {
                send: true,
                ..Kinds::default()
            }),
            &events,
        );
        let out = r.out.text();
        assert!(out.contains("\nQUIT\n") && out.contains("<-  221"), "{out}");
        let r = render(
            opts(Kinds {
                receive: true,
                ..Kinds::default()
            }),
            &events,
        );
        let out = r.out.text();
        assert!(
            out.contains("\n221 2.0.0 Bye\n") && out.contains(" -> QUIT"),
            "{out}"
        );
        let r = render(
            opts(Kinds {
                info: true,
                errors: true,
                ..Kinds::default()
            }),
            &events,
        );
        assert!(r.out.text().starts_with("Trying mx.example.net"));
        assert_eq!(r.err.text(), "boom\n");
    }

    /// The `Trying` line: a named host with its address, an address alone, a scoped IPv6
    /// literal with its zone as written.
    #[test]
    fn trying_names_the_host_and_the_address() {
        assert_eq!(
            super::trying("mx.example.net", "192.0.2.1:25"),
            "Trying mx.example.net:25 (192.0.2.1)..."
        );
        assert_eq!(super::trying("::1", "[::1]:25"), "Trying [::1]:25...");
        assert_eq!(
            super::trying("fe80::1%eth0", "[fe80::1%eth0]:25"),
            "Trying [fe80::1%eth0]:25..."
        );
        assert_eq!(
            super::trying("fe80::1%2", "[fe80::1%2]:25"),
            "Trying [fe80::1%2]:25..."
        );
    }

    #[test]
    fn silent_3_nothing() {
        let mut events = plain_session();
        events.push(Event::Error {
            message: "boom".into(),
        });
        let r = render(
            HumanOptions {
                silent: 3,
                ..Default::default()
            },
            &events,
        );
        assert_eq!(r.out.text(), "");
        assert_eq!(r.err.text(), "");
    }

    #[test]
    fn hex_dump_format() {
        let lines: Vec<_> = hex_dump(b"EHLO host.example\r\n").collect();
        assert_eq!(
            lines,
            vec![
                "0000: 45 48 4C 4F  20 68 6F 73  74 2E 65 78  61 6D 70 6C  EHLO host.exampl",
                "0010: 65 0D 0A                                            e..",
            ]
        );
        let r = render(
            HumanOptions {
                show_raw: true,
                ..Default::default()
            },
            &[
                Event::RawSent {
                    bytes: Bytes(b"QUIT\r\n".to_vec()),
                },
                Event::RawReceived {
                    bytes: Bytes(b"221 \xff".to_vec()),
                },
            ],
        );
        assert_eq!(
            r.out.text(),
            "  > 0000: 51 55 49 54  0D 0A                                  QUIT..\n\
             <   0000: 32 32 31 20  FF                                     221 .\n"
        );
        // Without --show-raw-text the raw events print nothing.
        let r = render(
            HumanOptions::default(),
            &[Event::RawSent {
                bytes: Bytes(b"QUIT\r\n".to_vec()),
            }],
        );
        assert_eq!(r.out.text(), "");
    }

    #[test]
    fn hints_off() {
        let r = render(
            HumanOptions {
                hints: false,
                ..Default::default()
            },
            &[
                info("hi"),
                sent("QUIT", false, true),
                recv(Reply::new(221, &["bye"]), false, true),
                Event::Error {
                    message: "bad".into(),
                },
            ],
        );
        assert_eq!(r.out.text(), "hi\nQUIT\n221 bye\n");
        assert_eq!(r.err.text(), "bad\n");
    }

    #[test]
    fn unexpected_sent_hints() {
        let r = render(
            HumanOptions::default(),
            &[sent("NOOP", false, false), sent("NOOP", true, false)],
        );
        assert_eq!(r.out.text(), "**> NOOP\n*~> NOOP\n");
    }

    #[test]
    fn connect_failure_dns_and_timing() {
        let r = render(
            HumanOptions {
                time_lapse: Some(false),
                ..Default::default()
            },
            &[
                Event::DnsQuery {
                    name: "example.com".into(),
                    rtype: "MX".into(),
                },
                Event::DnsAnswer {
                    name: "example.com".into(),
                    rtype: "MX".into(),
                    records: vec!["10 mx1.example.com.".into(), "20 mx2.example.com.".into()],
                    proof: None,
                },
                Event::ConnectFailed {
                    host: "mx1.example.com".into(),
                    addr: "192.0.2.1:25".into(),
                    reason: "Connection refused".into(),
                    cause: crate::smtp::event::ConnectCause::Refused,
                    os_error: None,
                },
                Event::Timing {
                    what: Timed::Reply,
                    phase: Phase::Banner,
                    ms: 123.4,
                },
                Event::Timing {
                    what: Timed::TlsHandshake,
                    phase: Phase::StartTls,
                    ms: 39.0,
                },
                Event::Timing {
                    what: Timed::Dns,
                    phase: Phase::Dns,
                    ms: 5.0,
                },
                Event::Timing {
                    what: Timed::Connect,
                    phase: Phase::Connect,
                    ms: 1.0,
                },
            ],
        );
        assert_eq!(
            r.out.text(),
            "=== MX lookup for example.com: 10 mx1.example.com., 20 mx2.example.com.\n\
             === response in 0.123s\n\
             === TLS handshake took 0.039s\n\
             === DNS lookup took 0.005s\n\
             === connect took 0.001s\n"
        );
        assert_eq!(
            r.err.text(),
            "*** Error connecting to mx1.example.com (192.0.2.1:25): Connection refused\n"
        );
        let r = render(
            HumanOptions {
                time_lapse: Some(true),
                ..Default::default()
            },
            &[Event::Timing {
                what: Timed::Reply,
                phase: Phase::Mail,
                ms: 2500.0,
            }],
        );
        assert_eq!(r.out.text(), "=== response in 2s\n");
        let r = render(
            HumanOptions::default(),
            &[Event::Timing {
                what: Timed::Reply,
                phase: Phase::Mail,
                ms: 2500.0,
            }],
        );
        assert_eq!(r.out.text(), "");
    }

    #[test]
    fn deviation_descriptions_are_escaped_and_bounded() {
        let d = Deviation::StartTlsInjection {
            bytes: Bytes(b"MAIL FROM:<x>\r\n".to_vec()),
            len: 15,
        };
        assert!(describe_deviation(&d).contains("\"MAIL FROM:<x>\\x0D\\x0A\""));
        let long = "x".repeat(500);
        let d = Deviation::MissingCode { line: long };
        assert!(describe_deviation(&d).len() < 200);
    }

    /// A one-shot send's last failed attempt is said once: the summary that repeats its reason
    /// stands for the `Error connecting` line; an earlier attempt's line, one the summary does
    /// not repeat, and the REPL's (no summary follows) are kept.
    #[test]
    fn a_refusal_is_one_line() {
        let failed = |addr: &str, reason: &str| Event::ConnectFailed {
            host: "mx.test".into(),
            addr: addr.into(),
            reason: reason.into(),
            cause: crate::smtp::event::ConnectCause::Refused,
            os_error: None,
        };
        let summary = |error: &str| {
            Event::Summary(Summary {
                exit_code: 2,
                outcome: "connect".into(),
                error: Some(error.into()),
                ..Default::default()
            })
        };
        let r = render(
            HumanOptions::default(),
            &[
                failed("192.0.2.1:25", "timed out"),
                failed("192.0.2.2:25", "Connection refused"),
                summary("could not connect to mx.test:25: Connection refused: hint"),
            ],
        );
        assert_eq!(
            r.err.text(),
            "*** Error connecting to mx.test (192.0.2.1:25): timed out\n\
             *** Result: failed (exit 2): could not connect to mx.test:25: Connection refused: hint\n"
        );
        let r = render(
            HumanOptions::default(),
            &[failed("192.0.2.1:25", "refused"), summary("something else")],
        );
        assert_eq!(r.err.text().lines().count(), 2, "{}", r.err.text());
        for opts in [
            HumanOptions::default(),
            HumanOptions {
                repl: true,
                ..Default::default()
            },
        ] {
            let r = render(opts, &[failed("192.0.2.1:25", "refused")]);
            assert_eq!(
                r.err.text(),
                "*** Error connecting to mx.test (192.0.2.1:25): refused\n"
            );
        }
    }

    #[test]
    fn summary_lines() {
        let ok = Summary {
            exit_code: 0,
            outcome: "ok".into(),
            recipients: vec![RecipientResult {
                address: "a@example.net".into(),
                status: RcptStatus::Accepted,
                code: Some(250),
                enhanced: Some("2.1.5".into()),
                text: Some("Ok".into()),
                data_code: None,
                data_enhanced: None,
                data_text: None,
            }],
            ..Default::default()
        };
        let r = render(HumanOptions::default(), &[Event::Summary(ok)]);
        assert_eq!(r.out.text(), "=== Result: ok\n");

        let failed = Summary {
            exit_code: 24,
            outcome: "rcpt_rejected".into(),
            error: Some("no recipient was accepted".into()),
            recipients: vec![
                RecipientResult {
                    address: "a@example.net".into(),
                    status: RcptStatus::PermFailed,
                    code: Some(550),
                    enhanced: Some("5.1.1".into()),
                    text: Some("no such user".into()),
                    data_code: None,
                    data_enhanced: None,
                    data_text: None,
                },
                RecipientResult {
                    address: "b@example.net".into(),
                    status: RcptStatus::NotAttempted,
                    code: None,
                    enhanced: None,
                    text: None,
                    data_code: None,
                    data_enhanced: None,
                    data_text: None,
                },
            ],
            ..Default::default()
        };
        let r = render(
            HumanOptions {
                silent: 1,
                ..Default::default()
            },
            &[info("before"), Event::Summary(failed)],
        );
        assert_eq!(
            r.out.text(),
            "",
            "silent 1 does not replay what came before the error"
        );
        assert_eq!(
            r.err.text(),
            "*** Result: failed (exit 24): no recipient was accepted\n\
             ***   <a@example.net> rejected (550 5.1.1 no such user)\n\
             ***   <b@example.net> not attempted\n"
        );

        // A multi-line refusal (Exim's sender verification) keeps every line.
        let exim = Summary {
            exit_code: 24,
            outcome: "rcpt_rejected".into(),
            error: Some("no recipient was accepted".into()),
            recipients: vec![RecipientResult {
                address: "a@example.net".into(),
                status: RcptStatus::PermFailed,
                code: Some(550),
                enhanced: None,
                text: Some(
                    "Verification failed for <s@example.org>\nUnrouteable address\n\
                     Sender verify failed"
                        .into(),
                ),
                data_code: None,
                data_enhanced: None,
                data_text: None,
            }],
            ..Default::default()
        };
        let r = render(HumanOptions::default(), &[Event::Summary(exim)]);
        assert!(
            r.err.text().contains(
                "<a@example.net> rejected (550 Verification failed for <s@example.org> / \
                 Unrouteable address / Sender verify failed)"
            ),
            "{}",
            r.err.text()
        );
    }

    #[test]
    fn closed_pipe_does_not_panic() {
        struct Broken;
        impl Write for Broken {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Err(std::io::ErrorKind::BrokenPipe.into())
            }
        }
        let mut h = Human::new(
            HumanOptions {
                color: ColorChoice::Never,
                ..Default::default()
            },
            Box::new(Broken),
            Box::new(Broken),
        );
        for e in plain_session() {
            h.event(&e, Duration::ZERO);
        }
        h.finish();
    }

    /// Cut at spaces within the width, continuation lines indented 4 more than the line; a
    /// word wider than the room stays whole; a line that fits is left alone.
    #[test]
    fn wrap_line_cuts_at_spaces_and_indents_the_rest() {
        assert_eq!(wrap_line("  short", 20), ["  short"]);
        assert_eq!(
            wrap_line("  one two three four five", 14),
            ["  one two", "      three", "      four", "      five"]
        );
        assert_eq!(
            wrap_line("averyveryverylongword and more", 10),
            ["averyveryverylongword", "    and", "    more"]
        );
    }
}
