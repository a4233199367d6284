#!/usr/bin/env bash
# Installs the Debian packages the embedded default needs, only when they are missing.
# Safe to run any number of times; needs root (or sudo) only when something is missing.
set -euo pipefail

wanted=(postgresql-15 postgresql-client-15 kcat curl)
# Node.js serves the WebAssembly TimescaleDB that checks the hypertable path; any Node >= 18 will do.
command -v node >/dev/null && command -v npm >/dev/null || wanted+=(nodejs npm)
missing=()
for pkg in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done

if ((${#missing[@]} == 0)); then
  echo "setup-debian: all packages present (${wanted[*]})"
  exit 0
fi

echo "setup-debian: installing ${missing[*]}"
as_root=()
[[ $(id -u) -eq 0 ]] || as_root=(sudo)
"${as_root[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
