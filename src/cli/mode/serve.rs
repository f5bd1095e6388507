//! `ehlo serve` flags → `ServeOptions`.

use super::{simple_format, usage};
use crate::cli::args::ServeArgs;
use crate::error::Error;
use crate::serve::ServeOptions;

pub(super) fn serve_options(a: ServeArgs) -> Result<ServeOptions, Error> {
    let max_sessions = a
        .max_sessions
        .map(usize::try_from)
        .transpose()
        .map_err(|_| usage("--max-sessions: too large"))?;
    Ok(ServeOptions {
        listen: a.listen,
        tls_on_connect: a.tls_on_connect,
        starttls: a.starttls,
        cert: a.tls_cert,
        key: a.tls_key,
        users: a.user,
        accept_any_auth: a.accept_any_auth,
        auth_before_tls: a.auth_before_tls,
        faults: a.fail,
        delays: a.delay,
        hide: a.hide,
        lmtp: a.lmtp,
        max_size: a.max_size,
        maildir: a.maildir,
        mbox: a.mbox,
        seed: a.seed,
        hostname: a.hostname,
        max_sessions,
        max_connections: usize::try_from(a.max_connections)
            .map_err(|_| usage("--max-connections: too large"))?,
        idle_timeout: a.idle_timeout,
        max_auth_failures: a.max_auth_failures,
        quirks: crate::smtp::server::Quirks::parse(&a.quirk).map_err(usage)?,
        greet_pause: std::time::Duration::from_millis(a.greet_pause),
        format: simple_format(a.json, a.color),
        quiet: a.quiet,
    })
}
