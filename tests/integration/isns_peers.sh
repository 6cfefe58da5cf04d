# shellcheck shell=bash
# Debian's iSNS server (open-isns isnsd) on loopback, with its config, state
# and control socket in a directory of its own, and isnsadm to look at it.
# Source it after peers.sh. Only the isnsd started here is ever stopped, by PID.
#   start_isnsd     -> ISNSD_PORT, ISNSD_PID (a fresh, empty database)
#   stop_isnsd
#   remove_isnsd    stop_isnsd, and its directory deleted
#   isns_list TYPE  -> isnsadm's listing of entities, nodes or portals
# Under /tmp, not TEST_TMPDIR: the control socket's path must fit sun_path.
ISNSD_DIR="$(mktemp -d /tmp/isergw-isnsd.XXXXXX)"
ISNSD_PID=""

start_isnsd() {
  ISNSD_PORT="${ISNSD_PORT:-$(free_port)}"
  rm -rf "$ISNSD_DIR/db"
  mkdir -p "$ISNSD_DIR/db"
  # Security 0: the gateway does not sign its messages. The default
  # discovery domain lets the observer below see every node.
  cat >"$ISNSD_DIR/isnsd.conf" <<CONF
BindAddress = 127.0.0.1:$ISNSD_PORT
Database = $ISNSD_DIR/db
PIDFile = $ISNSD_DIR/isnsd.pid
ControlSocket = $ISNSD_DIR/isnsctl
Security = 0
DefaultDiscoveryDomain = 1
SLPRegister = 0
RegistrationPeriod = 10m
CONF
  cat >"$ISNSD_DIR/isnsadm.conf" <<CONF
ServerAddress = 127.0.0.1:$ISNSD_PORT
SourceName = iqn.2026-11.io.isergw.test:observer
Security = 0
CONF
  isnsd --config "$ISNSD_DIR/isnsd.conf" --foreground >>"$PEERS_DIR/isnsd.log" 2>&1 &
  ISNSD_PID=$!
  wait_for_port "$ISNSD_PORT"
}

stop_isnsd() {
  [[ -n "$ISNSD_PID" ]] || return 0
  kill "$ISNSD_PID" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$ISNSD_PID" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$ISNSD_PID" 2>/dev/null || true
  wait "$ISNSD_PID" 2>/dev/null || true
  ISNSD_PID=""
}

remove_isnsd() {
  stop_isnsd
  rm -rf "$ISNSD_DIR"
}

isns_list() {
  isnsadm --config "$ISNSD_DIR/isnsadm.conf" --list "$1" 2>&1
}
