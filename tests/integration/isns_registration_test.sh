#!/usr/bin/env bash
# The gateway registers with Debian's isnsd: its targets and portals appear
# there, come back after the server restarts with an empty database, and are
# gone once the gateway stops on SIGTERM.
source tests/integration/peers.sh
source tests/integration/isns_peers.sh
trap 'remove_isnsd; stop_peers' EXIT

GATEWAY=iqn.2026-11.io.isergw.test:gw
TARGET_A=iqn.2026-11.io.isergw.test:isns-a
TARGET_B=iqn.2026-11.io.isergw.test:isns-b

fail() {
  echo "FAIL: $*" >&2
  echo "--- isergw.log" >&2; cat "$PEERS_DIR/isergw.log" >&2 || true
  echo "--- isnsd.log" >&2; cat "$PEERS_DIR/isnsd.log" >&2 || true
  exit 1
}

# Waits up to $1 seconds until isnsadm's listing of $2 contains $3.
wait_listed() {
  local seconds=$1 type=$2 text=$3
  for _ in $(seq $((seconds * 5))); do
    isns_list "$type" | grep -qF -- "$text" && return 0
    sleep 0.2
  done
  return 1
}

start_isnsd
TOKEN=isns-test-token-0123456789
(umask 077 && echo "$TOKEN" >"$PEERS_DIR/token")
cat >"$PEERS_DIR/isergw.json" <<JSON
{
  "control": "127.0.0.1:$(free_port)",
  "control_token_file": "$PEERS_DIR/token",
  "gateway_name": "$GATEWAY",
  "buffers": {"per_worker": 16},
  "isns": {"server": "127.0.0.1:$ISNSD_PORT", "refresh_seconds": 2},
  "targets": [
    {"name": "$TARGET_A", "back_end": "ram://16M"},
    {"name": "$TARGET_B", "back_end": "null://16M"}
  ]
}
JSON
start_isergw --config "$PEERS_DIR/isergw.json"
ISERGW_PID=${PEER_PIDS[-1]}

wait_listed 10 entities "Entity identifier = \"$GATEWAY\"" || fail "entity not registered"
nodes="$(isns_list nodes)"
for target in "$TARGET_A" "$TARGET_B"; do
  grep -A1 -F "iSCSI name = \"$target\"" <<<"$nodes" | grep -q 'node type = Target' ||
    fail "$target not registered as a target: $nodes"
done
portals="$(isns_list portals)"
grep -A1 -F 'Portal IP address = 127.0.0.1' <<<"$portals" | grep -q "= $ISERGW_PORT/tcp" ||
  fail "portal 127.0.0.1:$ISERGW_PORT not registered: $portals"
echo "PASS registered"

# A restarted server with an empty database has the gateway back at the
# next refresh (every 2 s here).
stop_isnsd
start_isnsd
isns_list nodes | grep -qF "$TARGET_A" && fail "the restarted server kept its database"
wait_listed 15 nodes "iSCSI name = \"$TARGET_B\"" || fail "not registered again after restart"
echo "PASS re-registered after a server restart"

# A live change reaches the server at once: target C added, B removed.
TARGET_C=iqn.2026-11.io.isergw.test:isns-c
sed -i "s|\"$TARGET_B\", \"back_end\": \"null://16M\"|\"$TARGET_C\", \"back_end\": \"null://16M\"|" \
  "$PEERS_DIR/isergw.json"
curl -sf -X POST -H "Authorization: Bearer $TOKEN" \
  "http://127.0.0.1:$ISERGW_CONTROL_PORT/api/v1/config/reload" >/dev/null || fail "reload refused"
wait_listed 5 nodes "iSCSI name = \"$TARGET_C\"" || fail "$TARGET_C not registered after the change"
isns_list nodes | grep -qF "$TARGET_B" && fail "$TARGET_B still registered after its removal"
echo "PASS a live change re-registered at once"

kill -TERM "$ISERGW_PID"
for _ in $(seq 100); do kill -0 "$ISERGW_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$ISERGW_PID" 2>/dev/null && fail "isergw still runs 10 s after SIGTERM"
grep -q "iSNS: deregistered $GATEWAY" "$PEERS_DIR/isergw.log" || fail "no deregistration logged"
for type in entities nodes portals; do
  listing="$(isns_list "$type")"
  grep -qF -e "$GATEWAY" -e "$TARGET_A" -e "$TARGET_C" -e "= $ISERGW_PORT/tcp" <<<"$listing" &&
    fail "still registered after SIGTERM: $listing"
done
echo "PASS deregistered on SIGTERM"
