//! No core dump of ehlo: RLIMIT_CORE's soft limit set to 0 at the start of every run, as
//! ssh-agent and gpg-agent do, since memory holds AUTH passwords and tokens and `serve`'s
//! `--user` credentials; and the limit the user had given back to the programs ehlo starts for
//! them (the `--pipe` command, the REPL's `:edit` editor) through a relaunch of the binary.
//!
//! Only the soft limit: it is the one the kernel reads when it writes a core (core(5)) and the
//! one it hands a `core_pattern` pipe such as systemd-coredump (`%c`, which it honours; the
//! kernel itself does not stop a piped dump for it); the hard limit stays,
//! so that a started program can be given its limit back without privilege. Not
//! PR_SET_DUMPABLE (prctl(2)): that would also refuse the user's own strace or gdb.

use std::ffi::OsString;
use std::sync::OnceLock;

use nix::sys::resource::{RLIM_INFINITY, Resource, getrlimit, rlim_t, setrlimit};

/// The soft limit ehlo started with, when it lowered it (`None`: nothing to give back).
static ORIGINAL: OnceLock<Option<rlim_t>> = OnceLock::new();

/// The first argument that makes the `ehlo` binary set the soft core limit and exec a program
/// ([`exec_launcher`]).
const EXEC_ARG: &str = "--ehlo-internal-core-exec";

/// Lower the soft core limit to 0; remember once what it was. A failure is no reason to refuse
/// a run: it goes unsaid.
pub(crate) fn forbid() {
    let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_CORE) else {
        return;
    };
    // A second call finds the limit at 0 already: what was given back stays the first one.
    if ORIGINAL
        .get_or_init(|| (soft != 0).then_some(soft))
        .is_some()
    {
        let _ = setrlimit(Resource::RLIMIT_CORE, 0, hard);
    }
}

/// Whether [`forbid`] lowered the limit (there is one to give back).
fn lowered() -> bool {
    ORIGINAL.get().copied().flatten().is_some()
}

/// The original soft limit as a launcher's argument: `-` (leave as is), `unlimited` or bytes.
pub(crate) fn original_arg() -> String {
    match ORIGINAL.get().copied().flatten() {
        None => "-".into(),
        Some(RLIM_INFINITY) => "unlimited".into(),
        Some(n) => n.to_string(),
    }
}

/// Set the soft core limit back to `arg` ([`original_arg`]), in a launcher about to exec the
/// user's program. Bounded by the hard limit; a failure leaves 0.
pub(crate) fn restore(arg: &std::ffi::OsStr) {
    let soft = match arg.to_str() {
        Some("unlimited") => RLIM_INFINITY,
        Some(n) => match n.parse::<rlim_t>() {
            Ok(n) => n,
            Err(_) => return,
        },
        None => return,
    };
    if let Ok((_, hard)) = getrlimit(Resource::RLIMIT_CORE) {
        // RLIM_INFINITY is the largest value: the minimum is right for it too.
        let _ = setrlimit(Resource::RLIMIT_CORE, soft.min(hard), hard);
    }
}

/// `program args` to spawn with the user's core limit: through the `ehlo` binary as launcher
/// when this is that binary and the limit was lowered; else directly (the program then runs
/// with a soft core limit of 0, as a test program's children do).
pub(crate) fn command(program: &str) -> tokio::process::Command {
    if lowered() && crate::net::conn::can_relaunch() {
        let mut cmd = tokio::process::Command::new("/proc/self/exe");
        cmd.arg(EXEC_ARG).arg(original_arg()).arg(program);
        return cmd;
    }
    tokio::process::Command::new(program)
}

/// With [`EXEC_ARG`] LIMIT PROGRAM ARGS… as its arguments the `ehlo` binary sets the soft core
/// limit and execs PROGRAM, keeping its pid; it never returns then. Otherwise it returns.
pub(crate) fn exec_launcher(args: &[OsString]) {
    if args.get(1).is_none_or(|a| a != EXEC_ARG) {
        return;
    }
    let (Some(limit), Some(program)) = (args.get(2), args.get(3)) else {
        eprintln!("ehlo: {EXEC_ARG} is internal: it takes LIMIT PROGRAM [ARGS]");
        std::process::exit(crate::error::EXIT_USAGE.into());
    };
    restore(limit);
    use std::os::unix::process::CommandExt;
    let e = std::process::Command::new(program).args(&args[4..]).exec();
    eprintln!("ehlo: cannot run {}: {e}", program.to_string_lossy());
    std::process::exit(crate::error::EXIT_CANNOT_EXEC.into());
}
