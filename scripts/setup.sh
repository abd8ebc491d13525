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
# The build compiles the emulated tools' small native program.
if ! command -v "${CC:-cc}" >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc libc6-dev) >&2
  else
    echo "the build needs a C compiler (Debian package gcc)" >&2
    exit 1
  fi
fi
npm run build --silent
TEMPORAL_CLI_PATH=$(scripts/install-temporal.sh)
export TEMPORAL_CLI_PATH
echo "temporal CLI: $TEMPORAL_CLI_PATH ($("$TEMPORAL_CLI_PATH" --version))"
