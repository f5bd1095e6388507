#!/usr/bin/env bash
# tests/interop/teardown.sh — stop the peers that setup.sh started (postfix, dovecot, the aiosmtpd servers, exim, nsd, unbound).
# Stops each by its own pid file / control command, never by process name. Leaves logs, the
# Maildir and the sink directory in /tmp/ehlo-interop for inspection.
set -uo pipefail

STATE=/tmp/ehlo-interop

if command -v postfix >/dev/null && postfix status >/dev/null 2>&1; then
  postfix stop >/dev/null 2>&1 || true
  echo "[interop-teardown] postfix stopped"
fi
for pidfile in "$STATE/dovecot/run/master.pid" "$STATE/aiosmtpd.pid" "$STATE/aiosmtpd-auth.pid" \
  "$STATE/aiosmtpd-proxy.pid"; do
  [[ -s "$pidfile" ]] || continue
  pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
    echo "[interop-teardown] stopped pid $pid ($pidfile)"
  fi
  rm -f "$pidfile"
done
bash "$(dirname "${BASH_SOURCE[0]}")/exim.sh" stop
bash "$(dirname "${BASH_SOURCE[0]}")/dnssec.sh" stop
exit 0
