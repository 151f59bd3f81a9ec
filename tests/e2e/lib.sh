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
    printf '%s\n' "$ns"
}

# start_controller [extra flags...]: runs bin/netposture-controller in the background with the
# least-privilege controller identity; its log goes to $E2E_TEST_DIR/controller.log.
start_controller() {
    local bin="$E2E_REPO/bin/netposture-controller"
    [ -x "$bin" ] || fail "controller binary missing: $bin (run make)" || return 1
    local n=${E2E_CONTROLLER_SEQ:-0}
    E2E_CONTROLLER_SEQ=$((n + 1))
    local log="$E2E_TEST_DIR/controller.log"
    echo "---- controller start #$E2E_CONTROLLER_SEQ: $*" >>"$log"
    "$bin" --kubeconfig "${NP_CONTROLLER_KUBECONFIG:-$KUBECONFIG}" --log-format text \
        --health-addr 127.0.0.1:0 "$@" >>"$log" 2>&1 &
    local pid=$!
    echo "$pid" >"$E2E_TEST_DIR/pids/controller.$pid"
    E2E_CONTROLLER_PID=$pid
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
    for ns in "${E2E_NAMESPACES[@]}"; do
        echo "---- netposture objects in $ns"
        k get netposture -n "$ns" -o yaml 2>&1 | head -n 200
        echo "---- events in $ns"
        k get events.events.k8s.io -n "$ns" 2>&1 | tail -n 20
    done
    echo "---- security groups (moto)"
    awsx ec2 describe-security-groups --query 'SecurityGroups[].{id:GroupId,name:GroupName,tags:Tags,in:IpPermissions,out:IpPermissionsEgress}' 2>&1 | head -n 120
}
