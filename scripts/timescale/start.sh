#!/usr/bin/env bash
# Serves a real TimescaleDB (2.23, WebAssembly inside PGlite) over the PostgreSQL wire protocol on a
# free port, in memory, for proving the TimescaleDB migration path and the dashboard queries.
#   scripts/timescale/start.sh [DIR]    DIR defaults to .local/timescale
# Installs the npm packages first when needed. Writes DIR/port, DIR/pid and DIR/server.log and prints
# the port. Stop it with scripts/timescale/stop.sh [DIR].
# Connect as user postgres, password postgres, database postgres, without SSL. Limits: every
# connection shares one session (use one connection; Npgsql: No Reset On Close=true), COPY FROM STDIN
# breaks the connection, startup options are ignored (SET client_min_messages = warning yourself; it
# starts at debug3), no background workers (CALL run_job(id) runs a policy).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
DIR=${1:-$ROOT/.local/timescale}
SERVER="$HERE/node_modules/@electric-sql/pglite-socket/dist/scripts/server.js"
# btree_gist: migration 0001's allocation exclusion constraint. PGlite loads extensions at start only.
EXTENSIONS="btree_gist,@electric-sql/pglite/timescaledb:timescaledb"
START_TIMEOUT_S=90

die() { echo "timescale: error: $*" >&2; exit 1; }

"$HERE/install.sh"
mkdir -p "$DIR"

pid=$(cat "$DIR/pid" 2>/dev/null || true)
if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && [[ -f "$DIR/port" ]]; then
  echo "timescale: already running (pid $pid)" >&2
  cat "$DIR/port"
  exit 0
fi
rm -f "$DIR/pid" "$DIR/port"

# pglite-socket dispatches CustomEvent, a global only from Node.js 19 on; Node.js 18 (Debian 12's)
# has it behind a flag.
node_flags=()
if (($(node -p 'process.versions.node.split(".")[0]') < 19)); then node_flags+=(--experimental-global-customevent); fi

port=$(node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });')
# setsid: its own session and process group, so signals aimed at the caller's group leave it alone;
# it is stopped by PID (stop.sh).
setsid node "${node_flags[@]}" "$SERVER" --host 127.0.0.1 --port "$port" --db memory:// --extensions "$EXTENSIONS" \
  >"$DIR/server.log" 2>&1 </dev/null &
pid=$!
echo "$pid" >"$DIR/pid"

ready() {
  grep -q '^PGLiteSocketServer listening on' "$DIR/server.log" 2>/dev/null \
    && node -e 'const s = require("net").connect(+process.argv[1], "127.0.0.1", () => { s.end(); process.exit(0); }); s.on("error", () => process.exit(1));' "$port"
}

for ((tenths = 0; ; tenths++)); do
  ready && kill -0 "$pid" 2>/dev/null && break
  if ! kill -0 "$pid" 2>/dev/null; then
    cat "$DIR/server.log" >&2
    rm -f "$DIR/pid"
    die "the server exited during start-up (its log is above)"
  fi
  if ((tenths >= START_TIMEOUT_S * 10)); then
    kill "$pid" 2>/dev/null || true
    rm -f "$DIR/pid"
    die "the server did not listen within ${START_TIMEOUT_S}s; see $DIR/server.log"
  fi
  sleep 0.1
done
echo "$port" >"$DIR/port"
echo "timescale: listening on 127.0.0.1:$port (pid $pid, log $DIR/server.log)" >&2
echo "$port"
