#!/usr/bin/env python3
# Writes the initial seed inputs of every fuzz target from tests/fixtures/ and manifests/ into
# build/fuzz/seeds/<target>/ (then `hack/fuzz.sh --minimize` style merging keeps the committed
# corpus under tests/fuzz/corpus/ small). Run from the repository root; needs PyYAML.
import glob, hashlib, json, os, re, sys
import yaml

OUT = "build/fuzz/seeds"

# Selector bytes of fuzz_aws_xml.c by root element.
XML_ROOTS = {
    "DescribeSecurityGroupsResponse": 0, "DescribeVpcsResponse": 1, "DescribeSubnetsResponse": 2,
    "DescribeRouteTablesResponse": 3, "DescribeNetworkAclsResponse": 4,
    "DescribeFlowLogsResponse": 5, "Response": 6, "ErrorResponse": 6,
    "GetCallerIdentityResponse": 7, "CreateSecurityGroupResponse": 8,
    "CreateRouteTableResponse": 9, "DescribeVpcAttributeResponse": 10,
    "CreateFlowLogsResponse": 12, "DeleteFlowLogsResponse": 12, "ReceiveMessageResponse": 13,
    "GetQueueAttributesResponse": 14,
}
SPEC_KINDS = {"SecurityGroupPosture": 0, "VPCPosture": 1, "PostureGuardrail": 2}


def put(target, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


def main():
    for path in sorted(glob.glob("tests/fixtures/aws/**/*.xml", recursive=True)):
        data = open(path, "rb").read()
        m = re.search(rb"<(?:[A-Za-z0-9_]+:)?([A-Za-z0-9_]+)[\s>]", re.sub(rb"<\?.*?\?>", b"", data))
        sel = XML_ROOTS.get(m.group(1).decode() if m else "", 11)
        put("fuzz_aws_xml", bytes([sel]) + data)
    for path in sorted(glob.glob("tests/fixtures/aws/events/*.json")):
        put("fuzz_aws_event", open(path, "rb").read())
    for path in sorted(glob.glob("tests/fixtures/kube/kubeconfig/*.yaml")):
        put("fuzz_kube_config", open(path, "rb").read())
    cert = open("tests/fixtures/kube/exec/client.crt").read()
    key = open("tests/fixtures/kube/exec/client.key").read()
    for sel, version in ((0, "v1"), (1, "v1beta1")):
        for status in ({"token": "k8s-aws-v1.seed", "expirationTimestamp": "2030-01-02T03:04:05Z"},
                       {"token": "t"}, {"clientCertificateData": cert, "clientKeyData": key},
                       {"token": "t", "expirationTimestamp": "2030-01-02T03:04:05.123+02:00"}):
            cred = {"apiVersion": "client.authentication.k8s.io/" + version,
                    "kind": "ExecCredential", "spec": {"interactive": False}, "status": status}
            put("fuzz_kube_exec_credential", bytes([sel]) + json.dumps(cred).encode() + b"\n")
    for path in sorted(glob.glob("tests/fixtures/kube/watch/*")):
        data = open(path, "rb").read()
        put("fuzz_kube_watch", b"\x3f" + data)
        put("fuzz_kube_watch", b"\x06" + data)
    objs = []
    for path in sorted(glob.glob("tests/fixtures/posture/*/*/posture.json")):
        objs.append(json.load(open(path)))
    for path in sorted(glob.glob("manifests/samples/*.yaml") + glob.glob("manifests/guardrails/*.yaml")):
        objs.extend(o for o in yaml.safe_load_all(open(path)) if isinstance(o, dict))
    events = []
    for o in objs:
        sel = SPEC_KINDS.get(o.get("kind", ""))
        if sel is None or "spec" not in o:
            continue
        put("fuzz_posture_spec", bytes([sel]) + json.dumps(o["spec"]).encode())
        o.setdefault("metadata", {}).setdefault("name", "seed")
        o["metadata"].setdefault("resourceVersion", "7")
        events.append(json.dumps({"type": "ADDED", "object": o}))
    put("fuzz_kube_watch", b"\x3f" + "\n".join(events).encode() + b"\n")


if __name__ == "__main__":
    sys.exit(main())
