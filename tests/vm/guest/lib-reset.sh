# shellcheck shell=bash
# Between scenarios in one boot: leave no session, target or daemon behind,
# so the next scenario starts from a known guest.
reset_guest() {
  local f
  if [ -r /run/testbed/iscsid.pid ]; then
    iscsiadm -m node --logoutall=all > /dev/null 2>&1 || true
    iscsiadm -m node -o delete > /dev/null 2>&1 || true
  fi
  tgt_down
  lio_down
  for f in /run/testbed/*.pid; do
    [ -e "$f" ] || continue
    f=${f##*/}
    stop_daemon "${f%.pid}"
  done
  no_sessions
  # An iWARP device holds TCP's ports for whoever listens on it next (tgtd's
  # iSER listener took 3260 from the next scenario's TCP portals), so each
  # scenario makes the devices it needs.
  rdma_devices_only
  storage_net_down
}
