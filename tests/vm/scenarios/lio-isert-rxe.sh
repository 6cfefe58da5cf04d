# shellcheck shell=bash
# Linux ib_iser initiator -> LIO ib_isert over soft-RoCE (rxe).
# tier: ci
# limit: 420
iqn=iqn.2026-11.org.isergw.testbed:lio-isert

step rdma 60 rdma_use rxe
step initiator 60 iscsid_up
# With always_register=Y, rxe toward isert logs "rxe_reg_fast_mr: ... not
# free" and writes crawl at about 0.2 MiB/s.
step ib-iser 30 iser_load N
step lio 60 lio_up
step target 240 lio_target "$iqn" 64 "$TGT_ADDR:3260" true
step capture 120 capture_start iser roce
step login 120 iscsi_login "$TGT_ADDR:3260" "$iqn" iser
step dd-verify 180 dd_verify 32
step capture-stop 60 capture_stop iser
step fio 120 fio_run
step logout 60 iscsi_logout
step target-stop 120 lio_down
