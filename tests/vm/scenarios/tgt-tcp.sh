# shellcheck shell=bash
# Linux initiator over iSCSI/TCP -> tgtd: the storage side of the gateway's
# headline path.
# tier: ci
# limit: 360
iqn=iqn.2026-11.org.isergw.testbed:tgt-tcp

step net 30 net_up
step initiator 60 iscsid_up
step target 90 tgt_up
step lun 60 tgt_target iscsi 1 "$iqn" 64
step capture 120 capture_start iscsi tcp
step login 120 iscsi_login "$TGT_ADDR:3260" "$iqn" default
step dd-verify 180 dd_verify 32
step capture-stop 60 capture_stop iscsi
step fio 120 fio_run
step logout 60 iscsi_logout
step target-stop 60 tgt_down
