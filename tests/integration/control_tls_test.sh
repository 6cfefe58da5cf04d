#!/usr/bin/env bash
# The control API over HTTPS with named tokens, end to end: the gateway
# serves a certificate from a CA this test makes with openssl; isergwctl
# and curl verify it against that CA and are served, and fail against
# another CA; plain HTTP to the HTTPS port is refused; a read-only token
# reads but cannot change; an admin's change lands in the audit log and in
# /metrics under its name, and no token appears in the log. The daemon
# refuses plain HTTP on an address that is not loopback without the
# config's opt-in, at validation.
source tests/integration/peers.sh

pki="$PEERS_DIR/pki"
bash control/testing/make_test_ca.sh "$pki"
ALICE="alice-$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
READER="reader-$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
(
  umask 077
  printf '# name role token\nalice admin %s\nreader read-only %s\n' "$ALICE" "$READER" >"$PEERS_DIR/tokens"
  printf '%s\n' "$ALICE" >"$PEERS_DIR/alice-token"
)
P=iqn.2026-11.io.isergw.test
cat >"$PEERS_DIR/isergw.json" <<JSON
{
  "control_token_file": "$PEERS_DIR/tokens",
  "control_tls": {"cert_file": "$pki/server.crt", "key_file": "$pki/server.key"},
  "targets": [{"name": "$P:ram", "back_end": "ram://16M"}]
}
JSON
binary="${ISERGW_BINARY:-gateway/isergw}"
ctl_binary="${ISERGWCTL_BINARY:-control/isergwctl}"
failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

# Validation: plain HTTP beyond loopback is refused, naming the field, from
# the file and from --control alike; the opt-in or TLS makes it valid.
cat >"$PEERS_DIR/exposed.json" <<JSON
{"control": "0.0.0.0:9860", "targets": [{"name": "$P:ram", "back_end": "ram://16M"}]}
JSON
if "$binary" --check-config "$PEERS_DIR/exposed.json" >"$PEERS_DIR/check.txt" 2>&1; then
  fail "plain HTTP on 0.0.0.0 passed --check-config"
fi
grep -q "control: 0.0.0.0:9860 is not a loopback address" "$PEERS_DIR/check.txt" ||
  fail "the refusal does not name the field: $(cat "$PEERS_DIR/check.txt")"
grep -q "control_allow_plain_http" "$PEERS_DIR/check.txt" || fail "the refusal does not name the opt-in"
sed -i 's/"control": "0.0.0.0:9860",/"control": "0.0.0.0:9860", "control_allow_plain_http": true,/' \
  "$PEERS_DIR/exposed.json"
"$binary" --check-config "$PEERS_DIR/exposed.json" >/dev/null 2>&1 || fail "the opt-in was refused"
if "$binary" --check-config "$PEERS_DIR/isergw.json" --control 0.0.0.0:9 >/dev/null 2>&1; then :; else
  fail "TLS on 0.0.0.0 was refused"
fi
if "$binary" --control 0.0.0.0:9 --listen tcp://127.0.0.1:9 >"$PEERS_DIR/flags.txt" 2>&1; then
  fail "--control 0.0.0.0 without TLS started"
fi
grep -q "control: 0.0.0.0:9 is not a loopback address" "$PEERS_DIR/flags.txt" ||
  fail "--control 0.0.0.0 was not refused by name: $(head -3 "$PEERS_DIR/flags.txt")"

start_isergw --config "$PEERS_DIR/isergw.json"
wait_for_port "$ISERGW_CONTROL_PORT"
api="https://127.0.0.1:$ISERGW_CONTROL_PORT"
ctl=("$ctl_binary" --control "$api" --ca-file "$pki/ca.crt")

# isergwctl verifies against the CA: reading with the read-only token works.
ISERGW_TOKEN="$READER" "${ctl[@]}" targets >"$PEERS_DIR/targets.txt" 2>&1 ||
  fail "isergwctl --ca-file with the read-only token: $(cat "$PEERS_DIR/targets.txt")"
grep -q "$P:ram" "$PEERS_DIR/targets.txt" || fail "the target list lacks $P:ram"
# Without a token, reads are refused (named tokens close them).
if "${ctl[@]}" targets >"$PEERS_DIR/none.txt" 2>&1; then fail "a read without a token was served"; fi
# The read-only token cannot change anything.
if ISERGW_TOKEN="$READER" "${ctl[@]}" map "$P:new=ram://1M" >"$PEERS_DIR/ro.txt" 2>&1; then
  fail "the read-only token made a change"
fi
grep -q "reader is read-only" "$PEERS_DIR/ro.txt" || fail "the 403 does not say why: $(cat "$PEERS_DIR/ro.txt")"
# The admin's token from a file.
"${ctl[@]}" --token-file "$PEERS_DIR/alice-token" map "$P:new=ram://1M" >/dev/null 2>&1 ||
  fail "the admin's map failed"

# Another CA, or the system's CAs, do not vouch for the test certificate.
if ISERGW_TOKEN="$READER" "$ctl_binary" --control "$api" --ca-file "$pki/other-ca.crt" targets \
  >"$PEERS_DIR/other.txt" 2>&1; then
  fail "isergwctl trusted a certificate of another CA"
fi
grep -q "certificate does not verify" "$PEERS_DIR/other.txt" ||
  fail "no verification error: $(cat "$PEERS_DIR/other.txt")"
if ISERGW_TOKEN="$READER" "$ctl_binary" --control "$api" targets >/dev/null 2>&1; then
  fail "isergwctl without --ca-file trusted the test CA"
fi

# curl: verified against the CA it is served; plain HTTP gets a 400.
code=$(curl -s -o "$PEERS_DIR/metrics.txt" -w '%{http_code}' --cacert "$pki/ca.crt" \
  -H "Authorization: Bearer $READER" "$api/metrics")
[[ "$code" == 200 ]] || fail "curl --cacert /metrics answered $code"
grep -q '^isergw_control_changes_total{result="applied",token="alice"} 1$' "$PEERS_DIR/metrics.txt" ||
  fail "/metrics does not count alice's change"
grep -q '^isergw_control_refused_requests_total{reason="read_only",token="reader"} 1$' \
  "$PEERS_DIR/metrics.txt" || fail "/metrics does not count the read-only refusal"
curl -s --cacert "$pki/other-ca.crt" "$api/healthz" >/dev/null 2>&1 && fail "curl trusted another CA"
code=$(curl -s -o "$PEERS_DIR/plain.txt" -w '%{http_code}' "http://127.0.0.1:$ISERGW_CONTROL_PORT/healthz")
[[ "$code" == 400 ]] || fail "plain HTTP to the HTTPS port answered $code"
grep -q "speaks HTTPS only" "$PEERS_DIR/plain.txt" || fail "the plain-HTTP refusal does not say why"

# The audit trail names alice and the target, and holds no token.
grep -q "\[audit\] \[info\] change by token=alice: PUT /api/v1/targets/{name} target=$P:new fields=back_end -> 201 applied" \
  "$PEERS_DIR/isergw.log" || fail "no audit line for alice's change"
grep -q "refused (read_only) token=reader: PUT /api/v1/targets/{name}" "$PEERS_DIR/isergw.log" ||
  fail "no audit line for the read-only refusal"
grep -q "control API and /metrics on https://127.0.0.1:$ISERGW_CONTROL_PORT" "$PEERS_DIR/isergw.log" ||
  fail "the start line does not say https"
for secret in "$ALICE" "$READER"; do
  grep -qF -- "$secret" "$PEERS_DIR/isergw.log" && fail "a token appears in the log: ${secret:0:8}..."
done

if ((failures > 0)); then
  echo "--- isergw.log"
  tail -30 "$PEERS_DIR/isergw.log"
  exit 1
fi
echo "PASS: HTTPS verified against the test CA, refused with another CA and over plain HTTP; roles, audit and metrics by token name"
