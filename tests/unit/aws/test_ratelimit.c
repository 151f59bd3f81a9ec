/*
 * Client-side token buckets: categories by action name, burst, refill, the longest wait, scale
 * and off switch, several threads sharing one limiter (table-driven, injected clock), and the
 * EC2 client failing fast with "ClientThrottled" when its budget is gone.
 */
#include "aws_test.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define FX "tests/fixtures/aws/"
#define EC2_URL "https://ec2.us-east-1.amazonaws.com"

/* A monotonic clock the test moves by hand (atomic: threads read it). */
struct test_clock {
    atomic_llong ms;
    atomic_llong step; /* added on every read (0: frozen) */
    struct np_clock clock;
};

static int64_t tc_mono(void *ctx)
{
    struct test_clock *t = ctx;
    return (int64_t)atomic_fetch_add(&t->ms, atomic_load(&t->step));
}

static int64_t tc_wall(void *ctx)
{
    return 1704164645000LL + tc_mono(ctx);
}

static void tc_init(struct test_clock *t)
{
    atomic_init(&t->ms, 5000);
    atomic_init(&t->step, 0);
    t->clock.now_ms = tc_wall;
    t->clock.mono_ms = tc_mono;
    t->clock.ctx = t;
}

static void clear_env(void)
{
    unsetenv("AWS_ENDPOINT_URL");
    unsetenv("AWS_ENDPOINT_URL_EC2");
    unsetenv("AWS_ENDPOINT_URL_STS");
}

/* ---------------------------------------------------------------- categories */

Test(ratelimit, categories_by_action_name)
{
    struct {
        const char *service;
        const char *action;
        enum np_aws_rate_category want;
        const char *name;
    } cases[] = {
        {"ec2", "DescribeSecurityGroups", NP_AWS_RATE_DESCRIBE, "describe"},
        {"ec2", "DescribeVpcs", NP_AWS_RATE_DESCRIBE, "describe"},
        {"ec2", "DescribeSecurityGroupRules", NP_AWS_RATE_DESCRIBE, "describe"},
        {"ec2", "GetSecurityGroupsForVpc", NP_AWS_RATE_DESCRIBE, "describe"},
        {"ec2", "ListImagesInRecycleBin", NP_AWS_RATE_DESCRIBE, "describe"},
        {"ec2", "SearchTransitGatewayRoutes", NP_AWS_RATE_DESCRIBE, "describe"},
        {"ec2", "AuthorizeSecurityGroupIngress", NP_AWS_RATE_SG_INGRESS, "security-group-ingress"},
        {"ec2", "RevokeSecurityGroupIngress", NP_AWS_RATE_SG_INGRESS, "security-group-ingress"},
        {"ec2", "AuthorizeSecurityGroupEgress", NP_AWS_RATE_MUTATING, "mutating"},
        {"ec2", "RevokeSecurityGroupEgress", NP_AWS_RATE_MUTATING, "mutating"},
        {"ec2", "CreateTags", NP_AWS_RATE_TAGS, "tags"},
        {"ec2", "DeleteTags", NP_AWS_RATE_TAGS, "tags"},
        {"ec2", "CreateSecurityGroup", NP_AWS_RATE_MUTATING, "mutating"},
        {"ec2", "DeleteSecurityGroup", NP_AWS_RATE_MUTATING, "mutating"},
        {"ec2", "ModifySecurityGroupRules", NP_AWS_RATE_MUTATING, "mutating"},
        {"ec2", "UpdateSecurityGroupRuleDescriptionsIngress", NP_AWS_RATE_MUTATING, "mutating"},
        {"ec2", "CreateFlowLogs", NP_AWS_RATE_MUTATING, "mutating"},
        {"ec2", "", NP_AWS_RATE_UNLIMITED, "unlimited"},
        {"sts", "GetCallerIdentity", NP_AWS_RATE_UNLIMITED, "unlimited"},
        {"sqs", "ReceiveMessage", NP_AWS_RATE_UNLIMITED, "unlimited"},
        {"cloudtrail", "LookupEvents", NP_AWS_RATE_LOOKUP_EVENTS, "cloudtrail-lookup-events"},
        {"cloudtrail", "GetTrail", NP_AWS_RATE_UNLIMITED, "unlimited"},
        {NULL, "DescribeVpcs", NP_AWS_RATE_UNLIMITED, "unlimited"},
    };
    for (size_t i = 0; i < NP_ARRAY_LEN(cases); i++) {
        enum np_aws_rate_category got = np_aws_rate_category_of(cases[i].service, cases[i].action);
        cr_expect_eq(got, cases[i].want, "%s %s -> %s", cases[i].service ? cases[i].service : "-",
                     cases[i].action, np_aws_rate_category_name(got));
        cr_expect_str_eq(np_aws_rate_category_name(got), cases[i].name);
    }
    cr_expect_str_eq(np_aws_rate_category_name(NP_AWS_RATE_N_CATEGORIES), "unknown");
}

/* ---------------------------------------------------------------- one bucket */

/* Takes until refused on a frozen clock; counts immediate and waiting grants. */
static void drain(struct np_aws_rate_limiter *rl, enum np_aws_rate_category cat, int *now,
                  int *waited, int64_t *first_wait, int64_t *last_wait, int64_t *refused_wait)
{
    *now = *waited = 0;
    *first_wait = *last_wait = *refused_wait = -1;
    for (int i = 0; i < 100000; i++) {
        int64_t w = -1;
        if (np_aws_rate_limiter_take(rl, cat, &w) != 0) {
            *refused_wait = w;
            return;
        }
        if (w == 0) {
            cr_assert_eq(*waited, 0, "an immediate grant after a waiting one");
            (*now)++;
        } else {
            if (*first_wait < 0)
                *first_wait = w;
            *last_wait = w;
            (*waited)++;
        }
    }
    cr_assert_fail("never refused");
}

Test(ratelimit, burst_then_short_waits_then_refusal)
{
    struct {
        enum np_aws_rate_category cat;
        int burst;
        int waited;         /* grants that wait: per_s * max_wait (1 s) */
        int64_t first_wait; /* 1000 / per_s */
        int64_t refused_wait;
    } cases[] = {
        {NP_AWS_RATE_DESCRIBE, 100, 20, 50, 1050},
        {NP_AWS_RATE_SG_INGRESS, 50, 5, 200, 1200},
        {NP_AWS_RATE_TAGS, 100, 10, 100, 1100},
        {NP_AWS_RATE_MUTATING, 50, 5, 200, 1200},
    };
    for (size_t i = 0; i < NP_ARRAY_LEN(cases); i++) {
        struct test_clock tc;
        tc_init(&tc);
        struct np_aws_rate_limiter rl;
        np_aws_rate_limiter_init(&rl, &tc.clock, false, 0, 0);
        int now = 0, waited = 0;
        int64_t first = 0, last = 0, refused = 0;
        drain(&rl, cases[i].cat, &now, &waited, &first, &last, &refused);
        const char *name = np_aws_rate_category_name(cases[i].cat);
        cr_expect_eq(now, cases[i].burst, "%s: burst %d", name, now);
        cr_expect_eq(waited, cases[i].waited, "%s: %d waiting grants", name, waited);
        cr_expect_eq(first, cases[i].first_wait, "%s: first wait %lld", name, (long long)first);
        cr_expect_eq(last, 1000, "%s: the last grant waits exactly the maximum", name);
        cr_expect_eq(refused, cases[i].refused_wait, "%s: refused at %lld", name,
                     (long long)refused);
        /* other categories are untouched */
        for (int c = NP_AWS_RATE_DESCRIBE; c < NP_AWS_RATE_N_CATEGORIES; c++) {
            int64_t w = -1;
            if ((enum np_aws_rate_category)c == cases[i].cat)
                continue;
            cr_expect_eq(np_aws_rate_limiter_take(&rl, (enum np_aws_rate_category)c, &w), 0);
            cr_expect_eq(w, 0, "%s drained %s", name,
                         np_aws_rate_category_name((enum np_aws_rate_category)c));
        }
        int64_t w = -1;
        cr_expect_eq(np_aws_rate_limiter_take(&rl, NP_AWS_RATE_UNLIMITED, &w), 0);
        cr_expect_eq(w, 0);
        np_aws_rate_limiter_destroy(&rl);
    }
}

Test(ratelimit, refill_follows_the_clock_and_stops_at_the_burst)
{
    struct test_clock tc;
    tc_init(&tc);
    struct np_aws_rate_limiter rl;
    np_aws_rate_limiter_init(&rl, &tc.clock, false, 0, -1); /* never wait */
    int64_t w = -1;
    for (int i = 0; i < 50; i++)
        cr_assert_eq(np_aws_rate_limiter_take(&rl, NP_AWS_RATE_MUTATING, &w), 0);
    cr_expect_eq(np_aws_rate_limiter_take(&rl, NP_AWS_RATE_MUTATING, &w), NP_ETHROTTLED);
    cr_expect_eq(w, 200, "the next token is 200 ms away at 5 per second");
    atomic_fetch_add(&tc.ms, 199);
    cr_expect_eq(np_aws_rate_limiter_take(&rl, NP_AWS_RATE_MUTATING, &w), NP_ETHROTTLED);
    cr_expect_eq(w, 1);
    atomic_fetch_add(&tc.ms, 1);
    cr_expect_eq(np_aws_rate_limiter_take(&rl, NP_AWS_RATE_MUTATING, &w), 0);
    cr_expect_eq(w, 0);
    atomic_fetch_add(&tc.ms, 1000);
    int got = 0;
    while (np_aws_rate_limiter_take(&rl, NP_AWS_RATE_MUTATING, &w) == 0)
        got++;
    cr_expect_eq(got, 5, "one second refills five tokens");
    atomic_fetch_add(&tc.ms, 3600 * 1000);
    got = 0;
    while (np_aws_rate_limiter_take(&rl, NP_AWS_RATE_MUTATING, &w) == 0)
        got++;
    cr_expect_eq(got, 50, "an idle hour refills to the burst, no further");
    /* a clock that goes backwards adds nothing */
    atomic_fetch_sub(&tc.ms, 10000);
    cr_expect_eq(np_aws_rate_limiter_take(&rl, NP_AWS_RATE_MUTATING, &w), NP_ETHROTTLED);
    np_aws_rate_limiter_destroy(&rl);
}

Test(ratelimit, max_wait_scale_and_off_switch)
{
    struct {
        bool disabled;
        double scale;
        int64_t max_wait;
        enum np_aws_rate_category cat;
        int want_now;    /* immediate grants */
        int want_waited; /* grants after a wait */
        double burst, per_s;
    } cases[] = {
        {false, 0, -1, NP_AWS_RATE_MUTATING, 50, 0, 50, 5},     /* never wait */
        {false, 0, 5000, NP_AWS_RATE_MUTATING, 50, 25, 50, 5},  /* 5 s of refill */
        {false, 0.1, 0, NP_AWS_RATE_MUTATING, 5, 0, 5, 0.5},    /* 2 s per token > 1 s */
        {false, 0.1, 0, NP_AWS_RATE_TAGS, 10, 1, 10, 1},        /* exactly 1 s */
        {false, 2, 0, NP_AWS_RATE_DESCRIBE, 200, 40, 200, 40},  /* doubled */
        {false, 0.001, 0, NP_AWS_RATE_DESCRIBE, 1, 0, 1, 0.02}, /* never below one token */
        {false, -3, 0, NP_AWS_RATE_SG_INGRESS, 50, 5, 50, 5},   /* <= 0: 1.0 */
    };
    for (size_t i = 0; i < NP_ARRAY_LEN(cases); i++) {
        struct test_clock tc;
        tc_init(&tc);
        struct np_aws_rate_limiter rl;
        np_aws_rate_limiter_init(&rl, &tc.clock, cases[i].disabled, cases[i].scale,
                                 cases[i].max_wait);
        int now = 0, waited = 0;
        int64_t first = 0, last = 0, refused = 0;
        drain(&rl, cases[i].cat, &now, &waited, &first, &last, &refused);
        cr_expect_eq(now, cases[i].want_now, "case %zu: %d immediate", i, now);
        cr_expect_eq(waited, cases[i].want_waited, "case %zu: %d waited", i, waited);
        double burst = 0, per_s = 0;
        np_aws_rate_limiter_budget(&rl, cases[i].cat, &burst, &per_s);
        cr_expect_float_eq(burst, cases[i].burst, 1e-9, "case %zu: burst %g", i, burst);
        cr_expect_float_eq(per_s, cases[i].per_s, 1e-9, "case %zu: rate %g", i, per_s);
        np_aws_rate_limiter_destroy(&rl);
    }
    struct test_clock tc;
    tc_init(&tc);
    struct np_aws_rate_limiter rl;
    np_aws_rate_limiter_init(&rl, &tc.clock, true, 0.001, -1);
    for (int i = 0; i < 10000; i++) {
        int64_t w = -1;
        cr_assert_eq(np_aws_rate_limiter_take(&rl, NP_AWS_RATE_SG_INGRESS, &w), 0);
        cr_assert_eq(w, 0, "disabled: never waits");
    }
    double burst = -1, per_s = -1;
    np_aws_rate_limiter_budget(&rl, NP_AWS_RATE_UNLIMITED, &burst, &per_s);
    cr_expect(burst == 0 && per_s == 0);
    np_aws_rate_limiter_destroy(&rl);
}

/* ---------------------------------------------------------------- threads */

struct taker {
    struct np_aws_rate_limiter *rl;
    int tries;
    int granted_now;
    int granted_waiting;
    int64_t max_wait_seen;
};

static void *take_loop(void *arg)
{
    struct taker *t = arg;
    for (int i = 0; i < t->tries; i++) {
        int64_t w = -1;
        if (np_aws_rate_limiter_take(t->rl, NP_AWS_RATE_DESCRIBE, &w) != 0)
            continue;
        if (w == 0)
            t->granted_now++;
        else
            t->granted_waiting++;
        if (w > t->max_wait_seen)
            t->max_wait_seen = w;
    }
    return NULL;
}

static void run_takers(struct np_aws_rate_limiter *rl, struct taker *t, size_t n, int tries)
{
    pthread_t tid[16];
    cr_assert_leq(n, NP_ARRAY_LEN(tid));
    for (size_t i = 0; i < n; i++) {
        t[i] = (struct taker){rl, tries, 0, 0, 0};
        pthread_create(&tid[i], NULL, take_loop, &t[i]);
    }
    for (size_t i = 0; i < n; i++)
        pthread_join(tid[i], NULL);
}

Test(ratelimit, concurrent_takers_never_exceed_the_budget)
{
    /* frozen clock: exactly the burst at once, plus one second's refill reserved by waiters */
    struct test_clock tc;
    tc_init(&tc);
    struct np_aws_rate_limiter rl;
    np_aws_rate_limiter_init(&rl, &tc.clock, false, 0, 0);
    struct taker t[8];
    run_takers(&rl, t, 8, 50);
    int now = 0, waiting = 0;
    for (size_t i = 0; i < 8; i++) {
        now += t[i].granted_now;
        waiting += t[i].granted_waiting;
        cr_expect_leq(t[i].max_wait_seen, 1000);
    }
    cr_expect_eq(now, 100, "immediate grants %d", now);
    cr_expect_eq(waiting, 20, "waiting grants %d", waiting);
    np_aws_rate_limiter_destroy(&rl);

    /* a clock that moves 1 ms on every read: grants stay within burst + rate * (time + wait) */
    tc_init(&tc);
    atomic_store(&tc.step, 1);
    int64_t start = (int64_t)atomic_load(&tc.ms);
    np_aws_rate_limiter_init(&rl, &tc.clock, false, 0, 0);
    run_takers(&rl, t, 8, 2000);
    int64_t elapsed = (int64_t)atomic_load(&tc.ms) - start;
    int total = 0;
    for (size_t i = 0; i < 8; i++)
        total += t[i].granted_now + t[i].granted_waiting;
    int64_t bound = 100 + 20 * (elapsed + 1000) / 1000;
    cr_expect_leq(total, bound, "%d grants in %lld ms (bound %lld)", total, (long long)elapsed,
                  (long long)bound);
    cr_expect_geq(total, 100 + 20 * elapsed / 1000, "%d grants in %lld ms: the budget was used",
                  total, (long long)elapsed);
    np_aws_rate_limiter_destroy(&rl);
}

/* ---------------------------------------------------------------- through the EC2 client */

static struct np_aws_ec2 *scaled_client(struct fake_net *f, bool off, double scale)
{
    struct np_aws_ec2_config cfg = {.endpoint = EC2_URL, .no_rate_limit = off, .rate_scale = scale};
    return fake_client_cfg(f, &cfg);
}

static const char *delete_ok = "<DeleteSecurityGroupResponse><return>true</return>"
                               "</DeleteSecurityGroupResponse>";

Test(client_rate, exhausted_budget_fails_fast_as_client_throttled, .init = clear_env)
{
    struct fake_net f;
    fake_net_init(&f);
    struct np_aws_ec2 *c = scaled_client(&f, false, 0.1); /* mutating: 5 burst, 0.5/s */
    for (int i = 0; i < 6; i++)
        fake_net_push(&f, NP_AWS_TRANSPORT_OK, 200, delete_ok);
    for (int i = 0; i < 5; i++)
        cr_assert_eq(np_aws_ec2_delete_security_group(c, "sg-1"), 0, "%d: %s", i,
                     np_error_message());
    cr_expect_eq(np_aws_ec2_delete_security_group(c, "sg-1"), NP_ETHROTTLED);
    cr_expect_eq(f.n_requests, 5, "nothing sent for the refused call");
    cr_expect_eq(f.n_sleeps, 0, "2 s to the next token is over the 1 s maximum: no wait");
    cr_assert_eq(f.n_obs, 6);
    cr_expect_str_eq(f.obs_codes[5], "ClientThrottled");
    cr_expect_str_eq(f.obs_actions[5], "DeleteSecurityGroup");
    cr_expect_str_eq(f.obs_services[5], "ec2");
    cr_expect_eq(f.obs_status[5], 0);
    cr_expect_eq(f.obs_duration[5], 0);
    cr_expect(np_aws_error_is("ClientThrottled"));
    const struct np_aws_error *e = np_aws_error_last();
    cr_expect_str_eq(e->action, "DeleteSecurityGroup");
    cr_expect_eq(e->attempts, 0);
    cr_expect_eq(e->http_status, 0);
    cr_expect(strstr(e->message, "mutating") != NULL, "%s", e->message);
    cr_expect(strstr(np_error_message(), "EC2 DeleteSecurityGroup: ClientThrottled") != NULL, "%s",
              np_error_message());
    cr_expect(strstr(np_error_message(), "budget for mutating calls is exhausted") != NULL, "%s",
              np_error_message());
    cr_expect_eq(np_aws_error_map("ClientThrottled", 0), NP_ETHROTTLED);
    /* two seconds later one token is back */
    f.mono_ms += 2000;
    cr_expect_eq(np_aws_ec2_delete_security_group(c, "sg-1"), 0, "%s", np_error_message());
    cr_expect_eq(f.n_requests, 6);
    np_aws_ec2_destroy(c);
    fake_net_clean_up(&f);
}

Test(client_rate, short_wait_sleeps_then_sends, .init = clear_env)
{
    struct fake_net f;
    fake_net_init(&f);
    struct np_aws_ec2 *c = scaled_client(&f, false, 0.1); /* tags: 10 burst, 1/s */
    struct np_aws_tag tag = {(char *)"team", (char *)"shop"};
    for (int i = 0; i < 11; i++)
        fake_net_push(&f, NP_AWS_TRANSPORT_OK, 200, "<CreateTagsResponse/>");
    for (int i = 0; i < 11; i++)
        cr_assert_eq(np_aws_ec2_create_tags(c, "sg-1", &tag, 1), 0, "%d: %s", i,
                     np_error_message());
    cr_expect_eq(f.n_requests, 11);
    cr_assert_eq(f.n_sleeps, 1);
    /* ten calls took 70 ms of fake latency: 0.07 of a token came back */
    cr_expect_eq(f.sleeps[0], 930, "the eleventh call waited for its token: %lld",
                 (long long)f.sleeps[0]);
    cr_assert_eq(f.n_obs, 11);
    cr_expect_eq(f.obs_wait[0], 0, "the first call took a token at once");
    cr_expect_eq(f.obs_wait[10], 930, "the observer is told of the wait");
    np_aws_ec2_destroy(c);
    fake_net_clean_up(&f);
}

Test(client_rate, categories_are_separate_and_sts_is_unlimited, .init = clear_env)
{
    struct fake_net f;
    fake_net_init(&f);
    struct np_aws_ec2 *c = scaled_client(&f, false, 0.02); /* one token each, 0.1/s */
    struct np_aws_perm perm = {(char *)"tcp",        true, 22,  22, NP_AWS_PEER_CIDR4,
                               (char *)"10.0.0.0/8", NULL, NULL};
    fake_net_push(&f, NP_AWS_TRANSPORT_OK, 200,
                  "<AuthorizeSecurityGroupIngressResponse><return>true</return>"
                  "</AuthorizeSecurityGroupIngressResponse>");
    fake_net_push(&f, NP_AWS_TRANSPORT_OK, 200,
                  "<AuthorizeSecurityGroupEgressResponse><return>true</return>"
                  "</AuthorizeSecurityGroupEgressResponse>");
    for (int i = 0; i < 5; i++)
        fake_net_push_file(&f, 200, FX "sts-get-caller-identity.xml");
    cr_expect_eq(np_aws_ec2_authorize_ingress(c, "sg-1", &perm, 1), 0, "%s", np_error_message());
    cr_expect_eq(np_aws_ec2_authorize_ingress(c, "sg-1", &perm, 1), NP_ETHROTTLED);
    cr_expect(strstr(np_error_message(), "security-group-ingress") != NULL, "%s",
              np_error_message());
    cr_expect_eq(np_aws_ec2_authorize_egress(c, "sg-1", &perm, 1), 0, "egress is 'mutating': %s",
                 np_error_message());
    for (int i = 0; i < 5; i++)
        cr_expect_eq(np_aws_sts_get_caller_identity(c, NULL, NULL), 0, "STS %d: %s", i,
                     np_error_message());
    cr_expect_eq(f.n_requests, 7);
    np_aws_ec2_destroy(c);
    fake_net_clean_up(&f);
}

Test(client_rate, retries_pay_tokens_too, .init = clear_env)
{
    struct fake_net f;
    fake_net_init(&f);
    struct np_aws_ec2 *c = scaled_client(&f, false, 0.02);
    char *throttle = fixture_read(FX "crafted/error-request-limit-exceeded.xml", NULL);
    fake_net_push(&f, NP_AWS_TRANSPORT_OK, 503, throttle);
    fake_net_push(&f, NP_AWS_TRANSPORT_OK, 200, delete_ok);
    cr_expect_eq(np_aws_ec2_delete_security_group(c, "sg-1"), NP_ETHROTTLED);
    cr_expect_eq(f.n_requests, 1, "the retry found no token (10 s away)");
    cr_assert_eq(f.n_obs, 2);
    cr_expect_str_eq(f.obs_codes[0], "RequestLimitExceeded");
    cr_expect_str_eq(f.obs_codes[1], "ClientThrottled");
    cr_expect_eq(f.obs_attempt[1], 2);
    cr_expect_eq(np_aws_error_last()->attempts, 1);
    free(throttle);
    np_aws_ec2_destroy(c);
    fake_net_clean_up(&f);
}

Test(client_rate, off_switch_and_config_ranges, .init = clear_env)
{
    struct fake_net f;
    fake_net_init(&f);
    struct np_aws_ec2 *c = scaled_client(&f, true, 0.02);
    for (int i = 0; i < 5; i++)
        fake_net_push(&f, NP_AWS_TRANSPORT_OK, 200, delete_ok);
    for (int i = 0; i < 5; i++)
        cr_expect_eq(np_aws_ec2_delete_security_group(c, "sg-1"), 0, "%s", np_error_message());
    cr_expect_eq(f.n_sleeps, 0);
    np_aws_ec2_destroy(c);
    fake_net_clean_up(&f);

    struct np_aws_credentials creds;
    cr_assert_eq(np_aws_credentials_set(&creds, "AK", "SK", NULL), 0);
    struct {
        double scale;
        int64_t max_wait;
        int want;
    } cases[] = {
        {-1, 0, NP_EINVAL},
        {1000.5, 0, NP_EINVAL},
        {1, 600001, NP_EINVAL},
        {1000, 600000, 0},
        {0, -5, 0},
        {0.5, 0, 0},
    };
    for (size_t i = 0; i < NP_ARRAY_LEN(cases); i++) {
        struct np_aws_ec2_config cfg = {.region = "us-east-1",
                                        .credentials = &creds,
                                        .rate_scale = cases[i].scale,
                                        .rate_max_wait_ms = cases[i].max_wait};
        struct np_aws_ec2 *x = NULL;
        cr_expect_eq(np_aws_ec2_new(&x, &cfg), cases[i].want, "case %zu: %s", i,
                     np_error_message());
        cr_expect((x != NULL) == (cases[i].want == 0));
        np_aws_ec2_destroy(x);
    }
    np_aws_credentials_clean_up(&creds);
}
