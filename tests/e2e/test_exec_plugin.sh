# End-to-end tests of kubeconfig exec credential plugins (what an EKS kubeconfig's
# `aws eks get-token` is): the controller runs a small plugin script that prints an
# ExecCredential the dev kube-apiserver accepts (its static token, or its client certificate)
# and converges a posture; a refused credential makes it run the plugin again; a missing plugin
# is reported with its installHint; tokens and keys never reach the log.
# shellcheck shell=bash

# exec_kubeconfig <file> <exec stanza, YAML lines indented 6>: a kubeconfig for the dev
# kube-apiserver whose one user is an exec plugin.
exec_kubeconfig() {
    cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: dev
  cluster:
    server: $NP_KUBE_SERVER
    certificate-authority: $NP_DEV_ENV_DIR/pki/ca.crt
contexts:
- {name: dev, context: {cluster: dev, user: plugin}}
current-context: dev
users:
- name: plugin
  user:
    exec:
$2
EOF
    chmod 600 "$1"
}

plugin_runs() { cat "$E2E_TEST_DIR/plugin/runs" 2>/dev/null || echo 0; }

tag_is() { [ "$(tag_of "$1" "$2")" = "$3" ]; } # tag_is <group-id> <key> <value>: for wait_for

test_exec_plugin_token_converges_and_a_refused_token_is_replaced() {
    local ns kc plugin="$E2E_TEST_DIR/plugin/get-token" token
    token=$(cat "$NP_CONTROLLER_TOKEN_FILE")
    mkdir -p "$E2E_TEST_DIR/plugin"
    # The first run prints a token the API server refuses (401), later runs the real one.
    cat >"$plugin" <<'EOF'
#!/bin/sh
dir=$(dirname "$0")
n=$(( $(cat "$dir/runs" 2>/dev/null || echo 0) + 1 ))
echo "$n" >"$dir/runs"
printf '%s\n' "$@" >"$dir/args"
printf '%s' "$KUBERNETES_EXEC_INFO" >"$dir/exec-info"
if [ "$n" -eq 1 ]; then tok=refused-e2e-token; else tok=$(cat "$TOKEN_FILE"); fi
exp=$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s","expirationTimestamp":"%s"}}\n' "$tok" "$exp"
EOF
    chmod 755 "$plugin"
    kc="$E2E_TEST_DIR/exec.kubeconfig"
    # A relative command path: resolved against the kubeconfig's directory, as kubectl does.
    exec_kubeconfig "$kc" "      apiVersion: client.authentication.k8s.io/v1
      interactiveMode: IfAvailable
      command: plugin/get-token
      args: [eks, get-token, --cluster-name, dev]
      env: [{name: TOKEN_FILE, value: \"$NP_CONTROLLER_TOKEN_FILE\"}]
      installHint: not shown
      provideClusterInfo: true"
    ns=$(new_namespace exectoken)
    # shellcheck disable=SC2034 # read by start_controller
    local NP_CONTROLLER_KUBECONFIG=$kc
    start_for "$ns"
    apply_web "$ns"
    k wait --for=condition=Ready --timeout=60s sgp/web -n "$ns"
    assert_contains "$(group_of "$ns" web)" "sg-" "status.groupId"
    [ "$(plugin_runs)" -ge 2 ] || fail "the plugin ran $(plugin_runs) times, want >= 2 (once refused)"
    assert_eq "$(tr '\n' ' ' <"$E2E_TEST_DIR/plugin/args")" "eks get-token --cluster-name dev " "plugin args"
    local info
    info=$(cat "$E2E_TEST_DIR/plugin/exec-info")
    assert_contains "$info" '"kind":"ExecCredential"' "KUBERNETES_EXEC_INFO"
    assert_contains "$info" '"interactive":false' "KUBERNETES_EXEC_INFO"
    assert_contains "$info" "\"server\":\"$NP_KUBE_SERVER\"" "KUBERNETES_EXEC_INFO"
    assert_contains "$info" '"certificate-authority-data":"' "KUBERNETES_EXEC_INFO"
    local log
    log=$(cat "$E2E_TEST_DIR/controller.log")
    assert_contains "$log" "exec plugin gave a credential" "controller log"
    assert_contains "$log" "refused the exec plugin's credential (401)" "controller log"
    assert_not_contains "$log" "$token" "controller log" || return 1
    assert_not_contains "$log" "refused-e2e-token" "controller log" || return 1
    # The credential is cached (it expires in an hour): a spec change needs no new run.
    local runs
    runs=$(plugin_runs)
    k patch sgp web -n "$ns" --type merge -p '{"spec":{"tags":{"team":"web"}}}' >/dev/null
    wait_for 30 "the new tag" tag_is "$(group_of "$ns" web)" team web
    assert_eq "$(plugin_runs)" "$runs" "plugin runs after a cached reconcile"
}

test_exec_plugin_client_certificate_converges() {
    local ns kc plugin="$E2E_TEST_DIR/plugin/get-cert"
    mkdir -p "$E2E_TEST_DIR/plugin"
    # v1beta1 without interactiveMode (it defaults to IfAvailable); the controller's own client
    # certificate and key, as clientCertificateData/clientKeyData, with no expiry.
    cat >"$plugin" <<'EOF'
#!/bin/sh
dir=$(dirname "$0")
n=$(( $(cat "$dir/runs" 2>/dev/null || echo 0) + 1 ))
echo "$n" >"$dir/runs"
exec python3 -c '
import json, sys
pki = sys.argv[1]
print(json.dumps({"apiVersion": "client.authentication.k8s.io/v1beta1", "kind": "ExecCredential",
                  "status": {"clientCertificateData": open(pki + "/controller.crt").read(),
                             "clientKeyData": open(pki + "/controller.key").read()}}))' "$PKI"
EOF
    chmod 755 "$plugin"
    kc="$E2E_TEST_DIR/exec.kubeconfig"
    exec_kubeconfig "$kc" "      apiVersion: client.authentication.k8s.io/v1beta1
      command: $plugin
      env: [{name: PKI, value: \"$NP_DEV_ENV_DIR/pki\"}]"
    ns=$(new_namespace execcert)
    # shellcheck disable=SC2034 # read by start_controller
    local NP_CONTROLLER_KUBECONFIG=$kc
    start_for "$ns"
    apply_web "$ns"
    k wait --for=condition=Ready --timeout=60s sgp/web -n "$ns"
    assert_eq "$(plugin_runs)" 1 "plugin runs (no expiry: cached)"
    local log key_line
    log=$(cat "$E2E_TEST_DIR/controller.log")
    assert_contains "$log" "kind=client certificate" "controller log"
    key_line=$(sed -n 2p "$NP_DEV_ENV_DIR/pki/controller.key")
    assert_not_contains "$log" "$key_line" "controller log" || return 1
    assert_not_contains "$log" "PRIVATE KEY" "controller log" || return 1
}

test_exec_plugin_missing_or_interactive_is_explained() {
    local kc="$E2E_TEST_DIR/exec.kubeconfig" out
    exec_kubeconfig "$kc" "      apiVersion: client.authentication.k8s.io/v1
      interactiveMode: Never
      command: np-e2e-no-such-plugin
      installHint: |
        np-e2e-no-such-plugin is part of the e2e suite:
        it is missing on purpose"
    # shellcheck disable=SC2034 # read by start_controller
    local NP_CONTROLLER_KUBECONFIG=$kc
    start_controller --namespace "e2e-exec-none" --workers 1
    wait_for 30 "the missing plugin reported with its install hint" grep -q \
        'exec plugin "np-e2e-no-such-plugin": executable not found in PATH; np-e2e-no-such-plugin is part of the e2e suite: it is missing on purpose' \
        "$E2E_TEST_DIR/controller.log"
    stop_controller
    # interactiveMode Always needs a terminal: refused at start, with the reason.
    exec_kubeconfig "$kc" "      apiVersion: client.authentication.k8s.io/v1
      interactiveMode: Always
      command: aws"
    out=$(expect_failure "$E2E_REPO/bin/netposture-controller" --kubeconfig "$kc" --log-format text \
        --health-addr 127.0.0.1:0 --metrics-addr 127.0.0.1:0)
    assert_contains "$out" "exec.interactiveMode Always needs a terminal, and netposture never has one" "start failure"
}
