# End-to-end tests of the test environment itself: the real kube-apiserver serves CRDs and
# watches, moto answers signed EC2 calls, and the dev environment stops everything it starts.
# shellcheck shell=bash

test_apiserver_ready_at_pinned_version() {
    assert_eq "$(k get --raw /readyz)" "ok" "/readyz"
    local want got
    want=$(awk '$1=="k8s.io/kubernetes"{print $2; exit}' "$E2E_REPO/hack/kubebins/go.mod")
    got=$(k version -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["serverVersion"]["gitVersion"])')
    assert_eq "$got" "$want" "server version"
}

test_apiserver_serves_a_crd() {
    local ns
    ns=$(new_namespace crd)
    k apply -f - <<'EOF'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.e2e.netposture.dev}
spec:
  group: e2e.netposture.dev
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer, minimum: 1, maximum: 10}
EOF
    k wait --for=condition=Established --timeout=30s crd/widgets.e2e.netposture.dev
    wait_for 30 "widgets served" k get widgets -n "$ns"
    printf 'apiVersion: e2e.netposture.dev/v1\nkind: Widget\nmetadata: {name: w1}\nspec: {size: 3}\n' |
        k apply -n "$ns" -f -
    assert_eq "$(k get widget w1 -n "$ns" -o jsonpath='{.spec.size}')" "3" "stored size"
    local out
    out=$(printf 'apiVersion: e2e.netposture.dev/v1\nkind: Widget\nmetadata: {name: w2}\nspec: {size: 11}\n' |
        expect_failure k apply -n "$ns" -f -)
    assert_contains "$out" "should be less than or equal to 10" "schema rejection"
}

test_netposture_crds_installed() {
    local out
    out=$(k api-resources --api-group=netposture.dev -o name)
    assert_contains "$out" "securitygrouppostures.netposture.dev" || return 1
    assert_contains "$out" "vpcpostures.netposture.dev" || return 1
    assert_contains "$out" "postureguardrails.netposture.dev" || return 1
    assert_contains "$out" "cloudaccounts.netposture.dev"
}

test_watch_delivers_an_event() {
    local ns rv
    ns=$(new_namespace watch)
    # Watch from the list's resourceVersion: the ADDED event must arrive whether the create
    # lands before or after the watch connects.
    rv=$(k get --raw "/api/v1/namespaces/$ns/configmaps" | python3 -c 'import json,sys; print(json.load(sys.stdin)["metadata"]["resourceVersion"])')
    local out="$E2E_TEST_DIR/watch.out"
    k get --raw "/api/v1/namespaces/$ns/configmaps?watch=1&resourceVersion=$rv&timeoutSeconds=60" >"$out" 2>&1 &
    echo $! >"$E2E_TEST_DIR/pids/watch"
    k create configmap from-e2e -n "$ns" --from-literal=a=b >/dev/null
    wait_for 30 "the watch to deliver ADDED configmap/from-e2e" \
        grep -q '"type":"ADDED".*"name":"from-e2e"' "$out"
}

test_moto_answers_signed_ec2_call() {
    local vpcs
    vpcs=$(awsx ec2 describe-vpcs --filters Name=isDefault,Values=true --query 'Vpcs[].CidrBlock' --output text)
    assert_eq "$vpcs" "172.31.0.0/16" "default VPC CIDR"
}

test_dev_env_down_leaves_no_process() {
    local d="$E2E_TEST_DIR/env2"
    NP_DEV_ENV_DIR=$d "$E2E_REPO/hack/dev-env.sh" up >"$E2E_TEST_DIR/up.log" 2>&1
    local pids=() f
    for f in "$d"/pids/*.pid; do
        pids+=("$(cat "$f")")
        cp "$f" "$E2E_TEST_DIR/pids/$(basename "$f")"
    done
    assert_eq "${#pids[@]}" "3" "processes started"
    (
        # shellcheck disable=SC1091
        source "$d/env"
        assert_eq "$(kubectl get --raw /readyz)" "ok" "second env /readyz"
    )
    NP_DEV_ENV_DIR=$d "$E2E_REPO/hack/dev-env.sh" down >>"$E2E_TEST_DIR/up.log" 2>&1
    NP_DEV_ENV_DIR=$d "$E2E_REPO/hack/dev-env.sh" down >>"$E2E_TEST_DIR/up.log" 2>&1
    local p
    for p in "${pids[@]}"; do
        if kill -0 "$p" 2>/dev/null; then
            fail "process $p still running after down"
        fi
    done
    rm -f "$E2E_TEST_DIR"/pids/*.pid
}
