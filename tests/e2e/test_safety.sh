# End-to-end tests of safe remediation: Propose and approve, blast radius, grace periods,
# exceptions, flapping (Contested) and PostureGuardrails — through kubectl and the aws CLI
# against kube-apiserver and moto.
# shellcheck shell=bash

# item <ns> <name> <rule text> <field>: a field of the status drift item for this rule ("" when
# absent).
item() {
    k get sgp "$2" -n "$1" -o json | python3 -c '
import json, sys
st = json.load(sys.stdin).get("status", {})
for it in st.get("drift", {}).get("items", []):
    if it.get("rule") == sys.argv[1]:
        print(it.get(sys.argv[2], ""))
        break' "$3" "$4"
}

item_is() { # item_is <ns> <name> <rule text> <field> <value>: for wait_for.
    [ "$(item "$1" "$2" "$3" "$4")" = "$5" ]
}

plan_field() { # plan_field <ns> <name> <jsonpath under .status.plan>
    k get sgp "$2" -n "$1" -o jsonpath="{.status.plan.$3}"
}

# add_rule <group> <port> <cidr>: the out-of-band hand.
add_rule() {
    awsx ec2 authorize-security-group-ingress --group-id "$1" --protocol tcp --port "$2" --cidr "$3" >/dev/null
}

# resyncs <n>: waits until the controller has read AWS n more times (a condition, not a sleep).
resyncs() {
    local reads
    reads=$(metric netposture_aws_requests_total 'action="DescribeSecurityGroups"')
    wait_for 30 "$1 more resyncs" metric_at_least netposture_aws_requests_total 'action="DescribeSecurityGroups"' $((reads + $1))
}

# rfc3339 <-> epoch seconds
epoch() { date -u -d "$1" +%s; }

test_propose_applies_only_the_approved_plan() {
    local ns sg id1 id2
    ns=$(new_namespace propose)
    start_for "$ns"
    apply_web "$ns"
    k wait --for=condition=Ready --timeout=60s sgp/web -n "$ns"
    sg=$(group_of "$ns" web)
    apply_web "$ns" '  remediation: {mode: Propose}'
    wait_for 30 "Propose mode observed" bash -c \
        "[ \"\$(kubectl get sgp web -n $ns -o jsonpath='{.status.observedGeneration}')\" = 2 ]"
    add_rule "$sg" 22 0.0.0.0/0
    wait_for 30 "a proposed plan" condition_is sgp "$ns" web Ready False/PlanProposed
    id1=$(plan_field "$ns" web id)
    assert_contains "$id1" "sha256:" "plan id" || return 1
    assert_contains "$(plan_field "$ns" web actions)" "revoke ingress tcp 22 0.0.0.0/0" "plan actions" || return 1
    assert_eq "$(item "$ns" web 'tcp 22 0.0.0.0/0' state)" "Proposed" "drift item state" || return 1
    wait_for 20 "a PlanProposed event" has_event "$ns" web PlanProposed "$id1" || return 1
    resyncs 2 || return 1
    assert_eq "$(rules "$sg" ingress)" "$(printf 'tcp 22-22 0.0.0.0/0\ntcp 443-443 10.0.0.0/8')" "AWS untouched while proposed" || return 1
    # The plan changes (more drift): the first id is now stale and applies nothing.
    add_rule "$sg" 23 0.0.0.0/0
    wait_for 30 "a new plan" bash -c "[ \"\$(kubectl get sgp web -n $ns -o jsonpath='{.status.plan.id}')\" != '$id1' ]"
    id2=$(plan_field "$ns" web id)
    k annotate sgp web -n "$ns" "netposture.dev/approve-plan=$id1" >/dev/null
    wait_for 30 "the stale approval reported" bash -c \
        "kubectl get sgp web -n $ns -o jsonpath='{.status.plan.reason}' | grep -q stale" || return 1
    assert_eq "$(rules "$sg" ingress | wc -l)" "3" "nothing applied on a stale approval" || return 1
    # The matching approval applies exactly the plan, verifies and clears it.
    k annotate --overwrite sgp web -n "$ns" "netposture.dev/approve-plan=$id2" >/dev/null
    wait_for 30 "the approved plan applied" rules_are "$sg" ingress "tcp 443-443 10.0.0.0/8" || return 1
    wait_for 30 "Ready again" condition_is sgp "$ns" web Ready True/Converged || return 1
    assert_eq "$(plan_field "$ns" web id)" "" "plan cleared" || return 1
    assert_eq "$(item "$ns" web 'tcp 22 0.0.0.0/0' state)" "Revoked" "drift item state" || return 1
    wait_for 20 "a PlanApproved event" has_event "$ns" web PlanApproved "$id2" || return 1
    # An approval is for one plan: it is consumed once applied.
    wait_for 20 "the approval consumed" bash -c \
        "[ -z \"\$(kubectl get sgp web -n $ns -o jsonpath='{.metadata.annotations.netposture\.dev/approve-plan}')\" ]"
}

test_blast_radius_holds_a_big_plan_until_approved() {
    local ns sg id
    ns=$(new_namespace blast)
    start_for "$ns"
    apply_web "$ns" '  remediation: {maxChangesPerSync: 2}'
    k wait --for=condition=Ready --timeout=60s sgp/web -n "$ns"
    sg=$(group_of "$ns" web)
    # Three extra rules in one call, so one snapshot sees all three.
    awsx ec2 authorize-security-group-ingress --group-id "$sg" --ip-permissions \
        'IpProtocol=tcp,FromPort=8080,ToPort=8080,IpRanges=[{CidrIp=192.0.2.1/32},{CidrIp=192.0.2.2/32},{CidrIp=192.0.2.3/32}]' >/dev/null
    wait_for 30 "the plan held" condition_is sgp "$ns" web Ready False/BlastRadiusExceeded || return 1
    assert_contains "$(k get sgp web -n "$ns" -o jsonpath='{.status.conditions[?(@.type=="Ready")].message}')" \
        "maxChangesPerSync 2" "Ready message" || return 1
    wait_for 20 "a BlastRadiusExceeded event" has_event "$ns" web BlastRadiusExceeded "held 3 change(s) that can reduce reachability" || return 1
    resyncs 2 || return 1
    assert_eq "$(rules "$sg" ingress | wc -l)" "4" "nothing revoked over the blast radius" || return 1
    id=$(plan_field "$ns" web id)
    k annotate sgp web -n "$ns" "netposture.dev/approve-plan=$id" >/dev/null
    wait_for 30 "the approved plan applied" rules_are "$sg" ingress "tcp 443-443 10.0.0.0/8" || return 1
    wait_for 30 "Ready again" condition_is sgp "$ns" web Ready True/Converged
}

test_grace_period_delays_the_repair() {
    local ns sg until resolved
    ns=$(new_namespace grace)
    start_for "$ns"
    apply_web "$ns" '  remediation: {gracePeriod: 12s}'
    k wait --for=condition=Ready --timeout=60s sgp/web -n "$ns"
    sg=$(group_of "$ns" web)
    add_rule "$sg" 22 0.0.0.0/0
    wait_for 30 "the drift pending" item_is "$ns" web 'tcp 22 0.0.0.0/0' state Pending || return 1
    until=$(item "$ns" web 'tcp 22 0.0.0.0/0' until)
    [ -n "$until" ] || fail "Pending item without until" || return 1
    assert_eq "$(condition sgp "$ns" web Ready)" "False/GracePeriod" "Ready" || return 1
    wait_for 20 "a GracePeriod event" has_event "$ns" web GracePeriod "tcp 22 0.0.0.0/0" || return 1
    # Still there while the grace period runs (checked only if we are clearly inside it).
    if [ "$(date -u +%s)" -lt $(( $(epoch "$until") - 2 )) ]; then
        assert_contains "$(rules "$sg" ingress)" "tcp 22-22 0.0.0.0/0" "rule kept during grace" || return 1
    fi
    wait_for 40 "the rule repaired after the grace period" rules_are "$sg" ingress "tcp 443-443 10.0.0.0/8" || return 1
    wait_for 20 "the item repaired" item_is "$ns" web 'tcp 22 0.0.0.0/0' state Revoked || return 1
    resolved=$(item "$ns" web 'tcp 22 0.0.0.0/0' resolvedAt)
    [ "$(epoch "$resolved")" -ge "$(epoch "$until")" ] || fail "repaired at $resolved, before $until"
}

test_exception_tolerates_drift_until_it_expires() {
    local ns sg expires resolved
    ns=$(new_namespace except)
    start_for "$ns"
    expires=$(date -u -d '+15 seconds' +%Y-%m-%dT%H:%M:%SZ)
    apply_web "$ns" "  remediation:
    exceptions:
    - rule: {direction: ingress, protocol: tcp, fromPort: 22, toPort: 22, cidrs: [\"203.0.113.7/32\"]}
      expires: \"$expires\"
    - rule: {direction: ingress, protocol: tcp, fromPort: 22, toPort: 22, cidrs: [\"198.51.100.1/32\"]}
      actors: [\"arn:aws:iam::*:user/alice\"]"
    k wait --for=condition=Ready --timeout=60s sgp/web -n "$ns"
    sg=$(group_of "$ns" web)
    awsx ec2 authorize-security-group-ingress --group-id "$sg" --ip-permissions \
        'IpProtocol=tcp,FromPort=22,ToPort=22,IpRanges=[{CidrIp=203.0.113.7/32},{CidrIp=198.51.100.1/32}]' >/dev/null
    wait_for 30 "the excepted drift reported" item_is "$ns" web 'tcp 22 203.0.113.7/32' state Excepted || return 1
    # An exception limited to actors never matches drift whose actor is unknown (polling).
    wait_for 30 "the actor-bound exception not applied" rules_are "$sg" ingress \
        "$(printf 'tcp 22-22 203.0.113.7/32\ntcp 443-443 10.0.0.0/8')" || return 1
    assert_eq "$(item "$ns" web 'tcp 22 203.0.113.7/32' until)" "$expires" "exception expiry" || return 1
    wait_for 20 "Ready with the exception" condition_is sgp "$ns" web Ready True/Converged || return 1
    wait_for 20 "an Excepted event" has_event "$ns" web Excepted "203.0.113.7/32" || return 1
    # After the expiry the drift is drift again and repaired.
    wait_for 40 "the rule repaired after expiry" rules_are "$sg" ingress "tcp 443-443 10.0.0.0/8" || return 1
    wait_for 20 "the item repaired" item_is "$ns" web 'tcp 22 203.0.113.7/32' state Revoked || return 1
    resolved=$(item "$ns" web 'tcp 22 203.0.113.7/32' resolvedAt)
    [ "$(epoch "$resolved")" -ge "$(epoch "$expires")" ] || fail "repaired at $resolved, before the expiry $expires"
}

test_flapping_drift_becomes_contested_until_retried() {
    local ns sg i
    ns=$(new_namespace flap)
    start_for "$ns"
    apply_web "$ns"
    k wait --for=condition=Ready --timeout=60s sgp/web -n "$ns"
    sg=$(group_of "$ns" web)
    # Another process keeps adding the same rule back.
    for i in 1 2; do
        add_rule "$sg" 22 0.0.0.0/0
        wait_for 30 "repair #$i" rules_are "$sg" ingress "tcp 443-443 10.0.0.0/8" || return 1
        # (the second repair counts the second occurrence)
        wait_for 20 "the repair #$i recorded" item_is "$ns" web 'tcp 22 0.0.0.0/0' occurrences "$([ "$i" = 1 ] || echo "$i")" || return 1
        assert_eq "$(item "$ns" web 'tcp 22 0.0.0.0/0' state)" "Revoked" "item state after repair #$i" || return 1
    done
    add_rule "$sg" 22 0.0.0.0/0
    wait_for 30 "Contested" condition_is sgp "$ns" web Contested True/Flapping || return 1
    assert_eq "$(item "$ns" web 'tcp 22 0.0.0.0/0' state)" "Contested" "item state" || return 1
    assert_eq "$(item "$ns" web 'tcp 22 0.0.0.0/0' occurrences)" "3" "occurrences" || return 1
    assert_eq "$(condition sgp "$ns" web Ready)" "False/Contested" "Ready" || return 1
    wait_for 20 "a Contested event" has_event "$ns" web Contested "tcp 22 0.0.0.0/0" || return 1
    resyncs 2 || return 1
    assert_contains "$(rules "$sg" ingress)" "tcp 22-22 0.0.0.0/0" "a contested item is no longer repaired" || return 1
    # A human asks to try again: repaired, the annotation is consumed.
    k annotate sgp web -n "$ns" netposture.dev/retry-contested=true >/dev/null
    wait_for 30 "repaired after retry" rules_are "$sg" ingress "tcp 443-443 10.0.0.0/8" || return 1
    wait_for 30 "not contested" condition_is sgp "$ns" web Contested False/NotContested || return 1
    wait_for 20 "the annotation consumed" bash -c \
        "[ -z \"\$(kubectl get sgp web -n $ns -o jsonpath='{.metadata.annotations.netposture\.dev/retry-contested}')\" ]"
}

# guardrail <name> <enforcement> <ns-label-value> <rule yaml>: a PostureGuardrail governing only
# the namespaces labelled netposture-e2e=<value> (guardrails are cluster-wide).
guardrail() {
    k apply -f - >/dev/null <<YAML
apiVersion: netposture.dev/v1alpha1
kind: PostureGuardrail
metadata: {name: $1}
spec:
  namespaceSelector: {matchLabels: {netposture-e2e: "$3"}}
  enforcement: $2
  rules:
$4
YAML
}

test_guardrails_deny_warn_and_violating_drift() {
    local ns sg tag
    ns=$(new_namespace guard)
    tag=${ns#e2e-}
    k label namespace "$ns" "netposture-e2e=$tag" >/dev/null
    # The shipped CIS guardrails are valid objects.
    k apply --dry-run=server -f "$E2E_REPO/manifests/guardrails/cis-aws-network.yaml" >/dev/null || return 1
    guardrail "e2e-deny-$tag" Deny "$tag" '  - id: no-ssh-from-anywhere
    references: ["CIS AWS Foundations 5.2"]
    deny: {direction: ingress, cidrs: ["0.0.0.0/0"], ports: [22], protocols: [tcp, all]}' || return 1
    guardrail "e2e-warn-$tag" Warn "$tag" '  - id: no-8080
    deny: {direction: ingress, ports: [8080]}' || return 1
    start_for "$ns"
    # A compliant posture with a long grace period converges.
    apply_web "$ns" '  remediation: {gracePeriod: 1h}'
    # A violating one is refused, and nothing is created for it.
    k apply -n "$ns" -f - >/dev/null <<YAML
apiVersion: netposture.dev/v1alpha1
kind: SecurityGroupPosture
metadata: {name: bad}
spec:
  groupName: $ns-bad
  ingress:
  - {protocol: tcp, fromPort: 22, toPort: 22, cidrs: ["0.0.0.0/0"]}
YAML
    # A posture breaking only the Warn guardrail is applied and flagged.
    k apply -n "$ns" -f - >/dev/null <<YAML
apiVersion: netposture.dev/v1alpha1
kind: SecurityGroupPosture
metadata: {name: warned}
spec:
  groupName: $ns-warned
  ingress:
  - {protocol: tcp, fromPort: 8080, toPort: 8080, cidrs: ["10.0.0.0/8"]}
YAML
    k wait --for=condition=Ready --timeout=60s sgp/web -n "$ns" || return 1
    wait_for 30 "the violating posture refused" condition_is sgp "$ns" bad Ready False/GuardrailViolation || return 1
    local msg
    msg=$(k get sgp bad -n "$ns" -o jsonpath='{.status.conditions[?(@.type=="Ready")].message}')
    assert_contains "$msg" "e2e-deny-$tag" "message names the guardrail" || return 1
    assert_contains "$msg" "no-ssh-from-anywhere" "message names the rule" || return 1
    assert_contains "$msg" "ingress tcp 22 0.0.0.0/0" "message names the offending rule" || return 1
    assert_eq "$(groups_named "$ns-bad")" "" "no group created for a refused posture" || return 1
    wait_for 20 "a GuardrailViolation event" has_event "$ns" bad GuardrailViolation "no-ssh-from-anywhere" || return 1
    k wait --for=condition=Ready --timeout=60s sgp/warned -n "$ns" || return 1
    assert_eq "$(condition sgp "$ns" warned Compliant)" "False/GuardrailWarning" "Warn flags" || return 1
    assert_eq "$(rules "$(group_of "$ns" warned)" ingress)" "tcp 8080-8080 10.0.0.0/8" "Warn applies" || return 1
    assert_eq "$(condition sgp "$ns" web Compliant)" "True/Compliant" "compliant posture" || return 1
    # The guardrail lists its violations.
    wait_for 30 "the guardrail's violations" bash -c \
        "kubectl get postureguardrail e2e-deny-$tag -o jsonpath='{.status.violations.items[*].posture}' | grep -q '$ns/bad'" || return 1
    # Violating drift is repaired at once despite the 1h grace period; other drift waits.
    sg=$(group_of "$ns" web)
    awsx ec2 authorize-security-group-ingress --group-id "$sg" --ip-permissions \
        'IpProtocol=tcp,FromPort=22,ToPort=22,IpRanges=[{CidrIp=0.0.0.0/0}]' \
        'IpProtocol=tcp,FromPort=23,ToPort=23,IpRanges=[{CidrIp=0.0.0.0/0}]' >/dev/null
    wait_for 30 "the violating rule revoked" rules_are "$sg" ingress \
        "$(printf 'tcp 23-23 0.0.0.0/0\ntcp 443-443 10.0.0.0/8')" || return 1
    wait_for 20 "the violating item recorded" item_is "$ns" web 'tcp 22 0.0.0.0/0' guardrail "e2e-deny-$tag/no-ssh-from-anywhere" || return 1
    assert_eq "$(item "$ns" web 'tcp 23 0.0.0.0/0' state)" "Pending" "ordinary drift waits for its grace" || return 1
    k delete postureguardrail "e2e-deny-$tag" "e2e-warn-$tag" >/dev/null
    # Without the guardrail the refused posture converges.
    wait_for 60 "the refused posture applied once the guardrail is gone" condition_is sgp "$ns" bad Ready True/Converged
}
