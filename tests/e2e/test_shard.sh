# Sharding: two controller processes with the shard flags the sharded overlay
# (manifests/overlays/sharded) renders, each leader of its own Lease, against the real apiserver
# and moto. Every posture is reconciled, and its status, finalizer and Events written, only by
# the shard FNV-1a-64(metadata.uid) mod 2 names (read back from the apiserver's audit log, where
# each shard's requests carry its user agent); a CloudAccount's status only by shard 0; and a
# CloudTrail event, fanned out to one queue per shard, is acted on by the owning shard alone.
# shellcheck shell=bash

SHARD_LEASE=6s
SHARD_RENEW=4s
SHARD_RETRY=1s

# overlay_shard_flags <index>: the --shard-* arguments of Deployment netposture-controller-shard-<index>
# as `kubectl kustomize manifests/overlays/sharded` renders it (so the overlay is what runs).
overlay_shard_flags() {
    kubectl kustomize "$E2E_REPO/manifests/overlays/sharded" | python3 -c '
import sys, yaml
want = "netposture-controller-shard-" + sys.argv[1]
for d in yaml.safe_load_all(sys.stdin):
    if d and d.get("kind") == "Deployment" and d["metadata"]["name"] == want:
        args = d["spec"]["template"]["spec"]["containers"][0]["args"]
        print(" ".join(a for a in args if a.startswith("--shard-")))
        sys.exit(0)
sys.exit("no Deployment " + want)' "$1"
}

# shard_start <ns> <lease-id> <index> [flags]: shard <index> of 2; sets SHARD_PID_<index> and
# SHARD_METRICS_<index>.
shard_start() {
    local ns=$1 id=$2 i=$3 flags
    shift 3
    flags=$(overlay_shard_flags "$i") || return 1
    assert_eq "$flags" "--shard-count=2 --shard-index=$i" "the overlay's flags of shard $i" || return 1
    # shellcheck disable=SC2086
    start_controller --namespace "$ns" --workers 2 --leader-elect \
        --leader-election-namespace netposture-system --leader-election-id "$id" \
        --leader-election-lease-duration "$SHARD_LEASE" --leader-election-renew-deadline "$SHARD_RENEW" \
        --leader-election-retry-period "$SHARD_RETRY" $flags "$@"
    printf -v "SHARD_PID_$i" '%s' "$E2E_CONTROLLER_PID"
    printf -v "SHARD_METRICS_$i" '%s' "$E2E_METRICS_PORT"
    at_exit "kill -KILL $E2E_CONTROLLER_PID 2>/dev/null"
    at_exit "kubectl delete lease $id-$i-of-2 -n netposture-system --wait=false >/dev/null 2>&1"
    E2E_CONTROLLER_PID=
}

shard_metric() { # shard_metric <index> <name> [filter]
    local port_var="SHARD_METRICS_$1"
    E2E_METRICS_PORT=${!port_var} metric "$2" "${3:-}"
}

lease_holder() { # lease_holder <name>
    k get lease "$1" -n netposture-system -o jsonpath='{.spec.holderIdentity}' 2>/dev/null
}

both_lead() { [ -n "$(lease_holder "$1-0-of-2")" ] && [ -n "$(lease_holder "$1-1-of-2")" ]; }

# shard_account <name> [eventQueueUrl]: a CloudAccount of this test only (its status is written
# once, so who writes it shows).
shard_account() {
    if [ -n "${2:-}" ]; then event_account "$1" "$2"; else ensure_account "$1"; fi
    at_exit "kubectl delete cloudaccount $1 --wait=false >/dev/null 2>&1"
}

# postures <ns> <account> <n>: n group postures p1..pn on the account.
postures() {
    local i
    for i in $(seq 1 "$3"); do
        printf -- '---\napiVersion: netposture.dev/v1alpha1\nkind: SecurityGroupPosture\n'
        printf 'metadata: {name: p%s}\nspec:\n  accountRef: {name: %s}\n  groupName: %s-p%s\n' "$i" "$2" "$1" "$i"
        printf '  ingress:\n  - {protocol: tcp, fromPort: 443, toPort: 443, cidrs: ["10.0.0.0/8"]}\n'
    done | k apply -n "$1" -f - >/dev/null
}

all_ready() { # all_ready <ns> <n>
    [ "$(k get sgp -n "$1" -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c '^True$')" = "$2" ]
}

# shard_table <ns>: "name shard" per posture, the shard computed here from the uid as the README
# documents it (FNV-1a 64, offset basis 14695981039346656037, prime 1099511628211).
shard_table() {
    k get sgp -n "$1" -o json | python3 -c '
import json, sys
def fnv(s):
    h = 14695981039346656037
    for b in s.encode():
        h = ((h ^ b) * 1099511628211) % 2**64
    return h
for o in json.load(sys.stdin)["items"]:
    print(o["metadata"]["name"], fnv(o["metadata"]["uid"]) % 2)'
}

# audit_writers <resource> <ns-or-""> : "name userAgent" per successful write of a netposture
# object (or an Event: the name of the object it is about) by a controller, from the
# apiserver's audit log.
audit_writers() {
    python3 - "$NP_AUDIT_LOG" "$1" "$2" <<'PY'
import json, sys
path, resource, ns = sys.argv[1:4]
for line in open(path):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    ref = e.get("objectRef") or {}
    ua = e.get("userAgent", "")
    if ref.get("resource") != resource or (ns and ref.get("namespace") != ns):
        continue
    if not ua.startswith("netposture-controller") or e.get("stage") != "ResponseComplete":
        continue
    if (e.get("responseStatus") or {}).get("code", 500) >= 300:
        continue
    name = ref.get("name", "")
    if resource == "events":
        name = name.split(".")[0]  # <involved object's name>.<suffix>
    print(name, ua.split(" ")[0])
PY
}

# Two shards, 20 postures: all Ready; each shard counts its own; every write of a posture came
# from its shard and every posture was written; the CloudAccount's status only from shard 0.
test_two_shards_write_only_their_own_postures() {
    local ns id acct table writes
    ns=$(new_namespace shard)
    id=np-shard-$RANDOM
    acct=shard-$RANDOM
    shard_account "$acct"
    shard_start "$ns" "$id" 0 --resync-interval 2s || return 1
    shard_start "$ns" "$id" 1 --resync-interval 2s || return 1
    wait_for 30 "both shards hold their Lease" both_lead "$id" || return 1
    postures "$ns" "$acct" 20
    wait_for 120 "all 20 postures Ready" all_ready "$ns" 20 || return 1
    table=$(shard_table "$ns")
    assert_eq "$(shard_metric 0 netposture_shard_postures)" "$(grep -c ' 0$' <<<"$table")" \
        "netposture_shard_postures of shard 0" || return 1
    assert_eq "$(shard_metric 1 netposture_shard_postures)" "$(grep -c ' 1$' <<<"$table")" \
        "netposture_shard_postures of shard 1" || return 1
    writes=$(audit_writers securitygrouppostures "$ns"; audit_writers events "$ns")
    python3 - "$table" "$writes" <<'PY' || fail "a posture was written by another shard, or never" || return 1
import sys
shard = dict(l.split() for l in sys.argv[1].splitlines() if l)
bad, seen = [], set()
for l in sys.argv[2].splitlines():
    name, ua = l.split()
    seen.add(name)
    if not ua.endswith(f"/shard-{shard.get(name)}-of-2"):
        bad.append(f"{name} (shard {shard.get(name)}) written by {ua}")
bad += [f"{n}: no write recorded" for n in shard if n not in seen]
print("\n".join(bad), file=sys.stderr)
sys.exit(1 if bad else 0)
PY
    wait_for 20 "the CloudAccount's status is written" \
        bash -c "[ -n \"\$(kubectl get cloudaccount $acct -o jsonpath='{.status.accountId}')\" ]" || return 1
    writes=$(audit_writers cloudaccounts "" | awk -v a="$acct" '$1 == a {print $2}' | sort -u)
    assert_eq "$writes" "netposture-controller/shard-0-of-2" "who wrote the CloudAccount $acct" || return 1
}

# One queue per shard ({shard} in eventQueueUrl), both fed every event as one EventBridge rule
# with two targets would: an out-of-band change on a group of either shard is repaired within
# seconds (the resync is 10 minutes), by its own shard; the other one deletes the message.
test_events_reach_the_owning_shard() {
    local ns id acct base table p0 p1 sg0 sg1 actor=arn:aws:iam::123456789012:user/mallory
    ns=$(new_namespace shardev)
    id=np-shardev-$RANDOM
    acct=shardev-$RANDOM
    base=np-shardev-$RANDOM
    make_queue "$base-0" >/dev/null && make_queue "$base-1" >/dev/null || fail "cannot make the queues" || return 1
    shard_account "$acct" "$AWS_ENDPOINT_URL/123456789012/$base-{shard}"
    shard_start "$ns" "$id" 0 --resync-interval 10m || return 1
    shard_start "$ns" "$id" 1 --resync-interval 10m || return 1
    postures "$ns" "$acct" 12
    wait_for 120 "all 12 postures Ready" all_ready "$ns" 12 || return 1
    wait_for 30 "the CloudAccount consumes events" \
        bash -c "kubectl get cloudaccount $acct -o jsonpath='{.status.conditions[0].message}' | grep -q 'consuming events'" || return 1
    table=$(shard_table "$ns")
    p0=$(awk '$2 == 0 {print $1; exit}' <<<"$table")
    p1=$(awk '$2 == 1 {print $1; exit}' <<<"$table")
    [ -n "$p0" ] && [ -n "$p1" ] || fail "12 postures did not spread over both shards: $table" || return 1
    sg0=$(group_of "$ns" "$p0")
    sg1=$(group_of "$ns" "$p1")
    local sg q
    for sg in "$sg0" "$sg1"; do
        awsx ec2 authorize-security-group-ingress --group-id "$sg" --protocol tcp --port 22 \
            --cidr 0.0.0.0/0 >/dev/null
        for q in "$base-0" "$base-1"; do
            send_cloudtrail_event "$AWS_ENDPOINT_URL/123456789012/$q" AuthorizeSecurityGroupIngress "$actor" \
                "{\"groupId\": \"$sg\", \"ipPermissions\": {\"items\": [{\"ipProtocol\": \"tcp\", \"fromPort\": 22, \"toPort\": 22, \"ipRanges\": {\"items\": [{\"cidrIp\": \"0.0.0.0/0\"}]}}]}}"
        done
    done
    wait_for 20 "shard 0's group repaired" rules_are "$sg0" ingress "tcp 443-443 10.0.0.0/8" || return 1
    wait_for 20 "shard 1's group repaired" rules_are "$sg1" ingress "tcp 443-443 10.0.0.0/8" || return 1
    local i
    for i in 0 1; do
        assert_eq "$(shard_metric "$i" netposture_events_total 'result="handled"')" 1 \
            "events handled by shard $i" || return 1
        assert_eq "$(shard_metric "$i" netposture_events_total 'result="other_shard"')" 1 \
            "events left to the other shard by shard $i" || return 1
    done
    wait_for 20 "both queues drained" bash -c "$(declare -f sqsx queue_empty); queue_empty '$AWS_ENDPOINT_URL/123456789012/$base-0' && queue_empty '$AWS_ENDPOINT_URL/123456789012/$base-1'" || return 1
}

# A sharded controller does not read a queue without {shard}: it would delete the events of the
# other shards. The CloudAccount says so, and no ReceiveMessage is made.
test_sharded_controller_refuses_one_queue_for_all() {
    local ns id acct q
    ns=$(new_namespace shardq)
    id=np-shardq-$RANDOM
    acct=shardq-$RANDOM
    q=$(make_queue "np-shardq-$RANDOM") || return 1
    shard_account "$acct" "$q"
    shard_start "$ns" "$id" 0 --resync-interval 10m || return 1
    wait_for 30 "the CloudAccount reports the queue unread" \
        bash -c "kubectl get cloudaccount $acct -o jsonpath='{.status.conditions[0].message}' | grep -q 'not consuming events: the controller is sharded'" || return 1
    assert_eq "$(shard_metric 0 netposture_aws_requests_total 'action="ReceiveMessage"')" 0 \
        "ReceiveMessage calls of the sharded controller" || return 1
}
