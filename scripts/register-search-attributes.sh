#!/usr/bin/env bash
# Registers the deployment search attributes on a Temporal server that did not get them at start
# (the embedded dev server gets them with --search-attribute). Uses TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE.
set -euo pipefail
temporal=$("$(dirname "$0")/install-temporal.sh")
for name in DeploymentId DeploymentPhase DeploymentStatus; do
  if "$temporal" operator search-attribute list -o json | grep -q "\"$name\""; then
    echo "$name already registered"
  else
    "$temporal" operator search-attribute create --name "$name" --type Keyword --yes
  fi
done
