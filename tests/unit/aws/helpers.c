/*
 * Helpers for the pkg/aws unit tests: fixture reading, fixture pages for the pager, and the
 * fake network behind fake_client() (scripted responses, recorded requests, fake clock, no real
 * sleeping).
 */
#include "aws_test.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *fixture_read(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    cr_assert_not_null(fp, "fixture %s is missing (run from the repository root)", path);
    struct np_buf b = NP_BUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        np_buf_append(&b, chunk, n);
    fclose(fp);
    if (len)
        *len = b.len;
    char *s = np_buf_take(&b);
    return s ? s : np_strdup("");
}

char *fixture_read_trimmed(const char *path)
{
    size_t len = 0;
    char *s = fixture_read(path, &len);
    if (len > 0 && s[len - 1] == '\n')
        s[len - 1] = '\0';
    return s;
}

static int64_t fake_now(void *ctx)
{
    return ((struct fake_net *)ctx)->wall_ms;
}

static int64_t fake_mono(void *ctx)
{
    return ((struct fake_net *)ctx)->mono_ms;
}

void fake_net_init(struct fake_net *f)
{
    memset(f, 0, sizeof(*f));
    f->wall_ms = 1704164645000LL; /* 2024-01-02T03:04:05Z */
    f->mono_ms = 1000;
    f->latency_ms = 7;
    f->clock.now_ms = fake_now;
    f->clock.mono_ms = fake_mono;
    f->clock.ctx = f;
}

void fake_net_clean_up(struct fake_net *f)
{
    for (size_t i = 0; i < f->n_responses; i++)
        free(f->responses[i].body);
    for (size_t i = 0; i < f->n_requests; i++) {
        free(f->requests[i].url);
        free(f->requests[i].method);
        free(f->requests[i].body);
        for (size_t j = 0; j < f->requests[i].n_headers; j++)
            free(f->requests[i].headers[j]);
    }
    memset(f, 0, sizeof(*f));
}

void fake_net_push(struct fake_net *f, enum np_aws_transport_status ts, long status,
                   const char *body)
{
    cr_assert_lt(f->n_responses, FAKE_MAX);
    struct fake_response *r = &f->responses[f->n_responses++];
    r->transport = ts;
    r->status = status;
    r->body = np_strdup(body ? body : "");
}

void fake_net_push_file(struct fake_net *f, long status, const char *path)
{
    char *body = fixture_read(path, NULL);
    fake_net_push(f, NP_AWS_TRANSPORT_OK, status, body);
    free(body);
}

static void fake_transport(void *ctx, const struct np_aws_http_request *req,
                           struct np_aws_http_response *resp)
{
    struct fake_net *f = ctx;
    cr_assert_lt(f->n_requests, FAKE_MAX);
    struct fake_request *rec = &f->requests[f->n_requests++];
    rec->url = np_strdup(req->url);
    rec->method = np_strdup(req->method ? req->method : "POST");
    rec->body = np_strndup(req->body ? req->body : "", req->body ? req->body_len : 0);
    rec->timeout_ms = req->timeout_ms;
    rec->cancelable = req->cancel != NULL;
    for (size_t i = 0; i < req->n_headers && i < NP_ARRAY_LEN(rec->headers); i++)
        rec->headers[rec->n_headers++] = np_strdup(req->headers[i]);
    f->mono_ms += f->latency_ms;
    f->wall_ms += f->latency_ms;
    if (f->next >= f->n_responses) {
        resp->transport = NP_AWS_TRANSPORT_FATAL;
        np_strlcpy(resp->error, "fake network: no scripted response left", sizeof(resp->error));
        return;
    }
    const struct fake_response *r = &f->responses[f->next++];
    resp->transport = r->transport;
    resp->status = r->status;
    if (r->transport == NP_AWS_TRANSPORT_OK)
        np_buf_puts(&resp->body, r->body);
    else
        np_strlcpy(resp->error, "fake network failure", sizeof(resp->error));
}

static void fake_sleep(void *ctx, int64_t ms)
{
    struct fake_net *f = ctx;
    cr_assert_lt(f->n_sleeps, FAKE_MAX);
    f->sleeps[f->n_sleeps++] = ms;
    f->mono_ms += ms;
    f->wall_ms += ms;
    if (f->cancel_on_sleep) {
        np_aws_sqs_cancel(f->cancel_on_sleep);
        f->cancel_on_sleep = NULL;
    }
}

static uint64_t fake_rand(void *ctx, uint64_t n)
{
    struct fake_net *f = ctx;
    if (f->n_rand < FAKE_MAX)
        f->rand_ceilings[f->n_rand++] = n;
    return n ? n - 1 : 0;
}

static void fake_observer(void *ctx, const struct np_aws_request_info *info)
{
    struct fake_net *f = ctx;
    cr_assert_lt(f->n_obs, FAKE_MAX);
    size_t i = f->n_obs++;
    np_strlcpy(f->obs_codes[i], info->code, sizeof(f->obs_codes[i]));
    np_strlcpy(f->obs_actions[i], info->action, sizeof(f->obs_actions[i]));
    np_strlcpy(f->obs_services[i], info->service, sizeof(f->obs_services[i]));
    f->obs_status[i] = info->http_status;
    f->obs_duration[i] = info->duration_ms;
    f->obs_attempt[i] = info->attempt;
    f->obs_wait[i] = info->wait_ms;
}

static struct np_aws_ec2 *make_client(struct fake_net *f, const struct np_aws_ec2_config *base,
                                      const char *session_token)
{
    struct np_aws_credentials creds;
    cr_assert_eq(np_aws_credentials_set(&creds, session_token ? "ASIAEXAMPLE" : "AKIDEXAMPLE",
                                        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", session_token),
                 0);
    struct np_aws_ec2_config cfg = *base;
    cfg.region = base->region ? base->region : "us-east-1";
    cfg.credentials = &creds;
    cfg.observer = fake_observer;
    cfg.observer_ctx = f;
    cfg.clock = &f->clock;
    struct np_aws_ec2 *c = NULL;
    cr_assert_eq(np_aws_ec2_new(&c, &cfg), 0, "np_aws_ec2_new: %s", np_error_message());
    np_aws_credentials_clean_up(&creds);
    struct np_aws_test_hooks hooks = {fake_transport, fake_sleep, fake_rand, f};
    np_aws_ec2_set_test_hooks(c, &hooks);
    return c;
}

void fake_net_attach(struct fake_net *f, struct np_aws_ec2 *c)
{
    struct np_aws_test_hooks hooks = {fake_transport, fake_sleep, fake_rand, f};
    np_aws_ec2_set_test_hooks(c, &hooks);
}

struct np_aws_provider *fake_provider(struct fake_net *f, const struct np_aws_provider_config *base)
{
    struct np_aws_provider_config cfg = *base;
    cfg.region = base->region ? base->region : "us-east-1";
    cfg.observer = fake_observer;
    cfg.observer_ctx = f;
    cfg.clock = &f->clock;
    struct np_aws_provider *p = NULL;
    cr_assert_eq(np_aws_provider_new(&p, &cfg), 0, "np_aws_provider_new: %s", np_error_message());
    struct np_aws_test_hooks hooks = {fake_transport, fake_sleep, fake_rand, f};
    np_aws_provider_set_test_hooks(p, &hooks);
    return p;
}

struct np_aws_ec2 *fake_client(struct fake_net *f, const char *endpoint, const char *session_token)
{
    struct np_aws_ec2_config cfg = {.endpoint = endpoint};
    return make_client(f, &cfg, session_token);
}

struct np_aws_ec2 *fake_client_cfg(struct fake_net *f, const struct np_aws_ec2_config *base)
{
    return make_client(f, base, NULL);
}

struct np_aws_sqs *fake_sqs(struct fake_net *f, const char *endpoint)
{
    struct np_aws_credentials creds;
    cr_assert_eq(np_aws_credentials_set(&creds, "AKIDEXAMPLE",
                                        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL),
                 0);
    struct np_aws_sqs_config cfg = {
        .region = "us-east-1",
        .endpoint = endpoint,
        .credentials = &creds,
        .observer = fake_observer,
        .observer_ctx = f,
        .clock = &f->clock,
    };
    struct np_aws_sqs *q = NULL;
    cr_assert_eq(np_aws_sqs_new(&q, &cfg), 0, "np_aws_sqs_new: %s", np_error_message());
    np_aws_credentials_clean_up(&creds);
    struct np_aws_test_hooks hooks = {fake_transport, fake_sleep, fake_rand, f};
    np_aws_sqs_set_test_hooks(q, &hooks);
    return q;
}

struct np_aws_cloudtrail *fake_cloudtrail(struct fake_net *f, const char *endpoint)
{
    struct np_aws_credentials creds;
    cr_assert_eq(np_aws_credentials_set(&creds, "AKIDEXAMPLE",
                                        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL),
                 0);
    struct np_aws_ec2_config cfg = {
        .region = "us-east-1",
        .endpoint = endpoint,
        .credentials = &creds,
        .observer = fake_observer,
        .observer_ctx = f,
        .clock = &f->clock,
        .rate_max_wait_ms = -1, /* never sleep for a token: fail at once */
    };
    struct np_aws_cloudtrail *ct = NULL;
    cr_assert_eq(np_aws_cloudtrail_new(&ct, &cfg), 0, "np_aws_cloudtrail_new: %s",
                 np_error_message());
    np_aws_credentials_clean_up(&creds);
    struct np_aws_test_hooks hooks = {fake_transport, fake_sleep, fake_rand, f};
    np_aws_cloudtrail_set_test_hooks(ct, &hooks);
    return ct;
}

const char *fake_header(const struct fake_net *f, size_t i, const char *name)
{
    size_t nl = strlen(name);
    if (i >= f->n_requests)
        return NULL;
    for (size_t j = 0; j < f->requests[i].n_headers; j++) {
        const char *h = f->requests[i].headers[j];
        if (strncmp(h, name, nl) == 0 && h[nl] == ':')
            return h[nl + 1] == ' ' ? h + nl + 2 : h + nl + 1;
    }
    return NULL;
}

int fixture_pages_fetch(void *ctx, const char *next_token, struct np_buf *body)
{
    struct fixture_pages *p = ctx;
    cr_assert_lt(p->n_fetch, NP_ARRAY_LEN(p->tokens));
    p->tokens[p->n_fetch++] = np_strdup(next_token);
    if (p->next >= p->n)
        return np_error_set(NP_EIO, "no more pages");
    size_t len = 0;
    char *xml = fixture_read(p->files[p->next++], &len);
    np_buf_append(body, xml, len);
    free(xml);
    return 0;
}

void fixture_pages_clean_up(struct fixture_pages *p)
{
    for (size_t i = 0; i < p->n_fetch; i++)
        free(p->tokens[i]);
}
