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
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        // Printable ASCII, the bulk of a message, is copied as one run.
        let end = printable_end(bytes, i);
        s.push_str(&text[i..end]);
        i = end;
        let Some(c) = text[i..].chars().next() else {
            break;
        };
        i += c.len_utf8();
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

/// Where the run of printable ASCII (0x20..=0x7E) that starts at `i` ends. Plain index loops
/// of integer operations, eight bytes a word at a time: the tests' debug builds run it
/// unoptimised, where an iterator adaptor with a closure and `RangeBounds::contains` is
/// several calls a byte (a 20 MB message's transcript).
fn printable_end(bytes: &[u8], mut i: usize) -> usize {
    const LOW: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = LOW * 0x80;
    while i + 8 <= bytes.len() {
        let w = u64::from_le_bytes([
            bytes[i],
            bytes[i + 1],
            bytes[i + 2],
            bytes[i + 3],
            bytes[i + 4],
            bytes[i + 5],
            bytes[i + 6],
            bytes[i + 7],
        ]);
        // With each byte's high bit set nothing borrows: `(b | 0x80) - 0x20` keeps its high
        // bit unless `b & 0x7F` is below 0x20. Nor carries: `(b & 0x7F) + 1` sets it only for
        // 0x7F. So a high bit left marks a byte below 0x20, above 0x7F or 0x7F itself.
        let control_or_high = (!((w | HIGH) - LOW * 0x20) | w) & HIGH;
        let delete = ((w & !HIGH) + LOW) & HIGH;
        if control_or_high | delete != 0 {
            break;
        }
        i += 8;
    }
    while i < bytes.len() && bytes[i] >= 0x20 && bytes[i] < 0x7f {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rule one character at a time, the reference the run-copying loop must match.
    fn by_char(text: &str) -> String {
        let mut s = String::new();
        for c in text.chars() {
            let u = c as u32;
            if u < 0x20 || u == 0x7f {
                let _ = write!(s, "\\x{u:02X}");
            } else if c.is_control() || invisible_format(c) {
                let _ = write!(s, "\\u{{{u:04X}}}");
            } else {
                s.push(c);
            }
        }
        s
    }

    #[test]
    fn every_character_alone_and_inside_a_run_escapes_as_the_per_character_rule() {
        for c in (0..=0x10_FFFF).filter_map(char::from_u32) {
            let alone = c.to_string();
            assert_eq!(escape_str(&alone), by_char(&alone), "{:04X}", c as u32);
            if c.is_ascii() || (c as u32).is_multiple_of(61) {
                for t in [
                    format!("ab{c}"),
                    format!("{c}yz"),
                    format!("abcdefgh{c}ijklmnop{c}"),
                ] {
                    assert_eq!(escape_str(&t), by_char(&t), "{:04X}", c as u32);
                }
            }
        }
    }

    #[test]
    fn every_pair_of_bytes_escapes_as_the_per_character_rule() {
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                let bytes = [b'x', a, b, b'y', a];
                let text = crate::smtp::reply::text_of(&bytes);
                assert_eq!(escape_bytes(&bytes), by_char(&text), "{a:02X} {b:02X}");
            }
        }
        // Every byte at every place in and across the eight-byte words, and every pair across
        // a word's end.
        for b in 0..=255u8 {
            for at in 0..20 {
                let mut bytes = b"abcdefghijklmnopqrstuvwxyz".to_vec();
                bytes[at] = b;
                let text = crate::smtp::reply::text_of(&bytes);
                assert_eq!(escape_bytes(&bytes), by_char(&text), "{b:02X} at {at}");
            }
            for c in 0..=255u8 {
                let bytes = [
                    b'a', b'b', b'c', b'd', b'e', b'f', b'g', b, c, b'h', b, b'z',
                ];
                let text = crate::smtp::reply::text_of(&bytes);
                assert_eq!(escape_bytes(&bytes), by_char(&text), "{b:02X} {c:02X}");
            }
        }
        assert_eq!(escape_bytes(b""), "");
        assert_eq!(escape_bytes(b"\x1b[2Jok\x7f\xff"), "\\x1B[2Jok\\x7F\\xFF");
    }
}
