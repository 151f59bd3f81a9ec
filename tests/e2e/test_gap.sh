# Make-before-break measured on the wire: the controller reaches moto through fault_proxy.py
# --record, which logs every mutating EC2 call with the time it left and the time its answer
# came back; wire_gap.py replays the log of one spec change against the state before it and
# measures, for every flow the old and the new spec both allow, the longest time no rule
# allowed it, and whether flows only one spec allows were added before the others went.
# Every case asserts a gap of 0 s (and the replayed log ending where AWS is).
# shellcheck shell=bash

# gap_env <account>: the recording proxy in front of moto, a CloudAccount using it and a
# controller for the test's namespace; sets GAP_NS, GAP_PORT, GAP_LOG.
gap_env() {
    GAP_LOG="$E2E_TEST_DIR/wire.jsonl"
    start_fault_proxy gap-proxy --record "$GAP_LOG" || return 1
    GAP_PORT=$FAULT_PROXY_PORT
    k apply -f - >/dev/null <<YAML
apiVersion: netposture.dev/v1alpha1
kind: CloudAccount
metadata: {name: $1}
spec:
  aws: {region: us-east-1, endpoint: "http://127.0.0.1:$GAP_PORT", credentials: {source: Environment}}
  allowedNamespaces: {}
YAML
    at_exit "kubectl delete cloudaccount $1 --wait=false >/dev/null 2>&1"
    GAP_NS=$(new_namespace "gap-$1")
    start_controller --namespace "$GAP_NS" --resync-interval "$RESYNC" --workers 2
}

# gap_case <case>: runs one case of wire_gap.py and asserts its gap is 0 s.
gap_case() {
    local acct out
    acct="gap-$(head -c 3 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    gap_env "$acct" || return 1
    out=$(python3 "$E2E_REPO/tests/e2e/wire_gap.py" run --ns "$GAP_NS" --account "$acct" \
        --proxy-port "$GAP_PORT" --log "$GAP_LOG" --cases "$1" --timeout 60) || true
    echo "$out" | tee "$E2E_TEST_DIR/gap.json"
    [ -n "$out" ] || fail "$1: no result" || return 1
    assert_eq "$(gap_field "$out" ok)" "True" "$1: $(gap_field "$out" why)" || return 1
    assert_eq "$(gap_field "$out" gap_s)" "0.0" "$1: the gap" || return 1
    assert_eq "$(gap_field "$out" replay_matches_end)" "True" "$1: the replay ends where AWS is"
}

gap_field() { # gap_field <json> <key>
    python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"
}

# The checker itself, on hand-made logs: break-before-make must show a gap.
test_gap_checker_sees_break_before_make() {
    local out
    out=$(python3 "$E2E_REPO/tests/e2e/wire_gap.py" selftest)
    assert_eq "$out" '{"selftest": "ok", "cases": 8}' "selftest"
}

test_gap_sg_cidr_change() { gap_case sg-cidr; }
test_gap_sg_port_range_change() { gap_case sg-ports; }
test_gap_sg_split_one_rule_in_two() { gap_case sg-split; }
test_gap_sg_merge_two_rules_into_one() { gap_case sg-merge; }
test_gap_sg_cidr_to_security_group_peer() { gap_case sg-cidr-to-group; }
test_gap_sg_description_only_in_place() { gap_case sg-description; }
test_gap_nacl_entry_same_rule_number() { gap_case acl-same-number; }
test_gap_nacl_entry_renumbered() { gap_case acl-renumber; }
test_gap_nacl_deny_removed_before_an_allow_narrows() { gap_case acl-deny-removed; }
test_gap_nacl_allow_added_before_a_deny() { gap_case acl-deny-added; }
test_gap_route_target_replaced() { gap_case route-target; }
