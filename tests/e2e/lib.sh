# End-to-end test library, sourced by tests/e2e/run.sh into every test file.
# Tests act like users: kubectl and the aws CLI against the real servers of hack/dev-env.sh.
# Helpers: deadline-bounded waits, assertions, per-test namespaces, controller start/stop,
# and failure output with the controller's log tail and the objects involved.
# shellcheck shell=bash

E2E_REPO=${E2E_REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}

fail() {
    echo "FAIL: $*" >&2
    return 1
}

# wait_for <timeout-seconds> <description> <command...>
# Re-runs the command every 200 ms until it succeeds; fails with the description at the deadline.
wait_for() {
    local timeout=$1 what=$2
    shift 2
    local deadline=$(( $(date +%s%N) / 1000000 + timeout * 1000 ))
    while true; do
        if "$@" >/dev/null 2>&1; then
            return 0
        fi
        if [ $(( $(date +%s%N) / 1000000 )) -ge "$deadline" ]; then
            echo "FAIL: timed out after ${timeout}s waiting for: $what" >&2
            echo "  last attempt: $*" >&2
            "$@" >&2 || true
            return 1
        fi
        sleep 0.2
    done
}

assert_eq() {
    local got=$1 want=$2 what=${3:-value}
    [ "$got" = "$want" ] || fail "$what: got '$got', want '$want'"
}

assert_contains() {
    local haystack=$1 needle=$2 what=${3:-output}
    case "$haystack" in
    *"$needle"*) return 0 ;;
    esac
    fail "$what does not contain '$needle': $haystack"
}

assert_not_contains() {
    local haystack=$1 needle=$2 what=${3:-output}
    case "$haystack" in
    *"$needle"*) fail "$what contains '$needle': $haystack" ;;
    esac
    return 0
}

# Runs a command that must fail; prints its combined output for the caller to inspect.
expect_failure() {
    local out
    if out=$("$@" 2>&1); then
        echo "FAIL: expected failure from: $*" >&2
        echo "$out" >&2
        return 1
    fi
    printf '%s\n' "$out"
}

# kubectl as the user (admin kubeconfig of the dev env).
k() { kubectl "$@"; }

# The aws CLI against moto (endpoint, region and credentials come from the env file).
awsx() { aws --output json "$@"; }

# Creates a fresh namespace for the current test and prints its name. Namespaces are never
# deleted (no namespace controller runs); names are unique per run.
new_namespace() {
    local base=${1:-t}
    local ns
    ns="e2e-${base}-$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    ns=${ns:0:63}
    k create namespace "$ns" >/dev/null
    E2E_NAMESPACES+=("$ns")
    # (callers use $(new_namespace): the array does not survive the subshell, the file does)
    echo "$ns" >>"$E2E_TEST_DIR/namespaces"
    printf '%s\n' "$ns"
}

# start_controller [extra flags...]: runs bin/netposture-controller (or $E2E_CONTROLLER_BIN) in
# the background with the least-privilege controller identity; its log goes to
# $E2E_TEST_DIR/controller.log.
start_controller() {
    local bin="${E2E_CONTROLLER_BIN:-$E2E_REPO/bin/netposture-controller}"
    [ -x "$bin" ] || fail "controller binary missing: $bin (run make)" || return 1
    local n=${E2E_CONTROLLER_SEQ:-0}
    E2E_CONTROLLER_SEQ=$((n + 1))
    local log="$E2E_TEST_DIR/controller.log"
    echo "---- controller start #$E2E_CONTROLLER_SEQ: ${bin#"$E2E_REPO"/} $*" >>"$log"
    E2E_METRICS_PORT=$(free_port)
    "$bin" --kubeconfig "${NP_CONTROLLER_KUBECONFIG:-$KUBECONFIG}" --log-format text \
        --health-addr 127.0.0.1:0 --metrics-addr "127.0.0.1:$E2E_METRICS_PORT" "$@" >>"$log" 2>&1 &
    local pid=$!
    echo "$pid" >"$E2E_TEST_DIR/pids/controller.$pid"
    E2E_CONTROLLER_PID=$pid
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# metric <name> [label-filter]: the sum of the controller's series of a metric whose labels
# contain the filter (0 when absent).
metric() {
    curl -fsS "http://127.0.0.1:$E2E_METRICS_PORT/metrics" 2>/dev/null | python3 -c '
import sys
name, flt = sys.argv[1], sys.argv[2]
total = 0.0
for line in sys.stdin:
    if line.startswith("#"): continue
    key, _, val = line.rstrip().rpartition(" ")
    base = key.split("{", 1)[0]
    if base == name and flt in key: total += float(val)
print(int(total) if total == int(total) else total)' "$1" "${2:-}"
}

# metric_at_least <name> <filter> <value>: for wait_for.
metric_at_least() {
    python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) >= float(sys.argv[2]) else 1)' "$(metric "$1" "$2")" "$3"
}

# stop_controller [signal]: stops the last controller started and waits for it to exit.
stop_controller() {
    local sig=${1:-TERM} pid=${E2E_CONTROLLER_PID:-}
    [ -n "$pid" ] || return 0
    kill "-$sig" "$pid" 2>/dev/null || true
    local i rc=0
    for i in $(seq 1 150); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
        echo "controller (pid $pid) did not exit within 15s of SIG$sig" >&2
        rc=1
    fi
    wait "$pid" 2>/dev/null || true
    rm -f "$E2E_TEST_DIR/pids/controller.$pid"
    E2E_CONTROLLER_PID=
    return $rc
}

# Prints what a failing test needs to be understood: controller log tail and the objects.
dump_state() {
    echo "---- controller log (tail)"
    [ -f "$E2E_TEST_DIR/controller.log" ] && tail -n 60 "$E2E_TEST_DIR/controller.log"
    local ns
    local -a all=("${E2E_NAMESPACES[@]}")
    [ -f "$E2E_TEST_DIR/namespaces" ] && mapfile -t -O "${#all[@]}" all <"$E2E_TEST_DIR/namespaces"
    for ns in $(printf '%s\n' "${all[@]}" | sort -u); do
        echo "---- netposture objects in $ns"
        k get netposture -n "$ns" -o yaml 2>&1 | head -n 200
        echo "---- events in $ns"
        k get events.events.k8s.io -n "$ns" 2>&1 | tail -n 20
    done
    echo "---- security groups (moto)"
    awsx ec2 describe-security-groups --query 'SecurityGroups[].{id:GroupId,name:GroupName,tags:Tags,in:IpPermissions,out:IpPermissionsEgress}' 2>&1 | head -n 120
}

# ---------------------------------------------------------------- netposture helpers

# The resync interval of the controllers the posture tests start.
RESYNC=${E2E_RESYNC:-2s}

# apply_web <ns> [extra spec yaml lines]: a posture "web" with one HTTPS rule and a tag.
apply_web() {
    local ns=$1 extra=${2:-}
    k apply -n "$ns" -f - >/dev/null <<YAML
apiVersion: netposture.dev/v1alpha1
kind: SecurityGroupPosture
metadata: {name: web}
spec:
  groupName: $ns-web
  description: web tier
  tags: {team: shop}
  ingress:
  - {protocol: tcp, fromPort: 443, toPort: 443, cidrs: ["10.0.0.0/8"], description: https}
$extra
YAML
}

# account_posture <ns> <name> <account> [extra spec yaml lines]: a posture "name" with one HTTPS
# rule on that CloudAccount (group name <ns>-<name>).
account_posture() {
    k apply -n "$1" -f - >/dev/null <<YAML
apiVersion: netposture.dev/v1alpha1
kind: SecurityGroupPosture
metadata: {name: $2}
spec:
  accountRef: {name: $3}
  groupName: $1-$2
  ingress:
  - {protocol: tcp, fromPort: 443, toPort: 443, cidrs: ["10.0.0.0/8"]}
${4:-}
YAML
}

start_for() { # start_for <ns>: a controller watching only this test's namespace
    ensure_account default
    start_controller --namespace "$1" --resync-interval "$RESYNC" --workers 2
}

# ensure_account <name> [allowedNamespaces-yaml]: a CloudAccount for the local AWS emulator.
ensure_account() {
    local name=$1 allowed=${2:-"{}"}
    k apply -f - >/dev/null <<YAML
apiVersion: netposture.dev/v1alpha1
kind: CloudAccount
metadata: {name: $name}
spec:
  aws: {region: us-east-1, credentials: {source: Environment}}
  allowedNamespaces: $allowed
YAML
}

# condition <kind> <ns> <name> <type>: prints "status/reason" of a condition.
condition() {
    k get "$1" "$3" -n "$2" -o jsonpath="{.status.conditions[?(@.type==\"$4\")].status}/{.status.conditions[?(@.type==\"$4\")].reason}" 2>/dev/null
}

# condition_is <kind> <ns> <name> <type> <status/reason>: for wait_for.
condition_is() {
    [ "$(condition "$1" "$2" "$3" "$4")" = "$5" ]
}

# group_of <ns> <sgp-name>: the AWS group id from the posture's status.
group_of() {
    k get sgp "$2" -n "$1" -o jsonpath='{.status.groupId}'
}

# rules <group-id> <ingress|egress>: one sorted line per atomic rule, "proto from-to peer".
rules() {
    local field=IpPermissions
    [ "$2" = egress ] && field=IpPermissionsEgress
    awsx ec2 describe-security-groups --group-ids "$1" | python3 -c '
import json, sys
g = json.load(sys.stdin)["SecurityGroups"][0]
out = []
for p in g.get(sys.argv[1], []):
    proto = p["IpProtocol"]
    ports = "%s-%s" % (p.get("FromPort", ""), p.get("ToPort", "")) if "FromPort" in p else "*"
    for r in p.get("IpRanges", []): out.append("%s %s %s" % (proto, ports, r["CidrIp"]))
    for r in p.get("Ipv6Ranges", []): out.append("%s %s %s" % (proto, ports, r["CidrIpv6"]))
    for r in p.get("PrefixListIds", []): out.append("%s %s %s" % (proto, ports, r["PrefixListId"]))
    for r in p.get("UserIdGroupPairs", []): out.append("%s %s %s" % (proto, ports, r["GroupId"]))
print("\n".join(sorted(out)))
' "$field"
}

# tag_of <group-id> <key>: the tag value ("" when absent).
tag_of() {
    awsx ec2 describe-security-groups --group-ids "$1" | python3 -c '
import json, sys
g = json.load(sys.stdin)["SecurityGroups"][0]
print({t["Key"]: t["Value"] for t in g.get("Tags", [])}.get(sys.argv[1], ""))' "$2"
}

# rules_are <group-id> <direction> <expected lines>: for wait_for.
rules_are() {
    [ "$(rules "$1" "$2")" = "$3" ]
}

group_exists() {
    awsx ec2 describe-security-groups --group-ids "$1" >/dev/null 2>&1
}

# groups_named <name>: ids of the groups with this name (any VPC), one per line.
groups_named() {
    awsx ec2 describe-security-groups --filters "Name=group-name,Values=$1" \
        --query 'SecurityGroups[].GroupId' --output text | tr '\t' '\n' | sed '/^$/d'
}

# events_for <ns> <name>: "reason: note" lines of the Events regarding an object.
events_for() {
    k get events.events.k8s.io -n "$1" --field-selector "regarding.name=$2" \
        -o jsonpath='{range .items[*]}{.reason}: {.note}{"\n"}{end}' 2>/dev/null
}

has_event() { # has_event <ns> <name> <reason> <substring>
    events_for "$1" "$2" | grep -F "$3" | grep -qF "$4"
}

# ---------------------------------------------------------------- CloudTrail events

# The aws CLI (v1) ignores AWS_ENDPOINT_URL for SQS: name moto's endpoint explicitly, so no
# request ever leaves the loopback.
sqsx() { aws --output json --endpoint-url "$AWS_ENDPOINT_URL" sqs "$@"; }

# make_queue <name>: creates an SQS queue in moto and prints its URL.
make_queue() {
    sqsx create-queue --queue-name "$1" --query QueueUrl --output text
}

# event_account <name> <queue-url>: a CloudAccount consuming the queue.
event_account() {
    k apply -f - >/dev/null <<YAML
apiVersion: netposture.dev/v1alpha1
kind: CloudAccount
metadata: {name: $1}
spec:
  aws: {region: us-east-1, credentials: {source: Environment}, eventQueueUrl: "$2"}
  allowedNamespaces: {}
YAML
}

# send_cloudtrail_event <queue-url> <event-name> <actor-arn> <requestParameters-json>
# [event-time]: an EventBridge envelope of a CloudTrail EC2 API call, as an EventBridge rule
# would deliver it (eventTime: now unless given, RFC 3339).
send_cloudtrail_event() {
    local now body
    now=${5:-$(date -u +%Y-%m-%dT%H:%M:%SZ)}
    body=$(python3 - "$2" "$3" "$4" "$now" <<'PY'
import json, sys, uuid
name, actor, params, now = sys.argv[1:5]
print(json.dumps({
    "version": "0", "id": str(uuid.uuid4()), "detail-type": "AWS API Call via CloudTrail",
    "source": "aws.ec2", "account": "123456789012", "time": now, "region": "us-east-1",
    "resources": [],
    "detail": {
        "eventVersion": "1.08",
        "userIdentity": {"type": "IAMUser", "arn": actor, "accountId": "123456789012"},
        "eventTime": now, "eventSource": "ec2.amazonaws.com", "eventName": name,
        "awsRegion": "us-east-1", "sourceIPAddress": "198.51.100.9",
        "requestParameters": json.loads(params),
        "responseElements": {"_return": True}, "eventID": str(uuid.uuid4()),
        "eventType": "AwsApiCall"}}))
PY
)
    sqsx send-message --queue-url "$1" --message-body "$body" >/dev/null
}

# account_consuming_events <account>: its Ready message says it consumes its queue.
account_consuming_events() {
    kubectl get cloudaccount "$1" -o jsonpath='{.status.conditions[0].message}' | grep -q 'consuming events'
}

# event_posture_setup <ns>: a CloudAccount consuming a new SQS queue (E2E_EVENT_ACCOUNT,
# E2E_EVENT_QUEUE), a controller for the namespace whose resync is far longer than a test (only
# events trigger repairs), and a posture "web" of that account, Ready.
event_posture_setup() {
    local tag=${1#e2e-}
    E2E_EVENT_QUEUE=$(make_queue "$tag")
    E2E_EVENT_ACCOUNT=ev-$tag
    event_account "$E2E_EVENT_ACCOUNT" "$E2E_EVENT_QUEUE"
    start_controller --namespace "$1" --resync-interval 10m --workers 2
    account_posture "$1" web "$E2E_EVENT_ACCOUNT"
    k wait --for=condition=Ready --timeout=60s sgp/web -n "$1" || return 1
    wait_for 30 "the account consuming events" account_consuming_events "$E2E_EVENT_ACCOUNT"
}

queue_empty() { # queue_empty <queue-url>: no message waiting or in flight
    local a
    a=$(sqsx get-queue-attributes --queue-url "$1" \
        --attribute-names ApproximateNumberOfMessages ApproximateNumberOfMessagesNotVisible \
        --query 'Attributes.[ApproximateNumberOfMessages,ApproximateNumberOfMessagesNotVisible]' --output text)
    [ "$(printf '%s' "$a" | tr -s '\t ' ' ')" = "0 0" ]
}

# at_exit <command>: runs the command when the test ends, passed or failed (before the
# failure dump), e.g. to thaw a server the test froze. Commands run in the order given.
at_exit() {
    E2E_AT_EXIT="${E2E_AT_EXIT:-}{ $1; } || true;"
    trap 'rc=$?; set +e; eval "$E2E_AT_EXIT"; (exit $rc); on_exit' EXIT
}

# The fault proxy's control API (tests/e2e/fault_proxy.py).
aws_proxy_do() { # aws_proxy_do <port> <command?query>
    curl -fsS -X POST "http://127.0.0.1:$1/fault-proxy/$2"
}

proxy_stat() { # proxy_stat <stats-json> <key>
    python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"
}

aws_proxy_stat_at_least() { # aws_proxy_stat_at_least <port> <key> <n>: for wait_for
    [ "$(proxy_stat "$(aws_proxy_do "$1" stats)" "$2")" -ge "$3" ]
}

# start_fault_proxy <tag> [fault_proxy.py args]: a fault proxy in front of moto on a free
# loopback port, stopped by the harness with the test; sets FAULT_PROXY_PORT.
start_fault_proxy() {
    local tag=$1
    shift
    python3 "$E2E_REPO/tests/e2e/fault_proxy.py" --upstream "$AWS_ENDPOINT_URL" \
        --port-file "$E2E_TEST_DIR/$tag.port" "$@" >"$E2E_TEST_DIR/$tag.log" 2>&1 &
    echo $! >"$E2E_TEST_DIR/pids/$tag"
    wait_for 20 "the fault proxy $tag" test -s "$E2E_TEST_DIR/$tag.port" || return 1
    FAULT_PROXY_PORT=$(cat "$E2E_TEST_DIR/$tag.port")
}
