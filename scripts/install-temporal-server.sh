#!/usr/bin/env bash
# Finds or builds the pinned Temporal server and its SQL schema tool, and prints the folder that
# holds them (temporal-server, temporal-sql-tool, and the PostgreSQL schemas in schema/postgresql/v12).
# Built once with `go install` from the Go module proxy into
# ${K0RDENT_TOOLS_CACHE:-~/.cache/k0rdent-deploy}/temporal-server-<version>/, then reused.
# The version is the one docker-compose.yml runs (test/production checks that they agree).
set -euo pipefail
TEMPORAL_SERVER_VERSION=1.31.2
cache="${K0RDENT_TOOLS_CACHE:-$HOME/.cache/k0rdent-deploy}/temporal-server-$TEMPORAL_SERVER_VERSION"
schema="$cache/schema/postgresql/v12"
if [ -x "$cache/temporal-server" ] && [ -x "$cache/temporal-sql-tool" ] && [ -d "$schema" ]; then
  echo "$cache"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "cannot build the Temporal server $TEMPORAL_SERVER_VERSION: go (Go module proxy) is not installed" >&2
  exit 1
fi
mkdir -p "$cache"
module="go.temporal.io/server@v$TEMPORAL_SERVER_VERSION"
if [ ! -d "$schema" ]; then
  source_dir=$(go mod download -json "$module" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  mkdir -p "$cache/schema/postgresql"
  cp -R "$source_dir/schema/postgresql/v12" "$cache/schema/postgresql/.tmp-v12"
  chmod -R u+w "$cache/schema/postgresql/.tmp-v12"
  mv "$cache/schema/postgresql/.tmp-v12" "$schema"
fi
if [ -x "$cache/temporal-server" ] && [ -x "$cache/temporal-sql-tool" ]; then echo "$cache"; exit 0; fi
build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT
started=$(date +%s)
# Separate GOBINs: both mains are named after their folder (server, sql).
for part in server:cmd/server sql:cmd/tools/sql; do
  name=${part%%:*}
  mkdir -p "$build/$name"
  CGO_ENABLED=0 GOBIN="$build/$name" nice -n 19 go install -tags disable_grpc_modules \
    "go.temporal.io/server/${part#*:}@v$TEMPORAL_SERVER_VERSION" >&2
done
mv "$build/sql/sql" "$cache/temporal-sql-tool"
mv "$build/server/server" "$cache/temporal-server"
echo "built the Temporal server $TEMPORAL_SERVER_VERSION in $(($(date +%s) - started)) s into $cache" >&2
echo "$cache"
