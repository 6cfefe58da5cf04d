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
# ACL for our initiator, in one targetcli batch: each targetcli start costs
# many seconds under TCG. With LIO_TCP_ELSEWHERE=1 that batch runs in a
# throw-away network namespace, so the TCP listener LIO opens with every
# portal lands there (on iWARP, iSER shares the TCP port space and would
# find the port taken); iSER is then enabled from the initial namespace.
lio_target() {
  local iqn=$1 mib=$2 portal=$3 iser=$4 np
  np="/sys/kernel/config/target/iscsi/$iqn/tpgt_1/np/$portal"
  {
    echo "/backstores/ramdisk create name=r0 size=${mib}M"
    echo "/iscsi create $iqn"
    echo "/iscsi/$iqn/tpg1/portals delete 0.0.0.0 3260"
    echo "/iscsi/$iqn/tpg1/portals create ${portal%:*} ${portal##*:}"
    echo "/iscsi/$iqn/tpg1/luns create /backstores/ramdisk/r0"
    echo "/iscsi/$iqn/tpg1/acls create $INI_IQN"
    if [ "$iser" = true ] && [ -z "${LIO_TCP_ELSEWHERE:-}" ]; then
      echo "/iscsi/$iqn/tpg1/portals/$portal enable_iser boolean=true"
    fi
  } | ${LIO_TCP_ELSEWHERE:+unshare -n} targetcli
  if [ "$iser" = true ] && [ -n "${LIO_TCP_ELSEWHERE:-}" ]; then
    targetcli "/iscsi/$iqn/tpg1/portals/$portal" enable_iser boolean=true
  fi
  [ -d "$np" ] || { detail "no portal $portal in configfs"; return 1; }
  if [ "$iser" = true ] && [ "$(cat "$np/iser")" != 1 ]; then detail "iSER not enabled on $portal"; return 1; fi
  detail "portal $portal, iser=$(cat "$np/iser")${LIO_TCP_ELSEWHERE:+, TCP listener in another netns}"
}

lio_down() {
  # targetcli takes seconds to start: only when something is configured.
  compgen -G '/sys/kernel/config/target/iscsi/iqn.*' > /dev/null \
    || compgen -G '/sys/kernel/config/target/core/*_[0-9]*' > /dev/null || return 0
  targetcli clearconfig confirm=True
}

# lio_reexport IQN FROM_IQN IP:PORT: the do-it-yourself iSER gateway. LIO
# exports, over ib_isert, the disk open-iscsi attached from FROM_IQN.
lio_reexport() {
  local iqn=$1 portal=$3 dev
  dev=$(disk_of "$2") || { detail "no disk for $2"; return 1; }
  {
    echo "/backstores/block create name=b0 dev=$dev"
    echo "/iscsi create $iqn"
    echo "/iscsi/$iqn/tpg1/portals delete 0.0.0.0 3260"
    echo "/iscsi/$iqn/tpg1/portals create ${portal%:*} ${portal##*:}"
    echo "/iscsi/$iqn/tpg1/portals/$portal enable_iser boolean=true"
    echo "/iscsi/$iqn/tpg1/luns create /backstores/block/b0"
    echo "/iscsi/$iqn/tpg1/acls create $INI_IQN"
  } | targetcli
  detail "LIO exports $dev (from $2) over iSER at $portal"
}
