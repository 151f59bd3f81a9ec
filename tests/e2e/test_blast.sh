# End-to-end tests of the blast radius (maxChangesPerSync): only changes that can reduce
# reachability count toward it, so a new posture converges at once however many rules it
# declares, while mass revokes (a list emptied in Git, foreign rules over-corrected) wait for
# an approval of exactly that plan; the object form {subtractive, total} is admitted and used.
# shellcheck shell=bash

# ingress_rules <n> [first-octet]: n YAML ingress rules, tcp 443 from 10.<first>.<i>.0/24.
ingress_rules() {
    local i out=""
    for i in $(seq 0 $(($1 - 1))); do
        out+="  - {protocol: tcp, fromPort: 443, toPort: 443, cidrs: [\"10.${2:-1}.$i.0/24\"]}"$'\n'
    done
    printf '%s' "$out"
}

# blast_posture <ns> <n-rules> [extra spec yaml lines]: the posture "web" with n rules.
blast_posture() {
    k apply -n "$1" -f - >/dev/null <<YAML
apiVersion: netposture.dev/v1alpha1
kind: SecurityGroupPosture
metadata: {name: web}
spec:
  groupName: $1-web
  ingress:
$(ingress_rules "$2")
${3:-}
YAML
}

ready_message() { # ready_message <ns> <name>
    k get sgp "$2" -n "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].message}'
}

rule_count() { # rule_count <group> <direction>
    rules "$1" "$2" | sed '/^$/d' | wc -l | tr -d ' '
}

rule_count_is() { # rule_count_is <group> <direction> <n>: for wait_for.
    [ "$(rule_count "$1" "$2")" = "$3" ]
}

revokes() { # revokes: RevokeSecurityGroupIngress calls the controller made
    metric netposture_aws_requests_total 'action="RevokeSecurityGroupIngress"'
}

# many_foreign_rules <group> <n>: n rules authorized out of band in one call (one snapshot sees
# them all), tcp 8080 from 192.0.2.<i>/32.
many_foreign_rules() {
    local i ranges=""
    for i in $(seq 1 "$2"); do
        ranges+="${ranges:+,}{CidrIp=192.0.2.$i/32}"
    done
    awsx ec2 authorize-security-group-ingress --group-id "$1" --ip-permissions \
        "IpProtocol=tcp,FromPort=8080,ToPort=8080,IpRanges=[$ranges]" >/dev/null
}

# held_then_approved <ns> <group> <held> <rules left after approval>: the posture is held with
# BlastRadiusExceeded naming the held count, AWS stays untouched over two more resyncs, and
# approving the published plan applies exactly it.
held_then_approved() {
    local ns=$1 sg=$2 held=$3 left=$4 before id
    wait_for 30 "the plan held" condition_is sgp "$ns" web Ready False/BlastRadiusExceeded || return 1
    assert_contains "$(ready_message "$ns" web)" \
        "held $held change(s) that can reduce reachability, over maxChangesPerSync 20" "Ready message" || return 1
    wait_for 20 "a BlastRadiusExceeded event" has_event "$ns" web BlastRadiusExceeded "held $held change(s)" || return 1
    id=$(k get sgp web -n "$ns" -o jsonpath='{.status.plan.id}')
    assert_contains "$(ready_message "$ns" web)" "netposture.dev/approve-plan=$id" "Ready names the plan" || return 1
    assert_eq "$(k get sgp web -n "$ns" -o json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["status"]["plan"]["actions"]))')" \
        "$held" "plan lines" || return 1
    before=$(rule_count "$sg" ingress)
    resyncs 2 || return 1
    assert_eq "$(rule_count "$sg" ingress)" "$before" "nothing revoked while held" || return 1
    assert_eq "$(revokes)" "0" "revoke calls while held" || return 1
    assert_eq "$(k get sgp web -n "$ns" -o jsonpath='{.status.plan.id}')" "$id" "the plan id is stable" || return 1
    k annotate sgp web -n "$ns" "netposture.dev/approve-plan=$id" >/dev/null
    wait_for 30 "the approved plan applied" rule_count_is "$sg" ingress "$left" || return 1
    wait_for 30 "Ready again" condition_is sgp "$ns" web Ready True/Converged || return 1
    wait_for 20 "a PlanApproved event" has_event "$ns" web PlanApproved "$id"
}

# resyncs <n>: waits until the controller has read AWS n more times.
resyncs() {
    local reads
    reads=$(metric netposture_aws_requests_total 'action="DescribeSecurityGroups"')
    wait_for 30 "$1 more resyncs" metric_at_least netposture_aws_requests_total 'action="DescribeSecurityGroups"' $((reads + $1))
}

test_blast_new_posture_with_60_rules_converges_at_once() {
    local ns sg
    ns=$(new_namespace blast60)
    start_for "$ns"
    # 60 authorizes and the revoke of AWS's default egress: one subtractive change.
    blast_posture "$ns" 60 '  egress: []'
    k wait --for=condition=Ready --timeout=60s sgp/web -n "$ns"
    assert_eq "$(condition sgp "$ns" web Ready)" "True/Converged" "Ready" || return 1
    sg=$(group_of "$ns" web)
    assert_eq "$(rule_count "$sg" ingress)" 60 "ingress rules" || return 1
    assert_eq "$(rule_count "$sg" egress)" 0 "egress rules" || return 1
    assert_eq "$(events_for "$ns" web | grep -c BlastRadiusExceeded)" 0 "BlastRadiusExceeded events" || return 1
    assert_eq "$(k get sgp web -n "$ns" -o jsonpath='{.status.plan}')" "" "no plan waits" || return 1
}

test_blast_spec_edit_removing_25_rules_is_held_until_approved() {
    local ns sg
    ns=$(new_namespace blastgit)
    start_for "$ns"
    blast_posture "$ns" 30
    k wait --for=condition=Ready --timeout=60s sgp/web -n "$ns"
    sg=$(group_of "$ns" web)
    assert_eq "$(rule_count "$sg" ingress)" 30 "ingress rules before the edit" || return 1
    # A Git commit keeps 5 of the 30 rules and adds 2: the adds go through at once.
    blast_posture "$ns" 5 "$(ingress_rules 2 2)"
    wait_for 30 "the 2 new rules authorized" rule_count_is "$sg" ingress 32 || return 1
    held_then_approved "$ns" "$sg" 25 7 || return 1
    assert_eq "$(rules "$sg" ingress)" "$(printf 'tcp 443-443 10.1.%s.0/24\n' 0 1 2 3 4; printf 'tcp 443-443 10.2.%s.0/24\n' 0 1)" \
        "the rules of the spec" || return 1
}

test_blast_25_foreign_rules_in_exclusive_ownership_are_held() {
    local ns sg
    ns=$(new_namespace blastfrgn)
    start_for "$ns"
    blast_posture "$ns" 3
    k wait --for=condition=Ready --timeout=60s sgp/web -n "$ns"
    sg=$(group_of "$ns" web)
    many_foreign_rules "$sg" 25
    held_then_approved "$ns" "$sg" 25 3
}

test_blast_additive_ownership_never_revokes() {
    local ns sg
    ns=$(new_namespace blastadd)
    start_for "$ns"
    blast_posture "$ns" 30 '  ownership: Additive'
    k wait --for=condition=Ready --timeout=60s sgp/web -n "$ns"
    sg=$(group_of "$ns" web)
    many_foreign_rules "$sg" 25
    # A spec edit dropping 25 declared rules: they are no longer ours, so they stay too.
    blast_posture "$ns" 5 '  ownership: Additive'
    wait_for 30 "the edit observed" bash -c \
        "[ \"\$(kubectl get sgp web -n $ns -o jsonpath='{.status.observedGeneration}')\" = 2 ]" || return 1
    resyncs 3 || return 1
    assert_eq "$(condition sgp "$ns" web Ready)" "True/Converged" "Ready" || return 1
    assert_eq "$(rule_count "$sg" ingress)" 55 "ingress rules" || return 1
    assert_eq "$(revokes)" "0" "revoke calls" || return 1
    assert_eq "$(k get sgp web -n "$ns" -o jsonpath='{.status.drift.count}')" "0" "drift" || return 1
}

test_blast_total_cap_holds_every_change() {
    local ns sg id
    ns=$(new_namespace blasttot)
    start_for "$ns"
    blast_posture "$ns" 3 '  remediation: {maxChangesPerSync: {subtractive: 20, total: 4}}'
    k wait --for=condition=Ready --timeout=60s sgp/web -n "$ns"
    sg=$(group_of "$ns" web)
    blast_posture "$ns" 8 '  remediation: {maxChangesPerSync: {subtractive: 20, total: 4}}'
    wait_for 30 "the plan held" condition_is sgp "$ns" web Ready False/BlastRadiusExceeded || return 1
    assert_contains "$(ready_message "$ns" web)" \
        "held all 5 change(s), over maxChangesPerSync.total 4 (0 of them can reduce reachability)" "Ready message" || return 1
    resyncs 2 || return 1
    assert_eq "$(rule_count "$sg" ingress)" 3 "nothing authorized over the total cap" || return 1
    id=$(k get sgp web -n "$ns" -o jsonpath='{.status.plan.id}')
    k annotate sgp web -n "$ns" "netposture.dev/approve-plan=$id" >/dev/null
    wait_for 30 "the approved plan applied" rule_count_is "$sg" ingress 8 || return 1
    wait_for 30 "Ready again" condition_is sgp "$ns" web Ready True/Converged
}

# Both posture kinds admit maxChangesPerSync as an integer or {subtractive, total} and refuse
# anything else at admission (server-side dry runs: nothing is stored).
test_blast_max_changes_admission() {
    local ns kind head
    ns=$(new_namespace blastadm)
    for kind in SecurityGroupPosture VPCPosture; do
        head="apiVersion: netposture.dev/v1alpha1
kind: $kind
metadata: {name: adm}
spec:"
        if [ "$kind" = VPCPosture ]; then head+=$'\n  cidrBlock: 10.0.0.0/16'; else head+=$'\n  groupName: adm'; fi
        blast_admits "$ns" "$head" '' 20 || return 1
        blast_admits "$ns" "$head" '7' 7 || return 1
        blast_admits "$ns" "$head" '{subtractive: 5}' '{"subtractive":5}' || return 1
        blast_admits "$ns" "$head" '{total: 50}' '{"total":50}' || return 1
        blast_admits "$ns" "$head" '{subtractive: 5, total: 50}' '{"subtractive":5,"total":50}' || return 1
        blast_refuses "$ns" "$head" '0' 'maxChangesPerSync in body should be greater than or equal to 1' || return 1
        blast_refuses "$ns" "$head" '1001' 'maxChangesPerSync in body should be less than or equal to 1000' || return 1
        blast_refuses "$ns" "$head" '"20"' 'maxChangesPerSync" must validate one and only one schema (oneOf)' || return 1
        blast_refuses "$ns" "$head" '2.5' 'maxChangesPerSync" must validate one and only one schema (oneOf)' || return 1
        blast_refuses "$ns" "$head" 'true' 'maxChangesPerSync" must validate one and only one schema (oneOf)' || return 1
        blast_refuses "$ns" "$head" '[5]' 'maxChangesPerSync" must validate one and only one schema (oneOf)' || return 1
        blast_refuses "$ns" "$head" '{}' 'maxChangesPerSync" must validate one and only one schema (oneOf)' || return 1
        blast_refuses "$ns" "$head" '{all: 5}' 'maxChangesPerSync" must validate one and only one schema (oneOf)' || return 1
        blast_refuses "$ns" "$head" '{subtractive: 5, all: 5}' 'maxChangesPerSync: Too many: 2: must have at most 1 item' || return 1
        blast_refuses "$ns" "$head" '{subtractive: 0}' 'maxChangesPerSync.subtractive in body should be greater than or equal to 1' || return 1
        blast_refuses "$ns" "$head" '{total: 1001}' 'maxChangesPerSync.total in body should be less than or equal to 1000' || return 1
        blast_refuses "$ns" "$head" '{total: "9"}' 'maxChangesPerSync.total in body must be of type integer' || return 1
    done
}

# blast_doc <head> <value>: the posture with remediation.maxChangesPerSync (omitted when "").
blast_doc() {
    printf '%s\n' "$1"
    [ -z "$2" ] || printf '  remediation:\n    maxChangesPerSync: %s\n' "$2"
}

# blast_admits <ns> <head> <value> <stored>: admitted, and stored as <stored>.
blast_admits() {
    local out
    out=$(blast_doc "$2" "$3" | k apply --dry-run=server -n "$1" -f - \
        -o jsonpath='{.spec.remediation.maxChangesPerSync}') || fail "maxChangesPerSync $3 refused" || return 1
    assert_eq "$out" "$4" "maxChangesPerSync $3 stored"
}

# blast_refuses <ns> <head> <value> <message>: refused with the message.
blast_refuses() {
    local out
    out=$(blast_doc "$2" "$3" | expect_failure k apply --dry-run=server -n "$1" -f -) ||
        fail "maxChangesPerSync $3 accepted" || return 1
    assert_contains "$out" "$4" "maxChangesPerSync $3"
}
