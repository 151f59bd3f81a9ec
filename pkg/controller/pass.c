/*
 * The parts of a posture reconcile that every kind shares: the pass skeleton (get, parse,
 * account, deletion or converge, status, consumed annotations), the policy half of converge
 * (history, decide, apply, propose, verify, report), status writing with drift history, and
 * conditions, Events and metrics. reconcile_sgp.c and reconcile_vpcp.c supply the hooks.
 */
#include "controller/private/controller_private.h"

#include <stdlib.h>
#include <string.h>

#define MAX_DRIFT_ITEMS 50
#define NP_ANNOTATION_RETRY_CONTESTED "netposture.dev/retry-contested"
#define NP_ANNOTATION_APPROVE_PLAN "netposture.dev/approve-plan"
/* Repaired drift items stay in status.drift for this long, so humans see what was fixed. */
#define RESOLVED_RETENTION_MS (60LL * 60 * 1000)
#define MAX_PLAN_LINES 200

void np_controller_pass_emit(struct np_controller_pass *p, const char *type, const char *reason,
                             const char *action, const char *note)
{
    if (np_kube_recorder_emit(p->ctl->recorder, &p->ref, type, reason, action, note) != 0)
        np_log_warn("cannot record event", "namespace", p->ns, "name", p->name, "reason", reason,
                    "error", np_error_message());
}

/* ---------------------------------------------------------------- status */

/* The item of a status drift list (an array, or NULL) with this scope, change and text. */
static json_object *find_item(struct np_controller_pass *p, json_object *items, const char *scope,
                              const char *change, const char *text)
{
    size_t n =
        items && json_object_is_type(items, json_type_array) ? json_object_array_length(items) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *it = json_object_array_get_idx(items, i);
        if (np_str_eq(np_json_path_str(it, p->kind->scope_key, NP_JSON_END), scope) &&
            np_str_eq(np_json_path_str(it, "change", NP_JSON_END), change) &&
            np_str_eq(np_json_path_str(it, p->kind->text_key, NP_JSON_END), text))
            return it;
    }
    return NULL;
}

static json_object *old_drift_item(struct np_controller_pass *p, const char *scope,
                                   const char *change, const char *text)
{
    return find_item(p, np_json_path(p->old_status, "drift", "items", NP_JSON_END), scope, change,
                     text);
}

static bool is_resolved_state(const char *state)
{
    return np_str_eq(state, "Revoked") || np_str_eq(state, "Authorized") ||
           np_str_eq(state, "Updated") || np_str_eq(state, "Tagged") ||
           np_str_eq(state, "Repaired");
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
    bool actor_verified; /* confirmed by CloudTrail LookupEvents, not only claimed by a message */
    enum np_controller_detection detected_by; /* not in status: for the metrics */
};

static void put_time(json_object *o, const char *k, int64_t ms)
{
    char ts[40];
    np_time_format_rfc3339(ts, sizeof(ts), ms);
    json_object_object_add(o, k, json_object_new_string(ts));
}

/* Adds a drift item of this pass to the new status list (bounded; drift_count counts all). */
static void add_drift_item(struct np_controller_pass *p, const char *scope, const char *change,
                           const char *text, const struct item_info *info)
{
    if (!p->drift_items)
        p->drift_items = json_object_new_array();
    p->drift_count++;
    if (json_object_array_length(p->drift_items) >= MAX_DRIFT_ITEMS)
        return;
    json_object *it = json_object_new_object();
    json_object_object_add(it, p->kind->scope_key, json_object_new_string(scope));
    json_object_object_add(it, "change", json_object_new_string(change));
    json_object_object_add(it, p->kind->text_key, json_object_new_string(text));
    put_time(it, "firstSeen", info->first_seen_ms);
    if (info->actor) {
        /* Bounded: the text comes from an event message. A cut actor is never verified (it
         * would not match the same exceptions in the next pass). */
        char *actor = np_controller_status_bounded(info->actor, NP_CONTROLLER_STATUS_ACTOR_MAX);
        json_object_object_add(it, "actor", json_object_new_string(actor));
        json_object_object_add(
            it, "actorVerified",
            json_object_new_boolean(info->actor_verified && np_str_eq(actor, info->actor)));
        free(actor);
    }
    json_object_object_add(it, "state", json_object_new_string(info->state));
    if (info->until_ms > 0)
        put_time(it, "until", info->until_ms);
    if (is_resolved_state(info->state))
        put_time(it, "resolvedAt", p->now);
    if (info->occurrences > 1) {
        json_object_object_add(it, "occurrences", json_object_new_int(info->occurrences));
        put_time(it, "windowStart", info->window_start_ms);
    }
    if (info->guardrail)
        json_object_object_add(it, "guardrail", json_object_new_string(info->guardrail));
    json_object_array_add(p->drift_items, it);
}

/*
 * Carries repaired items of the previous status that are not drift again into the new list
 * until RESOLVED_RETENTION_MS after their repair.
 */
static void keep_resolved_items(struct np_controller_pass *p)
{
    json_object *items = np_json_path(p->old_status, "drift", "items", NP_JSON_END);
    if (!items || !json_object_is_type(items, json_type_array))
        return;
    size_t n = json_object_array_length(items);
    for (size_t i = 0; i < n; i++) {
        json_object *it = json_object_array_get_idx(items, i);
        int64_t at = 0;
        const char *resolved = np_json_path_str(it, "resolvedAt", NP_JSON_END);
        if (!is_resolved_state(np_json_path_str(it, "state", NP_JSON_END)) || !resolved ||
            np_time_parse_rfc3339(resolved, &at) != 0 || p->now - at > RESOLVED_RETENTION_MS)
            continue;
        if (find_item(p, p->drift_items, np_json_path_str(it, p->kind->scope_key, NP_JSON_END),
                      np_json_path_str(it, "change", NP_JSON_END),
                      np_json_path_str(it, p->kind->text_key, NP_JSON_END)))
            continue;
        if (!p->drift_items)
            p->drift_items = json_object_new_array();
        if (json_object_array_length(p->drift_items) < MAX_DRIFT_ITEMS) {
            json_object *copy = NULL;
            if (json_object_deep_copy(it, &copy, NULL) == 0)
                json_object_array_add(p->drift_items, copy);
        }
    }
}

/* Copies a member of the old status (a timestamp or counter we only move on events). */
static void keep_old(struct np_controller_pass *p, json_object *st, const char *k)
{
    json_object *v = np_json_path(p->old_status, k, NP_JSON_END);
    json_object *copy = NULL;
    if (v && json_object_deep_copy(v, &copy, NULL) == 0)
        json_object_object_add(st, k, copy);
}

/*
 * Puts the object our status patch returned into the informer's store, unless the store moved
 * on meanwhile: a reconcile of the same key right after this one (a key re-added while we
 * worked) must see the status just written, or it would rebuild the drift history from the
 * one before and lose it. The watch event of our write arrives later with the same version;
 * the store never lets our answer replace a newer object the watch delivered.
 */
static void remember_written(struct np_controller_pass *p, json_object *updated)
{
    struct np_kube_store *store = np_kube_informer_store(p->kind->informer(p->ctl));
    json_object *meta = np_json_path(updated, "metadata", NP_JSON_END);
    if (meta)
        json_object_object_del(meta, "managedFields");
    (void)np_kube_store_apply_written(store, updated, np_kube_object_resource_version(p->obj));
}

/* The drift list of this pass: count, the generation it was computed against (a new one
 * resets flapping) and the items, the repairs of the last hour included (they count no more). */
static json_object *drift_status(struct np_controller_pass *p)
{
    keep_resolved_items(p);
    json_object *drift = json_object_new_object();
    json_object_object_add(drift, "count", json_object_new_int(p->drift_count));
    json_object_object_add(drift, "generation", json_object_new_int64(p->generation));
    json_object_object_add(
        drift, "items", p->drift_items ? json_object_get(p->drift_items) : json_object_new_array());
    return drift;
}

/* The timestamps and counters that move only when something happened in this pass. */
static void put_activity(struct np_controller_pass *p, json_object *st)
{
    if (p->drift_count > 0)
        put_time(st, "lastDriftTime", p->now);
    else
        keep_old(p, st, "lastDriftTime");
    int64_t count = np_json_path_int(p->old_status, 0, "remediationCount", NP_JSON_END);
    if (p->remediated) {
        put_time(st, "lastRemediationTime", p->now);
        count++;
    } else {
        keep_old(p, st, "lastRemediationTime");
    }
    if (count > 0)
        json_object_object_add(st, "remediationCount", json_object_new_int64(count));
    keep_old(p, st, "lastSyncTime");
}

/* The posture's gauges: Ready as derived, and the drift items of the status written (this
 * pass's, or the old ones when it did not diff) that are not repaired. */
static void set_posture_gauges(struct np_controller_pass *p,
                               const struct np_controller_pass_conditions *conds, json_object *st)
{
    bool ready = false;
    for (size_t i = 0; i < conds->n; i++)
        if (np_str_eq(conds->items[i].type, "Ready"))
            ready = np_str_eq(conds->items[i].status, "True");
    int64_t unresolved = 0;
    json_object *items = np_json_path(st, "drift", "items", NP_JSON_END);
    size_t n =
        items && json_object_is_type(items, json_type_array) ? json_object_array_length(items) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *it = json_object_array_get_idx(items, i);
        unresolved += !is_resolved_state(np_json_path_str(it, "state", NP_JSON_END));
    }
    np_controller_metrics_posture(p->ctl, p->kind->kind, p->ns, p->name, ready, unresolved);
}

/* The status this pass writes (without lastSyncTime's new value). */
static json_object *build_status(struct np_controller_pass *p)
{
    json_object *st = json_object_new_object();
    json_object_object_add(st, "observedGeneration", json_object_new_int64(p->generation));
    if (np_controller_pass_converged(p))
        json_object_object_add(st, "convergedGeneration", json_object_new_int64(p->generation));
    else
        keep_old(p, st, "convergedGeneration");
    /* Not looked at in this pass (refused, blocked, failed): keep what we knew, so the objects
     * are still found for deletion, references and events. */
    if (!p->kind->put_ids(p, st))
        for (size_t i = 0; p->kind->status_keys[i]; i++)
            keep_old(p, st, p->kind->status_keys[i]);
    struct np_controller_pass_conditions conds;
    np_controller_pass_conditions(p, &conds);
    json_object_object_add(st, "conditions",
                           np_controller_status_conditions(p->old_status, conds.items, conds.n,
                                                           p->generation, p->now));
    if (p->diffed)
        json_object_object_add(st, "drift", drift_status(p));
    else
        keep_old(p, st, "drift");
    set_posture_gauges(p, &conds, st);
    np_controller_pass_conditions_clean_up(&conds);
    if (p->plan)
        json_object_object_add(st, "plan", json_object_get(p->plan));
    put_activity(p, st);
    return st;
}

/* Whether st says what the old status said; lastDriftTime moves with every sighting of drift
 * and lastSyncTime with every write, so they are not compared. */
static bool status_unchanged(struct np_controller_pass *p, json_object *st)
{
    json_object *cmp_old = NULL, *cmp_new = NULL;
    if (p->old_status)
        json_object_deep_copy(p->old_status, &cmp_old, NULL);
    json_object_deep_copy(st, &cmp_new, NULL);
    if (cmp_old)
        json_object_object_del(cmp_old, "lastDriftTime");
    json_object_object_del(cmp_new, "lastDriftTime");
    bool same = np_controller_status_equal(cmp_old, cmp_new, "lastSyncTime");
    json_object_put(cmp_old);
    json_object_put(cmp_new);
    return same;
}

/* Writes the pass's status with one merge patch, unless nothing changed. */
static int write_status(struct np_controller_pass *p)
{
    json_object *st = build_status(p);
    if (status_unchanged(p, st)) {
        json_object_put(st);
        return 0;
    }
    put_time(st, "lastSyncTime", p->now);
    char *patch = np_controller_status_merge_patch(p->old_status, st);
    json_object *updated = NULL;
    int rc = np_kube_status_patch(p->ctl->kube, &updated, p->kind->res, p->ns, p->name, patch);
    if (rc == NP_ENOTFOUND)
        rc = 0; /* deleted meanwhile */
    if (rc == 0 && updated)
        remember_written(p, updated);
    json_object_put(updated);
    free(patch);
    json_object_put(st);
    return rc;
}

int np_controller_pass_ensure_finalizer(struct np_controller_pass *p)
{
    if (np_kube_object_has_finalizer(p->obj, NP_KUBE_FINALIZER)) {
        /* Put there before our first AWS object (a manifest that lists it): make it ours, or
         * deletion would take it for a foreign finalizer and leave what we create behind. */
        if (np_json_path_str(p->old_status, p->kind->id_key, NP_JSON_END) || p->finalizer_claimed)
            return 0;
        int rc = np_kube_finalizer_claim(p->ctl->kube, p->kind->res, p->kind->kind, p->obj,
                                         NP_KUBE_FINALIZER);
        if (rc)
            return np_error_set(rc, "claiming the finalizer: %s", np_error_message());
        p->finalizer_claimed = true;
        return 0;
    }
    int rc = np_kube_finalizer_add(p->ctl->kube, p->kind->res, p->obj, NP_KUBE_FINALIZER);
    if (rc == NP_ECONFLICT) {
        /* Someone else changed the list meanwhile: add it to the list as it is now. */
        json_object *live = NULL;
        rc = np_kube_get(p->ctl->kube, &live, p->kind->res, p->ns, p->name);
        if (rc == 0)
            rc = np_kube_finalizer_add(p->ctl->kube, p->kind->res, live, NP_KUBE_FINALIZER);
        json_object_put(live);
    }
    if (rc)
        return np_error_set(rc, "adding the finalizer: %s", np_error_message());
    p->finalizer_claimed = true; /* added by us: nothing to claim later in this pass */
    /* Our copy now has it too, so a later call in this pass does not patch again. */
    json_object *meta = np_json_path(p->obj, "metadata", NP_JSON_END);
    json_object *list = np_json_path(meta, "finalizers", NP_JSON_END);
    if (meta && !json_object_is_type(list, json_type_array)) {
        list = json_object_new_array();
        json_object_object_add(meta, "finalizers", list);
    }
    if (list)
        json_object_array_add(list, json_object_new_string(NP_KUBE_FINALIZER));
    return 0;
}

const char *np_controller_pass_old_condition_reason(struct np_controller_pass *p, const char *type)
{
    json_object *conds = np_json_path(p->old_status, "conditions", NP_JSON_END);
    size_t n =
        conds && json_object_is_type(conds, json_type_array) ? json_object_array_length(conds) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *c = json_object_array_get_idx(conds, i);
        if (np_str_eq(np_json_path_str(c, "type", NP_JSON_END), type))
            return np_json_path_str(c, "reason", NP_JSON_END);
    }
    return NULL;
}

size_t np_controller_pass_ownership_tags(struct np_controller_pass *p, char **owner,
                                         const char *piece, struct np_aws_tag tags[3])
{
    *owner = np_strdupf("%s/%s", p->ns, p->name);
    tags[0] = (struct np_aws_tag){(char *)NP_POSTURE_TAG_OWNER, *owner};
    tags[1] = (struct np_aws_tag){(char *)NP_POSTURE_TAG_UID, (char *)p->uid};
    if (!piece)
        return 2;
    tags[2] = (struct np_aws_tag){(char *)NP_OBSERVE_TAG_PIECE, (char *)piece};
    return 3;
}

bool np_controller_pass_owned_by_other(struct np_controller_pass *p, const struct np_aws_tag *tags,
                                       size_t n, const char **other)
{
    const char *o = np_aws_tag_get(tags, n, NP_POSTURE_TAG_OWNER);
    char *me = np_strdupf("%s/%s", p->ns, p->name);
    bool foreign = o && strcmp(o, me) != 0;
    free(me);
    if (other)
        *other = o;
    return foreign;
}

bool np_controller_pass_retains(enum np_posture_management_policy policy,
                                enum np_posture_deletion deletion)
{
    return deletion == NP_POSTURE_DELETION_RETAIN ||
           (deletion == NP_POSTURE_DELETION_UNSET && policy == NP_POSTURE_MANAGEMENT_ADOPT);
}

int np_controller_pass_deletion_blocked(struct np_controller_pass *p, char *msg,
                                        struct np_controller_result *res)
{
    const char *blocked = np_controller_reason_name(NP_CONTROLLER_REASON_DELETION_BLOCKED);
    if (!np_str_eq(np_controller_pass_old_condition_reason(p, "Ready"), blocked))
        np_controller_pass_emit(p, "Warning", blocked, "Delete", msg);
    np_controller_pass_stop(p, NP_CONTROLLER_REASON_DELETION_BLOCKED, msg);
    res->requeue_after_ms = 15 * 1000;
    return 0;
}

void np_controller_pass_deletion_no_account(struct np_controller_pass *p, const char *what,
                                            struct np_controller_result *res)
{
    /* No usable account: AWS cannot be cleaned up; say so and keep the finalizer. */
    np_controller_pass_stop(
        p, NP_CONTROLLER_REASON_DELETION_BLOCKED,
        np_strdupf("cannot clean up %s: %s (remove the finalizer %s to abandon it)", what,
                   p->use.message ? p->use.message : "no account", NP_KUBE_FINALIZER));
    res->requeue_after_ms = 30 * 1000;
}

int np_controller_pass_guardrails_for(struct np_controller_pass *p,
                                      struct np_controller_result *res, bool *unknown)
{
    *unknown = false;
    int rc = np_controller_guardrails_for(p->ctl, p->ns, &p->guardrails);
    if (rc != NP_EAGAIN)
        return rc;
    /* Never decided on labels we do not know (a Deny guardrail might select it): wait. */
    *unknown = true;
    np_controller_pass_stop(p, NP_CONTROLLER_REASON_NAMESPACE_UNKNOWN,
                            np_strdup(np_error_message()));
    np_controller_pass_synced(p);
    res->requeue_after_ms = 1000;
    np_error_clear();
    return 0;
}

void np_controller_pass_count_metric(struct np_controller_pass *p, const char *family,
                                     const char *k2, const char *v2)
{
    struct np_buf l = NP_BUF_INIT;
    np_metrics_labels(&l, "kind", p->kind->kind, k2, v2);
    np_metrics_counter_add(p->ctl->metrics, family, np_buf_cstr(&l), 1);
    np_buf_clean_up(&l);
}

#define MAX_VIOLATIONS_SHOWN 3

void np_controller_pass_violation_add(struct np_controller_pass_violations *v,
                                      const struct np_posture_guardrail *g,
                                      const struct np_posture_guardrail_rule *rule,
                                      const char *what)
{
    bool deny = g->enforcement == NP_POSTURE_GUARDRAIL_DENY;
    struct np_buf *b = deny ? &v->deny : &v->warn;
    size_t *shown = deny ? &v->shown_deny : &v->shown_warn;
    v->n++;
    v->n_deny += deny;
    if (*shown >= MAX_VIOLATIONS_SHOWN)
        return;
    (*shown)++;
    np_buf_appendf(b, "%sguardrail %s rule %s", b->len ? "; " : "", g->name, rule->id);
    if (rule->n_references > 0)
        np_buf_appendf(b, " (%s)", rule->references[0]);
    np_buf_appendf(b, " forbids %s", what);
}

bool np_controller_pass_guardrail_verdict(struct np_controller_pass *p,
                                          struct np_controller_pass_violations *v)
{
    bool deny = v->n_deny > 0;
    /* The Deny ones explain why nothing is applied. */
    struct np_buf *b = deny ? &v->deny : &v->warn;
    size_t total = deny ? v->n_deny : v->n - v->n_deny;
    size_t shown = deny ? v->shown_deny : v->shown_warn;
    if (total > shown)
        np_buf_appendf(b, "; and %zu more", total - shown);
    char *text = np_strdup(np_buf_cstr(b));
    size_t n = v->n;
    np_buf_clean_up(&v->deny);
    np_buf_clean_up(&v->warn);
    if (n == 0) {
        free(text);
        np_controller_pass_set_compliance(
            p, NP_CONTROLLER_REASON_COMPLIANT,
            np_strdupf("the spec satisfies %zu guardrail(s)", p->guardrails.n));
        return false;
    }
    enum np_controller_reason reason =
        deny ? NP_CONTROLLER_REASON_GUARDRAIL_VIOLATION : NP_CONTROLLER_REASON_GUARDRAIL_WARNING;
    if (!np_str_eq(np_controller_pass_old_condition_reason(p, "Compliant"),
                   np_controller_reason_name(reason))) {
        np_controller_pass_emit(p, "Warning", np_controller_reason_name(reason), "Validate", text);
        np_controller_pass_count_metric(p, "netposture_guardrail_violations_total", "enforcement",
                                        deny ? "Deny" : "Warn");
    }
    if (deny)
        np_controller_pass_stop(p, NP_CONTROLLER_REASON_GUARDRAIL_VIOLATION,
                                np_strdupf("not applied: %s", text));
    np_controller_pass_set_compliance(p, reason, text);
    return deny;
}

/* ---------------------------------------------------------------- policy and report */

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
static void item_history(struct np_controller_pass *p, json_object *old,
                         struct np_posture_item_history *h, int64_t *window_start)
{
    memset(h, 0, sizeof(*h));
    h->first_seen_ms = p->read_ms;
    h->occurrences = 1;
    *window_start = p->now;
    if (!old)
        return;
    const char *state = np_json_path_str(old, "state", NP_JSON_END);
    int64_t first = item_time(old, "firstSeen", p->now);
    int occ = (int)np_json_path_int(old, 1, "occurrences", NP_JSON_END);
    /* The flapping window opens at the first repair (not the first sighting, which may be a
     * whole grace period earlier). */
    int64_t ws = item_time(old, "windowStart", item_time(old, "resolvedAt", first));
    if (is_resolved_state(state)) {
        /* It was repaired and came back: one more occurrence inside the window. */
        if (!p->reset_contested && p->now - ws <= NP_POSTURE_DEFAULT_FLAP_WINDOW_MS) {
            h->occurrences = (occ < 1 ? 1 : occ) + 1;
            *window_start = ws;
        }
        return;
    }
    h->first_seen_ms = first;
    h->actor = np_json_path_str(old, "actor", NP_JSON_END);
    json_object *verified = np_json_path(old, "actorVerified", NP_JSON_END);
    h->actor_verified = h->actor && verified && json_object_is_type(verified, json_type_boolean) &&
                        json_object_get_boolean(verified);
    if (p->reset_contested)
        return;
    h->occurrences = occ < 1 ? 1 : occ;
    *window_start = ws;
    h->contested = np_str_eq(state, "Contested");
}

/* The state of a repaired item: what the repair did. */
static const char *repaired_state(const struct np_posture_drift *d)
{
    if (d->vpc)
        return "Repaired";
    switch (d->change) {
    case NP_POSTURE_MISSING: return "Authorized";
    case NP_POSTURE_EXTRA: return "Revoked";
    case NP_POSTURE_DESCRIPTION: return "Updated";
    default: return "Tagged";
    }
}

static const char *state_text(enum np_posture_item_state s, const struct np_posture_drift *d)
{
    switch (s) {
    case NP_POSTURE_ITEM_APPLY: return repaired_state(d);
    case NP_POSTURE_ITEM_PENDING: return "Pending";
    case NP_POSTURE_ITEM_REPORTED: return "Reported";
    case NP_POSTURE_ITEM_PROPOSED: return "Proposed";
    case NP_POSTURE_ITEM_EXCEPTED: return "Excepted";
    default: return "Contested";
    }
}

/* Applies a plan; on success announces every line (Event and log). */
static int apply_plan(struct np_controller_pass *p, const struct np_controller_pass_plan_ops *ops,
                      void *plan, char **lines)
{
    int rc = np_controller_pass_ensure_finalizer(p);
    if (rc == 0)
        rc = ops->apply(p, plan);
    np_controller_pass_count_metric(p, "netposture_remediations_total", "result",
                                    rc ? "error" : "success");
    if (rc)
        return rc;
    for (size_t i = 0; lines && lines[i]; i++) {
        np_controller_pass_emit(p, "Normal", "Remediated", "Remediate", lines[i]);
        np_log_info("remediated", "namespace", p->ns, "name", p->name, "action", lines[i]);
    }
    p->remediated = true;
    return 0;
}

/* Whether the residual delta still holds the drift item d (the same item by structure). */
static bool still_there(const struct np_posture_delta *residual, const struct np_posture_drift *d)
{
    for (size_t i = 0; i < residual->n; i++)
        if (np_posture_drift_same(&residual->items[i], d))
            return true;
    return false;
}

char *np_controller_pass_client_token(struct np_controller_pass *p, const char *piece,
                                      const char *previous)
{
    struct np_buf b = NP_BUF_INIT;
    np_buf_appendf(&b, "%s\n%s\n%s", p->uid ? p->uid : "", piece, previous ? previous : "-");
    char hex[65];
    np_aws_sha256_hex(hex, b.data, b.len);
    np_buf_clean_up(&b);
    return np_strdupf("np-%.40s", hex); /* EC2 takes at most 64 ASCII characters */
}

/* Publishes the plan waiting for approval in status.plan; true when the plan is new. */
static bool publish_plan(struct np_controller_pass *p, char **lines, const char *id,
                         const char *approved)
{
    p->plan = json_object_new_object();
    json_object_object_add(p->plan, "id", json_object_new_string(id));
    json_object *acts = json_object_new_array();
    for (size_t i = 0; i < MAX_PLAN_LINES && lines[i]; i++)
        json_object_array_add(acts, json_object_new_string(lines[i]));
    json_object_object_add(p->plan, "actions", acts);
    json_object *old_plan = np_json_path(p->old_status, "plan", NP_JSON_END);
    const char *old_at = np_json_path_str(old_plan, "computedAt", NP_JSON_END);
    bool same = old_at && np_str_eq(np_json_path_str(old_plan, "id", NP_JSON_END), id);
    if (same)
        json_object_object_add(p->plan, "computedAt", json_object_new_string(old_at));
    else
        put_time(p->plan, "computedAt", p->now);
    if (approved && strcmp(approved, id) != 0)
        json_object_object_add(p->plan, "reason",
                               json_object_new_string("the approved plan id is stale (the plan "
                                                      "changed since); nothing was applied"));
    if (!same) {
        char *note =
            np_strdupf("plan %s: %s%s (approve with the annotation "
                       "netposture.dev/approve-plan=%s)",
                       id, lines[0] ? lines[0] : "", lines[0] && lines[1] ? ", ..." : "", id);
        np_controller_pass_emit(p, "Normal", "PlanProposed", "Propose", note);
        free(note);
    }
    return !same;
}

/* A new item's time-to-detect in seconds: from the event's time, else the bound from the read
 * before the one that found it; < 0 when unknown. */
static double time_to_detect(const struct np_controller_pass *p, enum np_controller_detection by)
{
    int64_t from = by == NP_CONTROLLER_DETECTED_BY_EVENT ? p->event_ms : p->read_before_ms;
    if (from <= 0)
        return -1;
    return p->read_ms > from ? (double)(p->read_ms - from) / 1000.0 : 0;
}

/* Events and metrics for one reported item whose state is new or changed. */
static void announce_item(struct np_controller_pass *p, const struct np_posture_drift *d,
                          const char *text, const struct item_info *info,
                          enum np_posture_item_state st, bool is_new, const char *old_state)
{
    const char *scope = np_posture_drift_scope(d);
    const char *change = np_posture_change_name(d->change);
    if (is_new) {
        char *note = info->guardrail ? np_strdupf("%s %s %s (violates guardrail %s)", scope, change,
                                                  text, info->guardrail)
                                     : np_strdupf("%s %s %s", scope, change, text);
        np_controller_pass_emit(p, "Warning", "DriftDetected", "Detect", note);
        free(note);
        np_controller_pass_count_metric(p, "netposture_drift_detected_total", "change", change);
        np_controller_metrics_drift_detected(p->ctl, p->kind->kind, info->detected_by,
                                             time_to_detect(p, info->detected_by));
        if (info->guardrail)
            np_controller_pass_count_metric(p, "netposture_guardrail_violations_total", "where",
                                            "observed");
    }
    if (!is_new && np_str_eq(old_state, info->state))
        return;
    np_controller_pass_count_metric(p, "netposture_policy_decisions_total", "state",
                                    st == NP_POSTURE_ITEM_APPLY ? "Applied" : info->state);
    char until[40] = "";
    if (info->until_ms > 0)
        np_time_format_rfc3339(until, sizeof(until), info->until_ms);
    char *note = NULL;
    if (st == NP_POSTURE_ITEM_PENDING)
        note = np_strdupf("%s %s %s: inside the grace period; repaired at %s", scope, change, text,
                          until);
    else if (st == NP_POSTURE_ITEM_EXCEPTED)
        note = np_strdupf("%s %s %s: tolerated by an exception%s%s", scope, change, text,
                          until[0] ? " until " : "", until);
    else if (st == NP_POSTURE_ITEM_CONTESTED)
        note = np_strdupf("%s %s %s appeared %d times within %llds of its first repair (actor "
                          "%s): something else is changing it; no longer repaired",
                          scope, change, text, info->occurrences,
                          (long long)(NP_POSTURE_DEFAULT_FLAP_WINDOW_MS / 1000),
                          info->actor ? info->actor : "unknown");
    if (note) {
        const char *reason = st == NP_POSTURE_ITEM_PENDING    ? "GracePeriod"
                             : st == NP_POSTURE_ITEM_EXCEPTED ? "Excepted"
                                                              : "Contested";
        np_controller_pass_emit(p, st == NP_POSTURE_ITEM_CONTESTED ? "Warning" : "Normal", reason,
                                "Decide", note);
        free(note);
    }
}

/*
 * One decision of np_controller_pass_decide: the delta, and per item (parallel to delta->items) its
 * status text, its entry in the previous status, what that remembers, and whether this pass
 * applied it.
 */
struct decision_run {
    struct np_controller_pass *p;
    const struct np_posture_delta *delta;
    const struct np_controller_pass_plan_ops *ops;
    struct np_posture_verdict verdict;
    char **texts;
    json_object **olds; /* borrowed from the old status, or NULL */
    struct np_posture_item_history *hist;
    enum np_controller_detection *detected_by;
    int64_t *window; /* the flapping window's start */
    bool *applied;
    struct np_posture_delta residual; /* what still differs after the repairs */
    bool verified;
    int64_t verified_ms; /* when the last read back was done (wall) */
    bool approved;       /* the proposed plan was approved and applied */
    size_t n_left, n_applied;
    char *contested_text;
};

static void decision_run_init(struct decision_run *r, struct np_controller_pass *p,
                              const struct np_posture_delta *delta,
                              const struct np_controller_pass_plan_ops *ops)
{
    memset(r, 0, sizeof(*r));
    r->p = p;
    r->delta = delta;
    r->ops = ops;
    r->verified = true;
    r->texts = np_xcalloc(delta->n, sizeof(*r->texts));
    r->olds = np_xcalloc(delta->n, sizeof(*r->olds));
    r->hist = np_xcalloc(delta->n, sizeof(*r->hist));
    r->detected_by = np_xcalloc(delta->n, sizeof(*r->detected_by));
    r->window = np_xcalloc(delta->n, sizeof(*r->window));
    r->applied = np_xcalloc(delta->n, sizeof(*r->applied));
}

static void decision_run_clean_up(struct decision_run *r)
{
    for (size_t i = 0; r->texts && i < r->delta->n; i++)
        free(r->texts[i]);
    free(r->texts);
    free(r->olds);
    free(r->hist);
    free(r->detected_by);
    free(r->window);
    free(r->applied);
    free(r->contested_text);
    np_posture_verdict_clean_up(&r->verdict);
    np_posture_delta_clean_up(&r->residual);
}

static bool is_new_item(json_object *old)
{
    return !old || is_resolved_state(np_json_path_str(old, "state", NP_JSON_END));
}

/* Whether the pass's event hint can have caused item i. */
static bool event_explains(const struct decision_run *r, size_t i)
{
    return r->p->event_name && r->ops->event_explains &&
           r->ops->event_explains(r->p->event_name, &r->delta->items[i]);
}

/* How item i was detected: a new one by the event that explains it, else by a read; an older
 * one by an event when the event's actor was pinned on it then. */
static enum np_controller_detection detection_of(const struct decision_run *r, size_t i)
{
    bool by_event = is_new_item(r->olds[i])
                        ? r->p->event_ms > 0 && event_explains(r, i)
                        : np_json_path_str(r->olds[i], "actor", NP_JSON_END) != NULL;
    return by_event ? NP_CONTROLLER_DETECTED_BY_EVENT : NP_CONTROLLER_DETECTED_BY_POLL;
}

/* Step 1: what the previous status remembers of each item, how it was detected, and the
 * event's actor for the new ones the event's API call explains. */
static void recall_history(struct decision_run *r)
{
    struct np_controller_pass *p = r->p;
    for (size_t i = 0; i < r->delta->n; i++) {
        const struct np_posture_drift *d = &r->delta->items[i];
        r->texts[i] = np_posture_drift_text(d);
        r->olds[i] = old_drift_item(p, np_posture_drift_scope(d), np_posture_change_name(d->change),
                                    r->texts[i]);
        item_history(p, r->olds[i], &r->hist[i], &r->window[i]);
        r->detected_by[i] = detection_of(r, i);
        if (is_new_item(r->olds[i]) && p->event_actor && event_explains(r, i)) {
            r->hist[i].actor = p->event_actor; /* who made the change, from the event */
            r->hist[i].actor_verified = p->event_actor_verified;
        }
    }
}

/* Step 2: the policy decides per item from the mode, grace, exceptions, flapping history,
 * guardrail marks and the blast radius. The grace period is for drift; a new or changed spec
 * is converged at once (the mode and the blast radius still apply). */
static int run_policy(struct decision_run *r, const struct np_posture_remediation *remediation)
{
    struct np_posture_remediation rem = *remediation;
    if (r->p->spec_changed)
        rem.grace_ms = 0;
    return np_posture_policy_decide(&r->verdict, &(struct np_posture_policy_input){
                                                     .remediation = &rem,
                                                     .delta = r->delta,
                                                     .history = r->hist,
                                                     .now_ms = r->p->now,
                                                 });
}

/* Builds the plan of the items in state st and applies it; marks them applied. */
static int apply_items(struct decision_run *r, enum np_posture_item_state st, void *plan,
                       char **lines)
{
    int rc = apply_plan(r->p, r->ops, plan, lines);
    for (size_t i = 0; rc == 0 && i < r->delta->n; i++)
        if (r->verdict.states[i] == st)
            r->applied[i] = true;
    return rc;
}

/* The plan (and its text) of the items the verdict put in state st. */
static int build_selected(struct decision_run *r, enum np_posture_item_state st, void **plan,
                          char ***lines)
{
    struct np_posture_delta sel = {0};
    np_posture_delta_select(&sel, r->delta, &r->verdict, st);
    int rc = r->ops->build(r->p, &sel, plan, lines);
    np_posture_delta_clean_up(&sel);
    return rc;
}

/* Step 3: applies what is due now. */
static int apply_due(struct decision_run *r)
{
    if (r->verdict.n_apply == 0)
        return 0;
    void *plan = NULL;
    char **lines = NULL;
    int rc = build_selected(r, NP_POSTURE_ITEM_APPLY, &plan, &lines);
    if (rc == 0)
        rc = apply_items(r, NP_POSTURE_ITEM_APPLY, plan, lines);
    np_posture_lines_free(lines);
    if (plan)
        r->ops->free_plan(plan);
    return rc;
}

/* What the blast radius held in this pass (cap NONE when nothing). */
static struct np_controller_blast blast_of(const struct decision_run *r)
{
    const struct np_posture_verdict *v = &r->verdict;
    return (struct np_controller_blast){
        .cap = v->blast,
        .held = v->n_held,
        .held_subtractive = v->due_subtractive,
        .applied = v->n_apply,
        .limit = v->limit,
        .limit_total = v->limit_total,
    };
}

/* Says once per plan that the blast radius held it (a Warning Event). */
static void announce_blast(struct decision_run *r, const char *id)
{
    struct np_controller_blast b = blast_of(r);
    char *why = np_controller_blast_text(&b);
    char *note = np_strdupf("%s; nothing held was applied (plan %s)", why, id);
    np_controller_pass_emit(r->p, "Warning", "BlastRadiusExceeded", "Decide", note);
    free(note);
    free(why);
}

/* The fingerprint of the observed state a proposed plan is computed from: the state read at
 * the start of the pass, or, when this pass applied other items, the state read back after
 * them (the next pass starts from it, so the plan keeps its id). */
static uint64_t proposal_fp(struct decision_run *r)
{
    if (r->p->remediated && r->ops->residual_fp)
        return r->ops->residual_fp(r->p, &r->residual);
    return r->ops->observed_fp;
}

/* Step 4: the rest of a plan waits for a human: applied only when the approval annotation
 * names its id, else published in status.plan (with a Warning when the blast radius held it). */
static int propose_or_apply_approved(struct decision_run *r)
{
    struct np_controller_pass *p = r->p;
    if (r->verdict.n_proposed == 0)
        return 0;
    void *plan = NULL;
    char **lines = NULL;
    int rc = build_selected(r, NP_POSTURE_ITEM_PROPOSED, &plan, &lines);
    if (rc)
        goto out;
    char *id = np_posture_plan_id(lines, proposal_fp(r), np_aws_sha256_hex);
    const char *approved = np_json_path_str(p->obj, "metadata", "annotations",
                                            NP_ANNOTATION_APPROVE_PLAN, NP_JSON_END);
    if (approved && strcmp(approved, id) == 0) {
        rc = apply_items(r, NP_POSTURE_ITEM_PROPOSED, plan, lines);
        if (rc == 0) {
            np_controller_pass_emit(p, "Normal", "PlanApproved", "Approve", id);
            p->consume_approval = true;
            r->approved = true;
        }
        free(id);
        goto out;
    }
    bool new_plan = publish_plan(p, lines, id, approved);
    if (r->verdict.blast != NP_POSTURE_BLAST_NONE && new_plan)
        announce_blast(r, id);
    free(p->out.decision.plan_id);
    p->out.decision.plan_id = id;
out:
    np_posture_lines_free(lines);
    if (plan)
        r->ops->free_plan(plan);
    return rc;
}

/* Step 5: reads AWS again after a repair; every item applied so far must be gone. Runs after
 * the due items and again after an approved plan (each time from a fresh read). */
static int verify_repairs(struct decision_run *r)
{
    if (!r->p->remediated)
        return 0;
    np_posture_delta_clean_up(&r->residual);
    r->verified = true;
    int rc = r->ops->residual(r->p, &r->residual);
    r->verified_ms = np_controller_now_ms(r->p->ctl);
    for (size_t i = 0; rc == 0 && i < r->delta->n; i++)
        if (r->applied[i] && still_there(&r->residual, &r->delta->items[i]))
            r->verified = false;
    return rc;
}

/* Step 6, one drift item: its status entry, Events and metrics (a verified repair's
 * time-to-remediate from the item's detection). */
static void report_drift(struct decision_run *r, size_t i, enum np_posture_item_state st,
                         bool pending)
{
    struct np_controller_pass *p = r->p;
    const struct np_posture_drift *d = &r->delta->items[i];
    char *gr = r->ops->guardrail_of ? r->ops->guardrail_of(p, d) : NULL;
    struct item_info info = {
        .first_seen_ms = r->hist[i].first_seen_ms,
        .state = pending ? "Pending" : state_text(st, d),
        .until_ms = st == NP_POSTURE_ITEM_APPLY ? 0 : r->verdict.until_ms[i],
        .occurrences = r->hist[i].occurrences,
        .window_start_ms = r->window[i],
        .guardrail = gr,
        .actor = r->hist[i].actor,
        .actor_verified = r->hist[i].actor_verified,
        .detected_by = r->detected_by[i],
    };
    add_drift_item(p, np_posture_drift_scope(d), np_posture_change_name(d->change), r->texts[i],
                   &info);
    announce_item(p, d, r->texts[i], &info, st, is_new_item(r->olds[i]),
                  np_json_path_str(r->olds[i], "state", NP_JSON_END));
    free(gr);
    if (st == NP_POSTURE_ITEM_APPLY && !pending)
        np_controller_metrics_drift_remediated(p->ctl, p->kind->kind, r->detected_by[i],
                                               (double)(r->verified_ms - r->hist[i].first_seen_ms) /
                                                   1000.0);
}

/* Step 6: every item. While a new or changed spec converges its differences are the spec's,
 * not drift: they count for the conditions, but make no drift item, Event or metric. */
static void report_item(struct decision_run *r, size_t i)
{
    const struct np_posture_drift *d = &r->delta->items[i];
    enum np_posture_item_state st = r->applied[i] ? NP_POSTURE_ITEM_APPLY : r->verdict.states[i];
    bool pending = st == NP_POSTURE_ITEM_APPLY && !r->verified && still_there(&r->residual, d);
    if (!r->p->spec_changed)
        report_drift(r, i, st, pending);
    if (st == NP_POSTURE_ITEM_APPLY) {
        r->n_applied++;
        return;
    }
    r->n_left++;
    if (st == NP_POSTURE_ITEM_CONTESTED && !r->contested_text)
        r->contested_text =
            np_strdupf("%s %s %s appeared %d times (actor %s)", np_posture_drift_scope(d),
                       np_posture_change_name(d->change), r->texts[i], r->hist[i].occurrences,
                       r->hist[i].actor ? r->hist[i].actor : "unknown");
}

/* Step 7: what the conditions need of the decision, and when to look again. */
static void record_decision(struct decision_run *r, struct np_controller_result *res)
{
    struct np_controller_pass *p = r->p;
    struct np_controller_pass_decision *d = &p->out.decision;
    const struct np_posture_verdict *v = &r->verdict;
    p->out.decided = true;
    p->diffed = true; /* the drift list is complete: it replaces the old one */
    d->standing = r->approved ? np_posture_standing_once_approved(v) : v->standing;
    d->verified = r->verified;
    d->converging = p->spec_changed;
    d->n_left = r->n_left;
    d->n_applied = r->n_applied;
    d->n_excepted = v->n_excepted;
    d->n_contested = v->n_contested;
    d->n_reported = v->n_reported;
    d->n_pending = v->n_pending;
    d->changes = v->changes;
    d->blast = blast_of(r);
    d->next_ms = v->next_ms;
    free(d->contested_text);
    d->contested_text = r->contested_text;
    r->contested_text = NULL;
    if (!r->verified)
        res->requeue_after_ms = 2000;
    if (v->next_ms > 0 && r->verified) {
        int64_t wait = v->next_ms - p->now + 100;
        res->requeue_after_ms = wait < 1000 ? 1000 : wait;
    }
}

static void set_subject(struct np_controller_pass *p, const char *subject)
{
    free(p->out.decision.subject);
    p->out.decision.subject = np_strdup(subject);
}

/* The read this decision is about: the kind's (a snapshot's poll), else this pass's own, which
 * the next pass's bound starts from. */
static void note_read(struct np_controller_pass *p)
{
    if (p->read_ms > 0)
        return;
    p->read_ms = p->now;
    p->read_before_ms = np_controller_reads_swap(&p->ctl->reads, p->kind->kind, p->key, p->now);
}

int np_controller_pass_decide(struct np_controller_pass *p, const struct np_posture_delta *delta,
                              const struct np_posture_remediation *remediation,
                              const struct np_controller_pass_plan_ops *ops,
                              struct np_controller_result *res)
{
    set_subject(p, ops->subject);
    note_read(p);
    if (delta->n == 0) {
        p->out.decided = true;
        p->out.decision.verified = true;
        p->out.decision.empty = true;
        p->diffed = true;
        return 0;
    }
    struct decision_run r;
    decision_run_init(&r, p, delta, ops);
    recall_history(&r);
    int rc = run_policy(&r, remediation);
    if (rc == 0)
        rc = apply_due(&r);
    if (rc == 0)
        rc = verify_repairs(&r);
    if (rc == 0)
        rc = propose_or_apply_approved(&r);
    if (rc == 0 && r.approved)
        rc = verify_repairs(&r);
    if (rc == 0) {
        for (size_t i = 0; i < delta->n; i++)
            report_item(&r, i);
        record_decision(&r, res);
    }
    decision_run_clean_up(&r);
    return rc;
}

/* ---------------------------------------------------------------- the pass */

/* Removes annotations from the posture with one merge patch; a posture gone meanwhile is
 * fine. */
static int drop_annotations(struct np_controller_pass *p, const char *const *keys, size_t n)
{
    json_object *ann = json_object_new_object();
    for (size_t i = 0; i < n; i++)
        json_object_object_add(ann, keys[i], NULL);
    json_object *meta = json_object_new_object();
    json_object_object_add(meta, "annotations", ann);
    json_object *patch = json_object_new_object();
    json_object_object_add(patch, "metadata", meta);
    int rc =
        np_kube_patch(p->ctl->kube, NULL, p->kind->res, p->ns, p->name, NULL, NP_KUBE_PATCH_MERGE,
                      json_object_to_json_string_ext(patch, JSON_C_TO_STRING_PLAIN));
    json_object_put(patch);
    return rc == NP_ENOTFOUND ? 0 : rc;
}

static void pass_clean_up(struct np_controller_pass *p)
{
    if (p->kind->clean_up)
        p->kind->clean_up(p);
    free(p->ns);
    free(p->name);
    json_object_put(p->obj);
    np_controller_account_hold_clean_up(&p->use);
    np_controller_pass_outcome_clean_up(&p->out);
    json_object_put(p->drift_items);
    json_object_put(p->plan);
    np_controller_guardrail_set_clean_up(&p->guardrails);
    free(p->event_actor);
    free(p->event_name);
}

/*
 * Whether our finalizer on a posture being deleted was put there by netposture: the live
 * object's managedFields say which field manager added it. One that a user added (to a
 * posture that was refused, or never reached AWS) must never make us delete anything.
 */
static int finalizer_is_ours(struct np_controller_pass *p, bool *ours)
{
    json_object *live = NULL;
    *ours = false;
    int rc = np_kube_get(p->ctl->kube, &live, p->kind->res, p->ns, p->name);
    if (rc == 0)
        *ours =
            np_kube_object_finalizer_is_managed_by(live, NP_KUBE_FINALIZER, NP_KUBE_FIELD_MANAGER);
    json_object_put(live);
    return rc;
}

/* Removes a finalizer netposture did not add, touching nothing in AWS, and says so. */
static int release_foreign_finalizer(struct np_controller_pass *p)
{
    const char *id = np_json_path_str(p->old_status, p->kind->id_key, NP_JSON_END);
    char *note = np_strdupf("%s was not added by netposture: removed it without any AWS call%s%s",
                            NP_KUBE_FINALIZER, id ? "; left untouched: " : "", id ? id : "");
    np_controller_pass_emit(p, "Warning", "FinalizerNotOurs", "Delete", note);
    np_log_warn("foreign finalizer removed without any AWS call", "namespace", p->ns, "name",
                p->name);
    free(note);
    return np_kube_finalizer_remove(p->ctl->kube, p->kind->res, p->obj, NP_KUBE_FINALIZER);
}

/* A spec that does not parse: reported once per generation; on deletion, abandoned. */
static int invalid_spec(struct np_controller_pass *p, bool deleting,
                        struct np_controller_result *res)
{
    int rc = 0;
    char *msg = np_strdup(np_error_message());
    if (deleting) {
        /* Without a valid spec the account and the deletion policy are unknown: nothing is
         * done in AWS, and the humans are told what was left behind. */
        const char *id = np_json_path_str(p->old_status, p->kind->id_key, NP_JSON_END);
        if (id && np_kube_object_has_finalizer(p->obj, NP_KUBE_FINALIZER)) {
            char *note =
                np_strdupf("the spec is invalid (%s): %s was left in AWS untouched", msg, id);
            np_controller_pass_emit(p, "Warning", "Abandoned", "Delete", note);
            free(note);
        }
        rc = np_kube_finalizer_remove(p->ctl->kube, p->kind->res, p->obj, NP_KUBE_FINALIZER);
        free(msg);
        return rc;
    }
    /* Once per spec: the same invalid spec is reported, not re-announced every pass. */
    if (!np_str_eq(np_controller_pass_old_condition_reason(p, "Ready"),
                   np_controller_reason_name(NP_CONTROLLER_REASON_INVALID_SPEC)) ||
        np_json_path_int(p->old_status, 0, "observedGeneration", NP_JSON_END) != p->generation)
        np_controller_pass_emit(p, "Warning", "InvalidSpec", "Validate", msg);
    np_controller_pass_stop(p, NP_CONTROLLER_REASON_INVALID_SPEC, msg);
    res->terminal = true;
    return write_status(p);
}

/* Loads the posture from the informer's store and what the pass remembers of it. NP_ENOTFOUND
 * when it is gone (its finalizer, if any, was already handled). */
static int pass_load(struct np_controller_pass *p)
{
    int rc = np_kube_store_get(np_kube_informer_store(p->kind->informer(p->ctl)), &p->obj, p->key);
    if (rc == 0)
        rc = np_kube_key_split(p->key, &p->ns, &p->name);
    if (rc)
        return rc;
    p->uid = np_kube_object_uid(p->obj);
    p->generation = np_json_path_int(p->obj, 0, "metadata", "generation", NP_JSON_END);
    p->old_status = np_json_path(p->obj, "status", NP_JSON_END);
    np_kube_object_ref_from(&p->ref, p->obj);
    if (!p->ref.api_version)
        p->ref.api_version = "netposture.dev/v1alpha1";
    if (!p->ref.kind)
        p->ref.kind = p->kind->kind;
    p->deleting = np_json_path(p->obj, "metadata", "deletionTimestamp", NP_JSON_END) != NULL;
    /* Flapping is forgotten when the spec changes or a human asks to retry. */
    p->retry_requested = np_json_path(p->obj, "metadata", "annotations",
                                      NP_ANNOTATION_RETRY_CONTESTED, NP_JSON_END) != NULL;
    int64_t drift_gen = np_json_path_int(p->old_status, 0, "drift", "generation", NP_JSON_END);
    p->reset_contested = p->retry_requested || (drift_gen != 0 && drift_gen != p->generation);
    /* Grace is for drift away from a spec that was converged; until this generation has been
     * converged once, the differences are the new spec itself. */
    p->spec_changed =
        np_json_path_int(p->old_status, 0, "convergedGeneration", NP_JSON_END) != p->generation;
    return 0;
}

/* On deletion: whether the pass may go on (our finalizer is ours to honour). A finalizer
 * netposture did not add is removed without any AWS call; *done then. */
static int check_finalizer_owner(struct np_controller_pass *p, bool *done)
{
    *done = false;
    if (!p->deleting || !np_kube_object_has_finalizer(p->obj, NP_KUBE_FINALIZER))
        return 0;
    bool ours = false;
    int rc = finalizer_is_ours(p, &ours);
    if (rc == NP_ENOTFOUND) {
        *done = true; /* gone meanwhile */
        return 0;
    }
    if (rc == 0 && !ours) {
        *done = true;
        rc = release_foreign_finalizer(p);
    }
    return rc;
}

/* Annotations that were requests, now honoured: an approval is for one plan (the same id must
 * not apply again later); a retry request must not reset every pass. */
static int drop_honoured_annotations(struct np_controller_pass *p)
{
    const char *done[2];
    size_t n_done = 0;
    bool retried = p->retry_requested && p->diffed;
    if (p->consume_approval)
        done[n_done++] = NP_ANNOTATION_APPROVE_PLAN;
    if (retried)
        done[n_done++] = NP_ANNOTATION_RETRY_CONTESTED;
    if (n_done == 0)
        return 0;
    int rc = drop_annotations(p, done, n_done);
    if (rc == 0 && retried)
        np_controller_pass_emit(
            p, "Normal", "RetryContested", "Decide",
            "flapping history cleared on request; contested items are repaired again");
    return rc;
}

/* The posture is not being deleted: converge it (when its account may be used), write the
 * status, drop the annotations it honoured. An AWS failure is reported and returned (the
 * workqueue backs off). */
static int converge_pass(struct np_controller_pass *p, struct np_controller_result *res)
{
    if (p->use.reason != NP_CONTROLLER_REASON_NONE) {
        np_controller_pass_stop(p, p->use.reason, np_strdup(p->use.message));
        res->requeue_after_ms = 60 * 1000; /* account changes also requeue us at once */
        return write_status(p);
    }
    int rc = p->kind->converge(p, res);
    if (rc == 0 && p->deferred)
        return 0;
    if (rc) {
        int err = rc;
        char *msg = np_strdup(np_error_message());
        np_controller_pass_aws_failed(p, msg);
        write_status(p);
        np_error_set(err, "%s", msg);
        free(msg);
        return err;
    }
    rc = write_status(p);
    return rc ? rc : drop_honoured_annotations(p);
}

/* The posture is being deleted: the kind cleans up AWS (or says why it cannot). */
static int deletion_pass(struct np_controller_pass *p, struct np_controller_result *res)
{
    int rc = p->kind->deletion(p, res);
    if (rc == 0 && p->out.stopped != NP_CONTROLLER_REASON_NONE)
        rc = write_status(p);
    return rc;
}

int np_controller_pass_reconcile(struct np_controller *ctl,
                                 const struct np_controller_pass_kind *kind, const char *key,
                                 struct np_controller_result *res)
{
    struct np_controller_pass *p = np_xcalloc(1, kind->ctx_size);
    p->ctl = ctl;
    p->kind = kind;
    p->key = key;
    p->now = np_controller_now_ms(ctl);
    bool done = false;
    int rc = pass_load(p);
    if (rc == NP_ENOTFOUND) {
        rc = 0; /* gone, and the finalizer (if any) was already handled */
        np_controller_metrics_posture_gone(ctl, kind->kind, key);
        np_controller_reads_forget(&ctl->reads, kind->kind, key);
        goto out;
    }
    if (rc == 0)
        rc = check_finalizer_owner(p, &done);
    if (rc || done)
        goto out;
    /* Parse and validate what the CRD schema could not. */
    if (kind->parse(p, np_json_path(p->obj, "spec", NP_JSON_END)) != 0) {
        rc = invalid_spec(p, p->deleting, res);
        goto out;
    }
    /* The account: it must exist and allow this namespace. */
    const char *account = kind->account(p) ? kind->account(p) : NP_POSTURE_DEFAULT_ACCOUNT;
    rc = np_controller_account_use(ctl, account, p->ns, kind->region(p), &p->use);
    if (rc == 0)
        rc = p->deleting ? deletion_pass(p, res) : converge_pass(p, res);
out:
    pass_clean_up(p);
    free(p);
    return rc;
}
