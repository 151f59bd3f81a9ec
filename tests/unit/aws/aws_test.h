/*
 * Shared helpers for the pkg/aws unit tests: fixture files, and a scripted fake network
 * (transport, clock, sleep and random hooks) so client calls run without sockets or sleeps.
 */
#ifndef NP_TESTS_UNIT_AWS_AWS_TEST_H
#define NP_TESTS_UNIT_AWS_AWS_TEST_H

#include "aws/aws.h"
#include "aws/private/aws_private.h"

#define FAKE_MAX 32

/* Reads a whole file (NUL-terminated, *len without the NUL); aborts the test if missing. */
char *fixture_read(const char *path, size_t *len);
/* Same, with one trailing newline removed. */
char *fixture_read_trimmed(const char *path);

struct fake_response {
    enum np_aws_transport_status transport;
    long status;
    char *body; /* owned */
};

struct fake_request {
    char *url;
    char *method; /* "POST", "GET", "PUT" */
    char *headers[8];
    size_t n_headers;
    char *body;
    int64_t timeout_ms; /* the attempt timeout the transport was given */
    bool cancelable;    /* a cancel flag came with the request */
};

struct fake_net {
    struct fake_response responses[FAKE_MAX];
    size_t n_responses, next;
    struct fake_request requests[FAKE_MAX];
    size_t n_requests;
    int64_t sleeps[FAKE_MAX];
    size_t n_sleeps;
    uint64_t rand_ceilings[FAKE_MAX]; /* the n passed to rand_below */
    size_t n_rand;
    int64_t wall_ms;
    int64_t mono_ms;
    int64_t latency_ms; /* added to the clocks by every request */
    struct np_clock clock;
    /* observer records */
    char obs_codes[FAKE_MAX][64];
    char obs_actions[FAKE_MAX][64];
    long obs_status[FAKE_MAX];
    int64_t obs_duration[FAKE_MAX];
    int obs_attempt[FAKE_MAX];
    int64_t obs_wait[FAKE_MAX];
    char obs_services[FAKE_MAX][16];
    size_t n_obs;
    struct np_aws_sqs *cancel_on_sleep; /* np_aws_sqs_cancel'ed by the first backoff sleep */
};

void fake_net_init(struct fake_net *f);
void fake_net_clean_up(struct fake_net *f);
/* Queues a response: body is copied. */
void fake_net_push(struct fake_net *f, enum np_aws_transport_status ts, long status,
                   const char *body);
/* Queues a 2xx/4xx/5xx response whose body is a fixture file. */
void fake_net_push_file(struct fake_net *f, long status, const char *path);
/* A client wired to f: fixed clock, scripted transport, recorded sleeps, rand_below(n) = n-1. */
struct np_aws_ec2 *fake_client(struct fake_net *f, const char *endpoint, const char *session_token);
/* The same from a base config (its rate settings are kept; the rest is filled in). */
struct np_aws_ec2 *fake_client_cfg(struct fake_net *f, const struct np_aws_ec2_config *base);
/* Wires a client made elsewhere to f's transport, sleeps and random. */
void fake_net_attach(struct fake_net *f, struct np_aws_ec2 *c);
/* A credential provider wired to f the same way (its STS and metadata clients). */
struct np_aws_provider *fake_provider(struct fake_net *f,
                                      const struct np_aws_provider_config *base);
/* An SQS client wired to f the same way; endpoint is the override (NULL: none). */
struct np_aws_sqs *fake_sqs(struct fake_net *f, const char *endpoint);
/* A CloudTrail client wired to f the same way (its token bucket never waits). */
struct np_aws_cloudtrail *fake_cloudtrail(struct fake_net *f, const char *endpoint);
/* The value of header `name` ("Authorization") in recorded request i, or NULL. */
const char *fake_header(const struct fake_net *f, size_t i, const char *name);

/* Pages served from fixture files to a pager (np_aws_page_fetch_fn), with the tokens it sent. */
struct fixture_pages {
    const char *files[4];
    size_t n, next;
    char *tokens[4]; /* the next_token passed on each fetch (NULL for the first) */
    size_t n_fetch;
};
/* Serves files[next++]; NP_EIO once they run out. */
int fixture_pages_fetch(void *ctx, const char *next_token, struct np_buf *body);
void fixture_pages_clean_up(struct fixture_pages *p);

#endif
