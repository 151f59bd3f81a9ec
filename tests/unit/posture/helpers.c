/*
 * Implementation of the posture test helpers (see posture_test.h): JSON with single quotes,
 * the peer table, the spec-to-plan-text pipeline and fixture reading.
 */
#include "posture_test.h"

#include <criterion/criterion.h>
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_object *t_json(const char *sq)
{
    char *s = np_strdup(sq);
    for (char *p = s; *p; p++)
        if (*p == '\'')
            *p = '"';
    json_object *o = json_tokener_parse(s);
    cr_assert_not_null(o, "bad test JSON: %s", s);
    free(s);
    return o;
}

/*
 * Parses sq as a SecurityGroupPosture (vpc false) or VPCPosture spec: 0 and the spec in
 * *sg / *vs, or the error code (the spec pointers are checked to be NULL then).
 */
static int parse_spec(const char *sq, bool vpc, struct np_posture_sg_spec **sg,
                      struct np_posture_vpc_spec **vs)
{
    json_object *o = t_json(sq);
    *sg = (struct np_posture_sg_spec *)(uintptr_t)1;
    *vs = (struct np_posture_vpc_spec *)(uintptr_t)1;
    np_error_clear();
    int rc = vpc ? np_posture_vpc_spec_parse(vs, o) : np_posture_sg_spec_parse(sg, o);
    json_object_put(o);
    if (vpc)
        *sg = NULL;
    else
        *vs = NULL;
    if (rc)
        cr_assert(*sg == NULL && *vs == NULL, "spec must be NULL on error");
    return rc;
}

/* The error message (owned) of a spec that must be rejected. */
static char *spec_error(const char *sq, bool vpc)
{
    struct np_posture_sg_spec *sg = NULL;
    struct np_posture_vpc_spec *vs = NULL;
    int rc = parse_spec(sq, vpc, &sg, &vs);
    np_posture_sg_spec_destroy(sg);
    np_posture_vpc_spec_destroy(vs);
    cr_assert_eq(rc, NP_EINVAL, "spec accepted (rc %d), want an error: %s", rc, sq);
    return np_strdup(np_error_message());
}

struct np_posture_sg_spec *t_spec(const char *sq)
{
    struct np_posture_sg_spec *s = NULL;
    struct np_posture_vpc_spec *unused = NULL;
    int rc = parse_spec(sq, false, &s, &unused);
    cr_assert_eq(rc, 0, "spec rejected: %s\nspec: %s", np_error_message(), sq);
    return s;
}

char *t_spec_error(const char *sq)
{
    return spec_error(sq, false);
}

struct np_posture_vpc_spec *t_vpc_spec(const char *sq)
{
    struct np_posture_sg_spec *unused = NULL;
    struct np_posture_vpc_spec *s = NULL;
    int rc = parse_spec(sq, true, &unused, &s);
    cr_assert_eq(rc, 0, "VPC spec rejected: %s\nspec: %s", np_error_message(), sq);
    return s;
}

char *t_vpc_spec_error(const char *sq)
{
    return spec_error(sq, true);
}

static const struct np_posture_peer peer_items[] = {
    {"db", "sg-0db00000000000001", NULL},
    {"cache", "SG-0CAC0000000000002", NULL},
    {"web", NULL, "has no group yet"},
    {"gone", NULL, "does not exist in namespace shop"},
    {"quiet", NULL, NULL},
    {"empty", "", NULL},
};
const struct np_posture_peers t_peers = {peer_items, NP_ARRAY_LEN(peer_items)};

int t_desired(struct np_posture_ruleset *out, const struct np_posture_sg_spec *spec)
{
    int rc = np_posture_desired(out, spec);
    if (rc == 0)
        rc = np_posture_ruleset_resolve(out, spec, &t_peers);
    if (rc)
        np_posture_ruleset_clean_up(out);
    return rc;
}

char *t_join(char **lines)
{
    struct np_buf b = NP_BUF_INIT;
    np_buf_puts(&b, "");
    for (size_t i = 0; lines && lines[i]; i++)
        np_buf_appendf(&b, "%s\n", lines[i]);
    return np_buf_take(&b);
}

char *t_rule_line(const struct np_posture_rule *r)
{
    char *text = np_posture_rule_text(r);
    char *line = r->description
                     ? np_strdupf("%s %s \"%s\"", np_posture_direction_name(r->direction), text,
                                  r->description)
                     : np_strdupf("%s %s", np_posture_direction_name(r->direction), text);
    free(text);
    return line;
}

char *t_ruleset_text(const struct np_posture_ruleset *rs)
{
    struct np_buf b = NP_BUF_INIT;
    np_buf_puts(&b, "");
    for (size_t i = 0; i < rs->n; i++) {
        char *line = t_rule_line(&rs->rules[i]);
        np_buf_appendf(&b, "%s\n", line);
        free(line);
    }
    return np_buf_take(&b);
}

char *t_drift_text(const struct np_posture_delta *d)
{
    struct np_buf b = NP_BUF_INIT;
    np_buf_puts(&b, "");
    for (size_t i = 0; i < d->n; i++) {
        char *text = np_posture_drift_text(&d->items[i]);
        np_buf_appendf(&b, "%s %s %s%s\n", np_posture_drift_scope(&d->items[i]),
                       np_posture_change_name(d->items[i].change), text,
                       d->items[i].guardrail ? " [guardrail]" : "");
        free(text);
    }
    return np_buf_take(&b);
}

char *t_blast_text(const struct np_posture_delta *d)
{
    struct np_buf b = NP_BUF_INIT;
    np_buf_puts(&b, "");
    for (size_t i = 0; i < d->n; i++) {
        char *text = np_posture_drift_text(&d->items[i]);
        np_buf_appendf(&b, "%s %s %s %s\n",
                       np_posture_drift_is_subtractive(&d->items[i]) ? "subtractive" : "safe",
                       np_posture_drift_scope(&d->items[i]),
                       np_posture_change_name(d->items[i].change), text);
        free(text);
    }
    return np_buf_take(&b);
}

char *t_plan(const char *spec_json, const struct np_posture_raw_rule *raw, size_t n_raw,
             const struct np_posture_tag *have, size_t n_have, size_t *count)
{
    struct np_posture_sg_spec *s = t_spec(spec_json);
    struct np_posture_ruleset want = {0}, got = {0};
    struct np_posture_delta d = {0};
    struct np_posture_plan p = {0};
    char **lines = NULL;
    size_t n_lines = 0;
    cr_assert_eq(t_desired(&want, s), 0, "%s", np_error_message());
    cr_assert_eq(np_posture_observed(&got, raw, n_raw), 0);
    cr_assert_eq(np_posture_diff(&d, &want, &got, s->tags, s->n_tags, have, n_have, s->ownership),
                 0);
    cr_assert_eq(np_posture_plan_build(&p, &d), 0);
    cr_assert_eq(np_posture_plan_text(&lines, &n_lines, &p), 0);
    cr_assert_eq(n_lines, np_posture_plan_count(&p), "one text line per atomic change");
    if (count)
        *count = np_posture_plan_count(&p);
    char *text = t_join(lines);
    np_posture_lines_free(lines);
    np_posture_plan_clean_up(&p);
    np_posture_delta_clean_up(&d);
    np_posture_ruleset_clean_up(&want);
    np_posture_ruleset_clean_up(&got);
    np_posture_sg_spec_destroy(s);
    return text;
}

void t_leak_check(void)
{
#if defined(__SANITIZE_ADDRESS__)
    if (__lsan_do_recoverable_leak_check() != 0) {
        fputs("posture tests: memory leaked (see the LeakSanitizer report above)\n", stderr);
        abort();
    }
#endif
}

json_object *t_fixture_json(const char *root, const char *name, const char *file, bool optional)
{
    char *path = np_strdupf("%s%s/%s", root, name, file);
    FILE *f = fopen(path, "rb");
    json_object *js = NULL;
    if (f || !optional) {
        if (f)
            fclose(f);
        js = json_object_from_file(path);
        cr_assert_not_null(js, "cannot read %s (run from the repository root)", path);
    }
    free(path);
    return js;
}

void t_fixture_golden(const char *root, const char *name, const char *file, const char *got)
{
    char *path = np_strdupf("%s%s/%s", root, name, file);
    const char *update = getenv("NP_UPDATE_GOLDEN");
    if (update && strcmp(update, "1") == 0) {
        FILE *f = fopen(path, "wb");
        cr_assert_not_null(f, "cannot write %s", path);
        fputs(got, f);
        fclose(f);
    }
    char *want = t_read_file(path);
    cr_assert_not_null(want, "cannot read %s", path);
    cr_expect_str_eq(got, want, "%s differs\ngot:\n%swant:\n%s", path, got, want);
    free(want);
    free(path);
}

char *t_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct np_buf b = NP_BUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        np_buf_append(&b, chunk, n);
    fclose(f);
    np_buf_puts(&b, "");
    return np_buf_take(&b);
}
