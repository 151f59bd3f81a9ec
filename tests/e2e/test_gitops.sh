# GitOps health read by the real tools' logic: kstatus (sigs.k8s.io/cli-utils, what Flux and
# `kubectl wait` compute; built by `make e2e-tools` as build/e2e-tools/kstatus) and Argo CD's
# health scripts (manifests/argocd/health.lua, run by Lua 5.1 as Argo CD's gopher-lua runs them),
# over postures captured live from the apiserver: in progress before the controller ever wrote a
# status, current and Healthy once converged, failed and Degraded on a terminal error.
# shellcheck shell=bash

KSTATUS="$E2E_REPO/build/e2e-tools/kstatus"
ARGO_HEALTH="$E2E_REPO/tests/e2e/argocd_health.py"
ARGO_LUA="$E2E_REPO/manifests/argocd/health.lua"

# gitops_line <tool-output> <name>: the "<status> <message>" of one object.
gitops_line() { awk -v n="$2" '$1 == n {$1 = ""; sub(/^ /, ""); print; exit}' <<<"$1"; }

# gitops_status <ns> <name>: "<kstatus status>/<Argo CD health status>" of a posture, live.
gitops_status() {
    local json k a
    json=$(k get sgp -n "$1" -o json) || return 1
    k=$("$KSTATUS" <<<"$json") || return 1
    a=$("$ARGO_HEALTH" eval "$ARGO_LUA" <<<"$json") || return 1
    echo "$(gitops_line "$k" "$2" | cut -d' ' -f1)/$(gitops_line "$a" "$2" | cut -d' ' -f1)"
}

gitops_status_is() { [ "$(gitops_status "$1" "$2")" = "$3" ]; }

test_argocd_health_scripts_pass_their_tests() {
    local out
    out=$("$ARGO_HEALTH" check "$E2E_REPO/manifests/argocd/resource_customizations") \
        || { echo "$out"; fail "an Argo CD health test failed"; return 1; }
    assert_contains "$out" "16 passed, 0 failed" "the Argo CD health tests" || return 1
    # The ConfigMap users apply carries the same script under each kind's key.
    kubectl kustomize "$E2E_REPO/manifests/argocd" | python3 -c '
import sys, yaml
cm = yaml.safe_load(sys.stdin)
lua = open(sys.argv[1]).read()
keys = ["resource.customizations.health.netposture.dev_" + k
        for k in ("SecurityGroupPosture", "VPCPosture", "CloudAccount", "PostureGuardrail")]
assert cm["metadata"]["name"] == "argocd-cm", cm["metadata"]
missing = [k for k in keys if cm["data"].get(k) != lua]
sys.exit("argocd-cm lacks the script under: %s" % missing if missing else 0)' "$ARGO_LUA" \
        || fail "manifests/argocd does not render the health checks" || return 1
}

test_kstatus_and_argocd_follow_a_posture() {
    local ns
    ns=$(new_namespace gitops)
    ensure_account default
    # Applied before any controller runs: nobody has looked at it yet.
    apply_web "$ns"
    assert_eq "$(gitops_status "$ns" web)" "InProgress/Progressing" \
        "kstatus/Argo CD of a posture no controller has seen" || return 1
    account_posture "$ns" orphan "no-such-account-$RANDOM"
    start_controller --namespace "$ns" --resync-interval 2s --workers 2
    k wait --for=condition=Ready --timeout=90s sgp/web -n "$ns" >/dev/null \
        || fail "kubectl wait --for=condition=Ready timed out" || return 1
    wait_for 20 "web: Current/Healthy" gitops_status_is "$ns" web "Current/Healthy" || return 1
    wait_for 20 "a posture on a missing account: Failed/Degraded" \
        gitops_status_is "$ns" orphan "Failed/Degraded" || return 1
    # A new generation is in progress again until the controller has observed it.
    stop_controller
    k patch sgp web -n "$ns" --type=merge -p '{"spec":{"tags":{"team":"web"}}}' >/dev/null || return 1
    assert_eq "$(gitops_status "$ns" web)" "InProgress/Progressing" \
        "kstatus/Argo CD of an edit not yet observed" || return 1
}
