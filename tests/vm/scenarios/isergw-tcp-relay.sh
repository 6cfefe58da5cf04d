# shellcheck shell=bash
# Linux initiator over iSCSI/TCP -> isergw -> tgtd over iSCSI/TCP: the relay
# end to end, with the kernel initiator's verified I/O landing on real
# storage through the gateway's back leg.
# tier: ci
# limit: 480
iqn=iqn.2026-11.io.isergw.testbed:relay
back_iqn=iqn.2026-11.org.isergw.testbed:relay-storage

step net 30 net_up
step initiator 60 iscsid_up
# The storage listens on loopback only: hosts reach it through the gateway.
step target 90 tgt_up --iscsi portal=127.0.0.1:3261
step lun 60 tgt_target iscsi 1 "$back_iqn" 256
step gateway 60 isergw_up "$TGT_ADDR" "$iqn=iscsi://127.0.0.1:3261/$back_iqn"
step capture 120 capture_start iscsi tcp
step login 120 iscsi_login "$TGT_ADDR:3260" "$iqn" default
step dd-verify 180 dd_verify 32
step fio-verify 240 fio_verify
step capture-stop 60 capture_stop iscsi
step fio 120 fio_run
step logout 60 iscsi_logout
step gateway-stop 60 isergw_down
step target-stop 60 tgt_down
