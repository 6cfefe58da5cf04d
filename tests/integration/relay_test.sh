#!/usr/bin/env bash
# isergw relaying to tgtd on loopback; relay_data_test holds the checks.
source tests/integration/peers.sh

start_tgtd 64M
# A second target that admits only CHAP user "gateway" (RFC 7143 §12.1.3:
# secrets of 12 bytes or more).
TGTD_CHAP_IQN=iqn.2026-11.io.isergw.test:tgtd-chap
admin=(tgtadm -C "$TGTD_CONTROL" --lld iscsi)
truncate -s 16M "$PEERS_DIR/tgtd-chap.img"
"${admin[@]}" --mode target --op new --tid 2 --targetname "$TGTD_CHAP_IQN"
"${admin[@]}" --mode logicalunit --op new --tid 2 --lun 1 --backing-store "$PEERS_DIR/tgtd-chap.img"
"${admin[@]}" --mode target --op bind --tid 2 --initiator-address ALL
"${admin[@]}" --mode account --op new --user gateway --password storage-secret-1
"${admin[@]}" --mode account --op bind --tid 2 --user gateway
start_isergw \
  --map "iqn.2026-11.io.isergw.test:ram=ram://16M" \
  --map "iqn.2026-11.io.isergw.test:relay=iscsi://127.0.0.1:$TGTD_PORT/$TGTD_IQN" \
  --map "iqn.2026-11.io.isergw.test:missing=iscsi://127.0.0.1:$TGTD_PORT/iqn.2026-11.io.isergw.test:none" \
  --map "iqn.2026-11.io.isergw.test:chap=iscsi://gateway%storage-secret-1@127.0.0.1:$TGTD_PORT/$TGTD_CHAP_IQN" \
  --map "iqn.2026-11.io.isergw.test:bad-chap=iscsi://gateway%wrong-secret-99@127.0.0.1:$TGTD_PORT/$TGTD_CHAP_IQN" \
  --map "iqn.2026-11.io.isergw.test:no-chap=iscsi://127.0.0.1:$TGTD_PORT/$TGTD_CHAP_IQN" \
  --map "iqn.2026-11.io.isergw.test:unreachable=iscsi://127.0.0.1:$(free_port)/iqn.2026-11.io.isergw.test:none"
# The test kills and restarts tgtd (same port, target and disk) through this
# script; the PID of the tgtd that runs is kept in tgtd.pid.
echo "${PEER_PIDS[0]}" >"$PEERS_DIR/tgtd.pid"
TGTD_RESTART="$PEERS_DIR/restart-tgtd.sh"
cat >"$TGTD_RESTART" <<SCRIPT
#!/usr/bin/env bash
# restart-tgtd.sh stop|start
set -euo pipefail
admin=(tgtadm -C "$TGTD_CONTROL" --lld iscsi)
case "\$1" in
  stop)
    kill -9 "\$(cat "$PEERS_DIR/tgtd.pid")"
    while kill -0 "\$(cat "$PEERS_DIR/tgtd.pid")" 2>/dev/null; do sleep 0.05; done ;;
  start)
    tgtd -f -C "$TGTD_CONTROL" --iscsi portal=127.0.0.1:$TGTD_PORT >>"$PEERS_DIR/tgtd.log" 2>&1 &
    echo \$! >"$PEERS_DIR/tgtd.pid"
    for _ in \$(seq 100); do "\${admin[@]}" --mode target --op show >/dev/null 2>&1 && break; sleep 0.1; done
    "\${admin[@]}" --mode target --op new --tid 1 --targetname "$TGTD_IQN"
    "\${admin[@]}" --mode logicalunit --op new --tid 1 --lun 1 --backing-store "$PEERS_DIR/tgtd-disk.img"
    "\${admin[@]}" --mode target --op bind --tid 1 --initiator-address ALL
    for _ in \$(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$TGTD_PORT) 2>/dev/null && break; sleep 0.1; done ;;
esac
SCRIPT
chmod +x "$TGTD_RESTART"
ISERGW_BINARY=$(realpath "${ISERGW_BINARY:-gateway/isergw}")
export TGTD_PORT TGTD_IQN TGTD_CONTROL TGTD_RESTART ISERGW_PORT ISERGW_BINARY
status=0
tests/integration/relay_data_test || status=$?
# The gateway outlived everything the test did to it.
if ! kill -0 "${PEER_PIDS[1]}" 2>/dev/null; then
  echo "isergw exited during the test" >&2
  status=1
fi
# A tgtd the test restarted is not among the PIDs peers.sh stops.
kill -9 "$(cat "$PEERS_DIR/tgtd.pid")" 2>/dev/null || true
cp "$PEERS_DIR/isergw.log" "${TEST_UNDECLARED_OUTPUTS_DIR:-/tmp}/relay-isergw.log" 2>/dev/null || true
exit "$status"
