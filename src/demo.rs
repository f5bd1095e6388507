//! `ehlo demo`: starts the embedded server on 127.0.0.1:0 and runs a full annotated send against
//! it, so a fresh machine with no mail server and no network sees ehlo's main job.

use crate::render::Format;

/// Run the demo; returns the exit code. TODO(lead): implement.
pub async fn run(format: Format) -> u8 {
    let _ = format;
    0
}
