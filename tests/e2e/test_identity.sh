# End-to-end tests of CloudAccount credential sources: Environment with assumeRoleArn
# (cross-account), WebIdentity (IRSA) with a rotating token, the EKS Pod Identity agent, IMDSv2
# (explicitly and as what the Default chain resolves to), and the failures a user must see on
# status (AssumeRoleDenied, WebIdentityTokenUnreadable, MetadataUnavailable, AccountNotReady on
# the postures). moto lacks IMDS, the Pod Identity agent and a refusing STS, so
# identity_standin.py stands in for them on loopback; every credential it serves is a real moto
# session of the role's account, so EC2 calls made with it land in that account. Its
# credentials expire after 120 s: a controller must refresh them during a test. No secret
# (secret keys, session tokens, the web-identity and pod tokens) may appear in the controller's
# log, on a CloudAccount or in an Event.
# shellcheck shell=bash

# start_identity [stand-in flags...]: identity_standin.py in front of moto on a free loopback
# port, stopped by the harness with the test (pids dir); E2E_IDENTITY_URL is its base URL.
start_identity() {
    python3 "$E2E_REPO/tests/e2e/identity_standin.py" --moto "$AWS_ENDPOINT_URL" \
        --port-file "$E2E_TEST_DIR/identity.port" "$@" >"$E2E_TEST_DIR/identity.log" 2>&1 &
    echo $! >"$E2E_TEST_DIR/pids/identity-standin"
    wait_for 20 "the identity stand-in" test -s "$E2E_TEST_DIR/identity.port" || return 1
    E2E_IDENTITY_URL="http://127.0.0.1:$(cat "$E2E_TEST_DIR/identity.port")"
}

# identity_stat <key>: a counter (or JSON list) of the stand-in's /standin/stats.
identity_stat() {
    curl -fsS "$E2E_IDENTITY_URL/standin/stats" | python3 -c '
import json, sys
v = json.load(sys.stdin)[sys.argv[1]]
print(json.dumps(v) if isinstance(v, (list, dict)) else v)' "$1"
}

identity_stat_is() {
    local got
    got=$(identity_stat "$1")
    [ "$got" = "$2" ] || { echo "stand-in $1 is '$got'"; return 1; }
}
identity_stat_at_least() {
    local got
    got=$(identity_stat "$1")
    [ "$got" -ge "$2" ] || { echo "stand-in $1 is $got"; return 1; }
}

# identity_account <name> <aws-flow-mapping>: a CloudAccount (every namespace allowed) with that
# spec.aws; deleted when the test ends, so later tests' controllers never poll it.
identity_account() {
    k apply -f - >/dev/null <<YAML || return 1
apiVersion: netposture.dev/v1alpha1
kind: CloudAccount
metadata: {name: $1}
spec:
  aws: $2
  allowedNamespaces: {}
YAML
    at_exit "kubectl delete cloudaccount '$1' --ignore-not-found --wait=false >/dev/null 2>&1"
}

# account_ready <name>: "status/reason" of the CloudAccount's Ready condition.
account_ready() {
    k get cloudaccount "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}/{.status.conditions[?(@.type=="Ready")].reason}' 2>/dev/null
}
account_ready_is() { # for wait_for, whose last attempt then shows what Ready is
    local got
    got=$(account_ready "$1")
    [ "$got" = "$2" ] || { echo "Ready of $1 is '$got': $(account_message "$1")"; return 1; }
}

# account_field <name> <status field>: e.g. accountId, identity, credentialSource.
account_field() { k get cloudaccount "$1" -o jsonpath="{.status.$2}"; }

account_message() {
    k get cloudaccount "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].message}'
}

account_since() { # lastTransitionTime of the account's Ready condition
    k get cloudaccount "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].lastTransitionTime}'
}

posture_since() { # posture_since <ns> <name>: lastTransitionTime of the posture's Ready
    k get sgp "$2" -n "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].lastTransitionTime}'
}

# account_verified <name> <account-id> <credentialSource>: waits for Ready=True
# CredentialsVerified and checks what status says.
account_verified() {
    wait_for 60 "CloudAccount $1 verified" account_ready_is "$1" True/CredentialsVerified || return 1
    assert_eq "$(account_field "$1" accountId)" "$2" "$1 status.accountId" || return 1
    assert_eq "$(account_field "$1" credentialSource)" "$3" "$1 status.credentialSource" || return 1
}

# expiration_advanced <name> <previous>: status.credentialsExpiration is no longer the previous
# value and lies in the future (the status shows the refreshed credentials); for wait_for.
expiration_advanced() {
    local exp
    exp=$(account_field "$1" credentialsExpiration)
    if [ -n "$exp" ] && [ "$exp" != "$2" ] && [ "$(date -d "$exp" +%s)" -gt "$(date +%s)" ]; then
        return 0
    fi
    echo "status.credentialsExpiration of $1 is '$exp' (was '$2')"
    return 1
}

# creds_for <role-arn>: "key secret token" of a fresh moto session of the role, whose calls land
# in the role's account (moto maps assumed keys to the account of the role ARN).
creds_for() {
    awsx sts assume-role --role-arn "$1" --role-session-name e2e-check \
        --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text
}

# as_creds "<key secret token>" <command...>: runs the command (a function too) as them.
as_creds() {
    local a s t
    read -r a s t <<<"$1"
    shift
    AWS_ACCESS_KEY_ID=$a AWS_SECRET_ACCESS_KEY=$s AWS_SESSION_TOKEN=$t "$@"
}

# make_jwt <subject>: a JWT-shaped token (RS256 header, EKS-style claims, a random jti and
# signature), printed without a newline as kubelet writes a projected token.
make_jwt() {
    python3 - "$1" <<'PY'
import base64, json, os, sys, time
def b64(d):
    return base64.urlsafe_b64encode(d).rstrip(b"=").decode()
now = int(time.time())
head = {"alg": "RS256", "kid": "e2e", "typ": "JWT"}
claims = {"iss": "https://oidc.eks.us-east-1.amazonaws.com/id/E2E00000000000000000000000000000",
          "sub": sys.argv[1], "aud": ["sts.amazonaws.com"], "iat": now, "nbf": now,
          "exp": now + 86400, "jti": os.urandom(16).hex()}
sys.stdout.write(b64(json.dumps(head).encode()) + "." + b64(json.dumps(claims).encode()) + "."
                 + b64(os.urandom(256)))
PY
}

sha256_of() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }

# project_token <dir> <token>: writes the token as kubelet's atomic writer does for a projected
# volume: <dir>/token -> ..data/token, ..data -> ..<stamp>/, swapped by one rename.
# The previous timestamped directory is removed, as kubelet does.
project_token() {
    local dir=$1 stamp old=
    stamp="..$(date +%Y_%m_%d_%H_%M_%S).$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    mkdir -p "$dir/$stamp"
    printf '%s' "$2" >"$dir/$stamp/token"
    [ -L "$dir/..data" ] && old=$(readlink "$dir/..data")
    ln -sfn "$stamp" "$dir/..data_tmp"
    mv -Tf "$dir/..data_tmp" "$dir/..data"
    [ -L "$dir/token" ] || ln -s ..data/token "$dir/token"
    if [ -n "$old" ]; then rm -rf "${dir:?}/$old"; fi
}

# assert_no_secret_leaked <token-file...>: none of the secret keys and session tokens the
# stand-in served (IMDS, the agent, STS answers it forwarded) nor the tokens in the files appear
# in the controller's log, on any CloudAccount or in any Event, neither whole nor cut: any 39
# characters of a long secret contain one of its 20-character windows that are looked for (a
# window found in another secret too, like a JWT header or claim, is not secret and is skipped).
assert_no_secret_leaked() {
    local scan=$E2E_TEST_DIR/leak-scan
    mkdir -p "$scan"
    curl -fsS "$E2E_IDENTITY_URL/standin/served" >"$scan/served.json" || return 1
    k get cloudaccounts -o yaml >"$scan/cloudaccounts.yaml" || return 1
    k get events.events.k8s.io -A -o yaml >"$scan/events.yaml" || return 1
    python3 - "$scan/served.json" "$E2E_TEST_DIR/controller.log" "$scan/cloudaccounts.yaml" \
        "$scan/events.yaml" "$@" <<'PY'
import json, sys
served, places, token_files = sys.argv[1], sys.argv[2:5], sys.argv[5:]
secrets = []
for c in json.load(open(served)):
    for field in ("SecretAccessKey", "Token"):
        if c.get(field):
            secrets.append(("%s %s of %s" % (c["via"], field, c["AccessKeyId"]), c[field]))
for f in token_files:
    secrets.append(("the token in " + f, open(f).read().strip()))
if not any(s for _, s in secrets):
    sys.exit("no secret to look for: the stand-in served nothing")
def pieces(s):  # the secret and, for a long one, its 20-character windows (stride 20)
    out = {s}
    if len(s) >= 40:
        out |= {s[i:i + 20] for i in range(0, len(s) - 19, 20)} | {s[-20:]}
    return out
distinct = {s for _, s in secrets}
texts = {p: open(p, errors="replace").read() for p in places}
leaks = []
for label, s in secrets:
    for p in pieces(s):
        if p != s and any(p in other for other in distinct if other != s):
            continue  # common to two secrets (a JWT header, a claim): not secret
        for where, text in texts.items():
            if p in text:
                leaks.append("%s (%s...) found in %s" % (label, s[:4], where))
print("checked %d secrets in %s" % (len(secrets), ", ".join(places)))
if leaks:
    sys.exit("FAIL: secrets leaked:\n  " + "\n  ".join(sorted(set(leaks))))
PY
}

# ---------------------------------------------------------------- a. AssumeRole (cross-account)

test_assume_role_acts_in_the_target_account() {
    local ns tag acct sg c111 out
    ns=$(new_namespace assume)
    tag=${ns#e2e-}
    acct=$tag
    identity_account "$acct" "{region: us-east-1, credentials: {source: Environment}, assumeRoleArn: 'arn:aws:iam::111111111111:role/netposture'}" || return 1
    start_controller --namespace "$ns" --resync-interval "$RESYNC" --workers 2
    account_posture "$ns" web "$acct"
    k wait --for=condition=Ready --timeout=60s sgp/web -n "$ns" >/dev/null || return 1
    account_verified "$acct" 111111111111 Environment+AssumeRole || return 1
    assert_contains "$(account_field "$acct" identity)" "assumed-role/netposture" "status.identity" || return 1
    [ -n "$(account_field "$acct" credentialsExpiration)" ] \
        || fail "no status.credentialsExpiration for assumed-role credentials" || return 1
    sg=$(group_of "$ns" web)
    [ -n "$sg" ] || fail "no status.groupId" || return 1
    # The group lives in 111111111111 ...
    c111=$(creds_for arn:aws:iam::111111111111:role/e2e-check) || return 1
    assert_eq "$(as_creds "$c111" awsx ec2 describe-security-groups --group-ids "$sg" \
        --query 'SecurityGroups[0].OwnerId' --output text)" 111111111111 "the group's owner" || return 1
    assert_eq "$(as_creds "$c111" rules "$sg" ingress)" "tcp 443-443 10.0.0.0/8" "the group's rules" || return 1
    # ... and not in the controller's own account (the default credentials' 123456789012).
    out=$(expect_failure awsx ec2 describe-security-groups --group-ids "$sg") \
        || fail "group $sg visible in the default account" || return 1
    assert_contains "$out" "InvalidGroup.NotFound" "describe in the default account" || return 1
    assert_eq "$(groups_named "$ns-web")" "" "groups named $ns-web in the default account" || return 1
    # Deletion acts in the assumed account too.
    k delete sgp web -n "$ns" --wait=true --timeout=60s >/dev/null || return 1
    assert_eq "$(as_creds "$c111" groups_named "$ns-web")" "" "groups left in 111111111111" || return 1
}

# ---------------------------------------------------------------- b. WebIdentity (IRSA)

test_web_identity_converges_and_rereads_a_rotated_token() {
    local ns tag acct bad wi tok1 tok2 outside since asince exp c444
    ns=$(new_namespace irsa)
    tag=${ns#e2e-}
    acct=$tag
    bad=$tag-outside
    wi=$E2E_TEST_DIR/serviceaccount
    tok1=$(make_jwt system:serviceaccount:netposture-system:netposture-controller)
    printf '%s' "$tok1" >"$E2E_TEST_DIR/first-token" # for the leak check after the rotation
    project_token "$wi" "$tok1"
    start_identity || return 1
    identity_account "$acct" "{region: us-east-1, credentials: {source: WebIdentity, roleArn: 'arn:aws:iam::444444444444:role/irsa', tokenFile: '$wi/token'}, endpoints: {sts: '$E2E_IDENTITY_URL'}}" || return 1
    start_controller --namespace "$ns" --resync-interval "$RESYNC" --workers 2 \
        --web-identity-token-dir "$wi"
    account_posture "$ns" web "$acct"
    k wait --for=condition=Ready --timeout=60s sgp/web -n "$ns" >/dev/null || return 1
    account_verified "$acct" 444444444444 WebIdentity || return 1
    assert_contains "$(account_field "$acct" identity)" "assumed-role/irsa" "status.identity" || return 1
    [ -n "$(account_field "$acct" credentialsExpiration)" ] \
        || fail "no status.credentialsExpiration for web-identity credentials" || return 1
    identity_stat_at_least sts_web_identity 1 || fail "the stand-in saw no AssumeRoleWithWebIdentity" || return 1
    assert_eq "$(identity_stat last_web_identity_token_sha256)" "$(sha256_of "$tok1")" "the token sent" || return 1
    c444=$(creds_for arn:aws:iam::444444444444:role/e2e-check) || return 1
    assert_eq "$(as_creds "$c444" awsx ec2 describe-security-groups --group-ids "$(group_of "$ns" web)" \
        --query 'SecurityGroups[0].OwnerId' --output text)" 444444444444 "the group's owner" || return 1
    # kubelet rotates the token; the next refresh (the stand-in's credentials last 120 s) reads
    # the new one, and nothing flaps meanwhile.
    since=$(posture_since "$ns" web)
    asince=$(account_since "$acct")
    exp=$(account_field "$acct" credentialsExpiration)
    tok2=$(make_jwt system:serviceaccount:netposture-system:netposture-controller)
    project_token "$wi" "$tok2"
    wait_for 150 "the rotated token sent at the next refresh" \
        identity_stat_is last_web_identity_token_sha256 "$(sha256_of "$tok2")" || return 1
    k wait --for=condition=Ready --timeout=1s sgp/web -n "$ns" >/dev/null \
        || fail "the posture is not Ready after the refresh" || return 1
    assert_eq "$(posture_since "$ns" web)" "$since" "the posture's Ready lastTransitionTime across the refresh" || return 1
    assert_eq "$(account_ready "$acct")" True/CredentialsVerified "the account after the refresh" || return 1
    assert_eq "$(account_since "$acct")" "$asince" "the account's Ready lastTransitionTime across the refresh" || return 1
    wait_for 30 "the refreshed expiration on status" expiration_advanced "$acct" "$exp" || return 1

    # A token file outside every allowed directory is never read, even next door (a string-prefix
    # check would take serviceaccount-outside for serviceaccount) or through "..".
    outside=$E2E_TEST_DIR/serviceaccount-outside
    mkdir -p "$outside"
    make_jwt system:serviceaccount:other:thief >"$outside/token"
    identity_account "$bad" "{region: us-east-1, credentials: {source: WebIdentity, roleArn: 'arn:aws:iam::444444444444:role/irsa', tokenFile: '$outside/token'}, endpoints: {sts: '$E2E_IDENTITY_URL'}}" || return 1
    identity_account "$bad-dots" "{region: us-east-1, credentials: {source: WebIdentity, roleArn: 'arn:aws:iam::444444444444:role/irsa', tokenFile: '$wi/../serviceaccount-outside/token'}, endpoints: {sts: '$E2E_IDENTITY_URL'}}" || return 1
    account_posture "$ns" stolen "$bad"
    account_posture "$ns" dotted "$bad-dots"
    wait_for 30 "the outside token refused" account_ready_is "$bad" False/WebIdentityTokenUnreadable || return 1
    wait_for 30 "the dotted path refused" account_ready_is "$bad-dots" False/WebIdentityTokenUnreadable || return 1
    wait_for 30 "its posture not ready" condition_is sgp "$ns" stolen Ready False/AccountNotReady || return 1
    wait_for 30 "the other posture not ready" condition_is sgp "$ns" dotted Ready False/AccountNotReady || return 1
    assert_not_contains "$(identity_stat web_identity_token_sha256s)" "$(sha256_of "$(cat "$outside/token")")" \
        "tokens the stand-in received" || return 1
    assert_eq "$(groups_named "$ns-stolen")$(as_creds "$c444" groups_named "$ns-stolen")" "" "groups of the refused posture" || return 1

    assert_no_secret_leaked "$E2E_TEST_DIR/first-token" "$wi/token" "$outside/token" || return 1
    k delete sgp web -n "$ns" --wait=true --timeout=60s >/dev/null
}

# ---------------------------------------------------------------- c. EKS Pod Identity

test_pod_identity_refreshes_and_repairs_drift() {
    local ns tag acct pod sg since exp fetched c333
    ns=$(new_namespace podid)
    tag=${ns#e2e-}
    acct=$tag
    pod=$E2E_TEST_DIR/eks-pod-identity-token
    make_jwt system:serviceaccount:netposture-system:netposture-controller >"$pod"
    start_identity --pod-token-file "$pod" || return 1
    identity_account "$acct" "{region: us-east-1, credentials: {source: PodIdentity}}" || return 1
    export AWS_CONTAINER_CREDENTIALS_FULL_URI="$E2E_IDENTITY_URL/v1/credentials"
    export AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=$pod
    start_controller --namespace "$ns" --resync-interval "$RESYNC" --workers 2
    unset AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE
    account_posture "$ns" web "$acct"
    k wait --for=condition=Ready --timeout=60s sgp/web -n "$ns" >/dev/null || return 1
    account_verified "$acct" 333333333333 PodIdentity || return 1
    [ -n "$(account_field "$acct" credentialsExpiration)" ] \
        || fail "no status.credentialsExpiration for Pod Identity credentials" || return 1
    sg=$(group_of "$ns" web)
    c333=$(creds_for arn:aws:iam::333333333333:role/e2e-check) || return 1
    assert_eq "$(as_creds "$c333" awsx ec2 describe-security-groups --group-ids "$sg" \
        --query 'SecurityGroups[0].OwnerId' --output text)" 333333333333 "the group's owner" || return 1
    since=$(posture_since "$ns" web)
    exp=$(account_field "$acct" credentialsExpiration)
    fetched=$(identity_stat pod_credentials)
    # The agent's credentials last 120 s: a refresh comes well before they expire.
    wait_for 150 "Pod Identity credentials refreshed" identity_stat_at_least pod_credentials $((fetched + 1)) || return 1
    identity_stat_at_least pod_credentials 2 || return 1
    wait_for 30 "the refreshed expiration on status" expiration_advanced "$acct" "$exp" || return 1
    assert_eq "$(account_ready "$acct")" True/CredentialsVerified "the account after the refresh" || return 1
    k wait --for=condition=Ready --timeout=1s sgp/web -n "$ns" >/dev/null \
        || fail "the posture is not Ready after the refresh" || return 1
    assert_eq "$(posture_since "$ns" web)" "$since" "the posture's Ready lastTransitionTime across the refresh" || return 1
    assert_eq "$(identity_stat pod_unauthorized)" 0 "agent requests refused" || return 1
    # Drift made in account 333333333333 after the refresh is repaired with the new credentials.
    as_creds "$c333" awsx ec2 authorize-security-group-ingress --group-id "$sg" --protocol tcp \
        --port 22 --cidr 0.0.0.0/0 >/dev/null || return 1
    wait_for 60 "the drift repaired" as_creds "$c333" rules_are "$sg" ingress "tcp 443-443 10.0.0.0/8" || return 1
    assert_no_secret_leaked "$pod" || return 1
    k delete sgp web -n "$ns" --wait=true --timeout=60s >/dev/null
}

# ---------------------------------------------------------------- d. IMDSv2

test_instance_metadata_imdsv2_only() {
    local ns tag acct c222
    ns=$(new_namespace imds)
    tag=${ns#e2e-}
    acct=$tag
    start_identity || return 1
    identity_account "$acct" "{region: us-east-1, credentials: {source: InstanceMetadata}}" || return 1
    export AWS_EC2_METADATA_SERVICE_ENDPOINT=$E2E_IDENTITY_URL AWS_EC2_METADATA_DISABLED=false
    start_controller --namespace "$ns" --resync-interval "$RESYNC" --workers 2
    export AWS_EC2_METADATA_DISABLED=true
    unset AWS_EC2_METADATA_SERVICE_ENDPOINT
    account_posture "$ns" web "$acct"
    k wait --for=condition=Ready --timeout=60s sgp/web -n "$ns" >/dev/null || return 1
    account_verified "$acct" 222222222222 InstanceMetadata || return 1
    assert_contains "$(account_field "$acct" identity)" "assumed-role/node" "status.identity" || return 1
    c222=$(creds_for arn:aws:iam::222222222222:role/e2e-check) || return 1
    assert_eq "$(as_creds "$c222" awsx ec2 describe-security-groups --group-ids "$(group_of "$ns" web)" \
        --query 'SecurityGroups[0].OwnerId' --output text)" 222222222222 "the group's owner" || return 1
    identity_stat_at_least imds_tokens 1 || fail "no IMDSv2 session token requested" || return 1
    assert_eq "$(identity_stat imds_unauthorized)" 0 "IMDS requests without a valid token (IMDSv1)" || return 1
    assert_no_secret_leaked || return 1
    k delete sgp web -n "$ns" --wait=true --timeout=60s >/dev/null
}

test_default_chain_resolves_to_instance_metadata() {
    local ns tag acct rc=0 saved_key saved_secret
    ns=$(new_namespace dflt)
    tag=${ns#e2e-}
    acct=$tag
    start_identity || return 1
    identity_account "$acct" "{region: us-east-1, credentials: {source: Default}}" || return 1
    # Nothing before InstanceMetadata in the chain is configured for this controller only; the
    # test's own aws CLI keeps the emulator's keys.
    saved_key=$AWS_ACCESS_KEY_ID
    saved_secret=$AWS_SECRET_ACCESS_KEY
    unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_SECURITY_TOKEN \
        AWS_ROLE_ARN AWS_WEB_IDENTITY_TOKEN_FILE AWS_CONTAINER_CREDENTIALS_FULL_URI \
        AWS_CONTAINER_CREDENTIALS_RELATIVE_URI AWS_CONTAINER_AUTHORIZATION_TOKEN \
        AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE
    export AWS_EC2_METADATA_SERVICE_ENDPOINT=$E2E_IDENTITY_URL AWS_EC2_METADATA_DISABLED=false
    start_controller --namespace "$ns" --resync-interval "$RESYNC" --workers 2 || rc=$?
    export AWS_ACCESS_KEY_ID=$saved_key AWS_SECRET_ACCESS_KEY=$saved_secret AWS_EC2_METADATA_DISABLED=true
    unset AWS_EC2_METADATA_SERVICE_ENDPOINT
    [ "$rc" -eq 0 ] || return 1
    account_posture "$ns" web "$acct"
    k wait --for=condition=Ready --timeout=60s sgp/web -n "$ns" >/dev/null || return 1
    account_verified "$acct" 222222222222 InstanceMetadata || return 1
    identity_stat_at_least imds_credentials 1 || fail "no credentials fetched from IMDS" || return 1
    assert_eq "$(identity_stat imds_unauthorized)" 0 "IMDS requests without a valid token (IMDSv1)" || return 1
    assert_eq "$(groups_named "$ns-web")" "" "groups named $ns-web in the default account" || return 1
    assert_no_secret_leaked || return 1
    k delete sgp web -n "$ns" --wait=true --timeout=60s >/dev/null
}

# ---------------------------------------------------------------- e. AssumeRole refused

test_untrusted_assume_role_is_denied_and_creates_nothing() {
    local ns tag acct role msg c666
    ns=$(new_namespace denied)
    tag=${ns#e2e-}
    acct=$tag
    role=arn:aws:iam::666666666666:role/not-trusted
    start_identity --trust arn:aws:iam::111111111111:role/netposture || return 1
    identity_account "$acct" "{region: us-east-1, credentials: {source: Environment}, assumeRoleArn: '$role', endpoints: {sts: '$E2E_IDENTITY_URL'}}" || return 1
    start_controller --namespace "$ns" --resync-interval "$RESYNC" --workers 2
    account_posture "$ns" web "$acct"
    wait_for 30 "the AssumeRole refused" account_ready_is "$acct" False/AssumeRoleDenied || return 1
    msg=$(account_message "$acct")
    assert_contains "$msg" "$role" "the account's message" || return 1
    assert_contains "$msg" "AccessDenied" "the account's message" || return 1
    wait_for 30 "the posture refused" condition_is sgp "$ns" web Ready False/AccountNotReady || return 1
    identity_stat_at_least sts_assume_role_denied 1 || fail "the stand-in refused nothing" || return 1
    assert_eq "$(identity_stat sts_assume_role_forwarded)" 0 "AssumeRoles let through" || return 1
    # Nothing was created, neither as the base identity nor in the role's account.
    c666=$(creds_for "$role") || return 1
    assert_eq "$(groups_named "$ns-web")" "" "groups named $ns-web in the default account" || return 1
    assert_eq "$(as_creds "$c666" groups_named "$ns-web")" "" "groups named $ns-web in 666666666666" || return 1
}

# ---------------------------------------------------------------- f. IMDS unreachable

test_unreachable_metadata_is_reported() {
    local ns tag acct port
    ns=$(new_namespace nometa)
    tag=${ns#e2e-}
    acct=$tag
    port=$(free_port) # bound and closed again: nothing listens there
    identity_account "$acct" "{region: us-east-1, credentials: {source: InstanceMetadata}}" || return 1
    export AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:$port" AWS_EC2_METADATA_DISABLED=false
    start_controller --namespace "$ns" --resync-interval "$RESYNC" --workers 2
    export AWS_EC2_METADATA_DISABLED=true
    unset AWS_EC2_METADATA_SERVICE_ENDPOINT
    account_posture "$ns" web "$acct"
    wait_for 30 "the metadata service reported unavailable" account_ready_is "$acct" False/MetadataUnavailable || return 1
    wait_for 30 "the posture refused" condition_is sgp "$ns" web Ready False/AccountNotReady || return 1
    assert_eq "$(groups_named "$ns-web")" "" "groups named $ns-web in the default account" || return 1
}

# ---------------------------------------------------------------- g. no secret anywhere

# refreshed_everywhere <pod> <imds> <web-identity> <assume-role>: each source of
# test_no_secret_in_log_status_or_events fetched again since the counts given.
refreshed_everywhere() {
    identity_stat_at_least pod_credentials $(($1 + 1)) && identity_stat_at_least imds_credentials $(($2 + 1)) &&
        identity_stat_at_least sts_web_identity $(($3 + 1)) && identity_stat_at_least sts_assume_role_forwarded $(($4 + 1))
}

test_no_secret_in_log_status_or_events() {
    local ns tag wi pod n
    ns=$(new_namespace leak)
    tag=${ns#e2e-}
    wi=$E2E_TEST_DIR/serviceaccount
    project_token "$wi" "$(make_jwt system:serviceaccount:netposture-system:netposture-controller)"
    pod=$E2E_TEST_DIR/eks-pod-identity-token
    make_jwt system:serviceaccount:netposture-system:netposture-controller >"$pod"
    start_identity --pod-token-file "$pod" --trust arn:aws:iam::777777777777:role/netposture || return 1
    identity_account "$tag-wi" "{region: us-east-1, credentials: {source: WebIdentity, roleArn: 'arn:aws:iam::444444444444:role/irsa', tokenFile: '$wi/token'}, endpoints: {sts: '$E2E_IDENTITY_URL'}}" || return 1
    identity_account "$tag-pod" "{region: us-east-1, credentials: {source: PodIdentity}}" || return 1
    identity_account "$tag-imds" "{region: us-east-1, credentials: {source: InstanceMetadata}}" || return 1
    identity_account "$tag-ar" "{region: us-east-1, credentials: {source: Environment}, assumeRoleArn: 'arn:aws:iam::777777777777:role/netposture', endpoints: {sts: '$E2E_IDENTITY_URL'}}" || return 1
    export AWS_CONTAINER_CREDENTIALS_FULL_URI="$E2E_IDENTITY_URL/v1/credentials"
    export AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=$pod
    export AWS_EC2_METADATA_SERVICE_ENDPOINT=$E2E_IDENTITY_URL AWS_EC2_METADATA_DISABLED=false
    # debug: the most the controller ever logs.
    start_controller --namespace "$ns" --resync-interval "$RESYNC" --workers 2 --log-level debug \
        --web-identity-token-dir "$wi"
    unset AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE AWS_EC2_METADATA_SERVICE_ENDPOINT
    export AWS_EC2_METADATA_DISABLED=true
    for n in wi pod imds ar; do
        account_posture "$ns" "$n" "$tag-$n"
    done
    k wait --for=condition=Ready --timeout=90s sgp/wi sgp/pod sgp/imds sgp/ar -n "$ns" >/dev/null || return 1
    account_verified "$tag-wi" 444444444444 WebIdentity || return 1
    account_verified "$tag-pod" 333333333333 PodIdentity || return 1
    account_verified "$tag-imds" 222222222222 InstanceMetadata || return 1
    account_verified "$tag-ar" 777777777777 Environment+AssumeRole || return 1
    # Refreshes are where a secret most easily slips into a log line.
    wait_for 150 "every source refreshed" refreshed_everywhere "$(identity_stat pod_credentials)" \
        "$(identity_stat imds_credentials)" "$(identity_stat sts_web_identity)" \
        "$(identity_stat sts_assume_role_forwarded)" || return 1
    assert_no_secret_leaked "$wi/token" "$pod" || return 1
    k delete sgp wi pod imds ar -n "$ns" --wait=true --timeout=60s >/dev/null
}
