#!/bin/sh
# Creates or upgrades Temporal's two PostgreSQL databases (run by the temporal-admin-tools
# service of docker-compose.yml before the server starts). Safe to run again: setup-schema
# leaves a newer schema alone and update-schema applies only the versions still missing.
# The password reaches temporal-sql-tool through SQL_PASSWORD, never the command line.
set -eu

: "${POSTGRES_SEEDS:?POSTGRES_SEEDS must name the PostgreSQL host}"
: "${POSTGRES_USER:?POSTGRES_USER must be set}"
: "${SQL_PASSWORD:?SQL_PASSWORD must be set}"
DB_PORT="${DB_PORT:-5432}"
SCHEMA_ROOT="${SCHEMA_ROOT:-/etc/temporal/schema/postgresql/v12}"

sql() {
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$DB_PORT" -u "$POSTGRES_USER" "$@"
}

echo "waiting for PostgreSQL at $POSTGRES_SEEDS:$DB_PORT"
tries=0
until nc -z "$POSTGRES_SEEDS" "$DB_PORT"; do
  tries=$((tries + 1))
  if [ "$tries" -ge 60 ]; then
    echo "PostgreSQL did not answer after $tries tries" >&2
    exit 1
  fi
  sleep 2
done

setup_database() {
  database="$1"
  schema_dir="$2"
  echo "database $database: create"
  # Fails when the database exists already (a second run); a real connection problem
  # makes setup-schema below fail too, so it is not lost.
  sql --db "$database" create || echo "database $database: exists already, keeping it"
  echo "database $database: schema"
  sql --db "$database" setup-schema -v 0.0
  sql --db "$database" update-schema -d "$schema_dir"
}

setup_database "${DBNAME:-temporal}" "$SCHEMA_ROOT/temporal/versioned"
setup_database "${VISIBILITY_DBNAME:-temporal_visibility}" "$SCHEMA_ROOT/visibility/versioned"
echo "schema setup complete"
