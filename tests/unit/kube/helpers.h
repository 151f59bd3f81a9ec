/*
 * Shared bits of the kube unit tests: reading fixtures, a fake clock that tests move by
 * hand, a small condition helper so threads are awaited without sleeping, and scratch
 * directories holding the shell-script exec plugins the tests write.
 */
#ifndef NP_TEST_KUBE_HELPERS_H
#define NP_TEST_KUBE_HELPERS_H

#include "core/core.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FIXTURES "tests/fixtures/kube"

/* Reads FIXTURES/<rel> (aborts the test when missing). Owned, NUL-terminated. */
char *fixture_read(const char *rel, size_t *len);

/* A clock whose time only moves when the test says so. */
struct fake_clock {
    struct np_clock clock;
    pthread_mutex_t lock;
    int64_t mono_ms;
    int64_t wall_ms;
};

void fake_clock_init(struct fake_clock *fc, int64_t wall_ms);
void fake_clock_advance(struct fake_clock *fc, int64_t ms);

/* A counter other threads bump and the test waits on (with a generous deadline). */
struct waiter {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int value;
};

void waiter_init(struct waiter *w);
void waiter_clean_up(struct waiter *w);
void waiter_bump(struct waiter *w);
/* Waits until value >= want or timeout_ms passes; returns the value seen. */
int waiter_wait(struct waiter *w, int want, int64_t timeout_ms);

/* A deterministic pseudo-random generator for chunk sizes. */
uint32_t test_rand(uint32_t *state);

/* Suite teardown (TestSuite(x, .fini = kube_leak_check)): runs LeakSanitizer after each test
 * and aborts on a leak, so a leak fails the run instead of only being printed. */
void kube_leak_check(void);

/* A fresh directory under /tmp (owned path); scratch_remove deletes it and its files (one
 * level deep) and frees the path. */
char *scratch_new(void);
void scratch_remove(char *dir);
/* Writes dir/name (mode 0755) holding "#!/bin/sh\n" + body; returns the path (owned). */
char *scratch_script(const char *dir, const char *name, const char *body);
/* Reads dir/name whole (owned, NUL-terminated), or NULL when it does not exist. */
char *scratch_read(const char *dir, const char *name);

#endif
