#!/usr/bin/env bash
# A real local AT Protocol peer for the Bluesky connector tests: the reference PDS (@atproto/pds, SQLite)
# with an in-memory did:plc directory (@did-plc/server). Loopback only; downloads nothing but npm packages.
#
# Usage: scripts/peers/atproto.sh setup                    install into $RELAIS_PEERS_DIR/atproto (idempotent)
#        scripts/peers/atproto.sh start PDS_PORT PLC_PORT   start both servers in the background, wait for health
#        scripts/peers/atproto.sh stop [PDS_PORT]           stop what start started (one instance, or all)
# env:   RELAIS_PEERS_DIR (default ~/.cache/relais-peers), NODE (default node, >= 18.7),
#        RELAIS_PEERS_WATCH_PID: when set, a watchdog stops the servers once that process is gone
#        (tests pass their own PID so no server outlives them).
# Accounts: handle domain `.test` (e.g. alice.test), no invite code, rate limits off.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
PEERS="${RELAIS_PEERS_DIR:-$HOME/.cache/relais-peers}"
APP="$PEERS/atproto"
NODE="${NODE:-node}"
PKGS="@atproto/pds@0.4.217 @did-plc/server@0.0.1" # 0.4.217: the last @atproto/pds line that runs on node 20
MARK="$APP/.relais-installed"

setup() {
  # Test processes may call setup concurrently (nextest runs one process per test): one installs.
  mkdir -p "$PEERS"; exec 9>"$PEERS/atproto.lock"; flock 9
  if [[ -f $MARK && "$(cat "$MARK")" == "$PKGS" ]] && (cd "$APP" && "$NODE" -e 'new (require("better-sqlite3"))(":memory:")' 2>/dev/null); then
    echo "atproto peer already installed in $APP"; return 0
  fi
  local t0; t0=$(date +%s)
  mkdir -p "$APP"; cd "$APP"; [[ -f package.json ]] || npm init -y >/dev/null
  echo "node $("$NODE" --version) -> $APP: npm install $PKGS"
  npm install --no-fund --no-audit $PKGS
  # npm 11 does not run dependency install scripts: better-sqlite3 arrives without its native addon.
  # Its prebuilt download fails without GitHub access, so node-gyp compiles SQLite (~90 s on 2 cores).
  npm rebuild better-sqlite3
  "$NODE" -e 'const D=require("better-sqlite3"); console.log("better-sqlite3 OK, sqlite", new D(":memory:").prepare("select sqlite_version() v").get().v)'
  echo "$PKGS" >"$MARK"
  echo "atproto peer installed in $(( $(date +%s) - t0 )) s"
}

health() { curl -sf -m 2 "$1" >/dev/null 2>&1; }

stop_dir() {
  local dir=$1 f p
  for f in "$dir"/*.pid; do
    [[ -f $f ]] || continue; p=$(cat "$f"); kill "$p" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$p" 2>/dev/null && kill -9 "$p" 2>/dev/null; rm -f "$f"
  done
}

start() {
  local pds_port=${1:?usage: start PDS_PORT PLC_PORT} plc_port=${2:?usage: start PDS_PORT PLC_PORT}
  [[ -f $MARK ]] || { echo "atproto peer not installed: run $0 setup"; exit 1; }
  local state="$PEERS/atproto-state/$pds_port"
  # Two test processes may be handed the same free port: the first start claims it with a lock
  # that its servers inherit (fd 8), held as long as they run, so that a second start fails here
  # instead of wiping the first one's state below (the caller tries other ports).
  mkdir -p "$PEERS/atproto-state"; exec 8>"$state.lock"
  flock -n 8 || { echo "port $pds_port busy: another start holds it"; exit 1; }
  for p in "$plc_port" "$pds_port"; do
    if curl -s -o /dev/null -m 2 "http://127.0.0.1:$p/"; then echo "port $p busy"; exit 1; fi
  done
  stop_dir "$state"; rm -rf "$state"; mkdir -p "$state/data" "$state/blobs"
  mkdir -p "$APP/bin" && cp "$HERE"/atproto/*.js "$APP/bin/" # launchers must sit inside the npm project (module resolution)
  cd "$APP"
  local t0; t0=$(date +%s%N)
  PLC_PORT=$plc_port "$NODE" bin/plc-server.js >"$state/plc.log" 2>&1 &
  echo $! >"$state/plc.pid"
  for _ in $(seq 100); do health "http://127.0.0.1:$plc_port/_health" && break; sleep 0.1; done
  health "http://127.0.0.1:$plc_port/_health" || { echo "PLC failed to start:"; cat "$state/plc.log"; stop_dir "$state"; exit 1; }
  PDS_HOSTNAME=localhost PDS_PORT=$pds_port PDS_DEV_MODE=true \
    PDS_DATA_DIRECTORY="$state/data" PDS_BLOBSTORE_DISK_LOCATION="$state/blobs" \
    PDS_DID_PLC_URL="http://localhost:$plc_port" PDS_INVITE_REQUIRED=false \
    PDS_SERVICE_HANDLE_DOMAINS=.test PDS_JWT_SECRET=dev-jwt-secret PDS_ADMIN_PASSWORD=admin-pass \
    PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX="$("$NODE" bin/gen-k256.js)" \
    PDS_RATE_LIMITS_ENABLED=false PDS_DISABLE_SSRF_PROTECTION=true \
    PDS_CRAWLERS= LOG_ENABLED="${LOG_ENABLED:-false}" \
    "$NODE" bin/pds-server.js >"$state/pds.log" 2>&1 &
  echo $! >"$state/pds.pid"
  if [[ -n ${RELAIS_PEERS_WATCH_PID:-} ]]; then
    # Watchdog: stop the servers once the watched process (the test binary) is gone.
    (
      trap '' HUP
      while kill -0 "$RELAIS_PEERS_WATCH_PID" 2>/dev/null && [[ -f $state/pds.pid ]]; do sleep 1; done
      stop_dir "$state"; rm -rf "$state"
    ) </dev/null >/dev/null 2>&1 &
    echo $! >"$state/watchdog.pid.keep"
  fi
  for _ in $(seq 600); do
    health "http://127.0.0.1:$pds_port/xrpc/_health" && break
    kill -0 "$(cat "$state/pds.pid")" 2>/dev/null || break
    sleep 0.1
  done
  health "http://127.0.0.1:$pds_port/xrpc/_health" || { echo "PDS failed to start:"; cat "$state/pds.log"; stop_dir "$state"; exit 1; }
  echo "PDS_URL=http://localhost:$pds_port PLC_URL=http://localhost:$plc_port handle domain: .test"
  echo "STARTUP_MS=$(( ($(date +%s%N) - t0) / 1000000 ))"
}

stop() {
  if [[ -n ${1:-} ]]; then stop_dir "$PEERS/atproto-state/$1"; rm -rf "$PEERS/atproto-state/$1"; return; fi
  local d; for d in "$PEERS"/atproto-state/*/; do [[ -d $d ]] && stop_dir "$d" && rm -rf "$d"; done; return 0
}

cmd=${1:-}; shift || true
case $cmd in
  setup) setup ;;
  start) start "$@" ;;
  stop) stop "$@" ;;
  *) echo "usage: $0 setup | start PDS_PORT PLC_PORT | stop [PDS_PORT]"; exit 2 ;;
esac
