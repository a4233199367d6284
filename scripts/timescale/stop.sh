#!/usr/bin/env bash
# Stops the server that scripts/timescale/start.sh [DIR] started, by the PID it wrote.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
DIR=${1:-$ROOT/.local/timescale}

pid=$(cat "$DIR/pid" 2>/dev/null || true)
if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
  kill "$pid"
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid"; fi
  echo "timescale: stopped (pid $pid)" >&2
fi
rm -f "$DIR/pid" "$DIR/port"
