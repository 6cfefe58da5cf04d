# shellcheck shell=bash
# The back role on iWARP: Linux's iSCSI/TCP initiator -> isergw -> tgtd over
# iSER on soft-iWARP (siw), isergw being the iSER initiator toward tgtd. The
# two iWARP traps are isergw's to handle: siw counts registrations against
# RLIMIT_MEMLOCK even for root (isergw lifts it; this step does not), and
# iWARP shares TCP's ports, so tgtd's iSCSI/TCP portal moves to 3261 and
# isergw's TCP portal to 3263, leaving 3260 to tgtd's iSER listener.
#
# iSER carries at most 512 KiB per command here (tgt's target drops the
# connection beyond), and the host keeps its default request size (1280
# KiB for iscsi_tcp): the gateway sends each larger READ and WRITE to tgtd
# as several commands of at most 512 KiB (fabric_ib/command_split.h), which
# fio --verify in 1 MiB and 4 MiB blocks must not be able to tell, and
# counts them.
# On siw the gateway's QP once failed to create: libsiw takes mmap key
# 0x90000 for invalid, and the receive queue behind one 16384-entry CQ
# got exactly that key (rdma/completion_queue.h).
# tgtd's iSER window is narrower than the gateway's, so a host that logs in
# again after a reset finds out whether the gateway's new session promises
# less than the old one did.
# tier: ci
# needs: siw
# limit: 900
iqn=iqn.2026-11.io.isergw.testbed:tcp-iser-siw
back_iqn=iqn.2026-11.org.isergw.testbed:tcp-iser-siw-storage
export ISERGW_TCP_PORT=3263 ISERGW_LOG_LEVEL=debug

# host_sends_more_than_a_command: the host's disk is at its default request
# size, which is more than one iSER command carries; nothing lowers it.
host_sends_more_than_a_command() {
  local dev kb
  dev=$(find_disk) || { detail "no iSCSI disk"; return 1; }
  kb=$(cat "/sys/block/${dev#/dev/}/queue/max_sectors_kb")
  [ "$kb" -gt 512 ] || { detail "max_sectors_kb is $kb: nothing would be split"; return 1; }
  detail "$dev: max_sectors_kb $kb (the host's default), above the 512 KiB of an iSER command"
}

# large_writes_split BS SIZE DEPTH: fio --verify=crc32c, sequential writes
# of BS over SIZE, DEPTH deep, then every block read back in BS reads. The
# gateway must have split commands (isergw_back_split_commands_total) and
# refused none (isergw_errors_total{kind="refused"}).
large_writes_split() {
  local bs=$1 size=$2 depth=$3 dev split refused figures
  dev=$(find_disk) || { detail "no iSCSI disk"; return 1; }
  split=$(isergw_metric isergw_back_split_commands_total)
  refused=$(isergw_metric isergw_errors_total 'kind="refused"')
  fio --output-format=json --output="$OUT/fio-$bs.json" --filename="$dev" \
    --direct=1 --ioengine=libaio --name="write-$bs" --rw=write --bs="$bs" --iodepth="$depth" \
    --size="$size" --verify=crc32c --do_verify=1 --verify_fatal=1
  split=$(($(isergw_metric isergw_back_split_commands_total) - split))
  refused=$(($(isergw_metric isergw_errors_total 'kind="refused"') - refused))
  figures=$(python3 - "$OUT/fio-$bs.json" <<'PY'
import json, sys
job = json.load(open(sys.argv[1]))["jobs"][0]
print("write %.1f MiB/s, verify read %.1f MiB/s" % (
    job["write"]["bw_bytes"] / 2**20, job["read"]["bw_bytes"] / 2**20))
PY
  )
  detail "$size in $bs blocks, $depth deep, verified ($figures); $split commands split," \
    "$refused refused"
  [ "$refused" -eq 0 ] || { detail "the gateway refused $refused commands"; return 1; }
  [ "$split" -gt 0 ] || { detail "no command was split: the test proves nothing"; return 1; }
}

step rdma 60 rdma_use siw
step initiator 60 iscsid_up
step target 90 tgt_up --iscsi "portal=$TGT_ADDR:3261"
step lun 60 tgt_target iser 1 "$back_iqn" 256
step gateway 60 isergw_up "$TGT_ADDR" "$iqn=iser://$TGT_ADDR:3260/$back_iqn"
step login 120 iscsi_login "$TGT_ADDR:3263" "$iqn" default
step host-defaults 10 host_sends_more_than_a_command
step dd-verify 180 dd_verify 32
step fio-1m 300 large_writes_split 1m 64m 4
step fio-4m 300 large_writes_split 4m 64m 8
step fio-verify 420 fio_verify
step writes-landed 30 writes_landed tcp
step reconnect 420 fio_verify_across_reconnect 3263
step logout 60 iscsi_logout
step gateway-stop 60 isergw_down
step target-stop 60 tgt_down
