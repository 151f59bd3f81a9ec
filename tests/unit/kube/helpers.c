/*
 * Implementation of the kube unit tests' shared helpers (fixtures, fake clock, waiter).
 */
#include "helpers.h"

#include "kube/private/kube_private.h"

#include <criterion/criterion.h>
#include <time.h>

char *fixture_read(const char *rel, size_t *len)
{
    char *path = np_strdupf("%s/%s", FIXTURES, rel);
    char *data = NULL;
    size_t n = 0;
    int rc = np_kube_read_file(&data, &n, path, 16 * 1024 * 1024);
    cr_assert_eq(rc, 0, "fixture %s: %s", path, np_error_message());
    free(path);
    if (len)
        *len = n;
    return data;
}

static int64_t fake_mono(void *ctx)
{
    struct fake_clock *fc = ctx;
    pthread_mutex_lock(&fc->lock);
    int64_t v = fc->mono_ms;
    pthread_mutex_unlock(&fc->lock);
    return v;
}

static int64_t fake_wall(void *ctx)
{
    struct fake_clock *fc = ctx;
    pthread_mutex_lock(&fc->lock);
    int64_t v = fc->wall_ms;
    pthread_mutex_unlock(&fc->lock);
    return v;
}

void fake_clock_init(struct fake_clock *fc, int64_t wall_ms)
{
    fc->clock.now_ms = fake_wall;
    fc->clock.mono_ms = fake_mono;
    fc->clock.ctx = fc;
    pthread_mutex_init(&fc->lock, NULL);
    fc->mono_ms = 1000000;
    fc->wall_ms = wall_ms;
}

void fake_clock_advance(struct fake_clock *fc, int64_t ms)
{
    pthread_mutex_lock(&fc->lock);
    fc->mono_ms += ms;
    fc->wall_ms += ms;
    pthread_mutex_unlock(&fc->lock);
}

void waiter_init(struct waiter *w)
{
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->cond, NULL);
    w->value = 0;
}

void waiter_clean_up(struct waiter *w)
{
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->lock);
}

void waiter_bump(struct waiter *w)
{
    pthread_mutex_lock(&w->lock);
    w->value++;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

int waiter_wait(struct waiter *w, int want, int64_t timeout_ms)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += (time_t)(timeout_ms / 1000);
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&w->lock);
    while (w->value < want) {
        if (pthread_cond_timedwait(&w->cond, &w->lock, &deadline) != 0)
            break;
    }
    int v = w->value;
    pthread_mutex_unlock(&w->lock);
    return v;
}

uint32_t test_rand(uint32_t *state)
{
    *state = *state * 1664525u + 1013904223u;
    return *state >> 8;
}
