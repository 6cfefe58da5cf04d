# shellcheck shell=bash
# The back role on iWARP: Linux's iSCSI/TCP initiator -> isergw -> tgtd over
# iSER on soft-iWARP (siw), isergw being the iSER initiator toward tgtd. The
# two iWARP traps are isergw's to handle: siw counts registrations against
# RLIMIT_MEMLOCK even for root (isergw lifts it; this step does not), and
# iWARP shares TCP's ports, so tgtd's iSCSI/TCP portal moves to 3261 and
# isergw's TCP portal to 3263, leaving 3260 to tgtd's iSER listener.
#
# iSER carries at most 512 KiB per command here (tgt's target drops the
# connection beyond), so the host's requests are kept to that; a larger
# one gets CHECK CONDITION from the gateway, tested first.
# On siw the gateway's QP once failed to create: libsiw takes mmap key
# 0x90000 for invalid, and the receive queue behind one 16384-entry CQ
# got exactly that key (rdma/completion_queue.h).
# tgtd's iSER window is narrower than the gateway's, so a host that logs in
# again after a reset finds out whether the gateway's new session promises
# less than the old one did.
# tier: ci
# needs: siw
# limit: 720
iqn=iqn.2026-11.io.isergw.testbed:tcp-iser-siw
back_iqn=iqn.2026-11.org.isergw.testbed:tcp-iser-siw-storage
export ISERGW_TCP_PORT=3263 ISERGW_LOG_LEVEL=debug

step rdma 60 rdma_use siw
step initiator 60 iscsid_up
step target 90 tgt_up --iscsi "portal=$TGT_ADDR:3261"
step lun 60 tgt_target iser 1 "$back_iqn" 256
step gateway 60 isergw_up "$TGT_ADDR" "$iqn=iser://$TGT_ADDR:3260/$back_iqn"
step login 120 iscsi_login "$TGT_ADDR:3263" "$iqn" default
step oversized 60 oversized_write_refused
step host-limit 10 limit_request_size 512
step dd-verify 180 dd_verify 32
step fio-verify 420 fio_verify
step writes-landed 30 writes_landed tcp
step reconnect 420 fio_verify_across_reconnect 3263
step logout 60 iscsi_logout
step gateway-stop 60 isergw_down
step target-stop 60 tgt_down
