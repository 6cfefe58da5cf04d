# shellcheck shell=bash
# The bridge to iWARP storage with LIO as the storage: Linux ib_iser over
# soft-RoCE (rxe) -> isergw's iSER front -> isergw's iSER back over
# soft-iWARP (siw) -> LIO's ib_isert. The same bridge as isergw-iser-iwarp,
# toward the other Linux iSER target: LIO takes all write data by RDMA
# Read and sends every status as its own Send, where tgt differs in
# details. LIO opens a TCP listener beside its iSER portal; on iWARP both
# want the same TCP port, so the TCP one is parked in another network
# namespace, and the portal listens on all addresses of the initial one
# (port 3264, clear of the gateway's portals).
# tier: ci
# needs: siw
# limit: 720
iqn=iqn.2026-11.io.isergw.testbed:iser-lio
back_iqn=iqn.2026-11.org.isergw.testbed:iser-lio-storage
export ISERGW_ISER_PORT=3262 ISERGW_TCP_PORT=3263

step rdma 90 rdma_use_rxe_and_siw
step initiator 60 iscsid_up
step ib-iser 30 iser_load N
step lio 60 lio_up
LIO_TCP_ELSEWHERE=1 step target 240 lio_target "$back_iqn" 256 "0.0.0.0:3264" true
step gateway 60 isergw_up "$TGT_ADDR" "$iqn=iser://$STORAGE_ADDR:3264/$back_iqn"
step ready 30 gateway_ready "RDMA device siw2"
step login 120 iscsi_login "$TGT_ADDR:3262" "$iqn" iser
step dd-verify 180 dd_verify 32
step fio-verify 420 fio_verify
step fio 120 fio_run
step fabrics 10 gateway_devices rxe1 siw2
step logout 60 iscsi_logout
step gateway-stop 60 isergw_down
step target-stop 120 lio_down
