# The fault suite: the controller, run as a user runs it, against kube-apiserver, etcd and moto
# that are frozen, restarted, compacted, cut off or held, and killed itself mid-plan. Every
# fault is undone on exit (at_exit), also when a test fails.
# shellcheck shell=bash

pki() { printf '%s/pki/%s' "$NP_DEV_ENV_DIR" "$1"; }

# aws_proxy <name>: fault_proxy.py in front of moto and a CloudAccount <name> that uses it;
# sets AWS_PROXY_PORT. The account is deleted at exit (no later controller polls it). Not in
# a subshell: it registers at_exit.
aws_proxy() {
    start_fault_proxy aws-proxy || return 1
    local port=$FAULT_PROXY_PORT
    k apply -f - >/dev/null <<YAML
apiVersion: netposture.dev/v1alpha1
kind: CloudAccount
metadata: {name: $1}
spec:
  aws: {region: us-east-1, endpoint: "http://127.0.0.1:$port", credentials: {source: Environment}}
  allowedNamespaces: {}
YAML
    at_exit "curl -fsS -X POST http://127.0.0.1:$port/fault-proxy/release >/dev/null 2>&1; kubectl delete cloudaccount $1 --wait=false >/dev/null 2>&1"
    AWS_PROXY_PORT=$port
}

# posture_on <ns> <name> <account> [rule lines]: a SecurityGroupPosture on that account.
posture_on() {
    local rules=${4:-"  - {protocol: tcp, fromPort: 443, toPort: 443, cidrs: [\"10.0.0.0/8\"]}"}
    k apply -n "$1" -f - >/dev/null <<YAML
apiVersion: netposture.dev/v1alpha1
kind: SecurityGroupPosture
metadata: {name: $2}
spec:
  accountRef: {name: $3}
  groupName: $1-$2
  description: fault suite
  ingress:
$rules
YAML
}

test_apiserver_frozen_then_restarted() {
    local ns sg api
    ns=$(new_namespace apifreeze)
    start_for "$ns"
    apply_web "$ns"
    k wait --for=condition=Ready --timeout=60s sgp/web -n "$ns"
    sg=$(group_of "$ns" web)
    api=$(cat "$NP_DEV_ENV_DIR/pids/kube-apiserver.pid")
    at_exit "kill -CONT $api 2>/dev/null"
    kill -STOP "$api"
    awsx ec2 authorize-security-group-ingress --group-id "$sg" --protocol tcp --port 22 --cidr 0.0.0.0/0 >/dev/null
    sleep 20 # the length of the fault, not a wait for an outcome
    kill -CONT "$api"
    wait_for 60 "the drift made during the freeze repaired" rules_are "$sg" ingress "tcp 443-443 10.0.0.0/8"
    wait_for 60 "the drift reported once the API server answers" bash -c \
        "kubectl get sgp web -n $ns -o jsonpath='{.status.drift.items[*].rule}' | grep -q 'tcp 22 0.0.0.0/0'"
    kill -0 "$E2E_CONTROLLER_PID" || fail "the controller died during the freeze"

    # A restart with the same flags and etcd: the watches resume.
    "$E2E_REPO/hack/dev-env.sh" restart-apiserver
    k patch sgp web -n "$ns" --type json -p '[{"op":"add","path":"/spec/ingress/-","value":{"protocol":"udp","fromPort":53,"toPort":53,"cidrs":["10.1.0.0/16"]}}]' >/dev/null
    posture_on "$ns" api default
    wait_for 60 "the spec change after the restart" rules_are "$sg" ingress "$(printf 'tcp 443-443 10.0.0.0/8\nudp 53-53 10.1.0.0/16')"
    k wait --for=condition=Ready --timeout=60s sgp/api -n "$ns"
    k wait --for=condition=Ready --timeout=60s sgp/web -n "$ns"
    assert_eq "$(rules "$(group_of "$ns" api)" ingress)" "tcp 443-443 10.0.0.0/8" "the new posture's rules"
    kill -0 "$E2E_CONTROLLER_PID" || fail "the controller died across the restart"
}

test_forced_relist_after_compaction() {
    local ns port rev kp stats sga
    ns=$(new_namespace relist)
    python3 "$E2E_REPO/tests/e2e/fault_proxy.py" --upstream "$NP_KUBE_SERVER" \
        --port-file "$E2E_TEST_DIR/kube-proxy.port" --tls-cert "$(pki apiserver.crt)" \
        --tls-key "$(pki apiserver.key)" --ca "$(pki ca.crt)" \
        --client-cert "$(pki controller.crt)" --client-key "$(pki controller.key)" \
        >"$E2E_TEST_DIR/kube-proxy.log" 2>&1 &
    echo $! >"$E2E_TEST_DIR/pids/kube-proxy"
    wait_for 20 "the kube fault proxy" test -s "$E2E_TEST_DIR/kube-proxy.port"
    port=$(cat "$E2E_TEST_DIR/kube-proxy.port")
    kp() { curl -fsS --cacert "$(pki ca.crt)" -X POST "https://127.0.0.1:$port/fault-proxy/$1"; }
    sed "s#server: .*#server: https://127.0.0.1:$port#" "$NP_CONTROLLER_KUBECONFIG" \
        >"$E2E_TEST_DIR/proxy.kubeconfig"
    # The controller built with ASan+UBSan (make e2e-tools): any report fails the test.
    [ -x "$E2E_REPO/build/san/netposture-controller" ] || fail "run make e2e-tools"
    E2E_CONTROLLER_BIN="$E2E_REPO/build/san/netposture-controller" \
        NP_CONTROLLER_KUBECONFIG="$E2E_TEST_DIR/proxy.kubeconfig" start_for "$ns"
    posture_on "$ns" a default
    posture_on "$ns" b default
    k wait --for=condition=Ready --timeout=60s sgp/a sgp/b -n "$ns"
    sga=$(group_of "$ns" a)

    # Cut every watch and keep the controller from watching again while things change.
    kp 'watch?refuse=1' >/dev/null
    kp cut >/dev/null
    posture_on "$ns" c default
    posture_on "$ns" b default '  - {protocol: tcp, fromPort: 8443, toPort: 8443, cidrs: ["10.0.0.0/8"]}'
    k delete sgp a -n "$ns" --wait=false >/dev/null
    # Compact etcd past every version the informers hold; their watches come back to 410.
    rev=$(curl -fsS -X POST "$NP_ETCD_URL/v3/kv/range" -d '{"key":"AA=="}' |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["header"]["revision"])')
    curl -fsS -X POST "$NP_ETCD_URL/v3/kv/compaction" -d "{\"revision\":\"$rev\",\"physical\":true}" >/dev/null
    kp "watch?gone_below=$rev" >/dev/null

    k wait --for=condition=Ready --timeout=60s sgp/c -n "$ns"
    wait_for 60 "b's spec change seen" rules_are "$(group_of "$ns" b)" ingress "tcp 8443-8443 10.0.0.0/8"
    k wait --for=delete --timeout=60s sgp/a -n "$ns"
    wait_for 30 "a's group deleted" bash -c "! aws ec2 describe-security-groups --group-ids $sga >/dev/null 2>&1"
    stats=$(kp stats)
    [ "$(proxy_stat "$stats" gone)" -ge 1 ] || fail "no watch was answered 410: $stats"
    grep -q 'informer relisting' "$E2E_TEST_DIR/controller.log" || fail "the informers did not relist"
    # Nothing lost: a change now still flows through the resumed watches.
    k patch sgp c -n "$ns" --type json -p '[{"op":"add","path":"/spec/ingress/-","value":{"protocol":"udp","fromPort":53,"toPort":53,"cidrs":["10.1.0.0/16"]}}]' >/dev/null
    wait_for 30 "a change after the relist" rules_are "$(group_of "$ns" c)" ingress "$(printf 'tcp 443-443 10.0.0.0/8\nudp 53-53 10.1.0.0/16')"
    # A clean exit runs LeakSanitizer too.
    stop_controller TERM
    assert_not_contains "$(cat "$E2E_TEST_DIR/controller.log")" "Sanitizer" "controller log"
}

test_aws_endpoint_frozen() {
    local ns port hp sg i tag
    ns=$(new_namespace awsfreeze)
    tag=${ns#e2e-}
    aws_proxy "frozen-$tag"
    port=$AWS_PROXY_PORT
    hp=$(free_port)
    start_controller --namespace "$ns" --resync-interval 2s --workers 2 --health-addr "127.0.0.1:$hp"
    posture_on "$ns" web "frozen-$tag"
    k wait --for=condition=Ready --timeout=60s sgp/web -n "$ns"
    sg=$(group_of "$ns" web)
    aws_proxy_do "$port" hold >/dev/null
    awsx ec2 authorize-security-group-ingress --group-id "$sg" --protocol tcp --port 22 --cidr 0.0.0.0/0 >/dev/null
    wait_for 10 "the controller's calls to be held" aws_proxy_stat_at_least "$port" held 1
    # Frozen for 20 s: the controller keeps answering its probes all along.
    for i in $(seq 1 20); do
        curl -fsS --max-time 2 "http://127.0.0.1:$hp/healthz" >/dev/null || fail "/healthz did not answer after ${i}s of the freeze"
        sleep 1
    done
    aws_proxy_do "$port" release >/dev/null
    wait_for 60 "the drift repaired after the thaw" rules_are "$sg" ingress "tcp 443-443 10.0.0.0/8"
    k wait --for=condition=Ready --timeout=60s sgp/web -n "$ns"
    k delete sgp web -n "$ns" --wait=true --timeout=60s >/dev/null
}

test_kill9_mid_plan_then_restart() {
    local ns port tag rules="" p sg
    ns=$(new_namespace kill9)
    tag=${ns#e2e-}
    aws_proxy "k9-$tag"
    port=$AWS_PROXY_PORT
    for p in $(seq 1000 1039); do
        rules+="  - {protocol: tcp, fromPort: $p, toPort: $p, cidrs: [\"10.0.0.0/8\"]}"$'\n'
    done
    start_controller --namespace "$ns" --resync-interval 2s --workers 2
    posture_on "$ns" small "k9-$tag"
    k wait --for=condition=Ready --timeout=60s sgp/small -n "$ns"
    # Hold the 40-rule authorize: the group exists, its rules are in flight; then kill -9.
    aws_proxy_do "$port" 'hold?actions=AuthorizeSecurityGroupIngress' >/dev/null
    posture_on "$ns" big "k9-$tag" "$rules"
    wait_for 60 "the 40-rule authorize in flight" aws_proxy_stat_at_least "$port" held 1
    stop_controller KILL
    aws_proxy_do "$port" 'release?drop=1' >/dev/null
    start_controller --namespace "$ns" --resync-interval 2s --workers 2
    k wait --for=condition=Ready --timeout=90s sgp/big sgp/small -n "$ns"
    assert_eq "$(groups_named "$ns-big" | wc -l | tr -d ' ')" 1 "groups named $ns-big"
    sg=$(group_of "$ns" big)
    assert_eq "$(rules "$sg" ingress | wc -l | tr -d ' ')" 40 "ingress rules"
    assert_eq "$(rules "$sg" egress)" "-1 * 0.0.0.0/0" "egress"
    k delete sgp big small -n "$ns" --wait=true --timeout=60s >/dev/null
}

test_group_deleted_out_of_band_is_recreated() {
    local ns old new uid
    ns=$(new_namespace oob)
    start_for "$ns"
    apply_web "$ns"
    k wait --for=condition=Ready --timeout=60s sgp/web -n "$ns"
    old=$(group_of "$ns" web)
    uid=$(k get sgp web -n "$ns" -o jsonpath='{.metadata.uid}')
    awsx ec2 delete-security-group --group-id "$old"
    wait_for 60 "a new group in status" bash -c \
        "g=\$(kubectl get sgp web -n $ns -o jsonpath='{.status.groupId}'); [ -n \"\$g\" ] && [ \"\$g\" != $old ]"
    new=$(group_of "$ns" web)
    k wait --for=condition=Ready --timeout=60s sgp/web -n "$ns"
    assert_eq "$(rules "$new" ingress)" "tcp 443-443 10.0.0.0/8" "the new group's rules"
    assert_eq "$(awsx ec2 describe-security-groups --filters "Name=tag:netposture.dev/uid,Values=$uid" \
        --query 'SecurityGroups[].GroupId' --output text)" "$new" "the groups carrying the uid"
}
