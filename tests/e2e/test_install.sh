# End-to-end tests of the install manifests (manifests/, kustomize): a `namespace:` override
# moves every namespaced object, the bindings' service-account subjects and the controller's
# own namespace with it, and the controller running as that service account (a TokenRequest
# token) reads credential Secrets there and nowhere else.
# shellcheck shell=bash

INSTALL_NS=np-ops

# Checks a rendered install (stdin) moved to namespace argv[1]: every namespaced object, the
# Namespace itself and every ServiceAccount subject of a binding.
INSTALL_CHECK=$(cat <<'PY'
import sys, yaml
want = sys.argv[1]
docs = [d for d in yaml.safe_load_all(sys.stdin) if d]
bad = []
for d in docs:
    meta, kind = d.get("metadata", {}), d["kind"]
    if kind == "Namespace" and meta["name"] != want:
        bad.append("Namespace " + meta["name"])
    if "namespace" in meta and meta["namespace"] != want:
        bad.append("%s %s in %s" % (kind, meta["name"], meta["namespace"]))
    for s in d.get("subjects", []):
        if s.get("kind") == "ServiceAccount" and s.get("namespace") != want:
            bad.append("%s %s subject %s/%s" % (kind, meta["name"], s.get("namespace"), s["name"]))
kinds = {d["kind"] for d in docs}
for k in ("Namespace", "ServiceAccount", "Role", "RoleBinding", "ClusterRoleBinding", "Deployment"):
    if k not in kinds:
        bad.append("no " + k + " rendered")
sys.exit("; ".join(bad) if bad else 0)
PY
)

# install_rendered: the namespace overlay, rendered by kubectl's kustomize.
install_rendered() { k kustomize "$E2E_REPO/tests/e2e/overlays/namespace"; }

# sa_kubeconfig <file>: a kubeconfig for the overlay's service account (a 1 h token).
sa_kubeconfig() {
    local token
    token=$(k create token netposture-controller -n "$INSTALL_NS" --duration 1h) || return 1
    cp "$KUBECONFIG" "$1"
    kubectl --kubeconfig "$1" config set-credentials np-sa --token="$token" >/dev/null
    kubectl --kubeconfig "$1" config set-context --current --user=np-sa >/dev/null
}

# install_identity <rendered> <kubeconfig>: the overlay's namespace, service account and RBAC,
# applied as rendered (the CRDs are installed; no node runs pods), and a kubeconfig for it.
install_identity() {
    python3 -c '
import sys, yaml
keep = {"Namespace", "ServiceAccount", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"}
print(yaml.safe_dump_all([d for d in yaml.safe_load_all(sys.stdin) if d and d["kind"] in keep]))' \
        <<<"$1" | k apply -f - >/dev/null || fail "cannot apply the overlay's RBAC" || return 1
    sa_kubeconfig "$2" || fail "no token for $INSTALL_NS/netposture-controller" || return 1
}

# The RBAC rules of a rendered install (argv[1]: a file) against the requests of the overlay's
# service account in the audit log (argv[2]): prints what was refused (403) and what is granted
# but was never asked for, except the grants below, used on paths the test may not take (a
# cache miss, a conflict, a repeated Event: timing decides, so they may show up or not).
RBAC_CHECK=$(cat <<'PY'
import json, sys, yaml
EXCUSED = {
    # selector.c: a namespace the informer has not delivered yet is read directly
    ("", "namespaces", "get"): "namespace cache miss",
    # events.c: a repeat of the same Event within its series window is a patch
    ("events.k8s.io", "events", "patch"): "repeated Event",
    # pass.c: a posture is read by name (status conflict, finalizer release): as for groups
    ("netposture.dev", "vpcpostures", "get"): "VPCPosture read by name (no VPCPosture here)",
    ("netposture.dev", "vpcpostures", "patch"): "VPCPosture finalizer (no VPCPosture here)",
    ("netposture.dev", "vpcpostures/status", "patch"): "VPCPosture status (no VPCPosture here)",
    ("netposture.dev", "postureguardrails/status", "patch"): "guardrail status (no guardrail here)",
}
rules = set()
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d["kind"] in ("ClusterRole", "Role"):
        for r in d["rules"]:
            for g in r["apiGroups"]:
                for res in r["resources"]:
                    for v in r["verbs"]:
                        rules.add((g, res, v))
used, refused = set(), set()
sa = "system:serviceaccount:%s:netposture-controller" % sys.argv[3]
for line in open(sys.argv[2]):
    e = json.loads(line)
    if e.get("user", {}).get("username") != sa or "objectRef" not in e:
        continue
    o = e["objectRef"]
    res = o.get("resource", "") + ("/" + o["subresource"] if o.get("subresource") else "")
    key = (o.get("apiGroup", ""), res, e["verb"])
    (refused if e.get("responseStatus", {}).get("code") == 403 else used).add(key)
for k in sorted(refused):
    print("refused: %s %s %s" % k)
for k in sorted(rules - used - set(EXCUSED)):
    print("never used: %s %s %s" % k)
PY
)

# secret_account <name> <secret-namespace>: a CloudAccount on the Secret aws-creds there.
secret_account() {
    k apply -f - >/dev/null <<YAML
apiVersion: netposture.dev/v1alpha1
kind: CloudAccount
metadata: {name: $1}
spec:
  aws:
    region: us-east-1
    credentials: {source: Secret, secretRef: {namespace: $2, name: aws-creds}}
  allowedNamespaces: {}
YAML
}

test_namespace_override_moves_the_install_and_the_controller_follows() {
    local rendered kc ns acct
    rendered=$(install_rendered) || fail "kubectl kustomize of the namespace overlay failed" || return 1
    # Every namespaced object, the Namespace itself and every ServiceAccount subject moved.
    python3 -c "$INSTALL_CHECK" "$INSTALL_NS" <<<"$rendered" ||
        fail "the overlay left objects behind" || return 1
    kc="$E2E_TEST_DIR/sa.kubeconfig"
    install_identity "$rendered" "$kc" || return 1
    assert_eq "$(kubectl --kubeconfig "$kc" auth can-i get secrets -n "$INSTALL_NS")" "yes" \
        "the service account reads Secrets in its namespace" || return 1
    assert_eq "$(kubectl --kubeconfig "$kc" auth can-i get secrets -n netposture-system 2>/dev/null)" \
        "no" "the service account reads no Secret of the default namespace" || return 1

    k create secret generic aws-creds -n "$INSTALL_NS" --from-literal=accessKeyId="$AWS_ACCESS_KEY_ID" \
        --from-literal=secretAccessKey="$AWS_SECRET_ACCESS_KEY" --dry-run=client -o yaml |
        k apply -f - >/dev/null
    k create secret generic aws-creds -n netposture-system --from-literal=accessKeyId="$AWS_ACCESS_KEY_ID" \
        --from-literal=secretAccessKey="$AWS_SECRET_ACCESS_KEY" --dry-run=client -o yaml |
        k apply -f - >/dev/null
    ns=$(new_namespace install)
    acct="ops-$RANDOM"
    secret_account "$acct" "$INSTALL_NS"
    secret_account "$acct-default" netposture-system
    account_posture "$ns" web "$acct"
    account_posture "$ns" stray "$acct-default"
    NP_CONTROLLER_KUBECONFIG=$kc start_controller --namespace "$ns" --controller-namespace "$INSTALL_NS" \
        --resync-interval 5s --workers 2
    wait_for 60 "web Ready on the Secret in $INSTALL_NS" \
        condition_is sgp "$ns" web Ready "True/Converged" || return 1
    group_exists "$(group_of "$ns" web)" || fail "web's group is not in AWS" || return 1
    wait_for 30 "stray refused: its Secret is outside the controller's namespace" \
        condition_is sgp "$ns" stray Ready "False/AccountError" || return 1
    assert_contains "$(k get sgp stray -n "$ns" -o jsonpath='{.status.conditions[?(@.type=="Ready")].message}')" \
        "controller's namespace $INSTALL_NS" "stray's Ready message" || return 1
    assert_eq "$(groups_named "$ns-stray")" "" "a group for the refused posture" || return 1
}

# Every permission manifests/rbac grants is used: a controller running as the overlay's service
# account (leader election on, a Secret-based account, a posture created, drifted, repaired and
# deleted) makes every request the rules allow, except those listed in RBAC_CHECK with the path
# that needs them; and nothing it asks for is refused.
test_rbac_grants_only_what_the_controller_uses() {
    local rendered kc ns acct out file="$E2E_TEST_DIR/rendered.yaml"
    rendered=$(install_rendered) || fail "kubectl kustomize of the namespace overlay failed" || return 1
    printf '%s\n' "$rendered" >"$file"
    kc="$E2E_TEST_DIR/sa.kubeconfig"
    install_identity "$rendered" "$kc" || return 1
    k create secret generic aws-creds -n "$INSTALL_NS" --from-literal=accessKeyId="$AWS_ACCESS_KEY_ID" \
        --from-literal=secretAccessKey="$AWS_SECRET_ACCESS_KEY" --dry-run=client -o yaml |
        k apply -f - >/dev/null
    ns=$(new_namespace rbac)
    acct="rbac-$RANDOM"
    secret_account "$acct" "$INSTALL_NS"
    account_posture "$ns" web "$acct"
    NP_CONTROLLER_KUBECONFIG=$kc start_controller --namespace "$ns" --controller-namespace "$INSTALL_NS" \
        --resync-interval 2s --workers 2 --leader-elect --leader-election-id "rbac-$RANDOM" \
        --leader-election-lease-duration 4s --leader-election-renew-deadline 3s \
        --leader-election-retry-period 1s
    wait_for 60 "web Ready" condition_is sgp "$ns" web Ready "True/Converged" || return 1
    local sg
    sg=$(group_of "$ns" web)
    awsx ec2 authorize-security-group-ingress --group-id "$sg" --protocol tcp --port 22 \
        --cidr 0.0.0.0/0 >/dev/null
    wait_for 30 "the drift repaired" rules_are "$sg" ingress "tcp 443-443 10.0.0.0/8" || return 1
    wait_for 15 "the account's status written" \
        test -n "$(k get npacct "$acct" -o jsonpath='{.status.accountId}')" || return 1
    k delete sgp web -n "$ns" --wait=false >/dev/null
    wait_for 60 "web deleted (its finalizer released)" \
        bash -c "! kubectl get sgp web -n '$ns' >/dev/null 2>&1" || return 1
    stop_controller # its watches end: the audit log records them
    out=$(python3 -c "$RBAC_CHECK" "$file" "$NP_AUDIT_LOG" "$INSTALL_NS") ||
        fail "the RBAC check failed to run" || return 1
    assert_eq "$out" "" "RBAC grants against the requests made" || return 1
}
