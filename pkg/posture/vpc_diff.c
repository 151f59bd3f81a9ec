/*
 * VPC posture diff: a VPCPosture's declared attributes, tags, subnets, routes, network ACL
 * entries, associations, flow logs and default-security-group restriction against what the
 * controller observed (normalised to the same canonical forms first), as drift items that
 * carry np_posture_vpc_drift; plus the canonical forms and copies of routes and entries.
 */
#include "posture/private/posture_private.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---------------------------------------------------------------- canonical forms */

int np_posture_route_dest_canonical(char **out, enum np_posture_route_dest kind, const char *in)
{
    *out = NULL;
    if (kind == NP_POSTURE_DEST_CIDR4 || kind == NP_POSTURE_DEST_CIDR6)
        return np_posture_cidr_canonical(out, in, kind == NP_POSTURE_DEST_CIDR6);
    *out = np_strdup(in ? in : "");
    np_posture_lower(*out);
    return 0;
}

char *np_posture_route_target_canonical(enum np_posture_route_target kind, const char *in)
{
    char *out = np_strdup(in ? in : "");
    if (kind != NP_POSTURE_ROUTE_CORE_NETWORK)
        np_posture_lower(out);
    return out;
}

void np_posture_nacl_entry_ranges(struct np_posture_nacl_entry *e, bool has_ports, int from, int to,
                                  bool has_icmp, int type, int code)
{
    bool tcp_udp =
        np_posture_protocol_has_ports(e->protocol) && !np_posture_protocol_is_icmp(e->protocol);
    bool icmp = np_posture_protocol_is_icmp(e->protocol);
    e->from_port = tcp_udp && has_ports ? from : -1;
    e->to_port = tcp_udp && has_ports ? to : -1;
    e->icmp_type = icmp && has_icmp ? type : -1;
    e->icmp_code = icmp && has_icmp && type != -1 ? code : -1;
}

int np_posture_route_identity_cmp(const struct np_posture_route *a,
                                  const struct np_posture_route *b)
{
    if (a->dest_kind != b->dest_kind)
        return a->dest_kind < b->dest_kind ? -1 : 1;
    return strcmp(a->destination ? a->destination : "", b->destination ? b->destination : "");
}

int np_posture_nacl_entry_identity_cmp(const struct np_posture_nacl_entry *a,
                                       const struct np_posture_nacl_entry *b)
{
    if (a->egress != b->egress)
        return a->egress ? 1 : -1;
    return a->rule_number < b->rule_number ? -1 : a->rule_number > b->rule_number;
}

static int route_qcmp(const void *x, const void *y)
{
    return np_posture_route_identity_cmp(x, y);
}

static int entry_qcmp(const void *x, const void *y)
{
    return np_posture_nacl_entry_identity_cmp(x, y);
}

/* ---------------------------------------------------------------- copies */

void np_posture_route_clean_up(struct np_posture_route *r)
{
    free(r->destination);
    free(r->target);
    memset(r, 0, sizeof(*r));
}

void np_posture_route_copy(struct np_posture_route *dst, const struct np_posture_route *src)
{
    *dst = *src;
    dst->destination = np_strdup(src->destination);
    dst->target = np_strdup(src->target);
}

void np_posture_nacl_entry_clean_up(struct np_posture_nacl_entry *e)
{
    free(e->protocol);
    free(e->cidr);
    memset(e, 0, sizeof(*e));
}

void np_posture_nacl_entry_copy(struct np_posture_nacl_entry *dst,
                                const struct np_posture_nacl_entry *src)
{
    *dst = *src;
    dst->protocol = np_strdup(src->protocol);
    dst->cidr = np_strdup(src->cidr);
}

void np_posture_vpc_drift_free(struct np_posture_vpc_drift *v)
{
    if (!v)
        return;
    free(v->piece);
    free(v->resource_id);
    free(v->key);
    np_posture_route_clean_up(&v->route);
    np_posture_route_clean_up(&v->have_route);
    np_posture_nacl_entry_clean_up(&v->entry);
    np_posture_nacl_entry_clean_up(&v->have_entry);
    free(v->subnet_id);
    free(v->association_id);
    free(v->target_id);
    free(v);
}

struct np_posture_vpc_drift *np_posture_vpc_drift_dup(const struct np_posture_vpc_drift *v)
{
    if (!v)
        return NULL;
    struct np_posture_vpc_drift *c = np_xcalloc(1, sizeof(*c));
    c->item = v->item;
    c->piece = np_strdup(v->piece);
    c->piece_kind = v->piece_kind;
    c->piece_index = v->piece_index;
    c->resource_id = np_strdup(v->resource_id);
    c->key = np_strdup(v->key);
    c->value = v->value;
    np_posture_route_copy(&c->route, &v->route);
    np_posture_route_copy(&c->have_route, &v->have_route);
    np_posture_nacl_entry_copy(&c->entry, &v->entry);
    np_posture_nacl_entry_copy(&c->have_entry, &v->have_entry);
    c->subnet_id = np_strdup(v->subnet_id);
    c->association_id = np_strdup(v->association_id);
    c->target_id = np_strdup(v->target_id);
    return c;
}

/* ---------------------------------------------------------------- observed */

/* An AWS id comparison: ids are lowercase hex, but a caller may not have canonicalised. */
static bool id_eq(const char *a, const char *b)
{
    return a && b && strcasecmp(a, b) == 0;
}

/* Whether a raw route is AWS's or another service's, never drift: the local route, propagated
 * routes (origin other than CreateRoute; an absent origin counts as CreateRoute). */
static bool route_ignored(const struct np_posture_raw_route *r)
{
    if (r->origin && strcmp(r->origin, "CreateRoute") != 0)
        return true;
    return r->has_target && r->target_kind == NP_POSTURE_ROUTE_GATEWAY && r->target &&
           strcasecmp(r->target, "local") == 0;
}

/* The canonical routes of an observed table (owned array), sorted and unique. */
static struct np_posture_route *observed_routes(const struct np_posture_route_table_observed *o,
                                                size_t *n)
{
    struct np_posture_route *out = np_xcalloc(o->n_routes ? o->n_routes : 1, sizeof(*out));
    *n = 0;
    for (size_t i = 0; i < o->n_routes; i++) {
        const struct np_posture_raw_route *raw = &o->routes[i];
        if (route_ignored(raw))
            continue;
        struct np_posture_route *r = &out[(*n)++];
        r->dest_kind = raw->dest_kind;
        if (np_posture_route_dest_canonical(&r->destination, raw->dest_kind, raw->destination)) {
            r->destination = np_strdup(raw->destination ? raw->destination : "");
            np_posture_lower(r->destination);
        }
        if (raw->has_target) {
            r->target_kind = raw->target_kind;
            r->target = np_posture_route_target_canonical(raw->target_kind, raw->target);
        }
    }
    qsort(out, *n, sizeof(*out), route_qcmp);
    size_t w = 0;
    for (size_t i = 0; i < *n; i++) {
        if (w > 0 && np_posture_route_identity_cmp(&out[w - 1], &out[i]) == 0)
            np_posture_route_clean_up(&out[i]);
        else
            out[w++] = out[i];
    }
    *n = w;
    return out;
}

/* Canonical CIDR of an observed value; verbatim and lower-cased when it does not parse. */
static char *observed_cidr(const char *in, bool ipv6)
{
    char *out = NULL;
    if (np_posture_cidr_canonical(&out, in, ipv6) == 0)
        return out;
    out = np_strdup(in ? in : "");
    np_posture_lower(out);
    return out;
}

struct np_posture_nacl_entry *
np_posture_vpc_observed_entries(const struct np_posture_network_acl_observed *o, size_t *n)
{
    struct np_posture_nacl_entry *out = np_xcalloc(o->n_entries ? o->n_entries : 1, sizeof(*out));
    *n = 0;
    for (size_t i = 0; i < o->n_entries; i++) {
        const struct np_posture_raw_nacl_entry *raw = &o->entries[i];
        if (raw->rule_number >= 32767)
            continue;
        struct np_posture_nacl_entry *e = &out[(*n)++];
        char proto[8];
        e->rule_number = raw->rule_number;
        e->egress = raw->egress;
        e->allow = raw->allow;
        if (np_posture_protocol_canonical(raw->protocol, proto) == 0) {
            e->protocol = np_strdup(proto);
        } else {
            e->protocol = np_strdup(raw->protocol ? raw->protocol : "");
            np_posture_lower(e->protocol);
        }
        e->ipv6 = raw->cidr == NULL && raw->ipv6_cidr != NULL;
        e->cidr = observed_cidr(e->ipv6 ? raw->ipv6_cidr : raw->cidr, e->ipv6);
        np_posture_nacl_entry_ranges(e, raw->has_ports, raw->from_port, raw->to_port, raw->has_icmp,
                                     raw->icmp_type, raw->icmp_code);
    }
    qsort(out, *n, sizeof(*out), entry_qcmp);
    size_t w = 0;
    for (size_t i = 0; i < *n; i++) {
        if (w > 0 && np_posture_nacl_entry_identity_cmp(&out[w - 1], &out[i]) == 0)
            np_posture_nacl_entry_clean_up(&out[i]);
        else
            out[w++] = out[i];
    }
    *n = w;
    return out;
}

/* ---------------------------------------------------------------- items */

/* The piece being diffed: every item added gets these. */
struct vpc_diff {
    struct np_posture_delta *out;
    const struct np_posture_vpc_spec *spec;
    const struct np_posture_vpc_observed *obs;
    const char *piece;
    enum np_posture_vpc_piece piece_kind;
    int index;
    const char *resource_id;
};

static struct np_posture_vpc_drift *new_vpc(const struct vpc_diff *c, enum np_posture_vpc_item item)
{
    struct np_posture_vpc_drift *v = np_xcalloc(1, sizeof(*v));
    v->item = item;
    v->piece = np_strdup(c->piece);
    v->piece_kind = c->piece_kind;
    v->piece_index = c->index;
    v->resource_id = np_strdup(c->resource_id);
    return v;
}

/* Appends an item of the current piece (owned by the delta; valid until the next append). */
static struct np_posture_drift *add_item(const struct vpc_diff *c, enum np_posture_change change,
                                         enum np_posture_vpc_item item)
{
    struct np_posture_drift *d = np_posture_delta_add(c->out);
    d->change = change;
    d->vpc = new_vpc(c, item);
    return d;
}

static void add_missing_piece(const struct vpc_diff *c, char *summary)
{
    add_item(c, NP_POSTURE_MISSING, NP_POSTURE_VPC_ITEM_PIECE)->vpc->key = summary;
}

static void diff_attribute(const struct vpc_diff *c, const char *name, bool declared, bool want,
                           bool have)
{
    if (!declared || want == have)
        return;
    struct np_posture_drift *d = add_item(c, NP_POSTURE_CHANGED, NP_POSTURE_VPC_ITEM_ATTRIBUTE);
    d->vpc->key = np_strdup(name);
    d->vpc->value = want;
}

static void diff_piece_tags(const struct vpc_diff *c, const struct np_posture_tag *want,
                            size_t n_want, const struct np_posture_tag *have, size_t n_have)
{
    size_t first = c->out->n;
    np_posture_diff_tags(c->out, want, n_want, have, n_have, c->spec->ownership);
    for (size_t i = first; i < c->out->n; i++)
        c->out->items[i].vpc = new_vpc(c, NP_POSTURE_VPC_ITEM_TAG);
}

/*
 * A merge walk of two arrays sorted by cmp (element size size): visit gets (want, NULL) for a
 * declared element AWS lacks, (NULL, have) for an undeclared one, and both for the same
 * identity.
 */
static void merge_walk(const struct vpc_diff *c, const void *want, size_t n_want, const void *have,
                       size_t n_have, size_t size, int (*cmp)(const void *, const void *),
                       void (*visit)(const struct vpc_diff *c, const void *w, const void *h))
{
    const char *w = want, *h = have;
    size_t i = 0, j = 0;
    while (i < n_want || j < n_have) {
        int k = i >= n_want ? 1 : j >= n_have ? -1 : cmp(w + i * size, h + j * size);
        visit(c, k <= 0 ? w + i * size : NULL, k >= 0 ? h + j * size : NULL);
        if (k <= 0)
            i++;
        if (k >= 0)
            j++;
    }
}

static void visit_route(const struct vpc_diff *c, const void *w, const void *h)
{
    const struct np_posture_route *want = w, *have = h;
    struct np_posture_drift *d = NULL;
    if (want && have) {
        if (want->target_kind == have->target_kind && np_str_eq(want->target, have->target))
            return;
        d = add_item(c, NP_POSTURE_CHANGED, NP_POSTURE_VPC_ITEM_ROUTE);
        np_posture_route_copy(&d->vpc->have_route, have);
    } else if (want) {
        d = add_item(c, NP_POSTURE_MISSING, NP_POSTURE_VPC_ITEM_ROUTE);
    } else if (c->spec->ownership == NP_POSTURE_EXCLUSIVE) {
        d = add_item(c, NP_POSTURE_EXTRA, NP_POSTURE_VPC_ITEM_ROUTE);
    } else {
        return;
    }
    np_posture_route_copy(&d->vpc->route, want ? want : have);
    d->vpc->key = np_strdup(d->vpc->route.destination);
}

static bool entry_eq(const struct np_posture_nacl_entry *a, const struct np_posture_nacl_entry *b)
{
    return a->allow == b->allow && a->ipv6 == b->ipv6 && np_str_eq(a->protocol, b->protocol) &&
           np_str_eq(a->cidr, b->cidr) && a->from_port == b->from_port &&
           a->to_port == b->to_port && a->icmp_type == b->icmp_type && a->icmp_code == b->icmp_code;
}

char *np_posture_nacl_entry_key(const struct np_posture_nacl_entry *e)
{
    return np_strdupf("%s %d", e->egress ? "egress" : "ingress", e->rule_number);
}

static void visit_entry(const struct vpc_diff *c, const void *w, const void *h)
{
    const struct np_posture_nacl_entry *want = w, *have = h;
    struct np_posture_drift *d = NULL;
    if (want && have) {
        if (entry_eq(want, have))
            return;
        d = add_item(c, NP_POSTURE_CHANGED, NP_POSTURE_VPC_ITEM_NACL_ENTRY);
        np_posture_nacl_entry_copy(&d->vpc->have_entry, have);
    } else if (want) {
        d = add_item(c, NP_POSTURE_MISSING, NP_POSTURE_VPC_ITEM_NACL_ENTRY);
    } else if (c->spec->ownership == NP_POSTURE_EXCLUSIVE) {
        d = add_item(c, NP_POSTURE_EXTRA, NP_POSTURE_VPC_ITEM_NACL_ENTRY);
    } else {
        return;
    }
    np_posture_nacl_entry_copy(&d->vpc->entry, want ? want : have);
    d->vpc->key = np_posture_nacl_entry_key(&d->vpc->entry);
    /* The atomic rule an allow entry opens (what AWS has, else what is declared): exceptions
     * and guardrails match it. */
    np_posture_nacl_entry_rule(have ? have : want, &d->rule);
}

/* The observed subnet declared as spec.subnets[] name, or NULL when it has none yet. */
static const struct np_posture_subnet_observed *observed_subnet(const struct vpc_diff *c,
                                                                const char *name)
{
    for (size_t i = 0; c->obs->subnets && i < c->spec->n_subnets; i++) {
        const struct np_posture_subnet_observed *o = &c->obs->subnets[i];
        if (np_str_eq(c->spec->subnets[i].name, name))
            return o->present && o->subnet_id ? o : NULL;
    }
    return NULL;
}

static const struct np_posture_assoc *assoc_of(const struct np_posture_assoc *assocs, size_t n,
                                               const char *subnet_id)
{
    for (size_t i = 0; assocs && i < n; i++)
        if (id_eq(assocs[i].subnet_id, subnet_id))
            return &assocs[i];
    return NULL;
}

/*
 * Subnet associations of a route table or network ACL (c->resource_id): each declared subnet
 * must be associated with it (Missing, moved from where it is); with Exclusive ownership, a
 * subnet associated with it but not declared there is Extra (back to extra_target: the default
 * ACL, or NULL for the main route table).
 */
static void diff_assocs(const struct vpc_diff *c, enum np_posture_vpc_item item, char *const *names,
                        size_t n_names, const struct np_posture_assoc *assocs, size_t n_assocs,
                        const char *extra_target)
{
    for (size_t i = 0; i < n_names; i++) {
        const struct np_posture_subnet_observed *s = observed_subnet(c, names[i]);
        if (!s)
            continue;
        const struct np_posture_assoc *a = assoc_of(assocs, n_assocs, s->subnet_id);
        if (a && id_eq(a->owner_id, c->resource_id))
            continue;
        struct np_posture_vpc_drift *v = add_item(c, NP_POSTURE_MISSING, item)->vpc;
        v->key = np_strdup(names[i]);
        v->subnet_id = np_strdup(s->subnet_id);
        v->association_id = a ? np_strdup(a->association_id) : NULL;
        v->target_id = np_strdup(c->resource_id);
    }
    if (c->spec->ownership != NP_POSTURE_EXCLUSIVE || id_eq(c->resource_id, extra_target))
        return;
    for (size_t k = 0; assocs && k < n_assocs; k++) {
        const struct np_posture_assoc *a = &assocs[k];
        if (!a->subnet_id || !id_eq(a->owner_id, c->resource_id))
            continue;
        bool declared = false;
        for (size_t i = 0; i < n_names && !declared; i++) {
            const struct np_posture_subnet_observed *s = observed_subnet(c, names[i]);
            declared = s && id_eq(s->subnet_id, a->subnet_id);
        }
        if (declared)
            continue;
        struct np_posture_vpc_drift *v = add_item(c, NP_POSTURE_EXTRA, item)->vpc;
        v->key = np_strdup(a->subnet_id);
        v->subnet_id = np_strdup(a->subnet_id);
        v->association_id = np_strdup(a->association_id);
        v->target_id = np_strdup(extra_target);
    }
}

/* ---------------------------------------------------------------- pieces */

static void diff_subnet(struct vpc_diff *c, size_t i)
{
    const struct np_posture_subnet_spec *s = &c->spec->subnets[i];
    const struct np_posture_subnet_observed *o = c->obs->subnets ? &c->obs->subnets[i] : NULL;
    char *piece = np_strdupf("subnet/%s", s->name);
    c->piece = piece;
    c->piece_kind = NP_POSTURE_PIECE_SUBNET;
    c->index = (int)i;
    c->resource_id = o && o->present ? o->subnet_id : NULL;
    if (!c->resource_id) {
        add_missing_piece(c, s->availability_zone
                                 ? np_strdupf("%s %s", s->cidr_block, s->availability_zone)
                                 : np_strdup(s->cidr_block));
    } else {
        diff_attribute(c, "mapPublicIpOnLaunch", s->has_map_public_ip, s->map_public_ip,
                       o->map_public_ip);
        diff_piece_tags(c, s->tags, s->n_tags, o->tags, o->n_tags);
    }
    free(piece);
}

static void diff_route_table(struct vpc_diff *c, size_t i)
{
    const struct np_posture_route_table_spec *t = &c->spec->route_tables[i];
    const struct np_posture_route_table_observed *o =
        c->obs->route_tables ? &c->obs->route_tables[i] : NULL;
    char *piece = np_strdupf("routeTable/%s", t->name);
    c->piece = piece;
    c->piece_kind = NP_POSTURE_PIECE_ROUTE_TABLE;
    c->index = (int)i;
    c->resource_id = o && o->present ? o->route_table_id : NULL;
    if (!c->resource_id) {
        add_missing_piece(c, np_strdup("route table"));
    } else {
        size_t n_have = 0;
        struct np_posture_route *have = observed_routes(o, &n_have);
        merge_walk(c, t->routes, t->n_routes, have, n_have, sizeof(*have), route_qcmp, visit_route);
        for (size_t k = 0; k < n_have; k++)
            np_posture_route_clean_up(&have[k]);
        free(have);
        diff_assocs(c, NP_POSTURE_VPC_ITEM_ROUTE_ASSOC, t->subnets, t->n_subnets, c->obs->rt_assocs,
                    c->obs->n_rt_assocs, NULL);
        diff_piece_tags(c, t->tags, t->n_tags, o->tags, o->n_tags);
    }
    free(piece);
}

static void diff_network_acl(struct vpc_diff *c, size_t i)
{
    const struct np_posture_network_acl_spec *a = &c->spec->network_acls[i];
    const struct np_posture_network_acl_observed *o =
        c->obs->network_acls ? &c->obs->network_acls[i] : NULL;
    char *piece = np_strdupf("networkAcl/%s", a->name);
    c->piece = piece;
    c->piece_kind = NP_POSTURE_PIECE_NETWORK_ACL;
    c->index = (int)i;
    c->resource_id = o && o->present ? o->network_acl_id : NULL;
    if (!c->resource_id) {
        add_missing_piece(c, np_strdup("network ACL"));
    } else {
        size_t n_have = 0;
        struct np_posture_nacl_entry *have = np_posture_vpc_observed_entries(o, &n_have);
        merge_walk(c, a->entries, a->n_entries, have, n_have, sizeof(*have), entry_qcmp,
                   visit_entry);
        for (size_t k = 0; k < n_have; k++)
            np_posture_nacl_entry_clean_up(&have[k]);
        free(have);
        diff_assocs(c, NP_POSTURE_VPC_ITEM_NACL_ASSOC, a->subnets, a->n_subnets,
                    c->obs->nacl_assocs, c->obs->n_nacl_assocs, c->obs->default_nacl_id);
        diff_piece_tags(c, a->tags, a->n_tags, o->tags, o->n_tags);
    }
    free(piece);
}

/* Whether two destination ARNs name the same place (a trailing '/' is not a difference). */
static bool same_destination(const char *a, const char *b)
{
    if (!a || !b)
        return false;
    size_t la = strlen(a), lb = strlen(b);
    while (la > 0 && a[la - 1] == '/')
        la--;
    while (lb > 0 && b[lb - 1] == '/')
        lb--;
    return la == lb && strncmp(a, b, la) == 0;
}

static void diff_flow_logs(struct vpc_diff *c)
{
    const struct np_posture_flow_logs_spec *f = &c->spec->flow_logs;
    if (!c->spec->has_flow_logs || !f->enabled)
        return;
    for (size_t i = 0; c->obs->flow_logs && i < c->obs->n_flow_logs; i++) {
        const struct np_posture_flow_log_observed *o = &c->obs->flow_logs[i];
        if (o->traffic_type && f->traffic_type &&
            strcasecmp(o->traffic_type, f->traffic_type) == 0 &&
            same_destination(o->destination, f->destination))
            return;
    }
    c->piece = "flowLogs";
    c->piece_kind = NP_POSTURE_PIECE_FLOW_LOGS;
    c->index = -1;
    c->resource_id = c->obs->vpc_id;
    struct np_posture_vpc_drift *v =
        add_item(c, NP_POSTURE_MISSING, NP_POSTURE_VPC_ITEM_FLOW_LOG)->vpc;
    v->key = np_strdup(f->traffic_type);
    v->target_id = np_strdup(f->destination);
}

static void diff_default_sg(struct vpc_diff *c)
{
    const struct np_posture_ruleset *rules = c->obs->default_sg_rules;
    if (!c->spec->restrict_default_sg || !rules)
        return;
    c->piece = "defaultSecurityGroup";
    c->piece_kind = NP_POSTURE_PIECE_DEFAULT_SG;
    c->index = -1;
    c->resource_id = c->obs->default_sg_id;
    for (size_t i = 0; i < rules->n; i++) {
        struct np_posture_drift *d = add_item(c, NP_POSTURE_EXTRA, NP_POSTURE_VPC_ITEM_DEFAULT_SG);
        np_posture_rule_copy(&d->rule, &rules->rules[i]);
    }
}

int np_posture_vpc_diff(struct np_posture_delta *out, const struct np_posture_vpc_spec *spec,
                        const struct np_posture_vpc_observed *observed)
{
    memset(out, 0, sizeof(*out));
    if (!spec || !observed)
        return np_error_set(NP_EINVAL, "vpc diff: a spec and an observed state are required");
    struct vpc_diff c = {out, spec, observed, "vpc", NP_POSTURE_PIECE_VPC, -1, observed->vpc_id};
    if (!observed->vpc_id) {
        add_missing_piece(&c, np_strdup(spec->cidr_block));
        return 0;
    }
    diff_attribute(&c, "enableDnsSupport", spec->has_enable_dns_support, spec->enable_dns_support,
                   observed->enable_dns_support);
    diff_attribute(&c, "enableDnsHostnames", spec->has_enable_dns_hostnames,
                   spec->enable_dns_hostnames, observed->enable_dns_hostnames);
    diff_piece_tags(&c, spec->tags, spec->n_tags, observed->tags, observed->n_tags);
    for (size_t i = 0; i < spec->n_subnets; i++)
        diff_subnet(&c, i);
    for (size_t i = 0; i < spec->n_route_tables; i++)
        diff_route_table(&c, i);
    for (size_t i = 0; i < spec->n_network_acls; i++)
        diff_network_acl(&c, i);
    diff_flow_logs(&c);
    diff_default_sg(&c);
    return 0;
}
