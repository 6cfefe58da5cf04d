# shellcheck shell=bash
# Side-by-side measurements of iSER gateways, in one guest boot: fio from
# the kernel iSER initiator through each path, and the gateway's CPU time.

# The region of each disk the jobs work in (and prefill writes). Exported:
# a step runs its function in a fresh bash (lib.sh), which sees only the
# environment.
export FIO_SIZE=${FIO_SIZE:-256m}

# disk_of IQN: the block device of the logged-in session to that target.
disk_of() {
  local s b
  for s in /sys/class/iscsi_session/session*; do
    [ "$(cat "$s/targetname" 2> /dev/null)" = "$1" ] || continue
    for b in "$s"/device/target*/*/block/*; do
      [ -e "$b" ] && { echo "/dev/${b##*/}"; return 0; }
    done
  done
  return 1
}

# login_to PORTAL IQN IFACE: one node, without discovery of the others.
login_to() {
  local portal=$1 iqn=$2 iface=$3
  iscsiadm -m discovery -t st -p "$portal" -I "$iface" > /dev/null
  iscsiadm -m node -T "$iqn" -p "$portal" -I "$iface" --login
  wait_for 60 "the disk of $iqn" disk_of "$iqn"
  detail "$(disk_of "$iqn") over $iface $portal"
}

logout_from() {
  iscsiadm -m node -T "$1" --logout
  iscsiadm -m node -T "$1" -o delete || true
}

# isergw_thread_up ADDR:PORT MAP: a second gateway beside isergw_up's, with
# an iSER portal only, its own control port, and a posting thread per RDMA
# device for its workers' send lists.
isergw_thread_up() {
  local portal=$1 map=$2 binary=${ISERGW_BINARY:-$REPO/bazel-bin/gateway/isergw}
  daemon isergw-thread "$binary" --listen "iser://$portal" --control 127.0.0.1:9861 \
    --workers 2 --rdma-posting thread --map "$map"
  wait_for 60 "the second gateway's iSER portal" grep -q "(RDMA CM)" "$OUT/isergw-thread.log"
  detail "$("$binary" --version) (${binary#"$REPO"/}), iser $portal, posting thread"
}

isergw_thread_down() {
  stop_daemon isergw-thread TERM
  grep -q '\] stopped$' "$OUT/isergw-thread.log"
}

# cpu_ticks PID: user + system clock ticks the process has used.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# guest_busy_ticks: clock ticks all the guest's CPUs spent on anything but
# idling and waiting for I/O (/proc/stat), kernel threads and soft
# interrupts included: the whole cost of a path, wherever it runs.
guest_busy_ticks() { awk '$1 == "cpu" {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }

# prefill IQN: writes the region fio_bench works in (FIO_SIZE) on IQN's disk
# once. tgtd's LUNs are sparse files on the guest's tmpfs, and the first
# write to a page allocates it: without this, the path that wrote first in
# the first round would pay for the whole region alone.
prefill() {
  local dev
  dev=$(disk_of "$1") || { detail "no disk for $1"; return 1; }
  fio --name=prefill --filename="$dev" --direct=1 --ioengine=libaio --rw=write --bs=1m \
    --iodepth=8 --size="$FIO_SIZE" --output=/dev/null || return 1
  detail "the first $FIO_SIZE of $dev written"
}

# fio_bench LABEL IQN [DAEMON]: 4 KiB random reads at QD32, then 128 KiB
# sequential reads and writes at QD16, FIO_SECONDS each, over the first
# FIO_SIZE of the disk of IQN; the guest's busy time per I/O over
# the three jobs, and with DAEMON also that daemon's CPU time per I/O. The
# LUNs are sparse files in the guest's tmpfs: a faster path writing further
# into them would fill it, and tgtd would fail its writes.
fio_bench() {
  local label=$1 iqn=$2 daemon=${3:-} dev pid before=0 after=0 busy_before
  dev=$(disk_of "$iqn") || { detail "no disk for $iqn"; return 1; }
  if [ -n "$daemon" ]; then
    pid=$(cat "/run/testbed/$daemon.pid")
    before=$(cpu_ticks "$pid")
  fi
  busy_before=$(guest_busy_ticks)
  fio --output-format=json --output="$OUT/bench-$label.json" --filename="$dev" \
    --direct=1 --ioengine=libaio --time_based --runtime="${FIO_SECONDS:-15}" \
    --size="$FIO_SIZE" --name=randread-4k-qd32 --rw=randread --bs=4k --iodepth=32 \
    --name=read-128k-qd16 --stonewall --rw=read --bs=128k --iodepth=16 \
    --name=write-128k-qd16 --stonewall --rw=write --bs=128k --iodepth=16
  echo "$(($(guest_busy_ticks) - busy_before))" > "$OUT/bench-$label.guestcpu"
  if [ -n "$daemon" ]; then
    after=$(cpu_ticks "$pid")
    echo "$((after - before))" > "$OUT/bench-$label.cpu"
  fi
  detail "$(python3 "$TESTBED/guest/bench-summary" "$OUT/bench-$label.json" \
    "$((after - before))" "$(getconf CLK_TCK)")"
}

# bench_medians PATH...: the medians of the rounds fio_bench ran for each
# path (labels PATH-1, PATH-2, ...) and the first path's ratios to the others.
bench_medians() {
  python3 "$TESTBED/guest/bench-medians" "$OUT" "$(getconf CLK_TCK)" "$@" | tee "$OUT/bench-medians.txt"
  detail "$(tr '\n' ' ' < "$OUT/bench-medians.txt")"
}

# thread_ticks PID...: "TID NAME USER SYSTEM" (clock ticks) per thread.
thread_ticks() {
  local pid t
  for pid in "$@"; do
    for t in /proc/"$pid"/task/*; do
      echo "${t##*/} $(tr -d ' ' < "$t/comm") $(awk '{print $14, $15}' "$t/stat")"
    done
  done
}

# time_split DAEMON IQN [JOB]: one fio job on IQN's disk for 20 s with
# nothing watching, 4 KiB random reads at QD32 unless JOB names 128 KiB
# writes at QD16 (write-128k-qd16); the CPU time per I/O of each of the
# daemon's and tgtd's threads and, for isergw, a command's time in the
# gateway against its time at the storage (its command latency histograms,
# front and back legs). Files: $OUT/split*, split-JOB* for a JOB.
time_split() {
  local daemon=$1 iqn=$2 job=${3:-} dev pids=() metrics=http://127.0.0.1:9860/metrics
  local name=split fio_job=(--name=randread-4k-qd32 --rw=randread --bs=4k --iodepth=32)
  case $job in
    "") ;;
    write-128k-qd16) name=split-$job fio_job=(--name="$job" --rw=write --bs=128k --iodepth=16) ;;
    *) detail "no fio job $job"; return 1 ;;
  esac
  dev=$(disk_of "$iqn") || { detail "no disk for $iqn"; return 1; }
  pids+=("$(cat "/run/testbed/$daemon.pid")")
  [ -r /run/testbed/tgtd.pid ] && pids+=("$(cat /run/testbed/tgtd.pid)")
  thread_ticks "${pids[@]}" > "$OUT/$name-threads-before.txt"
  [ "$daemon" = isergw ] && curl -sf "$metrics" > "$OUT/$name-latency-before.txt"
  fio --output-format=json --output="$OUT/$name-fio.json" --filename="$dev" \
    --direct=1 --ioengine=libaio --time_based --runtime=20 "${fio_job[@]}"
  thread_ticks "${pids[@]}" > "$OUT/$name-threads-after.txt"
  [ "$daemon" = isergw ] && curl -sf "$metrics" > "$OUT/$name-latency-after.txt"
  python3 "$TESTBED/guest/time-split" "$OUT" "$(getconf CLK_TCK)" "$name" | tee "$OUT/$name.txt"
  detail "$(cat "$OUT/$name.txt")"
}

# profile_daemon DAEMON IQN: 4 KiB random reads at QD32 on IQN's disk for
# 30 s; meanwhile the daemon's system calls are counted (perf stat, 6 s)
# and its CPU sampled (perf, 10 s). Leaves profile-*.txt in $OUT.
profile_daemon() {
  local daemon=$1 iqn=$2 dev pid fio_pid before after
  if ! command -v perf > /dev/null; then
    detail "needs perf on the host: apt-get install linux-perf"
    return 1
  fi
  dev=$(disk_of "$iqn") || { detail "no disk for $iqn"; return 1; }
  pid=$(cat "/run/testbed/$daemon.pid")
  cat /sys/devices/system/clocksource/clocksource0/current_clocksource > "$OUT/profile-clocksource.txt"
  before=$(awk '{print $14, $15}' "/proc/$pid/stat")
  fio --output-format=json --output="$OUT/profile-fio.json" --filename="$dev" \
    --direct=1 --ioengine=libaio --time_based --runtime=30 \
    --name=randread-4k-qd32 --rw=randread --bs=4k --iodepth=32 &
  fio_pid=$!
  sleep 3
  # perf counts system calls exactly and barely slows the daemon; strace's
  # ptrace stops would change the batching being counted.
  mountpoint -q /sys/kernel/tracing || mount -t tracefs tracefs /sys/kernel/tracing || true
  local events=raw_syscalls:sys_enter call
  for call in recvfrom recvmsg sendmsg epoll_wait epoll_ctl read write ioctl futex; do
    events+=",syscalls:sys_enter_$call"
  done
  # The I/Os in perf's window, from the disk's own count of reads done,
  # read by the command perf runs: perf starts it once its counters count.
  local disk_stat
  disk_stat=/sys/block/$(basename "$(readlink -f "$dev")")/stat
  # shellcheck disable=SC2016 # expanded by the inner shell
  perf stat -x, -e "$events" -p "$pid" -o "$OUT/profile-syscalls.txt" -- \
    sh -c 'read -r first _ < "$1"; sleep 6; read -r last _ < "$1"; echo $((last - first)) > "$2"' \
    sh "$disk_stat" "$OUT/profile-syscalls-ios.txt" || true
  perf record -F 250 -g -p "$pid" -o "$OUT/profile-perf.data" -- sleep 10 > /dev/null 2>&1 || true
  wait "$fio_pid"
  after=$(awk '{print $14, $15}' "/proc/$pid/stat")
  perf report -i "$OUT/profile-perf.data" --stdio --no-children -g none --sort dso,sym \
    > "$OUT/profile-perf.txt" 2> /dev/null || true
  echo "user and system ticks before and after: $before / $after" > "$OUT/profile-cpu.txt"
  detail "$(python3 - "$OUT/profile-fio.json" "$OUT/profile-syscalls.txt" \
    "$(cat "$OUT/profile-syscalls-ios.txt")" <<'PY'
import json, sys
iops = json.load(open(sys.argv[1]))["jobs"][0]["read"]["iops"]
calls = {}
for line in open(sys.argv[2]):
    fields = line.strip().split(",")
    if len(fields) > 2 and "sys_enter" in fields[2] and fields[0].isdigit():
        calls[fields[2].split("sys_enter")[1].lstrip("_") or "all"] = int(fields[0])
ios = max(int(sys.argv[3]), 1)
named = ", ".join(f"{n} {c / ios:.2f}" for n, c in calls.items() if n != "all" and c / ios >= 0.01)
print(f"{iops:.0f} IOPS over 30 s; system calls per I/O over 6 s ({ios} I/Os):"
      f" {calls.get('all', 0) / ios:.2f} ({named})")
PY
)" "clocksource $(cat "$OUT/profile-clocksource.txt"); ticks user/system $before -> $after;" \
    "see profile-syscalls.txt and profile-perf.txt"
}
