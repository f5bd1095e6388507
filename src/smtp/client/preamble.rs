//! The session's preamble: a PROXY protocol header (HAProxy PROXY protocol §2: v1 text or v2
//! binary), sent before anything else, the banner and an implicit TLS handshake included, and
//! reported like every other write.

use base64::Engine;

use crate::smtp::event::{Phase, SentKind};
use crate::smtp::outbox::Outgoing;

use super::Session;

/// The 12 bytes every PROXY protocol v2 header starts with (HAProxy PROXY protocol §2.2).
pub(crate) const PROXY_V2_SIGNATURE: [u8; 12] = *b"\r\n\r\n\0\r\nQUIT\n";

impl Session {
    /// Queue the PROXY header and report it: v1 as its text line, v2 as base64.
    pub(super) fn send_preamble(&mut self, header: &[u8]) {
        let text = if header.starts_with(&PROXY_V2_SIGNATURE) {
            format!(
                "PROXY v2 header (base64): {}",
                base64::engine::general_purpose::STANDARD.encode(header)
            )
        } else {
            String::from_utf8_lossy(header)
                .trim_end_matches("\r\n")
                .to_string()
        };
        // Before any TLS, implicit TLS included: it always goes out in clear.
        self.out.write(Outgoing {
            wire: header,
            display: text,
            kind: SentKind::Proxy,
            phase: Phase::Proxy,
            redacted: false,
            tls: false,
        });
    }
}
