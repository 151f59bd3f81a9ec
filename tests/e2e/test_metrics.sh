# End-to-end tests of /metrics: after a posture converged, the exposition parses with the
# Prometheus client's own parser (tests/e2e/metrics_check.py: HELP and TYPE for every family,
# no duplicate series) and holds every family of the README's metrics reference; the
# per-posture series leave with their posture; a CreateFlowLogs answered 200 with an
# `unsuccessful` item is counted as an error with its AWS code, not as OK; a new posture is
# not drift, an out-of-band change after convergence is, once, timed from the poll before
# (source="poll") or a CloudTrail event's eventTime (source="event"); the log level follows
# SIGUSR1/SIGUSR2 and a reconcile's lines carry its reconcileID; manifests/monitoring's alerts
# and dashboard parse as PromQL and use only exported metrics.
# shellcheck shell=bash

# Families that have samples once a SecurityGroupPosture converged.
SAMPLED_FAMILIES=(
    netposture_reconcile_total netposture_reconcile_duration_seconds
    netposture_workqueue_depth netposture_workqueue_adds_total
    netposture_workqueue_queue_duration_seconds netposture_workqueue_work_duration_seconds
    netposture_workqueue_unfinished_work_seconds netposture_workqueue_longest_running_processor_seconds
    netposture_rest_client_requests_total netposture_rest_client_request_duration_seconds
    netposture_aws_requests_total netposture_aws_request_duration_seconds
    netposture_aws_client_throttle_wait_seconds
    netposture_managed_objects netposture_posture_ready netposture_posture_drift_items
    netposture_build_info
    process_cpu_seconds_total process_resident_memory_bytes process_open_fds process_max_fds
    process_start_time_seconds
)
# Families declared from the start, whose samples come with what they count.
DECLARED_FAMILIES=(
    netposture_reconcile_errors_total netposture_workqueue_retries_total
    netposture_aws_throttled_total netposture_aws_retries_total
    netposture_drift_detected_total netposture_remediations_total netposture_spec_applies_total
    netposture_policy_decisions_total
    netposture_guardrail_violations_total netposture_drift_time_to_detect_seconds
    netposture_drift_time_to_remediate_seconds
    netposture_events_total netposture_event_actors_total netposture_event_ids_ignored_total
    netposture_event_describe_total netposture_event_delay_seconds
    netposture_leader netposture_leader_transitions_total netposture_shard_postures
)

scrape() { curl -fsS "http://127.0.0.1:$E2E_METRICS_PORT/metrics"; }

# series_present / series_absent <name{labels}>: whether the exact series is exposed (a
# failed scrape is neither).
series_present() { local t; t=$(scrape) && grep -qF "$1 " <<<"$t"; }
series_absent() { local t; t=$(scrape) && ! grep -qF "$1 " <<<"$t"; }

# metrics_valid [declared]: the exposition passes metrics_check.py with every family; with
# "declared", the sampled ones need only be declared (a posture's series leave with it).
metrics_valid() {
    local args=() f text kind=--sampled
    [ "${1:-}" = declared ] && kind=--family
    for f in "${SAMPLED_FAMILIES[@]}"; do args+=("$kind" "$f"); done
    for f in "${DECLARED_FAMILIES[@]}"; do args+=(--family "$f"); done
    text=$(scrape) || return 1
    python3 "$E2E_REPO/tests/e2e/metrics_check.py" "${args[@]}" <<<"$text"
}

test_metrics_parse_and_hold_every_family() {
    local ns ready drift
    ns=$(new_namespace metrics)
    start_for "$ns"
    apply_web "$ns"
    k wait --for=condition=Ready --timeout=60s sgp/web -n "$ns"
    ready="netposture_posture_ready{kind=\"SecurityGroupPosture\",namespace=\"$ns\",name=\"web\"}"
    drift="netposture_posture_drift_items{kind=\"SecurityGroupPosture\",namespace=\"$ns\",name=\"web\"}"
    wait_for 20 "the posture's ready gauge at 1" metric_at_least netposture_posture_ready "namespace=\"$ns\",name=\"web\"" 1
    metrics_valid || fail "/metrics is not valid Prometheus text with every family" || return 1
    assert_eq "$(metric netposture_posture_drift_items "namespace=\"$ns\",name=\"web\"")" 0 "drift items of a converged posture"
    assert_eq "$(metric netposture_managed_objects 'kind="SecurityGroupPosture"')" 1 "managed SecurityGroupPostures"
    assert_eq "$(metric netposture_build_info)" 1 "build_info"
    assert_contains "$(scrape | grep '^netposture_build_info{')" 'revision="' "build_info labels"
    metric_at_least netposture_aws_request_duration_seconds_count 'action="CreateSecurityGroup"' 1 \
        || fail "CreateSecurityGroup not timed" || return 1
    metric_at_least netposture_rest_client_requests_total 'verb="PATCH",code="200"' 1 \
        || fail "status patches not counted" || return 1
    metric_at_least process_start_time_seconds '' 1000000000 || fail "process_start_time_seconds unset" || return 1
    metric_at_least process_resident_memory_bytes '' 1 || fail "process_resident_memory_bytes unset" || return 1

    k delete sgp web -n "$ns" --wait=false >/dev/null
    series_present "$drift" || fail "no drift_items series before the delete" || return 1
    wait_for 60 "the posture's series to go with it" series_absent "$ready"
    series_absent "$drift" || fail "drift_items outlived its posture" || return 1
    assert_eq "$(metric netposture_managed_objects 'kind="SecurityGroupPosture"')" 0 "managed SecurityGroupPostures after the delete"
    metrics_valid declared || fail "/metrics is not valid after the delete" || return 1
}

test_unsuccessful_flow_log_counts_as_error() {
    local ns
    ns=$(new_namespace flowerr)
    start_for "$ns"
    # moto answers CreateFlowLogs to a missing S3 bucket with 200 and an `unsuccessful` item.
    k apply -n "$ns" -f - >/dev/null <<YAML
apiVersion: netposture.dev/v1alpha1
kind: VPCPosture
metadata: {name: logs}
spec:
  cidrBlock: 10.231.0.0/16
  flowLogs: {enabled: true, trafficType: REJECT, destination: "arn:aws:s3:::np-missing-$ns"}
YAML
    wait_for 60 "CreateFlowLogs counted with the unsuccessful item's code" \
        metric_at_least netposture_aws_requests_total 'action="CreateFlowLogs",code="400"' 1
    assert_eq "$(metric netposture_aws_requests_total 'action="CreateFlowLogs",code="OK"')" 0 "CreateFlowLogs counted OK"
    metric_at_least netposture_aws_request_duration_seconds_count 'action="CreateFlowLogs"' 1 \
        || fail "CreateFlowLogs not timed" || return 1
    metrics_valid || fail "/metrics is not valid" || return 1
}

# drift_events <ns> <name>: how many DriftDetected Events regard the object.
drift_events() { events_for "$1" "$2" | grep -c '^DriftDetected:' || true; }

# polls_after <n>: the snapshot poller has listed the groups at least n times (for wait_for).
polls_after() { metric_at_least netposture_aws_requests_total 'action="DescribeSecurityGroups"' "$1"; }

# remediated_events <ns> <name>: how many Remediated Events regard the object.
remediated_events() { events_for "$1" "$2" | grep -c '^Remediated:' || true; }

# apply_net <ns>: a VPCPosture "net" (a VPC with its DNS attributes and a tag; moto creates VPCs
# with enableDnsHostnames false, so converging it changes an attribute) repaired after a grace
# period of 6 s, so its drift can be seen standing before the repair.
apply_net() {
    k apply -n "$1" -f - >/dev/null <<YAML
apiVersion: netposture.dev/v1alpha1
kind: VPCPosture
metadata: {name: net}
spec:
  cidrBlock: 10.41.0.0/16
  enableDnsSupport: true
  enableDnsHostnames: true
  tags: {team: net}
  remediation: {mode: Enforce, gracePeriod: 6s}
YAML
}

# vpc_drift_states <ns>: the states of net's Changed drift items.
vpc_drift_states() {
    k get vpcp net -n "$1" -o jsonpath='{.status.drift.items[?(@.change=="Changed")].state}'
}

# A new posture converging is not drift, and applying it is not a remediation; a rule revoked
# with the aws CLI afterwards is drift, exactly once (the polls after the repair find nothing
# more), and its repair a remediation. The same for a VPCPosture (its grace period does not
# delay converging its new spec) and an attribute changed with the aws CLI.
test_drift_is_only_what_changed_after_convergence() {
    local ns sg sgp='kind="SecurityGroupPosture"' vpcp='kind="VPCPosture"' describes vpc passes
    ns=$(new_namespace drift)
    start_for "$ns"
    apply_web "$ns"
    apply_net "$ns"
    k wait --for=condition=Ready --timeout=60s sgp/web -n "$ns" || return 1
    # Events are recorded in order: once the creation's SpecApplied is there, a detection's or a
    # Remediated one would be too.
    wait_for 20 "the SpecApplied event of the creation" has_event "$ns" web SpecApplied "tcp 443" || return 1
    assert_eq "$(drift_events "$ns" web)" 0 "DriftDetected Events of a new posture" || return 1
    assert_eq "$(remediated_events "$ns" web)" 0 "Remediated Events of a new posture" || return 1
    assert_eq "$(metric netposture_drift_detected_total "$sgp")" 0 "drift counted for a new posture" || return 1
    assert_eq "$(metric netposture_remediations_total "$sgp")" 0 "remediations counted for a new posture" || return 1
    metric_at_least netposture_spec_applies_total "$sgp,result=\"success\"" 1 || fail "the spec applied not counted" || return 1
    assert_eq "$(k get sgp web -n "$ns" -o jsonpath='{.status.drift.count}')" 0 "status.drift.count" || return 1

    sg=$(group_of "$ns" web)
    awsx ec2 revoke-security-group-ingress --group-id "$sg" --protocol tcp --port 443 --cidr 10.0.0.0/8 >/dev/null
    wait_for 30 "the revoked rule detected" metric_at_least netposture_drift_detected_total "$sgp,change=\"Missing\"" 1 || return 1
    wait_for 30 "the rule restored" rules_are "$sg" ingress "tcp 443-443 10.0.0.0/8" || return 1
    k wait --for=condition=Ready --timeout=30s sgp/web -n "$ns" || return 1
    describes=$(metric netposture_aws_requests_total 'action="DescribeSecurityGroups"')
    wait_for 30 "two more polls" polls_after $((describes + 2)) || return 1
    assert_eq "$(metric netposture_drift_detected_total "$sgp")" 1 "drift detections" || return 1
    assert_eq "$(drift_events "$ns" web)" 1 "DriftDetected Events" || return 1
    # The repair is the one remediation.
    assert_eq "$(metric netposture_remediations_total "$sgp")" 1 "remediations" || return 1
    wait_for 20 "the Remediated event of the repair" has_event "$ns" web Remediated "authorize ingress tcp 443" || return 1
    assert_eq "$(remediated_events "$ns" web)" 1 "Remediated Events" || return 1
    # Found by a poll: time-to-detect bounded by the poll before, time-to-remediate from the
    # detection to the verified repair.
    assert_eq "$(metric netposture_drift_time_to_detect_seconds_count "$sgp,source=\"poll\"")" 1 "polled detections timed" || return 1
    assert_eq "$(metric netposture_drift_time_to_remediate_seconds_count "$sgp,source=\"poll\"")" 1 "repairs timed" || return 1
    metric_above_zero netposture_drift_time_to_remediate_seconds_sum "$sgp,source=\"poll\"" || fail "time-to-remediate is 0" || return 1
    assert_eq "$(metric netposture_drift_time_to_detect_seconds_count 'source="event"')" 0 "event detections" || return 1

    # The VPCPosture: converged at once despite its grace period (a new spec is not drift).
    k wait --for=condition=Ready --timeout=60s vpcp/net -n "$ns" || return 1
    vpc=$(k get vpcp net -n "$ns" -o jsonpath='{.status.vpcId}')
    assert_eq "$(awsx ec2 describe-vpc-attribute --vpc-id "$vpc" --attribute enableDnsHostnames --query 'EnableDnsHostnames.Value')" \
        true "enableDnsHostnames applied" || return 1
    # Two more passes read the converged VPC: still no drift.
    passes=$(metric netposture_reconcile_total "$vpcp")
    wait_for 30 "two more passes of the VPC posture" metric_at_least netposture_reconcile_total "$vpcp" $((passes + 2)) || return 1
    assert_eq "$(drift_events "$ns" net)" 0 "DriftDetected Events of a new VPC posture" || return 1
    assert_eq "$(remediated_events "$ns" net)" 0 "Remediated Events of a new VPC posture" || return 1
    assert_eq "$(metric netposture_drift_detected_total "$vpcp")" 0 "drift counted for a new VPC posture" || return 1
    assert_eq "$(metric netposture_remediations_total "$vpcp")" 0 "remediations counted for a new VPC posture" || return 1
    assert_eq "$(k get vpcp net -n "$ns" -o jsonpath='{.status.drift.count}')" 0 "the VPC posture's status.drift.count" || return 1
    assert_eq "$(condition vpcp "$ns" net Drifted)" "False/NoDrift" "Drifted of a new VPC posture" || return 1

    # An attribute changed out of band: drift, standing through the grace period, then repaired.
    awsx ec2 modify-vpc-attribute --vpc-id "$vpc" --no-enable-dns-hostnames >/dev/null
    wait_for 30 "the VPC attribute drift standing" condition_is vpcp "$ns" net Drifted True/DriftDetected || return 1
    assert_eq "$(vpc_drift_states "$ns")" Pending "the attribute's drift item in its grace period" || return 1
    assert_eq "$(metric netposture_drift_detected_total "$vpcp,change=\"Changed\"")" 1 "VPC drift detections" || return 1
    wait_for 20 "a DriftDetected event for the attribute" has_event "$ns" net DriftDetected "enableDnsHostnames" || return 1
    wait_for 30 "the attribute repaired" bash -c "[ \"\$(kubectl get vpcp net -n $ns -o jsonpath='{.status.drift.items[?(@.change==\"Changed\")].state}')\" = Repaired ]" || return 1
    wait_for 20 "Drifted=False after the repair" condition_is vpcp "$ns" net Drifted False/NoDrift || return 1
    assert_eq "$(awsx ec2 describe-vpc-attribute --vpc-id "$vpc" --attribute enableDnsHostnames --query 'EnableDnsHostnames.Value')" \
        true "enableDnsHostnames repaired" || return 1
    assert_eq "$(metric netposture_remediations_total "$vpcp")" 1 "VPC remediations" || return 1
    wait_for 20 "the Remediated event of the VPC repair" has_event "$ns" net Remediated "enableDnsHostnames" || return 1
    assert_eq "$(metric netposture_drift_detected_total "$vpcp")" 1 "VPC drift detections after the repair"
}

metric_above_zero() { python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) > 0 else 1)' "$(metric "$1" "$2")"; }

# A CloudTrail event dated an hour back names a group changed out of band: the detection is
# the event's, timed from its eventTime (no poll runs: the resync is far longer than the test).
test_event_drift_is_timed_from_its_event_time() {
    local ns sg sgp='kind="SecurityGroupPosture"' hour_ago
    ns=$(new_namespace evttd)
    event_posture_setup "$ns" || return 1
    sg=$(group_of "$ns" web)
    awsx ec2 authorize-security-group-ingress --group-id "$sg" --protocol tcp --port 22 --cidr 0.0.0.0/0 >/dev/null
    hour_ago=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)
    send_cloudtrail_event "$E2E_EVENT_QUEUE" AuthorizeSecurityGroupIngress "arn:aws:iam::123456789012:user/alice" \
        "{\"groupId\": \"$sg\"}" "$hour_ago"
    wait_for 30 "the drift repaired from the event" rules_are "$sg" ingress "tcp 443-443 10.0.0.0/8" || return 1
    wait_for 15 "the repair timed" metric_at_least netposture_drift_time_to_remediate_seconds_count "$sgp,source=\"event\"" 1 || return 1
    assert_eq "$(metric netposture_drift_time_to_detect_seconds_count "$sgp,source=\"event\"")" 1 "event detections timed" || return 1
    metric_at_least netposture_drift_time_to_detect_seconds_sum "$sgp,source=\"event\"" 3600 \
        || fail "time-to-detect not from the event's time: $(metric netposture_drift_time_to_detect_seconds_sum "$sgp")" || return 1
    assert_eq "$(metric netposture_drift_time_to_detect_seconds_count 'source="poll"')" 0 "polled detections" || return 1
    k delete cloudaccount "$E2E_EVENT_ACCOUNT" >/dev/null
}

# log_lines_after <pattern> <after-pattern>: lines matching pattern after the last line
# matching after-pattern in this test's controller log.
log_lines_after() {
    awk -v p="$1" -v a="$2" '$0 ~ a {n = 0; next} $0 ~ p {n++} END {print n + 0}' "$E2E_TEST_DIR/controller.log"
}

# The log level follows SIGUSR1 (more verbose) and SIGUSR2 (less) without a restart, and
# every line of a reconcile carries its reconcileID and the posture's kind, namespace, name.
test_log_level_changes_at_runtime() {
    local ns describes log="$E2E_TEST_DIR/controller.log"
    ns=$(new_namespace loglevel)
    start_for "$ns"
    apply_web "$ns"
    k wait --for=condition=Ready --timeout=60s sgp/web -n "$ns" || return 1
    grep -q 'snapshot polled' "$log" && { fail "debug lines at the default level"; return 1; }
    kill -USR1 "$E2E_CONTROLLER_PID"
    wait_for 20 "the change to debug logged" grep -q 'log level changed signal=SIGUSR1 from=info to=debug' "$log" || return 1
    wait_for 20 "a debug line (a poll)" grep -q 'snapshot polled' "$log" || return 1
    grep 'snapshot polled' "$log" | grep -qE ' groups=[1-9][0-9]*( |$)' || fail "the poll's group count" || return 1
    kill -USR2 "$E2E_CONTROLLER_PID"
    wait_for 20 "the change back to info logged" grep -q 'log level changed signal=SIGUSR2 from=debug to=info' "$log" || return 1
    describes=$(metric netposture_aws_requests_total 'action="DescribeSecurityGroups"')
    wait_for 30 "two more polls" metric_at_least netposture_aws_requests_total 'action="DescribeSecurityGroups"' $((describes + 2)) || return 1
    assert_eq "$(log_lines_after 'snapshot polled' 'from=debug to=info')" 0 "debug lines after SIGUSR2" || return 1
    # (the creation's rules are applied as the spec: logged "applied spec", not "remediated")
    grep ' applied spec ' "$log" | grep -qE "reconcileID=[0-9a-f]{16} kind=SecurityGroupPosture namespace=$ns name=web " \
        || fail "a reconcile's line without its reconcileID and posture: $(grep ' applied spec ' "$log" | head -1)" || return 1
}

# exported_families: the family names a /metrics answer declares (TYPE lines).
exported_families() { scrape | awk '$1 == "#" && $2 == "TYPE" {print $3, $4}'; }

# used_metric_exported <name> <families>: whether a metric name an expression selects is a
# declared family, or the _bucket/_sum/_count series of a declared histogram.
used_metric_exported() {
    local name=$1 families=$2 base
    grep -qx "$name [a-z]*" <<<"$families" && return 0
    base=$(sed -E 's/_(bucket|sum|count)$//' <<<"$name")
    [ "$base" != "$name" ] && grep -qx "$base histogram" <<<"$families"
}

# manifests/monitoring: every alert and dashboard expression parses with Prometheus's own
# PromQL parser (build/e2e-tools/promql) and names only metrics the controller exports; the
# kustomization renders the rule, the ServiceMonitor and the dashboard.
test_monitoring_uses_only_exported_metrics() {
    local ns dir="$E2E_REPO/manifests/monitoring" tool="$E2E_REPO/build/e2e-tools/promql"
    local used families name missing=()
    [ -x "$tool" ] || fail "promql tool missing: $tool (make e2e-tools)" || return 1
    used=$("$tool" "$dir/prometheusrule.yaml" "$dir/dashboard.json") || fail "PromQL that does not parse" || return 1
    [ -n "$used" ] || fail "no metric used" || return 1
    ns=$(new_namespace monitoring)
    start_for "$ns"
    wait_for 20 "/metrics" scrape >/dev/null || return 1
    families=$(exported_families)
    for name in $used; do
        used_metric_exported "$name" "$families" || missing+=("$name")
    done
    [ ${#missing[@]} -eq 0 ] || fail "used but not exported: ${missing[*]}" || return 1
    kubectl kustomize "$dir" | python3 -c '
import sys, yaml
kinds = sorted(d["kind"] for d in yaml.safe_load_all(sys.stdin) if d)
want = ["ConfigMap", "PrometheusRule", "ServiceMonitor"]
sys.exit(0 if kinds == want else "rendered %s, want %s" % (kinds, want))' || fail "manifests/monitoring does not render" || return 1
}
