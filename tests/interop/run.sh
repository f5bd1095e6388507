#!/usr/bin/env bash
# tests/interop/run.sh — start the interop peers, run the ignored interop suite, stop the peers.
#
#   bash tests/interop/run.sh [extra libtest args, e.g. a test-name filter]
#
# Run as root from anywhere. Teardown runs whatever the outcome; the exit status is the suite's.
# Set EHLO_INTEROP_KEEP=1 to leave the peers running afterwards (for poking at them by hand).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

cleanup() {
  if [[ "${EHLO_INTEROP_KEEP:-0}" != 1 ]]; then
    bash "$ROOT/tests/interop/teardown.sh" || true
  fi
}
trap cleanup EXIT

bash "$ROOT/tests/interop/setup.sh"

export CARGO_TERM_COLOR=never
# One thread: the tests share the peers' mailboxes and the aiosmtpd sink directory.
cargo test --locked --test interop -- --ignored --test-threads=1 "$@"
# The REPL typed into a real (in-process) pseudo-terminal against Postfix.
cargo test --locked --test repl -- --ignored --test-threads=1 "$@"
# The end-to-end tests that run the real swaks beside ehlo (ignored in `cargo test`, whose
# README promise is a machine with only the Rust toolchain). Not given "$@": another filter
# would let in the cli binary's other ignored tests (namespace halves, a full-scale run).
# Several threads: each of these tests starts servers of its own on free ports (none uses the
# peers above), and most of their time is waiting on swaks, a timeout or a delay.
cargo test --locked --test cli -- --ignored --test-threads=4 swaks
# The one other ignored cli test meant for here: the real curl and python3 send through
# `ehlo serve --accept-proxy` (the filter above does not name it).
cargo test --locked --test cli -- --ignored --test-threads=1 --exact \
  serve::curl_and_python_send_through_proxy_protocol
