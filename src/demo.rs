//! `ehlo demo`: starts the embedded server on 127.0.0.1:0 (STARTTLS with a fresh self-signed
//! certificate, a demo user, one recipient refused with 550 5.1.1) and runs a full annotated send
//! against it, so a fresh machine with no mail server and no network sees ehlo's main job.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::net::driver::RunSignals;
use crate::net::route::{Link, Target};
use crate::net::tls::TlsParams;
use crate::render;
use crate::serve::{self, ServeOptions};
use crate::smtp::auth::{Credentials, Secret};
use crate::smtp::client::{AuthPlan, AuthRequirement, Plan, StartTls};
use crate::smtp::event::{ConnectCause, Event, Sink, Summary};

const USER: &str = "demo";
const PASSWORD: &str = "demo-password";

/// Run the demo, rendering through `renderer` (the run's one renderer, built by the
/// dispatcher, `app`; `json` when it writes JSON Lines); returns the exit code of the send.
/// The send's `summary` is held back until the stored message has been listed, so it is the
/// last event (the JSON Lines contract, `render::json`); in JSON a demo that cannot start
/// ends with one too, after its `error` event. SIGINT, SIGTERM and SIGHUP end it as they end a
/// send: its directory (certificate, key, password file) removed, a summary with `outcome`
/// `interrupted`, exit 128 + the signal's number.
pub(crate) async fn run(mut renderer: Box<dyn render::Renderer>, json: bool) -> u8 {
    // Every line's `t_ms` counts from here: the send's own, which count from its start, are
    // moved on by the time the demo took to get there (`DemoSink::offset`).
    let start = Instant::now();
    // Listening before anything is made: a signal with the default action would end the
    // process at once and leave the directory behind.
    let mut signals = RunSignals::listen();
    let mut made: Option<PathBuf> = None;
    let result = tokio::select! {
        r = demo(&mut renderer, &mut made, start) => Ok(r),
        ending = RunSignals::next(&mut signals) => Err(ending),
    };
    if let Some(dir) = made.take() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    let (code, summary) = match result {
        Ok(Ok((code, summary))) => (code, summary),
        Ok(Err(failed)) => (failed.exit_code, json.then_some(failed)),
        Err(ending) => {
            let e = crate::error::Error::Signalled(ending);
            (
                e.exit_code(),
                Some(failed(e.exit_code(), e.label(), e.to_string())),
            )
        }
    };
    if let Some(s) = summary {
        renderer.event(&Event::Summary(s), start.elapsed());
    }
    // After a demo that worked, the transcript ends with where to go from here: the modes a
    // newcomer has just not seen, each as a command to adapt. Not in JSON, whose last event is
    // the summary (the JSON Lines contract, `render::json`).
    if code == 0 && !json {
        renderer.event(&Event::info(NEXT.to_string()), start.elapsed());
    }
    renderer.finish();
    code
}

/// What to try next, printed after a demo that worked; the first line of each pair a command,
/// the second what it does (80 columns with the renderer's `===` hint). ASCII, as the whole
/// demo is: a newcomer's terminal may be in a locale that is not UTF-8 (`LANG=C`), where `…`
/// would show as three bytes of mojibake.
pub(crate) const NEXT: &str = "What to try next (ehlo help MODE says more about each):\n\
    \x20 ehlo --server mail.example.net --to you@example.net\n\
    \x20     the send above, to your server (no --server: the recipient's MX)\n\
    \x20 ehlo repl mail.example.net:25\n\
    \x20     type the SMTP yourself (:help lists :starttls, :auth, :data...)\n\
    \x20 ehlo serve --listen 127.0.0.1:2525\n\
    \x20     a local test server to point your application at (Ctrl-C stops it)\n\
    \x20 ehlo explain '550 5.1.1 User unknown'\n\
    \x20     what a reply or a bounce's line means, without connecting\n\
    \x20 ehlo check example.net\n\
    \x20     every MX, STARTTLS, certificates, SPF and DMARC, for CI";

/// The send's events on their way to the renderer: held, with the line that introduces the
/// send, until the send has connected, so that a loopback that cannot be reached is said in
/// one line rather than as an attempt and an OS error per address; its summary kept for the end.
struct DemoSink<'a> {
    inner: &'a mut Box<dyn render::Renderer>,
    /// The embedded server's address as the send names it in its attempts.
    server: String,
    /// Events waiting for the connection; `None` once the send connected.
    waiting: Option<Vec<(Event, Duration)>>,
    /// How long after the demo's start the send started: added to the send's times, which
    /// count from its own start, so `t_ms` goes on from the demo's lines before it.
    offset: Duration,
    /// Why the send's attempt on the embedded server's address failed, if it did: its reason
    /// and its kind.
    refused: Option<(String, ConnectCause)>,
    held: Option<Summary>,
}

impl DemoSink<'_> {
    /// Show what was held back.
    fn release(&mut self) {
        for (e, elapsed) in self.waiting.take().unwrap_or_default() {
            self.inner.event(&e, elapsed);
        }
    }
}

impl Sink for DemoSink<'_> {
    fn event(&mut self, event: &Event, elapsed: Duration) {
        let elapsed = elapsed + self.offset;
        match event {
            Event::Summary(s) => {
                self.held = Some(s.clone());
                return;
            }
            Event::Connected { .. } => self.release(),
            Event::ConnectFailed {
                addr,
                reason,
                cause,
                ..
            } if *addr == self.server => {
                self.refused = Some((reason.clone(), *cause));
            }
            _ => {}
        }
        match &mut self.waiting {
            Some(w) => w.push((event.clone(), elapsed)),
            None => self.inner.event(event, elapsed),
        }
    }
}

/// What to say when the embedded server on loopback cannot be connected to: what is wrong and
/// what to do, in one line, the failure in words. `cause`: the kind the connection layer gave
/// the send's failed attempt; `reason`: its own account, quoted for a kind without words here.
fn loopback_message(reason: &str, cause: ConnectCause) -> String {
    let why = match cause {
        ConnectCause::TimedOut => "no answer within 5 s",
        ConnectCause::NetworkUnreachable => "network unreachable",
        ConnectCause::HostUnreachable => "host unreachable",
        ConnectCause::AddressUnavailable => "address not available",
        ConnectCause::Refused => "connection refused",
        ConnectCause::PermissionDenied => "permission denied (a firewall rule?)",
        ConnectCause::LocalAddress | ConnectCause::Other => reason,
    };
    format!(
        "demo: loopback is not reachable here ({why} connecting to the embedded server on 127.0.0.1): the `lo` interface is down or missing, as in a new network namespace; bring it up (`ip link set lo up`) or run the demo where it is up"
    )
}

/// A summary for a demo that could not start (its reason already said in an `error` event).
fn failed(exit_code: u8, outcome: &str, error: String) -> Summary {
    Summary {
        exit_code,
        outcome: outcome.into(),
        error: Some(error),
        ..Summary::default()
    }
}

/// A demo that could not be set up (`message` says why and what to do): the error shown, and
/// the summary of a prerequisite failure (exit 10).
fn unprepared(
    renderer: &mut Box<dyn render::Renderer>,
    message: String,
    elapsed: Duration,
) -> Summary {
    renderer.event(
        &Event::Error {
            message: message.clone(),
        },
        elapsed,
    );
    let e = crate::error::Error::Prerequisite(message);
    failed(e.exit_code(), e.label(), e.to_string())
}

/// The demo itself: the send's exit code and its summary, or the summary of a demo that
/// could not start. `made`: the directory it made, for the caller to remove however the demo
/// ends (a signal drops this future anywhere).
async fn demo(
    renderer: &mut Box<dyn render::Renderer>,
    made: &mut Option<PathBuf>,
    start: Instant,
) -> Result<(u8, Option<Summary>), Summary> {
    let say = |r: &mut dyn render::Renderer, m: &str| {
        r.event(&Event::info(m.to_string()), start.elapsed())
    };
    // A certificate of our own, so verification stays ON and passes against our CA file. It goes
    // into a fresh private directory under the temporary directory (TMPDIR): created with
    // create_dir, never create_dir_all, so a missing TMPDIR is reported instead of created, and a
    // directory someone else made in its place is never used.
    let tmp = std::env::temp_dir();
    let (dir, files) = prepare_certificate(&tmp);
    if files.is_ok() {
        // Ours (created just now): removed by the caller, whatever happens next.
        *made = Some(dir.clone());
    }
    // The password as the printed command reads it (--auth-password-file), so it is never shown.
    let password_path = dir.join("password");
    let files = files.and_then(|p| {
        std::fs::write(&password_path, format!("{PASSWORD}\n"))
            .map(|()| p)
            .map_err(|e| e.to_string())
    });
    let (cert_path, key_path) = match files {
        Ok(p) => p,
        Err(e) => {
            let message = format!(
                "demo: cannot prepare a certificate in {} (the temporary directory, TMPDIR): {e}",
                dir.display()
            );
            return Err(unprepared(renderer, message, start.elapsed()));
        }
    };
    let server_opts = ServeOptions {
        listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)).into(),
        starttls: true,
        cert: Some(cert_path.clone()),
        key: Some(key_path),
        users: vec![(USER.into(), PASSWORD.into())],
        faults: vec![
            "rcpt#2=550:5.1.1:<nobody@demo.test>: Recipient address rejected: User unknown".into(),
        ],
        hostname: "demo.ehlo.test".into(),
        ..ServeOptions::default()
    };
    // The embedded server's transcript is not shown (the send's is the demo): its events go
    // to a renderer that drops them, so the run keeps one renderer and one colour decision.
    let server = match serve::start_with(server_opts, render::discard()).await {
        Ok(s) => s,
        Err(e) => {
            let message = format!("demo: cannot start the embedded server: {e}");
            renderer.event(
                &Event::Error {
                    message: message.clone(),
                },
                start.elapsed(),
            );
            return Err(failed(e.exit_code(), e.label(), message));
        }
    };
    let port = server.addr().port();
    let mut message = String::new();
    message.push_str("From: Alice <alice@demo.test>\n");
    message.push_str("To: bob@demo.test, nobody@demo.test\n");
    message.push_str("Subject: ehlo demo\n");
    message.push_str("Message-Id: <demo@ehlo.test>\n\n");
    message.push_str("Hello Bob,\n.this line starts with a dot: ehlo doubles it on the wire\n");
    // The one-shot send that does exactly what follows: every setting of `plan` and `connect`
    // below as a flag, one group a line (a `\` continuing it), so the command reads at 80
    // columns; the message as --data TEXT whose line breaks are the message's (inside single
    // quotes a shell keeps them, and --data takes them as they are).
    let intro = Event::info(format!(
        "ehlo demo: an embedded SMTP server listens on localhost:{port}\n\
         (STARTTLS, AUTH for user '{USER}'; it refuses nobody@demo.test).\n\
         The send below is the same as running this one-shot command while the\n\
         demo runs (its certificate and password files are removed after it):\n\
         \x20 ehlo --server localhost:{port} \\\n\
         \x20   --tls --tls-ca-path {cert} \\\n\
         \x20   --auth --auth-user {USER} \\\n\
         \x20   --auth-password-file {pw} \\\n\
         \x20   --helo client.demo.test --from alice@demo.test \\\n\
         \x20   --to bob@demo.test,nobody@demo.test \\\n\
         \x20   --data '{message}'",
        cert = shell_word(&cert_path.display().to_string()),
        pw = shell_word(&password_path.display().to_string()),
    ));
    let connect = Link {
        tls: TlsParams {
            verify: true,
            ca_path: Some(cert_path),
            ..TlsParams::default()
        },
        timeout: Duration::from_secs(10),
        connect_timeout: Duration::from_secs(5),
        ..Link::default()
    }
    .to(Target::Host {
        host: "localhost".into(),
        port,
    });
    let plan = Plan {
        helo: "client.demo.test".into(),
        starttls: StartTls::Required,
        auth: Some(AuthPlan {
            requirement: AuthRequirement::Required,
            credentials: Credentials {
                user: USER.into(),
                password: Some(Secret::new(PASSWORD)),
                nonce: crate::net::tls::scram_nonce(),
                ..Credentials::default()
            },
            ..AuthPlan::default()
        }),
        from: "alice@demo.test".into(),
        rcpts: vec!["bob@demo.test".into(), "nobody@demo.test".into()],
        message: message.into_bytes(),
        ..Plan::default()
    };
    // The send goes over loopback. Where it cannot be reached (`lo` down, as in a fresh
    // network namespace: binding 127.0.0.1 still works there, connecting does not), the
    // send's own failed attempt on the server's address says so: once, instead of its
    // attempts and errors.
    let mut sink = DemoSink {
        inner: renderer,
        server: server.addr().to_string(),
        waiting: Some(vec![(intro, start.elapsed())]),
        offset: start.elapsed(),
        refused: None,
        held: None,
    };
    let code = crate::net::driver::send(&connect, plan, &mut sink).await;
    if sink.waiting.is_some()
        && let Some((reason, cause)) = sink.refused.take()
    {
        server.shutdown().await;
        let message = loopback_message(&reason, cause);
        return Err(unprepared(renderer, message, start.elapsed()));
    }
    sink.release();
    let summary = sink.held;
    let stored = server.messages();
    server.shutdown().await;
    say(
        renderer.as_mut(),
        &format!(
            "the embedded server stored {} message{}:",
            stored.len(),
            crate::smtp::event::plural_s(stored.len())
        ),
    );
    for m in &stored {
        say(
            renderer.as_mut(),
            &format!(
                "  from=<{}> to={} tls={} auth={} bytes={}",
                m.from,
                m.rcpts
                    .iter()
                    .map(|r| format!("<{r}>"))
                    .collect::<Vec<_>>()
                    .join(","),
                m.tls,
                m.auth_user.as_deref().unwrap_or("-"),
                m.content.len()
            ),
        );
        for line in String::from_utf8_lossy(&m.content).lines() {
            say(renderer.as_mut(), &format!("  | {line}"));
        }
    }
    Ok((code, summary))
}

/// `word` as a POSIX shell reads it back as one word: as it is when it holds only characters
/// no shell treats specially, else single-quoted (a `'` inside written `'\''`), so the printed
/// command can be pasted whatever TMPDIR is.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "@%_+=:,./-".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// Write a self-signed certificate for localhost and its key into a new directory under `tmp`:
/// the directory (to remove afterwards) and the two paths, or the reason it failed.
fn prepare_certificate(tmp: &std::path::Path) -> (PathBuf, Result<(PathBuf, PathBuf), String>) {
    let mut dir = tmp.join(format!("ehlo-demo-{}", std::process::id()));
    let result = (|| {
        let (cert, key) =
            crate::net::tls::self_signed(&["localhost"]).map_err(|e| e.to_string())?;
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        // A stale directory of the same name (an earlier run with the same pid): try another.
        let mut n = 0;
        loop {
            match builder.create(&dir) {
                Ok(()) => break,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 16 => {
                    n += 1;
                    dir = tmp.join(format!("ehlo-demo-{}-{n}", std::process::id()));
                }
                Err(e) => return Err(e.to_string()),
            }
        }
        let cert_path = dir.join("cert.pem");
        let key_path = dir.join("key.pem");
        let written = (|| {
            let cert_pem = cert.to_pem().map_err(|e| e.to_string())?;
            let key_pem = key.private_key_to_pem_pkcs8().map_err(|e| e.to_string())?;
            std::fs::write(&cert_path, cert_pem).map_err(|e| e.to_string())?;
            std::fs::write(&key_path, key_pem).map_err(|e| e.to_string())
        })();
        if written.is_err() {
            // Ours (just created): leave nothing behind.
            let _ = std::fs::remove_dir_all(&dir);
        }
        written.map(|()| (cert_path, key_path))
    })();
    (dir, result)
}

#[cfg(test)]
mod tests {
    use super::{ConnectCause, loopback_message, shell_word};

    /// The send's failed attempt is said in words by the kind the connection layer gave it
    /// (no second connection is made, no text parsed back); a kind without words here quotes
    /// the reason as it is.
    #[test]
    fn the_send_s_connect_error_is_said_in_words() {
        for (cause, words) in [
            (
                ConnectCause::NetworkUnreachable,
                "(network unreachable connecting",
            ),
            (
                ConnectCause::AddressUnavailable,
                "(address not available connecting",
            ),
            (ConnectCause::Refused, "(connection refused connecting"),
            (ConnectCause::TimedOut, "(no answer within 5 s connecting"),
            (ConnectCause::Other, "(something else connecting"),
        ] {
            let said = loopback_message("something else", cause);
            assert!(said.contains(words), "{cause:?}: {said}");
            assert!(said.contains("ip link set lo up"), "{said}");
        }
    }

    /// What `sh` reads back from a quoted word is the word itself.
    #[test]
    fn shell_words_survive_the_shell() {
        for word in [
            "/tmp/ehlo-demo-1/cert.pem",
            "/tmp/my tmp/x",
            "it's",
            "$HOME `x` \\ \"q\"",
            "",
        ] {
            let out = std::process::Command::new("/bin/sh")
                .arg("-c")
                .arg(format!("printf %s {}", shell_word(word)))
                .output()
                .expect("run /bin/sh");
            assert_eq!(
                String::from_utf8_lossy(&out.stdout),
                word,
                "{}",
                shell_word(word)
            );
        }
        assert_eq!(shell_word("/tmp/a/cert.pem"), "/tmp/a/cert.pem");
    }
}
