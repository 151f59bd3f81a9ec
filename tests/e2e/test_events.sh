# End-to-end tests of event-driven drift detection (CloudTrail events through SQS in moto; the
# test plays EventBridge and sends the event itself, since moto emits none) and of surviving
# AWS throttling and server errors injected by a proxy on loopback.
# shellcheck shell=bash

# send_event <queue-url> <event-name> <group-id> <actor-arn>: a security-group rule call.
send_event() {
    send_cloudtrail_event "$1" "$2" "$4" "{\"groupId\": \"$3\", \"ipPermissions\": {\"items\": [{\"ipProtocol\": \"tcp\", \"fromPort\": 22, \"toPort\": 22, \"ipRanges\": {\"items\": [{\"cidrIp\": \"0.0.0.0/0\"}]}}]}}"
}

# events_posture <ns> <name> <account>: a posture with one HTTPS rule on that account.
events_posture() { account_posture "$1" "$2" "$3"; }

test_cloudtrail_event_repairs_drift_in_seconds() {
    local ns q sg
    ns=$(new_namespace events)
    # A resync far longer than the test: only the event can trigger the repair.
    event_posture_setup "$ns" || return 1
    q=$E2E_EVENT_QUEUE
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
    k delete cloudaccount "$E2E_EVENT_ACCOUNT" >/dev/null
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

# ---------------------------------------------------------------- verified actors (issue 10)

# start_cloudtrail: the LookupEvents stand-in (moto lacks the API) on a free loopback port,
# stopped by the harness with the test; the controller reaches it by AWS_ENDPOINT_URL_CLOUDTRAIL.
start_cloudtrail() {
    python3 "$E2E_REPO/tests/e2e/cloudtrail_standin.py" --port-file "$E2E_TEST_DIR/cloudtrail.port" \
        >"$E2E_TEST_DIR/cloudtrail.log" 2>&1 &
    echo $! >"$E2E_TEST_DIR/pids/cloudtrail-standin"
    wait_for 20 "the CloudTrail stand-in" test -s "$E2E_TEST_DIR/cloudtrail.port" || return 1
    export E2E_CLOUDTRAIL_URL="http://127.0.0.1:$(cat "$E2E_TEST_DIR/cloudtrail.port")"
    export AWS_ENDPOINT_URL_CLOUDTRAIL=$E2E_CLOUDTRAIL_URL
}

cloudtrail_stat() { # cloudtrail_stat <key>: a counter of the stand-in
    curl -fsS "$E2E_CLOUDTRAIL_URL/standin/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

# recorded_event <queue> <event-name> <claimed-actor> <requestParameters-json> <recorded-actor>:
# sends an EventBridge envelope claiming the actor; with a recorded actor ("" for none), first
# loads into the stand-in what CloudTrail recorded for the same event id (that actor, the
# same call otherwise).
recorded_event() {
    local body
    body=$(python3 - "$2" "$3" "$4" "$5" "${E2E_CLOUDTRAIL_URL:-}" <<'PY'
import json, sys, uuid, urllib.request
from datetime import datetime, timezone
name, actor, params, recorded, url = sys.argv[1:6]
now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
detail = {
    "eventVersion": "1.08",
    "userIdentity": {"type": "IAMUser", "arn": actor, "accountId": "123456789012"},
    "eventTime": now, "eventSource": "ec2.amazonaws.com", "eventName": name,
    "awsRegion": "us-east-1", "sourceIPAddress": "198.51.100.9",
    "requestParameters": json.loads(params), "responseElements": {"_return": True},
    "eventID": str(uuid.uuid4()), "eventType": "AwsApiCall", "recipientAccountId": "123456789012"}
if recorded:
    rec = json.loads(json.dumps(detail))
    rec["userIdentity"]["arn"] = recorded
    req = urllib.request.Request(url + "/standin/records", data=json.dumps(rec).encode(), method="POST")
    urllib.request.urlopen(req, timeout=10).read()
print(json.dumps({"version": "0", "id": str(uuid.uuid4()), "detail-type": "AWS API Call via CloudTrail",
                  "source": "aws.ec2", "account": "123456789012", "time": now, "region": "us-east-1",
                  "resources": [], "detail": detail}))
PY
) || return 1
    sqsx send-message --queue-url "$1" --message-body "$body" >/dev/null
}

ssh_params() { # ssh_params <group-id>: AuthorizeSecurityGroupIngress of tcp 22 from anywhere
    echo "{\"groupId\": \"$1\", \"ipPermissions\": {\"items\": [{\"ipProtocol\": \"tcp\", \"fromPort\": 22, \"toPort\": 22, \"ipRanges\": {\"items\": [{\"cidrIp\": \"0.0.0.0/0\"}]}}]}}"
}

# ev_item <ns> <name> <rule text> <field>: a field of a drift item (JSON-encoded).
ev_item() {
    k get sgp "$2" -n "$1" -o json | python3 -c '
import json, sys
st = json.load(sys.stdin).get("status", {})
for it in st.get("drift", {}).get("items", []):
    if it.get("rule") == sys.argv[1]:
        v = it.get(sys.argv[2])
        print(v if isinstance(v, str) else json.dumps(v))
        break' "$3" "$4"
}
ev_item_is() { [ "$(ev_item "$1" "$2" "$3" "$4")" = "$5" ]; }

# excepted_posture <ns> <name> <account>: SSH from anywhere is tolerated when alice does it.
excepted_posture() {
    account_posture "$1" "$2" "$3" '  remediation:
    exceptions:
    - rule: {direction: ingress, protocol: tcp, fromPort: 22, toPort: 22, cidrs: ["0.0.0.0/0"]}
      actors: ["arn:aws:iam::123456789012:user/alice"]'
}

events_ready() { # events_ready <account>: the account's consumer runs
    wait_for 30 "the account consuming events" bash -c \
        "kubectl get cloudaccount $1 -o jsonpath='{.status.conditions[0].message}' | grep -q 'consuming events'"
}

# (a) An SQS message alone never makes drift Excepted: the actor it claims is unverified (no
# CloudTrail record), the drift is repaired and the status says so; a message CloudTrail
# contradicts is dropped as forged.
test_forged_actor_is_not_trusted_for_exceptions() {
    local ns q sg tag
    ns=$(new_namespace forged)
    tag=${ns#e2e-}
    q=$(make_queue "$tag")
    event_account "ev-$tag" "$q"
    start_cloudtrail || return 1
    start_controller --namespace "$ns" --resync-interval 10m --workers 2
    excepted_posture "$ns" web "ev-$tag"
    k wait --for=condition=Ready --timeout=60s sgp/web -n "$ns" || return 1
    events_ready "ev-$tag" || return 1
    sg=$(group_of "$ns" web)
    awsx ec2 authorize-security-group-ingress --group-id "$sg" --protocol tcp --port 22 --cidr 0.0.0.0/0 >/dev/null
    recorded_event "$q" AuthorizeSecurityGroupIngress "arn:aws:iam::123456789012:user/alice" "$(ssh_params "$sg")" "" || return 1
    wait_for 20 "the drift repaired despite the claimed actor" rules_are "$sg" ingress "tcp 443-443 10.0.0.0/8" || return 1
    wait_for 15 "the item repaired" ev_item_is "$ns" web 'tcp 22 0.0.0.0/0' state Revoked || return 1
    assert_eq "$(ev_item "$ns" web 'tcp 22 0.0.0.0/0' actor)" "arn:aws:iam::123456789012:user/alice" "actor" || return 1
    assert_eq "$(ev_item "$ns" web 'tcp 22 0.0.0.0/0' actorVerified)" "false" "actorVerified" || return 1
    [ "$(cloudtrail_stat lookups)" -ge 1 ] || fail "CloudTrail was never asked" || return 1
    metric_at_least netposture_event_actors_total 'verified="false"' 1 || fail "unverified actor not counted" || return 1
    # CloudTrail recorded bob for the event id the message gives: the message is forged.
    recorded_event "$q" AuthorizeSecurityGroupIngress "arn:aws:iam::123456789012:user/alice" "$(ssh_params "$sg")" \
        "arn:aws:iam::123456789012:user/bob" || return 1
    wait_for 20 "the forged message dropped" metric_at_least netposture_events_total 'result="forged"' 1 || return 1
    wait_for 15 "every message deleted" queue_empty "$q" || return 1
    grep -q 'dropping a forged event message' "$E2E_TEST_DIR/controller.log" || fail "no log line for the forged message" || return 1
    k delete cloudaccount "ev-$tag" >/dev/null
}

# (b) The same change with CloudTrail's record confirming alice: Excepted, actor verified.
test_verified_actor_matches_the_exception() {
    local ns q sg tag
    ns=$(new_namespace verified)
    tag=${ns#e2e-}
    q=$(make_queue "$tag")
    event_account "ev-$tag" "$q"
    start_cloudtrail || return 1
    start_controller --namespace "$ns" --resync-interval 10m --workers 2
    excepted_posture "$ns" web "ev-$tag"
    k wait --for=condition=Ready --timeout=60s sgp/web -n "$ns" || return 1
    events_ready "ev-$tag" || return 1
    sg=$(group_of "$ns" web)
    awsx ec2 authorize-security-group-ingress --group-id "$sg" --protocol tcp --port 22 --cidr 0.0.0.0/0 >/dev/null
    recorded_event "$q" AuthorizeSecurityGroupIngress "arn:aws:iam::123456789012:user/alice" "$(ssh_params "$sg")" \
        "arn:aws:iam::123456789012:user/alice" || return 1
    wait_for 20 "the drift excepted" ev_item_is "$ns" web 'tcp 22 0.0.0.0/0' state Excepted || return 1
    assert_eq "$(ev_item "$ns" web 'tcp 22 0.0.0.0/0' actorVerified)" "true" "actorVerified" || return 1
    assert_contains "$(rules "$sg" ingress)" "tcp 22-22 0.0.0.0/0" "the tolerated rule" || return 1
    [ "$(cloudtrail_stat found)" -ge 1 ] || fail "CloudTrail's record was never found" || return 1
    metric_at_least netposture_event_actors_total 'verified="true"' 1 || fail "verified actor not counted" || return 1
    k delete cloudaccount "ev-$tag" >/dev/null
}

# (c) An event on account A's queue naming a group of a posture on account B reaches no posture
# of B (same AWS account here: only the CloudAccount tells them apart).
test_event_reaches_only_postures_of_its_account() {
    local ns qa tag sga sgb
    ns=$(new_namespace evacct)
    tag=${ns#e2e-}
    qa=$(make_queue "$tag-a")
    event_account "eva-$tag" "$qa"
    ensure_account "evb-$tag"
    start_controller --namespace "$ns" --resync-interval 10m --workers 2
    events_posture "$ns" a "eva-$tag"
    events_posture "$ns" b "evb-$tag"
    k wait --for=condition=Ready --timeout=60s sgp/a sgp/b -n "$ns" || return 1
    events_ready "eva-$tag" || return 1
    sga=$(group_of "$ns" a)
    sgb=$(group_of "$ns" b)
    awsx ec2 authorize-security-group-ingress --group-id "$sgb" --protocol tcp --port 22 --cidr 0.0.0.0/0 >/dev/null
    send_event "$qa" AuthorizeSecurityGroupIngress "$sgb" "arn:aws:iam::123456789012:user/mallory"
    wait_for 20 "B's group unmanaged for A's queue" metric_at_least netposture_events_total 'result="unmanaged"' 1 || return 1
    # A's own posture still gets its events.
    awsx ec2 authorize-security-group-ingress --group-id "$sga" --protocol tcp --port 22 --cidr 0.0.0.0/0 >/dev/null
    send_event "$qa" AuthorizeSecurityGroupIngress "$sga" "arn:aws:iam::123456789012:user/alice"
    wait_for 20 "A's drift repaired from its event" rules_are "$sga" ingress "tcp 443-443 10.0.0.0/8" || return 1
    assert_eq "$(metric netposture_events_total 'result="handled"')" "1" "events handled" || return 1
    assert_contains "$(rules "$sgb" ingress)" "tcp 22-22 0.0.0.0/0" "B's drift (only its resync may repair it)" || return 1
    assert_eq "$(k get sgp b -n "$ns" -o jsonpath='{.status.drift.items[*].actor}')" "" "an actor attributed to B" || return 1
    k delete sgp a b -n "$ns" --wait=true --timeout=60s >/dev/null
    k delete cloudaccount "eva-$tag" "evb-$tag" >/dev/null
}

# Bounds: a message naming 20 groups acts on 16 (the rest counted), the batch's groups are read
# with one Describe, and a message that keeps coming back undeleted is deleted as poison.
test_event_work_is_bounded_and_poison_is_deleted() {
    local ns q tag sg1 sg2 ids i
    ns=$(new_namespace evbound)
    tag=${ns#e2e-}
    q=$(make_queue "$tag")
    event_account "ev-$tag" "$q"
    # A message received six times and never deleted (what a crash loop looks like).
    sqsx send-message --queue-url "$q" --message-body 'poison' >/dev/null
    for i in 1 2 3 4 5 6; do
        sqsx receive-message --queue-url "$q" --visibility-timeout 0 >/dev/null
    done
    start_controller --namespace "$ns" --resync-interval 10m --workers 2
    events_posture "$ns" one "ev-$tag"
    events_posture "$ns" two "ev-$tag"
    k wait --for=condition=Ready --timeout=60s sgp/one sgp/two -n "$ns" || return 1
    events_ready "ev-$tag" || return 1
    wait_for 20 "the poison message deleted" metric_at_least netposture_events_total 'result="poison"' 1 || return 1
    sg1=$(group_of "$ns" one)
    sg2=$(group_of "$ns" two)
    for sg in "$sg1" "$sg2"; do
        awsx ec2 authorize-security-group-ingress --group-id "$sg" --protocol tcp --port 22 --cidr 0.0.0.0/0 >/dev/null
    done
    ids="{\"resourceId\": \"$sg1\"}, {\"resourceId\": \"$sg2\"}"
    for i in $(seq 1 18); do ids="$ids, {\"resourceId\": \"sg-$(printf '%017x' "$i")\"}"; done
    send_cloudtrail_event "$q" CreateTags "arn:aws:iam::123456789012:user/alice" \
        "{\"resourcesSet\": {\"items\": [$ids]}, \"tagSet\": {\"items\": [{\"key\": \"x\", \"value\": \"y\"}]}}"
    wait_for 20 "the first group repaired" rules_are "$sg1" ingress "tcp 443-443 10.0.0.0/8" || return 1
    wait_for 20 "the second group repaired" rules_are "$sg2" ingress "tcp 443-443 10.0.0.0/8" || return 1
    assert_eq "$(metric netposture_event_ids_ignored_total)" "4" "ids past the cap" || return 1
    assert_eq "$(metric netposture_event_describe_total)" "1" "Describes for the batch" || return 1
    wait_for 15 "every message deleted" queue_empty "$q" || return 1
    k delete cloudaccount "ev-$tag" >/dev/null
}
