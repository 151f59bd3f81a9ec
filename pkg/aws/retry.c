/*
 * Retry policy of the AWS client, after the SDKs' "standard" mode: which outcomes are
 * retryable, full-jitter exponential delays, and the shared retry quota (token bucket) —
 * plus the mapping of AWS error codes to netposture's NP_E* codes. Pure except the quota lock.
 */
#include "aws/private/aws_private.h"

#include <string.h>

static bool in_list(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, list[i]) == 0)
            return true;
    return false;
}

static bool has_suffix(const char *s, const char *suffix)
{
    size_t ls = strlen(s), lx = strlen(suffix);
    return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

/*
 * Creates that accept no ClientToken: an attempt whose outcome is unknown (timeout, broken
 * connection, 5xx) may have created the resource, so repeating it could make a second one.
 * Their callers look the resource up by our uid tag in the next pass instead.
 */
static const char *const unrepeatable_actions[] = {
    "CreateVpc",
    "CreateSubnet",
    "CreateSecurityGroup",
};

bool np_aws_action_is_repeatable(const char *action)
{
    return !action || !in_list(action, unrepeatable_actions, NP_ARRAY_LEN(unrepeatable_actions));
}

static const char *const throttling_codes[] = {
    "RequestLimitExceeded",
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "RequestThrottled",
    "TooManyRequestsException",
    "EC2ThrottledException",
    "PriorRequestNotComplete",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "SlowDown",
    "BandwidthLimitExceeded",
    "ClientThrottled", /* netposture's own token buckets (never sent by AWS) */
};

/* Not-found codes that do not end in .NotFound (SQS). */
static const char *const not_found_codes[] = {
    "AWS.SimpleQueueService.NonExistentQueue",
    "QueueDoesNotExist",
};

static const char *const transient_codes[] = {
    "RequestTimeout",      "RequestTimeoutException", "InternalError",
    "InternalFailure",     "ServiceUnavailable",      "Unavailable",
    "InternalServerError",
};

static const char *const auth_codes[] = {
    "AuthFailure",
    "UnauthorizedOperation",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "AccessDenied",
    "AccessDeniedException",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidAccessKeyId",
    "IncompleteSignature",
    "MissingAuthenticationToken",
    "RequestExpired",
    "UnrecognizedClientException",
    "OptInRequired",
    "Blocked",
    "InvalidToken",
    "AuthorizationError",
};

bool np_aws_code_is_throttling(const char *aws_code)
{
    return !np_str_is_empty(aws_code) &&
           in_list(aws_code, throttling_codes, NP_ARRAY_LEN(throttling_codes));
}

enum np_aws_retry_kind np_aws_retry_classify(enum np_aws_transport_status ts, long http_status,
                                             const char *aws_code)
{
    switch (ts) {
    case NP_AWS_TRANSPORT_NETWORK: return NP_AWS_RETRY_TRANSIENT;
    case NP_AWS_TRANSPORT_TIMEOUT: return NP_AWS_RETRY_TIMEOUT;
    case NP_AWS_TRANSPORT_FATAL:
    case NP_AWS_TRANSPORT_CANCELED: return NP_AWS_RETRY_NONE;
    case NP_AWS_TRANSPORT_OK: break;
    }
    if (http_status >= 200 && http_status < 300)
        return NP_AWS_RETRY_NONE;
    if (np_aws_code_is_throttling(aws_code) || http_status == 429)
        return NP_AWS_RETRY_THROTTLE;
    if (!np_str_is_empty(aws_code) &&
        in_list(aws_code, transient_codes, NP_ARRAY_LEN(transient_codes)))
        return NP_AWS_RETRY_TRANSIENT;
    if (http_status == 500 || http_status == 502 || http_status == 503 || http_status == 504)
        return NP_AWS_RETRY_TRANSIENT;
    return NP_AWS_RETRY_NONE;
}

int np_aws_error_map(const char *code, long http_status)
{
    if (!np_str_is_empty(code)) {
        if (np_aws_code_is_throttling(code))
            return NP_ETHROTTLED;
        if (in_list(code, auth_codes, NP_ARRAY_LEN(auth_codes)))
            return NP_EAUTH;
        if (has_suffix(code, ".NotFound") || has_suffix(code, "NotFoundException") ||
            in_list(code, not_found_codes, NP_ARRAY_LEN(not_found_codes)))
            return NP_ENOTFOUND;
        if (has_suffix(code, ".Duplicate") || has_suffix(code, "AlreadyExists") ||
            has_suffix(code, "AlreadyExistsException"))
            return NP_EEXIST;
        if (strcmp(code, "DependencyViolation") == 0)
            return NP_EDEPENDENCY;
        if (in_list(code, transient_codes, NP_ARRAY_LEN(transient_codes)) || http_status >= 500)
            return NP_EAGAIN;
        return NP_EINVAL;
    }
    if (http_status >= 200 && http_status < 300)
        return 0;
    if (http_status == 401 || http_status == 403)
        return NP_EAUTH;
    if (http_status == 429)
        return NP_ETHROTTLED;
    if (http_status >= 500)
        return NP_EAGAIN;
    if (http_status >= 400)
        return NP_EINVAL;
    return NP_EIO;
}

int64_t np_aws_retry_delay_ms(const struct np_aws_retry_policy *p, enum np_aws_retry_kind kind,
                              int retry, uint64_t (*rand_below)(void *ctx, uint64_t n),
                              void *rand_ctx)
{
    int64_t base = kind == NP_AWS_RETRY_THROTTLE ? p->throttle_base_ms : p->base_ms;
    if (base <= 0 || retry < 1)
        return 0;
    int64_t ceiling = base;
    for (int i = 1; i < retry && ceiling < p->cap_ms; i++)
        ceiling *= 2;
    if (ceiling > p->cap_ms)
        ceiling = p->cap_ms;
    return (int64_t)rand_below(rand_ctx, (uint64_t)ceiling + 1);
}

void np_aws_retry_quota_init(struct np_aws_retry_quota *q, int capacity)
{
    pthread_mutex_init(&q->lock, NULL);
    q->capacity = capacity;
    q->available = capacity;
}

void np_aws_retry_quota_destroy(struct np_aws_retry_quota *q)
{
    pthread_mutex_destroy(&q->lock);
}

bool np_aws_retry_quota_acquire(struct np_aws_retry_quota *q, int cost)
{
    bool ok = false;
    pthread_mutex_lock(&q->lock);
    if (q->available >= cost) {
        q->available -= cost;
        ok = true;
    }
    pthread_mutex_unlock(&q->lock);
    return ok;
}

void np_aws_retry_quota_release(struct np_aws_retry_quota *q, int amount)
{
    pthread_mutex_lock(&q->lock);
    q->available += amount;
    if (q->available > q->capacity)
        q->available = q->capacity;
    pthread_mutex_unlock(&q->lock);
}

int np_aws_retry_quota_available(struct np_aws_retry_quota *q)
{
    pthread_mutex_lock(&q->lock);
    int v = q->available;
    pthread_mutex_unlock(&q->lock);
    return v;
}

bool np_aws_retry_decide(const struct np_aws_retry_policy *p, struct np_aws_retry_quota *q,
                         enum np_aws_retry_kind kind, int attempt, int *taken)
{
    if (kind == NP_AWS_RETRY_NONE || attempt >= p->max_attempts)
        return false;
    int cost = kind == NP_AWS_RETRY_TIMEOUT ? p->timeout_retry_cost : p->retry_cost;
    if (!np_aws_retry_quota_acquire(q, cost))
        return false;
    *taken += cost;
    return true;
}

void np_aws_retry_on_success(const struct np_aws_retry_policy *p, struct np_aws_retry_quota *q,
                             int taken)
{
    np_aws_retry_quota_release(q, taken > 0 ? taken : p->no_retry_increment);
}
