#!/usr/bin/env bash
# benches/check.sh — the speed and memory goal of `ehlo check`, on loopback only:
#
#   `ehlo check` of N generated domains (default 1000) at --concurrency 100, every domain with its
#   own MX host (so nothing is shared and every MX gets its own SMTP session with STARTTLS), spread
#   over 50 `ehlo serve --starttls` listeners on 127.77.0.10-59 (the default --per-ip 2 then
#   still allows 100 sessions in flight), answered by a small DNS server run here (MX, A, TXT for
#   SPF and DMARC; NXDOMAIN for MTA-STS, TLS-RPT and DKIM, so no policy fetch happens);
#   wall and CPU time, peak RSS, and beside it the same SMTP work as a shell loop of one-shot
#   sends (`ehlo --to postmaster@D --tls --quit-after EHLO`, MX resolved through the same DNS).
#
#   bash benches/check.sh [N]     N domains (default 1000, or $BENCH_CHECK_DOMAINS);
#                                 $BENCH_CHECK_LOOP: domains in the shell loop (default N)
#
# Timing is the same as benches/bench.sh: the tool is started with posix_spawn and reaped with
# wait4 (wall = monotonic clock around the tool itself, CPU = the kernel's accounting of that
# child); peak RSS from `/usr/bin/time -f %M` in a run of its own. Uses the release binary
# ($CARGO_TARGET_DIR or target)/release/ehlo, building it if missing (or $EHLO_BIN). Needs only
# python3 (standard library) and /usr/bin/time. Not part of CI. Bounded: every run is killed
# after 300 s.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
N="${1:-${BENCH_CHECK_DOMAINS:-1000}}"
LOOP="${BENCH_CHECK_LOOP:-$N}"
for n in "$N" "$LOOP"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || {
    echo "usage: $0 [DOMAINS>0]  (BENCH_CHECK_LOOP>0)" >&2
    exit 1
  }
done
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
EHLO="${EHLO_BIN:-$TARGET_DIR/release/ehlo}"
for tool in /usr/bin/time /usr/bin/python3; do
  command -v "$tool" >/dev/null || {
    echo "bench: $tool missing; run: bash tests/interop/setup.sh --install-only" >&2
    exit 1
  }
done
if [[ ! -x "$EHLO" ]]; then
  echo "bench: building release binary ($EHLO)"
  cargo build --release --locked
fi
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

/usr/bin/python3 - "$N" "$LOOP" "$EHLO" "$WORK" <<'PY'
import os, socket, struct, subprocess, sys, threading, time

n, loop_n, ehlo, work = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
LISTENERS = 50
PORT = 2525
domains = [f"d{i:05d}.bench.test" for i in range(n)]
mx_ip = {f"mx.{d}": f"127.77.0.{10 + i % LISTENERS}" for i, d in enumerate(domains)}
dset = set(domains)

# --- a DNS server (RFC 1035 wire format, UDP), enough for the checks ---------------------------
A, MX, TXT, AAAA = 1, 15, 16, 28


def qname(buf, off):
    labels = []
    while True:
        ln = buf[off]
        off += 1
        if ln == 0:
            return ".".join(labels).lower(), off
        labels.append(buf[off:off + ln].decode("ascii", "replace"))
        off += ln


def wire(name):
    return b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"


def rr(rtype, rdata):
    # Owner: a pointer to the question's name (offset 12).
    return struct.pack(">HHHIH", 0xC00C, rtype, 1, 300, len(rdata)) + rdata


def answer(name, qtype):
    """(rcode, [records])"""
    if name in dset:
        if qtype == MX:
            return 0, [rr(MX, struct.pack(">H", 10) + wire("mx." + name))]
        if qtype == TXT:
            t = b"v=spf1 mx -all"
            return 0, [rr(TXT, bytes([len(t)]) + t)]
        return 0, []
    if name in mx_ip:
        if qtype == A:
            return 0, [rr(A, socket.inet_aton(mx_ip[name]))]
        return 0, []
    if name.startswith("_dmarc.") and name[7:] in dset:
        if qtype == TXT:
            t = b"v=DMARC1; p=reject"
            return 0, [rr(TXT, bytes([len(t)]) + t)]
        return 0, []
    return 3, []  # NXDOMAIN: _mta-sts, _smtp._tls, _domainkey, anything else


dns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
dns.bind(("127.0.0.1", 0))
dns_addr = "127.0.0.1:%d" % dns.getsockname()[1]
queries = [0]


def serve_dns():
    while True:
        try:
            buf, peer = dns.recvfrom(4096)
            qid, flags, qd = struct.unpack(">HHH", buf[:6])
            name, off = qname(buf, 12)
            qtype = struct.unpack(">H", buf[off:off + 2])[0]
            question = buf[12:off + 4]
            rcode, recs = answer(name, qtype)
            head = struct.pack(">HHHHHH", qid, 0x8480 | (flags & 0x0100) | rcode, 1, len(recs), 0, 0)
            dns.sendto(head + question + b"".join(recs), peer)
            queries[0] += 1
        except Exception:
            continue


threading.Thread(target=serve_dns, daemon=True).start()

# --- 50 SMTP listeners with STARTTLS (self-signed ECDSA certificates made by ehlo serve) -------
servers = []
for k in range(LISTENERS):
    ip = f"127.77.0.{10 + k}"
    servers.append((ip, subprocess.Popen(
        [ehlo, "serve", "--listen", f"{ip}:{PORT}", "--starttls", "--quiet", "--color", "never",
         "--hostname", "mx.bench.test", "--max-connections", "1000"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)))
for ip, p in servers:
    for _ in range(500):
        if p.poll() is not None:
            sys.exit(f"bench: ehlo serve on {ip} exited early ({p.returncode})")
        try:
            socket.create_connection((ip, PORT), timeout=1).close()
            break
        except OSError:
            time.sleep(0.02)
    else:
        sys.exit(f"bench: ehlo serve did not listen on {ip}:{PORT}")

listfile = os.path.join(work, "domains.txt")
with open(listfile, "w") as f:
    f.write("\n".join(domains) + "\n")
errlog = os.path.join(work, "stderr")
devnull = os.open(os.devnull, os.O_RDWR)


def run(argv, name, ok=(0,)):
    """Run one process to its end; (wall ms, cpu ms), timed by posix_spawn + wait4."""
    err = os.open(errlog, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    out = os.open(os.path.join(work, "stdout"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    actions = [(os.POSIX_SPAWN_DUP2, devnull, 0), (os.POSIX_SPAWN_DUP2, out, 1),
               (os.POSIX_SPAWN_DUP2, err, 2)]
    t0 = time.perf_counter_ns()
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=actions)
    deadline = time.monotonic() + 300
    while True:
        got, status, ru = os.wait4(pid, os.WNOHANG)
        if got:
            break
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            sys.exit(f"bench: {name} ran longer than 300 s")
        time.sleep(0.005)
    ms = (time.perf_counter_ns() - t0) / 1e6
    os.close(err)
    os.close(out)
    code = os.waitstatus_to_exitcode(status)
    if code not in ok:
        with open(errlog, errors="replace") as f:
            sys.exit(f"bench: {name} exited {code}: {f.read()[-2000:]}")
    return ms, (ru.ru_utime + ru.ru_stime) * 1000


check = [ehlo, "check", "@" + listfile, "--dnssec", "off", "--dns-server", dns_addr, "--port", str(PORT),
         "--allow-private", "--concurrency", "100", "--timeout", "10s", "--json",
         "--color", "never"]
print(f"load average at start: {open('/proc/loadavg').read().split()[:3]}, {os.cpu_count()} cores")
print(f"{n} domains, each with its own MX, over {LISTENERS} ehlo serve --starttls listeners")

run(check, "ehlo check (warm-up)")
q0 = queries[0]
wall, cpu = run(check, "ehlo check")
per_run_queries = queries[0] - q0
with open(os.path.join(work, "stdout")) as f:
    lines = f.read().splitlines()
summary = lines[-1] if lines else "{}"
sessions = sum(1 for l in lines if '"id":"tls.handshake"' in l and '"status":"pass"' in l)

rss_out = os.path.join(work, "rss")
subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss_out] + check, stdin=subprocess.DEVNULL,
               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)
with open(rss_out) as f:
    rss_kib = int(f.read().strip().splitlines()[-1])

# The same SMTP work, one process per domain, as a CI script without `check` would do it.
loop_list = os.path.join(work, "loop.txt")
with open(loop_list, "w") as f:
    f.write("\n".join(domains[:loop_n]) + "\n")
script = (f'while read -r d; do "{ehlo}" --color never --to "postmaster@$d" '
          f'--dns-server {dns_addr} --port {PORT} --tls --insecure --quit-after EHLO '
          f'>/dev/null 2>&1 || exit 1; done < "{loop_list}"')
lwall, lcpu = run(["/bin/bash", "-c", script], "shell loop of one-shot sends")

print(f"\n{'':<44} {'wall s':>8} {'cpu s':>8} {'peak RSS MiB':>13}")
print(f"{'ehlo check, concurrency 100':<44} {wall / 1000:>8.2f} {cpu / 1000:>8.2f} {rss_kib / 1024:>13.1f}")
label = f"shell loop of {loop_n} one-shot sends"
print(f"{label:<44} {lwall / 1000:>8.2f} {lcpu / 1000:>8.2f}")
if loop_n != n:
    print(f"{'  (scaled to ' + str(n) + ' domains)':<44} {lwall * n / loop_n / 1000:>8.2f} {lcpu * n / loop_n / 1000:>8.2f}")
print(f"\ngoal (1000 domains): wall <= 10 s, peak RSS <= 64 MiB")
print(f"check: {sessions} TLS handshakes passed, {per_run_queries} DNS queries; {summary}")
for _, p in servers:
    p.terminate()
for _, p in servers:
    p.wait(timeout=10)
PY
