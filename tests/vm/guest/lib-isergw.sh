# shellcheck shell=bash
# isergw, the gateway itself, as built on the host (bazel-bin is visible in
# the guest through the shared root).

# isergw_up ADDR FRONT_IQN=URL...: a TCP portal on ADDR:3260 with the given
# target map, and an iSER portal on ADDR:$ISERGW_ISER_PORT when that is set.
# ISERGW_BINARY names another build than bazel-bin's (the benchmarks' opt).
isergw_up() {
  local addr=$1 binary=${ISERGW_BINARY:-$REPO/bazel-bin/gateway/isergw} map
  shift
  if [ ! -x "$binary" ]; then
    detail "no gateway binary at $binary: build //gateway:isergw first"
    return 1
  fi
  local args=(--listen "tcp://$addr:3260" --workers 2)
  [ -n "${ISERGW_ISER_PORT:-}" ] && args+=(--listen "iser://$addr:$ISERGW_ISER_PORT")
  for map in "$@"; do args+=(--map "$map"); done
  daemon isergw "$binary" "${args[@]}"
  wait_for 60 "isergw to listen on $addr:3260" bash -c "exec 3<>/dev/tcp/$addr/3260"
  local portals="$addr:3260"
  if [ -n "${ISERGW_ISER_PORT:-}" ]; then
    wait_for 30 "isergw's iSER portal" grep -q "(RDMA CM)" "$OUT/isergw.log"
    portals+=", iser $addr:$ISERGW_ISER_PORT"
  fi
  detail "$("$binary" --version) (${binary#"$REPO"/}), portal $portals"
}

isergw_down() {
  stop_daemon isergw TERM
  # A clean stop logs "stopped"; anything else is a crash or a hang.
  grep -q '\] stopped$' "$OUT/isergw.log"
}

# fio with verification: every block written is read back and checked
# against its checksum, across sizes that cross MaxBurstLength.
fio_verify() {
  local dev
  dev=$(find_disk) || { detail "no iSCSI disk"; return 1; }
  fio --output-format=json --output="$OUT/fio-verify.json" --filename="$dev" \
    --direct=1 --ioengine=libaio --name=verify --rw=randwrite --bsrange=4k-1m \
    --size=64m --iodepth=16 --verify=crc32c --do_verify=1 --verify_fatal=1
  detail "64 MiB of random writes (4 KiB to 1 MiB) verified with crc32c"
}
