#!/usr/bin/env bash
# The main job on a fresh clone: installs what it needs, then dev server + Web UI + worker + a full
# deployment with every phase in the local world, left open for rollback.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/scripts/setup.sh"
cd "$root"
exec node bin/k0rdent-deploy demo "$@"
