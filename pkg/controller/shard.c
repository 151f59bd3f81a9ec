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
