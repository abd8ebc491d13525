#!/usr/bin/env bash
# Registers the deployment search attributes on a Temporal server that did not get them at start
# (the embedded dev server gets them with --search-attribute). Uses TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE.
# Safe to run again: an attribute that exists already is left as it is.
set -euo pipefail
temporal=$("$(dirname "$0")/install-temporal.sh")
for name in DeploymentId DeploymentPhase DeploymentStatus; do
  if "$temporal" operator search-attribute list -o json | grep -q "\"$name\""; then
    echo "$name already registered"
  # A server may list an attribute created a moment ago only later, and refuses to create it again.
  elif out=$("$temporal" operator search-attribute create --name "$name" --type Keyword 2>&1); then
    echo "$name registered"
  elif printf '%s\n' "$out" | grep -qi 'already'; then
    echo "$name already registered"
  else
    printf '%s\n' "$out" >&2
    exit 1
  fi
done
