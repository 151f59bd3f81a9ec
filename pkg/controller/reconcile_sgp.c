/*
 * Reconcile of one SecurityGroupPosture: get from the store, finalizer, parse, account,
 * find / create / adopt the group, observe (snapshot), normalise, diff, plan, decide by
 * mode, apply make-before-break, verify by reading again, then status (only if changed) and
 * Events. Deletion honours the deletion policy. Level-based: every call starts from scratch.
 */
#include "controller/private/controller_private.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DRIFT_ITEMS 50
#define NP_ANNOTATION_RETRY_CONTESTED "netposture.dev/retry-contested"
#define NP_ANNOTATION_APPROVE_PLAN "netposture.dev/approve-plan"
/* Repaired drift items stay in status.drift for this long, so humans see what was fixed. */
#define RESOLVED_RETENTION_MS (60LL * 60 * 1000)
#define MAX_PLAN_LINES 200

/* Everything one reconcile learns, turned into status at the end. */
struct rctx {
    struct np_controller *ctl;
    const char *key;
    char *ns;
    char *name;
    json_object *obj; /* owned copy from the store */
    json_object *old_status;
    const char *uid;
    int64_t generation;
    int64_t now;
    struct np_kube_object_ref ref;
    struct np_posture_sg_spec *spec;
    struct np_account_use use;
    struct np_aws_sg *sg; /* observed group (owned) */
    char *group_id;
    char *vpc_id;
    /* Conditions. */
    const char *ready_status;
    const char *ready_reason;
    char *ready_msg;
    const char *synced_status;
    const char *synced_reason;
    char *synced_msg;
    const char *drifted_status;
    const char *drifted_reason;
    char *drifted_msg;
    /* Drift and actions. */
    json_object *drift_items; /* array (owned) */
    int drift_count;          /* items that differ now */
    bool diffed;              /* the drift was computed in this pass (else keep the old list) */
    bool remediated;
    json_object *plan; /* status.plan (owned) or NULL */
    struct np_guardrail_set guardrails;
    const char *compliant_status; /* the Compliant condition, when guardrails were checked */
    const char *compliant_reason;
    char *compliant_msg;
    const char *contested_status; /* the Contested condition */
    const char *contested_reason;
    char *contested_msg;
    bool reset_contested;  /* spec changed or retry-contested annotation: forget flapping */
    bool spec_changed;     /* this generation was never converged: differences are the spec */
    bool deferred;         /* waiting for the region's first poll: no status write */
    bool consume_approval; /* an approved plan was applied: drop the annotation */
    char *event_actor;     /* from a CloudTrail event hint for the group, or NULL */
    char *event_name;      /* the hint's API call, or NULL */
    int64_t event_ms;      /* the hint's event time, 0 without one */
};

static void set_ready(struct rctx *r, const char *status, const char *reason, char *msg)
{
    r->ready_status = status;
    r->ready_reason = reason;
    free(r->ready_msg);
    r->ready_msg = msg;
}

static void set_synced(struct rctx *r, bool ok, char *msg)
{
    r->synced_status = ok ? "True" : "False";
    r->synced_reason = ok ? "Synced" : "AWSError";
    free(r->synced_msg);
    r->synced_msg = msg;
}

static void emit(struct rctx *r, const char *type, const char *reason, const char *action,
                 const char *note)
{
    if (np_kube_recorder_emit(r->ctl->recorder, &r->ref, type, reason, action, note) != 0)
        np_log_warn("cannot record event", "namespace", r->ns, "name", r->name, "reason", reason,
                    "error", np_error_message());
}

/* ---------------------------------------------------------------- status */

/* The item of a status drift list (an array, or NULL) with this direction, change and rule. */
static json_object *find_item(json_object *items, const char *direction, const char *change,
                              const char *rule)
{
    size_t n =
        items && json_object_is_type(items, json_type_array) ? json_object_array_length(items) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *it = json_object_array_get_idx(items, i);
        if (np_str_eq(np_json_path_str(it, "direction", NP_JSON_END), direction) &&
            np_str_eq(np_json_path_str(it, "change", NP_JSON_END), change) &&
            np_str_eq(np_json_path_str(it, "rule", NP_JSON_END), rule))
            return it;
    }
    return NULL;
}

static json_object *old_drift_item(struct rctx *r, const char *direction, const char *change,
                                   const char *rule)
{
    return find_item(np_json_path(r->old_status, "drift", "items", NP_JSON_END), direction, change,
                     rule);
}

static bool is_resolved_state(const char *state)
{
    return np_str_eq(state, "Revoked") || np_str_eq(state, "Authorized") ||
           np_str_eq(state, "Updated") || np_str_eq(state, "Tagged");
}

/* What a status drift item says besides its identity. */
struct item_info {
    int64_t first_seen_ms;
    const char *state;
    int64_t until_ms; /* Pending: repair time; Excepted: the exception's expiry; 0: none */
    int occurrences;  /* > 1: the item came back (flapping history) */
    int64_t window_start_ms;
    const char *guardrail; /* "<guardrail>/<rule id>" for guardrail-violating drift */
    const char *actor;
};

static void put_item_time(json_object *it, const char *k, int64_t ms)
{
    char ts[40];
    np_time_format_rfc3339(ts, sizeof(ts), ms);
    json_object_object_add(it, k, json_object_new_string(ts));
}

/* Adds a drift item of this pass to the new status list (bounded; drift_count counts all). */
static void add_drift_item(struct rctx *r, const char *direction, const char *change,
                           const char *rule, const struct item_info *info)
{
    if (!r->drift_items)
        r->drift_items = json_object_new_array();
    r->drift_count++;
    if (json_object_array_length(r->drift_items) >= MAX_DRIFT_ITEMS)
        return;
    json_object *it = json_object_new_object();
    json_object_object_add(it, "direction", json_object_new_string(direction));
    json_object_object_add(it, "change", json_object_new_string(change));
    json_object_object_add(it, "rule", json_object_new_string(rule));
    put_item_time(it, "firstSeen", info->first_seen_ms);
    if (info->actor)
        json_object_object_add(it, "actor", json_object_new_string(info->actor));
    json_object_object_add(it, "state", json_object_new_string(info->state));
    if (info->until_ms > 0)
        put_item_time(it, "until", info->until_ms);
    if (is_resolved_state(info->state))
        put_item_time(it, "resolvedAt", r->now);
    if (info->occurrences > 1) {
        json_object_object_add(it, "occurrences", json_object_new_int(info->occurrences));
        put_item_time(it, "windowStart", info->window_start_ms);
    }
    if (info->guardrail)
        json_object_object_add(it, "guardrail", json_object_new_string(info->guardrail));
    json_object_array_add(r->drift_items, it);
}

/*
 * Carries repaired items of the previous status that are not drift again into the new list
 * until RESOLVED_RETENTION_MS after their repair.
 */
static void keep_resolved_items(struct rctx *r)
{
    json_object *items = np_json_path(r->old_status, "drift", "items", NP_JSON_END);
    if (!items || !json_object_is_type(items, json_type_array))
        return;
    size_t n = json_object_array_length(items);
    for (size_t i = 0; i < n; i++) {
        json_object *it = json_object_array_get_idx(items, i);
        int64_t at = 0;
        const char *resolved = np_json_path_str(it, "resolvedAt", NP_JSON_END);
        if (!is_resolved_state(np_json_path_str(it, "state", NP_JSON_END)) || !resolved ||
            np_time_parse_rfc3339(resolved, &at) != 0 || r->now - at > RESOLVED_RETENTION_MS)
            continue;
        if (find_item(r->drift_items, np_json_path_str(it, "direction", NP_JSON_END),
                      np_json_path_str(it, "change", NP_JSON_END),
                      np_json_path_str(it, "rule", NP_JSON_END)))
            continue;
        if (!r->drift_items)
            r->drift_items = json_object_new_array();
        if (json_object_array_length(r->drift_items) < MAX_DRIFT_ITEMS) {
            json_object *copy = NULL;
            if (json_object_deep_copy(it, &copy, NULL) == 0)
                json_object_array_add(r->drift_items, copy);
        }
    }
}

static void put_str(json_object *o, const char *k, const char *v)
{
    if (v)
        json_object_object_add(o, k, json_object_new_string(v));
}

static void put_time(json_object *o, const char *k, int64_t ms)
{
    char ts[40];
    np_time_format_rfc3339(ts, sizeof(ts), ms);
    json_object_object_add(o, k, json_object_new_string(ts));
}

/* Copies a member of the old status (a timestamp or counter we only move on events). */
static void keep_old(struct rctx *r, json_object *st, const char *k)
{
    json_object *v = np_json_path(r->old_status, k, NP_JSON_END);
    json_object *copy = NULL;
    if (v && json_object_deep_copy(v, &copy, NULL) == 0)
        json_object_object_add(st, k, copy);
}

/*
 * Puts the object our status patch returned into the informer's store, unless the store moved
 * on meanwhile: a reconcile of the same key right after this one (a key re-added while we
 * worked) must see the status just written, or it would rebuild the drift history from the
 * one before and lose it. The watch event of our write arrives later with the same version.
 */
static void remember_written(struct rctx *r, json_object *updated)
{
    struct np_kube_store *store = np_kube_informer_store(r->ctl->sgp_inf);
    char *key = np_strdupf("%s/%s", r->ns, r->name);
    json_object *cur = NULL;
    if (np_kube_store_get(store, &cur, key) == 0 &&
        np_str_eq(np_kube_object_resource_version(cur), np_kube_object_resource_version(r->obj))) {
        json_object *meta = np_json_path(updated, "metadata", NP_JSON_END);
        if (meta)
            json_object_object_del(meta, "managedFields");
        np_kube_store_apply(store, NP_KUBE_MODIFIED, updated, NULL);
    }
    json_object_put(cur);
    free(key);
}

static int write_status(struct rctx *r)
{
    int rc = 0;
    char *patch = NULL;
    json_object *st = json_object_new_object();
    json_object_object_add(st, "observedGeneration", json_object_new_int64(r->generation));
    if (np_str_eq(r->ready_status, "True"))
        json_object_object_add(st, "convergedGeneration", json_object_new_int64(r->generation));
    else
        keep_old(r, st, "convergedGeneration");
    if (r->group_id) {
        put_str(st, "groupId", r->group_id);
        put_str(st, "vpcId", r->vpc_id ? r->vpc_id : (r->sg ? r->sg->vpc_id : NULL));
        put_str(st, "accountId", r->sg ? r->sg->owner_id : NULL);
        put_str(st, "region", r->use.region_name);
    } else {
        /* Not looked at in this pass (refused, blocked, failed): keep what we knew, so the
         * group is still found for deletion, peers and events. */
        keep_old(r, st, "groupId");
        keep_old(r, st, "vpcId");
        keep_old(r, st, "accountId");
        keep_old(r, st, "region");
    }
    struct np_condition conds[5];
    size_t nc = 0;
    conds[nc++] =
        (struct np_condition){"Ready", r->ready_status ? r->ready_status : "Unknown",
                              r->ready_reason ? r->ready_reason : "Unknown", r->ready_msg};
    if (r->synced_status)
        conds[nc++] =
            (struct np_condition){"Synced", r->synced_status, r->synced_reason, r->synced_msg};
    if (r->drifted_status)
        conds[nc++] =
            (struct np_condition){"Drifted", r->drifted_status, r->drifted_reason, r->drifted_msg};
    if (r->contested_status)
        conds[nc++] = (struct np_condition){"Contested", r->contested_status, r->contested_reason,
                                            r->contested_msg};
    if (r->compliant_status)
        conds[nc++] = (struct np_condition){"Compliant", r->compliant_status, r->compliant_reason,
                                            r->compliant_msg};
    json_object_object_add(st, "conditions",
                           np_status_conditions(r->old_status, conds, nc, r->generation, r->now));
    if (r->diffed) {
        /* count: the items found in this pass (a list may hold only MAX_DRIFT_ITEMS of them);
         * the list also keeps the repairs of the last hour, which count no more. */
        keep_resolved_items(r);
        json_object *drift = json_object_new_object();
        json_object_object_add(drift, "count", json_object_new_int(r->drift_count));
        /* The generation the drift was computed against: a new one resets flapping. */
        json_object_object_add(drift, "generation", json_object_new_int64(r->generation));
        json_object_object_add(drift, "items",
                               r->drift_items ? json_object_get(r->drift_items)
                                              : json_object_new_array());
        json_object_object_add(st, "drift", drift);
    } else {
        keep_old(r, st, "drift");
    }
    if (r->plan)
        json_object_object_add(st, "plan", json_object_get(r->plan));
    if (r->drift_count > 0)
        put_time(st, "lastDriftTime", r->now);
    else
        keep_old(r, st, "lastDriftTime");
    int64_t count = np_json_path_int(r->old_status, 0, "remediationCount", NP_JSON_END);
    if (r->remediated) {
        put_time(st, "lastRemediationTime", r->now);
        count++;
    } else {
        keep_old(r, st, "lastRemediationTime");
    }
    if (count > 0)
        json_object_object_add(st, "remediationCount", json_object_new_int64(count));
    /* lastDriftTime moves with every sighting of drift; compare without the clocks. */
    keep_old(r, st, "lastSyncTime");
    json_object *cmp_old = NULL, *cmp_new = NULL;
    if (r->old_status)
        json_object_deep_copy(r->old_status, &cmp_old, NULL);
    json_object_deep_copy(st, &cmp_new, NULL);
    if (cmp_old)
        json_object_object_del(cmp_old, "lastDriftTime");
    json_object_object_del(cmp_new, "lastDriftTime");
    bool same = np_status_equal(cmp_old, cmp_new, "lastSyncTime");
    json_object_put(cmp_old);
    json_object_put(cmp_new);
    if (same)
        goto out;
    put_time(st, "lastSyncTime", r->now);
    patch = np_status_merge_patch(r->old_status, st);
    json_object *updated = NULL;
    rc = np_kube_status_patch(r->ctl->kube, &updated, &np_res_sgp, r->ns, r->name, patch);
    if (rc == NP_ENOTFOUND)
        rc = 0; /* deleted meanwhile */
    if (rc == 0 && updated)
        remember_written(r, updated);
    json_object_put(updated);
out:
    free(patch);
    json_object_put(st);
    return rc;
}

/* ---------------------------------------------------------------- group lookup */

static const char *tag_value(const struct np_aws_sg *sg, const char *key)
{
    for (size_t i = 0; sg && i < sg->n_tags; i++)
        if (strcmp(sg->tags[i].key, key) == 0)
            return sg->tags[i].value;
    return NULL;
}

/*
 * Reads one group: the snapshot first, AWS when the poller has not seen it (yet) or when a
 * CloudTrail event says it changed (an event is only a hint: the group is read again). With
 * may_defer, returns NP_EAGAIN while the region's first poll runs instead of reading AWS.
 */
static int observe_group(struct rctx *r, const char *group_id, struct np_aws_sg **out,
                         bool may_defer)
{
    *out = NULL;
    char *actor = NULL, *event_name = NULL;
    int64_t event_ms = 0;
    bool hinted = np_region_take_event(r->use.region, group_id, &actor, &event_name, &event_ms);
    if (hinted) {
        free(r->event_actor);
        free(r->event_name);
        r->event_actor = actor;
        r->event_name = event_name;
        r->event_ms = event_ms;
    }
    int rc = hinted ? NP_ENOTFOUND : np_region_snapshot_get(r->use.region, group_id, out);
    if (rc == 0)
        return 0;
    if (rc == NP_EAGAIN && may_defer && np_region_first_poll_running(r->use.region))
        return NP_EAGAIN; /* the first poll brings it (and enqueues us): no Describe burst */
    const char *ids[] = {group_id};
    struct np_aws_sg *sgs = NULL;
    size_t n = 0;
    rc = np_aws_ec2_describe_security_groups(np_region_ec2(r->use.region), &sgs, &n, NULL, 0, ids,
                                             1);
    if (rc == NP_ENOTFOUND || (rc == 0 && n == 0)) {
        np_aws_sgs_free(sgs, n);
        if (hinted) /* gone: the snapshot must not keep answering for it */
            np_region_snapshot_remove(r->use.region, group_id);
        return NP_ENOTFOUND;
    }
    if (rc) {
        if (hinted) /* keep the hint for the retry, or the event would be lost */
            free(np_region_note_event(r->use.region, group_id, r->event_actor, r->event_name,
                                      r->event_ms));
        return rc;
    }
    *out = np_aws_sg_dup(&sgs[0]);
    if (hinted)
        np_region_snapshot_put(r->use.region, *out);
    np_aws_sgs_free(sgs, n);
    return 0;
}

/* Reads the group again from AWS (verification) and records it in the snapshot. */
static int reread_group(struct rctx *r)
{
    const char *ids[] = {r->group_id};
    struct np_aws_sg *sgs = NULL;
    size_t n = 0;
    int rc = np_aws_ec2_describe_security_groups(np_region_ec2(r->use.region), &sgs, &n, NULL, 0,
                                                 ids, 1);
    if (rc == 0 && n == 0)
        rc = np_error_set(NP_ENOTFOUND, "group %s vanished", r->group_id);
    if (rc == 0) {
        np_aws_sg_free(r->sg);
        r->sg = np_aws_sg_dup(&sgs[0]);
        np_region_snapshot_put(r->use.region, r->sg);
    }
    np_aws_sgs_free(sgs, n);
    return rc;
}

/* Finds a group we created earlier by its uid tag (snapshot, then AWS). */
static int find_by_uid(struct rctx *r, struct np_aws_sg **out)
{
    int rc = np_region_snapshot_find_uid(r->use.region, r->uid, out);
    if (rc == 0 || rc == NP_ENOTFOUND)
        return rc;
    const char *values[] = {r->uid};
    struct np_aws_filter f = {"tag:" NP_TAG_UID, values, 1};
    struct np_aws_sg *sgs = NULL;
    size_t n = 0;
    rc =
        np_aws_ec2_describe_security_groups(np_region_ec2(r->use.region), &sgs, &n, &f, 1, NULL, 0);
    if (rc == 0 && n == 0)
        rc = NP_ENOTFOUND;
    if (rc == 0)
        *out = np_aws_sg_dup(&sgs[0]);
    np_aws_sgs_free(sgs, n);
    return rc;
}

static int ensure_finalizer(struct rctx *r)
{
    if (np_kube_object_has_finalizer(r->obj, NP_KUBE_FINALIZER))
        return 0;
    int rc = np_kube_finalizer_add(r->ctl->kube, &np_res_sgp, r->obj, NP_KUBE_FINALIZER);
    if (rc == NP_ECONFLICT) {
        /* Someone else changed the list meanwhile: add it to the list as it is now. */
        json_object *live = NULL;
        rc = np_kube_get(r->ctl->kube, &live, &np_res_sgp, r->ns, r->name);
        if (rc == 0)
            rc = np_kube_finalizer_add(r->ctl->kube, &np_res_sgp, live, NP_KUBE_FINALIZER);
        json_object_put(live);
    }
    if (rc)
        return np_error_set(rc, "adding the finalizer: %s", np_error_message());
    /* Our copy now has it too, so a later call in this pass does not patch again. */
    json_object *meta = np_json_path(r->obj, "metadata", NP_JSON_END);
    json_object *list = np_json_path(meta, "finalizers", NP_JSON_END);
    if (meta && !json_object_is_type(list, json_type_array)) {
        list = json_object_new_array();
        json_object_object_add(meta, "finalizers", list);
    }
    if (list)
        json_object_array_add(list, json_object_new_string(NP_KUBE_FINALIZER));
    return 0;
}

static void ownership_tags(struct rctx *r, char **owner, struct np_aws_tag tags[2])
{
    *owner = np_strdupf("%s/%s", r->ns, r->name);
    tags[0] = (struct np_aws_tag){(char *)NP_TAG_OWNER, *owner};
    tags[1] = (struct np_aws_tag){(char *)NP_TAG_UID, (char *)r->uid};
}

/* ---------------------------------------------------------------- converge */

/* Finds the group (status id, uid tag) or creates it; sets r->sg. Returns 0 with
 * r->ready_reason set when it cannot proceed (a condition, not an error). */
static int find_or_create_group(struct rctx *r, bool enforce, struct np_result *res)
{
    int rc = 0;
    struct np_aws_ec2 *ec2 = np_region_ec2(r->use.region);
    const struct np_posture_sg_spec *spec = r->spec;
    char *owner = NULL;
    struct np_aws_tag *tags = NULL;
    char *gid = NULL;
    char *vpc = NULL;

    if (spec->management.policy == NP_POSTURE_MANAGEMENT_ADOPT) {
        rc = observe_group(r, spec->management.group_id, &r->sg, false);
        if (rc == NP_ENOTFOUND) {
            set_ready(r, "False", "GroupNotFound",
                      np_strdupf("security group %s does not exist in %s",
                                 spec->management.group_id, r->use.region_name));
            set_synced(r, true, NULL);
            res->requeue_after_ms = 60 * 1000;
            return 0;
        }
        if (rc)
            return rc;
        const char *o = tag_value(r->sg, NP_TAG_OWNER);
        char *me = np_strdupf("%s/%s", r->ns, r->name);
        bool foreign = o && strcmp(o, me) != 0;
        free(me);
        if (foreign) {
            set_ready(r, "False", "AdoptionRefused",
                      np_strdupf("security group %s is owned by posture %s", r->sg->group_id, o));
            set_synced(r, true, NULL);
            np_aws_sg_free(r->sg);
            r->sg = NULL;
            return 0;
        }
        return 0;
    }

    const char *status_gid = np_json_path_str(r->old_status, "groupId", NP_JSON_END);
    if (status_gid) {
        rc = observe_group(r, status_gid, &r->sg, true);
        if (rc == NP_EAGAIN) {
            r->deferred = true;
            res->requeue_after_ms = 5000; /* safety net; the poll enqueues us when done */
            return 0;
        }
        if (rc && rc != NP_ENOTFOUND)
            return rc;
        if (r->sg && !np_str_eq(tag_value(r->sg, NP_TAG_UID), r->uid) &&
            tag_value(r->sg, NP_TAG_UID)) {
            /* Someone re-tagged it for another posture: not ours any more. */
            np_aws_sg_free(r->sg);
            r->sg = NULL;
        }
    }
    if (!r->sg) {
        rc = find_by_uid(r, &r->sg);
        if (rc && rc != NP_ENOTFOUND)
            return rc;
    }
    if (r->sg)
        return 0;
    if (!enforce) {
        set_ready(r, "False", "GroupNotFound",
                  np_strdupf("no security group carries %s=%s and mode %s never creates one",
                             NP_TAG_UID, r->uid, np_posture_mode_name(spec->remediation.mode)));
        set_synced(r, true, NULL);
        res->requeue_after_ms = r->ctl->opts.resync_ms;
        return 0;
    }
    if (spec->vpc_ref) {
        set_ready(r, "False", "VPCNotReady",
                  np_strdupf("vpcRef %s: VPCPosture is not served by this controller version; "
                             "set spec.vpcId",
                             spec->vpc_ref));
        res->requeue_after_ms = 60 * 1000;
        return 0;
    }
    if (spec->vpc_id)
        vpc = np_strdup(spec->vpc_id);
    else if ((rc = np_region_default_vpc(r->use.region, &vpc)) != 0)
        goto out;
    rc = ensure_finalizer(r);
    if (rc)
        goto out;
    struct np_aws_tag own[2];
    ownership_tags(r, &owner, own);
    size_t nt = 2 + spec->n_tags;
    tags = np_xcalloc(nt, sizeof(*tags));
    tags[0] = own[0];
    tags[1] = own[1];
    for (size_t i = 0; i < spec->n_tags; i++)
        tags[2 + i] = (struct np_aws_tag){spec->tags[i].key, spec->tags[i].value};
    rc = np_aws_ec2_create_security_group(ec2, &gid, spec->group_name, spec->description, vpc, tags,
                                          nt);
    if (rc == NP_EEXIST) {
        /* A group with this name exists in the VPC: ours only if it carries our uid. */
        const char *names[] = {spec->group_name};
        const char *vpcs[] = {vpc};
        struct np_aws_filter f[2] = {{"group-name", names, 1}, {"vpc-id", vpcs, 1}};
        struct np_aws_sg *sgs = NULL;
        size_t n = 0;
        rc = np_aws_ec2_describe_security_groups(ec2, &sgs, &n, f, 2, NULL, 0);
        if (rc == 0 && n > 0 && np_str_eq(tag_value(&sgs[0], NP_TAG_UID), r->uid)) {
            r->sg = np_aws_sg_dup(&sgs[0]);
        } else if (rc == 0) {
            set_ready(r, "False", "AdoptionRefused",
                      np_strdupf("a security group named \"%s\" already exists in %s (%s) and is "
                                 "not ours; adopt it with management.policy: Adopt",
                                 spec->group_name, vpc, n > 0 ? sgs[0].group_id : "?"));
            set_synced(r, true, NULL);
        }
        np_aws_sgs_free(sgs, n);
        goto out;
    }
    if (rc)
        goto out;
    char *note = np_strdupf("created security group %s (%s) in %s", gid, spec->group_name, vpc);
    emit(r, "Normal", "Created", "Create", note);
    np_log_info("created security group", "namespace", r->ns, "name", r->name, "groupId", gid);
    free(note);
    r->group_id = gid;
    gid = NULL;
    rc = reread_group(r);
out:
    free(owner);
    free(tags);
    free(gid);
    free(vpc);
    return rc;
}

/* Puts our ownership tags on the group if they are missing (adoption, or deleted out of band). */
static int ensure_ownership_tags(struct rctx *r)
{
    char *owner = NULL;
    struct np_aws_tag own[2];
    ownership_tags(r, &owner, own);
    bool adopting = !tag_value(r->sg, NP_TAG_OWNER) && !tag_value(r->sg, NP_TAG_UID);
    int rc = 0;
    if (np_str_eq(tag_value(r->sg, NP_TAG_OWNER), owner) &&
        np_str_eq(tag_value(r->sg, NP_TAG_UID), r->uid))
        goto out;
    rc = ensure_finalizer(r);
    if (rc)
        goto out;
    rc = np_aws_ec2_create_tags(np_region_ec2(r->use.region), r->sg->group_id, own, 2);
    if (rc)
        goto out;
    char *note = adopting ? np_strdupf("adopted security group %s", r->sg->group_id)
                          : np_strdupf("restored the ownership tags on %s", r->sg->group_id);
    emit(r, "Normal", adopting ? "Adopted" : "Remediated", adopting ? "Adopt" : "Tag", note);
    free(note);
    rc = reread_group(r);
out:
    free(owner);
    return rc;
}

_Static_assert((int)NP_POSTURE_PEER_CIDR4 == (int)NP_AWS_PEER_CIDR4 &&
                   (int)NP_POSTURE_PEER_CIDR6 == (int)NP_AWS_PEER_CIDR6 &&
                   (int)NP_POSTURE_PEER_PREFIX_LIST == (int)NP_AWS_PEER_PREFIX_LIST &&
                   (int)NP_POSTURE_PEER_GROUP == (int)NP_AWS_PEER_GROUP,
               "peer kinds of pkg/posture and pkg/aws are cast into each other");

/* Maps the AWS group to the posture's raw observed rules (borrowed strings). */
static struct np_posture_raw_rule *raw_rules(const struct np_aws_sg *sg, size_t *n)
{
    *n = sg->n_ingress + sg->n_egress;
    struct np_posture_raw_rule *raw = np_xcalloc(*n ? *n : 1, sizeof(*raw));
    for (size_t i = 0; i < *n; i++) {
        bool eg = i >= sg->n_ingress;
        const struct np_aws_perm *p = eg ? &sg->egress[i - sg->n_ingress] : &sg->ingress[i];
        raw[i] = (struct np_posture_raw_rule){eg,           p->protocol,
                                              p->has_ports, p->from_port,
                                              p->to_port,   (enum np_posture_peer_kind)p->peer_kind,
                                              p->peer,      p->description};
    }
    return raw;
}

/* An AWS permission for a canonical rule (strings borrowed from the rule). */
static struct np_aws_perm to_perm(const struct np_posture_rule *r)
{
    struct np_aws_perm p;
    memset(&p, 0, sizeof(p));
    p.protocol = r->protocol;
    p.has_ports = np_posture_protocol_has_ports(r->protocol);
    p.from_port = r->from_port;
    p.to_port = r->to_port;
    p.peer_kind = (enum np_aws_peer_kind)r->peer_kind;
    p.peer = r->peer;
    p.description = r->description;
    return p;
}

struct resolve_ctx {
    struct np_controller *ctl;
    const char *ns;
};

/* Resolves a peer posture name to the group id in its status (same namespace only). */
static int resolve_peer(void *vctx, const char *name, char **gid)
{
    struct resolve_ctx *c = vctx;
    char *key = np_strdupf("%s/%s", c->ns, name);
    json_object *peer = NULL;
    int rc = np_kube_store_get(np_kube_informer_store(c->ctl->sgp_inf), &peer, key);
    free(key);
    if (rc)
        return np_error_set(NP_ENOTFOUND,
                            "peer SecurityGroupPosture \"%s\" does not exist in "
                            "namespace %s",
                            name, c->ns);
    const char *id = np_json_path_str(peer, "status", "groupId", NP_JSON_END);
    rc = id ? 0
            : np_error_set(NP_ENOTFOUND, "peer SecurityGroupPosture \"%s\" has no group yet", name);
    if (id)
        *gid = np_strdup(id);
    json_object_put(peer);
    return rc;
}

/* Runs one plan action against AWS; duplicates and already-gone rules count as done. */
static int apply_action(struct rctx *r, const struct np_posture_action *a)
{
    struct np_aws_ec2 *ec2 = np_region_ec2(r->use.region);
    const char *gid = r->sg->group_id;
    int rc = 0;
    if (a->n_tags) {
        if (a->kind == NP_POSTURE_TAG_SET) {
            struct np_aws_tag *tags = np_xcalloc(a->n_tags, sizeof(*tags));
            for (size_t i = 0; i < a->n_tags; i++)
                tags[i] = (struct np_aws_tag){a->tags[i].key, a->tags[i].value};
            rc = np_aws_ec2_create_tags(ec2, gid, tags, a->n_tags);
            free(tags);
        } else {
            const char **keys = np_xcalloc(a->n_tags, sizeof(*keys));
            for (size_t i = 0; i < a->n_tags; i++)
                keys[i] = a->tags[i].key;
            rc = np_aws_ec2_delete_tags(ec2, gid, keys, a->n_tags);
            free(keys);
        }
        return rc;
    }
    struct np_aws_perm *perms = np_xcalloc(a->n_rules ? a->n_rules : 1, sizeof(*perms));
    for (size_t i = 0; i < a->n_rules; i++)
        perms[i] = to_perm(&a->rules[i]);
    bool eg = a->direction == NP_POSTURE_EGRESS;
    switch (a->kind) {
    case NP_POSTURE_AUTHORIZE:
        rc = eg ? np_aws_ec2_authorize_egress(ec2, gid, perms, a->n_rules)
                : np_aws_ec2_authorize_ingress(ec2, gid, perms, a->n_rules);
        if (rc == NP_EEXIST) {
            /* One rule already there fails the whole call on AWS: add them one by one. */
            rc = 0;
            for (size_t i = 0; i < a->n_rules && rc == 0; i++) {
                rc = eg ? np_aws_ec2_authorize_egress(ec2, gid, &perms[i], 1)
                        : np_aws_ec2_authorize_ingress(ec2, gid, &perms[i], 1);
                if (rc == NP_EEXIST)
                    rc = 0;
            }
        }
        break;
    case NP_POSTURE_REVOKE:
        rc = eg ? np_aws_ec2_revoke_egress(ec2, gid, perms, a->n_rules)
                : np_aws_ec2_revoke_ingress(ec2, gid, perms, a->n_rules);
        /* A rule already gone is fine (revoke them one by one); a group gone is not. */
        if (rc == NP_ENOTFOUND && np_aws_error_is("InvalidPermission.NotFound")) {
            rc = 0;
            for (size_t i = 0; i < a->n_rules && rc == 0; i++) {
                rc = eg ? np_aws_ec2_revoke_egress(ec2, gid, &perms[i], 1)
                        : np_aws_ec2_revoke_ingress(ec2, gid, &perms[i], 1);
                if (rc == NP_ENOTFOUND && np_aws_error_is("InvalidPermission.NotFound"))
                    rc = 0;
            }
        }
        break;
    default:
        rc = eg ? np_aws_ec2_update_rule_descriptions_egress(ec2, gid, perms, a->n_rules)
                : np_aws_ec2_update_rule_descriptions_ingress(ec2, gid, perms, a->n_rules);
        break;
    }
    free(perms);
    return rc;
}

/* Computes the delta of the observed group against the desired rules and tags. */
static int compute_delta(struct rctx *r, const struct np_posture_ruleset *want,
                         struct np_posture_delta *delta)
{
    size_t n_raw = 0;
    struct np_posture_raw_rule *raw = raw_rules(r->sg, &n_raw);
    struct np_posture_ruleset got = {0};
    np_posture_observed(&got, raw, n_raw);
    struct np_posture_tag *have = np_xcalloc(r->sg->n_tags ? r->sg->n_tags : 1, sizeof(*have));
    for (size_t i = 0; i < r->sg->n_tags; i++)
        have[i] = (struct np_posture_tag){r->sg->tags[i].key, r->sg->tags[i].value};
    int rc = np_posture_diff(delta, want, &got, r->spec->tags, r->spec->n_tags, have, r->sg->n_tags,
                             r->spec->ownership);
    if (rc == 0 && r->guardrails.n > 0)
        rc = np_posture_guardrail_mark(
            delta, want, &got, r->spec->ownership,
            (const struct np_posture_guardrail *const *)r->guardrails.items, r->guardrails.n, r->ns,
            r->name);
    free(have);
    np_posture_ruleset_clean_up(&got);
    free(raw);
    return rc;
}

static const char *repaired_state(enum np_posture_change c)
{
    switch (c) {
    case NP_POSTURE_MISSING: return "Authorized";
    case NP_POSTURE_EXTRA: return "Revoked";
    case NP_POSTURE_DESCRIPTION: return "Updated";
    default: return "Tagged";
    }
}

/* The plan id: a hash over the plan text and the observed state it was computed from. */
static char *plan_id(char **lines, const struct np_aws_sg *sg)
{
    struct np_buf b = NP_BUF_INIT;
    for (size_t i = 0; lines[i]; i++)
        np_buf_appendf(&b, "%s\n", lines[i]);
    np_buf_appendf(&b, "observed:%016llx", (unsigned long long)np_sg_fingerprint(sg));
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char hex[2 * EVP_MAX_MD_SIZE + 1];
    EVP_Digest(b.data, b.len, md, &mdlen, EVP_sha256(), NULL);
    np_hex_encode(hex, md, mdlen);
    np_buf_clean_up(&b);
    return np_strdupf("sha256:%s", hex);
}

/* The reason of the old status's condition of this type (NULL when absent). */
static const char *old_condition_reason(struct rctx *r, const char *type)
{
    json_object *conds = np_json_path(r->old_status, "conditions", NP_JSON_END);
    size_t n =
        conds && json_object_is_type(conds, json_type_array) ? json_object_array_length(conds) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *c = json_object_array_get_idx(conds, i);
        if (np_str_eq(np_json_path_str(c, "type", NP_JSON_END), type))
            return np_json_path_str(c, "reason", NP_JSON_END);
    }
    return NULL;
}

static void count_metric(struct rctx *r, const char *family, const char *k2, const char *v2)
{
    struct np_buf l = NP_BUF_INIT;
    np_metrics_labels(&l, "kind", "SecurityGroupPosture", k2, v2);
    np_metrics_counter_add(r->ctl->metrics, family, np_buf_cstr(&l), 1);
    np_buf_clean_up(&l);
}

/* "guardrail G rule R (refs) forbids <direction> <rule>" for the first violations. */
static char *violations_text(const struct np_posture_violation *v, size_t n)
{
    struct np_buf b = NP_BUF_INIT;
    for (size_t i = 0; i < n && i < 3; i++) {
        char *text = np_posture_rule_text(v[i].atomic);
        np_buf_appendf(&b, "%sguardrail %s rule %s", i ? "; " : "", v[i].guardrail->name,
                       v[i].rule->id);
        if (v[i].rule->n_references > 0)
            np_buf_appendf(&b, " (%s)", v[i].rule->references[0]);
        np_buf_appendf(&b, " forbids %s %s", np_posture_direction_name(v[i].atomic->direction),
                       text);
        free(text);
    }
    if (n > 3)
        np_buf_appendf(&b, "; and %zu more", n - 3);
    char *out = np_strdup(np_buf_cstr(&b));
    np_buf_clean_up(&b);
    return out;
}

/*
 * Checks the desired rules against the guardrails governing the posture. Returns true when a
 * Deny guardrail forbids them (the posture must not be applied); sets the Compliant condition.
 */
static bool guardrails_forbid(struct rctx *r)
{
    np_controller_guardrails_for(r->ctl, r->ns, &r->guardrails);
    if (r->guardrails.n == 0)
        return false;
    struct np_posture_ruleset pre = {0};
    struct np_posture_violation *v = NULL;
    size_t nv = 0;
    if (np_controller_desired_for_check(r->spec, &pre) == 0)
        np_posture_guardrail_check(&v, &nv,
                                   (const struct np_posture_guardrail *const *)r->guardrails.items,
                                   r->guardrails.n, r->ns, r->name, &pre);
    np_error_clear();
    size_t n_deny = 0;
    for (size_t i = 0; i < nv; i++)
        if (v[i].guardrail->enforcement == NP_POSTURE_GUARDRAIL_DENY)
            v[n_deny++] = v[i]; /* keep Deny ones first for the message */
    bool deny = n_deny > 0;
    const char *old = old_condition_reason(r, "Compliant");
    if (nv == 0) {
        r->compliant_status = "True";
        r->compliant_reason = "Compliant";
        r->compliant_msg = np_strdupf("the spec satisfies %zu guardrail(s)", r->guardrails.n);
    } else {
        r->compliant_status = "False";
        r->compliant_reason = deny ? "GuardrailViolation" : "GuardrailWarning";
        r->compliant_msg = violations_text(v, deny ? n_deny : nv);
        if (!np_str_eq(old, r->compliant_reason)) {
            emit(r, "Warning", r->compliant_reason, "Validate", r->compliant_msg);
            count_metric(r, "netposture_guardrail_violations_total", "enforcement",
                         deny ? "Deny" : "Warn");
        }
        if (deny)
            set_ready(r, "False", "GuardrailViolation",
                      np_strdupf("not applied: %s", r->compliant_msg));
    }
    free(v);
    np_posture_ruleset_clean_up(&pre);
    return deny;
}

/* "<guardrail>/<rule id>" of the first governing guardrail rule the drift item violates. */
static char *guardrail_of(struct rctx *r, const struct np_posture_drift *d)
{
    if (!d->guardrail)
        return NULL;
    for (size_t g = 0; g < r->guardrails.n; g++) {
        const struct np_posture_guardrail *gr = r->guardrails.items[g];
        for (size_t i = 0; i < gr->n_rules; i++)
            if (np_posture_guardrail_rule_matches(&gr->rules[i], &d->rule) &&
                !np_posture_guardrail_exempts(&gr->rules[i], r->ns, r->name))
                return np_strdupf("%s/%s", gr->name, gr->rules[i].id);
    }
    return NULL;
}

/*
 * Whether the event's API call makes this kind of change (rule calls explain rule drift, tag
 * calls tag drift): the actor of an event is never pinned on drift it cannot have caused.
 */
static bool event_explains(const char *event_name, const struct np_posture_drift *d)
{
    if (!event_name)
        return false;
    bool tag_item = d->change == NP_POSTURE_TAG_MISSING || d->change == NP_POSTURE_TAG_CHANGED ||
                    d->change == NP_POSTURE_TAG_EXTRA;
    if (tag_item)
        return np_str_eq(event_name, "CreateTags") || np_str_eq(event_name, "DeleteTags");
    return np_str_has_prefix(event_name, "AuthorizeSecurityGroup") ||
           np_str_has_prefix(event_name, "RevokeSecurityGroup") ||
           np_str_has_prefix(event_name, "UpdateSecurityGroupRuleDescriptions") ||
           np_str_eq(event_name, "ModifySecurityGroupRules");
}

static int64_t item_time(json_object *it, const char *k, int64_t dflt)
{
    int64_t ms = 0;
    const char *v = np_json_path_str(it, k, NP_JSON_END);
    return v && np_time_parse_rfc3339(v, &ms) == 0 ? ms : dflt;
}

/*
 * What the previous status remembers of a drift item: first sighting, actor, how often it
 * came back after a repair inside the flapping window, and whether it was contested.
 */
static void item_history(struct rctx *r, json_object *old, struct np_posture_item_history *h,
                         int64_t *window_start)
{
    memset(h, 0, sizeof(*h));
    h->first_seen_ms = r->now;
    h->occurrences = 1;
    *window_start = r->now;
    if (!old)
        return;
    const char *state = np_json_path_str(old, "state", NP_JSON_END);
    int64_t first = item_time(old, "firstSeen", r->now);
    int occ = (int)np_json_path_int(old, 1, "occurrences", NP_JSON_END);
    /* The flapping window opens at the first repair (not the first sighting, which may be a
     * whole grace period earlier). */
    int64_t ws = item_time(old, "windowStart", item_time(old, "resolvedAt", first));
    if (is_resolved_state(state)) {
        /* It was repaired and came back: one more occurrence inside the window. */
        if (!r->reset_contested && r->now - ws <= NP_POSTURE_DEFAULT_FLAP_WINDOW_MS) {
            h->occurrences = (occ < 1 ? 1 : occ) + 1;
            *window_start = ws;
        }
        return;
    }
    h->first_seen_ms = first;
    h->actor = np_json_path_str(old, "actor", NP_JSON_END);
    if (r->reset_contested)
        return;
    h->occurrences = occ < 1 ? 1 : occ;
    *window_start = ws;
    h->contested = np_str_eq(state, "Contested");
}

static const char *state_text(enum np_posture_item_state s, enum np_posture_change c)
{
    switch (s) {
    case NP_POSTURE_ITEM_APPLY: return repaired_state(c);
    case NP_POSTURE_ITEM_PENDING: return "Pending";
    case NP_POSTURE_ITEM_REPORTED: return "Reported";
    case NP_POSTURE_ITEM_PROPOSED: return "Proposed";
    case NP_POSTURE_ITEM_EXCEPTED: return "Excepted";
    default: return "Contested";
    }
}

/* Applies the actions of a plan in order; stops at the first failure. */
static int apply_plan(struct rctx *r, const struct np_posture_plan *plan, char **lines)
{
    int rc = ensure_finalizer(r);
    for (size_t i = 0; rc == 0 && i < plan->n; i++)
        rc = apply_action(r, &plan->actions[i]);
    count_metric(r, "netposture_remediations_total", "result", rc ? "error" : "success");
    if (rc)
        return rc;
    for (size_t i = 0; lines && lines[i]; i++) {
        emit(r, "Normal", "Remediated", "Remediate", lines[i]);
        np_log_info("remediated", "namespace", r->ns, "name", r->name, "groupId", r->group_id,
                    "action", lines[i]);
    }
    r->remediated = true;
    return 0;
}

/* Whether the residual delta still holds the drift item d (same scope, change and text). */
static bool still_there(const struct np_posture_delta *residual, const struct np_posture_drift *d)
{
    char *text = np_posture_drift_text(d);
    bool found = false;
    for (size_t i = 0; !found && i < residual->n; i++) {
        const struct np_posture_drift *o = &residual->items[i];
        if (o->change != d->change ||
            !np_str_eq(np_posture_drift_scope(o), np_posture_drift_scope(d)))
            continue;
        char *t = np_posture_drift_text(o);
        found = np_str_eq(t, text);
        free(t);
    }
    free(text);
    return found;
}

/* Publishes the plan waiting for approval in status.plan; true when the plan is new. */
static bool publish_plan(struct rctx *r, char **lines, const char *id, const char *approved)
{
    r->plan = json_object_new_object();
    json_object_object_add(r->plan, "id", json_object_new_string(id));
    json_object *acts = json_object_new_array();
    for (size_t i = 0; i < MAX_PLAN_LINES && lines[i]; i++)
        json_object_array_add(acts, json_object_new_string(lines[i]));
    json_object_object_add(r->plan, "actions", acts);
    json_object *old_plan = np_json_path(r->old_status, "plan", NP_JSON_END);
    const char *old_at = np_json_path_str(old_plan, "computedAt", NP_JSON_END);
    bool same = old_at && np_str_eq(np_json_path_str(old_plan, "id", NP_JSON_END), id);
    if (same)
        json_object_object_add(r->plan, "computedAt", json_object_new_string(old_at));
    else
        put_time(r->plan, "computedAt", r->now);
    if (approved && strcmp(approved, id) != 0)
        json_object_object_add(r->plan, "reason",
                               json_object_new_string("the approved plan id is stale (the plan "
                                                      "changed since); nothing was applied"));
    if (!same) {
        char *note =
            np_strdupf("plan %s: %s%s (approve with the annotation "
                       "netposture.dev/approve-plan=%s)",
                       id, lines[0] ? lines[0] : "", lines[0] && lines[1] ? ", ..." : "", id);
        emit(r, "Normal", "PlanProposed", "Propose", note);
        free(note);
    }
    return !same;
}

static int converge(struct rctx *r, struct np_result *res)
{
    const struct np_posture_sg_spec *spec = r->spec;
    bool enforce = spec->remediation.mode == NP_POSTURE_MODE_ENFORCE;
    struct np_posture_ruleset want = {0};
    struct np_posture_delta delta = {0}, residual = {0}, sel_apply = {0}, sel_prop = {0};
    struct np_posture_plan plan = {0}, pplan = {0};
    struct np_posture_verdict verdict = {0};
    struct np_posture_item_history *hist = NULL;
    int64_t *window = NULL;
    char **texts = NULL;       /* each item's status `rule` text */
    json_object **olds = NULL; /* each item in the previous status (borrowed), or NULL */
    bool *applied = NULL;
    char **lines = NULL, **plines = NULL;
    char *id = NULL;
    int rc = 0;

    if (guardrails_forbid(r))
        goto out; /* Ready=False GuardrailViolation; nothing is created or changed */
    rc = find_or_create_group(r, enforce, res);
    if (rc || !r->sg)
        goto out;
    free(r->group_id);
    r->group_id = np_strdup(r->sg->group_id);
    if (enforce) {
        rc = ensure_ownership_tags(r);
        if (rc)
            goto out;
    }
    set_synced(r, true, NULL);
    struct resolve_ctx rctx = {r->ctl, r->ns};
    rc = np_posture_desired(&want, spec, resolve_peer, &rctx);
    if (rc) {
        set_ready(r, "False", "PeerNotReady", np_strdup(np_error_message()));
        res->requeue_after_ms = 10 * 1000;
        rc = 0;
        goto out;
    }
    rc = compute_delta(r, &want, &delta);
    if (rc)
        goto out;
    if (delta.n == 0) {
        r->diffed = true;
        r->contested_status = "False";
        r->contested_reason = "NotContested";
        set_ready(r, "True", "Converged",
                  np_strdupf("security group %s matches the spec", r->group_id));
        r->drifted_status = "False";
        r->drifted_reason = "NoDrift";
        goto out;
    }

    /* The policy decides per item from the mode, grace, exceptions, flapping history,
     * guardrail marks and the blast radius. */
    hist = np_xcalloc(delta.n, sizeof(*hist));
    window = np_xcalloc(delta.n, sizeof(*window));
    applied = np_xcalloc(delta.n, sizeof(*applied));
    texts = np_xcalloc(delta.n, sizeof(*texts));
    olds = np_xcalloc(delta.n, sizeof(*olds));
    for (size_t i = 0; i < delta.n; i++) {
        texts[i] = np_posture_drift_text(&delta.items[i]);
        olds[i] = old_drift_item(r, np_posture_drift_scope(&delta.items[i]),
                                 np_posture_change_name(delta.items[i].change), texts[i]);
        item_history(r, olds[i], &hist[i], &window[i]);
        bool is_new =
            !olds[i] || is_resolved_state(np_json_path_str(olds[i], "state", NP_JSON_END));
        if (is_new && r->event_actor && event_explains(r->event_name, &delta.items[i]))
            hist[i].actor = r->event_actor; /* who made the change, from the event */
    }
    /* The grace period is for drift; a new or changed spec is converged at once (the mode
     * and the blast radius still apply). */
    struct np_posture_remediation rem = spec->remediation;
    if (r->spec_changed)
        rem.grace_ms = 0;
    rc = np_posture_policy_decide(&verdict, &(struct np_posture_policy_input){
                                                .remediation = &rem,
                                                .delta = &delta,
                                                .history = hist,
                                                .now_ms = r->now,
                                            });
    if (rc)
        goto out;

    /* Apply what is due now. */
    if (verdict.n_apply > 0) {
        np_posture_delta_select(&sel_apply, &delta, &verdict, NP_POSTURE_ITEM_APPLY);
        np_posture_plan_build(&plan, &sel_apply);
        np_posture_plan_text(&lines, NULL, &plan);
        rc = apply_plan(r, &plan, lines);
        if (rc)
            goto out;
        for (size_t i = 0; i < delta.n; i++)
            applied[i] = verdict.states[i] == NP_POSTURE_ITEM_APPLY;
    }
    /* The rest of a plan waits for a human: apply it only when the approval names it. */
    bool blast = np_str_eq(verdict.reason, "BlastRadiusExceeded");
    bool holding = false;
    if (verdict.n_proposed > 0) {
        np_posture_delta_select(&sel_prop, &delta, &verdict, NP_POSTURE_ITEM_PROPOSED);
        np_posture_plan_build(&pplan, &sel_prop);
        np_posture_plan_text(&plines, NULL, &pplan);
        id = plan_id(plines, r->sg);
        const char *approved = np_json_path_str(r->obj, "metadata", "annotations",
                                                NP_ANNOTATION_APPROVE_PLAN, NP_JSON_END);
        if (approved && strcmp(approved, id) == 0) {
            rc = apply_plan(r, &pplan, plines);
            if (rc)
                goto out;
            emit(r, "Normal", "PlanApproved", "Approve", id);
            r->consume_approval = true;
            for (size_t i = 0; i < delta.n; i++)
                if (verdict.states[i] == NP_POSTURE_ITEM_PROPOSED)
                    applied[i] = true;
        } else {
            holding = true;
            bool new_plan = publish_plan(r, plines, id, approved);
            if (blast && new_plan) {
                char *note = np_strdupf("the plan has %zu changes, more than maxChangesPerSync "
                                        "%zu; nothing was applied",
                                        verdict.changes, verdict.limit);
                emit(r, "Warning", "BlastRadiusExceeded", "Decide", note);
                free(note);
            }
        }
    }
    /* Verify: read the group again; every applied item must be gone. */
    bool verified = true;
    if (r->remediated) {
        rc = reread_group(r);
        if (rc == 0)
            rc = compute_delta(r, &want, &residual);
        if (rc)
            goto out;
        for (size_t i = 0; i < delta.n; i++)
            if (applied[i] && still_there(&residual, &delta.items[i]))
                verified = false;
    }

    /* Report every item with what was decided and done; Events on every change of state. */
    size_t n_left = 0, n_applied = 0;
    const char *contested_item = NULL;
    char *contested_text = NULL;
    for (size_t i = 0; i < delta.n; i++) {
        const struct np_posture_drift *d = &delta.items[i];
        const char *text = texts[i];
        const char *scope = np_posture_drift_scope(d);
        const char *change = np_posture_change_name(d->change);
        json_object *old = olds[i];
        const char *old_state = np_json_path_str(old, "state", NP_JSON_END);
        bool is_new = !old || is_resolved_state(old_state);
        enum np_posture_item_state st = applied[i] ? NP_POSTURE_ITEM_APPLY : verdict.states[i];
        char *gr = guardrail_of(r, d);
        struct item_info info = {
            .first_seen_ms = hist[i].first_seen_ms,
            .state = st == NP_POSTURE_ITEM_APPLY && !verified && still_there(&residual, d)
                         ? "Pending"
                         : state_text(st, d->change),
            .until_ms = st == NP_POSTURE_ITEM_APPLY ? 0 : verdict.until_ms[i],
            .occurrences = hist[i].occurrences,
            .window_start_ms = window[i],
            .guardrail = gr,
            .actor = hist[i].actor,
        };
        add_drift_item(r, scope, change, text, &info);
        if (is_new) {
            char *note =
                gr ? np_strdupf("%s %s %s (violates guardrail %s)", scope, change, text, gr)
                   : np_strdupf("%s %s %s", scope, change, text);
            emit(r, "Warning", "DriftDetected", "Detect", note);
            free(note);
            count_metric(r, "netposture_drift_detected_total", "change", change);
            if (r->event_ms > 0 && r->now >= r->event_ms)
                np_metrics_histogram_observe(r->ctl->metrics,
                                             "netposture_drift_time_to_detect_seconds", NULL,
                                             (double)(r->now - r->event_ms) / 1000.0);
            if (gr)
                count_metric(r, "netposture_guardrail_violations_total", "where", "observed");
        }
        if (is_new || !np_str_eq(old_state, info.state)) {
            count_metric(r, "netposture_policy_decisions_total", "state",
                         st == NP_POSTURE_ITEM_APPLY ? "Applied" : info.state);
            char until[40] = "";
            if (info.until_ms > 0)
                np_time_format_rfc3339(until, sizeof(until), info.until_ms);
            char *note = NULL;
            if (st == NP_POSTURE_ITEM_PENDING)
                note = np_strdupf("%s %s %s: inside the grace period; repaired at %s", scope,
                                  change, text, until);
            else if (st == NP_POSTURE_ITEM_EXCEPTED)
                note = np_strdupf("%s %s %s: tolerated by an exception%s%s", scope, change, text,
                                  until[0] ? " until " : "", until);
            else if (st == NP_POSTURE_ITEM_CONTESTED)
                note = np_strdupf("%s %s %s appeared %d times within %llds of its first "
                                  "repair (actor %s): something else is changing it; no longer "
                                  "repaired",
                                  scope, change, text, hist[i].occurrences,
                                  (long long)(NP_POSTURE_DEFAULT_FLAP_WINDOW_MS / 1000),
                                  hist[i].actor ? hist[i].actor : "unknown");
            if (note) {
                const char *reason = st == NP_POSTURE_ITEM_PENDING    ? "GracePeriod"
                                     : st == NP_POSTURE_ITEM_EXCEPTED ? "Excepted"
                                                                      : "Contested";
                emit(r, st == NP_POSTURE_ITEM_CONTESTED ? "Warning" : "Normal", reason, "Decide",
                     note);
                free(note);
            }
        }
        if (st == NP_POSTURE_ITEM_APPLY) {
            n_applied++;
            np_metrics_histogram_observe(
                r->ctl->metrics, "netposture_drift_time_to_remediate_seconds",
                "kind=\"SecurityGroupPosture\"", (double)(r->now - hist[i].first_seen_ms) / 1000.0);
        } else {
            n_left++;
        }
        if (st == NP_POSTURE_ITEM_CONTESTED && !contested_item) {
            contested_item = scope;
            contested_text =
                np_strdupf("%s %s %s appeared %d times (actor %s)", scope, change, text,
                           hist[i].occurrences, hist[i].actor ? hist[i].actor : "unknown");
        }
        free(gr);
    }

    /* Conditions. The drift list is complete: it replaces the old one. */
    r->diffed = true;
    r->contested_status = "False";
    r->contested_reason = "NotContested";
    if (verdict.n_contested > 0) {
        r->contested_status = "True";
        r->contested_reason = "Flapping";
        r->contested_msg = contested_text;
        contested_text = NULL;
    }
    free(contested_text);
    r->drifted_status = n_left > 0 || !verified ? "True" : "False";
    r->drifted_reason = n_left > 0 || !verified ? "DriftDetected" : "NoDrift";
    r->drifted_msg = n_left > 0 ? np_strdupf("%zu item(s) differ from the spec", n_left)
                                : np_strdupf("last repair: %zu item(s)", n_applied);
    char next[40] = "";
    if (verdict.next_ms > 0)
        np_time_format_rfc3339(next, sizeof(next), verdict.next_ms);
    if (!verified) {
        set_ready(r, "False", "Progressing",
                  np_strdupf("%zu change(s) applied, some still differ; retrying", n_applied));
        res->requeue_after_ms = 2000;
    } else if (verdict.n_contested > 0) {
        set_ready(r, "False", "Contested",
                  np_strdupf("%zu item(s) are contested and no longer repaired; annotate "
                             "netposture.dev/retry-contested=true to try again",
                             verdict.n_contested));
    } else if (holding) {
        set_ready(r, "False", blast ? "BlastRadiusExceeded" : "PlanProposed",
                  blast ? np_strdupf("the plan has %zu changes, more than maxChangesPerSync "
                                     "%zu; approve it with the annotation "
                                     "netposture.dev/approve-plan=%s",
                                     verdict.changes, verdict.limit, id)
                        : np_strdupf("approve the plan with the annotation "
                                     "netposture.dev/approve-plan=%s",
                                     id));
    } else if (verdict.n_reported > 0) {
        set_ready(r, "False", "DriftDetected",
                  np_strdupf("%zu drift item(s); mode Detect reports and never repairs",
                             verdict.n_reported));
    } else if (verdict.n_pending > 0) {
        set_ready(r, "False", "GracePeriod",
                  np_strdupf("%zu drift item(s) inside the grace period; the next is repaired "
                             "at %s",
                             verdict.n_pending, next));
    } else {
        set_ready(r, "True", "Converged",
                  verdict.n_excepted > 0
                      ? np_strdupf("%s matches the spec but for %zu item(s) tolerated by "
                                   "exceptions",
                                   r->group_id, verdict.n_excepted)
                      : np_strdupf("repaired %zu drift item(s) on %s", n_applied, r->group_id));
    }
    if (verdict.next_ms > 0 && verified) {
        int64_t wait = verdict.next_ms - r->now + 100;
        res->requeue_after_ms = wait < 1000 ? 1000 : wait;
    }
out:
    np_posture_verdict_clean_up(&verdict);
    free(hist);
    free(window);
    for (size_t i = 0; texts && i < delta.n; i++)
        free(texts[i]);
    free(texts);
    free(olds);
    free(applied);
    free(id);
    np_posture_lines_free(lines);
    np_posture_lines_free(plines);
    np_posture_plan_clean_up(&plan);
    np_posture_plan_clean_up(&pplan);
    np_posture_delta_clean_up(&delta);
    np_posture_delta_clean_up(&residual);
    np_posture_delta_clean_up(&sel_apply);
    np_posture_delta_clean_up(&sel_prop);
    np_posture_ruleset_clean_up(&want);
    return rc;
}

/* ---------------------------------------------------------------- deletion */

static int handle_deletion(struct rctx *r, struct np_result *res)
{
    int rc = 0;
    if (!np_kube_object_has_finalizer(r->obj, NP_KUBE_FINALIZER))
        return 0;
    const char *gid = np_json_path_str(r->old_status, "groupId", NP_JSON_END);
    bool adopted = r->spec && r->spec->management.policy == NP_POSTURE_MANAGEMENT_ADOPT;
    const char *policy = "Delete";
    if (r->spec && r->spec->management.deletion_policy == NP_POSTURE_DELETION_RETAIN)
        policy = "Retain";
    else if (r->spec && r->spec->management.deletion_policy == NP_POSTURE_DELETION_UNSET && adopted)
        policy = "Retain";
    if (!r->use.region) {
        /* No usable account: AWS cannot be cleaned up; say so and keep the finalizer. */
        set_ready(r, "False", "DeletionBlocked",
                  np_strdupf("cannot clean up group %s: %s (remove the finalizer %s to "
                             "abandon it)",
                             gid ? gid : "(none)", r->use.message ? r->use.message : "no account",
                             NP_KUBE_FINALIZER));
        res->requeue_after_ms = 30 * 1000;
        return 0;
    }
    if (gid) {
        struct np_aws_sg *sg = NULL;
        rc = observe_group(r, gid, &sg, false);
        bool ours = sg && np_str_eq(tag_value(sg, NP_TAG_UID), r->uid);
        np_aws_sg_free(sg);
        if (rc == NP_ENOTFOUND) {
            rc = 0;
        } else if (rc) {
            return rc;
        } else if (!ours && !adopted) {
            /* Not ours (tags changed by someone): never delete what we cannot prove we own. */
            policy = "Retain";
        }
        if (strcmp(policy, "Delete") == 0) {
            rc = np_aws_ec2_delete_security_group(np_region_ec2(r->use.region), gid);
            if (rc == NP_ENOTFOUND)
                rc = 0;
            if (rc == NP_EDEPENDENCY) {
                char *msg = np_strdupf("AWS refuses to delete %s while it is in use: %s", gid,
                                       np_error_message());
                if (!np_str_eq(old_condition_reason(r, "Ready"), "DeletionBlocked"))
                    emit(r, "Warning", "DeletionBlocked", "Delete", msg);
                set_ready(r, "False", "DeletionBlocked", msg);
                res->requeue_after_ms = 15 * 1000;
                return 0;
            }
            if (rc)
                return rc;
            np_region_snapshot_remove(r->use.region, gid);
            char *note = np_strdupf("deleted security group %s", gid);
            emit(r, "Normal", "Deleted", "Delete", note);
            free(note);
        } else if (!ours) {
            /* Its ownership tags name someone else now: they are not ours to remove. */
            np_region_snapshot_remove(r->use.region, gid);
            char *note = np_strdupf("retained security group %s; its ownership tags belong to "
                                    "another owner and were left alone",
                                    gid);
            emit(r, "Normal", "Retained", "Delete", note);
            free(note);
        } else {
            const char *keys[] = {NP_TAG_OWNER, NP_TAG_UID};
            rc = np_aws_ec2_delete_tags(np_region_ec2(r->use.region), gid, keys, 2);
            if (rc == NP_ENOTFOUND)
                rc = 0;
            if (rc)
                return rc;
            np_region_snapshot_remove(r->use.region, gid);
            char *note = np_strdupf("retained security group %s; removed the ownership tags", gid);
            emit(r, "Normal", "Retained", "Delete", note);
            free(note);
        }
    }
    rc = np_kube_finalizer_remove(r->ctl->kube, &np_res_sgp, r->obj, NP_KUBE_FINALIZER);
    if (rc == NP_ENOTFOUND)
        rc = 0;
    return rc;
}

/* Removes annotations from the posture with one merge patch; a posture gone meanwhile is
 * fine. */
static int drop_annotations(struct rctx *r, const char *const *keys, size_t n)
{
    json_object *ann = json_object_new_object();
    for (size_t i = 0; i < n; i++)
        json_object_object_add(ann, keys[i], NULL);
    json_object *meta = json_object_new_object();
    json_object_object_add(meta, "annotations", ann);
    json_object *patch = json_object_new_object();
    json_object_object_add(patch, "metadata", meta);
    int rc =
        np_kube_patch(r->ctl->kube, NULL, &np_res_sgp, r->ns, r->name, NULL, NP_KUBE_PATCH_MERGE,
                      json_object_to_json_string_ext(patch, JSON_C_TO_STRING_PLAIN));
    json_object_put(patch);
    return rc == NP_ENOTFOUND ? 0 : rc;
}

/* ---------------------------------------------------------------- entry point */

void np_controller_state_init(struct np_controller *ctl)
{
    pthread_mutex_init(&ctl->state_lock, NULL);
}

void np_controller_state_clean_up(struct np_controller *ctl)
{
    pthread_mutex_destroy(&ctl->state_lock);
}

static void rctx_clean_up(struct rctx *r)
{
    free(r->ns);
    free(r->name);
    json_object_put(r->obj);
    np_posture_sg_spec_destroy(r->spec);
    np_account_use_clean_up(&r->use);
    np_aws_sg_free(r->sg);
    free(r->group_id);
    free(r->vpc_id);
    free(r->ready_msg);
    free(r->synced_msg);
    free(r->drifted_msg);
    json_object_put(r->drift_items);
    json_object_put(r->plan);
    np_guardrail_set_clean_up(&r->guardrails);
    free(r->compliant_msg);
    free(r->contested_msg);
    free(r->event_actor);
    free(r->event_name);
}

int np_controller_reconcile_sgp(struct np_controller *ctl, const char *key, struct np_result *res)
{
    struct rctx r;
    memset(&r, 0, sizeof(r));
    r.ctl = ctl;
    r.key = key;
    r.now = np_time_now_ms();
    int rc = np_kube_store_get(np_kube_informer_store(ctl->sgp_inf), &r.obj, key);
    if (rc == NP_ENOTFOUND)
        return 0; /* gone, and the finalizer (if any) was already handled */
    if (rc)
        return rc;
    rc = np_kube_key_split(key, &r.ns, &r.name);
    if (rc)
        goto out;
    r.uid = np_kube_object_uid(r.obj);
    r.generation = np_json_path_int(r.obj, 0, "metadata", "generation", NP_JSON_END);
    r.old_status = np_json_path(r.obj, "status", NP_JSON_END);
    np_kube_object_ref_from(&r.ref, r.obj);
    if (!r.ref.api_version)
        r.ref.api_version = "netposture.dev/v1alpha1";
    if (!r.ref.kind)
        r.ref.kind = "SecurityGroupPosture";
    bool deleting = np_json_path(r.obj, "metadata", "deletionTimestamp", NP_JSON_END) != NULL;
    /* Flapping is forgotten when the spec changes or a human asks to retry. */
    bool retry = np_json_path(r.obj, "metadata", "annotations", NP_ANNOTATION_RETRY_CONTESTED,
                              NP_JSON_END) != NULL;
    int64_t drift_gen = np_json_path_int(r.old_status, 0, "drift", "generation", NP_JSON_END);
    r.reset_contested = retry || (drift_gen != 0 && drift_gen != r.generation);
    /* Grace is for drift away from a spec that was converged; until this generation has been
     * converged once, the differences are the new spec itself. */
    r.spec_changed =
        np_json_path_int(r.old_status, 0, "convergedGeneration", NP_JSON_END) != r.generation;

    /* Parse and validate what the CRD schema could not. */
    json_object *spec = np_json_path(r.obj, "spec", NP_JSON_END);
    rc = np_posture_sg_spec_parse(&r.spec, spec);
    if (rc) {
        char *msg = np_strdup(np_error_message());
        if (deleting) {
            /* Without a valid spec the account and the deletion policy are unknown: nothing is
             * done in AWS, and the humans are told what was left behind. */
            const char *gid = np_json_path_str(r.old_status, "groupId", NP_JSON_END);
            if (gid && np_kube_object_has_finalizer(r.obj, NP_KUBE_FINALIZER)) {
                char *note = np_strdupf("the spec is invalid (%s): security group %s was left in "
                                        "AWS untouched",
                                        msg, gid);
                emit(&r, "Warning", "Abandoned", "Delete", note);
                free(note);
            }
            rc = np_kube_finalizer_remove(ctl->kube, &np_res_sgp, r.obj, NP_KUBE_FINALIZER);
            free(msg);
            goto out;
        }
        /* Once per spec: the same invalid spec is reported, not re-announced every pass. */
        if (!np_str_eq(old_condition_reason(&r, "Ready"), "InvalidSpec") ||
            np_json_path_int(r.old_status, 0, "observedGeneration", NP_JSON_END) != r.generation)
            emit(&r, "Warning", "InvalidSpec", "Validate", msg);
        set_ready(&r, "False", "InvalidSpec", msg);
        res->terminal = true;
        rc = write_status(&r);
        goto out;
    }

    /* The account: it must exist and allow this namespace. */
    const char *account = r.spec->account_ref ? r.spec->account_ref : "default";
    rc = np_controller_account_use(ctl, account, r.ns, r.spec->region, &r.use);
    if (rc)
        goto out;
    if (deleting) {
        rc = handle_deletion(&r, res);
        if (rc == 0 && r.ready_reason)
            rc = write_status(&r);
        goto out;
    }
    if (r.use.reason) {
        set_ready(&r, "False", r.use.reason, np_strdup(r.use.message));
        res->requeue_after_ms = 60 * 1000; /* account changes also requeue us at once */
        rc = write_status(&r);
        goto out;
    }

    rc = converge(&r, res);
    if (rc == 0 && r.deferred)
        goto out;
    if (rc) {
        /* AWS failed: report it and let the workqueue back off. */
        int err = rc;
        char *msg = np_strdup(np_error_message());
        set_synced(&r, false, np_strdup(msg));
        if (!r.ready_reason || strcmp(r.ready_reason, "Converged") == 0)
            set_ready(&r, "False", "AWSError", np_strdup(msg));
        write_status(&r);
        np_error_set(err, "%s", msg);
        free(msg);
        rc = err;
        goto out;
    }
    rc = write_status(&r);
    /* Annotations that were requests, now honoured: an approval is for one plan (the same id
     * must not apply again later); a retry request must not reset every pass. */
    const char *done[2];
    size_t n_done = 0;
    if (r.consume_approval)
        done[n_done++] = NP_ANNOTATION_APPROVE_PLAN;
    if (retry && r.diffed)
        done[n_done++] = NP_ANNOTATION_RETRY_CONTESTED;
    if (rc == 0 && n_done > 0) {
        rc = drop_annotations(&r, done, n_done);
        if (rc == 0 && retry && r.diffed)
            emit(&r, "Normal", "RetryContested", "Decide",
                 "flapping history cleared on request; contested items are repaired again");
    }
out:
    rctx_clean_up(&r);
    return rc;
}
