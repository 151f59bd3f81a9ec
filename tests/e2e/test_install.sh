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
    # Its identity and RBAC, applied as rendered (the CRDs are installed; no node runs pods).
    python3 -c '
import sys, yaml
keep = {"Namespace", "ServiceAccount", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"}
print(yaml.safe_dump_all([d for d in yaml.safe_load_all(sys.stdin) if d and d["kind"] in keep]))' \
        <<<"$rendered" | k apply -f - >/dev/null || fail "cannot apply the overlay's RBAC" || return 1
    kc="$E2E_TEST_DIR/sa.kubeconfig"
    sa_kubeconfig "$kc" || fail "no token for $INSTALL_NS/netposture-controller" || return 1
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
