/*
 * Decoders for the EC2, STS and SQS Query API responses: a small expat walker that tracks the
 * stack of local element names (namespaces ignored, DTDs refused) and per-response handlers
 * that pick values by their position in that stack. Pure functions over a byte buffer. The
 * walker and the generic Describe-list decoder are shared with xml_vpc.c.
 */
#include "aws/private/aws_private.h"

#include <expat.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define XW_TEXT_MAX (1024 * 1024)

/* The name k levels above the current element (0: the current one); "" beyond the root. */
const char *np_aws_xw_up(const struct np_aws_xw *w, int k)
{
    int i = w->depth - 1 - k;
    return i >= 0 ? w->names[i] : "";
}

/* The name of the open element at depth d (the root is 1); "" when nothing is open there. */
const char *np_aws_xw_at(const struct np_aws_xw *w, int d)
{
    return d >= 1 && d <= w->depth ? w->names[d - 1] : "";
}

bool np_aws_xw_up_is(const struct np_aws_xw *w, int k, const char *name)
{
    return strcmp(np_aws_xw_up(w, k), name) == 0;
}

static const char *local_name(const XML_Char *name)
{
    const char *sep = strrchr(name, ' ');
    return sep ? sep + 1 : name;
}

static void xw_fail(struct np_aws_xw *w, int rc)
{
    if (w->rc == 0)
        w->rc = rc;
    XML_StopParser(w->parser, XML_FALSE);
}

static void XMLCALL xw_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
    struct np_aws_xw *w = ud;
    (void)attrs;
    if (w->rc)
        return;
    const char *local = local_name(name);
    if (w->depth >= NP_AWS_XW_MAX_DEPTH) {
        xw_fail(w,
                np_error_set(NP_EPARSE, "XML nested deeper than %d elements", NP_AWS_XW_MAX_DEPTH));
        return;
    }
    if (w->depth == 0 && w->root && strcmp(local, w->root) != 0) {
        xw_fail(w, np_error_set(NP_EPARSE, "unexpected root element <%.64s> (expected <%s>)", local,
                                w->root));
        return;
    }
    np_strlcpy(w->names[w->depth], local, NP_AWS_XW_NAME_MAX);
    w->depth++;
    np_buf_reset(&w->text);
    if (w->on_start) {
        int rc = w->on_start(w, w->names[w->depth - 1]);
        if (rc)
            xw_fail(w, rc);
    }
}

static void XMLCALL xw_end(void *ud, const XML_Char *name)
{
    struct np_aws_xw *w = ud;
    (void)name;
    if (w->rc)
        return;
    if (w->on_end) {
        int rc = w->on_end(w, w->names[w->depth - 1], np_buf_cstr(&w->text));
        if (rc) {
            xw_fail(w, rc);
            return;
        }
    }
    w->depth--;
    np_buf_reset(&w->text);
}

static void XMLCALL xw_chars(void *ud, const XML_Char *s, int len)
{
    struct np_aws_xw *w = ud;
    if (w->rc || w->depth == 0 || len <= 0)
        return;
    if (w->text.len + (size_t)len > XW_TEXT_MAX) {
        xw_fail(w, np_error_set(NP_EPARSE, "XML text longer than %d bytes", XW_TEXT_MAX));
        return;
    }
    if (np_buf_append(&w->text, s, (size_t)len))
        xw_fail(w, NP_ENOMEM);
}

static void XMLCALL xw_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int has_internal_subset)
{
    struct np_aws_xw *w = ud;
    (void)name, (void)sysid, (void)pubid, (void)has_internal_subset;
    xw_fail(w, np_error_set(NP_EPARSE, "XML document type declarations are not accepted"));
}

int np_aws_xw_parse(struct np_aws_xw *w, const char *xml, size_t len)
{
    int rc = 0;
    if (!xml || len > INT_MAX)
        return np_error_set(NP_EPARSE, "XML: no document or document too large");
    w->parser = XML_ParserCreateNS(NULL, ' ');
    if (!w->parser)
        return np_error_set(NP_ENOMEM, "XML: cannot create a parser");
    XML_SetUserData(w->parser, w);
    XML_SetElementHandler(w->parser, xw_start, xw_end);
    XML_SetCharacterDataHandler(w->parser, xw_chars);
    XML_SetStartDoctypeDeclHandler(w->parser, xw_doctype);
    if (XML_Parse(w->parser, xml, (int)len, XML_TRUE) == XML_STATUS_ERROR && w->rc == 0)
        w->rc = np_error_set(NP_EPARSE, "XML: %s at line %lu",
                             XML_ErrorString(XML_GetErrorCode(w->parser)),
                             (unsigned long)XML_GetCurrentLineNumber(w->parser));
    rc = w->rc;
    XML_ParserFree(w->parser);
    w->parser = NULL;
    np_buf_clean_up(&w->text);
    return rc;
}

/* Replaces *dst with a copy of text. */
void np_aws_xml_set_str(char **dst, const char *text)
{
    free(*dst);
    *dst = np_strdup(text);
}

int np_aws_xml_parse_int(const char *text, const char *what, int64_t min, int64_t max, int *out)
{
    int64_t v = 0;
    if (min < INT_MIN || max > INT_MAX || np_parse_int64(text, min, max, &v) != 0)
        return np_error_set(NP_EPARSE, "XML: %s \"%.32s\" is not a whole number from %lld to %lld",
                            what, text, (long long)min, (long long)max);
    *out = (int)v;
    return 0;
}

int np_aws_xml_parse_bool(const char *text, const char *what, bool *out)
{
    if (strcmp(text, "true") == 0)
        *out = true;
    else if (strcmp(text, "false") == 0)
        *out = false;
    else
        return np_error_set(NP_EPARSE, "XML: %s \"%.32s\" is not a boolean", what, text);
    return 0;
}

/* Hands an owned nextToken to *out (NULL when absent or empty) or frees it. */
static void hand_token(char **out, char *token)
{
    if (out && !np_str_is_empty(token)) {
        *out = token;
        return;
    }
    if (out)
        *out = NULL;
    free(token);
}

static void *grow(void *arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return arr;
    *cap = *cap ? *cap * 2 : 8;
    return np_xrealloc(arr, *cap * elem);
}

/* Capacity of an array of n elements grown only by np_aws_xml_append: 0, else the smallest
 * power of two >= n. */
static size_t pow2_capacity(size_t n)
{
    size_t cap = 1;
    if (n == 0)
        return 0;
    while (cap < n)
        cap *= 2;
    return cap;
}

void *np_aws_xml_append(void *arr, size_t n, size_t add, size_t elem)
{
    size_t cap = pow2_capacity(n);
    if (n + add <= cap)
        return arr;
    return np_xrealloc(arr, pow2_capacity(n + add) * elem);
}

/* ---------------------------------------------------------------- error documents */

struct err_ctx {
    char *code;
    char *message;
    char *request_id;
};

static int err_end(struct np_aws_xw *w, const char *name, const char *text)
{
    struct err_ctx *c = w->ctx;
    if (np_aws_xw_up_is(w, 1, "Error")) {
        if (strcmp(name, "Code") == 0 && !c->code)
            c->code = np_strdup(text);
        else if (strcmp(name, "Message") == 0 && !c->message)
            c->message = np_strdup(text);
    }
    if ((strcmp(name, "RequestID") == 0 || strcmp(name, "RequestId") == 0 ||
         strcmp(name, "requestId") == 0) &&
        !c->request_id)
        c->request_id = np_strdup(text);
    return 0;
}

int np_aws_xml_decode_error(const char *xml, size_t len, char **code, char **message,
                            char **request_id)
{
    struct err_ctx c = {NULL, NULL, NULL};
    struct np_aws_xw w = {.on_end = err_end, .ctx = &c};
    int rc = np_aws_xw_parse(&w, xml, len);
    if (rc == 0 && np_str_is_empty(c.code))
        rc = np_error_set(NP_EPARSE, "XML: the error document has no Error/Code");
    if (rc)
        goto out;
    *code = c.code;
    c.code = NULL;
    if (message) {
        *message = c.message;
        c.message = NULL;
    }
    if (request_id) {
        *request_id = c.request_id;
        c.request_id = NULL;
    }
out:
    free(c.code);
    free(c.message);
    free(c.request_id);
    return rc;
}

/* ---------------------------------------------------------------- tags (shared) */

struct tag_acc {
    bool active;
    char *key;
    char *value;
};

static void tag_acc_reset(struct tag_acc *t)
{
    free(t->key);
    free(t->value);
    memset(t, 0, sizeof(*t));
}

/* Moves the tag being read onto (*tags, *n). */
static int tag_acc_push(struct tag_acc *t, struct np_aws_tag **tags, size_t *n)
{
    if (np_str_is_empty(t->key)) {
        tag_acc_reset(t);
        return np_error_set(NP_EPARSE, "XML: a tagSet item has no key");
    }
    *tags = np_aws_xml_append(*tags, *n, 1, sizeof(**tags));
    (*tags)[*n].key = t->key;
    (*tags)[*n].value = t->value ? t->value : np_strdup("");
    (*n)++;
    t->key = t->value = NULL;
    t->active = false;
    return 0;
}

/* ---------------------------------------------------------------- DescribeSecurityGroups */

struct peer_acc {
    enum np_aws_peer_kind kind;
    char *value;
    char *user_id;
    char *description;
};

struct sg_ctx {
    struct np_aws_sg *sgs;
    size_t n, cap;
    bool in_sg;
    /* the grouped IpPermission being read */
    bool in_perm;
    bool egress;
    char *protocol;
    bool has_from, has_to;
    int from, to;
    struct peer_acc *peers;
    size_t n_peers, cap_peers;
    bool in_peer;
    struct peer_acc peer;
    struct tag_acc tag;
    char *next_token;
};

static void peer_acc_clean_up(struct peer_acc *p)
{
    free(p->value);
    free(p->user_id);
    free(p->description);
    memset(p, 0, sizeof(*p));
}

static void sg_perm_reset(struct sg_ctx *c)
{
    free(c->protocol);
    c->protocol = NULL;
    for (size_t i = 0; i < c->n_peers; i++)
        peer_acc_clean_up(&c->peers[i]);
    c->n_peers = 0;
    c->has_from = c->has_to = false;
    c->from = c->to = 0;
    c->in_perm = false;
    peer_acc_clean_up(&c->peer);
    c->in_peer = false;
}

static bool is_perm_list(const char *name)
{
    return strcmp(name, "ipPermissions") == 0 || strcmp(name, "ipPermissionsEgress") == 0;
}

static bool peer_list_kind(const char *name, enum np_aws_peer_kind *kind)
{
    if (strcmp(name, "ipRanges") == 0)
        *kind = NP_AWS_PEER_CIDR4;
    else if (strcmp(name, "ipv6Ranges") == 0)
        *kind = NP_AWS_PEER_CIDR6;
    else if (strcmp(name, "prefixListIds") == 0)
        *kind = NP_AWS_PEER_PREFIX_LIST;
    else if (strcmp(name, "groups") == 0)
        *kind = NP_AWS_PEER_GROUP;
    else
        return false;
    return true;
}

static const char *peer_field(enum np_aws_peer_kind kind)
{
    switch (kind) {
    case NP_AWS_PEER_CIDR4: return "cidrIp";
    case NP_AWS_PEER_CIDR6: return "cidrIpv6";
    case NP_AWS_PEER_PREFIX_LIST: return "prefixListId";
    case NP_AWS_PEER_GROUP: return "groupId";
    }
    return "";
}

static int sg_start(struct np_aws_xw *w, const char *name)
{
    struct sg_ctx *c = w->ctx;
    enum np_aws_peer_kind kind;
    if (strcmp(name, "item") != 0)
        return 0;
    if (w->depth == 3 && np_aws_xw_up_is(w, 1, "securityGroupInfo")) {
        c->sgs = grow(c->sgs, &c->cap, c->n, sizeof(*c->sgs));
        memset(&c->sgs[c->n], 0, sizeof(c->sgs[c->n]));
        c->n++;
        c->in_sg = true;
    } else if (c->in_sg && w->depth == 5 && is_perm_list(np_aws_xw_up(w, 1))) {
        sg_perm_reset(c);
        c->in_perm = true;
        c->egress = np_aws_xw_up_is(w, 1, "ipPermissionsEgress");
    } else if (c->in_perm && w->depth == 7 && peer_list_kind(np_aws_xw_up(w, 1), &kind)) {
        peer_acc_clean_up(&c->peer);
        c->peer.kind = kind;
        c->in_peer = true;
    } else if (c->in_sg && w->depth == 5 && np_aws_xw_up_is(w, 1, "tagSet")) {
        tag_acc_reset(&c->tag);
        c->tag.active = true;
    }
    return 0;
}

/* Expands the grouped permission just read into one atomic perm per peer. */
static int sg_perm_finish(struct sg_ctx *c)
{
    struct np_aws_sg *sg = &c->sgs[c->n - 1];
    if (np_str_is_empty(c->protocol))
        return np_error_set(NP_EPARSE, "XML: an IpPermission of %s has no ipProtocol",
                            sg->group_id ? sg->group_id : "a group");
    struct np_aws_perm **arr = c->egress ? &sg->egress : &sg->ingress;
    size_t *n = c->egress ? &sg->n_egress : &sg->n_ingress;
    if (c->n_peers > 0)
        *arr = np_aws_xml_append(*arr, *n, c->n_peers, sizeof(**arr));
    for (size_t i = 0; i < c->n_peers; i++) {
        struct np_aws_perm *p = &(*arr)[(*n)++];
        memset(p, 0, sizeof(*p));
        p->protocol = np_strdup(c->protocol);
        p->has_ports = c->has_from && c->has_to;
        p->from_port = p->has_ports ? c->from : 0;
        p->to_port = p->has_ports ? c->to : 0;
        p->peer_kind = c->peers[i].kind;
        p->peer = c->peers[i].value;
        p->user_id = c->peers[i].user_id;
        p->description = c->peers[i].description;
        memset(&c->peers[i], 0, sizeof(c->peers[i]));
    }
    c->n_peers = 0;
    sg_perm_reset(c);
    return 0;
}

static int sg_end(struct np_aws_xw *w, const char *name, const char *text)
{
    struct sg_ctx *c = w->ctx;
    struct np_aws_sg *sg = c->in_sg ? &c->sgs[c->n - 1] : NULL;
    int rc = 0;

    if (w->depth == 2 && strcmp(name, "nextToken") == 0) {
        np_aws_xml_set_str(&c->next_token, text);
    } else if (c->in_peer && w->depth == 8) {
        /* securityGroupInfo/item/ipPermissions/item/<list>/item/<field> */
        if (strcmp(name, peer_field(c->peer.kind)) == 0)
            np_aws_xml_set_str(&c->peer.value, text);
        else if (strcmp(name, "description") == 0)
            np_aws_xml_set_str(&c->peer.description, text);
        else if (c->peer.kind == NP_AWS_PEER_GROUP && strcmp(name, "userId") == 0)
            np_aws_xml_set_str(&c->peer.user_id, text);
    } else if (c->in_peer && w->depth == 7 && strcmp(name, "item") == 0) {
        if (np_str_is_empty(c->peer.value))
            return np_error_set(NP_EPARSE, "XML: a %s item of %s has no %s", np_aws_xw_up(w, 1),
                                sg->group_id ? sg->group_id : "a group", peer_field(c->peer.kind));
        c->peers = grow(c->peers, &c->cap_peers, c->n_peers, sizeof(*c->peers));
        c->peers[c->n_peers++] = c->peer;
        memset(&c->peer, 0, sizeof(c->peer));
        c->in_peer = false;
    } else if (c->in_perm && w->depth == 6) {
        if (strcmp(name, "ipProtocol") == 0) {
            np_aws_xml_set_str(&c->protocol, text);
        } else if (strcmp(name, "fromPort") == 0) {
            rc = np_aws_xml_parse_int(text, "fromPort", -1, 65535, &c->from);
            c->has_from = rc == 0;
        } else if (strcmp(name, "toPort") == 0) {
            rc = np_aws_xml_parse_int(text, "toPort", -1, 65535, &c->to);
            c->has_to = rc == 0;
        }
    } else if (c->in_perm && w->depth == 5 && strcmp(name, "item") == 0) {
        rc = sg_perm_finish(c);
    } else if (c->tag.active && w->depth == 6) {
        if (strcmp(name, "key") == 0)
            np_aws_xml_set_str(&c->tag.key, text);
        else if (strcmp(name, "value") == 0)
            np_aws_xml_set_str(&c->tag.value, text);
    } else if (c->tag.active && w->depth == 5 && strcmp(name, "item") == 0) {
        rc = tag_acc_push(&c->tag, &sg->tags, &sg->n_tags);
    } else if (sg && w->depth == 4) {
        if (strcmp(name, "groupId") == 0)
            np_aws_xml_set_str(&sg->group_id, text);
        else if (strcmp(name, "groupName") == 0)
            np_aws_xml_set_str(&sg->group_name, text);
        else if (strcmp(name, "groupDescription") == 0)
            np_aws_xml_set_str(&sg->description, text);
        else if (strcmp(name, "vpcId") == 0)
            np_aws_xml_set_str(&sg->vpc_id, text);
        else if (strcmp(name, "ownerId") == 0)
            np_aws_xml_set_str(&sg->owner_id, text);
    } else if (sg && w->depth == 3 && strcmp(name, "item") == 0) {
        if (np_str_is_empty(sg->group_id))
            return np_error_set(NP_EPARSE, "XML: a securityGroupInfo item has no groupId");
        c->in_sg = false;
    }
    return rc;
}

int np_aws_xml_decode_sg_page(const char *xml, size_t len, struct np_aws_sg **sgs, size_t *n,
                              char **next_token)
{
    struct sg_ctx c;
    memset(&c, 0, sizeof(c));
    struct np_aws_xw w = {.root = "DescribeSecurityGroupsResponse",
                          .on_start = sg_start,
                          .on_end = sg_end,
                          .ctx = &c};
    int rc = np_aws_xw_parse(&w, xml, len);
    sg_perm_reset(&c);
    free(c.peers);
    tag_acc_reset(&c.tag);
    if (rc) {
        np_aws_sgs_free(c.sgs, c.n);
        free(c.next_token);
        return rc;
    }
    *sgs = c.sgs;
    *n = c.n;
    hand_token(next_token, c.next_token);
    return 0;
}

/* ---------------------------------------------------------------- Describe lists */

struct list_ctx {
    const struct np_aws_xml_list *kind;
    char *items; /* kind->elem bytes each */
    size_t n, cap;
    bool in_item;
    unsigned seen; /* the kind's scratch, zeroed with each item */
    struct tag_acc tag;
    char *next_token;
};

static void *list_item(const struct list_ctx *c)
{
    return c->in_item ? c->items + (c->n - 1) * c->kind->elem : NULL;
}

static int list_start(struct np_aws_xw *w, const char *name)
{
    struct list_ctx *c = w->ctx;
    bool is_item = strcmp(name, "item") == 0;
    if (w->depth == 3 && is_item && np_aws_xw_up_is(w, 1, c->kind->set)) {
        c->items = grow(c->items, &c->cap, c->n, c->kind->elem);
        memset(c->items + c->n * c->kind->elem, 0, c->kind->elem);
        c->n++;
        c->in_item = true;
        c->seen = 0;
        return 0;
    }
    if (!c->in_item || w->depth < 5)
        return 0;
    if (w->depth == 5 && is_item && np_aws_xw_up_is(w, 1, "tagSet")) {
        tag_acc_reset(&c->tag);
        c->tag.active = true;
        return 0;
    }
    return c->kind->start ? c->kind->start(w, list_item(c), &c->seen, name) : 0;
}

static int list_end(struct np_aws_xw *w, const char *name, const char *text)
{
    struct list_ctx *c = w->ctx;
    char *item = list_item(c);
    if (w->depth == 2 && strcmp(name, "nextToken") == 0) {
        np_aws_xml_set_str(&c->next_token, text);
        return 0;
    }
    if (!item || w->depth < 3)
        return 0;
    if (c->tag.active && w->depth == 6) {
        if (strcmp(name, "key") == 0)
            np_aws_xml_set_str(&c->tag.key, text);
        else if (strcmp(name, "value") == 0)
            np_aws_xml_set_str(&c->tag.value, text);
        return 0;
    }
    if (c->tag.active && w->depth == 5 && strcmp(name, "item") == 0)
        return tag_acc_push(&c->tag, (struct np_aws_tag **)(void *)(item + c->kind->tags_off),
                            (size_t *)(void *)(item + c->kind->n_tags_off));
    if (w->depth == 3) {
        if (np_str_is_empty(*(char **)(void *)(item + c->kind->id_off)))
            return np_error_set(NP_EPARSE, "XML: a %s item has no %s", c->kind->set,
                                c->kind->id_name);
        c->in_item = false;
        return 0;
    }
    return c->kind->end(w, item, &c->seen, name, text);
}

int np_aws_xml_decode_list(const struct np_aws_xml_list *kind, const char *xml, size_t len,
                           void **items, size_t *n, char **next_token)
{
    struct list_ctx c;
    memset(&c, 0, sizeof(c));
    c.kind = kind;
    struct np_aws_xw w = {
        .root = kind->root, .on_start = list_start, .on_end = list_end, .ctx = &c};
    int rc = np_aws_xw_parse(&w, xml, len);
    tag_acc_reset(&c.tag);
    if (rc) {
        kind->free_items(c.items, c.n);
        free(c.next_token);
        return rc;
    }
    *items = c.items;
    *n = c.n;
    hand_token(next_token, c.next_token);
    return 0;
}

/* ---------------------------------------------------------------- DescribeVpcs */

static int vpc_end(struct np_aws_xw *w, void *item, unsigned *seen, const char *name,
                   const char *text)
{
    struct np_aws_vpc *v = item;
    (void)seen;
    if (w->depth != 4)
        return 0;
    if (strcmp(name, "vpcId") == 0)
        np_aws_xml_set_str(&v->vpc_id, text);
    else if (strcmp(name, "cidrBlock") == 0)
        np_aws_xml_set_str(&v->cidr_block, text);
    else if (strcmp(name, "state") == 0)
        np_aws_xml_set_str(&v->state, text);
    else if (strcmp(name, "ownerId") == 0)
        np_aws_xml_set_str(&v->owner_id, text);
    else if (strcmp(name, "isDefault") == 0)
        return np_aws_xml_parse_bool(text, "isDefault", &v->is_default);
    return 0;
}

static void free_vpcs(void *items, size_t n)
{
    np_aws_vpcs_free(items, n);
}

const struct np_aws_xml_list np_aws_xml_vpcs = {
    .root = "DescribeVpcsResponse",
    .set = "vpcSet",
    .id_name = "vpcId",
    .elem = sizeof(struct np_aws_vpc),
    .id_off = offsetof(struct np_aws_vpc, vpc_id),
    .tags_off = offsetof(struct np_aws_vpc, tags),
    .n_tags_off = offsetof(struct np_aws_vpc, n_tags),
    .end = vpc_end,
    .free_items = free_vpcs,
};

int np_aws_xml_decode_vpc_page(const char *xml, size_t len, struct np_aws_vpc **vpcs, size_t *n,
                               char **next_token)
{
    void *items = NULL;
    int rc = np_aws_xml_decode_list(&np_aws_xml_vpcs, xml, len, &items, n, next_token);
    if (rc == 0)
        *vpcs = items;
    return rc;
}

/* ---------------------------------------------------------------- single values */

struct one_ctx {
    const char *parent; /* required parent element name, NULL: the root */
    const char *names[3];
    char *values[3];
};

static int one_end(struct np_aws_xw *w, const char *name, const char *text)
{
    struct one_ctx *c = w->ctx;
    bool placed = c->parent ? (w->depth == 3 && np_aws_xw_up_is(w, 1, c->parent)) : w->depth == 2;
    if (!placed)
        return 0;
    for (size_t i = 0; i < NP_ARRAY_LEN(c->names); i++)
        if (c->names[i] && strcmp(name, c->names[i]) == 0)
            np_aws_xml_set_str(&c->values[i], text);
    return 0;
}

static void one_free(struct one_ctx *c)
{
    for (size_t i = 0; i < NP_ARRAY_LEN(c->values); i++)
        free(c->values[i]);
}

int np_aws_xml_decode_value(const char *xml, size_t len, const char *root, const char *parent,
                            const char *name, char **value)
{
    struct one_ctx c = {.parent = parent, .names = {name, NULL, NULL}};
    struct np_aws_xw w = {.root = root, .on_end = one_end, .ctx = &c};
    int rc = np_aws_xw_parse(&w, xml, len);
    if (rc == 0 && np_str_is_empty(c.values[0]))
        rc = np_error_set(NP_EPARSE, "XML: %s has no %s%s%s", root, parent ? parent : "",
                          parent ? "/" : "", name);
    if (rc == 0) {
        *value = c.values[0];
        c.values[0] = NULL;
    }
    one_free(&c);
    return rc;
}

int np_aws_xml_decode_create_sg(const char *xml, size_t len, char **group_id)
{
    return np_aws_xml_decode_value(xml, len, "CreateSecurityGroupResponse", NULL, "groupId",
                                   group_id);
}

int np_aws_xml_decode_caller_identity(const char *xml, size_t len, char **account, char **arn,
                                      char **user_id)
{
    struct one_ctx c = {.parent = "GetCallerIdentityResult", .names = {"Account", "Arn", "UserId"}};
    struct np_aws_xw w = {.root = "GetCallerIdentityResponse", .on_end = one_end, .ctx = &c};
    int rc = np_aws_xw_parse(&w, xml, len);
    if (rc == 0 && (np_str_is_empty(c.values[0]) || np_str_is_empty(c.values[1])))
        rc = np_error_set(NP_EPARSE, "XML: GetCallerIdentityResult has no Account or Arn");
    if (rc == 0) {
        char **outs[3] = {account, arn, user_id};
        for (size_t i = 0; i < 3; i++) {
            if (outs[i]) {
                *outs[i] = c.values[i];
                c.values[i] = NULL;
            }
        }
    }
    one_free(&c);
    return rc;
}

/* STS credentials: <Action>Response/<Action>Result/{Credentials/{AccessKeyId, SecretAccessKey,
 * SessionToken, Expiration}, AssumedRoleUser/Arn}. */
struct sts_ctx {
    char *values[5]; /* the four of Credentials, then the role's Arn */
};

static int sts_end(struct np_aws_xw *w, const char *name, const char *text)
{
    static const char *const names[] = {"AccessKeyId", "SecretAccessKey", "SessionToken",
                                        "Expiration"};
    struct sts_ctx *c = w->ctx;
    if (w->depth != 4)
        return 0;
    if (np_aws_xw_up_is(w, 1, "AssumedRoleUser") && strcmp(name, "Arn") == 0)
        np_aws_xml_set_str(&c->values[4], text);
    if (!np_aws_xw_up_is(w, 1, "Credentials"))
        return 0;
    for (size_t i = 0; i < NP_ARRAY_LEN(names); i++)
        if (strcmp(name, names[i]) == 0)
            np_aws_xml_set_str(&c->values[i], text);
    return 0;
}

static int sts_result(struct sts_ctx *c, const char *action, struct np_aws_credentials *creds,
                      int64_t *expires_ms, char **arn)
{
    static const char *const what[] = {"AccessKeyId", "SecretAccessKey", "SessionToken",
                                       "Expiration"};
    for (size_t i = 0; i < NP_ARRAY_LEN(what); i++)
        if (np_str_is_empty(c->values[i]))
            return np_error_set(NP_EPARSE, "XML: %sResult has no Credentials/%s", action, what[i]);
    if (np_time_parse_rfc3339(c->values[3], expires_ms) != 0)
        return np_error_set(NP_EPARSE, "XML: %sResult: Expiration \"%.40s\" is not a time", action,
                            c->values[3]);
    int rc = np_aws_credentials_set(creds, c->values[0], c->values[1], c->values[2]);
    if (rc == 0 && arn) {
        *arn = c->values[4];
        c->values[4] = NULL;
    }
    return rc;
}

int np_aws_xml_decode_sts_credentials(const char *xml, size_t len, const char *action,
                                      struct np_aws_credentials *creds, int64_t *expires_ms,
                                      char **arn)
{
    char root[96];
    struct sts_ctx c;
    memset(&c, 0, sizeof(c));
    memset(creds, 0, sizeof(*creds));
    if (arn)
        *arn = NULL;
    snprintf(root, sizeof(root), "%sResponse", action);
    struct np_aws_xw w = {.root = root, .on_end = sts_end, .ctx = &c};
    int rc = np_aws_xw_parse(&w, xml, len);
    if (rc == 0)
        rc = sts_result(&c, action, creds, expires_ms, arn);
    for (size_t i = 0; i < NP_ARRAY_LEN(c.values); i++) {
        if (c.values[i])
            OPENSSL_cleanse(c.values[i], strlen(c.values[i]));
        free(c.values[i]);
    }
    return rc;
}

struct ret_ctx {
    bool has_return;
    bool ret;
    size_t n_unknown;
};

static int ret_end(struct np_aws_xw *w, const char *name, const char *text)
{
    struct ret_ctx *c = w->ctx;
    if (w->depth == 2 && strcmp(name, "return") == 0) {
        c->has_return = true;
        return np_aws_xml_parse_bool(text, "return", &c->ret);
    }
    if (w->depth == 3 && strcmp(name, "item") == 0 &&
        np_aws_xw_up_is(w, 1, "unknownIpPermissionSet"))
        c->n_unknown++;
    return 0;
}

int np_aws_xml_decode_return(const char *xml, size_t len, const char *expected_root, bool *ret,
                             bool *has_return, size_t *n_unknown)
{
    struct ret_ctx c = {false, false, 0};
    struct np_aws_xw w = {.root = expected_root, .on_end = ret_end, .ctx = &c};
    int rc = np_aws_xw_parse(&w, xml, len);
    if (rc)
        return rc;
    if (ret)
        *ret = c.ret;
    if (has_return)
        *has_return = c.has_return;
    if (n_unknown)
        *n_unknown = c.n_unknown;
    return 0;
}

/* ---------------------------------------------------------------- SQS */

struct sqs_msg_ctx {
    struct np_aws_sqs_message *msgs;
    size_t n, cap;
    bool in_msg;
    char *md5;
    char *attr_name;
    char *attr_value;
};

/* True when hex is the lowercase or uppercase MD5 of s, or when MD5 is unavailable (FIPS). */
static bool md5_matches(const char *s, const char *hex)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    char want[2 * EVP_MAX_MD_SIZE + 1];
    if (EVP_Digest(s, strlen(s), md, &md_len, EVP_md5(), NULL) != 1)
        return true;
    np_hex_encode(want, md, md_len);
    return strlen(hex) == 2 * (size_t)md_len && strncasecmp(want, hex, 2 * (size_t)md_len) == 0;
}

static int sqs_msg_start(struct np_aws_xw *w, const char *name)
{
    struct sqs_msg_ctx *c = w->ctx;
    if (w->depth == 3 && strcmp(name, "Message") == 0 &&
        np_aws_xw_up_is(w, 1, "ReceiveMessageResult")) {
        c->msgs = grow(c->msgs, &c->cap, c->n, sizeof(*c->msgs));
        memset(&c->msgs[c->n], 0, sizeof(c->msgs[c->n]));
        c->n++;
        c->in_msg = true;
        free(c->md5);
        c->md5 = NULL;
    } else if (c->in_msg && w->depth == 4 && strcmp(name, "Attribute") == 0) {
        free(c->attr_name);
        free(c->attr_value);
        c->attr_name = c->attr_value = NULL;
    }
    return 0;
}

static int sqs_attribute(struct sqs_msg_ctx *c, struct np_aws_sqs_message *m)
{
    int64_t v = 0;
    if (!c->attr_name || !c->attr_value)
        return 0;
    /* A malformed attribute of one message is left unknown (0): it must not fail the batch. */
    if (strcmp(c->attr_name, "ApproximateReceiveCount") == 0) {
        if (np_parse_int64(c->attr_value, 0, INT_MAX, &v) == 0)
            m->receive_count = (int)v;
    } else if (strcmp(c->attr_name, "SentTimestamp") == 0) {
        if (np_parse_int64(c->attr_value, 0, INT64_MAX, &v) == 0)
            m->sent_ms = v;
    }
    return 0;
}

static int sqs_msg_end(struct np_aws_xw *w, const char *name, const char *text)
{
    struct sqs_msg_ctx *c = w->ctx;
    if (!c->in_msg)
        return 0;
    struct np_aws_sqs_message *m = &c->msgs[c->n - 1];
    if (w->depth == 5 && np_aws_xw_up_is(w, 1, "Attribute")) {
        if (strcmp(name, "Name") == 0)
            np_aws_xml_set_str(&c->attr_name, text);
        else if (strcmp(name, "Value") == 0)
            np_aws_xml_set_str(&c->attr_value, text);
    } else if (w->depth == 4) {
        if (strcmp(name, "MessageId") == 0)
            np_aws_xml_set_str(&m->message_id, text);
        else if (strcmp(name, "ReceiptHandle") == 0)
            np_aws_xml_set_str(&m->receipt_handle, text);
        else if (strcmp(name, "Body") == 0)
            np_aws_xml_set_str(&m->body, text);
        else if (strcmp(name, "MD5OfBody") == 0)
            np_aws_xml_set_str(&c->md5, text);
        else if (strcmp(name, "Attribute") == 0)
            return sqs_attribute(c, m);
    } else if (w->depth == 3 && strcmp(name, "Message") == 0) {
        c->in_msg = false;
        /* One bad message never fails the batch: without a receipt handle it cannot be
         * deleted and is left out; a body that does not match MD5OfBody is kept, marked
         * corrupt, for the consumer to count and delete. */
        if (np_str_is_empty(m->receipt_handle)) {
            free(m->message_id);
            free(m->body);
            c->n--;
            return 0;
        }
        if (!m->message_id)
            m->message_id = np_strdup("");
        if (!m->body)
            m->body = np_strdup("");
        if (!np_str_is_empty(c->md5) && !md5_matches(m->body, c->md5))
            m->corrupt = true;
    }
    return 0;
}

int np_aws_xml_decode_sqs_messages(const char *xml, size_t len, struct np_aws_sqs_message **msgs,
                                   size_t *n)
{
    struct sqs_msg_ctx c;
    memset(&c, 0, sizeof(c));
    struct np_aws_xw w = {.root = "ReceiveMessageResponse",
                          .on_start = sqs_msg_start,
                          .on_end = sqs_msg_end,
                          .ctx = &c};
    int rc = np_aws_xw_parse(&w, xml, len);
    free(c.md5);
    free(c.attr_name);
    free(c.attr_value);
    if (rc) {
        np_aws_sqs_messages_free(c.msgs, c.n);
        return rc;
    }
    if (c.n == 0) {
        free(c.msgs);
        c.msgs = NULL;
    }
    *msgs = c.msgs;
    *n = c.n;
    return 0;
}

struct sqs_attr_ctx {
    const char *want;
    char *name;
    char *value;
    char *found;
};

static int sqs_attr_end(struct np_aws_xw *w, const char *name, const char *text)
{
    struct sqs_attr_ctx *c = w->ctx;
    if (w->depth == 4 && np_aws_xw_up_is(w, 1, "Attribute") &&
        np_aws_xw_up_is(w, 2, "GetQueueAttributesResult")) {
        if (strcmp(name, "Name") == 0)
            np_aws_xml_set_str(&c->name, text);
        else if (strcmp(name, "Value") == 0)
            np_aws_xml_set_str(&c->value, text);
    } else if (w->depth == 3 && strcmp(name, "Attribute") == 0) {
        if (np_str_eq(c->name, c->want) && c->value && !c->found) {
            c->found = c->value;
            c->value = NULL;
        }
        free(c->name);
        free(c->value);
        c->name = c->value = NULL;
    }
    return 0;
}

int np_aws_xml_decode_sqs_attribute(const char *xml, size_t len, const char *name, char **value)
{
    struct sqs_attr_ctx c = {name, NULL, NULL, NULL};
    struct np_aws_xw w = {.root = "GetQueueAttributesResponse", .on_end = sqs_attr_end, .ctx = &c};
    int rc = np_aws_xw_parse(&w, xml, len);
    free(c.name);
    free(c.value);
    if (rc) {
        free(c.found);
        return rc;
    }
    *value = c.found;
    return 0;
}
