#!/usr/bin/env bash
# A storage that stops under I/O: tgtd behind stall_proxy.py, which stops it
# (SIGSTOP) as a chosen write passes. stuck_storage_data_test checks each
# answer a host needs against its bound; then libiscsi's iSCSI.iSCSITMF
# tests run, each against a storage stopped under its write, and must
# return within their bound.
source tests/integration/peers.sh

start_tgtd 64M stuck
PROXY_PORT=$(free_port)
ARM_FILE="$PEERS_DIR/arm"
STOPPED_FILE="$PEERS_DIR/stopped"
python3 tests/integration/stall_proxy.py "$PROXY_PORT" "$TGTD_PORT" "$TGTD_PID" \
  "$ARM_FILE" "$STOPPED_FILE" >"$PEERS_DIR/proxy.log" 2>&1 &
PEER_PIDS+=($!)
wait_for_port "$PROXY_PORT"
T=iqn.2026-11.io.isergw.test:stuck
cat >"$PEERS_DIR/isergw.json" <<JSON
{
  "limits": {"task_management_timeout_seconds": 3, "login_timeout_seconds": 6},
  "targets": [{"name": "$T", "back_end": "iscsi://127.0.0.1:$PROXY_PORT/$TGTD_IQN"}]
}
JSON
start_isergw --config "$PEERS_DIR/isergw.json"

status=0
ISERGW_PORT="$ISERGW_PORT" ARM_FILE="$ARM_FILE" STOPPED_FILE="$STOPPED_FILE" \
  STORAGE_PID="$TGTD_PID" tests/integration/stuck_storage_data_test || status=$?
kill -CONT "$TGTD_PID" 2>/dev/null || true

# libiscsi's task management tests, each with the storage stopped under
# its WRITE. Whether they pass is the storage's business (it cannot
# answer); that each returns in bounded time is the gateway's: the TMF
# deadline (3 s), libiscsi's own 5 s wait, and a logout.
for test in AbortTaskSimpleAsync LUNResetSimpleAsync; do
  rm -f "$STOPPED_FILE"
  touch "$ARM_FILE"
  rejected_before=$(grep -c "did not answer ABORT TASK" "$PEERS_DIR/isergw.log" || true)
  begin=$SECONDS
  rc=0
  timeout 60 iscsi-test-cu --dataloss -i "iqn.1993-08.org.debian:01:tmf-$test" \
    -t "iSCSI.iSCSITMF.$test" "iscsi://127.0.0.1:$ISERGW_PORT/$T/1" \
    >"$PEERS_DIR/$test.txt" 2>&1 || rc=$?
  took=$((SECONDS - begin))
  stopped=no
  [[ -e "$STOPPED_FILE" ]] && stopped=yes
  kill -CONT "$TGTD_PID"
  rm -f "$ARM_FILE"
  echo "iSCSITMF.$test: exit $rc after ${took} s, storage stopped under it: $stopped"
  if ((rc == 124 || took > 20)); then
    echo "FAIL: iSCSITMF.$test did not return within 20 s"
    cat "$PEERS_DIR/$test.txt"
    status=1
  fi
  if [[ $stopped != yes ]]; then
    echo "FAIL: iSCSITMF.$test ran without stopping the storage: it proves nothing"
    cat "$PEERS_DIR/$test.txt"
    status=1
  fi
  # AbortTaskSimpleAsync sends its ABORT TASK while the storage is stopped;
  # the gateway must have answered it at its deadline. (LUNResetSimpleAsync
  # fails before it sends its reset, against any target.)
  rejected=$(grep -c "did not answer ABORT TASK" "$PEERS_DIR/isergw.log" || true)
  if [[ $test == AbortTaskSimpleAsync ]] && ((rejected <= rejected_before)); then
    echo "FAIL: iSCSITMF.$test: no ABORT TASK reached its deadline"
    status=1
  fi
done
if [[ $status -ne 0 ]]; then
  echo "--- isergw log"
  tail -40 "$PEERS_DIR/isergw.log"
fi
exit $status
