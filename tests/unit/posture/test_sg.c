/*
 * Table-driven tests of the security-group domain logic: spec validation messages,
 * normalisation (server-filled spellings are not drift), diff with ownership and tags, and
 * make-before-break plans compared with golden plan text.
 */
#include "posture/posture.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

static struct np_posture_sg_spec *parse_spec(const char *json)
{
    json_object *o = json_tokener_parse(json);
    cr_assert_not_null(o, "bad test JSON: %s", json);
    struct np_posture_sg_spec *s = NULL;
    int rc = np_posture_sg_spec_parse(&s, o);
    json_object_put(o);
    cr_assert_eq(rc, 0, "parse failed: %s", np_error_message());
    return s;
}

static int resolve(void *ctx, const char *name, char **gid)
{
    (void)ctx;
    if (strcmp(name, "db") == 0) {
        *gid = strdup("sg-0db");
        return 0;
    }
    return np_error_set(NP_ENOTFOUND, "SecurityGroupPosture %s has no group yet", name);
}

/* Runs spec + observed rules/tags through desired/observed/diff/plan; returns plan text. */
static char *plan_for(const char *spec_json, const struct np_posture_raw_rule *raw, size_t n_raw,
                      const struct np_posture_tag *have, size_t n_have, size_t *count)
{
    struct np_posture_sg_spec *s = parse_spec(spec_json);
    struct np_posture_ruleset want = {0}, got = {0};
    cr_assert_eq(np_posture_desired(&want, s, resolve, NULL), 0, "%s", np_error_message());
    cr_assert_eq(np_posture_observed(&got, raw, n_raw), 0);
    struct np_posture_delta d = {0};
    cr_assert_eq(np_posture_diff(&d, &want, &got, s->tags, s->n_tags, have, n_have, s->ownership), 0);
    struct np_posture_plan p = {0};
    cr_assert_eq(np_posture_plan_build(&p, &d), 0);
    if (count)
        *count = np_posture_plan_count(&p);
    char **lines = NULL;
    np_posture_plan_text(&lines, NULL, &p);
    struct np_buf b = NP_BUF_INIT;
    for (size_t i = 0; lines[i]; i++)
        np_buf_appendf(&b, "%s\n", lines[i]);
    np_posture_lines_free(lines);
    np_posture_plan_clean_up(&p);
    np_posture_delta_clean_up(&d);
    np_posture_ruleset_clean_up(&want);
    np_posture_ruleset_clean_up(&got);
    np_posture_sg_spec_destroy(s);
    return np_buf_take(&b);
}

#define IN(proto, from, to, kind, peer, desc) {false, proto, true, from, to, kind, peer, desc}
#define IN_NOPORTS(proto, kind, peer) {false, proto, false, 0, 0, kind, peer, NULL}
#define EG_ALL {true, "-1", false, 0, 0, NP_POSTURE_PEER_CIDR4, "0.0.0.0/0", NULL}
#define C4 NP_POSTURE_PEER_CIDR4
#define C6 NP_POSTURE_PEER_CIDR6

struct plan_case {
    const char *name;
    const char *spec;
    struct np_posture_raw_rule raw[6];
    size_t n_raw;
    struct np_posture_tag have[4];
    size_t n_have;
    const char *want;
};

static const char *web =
    "{\"groupName\":\"web\",\"tags\":{\"team\":\"shop\"},\"ingress\":[{\"protocol\":\"tcp\","
    "\"fromPort\":443,\"toPort\":443,\"cidrs\":[\"10.1.2.3/8\"],\"description\":\"https\"}]}";

static const struct plan_case plan_cases[] = {
    {"converged: unmasked CIDR in spec, description equal",
     NULL, {IN("tcp", 443, 443, C4, "10.0.0.0/8", "https"), EG_ALL}, 2,
     {{"team", "shop"}, {"netposture.dev/owner", "ns/web"}}, 2, ""},
    {"server spellings: protocol 6, -1 with ports, ownership and aws tags",
     NULL, {IN("6", 443, 443, C4, "10.0.0.0/8", "https"), {true, "-1", true, 0, 65535, C4, "0.0.0.0/0", NULL}}, 2,
     {{"team", "shop"}, {"aws:cloudformation:stack-name", "x"}, {"netposture.dev/uid", "u"}}, 3, ""},
    {"extra rule revoked last, after authorize",
     NULL, {IN("tcp", 22, 22, C4, "0.0.0.0/0", NULL), EG_ALL}, 2, {{"team", "shop"}}, 1,
     "authorize ingress tcp 443 10.0.0.0/8\nrevoke ingress tcp 22 0.0.0.0/0\n"},
    {"description fixed in place, never revoked",
     NULL, {IN("tcp", 443, 443, C4, "10.0.0.0/8", "old"), EG_ALL}, 2, {{"team", "shop"}}, 1,
     "describe ingress tcp 443 10.0.0.0/8 \"https\"\n"},
    {"tags: missing, changed, extra",
     NULL, {IN("tcp", 443, 443, C4, "10.0.0.0/8", "https"), EG_ALL}, 2,
     {{"team", "other"}, {"owner", "alice"}}, 2,
     "tag set team=shop\ntag delete owner\n"},
    {"egress default missing is authorized",
     NULL, {IN("tcp", 443, 443, C4, "10.0.0.0/8", "https")}, 1, {{"team", "shop"}}, 1,
     "authorize egress all 0.0.0.0/0\n"},
};

Test(posture_plan, golden_plans)
{
    for (size_t i = 0; i < NP_ARRAY_LEN(plan_cases); i++) {
        const struct plan_case *c = &plan_cases[i];
        char *got = plan_for(c->spec ? c->spec : web, c->raw, c->n_raw, c->have, c->n_have, NULL);
        cr_expect_str_eq(got, c->want, "case \"%s\":\ngot:\n%swant:\n%s", c->name, got, c->want);
        free(got);
    }
}

Test(posture_plan, exclusive_vs_additive)
{
    struct np_posture_raw_rule raw[] = {IN("tcp", 8080, 8080, C4, "192.168.0.0/16", NULL), EG_ALL};
    struct np_posture_tag have[] = {{"team", "shop"}, {"foreign", "x"}};
    const char *additive =
        "{\"groupName\":\"web\",\"ownership\":\"Additive\",\"tags\":{\"team\":\"shop\"},"
        "\"ingress\":[{\"protocol\":\"tcp\",\"fromPort\":443,\"toPort\":443,\"cidrs\":[\"10.0.0.0/8\"]}]}";
    char *got = plan_for(additive, raw, 2, have, 2, NULL);
    cr_assert_str_eq(got, "authorize ingress tcp 443 10.0.0.0/8\n");
    free(got);
    got = plan_for(web, raw, 2, have, 2, NULL);
    cr_assert_str_eq(got, "authorize ingress tcp 443 10.0.0.0/8\ntag delete foreign\n"
                          "revoke ingress tcp 8080 192.168.0.0/16\n");
    free(got);
}

Test(posture_plan, egress_empty_means_none_and_grouping_does_not_matter)
{
    const char *spec =
        "{\"groupName\":\"g\",\"egress\":[],\"ingress\":[{\"protocol\":\"all\",\"cidrs\":"
        "[\"10.0.0.0/8\",\"172.16.0.0/12\"],\"ipv6Cidrs\":[\"2001:DB8:0:0::/32\"]},"
        "{\"protocol\":\"icmp\",\"fromPort\":8,\"toPort\":0,\"cidrs\":[\"10.0.0.0/8\"]},"
        "{\"protocol\":\"47\",\"cidrs\":[\"10.0.0.0/8\"]},"
        "{\"protocol\":\"tcp\",\"fromPort\":5432,\"toPort\":5432,\"securityGroups\":[{\"name\":\"db\"}]}]}";
    struct np_posture_raw_rule raw[] = {
        IN_NOPORTS("-1", C6, "2001:db8::/32"),
        IN("-1", 0, 0, C4, "172.16.0.0/12", NULL),
        IN_NOPORTS("-1", C4, "10.0.0.0/8"),
        IN("icmp", 8, 0, C4, "10.0.0.0/8", NULL),
        IN_NOPORTS("47", C4, "10.0.0.0/8"),
        EG_ALL,
    };
    size_t count = 0;
    char *got = plan_for(spec, raw, 6, NULL, 0, &count);
    cr_assert_str_eq(got, "authorize ingress tcp 5432 sg-0db\nrevoke egress all 0.0.0.0/0\n");
    cr_assert_eq(count, 2);
    free(got);
}

Test(posture_plan, guardrail_revokes_go_first)
{
    struct np_posture_sg_spec *s = parse_spec(web);
    struct np_posture_ruleset want = {0}, got = {0};
    struct np_posture_raw_rule raw[] = {IN("tcp", 22, 22, C4, "0.0.0.0/0", NULL), EG_ALL};
    np_posture_desired(&want, s, NULL, NULL);
    np_posture_observed(&got, raw, 2);
    struct np_posture_delta d = {0};
    np_posture_diff(&d, &want, &got, NULL, 0, NULL, 0, NP_POSTURE_EXCLUSIVE);
    for (size_t i = 0; i < d.n; i++)
        if (d.items[i].change == NP_POSTURE_EXTRA)
            d.items[i].guardrail = true;
    struct np_posture_plan p = {0};
    np_posture_plan_build(&p, &d);
    char **lines = NULL;
    size_t n = 0;
    np_posture_plan_text(&lines, &n, &p);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(lines[0], "revoke ingress tcp 22 0.0.0.0/0");
    cr_assert_str_eq(lines[1], "authorize ingress tcp 443 10.0.0.0/8");
    np_posture_lines_free(lines);
    np_posture_plan_clean_up(&p);
    np_posture_delta_clean_up(&d);
    np_posture_ruleset_clean_up(&want);
    np_posture_ruleset_clean_up(&got);
    np_posture_sg_spec_destroy(s);
}

Test(posture_spec, defaults)
{
    struct np_posture_sg_spec *s = parse_spec("{\"groupName\":\"g\"}");
    cr_assert_null(s->account_ref);
    cr_assert_str_eq(s->description, "Managed by netposture");
    cr_assert(s->egress_omitted);
    cr_assert_eq(s->ownership, NP_POSTURE_EXCLUSIVE);
    cr_assert_eq(s->management.policy, NP_POSTURE_MANAGEMENT_CREATE);
    cr_assert_eq(s->management.deletion_policy, NP_POSTURE_DELETION_UNSET);
    cr_assert_eq(s->remediation.mode, NP_POSTURE_MODE_ENFORCE);
    cr_assert_eq(s->remediation.max_changes, 20);
    np_posture_sg_spec_destroy(s);
}

Test(posture_spec, validation_messages_name_the_field)
{
    struct {
        const char *spec;
        const char *message;
    } cases[] = {
        {"{}", "spec.groupName: required"},
        {"{\"groupName\":\"g\",\"ingress\":[{\"protocol\":\"tcp\",\"fromPort\":1,\"toPort\":2,"
         "\"cidrs\":[\"10.0.0.0/33\"]}]}",
         "spec.ingress[0].cidrs[0]: \"10.0.0.0/33\" is not a valid IPv4 CIDR"},
        {"{\"groupName\":\"g\",\"ingress\":[{\"protocol\":\"tcp\",\"fromPort\":80,\"toPort\":22,"
         "\"cidrs\":[\"10.0.0.0/8\"]}]}",
         "spec.ingress[0].cidrs[0]: fromPort 80 > toPort 22"},
        {"{\"groupName\":\"g\",\"egress\":[{\"protocol\":\"tcp\",\"fromPort\":1,\"toPort\":2,"
         "\"cidrs\":[\"2001:db8::/32\"]}]}",
         "spec.egress[0].cidrs[0]: \"2001:db8::/32\" is IPv6; put it in ipv6Cidrs"},
        {"{\"groupName\":\"g\",\"ingress\":[{\"protocol\":\"udp\",\"cidrs\":[\"10.0.0.0/8\"]}]}",
         "spec.ingress[0].cidrs[0]: udp rules need fromPort and toPort"},
        {"{\"groupName\":\"g\",\"ingress\":[{\"protocol\":\"tcp\",\"fromPort\":1,\"toPort\":2}]}",
         "spec.ingress[0]: needs at least one peer"},
        {"{\"groupName\":\"g\",\"ingress\":[{\"protocol\":\"gre\",\"cidrs\":[\"10.0.0.0/8\"]}]}",
         "spec.ingress[0].cidrs[0].protocol: protocol \"gre\""},
        {"{\"groupName\":\"g\",\"management\":{\"policy\":\"Adopt\"}}",
         "spec.management.groupId: required when policy is Adopt"},
        {"{\"groupName\":\"g\",\"tags\":{\"netposture.dev/owner\":\"x\"}}",
         "spec.tags.netposture.dev/owner: keys under netposture.dev/ and aws: are reserved"},
        {"{\"groupName\":\"g\",\"remediation\":{\"gracePeriod\":\"5x\"}}",
         "spec.remediation.gracePeriod: bad duration"},
    };
    for (size_t i = 0; i < NP_ARRAY_LEN(cases); i++) {
        json_object *o = json_tokener_parse(cases[i].spec);
        struct np_posture_sg_spec *s = NULL;
        int rc = np_posture_sg_spec_parse(&s, o);
        json_object_put(o);
        cr_expect_eq(rc, NP_EINVAL, "case %zu accepted: %s", i, cases[i].spec);
        cr_expect(strstr(np_error_message(), cases[i].message) != NULL,
                  "case %zu: message \"%s\" lacks \"%s\"", i, np_error_message(), cases[i].message);
        np_posture_sg_spec_destroy(s);
    }
}

Test(posture_canonical, protocols_and_cidrs)
{
    char p[8];
    const char *pairs[][2] = {{"TCP", "tcp"}, {"6", "tcp"}, {"17", "udp"}, {"1", "icmp"},
                              {"58", "icmpv6"}, {"all", "-1"}, {"-1", "-1"}, {"47", "47"}};
    for (size_t i = 0; i < NP_ARRAY_LEN(pairs); i++) {
        cr_assert_eq(np_posture_protocol_canonical(pairs[i][0], p), 0);
        cr_assert_str_eq(p, pairs[i][1]);
    }
    cr_assert_eq(np_posture_protocol_canonical("256", p), NP_EINVAL);
    char *c = NULL;
    cr_assert_eq(np_posture_cidr_canonical(&c, "100.68.0.18/18", false), 0);
    cr_assert_str_eq(c, "100.68.0.0/18");
    free(c);
    cr_assert_eq(np_posture_cidr_canonical(&c, "2001:DB8:0:0:1::/32", true), 0);
    cr_assert_str_eq(c, "2001:db8::/32");
    free(c);
    cr_assert_eq(np_posture_cidr_canonical(&c, "10.0.0.0/8", true), NP_EINVAL);
    cr_assert_eq(np_posture_cidr_canonical(&c, "10.0.0/8", false), NP_EINVAL);
}

Test(posture_text, rule_texts)
{
    struct {
        struct np_posture_rule r;
        const char *text;
    } cases[] = {
        {{NP_POSTURE_INGRESS, "tcp", 443, 443, C4, "10.0.0.0/8", NULL}, "tcp 443 10.0.0.0/8"},
        {{NP_POSTURE_INGRESS, "udp", 1000, 2000, NP_POSTURE_PEER_GROUP, "sg-0def", NULL},
         "udp 1000-2000 sg-0def"},
        {{NP_POSTURE_EGRESS, "-1", -1, -1, C4, "0.0.0.0/0", NULL}, "all 0.0.0.0/0"},
        {{NP_POSTURE_INGRESS, "icmp", 8, 0, C4, "10.0.0.0/8", NULL}, "icmp type 8 code 0 10.0.0.0/8"},
        {{NP_POSTURE_INGRESS, "icmpv6", -1, -1, C6, "::/0", NULL}, "icmpv6 ::/0"},
        {{NP_POSTURE_INGRESS, "47", -1, -1, C4, "10.0.0.0/8", NULL}, "47 10.0.0.0/8"},
    };
    for (size_t i = 0; i < NP_ARRAY_LEN(cases); i++) {
        char *t = np_posture_rule_text(&cases[i].r);
        cr_expect_str_eq(t, cases[i].text);
        free(t);
    }
}

Test(posture_decide, modes_and_blast_radius)
{
    cr_assert_eq(np_posture_decide(NP_POSTURE_MODE_ENFORCE, 3, 20), NP_POSTURE_DECIDE_APPLY);
    cr_assert_eq(np_posture_decide(NP_POSTURE_MODE_ENFORCE, 21, 20), NP_POSTURE_DECIDE_HOLD);
    cr_assert_eq(np_posture_decide(NP_POSTURE_MODE_DETECT, 1, 20), NP_POSTURE_DECIDE_REPORT);
    cr_assert_eq(np_posture_decide(NP_POSTURE_MODE_PROPOSE, 1, 20), NP_POSTURE_DECIDE_HOLD);
}

Test(posture_desired, unresolved_name_is_an_error)
{
    struct np_posture_sg_spec *s = parse_spec(
        "{\"groupName\":\"g\",\"ingress\":[{\"protocol\":\"tcp\",\"fromPort\":1,\"toPort\":1,"
        "\"securityGroups\":[{\"name\":\"cache\"}]}]}");
    struct np_posture_ruleset rs = {0};
    cr_assert_eq(np_posture_desired(&rs, s, resolve, NULL), NP_ENOTFOUND);
    cr_assert(strstr(np_error_message(), "cache") != NULL);
    cr_assert_eq(rs.n, 0);
    np_posture_sg_spec_destroy(s);
}
