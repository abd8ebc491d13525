#!/usr/bin/env bash
# Finds or builds the pinned real tools that judge what the phases hand to helm, kubectl, az and k0sctl
# (npm run test:real-tools), and kube-types, Kubernetes' own API types as a manifest checker. Each lives
# in ${K0RDENT_TOOLS_CACHE:-$HOME/.cache/k0rdent-deploy}/<tool>-<version>/ and is reused while it is
# there. Prints one line per tool on stdout, `<tool> <version> <path>`, or
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

# Builds a throwaway main module (main.go on stdin) needing the modules given after the ldflags, into
# <dir>/<name>.
build_module() {
  local name=$1 dir=$2 ldflags=$3 tmp
  shift 3
  tmp=$(mktemp -d "$cache/.$name.XXXXXX")
  mkdir "$tmp/src"
  cat >"$tmp/src/main.go"
  printf 'module %s\n\ngo 1.24\n' "$name" >"$tmp/src/go.mod"
  (
    cd "$tmp/src"
    go get "$@" >&2
    go mod tidy >&2
    nice -n 19 go build -o "$tmp/$name" -ldflags "$ldflags" . >&2
  )
  rm -rf "$tmp/src"
  finish "$tmp" "$dir"
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
  # kubectl's own command tree (k8s.io/kubectl/pkg/cmd) run the way its upstream main runs it.
  build_module kubectl "$kubectl_dir" \
    "-X k8s.io/component-base/version.gitVersion=$KUBECTL_VERSION -X k8s.io/client-go/pkg/version.gitVersion=$KUBECTL_VERSION" \
    "k8s.io/kubectl@$KUBECTL_MODULE_VERSION" "k8s.io/component-base@$KUBECTL_MODULE_VERSION" <<'EOF'
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
fi
echo "kubectl $KUBECTL_VERSION $kubectl_dir/kubectl"

# Kubernetes' own API types (k8s.io/api through client-go's scheme), decoding strictly as an API server
# with field validation does: `kubectl apply --validate=false` checks no field, and no server runs here.
types_dir=$cache/kube-types-$KUBECTL_MODULE_VERSION
if [ ! -x "$types_dir/kube-types" ]; then
  echo "building kube-types from k8s.io/client-go $KUBECTL_MODULE_VERSION (once; cached in $types_dir)" >&2
  # Reads a YAML stream; prints `<apiVersion> <kind> <name>: ok|not built in|<error>` per document and
  # exits 1 when a document of a built-in kind does not decode strictly.
  build_module kube-types "$types_dir" "" \
    "k8s.io/client-go@$KUBECTL_MODULE_VERSION" "k8s.io/apimachinery@$KUBECTL_MODULE_VERSION" <<'GO'
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"
)

type header struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
}

func main() {
	decoder := serializer.NewCodecFactory(scheme.Scheme, serializer.EnableStrict).UniversalDeserializer()
	reader := utilyaml.NewYAMLReader(bufio.NewReader(os.Stdin))
	failed := false
	for {
		doc, err := reader.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Printf("stream: %v\n", err)
			os.Exit(1)
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		var h header
		if err := yaml.Unmarshal(doc, &h); err != nil {
			fmt.Printf("document: %v\n", err)
			failed = true
			continue
		}
		label := fmt.Sprintf("%s %s %s", h.APIVersion, h.Kind, h.Metadata.Name)
		if !scheme.Scheme.Recognizes(schema.FromAPIVersionAndKind(h.APIVersion, h.Kind)) {
			fmt.Printf("%s: not built in\n", label)
			continue
		}
		if _, _, err := decoder.Decode(doc, nil, nil); err != nil {
			fmt.Printf("%s: %v\n", label, err)
			failed = true
			continue
		}
		fmt.Printf("%s: ok\n", label)
	}
	if failed {
		os.Exit(1)
	}
}
GO
fi
echo "kube-types $KUBECTL_MODULE_VERSION $types_dir/kube-types"

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
