#!/usr/bin/env bash
# A live config change with real peers: libiscsi's iscsi-perf reads through
# isergw's relay to tgtd while isergwctl adds, changes and removes other
# targets over the REST API, and reloads the config file. The relayed
# session must see no error and never log in again.
source tests/integration/peers.sh

RELAY=iqn.2026-11.io.isergw.test:relay
SCRATCH=iqn.2026-11.io.isergw.test:scratch
start_tgtd 64M
head -c 24 /dev/urandom | base64 >"$PEERS_DIR/token"
chmod 600 "$PEERS_DIR/token"
cat >"$PEERS_DIR/isergw.json" <<JSON
{
  "control_token_file": "$PEERS_DIR/token",
  "targets": [
    {"name": "$RELAY", "back_end": "iscsi://127.0.0.1:$TGTD_PORT/$TGTD_IQN"},
    {"name": "iqn.2026-11.io.isergw.test:ram", "back_end": "ram://16M"}
  ]
}
JSON
start_isergw --config "$PEERS_DIR/isergw.json"
wait_for_port "$ISERGW_CONTROL_PORT"
ctl=("${ISERGWCTL_BINARY:-control/isergwctl}" --control "127.0.0.1:$ISERGW_CONTROL_PORT"
  --token-file "$PEERS_DIR/token")

failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

# LUN 1 is tgtd's disk. Reads of 8 blocks, four at a time, until stopped.
iscsi-perf -b 8 -m 4 "iscsi://127.0.0.1:$ISERGW_PORT/$RELAY/1" >"$PEERS_DIR/perf.txt" 2>&1 &
perf=$!
PEER_PIDS+=("$perf")
sleep 1

for round in $(seq 10); do
  "${ctl[@]}" map "$SCRATCH=ram://8M" >/dev/null || fail "round $round: map"
  # A host uses the scratch target between changes.
  iscsi-inq "iscsi://127.0.0.1:$ISERGW_PORT/$SCRATCH/0" >/dev/null 2>&1 ||
    fail "round $round: inquiry on $SCRATCH"
  "${ctl[@]}" map "$SCRATCH=null://8M" >/dev/null || fail "round $round: change"
  "${ctl[@]}" unmap "$SCRATCH" || fail "round $round: unmap"
  "${ctl[@]}" targets | grep -q "$SCRATCH" && fail "round $round: $SCRATCH still listed"
done
# A reload of the unchanged file touches nothing either.
"${ctl[@]}" reload >/dev/null || fail "reload"
sleep 1
kill -INT "$perf"
wait "$perf" 2>/dev/null || true

metric() {
  curl -sf "http://127.0.0.1:$ISERGW_CONTROL_PORT/metrics" |
    python3 -c 'import sys
want = sys.argv[1] + " "
for line in sys.stdin:
    if line.startswith(want):
        print(int(float(line[len(want):])))' "$1"
}
for kind in protocol digest rejected timeout back_end; do
  errors=$(metric "isergw_errors_total{fabric=\"tcp\",kind=\"$kind\",target=\"$RELAY\"}")
  [[ "$errors" == 0 ]] || fail "$kind errors on $RELAY: '$errors'"
done
logins=$(metric "isergw_logins_total{fabric=\"tcp\",result=\"success\",target=\"$RELAY\"}")
[[ "$logins" == 1 ]] || fail "iscsi-perf logged in $logins times to $RELAY; its session was dropped"
commands=$(metric "isergw_commands_total{fabric=\"tcp\",target=\"$RELAY\"}")
((commands > 1000)) || fail "only '$commands' commands went through the relay"
if grep -qiE "error|fail|reconnect" "$PEERS_DIR/perf.txt"; then
  fail "iscsi-perf reported trouble:"
  grep -iE "error|fail|reconnect" "$PEERS_DIR/perf.txt" | head -5
fi

if ((failures > 0)); then
  echo "--- isergw log"
  tail -30 "$PEERS_DIR/isergw.log"
  exit 1
fi
echo "ok: $commands commands through the relay during 10 rounds of changes, one login, no errors"
