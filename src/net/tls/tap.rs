//! The one pass-through stream under the client's TLS session: it keeps the first bytes the peer
//! sent (so a handshake that failed on bytes that are not TLS can say what they were) and tells
//! whether the server asked for a client certificate, from the records the client writes during
//! the handshake (OpenSSL answers a CertificateRequest but reports it nowhere we can read).
//!
//! A client answers a CertificateRequest with a Certificate message, empty when it has none
//! (RFC 5246 §7.4.6, RFC 8446 §4.4.2); without a request it sends none. Up to TLS 1.2 that
//! message is plain text before the client's ChangeCipherSpec (RFC 5246 §7.3), so its type
//! shows. In TLS 1.3 it is encrypted (RFC 8446 §2), but the client's encrypted handshake flight
//! is then Certificate, CertificateVerify (with a certificate) and Finished instead of Finished
//! alone: more than one record, or more bytes than one Finished record (RFC 8446 §4.4.4, §5.2)
//! can hold, means a Certificate went too. Only record headers and the message types of plain
//! text records are read; nothing is kept.
//!
//! It also carries the session's [`Renegotiation`]: once a renegotiation is refused, every read
//! and write fails, so that not one more byte goes to a server that presented an untrusted
//! certificate (the client handshakes with `SslVerifyMode::NONE`, which no callback can abort).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::reneg::Renegotiation;

/// How many of the first bytes the peer sends are kept ([`Tap::head`]).
const HEAD_BYTES: usize = 8;

/// TLS record content types (RFC 8446 §5.1).
const CHANGE_CIPHER_SPEC: u8 = 20;
const HANDSHAKE: u8 = 22;
const APPLICATION_DATA: u8 = 23;
/// Handshake message type of Certificate (RFC 8446 §4).
const CERTIFICATE: u8 = 11;
/// The largest TLS 1.3 record holding only Finished: a 4-byte message header, a SHA-384
/// verify_data (48), the inner content type (1) and the AEAD tag (16) (RFC 8446 §4.4.4, §5.2).
const MAX_FINISHED_RECORD: usize = 4 + 48 + 1 + 16;

/// What the client's records said so far.
#[derive(Debug, Default)]
struct Watch {
    /// Header of the record being written, as far as it has been written.
    header: [u8; 5],
    header_len: usize,
    /// Content type and bytes still to come of the record being written.
    kind: u8,
    body_left: usize,
    /// The client's ChangeCipherSpec went: later handshake records are encrypted (TLS 1.2).
    ccs: bool,
    /// ChangeCipherSpec records written: one per TLS 1.2 handshake, full or abbreviated (RFC
    /// 5246 §7.1); TLS 1.3 sends its compatibility one during the first handshake only (RFC
    /// 8446 §D.4), and no renegotiation exists there.
    ccs_sent: u32,
    /// Header of the plain-text handshake message being written, and its bytes still to come.
    msg_header: [u8; 4],
    msg_header_len: usize,
    msg_left: usize,
    /// A plain-text Certificate message went (TLS 1.2 and earlier).
    certificate: bool,
    /// Encrypted records written, and their body bytes (TLS 1.3's encrypted flight).
    encrypted: usize,
    encrypted_bytes: usize,
}

impl Watch {
    fn feed(&mut self, mut b: &[u8]) {
        while !b.is_empty() {
            if self.body_left == 0 {
                // In a record header.
                self.header[self.header_len] = b[0];
                self.header_len += 1;
                b = &b[1..];
                if self.header_len == 5 {
                    self.header_len = 0;
                    self.kind = self.header[0];
                    self.body_left =
                        usize::from(u16::from_be_bytes([self.header[3], self.header[4]]));
                    match self.kind {
                        CHANGE_CIPHER_SPEC => {
                            self.ccs = true;
                            self.ccs_sent = self.ccs_sent.saturating_add(1);
                        }
                        APPLICATION_DATA => {
                            self.encrypted += 1;
                            self.encrypted_bytes += self.body_left;
                        }
                        _ => {}
                    }
                }
                continue;
            }
            let n = b.len().min(self.body_left);
            if self.kind == HANDSHAKE && !self.ccs {
                self.messages(&b[..n]);
            }
            self.body_left -= n;
            b = &b[n..];
        }
    }

    /// Walk the plain-text handshake messages in `b` (they may span records).
    fn messages(&mut self, mut b: &[u8]) {
        while !b.is_empty() {
            if self.msg_left == 0 {
                self.msg_header[self.msg_header_len] = b[0];
                self.msg_header_len += 1;
                b = &b[1..];
                if self.msg_header_len == 4 {
                    self.msg_header_len = 0;
                    let h = self.msg_header;
                    self.certificate |= h[0] == CERTIFICATE;
                    self.msg_left =
                        usize::from(h[1]) << 16 | usize::from(h[2]) << 8 | usize::from(h[3]);
                }
                continue;
            }
            let n = b.len().min(self.msg_left);
            self.msg_left -= n;
            b = &b[n..];
        }
    }
}

/// A stream that keeps a copy of the first [`HEAD_BYTES`] read from it and watches what the
/// client writes until [`Tap::requested`] is asked; otherwise it passes reads and writes through.
#[derive(Debug)]
pub(crate) struct Tap<S> {
    inner: S,
    head: [u8; HEAD_BYTES],
    head_len: usize,
    watch: Watch,
    /// The ChangeCipherSpec records written by the end of the first handshake, once it ended:
    /// each one after it is the end of a renegotiation the server asked for.
    handshake_ccs: Option<u32>,
    reneg: std::sync::Arc<Renegotiation>,
}

impl<S> Tap<S> {
    pub(super) fn new(inner: S) -> Self {
        Tap {
            inner,
            head: [0; HEAD_BYTES],
            head_len: 0,
            watch: Watch::default(),
            handshake_ccs: None,
            reneg: std::sync::Arc::default(),
        }
    }

    /// The session's renegotiations.
    pub(crate) fn renegotiation(&self) -> &std::sync::Arc<Renegotiation> {
        &self.reneg
    }

    /// Share `reneg` with the verify callback.
    pub(super) fn with_renegotiation(mut self, reneg: std::sync::Arc<Renegotiation>) -> Self {
        self.reneg = reneg;
        self
    }

    fn refused() -> io::Error {
        io::Error::new(
            io::ErrorKind::ConnectionAborted,
            "TLS renegotiation refused",
        )
    }

    /// The first bytes read (at most [`HEAD_BYTES`]).
    pub(super) fn head(&self) -> &[u8] {
        &self.head[..self.head_len]
    }

    /// Did the client answer a CertificateRequest? Call once the handshake has completed, with
    /// whether TLS 1.3 was negotiated; the first handshake ends here (later calls say no), and
    /// the ChangeCipherSpec records written from now on count renegotiations.
    pub(super) fn requested(&mut self, tls13: bool) -> bool {
        if self.handshake_ccs.is_some() {
            return false;
        }
        self.handshake_ccs = Some(self.watch.ccs_sent);
        let w = &self.watch;
        if tls13 {
            w.encrypted > 1 || w.encrypted_bytes > MAX_FINISHED_RECORD
        } else {
            w.certificate
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Tap<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let me = self.get_mut();
        if me.reneg.is_refused() {
            return Poll::Ready(Err(Self::refused()));
        }
        let before = buf.filled().len();
        let r = Pin::new(&mut me.inner).poll_read(cx, buf);
        if me.head_len < HEAD_BYTES {
            let new = &buf.filled()[before..];
            let n = new.len().min(HEAD_BYTES - me.head_len);
            me.head[me.head_len..me.head_len + n].copy_from_slice(&new[..n]);
            me.head_len += n;
        }
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tap<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let me = self.get_mut();
        if me.reneg.is_refused() {
            return Poll::Ready(Err(Self::refused()));
        }
        let r = Pin::new(&mut me.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &r {
            me.watch.feed(&buf[..*n]);
            if let Some(base) = me.handshake_ccs {
                me.reneg
                    .renegotiated(me.watch.ccs_sent.saturating_sub(base));
            }
        }
        r
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_certificate_message_split_across_writes_and_records() {
        // ClientHello-ish record, then a Certificate message whose header spans two records.
        let mut w = Watch::default();
        w.feed(&[22, 3, 3, 0, 6, 1, 0, 0, 2, 9, 9]);
        assert!(!w.certificate);
        w.feed(&[22, 3, 3, 0, 2, 11, 0]);
        w.feed(&[22, 3, 3]);
        w.feed(&[0, 3, 0, 1, 7]);
        assert!(w.certificate);
        // After ChangeCipherSpec the (encrypted) handshake bytes are not read.
        let mut w = Watch::default();
        w.feed(&[20, 3, 3, 0, 1, 1, 22, 3, 3, 0, 4, 11, 0, 0, 0]);
        assert!(!w.certificate);
    }

    #[tokio::test]
    async fn one_stream_keeps_the_head_and_sees_the_certificate() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (client, mut peer) = tokio::io::duplex(256);
        let mut tap = Tap::new(client);
        // The peer's bytes arrive in pieces; only the first HEAD_BYTES are kept.
        peer.write_all(b"220 mx").await.unwrap();
        let mut buf = [0u8; 4];
        tap.read_exact(&mut buf).await.unwrap();
        assert_eq!(tap.head(), b"220 ");
        peer.write_all(b".example ESMTP\r\n").await.unwrap();
        let mut rest = [0u8; 16];
        tap.read_exact(&mut rest).await.unwrap();
        assert_eq!(tap.head(), b"220 mx.e");
        // The client's writes through the same stream are watched: a plain Certificate
        // message, split across writes.
        tap.write_all(&[22, 3, 3, 0, 6, 11, 0]).await.unwrap();
        tap.write_all(&[0, 2, 9, 9]).await.unwrap();
        let mut seen = [0u8; 11];
        peer.read_exact(&mut seen).await.unwrap();
        assert_eq!(seen[5], CERTIFICATE);
        assert!(tap.requested(false));
        // The watching stopped; the head is unchanged by writes.
        assert!(!tap.requested(false));
        assert_eq!(tap.head(), b"220 mx.e");
    }

    /// After the first handshake each ChangeCipherSpec the client writes ends a renegotiation:
    /// each is said once, and the one past the cap fails every later read and write.
    #[tokio::test]
    async fn renegotiations_are_counted_from_the_client_change_cipher_spec() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (client, mut peer) = tokio::io::duplex(4096);
        let mut tap = Tap::new(client);
        // The first handshake's CCS does not count.
        tap.write_all(&[20, 3, 3, 0, 1, 1]).await.unwrap();
        assert!(!tap.requested(false));
        assert!(tap.renegotiation().take_news().is_empty());
        // A renegotiation: ClientHello, ChangeCipherSpec, Finished (encrypted), app data.
        tap.write_all(&[22, 3, 3, 0, 2, 9, 9, 20, 3, 3, 0, 1, 1])
            .await
            .unwrap();
        tap.write_all(&[22, 3, 3, 0, 1, 9, 23, 3, 3, 0, 1, 9])
            .await
            .unwrap();
        assert_eq!(tap.renegotiation().take_news().len(), 1);
        for _ in 1..super::super::reneg::MAX_RENEGOTIATIONS {
            tap.write_all(&[20, 3, 3, 0, 1, 1]).await.unwrap();
        }
        let news = tap.renegotiation().take_news();
        assert_eq!(news.len(), 7, "{news:?}");
        assert!(tap.renegotiation().refusal().is_none());
        // One past the cap: refused, and nothing more passes either way.
        tap.write_all(&[20, 3, 3, 0, 1, 1]).await.unwrap();
        let why = tap.renegotiation().refusal().expect("refused");
        assert!(why.contains("more than 8 times"), "{why}");
        assert!(tap.write_all(b"MAIL").await.is_err());
        peer.write_all(b"250 ok\r\n").await.unwrap();
        let mut b = [0u8; 8];
        assert!(tap.read(&mut b).await.is_err());
    }

    #[test]
    fn tls13_flight_sizes() {
        let mut w = Watch::default();
        w.feed(&[23, 3, 3, 0, 53]);
        w.feed(&[0; 53]);
        assert_eq!((w.encrypted, w.encrypted_bytes), (1, 53));
        assert!(w.encrypted_bytes <= MAX_FINISHED_RECORD);
        w.feed(&[23, 3, 3, 0, 25]);
        assert_eq!(w.encrypted, 2);
    }
}
