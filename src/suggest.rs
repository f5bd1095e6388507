//! The one did-you-mean rule: the name nearest a typed word, by edit distance. Flags, `EHLO_*`
//! variables and config keys (`cli`) and the check and probe ids of `--only`, `--skip`,
//! `--waive` and `--expect` (`check::select`) all suggest with it.

/// The name among `names` (each with whether it is an alias) closest to `typed` as typed:
/// within one edit — a character added, dropped, changed, or two swapped — per three characters
/// (at least one; none for a word under three); on a tie a long name before an alias, then
/// the first alphabetically. The one did-you-mean rule of flags, `EHLO_*` variables and the check and probe ids.
pub(crate) fn nearest<S: AsRef<str>>(
    typed: &str,
    names: impl IntoIterator<Item = (S, bool)>,
) -> Option<S> {
    let len = typed.chars().count();
    if len < 3 {
        return None;
    }
    let limit = (len / 3).max(1);
    names
        .into_iter()
        .map(|(n, alias)| (edit_distance(typed, n.as_ref()), alias, n))
        .filter(|(d, _, _)| *d <= limit)
        .min_by(|a, b| (a.0, a.1, a.2.as_ref()).cmp(&(b.0, b.1, b.2.as_ref())))
        .map(|(_, _, n)| n)
}

/// Optimal string alignment distance between `a` and `b` (Levenshtein with adjacent
/// transpositions, each edit counting one), by characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_counts_each_edit_once() {
        assert_eq!(edit_distance("tsl", "tls"), 1);
        assert_eq!(edit_distance("tls-verfy", "tls-verify"), 1);
        assert_eq!(edit_distance("", "ab"), 2);
    }
}
