#!/usr/bin/env bash
# The whole test suite on a fresh clone: installs what it needs, then lint, types and every suite.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/scripts/setup.sh"
cd "$root"
# Debian tools the tests run for real: compose validation, `wg pubkey`, `ssh-keygen`, an `sshd` to
# connect to, `cloud-init schema`; the browser of the Web UI suite; PostgreSQL and `nc` (compose's
# schema script waits with it) for the production suite.
missing=()
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
command -v wg >/dev/null 2>&1 || missing+=(wireguard-tools)
command -v ssh-keygen >/dev/null 2>&1 || missing+=(openssh-client)
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
command -v cloud-init >/dev/null 2>&1 || missing+=(cloud-init)
[ -x "${K0RDENT_CHROMIUM:-/usr/bin/chromium}" ] || missing+=(chromium)
[ -x "${K0RDENT_PG_BIN:-/usr/lib/postgresql/15/bin}/initdb" ] || missing+=(postgresql)
command -v nc >/dev/null 2>&1 || missing+=(netcat-openbsd)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}") >&2
  else
    echo "the tests need these Debian packages: ${missing[*]}" >&2
    exit 1
  fi
fi
# The production suite's Temporal server: built once (several minutes), then taken from the cache.
server_dir=$(nice -n 19 scripts/install-temporal-server.sh)
echo "Temporal server: $server_dir"
log=$(mktemp)
summary() {
  local status=$? passed failed
  # mocha's "N passing" / "N failing" lines, and the chaos suite's "chaos runs: P passed, F failed".
  passed=$(awk '/^ +[0-9]+ passing/ {s += $1} /^chaos runs:/ {s += $3} END {print s + 0}' "$log")
  failed=$(awk '/^ +[0-9]+ failing/ {s += $1} /^chaos runs:/ {s += $5} END {print s + 0}' "$log")
  echo "tests: $passed passed, $failed failed"
  rm -f "$log"
  exit "$status"
}
trap summary EXIT
npm run lint
npm run typecheck
# real-tools builds its pinned tools on the first run (scripts/install-real-tools.sh), cached after.
for suite in unit replay integration badinput real-tools ui production; do
  npm run "test:$suite" 2>&1 | tee -a "$log"
done
# A short fixed-seed set of the fault-injection suite (the long run: npm run chaos -- --runs 200).
npm run chaos --silent -- --runs 4 --seed 1 2>&1 | tee -a "$log"
