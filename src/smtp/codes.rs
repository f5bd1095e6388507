//! Reply-code knowledge: basic codes (RFC 5321 §4.2.3 and extensions), the IANA enhanced status
//! code registry (RFC 3463, RFC 5248; vendored CSV), and context hints ("530 after MAIL → add
//! --tls"). Our own words; registry data verbatim.
//!
//! TODO(codes helper): implement; the types and signatures are the contract.

use serde::Serialize;

use crate::smtp::event::Phase;
use crate::smtp::reply::{EnhancedCode, Reply};

/// Registry entry of an enhanced status code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnhancedInfo {
    /// The code as received (`5.1.1`).
    pub code: String,
    /// Registry sample text ("Bad destination mailbox address").
    pub title: String,
    /// Short meaning in our words (or the class + subject names when the detail is unregistered).
    pub meaning: String,
}

/// How bad a reply is, for colouring and for `--explain errors`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// 2xx/3xx as expected.
    Ok,
    /// Unusual but not an error (e.g. 251, 252, a deviation).
    Notice,
    /// 4xx.
    Transient,
    /// 5xx or garbage.
    Permanent,
}

/// Explanation of one reply in the context of the command it answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Explanation {
    /// What the basic code means here.
    pub basic: Option<String>,
    /// The enhanced code's registry meaning.
    pub enhanced: Option<EnhancedInfo>,
    /// What it means in this context and what to do ("server wants STARTTLS: add --tls").
    pub hint: Option<String>,
    /// Severity.
    pub severity: Option<Severity>,
}

/// Explain `reply` as an answer to a command of `phase`.
pub fn explain(reply: &Reply, phase: Phase) -> Explanation {
    let _ = (reply, phase);
    Explanation::default()
}

/// Look up an enhanced status code in the registry (class 2/4/5 or `X`).
pub fn lookup_enhanced(code: &EnhancedCode) -> Option<EnhancedInfo> {
    let _ = code;
    None
}

/// Meaning of a basic reply code in our own words (no context).
pub fn basic_meaning(code: u16) -> Option<&'static str> {
    let _ = code;
    None
}
