/*
 * Lifecycle of the values pkg/aws hands out: tags, atomic permissions, security groups, VPCs
 * and the VPC pieces (subnets, route tables, network ACLs, flow logs) (clean_up / free / deep
 * copy), and the rule-identity comparison used for dedupe.
 */
#include "aws/aws.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void np_aws_tags_free(struct np_aws_tag *tags, size_t n)
{
    for (size_t i = 0; tags && i < n; i++) {
        free(tags[i].key);
        free(tags[i].value);
    }
    free(tags);
}

struct np_aws_tag *np_aws_tags_dup(const struct np_aws_tag *tags, size_t n)
{
    if (!tags || n == 0)
        return NULL;
    struct np_aws_tag *out = np_xcalloc(n, sizeof(*out));
    for (size_t i = 0; i < n; i++) {
        out[i].key = np_strdup(tags[i].key);
        out[i].value = np_strdup(tags[i].value);
    }
    return out;
}

void np_aws_perm_clean_up(struct np_aws_perm *p)
{
    if (!p)
        return;
    free(p->protocol);
    free(p->peer);
    free(p->user_id);
    free(p->description);
    memset(p, 0, sizeof(*p));
}

void np_aws_perms_free(struct np_aws_perm *perms, size_t n)
{
    for (size_t i = 0; perms && i < n; i++)
        np_aws_perm_clean_up(&perms[i]);
    free(perms);
}

void np_aws_perm_copy(struct np_aws_perm *dst, const struct np_aws_perm *src)
{
    *dst = *src;
    dst->protocol = np_strdup(src->protocol);
    dst->peer = np_strdup(src->peer);
    dst->user_id = np_strdup(src->user_id);
    dst->description = np_strdup(src->description);
}

static struct np_aws_perm *perms_dup(const struct np_aws_perm *perms, size_t n)
{
    if (!perms || n == 0)
        return NULL;
    struct np_aws_perm *out = np_xcalloc(n, sizeof(*out));
    for (size_t i = 0; i < n; i++)
        np_aws_perm_copy(&out[i], &perms[i]);
    return out;
}

bool np_aws_perm_is_same_rule(const struct np_aws_perm *a, const struct np_aws_perm *b)
{
    if (!a->protocol || !b->protocol || strcasecmp(a->protocol, b->protocol) != 0)
        return false;
    if (a->has_ports != b->has_ports)
        return false;
    if (a->has_ports && (a->from_port != b->from_port || a->to_port != b->to_port))
        return false;
    return a->peer_kind == b->peer_kind && np_str_eq(a->peer, b->peer) &&
           np_str_eq(a->user_id, b->user_id);
}

void np_aws_sg_clean_up(struct np_aws_sg *sg)
{
    if (!sg)
        return;
    free(sg->group_id);
    free(sg->group_name);
    free(sg->description);
    free(sg->vpc_id);
    free(sg->owner_id);
    np_aws_tags_free(sg->tags, sg->n_tags);
    np_aws_perms_free(sg->ingress, sg->n_ingress);
    np_aws_perms_free(sg->egress, sg->n_egress);
    memset(sg, 0, sizeof(*sg));
}

void np_aws_sg_free(struct np_aws_sg *sg)
{
    np_aws_sg_clean_up(sg);
    free(sg);
}

void np_aws_sgs_free(struct np_aws_sg *sgs, size_t n)
{
    for (size_t i = 0; sgs && i < n; i++)
        np_aws_sg_clean_up(&sgs[i]);
    free(sgs);
}

struct np_aws_sg *np_aws_sg_dup(const struct np_aws_sg *src)
{
    if (!src)
        return NULL;
    struct np_aws_sg *sg = np_xcalloc(1, sizeof(*sg));
    sg->group_id = np_strdup(src->group_id);
    sg->group_name = np_strdup(src->group_name);
    sg->description = np_strdup(src->description);
    sg->vpc_id = np_strdup(src->vpc_id);
    sg->owner_id = np_strdup(src->owner_id);
    sg->tags = np_aws_tags_dup(src->tags, src->n_tags);
    sg->n_tags = sg->tags ? src->n_tags : 0;
    sg->ingress = perms_dup(src->ingress, src->n_ingress);
    sg->n_ingress = sg->ingress ? src->n_ingress : 0;
    sg->egress = perms_dup(src->egress, src->n_egress);
    sg->n_egress = sg->egress ? src->n_egress : 0;
    return sg;
}

/* Lays out a packed copy: measuring (base NULL: only off grows), then writing into base. */
struct packer {
    char *base;
    size_t off;
};

static size_t pack_reserve(struct packer *p, size_t n, size_t align)
{
    p->off = (p->off + align - 1) / align * align;
    size_t at = p->off;
    p->off += n;
    return at;
}

/* count elements of size bytes, aligned for any type; NULL when measuring or count is 0. */
static void *pack_array(struct packer *p, size_t count, size_t size)
{
    if (count == 0)
        return NULL;
    size_t at = pack_reserve(p, count * size, _Alignof(max_align_t));
    return p->base ? memset(p->base + at, 0, count * size) : NULL;
}

static char *pack_str(struct packer *p, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1, at = pack_reserve(p, n, 1);
    return p->base ? memcpy(p->base + at, s, n) : NULL;
}

static void pack_perms(struct packer *p, struct np_aws_perm *dst, const struct np_aws_perm *src,
                       size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct np_aws_perm scratch = {0}, *d = dst ? &dst[i] : &scratch;
        *d = src[i];
        d->protocol = pack_str(p, src[i].protocol);
        d->peer = pack_str(p, src[i].peer);
        d->user_id = pack_str(p, src[i].user_id);
        d->description = pack_str(p, src[i].description);
    }
}

static struct np_aws_sg *pack_sg(struct packer *p, const struct np_aws_sg *src)
{
    struct np_aws_sg scratch = {0}, *sg = pack_array(p, 1, sizeof(*sg));
    struct np_aws_sg *d = sg ? sg : &scratch;
    size_t n_tags = src->tags ? src->n_tags : 0, n_in = src->ingress ? src->n_ingress : 0,
           n_eg = src->egress ? src->n_egress : 0;
    d->tags = pack_array(p, n_tags, sizeof(*d->tags));
    d->ingress = pack_array(p, n_in, sizeof(*d->ingress));
    d->egress = pack_array(p, n_eg, sizeof(*d->egress));
    d->n_tags = n_tags;
    d->n_ingress = n_in;
    d->n_egress = n_eg;
    d->group_id = pack_str(p, src->group_id);
    d->group_name = pack_str(p, src->group_name);
    d->description = pack_str(p, src->description);
    d->vpc_id = pack_str(p, src->vpc_id);
    d->owner_id = pack_str(p, src->owner_id);
    for (size_t i = 0; i < n_tags; i++) {
        struct np_aws_tag t = {pack_str(p, src->tags[i].key), pack_str(p, src->tags[i].value)};
        if (d->tags)
            d->tags[i] = t;
    }
    pack_perms(p, d->ingress, src->ingress, n_in);
    pack_perms(p, d->egress, src->egress, n_eg);
    return sg;
}

struct np_aws_sg *np_aws_sg_pack(const struct np_aws_sg *src)
{
    if (!src)
        return NULL;
    struct packer measure = {0};
    pack_sg(&measure, src);
    struct packer write = {np_xcalloc(1, measure.off), 0};
    return pack_sg(&write, src);
}

void np_aws_vpc_clean_up(struct np_aws_vpc *vpc)
{
    if (!vpc)
        return;
    free(vpc->vpc_id);
    free(vpc->cidr_block);
    free(vpc->state);
    free(vpc->owner_id);
    np_aws_tags_free(vpc->tags, vpc->n_tags);
    memset(vpc, 0, sizeof(*vpc));
}

void np_aws_vpcs_free(struct np_aws_vpc *vpcs, size_t n)
{
    for (size_t i = 0; vpcs && i < n; i++)
        np_aws_vpc_clean_up(&vpcs[i]);
    free(vpcs);
}

/* ---------------------------------------------------------------- VPC pieces */

static void subnet_clean_up(struct np_aws_subnet *s)
{
    free(s->subnet_id);
    free(s->vpc_id);
    free(s->cidr_block);
    free(s->availability_zone);
    free(s->state);
    np_aws_tags_free(s->tags, s->n_tags);
    memset(s, 0, sizeof(*s));
}

void np_aws_subnets_free(struct np_aws_subnet *s, size_t n)
{
    for (size_t i = 0; s && i < n; i++)
        subnet_clean_up(&s[i]);
    free(s);
}

void np_aws_route_clean_up(struct np_aws_route *r)
{
    if (!r)
        return;
    free(r->destination);
    free(r->target);
    free(r->origin);
    free(r->state);
    memset(r, 0, sizeof(*r));
}

static void route_table_clean_up(struct np_aws_route_table *t)
{
    free(t->route_table_id);
    free(t->vpc_id);
    for (size_t i = 0; t->routes && i < t->n_routes; i++)
        np_aws_route_clean_up(&t->routes[i]);
    free(t->routes);
    for (size_t i = 0; t->assocs && i < t->n_assocs; i++) {
        free(t->assocs[i].association_id);
        free(t->assocs[i].subnet_id);
    }
    free(t->assocs);
    np_aws_tags_free(t->tags, t->n_tags);
    memset(t, 0, sizeof(*t));
}

void np_aws_route_tables_free(struct np_aws_route_table *t, size_t n)
{
    for (size_t i = 0; t && i < n; i++)
        route_table_clean_up(&t[i]);
    free(t);
}

void np_aws_nacl_entry_clean_up(struct np_aws_nacl_entry *e)
{
    if (!e)
        return;
    free(e->protocol);
    free(e->cidr);
    free(e->ipv6_cidr);
    memset(e, 0, sizeof(*e));
}

static void nacl_clean_up(struct np_aws_nacl *a)
{
    free(a->network_acl_id);
    free(a->vpc_id);
    for (size_t i = 0; a->entries && i < a->n_entries; i++)
        np_aws_nacl_entry_clean_up(&a->entries[i]);
    free(a->entries);
    for (size_t i = 0; a->assocs && i < a->n_assocs; i++) {
        free(a->assocs[i].association_id);
        free(a->assocs[i].subnet_id);
    }
    free(a->assocs);
    np_aws_tags_free(a->tags, a->n_tags);
    memset(a, 0, sizeof(*a));
}

void np_aws_nacls_free(struct np_aws_nacl *a, size_t n)
{
    for (size_t i = 0; a && i < n; i++)
        nacl_clean_up(&a[i]);
    free(a);
}

static void flow_log_clean_up(struct np_aws_flow_log *f)
{
    free(f->flow_log_id);
    free(f->resource_id);
    free(f->traffic_type);
    free(f->log_destination_type);
    free(f->log_destination);
    free(f->log_group_name);
    free(f->deliver_logs_permission_arn);
    free(f->flow_log_status);
    np_aws_tags_free(f->tags, f->n_tags);
    memset(f, 0, sizeof(*f));
}

void np_aws_flow_logs_free(struct np_aws_flow_log *f, size_t n)
{
    for (size_t i = 0; f && i < n; i++)
        flow_log_clean_up(&f[i]);
    free(f);
}

const char *np_aws_tag_get(const struct np_aws_tag *tags, size_t n, const char *key)
{
    for (size_t i = 0; tags && i < n; i++)
        if (tags[i].key && strcmp(tags[i].key, key) == 0)
            return tags[i].value;
    return NULL;
}
