/*
 * Which AWS object a posture manages: the find-or-create ladder shared by the kinds (adopt
 * the declared id, else ours by status id and uid tag, else create in Enforce mode), and
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

bool np_controller_pass_adoption_refused(struct np_controller_pass *p, const char *id,
                                         const struct np_aws_tag *tags, size_t n,
                                         struct np_controller_result *res)
{
    const char *account = p->kind->account(p) ? p->kind->account(p) : NP_POSTURE_DEFAULT_ACCOUNT;
    char *why = NULL;
    np_controller_adoption_check(p->ctl, account, id, tags, n, &why);
    if (!why)
        return false;
    np_controller_pass_stop(p, NP_CONTROLLER_REASON_ADOPTION_NOT_ALLOWED, why);
    np_controller_pass_synced(p);
    res->requeue_after_ms = 60 * 1000; /* CloudAccount changes requeue us at once */
    return true;
}

/* ---------------------------------------------------------------- the ladder */

/* Whether a uid tag marks the object for another posture (re-tagged: not ours any more). */
static bool uid_is_other(struct np_controller_pass *p,
                         const struct np_controller_pass_object_ops *ops)
{
    const struct np_aws_tag *tags = NULL;
    size_t n = 0;
    ops->found(p, &tags, &n);
    const char *uid = np_aws_tag_get(tags, n, NP_POSTURE_TAG_UID);
    return uid && !np_str_eq(uid, p->uid);
}

/* The Adopt rung: the declared id must exist, belong to no other posture and be admitted by
 * the account's adoption policy; else Ready=False and nothing found. */
static int adopt(struct np_controller_pass *p, const struct np_controller_pass_object_ops *ops,
                 const char *adopt_id, bool enforce, struct np_controller_result *res)
{
    int rc = ops->read(p, adopt_id, false);
    if (rc == NP_ENOTFOUND) {
        np_controller_pass_stop(
            p, ops->not_found,
            np_strdupf("%s %s does not exist in %s", ops->noun, adopt_id, p->use.region_name));
        np_controller_pass_synced(p);
        res->requeue_after_ms = 60 * 1000;
        return 0;
    }
    if (rc)
        return rc;
    const struct np_aws_tag *tags = NULL;
    size_t n = 0;
    const char *id = ops->found(p, &tags, &n);
    const char *o = NULL;
    if (np_controller_pass_owned_by_other(p, tags, n, &o)) {
        np_controller_pass_stop(p, NP_CONTROLLER_REASON_ADOPTION_REFUSED,
                                np_strdupf("%s %s is owned by posture %s", ops->noun, id, o));
        np_controller_pass_synced(p);
        ops->forget(p);
        return 0;
    }
    if (np_controller_pass_adoption_refused(p, id, tags, n, res)) {
        ops->forget(p);
        return 0;
    }
    return enforce && ops->adopted ? ops->adopted(p) : 0;
}

/* The status rung: the id our last status recorded, unless another posture's uid marks it
 * now. NP_EAGAIN when the kind defers (the region's first poll brings it). */
static int by_status(struct np_controller_pass *p, const struct np_controller_pass_object_ops *ops,
                     const char *id)
{
    int rc = ops->read(p, id, true);
    if (rc == NP_EAGAIN)
        return rc;
    if (rc && rc != NP_ENOTFOUND)
        return rc;
    if (ops->found(p, NULL, NULL) && uid_is_other(p, ops))
        ops->forget(p);
    return 0;
}

/* The status and uid rungs, in the kind's order; 0 with or without an object found. */
static int find_ours(struct np_controller_pass *p, const struct np_controller_pass_object_ops *ops,
                     bool enforce)
{
    const char *status_id = np_json_path_str(p->old_status, p->kind->id_key, NP_JSON_END);
    int rc = 0;
    if (ops->uid_first) {
        rc = ops->find_by_uid(p, status_id, enforce);
        if (rc != NP_ENOTFOUND)
            return rc;
        rc = 0;
    }
    if (status_id && !ops->found(p, NULL, NULL))
        rc = by_status(p, ops, status_id);
    if (rc == 0 && !ops->uid_first && !ops->found(p, NULL, NULL)) {
        rc = ops->find_by_uid(p, status_id, enforce);
        if (rc == NP_ENOTFOUND)
            rc = 0;
    }
    return rc;
}

int np_controller_pass_find_or_create(struct np_controller_pass *p,
                                      const struct np_controller_pass_object_ops *ops,
                                      const char *adopt_id, enum np_posture_mode mode,
                                      struct np_controller_result *res)
{
    bool enforce = mode == NP_POSTURE_MODE_ENFORCE;
    if (adopt_id)
        return adopt(p, ops, adopt_id, enforce, res);
    int rc = find_ours(p, ops, enforce);
    if (rc == NP_EAGAIN && p->deferred)
        return 0; /* parked in the region: its first poll's end (or failure, or stop) enqueues
                     us again, so no timer (it would run the pass once more after that); any
                     other NP_EAGAIN (an AWS 5xx) is a failure, retried with backoff */
    if (rc || ops->found(p, NULL, NULL))
        return rc;
    if (!enforce) {
        np_controller_pass_stop(p, ops->not_found,
                                np_strdupf("no %s carries %s=%s and mode %s never creates one",
                                           ops->noun, NP_POSTURE_TAG_UID, p->uid,
                                           np_posture_mode_name(mode)));
        np_controller_pass_synced(p);
        /* The account's resync interval: a Detect posture looks again as often as a read. */
        res->requeue_after_ms = np_controller_region_resync_ms(p->use.region);
        return 0;
    }
    return ops->create(p, res);
}

struct np_aws_tag *np_controller_pass_tags_with_ownership(struct np_controller_pass *p,
                                                          char **owner, const char *piece,
                                                          const struct np_posture_tag *user,
                                                          size_t n_user, size_t *n)
{
    struct np_aws_tag *tags = np_xcalloc(3 + n_user, sizeof(*tags));
    *n = np_controller_pass_ownership_tags(p, owner, piece, tags);
    np_controller_tags_to_aws(tags + *n, user, n_user);
    *n += n_user;
    return tags;
}
