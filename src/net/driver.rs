//! The async driver: opens the transport, pumps bytes between it and `smtp::client::Session`
//! under per-phase timeouts, performs the TLS upgrade when the session asks, and hands every event
//! to the one renderer.

use crate::cli::config::SendConfig;
use crate::render::Renderer;

/// Run a one-shot send: resolve, connect, drive the session, render every event (the error and
/// the summary included) and return the exit code. TODO(lead): implement.
pub async fn send(cfg: SendConfig, renderer: &mut dyn Renderer) -> u8 {
    let _ = (cfg, renderer);
    0
}
