# shellcheck shell=bash
# Plain RDMA checks between the two soft devices, below any iSCSI.

# rping_check: 10 verified ping-pongs over the RDMA CM.
rping_check() {
  daemon rping-server rping -s -a "$TGT_ADDR" -C 10 -v
  sleep 2
  rping -c -a "$TGT_ADDR" -C 10 -v > /tmp/rping.out
  stop_daemon rping-server
  detail "$(grep -c 'ping data' /tmp/rping.out) verified pings"
  [ "$(grep -c 'ping data' /tmp/rping.out)" -eq 10 ]
}

# write_bw_check DEV-SERVER DEV-CLIENT: -F because perftest's own CPU
# frequency check aborts under TCG; -R to connect through the RDMA CM.
write_bw_check() {
  local end
  daemon ib_write_bw ib_write_bw -R -F -d "$1" -n 1000
  end=$(( $(now) + 60 ))
  until ib_write_bw -R -F -d "$2" -n 1000 "$TGT_ADDR" > /tmp/write_bw.out 2>&1; do
    [ "$(now)" -lt "$end" ] || { cat /tmp/write_bw.out; return 1; }
    sleep 2
  done
  cat /tmp/write_bw.out
  stop_daemon ib_write_bw
  detail "$(awk '/#bytes/ {getline; print $1 " B x " $2 ": " $4 " MB/s average"}' /tmp/write_bw.out)"
}
