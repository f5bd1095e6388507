//! Completions and man pages generated from the one flag table, into memory (the committed
//! `completions/` and `man/` are checked against this by a test).
//!
//! TODO(cli helper): implement.
