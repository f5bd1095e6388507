//! The code-table view of `:explain 550 5.1.1` and `ehlo explain 550`: every meaning and hint
//! of a basic and/or enhanced code, without a reply to explain. Protocol knowledge only (which
//! meanings and hints apply, after which commands); `render::explain` words it.

use super::context::{basic_in_context, context_meaning};
use super::hints::{Ctx, enhanced_hint, hint, vendor_hint};
use super::registry::{basic_entry, basic_meaning, lookup_enhanced, registry_entry};
use super::{DIALOGUE_PHASES, EnhancedInfo, Hint, parse_enhanced_word};
use serde::{Serialize, Serializer};

use crate::smtp::event::Phase;
use crate::smtp::reply::{EnhancedCode, Reply};

/// What the tables say about a basic and/or an enhanced code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CodeTable {
    /// The basic code's row, if one was given.
    pub(crate) basic: Option<BasicRow>,
    /// The enhanced code's registry row, if one was given and is well-formed.
    pub(crate) enhanced: Option<EnhancedRow>,
    /// The two classes differ (basic, enhanced): RFC 3463 §2 wants them to match.
    pub(crate) classes_differ: Option<(u16, EnhancedCode)>,
    /// What to do, each with the commands it applies after (none: whatever the command).
    pub(crate) hints: Vec<(Vec<Phase>, Hint)>,
}

/// The JSON form (`ehlo explain --json`'s `table`, specified in `render::json`): what the text
/// view shows, member for member.
impl Serialize for CodeTable {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct After<'a> {
            phase: Phase,
            meaning: &'a str,
        }
        #[derive(Serialize)]
        struct Basic<'a> {
            code: u16,
            meaning: &'a str,
            source: Option<&'a str>,
            class: &'a str,
            anywhere: Option<&'a str>,
            after: Vec<After<'a>>,
        }
        #[derive(Serialize)]
        struct Enhanced<'a> {
            code: &'a str,
            title: &'a str,
            meaning: &'a str,
            reference: Option<&'a str>,
            usual_basic: Option<&'a str>,
        }
        #[derive(Serialize)]
        struct HintRow<'a> {
            phases: &'a [Phase],
            hint: &'a Hint,
        }
        #[derive(Serialize)]
        struct Table<'a> {
            basic: Option<Basic<'a>>,
            enhanced: Option<Enhanced<'a>>,
            classes_differ: bool,
            hints: Vec<HintRow<'a>>,
        }
        Table {
            basic: self.basic.as_ref().map(|b| Basic {
                code: b.code,
                meaning: &b.meaning,
                source: b.source.as_deref(),
                class: b.class,
                anywhere: b.anywhere,
                after: b
                    .after
                    .iter()
                    .map(|&(phase, meaning)| After { phase, meaning })
                    .collect(),
            }),
            enhanced: self.enhanced.as_ref().map(|e| Enhanced {
                code: &e.info.code,
                title: &e.info.title,
                meaning: &e.info.meaning,
                reference: e.reference.as_deref(),
                usual_basic: e.usual_basic.as_deref(),
            }),
            classes_differ: self.classes_differ.is_some(),
            hints: self
                .hints
                .iter()
                .map(|(phases, hint)| HintRow { phases, hint })
                .collect(),
        }
        .serialize(s)
    }
}

/// A basic code: its meaning, its class, and what it means after each command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BasicRow {
    pub(crate) code: u16,
    /// Our meaning and where the code is defined, or (unknown code) the meaning in no context.
    pub(crate) meaning: String,
    pub(crate) source: Option<String>,
    /// What the first digit says (RFC 5321 §4.2.1).
    pub(crate) class: &'static str,
    /// What it means after any command, when that differs from `meaning`.
    pub(crate) anywhere: Option<&'static str>,
    /// What it means after particular commands, where that says more.
    pub(crate) after: Vec<(Phase, &'static str)>,
}

/// An enhanced code: its registry meaning, reference and usual basic codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EnhancedRow {
    pub(crate) info: EnhancedInfo,
    /// The registry's reference column, when the code is registered.
    pub(crate) reference: Option<String>,
    /// The registry's "associated basic status code" column, when it has one.
    pub(crate) usual_basic: Option<String>,
}

/// The table view for `:explain 5.7.1` / `:explain 550` / `:explain 550 5.1.1`: a basic code,
/// an enhanced code (`X.s.d` accepted), or both, separated by spaces, commas or a hyphen as in
/// `550-5.1.1`, maybe quoted (`'550 5.1.10'`, `#550`). `None` when nothing in `text` looks like
/// a code. Only the first words are read: a code stands at the start of what is typed; a
/// reply found further into a pasted bounce is tabled from its own codes (`smtp::explain`).
pub(crate) fn code_table(text: &str) -> Option<CodeTable> {
    let mut basic: Option<u16> = None;
    let mut enhanced: Option<EnhancedCode> = None;
    for word in text
        .split(|ch: char| ch.is_whitespace() || matches!(ch, ',' | '-' | '\'' | '"' | '#'))
        .filter(|w| !w.is_empty())
        .take(16)
    {
        if basic.is_none()
            && word.len() == 3
            && word.bytes().all(|b| b.is_ascii_digit())
            && let Ok(n) = word.parse::<u16>()
        {
            basic = Some(n);
        } else if enhanced.is_none()
            && let Some(e) = parse_enhanced_word(word)
        {
            enhanced = Some(e);
        }
    }
    if basic.is_none() && enhanced.is_none() {
        return None;
    }

    let basic_row = basic.map(|code| {
        let (meaning, source) = match basic_entry(code) {
            Some(e) => (e.meaning.clone(), Some(e.source.clone())),
            None => (basic_in_context(Some(code), Phase::Other), None),
        };
        let class = match code / 100 {
            2 => "2xx: success",
            3 => "3xx: intermediate, the server waits for more input",
            4 => "4xx: temporary failure, retry later",
            5 => "5xx: permanent failure, do not retry unchanged",
            _ => "not a valid SMTP reply class (2xx–5xx only)",
        };
        // Leave out what only repeats the table meaning or a meaning shared by every command.
        let generic = basic_meaning(code);
        let anywhere = context_meaning(code, Phase::Other).filter(|m| Some(*m) != generic);
        let after = DIALOGUE_PHASES
            .iter()
            .filter_map(|&p| {
                context_meaning(code, p)
                    .filter(|m| {
                        Some(*m) != generic && Some(*m) != context_meaning(code, Phase::Other)
                    })
                    .map(|m| (p, m))
            })
            .collect();
        BasicRow {
            code,
            meaning,
            source,
            class,
            anywhere,
            after,
        }
    });
    let enhanced_row = enhanced.and_then(|e| {
        let info = lookup_enhanced(&e)?;
        let entry = registry_entry(e.subject, e.detail);
        Some(EnhancedRow {
            info,
            reference: entry.map(|r| r.reference.clone()),
            // The registry's "Not given" (X.2.1, X.4.7, …) is no code: `null` in JSON, as
            // its schema says, and no "usual basic codes: Not given" in the table view.
            usual_basic: entry
                .map(|r| r.associated_basic.clone())
                .filter(|a| !a.is_empty() && !a.eq_ignore_ascii_case("not given")),
        })
    });
    let classes_differ = match (basic, enhanced) {
        (Some(b), Some(e)) if e.class != 0 && u16::from(e.class) != b / 100 => Some((b, e)),
        _ => None,
    };

    // Hints per command, merged where the same advice applies to several commands.
    let mut hints: Vec<(Vec<Phase>, String)> = Vec::new();
    match (basic, enhanced) {
        (Some(code), _) => {
            let line = enhanced.map(|e| e.to_string()).unwrap_or_default();
            let mut reply = Reply::new(code, &[line.as_str()]);
            // `X.s.d` carries no class: take the basic code's, so the hint rules see a code.
            if let Some(e) = enhanced
                && e.class == 0
                && let Ok(cls) = u8::try_from(code / 100)
            {
                reply.enhanced = Some(EnhancedCode { class: cls, ..e });
            }
            // Only the commands this code is a known answer to; a code with no
            // command-specific meaning gets one command-free hint.
            let mut phases: Vec<Phase> = DIALOGUE_PHASES
                .iter()
                .copied()
                .filter(|&p| context_meaning(code, p).is_some())
                .collect();
            if phases.is_empty() {
                phases.push(Phase::Other);
            }
            for &p in &phases {
                if let Some(h) = hint(&reply, p) {
                    let label = (p != Phase::Other).then_some(p);
                    match hints.iter_mut().find(|(_, t)| *t == h) {
                        Some((ps, _)) => ps.extend(label),
                        None => hints.push((label.into_iter().collect(), h)),
                    }
                }
            }
        }
        (None, Some(e)) => {
            // Without a basic code, the command context cannot be judged; give the
            // code-level hint only, for the failure classes (X = as a failure).
            let as_failure = EnhancedCode {
                class: if e.class == 0 { 5 } else { e.class },
                ..e
            };
            let code = u16::from(as_failure.class) * 100 + 50;
            let line = as_failure.to_string();
            let c = Ctx::new(&Reply::new(code, &[line.as_str()]), code, Phase::Other);
            if let Some(h) =
                vendor_hint(&c).or_else(|| enhanced_hint(as_failure).map(str::to_string))
            {
                hints.push((Vec::new(), h));
            }
        }
        (None, None) => {}
    }
    if hints.len() == 1 && hints[0].0.len() == DIALOGUE_PHASES.len() {
        hints[0].0.clear();
    }
    Some(CodeTable {
        basic: basic_row,
        enhanced: enhanced_row,
        classes_differ,
        hints: hints
            .into_iter()
            .map(|(phases, h)| (phases, Hint::new(h)))
            .collect(),
    })
}
