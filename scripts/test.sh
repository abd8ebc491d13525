#!/usr/bin/env bash
# The whole test suite on a fresh clone: installs what it needs, then lint, types and every suite.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/scripts/setup.sh"
cd "$root"
if ! command -v docker-compose >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && apt-get install -y -qq docker-compose) >&2
  else
    echo "docker-compose (Debian package docker-compose) is needed to validate docker-compose.yml" >&2
    exit 1
  fi
fi
npm run lint
npm run test:unit
npm run test:replay
npm run test:integration
