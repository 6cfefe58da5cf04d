# shellcheck shell=bash
# Where isergw's CPU goes on the headline path: the kernel iSER initiator
# runs 4 KiB random reads at QD32 through the opt gateway to tgtd over TCP,
# first with nothing watching (each thread's CPU per I/O, and a command's
# time in the gateway against its time at the storage; then the same for
# 128 KiB writes at QD16), then while the gateway's system calls per I/O
# (perf stat) and a flat profile (perf, kernel symbols included) are taken.
# Run it after tools/bench/iser_gateways.sh has built the opt gateway.
# tier: profile
# limit: 900
back_iqn=iqn.2026-11.org.isergw.testbed:profile-storage
gw_iqn=iqn.2026-11.io.isergw.testbed:profile
export ISERGW_ISER_PORT=3262
if [ -x "$REPO/build/bench/isergw-opt" ]; then export ISERGW_BINARY="$REPO/build/bench/isergw-opt"; fi

step rdma 60 rdma_use rxe
step initiator 60 iscsid_up
step ib-iser 30 iser_load N
step target 90 tgt_up --iscsi portal=127.0.0.1:3261
step lun 60 tgt_target iscsi 1 "$back_iqn" 1024
step gateway 60 isergw_up "$TGT_ADDR" "$gw_iqn=iscsi://127.0.0.1:3261/$back_iqn"
step gateway-login 120 login_to "$TGT_ADDR:3262" "$gw_iqn" iser
step time-split 120 time_split isergw "$gw_iqn"
step time-split-write 120 time_split isergw "$gw_iqn" write-128k-qd16
step profile 180 profile_daemon isergw "$gw_iqn"
step gateway-logout 60 logout_from "$gw_iqn"
step gateway-stop 60 isergw_down
step target-stop 60 tgt_down
