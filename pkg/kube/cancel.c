/*
 * Cancellation tokens: a flag any thread can raise to stop watches (whose curl multi
 * handles are woken at once), requests (checked from libcurl's progress callback) and
 * backoff waits (a condition variable on the monotonic clock).
 */
#include "kube/private/kube_private.h"

#include <curl/curl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

struct np_kube_cancel {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    atomic_bool fired;
    CURLM **multis; /* running watches to wake */
    size_t nmultis;
    size_t cap;
};

int np_kube_cancel_new(struct np_kube_cancel **out)
{
    int rc = 0;
    struct np_kube_cancel *c = np_xcalloc(1, sizeof(*c));
    pthread_condattr_t attr;
    bool attr_ok = false, lock_ok = false;

    *out = NULL;
    if (pthread_mutex_init(&c->lock, NULL) != 0) {
        rc = np_error_set(NP_ENOMEM, "cannot create a mutex");
        goto out;
    }
    lock_ok = true;
    if (pthread_condattr_init(&attr) != 0) {
        rc = np_error_set(NP_ENOMEM, "cannot create a condition variable");
        goto out;
    }
    attr_ok = true;
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    if (pthread_cond_init(&c->cond, &attr) != 0) {
        rc = np_error_set(NP_ENOMEM, "cannot create a condition variable");
        goto out;
    }
    atomic_init(&c->fired, false);
    *out = c;
    c = NULL;
out:
    if (attr_ok)
        pthread_condattr_destroy(&attr);
    if (c) {
        if (lock_ok)
            pthread_mutex_destroy(&c->lock);
        free(c);
    }
    return rc;
}

void np_kube_cancel_destroy(struct np_kube_cancel *c)
{
    if (!c)
        return;
    pthread_cond_destroy(&c->cond);
    pthread_mutex_destroy(&c->lock);
    free(c->multis);
    free(c);
}

void np_kube_cancel_fire(struct np_kube_cancel *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    atomic_store(&c->fired, true);
    for (size_t i = 0; i < c->nmultis; i++)
        curl_multi_wakeup(c->multis[i]);
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
}

bool np_kube_cancel_is_fired(struct np_kube_cancel *c)
{
    return c && atomic_load(&c->fired);
}

bool np_kube_cancel_wait(struct np_kube_cancel *c, int64_t ms)
{
    if (!c) {
        np_sleep_ms(ms);
        return false;
    }
    struct timespec deadline = np_time_mono_after(ms);
    pthread_mutex_lock(&c->lock);
    while (!atomic_load(&c->fired)) {
        if (pthread_cond_timedwait(&c->cond, &c->lock, &deadline) != 0)
            break; /* ETIMEDOUT */
    }
    bool fired = atomic_load(&c->fired);
    pthread_mutex_unlock(&c->lock);
    return fired;
}

void np_kube_cancel_attach(struct np_kube_cancel *c, void *multi)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    if (c->nmultis == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 4;
        c->multis = np_xrealloc(c->multis, c->cap * sizeof(*c->multis));
    }
    c->multis[c->nmultis++] = multi;
    pthread_mutex_unlock(&c->lock);
}

void np_kube_cancel_detach(struct np_kube_cancel *c, void *multi)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < c->nmultis; i++) {
        if (c->multis[i] == multi) {
            c->multis[i] = c->multis[--c->nmultis];
            break;
        }
    }
    pthread_mutex_unlock(&c->lock);
}
