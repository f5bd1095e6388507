//! The async driver: opens the transport, pumps bytes between it and `smtp::client::Session`
//! under per-phase timeouts, performs the TLS upgrade when the session asks, and hands every event
//! to the one renderer.
