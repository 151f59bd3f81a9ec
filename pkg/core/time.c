/*
 * Time: wall and monotonic clocks, RFC 3339 formatting and parsing, Go-style durations,
 * the injectable clock, and a thread-safe non-cryptographic random source for jitter.
 */
#define _GNU_SOURCE
#include "core/core.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t np_time_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t np_time_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct timespec np_time_mono_after(int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    if (ms < 0)
        ms = 0;
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

static int64_t system_now(void *ctx)
{
    (void)ctx;
    return np_time_now_ms();
}

static int64_t system_mono(void *ctx)
{
    (void)ctx;
    return np_time_mono_ms();
}

const struct np_clock *np_clock_system(void)
{
    static const struct np_clock clock = {system_now, system_mono, NULL};
    return &clock;
}

static void split_ms(int64_t epoch_ms, struct tm *tm, int *ms)
{
    int64_t secs = epoch_ms / 1000;
    int rem = (int)(epoch_ms % 1000);
    if (rem < 0) {
        rem += 1000;
        secs -= 1;
    }
    time_t t = (time_t)secs;
    gmtime_r(&t, tm);
    *ms = rem;
}

void np_time_format_rfc3339(char *out, size_t size, int64_t epoch_ms)
{
    struct tm tm;
    int ms;
    split_ms(epoch_ms, &tm, &ms);
    strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void np_time_format_micro(char *out, size_t size, int64_t epoch_ms)
{
    struct tm tm;
    int ms;
    char base[32];
    split_ms(epoch_ms, &tm, &ms);
    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, size, "%s.%06dZ", base, ms * 1000);
}

int np_time_parse_rfc3339(const char *s, int64_t *epoch_ms)
{
    if (np_str_is_empty(s))
        return np_error_set(NP_EINVAL, "empty timestamp");
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!p)
        return np_error_set(NP_EINVAL, "not an RFC 3339 timestamp: \"%.64s\"", s);
    int64_t frac_ms = 0;
    if (*p == '.') {
        p++;
        int digits = 0;
        while (*p >= '0' && *p <= '9') {
            if (digits < 3)
                frac_ms = frac_ms * 10 + (*p - '0');
            digits++;
            p++;
        }
        if (digits == 0)
            return np_error_set(NP_EINVAL, "bad fraction in timestamp \"%.64s\"", s);
        for (; digits < 3; digits++)
            frac_ms *= 10;
    }
    int64_t offset_s = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1;
        int hh, mm;
        if (sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2 || strlen(p) != 6)
            return np_error_set(NP_EINVAL, "bad offset in timestamp \"%.64s\"", s);
        offset_s = sign * (hh * 3600 + mm * 60);
        p += 6;
    } else {
        return np_error_set(NP_EINVAL, "timestamp needs a zone: \"%.64s\"", s);
    }
    if (*p)
        return np_error_set(NP_EINVAL, "trailing characters in timestamp \"%.64s\"", s);
    time_t t = timegm(&tm);
    *epoch_ms = ((int64_t)t - offset_s) * 1000 + frac_ms;
    return 0;
}

int np_duration_parse(const char *s, int64_t *ms)
{
    if (np_str_is_empty(s))
        return np_error_set(NP_EINVAL, "empty duration");
    const char *p = s;
    int64_t total = 0;
    if (strcmp(s, "0") == 0) {
        *ms = 0;
        return 0;
    }
    while (*p) {
        if (*p < '0' || *p > '9')
            return np_error_set(NP_EINVAL, "bad duration \"%.64s\" (use e.g. 30s, 5m, 1h30m)", s);
        int64_t v = 0;
        while (*p >= '0' && *p <= '9') {
            v = v * 10 + (*p - '0');
            if (v > 1000000000)
                return np_error_set(NP_EINVAL, "duration \"%.64s\" is too large", s);
            p++;
        }
        int64_t unit;
        if (strncmp(p, "ms", 2) == 0) {
            unit = 1;
            p += 2;
        } else if (*p == 's') {
            unit = 1000;
            p++;
        } else if (*p == 'm') {
            unit = 60 * 1000;
            p++;
        } else if (*p == 'h') {
            unit = 3600 * 1000;
            p++;
        } else {
            return np_error_set(NP_EINVAL, "bad duration \"%.64s\" (units: ms, s, m, h)", s);
        }
        total += v * unit;
    }
    *ms = total;
    return 0;
}

void np_sleep_ms(int64_t ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static pthread_mutex_t rand_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t rand_state;

uint64_t np_rand_below(uint64_t n)
{
    if (n == 0)
        return 0;
    pthread_mutex_lock(&rand_lock);
    if (rand_state == 0)
        rand_state =
            (uint64_t)np_time_mono_ms() * 0x9E3779B97F4A7C15ull ^ (uint64_t)np_time_now_ms();
    /* xorshift64* */
    rand_state ^= rand_state >> 12;
    rand_state ^= rand_state << 25;
    rand_state ^= rand_state >> 27;
    uint64_t v = rand_state * 0x2545F4914F6CDD1Dull;
    pthread_mutex_unlock(&rand_lock);
    return v % n;
}
