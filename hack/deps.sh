#!/usr/bin/env bash
# Installs what netposture needs to build and test, only what is missing; safe to run twice.
#   - Debian packages: compilers, -dev libraries, Criterion, lint tools, and mmdebstrap, umoci
#     and skopeo for the container image (make image), Lua 5.1 for the Argo CD health checks
#   - kube-apiserver, etcd and a matching kubectl built from the Go module proxy
#     (hack/build-kube.sh, cached by version; the dev env puts them first on PATH)
#   - moto_server, the aws CLI and prometheus_client (the e2e /metrics parser) (pip, pinned)
# Fails with a message naming the missing piece; never skips silently.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

MOTO_VERSION=5.2.1
AWSCLI_VERSION=1.45.11
PROMETHEUS_CLIENT_VERSION=0.26.0

say() { echo "deps: $*" >&2; }
die() { echo "deps: ERROR: $*" >&2; exit 1; }

apt_pkgs=(build-essential pkg-config libcurl4-openssl-dev libssl-dev libjson-c-dev libyaml-dev
          libexpat1-dev libwebsockets-dev zlib1g-dev libcriterion-dev clang clang-format cppcheck
          libclang-rt-14-dev openssl curl ca-certificates python3
          mmdebstrap umoci skopeo lua5.1)
missing=()
for p in "${apt_pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    sudo_cmd=()
    [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null || die "apt-get install ${missing[*]} failed"
fi

# libFuzzer (make fuzz, the fuzz smoke of make test): clang's -fsanitize=fuzzer needs the
# compiler-rt of the same clang version (Debian 12: clang 14, libclang-rt-14-dev).
fuzz_cc=${FUZZ_CC:-clang}
fuzz_probe() {
    printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n);\nint LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' |
        "$fuzz_cc" -x c -fsanitize=fuzzer,address,undefined -o /dev/null - >/dev/null 2>&1
}
if ! fuzz_probe; then
    major=$("$fuzz_cc" -dumpversion 2>/dev/null | cut -d. -f1)
    [ -n "$major" ] || die "$fuzz_cc is missing (needed for the fuzz targets)"
    say "installing libclang-rt-$major-dev (libFuzzer for $fuzz_cc $major)"
    sudo_cmd=()
    [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
        "libclang-rt-$major-dev" >/dev/null || die "apt-get install libclang-rt-$major-dev failed"
    fuzz_probe || die "$fuzz_cc cannot link a libFuzzer target (-fsanitize=fuzzer)"
fi

# Python tools: the image ships moto and awscli in its pyenv; install the pinned versions if missing.
py=$(command -v python3) || die "python3 is missing"
if ! "$py" -c 'import moto.server, flask, werkzeug' 2>/dev/null; then
    say "installing moto[server]==$MOTO_VERSION"
    "$py" -m pip install -q "moto[server]==$MOTO_VERSION" || die "pip install moto[server] failed"
fi
# PyYAML: make lint's CRD checks (hack/check-crd-descriptions.py, hack/gen-api-docs.py) and the
# e2e docs examples check; moto and awscli depend on it, so it is normally there already.
if ! "$py" -c 'import yaml' 2>/dev/null; then
    say "installing PyYAML"
    "$py" -m pip install -q PyYAML || die "pip install PyYAML failed"
fi
# prometheus_client: its text-format parser reads /metrics in the e2e suite (tests/e2e/metrics_check.py).
if ! "$py" -c 'import prometheus_client.parser' 2>/dev/null; then
    say "installing prometheus-client==$PROMETHEUS_CLIENT_VERSION"
    "$py" -m pip install -q "prometheus-client==$PROMETHEUS_CLIENT_VERSION" || die "pip install prometheus-client failed"
fi
if ! command -v aws >/dev/null 2>&1; then
    say "installing awscli==$AWSCLI_VERSION"
    "$py" -m pip install -q "awscli==$AWSCLI_VERSION" || die "pip install awscli failed"
    hash -r
fi
command -v aws >/dev/null 2>&1 || die "the aws CLI is not on PATH after installing it"
command -v go >/dev/null 2>&1 || die "the Go toolchain is missing (needed to build kube-apiserver and etcd)"

bin_dir=$("$here/build-kube.sh")
for b in kube-apiserver etcd kubectl; do
    [ -x "$bin_dir/$b" ] || die "$b missing in $bin_dir"
done
say "ok (kube binaries in $bin_dir)"
