# shellcheck shell=bash
# Deep queues of large writes through one gateway worker, as Linux hosts
# send them at their defaults (queue depth 32, requests of up to
# max_sectors_kb): one iSCSI/TCP host and one ib_iser host over soft-RoCE,
# each on a ram:// target of its own, write 1280 KiB blocks 32 deep at once
# and verify them. That is far more than the worker's buffers can set aside
# at once: commands wait for their buffers in order, and every one
# completes (ARCHITECTURE.md, "Buffer admission"). The probe that found the
# write deadlock needed only a third of this.
# tier: ci
# limit: 600
tcp_iqn=iqn.2026-11.io.isergw.testbed:deep-tcp
iser_iqn=iqn.2026-11.io.isergw.testbed:deep-iser
export ISERGW_ISER_PORT=3260 ISERGW_WORKERS=1

step rdma 60 rdma_use rxe
step initiator 60 iscsid_up
step ib-iser 30 iser_load N
step gateway 60 isergw_up "$TGT_ADDR" "$tcp_iqn=ram://256M" "$iser_iqn=ram://256M"
step login-tcp 120 iscsi_login "$TGT_ADDR:3260" "$tcp_iqn" default
step login-iser 120 iscsi_login "$TGT_ADDR:3260" "$iser_iqn" iser
step deep-writes 360 deep_writes 80m "$tcp_iqn" "$iser_iqn"
step logout 60 iscsi_logout
step gateway-stop 60 isergw_down
