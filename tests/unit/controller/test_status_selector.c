/*
 * Unit tests for the controller's status helpers (conditions keep lastTransitionTime while
 * their status holds; exact merge patches; change detection) and label selectors.
 */
#include "controller/private/controller_private.h"

#include <criterion/criterion.h>
#include <stdlib.h>

static json_object *parse(const char *s)
{
    json_object *o = json_tokener_parse(s);
    cr_assert_not_null(o, "bad test JSON: %s", s);
    return o;
}

Test(controller_status, conditions_keep_transition_time_while_status_holds)
{
    json_object *old =
        parse("{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\","
              "\"reason\":\"Converged\",\"lastTransitionTime\":\"2026-01-01T00:00:00Z\"},"
              "{\"type\":\"Drifted\",\"status\":\"False\",\"reason\":\"NoDrift\","
              "\"lastTransitionTime\":\"2026-01-01T00:00:00Z\"}]}");
    struct np_controller_condition conds[] = {
        {"Ready", "True", "Converged", "group in sync"},
        {"Drifted", "True", "DriftDetected", "1 item"},
    };
    int64_t now = 1796083200000LL; /* 2026-12-01T00:00:00Z */
    json_object *arr = np_controller_status_conditions(old, conds, 2, 7, now);
    json_object *ready = json_object_array_get_idx(arr, 0);
    json_object *drifted = json_object_array_get_idx(arr, 1);
    cr_assert_str_eq(np_json_path_str(ready, "lastTransitionTime", NP_JSON_END),
                     "2026-01-01T00:00:00Z");
    cr_assert_str_eq(np_json_path_str(drifted, "lastTransitionTime", NP_JSON_END),
                     "2026-12-01T00:00:00Z");
    cr_assert_eq(np_json_path_int(ready, -1, "observedGeneration", NP_JSON_END), 7);
    cr_assert_str_eq(np_json_path_str(ready, "message", NP_JSON_END), "group in sync");
    json_object_put(arr);
    json_object_put(old);
}

Test(controller_status, equality_ignores_one_key)
{
    json_object *a = parse("{\"groupId\":\"sg-1\",\"lastSyncTime\":\"a\",\"drift\":{\"count\":0}}");
    json_object *b = parse("{\"groupId\":\"sg-1\",\"lastSyncTime\":\"b\",\"drift\":{\"count\":0}}");
    json_object *c = parse("{\"groupId\":\"sg-2\",\"lastSyncTime\":\"a\",\"drift\":{\"count\":0}}");
    cr_assert(np_controller_status_equal(a, b, "lastSyncTime"));
    cr_assert_not(np_controller_status_equal(a, b, NULL));
    cr_assert_not(np_controller_status_equal(a, c, "lastSyncTime"));
    cr_assert(np_controller_status_equal(NULL, NULL, NULL));
    cr_assert_not(np_controller_status_equal(a, NULL, NULL));
    json_object_put(a);
    json_object_put(b);
    json_object_put(c);
}

Test(controller_status, merge_patch_nulls_members_that_went_away)
{
    json_object *old = parse("{\"groupId\":\"sg-1\",\"plan\":{\"id\":\"x\"}}");
    json_object *cur = parse("{\"groupId\":\"sg-1\",\"drift\":{\"count\":0}}");
    char *patch = np_controller_status_merge_patch(old, cur);
    json_object *p = parse(patch);
    json_object *plan = NULL;
    cr_assert(json_object_object_get_ex(np_json_path(p, "status", NP_JSON_END), "plan", &plan));
    cr_assert_null(plan);
    cr_assert_str_eq(np_json_path_str(p, "status", "groupId", NP_JSON_END), "sg-1");
    cr_assert_eq(np_json_path_int(p, -1, "status", "drift", "count", NP_JSON_END), 0);
    json_object_put(p);
    free(patch);
    json_object_put(old);
    json_object_put(cur);
}

Test(controller_status, merge_patch_nulls_nested_members_that_went_away)
{
    json_object *old = parse("{\"plan\":{\"id\":\"x\",\"reason\":\"stale\"}}");
    json_object *cur = parse("{\"plan\":{\"id\":\"x\"}}");
    char *patch = np_controller_status_merge_patch(old, cur);
    json_object *p = parse(patch);
    json_object *reason = NULL;
    cr_assert(json_object_object_get_ex(np_json_path(p, "status", "plan", NP_JSON_END), "reason",
                                        &reason));
    cr_assert_null(reason);
    cr_assert_str_eq(np_json_path_str(p, "status", "plan", "id", NP_JSON_END), "x");
    json_object_put(p);
    free(patch);
    json_object_put(old);
    json_object_put(cur);
}

Test(controller_selector, match_labels_and_expressions)
{
    json_object *labels = parse("{\"team\":\"payments\",\"env\":\"prod\"}");
    struct {
        const char *selector;
        bool want;
    } cases[] = {
        {"{}", true},
        {"{\"matchLabels\":{\"team\":\"payments\"}}", true},
        {"{\"matchLabels\":{\"team\":\"shop\"}}", false},
        {"{\"matchExpressions\":[{\"key\":\"env\",\"operator\":\"In\",\"values\":[\"prod\","
         "\"stage\"]}]}",
         true},
        {"{\"matchExpressions\":[{\"key\":\"env\",\"operator\":\"NotIn\",\"values\":[\"prod\"]}]}",
         false},
        {"{\"matchExpressions\":[{\"key\":\"tier\",\"operator\":\"DoesNotExist\"}]}", true},
        {"{\"matchExpressions\":[{\"key\":\"tier\",\"operator\":\"Exists\"}]}", false},
        {"{\"matchLabels\":{\"team\":\"payments\"},\"matchExpressions\":[{\"key\":\"env\","
         "\"operator\":\"Exists\"}]}",
         true},
    };
    for (size_t i = 0; i < NP_ARRAY_LEN(cases); i++) {
        json_object *sel = parse(cases[i].selector);
        bool m = !cases[i].want;
        cr_assert_eq(np_controller_selector_matches(sel, labels, &m), 0, "case %zu", i);
        cr_assert_eq(m, cases[i].want, "case %zu: %s", i, cases[i].selector);
        json_object_put(sel);
    }
    bool m = false;
    cr_assert_eq(np_controller_selector_matches(NULL, labels, &m), 0);
    cr_assert(m, "an omitted selector allows everything");
    json_object *bad = parse("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Near\"}]}");
    cr_assert_eq(np_controller_selector_matches(bad, labels, &m), NP_EINVAL);
    json_object_put(bad);
    json_object_put(labels);
}
