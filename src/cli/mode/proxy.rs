//! `--proxy*` flags → the PROXY header bytes (v1 or v2, or a file as it is).

use std::io::Read;
use std::net::IpAddr;

use clap::ValueEnum;

use crate::error::Error;
use crate::net::proxy::{ProxyAddrs, ProxyFamily};

/// The longest PROXY header there is: v2's 16-byte preamble and a 65535-byte body.
const MAX_PROXY_HEADER: u64 = 16 + 65535;

/// `--proxy-version`: 1 or 2 (swaks: "N is not a legal proxy version").
fn version(v: Option<&str>) -> Result<Option<u8>, Error> {
    match v.map(str::trim) {
        None => Ok(None),
        Some("1") => Ok(Some(1)),
        Some("2") => Ok(Some(2)),
        Some(other) => Err(Error::ProxyOption(format!(
            "--proxy-version: '{}' is not a PROXY protocol version (give 1 or 2)",
            other.escape_debug()
        ))),
    }
}

/// The value of a `--proxy-*` option naming one of `E`'s values (case ignored, aliases too).
fn choice<E: ValueEnum>(flag: &str, v: Option<&str>) -> Result<Option<E>, Error> {
    let Some(v) = v else {
        return Ok(None);
    };
    E::from_str(v.trim(), true).map(Some).map_err(|_| {
        let names: Vec<String> = E::value_variants()
            .iter()
            .filter_map(ValueEnum::to_possible_value)
            .map(|p| p.get_name().to_string())
            .collect();
        Error::ProxyOption(format!(
            "{flag}: '{}' is not one of {}",
            v.escape_debug(),
            names.join(", ")
        ))
    })
}

/// `--proxy @FILE`: the header exactly as the file holds it (no CRLF added or removed).
fn proxy_file(path: &str) -> Result<Vec<u8>, Error> {
    let bad = |m: String| Error::ProxyOption(format!("--proxy: {m}"));
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_PROXY_HEADER + 1).read_to_end(&mut bytes))
        .map_err(|e| bad(format!("cannot read {path}: {e}")))?;
    if bytes.is_empty() {
        return Err(bad(format!("{path} is empty")));
    }
    if bytes.len() as u64 > MAX_PROXY_HEADER {
        return Err(bad(format!(
            "{path} is larger than a PROXY header can be ({MAX_PROXY_HEADER} bytes)"
        )));
    }
    Ok(bytes)
}

/// The PROXY header to send before the banner, if any. Bad values are exit 35 (swaks's "Error
/// in PROXY option processing"), not 1.
pub(super) fn proxy_header(x: &crate::cli::args::XclientArgs) -> Result<Option<Vec<u8>>, Error> {
    use crate::cli::args::{ProxyCommandArg, ProxyFamilyArg, ProxyProtocolArg};
    use crate::net::proxy::{ProxyCommand, ProxyTransport};
    let bad = |m: String| Error::ProxyOption(m);
    let proxy_version = version(x.proxy_version.as_deref())?;
    let proxy_family = choice::<ProxyFamilyArg>("--proxy-family", x.proxy_family.as_deref())?;
    let proxy_command = choice::<ProxyCommandArg>("--proxy-command", x.proxy_command.as_deref())?;
    let proxy_protocol =
        choice::<ProxyProtocolArg>("--proxy-protocol", x.proxy_protocol.as_deref())?;
    if let Some(raw) = &x.proxy {
        if let Some(path) = raw.strip_prefix('@').filter(|p| !p.starts_with('@')) {
            return proxy_file(path).map(Some);
        }
        let raw = raw.strip_prefix('@').unwrap_or(raw);
        if let Some(b64) = raw.strip_prefix("base64:") {
            use base64::Engine;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .map_err(|e| bad(format!("--proxy: not valid base64: {e}")))?;
            if bytes.is_empty() {
                return Err(bad("--proxy: the header is empty".into()));
            }
            return Ok(Some(bytes));
        }
        let text = raw.trim_end_matches(['\r', '\n']);
        if text.is_empty() || text.contains(['\r', '\n']) {
            return Err(bad(
                "--proxy: give one non-empty line (or base64:DATA for binary)".into(),
            ));
        }
        if x.proxy_family.is_some()
            || x.proxy_command.is_some()
            || x.proxy_protocol.is_some()
            || x.proxy_source.is_some()
            || x.proxy_source_port.is_some()
            || x.proxy_dest.is_some()
            || x.proxy_dest_port.is_some()
        {
            return Err(bad(
                "--proxy cannot be mixed with the other --proxy-* options".into(),
            ));
        }
        // swaks: a v2 raw header is the signature and the text; a v1 one is "PROXY " and the
        // text (ehlo does not double a "PROXY " the text already has).
        if proxy_version == Some(2) {
            let mut h = crate::net::proxy::PROXY_V2_SIGNATURE.to_vec();
            h.extend_from_slice(text.as_bytes());
            return Ok(Some(h));
        }
        let text = text.strip_prefix("PROXY ").unwrap_or(text);
        return Ok(Some(format!("PROXY {text}\r\n").into_bytes()));
    }
    let given = x.proxy_family.is_some()
        || x.proxy_command.is_some()
        || x.proxy_protocol.is_some()
        || x.proxy_source.is_some()
        || x.proxy_source_port.is_some()
        || x.proxy_dest.is_some()
        || x.proxy_dest_port.is_some();
    // swaks: the version defaults to 1 once any PROXY attribute is given.
    let version = match (proxy_version, given) {
        (Some(v), _) => v,
        (None, true) => 1,
        (None, false) => return Ok(None),
    };
    let ip = |flag: &str, v: &Option<String>| -> Result<IpAddr, Error> {
        let v = v
            .as_deref()
            .ok_or_else(|| bad(format!("--proxy-version: {flag} is required")))?;
        v.trim()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .map_err(|_| bad(format!("{flag}: '{v}' is not an IP address")))
    };
    let port = |flag: &str, v: &Option<String>| -> Result<u16, Error> {
        let v = v
            .as_deref()
            .ok_or_else(|| bad(format!("--proxy-version: {flag} is required")))?;
        v.trim()
            .parse()
            .map_err(|_| bad(format!("{flag}: '{v}' is not a port number (0-65535)")))
    };
    if version == 1 && (proxy_command.is_some() || proxy_protocol.is_some()) {
        return Err(bad(
            "--proxy-command/--proxy-protocol: only PROXY protocol version 2 has them".into(),
        ));
    }
    let command = match proxy_command {
        Some(ProxyCommandArg::Local) => ProxyCommand::Local,
        _ => ProxyCommand::Proxy,
    };
    let transport = match proxy_protocol {
        Some(ProxyProtocolArg::Dgram) => ProxyTransport::Dgram,
        _ => ProxyTransport::Stream,
    };
    // No addresses: declared unknown, or a LOCAL v2 header given none (§2.1, §2.2).
    let no_addresses = x.proxy_source.is_none() && x.proxy_dest.is_none();
    if proxy_family == Some(ProxyFamilyArg::Unknown)
        || (version == 2 && command == ProxyCommand::Local && no_addresses)
    {
        if !no_addresses || x.proxy_source_port.is_some() || x.proxy_dest_port.is_some() {
            return Err(bad(
                "--proxy-family UNKNOWN: the header carries no addresses; drop --proxy-source/--proxy-dest/..."
                    .into(),
            ));
        }
        return Ok(Some(if version == 1 {
            crate::net::proxy::v1_unknown()
        } else {
            crate::net::proxy::v2_unspec(command)
        }));
    }
    if proxy_family == Some(ProxyFamilyArg::Unix) {
        if version == 1 {
            return Err(bad(
                "--proxy-family AF_UNIX: only PROXY protocol version 2 has it".into(),
            ));
        }
        // An AF_UNIX address block has paths and no ports (§2.2): ports asked for would be
        // dropped without a word.
        if x.proxy_source_port.is_some() || x.proxy_dest_port.is_some() {
            return Err(bad(
                "--proxy-family AF_UNIX: the header carries socket paths, no ports; drop --proxy-source-port/--proxy-dest-port"
                    .into(),
            ));
        }
        let path = |flag: &str, v: &Option<String>| {
            v.clone().ok_or_else(|| {
                bad(format!(
                    "--proxy-family AF_UNIX: {flag} (a socket path) is required"
                ))
            })
        };
        return crate::net::proxy::v2_unix(
            command,
            transport,
            &path("--proxy-source", &x.proxy_source)?,
            &path("--proxy-dest", &x.proxy_dest)?,
        )
        .map(Some)
        .map_err(|e| bad(format!("--proxy-family AF_UNIX: {e}")));
    }
    let source = ip("--proxy-source", &x.proxy_source)?;
    let addrs = ProxyAddrs {
        family: match proxy_family {
            Some(ProxyFamilyArg::Tcp4) => ProxyFamily::Tcp4,
            Some(ProxyFamilyArg::Tcp6) => ProxyFamily::Tcp6,
            _ if source.is_ipv4() => ProxyFamily::Tcp4,
            _ => ProxyFamily::Tcp6,
        },
        source,
        source_port: port("--proxy-source-port", &x.proxy_source_port)?,
        dest: ip("--proxy-dest", &x.proxy_dest)?,
        dest_port: port("--proxy-dest-port", &x.proxy_dest_port)?,
    };
    addrs
        .check()
        .map_err(|e| bad(format!("--proxy-family: {e}")))?;
    Ok(Some(if version == 1 {
        addrs.v1()
    } else {
        addrs.v2_with(command, transport)
    }))
}
