/*
 * The Describe pagination loop, separated from the transport: fetch a page through a
 * callback, decode it (security groups, or any np_aws_xml_list kind), follow nextToken until it
 * is absent, and concatenate the results.
 * Unit tests drive it with recorded pages; the client drives it with real calls.
 */
#include "aws/private/aws_private.h"

#include <stdlib.h>
#include <string.h>

/* Upper bound on pages, against a server that never stops handing out tokens. */
#define MAX_PAGES 100000

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

/*
 * Generic loop over pages of `elem`-sized items. On failure the items gathered so far are
 * released with free_items.
 */
static int paginate(void **out, size_t *n_out, size_t elem, decode_page_fn decode,
                    const void *decode_arg, void (*free_items)(void *items, size_t n),
                    np_aws_page_fetch_fn fetch, void *ctx)
{
    struct np_buf body = NP_BUF_INIT;
    char *token = NULL;
    char *next = NULL;
    char *all = NULL;
    void *page = NULL;
    size_t n_all = 0, n_page = 0;
    int rc = 0;
    for (int pages = 0;; pages++) {
        if (pages >= MAX_PAGES) {
            rc = np_error_set(NP_EPARSE, "pagination: more than %d pages", MAX_PAGES);
            goto out;
        }
        np_buf_reset(&body);
        rc = fetch(ctx, token, &body);
        if (rc)
            goto out;
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
        if (np_str_eq(next, token)) {
            rc = np_error_set(NP_EPARSE, "pagination: the server returned the same nextToken "
                                         "again");
            goto out;
        }
        free(token);
        token = next;
        next = NULL;
    }
    *out = all;
    *n_out = n_all;
    all = NULL;
    n_all = 0;
out:
    if (all)
        free_items(all, n_all);
    free(token);
    free(next);
    np_buf_clean_up(&body);
    return rc;
}

static void free_sgs(void *items, size_t n)
{
    np_aws_sgs_free(items, n);
}

int np_aws_sg_paginate(struct np_aws_sg **out, size_t *n_out, np_aws_page_fetch_fn fetch, void *ctx)
{
    void *items = NULL;
    size_t n = 0;
    int rc = paginate(&items, &n, sizeof(struct np_aws_sg), decode_sg, NULL, free_sgs, fetch, ctx);
    if (rc == 0) {
        *out = items;
        *n_out = n;
    }
    return rc;
}

int np_aws_vpc_paginate(struct np_aws_vpc **out, size_t *n_out, np_aws_page_fetch_fn fetch,
                        void *ctx)
{
    void *items = NULL;
    size_t n = 0;
    int rc = np_aws_list_paginate(&items, &n, &np_aws_xml_vpcs, fetch, ctx);
    if (rc == 0) {
        *out = items;
        *n_out = n;
    }
    return rc;
}

int np_aws_list_paginate(void **out, size_t *n_out, const struct np_aws_xml_list *kind,
                         np_aws_page_fetch_fn fetch, void *ctx)
{
    return paginate(out, n_out, kind->elem, decode_list, kind, kind->free_items, fetch, ctx);
}
