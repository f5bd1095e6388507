//! SMTP commands (RFC 5321 §4.1) and their encoding (client) and parsing (server).
//!
//! TODO(core-codec helper): implement encode/parse; the types and signatures are the contract.

/// One SMTP command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// EHLO (RFC 5321 §4.1.1.1).
    Ehlo(String),
    /// HELO (RFC 5321 §4.1.1.1).
    Helo(String),
    /// LHLO (RFC 2033 §4.1).
    Lhlo(String),
    /// MAIL FROM:<path> params (RFC 5321 §4.1.1.2). `from` has no angle brackets; "" is the null sender.
    Mail {
        /// Reverse path.
        from: String,
        /// ESMTP parameters (`SIZE=123`, `BODY=8BITMIME`, …).
        params: Vec<String>,
    },
    /// RCPT TO:<path> params (RFC 5321 §4.1.1.3).
    Rcpt {
        /// Forward path, no angle brackets.
        to: String,
        /// ESMTP parameters.
        params: Vec<String>,
    },
    /// DATA (RFC 5321 §4.1.1.4).
    Data,
    /// BDAT size [LAST] (RFC 3030 §2).
    Bdat {
        /// Chunk size in octets.
        size: usize,
        /// Is this the last chunk?
        last: bool,
    },
    /// RSET (RFC 5321 §4.1.1.5).
    Rset,
    /// VRFY (RFC 5321 §4.1.1.6).
    Vrfy(String),
    /// EXPN (RFC 5321 §4.1.1.7).
    Expn(String),
    /// HELP (RFC 5321 §4.1.1.8).
    Help(Option<String>),
    /// NOOP (RFC 5321 §4.1.1.9).
    Noop(Option<String>),
    /// QUIT (RFC 5321 §4.1.1.10).
    Quit,
    /// STARTTLS (RFC 3207 §4).
    StartTls,
    /// AUTH mechanism [initial-response] (RFC 4954 §4). The initial response is already base64
    /// (or `=` for an empty one).
    Auth {
        /// Mechanism name.
        mechanism: String,
        /// Initial response, base64.
        initial: Option<String>,
    },
    /// A command this codec does not model (server side), or a verb typed by the user.
    Unknown {
        /// The verb as received.
        verb: String,
        /// Everything after the verb and one space.
        args: String,
    },
}

/// Why a command line could not be parsed (server side).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// Line is empty.
    #[error("empty command line")]
    Empty,
    /// Path missing or malformed (`MAIL FROM:` without `<…>`, …).
    #[error("syntax error in {verb} parameters: {detail}")]
    Syntax {
        /// Verb.
        verb: &'static str,
        /// What is wrong.
        detail: String,
    },
}

impl Command {
    /// The command's wire form, CRLF included.
    pub fn encode(&self) -> Vec<u8> {
        todo!("core-codec helper")
    }

    /// The verb (`"MAIL"`, `"RCPT"`, …).
    pub fn verb(&self) -> &str {
        todo!("core-codec helper")
    }

    /// Parse one command line as a server reads it (without its CRLF). Lenient: verbs are
    /// case-insensitive, `MAIL FROM: <a@b>` with a space is accepted.
    pub fn parse(line: &[u8]) -> Result<Command, CommandError> {
        let _ = line;
        todo!("core-codec helper")
    }
}
