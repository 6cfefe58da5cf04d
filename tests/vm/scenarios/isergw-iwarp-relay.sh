# shellcheck shell=bash
# Hosts on iWARP: Linux ib_iser over soft-iWARP (siw) -> isergw's iSER
# portal on a siw device -> tgtd over iSCSI/TCP on the guest's loopback.
# On iWARP the gateway's RDMA Read sinks need REMOTE_WRITE, and its iSER
# portal holds TCP's port on that address: tgtd's iSER listener has 3260
# everywhere, the gateway's iSER portal takes 3262 and its TCP portal 3263.
# tier: ci
# needs: siw
# limit: 720
iqn=iqn.2026-11.io.isergw.testbed:iwarp-relay
back_iqn=iqn.2026-11.org.isergw.testbed:iwarp-relay-storage
export ISERGW_ISER_PORT=3262 ISERGW_TCP_PORT=3263

step rdma 60 rdma_use siw
step initiator 60 iscsid_up
step ib-iser 30 iser_load Y
step target 90 tgt_up --iscsi portal=127.0.0.1:3261
step lun 60 tgt_target iscsi 1 "$back_iqn" 256
step gateway 60 isergw_up "$TGT_ADDR" "$iqn=iscsi://127.0.0.1:3261/$back_iqn"
step login 120 iscsi_login "$TGT_ADDR:3262" "$iqn" iser
step dd-verify 180 dd_verify 32
step fio-verify 420 fio_verify
step fabrics 10 gateway_devices siw1
step logout 60 iscsi_logout
step gateway-stop 60 isergw_down
step target-stop 60 tgt_down
