# shellcheck shell=bash
# Plain RDMA checks between the two soft devices, below any iSCSI.

# retry_client SECONDS OUTFILE COMMAND...: a server started in the background
# takes a while to listen under TCG, so a refused client is tried again; each
# try has its own limit, as rping can hang after a failed connect.
retry_client() {
  local end=$(( $(now) + $1 )) out=$2
  shift 2
  until timeout 30 "$@" > "$out" 2>&1; do
    [ "$(now)" -lt "$end" ] || { cat "$out"; return 1; }
    sleep 2
  done
  cat "$out"
}

# rping_check: 10 verified ping-pongs over the RDMA CM; -P keeps the server
# up across client tries.
rping_check() {
  daemon rping-server rping -s -P -a "$TGT_ADDR" -C 10 -v
  retry_client 90 /tmp/rping.out rping -c -a "$TGT_ADDR" -C 10 -v
  stop_daemon rping-server
  detail "$(grep -c 'ping data' /tmp/rping.out) verified pings"
  [ "$(grep -c 'ping data' /tmp/rping.out)" -eq 10 ]
}

# write_bw_check DEV-SERVER DEV-CLIENT: -F because perftest's own CPU
# frequency check aborts under TCG; -R to connect through the RDMA CM.
write_bw_check() {
  daemon ib_write_bw ib_write_bw -R -F -d "$1" -n 1000
  retry_client 90 /tmp/write_bw.out ib_write_bw -R -F -d "$2" -n 1000 "$TGT_ADDR"
  stop_daemon ib_write_bw
  detail "$(awk '/#bytes/ {getline; print $1 " B x " $2 ": " $4 " MB/s average"}' /tmp/write_bw.out)"
}
