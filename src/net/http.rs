//! One HTTP/1.1 GET (RFC 9112) over a stream the connection layer made: what `ehlo check` needs
//! to fetch an MTA-STS policy (RFC 8461 §3.3). The request names the host and asks the server to
//! close; the response is read once, front to back, with every part capped: the head (status
//! line and header lines), then — only when the caller wants it — the body, framed by
//! `Transfer-Encoding: chunked`, `Content-Length`, or the end of the connection (RFC 9112 §6.3).
//! Redirects and other statuses are reported, never followed. Every malformed response is a
//! one-line reason.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Bytes a server sent, quoted as everywhere else in ehlo (`\x1B`, `\xFF`).
use crate::smtp::escape::escape_bytes;

/// Most bytes of a response head (status line and header lines) read; hyper, which did this
/// before, allowed a few hundred KiB, and a policy host sends a few hundred bytes.
pub(crate) const MAX_HEAD: usize = 64 * 1024;

/// Most header lines in a head (hyper's default limit).
pub(crate) const MAX_HEADERS: usize = 100;

/// Most interim (1xx) responses skipped before the final one (RFC 9110 §15.2).
const MAX_INTERIM: usize = 8;

/// Longest chunk-size line (size, extensions) of a chunked body, most bytes of chunk
/// extensions in all (hyper's limit: a body of one-byte chunks could carry a few KiB of them
/// each), and most bytes of trailer fields after its last chunk.
const MAX_CHUNK_LINE: usize = 4096;
const MAX_EXTENSIONS: usize = 16 * 1024;
const MAX_TRAILERS: usize = 16 * 1024;

/// A response: status, the header fields as they came, and the body when it was asked for.
#[derive(Debug)]
pub(crate) struct Response {
    pub(crate) status: u16,
    headers: Vec<(String, Vec<u8>)>,
    /// `None` when the status was not one whose body was wanted.
    pub(crate) body: Option<Result<Vec<u8>, BodyError>>,
}

impl Response {
    /// The first field named `name` (any case) whatever its bytes: a value with bytes outside
    /// ASCII (`obs-text`, RFC 9110 §5.5) decoded as UTF-8 where it is, U+FFFD where not. For
    /// reporting what the server sent — a field that is there is not "missing" — with the
    /// renderers escaping what a terminal would act on.
    pub(crate) fn header(&self, name: &str) -> Option<String> {
        let (_, v) = self
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))?;
        Some(String::from_utf8_lossy(v).into_owned())
    }
}

/// The value of parameter `name` (any case) of a media type (`text/plain; charset="utf-8"`,
/// RFC 9110 §8.3.1 and §5.6.6): `;`-separated `name=value` after the type, blanks around
/// each, the value a token or a quoted-string (RFC 9110 §5.6.4: its `\\x` pairs unescaped).
/// The first such parameter; `Some("")` for one given without a value, as written; a
/// quoted-string with no closing quote is taken to the end, as lenient readers take it.
pub(crate) fn media_type_parameter(value: &str, name: &str) -> Option<String> {
    let mut rest = value.split_once(';')?.1;
    loop {
        rest = rest.trim_start_matches([' ', '\t', ';']);
        if rest.is_empty() {
            return None;
        }
        let end = rest.find(['=', ';']).unwrap_or(rest.len());
        let key = rest[..end].trim_matches([' ', '\t']);
        let has_value = rest[end..].starts_with('=');
        rest = &rest[end..];
        let mut v = String::new();
        if has_value {
            rest = rest[1..].trim_start_matches([' ', '\t']);
            if let Some(q) = rest.strip_prefix('"') {
                let mut chars = q.char_indices();
                let mut used = q.len();
                while let Some((i, c)) = chars.next() {
                    match c {
                        '"' => {
                            used = i + 1;
                            break;
                        }
                        '\\' => v.extend(chars.next().map(|(_, c)| c)),
                        c => v.push(c),
                    }
                }
                rest = &q[used..];
            } else {
                let end = rest.find(';').unwrap_or(rest.len());
                v = rest[..end].trim_end_matches([' ', '\t']).to_string();
            }
            // Whatever follows a value up to the next `;` is not part of it.
            rest = rest.find(';').map_or("", |i| &rest[i..]);
        }
        if key.eq_ignore_ascii_case(name) {
            return Some(v);
        }
    }
}

/// Why a body was not read whole.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum BodyError {
    /// More than the cap.
    TooLarge,
    /// Malformed framing, or the connection ended or failed inside the body.
    Broken(String),
}

/// How the body of a response is delimited (RFC 9112 §6.3).
#[derive(Debug, PartialEq, Eq)]
enum Framing {
    Chunked,
    Length(u64),
    UntilClose,
}

/// A response head, parsed.
#[derive(Debug)]
struct Head {
    status: u16,
    headers: Vec<(String, Vec<u8>)>,
    framing: Framing,
}

/// `GET path` from `host` over `stream`, with `User-Agent: agent` and `Connection: close`; the
/// body is read (at most `max_body` bytes) when `want_body(status)`. `Err` is why no response
/// head arrived.
pub(crate) async fn get<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    host: &str,
    path: &str,
    agent: &str,
    max_body: usize,
    want_body: impl Fn(u16) -> bool,
) -> Result<Response, String> {
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {agent}\r\nConnection: close\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| format!("sending the request failed: {e}"))?;
    stream
        .flush()
        .await
        .map_err(|e| format!("sending the request failed: {e}"))?;
    let mut r = Reader {
        stream,
        buf: Vec::new(),
        eof: false,
    };
    let mut interim = 0;
    let head = loop {
        let head = r.head().await?;
        // 1xx responses come before the final one (RFC 9110 §15.2); 101 is not one a GET
        // without Upgrade gets, so it is final here.
        if (100..200).contains(&head.status) && head.status != 101 {
            interim += 1;
            if interim > MAX_INTERIM {
                return Err(format!("more than {MAX_INTERIM} interim (1xx) responses"));
            }
            continue;
        }
        break head;
    };
    let body = if want_body(head.status) {
        Some(r.body(&head.framing, max_body).await)
    } else {
        None
    };
    Ok(Response {
        status: head.status,
        headers: head.headers,
        body,
    })
}

/// The response's bytes as they arrive: `buf` holds what was read and not yet consumed.
struct Reader<'a, S> {
    stream: &'a mut S,
    buf: Vec<u8>,
    eof: bool,
}

impl<S: AsyncRead + Unpin> Reader<'_, S> {
    /// Read more into `buf`; false at the end of the stream.
    async fn fill(&mut self) -> std::io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        let mut chunk = [0u8; 8192];
        let n = self.stream.read(&mut chunk).await?;
        if n == 0 {
            self.eof = true;
            return Ok(false);
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(true)
    }

    /// Read more into `buf` where the body's framing still expects bytes: the end of the
    /// stream there is a broken body, named by `what` was being read.
    async fn fill_inside(&mut self, what: &str) -> Result<(), BodyError> {
        if self
            .fill()
            .await
            .map_err(|e| BodyError::Broken(e.to_string()))?
        {
            Ok(())
        } else {
            Err(BodyError::Broken(format!(
                "the connection closed inside a {what}"
            )))
        }
    }

    /// The next response head, consumed from `buf`.
    async fn head(&mut self) -> Result<Head, String> {
        // Where the line being looked at starts: each byte is looked at once.
        let mut line_start = 0;
        let mut scanned = 0;
        let end = loop {
            if let Some(i) = self.buf[scanned..].iter().position(|&b| b == b'\n') {
                let nl = scanned + i;
                let line = &self.buf[line_start..nl];
                if (line.is_empty() || line == b"\r") && line_start > 0 {
                    break nl + 1;
                }
                line_start = nl + 1;
                scanned = nl + 1;
                continue;
            }
            scanned = self.buf.len();
            if self.buf.len() > MAX_HEAD {
                return Err(format!(
                    "the response head is longer than {} KiB",
                    MAX_HEAD / 1024
                ));
            }
            match self.fill().await {
                Ok(true) => {}
                Ok(false) if self.buf.is_empty() => {
                    return Err("the server closed the connection without a response".into());
                }
                Ok(false) => {
                    return Err("the connection closed inside the response head".into());
                }
                Err(e) => return Err(format!("reading the response failed: {e}")),
            }
        };
        if end > MAX_HEAD {
            return Err(format!(
                "the response head is longer than {} KiB",
                MAX_HEAD / 1024
            ));
        }
        let head = parse_head(&self.buf[..end]);
        self.buf.drain(..end);
        head
    }

    /// The body as `framing` delimits it, at most `max` bytes.
    async fn body(&mut self, framing: &Framing, max: usize) -> Result<Vec<u8>, BodyError> {
        let broken = |e: std::io::Error| BodyError::Broken(e.to_string());
        match *framing {
            Framing::Length(n) => {
                if n > max as u64 {
                    return Err(BodyError::TooLarge);
                }
                let n = n as usize;
                while self.buf.len() < n {
                    if !self.fill().await.map_err(broken)? {
                        return Err(BodyError::Broken(format!(
                            "the connection closed after {} of the {n} bytes Content-Length \
                             announced",
                            self.buf.len()
                        )));
                    }
                }
                self.buf.truncate(n);
                Ok(std::mem::take(&mut self.buf))
            }
            Framing::UntilClose => {
                while self.buf.len() <= max {
                    if !self.fill().await.map_err(broken)? {
                        return Ok(std::mem::take(&mut self.buf));
                    }
                }
                Err(BodyError::TooLarge)
            }
            Framing::Chunked => self.chunked(max).await,
        }
    }

    /// One line of a chunked body (without its line end), at most `cap` bytes.
    async fn line(&mut self, cap: usize, what: &str) -> Result<Vec<u8>, BodyError> {
        let mut scanned = 0;
        loop {
            if let Some(i) = self.buf[scanned..].iter().position(|&b| b == b'\n') {
                let nl = scanned + i;
                let mut line: Vec<u8> = self.buf.drain(..=nl).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(line);
            }
            scanned = self.buf.len();
            if self.buf.len() > cap {
                return Err(BodyError::Broken(format!(
                    "a {what} longer than {cap} bytes"
                )));
            }
            self.fill_inside(what).await?;
        }
    }

    /// A chunked body (RFC 9112 §7.1): chunks of a hexadecimal size (extensions ignored), each
    /// followed by a line end, a last chunk of size 0, trailer fields (ignored), an empty line.
    async fn chunked(&mut self, max: usize) -> Result<Vec<u8>, BodyError> {
        let mut body = Vec::new();
        let mut extensions = 0;
        loop {
            let line = self.line(MAX_CHUNK_LINE, "chunk-size line").await?;
            let size = chunk_size(&line).map_err(BodyError::Broken)?;
            extensions += line.len() - line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
            if extensions > MAX_EXTENSIONS {
                return Err(BodyError::Broken(format!(
                    "chunk extensions longer than {} KiB in all",
                    MAX_EXTENSIONS / 1024
                )));
            }
            if size == 0 {
                break;
            }
            if body.len() as u64 + size > max as u64 {
                return Err(BodyError::TooLarge);
            }
            let size = size as usize;
            while self.buf.len() < size {
                self.fill_inside("chunk").await?;
            }
            body.extend(self.buf.drain(..size));
            // The line end after the chunk's data.
            while self.buf.len() < 2 && self.buf.first() != Some(&b'\n') {
                self.fill_inside("chunk").await?;
            }
            match self.buf.as_slice() {
                [b'\r', b'\n', ..] => drop(self.buf.drain(..2)),
                [b'\n', ..] => drop(self.buf.drain(..1)),
                _ => {
                    return Err(BodyError::Broken(
                        "a chunk is longer than its size says".into(),
                    ));
                }
            }
        }
        // Trailer fields, up to the empty line that ends the message.
        let mut trailers = 0;
        loop {
            let line = self.line(MAX_TRAILERS, "trailer field").await?;
            if line.is_empty() {
                return Ok(body);
            }
            trailers += line.len() + 2;
            if trailers > MAX_TRAILERS {
                return Err(BodyError::Broken(format!(
                    "trailer fields longer than {} KiB",
                    MAX_TRAILERS / 1024
                )));
            }
        }
    }
}

/// A chunk-size line: 1-16 hexadecimal digits, then optional `;` extensions (RFC 9112 §7.1.1)
/// with optional whitespace before them.
fn chunk_size(line: &[u8]) -> Result<u64, String> {
    let digits = line
        .iter()
        .position(|b| !b.is_ascii_hexdigit())
        .unwrap_or(line.len());
    let rest = &line[digits..];
    let rest_ok = rest.is_empty() || {
        let t = rest.trim_ascii_start();
        t.first() == Some(&b';')
    };
    if digits == 0 || digits > 16 || !rest_ok {
        return Err(format!(
            "bad chunk-size line '{}'",
            escape_bytes(&line[..line.len().min(40)])
        ));
    }
    let hex = std::str::from_utf8(&line[..digits]).unwrap_or("");
    u64::from_str_radix(hex, 16).map_err(|e| format!("bad chunk size: {e}"))
}

/// Is `b` a `tchar` (RFC 9110 §5.6.2), what a field name is made of?
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Parse a response head (status line, header lines, the empty line): lines end with CRLF or a
/// bare LF (RFC 9112 §2.2 lets a recipient accept that).
fn parse_head(head: &[u8]) -> Result<Head, String> {
    let show = |l: &[u8]| escape_bytes(&l[..l.len().min(60)]);
    let mut lines = head
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let status_line = lines.next().unwrap_or_default();
    // `HTTP/1.x SP 3DIGIT [SP reason-phrase]` (RFC 9112 §4).
    let status = match status_line {
        [
            b'H',
            b'T',
            b'T',
            b'P',
            b'/',
            b'1',
            b'.',
            b'0' | b'1',
            b' ',
            d1 @ b'1'..=b'9',
            d2 @ b'0'..=b'9',
            d3 @ b'0'..=b'9',
            rest @ ..,
        ] if rest.is_empty() || rest[0] == b' ' => {
            u16::from(d1 - b'0') * 100 + u16::from(d2 - b'0') * 10 + u16::from(d3 - b'0')
        }
        _ => {
            return Err(format!(
                "not an HTTP/1.x status line: '{}'",
                show(status_line)
            ));
        }
    };
    let mut headers: Vec<(String, Vec<u8>)> = Vec::new();
    for line in lines {
        if line.is_empty() {
            break;
        }
        if line[0] == b' ' || line[0] == b'\t' {
            return Err(format!(
                "a folded header line (obs-fold, RFC 9112 §5.2): '{}'",
                show(line)
            ));
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            return Err(format!("a header line without a colon: '{}'", show(line)));
        };
        let name = &line[..colon];
        if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) {
            return Err(format!("a bad header field name: '{}'", show(line)));
        }
        let value = line[colon + 1..].trim_ascii();
        if value.iter().any(|&b| (b < 0x20 && b != b'\t') || b == 0x7f) {
            return Err(format!(
                "a control character in a header value: '{}'",
                show(line)
            ));
        }
        if headers.len() == MAX_HEADERS {
            return Err(format!("more than {MAX_HEADERS} header lines"));
        }
        let name = String::from_utf8_lossy(name).into_owned();
        headers.push((name, value.to_vec()));
    }
    let framing = framing(&headers)?;
    Ok(Head {
        status,
        headers,
        framing,
    })
}

/// How a response's body is delimited (RFC 9112 §6.3): chunked when that is the last transfer
/// coding; until the connection closes under any other; else by a Content-Length, whose values
/// must all be the same number; else until the connection closes.
fn framing(headers: &[(String, Vec<u8>)]) -> Result<Framing, String> {
    // Each field's comma-separated list elements (RFC 9110 §5.3, §5.6.1), over all its lines.
    fn values<'a>(
        headers: &'a [(String, Vec<u8>)],
        name: &'a str,
    ) -> impl Iterator<Item = &'a [u8]> + 'a {
        headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .flat_map(|(_, v)| v.split(|&b| b == b','))
            .map(<[u8]>::trim_ascii)
    }
    if let Some(last) = values(headers, "transfer-encoding")
        .filter(|v| !v.is_empty())
        .last()
    {
        return Ok(if last.eq_ignore_ascii_case(b"chunked") {
            Framing::Chunked
        } else {
            Framing::UntilClose
        });
    }
    let mut length = None;
    for v in values(headers, "content-length") {
        let n = (!v.is_empty() && v.len() <= 19 && v.iter().all(u8::is_ascii_digit))
            .then(|| std::str::from_utf8(v).ok()?.parse::<u64>().ok())
            .flatten()
            .ok_or_else(|| {
                format!(
                    "a bad Content-Length '{}'",
                    escape_bytes(&v[..v.len().min(40)])
                )
            })?;
        if length.is_some_and(|l| l != n) {
            return Err("Content-Length values that differ".into());
        }
        length = Some(n);
    }
    Ok(length.map_or(Framing::UntilClose, Framing::Length))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Serve `response` (in pieces of `step` bytes) to one GET and return what `get` made of it.
    fn fetch(response: &[u8], step: usize, max: usize) -> (Result<Response, String>, String) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let (mut client, mut server) = tokio::io::duplex(1 << 20);
            let response = response.to_vec();
            let peer = tokio::spawn(async move {
                let mut req = Vec::new();
                let mut b = [0u8; 1024];
                while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    let n = server.read(&mut b).await.unwrap();
                    req.extend_from_slice(&b[..n]);
                }
                for piece in response.chunks(step.max(1)) {
                    if server.write_all(piece).await.is_err() {
                        break;
                    }
                }
                String::from_utf8(req).unwrap()
            });
            let got = get(&mut client, "mta-sts.a.test", "/p", "ehlo/0", max, |s| {
                s == 200
            })
            .await;
            drop(client);
            (got, peer.await.unwrap())
        })
    }

    fn body(r: &Result<Response, String>) -> Result<Vec<u8>, BodyError> {
        match r {
            Ok(r) => match &r.body {
                Some(Ok(b)) => Ok(b.clone()),
                Some(Err(e)) => Err(match e {
                    BodyError::TooLarge => BodyError::TooLarge,
                    BodyError::Broken(s) => BodyError::Broken(s.clone()),
                }),
                None => Err(BodyError::Broken("no body read".into())),
            },
            Err(e) => panic!("head: {e}"),
        }
    }

    #[test]
    fn the_request_names_the_host_and_asks_to_close() {
        let (_, req) = fetch(
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
            64,
            10,
        );
        assert_eq!(
            req,
            "GET /p HTTP/1.1\r\nHost: mta-sts.a.test\r\nUser-Agent: ehlo/0\r\nConnection: close\r\n\r\n"
        );
    }

    /// The three framings, each delivered a byte at a time and at once.
    #[test]
    fn bodies_by_length_by_chunks_and_until_close() {
        let cases: [(&[u8], &[u8]); 6] = [
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA",
                b"hello",
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n1\r\n!\r\n0\r\nX-T: 1\r\n\r\n",
                b"hello!",
            ),
            (b"HTTP/1.0 200 OK\r\n\r\nuntil close", b"until close"),
            // A bare LF ends lines too; chunked wins over Content-Length (RFC 9112 §6.3).
            (
                b"HTTP/1.1 200 OK\nContent-Length: 99\nTransfer-Encoding: gzip, chunked\n\n3\nabc\n0\n\n",
                b"abc",
            ),
            // Interim responses are skipped.
            (
                b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
                b"ok",
            ),
            // A transfer coding other than chunked last: until close.
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n",
                b"0\r\n\r\n",
            ),
        ];
        for (resp, want) in cases {
            for step in [1, 7, 1 << 20] {
                let (got, _) = fetch(resp, step, 100);
                assert_eq!(body(&got), Ok(want.to_vec()), "{resp:?} step {step}");
            }
        }
    }

    #[test]
    fn headers_are_found_by_name_in_any_case_whatever_their_bytes() {
        let (got, _) = fetch(
            b"HTTP/1.1 301 Moved\r\nlocation: https://x.test/\r\nContent-Type: text/\xe9\r\nX: 1\r\nX: 2\r\n\r\n",
            64,
            10,
        );
        let r = got.unwrap();
        assert_eq!(r.status, 301);
        assert_eq!(r.header("Location").as_deref(), Some("https://x.test/"));
        // A value with a byte outside ASCII is there, not absent (it used to read as `None`,
        // and `ehlo check` said the Content-Type was "missing").
        assert_eq!(r.header("content-type").as_deref(), Some("text/\u{fffd}"));
        assert_eq!(r.header("absent"), None);
        assert_eq!(r.header("x").as_deref(), Some("1"));
        assert!(r.body.is_none());
    }

    /// A media type's parameter by name, as RFC 9110 §5.6.6 writes them: any case, blanks
    /// around, token or quoted-string.
    #[test]
    fn a_media_type_parameter_is_read_quoted_or_not_in_any_case() {
        for (ct, want) in [
            ("text/plain; charset=utf-8", Some("utf-8")),
            ("text/plain;charset=\"UTF-8\"", Some("UTF-8")),
            ("TEXT/PLAIN ; CharSet = iso-8859-1 ", Some("iso-8859-1")),
            ("text/plain; format=flowed; charset=utf-16", Some("utf-16")),
            (
                "text/plain; x=\"a;charset=no\"; charset=us-ascii",
                Some("us-ascii"),
            ),
            ("text/plain; charset=\"ut\\f-8\"", Some("utf-8")),
            ("text/plain; charset=\"utf-8", Some("utf-8")),
            ("text/plain; charset=", Some("")),
            ("text/plain; charset", Some("")),
            ("text/plain; charset=a; charset=b", Some("a")),
            ("text/plain", None),
            ("text/plain;", None),
            ("text/plain; format=flowed", None),
            ("text/plain; xcharset=utf-8", None),
        ] {
            assert_eq!(
                media_type_parameter(ct, "charset").as_deref(),
                want,
                "{ct:?}"
            );
        }
    }

    /// The body cap holds for each framing, whatever Content-Length or a chunk size claims.
    #[test]
    fn a_body_past_the_cap_is_too_large() {
        for resp in [
            &b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n"[..],
            b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999\r\n\r\n",
            b"HTTP/1.1 200 OK\r\n\r\n01234567890",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n012345\r\n5\r\n67890\r\n0\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n",
        ] {
            let (got, _) = fetch(resp, 3, 10);
            assert_eq!(body(&got), Err(BodyError::TooLarge), "{resp:?}");
        }
        // Exactly the cap is fine.
        let (got, _) = fetch(b"HTTP/1.1 200 OK\r\n\r\n0123456789", 3, 10);
        assert_eq!(body(&got), Ok(b"0123456789".to_vec()));
    }

    /// Every malformed head is one line saying what is wrong.
    #[test]
    fn malformed_heads_have_a_reason() {
        let long_head = format!("HTTP/1.1 200 OK\r\nX: {}\r\n\r\n", "a".repeat(MAX_HEAD));
        let many = format!(
            "HTTP/1.1 200 OK\r\n{}\r\n",
            "X: 1\r\n".repeat(MAX_HEADERS + 1)
        );
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"".to_vec(), "without a response"),
            (
                b"HTTP/1.1 200 OK\r\nX: 1".to_vec(),
                "inside the response head",
            ),
            (
                b"SSH-2.0-OpenSSH\r\n\r\n".to_vec(),
                "not an HTTP/1.x status line",
            ),
            (
                b"HTTP/2 200\r\n\r\n".to_vec(),
                "not an HTTP/1.x status line",
            ),
            (
                b"HTTP/1.1 20 OK\r\n\r\n".to_vec(),
                "not an HTTP/1.x status line",
            ),
            (
                b"HTTP/1.1 2000 OK\r\n\r\n".to_vec(),
                "not an HTTP/1.x status line",
            ),
            (
                b"HTTP/1.1 200 OK\r\nX: 1\r\n folded\r\n\r\n".to_vec(),
                "obs-fold",
            ),
            (
                b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n".to_vec(),
                "without a colon",
            ),
            (
                b"HTTP/1.1 200 OK\r\nX Y: 1\r\n\r\n".to_vec(),
                "bad header field name",
            ),
            (
                b"HTTP/1.1 200 OK\r\nX: a\x01b\r\n\r\n".to_vec(),
                "control character",
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\n".to_vec(),
                "differ",
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n".to_vec(),
                "bad Content-Length",
            ),
            (long_head.into_bytes(), "longer than 64 KiB"),
            (many.into_bytes(), "more than 100 header lines"),
            (b"HTTP/1.1 100 Continue\r\n\r\n".repeat(9), "interim"),
        ];
        for (resp, want) in cases {
            let (got, _) = fetch(&resp, 5, 100);
            let e = got.unwrap_err();
            assert!(
                e.contains(want),
                "{e} for {:?}",
                String::from_utf8_lossy(&resp)
            );
            assert!(!e.contains('\n'), "{e}");
        }
    }

    /// A bad byte in what the server sent is quoted as the rest of ehlo quotes it (`\x1B`,
    /// `\xFF`, [`crate::smtp::escape::escape_bytes`]), not as Rust's `\u{1b}` and `\u{fffd}`.
    #[test]
    fn bad_bytes_in_a_head_or_a_chunk_line_are_quoted_as_everywhere() {
        let heads: [(&[u8], &str); 3] = [
            (b"HTTP/1.1 200 OK\r\nX: a\x1bb\r\n\r\n", "'X: a\\x1Bb'"),
            (b"HTTP/1.1 2\xff0\r\n\r\n", "'HTTP/1.1 2\\xFF0'"),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 1\xff\r\n\r\n",
                "'1\\xFF'",
            ),
        ];
        for (resp, want) in heads {
            let (got, _) = fetch(resp, 5, 100);
            let e = got.unwrap_err();
            assert!(e.contains(want), "{e}");
            assert!(!e.contains("\\u{"), "{e}");
        }
        let resp = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nz\x1b\r\n";
        let (got, _) = fetch(resp, 4, 100);
        match body(&got) {
            Err(BodyError::Broken(e)) => assert!(e.contains("'z\\x1B'"), "{e}"),
            other => panic!("{other:?}"),
        }
    }

    /// Every malformed or cut-off body is one line saying what is wrong.
    #[test]
    fn malformed_bodies_have_a_reason() {
        let mut ext_flood = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        for _ in 0..3000 {
            ext_flood.extend_from_slice(b"1;ext=1\r\nx\r\n");
        }
        let cases: [(&[u8], &str); 7] = [
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc",
                "after 3 of the 9 bytes",
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                "bad chunk-size line",
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
                "inside a chunk",
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n",
                "longer than its size",
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n",
                "inside a chunk-size line",
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: 1\r\n",
                "inside a trailer field",
            ),
            (&ext_flood, "chunk extensions longer than 16 KiB"),
        ];
        for (resp, want) in cases {
            let (got, _) = fetch(resp, 4, 100_000);
            match body(&got) {
                Err(BodyError::Broken(e)) => {
                    assert!(e.contains(want), "{e} for {resp:?}");
                    assert!(!e.contains('\n'), "{e}");
                }
                other => panic!("{other:?} for {resp:?}"),
            }
        }
    }
}
