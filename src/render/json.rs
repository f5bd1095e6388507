//! The JSON Lines renderer (`--json`). TODO(render helper): the schema spec goes here.

use std::io::Write;
use std::time::Duration;

use super::Renderer;
use crate::smtp::event::Event;

/// JSON Lines writer.
pub struct Json {
    out: Box<dyn Write + Send>,
}

impl Json {
    /// Writer on `out`.
    pub fn new(out: Box<dyn Write + Send>) -> Json {
        Json { out }
    }
}

impl Renderer for Json {
    fn event(&mut self, event: &Event, elapsed: Duration) {
        let mut v = serde_json::to_value(event).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.insert(
                "t_ms".into(),
                serde_json::json!(elapsed.as_secs_f64() * 1000.0),
            );
        }
        let _ = writeln!(self.out, "{v}");
    }
}
