#!/usr/bin/env bash
# Installs TimescaleDB 2.23 compiled to WebAssembly (PGlite) and its PostgreSQL wire-protocol server
# from npm into scripts/timescale/node_modules (git-ignored), pinned by package-lock.json.
# Idempotent: does nothing when node_modules already matches the lock file. Needs Node.js 18+ and npm.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MODULES="$HERE/node_modules"

die() { echo "timescale: error: $*" >&2; exit 1; }

command -v node >/dev/null 2>&1 \
  || die "node is not installed; the TimescaleDB checks need Node.js 18+ and npm (Debian: apt-get install -y nodejs npm)"
command -v npm >/dev/null 2>&1 \
  || die "npm is not installed; the TimescaleDB checks need it (Debian: apt-get install -y npm)"
major=$(node -p 'process.versions.node.split(".")[0]')
((major >= 18)) || die "node $(node --version) is too old; the TimescaleDB checks need Node.js 18+"

# npm records what it installed in node_modules/.package-lock.json; the same packages and
# integrity hashes as package-lock.json mean there is nothing to do.
if [[ -f "$MODULES/.package-lock.json" ]] && node -e '
     const pick = f => Object.entries(require(f).packages)
       .filter(([path]) => path !== "").map(([path, p]) => `${path}@${p.version}#${p.integrity}`).sort().join("\n");
     process.exit(pick(process.argv[1]) === pick(process.argv[2]) ? 0 : 1);' \
     "$HERE/package-lock.json" "$MODULES/.package-lock.json"; then
  exit 0
fi

echo "timescale: npm ci (TimescaleDB for WebAssembly, about 25 MB)" >&2
# --legacy-peer-deps: pglite-socket names pglite 0.3.16 as its peer; the TimescaleDB build is 0.3.14.
(cd "$HERE" && npm ci --legacy-peer-deps --no-audit --no-fund --loglevel=error) >&2 \
  || die "npm ci failed in $HERE (is the npm registry reachable?)"
