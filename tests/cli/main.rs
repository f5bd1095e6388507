//! The one integration-test binary (one test binary links and builds once): each concern is a module here, so a
//! forgotten `mod` line is a compile error rather than a silently skipped test.

mod boundary;
mod build_script;
mod check;
mod citations;
mod completion_offers;
mod config;
mod dane;
mod deadline;
mod demo;
mod edges;
mod env_modes;
mod exit_codes;
mod explain;
mod ext;
mod generated;
mod help;
mod hostile;
mod json;
mod locale;
mod lost_output;
mod message;
mod mx;
mod probe;
mod repl_failures;
mod repl_secrets;
mod repl_steps;
mod replies;
mod serve;
mod serve_disk;
mod serve_limits;
mod swaks_compat;
mod swaks_peer;
mod tlsauth;
mod transcript;
mod util;
