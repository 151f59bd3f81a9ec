/*
 * VPC plans: golden scenarios under tests/fixtures/posture/vpc-plans/<case>/ (a VPCPosture,
 * the observed VPC in a simple JSON shape, optional guardrails, the expected drift.txt and
 * plan.txt written by hand), then the order and text of every action kind, escaping, what is
 * never planned, and the route / entry texts and the entry's atomic rule.
 */
#include "posture/private/posture_private.h"
#include "vpc_fixture.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TestSuite(posture_vpc_plan, .fini = t_leak_check);

#define FIXTURES "tests/fixtures/posture/vpc-plans/"

static const char *const cases[] = {
    "console-drift",
    "new-vpc-pieces",
    "additive-guardrails",
    "converged-spellings",
};

/* ---------------------------------------------------------------- observed.json */

/*
 * observed.json, mapped the way the controller maps what it read (strings borrowed from the
 * JSON): {vpcId, cidrBlock, enableDnsSupport, enableDnsHostnames, tags: {k: v}, subnets:
 * {<spec name>: {subnetId, cidrBlock, availabilityZone, mapPublicIpOnLaunch, tags}},
 * routeTables: {<name>: {routeTableId, routes: [{destination*, <target field>, origin}], tags}},
 * networkAcls: {<name>: {networkAclId, entries: [AWS's NetworkAclEntry shape], tags}},
 * routeTableAssociations / networkAclAssociations: [{subnetId, associationId, routeTableId |
 * networkAclId}], defaultNetworkAclId, flowLogs: [{flowLogId, trafficType, logDestinationType,
 * logDestination}], defaultSecurityGroup: {groupId, rules: [{egress, protocol, fromPort,
 * toPort, cidr | groupId}]}}. A piece missing from its map is not present.
 */
struct loaded {
    struct np_posture_vpc_observed obs;
    struct np_posture_subnet_observed *subnets;
    struct np_posture_route_table_observed *rts;
    struct np_posture_network_acl_observed *acls;
    struct np_posture_ruleset sg;
    void **allocs; /* everything else allocated here */
    size_t n_allocs;
};

static void *keep(struct loaded *l, size_t n, size_t size)
{
    void *p = np_xcalloc(n ? n : 1, size);
    l->allocs = np_xrealloc(l->allocs, (l->n_allocs + 1) * sizeof(*l->allocs));
    l->allocs[l->n_allocs++] = p;
    return p;
}

static json_object *member(json_object *o, const char *k)
{
    json_object *v = NULL;
    return o && json_object_object_get_ex(o, k, &v) ? v : NULL;
}

static const char *str(json_object *o, const char *k)
{
    json_object *v = member(o, k);
    return v ? json_object_get_string(v) : NULL;
}

static bool flag(json_object *o, const char *k)
{
    return json_object_get_boolean(member(o, k));
}

static size_t len(json_object *arr)
{
    return arr && json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
}

static const struct np_posture_tag *tags_of(struct loaded *l, json_object *o, size_t *n)
{
    json_object *tags = member(o, "tags");
    size_t m = tags ? (size_t)json_object_object_length(tags) : 0;
    struct np_posture_tag *out = keep(l, m, sizeof(*out));
    *n = 0;
    if (!tags)
        return out;
    json_object_object_foreach(tags, k, v)
    {
        out[(*n)++] = (struct np_posture_tag){k, (char *)json_object_get_string(v)};
    }
    return out;
}

static void load_route(struct np_posture_raw_route *r, json_object *jr)
{
    static const struct {
        const char *field;
        enum np_posture_route_dest kind;
    } dests[] = {
        {"destinationCidrBlock", NP_POSTURE_DEST_CIDR4},
        {"destinationIpv6CidrBlock", NP_POSTURE_DEST_CIDR6},
        {"destinationPrefixListId", NP_POSTURE_DEST_PREFIX_LIST},
    };
    for (size_t d = 0; d < NP_ARRAY_LEN(dests); d++) {
        if (str(jr, dests[d].field)) {
            r->dest_kind = dests[d].kind;
            r->destination = str(jr, dests[d].field);
        }
    }
    for (int t = 0; t < NP_POSTURE_ROUTE_TARGET_COUNT; t++) {
        const char *v = str(jr, np_posture_route_target_name((enum np_posture_route_target)t));
        if (v) {
            r->has_target = true;
            r->target_kind = (enum np_posture_route_target)t;
            r->target = v;
        }
    }
    r->origin = str(jr, "origin");
}

static void load_entry(struct np_posture_raw_nacl_entry *e, json_object *je)
{
    json_object *ports = member(je, "portRange"), *icmp = member(je, "icmpTypeCode");
    e->rule_number = json_object_get_int(member(je, "ruleNumber"));
    e->egress = flag(je, "egress");
    e->protocol = str(je, "protocol");
    e->allow = np_str_eq(str(je, "ruleAction"), "allow");
    e->cidr = str(je, "cidrBlock");
    e->ipv6_cidr = str(je, "ipv6CidrBlock");
    e->has_ports = ports != NULL;
    e->from_port = json_object_get_int(member(ports, "from"));
    e->to_port = json_object_get_int(member(ports, "to"));
    e->has_icmp = icmp != NULL;
    e->icmp_type = json_object_get_int(member(icmp, "type"));
    e->icmp_code = json_object_get_int(member(icmp, "code"));
}

static const struct np_posture_assoc *assocs_of(struct loaded *l, json_object *arr,
                                                const char *owner, size_t *n)
{
    *n = len(arr);
    struct np_posture_assoc *out = keep(l, *n, sizeof(*out));
    for (size_t i = 0; i < *n; i++) {
        json_object *a = json_object_array_get_idx(arr, i);
        out[i] =
            (struct np_posture_assoc){str(a, "subnetId"), str(a, "associationId"), str(a, owner)};
    }
    return out;
}

static void load_pieces(struct loaded *l, json_object *js, const struct np_posture_vpc_spec *s)
{
    l->subnets = keep(l, s->n_subnets, sizeof(*l->subnets));
    for (size_t i = 0; i < s->n_subnets; i++) {
        json_object *o = member(member(js, "subnets"), s->subnets[i].name);
        struct np_posture_subnet_observed *sn = &l->subnets[i];
        if (!o)
            continue;
        *sn = (struct np_posture_subnet_observed){true,
                                                  str(o, "subnetId"),
                                                  str(o, "cidrBlock"),
                                                  str(o, "availabilityZone"),
                                                  flag(o, "mapPublicIpOnLaunch"),
                                                  NULL,
                                                  0};
        sn->tags = tags_of(l, o, &sn->n_tags);
    }
    l->rts = keep(l, s->n_route_tables, sizeof(*l->rts));
    for (size_t i = 0; i < s->n_route_tables; i++) {
        json_object *o = member(member(js, "routeTables"), s->route_tables[i].name);
        json_object *routes = member(o, "routes");
        if (!o)
            continue;
        struct np_posture_raw_route *r = keep(l, len(routes), sizeof(*r));
        for (size_t k = 0; k < len(routes); k++)
            load_route(&r[k], json_object_array_get_idx(routes, k));
        l->rts[i] = (struct np_posture_route_table_observed){
            true, str(o, "routeTableId"), r, len(routes), NULL, 0};
        l->rts[i].tags = tags_of(l, o, &l->rts[i].n_tags);
    }
    l->acls = keep(l, s->n_network_acls, sizeof(*l->acls));
    for (size_t i = 0; i < s->n_network_acls; i++) {
        json_object *o = member(member(js, "networkAcls"), s->network_acls[i].name);
        json_object *entries = member(o, "entries");
        if (!o)
            continue;
        struct np_posture_raw_nacl_entry *e = keep(l, len(entries), sizeof(*e));
        for (size_t k = 0; k < len(entries); k++)
            load_entry(&e[k], json_object_array_get_idx(entries, k));
        l->acls[i] = (struct np_posture_network_acl_observed){
            true, str(o, "networkAclId"), e, len(entries), NULL, 0};
        l->acls[i].tags = tags_of(l, o, &l->acls[i].n_tags);
    }
}

static void load_observed(struct loaded *l, json_object *js, const struct np_posture_vpc_spec *s)
{
    memset(l, 0, sizeof(*l));
    struct np_posture_vpc_observed *o = &l->obs;
    o->vpc_id = str(js, "vpcId");
    o->cidr_block = str(js, "cidrBlock");
    o->enable_dns_support = flag(js, "enableDnsSupport");
    o->enable_dns_hostnames = flag(js, "enableDnsHostnames");
    o->tags = tags_of(l, js, &o->n_tags);
    load_pieces(l, js, s);
    o->subnets = l->subnets;
    o->route_tables = l->rts;
    o->network_acls = l->acls;
    o->rt_assocs =
        assocs_of(l, member(js, "routeTableAssociations"), "routeTableId", &o->n_rt_assocs);
    o->nacl_assocs =
        assocs_of(l, member(js, "networkAclAssociations"), "networkAclId", &o->n_nacl_assocs);
    o->default_nacl_id = str(js, "defaultNetworkAclId");
    json_object *logs = member(js, "flowLogs");
    struct np_posture_flow_log_observed *fl = keep(l, len(logs), sizeof(*fl));
    for (size_t i = 0; i < len(logs); i++) {
        json_object *f = json_object_array_get_idx(logs, i);
        fl[i] = (struct np_posture_flow_log_observed){str(f, "flowLogId"), str(f, "trafficType"),
                                                      str(f, "logDestinationType"),
                                                      str(f, "logDestination")};
    }
    o->flow_logs = fl;
    o->n_flow_logs = len(logs);
    json_object *sg = member(js, "defaultSecurityGroup"), *rules = member(sg, "rules");
    if (!sg)
        return;
    o->default_sg_id = str(sg, "groupId");
    struct np_posture_raw_rule *raw = keep(l, len(rules), sizeof(*raw));
    for (size_t i = 0; i < len(rules); i++) {
        json_object *r = json_object_array_get_idx(rules, i);
        bool group = str(r, "groupId") != NULL;
        raw[i] = (struct np_posture_raw_rule){
            flag(r, "egress"),
            str(r, "protocol"),
            member(r, "fromPort") != NULL,
            json_object_get_int(member(r, "fromPort")),
            json_object_get_int(member(r, "toPort")),
            group ? NP_POSTURE_PEER_GROUP : NP_POSTURE_PEER_CIDR4,
            group ? str(r, "groupId") : str(r, "cidr"),
            NULL,
        };
    }
    np_posture_observed(&l->sg, raw, len(rules));
    o->default_sg_rules = &l->sg;
}

static void loaded_clean_up(struct loaded *l)
{
    for (size_t i = 0; i < l->n_allocs; i++)
        free(l->allocs[i]);
    free(l->allocs);
    np_posture_ruleset_clean_up(&l->sg);
}

/* ---------------------------------------------------------------- golden */

/* guardrails.json: [{name, spec}] parsed (owned array of owned guardrails). */
static struct np_posture_guardrail **load_guardrails(json_object *js, size_t *n)
{
    *n = len(js);
    struct np_posture_guardrail **g = np_xcalloc(*n ? *n : 1, sizeof(*g));
    for (size_t i = 0; i < *n; i++) {
        json_object *item = json_object_array_get_idx(js, i);
        cr_assert_eq(np_posture_guardrail_parse(&g[i], str(item, "name"), member(item, "spec")), 0,
                     "%s", np_error_message());
    }
    return g;
}

Test(posture_vpc_plan, golden)
{
    for (size_t c = 0; c < NP_ARRAY_LEN(cases); c++) {
        json_object *cr = t_fixture_json(FIXTURES, cases[c], "posture.json", false);
        json_object *seen = t_fixture_json(FIXTURES, cases[c], "observed.json", false);
        json_object *rails = t_fixture_json(FIXTURES, cases[c], "guardrails.json", true);
        struct np_posture_vpc_spec *spec = NULL;
        cr_assert_eq(np_posture_vpc_spec_parse(&spec, member(cr, "spec")), 0, "%s: %s", cases[c],
                     np_error_message());
        struct loaded l;
        load_observed(&l, seen, spec);
        size_t n_rails = 0;
        struct np_posture_guardrail **g = load_guardrails(rails, &n_rails);
        struct np_posture_delta delta = {0};
        struct np_posture_vpc_plan plan = {0};
        char **lines = NULL;
        size_t n_lines = 0;
        json_object *meta = member(cr, "metadata");
        cr_assert_eq(np_posture_vpc_diff(&delta, spec, &l.obs), 0);
        cr_assert_eq(np_posture_vpc_guardrail_mark(
                         &delta, spec, &l.obs, (const struct np_posture_guardrail *const *)g,
                         n_rails, str(meta, "namespace"), str(meta, "name")),
                     0);
        cr_assert_eq(np_posture_vpc_plan_build(&plan, &delta), 0);
        cr_assert_eq(np_posture_vpc_plan_text(&lines, &n_lines, &plan), 0);
        cr_assert_eq(n_lines, plan.n, "one line per action");

        char *drift = t_drift_text(&delta);
        char *text = t_join(lines);
        t_fixture_golden(FIXTURES, cases[c], "drift.txt", drift);
        t_fixture_golden(FIXTURES, cases[c], "plan.txt", text);
        char *blast = t_blast_text(&delta);
        t_fixture_golden(FIXTURES, cases[c], "blast.txt", blast);
        free(blast);
        free(drift);
        free(text);

        np_posture_lines_free(lines);
        np_posture_vpc_plan_clean_up(&plan);
        np_posture_delta_clean_up(&delta);
        for (size_t i = 0; i < n_rails; i++)
            np_posture_guardrail_destroy(g[i]);
        free(g);
        loaded_clean_up(&l);
        np_posture_vpc_spec_destroy(spec);
        json_object_put(cr);
        json_object_put(seen);
        json_object_put(rails);
    }
}

/* ---------------------------------------------------------------- order and texts */

/* The plan text of a delta (owned), its action count checked against the lines. */
static char *plan_text(const struct np_posture_delta *d)
{
    struct np_posture_vpc_plan p = {0};
    char **lines = NULL;
    size_t n = 0;
    cr_assert_eq(np_posture_vpc_plan_build(&p, d), 0);
    cr_assert_eq(np_posture_vpc_plan_text(&lines, &n, &p), 0);
    cr_assert_eq(n, p.n);
    char *text = t_join(lines);
    np_posture_lines_free(lines);
    np_posture_vpc_plan_clean_up(&p);
    return text;
}

Test(posture_vpc_plan, make_before_break_order)
{
    struct vpc_fixture f;
    struct np_posture_delta d = {0};
    t_vpc_fixture(&f);
    f.obs.enable_dns_hostnames = false;
    f.vpc_tags[0].value = "dev";
    f.vpc_tags[f.n_vpc_tags++] = (struct np_posture_tag){"owner", "alice"};
    f.subnets[1].present = false; /* create (gone with its association) */
    f.rt_assocs[1] = f.rt_assocs[--f.n_rt_assocs];
    f.routes[1].target = "nat-0other";    /* replace */
    f.routes[2] = f.routes[--f.n_routes]; /* pl route: create */
    f.routes[f.n_routes++] = (struct np_posture_raw_route)RT4(
        "10.9.0.0/16", NP_POSTURE_ROUTE_INSTANCE, "i-0f", "CreateRoute"); /* delete */
    f.entries[0].allow = false;                                           /* replace */
    f.entries[1] = f.entries[--f.n_entries];                              /* ingress 200: create */
    f.entries[f.n_entries++] =
        (struct np_posture_raw_nacl_entry)NACL_IN(300, "17", true, "10.0.0.0/8", true, 53, 53);
    f.rt_assocs[f.n_rt_assocs++] = (struct np_posture_assoc){"subnet-x", "rtbassoc-x", "rtb-1"};
    f.nacl_assocs[0].owner_id = "acl-default"; /* associate a */
    f.nacl_assocs[f.n_nacl_assocs++] = (struct np_posture_assoc){"subnet-y", "aclassoc-y", "acl-1"};
    f.n_flow_logs = 0;
    f.sg_rules[f.n_sg_rules++] = (struct np_posture_raw_rule)EG_DEFAULT;
    struct np_posture_vpc_spec *s = t_vpc_diff(&d, VPC_SPEC(""), &f);
    char *got = plan_text(&d);
    cr_expect_str_eq(got,
                     "create subnet/b 10.0.2.0/24 eu-west-1b\n"
                     "route create routeTable/private pl-0s3 gatewayId vpce-0e\n"
                     /* a deny replaced by an allow only widens: with the creations */
                     "entry replace networkAcl/private ingress 100 allow tcp 443 "
                     "10.0.0.0/8\n"
                     "flow-log create vpc REJECT s3 arn:aws:s3:::logs\n"
                     "route replace routeTable/private 0.0.0.0/0 natGatewayId nat-0abc\n"
                     "associate networkAcl/private subnet/a\n"
                     "set vpc enableDnsHostnames true\n"
                     "tag set vpc env=prod\n"
                     "tag delete vpc owner\n"
                     "route delete routeTable/private 10.9.0.0/16\n"
                     /* a deny created narrows: with the removals */
                     "entry create networkAcl/private ingress 200 deny all 0.0.0.0/0\n"
                     "entry delete networkAcl/private ingress 300\n"
                     "disassociate routeTable/private subnet-x\n"
                     "disassociate networkAcl/private subnet-y\n"
                     "revoke defaultSecurityGroup egress all 0.0.0.0/0\n",
                     "got:\n%s", got);
    free(got);
    /* The plan's actions carry deep copies of the items they repair. */
    struct np_posture_vpc_plan p = {0};
    np_posture_vpc_plan_build(&p, &d);
    cr_assert_eq(p.actions[0].kind, NP_POSTURE_VPC_CREATE_SUBNET);
    cr_assert_eq(p.actions[0].item.vpc->piece_index, 1);
    cr_assert_neq(p.actions[0].item.vpc, d.items[0].vpc);
    cr_assert_eq(p.actions[4].kind, NP_POSTURE_VPC_ROUTE_REPLACE);
    cr_assert_str_eq(p.actions[4].item.vpc->resource_id, "rtb-1");
    cr_assert_eq(p.actions[5].kind, NP_POSTURE_VPC_NACL_ASSOCIATE);
    cr_assert_str_eq(p.actions[5].item.vpc->association_id, "aclassoc-a");
    cr_assert_eq(p.actions[13].kind, NP_POSTURE_VPC_NACL_DISASSOCIATE);
    cr_assert_str_eq(p.actions[13].item.vpc->target_id, "acl-default");
    np_posture_vpc_plan_clean_up(&p);
    np_posture_vpc_plan_clean_up(&p); /* safe twice */
    np_posture_delta_clean_up(&d);
    np_posture_vpc_spec_destroy(s);
    t_vpc_fixture_clean_up(&f);
}

/*
 * Network ACL entries by what they do to reachability: those that only widen it come with the
 * creations (every flow the new spec adds is allowed before one the old spec had goes), those
 * that narrow it with the removals, other replacements in between.
 */
Test(posture_vpc_plan, entries_widening_first_narrowing_last)
{
    struct vpc_fixture f;
    struct np_posture_delta d = {0};
    t_vpc_fixture(&f);
    f.n_entries = 0; /* the spec's entries are missing: ingress 100 allow, 200 deny, egress 100 */
    f.entries[f.n_entries++] = (struct np_posture_raw_nacl_entry)NACL_IN(
        90, "6", false, "0.0.0.0/0", true, 22, 22); /* a deny to delete: widens */
    f.entries[f.n_entries++] = (struct np_posture_raw_nacl_entry)NACL_IN(
        95, "17", true, "0.0.0.0/0", true, 53, 53); /* an allow to delete: narrows */
    struct np_posture_vpc_spec *s = t_vpc_diff(&d, VPC_SPEC(""), &f);
    char *got = plan_text(&d);
    char *want = NULL;
    /* Only the entry lines matter here. */
    struct np_buf b = NP_BUF_INIT;
    np_buf_puts(&b, "");
    char *save = NULL;
    for (char *line = strtok_r(got, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        if (strstr(line, "entry "))
            np_buf_appendf(&b, "%s\n", line);
    want = np_buf_take(&b);
    cr_expect_str_eq(want,
                     "entry delete networkAcl/private ingress 90\n"
                     "entry create networkAcl/private ingress 100 allow tcp 443 10.0.0.0/8\n"
                     "entry create networkAcl/private egress 100 allow all 0.0.0.0/0\n"
                     "entry delete networkAcl/private ingress 95\n"
                     "entry create networkAcl/private ingress 200 deny all 0.0.0.0/0\n",
                     "got:\n%s", want);
    free(want);
    free(got);
    np_posture_delta_clean_up(&d);
    np_posture_vpc_spec_destroy(s);
    t_vpc_fixture_clean_up(&f);
}

Test(posture_vpc_plan, guardrail_removals_first)
{
    struct vpc_fixture f;
    struct np_posture_delta d = {0};
    t_vpc_fixture(&f);
    f.entries[0] =
        (struct np_posture_raw_nacl_entry)NACL_IN(100, "6", true, "0.0.0.0/0", true, 22, 22);
    f.entries[f.n_entries++] =
        (struct np_posture_raw_nacl_entry)NACL_IN(90, "-1", true, "0.0.0.0/0", false, 0, 0);
    f.entries[f.n_entries++] =
        (struct np_posture_raw_nacl_entry)NACL_IN(95, "-1", true, "10.0.0.0/8", false, 0, 0);
    f.sg_rules[f.n_sg_rules++] = (struct np_posture_raw_rule)IN_NP("-1", SG, "sg-default", NULL);
    f.n_flow_logs = 0;
    f.obs.enable_dns_support = false;
    struct np_posture_vpc_spec *s = t_vpc_diff(&d, VPC_SPEC(""), &f);
    /* Marked by hand here (test_vpc_guardrail.c covers the marking): 90, 100, the group. */
    for (size_t i = 0; i < d.n; i++) {
        char *text = np_posture_drift_text(&d.items[i]);
        d.items[i].guardrail =
            strstr(text, "ingress 95") == NULL && strstr(text, "enableDns") == NULL;
        free(text);
    }
    char *got = plan_text(&d);
    cr_expect_str_eq(got,
                     "entry delete networkAcl/private ingress 90\n"
                     "entry replace networkAcl/private ingress 100 allow tcp 443 "
                     "10.0.0.0/8\n"
                     "revoke defaultSecurityGroup ingress all sg-default\n"
                     "flow-log create vpc REJECT s3 arn:aws:s3:::logs\n"
                     "set vpc enableDnsSupport true\n"
                     "entry delete networkAcl/private ingress 95\n",
                     "got:\n%s", got);
    free(got);
    np_posture_delta_clean_up(&d);
    np_posture_vpc_spec_destroy(s);
    t_vpc_fixture_clean_up(&f);
}

/* Appends an item of piece with a VPC side of the given kind (owned by d). */
static struct np_posture_drift *add(struct np_posture_delta *d, enum np_posture_change change,
                                    enum np_posture_vpc_item item, const char *piece)
{
    struct np_posture_drift *it = np_posture_delta_add(d);
    it->change = change;
    it->vpc = np_xcalloc(1, sizeof(*it->vpc));
    it->vpc->item = item;
    it->vpc->piece = np_strdup(piece);
    it->vpc->piece_index = -1;
    return it;
}

Test(posture_vpc_plan, never_planned_and_escaped)
{
    struct np_posture_delta d = {0};
    /* The VPC itself: the controller creates it. */
    add(&d, NP_POSTURE_MISSING, NP_POSTURE_VPC_ITEM_PIECE, "vpc")->vpc->key =
        np_strdup("10.0.0.0/16");
    /* A security-group item has no VPC side: np_posture_plan_build's. */
    struct np_posture_drift *sg = np_posture_delta_add(&d);
    sg->change = NP_POSTURE_EXTRA;
    sg->rule = (struct np_posture_rule){NP_POSTURE_INGRESS,    np_strdup("tcp"),       22,  22,
                                        NP_POSTURE_PEER_CIDR4, np_strdup("0.0.0.0/0"), NULL};
    /* Combinations the diff never makes. */
    add(&d, NP_POSTURE_MISSING, NP_POSTURE_VPC_ITEM_ATTRIBUTE, "vpc");
    add(&d, NP_POSTURE_EXTRA, NP_POSTURE_VPC_ITEM_FLOW_LOG, "flowLogs");
    add(&d, NP_POSTURE_MISSING, NP_POSTURE_VPC_ITEM_DEFAULT_SG, "defaultSecurityGroup");
    add(&d, NP_POSTURE_CHANGED, NP_POSTURE_VPC_ITEM_ROUTE_ASSOC, "routeTable/x");
    add(&d, NP_POSTURE_DESCRIPTION, NP_POSTURE_VPC_ITEM_TAG, "vpc");
    /* Control characters never break a line. */
    struct np_posture_drift *tag =
        add(&d, NP_POSTURE_TAG_CHANGED, NP_POSTURE_VPC_ITEM_TAG, "subnet/a");
    tag->tag.key = np_strdup("k\tx");
    tag->tag.value = np_strdup("line\nbreak\x01");
    tag->observed_value = np_strdup("old");
    char *got = plan_text(&d);
    cr_expect_str_eq(got, "tag set subnet/a k\\tx=line\\nbreak\\x01\n");
    free(got);
    /* The security-group plan skips the VPC items, and builds the rule item. */
    struct np_posture_plan p = {0};
    cr_assert_eq(np_posture_plan_build(&p, &d), 0);
    cr_assert_eq(np_posture_plan_count(&p), 1);
    np_posture_plan_clean_up(&p);
    np_posture_delta_clean_up(&d);

    /* An empty delta: an empty plan and a lone NULL line. */
    struct np_posture_vpc_plan vp = {0};
    char **lines = NULL;
    size_t n = 7;
    cr_assert_eq(np_posture_vpc_plan_build(&vp, &d), 0);
    cr_assert_eq(vp.n, 0);
    cr_assert_eq(np_posture_vpc_plan_text(&lines, &n, &vp), 0);
    cr_assert_eq(n, 0);
    cr_assert_null(lines[0]);
    np_posture_lines_free(lines);
    np_posture_vpc_plan_clean_up(&vp);
}

Test(posture_vpc_plan, texts)
{
    static const struct {
        struct np_posture_nacl_entry e;
        const char *text;
    } entries[] = {
        {{100, false, "tcp", true, false, "10.0.0.0/8", 443, 443, -1, -1},
         "allow tcp 443 10.0.0.0/8"},
        {{100, false, "udp", false, false, "10.0.0.0/8", 1024, 65535, -1, -1},
         "deny udp 1024-65535 10.0.0.0/8"},
        {{1, true, "-1", false, false, "0.0.0.0/0", -1, -1, -1, -1}, "deny all 0.0.0.0/0"},
        {{1, false, "icmp", true, false, "10.0.0.0/8", -1, -1, 8, 0},
         "allow icmp type 8 code 0 10.0.0.0/8"},
        {{1, false, "icmp", true, false, "10.0.0.0/8", -1, -1, 3, -1},
         "allow icmp type 3 10.0.0.0/8"},
        {{1, false, "icmpv6", true, true, "::/0", -1, -1, -1, -1}, "allow icmpv6 ::/0"},
        {{1, false, "47", true, false, "10.0.0.0/8", -1, -1, -1, -1}, "allow 47 10.0.0.0/8"},
    };
    for (size_t i = 0; i < NP_ARRAY_LEN(entries); i++) {
        char *text = np_posture_nacl_entry_text(&entries[i].e);
        cr_expect_str_eq(text, entries[i].text, "entry %zu", i);
        free(text);
    }

    /* The atomic rule of an allow entry; none for a deny entry. */
    struct np_posture_rule r = {0};
    cr_assert_not(np_posture_nacl_entry_rule(&entries[1].e, &r));
    cr_assert_null(r.protocol, "untouched");
    cr_assert(np_posture_nacl_entry_rule(&entries[3].e, &r));
    cr_assert_eq(r.direction, NP_POSTURE_INGRESS);
    cr_assert_str_eq(r.protocol, "icmp");
    cr_assert_eq(r.from_port, 8, "ICMP type as AWS encodes it in a rule");
    cr_assert_eq(r.to_port, 0);
    cr_assert_eq(r.peer_kind, NP_POSTURE_PEER_CIDR4);
    cr_assert_str_eq(r.peer, "10.0.0.0/8");
    cr_assert_null(r.description);
    free(r.protocol);
    free(r.peer);
    struct np_posture_nacl_entry out = {7, true, "-1", true, true, "::/0", -1, -1, -1, -1};
    cr_assert(np_posture_nacl_entry_rule(&out, &r));
    cr_assert_eq(r.direction, NP_POSTURE_EGRESS);
    cr_assert_eq(r.peer_kind, NP_POSTURE_PEER_CIDR6);
    char *text = np_posture_rule_text(&r);
    cr_expect_str_eq(text, "all ::/0");
    free(text);
    free(r.protocol);
    free(r.peer);

    struct np_posture_route route = {NP_POSTURE_DEST_PREFIX_LIST, "pl-0s3",
                                     NP_POSTURE_ROUTE_GATEWAY, "vpce-0e"};
    text = np_posture_route_text(&route);
    cr_expect_str_eq(text, "pl-0s3 gatewayId vpce-0e");
    free(text);
    route.target = NULL;
    text = np_posture_route_text(&route);
    cr_expect_str_eq(text, "pl-0s3 no target");
    free(text);

    static const char *const names[] = {
        "gatewayId",
        "natGatewayId",
        "transitGatewayId",
        "vpcPeeringConnectionId",
        "egressOnlyInternetGatewayId",
        "carrierGatewayId",
        "localGatewayId",
        "coreNetworkArn",
        "instanceId",
        "networkInterfaceId",
    };
    cr_assert_eq(NP_ARRAY_LEN(names), NP_POSTURE_ROUTE_TARGET_COUNT);
    for (int t = 0; t < NP_POSTURE_ROUTE_TARGET_COUNT; t++)
        cr_expect_str_eq(np_posture_route_target_name((enum np_posture_route_target)t), names[t]);
    cr_expect_str_eq(np_posture_route_target_name(NP_POSTURE_ROUTE_TARGET_COUNT), "unknownTarget");
}
