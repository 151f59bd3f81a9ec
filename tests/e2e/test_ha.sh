# High availability: several controller processes with --leader-elect on one Lease in
# netposture-system, against the real apiserver and moto. Exactly one leads; the standby does
# nothing; a killed leader is replaced within lease duration + retry period; a stopped one
# hands over at once; and a leader frozen past its lease makes no AWS mutation and no write
# after it thaws (its EC2 traffic goes through a recording proxy, so the check can fail).
# shellcheck shell=bash

HA_LEASE=6s
HA_RENEW=4s
HA_RETRY=1s
HA_RETRY_S=1

# ha_start <ns> <lease-id>: one more replica; sets HA_PID and HA_METRICS.
ha_start() {
    start_controller --namespace "$1" --resync-interval 2s --workers 2 --leader-elect \
        --leader-election-namespace netposture-system --leader-election-id "$2" \
        --leader-election-lease-duration "$HA_LEASE" --leader-election-renew-deadline "$HA_RENEW" \
        --leader-election-retry-period "$HA_RETRY"
    HA_PID=$E2E_CONTROLLER_PID
    HA_METRICS=$E2E_METRICS_PORT
    at_exit "kill -CONT $HA_PID 2>/dev/null; kill -KILL $HA_PID 2>/dev/null"
    E2E_CONTROLLER_PID= # the harness's own stop would only stop the last one
}

lease_field() { # lease_field <id> <field>
    k get lease "$1" -n netposture-system -o jsonpath="{.spec.$2}" 2>/dev/null
}

lease_held() { [ -n "$(lease_field "$1" holderIdentity)" ]; }

lease_holder_not() { # lease_holder_not <id> <identity>: held by someone else
    local h
    h=$(lease_field "$1" holderIdentity)
    [ -n "$h" ] && [ "$h" != "$2" ]
}

metric_on() { # metric_on <port> <name> [filter]
    E2E_METRICS_PORT=$1 metric "$2" "${3:-}"
}

# mutations_on <proxy-port>: how many EC2 requests that change something the proxy forwarded.
mutations_on() {
    curl -fsS "http://127.0.0.1:$1/fault-proxy/stats" | python3 -c '
import json, sys
acts = json.load(sys.stdin)["actions"]
print(sum(n for a, n in acts.items() if not a.startswith(("Describe", "Get", "List", "Search"))))'
}

ha_cleanup_lease() { # a test's Lease goes with it
    at_exit "kubectl delete lease $1 -n netposture-system --wait=false >/dev/null 2>&1"
}

# Two replicas, then a posture: exactly one leads, the standby reconciled nothing and called
# no AWS API at all.
ha_pair() { # ha_pair <ns> <id>: sets PA/MA (leader) and PB/MB (standby)
    ensure_account default
    ha_start "$1" "$2"
    PA=$HA_PID MA=$HA_METRICS
    wait_for 30 "the first replica leads" lease_held "$2" || return 1
    ha_start "$1" "$2"
    PB=$HA_PID MB=$HA_METRICS
    wait_for 20 "the standby serves metrics" metric_on "$MB" netposture_leader >/dev/null || return 1
}

# ha_converged: a namespace (NS), a Lease id (ID), two replicas and the posture web Ready.
ha_converged() {
    NS=$(new_namespace ha)
    ID=np-ha-$RANDOM
    ha_cleanup_lease "$ID"
    ha_pair "$NS" "$ID" || return 1
    apply_web "$NS"
    k wait --for=condition=Ready --timeout=90s sgp/web -n "$NS" >/dev/null
}

test_two_replicas_exactly_one_leads() {
    local ns id holder
    ha_converged || return 1
    ns=$NS id=$ID
    holder=$(lease_field "$id" holderIdentity)
    assert_contains "$holder" "_" "holderIdentity is <hostname>_<random>" || return 1
    assert_eq "$(metric_on "$MA" netposture_leader)/$(metric_on "$MB" netposture_leader)" "1/0" \
        "netposture_leader of the leader/standby" || return 1
    assert_eq "$(metric_on "$MB" netposture_reconcile_total)" 0 "the standby's reconciles" || return 1
    assert_eq "$(metric_on "$MB" netposture_aws_requests_total)" 0 "the standby's AWS requests" || return 1
    [ "$(metric_on "$MA" netposture_aws_requests_total)" != 0 ] || fail "the leader made no AWS call" || return 1
    [ -n "$(lease_field "$id" acquireTime)" ] && [ -n "$(lease_field "$id" renewTime)" ] \
        || fail "acquireTime/renewTime missing on the Lease" || return 1
    wait_for 20 "a LeaderElected Event on the Lease naming the holder" leader_event "$id" "$holder" || return 1
}

leader_event() { # leader_event <lease-id> <holder>: the Event the new leader records
    k get events -n netposture-system --field-selector "involvedObject.name=$1,reason=LeaderElected" \
        -o jsonpath='{.items[*].message}' 2>/dev/null | grep -q "$2 became the leader"
}

test_kill9_leader_standby_takes_over_and_repairs() {
    local ns id old sg
    ha_converged || return 1
    ns=$NS id=$ID
    sg=$(group_of "$ns" web)
    old=$(lease_field "$id" holderIdentity)
    kill -KILL "$PA"
    awsx ec2 authorize-security-group-ingress --group-id "$sg" --protocol tcp --port 22 \
        --cidr 0.0.0.0/0 >/dev/null
    # lease duration (6 s) + retry period (1 s), with room for a loaded machine
    wait_for 15 "the standby holds the lease" lease_holder_not "$id" "$old" || return 1
    wait_for 60 "the drift repaired by the new leader" \
        rules_are "$sg" ingress "tcp 443-443 10.0.0.0/8" || return 1
    assert_eq "$(metric_on "$MB" netposture_leader)" 1 "the new leader's netposture_leader" || return 1
    metric_at_least_on "$MB" netposture_leader_transitions_total 1 || return 1
}

metric_at_least_on() { # metric_at_least_on <port> <name> <n>
    local v
    v=$(metric_on "$1" "$2")
    python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) >= float(sys.argv[2]) else 1)' "$v" "$3" \
        || fail "$2 is $v, expected at least $3"
}

# SIGTERM: the leader drains, releases the Lease, and the standby acquires it within two retry
# periods of the release (measured on the Lease's own timestamps, one clock).
test_sigterm_hands_over_within_two_retry_periods() {
    local ns id old gone acquired gap
    ns=$(new_namespace ha)
    id=np-ha-$RANDOM
    ha_cleanup_lease "$id"
    ha_pair "$ns" "$id" || return 1
    old=$(lease_field "$id" holderIdentity)
    kill -TERM "$PA"
    wait_for 20 "the old leader exits" bash -c "! kill -0 $PA 2>/dev/null" || return 1
    gone=$(date +%s.%N)
    wait_for 10 "the standby holds the lease" lease_holder_not "$id" "$old" || return 1
    grep -q "leader election: lease released" "$E2E_TEST_DIR/controller.log" \
        || fail "the old leader did not release the lease" || return 1
    acquired=$(lease_field "$id" acquireTime)
    gap=$(python3 -c '
import sys, datetime
acq = datetime.datetime.strptime(sys.argv[1].rstrip("Z")[:26], "%Y-%m-%dT%H:%M:%S.%f")
acq = acq.replace(tzinfo=datetime.timezone.utc).timestamp()
print(f"{acq - float(sys.argv[2]):.3f}")' "$acquired" "$gone")
    echo "handover: acquired $gap s after the old leader exited (it released before exiting)"
    python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) <= 2 * float(sys.argv[2]) else 1)' \
        "$gap" "$HA_RETRY_S" || fail "handover took $gap s, more than 2 retry periods" || return 1
}

# A leader frozen (SIGSTOP) past its lease while a spec change waits in its watch: the standby
# takes over and applies it; when the old one thaws, with its stale snapshot and the change in
# hand, it must not mutate (its EC2 traffic goes through a proxy that counts every forwarded
# action) nor write status, and it exits non-zero.
test_frozen_leader_does_not_mutate_after_thawing() {
    local ns id old port rv rc before both
    ns=$(new_namespace ha)
    id=np-ha-$RANDOM
    ha_cleanup_lease "$id"
    ensure_account default
    start_fault_proxy ha-proxy || return 1
    port=$FAULT_PROXY_PORT
    export AWS_ENDPOINT_URL_EC2="http://127.0.0.1:$port" # this replica only
    ha_start "$ns" "$id"
    unset AWS_ENDPOINT_URL_EC2
    PA=$HA_PID
    wait_for 30 "the first replica leads" lease_held "$id" || return 1
    old=$(lease_field "$id" holderIdentity)
    ha_start "$ns" "$id"
    apply_web "$ns"
    k wait --for=condition=Ready --timeout=90s sgp/web -n "$ns" >/dev/null || return 1
    before=$(mutations_on "$port")
    [ "$before" -ge 1 ] || fail "the leader's mutations did not go through its proxy" || return 1
    kill -STOP "$PA"
    apply_web "$ns" "  - {protocol: tcp, fromPort: 8443, toPort: 8443, cidrs: [\"10.0.0.0/8\"]}"
    wait_for 20 "the standby holds the lease" lease_holder_not "$id" "$old" || return 1
    both=$(printf 'tcp 443-443 10.0.0.0/8\ntcp 8443-8443 10.0.0.0/8')
    wait_for 60 "the new leader applied the change" rules_are "$(group_of "$ns" web)" ingress "$both" || return 1
    wait_for 60 "the posture converged for the change" \
        condition_is sgp "$ns" web Ready True/Converged || return 1
    [ "$(k get sgp web -n "$ns" -o jsonpath='{.status.conditions[?(@.type=="Ready")].observedGeneration}')" = 2 ] \
        || fail "the Ready condition is not of generation 2" || return 1
    rv=$(k get sgp web -n "$ns" -o jsonpath='{.metadata.resourceVersion}')
    kill -CONT "$PA"
    wait_for 20 "the thawed process exits" bash -c "! kill -0 $PA 2>/dev/null" || return 1
    rc=0
    wait "$PA" 2>/dev/null || rc=$?
    [ "$rc" -ne 0 ] || fail "the thawed process exited 0 after losing the lease" || return 1
    assert_eq "$(mutations_on "$port")" "$before" "mutations through the old leader's proxy after the thaw" || return 1
    assert_eq "$(k get sgp web -n "$ns" -o jsonpath='{.metadata.resourceVersion}')" "$rv" \
        "the posture's resourceVersion (no write after the thaw)" || return 1
    grep -q "lost the lease" "$E2E_TEST_DIR/controller.log" \
        || fail "the thawed process did not say it lost the lease" || return 1
}
