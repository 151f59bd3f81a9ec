# shellcheck shell=bash
# The documentation against the real API server: every netposture object shown in the README,
# docs/ and manifests/ is accepted by the CRDs (server-side dry run), the published schemas and
# `kubectl explain` describe every kind and field, and the printer columns answer the first
# questions. No controller runs: these are checks of the API, not of reconciling.

# Applies every netposture object of the docs and manifests with a server-side dry run (the
# CRD schemas, CEL rules and defaults all run; nothing is stored). A snippet that is only a
# fragment (no apiVersion and kind) is skipped by doc_check.py; a full object that is refused
# fails the test with the file and line of its snippet.
test_docs_examples_pass_server_dry_run() {
    local ns dir key src what out before failed=0 n=0
    ns=$(new_namespace docs)
    # cluster-scoped kinds (CloudAccount, PostureGuardrail) of earlier tests may exist already
    before=$(k get netposture -A -o name | sort)
    dir="$E2E_TEST_DIR/examples"
    python3 "$E2E_REPO/tests/e2e/doc_check.py" examples "$dir" "$ns" "$ns"
    [ -s "$dir/index" ] || fail "no netposture object found in README.md, docs/ or manifests/" || return 1
    grep -q $'\tREADME.md:' "$dir/index" || fail "no netposture object found in README.md" || return 1
    while IFS=$'\t' read -r key src what; do
        n=$((n + 1))
        if out=$(k apply --dry-run=server -f "$dir/$key.yaml" 2>&1); then
            echo "ok   $src $what"
        else
            echo "FAIL $src $what:"
            printf '%s\n' "$out" | sed 's/^/       /'
            failed=$((failed + 1))
        fi
    done <"$dir/index"
    echo "$n objects, $failed refused"
    [ "$failed" -eq 0 ] || fail "$failed documented object(s) refused by the API server (see above)"
    # Nothing was stored: no object appeared (earlier tests' objects may still be going away).
    assert_eq "$(comm -13 <(printf '%s\n' "$before") <(k get netposture -A -o name | sort))" "" \
        "objects the dry runs left behind"
}

# The dry run really validates: a broken object is refused with the CRD's message, so the test
# above cannot pass by accident.
test_docs_dry_run_refuses_an_invalid_object() {
    local ns out
    ns=$(new_namespace docsneg)
    out=$(expect_failure k apply --dry-run=server -n "$ns" -f - <<'YAML'
apiVersion: netposture.dev/v1alpha1
kind: SecurityGroupPosture
metadata: {name: broken}
spec:
  groupName: broken
  ingress:
  - {protocol: tcp, fromPort: 443, toPort: 80, cidrs: ["10.0.0.0/8"]}
YAML
)
    assert_contains "$out" "fromPort must not be greater than toPort" "dry-run refusal"
}

# `kubectl explain` prints a description for every kind and every field, and the schemas the
# API server publishes (what explain reads) describe every property.
test_docs_explain_describes_every_field() {
    k get --raw /openapi/v3/apis/netposture.dev/v1alpha1 | python3 "$E2E_REPO/tests/e2e/doc_check.py" openapi
    python3 "$E2E_REPO/tests/e2e/doc_check.py" explain
    assert_contains "$(k explain sgp.spec.remediation.gracePeriod)" "e.g. 30s, 10m or 1h30m" "explain gracePeriod"
}

# Printer columns, short names and the category, on objects without a controller (the status
# columns are empty) and with a status written by hand through the status subresource.
test_docs_printer_columns() {
    local ns out
    ns=$(new_namespace cols)
    k apply -n "$ns" -f - >/dev/null <<'YAML'
apiVersion: netposture.dev/v1alpha1
kind: SecurityGroupPosture
metadata: {name: web}
spec:
  groupName: web
  remediation: {mode: Detect}
YAML
    out=$(k get sgp web -n "$ns")
    assert_eq "$(awk 'NR == 1 {print $1, $2, $3, $4, $5, $6, $7}' <<<"$out")" \
        "NAME READY REASON MODE DRIFT GROUP AGE" "sgp columns"
    k patch sgp web -n "$ns" --subresource=status --type merge -p '{"status": {
        "groupId": "sg-0123456789abcdef0", "vpcId": "vpc-0123456789abcdef0",
        "accountId": "123456789012", "region": "us-east-1", "lastSyncTime": "2026-01-01T00:00:00Z",
        "drift": {"count": 2},
        "conditions": [
          {"type": "Ready", "status": "False", "reason": "DriftDetected", "message": "",
           "lastTransitionTime": "2026-01-01T00:00:00Z"},
          {"type": "Synced", "status": "True", "reason": "Synced", "message": "",
           "lastTransitionTime": "2026-01-01T00:00:00Z"}]}}' >/dev/null
    out=$(k get sgp web -n "$ns")
    assert_eq "$(awk 'NR == 2 {print $1, $2, $3, $4, $5, $6}' <<<"$out")" \
        "web False DriftDetected Detect 2 sg-0123456789abcdef0" "sgp row"
    out=$(k get sgp web -n "$ns" -o wide)
    assert_eq "$(awk 'NR == 1 {print $8, $9, $10, $11, $12}' <<<"$out")" \
        "VPC REGION ACCOUNT SYNCED UPDATED" "sgp -o wide columns"
    assert_eq "$(awk 'NR == 2 {print $8, $9, $10, $11}' <<<"$out")" \
        "vpc-0123456789abcdef0 us-east-1 123456789012 True" "sgp -o wide row"
    # Every kind answers to its short name and to the category.
    k apply -f - >/dev/null <<YAML
apiVersion: netposture.dev/v1alpha1
kind: CloudAccount
metadata: {name: cols-$ns}
spec:
  aws: {region: us-east-1, credentials: {source: Environment}}
YAML
    out=$(k get npacct "cols-$ns" -o wide)
    assert_eq "$(awk 'NR == 1 {print $1, $2, $3, $4, $5, $6, $7, $8, $9}' <<<"$out")" \
        "NAME READY REASON ACCOUNT REGION SOURCE AGE IDENTITY EXPIRES" "npacct columns"
    assert_contains "$(k get netposture -A -o name)" "cloudaccount.netposture.dev/cols-$ns" "category"
    assert_contains "$(k get netposture -n "$ns" -o name)" "securitygroupposture.netposture.dev/web" "category"
    out=$(k get pgr 2>&1)
    assert_not_contains "$out" "error" "kubectl get pgr"
    k delete npacct "cols-$ns" >/dev/null
}
