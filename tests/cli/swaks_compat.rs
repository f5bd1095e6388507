//! swaks compatibility, measured: a table of real swaks command lines (swaks's documentation
//! examples and regression-style scenarios) run unchanged by swaks and by ehlo against the same
//! in-process recording server (`ehlo::serve` with a recording renderer, one fresh server per
//! run). For each line the commands the server received, the exit code and the message it stored
//! must be the same. A row may differ only where the README's "How it differs from swaks" says
//! so, and then the row names that difference and adds the ehlo flag that closes it.
//!
//! swaks is installed by tests/interop/setup.sh (CI runs it), so a missing swaks fails here.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ehlo::render::{Format, HumanOptions, Renderer};
use ehlo::serve::ServeOptions;
use ehlo::smtp::event::Event;

/// The server a row runs against.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Srv {
    /// ESMTP with PIPELINING, 8BITMIME; no SIZE (swaks ignores it, ehlo would add SIZE=).
    Plain,
    /// Plain plus SIZE.
    Size,
    /// Plain without 8BITMIME.
    No8bit,
    /// Plain plus AUTH PLAIN LOGIN CRAM-MD5 for user / secret.
    Auth,
    /// STARTTLS offered (self-signed certificate), AUTH after TLS.
    StartTls,
    /// Implicit TLS.
    TlsOnConnect,
    /// LMTP.
    Lmtp,
    /// The recording peer of `swaks_peer` reading a PROXY header before its banner.
    Proxy,
    /// The recording peer of `swaks_peer` offering XCLIENT with these attributes.
    Xclient(&'static str),
}

struct Case {
    /// swaks's arguments; `{srv}` is the server's address (`{port}` its port), `{dir}` a
    /// directory holding `body.txt`, `data.txt`, `att.csv`, `raw.eml` and `to.rc` (a config
    /// file naming a recipient).
    args: &'static [&'static str],
    srv: Srv,
    /// `--fail` specs of `ehlo serve` (e.g. `rcpt=550:5.1.1`).
    faults: &'static [&'static str],
    /// `--delay` specs of `ehlo serve` (e.g. `rcpt:2500`).
    delays: &'static [&'static str],
    /// Standard input for both tools.
    stdin: Option<&'static str>,
    /// Environment for both tools (`{srv}` and `{dir}` replaced as in `args`).
    env: &'static [(&'static str, &'static str)],
    /// Where the server listens instead of 127.0.0.1 on a free port; `{host}` in `args` is its
    /// address without the port.
    listen: Option<&'static str>,
    /// Extra ehlo flags for a documented deliberate difference (README "How it differs").
    ehlo_extra: &'static [&'static str],
    /// The outcome differs on purpose: words of the README's "How it differs from swaks" entry
    /// that says so. The row then asserts that it does differ (so a fixed difference is noticed).
    differs: Option<&'static str>,
}

const fn c(args: &'static [&'static str]) -> Case {
    Case {
        args,
        srv: Srv::Plain,
        faults: &[],
        delays: &[],
        stdin: None,
        env: &[],
        listen: None,
        ehlo_extra: &[],
        differs: None,
    }
}

impl Case {
    const fn srv(mut self, srv: Srv) -> Case {
        self.srv = srv;
        self
    }
    const fn fail(mut self, faults: &'static [&'static str]) -> Case {
        self.faults = faults;
        self
    }
    const fn delay(mut self, delays: &'static [&'static str]) -> Case {
        self.delays = delays;
        self
    }
    const fn differs(mut self, readme: &'static str) -> Case {
        self.differs = Some(readme);
        self
    }
    const fn stdin(mut self, s: &'static str) -> Case {
        self.stdin = Some(s);
        self
    }
    const fn env(mut self, env: &'static [(&'static str, &'static str)]) -> Case {
        self.env = env;
        self
    }
    const fn listen(mut self, addr: &'static str) -> Case {
        self.listen = Some(addr);
        self
    }
    /// ehlo refuses AUTH over a connection that is not encrypted unless told (README).
    const fn plaintext_auth(mut self) -> Case {
        self.ehlo_extra = &["--allow-plaintext-auth"];
        self
    }
    /// ehlo verifies certificates by default; the test server's is self-signed (README).
    const fn insecure(mut self) -> Case {
        self.ehlo_extra = &["-k"];
        self
    }
    const fn insecure_auth(mut self) -> Case {
        self.ehlo_extra = &["-k", "--allow-plaintext-auth"];
        self
    }
}

/// Two recipients over LMTP, the rows' shared part (each adds its own faults and difference).
const fn lmtp_two() -> Case {
    c(&[
        "-t",
        "a@example.com,b@example.com",
        "-s",
        "{srv}",
        "--protocol",
        "LMTP",
    ])
    .srv(Srv::Lmtp)
}

const T: &str = "user@example.com";

/// The README's words for `--no-data-fixup` data ehlo refuses where swaks sends it and waits.
const NDF_REFUSED: &str =
    "data that does not end with `CRLF.CRLF` is refused before anything is sent";

/// The README's words for the empty line swaks sends after `--no-data-fixup` data.
const NDF_NO_EMPTY_LINE: &str = "swaks sends an empty line after it";
/// The README's words for options `--no-data-fixup` cannot apply, refused by ehlo.
const NDF_IGNORED: &str = "which swaks ignores with `-ndf`";

/// The README's words for a drop-after-send at TLS or AUTH with no command to send.
const DAS_NO_COMMAND: &str = "closes the connection at that point, as `--drop-after` does";

/// The README's words for a --header/--add-header line that is no header.
const NO_COLON: &str = "is refused before connecting (exit 1), where swaks sends it as given";

/// The README's words for the PROXY stop point swaks v20201014 does not know.
const PROXY_STOP: &str = "v20201014 does not know the `PROXY` stop point";

/// The README's words for `--drop-after-send CONNECT`, which swaks v20201014 ignores.
const DAS_CONNECT: &str = "swaks v20201014 ignores it and delivers the message";

/// The README's words for a `--dump`/`--dump-as-body` word that is no section.
const DUMP_SECTION: &str = "swaks v20201014 skips the unknown word";

/// The README's words for an XCLIENT modifier given without any XCLIENT attribute.
const XCLIENT_MODIFIER: &str = "with no XCLIENT attribute to apply to";

/// The recording peer offering every XCLIENT attribute swaks knows.
const XCLIENT_ALL: Srv =
    Srv::Xclient("NAME ADDR PORT PROTO HELO LOGIN DESTADDR DESTPORT REVERSE_NAME");

/// The table. Every line is a swaks command line as a user would type it.
const CASES: &[Case] = &[
    // --- swaks's QUICK START and documentation examples ---
    c(&["--to", T, "--server", "{srv}"]),
    c(&[
        "--to",
        T,
        "--from",
        "me@example.com",
        "--auth",
        "CRAM-MD5",
        "--auth-user",
        "user",
        "--auth-password",
        "secret",
        "--header-X-Test",
        "test email",
        "--server",
        "{srv}",
    ])
    .srv(Srv::Auth)
    .plaintext_auth(),
    c(&[
        "-t",
        T,
        "--attach",
        "-",
        "--server",
        "{srv}",
        "--suppress-data",
    ])
    .differs("every part base64")
    .stdin("X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*\n"),
    c(&["--to", T, "--body", "@{dir}/body.txt", "--server", "{srv}"]),
    c(&[
        "--to",
        T,
        "--server",
        "{srv}",
        "--quit-after",
        "RCPT",
        "--hide-all",
    ]),
    c(&[
        "--to",
        T,
        "--server",
        "{srv}",
        "--quit-after",
        "RCPT",
        "--hide-all",
    ])
    .fail(&["rcpt=550:5.1.1"]),
    c(&["--to", T, "--server", "{srv}", "--protocol", "LMTP"]).srv(Srv::Lmtp),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "--header",
        "Subject: hello",
        "--body",
        "hi there",
    ]),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "--h-Subject",
        "hello",
        "--h-X-Custom",
        "value",
    ]),
    c(&["-t", T, "-s", "{srv}", "--header-Subject", "hello"]),
    c(&["-t", T, "-s", "{srv}", "--h-subject", "hello"]).differs(HEADER_CASE),
    c(&["-t", T, "-s", "{srv}", "--header", "x-mailer: mine"]).differs(HEADER_CASE),
    c(&["-t", T, "-s", "{srv}", "--add-header", "X-Added: yes"]),
    // A --data message naming a header twice: ehlo replaces the first and drops the rest,
    // swaks replaces the last and keeps the earlier one.
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "--data",
        "Subject: one\\nX-B: b\\nSubject: two\\n\\nbody\\n",
        "--header",
        "Subject: new",
    ])
    .differs("the first is replaced and the later ones dropped"),
    c(&["-t", T, "-s", "{srv}", "--header", "Subject: caf\u{e9}"]).differs("RFC 2047-encoded"),
    // %NEWLINE% in a --header stays with the header set (swaks replaces tokens after placing
    // the headers); a literal \n makes separate --headers.
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "--header",
        "Subject: 1%NEWLINE%X-B: 2",
    ]),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "--header",
        "Subject: 1%NEWLINE%X-Mailer: m",
    ]),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "--header",
        "X-A: 1%NEWLINE%Subject: two",
    ]),
    c(&["-t", T, "-s", "{srv}", "--h-Subject", "1%NEWLINE%X-B: 2"]),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "--header",
        "Subject: 1\\nX-Mailer: m",
    ]),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "--add-header",
        "X-A: 1%NEWLINE%Subject: two",
    ]),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "--data",
        "Subject: s\\nX-B: old\\n\\nbody\\n",
        "--header",
        "Subject: 1%NEWLINE%X-B: 2",
    ]),
    c(&["-t", T, "-s", "{srv}", "-ah", "X-One: 1", "-ah", "X-Two: 2"]),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "--h-From",
        "\"Fred Example\" <fred@example.com>",
    ]),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "--h-From:",
        "\"Fred Example\" <fred@example.com>",
    ]),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "--data",
        "Subject: b\\n\\n%BODY%\\n",
        "--body",
        "the body",
    ]),
    // --- short forms and single-dash long forms ---
    c(&["-t", T, "-s", "{srv}", "-f", "sender@example.net"]),
    c(&["-t", T, "-s", "{srv}", "-h", "client.example.org"]),
    c(&["-t", T, "-s", "{srv}", "--helo", "client.example.org"]),
    c(&["-t", T, "-s", "{srv}", "--ehlo", "client.example.org"]),
    c(&["-t", T, "-s", "{srv}", "-helo", "client.example.org"]),
    c(&["-t", T, "-s", "{srv}", "-n"]),
    c(&["-t", T, "-s", "{srv}", "-nsh"]),
    c(&["-t", T, "-s", "{srv}", "-nrh"]),
    c(&["-t", T, "-s", "{srv}", "-nih"]),
    c(&["-t", T, "-s", "{srv}", "-nth"]),
    c(&["-t", T, "-s", "{srv}", "-hr"]),
    c(&["-t", T, "-s", "{srv}", "-hs"]),
    c(&["-t", T, "-s", "{srv}", "-hi"]),
    c(&["-t", T, "-s", "{srv}", "-ha"]),
    c(&["-t", T, "-s", "{srv}", "-stl"]),
    c(&["-t", T, "-s", "{srv}", "-raw"]),
    c(&["-t", T, "-s", "{srv}", "-S"]),
    c(&["-t", T, "-s", "{srv}", "-S", "2"]),
    c(&["-t", T, "-s", "{srv}", "--silent", "3"]),
    c(&["-t", T, "-s", "{srv}", "--silent", "3"]).fail(&["mail=550"]),
    c(&["-t", T, "-s", "{srv}", "-4"]),
    c(&["-t", T, "-s", "{srv}", "--timeout", "10"]),
    c(&["-t", T, "-s", "{srv}", "--timeout", "1m"]),
    // swaks sends a header line without a colon as given; ehlo refuses it (README).
    c(&["-t", T, "-s", "{srv}", "--add-header", "X-Foo"]).differs(NO_COLON),
    // swaks reads the unit in either case.
    c(&["-t", T, "-s", "{srv}", "--timeout", "10S"]),
    c(&["-t", T, "-s", "{srv}", "--timeout", "1M"]),
    // A blank around the value: swaks refuses it ("Unknown timeout format ' 5s'", exit 1,
    // nothing sent); ehlo took it trimmed.
    c(&["-t", T, "-s", "{srv}", "--timeout", " 5s"]),
    c(&["-t", T, "-s", "{srv}", "--timeout", "5s "]),
    // A blank around a port: swaks refuses it ("unable to resolve service name  2525 into a
    // port", exit 1, nothing sent); ehlo took it trimmed and connected.
    c(&["-t", T, "-s", "127.0.0.1", "-p", " {port}"]),
    c(&["-t", T, "-s", "127.0.0.1", "--port", "{port} "]),
    c(&["-t", T, "-s", "127.0.0.1: {port}"]),
    c(&["-t", T, "-s", "{srv} "]),
    // A --header of a name the message lacks joins the --add-headers, after them, every one
    // kept.
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "--header",
        "X-A: 1",
        "--h-X-A",
        "2",
        "--add-header",
        "X-B: 1",
    ]),
    // --- envelope ---
    c(&["-t", "a@example.com,b@example.com", "-s", "{srv}"]),
    c(&["-t", T, "-s", "{srv}", "-f", "<>"]),
    c(&["-t", T, "-s", "{srv}", "-f", "<sender@example.net>"]).differs("angle brackets"),
    c(&["-t", "<user@example.com>", "-s", "{srv}"]).differs("angle brackets"),
    c(&["-t", ",user@example.com", "-s", "{srv}"]).differs("An empty list element"),
    // An empty --to is one swaks asks for (it reads the next line of stdin); ehlo refuses it
    // rather than drop it and send to the other recipient, or, before RCPT, to none.
    c(&["-t", T, "-t", "", "-s", "{srv}"])
        .stdin("typed@example.net\n")
        .differs("names no address (`--cc ''`"),
    c(&["-t", "", "-s", "{srv}", "-q", "ehlo"])
        .stdin("typed@example.net\n")
        .differs("names no address (`--cc ''`"),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "--body",
        "to ..TO_ADDRESS.. cc %CC_ADDRESS%",
    ])
    .differs("The tokens are swaks v20240103's"),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "--body",
        "x %NEW_HEADERS% y",
        "--add-header",
        "X-A: 1",
    ])
    .differs("in a `--body` text it is sent as"),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "--data",
        "Subject: s\\n%NEW_HEADERS%\\n\\nx %NEW_HEADERS% y",
        "--add-header",
        "X-A: 1",
    ]),
    c(&["-t", T, "-s", "{srv}"]).srv(Srv::Size).differs("SIZE="),
    // --- stop points ---
    c(&["-s", "{srv}", "-q", "connect"]),
    c(&["-s", "{srv}", "-q", "banner"]),
    c(&["-s", "{srv}", "-q", "first-helo"]),
    c(&["-s", "{srv}", "-q", "helo"]),
    c(&["-s", "{srv}", "-q", "ehlo"]),
    c(&["-s", "{srv}", "-q", "mail"]),
    c(&["-s", "{srv}", "-q", "from"]),
    c(&["-t", T, "-s", "{srv}", "-q", "rcpt"]),
    c(&["-t", T, "-s", "{srv}", "-q", "to"]),
    c(&["-s", "{srv}", "-q", "first-ehlo"]),
    c(&["-s", "{srv}", "-q", "first-lhlo"]),
    c(&["-s", "{srv}", "-q", "lhlo"]),
    c(&["-s", "{srv}", "-q", "starttls"]),
    c(&["-s", "{srv}", "--da", "connect"]),
    c(&["-s", "{srv}", "--das", "first-helo"]),
    c(&["-s", "{srv}", "--das", "helo"]),
    c(&["-t", T, "-s", "{srv}", "--das", "dot"]),
    c(&["-t", T, "-s", "{srv}", "--das", "connect"]).differs(DAS_CONNECT),
    c(&["-t", T, "-s", "{srv}", "--quit", "rcpt"]),
    c(&["-t", T, "-s", "{srv}", "--quit-after", "RCPT"]).fail(&["rcpt=550:5.1.1"]),
    c(&["-s", "{srv}", "--drop-after", "helo"]),
    c(&["-t", T, "-s", "{srv}", "--da", "rcpt"]),
    c(&["-t", T, "-s", "{srv}", "--drop", "data"]),
    c(&["-t", T, "-s", "{srv}", "--drop-after", "dot"]),
    c(&["-t", T, "-s", "{srv}", "--das", "mail"]),
    c(&["-t", T, "-s", "{srv}", "--drop-after-send", "rcpt"]),
    c(&["-t", T, "-s", "{srv}", "--drop-after-send", "data"]),
    // TLS and AUTH stop there whether or not that step happened (swaks's `sendmail`).
    c(&["-s", "{srv}", "-q", "tls"]),
    c(&["-s", "{srv}", "-q", "auth"]),
    c(&["-s", "{srv}", "-da", "tls"]),
    c(&["-s", "{srv}", "--drop-after", "auth"]),
    c(&["-s", "{srv}", "-tlso", "-q", "tls"]),
    c(&["-s", "{srv}", "-tlso", "-da", "tls"]),
    // Several stop points: the first one reached applies (at one step: -das, -da, then -q).
    c(&["-t", T, "-s", "{srv}", "-q", "MAIL", "-da", "RCPT"]),
    c(&["-t", T, "-s", "{srv}", "-q", "RCPT", "-da", "MAIL"]),
    c(&["-t", T, "-s", "{srv}", "-da", "RCPT", "-das", "MAIL"]),
    c(&["-t", T, "-s", "{srv}", "-q", "MAIL", "-das", "MAIL"]),
    // A required and an optional form together: swaks lets the optional one win (the strict
    // one over the plain optional one); the mechanisms come from --auth first.
    c(&["-t", T, "-s", "{srv}", "--tls", "--tls-optional"]),
    c(&["-t", T, "-s", "{srv}", "-tlso", "-tlsos"]),
    c(&[
        "-t", T, "-s", "{srv}", "-a", "LOGIN", "-ao", "-au", "user", "-ap", "secret",
    ])
    .srv(Srv::Auth)
    .plaintext_auth(),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "-a",
        "DIGEST-MD5",
        "-aos",
        "-au",
        "user",
        "-ap",
        "secret",
    ])
    .srv(Srv::Auth)
    .plaintext_auth(),
    c(&[
        "-t", T, "-s", "{srv}", "-ao", "-aos", "-au", "user", "-ap", "secret",
    ])
    .srv(Srv::Auth)
    .plaintext_auth(),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "--xclient-addr",
        "192.0.2.1",
        "--xclient-optional",
        "--xclient-optional-strict",
    ]),
    c(&[
        "-s",
        "{srv}",
        "--auth-optional",
        "PLAIN",
        "-au",
        "user",
        "-ap",
        "wrong",
        "-q",
        "auth",
    ])
    .srv(Srv::Auth)
    .plaintext_auth(),
    c(&["-s", "{srv}", "-tlsc", "-q", "tls"])
        .srv(Srv::TlsOnConnect)
        .insecure(),
    c(&["-s", "{srv}", "-tlsc", "-da", "tls"])
        .srv(Srv::TlsOnConnect)
        .insecure(),
    // swaks delivers here; ehlo closes where the TLS step would have been.
    c(&["-t", T, "-s", "{srv}", "-das", "tls"]).differs(DAS_NO_COMMAND),
    c(&["-t", T, "-s", "{srv}", "-das", "auth"]).differs(DAS_NO_COMMAND),
    // --- protocols ---
    c(&["-t", T, "-s", "{srv}", "--protocol", "SMTP"]),
    c(&["-t", T, "-s", "{srv}", "--protocol", "ESMTP"]),
    c(&["-t", T, "-s", "{srv}", "--protocol", "esmtp"]),
    c(&["-t", T, "-s", "{srv}", "--protocol", "lmtp"]).srv(Srv::Lmtp),
    lmtp_two().fail(&["rcpt#2=550:5.1.1"]),
    c(&["-t", T, "-s", "{srv}", "--pipeline"]),
    c(&[
        "-t",
        "a@example.com,b@example.com",
        "-s",
        "{srv}",
        "--pipeline",
    ]),
    // --- DATA composition ---
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "--data",
        "Subject: test\\n\\nbody text\\n",
    ]),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "-d",
        "Subject: one\\n\\nline one\\nline two\\n",
    ]),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "--data",
        "Subject: x%NEWLINE%%NEWLINE%via token%NEWLINE%",
    ]),
    c(&["-t", T, "-s", "{srv}", "--data", "@{dir}/data.txt"]),
    c(&["-t", T, "-s", "{srv}", "--data", "-"]).stdin("Subject: from stdin\n\nstdin body\n"),
    // An empty file or stdin: swaks refuses it (exit 1, nothing sent); ehlo sent a DATA with
    // no message in it.
    c(&["-t", T, "-s", "{srv}", "--data", "-"]).stdin(""),
    c(&["-t", T, "-s", "{srv}", "--data", "@/dev/null"]),
    // swaks v20201014's deprecated -g: --data - unless --data is given.
    c(&["-t", T, "-s", "{srv}", "-g"]).stdin("Subject: via -g\n\nstdin body\n"),
    c(&["-t", T, "-s", "{srv}", "--g"]).stdin("Subject: via --g\n\nstdin body\n"),
    c(&["-t", T, "-s", "{srv}", "-g", "-d", "Subject: d\\n\\nx\\n"]).stdin("not read\n"),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "--data",
        "To: %TO_ADDRESS%\\nFrom: %FROM_ADDRESS%\\n\\nx\\n",
        "-f",
        "s@example.net",
    ]),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "--data",
        "Subject: nh\\n%NEW_HEADERS%\\nbody\\n",
        "--add-header",
        "X-New: 1",
    ]),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "--data",
        "Subject: s\\n\\n.leading dot\\n..two dots\\n",
    ]),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "--data",
        "From someone@example.com Mon Jan  1 00:00:00 2024\\nSubject: mbox\\n\\nb\\n",
    ]),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "-nsf",
        "--data",
        "From someone@example.com Mon Jan  1 00:00:00 2024\\nSubject: mbox\\n\\nb\\n",
    ]),
    c(&["-t", T, "-s", "{srv}", "--body", "a plain body"]),
    c(&["-t", T, "-s", "{srv}", "--body", "-"]).stdin("body from stdin\n"),
    // `@-` is stdin too: swaks opens `@FILE` with Perl's two-argument open.
    c(&["-t", T, "-s", "{srv}", "--body", "@-"]).stdin("body from stdin by @-\n"),
    c(&["-t", T, "-s", "{srv}", "--data", "@-"]).stdin("Subject: by @-\n\nstdin body\n"),
    // swaks's --no-<name> works for its one-letter names too.
    c(&["-t", T, "-s", "{srv}", "-q", "rcpt", "--no-q"]),
    c(&["-t", T, "-s", "{srv}", "-n", "--no-n"]),
    c(&["-t", T, "-s", "{srv}", "-h", "one.example", "--no-h"]),
    c(&["-t", T, "-s", "{srv}", "-f", "x@example.net", "--no-f"]),
    c(&["-t", T, "-s", "{srv}", "-p", "9", "--no-p"]),
    c(&["-t", "a@example.org", "--no-t", "-t", T, "-s", "{srv}"]),
    c(&["-t", T, "-s", "127.0.0.1:9", "--no-s", "-s", "{srv}"]),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "-d",
        "Subject: d\\n\\nx\\n",
        "--no-d",
    ]),
    c(&["-t", T, "-s", "{srv}", "--body", "line one\\nline two"]),
    c(&["-t", T, "-s", "{srv}", "--body", "@@literal at"]),
    // 8-bit content to a server without 8BITMIME goes out as it is (a warning in ehlo).
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "--data",
        "Subject: x\\n\\nh\u{e9}llo w\u{f6}rld\\n",
    ])
    .srv(Srv::No8bit),
    // An empty --body is none given to swaks: it reads one line from stdin for the body.
    c(&["-t", T, "-s", "{srv}", "--body", ""]).stdin("line one\nline two\n"),
    c(&["-t", T, "-s", "{srv}", "--attach", "@{dir}/att.csv"]).differs("every part base64"),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "--attach-type",
        "text/csv",
        "--attach",
        "@{dir}/att.csv",
    ])
    .differs("every part base64"),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "--attach-name",
        "renamed.csv",
        "--attach",
        "@{dir}/att.csv",
    ])
    .differs("every part base64"),
    c(&["-t", T, "-s", "{srv}", "--attach", "inline attachment text"]).differs("every part base64"),
    // An empty --attach/--attach-body names no content: swaks refuses it, exit 1 (ehlo sent an
    // empty part).
    c(&["-t", T, "-s", "{srv}", "--attach", ""]),
    c(&["-t", T, "-s", "{srv}", "--attach-body", ""]),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "--attach-body",
        "the body part",
        "--attach",
        "@{dir}/att.csv",
    ])
    .differs("every part base64"),
    c(&["-t", T, "-s", "{srv}", "-n", "--attach", "@{dir}/att.csv"]).differs("every part base64"),
    // --- replies that fail, and the exit codes scripts rely on ---
    c(&["-t", T, "-s", "{srv}"]).fail(&["connect=554"]),
    c(&["-t", T, "-s", "{srv}"])
        .fail(&["helo=550"])
        .differs("falls back to HELO only"),
    c(&["-t", T, "-s", "{srv}"]).fail(&["helo=502"]),
    c(&["-t", T, "-s", "{srv}"]).fail(&["mail=550:5.7.1"]),
    c(&["-t", T, "-s", "{srv}"]).fail(&["mail=451:4.3.0"]),
    c(&["-t", T, "-s", "{srv}"]).fail(&["rcpt=550:5.1.1"]),
    c(&["-t", T, "-s", "{srv}"]).fail(&["rcpt=450:4.2.0"]),
    c(&["-t", "a@example.com,b@example.com", "-s", "{srv}"]).fail(&["rcpt#1=550:5.1.1"]),
    c(&["-t", "a@example.com,b@example.com", "-s", "{srv}"]).fail(&["rcpt#2=550:5.1.1"]),
    c(&["-t", T, "-s", "{srv}"]).fail(&["data=554"]),
    c(&["-t", T, "-s", "{srv}"]).fail(&["dot=554:5.7.1"]),
    c(&["-t", T, "-s", "{srv}"]).fail(&["dot=451"]),
    c(&["-t", T, "-s", "{srv}"])
        .fail(&["quit=500"])
        .differs("refused QUIT is exit 27"),
    c(&["-t", T, "-s", "{srv}", "-q", "mail"]).fail(&["mail=550"]),
    c(&["-t", T, "-s", "{srv}", "--pipeline"]).fail(&["rcpt=550:5.1.1"]),
    // A reply timeout: QUIT follows (its reply waited for), exit code of the phase.
    c(&["-t", T, "-s", "{srv}", "--timeout", "1"]).delay(&["rcpt:2500"]),
    c(&["-t", T, "-s", "{srv}", "--timeout", "1"]).delay(&["mail:2500"]),
    // --- AUTH ---
    c(&[
        "-t", T, "-s", "{srv}", "-a", "PLAIN", "-au", "user", "-ap", "secret",
    ])
    .srv(Srv::Auth)
    .plaintext_auth(),
    c(&[
        "-t", T, "-s", "{srv}", "-a", "LOGIN", "-au", "user", "-ap", "secret",
    ])
    .srv(Srv::Auth)
    .plaintext_auth(),
    c(&[
        "-t", T, "-s", "{srv}", "-a", "CRAM-MD5", "-au", "user", "-ap", "secret",
    ])
    .srv(Srv::Auth)
    .plaintext_auth(),
    // `<>` is the empty user name: LOGIN answers the first 334 with an empty line, PLAIN sends
    // `\0\0secret` (refused here: the server knows only "user").
    c(&[
        "-t", T, "-s", "{srv}", "-a", "LOGIN", "-au", "<>", "-ap", "secret",
    ])
    .srv(Srv::Auth)
    .plaintext_auth(),
    c(&[
        "-t", T, "-s", "{srv}", "-a", "PLAIN", "-au", "<>", "-ap", "secret",
    ])
    .srv(Srv::Auth)
    .plaintext_auth(),
    c(&[
        "-t", T, "-s", "{srv}", "-a", "PLAIN", "-au", "user", "-ap", "wrong",
    ])
    .srv(Srv::Auth)
    .plaintext_auth(),
    c(&[
        "-t", T, "-s", "{srv}", "--auth", "CRAM-MD5", "-au", "user", "-ap", "wrong",
    ])
    .srv(Srv::Auth)
    .plaintext_auth(),
    c(&["-t", T, "-s", "{srv}", "-a", "-au", "user", "-ap", "secret"])
        .srv(Srv::Auth)
        .plaintext_auth(),
    c(&[
        "-t", T, "-s", "{srv}", "-a", "PLAIN", "-au", "user", "-ap", "secret",
    ])
    .plaintext_auth(),
    c(&[
        "-t", T, "-s", "{srv}", "-ao", "-au", "user", "-ap", "secret",
    ])
    .plaintext_auth(),
    c(&[
        "-t", T, "-s", "{srv}", "-ao", "PLAIN", "-au", "user", "-ap", "wrong",
    ])
    .srv(Srv::Auth)
    .plaintext_auth(),
    c(&[
        "-t", T, "-s", "{srv}", "-aos", "-au", "user", "-ap", "secret",
    ])
    .plaintext_auth(),
    c(&[
        "-t", T, "-s", "{srv}", "-aos", "PLAIN", "-au", "user", "-ap", "wrong",
    ])
    .srv(Srv::Auth)
    .plaintext_auth(),
    c(&[
        "-t", T, "-s", "{srv}", "-a", "PLAIN", "-au", "user", "-ap", "secret", "-apt",
    ])
    .srv(Srv::Auth)
    .plaintext_auth(),
    c(&[
        "-t", T, "-s", "{srv}", "-a", "LOGIN", "-au", "user", "-ap", "secret", "-ahp",
    ])
    .srv(Srv::Auth)
    .plaintext_auth(),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "--protocol",
        "ESMTPA",
        "-au",
        "user",
        "-ap",
        "secret",
    ])
    .srv(Srv::Auth)
    .plaintext_auth(),
    c(&[
        "-s", "{srv}", "-a", "PLAIN", "-au", "user", "-ap", "secret", "-q", "auth",
    ])
    .srv(Srv::Auth)
    .plaintext_auth(),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "-a",
        "CRAM-MD5",
        "-au",
        "user",
        "-ap",
        "secret",
        "-am",
        "X-CRAM=CRAM-MD5",
    ])
    .srv(Srv::Auth)
    .plaintext_auth(),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "-a",
        "X-CRAM",
        "-au",
        "user",
        "-ap",
        "secret",
        "--auth-map",
        "X-CRAM=CRAM-MD5",
    ])
    .srv(Srv::Auth)
    .plaintext_auth(),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "-a",
        "PLAIN",
        "-au",
        "user",
        "-ap",
        "secret",
        "-ae",
        "realm=example.com,dmd5-serv-type=smtp",
    ])
    .srv(Srv::Auth)
    .plaintext_auth(),
    c(&[
        "-t", T, "-s", "{srv}", "-a", "LOGIN", "-au", "user", "-ap", "secret", "-pp",
    ])
    .srv(Srv::Auth)
    .plaintext_auth(),
    c(&[
        "-t", T, "-s", "{srv}", "-a", "PLAIN", "-au", "-ap", "secret",
    ])
    .srv(Srv::Auth)
    .plaintext_auth()
    .stdin("user\n")
    .differs("without a value"),
    c(&["-t", T, "-s", "{srv}", "--force-getpwuid"]),
    // --- TLS ---
    c(&["-t", T, "-s", "{srv}", "-tls"])
        .srv(Srv::StartTls)
        .insecure(),
    c(&["-t", T, "-s", "{srv}", "--tls"])
        .srv(Srv::StartTls)
        .insecure(),
    c(&["-t", T, "-s", "{srv}", "-tlso"])
        .srv(Srv::StartTls)
        .insecure(),
    c(&["-t", T, "-s", "{srv}", "-tlso"]).insecure(),
    c(&["-t", T, "-s", "{srv}", "-tlsos"]).insecure(),
    c(&["-t", T, "-s", "{srv}", "-tls"]).insecure(),
    c(&["-s", "{srv}", "-tls", "-q", "tls"])
        .srv(Srv::StartTls)
        .insecure(),
    c(&["-t", T, "-s", "{srv}", "-tlsc"])
        .srv(Srv::TlsOnConnect)
        .insecure(),
    c(&["-t", T, "-s", "{srv}", "--tls-on-connect"])
        .srv(Srv::TlsOnConnect)
        .insecure(),
    c(&["-t", T, "-s", "{srv}", "--protocol", "ESMTPS"])
        .srv(Srv::StartTls)
        .insecure(),
    c(&[
        "-t", T, "-s", "{srv}", "-tls", "-a", "PLAIN", "-au", "user", "-ap", "secret",
    ])
    .srv(Srv::StartTls)
    .insecure(),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "--protocol",
        "ESMTPSA",
        "-au",
        "user",
        "-ap",
        "secret",
    ])
    .srv(Srv::StartTls)
    .insecure(),
    c(&["-t", T, "-s", "{srv}", "-tls", "--tls-protocol", "tlsv1_2"])
        .srv(Srv::StartTls)
        .insecure(),
    c(&[
        "-t", T, "-s", "{srv}", "-tlsc", "-a", "LOGIN", "-au", "user", "-ap", "secret",
    ])
    .srv(Srv::TlsOnConnect)
    .insecure_auth(),
    // --- XCLIENT and PRDR against a server that offers neither ---
    c(&["-t", T, "-s", "{srv}", "--xclient-addr", "192.0.2.1"]),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "--xclient-addr",
        "192.0.2.1",
        "--xclient-optional",
    ]),
    c(&["-t", T, "-s", "{srv}", "--prdr"]),
    // --- XCLIENT against a server that offers it (swaks's manual's examples first) ---
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "--xclient-name",
        "foo.example.com",
        "--xclient-addr",
        "192.168.1.1",
    ])
    .srv(XCLIENT_ALL),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "--xclient-helo",
        "helo string",
        "--xclient-delim",
        "--xclient-name",
        "foo.example.com",
        "--xclient-addr",
        "192.168.1.1",
    ])
    .srv(XCLIENT_ALL),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "--xclient-addr",
        "192.168.0.1",
        "--xclient-port",
        "26",
        "--xclient",
        "FOO=bar NAME=wind",
    ])
    .srv(XCLIENT_ALL),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "--xclient-reverse-name",
        "r.example",
        "--xclient-login",
        "user",
        "--xclient-proto",
        "ESMTP",
        "--xclient-destport",
        "25",
        "--xclient-destaddr",
        "192.0.2.9",
        "--xclient-port",
        "4321",
    ])
    .srv(XCLIENT_ALL),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "--xclient-addr",
        "192.0.2.1",
        "--xclient-delim",
        "--xclient-name",
        "n.example",
        "--xclient-addr",
        "192.0.2.2",
    ])
    .srv(XCLIENT_ALL),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "--xclient-delim",
        "--xclient-addr",
        "192.0.2.1",
        "--xclient-delim",
        "--xclient-delim",
        "--xclient",
        "FOO=bar",
        "--xclient-port",
        "25",
        "--xclient-delim",
    ])
    .srv(XCLIENT_ALL),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "-xclient-name",
        "a b+c=d",
        "-xclient-addr",
        "192.0.2.1",
    ])
    .srv(XCLIENT_ALL),
    c(&[
        "-s",
        "{srv}",
        "--xclient-addr",
        "192.0.2.1",
        "-q",
        "xclient",
    ])
    .srv(XCLIENT_ALL),
    c(&["-t", T, "-s", "{srv}", "--xclient-login", "u"]).srv(Srv::Xclient("NAME ADDR")),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "--xclient-login",
        "u",
        "--xclient-no-verify",
    ])
    .srv(Srv::Xclient("NAME ADDR")),
    // --- PROXY (v1 is the default version) ---
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "--proxy-version",
        "1",
        "--proxy-family",
        "TCP4",
        "--proxy-source",
        "192.0.2.1",
        "--proxy-source-port",
        "1234",
        "--proxy-dest",
        "192.0.2.2",
        "--proxy-dest-port",
        "25",
    ])
    .srv(Srv::Proxy),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "--proxy-family",
        "TCP4",
        "--proxy-source",
        "192.0.2.1",
        "--proxy-source-port",
        "1234",
        "--proxy-dest",
        "192.0.2.2",
        "--proxy-dest-port",
        "25",
    ])
    .srv(Srv::Proxy),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "--proxy-source",
        "192.0.2.1",
        "--proxy-source-port",
        "1234",
        "--proxy-dest",
        "192.0.2.2",
        "--proxy-dest-port",
        "25",
    ])
    .srv(Srv::Proxy)
    .differs("`--proxy-family` may be left out"),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "--proxy-family",
        "TCP6",
        "--proxy-source",
        "2001:db8::1",
        "--proxy-source-port",
        "1234",
        "--proxy-dest",
        "2001:db8::2",
        "--proxy-dest-port",
        "25",
    ])
    .differs("uppercases them"),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "--proxy-version",
        "2",
        "--proxy-family",
        "AF_INET",
        "--proxy-source",
        "192.0.2.1",
        "--proxy-source-port",
        "1234",
        "--proxy-dest",
        "192.0.2.2",
        "--proxy-dest-port",
        "25",
    ])
    .srv(Srv::Proxy),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "--proxy-version",
        "2",
        "--proxy-family",
        "AF_INET6",
        "--proxy-source",
        "2001:db8::1",
        "--proxy-source-port",
        "1234",
        "--proxy-dest",
        "2001:db8::2",
        "--proxy-dest-port",
        "25",
    ])
    .srv(Srv::Proxy),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "--proxy-version",
        "2",
        "--proxy-command",
        "LOCAL",
        "--proxy-family",
        "AF_INET",
        "--proxy-source",
        "192.0.2.1",
        "--proxy-source-port",
        "1234",
        "--proxy-dest",
        "192.0.2.2",
        "--proxy-dest-port",
        "25",
    ])
    .srv(Srv::Proxy)
    .differs("command nibble 0"),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "--proxy-version",
        "2",
        "--proxy-protocol",
        "DGRAM",
        "--proxy-family",
        "AF_INET",
        "--proxy-source",
        "192.0.2.1",
        "--proxy-source-port",
        "1234",
        "--proxy-dest",
        "192.0.2.2",
        "--proxy-dest-port",
        "25",
    ])
    .srv(Srv::Proxy),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "--proxy",
        "TCP4 192.0.2.1 192.0.2.2 1234 25",
    ])
    .srv(Srv::Proxy),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "--proxy-version",
        "2",
        "--proxy-family",
        "AF_UNSPEC",
        "--proxy-source",
        "192.0.2.1",
        "--proxy-source-port",
        "1234",
        "--proxy-dest",
        "192.0.2.2",
        "--proxy-dest-port",
        "25",
    ])
    .srv(Srv::Proxy)
    .differs("sends no address block"),
    // swaks v20240103's stop point PROXY (v20201014 refuses it): quit reads the banner and
    // says QUIT, drop closes after the header.
    c(&[
        "-s",
        "{srv}",
        "--proxy-family",
        "TCP4",
        "--proxy-source",
        "192.0.2.1",
        "--proxy-source-port",
        "1234",
        "--proxy-dest",
        "192.0.2.2",
        "--proxy-dest-port",
        "25",
        "-q",
        "proxy",
    ])
    .srv(Srv::Proxy)
    .differs(PROXY_STOP),
    c(&[
        "-s",
        "{srv}",
        "--proxy-family",
        "TCP4",
        "--proxy-source",
        "192.0.2.1",
        "--proxy-source-port",
        "1234",
        "--proxy-dest",
        "192.0.2.2",
        "--proxy-dest-port",
        "25",
        "--drop-after",
        "proxy",
    ])
    .srv(Srv::Proxy)
    .differs(PROXY_STOP),
    // Bad PROXY values: swaks exits 35 ("Error in PROXY option processing") before
    // connecting, whichever option holds the bad value.
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "--proxy-version",
        "3",
        "--proxy-source",
        "192.0.2.1",
        "--proxy-source-port",
        "1234",
        "--proxy-dest",
        "192.0.2.2",
        "--proxy-dest-port",
        "25",
    ]),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "--proxy-family",
        "BOGUS",
        "--proxy-source",
        "192.0.2.1",
        "--proxy-source-port",
        "1234",
        "--proxy-dest",
        "192.0.2.2",
        "--proxy-dest-port",
        "25",
    ]),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "--proxy-version",
        "2",
        "--proxy-family",
        "AF_INET",
        "--proxy-protocol",
        "BOGUS",
        "--proxy-source",
        "192.0.2.1",
        "--proxy-source-port",
        "1234",
        "--proxy-dest",
        "192.0.2.2",
        "--proxy-dest-port",
        "25",
    ]),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "--proxy-version",
        "2",
        "--proxy-family",
        "AF_INET",
        "--proxy-command",
        "BOGUS",
        "--proxy-source",
        "192.0.2.1",
        "--proxy-source-port",
        "1234",
        "--proxy-dest",
        "192.0.2.2",
        "--proxy-dest-port",
        "25",
    ]),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "--proxy-source",
        "notanip",
        "--proxy-source-port",
        "1234",
        "--proxy-dest",
        "192.0.2.2",
        "--proxy-dest-port",
        "25",
    ]),
    // --- routing by the recipient's domain: address literals (swaks's decimal one too) ---
    c(&["-t", "user@[127.0.0.1]", "-p", "{port}"]),
    c(&["-t", "user@#2130706433", "-p", "{port}"]),
    c(&["-t", "a@example.com,user@#2130706433", "-p", "{port}"]),
    // --- documented refusals and differences of the README, each asserted to differ ---
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "--header",
        "X-A: 1",
        "--header",
        "X-B: 2",
        "--no-header-X-A",
    ])
    .differs("drops every earlier `--header` option"),
    c(&["-t", T, "-s", "{srv}", "--config"]).differs("the bare form is refused"),
    c(&["-t", T, "-s", "{srv}", "--attach-type", "text/plain"]).differs("swaks ignores it"),
    c(&["-t", T, "-s", "{srv}", "--protocol", "LMTP", "--prdr"])
        .srv(Srv::Lmtp)
        .differs("`--prdr` with `--protocol LMTP`"),
    // A stop before AUTH sends no credential: no --allow-plaintext-auth needed (ehlo refused).
    c(&[
        "-t", T, "-s", "{srv}", "-a", "PLAIN", "-au", "user", "-ap", "secret", "-q", "helo",
    ])
    .srv(Srv::Auth),
    c(&[
        "-s", "{srv}", "-au", "user", "-ap", "secret", "-q", "connect",
    ])
    .srv(Srv::Auth),
    // One of two recipients refused after the content: swaks exits 0 (one got it), ehlo 26.
    lmtp_two()
        .fail(&["lmtp-rcpt#2=552:5.2.2"])
        .differs("even when another recipient got the message"),
    // Both refused after the content: 26 in both.
    lmtp_two().fail(&["lmtp-rcpt#1=552:5.2.2", "lmtp-rcpt#2=552:5.2.2"]),
    c(&["-t", "a@example.org,<>", "-s", "{srv}"])
        .differs("The null address `<>` given as a recipient"),
    c(&["-t", T, "-s", "{srv}", "-tls", "--tls-protocol", "sslv3"])
        .srv(Srv::StartTls)
        .differs("refuses `sslv2`/`sslv3`"),
    // --- SWAKS_OPT_* environment (below the command line; empty value = a flag) ---
    c(&["-t", T, "-s", "{srv}"]).env(&[
        ("SWAKS_OPT_helo", "env.example"),
        ("SWAKS_OPT_from", "env@example.net"),
        ("SWAKS_OPT_h_Subject", "from the environment"),
        ("SWAKS_OPT_add_header", "X-Env: 1"),
    ]),
    c(&["-t", T, "-s", "{srv}", "-h", "cli.example"]).env(&[("SWAKS_OPT_helo", "env.example")]),
    c(&["-t", T]).env(&[
        ("SWAKS_OPT_server", "{srv}"),
        ("SWAKS_OPT_quit_after", "mail"),
    ]),
    c(&["-t", T, "-s", "{srv}"]).env(&[("SWAKS_OPT_tls", "")]),
    c(&["-s", "{srv}"]).env(&[
        ("SWAKS_OPT_to", T),
        ("SWAKS_OPT_data", "Subject: e\\n\\nenv\\n"),
    ]),
    // --- -p SERVICE: a service name is its port (587 needs root: CI runs as root) ---
    c(&["-t", T, "-s", "{host}", "-p", "submission"]).listen("127.58.7.1:587"),
    c(&["-t", T, "-s", "{host}", "--port", "smtp"]).listen("127.58.7.1:25"),
    // --- swaks's deprecated bare FILE arguments ---
    c(&["-t", T, "-s", "{srv}", "--body", "{dir}/body.txt"]),
    c(&["-t", T, "-s", "{srv}", "--data", "{dir}/data.txt"]),
    // --- --no-data-fixup: the bytes as given ---
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "-ndf",
        "-d",
        "Subject: raw\r\n\r\nbody\r\n.\r\n",
    ])
    .differs(NDF_NO_EMPTY_LINE),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "--no-data-fixup",
        "-d",
        "Subject: raw\r\n\r\nbody\r\n.",
    ]),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "-ndf",
        "--timeout",
        "2",
        "-d",
        "Subject: raw\\r\\n\\r\\nbody\\r\\n.\\r\\n",
    ])
    .differs(NDF_REFUSED),
    c(&["-t", T, "-s", "{srv}", "-ndf", "-d", "@{dir}/raw.eml"]).differs(NDF_NO_EMPTY_LINE),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "-ndf",
        "--timeout",
        "2",
        "-d",
        "Subject: raw\r\n\r\nbody\r\n",
    ])
    .differs(NDF_REFUSED),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "-ndf",
        "-d",
        "Subject: raw\r\n\r\nbody\r\n.\r\n",
        "--add-header",
        "X-A: 1",
    ])
    .differs(NDF_IGNORED),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "-ndf",
        "-d",
        "Subject: raw\r\n\r\n%BODY%\r\n.\r\n",
        "--body",
        "b",
    ])
    .differs(NDF_IGNORED),
    // The default message has no end marker of its own.
    c(&["-t", T, "-s", "{srv}", "-ndf", "--timeout", "2"]).differs(NDF_REFUSED),
    // --- --dump sends nothing; --dump-as-body sends the settings as the body ---
    c(&["-t", T, "-s", "{srv}", "--dump"]),
    c(&[
        "-t", T, "-s", "{srv}", "--dump", "AUTH,TLS", "-au", "user", "-ap", "secret",
    ]),
    c(&["-t", T, "-s", "{srv}", "-dab"]).differs("`--dump-as-body`/`-dab` puts the same sections"),
    c(&["-t", T, "-s", "{srv}", "-dab", "PROTOCOL", "--body", "mine"]),
    // --- Getopt::Long as swaks configures it: unique prefixes of long names with one dash or
    // two, no glued values, ambiguous and unknown words refused (exit 1, nothing sent) ---
    c(&["-t", T, "-s", "{srv}", "-tls-on"])
        .srv(Srv::TlsOnConnect)
        .insecure(),
    c(&["-t", T, "-s", "{srv}", "--tls-on-conn"])
        .srv(Srv::TlsOnConnect)
        .insecure(),
    c(&["-t", T, "-s", "{srv}", "-tsl"]),
    c(&["-t", T, "-s", "{srv}", "-force"]),
    c(&["-t", T, "-s", "{srv}", "-sup"]),
    c(&["-tuser@example.com", "-s", "{srv}"]),
    c(&["-t", T, "-s{srv}"]),
    c(&["-t", T, "-s", "{srv}", "-hide-rec", "--quit-after", "rcpt"]),
    c(&["-t", T, "-s", "{srv}", "--head", "X-A: b"]),
    c(&["-t", T, "-s", "{srv}", "-from", "me@example.com"]),
    c(&["--t", T, "--serv", "{srv}", "--quit=rcpt"]),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "-a",
        "PLAIN",
        "-auth-u",
        "user",
        "-auth-pass",
        "secret",
    ])
    .srv(Srv::Auth)
    .plaintext_auth(),
    // --- a higher layer's recipients replace a lower layer's (swaks's --to is one setting) ---
    c(&["--config", "{dir}/to.rc", "-t", T, "-s", "{srv}"]),
    c(&["--config", "{dir}/to.rc", "-s", "{srv}"]),
    c(&["-t", T, "-s", "{srv}"]).env(&[("SWAKS_OPT_to", "env@example.net")]),
    c(&["-s", "{srv}", "--config", "{dir}/to.rc"]).env(&[("SWAKS_OPT_to", "env@example.net")]),
    // --- SWAKS_OPT_config names the file (ehlo ignored it and sent elsewhere) ---
    c(&["-s", "{srv}"]).env(&[("SWAKS_OPT_config", "{dir}/to.rc")]),
    c(&["-s", "{srv}"]).env(&[
        ("SWAKS_OPT_config", "{dir}/to.rc"),
        ("SWAKS_OPT_to", "env@example.net"),
    ]),
    c(&["-s", "{srv}", "--config", "{dir}/to.rc"]).env(&[("SWAKS_OPT_config", "{dir}/none.rc")]),
    c(&["-t", T, "-s", "{srv}"]).env(&[("SWAKS_OPT_config", "{dir}/none.rc")]),
    c(&["-t", "first@example.net", "-t", T, "-s", "{srv}"])
        .differs("Repeated in one place (`-t a -t b`"),
    // --- a port inside --server wins over --port, wherever each was given ---
    c(&["-t", T, "-s", "{srv}", "-p", "9"]),
    c(&["-t", T, "-p", "9", "--server", "{srv}"]),
    c(&["-t", T, "-s", "{srv}"]).env(&[("SWAKS_OPT_port", "9")]),
    // --- an empty --from is the default sender, `<>` the null sender ---
    c(&["-t", T, "-s", "{srv}", "-f", ""]),
    c(&["-t", T, "-s", "{srv}", "--from="]),
    c(&["-t", T, "-s", "{srv}", "-f", "<>"]),
    // --- swaks's `h` is --helo in the environment too ---
    c(&["-t", T, "-s", "{srv}"]).env(&[("SWAKS_OPT_h", "envhelo.example")]),
    // --- with PIPELINING, swaks v20201014 holds MAIL and RCPT back until DATA or QUIT ---
    c(&["-t", T, "-s", "{srv}", "--pipeline", "-da", "mail"])
        .differs("closes the connection without having sent them"),
    c(&["-t", T, "-s", "{srv}", "--pipeline", "-da", "rcpt"])
        .differs("closes the connection without having sent them"),
    c(&["-t", T, "-s", "{srv}", "--pipeline", "-das", "mail"])
        .differs("sends MAIL, every RCPT and DATA before closing"),
    c(&["-t", T, "-s", "{srv}", "--pipeline", "-das", "rcpt"])
        .differs("sends MAIL, every RCPT and DATA before closing"),
    c(&["-t", T, "-s", "{srv}", "--pipeline", "-q", "rcpt"]),
    // --- a close instead of the 221 to a stop point's QUIT is exit 6 in swaks (QUIT written
    // with MAIL under --pipeline or after its reply: the same close, the same exit) ---
    c(&["-t", T, "-s", "{srv}", "-q", "helo"]).fail(&["quit=drop"]),
    c(&["-t", T, "-s", "{srv}", "-q", "mail"]).fail(&["quit=drop"]),
    c(&["-t", T, "-s", "{srv}", "--pipeline", "-q", "mail"]).fail(&["quit=drop"]),
    c(&["-t", T, "-s", "{srv}", "--pipeline", "-q", "rcpt"]).fail(&["quit=drop"]),
    // --- found on the wire by a capturing server, each named in the README ---
    c(&["-t", T, "-s", "{srv}", "--body", "."])
        .differs("swaks takes it for the end marker and sends an empty body"),
    c(&["-t", T, "-s", "{srv}", "--body", "caf\u{e9}"])
        .differs("swaks sends the body bytes under no MIME header"),
    c(&["-t", T, "-s", "{srv}", "--header", "Subject: a\\n b"])
        .differs("where it continues `X-Mailer:` instead"),
    c(&["-t", T, "-s", "{srv}", "-f", " me@example.com"])
        .differs("a path RFC 5321 §4.1.2 has no blank in"),
    c(&["-t", "user@example.com, other@example.com", "-s", "{srv}"])
        .differs("whitespace around comma-separated addresses"),
    c(&[
        "-t",
        "user@example.com,other@example.com",
        "-s",
        "{srv}",
        "-das",
        "rcpt",
    ])
    .differs("closes right after writing the first RCPT, so the other recipients never go out"),
    c(&["-t", T, "-s", "{srv}", "--pipeline", "-q", "rcpt"])
        .fail(&["rcpt=550:5.1.1"])
        .differs("writes QUIT with them and exits 0"),
    c(&["-t", T, "-s", "{srv}", "--local-interface", "127.0.0.1:0"])
        .differs("which swaks takes for any port"),
    // --- values swaks skips or reads as "not given", refused here before connecting ---
    c(&["-t", T, "-s", "{srv}", "-S", "-1"]).differs("which swaks reads as `-S 1`"),
    c(&["-t", T, "-s", "{srv}", "-p", "0"]).differs("and `-p 0` (swaks takes the `0`"),
    c(&["-t", T, "-s", "{srv}", "--local-port", "70000"]).differs("which swaks takes modulo 65536"),
    c(&["-t", T, "-s", "{srv}", "-tlsc", "--tls-cipher", "bogus"])
        .srv(Srv::TlsOnConnect)
        .insecure()
        .differs("an unknown `--tls-cipher`"),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "-tlsc",
        "--tls-protocol",
        "no_tlsv1_2,no_tlsv1_3",
    ])
    .srv(Srv::TlsOnConnect)
    .insecure()
    .differs("a deny list that leaves neither TLS 1.2 nor 1.3"),
    c(&["-t", T, "-s", "{srv}", "-tlsc", "--tls-protocol", "tls1_2"])
        .srv(Srv::TlsOnConnect)
        .insecure()
        .differs("OpenSSL's spelling of a version"),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "--proxy-version",
        "2",
        "--proxy-family",
        "TCP4",
        "--proxy-source",
        "192.0.2.1",
        "--proxy-source-port",
        "1234",
        "--proxy-dest",
        "192.0.2.2",
        "--proxy-dest-port",
        "25",
    ])
    .srv(Srv::Proxy)
    .differs("the family may be spelt `TCP4`/`TCP6` as for version 1"),
    c(&["-t", T, "-s", "{srv}", "--auth-map", "bogus"])
        .differs("an `--auth-map` that is no `ALIAS=TYPE`"),
    // swaks skips a type it does not know, and with none left exits 10 before connecting;
    // ehlo refuses the list at its first unknown name, with the same exit (it exited 1).
    c(&[
        "-t", T, "-s", "{srv}", "-a", "X-PLAIN", "-au", "user", "-ap", "secret",
    ])
    .srv(Srv::Auth)
    .plaintext_auth(),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "-a",
        "X-PLAIN,PLAIN",
        "-au",
        "user",
        "-ap",
        "secret",
    ])
    .srv(Srv::Auth)
    .plaintext_auth()
    .differs("where swaks skips that name and authenticates with the next"),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "-a",
        "X-PLAIN",
        "-au",
        "user",
        "-ap",
        "secret",
        "--auth-optional",
    ])
    .srv(Srv::Auth)
    .plaintext_auth()
    .differs("with `--auth-optional` swaks sends without AUTH"),
    c(&["-t", T, "-s", "{srv},{srv}"]).differs("swaks tries no server of it"),
    c(&["-t", T, "-s", "xn--a.test"]).differs("where swaks asks DNS and exits 2"),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "-a",
        "PLAIN",
        "-au",
        "user",
        "-ap",
        "secret",
        "--auth-map",
        "PLAIN=LOGIN",
    ])
    .srv(Srv::Auth)
    .plaintext_auth()
    .differs("whose ALIAS is already a mechanism's name"),
    c(&[
        "-t",
        T,
        "-s",
        "{srv}",
        "--tls-cert",
        "{dir}/none.pem",
        "--tls-key",
        "{dir}/none.pem",
    ])
    .differs("a `--tls-cert`/`--tls-key` that cannot be read"),
    c(&["-t", T, "-s", "{srv}", "-q", "xclient"]).differs("Without any XCLIENT attribute"),
    // swaks v20201014 prints nothing for a word that is no section and exits 0.
    c(&["-t", T, "-s", "{srv}", "--dump", "CONNECTION"]).differs(DUMP_SECTION),
    c(&["-t", T, "-s", "{srv}", "--dump", "TLS,BOGUS"]).differs(DUMP_SECTION),
    c(&["-t", T, "-s", "{srv}", "-dab", "BOGUS"]).differs(DUMP_SECTION),
    // swaks ignores an XCLIENT modifier with no attribute to modify and delivers the message.
    c(&["-t", T, "-s", "{srv}", "--xclient-optional"]).differs(XCLIENT_MODIFIER),
    c(&["-t", T, "-s", "{srv}", "--xclient-delim"]).differs(XCLIENT_MODIFIER),
    // swaks sends no PROXY header for a version alone, and reads no CA file without TLS.
    c(&["-t", T, "-s", "{srv}", "--proxy-version", "1"]).differs("reads a version alone"),
    c(&["-t", T, "-s", "{srv}", "--tls-ca-path", "{dir}/none.pem"])
        .differs("swaks ignores it without TLS and delivers the message in"),
];

/// Everything a run left behind.
#[derive(Debug)]
struct Outcome {
    code: i32,
    commands: Vec<String>,
    message: Option<String>,
    /// What the tool printed (stdout, then stderr); not compared by the table, whose tools
    /// word their transcripts differently.
    output: String,
}

impl PartialEq for Outcome {
    fn eq(&self, other: &Outcome) -> bool {
        (self.code, &self.commands, &self.message) == (other.code, &other.commands, &other.message)
    }
}

struct Recorder(Arc<Mutex<Vec<Event>>>);

impl Renderer for Recorder {
    fn event(&mut self, event: &Event, _elapsed: Duration) {
        if matches!(
            event,
            Event::ClientCommand { .. }
                | Event::MessageStored { .. }
                | Event::Connected { .. }
                | Event::Closed { .. }
        ) {
            self.0.lock().unwrap().push(event.clone());
        }
    }
}

fn server_options(case: &Case) -> ServeOptions {
    let mut o = ServeOptions {
        listen: case.listen.unwrap_or("127.0.0.1:0").parse().unwrap(),
        faults: case.faults.iter().map(|s| s.to_string()).collect(),
        delays: case.delays.iter().map(|s| s.to_string()).collect(),
        hide: match case.srv {
            Srv::Size => Vec::new(),
            Srv::No8bit => vec!["SIZE".into(), "8BITMIME".into()],
            _ => vec!["SIZE".into()],
        },
        hostname: "compat.test".into(),
        format: Format::Human(HumanOptions {
            silent: 3,
            ..HumanOptions::default()
        }),
        ..ServeOptions::default()
    };
    match case.srv {
        Srv::Plain | Srv::Size | Srv::No8bit => {}
        Srv::Auth => o.users = vec![("user".into(), "secret".into())],
        Srv::StartTls => {
            o.starttls = true;
            o.users = vec![("user".into(), "secret".into())];
        }
        Srv::TlsOnConnect => {
            o.tls_on_connect = true;
            o.users = vec![("user".into(), "secret".into())];
        }
        Srv::Lmtp => o.lmtp = true,
        Srv::Proxy | Srv::Xclient(_) => unreachable!("served by swaks_peer"),
    }
    o
}

/// The server a case runs against: `ehlo serve` with a recorder, or the `swaks_peer` peer.
enum Server {
    Serve(ehlo::serve::ServerHandle, Arc<Mutex<Vec<Event>>>),
    Peer(crate::swaks_peer::Running),
}

impl Server {
    fn start(rt: &tokio::runtime::Runtime, case: &Case) -> Server {
        let peer = match case.srv {
            Srv::Proxy => crate::swaks_peer::Peer::Proxy,
            Srv::Xclient(attrs) => crate::swaks_peer::Peer::Xclient(attrs),
            _ => {
                let events = Arc::new(Mutex::new(Vec::new()));
                let handle = rt
                    .block_on(ehlo::serve::start_with(
                        server_options(case),
                        Box::new(Recorder(events.clone())),
                    ))
                    .unwrap_or_else(|e| {
                        panic!("start the recording server on {:?}: {e}", case.listen)
                    });
                return Server::Serve(handle, events);
            }
        };
        Server::Peer(crate::swaks_peer::start(peer))
    }

    fn addr(&self) -> String {
        match self {
            Server::Serve(h, _) => h.addr().to_string(),
            Server::Peer(p) => p.addr.to_string(),
        }
    }

    /// After the tool exited: the commands the server received and the message it stored.
    fn finish(self, rt: &tokio::runtime::Runtime) -> (Vec<String>, Option<String>) {
        let (handle, events) = match self {
            Server::Peer(p) => {
                let rec = p.finish();
                let message = rec
                    .message
                    .map(|m| normalise_message(&String::from_utf8_lossy(&m)));
                return (rec.commands, message);
            }
            Server::Serve(h, e) => (h, e),
        };
        // The tool has exited, but the server may not have read its last bytes yet (a
        // --drop-after-send client closes right after writing): stopping the server now would
        // cut those sessions short and lose their last command. Wait until every session the
        // server opened has ended by itself (bounded), then stop it.
        let settle = Instant::now();
        while settle.elapsed() < Duration::from_secs(10) {
            let (opened, closed) =
                events
                    .lock()
                    .unwrap()
                    .iter()
                    .fold((0, 0), |(o, c), e| match e {
                        Event::Connected { .. } => (o + 1, c),
                        Event::Closed { .. } => (o, c + 1),
                        _ => (o, c),
                    });
            // No session at all: either the tool never connected (a usage error) or the server
            // has not accepted yet; give the accept a moment before taking the first answer.
            if opened == closed && (opened > 0 || settle.elapsed() > Duration::from_millis(300)) {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        rt.block_on(handle.shutdown());
        let events = std::mem::take(&mut *events.lock().unwrap());
        let mut commands = Vec::new();
        let mut message = None;
        for e in events {
            match e {
                Event::ClientCommand { text, .. } => commands.push(text),
                Event::MessageStored { content, .. } => {
                    message = Some(normalise_message(&String::from_utf8_lossy(&content.0)));
                }
                _ => {}
            }
        }
        (commands, message)
    }
}

/// Run one tool (`program` with `args`) against a fresh server for `case`.
fn run(
    rt: &tokio::runtime::Runtime,
    case: &Case,
    program: &Path,
    args: &[String],
    home: &Path,
) -> Outcome {
    let server = Server::start(rt, case);
    let srv = server.addr();
    let host = case
        .listen
        .and_then(|l| l.rsplit_once(':'))
        .map_or("127.0.0.1", |(h, _)| h);
    let port = srv.rsplit_once(':').map_or("", |(_, p)| p);
    let fill = |a: &str| {
        a.replace("{srv}", &srv)
            .replace("{host}", host)
            .replace("{port}", port)
    };
    let args: Vec<String> = args.iter().map(|a| fill(a)).collect();
    let mut cmd = Command::new(program);
    crate::util::isolate(&mut cmd);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("SWAKS_") {
            cmd.env_remove(k);
        }
    }
    // `{dir}` in a variable is the directory of the test files (HOME's parent).
    let dir = home.parent().and_then(Path::to_str).unwrap_or_default();
    for (k, v) in case.env {
        cmd.env(k, fill(v).replace("{dir}", dir));
    }
    let out = tempfile::tempfile().unwrap();
    let err = tempfile::tempfile().unwrap();
    cmd.args(&args)
        .env("HOME", home)
        .env("LOGNAME", "tester")
        .env("USER", "tester")
        .env("NO_COLOR", "1")
        .env("TZ", "UTC")
        .stdin(if case.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(out.try_clone().unwrap())
        .stderr(err.try_clone().unwrap());
    let mut child = cmd.spawn().expect("spawn");
    if let Some(input) = case.stdin {
        use std::io::Write;
        let mut sin = child.stdin.take().unwrap();
        sin.write_all(input.as_bytes()).unwrap();
    }
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > Duration::from_secs(40) {
            let _ = child.kill();
            panic!("{} {args:?} did not finish in 40 s", program.display());
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let (commands, message) = server.finish(rt);
    let mut output = String::new();
    for mut f in [out, err] {
        use std::io::{Read, Seek};
        f.rewind().unwrap();
        let mut b = Vec::new();
        f.read_to_end(&mut b).unwrap();
        output += &String::from_utf8_lossy(&b);
    }
    Outcome {
        code: status.code().unwrap_or(-1),
        commands,
        message,
        output,
    }
}

/// Drop what legitimately differs between two runs (the clock, the process id, the mailer's
/// name and MIME boundaries).
fn normalise_message(text: &str) -> String {
    let mut out = Vec::new();
    let mut boundaries: Vec<String> = Vec::new();
    for line in text.split("\r\n") {
        if let Some(i) = line.find("boundary=\"") {
            let b = &line[i + 10..];
            if let Some(end) = b.find('"') {
                boundaries.push(b[..end].to_string());
            }
        }
    }
    for line in text.split("\r\n") {
        let lower = line.to_ascii_lowercase();
        if lower.starts_with("date:")
            || lower.starts_with("message-id:")
            || lower.starts_with("x-mailer:")
            || lower.starts_with("subject: test ")
        {
            out.push(format!("{}: *", &line[..line.find(':').unwrap_or(0)]));
            continue;
        }
        let mut l = line.to_string();
        for (n, b) in boundaries.iter().enumerate() {
            l = l.replace(b, &format!("BOUNDARY{n}"));
        }
        out.push(l);
    }
    // swaks ends its default template with two more empty lines than ehlo (README).
    out.join("\r\n").trim_end_matches("\r\n").to_string()
}

/// How many rows of [`CASES`] run at once.
const ROW_THREADS: usize = 6;

#[test]
#[ignore = "runs the real swaks, a peer: tests/interop/run.sh runs it"]
fn swaks_command_lines_do_the_same_in_ehlo() {
    let swaks = which("swaks").expect(
        "swaks is not installed: tests/interop/setup.sh --install-only installs it (it is not optional)",
    );
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir(&home).unwrap();
    std::fs::write(
        dir.path().join("body.txt"),
        "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("data.txt"),
        "Subject: from a file\n\nfile body\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("att.csv"), "a,b\n1,2\n").unwrap();
    std::fs::write(dir.path().join("to.rc"), "to file@example.net\n").unwrap();
    std::fs::write(
        dir.path().join("raw.eml"),
        "Subject: raw file\r\n\r\n..dot\nbare LF\r\n.\r\n",
    )
    .unwrap();
    let d = dir.path().to_str().unwrap().to_string();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let ehlo_bin = Path::new(env!("CARGO_BIN_EXE_ehlo"));
    let readme = include_str!("../../README.md");
    let differences = readme
        .split("## How it differs from swaks")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("README has a \"How it differs from swaks\" section")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    // The rows run on several threads at once: most of a row's time is waiting (perl starting,
    // a --timeout or a server delay running out, the settle wait after a tool that never
    // connected), and each row has a server of its own (a free port, or a `listen` address no
    // other row uses); swaks and ehlo still run one after the other within a row, as a fixed
    // `listen` address is theirs in turn. The outcomes are compared in CASES order below.
    let next = std::sync::atomic::AtomicUsize::new(0);
    let outcomes: Vec<Mutex<Option<(Outcome, Outcome)>>> =
        CASES.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..ROW_THREADS {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(case) = CASES.get(i) else { break };
                    let args: Vec<String> =
                        case.args.iter().map(|a| a.replace("{dir}", &d)).collect();
                    let theirs = run(&rt, case, &swaks, &args, &home);
                    let mut mine_args = args;
                    mine_args.extend(case.ehlo_extra.iter().map(|s| s.to_string()));
                    let ours = run(&rt, case, ehlo_bin, &mine_args, &home);
                    *outcomes[i].lock().unwrap() = Some((theirs, ours));
                }
            });
        }
    });
    let mut failures = Vec::new();
    for (case, outcome) in CASES.iter().zip(outcomes) {
        let (theirs, ours) = outcome.into_inner().unwrap().expect("every row was run");
        for flag in case.ehlo_extra {
            assert!(
                differences.contains(&format!("`{flag}`"))
                    || differences.contains(&format!("(`{flag}`)")),
                "{flag}: the README's \"How it differs from swaks\" does not mention it"
            );
        }
        if let Some(words) = case.differs {
            assert!(
                differences.contains(words),
                "the README's \"How it differs from swaks\" does not say {words:?}"
            );
            if theirs == ours {
                failures.push(format!(
                    "swaks {}\n  is marked as differing ({words:?}) but now does the same: {ours:?}",
                    case.args.join(" ")
                ));
            }
            continue;
        }
        if theirs != ours {
            let mut why = format!("swaks {}", case.args.join(" "));
            if theirs.code != ours.code {
                why += &format!("\n  exit: swaks {} ehlo {}", theirs.code, ours.code);
            }
            if theirs.commands != ours.commands {
                why += &format!(
                    "\n  commands: swaks {:?}\n            ehlo  {:?}",
                    theirs.commands, ours.commands
                );
            }
            if theirs.code != ours.code {
                why += &format!(
                    "\n  swaks printed:\n{}\n  ehlo printed:\n{}",
                    theirs.output, ours.output
                );
            }
            if theirs.message != ours.message {
                why += &format!(
                    "\n  message: swaks {:?}\n           ehlo  {:?}",
                    theirs.message, ours.message
                );
            }
            failures.push(why);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} swaks command lines differ:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

fn which(name: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
}

/// CRAM-SHA1 (no real peer on this machine offers it): swaks and ehlo answer the same challenge
/// from a scripted server with the same bytes.
#[test]
#[ignore = "runs the real swaks, a peer: tests/interop/run.sh runs it"]
fn cram_sha1_answers_like_swaks() {
    use crate::util::{Step, scripted};
    let swaks = which("swaks").expect("swaks is not installed (tests/interop/setup.sh)");
    let answer = |program: &Path, extra: &[&str]| {
        let srv = scripted(vec![
            Step::Send(b"220 compat.test ESMTP\r\n"),
            Step::Expect("EHLO"),
            Step::Send(b"250-compat.test\r\n250 AUTH CRAM-SHA1\r\n"),
            Step::Expect("AUTH CRAM-SHA1"),
            // base64 of <1896.697170952@postoffice.reston.mci.net> (RFC 2195's challenge).
            Step::Send(b"334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n"),
            Step::Line,
            Step::Send(b"235 2.7.0 ok\r\n"),
            Step::Expect("QUIT"),
            Step::Send(b"221 bye\r\n"),
        ]);
        let server = srv.addr.to_string();
        let mut cmd = Command::new(program);
        crate::util::isolate(&mut cmd);
        cmd.args([
            "-s",
            &server,
            "-a",
            "CRAM-SHA1",
            "-au",
            "tim",
            "-ap",
            "tanstaaftanstaaf",
            "-q",
            "auth",
        ])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        let status = cmd.status().expect("run");
        let got = srv.finish();
        assert_eq!(status.code(), Some(0), "{}: {got}", program.display());
        got.lines()
            .skip_while(|l| !l.starts_with("AUTH CRAM-SHA1"))
            .nth(1)
            .expect("an answer to the challenge")
            .to_string()
    };
    let theirs = answer(&swaks, &[]);
    let ours = answer(
        Path::new(env!("CARGO_BIN_EXE_ehlo")),
        &["--allow-plaintext-auth"],
    );
    // base64("tim " + hex(HMAC-SHA1("tanstaaftanstaaf", challenge))).
    assert_eq!(
        theirs,
        "dGltIDhjYjEwZWQwYThiNzY0YWIwZTA1MTI1ZGQ2ZWFhMjk1ZjE5YjU5NDM="
    );
    assert_eq!(ours, theirs);
}

/// `--pipeline -q rcpt`: swaks v20201014 writes MAIL and both RCPTs before reading a reply, and
/// so must ehlo (it used to send them one at a time once a stop point came before DATA). The
/// scripted server answers nothing until it has read all three lines, so a client waiting
/// for MAIL's reply times out instead of ending with exit 0.
#[test]
#[ignore = "runs the real swaks, a peer: tests/interop/run.sh runs it"]
fn pipeline_with_a_stop_at_rcpt_pipelines_like_swaks() {
    use crate::util::{Step, scripted};
    let swaks = which("swaks").expect("swaks is not installed (tests/interop/setup.sh)");
    let run = |program: &Path| {
        let srv = scripted(vec![
            Step::Send(b"220 compat.test ESMTP\r\n"),
            Step::Expect("EHLO"),
            Step::Send(b"250-compat.test\r\n250 PIPELINING\r\n"),
            Step::Line,
            Step::Line,
            Step::Line,
            Step::Send(b"250 2.1.0 ok\r\n250 2.1.5 ok\r\n250 2.1.5 ok\r\n"),
            Step::Line,
            Step::Send(b"221 bye\r\n"),
        ]);
        let server = srv.addr.to_string();
        let mut cmd = Command::new(program);
        crate::util::isolate(&mut cmd);
        cmd.args(["-s", &server, "-f", "a@x.test", "-t", "b@x.test,c@x.test"])
            .args(["--pipeline", "-q", "rcpt", "--timeout", "3"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let status = cmd.status().expect("run");
        (status.code(), srv.finish())
    };
    let (code, theirs) = run(&swaks);
    let mail = "MAIL FROM:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nRCPT TO:<c@x.test>\r\nQUIT\r\n";
    assert_eq!(code, Some(0), "swaks: {theirs}");
    assert!(theirs.ends_with(mail), "swaks: {theirs}");
    let (code, ours) = run(Path::new(env!("CARGO_BIN_EXE_ehlo")));
    assert_eq!(code, Some(0), "ehlo: {ours}");
    assert!(ours.ends_with(mail), "ehlo: {ours}");
}

/// `-a` (no list) with the empty user `-au '<>'` against a server offering CRAM-MD5, PLAIN and
/// LOGIN: swaks v20201014 answers CRAM-MD5 with an empty name (` digest`); so does ehlo (it
/// used to skip CRAM-MD5 for want of a user name and send PLAIN). Both run against the same
/// scripted server and must send the same mechanism and the same answer.
#[test]
#[ignore = "runs the real swaks, a peer: tests/interop/run.sh runs it"]
fn auth_without_a_list_and_an_empty_user_answers_cram_md5_like_swaks() {
    use crate::util::{Step, scripted};
    let swaks = which("swaks").expect("swaks is not installed (tests/interop/setup.sh)");
    let answer = |program: &Path, extra: &[&str]| {
        let srv = scripted(vec![
            Step::Send(b"220 compat.test ESMTP\r\n"),
            Step::Expect("EHLO"),
            Step::Send(b"250-compat.test\r\n250 AUTH CRAM-MD5 PLAIN LOGIN\r\n"),
            Step::Expect("AUTH CRAM-MD5"),
            // base64 of <1896.697170952@postoffice.reston.mci.net> (RFC 2195's challenge).
            Step::Send(b"334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n"),
            Step::Line,
            Step::Send(b"235 2.7.0 ok\r\n"),
            Step::Expect("QUIT"),
            Step::Send(b"221 bye\r\n"),
        ]);
        let server = srv.addr.to_string();
        let mut cmd = Command::new(program);
        crate::util::isolate(&mut cmd);
        cmd.args([
            "-s",
            &server,
            "-a",
            "-au",
            "<>",
            "-ap",
            "tanstaaftanstaaf",
            "-q",
            "auth",
        ])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        let status = cmd.status().expect("run");
        let got = srv.finish();
        assert_eq!(status.code(), Some(0), "{}: {got}", program.display());
        got.lines()
            .skip_while(|l| !l.starts_with("AUTH CRAM-MD5"))
            .nth(1)
            .expect("an answer to the challenge")
            .to_string()
    };
    let theirs = answer(&swaks, &[]);
    let ours = answer(
        Path::new(env!("CARGO_BIN_EXE_ehlo")),
        &["--allow-plaintext-auth"],
    );
    // base64(" " + hex(HMAC-MD5("tanstaaftanstaaf", challenge))): RFC 2195 §2's digest.
    assert_eq!(theirs, "IGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw");
    assert_eq!(ours, theirs);
}

/// The MIME structure swaks builds for body parts and attachments, and ehlo the same: the
/// media types of the message and of each part, in order (charset, encoding and boundaries
/// differ as the README says). One `--attach-body` alone is a multipart/mixed of one part.
#[test]
#[ignore = "runs the real swaks, a peer: tests/interop/run.sh runs it"]
fn attach_body_makes_the_mime_structure_swaks_makes() {
    let swaks = which("swaks").expect("swaks is not installed (tests/interop/setup.sh)");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("doc.pdf");
    std::fs::write(&file, "%PDF-1.4\n").unwrap();
    let at_file = format!("@{}", file.display());
    // No extension: both tools send it application/octet-stream unless typed.
    let blob = dir.path().join("blob");
    std::fs::write(&blob, "x\n").unwrap();
    let at_blob = format!("@{}", blob.display());
    let structure = |program: &Path, args: &[&str]| {
        let mut cmd = Command::new(program);
        crate::util::isolate(&mut cmd);
        let out = cmd
            .args(["-t", T, "-f", "a@example.net", "-s", "127.0.0.1:9"])
            .args(args)
            .arg("--dump-mail")
            .env("TZ", "UTC")
            .stdin(Stdio::null())
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(0), "{} {args:?}", program.display());
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| {
                let l = l.to_ascii_lowercase();
                let t = l.strip_prefix("content-type: ")?;
                Some(t.split(';').next().unwrap().trim().to_string())
            })
            .collect::<Vec<_>>()
    };
    let cases: [&[&str]; 10] = [
        &["--attach-body", "hello body"],
        &["--attach-type", "text/html", "--attach-body", "<p>hi</p>"],
        &["--attach-body", "one", "--attach-body", "two"],
        &[
            "--attach-body",
            "hello body",
            "--attach-type",
            "application/pdf",
            "--attach",
            &at_file,
        ],
        &[
            "--attach-body",
            "one",
            "--attach-body",
            "two",
            "--attach-type",
            "application/pdf",
            "--attach",
            &at_file,
        ],
        // A `--header Content-Type:` types the first text part of a multipart message.
        &[
            "--header",
            "Content-Type: text/html",
            "--body",
            "<b>hi</b>",
            "--attach-type",
            "application/pdf",
            "--attach",
            &at_file,
        ],
        &[
            "--header",
            "Content-Type: text/html",
            "--attach-body",
            "one",
            "--attach-body",
            "two",
        ],
        // An --attach-body puts the default type back for the options after it.
        &[
            "--attach-type",
            "text/html",
            "--attach-body",
            "<p>one</p>",
            "--attach-body",
            "two",
        ],
        &[
            "--attach-type",
            "text/html",
            "--attach-body",
            "<p>one</p>",
            "--attach",
            &at_blob,
        ],
        &[
            "--attach-type",
            "text/csv",
            "--attach",
            &at_blob,
            "--attach",
            &at_blob,
        ],
    ];
    let ehlo_bin = Path::new(env!("CARGO_BIN_EXE_ehlo"));
    for args in cases {
        let theirs = structure(&swaks, args);
        assert!(!theirs.is_empty(), "{args:?}");
        assert_eq!(structure(ehlo_bin, args), theirs, "{args:?}");
    }
    assert_eq!(
        structure(ehlo_bin, &["--attach-body", "hello body"]),
        ["multipart/mixed", "text/plain"]
    );
}

/// Python's email package reads a `--dump-mail` message and says, for every leaf part, its
/// type, its disposition (`attachment`, `inline` or `-`), its file name with a leading `@`
/// dropped (swaks v20201014 keeps the `@` of `--attach @FILE` in the name, the README says so)
/// and its decoded bytes in hex: what a receiver gets, whatever the encoding.
const MIME_PARTS_PY: &str = r#"
import email, sys
m = email.message_from_bytes(sys.stdin.buffer.read())
def walk(p, depth):
    if p.is_multipart():
        print(depth, p.get_content_type())
        for c in p.get_payload():
            walk(c, depth + 1)
    else:
        d = (p.get("Content-Disposition") or "-").split(";")[0].strip().lower()
        n = (p.get_filename() or "-").lstrip("@")
        print(depth, p.get_content_type(), d, n, (p.get_payload(decode=True) or b"").hex())
walk(m, 0)
"#;

/// The MIME parts of the message `program` dumps for `args`, as [`MIME_PARTS_PY`] lists them.
fn mime_parts(program: &Path, args: &[&str], dir: &Path) -> String {
    let mut cmd = Command::new(program);
    crate::util::isolate(&mut cmd);
    let out = cmd
        .args(["-t", T, "-f", "a@example.net", "-s", "127.0.0.1:9"])
        .args(args)
        .arg("--dump-mail")
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{} {args:?}", program.display());
    // swaks prints an empty line before the message.
    let text = out.stdout.strip_prefix(b"\n").unwrap_or(&out.stdout);
    let mut py = Command::new("python3")
        .args(["-c", MIME_PARTS_PY])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    std::io::Write::write_all(&mut py.stdin.take().unwrap(), text).unwrap();
    let parsed = py.wait_with_output().unwrap();
    assert!(parsed.status.success(), "{args:?}");
    String::from_utf8(parsed.stdout).unwrap()
}

/// What a receiver gets from the `--attach*` options, swaks's and ehlo's messages read by
/// Python's email package: the same parts, types, dispositions, file names and decoded bytes
/// (charset, transfer encoding, `name=`/`Content-Description` and the type guessed from a file's
/// extension differ as the README says, so the files here have none or are typed). A body part
/// of a type that is not text/* (`--attach-type image/png --attach-body …`) is an attachment
/// in swaks; ehlo sent it without a Content-Disposition, to be shown inline.
#[test]
#[ignore = "runs the real swaks, a peer: tests/interop/run.sh runs it"]
fn attach_parts_decode_to_what_swaks_sends() {
    let swaks = which("swaks").expect("swaks is not installed (tests/interop/setup.sh)");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes"), "hello\nworld\n").unwrap();
    std::fs::write(dir.path().join("notes.pdf"), "%PDF-1.4 x\n").unwrap();
    let binary: Vec<u8> = (0..=255u8)
        .rev()
        .chain(b"\r\n.\r\nx\0\r".iter().copied())
        .collect();
    std::fs::write(dir.path().join("blob"), &binary).unwrap();
    let cases: &[&[&str]] = &[
        &["--attach-body", "xx", "--attach-body", "yy"],
        &[
            "--attach-type",
            "image/png",
            "--attach-body",
            "xx",
            "--attach-body",
            "yy",
        ],
        &["--attach-type", "application/pdf", "--attach-body", "@blob"],
        &[
            "--attach-type",
            "text/html",
            "--attach-body",
            "<b>x</b>",
            "--attach",
            "@notes",
        ],
        &["--attach", "@notes"],
        &["--attach", "@blob", "--attach", "@blob"],
        &["--attach-name", "n.png", "--attach", "@blob"],
        &["--attach-name", "", "--attach", "@notes"],
        &["--attach-name", "", "--attach", "@notes.pdf"],
        &[
            "--attach-type",
            "text/plain; charset=utf-8",
            "--attach-body",
            "a\\nb",
        ],
        &["--attach-type", "text/plain", "--attach-body", "a\\nb"],
        &[
            "--attach-type",
            "text/html",
            "--attach-body",
            "a%NEWLINE%b %TO_ADDRESS%",
        ],
        &[
            "--attach-type",
            "image/png",
            "--attach",
            "@blob",
            "--attach-body",
            "b",
        ],
        &["--attach-type", "text/plain", "--attach", "@blob"],
        &[
            "--attach-type",
            " text/plain",
            "--attach-body",
            "a\\nb %TO_ADDRESS%",
        ],
        &["--attach-type", "text/plain ", "--attach-body", "a\\nb"],
        &["--body", "hi", "--attach", "words, not a file"],
        &[
            "--attach-body",
            "one",
            "--attach-body",
            "two",
            "--attach",
            "@notes",
        ],
    ];
    let ehlo_bin = Path::new(env!("CARGO_BIN_EXE_ehlo"));
    for args in cases {
        let theirs = mime_parts(&swaks, args, dir.path());
        assert_eq!(mime_parts(ehlo_bin, args, dir.path()), theirs, "{args:?}");
    }
}

/// A body part whose type is not text/* goes as an attachment, as swaks sends it; a text one
/// without a name has no Content-Disposition (both tools), one named by `--attach-name` is
/// `inline; filename=` (ehlo only, the README says so). ehlo sent the image without a
/// disposition.
#[test]
fn a_body_part_that_is_not_text_is_an_attachment_as_in_swaks() {
    let dir = tempfile::tempdir().unwrap();
    let parts = |args: &[&str]| mime_parts(Path::new(env!("CARGO_BIN_EXE_ehlo")), args, dir.path());
    assert_eq!(
        parts(&[
            "--attach-type",
            "image/png",
            "--attach-body",
            "xx",
            "--attach-body",
            "yy"
        ]),
        "0 multipart/alternative\n1 image/png attachment - 7878\n1 text/plain - - 7979\n"
    );
    assert_eq!(
        parts(&[
            "--attach-type",
            "application/pdf",
            "--attach-name",
            "a.pdf",
            "--attach-body",
            "%PDF"
        ]),
        "0 multipart/mixed\n1 application/pdf attachment a.pdf 25504446\n"
    );
    assert_eq!(
        parts(&[
            "--attach-type",
            "text/html",
            "--attach-name",
            "p.html",
            "--attach-body",
            "<p>"
        ]),
        "0 multipart/mixed\n1 text/html inline p.html 3c703e\n"
    );
}

/// A body part typed `' text/plain'` (a blank before it) is not the `text/plain` swaks writes
/// as given: swaks matches the type as typed (`^text/plain$`, and `^text/` for being text), so
/// it sends the part base64 as an attachment, its `\n` and `%TOKENS%` as written. ehlo trimmed
/// the type and gave the part text/plain's treatment (the `\n` a line break, the tokens
/// replaced, shown inline). Checked with the real swaks: `attach_parts_decode_to_what_swaks_sends`.
#[test]
fn a_body_part_type_with_a_blank_is_not_plain_text_as_in_swaks() {
    let dir = tempfile::tempdir().unwrap();
    let parts = |args: &[&str]| mime_parts(Path::new(env!("CARGO_BIN_EXE_ehlo")), args, dir.path());
    let written: String = b"a\\nb %TO_ADDRESS%"
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        parts(&[
            "--attach-type",
            " text/plain",
            "--attach-body",
            "a\\nb %TO_ADDRESS%"
        ]),
        format!("0 multipart/mixed\n1 text/plain attachment - {written}\n")
    );
}

/// `--header 'Content-Type: text/html'` with `--attach` is the type of the `--body` part, as
/// swaks makes it: ehlo put it in place of the multipart's own Content-Type, so the boundary
/// was lost and a reader showed the whole MIME body as one HTML text.
#[test]
fn a_content_type_header_of_a_multipart_message_types_its_first_text_part() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("doc.pdf");
    std::fs::write(&file, "%PDF-1.4\n").unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ehlo"));
    crate::util::isolate(&mut cmd);
    let out = cmd
        .args(["-t", T, "-f", "a@example.net", "-s", "127.0.0.1:9"])
        .args(["--header", "Content-Type: text/html", "--body", "<b>hi</b>"])
        .args(["--attach-type", "application/pdf", "--attach"])
        .arg(format!("@{}", file.display()))
        .arg("--dump-mail")
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    let types: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("Content-Type: "))
        .map(|t| t.split(';').next().unwrap().trim())
        .collect();
    assert_eq!(
        types,
        ["multipart/mixed", "text/html", "application/pdf"],
        "{text}"
    );
    let html = text.find("<b>hi</b>").expect("the body");
    assert!(text[..html].contains("Content-Type: text/html"), "{text}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("first text part"), "{stderr}");
}

/// An `--attach-type` types the parts after it until the next `--attach-body`, which takes it
/// and puts the default back, as swaks does ("The current MIME type gets reset … between
/// processing body parts and other parts"): ehlo kept it, so a second `--attach-body` went out
/// as text/html where swaks sends text/plain, and an `--attach` after the body part as
/// text/html where swaks sends application/octet-stream. Before an `--attach` it stays for
/// every `--attach` after it, in both.
#[test]
fn attach_type_is_reset_after_each_attach_body_as_in_swaks() {
    let dir = tempfile::tempdir().unwrap();
    let blob = dir.path().join("blob");
    std::fs::write(&blob, "x\n").unwrap();
    let at_blob = format!("@{}", blob.display());
    let types = |args: &[&str]| {
        let mut all = vec!["-t", T, "-f", "a@example.net", "-s", "127.0.0.1:9"];
        all.extend_from_slice(args);
        all.push("--dump-mail");
        let run = crate::util::ehlo(&all);
        assert_eq!(run.code, 0, "{args:?}: {}", run.all());
        run.stdout
            .lines()
            .filter_map(|l| l.strip_prefix("Content-Type: "))
            .map(|t| t.split(';').next().unwrap().trim().to_string())
            .collect::<Vec<_>>()
    };
    let html = ["--attach-type", "text/html", "--attach-body", "<p>one</p>"];
    assert_eq!(
        types(&[&html[..], &["--attach-body", "two"]].concat()),
        ["multipart/alternative", "text/html", "text/plain"]
    );
    assert_eq!(
        types(&[&html[..], &["--attach", &at_blob]].concat()),
        ["multipart/mixed", "text/html", "application/octet-stream"]
    );
    // Before --attach options it stays, as swaks's manual says ("every --attach option which
    // follows it").
    assert_eq!(
        types(&[
            "--attach-type",
            "text/csv",
            "--attach",
            &at_blob,
            "--attach",
            &at_blob
        ]),
        ["multipart/mixed", "text/plain", "text/csv", "text/csv"]
    );
}

/// With `--smtputf8` the message is declared internationalized, and RFC 6532 §3.2 lets its
/// header values be UTF-8: a non-ASCII `--header`/`--add-header` goes out as typed, the bytes
/// swaks sends, where ehlo RFC 2047-encoded it though SMTPUTF8 went with MAIL. Without the flag
/// it is still encoded (the README's swaks difference), so the message needs no SMTPUTF8.
#[test]
fn smtputf8_sends_a_non_ascii_header_as_typed_like_swaks() {
    let headers = [
        "--header",
        "Subject: caf\u{e9}",
        "--add-header",
        "X-Name: Zo\u{eb} <z@example.net>",
    ];
    let dump = |extra: &[&str], data: Option<&str>| {
        let mut all = vec!["-t", T, "-f", "a@example.net", "-s", "127.0.0.1:9"];
        all.extend_from_slice(&headers);
        all.extend_from_slice(extra);
        if let Some(d) = data {
            all.extend_from_slice(&["--data", d]);
        }
        all.push("--dump-mail");
        let run = crate::util::ehlo(&all);
        assert_eq!(run.code, 0, "{extra:?}: {}", run.all());
        run.stdout
    };
    for data in [None, Some("X-A: 1\\nSubject: old\\n\\nbody\\n")] {
        let text = dump(&["--smtputf8"], data);
        assert!(
            text.contains("\r\nSubject: caf\u{e9}\r\n"),
            "{data:?}: {text}"
        );
        assert!(
            text.contains("\r\nX-Name: Zo\u{eb} <z@example.net>\r\n"),
            "{data:?}: {text}"
        );
        assert!(!text.contains("=?utf-8?"), "{data:?}: {text}");
        let text = dump(&[], data);
        assert!(
            text.contains("\r\nSubject: =?utf-8?B?Y2Fmw6k=?=\r\n"),
            "{data:?}: {text}"
        );
    }
}

/// `--body ''` reads one line from stdin as swaks does (the table compares the message); at
/// the end of stdin (`/dev/null`, or stdin closed) swaks asks again for ever, ehlo exits 1 at
/// once, before connecting, and says how to send an empty body.
#[test]
fn an_empty_body_at_the_end_of_stdin_is_refused_never_a_hang() {
    let ehlo_bin = env!("CARGO_BIN_EXE_ehlo");
    let args = ["-t", T, "-s", "127.0.0.1:9", "--body", ""];
    let mut runs = Vec::new();
    let mut null = Command::new(ehlo_bin);
    crate::util::isolate(&mut null);
    null.args(args).stdin(Stdio::null());
    runs.push(("/dev/null", null));
    let mut closed = Command::new("sh");
    crate::util::isolate(&mut closed);
    closed
        .arg("-c")
        .arg("exec \"$0\" \"$@\" <&-")
        .arg(ehlo_bin)
        .args(args)
        .stdin(Stdio::null());
    runs.push(("closed", closed));
    for (what, mut cmd) in runs {
        let start = Instant::now();
        let out = cmd.output().expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{what}: {stderr}");
        assert!(start.elapsed() < Duration::from_secs(10), "{what}");
        assert!(stderr.contains("--body ''"), "{what}: {stderr}");
        assert!(stderr.contains("`--body @/dev/null`"), "{what}: {stderr}");
        // Refused before connecting: no connection attempt to port 9 was reported.
        assert!(
            !String::from_utf8_lossy(&out.stdout).contains("Trying"),
            "{what}"
        );
    }
    // An empty --data is refused too: swaks asks for it and never sends an empty message.
    let run = crate::util::ehlo(&["-t", T, "-s", "127.0.0.1:9", "--data", ""]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(run.stderr.contains("--data ''"), "{}", run.all());
    // The line read is the body, without its line end, and said.
    let run = crate::util::ehlo_with(
        &["-t", T, "--body", "", "--dump-mail"],
        Some(b"first line\r\nsecond\n"),
        Duration::from_secs(30),
    );
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stdout.ends_with("\r\n\r\nfirst line\r\n"),
        "{:?}",
        run.stdout
    );
    assert!(
        run.all().contains("one line read from stdin"),
        "{}",
        run.all()
    );
}

/// `--attach @-` attaches stdin as `--attach -` does, without a file name, as in swaks (which
/// opens `@FILE` with Perl's two-argument open, `-` being stdin there); and stdin is read
/// once, its content given to each of `--body` and `--attach` that names it, as swaks's manual
/// says ("the same content will be attached each time"): ehlo refused such a line (exit 1).
/// `--data` still takes stdin alone.
#[test]
fn attach_at_dash_reads_stdin_without_a_file_name() {
    let run = crate::util::ehlo_with(
        &["-t", T, "--attach", "@-", "--dump-mail"],
        Some(b"hello\n"),
        Duration::from_secs(30),
    );
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(run.stdout.contains("\r\naGVsbG8K\r\n"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("Content-Disposition: attachment\r\nContent-Transfer-Encoding: base64\r\n"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("filename"), "{}", run.stdout);
    let run = crate::util::ehlo_with(
        &[
            "-t",
            T,
            "--body",
            "-",
            "--attach",
            "@-",
            "--attach",
            "-",
            "--dump-mail",
        ],
        Some(b"hello\n"),
        Duration::from_secs(30),
    );
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(
        run.stdout.matches("\r\naGVsbG8K\r\n").count(),
        2,
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("\r\n\r\nhello\r\n"), "{}", run.stdout);
    let run = crate::util::ehlo_with(
        &["-t", T, "--data", "-", "--body", "-", "--dump-mail"],
        Some(b"Subject: s\n\n%BODY%\n"),
        Duration::from_secs(30),
    );
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.stderr
            .contains("--body: stdin can be read only once (also given to --data)"),
        "{}",
        run.all()
    );
}

/// swaks's one-letter names unset with `--no-<letter>` as its long names do; ehlo's own
/// one-letter flags are no swaks names and stay refused, and so is `--no-g` (swaks refuses it).
#[test]
fn no_and_a_swaks_letter_unsets_that_option() {
    let r = crate::util::ehlo(&[
        "--no-config",
        "-t",
        T,
        "-q",
        "rcpt",
        "-S",
        "--no-q",
        "--no-S",
        "--dump-config",
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout
            .contains("# unset: quit-after rcpt (command line) by no-q (command line)\n"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("# unset: silent (command line) by no-S (command line)\n"),
        "{}",
        r.stdout
    );
    for letter in ["k", "g", "V"] {
        let flag = format!("--no-{letter}");
        let r = crate::util::ehlo(&["--no-config", "-t", T, &flag]);
        assert_eq!(r.code, 1, "{flag}: {}", r.all());
        assert!(r.stderr.contains("is none"), "{flag}: {}", r.all());
    }
}

/// The README's words for `--header` replacing a header whatever the case of its name.
const HEADER_CASE: &str = "whatever its case (`--h-subject x`";

/// The README's words for `--dump-mail` printing the message without dot-stuffing.
const DUMP_MAIL_UNSTUFFED: &str =
    "`--dump-mail` prints the message without the transfer's dot-stuffing";

/// `--dump-mail` with a body line that starts with a dot: swaks v20201014 prints it stuffed,
/// ehlo as it is (README), so ehlo's dump fed back with `--data @FILE` stores the same lines.
/// Neither sends anything.
#[test]
#[ignore = "runs the real swaks, a peer: tests/interop/run.sh runs it"]
fn dump_mail_prints_the_message_without_dot_stuffing_unlike_swaks() {
    let swaks = which("swaks").expect("swaks is not installed (tests/interop/setup.sh)");
    let ehlo_bin = Path::new(env!("CARGO_BIN_EXE_ehlo"));
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let readme = include_str!("../../README.md")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        readme.contains(DUMP_MAIL_UNSTUFFED),
        "the README does not say {DUMP_MAIL_UNSTUFFED:?}"
    );
    let case = c(&[]);
    let args: Vec<String> = [
        "-t",
        T,
        "-s",
        "{srv}",
        "--body",
        "first\\n.dot\\n..two",
        "--dump-mail",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let theirs = run(&rt, &case, &swaks, &args, dir.path());
    let ours = run(&rt, &case, ehlo_bin, &args, dir.path());
    for o in [&theirs, &ours] {
        assert_eq!((o.code, o.commands.len()), (0, 0), "{}", o.output);
    }
    assert!(
        theirs.output.contains("\r\nfirst\r\n..dot\r\n...two\r\n"),
        "swaks no longer stuffs its dump: {:?}",
        theirs.output
    );
    assert!(
        ours.output.contains("\r\nfirst\r\n.dot\r\n..two\r\n"),
        "{:?}",
        ours.output
    );
    // Fed back, the dump is the message again: stored with the same lines, not stuffed twice.
    let file = dir.path().join("dump.eml");
    std::fs::write(&file, ours.output.as_bytes()).unwrap();
    let data = format!("@{}", file.display());
    let args: Vec<String> = ["-t", T, "-s", "{srv}", "--data", &data]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let fed = run(&rt, &case, ehlo_bin, &args, dir.path());
    assert_eq!(fed.code, 0, "{}", fed.output);
    let stored = fed.message.expect("a stored message");
    assert!(
        stored.contains("\r\nfirst\r\n.dot\r\n..two") && !stored.contains("..dot"),
        "{stored:?}"
    );
}

/// `-dab` / `-dabsp`: swaks and ehlo send the same commands and a body holding the same sections
/// of settings; the password, and its base64, are in the body only with `-dabsp`.
#[test]
#[ignore = "runs the real swaks, a peer: tests/interop/run.sh runs it"]
fn dump_as_body_sends_the_settings_like_swaks() {
    use base64::Engine;
    let swaks = which("swaks").expect("swaks is not installed (tests/interop/setup.sh)");
    let ehlo_bin = Path::new(env!("CARGO_BIN_EXE_ehlo"));
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let case = c(&[]).srv(Srv::Auth);
    let b64 = |s: &[u8]| base64::engine::general_purpose::STANDARD.encode(s);
    let titles = |m: &str| -> Vec<String> {
        // swaks v20201014 sends the dump with bare LF line ends; ehlo with CRLF (README).
        m.split('\n')
            .map(|l| l.trim_end_matches('\r'))
            .filter(|l| l.ends_with("Info:"))
            .map(str::to_string)
            .collect()
    };
    let base = ["-t", T, "-s", "{srv}", "-au", "user", "-ap", "secret"];
    for (extra, shows, sections) in [
        (&["-a", "PLAIN", "-dab"][..], false, 8),
        (&["-a", "LOGIN", "-dab", "AUTH,tls"][..], false, 2),
        (&["-a", "PLAIN", "-dabsp"][..], true, 8),
        (&["-a", "PLAIN", "--dump-as-body", "-dabsp"][..], true, 8),
    ] {
        let args: Vec<String> = base.iter().chain(extra).map(|s| s.to_string()).collect();
        let theirs = run(&rt, &case, &swaks, &args, dir.path());
        let mut mine_args = args.clone();
        mine_args.push("--allow-plaintext-auth".into());
        let ours = run(&rt, &case, ehlo_bin, &mine_args, dir.path());
        assert_eq!((theirs.code, ours.code), (0, 0), "{args:?}");
        assert_eq!(theirs.commands, ours.commands, "{args:?}");
        let (theirs, ours) = (theirs.message.unwrap(), ours.message.unwrap());
        assert_eq!(
            titles(&ours),
            titles(&theirs),
            "{args:?}\n{ours}\n{theirs:?}"
        );
        assert_eq!(titles(&ours).len(), sections, "{args:?}\n{ours}");
        assert!(ours.contains("\r\nAuthentication Info:\r\n"), "{ours}");
        assert!(
            !ours.replace("\r\n", "").contains('\n'),
            "a bare LF in\n{ours}"
        );
        let secrets = ["secret".to_string(), b64(b"secret"), b64(b"\0user\0secret")];
        if shows {
            assert!(ours.contains("  password       = 'secret'"), "{ours}");
            assert!(theirs.contains("'secret'"), "{theirs}");
        } else {
            for s in &secrets {
                assert!(!ours.contains(s.as_str()), "{args:?}: {s} in\n{ours}");
                assert!(!theirs.contains(s.as_str()), "{args:?}: swaks shows {s}");
            }
            assert!(ours.contains("  password       = '********'"), "{ours}");
        }
    }
}

/// NTLM as swaks sends it (Authen::NTLM: NTLMv1 and the LM response) against the CHALLENGE Exim's
/// `spa` authenticator sends, after its non-base64 "334 NTLM supported": ehlo with
/// `--auth-extra ntlm-version=1` answers with the same two responses.
#[test]
#[ignore = "runs the real swaks, a peer: tests/interop/run.sh runs it"]
fn ntlm_v1_answers_like_swaks() {
    use crate::util::{Step, scripted};
    use base64::Engine;
    let swaks = which("swaks").expect("swaks is not installed (tests/interop/setup.sh)");
    let answer = |program: &Path, extra: &[&str]| {
        let srv = scripted(vec![
            Step::Send(b"220 compat.test ESMTP\r\n"),
            Step::Expect("EHLO"),
            Step::Send(b"250-compat.test\r\n250 AUTH NTLM\r\n"),
            Step::Expect("AUTH NTLM"),
            Step::Send(b"334 NTLM supported\r\n"),
            Step::Line,
            // A CHALLENGE as Exim's spa builds it: no target information, no extended session
            // security, server challenge 624ca2d6422625cd.
            Step::Send(b"334 TlRMTVNTUAACAAAAAAAAAAAoAAABggAAYkyi1kJiJc0AAAAAAAAAAAAAAAAAAAAA\r\n"),
            Step::Line,
            Step::Send(b"235 2.7.0 ok\r\n"),
            Step::Expect("QUIT"),
            Step::Send(b"221 bye\r\n"),
        ]);
        let server = srv.addr.to_string();
        let mut cmd = Command::new(program);
        crate::util::isolate(&mut cmd);
        cmd.args([
            "-s",
            &server,
            "-a",
            "NTLM",
            "-au",
            "tim",
            "-ap",
            "Beeblebrox",
            "-q",
            "auth",
        ])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        let status = cmd.status().expect("run");
        let got = srv.finish();
        assert_eq!(status.code(), Some(0), "{}: {got}", program.display());
        let line = got
            .lines()
            .skip_while(|l| !l.starts_with("AUTH NTLM"))
            .nth(2)
            .expect("an AUTHENTICATE message")
            .to_string();
        let m = base64::engine::general_purpose::STANDARD
            .decode(line.trim())
            .expect("base64");
        assert_eq!(&m[..12], b"NTLMSSP\0\x03\0\0\0", "{line}");
        let field = |at: usize| {
            let len = usize::from(u16::from_le_bytes([m[at], m[at + 1]]));
            let off = u32::from_le_bytes([m[at + 4], m[at + 5], m[at + 6], m[at + 7]]) as usize;
            m[off..off + len].to_vec()
        };
        // The LM and NT responses.
        (field(12), field(20))
    };
    let theirs = answer(&swaks, &[]);
    let ours = answer(
        Path::new(env!("CARGO_BIN_EXE_ehlo")),
        &["--allow-plaintext-auth", "--auth-extra", "ntlm-version=1"],
    );
    assert_eq!(theirs.0.len(), 24);
    assert_eq!(theirs.1.len(), 24);
    assert_eq!(ours, theirs);
}

/// `--no-info-hints`, `--no-send-hints`, `--no-receive-hints` and `--no-hints` (and their short
/// forms) drop the same transcript prefixes in ehlo as in swaks, and keep the lines. Both run
/// against the same server (one recipient refused, so `<**` lines are there too), and against a
/// closed port (so `***` error lines are there); each tool's hints are compared.
#[test]
#[ignore = "runs the real swaks, a peer: tests/interop/run.sh runs it"]
fn hint_options_drop_the_same_prefixes_as_swaks() {
    let swaks = which("swaks").expect("swaks is not installed (tests/interop/setup.sh)");
    let ehlo_bin = Path::new(env!("CARGO_BIN_EXE_ehlo"));
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    const HINTS: [&str; 5] = ["=== ", "*** ", " -> ", "<-  ", "<** "];
    let hints = |out: &str| -> Vec<&'static str> {
        HINTS
            .into_iter()
            .filter(|h| out.lines().any(|l| l.starts_with(h)))
            .collect()
    };
    // A port nobody listens on: both tools fail to connect and say so on `***` lines. (Port 1,
    // tcpmux, is below the ephemeral range, so no test server running beside this one can be
    // given it, as a port freed here could be.)
    let closed = "127.0.0.1:1".to_string();
    let refused = |program: &Path, flags: &[&str]| -> String {
        let mut cmd = Command::new(program);
        crate::util::isolate(&mut cmd);
        let out = cmd
            .args(["-t", T, "-s", &closed])
            .args(flags)
            .env("HOME", dir.path())
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(2), "{}", program.display());
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
    };
    let case = c(&[]).fail(&["rcpt#2=550:5.1.1"]);
    for (flags, dropped) in [
        (&[][..], &[][..]),
        (&["--no-info-hints"], &["=== ", "*** "]),
        (&["-nih"], &["=== ", "*** "]),
        (&["-nsh"], &[" -> "]),
        (&["-nrh"], &["<-  ", "<** "]),
        (&["-nih", "-nsh", "-nrh"], &HINTS),
        // swaks's manual: --no-hints is all three. swaks v20201014 keeps the info hints
        // (fixed in v20240103); ehlo follows the manual (README).
        (&["-nth"], &HINTS),
    ] {
        let nth_v20201014 = flags == ["-nth"];
        let want = |from: &[&'static str]| -> Vec<&'static str> {
            from.iter()
                .copied()
                .filter(|h| !dropped.contains(h))
                .collect()
        };
        let mut args: Vec<String> = ["-t", "a@example.com,b@example.com", "-s", "{srv}"]
            .iter()
            .chain(flags)
            .map(|s| s.to_string())
            .collect();
        let theirs = run(&rt, &case, &swaks, &args, dir.path());
        args.extend(["--explain".to_string(), "none".to_string()]);
        let ours = run(&rt, &case, ehlo_bin, &args, dir.path());
        let session = ["=== ", " -> ", "<-  ", "<** "];
        let in_session = |out: &str| -> Vec<&str> {
            hints(out)
                .into_iter()
                .filter(|h| session.contains(h))
                .collect()
        };
        assert_eq!(
            in_session(&ours.output),
            want(&session),
            "ehlo {flags:?}:\n{}",
            ours.output
        );
        let swaks_session = if nth_v20201014 {
            vec!["=== "]
        } else {
            want(&session)
        };
        assert_eq!(
            in_session(&theirs.output),
            swaks_session,
            "swaks {flags:?}:\n{}",
            theirs.output
        );
        // The lines stay, without their prefix: the connection line and the refused RCPT.
        for out in [&ours.output, &theirs.output] {
            assert!(
                out.lines().any(|l| l
                    .trim_start_matches("=== ")
                    .starts_with("Connected to 127.0.0.1")),
                "{flags:?}:\n{out}"
            );
            assert!(
                out.lines()
                    .any(|l| l.trim_start_matches("<** ").starts_with("550 5.1.1")),
                "{flags:?}:\n{out}"
            );
        }
        // The connection failure: `===` and `***` lines.
        let (ours, theirs) = (refused(ehlo_bin, flags), refused(&swaks, flags));
        let failure = ["=== ", "*** "];
        assert_eq!(hints(&ours), want(&failure), "ehlo {flags:?}:\n{ours}");
        let swaks_failure = if nth_v20201014 {
            failure.to_vec()
        } else {
            want(&failure)
        };
        assert_eq!(hints(&theirs), swaks_failure, "swaks {flags:?}:\n{theirs}");
        // swaks says "Error connecting to"; ehlo says it once, on its result line.
        for (out, says) in [
            (&ours, "Result: failed (exit 2): could not connect to"),
            (&theirs, "Error connecting to"),
        ] {
            assert!(
                out.lines()
                    .any(|l| l.trim_start_matches("*** ").starts_with(says)),
                "{flags:?}:\n{out}"
            );
        }
    }
}

/// swaks's deprecated bare-file form (`--body /path/to/file`, in its quick start): both tools
/// read the file and say that the form is deprecated; ehlo's note names the `@FILE` spelling.
#[test]
#[ignore = "runs the real swaks, a peer: tests/interop/run.sh runs it"]
fn bare_file_arguments_carry_a_deprecation_note_like_swaks() {
    let swaks = which("swaks").expect("swaks is not installed (tests/interop/setup.sh)");
    let ehlo_bin = Path::new(env!("CARGO_BIN_EXE_ehlo"));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("body.txt");
    std::fs::write(&file, "Subject: from a file\n\nfile body\n").unwrap();
    let file = file.to_str().unwrap().to_string();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    for flag in ["--body", "--data"] {
        let args: Vec<String> = ["-t", T, "-s", "{srv}", flag, &file]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let theirs = run(&rt, &c(&[]), &swaks, &args, dir.path());
        let ours = run(&rt, &c(&[]), ehlo_bin, &args, dir.path());
        assert_eq!((theirs.code, ours.code), (0, 0), "{flag}");
        assert_eq!(theirs.message, ours.message, "{flag}");
        assert!(
            ours.message
                .as_deref()
                .unwrap_or_default()
                .contains("file body"),
            "{flag}: {:?}",
            ours.message
        );
        let note = |out: &str| {
            out.lines()
                .filter(|l| l.to_ascii_lowercase().contains("deprecat"))
                .count()
        };
        assert_eq!(note(&theirs.output), 1, "swaks {flag}:\n{}", theirs.output);
        assert_eq!(note(&ours.output), 1, "ehlo {flag}:\n{}", ours.output);
        assert!(
            ours.output.contains(&format!("write {flag} @{file}")),
            "{flag}:\n{}",
            ours.output
        );
    }
}

/// A password or token on the command line is never quoted in a refusal, whichever word holds
/// it: the value after an abbreviated, misspelt or glued secret flag (swaks's Getopt::Long
/// reads `-auth-pass` as `--auth-password`; clap read `-a uth-pass` and quoted the password as
/// a subcommand, or `-apS3cr3t` as `--auth PS3CR3T`).
#[test]
fn a_secret_is_never_quoted_when_the_command_line_is_refused() {
    const SECRET: &str = "S3cr3tPW";
    for args in [
        &["-auth-pass", SECRET, "--nosuch"][..],
        &["-auth-pasword", SECRET],
        &["--auth-pasword=S3cr3tPW"],
        &["-ap", "-S3cr3tPW"],
        &["-apS3cr3tPW"],
        &["--auth-password", "-S3cr3tPW"],
        &["--auth-oauth-token", "-S3cr3tPW"],
        &["-ap", SECRET, "S3cr3tPW"],
        &[
            "--auth-password=S3cr3tPW",
            "--auth-pass",
            SECRET,
            "--nosuch",
        ],
    ] {
        let mut v = vec!["-t", T, "-s", "127.0.0.1:9"];
        v.extend_from_slice(args);
        let r = crate::util::ehlo(&v);
        assert_eq!(r.code, 1, "{args:?}: {}", r.all());
        assert!(!r.all().contains(SECRET), "{args:?}: {}", r.all());
        assert!(!r.all().contains("3cr3t"), "{args:?}: {}", r.all());
    }
}

/// A password that is also part of an option's name (`tls`) is masked where it is the value,
/// not inside `--tls-on-connect`: `--********-on-connect` garbled the refusal and showed where
/// the password's letters were.
#[test]
fn a_short_secret_does_not_garble_the_refusal() {
    let r = crate::util::ehlo(&[
        "-t",
        T,
        "-s",
        "127.0.0.1:9",
        "--tls",
        "--tls-on-connect",
        "-au",
        "u",
        "-ap",
        "tls",
    ]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.all()
            .contains("'--tls' cannot be used with '--tls-on-connect'"),
        "{}",
        r.all()
    );
    assert!(!r.all().contains("********"), "{}", r.all());
}

/// An EHLO_* variable that names no option is said on stderr, one line, and the send goes on
/// (one environment serves every mode). A SWAKS_OPT_* one is refused before anything is sent,
/// as swaks refuses it ("Unknown option: bogus", exit 1): a misspelt `SWAKS_OPT_quit_afer=rcpt`
/// must not turn a recipient check into a delivered message. `SWAKS_OPT_help` and
/// `SWAKS_OPT_version` (swaks prints and sends nothing) are refused too, and
/// `SWAKS_OPT_no_<opt>` unsets the option as `--no-<opt>` does.
#[test]
fn an_ignored_variable_is_named_on_stderr_and_a_swaks_one_is_refused() {
    let r = crate::util::ehlo_env(&["-t", T, "--dump-mail"], &[("EHLO_NOT_AN_OPTION", "1")]);
    assert_eq!(r.code, 0, "{}", r.all());
    let lines = r
        .stderr
        .lines()
        .filter(|l| l.contains("EHLO_NOT_AN_OPTION"))
        .count();
    assert_eq!(lines, 1, "{}", r.stderr);
    for (var, says) in [
        ("SWAKS_OPT_bogus", "'--bogus' is no option of the send"),
        (
            "SWAKS_OPT_quit_afer",
            "'--quit-afer' is no option of the send",
        ),
        (
            "SWAKS_OPT_help",
            "'--help' is taken from the command line only",
        ),
        (
            "SWAKS_OPT_version",
            "'--version' is taken from the command line only",
        ),
        ("SWAKS_OPT_no_bogus", "unknown option '--no-bogus'"),
        (
            "SWAKS_OPT_trigger_deprecation",
            "'--trigger-deprecation' is swaks's --trigger-deprecation, which ehlo does not",
        ),
    ] {
        let r = crate::util::ehlo_env(&["-t", T, "--dump-mail"], &[(var, "")]);
        assert_eq!(r.code, 1, "{var}: {}", r.all());
        assert!(r.stdout.is_empty(), "{var}: {}", r.stdout);
        assert_eq!(r.stderr.lines().count(), 1, "{var}: {}", r.stderr);
        assert!(
            r.stderr.contains(&format!("{var}: {says}")),
            "{var}: {}",
            r.stderr
        );
        assert!(r.stderr.contains("nothing was sent"), "{var}: {}", r.stderr);
    }
    let dir = tempfile::tempdir().unwrap();
    let rc = dir.path().join("rc");
    std::fs::write(&rc, "from file@example.net\n").unwrap();
    let from = |env: &[(&str, &str)]| {
        let rc = rc.to_str().unwrap();
        let r = crate::util::ehlo_env(&["--config", rc, "-t", T, "--dump-mail"], env);
        assert_eq!(r.code, 0, "{env:?}: {}", r.all());
        r.stdout
            .lines()
            .find(|l| l.starts_with("From: "))
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(from(&[]), "From: file@example.net");
    for env in [
        &[("SWAKS_OPT_no_from", "")][..],
        &[
            ("SWAKS_OPT_from", "env@example.net"),
            ("SWAKS_OPT_no_from", ""),
        ],
    ] {
        let f = from(env);
        assert!(
            f.starts_with("From: ") && !f.contains("example.net"),
            "{env:?}: {f}"
        );
    }
    let r = crate::util::ehlo_env(&["-t", T, "--dump-mail"], &[("SWAKS_OPT_no_from", "x")]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr.contains("'--no-from' takes no value"),
        "{}",
        r.stderr
    );
}

/// A swaks word after `-au`/`--auth-user`/`--auth` (flags whose value is optional in the send)
/// is a flag of its own, as swaks's Getopt::Long reads it: `-au -ap` asks for both, and
/// `--auth -stl` shows the time lapse. It was handed to clap unread because `repl` and `probe`
/// have same-named flags that need a value: `-ap` became `--auth P` (refused as an unknown
/// mechanism) and `-stl` became `-s tl`, another server without a word.
#[test]
fn a_swaks_word_after_an_optional_value_flag_is_its_own_flag() {
    let dump = |args: &[&str]| {
        let mut v = vec!["-t", T, "-s", "127.0.0.1:9"];
        v.extend_from_slice(args);
        v.extend_from_slice(&["--dump", "OUTPUT,TRANSPORT,AUTH"]);
        let r = crate::util::ehlo(&v);
        assert_eq!(r.code, 0, "{args:?}: {}", r.all());
        r.stdout
    };
    let has = |out: &str, key: &str, value: &str| {
        out.lines().any(|l| {
            l.split_once('=')
                .is_some_and(|(k, v)| k.trim() == key && v.trim() == value)
        })
    };
    for args in [
        &["-au", "-ap"][..],
        &["--auth-user", "-ap"],
        &["-a", "PLAIN", "-au", "-ap"],
    ] {
        let out = dump(args);
        assert!(has(&out, "username", "''"), "{args:?}: {out}");
        assert!(has(&out, "password", "'********'"), "{args:?}: {out}");
    }
    for args in [
        &["--auth", "-stl"][..],
        &["-au", "-stl"],
        &["--auth-user", "-stl"],
    ] {
        let out = dump(args);
        assert!(has(&out, "server", "127.0.0.1"), "{args:?}: {out}");
        assert!(has(&out, "show_time_lapse", "TRUE"), "{args:?}: {out}");
        assert!(has(&out, "auth", "required"), "{args:?}: {out}");
    }
}

/// The targets and names swaks settles on its own are refused rather than guessed, and
/// `--config=FILE` is read (swaks v20201014 reads no file then): README "How it differs".
#[test]
fn config_equals_file_is_read_and_swaks_silent_defaults_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let rc = dir.path().join("rc");
    std::fs::write(&rc, "from cfg@example.net\n").unwrap();
    let arg = format!("--config={}", rc.display());
    let r = crate::util::ehlo(&["-t", T, &arg, "--dump-mail"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("From: cfg@example.net"), "{}", r.all());

    for (args, why) in [
        (&["-h", ""][..], "--helo: the name is empty"),
        (
            &["--copy-routing", "example.net", "-s", "127.0.0.1:9"],
            "cannot be used with",
        ),
        // The flag given is the one named (it said "--quit-after/--drop-after" for all three).
        (
            &["--das", "proxy", "-s", "127.0.0.1:9"],
            "--drop-after-send PROXY: no PROXY header is configured",
        ),
        (
            &["-q", "proxy", "-s", "127.0.0.1:9"],
            "--quit-after PROXY: no PROXY header is configured",
        ),
    ] {
        let mut v = vec!["-t", T];
        v.extend_from_slice(args);
        let r = crate::util::ehlo(&v);
        assert_eq!(r.code, 1, "{args:?}: {}", r.all());
        assert!(r.all().contains(why), "{args:?}: {}", r.all());
    }
}

/// A server that takes one transaction to two recipients; its script fails unless both RCPTs
/// arrive in this order.
fn two_recipients() -> crate::util::Scripted {
    use crate::util::{Step, after_greet, scripted};
    scripted(after_greet(vec![
        Step::Expect("MAIL FROM:"),
        Step::Send(b"250 2.1.0 Ok\r\n"),
        Step::Expect("RCPT TO:<a@x.test>"),
        Step::Send(b"250 2.1.5 Ok\r\n"),
        Step::Expect("RCPT TO:<b@x.test>"),
        Step::Send(b"250 2.1.5 Ok\r\n"),
        Step::Expect("DATA"),
        Step::Send(b"354 go\r\n"),
        Step::Data,
        Step::Send(b"250 2.0.0 Ok\r\n"),
        Step::Expect("QUIT"),
        Step::Send(b"221 Bye\r\n"),
    ]))
}

/// `-t a -t b` sends to both (ehlo's documented adding up), where swaks's Getopt::Long keeps
/// the last `-t` only: the same command line reaches one more recipient here, so it is said
/// once before connecting, naming every address, as the send's other warnings are (a `!!!`
/// line on stdout, a `warning` event with `--json`). `-t a,b` sends to both in swaks too and
/// is said nothing about.
#[test]
fn a_repeated_recipient_flag_is_said_since_swaks_keeps_the_last() {
    const NOTE: &str = "-t/--to given 2 times: ehlo sends to every one (a@x.test, b@x.test); \
                        swaks would send only to the last";
    for (to, said) in [
        (&["-t", "a@x.test", "-t", "b@x.test"][..], true),
        (&["--to=a@x.test", "-t", "b@x.test"], true),
        (&["-t", "a@x.test,b@x.test"], false),
    ] {
        for json in [false, true] {
            let srv = two_recipients();
            let server = srv.server();
            let mut args = vec!["-s", &server, "-f", "me@x.test", "--timeout", "5"];
            args.extend_from_slice(to);
            if json {
                args.push("--json");
            }
            let r = crate::util::ehlo(&args);
            let got = srv.finish();
            assert_eq!(r.code, 0, "{args:?}: {}", r.all());
            for rcpt in ["RCPT TO:<a@x.test>", "RCPT TO:<b@x.test>"] {
                assert_eq!(got.matches(rcpt).count(), 1, "{args:?}: {got}");
            }
            assert!(!r.stderr.contains("given"), "{args:?}: {}", r.stderr);
            let notes: Vec<String> = if json {
                r.stdout
                    .lines()
                    .map(|line| {
                        serde_json::from_str::<serde_json::Value>(line)
                            .unwrap_or_else(|e| panic!("{args:?}: {e}: {line:?}"))
                    })
                    .filter(|v| v["type"] == "warning")
                    .filter_map(|v| v["data"]["message"].as_str().map(str::to_string))
                    .filter(|m| m.contains("given"))
                    .collect()
            } else {
                r.stdout
                    .lines()
                    .filter(|l| l.contains("given"))
                    .map(str::to_string)
                    .collect()
            };
            let want: Vec<String> = match (said, json) {
                (false, _) => Vec::new(),
                (true, true) => vec![NOTE.to_string()],
                (true, false) => vec![format!("!!! {NOTE}")],
            };
            assert_eq!(notes, want, "{args:?}: {}", r.all());
        }
    }
}

/// The repeated-recipient warning goes where the send's other warnings go: escaped by the
/// renderer (an ESC in an address as `\x1B`, never raw to the terminal), into the
/// `--output-file` that takes the transcript, and not at all under `-S/--silent`. It used to
/// be written straight to stderr, escaped its own way (`\u{1b}`), past both.
#[test]
fn the_repeated_recipient_warning_obeys_the_output_flags() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out");
    let file = file.to_str().unwrap();
    let base = ["-s", "127.0.0.1:9", "-f", "me@x.test", "--timeout", "5"];
    let to = ["-t", "a\u{1b}@x.test", "-t", "b@x.test"];
    let want = "!!! -t/--to given 2 times: ehlo sends to every one (a\\x1B@x.test, b@x.test); \
                swaks would send only to the last";
    let run = |extra: &[&str]| {
        let mut args: Vec<&str> = base.iter().chain(&to).copied().collect();
        args.extend_from_slice(extra);
        crate::util::ehlo(&args)
    };
    let r = run(&[]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(!r.all().contains('\u{1b}'), "{}", r.all());
    let lines: Vec<&str> = r.stdout.lines().filter(|l| l.contains("given")).collect();
    assert_eq!(lines, [want], "{}", r.all());
    assert!(!r.stderr.contains("given"), "{}", r.stderr);

    let r = run(&["--output-file", file]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(!r.all().contains("given"), "{}", r.all());
    let written = std::fs::read_to_string(file).unwrap();
    let lines: Vec<&str> = written.lines().filter(|l| l.contains("given")).collect();
    assert_eq!(lines, [want], "{written}");

    // swaks's -S and -S 2 hide the transcript but still print errors on stderr: the line
    // goes there, so a silent run does not differ from swaks without a word; -S 3 prints
    // nothing at all, errors included.
    for silent in ["1", "2"] {
        let r = run(&["--silent", silent]);
        assert_eq!(r.code, 2, "-S {silent}: {}", r.all());
        assert!(!r.stdout.contains("given"), "-S {silent}: {}", r.all());
        let lines: Vec<&str> = r.stderr.lines().filter(|l| l.contains("given")).collect();
        assert_eq!(lines, [want], "-S {silent}: {}", r.all());
    }
    let r = run(&["--silent", "3"]);
    assert_eq!(r.code, 2, "-S 3: {}", r.all());
    assert!(!r.all().contains("given"), "-S 3: {}", r.all());
}

/// A line saying the run does other than swaks would (a repeated `-t`, a header sent RFC 2047
/// encoded) was hidden by `-S`, as ehlo's other `!!!`/`===` lines are: a CI run with swaks's
/// `-S` got nothing. Under `-S` and `-S 2` it now goes to stderr, where swaks still prints its
/// errors (not counted as one: the transcript stays hidden), with its hint; an info line that
/// is no such difference (`--body is not used …`) stays hidden; `-S 3` prints nothing.
#[test]
fn a_difference_from_swaks_outlives_the_silent_levels_on_stderr() {
    let base = [
        "-s",
        "127.0.0.1:9",
        "-f",
        "me@x.test",
        "--timeout",
        "5",
        "-t",
        "a@x.test",
        "-t",
        "b@x.test",
        "--h-Subject",
        "Gr\u{fc}\u{df}e",
        "--data",
        "Subject: x\n\nno body token",
        "--body",
        "unused",
    ];
    let run = |silent: &str| {
        let mut args = base.to_vec();
        args.extend_from_slice(&["-S", silent]);
        crate::util::ehlo(&args)
    };
    for silent in ["1", "2"] {
        let r = run(silent);
        assert_eq!(r.code, 2, "-S {silent}: {}", r.all());
        assert!(!r.stdout.contains("swaks"), "-S {silent}: {}", r.all());
        let said: Vec<&str> = r.stderr.lines().filter(|l| l.contains("swaks")).collect();
        assert_eq!(said.len(), 2, "-S {silent}: {}", r.stderr);
        assert!(
            said[0].starts_with("!!! -t/--to given 2 times: ehlo sends to every one"),
            "-S {silent}: {}",
            r.stderr
        );
        assert!(
            said[1].starts_with("=== Subject: non-ASCII, so sent RFC 2047 encoded"),
            "-S {silent}: {}",
            r.stderr
        );
        assert!(
            !r.all().contains("--body is not used"),
            "-S {silent}: {}",
            r.all()
        );
        // Not an error: -S 1 does not start the transcript for it.
        assert!(!r.all().contains("Trying"), "-S {silent}: {}", r.all());
    }
    let r = run("3");
    assert_eq!(r.code, 2, "-S 3: {}", r.all());
    assert!(r.all().is_empty(), "-S 3: {}", r.all());
    // Without -S both are on stdout, as before, beside the other info line.
    let r = crate::util::ehlo(&base);
    assert_eq!(r.code, 2, "{}", r.all());
    assert_eq!(r.stdout.matches("swaks").count(), 2, "{}", r.all());
    assert!(r.stdout.contains("--body is not used"), "{}", r.all());
}

/// Two `to` lines in one config file add up too, and the note names the file; a command-line
/// `-t` replaces the file's recipients (as in swaks), so nothing is repeated and nothing said.
#[test]
fn a_recipient_repeated_in_the_config_file_is_said_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config");
    std::fs::write(&file, "to a@x.test\nto b@x.test\nfrom me@x.test\n").unwrap();
    let file = file.to_str().unwrap();
    let srv = two_recipients();
    let server = srv.server();
    let r = crate::util::ehlo(&["--config", file, "-s", &server, "--timeout", "5"]);
    let got = srv.finish();
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(got.contains("RCPT TO:<b@x.test>"), "{got}");
    let note = format!(
        "!!! to given 2 times in the config file {file}: ehlo sends to every one \
         (a@x.test, b@x.test); swaks would send only to the last"
    );
    assert!(!r.stderr.contains("given"), "{}", r.stderr);
    assert_eq!(
        r.stdout
            .lines()
            .filter(|l| l.contains("given"))
            .collect::<Vec<_>>(),
        [note.as_str()],
        "{}",
        r.stdout
    );
    let r = crate::util::ehlo(&["--config", file, "-t", "z@x.test", "--dump-config"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(!r.stderr.contains("given"), "{}", r.stderr);
}

/// A one-letter word that is no short flag of the send is read as swaks's Getopt::Long reads
/// it, a prefix of a long name (`-v` prints the version in swaks, `-e NAME` is `--ehlo NAME`),
/// or refused in one line (`-b`: --bcc, --bdat or --body), never with clap's usage block; and
/// a flag left without its value says so without an empty list of values.
#[test]
fn a_one_letter_word_is_a_long_name_prefix_as_in_swaks() {
    let v = crate::util::ehlo(&["-v"]);
    assert_eq!(v.code, 0, "{}", v.all());
    assert_eq!(v.stdout, crate::util::ehlo(&["--version"]).stdout);
    let e = crate::util::ehlo(&[
        "-e",
        "client.test",
        "-t",
        T,
        "-s",
        "127.0.0.1:9",
        "--dump",
        "PROTOCOL",
    ]);
    assert_eq!(e.code, 0, "{}", e.all());
    assert!(
        e.stdout.lines().any(|l| l
            .split_once('=')
            .is_some_and(|(k, v)| k.trim() == "helo" && v.trim() == "client.test")),
        "{}",
        e.stdout
    );
    for (word, says) in [
        (
            "-b",
            "option '-b' is ambiguous (it could be --bcc, --bdat, --body)",
        ),
        ("-z", "unknown option '-z'"),
        ("-1", "unknown option '-1'"),
    ] {
        let r = crate::util::ehlo(&[word, "x", "-t", T, "-s", "127.0.0.1:9"]);
        assert_eq!(r.code, 1, "{word}: {}", r.all());
        assert_eq!(r.stderr.lines().count(), 1, "{word}: {}", r.stderr);
        assert!(r.stderr.contains(says), "{word}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{word}: {}", r.stdout);
    }
    // Inside a subcommand swaks's reading does not apply.
    let r = crate::util::ehlo(&["serve", "-v"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr.contains("unknown option '-v' for 'ehlo serve'"),
        "{}",
        r.stderr
    );
    for flag in ["-f", "--helo", "-s"] {
        let r = crate::util::ehlo(&["-t", T, flag]);
        assert_eq!(r.code, 1, "{flag}: {}", r.all());
        assert!(
            r.stderr.contains("needs a value; nothing was sent"),
            "{flag}: {}",
            r.stderr
        );
        assert!(
            !r.stderr.contains("possible values"),
            "{flag}: {}",
            r.stderr
        );
    }
}

/// swaks writes `--dump` and `--dump-mail` into the `--output-file` (`-stdout`) it is given;
/// ehlo printed them on the terminal and left the file alone. Now each dump, `--dump-config` and `--json` too, goes to that file and
/// nothing to stdout; the secret stays masked there.
#[test]
fn dumps_go_to_the_output_file_as_in_swaks() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out");
    let f = file.to_str().unwrap();
    let base = [
        "-t",
        "a@x.test",
        "-s",
        "127.0.0.1:9",
        "-au",
        "u",
        "-ap",
        "dump-secret-9",
    ];
    for (extra, want) in [
        (&["--dump-mail", "--output-file", f][..], "To: a@x.test"),
        (&["--dump-mail", "--output-file-stdout", f], "To: a@x.test"),
        (
            &["--dump", "AUTH", "--output-file", f],
            "username       = 'u'",
        ),
        (&["--dump-config", "--output-file-stdout", f], "auth-user u"),
        (
            &["--dump-mail", "--json", "--output-file", f],
            "\"what\":\"mail\"",
        ),
    ] {
        std::fs::write(&file, "stale\n").unwrap();
        let args: Vec<&str> = base.iter().chain(extra).copied().collect();
        let r = crate::util::ehlo(&args);
        assert_eq!(r.code, 0, "{extra:?}: {}", r.all());
        assert!(r.stdout.is_empty(), "{extra:?}: {}", r.stdout);
        let written = std::fs::read_to_string(&file).unwrap();
        assert!(written.contains(want), "{extra:?}: {written}");
        // Appended, as swaks appends to its output file.
        assert!(written.starts_with("stale\n"), "{extra:?}: {written}");
        assert!(!written.contains("dump-secret-9"), "{extra:?}: {written}");
    }
    // --output-file-stderr alone leaves the dump on stdout.
    let args: Vec<&str> = base
        .iter()
        .chain(&["--dump-mail", "--output-file-stderr", f])
        .copied()
        .collect();
    let r = crate::util::ehlo(&args);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("To: a@x.test"), "{}", r.stdout);
}

/// A value refused while the flags are read (clap's: a bad `--timeout`, a bad `--dump` section,
/// an unknown flag) goes into the `--output-file*` named too, as swaks writes "Unknown timeout
/// format" there; it went to the terminal and left the file as it was. `--output-file-stdout`
/// alone leaves the `***` line on the terminal.
#[test]
fn a_flag_refused_while_the_flags_are_read_is_written_to_the_output_file_as_in_swaks() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("err");
    let f = file.to_str().unwrap();
    let inline = format!("--output-file={f}");
    let other = dir.path().join("elsewhere");
    let other = other.to_str().unwrap();
    let cases: [(&[&str], &str); 4] = [
        (&["--timeout", "bogus", "--output-file", f], "--timeout"),
        (
            &["--dump-as-body=FOO", "--output-file-stderr", f],
            "--dump-as-body",
        ),
        (&[&inline, "--no-such-flag"], "--no-such-flag"),
        (
            &[
                "--output-file",
                other,
                "--output-file-stderr",
                f,
                "--timeout",
                "x",
            ],
            "--timeout",
        ),
    ];
    for (extra, named) in cases {
        let _ = std::fs::remove_file(&file);
        let mut args = vec!["-t", "a@x.test", "-s", "127.0.0.1:9"];
        args.extend_from_slice(extra);
        let r = crate::util::ehlo(&args);
        assert_eq!(r.code, 1, "{extra:?}: {}", r.all());
        assert!(r.all().is_empty(), "{extra:?}: {}", r.all());
        let written = std::fs::read_to_string(&file).unwrap_or_default();
        assert!(
            written.starts_with("*** ") && written.contains(named) && written.lines().count() == 1,
            "{extra:?}: {written:?}"
        );
    }
    let _ = std::fs::remove_file(&file);
    let r = crate::util::ehlo(&[
        "-t",
        "a@x.test",
        "--timeout",
        "bogus",
        "--output-file-stdout",
        f,
    ]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("--timeout"), "{}", r.all());
    assert_eq!(std::fs::read_to_string(&file).unwrap_or_default(), "");
}

/// A value refused once the flags are parsed goes, as its `***` line, into the
/// `--output-file-stderr` (or `--output-file`) named, as swaks writes "Unknown auth-map format"
/// there; ehlo wrote it on the terminal only and left the file as it was.
#[test]
fn a_refused_value_is_written_to_the_output_file_as_in_swaks() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("err");
    let f = file.to_str().unwrap();
    for flag in ["--output-file-stderr", "--output-file"] {
        let _ = std::fs::remove_file(&file);
        let args = [
            "-t",
            "a@x.test",
            "-s",
            "127.0.0.1:9",
            "--auth-map",
            "bogus",
            flag,
            f,
        ];
        let r = crate::util::ehlo(&args);
        assert_eq!(r.code, 1, "{flag}: {}", r.all());
        assert!(r.all().is_empty(), "{flag}: {}", r.all());
        let written = std::fs::read_to_string(&file).unwrap();
        assert_eq!(
            written, "*** --auth-map: 'bogus' is not ALIAS=TYPE (e.g. --auth-map SPA=NTLM)\n",
            "{flag}"
        );
    }
}

/// An output file named by a lower layer (`SWAKS_OPT_output_file_stderr`, `EHLO_OUTPUT_FILE`, a
/// config file's `output-file-stderr` line) gets a mistake found before the layers were merged
/// (a value clap refuses on the command line, a bad value in the file), as swaks writes
/// "Unknown timeout format 'zz'" into the file its environment or config file named; ehlo
/// wrote it on the terminal and left the file alone. The command line's own file still wins.
#[test]
fn an_output_file_from_the_environment_or_the_config_file_gets_the_refusal() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let file = dir.path().join("err");
    let f = file.to_str().unwrap();
    let rc = dir.path().join("rc");
    let rc_bad = dir.path().join("rc-bad");
    std::fs::write(&rc, format!("output-file-stderr {f}\n")).unwrap();
    std::fs::write(&rc_bad, format!("output-file-stderr {f}\ntimeout zz\n")).unwrap();
    let (rc, rc_bad) = (rc.to_str().unwrap(), rc_bad.to_str().unwrap());
    let refusal = "*** invalid value 'zz' for --timeout: 'zz' is not a duration (N, Ns, Nm or Nh)";
    let base = ["-t", "a@x.test", "-s", "127.0.0.1:9"];
    /// Command-line words, environment, words the file's line holds.
    type Row<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
    let cases: [Row; 5] = [
        (
            &["--timeout", "zz"],
            &[("SWAKS_OPT_output_file_stderr", f)],
            refusal,
        ),
        (&["--timeout", "zz"], &[("EHLO_OUTPUT_FILE", f)], refusal),
        (&["--config", rc, "--timeout", "zz"], &[], refusal),
        (
            &[],
            &[("SWAKS_OPT_config", rc), ("SWAKS_OPT_timeout", "zz")],
            "SWAKS_OPT_timeout",
        ),
        (&["--config", rc_bad], &[], "zz"),
    ];
    for (args, env, said) in cases {
        let _ = std::fs::remove_file(&file);
        let mut env = env.to_vec();
        env.extend([("HOME", d), ("XDG_CONFIG_HOME", d)]);
        let all: Vec<&str> = base.iter().chain(args).copied().collect();
        let r = crate::util::ehlo_env(&all, &env);
        let what = format!("{args:?} {env:?}");
        assert_eq!(r.code, 1, "{what}: {}", r.all());
        assert!(r.all().is_empty(), "{what}: {}", r.all());
        let written = std::fs::read_to_string(&file).unwrap_or_default();
        assert!(
            written.starts_with("*** ") && written.contains(said),
            "{what}: {written}"
        );
    }
    // The command line's file wins over the environment's.
    let _ = std::fs::remove_file(&file);
    let mine = dir.path().join("mine");
    let all = [
        &base[..],
        &[
            "--timeout",
            "zz",
            "--output-file-stderr",
            mine.to_str().unwrap(),
        ],
    ]
    .concat();
    let r = crate::util::ehlo_env(
        &all,
        &[
            ("SWAKS_OPT_output_file_stderr", f),
            ("HOME", d),
            ("XDG_CONFIG_HOME", d),
        ],
    );
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(std::fs::read_to_string(&mine).unwrap().contains(refusal));
    assert!(!file.exists());
}

/// `--to`, `--cc` or `--bcc` given a value with no address in it: swaks asks for one (and, in a
/// pipe, sends to the next line of stdin); ehlo dropped it and sent to the other recipients, or
/// before RCPT to none. Now refused before connecting, in one line, exit 1.
#[test]
fn a_recipient_flag_that_names_no_address_is_refused_before_connecting() {
    let trap = crate::util::tripwire();
    let server = trap.local_addr().unwrap().to_string();
    for (extra, said) in [
        (
            &["-t", "a@example.net", "--cc", ""][..],
            "--cc '' names no address",
        ),
        (
            &["-t", "a@example.net", "--bcc", " "][..],
            "--bcc ' ' names no address",
        ),
        (
            &["-t", "a@example.net", "-t", ""][..],
            "--to '' names no address",
        ),
        (&["--to", "", "-q", "ehlo"][..], "--to '' names no address"),
    ] {
        let mut args = vec!["-s", &server];
        args.extend_from_slice(extra);
        let run = crate::util::ehlo(&args);
        assert_eq!(run.code, 1, "{extra:?}: {}", run.all());
        let lines: Vec<&str> = run.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{extra:?}: {}", run.stderr);
        assert!(
            lines[0].starts_with(&format!("*** {said}")),
            "{extra:?}: {}",
            run.stderr
        );
        assert!(run.stdout.is_empty(), "{extra:?}: {}", run.stdout);
    }
    assert!(trap.accept().is_err(), "a connection was made");
}

/// A non-ASCII `--to`/`--from` goes into the default `To:`/`From:` as typed, as swaks writes
/// them (`To: jürgen@exämple.test,b@c.test`): it came out as `To: <jürgen@exämple.test>,
/// <b@c.test>`, rewritten by the encoder though an address has nothing to encode. A display
/// name still is encoded without --smtputf8.
#[test]
fn a_non_ascii_address_goes_into_to_and_from_as_typed_like_swaks() {
    let to = "j\u{fc}rgen@ex\u{e4}mple.test";
    let from = "\u{e4}@b.test";
    for extra in [&[][..], &["--smtputf8"]] {
        for tos in [
            &["-t", to][..],
            &["-t", &format!("{to},b@c.test")],
            &["-t", to, "-t", "b@c.test"],
        ] {
            let mut args = vec!["-f", from, "-s", "127.0.0.1:9", "--dump-mail"];
            args.extend_from_slice(tos);
            args.extend_from_slice(extra);
            let run = crate::util::ehlo(&args);
            assert_eq!(run.code, 0, "{args:?}: {}", run.all());
            let want_to = if tos.len() == 2 {
                tos[1].to_string()
            } else {
                format!("{to},b@c.test")
            };
            assert!(
                run.stdout.contains(&format!("\r\nTo: {want_to}\r\n")),
                "{args:?}: {}",
                run.stdout
            );
            assert!(
                run.stdout.contains(&format!("\r\nFrom: {from}\r\n")),
                "{args:?}: {}",
                run.stdout
            );
        }
    }
    let run = crate::util::ehlo(&[
        "-t",
        to,
        "-s",
        "127.0.0.1:9",
        "--header",
        "Cc: Zo\u{eb} <z@x.test>",
        "--dump-mail",
    ]);
    assert!(
        run.stdout
            .contains("\r\nCc: =?utf-8?B?Wm/Dqw==?= <z@x.test>\r\n"),
        "{}",
        run.stdout
    );
}

/// `--auth-optional-strict` (and `--auth-optional`) with no user name or password and no
/// terminal: swaks asks `Username: ` and `Password: ` anyway and reads the answers from stdin
/// (a pipe's lines; at its end, `/dev/null`, empty ones) and authenticates with them. ehlo
/// refused the run (exit 1, "stdin is not a terminal") or skipped AUTH; it reads them too now.
#[test]
fn auth_optional_without_credentials_reads_them_from_stdin_like_swaks() {
    use crate::util::{Step, scripted, send_args};
    for flag in ["--auth-optional-strict", "--auth-optional"] {
        // A pipe with the two lines: AUTH PLAIN with them (\0bob\0secret), then the mail.
        let srv = scripted(vec![
            Step::Send(b"220 x ESMTP\r\n"),
            Step::Expect("EHLO"),
            Step::Send(b"250-x\r\n250 AUTH PLAIN\r\n"),
            Step::Expect("AUTH PLAIN AGJvYgBzZWNyZXQ="),
            Step::Send(b"235 2.7.0 ok\r\n"),
            Step::Expect("MAIL FROM"),
            Step::Send(b"250 ok\r\n"),
            Step::Expect("QUIT"),
            Step::Send(b"221 bye\r\n"),
        ]);
        let mut args = send_args(&srv.server());
        args.extend([flag, "PLAIN", "--allow-plaintext-auth", "-q", "mail"].map(String::from));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = crate::util::ehlo_with(&refs, Some(b"bob\r\nsecret\n"), Duration::from_secs(30));
        srv.finish();
        assert_eq!(run.code, 0, "{flag}: {}", run.all());
        assert!(!run.all().contains("secret"), "{flag}: {}", run.all());
        // An empty stdin: empty answers, sent as swaks sends them (AAA= is \0\0), refused.
        let mut steps = vec![
            Step::Send(b"220 x ESMTP\r\n"),
            Step::Expect("EHLO"),
            Step::Send(b"250-x\r\n250 AUTH PLAIN\r\n"),
            Step::Expect("AUTH PLAIN AAA="),
            Step::Send(b"535 5.7.8 no\r\n"),
        ];
        if flag == "--auth-optional" {
            steps.extend([Step::Expect("MAIL FROM"), Step::Send(b"250 ok\r\n")]);
        }
        steps.extend([Step::Expect("QUIT"), Step::Send(b"221 bye\r\n")]);
        let srv = scripted(steps);
        let mut args = send_args(&srv.server());
        args.extend([flag, "PLAIN", "--allow-plaintext-auth", "-q", "mail"].map(String::from));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = crate::util::ehlo_with(&refs, Some(b""), Duration::from_secs(30));
        srv.finish();
        let want = if flag == "--auth-optional" { 0 } else { 28 };
        assert_eq!(run.code, want, "{flag}: {}", run.all());
        // A stdin that carries the message (`--data -`) is the message's: swaks reads it first
        // and its prompts meet the end of stdin, so the answers are empty (AAA=); ehlo took the
        // message's first two lines as user and password, and the message lost them.
        let mut steps = vec![
            Step::Send(b"220 x ESMTP\r\n"),
            Step::Expect("EHLO"),
            Step::Send(b"250-x\r\n250 AUTH PLAIN\r\n"),
            Step::Expect("AUTH PLAIN AAA="),
            Step::Send(b"535 5.7.8 no\r\n"),
        ];
        if flag == "--auth-optional" {
            steps.extend([
                Step::Expect("MAIL FROM"),
                Step::Send(b"250 ok\r\n"),
                Step::Expect("RCPT TO"),
                Step::Send(b"250 ok\r\n"),
                Step::Expect("DATA"),
                Step::Send(b"354 go\r\n"),
                Step::Expect("Subject: bob"),
                Step::Expect(""),
                Step::Expect("secret"),
                Step::Expect("."),
                Step::Send(b"250 queued\r\n"),
            ]);
        }
        steps.extend([Step::Expect("QUIT"), Step::Send(b"221 bye\r\n")]);
        let srv = scripted(steps);
        let mut args = send_args(&srv.server());
        args.extend([flag, "PLAIN", "--allow-plaintext-auth", "--data", "-"].map(String::from));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = crate::util::ehlo_with(
            &refs,
            Some(b"Subject: bob\r\n\r\nsecret\r\n"),
            Duration::from_secs(30),
        );
        srv.finish();
        assert_eq!(run.code, want, "{flag} --data -: {}", run.all());
        assert!(
            run.all().contains("stdin carries the message: empty ones"),
            "{flag} --data -: {}",
            run.all()
        );
    }
}

/// `--server` with a list (`a:1,b:2`) or a name DNS cannot be asked about (an `xn--` label that
/// is no A-label, RFC 5891 §5.4) is refused in one line before any lookup, exit 1, as `--to
/// a@xn--a` is; from `EHLO_SERVER` the refusal names the variable. They went to DNS (exit 2,
/// "no such host") or were refused as "not HOST:PORT; write IPv6 addresses as [ADDR]:PORT".
#[test]
fn a_server_list_or_a_bad_a_label_is_refused_before_any_lookup() {
    let limit = Duration::from_secs(30);
    for (server, says) in [
        ("a.test:1,b.test:2", "is a list: one HOST[:PORT] a value"),
        ("a.test,b.test", "is a list: one HOST[:PORT] a value"),
        ("xn--a.test", "RFC 5891 §5.4"),
        ("mx.xn--zz.test:2525", "RFC 5891 §5.4"),
        ("mx..test", "empty label"),
    ] {
        let run = crate::util::ehlo_with(&["-t", "a@b.test", "--server", server], None, limit);
        assert_eq!(run.code, 1, "{server}: {}", run.all());
        assert!(run.stderr.contains(says), "{server}: {}", run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "{server}: {}", run.stderr);
        let run = crate::util::ehlo_with_env(
            &["-t", "a@b.test"],
            &[("EHLO_SERVER", server)],
            None,
            limit,
        );
        assert_eq!(run.code, 1, "EHLO_SERVER={server}: {}", run.all());
        assert!(
            run.stderr.contains("EHLO_SERVER") && run.stderr.contains(says),
            "EHLO_SERVER={server}: {}",
            run.stderr
        );
    }
    // An IDN that converts, and an address, are still taken (port 1: nothing listens).
    for server in ["bücher.test:1", "127.0.0.1:1"] {
        let run = crate::util::ehlo_with(
            &["-t", "a@b.test", "--server", server, "--timeout", "5s"],
            None,
            limit,
        );
        assert_eq!(run.code, 2, "{server}: {}", run.all());
    }
}

/// The default `To:` header and `%TO_ADDRESS%` carry the `-t` text as typed, as swaks writes
/// them (swaks v20201014 against a recording server: `-t 'a@x.test, b@x.test'` sent
/// `To: a@x.test, b@x.test`); the envelope still has each address trimmed. It was rewritten
/// `To: a@x.test,b@x.test`, other bytes than swaks's for the same command line.
#[test]
fn to_header_and_token_keep_the_to_text_as_typed_like_swaks() {
    let dump = |to: &[&str]| {
        let mut all = vec!["-f", "s@x.test", "-s", "127.0.0.1:9"];
        for t in to {
            all.extend_from_slice(&["-t", t]);
        }
        all.extend_from_slice(&["--body", "to=%TO_ADDRESS%", "--dump-mail"]);
        let run = crate::util::ehlo(&all);
        assert_eq!(run.code, 0, "{to:?}: {}", run.all());
        run.stdout
    };
    for (to, want) in [
        (&["a@x.test, b@x.test"][..], "a@x.test, b@x.test"),
        (&["a@x.test,b@x.test"][..], "a@x.test,b@x.test"),
        (&["a@x.test ,  b@x.test"][..], "a@x.test ,  b@x.test"),
        // Two -t (swaks keeps the last; ehlo sends to both and says so): each as typed.
        (
            &["a@x.test", "b@x.test, c@x.test"][..],
            "a@x.test,b@x.test, c@x.test",
        ),
    ] {
        let text = dump(to);
        assert!(
            text.contains(&format!("\r\nTo: {want}\r\n")),
            "{to:?}: {text}"
        );
        assert!(
            text.contains(&format!("\r\nto={want}\r\n")),
            "{to:?}: {text}"
        );
    }
    // A line break trimmed off an address for the envelope must not start a header of its own.
    let text = dump(&["a@x.test,\nb@x.test"]);
    assert!(text.contains("\r\nTo: a@x.test,b@x.test\r\n"), "{text}");
}

/// swaks (v20240103, which has `--cc`/`--bcc`) writes `Cc: %CC_ADDRESS%` and fills
/// `%CC_ADDRESS%`/`%BCC_ADDRESS%` with the option's text as typed, as it does `--to`'s; ehlo
/// rewrote `--cc 'c@x.test, d@x.test'` as `c@x.test,d@x.test`. Now the rule of `-t`: the text
/// as typed (several joined by `,`), the envelope split and trimmed, a line break never
/// reaching a header.
#[test]
fn cc_and_bcc_keep_their_text_as_typed_like_swaks() {
    let dump = |cc: &str, bcc: &str| {
        let run = crate::util::ehlo(&[
            "-f",
            "s@x.test",
            "-s",
            "127.0.0.1:9",
            "-t",
            "a@x.test",
            "--cc",
            cc,
            "--bcc",
            bcc,
            "--body",
            "cc=%CC_ADDRESS% bcc=%BCC_ADDRESS%",
            "--dump-mail",
        ]);
        assert_eq!(run.code, 0, "{cc:?} {bcc:?}: {}", run.all());
        run.stdout
    };
    for (cc, bcc) in [
        ("c@x.test, d@x.test", "e@x.test ,  f@x.test"),
        ("c@x.test,d@x.test", "e@x.test"),
    ] {
        let text = dump(cc, bcc);
        assert!(
            text.contains(&format!("\r\nCc: {cc}\r\n")),
            "{cc:?}: {text}"
        );
        assert!(
            text.contains(&format!("\r\ncc={cc} bcc={bcc}\r\n")),
            "{cc:?} {bcc:?}: {text}"
        );
        assert!(!text.contains("Bcc:"), "{text}");
    }
    let text = dump("c@x.test,\nd@x.test", "e@x.test");
    assert!(text.contains("\r\nCc: c@x.test,d@x.test\r\n"), "{text}");
}

/// `--attach @f.csv` goes as text/csv (its name's type) where swaks v20201014 sends every
/// `--attach` without `--attach-type` as application/octet-stream, base64: the run says so,
/// also under `-S` (on stderr), naming the flag that sends swaks's part; an explicit
/// `--attach-type`, or a name without a known type, is swaks's and says nothing. It was
/// silent.
#[test]
fn a_guessed_attachment_type_is_said_since_swaks_sends_octet_stream() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("f.csv");
    std::fs::write(&csv, "a,b\n1,2\n").unwrap();
    let bin = dir.path().join("f.unknownext");
    std::fs::write(&bin, "x").unwrap();
    let at = |p: &Path| format!("@{}", p.display());
    let (csv_at, bin_at) = (at(&csv), at(&bin));
    let run = |extra: &[&str]| {
        let mut all = vec![
            "-t",
            T,
            "-f",
            "s@x.test",
            "-s",
            "127.0.0.1:9",
            "--dump-mail",
        ];
        all.extend_from_slice(extra);
        let r = crate::util::ehlo(&all);
        assert_eq!(r.code, 0, "{extra:?}: {}", r.all());
        r
    };
    let want = format!(
        "=== --attach {csv_at}: sent as text/csv, the type its name ends in; swaks sends \
         application/octet-stream, base64 (--attach-type application/octet-stream sends it so)"
    );
    let r = run(&["--attach", &csv_at]);
    assert!(r.stdout.contains("Content-Type: text/csv"), "{}", r.all());
    assert!(r.all().lines().any(|l| l == want), "{}", r.all());
    let r = run(&["--attach", &csv_at, "-S"]);
    assert!(r.stderr.lines().any(|l| l == want), "{}", r.all());
    for quiet in [
        &[
            "--attach-type",
            "application/octet-stream",
            "--attach",
            &csv_at,
        ][..],
        &["--attach-type", "text/csv", "--attach", &csv_at][..],
        &["--attach", &bin_at][..],
    ] {
        let r = run(quiet);
        assert!(!r.all().contains("swaks"), "{quiet:?}: {}", r.all());
    }
    let r = run(&[
        "--attach-type",
        "application/octet-stream",
        "--attach",
        &csv_at,
    ]);
    assert!(
        r.stdout.contains("Content-Type: application/octet-stream"),
        "{}",
        r.all()
    );
}

/// `--auth` without a list against a server offering PLAIN, LOGIN and CRAM-MD5 tries
/// CRAM-MD5, then LOGIN, then PLAIN, the order swaks v20201014 tries them in (seen against
/// `ehlo serve` with a wrong password); ehlo tried PLAIN before LOGIN.
#[test]
fn auth_without_a_list_tries_login_before_plain_like_swaks() {
    use crate::util::{Step, scripted};
    let srv = scripted(vec![
        Step::Send(b"220 compat.test ESMTP\r\n"),
        Step::Expect("EHLO"),
        Step::Send(b"250-compat.test\r\n250 AUTH PLAIN LOGIN CRAM-MD5\r\n"),
        Step::Expect("AUTH CRAM-MD5"),
        Step::Send(b"334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n"),
        Step::Line,
        Step::Send(b"535 5.7.8 no\r\n"),
        Step::Expect("AUTH LOGIN"),
        Step::Send(b"334 VXNlcm5hbWU6\r\n"),
        Step::Line,
        Step::Send(b"334 UGFzc3dvcmQ6\r\n"),
        Step::Line,
        Step::Send(b"535 5.7.8 no\r\n"),
        Step::Expect("AUTH PLAIN"),
        Step::Send(b"535 5.7.8 no\r\n"),
        Step::Expect("QUIT"),
        Step::Send(b"221 bye\r\n"),
    ]);
    let server = srv.addr.to_string();
    let r = crate::util::ehlo(&[
        "-s",
        &server,
        "-f",
        "s@x.test",
        "-t",
        T,
        "-a",
        "-au",
        "user",
        "-ap",
        "wrong",
        "--allow-plaintext-auth",
        "--timeout",
        "5",
    ]);
    let got = srv.finish();
    assert_eq!(r.code, 28, "{}\n{got}", r.all());
    let tried: Vec<&str> = got
        .lines()
        .filter_map(|l| l.strip_prefix("AUTH "))
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    assert_eq!(tried, ["CRAM-MD5", "LOGIN", "PLAIN"], "{got}");
}

/// `--auth-hide-password TEXT` (`-ahp TEXT`): swaks shows the base64 of TEXT in place of the
/// password; ehlo masks every secret of the exchange with `********` and used to drop TEXT
/// without a word. The run says so (also under `-S`, on stderr), never quoting TEXT (it may
/// be a password typed in the wrong place); `-ahp` without a text, which hides the password
/// in both, says nothing.
#[test]
fn auth_hide_password_text_is_said_since_swaks_shows_it() {
    use crate::util::{Step, scripted};
    let run = |extra: &[&str]| {
        let srv = scripted(vec![
            Step::Send(b"220 compat.test ESMTP\r\n"),
            Step::Expect("EHLO"),
            Step::Send(b"250-compat.test\r\n250 AUTH LOGIN\r\n"),
            Step::Expect("AUTH LOGIN"),
            Step::Send(b"334 VXNlcm5hbWU6\r\n"),
            Step::Line,
            Step::Send(b"334 UGFzc3dvcmQ6\r\n"),
            Step::Line,
            Step::Send(b"235 2.7.0 ok\r\n"),
            Step::Expect("QUIT"),
            Step::Send(b"221 bye\r\n"),
        ]);
        let server = srv.addr.to_string();
        let mut all = vec![
            "-s",
            &server,
            "-a",
            "LOGIN",
            "-au",
            "user",
            "-ap",
            "s3cret-pw",
            "--allow-plaintext-auth",
            "-q",
            "auth",
            "--timeout",
            "5",
        ];
        all.extend_from_slice(extra);
        let r = crate::util::ehlo(&all);
        let got = srv.finish();
        assert_eq!(r.code, 0, "{extra:?}: {}\n{got}", r.all());
        assert!(!r.all().contains("s3cret-pw"), "{}", r.all());
        r
    };
    let want = "=== --auth-hide-password: its text is not shown: ehlo shows each secret of the \
                AUTH exchange as ******** (swaks shows the base64 of that text in place of the \
                password)";
    let r = run(&["-ahp", "HIDDEN-TEXT"]);
    assert!(r.stdout.lines().any(|l| l == want), "{}", r.all());
    assert!(!r.all().contains("HIDDEN-TEXT"), "{}", r.all());
    let r = run(&["-ahp", "HIDDEN-TEXT", "-S"]);
    assert!(r.stderr.lines().any(|l| l == want), "{}", r.all());
    let r = run(&["-ahp"]);
    assert!(!r.all().contains("swaks"), "{}", r.all());
}

/// An XCLIENT stop point without any XCLIENT attribute is refused naming the flag and the
/// stop point given, and saying what swaks would do instead (it ignores the stop point and
/// delivers the message), so the refusal is not taken for a bug: README "How it differs".
#[test]
fn xclient_stop_point_without_attributes_names_flag_and_swaks_behaviour() {
    for (args, head) in [
        (
            &["-q", "xclient"][..],
            "--quit-after XCLIENT: no XCLIENT attributes given",
        ),
        (
            &["--drop-after", "xclient-helo"][..],
            "--drop-after XCLIENT-HELO: no XCLIENT attributes given",
        ),
        (
            &["--das", "xclient"][..],
            "--drop-after-send XCLIENT: no XCLIENT attributes given",
        ),
    ] {
        let mut v = vec!["-t", T, "-s", "127.0.0.1:9"];
        v.extend_from_slice(args);
        let r = crate::util::ehlo(&v);
        assert_eq!(r.code, 1, "{args:?}: {}", r.all());
        let line = r.all();
        assert!(line.contains(head), "{args:?}: {line}");
        assert!(
            line.contains("swaks would ignore the stop point and send the whole message"),
            "{args:?}: {line}"
        );
        assert!(line.contains("nothing was sent"), "{args:?}: {line}");
        assert_eq!(line.trim_end().lines().count(), 1, "{args:?}: {line}");
    }
}

/// An XCLIENT modifier with no attribute is refused naming the flag given (it named all five
/// modifiers whichever was given) and saying that swaks would ignore it: README "How it
/// differs".
#[test]
fn xclient_modifier_without_attributes_names_the_flag_given() {
    for flag in [
        "--xclient-optional",
        "--xclient-optional-strict",
        "--xclient-before-starttls",
        "--xclient-no-verify",
        "--xclient-delim",
    ] {
        let r = crate::util::ehlo(&["-t", T, "-s", "127.0.0.1:9", flag]);
        assert_eq!(r.code, 1, "{flag}: {}", r.all());
        let line = r.all();
        assert!(
            line.contains(&format!("*** {flag}: no XCLIENT attributes given")),
            "{flag}: {line}"
        );
        assert!(
            line.contains("swaks would ignore it and send the message"),
            "{flag}: {line}"
        );
        assert_eq!(line.trim_end().lines().count(), 1, "{flag}: {line}");
    }
}
