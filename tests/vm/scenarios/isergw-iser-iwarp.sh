# shellcheck shell=bash
# The bridge to iWARP storage: Linux ib_iser over soft-RoCE (rxe, the
# host's fabric) -> isergw's iSER front -> isergw's iSER back over
# soft-iWARP (siw, the storage's fabric) -> tgtd's iSER target. Each
# fabric has its own veth pair, so the RDMA CM takes rxe toward the host
# and siw toward the storage from the addresses alone. tgtd's iSER
# listener holds RDMA CM port 3260 on every address, and with a siw device
# present TCP's 3260 too, wherever that address is: the gateway's iSER
# portal takes 3262 and its TCP portal 3263.
# tier: ci
# needs: siw
# limit: 720
iqn=iqn.2026-11.io.isergw.testbed:iser-iwarp
back_iqn=iqn.2026-11.org.isergw.testbed:iser-iwarp-storage
export ISERGW_ISER_PORT=3262 ISERGW_TCP_PORT=3263

step rdma 90 rdma_use_rxe_and_siw
step initiator 60 iscsid_up
step ib-iser 30 iser_load N
step target 90 tgt_up --iscsi portal=127.0.0.1:3261
step lun 60 tgt_target iser 1 "$back_iqn" 256
step gateway 60 isergw_up "$TGT_ADDR" "$iqn=iser://$STORAGE_ADDR:3260/$back_iqn"
step ready 30 gateway_ready "RDMA device siw2"
step login 120 iscsi_login "$TGT_ADDR:3262" "$iqn" iser
step dd-verify 180 dd_verify 32
step fio-verify 420 fio_verify
step fio 120 fio_run
step fabrics 10 gateway_devices rxe1 siw2
step logout 60 iscsi_logout
step gateway-stop 60 isergw_down
step target-stop 60 tgt_down
