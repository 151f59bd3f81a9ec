/*
 * Diff and plan with golden plan text: spellings that must not count as drift, real changes,
 * Exclusive vs Additive ownership, egress omitted vs [], tag rules, batching, make-before-break
 * order with guardrail revokes first, escaping, plan counts and the mode policy.
 */
#include "posture_test.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

TestSuite(posture_plan, .fini = t_leak_check);
TestSuite(posture_diff, .fini = t_leak_check);
TestSuite(posture_policy, .fini = t_leak_check);

#define WEB                                                                                        \
    "{'groupName':'web','tags':{'team':'shop'},'ingress':[{'protocol':'tcp','fromPort':443,"       \
    "'toPort':443,'cidrs':['10.1.2.3/8'],'description':'https from the VPC'}]}"
#define HTTPS IN("tcp", 443, 443, C4, "10.0.0.0/8", "https from the VPC")
#define TEAM                                                                                       \
    {                                                                                              \
        "team", "shop"                                                                             \
    }
#define MAX_RAW 8
#define MAX_TAGS 6

struct plan_case {
    const char *name;
    const char *spec; /* single-quoted JSON */
    struct np_posture_raw_rule raw[MAX_RAW];
    struct np_posture_tag have[MAX_TAGS];
    const char *want; /* golden plan text, one line per atomic change */
};

static size_t n_raw(const struct plan_case *c)
{
    size_t n = 0;
    while (n < MAX_RAW && c->raw[n].protocol)
        n++;
    return n;
}

static size_t n_have(const struct plan_case *c)
{
    size_t n = 0;
    while (n < MAX_TAGS && c->have[n].key)
        n++;
    return n;
}

static void run_cases(const struct plan_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct plan_case *c = &cases[i];
        char *got = t_plan(c->spec, c->raw, n_raw(c), c->have, n_have(c), NULL);
        cr_expect_str_eq(got, c->want, "case \"%s\"\ngot:\n%swant:\n%s", c->name, got, c->want);
        free(got);
    }
}

/* None of these is drift: the plan must be empty. */
static const struct plan_case not_drift[] = {
    {"converged: unmasked CIDR in the spec, masked in AWS", WEB, {HTTPS, EG_DEFAULT}, {TEAM}, ""},
    {"protocol 6 in AWS, tcp in the spec",
     WEB,
     {IN("6", 443, 443, C4, "10.0.0.0/8", "https from the VPC"), EG_DEFAULT},
     {TEAM},
     ""},
    {"protocol tcp in AWS, 6 in the spec",
     "{'groupName':'g','egress':[],'ingress':[{'protocol':'6','fromPort':22,'toPort':22,"
     "'cidrs':['10.0.0.0/8']}]}",
     {IN("tcp", 22, 22, C4, "10.0.0.0/8", NULL)},
     {{NULL, NULL}},
     ""},
    {"-1 with ports in AWS, default egress in the spec",
     WEB,
     {HTTPS, EG("-1", 0, 65535, C4, "0.0.0.0/0", NULL)},
     {TEAM},
     ""},
    {"all with ports in the spec, -1 without in AWS",
     "{'groupName':'g','egress':[{'protocol':'all','fromPort':0,'toPort':65535,"
     "'cidrs':['0.0.0.0/0']}]}",
     {EG_NP("-1", C4, "0.0.0.0/0", NULL)},
     {{NULL, NULL}},
     ""},
    {"all in AWS, -1 in the spec",
     "{'groupName':'g','egress':[{'protocol':'-1','cidrs':['0.0.0.0/0']}]}",
     {EG_NP("all", C4, "0.0.0.0/0", NULL)},
     {{NULL, NULL}},
     ""},
    {"IPv6 spelling: upper case and zeros in the spec",
     "{'groupName':'g','egress':[],'ingress':[{'protocol':'tcp','fromPort':443,'toPort':443,"
     "'ipv6Cidrs':['2001:DB8:0:0::/32']}]}",
     {IN("tcp", 443, 443, C6, "2001:db8::/32", NULL)},
     {{NULL, NULL}},
     ""},
    {"IPv6 spelling: long form and host bits in AWS",
     "{'groupName':'g','egress':[],'ingress':[{'protocol':'tcp','fromPort':443,'toPort':443,"
     "'ipv6Cidrs':['2001:db8::/32']}]}",
     {IN("tcp", 443, 443, C6, "2001:0DB8:0000:0000:0000:0000:0000:0001/32", NULL)},
     {{NULL, NULL}},
     ""},
    {"rule order differs",
     "{'groupName':'g','egress':[],'ingress':[{'protocol':'udp','fromPort':53,'toPort':53,"
     "'cidrs':['10.0.0.0/8']},{'protocol':'tcp','fromPort':22,'toPort':22,"
     "'cidrs':['10.0.0.0/8']},{'protocol':'tcp','fromPort':443,'toPort':443,"
     "'cidrs':['10.0.0.0/8']}]}",
     {IN("tcp", 443, 443, C4, "10.0.0.0/8", NULL), IN("tcp", 22, 22, C4, "10.0.0.0/8", NULL),
      IN("udp", 53, 53, C4, "10.0.0.0/8", NULL)},
     {{NULL, NULL}},
     ""},
    {"several CIDRs in one declared rule, separate rules in AWS",
     "{'groupName':'g','egress':[],'ingress':[{'protocol':'tcp','fromPort':443,'toPort':443,"
     "'cidrs':['10.0.0.0/8','172.16.0.0/12','192.168.0.0/16'],'description':'d'}]}",
     {IN("tcp", 443, 443, C4, "192.168.0.0/16", "d"), IN("tcp", 443, 443, C4, "10.0.0.0/8", "d"),
      IN("tcp", 443, 443, C4, "172.16.0.0/12", "d")},
     {{NULL, NULL}},
     ""},
    {"separate declared rules, one AWS permission per peer",
     "{'groupName':'g','egress':[],'ingress':[{'protocol':'tcp','fromPort':443,'toPort':443,"
     "'cidrs':['10.0.0.0/8']},{'protocol':'tcp','fromPort':443,'toPort':443,"
     "'prefixListIds':['pl-0abc1234']},{'protocol':'tcp','fromPort':443,'toPort':443,"
     "'securityGroups':[{'groupId':'sg-0DEF1234'},{'name':'db'}]}]}",
     {IN("tcp", 443, 443, SG, "sg-0db00000000000001", NULL),
      IN("tcp", 443, 443, SG, "sg-0def1234", NULL), IN("tcp", 443, 443, PL, "pl-0abc1234", NULL),
      IN("tcp", 443, 443, C4, "10.0.0.0/8", NULL)},
     {{NULL, NULL}},
     ""},
    {"ICMP: all types in the spec, -1/-1 in AWS; type 8 without code",
     "{'groupName':'g','egress':[],'ingress':[{'protocol':'icmp','cidrs':['10.0.0.0/8']},"
     "{'protocol':'1','fromPort':8,'cidrs':['10.0.0.0/8']},"
     "{'protocol':'icmpv6','ipv6Cidrs':['::/0']}]}",
     {IN("icmp", -1, -1, C4, "10.0.0.0/8", NULL), IN("icmp", 8, -1, C4, "10.0.0.0/8", NULL),
      IN_NP("icmpv6", C6, "::/0", NULL)},
     {{NULL, NULL}},
     ""},
    {"protocol number: ports in AWS are ignored",
     "{'groupName':'g','egress':[],'ingress':[{'protocol':'47','cidrs':['10.0.0.0/8']}]}",
     {IN("47", 0, 0, C4, "10.0.0.0/8", NULL)},
     {{NULL, NULL}},
     ""},
    {"ownership and aws: tags are never drift, even in Exclusive mode",
     WEB,
     {HTTPS, EG_DEFAULT},
     {{"netposture.dev/owner", "shop/web"},
      {"netposture.dev/uid", "0a1b"},
      {"netposture.dev/other", "x"},
      {"aws:cloudformation:stack-name", "s"},
      TEAM},
     ""},
    {"duplicate observed rules (an emulator that does not canonicalise)",
     WEB,
     {HTTPS, IN("tcp", 443, 443, C4, "10.9.9.9/8", NULL), EG_DEFAULT},
     {TEAM},
     ""},
};

Test(posture_plan, not_drift)
{
    run_cases(not_drift, NP_ARRAY_LEN(not_drift));
}

/* Real changes, with the golden plan. */
static const struct plan_case changes[] = {
    {"open SSH from anywhere: authorize what is missing first, revoke the extra last",
     WEB,
     {IN("tcp", 22, 22, C4, "0.0.0.0/0", NULL), EG_DEFAULT},
     {TEAM},
     "authorize ingress tcp 443 10.0.0.0/8\n"
     "revoke ingress tcp 22 0.0.0.0/0\n"},
    {"description only: fixed in place, never revoked",
     WEB,
     {IN("tcp", 443, 443, C4, "10.0.0.0/8", "old"), EG_DEFAULT},
     {TEAM},
     "describe ingress tcp 443 10.0.0.0/8 \"https from the VPC\"\n"},
    {"description removed in AWS",
     WEB,
     {IN("tcp", 443, 443, C4, "10.0.0.0/8", NULL), EG_DEFAULT},
     {TEAM},
     "describe ingress tcp 443 10.0.0.0/8 \"https from the VPC\"\n"},
    {"description added in AWS, none declared: cleared",
     "{'groupName':'g','egress':[],'ingress':[{'protocol':'tcp','fromPort':22,'toPort':22,"
     "'cidrs':['10.0.0.0/8']}]}",
     {IN("tcp", 22, 22, C4, "10.0.0.0/8", "added by hand")},
     {{NULL, NULL}},
     "describe ingress tcp 22 10.0.0.0/8 \"\"\n"},
    {"port changed",
     WEB,
     {IN("tcp", 8443, 8443, C4, "10.0.0.0/8", "https from the VPC"), EG_DEFAULT},
     {TEAM},
     "authorize ingress tcp 443 10.0.0.0/8\n"
     "revoke ingress tcp 8443 10.0.0.0/8\n"},
    {"port range widened",
     WEB,
     {IN("tcp", 443, 444, C4, "10.0.0.0/8", "https from the VPC"), EG_DEFAULT},
     {TEAM},
     "authorize ingress tcp 443 10.0.0.0/8\n"
     "revoke ingress tcp 443-444 10.0.0.0/8\n"},
    {"a wider CIDR is another rule",
     WEB,
     {IN("tcp", 443, 443, C4, "10.0.0.0/7", "https from the VPC"), EG_DEFAULT},
     {TEAM},
     "authorize ingress tcp 443 10.0.0.0/8\n"
     "revoke ingress tcp 443 10.0.0.0/7\n"},
    {"protocol changed",
     WEB,
     {IN("udp", 443, 443, C4, "10.0.0.0/8", "https from the VPC"), EG_DEFAULT},
     {TEAM},
     "authorize ingress tcp 443 10.0.0.0/8\n"
     "revoke ingress udp 443 10.0.0.0/8\n"},
    {"ICMP code changed, and all codes differ from code 0",
     "{'groupName':'g','egress':[],'ingress':[{'protocol':'icmp','fromPort':8,'toPort':0,"
     "'cidrs':['10.0.0.0/8']}]}",
     {IN("icmp", 8, 1, C4, "10.0.0.0/8", NULL), IN("icmp", 8, -1, C4, "10.0.0.0/8", NULL)},
     {{NULL, NULL}},
     "authorize ingress icmp type 8 code 0 10.0.0.0/8\n"
     "revoke ingress icmp type 8 10.0.0.0/8\n"
     "revoke ingress icmp type 8 code 1 10.0.0.0/8\n"},
    {"the same peer in the other direction is another rule",
     "{'groupName':'g','egress':[],'ingress':[{'protocol':'all','cidrs':['10.0.0.0/8']}]}",
     {EG_NP("-1", C4, "10.0.0.0/8", NULL)},
     {{NULL, NULL}},
     "authorize ingress all 10.0.0.0/8\n"
     "revoke egress all 10.0.0.0/8\n"},
    {"egress omitted and the default egress deleted: re-authorized",
     WEB,
     {HTTPS},
     {TEAM},
     "authorize egress all 0.0.0.0/0\n"},
    {"egress [] and the AWS default present: revoked",
     "{'groupName':'g','egress':[]}",
     {EG_DEFAULT},
     {{NULL, NULL}},
     "revoke egress all 0.0.0.0/0\n"},
    {"egress omitted in an IPv6 VPC: the extra ::/0 default is drift",
     "{'groupName':'g'}",
     {EG_DEFAULT, EG_NP("-1", C6, "::/0", NULL)},
     {{NULL, NULL}},
     "revoke egress all ::/0\n"},
    {"group and prefix-list peers",
     "{'groupName':'g','egress':[],'ingress':[{'protocol':'tcp','fromPort':1000,'toPort':2000,"
     "'securityGroups':[{'groupId':'sg-0def1234'}],'prefixListIds':['pl-0abc1234']}]}",
     {IN("tcp", 1000, 2000, SG, "sg-0bad1234", NULL)},
     {{NULL, NULL}},
     "authorize ingress tcp 1000-2000 pl-0abc1234\n"
     "authorize ingress tcp 1000-2000 sg-0def1234\n"
     "revoke ingress tcp 1000-2000 sg-0bad1234\n"},
    {"tags: declared missing and changed are set together; undeclared is deleted",
     "{'groupName':'g','egress':[],'tags':{'team':'shop','env':'prod','cost':'42'}}",
     {{false, NULL, false, 0, 0, C4, NULL, NULL}},
     {{"team", "other"}, {"owner", "alice"}, {"cost", "42"}, {"netposture.dev/owner", "x/y"}},
     "tag set env=prod\n"
     "tag set team=shop\n"
     "tag delete owner\n"},
    {"tags: a declared empty value",
     "{'groupName':'g','egress':[],'tags':{'note':''}}",
     {{false, NULL, false, 0, 0, C4, NULL, NULL}},
     {{"note", "x"}},
     "tag set note=\n"},
    {"everything at once, make-before-break",
     "{'groupName':'g','tags':{'team':'shop'},'ingress':["
     "{'protocol':'tcp','fromPort':443,'toPort':443,'cidrs':['10.0.0.0/8','172.16.0.0/12'],"
     "'description':'https'},{'protocol':'icmp','fromPort':8,'toPort':0,'cidrs':['10.0.0.0/8']},"
     "{'protocol':'47','cidrs':['10.0.0.0/8']}],"
     "'egress':[{'protocol':'tcp','fromPort':5432,'toPort':5432,"
     "'securityGroups':[{'name':'db'}],'description':'postgres'},"
     "{'protocol':'udp','fromPort':53,'toPort':53,'cidrs':['10.0.0.53/32']}]}",
     {IN("tcp", 443, 443, C4, "10.0.0.0/8", "old"), IN("tcp", 22, 22, C4, "0.0.0.0/0", NULL),
      IN("tcp", 3389, 3389, C4, "0.0.0.0/0", NULL), EG_DEFAULT,
      EG("tcp", 5432, 5432, SG, "sg-0db00000000000001", NULL)},
     {{"team", "ops"}, {"owner", "alice"}, {"aws:x", "y"}},
     "authorize ingress 47 10.0.0.0/8\n"
     "authorize ingress icmp type 8 code 0 10.0.0.0/8\n"
     "authorize ingress tcp 443 172.16.0.0/12\n"
     "authorize egress udp 53 10.0.0.53/32\n"
     "describe ingress tcp 443 10.0.0.0/8 \"https\"\n"
     "describe egress tcp 5432 sg-0db00000000000001 \"postgres\"\n"
     "tag set team=shop\n"
     "tag delete owner\n"
     "revoke ingress tcp 22 0.0.0.0/0\n"
     "revoke ingress tcp 3389 0.0.0.0/0\n"
     "revoke egress all 0.0.0.0/0\n"},
};

Test(posture_plan, real_changes)
{
    run_cases(changes, NP_ARRAY_LEN(changes));
}

Test(posture_plan, exclusive_vs_additive)
{
    static const struct plan_case cases[] = {
        {"Exclusive: undeclared rules and tags are drift",
         WEB,
         {IN("tcp", 8080, 8080, C4, "192.168.0.0/16", "someone else's"), EG_DEFAULT},
         {TEAM, {"foreign", "x"}},
         "authorize ingress tcp 443 10.0.0.0/8\n"
         "tag delete foreign\n"
         "revoke ingress tcp 8080 192.168.0.0/16\n"},
        {"Additive: undeclared rules and tags are left alone",
         "{'groupName':'web','ownership':'Additive','tags':{'team':'shop'},'ingress':[{"
         "'protocol':'tcp','fromPort':443,'toPort':443,'cidrs':['10.0.0.0/8'],"
         "'description':'https from the VPC'}]}",
         {IN("tcp", 8080, 8080, C4, "192.168.0.0/16", "someone else's"), EG_DEFAULT},
         {TEAM, {"foreign", "x"}},
         "authorize ingress tcp 443 10.0.0.0/8\n"},
        {"Additive: declared rules and tags are still ours (description, value)",
         "{'groupName':'web','ownership':'Additive','tags':{'team':'shop'},'egress':[],"
         "'ingress':[{'protocol':'tcp','fromPort':443,'toPort':443,'cidrs':['10.0.0.0/8'],"
         "'description':'https'}]}",
         {IN("tcp", 443, 443, C4, "10.0.0.0/8", "edited"), EG_DEFAULT},
         {{"team", "ops"}, {"foreign", "x"}},
         "describe ingress tcp 443 10.0.0.0/8 \"https\"\n"
         "tag set team=shop\n"},
        {"Additive with egress omitted: the default egress is declared, other egress is not",
         "{'groupName':'web','ownership':'Additive'}",
         {EG_NP("-1", C6, "::/0", NULL)},
         {{NULL, NULL}},
         "authorize egress all 0.0.0.0/0\n"},
    };
    run_cases(cases, NP_ARRAY_LEN(cases));
}

/* Runs the pipeline by hand to look at the delta and the plan's structure. */
struct pipeline {
    struct np_posture_sg_spec *spec;
    struct np_posture_ruleset want, got;
    struct np_posture_delta delta;
    struct np_posture_plan plan;
};

static void pipeline_diff(struct pipeline *p, const char *spec,
                          const struct np_posture_raw_rule *raw, size_t n_raw_rules,
                          const struct np_posture_tag *have, size_t n_have_tags)
{
    memset(p, 0, sizeof(*p));
    p->spec = t_spec(spec);
    cr_assert_eq(t_desired(&p->want, p->spec), 0);
    cr_assert_eq(np_posture_observed(&p->got, raw, n_raw_rules), 0);
    cr_assert_eq(np_posture_diff(&p->delta, &p->want, &p->got, p->spec->tags, p->spec->n_tags, have,
                                 n_have_tags, p->spec->ownership),
                 0);
}

static char *pipeline_plan_text(struct pipeline *p)
{
    char **lines = NULL;
    np_posture_plan_clean_up(&p->plan);
    cr_assert_eq(np_posture_plan_build(&p->plan, &p->delta), 0);
    cr_assert_eq(np_posture_plan_text(&lines, NULL, &p->plan), 0);
    char *text = t_join(lines);
    np_posture_lines_free(lines);
    return text;
}

static void pipeline_clean_up(struct pipeline *p)
{
    np_posture_plan_clean_up(&p->plan);
    np_posture_delta_clean_up(&p->delta);
    np_posture_ruleset_clean_up(&p->want);
    np_posture_ruleset_clean_up(&p->got);
    np_posture_sg_spec_destroy(p->spec);
}

Test(posture_diff, drift_items_for_status)
{
    struct pipeline p;
    struct np_posture_raw_rule raw[] = {IN("tcp", 22, 22, C4, "0.0.0.0/0", NULL),
                                        IN("tcp", 443, 443, C4, "10.0.0.0/8", "old"),
                                        EG_NP("-1", C6, "::/0", NULL)};
    struct np_posture_tag have[] = {{"team", "ops"}, {"owner", "alice"}};
    pipeline_diff(&p,
                  "{'groupName':'g','tags':{'team':'shop','env':'prod'},'ingress':[{'protocol':"
                  "'tcp','fromPort':443,'toPort':443,'cidrs':['10.0.0.0/8'],'description':'https'},"
                  "{'protocol':'udp','fromPort':53,'toPort':53,'cidrs':['10.0.0.0/8']}]}",
                  raw, NP_ARRAY_LEN(raw), have, NP_ARRAY_LEN(have));
    static const char *const want[][3] = {
        {"ingress", "Extra", "tcp 22 0.0.0.0/0"},
        {"ingress", "DescriptionChanged", "tcp 443 10.0.0.0/8"},
        {"ingress", "Missing", "udp 53 10.0.0.0/8"},
        {"egress", "Missing", "all 0.0.0.0/0"},
        {"egress", "Extra", "all ::/0"},
        {"tags", "TagMissing", "env=prod"},
        {"tags", "TagExtra", "owner=alice"},
        {"tags", "TagChanged", "team=shop"},
    };
    cr_assert_eq(p.delta.n, NP_ARRAY_LEN(want));
    for (size_t i = 0; i < p.delta.n; i++) {
        const struct np_posture_drift *d = &p.delta.items[i];
        char *text = np_posture_drift_text(d);
        cr_expect_str_eq(np_posture_drift_scope(d), want[i][0], "item %zu", i);
        cr_expect_str_eq(np_posture_change_name(d->change), want[i][1], "item %zu", i);
        cr_expect_str_eq(text, want[i][2], "item %zu", i);
        free(text);
        cr_expect_not(d->guardrail, "the diff never sets the guardrail flag");
    }
    cr_assert_str_eq(p.delta.items[1].observed_description, "old");
    cr_assert_str_eq(p.delta.items[1].rule.description, "https");
    cr_assert_str_eq(p.delta.items[7].observed_value, "ops");
    cr_assert_null(p.delta.items[5].observed_value);
    cr_assert_str_eq(np_posture_change_name((enum np_posture_change)99), "Unknown");
    pipeline_clean_up(&p);
}

Test(posture_plan, batched_one_action_per_kind_and_direction)
{
    const struct plan_case *all = &changes[NP_ARRAY_LEN(changes) - 1];
    struct pipeline p;
    pipeline_diff(&p, all->spec, all->raw, n_raw(all), all->have, n_have(all));
    cr_assert_eq(np_posture_plan_build(&p.plan, &p.delta), 0);
    static const struct {
        enum np_posture_action_kind kind;
        enum np_posture_direction dir;
        size_t n_rules, n_tags;
    } want[] = {
        {NP_POSTURE_AUTHORIZE, NP_POSTURE_INGRESS, 3, 0},
        {NP_POSTURE_AUTHORIZE, NP_POSTURE_EGRESS, 1, 0},
        {NP_POSTURE_DESCRIBE, NP_POSTURE_INGRESS, 1, 0},
        {NP_POSTURE_DESCRIBE, NP_POSTURE_EGRESS, 1, 0},
        {NP_POSTURE_TAG_SET, NP_POSTURE_INGRESS, 0, 1},
        {NP_POSTURE_TAG_DELETE, NP_POSTURE_INGRESS, 0, 1},
        {NP_POSTURE_REVOKE, NP_POSTURE_INGRESS, 2, 0},
        {NP_POSTURE_REVOKE, NP_POSTURE_EGRESS, 1, 0},
    };
    cr_assert_eq(p.plan.n, NP_ARRAY_LEN(want));
    for (size_t i = 0; i < p.plan.n; i++) {
        const struct np_posture_action *a = &p.plan.actions[i];
        cr_expect_eq(a->kind, want[i].kind, "action %zu", i);
        cr_expect_eq(a->direction, want[i].dir, "action %zu", i);
        cr_expect_eq(a->n_rules, want[i].n_rules, "action %zu", i);
        cr_expect_eq(a->n_tags, want[i].n_tags, "action %zu", i);
        cr_expect_not(a->guardrail, "action %zu", i);
    }
    cr_assert_eq(np_posture_plan_count(&p.plan), 11);
    /* Rules in actions carry what the API call needs: the desired description. */
    cr_assert_str_eq(p.plan.actions[2].rules[0].description, "https");
    cr_assert_str_eq(p.plan.actions[4].tags[0].key, "team");
    cr_assert_str_eq(p.plan.actions[4].tags[0].value, "shop");
    cr_assert_str_eq(p.plan.actions[5].tags[0].key, "owner");
    pipeline_clean_up(&p);
}

Test(posture_plan, guardrail_revokes_go_first)
{
    struct pipeline p;
    struct np_posture_raw_rule raw[] = {
        IN("tcp", 22, 22, C4, "0.0.0.0/0", NULL),     IN("tcp", 8080, 8080, C4, "10.0.0.0/8", NULL),
        IN("tcp", 443, 443, C4, "10.0.0.0/8", "old"), EG_DEFAULT,
        EG("tcp", 25, 25, C4, "0.0.0.0/0", NULL),
    };
    struct np_posture_tag have[] = {{"owner", "alice"}};
    pipeline_diff(&p,
                  "{'groupName':'g','tags':{'team':'shop'},'ingress':[{'protocol':'tcp',"
                  "'fromPort':443,'toPort':443,'cidrs':['10.0.0.0/8'],'description':'https'},"
                  "{'protocol':'udp','fromPort':53,'toPort':53,'cidrs':['10.0.0.0/8']}]}",
                  raw, NP_ARRAY_LEN(raw), have, NP_ARRAY_LEN(have));

    /* Without guardrail flags: plain make-before-break. */
    char *text = pipeline_plan_text(&p);
    cr_assert_str_eq(text, "authorize ingress udp 53 10.0.0.0/8\n"
                           "describe ingress tcp 443 10.0.0.0/8 \"https\"\n"
                           "tag set team=shop\n"
                           "tag delete owner\n"
                           "revoke ingress tcp 22 0.0.0.0/0\n"
                           "revoke ingress tcp 8080 10.0.0.0/8\n"
                           "revoke egress tcp 25 0.0.0.0/0\n");
    free(text);

    /* The guardrail check flags SSH and SMTP from anywhere (and, wrongly, a Missing item,
     * which must not move: only revokes are guardrail actions). */
    for (size_t i = 0; i < p.delta.n; i++) {
        char *t = np_posture_drift_text(&p.delta.items[i]);
        if (strstr(t, "0.0.0.0/0") || strstr(t, "udp 53"))
            p.delta.items[i].guardrail = true;
        free(t);
    }
    text = pipeline_plan_text(&p);
    cr_assert_str_eq(text, "revoke ingress tcp 22 0.0.0.0/0\n"
                           "revoke egress tcp 25 0.0.0.0/0\n"
                           "authorize ingress udp 53 10.0.0.0/8\n"
                           "describe ingress tcp 443 10.0.0.0/8 \"https\"\n"
                           "tag set team=shop\n"
                           "tag delete owner\n"
                           "revoke ingress tcp 8080 10.0.0.0/8\n");
    free(text);
    cr_assert(p.plan.actions[0].guardrail);
    cr_assert_eq(p.plan.actions[0].kind, NP_POSTURE_REVOKE);
    cr_assert_eq(p.plan.actions[0].direction, NP_POSTURE_INGRESS);
    cr_assert(p.plan.actions[1].guardrail);
    cr_assert_eq(p.plan.actions[1].direction, NP_POSTURE_EGRESS);
    cr_assert_not(p.plan.actions[p.plan.n - 1].guardrail);
    cr_assert_eq(np_posture_plan_count(&p.plan), 7);
    pipeline_clean_up(&p);
}

Test(posture_plan, text_is_one_line_with_escapes)
{
    struct np_posture_rule want_rule = {NP_POSTURE_INGRESS,       "tcp", 1, 1, C4, "10.0.0.0/8",
                                        "say \"hi\" \\ bye\nnext"};
    struct np_posture_rule have_rule = want_rule;
    have_rule.description = NULL;
    struct np_posture_ruleset want = {&want_rule, 1}, got = {&have_rule, 1};
    struct np_posture_tag want_tags[] = {{"name", "web tier\t1"}};
    struct np_posture_tag have_tags[] = {{"bad\nkey", "v"}};
    struct np_posture_delta d = {0};
    struct np_posture_plan p = {0};
    char **lines = NULL;
    size_t n = 0;
    cr_assert_eq(np_posture_diff(&d, &want, &got, want_tags, 1, have_tags, 1, NP_POSTURE_EXCLUSIVE),
                 0);
    cr_assert_eq(np_posture_plan_build(&p, &d), 0);
    cr_assert_eq(np_posture_plan_text(&lines, &n, &p), 0);
    cr_assert_eq(n, 3);
    cr_assert_str_eq(lines[0],
                     "describe ingress tcp 1 10.0.0.0/8 \"say \\\"hi\\\" \\\\ bye\\nnext\"");
    cr_assert_str_eq(lines[1], "tag set name=web tier\\t1");
    cr_assert_str_eq(lines[2], "tag delete bad\\nkey");
    cr_assert_null(lines[3]);
    np_posture_lines_free(lines);
    np_posture_plan_clean_up(&p);
    np_posture_delta_clean_up(&d);
}

Test(posture_plan, empty)
{
    struct np_posture_delta d = {0};
    struct np_posture_plan p = {0};
    char **lines = NULL;
    size_t n = 99;
    cr_assert_eq(np_posture_plan_build(&p, &d), 0);
    cr_assert_eq(p.n, 0);
    cr_assert_eq(np_posture_plan_count(&p), 0);
    cr_assert_eq(np_posture_plan_text(&lines, &n, &p), 0);
    cr_assert_eq(n, 0);
    cr_assert_not_null(lines);
    cr_assert_null(lines[0]);
    np_posture_lines_free(lines);
    np_posture_lines_free(NULL);
    np_posture_plan_clean_up(&p);
}

Test(posture_policy, from_a_parsed_spec_and_bad_input)
{
    struct np_posture_sg_spec *s =
        t_spec("{'groupName':'g','remediation':{'maxChangesPerSync':2}}");
    struct np_posture_drift items[3];
    memset(items, 0, sizeof(items));
    for (size_t i = 0; i < NP_ARRAY_LEN(items); i++)
        items[i].change = NP_POSTURE_EXTRA; /* revokes: they count */
    struct np_posture_delta delta = {.items = items, .n = NP_ARRAY_LEN(items)};
    struct np_posture_policy_input in = {.remediation = &s->remediation, .delta = &delta};
    struct np_posture_verdict v;
    cr_assert_eq(np_posture_policy_decide(&v, &in), 0);
    cr_assert_eq(v.standing, NP_POSTURE_STANDING_BLAST_RADIUS);
    cr_assert_str_eq(np_posture_standing_name(v.standing), "BlastRadiusExceeded");
    cr_assert_eq(v.n_proposed, 3);
    cr_assert_eq(v.limit, 2);
    np_posture_verdict_clean_up(&v);
    np_posture_verdict_clean_up(&v);

    struct np_posture_policy_input no_delta = {.remediation = &s->remediation};
    cr_assert_eq(np_posture_policy_decide(&v, &no_delta), NP_EINVAL);
    struct np_posture_policy_input no_rem = {.delta = &delta};
    cr_assert_eq(np_posture_policy_decide(&v, &no_rem), NP_EINVAL);
    cr_assert_eq(np_posture_policy_decide(&v, NULL), NP_EINVAL);
    np_posture_sg_spec_destroy(s);
}
