/*
 * Work items: the table of the kinds the workers reconcile (queue token, Kubernetes kind,
 * reconcile function), the text form the workqueue deduplicates, and the dispatch.
 */
#include "controller/private/controller_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct work_kind {
    const char *token; /* the queue text's prefix before ':' */
    const char *name;  /* the Kubernetes kind */
    int (*reconcile)(struct np_controller *ctl, const char *key, struct np_controller_result *res);
    bool (*park)(struct np_controller *ctl, const char *key); /* NULL: never parks */
};

static const struct work_kind kinds[NP_CONTROLLER_WORK_KIND_COUNT] = {
    [NP_CONTROLLER_WORK_SGP] = {"sgp", "SecurityGroupPosture", np_controller_reconcile_sgp,
                                np_controller_park_sgp},
    [NP_CONTROLLER_WORK_VPCP] = {"vpcp", "VPCPosture", np_controller_reconcile_vpcp, NULL},
    [NP_CONTROLLER_WORK_ACCOUNT] = {"account", "CloudAccount", np_controller_reconcile_account,
                                    NULL},
    [NP_CONTROLLER_WORK_GUARDRAIL] = {"guardrail", "PostureGuardrail",
                                      np_controller_reconcile_guardrail, NULL},
};

char *np_controller_work_item_text(enum np_controller_work_kind kind, const char *key)
{
    return np_strdupf("%s:%s", kinds[kind].token, key);
}

int np_controller_work_item_parse(const char *text, struct np_controller_work_item *out)
{
    const char *colon = text ? strchr(text, ':') : NULL;
    if (!colon || colon[1] == '\0')
        return np_error_set(NP_EINVAL, "work item \"%s\": want <kind>:<key>", text ? text : "");
    size_t len = (size_t)(colon - text);
    for (int k = 0; k < NP_CONTROLLER_WORK_KIND_COUNT; k++) {
        if (strlen(kinds[k].token) == len && memcmp(kinds[k].token, text, len) == 0) {
            out->kind = (enum np_controller_work_kind)k;
            out->key = colon + 1;
            return 0;
        }
    }
    return np_error_set(NP_EINVAL, "work item \"%s\": unknown kind", text);
}

const char *np_controller_work_kind_name(enum np_controller_work_kind kind)
{
    return (unsigned)kind < NP_CONTROLLER_WORK_KIND_COUNT ? kinds[kind].name : "Unknown";
}

int np_controller_work_item_reconcile(struct np_controller *ctl,
                                      const struct np_controller_work_item *w,
                                      struct np_controller_result *res)
{
    return kinds[w->kind].reconcile(ctl, w->key, res);
}

bool np_controller_work_item_park(struct np_controller *ctl,
                                  const struct np_controller_work_item *w)
{
    return kinds[w->kind].park && kinds[w->kind].park(ctl, w->key);
}

void np_controller_log_scope_begin(struct np_controller_log_scope *s,
                                   const struct np_controller_work_item *w)
{
    memset(s, 0, sizeof(*s));
    snprintf(s->id, sizeof(s->id), "%016llx", (unsigned long long)np_rand_below(UINT64_MAX));
    if (np_kube_key_split(w->key, &s->ns, &s->name) != 0)
        np_error_clear(); /* the reconcile reports the bad key; the line names it as given */
    const char *kv[] = {"reconcileID", s->id, "kind", np_controller_work_kind_name(w->kind),
                        "namespace",   s->ns, "name", s->name ? s->name : w->key};
    memcpy(s->kv, kv, sizeof(kv));
    np_log_context_set(s->kv, NP_ARRAY_LEN(kv) / 2);
}

void np_controller_log_scope_end(struct np_controller_log_scope *s)
{
    np_log_context_set(NULL, 0);
    free(s->ns);
    free(s->name);
    memset(s, 0, sizeof(*s));
}
