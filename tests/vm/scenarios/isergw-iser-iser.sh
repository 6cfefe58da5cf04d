# shellcheck shell=bash
# iSER on both legs: Linux ib_iser over soft-RoCE (rxe) -> isergw's iSER
# front -> isergw's iSER back -> tgtd's iSER target, all on rxe. The
# gateway RDMA-Reads the host's writes into pool buffers and gathers them
# into a command buffer that tgtd then RDMA-Reads; tgtd RDMA-Writes reads
# into a command buffer that the gateway RDMA-Writes on to the host. tgtd's iSER listener holds port 3260
# on every address; the gateway's iSER portal takes 3262.
# A command waits for a command buffer in the order it came: taken out of
# order, the buffers once all went to commands queued behind one still
# waiting, and the session stalled until the host aborted it.
# tier: ci
# limit: 720
iqn=iqn.2026-11.io.isergw.testbed:iser-iser
back_iqn=iqn.2026-11.org.isergw.testbed:iser-iser-storage
export ISERGW_ISER_PORT=3262

step rdma 60 rdma_use rxe
step initiator 60 iscsid_up
step ib-iser 30 iser_load N
step target 90 tgt_up --iscsi portal=127.0.0.1:3261
step lun 60 tgt_target iser 1 "$back_iqn" 256
step gateway 60 isergw_up "$TGT_ADDR" "$iqn=iser://$TGT_ADDR:3260/$back_iqn"
step login 120 iscsi_login "$TGT_ADDR:3262" "$iqn" iser
step dd-verify 180 dd_verify 32
step fio-verify 420 fio_verify
step writes-landed 30 writes_landed iser
step logout 60 iscsi_logout
step gateway-stop 60 isergw_down
step target-stop 60 tgt_down
