/*
 * Guardrails of VPC postures: parsing require rules and deny.resources, security-group paths
 * ignoring rules without the securityGroups resource, the CIS network controls checked on a
 * declared VPC (network ACLs open to the internet on 22/3389, flow logs, the default group),
 * exceptions, and marking drift (Exclusive and Additive) so the plan removes it first.
 */
#include "vpc_fixture.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

TestSuite(posture_vpc_guardrail, .fini = t_leak_check);

static struct np_posture_guardrail *t_guardrail(const char *name, const char *sq)
{
    json_object *o = t_json(sq);
    struct np_posture_guardrail *g = NULL;
    int rc = np_posture_guardrail_parse(&g, name, o);
    json_object_put(o);
    cr_assert_eq(rc, 0, "guardrail rejected: %s\nspec: %s", np_error_message(), sq);
    return g;
}

/* CIS AWS Foundations 5.1-5.4 and 3.9 for VPC postures; bastion/jump is exempt from 5.1. */
#define CIS_VPC                                                                                    \
    "{'rules':["                                                                                   \
    "{'id':'nacl-admin-ports','references':['CIS AWS Foundations 5.1'],"                           \
    "'deny':{'direction':'ingress','cidrs':['0.0.0.0/0','::/0'],'ports':[22,3389],"                \
    "'protocols':['tcp','udp','all'],'resources':['networkAcls']},"                                \
    "'exceptions':[{'namespace':'bastion','posture':'jump'}]},"                                    \
    "{'id':'default-sg','references':['CIS AWS Foundations 5.4'],"                                 \
    "'require':{'defaultSecurityGroupRestricted':true}},"                                          \
    "{'id':'flow-logs','references':['CIS AWS Foundations 3.9'],'require':{'flowLogs':true}}]}"

/* ---------------------------------------------------------------- parse */

Test(posture_vpc_guardrail, parse_require_and_resources)
{
    struct np_posture_guardrail *g = t_guardrail(
        "g", "{'rules':[{'id':'a','deny':{'ports':[22]}},"
             "{'id':'b','deny':{'ports':[22],'resources':['networkAcls']}},"
             "{'id':'c','deny':{'ports':[22],'resources':['networkAcls','securityGroups',"
             "'networkAcls']}},"
             "{'id':'d','require':{'flowLogs':true}},"
             "{'id':'e','require':{'flowLogs':false,'defaultSecurityGroupRestricted':true}}]}");
    cr_assert_eq(g->n_rules, 5);
    cr_assert_eq(g->rules[0].resources, NP_POSTURE_GUARDRAIL_SECURITY_GROUPS, "the default");
    cr_assert_eq(g->rules[1].resources, NP_POSTURE_GUARDRAIL_NETWORK_ACLS);
    cr_assert_eq(g->rules[2].resources,
                 NP_POSTURE_GUARDRAIL_NETWORK_ACLS | NP_POSTURE_GUARDRAIL_SECURITY_GROUPS);
    cr_assert_not(g->rules[0].require_flow_logs || g->rules[0].require_default_sg_restricted);
    cr_assert_eq(g->rules[3].resources, 0, "require only: no deny criteria");
    cr_assert(g->rules[3].require_flow_logs);
    cr_assert_not(g->rules[3].require_default_sg_restricted);
    cr_assert_not(g->rules[4].require_flow_logs);
    cr_assert(g->rules[4].require_default_sg_restricted);
    np_posture_guardrail_destroy(g);
}

#define R0(rule) "{'rules':[{'id':'a'," rule "}]}"

static const struct {
    const char *spec;
    const char *message;
} invalid[] = {
    {R0("'x':1"), "spec.rules[0]: set exactly one of deny and require"},
    {R0("'deny':{'ports':[22]},'require':{'flowLogs':true}"),
     "spec.rules[0]: set exactly one of deny and require"},
    {R0("'require':true"), "spec.rules[0].require: must be an object"},
    {R0("'require':{}"),
     "spec.rules[0].require: needs flowLogs or defaultSecurityGroupRestricted set to true"},
    {R0("'require':{'flowLogs':false}"),
     "spec.rules[0].require: needs flowLogs or defaultSecurityGroupRestricted set to true"},
    {R0("'require':{'flowLogs':'yes'}"), "spec.rules[0].require.flowLogs: must be true or false"},
    {R0("'require':{'defaultSecurityGroupRestricted':1}"),
     "spec.rules[0].require.defaultSecurityGroupRestricted: must be true or false"},
    {R0("'deny':{'ports':[22],'resources':'networkAcls'}"),
     "spec.rules[0].deny.resources: must be a list"},
    {R0("'deny':{'ports':[22],'resources':[]}"),
     "spec.rules[0].deny.resources: 1-8 items (omit it for securityGroups only)"},
    {R0("'deny':{'ports':[22],'resources':['networkAcls','subnets']}"),
     "spec.rules[0].deny.resources[1]: \"subnets\" is not one of securityGroups, networkAcls"},
    {R0("'deny':{'ports':[22],'resources':[2]}"),
     "spec.rules[0].deny.resources[0]: must be a string"},
    {R0("'deny':{'resources':['networkAcls']}"),
     "spec.rules[0].deny: needs at least one criterion (direction, protocols, ports or cidrs); "
     "a guardrail rule may not deny every rule"},
};

Test(posture_vpc_guardrail, parse_errors)
{
    for (size_t i = 0; i < NP_ARRAY_LEN(invalid); i++) {
        json_object *o = t_json(invalid[i].spec);
        struct np_posture_guardrail *g = (struct np_posture_guardrail *)(uintptr_t)1;
        int rc = np_posture_guardrail_parse(&g, "g", o);
        json_object_put(o);
        cr_assert_eq(rc, NP_EINVAL, "case %zu accepted", i);
        cr_assert_null(g);
        cr_expect_str_eq(np_error_message(), invalid[i].message, "case %zu: %s", i,
                         invalid[i].spec);
    }
}

/* ---------------------------------------------------------------- security groups */

Test(posture_vpc_guardrail, security_group_paths_ignore_other_resources)
{
    struct np_posture_guardrail *g = t_guardrail(
        "g", "{'rules':[{'id':'nacl','deny':{'ports':[22],'resources':['networkAcls']}},"
             "{'id':'sg','require':{'defaultSecurityGroupRestricted':true}}]}");
    struct np_posture_guardrail *both =
        t_guardrail("both", "{'rules':[{'id':'x','deny':{'ports':[22],'resources':['networkAcls',"
                            "'securityGroups']}}]}");
    const struct np_posture_guardrail *one[] = {g};
    const struct np_posture_rule ssh = {NP_POSTURE_INGRESS, "tcp", 22, 22, C4, "0.0.0.0/0", NULL};
    cr_assert_not(np_posture_guardrail_rule_matches(&g->rules[0], &ssh));
    cr_assert_not(np_posture_guardrail_rule_matches(&g->rules[1], &ssh));
    cr_assert(np_posture_guardrail_rule_matches(&both->rules[0], &ssh));

    struct np_posture_ruleset rs = {0};
    np_posture_ruleset_clean_up(&rs);
    struct np_posture_raw_rule raw[] = {IN("tcp", 22, 22, C4, "0.0.0.0/0", NULL)};
    np_posture_observed(&rs, raw, 1);
    struct np_posture_violation *v = NULL;
    size_t n = 9;
    cr_assert_eq(np_posture_guardrail_check(&v, &n, one, 1, "ns", "p", &rs), 0);
    cr_assert_eq(n, 0);
    cr_assert_null(v);
    struct np_posture_delta d = {0};
    struct np_posture_ruleset none = {0};
    cr_assert_eq(np_posture_diff(&d, &none, &rs, NULL, 0, NULL, 0, NP_POSTURE_EXCLUSIVE), 0);
    cr_assert_eq(np_posture_guardrail_mark(&d, &none, &rs, NP_POSTURE_EXCLUSIVE, one, 1, "ns", "p"),
                 0);
    cr_assert_not(d.items[0].guardrail);
    const struct np_posture_guardrail *two[] = {g, both};
    cr_assert_eq(np_posture_guardrail_mark(&d, &none, &rs, NP_POSTURE_EXCLUSIVE, two, 2, "ns", "p"),
                 0);
    cr_assert(d.items[0].guardrail);
    np_posture_delta_clean_up(&d);
    np_posture_ruleset_clean_up(&rs);
    np_posture_guardrail_destroy(g);
    np_posture_guardrail_destroy(both);
}

/* ---------------------------------------------------------------- check */

/* The violations of a VPC spec as "<guardrail>/<rule>: <what>\n" lines (owned). */
static char *violations(const char *spec_json, const struct np_posture_guardrail *const *g,
                        size_t n_g, const char *ns, const char *name)
{
    struct np_posture_vpc_spec *s = t_vpc_spec(spec_json);
    struct np_posture_vpc_violation *v = NULL;
    size_t n = 0;
    cr_assert_eq(np_posture_vpc_guardrail_check(&v, &n, g, n_g, ns, name, s), 0);
    struct np_buf b = NP_BUF_INIT;
    np_buf_puts(&b, "");
    for (size_t i = 0; i < n; i++)
        np_buf_appendf(&b, "%s/%s: %s\n", v[i].guardrail->name, v[i].rule->id, v[i].what);
    np_posture_vpc_violations_free(v, n);
    np_posture_vpc_spec_destroy(s);
    return np_buf_take(&b);
}

#define ACL_SPEC(entries, extra)                                                                   \
    "{'cidrBlock':'10.0.0.0/16','networkAcls':[{'name':'public','entries':[" entries "]}]" extra "}"
#define RESTRICTED                                                                                 \
    ",'defaultSecurityGroup':{'restrictAll':true},'flowLogs':{'destination':'arn:aws:s3:::b'}"
/* Entries that the CIS rules allow ... */
#define HTTPS_WORLD                                                                                \
    "{'ruleNumber':100,'action':'allow','protocol':'tcp','cidrBlock':'0.0.0.0/0','fromPort':443,"  \
    "'toPort':443}"
#define SSH_LAN                                                                                    \
    "{'ruleNumber':110,'action':'allow','protocol':'tcp','cidrBlock':'10.0.0.0/8','fromPort':22,"  \
    "'toPort':22}"
#define SSH_DENY                                                                                   \
    "{'ruleNumber':120,'action':'deny','protocol':'tcp','cidrBlock':'0.0.0.0/0','fromPort':22,"    \
    "'toPort':22}"
#define SSH_OUT                                                                                    \
    "{'ruleNumber':130,'egress':true,'action':'allow','protocol':'tcp','cidrBlock':'0.0.0.0/0',"   \
    "'fromPort':22,'toPort':22}"
#define ICMP_WORLD "{'ruleNumber':140,'action':'allow','protocol':'icmp','cidrBlock':'0.0.0.0/0'}"
/* ... and entries they forbid. */
#define SSH_WORLD                                                                                  \
    "{'ruleNumber':100,'action':'allow','protocol':'tcp','cidrBlock':'0.0.0.0/0','fromPort':22,"   \
    "'toPort':22}"
#define HIGH_WORLD                                                                                 \
    "{'ruleNumber':110,'action':'allow','protocol':'6','cidrBlock':'0.0.0.0/0','fromPort':1024,"   \
    "'toPort':65535}"
#define ALL_V6 "{'ruleNumber':120,'action':'allow','protocol':'-1','ipv6CidrBlock':'::/0'}"
#define UDP_WORLD                                                                                  \
    "{'ruleNumber':130,'action':'allow','protocol':'udp','cidrBlock':'0.0.0.0/0','fromPort':0,"    \
    "'toPort':65535}"
#define TELNET_WORLD                                                                               \
    "{'ruleNumber':1,'action':'allow','protocol':'tcp','cidrBlock':'0.0.0.0/0','fromPort':23,"     \
    "'toPort':23}"

Test(posture_vpc_guardrail, cis_check_of_declared_state)
{
    struct np_posture_guardrail *cis = t_guardrail("cis", CIS_VPC);
    struct np_posture_guardrail *warn =
        t_guardrail("warn", "{'enforcement':'Warn','rules':[{'id':'no-telnet','deny':{"
                            "'ports':[23],'resources':['networkAcls','securityGroups']}}]}");
    const struct np_posture_guardrail *g[] = {cis, warn};
    static const struct {
        const char *spec;
        const char *ns;
        const char *want;
    } cases[] = {
        /* compliant: restricted, flow logs on, nothing open to the internet on 22/3389 */
        {ACL_SPEC(HTTPS_WORLD "," SSH_LAN "," SSH_DENY "," SSH_OUT "," ICMP_WORLD, RESTRICTED),
         "shop", ""},
        /* 5.1: ssh and rdp from the internet, by port, range or all traffic; IPv6 too */
        {ACL_SPEC(SSH_WORLD "," HIGH_WORLD "," ALL_V6 "," UDP_WORLD, RESTRICTED), "shop",
         "cis/nacl-admin-ports: networkAcl/public ingress 100 allow tcp 22 0.0.0.0/0\n"
         "cis/nacl-admin-ports: networkAcl/public ingress 110 allow tcp 1024-65535 "
         "0.0.0.0/0\n"
         "cis/nacl-admin-ports: networkAcl/public ingress 120 allow all ::/0\n"
         "warn/no-telnet: networkAcl/public ingress 120 allow all ::/0\n"
         "cis/nacl-admin-ports: networkAcl/public ingress 130 allow udp 0-65535 0.0.0.0/0\n"
         "warn/no-telnet: networkAcl/public ingress 130 allow udp 0-65535 0.0.0.0/0\n"},
        /* the bastion's jump posture is exempt from 5.1, not from the rest */
        {ACL_SPEC(SSH_WORLD, ""), "bastion",
         "cis/flow-logs: flowLogs not enabled\n"
         "cis/default-sg: defaultSecurityGroup not restricted\n"},
        /* 5.4 and 3.9: declared off */
        {"{'cidrBlock':'10.0.0.0/16','defaultSecurityGroup':{'restrictAll':false},"
         "'flowLogs':{'enabled':false}}",
         "shop",
         "cis/flow-logs: flowLogs not enabled\n"
         "cis/default-sg: defaultSecurityGroup not restricted\n"},
    };
    for (size_t i = 0; i < NP_ARRAY_LEN(cases); i++) {
        char *got = violations(cases[i].spec, g, 2, cases[i].ns, i == 2 ? "jump" : "net");
        cr_expect_str_eq(got, cases[i].want, "case %zu\ngot:\n%swant:\n%s", i, got, cases[i].want);
        free(got);
    }
    /* The violation points at the guardrail, its enforcement included. */
    struct np_posture_vpc_spec *s = t_vpc_spec(ACL_SPEC(TELNET_WORLD, RESTRICTED));
    struct np_posture_vpc_violation *v = NULL;
    size_t n = 0;
    cr_assert_eq(np_posture_vpc_guardrail_check(&v, &n, g, 2, "shop", "net", s), 0);
    cr_assert_eq(n, 1);
    cr_assert_eq(v[0].guardrail->enforcement, NP_POSTURE_GUARDRAIL_WARN);
    cr_assert_str_eq(v[0].rule->id, "no-telnet");
    np_posture_vpc_violations_free(v, n);
    /* No guardrails, no violations. */
    cr_assert_eq(np_posture_vpc_guardrail_check(&v, &n, NULL, 0, "shop", "net", s), 0);
    cr_assert_null(v);
    cr_assert_eq(n, 0);
    np_posture_vpc_violations_free(NULL, 0);
    np_posture_vpc_spec_destroy(s);
    np_posture_guardrail_destroy(cis);
    np_posture_guardrail_destroy(warn);
}

/* ---------------------------------------------------------------- mark */

/* Diff of the fixture, marked by guardrails g as posture ns/name; the drift text (owned). */
static char *marked(const char *spec, struct vpc_fixture *f,
                    const struct np_posture_guardrail *const *g, size_t n_g, const char *ns,
                    char **plan)
{
    struct np_posture_delta d = {0};
    struct np_posture_vpc_plan p = {0};
    char **lines = NULL;
    struct np_posture_vpc_spec *s = t_vpc_diff(&d, spec, f);
    cr_assert_eq(np_posture_vpc_guardrail_mark(&d, s, &f->obs, g, n_g, ns, "net"), 0);
    char *text = t_drift_text(&d);
    np_posture_vpc_plan_build(&p, &d);
    np_posture_vpc_plan_text(&lines, NULL, &p);
    *plan = t_join(lines);
    np_posture_lines_free(lines);
    np_posture_vpc_plan_clean_up(&p);
    np_posture_delta_clean_up(&d);
    np_posture_vpc_spec_destroy(s);
    return text;
}

/* Drift the CIS rules forbid, and drift they do not: ssh from the internet added and swapped
 * in, a deny swapped in, an egress entry, the default group opened, flow logs gone. */
static void open_everything(struct vpc_fixture *f)
{
    f->entries[0] =
        (struct np_posture_raw_nacl_entry)NACL_IN(100, "6", true, "0.0.0.0/0", true, 3389, 3389);
    f->entries[1] =
        (struct np_posture_raw_nacl_entry)NACL_IN(200, "-1", false, "10.0.0.0/8", false, 0, 0);
    f->entries[f->n_entries++] =
        (struct np_posture_raw_nacl_entry)NACL_IN(90, "6", true, "0.0.0.0/0", true, 22, 22);
    f->entries[f->n_entries++] =
        (struct np_posture_raw_nacl_entry)NACL_IN(95, "6", true, "10.0.0.0/8", true, 22, 22);
    f->entries[f->n_entries++] = (struct np_posture_raw_nacl_entry){
        50, true, "6", true, "0.0.0.0/0", NULL, true, 443, 443, false, 0, 0};
    f->sg_rules[f->n_sg_rules++] = (struct np_posture_raw_rule)IN_NP("-1", SG, "sg-default", NULL);
    f->n_flow_logs = 0;
    f->obs.enable_dns_support = false;
}

Test(posture_vpc_guardrail, mark_exclusive)
{
    struct np_posture_guardrail *cis = t_guardrail("cis", CIS_VPC);
    const struct np_posture_guardrail *g[] = {cis};
    struct vpc_fixture f;
    char *plan = NULL;
    t_vpc_fixture(&f);
    open_everything(&f);
    char *got = marked(VPC_SPEC(""), &f, g, 1, "shop", &plan);
    cr_expect_str_eq(got,
                     "vpc Changed enableDnsSupport=true (is false)\n"
                     "networkAcl/private Extra ingress 90 allow tcp 22 0.0.0.0/0 "
                     "[guardrail]\n"
                     "networkAcl/private Extra ingress 95 allow tcp 22 10.0.0.0/8\n"
                     "networkAcl/private Changed ingress 100 allow tcp 443 10.0.0.0/8 (is "
                     "allow tcp 3389 0.0.0.0/0) [guardrail]\n"
                     "networkAcl/private Changed ingress 200 deny all 0.0.0.0/0 (is deny "
                     "all 10.0.0.0/8)\n"
                     "networkAcl/private Extra egress 50 allow tcp 443 0.0.0.0/0\n"
                     "flowLogs Missing REJECT to s3 arn:aws:s3:::logs [guardrail]\n"
                     "defaultSecurityGroup Extra ingress all sg-default [guardrail]\n",
                     "got:\n%s", got);
    /* Security first: the forbidden removals lead the plan. */
    cr_expect_str_eq(plan,
                     "entry delete networkAcl/private ingress 90\n"
                     "entry replace networkAcl/private ingress 100 allow tcp 443 "
                     "10.0.0.0/8\n"
                     "revoke defaultSecurityGroup ingress all sg-default\n"
                     "flow-log create vpc REJECT s3 arn:aws:s3:::logs\n"
                     "entry replace networkAcl/private ingress 200 deny all 0.0.0.0/0\n"
                     "set vpc enableDnsSupport true\n"
                     "entry delete networkAcl/private ingress 95\n"
                     "entry delete networkAcl/private egress 50\n",
                     "plan:\n%s", plan);
    free(got);
    free(plan);
    /* Exempt: bastion/net is not exempt (the exception names bastion/jump); an exception for
     * the whole namespace is. */
    struct np_posture_guardrail *ns_exempt = t_guardrail(
        "ns", "{'rules':[{'id':'x','deny':{'ports':[22],'cidrs':['0.0.0.0/0'],'resources':["
              "'networkAcls']},'exceptions':[{'namespace':'bastion'}]}]}");
    const struct np_posture_guardrail *g2[] = {ns_exempt};
    got = marked(VPC_SPEC(""), &f, g2, 1, "bastion", &plan);
    cr_expect_null(strstr(got, "[guardrail]"), "exempt: nothing marked\n%s", got);
    free(got);
    free(plan);
    got = marked(VPC_SPEC(""), &f, g2, 1, "shop", &plan);
    cr_expect_not_null(strstr(got, "ingress 90 allow tcp 22 0.0.0.0/0 [guardrail]"), "%s", got);
    cr_expect_null(strstr(got, "flowLogs Missing REJECT to s3 arn:aws:s3:::logs [guardrail]"),
                   "no require rule here");
    free(got);
    free(plan);
    np_posture_guardrail_destroy(ns_exempt);
    t_vpc_fixture_clean_up(&f);
    np_posture_guardrail_destroy(cis);
}

Test(posture_vpc_guardrail, mark_additive_adds_forbidden_entries)
{
    struct np_posture_guardrail *cis = t_guardrail("cis", CIS_VPC);
    const struct np_posture_guardrail *g[] = {cis};
    struct vpc_fixture f;
    char *plan = NULL;
    t_vpc_fixture(&f);
    open_everything(&f);
    f.entries[f.n_entries++] =
        (struct np_posture_raw_nacl_entry)NACL_IN(300, "17", true, "0.0.0.0/0", true, 3389, 3389);
    char *got = marked(VPC_SPEC(",'ownership':'Additive'"), &f, g, 1, "shop", &plan);
    /* Undeclared entries are ours to remove only when a guardrail forbids them: 90 and 300,
     * in their place among the ACL's entries; 95 and egress 50 stay alone. */
    cr_expect_str_eq(got,
                     "vpc Changed enableDnsSupport=true (is false)\n"
                     "networkAcl/private Extra ingress 90 allow tcp 22 0.0.0.0/0 "
                     "[guardrail]\n"
                     "networkAcl/private Changed ingress 100 allow tcp 443 10.0.0.0/8 (is "
                     "allow tcp 3389 0.0.0.0/0) [guardrail]\n"
                     "networkAcl/private Changed ingress 200 deny all 0.0.0.0/0 (is deny "
                     "all 10.0.0.0/8)\n"
                     "networkAcl/private Extra ingress 300 allow udp 3389 0.0.0.0/0 "
                     "[guardrail]\n"
                     "flowLogs Missing REJECT to s3 arn:aws:s3:::logs [guardrail]\n"
                     "defaultSecurityGroup Extra ingress all sg-default [guardrail]\n",
                     "got:\n%s", got);
    cr_expect_str_eq(plan,
                     "entry delete networkAcl/private ingress 90\n"
                     "entry replace networkAcl/private ingress 100 allow tcp 443 "
                     "10.0.0.0/8\n"
                     "entry delete networkAcl/private ingress 300\n"
                     "revoke defaultSecurityGroup ingress all sg-default\n"
                     "flow-log create vpc REJECT s3 arn:aws:s3:::logs\n"
                     "entry replace networkAcl/private ingress 200 deny all 0.0.0.0/0\n"
                     "set vpc enableDnsSupport true\n",
                     "plan:\n%s", plan);
    free(got);
    free(plan);
    /* A missing ACL, or no observed state: nothing to add. */
    f.acl.present = false;
    got = marked(VPC_SPEC(",'ownership':'Additive'"), &f, g, 1, "shop", &plan);
    cr_expect_null(strstr(got, "networkAcl/private Extra"), "%s", got);
    free(got);
    free(plan);
    struct np_posture_delta d = {0};
    cr_assert_eq(np_posture_vpc_guardrail_mark(&d, NULL, NULL, g, 1, "shop", "net"), 0);
    cr_assert_eq(np_posture_vpc_guardrail_mark(NULL, NULL, NULL, g, 1, "shop", "net"), 0);
    cr_assert_eq(d.n, 0);
    t_vpc_fixture_clean_up(&f);
    np_posture_guardrail_destroy(cis);
}

Test(posture_vpc_guardrail, forbids_by_item)
{
    struct np_posture_guardrail *g =
        t_guardrail("g", "{'rules':[{'id':'sg','deny':{'direction':'ingress','protocols':['all']}},"
                         "{'id':'nacl','deny':{'ports':[22],'resources':['networkAcls']}},"
                         "{'id':'logs','require':{'flowLogs':true}}]}");
    struct vpc_fixture f;
    struct np_posture_delta d = {0};
    t_vpc_fixture(&f);
    open_everything(&f);
    f.sg_rules[f.n_sg_rules++] = (struct np_posture_raw_rule)EG_DEFAULT;
    struct np_posture_vpc_spec *s = t_vpc_diff(&d, VPC_SPEC(""), &f);
    char *expect = np_strdup("");
    for (size_t i = 0; i < d.n; i++) {
        char *text = np_posture_drift_text(&d.items[i]);
        for (size_t k = 0; k < g->n_rules; k++) {
            if (!np_posture_vpc_guardrail_forbids(&g->rules[k], &d.items[i]))
                continue;
            char *next = np_strdupf("%s%s: %s\n", expect, g->rules[k].id, text);
            free(expect);
            expect = next;
        }
        free(text);
    }
    cr_expect_str_eq(expect,
                     "nacl: ingress 90 allow tcp 22 0.0.0.0/0\n"
                     "nacl: ingress 95 allow tcp 22 10.0.0.0/8\n"
                     "logs: REJECT to s3 arn:aws:s3:::logs\n"
                     "sg: ingress all sg-default\n",
                     "got:\n%s", expect);
    free(expect);
    cr_assert_not(np_posture_vpc_guardrail_forbids(NULL, &d.items[0]));
    cr_assert_not(np_posture_vpc_guardrail_forbids(&g->rules[0], NULL));
    np_posture_delta_clean_up(&d);
    np_posture_vpc_spec_destroy(s);
    t_vpc_fixture_clean_up(&f);
    np_posture_guardrail_destroy(g);
}
