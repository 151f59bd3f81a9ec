#!/usr/bin/env bash
# Builds a real kube-apiserver, etcd and a matching kubectl from the Go module proxy (hack/kubebins wrapper
# module) and caches them outside the work tree, keyed by version, so a second run costs
# nothing. Prints the cache directory on success.
#   hack/build-kube.sh            build if missing, print the bin dir
#   hack/build-kube.sh --print    print the bin dir only (no build)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
mod="$here/kubebins"
k8s_version=$(awk '$1=="k8s.io/kubernetes"{print $2; exit}' "$mod/go.mod")
etcd_version=$(awk '$1=="go.etcd.io/etcd/server/v3"{print $2; exit}' "$mod/go.mod")
# The key covers both versions and the wrapper's go.sum, so any pin change rebuilds.
sum=$(cat "$mod/go.mod" "$mod/go.sum" | sha256sum | cut -c1-12)
cache_root=${NP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/netposture}
bin_dir="$cache_root/kube/${k8s_version}-etcd-${etcd_version}-${sum}"

if [ "${1:-}" = "--print" ]; then
    echo "$bin_dir"
    exit 0
fi

if [ -x "$bin_dir/kube-apiserver" ] && [ -x "$bin_dir/etcd" ] && [ -x "$bin_dir/kubectl" ]; then
    echo "$bin_dir"
    exit 0
fi

command -v go >/dev/null || { echo "build-kube: the Go toolchain is missing (needed to build kube-apiserver and etcd)" >&2; exit 1; }

minor=${k8s_version#v1.}
minor=${minor%%.*}
tmp="$bin_dir.tmp.$$"
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=readonly
cd "$mod"
echo "build-kube: building kube-apiserver $k8s_version and etcd $etcd_version (first time only; several minutes)" >&2
start=$(date +%s)
version_ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$k8s_version \
    -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor \
    -X k8s.io/component-base/version.gitTreeState=clean"
go build -trimpath -o "$tmp/kube-apiserver" -ldflags "$version_ldflags" k8s.io/kubernetes/cmd/kube-apiserver
# kubectl at the server's version, so the user's hands in tests have no version skew.
go build -trimpath -o "$tmp/kubectl" -ldflags "$version_ldflags" k8s.io/kubernetes/cmd/kubectl
go build -trimpath -o "$tmp/etcd" \
    -ldflags "-s -w" \
    go.etcd.io/etcd/server/v3
echo "build-kube: built in $(( $(date +%s) - start ))s" >&2
"$tmp/kube-apiserver" --version >&2
mkdir -p "$cache_root/kube"
rm -rf "$bin_dir"
mv "$tmp" "$bin_dir"
trap - EXIT
echo "$bin_dir"
