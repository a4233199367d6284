#!/usr/bin/env bash
# The main job on the embedded default, end to end:
#   synthetic GPU agents -> embedded Kafka -> pipeline ingest -> PostgreSQL (partitioned time series)
# then shows what landed, what was quarantined and why, and the ingest's own metrics.
# Settings: DEMO_GPUS (default 500), DEMO_RATE samples/s (default 20000), DEMO_SECONDS (default 30).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
GPUS=${DEMO_GPUS:-500}
RATE=${DEMO_RATE:-20000}
SECONDS_TO_RUN=${DEMO_SECONDS:-30}
METRICS_PORT=${DEMO_METRICS_PORT:-9464}

scripts/local-env.sh up
# shellcheck source=/dev/null
source .local/env
pipeline() { dotnet "$PIPELINE_BIN" "$@"; }
sql() { psql "postgresql://pipeline@127.0.0.1:${PIPELINE_PG_PORT:-55432}/pipeline" -v ON_ERROR_STOP=1 "$@"; }

echo "demo: migrating the schema"
pipeline migrate up

echo "demo: starting the ingest (metrics on http://127.0.0.1:$METRICS_PORT/metrics)"
mkdir -p .local/demo
# Started without the shell function so $! is the ingest process itself and SIGTERM reaches it.
dotnet "$PIPELINE_BIN" ingest --Ingest:MetricsPort="$METRICS_PORT" --Ingest:SummaryInterval=10s >.local/demo/ingest.log 2>&1 &
ingest_pid=$!
trap 'kill -TERM $ingest_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  curl -fsS "http://127.0.0.1:$METRICS_PORT/health/ready" >/dev/null 2>&1 && break
  kill -0 $ingest_pid 2>/dev/null || { cat .local/demo/ingest.log; echo "demo: ingest exited" >&2; exit 1; }
  sleep 0.5
done

echo "demo: $GPUS simulated GPUs send $RATE samples/s for ${SECONDS_TO_RUN}s (1% malformed, 1% agent retries)"
pipeline agents simulate --Simulate:Gpus="$GPUS" --Simulate:SamplesPerSecond="$RATE" \
  --Simulate:Duration="${SECONDS_TO_RUN}s" --Simulate:InvalidFraction=0.01 --Simulate:DuplicateFraction=0.01

echo "demo: waiting for the ingest to catch up"
for _ in $(seq 1 120); do
  lag=$(curl -fsS "http://127.0.0.1:$METRICS_PORT/metrics" | awk '/^ingest_consumer_lag_messages[{ ]/ {s+=$NF} END {print s+0}')
  [[ "$lag" == "0" ]] && break
  sleep 1
done

echo "demo: stopping the ingest with SIGTERM (drain, flush, commit)"
kill -TERM $ingest_pid
ingest_status=0
wait $ingest_pid || ingest_status=$?
echo "demo: ingest exited $ingest_status"
trap - EXIT

echo
echo "== what landed =="
sql -c "select (select count(*) from gpu_usage) as usage_rows, (select count(*) from gpu_heartbeat) as heartbeat_rows, (select count(*) from gpu_state) as gpus_seen, (select count(*) from quarantine) as quarantined"
echo "== quarantined, by reason =="
sql -c "select reason, count(*) from quarantine group by reason order by 2 desc"
echo "== fleet utilization and samples per 5 s bucket (the query Grafana runs) =="
sql -c "select time_bucket('5 seconds', time) as bucket, round(avg(utilization_pct)::numeric, 1) as avg_util, count(*) as samples, repeat('#', (count(*) / 2000)::int) as samples_chart from gpu_usage where time > now() - interval '5 minutes' group by 1 order by 1 desc limit 12"
echo "== the ingest's last summary =="
grep -iE 'summary|drain|stopp' .local/demo/ingest.log | tail -n 4 || true
echo
echo "demo: done. The embedded default keeps running; 'scripts/local-env.sh down' stops it."
