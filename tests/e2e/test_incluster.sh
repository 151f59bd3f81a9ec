# The controller as a user runs it: the image (make image) imported into a real node's containerd
# (hack/node.sh: containerd + runc, a kubelet, the kube-controller-manager controllers), and
# `kubectl apply -k` of an overlay of manifests/ (tests/e2e/incluster). Checked from outside, as a
# user would: the pods become Ready through their /readyz probe; the controller authenticates
# with the service-account token the kubelet projected (the audit log names the pod); a sample
# posture converges in moto; `kubectl logs` shows JSON lines; /metrics answers on the metrics
# Service's endpoint addresses; the container process runs as uid 65532 with no capabilities on a
# read-only root filesystem (/proc of the host); `kubectl rollout restart` hands over the Lease
# with never two writers. The host is compared before `hack/node.sh up` and after `down`.
# shellcheck shell=bash

INCLUSTER_NS=netposture-system
INCLUSTER_DEPLOY=deploy/netposture-controller
INCLUSTER_SA_USER=system:serviceaccount:netposture-system:netposture-controller

# incluster_missing: what this machine lacks that no package can give (printed; empty if none).
incluster_missing() {
    if [ "$(id -u)" -ne 0 ]; then
        echo "root (containerd, runc, cgroups and network namespaces need it)"
        return
    fi
    if ! awk '$9 == "cgroup" || $9 == "cgroup2" {found=1} END {exit !found}' /proc/self/mountinfo; then
        echo "a mounted cgroup hierarchy"
        return
    fi
    grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null || {
        echo "overlayfs in the kernel (containerd's snapshotter)"
        return
    }
    if ! ip link add np-probe0 type bridge 2>/dev/null; then
        echo "bridge interfaces (kernel support or CAP_NET_ADMIN)"
        return
    fi
    ip link del np-probe0 2>/dev/null || true
}

# The image archive to import: $E2E_IMAGE_TAR, else make image's when it holds the binary built
# now, else one built here with hack/image.sh.
incluster_image_tar() {
    local tar=${E2E_IMAGE_TAR:-}
    if [ -z "$tar" ]; then
        local version
        version=$(git -C "$E2E_REPO" describe --tags --always 2>/dev/null || echo dev)
        tar="$E2E_REPO/build/image/netposture-$version.tar"
        if [ ! -s "$tar" ] || [ "$tar" -ot "$E2E_REPO/bin/netposture-controller" ]; then
            echo "building the image (hack/image.sh)" >&2
            "$E2E_REPO/hack/image.sh" "$E2E_TEST_DIR/image" >>"$E2E_TEST_DIR/image.log" 2>&1 \
                || fail "hack/image.sh failed (see image.log)" || return 1
            local f
            for f in "$E2E_TEST_DIR"/image/netposture-*.tar; do
                case "$f" in *.oci.tar) ;; *) tar=$f ;; esac
            done
        fi
    fi
    [ -s "$tar" ] || fail "no image archive ($tar)" || return 1
    printf '%s\n' "$tar"
}

# The image reference inside a docker-archive (what ctr import names it).
image_ref_of() {
    tar -xOf "$1" manifest.json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["RepoTags"][0])'
}

incluster_ctr() { ctr --address "$NP_NODE_CONTAINERD_ADDRESS" -n k8s.io "$@"; }

controller_pods() { # the controller's pod names, one a line
    k get pods -n "$INCLUSTER_NS" -l app.kubernetes.io/name=netposture \
        -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}'
}

ready_pods_are() { # ready_pods_are <n>: exactly n pods, all Ready, none terminating
    local out
    out=$(k get pods -n "$INCLUSTER_NS" -l app.kubernetes.io/name=netposture -o json | python3 -c '
import json, sys
items = json.load(sys.stdin)["items"]
ok = all(not p["metadata"].get("deletionTimestamp") and any(
    c["type"] == "Ready" and c["status"] == "True" for c in p.get("status", {}).get("conditions", []))
    for p in items)
print(len(items) if ok else -1)')
    [ "$out" = "$1" ]
}

lease_holder() {
    k get lease netposture-controller -n "$INCLUSTER_NS" -o jsonpath='{.spec.holderIdentity}' 2>/dev/null
}

# container_pid <pod>: the host pid of the pod's controller container (containerd's task).
container_pid() {
    local id
    id=$(k get pod "$1" -n "$INCLUSTER_NS" -o jsonpath='{.status.containerStatuses[0].containerID}')
    id=${id#containerd://}
    [ -n "$id" ] || return 1
    incluster_ctr tasks ls | awk -v id="$id" '$1 == id {print $2}'
}

# audit_writers <namespace> [since-rfc3339]: "stageTimestamp pod-name username" of every write to
# netposture.dev objects in the namespace but the test's own (user admin), in time order.
audit_writers() {
    python3 - "$NP_AUDIT_LOG" "$1" "${2:-}" <<'PY'
import json, sys
path, ns, since = sys.argv[1:4]
rows = []
for line in open(path):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    o = e.get("objectRef", {})
    if o.get("apiGroup") != "netposture.dev" or o.get("namespace") != ns:
        continue
    if e.get("verb") not in ("create", "update", "patch", "delete") or e.get("stage") != "ResponseComplete":
        continue
    if e.get("user", {}).get("username") == "admin":  # the test's own kubectl
        continue
    if since and e["stageTimestamp"] < since:
        continue
    u = e.get("user", {})
    pod = (u.get("extra", {}).get("authentication.kubernetes.io/pod-name") or ["-"])[0]
    rows.append((e["stageTimestamp"], pod, u.get("username", "-")))
for r in sorted(rows):
    print(*r)
PY
}

# The sample posture (manifests/samples/securitygroupposture-web.yaml) in namespace ns, with a
# group name of its own (moto is shared by the whole suite).
apply_sample() { # apply_sample <ns> [extra tag value]
    python3 - "$E2E_REPO/manifests/samples/securitygroupposture-web.yaml" "$1" "${2:-}" <<'PY' | k apply -f - >/dev/null
import sys, yaml
path, ns, rev = sys.argv[1:4]
doc = yaml.safe_load(open(path))
doc["metadata"]["namespace"] = ns
doc["spec"]["groupName"] = ns + "-web"
if rev:
    doc["spec"]["tags"]["rev"] = rev
print(yaml.safe_dump(doc))
PY
}

test_incluster_controller_pod() {
    local missing
    missing=$(incluster_missing)
    if [ -n "$missing" ]; then
        echo "SKIP: this machine lacks $missing; the in-cluster test cannot run here"
        return 0
    fi
    local before=$E2E_TEST_DIR/host.before after=$E2E_TEST_DIR/host.after t0 t1
    "$E2E_REPO/hack/node.sh" host-state >"$before"
    # On any failure: the controller's objects first (its pods stop while the node runs), then
    # the node.
    # shellcheck disable=SC2016 # expanded when it runs
    at_exit 'incluster_remove; "$E2E_REPO/hack/node.sh" down >>"$E2E_TEST_DIR/node.log" 2>&1; ensure_account default'
    t0=$(date +%s%N)
    "$E2E_REPO/hack/node.sh" up >>"$E2E_TEST_DIR/node.log" 2>&1 \
        || { tail -n 40 "$E2E_TEST_DIR/node.log"; fail "hack/node.sh up failed"; } || return 1
    t1=$(date +%s%N)
    echo "incluster: node up in $(((t1 - t0) / 1000000)) ms"
    # shellcheck disable=SC1091
    source "$NP_DEV_ENV_DIR/node/env"

    # The image, imported as a user of a registry-less node would.
    local tar ref tag
    tar=$(incluster_image_tar) || return 1
    ref=$(image_ref_of "$tar")
    tag=${ref##*:}
    incluster_ctr images import "$tar" >/dev/null || fail "ctr images import $tar failed" || return 1
    echo "incluster: image $ref ($(($(stat -c %s "$tar") / 1024)) KiB docker-archive)"

    # A posture namespace, the account postures use by default, and the overlay. The pods reach
    # moto at the node's gateway: plain HTTP to a host that is not loopback, which an account
    # allows explicitly (the test puts the suite's usual "default" back when it ends).
    local ns ov=$E2E_TEST_DIR/overlay rel
    ns=$(new_namespace incluster)
    k apply -f - >/dev/null <<YAML
apiVersion: netposture.dev/v1alpha1
kind: CloudAccount
metadata: {name: default}
spec:
  aws: {region: us-east-1, credentials: {source: Environment}, allowInsecureEndpoint: true}
  allowedNamespaces: {}
YAML
    mkdir -p "$ov"
    rel=$(python3 -c 'import os, sys; print(os.path.relpath(sys.argv[1], sys.argv[2]))' \
        "$E2E_REPO/tests/e2e/incluster" "$ov")
    cat >"$ov/kustomization.yaml" <<YAML
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- $rel
images:
- {name: docker.io/netposture/netposture-controller, newTag: "$tag"}
secretGenerator:
- name: netposture-aws
  namespace: $INCLUSTER_NS
  literals: [AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY]
configMapGenerator:
- name: netposture-aws
  namespace: $INCLUSTER_NS
  literals: [AWS_REGION=$AWS_REGION, AWS_ENDPOINT_URL=$NP_NODE_AWS_ENDPOINT_URL, AWS_EC2_METADATA_DISABLED="true"]
# Only this test's namespace: the suite's apiserver keeps every earlier test's postures.
patches:
- target: {kind: Deployment, name: netposture-controller}
  patch: |-
    - {op: add, path: /spec/template/spec/containers/0/args/-, value: --namespace=$ns}
YAML
    k apply -k "$ov" >"$E2E_TEST_DIR/apply.log" 2>&1 \
        || { cat "$E2E_TEST_DIR/apply.log"; fail "kubectl apply -k failed"; } || return 1

    # 1. Both replicas Ready, through the /readyz probe the Deployment declares.
    assert_eq "$(k get "$INCLUSTER_DEPLOY" -n "$INCLUSTER_NS" \
        -o jsonpath='{.spec.template.spec.containers[0].readinessProbe.httpGet.path}')" /readyz "the readiness probe" || return 1
    k rollout status "$INCLUSTER_DEPLOY" -n "$INCLUSTER_NS" --timeout=300s >/dev/null \
        || { incluster_dump; fail "the Deployment did not roll out"; } || return 1
    wait_for 60 "two Ready controller pods" ready_pods_are 2 || { incluster_dump; return 1; }
    t0=$(date +%s%N)
    echo "incluster: Deployment Ready $(((t0 - t1) / 1000000)) ms after node up"
    local pods pod
    pods=$(controller_pods)
    for pod in $pods; do
        assert_eq "$(k get pod "$pod" -n "$INCLUSTER_NS" -o jsonpath='{.spec.containers[0].image}')" \
            "$ref" "pod $pod's image" || return 1
        assert_eq "$(k get pod "$pod" -n "$INCLUSTER_NS" -o jsonpath='{.spec.nodeName}')" \
            "$NP_NODE_NAME" "pod $pod's node" || return 1
    done

    # 2. A sample posture converges in moto, written by the pod with its projected token.
    wait_for 60 "a Lease holder" lease_holder_set || return 1
    apply_sample "$ns"
    k wait --for=condition=Ready --timeout=120s "sgp/web" -n "$ns" >/dev/null \
        || { incluster_dump; fail "the sample posture did not become Ready"; } || return 1
    local gid
    gid=$(group_of "$ns" web)
    assert_eq "$(groups_named "$ns-web")" "$gid" "the group moto has under the sample's name" || return 1
    assert_eq "$(rules "$gid" ingress)" "icmp 8-0 10.0.0.0/8
tcp 443-443 10.0.0.0/8
tcp 443-443 172.31.0.0/16" "the sample's rules in moto" || return 1
    assert_eq "$(tag_of "$gid" team)" shop "the sample's team tag in moto" || return 1
    local writers holder leader
    holder=$(lease_holder)
    leader=${holder%_*}
    writers=$(audit_writers "$ns")
    [ -n "$writers" ] || fail "no write to the posture in the audit log" || return 1
    assert_eq "$(awk '{print $3}' <<<"$writers" | sort -u)" "$INCLUSTER_SA_USER" \
        "the user of the posture's writes (in-cluster config: the projected service-account token)" || return 1
    assert_eq "$(awk '{print $2}' <<<"$writers" | sort -u)" "$leader" \
        "the pod named by the token of every write (the Lease holder)" || return 1

    # 3. kubectl logs (through the kubelet): JSON lines, one of them about the sample posture.
    k logs -n "$INCLUSTER_NS" "$leader" >"$E2E_TEST_DIR/leader.log" \
        || fail "kubectl logs $leader failed" || return 1
    python3 - "$E2E_TEST_DIR/leader.log" "$ns" <<'PY' || fail "kubectl logs: not JSON lines about the posture" || return 1
import json, sys
lines = [l for l in open(sys.argv[1]) if l.strip()]
assert lines, "no log lines"
docs = [json.loads(l) for l in lines]  # raises on a line that is not JSON
assert all("level" in d and "msg" in d for d in docs), "a line without level/msg"
assert any(sys.argv[2] in json.dumps(d) for d in docs), "no line about the posture's namespace"
print("incluster: %d JSON log lines" % len(docs))
PY

    # 4. /metrics on the metrics Service's endpoints: every ready address answers, one leads.
    local eps addr leaders=0 n=0 body
    eps=$(k get endpointslices -n "$INCLUSTER_NS" -l kubernetes.io/service-name=netposture-metrics -o json | python3 -c '
import json, sys
for s in json.load(sys.stdin)["items"]:
    port = [p["port"] for p in s.get("ports", []) if p.get("name") == "metrics"][0]
    for e in s.get("endpoints", []):
        if e.get("conditions", {}).get("ready"):
            for a in e["addresses"]:
                print("%s:%d" % (a, port))')
    for addr in $eps; do
        body=$(curl -fsS --max-time 5 "http://$addr/metrics") || fail "no /metrics on endpoint $addr" || return 1
        assert_contains "$body" "netposture_build_info{" "/metrics of $addr" || return 1
        leaders=$((leaders + $(awk '$1 ~ /^netposture_leader({|$)/ {n += $2} END {print int(n)}' <<<"$body")))
        n=$((n + 1))
    done
    assert_eq "$n" 2 "ready endpoints of the metrics Service" || return 1
    assert_eq "$leaders" 1 "the sum of netposture_leader over the endpoints" || return 1

    # 5. Non-root, no capabilities, read-only root filesystem: the container process on the host.
    local pid status
    for pod in $pods; do
        pid=$(container_pid "$pod") || true
        [ -n "$pid" ] && [ -r "/proc/$pid/status" ] || fail "no host process for $pod" || return 1
        status=$(cat "/proc/$pid/status")
        assert_eq "$(awk '/^Uid:/ {print $2, $3, $4, $5}' <<<"$status")" "65532 65532 65532 65532" "$pod's uids" || return 1
        assert_eq "$(awk '/^Gid:/ {print $2}' <<<"$status")" 65532 "$pod's gid" || return 1
        assert_eq "$(awk '/^CapEff:/ {print $2}' <<<"$status")" 0000000000000000 "$pod's effective capabilities" || return 1
        assert_eq "$(awk '/^NoNewPrivs:/ {print $2}' <<<"$status")" 1 "$pod's no_new_privs" || return 1
        assert_eq "$(awk '/^Seccomp:/ {print $2}' <<<"$status")" 2 "$pod's seccomp mode (filter)" || return 1
        assert_eq "$(awk '$5 == "/" {split($6, o, ","); m = o[1]} END {print m}' "/proc/$pid/mountinfo")" ro \
            "$pod's root filesystem mount" || return 1
        tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q '^/usr/local/bin/netposture-controller ' \
            || fail "pid $pid is not the controller" || return 1
        # In-cluster config: no kubeconfig, the API server from the kubelet's service variables.
        assert_not_contains "$(tr '\0' ' ' <"/proc/$pid/cmdline")" "--kubeconfig" "$pod's command line" || return 1
        assert_eq "$(tr '\0' '\n' <"/proc/$pid/environ" | grep -E '^KUBERNETES_SERVICE_(HOST|PORT)=' | sort | tr '\n' ' ')" \
            "KUBERNETES_SERVICE_HOST=10.0.0.1 KUBERNETES_SERVICE_PORT=443 " "$pod's service variables" || return 1
        echo "incluster: $pod pid $pid $(awk '/^VmRSS:/ {print "RSS", $2, $3}' <<<"$status")"
    done

    # 6. kubectl rollout restart: the Lease moves to a new pod and no two pods ever write.
    # The current leader writes first (tag rev=r0), then a tag changed every second keeps the
    # leader of the moment writing through the hand-over.
    local since rev=0 old_pods
    old_pods=$pods
    since=$(date -u +%Y-%m-%dT%H:%M:%S.000000Z)
    apply_sample "$ns" r0
    wait_for 60 "tag rev=r0 in moto" tag_is "$gid" rev r0 || return 1
    (
        while :; do
            rev=$((rev + 1))
            apply_sample "$ns" "r$rev" 2>/dev/null || true
            sleep 1
        done
    ) &
    echo $! >"$E2E_TEST_DIR/pids/writer-load"
    k rollout restart "$INCLUSTER_DEPLOY" -n "$INCLUSTER_NS" >/dev/null
    k rollout status "$INCLUSTER_DEPLOY" -n "$INCLUSTER_NS" --timeout=300s >/dev/null \
        || { incluster_dump; fail "the restart did not roll out"; } || return 1
    wait_for 90 "only the two new pods, Ready" ready_pods_are 2 || { incluster_dump; return 1; }
    pods=$(controller_pods)
    for pod in $old_pods; do
        assert_not_contains "$pods" "$pod" "the pods after the restart" || return 1
    done
    wait_for 60 "a new pod holding the Lease" lease_held_by_one_of "$pods" || { incluster_dump; return 1; }
    kill "$(cat "$E2E_TEST_DIR/pids/writer-load")" 2>/dev/null || true
    rm -f "$E2E_TEST_DIR/pids/writer-load"
    # A revision the load never wrote converges: the leader now writes after the last hand-over.
    apply_sample "$ns" final
    wait_for 90 "tag rev=final in moto" tag_is "$gid" rev final || { incluster_dump; return 1; }
    holder=$(lease_holder)
    leader=${holder%_*}
    writers=$(audit_writers "$ns" "$since")
    printf '%s\n' "$writers" >"$E2E_TEST_DIR/writers"
    python3 - "$E2E_TEST_DIR/writers" "$leader" <<'PY' || fail "two pods wrote at the same time (see writers)" || return 1
import sys
spans = {}
for line in open(sys.argv[1]):
    ts, pod, _ = line.split()
    a, b = spans.get(pod, (ts, ts))
    spans[pod] = (min(a, ts), max(b, ts))
order = sorted(spans.items(), key=lambda kv: kv[1][0])
for (p1, (a1, b1)), (p2, (a2, b2)) in zip(order, order[1:]):
    assert b1 < a2, "%s wrote until %s, %s from %s" % (p1, b1, p2, a2)
assert order[-1][0] == sys.argv[2], "the last writer %s is not the Lease holder %s" % (order[-1][0], sys.argv[2])
assert len(order) >= 2, "no hand-over seen (one writer: %s)" % order
print("incluster: writers in turn: " + ", ".join("%s [%s .. %s]" % (p, a, b) for p, (a, b) in order))
PY
    for pod in $pods; do
        pid=$(container_pid "$pod") || true
        [ -n "$pid" ] && echo "incluster: $pod (after restart) $(awk '/^VmRSS:/ {print "RSS", $2, $3}' "/proc/$pid/status")"
    done

    # 7. Down, and the host as it was.
    incluster_remove
    "$E2E_REPO/hack/node.sh" down >>"$E2E_TEST_DIR/node.log" 2>&1 \
        || { tail -n 20 "$E2E_TEST_DIR/node.log"; fail "hack/node.sh down failed"; } || return 1
    "$E2E_REPO/hack/node.sh" host-state >"$after"
    diff "$before" "$after" || fail "the host differs after hack/node.sh down (above: before < > after)" || return 1
}

lease_holder_set() { [ -n "$(lease_holder)" ]; }

lease_held_by_one_of() { # lease_held_by_one_of <pods>
    local holder
    holder=$(lease_holder)
    [ -n "$holder" ] && grep -qxF "${holder%_*}" <<<"$1"
}

tag_is() { [ "$(tag_of "$1" "$2")" = "$3" ]; }

# What the test leaves in the suite's apiserver: no controller pods (their Lease released), no
# Deployment; the namespace, service account and RBAC stay (hack/dev-env.sh made them).
incluster_remove() {
    k scale "$INCLUSTER_DEPLOY" -n "$INCLUSTER_NS" --replicas=0 >/dev/null 2>&1 || return 0
    wait_for 60 "the controller pods to be gone" no_controller_pods || true
    k delete deployment netposture-controller -n "$INCLUSTER_NS" --ignore-not-found >/dev/null 2>&1
    k delete pdb netposture-controller -n "$INCLUSTER_NS" --ignore-not-found >/dev/null 2>&1
    k delete service netposture-metrics -n "$INCLUSTER_NS" --ignore-not-found >/dev/null 2>&1
    local o
    for o in $(k get secret,configmap -n "$INCLUSTER_NS" -o name | grep '/netposture-aws-'); do
        k delete -n "$INCLUSTER_NS" "$o" >/dev/null 2>&1 || true
    done
}

no_controller_pods() { [ -z "$(controller_pods)" ]; }

incluster_dump() {
    echo "---- controller pods"
    k get pods -n "$INCLUSTER_NS" -o wide 2>&1
    k describe pods -n "$INCLUSTER_NS" 2>&1 | tail -n 60
    local pod
    for pod in $(controller_pods); do
        echo "---- logs of $pod"
        k logs -n "$INCLUSTER_NS" "$pod" 2>&1 | tail -n 30
    done
    echo "---- lease"
    k get lease netposture-controller -n "$INCLUSTER_NS" -o yaml 2>&1 | tail -n 12
    echo "---- kubelet log (errors)"
    grep -E '^E' "${NP_NODE_KUBELET_LOG:-/dev/null}" 2>/dev/null | tail -n 30
}
