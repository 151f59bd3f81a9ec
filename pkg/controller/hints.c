/*
 * The event-hint store: what a CloudTrail event said about an object (who, which call, when,
 * and for a security group the group as just read), kept for the next reconcile of its owner.
 * One policy for every user (the region pollers' groups, the VPC postures): the newest hint of
 * a key wins, hints expire after NP_CONTROLLER_HINT_TTL_MS and at most NP_CONTROLLER_HINTS_MAX are
 * kept.
 */
#include "controller/private/controller_private.h"

#include <stdlib.h>
#include <string.h>

struct np_controller_hint_entry {
    char *key;
    struct np_controller_hint hint;
    int64_t noted_ms; /* the store's (monotonic) time when it was put */
    struct np_controller_hint_entry *next;
};

void np_controller_hint_clean_up(struct np_controller_hint *h)
{
    free(h->actor);
    free(h->event_name);
    np_aws_sg_free(h->sg);
    memset(h, 0, sizeof(*h));
}

static void entry_free(struct np_controller_hint_entry *e)
{
    np_controller_hint_clean_up(&e->hint);
    free(e->key);
    free(e);
}

void np_controller_hint_store_put(struct np_controller_hint_store *s, const char *key,
                                  const char *actor, bool actor_verified, const char *event_name,
                                  int64_t event_ms, const struct np_aws_sg *sg, int64_t now_ms)
{
    struct np_controller_hint_entry *e = np_xcalloc(1, sizeof(*e));
    e->key = np_strdup(key);
    e->hint.actor = np_strdup(actor);
    e->hint.actor_verified = actor && actor_verified;
    e->hint.event_name = np_strdup(event_name);
    e->hint.event_ms = event_ms;
    e->hint.sg = sg ? np_aws_sg_dup(sg) : NULL;
    e->noted_ms = now_ms;
    /* The older hint of the key, expired ones and the oldest past the cap go. */
    size_t kept = 0;
    for (struct np_controller_hint_entry **pp = &s->head; *pp;) {
        struct np_controller_hint_entry *x = *pp;
        if (np_str_eq(x->key, key) || now_ms - x->noted_ms > NP_CONTROLLER_HINT_TTL_MS ||
            kept >= NP_CONTROLLER_HINTS_MAX - 1) {
            *pp = x->next;
            entry_free(x);
            s->n--;
            continue;
        }
        kept++;
        pp = &x->next;
    }
    e->next = s->head;
    s->head = e;
    s->n++;
}

bool np_controller_hint_store_take(struct np_controller_hint_store *s, const char *key,
                                   int64_t now_ms, struct np_controller_hint *out)
{
    memset(out, 0, sizeof(*out));
    for (struct np_controller_hint_entry **pp = &s->head; *pp; pp = &(*pp)->next) {
        struct np_controller_hint_entry *x = *pp;
        if (!np_str_eq(x->key, key))
            continue;
        *pp = x->next;
        s->n--;
        bool fresh = now_ms - x->noted_ms <= NP_CONTROLLER_HINT_TTL_MS;
        if (fresh) {
            *out = x->hint;
            memset(&x->hint, 0, sizeof(x->hint));
        }
        entry_free(x);
        return fresh;
    }
    return false;
}

void np_controller_hint_store_clean_up(struct np_controller_hint_store *s)
{
    while (s->head) {
        struct np_controller_hint_entry *x = s->head;
        s->head = x->next;
        entry_free(x);
    }
    s->n = 0;
}
