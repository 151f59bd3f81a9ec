# The container image (hack/image.sh, `make image`): built offline from Debian packages, twice
# with the same digest; a numeric non-root user, no shell, OCI labels; and the controller in it
# runs: its rootfs, chrooted as user 65532 on the host's loopback network, reconciles a posture
# against the real apiserver and moto (TLS to the apiserver through the image's own libraries).
# shellcheck shell=bash

# image_build <dir>: builds into dir; prints the digest.
image_build() {
    "$E2E_REPO/hack/image.sh" "$1" 2>>"$E2E_TEST_DIR/image.log" | tail -n 1
}

image_oci_tar() { ls "$1"/netposture-*.oci.tar; }

# image_config <oci-tar> <python-expression over c (the config)>
image_config() {
    skopeo inspect --config "oci-archive:$1" | python3 -c "import json,sys; c=json.load(sys.stdin); print($2)"
}

# image_unpack <oci-tar> <rootfs>: the image's one layer, extracted as root would (owners kept).
image_unpack() {
    local tmp=$E2E_TEST_DIR/oci
    mkdir -p "$tmp" "$2"
    tar -xf "$1" -C "$tmp"
    python3 - "$tmp" <<'PY' | while read -r layer; do tar -xzf "$tmp/blobs/sha256/$layer" -C "$2"; done
import json, sys
d = sys.argv[1]
idx = json.load(open(d + "/index.json"))
man = json.load(open(d + "/blobs/sha256/" + idx["manifests"][0]["digest"].split(":")[1]))
for l in man["layers"]:
    print(l["digest"].split(":")[1])
PY
}

test_image_is_reproducible_minimal_and_labelled() {
    local a b tar
    a=$(image_build "$E2E_TEST_DIR/a") || fail "the first build failed (see image.log)" || return 1
    b=$(image_build "$E2E_TEST_DIR/b") || fail "the second build failed (see image.log)" || return 1
    assert_contains "$a" "sha256:" "the first build's digest" || return 1
    assert_eq "$b" "$a" "the digest of a second build of the same tree" || return 1
    tar=$(image_oci_tar "$E2E_TEST_DIR/a")
    assert_eq "$(image_config "$tar" 'c["config"]["User"]')" "65532:65532" "the image's user" || return 1
    assert_eq "$(image_config "$tar" 'c["config"]["Entrypoint"]')" "['/usr/local/bin/netposture-controller']" "the entrypoint" || return 1
    assert_eq "$(image_config "$tar" 'c["config"]["Labels"]["org.opencontainers.image.revision"]')" \
        "$(git -C "$E2E_REPO" rev-parse HEAD)" "the revision label" || return 1
    image_config "$tar" 'c["config"]["Labels"]["org.opencontainers.image.version"]' | grep -q . \
        || fail "no version label" || return 1
    [ -s "$E2E_TEST_DIR/a/netposture-$(image_config "$tar" 'c["config"]["Labels"]["org.opencontainers.image.version"]').tar" ] \
        || fail "no docker-archive beside the OCI archive" || return 1
    image_unpack "$tar" "$E2E_TEST_DIR/rootfs" || return 1
    local r=$E2E_TEST_DIR/rootfs
    [ -x "$r/usr/local/bin/netposture-controller" ] && [ -x "$r/usr/local/bin/netposturectl" ] \
        || fail "the binaries are not in the image" || return 1
    [ -s "$r/etc/ssl/certs/ca-certificates.crt" ] || fail "no CA bundle in the image" || return 1
    local sh
    for sh in bin/sh bin/bash bin/dash usr/bin/sh usr/bin/bash usr/bin/dash usr/bin/apt usr/bin/dpkg; do
        [ ! -e "$r/$sh" ] || fail "the image has $sh" || return 1
    done
}

test_image_runs_the_controller_as_nonroot() {
    local tar ns r=$E2E_TEST_DIR/rootfs pki
    image_build "$E2E_TEST_DIR/img" >/dev/null || fail "the build failed (see image.log)" || return 1
    tar=$(image_oci_tar "$E2E_TEST_DIR/img")
    image_unpack "$tar" "$r" || return 1
    # The controller's kubeconfig and its certificates, at paths inside the rootfs.
    pki=$(dirname "$NP_CONTROLLER_TOKEN_FILE")
    mkdir -p "$r/etc/netposture"
    cp "$pki/ca.crt" "$pki/controller.crt" "$pki/controller.key" "$r/etc/netposture/"
    sed "s#$pki/#/etc/netposture/#g" "$NP_CONTROLLER_KUBECONFIG" >"$r/etc/netposture/kubeconfig"
    chown -R 65532:65532 "$r/etc/netposture"
    cat >"$E2E_TEST_DIR/in-image" <<SH
#!/bin/sh
exec chroot --userspec=65532:65532 "$r" /usr/local/bin/netposture-controller "\$@"
SH
    chmod +x "$E2E_TEST_DIR/in-image"
    ns=$(new_namespace image)
    ensure_account default
    E2E_CONTROLLER_BIN=$E2E_TEST_DIR/in-image NP_CONTROLLER_KUBECONFIG=/etc/netposture/kubeconfig \
        start_controller --namespace "$ns" --resync-interval 2s --workers 2
    apply_web "$ns"
    k wait --for=condition=Ready --timeout=90s sgp/web -n "$ns" >/dev/null \
        || fail "the posture did not become Ready with the controller from the image" || return 1
    local uid
    uid=$(awk '/^Uid:/ {print $2}' "/proc/$E2E_CONTROLLER_PID/status" 2>/dev/null || true)
    assert_eq "$uid" 65532 "the controller's uid (from /proc)" || return 1
}
