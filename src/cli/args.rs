//! THE flag table (clap derive): swaks's vocabulary, grouped by topic.
//!
//! TODO(cli helper): implement.

use clap::Parser;

/// Debug SMTP from the shell.
#[derive(Debug, Parser)]
#[command(name = "ehlo", version)]
pub struct Cli {}
