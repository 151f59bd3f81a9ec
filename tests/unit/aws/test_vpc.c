/*
 * The VPC-piece operations through the scripted fake transport: the exact form each one sends
 * (parameter names, values, TagSpecification resource types, MaxResults and NextToken), what it
 * hands back, argument checks that send nothing, and AWS errors mapped to NP codes.
 */
#include "aws_test.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#define FX "tests/fixtures/aws/"
#define V "&Version=2016-11-15"

struct op {
    struct fake_net f;
    struct np_aws_ec2 *c;
};

static void op_begin(struct op *o)
{
    unsetenv("AWS_ENDPOINT_URL");
    unsetenv("AWS_ENDPOINT_URL_EC2");
    fake_net_init(&o->f);
    o->c = fake_client(&o->f, "http://127.0.0.1:5000", NULL);
}

static void op_end(struct op *o)
{
    np_aws_ec2_destroy(o->c);
    fake_net_clean_up(&o->f);
}

/* The form body of recorded request i. */
static const char *body(const struct op *o, size_t i)
{
    cr_assert_lt(i, o->f.n_requests, "request %zu was not sent", i);
    return o->f.requests[i].body;
}

static const struct np_aws_tag owner_tags[] = {{(char *)"netposture.dev/owner", (char *)"shop/net"},
                                               {(char *)"Name", NULL}};

/* ---------------------------------------------------------------- VPCs */

Test(vpc_ops, create_and_delete_vpc)
{
    struct op o;
    op_begin(&o);
    fake_net_push_file(&o.f, 200, FX "create-vpc.xml");
    fake_net_push_file(&o.f, 400, FX "error-vpc-dependency-violation.xml");
    fake_net_push_file(&o.f, 200, FX "delete-vpc.xml");
    char *id = NULL;
    cr_assert_eq(np_aws_ec2_create_vpc(o.c, &id, "10.2.0.0/16", owner_tags, 2), 0, "%s",
                 np_error_message());
    cr_expect_str_eq(id, "vpc-6a6a85ad4d0f279ea");
    cr_expect_str_eq(body(&o, 0), "Action=CreateVpc" V "&CidrBlock=10.2.0.0%2F16"
                                  "&TagSpecification.1.ResourceType=vpc"
                                  "&TagSpecification.1.Tag.1.Key=netposture.dev%2Fowner"
                                  "&TagSpecification.1.Tag.1.Value=shop%2Fnet"
                                  "&TagSpecification.1.Tag.2.Key=Name"
                                  "&TagSpecification.1.Tag.2.Value=");
    free(id);
    cr_expect_eq(np_aws_ec2_delete_vpc(o.c, "vpc-1"), NP_EDEPENDENCY);
    cr_expect(np_aws_error_is("DependencyViolation"));
    cr_expect_eq(np_aws_ec2_delete_vpc(o.c, "vpc-1"), 0, "%s", np_error_message());
    cr_expect_str_eq(body(&o, 2), "Action=DeleteVpc" V "&VpcId=vpc-1");

    /* argument errors send nothing */
    id = (char *)0x1;
    cr_expect_eq(np_aws_ec2_create_vpc(o.c, &id, NULL, NULL, 0), NP_EINVAL);
    cr_expect_null(id);
    cr_expect(strstr(np_error_message(), "CreateVpc: CidrBlock is required") != NULL, "%s",
              np_error_message());
    struct np_aws_tag keyless = {(char *)"", (char *)"x"};
    cr_expect_eq(np_aws_ec2_create_vpc(o.c, &id, "10.0.0.0/16", &keyless, 1), NP_EINVAL);
    cr_expect(strstr(np_error_message(), "CreateVpc: tag 1 has no key") != NULL, "%s",
              np_error_message());
    cr_expect_eq(np_aws_ec2_delete_vpc(o.c, ""), NP_EINVAL);
    cr_expect_eq(o.f.n_requests, 3);
    op_end(&o);
}

Test(vpc_ops, vpc_dns_attributes)
{
    struct op o;
    op_begin(&o);
    fake_net_push_file(&o.f, 200, FX "describe-vpc-attribute.xml");
    fake_net_push_file(&o.f, 200, FX "modify-vpc-attribute.xml");
    fake_net_push(&o.f, NP_AWS_TRANSPORT_OK, 200,
                  "<ModifyVpcAttributeResponse><return>true</return></ModifyVpcAttributeResponse>");
    fake_net_push_file(&o.f, 200, FX "describe-vpc-attribute.xml");
    fake_net_push(&o.f, NP_AWS_TRANSPORT_OK, 200,
                  "<DescribeVpcAttributeResponse><enableDnsSupport><value>maybe</value>"
                  "</enableDnsSupport></DescribeVpcAttributeResponse>");
    fake_net_push(
        &o.f, NP_AWS_TRANSPORT_OK, 200,
        "<ModifyVpcAttributeResponse><return>false</return></ModifyVpcAttributeResponse>");
    bool v = false;
    cr_assert_eq(np_aws_ec2_describe_vpc_attribute(o.c, "vpc-1", NP_AWS_VPC_DNS_HOSTNAMES, &v), 0,
                 "%s", np_error_message());
    cr_expect(v);
    cr_expect_str_eq(body(&o, 0),
                     "Action=DescribeVpcAttribute" V "&VpcId=vpc-1&Attribute=enableDnsHostnames");
    cr_assert_eq(np_aws_ec2_modify_vpc_attribute(o.c, "vpc-1", NP_AWS_VPC_DNS_SUPPORT, false), 0);
    cr_expect_str_eq(body(&o, 1),
                     "Action=ModifyVpcAttribute" V "&VpcId=vpc-1&EnableDnsSupport.Value=false");
    cr_assert_eq(np_aws_ec2_modify_vpc_attribute(o.c, "vpc-1", NP_AWS_VPC_DNS_HOSTNAMES, true), 0);
    cr_expect_str_eq(body(&o, 2),
                     "Action=ModifyVpcAttribute" V "&VpcId=vpc-1&EnableDnsHostnames.Value=true");
    /* the answer names the other attribute, a non-boolean value, return=false */
    cr_expect_eq(np_aws_ec2_describe_vpc_attribute(o.c, "vpc-1", NP_AWS_VPC_DNS_SUPPORT, &v),
                 NP_EPARSE);
    cr_expect_eq(np_aws_ec2_describe_vpc_attribute(o.c, "vpc-1", NP_AWS_VPC_DNS_SUPPORT, &v),
                 NP_EPARSE);
    cr_expect_eq(np_aws_ec2_modify_vpc_attribute(o.c, "vpc-1", NP_AWS_VPC_DNS_SUPPORT, true),
                 NP_EIO);
    cr_expect(np_aws_error_is("ReturnFalse"));
    cr_expect_eq(np_aws_ec2_modify_vpc_attribute(o.c, "vpc-1", (enum np_aws_vpc_attribute)7, true),
                 NP_EINVAL);
    cr_expect_eq(np_aws_ec2_describe_vpc_attribute(o.c, NULL, NP_AWS_VPC_DNS_SUPPORT, &v),
                 NP_EINVAL);
    cr_expect_eq(o.f.n_requests, 6);
    op_end(&o);
}

/* ---------------------------------------------------------------- subnets */

Test(vpc_ops, subnets_describe_paginates_create_modify_delete)
{
    struct op o;
    op_begin(&o);
    fake_net_push_file(&o.f, 200, FX "crafted/describe-subnets-page1.xml");
    fake_net_push_file(&o.f, 200, FX "describe-subnets.xml");
    fake_net_push_file(&o.f, 200, FX "create-subnet.xml");
    fake_net_push_file(&o.f, 200, FX "create-subnet.xml");
    fake_net_push_file(&o.f, 200, FX "modify-subnet-attribute.xml");
    fake_net_push_file(&o.f, 200, FX "delete-subnet.xml");
    struct np_aws_filter f = {"vpc-id", (const char *[]){"vpc-1"}, 1};
    struct np_aws_subnet *s = NULL;
    size_t n = 0;
    cr_assert_eq(np_aws_ec2_describe_subnets(o.c, &s, &n, &f, 1), 0, "%s", np_error_message());
    cr_assert_eq(n, 3);
    cr_expect_str_eq(s[0].subnet_id, "subnet-0page1page1page1");
    cr_expect_str_eq(s[2].subnet_id, "subnet-7cea8f206f9ca5610");
    np_aws_subnets_free(s, n);
    const char *first = "Action=DescribeSubnets" V "&Filter.1.Name=vpc-id&Filter.1.Value.1=vpc-1"
                        "&MaxResults=1000";
    cr_expect_str_eq(body(&o, 0), first);
    char *second = np_strdupf("%s&NextToken=subnet-page-2+token%%2F%%2B%%3D", first);
    cr_expect_str_eq(body(&o, 1), second);
    free(second);

    char *id = NULL;
    cr_assert_eq(
        np_aws_ec2_create_subnet(o.c, &id, "vpc-1", "10.2.1.0/24", "us-east-1a", owner_tags, 1), 0,
        "%s", np_error_message());
    cr_expect_str_eq(id, "subnet-d8f20f7b5eadb4073");
    free(id);
    cr_expect_str_eq(body(&o, 2), "Action=CreateSubnet" V "&VpcId=vpc-1&CidrBlock=10.2.1.0%2F24"
                                  "&AvailabilityZone=us-east-1a"
                                  "&TagSpecification.1.ResourceType=subnet"
                                  "&TagSpecification.1.Tag.1.Key=netposture.dev%2Fowner"
                                  "&TagSpecification.1.Tag.1.Value=shop%2Fnet");
    cr_assert_eq(np_aws_ec2_create_subnet(o.c, &id, "vpc-1", "10.2.1.0/24", NULL, NULL, 0), 0);
    free(id);
    cr_expect_str_eq(body(&o, 3), "Action=CreateSubnet" V "&VpcId=vpc-1&CidrBlock=10.2.1.0%2F24",
                     "no zone: AWS picks; no tags: no TagSpecification");
    cr_assert_eq(np_aws_ec2_modify_subnet_map_public_ip(o.c, "subnet-1", true), 0);
    cr_expect_str_eq(body(&o, 4), "Action=ModifySubnetAttribute" V
                                  "&SubnetId=subnet-1&MapPublicIpOnLaunch.Value=true");
    cr_assert_eq(np_aws_ec2_delete_subnet(o.c, "subnet-1"), 0);
    cr_expect_str_eq(body(&o, 5), "Action=DeleteSubnet" V "&SubnetId=subnet-1");
    cr_expect_eq(np_aws_ec2_create_subnet(o.c, &id, "vpc-1", "", NULL, NULL, 0), NP_EINVAL);
    cr_expect_eq(np_aws_ec2_modify_subnet_map_public_ip(o.c, NULL, false), NP_EINVAL);
    cr_expect_eq(o.f.n_requests, 6);
    op_end(&o);
}

/* ---------------------------------------------------------------- route tables */

Test(vpc_ops, route_tables_describe_create_delete)
{
    struct op o;
    op_begin(&o);
    fake_net_push_file(&o.f, 200, FX "crafted/describe-route-tables-aws.xml");
    fake_net_push_file(&o.f, 200, FX "describe-route-tables.xml");
    fake_net_push_file(&o.f, 200, FX "create-route-table.xml");
    fake_net_push_file(&o.f, 200, FX "delete-route-table.xml");
    struct np_aws_route_table *t = NULL;
    size_t n = 0;
    cr_assert_eq(np_aws_ec2_describe_route_tables(o.c, &t, &n, NULL, 0), 0, "%s",
                 np_error_message());
    cr_expect_eq(n, 3);
    np_aws_route_tables_free(t, n);
    cr_expect_str_eq(body(&o, 0), "Action=DescribeRouteTables" V "&MaxResults=100");
    cr_expect_str_eq(body(&o, 1), "Action=DescribeRouteTables" V "&MaxResults=100"
                                  "&NextToken=rtb-page-2");
    char *id = NULL;
    cr_assert_eq(np_aws_ec2_create_route_table(o.c, &id, "vpc-1", "np-tok1", owner_tags, 1), 0,
                 "%s", np_error_message());
    cr_expect_str_eq(id, "rtb-ad1fe79f4983dec43");
    free(id);
    cr_expect_str_eq(body(&o, 2), "Action=CreateRouteTable" V "&VpcId=vpc-1&ClientToken=np-tok1"
                                  "&TagSpecification.1.ResourceType=route-table"
                                  "&TagSpecification.1.Tag.1.Key=netposture.dev%2Fowner"
                                  "&TagSpecification.1.Tag.1.Value=shop%2Fnet");
    cr_assert_eq(np_aws_ec2_delete_route_table(o.c, "rtb-1"), 0);
    cr_expect_str_eq(body(&o, 3), "Action=DeleteRouteTable" V "&RouteTableId=rtb-1");
    op_end(&o);
}

Test(vpc_ops, routes_create_replace_delete_with_each_kind)
{
    struct op o;
    op_begin(&o);
    fake_net_push_file(&o.f, 200, FX "create-route.xml");
    fake_net_push_file(&o.f, 400, FX "error-route-already-exists.xml");
    fake_net_push_file(&o.f, 200, FX "replace-route.xml");
    fake_net_push_file(&o.f, 200, FX "replace-route.xml");
    fake_net_push_file(&o.f, 200, FX "create-route.xml");
    fake_net_push_file(&o.f, 200, FX "delete-route.xml");
    fake_net_push_file(&o.f, 400, FX "error-invalid-route-notfound.xml");
    struct np_aws_route nat = {NP_AWS_ROUTE_DEST_CIDR4,
                               (char *)"0.0.0.0/0",
                               true,
                               NP_AWS_ROUTE_NAT_GATEWAY,
                               (char *)"nat-1",
                               NULL,
                               NULL};
    cr_assert_eq(np_aws_ec2_create_route(o.c, "rtb-1", &nat), 0, "%s", np_error_message());
    cr_expect_str_eq(body(&o, 0), "Action=CreateRoute" V "&RouteTableId=rtb-1"
                                  "&DestinationCidrBlock=0.0.0.0%2F0&NatGatewayId=nat-1");
    cr_expect_eq(np_aws_ec2_create_route(o.c, "rtb-1", &nat), NP_EEXIST);
    cr_expect(np_aws_error_is("RouteAlreadyExists"));
    struct np_aws_route eigw = {
        NP_AWS_ROUTE_DEST_CIDR6, (char *)"::/0", true, NP_AWS_ROUTE_EGRESS_ONLY_IGW,
        (char *)"eigw-1",        NULL,           NULL};
    cr_assert_eq(np_aws_ec2_replace_route(o.c, "rtb-1", &eigw), 0, "%s", np_error_message());
    cr_expect_str_eq(body(&o, 2), "Action=ReplaceRoute" V "&RouteTableId=rtb-1"
                                  "&DestinationIpv6CidrBlock=%3A%3A%2F0"
                                  "&EgressOnlyInternetGatewayId=eigw-1");
    struct np_aws_route local = {NP_AWS_ROUTE_DEST_CIDR4,
                                 (char *)"10.0.0.0/16",
                                 true,
                                 NP_AWS_ROUTE_GATEWAY,
                                 (char *)"local",
                                 NULL,
                                 NULL};
    cr_assert_eq(np_aws_ec2_replace_route(o.c, "rtb-1", &local), 0, "%s", np_error_message());
    cr_expect_str_eq(body(&o, 3), "Action=ReplaceRoute" V "&RouteTableId=rtb-1"
                                  "&DestinationCidrBlock=10.0.0.0%2F16&LocalTarget=true");
    struct np_aws_route core = {
        NP_AWS_ROUTE_DEST_PREFIX_LIST, (char *)"pl-1", true, NP_AWS_ROUTE_CORE_NETWORK,
        (char *)"arn:aws:x",           NULL,           NULL};
    cr_assert_eq(np_aws_ec2_create_route(o.c, "rtb-1", &core), 0, "%s", np_error_message());
    cr_expect_str_eq(body(&o, 4), "Action=CreateRoute" V "&RouteTableId=rtb-1"
                                  "&DestinationPrefixListId=pl-1&CoreNetworkArn=arn%3Aaws%3Ax");
    cr_assert_eq(np_aws_ec2_delete_route(o.c, "rtb-1", NP_AWS_ROUTE_DEST_CIDR6, "::/0"), 0);
    cr_expect_str_eq(body(&o, 5), "Action=DeleteRoute" V "&RouteTableId=rtb-1"
                                  "&DestinationIpv6CidrBlock=%3A%3A%2F0");
    cr_expect_eq(np_aws_ec2_delete_route(o.c, "rtb-1", NP_AWS_ROUTE_DEST_CIDR6, "::/0"),
                 NP_ENOTFOUND);

    /* argument errors send nothing */
    struct np_aws_route no_target = nat;
    no_target.has_target = false;
    cr_expect_eq(np_aws_ec2_create_route(o.c, "rtb-1", &no_target), NP_EINVAL);
    struct np_aws_route bad_kind = nat;
    bad_kind.target_kind = NP_AWS_ROUTE_TARGET_COUNT;
    cr_expect_eq(np_aws_ec2_replace_route(o.c, "rtb-1", &bad_kind), NP_EINVAL);
    cr_expect_eq(np_aws_ec2_create_route(o.c, "rtb-1", NULL), NP_EINVAL);
    cr_expect_eq(np_aws_ec2_create_route(o.c, "", &nat), NP_EINVAL);
    struct np_aws_route no_dest = nat;
    no_dest.destination = NULL;
    cr_expect_eq(np_aws_ec2_create_route(o.c, "rtb-1", &no_dest), NP_EINVAL);
    cr_expect_eq(np_aws_ec2_delete_route(o.c, "rtb-1", (enum np_aws_route_dest)9, "x"), NP_EINVAL);
    cr_expect_eq(o.f.n_requests, 7);
    op_end(&o);
}

Test(vpc_ops, route_table_associations)
{
    struct op o;
    op_begin(&o);
    fake_net_push_file(&o.f, 200, FX "associate-route-table.xml");
    fake_net_push_file(&o.f, 200, FX "associate-route-table.xml");
    fake_net_push_file(&o.f, 200, FX "replace-route-table-association.xml");
    fake_net_push_file(&o.f, 200, FX "disassociate-route-table.xml");
    fake_net_push(&o.f, NP_AWS_TRANSPORT_OK, 200,
                  "<AssociateRouteTableResponse><requestId>r</requestId>"
                  "</AssociateRouteTableResponse>");
    char *id = NULL;
    cr_assert_eq(np_aws_ec2_associate_route_table(o.c, "rtb-1", "subnet-1", &id), 0, "%s",
                 np_error_message());
    cr_expect_str_eq(id, "rtbassoc-3aca603e98f800605");
    free(id);
    cr_expect_str_eq(body(&o, 0),
                     "Action=AssociateRouteTable" V "&RouteTableId=rtb-1&SubnetId=subnet-1");
    cr_assert_eq(np_aws_ec2_associate_route_table(o.c, "rtb-1", "subnet-1", NULL), 0);
    cr_assert_eq(np_aws_ec2_replace_route_table_association(o.c, "rtbassoc-1", "rtb-2", &id), 0);
    cr_expect_str_eq(id, "rtbassoc-795c6f8ab21477bbb");
    free(id);
    cr_expect_str_eq(body(&o, 2), "Action=ReplaceRouteTableAssociation" V
                                  "&AssociationId=rtbassoc-1&RouteTableId=rtb-2");
    cr_assert_eq(np_aws_ec2_disassociate_route_table(o.c, "rtbassoc-2"), 0);
    cr_expect_str_eq(body(&o, 3), "Action=DisassociateRouteTable" V "&AssociationId=rtbassoc-2");
    id = (char *)0x1;
    cr_expect_eq(np_aws_ec2_associate_route_table(o.c, "rtb-1", "subnet-1", &id), NP_EPARSE,
                 "an answer without associationId");
    cr_expect_null(id);
    cr_expect_eq(np_aws_ec2_associate_route_table(o.c, "rtb-1", NULL, &id), NP_EINVAL);
    cr_expect_eq(np_aws_ec2_disassociate_route_table(o.c, ""), NP_EINVAL);
    cr_expect_eq(o.f.n_requests, 5);
    op_end(&o);
}

/* ---------------------------------------------------------------- network ACLs */

Test(vpc_ops, network_acls_describe_create_delete_and_association)
{
    struct op o;
    op_begin(&o);
    fake_net_push_file(&o.f, 200, FX "describe-network-acls.xml");
    fake_net_push_file(&o.f, 200, FX "create-network-acl.xml");
    fake_net_push_file(&o.f, 400, FX "error-nacl-dependency-violation.xml");
    fake_net_push_file(&o.f, 200, FX "replace-network-acl-association.xml");
    struct np_aws_filter f = {"default", (const char *[]){"true"}, 1};
    struct np_aws_nacl *a = NULL;
    size_t n = 0;
    cr_assert_eq(np_aws_ec2_describe_network_acls(o.c, &a, &n, &f, 1), 0, "%s", np_error_message());
    cr_expect_eq(n, 2);
    np_aws_nacls_free(a, n);
    cr_expect_str_eq(body(&o, 0), "Action=DescribeNetworkAcls" V
                                  "&Filter.1.Name=default&Filter.1.Value.1=true&MaxResults=1000");
    char *id = NULL;
    cr_assert_eq(np_aws_ec2_create_network_acl(o.c, &id, "vpc-1", NULL, owner_tags, 2), 0, "%s",
                 np_error_message());
    cr_expect(np_str_has_prefix(id, "acl-"), "%s", id);
    free(id);
    cr_expect(np_str_has_prefix(body(&o, 1), "Action=CreateNetworkAcl" V "&VpcId=vpc-1"
                                             "&TagSpecification.1.ResourceType=network-acl&"));
    cr_expect_eq(np_aws_ec2_delete_network_acl(o.c, "acl-1"), NP_EDEPENDENCY);
    cr_expect_str_eq(body(&o, 2), "Action=DeleteNetworkAcl" V "&NetworkAclId=acl-1");
    cr_assert_eq(np_aws_ec2_replace_network_acl_association(o.c, "aclassoc-1", "acl-2", &id), 0);
    cr_expect(np_str_has_prefix(id, "aclassoc-"), "%s", id);
    free(id);
    cr_expect_str_eq(body(&o, 3), "Action=ReplaceNetworkAclAssociation" V
                                  "&AssociationId=aclassoc-1&NetworkAclId=acl-2");
    cr_expect_eq(np_aws_ec2_replace_network_acl_association(o.c, "aclassoc-1", NULL, NULL),
                 NP_EINVAL);
    cr_expect_eq(o.f.n_requests, 4);
    op_end(&o);
}

Test(vpc_ops, network_acl_entries)
{
    struct op o;
    op_begin(&o);
    fake_net_push_file(&o.f, 200, FX "create-network-acl-entry.xml");
    fake_net_push_file(&o.f, 400, FX "error-network-acl-entry-already-exists.xml");
    fake_net_push_file(&o.f, 200, FX "replace-network-acl-entry.xml");
    fake_net_push_file(&o.f, 200, FX "create-network-acl-entry.xml");
    fake_net_push_file(&o.f, 200, FX "delete-network-acl-entry.xml");
    struct np_aws_nacl_entry https = {.rule_number = 100,
                                      .egress = false,
                                      .protocol = (char *)"6",
                                      .allow = true,
                                      .cidr = (char *)"10.0.0.0/8",
                                      .has_ports = true,
                                      .from_port = 443,
                                      .to_port = 443};
    cr_assert_eq(np_aws_ec2_create_network_acl_entry(o.c, "acl-1", &https), 0, "%s",
                 np_error_message());
    cr_expect_str_eq(body(&o, 0), "Action=CreateNetworkAclEntry" V "&NetworkAclId=acl-1"
                                  "&RuleNumber=100&Protocol=6&RuleAction=allow&Egress=false"
                                  "&CidrBlock=10.0.0.0%2F8&PortRange.From=443&PortRange.To=443");
    cr_expect_eq(np_aws_ec2_create_network_acl_entry(o.c, "acl-1", &https), NP_EEXIST);
    struct np_aws_nacl_entry icmp = {.rule_number = 110,
                                     .egress = true,
                                     .protocol = (char *)"1",
                                     .allow = false,
                                     .cidr = (char *)"0.0.0.0/0",
                                     .has_icmp = true,
                                     .icmp_type = 3,
                                     .icmp_code = -1};
    cr_assert_eq(np_aws_ec2_replace_network_acl_entry(o.c, "acl-1", &icmp), 0, "%s",
                 np_error_message());
    cr_expect_str_eq(body(&o, 2), "Action=ReplaceNetworkAclEntry" V "&NetworkAclId=acl-1"
                                  "&RuleNumber=110&Protocol=1&RuleAction=deny&Egress=true"
                                  "&CidrBlock=0.0.0.0%2F0&Icmp.Type=3&Icmp.Code=-1");
    struct np_aws_nacl_entry v6 = {.rule_number = 120,
                                   .egress = true,
                                   .protocol = (char *)"-1",
                                   .allow = true,
                                   .ipv6_cidr = (char *)"::/0"};
    cr_assert_eq(np_aws_ec2_create_network_acl_entry(o.c, "acl-1", &v6), 0, "%s",
                 np_error_message());
    cr_expect_str_eq(body(&o, 3), "Action=CreateNetworkAclEntry" V "&NetworkAclId=acl-1"
                                  "&RuleNumber=120&Protocol=-1&RuleAction=allow&Egress=true"
                                  "&Ipv6CidrBlock=%3A%3A%2F0");
    cr_assert_eq(np_aws_ec2_delete_network_acl_entry(o.c, "acl-1", 120, true), 0);
    cr_expect_str_eq(body(&o, 4), "Action=DeleteNetworkAclEntry" V
                                  "&NetworkAclId=acl-1&RuleNumber=120&Egress=true");

    /* argument errors send nothing */
    struct np_aws_nacl_entry bad = https;
    bad.ipv6_cidr = (char *)"::/0";
    cr_expect_eq(np_aws_ec2_create_network_acl_entry(o.c, "acl-1", &bad), NP_EINVAL,
                 "both CIDR blocks");
    bad = https;
    bad.cidr = NULL;
    cr_expect_eq(np_aws_ec2_create_network_acl_entry(o.c, "acl-1", &bad), NP_EINVAL, "no block");
    bad = https;
    bad.rule_number = 32767;
    cr_expect_eq(np_aws_ec2_replace_network_acl_entry(o.c, "acl-1", &bad), NP_EINVAL,
                 "the default entry cannot be replaced");
    bad = https;
    bad.protocol = NULL;
    cr_expect_eq(np_aws_ec2_create_network_acl_entry(o.c, "acl-1", &bad), NP_EINVAL);
    cr_expect(strstr(np_error_message(), "Protocol is required") != NULL, "%s", np_error_message());
    cr_expect_eq(np_aws_ec2_create_network_acl_entry(o.c, "acl-1", NULL), NP_EINVAL);
    cr_expect_eq(np_aws_ec2_delete_network_acl_entry(o.c, NULL, 1, false), NP_EINVAL);
    cr_expect_eq(o.f.n_requests, 5);
    op_end(&o);
}

/* ---------------------------------------------------------------- flow logs */

Test(vpc_ops, flow_logs_create_describe_delete)
{
    struct op o;
    op_begin(&o);
    fake_net_push_file(&o.f, 200, FX "create-flow-logs.xml");
    fake_net_push_file(&o.f, 200, FX "create-flow-logs-unsuccessful.xml");
    fake_net_push_file(&o.f, 200, FX "crafted/describe-flow-logs-aws.xml");
    fake_net_push_file(&o.f, 200, FX "describe-flow-logs.xml");
    fake_net_push_file(&o.f, 200, FX "delete-flow-logs.xml");
    fake_net_push_file(&o.f, 200, FX "crafted/delete-flow-logs-unsuccessful.xml");
    fake_net_push_file(&o.f, 400, FX "error-invalid-flow-log-id-notfound.xml");
    struct np_aws_flow_log_spec spec = {
        .resource_id = "vpc-1",
        .traffic_type = "ALL",
        .log_destination_type = "cloud-watch-logs",
        .log_destination = "arn:aws:logs:us-east-1:123456789012:log-group:np-flow",
        .deliver_logs_permission_arn = "arn:aws:iam::123456789012:role/np-flow",
    };
    char *id = NULL;
    cr_assert_eq(np_aws_ec2_create_flow_log(o.c, &id, &spec, "np-tok2", owner_tags, 1), 0, "%s",
                 np_error_message());
    cr_expect_str_eq(id, "fl-e9c11bbf660e4cc09");
    free(id);
    cr_expect_str_eq(body(&o, 0),
                     "Action=CreateFlowLogs" V "&ResourceId.1=vpc-1&ResourceType=VPC"
                     "&TrafficType=ALL&LogDestinationType=cloud-watch-logs"
                     "&LogDestination=arn%3Aaws%3Alogs%3Aus-east-1%3A123456789012%3Alog-group"
                     "%3Anp-flow&DeliverLogsPermissionArn=arn%3Aaws%3Aiam%3A%3A123456789012"
                     "%3Arole%2Fnp-flow&ClientToken=np-tok2"
                     "&TagSpecification.1.ResourceType=vpc-flow-log"
                     "&TagSpecification.1.Tag.1.Key=netposture.dev%2Fowner"
                     "&TagSpecification.1.Tag.1.Value=shop%2Fnet");
    struct np_aws_flow_log_spec s3 = {.resource_id = "vpc-1",
                                      .traffic_type = "REJECT",
                                      .log_destination_type = "s3",
                                      .log_destination = "arn:aws:s3:::np-missing-bucket"};
    id = (char *)0x1;
    cr_expect_eq(np_aws_ec2_create_flow_log(o.c, &id, &s3, NULL, NULL, 0), NP_EINVAL);
    cr_expect_null(id);
    cr_expect(np_aws_error_is("400"), "the unsuccessful item's code");
    cr_expect(strstr(np_error_message(), "np-missing-bucket does not exist") != NULL, "%s",
              np_error_message());
    cr_expect_str_eq(body(&o, 1), "Action=CreateFlowLogs" V "&ResourceId.1=vpc-1"
                                  "&ResourceType=VPC&TrafficType=REJECT&LogDestinationType=s3"
                                  "&LogDestination=arn%3Aaws%3As3%3A%3A%3Anp-missing-bucket");

    struct np_aws_filter f = {"resource-id", (const char *[]){"vpc-1"}, 1};
    struct np_aws_flow_log *logs = NULL;
    size_t n = 0;
    cr_assert_eq(np_aws_ec2_describe_flow_logs(o.c, &logs, &n, &f, 1), 0, "%s", np_error_message());
    cr_expect_eq(n, 3);
    np_aws_flow_logs_free(logs, n);
    cr_expect_str_eq(body(&o, 2),
                     "Action=DescribeFlowLogs" V "&Filter.1.Name=resource-id&Filter.1.Value.1=vpc-1"
                     "&MaxResults=1000");
    cr_expect(strstr(body(&o, 3), "&NextToken=fl-page-2") != NULL);

    const char *ids[] = {"fl-1", "fl-2"};
    cr_assert_eq(np_aws_ec2_delete_flow_logs(o.c, ids, 2), 0, "%s", np_error_message());
    cr_expect_str_eq(body(&o, 4), "Action=DeleteFlowLogs" V "&FlowLogId.1=fl-1&FlowLogId.2=fl-2");
    cr_expect_eq(np_aws_ec2_delete_flow_logs(o.c, ids, 1), NP_ENOTFOUND,
                 "AWS: 200 with an unsuccessful item");
    cr_expect(np_aws_error_is("InvalidFlowLogId.NotFound"));
    cr_expect_eq(np_aws_ec2_delete_flow_logs(o.c, ids, 1), NP_ENOTFOUND, "moto: a 400");

    /* nothing sent */
    cr_expect_eq(np_aws_ec2_delete_flow_logs(o.c, NULL, 0), 0);
    const char *empty[] = {"fl-1", ""};
    cr_expect_eq(np_aws_ec2_delete_flow_logs(o.c, empty, 2), NP_EINVAL);
    struct np_aws_flow_log_spec no_traffic = spec;
    no_traffic.traffic_type = NULL;
    cr_expect_eq(np_aws_ec2_create_flow_log(o.c, &id, &no_traffic, NULL, NULL, 0), NP_EINVAL);
    cr_expect(strstr(np_error_message(), "TrafficType") != NULL, "%s", np_error_message());
    cr_expect_eq(np_aws_ec2_create_flow_log(o.c, &id, NULL, NULL, NULL, 0), NP_EINVAL);
    cr_expect_eq(o.f.n_requests, 7);
    op_end(&o);
}

Test(vpc_ops, describe_failure_returns_nothing)
{
    struct op o;
    op_begin(&o);
    fake_net_push_file(&o.f, 200, FX "crafted/describe-network-acls-aws.xml");
    fake_net_push_file(&o.f, 200, FX "crafted/describe-network-acls-aws.xml");
    fake_net_push_file(&o.f, 403, FX "error-auth-failure.xml");
    struct np_aws_nacl *a = (struct np_aws_nacl *)0x1;
    size_t n = 5;
    cr_expect_eq(np_aws_ec2_describe_network_acls(o.c, &a, &n, NULL, 0), NP_EPARSE,
                 "the same token twice");
    cr_expect_null(a);
    cr_expect_eq(n, 0);
    struct np_aws_subnet *s = (struct np_aws_subnet *)0x1;
    cr_expect_eq(np_aws_ec2_describe_subnets(o.c, &s, &n, NULL, 0), NP_EAUTH);
    cr_expect_null(s);
    op_end(&o);
}
