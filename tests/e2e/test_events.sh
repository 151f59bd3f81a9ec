# End-to-end tests of event-driven drift detection (CloudTrail events through SQS in moto; the
# test plays EventBridge and sends the event itself, since moto emits none) and of surviving
# AWS throttling and server errors injected by a proxy on loopback.
# shellcheck shell=bash

# send_event <queue-url> <event-name> <group-id> <actor-arn>: a security-group rule call.
send_event() {
    send_cloudtrail_event "$1" "$2" "$4" "{\"groupId\": \"$3\", \"ipPermissions\": {\"items\": [{\"ipProtocol\": \"tcp\", \"fromPort\": 22, \"toPort\": 22, \"ipRanges\": {\"items\": [{\"cidrIp\": \"0.0.0.0/0\"}]}}]}}"
}

# events_posture <ns> <name> <account>: a posture with one HTTPS rule on that account.
events_posture() {
    k apply -n "$1" -f - >/dev/null <<YAML
apiVersion: netposture.dev/v1alpha1
kind: SecurityGroupPosture
metadata: {name: $2}
spec:
  accountRef: {name: $3}
  groupName: $1-$2
  ingress:
  - {protocol: tcp, fromPort: 443, toPort: 443, cidrs: ["10.0.0.0/8"]}
YAML
}

test_cloudtrail_event_repairs_drift_in_seconds() {
    local ns q sg tag
    ns=$(new_namespace events)
    tag=${ns#e2e-}
    q=$(make_queue "$tag")
    event_account "ev-$tag" "$q"
    # A resync far longer than the test: only the event can trigger the repair.
    start_controller --namespace "$ns" --resync-interval 10m --workers 2
    events_posture "$ns" web "ev-$tag"
    k wait --for=condition=Ready --timeout=60s sgp/web -n "$ns" || return 1
    wait_for 30 "the account consuming events" bash -c \
        "kubectl get cloudaccount ev-$tag -o jsonpath='{.status.conditions[0].message}' | grep -q 'consuming events'" || return 1
    sg=$(group_of "$ns" web)
    awsx ec2 authorize-security-group-ingress --group-id "$sg" --protocol tcp --port 22 --cidr 0.0.0.0/0 >/dev/null
    send_event "$q" AuthorizeSecurityGroupIngress "$sg" "arn:aws:iam::123456789012:user/alice"
    wait_for 15 "the drift repaired from the event" rules_are "$sg" ingress "tcp 443-443 10.0.0.0/8" || return 1
    wait_for 15 "the actor on the drift item" bash -c \
        "kubectl get sgp web -n $ns -o jsonpath='{.status.drift.items[0].actor}' | grep -qx 'arn:aws:iam::123456789012:user/alice'" || return 1
    wait_for 15 "the message deleted" queue_empty "$q" || return 1
    assert_eq "$(metric netposture_events_total 'result="handled"')" "1" "events handled" || return 1
    metric_at_least netposture_drift_time_to_detect_seconds_count '' 1 || fail "no detection latency observed" || return 1
    # /metrics shows the request and drift counters too.
    metric_at_least netposture_drift_detected_total 'change="Extra"' 1 || fail "drift not counted" || return 1
    metric_at_least netposture_remediations_total 'result="success"' 1 || fail "remediation not counted" || return 1
    metric_at_least netposture_aws_requests_total 'action="ReceiveMessage",code="OK"' 1 || fail "SQS requests not counted" || return 1
    k delete cloudaccount "ev-$tag" >/dev/null
}

test_bad_and_own_events_are_dropped_and_the_next_one_works() {
    local ns q sg1 sg2 tag own
    ns=$(new_namespace badevents)
    tag=${ns#e2e-}
    q=$(make_queue "$tag")
    event_account "ev-$tag" "$q"
    start_controller --namespace "$ns" --resync-interval 10m --workers 2
    events_posture "$ns" one "ev-$tag"
    events_posture "$ns" two "ev-$tag"
    k wait --for=condition=Ready --timeout=60s sgp/one sgp/two -n "$ns" || return 1
    wait_for 30 "the account's identity" bash -c \
        "[ -n \"\$(kubectl get cloudaccount ev-$tag -o jsonpath='{.status.identity}')\" ]" || return 1
    own=$(k get cloudaccount "ev-$tag" -o jsonpath='{.status.identity}')
    sg1=$(group_of "$ns" one)
    sg2=$(group_of "$ns" two)
    # Garbage, a foreign event, and an event made by the controller's own identity.
    sqsx send-message --queue-url "$q" --message-body 'this is not json {' >/dev/null
    sqsx send-message --queue-url "$q" --message-body '{"source":"aws.s3","detail-type":"Object Created","detail":{}}' >/dev/null
    awsx ec2 authorize-security-group-ingress --group-id "$sg1" --protocol tcp --port 22 --cidr 0.0.0.0/0 >/dev/null
    send_event "$q" AuthorizeSecurityGroupIngress "$sg1" "$own"
    wait_for 20 "two messages dropped" metric_at_least netposture_events_total 'result="dropped"' 2 || return 1
    wait_for 20 "the own event ignored" metric_at_least netposture_events_total 'result="ignored"' 1 || return 1
    # The next good event still works.
    awsx ec2 authorize-security-group-ingress --group-id "$sg2" --protocol tcp --port 22 --cidr 0.0.0.0/0 >/dev/null
    send_event "$q" AuthorizeSecurityGroupIngress "$sg2" "arn:aws:iam::123456789012:user/bob"
    wait_for 15 "the good event handled" rules_are "$sg2" ingress "tcp 443-443 10.0.0.0/8" || return 1
    wait_for 15 "every message deleted" queue_empty "$q" || return 1
    # The ignored event triggered nothing: that drift waits for the (10m) resync.
    assert_contains "$(rules "$sg1" ingress)" "tcp 22-22 0.0.0.0/0" "drift announced by our own identity" || return 1
    grep -q 'dropping an event message' "$E2E_TEST_DIR/controller.log" || fail "no log line for the dropped messages" || return 1
    k delete cloudaccount "ev-$tag" >/dev/null
}

test_throttling_and_server_errors_are_survived() {
    local ns tag port sg stats
    ns=$(new_namespace throttle)
    tag=${ns#e2e-}
    python3 "$E2E_REPO/tests/e2e/fault_proxy.py" --upstream "$AWS_ENDPOINT_URL" \
        --port-file "$E2E_TEST_DIR/proxy.port" --throttle-every 3 --error-every 7 \
        >"$E2E_TEST_DIR/proxy.log" 2>&1 &
    echo $! >"$E2E_TEST_DIR/pids/fault-proxy"
    wait_for 20 "the fault proxy" test -s "$E2E_TEST_DIR/proxy.port" || return 1
    port=$(cat "$E2E_TEST_DIR/proxy.port")
    k apply -f - >/dev/null <<YAML
apiVersion: netposture.dev/v1alpha1
kind: CloudAccount
metadata: {name: flaky-$tag}
spec:
  aws: {region: us-east-1, endpoint: "http://127.0.0.1:$port", credentials: {source: Environment}}
  allowedNamespaces: {}
YAML
    start_controller --namespace "$ns" --resync-interval 2s --workers 2
    events_posture "$ns" web "flaky-$tag"
    k wait --for=condition=Ready --timeout=90s sgp/web -n "$ns" || return 1
    sg=$(group_of "$ns" web)
    awsx ec2 authorize-security-group-ingress --group-id "$sg" --protocol tcp --port 22 --cidr 0.0.0.0/0 >/dev/null
    wait_for 60 "the drift repaired through the faults" rules_are "$sg" ingress "tcp 443-443 10.0.0.0/8" || return 1
    k wait --for=condition=Ready --timeout=60s sgp/web -n "$ns" || return 1
    stats=$(curl -fsS "http://127.0.0.1:$port/fault-proxy/stats")
    assert_not_contains "$stats" '"throttled": 0' "proxy throttled something" || return 1
    assert_not_contains "$stats" '"errors": 0' "proxy failed something" || return 1
    metric_at_least netposture_aws_requests_total 'code="RequestLimitExceeded"' 1 \
        || fail "throttled answers not counted" || return 1
    # Retries absorb the faults: no storm of failed reconciles.
    local errors
    errors=$(metric netposture_reconcile_total 'result="error"')
    [ "$errors" -le 3 ] || fail "$errors failed reconciles under injected faults" || return 1
    # CloudAccounts are cluster-wide: later tests' controllers must not poll a dead proxy.
    k delete sgp web -n "$ns" --wait=true --timeout=60s >/dev/null
    k delete cloudaccount "flaky-$tag" >/dev/null
}
