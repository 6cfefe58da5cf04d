# shellcheck shell=bash
# Host-side helpers of run-scenario and run-suite. Expects $here (tests/vm)
# and $results (build/vm/results) to be set by the caller.
# shellcheck disable=SC2154

# The newest Debian kernel image installed; the guest boots it.
guest_kernel() {
  local v
  v=$(find /boot -maxdepth 1 -name 'vmlinuz-*-amd64' -printf '%f\n' | sed 's/^vmlinuz-//' | sort -V | tail -n 1)
  [ -n "$v" ] && [ -d "/lib/modules/$v" ] && echo "$v"
}

# scenario_meta NAME KEY DEFAULT: reads a "# KEY: value" header line.
scenario_meta() {
  local v
  v=$(sed -n "s/^# $2: *//p" "$here/scenarios/$1.sh" | head -n 1)
  echo "${v:-$3}"
}

# boot_guest KVER INITRD SHARE LIMIT: runs QEMU in the foreground of this
# shell and kills it, by its own PID, once LIMIT seconds have passed.
# TCG only: KVM hangs after "Booting from ROM" on these machines. -cpu max:
# QEMU's default qemu64 model lacks SSE4.2, which Debian's DPDK (and so the
# gateway) needs; without it isergw dies with SIGILL in the guest.
qemu_pid=""
boot_guest() {
  local kver=$1 initrd=$2 share=$3 limit=$4 deadline rc=0
  command -v qemu-system-x86_64 > /dev/null || { echo "qemu-system-x86_64 is not installed"; return 127; }
  qemu-system-x86_64 -accel tcg -cpu max -smp 2 -m 2048 -no-reboot -nic none \
    -display none -serial stdio -monitor none \
    -kernel "/boot/vmlinuz-$kver" -initrd "$initrd" \
    -append "console=ttyS0 quiet panic=-1 oops=panic tsc=reliable" \
    -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
    -virtfs "local,path=$share,mount_tag=vmout,security_model=none,multidevs=remap" \
    < /dev/null &
  qemu_pid=$!
  echo "$qemu_pid" > "$share/qemu.pid"
  deadline=$(( $(date +%s) + limit ))
  while kill -0 "$qemu_pid" 2> /dev/null; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "run-scenario: guest still running after ${limit}s, killing QEMU pid $qemu_pid"
      stop_guest
      return 124
    fi
    sleep 2
  done
  wait "$qemu_pid" || rc=$?
  qemu_pid=""
  return "$rc"
}

stop_guest() {
  [ -n "$qemu_pid" ] || return 0
  kill -TERM "$qemu_pid" 2> /dev/null || true
  sleep 3
  kill -KILL "$qemu_pid" 2> /dev/null || true
  wait "$qemu_pid" 2> /dev/null || true
  qemu_pid=""
}

guest_end_reason() {
  case $1 in
    124) echo "guest killed after the ${2}s limit before the scenario finished" ;;
    0) echo "guest powered off before the scenario finished (see console.log)" ;;
    *) echo "QEMU exited with status $1 before the scenario finished (see console.log)" ;;
  esac
}

# check_captures DIR: dissects each capture a scenario listed in captures.tsv
# and adds a pcap-NAME step. Runs on the host, where tshark is fast.
check_captures() {
  local dir=$1 file kind t0 verdict
  [ -r "$dir/captures.tsv" ] || return 0
  while IFS=$'\t' read -r file kind; do
    t0=$(date +%s)
    if [ ! -s "$dir/$file" ]; then
      verdict=$'FAIL\tcapture is missing or empty'
    else
      verdict=$("$here/host/pcap-check" "$dir/$file" "$kind" 2>&1) || verdict=$'FAIL\t'"$(tail -n 1 <<< "$verdict")"
    fi
    printf '%s\t%s\t%s\t%s\n' "pcap-${file%.pcapng}" "${verdict%%$'\t'*}" "$(( $(date +%s) - t0 ))" \
      "${verdict#*$'\t'}" >> "$dir/results.tsv"
  done < "$dir/captures.tsv"
}

# report SCENARIO...: prints each step; returns 1 if any step failed.
report() {
  local s step res det pass=0 fail=0
  for s in "$@"; do
    while IFS=$'\t' read -r step res _ det; do
      if [ "$res" = PASS ]; then
        echo "PASS $s/$step"
        pass=$(( pass + 1 ))
      else
        echo "FAIL $s/$step: $det"
        fail=$(( fail + 1 ))
      fi
    done < "$results/$s/results.tsv"
    if [ ! -s "$results/$s/results.tsv" ]; then
      echo "FAIL $s/boot: the scenario recorded no step"
      fail=$(( fail + 1 ))
    fi
  done
  echo "testbed: $pass passed, $fail failed"
  [ "$fail" -eq 0 ]
}
