# shellcheck shell=bash
# One veth pair in the initial namespace (rdma_rxe opens its UDP socket only
# in init_net), with soft-RoCE or soft-iWARP devices on both ends.
export INI_ADDR=192.168.77.1   # veth0: the initiator side
export TGT_ADDR=192.168.77.2   # veth1: the target side

net_up() {
  ip link show veth0 > /dev/null 2>&1 && return 0
  modprobe veth
  # A veth pair hands each frame to the peer's backlog queue, which drops
  # beyond 1000 frames; one 128 KiB RDMA Read answer at a 1 KiB MTU is 128
  # frames, and a dropped one costs soft-RoCE a go-back-N retransmission.
  sysctl -qw net.core.netdev_max_backlog=16384
  sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.all.accept_local=1 \
    net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.default.accept_local=1
  veth_pair_up veth0 "$INI_ADDR" veth1 "$TGT_ADDR" 10
  ip rule add pref 1000 lookup local
  ip rule del pref 0 lookup local
}

# storage_net_up: a second pair for the gateway's back leg, when the host's
# and the storage's fabrics differ (rxe toward the host, siw toward the
# storage); veth2 is the gateway's side.
export GW_BACK_ADDR=192.168.78.1  # veth2
export STORAGE_ADDR=192.168.78.2  # veth3
storage_net_up() {
  net_up
  ip link show veth2 > /dev/null 2>&1 && return 0
  veth_pair_up veth2 "$GW_BACK_ADDR" veth3 "$STORAGE_ADDR" 12
}

# veth_pair_up A A_ADDR B B_ADDR PREF: two local addresses would talk
# through lo, which rxe cannot use and a capture on A would not see, so
# locally sent packets are routed onto the pair (rule preferences PREF and
# PREF+1, tables 90+PREF and 91+PREF).
veth_pair_up() {
  local a=$1 a_addr=$2 b=$3 b_addr=$4 pref=$5 k
  ip link add "$a" type veth peer name "$b"
  ip addr add "$a_addr/24" dev "$a"
  ip addr add "$b_addr/24" dev "$b"
  ip link set "$a" up
  ip link set "$b" up
  for k in "$a" "$b"; do
    sysctl -qw "net.ipv4.conf.$k.rp_filter=0" "net.ipv4.conf.$k.accept_local=1"
  done
  ip rule add pref "$pref" to "$b_addr" iif lo lookup $((90 + pref))
  ip route add "$b_addr" dev "$a" src "$a_addr" table $((90 + pref))
  ip rule add pref $((pref + 1)) to "$a_addr" iif lo lookup $((91 + pref))
  ip route add "$a_addr" dev "$b" src "$b_addr" table $((91 + pref))
  ip neigh replace "$b_addr" dev "$a" nud permanent lladdr "$(cat "/sys/class/net/$b/address")"
  ip neigh replace "$a_addr" dev "$b" nud permanent lladdr "$(cat "/sys/class/net/$a/address")"
}

# rdma_use rxe|siw: leaves exactly the two devices of that kind, because the
# CM would otherwise pick either of two devices on the same netdev.
rdma_use() {
  local kind=$1
  net_up
  rdma_devices_only "${kind}0" "${kind}1"
  rdma_device_up "$kind" "${kind}0" veth0 || return 1
  rdma_device_up "$kind" "${kind}1" veth1 || return 1
  detail "$(ibv_devices | awk 'NR > 2 {print $1}' | tr '\n' ' ')"
}

# rdma_use_rxe_and_siw: soft-RoCE between host and gateway (veth0/veth1),
# soft-iWARP between gateway and storage (veth2/veth3).
rdma_use_rxe_and_siw() {
  storage_net_up
  rdma_devices_only rxe0 rxe1 siw2 siw3
  rdma_device_up rxe rxe0 veth0 || return 1
  rdma_device_up rxe rxe1 veth1 || return 1
  rdma_device_up siw siw2 veth2 || return 1
  rdma_device_up siw siw3 veth3 || return 1
  detail "$(ibv_devices | awk 'NR > 2 {print $1}' | tr '\n' ' ')"
}

# rdma_devices_only NAME...: deletes every other RDMA device an earlier
# scenario of the same boot left (an iWARP one would hold TCP's ports).
rdma_devices_only() {
  local dev name
  for dev in /sys/class/infiniband/*; do
    [ -e "$dev" ] || continue
    name=${dev##*/}
    case " $* " in *" $name "*) ;; *) rdma link delete "$name" ;; esac
  done
}

# storage_net_down: the second pair goes (reset_guest, after it has deleted
# every RDMA device).
storage_net_down() {
  ip link show veth2 > /dev/null 2>&1 || return 0
  ip link delete veth2
  ip rule del pref 12 2> /dev/null || true
  ip rule del pref 13 2> /dev/null || true
}

# rdma_device_up KIND NAME NETDEV
rdma_device_up() {
  local kind=$1 name=$2 netdev=$3
  modprobe -a ib_uverbs rdma_ucm rdma_cm
  if [ "$kind" = rxe ]; then
    modprobe rdma_rxe
  elif ! [ -d /sys/module/siw ]; then
    [ -r "${SIW_KO:-}" ] || { detail "siw.ko was not built on the host (see run log)"; return 1; }
    modprobe -a ib_core ib_uverbs libcrc32c crc32c_generic
    insmod "$SIW_KO"
  fi
  [ -e "/sys/class/infiniband/$name" ] || rdma link add "$name" type "$kind" netdev "$netdev"
  wait_for 30 "$name in ibv_devices" sh -c "ibv_devices | grep -qw $name"
}
