//! Colours named by meaning (sent, received, tls, error, info) and the colour decision
//! (`--color`, NO_COLOR, CLICOLOR_FORCE, TERM=dumb, stderr's own tty).
//!
//! TODO(render helper): implement.
