//! Which of the replies read after QUIT is QUIT's own answer. Replies come in the order of the
//! commands (RFC 5321 §4.1.1, RFC 2920 §3.1): the commands still unanswered when QUIT left are
//! answered first. A `221` answers only QUIT (RFC 5321 §4.1.1.10, §4.2.2), so it is QUIT's
//! wherever it comes, and shows that the server dropped what was still unanswered. Any other
//! reply is QUIT's only when it came after QUIT was sent with nothing else outstanding: a
//! strict server may answer QUIT with `250 2.0.0 Bye` and close, but a `250` while a command is
//! still unanswered is that command's.

use crate::smtp::reply::Reply;

/// The replies read after QUIT was sent (until a `221`, a close or the reader's limit), apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AfterQuit<'a> {
    /// Answers to the commands still outstanding when QUIT was sent, in order.
    pub(crate) outstanding: Vec<&'a Reply>,
    /// Replies that answer nothing that was sent (or more than the outstanding commands got).
    pub(crate) unasked: Vec<&'a Reply>,
    /// QUIT's own answer, if one of the replies is.
    pub(crate) quit: Option<&'a Reply>,
}

impl<'a> AfterQuit<'a> {
    /// Pair `replies` (in arrival order, all read after QUIT was sent) with the `outstanding`
    /// commands sent before QUIT and not answered yet, then QUIT; `closed`: the server closed
    /// the connection right after the last one.
    pub(crate) fn pair(replies: &[&'a Reply], outstanding: usize, closed: bool) -> AfterQuit<'a> {
        let mut rest = replies.to_vec();
        let quit = match rest.last() {
            Some(r) if r.code == Some(221) => rest.pop(),
            // The last reply before the close, once everything before QUIT is answered: QUIT's
            // (a `354` asks for more and answers no QUIT).
            Some(r) if closed && rest.len() > outstanding && r.class() != Some(3) => rest.pop(),
            _ => None,
        };
        let split = outstanding.min(rest.len());
        let unasked = rest.split_off(split);
        AfterQuit {
            outstanding: rest,
            unasked,
            quit,
        }
    }

    /// Did the server answer QUIT: its `221`, or another 2xx that is QUIT's?
    pub(crate) fn quit_answered(&self) -> bool {
        self.quit
            .is_some_and(|r| r.code == Some(221) || r.is_positive())
    }

    /// Every reply that is not QUIT's, in order (the outstanding commands' answers first).
    pub(crate) fn others(&self) -> Vec<&'a Reply> {
        self.outstanding
            .iter()
            .chain(self.unasked.iter())
            .copied()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(code: u16) -> Reply {
        Reply::new(code, &["x"])
    }

    #[test]
    fn a_221_is_quits_wherever_it_comes() {
        let (a, b) = (r(250), r(221));
        let p = AfterQuit::pair(&[&b], 1, false);
        assert_eq!(p.quit, Some(&b));
        assert!(p.others().is_empty() && p.quit_answered());
        let p = AfterQuit::pair(&[&a, &b], 1, true);
        assert_eq!(
            (p.outstanding, p.unasked, p.quit),
            (vec![&a], vec![], Some(&b))
        );
        let p = AfterQuit::pair(&[&a, &a, &b], 0, false);
        assert_eq!(p.unasked.len(), 2);
    }

    #[test]
    fn a_2xx_before_the_close_is_quits_only_with_nothing_outstanding() {
        let bye = r(250);
        // Nothing outstanding: the strict server's `250 Bye`.
        let p = AfterQuit::pair(&[&bye], 0, true);
        assert_eq!(p.quit, Some(&bye));
        assert!(p.quit_answered());
        // A command still unanswered: the `250` is its answer, QUIT got none.
        let p = AfterQuit::pair(&[&bye], 1, true);
        assert_eq!(p.quit, None);
        assert_eq!(p.outstanding, vec![&bye]);
        assert!(!p.quit_answered());
        // That command's answer, then QUIT's.
        let (a, b) = (r(250), r(250));
        let p = AfterQuit::pair(&[&a, &b], 1, true);
        assert_eq!((p.outstanding, p.quit), (vec![&a], Some(&b)));
        // No close: no QUIT answer but a 221.
        let p = AfterQuit::pair(&[&bye], 0, false);
        assert_eq!((p.quit, p.unasked), (None, vec![&bye]));
    }

    #[test]
    fn a_354_or_a_refusal_before_the_close() {
        let go = r(354);
        let p = AfterQuit::pair(&[&go], 0, true);
        assert_eq!((p.quit, p.unasked), (None, vec![&go]));
        // A 5xx to QUIT is QUIT's, but no answer that ends the session cleanly.
        let no = r(502);
        let p = AfterQuit::pair(&[&no], 0, true);
        assert_eq!(p.quit, Some(&no));
        assert!(!p.quit_answered());
    }
}
