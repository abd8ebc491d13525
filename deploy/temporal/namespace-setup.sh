#!/bin/sh
# Creates the namespace k0rdent-deploy uses and registers its search attributes (run by the
# temporal-namespace-setup service of docker-compose.yml once the server is healthy).
# Safe to run again: existing ones are left as they are.
set -eu

: "${TEMPORAL_ADDRESS:?TEMPORAL_ADDRESS must be host:port of the frontend}"
# Talk to the frontend by its IPv4 address: the CLI may otherwise try an IPv6 address the
# server does not listen on. Falls back to the name when it cannot be resolved here.
host="${TEMPORAL_ADDRESS%:*}"
port="${TEMPORAL_ADDRESS##*:}"
ip="$(getent ahostsv4 "$host" 2>/dev/null | awk 'NR == 1 { print $1 }' || true)"
ADDRESS="${ip:-$host}:$port"
NAMESPACE="${TEMPORAL_NAMESPACE:-default}"
RETENTION="${TEMPORAL_NAMESPACE_RETENTION:-30d}"
# Keyword attributes the deployment workflow upserts (src/workflows/messages.ts).
SEARCH_ATTRIBUTES="DeploymentId DeploymentPhase DeploymentStatus"

tries=0
until temporal operator cluster health --address "$ADDRESS"; do
  tries=$((tries + 1))
  if [ "$tries" -ge 30 ]; then
    echo "Temporal at $ADDRESS is not healthy after $tries tries" >&2
    exit 1
  fi
  sleep 2
done

if temporal operator namespace describe --address "$ADDRESS" --namespace "$NAMESPACE" >/dev/null 2>&1; then
  echo "namespace $NAMESPACE: exists"
else
  echo "namespace $NAMESPACE: create (retention $RETENTION)"
  temporal operator namespace create --address "$ADDRESS" --namespace "$NAMESPACE" --retention "$RETENTION"
fi

# A new namespace reaches every frontend's cache some seconds after it is created; until then the
# server answers "namespace not found".
tries=0
until registered="$(temporal operator search-attribute list --address "$ADDRESS" --namespace "$NAMESPACE")"; do
  tries=$((tries + 1))
  if [ "$tries" -ge 30 ]; then
    echo "namespace $NAMESPACE is not served after $tries tries" >&2
    exit 1
  fi
  sleep 1
done
for name in $SEARCH_ATTRIBUTES; do
  if printf '%s\n' "$registered" | grep -qw "$name"; then
    echo "search attribute $name: exists"
  else
    echo "search attribute $name: create (Keyword)"
    temporal operator search-attribute create --address "$ADDRESS" --namespace "$NAMESPACE" \
      --name "$name" --type Keyword
  fi
done
echo "namespace setup complete"
