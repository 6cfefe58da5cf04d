# shellcheck shell=bash
# One veth pair in the initial namespace (rdma_rxe opens its UDP socket only
# in init_net), with soft-RoCE or soft-iWARP devices on both ends.
export INI_ADDR=192.168.77.1   # veth0: the initiator side
export TGT_ADDR=192.168.77.2   # veth1: the target side

net_up() {
  ip link show veth0 > /dev/null 2>&1 && return 0
  modprobe veth
  ip link add veth0 type veth peer name veth1
  ip addr add "$INI_ADDR/24" dev veth0
  ip addr add "$TGT_ADDR/24" dev veth1
  ip link set veth0 up
  ip link set veth1 up
  # A veth pair hands each frame to the peer's backlog queue, which drops
  # beyond 1000 frames; one 128 KiB RDMA Read answer at a 1 KiB MTU is 128
  # frames, and a dropped one costs soft-RoCE a go-back-N retransmission.
  sysctl -qw net.core.netdev_max_backlog=16384
  local k
  for k in all default veth0 veth1; do
    sysctl -qw "net.ipv4.conf.$k.rp_filter=0" "net.ipv4.conf.$k.accept_local=1"
  done
  # Two local addresses would talk through lo, which rxe cannot use and a
  # capture on veth0 would not see: route locally sent packets onto the pair.
  ip rule add pref 10 to "$TGT_ADDR" iif lo lookup 100
  ip route add "$TGT_ADDR" dev veth0 src "$INI_ADDR" table 100
  ip rule add pref 11 to "$INI_ADDR" iif lo lookup 101
  ip route add "$INI_ADDR" dev veth1 src "$TGT_ADDR" table 101
  ip rule add pref 1000 lookup local
  ip rule del pref 0 lookup local
  ip neigh replace "$TGT_ADDR" dev veth0 nud permanent lladdr "$(cat /sys/class/net/veth1/address)"
  ip neigh replace "$INI_ADDR" dev veth1 nud permanent lladdr "$(cat /sys/class/net/veth0/address)"
}

# rdma_use rxe|siw: leaves exactly the two devices of that kind, because the
# CM would otherwise pick either of two devices on the same netdev.
rdma_use() {
  local kind=$1 other=siw dev
  [ "$kind" = siw ] && other=rxe
  net_up
  modprobe -a ib_uverbs rdma_ucm rdma_cm
  for dev in "${other}0" "${other}1"; do
    [ -e "/sys/class/infiniband/$dev" ] && rdma link delete "$dev"
  done
  if [ "$kind" = rxe ]; then
    modprobe rdma_rxe
  elif ! [ -d /sys/module/siw ]; then
    [ -r "${SIW_KO:-}" ] || { detail "siw.ko was not built on the host (see run log)"; return 1; }
    modprobe -a ib_core ib_uverbs libcrc32c crc32c_generic
    insmod "$SIW_KO"
  fi
  [ -e "/sys/class/infiniband/${kind}0" ] || rdma link add "${kind}0" type "$kind" netdev veth0
  [ -e "/sys/class/infiniband/${kind}1" ] || rdma link add "${kind}1" type "$kind" netdev veth1
  wait_for 30 "${kind}0 and ${kind}1 in ibv_devices" sh -c "ibv_devices | grep -q ${kind}0 && ibv_devices | grep -q ${kind}1"
  detail "$(ibv_devices | awk 'NR > 2 {print $1}' | tr '\n' ' ')"
}
