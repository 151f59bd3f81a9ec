#!/usr/bin/env bash
# Builds a real kube-apiserver, etcd and a matching kubectl from the Go module proxy (hack/kubebins wrapper
# module) and caches them outside the work tree, keyed by version, so a second run costs
# nothing. Prints the cache directory on success.
#   hack/build-kube.sh                 build if missing, print the bin dir
#   hack/build-kube.sh --with-node     the same, and the kubelet and kube-controller-manager of the same version
#                                      (hack/node.sh)
#   hack/build-kube.sh --print         print the bin dir only (no build)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
mod="$here/kubebins"
k8s_version=$(awk '$1=="k8s.io/kubernetes"{print $2; exit}' "$mod/go.mod")
etcd_version=$(awk '$1=="go.etcd.io/etcd/server/v3"{print $2; exit}' "$mod/go.mod")
# The key covers both versions and the wrapper's go.sum, so any pin change rebuilds.
sum=$(cat "$mod/go.mod" "$mod/go.sum" | sha256sum | cut -c1-12)
cache_root=${NP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/netposture}
bin_dir="$cache_root/kube/${k8s_version}-etcd-${etcd_version}-${sum}"

want=(kube-apiserver kubectl etcd)
case "${1:-}" in
--print) echo "$bin_dir"; exit 0 ;;
--with-node) want+=(kubelet kube-controller-manager) ;;
"") ;;
*) echo "usage: $0 [--print|--with-node]" >&2; exit 2 ;;
esac

missing=()
for b in "${want[@]}"; do
    [ -x "$bin_dir/$b" ] || missing+=("$b")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "$bin_dir"
    exit 0
fi

command -v go >/dev/null || { echo "build-kube: the Go toolchain is missing (needed to build kube-apiserver and etcd)" >&2; exit 1; }

minor=${k8s_version#v1.}
minor=${minor%%.*}
# Each binary is built into a temporary name in the cache directory and renamed into place, so
# an interrupted build never leaves a binary that looks complete (the kubelet is added to a
# directory that already holds the others).
mkdir -p "$bin_dir"
tmp="$bin_dir/.tmp.$$"
trap 'rm -f "$tmp"' EXIT

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=readonly
cd "$mod"
echo "build-kube: building ${missing[*]} ($k8s_version, etcd $etcd_version; first time only, several minutes)" >&2
start=$(date +%s)
version_ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$k8s_version \
    -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor \
    -X k8s.io/component-base/version.gitTreeState=clean"
for b in "${missing[@]}"; do
    case "$b" in
    # kubectl at the server's version, so the user's hands in tests have no version skew.
    kube-apiserver | kubectl | kubelet | kube-controller-manager)
        go build -trimpath -o "$tmp" -ldflags "$version_ldflags" "k8s.io/kubernetes/cmd/$b" ;;
    etcd)
        go build -trimpath -o "$tmp" -ldflags "-s -w" go.etcd.io/etcd/server/v3 ;;
    esac
    mv -f "$tmp" "$bin_dir/$b"
done
echo "build-kube: built in $(( $(date +%s) - start ))s" >&2
"$bin_dir/kube-apiserver" --version >&2
echo "$bin_dir"
