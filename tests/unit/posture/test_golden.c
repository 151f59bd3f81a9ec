/*
 * Golden-file scenarios: tests/fixtures/posture/plans/<case>/ holds a SecurityGroupPosture
 * (posture.json), the group as DescribeSecurityGroups reports it (observed.json, grouped
 * permissions as AWS returns them), and the expected drift.txt and plan.txt.
 * NP_UPDATE_GOLDEN=1 rewrites the expected files from the current output (review the diff).
 */
#include "posture_test.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TestSuite(posture_golden, .fini = t_leak_check);

#define FIXTURES "tests/fixtures/posture/plans/"

static const char *const cases[] = {
    "converged-spellings", "console-drift",          "additive-shared-group",
    "egress-locked-down",  "fresh-group-everything", "peer-groups",
};

/* The observed group, flattened the way the controller maps its AWS type. */
struct observed {
    struct np_posture_raw_rule *raw;
    size_t n_raw;
    struct np_posture_tag *tags;
    size_t n_tags;
};

static const char *str(json_object *o, const char *k)
{
    json_object *v = NULL;
    return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : NULL;
}

static json_object *arr(json_object *o, const char *k)
{
    json_object *v = NULL;
    return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_array) ? v
                                                                                          : NULL;
}

static void add_raw(struct observed *ob, bool egress, json_object *perm,
                    enum np_posture_peer_kind kind, const char *peer, const char *desc)
{
    json_object *from = NULL, *to = NULL;
    bool has_from = json_object_object_get_ex(perm, "fromPort", &from);
    bool has_to = json_object_object_get_ex(perm, "toPort", &to);
    ob->raw = np_xrealloc(ob->raw, (ob->n_raw + 1) * sizeof(*ob->raw));
    ob->raw[ob->n_raw++] = (struct np_posture_raw_rule){
        egress,
        str(perm, "ipProtocol"),
        has_from && has_to,
        has_from ? json_object_get_int(from) : 0,
        has_to ? json_object_get_int(to) : 0,
        kind,
        peer,
        desc,
    };
}

/* Expands each IpPermission into one raw rule per peer (strings borrowed from js). */
static void flatten(struct observed *ob, json_object *js, const char *field, bool egress)
{
    static const struct {
        const char *list;
        const char *key;
        enum np_posture_peer_kind kind;
    } peers[] = {
        {"ipRanges", "cidrIp", NP_POSTURE_PEER_CIDR4},
        {"ipv6Ranges", "cidrIpv6", NP_POSTURE_PEER_CIDR6},
        {"prefixListIds", "prefixListId", NP_POSTURE_PEER_PREFIX_LIST},
        {"groups", "groupId", NP_POSTURE_PEER_GROUP},
    };
    json_object *perms = arr(js, field);
    for (size_t i = 0; perms && i < json_object_array_length(perms); i++) {
        json_object *perm = json_object_array_get_idx(perms, i);
        for (size_t p = 0; p < NP_ARRAY_LEN(peers); p++) {
            json_object *items = arr(perm, peers[p].list);
            for (size_t j = 0; items && j < json_object_array_length(items); j++) {
                json_object *item = json_object_array_get_idx(items, j);
                add_raw(ob, egress, perm, peers[p].kind, str(item, peers[p].key),
                        str(item, "description"));
            }
        }
    }
}

static void observed_load(struct observed *ob, json_object *js)
{
    memset(ob, 0, sizeof(*ob));
    flatten(ob, js, "ipPermissions", false);
    flatten(ob, js, "ipPermissionsEgress", true);
    json_object *tags = arr(js, "tagSet");
    size_t n = tags ? json_object_array_length(tags) : 0;
    ob->tags = np_xcalloc(n ? n : 1, sizeof(*ob->tags));
    for (size_t i = 0; i < n; i++) {
        json_object *t = json_object_array_get_idx(tags, i);
        ob->tags[ob->n_tags++] =
            (struct np_posture_tag){(char *)str(t, "key"), (char *)str(t, "value")};
    }
}

Test(posture_golden, scenarios)
{
    for (size_t c = 0; c < NP_ARRAY_LEN(cases); c++) {
        json_object *cr = t_fixture_json(FIXTURES, cases[c], "posture.json", false);
        json_object *group = t_fixture_json(FIXTURES, cases[c], "observed.json", false);
        json_object *spec_js = NULL;
        cr_assert(json_object_object_get_ex(cr, "spec", &spec_js), "%s: no spec", cases[c]);
        struct np_posture_sg_spec *spec = NULL;
        cr_assert_eq(np_posture_sg_spec_parse(&spec, spec_js), 0, "%s: %s", cases[c],
                     np_error_message());
        struct observed ob;
        observed_load(&ob, group);
        struct np_posture_ruleset want = {0}, got = {0};
        struct np_posture_delta delta = {0};
        struct np_posture_plan plan = {0};
        char **lines = NULL;
        cr_assert_eq(t_desired(&want, spec), 0, "%s: %s", cases[c], np_error_message());
        cr_assert_eq(np_posture_observed(&got, ob.raw, ob.n_raw), 0);
        cr_assert_eq(np_posture_diff(&delta, &want, &got, spec->tags, spec->n_tags, ob.tags,
                                     ob.n_tags, spec->ownership),
                     0);
        cr_assert_eq(np_posture_plan_build(&plan, &delta), 0);
        cr_assert_eq(np_posture_plan_text(&lines, NULL, &plan), 0);

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
        np_posture_plan_clean_up(&plan);
        np_posture_delta_clean_up(&delta);
        np_posture_ruleset_clean_up(&want);
        np_posture_ruleset_clean_up(&got);
        free(ob.raw);
        free(ob.tags);
        np_posture_sg_spec_destroy(spec);
        json_object_put(cr);
        json_object_put(group);
    }
}
