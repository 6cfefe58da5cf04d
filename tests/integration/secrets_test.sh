#!/usr/bin/env bash
# No secret leaves the gateway: CHAP secrets of both legs (from the config
# and from a back-end URL) and the REST API token never appear in the log,
# in any REST answer or in /metrics, while logins succeed and fail, a wrong
# token is refused and a reload fails. The config as the API returns it
# shows "***" in their place.
source tests/integration/peers.sh

start_tgtd 16M
CHAP_IQN=iqn.2026-11.io.isergw.test:tgtd-chap
admin=(tgtadm -C "$TGTD_CONTROL" --lld iscsi)
truncate -s 16M "$PEERS_DIR/chap.img"
"${admin[@]}" --mode target --op new --tid 2 --targetname "$CHAP_IQN"
"${admin[@]}" --mode logicalunit --op new --tid 2 --lun 1 --backing-store "$PEERS_DIR/chap.img"
"${admin[@]}" --mode target --op bind --tid 2 --initiator-address ALL
"${admin[@]}" --mode account --op new --user gateway --password storage-secret-C3
"${admin[@]}" --mode account --op bind --tid 2 --user gateway

FRONT=front-secret-A1x
MUTUAL=mutual-secret-B2
BACK=storage-secret-C3
URL_SECRET=url-secret-D4xyz
TOKEN="token-$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
SECRETS=("$FRONT" "$MUTUAL" "$BACK" "$URL_SECRET" "$TOKEN")

printf '%s\n' "$TOKEN" >"$PEERS_DIR/token"
chmod 600 "$PEERS_DIR/token"
P=iqn.2026-11.io.isergw.test
cat >"$PEERS_DIR/isergw.json" <<JSON
{
  "control_token_file": "$PEERS_DIR/token",
  "targets": [
    {"name": "$P:front", "back_end": "ram://16M",
     "front_chap": {"user": "host", "secret": "$FRONT"},
     "front_mutual_chap": {"user": "gw", "secret": "$MUTUAL"}},
    {"name": "$P:back", "back_end": "iscsi://127.0.0.1:$TGTD_PORT/$CHAP_IQN",
     "back_chap": {"user": "gateway", "secret": "$BACK"}},
    {"name": "$P:url", "back_end": "iscsi://gateway%$URL_SECRET@127.0.0.1:$TGTD_PORT/$CHAP_IQN"}
  ]
}
JSON
start_isergw --config "$PEERS_DIR/isergw.json"
portal="127.0.0.1:$ISERGW_PORT"
api="http://127.0.0.1:$ISERGW_CONTROL_PORT"
out="$PEERS_DIR/answers.txt"
failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}
inq() { iscsi-inq -i iqn.1993-08.org.debian:01:secrets-test "$@" >>"$out" 2>&1; }

# Logins that must work, and ones that must not.
inq "iscsi://host%$FRONT@$portal/$P:front/0?target_user=gw&target_password=$MUTUAL" ||
  fail "front CHAP with the right secrets was refused"
inq "iscsi://host%wrong-secret-99@$portal/$P:front/0" && fail "a wrong front secret was let in"
inq "iscsi://$portal/$P:back/1" || fail "back CHAP toward tgtd failed"
inq "iscsi://$portal/$P:url/1" && fail "a wrong back secret from the URL was let in"

# Everything the control API shows, a wrong token, a reload that fails.
for path in config targets backends sessions portals; do
  curl -s "$api/api/v1/$path" >>"$out"
  echo >>"$out"
done
curl -s "$api/metrics" >>"$out"
code=$(curl -s -o "$PEERS_DIR/wrong-token.txt" -w '%{http_code}' -X POST \
  -H "Authorization: Bearer wrong-token-0123456789" "$api/api/v1/config/reload")
[[ "$code" == 401 ]] || fail "a wrong token got $code, not 401"
cat "$PEERS_DIR/wrong-token.txt" >>"$out"
sed -i 's/"ram:\/\/16M"/"ram:\/\/16Q"/' "$PEERS_DIR/isergw.json"
code=$(curl -s -o "$PEERS_DIR/reload.txt" -w '%{http_code}' -X POST \
  -H "Authorization: Bearer $TOKEN" "$api/api/v1/config/reload")
[[ "$code" == 4* ]] || fail "a bad config file was reloaded ($code)"
cat "$PEERS_DIR/reload.txt" >>"$out"

grep -q '"\*\*\*"' <(curl -s "$api/api/v1/config") || fail "the config does not show *** for secrets"
for secret in "${SECRETS[@]}"; do
  grep -qF -- "$secret" "$out" && fail "a secret appears in an answer: ${secret:0:6}..."
  grep -qF -- "$secret" "$PEERS_DIR/isergw.log" && fail "a secret appears in the log: ${secret:0:6}..."
done
# The checks above can fail: what the gateway logged and answered is there.
[[ -s "$PEERS_DIR/isergw.log" && $(wc -l <"$out") -gt 20 ]] || fail "too little output to judge"

if ((failures > 0)); then
  echo "--- isergw.log"
  tail -40 "$PEERS_DIR/isergw.log"
  exit 1
fi
echo "PASS: ${#SECRETS[@]} secrets absent from $(wc -l <"$PEERS_DIR/isergw.log") log lines and $(wc -l <"$out") lines of answers"
