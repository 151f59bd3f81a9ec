/*
 * Diff and plan: desired vs observed atomic rules and tags become drift items, and drift
 * items become a make-before-break plan (authorize, describe, tag, revoke; guardrail
 * violations revoked first) with one stable text line per atomic change.
 */
#include "posture/private/posture_private.h"

#include <stdlib.h>
#include <string.h>

const char *np_posture_change_name(enum np_posture_change c)
{
    static const char *names[] = {"Missing",   "Extra",      "DescriptionChanged",
                                  "TagMissing", "TagChanged", "TagExtra"};
    return (size_t)c < NP_ARRAY_LEN(names) ? names[c] : "Unknown";
}

static struct np_posture_drift *add_item(struct np_posture_delta *d)
{
    d->items = np_xrealloc(d->items, (d->n + 1) * sizeof(*d->items));
    struct np_posture_drift *it = &d->items[d->n++];
    memset(it, 0, sizeof(*it));
    return it;
}

static const struct np_posture_tag *find_tag(const struct np_posture_tag *tags, size_t n,
                                             const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(tags[i].key, key) == 0)
            return &tags[i];
    return NULL;
}

static int tag_cmp(const void *a, const void *b)
{
    const struct np_posture_drift *x = a, *y = b;
    return strcmp(x->tag.key, y->tag.key);
}

int np_posture_diff(struct np_posture_delta *out, const struct np_posture_ruleset *desired,
                    const struct np_posture_ruleset *observed,
                    const struct np_posture_tag *want, size_t n_want,
                    const struct np_posture_tag *have, size_t n_have,
                    enum np_posture_ownership ownership)
{
    memset(out, 0, sizeof(*out));
    /* Both sets are sorted by identity: merge them. */
    size_t i = 0, j = 0;
    while (i < desired->n || j < observed->n) {
        int c;
        if (i >= desired->n)
            c = 1;
        else if (j >= observed->n)
            c = -1;
        else
            c = np_posture_rule_cmp(&desired->rules[i], &observed->rules[j]);
        if (c < 0) {
            struct np_posture_drift *it = add_item(out);
            it->change = NP_POSTURE_MISSING;
            np_posture_rule_copy(&it->rule, &desired->rules[i++]);
        } else if (c > 0) {
            if (ownership == NP_POSTURE_EXCLUSIVE) {
                struct np_posture_drift *it = add_item(out);
                it->change = NP_POSTURE_EXTRA;
                np_posture_rule_copy(&it->rule, &observed->rules[j]);
            }
            j++;
        } else {
            const char *dd = desired->rules[i].description;
            const char *od = observed->rules[j].description;
            if (!np_str_eq(dd ? dd : "", od ? od : "")) {
                struct np_posture_drift *it = add_item(out);
                it->change = NP_POSTURE_DESCRIPTION;
                np_posture_rule_copy(&it->rule, &desired->rules[i]);
                it->observed_description = np_strdup(od);
            }
            i++;
            j++;
        }
    }
    size_t first_tag = out->n;
    for (size_t k = 0; k < n_want; k++) {
        const struct np_posture_tag *h = find_tag(have, n_have, want[k].key);
        if (h && strcmp(h->value, want[k].value) == 0)
            continue;
        struct np_posture_drift *it = add_item(out);
        it->change = h ? NP_POSTURE_TAG_CHANGED : NP_POSTURE_TAG_MISSING;
        it->tag.key = np_strdup(want[k].key);
        it->tag.value = np_strdup(want[k].value);
        it->observed_value = h ? np_strdup(h->value) : NULL;
    }
    if (ownership == NP_POSTURE_EXCLUSIVE) {
        for (size_t k = 0; k < n_have; k++) {
            if (np_posture_tag_is_reserved(have[k].key) || find_tag(want, n_want, have[k].key))
                continue;
            struct np_posture_drift *it = add_item(out);
            it->change = NP_POSTURE_TAG_EXTRA;
            it->tag.key = np_strdup(have[k].key);
            it->tag.value = np_strdup(have[k].value);
        }
    }
    if (out->n - first_tag > 1)
        qsort(out->items + first_tag, out->n - first_tag, sizeof(*out->items), tag_cmp);
    return 0;
}

void np_posture_delta_clean_up(struct np_posture_delta *d)
{
    for (size_t i = 0; i < d->n; i++) {
        struct np_posture_drift *it = &d->items[i];
        np_posture_rule_clean_up(&it->rule);
        free(it->observed_description);
        free(it->tag.key);
        free(it->tag.value);
        free(it->observed_value);
    }
    free(d->items);
    d->items = NULL;
    d->n = 0;
}

static bool is_tag_change(enum np_posture_change c)
{
    return c == NP_POSTURE_TAG_MISSING || c == NP_POSTURE_TAG_CHANGED || c == NP_POSTURE_TAG_EXTRA;
}

const char *np_posture_drift_scope(const struct np_posture_drift *d)
{
    return is_tag_change(d->change) ? "tags" : np_posture_direction_name(d->rule.direction);
}

char *np_posture_drift_text(const struct np_posture_drift *d)
{
    if (is_tag_change(d->change))
        return np_strdupf("%s=%s", d->tag.key, d->tag.value ? d->tag.value : "");
    return np_posture_rule_text(&d->rule);
}

/* ---------------------------------------------------------------- plan */

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

static int action_rank(const struct np_posture_action *a)
{
    if (a->kind == NP_POSTURE_REVOKE && a->guardrail)
        return 0;
    return 1 + (int)a->kind * 2 + (int)a->direction;
}

static int action_cmp(const void *x, const void *y)
{
    return action_rank(x) - action_rank(y);
}

int np_posture_plan_build(struct np_posture_plan *out, const struct np_posture_delta *delta)
{
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < delta->n; i++) {
        const struct np_posture_drift *it = &delta->items[i];
        struct np_posture_action *a = NULL;
        switch (it->change) {
        case NP_POSTURE_MISSING:
            a = plan_action(out, NP_POSTURE_AUTHORIZE, it->rule.direction, false);
            break;
        case NP_POSTURE_EXTRA:
            a = plan_action(out, NP_POSTURE_REVOKE, it->rule.direction, it->guardrail);
            break;
        case NP_POSTURE_DESCRIPTION:
            a = plan_action(out, NP_POSTURE_DESCRIBE, it->rule.direction, false);
            break;
        case NP_POSTURE_TAG_MISSING:
        case NP_POSTURE_TAG_CHANGED:
        case NP_POSTURE_TAG_EXTRA: {
            enum np_posture_action_kind k =
                it->change == NP_POSTURE_TAG_EXTRA ? NP_POSTURE_TAG_DELETE : NP_POSTURE_TAG_SET;
            a = plan_action(out, k, NP_POSTURE_INGRESS, false);
            a->tags = np_xrealloc(a->tags, (a->n_tags + 1) * sizeof(*a->tags));
            a->tags[a->n_tags].key = np_strdup(it->tag.key);
            a->tags[a->n_tags].value = np_strdup(it->tag.value);
            a->n_tags++;
            continue;
        }
        }
        a->rules = np_xrealloc(a->rules, (a->n_rules + 1) * sizeof(*a->rules));
        np_posture_rule_copy(&a->rules[a->n_rules++], &it->rule);
    }
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

static void push_line(char ***lines, size_t *n, char *line)
{
    *lines = np_xrealloc(*lines, (*n + 2) * sizeof(char *));
    (*lines)[(*n)++] = line;
    (*lines)[*n] = NULL;
}

int np_posture_plan_text(char ***lines, size_t *count, const struct np_posture_plan *p)
{
    size_t n = 0;
    *lines = np_xcalloc(1, sizeof(char *));
    for (size_t i = 0; i < p->n; i++) {
        const struct np_posture_action *a = &p->actions[i];
        const char *dir = np_posture_direction_name(a->direction);
        for (size_t j = 0; j < a->n_rules; j++) {
            char *rule = np_posture_rule_text(&a->rules[j]);
            char *line = NULL;
            switch (a->kind) {
            case NP_POSTURE_AUTHORIZE: line = np_strdupf("authorize %s %s", dir, rule); break;
            case NP_POSTURE_REVOKE: line = np_strdupf("revoke %s %s", dir, rule); break;
            default:
                line = np_strdupf("describe %s %s \"%s\"", dir, rule,
                                  a->rules[j].description ? a->rules[j].description : "");
                break;
            }
            free(rule);
            push_line(lines, &n, line);
        }
        for (size_t j = 0; j < a->n_tags; j++) {
            if (a->kind == NP_POSTURE_TAG_SET)
                push_line(lines, &n, np_strdupf("tag set %s=%s", a->tags[j].key, a->tags[j].value));
            else
                push_line(lines, &n, np_strdupf("tag delete %s", a->tags[j].key));
        }
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

enum np_posture_decision np_posture_decide(enum np_posture_mode mode, size_t plan_count,
                                           int max_changes)
{
    if (mode == NP_POSTURE_MODE_DETECT)
        return NP_POSTURE_DECIDE_REPORT;
    if (mode == NP_POSTURE_MODE_PROPOSE)
        return NP_POSTURE_DECIDE_HOLD;
    if (max_changes > 0 && plan_count > (size_t)max_changes)
        return NP_POSTURE_DECIDE_HOLD;
    return NP_POSTURE_DECIDE_APPLY;
}
