//! The REPL's SIGINT and SIGQUIT on a terminal, taken from the kernel's queue of pending signals
//! (a Linux signalfd) instead of through a signal handler, so that whose a signal is (the
//! REPL's, or the editor's that `:edit` lent the terminal to) is decided by when it came.
//!
//! With a handler, the moment the REPL learns of a signal says little about when it came: the
//! kernel queues it, some thread runs the handler when it is next scheduled, and the runtime
//! passes it on in a later turn. A Ctrl-C that ends the editor signals the REPL and the editor
//! at once, and the REPL often learnt of it only after it had seen the editor exit: it then
//! took the signal for its own and left. Blocked in every thread, the signals stay queued until
//! read, and reading is what decides: what is queued when the editor's exit has been seen
//! came while the editor ran ([`Interrupts::discard`]).

use std::sync::Arc;
use std::time::Duration;

use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};

use crate::error::Ending;

fn set() -> SigSet {
    let mut set = SigSet::empty();
    set.add(Signal::SIGINT);
    set.add(Signal::SIGQUIT);
    set
}

/// Block SIGINT and SIGQUIT in the calling thread, and so in every thread it starts from now
/// on (call it before the runtime starts its workers), and open the queue they are read from.
/// `None`, with nothing blocked, when that fails: the signals then keep their handlers.
/// Programs the REPL starts (the editor) get them unblocked: Rust's `Command` clears the
/// signal mask in the child.
pub(crate) fn block() -> Option<SignalFd> {
    let set = set();
    set.thread_block().ok()?;
    match SignalFd::with_flags(&set, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC) {
        Ok(fd) => Some(fd),
        Err(_) => {
            let _ = set.thread_unblock();
            None
        }
    }
}

/// The queue of SIGINT and SIGQUIT opened by [`block`]. Clones share it.
#[derive(Clone)]
pub(crate) struct Interrupts(Arc<SignalFd>);

/// How often [`Interrupts::next`] looks at the queue: a signal is read at most this long
/// after it came (the terminal's reader thread wakes as often, [`super::editor`]). Not watched
/// through the runtime's reactor: tokio 1.54 deprecated `AsyncFd`'s safe constructors for
/// `unsafe` ones (tokio-rs/tokio#8587), and this crate forbids unsafe code.
const LOOK_EVERY: Duration = Duration::from_millis(50);

impl Interrupts {
    pub(crate) fn new(fd: SignalFd) -> Interrupts {
        Interrupts(Arc::new(fd))
    }

    /// The next SIGINT or SIGQUIT. Read by this task itself (the queue is looked at, not
    /// watched by another thread that would take a signal out of it at a moment of its own):
    /// what [`Interrupts::discard`] leaves is read here, and only that.
    pub(crate) async fn next(&self) -> Ending {
        loop {
            match self.0.read_signal() {
                Ok(Some(info)) if info.ssi_signo == Signal::SIGQUIT as u32 => return Ending::Quit,
                Ok(Some(_)) => return Ending::Int,
                Ok(None) => tokio::time::sleep(LOOK_EVERY).await,
                Err(_) => return std::future::pending().await,
            }
        }
    }

    /// Drop whatever is queued now: signals that came before this call.
    pub(crate) fn discard(&self) {
        while let Ok(Some(_)) = self.0.read_signal() {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A queued signal is read from the queue, not acted on; [`Interrupts::discard`] drops what
    /// is queued and nothing after. Run on a thread of its own: the mask is per thread (and a
    /// process-directed signal could go to another thread of the test binary), so the signal
    /// is raised in this thread.
    #[test]
    fn queued_signals_are_read_and_discarded_in_order() {
        std::thread::spawn(|| {
            let fd = block().expect("signalfd");
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let i = Interrupts::new(fd);
                nix::sys::signal::raise(Signal::SIGQUIT).unwrap();
                let got = tokio::time::timeout(std::time::Duration::from_secs(5), i.next()).await;
                assert_eq!(got.ok(), Some(Ending::Quit));
                nix::sys::signal::raise(Signal::SIGINT).unwrap();
                i.discard();
                let none =
                    tokio::time::timeout(std::time::Duration::from_millis(200), i.next()).await;
                assert!(none.is_err(), "a discarded signal was read");
                nix::sys::signal::raise(Signal::SIGINT).unwrap();
                let got = tokio::time::timeout(std::time::Duration::from_secs(5), i.next()).await;
                assert_eq!(got.ok(), Some(Ending::Int));
                // A signal that comes while `next` waits (nothing queued when it started) is
                // read too.
                let raise_later = async {
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    nix::sys::signal::raise(Signal::SIGQUIT).unwrap();
                    std::future::pending::<()>().await
                };
                let got = tokio::time::timeout(std::time::Duration::from_secs(5), async {
                    tokio::select! {
                        e = i.next() => e,
                        _ = raise_later => unreachable!(),
                    }
                })
                .await;
                assert_eq!(got.ok(), Some(Ending::Quit));
            });
        })
        .join()
        .unwrap();
    }
}
