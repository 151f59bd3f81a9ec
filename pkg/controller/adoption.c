/*
 * CloudAccount.spec.adoption: which existing AWS resources the postures on an account may
 * adopt. Omitted, any resource no other posture owns; allowed: false refuses all; a selector
 * admits only resources listed by id or carrying every one of its tags.
 */
#include "controller/private/controller_private.h"

#include <stdlib.h>

/* Whether the resource (id, tags) matches spec.adoption.selector. */
static bool selector_admits(json_object *sel, const char *id, const struct np_aws_tag *tags,
                            size_t n)
{
    json_object *ids = np_json_path(sel, "ids", NP_JSON_END);
    size_t n_ids = json_object_is_type(ids, json_type_array) ? json_object_array_length(ids) : 0;
    for (size_t i = 0; i < n_ids; i++)
        if (np_str_eq(json_object_get_string(json_object_array_get_idx(ids, i)), id))
            return true;
    json_object *want = np_json_path(sel, "tags", NP_JSON_END);
    if (!json_object_is_type(want, json_type_object) || json_object_object_length(want) == 0)
        return false;
    json_object_object_foreach(want, k, v)
    {
        if (!np_str_eq(np_aws_tag_get(tags, n, k), json_object_get_string(v)))
            return false;
    }
    return true;
}

int np_controller_adoption_check(struct np_controller *ctl, const char *account, const char *id,
                                 const struct np_aws_tag *tags, size_t n, char **why)
{
    *why = NULL;
    json_object *acct = NULL;
    if (np_kube_store_get(np_kube_informer_store(ctl->acct_inf), &acct, account) != 0) {
        *why = np_strdupf("CloudAccount \"%s\" is not known: no adoption", account);
        return 0;
    }
    json_object *adoption = np_json_path(acct, "spec", "adoption", NP_JSON_END);
    json_object *allowed = np_json_path(adoption, "allowed", NP_JSON_END);
    json_object *sel = np_json_path(adoption, "selector", NP_JSON_END);
    if (allowed && !json_object_get_boolean(allowed))
        *why = np_strdupf("CloudAccount \"%s\" allows no adoption (spec.adoption.allowed: false)",
                          account);
    else if (sel && !selector_admits(sel, id, tags, n))
        *why = np_strdupf("%s is not in the adoption selector of CloudAccount \"%s\" "
                          "(spec.adoption.selector)",
                          id, account);
    json_object_put(acct);
    return 0;
}

bool np_pass_adoption_refused(struct np_pass *p, const char *id, const struct np_aws_tag *tags,
                              size_t n, struct np_result *res)
{
    const char *account = p->kind->account(p) ? p->kind->account(p) : NP_POSTURE_DEFAULT_ACCOUNT;
    char *why = NULL;
    np_controller_adoption_check(p->ctl, account, id, tags, n, &why);
    if (!why)
        return false;
    np_pass_stop(p, NP_REASON_ADOPTION_NOT_ALLOWED, why);
    np_pass_synced(p);
    res->requeue_after_ms = 60 * 1000; /* CloudAccount changes requeue us at once */
    return true;
}
