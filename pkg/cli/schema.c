/*
 * The OpenAPI v3 structural schema of a CRD applied as kube-apiserver applies it to a custom
 * resource: nulls pruned, defaults filled in, then type, unknown fields (kubectl's strict field
 * validation), required, enum, pattern, bounds, lengths, item counts, list-type set/map
 * duplicates, date-time, and each x-kubernetes-validations rule through its C port.
 */
#include "cli/private/cli_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct check {
    np_cli_report_fn report;
    void *ctx;
    size_t errors;
};

static void report(struct check *c, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void report(struct check *c, const char *field, const char *fmt, ...)
{
    struct np_buf b;
    np_buf_init(&b);
    va_list ap;
    va_start(ap, fmt);
    np_buf_vappendf(&b, fmt, ap);
    va_end(ap);
    if (c->report) /* NULL: a probe of a oneOf/anyOf/not branch, which only counts */
        c->report(c->ctx, field, np_buf_cstr(&b));
    np_buf_clean_up(&b);
    c->errors++;
}

static char *sub_path(const char *path, const char *key)
{
    return *path ? np_strdupf("%s.%s", path, key) : np_strdup(key);
}

/* ---------------------------------------------------------------- prune and default */

static void prepare(json_object *obj, json_object *schema);

static void prepare_object(json_object *obj, json_object *schema)
{
    json_object *props = json_object_object_get(schema, "properties");
    json_object *addl = json_object_object_get(schema, "additionalProperties");
    struct json_object_iterator it = json_object_iter_begin(obj);
    struct json_object_iterator end = json_object_iter_end(obj);
    while (!json_object_iter_equal(&it, &end)) {
        const char *k = json_object_iter_peek_name(&it);
        json_object *v = json_object_iter_peek_value(&it);
        json_object_iter_next(&it);
        json_object *sub = props ? json_object_object_get(props, k) : NULL;
        if (!sub && json_object_is_type(addl, json_type_object))
            sub = addl;
        if (!v && sub && !json_object_get_boolean(json_object_object_get(sub, "nullable")))
            json_object_object_del(obj, k); /* a null of a non-nullable field is pruned */
        else if (v && sub)
            prepare(v, sub);
    }
    if (!props)
        return;
    json_object_object_foreach(props, name, sub)
    {
        json_object *def = json_object_object_get(sub, "default");
        if (def && !json_object_object_get_ex(obj, name, NULL)) {
            json_object *copy = NULL;
            json_object_deep_copy(def, &copy, NULL);
            json_object_object_add(obj, name, copy);
            prepare(copy, sub);
        }
    }
}

/* Prunes nulls and applies defaults under obj, as the API server does before validating. */
static void prepare(json_object *obj, json_object *schema)
{
    if (json_object_is_type(obj, json_type_object)) {
        prepare_object(obj, schema);
    } else if (json_object_is_type(obj, json_type_array)) {
        json_object *items = json_object_object_get(schema, "items");
        for (size_t i = 0; items && i < np_cli_len(obj); i++)
            prepare(json_object_array_get_idx(obj, i), items);
    }
}

/* ---------------------------------------------------------------- type */

static const char *json_type_word(json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_null: return "null";
    case json_type_boolean: return "boolean";
    case json_type_double: return "number";
    case json_type_int: return "integer";
    case json_type_string: return "string";
    case json_type_array: return "array";
    default: return "object";
    }
}

static bool type_ok(json_object *v, const char *type)
{
    if (!type)
        return true;
    if (strcmp(type, "number") == 0)
        return json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double);
    return strcmp(type, json_type_word(v)) == 0;
}

/* ---------------------------------------------------------------- scalars */

/* The value as Kubernetes quotes it in messages ("x" for strings, 5 for numbers). */
static char *value_text(json_object *v)
{
    if (json_object_is_type(v, json_type_string))
        return np_strdupf("\"%s\"", json_object_get_string(v));
    return np_strdup(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
}

static void check_enum(struct check *c, json_object *v, json_object *schema, const char *path)
{
    json_object *en = json_object_object_get(schema, "enum");
    if (!en)
        return;
    struct np_buf allowed;
    np_buf_init(&allowed);
    for (size_t i = 0; i < np_cli_len(en); i++) {
        json_object *e = json_object_array_get_idx(en, i);
        if (json_object_equal(e, v)) {
            np_buf_clean_up(&allowed);
            return;
        }
        char *t = value_text(e);
        np_buf_appendf(&allowed, "%s%s", i ? ", " : "", t);
        free(t);
    }
    char *t = value_text(v);
    report(c, path, "Unsupported value: %s: supported values: %s", t, np_buf_cstr(&allowed));
    free(t);
    np_buf_clean_up(&allowed);
}

/* RFC 3339 date-time, as the API server's strfmt accepts it. */
static bool is_date_time(const char *s)
{
    int y, mo, d, h, mi, sec, n = 0;
    if (sscanf(s, "%4d-%2d-%2d%*1[Tt]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 ||
        n != 19 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return false;
    const char *end = s + n;
    if (*end == '.')
        for (end++; *end >= '0' && *end <= '9'; end++)
            ;
    if (*end == 'Z' || *end == 'z')
        return end[1] == '\0';
    int hh = 0, mm = 0;
    n = 0;
    return (*end == '+' || *end == '-') && sscanf(end + 1, "%2d:%2d%n", &hh, &mm, &n) == 2 &&
           n == 5 && end[1 + n] == '\0' && hh < 24 && mm < 60;
}

static void check_string(struct check *c, json_object *v, json_object *schema, const char *path)
{
    const char *s = json_object_get_string(v);
    int64_t len = (int64_t)strlen(s);
    json_object *x;
    if ((x = json_object_object_get(schema, "maxLength")) && len > json_object_get_int64(x))
        report(c, path, "Too long: may not be longer than %lld",
               (long long)json_object_get_int64(x));
    if ((x = json_object_object_get(schema, "minLength")) && len < json_object_get_int64(x))
        report(c, path, "Invalid value: \"%s\": %s in body should be at least %lld chars long", s,
               path, (long long)json_object_get_int64(x));
    const char *pat = json_object_get_string(json_object_object_get(schema, "pattern"));
    bool ok = true;
    if (pat && !np_cli_pattern_matches(pat, s, &ok))
        report(c, path, "Invalid value: \"%s\": %s in body should match '%s'", s, path, pat);
    if (!ok)
        report(c, path, "cannot check the pattern '%s' offline", pat);
    const char *fmt = json_object_get_string(json_object_object_get(schema, "format"));
    if (np_str_eq(fmt, "date-time") && !is_date_time(s))
        report(c, path, "Invalid value: \"%s\": %s in body must be of type date-time: \"%s\"", s,
               path, s);
}

static void check_number(struct check *c, json_object *v, json_object *schema, const char *path)
{
    double d = json_object_get_double(v);
    char *t = value_text(v);
    json_object *x;
    if ((x = json_object_object_get(schema, "minimum")) && d < json_object_get_double(x))
        report(c, path, "Invalid value: %s: %s in body should be greater than or equal to %s", t,
               path, json_object_get_string(x));
    if ((x = json_object_object_get(schema, "maximum")) && d > json_object_get_double(x))
        report(c, path, "Invalid value: %s: %s in body should be less than or equal to %s", t, path,
               json_object_get_string(x));
    if ((x = json_object_object_get(schema, "multipleOf")) && json_object_get_double(x) > 0) {
        double q = d / json_object_get_double(x);
        if (q != (double)(int64_t)q)
            report(c, path, "Invalid value: %s: %s in body should be a multiple of %s", t, path,
                   json_object_get_string(x));
    }
    free(t);
}

/* ---------------------------------------------------------------- containers */

static void check_node(struct check *c, json_object *v, json_object *schema, const char *path);

static void check_required(struct check *c, json_object *obj, json_object *schema, const char *path)
{
    json_object *req = json_object_object_get(schema, "required");
    for (size_t i = 0; i < np_cli_len(req); i++) {
        const char *name = json_object_get_string(json_object_array_get_idx(req, i));
        if (!json_object_object_get_ex(obj, name, NULL)) {
            char *p = sub_path(path, name);
            report(c, p, "Required value");
            free(p);
        }
    }
}

static void check_object(struct check *c, json_object *obj, json_object *schema, const char *path)
{
    json_object *props = json_object_object_get(schema, "properties");
    json_object *addl = json_object_object_get(schema, "additionalProperties");
    bool open = json_object_get_boolean(
                    json_object_object_get(schema, "x-kubernetes-preserve-unknown-fields")) ||
                (!props && !addl);
    check_required(c, obj, schema, path);
    json_object_object_foreach(obj, k, v)
    {
        char *p = sub_path(path, k);
        json_object *sub = props ? json_object_object_get(props, k) : NULL;
        if (!sub && json_object_is_type(addl, json_type_object))
            sub = addl;
        if (sub)
            check_node(c, v, sub, p);
        else if (!open)
            report(c, p, "unknown field \"%s\"", p);
        free(p);
    }
    int n = json_object_object_length(obj);
    json_object *x = json_object_object_get(schema, "maxProperties");
    if (x && n > json_object_get_int(x))
        report(c, path, "Too many: %d: must have at most %d items", n, json_object_get_int(x));
    x = json_object_object_get(schema, "minProperties");
    if (x && n < json_object_get_int(x))
        report(c, path, "Invalid value: %d: %s in body should have at least %d properties", n, path,
               json_object_get_int(x));
}

/* The key of a list-type map item ({"name":"a"}), for duplicate checks. */
static json_object *map_key(json_object *item, json_object *keys)
{
    json_object *k = json_object_new_object();
    for (size_t i = 0; i < np_cli_len(keys); i++) {
        const char *name = json_object_get_string(json_object_array_get_idx(keys, i));
        json_object *v = json_object_object_get(item, name);
        if (v)
            json_object_object_add(k, name, json_object_get(v));
    }
    return k;
}

static void check_duplicates(struct check *c, json_object *arr, json_object *schema,
                             const char *path)
{
    const char *lt =
        json_object_get_string(json_object_object_get(schema, "x-kubernetes-list-type"));
    bool set = np_str_eq(lt, "set"), map = np_str_eq(lt, "map");
    json_object *keys = json_object_object_get(schema, "x-kubernetes-list-map-keys");
    size_t n = np_cli_len(arr);
    for (size_t i = 0; (set || map) && i < n; i++) {
        json_object *a = json_object_array_get_idx(arr, i);
        json_object *ka = map ? map_key(a, keys) : json_object_get(a);
        for (size_t j = 0; j < i; j++) {
            json_object *b = json_object_array_get_idx(arr, j);
            json_object *kb = map ? map_key(b, keys) : json_object_get(b);
            bool dup = json_object_equal(ka, kb);
            json_object_put(kb);
            if (dup) {
                char *p = np_strdupf("%s[%zu]", path, i), *t = value_text(ka);
                report(c, p, "Duplicate value: %s", t);
                free(t);
                free(p);
                break;
            }
        }
        json_object_put(ka);
    }
}

static void check_array(struct check *c, json_object *arr, json_object *schema, const char *path)
{
    size_t n = np_cli_len(arr);
    json_object *x;
    if ((x = json_object_object_get(schema, "maxItems")) && (int64_t)n > json_object_get_int64(x))
        report(c, path, "Too many: %zu: must have at most %lld items", n,
               (long long)json_object_get_int64(x));
    if ((x = json_object_object_get(schema, "minItems")) && (int64_t)n < json_object_get_int64(x))
        report(c, path, "Invalid value: %zu: %s in body should have at least %lld items", n, path,
               (long long)json_object_get_int64(x));
    check_duplicates(c, arr, schema, path);
    json_object *items = json_object_object_get(schema, "items");
    for (size_t i = 0; items && i < n; i++) {
        char *p = np_strdupf("%s[%zu]", path, i);
        check_node(c, json_object_array_get_idx(arr, i), items, p);
        free(p);
    }
}

/* ---------------------------------------------------------------- oneOf, anyOf, allOf, not */

/* How many of the schemas v passes, each checked silently. */
static size_t count_passing(json_object *v, json_object *schemas, const char *path)
{
    size_t n = 0;
    for (size_t i = 0; i < np_cli_len(schemas); i++) {
        struct check probe = {NULL, NULL, 0};
        check_node(&probe, v, json_object_array_get_idx(schemas, i), path);
        n += probe.errors == 0;
    }
    return n;
}

static void check_combinators(struct check *c, json_object *v, json_object *schema,
                              const char *path)
{
    json_object *x;
    if ((x = json_object_object_get(schema, "oneOf")) && count_passing(v, x, path) != 1)
        report(c, path, "Invalid value: \"%s\": must validate one and only one schema (oneOf)",
               json_type_word(v));
    if ((x = json_object_object_get(schema, "anyOf")) && count_passing(v, x, path) == 0)
        report(c, path, "Invalid value: \"%s\": must validate at least one schema (anyOf)",
               json_type_word(v));
    for (size_t i = 0; (x = json_object_object_get(schema, "allOf")) && i < np_cli_len(x); i++)
        check_node(c, v, json_object_array_get_idx(x, i), path);
    if ((x = json_object_object_get(schema, "not"))) {
        struct check probe = {NULL, NULL, 0};
        check_node(&probe, v, x, path);
        if (probe.errors == 0)
            report(c, path, "Invalid value: \"%s\": must not validate the schema (not)",
                   json_type_word(v));
    }
}

/* ---------------------------------------------------------------- rules */

void np_cli_schema_each_rule(json_object *schema, np_cli_rule_fn fn, void *ctx)
{
    json_object *rules = json_object_object_get(schema, "x-kubernetes-validations");
    for (size_t i = 0; i < np_cli_len(rules); i++) {
        json_object *r = json_object_array_get_idx(rules, i);
        const char *rule = json_object_get_string(json_object_object_get(r, "rule"));
        if (!np_cli_cel_is_transition(rule))
            fn(ctx, r, rule);
    }
}

struct node {
    struct check *c;
    json_object *v;
    const char *path;
};

static void check_rule(void *ctx, json_object *r, const char *rule)
{
    struct node *n = ctx;
    const char *msg = json_object_get_string(json_object_object_get(r, "message"));
    const char *expr = json_object_get_string(json_object_object_get(r, "messageExpression"));
    const char *fp = json_object_get_string(json_object_object_get(r, "fieldPath"));
    bool holds = true;
    char *computed = NULL;
    char *p = np_strdupf("%s%s", n->path, fp ? fp : "");
    if (np_cli_cel_check(rule, expr, n->v, &holds, &computed) != 0)
        report(n->c, p, "%s", np_error_message());
    else if (!holds)
        report(n->c, p, "Invalid value: \"%s\": %s", json_type_word(n->v),
               computed ? computed
               : msg    ? msg
                        : rule);
    free(computed);
    free(p);
}

static void check_rules(struct check *c, json_object *v, json_object *schema, const char *path)
{
    struct node n = {c, v, path};
    np_cli_schema_each_rule(schema, check_rule, &n);
}

static void check_node(struct check *c, json_object *v, json_object *schema, const char *path)
{
    const char *type = json_object_get_string(json_object_object_get(schema, "type"));
    if (!type_ok(v, type)) {
        char *t = value_text(v);
        report(c, path, "Invalid value: %s: %s in body must be of type %s: \"%s\"", t, path, type,
               json_type_word(v));
        free(t);
        return;
    }
    size_t before = c->errors;
    check_enum(c, v, schema, path);
    if (json_object_is_type(v, json_type_object))
        check_object(c, v, schema, path);
    else if (json_object_is_type(v, json_type_array))
        check_array(c, v, schema, path);
    else if (json_object_is_type(v, json_type_string))
        check_string(c, v, schema, path);
    else if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double))
        check_number(c, v, schema, path);
    check_combinators(c, v, schema, path);
    if (c->errors == before)
        check_rules(c, v, schema, path);
}

size_t np_cli_schema_check(json_object *obj, json_object *schema, np_cli_report_fn fn, void *ctx)
{
    struct check c = {fn, ctx, 0};
    prepare(obj, schema);
    check_node(&c, obj, schema, "");
    return c.errors;
}
