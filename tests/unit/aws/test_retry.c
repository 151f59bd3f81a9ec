/*
 * Retry policy tests (pure functions): which outcomes retry, the full-jitter delays with an
 * injected random source, the standard-mode retry quota, and the AWS → NP error mapping.
 */
#include "aws_test.h"

#include <criterion/criterion.h>
#include <string.h>

Test(retry, classify_outcomes)
{
    struct {
        enum np_aws_transport_status ts;
        long status;
        const char *code;
        enum np_aws_retry_kind want;
    } cases[] = {
        {NP_AWS_TRANSPORT_OK, 200, NULL, NP_AWS_RETRY_NONE},
        {NP_AWS_TRANSPORT_OK, 503, "RequestLimitExceeded", NP_AWS_RETRY_THROTTLE},
        {NP_AWS_TRANSPORT_OK, 400, "Throttling", NP_AWS_RETRY_THROTTLE},
        {NP_AWS_TRANSPORT_OK, 400, "ThrottlingException", NP_AWS_RETRY_THROTTLE},
        {NP_AWS_TRANSPORT_OK, 429, NULL, NP_AWS_RETRY_THROTTLE},
        {NP_AWS_TRANSPORT_OK, 500, NULL, NP_AWS_RETRY_TRANSIENT},
        {NP_AWS_TRANSPORT_OK, 502, NULL, NP_AWS_RETRY_TRANSIENT},
        {NP_AWS_TRANSPORT_OK, 503, "Unavailable", NP_AWS_RETRY_TRANSIENT},
        {NP_AWS_TRANSPORT_OK, 504, NULL, NP_AWS_RETRY_TRANSIENT},
        {NP_AWS_TRANSPORT_OK, 500, "InternalError", NP_AWS_RETRY_TRANSIENT},
        {NP_AWS_TRANSPORT_OK, 400, "RequestTimeout", NP_AWS_RETRY_TRANSIENT},
        {NP_AWS_TRANSPORT_OK, 501, NULL, NP_AWS_RETRY_NONE},
        {NP_AWS_TRANSPORT_OK, 400, "InvalidPermission.Duplicate", NP_AWS_RETRY_NONE},
        {NP_AWS_TRANSPORT_OK, 401, "AuthFailure", NP_AWS_RETRY_NONE},
        {NP_AWS_TRANSPORT_OK, 400, "DependencyViolation", NP_AWS_RETRY_NONE},
        {NP_AWS_TRANSPORT_OK, 400, "RulesPerSecurityGroupLimitExceeded", NP_AWS_RETRY_NONE},
        {NP_AWS_TRANSPORT_NETWORK, 0, NULL, NP_AWS_RETRY_TRANSIENT},
        {NP_AWS_TRANSPORT_TIMEOUT, 0, NULL, NP_AWS_RETRY_TIMEOUT},
        {NP_AWS_TRANSPORT_FATAL, 0, NULL, NP_AWS_RETRY_NONE},
    };
    for (size_t i = 0; i < NP_ARRAY_LEN(cases); i++)
        cr_expect_eq(np_aws_retry_classify(cases[i].ts, cases[i].status, cases[i].code),
                     cases[i].want, "case %zu (%ld %s)", i, cases[i].status,
                     cases[i].code ? cases[i].code : "-");
}

Test(retry, error_codes_map_to_np_codes)
{
    struct {
        const char *code;
        long status;
        int want;
    } cases[] = {
        {"RequestLimitExceeded", 503, NP_ETHROTTLED},
        {"Throttling", 400, NP_ETHROTTLED},
        {"AuthFailure", 401, NP_EAUTH},
        {"UnauthorizedOperation", 403, NP_EAUTH},
        {"InvalidClientTokenId", 403, NP_EAUTH},
        {"SignatureDoesNotMatch", 403, NP_EAUTH},
        {"AccessDenied", 403, NP_EAUTH},
        {"InvalidGroup.NotFound", 400, NP_ENOTFOUND},
        {"InvalidPermission.NotFound", 400, NP_ENOTFOUND},
        {"InvalidVpcID.NotFound", 400, NP_ENOTFOUND},
        {"InvalidPermission.Duplicate", 400, NP_EEXIST},
        {"InvalidGroup.Duplicate", 400, NP_EEXIST},
        {"RouteAlreadyExists", 400, NP_EEXIST},
        {"DependencyViolation", 400, NP_EDEPENDENCY},
        {"InvalidParameterValue", 400, NP_EINVAL},
        {"InvalidGroupId.Malformed", 400, NP_EINVAL},
        {"RulesPerSecurityGroupLimitExceeded", 400, NP_EINVAL},
        {"InternalError", 500, NP_EAGAIN},
        {"SomethingNew", 503, NP_EAGAIN},
        {NULL, 200, 0},
        {NULL, 500, NP_EAGAIN},
        {NULL, 401, NP_EAUTH},
        {NULL, 404, NP_EINVAL},
        {NULL, 429, NP_ETHROTTLED},
        {"", 302, NP_EIO},
    };
    for (size_t i = 0; i < NP_ARRAY_LEN(cases); i++)
        cr_expect_eq(np_aws_error_map(cases[i].code, cases[i].status), cases[i].want,
                     "%s/%ld -> %s", cases[i].code ? cases[i].code : "-", cases[i].status,
                     np_error_name(np_aws_error_map(cases[i].code, cases[i].status)));
}

struct rand_rec {
    uint64_t ceilings[16];
    size_t n;
    bool max; /* return n-1 (else 0) */
};

static uint64_t rec_rand(void *ctx, uint64_t n)
{
    struct rand_rec *r = ctx;
    if (r->n < 16)
        r->ceilings[r->n++] = n;
    return r->max ? n - 1 : 0;
}

Test(retry, full_jitter_delays_grow_and_cap)
{
    struct np_aws_retry_policy p = NP_AWS_RETRY_POLICY_DEFAULT;
    struct rand_rec r = {.max = true};
    /* transient base 100 ms: 100, 200, 400, ... capped at 20 s */
    cr_expect_eq(np_aws_retry_delay_ms(&p, NP_AWS_RETRY_TRANSIENT, 1, rec_rand, &r), 100);
    cr_expect_eq(np_aws_retry_delay_ms(&p, NP_AWS_RETRY_TRANSIENT, 2, rec_rand, &r), 200);
    cr_expect_eq(np_aws_retry_delay_ms(&p, NP_AWS_RETRY_TIMEOUT, 3, rec_rand, &r), 400);
    cr_expect_eq(np_aws_retry_delay_ms(&p, NP_AWS_RETRY_TRANSIENT, 9, rec_rand, &r), 20000);
    cr_expect_eq(np_aws_retry_delay_ms(&p, NP_AWS_RETRY_TRANSIENT, 60, rec_rand, &r), 20000,
                 "no overflow for large retry numbers");
    /* throttling base 500 ms */
    cr_expect_eq(np_aws_retry_delay_ms(&p, NP_AWS_RETRY_THROTTLE, 1, rec_rand, &r), 500);
    cr_expect_eq(np_aws_retry_delay_ms(&p, NP_AWS_RETRY_THROTTLE, 3, rec_rand, &r), 2000);
    cr_expect_eq(np_aws_retry_delay_ms(&p, NP_AWS_RETRY_THROTTLE, 7, rec_rand, &r), 20000);
    /* full jitter: the draw is over [0, ceiling] */
    cr_expect_eq(r.ceilings[0], 101);
    cr_expect_eq(r.ceilings[3], 20001);
    struct rand_rec zero = {.max = false};
    cr_expect_eq(np_aws_retry_delay_ms(&p, NP_AWS_RETRY_THROTTLE, 4, rec_rand, &zero), 0);
    cr_expect_eq(zero.ceilings[0], 4001);
}

Test(retry, quota_takes_and_refunds_within_capacity)
{
    struct np_aws_retry_quota q;
    np_aws_retry_quota_init(&q, NP_AWS_RETRY_QUOTA_CAPACITY);
    cr_expect_eq(np_aws_retry_quota_available(&q), 500);
    int ok = 0;
    while (np_aws_retry_quota_acquire(&q, 5))
        ok++;
    cr_expect_eq(ok, 100, "500 tokens pay 100 retries at 5");
    cr_expect_eq(np_aws_retry_quota_available(&q), 0);
    np_aws_retry_quota_release(&q, 7);
    cr_expect_not(np_aws_retry_quota_acquire(&q, 10));
    cr_expect(np_aws_retry_quota_acquire(&q, 5));
    np_aws_retry_quota_release(&q, 10000);
    cr_expect_eq(np_aws_retry_quota_available(&q), 500, "refunds never exceed capacity");
    np_aws_retry_quota_destroy(&q);
}

Test(retry, decide_respects_attempts_kind_and_quota)
{
    struct np_aws_retry_policy p = NP_AWS_RETRY_POLICY_DEFAULT;
    struct np_aws_retry_quota q;
    np_aws_retry_quota_init(&q, 20);
    int taken = 0;
    cr_expect_not(np_aws_retry_decide(&p, &q, NP_AWS_RETRY_NONE, 1, &taken));
    cr_expect(np_aws_retry_decide(&p, &q, NP_AWS_RETRY_THROTTLE, 1, &taken));
    cr_expect_eq(taken, 5);
    cr_expect(np_aws_retry_decide(&p, &q, NP_AWS_RETRY_TIMEOUT, 2, &taken));
    cr_expect_eq(taken, 15, "a timeout retry costs 10");
    cr_expect_not(np_aws_retry_decide(&p, &q, NP_AWS_RETRY_TRANSIENT, 4, &taken),
                  "4 attempts is the limit");
    cr_expect(np_aws_retry_decide(&p, &q, NP_AWS_RETRY_TRANSIENT, 3, &taken));
    cr_expect_eq(np_aws_retry_quota_available(&q), 0);
    cr_expect_not(np_aws_retry_decide(&p, &q, NP_AWS_RETRY_TRANSIENT, 1, &taken),
                  "an empty quota stops retries");
    cr_expect_eq(taken, 20);
    /* success after retries refunds what was taken; a first-try success refunds 1 */
    np_aws_retry_on_success(&p, &q, 15);
    cr_expect_eq(np_aws_retry_quota_available(&q), 15);
    np_aws_retry_on_success(&p, &q, 0);
    cr_expect_eq(np_aws_retry_quota_available(&q), 16);
    np_aws_retry_quota_destroy(&q);
}
