# shellcheck shell=bash
# Linux ib_iser initiator -> tgtd iSER over soft-RoCE (rxe): the reference
# pair for the gateway's front.
# tier: ci
# limit: 420
iqn=iqn.2026-11.org.isergw.testbed:tgt-iser

step rdma 60 rdma_use rxe
step initiator 60 iscsid_up
step ib-iser 30 iser_load Y
step target 90 tgt_up
step lun 60 tgt_target iser 1 "$iqn" 64
step capture 120 capture_start iser roce
step login 120 iscsi_login "$TGT_ADDR:3260" "$iqn" iser
step dd-verify 180 dd_verify 32
step capture-stop 60 capture_stop iser
step fio 120 fio_run
step logout 60 iscsi_logout
step target-stop 60 tgt_down
