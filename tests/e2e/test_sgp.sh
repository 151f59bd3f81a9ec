# End-to-end tests of SecurityGroupPosture: declare, converge, detect and repair drift, report
# it on the CR — driven only through kubectl and the aws CLI against kube-apiserver and moto.
# shellcheck shell=bash

test_create_converges_and_reports_ready() {
    local ns sg
    ns=$(new_namespace create)
    start_for "$ns"
    apply_web "$ns"
    k wait --for=condition=Ready --timeout=60s "sgp/web" -n "$ns"
    sg=$(group_of "$ns" web)
    assert_contains "$sg" "sg-" "status.groupId"
    assert_eq "$(rules "$sg" ingress)" "tcp 443-443 10.0.0.0/8" "ingress"
    assert_eq "$(rules "$sg" egress)" "-1 * 0.0.0.0/0" "egress (AWS default kept)"
    assert_eq "$(tag_of "$sg" team)" "shop" "user tag"
    assert_eq "$(tag_of "$sg" netposture.dev/owner)" "$ns/web" "ownership tag"
    assert_eq "$(tag_of "$sg" netposture.dev/uid)" "$(k get sgp web -n "$ns" -o jsonpath='{.metadata.uid}')" "uid tag"
    assert_eq "$(condition sgp "$ns" web Synced)" "True/Synced" "Synced"
    assert_eq "$(condition sgp "$ns" web Drifted)" "False/NoDrift" "Drifted"
    assert_eq "$(k get sgp web -n "$ns" -o jsonpath='{.status.observedGeneration}')" \
        "$(k get sgp web -n "$ns" -o jsonpath='{.metadata.generation}')" "observedGeneration"
    assert_contains "$(k get sgp web -n "$ns" -o jsonpath='{.metadata.finalizers}')" "netposture.dev/finalizer"
    wait_for 20 "a Created event" has_event "$ns" web Created "$sg"
    # A spec change converges too: add a rule, drop egress to none.
    apply_web "$ns" '  egress: []
  ownership: Exclusive'
    k patch sgp web -n "$ns" --type json -p '[{"op":"add","path":"/spec/ingress/-","value":{"protocol":"udp","fromPort":53,"toPort":53,"cidrs":["10.1.2.3/16"]}}]' >/dev/null
    wait_for 60 "the new rule and no egress" rules_are "$sg" ingress "$(printf 'tcp 443-443 10.0.0.0/8\nudp 53-53 10.1.0.0/16')"
    wait_for 30 "egress removed" rules_are "$sg" egress ""
    k wait --for=condition=Ready --timeout=60s "sgp/web" -n "$ns"
}

test_extra_rule_is_revoked_and_reported() {
    local ns sg
    ns=$(new_namespace extra)
    start_for "$ns"
    apply_web "$ns"
    k wait --for=condition=Ready --timeout=60s sgp/web -n "$ns"
    sg=$(group_of "$ns" web)
    awsx ec2 authorize-security-group-ingress --group-id "$sg" --protocol tcp --port 22 --cidr 0.0.0.0/0 >/dev/null
    wait_for 30 "the out-of-band 0.0.0.0/0:22 rule to be revoked" rules_are "$sg" ingress "tcp 443-443 10.0.0.0/8"
    wait_for 20 "a drift item in status" bash -c \
        "kubectl get sgp web -n $ns -o jsonpath='{.status.drift.items[*].rule}' | grep -q 'tcp 22 0.0.0.0/0'"
    assert_contains "$(k get sgp web -n "$ns" -o jsonpath='{.status.drift.items[0]}')" '"state":"Revoked"'
    assert_contains "$(k get sgp web -n "$ns" -o jsonpath='{.status.drift.items[0]}')" '"change":"Extra"'
    [ -n "$(k get sgp web -n "$ns" -o jsonpath='{.status.lastRemediationTime}')" ] || fail "lastRemediationTime unset"
    wait_for 20 "a DriftDetected event" has_event "$ns" web DriftDetected "tcp 22 0.0.0.0/0"
    wait_for 20 "a Remediated event" has_event "$ns" web Remediated "revoke ingress tcp 22 0.0.0.0/0"
    k wait --for=condition=Ready --timeout=30s sgp/web -n "$ns"
}

test_revoked_declared_rule_is_restored() {
    local ns sg
    ns=$(new_namespace missing)
    start_for "$ns"
    apply_web "$ns"
    k wait --for=condition=Ready --timeout=60s sgp/web -n "$ns"
    sg=$(group_of "$ns" web)
    awsx ec2 revoke-security-group-ingress --group-id "$sg" --protocol tcp --port 443 --cidr 10.0.0.0/8 >/dev/null
    # (The controller may restore it before we could look: the drift item proves it was gone.)
    wait_for 30 "the declared rule to be restored" rules_are "$sg" ingress "tcp 443-443 10.0.0.0/8"
    wait_for 20 "a Missing drift item repaired" bash -c \
        "kubectl get sgp web -n $ns -o jsonpath='{.status.drift.items[?(@.change==\"Missing\")].state}' | grep -qx Authorized"
    wait_for 20 "a Remediated event" has_event "$ns" web Remediated "authorize ingress tcp 443 10.0.0.0/8"
}

test_deleted_or_changed_tag_is_restored() {
    local ns sg
    ns=$(new_namespace tags)
    start_for "$ns"
    apply_web "$ns"
    k wait --for=condition=Ready --timeout=60s sgp/web -n "$ns"
    sg=$(group_of "$ns" web)
    awsx ec2 delete-tags --resources "$sg" --tags Key=team >/dev/null
    wait_for 30 "tag team restored" bash -c "[ \"\$(source '$E2E_REPO/tests/e2e/lib.sh'; tag_of $sg team)\" = shop ]"
    awsx ec2 create-tags --resources "$sg" --tags Key=team,Value=someone-else >/dev/null
    wait_for 30 "tag team value restored" bash -c "[ \"\$(source '$E2E_REPO/tests/e2e/lib.sh'; tag_of $sg team)\" = shop ]"
    # Deleting our ownership tag is drift too: it comes back.
    awsx ec2 delete-tags --resources "$sg" --tags Key=netposture.dev/owner >/dev/null
    wait_for 30 "ownership tag restored" bash -c "[ \"\$(source '$E2E_REPO/tests/e2e/lib.sh'; tag_of $sg netposture.dev/owner)\" = $ns/web ]"
}

test_detect_mode_reports_and_leaves_aws_alone() {
    local ns sg
    ns=$(new_namespace detect)
    start_for "$ns"
    apply_web "$ns"
    k wait --for=condition=Ready --timeout=60s sgp/web -n "$ns"
    sg=$(group_of "$ns" web)
    k patch sgp web -n "$ns" --type merge -p '{"spec":{"remediation":{"mode":"Detect"}}}' >/dev/null
    wait_for 30 "Detect mode observed" bash -c \
        "[ \"\$(kubectl get sgp web -n $ns -o jsonpath='{.status.observedGeneration}')\" = \"\$(kubectl get sgp web -n $ns -o jsonpath='{.metadata.generation}')\" ]"
    awsx ec2 authorize-security-group-ingress --group-id "$sg" --protocol tcp --port 22 --cidr 0.0.0.0/0 >/dev/null
    awsx ec2 delete-tags --resources "$sg" --tags Key=team >/dev/null
    wait_for 30 "Drifted=True" condition_is sgp "$ns" web Drifted True/DriftDetected
    # The two changes may land in different snapshots: wait until both are reported.
    wait_for 30 "both drift items reported" bash -c \
        "[ \"\$(kubectl get sgp web -n $ns -o jsonpath='{.status.drift.count}')\" = 2 ]"
    local items
    items=$(k get sgp web -n "$ns" -o jsonpath='{.status.drift.items}')
    assert_contains "$items" '"rule":"tcp 22 0.0.0.0/0"'
    assert_contains "$items" '"state":"Reported"'
    assert_contains "$items" 'team'
    assert_eq "$(k get sgp web -n "$ns" -o jsonpath='{.status.drift.count}')" "2" "drift count"
    assert_eq "$(condition sgp "$ns" web Ready)" "False/DriftDetected" "Ready"
    wait_for 20 "a DriftDetected event" has_event "$ns" web DriftDetected "tcp 22 0.0.0.0/0"
    # Two more full resyncs later AWS is still untouched.
    local reads
    reads=$(metric netposture_aws_requests_total 'action="DescribeSecurityGroups"')
    wait_for 30 "two more resyncs" metric_at_least netposture_aws_requests_total 'action="DescribeSecurityGroups"' $((reads + 2))
    assert_eq "$(rules "$sg" ingress)" "$(printf 'tcp 22-22 0.0.0.0/0\ntcp 443-443 10.0.0.0/8')" "ingress untouched"
    assert_eq "$(tag_of "$sg" team)" "" "tag untouched"
    assert_eq "$(condition sgp "$ns" web Drifted)" "True/DriftDetected" "still drifted"
}

test_additive_ownership_leaves_foreign_rules() {
    local ns sg
    ns=$(new_namespace additive)
    start_for "$ns"
    apply_web "$ns" '  ownership: Additive'
    k wait --for=condition=Ready --timeout=60s sgp/web -n "$ns"
    sg=$(group_of "$ns" web)
    awsx ec2 authorize-security-group-ingress --group-id "$sg" --protocol tcp --port 8080 --cidr 192.168.0.0/16 >/dev/null
    awsx ec2 revoke-security-group-ingress --group-id "$sg" --protocol tcp --port 443 --cidr 10.0.0.0/8 >/dev/null
    # The controller sees both changes in the same snapshot: it restores ours, keeps theirs.
    wait_for 30 "our rule restored next to the foreign one" rules_are "$sg" ingress \
        "$(printf 'tcp 443-443 10.0.0.0/8\ntcp 8080-8080 192.168.0.0/16')"
    k wait --for=condition=Ready --timeout=30s sgp/web -n "$ns"
    assert_eq "$(rules "$sg" ingress)" "$(printf 'tcp 443-443 10.0.0.0/8\ntcp 8080-8080 192.168.0.0/16')" "foreign rule kept"
}

test_adopt_existing_group() {
    local ns sg vpc
    ns=$(new_namespace adopt)
    vpc=$(awsx ec2 describe-vpcs --filters Name=isDefault,Values=true --query 'Vpcs[0].VpcId' --output text)
    sg=$(awsx ec2 create-security-group --group-name "$ns-legacy" --description legacy --vpc-id "$vpc" --query GroupId --output text)
    awsx ec2 authorize-security-group-ingress --group-id "$sg" --protocol tcp --port 22 --cidr 0.0.0.0/0 >/dev/null
    start_for "$ns"
    k apply -n "$ns" -f - >/dev/null <<YAML
apiVersion: netposture.dev/v1alpha1
kind: SecurityGroupPosture
metadata: {name: legacy}
spec:
  groupName: $ns-legacy
  description: legacy
  ingress:
  - {protocol: tcp, fromPort: 443, toPort: 443, cidrs: ["10.0.0.0/8"]}
  management: {policy: Adopt, groupId: $sg}
YAML
    k wait --for=condition=Ready --timeout=60s sgp/legacy -n "$ns"
    assert_eq "$(group_of "$ns" legacy)" "$sg" "adopted group id"
    assert_eq "$(rules "$sg" ingress)" "tcp 443-443 10.0.0.0/8" "adopted group converged"
    assert_eq "$(tag_of "$sg" netposture.dev/owner)" "$ns/legacy" "ownership tag on adoption"
    assert_eq "$(groups_named "$ns-legacy" | wc -l | tr -d ' ')" "1" "no second group created"
    # A second posture may not adopt a group another posture owns.
    k apply -n "$ns" -f - >/dev/null <<YAML
apiVersion: netposture.dev/v1alpha1
kind: SecurityGroupPosture
metadata: {name: thief}
spec:
  groupName: $ns-legacy
  management: {policy: Adopt, groupId: $sg}
YAML
    wait_for 30 "adoption refused" condition_is sgp "$ns" thief Ready False/AdoptionRefused
    assert_contains "$(k get sgp thief -n "$ns" -o jsonpath='{.status.conditions[?(@.type=="Ready")].message}')" "$ns/legacy"
    # Adopted groups are retained by default when the posture goes away; our tags are dropped.
    k delete sgp legacy -n "$ns" --timeout=60s
    group_exists "$sg" || fail "adopted group deleted although the default for Adopt is Retain"
    assert_eq "$(tag_of "$sg" netposture.dev/owner)" "" "ownership tag removed on retain"
}

test_delete_with_delete_policy_removes_group() {
    local ns sg
    ns=$(new_namespace del)
    start_for "$ns"
    apply_web "$ns"
    k wait --for=condition=Ready --timeout=60s sgp/web -n "$ns"
    sg=$(group_of "$ns" web)
    k delete sgp web -n "$ns" --timeout=60s
    wait_for 30 "group deleted" bash -c "! aws ec2 describe-security-groups --group-ids $sg >/dev/null 2>&1"
}

test_delete_with_retain_policy_keeps_group() {
    local ns sg
    ns=$(new_namespace retain)
    start_for "$ns"
    apply_web "$ns" '  management: {deletionPolicy: Retain}'
    k wait --for=condition=Ready --timeout=60s sgp/web -n "$ns"
    sg=$(group_of "$ns" web)
    k delete sgp web -n "$ns" --timeout=60s
    group_exists "$sg" || fail "retained group was deleted"
    assert_eq "$(tag_of "$sg" netposture.dev/owner)" "" "ownership tag removed"
    assert_eq "$(tag_of "$sg" netposture.dev/uid)" "" "uid tag removed"
    assert_eq "$(tag_of "$sg" team)" "shop" "user tags kept"
    assert_eq "$(rules "$sg" ingress)" "tcp 443-443 10.0.0.0/8" "rules kept"
}

test_restart_midway_creates_no_duplicate() {
    local ns
    ns=$(new_namespace restart)
    start_for "$ns"
    apply_web "$ns"
    # Kill the controller as soon as the group exists, before it can finish the reconcile.
    wait_for 60 "the group to be created" bash -c "[ -n \"\$(aws ec2 describe-security-groups --filters Name=group-name,Values=$ns-web --query 'SecurityGroups[].GroupId' --output text)\" ]"
    stop_controller KILL
    start_controller --namespace "$ns" --resync-interval "$RESYNC" --workers 2
    k wait --for=condition=Ready --timeout=60s sgp/web -n "$ns"
    assert_eq "$(groups_named "$ns-web" | wc -l | tr -d ' ')" "1" "groups named $ns-web"
    assert_eq "$(group_of "$ns" web)" "$(groups_named "$ns-web")" "status names the only group"
    # A clean restart (SIGTERM) exits promptly and changes nothing either.
    stop_controller TERM
    start_controller --namespace "$ns" --resync-interval "$RESYNC" --workers 2
    k wait --for=condition=Ready --timeout=60s sgp/web -n "$ns"
    assert_eq "$(groups_named "$ns-web" | wc -l | tr -d ' ')" "1" "groups after second restart"
}

test_invalid_specs_are_rejected_at_admission() {
    local ns out
    ns=$(new_namespace invalid)
    out=$(expect_failure k apply -n "$ns" -f - <<'YAML'
apiVersion: netposture.dev/v1alpha1
kind: SecurityGroupPosture
metadata: {name: bad-cidr}
spec:
  groupName: bad
  ingress: [{protocol: tcp, fromPort: 443, toPort: 443, cidrs: ["10.0.0.0/33"]}]
YAML
)
    assert_contains "$out" '"10.0.0.0/33" is not an IPv4 CIDR'
    out=$(expect_failure k apply -n "$ns" -f - <<'YAML'
apiVersion: netposture.dev/v1alpha1
kind: SecurityGroupPosture
metadata: {name: bad-port}
spec:
  groupName: bad
  ingress: [{protocol: tcp, fromPort: 70000, toPort: 70000, cidrs: ["10.0.0.0/8"]}]
YAML
)
    assert_contains "$out" "should be less than or equal to 65535"
    out=$(expect_failure k apply -n "$ns" -f - <<'YAML'
apiVersion: netposture.dev/v1alpha1
kind: SecurityGroupPosture
metadata: {name: bad-range}
spec:
  groupName: bad
  ingress: [{protocol: tcp, fromPort: 443, toPort: 80, cidrs: ["10.0.0.0/8"]}]
YAML
)
    assert_contains "$out" "fromPort must not be greater than toPort"
    out=$(expect_failure k apply -n "$ns" -f - <<'YAML'
apiVersion: netposture.dev/v1alpha1
kind: SecurityGroupPosture
metadata: {name: bad-family}
spec:
  groupName: bad
  ingress: [{protocol: tcp, fromPort: 443, toPort: 443, cidrs: ["2001:db8::/32"]}]
YAML
)
    assert_contains "$out" "IPv6 goes in ipv6Cidrs"
    assert_eq "$(k get sgp -n "$ns" -o name)" "" "nothing stored"
}

test_missing_account_is_reported_and_others_converge() {
    local ns
    ns=$(new_namespace noacct)
    start_for "$ns"
    k apply -n "$ns" -f - >/dev/null <<YAML
apiVersion: netposture.dev/v1alpha1
kind: SecurityGroupPosture
metadata: {name: orphan}
spec:
  accountRef: {name: does-not-exist-$ns}
  groupName: $ns-orphan
YAML
    apply_web "$ns"
    wait_for 30 "AccountNotFound" condition_is sgp "$ns" orphan Ready False/AccountNotFound
    assert_contains "$(k get sgp orphan -n "$ns" -o jsonpath='{.status.conditions[?(@.type=="Ready")].message}')" "does-not-exist-$ns"
    k wait --for=condition=Ready --timeout=60s sgp/web -n "$ns"
    assert_eq "$(groups_named "$ns-orphan")" "" "no group for the orphan"
    # Creating the account later heals the posture without a restart.
    ensure_account "does-not-exist-$ns"
    k wait --for=condition=Ready --timeout=60s sgp/orphan -n "$ns"
}

test_account_not_allowed_for_namespace() {
    local ns
    ns=$(new_namespace notallowed)
    ensure_account "restricted-$ns" '{matchLabels: {team: payments}}'
    start_for "$ns"
    k apply -n "$ns" -f - >/dev/null <<YAML
apiVersion: netposture.dev/v1alpha1
kind: SecurityGroupPosture
metadata: {name: sneaky}
spec:
  accountRef: {name: restricted-$ns}
  groupName: $ns-sneaky
YAML
    wait_for 30 "AccountNotAllowed" condition_is sgp "$ns" sneaky Ready False/AccountNotAllowed
    assert_eq "$(groups_named "$ns-sneaky")" "" "no group created through a forbidden account"
    # Labelling the namespace lets it through.
    k label namespace "$ns" team=payments >/dev/null
    k wait --for=condition=Ready --timeout=60s sgp/sneaky -n "$ns"
}
