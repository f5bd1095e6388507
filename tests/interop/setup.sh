#!/usr/bin/env bash
# tests/interop/setup.sh — install, configure and start the interop peers for ehlo, loopback only.
#
#   bash tests/interop/setup.sh                 install (if needed), configure, start, wait until ready
#   bash tests/interop/setup.sh --install-only  only the apt part (the peers), nothing started
#
# Run as root. Idempotent: re-running reconfigures and restarts the daemons. No systemd is
# assumed (CI machines have no init): daemons are started directly and stopped by teardown.sh.
#
# What runs afterwards (every listener on 127.0.0.1 only):
#   Postfix 127.0.0.1:2525  smtpd, STARTTLS offered (smtpd_tls_security_level=may)
#   Postfix 127.0.0.1:4465  smtpd, implicit TLS (smtpd_tls_wrappermode=yes)
#   Postfix 127.0.0.1:2587  submission: STARTTLS required, SASL via Dovecot, unauthenticated relay refused
#   Postfix 127.0.0.1:4466  implicit TLS with SASL via Dovecot (benches/bench.sh: TLS + AUTH send)
#   Postfix 127.0.0.1:2526  like 2525 with smtpd_forbid_bare_newline=reject (SMTP smuggling fix, ehlo probe)
#   Postfix 127.0.0.1:2527  like 2525 with smtpd_forbid_bare_newline=normalize (2525 has it off)
#   Postfix 127.0.0.1:2528  like 2525 with smtpd_data_restrictions=reject_unauth_pipelining (CHUNKING on)
#   Postfix 127.0.0.1:2529  2528 plus smtpd_discard_ehlo_keywords=chunking (Postfix's smuggling workaround)
#   aiosmtpd 127.0.0.1:8025 sink storing byte-exact content under $STATE/aiosmtpd/
#   aiosmtpd 127.0.0.1:8026 STARTTLS, then AUTH XOAUTH2/OAUTHBEARER/SCRAM-SHA-256 (aiosmtpd_auth.py)
#   aiosmtpd 127.0.0.1:8027 behind the PROXY protocol (v1/v2), recording the PROXY source with each
#     message under $STATE/aiosmtpd-proxy/ (aiosmtpd_proxy.py)
#   Exim 4   127.0.0.1:2625 (STARTTLS) / 4665 (implicit TLS) / 2687 / 2688 (no CHUNKING), from extracted Debian packages
#     in a private mount namespace; CHUNKING, PRDR, DSN, SMTPUTF8, ACL refusals, sender
#     verification, and relays to `ehlo serve` (see exim.sh for the details)
# Local delivery: ehlotest@ehlo.test -> /home/ehlotest/Maildir/ ; unknown users -> 550 5.1.1 at RCPT.
# SASL user: ehlotest / interop-secret-1 (PLAIN, LOGIN, CRAM-MD5).
# Server certificate (self-signed, CN=localhost, SAN DNS:localhost, IP:127.0.0.1): $STATE/postfix.pem
# fish: tests/interop.rs completes command lines in it (tests/cli/completion_offers.rs), as the
#   default suite does in bash; elvish likewise (its option values).
# procps (kill, pgrep) and iproute2 (ip): `cargo test` runs them (signals to ehlo, the
#   `unshare -rn` namespace tests bring `lo` up); a minimal Debian 12 (a container image) has neither.
#   CI's image has both: .ci/run runs `cargo test` before this script, as the README promises.
# ldnsutils: ldns-dane, the independent DANE implementation the dane_* tests compare with.
#   NSD 127.0.0.1:5392 (a zone signed at setup with ldns-signzone) and Unbound 127.0.0.1:5391
#     (validating it from the zone's key) for the dnssec_* tests (see dnssec.sh for the zone)
set -euo pipefail

STATE=/tmp/ehlo-interop
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TEST_USER=ehlotest
TEST_PASS=interop-secret-1
DOVECOT_DIR="$STATE/dovecot"
SINK_DIR="$STATE/aiosmtpd"
PY=/usr/bin/python3 # Debian's interpreter: python3-aiosmtpd is installed for it, not for pyenv's

PACKAGES=(postfix dovecot-core python3 python3-aiosmtpd swaks openssl ca-certificates
  libnet-ssleay-perl libio-socket-inet6-perl libauthen-sasl-perl libdigest-hmac-perl
  libauthen-ntlm-perl curl time ldnsutils nsd unbound
  fish elvish procps iproute2)

log() { printf '[interop-setup] %s\n' "$*"; }
die() {
  printf '[interop-setup] ERROR: %s\n' "$*" >&2
  exit 1
}

[[ $(id -u) -eq 0 ]] || die "must run as root"

install_packages() {
  local missing=() p
  for p in "${PACKAGES[@]}"; do
    if [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" != "install ok installed" ]]; then
      missing+=("$p")
    fi
  done
  if ((${#missing[@]} == 0)); then
    log "all packages present, skipping apt"
    return
  fi
  log "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Preseed so postfix's postinst asks nothing and writes a local-only main.cf.
  debconf-set-selections <<'EOF'
postfix postfix/main_mailer_type select Local only
postfix postfix/mailname string mail.ehlo.test
postfix postfix/destinations string ehlo.test, localhost
EOF
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confold "${missing[@]}" \
    </dev/null
}

install_packages
# Exim cannot be apt-installed beside Postfix (both are the system MTA): fetch and unpack it.
bash "$HERE/exim.sh" fetch
if [[ "${1:-}" == "--install-only" ]]; then
  exit 0
fi

mkdir -p "$STATE" "$SINK_DIR" "$DOVECOT_DIR"
chmod 755 "$STATE" "$DOVECOT_DIR"

# ---------------------------------------------------------------- test user and its Maildir
if ! id "$TEST_USER" >/dev/null 2>&1; then
  log "creating unix user $TEST_USER"
  useradd --create-home --shell /usr/sbin/nologin "$TEST_USER"
fi
TEST_HOME="$(getent passwd "$TEST_USER" | cut -d: -f6)"
install -d -o "$TEST_USER" -g "$TEST_USER" -m 700 "$TEST_HOME/Maildir" \
  "$TEST_HOME/Maildir/new" "$TEST_HOME/Maildir/cur" "$TEST_HOME/Maildir/tmp"

# ---------------------------------------------------------------- TLS certificate
CERT="$STATE/postfix.pem"
KEY="$STATE/postfix.key"
if [[ -s "$CERT" && -s "$KEY" ]] && openssl x509 -in "$CERT" -noout -checkend 86400 >/dev/null 2>&1 &&
  openssl x509 -in "$CERT" -noout -ext subjectAltName 2>/dev/null | grep -q 'IP Address:127.0.0.1'; then
  log "reusing certificate $CERT"
else
  log "generating self-signed certificate $CERT"
  openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
    -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$KEY.tmp" -out "$CERT.tmp" 2>/dev/null
  mv "$KEY.tmp" "$KEY"
  mv "$CERT.tmp" "$CERT"
fi
chmod 600 "$KEY"
chmod 644 "$CERT"

# ---------------------------------------------------------------- stop what a previous run started
if postfix status >/dev/null 2>&1; then
  log "stopping running postfix"
  postfix stop >/dev/null 2>&1 || true
  for _ in $(seq 50); do postfix status >/dev/null 2>&1 || break; sleep 0.1; done
fi
for pidfile in "$DOVECOT_DIR/run/master.pid" "$STATE/aiosmtpd.pid" "$STATE/aiosmtpd-auth.pid" \
  "$STATE/aiosmtpd-proxy.pid"; do
  if [[ -s "$pidfile" ]]; then
    pid="$(cat "$pidfile")"
    if kill -0 "$pid" 2>/dev/null; then
      log "stopping pid $pid ($pidfile)"
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$pidfile"
  fi
done

# ---------------------------------------------------------------- Dovecot: SASL only
# A config of our own (dovecot -c), so the packaged /etc/dovecot stays untouched.
printf '%s:{PLAIN}%s::::::\n' "$TEST_USER" "$TEST_PASS" >"$DOVECOT_DIR/users"
chown root:dovecot "$DOVECOT_DIR/users"
chmod 640 "$DOVECOT_DIR/users"
mkdir -p "$DOVECOT_DIR/run"
cat >"$DOVECOT_DIR/dovecot.conf" <<EOF
# Generated by tests/interop/setup.sh: Dovecot as Postfix's SASL backend only.
protocols =
listen = 127.0.0.1
base_dir = $DOVECOT_DIR/run
log_path = $STATE/dovecot.log
ssl = no
# Submission already requires TLS before AUTH (smtpd_tls_security_level=encrypt).
disable_plaintext_auth = no
auth_mechanisms = plain login cram-md5 digest-md5
auth_verbose = yes
passdb {
  driver = passwd-file
  # {PLAIN} stores the cleartext, which CRAM-MD5 and DIGEST-MD5 need. (Debian's Dovecot is
  # built without NTLM: adding ntlm here stops its auth service.)
  args = scheme=PLAIN username_format=%u $DOVECOT_DIR/users
}
userdb {
  driver = static
  args = uid=$TEST_USER gid=$TEST_USER home=$TEST_HOME
}
service auth {
  unix_listener /var/spool/postfix/private/auth {
    mode = 0660
    user = postfix
    group = postfix
  }
}
EOF
: >"$STATE/dovecot.log"
log "starting dovecot"
dovecot -c "$DOVECOT_DIR/dovecot.conf" || die "dovecot failed to start: $(tail -n 30 "$STATE/dovecot.log")"

# ---------------------------------------------------------------- Postfix
log "configuring postfix"
postconf -e \
  "compatibility_level = 3.6" \
  "myhostname = mail.ehlo.test" \
  "mydomain = ehlo.test" \
  "myorigin = ehlo.test" \
  "mydestination = ehlo.test, localhost, \$myhostname" \
  "inet_interfaces = loopback-only" \
  "inet_protocols = ipv4" \
  "mynetworks = 127.0.0.0/8" \
  "smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination" \
  "relayhost =" \
  "default_transport = error:interop setup delivers locally only" \
  "relay_transport = error:interop setup delivers locally only" \
  "home_mailbox = Maildir/" \
  "mailbox_command =" \
  "local_recipient_maps = proxy:unix:passwd.byname \$alias_maps" \
  "unknown_local_recipient_reject_code = 550" \
  "alias_maps = hash:/etc/aliases" \
  "alias_database = hash:/etc/aliases" \
  "smtputf8_enable = yes" \
  "biff = no" \
  "smtpd_banner = \$myhostname ESMTP ehlo-interop" \
  "smtpd_tls_cert_file = $CERT" \
  "smtpd_tls_key_file = $KEY" \
  "smtpd_tls_security_level = may" \
  "smtpd_tls_loglevel = 1" \
  "smtpd_sasl_auth_enable = no" \
  "smtpd_authorized_xclient_hosts = 127.0.0.0/8" \
  "smtpd_authorized_xforward_hosts = 127.0.0.0/8" \
  "maillog_file = $STATE/postfix.log" \
  "maillog_file_prefixes = /var, /dev/stdout, $STATE"
# No chroot anywhere: nothing copies /etc files into the spool without an init script.
postconf -F '*/*/chroot = n'
# Replace the port-25 listener by ours (postconf -X fails when the entry is already gone).
if [[ -n "$(postconf -M smtp/inet 2>/dev/null)" ]]; then postconf -MX smtp/inet; fi
postconf -M "2525/inet=2525 inet n - n - - smtpd"
postconf -M "4465/inet=4465 inet n - n - - smtpd -o syslog_name=postfix/smtps -o smtpd_tls_wrappermode=yes"
postconf -M "4466/inet=4466 inet n - n - - smtpd -o syslog_name=postfix/smtps-auth -o smtpd_tls_wrappermode=yes -o smtpd_sasl_auth_enable=yes -o smtpd_sasl_type=dovecot -o smtpd_sasl_path=private/auth"
# SMTP smuggling fix (CVE-2023-51764), both modes; `ehlo probe` asserts its verdicts on each. The
# exclusions default to $mynetworks, which holds the loopback clients: empty them.
postconf -M "2526/inet=2526 inet n - n - - smtpd -o syslog_name=postfix/bare-lf-reject -o smtpd_forbid_bare_newline=reject -o smtpd_forbid_bare_newline_exclusions="
postconf -M "2527/inet=2527 inet n - n - - smtpd -o syslog_name=postfix/bare-lf-normalize -o smtpd_forbid_bare_newline=normalize -o smtpd_forbid_bare_newline_exclusions="
# Postfix's short-term SMTP smuggling workaround, without and with CHUNKING discarded: the
# smuggled DATA is refused as pipelined, a smuggled BDAT only without the second setting.
postconf -M "2528/inet=2528 inet n - n - - smtpd -o syslog_name=postfix/unauth-pipelining -o smtpd_data_restrictions=reject_unauth_pipelining"
postconf -M "2529/inet=2529 inet n - n - - smtpd -o syslog_name=postfix/smuggling-workaround -o smtpd_data_restrictions=reject_unauth_pipelining -o smtpd_discard_ehlo_keywords=chunking"
postconf -M "2587/inet=2587 inet n - n - - smtpd -o syslog_name=postfix/submission -o smtpd_tls_security_level=encrypt -o smtpd_sasl_auth_enable=yes -o smtpd_sasl_type=dovecot -o smtpd_sasl_path=private/auth -o smtpd_relay_restrictions=permit_sasl_authenticated,reject -o smtpd_recipient_restrictions=permit_sasl_authenticated,reject"
[[ -f /etc/aliases ]] || printf 'postmaster: root\n' >/etc/aliases
if [[ ! -f /etc/aliases.db || /etc/aliases -nt /etc/aliases.db ]]; then
  newaliases
fi
postfix check 2>&1 | sed 's/^/[postfix check] /' || true
: >"$STATE/postfix.log"
chmod 644 "$STATE/postfix.log"
log "starting postfix"
if ! out="$(postfix start 2>&1)"; then
  die "postfix start failed: $out
$(tail -n 30 "$STATE/postfix.log")"
fi

# ---------------------------------------------------------------- aiosmtpd sink
log "starting aiosmtpd sink"
nohup "$PY" "$HERE/aiosmtpd_sink.py" --host 127.0.0.1 --port 8025 --dir "$SINK_DIR" \
  >"$STATE/aiosmtpd.log" 2>&1 </dev/null &
echo $! >"$STATE/aiosmtpd.pid"

# ---------------------------------------------------------------- aiosmtpd with OAuth/SCRAM
log "starting aiosmtpd auth server (XOAUTH2, OAUTHBEARER, SCRAM-SHA-256 after STARTTLS)"
nohup "$PY" "$HERE/aiosmtpd_auth.py" --host 127.0.0.1 --port 8026 --cert "$CERT" --key "$KEY" \
  >"$STATE/aiosmtpd-auth.log" 2>&1 </dev/null &
echo $! >"$STATE/aiosmtpd-auth.pid"

# ---------------------------------------------------------------- aiosmtpd behind PROXY
log "starting aiosmtpd PROXY-protocol server"
nohup "$PY" "$HERE/aiosmtpd_proxy.py" --host 127.0.0.1 --port 8027 --dir "$STATE/aiosmtpd-proxy" \
  >"$STATE/aiosmtpd-proxy.log" 2>&1 </dev/null &
echo $! >"$STATE/aiosmtpd-proxy.pid"

# ---------------------------------------------------------------- Exim (waits for its own ports)
bash "$HERE/exim.sh" start

# ---------------------------------------------------------------- NSD + Unbound (signed test zone)
# After the certificate: the zone's TLSA records pin it. Waits for its own ports.
bash "$HERE/dnssec.sh" start

# ---------------------------------------------------------------- wait until every port answers
port_open() { timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }
wait_port() {
  local port=$1 what=$2 logfile=$3
  for _ in $(seq 150); do
    port_open "$port" && return 0
    sleep 0.1
  done
  printf '[interop-setup] ERROR: %s did not open 127.0.0.1:%s within 15 s; last log lines of %s:\n' \
    "$what" "$port" "$logfile" >&2
  tail -n 50 "$logfile" >&2 || true
  exit 1
}
wait_port 2525 postfix "$STATE/postfix.log"
wait_port 4465 postfix "$STATE/postfix.log"
wait_port 2587 postfix "$STATE/postfix.log"
wait_port 2526 postfix "$STATE/postfix.log"
wait_port 2527 postfix "$STATE/postfix.log"
wait_port 2528 postfix "$STATE/postfix.log"
wait_port 2529 postfix "$STATE/postfix.log"
wait_port 4466 postfix "$STATE/postfix.log"
wait_port 8025 aiosmtpd "$STATE/aiosmtpd.log"
wait_port 8026 aiosmtpd-auth "$STATE/aiosmtpd-auth.log"
wait_port 8027 aiosmtpd-proxy "$STATE/aiosmtpd-proxy.log"
for _ in $(seq 50); do [[ -S /var/spool/postfix/private/auth ]] && break; sleep 0.1; done
[[ -S /var/spool/postfix/private/auth ]] || die "dovecot auth socket missing: $(tail -n 30 "$STATE/dovecot.log")"

echo "ready: postfix smtp 127.0.0.1:2525 (STARTTLS; 2526/2527 with smtpd_forbid_bare_newline reject/normalize, 2528/2529 reject_unauth_pipelining without/with CHUNKING discarded), smtps 127.0.0.1:4465 (4466 with AUTH), submission 127.0.0.1:2587" \
  "(STARTTLS+AUTH $TEST_USER), aiosmtpd 127.0.0.1:8025 -> $SINK_DIR," \
  "aiosmtpd-auth 127.0.0.1:8026 (XOAUTH2/OAUTHBEARER/SCRAM-SHA-256)," \
  "aiosmtpd-proxy 127.0.0.1:8027 (PROXY v1/v2), maildir $TEST_HOME/Maildir," \
  "exim 127.0.0.1:2625 (STARTTLS) / 4665 (implicit TLS) / 2687 / 2688 (no CHUNKING)," \
  "nsd 127.0.0.1:5392 + unbound 127.0.0.1:5391 (signed dnssec.test)," \
  "cert $CERT, logs $STATE/"
