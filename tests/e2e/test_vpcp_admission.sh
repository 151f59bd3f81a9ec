# End-to-end admission tests of the VPCPosture CRD and the PostureGuardrail additions for it:
# valid objects (the shipped sample, a minimal posture, the CIS guardrail) pass kube-apiserver's
# schema and CEL validation, and each kind of invalid object is refused with its own message.
# Only kubectl against kube-apiserver; no controller runs. Every rejection asserts the
# specific message, so a loosened schema or rule fails the test that covers it. Guardrails are
# only ever applied with a server-side dry run: a stored cluster-wide guardrail would govern
# the other tests' postures.
# shellcheck shell=bash

# reject <ns> <what> <expected message substring>: applies the YAML on stdin in the namespace,
# which the API server must refuse with the message.
reject() {
    local ns=$1 what=$2 want=$3 out
    out=$(expect_failure k apply -n "$ns" -f -) || fail "$what: accepted" || return 1
    assert_contains "$out" "$want" "$what: the rejection"
}

# reject_guardrail <what> <expected message substring>: a server-side dry run of the
# PostureGuardrail on stdin must be refused with the message.
reject_guardrail() {
    local what=$1 want=$2 out
    out=$(expect_failure k apply --dry-run=server -f -) || fail "$what: accepted" || return 1
    assert_contains "$out" "$want" "$what: the rejection"
}

# nothing_stored <ns>: no VPCPosture was stored by the rejected applies.
nothing_stored() {
    assert_eq "$(k get vpcp -n "$1" -o name)" "" "VPCPostures stored in $1"
}

# jpy <python expression over d>: evaluates it on the JSON document on stdin; strings print
# as they are, anything else as compact JSON with sorted keys.
jpy() {
    python3 -c '
import json, sys
d = json.load(sys.stdin)
v = eval(sys.argv[1], {"d": d})
print(v if isinstance(v, str) else json.dumps(v, separators=(",", ":"), sort_keys=True))' "$1"
}

# acl_yaml <entries as a YAML flow list>: a posture with one network ACL holding them.
acl_yaml() {
    printf 'apiVersion: netposture.dev/v1alpha1\nkind: VPCPosture\nmetadata: {name: bad}\nspec:\n  cidrBlock: 10.0.0.0/16\n  networkAcls:\n  - name: x\n    entries: %s\n' "$1"
}

# routes_yaml <routes as a YAML flow list>: a posture with one route table holding them.
routes_yaml() {
    printf 'apiVersion: netposture.dev/v1alpha1\nkind: VPCPosture\nmetadata: {name: bad}\nspec:\n  cidrBlock: 10.0.0.0/16\n  routeTables:\n  - name: x\n    routes: %s\n' "$1"
}

# spec_yaml <spec lines>: a posture "bad" with cidrBlock 10.0.0.0/16 and these spec lines
# (indented by two spaces).
spec_yaml() {
    printf 'apiVersion: netposture.dev/v1alpha1\nkind: VPCPosture\nmetadata: {name: bad}\nspec:\n  cidrBlock: 10.0.0.0/16\n%s\n' "$1"
}

test_vpcp_admission_accepts_sample_and_minimal() {
    local ns out
    ns=$(new_namespace vpcpok)
    # The sample, as shipped (its namespace is "shop").
    k apply -f "$E2E_REPO/manifests/samples/namespace-shop.yaml" >/dev/null
    out=$(k apply --dry-run=server -f "$E2E_REPO/manifests/samples/vpcposture-main.yaml")
    assert_contains "$out" "vpcposture.netposture.dev/main created (server dry run)" "sample"
    # The smallest valid posture, with the defaults the schema fills in.
    out=$(k apply -n "$ns" --dry-run=server -o json -f - <<'YAML'
apiVersion: netposture.dev/v1alpha1
kind: VPCPosture
metadata: {name: minimal}
spec:
  cidrBlock: 10.0.0.0/16
YAML
)
    assert_eq "$(jpy 'd["spec"]' <<<"$out")" \
        '{"cidrBlock":"10.0.0.0/16","management":{"policy":"Create"},"ownership":"Exclusive","remediation":{"maxChangesPerSync":20,"mode":"Enforce"}}' \
        "minimal spec with defaults"
    # Every optional piece at once: IPv6 and prefix-list routes, every target kind, icmp and
    # protocol-number entries, the same ruleNumber once per direction, adoption of existing
    # pieces, a logs destination with its role, and subnets filling the VPC block exactly.
    out=$(k apply -n "$ns" --dry-run=server -o json -f - <<'YAML'
apiVersion: netposture.dev/v1alpha1
kind: VPCPosture
metadata: {name: full}
spec:
  accountRef: {name: prod}
  region: eu-west-1
  cidrBlock: 10.1.0.0/24
  management: {policy: Adopt, vpcId: vpc-0123456789abcdef0, deletionPolicy: Retain}
  enableDnsSupport: true
  enableDnsHostnames: false
  tags: {env: prod, "team/owner": net}
  flowLogs:
    enabled: true
    destination: arn:aws:logs:eu-west-1:123456789012:log-group:vpc-flow-logs
    deliverLogsPermissionArn: arn:aws:iam::123456789012:role/flow-logs
  defaultSecurityGroup: {restrictAll: true}
  subnets:
  - {name: a, cidrBlock: 10.1.0.0/25, availabilityZone: eu-west-1a, subnetId: subnet-0123456789abcdef0}
  - {name: b, cidrBlock: 10.1.0.128/25, mapPublicIpOnLaunch: true, tags: {tier: public}}
  routeTables:
  - name: public
    subnets: [b]
    routeTableId: rtb-0123456789abcdef0
    routes:
    - {destinationCidrBlock: 0.0.0.0/0, gatewayId: igw-0123456789abcdef0}
    - {destinationIpv6CidrBlock: "::/0", egressOnlyInternetGatewayId: eigw-0123456789abcdef0}
    - {destinationPrefixListId: pl-0123456789abcdef0, gatewayId: vpce-0123456789abcdef0}
    - {destinationCidrBlock: 10.2.0.0/16, vpcPeeringConnectionId: pcx-0123456789abcdef0}
    - {destinationCidrBlock: 10.3.0.0/16, transitGatewayId: tgw-0123456789abcdef0}
    - {destinationCidrBlock: 10.4.0.0/16, natGatewayId: nat-0123456789abcdef0}
    - {destinationCidrBlock: 10.5.0.0/16, instanceId: i-0123456789abcdef0}
    - {destinationCidrBlock: 10.6.0.0/16, networkInterfaceId: eni-0123456789abcdef0}
    - {destinationCidrBlock: 10.7.0.0/16, carrierGatewayId: cagw-0123456789abcdef0}
    - {destinationCidrBlock: 10.8.0.0/16, localGatewayId: lgw-0123456789abcdef0}
    - {destinationCidrBlock: 10.9.0.0/16, coreNetworkArn: "arn:aws:networkmanager::123456789012:core-network/core-network-0123456789abcdef0"}
    - {destinationIpv6CidrBlock: "2001:db8::/32", gatewayId: igw-0123456789abcdef0}
  - name: private
    subnets: [a]
  networkAcls:
  - name: all
    subnets: [a, b]
    networkAclId: acl-0123456789abcdef0
    entries:
    - {ruleNumber: 1, protocol: icmp, action: allow, cidrBlock: 10.0.0.0/8, icmpType: 8, icmpCode: 0}
    - {ruleNumber: 2, protocol: icmpv6, action: allow, ipv6CidrBlock: "::/0"}
    - {ruleNumber: 3, protocol: "6", action: allow, cidrBlock: 10.0.0.0/8, fromPort: 0, toPort: 65535}
    - {ruleNumber: 4, protocol: "50", action: allow, cidrBlock: 10.0.0.0/8}
    - {ruleNumber: 5, protocol: "-1", action: deny, cidrBlock: 0.0.0.0/0}
    - {ruleNumber: 32766, protocol: udp, action: allow, ipv6CidrBlock: "2001:db8::/32", fromPort: 53, toPort: 53}
    - {ruleNumber: 32766, egress: true, protocol: all, action: allow, cidrBlock: 0.0.0.0/0}
  ownership: Additive
  remediation:
    mode: Propose
    gracePeriod: 5m
    maxChangesPerSync: 5
    exceptions:
    - rule: {direction: ingress, protocol: tcp, fromPort: 22, toPort: 22, cidrs: ["203.0.113.7/32"]}
      expires: "2030-01-01T00:00:00Z"
YAML
)
    assert_eq "$(jpy 'd["spec"]["flowLogs"]["trafficType"]' <<<"$out")" "ALL" "flowLogs.trafficType default"
    assert_eq "$(jpy '[e["egress"] for e in d["spec"]["networkAcls"][0]["entries"]]' <<<"$out")" \
        "[false,false,false,false,false,false,true]" "entries' egress default"
    nothing_stored "$ns"
}

test_vpcp_admission_rejects_bad_cidrs() {
    local ns
    ns=$(new_namespace vpcpcidr)
    reject "$ns" "VPC CIDR /33" '"10.0.0.0/33" is not an IPv4 CIDR such as 10.0.0.0/16' <<'YAML'
apiVersion: netposture.dev/v1alpha1
kind: VPCPosture
metadata: {name: bad}
spec: {cidrBlock: 10.0.0.0/33}
YAML
    reject "$ns" "VPC CIDR not an address" '"10.0.0/16" is not an IPv4 CIDR' <<'YAML'
apiVersion: netposture.dev/v1alpha1
kind: VPCPosture
metadata: {name: bad}
spec: {cidrBlock: 10.0.0/16}
YAML
    reject "$ns" "IPv6 VPC CIDR" '"2001:db8::/56" is not an IPv4 CIDR' <<'YAML'
apiVersion: netposture.dev/v1alpha1
kind: VPCPosture
metadata: {name: bad}
spec: {cidrBlock: "2001:db8::/56"}
YAML
    reject "$ns" "VPC CIDR /8" '"10.0.0.0/8": a VPC block must be /16 to /28 (AWS)' <<'YAML'
apiVersion: netposture.dev/v1alpha1
kind: VPCPosture
metadata: {name: bad}
spec: {cidrBlock: 10.0.0.0/8}
YAML
    reject "$ns" "no cidrBlock" 'spec.cidrBlock: Required value' <<'YAML'
apiVersion: netposture.dev/v1alpha1
kind: VPCPosture
metadata: {name: bad}
spec: {enableDnsSupport: true}
YAML
    reject "$ns" "subnet outside the VPC" 'every subnet cidrBlock must be inside the VPC cidrBlock 10.0.0.0/16' <<'YAML'
apiVersion: netposture.dev/v1alpha1
kind: VPCPosture
metadata: {name: bad}
spec:
  cidrBlock: 10.0.0.0/16
  subnets:
  - {name: a, cidrBlock: 10.0.1.0/24}
  - {name: b, cidrBlock: 10.1.1.0/24}
YAML
    reject "$ns" "subnet larger than the VPC" 'every subnet cidrBlock must be inside the VPC cidrBlock 10.0.0.0/24' <<'YAML'
apiVersion: netposture.dev/v1alpha1
kind: VPCPosture
metadata: {name: bad}
spec:
  cidrBlock: 10.0.0.0/24
  subnets: [{name: a, cidrBlock: 10.0.0.0/23}]
YAML
    reject "$ns" "overlapping subnets" 'subnet cidrBlocks must not overlap' <<'YAML'
apiVersion: netposture.dev/v1alpha1
kind: VPCPosture
metadata: {name: bad}
spec:
  cidrBlock: 10.0.0.0/16
  subnets:
  - {name: a, cidrBlock: 10.0.0.0/23}
  - {name: b, cidrBlock: 10.0.1.0/24}
YAML
    reject "$ns" "subnet /29" '"10.0.0.0/29": a subnet block must be /16 to /28 (AWS)' <<'YAML'
apiVersion: netposture.dev/v1alpha1
kind: VPCPosture
metadata: {name: bad}
spec:
  cidrBlock: 10.0.0.0/16
  subnets: [{name: a, cidrBlock: 10.0.0.0/29}]
YAML
    reject "$ns" "IPv6 entry CIDR in cidrBlock" '"::/0" is not an IPv4 CIDR such as 10.0.0.0/8 (IPv6 goes in ipv6CidrBlock)' <<'YAML'
apiVersion: netposture.dev/v1alpha1
kind: VPCPosture
metadata: {name: bad}
spec:
  cidrBlock: 10.0.0.0/16
  networkAcls:
  - name: x
    entries: [{ruleNumber: 100, protocol: all, action: allow, cidrBlock: "::/0"}]
YAML
    nothing_stored "$ns"
}

test_vpcp_admission_rejects_bad_acl_entries() {
    local ns
    ns=$(new_namespace vpcpacl)
    acl_yaml '[{ruleNumber: 0, protocol: all, action: allow, cidrBlock: 0.0.0.0/0}]' |
        reject "$ns" "ruleNumber 0" 'spec.networkAcls[0].entries[0].ruleNumber in body should be greater than or equal to 1'
    acl_yaml '[{ruleNumber: 32767, protocol: all, action: allow, cidrBlock: 0.0.0.0/0}]' |
        reject "$ns" "ruleNumber 32767" 'spec.networkAcls[0].entries[0].ruleNumber in body should be less than or equal to 32766'
    acl_yaml '[{protocol: all, action: allow, cidrBlock: 0.0.0.0/0}]' |
        reject "$ns" "no ruleNumber" 'spec.networkAcls[0].entries[0].ruleNumber: Required value'
    acl_yaml '[{ruleNumber: 100, protocol: foo, action: allow, cidrBlock: 0.0.0.0/0}]' |
        reject "$ns" "protocol foo" "spec.networkAcls[0].entries[0].protocol in body should match '^(tcp|udp|icmp|icmpv6|all|-1|0|[1-9][0-9]{0,2})\$'"
    acl_yaml '[{ruleNumber: 100, protocol: "256", action: allow, cidrBlock: 0.0.0.0/0}]' |
        reject "$ns" "protocol 256" 'a protocol number must be 0-255'
    acl_yaml '[{ruleNumber: 100, protocol: tcp, action: maybe, cidrBlock: 0.0.0.0/0, fromPort: 1, toPort: 2}]' |
        reject "$ns" "action maybe" 'spec.networkAcls[0].entries[0].action: Unsupported value: "maybe": supported values: "allow", "deny"'
    acl_yaml '[{ruleNumber: 100, protocol: tcp, action: allow, cidrBlock: 10.0.0.0/8}]' |
        reject "$ns" "tcp without ports" 'tcp and udp entries need fromPort and toPort'
    acl_yaml '[{ruleNumber: 100, protocol: "17", action: allow, cidrBlock: 10.0.0.0/8, fromPort: 53}]' |
        reject "$ns" "udp (17) without toPort" 'tcp and udp entries need fromPort and toPort'
    acl_yaml '[{ruleNumber: 100, protocol: tcp, action: allow, cidrBlock: 10.0.0.0/8, fromPort: 443, toPort: 80}]' |
        reject "$ns" "fromPort > toPort" 'fromPort must not be greater than toPort'
    acl_yaml '[{ruleNumber: 100, protocol: tcp, action: allow, cidrBlock: 10.0.0.0/8, fromPort: 1, toPort: 65536}]' |
        reject "$ns" "toPort 65536" 'toPort in body should be less than or equal to 65535'
    acl_yaml '[{ruleNumber: 100, protocol: icmp, action: allow, cidrBlock: 10.0.0.0/8, fromPort: 8}]' |
        reject "$ns" "icmp with fromPort" 'fromPort and toPort are only for tcp and udp entries'
    acl_yaml '[{ruleNumber: 100, protocol: all, action: allow, cidrBlock: 10.0.0.0/8, fromPort: 0, toPort: 65535}]' |
        reject "$ns" "all with ports" 'fromPort and toPort are only for tcp and udp entries'
    acl_yaml '[{ruleNumber: 100, protocol: tcp, action: allow, cidrBlock: 10.0.0.0/8, fromPort: 1, toPort: 2, icmpType: 8}]' |
        reject "$ns" "tcp with icmpType" 'icmpType and icmpCode are only for icmp and icmpv6 entries'
    acl_yaml '[{ruleNumber: 100, protocol: icmp, action: allow, cidrBlock: 10.0.0.0/8, icmpCode: 3}]' |
        reject "$ns" "icmp code without type" 'when icmpType is -1 (all types) or omitted, icmpCode must be -1 or omitted'
    acl_yaml '[{ruleNumber: 100, protocol: icmp, action: allow, cidrBlock: 10.0.0.0/8, icmpType: 256}]' |
        reject "$ns" "icmpType 256" 'icmpType in body should be less than or equal to 255'
    acl_yaml '[{ruleNumber: 100, protocol: all, action: allow}]' |
        reject "$ns" "no CIDR" 'an entry needs exactly one of cidrBlock and ipv6CidrBlock'
    acl_yaml '[{ruleNumber: 100, protocol: all, action: allow, cidrBlock: 0.0.0.0/0, ipv6CidrBlock: "::/0"}]' |
        reject "$ns" "two CIDRs" 'an entry needs exactly one of cidrBlock and ipv6CidrBlock'
    # (egress, ruleNumber) is the entry's identity; egress defaults to false before the check.
    acl_yaml '[{ruleNumber: 100, protocol: all, action: allow, cidrBlock: 10.0.0.0/8}, {ruleNumber: 100, egress: false, protocol: tcp, action: deny, cidrBlock: 0.0.0.0/0, fromPort: 22, toPort: 22}]' |
        reject "$ns" "duplicate ingress ruleNumber" '(egress, ruleNumber) must be unique within a network ACL'
    acl_yaml '[{ruleNumber: 7, egress: true, protocol: all, action: allow, cidrBlock: 10.0.0.0/8}, {ruleNumber: 8, egress: true, protocol: all, action: allow, cidrBlock: 10.0.0.0/8}, {ruleNumber: 7, egress: true, protocol: all, action: deny, cidrBlock: 0.0.0.0/0}]' |
        reject "$ns" "duplicate egress ruleNumber" '(egress, ruleNumber) must be unique within a network ACL'
    nothing_stored "$ns"
    # The same number once per direction is fine.
    acl_yaml '[{ruleNumber: 100, protocol: all, action: allow, cidrBlock: 10.0.0.0/8}, {ruleNumber: 100, egress: true, protocol: all, action: allow, cidrBlock: 10.0.0.0/8}]' |
        k apply -n "$ns" --dry-run=server -f - >/dev/null
}

test_vpcp_admission_rejects_bad_routes() {
    local ns
    ns=$(new_namespace vpcproute)
    local one_target='a route needs exactly one target: gatewayId, natGatewayId, transitGatewayId, vpcPeeringConnectionId, egressOnlyInternetGatewayId, carrierGatewayId, localGatewayId, coreNetworkArn, instanceId or networkInterfaceId'
    routes_yaml '[{destinationCidrBlock: 0.0.0.0/0, gatewayId: igw-0123456789abcdef0, natGatewayId: nat-0123456789abcdef0}]' |
        reject "$ns" "two targets" "$one_target"
    routes_yaml '[{destinationCidrBlock: 0.0.0.0/0, instanceId: i-0123456789abcdef0, coreNetworkArn: "arn:aws:networkmanager::123456789012:core-network/core-network-01"}]' |
        reject "$ns" "two other targets" "$one_target"
    routes_yaml '[{destinationCidrBlock: 0.0.0.0/0}]' |
        reject "$ns" "no target" "$one_target"
    routes_yaml '[{gatewayId: igw-0123456789abcdef0}]' |
        reject "$ns" "no destination" 'a route needs exactly one destination: destinationCidrBlock, destinationIpv6CidrBlock or destinationPrefixListId'
    routes_yaml '[{destinationCidrBlock: 0.0.0.0/0, destinationPrefixListId: pl-0123456789abcdef0, gatewayId: igw-0123456789abcdef0}]' |
        reject "$ns" "two destinations" 'a route needs exactly one destination'
    routes_yaml '[{destinationCidrBlock: 0.0.0.0/0, gatewayId: local}]' |
        reject "$ns" "gatewayId local" "gatewayId in body should match '^(igw|vgw|vpce)-[0-9a-f]{8,17}\$'"
    routes_yaml '[{destinationCidrBlock: 0.0.0.0/0, natGatewayId: igw-0123456789abcdef0}]' |
        reject "$ns" "natGatewayId of an igw" "natGatewayId in body should match '^nat-[0-9a-f]{8,17}\$'"
    routes_yaml '[{destinationCidrBlock: 0.0.0.0/0, egressOnlyInternetGatewayId: eigw-0123456789abcdef0}]' |
        reject "$ns" "egress-only gateway for IPv4" 'an egress-only internet gateway routes IPv6 traffic only'
    routes_yaml '[{destinationCidrBlock: "::/0", gatewayId: igw-0123456789abcdef0}]' |
        reject "$ns" "IPv6 in destinationCidrBlock" '"::/0" is not an IPv4 CIDR such as 0.0.0.0/0 (IPv6 goes in destinationIpv6CidrBlock)'
    local dup='a destination may have only one route in a table, but one is declared more than once'
    routes_yaml '[{destinationCidrBlock: 172.16.0.0/12, natGatewayId: nat-0123456789abcdef0}, {destinationCidrBlock: 0.0.0.0/0, gatewayId: igw-0123456789abcdef0}, {destinationCidrBlock: 172.16.0.0/12, transitGatewayId: tgw-0123456789abcdef0}]' |
        reject "$ns" "duplicate destination" "$dup"
    # The same network written with host bits set is the same destination.
    routes_yaml '[{destinationCidrBlock: 172.16.0.0/12, natGatewayId: nat-0123456789abcdef0}, {destinationCidrBlock: 172.17.0.0/12, transitGatewayId: tgw-0123456789abcdef0}]' |
        reject "$ns" "duplicate destination (not masked)" "$dup"
    routes_yaml '[{destinationIpv6CidrBlock: "2001:db8::/32", gatewayId: igw-0123456789abcdef0}, {destinationIpv6CidrBlock: "2001:0db8:0::/32", egressOnlyInternetGatewayId: eigw-0123456789abcdef0}]' |
        reject "$ns" "duplicate IPv6 destination" "$dup"
    routes_yaml '[{destinationPrefixListId: pl-0123456789abcdef0, gatewayId: igw-0123456789abcdef0}, {destinationPrefixListId: pl-0123456789abcdef0, natGatewayId: nat-0123456789abcdef0}]' |
        reject "$ns" "duplicate prefix list" "$dup"
    nothing_stored "$ns"
    # Nested prefixes are different destinations.
    routes_yaml '[{destinationCidrBlock: 172.16.0.0/12, natGatewayId: nat-0123456789abcdef0}, {destinationCidrBlock: 172.16.0.0/16, transitGatewayId: tgw-0123456789abcdef0}]' |
        k apply -n "$ns" --dry-run=server -f - >/dev/null
}

test_vpcp_admission_rejects_bad_references() {
    local ns
    ns=$(new_namespace vpcpref)
    reject "$ns" "duplicate subnet names" 'spec.subnets[1]: Duplicate value: {"name":"a"}' <<'YAML'
apiVersion: netposture.dev/v1alpha1
kind: VPCPosture
metadata: {name: bad}
spec:
  cidrBlock: 10.0.0.0/16
  subnets:
  - {name: a, cidrBlock: 10.0.1.0/24}
  - {name: a, cidrBlock: 10.0.2.0/24}
YAML
    reject "$ns" "duplicate route table names" 'spec.routeTables[1]: Duplicate value: {"name":"x"}' <<'YAML'
apiVersion: netposture.dev/v1alpha1
kind: VPCPosture
metadata: {name: bad}
spec:
  cidrBlock: 10.0.0.0/16
  routeTables: [{name: x}, {name: x}]
YAML
    reject "$ns" "bad subnet name" "spec.subnets[0].name in body should match '^[a-z0-9]([-a-z0-9]*[a-z0-9])?\$'" <<'YAML'
apiVersion: netposture.dev/v1alpha1
kind: VPCPosture
metadata: {name: bad}
spec:
  cidrBlock: 10.0.0.0/16
  subnets: [{name: Private_A, cidrBlock: 10.0.1.0/24}]
YAML
    reject "$ns" "route table naming an unknown subnet" 'every subnet named in routeTables[].subnets must be declared in spec.subnets' <<'YAML'
apiVersion: netposture.dev/v1alpha1
kind: VPCPosture
metadata: {name: bad}
spec:
  cidrBlock: 10.0.0.0/16
  subnets: [{name: a, cidrBlock: 10.0.1.0/24}]
  routeTables: [{name: private, subnets: [a, b]}]
YAML
    reject "$ns" "route table naming a subnet with none declared" 'every subnet named in routeTables[].subnets must be declared in spec.subnets' <<'YAML'
apiVersion: netposture.dev/v1alpha1
kind: VPCPosture
metadata: {name: bad}
spec:
  cidrBlock: 10.0.0.0/16
  routeTables: [{name: private, subnets: [a]}]
YAML
    reject "$ns" "network ACL naming an unknown subnet" 'every subnet named in networkAcls[].subnets must be declared in spec.subnets' <<'YAML'
apiVersion: netposture.dev/v1alpha1
kind: VPCPosture
metadata: {name: bad}
spec:
  cidrBlock: 10.0.0.0/16
  subnets: [{name: a, cidrBlock: 10.0.1.0/24}]
  networkAcls: [{name: private, subnets: [c]}]
YAML
    reject "$ns" "subnet in two route tables" 'a subnet can be associated with only one route table' <<'YAML'
apiVersion: netposture.dev/v1alpha1
kind: VPCPosture
metadata: {name: bad}
spec:
  cidrBlock: 10.0.0.0/16
  subnets: [{name: a, cidrBlock: 10.0.1.0/24}, {name: b, cidrBlock: 10.0.2.0/24}]
  routeTables: [{name: one, subnets: [a]}, {name: two, subnets: [b, a]}]
YAML
    reject "$ns" "subnet in two network ACLs" 'a subnet can be associated with only one network ACL' <<'YAML'
apiVersion: netposture.dev/v1alpha1
kind: VPCPosture
metadata: {name: bad}
spec:
  cidrBlock: 10.0.0.0/16
  subnets: [{name: a, cidrBlock: 10.0.1.0/24}]
  networkAcls: [{name: one, subnets: [a]}, {name: two, subnets: [a]}]
YAML
    reject "$ns" "subnet listed twice in a table" 'spec.routeTables[0].subnets[1]: Duplicate value: "a"' <<'YAML'
apiVersion: netposture.dev/v1alpha1
kind: VPCPosture
metadata: {name: bad}
spec:
  cidrBlock: 10.0.0.0/16
  subnets: [{name: a, cidrBlock: 10.0.1.0/24}]
  routeTables: [{name: one, subnets: [a, a]}]
YAML
    reject "$ns" "reserved tag key" 'tag keys must be 1-128 characters and may not start with netposture.dev/ or aws:' <<'YAML'
apiVersion: netposture.dev/v1alpha1
kind: VPCPosture
metadata: {name: bad}
spec:
  cidrBlock: 10.0.0.0/16
  subnets: [{name: a, cidrBlock: 10.0.1.0/24, tags: {"netposture.dev/owner": me}}]
YAML
    reject "$ns" "bad subnetId" "spec.subnets[0].subnetId in body should match '^subnet-[0-9a-f]{8,17}\$'" <<'YAML'
apiVersion: netposture.dev/v1alpha1
kind: VPCPosture
metadata: {name: bad}
spec:
  cidrBlock: 10.0.0.0/16
  subnets: [{name: a, cidrBlock: 10.0.1.0/24, subnetId: sg-0123456789abcdef0}]
YAML
    nothing_stored "$ns"
}

test_vpcp_admission_rejects_bad_management_and_flow_logs() {
    local ns
    ns=$(new_namespace vpcpmgmt)
    reject "$ns" "Adopt without vpcId" 'management.vpcId is required when management.policy is Adopt' <<'YAML'
apiVersion: netposture.dev/v1alpha1
kind: VPCPosture
metadata: {name: bad}
spec:
  cidrBlock: 10.0.0.0/16
  management: {policy: Adopt}
YAML
    reject "$ns" "bad vpcId" "spec.management.vpcId in body should match '^vpc-[0-9a-f]{8,17}\$'" <<'YAML'
apiVersion: netposture.dev/v1alpha1
kind: VPCPosture
metadata: {name: bad}
spec:
  cidrBlock: 10.0.0.0/16
  management: {policy: Adopt, vpcId: vpc-XYZ}
YAML
    reject "$ns" "flowLogs enabled without destination" 'flowLogs.destination is required when flow logs are enabled' <<'YAML'
apiVersion: netposture.dev/v1alpha1
kind: VPCPosture
metadata: {name: bad}
spec:
  cidrBlock: 10.0.0.0/16
  flowLogs: {enabled: true, trafficType: REJECT}
YAML
    reject "$ns" "flowLogs without enabled" 'spec.flowLogs.enabled: Required value' <<'YAML'
apiVersion: netposture.dev/v1alpha1
kind: VPCPosture
metadata: {name: bad}
spec:
  cidrBlock: 10.0.0.0/16
  flowLogs: {destination: "arn:aws:s3:::bucket"}
YAML
    reject "$ns" "flowLogs to an SQS queue" 'is not the ARN of an S3 bucket (arn:aws:s3:::bucket), a CloudWatch Logs log group' <<'YAML'
apiVersion: netposture.dev/v1alpha1
kind: VPCPosture
metadata: {name: bad}
spec:
  cidrBlock: 10.0.0.0/16
  flowLogs: {enabled: true, destination: "arn:aws:sqs:us-east-1:123456789012:queue"}
YAML
    reject "$ns" "flowLogs destination not an ARN" "spec.flowLogs.destination in body should match '^arn:'" <<'YAML'
apiVersion: netposture.dev/v1alpha1
kind: VPCPosture
metadata: {name: bad}
spec:
  cidrBlock: 10.0.0.0/16
  flowLogs: {enabled: true, destination: "s3://bucket/prefix"}
YAML
    reject "$ns" "logs destination without role" 'flowLogs.deliverLogsPermissionArn (an IAM role that can write to the log group) is required for a CloudWatch Logs destination' <<'YAML'
apiVersion: netposture.dev/v1alpha1
kind: VPCPosture
metadata: {name: bad}
spec:
  cidrBlock: 10.0.0.0/16
  flowLogs: {enabled: true, destination: "arn:aws:logs:us-east-1:123456789012:log-group:flows"}
YAML
    reject "$ns" "s3 destination with role" 'flowLogs.deliverLogsPermissionArn is not used for an S3 destination' <<'YAML'
apiVersion: netposture.dev/v1alpha1
kind: VPCPosture
metadata: {name: bad}
spec:
  cidrBlock: 10.0.0.0/16
  flowLogs: {enabled: true, destination: "arn:aws:s3:::bucket", deliverLogsPermissionArn: "arn:aws:iam::123456789012:role/flows"}
YAML
    reject "$ns" "trafficType" 'spec.flowLogs.trafficType: Unsupported value: "SOME": supported values: "ACCEPT", "REJECT", "ALL"' <<'YAML'
apiVersion: netposture.dev/v1alpha1
kind: VPCPosture
metadata: {name: bad}
spec:
  cidrBlock: 10.0.0.0/16
  flowLogs: {enabled: true, trafficType: SOME, destination: "arn:aws:s3:::bucket"}
YAML
    reject "$ns" "remediation mode" 'spec.remediation.mode: Unsupported value: "Fix"' <<'YAML'
apiVersion: netposture.dev/v1alpha1
kind: VPCPosture
metadata: {name: bad}
spec:
  cidrBlock: 10.0.0.0/16
  remediation: {mode: Fix}
YAML
    nothing_stored "$ns"
    # Disabled flow logs need no destination; firehose destinations need no role.
    k apply -n "$ns" --dry-run=server -f - >/dev/null <<'YAML'
apiVersion: netposture.dev/v1alpha1
kind: VPCPosture
metadata: {name: ok}
spec:
  cidrBlock: 10.0.0.0/16
  flowLogs: {enabled: false}
YAML
    k apply -n "$ns" --dry-run=server -f - >/dev/null <<'YAML'
apiVersion: netposture.dev/v1alpha1
kind: VPCPosture
metadata: {name: ok}
spec:
  cidrBlock: 10.0.0.0/16
  flowLogs: {enabled: true, destination: "arn:aws:firehose:us-east-1:123456789012:deliverystream/flows"}
YAML
}

# Every id, name, bound and enum of the schema, one field at a time.
test_vpcp_admission_rejects_bad_values() {
    local ns
    ns=$(new_namespace vpcpval)
    bad() { # bad <what> <expected message> <spec lines>
        spec_yaml "$3" | reject "$ns" "$1" "$2"
    }
    bad "accountRef without name" 'spec.accountRef.name: Required value' '  accountRef: {}'
    bad "region" 'spec.region: Invalid value: "string": "EU_WEST_1" is not an AWS region name such as eu-west-1' '  region: EU_WEST_1'
    bad "management.policy" 'spec.management.policy: Unsupported value: "Take": supported values: "Create", "Adopt"' '  management: {policy: Take}'
    bad "management.deletionPolicy" 'spec.management.deletionPolicy: Unsupported value: "Keep": supported values: "Delete", "Retain"' '  management: {deletionPolicy: Keep}'
    bad "deliverLogsPermissionArn not a role" "spec.flowLogs.deliverLogsPermissionArn in body should match '^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+\$'" \
        '  flowLogs: {enabled: true, destination: "arn:aws:logs:us-east-1:123456789012:log-group:x", deliverLogsPermissionArn: "arn:aws:iam::123456789012:user/x"}'
    bad "ownership" 'spec.ownership: Unsupported value: "Shared": supported values: "Exclusive", "Additive"' '  ownership: Shared'
    bad "remediation.gracePeriod" "spec.remediation.gracePeriod in body should match '^([0-9]+(ms|s|m|h))+\$'" '  remediation: {gracePeriod: 5 minutes}'
    bad "remediation.maxChangesPerSync 0" 'spec.remediation.maxChangesPerSync in body should be greater than or equal to 1' '  remediation: {maxChangesPerSync: 0}'
    bad "remediation.maxChangesPerSync 1001" 'spec.remediation.maxChangesPerSync in body should be less than or equal to 1000' '  remediation: {maxChangesPerSync: 1001}'
    bad "exception without rule" 'spec.remediation.exceptions[0].rule: Required value' '  remediation: {exceptions: [{actors: ["*"]}]}'
    bad "exception rule without direction" 'spec.remediation.exceptions[0].rule.direction: Required value' '  remediation: {exceptions: [{rule: {protocol: tcp}}]}'
    bad "exception direction" 'spec.remediation.exceptions[0].rule.direction: Unsupported value: "both"' '  remediation: {exceptions: [{rule: {direction: both}}]}'
    bad "exception protocol" 'spec.remediation.exceptions[0].rule.protocol in body should match' '  remediation: {exceptions: [{rule: {direction: ingress, protocol: foo}}]}'
    bad "exception fromPort -2" 'spec.remediation.exceptions[0].rule.fromPort in body should be greater than or equal to -1' '  remediation: {exceptions: [{rule: {direction: ingress, fromPort: -2}}]}'
    bad "exception fromPort 65536" 'spec.remediation.exceptions[0].rule.fromPort in body should be less than or equal to 65535' '  remediation: {exceptions: [{rule: {direction: ingress, fromPort: 65536}}]}'
    bad "exception toPort -2" 'spec.remediation.exceptions[0].rule.toPort in body should be greater than or equal to -1' '  remediation: {exceptions: [{rule: {direction: ingress, toPort: -2}}]}'
    bad "exception toPort 65536" 'spec.remediation.exceptions[0].rule.toPort in body should be less than or equal to 65535' '  remediation: {exceptions: [{rule: {direction: ingress, toPort: 65536}}]}'
    bad "exception IPv4 CIDR" 'spec.remediation.exceptions[0].rule.cidrs[0]: Invalid value: "string": must be an IPv4 CIDR' '  remediation: {exceptions: [{rule: {direction: ingress, cidrs: ["::/0"]}}]}'
    bad "exception IPv6 CIDR" 'spec.remediation.exceptions[0].rule.ipv6Cidrs[0]: Invalid value: "string": must be an IPv6 CIDR' '  remediation: {exceptions: [{rule: {direction: ingress, ipv6Cidrs: ["0.0.0.0/0"]}}]}'
    bad "subnet CIDR" '"10.0.1/24" is not an IPv4 CIDR such as 10.0.1.0/24' '  subnets: [{name: a, cidrBlock: 10.0.1/24}]'
    bad "subnet without cidrBlock" 'spec.subnets[0].cidrBlock: Required value' '  subnets: [{name: a}]'
    bad "availabilityZone" "spec.subnets[0].availabilityZone in body should match '^[a-z]{2}-[a-z0-9-]+[a-z0-9]\$'" '  subnets: [{name: a, cidrBlock: 10.0.1.0/24, availabilityZone: EU-WEST-1A}]'
    bad "route table subnet name" "spec.routeTables[0].subnets[0] in body should match '^[a-z0-9]([-a-z0-9]*[a-z0-9])?\$'" '  routeTables: [{name: x, subnets: [A]}]'
    bad "network ACL subnet name" "spec.networkAcls[0].subnets[0] in body should match '^[a-z0-9]([-a-z0-9]*[a-z0-9])?\$'" '  networkAcls: [{name: x, subnets: [A]}]'
    bad "route table name" 'spec.routeTables[0].name in body should match' '  routeTables: [{name: -x}]'
    bad "network ACL name" 'spec.networkAcls[0].name in body should match' '  networkAcls: [{name: x-}]'
    bad "routeTableId" "spec.routeTables[0].routeTableId in body should match '^rtb-[0-9a-f]{8,17}\$'" '  routeTables: [{name: x, routeTableId: acl-0123456789abcdef0}]'
    bad "networkAclId" "spec.networkAcls[0].networkAclId in body should match '^acl-[0-9a-f]{8,17}\$'" '  networkAcls: [{name: x, networkAclId: rtb-0123456789abcdef0}]'
    # Route destinations and targets: each id of the wrong kind.
    rt() { printf '  routeTables: [{name: x, routes: [%s]}]' "$1"; }
    bad "IPv4 in destinationIpv6CidrBlock" '"10.0.0.0/8" is not an IPv6 CIDR such as ::/0 (IPv4 goes in destinationCidrBlock)' \
        "$(rt '{destinationIpv6CidrBlock: 10.0.0.0/8, gatewayId: igw-0123456789abcdef0}')"
    bad "destinationPrefixListId" "spec.routeTables[0].routes[0].destinationPrefixListId in body should match '^pl-[0-9a-f]{8,17}\$'" \
        "$(rt '{destinationPrefixListId: pl-XYZ, gatewayId: igw-0123456789abcdef0}')"
    local field id want
    while read -r field id want; do
        bad "$field $id" "spec.routeTables[0].routes[0].$field in body should match '$want'" \
            "$(rt "{destinationCidrBlock: 0.0.0.0/0, $field: $id}")"
    done <<'CASES'
transitGatewayId nat-0123456789abcdef0 ^tgw-[0-9a-f]{8,17}$
vpcPeeringConnectionId tgw-0123456789abcdef0 ^pcx-[0-9a-f]{8,17}$
egressOnlyInternetGatewayId igw-0123456789abcdef0 ^eigw-[0-9a-f]{8,17}$
carrierGatewayId lgw-0123456789abcdef0 ^cagw-[0-9a-f]{8,17}$
localGatewayId cagw-01234567 ^lgw-[0-9a-f]{8,17}$
coreNetworkArn arn:aws:ec2:us-east-1:123456789012:transit-gateway/tgw-0123456789abcdef0 ^arn:aws[a-z-]*:networkmanager:[^:]*:[0-9]{12}:core-network/.+$
instanceId eni-01234567 ^i-[0-9a-f]{8,17}$
networkInterfaceId i-0123456789abcdef0 ^eni-[0-9a-f]{8,17}$
CASES
    # Entry bounds.
    acl() { printf '  networkAcls: [{name: x, entries: [%s]}]' "$1"; }
    bad "entry IPv4 in ipv6CidrBlock" '"10.0.0.0/8" is not an IPv6 CIDR such as ::/0 (IPv4 goes in cidrBlock)' \
        "$(acl '{ruleNumber: 1, protocol: all, action: allow, ipv6CidrBlock: 10.0.0.0/8}')"
    bad "entry without protocol" 'spec.networkAcls[0].entries[0].protocol: Required value' \
        "$(acl '{ruleNumber: 1, action: allow, cidrBlock: 10.0.0.0/8}')"
    bad "entry without action" 'spec.networkAcls[0].entries[0].action: Required value' \
        "$(acl '{ruleNumber: 1, protocol: all, cidrBlock: 10.0.0.0/8}')"
    bad "fromPort -1" 'spec.networkAcls[0].entries[0].fromPort in body should be greater than or equal to 0' \
        "$(acl '{ruleNumber: 1, protocol: tcp, action: allow, cidrBlock: 10.0.0.0/8, fromPort: -1, toPort: 1}')"
    bad "fromPort 65536" 'spec.networkAcls[0].entries[0].fromPort in body should be less than or equal to 65535' \
        "$(acl '{ruleNumber: 1, protocol: tcp, action: allow, cidrBlock: 10.0.0.0/8, fromPort: 65536, toPort: 65536}')"
    bad "toPort -1" 'spec.networkAcls[0].entries[0].toPort in body should be greater than or equal to 0' \
        "$(acl '{ruleNumber: 1, protocol: tcp, action: allow, cidrBlock: 10.0.0.0/8, fromPort: -1, toPort: -1}')"
    bad "icmpType -2" 'spec.networkAcls[0].entries[0].icmpType in body should be greater than or equal to -1' \
        "$(acl '{ruleNumber: 1, protocol: icmp, action: allow, cidrBlock: 10.0.0.0/8, icmpType: -2}')"
    bad "icmpCode -2" 'spec.networkAcls[0].entries[0].icmpCode in body should be greater than or equal to -1' \
        "$(acl '{ruleNumber: 1, protocol: icmp, action: allow, cidrBlock: 10.0.0.0/8, icmpType: 3, icmpCode: -2}')"
    bad "icmpCode 256" 'spec.networkAcls[0].entries[0].icmpCode in body should be less than or equal to 255' \
        "$(acl '{ruleNumber: 1, protocol: icmp, action: allow, cidrBlock: 10.0.0.0/8, icmpType: 3, icmpCode: 256}')"
    bad "too many entries" 'spec.networkAcls[0].entries: Too many: 41: must have at most 40 items' \
        "$(acl "$(for i in $(seq 1 41); do printf '{ruleNumber: %d, protocol: all, action: allow, cidrBlock: 10.0.0.0/8},' "$i"; done)")"
    nothing_stored "$ns"
}

test_vpcp_admission_immutable_fields() {
    local ns out
    ns=$(new_namespace vpcpimm)
    k apply -n "$ns" -f - >/dev/null <<'YAML'
apiVersion: netposture.dev/v1alpha1
kind: VPCPosture
metadata: {name: main}
spec:
  cidrBlock: 10.0.0.0/16
  subnets: [{name: a, cidrBlock: 10.0.1.0/24, availabilityZone: us-east-1a}]
YAML
    # Printer columns and the netposture category (no controller runs: the status columns are
    # empty, so the row reads "main Enforce <age>").
    out=$(k get vpcp main -n "$ns")
    assert_eq "$(awk 'NR == 1 {print $1, $2, $3, $4, $5, $6, $7}' <<<"$out")" "NAME READY REASON MODE DRIFT VPC AGE" "printer columns"
    assert_eq "$(awk 'NR == 2 {print $1, $2}' <<<"$out")" "main Enforce" "name and mode (no VPC id yet)"
    out=$(k get vpcp main -n "$ns" -o wide)
    assert_eq "$(awk 'NR == 1 {print $8, $9, $10, $11, $12}' <<<"$out")" "CIDR REGION ACCOUNT SYNCED UPDATED" "-o wide columns"
    assert_contains "$(awk 'NR == 2' <<<"$out")" "10.0.0.0/16" "-o wide row"
    assert_contains "$(k get netposture -n "$ns" -o name)" "vpcposture.netposture.dev/main" "category netposture"
    reject "$ns" "changed cidrBlock" "cidrBlock is immutable (AWS cannot change a VPC's primary CIDR block)" <<'YAML'
apiVersion: netposture.dev/v1alpha1
kind: VPCPosture
metadata: {name: main}
spec:
  cidrBlock: 10.1.0.0/16
  subnets: [{name: a, cidrBlock: 10.1.1.0/24, availabilityZone: us-east-1a}]
YAML
    reject "$ns" "changed subnet cidrBlock" "a subnet's cidrBlock is immutable" <<'YAML'
apiVersion: netposture.dev/v1alpha1
kind: VPCPosture
metadata: {name: main}
spec:
  cidrBlock: 10.0.0.0/16
  subnets: [{name: a, cidrBlock: 10.0.2.0/24, availabilityZone: us-east-1a}]
YAML
    reject "$ns" "changed availabilityZone" "a subnet's availabilityZone is immutable" <<'YAML'
apiVersion: netposture.dev/v1alpha1
kind: VPCPosture
metadata: {name: main}
spec:
  cidrBlock: 10.0.0.0/16
  subnets: [{name: a, cidrBlock: 10.0.1.0/24, availabilityZone: us-east-1b}]
YAML
    out=$(expect_failure k patch vpcp main -n "$ns" --type merge -p '{"spec":{"cidrBlock":"10.0.0.0/17"}}')
    assert_contains "$out" "cidrBlock is immutable" "a patch of cidrBlock"
    assert_eq "$(k get vpcp main -n "$ns" -o jsonpath='{.spec.cidrBlock} {.spec.subnets[0].cidrBlock}')" \
        "10.0.0.0/16 10.0.1.0/24" "stored blocks"
    # Everything else may change: a new subnet (its block is new, not changed), tags, a
    # route table, and a subnet renamed (a new item) with the old block.
    k apply -n "$ns" -f - >/dev/null <<'YAML'
apiVersion: netposture.dev/v1alpha1
kind: VPCPosture
metadata: {name: main}
spec:
  cidrBlock: 10.0.0.0/16
  tags: {env: dev}
  subnets:
  - {name: a2, cidrBlock: 10.0.1.0/24, availabilityZone: us-east-1b}
  - {name: b, cidrBlock: 10.0.2.0/24}
  routeTables: [{name: private, subnets: [a2, b]}]
YAML
    assert_eq "$(k get vpcp main -n "$ns" -o jsonpath='{.metadata.generation}')" "2" "generation after the update"
}

test_vpcp_admission_guardrails() {
    local out
    # A require rule and a deny rule on network ACLs are accepted; resources defaults to
    # securityGroups.
    out=$(k apply --dry-run=server -o json -f - <<'YAML'
apiVersion: netposture.dev/v1alpha1
kind: PostureGuardrail
metadata: {name: e2e-vpcp-admission}
spec:
  rules:
  - id: flow-logs
    references: ["CIS AWS Foundations v3.0.0 3.7"]
    require: {flowLogs: true}
  - id: default-sg
    require: {defaultSecurityGroupRestricted: true, flowLogs: false}
  - id: no-ssh-in-acls
    deny: {resources: [networkAcls], direction: ingress, cidrs: ["0.0.0.0/0"], ports: [22], protocols: [tcp, all]}
  - id: no-ssh-anywhere
    deny: {resources: [securityGroups, networkAcls], ports: [22]}
  - id: no-ssh-in-groups
    deny: {ports: [22]}
YAML
)
    assert_eq "$(jpy '[r.get("deny", {}).get("resources") for r in d["spec"]["rules"]]' <<<"$out")" \
        '[null,null,["networkAcls"],["securityGroups","networkAcls"],["securityGroups"]]' "deny.resources"
    assert_eq "$(jpy 'd["spec"]["rules"][0]["require"]' <<<"$out")" '{"flowLogs":true}' "require"
    local one='a rule sets exactly one of deny and require'
    reject_guardrail "deny and require" "spec.rules[0]: Invalid value: \"object\": $one" <<'YAML'
apiVersion: netposture.dev/v1alpha1
kind: PostureGuardrail
metadata: {name: e2e-vpcp-admission}
spec:
  rules:
  - id: both
    deny: {ports: [22]}
    require: {flowLogs: true}
YAML
    reject_guardrail "neither deny nor require" "spec.rules[0]: Invalid value: \"object\": $one" <<'YAML'
apiVersion: netposture.dev/v1alpha1
kind: PostureGuardrail
metadata: {name: e2e-vpcp-admission}
spec:
  rules:
  - id: neither
    references: ["nothing"]
YAML
    reject_guardrail "require nothing" 'require needs flowLogs or defaultSecurityGroupRestricted set to true' <<'YAML'
apiVersion: netposture.dev/v1alpha1
kind: PostureGuardrail
metadata: {name: e2e-vpcp-admission}
spec:
  rules:
  - id: lazy
    require: {flowLogs: false}
YAML
    reject_guardrail "unknown resource" 'spec.rules[0].deny.resources[0]: Unsupported value: "routeTables": supported values: "securityGroups", "networkAcls"' <<'YAML'
apiVersion: netposture.dev/v1alpha1
kind: PostureGuardrail
metadata: {name: e2e-vpcp-admission}
spec:
  rules:
  - id: odd
    deny: {resources: [routeTables], ports: [22]}
YAML
    reject_guardrail "empty resources" 'spec.rules[0].deny.resources: Invalid value: 0: spec.rules[0].deny.resources in body should have at least 1 items' <<'YAML'
apiVersion: netposture.dev/v1alpha1
kind: PostureGuardrail
metadata: {name: e2e-vpcp-admission}
spec:
  rules:
  - id: none
    deny: {resources: [], ports: [22]}
YAML
    reject_guardrail "resource listed twice" 'spec.rules[0].deny.resources[1]: Duplicate value: "networkAcls"' <<'YAML'
apiVersion: netposture.dev/v1alpha1
kind: PostureGuardrail
metadata: {name: e2e-vpcp-admission}
spec:
  rules:
  - id: twice
    deny: {resources: [networkAcls, networkAcls], ports: [22]}
YAML
    reject_guardrail "resources only" 'deny needs at least one criterion: direction, protocols, ports or cidrs' <<'YAML'
apiVersion: netposture.dev/v1alpha1
kind: PostureGuardrail
metadata: {name: e2e-vpcp-admission}
spec:
  rules:
  - id: everything
    deny: {resources: [networkAcls]}
YAML
    # The shipped CIS rule set applies, with its network ACL and require rules.
    out=$(k apply --dry-run=server -o json -f "$E2E_REPO/manifests/guardrails/cis-aws-network.yaml")
    assert_eq "$(jpy '",".join(r["id"] for r in d["spec"]["rules"])' <<<"$out")" \
        "no-admin-ports-from-ipv4-internet,no-admin-ports-from-ipv6-internet,no-admin-ports-in-network-acls-from-internet,default-security-group-restricts-all,vpc-flow-logs-enabled" \
        "CIS rule ids"
    assert_eq "$(jpy '[r["deny"]["resources"] if "deny" in r else r["require"] for r in d["spec"]["rules"]]' <<<"$out")" \
        '[["securityGroups"],["securityGroups"],["networkAcls"],{"defaultSecurityGroupRestricted":true},{"flowLogs":true}]' \
        "CIS rule kinds"
    assert_eq "$(k get postureguardrails -o name | grep -c 'e2e-vpcp-admission\|cis-aws-network' || true)" "0" "nothing stored"
}
