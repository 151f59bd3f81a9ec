/*
 * Decoder tests for the VPC pieces over recorded moto answers and crafted AWS-shaped documents
 * (tests/fixtures/aws/): subnets, route tables (destination and target choice, associations),
 * network ACL entries (ports, ICMP, IPv6), flow logs, Create/DeleteFlowLogs results, single
 * values, pagination across pages, and refusal of malformed items.
 */
#include "aws_test.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#define FX "tests/fixtures/aws/"

static int decode_file(const struct np_aws_xml_list *kind, const char *path, void **items,
                       size_t *n, char **token)
{
    size_t len = 0;
    char *xml = fixture_read(path, &len);
    int rc = np_aws_xml_decode_list(kind, xml, len, items, n, token);
    free(xml);
    return rc;
}

static int decode_str(const struct np_aws_xml_list *kind, const char *xml)
{
    void *items = (void *)0x1;
    size_t n = 77;
    int rc = np_aws_xml_decode_list(kind, xml, strlen(xml), &items, &n, NULL);
    if (rc == 0)
        kind->free_items(items, n);
    else
        cr_expect(items == (void *)0x1 && n == 77, "outputs untouched on error");
    return rc;
}

static void expect_tag(const struct np_aws_tag *t, const char *key, const char *value)
{
    cr_expect_str_eq(t->key, key);
    cr_expect_str_eq(t->value, value);
}

/* ---------------------------------------------------------------- subnets */

Test(xml_subnet, recorded_subnets)
{
    void *items = NULL;
    size_t n = 0;
    char *token = NULL;
    cr_assert_eq(decode_file(&np_aws_xml_subnets, FX "describe-subnets.xml", &items, &n, &token), 0,
                 "%s", np_error_message());
    struct np_aws_subnet *s = items;
    cr_assert_eq(n, 2);
    cr_expect_null(token);
    cr_expect_str_eq(s[0].subnet_id, "subnet-d8f20f7b5eadb4073");
    cr_expect_str_eq(s[0].vpc_id, "vpc-6a6a85ad4d0f279ea");
    cr_expect_str_eq(s[0].cidr_block, "10.2.1.0/24");
    cr_expect_str_eq(s[0].availability_zone, "us-east-1a");
    cr_expect_str_eq(s[0].state, "available");
    cr_expect(s[0].map_public_ip_on_launch);
    cr_assert_eq(s[0].n_tags, 1);
    expect_tag(&s[0].tags[0], "Name", "net-a");
    cr_expect_str_eq(s[1].subnet_id, "subnet-7cea8f206f9ca5610");
    cr_expect_str_eq(s[1].availability_zone, "us-east-1b");
    cr_expect_not(s[1].map_public_ip_on_launch);
    cr_expect_eq(s[1].n_tags, 0);
    cr_expect_null(s[1].tags);
    np_aws_subnets_free(s, n);
}

Test(xml_subnet, aws_shape_page_with_token_and_nested_cidrs)
{
    void *items = NULL;
    size_t n = 0;
    char *token = NULL;
    cr_assert_eq(decode_file(&np_aws_xml_subnets, FX "crafted/describe-subnets-page1.xml", &items,
                             &n, &token),
                 0, "%s", np_error_message());
    struct np_aws_subnet *s = items;
    cr_assert_eq(n, 1);
    cr_expect_str_eq(token, "subnet-page-2 token/+=");
    cr_expect_str_eq(s[0].cidr_block, "10.0.128.0/20", "not the IPv6 association's block");
    cr_expect_str_eq(s[0].availability_zone, "us-east-1c");
    cr_assert_eq(s[0].n_tags, 2);
    expect_tag(&s[0].tags[0], "Name", "private & quiet");
    free(token);
    np_aws_subnets_free(s, n);
}

Test(xml_subnet, malformed_items_are_refused)
{
    cr_expect_eq(decode_str(&np_aws_xml_subnets,
                            "<DescribeSubnetsResponse><subnetSet><item><vpcId>vpc-1</vpcId>"
                            "</item></subnetSet></DescribeSubnetsResponse>"),
                 NP_EPARSE);
    cr_expect(strstr(np_error_message(), "subnetSet item has no subnetId") != NULL, "%s",
              np_error_message());
    cr_expect_eq(decode_str(&np_aws_xml_subnets,
                            "<DescribeSubnetsResponse><subnetSet><item><subnetId>subnet-1"
                            "</subnetId><mapPublicIpOnLaunch>yes</mapPublicIpOnLaunch></item>"
                            "</subnetSet></DescribeSubnetsResponse>"),
                 NP_EPARSE);
    cr_expect_eq(decode_str(&np_aws_xml_subnets,
                            "<DescribeSubnetsResponse><subnetSet><item><subnetId>subnet-1"
                            "</subnetId><tagSet><item><value>v</value></item></tagSet></item>"
                            "</subnetSet></DescribeSubnetsResponse>"),
                 NP_EPARSE, "a tag without a key");
    /* another action's answer */
    void *items = NULL;
    size_t n = 0;
    cr_expect_eq(decode_file(&np_aws_xml_subnets, FX "describe-vpcs.xml", &items, &n, NULL),
                 NP_EPARSE);
    cr_expect(strstr(np_error_message(), "DescribeSubnetsResponse") != NULL, "%s",
              np_error_message());
}

/* ---------------------------------------------------------------- route tables */

static void expect_route(const struct np_aws_route *r, enum np_aws_route_dest dk, const char *dest,
                         bool has_target, enum np_aws_route_target tk, const char *target,
                         const char *origin, const char *state)
{
    cr_expect_eq(r->dest_kind, dk, "%s: dest kind", dest);
    cr_expect_str_eq(r->destination, dest);
    cr_expect_eq(r->has_target, has_target, "%s: has_target", dest);
    if (has_target) {
        cr_expect_eq(r->target_kind, tk, "%s: target kind %d want %d", dest, r->target_kind, tk);
        cr_expect_str_eq(r->target, target);
    } else {
        cr_expect_null(r->target, "%s: target", dest);
    }
    cr_expect(np_str_eq(r->origin, origin), "%s: origin %s", dest, r->origin);
    cr_expect(np_str_eq(r->state, state), "%s: state %s", dest, r->state);
}

Test(xml_route_table, recorded_tables_routes_and_associations)
{
    void *items = NULL;
    size_t n = 0;
    cr_assert_eq(
        decode_file(&np_aws_xml_route_tables, FX "describe-route-tables.xml", &items, &n, NULL), 0,
        "%s", np_error_message());
    struct np_aws_route_table *t = items;
    cr_assert_eq(n, 2);
    cr_expect_str_eq(t[0].route_table_id, "rtb-b241c0d33be6e4a70");
    cr_expect_str_eq(t[0].vpc_id, "vpc-6a6a85ad4d0f279ea");
    cr_assert_eq(t[0].n_assocs, 1);
    cr_expect_str_eq(t[0].assocs[0].association_id, "rtbassoc-73a8c978840a80156");
    cr_expect(t[0].assocs[0].main);
    cr_expect_null(t[0].assocs[0].subnet_id);
    cr_assert_eq(t[0].n_routes, 1);
    expect_route(&t[0].routes[0], NP_AWS_ROUTE_DEST_CIDR4, "10.2.0.0/16", true,
                 NP_AWS_ROUTE_GATEWAY, "local", "CreateRouteTable", "active");
    cr_expect_eq(t[0].n_tags, 0);

    cr_expect_str_eq(t[1].route_table_id, "rtb-ad1fe79f4983dec43");
    cr_assert_eq(t[1].n_assocs, 1);
    cr_expect_str_eq(t[1].assocs[0].association_id, "rtbassoc-3aca603e98f800605");
    cr_expect_str_eq(t[1].assocs[0].subnet_id, "subnet-d8f20f7b5eadb4073");
    cr_expect_not(t[1].assocs[0].main);
    cr_assert_eq(t[1].n_routes, 3);
    expect_route(&t[1].routes[1], NP_AWS_ROUTE_DEST_CIDR4, "0.0.0.0/0", true, NP_AWS_ROUTE_GATEWAY,
                 "igw-303edd7b42a4df6e3", "CreateRoute", "active");
    expect_route(&t[1].routes[2], NP_AWS_ROUTE_DEST_CIDR6, "::/0", true, NP_AWS_ROUTE_GATEWAY,
                 "igw-303edd7b42a4df6e3", "CreateRoute", "active");
    cr_assert_eq(t[1].n_tags, 1);
    expect_tag(&t[1].tags[0], "Name", "public");
    np_aws_route_tables_free(t, n);
}

Test(xml_route_table, aws_shape_every_target_kind_first_present_wins)
{
    void *items = NULL;
    size_t n = 0;
    char *token = NULL;
    cr_assert_eq(decode_file(&np_aws_xml_route_tables, FX "crafted/describe-route-tables-aws.xml",
                             &items, &n, &token),
                 0, "%s", np_error_message());
    struct np_aws_route_table *t = items;
    cr_assert_eq(n, 1);
    cr_expect_str_eq(token, "rtb-page-2");
    cr_assert_eq(t->n_routes, 12);
    const struct np_aws_route *r = t->routes;
    expect_route(&r[0], NP_AWS_ROUTE_DEST_CIDR4, "10.0.0.0/16", true, NP_AWS_ROUTE_GATEWAY, "local",
                 "CreateRouteTable", "active");
    /* an empty <gatewayId/> is no target: the NAT gateway is */
    expect_route(&r[1], NP_AWS_ROUTE_DEST_CIDR4, "0.0.0.0/0", true, NP_AWS_ROUTE_NAT_GATEWAY,
                 "nat-0aaaaaaaaaaaaaaaa", "CreateRoute", "active");
    /* an instance route also names its interface, listed first: the instance wins */
    expect_route(&r[2], NP_AWS_ROUTE_DEST_CIDR4, "10.9.0.0/16", true, NP_AWS_ROUTE_INSTANCE,
                 "i-0aaaaaaaaaaaaaaaa", "CreateRoute", "active");
    expect_route(&r[3], NP_AWS_ROUTE_DEST_CIDR4, "172.16.0.0/12", true,
                 NP_AWS_ROUTE_TRANSIT_GATEWAY, "tgw-0aaaaaaaaaaaaaaaa", "CreateRoute", "active");
    expect_route(&r[4], NP_AWS_ROUTE_DEST_CIDR4, "192.168.0.0/16", true, NP_AWS_ROUTE_VPC_PEERING,
                 "pcx-0aaaaaaaaaaaaaaaa", "CreateRoute", "active");
    expect_route(&r[5], NP_AWS_ROUTE_DEST_CIDR6, "::/0", true, NP_AWS_ROUTE_EGRESS_ONLY_IGW,
                 "eigw-0aaaaaaaaaaaaaaaa", "CreateRoute", "active");
    expect_route(&r[6], NP_AWS_ROUTE_DEST_PREFIX_LIST, "pl-63a5400a", true, NP_AWS_ROUTE_GATEWAY,
                 "vpce-0aaaaaaaaaaaaaaaa", "CreateRoute", "active");
    expect_route(&r[7], NP_AWS_ROUTE_DEST_CIDR4, "10.50.0.0/16", true, NP_AWS_ROUTE_NAT_GATEWAY,
                 "nat-0deaddeaddeaddead", "CreateRoute", "blackhole");
    expect_route(&r[8], NP_AWS_ROUTE_DEST_CIDR4, "10.60.0.0/16", true, NP_AWS_ROUTE_CORE_NETWORK,
                 "arn:aws:networkmanager::123456789012:core-network/core-network-0aaaaaaaaaaaaaaaa",
                 "CreateRoute", "active");
    expect_route(&r[9], NP_AWS_ROUTE_DEST_CIDR4, "10.70.0.0/16", true,
                 NP_AWS_ROUTE_NETWORK_INTERFACE, "eni-0bbbbbbbbbbbbbbbb", "CreateRoute", "active");
    expect_route(&r[10], NP_AWS_ROUTE_DEST_CIDR4, "10.80.0.0/16", false, 0, NULL, "CreateRoute",
                 "blackhole");
    expect_route(&r[11], NP_AWS_ROUTE_DEST_CIDR4, "10.90.0.0/16", true, NP_AWS_ROUTE_GATEWAY,
                 "vgw-0aaaaaaaaaaaaaaaa", "EnableVgwRoutePropagation", "active");
    cr_assert_eq(t->n_assocs, 3);
    cr_expect(t->assocs[0].main);
    cr_expect_null(t->assocs[0].subnet_id);
    cr_expect_str_eq(t->assocs[1].subnet_id, "subnet-0aaaaaaaaaaaaaaaa");
    cr_expect_not(t->assocs[1].main);
    cr_expect_str_eq(t->assocs[2].association_id, "rtbassoc-0cccccccccccccccc");
    cr_expect_null(t->assocs[2].subnet_id, "a gateway association has no subnet");
    cr_expect_not(t->assocs[2].main);
    cr_assert_eq(t->n_tags, 1, "propagatingVgwSet items are not tags");
    free(token);
    np_aws_route_tables_free(t, n);
}

Test(xml_route_table, first_destination_in_enum_order_and_malformed_items)
{
    const char *both = "<DescribeRouteTablesResponse><routeTableSet><item><routeTableId>rtb-1"
                       "</routeTableId><routeSet><item><destinationPrefixListId>pl-1"
                       "</destinationPrefixListId><destinationCidrBlock>10.0.0.0/8"
                       "</destinationCidrBlock><instanceId>i-1</instanceId><gatewayId>igw-1"
                       "</gatewayId></item></routeSet></item></routeTableSet>"
                       "</DescribeRouteTablesResponse>";
    void *items = NULL;
    size_t n = 0;
    cr_assert_eq(
        np_aws_xml_decode_list(&np_aws_xml_route_tables, both, strlen(both), &items, &n, NULL), 0,
        "%s", np_error_message());
    struct np_aws_route_table *t = items;
    expect_route(&t->routes[0], NP_AWS_ROUTE_DEST_CIDR4, "10.0.0.0/8", true, NP_AWS_ROUTE_GATEWAY,
                 "igw-1", NULL, NULL);
    np_aws_route_tables_free(t, n);

    /* moto drops the destination of a route to an unknown prefix list: refused, not guessed */
    cr_expect_eq(decode_str(&np_aws_xml_route_tables,
                            "<DescribeRouteTablesResponse><routeTableSet><item><routeTableId>"
                            "rtb-1</routeTableId><routeSet><item><gatewayId>igw-1</gatewayId>"
                            "</item></routeSet></item></routeTableSet>"
                            "</DescribeRouteTablesResponse>"),
                 NP_EPARSE);
    cr_expect(strstr(np_error_message(), "rtb-1 has no destination") != NULL, "%s",
              np_error_message());
    cr_expect_eq(decode_str(&np_aws_xml_route_tables,
                            "<DescribeRouteTablesResponse><routeTableSet><item><routeTableId>"
                            "rtb-1</routeTableId><associationSet><item><main>true</main></item>"
                            "</associationSet></item></routeTableSet>"
                            "</DescribeRouteTablesResponse>"),
                 NP_EPARSE);
    cr_expect_eq(decode_str(&np_aws_xml_route_tables,
                            "<DescribeRouteTablesResponse><routeTableSet><item><routeTableId>"
                            "rtb-1</routeTableId><associationSet><item><routeTableAssociationId>"
                            "a-1</routeTableAssociationId><main>1</main></item>"
                            "</associationSet></item></routeTableSet>"
                            "</DescribeRouteTablesResponse>"),
                 NP_EPARSE);
}

/* ---------------------------------------------------------------- network ACLs */

static void expect_entry(const struct np_aws_nacl_entry *e, int rule, bool egress,
                         const char *proto, bool allow, const char *cidr, const char *ipv6,
                         bool has_ports, int from, int to)
{
    cr_expect_eq(e->rule_number, rule);
    cr_expect_eq(e->egress, egress, "rule %d: egress", rule);
    cr_expect_str_eq(e->protocol, proto);
    cr_expect_eq(e->allow, allow, "rule %d: allow", rule);
    cr_expect(np_str_eq(e->cidr, cidr), "rule %d: cidr %s", rule, e->cidr);
    cr_expect(np_str_eq(e->ipv6_cidr, ipv6), "rule %d: ipv6 %s", rule, e->ipv6_cidr);
    cr_expect_eq(e->has_ports, has_ports, "rule %d: has_ports", rule);
    if (has_ports) {
        cr_expect_eq(e->from_port, from, "rule %d: from", rule);
        cr_expect_eq(e->to_port, to, "rule %d: to", rule);
    }
}

Test(xml_nacl, recorded_default_and_custom_acls)
{
    void *items = NULL;
    size_t n = 0;
    cr_assert_eq(decode_file(&np_aws_xml_nacls, FX "describe-network-acls.xml", &items, &n, NULL),
                 0, "%s", np_error_message());
    struct np_aws_nacl *a = items;
    cr_assert_eq(n, 2);
    cr_expect_str_eq(a[0].network_acl_id, "acl-3b1ff70a60178655c");
    cr_expect(a[0].is_default);
    cr_assert_eq(a[0].n_entries, 4);
    expect_entry(&a[0].entries[1], 32767, true, "-1", false, "0.0.0.0/0", NULL, false, 0, 0);
    expect_entry(&a[0].entries[2], 100, false, "-1", true, "0.0.0.0/0", NULL, false, 0, 0);
    cr_assert_eq(a[0].n_assocs, 1);
    cr_expect_str_eq(a[0].assocs[0].association_id, "aclassoc-9a66860850e1004ce");
    cr_expect_str_eq(a[0].assocs[0].subnet_id, "subnet-7cea8f206f9ca5610");

    cr_expect_str_eq(a[1].network_acl_id, "acl-1ce498d1bff59ff9e");
    cr_expect_str_eq(a[1].vpc_id, "vpc-6a6a85ad4d0f279ea");
    cr_expect_not(a[1].is_default);
    cr_assert_eq(a[1].n_entries, 3);
    expect_entry(&a[1].entries[0], 120, true, "-1", true, NULL, "::/0", false, 0, 0);
    expect_entry(&a[1].entries[1], 130, true, "17", true, "10.2.0.2/32", NULL, true, 53, 53);
    expect_entry(&a[1].entries[2], 100, false, "6", false, "10.0.0.0/8", NULL, true, 22, 22);
    for (size_t i = 0; i < a[1].n_entries; i++)
        cr_expect_not(a[1].entries[i].has_icmp);
    cr_assert_eq(a[1].n_assocs, 1);
    cr_expect_str_eq(a[1].assocs[0].subnet_id, "subnet-d8f20f7b5eadb4073");
    cr_assert_eq(a[1].n_tags, 1);
    expect_tag(&a[1].tags[0], "Name", "strict");
    np_aws_nacls_free(a, n);
}

Test(xml_nacl, aws_shape_icmp_type_code_ipv6_and_ports)
{
    void *items = NULL;
    size_t n = 0;
    char *token = NULL;
    cr_assert_eq(decode_file(&np_aws_xml_nacls, FX "crafted/describe-network-acls-aws.xml", &items,
                             &n, &token),
                 0, "%s", np_error_message());
    struct np_aws_nacl *a = items;
    cr_assert_eq(n, 1);
    cr_expect_str_eq(token, "acl-page-2");
    cr_assert_eq(a->n_entries, 6);
    const struct np_aws_nacl_entry *e = a->entries;
    expect_entry(&e[0], 90, false, "1", true, "0.0.0.0/0", NULL, false, 0, 0);
    cr_expect(e[0].has_icmp);
    cr_expect_eq(e[0].icmp_type, 8);
    cr_expect_eq(e[0].icmp_code, -1);
    expect_entry(&e[1], 95, false, "58", true, NULL, "::/0", false, 0, 0);
    cr_expect(e[1].has_icmp);
    cr_expect_eq(e[1].icmp_type, 128);
    cr_expect_eq(e[1].icmp_code, 0);
    expect_entry(&e[2], 100, false, "6", true, "10.0.0.0/8", NULL, true, 1024, 65535);
    cr_expect_not(e[2].has_icmp);
    expect_entry(&e[5], 32767, false, "-1", false, "0.0.0.0/0", NULL, false, 0, 0);
    cr_assert_eq(a->n_assocs, 2);
    cr_expect_str_eq(a->assocs[1].association_id, "aclassoc-0bbbbbbbbbbbbbbbb");
    cr_expect_str_eq(a->assocs[1].subnet_id, "subnet-0bbbbbbbbbbbbbbbb");
    cr_assert_eq(a->n_tags, 1);
    free(token);
    np_aws_nacls_free(a, n);
}

static int decode_entry(const char *entry_xml)
{
    char *doc = np_strdupf("<DescribeNetworkAclsResponse><networkAclSet><item><networkAclId>acl-1"
                           "</networkAclId><entrySet><item>%s</item></entrySet></item>"
                           "</networkAclSet></DescribeNetworkAclsResponse>",
                           entry_xml);
    int rc = decode_str(&np_aws_xml_nacls, doc);
    free(doc);
    return rc;
}

Test(xml_nacl, malformed_entries_are_refused)
{
    const char *ok = "<ruleNumber>1</ruleNumber><protocol>6</protocol><ruleAction>allow"
                     "</ruleAction><egress>false</egress><cidrBlock>0.0.0.0/0</cidrBlock>";
    cr_expect_eq(decode_entry(ok), 0, "%s", np_error_message());
    cr_expect_eq(decode_entry("<protocol>6</protocol><ruleAction>allow</ruleAction><egress>false"
                              "</egress>"),
                 NP_EPARSE, "no ruleNumber");
    cr_expect(strstr(np_error_message(), "acl-1") != NULL, "%s", np_error_message());
    cr_expect_eq(decode_entry("<ruleNumber>1</ruleNumber><protocol>6</protocol><egress>false"
                              "</egress>"),
                 NP_EPARSE, "no ruleAction");
    cr_expect_eq(decode_entry("<ruleNumber>1</ruleNumber><ruleAction>allow</ruleAction><egress>"
                              "false</egress>"),
                 NP_EPARSE, "no protocol");
    cr_expect_eq(decode_entry("<ruleNumber>1</ruleNumber><protocol>6</protocol><ruleAction>"
                              "permit</ruleAction><egress>false</egress>"),
                 NP_EPARSE, "unknown action");
    cr_expect_eq(decode_entry("<ruleNumber>0</ruleNumber><protocol>6</protocol><ruleAction>"
                              "allow</ruleAction><egress>false</egress>"),
                 NP_EPARSE, "rule 0");
    cr_expect_eq(decode_entry("<ruleNumber>1</ruleNumber><protocol>6</protocol><ruleAction>"
                              "allow</ruleAction><egress>false</egress><portRange><from>80"
                              "</from></portRange>"),
                 NP_EPARSE, "half a port range");
    cr_expect_eq(decode_entry("<ruleNumber>1</ruleNumber><protocol>6</protocol><ruleAction>"
                              "allow</ruleAction><egress>false</egress><portRange><from>80"
                              "</from><to>70000</to></portRange>"),
                 NP_EPARSE, "port out of range");
    cr_expect_eq(decode_entry("<ruleNumber>1</ruleNumber><protocol>1</protocol><ruleAction>"
                              "allow</ruleAction><egress>false</egress><icmpTypeCode><type>x"
                              "</type><code>1</code></icmpTypeCode>"),
                 NP_EPARSE, "icmp type not a number");
}

/* ---------------------------------------------------------------- flow logs */

Test(xml_flow_log, recorded_and_aws_shapes)
{
    void *items = NULL;
    size_t n = 0;
    cr_assert_eq(decode_file(&np_aws_xml_flow_logs, FX "describe-flow-logs.xml", &items, &n, NULL),
                 0, "%s", np_error_message());
    struct np_aws_flow_log *f = items;
    cr_assert_eq(n, 1);
    cr_expect_str_eq(f->flow_log_id, "fl-e9c11bbf660e4cc09");
    cr_expect_str_eq(f->resource_id, "vpc-6a6a85ad4d0f279ea");
    cr_expect_str_eq(f->traffic_type, "ALL");
    cr_expect_str_eq(f->log_destination_type, "cloud-watch-logs");
    cr_expect_str_eq(f->log_destination, "arn:aws:logs:us-east-1:123456789012:log-group:np-flow");
    cr_expect_null(f->log_group_name);
    cr_expect_str_eq(f->deliver_logs_permission_arn, "arn:aws:iam::123456789012:role/np-flow");
    cr_expect_str_eq(f->flow_log_status, "ACTIVE");
    cr_assert_eq(f->n_tags, 1);
    expect_tag(&f->tags[0], "netposture.dev/owner", "shop/net");
    np_aws_flow_logs_free(f, n);

    char *token = NULL;
    cr_assert_eq(decode_file(&np_aws_xml_flow_logs, FX "crafted/describe-flow-logs-aws.xml", &items,
                             &n, &token),
                 0, "%s", np_error_message());
    f = items;
    cr_assert_eq(n, 2);
    cr_expect_str_eq(token, "fl-page-2");
    cr_expect_str_eq(f[0].log_destination_type, "s3");
    cr_expect_str_eq(f[0].log_destination, "arn:aws:s3:::np-flow-logs/shop/");
    cr_expect_str_eq(f[0].traffic_type, "REJECT");
    cr_expect_null(f[0].deliver_logs_permission_arn);
    cr_assert_eq(f[0].n_tags, 2);
    expect_tag(&f[0].tags[1], "Name", "");
    cr_expect_null(f[1].log_destination, "only a logGroupName (older flow logs)");
    cr_expect_str_eq(f[1].log_group_name, "legacy-flow-logs");
    cr_expect_str_eq(f[1].deliver_logs_permission_arn,
                     "arn:aws:iam::123456789012:role/legacy-flow");
    free(token);
    np_aws_flow_logs_free(f, n);
}

static int decode_result_file(const char *path, const char *root, char **id, size_t *n_bad,
                              char **code, char **msg)
{
    size_t len = 0;
    char *xml = fixture_read(path, &len);
    int rc = np_aws_xml_decode_flow_logs_result(xml, len, root, id, n_bad, code, msg);
    free(xml);
    return rc;
}

Test(xml_flow_log, create_and_delete_results)
{
    char *id = NULL, *code = NULL, *msg = NULL;
    size_t n_bad = 9;
    cr_assert_eq(decode_result_file(FX "create-flow-logs.xml", "CreateFlowLogsResponse", &id,
                                    &n_bad, &code, &msg),
                 0);
    cr_expect_str_eq(id, "fl-e9c11bbf660e4cc09");
    cr_expect_eq(n_bad, 0);
    cr_expect_null(code);
    cr_expect_null(msg);
    free(id);
    cr_assert_eq(decode_result_file(FX "create-flow-logs-unsuccessful.xml",
                                    "CreateFlowLogsResponse", &id, &n_bad, &code, &msg),
                 0);
    cr_expect_null(id);
    cr_expect_eq(n_bad, 1);
    cr_expect_str_eq(code, "400");
    cr_expect_str_eq(msg, "LogDestination: np-missing-bucket does not exist.");
    free(code);
    free(msg);
    cr_assert_eq(decode_result_file(FX "crafted/delete-flow-logs-unsuccessful.xml",
                                    "DeleteFlowLogsResponse", NULL, &n_bad, &code, &msg),
                 0);
    cr_expect_eq(n_bad, 1);
    cr_expect_str_eq(code, "InvalidFlowLogId.NotFound");
    free(code);
    free(msg);
    cr_expect_eq(decode_result_file(FX "create-flow-logs.xml", "DeleteFlowLogsResponse", NULL,
                                    &n_bad, &code, &msg),
                 NP_EPARSE);
}

/* ---------------------------------------------------------------- single values */

Test(xml_value, create_ids_and_attribute_values_by_position)
{
    size_t len = 0;
    char *xml = fixture_read(FX "create-vpc.xml", &len);
    char *v = NULL;
    cr_assert_eq(np_aws_xml_decode_value(xml, len, "CreateVpcResponse", "vpc", "vpcId", &v), 0);
    cr_expect_str_eq(v, "vpc-6a6a85ad4d0f279ea");
    free(v);
    /* the cidrBlock of the VPC, not of its association (a deeper element) */
    cr_assert_eq(np_aws_xml_decode_value(xml, len, "CreateVpcResponse", "vpc", "cidrBlock", &v), 0);
    cr_expect_str_eq(v, "10.2.0.0/16");
    free(v);
    v = (char *)0x1;
    cr_expect_eq(np_aws_xml_decode_value(xml, len, "CreateVpcResponse", NULL, "vpcId", &v),
                 NP_EPARSE, "vpcId is not directly under the root");
    cr_expect_eq(v, (char *)0x1);
    cr_expect_eq(
        np_aws_xml_decode_value(xml, len, "CreateSubnetResponse", "subnet", "subnetId", &v),
        NP_EPARSE);
    free(xml);

    xml = fixture_read(FX "describe-vpc-attribute.xml", &len);
    cr_assert_eq(np_aws_xml_decode_value(xml, len, "DescribeVpcAttributeResponse",
                                         "enableDnsHostnames", "value", &v),
                 0);
    cr_expect_str_eq(v, "true");
    free(v);
    cr_expect_eq(np_aws_xml_decode_value(xml, len, "DescribeVpcAttributeResponse",
                                         "enableDnsSupport", "value", &v),
                 NP_EPARSE);
    cr_expect(strstr(np_error_message(), "enableDnsSupport/value") != NULL, "%s",
              np_error_message());
    free(xml);
}

/* ---------------------------------------------------------------- pager */

Test(pager_list, every_kind_across_two_pages)
{
    const struct {
        const struct np_aws_xml_list *kind;
        const char *page1, *page2, *token;
        size_t total;
    } cases[] = {
        {&np_aws_xml_subnets, FX "crafted/describe-subnets-page1.xml", FX "describe-subnets.xml",
         "subnet-page-2 token/+=", 3},
        {&np_aws_xml_route_tables, FX "crafted/describe-route-tables-aws.xml",
         FX "describe-route-tables.xml", "rtb-page-2", 3},
        {&np_aws_xml_nacls, FX "crafted/describe-network-acls-aws.xml",
         FX "describe-network-acls.xml", "acl-page-2", 3},
        {&np_aws_xml_flow_logs, FX "crafted/describe-flow-logs-aws.xml",
         FX "describe-flow-logs.xml", "fl-page-2", 3},
        {&np_aws_xml_vpcs, FX "crafted/describe-vpcs-page1.xml", FX "describe-vpcs.xml",
         "vpc-page-2", 3},
    };
    for (size_t i = 0; i < NP_ARRAY_LEN(cases); i++) {
        struct fixture_pages p = {.files = {cases[i].page1, cases[i].page2}, .n = 2};
        void *items = NULL;
        size_t n = 0;
        cr_assert_eq(np_aws_list_paginate(&items, &n, cases[i].kind, NULL, fixture_pages_fetch, &p),
                     0, "%s: %s", cases[i].kind->root, np_error_message());
        cr_expect_eq(p.n_fetch, 2);
        cr_expect_null(p.tokens[0]);
        cr_expect_str_eq(p.tokens[1], cases[i].token);
        cr_expect_eq(n, cases[i].total, "%s: %zu items", cases[i].kind->root, n);
        cases[i].kind->free_items(items, n);
        fixture_pages_clean_up(&p);
    }
}

Test(pager_list, items_survive_concatenation_and_errors_leak_nothing)
{
    struct fixture_pages p = {
        .files = {FX "crafted/describe-route-tables-aws.xml", FX "describe-route-tables.xml"},
        .n = 2};
    void *items = NULL;
    size_t n = 0;
    cr_assert_eq(
        np_aws_list_paginate(&items, &n, &np_aws_xml_route_tables, NULL, fixture_pages_fetch, &p),
        0);
    struct np_aws_route_table *t = items;
    cr_assert_eq(n, 3);
    cr_expect_str_eq(t[0].routes[1].target, "nat-0aaaaaaaaaaaaaaaa");
    cr_expect_str_eq(t[2].assocs[0].subnet_id, "subnet-d8f20f7b5eadb4073");
    np_aws_route_tables_free(t, n);
    fixture_pages_clean_up(&p);

    struct fixture_pages loop = {.files = {FX "crafted/describe-network-acls-aws.xml",
                                           FX "crafted/describe-network-acls-aws.xml"},
                                 .n = 2};
    items = NULL;
    cr_expect_eq(
        np_aws_list_paginate(&items, &n, &np_aws_xml_nacls, NULL, fixture_pages_fetch, &loop),
        NP_EPARSE);
    cr_expect_null(items);
    fixture_pages_clean_up(&loop);

    struct fixture_pages wrong = {
        .files = {FX "crafted/describe-subnets-page1.xml", FX "describe-route-tables.xml"}, .n = 2};
    cr_expect_eq(
        np_aws_list_paginate(&items, &n, &np_aws_xml_subnets, NULL, fixture_pages_fetch, &wrong),
        NP_EPARSE);
    cr_expect_null(items);
    fixture_pages_clean_up(&wrong);
}

/* ---------------------------------------------------------------- types */

Test(types_vpc, target_names_and_null_frees)
{
    static const char *const want[NP_AWS_ROUTE_TARGET_COUNT] = {"gatewayId",
                                                                "natGatewayId",
                                                                "transitGatewayId",
                                                                "vpcPeeringConnectionId",
                                                                "egressOnlyInternetGatewayId",
                                                                "carrierGatewayId",
                                                                "localGatewayId",
                                                                "coreNetworkArn",
                                                                "instanceId",
                                                                "networkInterfaceId"};
    for (int i = 0; i < NP_AWS_ROUTE_TARGET_COUNT; i++)
        cr_expect_str_eq(np_aws_route_target_name((enum np_aws_route_target)i), want[i]);
    cr_expect_null(np_aws_route_target_name(NP_AWS_ROUTE_TARGET_COUNT));
    cr_expect_str_eq(np_aws_route_dest_name(NP_AWS_ROUTE_DEST_PREFIX_LIST),
                     "destinationPrefixListId");
    np_aws_subnets_free(NULL, 3);
    np_aws_route_tables_free(NULL, 3);
    np_aws_nacls_free(NULL, 3);
    np_aws_flow_logs_free(NULL, 3);
    np_aws_route_clean_up(NULL);
    np_aws_nacl_entry_clean_up(NULL);
    struct np_aws_route r = {NP_AWS_ROUTE_DEST_CIDR4, np_strdup("10.0.0.0/8"), true,
                             NP_AWS_ROUTE_GATEWAY,    np_strdup("igw-1"),      NULL,
                             np_strdup("active")};
    np_aws_route_clean_up(&r);
    cr_expect_null(r.destination);
    np_aws_route_clean_up(&r);
}
