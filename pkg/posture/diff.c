/*
 * Diff and fingerprint: desired vs observed atomic rules and tags become drift items (with
 * ownership deciding what undeclared rules and tags mean), drift items get their status
 * text, and an observed group gets an order-independent 64-bit fingerprint.
 */
#include "posture/private/posture_private.h"

#include <stdlib.h>
#include <string.h>

const char *np_posture_change_name(enum np_posture_change c)
{
    static const char *const names[] = {"Missing",    "Extra",      "DescriptionChanged",
                                        "TagMissing", "TagChanged", "TagExtra",
                                        "Changed"};
    return (size_t)c < NP_ARRAY_LEN(names) ? names[c] : "Unknown";
}

struct np_posture_drift *np_posture_delta_add(struct np_posture_delta *d)
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
        if (tags[i].key && strcmp(tags[i].key, key) == 0)
            return &tags[i];
    return NULL;
}

static int drift_tag_cmp(const void *a, const void *b)
{
    const struct np_posture_drift *x = a, *y = b;
    return strcmp(x->tag.key, y->tag.key);
}

void np_posture_delta_add_rule(struct np_posture_delta *d, enum np_posture_change change,
                               const struct np_posture_rule *r)
{
    struct np_posture_drift *it = np_posture_delta_add(d);
    it->change = change;
    np_posture_rule_copy(&it->rule, r);
}

static void diff_rules(struct np_posture_delta *out, const struct np_posture_ruleset *desired,
                       const struct np_posture_ruleset *observed,
                       enum np_posture_ownership ownership)
{
    /* Both sets are sorted by identity and unique: a merge walk. */
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
            np_posture_delta_add_rule(out, NP_POSTURE_MISSING, &desired->rules[i++]);
        } else if (c > 0) {
            if (ownership == NP_POSTURE_EXCLUSIVE)
                np_posture_delta_add_rule(out, NP_POSTURE_EXTRA, &observed->rules[j]);
            j++;
        } else {
            const char *want = desired->rules[i].description;
            const char *have = observed->rules[j].description;
            if (!np_str_eq(want ? want : "", have ? have : "")) {
                np_posture_delta_add_rule(out, NP_POSTURE_DESCRIPTION, &desired->rules[i]);
                out->items[out->n - 1].observed_description = np_strdup(have);
            }
            i++;
            j++;
        }
    }
}

void np_posture_diff_tags(struct np_posture_delta *out, const struct np_posture_tag *want,
                          size_t n_want, const struct np_posture_tag *have, size_t n_have,
                          enum np_posture_ownership ownership)
{
    size_t first = out->n;
    for (size_t k = 0; k < n_want; k++) {
        if (!want[k].key || np_posture_tag_is_reserved(want[k].key))
            continue;
        const char *value = want[k].value ? want[k].value : "";
        const struct np_posture_tag *h = find_tag(have, n_have, want[k].key);
        if (h && np_str_eq(h->value ? h->value : "", value))
            continue;
        struct np_posture_drift *it = np_posture_delta_add(out);
        it->change = h ? NP_POSTURE_TAG_CHANGED : NP_POSTURE_TAG_MISSING;
        it->tag.key = np_strdup(want[k].key);
        it->tag.value = np_strdup(value);
        it->observed_value = h ? np_strdup(h->value ? h->value : "") : NULL;
    }
    if (ownership == NP_POSTURE_EXCLUSIVE) {
        for (size_t k = 0; k < n_have; k++) {
            if (!have[k].key || np_posture_tag_is_reserved(have[k].key) ||
                find_tag(want, n_want, have[k].key))
                continue;
            struct np_posture_drift *it = np_posture_delta_add(out);
            it->change = NP_POSTURE_TAG_EXTRA;
            it->tag.key = np_strdup(have[k].key);
            it->tag.value = np_strdup(have[k].value ? have[k].value : "");
        }
    }
    if (out->n - first > 1)
        qsort(out->items + first, out->n - first, sizeof(*out->items), drift_tag_cmp);
}

int np_posture_diff(struct np_posture_delta *out, const struct np_posture_ruleset *desired,
                    const struct np_posture_ruleset *observed, const struct np_posture_tag *want,
                    size_t n_want, const struct np_posture_tag *have, size_t n_have,
                    enum np_posture_ownership ownership)
{
    memset(out, 0, sizeof(*out));
    diff_rules(out, desired, observed, ownership);
    np_posture_diff_tags(out, want, n_want, have, n_have, ownership);
    return 0;
}

void np_posture_drift_clean_up(struct np_posture_drift *it)
{
    np_posture_rule_clean_up(&it->rule);
    free(it->observed_description);
    free(it->tag.key);
    free(it->tag.value);
    free(it->observed_value);
    np_posture_vpc_drift_free(it->vpc);
    memset(it, 0, sizeof(*it));
}

void np_posture_drift_copy(struct np_posture_drift *dst, const struct np_posture_drift *src)
{
    dst->change = src->change;
    np_posture_rule_copy(&dst->rule, &src->rule);
    dst->observed_description = np_strdup(src->observed_description);
    dst->tag.key = np_strdup(src->tag.key);
    dst->tag.value = np_strdup(src->tag.value);
    dst->observed_value = np_strdup(src->observed_value);
    dst->guardrail = src->guardrail;
    dst->vpc = np_posture_vpc_drift_dup(src->vpc);
}

void np_posture_delta_clean_up(struct np_posture_delta *d)
{
    for (size_t i = 0; i < d->n; i++)
        np_posture_drift_clean_up(&d->items[i]);
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
    if (d->vpc)
        return d->vpc->piece ? d->vpc->piece : "";
    return is_tag_change(d->change) ? "tags" : np_posture_direction_name(d->rule.direction);
}

char *np_posture_drift_text(const struct np_posture_drift *d)
{
    if (d->vpc)
        return np_posture_vpc_drift_text(d);
    if (!is_tag_change(d->change))
        return np_posture_rule_text(&d->rule);
    struct np_buf b = NP_BUF_INIT;
    np_posture_put_escaped(&b, d->tag.key, false);
    np_buf_putc(&b, '=');
    np_posture_put_escaped(&b, d->tag.value, false);
    return np_buf_take(&b);
}

static bool vpc_drift_same(const struct np_posture_drift *a, const struct np_posture_drift *b)
{
    const struct np_posture_vpc_drift *x = a->vpc, *y = b->vpc;
    if (x->item != y->item || x->piece_kind != y->piece_kind || !np_str_eq(x->piece, y->piece))
        return false;
    switch (x->item) {
    case NP_POSTURE_VPC_ITEM_TAG: return np_str_eq(a->tag.key, b->tag.key);
    case NP_POSTURE_VPC_ITEM_DEFAULT_SG: return np_posture_rule_cmp(&a->rule, &b->rule) == 0;
    default: return np_str_eq(x->key, y->key);
    }
}

bool np_posture_drift_same(const struct np_posture_drift *a, const struct np_posture_drift *b)
{
    if (a->change != b->change || !a->vpc != !b->vpc)
        return false;
    if (a->vpc)
        return vpc_drift_same(a, b);
    if (is_tag_change(a->change))
        return np_str_eq(a->tag.key, b->tag.key);
    return np_posture_rule_cmp(&a->rule, &b->rule) == 0;
}

/* ---------------------------------------------------------------- fingerprint */

/* Hashes s and a terminating NUL, so adjacent fields never run together. */
static uint64_t fnv_str(uint64_t h, const char *s)
{
    const char *t = s ? s : "";
    return np_fnv1a64(t, strlen(t) + 1, h);
}

/* Hashes the 8 bytes of v, least significant first. */
static uint64_t fnv_int(uint64_t h, int64_t v)
{
    uint64_t u = (uint64_t)v;
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)((u >> (8 * i)) & 0xff);
    return np_fnv1a64(b, sizeof(b), h);
}

/* Identity, then description: a total order over everything the fingerprint covers. */
static int rule_full_cmp(const void *x, const void *y)
{
    const struct np_posture_rule *a = *(const struct np_posture_rule *const *)x;
    const struct np_posture_rule *b = *(const struct np_posture_rule *const *)y;
    int c = np_posture_rule_cmp(a, b);
    if (c)
        return c;
    return strcmp(a->description ? a->description : "", b->description ? b->description : "");
}

static int tag_full_cmp(const void *x, const void *y)
{
    const struct np_posture_tag *a = *(const struct np_posture_tag *const *)x;
    const struct np_posture_tag *b = *(const struct np_posture_tag *const *)y;
    int c = strcmp(a->key ? a->key : "", b->key ? b->key : "");
    if (c)
        return c;
    return strcmp(a->value ? a->value : "", b->value ? b->value : "");
}

uint64_t np_posture_fingerprint(const struct np_posture_ruleset *observed,
                                const struct np_posture_tag *tags, size_t n_tags)
{
    size_t n_rules = observed ? observed->n : 0;
    const struct np_posture_rule **rules = np_xcalloc(n_rules ? n_rules : 1, sizeof(*rules));
    const struct np_posture_tag **sorted = np_xcalloc(n_tags ? n_tags : 1, sizeof(*sorted));
    for (size_t i = 0; i < n_rules; i++)
        rules[i] = &observed->rules[i];
    for (size_t i = 0; i < n_tags; i++)
        sorted[i] = &tags[i];
    qsort(rules, n_rules, sizeof(*rules), rule_full_cmp);
    qsort(sorted, n_tags, sizeof(*sorted), tag_full_cmp);
    uint64_t h = NP_FNV1A64_OFFSET;
    h = fnv_int(h, (int64_t)n_rules);
    for (size_t i = 0; i < n_rules; i++) {
        const struct np_posture_rule *r = rules[i];
        h = fnv_int(h, r->direction);
        h = fnv_str(h, r->protocol);
        h = fnv_int(h, r->from_port);
        h = fnv_int(h, r->to_port);
        h = fnv_int(h, r->peer_kind);
        h = fnv_str(h, r->peer);
        h = fnv_int(h, r->description != NULL);
        h = fnv_str(h, r->description);
    }
    h = fnv_int(h, (int64_t)n_tags);
    for (size_t i = 0; i < n_tags; i++) {
        h = fnv_str(h, sorted[i]->key);
        h = fnv_str(h, sorted[i]->value);
    }
    free(rules);
    free(sorted);
    return h;
}
