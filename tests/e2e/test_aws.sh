# End-to-end tests of pkg/aws against moto: the signed EC2/STS calls the controller makes, the
# VPC-piece calls (VPC attributes, subnets, routes, network ACLs, flow logs), and
# authentication failures reported as such (moto with IAM authentication switched on checks
# the SigV4 signature against the access key's secret).
# shellcheck shell=bash

aws_check() { "$E2E_REPO/build/e2e-tools/aws-check" "$@"; }
aws_vpc_check() { "$E2E_REPO/build/e2e-tools/aws-vpc-check" "$@"; }

# start_auth_moto: a second moto on a free loopback port that authenticates every request
# after the first three (used to create an IAM user, its policy and its key). Prints the
# endpoint.
start_auth_moto() {
    local port
    port=$(free_port)
    INITIAL_NO_AUTH_ACTION_COUNT=3 MOTO_EC2_LOAD_DEFAULT_AMIS=false \
        python3 -m moto.server -H 127.0.0.1 -p "$port" >"$E2E_TEST_DIR/moto-auth.log" 2>&1 &
    echo $! >"$E2E_TEST_DIR/pids/moto-auth"
    wait_for 60 "the authenticating moto" curl -fsS "http://127.0.0.1:$port/moto-api/data.json" \
        || return 1
    printf 'http://127.0.0.1:%s\n' "$port"
}

test_aws_client_full_sequence_against_moto() {
    local out
    out=$(aws_check) || fail "aws-check failed: $out" || return 1
    assert_contains "$out" "ok   sts GetCallerIdentity: account 123456789012" || return 1
    assert_not_contains "$out" "FAIL" || return 1
    # Nothing is left behind: the check deletes its group.
    assert_eq "$(awsx ec2 describe-security-groups --filters Name=tag-key,Values=netposture.dev/aws-check \
        --query 'length(SecurityGroups)')" "0" "groups left by aws-check"
}

# count_tagged <describe command> <list key> [filter option]: how many resources carry the
# aws-vpc-check tag key.
count_tagged() {
    local cmd=$1 key=$2 opt=${3:---filters}
    awsx ec2 "$cmd" "$opt" Name=tag-key,Values=netposture.dev/aws-vpc-check --query "length($key)"
}

test_aws_vpc_pieces_against_moto() {
    local igw igw2 out step rc=0
    # pkg/aws has no internet-gateway calls: the two route targets come from the CLI. (moto, unlike
    # AWS, accepts a route to a gateway that is not attached to the route table's VPC.)
    igw=$(awsx ec2 create-internet-gateway --query InternetGateway.InternetGatewayId --output text) \
        || return 1
    igw2=$(awsx ec2 create-internet-gateway --query InternetGateway.InternetGatewayId --output text) \
        || return 1
    out=$(aws_vpc_check "$igw" "$igw2" 2>&1) || rc=$?
    awsx ec2 delete-internet-gateway --internet-gateway-id "$igw" >/dev/null || return 1
    awsx ec2 delete-internet-gateway --internet-gateway-id "$igw2" >/dev/null || return 1
    printf '%s\n' "$out"
    [ "$rc" -eq 0 ] || fail "aws-vpc-check exited $rc" || return 1
    assert_not_contains "$out" "FAIL" || return 1
    for step in "CreateVpc read back" "DescribeVpcAttribute read back" "DescribeSubnets read back" \
        "ReplaceRoute read back" "DisassociateRouteTable read back" \
        "Replace/DeleteNetworkAclEntry read back" "ReplaceNetworkAclAssociation read back" \
        "CreateFlowLogs read back" "DeleteFlowLogs read back" "DeleteVpc read back"; do
        assert_contains "$out" "ok   $step" || return 1
    done
    # Nothing the check tagged is left behind.
    assert_eq "$(count_tagged describe-vpcs Vpcs)" "0" "VPCs left by aws-vpc-check" || return 1
    assert_eq "$(count_tagged describe-subnets Subnets)" "0" "subnets left" || return 1
    assert_eq "$(count_tagged describe-route-tables RouteTables)" "0" "route tables left" || return 1
    assert_eq "$(count_tagged describe-network-acls NetworkAcls)" "0" "network ACLs left" || return 1
    assert_eq "$(count_tagged describe-flow-logs FlowLogs --filter)" "0" "flow logs left"
}

test_aws_signature_accepted_and_bad_secret_refused() {
    local ep key secret out
    ep=$(start_auth_moto) || return 1
    # The three unauthenticated calls: an IAM user allowed EC2, and an access key of it.
    AWS_ENDPOINT_URL=$ep awsx iam create-user --user-name e2e >/dev/null || return 1
    AWS_ENDPOINT_URL=$ep awsx iam put-user-policy --user-name e2e --policy-name ec2 \
        --policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"}]}' \
        >/dev/null || return 1
    out=$(AWS_ENDPOINT_URL=$ep awsx iam create-access-key --user-name e2e) || return 1
    key=$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["AccessKey"]["AccessKeyId"])')
    secret=$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["AccessKey"]["SecretAccessKey"])')
    # The real key and secret: moto recomputes every signature (GET and POST) and accepts it.
    out=$(AWS_ENDPOINT_URL=$ep AWS_ACCESS_KEY_ID=$key AWS_SECRET_ACCESS_KEY=$secret aws_check 2>&1) \
        || fail "aws-check with a valid key failed: $out" || return 1
    assert_contains "$out" "arn:aws:iam::123456789012:user/e2e" "aws-check (valid key)" || return 1
    # A wrong secret: the signature does not match.
    out=$(AWS_ENDPOINT_URL=$ep AWS_ACCESS_KEY_ID=$key AWS_SECRET_ACCESS_KEY="x$secret" \
        aws_check --expect-auth-failure 2>&1) || fail "bad secret not refused: $out" || return 1
    assert_contains "$out" "SignatureDoesNotMatch" "aws-check (bad secret)"
    # An unknown key.
    out=$(AWS_ENDPOINT_URL=$ep AWS_ACCESS_KEY_ID=AKIAUNKNOWN0000000000 AWS_SECRET_ACCESS_KEY=$secret \
        aws_check --expect-auth-failure 2>&1) || fail "unknown key not refused: $out" || return 1
    assert_contains "$out" "InvalidClientTokenId" "aws-check (unknown key)"
}

test_sqs_client_receives_parses_deletes_and_cancels() {
    local q out
    # (the aws CLI v1 ignores AWS_ENDPOINT_URL for SQS: name the endpoint)
    q=$(aws --endpoint-url "$AWS_ENDPOINT_URL" sqs create-queue --queue-name "aws-check-$$" \
        --query QueueUrl --output text) || return 1
    aws --endpoint-url "$AWS_ENDPOINT_URL" sqs send-message --queue-url "$q" \
        --message-body "file://$E2E_REPO/tests/fixtures/aws/events/authorize-security-group-ingress.json" \
        >/dev/null || return 1
    out=$(aws_check --sqs "$q" 2>&1) || fail "aws-check --sqs failed: $out" || return 1
    assert_not_contains "$out" "FAIL" || return 1
    assert_contains "$out" "cancel" "the long poll cancel step"
}
