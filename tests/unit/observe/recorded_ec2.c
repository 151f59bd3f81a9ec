/*
 * The recorded EC2 answers of tests/fixtures/aws served by Action (recorded_ec2.h).
 */
#include "recorded_ec2.h"

#include "core/core.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

/* The recorded DescribeVpcAttribute answer (enableDnsHostnames) as the answer for
 * enableDnsSupport: the element renamed, open and close tag (takes xml, returns owned). */
static char *same_for_dns_support(char *xml)
{
    static const char from[] = "enableDnsHostnames", to[] = "enableDnsSupport";
    struct np_buf b = NP_BUF_INIT;
    const char *p = xml, *at;
    while ((at = strstr(p, from)) != NULL) {
        np_buf_appendf(&b, "%.*s%s", (int)(at - p), p, to);
        p = at + strlen(from);
    }
    np_buf_puts(&b, p);
    free(xml);
    return np_buf_take(&b);
}

/* The recorded answer to the request's Action (Describe* of tests/fixtures/aws: the VPCs list
 * vpc-c454068d884c361e2 and its groups; the pieces recorded are another VPC's). */
static void answer(void *ctx, const struct fake_req *req, struct fake_conn *conn)
{
    (void)ctx;
    static const char *const actions[][2] = {
        {"Action=DescribeSecurityGroups", "describe-security-groups"},
        {"Action=DescribeVpcs", "describe-vpcs"},
        {"Action=DescribeVpcAttribute", "describe-vpc-attribute"},
        {"Action=DescribeSubnets", "describe-subnets"},
        {"Action=DescribeRouteTables", "describe-route-tables"},
        {"Action=DescribeNetworkAcls", "describe-network-acls"},
        {"Action=DescribeFlowLogs", "describe-flow-logs"},
    };
    for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
        if (req->body && strstr(req->body, actions[i][0])) {
            char *name = np_strdupf("%s.xml", actions[i][1]);
            char *xml = scratch_read("tests/fixtures/aws", name);
            cr_assert_not_null(xml, "tests/fixtures/aws/%s", name);
            if (strstr(req->body, "Attribute=enableDnsSupport"))
                xml = same_for_dns_support(xml);
            fake_reply(conn, 200, xml);
            free(xml);
            free(name);
            return;
        }
    fake_reply(conn, 400,
               "<Response><Errors><Error><Code>InvalidAction</Code></Error></Errors></Response>");
}

struct fake_server *recorded_ec2_start(void)
{
    setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
    unsetenv("AWS_SESSION_TOKEN");
    return fake_server_start(answer, NULL);
}
