#!/usr/bin/env bash
# Buffer admission at the pool's limits: one gateway worker with a small pool
# (32 buffers of 128 KiB: claims of at most 512 KiB, 1 MiB claimed at once),
# a ram:// target and one relayed to tgtd. buffer_admission_data_test drives
# them as the adversarial probe's reproducers did: many large writes at
# once, a host that holds what it was asked for, a read flood nobody reads.
source tests/integration/peers.sh

start_tgtd 64M relayed
cat >"$PEERS_DIR/isergw.json" <<JSON
{
  "buffers": {"size": 131072, "per_worker": 32},
  "limits": {"data_timeout_seconds": 3},
  "targets": [
    {"name": "iqn.2026-11.io.isergw.test:ram", "back_end": "ram://64M"},
    {"name": "iqn.2026-11.io.isergw.test:relayed",
     "back_end": "iscsi://127.0.0.1:$TGTD_PORT/$TGTD_IQN"}
  ]
}
JSON
ISERGW_WORKERS=1 start_isergw --config "$PEERS_DIR/isergw.json"
wait_for_port "$ISERGW_CONTROL_PORT"

status=0
ISERGW_PORT="$ISERGW_PORT" ISERGW_CONTROL_PORT="$ISERGW_CONTROL_PORT" \
  ISERGW_PID="${PEER_PIDS[-1]}" tests/integration/buffer_admission_data_test || status=$?
if [[ $status -ne 0 ]]; then
  echo "--- isergw log"
  tail -30 "$PEERS_DIR/isergw.log"
fi
exit $status
