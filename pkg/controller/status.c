/*
 * Status helpers: metav1.Condition lists that keep lastTransitionTime while a condition's
 * status holds, comparison of old and new status so unchanged status is never written, and
 * the merge patch that replaces a status exactly (nulls for members that went away).
 */
#include "controller/private/controller_private.h"

#include <stdlib.h>
#include <string.h>

static json_object *find_condition(json_object *old_status, const char *type)
{
    json_object *conds = np_json_path(old_status, "conditions", NP_JSON_END);
    if (!conds || !json_object_is_type(conds, json_type_array))
        return NULL;
    size_t n = json_object_array_length(conds);
    for (size_t i = 0; i < n; i++) {
        json_object *c = json_object_array_get_idx(conds, i);
        if (np_str_eq(np_json_path_str(c, "type", NP_JSON_END), type))
            return c;
    }
    return NULL;
}

char *np_controller_status_bounded(const char *s, size_t max)
{
    static const char marker[] = NP_CONTROLLER_STATUS_TRUNCATED;
    if (!s)
        return NULL;
    size_t len = strlen(s);
    if (len <= max || max < sizeof(marker))
        return np_strdup(s);
    size_t cut = max - (sizeof(marker) - 1);
    while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
        cut--; /* never split a UTF-8 sequence */
    char *out = np_xcalloc(cut + sizeof(marker), 1);
    memcpy(out, s, cut);
    memcpy(out + cut, marker, sizeof(marker));
    return out;
}

json_object *np_controller_status_conditions(json_object *old_status,
                                             const struct np_controller_condition *conds, size_t n,
                                             int64_t generation, int64_t now_ms)
{
    json_object *arr = json_object_new_array();
    char now[40];
    np_time_format_rfc3339(now, sizeof(now), now_ms);
    for (size_t i = 0; i < n; i++) {
        const struct np_controller_condition *c = &conds[i];
        json_object *o = json_object_new_object();
        json_object *old = find_condition(old_status, c->type);
        const char *old_status_s = np_json_path_str(old, "status", NP_JSON_END);
        const char *old_ltt = np_json_path_str(old, "lastTransitionTime", NP_JSON_END);
        json_object_object_add(o, "type", json_object_new_string(c->type));
        json_object_object_add(o, "status", json_object_new_string(c->status));
        json_object_object_add(o, "reason", json_object_new_string(c->reason));
        char *msg = np_controller_status_bounded(c->message ? c->message : "",
                                                 NP_CONTROLLER_STATUS_MESSAGE_MAX);
        json_object_object_add(o, "message", json_object_new_string(msg));
        free(msg);
        json_object_object_add(
            o, "lastTransitionTime",
            json_object_new_string(old_ltt && np_str_eq(old_status_s, c->status) ? old_ltt : now));
        json_object_object_add(o, "observedGeneration", json_object_new_int64(generation));
        json_object_array_add(arr, o);
    }
    return arr;
}

bool np_controller_status_equal(json_object *a, json_object *b, const char *ignored_key)
{
    if (!a || !b)
        return a == b;
    json_object *ca = NULL, *cb = NULL;
    json_object_deep_copy(a, &ca, NULL);
    json_object_deep_copy(b, &cb, NULL);
    if (ignored_key) {
        json_object_object_del(ca, ignored_key);
        json_object_object_del(cb, ignored_key);
    }
    bool eq = json_object_equal(ca, cb) != 0;
    json_object_put(ca);
    json_object_put(cb);
    return eq;
}

/* Adds null for every member of old that patch (a copy of the new object) lacks, at every
 * depth where both sides are objects: a merge patch otherwise keeps what went away. */
static void null_missing(json_object *old, json_object *patch)
{
    if (!old || !json_object_is_type(old, json_type_object) || !patch ||
        !json_object_is_type(patch, json_type_object))
        return;
    json_object_object_foreach(old, key, val)
    {
        json_object *now = NULL;
        if (!json_object_object_get_ex(patch, key, &now))
            json_object_object_add(patch, key, NULL);
        else
            null_missing(val, now);
    }
}

char *np_controller_status_merge_patch(json_object *old_status, json_object *new_status)
{
    json_object *st = NULL;
    json_object_deep_copy(new_status, &st, NULL);
    null_missing(old_status, st);
    json_object *patch = json_object_new_object();
    json_object_object_add(patch, "status", st);
    char *text = np_strdup(json_object_to_json_string_ext(patch, JSON_C_TO_STRING_PLAIN));
    json_object_put(patch);
    return text;
}
