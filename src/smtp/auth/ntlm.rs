//! SASL NTLM for SMTP ([MS-SMTPNTLM], the NTLM messages of [MS-NLMP]), as Exchange, Dovecot and
//! Exim's `spa` authenticator offer it (swaks also calls it SPA or MSN): `AUTH NTLM`, an empty
//! 334, the NEGOTIATE message, the server's CHALLENGE, then an AUTHENTICATE message.
//!
//! The responses are NTLMv2 ([MS-NLMP] §3.3.2) by default. NTLMv1 ([MS-NLMP] §3.3.1: DES of
//! the password hashes, and the LM response, as swaks's Authen::NTLM sends them) only when asked
//! ([`Credentials::ntlm_v1`], `--auth-extra ntlm-version=1`): a recorded v1 exchange gives the
//! password hash away, and servers configured as Microsoft recommends refuse it, but servers
//! that know nothing else (Exim's `spa`) need it. When the server's CHALLENGE agrees to
//! extended session security, v1 takes that form (NTLM2 session response, §3.3.1).

use des::Des;
use des::cipher::BlockCipherEncrypt;
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
    /// Send NTLMv1 responses instead of NTLMv2.
    v1: bool,
    step: u8,
}

impl std::fmt::Debug for Ntlm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ntlm")
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<hidden>"))
            .field("domain", &self.domain)
            .field("v1", &self.v1)
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
            v1: creds.ntlm_v1,
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
        let (lm, nt) = if self.v1 {
            v1_responses(
                password,
                &msg.server_challenge,
                &client_challenge,
                msg.flags & EXTENDED_SESSIONSECURITY != 0,
            )
        } else {
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
            (lm, nt)
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
                "NTLM AUTHENTICATE domain={} user={} {} responses={}",
                printable(self.domain.as_bytes()),
                printable(self.user.as_bytes()),
                if self.v1 { "NTLMv1" } else { "NTLMv2" },
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

/// DES with a 7-byte key ([MS-NLMP] §6 `DES`): the 56 key bits spread over 8 bytes, the low
/// bit of each (parity, which DES ignores) left 0.
fn des7(key7: &[u8], block: &[u8; 8]) -> [u8; 8] {
    let mut bits = 0u64;
    for b in key7.iter().take(7) {
        bits = (bits << 8) | u64::from(*b);
    }
    let mut key = [0u8; 8];
    for (i, k) in key.iter_mut().enumerate() {
        // Bits 55-49 of the 56 for the first byte, and so on.
        *k = (((bits >> (49 - 7 * i)) & 0x7f) as u8) << 1;
    }
    let cipher = Des::new(&key.into());
    let mut out = (*block).into();
    cipher.encrypt_block(&mut out);
    out.into()
}

/// DESL ([MS-NLMP] §6): the 16-byte key as three 7-byte DES keys (the last padded with
/// zeros), each encrypting `data`.
fn desl(key: &[u8; 16], data: &[u8; 8]) -> Vec<u8> {
    let mut third = [0u8; 7];
    third[..2].copy_from_slice(&key[14..]);
    [
        des7(&key[..7], data),
        des7(&key[7..14], data),
        des7(&third, data),
    ]
    .concat()
}

/// NTOWFv1 ([MS-NLMP] §3.3.1): MD4 of the UTF-16LE password.
fn ntowf_v1(password: &str) -> [u8; 16] {
    Md4::digest(utf16le(password)).into()
}

/// LMOWFv1 ([MS-NLMP] §3.3.1): the upper-cased password, cut or padded with zeros to 14
/// bytes, as two DES keys encrypting "KGS!@#$%".
fn lmowf_v1(password: &str) -> [u8; 16] {
    let mut p = [0u8; 14];
    for (d, s) in p.iter_mut().zip(password.to_uppercase().bytes()) {
        *d = s;
    }
    let magic = b"KGS!@#$%";
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&des7(&p[..7], magic));
    out[8..].copy_from_slice(&des7(&p[7..], magic));
    out
}

/// The LM and NTLMv1 responses ([MS-NLMP] §3.3.1): DESL of each password hash over the server
/// challenge; with extended session security the NT response covers
/// MD5(server challenge + client challenge) and the LM response is the client challenge.
fn v1_responses(
    password: &str,
    server_challenge: &[u8; 8],
    client_challenge: &[u8; 8],
    extended: bool,
) -> (Vec<u8>, Vec<u8>) {
    let nt_key = ntowf_v1(password);
    if extended {
        let digest = md5::Md5::digest([&server_challenge[..], &client_challenge[..]].concat());
        let mut challenge = [0u8; 8];
        challenge.copy_from_slice(&digest[..8]);
        let mut lm = client_challenge.to_vec();
        lm.extend_from_slice(&[0; 16]);
        return (lm, desl(&nt_key, &challenge));
    }
    (
        desl(&lmowf_v1(password), server_challenge),
        desl(&nt_key, server_challenge),
    )
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

    /// A server that knows only NTLMv1 (Exim's `spa` authenticator) answers NTLMv2 responses
    /// with the 535 of a wrong password: nothing in the reply tells the two apart.
    fn when_refused(&self) -> Option<&'static str> {
        (!self.v1).then_some(
            "NTLM sent NTLMv2 responses, which a server that knows only NTLMv1 (Exim's spa \
             authenticator) refuses as it refuses a wrong password: if the password is right, \
             try ⟨ntlm-v1⟩",
        )
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

    fn ignores_challenge(&self) -> bool {
        self.step == 0
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

    /// [MS-NLMP] §4.2.2 (NTLMv1 authentication) and §4.2.3 (NTLMv1 with client challenge):
    /// password "Password", server challenge 0123456789abcdef, client challenge aa×8.
    #[test]
    fn ms_nlmp_v1_vectors() {
        assert_eq!(
            lmowf_v1("Password").to_vec(),
            unhex("e52cac67419a9a224a3b108f3fa6cb6d")
        );
        assert_eq!(
            ntowf_v1("Password").to_vec(),
            unhex("a4f49c406510bdcab6824ee7c30fd852")
        );
        let server: [u8; 8] = unhex("0123456789abcdef").try_into().unwrap();
        let client = [0xaa; 8];
        let (lm, nt) = v1_responses("Password", &server, &client, false);
        assert_eq!(
            nt,
            unhex("67c43011f30298a2ad35ece64f16331c44bdbed927841f94")
        );
        assert_eq!(
            lm,
            unhex("98def7b87f88aa5dafe2df779688a172def11c7d5ccdef13")
        );
        let (lm, nt) = v1_responses("Password", &server, &client, true);
        assert_eq!(
            nt,
            unhex("7537f803ae367128ca458204bde7caf81e97ed2683267232")
        );
        assert_eq!(lm, [&client[..], &[0; 16]].concat());
    }

    /// The classic NTLMv1 example of Eric Glass's "The NTLM Authentication Protocol" (also
    /// Authen::NTLM's own test): password "Beeblebrox", challenge "SrvNonce".
    #[test]
    fn davenport_v1_vector() {
        let (lm, nt) = v1_responses("Beeblebrox", b"SrvNonce", &[0; 8], false);
        assert_eq!(
            lm,
            unhex("ad87ca6defe34685b9c43c477a8c42d600667d6892e7e897")
        );
        assert_eq!(
            nt,
            unhex("e0e00de3104a1bf2053f07c7dda82d3c489ae989e1b000d3")
        );
    }

    #[test]
    fn v1_exchange_sends_lm_and_nt_responses_of_24_bytes() {
        let mut m = Ntlm::new(&Credentials {
            ntlm_v1: true,
            ..creds()
        });
        m.respond(b"").unwrap();
        let auth = m.respond(&challenge(UNICODE | NTLM, &[])).unwrap();
        let d = &auth.data;
        let field = |at: usize| {
            let len = usize::from(u16_at(d, at));
            let off = usize::try_from(u32_at(d, at + 4)).unwrap();
            d[off..off + len].to_vec()
        };
        let server: [u8; 8] = unhex("0123456789abcdef").try_into().unwrap();
        let (lm, nt) = v1_responses("Password", &server, &[0; 8], false);
        assert_eq!(field(12), lm);
        assert_eq!(field(20), nt);
        assert_eq!(field(36), utf16le("User"));
        assert!(auth.display.contains("NTLMv1"), "{}", auth.display);
        assert_hidden(&auth.display, "Password");
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
