# shellcheck shell=bash
# tgtd (tgt 1.0.85) as an iSCSI/TCP and iSER target.

# tgt_up [TGTD-ARGS]: the default iSER pool pins 1 GiB per device, too much
# for the guest, hence pool_sz_mb.
tgt_up() {
  daemon tgtd tgtd -f --iser pool_sz_mb=128 "$@"
  wait_for 60 "tgtd to answer" tgtadm --mode sys --op show
}

# tgt_target LLD TID IQN SIZE_MIB (LLD: iscsi or iser)
tgt_target() {
  local lld=$1 tid=$2 iqn=$3 mib=$4
  truncate -s "${mib}M" "/tmp/tgt-$tid.img"
  tgtadm --lld "$lld" --mode target --op new --tid "$tid" -T "$iqn"
  tgtadm --lld "$lld" --mode logicalunit --op new --tid "$tid" --lun 1 -b "/tmp/tgt-$tid.img"
  # tgt 1.0.85 lets an iSER initiator in only when both an address ACL and
  # an initiator-name ACL match (TCP needs one); so bind both.
  tgtadm --lld "$lld" --mode target --op bind --tid "$tid" -I ALL
  tgtadm --lld "$lld" --mode target --op bind --tid "$tid" --initiator-name "$INI_IQN"
  detail "$lld target $iqn, ${mib} MiB"
}

# tgtd ignores SIGTERM while targets exist.
tgt_down() {
  [ -r /run/testbed/tgtd.pid ] || return 0
  tgtadm --mode sys --op delete > /dev/null 2>&1 || true
  stop_daemon tgtd KILL
  rm -f /tmp/tgt-*.img
}
