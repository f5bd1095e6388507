//! Tests only: the member lists of the format tables in the JSON renderers' module
//! documentation (`render::json`, `render::check`), read back so that a test can compare them
//! with the lines the renderers write, in both directions.

/// The rows of the `| `type` | members |` table in `doc` (a module's `//!` lines): for each
/// row, the `type`s its first cell names and the members its second cell lists.
pub(crate) fn rows(doc: &str) -> Vec<(Vec<String>, Vec<String>)> {
    doc.lines()
        .filter_map(|l| l.strip_prefix("//! | `"))
        .filter_map(|l| {
            let mut cells = l.split(" | ");
            let types = cells.next()?;
            let members = cells.next()?;
            let types = ticked(&format!("`{types}"));
            (types.first().map(String::as_str) != Some("type"))
                .then(|| (types, members_of(members)))
        })
        .collect()
}

/// Every `name` in backticks in `s`.
fn ticked(s: &str) -> Vec<String> {
    s.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// The members a row's second cell lists: the first backticked name of each item, items being
/// separated by commas outside brackets. The list ends at the first `:` or `;` outside
/// brackets (what follows describes the last member or the line), and parenthesised notes
/// (`(`ehlo serve`)`, `(`--show-raw-text`)`) name no member.
fn members_of(cell: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut taken = false;
    let mut rest = cell;
    while let Some(c) = rest.chars().next() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            ',' if depth == 0 => taken = false,
            ':' | ';' if depth == 0 => break,
            '`' => {
                if let Some(end) = rest[1..].find('`') {
                    if depth == 0 && !taken {
                        out.push(rest[1..1 + end].to_string());
                        taken = true;
                    }
                    rest = &rest[end + 2..];
                    continue;
                }
            }
            _ => {}
        }
        rest = &rest[c.len_utf8()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_lists_its_members_not_its_values_or_notes() {
        let doc = "//! | `type` | `data` members |\n\
                   //! |---|---|\n\
                   //! | `a`, `b` | (`ehlo serve`) `x` (`1`, `2`: values), `y`, `z` (bool): prose `w`, `v` |\n\
                   //! | `c` | `k`: `nested`, `more`; the rest |\n";
        assert_eq!(
            rows(doc),
            vec![
                (
                    vec!["a".to_string(), "b".to_string()],
                    vec!["x".to_string(), "y".to_string(), "z".to_string()]
                ),
                (vec!["c".to_string()], vec!["k".to_string()]),
            ]
        );
    }
}
