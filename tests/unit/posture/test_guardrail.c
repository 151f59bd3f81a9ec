/*
 * PostureGuardrail: spec parsing (defaults, every field, invalid specs naming the field), the
 * matching table (protocol all vs tcp, port ranges, icmp, IPv4/IPv6 CIDR coverage, peers that
 * are not CIDRs, direction), exemptions, check ordering, marking drift in Exclusive and
 * Additive deltas, and the shipped manifests/guardrails/cis-aws-network.yaml.
 */
#include "kube/private/kube_private.h"
#include "posture_test.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TestSuite(posture_guardrail, .fini = t_leak_check);

#define CIS_MANIFEST "manifests/guardrails/cis-aws-network.yaml"

static struct np_posture_guardrail *t_guardrail(const char *sq)
{
    json_object *o = t_json(sq);
    struct np_posture_guardrail *g = NULL;
    int rc = np_posture_guardrail_parse(&g, "g", o);
    json_object_put(o);
    cr_assert_eq(rc, 0, "guardrail rejected: %s\nspec: %s", np_error_message(), sq);
    cr_assert_not_null(g);
    return g;
}

/* The error message (owned) of a spec that must be rejected. */
static char *t_guardrail_error(json_object *o)
{
    struct np_posture_guardrail *g = (struct np_posture_guardrail *)(uintptr_t)1;
    np_error_clear();
    int rc = np_posture_guardrail_parse(&g, "g", o);
    if (rc == 0)
        np_posture_guardrail_destroy(g);
    cr_assert_eq(rc, NP_EINVAL, "guardrail accepted (rc %d), want an error", rc);
    cr_assert_null(g, "guardrail must be NULL on error");
    return np_strdup(np_error_message());
}

/* An atomic rule with borrowed strings (for matching; never freed). */
static struct np_posture_rule atomic(enum np_posture_direction dir, const char *proto, int from,
                                     int to, enum np_posture_peer_kind kind, const char *peer)
{
    return (struct np_posture_rule){dir, (char *)proto, from, to, kind, (char *)peer, NULL};
}

/* ---------------------------------------------------------------- parse */

Test(posture_guardrail, defaults)
{
    struct np_posture_guardrail *g = t_guardrail("{'rules':[{'id':'a','deny':{'ports':[22]}}]}");
    cr_assert_str_eq(g->name, "g");
    cr_assert_eq(g->enforcement, NP_POSTURE_GUARDRAIL_DENY);
    cr_assert_eq(g->n_rules, 1);
    const struct np_posture_guardrail_rule *r = &g->rules[0];
    cr_assert_str_eq(r->id, "a");
    cr_assert_eq(r->n_references, 0);
    cr_assert_not(r->has_direction, "an absent direction matches both");
    cr_assert_eq(r->n_protocols, 0);
    cr_assert_eq(r->n_ports, 1);
    cr_assert_eq(r->ports[0], 22);
    cr_assert_eq(r->n_cidrs, 0);
    cr_assert_eq(r->n_exceptions, 0);
    np_posture_guardrail_destroy(g);
    np_posture_guardrail_destroy(NULL);
}

Test(posture_guardrail, every_field)
{
    struct np_posture_guardrail *g = t_guardrail(
        "{'namespaceSelector':{'matchLabels':{'team':'shop'}},'enforcement':'Warn','rules':["
        "{'id':'no-admin','description':'no admin ports','references':['CIS 5.2','CIS 5.3'],"
        "'deny':{'direction':'egress','protocols':['TCP','6','UDP','all','-1','047','icmpv6'],"
        "'ports':[22,3389,22,0,65535],'cidrs':['10.1.2.3/8','0.0.0.0/0','2001:DB8::1/32','::/0',"
        "'10.0.0.0/8']},'exceptions':[{'namespace':'bastion','posture':'jump-host'},"
        "{'namespace':'ops'}]},"
        "{'id':'b2','deny':{'direction':'ingress'}}]}");
    cr_assert_eq(g->enforcement, NP_POSTURE_GUARDRAIL_WARN);
    cr_assert_eq(g->n_rules, 2);
    const struct np_posture_guardrail_rule *r = &g->rules[0];
    cr_assert_str_eq(r->id, "no-admin");
    cr_assert_eq(r->n_references, 2);
    cr_assert_str_eq(r->references[0], "CIS 5.2");
    cr_assert_str_eq(r->references[1], "CIS 5.3");
    cr_assert(r->has_direction);
    cr_assert_eq(r->direction, NP_POSTURE_EGRESS);
    /* Canonical, duplicates dropped, declaration order kept. */
    cr_assert_eq(r->n_protocols, 5);
    cr_assert_str_eq(r->protocols[0], "tcp");
    cr_assert_str_eq(r->protocols[1], "udp");
    cr_assert_str_eq(r->protocols[2], "-1");
    cr_assert_str_eq(r->protocols[3], "47");
    cr_assert_str_eq(r->protocols[4], "icmpv6");
    cr_assert_eq(r->n_ports, 4);
    cr_assert_eq(r->ports[0], 22);
    cr_assert_eq(r->ports[1], 3389);
    cr_assert_eq(r->ports[2], 0);
    cr_assert_eq(r->ports[3], 65535);
    cr_assert_eq(r->n_cidrs, 4);
    cr_assert_str_eq(r->cidrs[0], "10.0.0.0/8");
    cr_assert_str_eq(r->cidrs[1], "0.0.0.0/0");
    cr_assert_str_eq(r->cidrs[2], "2001:db8::/32");
    cr_assert_str_eq(r->cidrs[3], "::/0");
    cr_assert_eq(r->n_exceptions, 2);
    cr_assert_str_eq(r->exceptions[0].ns, "bastion");
    cr_assert_str_eq(r->exceptions[0].posture, "jump-host");
    cr_assert_str_eq(r->exceptions[1].ns, "ops");
    cr_assert_null(r->exceptions[1].posture, "no posture: the whole namespace");
    cr_assert_str_eq(g->rules[1].id, "b2");
    cr_assert(g->rules[1].has_direction);
    cr_assert_eq(g->rules[1].direction, NP_POSTURE_INGRESS);
    np_posture_guardrail_destroy(g);
}

Test(posture_guardrail, enforcement_name)
{
    cr_assert_str_eq(np_posture_enforcement_name(NP_POSTURE_GUARDRAIL_DENY), "Deny");
    cr_assert_str_eq(np_posture_enforcement_name(NP_POSTURE_GUARDRAIL_WARN), "Warn");
}

Test(posture_guardrail, not_an_object)
{
    struct np_posture_guardrail *g = NULL;
    cr_assert_eq(np_posture_guardrail_parse(&g, "g", NULL), NP_EINVAL);
    cr_assert_null(g);
    cr_assert_str_eq(np_error_message(), "spec: missing or not an object");
    json_object *o = t_json("[]");
    char *msg = t_guardrail_error(o);
    cr_assert_str_eq(msg, "spec: missing or not an object");
    free(msg);
    json_object_put(o);
}

#define R0(deny) "{'rules':[{'id':'a','deny':" deny "}]}"

Test(posture_guardrail, invalid_specs)
{
    static const struct {
        const char *spec;
        const char *message;
    } cases[] = {
        {"{}", "spec.rules: required, at least one rule"},
        {"{'rules':[]}", "spec.rules: required, at least one rule"},
        {"{'rules':{}}", "spec.rules: must be a list"},
        {"{'enforcement':'deny','rules':[{'id':'a','deny':{'ports':[22]}}]}",
         "spec.enforcement: \"deny\" is not one of Deny, Warn"},
        {"{'enforcement':1,'rules':[]}", "spec.enforcement: must be a string"},
        {"{'rules':['a']}", "spec.rules[0]: must be an object"},
        {"{'rules':[{'deny':{'ports':[22]}}]}", "spec.rules[0].id: required"},
        {"{'rules':[{'id':7,'deny':{'ports':[22]}}]}", "spec.rules[0].id: must be a string"},
        {"{'rules':[{'id':'Bad_Id','deny':{'ports':[22]}}]}",
         "spec.rules[0].id: \"Bad_Id\" must be 1-63 lowercase letters, digits or '-', starting "
         "and ending with a letter or digit"},
        {"{'rules':[{'id':'-a','deny':{'ports':[22]}}]}",
         "spec.rules[0].id: \"-a\" must be 1-63 lowercase letters, digits or '-', starting and "
         "ending with a letter or digit"},
        {"{'rules':[{'id':'','deny':{'ports':[22]}}]}",
         "spec.rules[0].id: \"\" must be 1-63 lowercase letters, digits or '-', starting and "
         "ending with a letter or digit"},
        {"{'rules':[{'id':'a','deny':{'ports':[22]}},{'id':'b','deny':{'ports':[22]}},"
         "{'id':'a','deny':{'ports':[80]}}]}",
         "spec.rules[2].id: \"a\" is already the id of spec.rules[0]"},
        {"{'rules':[{'id':'a'}]}", "spec.rules[0]: set exactly one of deny and require"},
        {"{'rules':[{'id':'a','deny':[]}]}", "spec.rules[0].deny: must be an object"},
        {R0("{}"), "spec.rules[0].deny: needs at least one criterion (direction, protocols, "
                   "ports or cidrs); a guardrail rule may not deny every rule"},
        {R0("{'cidrs':[]}"), "spec.rules[0].deny.cidrs: must not be empty (omit it to match any)"},
        {R0("{'ports':[]}"), "spec.rules[0].deny.ports: must not be empty (omit it to match any)"},
        {R0("{'protocols':[]}"),
         "spec.rules[0].deny.protocols: must not be empty (omit it to match any)"},
        {R0("{'direction':'in'}"),
         "spec.rules[0].deny.direction: \"in\" is not one of ingress, egress"},
        {R0("{'cidrs':['0.0.0.0/0','10.0.0.0/33']}"),
         "spec.rules[0].deny.cidrs[1]: \"10.0.0.0/33\" is not a valid CIDR"},
        {R0("{'cidrs':['::/129']}"), "spec.rules[0].deny.cidrs[0]: \"::/129\" is not a valid CIDR"},
        {R0("{'cidrs':['10.0.0.0']}"),
         "spec.rules[0].deny.cidrs[0]: \"10.0.0.0\" is not a valid CIDR"},
        {R0("{'cidrs':[5]}"), "spec.rules[0].deny.cidrs[0]: must be a string"},
        {R0("{'cidrs':'0.0.0.0/0'}"), "spec.rules[0].deny.cidrs: must be a list"},
        {R0("{'protocols':['tcp','gre']}"),
         "spec.rules[0].deny.protocols[1]: \"gre\" is not tcp, udp, icmp, icmpv6, all, -1 or a "
         "protocol number 0-255"},
        {R0("{'protocols':['256']}"),
         "spec.rules[0].deny.protocols[0]: \"256\" is not tcp, udp, icmp, icmpv6, all, -1 or a "
         "protocol number 0-255"},
        {R0("{'protocols':[6]}"), "spec.rules[0].deny.protocols[0]: must be a string"},
        {R0("{'ports':[22,'22']}"), "spec.rules[0].deny.ports[1]: must be an integer"},
        {R0("{'ports':[65536]}"), "spec.rules[0].deny.ports[0]: 65536 is out of range 0..65535"},
        {R0("{'ports':[-1]}"), "spec.rules[0].deny.ports[0]: -1 is out of range 0..65535"},
        {R0("{'ports':22}"), "spec.rules[0].deny.ports: must be a list"},
        {"{'rules':[{'id':'a','references':[''],'deny':{'ports':[22]}}]}",
         "spec.rules[0].references[0]: must be 1-256 characters"},
        {"{'rules':[{'id':'a','references':'CIS','deny':{'ports':[22]}}]}",
         "spec.rules[0].references: must be a list"},
        {"{'rules':[{'id':'a','description':5,'deny':{'ports':[22]}}]}",
         "spec.rules[0].description: must be a string"},
        {"{'rules':[{'id':'a','deny':{'ports':[22]},'exceptions':'x'}]}",
         "spec.rules[0].exceptions: must be a list"},
        {"{'rules':[{'id':'a','deny':{'ports':[22]},'exceptions':['x']}]}",
         "spec.rules[0].exceptions[0]: must be an object"},
        {"{'rules':[{'id':'a','deny':{'ports':[22]},'exceptions':[{'posture':'x'}]}]}",
         "spec.rules[0].exceptions[0].namespace: required"},
        {"{'rules':[{'id':'a','deny':{'ports':[22]},'exceptions':[{'namespace':'ok'},"
         "{'namespace':'Bad'}]}]}",
         "spec.rules[0].exceptions[1].namespace: \"Bad\" is not a namespace name"},
        {"{'rules':[{'id':'a','deny':{'ports':[22]},'exceptions':[{'namespace':'ok',"
         "'posture':'a..b'}]}]}",
         "spec.rules[0].exceptions[0].posture: \"a..b\" is not a posture name (omit it to exempt "
         "the whole namespace)"},
        {"{'rules':[{'id':'a','deny':{'ports':[22]},'exceptions':[{'namespace':'ok',"
         "'posture':7}]}]}",
         "spec.rules[0].exceptions[0].posture: must be a string"},
        {"{'rules':[{'id':'a','deny':{'ports':[22]}},{'id':'b','deny':{'ports':[22]}},"
         "{'id':'c','deny':{'cidrs':['x']}}]}",
         "spec.rules[2].deny.cidrs[0]: \"x\" is not a valid CIDR"},
    };
    for (size_t i = 0; i < NP_ARRAY_LEN(cases); i++) {
        json_object *o = t_json(cases[i].spec);
        char *msg = t_guardrail_error(o);
        cr_expect_str_eq(msg, cases[i].message, "case %zu: %s", i, cases[i].spec);
        free(msg);
        json_object_put(o);
    }
}

Test(posture_guardrail, bounds)
{
    struct np_buf b = NP_BUF_INIT;
    np_buf_puts(&b, "{'rules':[");
    for (int i = 0; i < 101; i++)
        np_buf_appendf(&b, "%s{'id':'r%d','deny':{'ports':[22]}}", i ? "," : "", i);
    np_buf_puts(&b, "]}");
    json_object *o = t_json(np_buf_cstr(&b));
    char *msg = t_guardrail_error(o);
    cr_assert_str_eq(msg, "spec.rules: 101 rules, at most 100");
    free(msg);
    json_object_put(o);

    /* 100 rules is fine. */
    o = t_json(np_buf_cstr(&b));
    json_object_array_del_idx(json_object_object_get(o, "rules"), 100, 1);
    struct np_posture_guardrail *g = NULL;
    cr_assert_eq(np_posture_guardrail_parse(&g, "g", o), 0, "%s", np_error_message());
    cr_assert_eq(g->n_rules, 100);
    np_posture_guardrail_destroy(g);
    json_object_put(o);

    np_buf_reset(&b);
    np_buf_puts(&b, "{'rules':[{'id':'a','deny':{'ports':[");
    for (int i = 0; i < 65; i++)
        np_buf_appendf(&b, "%s%d", i ? "," : "", i);
    np_buf_puts(&b, "]}}]}");
    o = t_json(np_buf_cstr(&b));
    msg = t_guardrail_error(o);
    cr_assert_str_eq(msg, "spec.rules[0].deny.ports: 65 items, at most 64");
    free(msg);
    json_object_put(o);
    np_buf_clean_up(&b);
}

/* ---------------------------------------------------------------- matching */

#define IG NP_POSTURE_INGRESS
#define EGR NP_POSTURE_EGRESS

Test(posture_guardrail, matching_table)
{
    struct np_posture_guardrail *g =
        t_guardrail("{'rules':["
                    "{'id':'admin','deny':{'direction':'ingress','cidrs':['0.0.0.0/0','::/0'],"
                    "'ports':[22,3389],'protocols':['tcp','udp','all']}},"
                    "{'id':'port22','deny':{'ports':[22]}},"
                    "{'id':'nets','deny':{'cidrs':['10.0.0.0/16','2001:db8:1::/48']}},"
                    "{'id':'v6-any','deny':{'cidrs':['::/0']}},"
                    "{'id':'odd','deny':{'cidrs':['10.128.0.0/9','2001:db8:8000::/33']}},"
                    "{'id':'icmp-out','deny':{'direction':'egress','protocols':['icmp']}},"
                    "{'id':'gre','deny':{'protocols':['47']}},"
                    "{'id':'all-only','deny':{'protocols':['all']}}]}");
    enum { ADMIN, PORT22, NETS, V6ANY, ODD, ICMPOUT, GRE, ALLONLY };
    static const struct {
        int rule;
        enum np_posture_direction dir;
        const char *proto;
        int from, to;
        enum np_posture_peer_kind kind;
        const char *peer;
        bool want;
        const char *why;
    } cases[] = {
        {ADMIN, IG, "tcp", 22, 22, C4, "0.0.0.0/0", true, "ssh from anywhere"},
        {ADMIN, IG, "tcp", 3389, 3389, C6, "::/0", true, "rdp from anywhere (IPv6)"},
        {ADMIN, IG, "udp", 22, 22, C4, "0.0.0.0/0", true, "udp is listed"},
        {ADMIN, IG, "tcp", 443, 443, C4, "0.0.0.0/0", false, "https is fine"},
        {ADMIN, IG, "tcp", 20, 25, C4, "0.0.0.0/0", true, "a range holding 22"},
        {ADMIN, IG, "tcp", 0, 65535, C4, "0.0.0.0/0", true, "every tcp port"},
        {ADMIN, IG, "tcp", 23, 3388, C4, "0.0.0.0/0", false, "a range between them"},
        {ADMIN, IG, "tcp", 3389, 3390, C4, "0.0.0.0/0", true, "a range starting at 3389"},
        {ADMIN, IG, "tcp", 1, 22, C4, "0.0.0.0/0", true, "a range ending at 22"},
        {ADMIN, IG, "-1", -1, -1, C4, "0.0.0.0/0", true, "all traffic opens 22"},
        {ADMIN, IG, "-1", -1, -1, C6, "::/0", true, "all traffic over IPv6"},
        {ADMIN, IG, "icmp", 8, 0, C4, "0.0.0.0/0", false, "icmp is not listed"},
        {ADMIN, IG, "icmp", -1, -1, C4, "0.0.0.0/0", false, "icmp all types"},
        {ADMIN, IG, "47", -1, -1, C4, "0.0.0.0/0", false, "gre is not listed"},
        {ADMIN, EGR, "tcp", 22, 22, C4, "0.0.0.0/0", false, "egress"},
        {ADMIN, IG, "tcp", 22, 22, C4, "10.0.0.0/8", false, "a private range"},
        {ADMIN, IG, "tcp", 22, 22, C4, "203.0.113.7/32", false, "one host"},
        {ADMIN, IG, "tcp", 22, 22, C4, "0.0.0.0/1", false, "half the internet is not all of it"},
        {ADMIN, IG, "tcp", 22, 22, C6, "2001:db8::/32", false, "an IPv6 range"},
        {ADMIN, IG, "tcp", 22, 22, PL, "pl-0abc1234", false, "a prefix list"},
        {ADMIN, IG, "tcp", 22, 22, SG, "sg-0abc1234", false, "a group"},
        {ADMIN, IG, "tcp", 22, 22, NP_POSTURE_PEER_GROUP_NAME, "db", false, "a group name"},
        {ADMIN, IG, "tcp", 22, 22, C4, "bogus", false, "an unparsed observed peer"},

        {PORT22, EGR, "47", -1, -1, C4, "10.0.0.0/8", true, "no ports: every port is open"},
        {PORT22, IG, "-1", -1, -1, SG, "sg-0abc1234", true, "all traffic, any peer"},
        {PORT22, IG, "icmp", 22, -1, C4, "0.0.0.0/0", false, "icmp type 22 is not port 22"},
        {PORT22, IG, "icmpv6", -1, -1, C6, "::/0", false, "icmpv6 never matches ports"},
        {PORT22, IG, "tcp", 80, 80, C4, "0.0.0.0/0", false, "another port"},
        {PORT22, IG, "tcp", -1, -1, C4, "0.0.0.0/0", true, "tcp without a range"},
        {PORT22, EGR, "udp", 22, 22, SG, "sg-0abc1234", true, "no cidr criterion"},

        {NETS, IG, "tcp", 443, 443, C4, "10.0.0.0/8", true, "covers 10.0.0.0/16"},
        {NETS, IG, "tcp", 443, 443, C4, "10.0.0.0/16", true, "equal"},
        {NETS, IG, "tcp", 443, 443, C4, "10.0.1.0/24", false, "narrower"},
        {NETS, IG, "tcp", 443, 443, C4, "10.1.0.0/16", false, "disjoint"},
        {NETS, IG, "tcp", 443, 443, C4, "0.0.0.0/0", true, "the internet covers it"},
        {NETS, IG, "tcp", 443, 443, C6, "::/0", true, "the IPv6 internet"},
        {NETS, IG, "tcp", 443, 443, C6, "2001:db8::/32", true, "covers 2001:db8:1::/48"},
        {NETS, IG, "tcp", 443, 443, C6, "2001:db8:1::/48", true, "equal (IPv6)"},
        {NETS, IG, "tcp", 443, 443, C6, "2001:db8:1::/64", false, "narrower (IPv6)"},
        {NETS, IG, "tcp", 443, 443, C6, "2001:db8:2::/48", false, "disjoint (IPv6)"},

        {V6ANY, IG, "tcp", 22, 22, C4, "0.0.0.0/0", false, "no IPv4/IPv6 cross matching"},
        {V6ANY, IG, "tcp", 22, 22, C6, "::/0", true, "::/0 covers ::/0"},
        {V6ANY, IG, "tcp", 22, 22, C6, "2001:db8::/32", false, "only ::/0 covers ::/0"},
        {V6ANY, IG, "tcp", 22, 22, C6, "::/1", false, "half the IPv6 internet"},

        {ODD, IG, "tcp", 1, 1, C4, "10.0.0.0/8", true, "a /8 covers a /9"},
        {ODD, IG, "tcp", 1, 1, C4, "10.128.0.0/9", true, "equal /9"},
        {ODD, IG, "tcp", 1, 1, C4, "10.0.0.0/9", false, "the other /9"},
        {ODD, IG, "tcp", 1, 1, C4, "10.192.0.0/10", false, "narrower /10"},
        {ODD, IG, "tcp", 1, 1, C6, "2001:db8::/32", true, "a /32 covers a /33"},
        {ODD, IG, "tcp", 1, 1, C6, "2001:db8::/33", false, "the other /33"},

        {ICMPOUT, EGR, "icmp", 8, 0, C4, "0.0.0.0/0", true, "icmp egress"},
        {ICMPOUT, IG, "icmp", 8, 0, C4, "0.0.0.0/0", false, "icmp ingress"},
        {ICMPOUT, EGR, "icmpv6", -1, -1, C6, "::/0", false, "icmpv6 is another protocol"},
        {ICMPOUT, EGR, "-1", -1, -1, C4, "0.0.0.0/0", true, "all traffic includes icmp"},

        {GRE, IG, "47", -1, -1, C4, "10.0.0.0/8", true, "protocol number"},
        {GRE, IG, "tcp", 47, 47, C4, "10.0.0.0/8", false, "tcp port 47 is not protocol 47"},
        {GRE, IG, "-1", -1, -1, C4, "10.0.0.0/8", true, "all traffic includes gre"},

        {ALLONLY, IG, "-1", -1, -1, C4, "10.0.0.0/8", true, "an all-traffic rule"},
        {ALLONLY, IG, "tcp", 0, 65535, C4, "10.0.0.0/8", false, "listing all does not match tcp"},
    };
    for (size_t i = 0; i < NP_ARRAY_LEN(cases); i++) {
        struct np_posture_rule r = atomic(cases[i].dir, cases[i].proto, cases[i].from, cases[i].to,
                                          cases[i].kind, cases[i].peer);
        bool got = np_posture_guardrail_rule_matches(&g->rules[cases[i].rule], &r);
        char *text = np_posture_rule_text(&r);
        cr_expect_eq(got, cases[i].want, "case %zu: %s vs %s %s: want %s (%s)", i,
                     g->rules[cases[i].rule].id, np_posture_direction_name(cases[i].dir), text,
                     cases[i].want ? "match" : "no match", cases[i].why);
        free(text);
    }
    struct np_posture_rule r = atomic(IG, "tcp", 22, 22, C4, "0.0.0.0/0");
    cr_assert_not(np_posture_guardrail_rule_matches(NULL, &r));
    cr_assert_not(np_posture_guardrail_rule_matches(&g->rules[0], NULL));
    np_posture_guardrail_destroy(g);
}

/* Matching sees canonical rules: observed spellings (6, unmasked CIDRs, IPv6 case) match. */
Test(posture_guardrail, matches_observed_spellings)
{
    struct np_posture_guardrail *g =
        t_guardrail("{'rules':[{'id':'a','deny':{'cidrs':['0.0.0.0/0','::/0'],'ports':[22]}}]}");
    const struct np_posture_raw_rule raw[] = {
        IN("6", 22, 22, C4, "0.0.0.0/0", NULL),
        IN("tcp", 0, 100, C6, "::0/0", NULL),
        IN_NP("-1", C6, "::/0", NULL),
        IN("17", 22, 22, C4, "10.1.2.3/8", NULL),
    };
    struct np_posture_ruleset rs = {0};
    cr_assert_eq(np_posture_observed(&rs, raw, NP_ARRAY_LEN(raw)), 0);
    size_t matched = 0;
    for (size_t i = 0; i < rs.n; i++)
        matched += np_posture_guardrail_rule_matches(&g->rules[0], &rs.rules[i]);
    cr_assert_eq(matched, 3);
    np_posture_ruleset_clean_up(&rs);
    np_posture_guardrail_destroy(g);
}

Test(posture_guardrail, exemptions)
{
    struct np_posture_guardrail *g = t_guardrail(
        "{'rules':[{'id':'a','deny':{'ports':[22]},'exceptions':[{'namespace':'bastion',"
        "'posture':'jump-host'},{'namespace':'ops'}]},{'id':'b','deny':{'ports':[22]}}]}");
    const struct np_posture_guardrail_rule *a = &g->rules[0], *b = &g->rules[1];
    cr_assert(np_posture_guardrail_exempts(a, "bastion", "jump-host"));
    cr_assert_not(np_posture_guardrail_exempts(a, "bastion", "other"));
    cr_assert_not(np_posture_guardrail_exempts(a, "shop", "jump-host"));
    cr_assert(np_posture_guardrail_exempts(a, "ops", "anything"), "the whole namespace");
    cr_assert(np_posture_guardrail_exempts(a, "ops", NULL));
    cr_assert_not(np_posture_guardrail_exempts(a, NULL, "jump-host"));
    cr_assert_not(np_posture_guardrail_exempts(a, "Bastion", "jump-host"), "names are exact");
    cr_assert_not(np_posture_guardrail_exempts(b, "bastion", "jump-host"), "per rule");
    cr_assert_not(np_posture_guardrail_exempts(NULL, "bastion", "jump-host"));
    np_posture_guardrail_destroy(g);
}

/* ---------------------------------------------------------------- check */

Test(posture_guardrail, check_order)
{
    struct np_posture_guardrail *g1 = t_guardrail("{'rules':[{'id':'ssh','deny':{'ports':[22]}},"
                                                  "{'id':'open','deny':{'cidrs':['0.0.0.0/0']}}]}");
    struct np_posture_guardrail *g2 =
        t_guardrail("{'enforcement':'Warn','rules':[{'id':'all','deny':{'protocols':['all']},"
                    "'exceptions':[{'namespace':'shop','posture':'web'}]}]}");
    const struct np_posture_guardrail *gs[] = {g1, NULL, g2};
    const struct np_posture_raw_rule raw[] = {
        IN("tcp", 443, 443, C4, "10.0.0.0/8", NULL),
        IN("tcp", 443, 443, C4, "0.0.0.0/0", NULL),
        IN("tcp", 22, 22, C4, "10.0.0.0/8", NULL),
        IN_NP("-1", C4, "0.0.0.0/0", NULL),
    };
    struct np_posture_ruleset rs = {0};
    cr_assert_eq(np_posture_observed(&rs, raw, NP_ARRAY_LEN(raw)), 0);
    /* Sorted: -1 0.0.0.0/0, tcp 22 10/8, tcp 443 0/0, tcp 443 10/8. */
    struct np_posture_violation *v = NULL;
    size_t n = 0;
    cr_assert_eq(np_posture_guardrail_check(&v, &n, gs, 3, "shop", "api", &rs), 0);
    cr_assert_eq(n, 5);
    const struct {
        const struct np_posture_guardrail *g;
        size_t rule, atomic;
    } want[] = {{g1, 0, 0}, {g1, 1, 0}, {g2, 0, 0}, {g1, 0, 1}, {g1, 1, 2}};
    for (size_t i = 0; i < n; i++) {
        cr_expect_eq(v[i].guardrail, want[i].g, "violation %zu: guardrail", i);
        cr_expect_eq(v[i].rule, &want[i].g->rules[want[i].rule], "violation %zu: rule", i);
        cr_expect_eq(v[i].atomic, &rs.rules[want[i].atomic], "violation %zu: atomic", i);
    }
    free(v);

    /* shop/web is exempt from g2's rule. */
    cr_assert_eq(np_posture_guardrail_check(&v, &n, gs, 3, "shop", "web", &rs), 0);
    cr_assert_eq(n, 4);
    for (size_t i = 0; i < n; i++)
        cr_expect_eq(v[i].guardrail, g1);
    free(v);

    /* Nothing violates: NULL, 0. */
    const struct np_posture_guardrail *only2[] = {g2};
    struct np_posture_ruleset none = {0};
    v = (struct np_posture_violation *)(uintptr_t)1;
    n = 7;
    cr_assert_eq(np_posture_guardrail_check(&v, &n, only2, 1, "shop", "api", &none), 0);
    cr_assert_null(v);
    cr_assert_eq(n, 0);
    cr_assert_eq(np_posture_guardrail_check(&v, &n, NULL, 0, "shop", "api", &rs), 0);
    cr_assert_null(v);
    cr_assert_eq(n, 0);

    np_posture_ruleset_clean_up(&rs);
    np_posture_guardrail_destroy(g1);
    np_posture_guardrail_destroy(g2);
}

/* The desired rules as checked: peer names kept (np_posture_desired, not resolved). */
Test(posture_guardrail, check_desired_with_peer_names)
{
    struct np_posture_guardrail *g = t_guardrail("{'rules':[{'id':'pg','deny':{'ports':[5432]}},"
                                                 "{'id':'open','deny':{'cidrs':['0.0.0.0/0']}}]}");
    const struct np_posture_guardrail *gs[] = {g};
    struct np_posture_sg_spec *spec =
        t_spec("{'groupName':'g','egress':[],'ingress':[{'protocol':'tcp','fromPort':5432,"
               "'toPort':5432,'securityGroups':[{'name':'db'}]},{'protocol':'tcp','fromPort':443,"
               "'toPort':443,'securityGroups':[{'name':'web'}]}]}");
    struct np_posture_ruleset rs = {0};
    cr_assert_eq(np_posture_desired(&rs, spec), 0, "%s", np_error_message());
    struct np_posture_violation *v = NULL;
    size_t n = 0;
    cr_assert_eq(np_posture_guardrail_check(&v, &n, gs, 1, "shop", "api", &rs), 0);
    cr_assert_eq(n, 1, "a CIDR rule never matches a name; a rule without CIDRs does");
    cr_expect_eq(v[0].rule, &g->rules[0]);
    char *text = np_posture_rule_text(v[0].atomic);
    cr_expect_str_eq(text, "tcp 5432 name:db");
    free(text);
    free(v);
    np_posture_ruleset_clean_up(&rs);
    np_posture_sg_spec_destroy(spec);
    np_posture_guardrail_destroy(g);
}

/* ---------------------------------------------------------------- mark */

/* One line per drift item: "<change> <scope> <text>[ guardrail]". Owned. */
static char *delta_text(const struct np_posture_delta *d)
{
    struct np_buf b = NP_BUF_INIT;
    np_buf_puts(&b, "");
    for (size_t i = 0; i < d->n; i++) {
        char *text = np_posture_drift_text(&d->items[i]);
        np_buf_appendf(&b, "%s %s %s%s%s%s\n", np_posture_change_name(d->items[i].change),
                       np_posture_drift_scope(&d->items[i]), text,
                       d->items[i].rule.description ? " \"" : "",
                       d->items[i].rule.description ? d->items[i].rule.description : "",
                       d->items[i].rule.description ? "\"" : "");
        if (d->items[i].guardrail)
            np_buf_puts(&b, "  ^ guardrail\n");
        free(text);
    }
    return np_buf_take(&b);
}

/* The pieces of a mark test: spec -> desired, raw -> observed, diff. */
struct scene {
    struct np_posture_sg_spec *spec;
    struct np_posture_ruleset want, got;
    struct np_posture_delta delta;
};

static void scene_init(struct scene *s, const char *spec, const struct np_posture_raw_rule *raw,
                       size_t n_raw, const struct np_posture_tag *have, size_t n_have)
{
    memset(s, 0, sizeof(*s));
    s->spec = t_spec(spec);
    cr_assert_eq(np_posture_desired(&s->want, s->spec), 0, "%s", np_error_message());
    cr_assert_eq(np_posture_observed(&s->got, raw, n_raw), 0);
    cr_assert_eq(np_posture_diff(&s->delta, &s->want, &s->got, s->spec->tags, s->spec->n_tags, have,
                                 n_have, s->spec->ownership),
                 0);
}

static int scene_mark(struct scene *s, const struct np_posture_guardrail *const *gs, size_t n,
                      const char *ns, const char *name)
{
    return np_posture_guardrail_mark(&s->delta, &s->want, &s->got, s->spec->ownership, gs, n, ns,
                                     name);
}

static void scene_clean_up(struct scene *s)
{
    np_posture_delta_clean_up(&s->delta);
    np_posture_ruleset_clean_up(&s->want);
    np_posture_ruleset_clean_up(&s->got);
    np_posture_sg_spec_destroy(s->spec);
}

#define ADMIN_GUARDRAIL                                                                            \
    "{'rules':[{'id':'admin','deny':{'direction':'ingress','cidrs':['0.0.0.0/0','::/0'],"          \
    "'ports':[22,3389],'protocols':['tcp','udp','all']},"                                          \
    "'exceptions':[{'namespace':'bastion'}]}]}"

Test(posture_guardrail, mark_exclusive)
{
    struct np_posture_guardrail *g = t_guardrail(ADMIN_GUARDRAIL);
    const struct np_posture_guardrail *gs[] = {g};
    const struct np_posture_raw_rule raw[] = {
        IN("tcp", 22, 22, C4, "0.0.0.0/0", "console"),
        IN("tcp", 443, 443, C4, "10.0.0.0/8", NULL),
        IN("tcp", 80, 80, C4, "0.0.0.0/0", NULL),
        EG_DEFAULT,
    };
    const struct np_posture_tag have[] = {{"team", "x"}, {"extra", "1"}};
    struct scene s;
    scene_init(&s,
               "{'groupName':'g','tags':{'team':'shop'},'ingress':[{'protocol':'tcp',"
               "'fromPort':443,'toPort':443,'cidrs':['10.0.0.0/8']}]}",
               raw, NP_ARRAY_LEN(raw), have, NP_ARRAY_LEN(have));
    cr_assert_eq(scene_mark(&s, gs, 1, "shop", "web"), 0);
    char *text = delta_text(&s.delta);
    cr_assert_str_eq(text, "Extra ingress tcp 22 0.0.0.0/0 \"console\"\n"
                           "  ^ guardrail\n"
                           "Extra ingress tcp 80 0.0.0.0/0\n"
                           "TagExtra tags extra=1\n"
                           "TagChanged tags team=shop\n");
    free(text);

    /* The plan revokes the violating rule before anything else. */
    struct np_posture_plan p = {0};
    char **lines = NULL;
    size_t n = 0;
    cr_assert_eq(np_posture_plan_build(&p, &s.delta), 0);
    cr_assert(p.n > 0 && p.actions[0].guardrail && p.actions[0].kind == NP_POSTURE_REVOKE);
    cr_assert_eq(p.actions[0].n_rules, 1);
    cr_assert_eq(p.actions[0].rules[0].from_port, 22);
    cr_assert_eq(np_posture_plan_text(&lines, &n, &p), 0);
    np_posture_lines_free(lines);
    np_posture_plan_clean_up(&p);

    /* An exempt posture: nothing marked. */
    for (size_t i = 0; i < s.delta.n; i++)
        s.delta.items[i].guardrail = false;
    cr_assert_eq(scene_mark(&s, gs, 1, "bastion", "jump-host"), 0);
    for (size_t i = 0; i < s.delta.n; i++)
        cr_expect_not(s.delta.items[i].guardrail, "item %zu", i);
    scene_clean_up(&s);
    np_posture_guardrail_destroy(g);
}

Test(posture_guardrail, mark_additive_inserts_in_identity_order)
{
    struct np_posture_guardrail *g = t_guardrail(ADMIN_GUARDRAIL);
    const struct np_posture_guardrail *gs[] = {g};
    const struct np_posture_raw_rule raw[] = {
        IN("tcp", 3389, 3389, C6, "::/0", NULL),   IN("tcp", 22, 22, C4, "0.0.0.0/0", "temp ssh"),
        IN("tcp", 22, 22, C4, "10.0.0.0/8", NULL), IN("tcp", 443, 443, C4, "10.0.0.0/8", "old"),
        IN_NP("-1", C4, "0.0.0.0/0", "legacy"),    IN("tcp", 9000, 9000, C4, "0.0.0.0/0", NULL),
        EG("udp", 22, 22, C4, "0.0.0.0/0", NULL),  EG_DEFAULT,
    };
    const struct np_posture_tag have[] = {{"other", "kept"}};
    struct scene s;
    scene_init(&s,
               "{'groupName':'g','ownership':'Additive','tags':{'team':'shop'},'ingress':["
               "{'protocol':'tcp','fromPort':443,'toPort':443,'cidrs':['10.0.0.0/8'],"
               "'description':'https'},"
               "{'protocol':'tcp','fromPort':8080,'toPort':8080,'cidrs':['10.0.0.0/8']}]}",
               raw, NP_ARRAY_LEN(raw), have, NP_ARRAY_LEN(have));
    char *before = delta_text(&s.delta);
    cr_assert_str_eq(before, "DescriptionChanged ingress tcp 443 10.0.0.0/8 \"https\"\n"
                             "Missing ingress tcp 8080 10.0.0.0/8\n"
                             "TagMissing tags team=shop\n");
    free(before);
    cr_assert_eq(scene_mark(&s, gs, 1, "shop", "web"), 0);
    const char *want = "Extra ingress all 0.0.0.0/0 \"legacy\"\n"
                       "  ^ guardrail\n"
                       "Extra ingress tcp 22 0.0.0.0/0 \"temp ssh\"\n"
                       "  ^ guardrail\n"
                       "DescriptionChanged ingress tcp 443 10.0.0.0/8 \"https\"\n"
                       "Extra ingress tcp 3389 ::/0\n"
                       "  ^ guardrail\n"
                       "Missing ingress tcp 8080 10.0.0.0/8\n"
                       "TagMissing tags team=shop\n";
    char *text = delta_text(&s.delta);
    cr_assert_str_eq(text, want);
    free(text);
    for (size_t i = 1; i < s.delta.n; i++)
        if (s.delta.items[i].change != NP_POSTURE_TAG_MISSING)
            cr_assert(np_posture_rule_cmp(&s.delta.items[i - 1].rule, &s.delta.items[i].rule) < 0,
                      "rule items stay in identity order (%zu)", i);
    cr_assert_str_eq(s.delta.items[2].observed_description, "old", "moved items keep their data");

    /* Marking again adds nothing. */
    cr_assert_eq(scene_mark(&s, gs, 1, "shop", "web"), 0);
    text = delta_text(&s.delta);
    cr_assert_str_eq(text, want);
    free(text);

    /* The plan revokes the three first, then authorizes, describes, tags. */
    struct np_posture_plan p = {0};
    char **lines = NULL;
    size_t n = 0;
    cr_assert_eq(np_posture_plan_build(&p, &s.delta), 0);
    cr_assert(p.n > 0 && p.actions[0].guardrail && p.actions[0].kind == NP_POSTURE_REVOKE);
    cr_assert_eq(p.actions[0].n_rules, 3);
    cr_assert_eq(np_posture_plan_text(&lines, &n, &p), 0);
    cr_assert_eq(n, 6);
    np_posture_lines_free(lines);
    np_posture_plan_clean_up(&p);
    scene_clean_up(&s);
    np_posture_guardrail_destroy(g);
}

Test(posture_guardrail, mark_additive_tags_only_and_edges)
{
    struct np_posture_guardrail *deny = t_guardrail(ADMIN_GUARDRAIL);
    struct np_posture_guardrail *warn =
        t_guardrail("{'enforcement':'Warn','rules':[{'id':'no-gre','deny':{'protocols':['47']}}]}");
    const struct np_posture_guardrail *gs[] = {deny, warn};
    const struct np_posture_raw_rule raw[] = {
        IN_NP("47", C4, "10.0.0.0/8", NULL),
        IN("tcp", 22, 22, C4, "0.0.0.0/0", NULL),
        EG("tcp", 22, 22, C4, "0.0.0.0/0", NULL),
    };
    const struct np_posture_tag have[] = {{"team", "ops"}};
    struct scene s;
    /* The posture declares tcp 22 from anywhere itself: desired, so not drift here (the check
     * on the desired state reports it); a Warn guardrail also marks. Tag items stay last. */
    scene_init(&s,
               "{'groupName':'g','ownership':'Additive','tags':{'team':'shop'},'ingress':["
               "{'protocol':'tcp','fromPort':22,'toPort':22,'cidrs':['0.0.0.0/0']}],"
               "'egress':[{'protocol':'tcp','fromPort':22,'toPort':22,'cidrs':['0.0.0.0/0']}]}",
               raw, NP_ARRAY_LEN(raw), have, NP_ARRAY_LEN(have));
    cr_assert_eq(scene_mark(&s, gs, 2, "shop", "web"), 0);
    char *text = delta_text(&s.delta);
    cr_assert_str_eq(text, "Extra ingress 47 10.0.0.0/8\n"
                           "  ^ guardrail\n"
                           "TagChanged tags team=shop\n");
    free(text);
    /* No guardrails, or none: nothing happens. */
    cr_assert_eq(scene_mark(&s, NULL, 0, "shop", "web"), 0);
    cr_assert_eq(
        np_posture_guardrail_mark(NULL, &s.want, &s.got, NP_POSTURE_ADDITIVE, gs, 2, "shop", "web"),
        0);
    cr_assert_eq(s.delta.n, 2);
    scene_clean_up(&s);

    /* An empty delta gets the items; an empty observed set adds nothing. */
    struct np_posture_delta d = {0};
    struct np_posture_ruleset want = {0}, got = {0};
    cr_assert_eq(np_posture_observed(&got, raw, NP_ARRAY_LEN(raw)), 0);
    cr_assert_eq(np_posture_guardrail_mark(&d, &want, &got, NP_POSTURE_ADDITIVE, gs, 2, "a", "b"),
                 0);
    text = delta_text(&d);
    cr_assert_str_eq(text, "Extra ingress 47 10.0.0.0/8\n"
                           "  ^ guardrail\n"
                           "Extra ingress tcp 22 0.0.0.0/0\n"
                           "  ^ guardrail\n");
    free(text);
    np_posture_delta_clean_up(&d);
    cr_assert_eq(np_posture_guardrail_mark(&d, &want, &want, NP_POSTURE_ADDITIVE, gs, 2, "a", "b"),
                 0);
    cr_assert_eq(d.n, 0);
    /* Exclusive never adds: the diff already has every undeclared rule. */
    cr_assert_eq(np_posture_guardrail_mark(&d, &want, &got, NP_POSTURE_EXCLUSIVE, gs, 2, "a", "b"),
                 0);
    cr_assert_eq(d.n, 0);
    np_posture_ruleset_clean_up(&got);
    np_posture_guardrail_destroy(deny);
    np_posture_guardrail_destroy(warn);
}

/* ---------------------------------------------------------------- the shipped CIS guardrail */

/* YAML scalars come back as strings (np_kube_yaml_parse); the apiserver hands the controller
 * typed JSON, so turn the numeric port strings back into integers and the require flags into
 * booleans. */
static void type_scalars(json_object *spec)
{
    json_object *rules = json_object_object_get(spec, "rules");
    for (size_t i = 0; rules && i < json_object_array_length(rules); i++) {
        json_object *req = json_object_object_get(json_object_array_get_idx(rules, i), "require");
        if (req) {
            json_object_object_foreach(req, k, val)
            {
                const char *s = json_object_get_string(val);
                cr_assert(np_str_eq(s, "true") || np_str_eq(s, "false"), "require.%s is %s", k, s);
                json_object_object_add(req, k, json_object_new_boolean(np_str_eq(s, "true")));
            }
        }
        json_object *deny = json_object_object_get(json_object_array_get_idx(rules, i), "deny");
        json_object *ports = deny ? json_object_object_get(deny, "ports") : NULL;
        for (size_t j = 0; ports && j < json_object_array_length(ports); j++) {
            const char *s = json_object_get_string(json_object_array_get_idx(ports, j));
            char *end = NULL;
            long v = strtol(s, &end, 10);
            cr_assert(*s && !*end, "port %s is not a number", s);
            json_object_array_put_idx(ports, j, json_object_new_int((int)v));
        }
    }
}

Test(posture_guardrail, cis_manifest)
{
    char *yaml = t_read_file(CIS_MANIFEST);
    cr_assert_not_null(yaml, "cannot read %s (tests run from the repository root)", CIS_MANIFEST);
    json_object *doc = NULL;
    cr_assert_eq(np_kube_yaml_parse(&doc, yaml, strlen(yaml)), 0, "%s", np_error_message());
    free(yaml);
    cr_assert_str_eq(json_object_get_string(json_object_object_get(doc, "kind")),
                     "PostureGuardrail");
    json_object *meta = json_object_object_get(doc, "metadata");
    const char *name = json_object_get_string(json_object_object_get(meta, "name"));
    cr_assert_str_eq(name, "cis-aws-network");
    json_object *spec = json_object_object_get(doc, "spec");
    type_scalars(spec);
    struct np_posture_guardrail *g = NULL;
    cr_assert_eq(np_posture_guardrail_parse(&g, name, spec), 0, "%s", np_error_message());
    json_object_put(doc);
    cr_assert_eq(g->enforcement, NP_POSTURE_GUARDRAIL_DENY);
    cr_assert_eq(g->n_rules, 5);
    cr_assert_str_eq(g->rules[0].references[0], "CIS AWS Foundations v3.0.0 5.2");
    cr_assert_str_eq(g->rules[1].references[0], "CIS AWS Foundations v3.0.0 5.3");
    cr_assert_str_eq(g->rules[2].references[0], "CIS AWS Foundations v3.0.0 5.1");
    cr_assert_eq(g->rules[2].resources, NP_POSTURE_GUARDRAIL_NETWORK_ACLS);
    cr_assert_str_eq(g->rules[3].references[0], "CIS AWS Foundations v3.0.0 5.4");
    cr_assert(g->rules[3].require_default_sg_restricted && !g->rules[3].require_flow_logs);
    cr_assert_str_eq(g->rules[4].references[0], "CIS AWS Foundations v3.0.0 3.7");
    cr_assert(g->rules[4].require_flow_logs && !g->rules[4].require_default_sg_restricted);

    const struct np_posture_raw_rule raw[] = {
        IN("tcp", 22, 22, C4, "0.0.0.0/0", NULL),       /* 5.2 */
        IN("tcp", 3389, 3389, C6, "::/0", NULL),        /* 5.3 */
        IN("6", 0, 65535, C4, "0.0.0.0/0", NULL),       /* 5.2: every tcp port */
        IN_NP("-1", C6, "::/0", NULL),                  /* 5.3: all traffic */
        IN("17", 3389, 3389, C4, "0.0.0.0/0", NULL),    /* 5.2: udp */
        IN("tcp", 22, 22, C4, "198.51.100.0/24", NULL), /* fine: not the internet */
        IN("tcp", 443, 443, C4, "0.0.0.0/0", NULL),     /* fine: not an admin port */
        IN("icmp", -1, -1, C4, "0.0.0.0/0", NULL),      /* fine: icmp */
        IN("tcp", 22, 22, PL, "pl-0abc1234", NULL),     /* fine: a prefix list */
        EG("tcp", 22, 22, C4, "0.0.0.0/0", NULL),       /* fine: egress */
        EG_DEFAULT,                                     /* fine: egress */
    };
    struct np_posture_ruleset rs = {0};
    cr_assert_eq(np_posture_observed(&rs, raw, NP_ARRAY_LEN(raw)), 0);
    const struct np_posture_guardrail *gs[] = {g};
    struct np_posture_violation *v = NULL;
    size_t n = 0;
    cr_assert_eq(np_posture_guardrail_check(&v, &n, gs, 1, "shop", "web", &rs), 0);
    struct np_buf b = NP_BUF_INIT;
    np_buf_puts(&b, "");
    for (size_t i = 0; i < n; i++) {
        char *text = np_posture_rule_text(v[i].atomic);
        np_buf_appendf(&b, "%s: %s %s\n", v[i].rule->id,
                       np_posture_direction_name(v[i].atomic->direction), text);
        free(text);
    }
    cr_assert_str_eq(np_buf_cstr(&b),
                     "no-admin-ports-from-ipv6-internet: ingress all ::/0\n"
                     "no-admin-ports-from-ipv4-internet: ingress tcp 0-65535 "
                     "0.0.0.0/0\n"
                     "no-admin-ports-from-ipv4-internet: ingress tcp 22 0.0.0.0/0\n"
                     "no-admin-ports-from-ipv6-internet: ingress tcp 3389 ::/0\n"
                     "no-admin-ports-from-ipv4-internet: ingress udp 3389 "
                     "0.0.0.0/0\n");
    np_buf_clean_up(&b);
    free(v);
    np_posture_ruleset_clean_up(&rs);
    np_posture_guardrail_destroy(g);
}
