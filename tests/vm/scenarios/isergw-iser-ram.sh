# shellcheck shell=bash
# Linux ib_iser over soft-RoCE (rxe) -> isergw's iSER front -> its built-in
# ram:// back end: the iSER front alone, with verified I/O, under both ways
# the kernel initiator registers memory (always_register Y and N). With Y
# the host registers per command and the gateway answers with Send with
# Invalidate; that is checked by dd read-back. fio --verify runs with N:
# under TCG, rxe's go-back-N recovery after a lost frame stalls a host QP
# that carries per-command registrations, and the host's NOP-Out timeout
# (10 s a time) then dominates the run, with no data lost. rxe is a soft
# device, so the gateway hands send lists that carry much data to a posting
# thread (rdma.posting auto); a last round runs fio --verify with every list
# posted from the worker's loop, as on hardware.
# tier: ci
# limit: 720
iqn=iqn.2026-11.io.isergw.testbed:iser-ram
export ISERGW_ISER_PORT=3260

step rdma 60 rdma_use rxe
step initiator 60 iscsid_up
step ib-iser 30 iser_load Y
step gateway 60 isergw_up "$TGT_ADDR" "$iqn=ram://256M"
# libiscsi's iSER initiator, a weak peer, with the tools that work against
# tgtd too (libiscsi-iser-tgt).
LIBISCSI_EXPECT='Product' step iscsi-inq 60 libiscsi_tool iscsi-inq -i "$INI_IQN" \
  "iser://$TGT_ADDR/$iqn/0"
LIBISCSI_EXPECT='Logical block length|Block length|Number of blocks|Total size' \
  step iscsi-readcapacity16 60 libiscsi_tool iscsi-readcapacity16 -i "$INI_IQN" \
  "iser://$TGT_ADDR/$iqn/0"
step capture 120 capture_start iser-ram roce
step login 120 iscsi_login "$TGT_ADDR:3260" "$iqn" iser
step dd-verify 180 dd_verify 32
step capture-stop 60 capture_stop iser-ram
step logout 60 iscsi_logout
step ib-iser-n 30 iser_load N
step login-n 120 iscsi_login "$TGT_ADDR:3260" "$iqn" iser
step fio-verify-n 240 fio_verify
step fio 120 fio_run
step logout-n 60 iscsi_logout
step posting-auto 10 gateway_posting auto
step lists-handed-over 10 lists_handed_over auto
step gateway-stop 60 isergw_down
ISERGW_POSTING=inline step gateway-inline 60 isergw_up "$TGT_ADDR" "$iqn=ram://256M"
step login-inline 120 iscsi_login "$TGT_ADDR:3260" "$iqn" iser
step fio-verify-inline 240 fio_verify
step logout-inline 60 iscsi_logout
step posting-inline 10 gateway_posting inline
step lists-all-inline 10 lists_handed_over inline
step gateway-inline-stop 60 isergw_down
