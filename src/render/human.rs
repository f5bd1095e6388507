//! The human renderer: swaks's transcript hints (`===`, `***`, ` ->`, `<- `, ` ~>`, `<~ `, `**>`,
//! `<**`), colour by meaning, reply explanations, time lapse, hex dumps and silent modes.
//!
//! TODO(render helper): implement.

use std::io::Write;
use std::time::Duration;

use super::{HumanOptions, Renderer};
use crate::smtp::event::Event;

/// Human transcript writer. Normal lines go to `out`, `***` errors to `err`.
pub struct Human {
    opts: HumanOptions,
    out: Box<dyn Write + Send>,
    err: Box<dyn Write + Send>,
}

impl Human {
    /// Writer on stdout/stderr.
    pub fn stdio(opts: HumanOptions) -> Human {
        Human::new(
            opts,
            Box::new(std::io::stdout()),
            Box::new(std::io::stderr()),
        )
    }
    /// Writer on any pair of streams (tests).
    pub fn new(
        opts: HumanOptions,
        out: Box<dyn Write + Send>,
        err: Box<dyn Write + Send>,
    ) -> Human {
        Human { opts, out, err }
    }
}

impl Renderer for Human {
    fn event(&mut self, event: &Event, elapsed: Duration) {
        let _ = (&self.opts, &mut self.err, elapsed);
        let _ = writeln!(self.out, "{event:?}");
    }
}
