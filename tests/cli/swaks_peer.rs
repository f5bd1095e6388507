//! A minimal recording SMTP peer for the swaks comparison rows that `ehlo serve` cannot answer:
//! it reads a HAProxy PROXY header (v1 text or v2 binary) before its banner, and offers and
//! accepts XCLIENT (Postfix's XCLIENT_README). One connection, one thread; it records every
//! command line and the message, as the `ehlo serve` recorder does for the other rows.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread::JoinHandle;
use std::time::Duration;

/// The PROXY protocol v2 signature (HAProxy's proxy-protocol.txt §2.2).
const V2_SIGNATURE: &[u8; 12] = b"\r\n\r\n\0\r\nQUIT\n";

/// What the peer does besides plain ESMTP.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Peer {
    /// Read a PROXY header first (recorded as `PROXY …`, or `PROXYv2 <hex>`).
    Proxy,
    /// Offer XCLIENT with these attributes and answer each XCLIENT with a new 220 greeting.
    Xclient(&'static str),
}

/// What the peer saw.
pub struct Recorded {
    pub commands: Vec<String>,
    pub message: Option<Vec<u8>>,
}

pub struct Running {
    pub addr: SocketAddr,
    handle: JoinHandle<Recorded>,
}

impl Running {
    /// Wait for the session to end. Call it after the client has exited: a client that never
    /// connected (a usage error) is stood in for by an empty connection, which records nothing
    /// (the listener accepts in order, so a client that did connect is always served first).
    pub fn finish(self) -> Recorded {
        drop(TcpStream::connect(self.addr));
        self.handle.join().expect("the recording peer panicked")
    }
}

/// Start the peer on 127.0.0.1 for one connection.
pub fn start(peer: Peer) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = std::thread::spawn(move || {
        let mut rec = Recorded {
            commands: Vec::new(),
            message: None,
        };
        if let Ok((tcp, _)) = listener.accept() {
            tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
            let _ = session(tcp, peer, &mut rec);
        }
        rec
    });
    Running { addr, handle }
}

fn session(tcp: TcpStream, peer: Peer, rec: &mut Recorded) -> std::io::Result<()> {
    let mut out = tcp.try_clone()?;
    let mut r = BufReader::new(tcp);
    if peer == Peer::Proxy {
        let head = r.fill_buf()?;
        if head.starts_with(b"PROXY ") {
            let mut line = String::new();
            r.read_line(&mut line)?;
            rec.commands
                .push(line.trim_end_matches(['\r', '\n']).to_string());
        } else {
            let mut fixed = [0u8; 16];
            r.read_exact(&mut fixed)?;
            assert_eq!(
                &fixed[..12],
                V2_SIGNATURE,
                "neither a v1 nor a v2 PROXY header"
            );
            let len = usize::from(u16::from_be_bytes([fixed[14], fixed[15]]));
            let mut rest = vec![0u8; len];
            r.read_exact(&mut rest)?;
            let hex: String = fixed[12..]
                .iter()
                .chain(&rest)
                .map(|b| format!("{b:02x}"))
                .collect();
            rec.commands.push(format!("PROXYv2 {hex}"));
        }
    }
    out.write_all(b"220 compat.test ESMTP\r\n")?;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let line = line.trim_end_matches(['\r', '\n']).to_string();
        let verb = line
            .split(' ')
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        rec.commands.push(line);
        let reply: String = match verb.as_str() {
            "EHLO" => match peer {
                Peer::Xclient(attrs) => {
                    format!("250-compat.test\r\n250-PIPELINING\r\n250 XCLIENT {attrs}\r\n")
                }
                Peer::Proxy => "250-compat.test\r\n250 PIPELINING\r\n".into(),
            },
            "HELO" => "250 compat.test\r\n".into(),
            "XCLIENT" => "220 compat.test ESMTP\r\n".into(),
            "MAIL" | "RCPT" | "RSET" | "NOOP" => "250 2.0.0 Ok\r\n".into(),
            "DATA" => {
                out.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")?;
                let mut message = Vec::new();
                loop {
                    let mut l = Vec::new();
                    if r.read_until(b'\n', &mut l)? == 0 {
                        return Ok(());
                    }
                    if l == b".\r\n" {
                        break;
                    }
                    message.extend_from_slice(l.strip_prefix(b".").unwrap_or(&l));
                }
                rec.message = Some(message);
                "250 2.0.0 Ok: queued\r\n".into()
            }
            "QUIT" => {
                out.write_all(b"221 2.0.0 Bye\r\n")?;
                return Ok(());
            }
            _ => "500 5.5.2 Error: command not recognized\r\n".into(),
        };
        out.write_all(reply.as_bytes())?;
    }
}
