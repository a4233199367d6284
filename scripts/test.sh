#!/usr/bin/env bash
# The whole test suite on the embedded default: installs what is missing, starts the project-owned
# PostgreSQL and the embedded broker, then runs every test project against them.
# Extra arguments go to `dotnet test` (e.g. --filter FullyQualifiedName~Migrations).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

started=$(date +%s)
scripts/local-env.sh up
# shellcheck source=/dev/null
source .local/env
[[ -x scripts/timescale/install.sh ]] && scripts/timescale/install.sh

log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "test: building"
dotnet build Pipeline.sln -c Release -nologo -v quiet -clp:ErrorsOnly
echo "test: running"
set +e
dotnet test Pipeline.sln -c Release --no-build -nologo --logger "console;verbosity=normal" "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# One closing line for the whole run, summed over the test assemblies' own summaries.
count() { { grep -E "^ +$1: +[0-9]+" "$log" || true; } | awk '{s+=$2} END {print s+0}'; }
passed=$(count Passed); failed=$(count Failed); skipped=$(count Skipped)
aborted=$(grep -c "Test Run Aborted" "$log" || true)
echo "test: finished in $(( $(date +%s) - started ))s"
echo "Tests: $passed passed, $failed failed, $skipped skipped"
if (( aborted > 0 )); then
  echo "test: $aborted test run(s) aborted" >&2
  status=1
fi
if (( status == 0 && passed == 0 )); then
  echo "test: no test ran" >&2
  exit 1
fi
exit "$status"
