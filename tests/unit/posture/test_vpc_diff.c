/*
 * VPC posture diff, table-driven over the fixture (vpc_fixture.h): attributes, tags, routes
 * added/removed/retargeted, local and propagated routes ignored, entries added/removed/
 * replaced, the 32767 entries ignored, associations moved in and out, flow logs, default
 * group rules, Additive vs Exclusive, missing pieces; then the details of each item kind.
 */
#include "vpc_fixture.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

TestSuite(posture_vpc_diff, .fini = t_leak_check);

#define EXCLUSIVE VPC_SPEC("")
#define ADDITIVE VPC_SPEC(",'ownership':'Additive'")

/* ---------------------------------------------------------------- edits of the fixture */

static void converged(struct vpc_fixture *f)
{
    (void)f;
}

static void attributes(struct vpc_fixture *f)
{
    f->obs.enable_dns_hostnames = false;
    f->subnets[0].map_public_ip = true;
    f->subnets[1].map_public_ip = false; /* b does not declare it: not managed */
}

static struct np_posture_tag subnet_a_tags[] = {{"tier", "x"}, {"aws:foo", "y"}};

static void tags(struct vpc_fixture *f)
{
    f->vpc_tags[0].value = "dev";
    f->vpc_tags[f->n_vpc_tags++] = (struct np_posture_tag){"owner", "alice"};
    f->subnets[0].tags = subnet_a_tags;
    f->subnets[0].n_tags = 2;
}

static void route_added(struct vpc_fixture *f)
{
    f->routes[f->n_routes++] = (struct np_posture_raw_route)RT4(
        "10.2.3.4/16", NP_POSTURE_ROUTE_VPC_PEERING, "pcx-1", "CreateRoute");
}

static void route_removed(struct vpc_fixture *f)
{
    f->routes[1] = f->routes[--f->n_routes];
}

static void route_retargeted(struct vpc_fixture *f)
{
    f->routes[1].target_kind = NP_POSTURE_ROUTE_GATEWAY;
    f->routes[1].target = "igw-1";
}

static void route_blackhole(struct vpc_fixture *f)
{
    f->routes[1].has_target = false;
    f->routes[1].target = NULL;
}

static void routes_not_ours(struct vpc_fixture *f)
{
    /* A second local route (IPv6) and another propagated one: never drift. */
    f->routes[f->n_routes++] = (struct np_posture_raw_route){
        NP_POSTURE_DEST_CIDR6, "2001:db8::/56", true, NP_POSTURE_ROUTE_GATEWAY, "local", NULL};
    f->routes[f->n_routes++] = (struct np_posture_raw_route)RT4(
        "172.16.0.0/12", NP_POSTURE_ROUTE_GATEWAY, "vgw-1", "EnableVgwRoutePropagation");
}

static void entry_added(struct vpc_fixture *f)
{
    f->entries[f->n_entries++] =
        (struct np_posture_raw_nacl_entry)NACL_IN(150, "6", true, "0.0.0.0/0", true, 22, 22);
}

static void entry_removed(struct vpc_fixture *f)
{
    f->entries[1] = f->entries[--f->n_entries];
}

static void entry_replaced(struct vpc_fixture *f)
{
    f->entries[0] =
        (struct np_posture_raw_nacl_entry)NACL_IN(100, "6", false, "0.0.0.0/0", true, 22, 22);
}

static void entry_icmp(struct vpc_fixture *f)
{
    /* Spellings only: icmp as "1" with type/code, unmasked CIDR, 32767 everywhere. */
    f->entries[f->n_entries++] = (struct np_posture_raw_nacl_entry){
        120, false, "1", true, "10.1.2.3/8", NULL, false, 0, 0, true, 8, 0};
    f->entries[f->n_entries++] = (struct np_posture_raw_nacl_entry){
        32767, false, "-1", false, NULL, "::/0", false, 0, 0, false, 0, 0};
}

static void assocs_moved(struct vpc_fixture *f)
{
    f->rt_assocs[1].owner_id = "rtb-main"; /* b left our table */
    f->rt_assocs[f->n_rt_assocs++] = (struct np_posture_assoc){"subnet-x", "rtbassoc-x", "rtb-1"};
    f->nacl_assocs[0].owner_id = "acl-default"; /* a left our ACL */
    f->nacl_assocs[1].owner_id = "acl-1";       /* b joined it */
}

static void assoc_none(struct vpc_fixture *f)
{
    f->rt_assocs[0] = f->rt_assocs[--f->n_rt_assocs]; /* a: the main table, implicitly */
}

static void flow_log_other(struct vpc_fixture *f)
{
    f->flow_logs[0].traffic_type = "ACCEPT";
    f->flow_logs[f->n_flow_logs++] =
        (struct np_posture_flow_log_observed){"fl-2", "REJECT", "s3", "arn:aws:s3:::other"};
}

static void flow_log_gone(struct vpc_fixture *f)
{
    f->n_flow_logs = 0;
}

static void default_sg_open(struct vpc_fixture *f)
{
    f->sg_rules[f->n_sg_rules++] = (struct np_posture_raw_rule)IN_NP("-1", SG, "SG-DEFAULT", NULL);
    f->sg_rules[f->n_sg_rules++] = (struct np_posture_raw_rule)EG_DEFAULT;
}

static void pieces_missing(struct vpc_fixture *f)
{
    f->subnets[1].present = false;
    f->subnets[1].subnet_id = NULL;
    f->rt.present = false;
    f->acl.present = false;
    f->nacl_assocs[0].owner_id = "acl-default"; /* no ACL of ours to be in */
}

static void vpc_missing(struct vpc_fixture *f)
{
    f->obs.vpc_id = NULL;
    f->n_flow_logs = 0;
}

static const struct {
    const char *name;
    const char *spec;
    void (*edit)(struct vpc_fixture *f);
    const char *drift;
} cases[] = {
    {"converged", EXCLUSIVE, converged, ""},
    {"converged additive", ADDITIVE, converged, ""},
    {"attributes", EXCLUSIVE, attributes,
     "vpc Changed enableDnsHostnames=true (is false)\n"
     "subnet/a Changed mapPublicIpOnLaunch=false (is true)\n"},
    {"tags", EXCLUSIVE, tags,
     "vpc TagChanged env=prod\n"
     "vpc TagExtra owner=alice\n"
     "subnet/a TagExtra tier=x\n"},
    {"tags additive", ADDITIVE, tags, "vpc TagChanged env=prod\n"},
    {"route added", EXCLUSIVE, route_added,
     "routeTable/private Extra 10.2.0.0/16 vpcPeeringConnectionId pcx-1\n"},
    {"route added additive", ADDITIVE, route_added, ""},
    {"route removed", EXCLUSIVE, route_removed,
     "routeTable/private Missing 0.0.0.0/0 natGatewayId nat-0abc\n"},
    {"route removed additive", ADDITIVE, route_removed,
     "routeTable/private Missing 0.0.0.0/0 natGatewayId nat-0abc\n"},
    {"route retargeted", ADDITIVE, route_retargeted,
     "routeTable/private Changed 0.0.0.0/0 natGatewayId nat-0abc (is gatewayId igw-1)\n"},
    {"route blackhole", EXCLUSIVE, route_blackhole,
     "routeTable/private Changed 0.0.0.0/0 natGatewayId nat-0abc (is no target)\n"},
    {"local and propagated routes", EXCLUSIVE, routes_not_ours, ""},
    {"entry added", EXCLUSIVE, entry_added,
     "networkAcl/private Extra ingress 150 allow tcp 22 0.0.0.0/0\n"},
    {"entry added additive", ADDITIVE, entry_added, ""},
    {"entry removed", EXCLUSIVE, entry_removed,
     "networkAcl/private Missing ingress 200 deny all 0.0.0.0/0\n"},
    {"entry replaced", ADDITIVE, entry_replaced,
     "networkAcl/private Changed ingress 100 allow tcp 443 10.0.0.0/8 (is deny tcp 22 "
     "0.0.0.0/0)\n"},
    {"entry icmp spellings", EXCLUSIVE, entry_icmp,
     "networkAcl/private Extra ingress 120 allow icmp type 8 code 0 10.0.0.0/8\n"},
    {"associations moved", EXCLUSIVE, assocs_moved,
     "routeTable/private Missing subnet b\n"
     "routeTable/private Extra subnet subnet-x\n"
     "networkAcl/private Missing subnet a\n"
     "networkAcl/private Extra subnet subnet-b\n"},
    {"associations moved additive", ADDITIVE, assocs_moved,
     "routeTable/private Missing subnet b\n"
     "networkAcl/private Missing subnet a\n"},
    {"association none", EXCLUSIVE, assoc_none, "routeTable/private Missing subnet a\n"},
    {"flow log other", EXCLUSIVE, flow_log_other,
     "flowLogs Missing REJECT to s3 arn:aws:s3:::logs\n"},
    {"flow log gone", ADDITIVE, flow_log_gone, "flowLogs Missing REJECT to s3 arn:aws:s3:::logs\n"},
    {"default group open", ADDITIVE, default_sg_open,
     "defaultSecurityGroup Extra ingress all sg-default\n"
     "defaultSecurityGroup Extra egress all 0.0.0.0/0\n"},
    {"pieces missing", EXCLUSIVE, pieces_missing,
     "subnet/b Missing 10.0.2.0/24 eu-west-1b\n"
     "routeTable/private Missing route table\n"
     "networkAcl/private Missing network ACL\n"},
    {"vpc missing", EXCLUSIVE, vpc_missing, "vpc Missing 10.0.0.0/16\n"},
};

Test(posture_vpc_diff, table)
{
    for (size_t i = 0; i < NP_ARRAY_LEN(cases); i++) {
        struct vpc_fixture f;
        struct np_posture_delta d = {0};
        t_vpc_fixture(&f);
        cases[i].edit(&f);
        struct np_posture_vpc_spec *s = t_vpc_diff(&d, cases[i].spec, &f);
        char *got = t_drift_text(&d);
        cr_expect_str_eq(got, cases[i].drift, "%s\ngot:\n%swant:\n%s", cases[i].name, got,
                         cases[i].drift);
        free(got);
        np_posture_delta_clean_up(&d);
        np_posture_vpc_spec_destroy(s);
        t_vpc_fixture_clean_up(&f);
    }
}

/* ---------------------------------------------------------------- details */

/* The only item of a delta, asserted. */
static const struct np_posture_drift *only(const struct np_posture_delta *d)
{
    cr_assert_eq(d->n, 1, "want one item, have %zu", d->n);
    cr_assert_not_null(d->items[0].vpc);
    return &d->items[0];
}

Test(posture_vpc_diff, order_across_pieces)
{
    struct vpc_fixture f;
    struct np_posture_delta d = {0};
    t_vpc_fixture(&f);
    attributes(&f);
    tags(&f);
    route_retargeted(&f);
    entry_added(&f);
    assocs_moved(&f);
    flow_log_gone(&f);
    default_sg_open(&f);
    struct np_posture_vpc_spec *s = t_vpc_diff(&d, EXCLUSIVE, &f);
    char *got = t_drift_text(&d);
    cr_expect_str_eq(got, "vpc Changed enableDnsHostnames=true (is false)\n"
                          "vpc TagChanged env=prod\n"
                          "vpc TagExtra owner=alice\n"
                          "subnet/a Changed mapPublicIpOnLaunch=false (is true)\n"
                          "subnet/a TagExtra tier=x\n"
                          "routeTable/private Changed 0.0.0.0/0 natGatewayId nat-0abc (is "
                          "gatewayId igw-1)\n"
                          "routeTable/private Missing subnet b\n"
                          "routeTable/private Extra subnet subnet-x\n"
                          "networkAcl/private Extra ingress 150 allow tcp 22 0.0.0.0/0\n"
                          "networkAcl/private Missing subnet a\n"
                          "networkAcl/private Extra subnet subnet-b\n"
                          "flowLogs Missing REJECT to s3 arn:aws:s3:::logs\n"
                          "defaultSecurityGroup Extra ingress all sg-default\n"
                          "defaultSecurityGroup Extra egress all 0.0.0.0/0\n");
    free(got);
    /* Each item's typed piece agrees with its text. */
    static const char *const prefixes[] = {
        [NP_POSTURE_PIECE_VPC] = "vpc",
        [NP_POSTURE_PIECE_SUBNET] = "subnet/",
        [NP_POSTURE_PIECE_ROUTE_TABLE] = "routeTable/",
        [NP_POSTURE_PIECE_NETWORK_ACL] = "networkAcl/",
        [NP_POSTURE_PIECE_FLOW_LOGS] = "flowLogs",
        [NP_POSTURE_PIECE_DEFAULT_SG] = "defaultSecurityGroup",
    };
    bool seen[NP_ARRAY_LEN(prefixes)] = {false};
    for (size_t i = 0; i < d.n; i++) {
        cr_expect_not(d.items[i].guardrail, "the diff never marks guardrails");
        const struct np_posture_vpc_drift *v = d.items[i].vpc;
        cr_assert_lt((size_t)v->piece_kind, NP_ARRAY_LEN(prefixes));
        cr_expect(np_str_has_prefix(v->piece, prefixes[v->piece_kind]), "item %zu: %s is kind %d",
                  i, v->piece, (int)v->piece_kind);
        seen[v->piece_kind] = true;
    }
    for (size_t k = 0; k < NP_ARRAY_LEN(seen); k++)
        cr_expect(seen[k], "no item of piece kind %zu", k);
    np_posture_delta_clean_up(&d);
    np_posture_vpc_spec_destroy(s);
    t_vpc_fixture_clean_up(&f);
}

Test(posture_vpc_diff, item_details)
{
    struct vpc_fixture f;
    struct np_posture_delta d = {0};
    struct np_posture_vpc_spec *s = NULL;

    /* Attribute of a subnet: its id, the desired value. */
    t_vpc_fixture(&f);
    f.subnets[0].map_public_ip = true;
    s = t_vpc_diff(&d, EXCLUSIVE, &f);
    const struct np_posture_drift *it = only(&d);
    cr_assert_eq(it->vpc->item, NP_POSTURE_VPC_ITEM_ATTRIBUTE);
    cr_assert_eq(it->change, NP_POSTURE_CHANGED);
    cr_assert_str_eq(it->vpc->piece, "subnet/a");
    cr_assert_eq(it->vpc->piece_index, 0);
    cr_assert_str_eq(it->vpc->resource_id, "subnet-a");
    cr_assert_str_eq(it->vpc->key, "mapPublicIpOnLaunch");
    cr_assert_not(it->vpc->value);
    cr_assert_null(it->rule.protocol, "no rule: never an exception's");
    np_posture_delta_clean_up(&d);
    np_posture_vpc_spec_destroy(s);

    /* A retargeted route: desired and observed, canonical. */
    route_retargeted(&f);
    f.subnets[0].map_public_ip = false;
    s = t_vpc_diff(&d, EXCLUSIVE, &f);
    it = only(&d);
    cr_assert_eq(it->vpc->item, NP_POSTURE_VPC_ITEM_ROUTE);
    cr_assert_str_eq(it->vpc->resource_id, "rtb-1");
    cr_assert_str_eq(it->vpc->key, "0.0.0.0/0");
    cr_assert_eq(it->vpc->route.target_kind, NP_POSTURE_ROUTE_NAT_GATEWAY);
    cr_assert_str_eq(it->vpc->route.target, "nat-0abc");
    cr_assert_eq(it->vpc->have_route.target_kind, NP_POSTURE_ROUTE_GATEWAY);
    cr_assert_str_eq(it->vpc->have_route.target, "igw-1");
    cr_assert_eq(it->vpc->piece_index, 0);
    np_posture_delta_clean_up(&d);
    np_posture_vpc_spec_destroy(s);
    t_vpc_fixture_clean_up(&f);

    /* A replaced entry: desired, observed (canonical), and the observed allow rule. */
    t_vpc_fixture(&f);
    f.entries[1] =
        (struct np_posture_raw_nacl_entry)NACL_IN(200, "17", true, "0.0.0.0/0", true, 53, 53);
    s = t_vpc_diff(&d, EXCLUSIVE, &f);
    it = only(&d);
    cr_assert_eq(it->vpc->item, NP_POSTURE_VPC_ITEM_NACL_ENTRY);
    cr_assert_eq(it->change, NP_POSTURE_CHANGED);
    cr_assert_str_eq(it->vpc->resource_id, "acl-1");
    cr_assert_str_eq(it->vpc->key, "ingress 200");
    cr_assert_not(it->vpc->entry.allow);
    cr_assert_str_eq(it->vpc->entry.protocol, "-1");
    cr_assert_str_eq(it->vpc->have_entry.protocol, "udp");
    cr_assert_eq(it->vpc->have_entry.from_port, 53);
    cr_assert_str_eq(it->rule.protocol, "udp", "the observed allow entry as a rule");
    cr_assert_eq(it->rule.direction, NP_POSTURE_INGRESS);
    cr_assert_eq(it->rule.from_port, 53);
    cr_assert_eq(it->rule.peer_kind, NP_POSTURE_PEER_CIDR4);
    cr_assert_str_eq(it->rule.peer, "0.0.0.0/0");
    np_posture_delta_clean_up(&d);
    np_posture_vpc_spec_destroy(s);

    /* A missing deny entry has no rule. */
    entry_removed(&f);
    s = t_vpc_diff(&d, EXCLUSIVE, &f);
    it = only(&d);
    cr_assert_eq(it->change, NP_POSTURE_MISSING);
    cr_assert_null(it->rule.protocol);
    np_posture_delta_clean_up(&d);
    np_posture_vpc_spec_destroy(s);
    t_vpc_fixture_clean_up(&f);

    /* Associations: what a repair needs. */
    t_vpc_fixture(&f);
    assocs_moved(&f);
    s = t_vpc_diff(&d, EXCLUSIVE, &f);
    cr_assert_eq(d.n, 4);
    const struct np_posture_vpc_drift *v = d.items[0].vpc;
    cr_assert_eq(v->item, NP_POSTURE_VPC_ITEM_ROUTE_ASSOC);
    cr_assert_str_eq(v->key, "b");
    cr_assert_str_eq(v->subnet_id, "subnet-b");
    cr_assert_str_eq(v->association_id, "rtbassoc-b");
    cr_assert_str_eq(v->target_id, "rtb-1");
    v = d.items[1].vpc;
    cr_assert_eq(d.items[1].change, NP_POSTURE_EXTRA);
    cr_assert_str_eq(v->association_id, "rtbassoc-x");
    cr_assert_null(v->target_id, "back to the main route table");
    v = d.items[2].vpc;
    cr_assert_eq(v->item, NP_POSTURE_VPC_ITEM_NACL_ASSOC);
    cr_assert_str_eq(v->subnet_id, "subnet-a");
    cr_assert_str_eq(v->association_id, "aclassoc-a");
    cr_assert_str_eq(v->target_id, "acl-1");
    v = d.items[3].vpc;
    cr_assert_str_eq(v->key, "subnet-b");
    cr_assert_str_eq(v->association_id, "aclassoc-b");
    cr_assert_str_eq(v->target_id, "acl-default", "back to the default ACL");
    np_posture_delta_clean_up(&d);
    np_posture_vpc_spec_destroy(s);
    t_vpc_fixture_clean_up(&f);

    /* No association at all: associate, nothing to replace. */
    t_vpc_fixture(&f);
    assoc_none(&f);
    s = t_vpc_diff(&d, EXCLUSIVE, &f);
    it = only(&d);
    cr_assert_null(it->vpc->association_id);
    cr_assert_str_eq(it->vpc->subnet_id, "subnet-a");
    np_posture_delta_clean_up(&d);
    np_posture_vpc_spec_destroy(s);
    t_vpc_fixture_clean_up(&f);

    /* Flow logs and the default group. */
    t_vpc_fixture(&f);
    flow_log_gone(&f);
    default_sg_open(&f);
    s = t_vpc_diff(&d, EXCLUSIVE, &f);
    cr_assert_eq(d.n, 3);
    v = d.items[0].vpc;
    cr_assert_eq(v->item, NP_POSTURE_VPC_ITEM_FLOW_LOG);
    cr_assert_str_eq(v->resource_id, "vpc-1");
    cr_assert_str_eq(v->key, "REJECT");
    cr_assert_str_eq(v->target_id, "arn:aws:s3:::logs");
    cr_assert_eq(v->piece_index, -1);
    cr_assert_eq(d.items[1].vpc->item, NP_POSTURE_VPC_ITEM_DEFAULT_SG);
    cr_assert_str_eq(d.items[1].vpc->resource_id, "sg-default");
    cr_assert_str_eq(d.items[1].rule.peer, "sg-default");
    cr_assert_eq(d.items[2].rule.direction, NP_POSTURE_EGRESS);
    np_posture_delta_clean_up(&d);
    np_posture_vpc_spec_destroy(s);
    t_vpc_fixture_clean_up(&f);
}

Test(posture_vpc_diff, unmanaged_and_absent_parts)
{
    struct vpc_fixture f;
    struct np_posture_delta d = {0};
    /* No restrictAll, flow logs disabled, no attributes declared: none of it is drift. */
    const char *spec = "{'cidrBlock':'10.0.0.0/16','flowLogs':{'enabled':false}}";
    t_vpc_fixture(&f);
    default_sg_open(&f);
    flow_log_gone(&f);
    attributes(&f);
    f.n_vpc_tags = 2; /* env and the ownership tag */
    f.vpc_tags[0].key = "netposture.dev/uid";
    struct np_posture_vpc_spec *s = t_vpc_diff(&d, spec, &f);
    cr_assert_eq(d.n, 0, "reserved tags and unmanaged parts: no drift");
    np_posture_delta_clean_up(&d);
    /* The default group's rules unknown (NULL): nothing to say. */
    np_posture_vpc_spec_destroy(s);
    s = t_vpc_spec(EXCLUSIVE);
    f.obs.default_sg_rules = NULL;
    f.obs.enable_dns_hostnames = true;
    f.subnets[0].map_public_ip = false;
    f.n_vpc_tags = 1;
    f.vpc_tags[0] = (struct np_posture_tag){"env", "prod"};
    cr_assert_eq(np_posture_vpc_diff(&d, s, &f.obs), 0);
    char *got = t_drift_text(&d);
    cr_expect_str_eq(got, "flowLogs Missing REJECT to s3 arn:aws:s3:::logs\n");
    free(got);
    np_posture_delta_clean_up(&d);
    /* Absent piece arrays read as absent pieces. */
    f.obs.subnets = NULL;
    f.obs.route_tables = NULL;
    f.obs.network_acls = NULL;
    cr_assert_eq(np_posture_vpc_diff(&d, s, &f.obs), 0);
    got = t_drift_text(&d);
    cr_expect_str_eq(got, "subnet/a Missing 10.0.1.0/24 eu-west-1a\n"
                          "subnet/b Missing 10.0.2.0/24 eu-west-1b\n"
                          "routeTable/private Missing route table\n"
                          "networkAcl/private Missing network ACL\n"
                          "flowLogs Missing REJECT to s3 arn:aws:s3:::logs\n");
    free(got);
    np_posture_delta_clean_up(&d);
    /* Errors. */
    cr_assert_eq(np_posture_vpc_diff(&d, NULL, &f.obs), NP_EINVAL);
    cr_assert_eq(np_posture_vpc_diff(&d, s, NULL), NP_EINVAL);
    cr_assert_eq(d.n, 0);
    np_posture_vpc_spec_destroy(s);
    t_vpc_fixture_clean_up(&f);
}

Test(posture_vpc_diff, changed_name_and_scope)
{
    cr_assert_str_eq(np_posture_change_name(NP_POSTURE_CHANGED), "Changed");
    cr_assert_str_eq(np_posture_change_name((enum np_posture_change)99), "Unknown");
    /* Copies keep the VPC details (delta_select deep-copies them). */
    struct vpc_fixture f;
    struct np_posture_delta d = {0}, sel = {0};
    t_vpc_fixture(&f);
    entry_replaced(&f);
    route_retargeted(&f);
    struct np_posture_vpc_spec *s = t_vpc_diff(&d, EXCLUSIVE, &f);
    struct np_posture_remediation rem = {.mode = NP_POSTURE_MODE_ENFORCE};
    struct np_posture_verdict v = {0};
    cr_assert_eq(np_posture_policy_decide(
                     &v, &(struct np_posture_policy_input){.remediation = &rem, .delta = &d}),
                 0);
    cr_assert_eq(np_posture_delta_select(&sel, &d, &v, NP_POSTURE_ITEM_APPLY), 0);
    char *a = t_drift_text(&d), *b = t_drift_text(&sel);
    cr_expect_str_eq(a, b);
    cr_assert_neq(sel.items[0].vpc, d.items[0].vpc, "a deep copy");
    cr_assert_str_eq(sel.items[1].vpc->have_entry.cidr, "0.0.0.0/0");
    free(a);
    free(b);
    np_posture_verdict_clean_up(&v);
    np_posture_delta_clean_up(&sel);
    np_posture_delta_clean_up(&d);
    np_posture_vpc_spec_destroy(s);
    t_vpc_fixture_clean_up(&f);
}
