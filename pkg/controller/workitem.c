/*
 * Work items: the table of the kinds the workers reconcile (queue token, Kubernetes kind,
 * reconcile function), the text form the workqueue deduplicates, and the dispatch.
 */
#include "controller/private/controller_private.h"

#include <stdlib.h>
#include <string.h>

struct work_kind {
    const char *token; /* the queue text's prefix before ':' */
    const char *name;  /* the Kubernetes kind */
    int (*reconcile)(struct np_controller *ctl, const char *key, struct np_controller_result *res);
};

static const struct work_kind kinds[NP_CONTROLLER_WORK_KIND_COUNT] = {
    [NP_CONTROLLER_WORK_SGP] = {"sgp", "SecurityGroupPosture", np_controller_reconcile_sgp},
    [NP_CONTROLLER_WORK_VPCP] = {"vpcp", "VPCPosture", np_controller_reconcile_vpcp},
    [NP_CONTROLLER_WORK_ACCOUNT] = {"account", "CloudAccount", np_controller_reconcile_account},
    [NP_CONTROLLER_WORK_GUARDRAIL] = {"guardrail", "PostureGuardrail",
                                      np_controller_reconcile_guardrail},
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
