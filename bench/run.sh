#!/usr/bin/env bash
# netposture benchmark (`make bench`; never part of `make test`). For each N in $BENCH_SIZES it
# brings up a fresh dev environment (hack/dev-env.sh: real etcd + kube-apiserver + moto on
# 127.0.0.1, in build/bench/env, torn down on exit, failure and interrupt), runs the built
# controller like tests/e2e/lib.sh does (least-privilege kubeconfig, text logs, metrics on a free
# loopback port, CloudAccount "default" with Environment credentials) and measures:
#
#   cold_start                 wall time from applying N postures (chunks of multi-document
#                              YAML through `kubectl apply --server-side`, 2 at a time) until
#                              all are Ready=True (counted from the controller's
#                              netposture_posture_ready every 0.5 s, confirmed by `kubectl get`
#                              lists, one a second per 1,000 postures at most, once it says so),
#                              and the controller's CPU seconds over that window
#                              (/proc/<pid>/stat utime+stime) and its share of wall time
#                              (target: < 20 %; the rest should be moto and kube-apiserver,
#                              whose CPU seconds are reported alongside).
#   describe_calls_per_resync  DescribeSecurityGroups calls per poller resync in steady state
#                              (resync $BENCH_RESYNC_S s): the counter
#                              netposture_aws_requests_total{action="DescribeSecurityGroups"}
#                              sampled every 100 ms, counted over K resyncs delimited by the
#                              bursts of the counter itself; target ceil(N/1000)+1. The same
#                              window gives the controller's idle CPU rate and CPU per resync;
#                              endpoint_describe_all_s is how long moto takes to answer the
#                              poller's call (the poll period is about resync x 1.05 + that).
#   cpu_per_1000_noop_reconciles  CPU seconds per 1,000 reconciles that find nothing to do:
#                              annotating the CloudAccount requeues every posture of it; the CPU
#                              over those rounds minus the idle rate above, divided by the
#                              reconciles counted by netposture_reconcile_total (target < 0.5).
#                              raw_value is the same without subtracting the idle rate.
#   mttr_polling               drift time-to-remediate with polling only: an out-of-band
#                              `tcp 22 0.0.0.0/0` ingress rule on M random managed groups at
#                              random times within 2 resyncs, from the moment the authorize call
#                              returns until a DescribeSecurityGroups (filtered on the drifted
#                              ids, every 150 ms, botocore) no longer shows it; p50/p99
#                              (nearest rank: with 20 samples p99 is the max); target
#                              <= resync + 2 s. The same repairs are read from the controller's
#                              histograms netposture_drift_time_to_detect_seconds and
#                              ..._time_to_remediate_seconds{source="poll"} (means, and the
#                              buckets of p50/p99) and cross-checked against the stopwatch: its
#                              mean must lie between the mean time-to-remediate and the mean
#                              time-to-detect (an upper bound from the poll before) plus it,
#                              give or take the resolution (the observation interval plus the
#                              slowest observing Describe); the bench fails otherwise.
#   mttr_event                 the same, event-driven: a second controller with a long resync
#                              ($BENCH_EVENT_RESYNC) and the CloudAccount's spec.aws.eventQueueUrl
#                              set to an SQS queue in moto; right after each out-of-band change a
#                              CloudTrail-shaped EventBridge envelope naming the group goes into
#                              the queue. Target p99 < 2 s. A controller without an SQS consumer
#                              (no action="ReceiveMessage" in its AWS request metric after a
#                              probe message) yields a line with "skipped" instead of a number.
#                              Cross-checked with the histograms' source="event" series: the
#                              eventTime (milliseconds) is known, so the mean time-to-detect
#                              plus time-to-remediate must equal the stopwatch's mean within
#                              the resolution.
#                              Other groups than the polling run's are used (no flapping).
#   restart_to_quiet           the event-mode controller starts on N existing postures and
#                              groups: seconds from its start to its last reconcile, the
#                              reconciles, AWS calls by action and CPU seconds it took.
#   reachability_gap_s         make-before-break measured on the wire, while the polling controller
#                              manages the N postures: tests/e2e/wire_gap.py runs every case of
#                              tests/e2e/test_gap.sh (a rule's CIDR, its ports, a split, a merge,
#                              a CIDR to a group peer, a description, network ACL entries changed
#                              in place, renumbered, a deny removed or added, a route's target)
#                              on C = min(N, BENCH_GAP_COPIES) postures at once, through
#                              fault_proxy.py --record in front of moto (CloudAccount "gap"),
#                              and measures for every flow the old and the new spec allow the
#                              longest time nothing allowed it (and the new-first order of the
#                              others); value: the max over all cases and postures (target 0).
#   rss_peak_mib               peak RSS (VmHWM, /proc/<pid>/status) of the two controllers, the
#                              larger as value (target < 64 MiB at N = 10,000):
#                              cold_start_controller_mib (it created the N postures' groups and
#                              ran everything above) and restarted_controller_mib (it started
#                              with N postures already there).
#   scale (N = $BENCH_SCALE_N, 10,000 by default; 0 skips it): two replicas with
#                              --leader-elect at the default lease (15 s / 10 s / 2 s), as
#                              manifests/ runs them, and a resync of $BENCH_SCALE_RESYNC:
#                              scale_cold_start (as cold_start, by the leader), then
#                              scale_rss_mib of the leader after it settled and of the standby
#                              (warm caches, no workers); takeover_kill9 (the leader killed with
#                              SIGKILL: seconds to the standby's acquireTime on the Lease,
#                              target lease duration + retry period = 17 s) and
#                              takeover_to_quiet (seconds from the kill until the new leader has
#                              reconciled every posture and gone quiet, with the AWS calls that
#                              took: one poll, no mutation); takeover_sigterm (a fresh standby
#                              started, the leader sent SIGTERM: it releases the Lease, target
#                              2 x retry period = 4 s); scale_rss_mib again for the leader that
#                              served N postures and handed over.
#                              Then shard_restart_to_quiet: the controller restarted on those N
#                              postures as 1 shard, then as 2 shards (--shard-count 2, one
#                              process each, started together): per process, seconds from its
#                              start to its last reconcile once every posture of its shard
#                              finished a pass Ready, reconciles, AWS calls (each shard's
#                              poller reads all the account's managed groups), CPU and peak RSS
#                              (hwm_mib). BENCH_SCALE_N=1000 gives the 1,000-posture figures.
#
# Output: one JSON line per figure on stdout, also appended to bench/results/<UTC>.jsonl (whose
# path is printed at the end); progress on stderr; logs in build/bench/. Steps have deadlines
# and fail loudly. Timings are wall-clock on a shared machine: expect noise.
#
# Knobs (environment): BENCH_SIZES ("100 1000"; 10000 works but moto is slow), BENCH_RESYNC_S (5),
# BENCH_RESYNCS (3, the K above), BENCH_MTTR_SAMPLES (20, the M above), BENCH_WORKERS (4),
# BENCH_EVENT_RESYNC (10m), BENCH_SEED (1), BENCH_AWS_CLI (set: use the aws CLI, not botocore),
# BENCH_GAP_COPIES (20, the C above), BENCH_SCALE_N (10000; 0 skips the scale phase),
# BENCH_SCALE_RESYNC (60s), BENCH_SCALE_REGIONS (10: the scale phase's postures go round-robin
# over that many regions of the one account, 1,000 per region at N = 10,000 — moto scans a
# region's whole group list on every Describe and Create, so 10,000 in one region takes it hours;
# 1 puts them all in the account's region), BENCH_SCALE_RATE (1: the scale phase's controllers
# run with --aws-rate-scale this; EC2's default mutation rate, 5 CreateSecurityGroup a second,
# bounds a cold start of 10,000 postures to 2,000 s at 1), BENCH_SCALE_MOTO
# (bench/moto_indexed_tags.py: moto with its per-resource tag lookup indexed, see its header; ""
# runs moto as it comes, whose tag scans make a 10,000-posture cold start take hours).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
SIZES=${BENCH_SIZES-"100 1000"} # empty: no per-size runs (the scale phase only)
RESYNC_S=${BENCH_RESYNC_S:-5}
RESYNCS=${BENCH_RESYNCS:-3}
M=${BENCH_MTTR_SAMPLES:-20}
WORKERS=${BENCH_WORKERS:-4}
EVENT_RESYNC=${BENCH_EVENT_RESYNC:-10m}
SEED=${BENCH_SEED:-1}
GAP_COPIES=${BENCH_GAP_COPIES:-20}
SCALE_N=${BENCH_SCALE_N:-10000}
SCALE_RESYNC=${BENCH_SCALE_RESYNC:-60s}
SCALE_REGIONS=${BENCH_SCALE_REGIONS:-10}
SCALE_RATE=${BENCH_SCALE_RATE:-1}
SCALE_MOTO=${BENCH_SCALE_MOTO-"$repo/bench/moto_indexed_tags.py"}
NS=bench

work="$repo/build/bench"
results_dir="$repo/bench/results"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
export BENCH_RESULTS="$results_dir/$stamp.jsonl"
export NP_DEV_ENV_DIR="$work/env"
py() { python3 "$repo/bench/bench.py" "$@"; }
say() { echo "bench: $*" >&2; }
die() { echo "bench: ERROR: $*" >&2; exit 1; }

CONTROLLER_PID=
SCALE_PIDS=()
GAP_PROXY_PID=
CONTROLLER_LOG=
METRICS_PORT=

# ---------------------------------------------------------------- cleanup

# free_port and stop_pid (SIGTERM, SIGKILL after a grace period) are hack/lib.sh's.
log() { say "$@"; }
# shellcheck source=hack/lib.sh
. "$repo/hack/lib.sh"

stop_controller() {
    local pid=$CONTROLLER_PID
    [ -n "$pid" ] || return 0
    stop_pid "$pid" controller 15
    wait "$pid" 2>/dev/null || true
    CONTROLLER_PID=
}

cleanup() {
    local rc=$?
    if [ $rc -ne 0 ] && [ -n "$CONTROLLER_LOG" ] && [ -f "$CONTROLLER_LOG" ]; then
        say "failed (exit $rc); controller log tail ($CONTROLLER_LOG):"
        tail -n 30 "$CONTROLLER_LOG" >&2 || true
    fi
    stop_controller
    local p
    for p in "${SCALE_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    stop_gap_proxy
    "$repo/hack/dev-env.sh" down >/dev/null 2>&1 || true
    [ -f "$BENCH_RESULTS" ] && say "results so far: $BENCH_RESULTS"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- helpers

# start_controller <log> [flags...]: the controller as tests/e2e/lib.sh start_controller runs it.
start_controller() {
    CONTROLLER_LOG=$1
    shift
    METRICS_PORT=$(free_port)
    "$work/netposture-controller" --kubeconfig "$NP_CONTROLLER_KUBECONFIG" --log-format text \
        --health-addr 127.0.0.1:0 --metrics-addr "127.0.0.1:$METRICS_PORT" \
        --workers "$WORKERS" "$@" >>"$CONTROLLER_LOG" 2>&1 &
    CONTROLLER_PID=$!
    py wait-metrics --pid "$CONTROLLER_PID" --port "$METRICS_PORT" --timeout 30
    say "controller pid $CONTROLLER_PID, metrics on 127.0.0.1:$METRICS_PORT ($*)"
}

# ensure_account [eventQueueUrl]: the CloudAccount the e2e tests use, optionally with a queue.
ensure_account() {
    local queue=${1:-}
    kubectl apply --server-side --force-conflicts --field-manager=bench -f - >/dev/null <<YAML
apiVersion: netposture.dev/v1alpha1
kind: CloudAccount
metadata: {name: default}
spec:
  aws: {region: us-east-1, credentials: {source: Environment}${queue:+, eventQueueUrl: "$queue"}}
  allowedNamespaces: {}
YAML
}

stop_gap_proxy() {
    [ -n "$GAP_PROXY_PID" ] || return 0
    stop_pid "$GAP_PROXY_PID" "gap proxy" 5
    wait "$GAP_PROXY_PID" 2>/dev/null || true
    GAP_PROXY_PID=
}

# gap_phase <n>: the reachability gap cases on min(n, GAP_COPIES) postures each, through the
# recording proxy, with the running controller (it watches every namespace).
gap_phase() {
    local n=$1 copies=$GAP_COPIES port _
    local log="$work/wire-$n.jsonl" out="$work/gap-$n.jsonl" portfile="$work/gap-proxy-$n.port"
    [ "$copies" -le "$n" ] || copies=$n
    rm -f "$log" "$out" "$portfile"
    python3 "$repo/tests/e2e/fault_proxy.py" --upstream "$AWS_ENDPOINT_URL" \
        --port-file "$portfile" --record "$log" >"$work/gap-proxy-$n.log" 2>&1 &
    GAP_PROXY_PID=$!
    for _ in $(seq 1 100); do
        [ -s "$portfile" ] && break
        sleep 0.2
    done
    [ -s "$portfile" ] || die "the recording proxy did not start"
    port=$(cat "$portfile")
    kubectl apply -f - >/dev/null <<YAML
apiVersion: netposture.dev/v1alpha1
kind: CloudAccount
metadata: {name: gap}
spec:
  aws: {region: us-east-1, endpoint: "http://127.0.0.1:$port", credentials: {source: Environment}}
  allowedNamespaces: {}
YAML
    kubectl create namespace "$NS-gap" >/dev/null
    python3 "$repo/tests/e2e/wire_gap.py" run --ns "$NS-gap" --account gap --proxy-port "$port" \
        --log "$log" --copies "$copies" --timeout $((90 + copies * 3)) >"$out" ||
        say "N=$n: a case did not keep a 0 s gap (see $out)"
    py gap-summary --file "$out" --n "$n" --copies "$copies"
    stop_gap_proxy
}

env_up() {
    "$repo/hack/dev-env.sh" down >/dev/null 2>&1 || true
    "$repo/hack/dev-env.sh" up >"$work/dev-env.log" 2>&1 \
        || { cat "$work/dev-env.log" >&2; die "the dev environment did not start"; }
    # shellcheck disable=SC1091
    source "$NP_DEV_ENV_DIR/env"
}

# ---------------------------------------------------------------- one size

bench_size() {
    local n=$1 pids="$NP_DEV_ENV_DIR/pids"
    local cold_timeout=$((180 + n * 3 / 5)) settle_timeout=$((120 + n / 10))
    say "==== N=$n: fresh dev environment"
    env_up
    ensure_account
    kubectl create namespace "$NS" >/dev/null

    # Phase A: polling controller (short resync) for cold start, steady state, no-ops, MTTR.
    start_controller "$work/controller-$n-polling.log" --resync-interval "${RESYNC_S}s"
    local pid_a=$CONTROLLER_PID
    py cold-start --pid "$pid_a" --port "$METRICS_PORT" --n "$n" --ns "$NS" --workdir "$work" \
        --timeout "$cold_timeout" --workers "$WORKERS" \
        --moto-pidfile "$pids/moto.pid" --apiserver-pidfile "$pids/kube-apiserver.pid"
    say "N=$n: waiting for the controller to go quiet"
    py settle --pid "$pid_a" --port "$METRICS_PORT" --timeout "$settle_timeout" --min-reconciles "$n"
    say "N=$n: steady state over $RESYNCS resyncs of ${RESYNC_S}s"
    py steady --pid "$pid_a" --port "$METRICS_PORT" --n "$n" --resync "$RESYNC_S" --k "$RESYNCS" \
        --idle-out "$work/idle-$n.json" --timeout $(((RESYNCS + 3) * RESYNC_S * 2 + 60))
    say "N=$n: no-op reconciles"
    py noop --pid "$pid_a" --port "$METRICS_PORT" --n "$n" --idle-in "$work/idle-$n.json" \
        --round-timeout $((60 + n / 20))

    local m=$M
    [ $((2 * m)) -le "$n" ] || m=$((n / 2))
    py pick-groups --ns "$NS" --count $((2 * m)) --out "$work/groups-$n.txt" --seed "$SEED"
    say "N=$n: drift time-to-remediate, polling only ($m samples)"
    py mttr --mode polling --pid "$pid_a" --port "$METRICS_PORT" --n "$n" --m "$m" \
        --groups "$work/groups-$n.txt" --offset 0 --resync "$RESYNC_S" --seed "$SEED" \
        --sample-timeout $((RESYNC_S * 2 + 30))
    say "N=$n: reachability gap on the wire"
    gap_phase "$n"
    local hwm_a
    hwm_a=$(py hwm --pid "$pid_a")
    stop_controller

    # Phase B: event-driven controller (long resync, CloudAccount with an SQS queue).
    say "N=$n: drift time-to-remediate, event-driven (resync $EVENT_RESYNC)"
    local queue
    queue=$(py create-queue --name "netposture-bench-events")
    ensure_account "$queue"
    start_controller "$work/controller-$n-event.log" --resync-interval "$EVENT_RESYNC"
    local pid_b=$CONTROLLER_PID
    py settle --pid "$pid_b" --port "$METRICS_PORT" --timeout "$settle_timeout" --min-reconciles "$n" \
        --emit-restart --n "$n"
    local event_resync_s
    event_resync_s=$(python3 -c 'import re,sys; print(sum(int(v)*{"ms":0.001,"s":1,"m":60,"h":3600}[u] for v,u in re.findall(r"(\d+)(ms|s|m|h)", sys.argv[1])))' "$EVENT_RESYNC")
    if py event-probe --pid "$pid_b" --port "$METRICS_PORT" --queue-url "$queue" --timeout 25; then
        py mttr --mode event --pid "$pid_b" --port "$METRICS_PORT" --n "$n" --m "$m" \
            --groups "$work/groups-$n.txt" --offset "$m" --resync "$event_resync_s" \
            --seed "$SEED" --spread 10 --sample-timeout 30 --queue-url "$queue"
    else
        say "N=$n: the controller never called ReceiveMessage: no event consumer in this build"
        py emit "{\"bench\":\"mttr_event\",\"n\":$n,\"resync_s\":$event_resync_s,\"skipped\":\"controller has no event consumer\"}"
    fi
    local hwm_b
    hwm_b=$(py hwm --pid "$pid_b")
    stop_controller
    py emit "$(python3 -c '
import json, sys
a, b = json.loads(sys.argv[2]), json.loads(sys.argv[3])
print(json.dumps({"bench": "rss_peak_mib", "n": int(sys.argv[1]),
                  "value": max(a["hwm_mib"], b["hwm_mib"]),
                  "cold_start_controller_mib": a["hwm_mib"], "restarted_controller_mib": b["hwm_mib"],
                  "target_at_10000": 64}))' "$n" "$hwm_a" "$hwm_b")"
    "$repo/hack/dev-env.sh" down >/dev/null 2>&1 || true
}

# ---------------------------------------------------------------- scale and takeover

# scale_replica <log>: one more replica with leader election (as manifests/ runs it); sets
# CONTROLLER_PID and METRICS_PORT and remembers the pid for the cleanup.
scale_replica() {
    start_controller "$1" --resync-interval "$SCALE_RESYNC" --aws-rate-scale "$SCALE_RATE" --leader-elect \
        --leader-election-namespace netposture-system --leader-election-id bench-scale
    SCALE_PIDS+=("$CONTROLLER_PID")
}

hwm_of() { py hwm --pid "$1"; }

scale_phase() {
    local n=$1 lease=bench-scale pids="$NP_DEV_ENV_DIR/pids"
    say "==== scale: N=$n postures, two replicas with --leader-elect (resync $SCALE_RESYNC)"
    NP_MOTO_SERVER=$SCALE_MOTO env_up
    ensure_account
    kubectl create namespace "$NS" >/dev/null
    scale_replica "$work/scale-a.log"
    local pid_a=$CONTROLLER_PID port_a=$METRICS_PORT holder_a
    holder_a=$(py lease-holder --lease "$lease" --timeout 60)
    scale_replica "$work/scale-b.log"
    local pid_b=$CONTROLLER_PID port_b=$METRICS_PORT
    CONTROLLER_PID=
    py cold-start --pid "$pid_a" --port "$port_a" --n "$n" --ns "$NS" --workdir "$work" \
        --timeout $((600 + n * 2 / 5)) --workers "$WORKERS" \
        --moto-pidfile "$pids/moto.pid" --apiserver-pidfile "$pids/kube-apiserver.pid" \
        --name scale_cold_start --regions "$SCALE_REGIONS"
    py settle --pid "$pid_a" --port "$port_a" --timeout $((300 + n / 10)) --min-reconciles "$n"
    py emit "$(python3 -c '
import json, sys
a, b = json.loads(sys.argv[2]), json.loads(sys.argv[3])
print(json.dumps({"bench": "scale_rss_mib", "n": int(sys.argv[1]), "when": "settled",
                  "leader_hwm_mib": a["hwm_mib"], "leader_rss_mib": a["rss_mib"],
                  "standby_hwm_mib": b["hwm_mib"], "standby_rss_mib": b["rss_mib"],
                  "target": 64}))' "$n" "$(hwm_of "$pid_a")" "$(hwm_of "$pid_b")")"

    say "scale: SIGKILL the leader; the standby takes over"
    local since
    since=$(date +%s.%N)
    kill -KILL "$pid_a"
    py takeover --lease "$lease" --timeout 60 --n "$n" --name takeover_kill9 --since "$since" \
        --old "$holder_a" --target 17 --lease-duration 15 --retry 2
    py settle --pid "$pid_b" --port "$port_b" --timeout $((300 + n / 10)) --min-reconciles "$n" \
        --emit-restart --n "$n" --since-epoch "$since" --name takeover_to_quiet
    local holder_b
    holder_b=$(py lease-holder --lease "$lease" --timeout 10)

    say "scale: a fresh standby, then SIGTERM the leader (it releases the Lease)"
    scale_replica "$work/scale-c.log"
    local pid_c=$CONTROLLER_PID
    CONTROLLER_PID=
    # its caches hold every posture (counted as the informer adds them)
    py wait-metric --pid "$pid_c" --port "$METRICS_PORT" --name netposture_shard_postures \
        --at-least "$n" --timeout 300
    local hwm_b
    hwm_b=$(hwm_of "$pid_b")
    since=$(date +%s.%N)
    kill -TERM "$pid_b"
    py takeover --lease "$lease" --timeout 60 --n "$n" --name takeover_sigterm --since "$since" \
        --old "$holder_b" --target 4 --lease-duration 15 --retry 2
    py emit "$(python3 -c '
import json, sys
b = json.loads(sys.argv[2])
print(json.dumps({"bench": "scale_rss_mib", "n": int(sys.argv[1]), "when": "after leading",
                  "leader_hwm_mib": b["hwm_mib"], "leader_rss_mib": b["rss_mib"], "target": 64}))' \
        "$n" "$hwm_b")"
    shard_phase "$n"
    "$repo/hack/dev-env.sh" down >/dev/null 2>&1 || true
}

# stop_scale_replicas: SIGTERM to every replica of the scale phase, and waits for them.
stop_scale_replicas() {
    local p
    for p in "${SCALE_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${SCALE_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    SCALE_PIDS=()
}

# shard_phase <n>: on the scale phase's n postures and groups, the controller restarted as one
# process (1 shard), then as 2 shards (one process each, started together): for each process,
# seconds from its start to its last reconcile, its reconciles, AWS calls, CPU and peak RSS.
shard_phase() {
    local n=$1 i
    say "==== shards: N=$n postures, restarted as 1 shard, then as 2 shards"
    stop_scale_replicas
    start_controller "$work/shards-1.log" --resync-interval "$SCALE_RESYNC" \
        --aws-rate-scale "$SCALE_RATE"
    SCALE_PIDS+=("$CONTROLLER_PID")
    py settle --pid "$CONTROLLER_PID" --port "$METRICS_PORT" --timeout $((300 + n / 10)) \
        --min-reconciles "$n" --emit-restart --n "$n" --name shard_restart_to_quiet \
        --label shards=1 --label shard=0 --all-ready
    CONTROLLER_PID=
    stop_scale_replicas
    local pids=() ports=()
    for i in 0 1; do
        start_controller "$work/shards-2-$i.log" --resync-interval "$SCALE_RESYNC" \
            --aws-rate-scale "$SCALE_RATE" --shard-count 2 --shard-index "$i"
        SCALE_PIDS+=("$CONTROLLER_PID")
        pids+=("$CONTROLLER_PID")
        ports+=("$METRICS_PORT")
    done
    CONTROLLER_PID=
    # a shard holds about half the postures: 40 % is far below any split FNV-1a gives them
    for i in 0 1; do
        py settle --pid "${pids[$i]}" --port "${ports[$i]}" --timeout $((300 + n / 10)) \
            --min-reconciles $((n * 2 / 5)) --emit-restart --n "$n" \
            --name shard_restart_to_quiet --label shards=2 --label "shard=$i" --all-ready
    done
    stop_scale_replicas
}

# ---------------------------------------------------------------- main

mkdir -p "$work" "$results_dir"
rm -f "$work"/controller-*.log "$work"/groups-*.txt "$work"/idle-*.json
[ -x "$repo/bin/netposture-controller" ] || die "bin/netposture-controller is missing (run make)"
# A private copy: a rebuild of bin/ during the run must not change the binary under test.
cp "$repo/bin/netposture-controller" "$work/netposture-controller"
py emit "$(python3 -c '
import json, os, subprocess, sys, hashlib
def sh(*a):
    try: return subprocess.run(a, capture_output=True, text=True).stdout.strip()
    except OSError: return ""
b = open(sys.argv[1], "rb").read()
print(json.dumps({"bench": "run_info", "utc": sys.argv[2], "sizes": sys.argv[3],
    "git": sh("git", "-C", sys.argv[4], "describe", "--always", "--dirty"),
    "controller_sha256": hashlib.sha256(b).hexdigest()[:16], "nproc": os.cpu_count(),
    "loadavg": os.getloadavg()[0]}))' "$work/netposture-controller" "$stamp" "$SIZES" "$repo")"
for n in $SIZES; do
    case "$n" in '' | *[!0-9]*) die "BENCH_SIZES: not a number: $n" ;; esac
    bench_size "$n"
done
case "$SCALE_N" in '' | *[!0-9]*) die "BENCH_SCALE_N: not a number: $SCALE_N" ;; esac
[ "$SCALE_N" -eq 0 ] || scale_phase "$SCALE_N"
say "done"
echo "results: $BENCH_RESULTS"
