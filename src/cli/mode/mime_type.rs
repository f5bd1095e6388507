//! The media type of an `--attach` file by its extension: `mime_guess`'s answers, from a
//! pointer-free table that build.rs makes out of `mime_guess`'s own data.
//!
//! `mime_guess` keeps its ~1 400 extensions as a `&[(&str, &[&str])]`; in a position-independent
//! executable every one of those pointers is relocated by the loader at every start, which writes
//! (and so copies) some 15 pages of `.data.rel.ro` for a table only an attachment reads. Here the
//! same answers are one string of `ext type` lines, sorted by extension, and an array of the
//! lines' offsets: both read-only data without a pointer to relocate. The lookup is
//! `mime_guess`'s: its first type for the extension, compared without case (`unicase`, so
//! Unicode case folding when the extension is not ASCII).

use std::path::Path;

use unicase::UniCase;

include!(concat!(env!("OUT_DIR"), "/mime_types.rs"));

/// The line at `i`: its extension and its media type.
fn line(i: usize) -> (&'static str, &'static str) {
    let start = MIME_LINES[i] as usize;
    let end = MIME_LINES
        .get(i + 1)
        .map_or(MIME_TABLE.len(), |&e| e as usize);
    // Each line is `ext type\n`: build.rs writes no blank inside an extension or a type.
    let text = &MIME_TABLE[start..end - 1];
    text.split_once(' ').unwrap_or((text, ""))
}

/// The first media type `mime_guess` gives an extension (without its dot), if any.
pub(crate) fn for_ext(ext: &str) -> Option<&'static str> {
    if ext.is_empty() {
        return None;
    }
    // The table is sorted as `mime_guess`'s is, by `UniCase`'s order, so this binary search
    // finds what its `binary_search_by_key` finds (no two extensions are equal without case).
    let want = UniCase::new(ext);
    let (mut lo, mut hi) = (0, MIME_LINES.len());
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let (key, media_type) = line(mid);
        match UniCase::new(key).cmp(&want) {
            std::cmp::Ordering::Less => lo = mid + 1,
            std::cmp::Ordering::Greater => hi = mid,
            std::cmp::Ordering::Equal => return Some(media_type),
        }
    }
    None
}

/// The first media type for a path's extension, as `mime_guess::from_path(path).first_raw()`.
pub(crate) fn for_path(path: &Path) -> Option<&'static str> {
    path.extension().and_then(|e| e.to_str()).and_then(for_ext)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every extension `mime_guess` knows, as typed, upper-cased and mixed, gets the same first
    /// type; the table holds nothing more.
    #[test]
    fn every_extension_answers_as_mime_guess() {
        let exts = mime_guess::get_extensions("*", "*").expect("mime_guess's extension list");
        assert!(exts.len() > 1000, "{} extensions", exts.len());
        let mut known = std::collections::BTreeSet::new();
        for &ext in exts {
            known.insert(ext.to_ascii_lowercase());
            let mixed: String = ext
                .chars()
                .enumerate()
                .map(|(i, c)| {
                    if i % 2 == 0 {
                        c.to_ascii_uppercase()
                    } else {
                        c
                    }
                })
                .collect();
            for e in [ext.to_string(), ext.to_ascii_uppercase(), mixed] {
                assert_eq!(for_ext(&e), mime_guess::from_ext(&e).first_raw(), "{e}");
                let path = format!("dir.x/file.{e}");
                assert_eq!(
                    for_path(Path::new(&path)),
                    mime_guess::from_path(&path).first_raw(),
                    "{path}"
                );
            }
        }
        assert_eq!(MIME_LINES.len(), known.len());
        for i in 0..MIME_LINES.len() {
            assert!(known.contains(line(i).0), "{:?}", line(i));
        }
    }

    /// Unknown, empty and non-ASCII extensions, and paths without one, answer as `mime_guess`:
    /// Unicode case folding included (the Kelvin sign folds to `k`, the `fl` ligature to `fl`).
    #[test]
    fn other_names_answer_as_mime_guess() {
        for e in [
            "",
            "zzzz",
            "pdf ",
            " pdf",
            "p",
            "\u{212a}ml",
            "\u{fb02}ac",
            "\u{17f}vg",
            "caf\u{e9}",
            "\u{e9}",
            "0",
            "~",
            "htm\u{0}",
            "a.b",
            "\u{130}co",
        ] {
            assert_eq!(for_ext(e), mime_guess::from_ext(e).first_raw(), "{e:?}");
        }
        assert_eq!(
            for_ext("\u{212a}ml"),
            Some("application/vnd.google-earth.kml+xml")
        );
        assert_eq!(for_ext("\u{fb02}ac"), Some("audio/flac"));
        for p in ["noext", "dir.pdf/noext", ".pdf", "a.", "x.tar.gz", "/"] {
            assert_eq!(
                for_path(Path::new(p)),
                mime_guess::from_path(p).first_raw(),
                "{p}"
            );
        }
    }
}
