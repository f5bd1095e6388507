//! ESMTP extension vocabulary and encoders for the client: the [`Extension`] names, xtext
//! (RFC 3461 §4), DSN parameters (RFC 3461 §4.1–4.4), ORCPT address types (RFC 3461 §4.2,
//! RFC 6533 §3), 8-bit and UTF-8 detection (RFC 6152, RFC 6531), XCLIENT / XFORWARD attributes
//! (Postfix). Pure functions: no I/O. (PROXY protocol headers are in `crate::net::proxy`.)

/// An extension the client can require; `crate::error` maps some of them to their own exit code
/// (SMTPUTF8 31, PRDR 30, XCLIENT 33).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extension {
    /// SMTPUTF8 (RFC 6531).
    SmtpUtf8,
    /// 8BITMIME (RFC 6152).
    EightBitMime,
    /// DSN (RFC 3461).
    Dsn,
    /// REQUIRETLS (RFC 8689).
    RequireTls,
    /// CHUNKING / BDAT (RFC 3030).
    Chunking,
    /// PRDR (draft-hall-prdr).
    Prdr,
    /// XCLIENT (Postfix).
    Xclient,
    /// XFORWARD (Postfix).
    Xforward,
}

impl Extension {
    /// The EHLO keyword.
    pub(crate) fn keyword(self) -> &'static str {
        match self {
            Extension::SmtpUtf8 => "SMTPUTF8",
            Extension::EightBitMime => "8BITMIME",
            Extension::Dsn => "DSN",
            Extension::RequireTls => "REQUIRETLS",
            Extension::Chunking => "CHUNKING",
            Extension::Prdr => "PRDR",
            Extension::Xclient => "XCLIENT",
            Extension::Xforward => "XFORWARD",
        }
    }
}

/// xtext (RFC 3461 §4): bytes 33–126 except `+` and `=` as they are, everything else `+HH`.
pub(crate) fn xtext(value: &[u8]) -> String {
    let mut out = String::with_capacity(value.len());
    for &b in value {
        if (33..=126).contains(&b) && b != b'+' && b != b'=' {
            out.push(b as char);
        } else {
            out.push_str(&format!("+{b:02X}"));
        }
    }
    out
}

/// Is `s` well-formed xtext (RFC 3461 §4): bytes 33-126 other than `+` and `=`, or `+` and two
/// upper-case hex digits?
pub(crate) fn is_xtext(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => {
                let hex =
                    |c: Option<&u8>| c.is_some_and(|c| matches!(c, b'0'..=b'9' | b'A'..=b'F'));
                if !(hex(b.get(i + 1)) && hex(b.get(i + 2))) {
                    return false;
                }
                i += 3;
            }
            b'=' => return false,
            33..=126 => i += 1,
            _ => return false,
        }
    }
    true
}

/// RFC 3461 §4.4: an `ENVID=` value is at most 100 characters (counted as sent, in xtext).
pub(crate) const ENVID_MAX: usize = 100;
/// RFC 3461 §4.2: an `ORCPT=` value is at most 500 characters (counted as sent).
pub(crate) const ORCPT_MAX: usize = 500;

/// Is `c` printable US-ASCII, graphic or white space? RFC 3461 §4.2 and §4.4 require it of an
/// ORCPT address and an ENVID before their xtext encoding.
pub(crate) fn is_dsn_printable(c: char) -> bool {
    c == ' ' || c == '\t' || c.is_ascii_graphic()
}

/// What is wrong with `s` as an xtext value that must decode to printable US-ASCII (RFC 3461
/// §4): `None` when it is well-formed.
pub(crate) fn dsn_xtext_problem(s: &str) -> Option<&'static str> {
    if s.is_empty() {
        return Some("empty");
    }
    if !is_xtext(s) {
        return Some(if s.contains('=') || s.contains('+') {
            "'=' or a '+' not followed by two upper-case hex digits, RFC 3461 §4"
        } else {
            "not xtext: a space, control or non-ASCII character, RFC 3461 §4"
        });
    }
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = if b[i] == b'+' {
            let v = u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap_or(0);
            i += 3;
            v
        } else {
            i += 1;
            b[i - 1]
        };
        if !is_dsn_printable(c as char) {
            return Some("decodes to a byte that is not printable US-ASCII, RFC 3461 §4");
        }
    }
    None
}

/// `NOTIFY=` value (RFC 3461 §4.1): `NEVER`, or a comma list of `SUCCESS`, `FAILURE`, `DELAY`
/// (case-insensitive, no repeats). Returns the normalised upper-case value.
pub(crate) fn parse_notify(s: &str) -> Result<String, String> {
    let mut seen: Vec<String> = Vec::new();
    for word in s.split(',') {
        let w = word.trim().to_ascii_uppercase();
        if !matches!(w.as_str(), "NEVER" | "SUCCESS" | "FAILURE" | "DELAY") {
            return Err(format!(
                "'{}' is not NEVER, SUCCESS, FAILURE or DELAY",
                word.trim()
            ));
        }
        if seen.contains(&w) {
            return Err(format!("{w} is given twice"));
        }
        seen.push(w);
    }
    if seen.iter().any(|w| w == "NEVER") && seen.len() > 1 {
        return Err("NEVER cannot be combined with SUCCESS, FAILURE or DELAY".into());
    }
    Ok(seen.join(","))
}

/// `RET=` (RFC 3461 §4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ret {
    /// Return the whole message in a failure DSN.
    Full,
    /// Return only the headers.
    Hdrs,
}

/// DSN requests (RFC 3461). Empty = no DSN parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Dsn {
    /// `NOTIFY=` on every RCPT, already validated by [`parse_notify`].
    pub(crate) notify: Option<String>,
    /// `RET=` on MAIL.
    pub(crate) ret: Option<Ret>,
    /// `ENVID=` on MAIL, raw (xtext-encoded when sent).
    pub(crate) envid: Option<String>,
    /// `ORCPT=` on every RCPT, naming the recipient itself.
    pub(crate) orcpt: bool,
}

impl Dsn {
    /// Does this ask for anything?
    pub(crate) fn is_empty(&self) -> bool {
        self.notify.is_none() && self.ret.is_none() && self.envid.is_none() && !self.orcpt
    }

    /// MAIL parameters (`RET=`, `ENVID=`).
    pub(crate) fn mail_params(&self) -> Vec<String> {
        let mut v = Vec::new();
        if let Some(r) = self.ret {
            v.push(
                match r {
                    Ret::Full => "RET=FULL",
                    Ret::Hdrs => "RET=HDRS",
                }
                .to_string(),
            );
        }
        if let Some(e) = &self.envid {
            v.push(format!("ENVID={}", xtext(e.as_bytes())));
        }
        v
    }

    /// RCPT parameters for `rcpt` (`NOTIFY=`, `ORCPT=`).
    pub(crate) fn rcpt_params(&self, rcpt: &str) -> Vec<String> {
        let mut v = Vec::new();
        if let Some(n) = &self.notify {
            v.push(format!("NOTIFY={n}"));
        }
        if self.orcpt {
            v.push(format!("ORCPT={}", orcpt(rcpt)));
        }
        v
    }
}

/// `ORCPT` value: `rfc822;` + xtext for ASCII addresses (RFC 3461 §4.2); `utf-8;` +
/// utf-8-addr-xtext for internationalised ones (RFC 6533 §3: non-ASCII and the xtext specials as
/// `\x{HEX}`).
pub(crate) fn orcpt(addr: &str) -> String {
    if addr.is_ascii() {
        return format!("rfc822;{}", xtext(addr.as_bytes()));
    }
    let mut out = String::from("utf-8;");
    for c in addr.chars() {
        let n = c as u32;
        if (33..=126).contains(&n) && !matches!(c, '+' | '=' | '\\') {
            out.push(c);
        } else {
            out.push_str(&format!("\\x{{{n:X}}}"));
        }
    }
    out
}

/// Does the content have any byte above 127 (RFC 6152 8-bit data)?
pub(crate) fn is_8bit(content: &[u8]) -> bool {
    // std's word-at-a-time test, not `iter().any` with a closure: that is a call a byte in the
    // tests' unoptimised debug builds (a 20 MB message).
    !content.is_ascii()
}

/// Does the header section have any non-ASCII byte (RFC 6532 internationalised headers, which
/// need SMTPUTF8)? The section ends at the first empty line, or at the first line that is
/// neither a field (`name:` with the RFC 5322 §2.2 field-name of printable ASCII) nor a folded
/// continuation of one: a `--data` message with no header block is all body.
pub(crate) fn headers_need_utf8(message: &[u8]) -> bool {
    let mut start = 0;
    let mut in_field = false;
    while start < message.len() {
        let end = message[start..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(message.len(), |i| start + i + 1);
        let line = &message[start..end];
        let trimmed = line
            .strip_suffix(b"\n")
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
            .unwrap_or(line);
        let continuation = in_field && (trimmed.starts_with(b" ") || trimmed.starts_with(b"\t"));
        let field = trimmed
            .iter()
            .position(|&b| b == b':')
            .is_some_and(|colon| {
                colon > 0 && trimmed[..colon].iter().all(|&b| (33..=126).contains(&b))
            });
        if trimmed.is_empty() || !(continuation || field) {
            return false;
        }
        in_field = true;
        if is_8bit(line) {
            return true;
        }
        start = end;
    }
    false
}

/// One XCLIENT or XFORWARD attribute: name (upper-case) and raw value (xtext-encoded when sent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Attribute {
    /// `ADDR`, `NAME`, `HELO`, …
    pub(crate) name: String,
    /// The value before xtext encoding.
    pub(crate) value: String,
}

/// `XCLIENT` / `XFORWARD` command line (without CRLF): the verb and `NAME=xtext(value)` pairs.
pub(crate) fn attribute_command(verb: &str, attrs: &[Attribute]) -> String {
    let mut line = verb.to_string();
    for a in attrs {
        line.push(' ');
        line.push_str(&a.name);
        line.push('=');
        line.push_str(&xtext(a.value.as_bytes()));
    }
    line
}

/// Attributes not in the advertised list (case-insensitive).
pub(crate) fn unadvertised<'a>(attrs: &'a [Attribute], advertised: &[String]) -> Vec<&'a str> {
    attrs
        .iter()
        .filter(|a| !advertised.iter().any(|x| x.eq_ignore_ascii_case(&a.name)))
        .map(|a| a.name.as_str())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xtext_encodes_specials_and_controls() {
        assert_eq!(xtext(b"a@b.test"), "a@b.test");
        assert_eq!(xtext(b"a+b=c d"), "a+2Bb+3Dc+20d");
        assert_eq!(xtext("é".as_bytes()), "+C3+A9");
        assert_eq!(xtext(b"\x7f\x01"), "+7F+01");
    }

    #[test]
    fn notify_values() {
        assert_eq!(parse_notify("never").unwrap(), "NEVER");
        assert_eq!(
            parse_notify("success, Failure,DELAY").unwrap(),
            "SUCCESS,FAILURE,DELAY"
        );
        assert!(parse_notify("NEVER,SUCCESS").is_err());
        assert!(parse_notify("SUCCESS,SUCCESS").is_err());
        assert!(parse_notify("sometimes").is_err());
        assert!(parse_notify("").is_err());
    }

    #[test]
    fn dsn_params() {
        let d = Dsn {
            notify: Some("SUCCESS,FAILURE".into()),
            ret: Some(Ret::Hdrs),
            envid: Some("id 1+2".into()),
            orcpt: true,
        };
        assert_eq!(d.mail_params(), ["RET=HDRS", "ENVID=id+201+2B2"]);
        assert_eq!(
            d.rcpt_params("a+b@x.test"),
            ["NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;a+2Bb@x.test"]
        );
        assert_eq!(orcpt("jöe@x.test"), "utf-8;j\\x{F6}e@x.test");
        assert!(Dsn::default().is_empty());
    }

    #[test]
    fn eight_bit_and_utf8_headers() {
        assert!(!is_8bit(b"plain"));
        assert!(is_8bit("café".as_bytes()));
        assert!(headers_need_utf8("Subject: café\r\n\r\nbody".as_bytes()));
        assert!(!headers_need_utf8("Subject: x\r\n\r\ncafé".as_bytes()));
        assert!(!headers_need_utf8("Subject: x\n\ncafé".as_bytes()));
        assert!(headers_need_utf8("A: b\nFrom: Jö <j@x>\n".as_bytes()));
        // Folded continuation lines belong to their field.
        assert!(headers_need_utf8("Subject: a\n\tcafé\n\nbody".as_bytes()));
        // No header block: the first line is body text, however it looks.
        assert!(!headers_need_utf8(
            "Grüße, just a body line\n\nmore".as_bytes()
        ));
        assert!(!headers_need_utf8("Subject: x\nnot a field ü\n".as_bytes()));
        assert!(!headers_need_utf8(" Grüße\n".as_bytes()));
        assert!(!headers_need_utf8("Grüße: x\n".as_bytes()));
    }

    #[test]
    fn attributes() {
        let attrs = vec![
            Attribute {
                name: "ADDR".into(),
                value: "192.0.2.1".into(),
            },
            Attribute {
                name: "NAME".into(),
                value: "a b".into(),
            },
        ];
        assert_eq!(
            attribute_command("XCLIENT", &attrs),
            "XCLIENT ADDR=192.0.2.1 NAME=a+20b"
        );
        assert_eq!(
            unadvertised(&attrs, &["addr".into(), "HELO".into()]),
            ["NAME"]
        );
    }
}
