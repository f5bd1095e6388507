//! The JSON Lines renderer (`--json`): one JSON object per line on stdout, one line per event.
//! This module documentation is the format's specification; changing the format means changing
//! it here and bumping [`SCHEMA_VERSION`] for incompatible changes.
//!
//! # Format
//!
//! Every line is an object with three members:
//!
//! * `type`: the kind of line (a string, listed below);
//! * `data`: an object whose members depend on `type`;
//! * `t_ms`: milliseconds since the run started, a number with up to microsecond precision
//!   (absent only on the `schema` line).
//!
//! The first line is always `schema`, and when the run reaches its end the last line is
//! `summary`. That holds too for a run refused before it starts, once the flags are parsed
//! (an unreadable `--data @FILE` or `--attach`, `--requiretls` without TLS, AUTH with no
//! password, a bad PROXY value, a bad config file or `EHLO_*` variable with `--json` on the
//! command line, an unwritable `--output-file` or `--log`, an unreadable replay script): the
//! `schema` line (then the command line's `warning`s, see below) and a `summary` whose
//! `exit_code` is the run's (1; 35 for PROXY), `outcome`
//! its label (`usage`, `proxy`) and `error` the reason, also written to stderr as
//! `*** reason`; `server` is null and `recipients` empty. So does a command line whose flags
//! cannot be parsed (an unknown flag, a bad or missing value, two that conflict): `--json` is
//! then read word by word (anywhere before a `--`, the last of `--json`/`--no-json` winning),
//! the reason is one `*** ` line on stderr and the summary's `outcome` is `usage` (exit 1).
//! Only `--help` and `--version` alone write no JSON (exit 0); `--version` with `--json` prints
//! its line. Consumers must ignore members and `type`s they do not know: new ones may be added
//! without a version bump. A member that some lines named otherwise than the rest (a socket
//! address `addr`, a note's `text`) is written under the common name too, with the same value
//! (`address`, `message`); the first name is kept for compatibility. Nothing written here is secret: AUTH payloads are masked before they
//! become events (`redacted` says when).
//!
//! ## Wire format
//!
//! Byte payloads (raw reply bytes, raw reads and writes) are objects with exactly one member:
//! `{"text": "…"}` when the bytes are valid UTF-8, `{"bytes": "<base64>"}` (standard alphabet,
//! padded) otherwise. Phases are one of `dns`, `connect`, `proxy`, `banner`, `helo`, `start_tls`
//! (STARTTLS and the TLS handshake, the implicit TLS one of `--tls-on-connect` included),
//! `helo_after_tls`, `xclient`, `helo_after_xclient`, `auth`, `mail`, `rcpt`, `data`, `dot`,
//! `quit`, `other`. Optional members are present with `null` when they have no value, except
//! those that only apply to some runs, which are then absent: `dns_answer`'s `proof` (answers
//! validated), TLS info's `dane` (TLSA records) and its verdict's `only` (one part enforced)
//! and `waived` (not enforced because no TLSA record is usable, `--tls-verify dane`), a DANE
//! evidence's `error`, a recipient's `data_code`, `data_enhanced` and `data_text`
//! (one reply per recipient after the content), the summary's `failover` (a send that met
//! failures on its way to a server), and `connected`'s `proxy` (`ehlo serve --accept-proxy`).
//!
//! | `type` | `data` members |
//! |---|---|
//! | `schema` | `version` (integer, currently 1), `tool` (`"ehlo"`), `tool_version` (string) |
//! | `info`, `warning`, `error` | `message` (string); `ehlo serve`'s lines dropped while stdout was not read are a `warning` (`N lines (B bytes) of the JSON Lines were dropped: …`, where the records resume: `render::behind`); in every mode, the first lines after `schema` are a `warning` for each thing said on stderr about the command line before the run (`EHLO_TMEOUT is ignored: it names no option of any mode (did you mean EHLO_TIMEOUT?)`, an `EHLO_*` variable of another mode, an `SSL_CERT_FILE` naming no file) |
//! | `dump` | (`--dump-mail`, `--dump`, `--dump-config`, `--support` under `--json`, which send nothing) `what` (`mail`, `settings`, `config`, `support`), `text` (what is printed without `--json`; a message's bytes that are not UTF-8 as U+FFFD); the run's only event between `schema` and `summary` (exit 0), after the command line's `warning`s and `info` notes about the message |
//! | `note` | (`ehlo repl`, `ehlo replay`) `text`, and the same as `message` (the name `info`, `warning`, `error` and the check format's `note` use; `text` kept for compatibility): what the session shows its user as it is (`:help`, `:caps`, notices; replay's result line, `replay: 4 steps, every reply as recorded`; the line a signal or replay's `--deadline` ends the run with, `*** SIGTERM: leaving`, whose reason the summary's `error` gives too) |
//! | `replay_mismatch` | (`ehlo replay`) `line` (of the script's input; 0 for the banner), `command`, `expected` (array of strings: `"250"`, `"25x 2.1.5"`), `got` (array of strings, codes with the enhanced code when one was expected; `"a line without a reply code"` for a line that had none), `reply` (the first differing reply, a reply object as `received` carries it, or null), `phase` (or null when the server had closed), `exit_code` |
//! | `dns_query` | `name`, `rtype`: `MX`; `A/AAAA` for one lookup of a host's addresses (both families, or the one `-4`/`-6` leaves: the value names the lookup, each record is an address of either family); `TLSA` with DANE |
//! | `dns_answer` | `name`, `rtype`, `records` (array of strings: `"10 mx.example.net"` for MX (no trailing dot) in the order they are tried — by preference, equal preferences shuffled —, addresses for A/AAAA), `proof` (`secure`/`insecure`/`bogus`/`indeterminate`, only with `--dnssec validate` or `trust-ad`) |
//! | `dns_failed` | `name`, `rtype` (`A/AAAA`, `MX` or `TLSA`), `reason` (in words: `… does not exist (NXDOMAIN)`, `… has no A/AAAA address`, SERVFAIL, timeout, a bogus answer): a host's address lookup failed and the host is left out, the domain's MX lookup failed and there is no host to try, or (`--tls-verify dane`) a host's TLSA lookup failed and the host is left out, RFC 7672 §2.2 (after its `dns_query`, instead of a `dns_answer`) |
//! | `tls_policy` | (`--tls-verify dane`) `host`, `policy` (`dane`: its TLSA records authenticate the server; `encrypt`: its secure TLSA RRset has no usable record, so TLS is mandatory but unauthenticated, RFC 7672 §3.1.3, and `verify.waived` says why it was not enforced; `pkix`: the CA store and name do), `tls_required` (bool: a secure TLSA RRset makes TLS mandatory), `reason` (the TLSA owner and its DNSSEC proof, in words) |
//! | `connecting` | `host`, `addr` (socket address being tried), `address` (the same: the name the summary's `failover` and `listening` use; `addr` kept for compatibility) |
//! | `connected` | `host`, `peer`, `local` (socket addresses), `proxy` (`ehlo serve --accept-proxy` only, the PROXY header read: `version`, `via` the proxy's address, `named` whether it named the client, whose address `host`/`peer`/`local` then are) |
//! | `connect_failed` | `host`, `addr`, `address` (the same as `addr`, as in `connecting`), `reason` (in words), `cause` (its kind: `refused`, `network_unreachable`, `host_unreachable`, `address_unavailable`, `permission_denied`, `timed_out` (also the connect timeout), `local_address` (`--local-interface` could not be resolved or bound), `other`), `os_error` (the OS error number, or null for a timeout or a failure of ehlo's own) |
//! | `sent` | `text` (as displayed, secrets masked, commands without CRLF; empty for `kind: body` under `-n`/`--suppress-data`; a byte that is not UTF-8, in a message or `:raw` bytes, as `\xNN` as in a reply's `lines`, the exact bytes in `raw_sent`), `kind` (`command`, `body`, `auth`, `raw`, `proxy`), `bytes` (count on the wire; for a write with a secret masked, `redacted: true`, the length of the shown text with its CRLF instead, so the count never tells the secret's length), `lines` (how many lines: a count, where a reply's `lines` is the array of them), `tls`, `expected` (bool: part of the planned flow), `redacted` (bool), `phase`; a `text` longer than 64 KiB (a message goes out as one write) is its first 64 KiB, cut on a character boundary, and `cut` (only then) says how many bytes of it were left out |
//! | `received` | `reply` (see below), `tls`, `expected` (bool: the code the step wanted), `phase`, `explanation` (see below) |
//! | `raw_sent`, `raw_received` | (`--show-raw-text`) `bytes` (byte payload): each write, secrets masked as in `sent`, the message content as it went out (`-n` too), and each read; of a write longer than 64 KiB the first 64 KiB (text cut on a character boundary), and `cut` (only then): how many bytes were left out |
//! | `deviation` | `deviation` (see below), `phase` |
//! | `tls_started` | `info` (see below); each peer certificate out of its dates, or with fewer than 14 days left, is then a `warning` (`TLS peer[0] certificate expired 3 days ago`, the transcript's `!!!` line) |
//! | `listening` | (`ehlo serve`) `address`: the socket address bound (the real port when `--listen` asked for port 0); the first line after `schema` and the command line's `warning`s |
//! | `tls_accepted` | (`ehlo serve`) `info`: `version`, `cipher`, `bits`, `sni_received` (or null), `client_cert_requested`, `client_cert` (subject, or null) |
//! | `tls_renegotiated` | `info` (as `tls_started`'s, see below): the server renegotiated TLS (TLS 1.2, RFC 5746) and presented a different certificate, the one in use from then on: `info.version`, `info.cipher` and `info.bits` are the renegotiated session's (`cipher` empty when the client refused it), `info.chain`, `info.verify` (with `waived`) and `info.dane` (TLSA records in force) judge it as the first handshake's were; `tls_started` keeps the first handshake's, and a `warning` says the change |
//! | `tls_failed` | `reason`: the handshake failed, no TLS session (a certificate that fails verification is a completed handshake: `tls_started` with `verify.ok` false, and with `verify.enforced` the run then ends, outcome `tls`) |
//! | `timing` | `what` (`dns`, `connect`, `tls_handshake`, `reply`), `phase`, `ms` (number, to the microsecond) |
//! | `closed` | `expected` (bool: normal end after QUIT) |
//! | `summary` | see below |
//! | `client_command` | (`ehlo serve`) `text` (the client's line, secrets masked, a byte that is not UTF-8 as `\xNN` as in a reply's `lines`), `tls`, `phase`, `redacted` |
//! | `server_reply` | (`ehlo serve`) `reply` (what the server wrote), `tls`, `phase` |
//! | `message_stored` | (`ehlo serve`) `from`, `rcpts`, `bytes`, `path` (Maildir file or mbox, or null; with both, the two joined with `, `), `paths` (every file it was written to, Maildir file first: `[]` when not stored), `id`, `content` (byte payload: the content's first 64 KiB; `bytes` is the whole size) |
//!
//! A **reply** is `{"code": 250 | null, "enhanced": "2.1.0" | null, "lines": [strings: the text of
//! each line after "NNN-"/"NNN ", enhanced code left in place, a byte that is not UTF-8 as `\xNN`
//! as the transcript shows it], "raw": byte payload (exact bytes
//! received, CRLFs included; of a line longer than the limit only the bytes kept, the rest
//! discarded as it came, as its `overlong_line` deviation says with the line's `len`),
//! "deviations": [deviation objects]}`.
//!
//! An **explanation** is `{"basic": string | null, "enhanced": {"code", "title", "meaning"} | null,
//! "hint": string | null, "severity": "ok" | "notice" | "transient" | "permanent" | null}`.
//!
//! A **deviation** is an object with `kind` and, depending on it, more members: `bare_lf`,
//! `bare_lf_command` (`ehlo serve`: a client's command line), `bare_cr`, `mixed_codes` (`first`, `found`), `missing_code` (`line`), `odd_code` (`code`),
//! `bad_separator` (`line`), `overlong_line` (`len`, `limit`), `reply_too_large` (`bytes`, `lines`, `unfinished_line`, `max_bytes`, `max_lines`),
//! `not_utf8`, `enhanced_class_mismatch` (`code`, `enhanced`), `truncated_at_close`,
//! `start_tls_injection` (`bytes`: byte payload, from `ehlo serve` its first 512 bytes with credentials masked; `len`: how many bytes arrived), `unsolicited_reply`, `unsolicited_flood` (`replies`: `ehlo repl` stopped reading after that many in a row), `early_reply`, `long_reply_line` (`len`).
//!
//! TLS **info** is `{"version", "cipher", "bits", "sni": string | null, "chain": [certificate],
//! "verify": {"ok", "enforced", "checked_name", "chain_ok", "name_ok", "matched", "reason", "only" (`chain`/`name`, only with `--tls-verify-ca`/`--tls-verify-host` alone)},
//! "client_cert_sent" (one was configured and the server asked for it), "client_cert_requested"
//! (the server sent a CertificateRequest), "ocsp_stapled", "dane" (only with TLSA records: `{"ok", "enforced",
//! "records", "ignored", "names", "matched": string | null, "matched_depth": integer | null,
//! "evidence": [{"depth", "subject", "selector" ("cert" or "spki"), "mtype" ("full", "sha256" or
//! "sha512"), "digest" (hex), "matched": [records], and "error" only when the digest could not
//! be computed}], "note", "reason"}`)}`; a certificate is
//! `{"subject", "issuer", "sans": [strings like "DNS:mx.example.net"], "not_before", "not_after"
//! (RFC 3339 UTC), "days_left" (integer, negative once expired), "sha256" (hex with colons)}`.
//!
//! The **summary** is `{"exit_code" (integer, the process exit code), "outcome" ("ok" or a short
//! failure label, see below), "error": string | null, "server": string | null (`HOST [IPv4:PORT]`,
//! `HOST [IPv6]:PORT`, `unix:PATH`, `pipe:COMMAND`), "tls": version | null,
//! "recipients": [{"address", "status" ("accepted", "temp_failed", "perm_failed",
//! "not_attempted", "no_reply", "no_delivery_reply"), "code", "enhanced", "text", and only when the server
//! answered each recipient after the content (LMTP, RFC 2033 §4.2; PRDR) "data_code",
//! "data_enhanced", "data_text": that reply, which is then the recipient's `status`, `code`,
//! `enhanced` and `text` too; "no_reply" is a recipient whose RCPT went out but whose reply
//! never came (a close, a timeout, `--deadline`), where "not_attempted" never went out;
//! "no_delivery_reply" is an LMTP or PRDR recipient whose RCPT was
//! accepted but whose own reply after the content never came (the server closed the connection
//! or went silent first): not known to be delivered, `code`, `enhanced` and `text` its RCPT
//! reply, no `data_code`; a BDAT chunk refused after the LAST one went out is each awaiting
//! recipient's reply after the content}], "message_accepted": bool | null (null when no
//! verdict on the content came; false when it was a refusal, or was cut off by the close),
//! "timings": [{"phase", "ms"}], "failover": [{"host", "address": string | null, "reason"}]}`.
//!
//! `failover` (only when a send met failures on its way to a server) lists them in the order
//! met, all of them: each MX host or address that failed before the server the send talked to,
//! or every one when none answered — a connection attempt that failed (`address` the socket
//! address tried, `reason` the OS's words), a server left for the next MX address because it
//! never greeted (`reason` as its `warning` words it: `refused the session in its greeting
//! (554 …)`), or a host left out before any attempt (`address` null: its address or TLSA
//! lookup failed, it has no address of the family `-4`/`-6` or `--local-interface` leaves…;
//! `reason` names the host). `error` says the same in words (at most five, then `… and K
//! more`).
//!
//! `outcome` is one of: `ok`; `usage` (bad options or input, exit 1, also AUTH refused before
//! it would go out in plain text); `prerequisite` (10); `dns`, `connect` (2); `listen` (`ehlo
//! serve`: the address could not be bound, 2); `timeout` (the phase's code); `deadline`
//! (the send's or `ehlo replay`'s `--deadline` passed: a timeout's code where it cut the run, 2 in DNS or connect;
//! `error` says where); `unexpected_reply` (a refusal or another reply than the step wanted: the phase's code); `no_recipients` (24);
//! `closed` (the server closed the connection, 6); `io` (a read or write failed, 6);
//! `reply_too_large` (the phase's code); `not_advertised` (an extension the run needs is not
//! offered: 23, 25, 30, 31…; also 28 when the server offers no AUTH at all, 29 no STARTTLS, 33
//! no XCLIENT); `auth` (AUTH failed: refused by the server, e.g. `535 5.7.8`
//! credentials rejected, or no usable mechanism, or the exchange failed on ehlo's side, 28); `tls` (29); `proxy`
//! (35); `replay_mismatch` (`ehlo replay`: a reply other than the recorded one, and also one that
//! never came — the server closed the connection, exit 6, or stayed silent past `--timeout`, the
//! phase's code — where `ehlo repl` and the send say `closed` and `timeout`; the exit code tells
//! them apart); `strict` (`ehlo repl --strict`: a step that could not
//! run as written ends the run with its code, 25 for a DATA cut by the end of input); `interrupted` (a signal,
//! 128+N). New labels may be added; the exit code is the contract.
//!
//! Routed by MX, a server that never greets the session is left for the next MX address: its
//! `connected` and what it did (a `received` refusal or non-reply in phase `banner` and QUIT, a
//! `closed`, or the timeout's `warning`) are followed by a `warning` saying why it was left
//! (`"mx1.example.net [192.0.2.1:25] refused the session in its greeting (421 …): left for the
//! next MX address (RFC 5321 §5.1)"`; likewise `… sent no complete greeting within 30 s: …`,
//! `… closed the connection before its greeting: …`, `… sent no SMTP greeting but HTTP/1.1 400
//! Bad Request: …`), then the next attempt's events; after the last one, an `info` `"no other MX
//! address to try"`. The summary's
//! `timings` are then those of the server it names (the `dns` phase stays the whole run's:
//! the MX lookup and every address lookup); each attempt's own are in its `timing` events.
//!
//! Each line of `ehlo serve` that belongs to a connection carries a top-level `session`
//! (integer, 1 for the first connection; next to `type`, `data` and `t_ms`), so concurrent
//! sessions' lines can be told apart; the server's own lines (`listening`, start-up `info`,
//! `summary`) have none.
//!
//! `ehlo serve` ends with a summary too: when it stops (a signal, `--max-sessions`) `exit_code`
//! 0 and `outcome` `ok`; when it cannot start (a busy `--listen` address, a bad certificate)
//! the error's code, label and reason; the other members are empty (a server run has no one
//! server, recipient list or verdict of its own; its messages are the `message_stored` lines).
//!
//! `server` is who the send talked to last: the host name it connected to (the `--server` host as
//! given, an IP address stays one; or the MX host that answered), a space, then the socket
//! address in brackets: `"mx.example.net [192.0.2.1:25]"`, `"localhost [127.0.0.1:2525]"`,
//! `"127.0.0.1 [127.0.0.1:2525]"`, `"mx.example.net [[2001:db8::1]:25]"`; `"unix:PATH"` over
//! `--socket`, `"pipe:COMMAND"` over `--pipe`; null when no connection was made. It is not a
//! `host:port` to connect to again.
//!
//! `ehlo repl` (piped with `--json`) and `ehlo replay --json` end with the same summary, filled
//! from what the session saw: `server` is the last server it connected to, in the send's form
//! (null when no connection was made: refused, unresolvable, no target); `tls` the version the
//! latest connection negotiated (STARTTLS or implicit TLS; null in plain text, also after a
//! failed handshake); `recipients` the `RCPT TO` lines of the latest mail transaction (since its
//! `MAIL FROM`; typed lines, not `:raw` bytes), each with its reply, or
//! `not_attempted` while none came; `message_accepted` the verdict on the latest transaction's
//! content (the reply to its end-of-data dot; null before one, and after a new `MAIL FROM`);
//! `timings` the time per phase over the whole session (every connection, its `dns`,
//! `connect`, TLS handshakes and replies, as the `timing` events add up). Content sent with
//! `BDAT` gets no verdict there (null).
//!
//! ## Example
//!
//! ```text
//! {"type":"schema","data":{"version":1,"tool":"ehlo","tool_version":"0.1.0"}}
//! {"type":"connecting","data":{"host":"mx.example.net","addr":"192.0.2.1:25","address":"192.0.2.1:25"},"t_ms":0.412}
//! {"type":"connected","data":{"host":"mx.example.net","peer":"192.0.2.1:25","local":"192.0.2.9:40000"},"t_ms":21.5}
//! {"type":"received","data":{"reply":{"code":220,"enhanced":null,"lines":["mx.example.net ESMTP"],"raw":{"text":"220 mx.example.net ESMTP\r\n"},"deviations":[]},"tls":false,"expected":true,"phase":"banner","explanation":{"basic":null,"enhanced":null,"hint":null,"severity":"ok"}},"t_ms":40.1}
//! {"type":"sent","data":{"text":"EHLO client.example.org","kind":"command","bytes":25,"lines":1,"tls":false,"expected":true,"redacted":false,"phase":"helo"},"t_ms":40.3}
//! {"type":"closed","data":{"expected":true},"t_ms":95.0}
//! {"type":"summary","data":{"exit_code":0,"outcome":"ok","error":null,"server":"mx.example.net [192.0.2.1:25]","tls":null,"recipients":[],"message_accepted":true,"timings":[]},"t_ms":95.2}
//! ```
//!
//! ## `ehlo explain --json`
//!
//! `ehlo explain --json` connects nowhere and prints one JSON object on one line (no `schema`
//! line, no `type`) with what the text form shows, exit 0. Whatever ends it, stdout gets that
//! one line: input it refuses (no reply code in it, `xyz`, an empty argument or stdin, `-`
//! past its first MiB without one) is a usage error, and so is a command line refused for its
//! flags (an unknown flag, no argument) once `--json` is on it (exit 1), stdin that cannot be
//! read exit 10: the reason is one `*** ` line on stderr and the line is
//! `{"error": reason, "exit_code": 1, "outcome": "usage"}` (`prerequisite` for 10), the
//! send's summary's names; a SIGINT, SIGTERM or SIGHUP while `-` waits for stdin likewise
//! (`interrupted`, 128+N). Only `--help` and output that cannot be written (exit 10) write
//! none. Its members:
//!
//! * `exit_code` (0), `outcome` (`"ok"`), `error` (null): the end every mode's JSON gives;
//! * `code`: the basic code found (integer, also one outside 2xx–5xx such as `699`), or null;
//! * `enhanced`: `{"code", "title", "meaning"}` (the registry row; `code` as given, `X.7.8`
//!   included) or null;
//! * `text`: the reply's text without its codes, lines joined with `\n` (`""` for codes alone);
//! * `phase`: the command the reply answers (a phase as above) or null; `phase_from`: `given`
//!   (`--phase`), `text` (the bounce said so) or `unknown`;
//! * `classes_differ`: only when the basic and enhanced codes' classes disagree (`550 4.7.1`,
//!   RFC 3463 §2), `{"basic": 5, "enhanced": 4}` (their first digits): an object here, where
//!   the `table`'s `classes_differ` is a bool;
//! * `explanations`: one object per command considered (one when the phase is known, else each
//!   command the code is an answer to, then `other` for every other command when only some
//!   commands give it a meaning of their own; empty when no basic 2xx–5xx code was given):
//!   `{"phase", "basic" (what the code means as an answer to it), "hint": string | null,
//!   "severity"}`;
//! * `table`: for codes alone (`550`, `5.7.1`, `550 5.1.1`, `X.7.8`, `699`), the code-table view
//!   the text form prints instead of a reply, else null: `{"basic": null | {"code", "meaning",
//!   "source" (where the code is defined, or null), "class" (what the first digit says),
//!   "anywhere" (what it means after any command, or null), "after": [{"phase", "meaning"}]},
//!   "enhanced": null | {"code", "title", "meaning", "reference" (the registry's, or null for an
//!   unregistered code), "usual_basic" (the registry's associated basic codes, or null)},
//!   "classes_differ" (bool: the basic and enhanced classes disagree, RFC 3463 §2), "hints":
//!   [{"phases" (the commands the hint applies after; empty: any), "hint"}]}`.
//!
//! Hints are worded for the one-shot send (`add --tls`), as in the text form.

use std::fmt::Write as _;
use std::io::Write;
use std::time::Duration;

use serde::Serialize;

use super::Renderer;
use crate::smtp::event::{Bytes, ConnectCause, Event, Phase, SentKind};

/// Version of the format described above; bumped on incompatible changes only.
pub(crate) const SCHEMA_VERSION: u32 = 1;

/// The first line's `data`.
#[derive(Serialize)]
struct Schema {
    version: u32,
    tool: &'static str,
    tool_version: &'static str,
}

/// The first line: `{"type":"schema","data":{…}}`, shaped like every other line minus `t_ms`.
#[derive(Serialize)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
enum Head {
    Schema(Schema),
}

/// One event line: the event's own `type`/`data` members plus `t_ms`, and for `ehlo serve`
/// the connection's `session` number.
#[derive(Serialize)]
struct Line<'a> {
    #[serde(flatten)]
    event: &'a Event,
    t_ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    session: Option<u64>,
}

/// The most of a `sent` event's `text`, and of a `raw_sent` event's bytes, a line carries: a
/// message goes out as one write, so its event held the whole message (a 60 MB message was a
/// 60 MB line, serialised whole beside the event). The first 64 KiB are kept, as `ehlo serve`'s
/// `message_stored` keeps of a message's `content`; `cut` says how many bytes were left out.
pub(crate) const SENT_SHOWN: usize = 64 * 1024;

/// A `sent` or `raw_sent` event cut to [`SENT_SHOWN`]: the same members, and `cut`.
#[derive(Serialize)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
enum Cut<'a> {
    Sent {
        text: &'a str,
        kind: SentKind,
        bytes: usize,
        lines: usize,
        tls: bool,
        expected: bool,
        redacted: bool,
        phase: Phase,
        cut: usize,
    },
    RawSent {
        bytes: Bytes,
        cut: usize,
    },
}

/// [`Line`] of a [`Cut`] or [`Twin`] event.
#[derive(Serialize)]
struct LineOf<E> {
    #[serde(flatten)]
    event: E,
    t_ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    session: Option<u64>,
}

/// Events with a member written under two names, the one it always had and the one other
/// lines give the same thing (schema 1 only adds members, so a consumer of the first keeps
/// working): `connecting`'s and `connect_failed`'s `addr` also as `address` (the summary's
/// `failover` and `listening` call a socket address so), a `note`'s `text` also as `message`
/// (what `info`, `warning`, `error` and the check format's `note` carry).
#[derive(Serialize)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
enum Twin<'a> {
    Connecting {
        host: &'a str,
        addr: &'a str,
        address: &'a str,
    },
    ConnectFailed {
        host: &'a str,
        addr: &'a str,
        address: &'a str,
        reason: &'a str,
        cause: ConnectCause,
        os_error: Option<i32>,
    },
    Note {
        text: &'a str,
        message: &'a str,
    },
}

/// The event with its second names ([`Twin`]), or `None` for one that has none.
fn twin(event: &Event) -> Option<Twin<'_>> {
    Some(match event {
        Event::Connecting { host, addr } => Twin::Connecting {
            host,
            addr,
            address: addr,
        },
        Event::ConnectFailed {
            host,
            addr,
            reason,
            cause,
            os_error,
        } => Twin::ConnectFailed {
            host,
            addr,
            address: addr,
            reason,
            cause: *cause,
            os_error: *os_error,
        },
        Event::Note { text } => Twin::Note {
            text,
            message: text,
        },
        _ => return None,
    })
}

/// The first [`SENT_SHOWN`] bytes of `text`, ended on a character boundary.
fn shown(text: &str) -> &str {
    let mut end = SENT_SHOWN.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The event cut to [`SENT_SHOWN`], or `None` when it is no longer than that.
fn cut(event: &Event) -> Option<Cut<'_>> {
    match event {
        Event::Sent {
            text,
            kind,
            bytes,
            lines,
            tls,
            expected,
            redacted,
            phase,
        } if text.len() > SENT_SHOWN => {
            let kept = shown(text);
            Some(Cut::Sent {
                text: kept,
                kind: *kind,
                bytes: *bytes,
                lines: *lines,
                tls: *tls,
                expected: *expected,
                redacted: *redacted,
                phase: *phase,
                cut: text.len() - kept.len(),
            })
        }
        Event::RawSent { bytes } if bytes.0.len() > SENT_SHOWN => {
            // Text stays text: cut on a character boundary (bytes that are not UTF-8 go out as
            // base64 whatever the cut).
            let end = match std::str::from_utf8(&bytes.0) {
                Ok(t) => shown(t).len(),
                Err(_) => SENT_SHOWN,
            };
            Some(Cut::RawSent {
                bytes: Bytes(bytes.0[..end].to_vec()),
                cut: bytes.0.len() - end,
            })
        }
        _ => None,
    }
}

/// JSON Lines writer.
pub(crate) struct Json {
    out: Box<dyn Write + Send>,
    started: bool,
    /// Flush only when asked ([`Renderer::flush`]), not after every line.
    pub(crate) batched: bool,
    /// `ehlo serve`: the session the next events belong to ([`Renderer::session`]).
    session: Option<u64>,
}

impl Json {
    /// Writer on `out`.
    pub(crate) fn new(out: Box<dyn Write + Send>) -> Json {
        Json {
            out,
            started: false,
            batched: false,
            session: None,
        }
    }

    fn start(&mut self) {
        if self.started {
            return;
        }
        self.started = true;
        let head = Head::Schema(Schema {
            version: SCHEMA_VERSION,
            tool: "ehlo",
            tool_version: env!("CARGO_PKG_VERSION"),
        });
        self.write_line(&head);
    }

    fn write_line<T: Serialize>(&mut self, value: &T) {
        // Serialising our own types cannot fail except on non-finite floats, which we avoid; a
        // write error is the stream's `Watch`'s to keep and say after the run (render::watch),
        // and a closed stdout (`| head`) is none.
        if let Ok(s) = serde_json::to_string(value) {
            let mut s = terminal_safe(s);
            s.push('\n');
            let _ = self.out.write_all(s.as_bytes());
            if !self.batched {
                let _ = self.out.flush();
            }
        }
    }
}

/// A serialised JSON text with the characters a terminal acts on but JSON may carry raw written
/// as `\uXXXX` escapes: DEL, the C1 controls U+0080–U+009F (U+009B is a CSI on terminals that
/// take 8-bit controls) and [`crate::render::invisible_format`]'s characters (bidirectional
/// controls, which reorder what a `cat` or `tail -f` of the output shows, CVE-2021-42574
/// "Trojan Source", the line and paragraph separators, and the zero-width and invisible ones,
/// U+FEFF, U+200B…, which show as nothing). serde_json escapes only
/// U+0000–U+001F, `"` and `\`; the parsed value is the same either way (RFC 8259 §7). Outside
/// strings a JSON text is ASCII, so every such character is inside a string.
pub(crate) fn terminal_safe(json: String) -> String {
    if !json.chars().any(needs_escape) {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if needs_escape(c) {
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
}

fn needs_escape(c: char) -> bool {
    matches!(u32::from(c), 0x7f..=0x9f) || crate::render::invisible_format(c)
}

/// Milliseconds rounded to the microsecond, so lines stay short and stable; not-a-number and
/// infinities as 0.
fn round_ms(ms: f64) -> f64 {
    if ms.is_finite() {
        (ms * 1000.0).round() / 1000.0
    } else {
        0.0
    }
}

fn millis(d: Duration) -> f64 {
    (d.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

impl Renderer for Json {
    fn event(&mut self, event: &Event, elapsed: Duration) {
        self.start();
        // Timings to the microsecond (no 0.056332999999999994); NaN/inf would make serde_json
        // refuse the whole line, so they become 0.
        let fixed;
        let event = match event {
            Event::Timing { what, phase, ms } => {
                fixed = Event::Timing {
                    what: *what,
                    phase: *phase,
                    ms: round_ms(*ms),
                };
                &fixed
            }
            Event::Summary(s) => {
                let mut s = s.clone();
                for t in &mut s.timings {
                    t.ms = round_ms(t.ms);
                }
                fixed = Event::Summary(s);
                &fixed
            }
            // A difference from swaks is the `warning` or `info` line it is: the silent levels
            // it outlives are the human transcript's.
            Event::UnlikeSwaks { message, warning } => {
                fixed = if *warning {
                    Event::warning(message.clone())
                } else {
                    Event::info(message.clone())
                };
                &fixed
            }
            e => e,
        };
        if let Some(event) = cut(event) {
            self.write_line(&LineOf {
                event,
                t_ms: millis(elapsed),
                session: self.session,
            });
            return;
        }
        if let Some(event) = twin(event) {
            self.write_line(&LineOf {
                event,
                t_ms: millis(elapsed),
                session: self.session,
            });
            return;
        }
        self.write_line(&Line {
            event,
            t_ms: millis(elapsed),
            session: self.session,
        });
    }

    fn session(&mut self, id: Option<u64>) {
        self.session = id;
    }

    fn finish(&mut self) {
        // Even a run that produced no events says which format it speaks.
        self.start();
        let _ = self.out.flush();
    }

    fn flush(&mut self) {
        let _ = self.out.flush();
    }
}

#[cfg(test)]
mod tests {

    use serde_json::Value;

    use super::*;
    use crate::smtp::codes::{Explanation, Severity};
    use crate::smtp::event::{
        Bytes, Deviation, Phase, PhaseTiming, RcptStatus, RecipientResult, SentKind, Summary,
        Timed, TlsInfo,
    };
    use crate::smtp::reply::Reply;

    use crate::render::test_sink::Shared;

    fn lines(events: &[Event]) -> Vec<Value> {
        let buf = Shared::default();
        let mut j = Json::new(Box::new(buf.clone()));
        for (i, e) in events.iter().enumerate() {
            j.event(e, Duration::from_micros(1500 * i as u64 + 7));
        }
        j.finish();
        let text = String::from_utf8(buf.bytes()).unwrap();
        assert!(text.ends_with('\n'));
        text.lines()
            .map(|l| serde_json::from_str(l).expect("every line is JSON"))
            .collect()
    }

    /// A message goes out as one write: its `sent` event carried the whole message as `text`,
    /// and `raw_sent` all its bytes (a 60 MB line for a 60 MB message). Each is cut to its first
    /// 64 KiB, on a character boundary, with `cut` counting the bytes left out; a short one
    /// has no `cut`.
    #[test]
    fn a_long_sent_text_and_raw_write_are_cut_to_64_kib() {
        // 2-byte characters after one ASCII byte: 64 KiB falls inside one.
        let text = format!("a{}", "é".repeat(100_000));
        let sent = |text: String| Event::Sent {
            bytes: text.len() + 5,
            text,
            kind: SentKind::Body,
            lines: 1,
            tls: false,
            expected: true,
            redacted: false,
            phase: Phase::Dot,
        };
        let mut binary = vec![0xffu8; 70_000];
        binary[0] = b'x';
        let l = lines(&[
            sent(text.clone()),
            Event::RawSent {
                bytes: Bytes(text.clone().into_bytes()),
            },
            Event::RawSent {
                bytes: Bytes(binary),
            },
            sent("short".into()),
        ]);
        let shown = l[1]["data"]["text"].as_str().unwrap();
        assert_eq!(
            shown.len(),
            SENT_SHOWN - 1,
            "cut before the split character"
        );
        assert!(text.starts_with(shown));
        assert_eq!(l[1]["data"]["cut"], text.len() - shown.len());
        assert_eq!(l[1]["data"]["bytes"], text.len() + 5);
        assert_eq!(l[1]["data"]["kind"], "body");
        assert_eq!(l[1]["data"]["phase"], "dot");
        assert_eq!(l[1]["type"], "sent");
        assert!(l[1]["t_ms"].is_number());
        let raw = l[2]["data"]["bytes"]["text"].as_str().unwrap();
        assert_eq!(raw, shown);
        assert_eq!(l[2]["data"]["cut"], text.len() - raw.len());
        let b64 = l[3]["data"]["bytes"]["bytes"].as_str().unwrap();
        use base64::Engine;
        let raw = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        assert_eq!(raw.len(), SENT_SHOWN);
        assert_eq!(l[3]["data"]["cut"], 70_000 - SENT_SHOWN);
        assert_eq!(l[4]["data"]["text"], "short");
        assert!(l[4]["data"].get("cut").is_none());
    }

    fn sequence() -> Vec<Event> {
        let mut bad = Reply::new(550, &["5.1.1 no such user"]);
        bad.deviations = vec![Deviation::BareLf];
        vec![
            Event::Connecting {
                host: "mx.example.net".into(),
                addr: "192.0.2.1:25".into(),
            },
            Event::Sent {
                text: "RCPT TO:<x@example.net>".into(),
                kind: SentKind::Command,
                bytes: 25,
                lines: 1,
                tls: false,
                expected: true,
                redacted: false,
                phase: Phase::Rcpt,
            },
            Event::Received {
                reply: bad,
                tls: false,
                expected: false,
                phase: Phase::Rcpt,
                explanation: Explanation {
                    basic: Some("mailbox unavailable".into()),
                    severity: Some(Severity::Permanent),
                    ..Default::default()
                },
            },
            Event::RawReceived {
                bytes: Bytes(vec![0xff, 0x00]),
            },
            Event::TlsStarted {
                info: TlsInfo {
                    version: "TLSv1.3".into(),
                    ..Default::default()
                },
            },
            Event::Timing {
                what: Timed::Reply,
                phase: Phase::Rcpt,
                ms: f64::NAN,
            },
            Event::Summary(Summary {
                exit_code: 24,
                outcome: "rcpt_rejected".into(),
                recipients: vec![RecipientResult {
                    address: "x@example.net".into(),
                    status: RcptStatus::PermFailed,
                    code: Some(550),
                    enhanced: Some("5.1.1".into()),
                    text: Some("no such user".into()),
                    data_code: None,
                    data_enhanced: None,
                    data_text: None,
                }],
                ..Default::default()
            }),
        ]
    }

    #[test]
    fn first_line_is_schema() {
        let v = lines(&sequence());
        assert_eq!(v[0]["type"], "schema");
        assert_eq!(v[0]["data"]["version"], 1);
        assert_eq!(v[0]["data"]["tool"], "ehlo");
        assert_eq!(v[0]["data"]["tool_version"], env!("CARGO_PKG_VERSION"));
        assert!(v[0].get("t_ms").is_none());
        // Schema appears once even with no events.
        let v = lines(&[]);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0]["type"], "schema");
    }

    #[test]
    fn every_event_line_has_type_data_and_t_ms() {
        let v = lines(&sequence());
        assert_eq!(v.len(), 1 + sequence().len());
        let types: Vec<&str> = v.iter().map(|l| l["type"].as_str().unwrap()).collect();
        assert_eq!(
            types,
            [
                "schema",
                "connecting",
                "sent",
                "received",
                "raw_received",
                "tls_started",
                "timing",
                "summary"
            ]
        );
        for (i, l) in v.iter().enumerate().skip(1) {
            let obj = l.as_object().unwrap();
            assert_eq!(obj.len(), 3, "only type, data, t_ms: {l}");
            assert!(obj["data"].is_object());
            let expect = (1500.0 * (i - 1) as f64 + 7.0) / 1000.0;
            assert!((obj["t_ms"].as_f64().unwrap() - expect).abs() < 1e-9);
        }
    }

    #[test]
    fn timings_say_what_was_timed_to_the_microsecond() {
        let v = lines(&[
            Event::Timing {
                what: Timed::TlsHandshake,
                phase: Phase::StartTls,
                ms: 56.333 - 1e-12,
            },
            Event::Summary(Summary {
                timings: vec![PhaseTiming {
                    phase: Phase::Banner,
                    ms: 0.1 + 0.2,
                }],
                ..Summary::default()
            }),
        ]);
        assert_eq!(v[1]["data"]["what"], "tls_handshake");
        assert_eq!(v[1]["data"]["ms"].to_string(), "56.333");
        assert_eq!(v[2]["data"]["timings"][0]["ms"].to_string(), "0.3");
    }

    /// A warning's remedies are given in the one-shot send's words, as a plain string.
    #[test]
    fn warnings_carry_the_send_s_words() {
        let v = lines(&[Event::Warning {
            message: crate::smtp::codes::Hint::new("try ⟨tls-on-connect⟩ (port 465)"),
        }]);
        assert_eq!(v[1]["type"], "warning");
        assert_eq!(v[1]["data"]["message"], "try --tls-on-connect (port 465)");
    }

    /// A member other lines name differently is written under both names, equal: the old one
    /// for the consumers that read it, the common one beside it (`addr` and `address`, a
    /// note's `text` and `message`).
    #[test]
    fn a_member_with_two_names_carries_both_equal() {
        let v = lines(&[
            Event::Connecting {
                host: "h".into(),
                addr: "192.0.2.1:25".into(),
            },
            Event::ConnectFailed {
                host: "h".into(),
                addr: "[2001:db8::1]:25".into(),
                reason: "refused".into(),
                cause: crate::smtp::event::ConnectCause::Refused,
                os_error: Some(111),
            },
            Event::Note {
                text: "replay: 4 steps".into(),
            },
        ]);
        assert_eq!(v[1]["data"]["addr"], "192.0.2.1:25");
        assert_eq!(v[1]["data"]["address"], v[1]["data"]["addr"]);
        assert_eq!(v[2]["data"]["addr"], "[2001:db8::1]:25");
        assert_eq!(v[2]["data"]["address"], v[2]["data"]["addr"]);
        assert_eq!(v[2]["data"]["cause"], "refused");
        assert_eq!(v[2]["data"]["os_error"], 111);
        assert_eq!(v[3]["data"]["text"], "replay: 4 steps");
        assert_eq!(v[3]["data"]["message"], v[3]["data"]["text"]);
        assert!(v[1]["t_ms"].is_number() && v[3]["t_ms"].is_number());
    }

    #[test]
    fn fields_round_trip() {
        let v = lines(&sequence());
        assert_eq!(v[1]["data"]["addr"], "192.0.2.1:25");
        assert_eq!(v[2]["data"]["kind"], "command");
        assert_eq!(v[2]["data"]["phase"], "rcpt");
        assert_eq!(v[2]["data"]["redacted"], false);
        let r = &v[3]["data"];
        assert_eq!(r["expected"], false);
        assert_eq!(r["reply"]["code"], 550);
        assert_eq!(r["reply"]["enhanced"], "5.1.1");
        assert_eq!(r["reply"]["lines"][0], "5.1.1 no such user");
        assert_eq!(r["reply"]["raw"]["text"], "550 5.1.1 no such user\r\n");
        assert_eq!(r["reply"]["deviations"][0]["kind"], "bare_lf");
        assert_eq!(r["explanation"]["basic"], "mailbox unavailable");
        assert_eq!(r["explanation"]["severity"], "permanent");
        assert!(r["explanation"]["hint"].is_null());
        assert_eq!(v[4]["data"]["bytes"]["bytes"], "/wA=");
        assert_eq!(v[5]["data"]["info"]["version"], "TLSv1.3");
        assert_eq!(v[5]["data"]["info"]["verify"]["ok"], false);
        assert_eq!(v[6]["data"]["ms"], 0.0);
        let s = &v[7]["data"];
        assert_eq!(s["exit_code"], 24);
        assert_eq!(s["recipients"][0]["status"], "perm_failed");
        assert!(s["message_accepted"].is_null());
    }

    #[test]
    fn summary_is_last_when_given_last() {
        let v = lines(&sequence());
        assert_eq!(v.last().unwrap()["type"], "summary");
    }

    /// One event of every type, every optional member filled in, and a reply carrying every
    /// kind of deviation: what [`every_type_and_member_is_documented`] checks against the
    /// documentation.
    fn one_of_each() -> Vec<Event> {
        use crate::smtp::event::{
            AcceptedTls, CertInfo, DaneEvidence, DaneVerdict, VerifyPart, VerifyVerdict,
        };
        let mut reply = Reply::new(250, &["2.1.5 ok"]);
        reply.deviations = one_deviation_of_each();
        let tls = TlsInfo {
            version: "TLSv1.3".into(),
            sni: Some("mx.example.net".into()),
            chain: vec![CertInfo::default()],
            verify: VerifyVerdict {
                checked_name: Some("mx.example.net".into()),
                matched: Some("DNS:mx.example.net".into()),
                reason: Some("ok".into()),
                only: Some(VerifyPart::Chain),
                ..Default::default()
            },
            dane: Some(DaneVerdict {
                matched: Some("3 1 1 ab".into()),
                matched_depth: Some(0),
                evidence: vec![DaneEvidence {
                    error: Some("no key".into()),
                    ..Default::default()
                }],
                note: Some("note".into()),
                reason: Some("reason".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let explanation = Explanation {
            basic: Some("ok".into()),
            enhanced: Some(crate::smtp::codes::EnhancedInfo {
                code: "2.1.5".into(),
                title: "Destination address valid".into(),
                meaning: "ok".into(),
            }),
            hint: Some(crate::smtp::codes::Hint::plain("hint")),
            severity: Some(Severity::Ok),
        };
        let hint = || crate::smtp::codes::Hint::plain("text");
        vec![
            Event::Info { message: hint() },
            Event::Warning { message: hint() },
            Event::ReplayMismatch {
                line: 3,
                command: "RCPT TO:<a@b>".into(),
                expected: vec!["250".into()],
                got: vec!["550".into()],
                reply: Some(Box::new(reply.clone())),
                phase: Some(Phase::Rcpt),
                exit_code: 24,
            },
            Event::Note { text: "n".into() },
            Event::Dump {
                what: "mail".into(),
                text: "t".into(),
            },
            Event::Error {
                message: "e".into(),
            },
            Event::DnsQuery {
                name: "example.net".into(),
                rtype: "MX".into(),
            },
            Event::DnsAnswer {
                name: "example.net".into(),
                rtype: "MX".into(),
                records: vec!["10 mx.example.net".into()],
                proof: Some("secure".into()),
            },
            Event::DnsFailed {
                name: "mx.example.net".into(),
                rtype: "A/AAAA".into(),
                reason: "r".into(),
            },
            Event::TlsPolicy {
                host: "mx.example.net".into(),
                policy: "dane".into(),
                tls_required: true,
                reason: "r".into(),
            },
            Event::Connecting {
                host: "h".into(),
                addr: "192.0.2.1:25".into(),
            },
            Event::Connected {
                host: "h".into(),
                peer: "192.0.2.1:25".into(),
                local: "192.0.2.9:4000".into(),
                proxy: Some(crate::smtp::event::ProxyVia {
                    version: 2,
                    via: "192.0.2.5:40000".into(),
                    named: true,
                }),
            },
            Event::ConnectFailed {
                host: "h".into(),
                addr: "192.0.2.1:25".into(),
                reason: "refused".into(),
                cause: crate::smtp::event::ConnectCause::Refused,
                os_error: Some(111),
            },
            Event::Sent {
                text: "QUIT".into(),
                kind: SentKind::Command,
                bytes: 6,
                lines: 1,
                tls: false,
                expected: true,
                redacted: false,
                phase: Phase::Quit,
            },
            Event::Received {
                reply: reply.clone(),
                tls: true,
                expected: true,
                phase: Phase::Rcpt,
                explanation,
            },
            Event::RawSent {
                bytes: Bytes(b"QUIT\r\n".to_vec()),
            },
            Event::RawReceived {
                bytes: Bytes(vec![0xff]),
            },
            Event::Deviation {
                deviation: Deviation::BareLf,
                phase: Phase::Banner,
            },
            Event::TlsStarted { info: tls.clone() },
            Event::TlsRenegotiated { info: tls },
            Event::Listening {
                address: "127.0.0.1:2525".into(),
            },
            Event::TlsAccepted {
                info: AcceptedTls {
                    sni_received: Some("mx".into()),
                    client_cert: Some("CN=c".into()),
                    ..Default::default()
                },
            },
            Event::TlsFailed { reason: hint() },
            Event::Timing {
                what: Timed::Reply,
                phase: Phase::Rcpt,
                ms: 1.0,
            },
            Event::Closed { expected: true },
            Event::Summary(Summary {
                error: Some("e".into()),
                server: Some("h [192.0.2.1:25]".into()),
                tls: Some("TLSv1.3".into()),
                recipients: vec![RecipientResult {
                    address: "a@b".into(),
                    status: RcptStatus::Accepted,
                    code: Some(250),
                    enhanced: Some("2.0.0".into()),
                    text: Some("delivered".into()),
                    data_code: Some(250),
                    data_enhanced: Some("2.0.0".into()),
                    data_text: Some("delivered".into()),
                }],
                message_accepted: Some(true),
                timings: vec![PhaseTiming {
                    phase: Phase::Rcpt,
                    ms: 1.0,
                }],
                failover: vec![crate::smtp::event::FailoverFailure {
                    host: "mx1.example.net".into(),
                    address: Some("192.0.2.1:25".into()),
                    reason: "Connection refused (os error 111)".into(),
                }],
                ..Default::default()
            }),
            Event::ClientCommand {
                text: "AUTH PLAIN ********".into(),
                tls: false,
                phase: Phase::Auth,
                redacted: true,
            },
            Event::ServerReply {
                reply,
                tls: false,
                phase: Phase::Rcpt,
            },
            Event::MessageStored {
                from: "a@b".into(),
                rcpts: vec!["c@d".into()],
                bytes: 1,
                path: Some("p".into()),
                paths: vec!["p".into()],
                id: "X".into(),
                content: Bytes(b"x".to_vec()),
            },
        ]
    }

    /// Every `type` a line can have; a new event fails to compile here until it is added to
    /// [`one_of_each`] and its documentation.
    fn type_name(e: &Event) -> &'static str {
        match e {
            Event::Info { .. } => "info",
            Event::Warning { .. } => "warning",
            Event::UnlikeSwaks { warning: true, .. } => "warning",
            Event::UnlikeSwaks { warning: false, .. } => "info",
            Event::ReplayMismatch { .. } => "replay_mismatch",
            Event::Note { .. } => "note",
            Event::Dump { .. } => "dump",
            Event::Error { .. } => "error",
            Event::DnsQuery { .. } => "dns_query",
            Event::DnsAnswer { .. } => "dns_answer",
            Event::DnsFailed { .. } => "dns_failed",
            Event::TlsPolicy { .. } => "tls_policy",
            Event::Connecting { .. } => "connecting",
            Event::Connected { .. } => "connected",
            Event::ConnectFailed { .. } => "connect_failed",
            Event::Sent { .. } => "sent",
            Event::Received { .. } => "received",
            Event::RawSent { .. } => "raw_sent",
            Event::RawReceived { .. } => "raw_received",
            Event::Deviation { .. } => "deviation",
            Event::TlsStarted { .. } => "tls_started",
            Event::TlsRenegotiated { .. } => "tls_renegotiated",
            Event::Listening { .. } => "listening",
            Event::TlsAccepted { .. } => "tls_accepted",
            Event::TlsFailed { .. } => "tls_failed",
            Event::Timing { .. } => "timing",
            Event::Closed { .. } => "closed",
            Event::Summary(_) => "summary",
            Event::ClientCommand { .. } => "client_command",
            Event::ServerReply { .. } => "server_reply",
            Event::MessageStored { .. } => "message_stored",
        }
    }

    /// Every kind of deviation (a new one fails to compile in the match until added).
    fn one_deviation_of_each() -> Vec<Deviation> {
        let all = vec![
            Deviation::BareLf,
            Deviation::BareLfCommand,
            Deviation::BareCr,
            Deviation::MixedCodes {
                first: 250,
                found: 251,
            },
            Deviation::MissingCode { line: "x".into() },
            Deviation::OddCode { code: 299 },
            Deviation::BadSeparator { line: "x".into() },
            Deviation::OverlongLine {
                len: 2000,
                limit: 512,
            },
            Deviation::ReplyTooLarge {
                bytes: 1,
                lines: 1,
                unfinished_line: false,
                max_bytes: 1,
                max_lines: 1,
            },
            Deviation::NotUtf8,
            Deviation::EnhancedClassMismatch {
                code: 250,
                enhanced: "5.0.0".into(),
            },
            Deviation::TruncatedAtClose,
            Deviation::StartTlsInjection {
                bytes: Bytes(b"x".to_vec()),
                len: 1,
            },
            Deviation::UnsolicitedReply,
            Deviation::UnsolicitedFlood { replies: 100 },
            Deviation::EarlyReply,
            Deviation::LongReplyLine { len: 600 },
        ];
        for d in &all {
            match d {
                Deviation::BareLf
                | Deviation::BareLfCommand
                | Deviation::BareCr
                | Deviation::MixedCodes { .. }
                | Deviation::MissingCode { .. }
                | Deviation::OddCode { .. }
                | Deviation::BadSeparator { .. }
                | Deviation::OverlongLine { .. }
                | Deviation::ReplyTooLarge { .. }
                | Deviation::NotUtf8
                | Deviation::EnhancedClassMismatch { .. }
                | Deviation::TruncatedAtClose
                | Deviation::StartTlsInjection { .. }
                | Deviation::UnsolicitedReply
                | Deviation::UnsolicitedFlood { .. }
                | Deviation::EarlyReply
                | Deviation::LongReplyLine { .. } => {}
            }
        }
        all
    }

    /// Every object member under `v`, with the `kind` of each deviation as `kind:VALUE`.
    fn members(v: &Value, out: &mut std::collections::BTreeSet<String>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    out.insert(k.clone());
                    if k == "kind"
                        && let Some(kind) = v.as_str()
                    {
                        out.insert(format!("kind:{kind}"));
                    }
                    members(v, out);
                }
            }
            Value::Array(a) => a.iter().for_each(|v| members(v, out)),
            _ => {}
        }
    }

    /// What a consumer reads about the format is what the format holds: every `type` the
    /// events can take is in this module's table and in README's list of event types; every
    /// member of a line's `data` is named in its type's row (or the section the row points
    /// to), and every nested member and deviation kind somewhere in this documentation. The
    /// summary's per-recipient `data_code`/`data_enhanced`/`data_text` and `tls_policy` (not
    /// in README's list) were written without being documented.
    #[test]
    fn every_type_and_member_is_documented() {
        let doc: Vec<&str> = include_str!("json.rs")
            .lines()
            .take_while(|l| l.starts_with("//!"))
            .collect();
        let whole = doc.join("\n");
        let readme = include_str!("../../README.md");
        let list = readme
            .split_once("Event types:")
            .and_then(|(_, rest)| rest.split_once("The full specification"))
            .map(|(list, _)| list)
            .expect("README lists the event types");
        let events = one_of_each();
        let names: std::collections::BTreeSet<&str> = events.iter().map(type_name).collect();
        assert_eq!(names.len(), 29, "one sample of each event type");
        for e in &events {
            let v = serde_json::to_value(e).unwrap();
            let t = v["type"].as_str().unwrap();
            assert_eq!(t, type_name(e));
            let quoted = format!("`{t}`");
            assert!(list.contains(&quoted), "README's event types lack {quoted}");
            let row = doc
                .iter()
                .find(|l| {
                    l.starts_with("//! | ")
                        && l.split('|').nth(1).is_some_and(|c| c.contains(&quoted))
                })
                .unwrap_or_else(|| panic!("no row for {quoted} in the table"));
            let data = v["data"].as_object().unwrap();
            for k in data.keys() {
                let k = format!("`{k}`");
                let own_row = row.contains(&k);
                let elsewhere = row.contains("see below") && whole.contains(&k);
                assert!(
                    own_row || elsewhere,
                    "{quoted}'s member {k} is undocumented"
                );
            }
            let mut nested = std::collections::BTreeSet::new();
            for v in data.values() {
                members(v, &mut nested);
            }
            for k in nested {
                let named = match k.strip_prefix("kind:") {
                    Some(kind) => format!("`{kind}`"),
                    None => format!("`{k}`"),
                };
                let quoted_key = format!("\"{k}\"");
                assert!(
                    whole.contains(&named) || whole.contains(&quoted_key),
                    "{quoted}: nested member {named} is undocumented"
                );
            }
        }
    }

    /// The other way round: each row of this module's table lists exactly the members its
    /// `type`s are written with (the lines rendered, `schema` included), and the summary's
    /// paragraph exactly the summary's members, so a member documented but never written (as
    /// `raw_sent`/`raw_received` once were) or written but left out of a row fails here.
    #[test]
    fn every_documented_member_is_written() {
        let doc = include_str!("json.rs");
        let rows = crate::render::doc_table::rows(doc);
        assert!(rows.len() >= 25, "the table's rows were read: {rows:?}");
        let rendered = lines(&one_of_each());
        let mut seen = std::collections::BTreeSet::new();
        for (types, documented) in &rows {
            for t in types {
                let line = rendered
                    .iter()
                    .find(|l| l["type"] == t.as_str())
                    .unwrap_or_else(|| panic!("the table names `{t}`, which is never written"));
                seen.insert(t.clone());
                if t == "summary" {
                    continue;
                }
                let written: std::collections::BTreeSet<&str> = line["data"]
                    .as_object()
                    .unwrap()
                    .keys()
                    .map(String::as_str)
                    .collect();
                let listed: std::collections::BTreeSet<&str> =
                    documented.iter().map(String::as_str).collect();
                assert_eq!(listed, written, "`{t}`: its row lists {listed:?}");
            }
        }
        let types: std::collections::BTreeSet<String> = rendered
            .iter()
            .map(|l| l["type"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(seen, types, "every type written has a row");
        // The summary's members: the quoted names at the top level of its `{…}`.
        let para = doc
            .split_once("The **summary** is `{")
            .and_then(|(_, rest)| rest.split_once("}`."))
            .map(|(p, _)| p.replace("\n//! ", " "))
            .expect("the summary's paragraph");
        let mut depth = 0;
        let mut listed = std::collections::BTreeSet::new();
        for (i, part) in para.split('"').enumerate() {
            if i % 2 == 1 && depth == 0 {
                listed.insert(part.to_string());
            } else if i % 2 == 0 {
                for c in part.chars() {
                    match c {
                        '(' | '[' | '{' => depth += 1,
                        ')' | ']' | '}' => depth -= 1,
                        _ => {}
                    }
                }
            }
        }
        let summary = rendered.iter().find(|l| l["type"] == "summary").unwrap();
        let written: std::collections::BTreeSet<String> = summary["data"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        assert_eq!(listed, written, "the summary's paragraph");
    }

    /// The members left out when they have no value (`skip_serializing_if` on an event's
    /// field) are the ones the format's documentation names as absent then; every other
    /// optional member is written as `null`. Five such members were written absent while the
    /// documentation said optional members are always present.
    #[test]
    fn members_absent_without_a_value_are_documented_as_such() {
        let doc: String = include_str!("json.rs")
            .lines()
            .take_while(|l| l.starts_with("//!"))
            .map(|l| l.trim_start_matches("//!"))
            .collect::<Vec<_>>()
            .join("");
        let rule = doc
            .split_once("Optional members are present with `null`")
            .and_then(|(_, rest)| rest.split_once(". "))
            .map(|(rule, _)| rule)
            .expect("the rule on optional members");
        let src = include_str!("../smtp/event.rs");
        let mut skipped = Vec::new();
        let mut lines = src.lines();
        while let Some(l) = lines.next() {
            if l.contains("skip_serializing_if") {
                let field = lines
                    .by_ref()
                    .map(str::trim)
                    .find(|l| !l.starts_with("//") && !l.starts_with("#["))
                    .unwrap();
                let name = field
                    .trim_start_matches("pub(crate) ")
                    .split(':')
                    .next()
                    .unwrap()
                    .to_string();
                skipped.push(name);
            }
        }
        assert!(skipped.len() >= 6, "the scan found them: {skipped:?}");
        for name in &skipped {
            assert!(
                rule.contains(&format!("`{name}`")),
                "`{name}` is absent without a value but not said to be: {rule}"
            );
        }
    }

    #[test]
    fn terminal_controls_are_escaped_and_parse_back_unchanged() {
        // A reply carrying a C1 CSI, DEL and a right-to-left override: serde_json wrote them raw.
        let text = "a\u{9b}31m\u{7f}b\u{202e}cba\u{2066}";
        let s = terminal_safe(serde_json::to_string(&serde_json::json!({ "t": text })).unwrap());
        assert_eq!(s, r#"{"t":"a\u009b31m\u007fb\u202ecba\u2066"}"#);
        let back: Value = serde_json::from_str(&s).unwrap();
        assert_eq!(back["t"], text);
        assert_eq!(terminal_safe("{\"t\":\"é✓\"}".into()), "{\"t\":\"é✓\"}");
        // U+061C (a bidi control too) and the Unicode line and paragraph separators.
        let text = "mode: \u{61c}enforce\u{2028}mx: a\u{2029}";
        let s = terminal_safe(serde_json::to_string(&serde_json::json!({ "t": text })).unwrap());
        assert_eq!(s, r#"{"t":"mode: \u061cenforce\u2028mx: a\u2029"}"#);
        let back: Value = serde_json::from_str(&s).unwrap();
        assert_eq!(back["t"], text);
    }

    /// Zero-width and invisible format characters from a server were written raw: a banner's
    /// `mx\u{FEFF}.test` read as `mx.test` in a `cat` of the output, as a bidi override
    /// reorders it. Now escaped like the bidi controls, and parsed back unchanged.
    #[test]
    fn invisible_characters_are_escaped_and_parse_back_unchanged() {
        let text = "mx\u{feff}.test a\u{200b}b\u{200c}c\u{200d}d\u{ad}e\u{2060}f\u{2064}g";
        let s = terminal_safe(serde_json::to_string(&serde_json::json!({ "t": text })).unwrap());
        assert_eq!(
            s,
            r#"{"t":"mx\ufeff.test a\u200bb\u200cc\u200dd\u00ade\u2060f\u2064g"}"#
        );
        let back: Value = serde_json::from_str(&s).unwrap();
        assert_eq!(back["t"], text);
    }

    #[test]
    fn closed_pipe_is_ignored() {
        struct Broken;
        impl Write for Broken {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Err(std::io::ErrorKind::BrokenPipe.into())
            }
        }
        let mut j = Json::new(Box::new(Broken));
        for e in sequence() {
            j.event(&e, Duration::ZERO);
        }
        j.finish();
    }
}
