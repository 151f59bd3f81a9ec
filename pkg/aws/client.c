/*
 * The client core behind EC2, STS, SQS (Query API) and CloudTrail (JSON 1.1): configuration,
 * endpoint parsing, a pool of libcurl easy handles (keep-alive per handle; DNS and TLS sessions
 * shared through a locked CURLSH), the signed POST, client-side token buckets, cancellation,
 * and the retry loop (standard mode, full jitter, shared quota) that reports every attempt to
 * the observer and records the outcome for np_aws_error_last().
 */
#include "aws/private/aws_private.h"
#include "aws/private/sigv4.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POOL_MAX 16
#define MAX_RESPONSE_BYTES ((size_t)256 * 1024 * 1024)
#define DEFAULT_CONNECT_TIMEOUT_MS 5000
#define DEFAULT_TIMEOUT_MS 30000
#define CONTENT_TYPE "application/x-www-form-urlencoded; charset=utf-8"
#define JSON_CONTENT_TYPE "application/x-amz-json-1.1"

struct endpoint {
    char *url;  /* what curl is given */
    char *host; /* Host header value: host[:port] */
    char *path; /* decoded path for the signer */
};

struct np_aws_ec2 {
    char *region;
    struct endpoint ep[NP_AWS_N_SERVICES]; /* indexed by enum np_aws_service; url NULL: none */
    struct np_aws_provider *provider;      /* NULL: an anonymous client (unsigned calls) */
    bool (*mutation_gate)(void *ctx);
    void *mutation_gate_ctx;
    char *ca_bundle;
    bool insecure;
    long connect_timeout_ms;
    long timeout_ms;
    char *user_agent;
    np_aws_observer_fn observer;
    void *observer_ctx;
    const struct np_clock *clock;
    struct np_aws_retry_policy policy;
    struct np_aws_retry_quota quota;
    struct np_aws_rate_limiter limiter;
    struct np_aws_test_hooks hooks;
    CURLSH *share;
    pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
    pthread_mutex_t pool_lock;
    CURL *pool[POOL_MAX];
    size_t n_pool;
};

/* Signing names and the names used in messages, indexed by enum np_aws_service. */
static const char *const service_names[NP_AWS_N_SERVICES] = {"ec2", "sts", "sqs", "cloudtrail"};
static const char *const service_labels[NP_AWS_N_SERVICES] = {"EC2", "STS", "SQS", "CloudTrail"};

/* ---------------------------------------------------------------- last error */

static _Thread_local struct np_aws_error last_error;

const struct np_aws_error *np_aws_error_last(void)
{
    return &last_error;
}

bool np_aws_error_is(const char *code)
{
    return code && last_error.code[0] && strcmp(last_error.code, code) == 0;
}

static void record(const char *action, const char *code, const char *message,
                   const char *request_id, long status, int attempts)
{
    memset(&last_error, 0, sizeof(last_error));
    np_strlcpy(last_error.action, action ? action : "", sizeof(last_error.action));
    np_strlcpy(last_error.code, code ? code : "", sizeof(last_error.code));
    np_strlcpy(last_error.message, message ? message : "", sizeof(last_error.message));
    np_strlcpy(last_error.request_id, request_id ? request_id : "", sizeof(last_error.request_id));
    last_error.http_status = status;
    last_error.attempts = attempts;
}

int np_aws_error_record(const char *action, const char *aws_code, const char *message, int np_code)
{
    record(action, aws_code, message, NULL, 200, 1);
    return np_error_set(np_code, "EC2 %s: %s: %s", action, aws_code, message);
}

/* ---------------------------------------------------------------- libcurl */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_OK;

static void curl_init(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *ud)
{
    struct np_aws_ec2 *c = ud;
    (void)h, (void)access;
    if ((int)data >= 0 && data < CURL_LOCK_DATA_LAST)
        pthread_mutex_lock(&c->share_locks[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *ud)
{
    struct np_aws_ec2 *c = ud;
    (void)h;
    if ((int)data >= 0 && data < CURL_LOCK_DATA_LAST)
        pthread_mutex_unlock(&c->share_locks[data]);
}

static CURL *pool_get(struct np_aws_ec2 *c)
{
    CURL *h = NULL;
    pthread_mutex_lock(&c->pool_lock);
    if (c->n_pool > 0)
        h = c->pool[--c->n_pool];
    pthread_mutex_unlock(&c->pool_lock);
    return h ? h : curl_easy_init();
}

static void pool_put(struct np_aws_ec2 *c, CURL *h)
{
    curl_easy_reset(h); /* keeps the live connection for reuse */
    pthread_mutex_lock(&c->pool_lock);
    if (c->n_pool < POOL_MAX) {
        c->pool[c->n_pool++] = h;
        h = NULL;
    }
    pthread_mutex_unlock(&c->pool_lock);
    if (h)
        curl_easy_cleanup(h);
}

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct np_aws_http_response *resp = ud;
    size_t n = size * nmemb;
    if (resp->body.len + n > MAX_RESPONSE_BYTES)
        return 0;
    if (np_buf_append(&resp->body, ptr, n))
        return 0;
    return n;
}

/* Aborts a transfer once the call's cancel flag is raised (libcurl calls it about once a
 * second while waiting, more often while data flows). */
static int xferinfo_cancel(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                           curl_off_t ulnow)
{
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    return atomic_load((const atomic_bool *)ud) ? 1 : 0;
}

static enum np_aws_transport_status classify_curl(CURLcode rc)
{
    switch (rc) {
    case CURLE_OK: return NP_AWS_TRANSPORT_OK;
    case CURLE_ABORTED_BY_CALLBACK: return NP_AWS_TRANSPORT_CANCELED;
    case CURLE_OPERATION_TIMEDOUT: return NP_AWS_TRANSPORT_TIMEOUT;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM: return NP_AWS_TRANSPORT_NETWORK;
    default: return NP_AWS_TRANSPORT_FATAL;
    }
}

/* The request's header lines plus "Expect:" (no 100-continue wait); NULL when out of memory. */
static struct curl_slist *header_list(const struct np_aws_http_request *req)
{
    struct curl_slist *headers = NULL;
    for (size_t i = 0; i < req->n_headers; i++) {
        struct curl_slist *n = curl_slist_append(headers, req->headers[i]);
        if (!n)
            goto nomem;
        headers = n;
    }
    struct curl_slist *n = curl_slist_append(headers, "Expect:");
    if (n)
        return n;
nomem:
    curl_slist_free_all(headers);
    return NULL;
}

/* The POST itself, timeouts, cancellation, keep-alive, protocols and TLS verification. */
static void set_request_options(struct np_aws_ec2 *c, CURL *h,
                                const struct np_aws_http_request *req, struct curl_slist *headers,
                                struct np_aws_http_response *resp, char *errbuf)
{
    curl_easy_setopt(h, CURLOPT_URL, req->url);
    if (np_str_eq(req->method, "GET")) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? req->body : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        if (np_str_eq(req->method, "PUT"))
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PUT");
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS,
                     (long)(req->timeout_ms > 0 ? req->timeout_ms : c->timeout_ms));
    if (req->cancel) {
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, xferinfo_cancel);
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, (void *)req->cancel);
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    }
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, c->user_agent);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, c->insecure ? 0L : 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, c->insecure ? 0L : 2L);
    if (c->ca_bundle)
        curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_bundle);
    if (c->share)
        curl_easy_setopt(h, CURLOPT_SHARE, c->share);
}

/* The transport status, the HTTP status, or the reason the transfer failed. */
static void note_result(CURL *h, CURLcode rc, const char *errbuf, struct np_aws_http_response *resp)
{
    resp->transport = classify_curl(rc);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
    } else if (rc == CURLE_WRITE_ERROR) {
        np_strlcpy(resp->error, "response body too large", sizeof(resp->error));
    } else if (rc == CURLE_ABORTED_BY_CALLBACK) {
        np_strlcpy(resp->error, "canceled", sizeof(resp->error));
    } else {
        snprintf(resp->error, sizeof(resp->error), "%s",
                 errbuf[0] ? errbuf : curl_easy_strerror(rc));
    }
}

static void curl_transport(struct np_aws_ec2 *c, const struct np_aws_http_request *req,
                           struct np_aws_http_response *resp)
{
    char errbuf[CURL_ERROR_SIZE] = "";
    CURL *h = pool_get(c);
    if (!h) {
        resp->transport = NP_AWS_TRANSPORT_FATAL;
        np_strlcpy(resp->error, "cannot create a curl handle", sizeof(resp->error));
        return;
    }
    struct curl_slist *headers = header_list(req);
    if (!headers) {
        pool_put(c, h);
        resp->transport = NP_AWS_TRANSPORT_FATAL;
        np_strlcpy(resp->error, "out of memory", sizeof(resp->error));
        return;
    }
    set_request_options(c, h, req, headers, resp, errbuf);
    note_result(h, curl_easy_perform(h), errbuf, resp);
    curl_slist_free_all(headers);
    pool_put(c, h);
}

/* ---------------------------------------------------------------- construction */

static void endpoint_clean_up(struct endpoint *ep)
{
    free(ep->url);
    free(ep->host);
    free(ep->path);
    memset(ep, 0, sizeof(*ep));
}

/* Splits a base URL into what curl gets, the Host header and the path to sign. */
static int endpoint_parse(struct endpoint *ep, const char *url)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *query = NULL, *user = NULL;
    int rc = 0;
    if (!u)
        return np_error_set(NP_ENOMEM, "endpoint: out of memory");
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        rc = np_error_set(NP_EINVAL, "endpoint \"%s\" is not a valid URL", url);
        goto out;
    }
    if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
        rc = np_error_set(NP_EINVAL, "endpoint \"%s\" is not http or https", url);
        goto out;
    }
    if (curl_url_get(u, CURLUPART_QUERY, &query, 0) == CURLUE_OK ||
        curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
        rc = np_error_set(NP_EINVAL, "endpoint \"%s\" may not carry a query or user", url);
        goto out;
    }
    curl_url_get(u, CURLUPART_PORT, &port, 0); /* only when explicit */
    if (curl_url_get(u, CURLUPART_PATH, &path, CURLU_URLDECODE) != CURLUE_OK) {
        rc = np_error_set(NP_EINVAL, "endpoint \"%s\" has an invalid path", url);
        goto out;
    }
    ep->url = np_strdup(url);
    ep->host = port ? np_strdupf("%s:%s", host, port) : np_strdup(host);
    ep->path = np_strdup(np_str_is_empty(path) ? "/" : path);
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_free(query);
    curl_free(user);
    curl_url_cleanup(u);
    return rc;
}

/* A region made of [a-z0-9-], and rate settings within their bounds. */
static int check_config(const struct np_aws_ec2_config *cfg)
{
    if (!cfg || np_str_is_empty(cfg->region))
        return np_error_set(NP_EINVAL, "AWS client: no region");
    for (const char *p = cfg->region; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
            return np_error_set(NP_EINVAL, "AWS client: invalid region \"%.64s\"", cfg->region);
    }
    if (!(cfg->rate_scale >= 0 && cfg->rate_scale <= NP_AWS_RATE_SCALE_MAX))
        return np_error_set(NP_EINVAL, "AWS client: rate_scale must be within [0, %g]",
                            NP_AWS_RATE_SCALE_MAX);
    if (cfg->rate_max_wait_ms > NP_AWS_RATE_MAX_WAIT_MS_MAX)
        return np_error_set(NP_EINVAL, "AWS client: rate_max_wait_ms may not exceed %d",
                            NP_AWS_RATE_MAX_WAIT_MS_MAX);
    if (cfg->provider && cfg->credentials)
        return np_error_set(NP_EINVAL, "AWS client: give credentials or a provider, not both");
    return 0;
}

/* The client's credential provider: the one given (a reference is taken), one made of static
 * credentials, or none for an anonymous client. */
static int set_provider(struct np_aws_ec2 *c, const struct np_aws_ec2_config *cfg, unsigned flags)
{
    if (cfg->provider) {
        c->provider = np_aws_provider_ref(cfg->provider);
        return 0;
    }
    if (cfg->credentials) {
        struct np_aws_provider_config pc = {.source = NP_AWS_SOURCE_STATIC,
                                            .credentials = cfg->credentials,
                                            .region = cfg->region,
                                            .clock = cfg->clock};
        return np_aws_provider_new(&c->provider, &pc);
    }
    if (flags & NP_AWS_CLIENT_ANONYMOUS)
        return 0;
    return np_error_set(NP_EINVAL, "AWS credentials: none given");
}

/* The EC2 and STS endpoints of the region (or of cfg->endpoint and cfg->sts_endpoint). */
static int resolve_endpoints(struct np_aws_ec2 *c, const struct np_aws_ec2_config *cfg)
{
    const char *overrides[] = {cfg->endpoint, cfg->sts_endpoint};
    for (size_t i = 0; i <= NP_AWS_SERVICE_STS; i++) {
        char *url = NULL;
        int rc = np_aws_endpoint_resolve(&url, service_names[i], cfg->region,
                                         np_str_is_empty(overrides[i]) ? NULL : overrides[i]);
        if (rc == 0)
            rc = endpoint_parse(&c->ep[i], url);
        free(url);
        if (rc)
            return rc;
    }
    return 0;
}

/* DNS and TLS sessions shared between the pooled handles (locked); none if it cannot be made. */
static void share_init(struct np_aws_ec2 *c)
{
    c->share = curl_share_init();
    if (!c->share)
        return;
    curl_share_setopt(c->share, CURLSHOPT_LOCKFUNC, share_lock);
    curl_share_setopt(c->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
    curl_share_setopt(c->share, CURLSHOPT_USERDATA, c);
    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
}

int np_aws_client_new(struct np_aws_ec2 **out, const struct np_aws_ec2_config *cfg, unsigned flags)
{
    struct np_aws_ec2 *c = NULL;
    int rc = 0;
    *out = NULL;
    rc = check_config(cfg);
    if (rc)
        goto out;
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK) {
        rc = np_error_set(NP_EIO, "AWS client: libcurl initialisation failed: %s",
                          curl_easy_strerror(curl_init_rc));
        goto out;
    }
    c = np_xcalloc(1, sizeof(*c));
    pthread_mutex_init(&c->pool_lock, NULL);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_init(&c->share_locks[i], NULL);
    struct np_aws_retry_policy policy = NP_AWS_RETRY_POLICY_DEFAULT;
    c->policy = policy;
    if (cfg->max_attempts > 0)
        c->policy.max_attempts = cfg->max_attempts;
    np_aws_retry_quota_init(&c->quota, NP_AWS_RETRY_QUOTA_CAPACITY);
    c->clock = cfg->clock ? cfg->clock : np_clock_system();
    np_aws_rate_limiter_init(&c->limiter, c->clock, cfg->no_rate_limit, cfg->rate_scale,
                             cfg->rate_max_wait_ms);
    rc = set_provider(c, cfg, flags);
    if (rc)
        goto out;
    c->region = np_strdup(cfg->region);
    if (flags & NP_AWS_CLIENT_ENDPOINTS) {
        rc = resolve_endpoints(c, cfg);
        if (rc)
            goto out;
    }
    c->ca_bundle = np_strdup(np_str_is_empty(cfg->ca_bundle) ? NULL : cfg->ca_bundle);
    c->insecure = cfg->insecure_skip_tls_verify;
    c->connect_timeout_ms =
        cfg->connect_timeout_ms > 0 ? (long)cfg->connect_timeout_ms : DEFAULT_CONNECT_TIMEOUT_MS;
    c->timeout_ms = cfg->timeout_ms > 0 ? (long)cfg->timeout_ms : DEFAULT_TIMEOUT_MS;
    c->user_agent = np_strdup(np_str_is_empty(cfg->user_agent) ? "netposture" : cfg->user_agent);
    c->observer = cfg->observer;
    c->observer_ctx = cfg->observer_ctx;
    c->mutation_gate = cfg->mutation_gate;
    c->mutation_gate_ctx = cfg->mutation_gate_ctx;

    share_init(c);
    *out = c;
    c = NULL;
out:
    np_aws_ec2_destroy(c);
    return rc;
}

int np_aws_ec2_new(struct np_aws_ec2 **out, const struct np_aws_ec2_config *cfg)
{
    return np_aws_client_new(out, cfg, NP_AWS_CLIENT_ENDPOINTS);
}

void np_aws_ec2_destroy(struct np_aws_ec2 *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_pool; i++)
        curl_easy_cleanup(c->pool[i]);
    if (c->share)
        curl_share_cleanup(c->share);
    for (size_t i = 0; i < NP_ARRAY_LEN(c->ep); i++)
        endpoint_clean_up(&c->ep[i]);
    np_aws_provider_unref(c->provider);
    np_aws_retry_quota_destroy(&c->quota);
    np_aws_rate_limiter_destroy(&c->limiter);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_destroy(&c->share_locks[i]);
    pthread_mutex_destroy(&c->pool_lock);
    free(c->region);
    free(c->ca_bundle);
    free(c->user_agent);
    free(c);
}

const char *np_aws_ec2_region(const struct np_aws_ec2 *c)
{
    return c->region;
}

const char *np_aws_ec2_endpoint(const struct np_aws_ec2 *c)
{
    return c->ep[NP_AWS_SERVICE_EC2].url;
}

void np_aws_ec2_set_test_hooks(struct np_aws_ec2 *c, const struct np_aws_test_hooks *hooks)
{
    memset(&c->hooks, 0, sizeof(c->hooks));
    if (hooks)
        c->hooks = *hooks;
}

int np_aws_ec2_retry_quota_available(struct np_aws_ec2 *c)
{
    return np_aws_retry_quota_available(&c->quota);
}

/* ---------------------------------------------------------------- the call */

static uint64_t default_rand(void *ctx, uint64_t n)
{
    (void)ctx;
    return np_rand_below(n);
}

/* A short printable excerpt of a non-XML error body, for messages. */
static void body_excerpt(char *out, size_t size, const struct np_buf *body)
{
    size_t o = 0;
    for (size_t i = 0; i < body->len && o + 1 < size && o < 160; i++) {
        unsigned char ch = (unsigned char)body->data[i];
        out[o++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : ' ';
    }
    out[o] = '\0';
}

/* The header lines of an anonymous attempt (an unsigned call such as
 * AssumeRoleWithWebIdentity). */
static void unsigned_lines(const struct endpoint *ep, const char *ctype,
                           const struct np_aws_call *call, char **lines, size_t *n_lines)
{
    size_t n = 0;
    lines[n++] = np_strdupf("Host: %s", ep->host);
    lines[n++] = np_strdupf("Content-Type: %s", ctype);
    if (call->json_target)
        lines[n++] = np_strdupf("X-Amz-Target: %s", call->json_target);
    *n_lines = n;
}

/* Current credentials from the client's provider (refreshed when due), or the reason there
 * are none: the call fails with it and sends nothing. */
static int attempt_credentials(struct np_aws_ec2 *c, const struct np_aws_call *call,
                               struct np_aws_credentials *creds)
{
    int rc = np_aws_provider_get(c->provider, creds, NULL);
    if (rc == 0)
        return 0;
    char *msg = np_strdup(np_error_message());
    record(call->action, "CredentialsUnavailable", msg, NULL, 0, 0);
    rc = np_error_set(NP_EAUTH, "%s %s: no credentials: %s", service_labels[call->service],
                      call->action, msg);
    free(msg);
    return rc;
}

/*
 * Builds the header lines for one attempt into lines[] (owned strings; at most 6): a Query API
 * form, or with call->json_target a JSON 1.1 body and its X-Amz-Target, signed with the
 * provider's current credentials (unsigned for an anonymous client).
 */
static int sign_attempt(struct np_aws_ec2 *c, const struct endpoint *ep, const char *service,
                        const struct np_aws_call *call, char **lines, size_t *n_lines)
{
    const struct np_buf *form = call->form;
    const char *ctype = call->json_target ? JSON_CONTENT_TYPE : CONTENT_TYPE;
    if (!c->provider) {
        unsigned_lines(ep, ctype, call, lines, n_lines);
        return 0;
    }
    struct np_aws_credentials creds = {NULL, NULL, NULL};
    int rc = attempt_credentials(c, call, &creds);
    if (rc)
        return rc;
    struct np_aws_sigv4_output sig;
    memset(&sig, 0, sizeof(sig));
    struct np_aws_sigv4_header hdrs[] = {
        {"Host", ep->host}, {"Content-Type", ctype}, {"X-Amz-Target", call->json_target}};
    struct np_aws_sigv4_input in = {
        .method = "POST",
        .path = ep->path,
        .query = NULL,
        .headers = hdrs,
        .n_headers = call->json_target ? 3 : 2,
        .body = form->data,
        .body_len = form->len,
        .region = c->region,
        .service = service,
        .credentials = &creds,
        .time_ms = c->clock->now_ms(c->clock->ctx),
    };
    rc = np_aws_sigv4_sign(&sig, &in);
    if (rc == 0) {
        size_t n = 0;
        lines[n++] = np_strdupf("Host: %s", ep->host);
        lines[n++] = np_strdupf("Content-Type: %s", ctype);
        if (call->json_target)
            lines[n++] = np_strdupf("X-Amz-Target: %s", call->json_target);
        lines[n++] = np_strdupf("X-Amz-Date: %s", sig.amz_date);
        if (sig.security_token)
            lines[n++] = np_strdupf("X-Amz-Security-Token: %s", sig.security_token);
        lines[n++] = np_strdupf("Authorization: %s", sig.authorization);
        *n_lines = n;
    }
    np_aws_sigv4_output_clean_up(&sig);
    np_aws_credentials_clean_up(&creds);
    return rc;
}

static bool is_canceled(const struct np_aws_call *call)
{
    return call->cancel && atomic_load(call->cancel);
}

/* Sleeps ms, in short slices when the call can be canceled; returns early once it is. */
static void pause_ms(struct np_aws_ec2 *c, const struct np_aws_call *call, int64_t ms)
{
    if (c->hooks.sleep_ms) {
        c->hooks.sleep_ms(c->hooks.ctx, ms);
        return;
    }
    if (!call->cancel) {
        np_sleep_ms(ms);
        return;
    }
    for (int64_t left = ms; left > 0 && !is_canceled(call); left -= 50)
        np_sleep_ms(left < 50 ? left : 50);
}

static void observe(struct np_aws_ec2 *c, const struct np_aws_call *call, const char *label,
                    long status, int64_t duration, int attempt, int64_t wait_ms)
{
    if (!c->observer)
        return;
    struct np_aws_request_info info = {
        service_names[call->service], call->action, label, status, duration, attempt, wait_ms};
    c->observer(c->observer_ctx, &info);
}

/* The client-side bucket refused attempt number `attempt`: nothing was sent for it. */
static int client_throttled(struct np_aws_ec2 *c, const struct np_aws_call *call,
                            enum np_aws_rate_category cat, int64_t wait_ms, int attempt)
{
    char msg[256];
    double burst = 0, per_s = 0;
    np_aws_rate_limiter_budget(&c->limiter, cat, &burst, &per_s);
    snprintf(msg, sizeof(msg),
             "the client-side request budget for %s calls is exhausted (burst %g, %g per second; "
             "next token in %lld ms)",
             np_aws_rate_category_name(cat), burst, per_s, (long long)wait_ms);
    observe(c, call, "ClientThrottled", 0, 0, attempt, 0);
    record(call->action, "ClientThrottled", msg, NULL, 0, attempt - 1);
    np_log_debug("aws client-side throttle", "service", service_names[call->service], "action",
                 call->action, "category", np_aws_rate_category_name(cat));
    return np_error_set(NP_ETHROTTLED, "%s %s: ClientThrottled: %s", service_labels[call->service],
                        call->action, msg);
}

static int canceled(const struct np_aws_call *call, int attempts)
{
    record(call->action, NULL, "canceled", NULL, 0, attempts);
    return np_error_set(NP_ECANCELED, "%s %s: canceled", service_labels[call->service],
                        call->action);
}

/* What one attempt leaves behind: the signed header lines, the response and, for an error
 * reply, its decoded code, message and request id. `label` names the outcome for the observer
 * and the logs (it may point into `code` or `obs_code`). */
struct attempt {
    char *lines[8];
    size_t n_lines;
    struct np_aws_http_response resp;
    char *code, *message, *request_id;
    char obs_code[128];
    const char *label;
    int64_t duration;
    int64_t wait_ms; /* for a client-side token before it was sent */
};

static void attempt_clean_up(struct attempt *a)
{
    for (size_t i = 0; i < a->n_lines; i++)
        free(a->lines[i]);
    free(a->code);
    free(a->message);
    free(a->request_id);
    np_buf_clean_up(&a->resp.body);
    memset(a, 0, sizeof(*a));
}

/* Picks the endpoint of the call: its own URL (parsed into *own) or the client's one for the
 * service. */
static int call_endpoint(struct np_aws_ec2 *c, const struct np_aws_call *call, struct endpoint *own,
                         const struct endpoint **ep)
{
    if ((int)call->service < 0 || call->service >= NP_AWS_N_SERVICES)
        return np_error_set(NP_EINVAL, "AWS call: unknown service %d", (int)call->service);
    const char *svc_label = service_labels[call->service];
    if (call->url) {
        int rc = endpoint_parse(own, call->url);
        if (rc == 0)
            *ep = own;
        return rc;
    }
    *ep = &c->ep[call->service];
    if (!(*ep)->url)
        return np_error_set(NP_EINVAL, "%s %s: this client has no %s endpoint", svc_label,
                            call->action, svc_label);
    return 0;
}

/* Whether an EC2 action changes something (what a fenced process may not send). */
static bool is_mutation(const struct np_aws_call *call)
{
    static const char *const reads[] = {"Describe", "Get", "List", "Search"};
    if (call->service != NP_AWS_SERVICE_EC2)
        return false;
    for (size_t i = 0; i < NP_ARRAY_LEN(reads); i++)
        if (np_str_has_prefix(call->action, reads[i]))
            return false;
    return true;
}

static int fenced(const struct np_aws_call *call, int attempts)
{
    record(call->action, "Fenced", "this process does not hold the leader lease", NULL, 0,
           attempts);
    return np_error_set(NP_EDENIED,
                        "%s %s refused: this process does not hold the leader lease (fenced)",
                        service_labels[call->service], call->action);
}

/* Before attempt number `attempt`: stops when the call is canceled, fenced or the client-side
 * bucket refuses, and waits for a token otherwise (*waited_ms: how long). */
static int admit_attempt(struct np_aws_ec2 *c, const struct np_aws_call *call,
                         enum np_aws_rate_category cat, int attempt, int64_t *waited_ms)
{
    if (is_canceled(call))
        return canceled(call, attempt - 1);
    int64_t wait_ms = 0;
    if (np_aws_rate_limiter_take(&c->limiter, cat, &wait_ms) != 0)
        return client_throttled(c, call, cat, wait_ms, attempt);
    if (wait_ms > 0)
        pause_ms(c, call, wait_ms);
    *waited_ms = wait_ms;
    /* checked last, right before the attempt is signed and sent */
    if (c->mutation_gate && is_mutation(call) && !c->mutation_gate(c->mutation_gate_ctx))
        return fenced(call, attempt - 1);
    return 0;
}

/* Signs and sends one attempt through the transport (the test hook or libcurl), timing it. */
static int send_attempt(struct np_aws_ec2 *c, const struct endpoint *ep,
                        const struct np_aws_call *call, int64_t timeout_ms, struct attempt *a)
{
    int rc = sign_attempt(c, ep, service_names[call->service], call, a->lines, &a->n_lines);
    if (rc)
        return rc;
    struct np_aws_http_request req = {
        .url = ep->url,
        .headers = (const char *const *)a->lines,
        .n_headers = a->n_lines,
        .body = call->form->data ? call->form->data : "",
        .body_len = call->form->len,
        .timeout_ms = timeout_ms,
        .cancel = call->cancel,
    };
    int64_t t0 = c->clock->mono_ms(c->clock->ctx);
    if (c->hooks.transport)
        c->hooks.transport(c->hooks.ctx, &req, &a->resp);
    else
        curl_transport(c, &req, &a->resp);
    a->duration = c->clock->mono_ms(c->clock->ctx) - t0;
    return 0;
}

/* Names the outcome of an attempt (decoding an error reply's code and message) and returns
 * whether it succeeded. */
static bool label_outcome(const struct np_aws_call *call, struct attempt *a)
{
    const struct np_aws_http_response *resp = &a->resp;
    bool ok = resp->transport == NP_AWS_TRANSPORT_OK && resp->status >= 200 && resp->status < 300;
    a->label = "OK";
    if (resp->transport == NP_AWS_TRANSPORT_CANCELED) {
        a->label = "Canceled";
    } else if (resp->transport == NP_AWS_TRANSPORT_TIMEOUT) {
        a->label = "Timeout";
    } else if (resp->transport != NP_AWS_TRANSPORT_OK) {
        a->label = "NetworkError";
    } else if (!ok) {
        int drc =
            call->json_target
                ? np_aws_json_decode_error(resp->body.data, resp->body.len, &a->code, &a->message)
                : np_aws_xml_decode_error(resp->body.data, resp->body.len, &a->code, &a->message,
                                          &a->request_id);
        if (drc != 0) {
            char excerpt[168];
            body_excerpt(excerpt, sizeof(excerpt), &resp->body);
            a->message = np_strdup(excerpt);
        }
        if (a->code) {
            a->label = a->code;
        } else {
            snprintf(a->obs_code, sizeof(a->obs_code), "HTTP%ld", resp->status);
            a->label = a->obs_code;
        }
    }
    return ok;
}

/* After a failed attempt: decides whether to try again (creates are not repeated after an
 * unknown outcome; the policy and the shared quota decide the rest) and sleeps the backoff. */
static bool retry_after(struct np_aws_ec2 *c, const struct np_aws_call *call,
                        const struct attempt *a, int attempt, int *taken)
{
    const char *service = service_names[call->service];
    enum np_aws_retry_kind kind = np_aws_retry_classify(a->resp.transport, a->resp.status, a->code);
    if ((kind == NP_AWS_RETRY_TRANSIENT || kind == NP_AWS_RETRY_TIMEOUT) &&
        !np_aws_action_is_repeatable(call->action)) {
        /* The create may have happened: the caller finds it by tag rather than repeat it. */
        np_log_warn("aws create not repeated after an unknown outcome", "service", service,
                    "action", call->action, "code", a->label);
        return false;
    }
    if (!np_aws_retry_decide(&c->policy, &c->quota, kind, attempt, taken)) {
        if (kind != NP_AWS_RETRY_NONE && attempt < c->policy.max_attempts)
            np_log_warn("aws retry quota exhausted", "service", service, "action", call->action,
                        "code", a->label);
        return false;
    }
    int64_t delay = np_aws_retry_delay_ms(&c->policy, kind, attempt,
                                          c->hooks.rand_below ? c->hooks.rand_below : default_rand,
                                          c->hooks.ctx);
    np_log_warn("aws request failed, retrying", "service", service, "action", call->action, "code",
                a->label, NP_LOG_INT("attempt", attempt), NP_LOG_INT("delay_ms", delay));
    pause_ms(c, call, delay);
    return true;
}

/* The call failed for good: records the last attempt and sets the error. */
static int failed_for_good(const struct np_aws_call *call, const struct endpoint *ep,
                           const struct attempt *a, int attempt)
{
    const char *svc_label = service_labels[call->service];
    if (a->resp.transport != NP_AWS_TRANSPORT_OK) {
        record(call->action, NULL, a->resp.error, NULL, 0, attempt);
        return np_error_set(NP_EIO, "%s %s: cannot reach %s: %s (after %d attempt%s)", svc_label,
                            call->action, ep->url, a->resp.error, attempt, attempt == 1 ? "" : "s");
    }
    record(call->action, a->code, a->message, a->request_id, a->resp.status, attempt);
    int rc = np_aws_error_map(a->code, a->resp.status);
    if (rc == 0)
        rc = NP_EIO;
    return np_error_set(rc, "%s %s: %s: %s (HTTP %ld%s%s%s)", svc_label, call->action,
                        a->code ? a->code : "error", a->message ? a->message : "", a->resp.status,
                        a->request_id ? ", request id " : "", a->request_id ? a->request_id : "",
                        attempt > 1 ? ", after retries" : "");
}

/* A 2xx answer: its payload is checked (a failure it reports names the attempt's outcome),
 * the attempt observed, and the body moved to the caller. */
static int succeeded(struct np_aws_ec2 *c, const struct np_aws_call *call, struct attempt *a,
                     int attempt, int taken, struct np_buf *resp_body)
{
    np_aws_retry_on_success(&c->policy, &c->quota, taken);
    record(call->action, NULL, NULL, NULL, a->resp.status, attempt);
    int rc = call->check ? call->check(call->check_ctx, call->action, &a->resp.body) : 0;
    if (rc) {
        np_strlcpy(a->obs_code, last_error.code[0] ? last_error.code : "InvalidResponse",
                   sizeof(a->obs_code));
        a->label = a->obs_code;
    }
    observe(c, call, a->label, a->resp.status, a->duration, attempt, a->wait_ms);
    np_buf_clean_up(resp_body);
    *resp_body = a->resp.body;
    memset(&a->resp.body, 0, sizeof(a->resp.body));
    return rc;
}

int np_aws_call_send(struct np_aws_ec2 *c, const struct np_aws_call *call, struct np_buf *resp_body)
{
    struct endpoint own;
    memset(&own, 0, sizeof(own));
    const struct endpoint *ep = NULL;
    struct attempt a;
    memset(&a, 0, sizeof(a));
    int taken = 0;
    int attempt = 0;
    if (!np_aws_action_known(service_names[call->service], call->action))
        return np_error_set(NP_EINVAL,
                            "%s %s is not an action the IAM policy grants (pkg/aws/actions.c)",
                            service_labels[call->service], call->action ? call->action : "(null)");
    int rc = call_endpoint(c, call, &own, &ep);
    if (rc)
        goto out;
    enum np_aws_rate_category cat =
        np_aws_rate_category_of(service_names[call->service], call->action);
    int64_t timeout_ms =
        (int64_t)c->timeout_ms + (call->extra_timeout_ms > 0 ? call->extra_timeout_ms : 0);

    for (;;) {
        attempt++;
        attempt_clean_up(&a);
        rc = admit_attempt(c, call, cat, attempt, &a.wait_ms);
        if (rc == 0)
            rc = send_attempt(c, ep, call, timeout_ms, &a);
        if (rc)
            goto out;
        bool ok = label_outcome(call, &a);
        if (ok) {
            rc = succeeded(c, call, &a, attempt, taken, resp_body);
            goto out;
        }
        observe(c, call, a.label, a.resp.transport == NP_AWS_TRANSPORT_OK ? a.resp.status : 0,
                a.duration, attempt, a.wait_ms);
        if (a.resp.transport == NP_AWS_TRANSPORT_CANCELED ||
            (a.resp.transport != NP_AWS_TRANSPORT_OK && is_canceled(call))) {
            rc = canceled(call, attempt);
            goto out;
        }
        if (!retry_after(c, call, &a, attempt, &taken))
            break;
    }
    rc = failed_for_good(call, ep, &a, attempt);
out:
    attempt_clean_up(&a);
    endpoint_clean_up(&own);
    return rc;
}

void np_aws_client_http(struct np_aws_ec2 *c, const struct np_aws_http_request *req,
                        struct np_aws_http_response *resp)
{
    if (c->hooks.transport)
        c->hooks.transport(c->hooks.ctx, req, resp);
    else
        curl_transport(c, req, resp);
}

int64_t np_aws_client_now_ms(const struct np_aws_ec2 *c)
{
    return c->clock->now_ms(c->clock->ctx);
}

int np_aws_query_call(struct np_aws_ec2 *c, enum np_aws_service svc, const char *action,
                      const struct np_buf *form, struct np_buf *resp_body)
{
    struct np_aws_call call = {.service = svc, .action = action, .form = form};
    return np_aws_call_send(c, &call, resp_body);
}
