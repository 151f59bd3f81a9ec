/*
 * Unit tests for honest AWS accounting: a 200 whose payload reports a failure (CreateFlowLogs'
 * and DeleteFlowLogs' unsuccessful items, return=false, a revoke's unknownIpPermissionSet) is
 * reported to the observer with the AWS error code, not "OK"; a 200 that cannot be read is
 * "InvalidResponse".
 */
#include "aws_test.h"

#include <criterion/criterion.h>
#include <stdlib.h>

#define FX "tests/fixtures/aws/"

static struct np_aws_ec2 *client(struct fake_net *f)
{
    unsetenv("AWS_ENDPOINT_URL");
    unsetenv("AWS_ENDPOINT_URL_EC2");
    fake_net_init(f);
    return fake_client(f, "http://127.0.0.1:5000", NULL);
}

static const struct np_aws_flow_log_spec s3_spec = {.resource_id = "vpc-1",
                                                    .traffic_type = "REJECT",
                                                    .log_destination_type = "s3",
                                                    .log_destination = "arn:aws:s3:::np-missing"};

Test(accounting, unsuccessful_flow_log_items_are_observed_as_errors)
{
    struct fake_net f;
    struct np_aws_ec2 *c = client(&f);
    fake_net_push_file(&f, 200, FX "create-flow-logs-unsuccessful.xml");
    fake_net_push_file(&f, 200, FX "crafted/delete-flow-logs-unsuccessful.xml");
    fake_net_push_file(&f, 200, FX "create-flow-logs.xml");
    char *id = NULL;
    cr_expect_eq(np_aws_ec2_create_flow_log(c, &id, &s3_spec, NULL, NULL, 0), NP_EINVAL);
    const char *ids[] = {"fl-1"};
    cr_expect_eq(np_aws_ec2_delete_flow_logs(c, ids, 1), NP_ENOTFOUND);
    cr_assert_eq(np_aws_ec2_create_flow_log(c, &id, &s3_spec, NULL, NULL, 0), 0, "%s",
                 np_error_message());
    free(id);
    cr_assert_eq(f.n_obs, 3);
    cr_expect_str_eq(f.obs_codes[0], "400", "the unsuccessful item's code, not OK");
    cr_expect_eq(f.obs_status[0], 200);
    cr_expect_str_eq(f.obs_actions[0], "CreateFlowLogs");
    cr_expect_str_eq(f.obs_codes[1], "InvalidFlowLogId.NotFound");
    cr_expect_str_eq(f.obs_codes[2], "OK");
    cr_expect(np_aws_error_last()->code[0] == '\0', "a success leaves no error code");
    np_aws_ec2_destroy(c);
    fake_net_clean_up(&f);
}

Test(accounting, return_false_and_unknown_permissions_are_observed_as_errors)
{
    struct fake_net f;
    struct np_aws_ec2 *c = client(&f);
    fake_net_push(
        &f, NP_AWS_TRANSPORT_OK, 200,
        "<ModifyVpcAttributeResponse><return>false</return></ModifyVpcAttributeResponse>");
    fake_net_push_file(&f, 200, FX "crafted/revoke-unknown-permissions.xml");
    fake_net_push(&f, NP_AWS_TRANSPORT_OK, 200, "<DeleteSecurityGroupResponse><return>");
    fake_net_push(&f, NP_AWS_TRANSPORT_OK, 200,
                  "<DeleteSecurityGroupResponse><return>true</return>"
                  "</DeleteSecurityGroupResponse>");
    cr_expect_eq(np_aws_ec2_modify_vpc_attribute(c, "vpc-1", NP_AWS_VPC_DNS_SUPPORT, true), NP_EIO);
    struct np_aws_perm perm = {
        (char *)"tcp", true, 22, 22, NP_AWS_PEER_CIDR4, (char *)"198.51.100.0/24", NULL, NULL};
    cr_expect_eq(np_aws_ec2_revoke_ingress(c, "sg-1", &perm, 1), NP_ENOTFOUND);
    cr_expect_neq(np_aws_ec2_delete_security_group(c, "sg-1"), 0, "a truncated answer");
    cr_expect_eq(np_aws_ec2_delete_security_group(c, "sg-1"), 0, "%s", np_error_message());
    cr_assert_eq(f.n_obs, 4);
    cr_expect_str_eq(f.obs_codes[0], "ReturnFalse");
    cr_expect_str_eq(f.obs_codes[1], "InvalidPermission.NotFound");
    cr_expect_str_eq(f.obs_codes[2], "InvalidResponse");
    cr_expect_str_eq(f.obs_codes[3], "OK");
    np_aws_ec2_destroy(c);
    fake_net_clean_up(&f);
}
