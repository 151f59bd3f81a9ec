/*
 * Parsing and validating a SecurityGroupPosture spec (json-c) into declared rules, with
 * errors that name the field path. The CRD schema rejects most bad input at admission; this
 * catches what it cannot (CIDR semantics, port order, cross-field rules) and specs that never
 * went through admission (netposturectl, older schemas).
 */
#include "posture/private/posture_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_TAGS 48 /* AWS allows 50 tags per group; netposture's ownership tags take 2 */
#define PATH_LEN 96 /* a rule or exception path: spec.ingress[12] */
#define RULE_PATH_LEN (PATH_LEN + 16)      /* its rule: ...exceptions[3].rule */
#define ITEM_PATH_LEN (RULE_PATH_LEN + 64) /* a field inside: ...rule.ipv6Cidrs[19] */

/* ---------------------------------------------------------------- typed JSON access */

/* Member k of o, or NULL when absent or JSON null. */
json_object *np_posture_json_member(json_object *o, const char *k)
{
    json_object *v = NULL;
    if (!o || !json_object_object_get_ex(o, k, &v))
        return NULL;
    return v;
}

int np_posture_json_string(json_object *o, const char *k, const char *path, const char **out)
{
    json_object *v = np_posture_json_member(o, k);
    *out = NULL;
    if (!v)
        return 0;
    if (!json_object_is_type(v, json_type_string))
        return np_error_set(NP_EINVAL, "%s.%s: must be a string", path, k);
    *out = json_object_get_string(v);
    return 0;
}

static int opt_typed(json_object *o, const char *k, const char *path, json_type type,
                     const char *what, json_object **out)
{
    json_object *v = np_posture_json_member(o, k);
    *out = NULL;
    if (!v)
        return 0;
    if (!json_object_is_type(v, type))
        return np_error_set(NP_EINVAL, "%s.%s: must be %s", path, k, what);
    *out = v;
    return 0;
}

int np_posture_json_object(json_object *o, const char *k, const char *path, json_object **out)
{
    return opt_typed(o, k, path, json_type_object, "an object", out);
}

int np_posture_json_array(json_object *o, const char *k, const char *path, json_object **out)
{
    return opt_typed(o, k, path, json_type_array, "a list", out);
}

int np_posture_json_int(json_object *o, const char *k, const char *path, int64_t min, int64_t max,
                        bool *has, int64_t *out)
{
    json_object *v = NULL;
    int rc = opt_typed(o, k, path, json_type_int, "an integer", &v);
    *has = false;
    if (rc || !v)
        return rc;
    int64_t n = json_object_get_int64(v);
    if (n < min || n > max)
        return np_error_set(NP_EINVAL, "%s.%s: %lld is out of range %lld..%lld", path, k,
                            (long long)n, (long long)min, (long long)max);
    *has = true;
    *out = n;
    return 0;
}

/* An enum member: absent gives def; otherwise one of names (case-sensitive, as the CRD). */
int np_posture_json_enum(json_object *o, const char *k, const char *path, const char *const *names,
                         size_t n, int def, int *out)
{
    const char *v = NULL;
    int rc = np_posture_json_string(o, k, path, &v);
    *out = def;
    if (rc || !v)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(v, names[i]) == 0) {
            *out = (int)i;
            return 0;
        }
    }
    struct np_buf b = NP_BUF_INIT;
    for (size_t i = 0; i < n; i++)
        np_buf_appendf(&b, "%s%s", i ? ", " : "", names[i]);
    rc = np_error_set(NP_EINVAL, "%s.%s: \"%.32s\" is not one of %s", path, k, v, np_buf_cstr(&b));
    np_buf_clean_up(&b);
    return rc;
}

int np_posture_json_bool(json_object *o, const char *k, const char *path, bool *has, bool *out)
{
    json_object *v = NULL;
    int rc = opt_typed(o, k, path, json_type_boolean, "true or false", &v);
    *has = v != NULL;
    if (rc || !v)
        return rc;
    *out = json_object_get_boolean(v);
    return 0;
}

/* ---------------------------------------------------------------- value checks */

/* AWS's character set for group names, group descriptions and rule descriptions (VPC). */
static int check_aws_text(const char *s, size_t max, const char *path)
{
    static const char extra[] = " ._-:/()#,@[]+=&;{}!$*";
    size_t len = strlen(s);
    if (len > max)
        return np_error_set(NP_EINVAL, "%s: %zu characters, at most %zu", path, len, max);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            strchr(extra, c))
            continue;
        if (c >= 0x20 && c < 0x7f)
            return np_error_set(NP_EINVAL,
                                "%s: character '%c' is not allowed by AWS (use letters, digits, "
                                "spaces and ._-:/()#,@[]+=&;{}!$*)",
                                path, c);
        return np_error_set(NP_EINVAL,
                            "%s: byte 0x%02x is not allowed by AWS (use letters, digits, spaces "
                            "and ._-:/()#,@[]+=&;{}!$*)",
                            path, c);
    }
    return 0;
}

/* An AWS id: prefix ("sg-") followed by one or more letters or digits. */
bool np_posture_is_aws_id(const char *s, const char *prefix)
{
    size_t pl = strlen(prefix);
    if (strncasecmp(s, prefix, pl) != 0 || s[pl] == '\0')
        return false;
    for (const char *p = s + pl; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
            return false;
    return true;
}

static int check_cidr4(const char *s, const char *path)
{
    char *canon = NULL;
    if (strchr(s, ':'))
        return np_error_set(NP_EINVAL, "%s: \"%.64s\" is an IPv6 CIDR; put it in ipv6Cidrs", path,
                            s);
    int rc = np_posture_cidr_canonical(&canon, s, false);
    free(canon);
    return rc ? np_error_set(rc, "%s: %s", path, np_error_message()) : 0;
}

static int check_cidr6(const char *s, const char *path)
{
    char *canon = NULL;
    if (!strchr(s, ':') && strchr(s, '.'))
        return np_error_set(NP_EINVAL, "%s: \"%.64s\" is an IPv4 CIDR; put it in cidrs", path, s);
    int rc = np_posture_cidr_canonical(&canon, s, true);
    free(canon);
    return rc ? np_error_set(rc, "%s: %s", path, np_error_message()) : 0;
}

static int check_prefix_list(const char *s, const char *path)
{
    if (!np_posture_is_aws_id(s, "pl-"))
        return np_error_set(NP_EINVAL, "%s: \"%.64s\" is not a prefix list id (pl-...)", path, s);
    return 0;
}

static int check_non_empty(const char *s, const char *path)
{
    return *s ? 0 : np_error_set(NP_EINVAL, "%s: must not be empty", path);
}

/* Reads the optional list o.k of strings into *items (owned), checking each item. */
int np_posture_json_string_list(json_object *o, const char *k, const char *path, char ***items,
                                size_t *n, int (*check)(const char *s, const char *item_path))
{
    json_object *arr = NULL;
    int rc = np_posture_json_array(o, k, path, &arr);
    if (rc || !arr)
        return rc;
    size_t m = json_object_array_length(arr);
    *items = np_xcalloc(m ? m : 1, sizeof(char *));
    for (size_t i = 0; i < m; i++) {
        char ipath[ITEM_PATH_LEN];
        snprintf(ipath, sizeof(ipath), "%s.%s[%zu]", path, k, i);
        json_object *item = json_object_array_get_idx(arr, i);
        if (!item || !json_object_is_type(item, json_type_string))
            return np_error_set(NP_EINVAL, "%s: must be a string", ipath);
        const char *s = json_object_get_string(item);
        rc = check(s, ipath);
        if (rc)
            return rc;
        (*items)[(*n)++] = np_strdup(s);
    }
    return 0;
}

static int group_refs(json_object *o, const char *path, struct np_posture_rule_spec *r)
{
    json_object *arr = NULL;
    int rc = np_posture_json_array(o, "securityGroups", path, &arr);
    if (rc || !arr)
        return rc;
    size_t m = json_object_array_length(arr);
    r->security_groups = np_xcalloc(m ? m : 1, sizeof(*r->security_groups));
    for (size_t i = 0; i < m; i++) {
        char ipath[ITEM_PATH_LEN];
        snprintf(ipath, sizeof(ipath), "%s.securityGroups[%zu]", path, i);
        json_object *item = json_object_array_get_idx(arr, i);
        if (!item || !json_object_is_type(item, json_type_object))
            return np_error_set(NP_EINVAL, "%s: must be an object", ipath);
        const char *gid = NULL, *name = NULL;
        if ((rc = np_posture_json_string(item, "groupId", ipath, &gid)) != 0 ||
            (rc = np_posture_json_string(item, "name", ipath, &name)) != 0)
            return rc;
        if (np_str_is_empty(gid) == np_str_is_empty(name))
            return np_error_set(NP_EINVAL, "%s: set exactly one of groupId and name", ipath);
        if (gid && !np_posture_is_aws_id(gid, "sg-"))
            return np_error_set(NP_EINVAL,
                                "%s.groupId: \"%.64s\" is not a security group id "
                                "(sg-...); name a SecurityGroupPosture with name",
                                ipath, gid);
        struct np_posture_group_ref *g = &r->security_groups[r->n_security_groups++];
        g->group_id = np_strdup(gid);
        g->name = np_strdup(name);
    }
    return 0;
}

/* ---------------------------------------------------------------- rules */

/* Checks ports for a canonical protocol; pattern: absent ports mean "any". */
static int check_ports(const struct np_posture_rule_spec *r, const char *proto, bool pattern,
                       const char *path)
{
    bool tcp_udp = strcmp(proto, "tcp") == 0 || strcmp(proto, "udp") == 0;
    if (tcp_udp) {
        if (!pattern && (!r->has_from_port || !r->has_to_port))
            return np_error_set(NP_EINVAL, "%s: %s rules need fromPort and toPort", path, proto);
        if (r->has_from_port && r->from_port < 0)
            return np_error_set(NP_EINVAL, "%s.fromPort: %d is not a %s port (0-65535)", path,
                                r->from_port, proto);
        if (r->has_to_port && r->to_port < 0)
            return np_error_set(NP_EINVAL, "%s.toPort: %d is not a %s port (0-65535)", path,
                                r->to_port, proto);
        if (r->has_from_port && r->has_to_port && r->from_port > r->to_port)
            return np_error_set(NP_EINVAL, "%s: fromPort %d > toPort %d", path, r->from_port,
                                r->to_port);
    } else if (np_posture_protocol_is_icmp(proto)) {
        if (r->has_from_port && r->from_port > 255)
            return np_error_set(NP_EINVAL,
                                "%s.fromPort: ICMP type %d is out of range (-1 for all, else "
                                "0-255)",
                                path, r->from_port);
        if (r->has_to_port && r->to_port > 255)
            return np_error_set(NP_EINVAL,
                                "%s.toPort: ICMP code %d is out of range (-1 for all, else 0-255)",
                                path, r->to_port);
        bool all_types = r->has_from_port ? r->from_port == -1 : !pattern;
        if (all_types && r->has_to_port && r->to_port != -1)
            return np_error_set(NP_EINVAL,
                                "%s: ICMP type -1 (all types) needs code -1, not toPort %d", path,
                                r->to_port);
    }
    return 0;
}

/*
 * Parses one rule object at path into r (zeroed by the caller; partly filled on error, which
 * the caller frees). pattern: an exception's rule, where protocol and peers are optional.
 */
static int parse_rule_spec(json_object *jr, const char *path, bool pattern,
                           struct np_posture_rule_spec *r)
{
    int rc = 0;
    const char *proto = NULL, *desc = NULL;
    int64_t v = 0;
    if (!jr || !json_object_is_type(jr, json_type_object))
        return np_error_set(NP_EINVAL, "%s: must be an object", path);
    if ((rc = np_posture_json_string(jr, "protocol", path, &proto)) != 0)
        return rc;
    if (!proto && !pattern)
        return np_error_set(NP_EINVAL, "%s.protocol: required", path);
    if ((rc = np_posture_json_int(jr, "fromPort", path, -1, 65535, &r->has_from_port, &v)) != 0)
        return rc;
    r->from_port = r->has_from_port ? (int)v : 0;
    if ((rc = np_posture_json_int(jr, "toPort", path, -1, 65535, &r->has_to_port, &v)) != 0)
        return rc;
    r->to_port = r->has_to_port ? (int)v : 0;
    if (proto) {
        char canon[8];
        if ((rc = np_posture_protocol_canonical(proto, canon)) != 0)
            return np_error_set(rc, "%s.protocol: %s", path, np_error_message());
        if ((rc = check_ports(r, canon, pattern, path)) != 0)
            return rc;
        r->protocol = np_strdup(proto);
    }
    if ((rc = np_posture_json_string_list(jr, "cidrs", path, &r->cidrs, &r->n_cidrs,
                                          check_cidr4)) != 0 ||
        (rc = np_posture_json_string_list(jr, "ipv6Cidrs", path, &r->ipv6_cidrs, &r->n_ipv6_cidrs,
                                          check_cidr6)) != 0 ||
        (rc = np_posture_json_string_list(jr, "prefixListIds", path, &r->prefix_list_ids,
                                          &r->n_prefix_list_ids, check_prefix_list)) != 0 ||
        (rc = group_refs(jr, path, r)) != 0)
        return rc;
    if ((rc = np_posture_json_string(jr, "description", path, &desc)) != 0)
        return rc;
    if (desc) {
        char dpath[ITEM_PATH_LEN];
        snprintf(dpath, sizeof(dpath), "%s.description", path);
        if ((rc = check_aws_text(desc, 255, dpath)) != 0)
            return rc;
        r->description = np_str_is_empty(desc) ? NULL : np_strdup(desc);
    }
    if (!pattern && r->n_cidrs + r->n_ipv6_cidrs + r->n_prefix_list_ids + r->n_security_groups == 0)
        return np_error_set(NP_EINVAL,
                            "%s: needs at least one peer in cidrs, ipv6Cidrs, prefixListIds or "
                            "securityGroups",
                            path);
    return 0;
}

static int parse_rules(json_object *spec, const char *field, struct np_posture_rule_spec **rules,
                       size_t *n, bool *omitted)
{
    json_object *arr = NULL;
    int rc = np_posture_json_array(spec, field, "spec", &arr);
    if (omitted)
        *omitted = arr == NULL;
    if (rc || !arr)
        return rc;
    size_t m = json_object_array_length(arr);
    *rules = np_xcalloc(m ? m : 1, sizeof(**rules));
    for (size_t i = 0; i < m; i++) {
        char path[PATH_LEN];
        snprintf(path, sizeof(path), "spec.%s[%zu]", field, i);
        /* Counted first so the destroy path frees a partly parsed rule too. */
        (*n)++;
        rc = parse_rule_spec(json_object_array_get_idx(arr, i), path, false, &(*rules)[i]);
        if (rc)
            return rc;
    }
    return 0;
}

void np_posture_rule_spec_clean_up(struct np_posture_rule_spec *r)
{
    free(r->protocol);
    for (size_t i = 0; i < r->n_cidrs; i++)
        free(r->cidrs[i]);
    free(r->cidrs);
    for (size_t i = 0; i < r->n_ipv6_cidrs; i++)
        free(r->ipv6_cidrs[i]);
    free(r->ipv6_cidrs);
    for (size_t i = 0; i < r->n_prefix_list_ids; i++)
        free(r->prefix_list_ids[i]);
    free(r->prefix_list_ids);
    for (size_t i = 0; i < r->n_security_groups; i++) {
        free(r->security_groups[i].group_id);
        free(r->security_groups[i].name);
    }
    free(r->security_groups);
    free(r->description);
    memset(r, 0, sizeof(*r));
}

/* ---------------------------------------------------------------- remediation */

static int parse_exception(json_object *e, const char *path, struct np_posture_exception *x)
{
    int rc = 0;
    json_object *rule = NULL;
    const char *expires = NULL;
    char rpath[RULE_PATH_LEN];
    static const char *const directions[] = {"ingress", "egress"};
    int v = 0;
    if (!e || !json_object_is_type(e, json_type_object))
        return np_error_set(NP_EINVAL, "%s: must be an object", path);
    if ((rc = np_posture_json_object(e, "rule", path, &rule)) != 0)
        return rc;
    if (!rule)
        return np_error_set(NP_EINVAL, "%s.rule: required", path);
    snprintf(rpath, sizeof(rpath), "%s.rule", path);
    if (!np_posture_json_member(rule, "direction"))
        return np_error_set(NP_EINVAL, "%s.direction: required", rpath);
    if ((rc = np_posture_json_enum(rule, "direction", rpath, directions, 2, 0, &v)) != 0)
        return rc;
    x->direction = (enum np_posture_direction)v;
    if ((rc = parse_rule_spec(rule, rpath, true, &x->rule)) != 0)
        return rc;
    if ((rc = np_posture_json_string_list(e, "actors", path, &x->actors, &x->n_actors,
                                          check_non_empty)) != 0)
        return rc;
    if ((rc = np_posture_json_string(e, "expires", path, &expires)) != 0)
        return rc;
    if (expires) {
        if (np_time_parse_rfc3339(expires, &x->expires_ms) != 0)
            return np_error_set(NP_EINVAL, "%s.expires: %s", path, np_error_message());
        x->has_expires = true;
    }
    return 0;
}

/* The object form of maxChangesPerSync: {subtractive, total}, at least one, nothing else. */
static int parse_blast_radius_object(json_object *o, const char *path,
                                     struct np_posture_blast_radius *out)
{
    bool has_sub = false, has_total = false;
    int64_t sub = 0, total = 0;
    json_object_object_foreach(o, key, val)
    {
        (void)val;
        if (!np_str_eq(key, "subtractive") && !np_str_eq(key, "total"))
            return np_error_set(NP_EINVAL, "%s.%s: unknown field (want subtractive, total)", path,
                                key);
    }
    int rc = np_posture_json_int(o, "subtractive", path, 1, NP_POSTURE_MAX_CHANGES_LIMIT, &has_sub,
                                 &sub);
    if (rc == 0)
        rc = np_posture_json_int(o, "total", path, 1, NP_POSTURE_MAX_CHANGES_LIMIT, &has_total,
                                 &total);
    if (rc)
        return rc;
    if (!has_sub && !has_total)
        return np_error_set(NP_EINVAL, "%s: needs subtractive, total or both", path);
    if (has_sub)
        out->subtractive = (int)sub;
    if (has_total)
        out->total = (int)total;
    return 0;
}

/*
 * spec.remediation.maxChangesPerSync: an integer (the cap on subtractive changes) or
 * {subtractive, total}. Absent: subtractive 20, no total cap.
 */
static int parse_blast_radius(json_object *jr, const char *path,
                              struct np_posture_blast_radius *out)
{
    out->subtractive = NP_POSTURE_DEFAULT_MAX_CHANGES;
    out->total = 0;
    json_object *v = np_posture_json_member(jr, "maxChangesPerSync");
    if (!v)
        return 0;
    char fpath[PATH_LEN];
    snprintf(fpath, sizeof(fpath), "%s.maxChangesPerSync", path);
    if (json_object_is_type(v, json_type_object))
        return parse_blast_radius_object(v, fpath, out);
    if (!json_object_is_type(v, json_type_int))
        return np_error_set(NP_EINVAL, "%s: must be an integer or {subtractive, total}", fpath);
    bool has = false;
    int64_t max = 0;
    int rc = np_posture_json_int(jr, "maxChangesPerSync", path, 1, NP_POSTURE_MAX_CHANGES_LIMIT,
                                 &has, &max);
    if (rc == 0)
        out->subtractive = (int)max;
    return rc;
}

int np_posture_json_remediation(json_object *spec, struct np_posture_remediation *rem)
{
    int rc = 0;
    json_object *jr = NULL, *arr = NULL;
    const char *grace = NULL;
    int v = 0;
    static const char *const modes[] = {"Enforce", "Detect", "Propose"};
    rem->max_changes.subtractive = NP_POSTURE_DEFAULT_MAX_CHANGES;
    rem->max_changes.total = 0;
    if ((rc = np_posture_json_object(spec, "remediation", "spec", &jr)) != 0 || !jr)
        return rc;
    const char *path = "spec.remediation";
    if ((rc = np_posture_json_enum(jr, "mode", path, modes, 3, 0, &v)) != 0)
        return rc;
    rem->mode = (enum np_posture_mode)v;
    if ((rc = np_posture_json_string(jr, "gracePeriod", path, &grace)) != 0)
        return rc;
    if (grace && np_duration_parse(grace, &rem->grace_ms) != 0)
        return np_error_set(NP_EINVAL, "%s.gracePeriod: %s", path, np_error_message());
    if ((rc = parse_blast_radius(jr, path, &rem->max_changes)) != 0)
        return rc;
    if ((rc = np_posture_json_array(jr, "exceptions", path, &arr)) != 0 || !arr)
        return rc;
    size_t m = json_object_array_length(arr);
    rem->exceptions = np_xcalloc(m ? m : 1, sizeof(*rem->exceptions));
    for (size_t i = 0; i < m; i++) {
        char epath[PATH_LEN];
        snprintf(epath, sizeof(epath), "%s.exceptions[%zu]", path, i);
        rem->n_exceptions++;
        rc = parse_exception(json_object_array_get_idx(arr, i), epath, &rem->exceptions[i]);
        if (rc)
            return rc;
    }
    return 0;
}

/* ---------------------------------------------------------------- spec */

static int tag_cmp(const void *a, const void *b)
{
    const struct np_posture_tag *x = a, *y = b;
    return strcmp(x->key, y->key);
}

int np_posture_json_tags(json_object *o, const char *path, struct np_posture_tag **out, size_t *n)
{
    json_object *tags = NULL;
    int rc = np_posture_json_object(o, "tags", path, &tags);
    if (rc || !tags)
        return rc;
    size_t m = (size_t)json_object_object_length(tags);
    if (m > MAX_TAGS)
        return np_error_set(NP_EINVAL,
                            "%s.tags: %zu tags, at most %d (AWS allows 50 per resource and "
                            "netposture's ownership tags take 2)",
                            path, m, MAX_TAGS);
    *out = np_xcalloc(m ? m : 1, sizeof(**out));
    json_object_object_foreach(tags, k, v)
    {
        size_t klen = strlen(k);
        if (klen == 0 || klen > 128)
            return np_error_set(NP_EINVAL, "%s.tags[%.128s]: keys must be 1-128 characters", path,
                                k);
        if (np_posture_tag_is_reserved(k))
            return np_error_set(NP_EINVAL,
                                "%s.tags[%s]: keys under %s and aws: are reserved for "
                                "netposture and AWS",
                                path, k, NP_POSTURE_TAG_PREFIX);
        if (!v || !json_object_is_type(v, json_type_string))
            return np_error_set(NP_EINVAL, "%s.tags[%s]: must be a string", path, k);
        const char *val = json_object_get_string(v);
        if (strlen(val) > 256)
            return np_error_set(NP_EINVAL, "%s.tags[%s]: values are at most 256 characters", path,
                                k);
        (*out)[*n].key = np_strdup(k);
        (*out)[*n].value = np_strdup(val);
        (*n)++;
    }
    qsort(*out, *n, sizeof(**out), tag_cmp);
    return 0;
}

void np_posture_tags_free(struct np_posture_tag *tags, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(tags[i].key);
        free(tags[i].value);
    }
    free(tags);
}

/* A required-name reference object (accountRef, vpcRef): *name is NULL when o.k is absent. */
int np_posture_json_ref(json_object *o, const char *k, const char **name)
{
    json_object *ref = NULL;
    char path[PATH_LEN];
    int rc = np_posture_json_object(o, k, "spec", &ref);
    *name = NULL;
    if (rc || !ref)
        return rc;
    snprintf(path, sizeof(path), "spec.%s", k);
    if ((rc = np_posture_json_string(ref, "name", path, name)) != 0)
        return rc;
    if (np_str_is_empty(*name))
        return np_error_set(NP_EINVAL, "%s.name: required", path);
    return 0;
}

int np_posture_json_placement(json_object *spec, char **account_ref, char **region)
{
    const char *str = NULL;
    int rc = 0;
    if (!spec || !json_object_is_type(spec, json_type_object))
        return np_error_set(NP_EINVAL, "spec: missing or not an object");
    if ((rc = np_posture_json_ref(spec, "accountRef", &str)) != 0)
        return rc;
    *account_ref = np_strdup(str ? str : NP_POSTURE_DEFAULT_ACCOUNT);
    if ((rc = np_posture_json_string(spec, "region", "spec", &str)) != 0)
        return rc;
    *region = np_str_is_empty(str) ? NULL : np_strdup(str);
    return 0;
}

int np_posture_json_management(json_object *spec, const struct np_posture_id_kind *id,
                               enum np_posture_management_policy *policy, char **id_out,
                               enum np_posture_deletion *deletion_policy)
{
    int rc = 0;
    json_object *jm = NULL;
    const char *value = NULL;
    int v = 0;
    static const char *const policies[] = {"Create", "Adopt"};
    static const char *const deletion[] = {"Delete", "Retain"};
    const char *path = "spec.management";
    if ((rc = np_posture_json_object(spec, "management", "spec", &jm)) != 0 || !jm)
        return rc;
    if ((rc = np_posture_json_enum(jm, "policy", path, policies, 2, 0, &v)) != 0)
        return rc;
    *policy = (enum np_posture_management_policy)v;
    if ((rc = np_posture_json_string(jm, id->field, path, &value)) != 0)
        return rc;
    if (value && !np_posture_is_aws_id(value, id->prefix))
        return np_error_set(NP_EINVAL, "%s.%s: \"%.64s\" is not a %s (%s...)", path, id->field,
                            value, id->what, id->prefix);
    *id_out = np_strdup(value);
    if (*policy == NP_POSTURE_MANAGEMENT_ADOPT && !value)
        return np_error_set(NP_EINVAL, "%s.%s: required when policy is Adopt", path, id->field);
    if ((rc = np_posture_json_enum(jm, "deletionPolicy", path, deletion, 2, -1, &v)) != 0)
        return rc;
    if (v >= 0)
        *deletion_policy = v == 0 ? NP_POSTURE_DELETION_DELETE : NP_POSTURE_DELETION_RETAIN;
    return 0;
}

int np_posture_sg_spec_parse(struct np_posture_sg_spec **out, json_object *js)
{
    int rc = 0;
    const char *str = NULL;
    int v = 0;
    static const char *const ownership[] = {"Exclusive", "Additive"};
    struct np_posture_sg_spec *s = np_xcalloc(1, sizeof(*s));
    *out = NULL;
    if ((rc = np_posture_json_placement(js, &s->account_ref, &s->region)) != 0)
        goto out;
    if ((rc = np_posture_json_string(js, "vpcId", "spec", &str)) != 0)
        goto out;
    if (str && !np_posture_is_aws_id(str, "vpc-")) {
        rc = np_error_set(NP_EINVAL, "spec.vpcId: \"%.64s\" is not a VPC id (vpc-...)", str);
        goto out;
    }
    s->vpc_id = np_strdup(str);
    if ((rc = np_posture_json_ref(js, "vpcRef", &str)) != 0)
        goto out;
    s->vpc_ref = np_strdup(str);
    if (s->vpc_id && s->vpc_ref) {
        rc = np_error_set(NP_EINVAL, "spec: set at most one of vpcId and vpcRef");
        goto out;
    }
    if ((rc = np_posture_json_string(js, "groupName", "spec", &str)) != 0)
        goto out;
    if (np_str_is_empty(str)) {
        rc = np_error_set(NP_EINVAL, "spec.groupName: required");
        goto out;
    }
    if (strncasecmp(str, "sg-", 3) == 0) {
        rc = np_error_set(NP_EINVAL, "spec.groupName: \"%.64s\" starts with sg- (AWS reserves it)",
                          str);
        goto out;
    }
    if ((rc = check_aws_text(str, 255, "spec.groupName")) != 0)
        goto out;
    s->group_name = np_strdup(str);
    if ((rc = np_posture_json_string(js, "description", "spec", &str)) != 0)
        goto out;
    if ((rc = check_aws_text(str ? str : "", 255, "spec.description")) != 0)
        goto out;
    s->description = np_strdup(np_str_is_empty(str) ? NP_POSTURE_DEFAULT_DESCRIPTION : str);
    if ((rc = np_posture_json_tags(js, "spec", &s->tags, &s->n_tags)) != 0)
        goto out;
    if ((rc = parse_rules(js, "ingress", &s->ingress, &s->n_ingress, NULL)) != 0)
        goto out;
    if ((rc = parse_rules(js, "egress", &s->egress, &s->n_egress, &s->egress_omitted)) != 0)
        goto out;
    if ((rc = np_posture_json_enum(js, "ownership", "spec", ownership, 2, 0, &v)) != 0)
        goto out;
    s->ownership = (enum np_posture_ownership)v;
    static const struct np_posture_id_kind group_id = {"groupId", "sg-", "security group id"};
    if ((rc = np_posture_json_management(js, &group_id, &s->management.policy,
                                         &s->management.group_id,
                                         &s->management.deletion_policy)) != 0)
        goto out;
    rc = np_posture_json_remediation(js, &s->remediation);
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
    np_posture_tags_free(s->tags, s->n_tags);
    for (size_t i = 0; i < s->n_ingress; i++)
        np_posture_rule_spec_clean_up(&s->ingress[i]);
    free(s->ingress);
    for (size_t i = 0; i < s->n_egress; i++)
        np_posture_rule_spec_clean_up(&s->egress[i]);
    free(s->egress);
    free(s->management.group_id);
    np_posture_remediation_clean_up(&s->remediation);
    free(s);
}

void np_posture_remediation_clean_up(struct np_posture_remediation *rem)
{
    for (size_t i = 0; i < rem->n_exceptions; i++) {
        struct np_posture_exception *x = &rem->exceptions[i];
        np_posture_rule_spec_clean_up(&x->rule);
        for (size_t j = 0; j < x->n_actors; j++)
            free(x->actors[j]);
        free(x->actors);
    }
    free(rem->exceptions);
    memset(rem, 0, sizeof(*rem));
}

const char *np_posture_mode_name(enum np_posture_mode mode)
{
    switch (mode) {
    case NP_POSTURE_MODE_DETECT: return "Detect";
    case NP_POSTURE_MODE_PROPOSE: return "Propose";
    default: return "Enforce";
    }
}
