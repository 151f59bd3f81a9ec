/*
 * The libcurl transport against a small HTTP/1.1 server on 127.0.0.1 run by the test itself:
 * the headers and body on the wire, keep-alive reuse, concurrent callers on one client,
 * retries of real connection failures and 503s, and per-attempt timeouts. Loopback only.
 */
#define _GNU_SOURCE /* strptime, timegm */
#include "aws/private/sigv4.h"
#include "aws_test.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define FX "tests/fixtures/aws/"
#define MAX_CONN 64

struct server {
    int listen_fd;
    int port;
    pthread_t acceptor;
    pthread_t handlers[MAX_CONN];
    int fds[MAX_CONN];
    atomic_int n_conn;
    atomic_int n_requests;
    atomic_bool stop;
    pthread_mutex_t lock;
    char *first_request; /* raw head + body of the first request */
    /* scripted statuses for the first requests, then 200 */
    long statuses[8];
    size_t n_statuses;
    char *ok_body;
    char *error_body;
    bool silent; /* never answer (for timeouts) */
};

struct conn {
    struct server *s;
    int fd;
};

static bool read_request(int fd, struct np_buf *req)
{
    char chunk[4096];
    size_t head_end = 0;
    long content_length = -1;
    for (;;) {
        if (content_length < 0) {
            const char *end = req->data ? strstr(req->data, "\r\n\r\n") : NULL;
            if (end) {
                head_end = (size_t)(end - req->data) + 4;
                const char *cl = strstr(req->data, "Content-Length: ");
                content_length = cl && cl < end ? strtol(cl + 16, NULL, 10) : 0;
            }
        }
        if (content_length >= 0 && req->len >= head_end + (size_t)content_length)
            return true;
        ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
        if (n <= 0)
            return false;
        np_buf_append(req, chunk, (size_t)n);
    }
}

static void *handle(void *arg)
{
    struct conn *c = arg;
    struct server *s = c->s;
    struct np_buf req = NP_BUF_INIT;
    while (!atomic_load(&s->stop)) {
        np_buf_reset(&req);
        if (!read_request(c->fd, &req))
            break;
        int idx = atomic_fetch_add(&s->n_requests, 1);
        pthread_mutex_lock(&s->lock);
        if (!s->first_request)
            s->first_request = np_strdup(np_buf_cstr(&req));
        pthread_mutex_unlock(&s->lock);
        if (s->silent)
            continue;
        long status = (size_t)idx < s->n_statuses ? s->statuses[idx] : 200;
        const char *body = status == 200 ? s->ok_body : s->error_body;
        char *resp = np_strdupf("HTTP/1.1 %ld X\r\nContent-Type: text/xml\r\nContent-Length: "
                                "%zu\r\n\r\n%s",
                                status, strlen(body), body);
        ssize_t sent = send(c->fd, resp, strlen(resp), MSG_NOSIGNAL);
        free(resp);
        if (sent < 0)
            break;
    }
    np_buf_clean_up(&req);
    free(c); /* the fd is closed by server_stop */
    return NULL;
}

static void *accept_loop(void *arg)
{
    struct server *s = arg;
    while (!atomic_load(&s->stop)) {
        struct pollfd p = {s->listen_fd, POLLIN, 0};
        if (poll(&p, 1, 20) <= 0)
            continue;
        int fd = accept(s->listen_fd, NULL, NULL);
        if (fd < 0)
            continue;
        int i = atomic_load(&s->n_conn);
        if (i >= MAX_CONN) {
            close(fd);
            continue;
        }
        struct conn *c = np_xcalloc(1, sizeof(*c));
        c->s = s;
        c->fd = fd;
        s->fds[i] = fd;
        pthread_create(&s->handlers[i], NULL, handle, c);
        atomic_store(&s->n_conn, i + 1);
    }
    return NULL;
}

static void server_start(struct server *s)
{
    s->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(s->listen_fd, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(s->listen_fd, (struct sockaddr *)&a, sizeof(a)), 0);
    cr_assert_eq(listen(s->listen_fd, 64), 0);
    socklen_t len = sizeof(a);
    getsockname(s->listen_fd, (struct sockaddr *)&a, &len);
    s->port = ntohs(a.sin_port);
    pthread_mutex_init(&s->lock, NULL);
    if (!s->ok_body)
        s->ok_body = fixture_read(FX "describe-vpcs.xml", NULL);
    if (!s->error_body)
        s->error_body = fixture_read(FX "crafted/error-request-limit-exceeded.xml", NULL);
    pthread_create(&s->acceptor, NULL, accept_loop, s);
}

/* Stops accepting, shuts every connection down, joins the handlers and closes the sockets. */
static void server_stop(struct server *s)
{
    atomic_store(&s->stop, true);
    pthread_join(s->acceptor, NULL);
    int n = atomic_load(&s->n_conn);
    for (int i = 0; i < n; i++)
        shutdown(s->fds[i], SHUT_RDWR);
    for (int i = 0; i < n; i++)
        pthread_join(s->handlers[i], NULL);
    for (int i = 0; i < n; i++)
        close(s->fds[i]);
    close(s->listen_fd);
    free(s->first_request);
    free(s->ok_body);
    free(s->error_body);
    pthread_mutex_destroy(&s->lock);
}

struct recorder {
    atomic_int attempts;
    int64_t slept;
    char codes[8][32];
};

static void rec_observe(void *ctx, const struct np_aws_request_info *info)
{
    struct recorder *r = ctx;
    int i = atomic_fetch_add(&r->attempts, 1);
    if (i < 8)
        np_strlcpy(r->codes[i], info->code, sizeof(r->codes[i]));
}

static void rec_sleep(void *ctx, int64_t ms)
{
    ((struct recorder *)ctx)->slept += ms;
}

static uint64_t rec_rand(void *ctx, uint64_t n)
{
    (void)ctx;
    return n / 2;
}

static struct np_aws_ec2 *real_client(int port, struct recorder *r, int64_t timeout_ms,
                                      int max_attempts)
{
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
    struct np_aws_credentials creds;
    cr_assert_eq(np_aws_credentials_set(&creds, "AKIDEXAMPLE", "secret-key", NULL), 0);
    struct np_aws_ec2_config cfg = {.region = "us-east-1",
                                    .endpoint = url,
                                    .credentials = &creds,
                                    .timeout_ms = timeout_ms,
                                    .max_attempts = max_attempts,
                                    .observer = rec_observe,
                                    .observer_ctx = r};
    struct np_aws_ec2 *c = NULL;
    cr_assert_eq(np_aws_ec2_new(&c, &cfg), 0, "%s", np_error_message());
    np_aws_credentials_clean_up(&creds);
    /* real libcurl transport; only the backoff sleep and jitter are injected */
    struct np_aws_test_hooks hooks = {NULL, rec_sleep, rec_rand, r};
    np_aws_ec2_set_test_hooks(c, &hooks);
    return c;
}

/* Each test runs in its own process: keep proxies and endpoint variables out of its way. */
static void clean_env(void)
{
    static const char *const vars[] = {"http_proxy",       "HTTP_PROXY",          "https_proxy",
                                       "HTTPS_PROXY",      "all_proxy",           "ALL_PROXY",
                                       "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_EC2"};
    for (size_t i = 0; i < NP_ARRAY_LEN(vars); i++)
        unsetenv(vars[i]);
}

static char *header_value(const char *raw, const char *name)
{
    char pat[64];
    snprintf(pat, sizeof(pat), "\r\n%s: ", name);
    const char *p = strstr(raw, pat);
    if (!p)
        return NULL;
    p += strlen(pat);
    return np_strndup(p, strcspn(p, "\r\n"));
}

Test(curl, wire_request_is_what_was_signed, .init = clean_env)
{
    struct server s = {0};
    server_start(&s);
    struct recorder r = {0};
    struct np_aws_ec2 *c = real_client(s.port, &r, 0, 0);
    struct np_aws_filter f = {"tag:team", (const char *[]){"shop floor"}, 1};
    struct np_aws_vpc *vpcs = NULL;
    size_t n = 0;
    cr_assert_eq(np_aws_ec2_describe_vpcs(c, &vpcs, &n, &f, 1), 0, "%s", np_error_message());
    cr_expect_eq(n, 2);
    np_aws_vpcs_free(vpcs, n);
    np_aws_ec2_destroy(c);

    const char *raw = s.first_request;
    cr_assert_not_null(raw);
    cr_expect(np_str_has_prefix(raw, "POST / HTTP/1.1\r\n"), "%.40s", raw);
    const char *body = strstr(raw, "\r\n\r\n") + 4;
    const char *want_body = "Action=DescribeVpcs&Version=2016-11-15&Filter.1.Name=tag%3Ateam"
                            "&Filter.1.Value.1=shop+floor&MaxResults=1000";
    cr_expect_str_eq(body, want_body);
    char host[32];
    snprintf(host, sizeof(host), "127.0.0.1:%d", s.port);
    char *h_host = header_value(raw, "Host");
    char *h_ct = header_value(raw, "Content-Type");
    char *h_date = header_value(raw, "X-Amz-Date");
    char *h_auth = header_value(raw, "Authorization");
    char *h_ua = header_value(raw, "User-Agent");
    char *h_expect = header_value(raw, "Expect");
    cr_expect_str_eq(h_host, host);
    cr_expect_str_eq(h_ct, "application/x-www-form-urlencoded; charset=utf-8");
    cr_expect_str_eq(h_ua, "netposture");
    cr_expect_null(h_expect);
    cr_assert_not_null(h_date);
    cr_assert_not_null(h_auth);

    /* re-sign what arrived: the signature must cover exactly these bytes and headers */
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    cr_assert_not_null(strptime(h_date, "%Y%m%dT%H%M%SZ", &tm));
    struct np_aws_credentials creds;
    np_aws_credentials_set(&creds, "AKIDEXAMPLE", "secret-key", NULL);
    struct np_aws_sigv4_header hdrs[] = {{"Host", h_host}, {"Content-Type", h_ct}};
    struct np_aws_sigv4_input in = {.method = "POST",
                                    .path = "/",
                                    .headers = hdrs,
                                    .n_headers = 2,
                                    .body = body,
                                    .body_len = strlen(body),
                                    .region = "us-east-1",
                                    .service = "ec2",
                                    .credentials = &creds,
                                    .time_ms = (int64_t)timegm(&tm) * 1000};
    struct np_aws_sigv4_output out;
    memset(&out, 0, sizeof(out));
    cr_assert_eq(np_aws_sigv4_sign(&out, &in), 0);
    cr_expect_str_eq(h_auth, out.authorization);
    np_aws_sigv4_output_clean_up(&out);
    np_aws_credentials_clean_up(&creds);
    free(h_host);
    free(h_ct);
    free(h_date);
    free(h_auth);
    free(h_ua);
    free(h_expect);
    server_stop(&s);
}

struct worker {
    struct np_aws_ec2 *c;
    int failures;
};

static void *work(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < 25; i++) {
        struct np_aws_vpc *vpcs = NULL;
        size_t n = 0;
        if (np_aws_ec2_describe_vpcs(w->c, &vpcs, &n, NULL, 0) != 0 || n != 2)
            w->failures++;
        np_aws_vpcs_free(vpcs, n);
    }
    return NULL;
}

Test(curl, concurrent_callers_share_one_client_and_reuse_connections, .init = clean_env)
{
    struct server s = {0};
    server_start(&s);
    struct recorder r = {0};
    struct np_aws_ec2 *c = real_client(s.port, &r, 0, 0);
    struct worker w[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){c, 0};
        pthread_create(&t[i], NULL, work, &w[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        cr_expect_eq(w[i].failures, 0, "worker %d", i);
    }
    cr_expect_eq(atomic_load(&s.n_requests), 100);
    cr_expect_eq(atomic_load(&r.attempts), 100);
    cr_expect_leq(atomic_load(&s.n_conn), 8, "%d connections for 100 requests: no keep-alive",
                  atomic_load(&s.n_conn));
    np_aws_ec2_destroy(c);
    server_stop(&s);
}

Test(curl, throttled_then_ok_over_the_wire, .init = clean_env)
{
    struct server s = {.statuses = {503, 503}, .n_statuses = 2};
    server_start(&s);
    struct recorder r = {0};
    struct np_aws_ec2 *c = real_client(s.port, &r, 0, 0);
    struct np_aws_vpc *vpcs = NULL;
    size_t n = 0;
    cr_expect_eq(np_aws_ec2_describe_vpcs(c, &vpcs, &n, NULL, 0), 0, "%s", np_error_message());
    cr_expect_eq(n, 2);
    np_aws_vpcs_free(vpcs, n);
    cr_expect_eq(atomic_load(&r.attempts), 3);
    cr_expect_str_eq(r.codes[0], "RequestLimitExceeded");
    cr_expect_str_eq(r.codes[2], "OK");
    cr_expect_eq(r.slept, 250 + 500, "throttle ceilings 500 and 1000, halved by the fake rand");
    np_aws_ec2_destroy(c);
    server_stop(&s);
}

Test(curl, refused_connections_are_retried_then_eio, .init = clean_env)
{
    /* a port that was just free: bind, read the port, close */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    socklen_t len = sizeof(a);
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    struct recorder r = {0};
    struct np_aws_ec2 *c = real_client(ntohs(a.sin_port), &r, 0, 0);
    cr_expect_eq(np_aws_ec2_delete_security_group(c, "sg-1"), NP_EIO);
    cr_expect_eq(atomic_load(&r.attempts), 4);
    cr_expect_str_eq(r.codes[3], "NetworkError");
    cr_expect_eq(r.slept, 50 + 100 + 200);
    cr_expect(strstr(np_error_message(), "after 4 attempts") != NULL, "%s", np_error_message());
    np_aws_ec2_destroy(c);
}

Test(curl, attempt_timeout_is_reported_as_timeout, .init = clean_env)
{
    struct server s = {.silent = true};
    server_start(&s);
    struct recorder r = {0};
    struct np_aws_ec2 *c = real_client(s.port, &r, 150, 2);
    cr_expect_eq(np_aws_ec2_delete_security_group(c, "sg-1"), NP_EIO);
    cr_expect_eq(atomic_load(&r.attempts), 2);
    cr_expect_str_eq(r.codes[0], "Timeout");
    cr_expect_str_eq(r.codes[1], "Timeout");
    np_aws_ec2_destroy(c);
    server_stop(&s);
}
