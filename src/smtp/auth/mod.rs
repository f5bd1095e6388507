//! SASL mechanisms for AUTH (RFC 4954) as small sans-IO sub-machines, and the [`Secret`] type that
//! keeps credentials out of every output.
//!
//! Each mechanism lives in its own file (PLAIN RFC 4616, LOGIN draft-murchison-sasl-login,
//! CRAM-MD5 RFC 2195 and CRAM-SHA1, DIGEST-MD5 RFC 2831, NTLM MS-NLMP, XOAUTH2
//! (Google/Microsoft), OAUTHBEARER RFC 7628, SCRAM-SHA-256 RFC 5802/7677) and implements
//! [`Mechanism`]. The SMTP client drives one like this:
//!
//! 1. [`mechanism`] builds it; [`Mechanism::ready`] says early whether a credential is missing.
//! 2. `AUTH <name> [<encode_initial(initial_response)>]` (RFC 4954 §4: an empty initial response
//!    is sent as `=`, see [`encode_initial`]).
//! 3. For every `334 <text>`: [`decode_challenge`], [`Mechanism::respond`], send
//!    [`encode_response`]. On `Err`, cancel with `*` (RFC 4954 §4) and report the error.
//! 4. On `235`: [`Mechanism::finish`] (SCRAM verifies the server's signature there if it has not
//!    already done so in step 3). [`Mechanism::server_error`] holds any error document the server
//!    sent (XOAUTH2/OAUTHBEARER JSON, SCRAM `e=`) for the transcript.
//!
//! Nothing here has a clock or a random source: the client nonce (SCRAM, DIGEST-MD5 cnonce,
//! NTLM client challenge) comes in [`Credentials::nonce`] (see [`scram_nonce`]) and NTLM's
//! time in [`Credentials::time`]. Secrets never reach `Step::display` or any
//! `Debug` output: every mechanism has a hand-written `Debug`.

mod cram_md5;
mod digest_md5;
mod login;
mod ntlm;
mod oauthbearer;
mod plain;
mod scram;
mod xoauth2;

pub(crate) use cram_md5::CramMd5;
pub(crate) use digest_md5::DigestMd5;
pub(crate) use login::Login;
pub(crate) use ntlm::Ntlm;
pub(crate) use oauthbearer::OAuthBearer;
pub(crate) use plain::Plain;
pub(crate) use scram::ScramSha256;
pub(crate) use xoauth2::XOAuth2;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_PAD_INDIFFERENT};

/// A credential that never prints: `Debug` and `Display` show only its length.
#[derive(Clone, PartialEq, Eq, Default)]
pub(crate) struct Secret(String);

impl Secret {
    /// Wrap a secret value.
    pub(crate) fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    /// The secret itself: call only where it goes on the wire.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
    /// Empty?
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret(<{} bytes>)", self.0.len())
    }
}

/// What a secret is shown as: always the same length, so a mask does not tell how long the
/// secret is.
pub(crate) const MASK: &str = "********";

/// Shortest secret [`redact`] looks for: a shorter one would mask ordinary words of replies.
const MIN_REDACTED: usize = 4;

/// Shortest piece of a secret's base64 inside a longer base64 text [`secret_forms`] gives:
/// shorter pieces of a short secret could match base64 that does not hold it.
const MIN_B64_CORE: usize = 8;

/// The forms of a credential a server may echo back: as typed, in base64 (how SASL sends it),
/// and as it reads inside a longer base64 text (`base64("your password SECRET is wrong")`):
/// there the secret starts at any of the three offsets of a 3-byte group (RFC 4648 §4), and
/// only the characters that depend on its bytes alone are its own. Too short ones are left out
/// (see [`redact`]).
pub(crate) fn secret_forms(secret: &str) -> Vec<Vec<u8>> {
    let plain = secret.as_bytes();
    let padded = STANDARD.encode(plain);
    // Without its `=` padding too (RFC 4648 §3.2 lets a spec leave it out, and many servers
    // decode a SASL response without it): the padded form alone leaves the last characters of
    // an unpadded one shown (`********OQ`).
    let unpadded = padded.trim_end_matches('=').as_bytes().to_vec();
    let mut forms = vec![plain.to_vec(), padded.clone().into_bytes(), unpadded];
    for offset in 0..3 {
        let mut bytes = vec![0u8; offset];
        bytes.extend_from_slice(plain);
        // Whole groups only: the last partial group mixes in the bytes that follow.
        let whole = bytes.len() / 3 * 3;
        let encoded = STANDARD.encode(&bytes[..whole]);
        // The first characters mix in the bytes before the secret: none at offset 0, two at
        // offset 1 (6 + 2 bits of the byte before), three at offset 2.
        let skip = [0, 2, 3][offset];
        if let Some(core) = encoded.get(skip..).filter(|c| c.len() >= MIN_B64_CORE) {
            forms.push(core.as_bytes().to_vec());
        }
    }
    forms.retain(|f| f.len() >= MIN_REDACTED);
    forms.dedup();
    forms
}

/// `bytes` with every occurrence of one of `secrets` replaced by [`MASK`]; `None` when there
/// is none. Longer secrets first, so a secret inside another is not half-masked.
pub(crate) fn redact(bytes: &[u8], secrets: &[Vec<u8>]) -> Option<Vec<u8>> {
    redact_matching(bytes, secrets, |at, s| at.starts_with(s))
}

/// [`redact`] ignoring ASCII case: for a message that quotes a typed word after changing its
/// case (`:set` lower-cases a setting's name and value), where a secret is still one.
pub(crate) fn redact_any_case(bytes: &[u8], secrets: &[Vec<u8>]) -> Option<Vec<u8>> {
    redact_matching(bytes, secrets, |at, s| {
        at.len() >= s.len() && at[..s.len()].eq_ignore_ascii_case(s)
    })
}

/// [`redact`] with `starts` saying whether the rest of the bytes starts with a secret.
fn redact_matching(
    bytes: &[u8],
    secrets: &[Vec<u8>],
    starts: impl Fn(&[u8], &[u8]) -> bool,
) -> Option<Vec<u8>> {
    let mut secrets: Vec<&Vec<u8>> = secrets.iter().filter(|s| s.len() >= MIN_REDACTED).collect();
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let mut out = Vec::with_capacity(bytes.len());
    let mut found = false;
    let mut i = 0;
    'outer: while i < bytes.len() {
        for s in &secrets {
            if starts(&bytes[i..], s) {
                out.extend_from_slice(MASK.as_bytes());
                i += s.len();
                found = true;
                continue 'outer;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    found.then_some(out)
}

/// [`redact`] for a line still coming in (a reply trickling in, shown live): its end, when it is
/// the start of a secret whose rest has not come yet, is masked too, as the whole secret will
/// be once it has come.
pub(crate) fn redact_unfinished(bytes: &[u8], secrets: &[Vec<u8>]) -> Vec<u8> {
    let mut out = redact(bytes, secrets).unwrap_or_else(|| bytes.to_vec());
    let cut = secrets
        .iter()
        .filter(|s| s.len() >= MIN_REDACTED)
        .filter_map(|s| {
            (MIN_REDACTED..s.len().min(out.len() + 1))
                .rev()
                .find(|&n| out.ends_with(&s[..n]))
        })
        .max();
    if let Some(n) = cut {
        out.truncate(out.len() - n);
        out.extend_from_slice(MASK.as_bytes());
    }
    out
}

/// The display form of a secret: [`MASK`], whatever the secret.
pub(crate) fn mask(_text: &str) -> String {
    MASK.to_string()
}

/// Where a line of text is an `AUTH MECH …` command (verb case-insensitive, words separated by
/// any whitespace: RFC 5321 §4.1.1 says SP, but servers accept tabs too): the byte offset of
/// what follows the mechanism (an initial response, RFC 4954 §4, or whatever a client put
/// there) and whether that is a secret (anything but nothing or `=`, the empty response).
/// `None` when the line is not an AUTH command naming a mechanism. Read from the text alone, so
/// a line no parser accepts (`AUTH PLAIN <blob> extra`) is caught too.
pub(crate) fn auth_line_secret(line: &str) -> Option<(usize, bool)> {
    let words = |s: &str| s.len() - s.trim_start().len();
    let verb_at = words(line);
    let verb_len = line[verb_at..]
        .find(char::is_whitespace)
        .unwrap_or(line.len() - verb_at);
    if !line[verb_at..verb_at + verb_len].eq_ignore_ascii_case("AUTH") {
        return None;
    }
    let mech_at = verb_at + verb_len + words(&line[verb_at + verb_len..]);
    let mech_len = line[mech_at..]
        .find(char::is_whitespace)
        .unwrap_or(line.len() - mech_at);
    if mech_len == 0 {
        return None;
    }
    // A word that is no SASL mechanism name (RFC 4422 §3.1: 1 to 20 of A-Z, 0-9, `-`, `_`;
    // read case-insensitively, as servers do) is most likely the credential itself, its
    // mechanism left out or glued on (`AUTH <blob>`, `AUTH PLAIN:<blob>`): masked from there.
    if !is_mechanism_name(&line[mech_at..mech_at + mech_len]) {
        return Some((mech_at, true));
    }
    let rest_at = mech_at + mech_len + words(&line[mech_at + mech_len..]);
    let rest = line[rest_at..].trim_end();
    Some((rest_at, !rest.is_empty() && rest != "="))
}

/// Whether `word` has the form of a SASL mechanism name (RFC 4422 §3.1), in either case.
pub(crate) fn is_mechanism_name(word: &str) -> bool {
    (1..=20).contains(&word.len())
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
}

/// Whether a line reads as a SASL response of RFC 4954 §4: one base64 token (the alphabet of
/// RFC 4648 §4, padding included) or `*`, the cancel. Used to mask a response a client sent
/// where a command was expected.
pub(crate) fn is_sasl_token(line: &str) -> bool {
    let t = line.trim();
    t == "*"
        || (!t.is_empty()
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=')))
}

/// Client bytes with every secret in them masked, line ends kept: what follows the mechanism of
/// an `AUTH MECH …` line and every line after an AUTH line (its SASL responses: RFC 4954 §4,
/// nothing in the bytes tells where the exchange ends) up to a `*` that cancels it. `in_sasl`:
/// an exchange is already under way, so the first lines are SASL responses too. Empty lines and
/// `*` hold nothing and are kept. Used for the REPL's `:raw` text and for the bytes a server
/// finds pipelined after STARTTLS; a line that is not UTF-8 is read as lossy text only to find
/// an AUTH verb, and is kept as it came otherwise.
pub(crate) fn mask_sasl_lines(bytes: &[u8], in_sasl: bool) -> MaskedLines {
    let mut in_sasl = in_sasl;
    let mut out = MaskedLines {
        bytes: Vec::with_capacity(bytes.len()),
        redacted: false,
        auth_line: None,
    };
    for (i, piece) in bytes.split_inclusive(|&b| b == b'\n').enumerate() {
        let end = piece
            .iter()
            .rposition(|&b| b != b'\r' && b != b'\n')
            .map_or(0, |p| p + 1);
        let (line, ending) = piece.split_at(end);
        if in_sasl {
            if line == b"*" {
                in_sasl = false;
                out.bytes.extend_from_slice(piece);
            } else if line.is_empty() {
                out.bytes.extend_from_slice(piece);
            } else {
                out.bytes.extend_from_slice(MASK.as_bytes());
                out.bytes.extend_from_slice(ending);
                out.redacted = true;
            }
            continue;
        }
        let text = String::from_utf8_lossy(line);
        match auth_line_secret(&text) {
            Some((at, secret)) => {
                out.auth_line.get_or_insert(i);
                in_sasl = true;
                if secret {
                    out.bytes.extend_from_slice(text[..at].as_bytes());
                    out.bytes.extend_from_slice(MASK.as_bytes());
                    out.bytes.extend_from_slice(ending);
                    out.redacted = true;
                } else {
                    out.bytes.extend_from_slice(piece);
                }
            }
            None => out.bytes.extend_from_slice(piece),
        }
    }
    out
}

/// What [`mask_sasl_lines`] made of some bytes.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct MaskedLines {
    /// The bytes with every secret replaced by [`MASK`], line ends kept.
    pub(crate) bytes: Vec<u8>,
    /// Was something masked?
    pub(crate) redacted: bool,
    /// The index of the first line that is an `AUTH MECH …` command (how many lines precede
    /// it), if any.
    pub(crate) auth_line: Option<usize>,
}

/// `line` with what follows an AUTH command's mechanism masked ([`auth_line_secret`]), the
/// separators kept as they were; `None` when there is no secret to mask.
pub(crate) fn mask_auth_command(line: &str) -> Option<String> {
    match auth_line_secret(line)? {
        (at, true) => Some(format!("{}{MASK}", &line[..at])),
        _ => None,
    }
}

/// What the user gave us to authenticate with.
#[derive(Debug, Clone, Default)]
pub(crate) struct Credentials {
    /// Authentication identity (user name).
    pub(crate) user: String,
    /// An empty `user` was asked for (swaks's `--auth-user '<>'`): PLAIN and LOGIN send it as
    /// swaks does (`\0\0password`, an empty line after the first 334) instead of refusing
    /// for want of a user name.
    pub(crate) empty_user: bool,
    /// Password (PLAIN, LOGIN, CRAM-MD5, SCRAM).
    pub(crate) password: Option<Secret>,
    /// OAuth 2.0 bearer token (XOAUTH2, OAUTHBEARER).
    pub(crate) token: Option<Secret>,
    /// Authorisation identity (PLAIN authzid, SCRAM a=), if any.
    pub(crate) authzid: Option<String>,
    /// Host name for OAUTHBEARER's `host=` (optional).
    pub(crate) host: Option<String>,
    /// Port for OAUTHBEARER's `port=` (optional).
    pub(crate) port: Option<u16>,
    /// Client nonce for SCRAM, DIGEST-MD5 and NTLM (random, filled in by the caller: the core
    /// has no randomness).
    pub(crate) nonce: Option<String>,
    /// DIGEST-MD5 realm / NTLM domain (swaks's `--auth-extra realm=` or `domain=`).
    pub(crate) realm: Option<String>,
    /// DIGEST-MD5 `digest-uri` service type (`dmd5-serv-type`, default `smtp`).
    pub(crate) service: Option<String>,
    /// DIGEST-MD5 `digest-uri` host (`dmd5-host`, default the server's host name).
    pub(crate) service_host: Option<String>,
    /// DIGEST-MD5 `digest-uri` service name (`dmd5-serv-name`, none by default).
    pub(crate) service_name: Option<String>,
    /// Seconds since the Unix epoch, for NTLMv2's timestamp (the core has no clock).
    pub(crate) time: Option<u64>,
    /// NTLM: send NTLMv1 responses (and the LM response) instead of NTLMv2, for servers that
    /// know only v1 (Exim's `spa`); swaks's `--auth-extra ntlm-version=1`.
    pub(crate) ntlm_v1: bool,
}

/// One client response in a SASL exchange.
///
/// `Debug` is hand-written: when `secret` is set it shows only the length of `data`.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Step {
    /// Raw (not yet base64) bytes to send.
    pub(crate) data: Vec<u8>,
    /// Decoded form for `--auth-plaintext`, secrets replaced by `*` of the same length.
    pub(crate) display: String,
    /// Does `data` contain a secret (so its base64 must be masked in every output)?
    pub(crate) secret: bool,
}

impl std::fmt::Debug for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("Step");
        if self.secret {
            d.field("data", &format_args!("<{} bytes, secret>", self.data.len()));
        } else {
            d.field("data", &printable(&self.data));
        }
        d.field("display", &self.display)
            .field("secret", &self.secret)
            .finish()
    }
}

/// Why a mechanism could not go on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum AuthError {
    /// The server's challenge was not valid base64.
    #[error("server challenge is not valid base64: {0}")]
    BadBase64(String),
    /// The challenge made no sense for this mechanism.
    #[error("unexpected challenge for {mechanism}: {detail}")]
    BadChallenge {
        /// Mechanism.
        mechanism: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// A credential the mechanism needs is missing.
    #[error("{mechanism} needs {what}")]
    Missing {
        /// Mechanism.
        mechanism: &'static str,
        /// "a password", "a token".
        what: &'static str,
    },
    /// SCRAM: the server's signature did not verify — the server does not know the password.
    #[error("server signature did not verify (the server may be an impostor)")]
    ServerSignature,
    /// More challenges than the mechanism can have.
    #[error("too many challenges for {0}")]
    TooManySteps(&'static str),
}

/// A SASL client mechanism as a sub-state-machine.
///
/// `Debug` is a supertrait so holders (the client `Session`) can derive `Debug`; every
/// implementation writes it by hand and prints no secret.
pub(crate) trait Mechanism: Send + std::fmt::Debug {
    /// IANA name (`PLAIN`, `LOGIN`, `CRAM-MD5`, `XOAUTH2`, `OAUTHBEARER`, `SCRAM-SHA-256`).
    fn name(&self) -> &'static str;
    /// The initial response to send with the AUTH command, if the mechanism has one.
    ///
    /// `None` also when a needed credential is missing: the first [`Mechanism::respond`] then
    /// returns [`AuthError::Missing`] (check [`Mechanism::ready`] first to fail before AUTH).
    fn initial_response(&mut self) -> Option<Step>;
    /// Answer one 334 challenge (already base64-decoded).
    fn respond(&mut self, challenge: &[u8]) -> Result<Step, AuthError>;
    /// The server said 235; `data` is any final server data (SCRAM's `v=`). Verify it.
    fn finish(&mut self, data: Option<&[u8]>) -> Result<(), AuthError> {
        let _ = data;
        Ok(())
    }
    /// The error document the server sent in a challenge, decoded, for the transcript: the
    /// XOAUTH2 / OAUTHBEARER JSON (`{"status":"401","schemes":"Bearer","scope":"…"}`, RFC 7628
    /// §3.2.2) or SCRAM's `e=` value (RFC 5802 §7). Additive to the skeleton contract.
    fn server_error(&self) -> Option<String> {
        None
    }
    /// A warning about what the server asked for, after the last [`Mechanism::respond`] (a
    /// SCRAM iteration count far above what real servers use).
    fn notice(&self) -> Option<String> {
        None
    }
    /// What to add when the server refuses the credentials (535) this mechanism sent: a
    /// variant of it the server may want instead, with its remedy written `⟨name⟩` (see
    /// `codes::Hint::new`). Additive to the skeleton contract.
    fn when_refused(&self) -> Option<&'static str> {
        None
    }
    /// Are the credentials this mechanism needs all present and usable? `Err(Missing)` means:
    /// don't send AUTH with it. Additive to the skeleton contract.
    fn ready(&self) -> Result<(), AuthError> {
        Ok(())
    }
    /// Does the next 334's text mean nothing to this mechanism, so it is not decoded? NTLM's
    /// first 334 is empty in [MS-SMTPNTLM] §3.1.5.1, but Exim's `spa` sends the text
    /// `NTLM supported` there (what swaks's Authen::NTLM ignores too).
    fn ignores_challenge(&self) -> bool {
        false
    }
}

/// The check every user-name-and-password mechanism makes before AUTH goes out: both are
/// present, or which one is missing.
pub(crate) fn need_user_and_password<P>(
    mechanism: &'static str,
    user: &str,
    password: &Option<P>,
) -> Result<(), AuthError> {
    need_user_and_password_or_empty(mechanism, user, false, password)
}

/// [`need_user_and_password`], where `empty_user_ok` lets an empty user name through (asked
/// for with [`Credentials::empty_user`]).
pub(crate) fn need_user_and_password_or_empty<P>(
    mechanism: &'static str,
    user: &str,
    empty_user_ok: bool,
    password: &Option<P>,
) -> Result<(), AuthError> {
    if user.is_empty() && !empty_user_ok {
        return Err(AuthError::Missing {
            mechanism,
            what: "a user name",
        });
    }
    if password.is_none() {
        return Err(AuthError::Missing {
            mechanism,
            what: "a password",
        });
    }
    Ok(())
}

/// Mechanisms ehlo implements, strongest first (the order tried when none is named).
///
/// DIGEST-MD5 (historic, RFC 6331) and NTLM come after PLAIN and LOGIN: they are tried when
/// named, or when a server offers nothing better.
pub(crate) const SUPPORTED: &[&str] = &[
    "SCRAM-SHA-256",
    "CRAM-SHA1",
    "CRAM-MD5",
    "PLAIN",
    "LOGIN",
    "DIGEST-MD5",
    "NTLM",
    "XOAUTH2",
    "OAUTHBEARER",
];

/// The order a send tries [`SUPPORTED`] in when none is named: strongest first, but LOGIN
/// before PLAIN, as swaks tries them (it goes alphabetically: CRAM-MD5, LOGIN, PLAIN against
/// a server offering the three). Both send the password itself, so neither is the stronger,
/// and a server that locks an account after failures sees swaks's sequence.
pub(crate) const TRY_ORDER: &[&str] = &[
    "SCRAM-SHA-256",
    "CRAM-SHA1",
    "CRAM-MD5",
    "LOGIN",
    "PLAIN",
    "DIGEST-MD5",
    "NTLM",
    "XOAUTH2",
    "OAUTHBEARER",
];

/// The mechanisms of [`SUPPORTED`] that send a bearer token (`--auth-oauth-token`), not a
/// password: `ehlo probe`, which authenticates with a password alone, refuses them.
pub(crate) const TOKEN_MECHANISMS: &[&str] = &["XOAUTH2", "OAUTHBEARER"];

/// Names some servers advertise for a mechanism ehlo implements (swaks's built-in
/// `--auth-map`): `AUTH SPA` and `AUTH MSN` are NTLM.
pub(crate) const ALIASES: &[(&str, &str)] = &[("SPA", "NTLM"), ("MSN", "NTLM")];

/// The names of the mechanisms that authenticate with a password alone (what `ehlo probe
/// --auth` takes): [`SUPPORTED`] without the [`TOKEN_MECHANISMS`], then the [`ALIASES`] of
/// those, upper case. Its help, its check and its completions are all this one list.
pub(crate) fn password_mechanisms() -> impl Iterator<Item = &'static str> {
    let password = |m: &&str| !TOKEN_MECHANISMS.contains(m);
    SUPPORTED.iter().copied().filter(password).chain(
        ALIASES
            .iter()
            .filter(move |(_, of)| password(of))
            .map(|(alias, _)| *alias),
    )
}

/// Build a mechanism by (case-insensitive) name, or `None` if ehlo does not implement it.
///
/// A missing credential does not make this `None` (that would read as "not implemented"): the
/// mechanism reports it through [`Mechanism::ready`] and its first `respond`.
pub(crate) fn mechanism(name: &str, creds: &Credentials) -> Option<Box<dyn Mechanism>> {
    let m: Box<dyn Mechanism> = match name.to_ascii_uppercase().as_str() {
        "PLAIN" => Box::new(Plain::new(creds)),
        "LOGIN" => Box::new(Login::new(creds)),
        "CRAM-MD5" => Box::new(CramMd5::new(creds)),
        "CRAM-SHA1" => Box::new(CramMd5::sha1(creds)),
        "DIGEST-MD5" => Box::new(DigestMd5::new(creds)),
        // SPA and MSN are NTLM's other names (swaks's built-in --auth-map, [`ALIASES`]).
        "NTLM" | "SPA" | "MSN" => Box::new(Ntlm::new(creds)),
        "XOAUTH2" => Box::new(XOAuth2::new(creds)),
        "OAUTHBEARER" => Box::new(OAuthBearer::new(creds)),
        "SCRAM-SHA-256" => Box::new(ScramSha256::new(creds)),
        _ => return None,
    };
    Some(m)
}

/// The mechanisms that send an authorisation identity (`--auth-authzid`): PLAIN's authzid
/// (RFC 4616 §2), SCRAM's `a=` (RFC 5802 §7), DIGEST-MD5's `authzid` (RFC 2831 §2.1.2). The
/// others (LOGIN, CRAM-*, NTLM, XOAUTH2, OAUTHBEARER's `a=` being the user) cannot carry one.
pub(crate) const AUTHZID_MECHANISMS: &[&str] = &["PLAIN", "SCRAM-SHA-256", "DIGEST-MD5"];

/// Does mechanism `name` (not an alias) send an authorisation identity?
pub(crate) fn carries_authzid(name: &str) -> bool {
    AUTHZID_MECHANISMS
        .iter()
        .any(|m| m.eq_ignore_ascii_case(name))
}

/// How much of a bad challenge an error message quotes.
const QUOTE_MAX: usize = 64;

/// Decode the text of a `334` reply (RFC 4954 §4: base64, possibly empty).
///
/// Leading/trailing blanks are ignored and padding is accepted with or without `=`, because some
/// servers drop it. Empty text gives an empty challenge.
pub(crate) fn decode_challenge(text: &str) -> Result<Vec<u8>, AuthError> {
    let t = text.trim_matches([' ', '\t', '\r', '\n']);
    if t.is_empty() {
        return Ok(Vec::new());
    }
    STANDARD_PAD_INDIFFERENT
        .decode(t)
        .map_err(|_| AuthError::BadBase64(quote(t)))
}

/// Base64 of a response for the line after a 334 (RFC 4954 §4). Empty data gives an empty line.
pub(crate) fn encode_response(step: &Step) -> String {
    STANDARD.encode(&step.data)
}

/// Base64 of an initial response for the AUTH command line: RFC 4954 §4 sends a present but empty
/// initial response as a single `=`, so it is not mistaken for "no initial response".
pub(crate) fn encode_initial(step: &Step) -> String {
    if step.data.is_empty() {
        "=".to_string()
    } else {
        STANDARD.encode(&step.data)
    }
}

/// Turn caller-supplied random bytes into a SCRAM client nonce (RFC 5802 §5.1: printable, no
/// `,`). The core has no randomness; the caller passes e.g. 18 bytes from the OS and puts the
/// result in [`Credentials::nonce`]. Empty input gives an empty string, which SCRAM rejects.
pub(crate) fn scram_nonce(random: &[u8]) -> String {
    // Standard base64 uses A-Z a-z 0-9 + / =: all printable, none a comma.
    STANDARD.encode(random)
}

/// Quote untrusted text in an error: at most [`QUOTE_MAX`] characters, control characters escaped.
pub(crate) fn quote(text: &str) -> String {
    let mut out = printable(text.as_bytes());
    if out.chars().count() > QUOTE_MAX {
        out = out.chars().take(QUOTE_MAX).collect::<String>() + "…";
    }
    out
}

/// Render protocol bytes for `Step::display`: NUL as `\0` (PLAIN's separator), 0x01 as `^A` (the
/// OAuth separator, as the XOAUTH2 documentation writes it), other controls as `\xNN`, invalid
/// UTF-8 as U+FFFD. Never give it a secret.
pub(crate) fn printable(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\0' => out.push_str("\\0"),
            '\x01' => out.push_str("^A"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out
}

/// RFC 5802 §5.1 / RFC 5801 §4 `saslname`: `=` becomes `=3D` and `,` becomes `=2C`, so a name can
/// sit inside the comma-separated GS2 header (SCRAM `n=`/`a=`, OAUTHBEARER `a=`).
pub(crate) fn saslname(name: &str) -> String {
    name.replace('=', "=3D").replace(',', "=2C")
}

/// How much of a server error document [`Mechanism::server_error`] keeps.
const ERROR_DOC_MAX: usize = 2048;

/// Keep a server's error challenge for the transcript: lossy UTF-8, controls escaped, bounded.
pub(crate) fn error_document(challenge: &[u8]) -> String {
    let mut out = printable(challenge);
    if out.chars().count() > ERROR_DOC_MAX {
        out = out.chars().take(ERROR_DOC_MAX).collect::<String>() + "…";
    }
    out
}

/// The bearer token for XOAUTH2/OAUTHBEARER: `token`, else `password` (swaks passes the token as
/// the password). Surrounding whitespace is dropped because tokens read from files or commands
/// usually end with a newline, which would corrupt the `auth=Bearer` field.
pub(crate) fn bearer_token(creds: &Credentials) -> Option<Secret> {
    creds
        .token
        .as_ref()
        .or(creds.password.as_ref())
        .map(|s| Secret::new(s.expose().trim()))
}

/// A step with nothing in it (the answer to a server's final or error challenge).
pub(crate) fn empty_step() -> Step {
    Step {
        data: Vec::new(),
        display: String::new(),
        secret: false,
    }
}

/// Does the text contain a byte that would break the mechanism's framing?
pub(crate) fn has_control(text: &str) -> bool {
    text.chars().any(char::is_control)
}

/// Shared checks for the "no secret leaks" tests of every mechanism.
#[cfg(test)]
pub(crate) mod leak {
    use super::*;

    /// Assert neither `secret` nor its base64 (alone, or as it would sit inside a longer base64
    /// string at any of the three alignments) is in `text`.
    pub(crate) fn assert_hidden(text: &str, secret: &str) {
        assert!(!text.contains(secret), "secret in {text:?}");
        assert!(
            !text.contains(&STANDARD.encode(secret)),
            "base64 secret in {text:?}"
        );
        for pad in 0..3 {
            let mut b = vec![b'x'; pad];
            b.extend_from_slice(secret.as_bytes());
            let enc = STANDARD.encode(&b);
            // Skip the characters that mix in the padding bytes and the trailing partial group.
            let skip = if pad == 0 { 0 } else { 4 };
            let core_len = (secret.len() / 3).saturating_sub(1) * 4;
            if core_len >= 8 && enc.len() >= skip + core_len {
                let core = &enc[skip..skip + core_len];
                assert!(
                    !text.contains(core),
                    "base64 fragment of secret in {text:?}"
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A line still coming in (the REPL's live "bytes so far") has a whole secret masked, and
    /// the start of one whose rest has not come yet: it showed as far as it had come.
    #[test]
    fn an_unfinished_line_masks_the_start_of_a_secret_too() {
        let forms = secret_forms("interop-secret-1");
        let show = |b: &str| String::from_utf8(redact_unfinished(b.as_bytes(), &forms)).unwrap();
        assert_eq!(
            show("535 rejected: interop-secret-1 a"),
            "535 rejected: ******** a"
        );
        assert_eq!(show("535 rejected: interop-sec"), "535 rejected: ********");
        assert_eq!(
            show("535 rejected: aW50ZXJvcC1zZW"),
            "535 rejected: ********"
        );
        // Too short a start to tell, and ordinary text, are left as they came.
        assert_eq!(show("535 rejected: int"), "535 rejected: int");
        assert_eq!(show("250 2.0.0 ok"), "250 2.0.0 ok");
        assert_eq!(redact_unfinished(b"250 ok", &[]), b"250 ok");
    }

    /// A server that echoes the secret inside a longer base64 text (at any offset) has it
    /// masked: only the secret's own base64 at offset 0 used to be.
    #[test]
    fn a_secret_inside_longer_base64_is_masked_at_every_offset() {
        let secret = "interop-secret-1";
        let forms = secret_forms(secret);
        for prefix in ["", "x", "xy", "your password ", "pw: "] {
            let text = format!("{prefix}{secret} is wrong");
            let b64 = STANDARD.encode(&text);
            let line = format!("535 {b64}");
            let masked = redact(line.as_bytes(), &forms)
                .unwrap_or_else(|| panic!("{prefix:?}: nothing masked in {line}"));
            let masked = String::from_utf8(masked).unwrap();
            leak::assert_hidden(&masked, secret);
            assert!(masked.contains(MASK), "{masked}");
        }
        // Its base64 without the `=` padding is masked whole: the padded form alone left
        // `********OQ` of `U2VrcjN0UFc5OQ`.
        let forms = secret_forms("Sekr3tPW99");
        assert_eq!(
            redact(b"NOOP U2VrcjN0UFc5OQ", &forms).as_deref(),
            Some(&b"NOOP ********"[..])
        );
        assert_eq!(
            redact(b"NOOP U2VrcjN0UFc5OQ==", &forms).as_deref(),
            Some(&b"NOOP ********"[..])
        );
        // In a message that changed its case (`:set` lower-cases), in any case; the longest
        // form first, the mask of a fixed length.
        assert_eq!(
            redact_any_case(b"unknown setting \"sekr3tpw99\"", &forms).as_deref(),
            Some(&b"unknown setting \"********\""[..])
        );
        assert_eq!(
            redact_any_case(b"not u2vrcjn0ufc5oq==.", &forms).as_deref(),
            Some(&b"not ********."[..])
        );
        assert_eq!(redact_any_case(b"unknown setting \"sekr\"", &forms), None);
        // Ordinary base64 and text are left alone.
        let line = format!("334 {}", STANDARD.encode("Username:"));
        assert_eq!(redact(line.as_bytes(), &forms), None);
    }

    #[test]
    fn auth_lines_are_read_with_any_whitespace_and_masked_after_the_mechanism() {
        let blob = "AGFsaWNlAFNla3IzdFBXOTk=";
        for (line, want) in [
            (format!("AUTH PLAIN {blob}"), Some("AUTH PLAIN ********")),
            (
                format!("auth\tPLAIN\t{blob}"),
                Some("auth\tPLAIN\t********"),
            ),
            (format!("AUTH PLAIN\t{blob}"), Some("AUTH PLAIN\t********")),
            (
                format!("  Auth  plain  {blob}  "),
                Some("  Auth  plain  ********"),
            ),
            // Unparsable (a word too many): still masked, the extra word too.
            (
                format!("AUTH PLAIN {blob} extra"),
                Some("AUTH PLAIN ********"),
            ),
            ("AUTH LOGIN".to_string(), None),
            ("AUTH PLAIN =".to_string(), None),
            ("AUTH".to_string(), None),
            ("AUTHX PLAIN abc".to_string(), None),
            // No mechanism name (RFC 4422 §3.1) where one should be: the blob itself, or one
            // glued to the mechanism, is masked whole.
            (format!("AUTH {blob}"), Some("AUTH ********")),
            (format!("AUTH PLAIN:{blob}"), Some("AUTH ********")),
            (format!("auth  {blob} x"), Some("auth  ********")),
            ("AUTH SCRAM-SHA-256-PLUS".to_string(), None),
            ("AUTH X_OAUTH-2".to_string(), None),
            (format!("MAIL FROM:<{blob}>"), None),
        ] {
            assert_eq!(mask_auth_command(&line).as_deref(), want, "{line:?}");
        }
        assert_eq!(auth_line_secret("AUTH LOGIN"), Some((10, false)));
        assert_eq!(auth_line_secret("AUTH\tLOGIN\t"), Some((11, false)));
        assert_eq!(auth_line_secret("AUTH "), None);
        assert_eq!(auth_line_secret("EHLO x"), None);
    }

    #[test]
    fn decode_challenge_handles_empty_padding_and_garbage() {
        assert_eq!(decode_challenge("").unwrap(), Vec::<u8>::new());
        assert_eq!(decode_challenge("  ").unwrap(), Vec::<u8>::new());
        assert_eq!(decode_challenge("VXNlcm5hbWU6").unwrap(), b"Username:");
        // Padding present, absent, surrounding blanks.
        assert_eq!(decode_challenge("dGlt").unwrap(), b"tim");
        assert_eq!(decode_challenge("dGk=").unwrap(), b"ti");
        assert_eq!(decode_challenge("dGk").unwrap(), b"ti");
        assert_eq!(decode_challenge(" dGk= \r\n").unwrap(), b"ti");
        match decode_challenge("not base64 at all!") {
            Err(AuthError::BadBase64(t)) => assert_eq!(t, "not base64 at all!"),
            other => panic!("{other:?}"),
        }
        let long = "#".repeat(10_000);
        match decode_challenge(&long) {
            Err(AuthError::BadBase64(t)) => assert!(t.chars().count() <= QUOTE_MAX + 1),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn encode_empty_initial_is_equals_sign_but_empty_response_is_empty() {
        let empty = empty_step();
        assert_eq!(encode_initial(&empty), "=");
        assert_eq!(encode_response(&empty), "");
        let s = Step {
            data: b"tim".to_vec(),
            display: "tim".into(),
            secret: false,
        };
        assert_eq!(encode_initial(&s), "dGlt");
        assert_eq!(encode_response(&s), "dGlt");
    }

    #[test]
    fn try_order_is_supported_with_login_before_plain() {
        let mut order = TRY_ORDER.to_vec();
        let mut supported = SUPPORTED.to_vec();
        order.sort_unstable();
        supported.sort_unstable();
        assert_eq!(order, supported);
        let at = |m: &str| TRY_ORDER.iter().position(|x| *x == m).unwrap();
        assert!(at("CRAM-MD5") < at("LOGIN") && at("LOGIN") < at("PLAIN"));
    }

    #[test]
    fn mechanism_by_name_is_case_insensitive_and_knows_all_supported() {
        let c = Credentials::default();
        for name in SUPPORTED {
            let m = mechanism(&name.to_ascii_lowercase(), &c).expect(name);
            assert_eq!(m.name(), *name);
        }
        assert!(mechanism("GSSAPI", &c).is_none());
        assert!(mechanism("", &c).is_none());
    }

    #[test]
    fn missing_credentials_are_reported_not_panicked() {
        let c = Credentials {
            user: "u".into(),
            ..Default::default()
        };
        for name in SUPPORTED {
            let mut m = mechanism(name, &c).unwrap();
            assert!(
                matches!(m.ready(), Err(AuthError::Missing { .. })),
                "{name} ready"
            );
            assert!(m.initial_response().is_none(), "{name} initial");
            assert!(
                matches!(m.respond(b""), Err(AuthError::Missing { .. })),
                "{name} respond"
            );
        }
    }

    #[test]
    fn leak_check_catches_secret_inside_longer_base64() {
        let secret = "correct horse battery staple";
        for prefix in ["", "\0", "\0tim\0"] {
            let wire = STANDARD.encode(format!("{prefix}{secret}"));
            let caught = std::panic::catch_unwind(|| leak::assert_hidden(&wire, secret));
            assert!(caught.is_err(), "missed with prefix {prefix:?}");
        }
        leak::assert_hidden("\\0tim\\0****", secret);
    }

    #[test]
    fn printable_escapes_controls() {
        assert_eq!(printable(b"a\0b\x01c\x7fd\xff"), "a\\0b^Ac\\x7fd\u{fffd}");
        assert_eq!(saslname("a=b,c"), "a=3Db=2Cc");
    }

    #[test]
    fn scram_nonce_is_printable_without_comma() {
        let n = scram_nonce(&[0xfb, 0xff, 0x2c, 0x00, 0x01, 0x02]);
        assert!(n.bytes().all(|b| (0x21..=0x7e).contains(&b) && b != b','));
        assert_eq!(n.len(), 8);
    }
}
