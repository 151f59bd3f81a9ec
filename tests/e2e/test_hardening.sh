# End-to-end tests of the hardening rules of deletion: at deletion only what carries the
# posture's own uid tag is deleted (a refused, Detect-only or re-tagged adoption never is), and
# a netposture finalizer that a user put on a posture is removed without any AWS call.
# shellcheck shell=bash

default_vpc() {
    awsx ec2 describe-vpcs --filters Name=isDefault,Values=true --query 'Vpcs[0].VpcId' --output text
}

vpc_exists() { awsx ec2 describe-vpcs --vpc-ids "$1" >/dev/null 2>&1; }

# A group adopted in Detect mode carries no tag of ours: deleting its posture (with a
# finalizer the user added and deletionPolicy Delete) must leave it alone.
test_detect_adoption_with_user_finalizer_never_deletes_the_group() {
    local ns sg
    ns=$(new_namespace hdetect)
    sg=$(awsx ec2 create-security-group --group-name "$ns-legacy" --description legacy \
        --vpc-id "$(default_vpc)" --query GroupId --output text)
    awsx ec2 authorize-security-group-ingress --group-id "$sg" --protocol tcp --port 22 --cidr 10.1.0.0/16 >/dev/null
    start_for "$ns"
    k apply -n "$ns" -f - >/dev/null <<YAML
apiVersion: netposture.dev/v1alpha1
kind: SecurityGroupPosture
metadata: {name: legacy, finalizers: [netposture.dev/finalizer]}
spec:
  groupName: $ns-legacy
  ingress:
  - {protocol: tcp, fromPort: 443, toPort: 443, cidrs: ["10.0.0.0/8"]}
  management: {policy: Adopt, groupId: $sg, deletionPolicy: Delete}
  remediation: {mode: Detect}
YAML
    wait_for 30 "the Detect pass reported" bash -c "[ \"\$(kubectl get sgp legacy -n $ns -o jsonpath='{.status.groupId}')\" = $sg ]"
    k delete sgp legacy -n "$ns" --wait=true --timeout=60s >/dev/null
    group_exists "$sg" || fail "a group adopted in Detect mode was deleted" || return 1
    assert_eq "$(rules "$sg" ingress)" "tcp 22-22 10.1.0.0/16" "its rules untouched" || return 1
    wait_for 20 "a FinalizerNotOurs event" has_event "$ns" legacy FinalizerNotOurs "$sg"
}

# A VPC adoption refused (the VPC is owned by another posture) plus a user-added finalizer and
# deletionPolicy Delete: deleting the posture must not delete the other posture's VPC.
test_refused_vpc_adoption_with_user_finalizer_never_deletes_the_vpc() {
    local ns vpc
    ns=$(new_namespace hvpc)
    vpc=$(awsx ec2 create-vpc --cidr-block 10.61.0.0/16 --query 'Vpc.VpcId' --output text)
    awsx ec2 create-tags --resources "$vpc" --tags Key=netposture.dev/owner,Value=other/main \
        Key=netposture.dev/uid,Value=00000000-0000-0000-0000-000000000001 >/dev/null
    start_for "$ns"
    k apply -n "$ns" -f - >/dev/null <<YAML
apiVersion: netposture.dev/v1alpha1
kind: VPCPosture
metadata: {name: thief, finalizers: [netposture.dev/finalizer]}
spec:
  cidrBlock: 10.61.0.0/16
  management: {policy: Adopt, vpcId: $vpc, deletionPolicy: Delete}
YAML
    wait_for 30 "adoption refused" condition_is vpcp "$ns" thief Ready False/AdoptionRefused
    k delete vpcp thief -n "$ns" --wait=true --timeout=60s >/dev/null
    vpc_exists "$vpc" || fail "the other posture's VPC was deleted" || return 1
    assert_contains "$(awsx ec2 describe-vpcs --vpc-ids "$vpc" --query 'Vpcs[0].Tags' --output text)" \
        "other/main" "the other owner's tags stay" || return 1
    wait_for 20 "a FinalizerNotOurs event" has_event "$ns" thief FinalizerNotOurs "without any AWS call"
}

# The same two paths the other way round: a refused group adoption and a Detect-only VPC
# adoption, each with a user-added finalizer and deletionPolicy Delete.
test_refused_group_and_detect_vpc_adoptions_never_delete() {
    local ns sg vpc
    ns=$(new_namespace hrefuse)
    sg=$(awsx ec2 create-security-group --group-name "$ns-owned" --description owned \
        --vpc-id "$(default_vpc)" --query GroupId --output text)
    awsx ec2 create-tags --resources "$sg" --tags Key=netposture.dev/owner,Value=other/web \
        Key=netposture.dev/uid,Value=00000000-0000-0000-0000-000000000003 >/dev/null
    vpc=$(awsx ec2 create-vpc --cidr-block 10.63.0.0/16 --query 'Vpc.VpcId' --output text)
    start_for "$ns"
    k apply -n "$ns" -f - >/dev/null <<YAML
apiVersion: netposture.dev/v1alpha1
kind: SecurityGroupPosture
metadata: {name: thief, finalizers: [netposture.dev/finalizer]}
spec:
  groupName: $ns-owned
  management: {policy: Adopt, groupId: $sg, deletionPolicy: Delete}
---
apiVersion: netposture.dev/v1alpha1
kind: VPCPosture
metadata: {name: watch, finalizers: [netposture.dev/finalizer]}
spec:
  cidrBlock: 10.63.0.0/16
  management: {policy: Adopt, vpcId: $vpc, deletionPolicy: Delete}
  remediation: {mode: Detect}
YAML
    wait_for 30 "group adoption refused" condition_is sgp "$ns" thief Ready False/AdoptionRefused || return 1
    wait_for 30 "the Detect pass reported" bash -c "[ \"\$(kubectl get vpcp watch -n $ns -o jsonpath='{.status.vpcId}')\" = $vpc ]" || return 1
    k delete sgp thief -n "$ns" --wait=true --timeout=60s >/dev/null
    k delete vpcp watch -n "$ns" --wait=true --timeout=60s >/dev/null
    group_exists "$sg" || fail "another posture's group was deleted" || return 1
    assert_eq "$(tag_of "$sg" netposture.dev/owner)" "other/web" "the other owner's tags stay" || return 1
    vpc_exists "$vpc" || fail "a VPC adopted in Detect mode was deleted" || return 1
}

# Adopted in Enforce mode (our finalizer, our tags), then re-tagged for another posture out of
# band: deletion with deletionPolicy Delete retains the group and leaves the new owner's tags.
test_adopted_group_retagged_by_another_owner_is_not_deleted() {
    local ns sg
    ns=$(new_namespace hretag)
    sg=$(awsx ec2 create-security-group --group-name "$ns-shared" --description shared \
        --vpc-id "$(default_vpc)" --query GroupId --output text)
    start_for "$ns"
    k apply -n "$ns" -f - >/dev/null <<YAML
apiVersion: netposture.dev/v1alpha1
kind: SecurityGroupPosture
metadata: {name: shared}
spec:
  groupName: $ns-shared
  ingress:
  - {protocol: tcp, fromPort: 443, toPort: 443, cidrs: ["10.0.0.0/8"]}
  management: {policy: Adopt, groupId: $sg, deletionPolicy: Delete}
YAML
    k wait --for=condition=Ready --timeout=60s sgp/shared -n "$ns"
    assert_eq "$(tag_of "$sg" netposture.dev/owner)" "$ns/shared" "adopted and tagged" || return 1
    awsx ec2 create-tags --resources "$sg" --tags Key=netposture.dev/owner,Value=other/web \
        Key=netposture.dev/uid,Value=00000000-0000-0000-0000-000000000002 >/dev/null
    k delete sgp shared -n "$ns" --wait=true --timeout=60s >/dev/null
    group_exists "$sg" || fail "a group owned by another posture was deleted" || return 1
    assert_eq "$(tag_of "$sg" netposture.dev/owner)" "other/web" "the new owner's tags stay"
}

# adoption_account <name> <adoption-yaml>: a CloudAccount with spec.adoption.
adoption_account() {
    k apply -f - >/dev/null <<YAML
apiVersion: netposture.dev/v1alpha1
kind: CloudAccount
metadata: {name: $1}
spec:
  aws: {region: us-east-1, credentials: {source: Environment}}
  adoption: $2
YAML
}

# adopt_posture <ns> <name> <account> <group-id>
adopt_posture() { account_posture "$1" "$2" "$3" "  management: {policy: Adopt, groupId: $4}"; }

# CloudAccount.spec.adoption: with a selector only matching groups may be adopted; allowed:
# false refuses all; changing management.groupId releases the group adopted before.
test_adoption_selector_and_released_groups() {
    local ns tag vpc plain tagged other
    ns=$(new_namespace hadopt)
    tag=$(head -c 3 /dev/urandom | od -An -tx1 | tr -d ' \n')
    vpc=$(default_vpc)
    plain=$(awsx ec2 create-security-group --group-name "$ns-plain" --description plain --vpc-id "$vpc" --query GroupId --output text)
    tagged=$(awsx ec2 create-security-group --group-name "$ns-tagged" --description tagged --vpc-id "$vpc" \
        --tag-specifications 'ResourceType=security-group,Tags=[{Key=netposture.dev/adoptable,Value=true}]' --query GroupId --output text)
    other=$(awsx ec2 create-security-group --group-name "$ns-other" --description other --vpc-id "$vpc" --query GroupId --output text)
    awsx ec2 authorize-security-group-ingress --group-id "$plain" --protocol tcp --port 22 --cidr 10.9.0.0/16 >/dev/null
    adoption_account "sel-$tag" "{selector: {tags: {netposture.dev/adoptable: \"true\"}, ids: [$other]}}"
    adoption_account "none-$tag" "{allowed: false}"
    start_for "$ns"
    # Outside the selector: refused, and nothing changed on the group.
    adopt_posture "$ns" plain "sel-$tag" "$plain"
    wait_for 30 "adoption not allowed" condition_is sgp "$ns" plain Ready False/AdoptionNotAllowed || return 1
    assert_contains "$(k get sgp plain -n "$ns" -o jsonpath='{.status.conditions[?(@.type=="Ready")].message}')" \
        "spec.adoption.selector" "the reason names the selector" || return 1
    assert_eq "$(rules "$plain" ingress)" "tcp 22-22 10.9.0.0/16" "refused group's rules untouched" || return 1
    assert_eq "$(tag_of "$plain" netposture.dev/owner)" "" "refused group not tagged" || return 1
    # allowed: false refuses even a group the selector of another account would admit.
    adopt_posture "$ns" none "none-$tag" "$tagged"
    wait_for 30 "no adoption at all" condition_is sgp "$ns" none Ready False/AdoptionNotAllowed || return 1
    k delete sgp none -n "$ns" --wait=true --timeout=60s >/dev/null
    # Matching by tag: adopted.
    adopt_posture "$ns" web "sel-$tag" "$tagged"
    k wait --for=condition=Ready --timeout=60s sgp/web -n "$ns" || return 1
    assert_eq "$(tag_of "$tagged" netposture.dev/owner)" "$ns/web" "adopted by tag" || return 1
    # Matching by id, and the group adopted before is released (our tags removed).
    k patch sgp web -n "$ns" --type merge -p "{\"spec\":{\"management\":{\"groupId\":\"$other\"}}}" >/dev/null
    wait_for 60 "the new group adopted" bash -c "[ \"\$(kubectl get sgp web -n $ns -o jsonpath='{.status.groupId}')\" = $other ]" || return 1
    k wait --for=condition=Ready --timeout=60s sgp/web -n "$ns" || return 1
    wait_for 30 "the old group released" bash -c "[ -z \"\$(aws --output text ec2 describe-security-groups --group-ids $tagged --query 'SecurityGroups[0].Tags[?Key==\`netposture.dev/owner\`].Value')\" ]" || return 1
    assert_eq "$(tag_of "$other" netposture.dev/owner)" "$ns/web" "adopted by id" || return 1
    assert_eq "$(tag_of "$tagged" netposture.dev/adoptable)" "true" "user tags of the released group stay" || return 1
    wait_for 20 "a Released event" has_event "$ns" web Released "$tagged"
    k delete sgp plain web -n "$ns" --wait=true --timeout=60s >/dev/null
    k delete cloudaccount "sel-$tag" "none-$tag" >/dev/null
}

# A second VPC carrying a posture's uid (what two controllers creating at once leave behind)
# is reported and deleted; the posture's own VPC stays.
test_duplicate_vpc_carrying_our_uid_is_reported_and_deleted() {
    local ns uid vpc dup
    ns=$(new_namespace hdup)
    start_for "$ns"
    k apply -n "$ns" -f - >/dev/null <<YAML
apiVersion: netposture.dev/v1alpha1
kind: VPCPosture
metadata: {name: main}
spec:
  cidrBlock: 10.62.0.0/16
YAML
    k wait --for=condition=Ready --timeout=60s vpcp/main -n "$ns" || return 1
    vpc=$(k get vpcp main -n "$ns" -o jsonpath='{.status.vpcId}')
    uid=$(k get vpcp main -n "$ns" -o jsonpath='{.metadata.uid}')
    dup=$(awsx ec2 create-vpc --cidr-block 10.62.0.0/16 --query 'Vpc.VpcId' --output text)
    awsx ec2 create-tags --resources "$dup" --tags "Key=netposture.dev/uid,Value=$uid" \
        "Key=netposture.dev/owner,Value=$ns/main" >/dev/null
    wait_for 30 "the duplicate deleted" bash -c "! aws ec2 describe-vpcs --vpc-ids $dup >/dev/null 2>&1" || return 1
    vpc_exists "$vpc" || fail "the posture's own VPC was deleted" || return 1
    assert_eq "$(k get vpcp main -n "$ns" -o jsonpath='{.status.vpcId}')" "$vpc" "status keeps its VPC" || return 1
    wait_for 20 "a DuplicateFound event" has_event "$ns" main DuplicateFound "$dup"
    k delete vpcp main -n "$ns" --wait=true --timeout=60s >/dev/null
}

# Admission: spec.adoption.selector needs tags or ids (ids are group or VPC ids), and a
# VPCPosture's management.vpcId cannot change.
test_adoption_and_vpc_id_admission() {
    local ns out tag
    ns=$(new_namespace hadm)
    tag=$(head -c 3 /dev/urandom | od -An -tx1 | tr -d ' \n')
    out=$(expect_failure adoption_account "adm-$tag" "{selector: {}}") || return 1
    assert_contains "$out" "adoption.selector needs tags or ids" || return 1
    out=$(expect_failure adoption_account "adm-$tag" "{selector: {ids: [subnet-0123456789abcdef0]}}") || return 1
    assert_contains "$out" "spec.adoption.selector.ids[0]" || return 1
    k apply -n "$ns" -f - >/dev/null <<YAML
apiVersion: netposture.dev/v1alpha1
kind: VPCPosture
metadata: {name: legacy}
spec:
  cidrBlock: 10.64.0.0/16
  management: {policy: Adopt, vpcId: vpc-0123456789abcdef0}
YAML
    out=$(expect_failure k patch vpcp legacy -n "$ns" --type merge \
        -p '{"spec":{"management":{"vpcId":"vpc-0fedcba9876543210"}}}') || return 1
    assert_contains "$out" "management.vpcId is immutable"
}

# A manifest that lists our finalizer before the posture's first AWS object: the controller
# claims it (server-side apply), so deletion still deletes what it created.
test_finalizer_listed_in_the_manifest_is_claimed() {
    local ns sg
    ns=$(new_namespace hclaim)
    start_for "$ns"
    k apply -n "$ns" -f - >/dev/null <<YAML
apiVersion: netposture.dev/v1alpha1
kind: SecurityGroupPosture
metadata: {name: web, finalizers: [netposture.dev/finalizer]}
spec:
  groupName: $ns-web
  description: web tier
  ingress:
  - {protocol: tcp, fromPort: 443, toPort: 443, cidrs: ["10.0.0.0/8"]}
YAML
    k wait --for=condition=Ready --timeout=60s sgp/web -n "$ns" || return 1
    sg=$(group_of "$ns" web)
    assert_contains "$(k get sgp web -n "$ns" --show-managed-fields -o jsonpath='{.metadata.managedFields[?(@.manager=="netposture")].fieldsV1}')" \
        "netposture.dev/finalizer" "the finalizer is recorded as ours" || return 1
    k delete sgp web -n "$ns" --wait=true --timeout=60s >/dev/null
    wait_for 30 "the group deleted" bash -c "! aws ec2 describe-security-groups --group-ids $sg >/dev/null 2>&1"
}

# In Detect mode a duplicate carrying the posture's uid is only reported: nothing is deleted.
test_duplicate_vpc_in_detect_mode_is_only_reported() {
    local ns uid one two
    ns=$(new_namespace hdupd)
    start_for "$ns"
    k apply -n "$ns" -f - >/dev/null <<YAML
apiVersion: netposture.dev/v1alpha1
kind: VPCPosture
metadata: {name: main}
spec:
  cidrBlock: 10.65.0.0/16
  remediation: {mode: Detect}
YAML
    wait_for 30 "nothing to watch yet" condition_is vpcp "$ns" main Ready False/VPCNotFound || return 1
    uid=$(k get vpcp main -n "$ns" -o jsonpath='{.metadata.uid}')
    one=$(awsx ec2 create-vpc --cidr-block 10.65.0.0/16 --query 'Vpc.VpcId' --output text)
    two=$(awsx ec2 create-vpc --cidr-block 10.65.0.0/16 --query 'Vpc.VpcId' --output text)
    awsx ec2 create-tags --resources "$one" "$two" --tags "Key=netposture.dev/uid,Value=$uid" >/dev/null
    wait_for 30 "a DuplicateFound event" has_event "$ns" main DuplicateFound "left alone" || return 1
    vpc_exists "$one" || fail "Detect mode deleted $one" || return 1
    vpc_exists "$two" || fail "Detect mode deleted $two" || return 1
    k delete vpcp main -n "$ns" --wait=true --timeout=60s >/dev/null
}
