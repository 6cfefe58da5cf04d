#!/usr/bin/env bash
# isergw relaying to tgtd on loopback; relay_data_test holds the checks.
source tests/integration/peers.sh

start_tgtd 64M
start_isergw \
  --map "iqn.2026-11.io.isergw.test:relay=iscsi://127.0.0.1:$TGTD_PORT/$TGTD_IQN" \
  --map "iqn.2026-11.io.isergw.test:missing=iscsi://127.0.0.1:$TGTD_PORT/iqn.2026-11.io.isergw.test:none" \
  --map "iqn.2026-11.io.isergw.test:unreachable=iscsi://127.0.0.1:$(free_port)/iqn.2026-11.io.isergw.test:none"
ISERGW_BINARY=$(realpath "${ISERGW_BINARY:-gateway/isergw}")
export TGTD_PORT TGTD_IQN ISERGW_PORT ISERGW_BINARY
status=0
tests/integration/relay_data_test || status=$?
# The gateway outlived everything the test did to it.
if ! kill -0 "${PEER_PIDS[1]}" 2>/dev/null; then
  echo "isergw exited during the test" >&2
  status=1
fi
cp "$PEERS_DIR/isergw.log" "${TEST_UNDECLARED_OUTPUTS_DIR:-/tmp}/relay-isergw.log" 2>/dev/null || true
exit "$status"
