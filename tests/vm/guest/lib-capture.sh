# shellcheck shell=bash
# Packet captures on veth0, which sees both directions. They are dissected on
# the host afterwards: tshark under TCG takes seconds per megabyte.

# capture_start NAME KIND: KIND tells the host how to decode (roce|tcp|iwarp).
capture_start() {
  local name=$1 kind=$2
  # Full snaplen: a truncated iSER Login PDU dissects as malformed.
  daemon "dumpcap-$name" dumpcap -i veth0 -w "$OUT/$name.pcapng"
  wait_for 90 "dumpcap to start" grep -q 'Capturing on' "$OUT/dumpcap-$name.log"
  sleep 1
  kill -0 "$(cat "/run/testbed/dumpcap-$name.pid")" || { detail "$(tail -n 1 "$OUT/dumpcap-$name.log")"; return 1; }
  printf '%s\t%s\n' "$name.pcapng" "$kind" >> "$OUT/captures.tsv"
}

capture_stop() {
  local name=$1
  sleep 1 # let the last frames reach the ring
  stop_daemon "dumpcap-$name" INT
  detail "$(grep -o 'Packets captured: [0-9]*' "$OUT/dumpcap-$name.log" || true)"
}
