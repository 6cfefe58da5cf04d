# shellcheck shell=bash
# libiscsi's simple tools over iSER (iser:// URLs) -> tgtd over soft-RoCE.
# libiscsi's iSER is a weak peer (its test suites crash or hang over iSER),
# so only the tools known to work are held to a PASS here.
# tier: ci
# limit: 300
iqn=iqn.2026-11.org.isergw.testbed:tgt-libiscsi
url="iser://$TGT_ADDR/$iqn/1"

step rdma 60 rdma_use rxe
step target 90 tgt_up
step lun 60 tgt_target iser 1 "$iqn" 64
step capture 120 capture_start iser roce
LIBISCSI_EXPECT='Product' step iscsi-inq 60 libiscsi_tool iscsi-inq -i "$INI_IQN" "$url"
LIBISCSI_EXPECT='Logical block length|Block length|Number of blocks|Total size' \
  step iscsi-readcapacity16 60 libiscsi_tool iscsi-readcapacity16 -i "$INI_IQN" "$url"
step capture-stop 60 capture_stop iser
step target-stop 60 tgt_down
