# shellcheck shell=bash
# The back role on iWARP: Linux's iSCSI/TCP initiator -> isergw -> tgtd over
# iSER on soft-iWARP (siw), isergw being the iSER initiator toward tgtd. The
# two iWARP traps are isergw's to handle: siw counts registrations against
# RLIMIT_MEMLOCK even for root (isergw lifts it; this step does not), and
# iWARP shares TCP's ports, so tgtd's iSCSI/TCP portal moves to 3261 and
# isergw's TCP portal to 3263, leaving 3260 to tgtd's iSER listener.
#
# Not in the ci tier yet: on siw, rdma_create_qp for the gateway's
# connecting QP fails (the same QP set-up works on rxe, and the kernel
# initiator's works on siw). siw's own debug log (enabled below) shows the
# QP made in the kernel and destroyed by libsiw before any modify, which
# is libsiw's failure path after mapping its send or receive queue. The
# host's login is refused with that error, and nothing hangs.
# tier: iser-back
# needs: siw
# limit: 720
iqn=iqn.2026-11.io.isergw.testbed:tcp-iser-siw
back_iqn=iqn.2026-11.org.isergw.testbed:tcp-iser-siw-storage
export ISERGW_TCP_PORT=3263 ISERGW_LOG_LEVEL=debug

step rdma 60 rdma_use siw
step siw-debug 10 sh -c 'echo "module siw +p" > /sys/kernel/debug/dynamic_debug/control'
step initiator 60 iscsid_up
step target 90 tgt_up --iscsi "portal=$TGT_ADDR:3261"
step lun 60 tgt_target iser 1 "$back_iqn" 256
step gateway 60 isergw_up "$TGT_ADDR" "$iqn=iser://$TGT_ADDR:3260/$back_iqn"
step login 120 iscsi_login "$TGT_ADDR:3263" "$iqn" default
step dd-verify 180 dd_verify 32
step fio-verify 420 fio_verify
step siw-dmesg 30 sh -c 'dmesg | grep -i "siw" | tail -60'
step logout 60 iscsi_logout
step gateway-stop 60 isergw_down
step target-stop 60 tgt_down
