/*
 * Normalisation: canonical protocols and CIDRs, observed AWS rules to atomic rules, declared
 * rules expanded per peer (group names kept, the default egress), peer names resolved from a
 * looked-up table, deduplication and the rule text.
 */
#include "posture_test.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

TestSuite(posture_canonical, .fini = t_leak_check);
TestSuite(posture_observed, .fini = t_leak_check);
TestSuite(posture_desired, .fini = t_leak_check);
TestSuite(posture_text, .fini = t_leak_check);

Test(posture_canonical, protocols)
{
    static const char *const ok[][2] = {
        {"tcp", "tcp"}, {"TCP", "tcp"},       {"6", "tcp"},         {"006", "tcp"},
        {"udp", "udp"}, {"Udp", "udp"},       {"17", "udp"},        {"icmp", "icmp"},
        {"1", "icmp"},  {"icmpv6", "icmpv6"}, {"ICMPv6", "icmpv6"}, {"58", "icmpv6"},
        {"all", "-1"},  {"ALL", "-1"},        {"-1", "-1"},         {"47", "47"},
        {"050", "50"},  {"0", "0"},           {"255", "255"},
    };
    for (size_t i = 0; i < NP_ARRAY_LEN(ok); i++) {
        char out[8] = "";
        cr_expect_eq(np_posture_protocol_canonical(ok[i][0], out), 0, "%s: %s", ok[i][0],
                     np_error_message());
        cr_expect_str_eq(out, ok[i][1], "%s -> %s, want %s", ok[i][0], out, ok[i][1]);
    }
    static const char *const bad[] = {"",    "256", "+6",         " 6",   "6 ",
                                      "gre", "-2",  "1000000000", "tcpx", "0x6"};
    for (size_t i = 0; i < NP_ARRAY_LEN(bad); i++) {
        char out[8] = "";
        cr_expect_eq(np_posture_protocol_canonical(bad[i], out), NP_EINVAL, "\"%s\" accepted",
                     bad[i]);
    }
    char out[8];
    cr_assert_eq(np_posture_protocol_canonical(NULL, out), NP_EINVAL);
    cr_assert(np_posture_protocol_has_ports("tcp"));
    cr_assert(np_posture_protocol_has_ports("udp"));
    cr_assert(np_posture_protocol_has_ports("icmp"));
    cr_assert(np_posture_protocol_has_ports("icmpv6"));
    cr_assert_not(np_posture_protocol_has_ports("-1"));
    cr_assert_not(np_posture_protocol_has_ports("47"));
    cr_assert_not(np_posture_protocol_has_ports(NULL));
}

Test(posture_canonical, cidrs)
{
    static const struct {
        const char *in;
        bool v6;
        const char *out; /* NULL: invalid */
    } cases[] = {
        {"10.1.2.3/8", false, "10.0.0.0/8"},
        {"100.68.0.18/18", false, "100.68.0.0/18"},
        {"0.0.0.0/0", false, "0.0.0.0/0"},
        {"1.2.3.4/0", false, "0.0.0.0/0"},
        {"203.0.113.7/32", false, "203.0.113.7/32"},
        {"192.168.1.255/31", false, "192.168.1.254/31"},
        {"10.0.0.0/08", false, "10.0.0.0/8"},
        {"2001:DB8:0:0::/32", true, "2001:db8::/32"},
        {"2001:db8::1/64", true, "2001:db8::/64"},
        {"::/0", true, "::/0"},
        {"2001:0db8:0000:0000:0000:0000:0000:0001/128", true, "2001:db8::1/128"},
        {"fe80::1:2:3:4/65", true, "fe80::/65"},
        {"2001:db8:1:2:3:4:5:7/127", true, "2001:db8:1:2:3:4:5:6/127"},
        {"::ffff:10.1.2.3/104", true, "::ffff:10.0.0.0/104"},
        {"10.0.0.0/33", false, NULL},
        {"10.0.0.0", false, NULL},
        {"10.0.0/8", false, NULL},
        {"010.0.0.0/8", false, NULL},
        {"10.0.0.0/8/8", false, NULL},
        {"10.0.0.0/", false, NULL},
        {"/8", false, NULL},
        {"", false, NULL},
        {"10.0.0.0/ 8", false, NULL},
        {"10.0.0.0/-1", false, NULL},
        {"2001:db8::/32", false, NULL},
        {"10.0.0.0/8", true, NULL},
        {"::/129", true, NULL},
        {"2001:db8:::1/64", true, NULL},
        {"::/0128", true, NULL},
    };
    for (size_t i = 0; i < NP_ARRAY_LEN(cases); i++) {
        char *out = (char *)"x";
        int rc = np_posture_cidr_canonical(&out, cases[i].in, cases[i].v6);
        if (cases[i].out) {
            cr_expect_eq(rc, 0, "%s: %s", cases[i].in, np_error_message());
            cr_expect_str_eq(out ? out : "(null)", cases[i].out, "%s", cases[i].in);
        } else {
            cr_expect_eq(rc, NP_EINVAL, "\"%s\" accepted as %s", cases[i].in,
                         cases[i].v6 ? "IPv6" : "IPv4");
            cr_expect_null(out, "%s: out must be NULL on error", cases[i].in);
        }
        free(out);
    }
    char *out = NULL;
    cr_assert_eq(np_posture_cidr_canonical(&out, "1.2.3.4/40", false), NP_EINVAL);
    cr_assert_str_eq(np_error_message(), "\"1.2.3.4/40\" is not a valid IPv4 CIDR");
    cr_assert_eq(np_posture_cidr_canonical(&out, NULL, true), NP_EINVAL);
    cr_assert_str_eq(np_error_message(), "\"\" is not a valid IPv6 CIDR");
}

Test(posture_canonical, reserved_tags)
{
    cr_assert(np_posture_tag_is_reserved("netposture.dev/owner"));
    cr_assert(np_posture_tag_is_reserved("netposture.dev/uid"));
    cr_assert(np_posture_tag_is_reserved("netposture.dev/anything"));
    cr_assert(np_posture_tag_is_reserved("aws:cloudformation:stack-name"));
    cr_assert(np_posture_tag_is_reserved("AWS:x"));
    cr_assert_not(np_posture_tag_is_reserved("netposture.dev"));
    cr_assert_not(np_posture_tag_is_reserved("team"));
    cr_assert_not(np_posture_tag_is_reserved("aws"));
    cr_assert_not(np_posture_tag_is_reserved("x.netposture.dev/owner"));
}

/* One observed rule at a time: raw AWS form -> "<dir> <rule text> [\"description\"]". */
static const struct {
    struct np_posture_raw_rule raw;
    const char *line;
} observed_cases[] = {
    {IN("tcp", 443, 443, C4, "10.0.0.0/8", "https"), "ingress tcp 443 10.0.0.0/8 \"https\""},
    {IN("6", 443, 443, C4, "10.1.2.3/8", NULL), "ingress tcp 443 10.0.0.0/8"},
    {IN("TCP", 1000, 2000, SG, "SG-0DEF", ""), "ingress tcp 1000-2000 sg-0def"},
    {IN("17", 53, 53, PL, "PL-0ABC", NULL), "ingress udp 53 pl-0abc"},
    {IN("-1", 0, 65535, C4, "0.0.0.0/0", NULL), "ingress all 0.0.0.0/0"},
    {IN("-1", -1, -1, C4, "0.0.0.0/0", NULL), "ingress all 0.0.0.0/0"},
    {IN_NP("all", C4, "0.0.0.0/0", NULL), "ingress all 0.0.0.0/0"},
    {IN("icmp", 8, 0, C4, "10.0.0.0/8", NULL), "ingress icmp type 8 code 0 10.0.0.0/8"},
    {IN("1", 3, -1, C4, "10.0.0.0/8", NULL), "ingress icmp type 3 10.0.0.0/8"},
    {IN("icmp", -1, 5, C4, "10.0.0.0/8", NULL), "ingress icmp 10.0.0.0/8"},
    {IN("icmp", -1, -1, C4, "10.0.0.0/8", NULL), "ingress icmp 10.0.0.0/8"},
    {IN_NP("icmpv6", C6, "::/0", NULL), "ingress icmpv6 ::/0"},
    {IN("58", 128, 0, C6, "2001:DB8::/32", NULL), "ingress icmpv6 type 128 code 0 2001:db8::/32"},
    {IN("47", 1, 2, C4, "10.0.0.0/8", NULL), "ingress 47 10.0.0.0/8"},
    {IN_NP("47", C4, "10.0.0.0/8", NULL), "ingress 47 10.0.0.0/8"},
    {IN("gre", 1, 2, C4, "10.0.0.0/8", NULL), "ingress gre 10.0.0.0/8"},
    {IN("tcp", 1, 1, C4, "Bogus/99", NULL), "ingress tcp 1 bogus/99"},
    {IN("tcp", 22, 22, C6, "2001:DB8:0:0::1/64", "x"), "ingress tcp 22 2001:db8::/64 \"x\""},
    {EG_DEFAULT, "egress all 0.0.0.0/0"},
    {EG("udp", 0, 65535, C6, "::/0", NULL), "egress udp 0-65535 ::/0"},
};

Test(posture_observed, each_rule_canonical)
{
    for (size_t i = 0; i < NP_ARRAY_LEN(observed_cases); i++) {
        struct np_posture_ruleset rs = {0};
        cr_assert_eq(np_posture_observed(&rs, &observed_cases[i].raw, 1), 0);
        cr_assert_eq(rs.n, 1);
        char *line = t_rule_line(&rs.rules[0]);
        cr_expect_str_eq(line, observed_cases[i].line, "case %zu", i);
        free(line);
        np_posture_ruleset_clean_up(&rs);
    }
}

Test(posture_observed, sorted_and_deduplicated)
{
    struct np_posture_raw_rule raw[] = {
        EG_DEFAULT,
        IN("tcp", 443, 443, C4, "10.1.2.3/8", NULL),
        IN("udp", 53, 53, C4, "10.0.0.0/8", NULL),
        IN("tcp", 443, 443, C4, "10.0.0.0/8", "second"),
        IN("6", 443, 443, C4, "10.9.9.9/8", "third"),
        IN("tcp", 22, 22, C4, "10.0.0.0/8", NULL),
    };
    struct np_posture_ruleset rs = {0};
    cr_assert_eq(np_posture_observed(&rs, raw, NP_ARRAY_LEN(raw)), 0);
    char *text = t_ruleset_text(&rs);
    cr_assert_str_eq(text, "ingress tcp 22 10.0.0.0/8\n"
                           "ingress tcp 443 10.0.0.0/8 \"second\"\n"
                           "ingress udp 53 10.0.0.0/8\n"
                           "egress all 0.0.0.0/0\n");
    free(text);
    np_posture_ruleset_clean_up(&rs);
    cr_assert_eq(rs.n, 0);
    cr_assert_eq(np_posture_observed(&rs, NULL, 0), 0);
    cr_assert_eq(rs.n, 0);
    np_posture_ruleset_clean_up(&rs);
}

/* Declared rules expanded: spec -> desired atomic rules, one line each, sorted. */
static const struct {
    const char *name;
    const char *spec;
    const char *want;
} desired_cases[] = {
    {"one rule, every kind of peer, egress omitted",
     "{'groupName':'g','ingress':[{'protocol':'tcp','fromPort':443,'toPort':443,"
     "'cidrs':['10.1.2.3/8','172.16.0.0/12'],'ipv6Cidrs':['2001:DB8:0:0::/32'],"
     "'prefixListIds':['PL-0ABC1234'],'securityGroups':[{'groupId':'sg-0def1234'},"
     "{'name':'db'},{'name':'cache'}],'description':'https'}]}",
     "ingress tcp 443 10.0.0.0/8 \"https\"\n"
     "ingress tcp 443 172.16.0.0/12 \"https\"\n"
     "ingress tcp 443 2001:db8::/32 \"https\"\n"
     "ingress tcp 443 pl-0abc1234 \"https\"\n"
     "ingress tcp 443 sg-0cac0000000000002 \"https\"\n"
     "ingress tcp 443 sg-0db00000000000001 \"https\"\n"
     "ingress tcp 443 sg-0def1234 \"https\"\n"
     "egress all 0.0.0.0/0\n"},
    {"egress [] means none", "{'groupName':'g','egress':[]}", ""},
    {"no ingress, egress omitted: the AWS default", "{'groupName':'g'}", "egress all 0.0.0.0/0\n"},
    {"declared egress replaces the default",
     "{'groupName':'g','egress':[{'protocol':'tcp','fromPort':443,'toPort':443,"
     "'cidrs':['0.0.0.0/0']}]}",
     "egress tcp 443 0.0.0.0/0\n"},
    {"protocol forms and ports",
     "{'groupName':'g','egress':[],'ingress':["
     "{'protocol':'all','fromPort':0,'toPort':65535,'cidrs':['10.0.0.0/8']},"
     "{'protocol':'47','fromPort':1,'toPort':2,'cidrs':['10.0.0.0/8']},"
     "{'protocol':'icmp','fromPort':8,'cidrs':['10.0.0.0/8']},"
     "{'protocol':'1','fromPort':3,'toPort':4,'cidrs':['10.0.0.0/8']},"
     "{'protocol':'icmp','fromPort':-1,'toPort':-1,'cidrs':['192.168.0.0/16']},"
     "{'protocol':'icmpv6','ipv6Cidrs':['::/0']},"
     "{'protocol':'UDP','fromPort':53,'toPort':53,'cidrs':['10.0.0.0/8']},"
     "{'protocol':'6','fromPort':1000,'toPort':2000,'cidrs':['10.0.0.0/8']}]}",
     "ingress all 10.0.0.0/8\n"
     "ingress 47 10.0.0.0/8\n"
     "ingress icmp 192.168.0.0/16\n"
     "ingress icmp type 3 code 4 10.0.0.0/8\n"
     "ingress icmp type 8 10.0.0.0/8\n"
     "ingress icmpv6 ::/0\n"
     "ingress tcp 1000-2000 10.0.0.0/8\n"
     "ingress udp 53 10.0.0.0/8\n"},
    {"duplicates: the first non-empty description in declaration order wins",
     "{'groupName':'g','egress':[],'ingress':["
     "{'protocol':'tcp','fromPort':22,'toPort':22,'cidrs':['10.0.0.0/8']},"
     "{'protocol':'6','fromPort':22,'toPort':22,'cidrs':['10.1.0.0/8'],'description':'b'},"
     "{'protocol':'tcp','fromPort':22,'toPort':22,'cidrs':['10.0.0.0/8'],'description':'c'},"
     "{'protocol':'tcp','fromPort':80,'toPort':80,'cidrs':['10.0.0.0/8'],'description':'d'},"
     "{'protocol':'tcp','fromPort':80,'toPort':80,'cidrs':['10.0.0.0/8'],'description':'a'},"
     "{'protocol':'tcp','fromPort':5432,'toPort':5432,'securityGroups':[{'name':'db'},"
     "{'groupId':'sg-0DB00000000000001'}]}]}",
     "ingress tcp 22 10.0.0.0/8 \"b\"\n"
     "ingress tcp 80 10.0.0.0/8 \"d\"\n"
     "ingress tcp 5432 sg-0db00000000000001\n"},
    {"a name and its id are one rule: the description declared first wins (name first)",
     "{'groupName':'g','egress':[],'ingress':["
     "{'protocol':'tcp','fromPort':5432,'toPort':5432,'securityGroups':[{'name':'db'}],"
     "'description':'by name'},"
     "{'protocol':'6','fromPort':5432,'toPort':5432,'securityGroups':"
     "[{'groupId':'sg-0DB00000000000001'}],'description':'by id'}]}",
     "ingress tcp 5432 sg-0db00000000000001 \"by name\"\n"},
    {"a name and its id are one rule: the description declared first wins (id first)",
     "{'groupName':'g','egress':[],'ingress':["
     "{'protocol':'tcp','fromPort':5432,'toPort':5432,'securityGroups':"
     "[{'groupId':'sg-0DB00000000000001'}]},"
     "{'protocol':'tcp','fromPort':5432,'toPort':5432,'securityGroups':"
     "[{'groupId':'sg-0db00000000000001'}],'description':'by id'},"
     "{'protocol':'tcp','fromPort':5432,'toPort':5432,'securityGroups':[{'name':'db'}],"
     "'description':'by name'}]}",
     "ingress tcp 5432 sg-0db00000000000001 \"by id\"\n"},
    {"the default egress declared explicitly is the same rule",
     "{'groupName':'g','egress':[{'protocol':'-1','cidrs':['0.0.0.0/0']},"
     "{'protocol':'all','ipv6Cidrs':['::/0']}]}",
     "egress all 0.0.0.0/0\n"
     "egress all ::/0\n"},
};

Test(posture_desired, expansion)
{
    for (size_t i = 0; i < NP_ARRAY_LEN(desired_cases); i++) {
        struct np_posture_sg_spec *s = t_spec(desired_cases[i].spec);
        struct np_posture_ruleset rs = {0};
        cr_assert_eq(t_desired(&rs, s), 0, "%s: %s", desired_cases[i].name, np_error_message());
        char *text = t_ruleset_text(&rs);
        cr_expect_str_eq(text, desired_cases[i].want, "case \"%s\"\ngot:\n%swant:\n%s",
                         desired_cases[i].name, text, desired_cases[i].want);
        free(text);
        np_posture_ruleset_clean_up(&rs);
        np_posture_sg_spec_destroy(s);
    }
}

static const char *const named_spec =
    "{'groupName':'g','ingress':[{'protocol':'tcp','fromPort':5432,'toPort':5432,"
    "'securityGroups':[{'name':'web'},{'groupId':'sg-0DEF1234'},{'name':'db'}]},"
    "{'protocol':'tcp','fromPort':22,'toPort':22,'securityGroups':[{'name':'gone'}]}],"
    "'egress':[{'protocol':'all','securityGroups':[{'name':'db'},{'name':'cache'}]}]}";

Test(posture_desired, names_are_kept_until_resolved)
{
    struct np_posture_sg_spec *s = t_spec(named_spec);
    struct np_posture_ruleset rs = {0};
    cr_assert_eq(np_posture_desired(&rs, s), 0, "no peer is needed to expand: %s",
                 np_error_message());
    char *text = t_ruleset_text(&rs);
    cr_expect_str_eq(text,
                     "ingress tcp 22 name:gone\n"
                     "ingress tcp 5432 sg-0def1234\n"
                     "ingress tcp 5432 name:db\n"
                     "ingress tcp 5432 name:web\n"
                     "egress all name:cache\n"
                     "egress all name:db\n",
                     "got:\n%s", text);
    for (size_t i = 0; i < rs.n; i++)
        cr_expect_eq(rs.rules[i].peer_kind,
                     np_str_has_prefix(rs.rules[i].peer, "sg-") ? NP_POSTURE_PEER_GROUP
                                                                : NP_POSTURE_PEER_GROUP_NAME,
                     "%s", rs.rules[i].peer);
    free(text);
    np_posture_ruleset_clean_up(&rs);
    np_posture_sg_spec_destroy(s);
}

Test(posture_desired, peer_names_once_in_declaration_order)
{
    struct np_posture_sg_spec *s = t_spec(named_spec);
    const char **names = NULL;
    size_t n = 0;
    cr_assert_eq(np_posture_peer_names(&names, &n, s), 0);
    static const char *const want[] = {"web", "db", "gone", "cache"};
    cr_assert_eq(n, NP_ARRAY_LEN(want));
    for (size_t i = 0; i < n; i++)
        cr_expect_str_eq(names[i], want[i], "names[%zu]", i);
    free(names);
    np_posture_sg_spec_destroy(s);

    s = t_spec("{'groupName':'g','ingress':[{'protocol':'all','cidrs':['10.0.0.0/8'],"
               "'securityGroups':[{'groupId':'sg-0def1234'}]}]}");
    cr_assert_eq(np_posture_peer_names(&names, &n, s), 0);
    cr_expect_eq(n, 0);
    cr_expect_null(names, "no names: nothing to look up");
    np_posture_sg_spec_destroy(s);
}

Test(posture_desired, resolve_substitutes_ids_and_needs_no_peers_without_names)
{
    struct np_posture_sg_spec *s =
        t_spec("{'groupName':'g','ingress':[{'protocol':'tcp','fromPort':1,'toPort':1,"
               "'securityGroups':[{'name':'db'},{'groupId':'sg-0def1234'},{'name':'cache'}]}],"
               "'egress':[{'protocol':'all','securityGroups':[{'name':'db'}]}]}");
    struct np_posture_ruleset rs = {0};
    cr_assert_eq(np_posture_desired(&rs, s), 0);
    cr_assert_eq(np_posture_ruleset_resolve(&rs, s, &t_peers), 0, "%s", np_error_message());
    char *text = t_ruleset_text(&rs);
    cr_expect_str_eq(text,
                     "ingress tcp 1 sg-0cac0000000000002\n"
                     "ingress tcp 1 sg-0db00000000000001\n"
                     "ingress tcp 1 sg-0def1234\n"
                     "egress all sg-0db00000000000001\n",
                     "got:\n%s", text);
    for (size_t i = 0; i < rs.n; i++)
        cr_expect_eq(rs.rules[i].peer_kind, NP_POSTURE_PEER_GROUP);
    free(text);
    np_posture_ruleset_clean_up(&rs);
    np_posture_sg_spec_destroy(s);

    s = t_spec("{'groupName':'g','ingress':[{'protocol':'all','cidrs':['10.0.0.0/8']}]}");
    cr_assert_eq(np_posture_desired(&rs, s), 0);
    struct np_posture_peers none = {NULL, 0};
    cr_assert_eq(np_posture_ruleset_resolve(&rs, s, &none), 0, "no names: no peers needed");
    cr_assert_eq(np_posture_ruleset_resolve(&rs, NULL, &none), 0, "nor a spec");
    cr_assert_eq(rs.n, 2);
    np_posture_ruleset_clean_up(&rs);
    np_posture_sg_spec_destroy(s);
}

Test(posture_desired, unresolved_peers_are_clear_errors)
{
    static const struct {
        const char *spec;
        bool with_spec; /* false: resolve without the spec (no field paths) */
        const char *message;
    } cases[] = {
        {"{'groupName':'g','ingress':[{'protocol':'all','cidrs':['10.0.0.0/8']},"
         "{'protocol':'tcp','fromPort':1,'toPort':1,'securityGroups':[{'name':'db'},"
         "{'name':'web'}]}]}",
         true,
         "spec.ingress[1].securityGroups[1]: peer SecurityGroupPosture \"web\" has no group yet"},
        {"{'groupName':'g','egress':[{'protocol':'all','securityGroups':[{'name':'gone'}]}]}", true,
         "spec.egress[0].securityGroups[0]: peer SecurityGroupPosture \"gone\" does not exist in "
         "namespace shop"},
        {"{'groupName':'g','egress':[{'protocol':'all','securityGroups':[{'name':'quiet'}]}]}",
         true,
         "spec.egress[0].securityGroups[0]: peer SecurityGroupPosture \"quiet\" has no group id"},
        {"{'groupName':'g','egress':[{'protocol':'all','securityGroups':[{'name':'empty'}]}]}",
         true,
         "spec.egress[0].securityGroups[0]: peer SecurityGroupPosture \"empty\" has no group id"},
        {"{'groupName':'g','ingress':[{'protocol':'all','securityGroups':[{'name':'nobody'}]}]}",
         true,
         "spec.ingress[0].securityGroups[0]: peer SecurityGroupPosture \"nobody\" is not among "
         "the peers looked up"},
        /* the first reference in declaration order, not in identity order (tcp 22 sorts first) */
        {"{'groupName':'g','ingress':[{'protocol':'tcp','fromPort':5432,'toPort':5432,"
         "'securityGroups':[{'name':'db'},{'name':'web'}]},"
         "{'protocol':'tcp','fromPort':22,'toPort':22,'securityGroups':[{'name':'gone'}]}],"
         "'egress':[{'protocol':'all','securityGroups':[{'name':'quiet'}]}]}",
         true,
         "spec.ingress[0].securityGroups[1]: peer SecurityGroupPosture \"web\" has no group yet"},
        {"{'groupName':'g','ingress':[{'protocol':'all','securityGroups':[{'name':'web'}]}]}",
         false, "peer SecurityGroupPosture \"web\" has no group yet"},
    };
    for (size_t i = 0; i < NP_ARRAY_LEN(cases); i++) {
        struct np_posture_sg_spec *s = t_spec(cases[i].spec);
        struct np_posture_ruleset rs = {0};
        cr_assert_eq(np_posture_desired(&rs, s), 0, "case %zu: %s", i, np_error_message());
        char *before = t_ruleset_text(&rs);
        np_error_set(NP_EIO, "a stale message from earlier");
        int rc = np_posture_ruleset_resolve(&rs, cases[i].with_spec ? s : NULL, &t_peers);
        cr_expect_eq(rc, NP_ENOTFOUND, "case %zu: rc %d", i, rc);
        cr_expect_str_eq(np_error_message(), cases[i].message, "case %zu", i);
        char *after = t_ruleset_text(&rs);
        cr_expect_str_eq(after, before, "case %zu: the rules are left as they were", i);
        free(after);
        free(before);
        np_posture_ruleset_clean_up(&rs);
        np_posture_sg_spec_destroy(s);
    }
}

Test(posture_text, rule_texts)
{
    static const struct {
        struct np_posture_rule r;
        const char *text;
    } cases[] = {
        {{NP_POSTURE_INGRESS, "tcp", 443, 443, C4, "10.0.0.0/8", NULL}, "tcp 443 10.0.0.0/8"},
        {{NP_POSTURE_INGRESS, "tcp", 1000, 2000, SG, "sg-0def", NULL}, "tcp 1000-2000 sg-0def"},
        {{NP_POSTURE_INGRESS, "udp", 0, 65535, PL, "pl-0abc", NULL}, "udp 0-65535 pl-0abc"},
        {{NP_POSTURE_EGRESS, "-1", -1, -1, C4, "0.0.0.0/0", NULL}, "all 0.0.0.0/0"},
        {{NP_POSTURE_INGRESS, "icmp", 8, 0, C4, "10.0.0.0/8", NULL},
         "icmp type 8 code 0 10.0.0.0/8"},
        {{NP_POSTURE_INGRESS, "icmp", 3, -1, C4, "10.0.0.0/8", NULL}, "icmp type 3 10.0.0.0/8"},
        {{NP_POSTURE_INGRESS, "icmp", -1, -1, C4, "10.0.0.0/8", NULL}, "icmp 10.0.0.0/8"},
        {{NP_POSTURE_INGRESS, "icmpv6", -1, -1, C6, "::/0", NULL}, "icmpv6 ::/0"},
        {{NP_POSTURE_INGRESS, "47", -1, -1, C4, "10.0.0.0/8", NULL}, "47 10.0.0.0/8"},
        {{NP_POSTURE_INGRESS, "tcp", 5432, 5432, NP_POSTURE_PEER_GROUP_NAME, "db", NULL},
         "tcp 5432 name:db"},
        {{NP_POSTURE_INGRESS, "x\ny", -1, -1, C4, "a\tb", NULL}, "x\\ny a\\tb"},
    };
    for (size_t i = 0; i < NP_ARRAY_LEN(cases); i++) {
        char *t = np_posture_rule_text(&cases[i].r);
        cr_expect_str_eq(t, cases[i].text, "case %zu", i);
        free(t);
    }
    cr_assert_str_eq(np_posture_direction_name(NP_POSTURE_INGRESS), "ingress");
    cr_assert_str_eq(np_posture_direction_name(NP_POSTURE_EGRESS), "egress");
}
