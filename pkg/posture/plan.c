/*
 * Plans: drift items become a make-before-break plan (guardrail revokes, authorize, describe,
 * tag set, tag delete, revoke) batched into one action per kind and direction, with one stable
 * text line per atomic change, and the plan id. The policy deciding what is applied lives in
 * policy.c.
 */
#include "posture/private/posture_private.h"

#include <stdlib.h>
#include <string.h>

/* Finds or appends the action for (kind, direction, guardrail). */
static struct np_posture_action *plan_action(struct np_posture_plan *p,
                                             enum np_posture_action_kind kind,
                                             enum np_posture_direction dir, bool guardrail)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->actions[i].kind == kind && p->actions[i].direction == dir &&
            p->actions[i].guardrail == guardrail)
            return &p->actions[i];
    p->actions = np_xrealloc(p->actions, (p->n + 1) * sizeof(*p->actions));
    struct np_posture_action *a = &p->actions[p->n++];
    memset(a, 0, sizeof(*a));
    a->kind = kind;
    a->direction = dir;
    a->guardrail = guardrail;
    return a;
}

/*
 * The ordering rule, one rank per possible action: guardrail revokes first (security before
 * availability), then make-before-break: authorize, describe, tag set, tag delete, revoke;
 * ingress before egress within a kind.
 */
static int action_rank(const struct np_posture_action *a)
{
    int dir = a->direction == NP_POSTURE_EGRESS ? 1 : 0;
    if (a->kind == NP_POSTURE_REVOKE && a->guardrail)
        return dir;
    return 2 + (int)a->kind * 2 + dir;
}

static int action_cmp(const void *x, const void *y)
{
    return action_rank(x) - action_rank(y);
}

static void add_tag(struct np_posture_action *a, const struct np_posture_tag *t)
{
    a->tags = np_xrealloc(a->tags, (a->n_tags + 1) * sizeof(*a->tags));
    a->tags[a->n_tags].key = np_strdup(t->key);
    a->tags[a->n_tags].value = np_strdup(t->value);
    a->n_tags++;
}

static void add_rule(struct np_posture_action *a, const struct np_posture_rule *r)
{
    a->rules = np_xrealloc(a->rules, (a->n_rules + 1) * sizeof(*a->rules));
    np_posture_rule_copy(&a->rules[a->n_rules++], r);
}

int np_posture_plan_build(struct np_posture_plan *out, const struct np_posture_delta *delta)
{
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < delta->n; i++) {
        const struct np_posture_drift *it = &delta->items[i];
        enum np_posture_direction dir = it->rule.direction;
        if (it->vpc)
            continue; /* VPC items are planned by np_posture_vpc_plan_build */
        switch (it->change) {
        case NP_POSTURE_MISSING:
            add_rule(plan_action(out, NP_POSTURE_AUTHORIZE, dir, false), &it->rule);
            break;
        case NP_POSTURE_DESCRIPTION:
            add_rule(plan_action(out, NP_POSTURE_DESCRIBE, dir, false), &it->rule);
            break;
        case NP_POSTURE_EXTRA:
            add_rule(plan_action(out, NP_POSTURE_REVOKE, dir, it->guardrail), &it->rule);
            break;
        case NP_POSTURE_TAG_MISSING:
        case NP_POSTURE_TAG_CHANGED:
            add_tag(plan_action(out, NP_POSTURE_TAG_SET, NP_POSTURE_INGRESS, false), &it->tag);
            break;
        case NP_POSTURE_TAG_EXTRA:
            add_tag(plan_action(out, NP_POSTURE_TAG_DELETE, NP_POSTURE_INGRESS, false), &it->tag);
            break;
        case NP_POSTURE_CHANGED: break; /* VPC postures only */
        }
    }
    /* Ranks are unique per action, so the unstable qsort still gives one order. */
    if (out->n > 1)
        qsort(out->actions, out->n, sizeof(*out->actions), action_cmp);
    return 0;
}

void np_posture_plan_clean_up(struct np_posture_plan *p)
{
    for (size_t i = 0; i < p->n; i++) {
        struct np_posture_action *a = &p->actions[i];
        for (size_t j = 0; j < a->n_rules; j++)
            np_posture_rule_clean_up(&a->rules[j]);
        free(a->rules);
        for (size_t j = 0; j < a->n_tags; j++) {
            free(a->tags[j].key);
            free(a->tags[j].value);
        }
        free(a->tags);
    }
    free(p->actions);
    p->actions = NULL;
    p->n = 0;
}

size_t np_posture_plan_count(const struct np_posture_plan *p)
{
    size_t n = 0;
    for (size_t i = 0; i < p->n; i++)
        n += p->actions[i].n_rules + p->actions[i].n_tags;
    return n;
}

static const char *verb(enum np_posture_action_kind k)
{
    switch (k) {
    case NP_POSTURE_AUTHORIZE: return "authorize";
    case NP_POSTURE_DESCRIBE: return "describe";
    case NP_POSTURE_TAG_SET: return "tag set";
    case NP_POSTURE_TAG_DELETE: return "tag delete";
    default: return "revoke";
    }
}

/* The text line of rule j (or tag j) of action a (owned). */
static char *action_line(const struct np_posture_action *a, size_t j, bool is_tag)
{
    struct np_buf b = NP_BUF_INIT;
    np_buf_puts(&b, verb(a->kind));
    np_buf_putc(&b, ' ');
    if (is_tag) {
        np_posture_put_escaped(&b, a->tags[j].key, false);
        if (a->kind == NP_POSTURE_TAG_SET) {
            np_buf_putc(&b, '=');
            np_posture_put_escaped(&b, a->tags[j].value, false);
        }
        return np_buf_take(&b);
    }
    char *rule = np_posture_rule_text(&a->rules[j]);
    np_buf_appendf(&b, "%s %s", np_posture_direction_name(a->direction), rule);
    free(rule);
    if (a->kind == NP_POSTURE_DESCRIBE) {
        np_buf_puts(&b, " \"");
        np_posture_put_escaped(&b, a->rules[j].description, true);
        np_buf_putc(&b, '"');
    }
    return np_buf_take(&b);
}

int np_posture_plan_text(char ***lines, size_t *count, const struct np_posture_plan *p)
{
    size_t total = np_posture_plan_count(p), n = 0;
    *lines = np_xcalloc(total + 1, sizeof(char *));
    for (size_t i = 0; i < p->n; i++) {
        const struct np_posture_action *a = &p->actions[i];
        for (size_t j = 0; j < a->n_rules; j++)
            (*lines)[n++] = action_line(a, j, false);
        for (size_t j = 0; j < a->n_tags; j++)
            (*lines)[n++] = action_line(a, j, true);
    }
    if (count)
        *count = n;
    return 0;
}

void np_posture_lines_free(char **lines)
{
    for (size_t i = 0; lines && lines[i]; i++)
        free(lines[i]);
    free(lines);
}

char *np_posture_plan_id(char *const *lines, uint64_t observed_fp, np_posture_sha256_fn sha256)
{
    if (!lines)
        return NULL;
    struct np_buf b = NP_BUF_INIT;
    for (size_t i = 0; lines[i]; i++)
        np_buf_appendf(&b, "%s\n", lines[i]);
    np_buf_appendf(&b, "observed:%016llx", (unsigned long long)observed_fp);
    char hex[65];
    sha256(hex, b.data, b.len);
    np_buf_clean_up(&b);
    return np_strdupf("sha256:%s", hex);
}
