/*
 * np_aws_provider: one account's credentials, from a source (sources.c) with an optional STS
 * AssumeRole on top, cached and refreshed before they expire by one caller at a time. Callers
 * with still-valid credentials never wait for a refresh; a failed refresh backs off and keeps
 * the valid ones; expired credentials are never handed out.
 */
#include "aws/private/aws_private.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define ADVISORY_MS (15LL * 60 * 1000) /* refresh this long before expiry at most */
#define SAFETY_MS (60LL * 1000)        /* unusable this long before expiry at most */
#define BACKOFF_MIN_MS 1000LL
#define BACKOFF_MAX_MS (60LL * 1000)
#define DEFAULT_DURATION_S 3600

struct np_aws_provider {
    atomic_int refs;
    const struct np_clock *clock;
    struct np_aws_source src;     /* used when base is NULL */
    struct np_aws_provider *base; /* AssumeRole on top of it */
    struct np_aws_ec2 *sts;       /* signed with base's credentials */
    struct np_aws_assume_role role;
    pthread_mutex_t lock;
    pthread_cond_t refreshed;
    /* Guarded by lock. */
    struct np_aws_credentials creds;
    bool have;
    bool ever_had;
    int64_t fetched_ms, expires_ms; /* wall; expires 0: never */
    bool refreshing;
    int failures;
    int64_t retry_ms;
    enum np_aws_cred_failure failure;
    char *failure_msg;
};

static const char *const source_names[] = {
    [NP_AWS_SOURCE_DEFAULT] = "Default",
    [NP_AWS_SOURCE_ENVIRONMENT] = "Environment",
    [NP_AWS_SOURCE_STATIC] = "Secret",
    [NP_AWS_SOURCE_WEB_IDENTITY] = "WebIdentity",
    [NP_AWS_SOURCE_CONTAINER] = "PodIdentity",
    [NP_AWS_SOURCE_INSTANCE_METADATA] = "InstanceMetadata",
};

const char *np_aws_cred_source_name(enum np_aws_cred_source s)
{
    return (size_t)s < NP_ARRAY_LEN(source_names) ? source_names[s] : "Unknown";
}

bool np_aws_cred_source_parse(const char *name, enum np_aws_cred_source *out)
{
    if (!name) {
        *out = NP_AWS_SOURCE_DEFAULT;
        return true;
    }
    for (size_t i = 0; i < NP_ARRAY_LEN(source_names); i++) {
        if (strcmp(name, source_names[i]) == 0) {
            *out = (enum np_aws_cred_source)i;
            return true;
        }
    }
    return false;
}

/* ---------------------------------------------------------------- schedule */

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/* When cached credentials should be refreshed: expiry - min(15 min, half their life). */
static int64_t refresh_at(const struct np_aws_provider *p)
{
    int64_t life = p->expires_ms - p->fetched_ms;
    return p->expires_ms - min64(ADVISORY_MS, life > 0 ? life / 2 : 0);
}

/* Until when cached credentials may sign: expiry - min(60 s, a tenth of their life). */
static int64_t usable_until(const struct np_aws_provider *p)
{
    int64_t life = p->expires_ms - p->fetched_ms;
    return p->expires_ms - min64(SAFETY_MS, life > 0 ? life / 10 : 0);
}

static bool valid_locked(const struct np_aws_provider *p, int64_t now)
{
    return p->have && (p->expires_ms == 0 || now < usable_until(p));
}

static bool due_locked(const struct np_aws_provider *p, int64_t now)
{
    return !p->have || (p->expires_ms != 0 && now >= refresh_at(p));
}

/* ---------------------------------------------------------------- fetching */

/* AssumeRole with the base provider's credentials; the base's own failure is passed on. */
static int fetch_assumed(struct np_aws_provider *p, struct np_aws_fetched *out,
                         enum np_aws_cred_failure *why)
{
    struct np_aws_credentials probe = {NULL, NULL, NULL};
    int rc = np_aws_provider_get(p->base, &probe, why);
    np_aws_credentials_clean_up(&probe);
    if (rc)
        return rc;
    return np_aws_fetch_assume_role(p->sts, &p->role, out, why);
}

static int fetch(struct np_aws_provider *p, struct np_aws_fetched *out,
                 enum np_aws_cred_failure *why)
{
    *why = NP_AWS_CRED_OK;
    int rc = p->base ? fetch_assumed(p, out, why) : np_aws_source_fetch(&p->src, out, why);
    if (rc && *why == NP_AWS_CRED_OK)
        *why = NP_AWS_CRED_UNAVAILABLE;
    return rc;
}

static void fetched_clean_up(struct np_aws_fetched *f)
{
    np_aws_credentials_clean_up(&f->creds);
    free(f->arn);
    memset(f, 0, sizeof(*f));
}

/* A fetch succeeded: its credentials replace the cached ones. */
static void store_locked(struct np_aws_provider *p, struct np_aws_fetched *f, int64_t now)
{
    np_aws_credentials_clean_up(&p->creds);
    p->creds = f->creds;
    memset(&f->creds, 0, sizeof(f->creds));
    p->have = p->ever_had = true;
    p->fetched_ms = now;
    p->expires_ms = f->expires_ms;
    p->failures = 0;
    p->retry_ms = 0;
    p->failure = NP_AWS_CRED_OK;
    free(p->failure_msg);
    p->failure_msg = NULL;
}

/* A fetch failed: remembered with a backoff before the next try. A default chain that fell
 * through to IMDS and never got anything says so (CredentialsNotFound, what was tried). */
static void failed_locked(struct np_aws_provider *p, enum np_aws_cred_failure why, const char *msg,
                          int64_t now)
{
    int shift = p->failures < 6 ? p->failures : 6;
    p->failures++;
    p->retry_ms = now + min64(BACKOFF_MIN_MS << shift, BACKOFF_MAX_MS);
    free(p->failure_msg);
    if (!p->base && p->src.from_chain && !p->ever_had && why == NP_AWS_CRED_METADATA_UNAVAILABLE) {
        why = NP_AWS_CRED_NOT_FOUND;
        p->failure_msg = np_strdupf("no credentials in the default chain: environment, web "
                                    "identity and container not configured; %s",
                                    msg);
    } else {
        p->failure_msg = np_strdup(msg);
    }
    p->failure = why;
}

/* Runs one fetch outside the lock (the caller set refreshing) and records its outcome. */
static void refresh_locked(struct np_aws_provider *p)
{
    struct np_aws_fetched f;
    enum np_aws_cred_failure why = NP_AWS_CRED_OK;
    memset(&f, 0, sizeof(f));
    pthread_mutex_unlock(&p->lock);
    int rc = fetch(p, &f, &why);
    char *msg = rc ? np_strdup(np_error_message()) : NULL;
    int64_t now = p->clock->now_ms(p->clock->ctx);
    pthread_mutex_lock(&p->lock);
    if (rc == 0)
        store_locked(p, &f, now);
    else
        failed_locked(p, why, msg, now);
    if (rc)
        np_log_warn("aws credentials refresh failed", "source",
                    np_aws_cred_source_name(p->base ? p->base->src.kind : p->src.kind), "error",
                    msg);
    free(msg);
    fetched_clean_up(&f);
    p->refreshing = false;
    pthread_cond_broadcast(&p->refreshed);
}

/* No usable credentials: the last failure, or CredentialsExpired when some ran out. */
static int unusable_locked(struct np_aws_provider *p, int64_t now, enum np_aws_cred_failure *why)
{
    const char *msg = p->failure_msg ? p->failure_msg : "no credentials fetched yet";
    if (p->have && p->expires_ms != 0 && now >= usable_until(p)) {
        char when[40];
        np_time_format_rfc3339(when, sizeof(when), p->expires_ms);
        *why = NP_AWS_CRED_EXPIRED;
        return np_error_set(NP_EAUTH,
                            "the temporary credentials expire at %s and could not be refreshed: %s",
                            when, msg);
    }
    *why = p->failure != NP_AWS_CRED_OK ? p->failure : NP_AWS_CRED_UNAVAILABLE;
    return np_error_set(NP_EAUTH, "%s", msg);
}

int np_aws_provider_get(struct np_aws_provider *p, struct np_aws_credentials *out,
                        enum np_aws_cred_failure *why)
{
    enum np_aws_cred_failure dummy = NP_AWS_CRED_OK;
    why = why ? why : &dummy;
    *why = NP_AWS_CRED_OK;
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&p->lock);
    int rc = 0;
    for (;;) {
        int64_t now = p->clock->now_ms(p->clock->ctx);
        bool valid = valid_locked(p, now);
        bool may_refresh = !p->refreshing && now >= p->retry_ms;
        if (valid && (!due_locked(p, now) || !may_refresh)) {
            rc = np_aws_credentials_copy(out, &p->creds);
            break;
        }
        if (may_refresh) {
            p->refreshing = true;
            refresh_locked(p);
            continue;
        }
        if (p->refreshing) {
            pthread_cond_wait(&p->refreshed, &p->lock);
            continue;
        }
        rc = unusable_locked(p, now, why); /* backing off after a failure */
        break;
    }
    pthread_mutex_unlock(&p->lock);
    return rc;
}

/* ---------------------------------------------------------------- construction */

static struct np_aws_provider *provider_alloc(const struct np_aws_provider_config *cfg)
{
    struct np_aws_provider *p = np_xcalloc(1, sizeof(*p));
    atomic_init(&p->refs, 1);
    p->clock = cfg->clock ? cfg->clock : np_clock_system();
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->refreshed, NULL);
    return p;
}

/* The AssumeRole layer: an STS client signed with the base provider. */
static int assume_init(struct np_aws_provider *p, struct np_aws_provider *base,
                       const struct np_aws_provider_config *cfg)
{
    char name[72];
    np_aws_session_name(name, sizeof(name),
                        !np_str_is_empty(cfg->assume_session_name) ? cfg->assume_session_name
                                                                   : cfg->session_name);
    p->base = base;
    p->role.role_arn = np_strdup(cfg->assume_role_arn);
    p->role.external_id = np_str_is_empty(cfg->external_id) ? NULL : np_strdup(cfg->external_id);
    p->role.session_name = np_strdup(name);
    p->role.duration_seconds =
        cfg->duration_seconds > 0 ? cfg->duration_seconds : DEFAULT_DURATION_S;
    struct np_aws_ec2_config cc = {.region = cfg->region,
                                   .sts_endpoint = cfg->sts_endpoint,
                                   .provider = base,
                                   .ca_bundle = cfg->ca_bundle,
                                   .insecure_skip_tls_verify = cfg->insecure_skip_tls_verify,
                                   .observer = cfg->observer,
                                   .observer_ctx = cfg->observer_ctx,
                                   .clock = cfg->clock,
                                   .no_rate_limit = true};
    return np_aws_client_new(&p->sts, &cc, NP_AWS_CLIENT_ENDPOINTS);
}

int np_aws_provider_new(struct np_aws_provider **out, const struct np_aws_provider_config *cfg)
{
    *out = NULL;
    if (!cfg || np_str_is_empty(cfg->region))
        return np_error_set(NP_EINVAL, "credentials: no region for STS");
    if (cfg->duration_seconds < 0 || cfg->duration_seconds > 43200)
        return np_error_set(NP_EINVAL, "credentials: durationSeconds must be within 900..43200");
    struct np_aws_provider *p = provider_alloc(cfg);
    int rc = np_aws_source_init(&p->src, cfg);
    if (rc == 0 && !np_str_is_empty(cfg->assume_role_arn)) {
        struct np_aws_provider *top = provider_alloc(cfg);
        rc = assume_init(top, p, cfg);
        p = top; /* owns the base now */
    }
    if (rc) {
        np_aws_provider_unref(p);
        return rc;
    }
    *out = p;
    return 0;
}

struct np_aws_provider *np_aws_provider_ref(struct np_aws_provider *p)
{
    if (p)
        atomic_fetch_add(&p->refs, 1);
    return p;
}

void np_aws_provider_unref(struct np_aws_provider *p)
{
    if (!p || atomic_fetch_sub(&p->refs, 1) != 1)
        return;
    np_aws_ec2_destroy(p->sts); /* drops its reference to base */
    np_aws_provider_unref(p->base);
    np_aws_source_clean_up(&p->src);
    free(p->role.role_arn);
    free(p->role.external_id);
    free(p->role.session_name);
    np_aws_credentials_clean_up(&p->creds);
    free(p->failure_msg);
    pthread_cond_destroy(&p->refreshed);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

void np_aws_provider_state(struct np_aws_provider *p, struct np_aws_provider_state *out)
{
    memset(out, 0, sizeof(*out));
    const struct np_aws_provider *src = p->base ? p->base : p;
    out->source = src->src.kind;
    out->assumed = p->base != NULL;
    pthread_mutex_lock(&p->lock);
    out->expires_ms = p->have ? p->expires_ms : 0;
    if (out->expires_ms)
        out->refresh_ms = refresh_at(p) > p->retry_ms ? refresh_at(p) : p->retry_ms;
    out->failure = p->failure;
    pthread_mutex_unlock(&p->lock);
}

void np_aws_provider_set_test_hooks(struct np_aws_provider *p,
                                    const struct np_aws_test_hooks *hooks)
{
    if (p->src.client)
        np_aws_ec2_set_test_hooks(p->src.client, hooks);
    if (p->sts)
        np_aws_ec2_set_test_hooks(p->sts, hooks);
    if (p->base)
        np_aws_provider_set_test_hooks(p->base, hooks);
}
