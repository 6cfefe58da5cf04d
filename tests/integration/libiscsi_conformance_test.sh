#!/usr/bin/env bash
# libiscsi's conformance suite, iscsi-test-cu, run directly against tgtd,
# through isergw relaying to the same tgtd LUN, and against isergw's built-in
# ram:// back end: every test tgtd passes, both gateway runs pass too. Each
# such test is one test case per gateway run in the result.
source tests/integration/peers.sh

start_tgtd 128M
start_isergw --map iqn.2026-11.io.isergw.test:ram=ram://128M \
  --map "iqn.2026-11.io.isergw.test:relay=iscsi://127.0.0.1:$TGTD_PORT/$TGTD_IQN"

run_suite() {
  # -d: destructive tests are fine on scratch disks. A crash of the suite
  # still leaves its output for the comparison, which then fails.
  timeout 900 iscsi-test-cu -d "$1" >"$2" 2>&1 || true
}
run_suite "iscsi://127.0.0.1:$TGTD_PORT/$TGTD_IQN/1" "$PEERS_DIR/tgtd.txt"
run_suite "iscsi://127.0.0.1:$ISERGW_PORT/iqn.2026-11.io.isergw.test:relay/1" "$PEERS_DIR/relay.txt"
run_suite "iscsi://127.0.0.1:$ISERGW_PORT/iqn.2026-11.io.isergw.test:ram/0" "$PEERS_DIR/ram.txt"
cp "$PEERS_DIR"/*.txt "$PEERS_DIR/isergw.log" "${TEST_UNDECLARED_OUTPUTS_DIR:-/tmp}/" 2>/dev/null || true
python3 tests/integration/compare_conformance.py "${XML_OUTPUT_FILE:-$PEERS_DIR/result.xml}" \
  "$PEERS_DIR/tgtd.txt" "relay_vs_tgtd=$PEERS_DIR/relay.txt" "ram_vs_tgtd=$PEERS_DIR/ram.txt"
