# shellcheck shell=bash
# LIO (iscsi_target_mod + ib_isert) configured through targetcli-fb.

# targetcli-fb talks to a system D-Bus; without one every command fails.
dbus_up() {
  [ -r /run/testbed/dbus.pid ] && kill -0 "$(cat /run/testbed/dbus.pid)" 2> /dev/null && return 0
  mkdir -p /run/dbus /run/testbed
  rm -f /run/dbus/pid # left by the daemon a previous scenario stopped
  dbus-daemon --system --fork --print-pid > /run/testbed/dbus.pid
}

lio_up() {
  modprobe -a target_core_mod iscsi_target_mod ib_isert
  dbus_up
}

# lio_target IQN SIZE_MIB IP:PORT ISER(true|false): one RAM-disk LUN and an
# ACL for our initiator. Commands go in batches: each targetcli start costs
# seconds under TCG. With LIO_TCP_ELSEWHERE=1 the portal is created from a
# throw-away network namespace, so LIO's TCP listener lands there: on iWARP
# the iSER listener shares the TCP port space and would find it taken.
lio_target() {
  local iqn=$1 mib=$2 portal=$3 iser=$4
  targetcli <<EOT
/backstores/ramdisk create name=r0 size=${mib}M
/iscsi create $iqn
/iscsi/$iqn/tpg1/portals delete 0.0.0.0 3260
/iscsi/$iqn/tpg1/luns create /backstores/ramdisk/r0
/iscsi/$iqn/tpg1/acls create $INI_IQN
EOT
  ${LIO_TCP_ELSEWHERE:+unshare -n} targetcli "/iscsi/$iqn/tpg1/portals" create "${portal%:*}" "${portal##*:}"
  if [ "$iser" = true ]; then
    targetcli "/iscsi/$iqn/tpg1/portals/$portal" enable_iser boolean=true
  fi
  targetcli ls "/iscsi/$iqn" > /tmp/lio.ls
  grep -q "$portal" /tmp/lio.ls
  detail "$(grep -o "$portal.*" /tmp/lio.ls | head -n 1 | tr -s ' ')"
}

lio_down() {
  [ -d /sys/kernel/config/target/iscsi ] || return 0
  targetcli clearconfig confirm=True
}
