/*
 * Leader election on a coordination.k8s.io/v1 Lease, the way client-go's leaderelection does
 * it: acquire when the Lease is free or its holder has not renewed within leaseDurationSeconds
 * of our own observation (never trusting the other host's clock), renew every retry period
 * with optimistic concurrency (resourceVersion), give up once no renew succeeded within the
 * renew deadline, release on shutdown (holder cleared) so a standby takes over within a retry
 * period. np_kube_leader_valid() is the fence every mutation checks: true only while a renew
 * that started less than the renew deadline ago succeeded, which ends before any standby may
 * take over (the lease duration is longer than the renew deadline).
 */
#include "kube/private/kube_private.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct client_ops {
    struct np_kube_client *client;
    char *ns, *name;
};

struct np_kube_leader {
    struct np_kube_lease_ops ops;
    struct np_kube_leader_options o;
    char *ns, *name, *identity;
    const struct np_clock *clock;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t thread;
    bool started;
    /* Guarded by lock. */
    bool stop, release_on_stop, leading, lost;
    int64_t renewed_mono;    /* start of the last successful acquire/renew */
    char *observed_rv;       /* the Lease's resourceVersion we last saw */
    int64_t observed_mono;   /* when it changed */
    int64_t observed_dur_ms; /* its leaseDurationSeconds */
    char *holder;            /* its holderIdentity, "" when free */
    char *uid;               /* the Lease's metadata.uid, once read */
    void *owned_ops;         /* np_kube_leader_new_for_client's context */
};

static int64_t mono(const struct np_kube_leader *le)
{
    return le->clock->mono_ms(le->clock->ctx);
}

/* ---------------------------------------------------------------- the Lease record */

static const char *spec_str(json_object *lease, const char *key)
{
    json_object *spec = NULL, *v = NULL;
    if (!json_object_object_get_ex(lease, "spec", &spec) ||
        !json_object_object_get_ex(spec, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static int64_t spec_int(json_object *lease, const char *key)
{
    json_object *spec = NULL, *v = NULL;
    if (!json_object_object_get_ex(lease, "spec", &spec) ||
        !json_object_object_get_ex(spec, key, &v) || !json_object_is_type(v, json_type_int))
        return 0;
    return json_object_get_int64(v);
}

/* Notes the record we read; a changed one restarts the holder's lease on our clock. */
static void observe_locked(struct np_kube_leader *le, json_object *lease, int64_t now)
{
    const char *rv = np_kube_object_resource_version(lease);
    const char *holder = spec_str(lease, "holderIdentity");
    const char *uid = np_kube_object_uid(lease);
    if (uid && !np_str_eq(uid, le->uid)) {
        free(le->uid);
        le->uid = np_strdup(uid);
    }
    if (!np_str_eq(rv, le->observed_rv)) {
        free(le->observed_rv);
        le->observed_rv = np_strdup(rv);
        le->observed_mono = now;
    }
    int64_t dur = spec_int(lease, "leaseDurationSeconds");
    le->observed_dur_ms = dur > 0 ? dur * 1000 : le->o.lease_duration_ms;
    if (!np_str_eq(holder ? holder : "", le->holder)) {
        free(le->holder);
        le->holder = np_strdup(holder ? holder : "");
        if (le->o.on_holder)
            le->o.on_holder(le->o.ctx, le->holder);
    }
}

/* The spec we write: ourselves as holder (transitions counted when it changes hands). */
static void set_spec(struct np_kube_leader *le, json_object *lease, bool ours_before)
{
    char now[48];
    np_time_format_micro(now, sizeof(now), le->clock->now_ms(le->clock->ctx));
    json_object *spec = NULL;
    if (!json_object_object_get_ex(lease, "spec", &spec) ||
        !json_object_is_type(spec, json_type_object)) {
        spec = json_object_new_object();
        json_object_object_add(lease, "spec", spec);
    }
    int64_t transitions = spec_int(lease, "leaseTransitions");
    json_object_object_add(spec, "holderIdentity", json_object_new_string(le->identity));
    json_object_object_add(spec, "leaseDurationSeconds",
                           json_object_new_int64((le->o.lease_duration_ms + 999) / 1000));
    json_object_object_add(spec, "renewTime", json_object_new_string(now));
    if (!ours_before) {
        json_object_object_add(spec, "acquireTime", json_object_new_string(now));
        json_object_object_add(spec, "leaseTransitions",
                               json_object_new_int64(transitions >= 0 ? transitions + 1 : 0));
    }
}

/* A new Lease naming us. */
static json_object *new_lease(struct np_kube_leader *le)
{
    json_object *lease = json_object_new_object();
    json_object *meta = json_object_new_object();
    json_object_object_add(lease, "apiVersion", json_object_new_string("coordination.k8s.io/v1"));
    json_object_object_add(lease, "kind", json_object_new_string("Lease"));
    json_object_object_add(meta, "name", json_object_new_string(le->name));
    json_object_object_add(meta, "namespace", json_object_new_string(le->ns));
    json_object_object_add(lease, "metadata", meta);
    set_spec(le, lease, false);
    json_object *spec = NULL;
    json_object_object_get_ex(lease, "spec", &spec);
    json_object_object_add(spec, "leaseTransitions", json_object_new_int64(0));
    return lease;
}

/* ---------------------------------------------------------------- one round */

/* Whether the Lease read is held by someone else whose lease has not run out on our clock. */
static bool held_by_other_locked(struct np_kube_leader *le, json_object *lease, int64_t now)
{
    const char *holder = spec_str(lease, "holderIdentity");
    if (np_str_is_empty(holder) || strcmp(holder, le->identity) == 0)
        return false;
    return now < le->observed_mono + le->observed_dur_ms;
}

int np_kube_leader_try(struct np_kube_leader *le)
{
    int64_t started = mono(le);
    json_object *lease = NULL, *written = NULL;
    int rc = le->ops.get(le->ops.ctx, &lease);
    if (rc == NP_ENOTFOUND) {
        json_object *fresh = new_lease(le);
        rc = le->ops.create(le->ops.ctx, fresh, &written);
        json_object_put(fresh);
    } else if (rc == 0) {
        pthread_mutex_lock(&le->lock);
        observe_locked(le, lease, started);
        bool other = held_by_other_locked(le, lease, mono(le));
        pthread_mutex_unlock(&le->lock);
        const char *holder = spec_str(lease, "holderIdentity");
        if (other) {
            rc = np_error_set(NP_EDENIED, "the lease is held by %s", holder);
        } else {
            set_spec(le, lease, np_str_eq(holder, le->identity));
            rc = le->ops.update(le->ops.ctx, lease, &written);
        }
    }
    pthread_mutex_lock(&le->lock);
    if (rc == 0) {
        observe_locked(le, written, mono(le));
        le->renewed_mono = started;
    }
    pthread_mutex_unlock(&le->lock);
    json_object_put(lease);
    json_object_put(written);
    return rc;
}

int np_kube_leader_release(struct np_kube_leader *le)
{
    json_object *lease = NULL, *written = NULL;
    int rc = le->ops.get(le->ops.ctx, &lease);
    if (rc == 0 && !np_str_eq(spec_str(lease, "holderIdentity"), le->identity))
        rc = np_error_set(NP_EDENIED, "the lease is not ours any more");
    if (rc == 0) {
        set_spec(le, lease, true);
        json_object *spec = NULL;
        json_object_object_get_ex(lease, "spec", &spec);
        json_object_object_add(spec, "holderIdentity", json_object_new_string(""));
        json_object_object_add(spec, "leaseDurationSeconds", json_object_new_int64(1));
        rc = le->ops.update(le->ops.ctx, lease, &written);
    }
    pthread_mutex_lock(&le->lock);
    le->leading = false;
    le->renewed_mono = 0;
    if (rc == 0)
        observe_locked(le, written, mono(le));
    pthread_mutex_unlock(&le->lock);
    json_object_put(lease);
    json_object_put(written);
    return rc;
}

bool np_kube_leader_valid(struct np_kube_leader *le)
{
    pthread_mutex_lock(&le->lock);
    bool ok = le->leading && !le->lost && mono(le) < le->renewed_mono + le->o.renew_deadline_ms;
    pthread_mutex_unlock(&le->lock);
    return ok;
}

/* ---------------------------------------------------------------- the loop */

/* Sleeps about ms (jittered up to 20% more, as client-go does); false once stopping. */
static bool pause_locked(struct np_kube_leader *le, int64_t ms)
{
    int64_t wait = ms + (int64_t)np_rand_below((uint64_t)(ms / 5 + 1));
    struct timespec ts = np_time_mono_after(wait);
    while (!le->stop && pthread_cond_timedwait(&le->cond, &le->lock, &ts) == 0)
        ;
    return !le->stop;
}

static void set_leading_locked(struct np_kube_leader *le, bool leading)
{
    if (le->leading == leading)
        return;
    le->leading = leading;
    if (!leading)
        le->lost = true;
    pthread_cond_broadcast(&le->cond);
    if (le->o.on_leading)
        le->o.on_leading(le->o.ctx, leading);
}

static void *leader_main(void *arg)
{
    struct np_kube_leader *le = arg;
    pthread_mutex_lock(&le->lock);
    while (!le->stop && !le->lost) {
        pthread_mutex_unlock(&le->lock);
        int rc = np_kube_leader_try(le);
        char *msg = rc ? np_strdup(np_error_message()) : NULL;
        pthread_mutex_lock(&le->lock);
        if (rc == 0) {
            set_leading_locked(le, true);
        } else if (le->leading && mono(le) >= le->renewed_mono + le->o.renew_deadline_ms) {
            np_log_error("leader election: lease lost (no renew within the deadline)", "lease",
                         le->name, "error", msg);
            set_leading_locked(le, false);
        } else if (le->leading) {
            np_log_warn("leader election: renew failed, retrying", "lease", le->name, "error", msg);
        }
        free(msg);
        pause_locked(le, le->o.retry_period_ms);
    }
    bool release = le->stop && le->release_on_stop && le->leading;
    pthread_mutex_unlock(&le->lock);
    if (release && np_kube_leader_release(le) != 0)
        np_log_warn("leader election: cannot release the lease", "lease", le->name, "error",
                    np_error_message());
    else if (release)
        np_log_info("leader election: lease released", "lease", le->name);
    return NULL;
}

int np_kube_leader_new(struct np_kube_leader **out, const struct np_kube_lease_ops *ops,
                       const struct np_kube_leader_options *o)
{
    *out = NULL;
    if (np_str_is_empty(o->namespace) || np_str_is_empty(o->name) || np_str_is_empty(o->identity))
        return np_error_set(NP_EINVAL, "leader election: namespace, name and identity are needed");
    if (!(o->retry_period_ms > 0 && o->retry_period_ms < o->renew_deadline_ms &&
          o->renew_deadline_ms < o->lease_duration_ms))
        return np_error_set(NP_EINVAL, "leader election: need retry period < renew deadline < "
                                       "lease duration");
    struct np_kube_leader *le = np_xcalloc(1, sizeof(*le));
    le->ops = *ops;
    le->o = *o;
    le->ns = np_strdup(o->namespace);
    le->name = np_strdup(o->name);
    le->identity = np_strdup(o->identity);
    le->holder = np_strdup("");
    le->clock = o->clock ? o->clock : np_clock_system();
    pthread_mutex_init(&le->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&le->cond, &ca);
    pthread_condattr_destroy(&ca);
    *out = le;
    return 0;
}

int np_kube_leader_start(struct np_kube_leader *le)
{
    if (pthread_create(&le->thread, NULL, leader_main, le) != 0)
        return np_error_set(NP_EIO, "leader election: cannot start its thread");
    le->started = true;
    return 0;
}

int np_kube_leader_wait(struct np_kube_leader *le, int64_t timeout_ms)
{
    struct timespec ts = np_time_mono_after(timeout_ms);
    pthread_mutex_lock(&le->lock);
    int rc = 0;
    while (!le->leading && !le->stop && !le->lost && rc == 0)
        rc = pthread_cond_timedwait(&le->cond, &le->lock, &ts);
    int out = le->leading ? 0 : le->lost ? NP_EDENIED : NP_ETIMEOUT;
    pthread_mutex_unlock(&le->lock);
    return out;
}

bool np_kube_leader_lost(struct np_kube_leader *le)
{
    pthread_mutex_lock(&le->lock);
    bool lost = le->lost;
    pthread_mutex_unlock(&le->lock);
    return lost;
}

void np_kube_leader_stop(struct np_kube_leader *le, bool release)
{
    if (!le)
        return;
    pthread_mutex_lock(&le->lock);
    le->stop = true;
    le->release_on_stop = release;
    pthread_cond_broadcast(&le->cond);
    pthread_mutex_unlock(&le->lock);
    if (le->started)
        pthread_join(le->thread, NULL);
    le->started = false;
}

void np_kube_leader_destroy(struct np_kube_leader *le)
{
    if (!le)
        return;
    np_kube_leader_stop(le, false);
    pthread_mutex_destroy(&le->lock);
    pthread_cond_destroy(&le->cond);
    free(le->ns);
    free(le->name);
    free(le->identity);
    free(le->observed_rv);
    free(le->holder);
    free(le->uid);
    struct client_ops *c = le->owned_ops;
    if (c) {
        free(c->ns);
        free(c->name);
        free(c);
    }
    free(le);
}

/* ---------------------------------------------------------------- the Lease through a client */

static int lease_get(void *ctx, json_object **out)
{
    struct client_ops *c = ctx;
    return np_kube_get(c->client, out, &np_kube_res_leases, c->ns, c->name);
}

static int lease_create(void *ctx, json_object *lease, json_object **out)
{
    struct client_ops *c = ctx;
    return np_kube_create(c->client, out, &np_kube_res_leases, c->ns, lease);
}

static int lease_update(void *ctx, json_object *lease, json_object **out)
{
    struct client_ops *c = ctx;
    return np_kube_replace(c->client, out, &np_kube_res_leases, c->ns, c->name, lease);
}

int np_kube_leader_new_for_client(struct np_kube_leader **out, struct np_kube_client *client,
                                  const struct np_kube_leader_options *o)
{
    struct client_ops *c = np_xcalloc(1, sizeof(*c));
    c->client = client;
    c->ns = np_strdup(o->namespace);
    c->name = np_strdup(o->name);
    struct np_kube_lease_ops ops = {lease_get, lease_create, lease_update, c};
    int rc = np_kube_leader_new(out, &ops, o);
    if (rc) {
        free(c->ns);
        free(c->name);
        free(c);
        return rc;
    }
    (*out)->owned_ops = c;
    return 0;
}

char *np_kube_leader_lease_uid(struct np_kube_leader *le)
{
    pthread_mutex_lock(&le->lock);
    char *uid = le->uid ? np_strdup(le->uid) : NULL;
    pthread_mutex_unlock(&le->lock);
    return uid;
}
