/*
 * When each posture's AWS objects were last read by a pass, for the time-to-detect bound of
 * the kinds no poller watches (VPC postures read AWS in every pass): a new drift item appeared
 * after the read before the one that found it. One entry per posture, dropped with it.
 */
#include "controller/private/controller_private.h"

#include <stdlib.h>
#include <string.h>

#define READS_BUCKETS 1024

struct np_controller_read {
    char *key; /* "<kind>/<namespace>/<name>" */
    int64_t at_ms;
    struct np_controller_read *next;
};

void np_controller_reads_init(struct np_controller_reads *r)
{
    memset(r, 0, sizeof(*r));
    pthread_mutex_init(&r->lock, NULL);
    r->buckets = np_xcalloc(READS_BUCKETS, sizeof(*r->buckets));
}

void np_controller_reads_clean_up(struct np_controller_reads *r)
{
    for (size_t b = 0; r->buckets && b < READS_BUCKETS; b++) {
        while (r->buckets[b]) {
            struct np_controller_read *x = r->buckets[b];
            r->buckets[b] = x->next;
            free(x->key);
            free(x);
        }
    }
    free(r->buckets);
    pthread_mutex_destroy(&r->lock);
    memset(r, 0, sizeof(*r));
}

static char *read_key(const char *kind, const char *key)
{
    return np_strdupf("%s/%s", kind, key);
}

/* The entry of k (the link that points to it, or to the NULL where it would go). */
static struct np_controller_read **find(struct np_controller_reads *r, const char *k)
{
    struct np_controller_read **pp = &r->buckets[np_hash_str(k) % READS_BUCKETS];
    while (*pp && strcmp((*pp)->key, k) != 0)
        pp = &(*pp)->next;
    return pp;
}

int64_t np_controller_reads_swap(struct np_controller_reads *r, const char *kind, const char *key,
                                 int64_t at_ms)
{
    char *k = read_key(kind, key);
    pthread_mutex_lock(&r->lock);
    struct np_controller_read **pp = find(r, k);
    int64_t before = 0;
    if (*pp) {
        before = (*pp)->at_ms;
        (*pp)->at_ms = at_ms;
        free(k);
    } else {
        struct np_controller_read *x = np_xcalloc(1, sizeof(*x));
        x->key = k;
        x->at_ms = at_ms;
        *pp = x;
    }
    pthread_mutex_unlock(&r->lock);
    return before;
}

void np_controller_reads_forget(struct np_controller_reads *r, const char *kind, const char *key)
{
    char *k = read_key(kind, key);
    pthread_mutex_lock(&r->lock);
    struct np_controller_read **pp = find(r, k);
    struct np_controller_read *x = *pp;
    if (x) {
        *pp = x->next;
        free(x->key);
        free(x);
    }
    pthread_mutex_unlock(&r->lock);
    free(k);
}
