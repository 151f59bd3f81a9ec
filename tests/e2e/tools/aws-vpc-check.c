/*
 * aws-vpc-check: drives the VPC-piece operations of pkg/aws against a real EC2 endpoint (moto in
 * the end-to-end suite): a tagged VPC and its DNS attributes, a subnet, route tables with routes
 * and associations, a network ACL with entries and an association, and a flow log, each read
 * back after every change, then everything deleted in dependency order. One line per step.
 */

/*
 * Configured by the environment like aws-check: AWS_ENDPOINT_URL[_EC2|_STS],
 * AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, [AWS_SESSION_TOKEN], AWS_REGION (or
 * AWS_DEFAULT_REGION), [AWS_CA_BUNDLE].
 *
 * Usage: aws-vpc-check IGW_ID IGW2_ID
 *   two internet gateways the caller created (pkg/aws has no internet-gateway calls): the
 *   default route goes to the first, then is replaced to point at the second. Everything the
 *   check creates carries the tag netposture.dev/aws-vpc-check=<pid>-<time>. Prints
 *   `ok   <step>` or `FAIL <step>` lines and exits 1 if any step failed, 2 on bad usage.
 */
#include "aws/aws.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHECK_TAG "netposture.dev/aws-vpc-check"

static int n_failed;

/* Prints "ok   <step>: <detail>" when cond holds, else "FAIL <step>: <detail>"; returns cond. */
static bool report(bool cond, const char *step, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool report(bool cond, const char *step, const char *fmt, ...)
{
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    printf("%s %s: %s\n", cond ? "ok  " : "FAIL", step, detail);
    if (!cond)
        n_failed++;
    return cond;
}

/* Reports a call that must succeed. */
static bool call_ok(int rc, const char *step, const char *what)
{
    if (rc == 0)
        return report(true, step, "%s", what);
    return report(false, step, "%s (%s; aws code \"%s\", http %ld)", np_error_message(),
                  np_error_name(rc), np_aws_error_last()->code, np_aws_error_last()->http_status);
}

/* Reports a call that must fail with want. */
static bool call_fails(int rc, int want, const char *step)
{
    return report(rc == want, step, "%s as expected (aws code \"%s\")", np_error_name(rc),
                  np_aws_error_last()->code);
}

/* The ids the check created, for the cleanup. */
struct made {
    char *vpc;
    char *subnet;
    char *rtb[2];
    char *rtb_assoc; /* the subnet's explicit route-table association */
    char *acl;
    char *acl_default;
    char *acl_assoc; /* the subnet's network-ACL association */
    char *flow_log;
};

static void made_clean_up(struct made *m)
{
    free(m->vpc);
    free(m->subnet);
    free(m->rtb[0]);
    free(m->rtb[1]);
    free(m->rtb_assoc);
    free(m->acl);
    free(m->acl_default);
    free(m->acl_assoc);
    free(m->flow_log);
}

/* ---------------------------------------------------------------- look-ups */

static const struct np_aws_route_table *find_rtb(const struct np_aws_route_table *t, size_t n,
                                                 const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (np_str_eq(t[i].route_table_id, id))
            return &t[i];
    return NULL;
}

static const struct np_aws_route *find_route(const struct np_aws_route_table *t, const char *dest)
{
    for (size_t i = 0; t && i < t->n_routes; i++)
        if (np_str_eq(t->routes[i].destination, dest))
            return &t->routes[i];
    return NULL;
}

/* The association of subnet in t, or NULL. */
static const struct np_aws_rt_assoc *find_rt_assoc(const struct np_aws_route_table *t,
                                                   const char *subnet)
{
    for (size_t i = 0; t && i < t->n_assocs; i++)
        if (np_str_eq(t->assocs[i].subnet_id, subnet))
            return &t->assocs[i];
    return NULL;
}

static const struct np_aws_nacl *find_acl(const struct np_aws_nacl *a, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (np_str_eq(a[i].network_acl_id, id))
            return &a[i];
    return NULL;
}

static const struct np_aws_nacl_entry *find_entry(const struct np_aws_nacl *a, int rule,
                                                  bool egress)
{
    for (size_t i = 0; a && i < a->n_entries; i++)
        if (a->entries[i].rule_number == rule && a->entries[i].egress == egress)
            return &a->entries[i];
    return NULL;
}

static const char *tag_value(const struct np_aws_tag *tags, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (np_str_eq(tags[i].key, key))
            return tags[i].value;
    return NULL;
}

/* The VPC's route tables or network ACLs (vpc-id filter; AWS and moto both support it). */
static int vpc_route_tables(struct np_aws_ec2 *ec2, const char *vpc, struct np_aws_route_table **t,
                            size_t *n)
{
    struct np_aws_filter f = {"vpc-id", &vpc, 1};
    np_aws_route_tables_free(*t, *n);
    return np_aws_ec2_describe_route_tables(ec2, t, n, &f, 1);
}

static int vpc_acls(struct np_aws_ec2 *ec2, const char *vpc, struct np_aws_nacl **a, size_t *n)
{
    struct np_aws_filter f = {"vpc-id", &vpc, 1};
    np_aws_nacls_free(*a, *n);
    return np_aws_ec2_describe_network_acls(ec2, a, n, &f, 1);
}

/* ---------------------------------------------------------------- steps */

static bool vpc_and_attributes(struct np_aws_ec2 *ec2, struct made *m,
                               const struct np_aws_filter *by_tag, const struct np_aws_tag *tags,
                               const char *marker)
{
    struct np_aws_vpc *vpcs = NULL;
    size_t n = 0;
    bool ok = call_ok(np_aws_ec2_create_vpc(ec2, &m->vpc, "10.77.0.0/16", tags, 2), "CreateVpc",
                      "10.77.0.0/16, tagged");
    if (ok)
        ok = call_ok(np_aws_ec2_describe_vpcs(ec2, &vpcs, &n, by_tag, 1), "DescribeVpcs (tag)",
                     "listed");
    if (ok)
        ok = report(n == 1 && np_str_eq(vpcs[0].vpc_id, m->vpc) &&
                        np_str_eq(vpcs[0].cidr_block, "10.77.0.0/16") &&
                        np_str_eq(tag_value(vpcs[0].tags, vpcs[0].n_tags, CHECK_TAG), marker),
                    "CreateVpc read back", "%s with its CIDR and tags (%zu found)", m->vpc, n);
    np_aws_vpcs_free(vpcs, n);
    /* both attributes, each to a value and read back */
    const struct {
        enum np_aws_vpc_attribute attr;
        bool value;
        const char *name;
    } sets[] = {{NP_AWS_VPC_DNS_SUPPORT, false, "enableDnsSupport=false"},
                {NP_AWS_VPC_DNS_HOSTNAMES, true, "enableDnsHostnames=true"},
                {NP_AWS_VPC_DNS_SUPPORT, true, "enableDnsSupport=true"}};
    for (size_t i = 0; ok && i < NP_ARRAY_LEN(sets); i++) {
        bool got = !sets[i].value;
        ok = call_ok(np_aws_ec2_modify_vpc_attribute(ec2, m->vpc, sets[i].attr, sets[i].value),
                     "ModifyVpcAttribute", sets[i].name);
        if (ok)
            ok = call_ok(np_aws_ec2_describe_vpc_attribute(ec2, m->vpc, sets[i].attr, &got),
                         "DescribeVpcAttribute", sets[i].name);
        if (ok)
            ok = report(got == sets[i].value, "DescribeVpcAttribute read back", "%s", sets[i].name);
    }
    return ok;
}

static bool subnet(struct np_aws_ec2 *ec2, struct made *m, const struct np_aws_filter *by_tag,
                   const struct np_aws_tag *tags, const char *az)
{
    struct np_aws_subnet *s = NULL;
    size_t n = 0;
    bool ok =
        call_ok(np_aws_ec2_create_subnet(ec2, &m->subnet, m->vpc, "10.77.1.0/24", az, tags, 2),
                "CreateSubnet", az);
    if (ok)
        ok = call_ok(np_aws_ec2_modify_subnet_map_public_ip(ec2, m->subnet, true),
                     "ModifySubnetAttribute", "MapPublicIpOnLaunch=true");
    if (ok)
        ok = call_ok(np_aws_ec2_describe_subnets(ec2, &s, &n, by_tag, 1), "DescribeSubnets (tag)",
                     "listed");
    if (ok)
        ok = report(n == 1 && np_str_eq(s[0].subnet_id, m->subnet) &&
                        np_str_eq(s[0].vpc_id, m->vpc) && np_str_eq(s[0].availability_zone, az) &&
                        np_str_eq(s[0].cidr_block, "10.77.1.0/24") &&
                        s[0].map_public_ip_on_launch && s[0].n_tags == 2,
                    "DescribeSubnets read back", "%s in %s, mapPublicIpOnLaunch true, 2 tags",
                    m->subnet, az);
    np_aws_subnets_free(s, n);
    return ok;
}

static bool routes(struct np_aws_ec2 *ec2, struct made *m, const struct np_aws_tag *tags,
                   const char *igw, const char *igw2)
{
    struct np_aws_route_table *t = NULL;
    size_t n = 0;
    const struct np_aws_route *r = NULL;
    bool ok = true;
    for (int i = 0; ok && i < 2; i++)
        ok = call_ok(np_aws_ec2_create_route_table(ec2, &m->rtb[i], m->vpc, NULL, tags, 2),
                     "CreateRouteTable", i == 0 ? "the first" : "the second");
    struct np_aws_route route = {NP_AWS_ROUTE_DEST_CIDR4,
                                 (char *)"0.0.0.0/0",
                                 true,
                                 NP_AWS_ROUTE_GATEWAY,
                                 (char *)igw,
                                 NULL,
                                 NULL};
    if (ok)
        ok = call_ok(np_aws_ec2_create_route(ec2, m->rtb[0], &route), "CreateRoute",
                     "0.0.0.0/0 via the first gateway");
    if (ok)
        ok = call_fails(np_aws_ec2_create_route(ec2, m->rtb[0], &route), NP_EEXIST,
                        "CreateRoute again");
    if (ok)
        ok = call_ok(vpc_route_tables(ec2, m->vpc, &t, &n), "DescribeRouteTables", "listed");
    if (ok) {
        const struct np_aws_route_table *rt = find_rtb(t, n, m->rtb[0]);
        r = find_route(rt, "0.0.0.0/0");
        ok = report(rt && rt->n_tags == 2 && r && r->has_target &&
                        r->target_kind == NP_AWS_ROUTE_GATEWAY && np_str_eq(r->target, igw) &&
                        np_str_eq(r->origin, "CreateRoute") && find_route(rt, "10.77.0.0/16"),
                    "CreateRoute read back", "0.0.0.0/0 -> %s next to the local route", igw);
    }
    route.target = (char *)igw2;
    if (ok)
        ok = call_ok(np_aws_ec2_replace_route(ec2, m->rtb[0], &route), "ReplaceRoute",
                     "0.0.0.0/0 via the second gateway");
    if (ok)
        ok = call_ok(vpc_route_tables(ec2, m->vpc, &t, &n), "DescribeRouteTables", "listed");
    if (ok) {
        r = find_route(find_rtb(t, n, m->rtb[0]), "0.0.0.0/0");
        ok = report(r && np_str_eq(r->target, igw2), "ReplaceRoute read back", "0.0.0.0/0 -> %s",
                    r && r->target ? r->target : "(none)");
    }
    if (ok)
        ok = call_ok(np_aws_ec2_delete_route(ec2, m->rtb[0], NP_AWS_ROUTE_DEST_CIDR4, "0.0.0.0/0"),
                     "DeleteRoute", "0.0.0.0/0");
    if (ok)
        ok = call_fails(
            np_aws_ec2_delete_route(ec2, m->rtb[0], NP_AWS_ROUTE_DEST_CIDR4, "0.0.0.0/0"),
            NP_ENOTFOUND, "DeleteRoute again");
    if (ok)
        ok = call_ok(vpc_route_tables(ec2, m->vpc, &t, &n), "DescribeRouteTables", "listed");
    if (ok) {
        const struct np_aws_route_table *rt = find_rtb(t, n, m->rtb[0]);
        ok = report(rt && rt->n_routes == 1 && !find_route(rt, "0.0.0.0/0"),
                    "DeleteRoute read back", "only the local route is left");
    }
    np_aws_route_tables_free(t, n);
    return ok;
}

static bool rt_associations(struct np_aws_ec2 *ec2, struct made *m)
{
    struct np_aws_route_table *t = NULL;
    size_t n = 0;
    char *moved = NULL;
    bool ok = call_ok(np_aws_ec2_associate_route_table(ec2, m->rtb[0], m->subnet, &m->rtb_assoc),
                      "AssociateRouteTable", "the subnet with the first table");
    if (ok)
        ok = call_ok(vpc_route_tables(ec2, m->vpc, &t, &n), "DescribeRouteTables", "listed");
    if (ok) {
        const struct np_aws_rt_assoc *a = find_rt_assoc(find_rtb(t, n, m->rtb[0]), m->subnet);
        ok = report(a && np_str_eq(a->association_id, m->rtb_assoc) && !a->main,
                    "AssociateRouteTable read back", "%s", m->rtb_assoc);
    }
    if (ok)
        ok = call_ok(
            np_aws_ec2_replace_route_table_association(ec2, m->rtb_assoc, m->rtb[1], &moved),
            "ReplaceRouteTableAssociation", "to the second table");
    if (ok) {
        free(m->rtb_assoc);
        m->rtb_assoc = moved;
        ok = call_ok(vpc_route_tables(ec2, m->vpc, &t, &n), "DescribeRouteTables", "listed");
    }
    if (ok) {
        const struct np_aws_rt_assoc *a = find_rt_assoc(find_rtb(t, n, m->rtb[1]), m->subnet);
        ok = report(a && np_str_eq(a->association_id, m->rtb_assoc) &&
                        !find_rt_assoc(find_rtb(t, n, m->rtb[0]), m->subnet),
                    "ReplaceRouteTableAssociation read back", "%s on the second table",
                    m->rtb_assoc);
    }
    if (ok)
        ok = call_ok(np_aws_ec2_disassociate_route_table(ec2, m->rtb_assoc),
                     "DisassociateRouteTable", m->rtb_assoc);
    if (ok) {
        free(m->rtb_assoc);
        m->rtb_assoc = NULL;
        ok = call_ok(vpc_route_tables(ec2, m->vpc, &t, &n), "DescribeRouteTables", "listed");
    }
    if (ok)
        ok = report(!find_rt_assoc(find_rtb(t, n, m->rtb[1]), m->subnet),
                    "DisassociateRouteTable read back", "the subnet is on the main table again");
    np_aws_route_tables_free(t, n);
    return ok;
}

static bool acl_entries(struct np_aws_ec2 *ec2, struct made *m, const struct np_aws_tag *tags)
{
    struct np_aws_nacl *a = NULL;
    size_t n = 0;
    struct np_aws_nacl_entry entries[] = {
        {.rule_number = 100,
         .protocol = (char *)"6",
         .allow = true,
         .cidr = (char *)"10.0.0.0/8",
         .has_ports = true,
         .from_port = 443,
         .to_port = 443},
        {.rule_number = 110,
         .egress = true,
         .protocol = (char *)"-1",
         .allow = true,
         .ipv6_cidr = (char *)"::/0"},
        {.rule_number = 120,
         .protocol = (char *)"1",
         .cidr = (char *)"0.0.0.0/0",
         .has_icmp = true,
         .icmp_type = 3,
         .icmp_code = 4},
    };
    bool ok = call_ok(np_aws_ec2_create_network_acl(ec2, &m->acl, m->vpc, NULL, tags, 2),
                      "CreateNetworkAcl", "tagged");
    for (size_t i = 0; ok && i < NP_ARRAY_LEN(entries); i++)
        ok = call_ok(np_aws_ec2_create_network_acl_entry(ec2, m->acl, &entries[i]),
                     "CreateNetworkAclEntry",
                     i == 0   ? "100 in tcp/443 allow"
                     : i == 1 ? "110 out all ::/0 allow"
                              : "120 in icmp 3/4 deny");
    if (ok)
        ok = call_fails(np_aws_ec2_create_network_acl_entry(ec2, m->acl, &entries[0]), NP_EEXIST,
                        "CreateNetworkAclEntry again");
    if (ok)
        ok = call_ok(vpc_acls(ec2, m->vpc, &a, &n), "DescribeNetworkAcls", "listed");
    if (ok) {
        const struct np_aws_nacl *acl = find_acl(a, n, m->acl);
        const struct np_aws_nacl_entry *e100 = find_entry(acl, 100, false);
        const struct np_aws_nacl_entry *e110 = find_entry(acl, 110, true);
        const struct np_aws_nacl_entry *e120 = find_entry(acl, 120, false);
        ok = report(acl && !acl->is_default && acl->n_tags == 2 && e100 && e100->allow &&
                        np_str_eq(e100->protocol, "6") && e100->has_ports &&
                        e100->from_port == 443 && e100->to_port == 443 && e110 &&
                        np_str_eq(e110->ipv6_cidr, "::/0") && e120 && !e120->allow &&
                        (!e120->has_icmp || (e120->icmp_type == 3 && e120->icmp_code == 4)),
                    "CreateNetworkAclEntry read back", "3 entries%s",
                    e120 && !e120->has_icmp ? " (icmpTypeCode not returned: moto drops it)" : "");
    }
    struct np_aws_nacl_entry dns = {.rule_number = 100,
                                    .protocol = (char *)"17",
                                    .cidr = (char *)"10.0.0.0/8",
                                    .has_ports = true,
                                    .from_port = 53,
                                    .to_port = 53};
    if (ok)
        ok = call_ok(np_aws_ec2_replace_network_acl_entry(ec2, m->acl, &dns),
                     "ReplaceNetworkAclEntry", "100 in udp/53 deny");
    if (ok)
        ok = call_ok(np_aws_ec2_delete_network_acl_entry(ec2, m->acl, 110, true),
                     "DeleteNetworkAclEntry", "110 out");
    if (ok)
        ok = call_ok(vpc_acls(ec2, m->vpc, &a, &n), "DescribeNetworkAcls", "listed");
    if (ok) {
        const struct np_aws_nacl *acl = find_acl(a, n, m->acl);
        const struct np_aws_nacl_entry *e100 = find_entry(acl, 100, false);
        ok = report(e100 && !e100->allow && np_str_eq(e100->protocol, "17") &&
                        e100->from_port == 53 && !find_entry(acl, 110, true) &&
                        find_entry(acl, 120, false),
                    "Replace/DeleteNetworkAclEntry read back", "100 is udp/53 deny, 110 is gone");
    }
    np_aws_nacls_free(a, n);
    return ok;
}

/* Moves the subnet's network-ACL association to acl_id, remembering the new association. */
static bool move_acl_assoc(struct np_aws_ec2 *ec2, struct made *m, const char *acl_id,
                           const char *step)
{
    struct np_aws_nacl *a = NULL;
    size_t n = 0;
    char *moved = NULL;
    bool ok = true;
    if (!m->acl_assoc) {
        ok = call_ok(vpc_acls(ec2, m->vpc, &a, &n), "DescribeNetworkAcls", "listed");
        for (size_t i = 0; ok && i < n; i++) {
            for (size_t j = 0; j < a[i].n_assocs; j++) {
                if (np_str_eq(a[i].assocs[j].subnet_id, m->subnet)) {
                    m->acl_assoc = np_strdup(a[i].assocs[j].association_id);
                    if (a[i].is_default)
                        m->acl_default = np_strdup(a[i].network_acl_id);
                }
            }
        }
        if (ok)
            ok = report(m->acl_assoc && m->acl_default, "DescribeNetworkAcls",
                        "the subnet is on the default ACL %s", m->acl_default);
    }
    if (ok)
        ok = call_ok(np_aws_ec2_replace_network_acl_association(ec2, m->acl_assoc, acl_id, &moved),
                     step, acl_id);
    if (ok) {
        free(m->acl_assoc);
        m->acl_assoc = moved;
        ok = call_ok(vpc_acls(ec2, m->vpc, &a, &n), "DescribeNetworkAcls", "listed");
    }
    if (ok) {
        const struct np_aws_nacl *acl = find_acl(a, n, acl_id);
        bool found = false;
        for (size_t j = 0; acl && j < acl->n_assocs; j++)
            found |= np_str_eq(acl->assocs[j].subnet_id, m->subnet) &&
                     np_str_eq(acl->assocs[j].association_id, m->acl_assoc);
        ok = report(found, "ReplaceNetworkAclAssociation read back", "%s on %s", m->acl_assoc,
                    acl_id);
    }
    np_aws_nacls_free(a, n);
    return ok;
}

static bool flow_log(struct np_aws_ec2 *ec2, struct made *m, const struct np_aws_tag *tags,
                     const char *region, const char *account, const char *marker)
{
    struct np_aws_flow_log *f = NULL;
    size_t n = 0;
    char dest[256], role[256];
    snprintf(dest, sizeof(dest), "arn:aws:logs:%s:%s:log-group:np-aws-vpc-check-%s", region,
             account, marker);
    snprintf(role, sizeof(role), "arn:aws:iam::%s:role/np-aws-vpc-check", account);
    struct np_aws_flow_log_spec spec = {m->vpc, "REJECT", "cloud-watch-logs", dest, role};
    const char *vpc_id = m->vpc;
    struct np_aws_filter by_vpc = {"resource-id", &vpc_id, 1};
    bool ok = call_ok(np_aws_ec2_create_flow_log(ec2, &m->flow_log, &spec, NULL, tags, 2),
                      "CreateFlowLogs", "REJECT to CloudWatch Logs");
    if (ok)
        ok = call_ok(np_aws_ec2_describe_flow_logs(ec2, &f, &n, &by_vpc, 1), "DescribeFlowLogs",
                     "listed");
    if (ok)
        ok = report(n == 1 && np_str_eq(f[0].flow_log_id, m->flow_log) &&
                        np_str_eq(f[0].resource_id, m->vpc) &&
                        np_str_eq(f[0].traffic_type, "REJECT") &&
                        np_str_eq(f[0].log_destination_type, "cloud-watch-logs") &&
                        np_str_eq(f[0].log_destination, dest) &&
                        np_str_eq(f[0].deliver_logs_permission_arn, role) &&
                        np_str_eq(tag_value(f[0].tags, f[0].n_tags, CHECK_TAG), marker),
                    "CreateFlowLogs read back", "%s, status %s", m->flow_log,
                    n ? f[0].flow_log_status : "(none)");
    np_aws_flow_logs_free(f, n);
    f = NULL;
    n = 0;
    const char *ids[] = {m->flow_log};
    if (ok)
        ok = call_ok(np_aws_ec2_delete_flow_logs(ec2, ids, 1), "DeleteFlowLogs", m->flow_log);
    if (ok)
        ok = call_ok(np_aws_ec2_describe_flow_logs(ec2, &f, &n, &by_vpc, 1), "DescribeFlowLogs",
                     "listed");
    if (ok) {
        free(m->flow_log);
        m->flow_log = NULL;
        ok = report(n == 0, "DeleteFlowLogs read back", "%zu flow logs left", n);
    }
    np_aws_flow_logs_free(f, n);
    return ok;
}

/* Deletes whatever is left, in dependency order; reports each step. */
static void clean_up(struct np_aws_ec2 *ec2, struct made *m, const struct np_aws_filter *by_tag)
{
    if (m->flow_log) {
        const char *ids[] = {m->flow_log};
        call_ok(np_aws_ec2_delete_flow_logs(ec2, ids, 1), "cleanup DeleteFlowLogs", m->flow_log);
    }
    if (m->rtb_assoc)
        call_ok(np_aws_ec2_disassociate_route_table(ec2, m->rtb_assoc),
                "cleanup DisassociateRouteTable", m->rtb_assoc);
    for (int i = 0; i < 2; i++)
        if (m->rtb[i])
            call_ok(np_aws_ec2_delete_route_table(ec2, m->rtb[i]), "DeleteRouteTable", m->rtb[i]);
    /* AWS refuses to delete an ACL that is still associated: give the subnet its default back */
    if (m->acl && m->acl_assoc && m->acl_default)
        move_acl_assoc(ec2, m, m->acl_default, "ReplaceNetworkAclAssociation (back)");
    if (m->acl)
        call_ok(np_aws_ec2_delete_network_acl(ec2, m->acl), "DeleteNetworkAcl", m->acl);
    if (m->vpc && m->subnet)
        call_fails(np_aws_ec2_delete_vpc(ec2, m->vpc), NP_EDEPENDENCY,
                   "DeleteVpc while a subnet is left");
    if (m->subnet)
        call_ok(np_aws_ec2_delete_subnet(ec2, m->subnet), "DeleteSubnet", m->subnet);
    if (m->vpc)
        call_ok(np_aws_ec2_delete_vpc(ec2, m->vpc), "DeleteVpc", m->vpc);
    struct np_aws_vpc *vpcs = NULL;
    size_t n = 0;
    if (call_ok(np_aws_ec2_describe_vpcs(ec2, &vpcs, &n, by_tag, 1), "DescribeVpcs (tag)",
                "listed"))
        report(n == 0, "DeleteVpc read back", "%zu tagged VPCs left", n);
    np_aws_vpcs_free(vpcs, n);
}

static void run(struct np_aws_ec2 *ec2, const char *region, const char *igw, const char *igw2)
{
    struct made m;
    char *account = NULL;
    char marker[64], filter_name[96], az[64];
    memset(&m, 0, sizeof(m));
    snprintf(marker, sizeof(marker), "%ld-%lld", (long)getpid(), (long long)np_time_now_ms());
    snprintf(filter_name, sizeof(filter_name), "tag:%s", CHECK_TAG);
    snprintf(az, sizeof(az), "%sa", region);
    const char *vals[1] = {marker};
    struct np_aws_filter by_tag = {filter_name, vals, 1};
    struct np_aws_tag tags[] = {{(char *)CHECK_TAG, marker},
                                {(char *)"Name", (char *)"np-aws-vpc-check"}};

    bool ok = call_ok(np_aws_sts_get_caller_identity(ec2, &account, NULL), "GetCallerIdentity",
                      "the account for the flow-log ARNs");
    ok = ok && vpc_and_attributes(ec2, &m, &by_tag, tags, marker);
    ok = ok && subnet(ec2, &m, &by_tag, tags, az);
    ok = ok && routes(ec2, &m, tags, igw, igw2);
    ok = ok && rt_associations(ec2, &m);
    ok = ok && acl_entries(ec2, &m, tags);
    ok = ok && move_acl_assoc(ec2, &m, m.acl, "ReplaceNetworkAclAssociation");
    ok = ok && flow_log(ec2, &m, tags, region, account, marker);
    (void)ok;
    clean_up(ec2, &m, &by_tag);
    made_clean_up(&m);
    free(account);
}

int main(int argc, char **argv)
{
    struct np_aws_credentials creds = {NULL, NULL, NULL};
    struct np_aws_ec2 *ec2 = NULL;
    if (argc != 3 || np_str_is_empty(argv[1]) || np_str_is_empty(argv[2])) {
        fprintf(stderr, "usage: %s IGW_ID IGW2_ID\n", argv[0]);
        return 2;
    }
    const char *region = getenv("AWS_REGION");
    if (np_str_is_empty(region))
        region = getenv("AWS_DEFAULT_REGION");
    if (np_str_is_empty(region))
        region = "us-east-1";
    int rc = np_aws_credentials_from_env(&creds);
    if (call_ok(rc, "credentials", "from the environment")) {
        struct np_aws_ec2_config cfg = {
            .region = region,
            .credentials = &creds,
            .ca_bundle = getenv("AWS_CA_BUNDLE"),
            .user_agent = "netposture-aws-vpc-check",
        };
        if (call_ok(np_aws_ec2_new(&ec2, &cfg), "client", region))
            run(ec2, region, argv[1], argv[2]);
    }
    printf("%s aws-vpc-check: %d step%s failed\n", n_failed ? "FAIL" : "ok  ", n_failed,
           n_failed == 1 ? "" : "s");
    np_aws_ec2_destroy(ec2);
    np_aws_credentials_clean_up(&creds);
    return n_failed ? 1 : 0;
}
