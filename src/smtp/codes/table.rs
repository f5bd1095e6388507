//! The code-table view of `:explain 550 5.1.1` and `ehlo explain 550`: every meaning and hint
//! of a basic and/or enhanced code, without a reply to explain.

use super::context::{basic_in_context, context_meaning};
use super::hints::{Ctx, enhanced_hint, hint, vendor_hint};
use super::registry::{basic_entry, basic_meaning, lookup_enhanced, registry_entry};
use super::{DIALOGUE_PHASES, parse_enhanced_word};
use crate::smtp::event::Phase;
use crate::smtp::reply::{EnhancedCode, Reply};

/// Text for the REPL's `:explain 5.7.1` / `:explain 550` / `:explain 550 5.1.1`: a basic code,
/// an enhanced code (`X.s.d` accepted), or both, separated by spaces, commas or a hyphen as in
/// `550-5.1.1`. Returns several lines, or `None` when nothing in `text` looks like a code.
pub fn explain_code(text: &str) -> Option<String> {
    let mut basic: Option<u16> = None;
    let mut enhanced: Option<EnhancedCode> = None;
    for word in text
        .split(|ch: char| ch.is_whitespace() || ch == ',' || ch == '-')
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

    let mut out: Vec<String> = Vec::new();
    if let Some(code) = basic {
        match basic_entry(code) {
            Some(e) => out.push(format!("{code}  {}  [{}]", e.meaning, e.source)),
            None => out.push(format!(
                "{code}  {}",
                basic_in_context(Some(code), Phase::Other)
            )),
        }
        let class = match code / 100 {
            2 => "2xx: success",
            3 => "3xx: intermediate, the server waits for more input",
            4 => "4xx: temporary failure, retry later",
            5 => "5xx: permanent failure, do not retry unchanged",
            _ => "not a valid SMTP reply class (2xx–5xx only)",
        };
        out.push(format!("     class {class}"));
        // Skip lines that only repeat the table meaning or a meaning shared by every command.
        let generic = basic_meaning(code);
        let anywhere = context_meaning(code, Phase::Other);
        if let Some(m) = anywhere
            && Some(m) != generic
        {
            out.push(format!("     after any command: {m}"));
        }
        for &p in DIALOGUE_PHASES {
            if let Some(m) = context_meaning(code, p)
                && Some(m) != generic
                && Some(m) != anywhere
            {
                out.push(format!("     after {}: {m}", p.label()));
            }
        }
    }
    if let Some(e) = enhanced
        && let Some(info) = lookup_enhanced(&e)
    {
        out.push(format!("{}  {}", info.code, info.title));
        out.push(format!("     {}", info.meaning));
        if let Some(r) = registry_entry(e.subject, e.detail) {
            let mut line = format!("     registry: {}", r.reference);
            if !r.associated_basic.is_empty() {
                line.push_str(&format!("; usual basic codes: {}", r.associated_basic));
            }
            out.push(line);
        }
    }
    if let (Some(b), Some(e)) = (basic, enhanced)
        && e.class != 0
        && u16::from(e.class) != b / 100
    {
        out.push(format!(
            "note: the classes differ ({b} vs {e}); RFC 3463 §2 wants them to match"
        ));
    }

    // Hints per command, merged where the same advice applies to several commands.
    let mut hints: Vec<(Vec<&str>, String)> = Vec::new();
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
                    let label = if p == Phase::Other {
                        None
                    } else {
                        Some(p.label())
                    };
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
    for (phases, h) in hints {
        // The table is `ehlo explain`'s: remedies in the send's words.
        let h = super::Hint::new(h);
        if phases.is_empty() {
            out.push(format!("hint: {h}"));
        } else {
            out.push(format!("hint after {}: {h}", phases.join(", ")));
        }
    }
    Some(out.join("\n"))
}
