# End-to-end tests of VPCPosture: a VPC with subnets, a route table, a network ACL, flow logs
# and a locked default security group is created, watched for drift made with the aws CLI,
# repaired (or only reported), adopted, referenced by a SecurityGroupPosture and deleted under
# both policies — through kubectl and the aws CLI against kube-apiserver and moto.
# shellcheck shell=bash

FLOW_DEST="arn:aws:logs:us-east-1:123456789012:log-group:netposture-e2e"
FLOW_ROLE="arn:aws:iam::123456789012:role/netposture-flow-logs"

# new_igw: an internet gateway to route to (moto does not require it to be attached).
new_igw() {
    awsx ec2 create-internet-gateway --query 'InternetGateway.InternetGatewayId' --output text
}

# apply_vpc <ns> <name> <second octet> <igw> [mode] [extra spec yaml lines]: a VPC posture
# 10.<o>.0.0/16 with subnets a and b, route table "private" (172.16.0.0/12 via the gateway),
# network ACL "private" (443 in from 10/8, all out), flow logs and a locked default group.
apply_vpc() {
    local ns=$1 name=$2 o=$3 igw=$4 mode=${5:-Enforce} extra=${6:-}
    k apply -n "$ns" -f - >/dev/null <<YAML
apiVersion: netposture.dev/v1alpha1
kind: VPCPosture
metadata: {name: $name}
spec:
  cidrBlock: 10.$o.0.0/16
  enableDnsSupport: true
  enableDnsHostnames: true
  tags: {env: e2e, team: net}
  flowLogs: {enabled: true, trafficType: REJECT, destination: "$FLOW_DEST", deliverLogsPermissionArn: "$FLOW_ROLE"}
  defaultSecurityGroup: {restrictAll: true}
  subnets:
  - {name: a, cidrBlock: 10.$o.1.0/24, availabilityZone: us-east-1a, mapPublicIpOnLaunch: false, tags: {tier: private}}
  - {name: b, cidrBlock: 10.$o.2.0/24, availabilityZone: us-east-1b}
  routeTables:
  - name: private
    subnets: [a, b]
    routes: [{destinationCidrBlock: 172.16.0.0/12, gatewayId: $igw}]
  networkAcls:
  - name: private
    subnets: [a, b]
    entries:
    - {ruleNumber: 100, protocol: tcp, action: allow, cidrBlock: 10.0.0.0/8, fromPort: 443, toPort: 443}
    - {ruleNumber: 110, egress: true, protocol: all, action: allow, cidrBlock: 0.0.0.0/0}
  remediation: {mode: $mode}
$extra
YAML
}

vpc_of() { k get vpcp "$2" -n "$1" -o jsonpath='{.status.vpcId}'; }
piece_id() { # piece_id <ns> <name> <subnets|routeTables|networkAcls> <piece> <idKey>
    k get vpcp "$2" -n "$1" -o jsonpath="{.status.$3[?(@.name==\"$4\")].$5}"
}

# vpc_facts <vpc-id>: one line per fact the tests check, sorted (routes of the VPC's
# non-main tables, entries of its non-default ACLs, associations, attributes, flow logs,
# default-group rules, VPC tags).
vpc_facts() {
    local vpc=$1 sup host
    sup=$(awsx ec2 describe-vpc-attribute --vpc-id "$vpc" --attribute enableDnsSupport --query 'EnableDnsSupport.Value')
    host=$(awsx ec2 describe-vpc-attribute --vpc-id "$vpc" --attribute enableDnsHostnames --query 'EnableDnsHostnames.Value')
    {
        echo "dnsSupport $sup"
        echo "dnsHostnames $host"
        awsx ec2 describe-vpcs --vpc-ids "$vpc" | python3 -c '
import json, sys
v = json.load(sys.stdin)["Vpcs"][0]
for t in v.get("Tags", []):
    if not t["Key"].startswith("netposture.dev/"): print("vpc-tag %s=%s" % (t["Key"], t["Value"]))'
        awsx ec2 describe-subnets --filters "Name=vpc-id,Values=$vpc" | python3 -c '
import json, sys
for s in json.load(sys.stdin)["Subnets"]:
    print("subnet %s %s public=%s" % (s["CidrBlock"], s["AvailabilityZone"], str(s.get("MapPublicIpOnLaunch")).lower()))'
        awsx ec2 describe-route-tables --filters "Name=vpc-id,Values=$vpc" | python3 -c '
import json, sys
for t in json.load(sys.stdin)["RouteTables"]:
    if any(a.get("Main") for a in t.get("Associations", [])): continue
    for r in t.get("Routes", []):
        if r.get("GatewayId") == "local": continue
        tgt = r.get("GatewayId") or r.get("NatGatewayId") or r.get("VpcPeeringConnectionId") or "?"
        print("route %s %s" % (r.get("DestinationCidrBlock"), "igw" if tgt.startswith("igw-") else tgt))
    print("rt-assocs %d" % len([a for a in t.get("Associations", []) if a.get("SubnetId")]))'
        awsx ec2 describe-network-acls --filters "Name=vpc-id,Values=$vpc" | python3 -c '
import json, sys
for a in json.load(sys.stdin)["NetworkAcls"]:
    if a.get("IsDefault"): continue
    for e in a.get("Entries", []):
        if e["RuleNumber"] == 32767: continue
        pr = e.get("PortRange")
        ports = "%s-%s" % (pr["From"], pr["To"]) if pr else "*"
        print("entry %s %d %s %s %s %s" % ("out" if e["Egress"] else "in", e["RuleNumber"], e["RuleAction"], e["Protocol"], ports, e.get("CidrBlock")))
    print("acl-assocs %d" % len(a.get("Associations", [])))'
        awsx ec2 describe-flow-logs --filter "Name=resource-id,Values=$vpc" | python3 -c '
import json, sys
for f in json.load(sys.stdin)["FlowLogs"]:
    print("flow-log %s %s" % (f["TrafficType"], f.get("LogDestination") or f.get("LogGroupName")))'
        awsx ec2 describe-security-groups --filters "Name=vpc-id,Values=$vpc" Name=group-name,Values=default | python3 -c '
import json, sys
g = json.load(sys.stdin)["SecurityGroups"][0]
n = sum(len(p.get("IpRanges", [])) + len(p.get("Ipv6Ranges", [])) + len(p.get("UserIdGroupPairs", [])) for p in g.get("IpPermissions", []) + g.get("IpPermissionsEgress", []))
print("default-sg-rules %d" % n)'
    } | sort
}

expected_facts() { # expected_facts <second octet>
    local o=$1
    sort <<EOF
acl-assocs 2
default-sg-rules 0
dnsHostnames true
dnsSupport true
entry in 100 allow 6 443-443 10.0.0.0/8
entry out 110 allow -1 * 0.0.0.0/0
flow-log REJECT $FLOW_DEST
route 172.16.0.0/12 igw
rt-assocs 2
subnet 10.$o.1.0/24 us-east-1a public=false
subnet 10.$o.2.0/24 us-east-1b public=false
vpc-tag env=e2e
vpc-tag team=net
EOF
}

facts_are() { [ "$(vpc_facts "$1")" = "$2" ]; }

# drift_item <ns> <name> <change> <substring>: the state of the first matching drift item.
drift_state() {
    k get vpcp "$2" -n "$1" -o json | python3 -c '
import json, sys
items = json.load(sys.stdin).get("status", {}).get("drift", {}).get("items", [])
for it in items:
    if it.get("change") == sys.argv[1] and sys.argv[2] in (it.get("piece", "") + " " + it.get("item", "")):
        print(it.get("state", "")); break' "$3" "$4"
}
drift_state_is() { [ "$(drift_state "$1" "$2" "$3" "$4")" = "$5" ]; }

test_vpcp_create_converges_and_reports_ready() {
    local ns igw vpc
    ns=$(new_namespace vpc)
    start_for "$ns"
    igw=$(new_igw)
    apply_vpc "$ns" main 21 "$igw"
    k wait --for=condition=Ready --timeout=90s vpcp/main -n "$ns"
    vpc=$(vpc_of "$ns" main)
    assert_contains "$vpc" "vpc-" "status.vpcId" || return 1
    assert_eq "$(vpc_facts "$vpc")" "$(expected_facts 21)" "the VPC in AWS" || return 1
    for p in "subnets a subnetId" "subnets b subnetId" "routeTables private routeTableId" \
        "networkAcls private networkAclId"; do
        set -- $p
        [ -n "$(piece_id "$ns" main "$1" "$2" "$3")" ] || fail "status.$1[$2].$3 unset" || return 1
    done
    [ -n "$(k get vpcp main -n "$ns" -o jsonpath='{.status.flowLogIds[0]}')" ] || fail "status.flowLogIds unset" || return 1
    [ -n "$(k get vpcp main -n "$ns" -o jsonpath='{.status.defaultSecurityGroupId}')" ] || fail "defaultSecurityGroupId unset" || return 1
    assert_eq "$(condition vpcp "$ns" main Synced)" "True/Synced" "Synced" || return 1
    assert_eq "$(condition vpcp "$ns" main Drifted)" "False/NoDrift" "Drifted" || return 1
    local sub
    sub=$(piece_id "$ns" main subnets a subnetId)
    assert_eq "$(awsx ec2 describe-subnets --subnet-ids "$sub" --query "Subnets[0].Tags[?Key=='netposture.dev/piece'].Value" --output text)" \
        "subnet/a" "piece tag of subnet a" || return 1
    wait_for 20 "a Created event for the VPC" has_event "$ns" main Created "$vpc"
    # Restarting the controller creates nothing twice.
    stop_controller || return 1
    start_for "$ns"
    k annotate vpcp main -n "$ns" e2e/poke=1 --overwrite >/dev/null
    wait_for 30 "the restarted controller to look again" bash -c \
        "[ \"\$(kubectl get vpcp main -n $ns -o jsonpath='{.status.lastSyncTime}')\" != '' ]"
    k wait --for=condition=Ready --timeout=60s vpcp/main -n "$ns"
    assert_eq "$(awsx ec2 describe-vpcs --filters "Name=tag:netposture.dev/owner,Values=$ns/main" --query 'length(Vpcs)')" "1" "VPCs owned" || return 1
    assert_eq "$(vpc_facts "$vpc")" "$(expected_facts 21)" "the VPC after a restart"
}

test_vpcp_out_of_band_drift_is_repaired_and_reported() {
    local ns igw igw2 vpc acl rt sg fl
    ns=$(new_namespace vpcdrift)
    start_for "$ns"
    igw=$(new_igw)
    igw2=$(new_igw)
    apply_vpc "$ns" main 22 "$igw"
    k wait --for=condition=Ready --timeout=90s vpcp/main -n "$ns"
    vpc=$(vpc_of "$ns" main)
    acl=$(piece_id "$ns" main networkAcls private networkAclId)
    rt=$(piece_id "$ns" main routeTables private routeTableId)
    sg=$(k get vpcp main -n "$ns" -o jsonpath='{.status.defaultSecurityGroupId}')
    fl=$(k get vpcp main -n "$ns" -o jsonpath='{.status.flowLogIds[0]}')
    # Seven out-of-band changes at once.
    awsx ec2 create-route --route-table-id "$rt" --destination-cidr-block 0.0.0.0/0 --gateway-id "$igw2" >/dev/null
    awsx ec2 replace-network-acl-entry --network-acl-id "$acl" --ingress --rule-number 100 \
        --protocol tcp --port-range From=8443,To=8443 --cidr-block 10.0.0.0/8 --rule-action allow >/dev/null
    awsx ec2 create-network-acl-entry --network-acl-id "$acl" --ingress --rule-number 50 \
        --protocol tcp --port-range From=22,To=22 --cidr-block 0.0.0.0/0 --rule-action allow >/dev/null
    awsx ec2 delete-flow-logs --flow-log-ids "$fl" >/dev/null
    awsx ec2 delete-tags --resources "$vpc" --tags Key=team >/dev/null
    awsx ec2 modify-vpc-attribute --vpc-id "$vpc" --no-enable-dns-hostnames >/dev/null
    awsx ec2 authorize-security-group-ingress --group-id "$sg" --protocol tcp --port 3389 --cidr 0.0.0.0/0 >/dev/null
    wait_for 60 "every change repaired" facts_are "$vpc" "$(expected_facts 22)" || return 1
    local want
    for want in "Extra|0.0.0.0/0 gatewayId" "Changed|ingress 100 allow tcp 443 10.0.0.0/8" \
        "Extra|ingress 50 allow tcp 22 0.0.0.0/0" "Missing|flowLogs" "TagMissing|team=net" \
        "Changed|enableDnsHostnames=true" "Extra|defaultSecurityGroup ingress tcp 3389 0.0.0.0/0"; do
        wait_for 20 "drift item $want reported as repaired" drift_state_is "$ns" main \
            "${want%%|*}" "${want#*|}" Repaired || return 1
    done
    wait_for 20 "a Remediated event for the route" has_event "$ns" main Remediated "route delete routeTable/private 0.0.0.0/0"
    wait_for 20 "a Remediated event for the entry" has_event "$ns" main Remediated "entry replace networkAcl/private ingress 100"
    wait_for 20 "a DriftDetected event" has_event "$ns" main DriftDetected "enableDnsHostnames"
    k wait --for=condition=Ready --timeout=30s vpcp/main -n "$ns"
    [ "$(k get vpcp main -n "$ns" -o jsonpath='{.status.remediationCount}')" -ge 1 ] || fail "remediationCount"
}

test_vpcp_detect_mode_reports_and_leaves_aws_alone() {
    local ns igw vpc acl
    ns=$(new_namespace vpcdetect)
    start_for "$ns"
    igw=$(new_igw)
    apply_vpc "$ns" main 23 "$igw"
    k wait --for=condition=Ready --timeout=90s vpcp/main -n "$ns"
    vpc=$(vpc_of "$ns" main)
    acl=$(piece_id "$ns" main networkAcls private networkAclId)
    apply_vpc "$ns" main 23 "$igw" Detect
    wait_for 20 "Detect observed" bash -c "[ \"\$(kubectl get vpcp main -n $ns -o jsonpath='{.status.observedGeneration}')\" = 2 ]" || return 1
    awsx ec2 create-network-acl-entry --network-acl-id "$acl" --ingress --rule-number 50 \
        --protocol tcp --port-range From=22,To=22 --cidr-block 0.0.0.0/0 --rule-action allow >/dev/null
    awsx ec2 modify-vpc-attribute --vpc-id "$vpc" --no-enable-dns-hostnames >/dev/null
    wait_for 30 "the entry reported" drift_state_is "$ns" main Extra "ingress 50 allow tcp 22" Reported || return 1
    wait_for 20 "the attribute reported" drift_state_is "$ns" main Changed "enableDnsHostnames" Reported || return 1
    wait_for 20 "Ready=False DriftDetected" condition_is vpcp "$ns" main Ready False/DriftDetected || return 1
    # Nothing was changed in AWS.
    local facts
    facts=$(vpc_facts "$vpc")
    assert_contains "$facts" "entry in 50 allow 6 22-22 0.0.0.0/0" "the extra entry stays" || return 1
    assert_contains "$facts" "dnsHostnames false" "the attribute stays" || return 1
    assert_eq "$(metric netposture_aws_requests_total 'action="DeleteNetworkAclEntry"')" "0" "no DeleteNetworkAclEntry"
}

test_vpcp_adopt_existing_vpc_and_retain_on_delete() {
    local ns vpc
    ns=$(new_namespace vpcadopt)
    start_for "$ns"
    vpc=$(awsx ec2 create-vpc --cidr-block 10.24.0.0/16 --query 'Vpc.VpcId' --output text)
    awsx ec2 create-tags --resources "$vpc" --tags Key=env,Value=legacy >/dev/null
    k apply -n "$ns" -f - >/dev/null <<YAML
apiVersion: netposture.dev/v1alpha1
kind: VPCPosture
metadata: {name: legacy}
spec:
  cidrBlock: 10.24.0.0/16
  management: {policy: Adopt, vpcId: $vpc}
  enableDnsHostnames: true
  tags: {env: prod}
YAML
    k wait --for=condition=Ready --timeout=60s vpcp/legacy -n "$ns"
    assert_eq "$(vpc_of "$ns" legacy)" "$vpc" "adopted VPC id" || return 1
    local tags
    tags=$(awsx ec2 describe-vpcs --vpc-ids "$vpc" --query 'Vpcs[0].Tags' --output text)
    assert_contains "$tags" "netposture.dev/owner" "ownership tag on the adopted VPC" || return 1
    assert_contains "$tags" "prod" "declared tag value" || return 1
    assert_eq "$(awsx ec2 describe-vpc-attribute --vpc-id "$vpc" --attribute enableDnsHostnames --query 'EnableDnsHostnames.Value')" \
        "true" "enableDnsHostnames set" || return 1
    wait_for 20 "an Adopted event" has_event "$ns" legacy Adopted "$vpc"
    # Adopted: deletion retains the VPC and drops our tags.
    k delete vpcp legacy -n "$ns" --wait=true --timeout=60s >/dev/null
    awsx ec2 describe-vpcs --vpc-ids "$vpc" >/dev/null || fail "the adopted VPC was deleted" || return 1
    tags=$(awsx ec2 describe-vpcs --vpc-ids "$vpc" --query 'Vpcs[0].Tags' --output text)
    assert_not_contains "$tags" "netposture.dev/" "ownership tags after Retain" || return 1
    assert_contains "$tags" "prod" "user tags stay"
}

test_vpcp_delete_removes_everything_in_dependency_order() {
    local ns igw vpc
    ns=$(new_namespace vpcdel)
    start_for "$ns"
    igw=$(new_igw)
    apply_vpc "$ns" main 25 "$igw"
    k wait --for=condition=Ready --timeout=90s vpcp/main -n "$ns"
    vpc=$(vpc_of "$ns" main)
    k delete vpcp main -n "$ns" --wait=true --timeout=90s >/dev/null || fail "delete did not finish" || return 1
    if awsx ec2 describe-vpcs --vpc-ids "$vpc" >/dev/null 2>&1; then
        fail "VPC $vpc still exists" || return 1
    fi
    assert_eq "$(awsx ec2 describe-subnets --filters "Name=vpc-id,Values=$vpc" --query 'length(Subnets)')" "0" "subnets left" || return 1
    assert_eq "$(awsx ec2 describe-flow-logs --filter "Name=resource-id,Values=$vpc" --query 'length(FlowLogs)')" "0" "flow logs left" || return 1
    wait_for 20 "a Deleted event" has_event "$ns" main Deleted "$vpc"
}

test_vpcp_retain_policy_keeps_vpc_and_drops_tags() {
    local ns igw vpc sub
    ns=$(new_namespace vpcret)
    start_for "$ns"
    igw=$(new_igw)
    apply_vpc "$ns" main 26 "$igw" Enforce '  management: {deletionPolicy: Retain}'
    k wait --for=condition=Ready --timeout=90s vpcp/main -n "$ns"
    vpc=$(vpc_of "$ns" main)
    sub=$(piece_id "$ns" main subnets a subnetId)
    k delete vpcp main -n "$ns" --wait=true --timeout=60s >/dev/null
    awsx ec2 describe-vpcs --vpc-ids "$vpc" >/dev/null || fail "VPC deleted under Retain" || return 1
    assert_not_contains "$(awsx ec2 describe-vpcs --vpc-ids "$vpc" --query 'Vpcs[0].Tags' --output text)" \
        "netposture.dev/" "VPC ownership tags" || return 1
    assert_not_contains "$(awsx ec2 describe-subnets --subnet-ids "$sub" --query 'Subnets[0].Tags' --output text)" \
        "netposture.dev/" "subnet ownership tags" || return 1
    assert_contains "$(awsx ec2 describe-subnets --subnet-ids "$sub" --query 'Subnets[0].Tags' --output text)" \
        "private" "user tags stay"
}

test_sgp_vpc_ref_waits_for_the_vpc_posture() {
    local ns igw vpc sg
    ns=$(new_namespace vpcref)
    start_for "$ns"
    apply_web "$ns" '  vpcRef: {name: main}'
    wait_for 30 "VPCNotReady while the VPCPosture is missing" condition_is sgp "$ns" web Ready False/VPCNotReady || return 1
    assert_contains "$(k get sgp web -n "$ns" -o jsonpath='{.status.conditions[?(@.type=="Ready")].message}')" \
        "VPCPosture main does not exist" "the condition says why" || return 1
    igw=$(new_igw)
    apply_vpc "$ns" main 27 "$igw"
    k wait --for=condition=Ready --timeout=90s vpcp/main -n "$ns"
    vpc=$(vpc_of "$ns" main)
    k wait --for=condition=Ready --timeout=60s sgp/web -n "$ns"
    sg=$(group_of "$ns" web)
    assert_eq "$(awsx ec2 describe-security-groups --group-ids "$sg" --query 'SecurityGroups[0].VpcId' --output text)" \
        "$vpc" "the group is in the posture's VPC" || return 1
    # The VPC cannot be deleted while the group posture uses it.
    k delete vpcp main -n "$ns" --wait=false >/dev/null
    wait_for 30 "DeletionBlocked" condition_is vpcp "$ns" main Ready False/DeletionBlocked || return 1
    k delete sgp web -n "$ns" --wait=true --timeout=60s >/dev/null
    k wait --for=delete --timeout=90s vpcp/main -n "$ns" || fail "the VPC posture was not deleted after its user" || return 1
    if awsx ec2 describe-vpcs --vpc-ids "$vpc" >/dev/null 2>&1; then
        fail "VPC $vpc still exists"
    fi
}

test_vpcp_guardrail_flags_world_open_admin_port_in_acl() {
    local ns igw acl g
    ns=$(new_namespace vpcgr)
    g="e2e-nacl-$ns"
    k apply -f - >/dev/null <<YAML
apiVersion: netposture.dev/v1alpha1
kind: PostureGuardrail
metadata: {name: $g}
spec:
  namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: $ns}}
  enforcement: Deny
  rules:
  - id: no-admin-ports-in-acls
    references: ["CIS AWS Foundations 5.1"]
    deny: {resources: [networkAcls], direction: ingress, cidrs: ["0.0.0.0/0"], ports: [22, 3389], protocols: [tcp, udp, all]}
  - id: flow-logs
    require: {flowLogs: true}
YAML
    igw=$(new_igw)
    # A posture opening 22 to the world in its ACL is refused as declared (declared before
    # the controller starts, so nothing is ever created for it).
    apply_vpc "$ns" bad 28 "$igw"
    k patch vpcp bad -n "$ns" --type json -p '[{"op":"add","path":"/spec/networkAcls/0/entries/-","value":{"ruleNumber":90,"protocol":"tcp","action":"allow","cidrBlock":"0.0.0.0/0","fromPort":22,"toPort":22}}]' >/dev/null
    start_for "$ns"
    wait_for 30 "GuardrailViolation" condition_is vpcp "$ns" bad Ready False/GuardrailViolation || { k delete pgr "$g" >/dev/null; return 1; }
    assert_contains "$(k get vpcp bad -n "$ns" -o jsonpath='{.status.conditions[?(@.type=="Compliant")].message}')" \
        "no-admin-ports-in-acls" "the violated rule is named"
    k delete vpcp bad -n "$ns" --wait=false >/dev/null
    # A compliant posture with a grace period: violating drift is repaired at once anyway.
    apply_vpc "$ns" main 29 "$igw" Enforce
    k patch vpcp main -n "$ns" --type merge -p '{"spec":{"remediation":{"gracePeriod":"1h"}}}' >/dev/null
    k wait --for=condition=Ready --timeout=90s vpcp/main -n "$ns"
    acl=$(piece_id "$ns" main networkAcls private networkAclId)
    awsx ec2 create-network-acl-entry --network-acl-id "$acl" --ingress --rule-number 50 \
        --protocol tcp --port-range From=22,To=22 --cidr-block 0.0.0.0/0 --rule-action allow >/dev/null
    wait_for 60 "the violating entry repaired inside the grace period" drift_state_is "$ns" main Extra "ingress 50 allow tcp 22" Repaired
    local rc=$?
    [ $rc -eq 0 ] && assert_contains "$(k get vpcp main -n "$ns" -o json)" "\"guardrail\": \"$g/no-admin-ports-in-acls\"" "guardrail named on the item"
    rc=$?
    k delete pgr "$g" >/dev/null
    return $rc
}

test_vpcp_propose_mode_applies_only_the_approved_plan() {
    local ns igw vpc id
    ns=$(new_namespace vpcprop)
    start_for "$ns"
    igw=$(new_igw)
    apply_vpc "$ns" main 30 "$igw"
    k wait --for=condition=Ready --timeout=90s vpcp/main -n "$ns"
    vpc=$(vpc_of "$ns" main)
    apply_vpc "$ns" main 30 "$igw" Propose
    wait_for 20 "Propose observed" bash -c "[ \"\$(kubectl get vpcp main -n $ns -o jsonpath='{.status.observedGeneration}')\" = 2 ]" || return 1
    awsx ec2 modify-vpc-attribute --vpc-id "$vpc" --no-enable-dns-support >/dev/null
    wait_for 30 "a plan waiting for approval" condition_is vpcp "$ns" main Ready False/PlanProposed || return 1
    assert_eq "$(k get vpcp main -n "$ns" -o jsonpath='{.status.plan.actions[*]}')" \
        "set vpc enableDnsSupport true" "the plan" || return 1
    assert_contains "$(vpc_facts "$vpc")" "dnsSupport false" "nothing applied before approval" || return 1
    id=$(k get vpcp main -n "$ns" -o jsonpath='{.status.plan.id}')
    k annotate vpcp main -n "$ns" "netposture.dev/approve-plan=$id" >/dev/null
    wait_for 30 "the approved plan applied" bash -c \
        "aws --output json ec2 describe-vpc-attribute --vpc-id $vpc --attribute enableDnsSupport --query 'EnableDnsSupport.Value' | grep -qx true" || return 1
    k wait --for=condition=Ready --timeout=30s vpcp/main -n "$ns"
    wait_for 20 "the approval consumed" bash -c \
        "[ -z \"\$(kubectl get vpcp main -n $ns -o jsonpath='{.metadata.annotations.netposture\\.dev/approve-plan}')\" ]"
}

test_vpcp_cloudtrail_event_repairs_acl_drift_in_seconds() {
    local ns q tag igw acl
    ns=$(new_namespace vpcev)
    tag=${ns#e2e-}
    q=$(make_queue "$tag")
    event_account "ev-$tag" "$q"
    # A resync far longer than the test: only the event can trigger the repair.
    start_controller --namespace "$ns" --resync-interval 10m --workers 2
    igw=$(new_igw)
    apply_vpc "$ns" main 31 "$igw" Enforce "  accountRef: {name: ev-$tag}"
    k wait --for=condition=Ready --timeout=90s vpcp/main -n "$ns" || return 1
    wait_for 30 "the account consuming events" bash -c \
        "kubectl get cloudaccount ev-$tag -o jsonpath='{.status.conditions[0].message}' | grep -q 'consuming events'" || return 1
    acl=$(piece_id "$ns" main networkAcls private networkAclId)
    awsx ec2 create-network-acl-entry --network-acl-id "$acl" --ingress --rule-number 50 \
        --protocol tcp --port-range From=22,To=22 --cidr-block 0.0.0.0/0 --rule-action allow >/dev/null
    send_cloudtrail_event "$q" CreateNetworkAclEntry "arn:aws:iam::123456789012:user/bob" \
        "{\"networkAclId\": \"$acl\", \"ruleNumber\": 50, \"egress\": false, \"ruleAction\": \"allow\"}"
    wait_for 15 "the entry repaired from the event" drift_state_is "$ns" main Extra "ingress 50 allow tcp 22" Repaired || return 1
    wait_for 15 "the actor on the drift item" bash -c \
        "kubectl get vpcp main -n $ns -o jsonpath='{.status.drift.items[*].actor}' | grep -q 'arn:aws:iam::123456789012:user/bob'" || return 1
    assert_eq "$(metric netposture_events_total 'result="handled"')" "1" "events handled" || return 1
    k delete vpcp main -n "$ns" --wait=true --timeout=60s >/dev/null
    k delete cloudaccount "ev-$tag" >/dev/null
}
