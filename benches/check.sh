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
#   The signed variant (DNSSEC and DANE): the same N domains, each its own zone signed
#   with its own key by ldns-signzone (ECDSA P-256, NSEC), delegated with a DS from a signed
#   parent `bench.test` whose key is the trust anchor, served by an NSD instance of its own on a
#   free loopback port. Each zone has MX, the MX host's A, SPF and DMARC TXT, and a DANE rollover
#   pair at `_2525._tcp.mx.D` (TLSA 3 1 1 of the listeners' key and of a next key). Timed twice
#   against the same NSD: `--dnssec off` and `--dnssec validate --dns-trust-anchor` (every MX,
#   address and TLSA answer validated from the anchor through DS and DNSKEY, and every
#   dane.match done). Signing is set-up, not timed.
#
#   bash benches/check.sh [N]     N domains (default 1000, or $BENCH_CHECK_DOMAINS);
#                                 $BENCH_CHECK_LOOP: domains in the shell loop (default N);
#                                 BENCH_CHECK_SIGNED=0 leaves out the signed variant
#
# Timing is the same as benches/bench.sh: the tool is started with posix_spawn and reaped with
# wait4 (wall = monotonic clock around the tool itself, CPU = the kernel's accounting of that
# child); peak RSS from `/usr/bin/time -f %M` in a run of its own. Uses the release binary
# ($CARGO_TARGET_DIR or target)/release/ehlo, building it if missing (or $EHLO_BIN). Needs
# python3 (standard library) and /usr/bin/time, and for the signed variant nsd, ldnsutils and
# openssl (all installed by tests/interop/setup.sh --install-only). Not part of CI. Bounded:
# every run is killed after 300 s.
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
SIGNED="${BENCH_CHECK_SIGNED:-1}"
TOOLS=(/usr/bin/time /usr/bin/python3)
[[ "$SIGNED" == 0 ]] || TOOLS+=(nsd ldns-keygen ldns-signzone ldns-key2ds openssl)
for tool in "${TOOLS[@]}"; do
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

/usr/bin/python3 - "$N" "$LOOP" "$EHLO" "$WORK" "$SIGNED" <<'PY'
import concurrent.futures, datetime, hashlib, os, socket, struct, subprocess, sys, threading, time

n, loop_n, ehlo, work = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
signed = sys.argv[5] != "0"
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

# --- 50 SMTP listeners with STARTTLS (self-signed ECDSA certificates made by ehlo serve; for
# the signed variant one made here, so the zones can publish its key's TLSA record) ----------
tls_files = []
if signed:
    crt, key = os.path.join(work, "mx.pem"), os.path.join(work, "mx.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "30", "-subj",
                    "/CN=mx.bench.test", "-keyout", key, "-out", crt],
                   check=True, capture_output=True)
    tls_files = ["--tls-cert", crt, "--tls-key", key]
servers = []
for k in range(LISTENERS):
    ip = f"127.77.0.{10 + k}"
    servers.append((ip, subprocess.Popen(
        [ehlo, "serve", "--listen", f"{ip}:{PORT}", "--starttls", "--quiet", "--color", "never",
         "--hostname", "mx.bench.test", "--max-connections", "1000"] + tls_files,
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



def peak_rss(argv):
    """Peak RSS (KiB) of one more run of argv, by /usr/bin/time."""
    subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss_out] + argv, stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)
    with open(rss_out) as f:
        return int(f.read().strip().splitlines()[-1])


rss_kib = peak_rss(check)

# The same SMTP work, one process per domain, as a CI script without `check` would do it.
loop_list = os.path.join(work, "loop.txt")
with open(loop_list, "w") as f:
    f.write("\n".join(domains[:loop_n]) + "\n")
script = (f'while read -r d; do "{ehlo}" --color never --to "postmaster@$d" '
          f'--dns-server {dns_addr} --port {PORT} --tls --insecure --quit-after EHLO '
          f'>/dev/null 2>&1 || exit 1; done < "{loop_list}"')
lwall, lcpu = run(["/bin/bash", "-c", script], "shell loop of one-shot sends")



def counted(pattern_id, status):
    """How many check lines of the last run had this id and status."""
    with open(os.path.join(work, "stdout")) as f:
        return sum(1 for l in f if f'"id":"{pattern_id}"' in l and f'"status":"{status}"' in l)


# --- the signed variant: one signed zone per domain under a signed parent, served by NSD ------
signed_rows = []
if signed:
    t_setup = time.monotonic()
    zdir = os.path.join(work, "zones")
    os.mkdir(zdir)
    spki = hashlib.sha256(subprocess.run(
        "openssl x509 -in mx.pem -noout -pubkey | openssl pkey -pubin -outform DER",
        shell=True, cwd=work, check=True, capture_output=True).stdout).hexdigest()
    next_key = hashlib.sha256(b"the next key of the rollover pair").hexdigest()
    now = datetime.datetime.now(datetime.timezone.utc)
    # Valid from an hour ago (a validator whose clock is a little behind must not call it bogus).
    window = ["-i", (now - datetime.timedelta(hours=1)).strftime("%Y%m%d%H%M%S"),
              "-e", (now + datetime.timedelta(days=7)).strftime("%Y%m%d%H%M%S")]
    soa = "SOA ns.bench.test. hostmaster.bench.test. 1 3600 600 86400 60"

    def sign(zone, body):
        """Write, key and sign one zone; returns the DS record lines of its key."""
        keyname = subprocess.run(["ldns-keygen", "-a", "ECDSAP256SHA256", "-k", zone], cwd=zdir,
                                 check=True, capture_output=True, text=True).stdout.strip()
        with open(os.path.join(zdir, zone + ".zone"), "w") as f:
            f.write(f"$ORIGIN {zone}.\n$TTL 300\n@ IN {soa}\n@ IN NS ns.bench.test.\n{body}")
        subprocess.run(["ldns-signzone"] + window + ["-f", zone + ".signed", zone + ".zone", keyname],
                       cwd=zdir, check=True, capture_output=True)
        return keyname, subprocess.run(["ldns-key2ds", "-n", "-2", keyname + ".key"], cwd=zdir,
                                       check=True, capture_output=True, text=True).stdout

    def child(i):
        d = domains[i]
        return sign(d, f"@ IN MX 10 mx.{d}.\n"
                       f'@ IN TXT "v=spf1 mx -all"\n'
                       f'_dmarc IN TXT "v=DMARC1; p=reject"\n'
                       f"mx IN A {mx_ip['mx.' + d]}\n"
                       f"_{PORT}._tcp.mx IN TLSA 3 1 1 {spki}\n"
                       f"_{PORT}._tcp.mx IN TLSA 3 1 1 {next_key}\n")

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        children = list(pool.map(child, range(n)))
    delegations = "".join(f"{d.split('.')[0]} IN NS ns.bench.test.\n" for d in domains)
    parent_key, _ = sign("bench.test", "ns IN A 127.0.0.1\n" + delegations
                         + "".join(ds for _, ds in children))
    anchor = os.path.join(zdir, parent_key + ".key")

    # NSD on a free loopback port (UDP and TCP), in the foreground so it is ours to stop.
    while True:
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("127.0.0.1", 0))
        nsd_port = u.getsockname()[1]
        t = socket.socket()
        try:
            t.bind(("127.0.0.1", nsd_port))
            break
        except OSError:
            continue
        finally:
            u.close()
            t.close()
    conf = os.path.join(work, "nsd.conf")
    with open(conf, "w") as f:
        f.write(f'server:\n  ip-address: 127.0.0.1@{nsd_port}\n  username: ""\n  chroot: ""\n'
                f'  zonesdir: "{zdir}"\n  database: ""\n  zonelistfile: "{work}/zone.list"\n'
                f'  xfrdfile: "{work}/xfrd.state"\n  xfrdir: "{work}"\n'
                f'  pidfile: "{work}/nsd.pid"\n  logfile: "{work}/nsd.log"\n'
                f"  server-count: 1\n  verbosity: 0\n  hide-version: yes\n"
                f"remote-control:\n  control-enable: no\n")
        for zone in ["bench.test"] + domains:
            f.write(f"zone:\n  name: {zone}\n  zonefile: {zone}.signed\n")
    nsd = subprocess.Popen(["nsd", "-d", "-c", conf], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    probe = struct.pack(">HHHHHH", 0x4242, 0, 1, 0, 0, 0) + wire(domains[-1]) + struct.pack(">HH", 6, 1)
    q = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    q.settimeout(0.2)
    for _ in range(600):
        if nsd.poll() is not None:
            sys.exit(f"bench: nsd exited early ({nsd.returncode}); see {work}/nsd.log")
        try:
            q.sendto(probe, ("127.0.0.1", nsd_port))
            reply = q.recv(4096)
            if reply[:2] == b"\x42\x42" and reply[3] & 0x0F == 0 and struct.unpack(">H", reply[6:8])[0]:
                break
        except OSError:
            pass
        time.sleep(0.1)
    else:
        nsd.kill()
        sys.exit("bench: nsd did not answer for the signed zones within 60 s")
    setup_s = time.monotonic() - t_setup

    signed_list = os.path.join(work, "signed.txt")
    with open(signed_list, "w") as f:
        f.write("\n".join(domains) + "\n")
    base = [ehlo, "check", "@" + signed_list, "--dns-server", f"127.0.0.1:{nsd_port}", "--port",
            str(PORT), "--allow-private", "--concurrency", "100", "--timeout", "10s", "--json",
            "--color", "never"]
    try:
        for label, mode in [("--dnssec off", ["--dnssec", "off"]),
                            ("--dnssec validate", ["--dnssec", "validate",
                                                   "--dns-trust-anchor", anchor])]:
            argv = base + mode
            run(argv, f"ehlo check, signed zones, {label} (warm-up)", ok=(0, 40))
            w, c = run(argv, f"ehlo check, signed zones, {label}", ok=(0, 40))
            matched = counted("dane.match", "pass")
            secure = counted("dnssec.domain", "pass")
            signed_rows.append((label, w, c, peak_rss(argv), matched, secure))
    finally:
        nsd.terminate()
        nsd.wait(timeout=10)

print(f"\n{'':<52} {'wall s':>8} {'cpu s':>8} {'peak RSS MiB':>13}")
print(f"{'ehlo check, concurrency 100':<52} {wall / 1000:>8.2f} {cpu / 1000:>8.2f} {rss_kib / 1024:>13.1f}")
label = f"shell loop of {loop_n} one-shot sends"
print(f"{label:<52} {lwall / 1000:>8.2f} {lcpu / 1000:>8.2f}")
if loop_n != n:
    print(f"{'  (scaled to ' + str(n) + ' domains)':<52} {lwall * n / loop_n / 1000:>8.2f} {lcpu * n / loop_n / 1000:>8.2f}")
for label, w, c, rss, _, _ in signed_rows:
    label = f"ehlo check, {n} signed zones (NSD), {label}"
    print(f"{label:<52} {w / 1000:>8.2f} {c / 1000:>8.2f} {rss / 1024:>13.1f}")
print(f"\ngoal (1000 domains): wall <= 10 s, peak RSS <= 64 MiB")
print(f"check: {sessions} TLS handshakes passed, {per_run_queries} DNS queries; {summary}")
if signed_rows:
    print(f"signed zones: set-up (keys, signing, NSD start) {setup_s:.1f} s; with validation "
          f"dnssec.domain pass for {signed_rows[-1][5]} domains, dane.match pass for "
          f"{signed_rows[-1][4]} of {n} MX hosts")
for _, p in servers:
    p.terminate()
for _, p in servers:
    p.wait(timeout=10)
PY
