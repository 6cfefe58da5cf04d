# shellcheck shell=bash
# The project's own RDMA layer (rdma/), as built on the host: its unit tests,
# which skip on the host for want of a device, and the loopback exchange.

# rdma_unit_tests: the device-dependent unit tests must run here, not skip.
rdma_unit_tests() {
  local t bin passed=0
  for t in device_test memory_map_test; do
    bin="$REPO/bazel-bin/rdma/$t"
    [ -x "$bin" ] || { detail "no $bin: run bazel build //rdma/... first"; return 1; }
    "$bin" > "$OUT/$t.$1.log" 2>&1 || { detail "$t failed (see $t.$1.log)"; return 1; }
    if grep -q '^\[  SKIPPED \]' "$OUT/$t.$1.log"; then
      detail "$t skipped tests although $1 devices exist"
      return 1
    fi
    passed=$(( passed + $(sed -n 's/^\[  PASSED  \] \([0-9]*\) tests\?\.$/\1/p' "$OUT/$t.$1.log") ))
  done
  # The memlock case prints what happened to an 8 MiB registration under a
  # 64 KiB limit: siw refuses it, rxe lets root (CAP_IPC_LOCK) through.
  local memlock="registration under a 64 KiB RLIMIT_MEMLOCK allowed (CAP_IPC_LOCK)"
  if grep -q 'ENOMEM.*RLIMIT_MEMLOCK is 64 KiB' "$OUT/memory_map_test.$1.log"; then
    memlock="registration under a 64 KiB RLIMIT_MEMLOCK refused, naming the limit"
  fi
  detail "$passed tests passed on $(ibv_devices | awk 'NR > 2 {print $1}' | tr '\n' ' '); $memlock"
}

# rdma_loopback KIND: two CM ids across the veth pair; Send, RDMA Read,
# RDMA Write and Send through the RAII layer, every byte checked.
rdma_loopback() {
  local bin="$REPO/bazel-bin/rdma/loopback_test" log="$OUT/loopback_test.$1.log"
  [ -x "$bin" ] || { detail "no $bin: run bazel build //rdma/... first"; return 1; }
  ISERGW_RDMA_TEST_SERVER=$TGT_ADDR ISERGW_RDMA_TEST_CLIENT=$INI_ADDR "$bin" > "$log" 2>&1 \
    || { detail "$(grep -m1 -A2 'Failure' "$log" | tr '\n' ' ')"; return 1; }
  if grep -q '^\[  SKIPPED \]' "$log"; then detail "loopback_test skipped"; return 1; fi
  detail "$(sed -n 's/^loopback: //p' "$log" | sed 's/RDMA_CM_EVENT_//g')"
}
