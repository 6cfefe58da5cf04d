# shellcheck shell=bash
# Linux initiator over iSCSI/TCP -> isergw with its built-in ram:// back end:
# the gateway's front against the kernel initiator, with verified I/O.
# tier: ci
# limit: 420
iqn=iqn.2026-11.io.isergw.testbed:ram

step net 30 net_up
step initiator 60 iscsid_up
step gateway 60 isergw_up "$TGT_ADDR" "$iqn=ram://256M"
step capture 120 capture_start iscsi tcp
step login 120 iscsi_login "$TGT_ADDR:3260" "$iqn" default
step dd-verify 180 dd_verify 32
step fio-verify 240 fio_verify
step capture-stop 60 capture_stop iscsi
step fio 120 fio_run
step logout 60 iscsi_logout
step gateway-stop 60 isergw_down
