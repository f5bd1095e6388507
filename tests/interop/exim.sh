#!/usr/bin/env bash
# tests/interop/exim.sh — Exim 4 as a second real MTA for the interop suite, run from extracted
# Debian packages (it cannot be apt-installed beside Postfix: both are the system MTA).
#
#   bash tests/interop/exim.sh fetch   download and extract exim4 + the libraries it lacks (apt part)
#   bash tests/interop/exim.sh start   (re)write the config and (re)start the daemon, wait until ready
#   bash tests/interop/exim.sh stop    stop the daemon started by `start` (its pid file only)
#
# Called by setup.sh (fetch with --install-only, then start) and teardown.sh (stop). Nothing is
# installed on the host: the packages are unpacked under $EXIM_DIR/root with `dpkg -x`, and the
# `Debian-exim` user the binary looks up at start exists only inside a private mount namespace
# (`unshare -m`, /etc/passwd and /etc/group bind-mounted from copies).
#
# What runs afterwards (127.0.0.1 only):
#   Exim 127.0.0.1:2625  STARTTLS offered; AUTH PLAIN/LOGIN/CRAM-MD5/NTLM (spa, NTLMv1) after TLS (ehlotest / interop-secret-1)
#   Exim 127.0.0.1:4665  implicit TLS (tls_on_connect_ports)
#   Exim 127.0.0.1:2687  the same daemon, a third port (pipelining/size tests use it to vary)
#   Exim 127.0.0.1:2688  the same daemon without CHUNKING (chunking_advertise_hosts empty there)
#   Every port: CHUNKING (not 2688), PRDR, DSN, SMTPUTF8, 8BITMIME, PIPELINING, SIZE 1048576, no
#   enhanced codes.
# Recipients at exim.test go to $EXIM_DIR/mail/Maildir/ (byte-exact content after Exim's trace
#   headers; Envelope-to: names the recipient), except:
#   refused@exim.test        550 at RCPT by an ACL
#   sender-check@exim.test   sender verification at RCPT: senders outside exim.test fail it
#                            ("550-Verification failed for <…>" / "Unrouteable address" / "Sender verify failed")
#   prdr-refused@exim.test   refused per recipient after the content (PRDR ACL), accepted at RCPT
# Relays (for 127.0.0.1 only) to `ehlo serve`, so Exim is a real *client* of it:
#   anyone@serve-PORT.test   SMTP to 127.0.0.1:PORT: STARTTLS required, AUTH PLAIN required
#                            (exim-client / client-secret-2), CHUNKING and DSN used when offered
#   anyone@lmtp-PORT.test    LMTP to 127.0.0.1:PORT (plaintext)
# Logs: $EXIM_DIR/log/mainlog, rejectlog, paniclog.
set -euo pipefail

STATE=/tmp/ehlo-interop
EXIM_DIR="$STATE/exim"
ROOT="$EXIM_DIR/root"
DEBS="$EXIM_DIR/debs"
PORTS=(2625 4665 2687 2688)
TEST_USER=ehlotest
TEST_PASS=interop-secret-1
EXIM_UID=64025 # only inside the namespace; files it writes show this number outside

log() { printf '[interop-exim] %s\n' "$*"; }
die() {
  printf '[interop-exim] ERROR: %s\n' "$*" >&2
  exit 1
}

exim_bin() { echo "$ROOT/usr/sbin/exim4"; }
# The Debian multiarch triplet the packages put their libraries under (x86_64-linux-gnu,
# aarch64-linux-gnu, …): asked of dpkg-architecture (dpkg-dev) or gcc, else made from `uname -m`.
multiarch() {
  dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null ||
    gcc -print-multiarch 2>/dev/null ||
    echo "$(uname -m)-linux-gnu"
}
MULTIARCH="$(multiarch)"
lib_path() { echo "$ROOT/usr/lib/$MULTIARCH:$ROOT/usr/lib:$ROOT/lib/$MULTIARCH"; }

missing_libs() {
  LD_LIBRARY_PATH="$(lib_path)" ldd "$(exim_bin)" 2>/dev/null | awk '/not found/ {print $1}'
}

# The Debian package that ships a library the binary needs (the ones a Postfix machine lacks).
package_of() {
  case "$1" in
    libmariadb.so.3) echo libmariadb3 ;;
    libidn.so.12) echo libidn12 ;;
    libspf2.so.2) echo libspf2-2 ;;
    libgsasl.so.*) echo libgsasl18 ;;
    *) # libfoo.so.N -> libfooN, the usual Debian naming
      local base=${1%%.so.*} ver=${1##*.so.}
      echo "${base}${ver%%.*}" ;;
  esac
}

download() {
  mkdir -p "$DEBS"
  (cd "$DEBS" && apt-get download "$@" >/dev/null 2>&1) && return 0
  apt-get update -qq
  (cd "$DEBS" && apt-get download "$@" >/dev/null) || die "apt-get download $* failed"
}

fetch() {
  if [[ -x "$(exim_bin)" ]] && [[ -z "$(missing_libs)" ]]; then
    log "exim already extracted in $ROOT"
    return
  fi
  log "downloading exim4 packages"
  rm -rf "$ROOT" "$DEBS"
  mkdir -p "$ROOT"
  download exim4-daemon-heavy exim4-base exim4-config
  for deb in "$DEBS"/*.deb; do dpkg -x "$deb" "$ROOT"; done
  local round lib
  for round in 1 2 3; do
    mapfile -t libs < <(missing_libs)
    ((${#libs[@]} == 0)) && break
    log "libraries exim needs that are not installed: ${libs[*]}"
    local pkgs=()
    for lib in "${libs[@]}"; do pkgs+=("$(package_of "$lib")"); done
    download "${pkgs[@]}"
    for deb in "$DEBS"/*.deb; do dpkg -x "$deb" "$ROOT"; done
  done
  [[ -z "$(missing_libs)" ]] || die "exim still lacks: $(missing_libs | tr '\n' ' ')"
  [[ -x "$(exim_bin)" ]] || die "no exim binary in the extracted packages"
  log "exim extracted in $ROOT"
}

# Run a command with the exim user and libraries present: a private mount namespace where
# /etc/passwd and /etc/group are copies with Debian-exim added, and /etc/ld.so.cache also lists
# the extracted libraries (LD_LIBRARY_PATH would not do: exim re-executes itself setuid for
# each delivery, and the loader ignores the variable then). The host's files are never touched.
in_namespace() {
  unshare -m sh -c 'for f in passwd group ld.so.cache; do mount --bind "$1/$f" "/etc/$f" || exit 1; done; shift; exec "$@"' \
    sh "$EXIM_DIR/etc" "$@"
}

stop() {
  local pidfile="$EXIM_DIR/exim.pid" pid
  [[ -s "$pidfile" ]] || return 0
  pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
    log "stopped exim pid $pid"
  fi
  rm -f "$pidfile"
}

write_config() {
  local cert="$EXIM_DIR/exim.pem" key="$EXIM_DIR/exim.key"
  mkdir -p "$EXIM_DIR/etc" "$EXIM_DIR/spool" "$EXIM_DIR/log" "$EXIM_DIR/mail"
  {
    grep -v '^Debian-exim:' /etc/passwd
    echo "Debian-exim:x:$EXIM_UID:$EXIM_UID:Exim (interop namespace only):$EXIM_DIR/spool:/usr/sbin/nologin"
  } >"$EXIM_DIR/etc/passwd"
  {
    grep -v '^Debian-exim:' /etc/group
    echo "Debian-exim:x:$EXIM_UID:"
  } >"$EXIM_DIR/etc/group"
  # A loader cache of the system's directories plus the extracted ones (-X: change no links).
  {
    echo "$ROOT/usr/lib/$MULTIARCH"
    echo "$ROOT/usr/lib"
    echo "include /etc/ld.so.conf.d/*.conf"
  } >"$EXIM_DIR/etc/ld.so.conf"
  ldconfig -X -C "$EXIM_DIR/etc/ld.so.cache" -f "$EXIM_DIR/etc/ld.so.conf" 2>/dev/null ||
    die "ldconfig could not build the namespace's loader cache"
  # The receiving process reads the key after giving up root: the exim user must own a copy.
  cp "$STATE/postfix.pem" "$cert"
  cp "$STATE/postfix.key" "$key"
  chown "$EXIM_UID:$EXIM_UID" "$cert" "$key" "$EXIM_DIR/spool" "$EXIM_DIR/log" "$EXIM_DIR/mail"
  chmod 600 "$key"
  chmod 755 "$EXIM_DIR" "$EXIM_DIR/mail"
  cat >"$EXIM_DIR/exim.conf" <<EOF
# Generated by tests/interop/exim.sh: Exim as an interop peer of ehlo, loopback only.
primary_hostname = exim.test
# Exim re-executes itself for deliveries: the extracted binary, not the packaged path.
exim_path = $ROOT/usr/sbin/exim4
smtp_banner = \$smtp_active_hostname ESMTP Exim \$version_number ehlo-interop-exim
domainlist local_domains = exim.test
qualify_domain = exim.test
local_interfaces = 127.0.0.1
daemon_smtp_ports = $(IFS=:; echo "${PORTS[*]}")
tls_on_connect_ports = 4665
spool_directory = $EXIM_DIR/spool
log_file_path = $EXIM_DIR/log/%slog
pid_file_path = $EXIM_DIR/exim.pid
keep_environment =
host_lookup =
rfc1413_hosts =
# No DNS for anything: the interop machine has no network.
dns_again_means_nonexist = *
never_users = root

tls_advertise_hosts = *
tls_certificate = $cert
tls_privatekey = $key
pipelining_advertise_hosts = *
# CHUNKING everywhere but 2688 (ehlo probe: a smuggled BDAT gets past the synchronization check).
chunking_advertise_hosts = \${if eq{\$received_port}{2688}{}{*}}
prdr_enable = true
dsn_advertise_hosts = *
smtputf8_advertise_hosts = *
accept_8bitmime = true
message_size_limit = 1M
smtp_accept_max = 50
# Deliver at once, never wait for a queue runner (there is none).
queue_only = false
acl_smtp_rcpt = acl_check_rcpt
acl_smtp_data_prdr = acl_check_prdr
acl_smtp_data = acl_check_data

begin acl

acl_check_rcpt:
  deny    local_parts = refused
          domains = +local_domains
          message = <\$local_part@\$domain> is refused by the interop ACL
  deny    local_parts = sender-check
          domains = +local_domains
          !verify = sender
  accept  domains = +local_domains
  accept  hosts = 127.0.0.1
          domains = \N^(serve|lmtp)-\d+\.test\$\N
  deny    message = relay not permitted

acl_check_prdr:
  deny    local_parts = prdr-refused
          message = <\$local_part@\$domain> does not take this message (interop PRDR ACL)
  accept

acl_check_data:
  accept

begin routers

to_serve:
  driver = manualroute
  domains = \N^serve-\d+\.test\$\N
  route_list = * 127.0.0.1
  transport = serve_smtp
  self = send
  no_more

to_lmtp:
  driver = manualroute
  domains = \N^lmtp-\d+\.test\$\N
  route_list = * 127.0.0.1
  transport = serve_lmtp
  self = send
  no_more

local:
  driver = accept
  domains = +local_domains
  transport = maildir

begin transports

maildir:
  driver = appendfile
  # One Maildir for every local recipient (a per-recipient path would be tainted data);
  # Envelope-to: says whom each message was for.
  directory = $EXIM_DIR/mail/Maildir
  maildir_format
  create_directory
  user = Debian-exim
  group = Debian-exim
  mode = 0644
  return_path_add
  envelope_to_add

serve_smtp:
  driver = smtp
  port = \${extract{2}{-.}{\$domain}}
  allow_localhost
  hosts_require_tls = *
  hosts_require_auth = *
  tls_verify_certificates =
  hosts_try_chunking = *
  hosts_try_prdr = *

serve_lmtp:
  driver = smtp
  protocol = lmtp
  port = \${extract{2}{-.}{\$domain}}
  allow_localhost
  hosts_avoid_tls = *

begin retry
# Each test uses a fresh ehlo serve port; retry at once rather than remembering failures.
*   *   F,1m,5s

begin authenticators

plain:
  driver = plaintext
  public_name = PLAIN
  server_prompts = :
  server_condition = \${if and{{eq{\$auth2}{$TEST_USER}}{eq{\$auth3}{$TEST_PASS}}}}
  server_set_id = \$auth2
  server_advertise_condition = \${if def:tls_in_cipher}
  client_send = ^exim-client^client-secret-2

login:
  driver = plaintext
  public_name = LOGIN
  server_prompts = Username:: : Password::
  server_condition = \${if and{{eq{\$auth1}{$TEST_USER}}{eq{\$auth2}{$TEST_PASS}}}}
  server_set_id = \$auth1
  server_advertise_condition = \${if def:tls_in_cipher}

cram:
  driver = cram_md5
  public_name = CRAM-MD5
  server_secret = \${if eq{\$auth1}{$TEST_USER}{$TEST_PASS}fail}
  server_set_id = \$auth1
  server_advertise_condition = \${if def:tls_in_cipher}

# NTLM as Exim implements it (the spa driver): NTLMv1 only, the first 334 says "NTLM supported".
ntlm:
  driver = spa
  public_name = NTLM
  server_password = \${if eq{\$auth1}{$TEST_USER}{$TEST_PASS}fail}
  server_set_id = \$auth1
  server_advertise_condition = \${if def:tls_in_cipher}
EOF
}

start() {
  [[ $(id -u) -eq 0 ]] || die "must run as root"
  [[ -x "$(exim_bin)" ]] || fetch
  [[ -s "$STATE/postfix.pem" ]] || die "no certificate at $STATE/postfix.pem: run setup.sh"
  stop
  write_config
  in_namespace "$(exim_bin)" -C "$EXIM_DIR/exim.conf" -bV \
    >"$EXIM_DIR/version.txt" 2>&1 || die "exim -bV failed: $(cat "$EXIM_DIR/version.txt")"
  log "starting $(head -n1 "$EXIM_DIR/version.txt" | sed 's/ built.*//') on ports ${PORTS[*]}"
  # -bd: daemon (it forks into the background and writes pid_file_path).
  in_namespace "$(exim_bin)" -C "$EXIM_DIR/exim.conf" -bd \
    </dev/null >"$EXIM_DIR/log/start.log" 2>&1 ||
    die "exim -bd failed: $(cat "$EXIM_DIR/log/start.log"; tail -n 20 "$EXIM_DIR/log/paniclog" 2>/dev/null)"
  local port
  for port in "${PORTS[@]}"; do
    for _ in $(seq 150); do
      timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null && continue 2
      sleep 0.1
    done
    die "exim did not open 127.0.0.1:$port within 15 s: $(tail -n 20 "$EXIM_DIR/log/paniclog" "$EXIM_DIR/log/mainlog" 2>/dev/null)"
  done
  log "ready: exim 127.0.0.1:2625 (STARTTLS), 4665 (implicit TLS), 2687, 2688 (no CHUNKING); mail in $EXIM_DIR/mail/, logs $EXIM_DIR/log/"
}

case "${1:-}" in
  fetch) fetch ;;
  start) start ;;
  stop) stop ;;
  *) die "usage: $0 fetch|start|stop" ;;
esac
