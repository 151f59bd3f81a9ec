/*
 * Pagination bounds: a server whose nextTokens cycle (A -> B -> C -> A), through the client and
 * its transport hook; a listing that never ends (the default page bound); the byte, page and
 * token-length bounds of the pager with small limits. Each must end with a clear error.
 */
#include "aws_test.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A scripted EC2 server: it answers DescribeSecurityGroups and DescribeVpcs pages whose
 * nextToken is next_of(the NextToken sent), and gives up (a transport error) after `cap`
 * requests so a pager that never stops fails the test instead of hanging it. */
struct endless {
    const char *(*next_of)(const char *token, char *scratch, size_t size);
    size_t n_requests;
    size_t cap;
};

/* The NextToken form value of a request body (tokens here need no percent-decoding). */
static void token_of(const char *body, char *out, size_t size)
{
    const char *p = strstr(body, "&NextToken=");
    out[0] = '\0';
    if (!p)
        return;
    p += strlen("&NextToken=");
    size_t n = strcspn(p, "&");
    snprintf(out, size, "%.*s", (int)(n < size ? n : size - 1), p);
}

static void endless_transport(void *ctx, const struct np_aws_http_request *req,
                              struct np_aws_http_response *resp)
{
    struct endless *e = ctx;
    char token[128], scratch[128];
    if (++e->n_requests > e->cap) {
        resp->transport = NP_AWS_TRANSPORT_FATAL;
        np_strlcpy(resp->error, "test server: too many requests", sizeof(resp->error));
        return;
    }
    char *body = np_strndup(req->body, req->body_len);
    token_of(body, token, sizeof(token));
    const char *next = e->next_of(token, scratch, sizeof(scratch));
    char *xml = np_strdupf("<DescribeSecurityGroupsResponse><securityGroupInfo><item><groupId>"
                           "sg-%zu</groupId></item></securityGroupInfo><nextToken>%s</nextToken>"
                           "</DescribeSecurityGroupsResponse>",
                           e->n_requests, next);
    resp->transport = NP_AWS_TRANSPORT_OK;
    resp->status = 200;
    np_buf_append(&resp->body, xml, strlen(xml));
    free(xml);
    free(body);
}

static void no_sleep(void *ctx, int64_t ms)
{
    (void)ctx, (void)ms;
}

static struct np_aws_ec2 *endless_client(struct endless *e, struct fake_net *f)
{
    struct np_aws_credentials creds;
    cr_assert_eq(np_aws_credentials_set(&creds, "AKIDEXAMPLE",
                                        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL),
                 0);
    struct np_aws_ec2_config cfg = {.region = "us-east-1",
                                    .endpoint = "http://127.0.0.1:1",
                                    .credentials = &creds,
                                    .clock = &f->clock,
                                    .max_attempts = 1,
                                    .no_rate_limit = true};
    struct np_aws_ec2 *c = NULL;
    cr_assert_eq(np_aws_ec2_new(&c, &cfg), 0, "%s", np_error_message());
    np_aws_credentials_clean_up(&creds);
    struct np_aws_test_hooks hooks = {endless_transport, no_sleep, NULL, e};
    np_aws_ec2_set_test_hooks(c, &hooks);
    return c;
}

static const char *cycle_abc(const char *token, char *scratch, size_t size)
{
    (void)scratch, (void)size;
    if (token[0] == '\0')
        return "A";
    if (strcmp(token, "A") == 0)
        return "B";
    if (strcmp(token, "B") == 0)
        return "C";
    return "A";
}

static const char *count_up(const char *token, char *scratch, size_t size)
{
    long n = token[0] == 't' ? strtol(token + 1, NULL, 10) : 0;
    snprintf(scratch, size, "t%ld", n + 1);
    return scratch;
}

Test(page_bounds, a_token_cycle_through_the_client_is_an_error_not_a_loop)
{
    struct fake_net f;
    fake_net_init(&f);
    struct endless e = {cycle_abc, 0, 1000};
    struct np_aws_ec2 *c = endless_client(&e, &f);
    struct np_aws_sg *sgs = (void *)0x1;
    size_t n = 0;
    int rc = np_aws_ec2_describe_security_groups(c, &sgs, &n, NULL, 0, NULL, 0);
    cr_expect_eq(rc, NP_EPARSE, "rc %d: %s", rc, np_error_message());
    cr_expect_eq(e.n_requests, 4, "pages \"\", A, B, C; C hands out A again");
    cr_expect(strstr(np_error_message(), "DescribeSecurityGroups: page 4 handed out a nextToken "
                                         "seen before") != NULL,
              "%s", np_error_message());
    cr_expect_null(sgs);
    cr_expect_eq(n, 0);
    np_aws_ec2_destroy(c);
    fake_net_clean_up(&f);
}

/* A pager fetch that never ends (t1, t2, ...) and gives up with NP_EIO after `cap` pages. */
struct counting {
    size_t n_fetch;
    size_t cap;
};

static int counting_fetch(void *ctx, const char *next_token, struct np_buf *body)
{
    struct counting *p = ctx;
    char scratch[64];
    if (++p->n_fetch > p->cap)
        return np_error_set(NP_EIO, "test server: too many pages");
    char *xml = np_strdupf("<DescribeVpcsResponse><nextToken>%s</nextToken></DescribeVpcsResponse>",
                           count_up(next_token ? next_token : "", scratch, sizeof(scratch)));
    np_buf_append(body, xml, strlen(xml));
    free(xml);
    return 0;
}

Test(page_bounds, a_listing_that_never_ends_stops_at_the_default_page_bound)
{
    struct counting p = {0, 1050};
    struct np_aws_vpc *vpcs = NULL;
    size_t n = 0;
    int rc = np_aws_vpc_paginate(&vpcs, &n, NULL, counting_fetch, &p);
    cr_expect_eq(rc, NP_ENOTSUP, "rc %d: %s", rc, np_error_message());
    cr_expect_eq(p.n_fetch, 1000);
    cr_expect(strstr(np_error_message(),
                     "DescribeVpcs: the listing did not end within 1000 pages") != NULL,
              "%s", np_error_message());
    cr_expect_null(vpcs);
}

/* ---------------------------------------------------------------- the pager, small limits */

/* DescribeVpcs pages; page i carries `pad` bytes of padding and nextToken tokens[i] (NULL:
 * last page). */
struct vpc_pages {
    const char *tokens[8];
    size_t pad;
    size_t n_fetch;
};

static int vpc_pages_fetch(void *ctx, const char *next_token, struct np_buf *body)
{
    struct vpc_pages *p = ctx;
    (void)next_token;
    cr_assert_lt(p->n_fetch, NP_ARRAY_LEN(p->tokens), "the pager went on past the script");
    const char *tok = p->tokens[p->n_fetch];
    char *pad = np_xcalloc(1, p->pad + 1);
    memset(pad, ' ', p->pad);
    char *xml = np_strdupf("<DescribeVpcsResponse>%s<vpcSet><item><vpcId>vpc-%zu</vpcId></item>"
                           "</vpcSet>%s%s%s</DescribeVpcsResponse>",
                           pad, p->n_fetch, tok ? "<nextToken>" : "", tok ? tok : "",
                           tok ? "</nextToken>" : "");
    p->n_fetch++;
    np_buf_append(body, xml, strlen(xml));
    free(xml);
    free(pad);
    return 0;
}

Test(page_bounds, bytes_pages_and_token_length_are_bounded)
{
    struct np_aws_vpc *vpcs = NULL;
    size_t n = 0;

    struct vpc_pages fits = {{"a", "b", NULL}, 100, 0};
    struct np_aws_page_limits limits = {3, 1000};
    cr_assert_eq(np_aws_vpc_paginate(&vpcs, &n, &limits, vpc_pages_fetch, &fits), 0, "%s",
                 np_error_message());
    cr_expect_eq(n, 3, "three pages within both bounds");
    np_aws_vpcs_free(vpcs, n);
    vpcs = NULL;

    struct vpc_pages big = {{"a", "b", "c", NULL}, 300, 0};
    cr_expect_eq(np_aws_vpc_paginate(&vpcs, &n, &limits, vpc_pages_fetch, &big), NP_ENOTSUP);
    cr_expect(strstr(np_error_message(),
                     "DescribeVpcs: the listing is larger than 1000 bytes after 3 pages") != NULL,
              "%s", np_error_message());
    cr_expect_eq(big.n_fetch, 3);
    cr_expect_null(vpcs);

    struct vpc_pages many = {{"a", "b", "c", "d", NULL}, 0, 0};
    cr_expect_eq(np_aws_vpc_paginate(&vpcs, &n, &limits, vpc_pages_fetch, &many), NP_ENOTSUP);
    cr_expect(strstr(np_error_message(), "did not end within 3 pages") != NULL, "%s",
              np_error_message());
    cr_expect_eq(many.n_fetch, 3);

    char *long_token = np_xcalloc(1, 9000);
    memset(long_token, 'x', 8999);
    struct vpc_pages longtok = {{"a", long_token, NULL}, 0, 0};
    cr_expect_eq(np_aws_vpc_paginate(&vpcs, &n, NULL, vpc_pages_fetch, &longtok), NP_EPARSE);
    cr_expect(strstr(np_error_message(), "page 2 has a nextToken longer than 8192 bytes") != NULL,
              "%s", np_error_message());
    free(long_token);

    struct vpc_pages aba = {{"a", "b", "a", NULL}, 0, 0};
    cr_expect_eq(np_aws_vpc_paginate(&vpcs, &n, NULL, vpc_pages_fetch, &aba), NP_EPARSE);
    cr_expect(strstr(np_error_message(),
                     "DescribeVpcs: page 3 handed out a nextToken seen before") != NULL,
              "%s", np_error_message());
    cr_expect_null(vpcs);
}
