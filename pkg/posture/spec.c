/*
 * Parsing and validating a SecurityGroupPosture spec into atomic canonical rules, with
 * errors that name the field path. The CRD schema rejects most bad input at admission;
 * this catches what it cannot (and specs written before a schema change).
 */
#include "posture/private/posture_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *get_str(json_object *o, const char *k)
{
    json_object *v = NULL;
    if (!o || !json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static json_object *get(json_object *o, const char *k)
{
    json_object *v = NULL;
    if (!o || !json_object_object_get_ex(o, k, &v))
        return NULL;
    return v;
}

static int get_port(json_object *o, const char *k, bool *has, int *out, const char *path)
{
    json_object *v = get(o, k);
    *has = false;
    if (!v)
        return 0;
    if (!json_object_is_type(v, json_type_int))
        return np_error_set(NP_EINVAL, "%s.%s: must be an integer", path, k);
    int64_t n = json_object_get_int64(v);
    if (n < -1 || n > 65535)
        return np_error_set(NP_EINVAL, "%s.%s: %lld is out of range -1..65535", path, k,
                            (long long)n);
    *has = true;
    *out = (int)n;
    return 0;
}

static int enum_value(const char *v, const char *const *names, size_t n, int def, int *out,
                      const char *path)
{
    if (!v) {
        *out = def;
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(v, names[i]) == 0) {
            *out = (int)i;
            return 0;
        }
    }
    return np_error_set(NP_EINVAL, "%s: unknown value \"%.32s\"", path, v);
}

static void add_rule(struct np_posture_rule **rules, size_t *n, const struct np_posture_rule *r)
{
    *rules = np_xrealloc(*rules, (*n + 1) * sizeof(**rules));
    (*rules)[(*n)++] = *r;
}

/* Expands one declared rule (one per peer) into atomic canonical rules. */
static int parse_rule(json_object *jr, enum np_posture_direction dir, const char *path,
                      struct np_posture_rule **rules, size_t *n)
{
    if (!json_object_is_type(jr, json_type_object))
        return np_error_set(NP_EINVAL, "%s: must be an object", path);
    const char *proto = get_str(jr, "protocol");
    if (!proto)
        return np_error_set(NP_EINVAL, "%s.protocol: required", path);
    bool has_from, has_to;
    int from = -1, to = -1;
    int rc = get_port(jr, "fromPort", &has_from, &from, path);
    if (rc == 0)
        rc = get_port(jr, "toPort", &has_to, &to, path);
    if (rc)
        return rc;
    const char *desc = get_str(jr, "description");
    static const struct {
        const char *field;
        enum np_posture_peer_kind kind;
    } lists[] = {{"cidrs", NP_POSTURE_PEER_CIDR4},
                 {"ipv6Cidrs", NP_POSTURE_PEER_CIDR6},
                 {"prefixListIds", NP_POSTURE_PEER_PREFIX_LIST},
                 {"securityGroups", NP_POSTURE_PEER_GROUP}};
    size_t peers = 0;
    for (size_t l = 0; l < NP_ARRAY_LEN(lists); l++) {
        json_object *arr = get(jr, lists[l].field);
        if (!arr)
            continue;
        if (!json_object_is_type(arr, json_type_array))
            return np_error_set(NP_EINVAL, "%s.%s: must be a list", path, lists[l].field);
        size_t m = json_object_array_length(arr);
        for (size_t i = 0; i < m; i++) {
            json_object *item = json_object_array_get_idx(arr, i);
            char ipath[256];
            snprintf(ipath, sizeof(ipath), "%s.%s[%zu]", path, lists[l].field, i);
            struct np_posture_rule r = {dir, np_strdup(proto), from, to, lists[l].kind, NULL,
                                        np_str_is_empty(desc) ? NULL : np_strdup(desc)};
            if (lists[l].kind == NP_POSTURE_PEER_GROUP) {
                const char *gid = get_str(item, "groupId");
                const char *name = get_str(item, "name");
                if ((gid == NULL) == (name == NULL)) {
                    np_posture_rule_clean_up(&r);
                    return np_error_set(NP_EINVAL, "%s: set exactly one of groupId and name",
                                        ipath);
                }
                r.peer = np_strdup(gid ? gid : name);
                if (!gid)
                    r.peer_kind = NP_POSTURE_PEER_GROUP_NAME;
                else
                    np_posture_lower(r.peer);
            } else {
                if (!json_object_is_type(item, json_type_string)) {
                    np_posture_rule_clean_up(&r);
                    return np_error_set(NP_EINVAL, "%s: must be a string", ipath);
                }
                r.peer = np_strdup(json_object_get_string(item));
                if (lists[l].kind == NP_POSTURE_PEER_PREFIX_LIST)
                    np_posture_lower(r.peer);
            }
            if (lists[l].kind == NP_POSTURE_PEER_CIDR4 && strchr(r.peer, ':')) {
                np_error_set(NP_EINVAL, "%s: \"%s\" is IPv6; put it in ipv6Cidrs", ipath, r.peer);
                np_posture_rule_clean_up(&r);
                return NP_EINVAL;
            }
            if (lists[l].kind == NP_POSTURE_PEER_CIDR6 && !strchr(r.peer, ':')) {
                np_error_set(NP_EINVAL, "%s: \"%s\" is IPv4; put it in cidrs", ipath, r.peer);
                np_posture_rule_clean_up(&r);
                return NP_EINVAL;
            }
            rc = np_posture_rule_canonicalize(&r, has_from, has_to, ipath);
            if (rc) {
                np_posture_rule_clean_up(&r);
                return rc;
            }
            add_rule(rules, n, &r);
            peers++;
        }
    }
    if (peers == 0)
        return np_error_set(NP_EINVAL,
                            "%s: needs at least one peer in cidrs, ipv6Cidrs, prefixListIds or "
                            "securityGroups",
                            path);
    return 0;
}

static int parse_rules(json_object *arr, enum np_posture_direction dir, const char *field,
                       struct np_posture_rule **rules, size_t *n)
{
    if (!arr)
        return 0;
    if (!json_object_is_type(arr, json_type_array))
        return np_error_set(NP_EINVAL, "spec.%s: must be a list", field);
    size_t m = json_object_array_length(arr);
    for (size_t i = 0; i < m; i++) {
        char path[64];
        snprintf(path, sizeof(path), "spec.%s[%zu]", field, i);
        int rc = parse_rule(json_object_array_get_idx(arr, i), dir, path, rules, n);
        if (rc)
            return rc;
    }
    return 0;
}

static int parse_exceptions(json_object *arr, struct np_posture_sg_spec *s)
{
    if (!arr || !json_object_is_type(arr, json_type_array))
        return 0;
    size_t m = json_object_array_length(arr);
    s->remediation.exceptions = np_xcalloc(m ? m : 1, sizeof(struct np_posture_exception));
    for (size_t i = 0; i < m; i++) {
        json_object *e = json_object_array_get_idx(arr, i);
        json_object *rule = get(e, "rule");
        struct np_posture_exception *x = &s->remediation.exceptions[s->remediation.n_exceptions++];
        x->from_port = x->to_port = -2;
        char path[96];
        snprintf(path, sizeof(path), "spec.remediation.exceptions[%zu]", i);
        const char *dir = get_str(rule, "direction");
        x->direction = np_str_eq(dir, "egress") ? NP_POSTURE_EGRESS : NP_POSTURE_INGRESS;
        const char *proto = get_str(rule, "protocol");
        if (proto) {
            char canon[8];
            if (np_posture_protocol_canonical(proto, canon) != 0)
                return np_error_set(NP_EINVAL, "%s.rule.protocol: %s", path, np_error_message());
            x->protocol = np_strdup(canon);
        }
        bool has;
        int rc = get_port(rule, "fromPort", &has, &x->from_port, path);
        if (rc == 0)
            rc = get_port(rule, "toPort", &has, &x->to_port, path);
        if (rc)
            return rc;
        const char *fams[] = {"cidrs", "ipv6Cidrs"};
        for (size_t f = 0; f < 2; f++) {
            json_object *c = get(rule, fams[f]);
            size_t nc = c && json_object_is_type(c, json_type_array) ? json_object_array_length(c) : 0;
            for (size_t j = 0; j < nc; j++) {
                char *canon = NULL;
                if (np_posture_cidr_canonical(&canon, json_object_get_string(json_object_array_get_idx(c, j)),
                                              f == 1) != 0)
                    return np_error_set(NP_EINVAL, "%s.rule.%s[%zu]: %s", path, fams[f], j,
                                        np_error_message());
                x->cidrs = np_xrealloc(x->cidrs, (x->n_cidrs + 1) * sizeof(char *));
                x->cidrs[x->n_cidrs++] = canon;
            }
        }
        json_object *actors = get(e, "actors");
        size_t na = actors && json_object_is_type(actors, json_type_array)
                        ? json_object_array_length(actors)
                        : 0;
        for (size_t j = 0; j < na; j++) {
            x->actors = np_xrealloc(x->actors, (x->n_actors + 1) * sizeof(char *));
            x->actors[x->n_actors++] =
                np_strdup(json_object_get_string(json_object_array_get_idx(actors, j)));
        }
        const char *expires = get_str(e, "expires");
        if (expires && np_time_parse_rfc3339(expires, &x->expires_ms) != 0)
            return np_error_set(NP_EINVAL, "%s.expires: %s", path, np_error_message());
    }
    return 0;
}

int np_posture_sg_spec_parse(struct np_posture_sg_spec **out, json_object *js)
{
    int rc = 0;
    struct np_posture_sg_spec *s = np_xcalloc(1, sizeof(*s));
    *out = NULL;
    if (!js || !json_object_is_type(js, json_type_object)) {
        rc = np_error_set(NP_EINVAL, "spec: missing or not an object");
        goto out;
    }
    s->account_ref = np_strdup(np_json_path_str(js, "accountRef", "name", NP_JSON_END));
    s->region = np_strdup(get_str(js, "region"));
    s->vpc_id = np_strdup(get_str(js, "vpcId"));
    s->vpc_ref = np_strdup(np_json_path_str(js, "vpcRef", "name", NP_JSON_END));
    if (s->vpc_id && s->vpc_ref) {
        rc = np_error_set(NP_EINVAL, "spec: set at most one of vpcId and vpcRef");
        goto out;
    }
    s->group_name = np_strdup(get_str(js, "groupName"));
    if (np_str_is_empty(s->group_name)) {
        rc = np_error_set(NP_EINVAL, "spec.groupName: required");
        goto out;
    }
    const char *desc = get_str(js, "description");
    s->description = np_strdup(np_str_is_empty(desc) ? "Managed by netposture" : desc);
    json_object *tags = get(js, "tags");
    if (tags) {
        if (!json_object_is_type(tags, json_type_object)) {
            rc = np_error_set(NP_EINVAL, "spec.tags: must be a map of strings");
            goto out;
        }
        json_object_object_foreach(tags, k, v)
        {
            if (np_posture_tag_is_reserved(k)) {
                rc = np_error_set(NP_EINVAL, "spec.tags.%s: keys under %s and aws: are reserved",
                                  k, NP_POSTURE_TAG_PREFIX);
                goto out;
            }
            if (!json_object_is_type(v, json_type_string)) {
                rc = np_error_set(NP_EINVAL, "spec.tags.%s: must be a string", k);
                goto out;
            }
            s->tags = np_xrealloc(s->tags, (s->n_tags + 1) * sizeof(*s->tags));
            s->tags[s->n_tags].key = np_strdup(k);
            s->tags[s->n_tags].value = np_strdup(json_object_get_string(v));
            s->n_tags++;
        }
    }
    rc = parse_rules(get(js, "ingress"), NP_POSTURE_INGRESS, "ingress", &s->ingress, &s->n_ingress);
    if (rc)
        goto out;
    json_object *egress = get(js, "egress");
    s->egress_omitted = egress == NULL;
    rc = parse_rules(egress, NP_POSTURE_EGRESS, "egress", &s->egress, &s->n_egress);
    if (rc)
        goto out;
    static const char *const ownership[] = {"Exclusive", "Additive"};
    int v;
    rc = enum_value(get_str(js, "ownership"), ownership, 2, 0, &v, "spec.ownership");
    if (rc)
        goto out;
    s->ownership = (enum np_posture_ownership)v;
    json_object *mgmt = get(js, "management");
    static const char *const policies[] = {"Create", "Adopt"};
    rc = enum_value(get_str(mgmt, "policy"), policies, 2, 0, &v, "spec.management.policy");
    if (rc)
        goto out;
    s->management.policy = (enum np_posture_management_policy)v;
    s->management.group_id = np_strdup(get_str(mgmt, "groupId"));
    if (s->management.policy == NP_POSTURE_MANAGEMENT_ADOPT &&
        np_str_is_empty(s->management.group_id)) {
        rc = np_error_set(NP_EINVAL, "spec.management.groupId: required when policy is Adopt");
        goto out;
    }
    static const char *const deletion[] = {"", "Delete", "Retain"};
    rc = enum_value(get_str(mgmt, "deletionPolicy"), deletion, 3, 0, &v,
                    "spec.management.deletionPolicy");
    if (rc)
        goto out;
    s->management.deletion_policy = (enum np_posture_deletion)v;
    json_object *rem = get(js, "remediation");
    static const char *const modes[] = {"Enforce", "Detect", "Propose"};
    rc = enum_value(get_str(rem, "mode"), modes, 3, 0, &v, "spec.remediation.mode");
    if (rc)
        goto out;
    s->remediation.mode = (enum np_posture_mode)v;
    const char *grace = get_str(rem, "gracePeriod");
    if (grace && np_duration_parse(grace, &s->remediation.grace_ms) != 0) {
        rc = np_error_set(NP_EINVAL, "spec.remediation.gracePeriod: %s", np_error_message());
        goto out;
    }
    s->remediation.max_changes = 20;
    json_object *max = get(rem, "maxChangesPerSync");
    if (max) {
        int64_t m = json_object_get_int64(max);
        if (!json_object_is_type(max, json_type_int) || m < 1 || m > 1000) {
            rc = np_error_set(NP_EINVAL, "spec.remediation.maxChangesPerSync: must be 1-1000");
            goto out;
        }
        s->remediation.max_changes = (int)m;
    }
    rc = parse_exceptions(get(rem, "exceptions"), s);
out:
    if (rc) {
        np_posture_sg_spec_destroy(s);
        return rc;
    }
    *out = s;
    return 0;
}

void np_posture_sg_spec_destroy(struct np_posture_sg_spec *s)
{
    if (!s)
        return;
    free(s->account_ref);
    free(s->region);
    free(s->vpc_id);
    free(s->vpc_ref);
    free(s->group_name);
    free(s->description);
    for (size_t i = 0; i < s->n_tags; i++) {
        free(s->tags[i].key);
        free(s->tags[i].value);
    }
    free(s->tags);
    for (size_t i = 0; i < s->n_ingress; i++)
        np_posture_rule_clean_up(&s->ingress[i]);
    free(s->ingress);
    for (size_t i = 0; i < s->n_egress; i++)
        np_posture_rule_clean_up(&s->egress[i]);
    free(s->egress);
    free(s->management.group_id);
    for (size_t i = 0; i < s->remediation.n_exceptions; i++) {
        struct np_posture_exception *x = &s->remediation.exceptions[i];
        free(x->protocol);
        for (size_t j = 0; j < x->n_cidrs; j++)
            free(x->cidrs[j]);
        free(x->cidrs);
        for (size_t j = 0; j < x->n_actors; j++)
            free(x->actors[j]);
        free(x->actors);
    }
    free(s->remediation.exceptions);
    free(s);
}

const char *np_posture_mode_name(enum np_posture_mode mode)
{
    switch (mode) {
    case NP_POSTURE_MODE_DETECT: return "Detect";
    case NP_POSTURE_MODE_PROPOSE: return "Propose";
    default: return "Enforce";
    }
}
