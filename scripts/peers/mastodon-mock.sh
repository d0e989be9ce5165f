#!/usr/bin/env bash
# Mastodon client-API *mock* for connector tests: PyPI mastodon_mock 0.6.1 (FastAPI + in-memory SQLite),
# bound to 127.0.0.1 only. It is a mock (no real Mastodon-API server is installable from package registries).
#
# Usage: mastodon-mock.sh setup        create the venv and install mastodon_mock (idempotent; needs python3 with venv + pip, and PyPI)
#        mastodon-mock.sh start PORT   start it on 127.0.0.1:PORT in the background, wait until it answers (<= 30 s)
#        mastodon-mock.sh stop [PORT]  stop what `start` started (by PID)
# State: ${RELAIS_PEERS_DIR:-$HOME/.cache/relais-peers}/mastodon-mock (venv/, run-PORT/{pid,log}).
set -euo pipefail
VERSION=0.6.1
DIR="${RELAIS_PEERS_DIR:-$HOME/.cache/relais-peers}/mastodon-mock"
VENV="$DIR/venv"
BIN="$VENV/bin/mastodon_mock"

die() { echo "mastodon-mock: $*" >&2; exit 1; }
answers() { python3 - "$1" <<'PY'
import sys, urllib.request
try:
    urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/api/v1/instance", timeout=1).read()
except Exception:
    sys.exit(1)
PY
}

setup() {
  if [[ -x $BIN ]] && "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('mastodon_mock') != '$VERSION')" 2>/dev/null; then
    return 0
  fi
  command -v python3 >/dev/null || die "python3 is required"
  mkdir -p "$DIR"
  python3 -m venv "$VENV" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
  "$VENV/bin/pip" install -q --disable-pip-version-check "mastodon_mock==$VERSION" || die "pip install mastodon_mock==$VERSION failed"
}

start() {
  local port="${1:?usage: $0 start PORT}" run="$DIR/run-$1"
  [[ -x $BIN ]] || die "not installed: run '$0 setup' first"
  answers "$port" && die "port $port is busy"
  mkdir -p "$run"
  "$BIN" serve --in-memory --host 127.0.0.1 --port "$port" --domain "127.0.0.1:$port" --log-level warning \
    >"$run/log" 2>&1 </dev/null &
  echo $! >"$run/pid"
  for _ in $(seq 300); do
    answers "$port" && { echo "MASTODON_URL=http://127.0.0.1:$port (pid $(cat "$run/pid"))"; return 0; }
    kill -0 "$(cat "$run/pid")" 2>/dev/null || break
    sleep 0.1
  done
  echo "mastodon_mock did not start on port $port; its log:" >&2; cat "$run/log" >&2
  stop "$port"; exit 1
}

stop_pid_file() {
  local file="$1" pid
  [[ -f $file ]] || return 0
  pid=$(cat "$file"); kill "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
  rm -rf "$(dirname "$file")"; echo "stopped pid $pid"
}

stop() {
  if [[ -n ${1:-} ]]; then stop_pid_file "$DIR/run-$1/pid"; return; fi
  for file in "$DIR"/run-*/pid; do [[ -e $file ]] && stop_pid_file "$file"; done; return 0
}

case "${1:-}" in
  setup) setup ;;
  start) shift; start "$@" ;;
  stop) shift; stop "$@" ;;
  *) die "usage: $0 setup | start PORT | stop [PORT]" ;;
esac
