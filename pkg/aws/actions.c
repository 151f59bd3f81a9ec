/*
 * Every AWS API action the clients can call. np_aws_call_send refuses any other, so this list
 * is complete by construction, and tests/unit/aws/test_iam.c holds it against the IAM policy
 * users attach (manifests/aws/iam-policy.json): the policy grants exactly these, no more.
 */
#include "aws/aws.h"

#include <string.h>

const struct np_aws_action np_aws_actions[] = {
    /* observe */
    {"ec2", "DescribeSecurityGroups", true},
    {"ec2", "DescribeVpcs", true},
    {"ec2", "DescribeVpcAttribute", true},
    {"ec2", "DescribeSubnets", true},
    {"ec2", "DescribeRouteTables", true},
    {"ec2", "DescribeNetworkAcls", true},
    {"ec2", "DescribeFlowLogs", true},
    /* create (tagged in the same call) */
    {"ec2", "CreateSecurityGroup", true},
    {"ec2", "CreateVpc", true},
    {"ec2", "CreateSubnet", true},
    {"ec2", "CreateRouteTable", true},
    {"ec2", "CreateNetworkAcl", true},
    {"ec2", "CreateFlowLogs", true},
    /* repair and delete what we own */
    {"ec2", "AuthorizeSecurityGroupIngress", true},
    {"ec2", "AuthorizeSecurityGroupEgress", true},
    {"ec2", "RevokeSecurityGroupIngress", true},
    {"ec2", "RevokeSecurityGroupEgress", true},
    {"ec2", "UpdateSecurityGroupRuleDescriptionsIngress", true},
    {"ec2", "UpdateSecurityGroupRuleDescriptionsEgress", true},
    {"ec2", "CreateTags", true},
    {"ec2", "DeleteTags", true},
    {"ec2", "DeleteSecurityGroup", true},
    {"ec2", "ModifyVpcAttribute", true},
    {"ec2", "DeleteVpc", true},
    {"ec2", "ModifySubnetAttribute", true},
    {"ec2", "DeleteSubnet", true},
    {"ec2", "CreateRoute", true},
    {"ec2", "ReplaceRoute", true},
    {"ec2", "DeleteRoute", true},
    {"ec2", "AssociateRouteTable", true},
    {"ec2", "DisassociateRouteTable", true},
    {"ec2", "ReplaceRouteTableAssociation", true},
    {"ec2", "DeleteRouteTable", true},
    {"ec2", "CreateNetworkAclEntry", true},
    {"ec2", "ReplaceNetworkAclEntry", true},
    {"ec2", "DeleteNetworkAclEntry", true},
    {"ec2", "ReplaceNetworkAclAssociation", true},
    {"ec2", "DeleteNetworkAcl", true},
    {"ec2", "DeleteFlowLogs", true},
    /* identity and credentials */
    {"sts", "GetCallerIdentity", true},
    {"sts", "AssumeRole", true},
    {"sts", "AssumeRoleWithWebIdentity", false}, /* unsigned: the role's trust policy decides */
    /* events */
    {"sqs", "ReceiveMessage", true},
    {"sqs", "DeleteMessage", true},
    {"sqs", "GetQueueAttributes", true},
    {"cloudtrail", "LookupEvents", true},
};

const size_t np_aws_n_actions = sizeof(np_aws_actions) / sizeof(np_aws_actions[0]);

bool np_aws_action_known(const char *service, const char *action)
{
    for (size_t i = 0; service && action && i < np_aws_n_actions; i++)
        if (strcmp(np_aws_actions[i].service, service) == 0 &&
            strcmp(np_aws_actions[i].action, action) == 0)
            return true;
    return false;
}
