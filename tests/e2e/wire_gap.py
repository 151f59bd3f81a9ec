#!/usr/bin/env python3
"""Make-before-break measured on the wire: the reachability gap of a posture change.

fault_proxy.py --record logs every mutating EC2 call the controller sends (its parameters,
when it left for the AWS endpoint and when the answer came back). This file replays such a log
against the state of the groups, network ACLs and route tables before a change, and computes,
per resource:

- the states S0 (before), S1 .. Sn (after each successful call that touches the resource, in
  order) and whether Sn equals the state read from AWS afterwards (so no call was missed);
- every flow: security groups (direction, protocol, port, peer), network ACLs (direction,
  protocol, port, CIDR; the first entry by rule number that matches decides), route tables
  (destination: routed at all; with the target for the ordering check). Ports and addresses
  are cut into atoms at every boundary of every rule, entry or route seen, so a flow is a set
  of packets every rule treats alike;
- for each flow allowed in S0 and in Sn (by the old and by the new spec), the longest
  interval during which it was possibly not allowed: between calls the state is known; while
  call k is in flight AWS holds S(k-1) or Sk, so the flow is only sure to be allowed if both
  allow it. A make-before-break plan keeps every such flow allowed in every Sk: gap 0 s;
- for flows allowed only in S0 or only in Sn, whether the order was new-first: every new-only
  flow allowed no later than the first call after which an old-only flow is gone for good (the
  same call counts as in order: an atomic replace). When it is not, the violation is the time
  from the start of that call to the end of the call that allowed the last new-only flow.

The gap of a change is the larger of the two (0 s when make-before-break held).

Subcommands:
  check     --log FILE --mark NAME --start FILE --end FILE  (states as `state` writes them)
  state     --kind sg|acl|rtb --ids a,b,...  reads AWS (the controller's view) into a state
  run       drives the named cases against a running controller (see run_cases)
  selftest  synthetic logs in both orders: the checker must see the gaps it is meant to see

Python 3 standard library, plus botocore when it can be imported (else the aws CLI).
"""
import argparse
import ipaddress
import json
import os
import re
import subprocess
import sys
import time
import urllib.request
import uuid

PROTOCOLS = {"tcp": "6", "udp": "17", "icmp": "1", "icmpv6": "58", "all": "-1"}
PORTED = ("6", "17")
ICMP = ("1", "58")
TARGET_KEYS = ("GatewayId", "NatGatewayId", "TransitGatewayId", "VpcPeeringConnectionId",
               "EgressOnlyInternetGatewayId", "CarrierGatewayId", "LocalGatewayId",
               "CoreNetworkArn", "InstanceId", "NetworkInterfaceId")


def log(msg):
    print("wire_gap: " + msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- the model

def proto(p):
    p = str(p).lower()
    return PROTOCOLS.get(p, p)


def peer_of(kind, value):
    """("v4"|"v6", lo, hi) for a CIDR (hi exclusive), ("id", value) for a group or prefix list."""
    if kind == "cidr":
        net = ipaddress.ip_network(value, strict=False)
        fam = "v4" if net.version == 4 else "v6"
        lo = int(net.network_address)
        return (fam, lo, lo + net.num_addresses)
    return ("id", value.lower())


def ports_of(p, from_port, to_port):
    """Canonical (from, to): tcp/udp ranges, ICMP type/code (-1: any), else (-1, -1)."""
    if p == "-1":
        return (-1, -1)
    if p in PORTED or p in ICMP:
        f = -1 if from_port is None else int(from_port)
        t = -1 if to_port is None else int(to_port)
        if p in PORTED and f == -1:
            return (0, 65535)
        return (f, t)
    return (-1, -1)


def sg_rule(direction, protocol, from_port, to_port, kind, value):
    p = proto(protocol)
    return (direction, p) + ports_of(p, from_port, to_port) + (peer_of(kind, value),)


def acl_entry(egress, number, protocol, action, cidr, from_port, to_port):
    p = proto(protocol)
    return (bool(egress), int(number), p, action == "allow") + ports_of(p, from_port, to_port) + (
        peer_of("cidr", cidr),)


def route_of(dest_kind, dest, target):
    return (peer_of("cidr" if dest_kind == "cidr" else "id", dest), target)


def peer_covers(rule_peer, atom):
    if rule_peer[0] != atom[0]:
        return False
    if rule_peer[0] == "id":
        return rule_peer[1] == atom[1]
    return rule_peer[1] <= atom[1] and atom[2] <= rule_peer[2]


def ports_cover(p, rf, rt, flow_p, lo, hi):
    """Whether a rule of protocol p with ports (rf, rt) covers the flow (flow_p, lo..hi)."""
    if p == "-1":
        return True
    if p != flow_p:
        return False
    if p in PORTED:
        return rf <= lo and hi <= rt
    if p in ICMP:
        return rf in (-1, lo) and rt in (-1, hi)
    return True


def cut(points, lo, hi):
    """Consecutive [a, b) pieces of lo..hi cut at points."""
    pts = sorted({lo, hi} | {x for x in points if lo < x < hi})
    return list(zip(pts, pts[1:]))


def peer_atoms(peers):
    out = []
    for fam in ("v4", "v6"):
        ranges = [p for p in peers if p[0] == fam]
        if ranges:
            space = 1 << (32 if fam == "v4" else 128)
            points = [x for p in ranges for x in (p[1], p[2])]
            out += [(fam, a, b) for a, b in cut(points, 0, space)]
    out += sorted({p for p in peers if p[0] == "id"})
    return out


def port_atoms(items):
    """(protocol, lo, hi) atoms of (protocol, from, to) items; hi inclusive for ports."""
    out = []
    for p in sorted({i[0] for i in items}):
        if p in PORTED:
            pts = [x for i in items if i[0] == p for x in (i[1], i[2] + 1)]
            out += [(p, a, b - 1) for a, b in cut(pts, 0, 65536)]
        elif p in ICMP:
            out += sorted({(p, i[1], i[2]) for i in items if i[0] == p})
        else:
            out.append((p, -1, -1))
    return out


def sg_allows(rules, flow):
    d, p, lo, hi, peer = flow
    return any(r[0] == d and ports_cover(r[1], r[2], r[3], p, lo, hi) and peer_covers(r[4], peer)
               for r in rules)


def acl_allows(entries, flow):
    egress, p, lo, hi, peer = flow
    for e in sorted(entries, key=lambda e: e[1]):
        if e[0] == egress and ports_cover(e[2], e[4], e[5], p, lo, hi) and peer_covers(e[6], peer):
            return e[3]
    return False


def route_target(routes, flow):
    """The target of the longest prefix routing the flow's destination atom (None: unrouted)."""
    best = None
    for dest, target in routes:
        if peer_covers(dest, flow):
            size = 0 if dest[0] == "id" else dest[2] - dest[1]
            if best is None or size < best[0]:
                best = (size, target)
    return None if best is None else best[1]


def sg_flows(states):
    rules = [r for s in states for r in s]
    out = []
    for d in ("in", "out"):
        mine = [r for r in rules if r[0] == d]
        ports = port_atoms([(r[1], r[2], r[3]) for r in mine if r[1] != "-1"] +
                           ([("-1", -1, -1)] if any(r[1] == "-1" for r in mine) else []))
        peers = peer_atoms([r[4] for r in mine])
        out += [(d, p, lo, hi, peer) for p, lo, hi in ports for peer in peers]
    return out


def acl_flows(states):
    entries = [e for s in states for e in s]
    out = []
    for eg in (False, True):
        mine = [e for e in entries if e[0] == eg]
        ports = port_atoms([(e[2], e[4], e[5]) for e in mine if e[2] != "-1"] +
                           ([("-1", -1, -1)] if any(e[2] == "-1" for e in mine) else []))
        peers = peer_atoms([e[6] for e in mine])
        out += [(eg, p, lo, hi, peer) for p, lo, hi in ports for peer in peers]
    return out


KINDS = {
    # kind: (flows of the states, allowed(state, flow), the flow's "version" for ordering)
    "sg": (sg_flows, sg_allows),
    "acl": (acl_flows, acl_allows),
    "rtb": (lambda states: peer_atoms([r[0] for s in states for r in s]),
            lambda routes, flow: route_target(routes, flow) is not None),
}


# ---------------------------------------------------------------- replaying calls

def indexed(params, prefix):
    """{n: {rest: value}} of params named <prefix>.<n>.<rest>."""
    out = {}
    rx = re.compile(re.escape(prefix) + r"\.(\d+)\.(.+)$")
    for k, v in params.items():
        m = rx.match(k)
        if m:
            out.setdefault(int(m.group(1)), {})[m.group(2)] = v
    return [out[n] for n in sorted(out)]


def perm_rules(direction, params):
    """The atomic rules of the IpPermissions of an authorize or revoke call."""
    rules = []
    for perm in indexed(params, "IpPermissions"):
        p, f, t = perm.get("IpProtocol"), perm.get("FromPort"), perm.get("ToPort")
        peers = [("cidr", v) for k, v in perm.items() if re.match(r"IpRanges\.\d+\.CidrIp$", k)]
        peers += [("cidr", v) for k, v in perm.items()
                  if re.match(r"Ipv6Ranges\.\d+\.CidrIpv6$", k)]
        peers += [("id", v) for k, v in perm.items()
                  if re.match(r"(PrefixListIds\.\d+\.PrefixListId|Groups\.\d+\.GroupId)$", k)]
        rules += [sg_rule(direction, p, f, t, kind, value) for kind, value in peers]
    return rules


def entry_from_params(q):
    cidr = q.get("CidrBlock") or q.get("Ipv6CidrBlock")
    p = proto(q.get("Protocol"))
    f, t = (q.get("PortRange.From"), q.get("PortRange.To")) if p in PORTED else (
        q.get("Icmp.Type"), q.get("Icmp.Code"))
    return acl_entry(q.get("Egress") == "true", q["RuleNumber"], p, q.get("RuleAction"), cidr,
                     f, t)


def route_from_params(q):
    kind, dest = ("cidr", q.get("DestinationCidrBlock") or q.get("DestinationIpv6CidrBlock"))
    if not dest:
        kind, dest = "id", q.get("DestinationPrefixListId")
    target = "local" if q.get("LocalTarget") == "true" else next(
        ("%s=%s" % (k, q[k]) for k in TARGET_KEYS if q.get(k)), None)
    return route_of(kind, dest, target)


def apply_sg(state, action, q):
    d = "out" if action.endswith("Egress") else "in"
    rules = set(perm_rules(d, q))
    if action.startswith("Authorize"):
        return state | rules
    if action.startswith("Revoke"):
        return state - rules
    return state  # descriptions, tags: no reachability


def apply_acl(state, action, q):
    if action not in ("CreateNetworkAclEntry", "ReplaceNetworkAclEntry", "DeleteNetworkAclEntry"):
        return state
    egress, number = q.get("Egress") == "true", int(q["RuleNumber"])
    rest = frozenset(e for e in state if (e[0], e[1]) != (egress, number))
    return rest if action == "DeleteNetworkAclEntry" else rest | {entry_from_params(q)}


def apply_rtb(state, action, q):
    if action not in ("CreateRoute", "ReplaceRoute", "DeleteRoute"):
        return state
    new = route_from_params(q)
    rest = frozenset(r for r in state if r[0] != new[0])
    return rest if action == "DeleteRoute" else rest | {new}


RESOURCE = {"sg": ("GroupId", apply_sg), "acl": ("NetworkAclId", apply_acl),
            "rtb": ("RouteTableId", apply_rtb)}


def read_log(path, mark):
    """The calls recorded after the mark (all of them when mark is empty)."""
    calls, on = [], not mark
    with open(path) as f:
        for line in f:
            e = json.loads(line)
            if "mark" in e:
                on = on or e["mark"] == mark
            elif on:
                calls.append(e)
    if not on:
        raise SystemExit("wire_gap: mark %r is not in %s" % (mark, path))
    return calls


# ---------------------------------------------------------------- the measure

def gap_of(allowed, calls):
    """The longest time the flow was possibly not allowed (allowed: per state S0..Sn). The
    timeline is call 1, the pause after it, call 2, ...: a pause holds the state before it, a
    call either of its two states."""
    segments = []
    for k, c in enumerate(calls, start=1):
        segments.append((c["t0"], c["t1"], not (allowed[k - 1] and allowed[k])))
        if k < len(calls):
            segments.append((c["t1"], calls[k]["t0"], not allowed[k]))
    longest, start = 0.0, None
    for a, b, bad in segments:
        if not bad:
            start = None
            continue
        start = a if start is None else start
        longest = max(longest, b - start)
    return longest


def new_first(flows_new, flows_old, states, allows, calls):
    """(in order, violation seconds): new-only flows allowed before old-only ones go."""
    n = len(states) - 1
    granted = [min(k for k in range(n + 1) if allows(states[k], f)) for f in flows_new]
    gone = [min(k for k in range(1, n + 1) if not any(allows(states[j], f)
                                                      for j in range(k, n + 1)))
            for f in flows_old]
    if not granted or not gone or max(granted) <= min(gone):
        return True, 0.0
    return False, calls[max(granted) - 1]["t1"] - calls[min(gone) - 1]["t0"]


def route_versions(states):
    """Route flows with their target: (atom, target) pairs routed that way in some state."""
    atoms = KINDS["rtb"][0](states)
    return [(a, t) for a in atoms for t in {route_target(s, a) for s in states} if t]


def measure(kind, states, calls):
    flows_of, allows = KINDS[kind]
    flows = flows_of(states)
    first, last = states[0], states[-1]
    both = [f for f in flows if allows(first, f) and allows(last, f)]
    gaps = [(gap_of([allows(s, f) for s in states], calls), f) for f in both]
    worst = max(gaps, default=(0.0, None), key=lambda g: g[0])
    if kind == "rtb":
        versions = route_versions(states)
        vallow = lambda s, v: route_target(s, v[0]) == v[1]  # noqa: E731
        old = [v for v in versions if vallow(first, v) and not vallow(last, v)]
        new = [v for v in versions if vallow(last, v) and not vallow(first, v)]
        order = new_first(new, old, states, vallow, calls)
    else:
        old = [f for f in flows if allows(first, f) and not allows(last, f)]
        new = [f for f in flows if allows(last, f) and not allows(first, f)]
        order = new_first(new, old, states, allows, calls)
    return {"flows_both": len(both), "flows_old_only": len(old), "flows_new_only": len(new),
            "max_gap_s": round(worst[0], 6), "worst_flow": flow_text(worst[1]),
            "new_first": order[0], "new_first_violation_s": round(order[1], 6)}


def flow_text(f):
    if f is None:
        return None
    def peer(p):
        if p[0] == "id":
            return p[1]
        if p[0] == "v4":
            return "%s-%s" % (ipaddress.IPv4Address(p[1]), ipaddress.IPv4Address(p[2] - 1))
        return "%s-%s" % (ipaddress.IPv6Address(p[1]), ipaddress.IPv6Address(p[2] - 1))
    if len(f) == 3:
        return peer(f)
    return "%s %s %s-%s %s" % (f[0], f[1], f[2], f[3], peer(f[4]))


def check(log_path, mark, start, end):
    """The result of one change: per resource and overall (see the module doc)."""
    calls = [c for c in read_log(log_path, mark) if c.get("status") == 200]
    out = {"resources": 0, "calls": [], "gap_s": 0.0, "max_gap_s": 0.0, "new_first": True,
           "new_first_violation_s": 0.0, "flows_both": 0, "flows_old_only": 0,
           "flows_new_only": 0, "replay_matches_end": True, "mismatches": [], "worst": None}
    for kind, resources in start.items():
        key, apply = RESOURCE[kind]
        for rid, items in resources.items():
            mine = [c for c in calls if c["params"].get(key) == rid]
            states = [frozenset(decode(kind, items))]
            for c in mine:
                states.append(frozenset(apply(states[-1], c["action"], c["params"])))
            fold(out, kind, rid, states, mine, frozenset(decode(kind, end[kind][rid])))
    out["gap_s"] = max(out["max_gap_s"], out["new_first_violation_s"])
    return out


def fold(out, kind, rid, states, calls, real_end):
    m = measure(kind, states, calls)
    out["resources"] += 1
    out["calls"] += ["%s %s" % (c["action"], rid) for c in calls]
    for k in ("flows_both", "flows_old_only", "flows_new_only"):
        out[k] += m[k]
    if m["max_gap_s"] > out["max_gap_s"] or out["worst"] is None and m["worst_flow"]:
        out["max_gap_s"], out["worst"] = m["max_gap_s"], "%s %s" % (rid, m["worst_flow"])
    if not m["new_first"]:
        out["new_first"] = False
        out["new_first_violation_s"] = max(out["new_first_violation_s"],
                                           m["new_first_violation_s"])
    if states[-1] != real_end:
        out["replay_matches_end"] = False
        out["mismatches"].append({"resource": rid,
                                  "replayed_only": sorted(map(str, states[-1] - real_end)),
                                  "aws_only": sorted(map(str, real_end - states[-1]))})


# ---------------------------------------------------------------- states: AWS <-> JSON

def encode(kind, items):
    """JSON-able lists of a state's items (peers as their text)."""
    return sorted([list(i) for i in items], key=str)


def decode(kind, items):
    def t(x):
        return tuple(t(y) for y in x) if isinstance(x, list) else x
    return {t(i) for i in items}


def sg_state(group):
    rules = set()
    for d, field in (("in", "IpPermissions"), ("out", "IpPermissionsEgress")):
        for p in group.get(field, []):
            args = (d, p["IpProtocol"], p.get("FromPort"), p.get("ToPort"))
            rules |= {sg_rule(*args, "cidr", r["CidrIp"]) for r in p.get("IpRanges", [])}
            rules |= {sg_rule(*args, "cidr", r["CidrIpv6"]) for r in p.get("Ipv6Ranges", [])}
            rules |= {sg_rule(*args, "id", r["PrefixListId"]) for r in p.get("PrefixListIds", [])}
            rules |= {sg_rule(*args, "id", r["GroupId"]) for r in p.get("UserIdGroupPairs", [])}
    return rules


def acl_state(acl):
    out = set()
    for e in acl.get("Entries", []):
        p = proto(e["Protocol"])
        rng = e.get("PortRange") or {}
        icmp = e.get("IcmpTypeCode") or {}
        f, t = (rng.get("From"), rng.get("To")) if p in PORTED else (icmp.get("Type"),
                                                                     icmp.get("Code"))
        out.add(acl_entry(e["Egress"], e["RuleNumber"], p, e["RuleAction"],
                          e.get("CidrBlock") or e.get("Ipv6CidrBlock"), f, t))
    return out


def rtb_state(table):
    out = set()
    for r in table.get("Routes", []):
        if r.get("State") == "blackhole":
            continue
        kind, dest = "cidr", r.get("DestinationCidrBlock") or r.get("DestinationIpv6CidrBlock")
        if not dest:
            kind, dest = "id", r.get("DestinationPrefixListId")
        target = "local" if r.get("GatewayId") == "local" else next(
            ("%s=%s" % (k, r[k]) for k in TARGET_KEYS if r.get(k)), None)
        out.add(route_of(kind, dest, target))
    return out


class Aws:
    """The few EC2 calls the driver makes, straight to the endpoint (not through the proxy)."""

    def __init__(self):
        self.endpoint = os.environ["AWS_ENDPOINT_URL"]
        self.region = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
        try:
            import botocore.session
            self.ec2 = botocore.session.get_session().create_client(
                "ec2", region_name=self.region, endpoint_url=self.endpoint,
                aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"])
        except ImportError:
            self.ec2 = None

    def call(self, op, cli, **kw):
        if self.ec2:
            return getattr(self.ec2, op)(**kw)
        p = subprocess.run(["aws", "--output", "json", "--endpoint-url", self.endpoint, "ec2",
                            *cli], capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError("aws ec2 %s: %s" % (cli[0], p.stderr.strip()))
        return json.loads(p.stdout) if p.stdout.strip() else {}

    def state(self, kind, ids):
        """{id: encoded items} of the groups, network ACLs or route tables."""
        if not ids:
            return {}
        if kind == "sg":
            got = self.call("describe_security_groups", ["describe-security-groups",
                            "--group-ids", *ids], GroupIds=ids)["SecurityGroups"]
            return {g["GroupId"]: encode(kind, sg_state(g)) for g in got}
        if kind == "acl":
            got = self.call("describe_network_acls", ["describe-network-acls",
                            "--network-acl-ids", *ids], NetworkAclIds=ids)["NetworkAcls"]
            return {a["NetworkAclId"]: encode(kind, acl_state(a)) for a in got}
        got = self.call("describe_route_tables", ["describe-route-tables", "--route-table-ids",
                        *ids], RouteTableIds=ids)["RouteTables"]
        return {t["RouteTableId"]: encode(kind, rtb_state(t)) for t in got}

    def group(self, name):
        return self.call("create_security_group", ["create-security-group", "--group-name", name,
                         "--description", name], GroupName=name, Description=name)["GroupId"]

    def igw(self):
        return self.call("create_internet_gateway", ["create-internet-gateway"])[
            "InternetGateway"]["InternetGatewayId"]


# ---------------------------------------------------------------- the cases

# Each case: the kind of posture, the old and the new spec body (YAML lines under spec:; @PEER@
# is a group made for the run; a VPC posture's route goes to the run's first internet gateway,
# in route-target's new spec to the second), the calls that must and must not appear.
SG_HEAD = "  groupName: {ns}-{name}\n  egress: []\n  ingress:\n"
VPC_HEAD = ("  cidrBlock: 10.0.0.0/16\n  routeTables:\n  - name: rt\n    routes:\n"
            "    - {{destinationCidrBlock: 172.16.0.0/12, gatewayId: {igw}}}\n"
            "  networkAcls:\n  - name: acl\n    entries:\n")
EGRESS_ALL = "    - {ruleNumber: 110, egress: true, protocol: all, action: allow, cidrBlock: 0.0.0.0/0}\n"


def rule(ports, peer, desc=None):
    f, t = ports
    d = ", description: %s" % json.dumps(desc) if desc else ""
    return "  - {protocol: tcp, fromPort: %d, toPort: %d, %s%s}\n" % (f, t, peer, d)


def entry(n, ports, cidr="10.0.0.0/8", action="allow"):
    return ("    - {ruleNumber: %d, protocol: tcp, action: %s, cidrBlock: %s, fromPort: %d, "
            "toPort: %d}\n" % (n, action, cidr, ports[0], ports[1]))


TEN8 = 'cidrs: ["10.0.0.0/8"]'
CASES = {
    "sg-cidr": ("sg", [rule((443, 443), TEN8)], [rule((443, 443), 'cidrs: ["10.64.0.0/10"]')],
                ["AuthorizeSecurityGroupIngress", "RevokeSecurityGroupIngress"], []),
    "sg-ports": ("sg", [rule((8000, 8100), TEN8)], [rule((8050, 8200), TEN8)],
                 ["AuthorizeSecurityGroupIngress", "RevokeSecurityGroupIngress"], []),
    "sg-split": ("sg", [rule((1000, 2000), TEN8)],
                 [rule((1000, 1499), TEN8), rule((1500, 2000), TEN8)],
                 ["AuthorizeSecurityGroupIngress", "RevokeSecurityGroupIngress"], []),
    "sg-merge": ("sg", [rule((3000, 3499), TEN8), rule((3500, 4000), TEN8)],
                 [rule((3000, 4000), TEN8)],
                 ["AuthorizeSecurityGroupIngress", "RevokeSecurityGroupIngress"], []),
    "sg-cidr-to-group": ("sg", [rule((5432, 5432), TEN8)],
                         [rule((5432, 5432), "securityGroups: [{groupId: @PEER@}]")],
                         ["AuthorizeSecurityGroupIngress", "RevokeSecurityGroupIngress"], []),
    "sg-description": ("sg", [rule((443, 443), TEN8, "https")],
                       [rule((443, 443), TEN8, "https from the VPC")],
                       ["UpdateSecurityGroupRuleDescriptionsIngress"],
                       ["AuthorizeSecurityGroupIngress", "RevokeSecurityGroupIngress"]),
    "acl-same-number": ("vpc", [entry(100, (443, 443)), EGRESS_ALL],
                        [entry(100, (440, 450)), EGRESS_ALL], ["ReplaceNetworkAclEntry"],
                        ["CreateNetworkAclEntry", "DeleteNetworkAclEntry"]),
    "acl-renumber": ("vpc", [entry(100, (443, 443)), EGRESS_ALL],
                     [entry(200, (443, 443)), EGRESS_ALL],
                     ["CreateNetworkAclEntry", "DeleteNetworkAclEntry"], []),
    # A deny removed (new flows) while an allow narrows (old flows go): the removal first.
    "acl-deny-removed": ("vpc", [entry(90, (22, 22), "0.0.0.0/0", "deny"),
                                 entry(100, (0, 65535)), EGRESS_ALL],
                         [entry(100, (0, 1023)), EGRESS_ALL],
                         ["DeleteNetworkAclEntry", "ReplaceNetworkAclEntry"], []),
    # A deny added (old flows go) with a new allow (new flows): the allow first.
    "acl-deny-added": ("vpc", [entry(100, (0, 65535)), EGRESS_ALL],
                       [entry(90, (22, 22), "0.0.0.0/0", "deny"), entry(100, (0, 65535)),
                        entry(120, (53, 53), "172.16.0.0/12"), EGRESS_ALL],
                       ["CreateNetworkAclEntry"], []),
    "route-target": ("vpc", [entry(100, (443, 443)), EGRESS_ALL],
                     [entry(100, (443, 443)), EGRESS_ALL], ["ReplaceRoute"],
                     ["CreateRoute", "DeleteRoute"]),
}

# Changes the plan cannot make without a gap today, run only by name (not in "all"): two
# entries exchanging their contents in place. Each replace is atomic, but between the two
# the flow of the first entry's old content is allowed by neither (about one call's time);
# closing it needs a temporary copy of the entry at a free rule number.
KNOWN_GAPS = {
    "acl-swap": ("vpc", [entry(100, (443, 443)), entry(110, (22, 22)), EGRESS_ALL],
                 [entry(100, (22, 22)), entry(110, (443, 443)), EGRESS_ALL],
                 ["ReplaceNetworkAclEntry"], []),
}


def kubectl(*args, stdin=None):
    p = subprocess.run(["kubectl", *args], input=stdin, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError("kubectl %s: %s" % (" ".join(args[:3]), p.stderr.strip()))
    return p.stdout


def manifest(case, name, old, env):
    kind, before, after = CASES[case][:3]
    body = before if old else after
    if kind == "sg":
        spec = SG_HEAD.format(ns=env["ns"], name=name) + "".join(body).replace(
            "@PEER@", env["peer"] or "")
        api_kind = "SecurityGroupPosture"
    else:
        igw = env["igw_b"] if case == "route-target" and not old else env["igw_a"]
        spec = VPC_HEAD.format(igw=igw) + "".join(body)
        api_kind = "VPCPosture"
    return ("apiVersion: netposture.dev/v1alpha1\nkind: %s\nmetadata: {name: %s}\nspec:\n"
            "  accountRef: {name: %s}\n%s" % (api_kind, name, env["account"], spec))


def converged(kind, ns, names, gens):
    """Whether every posture converged its generation (gens: {name: min generation})."""
    items = json.loads(kubectl("get", kind, "-n", ns, "-o", "json"))["items"]
    done = {}
    for o in items:
        st, meta = o.get("status", {}), o["metadata"]
        ready = [c for c in st.get("conditions", []) if c["type"] == "Ready"]
        done[meta["name"]] = (meta["generation"] >= gens.get(meta["name"], 1) and
                              st.get("convergedGeneration") == meta["generation"] and
                              bool(ready) and ready[0]["status"] == "True")
    return all(done.get(n) for n in names)


def wait_converged(kind, ns, names, gens, timeout):
    end = time.monotonic() + timeout
    while not converged(kind, ns, names, gens):
        if time.monotonic() > end:
            raise SystemExit("wire_gap: %s %s did not converge within %ss" % (kind, names,
                                                                             timeout))
        time.sleep(0.3)


def apply_all(case, names, old, env):
    docs = "---\n".join(manifest(case, n, old, env) for n in names)
    kubectl("apply", "-n", env["ns"], "-f", "-", stdin=docs)


def ids_of(kind, ns, names):
    """{"sg": [...]} or {"acl": [...], "rtb": [...]} of the postures' AWS objects."""
    out = {"sg": []} if kind == "sg" else {"acl": [], "rtb": []}
    for n in names:
        st = json.loads(kubectl("get", "sgp" if kind == "sg" else "vpcp", n, "-n", ns, "-o",
                                "json"))["status"]
        if kind == "sg":
            out["sg"].append(st["groupId"])
        else:
            out["acl"] += [a["networkAclId"] for a in st.get("networkAcls", [])]
            out["rtb"] += [t["routeTableId"] for t in st.get("routeTables", [])]
    return out


def gens_of(kind, ns, names):
    items = json.loads(kubectl("get", kind, "-n", ns, "-o", "json"))["items"]
    return {o["metadata"]["name"]: o["metadata"]["generation"] for o in items
            if o["metadata"]["name"] in names}


def run_case(case, env, aws, copies, timeout):
    kind = CASES[case][0]
    res = "sgp" if kind == "sg" else "vpcp"
    names = ["%s-%d" % (case, i) for i in range(copies)]
    apply_all(case, names, True, env)
    wait_converged(res, env["ns"], names, {}, timeout)
    ids = ids_of(kind, env["ns"], names)
    mark = "%s-%s" % (case, uuid.uuid4().hex[:8])
    urllib.request.urlopen(urllib.request.Request(
        "http://127.0.0.1:%s/fault-proxy/mark?name=%s" % (env["proxy_port"], mark),
        method="POST"), timeout=10).read()
    start = {k: aws.state(k, v) for k, v in ids.items()}
    gens = {n: g + 1 for n, g in gens_of(res, env["ns"], names).items()}
    t = time.monotonic()
    apply_all(case, names, False, env)
    wait_converged(res, env["ns"], names, gens, timeout)
    took = time.monotonic() - t
    end = {k: aws.state(k, v) for k, v in ids.items()}
    out = check(env["log"], mark, start, end)
    out.update(case=case, copies=copies, converge_s=round(took, 3))
    return judge(case, out)


def judge(case, out):
    """Adds "ok" and "why": a 0 s gap, new-first, the replay matching AWS, the calls."""
    must, never = CASES[case][3], CASES[case][4]
    actions = [c.split()[0] for c in out["calls"]]
    why = []
    if out["max_gap_s"] > 0:
        why.append("a flow both specs allow was unallowed for %.6fs (%s)" % (out["max_gap_s"],
                                                                           out["worst"]))
    if not out["new_first"]:
        why.append("not new-first: flows only the old spec allows went %.6fs before the last "
                   "flow only the new one allows came" % out["new_first_violation_s"])
    if not out["replay_matches_end"]:
        why.append("the replayed log does not end where AWS is: %s" % out["mismatches"])
    why += ["no %s call" % a for a in must if a not in actions]
    why += ["a %s call" % a for a in never if a in actions]
    if case != "sg-description" and out["flows_both"] + out["flows_new_only"] == 0:
        why.append("no flow measured")
    out.update(ok=not why, why="; ".join(why))
    return out


def run_cases(args):
    """Runs the cases (args.cases, comma-separated, or all) against the running controller."""
    aws = Aws()
    env = {"ns": args.ns, "account": args.account, "proxy_port": args.proxy_port,
           "log": args.log, "peer": None, "igw_a": None, "igw_b": None}
    cases = list(CASES) if args.cases == "all" else args.cases.split(",")
    CASES.update({c: KNOWN_GAPS[c] for c in cases if c in KNOWN_GAPS})
    unknown = [c for c in cases if c not in CASES]
    if unknown:
        raise SystemExit("wire_gap: unknown cases %s (known: %s)" % (
            unknown, ", ".join(list(CASES) + list(KNOWN_GAPS))))
    if "sg-cidr-to-group" in cases:
        env["peer"] = aws.group("%s-peer-%s" % (args.ns, uuid.uuid4().hex[:6]))
    if any(CASES[c][0] == "vpc" for c in cases):
        env["igw_a"], env["igw_b"] = aws.igw(), aws.igw()
    ok = True
    for case in cases:
        out = run_case(case, env, aws, args.copies, args.timeout)
        print(json.dumps(out, separators=(",", ":"), sort_keys=True), flush=True)
        ok = ok and out["ok"]
    return 0 if ok else 1


# ---------------------------------------------------------------- selftest

def synthetic(tmp, kind, start, calls, end):
    path = os.path.join(tmp, "%s.jsonl" % kind)
    with open(path, "w") as f:
        f.write(json.dumps({"mark": "m", "t": 0}) + "\n")
        for i, (action, params) in enumerate(calls):
            f.write(json.dumps({"action": action, "params": params, "status": 200,
                                "t0": 10.0 + i, "t1": 10.5 + i}) + "\n")
    return check(path, "m", {kind: {"x": encode(kind, start)}}, {kind: {"x": encode(kind, end)}})


def selftest(_args):
    """The checker on hand-made logs: make-before-break measures 0 s, break-before-make the
    time between the revoke's start and the authorize's end (1.5 s here)."""
    import tempfile
    tmp = tempfile.mkdtemp()
    old = {sg_rule("in", "tcp", 443, 443, "cidr", "10.0.0.0/8")}
    new = {sg_rule("in", "tcp", 443, 443, "cidr", "10.64.0.0/10")}
    auth = ("AuthorizeSecurityGroupIngress", {"GroupId": "x", "IpPermissions.1.IpProtocol": "tcp",
            "IpPermissions.1.FromPort": "443", "IpPermissions.1.ToPort": "443",
            "IpPermissions.1.IpRanges.1.CidrIp": "10.64.0.0/10"})
    revoke = ("RevokeSecurityGroupIngress", dict(auth[1], **{
        "IpPermissions.1.IpRanges.1.CidrIp": "10.0.0.0/8"}))
    good = synthetic(tmp, "sg", old, [auth, revoke], new)
    bad = synthetic(tmp, "sg", old, [revoke, auth], new)
    e = lambda n, act, cidr="10.0.0.0/8": acl_entry(False, n, "tcp", act, cidr, 443, 443)  # noqa
    q = lambda a, n, act="allow": (a, {"NetworkAclId": "x", "RuleNumber": str(n), "Protocol": "6",  # noqa
                                       "RuleAction": act, "Egress": "false",
                                       "CidrBlock": "10.0.0.0/8", "PortRange.From": "443",
                                       "PortRange.To": "443"})
    acl_good = synthetic(tmp, "acl", {e(100, "allow")}, [q("CreateNetworkAclEntry", 200),
                                                          q("DeleteNetworkAclEntry", 100)],
                         {e(200, "allow")})
    acl_bad = synthetic(tmp, "acl", {e(100, "allow")}, [q("DeleteNetworkAclEntry", 100),
                                                         q("CreateNetworkAclEntry", 200)],
                        {e(200, "allow")})
    r = lambda t: route_of("cidr", "172.16.0.0/12", "GatewayId=" + t)  # noqa: E731
    rq = lambda a, t: (a, {"RouteTableId": "x", "DestinationCidrBlock": "172.16.0.0/12",  # noqa
                           "GatewayId": t})
    rt_good = synthetic(tmp, "rtb", {r("a")}, [rq("ReplaceRoute", "b")], {r("b")})
    rt_bad = synthetic(tmp, "rtb", {r("a")}, [rq("DeleteRoute", "a"), rq("CreateRoute", "b")],
                       {r("b")})
    peer = {sg_rule("in", "tcp", 443, 443, "id", "sg-peer")}
    peer_auth = ("AuthorizeSecurityGroupIngress", {
        "GroupId": "x", "IpPermissions.1.IpProtocol": "tcp", "IpPermissions.1.FromPort": "443",
        "IpPermissions.1.ToPort": "443", "IpPermissions.1.Groups.1.GroupId": "sg-peer"})
    to_peer_good = synthetic(tmp, "sg", old, [peer_auth, revoke], peer)
    to_peer_bad = synthetic(tmp, "sg", old, [revoke, peer_auth], peer)
    want = [(good, 0.0, True), (bad, 1.5, True), (to_peer_good, 0.0, True),
            (to_peer_bad, 1.5, False), (acl_good, 0.0, True), (acl_bad, 1.5, True),
            (rt_good, 0.0, True), (rt_bad, 1.5, False)]
    failed = 0
    for i, (got, gap, order) in enumerate(want):
        if got["gap_s"] != gap or got["new_first"] != order or not got["replay_matches_end"]:
            log("selftest %d: gap %s new_first %s replay %s, want gap %s new_first %s: %s" % (
                i, got["gap_s"], got["new_first"], got["replay_matches_end"], gap, order, got))
            failed += 1
    print(json.dumps({"selftest": "ok" if not failed else "failed", "cases": len(want)}))
    return 1 if failed else 0


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check")
    for a in ("--log", "--mark", "--start", "--end"):
        c.add_argument(a, required=True)
    s = sub.add_parser("state")
    s.add_argument("--kind", required=True, choices=list(RESOURCE))
    s.add_argument("--ids", required=True)
    r = sub.add_parser("run")
    for a in ("--ns", "--account", "--proxy-port", "--log"):
        r.add_argument(a, required=True)
    r.add_argument("--cases", default="all")
    r.add_argument("--copies", type=int, default=1)
    r.add_argument("--timeout", type=float, default=60)
    sub.add_parser("selftest")
    args = ap.parse_args()
    if args.cmd == "check":
        load = lambda p: json.load(open(p))  # noqa: E731
        out = check(args.log, args.mark, load(args.start), load(args.end))
        print(json.dumps(out, sort_keys=True))
        return 0 if out["gap_s"] == 0 and out["replay_matches_end"] else 1
    if args.cmd == "state":
        print(json.dumps({args.kind: Aws().state(args.kind, args.ids.split(","))}))
        return 0
    if args.cmd == "run":
        return run_cases(args)
    return selftest(args)


if __name__ == "__main__":
    sys.exit(main())
