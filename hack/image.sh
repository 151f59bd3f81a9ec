#!/usr/bin/env bash
# `make image`: the controller's OCI image, built offline from Debian packages with no container
# registry and no daemon:
#   1. mmdebstrap (variant extract: no shell, no package manager, no Essential set) unpacks only
#      the runtime libraries the binaries link (and their dependencies) from the Debian mirror
#      this machine's apt sources name, for this machine's release;
#   2. this script adds bin/netposture-controller and bin/netposturectl under /usr/local/bin,
#      the CA bundle (what update-ca-certificates would write, without running it), /etc/passwd
#      and /etc/group entries for the numeric user 65532 and an empty /tmp, and packs the tree;
#   3. umoci packs the tarball as the image's one layer and writes its config (user 65532:65532,
#      entrypoint, OCI annotations and labels: version, revision, source, created);
#   4. skopeo exports it as build/image/netposture-<version>.oci.tar (OCI archive) and
#      build/image/netposture-<version>.tar (docker-archive, for `docker load`/`ctr import`).
# SOURCE_DATE_EPOCH (default: the commit time of HEAD) fixes every timestamp, so two builds of
# the same tree give the same image digest (tests/e2e/test_image.sh checks it).
# Usage: hack/image.sh [OUT_DIR]; prints the image digest last.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$repo/build/image}
say() { echo "image: $*" >&2; }
die() { echo "image: ERROR: $*" >&2; exit 1; }

for tool in mmdebstrap umoci skopeo; do
    command -v "$tool" >/dev/null || die "$tool is missing (run make deps)"
done
for b in netposture-controller netposturectl; do
    [ -x "$repo/bin/$b" ] || die "bin/$b is missing (run make)"
done

version=${NP_VERSION:-$(git -C "$repo" describe --tags --always 2>/dev/null || echo dev)}
revision=$(git -C "$repo" rev-parse HEAD 2>/dev/null || echo unknown)
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$repo" log -1 --format=%ct 2>/dev/null || echo 0)}
created=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
source_url=${NP_SOURCE_URL:-https://github.com/netposture/netposture}
user=65532

# The machine's release and the mirrors its apt sources name (one-line and deb822 formats); the
# image gets the same packages the binaries were built against.
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
[ -n "$codename" ] || die "no VERSION_CODENAME in /etc/os-release"
mirrors=$(python3 - "$codename" <<'PY'
import glob, sys
codename = sys.argv[1]
lines = []
def add(uri, suite, comps):
    if suite.startswith(codename) and "main" in comps:
        line = "deb %s %s main" % (uri.rstrip("/"), suite)
        if line not in lines:
            lines.append(line)
for path in ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list")):
    try:
        text = open(path).read()
    except OSError:
        continue
    for raw in text.splitlines():
        parts = raw.split("#", 1)[0].split()
        if parts[:1] != ["deb"]:
            continue
        parts = [p for p in parts[1:] if not p.startswith("[")]
        if len(parts) >= 3:
            add(parts[0], parts[1], parts[2:])
for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
    for stanza in open(path).read().split("\n\n"):
        f = {}
        for raw in stanza.splitlines():
            if ":" in raw and not raw.startswith((" ", "#")):
                k, v = raw.split(":", 1)
                f[k.strip().lower()] = v.split()
        if "deb" not in f.get("types", []) or f.get("enabled", ["yes"])[0] == "no":
            continue
        for uri in f.get("uris", []):
            for suite in f.get("suites", []):
                add(uri, suite, f.get("components", []))
print("\n".join(lines))
PY
)
[ -n "$mirrors" ] || die "no Debian mirror for $codename in the apt sources"
mapfile -t mirror_args <<<"$mirrors"

packages=libcurl4,libssl3,libjson-c5,libyaml-0-2,libexpat1,libwebsockets17,zlib1g,libcap2,ca-certificates
work=$(mktemp -d "${TMPDIR:-/tmp}/np-image.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"

say "rootfs: $codename, $packages (SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH)"
# The extract variant runs no hooks: the rootfs is a directory, finished here and then packed
# into a tarball whose order, owners and times are fixed (reproducible).
rootfs="$work/rootfs"
mmdebstrap --quiet --variant=extract --include="$packages" --format=directory \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    "$codename" "$rootfs" "${mirror_args[@]}" >&2
install -d -m 0755 "$rootfs/usr/local/bin" "$rootfs/etc/ssl/certs"
install -d -m 1777 "$rootfs/tmp"
install -m 0755 "$repo/bin/netposture-controller" "$repo/bin/netposturectl" "$rootfs/usr/local/bin/"
# What update-ca-certificates would write (the image has no shell to run it).
cat "$rootfs"/usr/share/ca-certificates/mozilla/*.crt >"$rootfs/etc/ssl/certs/ca-certificates.crt"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%s:%s:nonroot:/nonexistent:/sbin/nologin\n' \
    "$user" "$user" >"$rootfs/etc/passwd"
printf 'root:x:0:\nnonroot:x:%s:\n' "$user" >"$rootfs/etc/group"
rm -rf "$rootfs/var/lib/apt/lists"/* "$rootfs/var/cache/apt"/* "$rootfs/var/log"/* \
    "$rootfs/usr/share/doc" "$rootfs/usr/share/man" "$rootfs/usr/share/locale"
tar --sort=name --mtime="@$SOURCE_DATE_EPOCH" --clamp-mtime --owner=0 --group=0 --numeric-owner \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
    -C "$rootfs" -cf "$work/rootfs.tar" .

say "packing with umoci"
layout="$work/oci"
tag=$version
umoci init --layout "$layout"
umoci new --image "$layout:$tag"
umoci raw add-layer --image "$layout:$tag" --history.created "$created" \
    --history.created_by "hack/image.sh: mmdebstrap $codename ($packages) + bin/" "$work/rootfs.tar"
labels=(
    "org.opencontainers.image.title=netposture"
    "org.opencontainers.image.description=Kubernetes operator keeping AWS network posture converged"
    "org.opencontainers.image.version=$version"
    "org.opencontainers.image.revision=$revision"
    "org.opencontainers.image.source=$source_url"
    "org.opencontainers.image.created=$created"
)
cfg=(--created "$created" --author "netposture" --config.user "$user:$user"
     --config.entrypoint /usr/local/bin/netposture-controller --config.workingdir /
     --config.env "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt" --clear=config.cmd
     --history.created "$created" --history.created_by "hack/image.sh: config")
for l in "${labels[@]}"; do cfg+=(--config.label "$l" --manifest.annotation "$l"); done
umoci config --image "$layout:$tag" "${cfg[@]}"
umoci gc --layout "$layout"

oci_tar="$out/netposture-$version.oci.tar"
docker_tar="$out/netposture-$version.tar"
rm -f "$oci_tar" "$docker_tar"
skopeo --insecure-policy copy --quiet "oci:$layout:$tag" "oci-archive:$oci_tar:$tag"
skopeo --insecure-policy copy --quiet "oci:$layout:$tag" \
    "docker-archive:$docker_tar:netposture/netposture-controller:$version"
digest=$(skopeo inspect --format '{{.Digest}}' "oci:$layout:$tag")
size=$(python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))
print(sum(l["size"] for l in m["layers"]))' "$(python3 -c '
import json, sys
i = json.load(open(sys.argv[1] + "/index.json"))
print(sys.argv[1] + "/blobs/" + i["manifests"][0]["digest"].replace(":", "/"))' "$layout")")
say "built $oci_tar and $docker_tar: $((size / 1024)) KiB compressed, digest $digest"
printf '%s\n' "$digest" >"$out/netposture-$version.digest"
echo "$digest"
