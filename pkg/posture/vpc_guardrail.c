/*
 * Guardrails of VPC postures: the declared network ACL entries, flow logs and default
 * security group checked against PostureGuardrail rules (deny rules on networkAcls, require
 * rules), and the drift of a VPC delta they forbid marked so that it is repaired first and
 * skips grace, exceptions and flapping.
 */
#include "posture/private/posture_private.h"

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- check */

void np_posture_vpc_violations_free(struct np_posture_vpc_violation *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i].what);
    free(v);
}

static void add_violation(struct np_posture_vpc_violation **out, size_t *n,
                          const struct np_posture_guardrail *g,
                          const struct np_posture_guardrail_rule *gr, char *what)
{
    *out = np_xrealloc(*out, (*n + 1) * sizeof(**out));
    (*out)[(*n)++] = (struct np_posture_vpc_violation){g, gr, what};
}

/* "networkAcl/public ingress 100 allow tcp 22 0.0.0.0/0" (owned). */
static char *entry_where(const char *acl, const struct np_posture_nacl_entry *e)
{
    char *key = np_posture_nacl_entry_key(e);
    char *text = np_posture_nacl_entry_text(e);
    char *what = np_strdupf("networkAcl/%s %s %s", acl, key, text);
    free(key);
    free(text);
    return what;
}

/* Violations of the allow entries of a network ACL, in entry order then guardrail order. */
static void check_entries(struct np_posture_vpc_violation **out, size_t *n,
                          const struct np_posture_guardrail *const *guardrails, size_t n_guardrails,
                          const char *ns, const char *name,
                          const struct np_posture_network_acl_spec *acl)
{
    for (size_t j = 0; j < acl->n_entries; j++) {
        struct np_posture_rule r = {0};
        if (!np_posture_nacl_entry_rule(&acl->entries[j], &r))
            continue;
        for (size_t g = 0; g < n_guardrails; g++) {
            for (size_t k = 0; guardrails[g] && k < guardrails[g]->n_rules; k++) {
                const struct np_posture_guardrail_rule *gr = &guardrails[g]->rules[k];
                if (!(gr->resources & NP_POSTURE_GUARDRAIL_NETWORK_ACLS) ||
                    !np_posture_guardrail_deny_matches(gr, &r) ||
                    np_posture_guardrail_exempts(gr, ns, name))
                    continue;
                add_violation(out, n, guardrails[g], gr, entry_where(acl->name, &acl->entries[j]));
            }
        }
        np_posture_rule_clean_up(&r);
    }
}

int np_posture_vpc_guardrail_check(struct np_posture_vpc_violation **out, size_t *n,
                                   const struct np_posture_guardrail *const *guardrails,
                                   size_t n_guardrails, const char *ns, const char *name,
                                   const struct np_posture_vpc_spec *spec)
{
    *out = NULL;
    *n = 0;
    if (!guardrails || !spec)
        return 0;
    for (size_t i = 0; i < spec->n_network_acls; i++)
        check_entries(out, n, guardrails, n_guardrails, ns, name, &spec->network_acls[i]);
    bool flow_logs = spec->has_flow_logs && spec->flow_logs.enabled;
    /* Flow logs first, then the default group: two passes keep that order for any guardrails. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t g = 0; g < n_guardrails; g++) {
            for (size_t k = 0; guardrails[g] && k < guardrails[g]->n_rules; k++) {
                const struct np_posture_guardrail_rule *gr = &guardrails[g]->rules[k];
                bool broken = pass == 0
                                  ? gr->require_flow_logs && !flow_logs
                                  : gr->require_default_sg_restricted && !spec->restrict_default_sg;
                if (!broken || np_posture_guardrail_exempts(gr, ns, name))
                    continue;
                add_violation(out, n, guardrails[g], gr,
                              np_strdup(pass == 0 ? "flowLogs not enabled"
                                                  : "defaultSecurityGroup not restricted"));
            }
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- mark */

bool np_posture_vpc_guardrail_forbids(const struct np_posture_guardrail_rule *gr,
                                      const struct np_posture_drift *d)
{
    if (!gr || !d || !d->vpc)
        return false;
    const struct np_posture_vpc_drift *v = d->vpc;
    switch (v->item) {
    case NP_POSTURE_VPC_ITEM_FLOW_LOG:
        return d->change == NP_POSTURE_MISSING && gr->require_flow_logs;
    case NP_POSTURE_VPC_ITEM_DEFAULT_SG:
        return d->change == NP_POSTURE_EXTRA && (gr->require_default_sg_restricted ||
                                                 np_posture_guardrail_rule_matches(gr, &d->rule));
    case NP_POSTURE_VPC_ITEM_NACL_ENTRY: {
        if (!(gr->resources & NP_POSTURE_GUARDRAIL_NETWORK_ACLS) ||
            (d->change != NP_POSTURE_EXTRA && d->change != NP_POSTURE_CHANGED))
            return false;
        struct np_posture_rule r = {0};
        if (!np_posture_nacl_entry_rule(
                d->change == NP_POSTURE_CHANGED ? &v->have_entry : &v->entry, &r))
            return false;
        bool forbidden = np_posture_guardrail_deny_matches(gr, &r);
        np_posture_rule_clean_up(&r);
        return forbidden;
    }
    default: return false;
    }
}

static bool forbidden(const struct np_posture_guardrail *const *guardrails, size_t n_guardrails,
                      const char *ns, const char *name, const struct np_posture_drift *d)
{
    for (size_t g = 0; g < n_guardrails; g++)
        for (size_t k = 0; guardrails[g] && k < guardrails[g]->n_rules; k++)
            if (np_posture_vpc_guardrail_forbids(&guardrails[g]->rules[k], d) &&
                !np_posture_guardrail_exempts(&guardrails[g]->rules[k], ns, name))
                return true;
    return false;
}

/* Where an item sits in a VPC delta: the diff's order (pieces by section and spec index;
 * inside a piece attributes, routes or entries, associations, tags; entries by identity). */
static int section(const struct np_posture_vpc_drift *v)
{
    static const char *const prefixes[] = {"vpc",         "subnet/",  "routeTable/",
                                           "networkAcl/", "flowLogs", "defaultSecurityGroup"};
    for (size_t i = 0; v->piece && i < NP_ARRAY_LEN(prefixes); i++)
        if (np_str_has_prefix(v->piece, prefixes[i]))
            return (int)i;
    return -1;
}

static int place_in_piece(enum np_posture_vpc_item item)
{
    switch (item) {
    case NP_POSTURE_VPC_ITEM_ROUTE:
    case NP_POSTURE_VPC_ITEM_NACL_ENTRY: return 1;
    case NP_POSTURE_VPC_ITEM_ROUTE_ASSOC:
    case NP_POSTURE_VPC_ITEM_NACL_ASSOC: return 2;
    case NP_POSTURE_VPC_ITEM_TAG: return 3;
    default: return 0;
    }
}

static int delta_order(const struct np_posture_drift *a, const struct np_posture_drift *b)
{
    const struct np_posture_vpc_drift *x = a->vpc, *y = b->vpc;
    if (!x || !y)
        return x ? 1 : y ? -1 : 0;
    int c = section(x) - section(y);
    if (c == 0)
        c = x->piece_index - y->piece_index;
    if (c == 0)
        c = place_in_piece(x->item) - place_in_piece(y->item);
    if (c == 0 && x->item == NP_POSTURE_VPC_ITEM_NACL_ENTRY && y->item == x->item)
        c = np_posture_nacl_entry_identity_cmp(&x->entry, &y->entry);
    return c;
}

/* Inserts a moved item where the delta's order puts it. */
static void insert_item(struct np_posture_delta *delta, struct np_posture_drift *it)
{
    size_t pos = delta->n;
    for (size_t i = 0; i < delta->n; i++) {
        if (delta_order(&delta->items[i], it) > 0) {
            pos = i;
            break;
        }
    }
    np_posture_delta_add(delta);
    memmove(&delta->items[pos + 1], &delta->items[pos],
            (delta->n - 1 - pos) * sizeof(*delta->items));
    delta->items[pos] = *it;
}

static bool declared(const struct np_posture_network_acl_spec *acl,
                     const struct np_posture_nacl_entry *e)
{
    for (size_t j = 0; j < acl->n_entries; j++)
        if (np_posture_nacl_entry_identity_cmp(&acl->entries[j], e) == 0)
            return true;
    return false;
}

/* With Additive ownership: observed allow entries of network ACL i that are not declared and
 * that a guardrail forbids, added as guardrail-marked Extra items. */
static void add_forbidden_entries(struct np_posture_delta *delta,
                                  const struct np_posture_vpc_spec *spec,
                                  const struct np_posture_vpc_observed *observed, size_t i,
                                  const struct np_posture_guardrail *const *guardrails,
                                  size_t n_guardrails, const char *ns, const char *name)
{
    const struct np_posture_network_acl_observed *o = &observed->network_acls[i];
    const struct np_posture_network_acl_spec *acl = &spec->network_acls[i];
    if (!o->present || !o->network_acl_id)
        return;
    size_t n_have = 0;
    struct np_posture_nacl_entry *have = np_posture_vpc_observed_entries(o, &n_have);
    for (size_t j = 0; j < n_have; j++) {
        if (declared(acl, &have[j]))
            continue;
        struct np_posture_drift it = {.change = NP_POSTURE_EXTRA};
        struct np_posture_vpc_drift *v = np_xcalloc(1, sizeof(*v));
        it.vpc = v;
        v->item = NP_POSTURE_VPC_ITEM_NACL_ENTRY;
        v->piece = np_strdupf("networkAcl/%s", acl->name);
        v->piece_index = (int)i;
        v->resource_id = np_strdup(o->network_acl_id);
        v->key = np_posture_nacl_entry_key(&have[j]);
        np_posture_nacl_entry_copy(&v->entry, &have[j]);
        np_posture_nacl_entry_rule(&have[j], &it.rule);
        bool known = false;
        for (size_t k = 0; k < delta->n && !known; k++) {
            struct np_posture_drift *d = &delta->items[k];
            known = d->vpc && d->change == NP_POSTURE_EXTRA && delta_order(d, &it) == 0;
        }
        if (!known && forbidden(guardrails, n_guardrails, ns, name, &it)) {
            it.guardrail = true;
            insert_item(delta, &it);
        } else {
            np_posture_drift_clean_up(&it);
        }
    }
    for (size_t j = 0; j < n_have; j++)
        np_posture_nacl_entry_clean_up(&have[j]);
    free(have);
}

int np_posture_vpc_guardrail_mark(struct np_posture_delta *delta,
                                  const struct np_posture_vpc_spec *spec,
                                  const struct np_posture_vpc_observed *observed,
                                  const struct np_posture_guardrail *const *guardrails,
                                  size_t n_guardrails, const char *ns, const char *name)
{
    if (!delta || !guardrails || n_guardrails == 0)
        return 0;
    for (size_t i = 0; i < delta->n; i++)
        if (forbidden(guardrails, n_guardrails, ns, name, &delta->items[i]))
            delta->items[i].guardrail = true;
    if (!spec || spec->ownership != NP_POSTURE_ADDITIVE || !observed || !observed->vpc_id ||
        !observed->network_acls)
        return 0;
    for (size_t i = 0; i < spec->n_network_acls; i++)
        add_forbidden_entries(delta, spec, observed, i, guardrails, n_guardrails, ns, name);
    return 0;
}
