# End-to-end tests of netposturectl as a user runs it: validate agrees with the API server's
# admission on one corpus (tests/fixtures/ctl/reject/ refused by both on the expected field;
# tests/fixtures/ctl/accept/, the samples and every documented object accepted by both), its
# JSON output and guardrails; status and approve against a posture holding a plan, also through
# kubectl's plugin lookup (kubectl netposture ... with bin/ on PATH).
# shellcheck shell=bash

ctl() { "$E2E_REPO/bin/netposturectl" "$@"; }

# ns_flags <ns> <file>: -n <ns> unless the file names its own namespace.
ns_flags() {
    grep -q 'namespace: ' "$2" || printf -- '-n\n%s\n' "$1"
}

# ctl_refuses <ns> <file> <field>: both the API server (server-side dry run) and validate refuse
# the file, each naming the field; prints why not and returns 1 otherwise.
ctl_refuses() {
    local ns=$1 f=$2 field=$3 out rc=0
    if out=$(k apply --dry-run=server $(ns_flags "$ns" "$f") -f "$f" 2>&1); then
        echo "API server accepted ${f#"$E2E_REPO"/}"
        rc=1
    elif [[ "$out" != *"$field"* ]]; then
        echo "API server refused ${f#"$E2E_REPO"/} but not on $field: $out"
        rc=1
    fi
    out=$(ctl validate -n "$ns" "$f" 2>&1)
    case $? in
    1) [[ "$out" == *": $field: "* ]] || { echo "validate refused ${f#"$E2E_REPO"/} but not on $field: $out"; rc=1; } ;;
    *) echo "validate did not refuse ${f#"$E2E_REPO"/}: $out"; rc=1 ;;
    esac
    return $rc
}

# ctl_accepts <ns> <file>: both the API server and validate accept the file.
ctl_accepts() {
    local ns=$1 f=$2 out rc=0
    out=$(k apply --dry-run=server $(ns_flags "$ns" "$f") -f "$f" 2>&1) || { echo "API server refused $f: $out"; rc=1; }
    out=$(ctl validate -n "$ns" "$f" 2>&1) || { echo "validate refused $f: $out"; rc=1; }
    return $rc
}

test_ctl_validate_agrees_with_admission() {
    local ns f dir before bad=0 n=0
    ns=$(new_namespace ctl)
    # cluster-scoped kinds (CloudAccount, PostureGuardrail) of other tests may exist already
    before=$(k get netposture -A -o name | sort)
    k apply -f "$E2E_REPO/manifests/samples/namespace-shop.yaml" >/dev/null
    for f in "$E2E_REPO"/tests/fixtures/ctl/reject/*.yaml; do
        n=$((n + 1))
        ctl_refuses "$ns" "$f" "$(sed -n 's/^# field: //p' "$f")" || bad=$((bad + 1))
    done
    [ "$n" -gt 100 ] || fail "only $n rejected cases in the corpus" || return 1
    # The accepted corpus, and every object of the samples, guardrails, README and docs/.
    dir="$E2E_TEST_DIR/examples"
    python3 "$E2E_REPO/tests/e2e/doc_check.py" examples "$dir" "$ns" "$ns"
    for f in "$E2E_REPO"/tests/fixtures/ctl/accept/*.yaml "$dir"/*.yaml; do
        n=$((n + 1))
        ctl_accepts "$ns" "$f" || bad=$((bad + 1))
    done
    echo "$n files, $bad disagreements"
    [ "$bad" -eq 0 ] || fail "$bad file(s) where validate and the API server disagree (see above)" || return 1
    assert_eq "$(comm -13 <(printf '%s\n' "$before") <(k get netposture -A -o name | sort))" "" \
        "objects the dry runs left behind"
}

# shop_web <ingress rule lines...>: the posture shop/web with these rules (the first on line 7).
shop_web() {
    printf '%s\n' 'apiVersion: netposture.dev/v1alpha1' 'kind: SecurityGroupPosture' \
        'metadata: {name: web, namespace: shop}' 'spec:' '  groupName: web' '  ingress:' "$@"
}

test_ctl_validate_output_and_guardrails() {
    local out rc
    # -o json: one object per finding, with the position of the offending field.
    out=$(shop_web '  - {protocol: tcp, fromPort: 22, toPort: 22, cidrs: ["0.0.0.0/0"]}' \
        '  - {protocol: tcp, fromPort: 443, toPort: 80, cidrs: ["10.0.0.0/8"]}' | ctl validate -o json -) || true
    assert_eq "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d), d[0]["file"], d[0]["line"], d[0]["field"], d[0]["severity"])' <<<"$out")" \
        "1 - 8 spec.ingress[1] error" "JSON finding" || return 1
    # With the CIS guardrails: the SSH rule is a Deny error on its own line.
    rc=0
    out=$(shop_web '  - {protocol: tcp, fromPort: 443, toPort: 443, cidrs: ["0.0.0.0/0"]}' \
        '  - {protocol: tcp, fromPort: 22, toPort: 22, cidrs: ["0.0.0.0/0"]}' |
        ctl validate --guardrails "$E2E_REPO/manifests/guardrails/cis-aws-network.yaml" - 2>&1) || rc=$?
    assert_eq "$rc" 1 "exit status with a Deny violation" || return 1
    assert_contains "$out" "-:8:5: SecurityGroupPosture shop/web: spec.ingress[1]: guardrail cis-aws-network rule no-admin-ports-from-ipv4-internet" "guardrail finding" || return 1
    # Usage and unreadable files are exit status 2.
    rc=0
    ctl validate >/dev/null 2>&1 || rc=$?
    assert_eq "$rc" 2 "validate without a file" || return 1
    rc=0
    ctl validate /nonexistent.yaml >/dev/null 2>&1 || rc=$?
    assert_eq "$rc" 2 "validate of a missing file"
}

# plugin <args>: netposturectl as kubectl's plugin (kubectl finds kubectl-netposture on PATH).
plugin() { PATH="$E2E_REPO/bin:$PATH" kubectl netposture "$@"; }

test_ctl_status_and_approve_a_held_plan() {
    local ns sg id out rc
    ns=$(new_namespace ctlapprove)
    start_for "$ns"
    apply_web "$ns"
    k wait --for=condition=Ready --timeout=60s sgp/web -n "$ns"
    sg=$(group_of "$ns" web)
    out=$(plugin status -n "$ns")
    assert_eq "$(awk 'NR == 1 {print $1, $2, $3, $4, $5}' <<<"$out")" "KIND NAMESPACE NAME READY REASON" "status header" || return 1
    assert_eq "$(awk 'NR == 2 {print $1, $3, $4, $5}' <<<"$out")" "SecurityGroupPosture web True Converged" "status row" || return 1
    apply_web "$ns" '  remediation: {mode: Propose}'
    wait_for 30 "Propose mode observed" bash -c \
        "[ \"\$(kubectl get sgp web -n $ns -o jsonpath='{.status.observedGeneration}')\" = 2 ]"
    awsx ec2 authorize-security-group-ingress --group-id "$sg" --protocol tcp --port 22 --cidr 0.0.0.0/0 >/dev/null
    wait_for 30 "a proposed plan" condition_is sgp "$ns" web Ready False/PlanProposed
    id=$(k get sgp web -n "$ns" -o jsonpath='{.status.plan.id}')
    # status: not Ready (exit 1), the drift item and the held plan listed.
    rc=0
    out=$(plugin status -n "$ns" web) || rc=$?
    assert_eq "$rc" 1 "status exit with a posture not Ready" || return 1
    assert_contains "$out" "ingress Extra tcp 22 0.0.0.0/0: Proposed" "status drift item" || return 1
    assert_contains "$out" "plan $id held" "status plan" || return 1
    assert_eq "$(plugin status -n "$ns" -o json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d[0]["ready"], d[0]["reason"], d[0]["plan"])')" \
        "False PlanProposed $id" "status -o json" || return 1
    # A plan id that moved, or no --yes without a terminal: nothing approved.
    rc=0
    out=$(ctl approve -n "$ns" web --plan-id sha256:0000 --yes 2>&1) || rc=$?
    assert_eq "$rc" 1 "approve of a moved plan" || return 1
    assert_contains "$out" "the plan moved" "approve refusal" || return 1
    rc=0
    out=$(ctl approve -n "$ns" web </dev/null 2>&1) || rc=$?
    assert_eq "$rc" 1 "approve without --yes or a terminal" || return 1
    assert_contains "$out" "revoke ingress tcp 22 0.0.0.0/0" "the plan printed" || return 1
    assert_eq "$(k get sgp web -n "$ns" -o jsonpath='{.metadata.annotations.netposture\.dev/approve-plan}')" "" \
        "no approval annotation" || return 1
    # Approved through the plugin: the controller applies exactly the plan.
    out=$(plugin approve -n "$ns" web --plan-id "$id" --yes)
    assert_contains "$out" "approved plan $id" "approve output" || return 1
    wait_for 30 "the approved plan applied" rules_are "$sg" ingress "tcp 443-443 10.0.0.0/8" || return 1
    wait_for 30 "Ready again" condition_is sgp "$ns" web Ready True/Converged || return 1
    plugin status -n "$ns" >/dev/null || fail "status exit after convergence" || return 1
    rc=0
    ctl approve -n "$ns" web --yes >/dev/null 2>&1 || rc=$?
    assert_eq "$rc" 1 "approve with no plan held"
}

# web_ready <ns>: a controller for the namespace and the posture web, Ready.
web_ready() {
    start_for "$1"
    apply_web "$1"
    k wait --for=condition=Ready --timeout=60s sgp/web -n "$1" >/dev/null
}

# plan_lines <plan text>: the change lines of a text plan (indented), one per line.
plan_lines() { sed -n 's/^  //p' <<<"$1"; }

# plan_actions_are <ns> <name> <n>: status.plan holds n actions (for wait_for).
plan_actions_are() {
    [ "$(k get sgp "$2" -n "$1" -o json | python3 -c 'import json,sys; print(len(json.load(sys.stdin).get("status", {}).get("plan", {}).get("actions", [])))')" = "$3" ]
}

test_ctl_plan_lists_exactly_the_drift_with_the_controllers_id() {
    local ns sg id out rc file
    ns=$(new_namespace ctlplan)
    web_ready "$ns" || return 1
    sg=$(group_of "$ns" web)
    # Converged: an empty plan, exit 0 (from the cluster, and from the file the user applied).
    out=$(ctl plan -n "$ns" web) || fail "plan of a converged posture exited $?: $out" || return 1
    assert_contains "$out" "security group $sg in us-east-1" "plan heading" || return 1
    assert_eq "$(plan_lines "$out")" "no changes" "converged plan" || return 1
    assert_eq "$(tail -n 1 <<<"$out")" "+0 ~0 -0" "converged summary" || return 1
    file="$E2E_TEST_DIR/web.yaml"
    k get sgp web -n "$ns" -o yaml | python3 -c '
import sys, yaml
o = yaml.safe_load(sys.stdin)
print(yaml.safe_dump({"apiVersion": o["apiVersion"], "kind": o["kind"],
    "metadata": {"name": "web", "namespace": o["metadata"]["namespace"]}, "spec": o["spec"]}))' >"$file"
    ctl plan "$file" >/dev/null || fail "plan of the converged file exited $?" || return 1
    # Drift under Propose: the plan lists exactly it, exits 1, and its id is status.plan.id.
    apply_web "$ns" '  remediation: {mode: Propose}'
    wait_for 30 "Propose mode observed" bash -c \
        "[ \"\$(kubectl get sgp web -n $ns -o jsonpath='{.status.observedGeneration}')\" = 2 ]" || return 1
    awsx ec2 authorize-security-group-ingress --group-id "$sg" --protocol tcp --port 22 --cidr 0.0.0.0/0 >/dev/null
    awsx ec2 delete-tags --resources "$sg" --tags Key=team >/dev/null
    wait_for 30 "a plan of both drift items" plan_actions_are "$ns" web 2 || return 1
    id=$(k get sgp web -n "$ns" -o jsonpath='{.status.plan.id}')
    rc=0
    out=$(ctl plan -n "$ns" web) || rc=$?
    assert_eq "$rc" 1 "plan exit with drift" || return 1
    assert_eq "$(plan_lines "$out")" "$(printf '%s\n' 'tag set team=shop' 'revoke ingress tcp 22 0.0.0.0/0')" \
        "the plan's changes" || return 1
    assert_contains "$out" "plan id $id" "the controller's plan id" || return 1
    assert_eq "$(tail -n 1 <<<"$out")" "+1 ~0 -1" "summary" || return 1
    assert_eq "$(ctl plan -n "$ns" web -o json | python3 -c 'import json,sys; d=json.load(sys.stdin)[0]; print(d["id"], " | ".join(d["actions"]))')" \
        "$id tag set team=shop | revoke ingress tcp 22 0.0.0.0/0" "plan -o json" || return 1
    assert_eq "$(k get sgp web -n "$ns" -o jsonpath='{.status.plan.actions}')" \
        '["tag set team=shop","revoke ingress tcp 22 0.0.0.0/0"]' "status.plan.actions" || return 1
    # The file finds the group by its owner tag: the same plan.
    rc=0
    out=$(ctl plan "$file") || rc=$?
    assert_eq "$rc" 1 "plan of the file with drift" || return 1
    assert_contains "$out" "plan id $id" "the file's plan id" || return 1
    # Nothing was changed: the drift is still there.
    assert_eq "$(tag_of "$sg" team)" "" "the deleted tag stays deleted" || return 1
    # Usage and lookup errors are exit status 2.
    rc=0
    ctl plan >/dev/null 2>&1 || rc=$?
    assert_eq "$rc" 2 "plan without a posture" || return 1
    rc=0
    out=$(ctl plan -n "$ns" nosuch 2>&1) || rc=$?
    assert_eq "$rc" 2 "plan of a missing posture" || return 1
    assert_contains "$out" "no SecurityGroupPosture or VPCPosture $ns/nosuch" "missing posture message"
}

# aws_mutations: "action count" of every AWS call the controller made that can change something
# (everything but Describe*, Get*, List*, Search*, ReceiveMessage, LookupEvents), from /metrics.
aws_mutations() {
    curl -fsS "http://127.0.0.1:$E2E_METRICS_PORT/metrics" | python3 -c '
import re, sys
seen = {}
for line in sys.stdin:
    m = re.match(r"netposture_aws_requests_total\{(.*)\} (\S+)$", line.strip())
    if not m: continue
    action = re.search(r"action=\"([^\"]*)\"", m.group(1)).group(1)
    if re.match(r"(Describe|Get|List|Search|ReceiveMessage|LookupEvents)", action): continue
    seen[action] = seen.get(action, 0) + float(m.group(2))
print("\n".join("%s %d" % kv for kv in sorted(seen.items()) if kv[1]))'
}

# group_state <group-id>...: the groups as moto describes them (rules, tags), canonical JSON.
group_state() {
    awsx ec2 describe-security-groups --group-ids "$@" | python3 -c '
import json, sys
print(json.dumps(json.load(sys.stdin)["SecurityGroups"], sort_keys=True))'
}

test_ctl_import_round_trip_adopts_without_changing_aws() {
    local ns vpc web db before reads n count
    ns=$(new_namespace ctlimport)
    vpc=$(awsx ec2 describe-vpcs --filters Name=isDefault,Values=true --query 'Vpcs[0].VpcId' --output text)
    web=$(awsx ec2 create-security-group --group-name "$ns-web" --description "web tier" --vpc-id "$vpc" --query GroupId --output text)
    db=$(awsx ec2 create-security-group --group-name "$ns-db" --description "db tier" --vpc-id "$vpc" --query GroupId --output text)
    awsx ec2 authorize-security-group-ingress --group-id "$web" --ip-permissions '[
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
         "IpRanges": [{"CidrIp": "10.0.0.0/8", "Description": "https"}, {"CidrIp": "192.168.0.0/16"}]},
        {"IpProtocol": "icmp", "FromPort": 3, "ToPort": 4, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
        {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8081,
         "Ipv6Ranges": [{"CidrIpv6": "2001:db8::/32", "Description": "v6 clients"}]}]' >/dev/null
    awsx ec2 authorize-security-group-ingress --group-id "$db" --ip-permissions \
        "[{\"IpProtocol\": \"tcp\", \"FromPort\": 5432, \"ToPort\": 5432,
          \"UserIdGroupPairs\": [{\"GroupId\": \"$web\", \"Description\": \"postgres from web\"}]}]" >/dev/null
    awsx ec2 authorize-security-group-egress --group-id "$db" --ip-permissions \
        '[{"IpProtocol": "udp", "FromPort": 53, "ToPort": 53, "IpRanges": [{"CidrIp": "10.1.0.2/32", "Description": "dns"}]}]' >/dev/null
    awsx ec2 create-tags --resources "$web" "$db" --tags Key=team,Value=shop >/dev/null
    before=$(group_state "$web" "$db")
    ctl import --group-id "$web" -n "$ns" --name web >"$E2E_TEST_DIR/web.yaml" || fail "import of $web exited $?" || return 1
    ctl import --group-id "$db" -n "$ns" --name db >"$E2E_TEST_DIR/db.yaml" || fail "import of $db exited $?" || return 1
    assert_eq "$(grep -c 'protocol:' "$E2E_TEST_DIR/web.yaml")" 5 "atomic rules of web (4 ingress, 1 egress)" || return 1
    assert_contains "$(cat "$E2E_TEST_DIR/db.yaml")" "groupId: $web" "db's peer" || return 1
    ctl validate "$E2E_TEST_DIR/web.yaml" "$E2E_TEST_DIR/db.yaml" || fail "the imported postures do not validate" || return 1
    start_for "$ns"
    k apply -f "$E2E_TEST_DIR/web.yaml" -f "$E2E_TEST_DIR/db.yaml" >/dev/null
    k wait --for=condition=Ready --timeout=60s sgp/web sgp/db -n "$ns" || return 1
    # Two more resyncs: still Ready, no drift, and the controller never changed AWS.
    reads=$(metric netposture_aws_requests_total 'action="DescribeSecurityGroups"')
    wait_for 30 "two more resyncs" metric_at_least netposture_aws_requests_total 'action="DescribeSecurityGroups"' $((reads + 2)) || return 1
    for n in web db; do
        assert_eq "$(condition sgp "$ns" "$n" Ready)" "True/Converged" "$n Ready" || return 1
        count=$(k get sgp "$n" -n "$ns" -o jsonpath='{.status.drift.count}')
        assert_eq "${count:-0}" 0 "$n drift count" || return 1
    done
    assert_eq "$(aws_mutations)" "" "the controller's mutating AWS calls" || return 1
    assert_eq "$(group_state "$web" "$db")" "$before" "the groups in moto after adoption" || return 1
    # A group another posture owns is refused.
    awsx ec2 create-tags --resources "$db" --tags "Key=netposture.dev/owner,Value=other/db" >/dev/null
    expect_failure ctl import --group-id "$db" -n "$ns" --name db >/dev/null || return 1
}

# vpc_state <vpc-id>: the VPC and its pieces as moto describes them, canonical JSON.
vpc_state() {
    local f="Name=vpc-id,Values=$1"
    {
        awsx ec2 describe-vpcs --vpc-ids "$1"
        awsx ec2 describe-subnets --filters "$f"
        awsx ec2 describe-route-tables --filters "$f"
        awsx ec2 describe-network-acls --filters "$f"
    } | python3 -c '
import json, sys
docs = json.loads("[" + sys.stdin.read().replace("}\n{", "},\n{") + "]")
print(json.dumps(docs, sort_keys=True))'
}

# vpc_plan_actions_are <ns> <name> <n>: the VPCPosture's status.plan holds n actions.
vpc_plan_actions_are() {
    [ "$(k get vpcp "$2" -n "$1" -o json | python3 -c 'import json,sys; print(len(json.load(sys.stdin).get("status", {}).get("plan", {}).get("actions", [])))')" = "$3" ]
}

test_ctl_vpc_import_round_trip_and_plan_with_the_controllers_id() {
    local ns vpc a b igw rtb acl assoc before reads name file id out rc
    ns=$(new_namespace ctlvpc)
    # A VPC built by hand: two subnets, a route table to an internet gateway for one, a network
    # ACL with its own entries for the other (the main table and default ACL for the rest).
    vpc=$(awsx ec2 create-vpc --cidr-block 10.50.0.0/16 --query Vpc.VpcId --output text)
    awsx ec2 create-tags --resources "$vpc" --tags "Key=Name,Value=$ns-net" Key=team,Value=shop >/dev/null
    a=$(awsx ec2 create-subnet --vpc-id "$vpc" --cidr-block 10.50.1.0/24 --availability-zone us-east-1a --query Subnet.SubnetId --output text)
    b=$(awsx ec2 create-subnet --vpc-id "$vpc" --cidr-block 10.50.2.0/24 --availability-zone us-east-1b --query Subnet.SubnetId --output text)
    awsx ec2 create-tags --resources "$a" --tags Key=Name,Value=web-a >/dev/null
    igw=$(awsx ec2 create-internet-gateway --query InternetGateway.InternetGatewayId --output text)
    awsx ec2 attach-internet-gateway --internet-gateway-id "$igw" --vpc-id "$vpc" >/dev/null
    rtb=$(awsx ec2 create-route-table --vpc-id "$vpc" --query RouteTable.RouteTableId --output text)
    awsx ec2 create-route --route-table-id "$rtb" --destination-cidr-block 0.0.0.0/0 --gateway-id "$igw" >/dev/null
    awsx ec2 associate-route-table --route-table-id "$rtb" --subnet-id "$a" >/dev/null
    acl=$(awsx ec2 create-network-acl --vpc-id "$vpc" --query NetworkAcl.NetworkAclId --output text)
    awsx ec2 create-network-acl-entry --network-acl-id "$acl" --ingress --rule-number 100 --protocol tcp \
        --port-range From=443,To=443 --cidr-block 10.0.0.0/8 --rule-action allow >/dev/null
    awsx ec2 create-network-acl-entry --network-acl-id "$acl" --egress --rule-number 100 --protocol -1 \
        --cidr-block 0.0.0.0/0 --rule-action allow >/dev/null
    assoc=$(awsx ec2 describe-network-acls --filters "Name=association.subnet-id,Values=$b" | python3 -c '
import json, sys
print([x["NetworkAclAssociationId"] for a in json.load(sys.stdin)["NetworkAcls"] for x in a["Associations"] if x["SubnetId"] == sys.argv[1]][0])' "$b")
    awsx ec2 replace-network-acl-association --association-id "$assoc" --network-acl-id "$acl" >/dev/null
    before=$(vpc_state "$vpc")
    # import -> validate -> apply: Ready, no drift, no mutating call, the VPC as it was.
    file="$E2E_TEST_DIR/vpc.yaml"
    ctl import --vpc-id "$vpc" -n "$ns" >"$file" || fail "import of $vpc exited $?" || return 1
    name="$ns-net"
    assert_contains "$(cat "$file")" "name: $name" "the posture is named after the Name tag" || return 1
    assert_contains "$(cat "$file")" "routeTableId: $rtb" "the route table by id" || return 1
    ctl validate "$file" || fail "the imported VPCPosture does not validate" || return 1
    start_for "$ns"
    k apply -f "$file" >/dev/null
    k wait --for=condition=Ready --timeout=60s "vpcp/$name" -n "$ns" >/dev/null || return 1
    reads=$(metric netposture_aws_requests_total 'action="DescribeNetworkAcls"')
    wait_for 30 "two more resyncs" metric_at_least netposture_aws_requests_total 'action="DescribeNetworkAcls"' $((reads + 2)) || return 1
    assert_eq "$(condition vpcp "$ns" "$name" Ready)" "True/Converged" "Ready" || return 1
    assert_eq "$(k get vpcp "$name" -n "$ns" -o jsonpath='{.status.drift.count}')" 0 "drift count" || return 1
    assert_eq "$(aws_mutations)" "" "the controller's mutating AWS calls" || return 1
    assert_eq "$(vpc_state "$vpc")" "$before" "the VPC in moto after adoption" || return 1
    # plan: converged, from the cluster and from the file.
    out=$(ctl plan -n "$ns" "$name") || fail "plan of the converged VPCPosture exited $?: $out" || return 1
    assert_contains "$out" "VPC $vpc in us-east-1" "plan heading" || return 1
    assert_eq "$(plan_lines "$out")" "no changes" "converged plan" || return 1
    ctl plan "$file" >/dev/null || fail "plan of the imported file exited $?" || return 1
    # Propose mode, then an entry opened out of band: the plan is exactly it, with the
    # controller's id, and nothing changes.
    k patch vpcp "$name" -n "$ns" --type merge -p '{"spec":{"remediation":{"mode":"Propose"}}}' >/dev/null
    wait_for 30 "Propose mode converged" bash -c \
        "[ \"\$(kubectl get vpcp $name -n $ns -o jsonpath='{.status.convergedGeneration}')\" = 2 ]" || return 1
    awsx ec2 create-network-acl-entry --network-acl-id "$acl" --ingress --rule-number 200 --protocol tcp \
        --port-range From=22,To=22 --cidr-block 0.0.0.0/0 --rule-action allow >/dev/null
    wait_for 30 "a plan of the entry" vpc_plan_actions_are "$ns" "$name" 1 || return 1
    id=$(k get vpcp "$name" -n "$ns" -o jsonpath='{.status.plan.id}')
    rc=0
    out=$(ctl plan -n "$ns" "$name") || rc=$?
    assert_eq "$rc" 1 "plan exit with drift" || return 1
    assert_eq "$(plan_lines "$out")" "$(k get vpcp "$name" -n "$ns" -o jsonpath='{.status.plan.actions[0]}')" \
        "the plan is status.plan's" || return 1
    assert_contains "$out" "entry delete networkAcl/" "the plan's change" || return 1
    assert_contains "$out" "plan id $id" "the controller's plan id" || return 1
    assert_eq "$(tail -n 1 <<<"$out")" "+0 ~0 -1" "summary" || return 1
    [ -n "$(awsx ec2 describe-network-acls --network-acl-ids "$acl" --query 'NetworkAcls[0].Entries[?RuleNumber==`200`].RuleNumber' --output text)" ] ||
        fail "plan changed AWS: entry 200 is gone"
}

test_ctl_inject_drift_measures_a_repair_and_refuses_a_foreign_group() {
    local ns sg vpc foreign out rc
    ns=$(new_namespace ctlgame)
    web_ready "$ns" || return 1
    sg=$(group_of "$ns" web)
    # Without the game-day label: refused, nothing changed.
    rc=0
    out=$(ctl inject-drift -n "$ns" web --kind open-port 2>&1) || rc=$?
    assert_eq "$rc" 2 "inject-drift without the label" || return 1
    assert_contains "$out" "is not labelled netposture.dev/game-day=allowed" "refusal" || return 1
    assert_eq "$(rules "$sg" ingress)" "tcp 443-443 10.0.0.0/8" "rules after the refusal" || return 1
    k label sgp web -n "$ns" netposture.dev/game-day=allowed >/dev/null
    # One open port, repaired by the controller and timed.
    out=$(ctl inject-drift -n "$ns" web --kind open-port --wait --timeout 30s) ||
        fail "open-port exited $?: $out" || return 1
    assert_contains "$out" "injected on $sg: authorize ingress tcp 22 0.0.0.0/0" "the change" || return 1
    assert_contains "$out" "undone after " "the time to remediate" || return 1
    assert_eq "$(rules "$sg" ingress)" "tcp 443-443 10.0.0.0/8" "rules after the repair" || return 1
    # A deleted tag, as JSON.
    out=$(ctl inject-drift -n "$ns" web --kind delete-tag --wait --timeout 30s -o json) ||
        fail "delete-tag exited $?: $out" || return 1
    assert_eq "$(python3 -c 'import json,sys; d=json.load(sys.stdin); r=d["runs"][0]; print(d["kind"], r["change"], r["seconds"] > 0)' <<<"$out")" \
        "delete-tag tag delete team True" "delete-tag result" || return 1
    assert_eq "$(tag_of "$sg" team)" "shop" "the tag after the repair" || return 1
    # Three runs: p50 and p99.
    out=$(ctl inject-drift -n "$ns" web --kind open-port --wait --timeout 30s --count 3) ||
        fail "--count 3 exited $?: $out" || return 1
    assert_eq "$(grep -c '^undone after ' <<<"$out")" 3 "runs repaired" || return 1
    assert_contains "$out" "time to remediate over 3 runs: p50 " "percentiles" || return 1
    # A group the posture adopted in Detect mode carries no ownership tags: never touched.
    vpc=$(awsx ec2 describe-vpcs --filters Name=isDefault,Values=true --query 'Vpcs[0].VpcId' --output text)
    foreign=$(awsx ec2 create-security-group --group-name "$ns-foreign" --description foreign --vpc-id "$vpc" --query GroupId --output text)
    ctl import --group-id "$foreign" -n "$ns" --name foreign | k apply -f - >/dev/null
    k label sgp foreign -n "$ns" netposture.dev/game-day=allowed >/dev/null
    k wait --for=condition=Ready --timeout=60s sgp/foreign -n "$ns" || return 1
    rc=0
    out=$(ctl inject-drift -n "$ns" foreign --kind open-port --yes 2>&1) || rc=$?
    assert_eq "$rc" 2 "inject-drift on a group without our tags" || return 1
    assert_contains "$out" "security group $foreign is not managed by $ns/foreign" "foreign refusal" || return 1
    assert_eq "$(rules "$foreign" ingress)" "" "the foreign group's rules"
}

test_ctl_render_terraform_holds_the_rules_the_controller_converges_on() {
    local ns sg out hcl="$E2E_REPO/build/e2e-tools/hclrules" file
    [ -x "$hcl" ] || fail "missing $hcl (make e2e-tools)" || return 1
    ns=$(new_namespace ctlrender)
    start_for "$ns"
    file="$E2E_TEST_DIR/rendered.yaml"
    cat >"$file" <<YAML
apiVersion: netposture.dev/v1alpha1
kind: SecurityGroupPosture
metadata: {name: rendered, namespace: $ns}
spec:
  groupName: $ns-rendered
  tags: {team: shop}
  ingress:
  - {protocol: tcp, fromPort: 443, toPort: 443, cidrs: ["10.0.0.0/8", "192.168.0.0/16"], description: https}
  - {protocol: udp, fromPort: 53, toPort: 53, ipv6Cidrs: ["2001:db8::/32"]}
  - {protocol: icmp, fromPort: 8, toPort: -1, cidrs: ["10.0.0.0/8"]}
  - {protocol: all, cidrs: ["10.1.0.0/16"]}
  egress:
  - {protocol: tcp, fromPort: 443, toPort: 443, cidrs: ["0.0.0.0/0"]}
YAML
    k apply -f "$file" >/dev/null
    k wait --for=condition=Ready --timeout=60s sgp/rendered -n "$ns" >/dev/null || return 1
    sg=$(group_of "$ns" rendered)
    ctl render terraform "$file" >"$E2E_TEST_DIR/rendered.tf" || fail "render exited $?" || return 1
    # HashiCorp's parser reads it, and its rules are exactly those the controller put in AWS.
    out=$("$hcl" ingress "$E2E_TEST_DIR/rendered.tf") || fail "the HCL does not parse: $out" || return 1
    assert_eq "$out" "$(rules "$sg" ingress)" "ingress rules of the HCL vs AWS" || return 1
    assert_eq "$("$hcl" egress "$E2E_TEST_DIR/rendered.tf")" "$(rules "$sg" egress)" "egress rules of the HCL vs AWS" || return 1
    assert_eq "$(grep -c 'security_group_id = aws_security_group.rendered.id' "$E2E_TEST_DIR/rendered.tf")" 6 \
        "one rule resource per atomic rule" || return 1
    # A VPCPosture with every piece parses too, with import blocks.
    ctl render terraform --import-blocks "$E2E_REPO/manifests/samples/vpcposture-main.yaml" >"$E2E_TEST_DIR/vpc.tf" ||
        fail "render of the VPC sample exited $?" || return 1
    out=$("$hcl" resources "$E2E_TEST_DIR/vpc.tf") || fail "the VPC HCL does not parse: $out" || return 1
    assert_eq "$(sed 's/\..*//' <<<"$out" | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' ')" \
        "aws_default_security_group=1 aws_flow_log=1 aws_network_acl=1 aws_network_acl_rule=7 aws_route=1 aws_route_table=1 aws_route_table_association=2 aws_subnet=2 aws_vpc=1 " \
        "the VPC's resources"
}

test_ctl_inject_drift_on_a_vpc_network_acl_and_route() {
    local ns igw rt out rc
    ns=$(new_namespace ctlgamevpc)
    start_for "$ns"
    igw=$(awsx ec2 create-internet-gateway --query 'InternetGateway.InternetGatewayId' --output text)
    k apply -n "$ns" -f - >/dev/null <<YAML
apiVersion: netposture.dev/v1alpha1
kind: VPCPosture
metadata: {name: main, labels: {netposture.dev/game-day: allowed}}
spec:
  cidrBlock: 10.77.0.0/16
  subnets:
  - {name: a, cidrBlock: 10.77.1.0/24, availabilityZone: us-east-1a}
  routeTables:
  - name: private
    subnets: [a]
    routes: [{destinationCidrBlock: 172.16.0.0/12, gatewayId: $igw}]
  networkAcls:
  - name: private
    subnets: [a]
    entries:
    - {ruleNumber: 100, protocol: tcp, action: allow, cidrBlock: 10.0.0.0/8, fromPort: 443, toPort: 443}
YAML
    k wait --for=condition=Ready --timeout=60s vpcp/main -n "$ns" >/dev/null || return 1
    out=$(ctl inject-drift -n "$ns" main --kind nacl-entry --wait --timeout 30s) ||
        fail "nacl-entry exited $?: $out" || return 1
    assert_contains "$out" "nacl entry add networkAcl/private ingress 50 allow tcp 22 0.0.0.0/0" "the entry" || return 1
    assert_contains "$out" "undone after " "the entry's repair" || return 1
    out=$(ctl inject-drift -n "$ns" main --kind route --wait --timeout 30s) ||
        fail "route exited $?: $out" || return 1
    assert_contains "$out" "route delete routeTable/private 172.16.0.0/12 (gatewayId $igw)" "the route" || return 1
    assert_contains "$out" "undone after " "the route's repair" || return 1
    rt=$(k get vpcp main -n "$ns" -o jsonpath='{.status.routeTables[0].routeTableId}')
    assert_eq "$(awsx ec2 describe-route-tables --route-table-ids "$rt" --query 'RouteTables[0].Routes[?DestinationCidrBlock==`172.16.0.0/12`].GatewayId' --output text)" \
        "$igw" "the route after the repair" || return 1
    # The security-group kinds name a SecurityGroupPosture.
    rc=0
    out=$(ctl inject-drift -n "$ns" main --kind open-port 2>&1) || rc=$?
    assert_eq "$rc" 2 "open-port on a VPCPosture's name" || return 1
    assert_contains "$out" "no SecurityGroupPosture $ns/main (--kind open-port)" "message"
}
