//! SASL NTLM for SMTP ([MS-SMTPNTLM], the NTLM messages of [MS-NLMP]), as Exchange and Dovecot
//! offer it (swaks also calls it SPA or MSN): `AUTH NTLM`, an empty 334, the NEGOTIATE message,
//! the server's CHALLENGE, then an AUTHENTICATE message with NTLMv2 responses
//! ([MS-NLMP] §3.3.2). NTLMv1 (DES of the password hash) is not sent: a captured v1 exchange gives
//! the password hash away, and servers configured as Microsoft recommends refuse it.

use hmac::{Hmac, KeyInit, Mac};
use md4::{Digest, Md4};

use super::{
    AuthError, Credentials, Mechanism, Secret, Step, mask, need_user_and_password, printable,
};

const NAME: &str = "NTLM";
const SIGNATURE: &[u8; 8] = b"NTLMSSP\0";

// NEGOTIATE flags ([MS-NLMP] §2.2.2.5).
const UNICODE: u32 = 0x0000_0001;
const OEM: u32 = 0x0000_0002;
const REQUEST_TARGET: u32 = 0x0000_0004;
const NTLM: u32 = 0x0000_0200;
const ALWAYS_SIGN: u32 = 0x0000_8000;
const EXTENDED_SESSIONSECURITY: u32 = 0x0008_0000;
#[cfg(test)]
const TARGET_INFO: u32 = 0x0080_0000;

/// What the client asks for in its NEGOTIATE message.
const CLIENT_FLAGS: u32 =
    UNICODE | OEM | REQUEST_TARGET | NTLM | ALWAYS_SIGN | EXTENDED_SESSIONSECURITY;

/// `MsvAvTimestamp` in the server's target information ([MS-NLMP] §2.2.2.1).
const AV_TIMESTAMP: u16 = 0x0007;
const AV_EOL: u16 = 0x0000;

/// Seconds from 1601-01-01 (FILETIME's epoch) to 1970-01-01.
const FILETIME_UNIX_OFFSET: u64 = 11_644_473_600;

/// NTLM client. Holds the password, so its `Debug` is hand-written.
pub(crate) struct Ntlm {
    user: String,
    password: Option<Secret>,
    domain: String,
    nonce: Option<String>,
    /// Seconds since the Unix epoch, for the NTLMv2 timestamp when the server sends none.
    time: Option<u64>,
    step: u8,
}

impl std::fmt::Debug for Ntlm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ntlm")
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<hidden>"))
            .field("domain", &self.domain)
            .field("step", &self.step)
            .finish()
    }
}

impl Ntlm {
    /// Take what NTLM needs from the credentials: the domain is [`Credentials::realm`]
    /// (swaks's `--auth-extra domain=`), empty by default; the client challenge is derived from
    /// [`Credentials::nonce`] and the timestamp from [`Credentials::time`].
    pub(crate) fn new(creds: &Credentials) -> Self {
        Ntlm {
            user: creds.user.clone(),
            password: creds.password.clone(),
            domain: creds.realm.clone().unwrap_or_default(),
            nonce: creds.nonce.clone(),
            time: creds.time,
            step: 0,
        }
    }

    fn authenticate(&self, challenge: &[u8]) -> Result<Step, AuthError> {
        let msg = Challenge::parse(challenge)?;
        let nonce = self
            .nonce
            .as_deref()
            .filter(|n| !n.is_empty())
            .ok_or(AuthError::Missing {
                mechanism: NAME,
                what: "a client nonce",
            })?;
        // 8 bytes of client challenge from the caller's random nonce (the core has no RNG).
        let mut client_challenge = [0u8; 8];
        client_challenge.copy_from_slice(&md5::Md5::digest(nonce.as_bytes())[..8]);
        let server_time = av_timestamp(&msg.target_info);
        let timestamp = server_time.unwrap_or_else(|| {
            self.time
                .map(|t| (t + FILETIME_UNIX_OFFSET).saturating_mul(10_000_000))
                .unwrap_or(0)
        });
        let password = self.password.as_ref().map(Secret::expose).unwrap_or("");
        let key = ntowf_v2(password, &self.user, &self.domain);
        let (lm, nt) = v2_responses(
            &key,
            &msg.server_challenge,
            &client_challenge,
            timestamp,
            &msg.target_info,
        );
        // [MS-NLMP] §3.1.5.1.2: with a server timestamp the LMv2 response is not sent.
        let lm = if server_time.is_some() {
            vec![0u8; 24]
        } else {
            lm
        };
        let unicode = msg.flags & UNICODE != 0;
        let flags = (msg.flags & CLIENT_FLAGS & !(if unicode { OEM } else { UNICODE }))
            | if unicode { UNICODE } else { OEM };
        let text = |s: &str| -> Vec<u8> {
            if unicode {
                utf16le(s)
            } else {
                s.as_bytes().to_vec()
            }
        };
        let data =
            authenticate_message(&lm, &nt, &text(&self.domain), &text(&self.user), &[], flags);
        Ok(Step {
            data,
            display: format!(
                "NTLM AUTHENTICATE domain={} user={} responses={}",
                printable(self.domain.as_bytes()),
                printable(self.user.as_bytes()),
                mask("")
            ),
            secret: true,
        })
    }
}

/// The parts of a CHALLENGE message ([MS-NLMP] §2.2.1.2) the client uses.
struct Challenge {
    flags: u32,
    server_challenge: [u8; 8],
    target_info: Vec<u8>,
}

impl Challenge {
    fn parse(b: &[u8]) -> Result<Challenge, AuthError> {
        let bad = |detail: &str| AuthError::BadChallenge {
            mechanism: NAME,
            detail: detail.to_string(),
        };
        if b.len() < 32 || &b[..8] != SIGNATURE {
            return Err(bad("not an NTLM CHALLENGE message"));
        }
        if u32_at(b, 8) != 2 {
            return Err(bad("message type is not CHALLENGE (2)"));
        }
        let flags = u32_at(b, 20);
        let mut server_challenge = [0u8; 8];
        server_challenge.copy_from_slice(&b[24..32]);
        // TargetInfoFields at 40..48, present when the buffer is that long.
        let target_info = if b.len() >= 48 {
            let len = usize::from(u16_at(b, 40));
            let off = usize::try_from(u32_at(b, 44)).unwrap_or(usize::MAX);
            match off.checked_add(len) {
                Some(end) if end <= b.len() => b[off..end].to_vec(),
                _ => return Err(bad("target information outside the message")),
            }
        } else {
            Vec::new()
        };
        Ok(Challenge {
            flags,
            server_challenge,
            target_info,
        })
    }
}

fn u16_at(b: &[u8], i: usize) -> u16 {
    u16::from_le_bytes([b[i], b[i + 1]])
}

fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

/// The server's `MsvAvTimestamp`, if its target information has one (a linear walk of the AV
/// pairs that stops at `MsvAvEOL` or at the first pair that does not fit).
fn av_timestamp(info: &[u8]) -> Option<u64> {
    let mut i = 0;
    while i + 4 <= info.len() {
        let id = u16_at(info, i);
        let len = usize::from(u16_at(info, i + 2));
        let value = info.get(i + 4..i + 4 + len)?;
        if id == AV_EOL {
            return None;
        }
        if id == AV_TIMESTAMP && len == 8 {
            let mut t = [0u8; 8];
            t.copy_from_slice(value);
            return Some(u64::from_le_bytes(t));
        }
        i += 4 + len;
    }
    None
}

fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

fn hmac_md5(key: &[u8], parts: &[&[u8]]) -> [u8; 16] {
    let mut out = [0u8; 16];
    // HMAC takes keys of any length.
    if let Ok(mut mac) = <Hmac<md5::Md5> as KeyInit>::new_from_slice(key) {
        for p in parts {
            mac.update(p);
        }
        out.copy_from_slice(&mac.finalize().into_bytes());
    }
    out
}

/// NTOWFv2 ([MS-NLMP] §3.3.2): HMAC-MD5 under MD4(UTF-16LE(password)) of
/// UTF-16LE(UPPER(user) + domain).
fn ntowf_v2(password: &str, user: &str, domain: &str) -> [u8; 16] {
    let nt_hash = Md4::digest(utf16le(password));
    let who = utf16le(&(user.to_uppercase() + domain));
    hmac_md5(&nt_hash, &[&who])
}

/// The LMv2 and NTLMv2 responses ([MS-NLMP] §3.3.2).
fn v2_responses(
    key: &[u8; 16],
    server_challenge: &[u8; 8],
    client_challenge: &[u8; 8],
    timestamp: u64,
    target_info: &[u8],
) -> (Vec<u8>, Vec<u8>) {
    let mut temp = vec![1u8, 1, 0, 0, 0, 0, 0, 0];
    temp.extend_from_slice(&timestamp.to_le_bytes());
    temp.extend_from_slice(client_challenge);
    temp.extend_from_slice(&[0; 4]);
    temp.extend_from_slice(target_info);
    temp.extend_from_slice(&[0; 4]);
    let proof = hmac_md5(key, &[server_challenge, &temp]);
    let mut nt = proof.to_vec();
    nt.extend_from_slice(&temp);
    let mut lm = hmac_md5(key, &[server_challenge, client_challenge]).to_vec();
    lm.extend_from_slice(client_challenge);
    (lm, nt)
}

/// The NEGOTIATE message ([MS-NLMP] §2.2.1.1): no domain, no workstation.
fn negotiate_message() -> Vec<u8> {
    let mut m = SIGNATURE.to_vec();
    m.extend_from_slice(&1u32.to_le_bytes());
    m.extend_from_slice(&CLIENT_FLAGS.to_le_bytes());
    // DomainNameFields, WorkstationFields: empty, offset at the end of the message.
    for _ in 0..2 {
        m.extend_from_slice(&0u16.to_le_bytes());
        m.extend_from_slice(&0u16.to_le_bytes());
        m.extend_from_slice(&32u32.to_le_bytes());
    }
    m
}

/// The AUTHENTICATE message ([MS-NLMP] §2.2.1.3) without version or MIC: a 64-byte header of
/// (length, length, offset) fields, then the payloads.
fn authenticate_message(
    lm: &[u8],
    nt: &[u8],
    domain: &[u8],
    user: &[u8],
    workstation: &[u8],
    flags: u32,
) -> Vec<u8> {
    const HEADER: usize = 64;
    let mut head = SIGNATURE.to_vec();
    head.extend_from_slice(&3u32.to_le_bytes());
    let mut payload = Vec::new();
    for field in [lm, nt, domain, user, workstation, &[]] {
        // Field lengths are u16 on the wire; a longer user name or domain is cut, not wrapped.
        let len = u16::try_from(field.len()).unwrap_or(u16::MAX);
        let off = u32::try_from(HEADER + payload.len()).unwrap_or(u32::MAX);
        head.extend_from_slice(&len.to_le_bytes());
        head.extend_from_slice(&len.to_le_bytes());
        head.extend_from_slice(&off.to_le_bytes());
        payload.extend_from_slice(&field[..usize::from(len)]);
    }
    head.extend_from_slice(&flags.to_le_bytes());
    head.extend_from_slice(&payload);
    head
}

impl Mechanism for Ntlm {
    fn name(&self) -> &'static str {
        NAME
    }

    fn initial_response(&mut self) -> Option<Step> {
        // [MS-SMTPNTLM] §3.1.5.1: `AUTH NTLM`, then the NEGOTIATE message after the empty 334
        // (as swaks does; every NTLM server accepts it this way).
        None
    }

    fn respond(&mut self, challenge: &[u8]) -> Result<Step, AuthError> {
        self.ready()?;
        let step = match self.step {
            0 => Step {
                data: negotiate_message(),
                display: "NTLM NEGOTIATE".into(),
                secret: false,
            },
            1 => self.authenticate(challenge)?,
            _ => return Err(AuthError::TooManySteps(NAME)),
        };
        self.step += 1;
        Ok(step)
    }

    fn ready(&self) -> Result<(), AuthError> {
        need_user_and_password(NAME, &self.user, &self.password)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{leak::assert_hidden, mechanism};
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn md4_rfc1320_vectors() {
        // RFC 1320 §A.5.
        assert_eq!(
            Md4::digest(b"").to_vec(),
            unhex("31d6cfe0d16ae931b73c59d7e0c089c0")
        );
        assert_eq!(
            Md4::digest(b"message digest").to_vec(),
            unhex("d9130a8164549fe818874806e1c7014b")
        );
    }

    /// [MS-NLMP] §4.2.4 (NTLMv2 authentication): User "User", domain "Domain", password
    /// "Password", server challenge 0123456789abcdef, client challenge aa×8, time 0.
    #[test]
    fn ms_nlmp_v2_vectors() {
        assert_eq!(
            Md4::digest(utf16le("Password")).to_vec(),
            unhex("a4f49c406510bdcab6824ee7c30fd852")
        );
        let key = ntowf_v2("Password", "User", "Domain");
        assert_eq!(key.to_vec(), unhex("0c868a403bfd7a93a3001ef22ef02e3f"));
        let server: [u8; 8] = unhex("0123456789abcdef").try_into().unwrap();
        let client = [0xaa; 8];
        // §4.2.4.1.3's AV pairs: MsvAvNbDomainName "Domain", MsvAvNbComputerName "Server", EOL.
        let mut info = vec![0x02, 0x00, 0x0c, 0x00];
        info.extend(utf16le("Domain"));
        info.extend([0x01, 0x00, 0x0c, 0x00]);
        info.extend(utf16le("Server"));
        info.extend([0, 0, 0, 0]);
        let (lm, nt) = v2_responses(&key, &server, &client, 0, &info);
        assert_eq!(
            lm,
            unhex("86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa")
        );
        assert_eq!(&nt[..16], unhex("68cd0ab851e51c96aabc927bebef6a1c"));
        assert_eq!(
            &nt[16..],
            [
                &[1u8, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
                &client[..],
                &[0; 4],
                &info,
                &[0; 4]
            ]
            .concat()
        );
    }

    /// A CHALLENGE message as a server builds it.
    fn challenge(flags: u32, info: &[u8]) -> Vec<u8> {
        let mut m = SIGNATURE.to_vec();
        m.extend(2u32.to_le_bytes());
        m.extend([0, 0, 0, 0, 48, 0, 0, 0]); // empty target name
        m.extend(flags.to_le_bytes());
        m.extend(unhex("0123456789abcdef"));
        m.extend([0; 8]);
        m.extend(u16::try_from(info.len()).unwrap().to_le_bytes());
        m.extend(u16::try_from(info.len()).unwrap().to_le_bytes());
        m.extend(48u32.to_le_bytes());
        m.extend(info);
        m
    }

    fn creds() -> Credentials {
        Credentials {
            user: "User".into(),
            password: Some(Secret::new("Password")),
            realm: Some("Domain".into()),
            nonce: Some("nonce".into()),
            time: Some(1_700_000_000),
            ..Default::default()
        }
    }

    #[test]
    fn exchange_builds_negotiate_then_authenticate() {
        let mut m = mechanism("ntlm", &creds()).unwrap();
        assert!(m.initial_response().is_none());
        let neg = m.respond(b"").unwrap();
        assert_eq!(&neg.data[..8], SIGNATURE);
        assert_eq!(u32_at(&neg.data, 8), 1);
        assert_eq!(u32_at(&neg.data, 12), CLIENT_FLAGS);
        assert!(!neg.secret);
        let info = [0u8, 0, 0, 0];
        let auth = m
            .respond(&challenge(UNICODE | NTLM | TARGET_INFO, &info))
            .unwrap();
        assert!(auth.secret);
        let d = &auth.data;
        assert_eq!(&d[..8], SIGNATURE);
        assert_eq!(u32_at(d, 8), 3);
        let field = |at: usize| {
            let len = usize::from(u16_at(d, at));
            let off = usize::try_from(u32_at(d, at + 4)).unwrap();
            d[off..off + len].to_vec()
        };
        assert_eq!(field(28), utf16le("Domain"));
        assert_eq!(field(36), utf16le("User"));
        assert_eq!(field(44), b"");
        let flags = u32_at(d, 60);
        assert_eq!(flags & (UNICODE | OEM), UNICODE);
        // The NTLMv2 response is recomputable from its own blob: the proof checks out.
        let nt = field(20);
        let key = ntowf_v2("Password", "User", "Domain");
        assert_eq!(
            nt[..16],
            hmac_md5(&key, &[&unhex("0123456789abcdef"), &nt[16..]])
        );
        // The timestamp is the caller's time as a FILETIME.
        let t = u64::from_le_bytes(nt[24..32].try_into().unwrap());
        assert_eq!(t, (1_700_000_000 + FILETIME_UNIX_OFFSET) * 10_000_000);
        assert_eq!(field(12).len(), 24);
        assert_hidden(&auth.display, "Password");
        assert_hidden(&format!("{m:?}"), "Password");
        assert_eq!(m.respond(b""), Err(AuthError::TooManySteps("NTLM")));
    }

    #[test]
    fn server_timestamp_wins_and_lm_is_zero() {
        let mut info = vec![0x07, 0x00, 0x08, 0x00];
        info.extend(42u64.to_le_bytes());
        info.extend([0, 0, 0, 0]);
        let mut m = Ntlm::new(&creds());
        m.respond(b"").unwrap();
        let d = m.respond(&challenge(OEM | NTLM, &info)).unwrap().data;
        let at = |i: usize| usize::try_from(u32_at(&d, i)).unwrap();
        let nt = &d[at(24)..at(24) + usize::from(u16_at(&d, 20))];
        assert_eq!(u64::from_le_bytes(nt[24..32].try_into().unwrap()), 42);
        assert_eq!(&d[at(16)..at(16) + 24], [0u8; 24]);
        // OEM: the user name goes as bytes.
        assert_eq!(&d[at(40)..at(40) + 4], b"User");
    }

    #[test]
    fn hostile_challenges_are_refused_not_panicked() {
        let mut bad_info = challenge(UNICODE, &[0; 4]);
        bad_info[44..48].copy_from_slice(&u32::MAX.to_le_bytes());
        let mut wrong_type = challenge(UNICODE, &[]);
        wrong_type[8] = 3;
        for ch in [
            Vec::new(),
            b"NTLMSSP\0".to_vec(),
            b"garbage that is long enough to pass the length check".to_vec(),
            bad_info,
            wrong_type,
        ] {
            let mut m = Ntlm::new(&creds());
            m.respond(b"").unwrap();
            assert!(
                matches!(m.respond(&ch), Err(AuthError::BadChallenge { .. })),
                "{ch:?}"
            );
        }
        // AV pairs that run past the end are ignored, not read out of bounds.
        assert_eq!(av_timestamp(&[7, 0, 200, 0, 1, 2]), None);
        assert_eq!(av_timestamp(&[7, 0]), None);
    }
}
