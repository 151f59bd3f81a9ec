/*
 * Client-side token buckets that mirror EC2's request throttling categories, so netposture
 * never spends the whole account's API budget: which category an action falls in, and a
 * thread-safe set of buckets (one per category) over an injectable monotonic clock.
 */
#include "aws/private/aws_private.h"

#include <math.h>
#include <string.h>

#define MICRO 1000000LL

/* Bucket sizes and refill rates per second, by category (EC2 developer guide, throttling). */
static const struct {
    const char *name;
    int burst;
    int per_s;
} budgets[NP_AWS_RATE_N_CATEGORIES] = {
    [NP_AWS_RATE_UNLIMITED] = {"unlimited", 0, 0},
    [NP_AWS_RATE_DESCRIBE] = {"describe", 100, 20},
    [NP_AWS_RATE_SG_INGRESS] = {"security-group-ingress", 50, 5},
    [NP_AWS_RATE_TAGS] = {"tags", 100, 10},
    [NP_AWS_RATE_MUTATING] = {"mutating", 50, 5},
    [NP_AWS_RATE_LOOKUP_EVENTS] = {"cloudtrail-lookup-events", 2, 2},
};

enum np_aws_rate_category np_aws_rate_category_of(const char *service, const char *action)
{
    if (np_str_eq(service, "cloudtrail") && np_str_eq(action, "LookupEvents"))
        return NP_AWS_RATE_LOOKUP_EVENTS;
    if (!np_str_eq(service, "ec2") || np_str_is_empty(action))
        return NP_AWS_RATE_UNLIMITED;
    if (np_str_has_prefix(action, "Describe") || np_str_has_prefix(action, "List") ||
        np_str_has_prefix(action, "Search") || np_str_has_prefix(action, "Get"))
        return NP_AWS_RATE_DESCRIBE;
    if (strcmp(action, "AuthorizeSecurityGroupIngress") == 0 ||
        strcmp(action, "RevokeSecurityGroupIngress") == 0)
        return NP_AWS_RATE_SG_INGRESS;
    if (strcmp(action, "CreateTags") == 0 || strcmp(action, "DeleteTags") == 0)
        return NP_AWS_RATE_TAGS;
    return NP_AWS_RATE_MUTATING;
}

const char *np_aws_rate_category_name(enum np_aws_rate_category cat)
{
    if ((int)cat < 0 || cat >= NP_AWS_RATE_N_CATEGORIES)
        return "unknown";
    return budgets[cat].name;
}

void np_aws_rate_limiter_init(struct np_aws_rate_limiter *rl, const struct np_clock *clock,
                              bool disabled, double scale, int64_t max_wait_ms)
{
    memset(rl, 0, sizeof(*rl));
    pthread_mutex_init(&rl->lock, NULL);
    rl->clock = clock ? clock : np_clock_system();
    rl->disabled = disabled;
    if (!(scale > 0))
        scale = 1.0;
    rl->max_wait_ms =
        max_wait_ms == 0 ? NP_AWS_RATE_MAX_WAIT_MS_DEFAULT : (max_wait_ms < 0 ? 0 : max_wait_ms);
    int64_t now = rl->clock->mono_ms(rl->clock->ctx);
    for (int i = 0; i < NP_AWS_RATE_N_CATEGORIES; i++) {
        struct np_aws_token_bucket *b = &rl->buckets[i];
        if (budgets[i].burst == 0)
            continue; /* unlimited */
        double cap = floor(budgets[i].burst * scale + 0.5);
        double rate = budgets[i].per_s * scale * (double)MICRO;
        b->capacity_u = (cap < 1 ? 1 : (int64_t)cap) * MICRO;
        b->rate_u_per_s = rate < 1 ? 1 : (int64_t)llround(rate);
        b->tokens_u = b->capacity_u;
        b->last_ms = now;
    }
}

void np_aws_rate_limiter_destroy(struct np_aws_rate_limiter *rl)
{
    pthread_mutex_destroy(&rl->lock);
}

/* Adds what accrued since the last refill, up to the capacity. Called with the lock held. */
static void refill(struct np_aws_token_bucket *b, int64_t now)
{
    if (now <= b->last_ms)
        return;
    int64_t elapsed = now - b->last_ms;
    int64_t room = b->capacity_u - b->tokens_u;
    /* elapsed * rate / 1000 without overflow: cap elapsed at what fills the bucket. */
    int64_t full_ms = room / b->rate_u_per_s * 1000 + 1000;
    if (elapsed > full_ms)
        elapsed = full_ms;
    int64_t add = elapsed * b->rate_u_per_s / 1000;
    b->tokens_u = add >= room ? b->capacity_u : b->tokens_u + add;
    b->last_ms = now;
}

int np_aws_rate_limiter_take(struct np_aws_rate_limiter *rl, enum np_aws_rate_category cat,
                             int64_t *wait_ms)
{
    int rc = 0;
    *wait_ms = 0;
    if (rl->disabled || (int)cat <= NP_AWS_RATE_UNLIMITED || cat >= NP_AWS_RATE_N_CATEGORIES)
        return 0;
    pthread_mutex_lock(&rl->lock);
    struct np_aws_token_bucket *b = &rl->buckets[cat];
    refill(b, rl->clock->mono_ms(rl->clock->ctx));
    int64_t after = b->tokens_u - MICRO;
    int64_t wait = 0;
    if (after < 0) /* ceil(deficit / rate) in ms */
        wait = (-after * 1000 + b->rate_u_per_s - 1) / b->rate_u_per_s;
    if (wait > rl->max_wait_ms) {
        rc = NP_ETHROTTLED; /* nothing taken */
    } else {
        b->tokens_u = after; /* below zero: reserved by callers that wait */
    }
    pthread_mutex_unlock(&rl->lock);
    *wait_ms = wait;
    return rc;
}

void np_aws_rate_limiter_budget(const struct np_aws_rate_limiter *rl, enum np_aws_rate_category cat,
                                double *burst, double *per_s)
{
    *burst = 0;
    *per_s = 0;
    if ((int)cat <= NP_AWS_RATE_UNLIMITED || cat >= NP_AWS_RATE_N_CATEGORIES)
        return;
    *burst = (double)rl->buckets[cat].capacity_u / MICRO;
    *per_s = (double)rl->buckets[cat].rate_u_per_s / MICRO;
}
