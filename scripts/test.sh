#!/usr/bin/env bash
# The whole test suite on a fresh clone: installs what it needs, then lint, types and every suite.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/scripts/setup.sh"
cd "$root"
# Debian tools the tests run for real: compose validation, `wg pubkey`, `ssh-keygen`.
missing=()
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
command -v wg >/dev/null 2>&1 || missing+=(wireguard-tools)
command -v ssh-keygen >/dev/null 2>&1 || missing+=(openssh-client)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}") >&2
  else
    echo "the tests need these Debian packages: ${missing[*]}" >&2
    exit 1
  fi
fi
npm run lint
npm run test:unit
npm run test:replay
npm run test:integration
