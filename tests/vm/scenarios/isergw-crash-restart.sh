# shellcheck shell=bash
# Linux initiator over iSCSI/TCP -> isergw -> tgtd, with the gateway killed
# (SIGKILL) and started again while fio --verify writes through it: the
# initiator reconnects by itself and no acknowledged write is lost.
# tier: ci
# limit: 480
iqn=iqn.2026-11.io.isergw.testbed:restart
back_iqn=iqn.2026-11.org.isergw.testbed:restart-storage
map="$iqn=iscsi://127.0.0.1:3261/$back_iqn"

step net 30 net_up
step initiator 60 iscsid_up
step target 90 tgt_up --iscsi portal=127.0.0.1:3261
step lun 60 tgt_target iscsi 1 "$back_iqn" 256
step gateway 60 isergw_up "$TGT_ADDR" "$map"
step login 120 iscsi_login "$TGT_ADDR:3260" "$iqn" default
step fio-verify-across-crash 300 fio_verify_across_crash "$TGT_ADDR" "$map"
step logout 60 iscsi_logout
step gateway-stop 60 isergw_down
step target-stop 60 tgt_down
