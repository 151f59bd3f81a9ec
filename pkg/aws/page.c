/*
 * The Describe pagination loop, separated from the transport: fetch a page through a
 * callback, decode it (security groups, or any np_aws_xml_list kind), follow nextToken until it
 * is absent, and concatenate the results; bounded in pages, bytes and token length, and a token
 * handed out twice in one listing ends it.
 * Unit tests drive it with recorded pages; the client drives it with real calls.
 */
#include "aws/private/aws_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A listing that never ends is an error, not a loop: the pages, the bytes of all pages together
 * and the length of a token are bounded, and a token seen before in the same listing (a cycle,
 * A -> B -> A) stops it. */
#define DEFAULT_MAX_PAGES 1000
#define DEFAULT_MAX_BYTES ((size_t)512 * 1024 * 1024)
#define MAX_TOKEN_BYTES 8192

/* Decodes one page; arg is what the pager was given (a list kind, or NULL). */
typedef int (*decode_page_fn)(const void *arg, const char *xml, size_t len, void **items, size_t *n,
                              char **next_token);

static int decode_sg(const void *arg, const char *xml, size_t len, void **items, size_t *n,
                     char **next)
{
    struct np_aws_sg *sgs = NULL;
    (void)arg;
    int rc = np_aws_xml_decode_sg_page(xml, len, &sgs, n, next);
    *items = sgs;
    return rc;
}

static int decode_list(const void *arg, const char *xml, size_t len, void **items, size_t *n,
                       char **next)
{
    return np_aws_xml_decode_list(arg, xml, len, items, n, next);
}

/* The tokens of one listing, to recognise one handed out again. */
struct seen_tokens {
    char **v;
    size_t n;
};

static bool seen_tokens_has(const struct seen_tokens *t, const char *token)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->v[i], token) == 0)
            return true;
    return false;
}

static void seen_tokens_clean_up(struct seen_tokens *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->v[i]);
    free(t->v);
}

/*
 * Generic loop over pages of `elem`-sized items of the listing `what` (for messages). On
 * failure the items gathered so far are released with free_items.
 */
static int paginate(void **out, size_t *n_out, const char *what, size_t elem, decode_page_fn decode,
                    const void *decode_arg, void (*free_items)(void *items, size_t n),
                    const struct np_aws_page_limits *limits, np_aws_page_fetch_fn fetch, void *ctx)
{
    struct np_buf body = NP_BUF_INIT;
    struct seen_tokens seen = {NULL, 0};
    char *next = NULL;
    char *all = NULL;
    void *page = NULL;
    size_t n_all = 0, n_page = 0, bytes = 0;
    int rc = 0;
    int max_pages = limits && limits->max_pages > 0 ? limits->max_pages : DEFAULT_MAX_PAGES;
    size_t max_bytes = limits && limits->max_bytes > 0 ? limits->max_bytes : DEFAULT_MAX_BYTES;
    for (int pages = 0;; pages++) {
        if (pages >= max_pages) {
            rc = np_error_set(NP_ENOTSUP,
                              "%s: the listing did not end within %d pages (narrow the filters)",
                              what, max_pages);
            goto out;
        }
        np_buf_reset(&body);
        rc = fetch(ctx, seen.n ? seen.v[seen.n - 1] : NULL, &body);
        if (rc)
            goto out;
        bytes += body.len;
        if (bytes > max_bytes) {
            rc = np_error_set(NP_ENOTSUP,
                              "%s: the listing is larger than %zu bytes after %d pages (narrow "
                              "the filters)",
                              what, max_bytes, pages + 1);
            goto out;
        }
        rc = decode(decode_arg, body.data, body.len, &page, &n_page, &next);
        if (rc)
            goto out;
        if (n_page > 0) {
            all = np_xrealloc(all, (n_all + n_page) * elem);
            memcpy(all + n_all * elem, page, n_page * elem);
            n_all += n_page;
        }
        free(page); /* the items moved into all */
        page = NULL;
        n_page = 0;
        if (np_str_is_empty(next))
            break;
        if (strlen(next) > MAX_TOKEN_BYTES) {
            rc = np_error_set(NP_EPARSE, "%s: page %d has a nextToken longer than %d bytes", what,
                              pages + 1, MAX_TOKEN_BYTES);
            goto out;
        }
        if (seen_tokens_has(&seen, next)) {
            rc = np_error_set(NP_EPARSE,
                              "%s: page %d handed out a nextToken seen before in this listing "
                              "(a pagination cycle)",
                              what, pages + 1);
            goto out;
        }
        seen.v = np_xrealloc(seen.v, (seen.n + 1) * sizeof(*seen.v));
        seen.v[seen.n++] = next;
        next = NULL;
    }
    *out = all;
    *n_out = n_all;
    all = NULL;
    n_all = 0;
out:
    if (all)
        free_items(all, n_all);
    seen_tokens_clean_up(&seen);
    free(next);
    np_buf_clean_up(&body);
    return rc;
}

static void free_sgs(void *items, size_t n)
{
    np_aws_sgs_free(items, n);
}

int np_aws_sg_paginate(struct np_aws_sg **out, size_t *n_out,
                       const struct np_aws_page_limits *limits, np_aws_page_fetch_fn fetch,
                       void *ctx)
{
    void *items = NULL;
    size_t n = 0;
    int rc = paginate(&items, &n, "DescribeSecurityGroups", sizeof(struct np_aws_sg), decode_sg,
                      NULL, free_sgs, limits, fetch, ctx);
    if (rc == 0) {
        *out = items;
        *n_out = n;
    }
    return rc;
}

int np_aws_vpc_paginate(struct np_aws_vpc **out, size_t *n_out,
                        const struct np_aws_page_limits *limits, np_aws_page_fetch_fn fetch,
                        void *ctx)
{
    void *items = NULL;
    size_t n = 0;
    int rc = np_aws_list_paginate(&items, &n, &np_aws_xml_vpcs, limits, fetch, ctx);
    if (rc == 0) {
        *out = items;
        *n_out = n;
    }
    return rc;
}

int np_aws_list_paginate(void **out, size_t *n_out, const struct np_aws_xml_list *kind,
                         const struct np_aws_page_limits *limits, np_aws_page_fetch_fn fetch,
                         void *ctx)
{
    /* "DescribeSubnetsResponse" -> "DescribeSubnets" */
    char what[64];
    size_t len = strlen(kind->root);
    if (len > 8 && strcmp(kind->root + len - 8, "Response") == 0)
        len -= 8;
    snprintf(what, sizeof(what), "%.*s", (int)len, kind->root);
    return paginate(out, n_out, what, kind->elem, decode_list, kind, kind->free_items, limits,
                    fetch, ctx);
}
