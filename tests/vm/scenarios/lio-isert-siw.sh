# shellcheck shell=bash
# Linux ib_iser initiator -> LIO ib_isert over soft-iWARP (siw).
# LIO opens a TCP listener beside every iSER portal; on iWARP both would want
# the same TCP port, so the TCP one is parked in another network namespace.
# tier: ci
# needs: siw
# limit: 420
iqn=iqn.2026-11.org.isergw.testbed:lio-isert-siw

step rdma 60 rdma_use siw
step initiator 60 iscsid_up
step ib-iser 30 iser_load N
step lio 60 lio_up
LIO_TCP_ELSEWHERE=1 step target 240 lio_target "$iqn" 64 "0.0.0.0:3262" true
step capture 120 capture_start iser iwarp
step login 120 iscsi_login "$TGT_ADDR:3262" "$iqn" iser
step dd-verify 180 dd_verify 32
step capture-stop 60 capture_stop iser
step fio 120 fio_run
step logout 60 iscsi_logout
step target-stop 120 lio_down
