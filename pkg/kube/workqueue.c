/*
 * The workqueue of client-go: a FIFO of keys with a dirty set (a key is queued once) and a
 * processing set (a key is never handed to two workers; re-added keys wait for done()),
 * a delay heap for add_after, and per-key exponential backoff for add_rate_limited. Time
 * comes from an injected clock so tests drive it without sleeping. An optional observer is
 * told of adds, takes (with the time queued), dones (with the time worked) and retries; the
 * dirty set's num keeps when a key was queued, the processing set's when it was taken.
 */
#include "kube/private/kube_private.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

struct delayed {
    char *key;
    int64_t at; /* clock mono ms */
};

struct np_kube_workqueue {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    const struct np_clock *clock;
    int64_t base_ms;
    int64_t max_ms;
    char **ring; /* FIFO of owned keys */
    size_t head, count, cap;
    struct np_kube_strmap dirty;      /* num = mono ms queued */
    struct np_kube_strmap processing; /* num = mono ms taken */
    struct np_kube_strmap failures;   /* num = failures */
    struct np_kube_strmap waiting;    /* num = index in heap */
    struct delayed *heap;
    size_t nheap, capheap;
    bool shutting_down;
    struct np_kube_workqueue_observer obs;
};

int np_kube_workqueue_new(struct np_kube_workqueue **out, const struct np_kube_workqueue_options *o)
{
    int rc = 0;
    struct np_kube_workqueue *q = np_xcalloc(1, sizeof(*q));
    pthread_condattr_t attr;
    bool lock_ok = false;

    *out = NULL;
    if (pthread_mutex_init(&q->lock, NULL) != 0) {
        rc = np_error_set(NP_ENOMEM, "cannot create a mutex");
        goto out;
    }
    lock_ok = true;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    int crc = pthread_cond_init(&q->cond, &attr);
    pthread_condattr_destroy(&attr);
    if (crc != 0) {
        rc = np_error_set(NP_ENOMEM, "cannot create a condition variable");
        goto out;
    }
    q->clock = o && o->clock ? o->clock : np_clock_system();
    if (o)
        q->obs = o->observer;
    q->base_ms = o && o->base_delay_ms > 0 ? o->base_delay_ms : 1000;
    q->max_ms = o && o->max_delay_ms > 0 ? o->max_delay_ms : 300000;
    if (q->max_ms < q->base_ms)
        q->max_ms = q->base_ms;
    np_kube_strmap_init(&q->dirty);
    np_kube_strmap_init(&q->processing);
    np_kube_strmap_init(&q->failures);
    np_kube_strmap_init(&q->waiting);
    *out = q;
    q = NULL;
out:
    if (q) {
        if (lock_ok)
            pthread_mutex_destroy(&q->lock);
        free(q);
    }
    return rc;
}

void np_kube_workqueue_destroy(struct np_kube_workqueue *q)
{
    if (!q)
        return;
    for (size_t i = 0; i < q->count; i++)
        free(q->ring[(q->head + i) % q->cap]);
    free(q->ring);
    for (size_t i = 0; i < q->nheap; i++)
        free(q->heap[i].key);
    free(q->heap);
    np_kube_strmap_clean_up(&q->dirty);
    np_kube_strmap_clean_up(&q->processing);
    np_kube_strmap_clean_up(&q->failures);
    np_kube_strmap_clean_up(&q->waiting);
    pthread_cond_destroy(&q->cond);
    pthread_mutex_destroy(&q->lock);
    free(q);
}

static int64_t now_ms(struct np_kube_workqueue *q)
{
    return q->clock->mono_ms(q->clock->ctx);
}

/* ------------------------------------------------------------ FIFO */

static void ring_push(struct np_kube_workqueue *q, const char *key)
{
    if (q->count == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 16;
        char **ring = np_xcalloc(cap, sizeof(*ring));
        for (size_t i = 0; i < q->count; i++)
            ring[i] = q->ring[(q->head + i) % q->cap];
        free(q->ring);
        q->ring = ring;
        q->cap = cap;
        q->head = 0;
    }
    q->ring[(q->head + q->count) % q->cap] = np_strdup(key);
    q->count++;
}

static char *ring_pop(struct np_kube_workqueue *q)
{
    char *key = q->ring[q->head];
    q->ring[q->head] = NULL;
    q->head = (q->head + 1) % q->cap;
    q->count--;
    return key;
}

/* The add of client-go: dirty dedups; a key in processing waits for done(). */
static void add_locked(struct np_kube_workqueue *q, const char *key)
{
    bool created = false;
    struct np_kube_strmap_entry *e = np_kube_strmap_upsert(&q->dirty, key, &created);
    if (!created)
        return;
    e->num = now_ms(q);
    if (q->obs.added)
        q->obs.added(q->obs.ctx);
    if (np_kube_strmap_find(&q->processing, key))
        return;
    ring_push(q, key);
    pthread_cond_signal(&q->cond);
}

/* ------------------------------------------------------------ delay heap */

static void heap_set(struct np_kube_workqueue *q, size_t i, struct delayed d)
{
    q->heap[i] = d;
    np_kube_strmap_find(&q->waiting, d.key)->num = (int64_t)i;
}

static void sift_up(struct np_kube_workqueue *q, size_t i)
{
    struct delayed d = q->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (q->heap[parent].at <= d.at)
            break;
        heap_set(q, i, q->heap[parent]);
        i = parent;
    }
    heap_set(q, i, d);
}

static void sift_down(struct np_kube_workqueue *q, size_t i)
{
    struct delayed d = q->heap[i];
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        int64_t best = d.at;
        if (l < q->nheap && q->heap[l].at < best) {
            m = l;
            best = q->heap[l].at;
        }
        if (r < q->nheap && q->heap[r].at < best)
            m = r;
        if (m == i)
            break;
        heap_set(q, i, q->heap[m]);
        i = m;
    }
    heap_set(q, i, d);
}

static struct delayed heap_pop(struct np_kube_workqueue *q)
{
    struct delayed top = q->heap[0];
    np_kube_strmap_remove(&q->waiting, top.key);
    q->nheap--;
    if (q->nheap > 0) {
        q->heap[0] = q->heap[q->nheap];
        sift_down(q, 0);
    }
    return top;
}

static size_t process_due_locked(struct np_kube_workqueue *q)
{
    size_t n = 0;
    if (q->nheap == 0)
        return 0;
    int64_t now = now_ms(q);
    while (q->nheap > 0 && q->heap[0].at <= now) {
        struct delayed d = heap_pop(q);
        add_locked(q, d.key);
        free(d.key);
        n++;
    }
    return n;
}

/* ------------------------------------------------------------ public */

void np_kube_workqueue_add(struct np_kube_workqueue *q, const char *key)
{
    if (np_str_is_empty(key))
        return;
    pthread_mutex_lock(&q->lock);
    if (!q->shutting_down)
        add_locked(q, key);
    pthread_mutex_unlock(&q->lock);
}

void np_kube_workqueue_add_after(struct np_kube_workqueue *q, const char *key, int64_t delay_ms)
{
    if (np_str_is_empty(key))
        return;
    if (delay_ms <= 0) {
        np_kube_workqueue_add(q, key);
        return;
    }
    pthread_mutex_lock(&q->lock);
    if (q->shutting_down)
        goto out;
    int64_t at = now_ms(q) + delay_ms;
    bool created = false;
    struct np_kube_strmap_entry *e = np_kube_strmap_upsert(&q->waiting, key, &created);
    if (!created) {
        size_t i = (size_t)e->num;
        if (at < q->heap[i].at) {
            q->heap[i].at = at;
            sift_up(q, i);
        }
        goto out;
    }
    if (q->nheap == q->capheap) {
        q->capheap = q->capheap ? q->capheap * 2 : 16;
        q->heap = np_xrealloc(q->heap, q->capheap * sizeof(*q->heap));
    }
    q->heap[q->nheap] = (struct delayed){np_strdup(key), at};
    e->num = (int64_t)q->nheap;
    q->nheap++;
    sift_up(q, q->nheap - 1);
    /* Blocked getters recompute how long to wait. */
    pthread_cond_broadcast(&q->cond);
out:
    pthread_mutex_unlock(&q->lock);
}

void np_kube_workqueue_add_rate_limited(struct np_kube_workqueue *q, const char *key)
{
    if (np_str_is_empty(key))
        return;
    pthread_mutex_lock(&q->lock);
    struct np_kube_strmap_entry *e = np_kube_strmap_upsert(&q->failures, key, NULL);
    int64_t delay = q->base_ms;
    for (int64_t i = 0; i < e->num && delay < q->max_ms; i++)
        delay *= 2;
    if (delay > q->max_ms)
        delay = q->max_ms;
    e->num++;
    if (q->obs.retried)
        q->obs.retried(q->obs.ctx);
    pthread_mutex_unlock(&q->lock);
    np_kube_workqueue_add_after(q, key, delay);
}

void np_kube_workqueue_forget(struct np_kube_workqueue *q, const char *key)
{
    if (!key)
        return;
    pthread_mutex_lock(&q->lock);
    np_kube_strmap_remove(&q->failures, key);
    pthread_mutex_unlock(&q->lock);
}

int np_kube_workqueue_num_requeues(struct np_kube_workqueue *q, const char *key)
{
    if (!key)
        return 0;
    pthread_mutex_lock(&q->lock);
    struct np_kube_strmap_entry *e = np_kube_strmap_find(&q->failures, key);
    int n = e ? (int)e->num : 0;
    pthread_mutex_unlock(&q->lock);
    return n;
}

/* Hands out the head of the FIFO; lock held, count > 0. */
static char *take_locked(struct np_kube_workqueue *q)
{
    char *key = ring_pop(q);
    int64_t now = now_ms(q);
    np_kube_strmap_upsert(&q->processing, key, NULL)->num = now;
    struct np_kube_strmap_entry *d = np_kube_strmap_find(&q->dirty, key);
    if (d && q->obs.taken)
        q->obs.taken(q->obs.ctx, now - d->num);
    np_kube_strmap_remove(&q->dirty, key);
    return key;
}

int np_kube_workqueue_try_get(struct np_kube_workqueue *q, char **key)
{
    int rc = 0;
    *key = NULL;
    pthread_mutex_lock(&q->lock);
    if (q->shutting_down) {
        rc = np_error_set(NP_ECANCELED, "workqueue shut down");
        goto out;
    }
    process_due_locked(q);
    if (q->count == 0) {
        rc = NP_EAGAIN;
        goto out;
    }
    *key = take_locked(q);
out:
    pthread_mutex_unlock(&q->lock);
    return rc;
}

int np_kube_workqueue_get(struct np_kube_workqueue *q, char **key)
{
    int rc = 0;
    *key = NULL;
    pthread_mutex_lock(&q->lock);
    for (;;) {
        if (q->shutting_down) {
            rc = np_error_set(NP_ECANCELED, "workqueue shut down");
            goto out;
        }
        process_due_locked(q);
        if (q->count > 0)
            break;
        if (q->nheap == 0) {
            pthread_cond_wait(&q->cond, &q->lock);
            continue;
        }
        /* Sleep until the earliest delayed key is due (by the queue's clock), at most 1 s
         * so a clock that jumps is noticed. */
        int64_t wait = q->heap[0].at - now_ms(q);
        if (wait < 1)
            wait = 1;
        if (wait > 1000)
            wait = 1000;
        struct timespec deadline = np_time_mono_after(wait);
        pthread_cond_timedwait(&q->cond, &q->lock, &deadline);
    }
    *key = take_locked(q);
out:
    pthread_mutex_unlock(&q->lock);
    return rc;
}

void np_kube_workqueue_done(struct np_kube_workqueue *q, const char *key)
{
    if (!key)
        return;
    pthread_mutex_lock(&q->lock);
    struct np_kube_strmap_entry *p = np_kube_strmap_find(&q->processing, key);
    if (p && q->obs.done)
        q->obs.done(q->obs.ctx, now_ms(q) - p->num);
    if (np_kube_strmap_remove(&q->processing, key) && np_kube_strmap_find(&q->dirty, key) &&
        !q->shutting_down) {
        ring_push(q, key);
        pthread_cond_signal(&q->cond);
    }
    pthread_mutex_unlock(&q->lock);
}

size_t np_kube_workqueue_process_due(struct np_kube_workqueue *q)
{
    pthread_mutex_lock(&q->lock);
    size_t n = process_due_locked(q);
    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->lock);
    return n;
}

size_t np_kube_workqueue_len(struct np_kube_workqueue *q)
{
    pthread_mutex_lock(&q->lock);
    size_t n = q->count;
    pthread_mutex_unlock(&q->lock);
    return n;
}

size_t np_kube_workqueue_delayed_len(struct np_kube_workqueue *q)
{
    pthread_mutex_lock(&q->lock);
    size_t n = q->nheap;
    pthread_mutex_unlock(&q->lock);
    return n;
}

void np_kube_workqueue_stats(struct np_kube_workqueue *q, struct np_kube_workqueue_stats *out)
{
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&q->lock);
    int64_t now = now_ms(q);
    out->depth = q->count;
    out->delayed = q->nheap;
    out->processing = q->processing.len;
    for (size_t b = 0; b < q->processing.nbuckets; b++) {
        for (struct np_kube_strmap_entry *e = q->processing.buckets[b]; e; e = e->next) {
            int64_t age = now - e->num;
            out->unfinished_ms += age;
            if (age > out->longest_ms)
                out->longest_ms = age;
        }
    }
    pthread_mutex_unlock(&q->lock);
}

void np_kube_workqueue_shutdown(struct np_kube_workqueue *q)
{
    pthread_mutex_lock(&q->lock);
    q->shutting_down = true;
    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->lock);
}

bool np_kube_workqueue_is_shutting_down(struct np_kube_workqueue *q)
{
    pthread_mutex_lock(&q->lock);
    bool s = q->shutting_down;
    pthread_mutex_unlock(&q->lock);
    return s;
}
