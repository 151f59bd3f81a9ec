/*
 * Implementation of the kube unit tests' shared helpers (fixtures, fake clock, waiter,
 * scratch directories for exec plugin scripts).
 */
#include "helpers.h"

#include "kube/private/kube_private.h"

#include <criterion/criterion.h>
#include <dirent.h>
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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

void kube_leak_check(void)
{
#if defined(__SANITIZE_ADDRESS__)
    if (__lsan_do_recoverable_leak_check() != 0) {
        fputs("kube tests: memory leaked (see the LeakSanitizer report above)\n", stderr);
        abort();
    }
#endif
}

char *scratch_new(void)
{
    char tmpl[] = "/tmp/np-kube-test-XXXXXX";
    cr_assert_not_null(mkdtemp(tmpl), "mkdtemp");
    return np_strdup(tmpl);
}

void scratch_remove(char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char *p = np_strdupf("%s/%s", dir, e->d_name);
        unlink(p);
        free(p);
    }
    if (d)
        closedir(d);
    rmdir(dir);
    free(dir);
}

char *scratch_script(const char *dir, const char *name, const char *body)
{
    char *path = np_strdupf("%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "cannot write %s", path);
    fprintf(f, "#!/bin/sh\n%s", body);
    fclose(f);
    cr_assert_eq(chmod(path, 0755), 0);
    return path;
}

char *scratch_read(const char *dir, const char *name)
{
    char *path = np_strdupf("%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    free(path);
    if (!f)
        return NULL;
    struct np_buf b = NP_BUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        np_buf_append(&b, chunk, n);
    fclose(f);
    return b.data ? np_buf_take(&b) : np_strdup("");
}
