#!/usr/bin/env bash
# Finds or builds the pinned real tools that judge what the phases hand to helm, kubectl, az and k0sctl
# (npm run test:real-tools). Each lives in ${K0RDENT_TOOLS_CACHE:-$HOME/.cache/k0rdent-deploy}/<tool>-<version>/
# and is reused while it is there. Prints one line per tool on stdout, `<tool> <version> <path>`, or
# `<tool> <version> - <why it cannot be had>`; progress goes to stderr.
set -euo pipefail
cache=${K0RDENT_TOOLS_CACHE:-$HOME/.cache/k0rdent-deploy}
mkdir -p "$cache"

HELM_VERSION=v3.21.4
# kubectl is built from the k8s.io/kubectl library at the k8s.io release helm's module pins (v0.36.x),
# so the two builds share the Go build cache.
KUBECTL_MODULE_VERSION=v0.36.2
KUBECTL_VERSION=v1.36.2
AZ_VERSION=2.91.0
K0SCTL_VERSION=v0.25.1

# Moves a finished build into place so a half-built tool is never taken for a cached one.
finish() {
  rm -rf "$2"
  mv "$1" "$2"
}

helm_dir=$cache/helm-$HELM_VERSION
if [ ! -x "$helm_dir/helm" ]; then
  echo "building helm $HELM_VERSION with go install (once; cached in $helm_dir)" >&2
  tmp=$(mktemp -d "$cache/.helm.XXXXXX")
  GOBIN=$tmp nice -n 19 go install -ldflags "-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" \
    "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
  finish "$tmp" "$helm_dir"
fi
echo "helm $HELM_VERSION $helm_dir/helm"

kubectl_dir=$cache/kubectl-$KUBECTL_VERSION
if [ ! -x "$kubectl_dir/kubectl" ]; then
  echo "building kubectl $KUBECTL_VERSION from k8s.io/kubectl $KUBECTL_MODULE_VERSION (once; cached in $kubectl_dir)" >&2
  tmp=$(mktemp -d "$cache/.kubectl.XXXXXX")
  mkdir "$tmp/src"
  # kubectl's own command tree (k8s.io/kubectl/pkg/cmd) run the way its upstream main runs it.
  cat >"$tmp/src/main.go" <<'EOF'
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/kubectl/pkg/cmd"
)

func main() {
	os.Exit(cli.Run(cmd.NewDefaultKubectlCommand()))
}
EOF
  printf 'module kubectl-build\n\ngo 1.24\n' >"$tmp/src/go.mod"
  (
    cd "$tmp/src"
    go get "k8s.io/kubectl@$KUBECTL_MODULE_VERSION" "k8s.io/component-base@$KUBECTL_MODULE_VERSION" >&2
    go mod tidy >&2
    nice -n 19 go build -o "$tmp/kubectl" \
      -ldflags "-X k8s.io/component-base/version.gitVersion=$KUBECTL_VERSION -X k8s.io/client-go/pkg/version.gitVersion=$KUBECTL_VERSION" . >&2
  )
  rm -rf "$tmp/src"
  finish "$tmp" "$kubectl_dir"
fi
echo "kubectl $KUBECTL_VERSION $kubectl_dir/kubectl"

# A virtualenv records its own path in its scripts, so it is built in place and marked when complete.
az_dir=$cache/azure-cli-$AZ_VERSION
if [ ! -f "$az_dir/.complete" ]; then
  echo "installing azure-cli $AZ_VERSION from PyPI (once; cached in $az_dir)" >&2
  rm -rf "$az_dir"
  python3 -m venv "$az_dir"
  nice -n 19 "$az_dir/bin/pip" install --quiet --disable-pip-version-check "azure-cli==$AZ_VERSION" >&2
  touch "$az_dir/.complete"
fi
echo "az $AZ_VERSION $az_dir/bin/az"

k0sctl_dir=$cache/k0sctl-$K0SCTL_VERSION
if [ ! -x "$k0sctl_dir/k0sctl" ]; then
  tmp=$(mktemp -d "$cache/.k0sctl.XXXXXX")
  if out=$(GOBIN=$tmp nice -n 19 go install "github.com/k0sproject/k0sctl@$K0SCTL_VERSION" 2>&1); then
    finish "$tmp" "$k0sctl_dir"
  else
    rm -rf "$tmp"
    echo "k0sctl $K0SCTL_VERSION - go install github.com/k0sproject/k0sctl@$K0SCTL_VERSION: $(echo "$out" | tr '\n\t' '  ' | sed 's/  */ /g')"
    exit 0
  fi
fi
echo "k0sctl $K0SCTL_VERSION $k0sctl_dir/k0sctl"
