# shellcheck shell=bash
# RDMA faults at isergw's iSER front, injected by a host that misbehaves on
# purpose (tests/vm/tools/misbehaving_iser_host) while Linux ib_iser runs
# fio --verify through another session: read and write STags that are not
# the host's, and a host that vanishes with a command in flight. Only the
# faulty connection may end, and never with GOOD.
# tier: ci
# limit: 600
iqn=iqn.2026-11.io.isergw.testbed:iser-faults-bystander
faulty=iqn.2026-11.io.isergw.testbed:iser-faults
export ISERGW_ISER_PORT=3260

step rdma 60 rdma_use rxe
step initiator 60 iscsid_up
# N: per-command registrations make rxe's go-back-N stall under TCG
# (isergw-iser-ram); the faults here are the misbehaving host's.
step ib-iser 30 iser_load N
step gateway 60 isergw_up "$TGT_ADDR" "$iqn=ram://256M" "$faulty=ram://64M"
step login 120 iscsi_login "$TGT_ADDR:3260" "$iqn" iser
step faults-under-fio 420 iser_faults_under_fio "$TGT_ADDR" "$faulty"
step logout 60 iscsi_logout
step gateway-stop 60 isergw_down
