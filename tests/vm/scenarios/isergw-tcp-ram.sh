# shellcheck shell=bash
# Linux initiator over iSCSI/TCP -> isergw with its built-in ram:// back end:
# the gateway's front against the kernel initiator, with verified I/O. The
# portal wants discovery CHAP (mutual): SendTargets without the secret is
# refused, and the host finds its target through discovery.sendtargets.auth.
# tier: ci
# limit: 420
iqn=iqn.2026-11.io.isergw.testbed:ram
ISERGW_CONFIG=$OUT/isergw.json
export ISERGW_CONFIG ISCSI_DISCOVERED=yes
mkdir -p "$OUT"
cat > "$ISERGW_CONFIG" << JSON
{"discovery": {"chap": {"user": "host", "secret": "discovery-host-1"},
               "mutual_chap": {"user": "gateway", "secret": "discovery-gw-22"}},
 "targets": [{"name": "$iqn", "back_end": "ram://256M"}]}
JSON

step net 30 net_up
step initiator 60 iscsid_up
step gateway 60 isergw_up "$TGT_ADDR"
step capture 120 capture_start iscsi tcp
step discovery-refused 60 iscsi_discovery_refused "$TGT_ADDR:3260"
step discovery-chap 60 iscsi_discover_chap "$TGT_ADDR:3260" host discovery-host-1 gateway discovery-gw-22
step login 120 iscsi_login "$TGT_ADDR:3260" "$iqn" default
step dd-verify 180 dd_verify 32
step fio-verify 240 fio_verify
step capture-stop 60 capture_stop iscsi
step fio 120 fio_run
step logout 60 iscsi_logout
step gateway-stop 60 isergw_down
