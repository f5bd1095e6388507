#!/usr/bin/env bash
# tests/interop/dnssec.sh — a DNSSEC-signed test zone served by NSD and validated by Unbound, for
# the dnssec_* interop tests (ehlo's own validator and its --dnssec trust-ad compared with a real
# validating resolver).
#
#   bash tests/interop/dnssec.sh start   (re)sign the zones, (re)start nsd and unbound, wait until ready
#   bash tests/interop/dnssec.sh stop    stop the two daemons started by `start` (their pid files only)
#
# Called by setup.sh (after the Postfix certificate exists: the TLSA records pin it) and
# teardown.sh. The packages (nsd, unbound, ldnsutils) are installed by setup.sh --install-only.
# Keys are new on every start, so the trust anchor is too: tests read it from $DIR/anchor.key.
#
# What runs afterwards (127.0.0.1 only, UDP and TCP):
#   NSD     127.0.0.1:5392  authoritative for seven zones (and an eighth it cannot load), no recursion:
#     dnssec.test           signed (ECDSA P-256, NSEC), the trust anchor's zone
#       dnssec.test MX 10 mx.dnssec.test; mx A 127.0.0.1; _25/_2525._tcp.mx TLSA 3 1 1 <Postfix SPKI>
#       mx-wrong A 127.0.0.1; _2525._tcp.mx-wrong TLSA 3 1 1 <another key's SPKI> (a DANE mismatch)
#       bogus A 127.0.0.1, served as 127.0.0.9 after signing (its RRSIG no longer verifies)
#       bogus-mx MX 10 bogus.dnssec.test (a secure MX whose exchange is bogus)
#       mx-bogus A 127.0.0.1; _2525._tcp.mx-bogus TLSA changed after signing (bogus TLSA)
#       mx-cn CNAME mx (A only); mx-cn6 CNAME mx-v6 (AAAA ::1 only, its own TLSA); mx-tcnnx A
#       127.0.0.1 whose _2525._tcp TLSA name is a CNAME to a name that does not exist
#       *.wca A 127.0.0.1; mx-wc A 127.0.0.1 with *._tcp.mx-wc TLSA 3 1 1 <Postfix SPKI> (wildcards)
#       mx-odd A 127.0.0.1, _2525._tcp TLSA records of a bad length, unknown usage/selector/
#       matching type and PKIX usage 1 only (none usable); mx-oddok: some of them + the good one;
#       cnmx-odd MX 10 mx-cnodd, a CNAME to mx-odd (the unusable records at the expansion)
#       to-insecure MX 10 mx.insecure.dnssec.test (a secure MX whose host is insecure)
#       ee-expired MX 10 mx-ee-expired; mx-ee-expired A 127.0.0.7, _2525._tcp TLSA 3 1 1 of
#       $DIR/ee-expired.key (the test serves an expired certificate for that key there)
#       ta MX 10 mx-ta; mx-ta A 127.0.0.8, _2525._tcp TLSA 2 0 1 of the CA $DIR/ta-ca.pem, which
#       issued $DIR/ta-leaf.pem (mx-ta.dnssec.test) and ta-badname.pem (elsewhere.test), key
#       ta-leaf.key, each also as *-chain.pem with the CA after it (the tests serve them there);
#       ta-wrong MX 10 mx-ta-wrong (A 127.0.0.8), TLSA 2 0 1 of another CA (a DANE-TA mismatch)
#       cnmx MX 10 mx-cn (an MX host that is a CNAME)
#       ta-int MX 10 mx-ti (A 127.0.0.8), TLSA 2 1 1 of the intermediate $DIR/ta-int.pem's key;
#       ta-root MX 10 mx-tr (A 127.0.0.8), TLSA 2 1 1 of the root $DIR/ta-root.pem's key, which
#       signed ta-int, which issued $DIR/ta-ti.pem (key ta-leaf.key) for mx-ti and mx-tr, also as
#       ta-ti-chain.pem (+ ta-int) and ta-ti-full.pem (+ ta-int + ta-root)
#       mx-full A 127.0.0.1, _2525._tcp TLSA 3 0 1 <Postfix certificate's SHA-256> (the whole
#       certificate pinned, RFC 6698 §2.1.2 selector 0)
#       cnmx-orig MX 10 mx-cno; mx-cno CNAME mx-plain (A 127.0.0.1, no TLSA of its own), the TLSA
#       3 1 1 <Postfix SPKI> at the alias's own name _2525._tcp.mx-cno (RFC 7672 §2.2.2's second
#       lookup)
#       mx-full0 A 127.0.0.1, _2525._tcp TLSA 3 1 0 <Postfix SPKI, whole>; mx-sha512 A 127.0.0.1,
#       _2525._tcp TLSA 3 0 2 <its certificate's SHA-512> (matching types 0 and 2, RFC 6698 §2.1.3)
#       cnmx-ta MX 10 mx-cta; mx-cta CNAME mx-ta (its TLSA 2 0 1 is at the expansion); the CA also
#       issued $DIR/ta-alias.pem (and -chain.pem) for mx-cta.dnssec.test alone: the alias is no
#       DANE-TA reference name beside its expansion, the TLSA base domain (RFC 7672 §3.2.2)
#       tlsa-expired MX 10 mx-tx; mx-tx A 127.0.0.1 whose _tcp.mx-tx is a signed child zone with
#       expired signatures holding its TLSA (only the TLSA lookup is bogus)
#       tlsa-servfail MX 10 mx-sf; mx-sf A 127.0.0.1 whose _tcp.mx-sf is delegated to a server
#       whose zone NSD cannot load (the TLSA lookup gets SERVFAIL)
#     sub.dnssec.test       signed subzone (its own key, NSEC3, DS in the parent): same MX/A/TLSA,
#                           and *.wca A 127.0.0.1
#     brokends.dnssec.test  signed subzone whose DS in the parent is another key's (bogus)
#     expired.dnssec.test   signed subzone whose signatures expired 30 days ago (bogus)
#     future.dnssec.test    signed subzone whose signatures are valid from 30 days hence (bogus:
#                           RFC 4035 §5.3.1's inception, a signer whose clock runs ahead)
#     _tcp.mx-tx.dnssec.test  signed child whose signatures expired 30 days ago (bogus TLSA)
#     _tcp.mx-sf.dnssec.test  configured with a zone file that does not exist: SERVFAIL
#     insecure.dnssec.test  unsigned delegation (no DS, the parent's NSEC proves it): same MX/A/TLSA,
#                           and to-secure MX 10 mx.dnssec.test (an insecure MX, a secure host)
#   Unbound 127.0.0.1:5391  validating recursive resolver: stub-zones to NSD, trust-anchor-file =
#     dnssec.test's DNSKEY, val-permissive-mode: no (bogus answers are SERVFAIL), no root hints.
# Logs: $DIR/nsd.log, $DIR/unbound.log.
set -euo pipefail

STATE=/tmp/ehlo-interop
# The three overrides run a private copy beside the shared one (trying zone changes without
# restarting the peers the tests use): EHLO_INTEROP_DNSSEC_DIR=/tmp/x EHLO_INTEROP_NSD_PORT=… EHLO_INTEROP_UNBOUND_PORT=….
DIR="${EHLO_INTEROP_DNSSEC_DIR:-$STATE/dnssec}"
NSD_PORT="${EHLO_INTEROP_NSD_PORT:-5392}"
UNBOUND_PORT="${EHLO_INTEROP_UNBOUND_PORT:-5391}"
CERT="$STATE/postfix.pem"

log() { printf '[interop-dnssec] %s\n' "$*"; }
die() {
  printf '[interop-dnssec] ERROR: %s\n' "$*" >&2
  exit 1
}

stop_pid() {
  local pidfile=$1 pid
  [[ -s "$pidfile" ]] || return 0
  pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
    log "stopped pid $pid ($pidfile)"
  fi
  rm -f "$pidfile"
}

stop() {
  stop_pid "$DIR/unbound.pid"
  stop_pid "$DIR/nsd.pid"
}

# SHA2-256 of a certificate's SubjectPublicKeyInfo: the data of a `3 1 1` TLSA record.
spki_sha256() {
  openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1
}

# A new key for ZONE (ECDSA P-256 = algorithm 13, RFC 6605; SEP flag set so it is also the KSK);
# prints the base name (K<zone>+013+<tag>).
new_key() {
  (cd "$DIR" && ldns-keygen -a ECDSAP256SHA256 -k "$1")
}

sign() {
  local zone=$1 key=$2
  shift 2
  # Signatures valid from an hour ago for 30 days (ldns-signzone's default starts now: a
  # validator whose clock is a little behind would call the zone bogus).
  (cd "$DIR" && ldns-signzone "$@" -i "$(date -u -d '-1 hour' +%Y%m%d%H%M%S)" \
    -e "$(date -u -d '+30 days' +%Y%m%d%H%M%S)" -f "$zone.signed" "$zone.zone" "$key")
}

start() {
  for tool in nsd unbound ldns-keygen ldns-signzone ldns-key2ds openssl; do
    command -v "$tool" >/dev/null || die "$tool is missing: run setup.sh --install-only"
  done
  [[ -s "$CERT" ]] || die "$CERT is missing: setup.sh makes it before calling this script"
  stop
  rm -rf "$DIR"
  mkdir -p "$DIR"
  local tlsa tlsa_cert other ee_expired ds_lost ds_expired
  tlsa="$(spki_sha256 "$CERT")"
  tlsa_cert="$(openssl x509 -in "$CERT" -outform DER | sha256sum | cut -d' ' -f1)"
  local spki_full cert_sha512
  spki_full="$(openssl x509 -in "$CERT" -noout -pubkey | openssl pkey -pubin -outform DER | od -An -v -tx1 | tr -d ' \n')"
  cert_sha512="$(openssl x509 -in "$CERT" -outform DER | sha512sum | cut -d' ' -f1)"
  # Another key's digest, for the mismatch case.
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=other \
    -keyout "$DIR/other.key" -out "$DIR/other.pem" 2>/dev/null
  other="$(spki_sha256 "$DIR/other.pem")"
  # A key whose certificate the interop test makes itself, already expired: its `3 1 1` record
  # pins the key, and DANE-EE ignores the certificate's dates (RFC 7672 §3.1.1).
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$DIR/ee-expired.key" 2>/dev/null
  ee_expired="$(openssl pkey -in "$DIR/ee-expired.key" -pubout -outform DER | sha256sum | cut -d' ' -f1)"
  # Two CAs for DANE-TA(2): `2 0 1` pins the CA certificate, the tests issue the leaves.
  local ca ta_ca ta_other
  for ca in ta-ca ta-other; do
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
      -subj "/CN=$ca" -addext basicConstraints=critical,CA:TRUE \
      -addext keyUsage=critical,keyCertSign,cRLSign \
      -keyout "$DIR/$ca.key" -out "$DIR/$ca.pem" 2>/dev/null
  done
  ta_ca="$(openssl x509 -in "$DIR/ta-ca.pem" -outform DER | sha256sum | cut -d' ' -f1)"
  # Leaves the CA issued (one key): for mx-ta.dnssec.test, and for a name that is no
  # reference name of the MX (RFC 7672 §3.2.3); each alone and followed by the CA.
  local leaf name
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$DIR/ta-leaf.key" 2>/dev/null
  for leaf in ta-leaf:mx-ta.dnssec.test ta-badname:elsewhere.test ta-alias:mx-cta.dnssec.test; do
    name=${leaf#*:}
    leaf=${leaf%%:*}
    openssl req -new -key "$DIR/ta-leaf.key" -subj "/CN=$name" 2>/dev/null |
      openssl x509 -req -CA "$DIR/ta-ca.pem" -CAkey "$DIR/ta-ca.key" -set_serial "0x$(openssl rand -hex 8)" \
        -days 30 -extfile <(printf 'subjectAltName=DNS:%s\nbasicConstraints=CA:FALSE\n' "$name") \
        -out "$DIR/$leaf.pem" 2>/dev/null
    cat "$DIR/$leaf.pem" "$DIR/ta-ca.pem" >"$DIR/$leaf-chain.pem"
  done
  ta_other="$(openssl x509 -in "$DIR/ta-other.pem" -outform DER | sha256sum | cut -d' ' -f1)"
  # A three-level chain for DANE-TA(2) by key (`2 1 1`, RFC 7672 §3.1.2): the root ta-root
  # signed the intermediate ta-int, which issued ta-ti.pem (ta-leaf.key) for mx-ti and mx-tr;
  # served as leaf + intermediate (ta-ti-chain.pem, what most servers send) or with the root
  # after them (ta-ti-full.pem).
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
    -subj /CN=ta-root -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign \
    -keyout "$DIR/ta-root.key" -out "$DIR/ta-root.pem" 2>/dev/null
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=ta-int \
    -keyout "$DIR/ta-int.key" 2>/dev/null |
    openssl x509 -req -CA "$DIR/ta-root.pem" -CAkey "$DIR/ta-root.key" \
      -set_serial "0x$(openssl rand -hex 8)" -days 30 \
      -extfile <(printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n') \
      -out "$DIR/ta-int.pem" 2>/dev/null
  openssl req -new -key "$DIR/ta-leaf.key" -subj /CN=mx-ti.dnssec.test 2>/dev/null |
    openssl x509 -req -CA "$DIR/ta-int.pem" -CAkey "$DIR/ta-int.key" \
      -set_serial "0x$(openssl rand -hex 8)" -days 30 \
      -extfile <(printf 'subjectAltName=DNS:mx-ti.dnssec.test,DNS:mx-tr.dnssec.test\nbasicConstraints=CA:FALSE\n') \
      -out "$DIR/ta-ti.pem" 2>/dev/null
  cat "$DIR/ta-ti.pem" "$DIR/ta-int.pem" >"$DIR/ta-ti-chain.pem"
  cat "$DIR/ta-ti.pem" "$DIR/ta-int.pem" "$DIR/ta-root.pem" >"$DIR/ta-ti-full.pem"
  local ta_int ta_root
  ta_int="$(spki_sha256 "$DIR/ta-int.pem")"
  ta_root="$(spki_sha256 "$DIR/ta-root.pem")"

  local soa='SOA ns.dnssec.test. hostmaster.dnssec.test. 1 3600 600 86400 60'
  # The children first: the parent needs the signed subzone's DS.
  cat >"$DIR/sub.dnssec.test.zone" <<EOF
\$ORIGIN sub.dnssec.test.
\$TTL 300
@ IN $soa
@ IN NS ns.dnssec.test.
@ IN MX 10 mx.sub.dnssec.test.
mx IN A 127.0.0.1
_2525._tcp.mx IN TLSA 3 1 1 $tlsa
*.wca IN A 127.0.0.1
EOF
  local subkey
  subkey="$(new_key sub.dnssec.test)"
  # NSEC3 (RFC 5155) in the subzone, NSEC in the parent: both denial kinds are exercised.
  sign sub.dnssec.test "$subkey" -n -s "$(openssl rand -hex 4)"
  # Three more signed children with their DS in the parent: one whose DS names a key the child
  # does not publish (a broken delegation, RFC 4035 §5.2), one whose signatures have expired
  # and one whose signatures are not valid yet (RFC 4035 §5.3.1).
  local child childkey ds_future
  for child in brokends expired future; do
    cat >"$DIR/$child.dnssec.test.zone" <<EOF
\$ORIGIN $child.dnssec.test.
\$TTL 300
@ IN $soa
@ IN NS ns.dnssec.test.
@ IN MX 10 mx.$child.dnssec.test.
mx IN A 127.0.0.1
_2525._tcp.mx IN TLSA 3 1 1 $tlsa
EOF
  done
  childkey="$(new_key brokends.dnssec.test)"
  sign brokends.dnssec.test "$childkey"
  # The DS the parent publishes is another key's, never used to sign.
  ds_lost="$(new_key brokends.dnssec.test)"
  childkey="$(new_key expired.dnssec.test)"
  (cd "$DIR" && ldns-signzone -i "$(date -u -d '-60 days' +%Y%m%d%H%M%S)" \
    -e "$(date -u -d '-30 days' +%Y%m%d%H%M%S)" -f expired.dnssec.test.signed \
    expired.dnssec.test.zone "$childkey")
  ds_expired="$childkey"
  childkey="$(new_key future.dnssec.test)"
  (cd "$DIR" && ldns-signzone -i "$(date -u -d '+30 days' +%Y%m%d%H%M%S)" \
    -e "$(date -u -d '+60 days' +%Y%m%d%H%M%S)" -f future.dnssec.test.signed \
    future.dnssec.test.zone "$childkey")
  ds_future="$childkey"
  # A child zone holding only mx-tx's TLSA, its signatures expired: the MX and the host's
  # address are secure, the TLSA lookup alone is bogus (RFC 7672 §2.2: senders defer).
  cat >"$DIR/_tcp.mx-tx.dnssec.test.zone" <<EOF
\$ORIGIN _tcp.mx-tx.dnssec.test.
\$TTL 300
@ IN $soa
@ IN NS ns.dnssec.test.
_2525 IN TLSA 3 1 1 $tlsa
EOF
  local ds_tx
  ds_tx="$(new_key _tcp.mx-tx.dnssec.test)"
  (cd "$DIR" && ldns-signzone -i "$(date -u -d '-60 days' +%Y%m%d%H%M%S)" \
    -e "$(date -u -d '-30 days' +%Y%m%d%H%M%S)" -f _tcp.mx-tx.dnssec.test.signed \
    _tcp.mx-tx.dnssec.test.zone "$ds_tx")
  cat >"$DIR/insecure.dnssec.test.zone" <<EOF
\$ORIGIN insecure.dnssec.test.
\$TTL 300
@ IN $soa
@ IN NS ns.dnssec.test.
@ IN MX 10 mx.insecure.dnssec.test.
mx IN A 127.0.0.1
_2525._tcp.mx IN TLSA 3 1 1 $tlsa
to-secure IN MX 10 mx.dnssec.test.
EOF
  cat >"$DIR/dnssec.test.zone" <<EOF
\$ORIGIN dnssec.test.
\$TTL 300
@ IN $soa
@ IN NS ns.dnssec.test.
ns IN A 127.0.0.1
@ IN MX 10 mx.dnssec.test.
mx IN A 127.0.0.1
_25._tcp.mx IN TLSA 3 1 1 $tlsa
_2525._tcp.mx IN TLSA 3 1 1 $tlsa
mx-wrong IN A 127.0.0.1
_2525._tcp.mx-wrong IN TLSA 3 1 1 $other
bogus IN A 127.0.0.1
bogus-mx IN MX 10 bogus.dnssec.test.
mx-bogus IN A 127.0.0.1
_2525._tcp.mx-bogus IN TLSA 3 1 1 $tlsa
sub IN NS ns.dnssec.test.
insecure IN NS ns.dnssec.test.
mx-cn IN CNAME mx.dnssec.test.
mx-v6 IN AAAA ::1
_2525._tcp.mx-v6 IN TLSA 3 1 1 $tlsa
mx-cn6 IN CNAME mx-v6.dnssec.test.
mx-tcnnx IN A 127.0.0.1
_2525._tcp.mx-tcnnx IN CNAME _tlsa-missing.dnssec.test.
*.wca IN A 127.0.0.1
mx-wc IN A 127.0.0.1
*._tcp.mx-wc IN TLSA 3 1 1 $tlsa
mx-odd IN A 127.0.0.1
_2525._tcp.mx-odd IN TLSA 3 1 1 abcdef
_2525._tcp.mx-odd IN TLSA 4 1 1 $tlsa
_2525._tcp.mx-odd IN TLSA 3 2 1 $tlsa
_2525._tcp.mx-odd IN TLSA 3 1 3 $tlsa
_2525._tcp.mx-odd IN TLSA 1 1 1 $tlsa
mx-oddok IN A 127.0.0.1
_2525._tcp.mx-oddok IN TLSA 3 1 1 abcdef
_2525._tcp.mx-oddok IN TLSA 4 1 1 $tlsa
_2525._tcp.mx-oddok IN TLSA 3 1 1 $tlsa
cnmx-odd IN MX 10 mx-cnodd.dnssec.test.
mx-cnodd IN CNAME mx-odd.dnssec.test.
to-insecure IN MX 10 mx.insecure.dnssec.test.
ee-expired IN MX 10 mx-ee-expired.dnssec.test.
mx-ee-expired IN A 127.0.0.7
_2525._tcp.mx-ee-expired IN TLSA 3 1 1 $ee_expired
brokends IN NS ns.dnssec.test.
expired IN NS ns.dnssec.test.
future IN NS ns.dnssec.test.
ta IN MX 10 mx-ta.dnssec.test.
mx-ta IN A 127.0.0.8
_2525._tcp.mx-ta IN TLSA 2 0 1 $ta_ca
ta-wrong IN MX 10 mx-ta-wrong.dnssec.test.
mx-ta-wrong IN A 127.0.0.8
_2525._tcp.mx-ta-wrong IN TLSA 2 0 1 $ta_other
cnmx IN MX 10 mx-cn.dnssec.test.
ta-int IN MX 10 mx-ti.dnssec.test.
mx-ti IN A 127.0.0.8
_2525._tcp.mx-ti IN TLSA 2 1 1 $ta_int
ta-root IN MX 10 mx-tr.dnssec.test.
mx-tr IN A 127.0.0.8
_2525._tcp.mx-tr IN TLSA 2 1 1 $ta_root
mx-full IN A 127.0.0.1
_2525._tcp.mx-full IN TLSA 3 0 1 $tlsa_cert
cnmx-orig IN MX 10 mx-cno.dnssec.test.
mx-cno IN CNAME mx-plain.dnssec.test.
mx-plain IN A 127.0.0.1
_2525._tcp.mx-cno IN TLSA 3 1 1 $tlsa
mx-full0 IN A 127.0.0.1
_2525._tcp.mx-full0 IN TLSA 3 1 0 $spki_full
mx-sha512 IN A 127.0.0.1
_2525._tcp.mx-sha512 IN TLSA 3 0 2 $cert_sha512
cnmx-ta IN MX 10 mx-cta.dnssec.test.
mx-cta IN CNAME mx-ta.dnssec.test.
tlsa-expired IN MX 10 mx-tx.dnssec.test.
mx-tx IN A 127.0.0.1
_tcp.mx-tx IN NS ns.dnssec.test.
tlsa-servfail IN MX 10 mx-sf.dnssec.test.
mx-sf IN A 127.0.0.1
_tcp.mx-sf IN NS ns.dnssec.test.
EOF
  ldns-key2ds -n -2 "$DIR/$subkey.key" >>"$DIR/dnssec.test.zone"
  ldns-key2ds -n -2 "$DIR/$ds_tx.key" >>"$DIR/dnssec.test.zone"
  ldns-key2ds -n -2 "$DIR/$ds_lost.key" >>"$DIR/dnssec.test.zone"
  ldns-key2ds -n -2 "$DIR/$ds_expired.key" >>"$DIR/dnssec.test.zone"
  ldns-key2ds -n -2 "$DIR/$ds_future.key" >>"$DIR/dnssec.test.zone"
  local key
  key="$(new_key dnssec.test)"
  sign dnssec.test "$key"
  # Break two signatures after signing: the data changes, the RRSIGs stay.
  sed -i -E \
    -e 's/^(bogus\.dnssec\.test\.[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+A[[:space:]]+)127\.0\.0\.1$/\1127.0.0.9/' \
    -e "s/^(_2525\._tcp\.mx-bogus\.dnssec\.test\.[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+TLSA[[:space:]]+3 1 1 )$tlsa\$/\1$other/" \
    "$DIR/dnssec.test.signed"
  grep -qE '^bogus\.dnssec\.test\..*A[[:space:]]+127\.0\.0\.9$' "$DIR/dnssec.test.signed" ||
    die "could not break the signature of bogus.dnssec.test"
  grep -qE "^_2525\._tcp\.mx-bogus\.dnssec\.test\..*$other\$" "$DIR/dnssec.test.signed" ||
    die "could not break the signature of the mx-bogus TLSA"
  # The anchor: the zone's DNSKEY line (what --dns-trust-anchor and trust-anchor-file read).
  cp "$DIR/$key.key" "$DIR/anchor.key"
  printf '%s\n' "$tlsa" >"$DIR/tlsa-sha256"

  cat >"$DIR/nsd.conf" <<EOF
# Generated by tests/interop/dnssec.sh.
server:
  ip-address: 127.0.0.1@$NSD_PORT
  username: ""
  chroot: ""
  zonesdir: "$DIR"
  database: ""
  zonelistfile: "$DIR/zone.list"
  xfrdfile: "$DIR/xfrd.state"
  xfrdir: "$DIR"
  pidfile: "$DIR/nsd.pid"
  logfile: "$DIR/nsd.log"
  server-count: 1
  verbosity: 1
  hide-version: yes
remote-control:
  control-enable: no
zone:
  name: dnssec.test
  zonefile: dnssec.test.signed
zone:
  name: sub.dnssec.test
  zonefile: sub.dnssec.test.signed
zone:
  name: insecure.dnssec.test
  zonefile: insecure.dnssec.test.zone
zone:
  name: brokends.dnssec.test
  zonefile: brokends.dnssec.test.signed
zone:
  name: expired.dnssec.test
  zonefile: expired.dnssec.test.signed
zone:
  name: future.dnssec.test
  zonefile: future.dnssec.test.signed
zone:
  name: _tcp.mx-tx.dnssec.test
  zonefile: _tcp.mx-tx.dnssec.test.signed
# No such file: NSD answers SERVFAIL for a zone it could not load, and so does Unbound.
zone:
  name: _tcp.mx-sf.dnssec.test
  zonefile: _tcp.mx-sf.dnssec.test.missing
EOF
  nsd-checkconf "$DIR/nsd.conf" || die "nsd-checkconf refused $DIR/nsd.conf"
  log "starting nsd on 127.0.0.1:$NSD_PORT"
  nsd -c "$DIR/nsd.conf" || die "nsd failed to start: $(tail -n 20 "$DIR/nsd.log" 2>/dev/null)"

  cat >"$DIR/unbound.conf" <<EOF
# Generated by tests/interop/dnssec.sh.
server:
  interface: 127.0.0.1@$UNBOUND_PORT
  port: $UNBOUND_PORT
  access-control: 127.0.0.0/8 allow
  do-ip6: no
  username: ""
  chroot: ""
  directory: "$DIR"
  pidfile: "$DIR/unbound.pid"
  logfile: "$DIR/unbound.log"
  use-syslog: no
  verbosity: 1
  val-log-level: 2
  num-threads: 1
  # The authoritative server is on loopback.
  do-not-query-localhost: no
  module-config: "validator iterator"
  trust-anchor-file: "$DIR/anchor.key"
  val-permissive-mode: no
  harden-dnssec-stripped: yes
  # .test is a special-use name (RFC 6761) unbound answers itself by default; ask NSD instead.
  local-zone: "test." nodefault
  # Short caching: every start brings new keys, and tests should see NSD's current data.
  cache-max-ttl: 5
  cache-max-negative-ttl: 5
  qname-minimisation: no
  # No root hints are needed: every name asked is under the stub zones.
stub-zone:
  name: "dnssec.test"
  stub-addr: 127.0.0.1@$NSD_PORT
stub-zone:
  name: "sub.dnssec.test"
  stub-addr: 127.0.0.1@$NSD_PORT
stub-zone:
  name: "insecure.dnssec.test"
  stub-addr: 127.0.0.1@$NSD_PORT
stub-zone:
  name: "brokends.dnssec.test"
  stub-addr: 127.0.0.1@$NSD_PORT
stub-zone:
  name: "expired.dnssec.test"
  stub-addr: 127.0.0.1@$NSD_PORT
stub-zone:
  name: "future.dnssec.test"
  stub-addr: 127.0.0.1@$NSD_PORT
stub-zone:
  name: "_tcp.mx-tx.dnssec.test"
  stub-addr: 127.0.0.1@$NSD_PORT
stub-zone:
  name: "_tcp.mx-sf.dnssec.test"
  stub-addr: 127.0.0.1@$NSD_PORT
remote-control:
  control-enable: no
EOF
  unbound-checkconf "$DIR/unbound.conf" >/dev/null || die "unbound-checkconf refused $DIR/unbound.conf"
  log "starting unbound on 127.0.0.1:$UNBOUND_PORT"
  unbound -c "$DIR/unbound.conf" || die "unbound failed to start: $(tail -n 20 "$DIR/unbound.log" 2>/dev/null)"

  # Ready when unbound answers a validated question about the zone (which also proves NSD is up).
  for _ in $(seq 150); do
    if drill -p "$UNBOUND_PORT" -D mx.dnssec.test A @127.0.0.1 2>/dev/null | grep -q 'flags:.* ad'; then
      log "ready: nsd 127.0.0.1:$NSD_PORT, unbound 127.0.0.1:$UNBOUND_PORT, anchor $DIR/anchor.key"
      return 0
    fi
    sleep 0.1
  done
  printf '[interop-dnssec] ERROR: unbound gave no secure answer within 15 s; logs:\n' >&2
  tail -n 30 "$DIR/nsd.log" "$DIR/unbound.log" >&2 || true
  exit 1
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) die "usage: $0 start|stop" ;;
esac
