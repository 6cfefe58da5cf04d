# shellcheck shell=bash
# The iSER gateways side by side, in one boot: the kernel iSER initiator
# over soft-RoCE reaches tgtd's TCP storage through isergw, reaches tgtd
# directly over iSER (a separate LUN of the same size on the same tgtd), and
# reaches the same TCP storage through the do-it-yourself gateway (LIO
# ib_isert re-exporting the disk open-iscsi attached over TCP). Each runs
# 4 KiB random reads at QD32 and 128 KiB sequential reads and writes at QD16
# (tools/bench/iser_gateways.sh builds the opt gateway and runs this).
# A second isergw, the same build posting every RDMA send list from a
# posting thread per device (--rdma-posting thread), weighs auto's split
# between the worker's loop and that thread. And fio
# on the disk open-iscsi attached over TCP (the one LIO re-exports) gives
# the ceiling of the storage both TCP-backed gateways relay to.
# always_register=N throughout: LIO over rxe crawls with Y.
# tier: bench
# limit: 2400
back_iqn=iqn.2026-11.org.isergw.testbed:bench-storage
iser_iqn=iqn.2026-11.org.isergw.testbed:bench-iser
gw_iqn=iqn.2026-11.io.isergw.testbed:bench
lio_iqn=iqn.2026-11.org.isergw.testbed:bench-reexport
thread_iqn=iqn.2026-11.io.isergw.testbed:bench-thread
export ISERGW_ISER_PORT=3262
# The opt build tools/bench/iser_gateways.sh leaves there; bazel-bin's
# (unoptimised) gateway otherwise, which isergw_up's detail names.
if [ -x "$REPO/build/bench/isergw-opt" ]; then export ISERGW_BINARY="$REPO/build/bench/isergw-opt"; fi

step rdma 60 rdma_use rxe
step initiator 60 iscsid_up
step ib-iser 30 iser_load N
step target 90 tgt_up --iscsi portal=127.0.0.1:3261
step lun 60 tgt_target iscsi 1 "$back_iqn" 1024
step iser-lun 60 tgt_target iser 2 "$iser_iqn" 1024

# All the paths stay logged in, and the rounds alternate between them, so
# that the guest's drifts under TCG fall on every path alike; the medians
# over BENCH_ROUNDS (default 3) are the figures.
step gateway 60 isergw_up "$TGT_ADDR" "$gw_iqn=iscsi://127.0.0.1:3261/$back_iqn"
step gateway-login 120 login_to "$TGT_ADDR:3262" "$gw_iqn" iser
step gateway-thread 60 isergw_thread_up "$TGT_ADDR:3265" \
  "$thread_iqn=iscsi://127.0.0.1:3261/$back_iqn"
step gateway-thread-login 120 login_to "$TGT_ADDR:3265" "$thread_iqn" iser
step direct-login 120 login_to "$TGT_ADDR:3260" "$iser_iqn" iser
step lio 60 lio_up
step back-login 120 login_to "127.0.0.1:3261" "$back_iqn" default
step reexport 180 lio_reexport "$lio_iqn" "$back_iqn" "$TGT_ADDR:3263"
step reexport-login 120 login_to "$TGT_ADDR:3263" "$lio_iqn" iser
step prefill 120 prefill "$back_iqn"
step prefill-iser 120 prefill "$iser_iqn"

# Each round runs the paths in another order, so that none is always first
# after setup or always next after the storage's own run (which writes the
# shared LUN hardest), and each isergw runs both before and after the other.
orders=("isergw isergw-thread lio-reexport tgtd-iser tgtd-tcp"
  "lio-reexport isergw tgtd-tcp isergw-thread tgtd-iser"
  "isergw-thread tgtd-tcp lio-reexport tgtd-iser isergw")
declare -A iqn_of=([isergw]=$gw_iqn [isergw-thread]=$thread_iqn [tgtd-iser]=$iser_iqn
  [lio-reexport]=$lio_iqn [tgtd-tcp]=$back_iqn)
declare -A daemon_of=([isergw]=isergw [isergw-thread]=isergw-thread)
for round in $(seq "${BENCH_ROUNDS:-3}"); do
  for path in ${orders[(round - 1) % ${#orders[@]}]}; do
    step "bench-$path-$round" 180 fio_bench "$path-$round" "${iqn_of[$path]}" \
      ${daemon_of[$path]:+"${daemon_of[$path]}"}
  done
done
step lists-handed-over 10 lists_handed_over auto
step medians 30 bench_medians isergw lio-reexport tgtd-iser isergw-thread tgtd-tcp

step reexport-logout 60 logout_from "$lio_iqn"
step lio-stop 120 lio_down
step back-logout 60 logout_from "$back_iqn"
step direct-logout 60 logout_from "$iser_iqn"
step gateway-thread-logout 60 logout_from "$thread_iqn"
step gateway-thread-stop 60 isergw_thread_down
step gateway-logout 60 logout_from "$gw_iqn"
step gateway-stop 60 isergw_down
step target-stop 60 tgt_down
