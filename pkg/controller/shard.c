/*
 * Sharding (--shard-count N --shard-index I): the postures are split between N controllers
 * (each with its own Lease, so each shard may run several replicas for failover). A posture
 * belongs to shard
 *
 *     FNV-1a-64(metadata.uid) mod N
 *
 * over the UID's bytes as the API server writes it (lowercase, with dashes), offset basis
 * 14695981039346656037, prime 1099511628211: stable across versions and processes, and a
 * posture keeps its shard for life (the UID never changes). Every shard watches every kind
 * (peers, guardrails and accounts are read across shards); a shard enqueues, reconciles and
 * writes the status and Events of its own postures only. CloudAccount and PostureGuardrail
 * status is written by shard 0 alone (every shard still verifies the accounts it uses).
 *
 * CloudTrail events reach every shard: spec.aws.eventQueueUrl may name one queue per shard with
 * the placeholder {shard} (each a target of the same EventBridge rule); a shard consumes its
 * own queue, acts on the ids its postures manage and deletes the rest of the message.
 */
#include "controller/private/controller_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHARD_PLACEHOLDER "{shard}"

int np_controller_shard_of(const char *uid, int count)
{
    if (count <= 1 || !uid)
        return 0;
    return (int)(np_hash_str(uid) % (uint64_t)count);
}

bool np_controller_sharded(const struct np_controller *ctl)
{
    return ctl->opts.shard_count > 1;
}

bool np_controller_shard_owns(const struct np_controller *ctl, json_object *posture)
{
    if (!np_controller_sharded(ctl))
        return true;
    return np_controller_shard_of(np_kube_object_uid(posture), ctl->opts.shard_count) ==
           ctl->opts.shard_index;
}

bool np_controller_shard_writes_shared(const struct np_controller *ctl)
{
    return ctl->opts.shard_index == 0;
}

/* ---------------------------------------------------------------- stubs of other shards' postures
 */

/* Moves src's member key (if any) into dst. */
static void keep(json_object *dst, json_object *src, const char *key)
{
    json_object *v = NULL;
    if (src && json_object_object_get_ex(src, key, &v) && v)
        json_object_object_add(dst, key, json_object_get(v));
}

/* A copy of list (an array of objects) keeping only each item's member key. */
static json_object *ids_only(json_object *list, const char *key)
{
    json_object *out = json_object_new_array();
    size_t n = json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *item = json_object_new_object();
        keep(item, json_object_array_get_idx(list, i), key);
        json_object_array_add(out, item);
    }
    return out;
}

/* Replaces obj's member key (an object) by a new object holding only the listed members of it;
 * drops it when none is there. */
static void keep_members(json_object *obj, const char *key, const char *const *members)
{
    json_object *old = np_json_path(obj, key, NP_JSON_END);
    if (!old)
        return;
    json_object *kept = json_object_new_object();
    for (size_t i = 0; members[i]; i++)
        keep(kept, old, members[i]);
    if (json_object_object_length(kept) > 0)
        json_object_object_add(obj, key, kept);
    else {
        json_object_put(kept);
        json_object_object_del(obj, key);
    }
}

void np_controller_shard_stub(json_object *posture)
{
    static const char *const top[] = {"apiVersion", "kind", "metadata", "spec", "status", NULL};
    static const char *const meta[] = {"name",
                                       "namespace",
                                       "uid",
                                       "generation",
                                       "resourceVersion",
                                       "creationTimestamp",
                                       "deletionTimestamp",
                                       NULL};
    /* Read across shards: accountRef by the requeues and the event consumer, vpcRef by a
     * VPCPosture's deletion (blocked while groups use it), region by vpcRef's check. */
    static const char *const spec[] = {"accountRef", "vpcRef", "region", NULL};
    /* Peers read groupId, vpcRef vpcId and region; the event consumer every id a posture
     * manages (the lists below keep only their ids). */
    static const char *const status[] = {"groupId",    "vpcId", "region", "defaultSecurityGroupId",
                                         "flowLogIds", NULL};
    static const char *const lists[][2] = {
        {"subnets", "subnetId"}, {"routeTables", "routeTableId"}, {"networkAcls", "networkAclId"}};
    if (!json_object_is_type(posture, json_type_object))
        return;
    json_object *old_status = json_object_get(np_json_path(posture, "status", NP_JSON_END));
    keep_members(posture, "metadata", meta);
    keep_members(posture, "spec", spec);
    keep_members(posture, "status", status);
    json_object *st = np_json_path(posture, "status", NP_JSON_END);
    for (size_t i = 0; i < NP_ARRAY_LEN(lists); i++) {
        json_object *list = np_json_path(old_status, lists[i][0], NP_JSON_END);
        if (!list)
            continue;
        if (!st) {
            st = json_object_new_object();
            json_object_object_add(posture, "status", st);
        }
        json_object_object_add(st, lists[i][0], ids_only(list, lists[i][1]));
    }
    json_object_put(old_status);
    /* Whatever else the object carried goes. */
    char *drop[16];
    size_t n = 0;
    json_object_object_foreach(posture, k, v)
    {
        (void)v;
        bool wanted = false;
        for (size_t i = 0; top[i] && !wanted; i++)
            wanted = strcmp(k, top[i]) == 0;
        if (!wanted && n < NP_ARRAY_LEN(drop))
            drop[n++] = k;
    }
    for (size_t i = 0; i < n; i++)
        json_object_object_del(posture, drop[i]);
}

void np_controller_shard_transform(void *ctx, json_object *posture)
{
    struct np_controller *ctl = ctx;
    /* Shard 0 writes every guardrail's status, which reads every posture's spec and drift. */
    if (np_controller_shard_writes_shared(ctl) || np_controller_shard_owns(ctl, posture))
        return;
    np_controller_shard_stub(posture);
}

static struct np_kube_informer *posture_informer(const struct np_controller *ctl,
                                                 enum np_controller_work_kind kind)
{
    return kind == NP_CONTROLLER_WORK_SGP    ? ctl->sgp_inf
           : kind == NP_CONTROLLER_WORK_VPCP ? ctl->vpcp_inf
                                             : NULL;
}

bool np_controller_shard_wants_obj(const struct np_controller *ctl,
                                   enum np_controller_work_kind kind, json_object *obj)
{
    if (!np_controller_sharded(ctl))
        return true;
    switch (kind) {
    case NP_CONTROLLER_WORK_SGP:
    case NP_CONTROLLER_WORK_VPCP: return !obj || np_controller_shard_owns(ctl, obj);
    case NP_CONTROLLER_WORK_GUARDRAIL: return np_controller_shard_writes_shared(ctl);
    default: return true; /* accounts: every shard verifies the ones it uses */
    }
}

/* A posture that is not in the cache (deleted) is wanted: its reconcile only forgets it. */
bool np_controller_shard_wants(const struct np_controller *ctl, enum np_controller_work_kind kind,
                               const char *key)
{
    struct np_kube_informer *inf = posture_informer(ctl, kind);
    if (!np_controller_sharded(ctl) || !inf)
        return np_controller_shard_wants_obj(ctl, kind, NULL);
    json_object *obj = NULL;
    if (np_kube_store_get(np_kube_informer_store(inf), &obj, key) != 0)
        return true;
    bool wanted = np_controller_shard_owns(ctl, obj);
    json_object_put(obj);
    return wanted;
}

char *np_controller_shard_queue_url(const struct np_controller *ctl, const char *url)
{
    const char *at = strstr(url, SHARD_PLACEHOLDER);
    if (!at)
        return np_controller_sharded(ctl) ? NULL : np_strdup(url);
    return np_strdupf("%.*s%d%s", (int)(at - url), url, ctl->opts.shard_index,
                      at + strlen(SHARD_PLACEHOLDER));
}

char *np_controller_shard_lease_name(const struct np_controller *ctl, const char *id)
{
    if (!np_controller_sharded(ctl))
        return np_strdup(id);
    return np_strdupf("%s-%d-of-%d", id, ctl->opts.shard_index, ctl->opts.shard_count);
}

/* netposture_shard_postures{shard}: this shard's postures, counted as the caches change. */
static void publish(struct np_controller *ctl)
{
    char shard[16];
    snprintf(shard, sizeof(shard), "%d", ctl->opts.shard_index);
    struct np_buf l = NP_BUF_INIT;
    np_metrics_labels(&l, "shard", shard);
    np_metrics_gauge_set(ctl->metrics, "netposture_shard_postures", np_buf_cstr(&l),
                         (double)atomic_load(&ctl->shard_postures));
    np_buf_clean_up(&l);
}

void np_controller_shard_count_posture(struct np_controller *ctl, json_object *posture, int delta)
{
    if (!np_controller_shard_owns(ctl, posture))
        return;
    atomic_fetch_add(&ctl->shard_postures, delta);
    publish(ctl);
}

void np_controller_shard_describe(struct np_controller *ctl)
{
    np_metrics_describe(ctl->metrics, "netposture_shard_postures", NP_METRIC_GAUGE,
                        "Postures (both kinds) that belong to this process's shard "
                        "(FNV-1a-64 of metadata.uid mod --shard-count).",
                        NULL, 0);
    publish(ctl);
}
