/*
 * Unit tests of the workqueue with a fake clock: dedup, FIFO, no double processing,
 * dirty-while-processing re-queue, add_after, rate-limited backoff and forget, shutdown
 * waking blocked getters, and a many-worker run checking a key is never processed twice.
 */
#include "helpers.h"
#include "kube/kube.h"

#include <criterion/criterion.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct np_kube_workqueue *new_queue(struct fake_clock *fc, int64_t base, int64_t max)
{
    fake_clock_init(fc, 0);
    struct np_kube_workqueue_options o = {
        .clock = &fc->clock, .base_delay_ms = base, .max_delay_ms = max};
    struct np_kube_workqueue *q = NULL;
    cr_assert_eq(np_kube_workqueue_new(&q, &o), 0);
    return q;
}

static void expect_get(struct np_kube_workqueue *q, const char *want)
{
    char *key = NULL;
    int rc = np_kube_workqueue_try_get(q, &key);
    cr_assert_eq(rc, 0, "wanted %s, got %s", want, np_error_name(rc));
    cr_assert_str_eq(key, want);
    free(key);
}

static void expect_empty(struct np_kube_workqueue *q)
{
    char *key = NULL;
    int rc = np_kube_workqueue_try_get(q, &key);
    cr_assert_eq(rc, NP_EAGAIN, "queue handed out %s", key ? key : "(null)");
    cr_assert_null(key);
}

Test(workqueue, dedup_and_fifo)
{
    struct fake_clock fc;
    struct np_kube_workqueue *q = new_queue(&fc, 0, 0);
    np_kube_workqueue_add(q, "ns/a");
    np_kube_workqueue_add(q, "ns/b");
    np_kube_workqueue_add(q, "ns/a");
    np_kube_workqueue_add(q, "ns/c");
    np_kube_workqueue_add(q, "ns/b");
    cr_assert_eq(np_kube_workqueue_len(q), 3);
    expect_get(q, "ns/a");
    expect_get(q, "ns/b");
    expect_get(q, "ns/c");
    expect_empty(q);
    np_kube_workqueue_done(q, "ns/a");
    np_kube_workqueue_done(q, "ns/b");
    np_kube_workqueue_done(q, "ns/c");
    expect_empty(q);
    np_kube_workqueue_destroy(q);
}

Test(workqueue, fifo_many_keys)
{
    struct fake_clock fc;
    struct np_kube_workqueue *q = new_queue(&fc, 0, 0);
    char key[32];
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        np_kube_workqueue_add(q, key);
    }
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        expect_get(q, key);
        np_kube_workqueue_done(q, key);
    }
    np_kube_workqueue_destroy(q);
}

Test(workqueue, never_two_workers_and_dirty_requeue)
{
    struct fake_clock fc;
    struct np_kube_workqueue *q = new_queue(&fc, 0, 0);
    np_kube_workqueue_add(q, "ns/a");
    expect_get(q, "ns/a");
    /* Added while a worker has it: not handed to a second worker... */
    np_kube_workqueue_add(q, "ns/a");
    np_kube_workqueue_add(q, "ns/a");
    cr_assert_eq(np_kube_workqueue_len(q), 0);
    expect_empty(q);
    /* ...but queued again, once, when the first is done. */
    np_kube_workqueue_done(q, "ns/a");
    cr_assert_eq(np_kube_workqueue_len(q), 1);
    expect_get(q, "ns/a");
    np_kube_workqueue_done(q, "ns/a");
    expect_empty(q);
    /* done() without a new add does not re-queue. */
    np_kube_workqueue_add(q, "ns/b");
    expect_get(q, "ns/b");
    np_kube_workqueue_done(q, "ns/b");
    expect_empty(q);
    np_kube_workqueue_destroy(q);
}

Test(workqueue, add_after_with_fake_time)
{
    struct fake_clock fc;
    struct np_kube_workqueue *q = new_queue(&fc, 0, 0);
    np_kube_workqueue_add_after(q, "ns/a", 1000);
    np_kube_workqueue_add_after(q, "ns/b", 500);
    np_kube_workqueue_add_after(q, "ns/now", 0);
    cr_assert_eq(np_kube_workqueue_len(q), 1);
    cr_assert_eq(np_kube_workqueue_delayed_len(q), 2);
    expect_get(q, "ns/now");
    fake_clock_advance(&fc, 499);
    cr_assert_eq(np_kube_workqueue_process_due(q), 0);
    expect_empty(q);
    fake_clock_advance(&fc, 1);
    expect_get(q, "ns/b");
    fake_clock_advance(&fc, 499);
    expect_empty(q);
    fake_clock_advance(&fc, 1);
    cr_assert_eq(np_kube_workqueue_process_due(q), 1);
    cr_assert_eq(np_kube_workqueue_delayed_len(q), 0);
    expect_get(q, "ns/a");
    np_kube_workqueue_destroy(q);
}

Test(workqueue, add_after_keeps_the_earliest_time)
{
    struct fake_clock fc;
    struct np_kube_workqueue *q = new_queue(&fc, 0, 0);
    np_kube_workqueue_add_after(q, "ns/a", 5000);
    np_kube_workqueue_add_after(q, "ns/a", 1000);
    np_kube_workqueue_add_after(q, "ns/a", 9000);
    cr_assert_eq(np_kube_workqueue_delayed_len(q), 1);
    fake_clock_advance(&fc, 1000);
    expect_get(q, "ns/a");
    fake_clock_advance(&fc, 10000);
    np_kube_workqueue_done(q, "ns/a");
    expect_empty(q);
    np_kube_workqueue_destroy(q);
}

Test(workqueue, delay_heap_orders_many_keys)
{
    struct fake_clock fc;
    struct np_kube_workqueue *q = new_queue(&fc, 0, 0);
    char key[32];
    /* Delays in a scrambled order: 37 * i mod 101 is a permutation of 0..100. */
    for (int i = 1; i <= 100; i++) {
        int d = (37 * i) % 101;
        snprintf(key, sizeof(key), "k%03d", d);
        np_kube_workqueue_add_after(q, key, (int64_t)d * 10);
    }
    for (int d = 1; d <= 100; d++) {
        fake_clock_advance(&fc, 10);
        snprintf(key, sizeof(key), "k%03d", d);
        expect_get(q, key);
        expect_empty(q);
    }
    np_kube_workqueue_destroy(q);
}

Test(workqueue, rate_limited_backoff_and_forget)
{
    struct fake_clock fc;
    struct np_kube_workqueue *q = new_queue(&fc, 1000, 8000);
    static const int64_t delays[] = {1000, 2000, 4000, 8000, 8000};
    for (size_t i = 0; i < NP_ARRAY_LEN(delays); i++) {
        np_kube_workqueue_add_rate_limited(q, "ns/a");
        fake_clock_advance(&fc, delays[i] - 1);
        expect_empty(q);
        fake_clock_advance(&fc, 1);
        expect_get(q, "ns/a");
        np_kube_workqueue_done(q, "ns/a");
    }
    cr_assert_eq(np_kube_workqueue_num_requeues(q, "ns/a"), 5);
    cr_assert_eq(np_kube_workqueue_num_requeues(q, "ns/other"), 0);
    np_kube_workqueue_forget(q, "ns/a");
    cr_assert_eq(np_kube_workqueue_num_requeues(q, "ns/a"), 0);
    np_kube_workqueue_add_rate_limited(q, "ns/a");
    fake_clock_advance(&fc, 1000);
    expect_get(q, "ns/a");
    np_kube_workqueue_destroy(q);
}

Test(workqueue, default_backoff_is_1s_to_5min)
{
    struct fake_clock fc;
    fake_clock_init(&fc, 0);
    struct np_kube_workqueue_options o = {.clock = &fc.clock};
    struct np_kube_workqueue *q = NULL;
    cr_assert_eq(np_kube_workqueue_new(&q, &o), 0);
    np_kube_workqueue_add_rate_limited(q, "k");
    fake_clock_advance(&fc, 999);
    expect_empty(q);
    fake_clock_advance(&fc, 1);
    expect_get(q, "k");
    np_kube_workqueue_done(q, "k");
    for (int i = 0; i < 30; i++)
        np_kube_workqueue_add_rate_limited(q, "k"); /* counts failures; keeps the earliest */
    np_kube_workqueue_forget(q, "k");
    fake_clock_advance(&fc, 2000);
    expect_get(q, "k");
    np_kube_workqueue_done(q, "k");
    for (int i = 0; i < 20; i++)
        np_kube_workqueue_add_rate_limited(q, "cap");
    /* The 20th failure waits the cap, five minutes; the earliest (1 s) is already due. */
    fake_clock_advance(&fc, 1000);
    expect_get(q, "cap");
    np_kube_workqueue_done(q, "cap");
    np_kube_workqueue_add_rate_limited(q, "cap");
    fake_clock_advance(&fc, 299999);
    expect_empty(q);
    fake_clock_advance(&fc, 1);
    expect_get(q, "cap");
    np_kube_workqueue_destroy(q);
}

struct getter {
    struct np_kube_workqueue *q;
    int rc;
    char *key;
};

static void *blocking_get(void *arg)
{
    struct getter *g = arg;
    g->rc = np_kube_workqueue_get(g->q, &g->key);
    return NULL;
}

Test(workqueue, shutdown_wakes_every_getter, .timeout = 60)
{
    struct fake_clock fc;
    struct np_kube_workqueue *q = new_queue(&fc, 0, 0);
    struct getter g[3];
    pthread_t t[3];
    for (int i = 0; i < 3; i++) {
        g[i] = (struct getter){q, 1, NULL};
        pthread_create(&t[i], NULL, blocking_get, &g[i]);
    }
    np_kube_workqueue_add_after(q, "later", 60000); /* a delayed key must not keep them */
    np_kube_workqueue_shutdown(q);
    for (int i = 0; i < 3; i++) {
        pthread_join(t[i], NULL);
        cr_assert_eq(g[i].rc, NP_ECANCELED);
        cr_assert_null(g[i].key);
    }
    cr_assert(np_kube_workqueue_is_shutting_down(q));
    np_kube_workqueue_add(q, "ignored");
    cr_assert_eq(np_kube_workqueue_len(q), 0);
    char *key = NULL;
    cr_assert_eq(np_kube_workqueue_try_get(q, &key), NP_ECANCELED);
    np_kube_workqueue_destroy(q);
}

Test(workqueue, blocked_getter_gets_added_key, .timeout = 60)
{
    struct fake_clock fc;
    struct np_kube_workqueue *q = new_queue(&fc, 0, 0);
    struct getter g = {q, 1, NULL};
    pthread_t t;
    pthread_create(&t, NULL, blocking_get, &g);
    np_kube_workqueue_add(q, "ns/x");
    pthread_join(t, NULL);
    cr_assert_eq(g.rc, 0);
    cr_assert_str_eq(g.key, "ns/x");
    free(g.key);
    np_kube_workqueue_destroy(q);
}

Test(workqueue, blocked_getter_gets_delayed_key_when_clock_moves, .timeout = 60)
{
    struct fake_clock fc;
    struct np_kube_workqueue *q = new_queue(&fc, 0, 0);
    np_kube_workqueue_add_after(q, "ns/later", 30000);
    struct getter g = {q, 1, NULL};
    pthread_t t;
    pthread_create(&t, NULL, blocking_get, &g);
    fake_clock_advance(&fc, 30000);
    np_kube_workqueue_process_due(q);
    pthread_join(t, NULL);
    cr_assert_eq(g.rc, 0);
    cr_assert_str_eq(g.key, "ns/later");
    free(g.key);
    np_kube_workqueue_destroy(q);
}

#define KEYS 8
#define WORKERS 4

struct pool {
    struct np_kube_workqueue *q;
    atomic_int busy[KEYS];
    atomic_int processed;
    atomic_int overlaps;
};

static void *worker(void *arg)
{
    struct pool *p = arg;
    char *key = NULL;
    while (np_kube_workqueue_get(p->q, &key) == 0) {
        int k = key[1] - '0';
        if (atomic_fetch_add(&p->busy[k], 1) != 0)
            atomic_fetch_add(&p->overlaps, 1);
        /* A little work, then hand the key back, sometimes re-adding it. */
        for (volatile int spin = 0; spin < 200; spin++) {
        }
        if (atomic_fetch_add(&p->processed, 1) % 3 == 0)
            np_kube_workqueue_add(p->q, key);
        atomic_fetch_sub(&p->busy[k], 1);
        np_kube_workqueue_done(p->q, key);
        free(key);
    }
    return NULL;
}

Test(workqueue, many_workers_never_share_a_key, .timeout = 60)
{
    struct fake_clock fc;
    struct pool p;
    memset(&p, 0, sizeof(p));
    p.q = new_queue(&fc, 0, 0);
    pthread_t t[WORKERS];
    for (int i = 0; i < WORKERS; i++)
        pthread_create(&t[i], NULL, worker, &p);
    char key[8];
    for (int round = 0; round < 2000; round++) {
        snprintf(key, sizeof(key), "k%d", round % KEYS);
        np_kube_workqueue_add(p.q, key);
    }
    /* Every key was added, so each is processed at least once before shutdown. */
    while (atomic_load(&p.processed) < KEYS)
        sched_yield();
    np_kube_workqueue_shutdown(p.q);
    for (int i = 0; i < WORKERS; i++)
        pthread_join(t[i], NULL);
    cr_assert_eq(atomic_load(&p.overlaps), 0, "a key was processed by two workers at once");
    cr_assert_gt(atomic_load(&p.processed), 0);
    np_kube_workqueue_destroy(p.q);
}

/* ---------------------------------------------------------------- observer and stats */

struct recorded {
    int added, retried;
    int64_t queued[8], worked[8];
    size_t n_taken, n_done;
};

static void rec_added(void *ctx)
{
    ((struct recorded *)ctx)->added++;
}

static void rec_taken(void *ctx, int64_t queued_ms)
{
    struct recorded *r = ctx;
    cr_assert_lt(r->n_taken, 8);
    r->queued[r->n_taken++] = queued_ms;
}

static void rec_done(void *ctx, int64_t work_ms)
{
    struct recorded *r = ctx;
    cr_assert_lt(r->n_done, 8);
    r->worked[r->n_done++] = work_ms;
}

static void rec_retried(void *ctx)
{
    ((struct recorded *)ctx)->retried++;
}

Test(workqueue, observer_sees_adds_waits_work_and_retries)
{
    struct fake_clock fc;
    struct recorded r;
    memset(&r, 0, sizeof(r));
    fake_clock_init(&fc, 0);
    struct np_kube_workqueue_options o = {
        .clock = &fc.clock,
        .base_delay_ms = 100,
        .max_delay_ms = 1000,
        .observer = {rec_added, rec_taken, rec_done, rec_retried, &r}};
    struct np_kube_workqueue *q = NULL;
    cr_assert_eq(np_kube_workqueue_new(&q, &o), 0);
    np_kube_workqueue_add(q, "ns/a");
    fake_clock_advance(&fc, 250);
    np_kube_workqueue_add(q, "ns/b");
    np_kube_workqueue_add(q, "ns/a"); /* coalesced: not an add */
    cr_expect_eq(r.added, 2);
    fake_clock_advance(&fc, 50);
    expect_get(q, "ns/a");
    expect_get(q, "ns/b");
    cr_assert_eq(r.n_taken, 2);
    cr_expect_eq(r.queued[0], 300, "a waited from its first add");
    cr_expect_eq(r.queued[1], 50);

    fake_clock_advance(&fc, 40);
    struct np_kube_workqueue_stats st;
    np_kube_workqueue_stats(q, &st);
    cr_expect_eq(st.processing, 2);
    cr_expect_eq(st.depth, 0);
    cr_expect_eq(st.unfinished_ms, 80, "two keys in hand for 40 ms each");
    cr_expect_eq(st.longest_ms, 40);

    fake_clock_advance(&fc, 60);
    np_kube_workqueue_done(q, "ns/a");
    np_kube_workqueue_add_rate_limited(q, "ns/b");
    cr_expect_eq(r.retried, 1);
    np_kube_workqueue_done(q, "ns/b");
    cr_assert_eq(r.n_done, 2);
    cr_expect_eq(r.worked[0], 100);
    cr_expect_eq(r.worked[1], 100);
    np_kube_workqueue_stats(q, &st);
    cr_expect_eq(st.processing, 0);
    cr_expect_eq(st.unfinished_ms, 0);
    cr_expect_eq(st.longest_ms, 0);
    cr_expect_eq(st.delayed, 1, "b waits for its backoff");
    fake_clock_advance(&fc, 100);
    expect_get(q, "ns/b");
    cr_expect_eq(r.added, 3, "the retry entered the queue again");
    cr_expect_eq(r.queued[2], 0, "queued when its backoff ended");
    np_kube_workqueue_destroy(q);
}
