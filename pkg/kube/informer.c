/*
 * Informers: one thread per resource that lists (paginated) into the store, watches from the
 * list's resourceVersion, watches again on a clean end of stream, relists on 410 / too-large
 * RV / undecodable streams, and reconnects with jittered exponential backoff (800 ms to
 * 30 s, reset after 2 minutes of health), the reflector loop of client-go and kube-rs.
 */
#include "kube/private/kube_private.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------ backoff */

void np_kube_backoff_init(struct np_kube_backoff *b, int64_t initial_ms, int64_t max_ms,
                          int64_t reset_ms)
{
    b->initial_ms = initial_ms > 0 ? initial_ms : 800;
    b->max_ms = max_ms >= b->initial_ms ? max_ms : b->initial_ms;
    b->reset_ms = reset_ms > 0 ? reset_ms : 120000;
    b->current_ms = 0;
    b->last_ms = INT64_MIN;
}

int64_t np_kube_backoff_next(struct np_kube_backoff *b, int64_t now_ms)
{
    if (b->last_ms == INT64_MIN || now_ms - b->last_ms >= b->reset_ms || b->current_ms == 0)
        b->current_ms = b->initial_ms;
    int64_t base = b->current_ms;
    b->last_ms = now_ms;
    b->current_ms = base > b->max_ms / 2 ? b->max_ms : base * 2;
    int64_t delay = base + (int64_t)np_rand_below((uint64_t)(base / 4 + 1));
    return delay < b->max_ms ? delay : b->max_ms;
}

/* ------------------------------------------------------------ informer */

struct np_kube_informer {
    struct np_kube_client *client;
    struct np_kube_resource res;
    char *group, *version, *plural; /* owned copies behind res */
    char *namespace;
    char *label_selector;
    struct np_kube_handlers handlers;
    bool keep_managed_fields;
    void (*transform)(void *ctx, json_object *obj);
    void *transform_ctx;
    int page_size;
    int watch_timeout_s;
    struct np_kube_backoff backoff;
    struct np_kube_store *store;
    struct np_kube_cancel *cancel;
    pthread_t thread;
    bool started;
    bool joined;
    pthread_mutex_t lock; /* guards synced and stopped for the condition variable */
    pthread_cond_t cond;
    bool synced;
    bool stopped;
    atomic_uint_fast64_t lists;
    atomic_uint_fast64_t watches;
};

int np_kube_informer_new(struct np_kube_informer **out, struct np_kube_client *client,
                         const struct np_kube_informer_options *o)
{
    int rc = 0;
    struct np_kube_informer *inf = NULL;
    pthread_condattr_t attr;
    bool attr_ok = false;

    *out = NULL;
    if (!client || !o || np_str_is_empty(o->resource.version) ||
        np_str_is_empty(o->resource.plural)) {
        rc = np_error_set(NP_EINVAL, "informer needs a client and a resource version and plural");
        goto out;
    }
    if (!o->resource.namespaced && !np_str_is_empty(o->namespace)) {
        rc = np_error_set(NP_EINVAL, "informer: %s is cluster-scoped: no namespace allowed",
                          o->resource.plural);
        goto out;
    }
    inf = np_xcalloc(1, sizeof(*inf));
    inf->client = client;
    inf->group = np_strdup(o->resource.group ? o->resource.group : "");
    inf->version = np_strdup(o->resource.version);
    inf->plural = np_strdup(o->resource.plural);
    inf->res.group = inf->group;
    inf->res.version = inf->version;
    inf->res.plural = inf->plural;
    inf->res.namespaced = o->resource.namespaced;
    inf->namespace = np_str_is_empty(o->namespace) ? NULL : np_strdup(o->namespace);
    inf->label_selector = np_str_is_empty(o->label_selector) ? NULL : np_strdup(o->label_selector);
    inf->handlers = o->handlers;
    inf->keep_managed_fields = o->keep_managed_fields;
    inf->transform = o->transform;
    inf->transform_ctx = o->transform_ctx;
    inf->page_size = o->page_size > 0 ? o->page_size : 500;
    inf->watch_timeout_s = o->watch_timeout_seconds > 0 ? o->watch_timeout_seconds : 290;
    np_kube_backoff_init(&inf->backoff, o->backoff_initial_ms,
                         o->backoff_max_ms > 0 ? o->backoff_max_ms : 30000, o->backoff_reset_ms);
    atomic_init(&inf->lists, 0);
    atomic_init(&inf->watches, 0);
    if (pthread_mutex_init(&inf->lock, NULL) != 0) {
        free(inf->group);
        free(inf->version);
        free(inf->plural);
        free(inf->namespace);
        free(inf->label_selector);
        free(inf);
        inf = NULL;
        rc = np_error_set(NP_ENOMEM, "cannot create a mutex");
        goto out;
    }
    pthread_condattr_init(&attr);
    attr_ok = true;
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&inf->cond, &attr);
    rc = np_kube_store_new(&inf->store);
    if (rc)
        goto out;
    rc = np_kube_cancel_new(&inf->cancel);
    if (rc)
        goto out;
    *out = inf;
    inf = NULL;
out:
    if (attr_ok)
        pthread_condattr_destroy(&attr);
    np_kube_informer_destroy(inf);
    return rc;
}

static const char *res_name(const struct np_kube_informer *inf)
{
    return inf->plural;
}

static void set_state(struct np_kube_informer *inf, bool synced, bool stopped)
{
    pthread_mutex_lock(&inf->lock);
    if (synced)
        inf->synced = true;
    if (stopped)
        inf->stopped = true;
    pthread_cond_broadcast(&inf->cond);
    pthread_mutex_unlock(&inf->lock);
}

/* Trims an object before it is stored; the object is private to this thread here. */
static void prepare(struct np_kube_informer *inf, json_object *obj)
{
    if (!inf->keep_managed_fields) {
        json_object *meta = np_json_path(obj, "metadata", NP_JSON_END);
        if (meta && json_object_is_type(meta, json_type_object))
            json_object_object_del(meta, "managedFields");
    }
    if (inf->transform)
        inf->transform(inf->transform_ctx, obj);
}

static int on_watch_event(void *ctx, enum np_kube_event_type type, json_object *obj)
{
    struct np_kube_informer *inf = ctx;
    if (type == NP_KUBE_BOOKMARK)
        return 0;
    prepare(inf, obj);
    int rc = np_kube_store_apply(inf->store, type, obj, &inf->handlers);
    if (rc) {
        /* An object without a name cannot be stored: the stream is not what we expect. */
        np_log_warn("kube: informer dropped an event", "resource", res_name(inf), "error",
                    np_error_message(), (const char *)NULL);
        return NP_EPARSE;
    }
    return 0;
}

static int stage_page(void *ctx, json_object *items)
{
    void **args = ctx;
    struct np_kube_informer *inf = args[0];
    size_t n = json_object_array_length(items);
    for (size_t i = 0; i < n; i++)
        prepare(inf, json_object_array_get_idx(items, i));
    *(size_t *)args[2] += n;
    return np_kube_store_stage_add(args[1], items);
}

/* Lists everything page by page into a stage and swaps it in. *rv receives the list's RV. */
static int relist(struct np_kube_informer *inf, char **rv)
{
    int rc = 0;
    struct np_kube_store_stage *stage = np_kube_store_stage_new();
    struct np_kube_list_options lo = {inf->label_selector, NULL, inf->page_size, inf->cancel};
    size_t count = 0;
    void *args[3] = {inf, stage, &count};

    atomic_fetch_add(&inf->lists, 1);
    rc = np_kube_list_pages(inf->client, &inf->res, inf->namespace, &lo, stage_page, args, rv);
    if (rc)
        goto out;
    np_kube_store_stage_set_resource_version(stage, *rv);
    np_kube_store_commit(inf->store, stage, &inf->handlers);
    stage = NULL;
    set_state(inf, true, false);
    np_log_debug("kube: informer listed", "resource", res_name(inf), NP_LOG_INT("objects", count),
                 "resourceVersion", *rv, (const char *)NULL);
out:
    np_kube_store_stage_free(stage);
    return rc;
}

/* Sleeps out the next backoff delay; returns false when canceled meanwhile. */
static bool back_off(struct np_kube_informer *inf, int rc, const char *during)
{
    int64_t delay = np_kube_backoff_next(&inf->backoff, np_time_mono_ms());
    np_log_warn("kube: informer retrying", "resource", res_name(inf), "during", during, "code",
                np_error_name(rc), "error", np_error_message(), NP_LOG_INT("delay_ms", delay),
                (const char *)NULL);
    return !np_kube_cancel_wait(inf->cancel, delay);
}

static void *informer_main(void *arg)
{
    struct np_kube_informer *inf = arg;
    char *rv = NULL;
    bool need_list = true;

    while (!np_kube_cancel_is_fired(inf->cancel)) {
        int rc;
        if (need_list) {
            free(rv);
            rv = NULL;
            rc = relist(inf, &rv);
            if (rc == NP_ECANCELED || np_kube_cancel_is_fired(inf->cancel))
                break;
            if (rc) {
                if (!back_off(inf, rc, "list"))
                    break;
                continue;
            }
            need_list = false;
        }
        struct np_kube_watch_options wo = {rv, inf->label_selector, NULL, inf->watch_timeout_s,
                                           0,  inf->cancel};
        char *next_rv = NULL;
        int64_t started = np_time_mono_ms();
        atomic_fetch_add(&inf->watches, 1);
        rc = np_kube_watch(inf->client, &inf->res, inf->namespace, &wo, on_watch_event, inf,
                           &next_rv);
        if (!np_str_is_empty(next_rv)) {
            free(rv);
            rv = next_rv;
            next_rv = NULL;
        }
        free(next_rv);
        if (rc == NP_ECANCELED || np_kube_cancel_is_fired(inf->cancel))
            break;
        /* A watch that ends at once is backed off whatever the reason, so a misbehaving
         * server (or an RV that keeps expiring) cannot make us spin. */
        bool brief = np_time_mono_ms() - started < 1000;
        if (rc == 0) {
            /* A clean end: watch again from the last RV, no relist. */
            if (brief && !back_off(inf, NP_EIO, "watch (ended at once)"))
                break;
            continue;
        }
        if (rc == NP_EGONE || rc == NP_EPARSE) {
            np_log_info("kube: informer relisting", "resource", res_name(inf), "code",
                        np_error_name(rc), "error", np_error_message(), (const char *)NULL);
            need_list = true;
            if ((rc == NP_EPARSE || brief) && !back_off(inf, rc, "watch"))
                break;
            continue;
        }
        if (!back_off(inf, rc, "watch"))
            break;
    }
    free(rv);
    set_state(inf, false, true);
    return NULL;
}

int np_kube_informer_start(struct np_kube_informer *inf)
{
    if (inf->started)
        return np_error_set(NP_EINVAL, "informer for %s already started", res_name(inf));
    if (pthread_create(&inf->thread, NULL, informer_main, inf) != 0)
        return np_error_set(NP_ENOMEM, "cannot start the informer thread for %s", res_name(inf));
    inf->started = true;
    return 0;
}

void np_kube_informer_stop(struct np_kube_informer *inf)
{
    if (!inf)
        return;
    np_kube_cancel_fire(inf->cancel);
    if (inf->started && !inf->joined) {
        pthread_join(inf->thread, NULL);
        inf->joined = true;
    }
    set_state(inf, false, true);
}

void np_kube_informer_destroy(struct np_kube_informer *inf)
{
    if (!inf)
        return;
    if (inf->cancel)
        np_kube_informer_stop(inf);
    np_kube_store_destroy(inf->store);
    np_kube_cancel_destroy(inf->cancel);
    pthread_cond_destroy(&inf->cond);
    pthread_mutex_destroy(&inf->lock);
    free(inf->group);
    free(inf->version);
    free(inf->plural);
    free(inf->namespace);
    free(inf->label_selector);
    free(inf);
}

struct np_kube_store *np_kube_informer_store(struct np_kube_informer *inf)
{
    return inf->store;
}

bool np_kube_informer_has_synced(struct np_kube_informer *inf)
{
    pthread_mutex_lock(&inf->lock);
    bool synced = inf->synced;
    pthread_mutex_unlock(&inf->lock);
    return synced;
}

int np_kube_informer_wait_synced(struct np_kube_informer *inf, int64_t timeout_ms)
{
    int rc = 0;
    struct timespec deadline = np_time_mono_after(timeout_ms);
    pthread_mutex_lock(&inf->lock);
    while (!inf->synced && !inf->stopped) {
        if (pthread_cond_timedwait(&inf->cond, &inf->lock, &deadline) != 0)
            break;
    }
    if (!inf->synced)
        rc = inf->stopped ? np_error_set(NP_ECANCELED, "informer for %s stopped", res_name(inf))
                          : np_error_set(NP_ETIMEOUT, "informer for %s not synced after %lld ms",
                                         res_name(inf), (long long)timeout_ms);
    pthread_mutex_unlock(&inf->lock);
    return rc;
}

void np_kube_informer_counters(struct np_kube_informer *inf, uint64_t *lists, uint64_t *watches)
{
    if (lists)
        *lists = atomic_load(&inf->lists);
    if (watches)
        *watches = atomic_load(&inf->watches);
}
