/*
 * The observed-state informer of one (account, region): every resync interval (jittered) it
 * reads all managed groups with one filtered, paginated DescribeSecurityGroups, keeps them
 * as a snapshot, and enqueues only the postures whose group's fingerprint changed or whose
 * group vanished. Reconciles read the snapshot instead of calling Describe per object. With
 * shards, the snapshot keeps only the groups whose uid tag names a posture of this shard.
 */
#include "controller/private/controller_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct snap_entry {
    const char *group_id; /* sg's */
    struct np_aws_sg *sg; /* packed (np_aws_sg_pack): one allocation per group */
    uint64_t fingerprint;
    int64_t
        put_at_ms;   /* mono time of the last np_controller_region_snapshot_put, 0 if from a poll */
    int64_t seen_ms; /* wall: the last read of this content (a poll's start, or a put) */
    int64_t before_ms; /* wall: the last read of the content before it, 0: none */
    bool enqueued;     /* the poll that read it enqueued its owner */
    struct snap_entry *next;
};

/* A work item parked for the first poll (np_controller_region_park). */
struct parked {
    char *text;     /* the queue text */
    char *key;      /* the posture's key (in text) */
    char *group_id; /* the group its pass waits for, or NULL */
};

struct snapshot {
    struct snap_entry **buckets;
    size_t nbuckets;
    size_t len;
};

struct np_controller_region {
    struct np_controller *ctl;
    char *account;
    char *name;
    struct np_aws_ec2 *ec2;
    int64_t resync_ms;
    pthread_t thread;
    bool started;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stop;
    bool go; /* np_controller_region_start: the poller may read AWS */
    bool polled;
    bool poll_failed; /* a poll failed before the first one succeeded */
    bool first_over;  /* the first poll ended, failed or was stopped (ctl->first_polls) */
    struct snapshot snap;
    char *default_vpc;
    struct np_controller_hint_store hints; /* CloudTrail hints by group id; guarded by lock */
    struct parked *parked;                 /* work waiting for the first poll; guarded by lock */
    size_t n_parked;
};

/* ---------------------------------------------------------------- snapshot map */

static void snap_init(struct snapshot *s, size_t nbuckets)
{
    s->nbuckets = nbuckets;
    s->buckets = np_xcalloc(nbuckets, sizeof(*s->buckets));
    s->len = 0;
}

/* An entry holding a packed copy of sg (which has a group id). */
static struct snap_entry *entry_new(const struct np_aws_sg *sg, uint64_t fingerprint,
                                    int64_t put_at_ms)
{
    struct snap_entry *e = np_xcalloc(1, sizeof(*e));
    e->sg = np_aws_sg_pack(sg);
    e->group_id = e->sg->group_id;
    e->fingerprint = fingerprint;
    e->put_at_ms = put_at_ms;
    return e;
}

static void entry_free(struct snap_entry *e)
{
    free(e->sg);
    free(e);
}

static void snap_clean_up(struct snapshot *s)
{
    for (size_t i = 0; i < s->nbuckets; i++) {
        struct snap_entry *e = s->buckets[i];
        while (e) {
            struct snap_entry *n = e->next;
            entry_free(e);
            e = n;
        }
    }
    free(s->buckets);
    memset(s, 0, sizeof(*s));
}

static struct snap_entry *snap_find(struct snapshot *s, const char *id)
{
    if (!s->nbuckets)
        return NULL;
    for (struct snap_entry *e = s->buckets[np_hash_str(id) % s->nbuckets]; e; e = e->next)
        if (strcmp(e->group_id, id) == 0)
            return e;
    return NULL;
}

/* Inserts e (taking ownership), replacing an entry with the same id. */
static void snap_insert(struct snapshot *s, struct snap_entry *e)
{
    if (s->len + 1 > s->nbuckets) {
        struct snapshot grown;
        snap_init(&grown, s->nbuckets ? s->nbuckets * 2 : 64);
        for (size_t i = 0; i < s->nbuckets; i++) {
            struct snap_entry *x = s->buckets[i];
            while (x) {
                struct snap_entry *n = x->next;
                size_t b = np_hash_str(x->group_id) % grown.nbuckets;
                x->next = grown.buckets[b];
                grown.buckets[b] = x;
                grown.len++;
                x = n;
            }
        }
        free(s->buckets);
        *s = grown;
    }
    size_t b = np_hash_str(e->group_id) % s->nbuckets;
    struct snap_entry **pp = &s->buckets[b];
    while (*pp) {
        if (strcmp((*pp)->group_id, e->group_id) == 0) {
            struct snap_entry *old = *pp;
            e->next = old->next;
            *pp = e;
            entry_free(old);
            return;
        }
        pp = &(*pp)->next;
    }
    e->next = NULL;
    *pp = e;
    s->len++;
}

static void snap_remove(struct snapshot *s, const char *id)
{
    if (!s->nbuckets)
        return;
    struct snap_entry **pp = &s->buckets[np_hash_str(id) % s->nbuckets];
    while (*pp) {
        if (strcmp((*pp)->group_id, id) == 0) {
            struct snap_entry *old = *pp;
            *pp = old->next;
            entry_free(old);
            s->len--;
            return;
        }
        pp = &(*pp)->next;
    }
}

static const char *owner_of(const struct np_aws_sg *sg)
{
    return np_aws_tag_get(sg->tags, sg->n_tags, NP_POSTURE_TAG_OWNER);
}

static bool enqueue_owner(struct np_controller_region *r, const struct np_aws_sg *sg)
{
    const char *owner = sg ? owner_of(sg) : NULL;
    return owner && strchr(owner, '/') &&
           np_controller_enqueue(r->ctl, NP_CONTROLLER_WORK_SGP, owner);
}

/* Whether the snapshot keeps a group: with shards, only those whose uid tag names a posture of
 * this shard (or that carry none: whose they are is not known). */
static bool shard_keeps(const struct np_controller_region *r, const struct np_aws_sg *sg)
{
    const struct np_controller *ctl = r->ctl;
    if (!np_controller_sharded(ctl))
        return true;
    const char *uid = np_aws_tag_get(sg->tags, sg->n_tags, NP_POSTURE_TAG_UID);
    return !uid || np_controller_shard_of(uid, ctl->opts.shard_count) == ctl->opts.shard_index;
}

/* ---------------------------------------------------------------- parked work */

/* Caller holds r->lock. */
static bool first_poll_running_locked(const struct np_controller_region *r)
{
    return !r->polled && !r->poll_failed && !r->stop;
}

/* Counts the first poll out of ctl->first_polls once it is no longer running. Caller holds
 * r->lock. */
static void note_first_poll_over_locked(struct np_controller_region *r)
{
    if (!r->first_over && !first_poll_running_locked(r)) {
        r->first_over = true;
        atomic_fetch_sub(&r->ctl->first_polls, 1);
    }
}

/*
 * Enqueues the work parked for the first poll (which just ended, failed or was stopped), in the
 * same critical section that ended it, so no pass of a parked key starts before it is back in
 * the queue. An item whose group the poll just read, with its owner enqueued by that poll, is
 * in the queue already: adding it again would run it twice when a worker took it meanwhile.
 * Caller holds r->lock.
 */
static void release_parked_locked(struct np_controller_region *r)
{
    for (size_t i = 0; i < r->n_parked; i++) {
        struct parked *x = &r->parked[i];
        const struct snap_entry *e = x->group_id ? snap_find(&r->snap, x->group_id) : NULL;
        bool queued = r->polled && e && e->enqueued && np_str_eq(owner_of(e->sg), x->key);
        if (!queued && r->ctl->queue)
            np_kube_workqueue_add(r->ctl->queue, x->text);
        free(x->text);
        free(x->group_id);
    }
    free(r->parked);
    r->parked = NULL;
    r->n_parked = 0;
}

bool np_controller_region_park(struct np_controller_region *r, enum np_controller_work_kind kind,
                               const char *key, const char *group_id)
{
    char *text = np_controller_work_item_text(kind, key);
    pthread_mutex_lock(&r->lock);
    bool parked = first_poll_running_locked(r);
    if (parked) {
        /* A key parked twice (re-added, taken again before the poll ended) is enqueued twice
         * on release: the queue coalesces it. */
        r->parked = np_xrealloc(r->parked, (r->n_parked + 1) * sizeof(*r->parked));
        r->parked[r->n_parked++] =
            (struct parked){text, strchr(text, ':') + 1, np_strdup(group_id)};
        text = NULL;
    }
    pthread_mutex_unlock(&r->lock);
    free(text);
    return parked;
}

/* ---------------------------------------------------------------- polling */

static struct snap_entry *entry_copy(const struct snap_entry *old)
{
    struct snap_entry *e = entry_new(old->sg, old->fingerprint, old->put_at_ms);
    e->seen_ms = old->seen_ms;
    e->before_ms = old->before_ms;
    return e;
}

/* Dates e, read at at_ms (wall), against the entry it replaces (NULL: none): the read before
 * a change of content is the last one of the old content. */
static void date_read(struct snap_entry *e, const struct snap_entry *old, int64_t at_ms)
{
    e->seen_ms = at_ms;
    if (old && old->fingerprint == e->fingerprint)
        e->before_ms = old->before_ms;
    else
        e->before_ms = old ? old->seen_ms : 0;
}

/*
 * Fills fresh with the groups just listed; changed[] gets those whose fingerprint differs
 * from the current snapshot's (all of them on the first poll). A reconcile's read newer than
 * the poll's start (started, monotonic; read_at: the same instant, wall) is kept instead.
 * Caller holds r->lock.
 */
static void snapshot_fill_locked(struct np_controller_region *r, struct snapshot *fresh,
                                 const struct np_aws_sg *sgs, size_t n, int64_t started,
                                 int64_t read_at, struct snap_entry **changed, size_t *nchanged)
{
    for (size_t i = 0; i < n; i++) {
        if (!sgs[i].group_id || snap_find(fresh, sgs[i].group_id))
            continue; /* no id (a broken answer), or listed twice (a paging anomaly): the
                         first copy stands */
        if (!shard_keeps(r, &sgs[i]))
            continue; /* another shard's posture's: that shard polls it */
        struct snap_entry *old = snap_find(&r->snap, sgs[i].group_id);
        if (old && old->put_at_ms > started) {
            /* A reconcile recorded a newer read while this poll was in flight: keep it. */
            snap_insert(fresh, entry_copy(old));
            continue;
        }
        struct snap_entry *e = entry_new(&sgs[i], np_aws_sg_fingerprint(&sgs[i]), 0);
        date_read(e, old, read_at);
        if (!old || old->fingerprint != e->fingerprint)
            changed[(*nchanged)++] = e;
        snap_insert(fresh, e);
    }
}

/* Groups of the current snapshot the poll did not list: vanished (copies into *gone, their
 * owners must notice), unless a reconcile put them after the poll started (kept in fresh).
 * Caller holds r->lock. */
static void snapshot_missing_locked(struct np_controller_region *r, struct snapshot *fresh,
                                    int64_t started, struct np_aws_sg ***gone, size_t *ngone)
{
    for (size_t b = 0; b < r->snap.nbuckets; b++) {
        for (struct snap_entry *e = r->snap.buckets[b]; e; e = e->next) {
            if (snap_find(fresh, e->group_id))
                continue;
            if (e->put_at_ms <= started) {
                *gone = np_xrealloc(*gone, (*ngone + 1) * sizeof(**gone));
                (*gone)[(*ngone)++] = np_aws_sg_dup(e->sg);
            } else {
                snap_insert(fresh, entry_copy(e));
            }
        }
    }
}

/* One full read; swaps the snapshot and enqueues the owners of changed groups. */
static int poll_once(struct np_controller_region *r)
{
    int64_t started = np_controller_mono_ms(r->ctl);
    int64_t read_at = np_controller_now_ms(r->ctl);
    struct np_aws_sg *sgs = NULL;
    size_t n = 0;
    const char *tag_values[] = {NP_POSTURE_TAG_OWNER};
    struct np_aws_filter filter = {"tag-key", tag_values, 1};
    int rc = np_aws_ec2_describe_security_groups(r->ec2, &sgs, &n, &filter, 1, NULL, 0);
    if (rc) {
        np_log_warn("snapshot poll failed", "account", r->account, "region", r->name, "error",
                    np_error_message());
        pthread_mutex_lock(&r->lock);
        r->poll_failed = true;
        note_first_poll_over_locked(r);
        release_parked_locked(r); /* their passes read AWS themselves now */
        pthread_mutex_unlock(&r->lock);
        return rc;
    }
    struct snapshot fresh;
    snap_init(&fresh, n > 32 ? n * 2 : 64);
    struct snap_entry **changed = np_xcalloc(n + 1, sizeof(*changed));
    struct np_aws_sg **gone = NULL;
    size_t nchanged = 0, ngone = 0;
    pthread_mutex_lock(&r->lock);
    snapshot_fill_locked(r, &fresh, sgs, n, started, read_at, changed, &nchanged);
    snapshot_missing_locked(r, &fresh, started, &gone, &ngone);
    snap_clean_up(&r->snap);
    r->snap = fresh;
    r->polled = true;
    note_first_poll_over_locked(r);
    /* Enqueue under the lock: the entries in `changed` belong to the new snapshot. On the
     * first poll every group counts as changed, so nothing read before it is missed. */
    for (size_t i = 0; i < nchanged; i++)
        changed[i]->enqueued = enqueue_owner(r, changed[i]->sg);
    release_parked_locked(r);
    pthread_mutex_unlock(&r->lock);
    for (size_t i = 0; i < ngone; i++) {
        enqueue_owner(r, gone[i]);
        np_aws_sg_free(gone[i]);
    }
    free(gone);
    free(changed);
    np_aws_sgs_free(sgs, n);
    np_log_debug("snapshot polled", "account", r->account, "region", r->name,
                 NP_LOG_INT("groups", n));
    return 0;
}

static void *poller_main(void *arg)
{
    struct np_controller_region *r = arg;
    /* A region another worker built at the same time is discarded before its first poll (which
     * would enqueue every owner of the region a second time). */
    pthread_mutex_lock(&r->lock);
    while (!r->go && !r->stop)
        pthread_cond_wait(&r->cond, &r->lock);
    bool discarded = r->stop;
    pthread_mutex_unlock(&r->lock);
    if (discarded)
        return NULL;
    for (;;) {
        int64_t started = np_time_mono_ms();
        poll_once(r);
        /* Polls start one resync interval apart (a slow endpoint does not stretch the period),
         * jittered by up to 10% so many controllers (and regions) do not align, and never
         * closer than a tenth of the interval after the previous poll ended. */
        int64_t wait = r->resync_ms + (int64_t)np_rand_below((uint64_t)r->resync_ms / 10 + 1);
        int64_t gap = r->resync_ms / 10;
        pthread_mutex_lock(&r->lock);
        int64_t deadline = started + wait;
        if (deadline < np_time_mono_ms() + gap)
            deadline = np_time_mono_ms() + gap;
        while (!r->stop && np_time_mono_ms() < deadline) {
            struct timespec ts = np_time_mono_after(deadline - np_time_mono_ms());
            pthread_cond_timedwait(&r->cond, &r->lock, &ts);
        }
        bool stop = r->stop;
        pthread_mutex_unlock(&r->lock);
        if (stop)
            break;
    }
    return NULL;
}

int np_controller_region_new(struct np_controller_region **out, struct np_controller *ctl,
                             const char *account, const char *region, struct np_aws_ec2 *ec2,
                             int64_t resync_ms)
{
    struct np_controller_region *r = np_xcalloc(1, sizeof(*r));
    r->ctl = ctl;
    r->account = np_strdup(account);
    r->name = np_strdup(region);
    r->ec2 = ec2;
    r->resync_ms = resync_ms;
    pthread_mutex_init(&r->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r->cond, &ca);
    pthread_condattr_destroy(&ca);
    snap_init(&r->snap, 64);
    atomic_fetch_add(&ctl->first_polls, 1); /* counted out by the stop of a failed start */
    if (pthread_create(&r->thread, NULL, poller_main, r) != 0) {
        r->ec2 = NULL; /* the caller still owns it on failure */
        np_controller_region_destroy(r);
        *out = NULL;
        return np_error_set(NP_EIO, "cannot start the poller thread");
    }
    r->started = true;
    *out = r;
    return 0;
}

void np_controller_region_start(struct np_controller_region *r)
{
    pthread_mutex_lock(&r->lock);
    r->go = true;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
}

void np_controller_region_signal_stop(struct np_controller_region *r)
{
    pthread_mutex_lock(&r->lock);
    r->stop = true;
    note_first_poll_over_locked(r);
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
}

void np_controller_region_stop(struct np_controller_region *r)
{
    np_controller_region_signal_stop(r);
    if (r->started) {
        pthread_join(r->thread, NULL);
        r->started = false;
    }
    /* Stopped before its first poll ended: their passes go on without it. */
    pthread_mutex_lock(&r->lock);
    release_parked_locked(r);
    pthread_mutex_unlock(&r->lock);
}

void np_controller_region_destroy(struct np_controller_region *r)
{
    if (!r)
        return;
    np_controller_region_stop(r);
    np_controller_hint_store_clean_up(&r->hints);
    snap_clean_up(&r->snap);
    np_aws_ec2_destroy(r->ec2);
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->cond);
    free(r->account);
    free(r->name);
    free(r->default_vpc);
    free(r);
}

struct np_aws_ec2 *np_controller_region_ec2(struct np_controller_region *r)
{
    return r->ec2;
}

const char *np_controller_region_name(struct np_controller_region *r)
{
    return r->name;
}

int np_controller_region_snapshot_get(struct np_controller_region *r, const char *group_id,
                                      struct np_aws_sg **out)
{
    int rc = 0;
    *out = NULL;
    pthread_mutex_lock(&r->lock);
    if (!r->polled) {
        rc = NP_EAGAIN;
    } else {
        struct snap_entry *e = snap_find(&r->snap, group_id);
        if (e)
            *out = np_aws_sg_dup(e->sg);
        else
            rc = NP_ENOTFOUND;
    }
    pthread_mutex_unlock(&r->lock);
    return rc;
}

int np_controller_region_snapshot_find_uid(struct np_controller_region *r, const char *uid,
                                           struct np_aws_sg **out)
{
    int rc = NP_ENOTFOUND;
    *out = NULL;
    pthread_mutex_lock(&r->lock);
    if (!r->polled)
        rc = NP_EAGAIN;
    for (size_t b = 0; rc == NP_ENOTFOUND && b < r->snap.nbuckets; b++) {
        for (struct snap_entry *e = r->snap.buckets[b]; e; e = e->next) {
            if (np_str_eq(np_aws_tag_get(e->sg->tags, e->sg->n_tags, NP_POSTURE_TAG_UID), uid)) {
                *out = np_aws_sg_dup(e->sg);
                rc = 0;
                break;
            }
        }
    }
    pthread_mutex_unlock(&r->lock);
    return rc;
}

void np_controller_region_snapshot_put(struct np_controller_region *r, const struct np_aws_sg *sg)
{
    if (!sg->group_id)
        return;
    struct snap_entry *e = entry_new(sg, np_aws_sg_fingerprint(sg), 0);
    int64_t read_at = np_controller_now_ms(r->ctl);
    pthread_mutex_lock(&r->lock);
    e->put_at_ms = np_controller_mono_ms(r->ctl);
    date_read(e, snap_find(&r->snap, e->group_id), read_at);
    snap_insert(&r->snap, e);
    pthread_mutex_unlock(&r->lock);
}

bool np_controller_region_snapshot_reads(struct np_controller_region *r, const char *group_id,
                                         int64_t *seen_ms, int64_t *before_ms)
{
    pthread_mutex_lock(&r->lock);
    const struct snap_entry *e = snap_find(&r->snap, group_id);
    if (e) {
        *seen_ms = e->seen_ms;
        *before_ms = e->before_ms;
    }
    pthread_mutex_unlock(&r->lock);
    return e != NULL;
}

void np_controller_region_snapshot_remove(struct np_controller_region *r, const char *group_id)
{
    pthread_mutex_lock(&r->lock);
    snap_remove(&r->snap, group_id);
    pthread_mutex_unlock(&r->lock);
}

int64_t np_controller_region_resync_ms(struct np_controller_region *r)
{
    return r->resync_ms;
}

int np_controller_region_default_vpc(struct np_controller_region *r, char **vpc_id)
{
    pthread_mutex_lock(&r->lock);
    char *cached = np_strdup(r->default_vpc);
    pthread_mutex_unlock(&r->lock);
    if (cached) {
        *vpc_id = cached;
        return 0;
    }
    const char *values[] = {"true"};
    struct np_aws_filter filter = {"isDefault", values, 1};
    struct np_aws_vpc *vpcs = NULL;
    size_t n = 0;
    int rc = np_aws_ec2_describe_vpcs(r->ec2, &vpcs, &n, &filter, 1);
    if (rc)
        return rc;
    if (n == 0) {
        np_aws_vpcs_free(vpcs, n);
        return np_error_set(NP_ENOTFOUND,
                            "region %s has no default VPC: set spec.vpcId or spec.vpcRef", r->name);
    }
    *vpc_id = np_strdup(vpcs[0].vpc_id);
    pthread_mutex_lock(&r->lock);
    if (!r->default_vpc)
        r->default_vpc = np_strdup(*vpc_id);
    pthread_mutex_unlock(&r->lock);
    np_aws_vpcs_free(vpcs, n);
    return 0;
}

/* ---------------------------------------------------------------- event hints */

char *np_controller_region_note_event(struct np_controller_region *r, const char *group_id,
                                      const char *actor, bool actor_verified,
                                      const char *event_name, int64_t event_ms,
                                      const struct np_aws_sg *sg)
{
    int64_t now = np_controller_mono_ms(r->ctl);
    char *owner = NULL;
    pthread_mutex_lock(&r->lock);
    np_controller_hint_store_put(&r->hints, group_id, actor, actor_verified, event_name, event_ms,
                                 sg, now);
    struct snap_entry *e = snap_find(&r->snap, group_id);
    const char *o = e ? owner_of(e->sg) : NULL;
    if (o && strchr(o, '/'))
        owner = np_strdup(o);
    pthread_mutex_unlock(&r->lock);
    return owner;
}

bool np_controller_region_take_event(struct np_controller_region *r, const char *group_id,
                                     char **actor, bool *actor_verified, char **event_name,
                                     int64_t *event_ms, struct np_aws_sg **sg)
{
    struct np_controller_hint h;
    int64_t now = np_controller_mono_ms(r->ctl);
    pthread_mutex_lock(&r->lock);
    bool found = np_controller_hint_store_take(&r->hints, group_id, now, &h);
    pthread_mutex_unlock(&r->lock);
    *actor = h.actor;
    *actor_verified = h.actor_verified;
    *event_name = h.event_name;
    *event_ms = h.event_ms;
    *sg = h.sg;
    return found;
}

bool np_controller_region_snapshot_is_empty(struct np_controller_region *r)
{
    pthread_mutex_lock(&r->lock);
    bool empty = r->snap.len == 0;
    pthread_mutex_unlock(&r->lock);
    return empty;
}

bool np_controller_region_first_poll_running(struct np_controller_region *r)
{
    pthread_mutex_lock(&r->lock);
    bool running = first_poll_running_locked(r);
    pthread_mutex_unlock(&r->lock);
    return running;
}
