//! EHLO capabilities (RFC 5321 §4.1.1.1, RFC 1869): keywords with parameters, unknown keywords and
//! the raw lines kept.
//!
//! TODO(core-codec helper): implement; the types and signatures are the contract.

use serde::Serialize;

use crate::smtp::reply::Reply;

/// One EHLO keyword line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Capability {
    /// Keyword, upper-cased (`SIZE`, `AUTH`, `X-FOO`).
    pub keyword: String,
    /// Parameters as sent (`["10240000"]`, `["PLAIN", "LOGIN"]`).
    pub params: Vec<String>,
    /// The line as received.
    pub raw: String,
}

/// Everything a server said in its EHLO/LHLO reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Capabilities {
    /// First line: the server's name and greeting.
    pub greeting: String,
    /// Keyword lines in order.
    pub keywords: Vec<Capability>,
}

impl Capabilities {
    /// Parse a 250 EHLO reply.
    pub fn from_reply(reply: &Reply) -> Capabilities {
        let _ = reply;
        todo!("core-codec helper")
    }
    /// Is `keyword` (case-insensitive) advertised?
    pub fn has(&self, keyword: &str) -> bool {
        let _ = keyword;
        todo!("core-codec helper")
    }
    /// Parameters of `keyword`, if advertised.
    pub fn params(&self, keyword: &str) -> Option<&[String]> {
        let _ = keyword;
        todo!("core-codec helper")
    }
    /// SASL mechanisms from `AUTH a b` and the old `AUTH=a b` form, upper-cased, deduplicated.
    pub fn auth_mechanisms(&self) -> Vec<String> {
        todo!("core-codec helper")
    }
    /// The SIZE limit (RFC 1870), `Some(0)` means "no fixed limit".
    pub fn size(&self) -> Option<u64> {
        todo!("core-codec helper")
    }
}
