#!/usr/bin/env bash
# benches/bench.sh — one-shot send latency and memory: ehlo vs swaks vs curl, against the local
# Postfix on 127.0.0.1:2525 (plain SMTP, no TLS), the same small message each time.
#
#   bash benches/bench.sh [N]        N rounds (default 30, or $BENCH_ROUNDS)
#
# Each round runs every tool once, in a rotating order (so no tool always goes first after a
# quiet period), after one untimed warm-up send per tool. Per run it measures the wall time
# (monotonic clock around posix_spawn + wait4 of the tool itself, no wrapper process) and the
# peak RSS (`/usr/bin/time -f %M`, in five separate runs per tool). It prints
# the median ms per tool, the ratios ehlo/swaks and ehlo/curl, and the peak RSS in MiB.
# Uses the release binary ($CARGO_TARGET_DIR or target)/release/ehlo, building it if missing
# (or $EHLO_BIN if set).
# If Postfix is not listening, it runs tests/interop/setup.sh (root) and tears down afterwards.
# Not part of CI. Loopback only; bounded: N rounds of 3 sends, each killed after 60 s.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
ROUNDS="${1:-${BENCH_ROUNDS:-30}}"
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || {
  echo "usage: $0 [ROUNDS>0]" >&2
  exit 1
}
SERVER=127.0.0.1:2525
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
EHLO="${EHLO_BIN:-$TARGET_DIR/release/ehlo}" # EHLO_BIN: measure another build

for tool in swaks curl /usr/bin/time /usr/bin/python3; do
  command -v "$tool" >/dev/null || {
    echo "bench: $tool missing; run: bash tests/interop/setup.sh --install-only" >&2
    exit 1
  }
done

if [[ ! -x "$EHLO" ]]; then
  echo "bench: building release binary ($EHLO)"
  cargo build --release --locked
fi

STARTED_PEERS=0
if ! timeout 1 bash -c "exec 3<>/dev/tcp/${SERVER%:*}/${SERVER#*:}" 2>/dev/null; then
  echo "bench: Postfix not listening on $SERVER, starting the interop peers"
  bash "$ROOT/tests/interop/setup.sh"
  STARTED_PEERS=1
fi
WORK="$(mktemp -d)"
cleanup() {
  rm -rf "$WORK"
  if ((STARTED_PEERS)); then bash "$ROOT/tests/interop/teardown.sh" || true; fi
}
trap cleanup EXIT

printf 'From: bench@ehlo.test\r\nTo: ehlotest@ehlo.test\r\nSubject: ehlo bench\r\n\r\nA small message.\r\n' \
  >"$WORK/msg.eml"

/usr/bin/python3 - "$ROUNDS" "$SERVER" "$EHLO" "$WORK" <<'PY'
import os, shutil, statistics, subprocess, sys, time

rounds, server, ehlo, work = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
host, port = server.rsplit(":", 1)
msg = os.path.join(work, "msg.eml")
frm, to = "bench@ehlo.test", "ehlotest@ehlo.test"
tools = {
    "ehlo": [ehlo, "--color", "never", "--server", server, "--from", frm, "--to", to,
             "--data", "@" + msg],
    "swaks": ["swaks", "--server", server, "--from", frm, "--to", to, "--data", "@" + msg],
    "curl": ["curl", "--silent", "--show-error", f"smtp://{host}:{port}", "--mail-from", frm,
             "--mail-rcpt", to, "-T", msg],
}
devnull = os.open(os.devnull, os.O_RDWR)
errlog = os.path.join(work, "stderr")


def one(name):
    """Run one send; return its wall ms. posix_spawn + wait4 time the tool itself: no wrapper
    process adds its own start-up to every run."""
    argv = tools[name]
    path = shutil.which(argv[0]) or argv[0]
    err = os.open(errlog, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    actions = [(os.POSIX_SPAWN_DUP2, devnull, 0), (os.POSIX_SPAWN_DUP2, devnull, 1),
               (os.POSIX_SPAWN_DUP2, err, 2)]
    t0 = time.perf_counter_ns()
    pid = os.posix_spawn(path, argv, os.environ, file_actions=actions)
    _, status, _ = os.wait4(pid, 0)
    ms = (time.perf_counter_ns() - t0) / 1e6
    os.close(err)
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        with open(errlog, errors="replace") as f:
            sys.exit(f"bench: {name} exited {code}: {f.read()[-2000:]}")
    return ms


def peak_rss(name):
    """Peak RSS in KiB, from /usr/bin/time in runs of their own (a child's ru_maxrss counts the
    memory of the process that spawned it, so it cannot be read from the timed runs)."""
    out = os.path.join(work, "rss")
    subprocess.run(["/usr/bin/time", "-f", "%M", "-o", out] + tools[name],
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=60, check=True)
    with open(out) as f:
        return int(f.read().strip().splitlines()[-1])


names = list(tools)
for name in names:  # warm-up: page cache, Postfix processes already forked
    one(name)
wall = {n: [] for n in names}
for i in range(rounds):
    order = names[i % len(names):] + names[:i % len(names)]
    for name in order:
        wall[name].append(one(name))
rss = {n: [peak_rss(n) for _ in range(5)] for n in names}

med = {n: statistics.median(wall[n]) for n in names}
print(f"\n{rounds} rounds against {server} (plain SMTP, one message per run)\n")
print(f"{'tool':<6} {'median ms':>10} {'min ms':>8} {'max ms':>8} {'peak RSS MiB':>13}")
for n in names:
    print(f"{n:<6} {med[n]:>10.1f} {min(wall[n]):>8.1f} {max(wall[n]):>8.1f} "
          f"{max(rss[n]) / 1024:>13.1f}")
print(f"\nratio ehlo/swaks (median wall): {med['ehlo'] / med['swaks']:.2f}")
print(f"ratio ehlo/curl  (median wall): {med['ehlo'] / med['curl']:.2f}")
PY
