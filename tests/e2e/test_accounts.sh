# End-to-end tests of CloudAccount safety: region names are checked at admission (postures and
# accounts), and an account whose endpoint is plain HTTP to a host that is not loopback is
# refused by the controller with the reason on its status and on its postures' status, without
# the endpoint ever being contacted (example.invalid never resolves).
# shellcheck shell=bash

# refuse <what> <expected message substring> [kubectl apply args...]: the YAML on stdin must be
# refused by the API server with the message.
refuse() {
    local what=$1 want=$2 out
    shift 2
    out=$(expect_failure k apply "$@" -f -) || fail "$what: accepted" || return 1
    assert_contains "$out" "$want" "$what: the rejection"
}

test_invalid_region_is_rejected_at_admission() {
    local ns bad
    ns=$(new_namespace region)
    for bad in eu-west-1a EU-WEST-1 local us-east-123 a-b-c-d-e-1; do
        refuse "SecurityGroupPosture region $bad" "is not an AWS region name" -n "$ns" <<YAML || return 1
apiVersion: netposture.dev/v1alpha1
kind: SecurityGroupPosture
metadata: {name: bad}
spec: {groupName: bad, description: bad, region: "$bad"}
YAML
    done
    refuse "VPCPosture region" "\"eu-west\" is not an AWS region name" -n "$ns" <<YAML || return 1
apiVersion: netposture.dev/v1alpha1
kind: VPCPosture
metadata: {name: bad}
spec: {cidrBlock: 10.0.0.0/16, region: eu-west}
YAML
    refuse "CloudAccount region" "\"eu-west-1b\" is not an AWS region name" --dry-run=server <<YAML || return 1
apiVersion: netposture.dev/v1alpha1
kind: CloudAccount
metadata: {name: bad-region}
spec:
  aws: {region: eu-west-1b, credentials: {source: Environment}}
YAML
    assert_eq "$(k get sgp,vpcp -n "$ns" -o name)" "" "postures stored" || return 1
    # Real partitions' names pass.
    local good
    for good in us-gov-west-1 cn-north-1 ap-southeast-5 us-isob-east-1; do
        k apply --dry-run=server -n "$ns" -f - >/dev/null <<YAML || fail "region $good refused" || return 1
apiVersion: netposture.dev/v1alpha1
kind: SecurityGroupPosture
metadata: {name: good}
spec: {groupName: good, description: good, region: "$good"}
YAML
    done
}

test_plain_http_endpoint_is_refused_with_reason_on_status() {
    local ns tag msg
    ns=$(new_namespace insecure)
    tag=${ns#e2e-}
    k apply -f - >/dev/null <<YAML
apiVersion: netposture.dev/v1alpha1
kind: CloudAccount
metadata: {name: insecure-$tag}
spec:
  aws: {region: us-east-1, endpoint: "http://example.invalid", credentials: {source: Environment}}
  allowedNamespaces: {}
YAML
    k get cloudaccount "insecure-$tag" -o jsonpath='{.spec.aws.allowInsecureEndpoint}' |
        grep -qx false || fail "allowInsecureEndpoint does not default to false" || return 1
    start_controller --namespace "$ns" --resync-interval "$RESYNC" --workers 2
    apply_web "$ns" "  accountRef: {name: insecure-$tag}"
    wait_for 30 "the account refused" bash -c \
        "[ \"\$(kubectl get cloudaccount insecure-$tag -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}/{.status.conditions[?(@.type==\"Ready\")].reason}')\" = False/InsecureEndpoint ]" || return 1
    msg=$(k get cloudaccount "insecure-$tag" -o jsonpath='{.status.conditions[?(@.type=="Ready")].message}')
    assert_contains "$msg" "http://example.invalid" "the account's message" || return 1
    assert_contains "$msg" "allowInsecureEndpoint" "the account's message" || return 1
    wait_for 30 "the posture refused" condition_is sgp "$ns" web Ready False/InsecureEndpoint || return 1
    msg=$(k get sgp web -n "$ns" -o jsonpath='{.status.conditions[?(@.type=="Ready")].message}')
    assert_contains "$msg" "CloudAccount \"insecure-$tag\"" "the posture's message" || return 1
    assert_contains "$msg" "plain HTTP" "the posture's message" || return 1
    # Pointed at the emulator on loopback: accepted, and the posture converges.
    k patch cloudaccount "insecure-$tag" --type merge \
        -p "{\"spec\":{\"aws\":{\"endpoint\":\"$AWS_ENDPOINT_URL\"}}}" >/dev/null
    wait_for 30 "the account verified" bash -c \
        "[ \"\$(kubectl get cloudaccount insecure-$tag -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].reason}')\" = CredentialsVerified ]" || return 1
    k wait --for=condition=Ready --timeout=60s sgp/web -n "$ns" >/dev/null || return 1
    k delete sgp web -n "$ns" --wait=true --timeout=60s >/dev/null
    k delete cloudaccount "insecure-$tag" >/dev/null
}
