//! The default test message, composed like swaks's template (swaks.md §2 "DATA composition"):
//! `Date`, `To`, `Cc`, `From`, `Subject: test <date>`, `Message-Id`, `X-Mailer`, then the user's
//! `--header` replacements and `--add-header` additions, a blank line and the body.
//!
//! Lines end in bare LF here; the DATA encoder (`smtp::data::encode`) turns them into CRLF
//! unless `--no-data-fixup` is given. The clock, host name and process id come in through
//! [`MessageContext`] so the output is deterministic under test.

use time::format_description::well_known::Rfc2822;
use time::{OffsetDateTime, UtcOffset};

/// Body used when `--body` is not given (swaks's wording).
pub const DEFAULT_BODY: &str = "This is a test mailing";

/// Everything about the environment that the message depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageContext {
    /// Time of the run, in the local offset when it can be determined (else UTC).
    pub now: OffsetDateTime,
    /// Local host name (for `Message-Id`).
    pub hostname: String,
    /// Process id (for `Message-Id`, fixed per process as in swaks).
    pub pid: u32,
}

impl MessageContext {
    /// The current time (local offset, falling back to `+0000` where the offset cannot be
    /// determined safely), this process's id and `hostname`.
    pub fn current(hostname: &str) -> MessageContext {
        let utc = OffsetDateTime::now_utc();
        let now = match UtcOffset::current_local_offset() {
            Ok(offset) => utc.to_offset(offset),
            Err(_) => utc,
        };
        MessageContext {
            now,
            hostname: hostname.to_string(),
            pid: std::process::id(),
        }
    }
}

/// What the user asked for, already validated by `cli::config`.
#[derive(Debug, Clone, Default)]
pub struct MessageSpec<'a> {
    /// `--to` recipients (for the `To:` header).
    pub to: &'a [String],
    /// `--cc` recipients (for the `Cc:` header).
    pub cc: &'a [String],
    /// Sender (`""` = null sender, shown as `<>`).
    pub from: &'a str,
    /// `--header "Name: value"`: replaces a header of that name (case-insensitively) or adds it.
    pub headers: &'a [String],
    /// `--add-header "Name: value"`: appended as given.
    pub add_headers: &'a [String],
    /// `--body` content; `None` = [`DEFAULT_BODY`].
    pub body: Option<&'a [u8]>,
}

/// RFC 5322 §3.3 date-time, e.g. `Tue, 02 Jan 2024 15:04:05 +0100`.
pub fn date(now: OffsetDateTime) -> String {
    now.format(&Rfc2822)
        // Rfc2822 refuses years before 1900, which no real clock produces; fall back to the
        // epoch rather than fail the run over a header.
        .unwrap_or_else(|_| "Thu, 01 Jan 1970 00:00:00 +0000".to_string())
}

/// `Message-Id` value: `<YYYYMMDDhhmmss.PID@hostname>` in local time, as swaks does.
pub fn message_id(ctx: &MessageContext) -> String {
    let n = ctx.now;
    format!(
        "<{:04}{:02}{:02}{:02}{:02}{:02}.{}@{}>",
        n.year(),
        u8::from(n.month()),
        n.day(),
        n.hour(),
        n.minute(),
        n.second(),
        ctx.pid,
        ctx.hostname
    )
}

/// The name part of a `Name: value` header line, if it has one (non-empty, no whitespace).
pub fn header_name(line: &str) -> Option<&str> {
    let (name, _) = line.split_once(':')?;
    let valid = !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic() && b != b':');
    valid.then_some(name)
}

/// `--data TEXT`: a literal backslash-n becomes a line break (swaks does the same, so shell users
/// can write a whole message in one argument).
pub fn data_text(arg: &str) -> Vec<u8> {
    arg.replace("\\n", "\n").into_bytes()
}

/// Compose the default message.
pub fn compose(spec: &MessageSpec<'_>, ctx: &MessageContext) -> Vec<u8> {
    let date = date(ctx.now);
    let mut headers: Vec<String> = Vec::new();
    headers.push(format!("Date: {date}"));
    if !spec.to.is_empty() {
        headers.push(format!("To: {}", spec.to.join(", ")));
    }
    if !spec.cc.is_empty() {
        headers.push(format!("Cc: {}", spec.cc.join(", ")));
    }
    let from = if spec.from.is_empty() {
        "<>"
    } else {
        spec.from
    };
    headers.push(format!("From: {from}"));
    headers.push(format!("Subject: test {date}"));
    headers.push(format!("Message-Id: {}", message_id(ctx)));
    headers.push(format!("X-Mailer: ehlo {}", env!("CARGO_PKG_VERSION")));

    for line in spec.headers {
        let name = header_name(line).unwrap_or(line);
        let same = |h: &String| header_name(h).is_some_and(|n| n.eq_ignore_ascii_case(name));
        match headers.iter().position(same) {
            Some(first) => {
                headers[first] = line.clone();
                // Later duplicates of the replaced name go too, so the result has one.
                let mut i = first + 1;
                while i < headers.len() {
                    if same(&headers[i]) {
                        headers.remove(i);
                    } else {
                        i += 1;
                    }
                }
            }
            None => headers.push(line.clone()),
        }
    }
    headers.extend(spec.add_headers.iter().cloned());

    let mut out = Vec::new();
    for h in &headers {
        out.extend_from_slice(h.as_bytes());
        out.push(b'\n');
    }
    out.push(b'\n');
    let body = spec.body.unwrap_or(DEFAULT_BODY.as_bytes());
    out.extend_from_slice(body);
    if !body.ends_with(b"\n") {
        out.push(b'\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn ctx() -> MessageContext {
        MessageContext {
            now: datetime!(2024-01-02 15:04:05 +01:00),
            hostname: "client.example".into(),
            pid: 4242,
        }
    }

    fn text(spec: &MessageSpec<'_>) -> String {
        String::from_utf8(compose(spec, &ctx())).unwrap()
    }

    #[test]
    fn default_message_matches_swaks_template() {
        let to = vec!["a@example.net".to_string(), "b@example.net".to_string()];
        let spec = MessageSpec {
            to: &to,
            from: "me@example.org",
            ..Default::default()
        };
        assert_eq!(
            text(&spec),
            "Date: Tue, 02 Jan 2024 15:04:05 +0100\n\
             To: a@example.net, b@example.net\n\
             From: me@example.org\n\
             Subject: test Tue, 02 Jan 2024 15:04:05 +0100\n\
             Message-Id: <20240102150405.4242@client.example>\n\
             X-Mailer: ehlo 0.1.0\n\
             \n\
             This is a test mailing\n"
                .replace("0.1.0", env!("CARGO_PKG_VERSION"))
        );
    }

    #[test]
    fn cc_and_null_sender() {
        let to = vec!["a@x".to_string()];
        let cc = vec!["c@x".to_string(), "d@x".to_string()];
        let t = text(&MessageSpec {
            to: &to,
            cc: &cc,
            from: "",
            ..Default::default()
        });
        assert!(t.contains("\nCc: c@x, d@x\n"), "{t}");
        assert!(t.contains("\nFrom: <>\n"), "{t}");
        // Cc comes after To, before From.
        assert!(t.find("To:").unwrap() < t.find("Cc:").unwrap());
        assert!(t.find("Cc:").unwrap() < t.find("From:").unwrap());
    }

    #[test]
    fn header_replaces_case_insensitively_and_add_header_appends() {
        let headers = vec![
            "subject: hello".to_string(),
            "X-Test: 1".to_string(),
            "X-TEST: 2".to_string(),
        ];
        let add = vec!["Received: by hand".to_string(), "X-Test: 3".to_string()];
        let t = text(&MessageSpec {
            from: "a@x",
            headers: &headers,
            add_headers: &add,
            ..Default::default()
        });
        assert!(t.contains("\nsubject: hello\n"), "{t}");
        assert!(!t.contains("Subject: test"), "{t}");
        // The second --header X-Test replaced the first; --add-header adds regardless.
        assert!(!t.contains("X-Test: 1"), "{t}");
        let head = t.split("\n\n").next().unwrap();
        let lines: Vec<&str> = head.lines().collect();
        assert_eq!(
            &lines[lines.len() - 3..],
            ["X-TEST: 2", "Received: by hand", "X-Test: 3"]
        );
        // The replaced Subject keeps its position (after From).
        assert!(t.find("From:").unwrap() < t.find("subject:").unwrap());
    }

    #[test]
    fn body_is_used_and_newline_terminated() {
        let t = text(&MessageSpec {
            from: "a@x",
            body: Some(b"line1\nline2"),
            ..Default::default()
        });
        assert!(t.ends_with("\n\nline1\nline2\n"), "{t}");
        let t = text(&MessageSpec {
            from: "a@x",
            body: Some(b"done\n"),
            ..Default::default()
        });
        assert!(t.ends_with("\n\ndone\n"), "{t}");
    }

    #[test]
    fn no_to_header_without_recipients() {
        let t = text(&MessageSpec {
            from: "a@x",
            ..Default::default()
        });
        assert!(!t.contains("To:"), "{t}");
    }

    #[test]
    fn data_text_turns_backslash_n_into_newlines() {
        assert_eq!(data_text("Subject: x\\n\\nhi"), b"Subject: x\n\nhi");
        assert_eq!(data_text("no escapes"), b"no escapes");
    }

    #[test]
    fn header_names() {
        assert_eq!(header_name("Subject: x"), Some("Subject"));
        assert_eq!(header_name("X-A:"), Some("X-A"));
        assert_eq!(header_name("No colon"), None);
        assert_eq!(header_name("Bad Name: x"), None);
        assert_eq!(header_name(": x"), None);
    }

    #[test]
    fn utc_date() {
        let c = MessageContext {
            now: datetime!(1999-12-31 23:59:59 UTC),
            ..ctx()
        };
        assert_eq!(date(c.now), "Fri, 31 Dec 1999 23:59:59 +0000");
        assert_eq!(message_id(&c), "<19991231235959.4242@client.example>");
    }
}
