#!/usr/bin/env bash
# A storage that stalls under a flood of writes: two tgtd, one gateway worker
# with a small pool (64 buffers of 128 KiB). stalled_storage_data_test stops
# the first tgtd (SIGSTOP) while hosts flood its target with writes, and
# measures what a host of the other target still gets.
source tests/integration/peers.sh

start_tgtd 64M stalled
STALLED_PORT=$TGTD_PORT
STALLED_PID=$TGTD_PID
start_tgtd 64M healthy
HEALTHY_PORT=$TGTD_PORT
cat >"$PEERS_DIR/isergw.json" <<JSON
{
  "buffers": {"size": 131072, "per_worker": 64},
  "targets": [
    {"name": "iqn.2026-11.io.isergw.test:stalled",
     "back_end": "iscsi://127.0.0.1:$STALLED_PORT/$TGTD_IQN"},
    {"name": "iqn.2026-11.io.isergw.test:healthy",
     "back_end": "iscsi://127.0.0.1:$HEALTHY_PORT/$TGTD_IQN"}
  ]
}
JSON
ISERGW_WORKERS=1 start_isergw --config "$PEERS_DIR/isergw.json"
wait_for_port "$ISERGW_CONTROL_PORT"

status=0
ISERGW_PORT="$ISERGW_PORT" ISERGW_CONTROL_PORT="$ISERGW_CONTROL_PORT" \
  ISERGW_PID="${PEER_PIDS[-1]}" STALLED_PID="$STALLED_PID" \
  tests/integration/stalled_storage_data_test || status=$?
# A tgtd left stopped by a failed test must still be stoppable.
kill -CONT "$STALLED_PID" 2>/dev/null || true
if [[ $status -ne 0 ]]; then
  echo "--- isergw log"
  tail -30 "$PEERS_DIR/isergw.log"
fi
exit $status
