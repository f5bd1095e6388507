//! ehlo's own non-ASCII glyphs (`§`, `⟨…⟩`, `…`, `→`, `—`, `✓`, the progress spinner) and their
//! ASCII forms for a terminal whose locale is not UTF-8 (`LANG=C`, `POSIX`, a Latin-1 locale),
//! where their UTF-8 bytes would show as mojibake (`Â§`, `â€¦`). The human writers pass ehlo's
//! own lines through [`plain`]; lines of the wire (what was sent and received, a stored
//! message's content) are written as they came, and JSON Lines stays UTF-8 always.

use std::borrow::Cow;
use std::sync::OnceLock;

/// Does the locale the environment names use UTF-8? The first of `LC_ALL`, `LC_CTYPE`, `LANG`
/// that is set and not empty decides, as POSIX orders them (XBD 8.2, "Internationalization
/// Variables"). None set is taken as UTF-8, not as POSIX's default C locale: containers, cron
/// jobs and CI runners often set none while the terminal or log viewer that shows the output is
/// UTF-8, and a user who wants ASCII says so with `LANG=C`. A locale's codeset is what follows
/// its `.` (up to a `@` modifier): `C.UTF-8`, `en_US.utf8`, `de_DE.UTF-8@euro`.
pub(crate) fn utf8_locale(env: &dyn Fn(&str) -> Option<String>) -> bool {
    codeset(env).is_none_or(|c| c == "utf8")
}

/// The codeset of the locale the environment names ([`utf8_locale`]), lower case without `-`
/// and `_` (`utf8`, `iso88591`, empty for `C`); `None` when no locale variable is set.
fn codeset(env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let name = ["LC_ALL", "LC_CTYPE", "LANG"]
        .into_iter()
        .find_map(|k| env(k).filter(|v| !v.is_empty()))?;
    let codeset = name
        .split_once('.')
        .map(|(_, c)| c.split('@').next().unwrap_or_default())
        .unwrap_or_default();
    Some(
        codeset
            .chars()
            .filter(|c| *c != '-' && *c != '_')
            .collect::<String>()
            .to_ascii_lowercase(),
    )
}

/// A one-byte character set a locale can name for its terminal, in which a typed byte is a
/// character and a character is written as one byte: ISO 8859-1 (Latin-1) or ISO 8859-15
/// (Latin-9, Latin-1 with `€` and seven other letters in eight of its places).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Latin {
    One,
    Nine,
}

/// The Latin character set the locale names by its codeset (`de_DE.ISO-8859-1`,
/// `fr_FR.iso885915@euro`, `en_US.latin1`), if any.
pub(crate) fn latin_locale(env: &dyn Fn(&str) -> Option<String>) -> Option<Latin> {
    match codeset(env)?.as_str() {
        "iso88591" | "latin1" | "l1" => Some(Latin::One),
        "iso885915" | "latin9" => Some(Latin::Nine),
        _ => None,
    }
}

/// This run's terminal character set when it is a Latin one ([`latin_locale`]), decided once
/// from the process environment; never in the library's own unit tests (as [`ascii`]).
pub(crate) fn latin() -> Option<Latin> {
    if cfg!(test) {
        return None;
    }
    static LATIN: OnceLock<Option<Latin>> = OnceLock::new();
    *LATIN.get_or_init(|| {
        latin_locale(&|k| std::env::var_os(k).map(|v| v.to_string_lossy().into_owned()))
    })
}

/// Latin-9's eight places that differ from Latin-1 (ISO/IEC 8859-15, Annex A).
const LATIN9: [(u8, char); 8] = [
    (0xa4, '€'),
    (0xa6, 'Š'),
    (0xa8, 'š'),
    (0xb4, 'Ž'),
    (0xb8, 'ž'),
    (0xbc, 'Œ'),
    (0xbd, 'œ'),
    (0xbe, 'Ÿ'),
];

impl Latin {
    /// The character a typed byte of 0xA0-0xFF is (0x80-0x9F are C1 control codes, no
    /// character: `None`, as for ASCII bytes, which are UTF-8 as they are).
    pub(crate) fn decode(self, b: u8) -> Option<char> {
        if b < 0xa0 {
            return None;
        }
        if self == Latin::Nine
            && let Some((_, c)) = LATIN9.iter().find(|(at, _)| *at == b)
        {
            return Some(*c);
        }
        Some(char::from(b))
    }

    /// The byte that writes `c` (ASCII as it is), `None` when the set has no such character.
    pub(crate) fn encode(self, c: char) -> Option<u8> {
        if c.is_ascii() {
            return u8::try_from(c).ok();
        }
        if self == Latin::Nine {
            if let Some((b, _)) = LATIN9.iter().find(|(_, l)| *l == c) {
                return Some(*b);
            }
            if LATIN9.iter().any(|(b, _)| u32::from(*b) == u32::from(c)) {
                return None;
            }
        }
        u8::try_from(c).ok().filter(|b| *b >= 0xa0)
    }

    /// `text` in this set's bytes, a character it has no byte for written as `?` (one column,
    /// as the caller counts it).
    pub(crate) fn bytes(self, text: &str) -> Vec<u8> {
        text.chars()
            .map(|c| self.encode(c).unwrap_or(b'?'))
            .collect()
    }
}

/// Is this run's terminal output to be ASCII (the locale is not UTF-8)? Decided once, from the
/// process environment; never in the library's own unit tests, whose expected output is written
/// with the glyphs whatever locale runs them (the ASCII forms are tested through [`fold`] and
/// [`utf8_locale`], and end to end by the cli tests that set `LC_ALL=C`).
pub(crate) fn ascii() -> bool {
    if cfg!(test) {
        return false;
    }
    static ASCII: OnceLock<bool> = OnceLock::new();
    *ASCII.get_or_init(|| {
        !utf8_locale(&|k| std::env::var_os(k).map(|v| v.to_string_lossy().into_owned()))
    })
}

/// `text` as this run's terminal can show it: unchanged in a UTF-8 locale, else with ehlo's own
/// glyphs in their ASCII forms ([`fold`]).
pub(crate) fn plain(text: &str) -> Cow<'_, str> {
    if ascii() {
        fold(text)
    } else {
        Cow::Borrowed(text)
    }
}

/// One of ehlo's own error lines on stderr: `*** text`, folded as [`plain`] folds it. A closed
/// stderr is no reason to panic (not `eprintln!`).
pub(crate) fn say_error(text: &str) {
    use std::io::Write;
    let line = format!("*** {text}");
    let _ = writeln!(std::io::stderr(), "{}", plain(&line));
}

/// One of ehlo's own warning lines on stderr, said where no renderer is (the REPL's history,
/// saved once the terminal is restored): `!!! text`, as the transcript marks a warning.
pub(crate) fn say_warning(text: &str) {
    use std::io::Write;
    let line = format!("!!! {text}");
    let _ = writeln!(std::io::stderr(), "{}", plain(&line));
}

/// The ASCII form of one of ehlo's glyphs; `None` for any other character (which is left as it
/// is: a server's or a user's text is theirs).
fn ascii_form(c: char) -> Option<&'static str> {
    Some(match c {
        '§' => "section ",
        '⟨' => "<",
        '⟩' => ">",
        '…' => "...",
        '→' => "->",
        '⇄' | '↔' => "<->",
        '—' | '–' => "-",
        '✓' => "+",
        '✗' => "x",
        '·' => "-",
        '≤' => "<=",
        '≥' => ">=",
        '≠' => "!=",
        '×' => "x",
        // The progress spinner (render::check), frame by frame: a turning bar.
        '⠁' | '⠒' => "|",
        '⠉' | '⠲' => "/",
        '⠙' | '⠴' => "-",
        '⠚' | '⠤' => "\\",
        _ => return None,
    })
}

/// `text` with ehlo's glyphs in ASCII: `§4.2` → `section 4.2`, `⟨x⟩` → `<x>`, `…` → `...`,
/// `→` → `->`, `—` → `-`, `✓ pass` → `+ pass` (the same width, so check's columns stay), `✗` →
/// `x`, `·` → `-`, spinner frames → `|/-\`. Every other character is kept.
pub(crate) fn fold(text: &str) -> Cow<'_, str> {
    if text.is_ascii() || !text.chars().any(|c| ascii_form(c).is_some()) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match ascii_form(c) {
            // `§ 4` and `§4` both read `section 4`; a `§` at the end is `section`.
            Some(s) if c == '§' => {
                out.push_str(s.trim_end());
                if chars.peek().is_some_and(|n| *n != ' ') {
                    out.push(' ');
                }
            }
            Some(s) => out.push_str(s),
            None => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::env_of;

    #[test]
    fn latin_terminals_are_named_by_their_codeset() {
        let latin = |v: &'static str| {
            let lang = move |k: &str| (k == "LANG").then(|| v.to_string());
            latin_locale(&lang)
        };
        assert_eq!(latin("de_DE.ISO-8859-1"), Some(Latin::One));
        assert_eq!(latin("en_US.iso88591"), Some(Latin::One));
        assert_eq!(latin("en_US.latin1"), Some(Latin::One));
        assert_eq!(latin("fr_FR.ISO-8859-15@euro"), Some(Latin::Nine));
        assert_eq!(latin("C.UTF-8"), None);
        assert_eq!(latin("C"), None);
        assert_eq!(latin("ru_RU.KOI8-R"), None);
        assert_eq!(latin_locale(&env_of(&[])), None);
        // LC_ALL first, as for utf8_locale.
        assert_eq!(
            latin_locale(&env_of(&[
                ("LC_ALL", "C.UTF-8"),
                ("LANG", "de_DE.ISO-8859-1")
            ])),
            None
        );
    }

    #[test]
    fn latin_bytes_and_characters_map_both_ways() {
        assert_eq!(Latin::One.decode(0xe9), Some('é'));
        assert_eq!(Latin::One.decode(0xa4), Some('¤'));
        assert_eq!(Latin::Nine.decode(0xa4), Some('€'));
        assert_eq!(Latin::Nine.decode(0xe9), Some('é'));
        assert_eq!(Latin::One.decode(0x85), None);
        assert_eq!(Latin::One.decode(b'a'), None);
        assert_eq!(Latin::One.bytes("café €"), b"caf\xe9 ?");
        assert_eq!(Latin::Nine.bytes("café € ¤"), b"caf\xe9 \xa4 ?");
        assert_eq!(Latin::One.bytes("日本\u{301}"), b"???");
        assert_eq!(Latin::One.encode('\u{85}'), None);
        for b in 0xa0..=0xffu8 {
            for set in [Latin::One, Latin::Nine] {
                let c = set.decode(b).unwrap();
                assert_eq!(set.encode(c), Some(b), "{set:?} {b:#x}");
            }
        }
    }

    #[test]
    fn the_locale_is_read_in_posix_order() {
        assert!(utf8_locale(&env_of(&[("LANG", "C.UTF-8")])));
        assert!(utf8_locale(&env_of(&[("LANG", "en_US.utf8")])));
        assert!(utf8_locale(&env_of(&[("LANG", "de_DE.UTF-8@euro")])));
        // None set: UTF-8 is assumed (see utf8_locale); an explicit C is ASCII.
        assert!(utf8_locale(&env_of(&[])));
        assert!(utf8_locale(&env_of(&[("LC_ALL", ""), ("LANG", "")])));
        assert!(!utf8_locale(&env_of(&[("LANG", "C")])));
        assert!(!utf8_locale(&env_of(&[("LANG", "POSIX")])));
        assert!(!utf8_locale(&env_of(&[("LANG", "de_DE.ISO-8859-1")])));
        assert!(!utf8_locale(&env_of(&[("LANG", "en_US")])));
        // LC_ALL beats LC_CTYPE beats LANG; an empty one does not count.
        assert!(!utf8_locale(&env_of(&[
            ("LC_ALL", "C"),
            ("LANG", "C.UTF-8")
        ])));
        assert!(utf8_locale(&env_of(&[
            ("LC_ALL", ""),
            ("LC_CTYPE", "C.UTF-8"),
            ("LANG", "C")
        ])));
        assert!(!utf8_locale(&env_of(&[
            ("LC_CTYPE", "POSIX"),
            ("LANG", "C.UTF-8")
        ])));
    }

    #[test]
    fn our_glyphs_fold_to_ascii_and_other_text_is_kept() {
        assert_eq!(
            fold("RFC 5321 §4.5.3.1.5 — ⟨domain⟩ → ok…"),
            "RFC 5321 section 4.5.3.1.5 - <domain> -> ok..."
        );
        assert_eq!(fold("§ 3 and §"), "section 3 and section");
        assert_eq!(fold("✓ pass · ✗ fail ⠙"), "+ pass - x fail -");
        assert_eq!(fold("Grüße, 日本"), "Grüße, 日本");
        assert!(matches!(fold("plain"), Cow::Borrowed(_)));
    }
}
