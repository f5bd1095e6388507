//! Text from the network made safe for a terminal, a log or a report: control, invalid and
//! text-direction characters written as `\xNN` / `\u{NNNN}` escapes; shared by the renderers
//! and by the layers below them that quote a peer's bytes in a reason (`net::http`).

use std::fmt::Write as _;

/// A character that is not control yet changes how the text around it shows, or shows as
/// nothing, so every renderer writes it escaped when it comes from the network: the Unicode
/// `Bidi_Control` characters (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069, the
/// "Trojan Source" set, CVE-2021-42574); the line and paragraph separators U+2028/U+2029, which
/// editors, log viewers and JavaScript before ES2019 take as line ends, so a policy line could
/// show as two; and the zero-width and invisible format characters (Unicode's
/// `Default_Ignorable_Code_Point` ones of general category Cf a terminal draws as nothing):
/// U+00AD soft hyphen, U+200B–U+200D zero-width space, non-joiner and joiner, U+2060–U+2064
/// word joiner and invisible operators, U+FEFF zero-width no-break space (a byte order mark):
/// `mx\u{FEFF}.example.com` in a banner is no `mx.example.com`, and a reader must see that
/// it is there.
pub(crate) fn invisible_format(c: char) -> bool {
    matches!(
        u32::from(c),
        0x00AD
            | 0x061C
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x2064
            | 0x2066..=0x2069
            | 0x2028
            | 0x2029
            | 0xFEFF
    )
}

/// Bytes made safe for a terminal: bytes below 0x20 and 0x7f become `\xNN`, invalid UTF-8 bytes
/// `\xNN`, and other control or text-direction characters `\u{NNNN}` (a server must not be able
/// to move the cursor, recolour the screen or reorder text).
pub(crate) fn escape_bytes(bytes: &[u8]) -> String {
    // The invalid bytes read as the core reads a reply's text, so that a summary quoting the
    // reply and the transcript show the same `\xFF`.
    escape_str(&crate::smtp::reply::text_of(bytes))
}

/// [`escape_bytes`] for text that is already UTF-8.
pub(crate) fn escape_str(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    push_escaped(&mut s, text);
    s
}

/// [`escape_str`] appended to `s`.
pub(crate) fn push_escaped(s: &mut String, text: &str) {
    let mut rest = text;
    while !rest.is_empty() {
        // Printable ASCII, the bulk of a message, is copied as one run.
        let plain = rest
            .bytes()
            .position(|b| !(0x20..0x7f).contains(&b))
            .unwrap_or(rest.len());
        s.push_str(&rest[..plain]);
        rest = &rest[plain..];
        let Some(c) = rest.chars().next() else { break };
        rest = &rest[c.len_utf8()..];
        let u = c as u32;
        if u < 0x20 || u == 0x7f {
            let _ = write!(s, "\\x{u:02X}");
        } else if c.is_control() || invisible_format(c) {
            let _ = write!(s, "\\u{{{u:04X}}}");
        } else {
            s.push(c);
        }
    }
}
