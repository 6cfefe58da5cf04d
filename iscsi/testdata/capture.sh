#!/usr/bin/env bash
# Regenerates the iSCSI/TCP byte streams in this folder: runs tgtd on
# loopback, drives it with libiscsi's tools while dumpcap records, and splits
# each TCP connection into its initiator and target byte streams.
#
# Needs root (for dumpcap on lo) and Debian's tgt, libiscsi-bin and tshark.
# Usage: iscsi/testdata/capture.sh [PORT]   (default port 3270)
set -euo pipefail

port=${1:-3270}
control_port=$port  # tgtd's management socket, so several tgtd can coexist
out=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
target=iqn.2024-01.org.isergw:testdata
initiator=iqn.2024-01.org.isergw:initiator
url=iscsi://127.0.0.1:$port/$target/1
digest_url=iscsi://127.0.0.1:$port/$target-digest/1
r2t_url=iscsi://127.0.0.1:$port/$target-r2t/1
tgtd_pid=
dumpcap_pid=

cleanup() {
  if [[ -n $dumpcap_pid ]]; then kill "$dumpcap_pid" 2>/dev/null || true; fi
  if [[ -n $tgtd_pid ]]; then
    tgtadm --mode system --op delete --force >/dev/null 2>&1 || kill "$tgtd_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$tgtd_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$tgtd_pid" 2>/dev/null || true
    wait "$tgtd_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

tgtadm() { command tgtadm -C "$control_port" --lld iscsi "$@"; }

tgtd -f -C "$control_port" --iscsi portal=127.0.0.1:"$port" >"$work/tgtd.log" 2>&1 &
tgtd_pid=$!
for _ in $(seq 50); do tgtadm --mode target --op show >/dev/null 2>&1 && break; sleep 0.1; done

# Small disks with a recognisable pattern, so Data-In carries real bytes and
# the streams stay a few KiB.
for size in 16384 4096; do
  python3 -c "import sys; sys.stdout.buffer.write(bytes(i * 7 % 251 for i in range($size)))" \
    >"$work/disk$size.img"
done
# new_target TID NAME DISK [KEY=VALUE...]: a target with one LUN and the
# given login parameters.
new_target() {
  local tid=$1 name=$2 disk=$3
  shift 3
  tgtadm --mode target --op new --tid "$tid" --targetname "$name"
  tgtadm --mode logicalunit --op new --tid "$tid" --lun 1 --backing-store "$disk"
  tgtadm --mode target --op bind --tid "$tid" --initiator-address ALL
  for setting in "$@"; do
    tgtadm --mode target --op update --tid "$tid" --name "${setting%%=*}" --value "${setting#*=}"
  done
}
new_target 1 "$target" "$work/disk16384.img"
# Offers CRC32C, so an initiator asking for it gets HeaderDigest.
new_target 2 "$target-digest" "$work/disk16384.img" HeaderDigest=CRC32C,None \
  DataDigest=CRC32C,None
# Every write goes by R2T, in several Data-Out PDUs and bursts.
new_target 3 "$target-r2t" "$work/disk4096.img" InitialR2T=Yes ImmediateData=No \
  MaxRecvDataSegmentLength=1024 MaxBurstLength=2048

# capture NAME COMMAND...: records the command's connections and writes
# NAME.N.initiator.bin / NAME.N.target.bin for each TCP connection N.
capture() {
  local name=$1
  shift
  local pcap=$work/$name.pcapng
  dumpcap -q -i lo -f "tcp port $port" -s 0 -w "$pcap" 2>"$work/dumpcap.log" &
  dumpcap_pid=$!
  for _ in $(seq 50); do grep -q 'Capturing on' "$work/dumpcap.log" 2>/dev/null && break; sleep 0.1; done
  sleep 0.5
  # Only the traffic matters: a conformance test failing on the tiny disk is
  # still a valid exchange of PDUs.
  "$@" >"$work/$name.out" 2>&1 || true
  sleep 0.5
  kill -INT "$dumpcap_pid"
  wait "$dumpcap_pid" || true
  dumpcap_pid=
  local streams
  streams=$(tshark -r "$pcap" -T fields -e tcp.stream | sort -nu)
  for s in $streams; do
    tshark -r "$pcap" -q -z "follow,tcp,raw,$s" >"$work/follow.txt"
    python3 "$out/split_follow.py" "$out/$name.$s.initiator.bin" "$out/$name.$s.target.bin" \
      <"$work/follow.txt"
    # One sample of tshark's own text, for pdudump's hex input.
    if [[ $name.$s == inq.0 ]]; then cp "$work/follow.txt" "$out/inq.0.follow.txt"; fi
  done
}

capture inq iscsi-inq -i "$initiator" "$url"
capture readcapacity16 iscsi-readcapacity16 -i "$initiator" "$url"
capture ls iscsi-ls -s -i "$initiator" "iscsi://127.0.0.1:$port"
capture inq_digest iscsi-inq -i "$initiator" "$digest_url?header_digest=crc32c"
# Writes by R2T with over- and underflowing lengths, then reads the same way:
# Data-Out bursts, residuals in SCSI Responses and Data-In with status.
capture write10 iscsi-test-cu -i "$initiator" --dataloss \
  --test=ALL.iSCSIResiduals.Write10Residuals "$r2t_url"
capture read10 iscsi-test-cu -i "$initiator" --test=ALL.iSCSIResiduals.Read10Residuals "$r2t_url"
