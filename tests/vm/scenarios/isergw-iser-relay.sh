# shellcheck shell=bash
# The headline relay: Linux ib_iser over soft-RoCE (rxe) -> isergw -> tgtd
# over iSCSI/TCP. tgtd's own iSER driver holds RDMA CM port 3260 on every
# address, as it would on a box that runs tgt, so the gateway's iSER portal
# takes 3262. The kernel initiator keeps its default always_register=Y;
# under TCG a lost frame can stall its QP until its NOP-Out timeout
# reconnects it (isergw-iser-ram), so fio --verify has room for a few.
# tier: ci
# limit: 720
iqn=iqn.2026-11.io.isergw.testbed:iser-relay
back_iqn=iqn.2026-11.org.isergw.testbed:iser-relay-storage
export ISERGW_ISER_PORT=3262

step rdma 60 rdma_use rxe
step initiator 60 iscsid_up
step ib-iser 30 iser_load Y
step target 90 tgt_up --iscsi portal=127.0.0.1:3261
step lun 60 tgt_target iscsi 1 "$back_iqn" 256
step gateway 60 isergw_up "$TGT_ADDR" "$iqn=iscsi://127.0.0.1:3261/$back_iqn"
step capture 120 capture_start iser-relay roce
step login 120 iscsi_login "$TGT_ADDR:3262" "$iqn" iser
step dd-verify 180 dd_verify 32
step fio-verify 420 fio_verify
step fetched-ahead 30 writes_fetched_ahead
step writes-batched 30 back_writes_batched
step capture-stop 60 capture_stop iser-relay
step fio 120 fio_run
step logout 60 iscsi_logout
step gateway-stop 60 isergw_down
step target-stop 60 tgt_down
