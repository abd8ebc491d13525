#!/usr/bin/env bash
# Installs what the project needs on a fresh clone: npm packages, the build, the pinned temporal CLI.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# `npm install` against the committed lockfile installs exactly its versions; `npm ci` refuses this
# lockfile because the registry here omits some other platforms' optional binaries from it.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm install --no-audit --no-fund
fi
npm run build --silent
TEMPORAL_CLI_PATH=$(scripts/install-temporal.sh)
export TEMPORAL_CLI_PATH
echo "temporal CLI: $TEMPORAL_CLI_PATH ($("$TEMPORAL_CLI_PATH" --version))"
