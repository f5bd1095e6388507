#!/usr/bin/env bash
# benches/bench.sh — the speed and memory goals of ehlo, measured side by side in one run against
# the local interop peers (tests/interop/setup.sh), loopback only:
#
#   1. plain send (127.0.0.1:2525): ehlo vs `curl smtp://` vs swaks, wall time; beside them the
#      floor, Postfix's own C client `smtp-source -m 1` (HELO, MAIL, RCPT, DATA, QUIT: a round
#      trip each, as ehlo's send, and one small message): what any client reaches on this server;
#      and below it benches/min-client.c, the same dialogue from a statically linked C program
#      that does nothing else (no options, no dynamic loader, no output);
#   2. implicit TLS + AUTH PLAIN + one message (Postfix 127.0.0.1:4466, CA given to both):
#      ehlo vs `curl smtps:// --cacert`, CPU (user + system) and wall time;
#   3. peak RSS of ehlo's plain and TLS sends (and curl's, for scale), and beside it each one's
#      peak anonymous memory: its own memory, apart from the file pages it maps;
#   4. `ehlo serve --quiet` vs Postfix's `smtp-sink` as the sink of
#      `smtp-source -s 20 -m 5000 -l 1024` (5000 messages of 1 KB over 20 sessions): the wall
#      time of each run, and beside it each server's own CPU time (user + system of the server
#      process over the run, /proc/PID/stat) and smtp-source's: the wall time is mostly the
#      load generator's own CPU, so the servers' CPU is what tells their work apart;
#   5. the size of the stripped release binary; with BENCH_COLD_BUILD=1 also a cold release
#      build (an empty target directory, OpenSSL compiled from source too);
#   6. `ehlo check` of 1000 generated domains on loopback at concurrency 100, beside a shell
#      loop of one-shot sends doing the same SMTP work (benches/check.sh, also runnable alone).
#
#   bash benches/bench.sh [N]      N rounds of sends (default 30, or $BENCH_ROUNDS);
#                                  serve rounds: $BENCH_SERVE_ROUNDS (default 5)
#   BENCH_ONLY=serve bash benches/bench.sh
#                                  part 4 alone (no peers needed): its lines as in a full run
#   BENCH_ONLY=send bash benches/bench.sh [N]
#                                  parts 1-3 and the binary's size alone (no serve, no check)
#
# Timing is its own: each tool is started with posix_spawn and reaped with wait4, so the wall time
# is a monotonic clock around the tool itself (no wrapper process) and the CPU time is the
# kernel's accounting of that child. Rounds alternate the tools (A B, B A, …) and ratios are
# taken pair by pair within a round, then the median of those ratios is printed, so a machine
# whose speed drifts during the run still gives a fair ratio. Peak RSS comes from
# `/usr/bin/time -f %M` in runs of their own (a child's ru_maxrss would include the memory of
# the Python process that spawned it), the largest of 5. Most of a send's RSS is pages of ehlo's
# own file, and how many of those a fault maps depends on how the file came into the page cache:
# since Linux 6.16 ext4 keeps file pages in large folios, and a binary just written by the linker
# (or `cp`, `cargo install`) mapped about 0.5 MiB more for the plain send (6.5-6.9 against
# 5.9-6.2 MiB, one binary) than the same bytes read back from disk by the runs themselves. So
# ehlo's peak RSS is measured twice: as the build left the file in the page cache, then after
# dropping the file from it (fsync + POSIX_FADV_DONTNEED, one run unmeasured to read it back),
# as after a reboot; the table and the goal line give the second, the goal line names the first.
# What a process can itself make smaller is the rest, its anonymous memory: heap, stacks, the
# writable data of the binary and its libraries, and the private copies of the pages the loader
# relocates (a PIE's .data.rel.ro). The kernel keeps no peak of it, and VmHWM minus the file pages
# at exit would be wrong (the two peaks need not coincide), so the bench finds it under ptrace:
# anonymous memory grows only by page faults and, without swap, shrinks only in a system call
# (munmap, brk, madvise, mremap, mmap over a mapping, exit), so its largest value is one it has
# at the entry of some system call. The bench reads `Anonymous:` of /proc/PID/smaps_rollup (a
# walk of the page tables, exact, unlike the status file's approximate counters) at every
# system-call stop and at the exit, threads included, and prints the largest (of 5 runs). The
# page cache has no part in it: it is the same before and after the file is dropped from it.
#
# Uses the release binary ($CARGO_TARGET_DIR or target)/release/ehlo, building it if missing
# (or $EHLO_BIN if set). If Postfix is not listening, it runs tests/interop/setup.sh (root) and
# tears down afterwards. Not part of CI. Bounded: every process is killed after 120 s.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
ROUNDS="${1:-${BENCH_ROUNDS:-30}}"
SERVE_ROUNDS="${BENCH_SERVE_ROUNDS:-5}"
ONLY="${BENCH_ONLY:-}"
[[ -z "$ONLY" || "$ONLY" == serve || "$ONLY" == send ]] || {
  echo "bench: BENCH_ONLY is empty, serve or send, not $ONLY" >&2
  exit 1
}
for n in "$ROUNDS" "$SERVE_ROUNDS"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || {
    echo "usage: $0 [ROUNDS>0]  (BENCH_SERVE_ROUNDS>0)" >&2
    exit 1
  }
done
STATE=/tmp/ehlo-interop
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
EHLO="${EHLO_BIN:-$TARGET_DIR/release/ehlo}" # EHLO_BIN: measure another build

for tool in swaks curl /usr/bin/time /usr/bin/python3 /usr/sbin/smtp-source /usr/sbin/smtp-sink; do
  command -v "$tool" >/dev/null || {
    echo "bench: $tool missing; run: bash tests/interop/setup.sh --install-only" >&2
    exit 1
  }
done

COLD_S=""
if [[ "${BENCH_COLD_BUILD:-0}" == 1 ]]; then
  COLD_DIR="$(mktemp -d)"
  echo "bench: cold release build in $COLD_DIR ($(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg))"
  t0=$EPOCHREALTIME
  CARGO_TARGET_DIR="$COLD_DIR" cargo build --release --locked --quiet
  COLD_S=$(/usr/bin/python3 -c "print($EPOCHREALTIME - $t0)")
  rm -rf "$COLD_DIR"
fi
if [[ ! -x "$EHLO" ]]; then
  echo "bench: building release binary ($EHLO)"
  cargo build --release --locked
fi

STARTED_PEERS=0
if [[ "$ONLY" != serve ]] && ! timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/4466" 2>/dev/null; then
  echo "bench: Postfix not listening on 127.0.0.1:4466, starting the interop peers"
  bash "$ROOT/tests/interop/setup.sh"
  STARTED_PEERS=1
fi
WORK="$(mktemp -d)"
cleanup() {
  rm -rf "$WORK"
  if ((STARTED_PEERS)); then bash "$ROOT/tests/interop/teardown.sh" || true; fi
}
trap cleanup EXIT

# The floor below the floor: compiled here, statically (no dynamic loader in its start).
if [[ "$ONLY" != serve ]]; then
  cc -O2 -static -o "$WORK/min-client" "$ROOT/benches/min-client.c"
fi

printf 'From: bench@ehlo.test\r\nTo: ehlotest@ehlo.test\r\nSubject: ehlo bench\r\n\r\nA small message.\r\n' \
  >"$WORK/msg.eml"

/usr/bin/python3 - "$ROUNDS" "$SERVE_ROUNDS" "$EHLO" "$WORK" "$STATE/postfix.pem" "$COLD_S" "$ONLY" <<'PY'
import ctypes, os, shutil, socket, statistics, subprocess, sys, time

rounds, serve_rounds = int(sys.argv[1]), int(sys.argv[2])
ehlo, work, ca, cold = sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
sends = sys.argv[7] != "serve"  # BENCH_ONLY=serve: part 4 alone
serve = sys.argv[7] != "send"  # BENCH_ONLY=send: parts 1-3 alone
msg = os.path.join(work, "msg.eml")
frm, to = "bench@ehlo.test", "ehlotest@ehlo.test"
user, password = "ehlotest", "interop-secret-1"
plain, smtps = "127.0.0.1:2525", "127.0.0.1:4466"
tools = {
    "ehlo": [ehlo, "--color", "never", "--server", plain, "--from", frm, "--to", to,
             "--data", "@" + msg],
    "swaks": ["swaks", "--server", plain, "--from", frm, "--to", to, "--data", "@" + msg],
    "curl": ["curl", "--silent", "--show-error", f"smtp://{plain}", "--mail-from", frm,
             "--mail-rcpt", to, "-T", msg],
    "floor": ["/usr/sbin/smtp-source", "-m", "1", "-f", frm, "-t", to, plain],
    "min": [os.path.join(work, "min-client"), plain.split(":")[1], frm, to, msg],
    "ehlo-tls": [ehlo, "--color", "never", "--server", smtps, "--tls-on-connect",
                 "--tls-ca-path", ca, "--auth", "PLAIN", "--auth-user", user,
                 "--auth-password", password, "--from", frm, "--to", to, "--data", "@" + msg],
    "curl-tls": ["curl", "--silent", "--show-error", f"smtps://{smtps}", "--cacert", ca,
                 "--user", f"{user}:{password}", "--login-options", "AUTH=PLAIN",
                 "--mail-from", frm, "--mail-rcpt", to, "-T", msg],
}
devnull = os.open(os.devnull, os.O_RDWR)
errlog = os.path.join(work, "stderr")


def run(argv, name):
    """Run one process to its end; return (wall ms, cpu ms). posix_spawn + wait4 time the tool
    itself: no wrapper process adds its own start-up to every run."""
    path = shutil.which(argv[0]) or argv[0]
    err = os.open(errlog, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    actions = [(os.POSIX_SPAWN_DUP2, devnull, 0), (os.POSIX_SPAWN_DUP2, devnull, 1),
               (os.POSIX_SPAWN_DUP2, err, 2)]
    t0 = time.perf_counter_ns()
    pid = os.posix_spawn(path, argv, os.environ, file_actions=actions)
    _, status, ru = os.wait4(pid, 0)
    ms = (time.perf_counter_ns() - t0) / 1e6
    os.close(err)
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        with open(errlog, errors="replace") as f:
            sys.exit(f"bench: {name} exited {code}: {f.read()[-2000:]}")
    return ms, (ru.ru_utime + ru.ru_stime) * 1000


def peak_rss(name):
    """Peak RSS in KiB, from /usr/bin/time in a run of its own."""
    out = os.path.join(work, "rss")
    subprocess.run(["/usr/bin/time", "-f", "%M", "-o", out] + tools[name],
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=120, check=True)
    with open(out) as f:
        return int(f.read().strip().splitlines()[-1])


_libc = ctypes.CDLL(None, use_errno=True)
_libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]


def anon_kib(pid):
    """Anonymous memory mapped by pid now, in KiB: a walk of its page tables by the kernel."""
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith("Anonymous:"):
                return int(line.split()[1])
    return 0


def peak_anon(name):
    """Peak anonymous memory in KiB of one run: the largest of anon_kib at each system-call
    stop (entry and exit) of every thread and at the exit stop, under ptrace (see the header)."""
    argv = tools[name]
    path = shutil.which(argv[0]) or argv[0]
    traceme, syscall, setoptions = 0, 24, 0x4200
    options = 0x1 | 0x8 | 0x40  # PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXIT
    pid = os.fork()
    if pid == 0:
        try:
            fd = os.open(os.devnull, os.O_RDWR)
            for n in (0, 1, 2):
                os.dup2(fd, n)
            _libc.ptrace(traceme, 0, None, None)
            os.execv(path, argv)
        finally:
            os._exit(127)
    os.waitpid(pid, 0)  # stopped by its exec: nothing of the tool has run yet
    if _libc.ptrace(setoptions, pid, None, ctypes.c_void_p(options)) != 0:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        sys.exit(f"bench: ptrace of {name} refused (errno {ctypes.get_errno()})")
    _libc.ptrace(syscall, pid, None, None)
    peak, deadline = 0, time.monotonic() + 120
    while True:
        tid, status = os.waitpid(-1, 0x40000000)  # __WALL: its threads too
        if os.WIFEXITED(status) or os.WIFSIGNALED(status):
            if tid != pid:
                continue
            if os.waitstatus_to_exitcode(status) != 0:
                sys.exit(f"bench: {name} exited {os.waitstatus_to_exitcode(status)} under ptrace")
            return peak
        sig = os.WSTOPSIG(status)
        if sig == 0x85 or status >> 16:  # a system-call stop, or an event (clone, exit)
            try:
                peak = max(peak, anon_kib(pid))
            except OSError:
                pass  # the process is going
            sig = 0
        elif sig in (5, 19):  # SIGTRAP, or the SIGSTOP a new thread starts with
            sig = 0
        if time.monotonic() > deadline:
            os.kill(pid, 9)
        _libc.ptrace(syscall, tid, None, ctypes.c_void_p(sig))


def drop_from_page_cache(path):
    """Drop a file's pages from the page cache (written back first), so that the next run
    reads it from disk as after a reboot."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


QUEUES = ["/var/spool/postfix/incoming", "/var/spool/postfix/active"]


def server_idle():
    """Wait (at most 2 s) until Postfix has delivered the last message: its local delivery runs
    after the client has gone, and on two cores it would otherwise share the CPU with whichever
    tool runs next, so a tool's time would depend on the tool before it."""
    for _ in range(200):
        if not any(files for q in QUEUES for _, _, files in os.walk(q)):
            return
        time.sleep(0.01)


TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")


def cpu_ms(pid):
    """CPU time (user + system) a running process has used so far, all its threads (those
    ended too), in ms: /proc/PID/stat's utime and stime (proc(5)), in clock ticks."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * TICK_MS  # fields 14 and 15 of proc(5)


def rounds_of(names, n, servers=None):
    """n rounds, each running every tool once in a rotating order; per tool a list of
    (wall, cpu) in round order. With servers (tool name -> pid of the server it loads), a
    third figure: that server's own CPU time over the run."""
    for name in names:  # warm-up: page cache, Postfix processes already forked
        run(tools[name], name)
    res = {name: [] for name in names}
    for i in range(n):
        for name in names[i % len(names):] + names[:i % len(names)]:
            server_idle()
            if servers:
                before = cpu_ms(servers[name])
                wall, cpu = run(tools[name], name)
                time.sleep(0.05)  # the server's last closes, after the source has gone
                res[name].append((wall, cpu, cpu_ms(servers[name]) - before))
            else:
                res[name].append(run(tools[name], name))
    return res


def med(xs):
    return statistics.median(xs)


def pair_ratio(a, b, k):
    """Median over rounds of a[i][k] / b[i][k] (k = 0 wall, 1 cpu, 2 the server's cpu)."""
    return med([x[k] / y[k] for x, y in zip(a, b) if y[k] > 0])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, proc, name):
    for _ in range(300):
        if proc.poll() is not None:
            sys.exit(f"bench: {name} exited early ({proc.returncode})")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.02)
    sys.exit(f"bench: {name} did not listen on {port}")


print(f"load average at start: {open('/proc/loadavg').read().split()[:3]}, {os.cpu_count()} cores")

# 1 + 2: sends.
if sends:
    plain_res = rounds_of(["ehlo", "swaks", "curl", "floor", "min"], rounds)
    tls_res = rounds_of(["ehlo-tls", "curl-tls"], rounds)
    # 3: memory.
    rss = {n: max(peak_rss(n) for _ in range(5)) for n in ["ehlo", "curl", "ehlo-tls", "curl-tls"]}
    rss_as_built = {n: rss[n] for n in ["ehlo", "ehlo-tls"]}
    drop_from_page_cache(ehlo)
    peak_rss("ehlo")
    rss.update({n: max(peak_rss(n) for _ in range(5)) for n in ["ehlo", "ehlo-tls"]})
    anon = {n: max(peak_anon(n) for _ in range(5)) for n in ["ehlo", "curl", "ehlo-tls", "curl-tls"]}

    print(f"\n{rounds} rounds, one message per run (medians; min–max)\n")
    print(f"{'send':<28} {'wall ms':>16} {'cpu ms':>16} {'peak RSS MiB':>13} {'anon MiB':>9}")
    labels = {"ehlo": "ehlo, plain", "swaks": "swaks, plain", "curl": "curl smtp://, plain",
              "floor": "smtp-source -m 1 (floor)", "min": "min-client.c (static)",
              "ehlo-tls": "ehlo, TLS + AUTH PLAIN", "curl-tls": "curl smtps://, TLS + AUTH"}
    for name, res in list(plain_res.items()) + list(tls_res.items()):
        w = [x[0] for x in res]
        c = [x[1] for x in res]
        r = f"{rss[name] / 1024:>13.1f} {anon[name] / 1024:>9.2f}" if name in rss else ""
        print(f"{labels[name]:<28} {med(w):>6.1f} ({min(w):.1f}–{max(w):.1f}) "
              f"{med(c):>6.1f} ({min(c):.1f}–{max(c):.1f}) {r}")

# 4: serve throughput.
if serve:
    source = ["/usr/sbin/smtp-source", "-s", "20", "-m", "5000", "-l", "1024",
              "-f", frm, "-t", to]
    p_ehlo, p_sink = free_port(), free_port()
    servers = {
        "ehlo serve": subprocess.Popen([ehlo, "serve", "--listen", f"127.0.0.1:{p_ehlo}", "--quiet",
                                        "--color", "never"],
                                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL),
        # smtp-sink refuses to run as root without -u.
        "smtp-sink": subprocess.Popen(["/usr/sbin/smtp-sink"]
                                      + (["-u", "nobody"] if os.geteuid() == 0 else [])
                                      + [f"127.0.0.1:{p_sink}", "256"],
                                      stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL),
    }
    ports = {"ehlo serve": p_ehlo, "smtp-sink": p_sink}
    try:
        for name, proc in servers.items():
            wait_listening(ports[name], proc, name)
            tools[name] = source + [f"127.0.0.1:{ports[name]}"]
        serve_res = rounds_of(list(servers), serve_rounds,
                              {name: proc.pid for name, proc in servers.items()})
    finally:
        for proc in servers.values():
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()

    print(f"\nsmtp-source -s 20 -m 5000 -l 1024, {serve_rounds} rounds (median; min–max)\n")
    print(f"{'server':<12} {'wall s':>17} {'server cpu s':>17} {'smtp-source cpu s':>20}")
    for name, res in serve_res.items():
        w, c, own = ([x[k] / 1000 for x in res] for k in (0, 1, 2))
        print(f"{name:<12} {med(w):>5.2f} ({min(w):.2f}–{max(w):.2f}) "
              f"{med(own):>5.2f} ({min(own):.2f}–{max(own):.2f}) "
              f"{med(c):>8.2f} ({min(c):.2f}–{max(c):.2f})")
    print(f"(server cpu: user + system of the server process over the run, from /proc/PID/stat "
          f"in {TICK_MS:.0f} ms ticks)")

# 5: size and build.
size = os.path.getsize(ehlo) / 1024 / 1024
print(f"\nrelease binary {ehlo}: {size:.1f} MiB (stripped by the release profile)")
if cold:
    c = float(cold)
    print(f"cold release build: {int(c // 60)} min {c % 60:.0f} s")

print("\nratios (median of per-round ratios; goal in brackets)")
if sends:
    print(f"plain send, wall, ehlo / curl smtp://      {pair_ratio(plain_res['ehlo'], plain_res['curl'], 0):.3f}  [<= 0.5]")
    print(f"plain send, wall, ehlo / swaks             {pair_ratio(plain_res['ehlo'], plain_res['swaks'], 0):.3f}  [<= 0.08]")
    floor = med([x[0] for x in plain_res["floor"]])
    print(f"  floor: Postfix's smtp-source C client, one message: {floor:.1f} ms; "
          f"ehlo / floor {pair_ratio(plain_res['ehlo'], plain_res['floor'], 0):.2f}, "
          f"curl / floor {pair_ratio(plain_res['curl'], plain_res['floor'], 0):.2f}")
    print(f"  minimal static C client: {med([x[0] for x in plain_res['min']]):.1f} ms; "
          f"ehlo / min-client {pair_ratio(plain_res['ehlo'], plain_res['min'], 0):.2f}, "
          f"ehlo - min-client {med([a[0] - b[0] for a, b in zip(plain_res['ehlo'], plain_res['min'])]):.1f} ms")
    print(f"TLS + AUTH send, CPU, ehlo / curl smtps:// {pair_ratio(tls_res['ehlo-tls'], tls_res['curl-tls'], 1):.2f}  [<= 1.0]")
    print(f"TLS + AUTH send, wall, ehlo / curl smtps://{pair_ratio(tls_res['ehlo-tls'], tls_res['curl-tls'], 0):.2f}  [<= 1.0]")
    print(f"peak RSS, plain / TLS send                 {rss['ehlo'] / 1024:.1f} / {rss['ehlo-tls'] / 1024:.1f} MiB  [<= 6 / <= 9]"
          f"  (binary read from disk; as the build left it in the page cache: "
          f"{rss_as_built['ehlo'] / 1024:.1f} / {rss_as_built['ehlo-tls'] / 1024:.1f})")
    print(f"  ehlo's own memory in it (peak anonymous): {anon['ehlo'] / 1024:.2f} / "
          f"{anon['ehlo-tls'] / 1024:.2f} MiB; curl's {anon['curl'] / 1024:.2f} / "
          f"{anon['curl-tls'] / 1024:.2f} MiB; the rest is file pages the kernel maps")
if serve:
    print(f"ehlo serve / smtp-sink, 5000 x 1 KB        {pair_ratio(serve_res['ehlo serve'], serve_res['smtp-sink'], 0):.2f}  [<= 1.0]"
          f"  (the servers' own CPU: {pair_ratio(serve_res['ehlo serve'], serve_res['smtp-sink'], 2):.2f})")
print(f"release binary, stripped                   {size:.1f} MiB  [<= 10]")
if cold:
    print(f"cold release build                         {float(cold) / 60:.1f} min  [<= 5, 2 cores]")
PY

# 6: ehlo check of many domains (its own fixture: DNS server and 50 listeners on 127.77.0.x).
if [[ -z "$ONLY" ]]; then
  EHLO_BIN="$EHLO" bash "$ROOT/benches/check.sh"
fi
