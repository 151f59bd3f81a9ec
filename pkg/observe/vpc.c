/*
 * A VPC as pkg/posture reads it: the VPC's attributes and every piece inside it (subnets,
 * route tables, network ACLs, flow logs, the default security group), each declared piece
 * matched to the AWS object it is (adopted id, recorded id, or our uid and piece tag), and the
 * borrowed view np_posture_vpc_diff takes.
 */
#include "observe/observe.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

_Static_assert((int)NP_POSTURE_DEST_PREFIX_LIST == (int)NP_AWS_ROUTE_DEST_PREFIX_LIST &&
                   (int)NP_POSTURE_ROUTE_NETWORK_INTERFACE == (int)NP_AWS_ROUTE_NETWORK_INTERFACE &&
                   (int)NP_POSTURE_ROUTE_TARGET_COUNT == (int)NP_AWS_ROUTE_TARGET_COUNT,
               "route kinds of pkg/posture and pkg/aws are cast into each other");

/* ---------------------------------------------------------------- declared pieces */

static const struct np_observe_piece_names piece_names[NP_OBSERVE_PIECE_KINDS] = {
    [NP_OBSERVE_SUBNET] = {"subnet", "subnets", "subnetId"},
    [NP_OBSERVE_ROUTE_TABLE] = {"routeTable", "routeTables", "routeTableId"},
    [NP_OBSERVE_NETWORK_ACL] = {"networkAcl", "networkAcls", "networkAclId"},
};

const struct np_observe_piece_names *np_observe_piece_names(enum np_observe_piece_kind k)
{
    return &piece_names[k];
}

size_t np_observe_declared_count(const struct np_posture_vpc_spec *s, enum np_observe_piece_kind k)
{
    return k == NP_OBSERVE_SUBNET        ? s->n_subnets
           : k == NP_OBSERVE_ROUTE_TABLE ? s->n_route_tables
                                         : s->n_network_acls;
}

struct np_observe_piece np_observe_declared(const struct np_posture_vpc_spec *s,
                                            enum np_observe_piece_kind k, size_t i,
                                            const char **adopt_id)
{
    switch (k) {
    case NP_OBSERVE_SUBNET:
        *adopt_id = s->subnets[i].subnet_id;
        return (struct np_observe_piece){k, s->subnets[i].name};
    case NP_OBSERVE_ROUTE_TABLE:
        *adopt_id = s->route_tables[i].route_table_id;
        return (struct np_observe_piece){k, s->route_tables[i].name};
    default:
        *adopt_id = s->network_acls[i].network_acl_id;
        return (struct np_observe_piece){k, s->network_acls[i].name};
    }
}

char *np_observe_piece_text(struct np_observe_piece piece)
{
    return np_strdupf("%s/%s", piece_names[piece.kind].prefix, piece.name);
}

bool np_observe_piece_kind_of(enum np_posture_vpc_piece piece, enum np_observe_piece_kind *out)
{
    switch (piece) {
    case NP_POSTURE_PIECE_SUBNET: *out = NP_OBSERVE_SUBNET; return true;
    case NP_POSTURE_PIECE_ROUTE_TABLE: *out = NP_OBSERVE_ROUTE_TABLE; return true;
    case NP_POSTURE_PIECE_NETWORK_ACL: *out = NP_OBSERVE_NETWORK_ACL; return true;
    default: return false;
    }
}

/* ---------------------------------------------------------------- reading AWS */

/* Whether a VPC of an answer is what the filter asked for (an answer is not taken on trust):
 * "vpc-id" its id, "tag:K" tag K with the value. */
static bool vpc_matches(const struct np_aws_vpc *v, const char *filter, const char *value)
{
    if (np_str_eq(filter, "vpc-id"))
        return np_str_eq(v->vpc_id, value);
    if (np_str_has_prefix(filter, "tag:"))
        return np_str_eq(np_aws_tag_get(v->tags, v->n_tags, filter + 4), value);
    return true;
}

int np_observe_vpc_describe(struct np_aws_ec2 *ec2, const char *filter, const char *value,
                            struct np_aws_vpc **out)
{
    const char *values[] = {value};
    struct np_aws_filter f = {filter, values, 1};
    struct np_aws_vpc *vpcs = NULL;
    size_t n = 0;
    *out = NULL;
    int rc = np_aws_ec2_describe_vpcs(ec2, &vpcs, &n, &f, 1);
    for (size_t i = 0; rc == 0 && !*out && i < n; i++)
        if (vpc_matches(&vpcs[i], filter, value)) {
            *out = np_xcalloc(1, sizeof(**out));
            **out = vpcs[i];
            memset(&vpcs[i], 0, sizeof(vpcs[i]));
        }
    if (rc == 0 && !*out)
        rc = NP_ENOTFOUND;
    np_aws_vpcs_free(vpcs, n);
    return rc;
}

void np_observe_vpc_forget(struct np_observe_vpc *o)
{
    np_aws_subnets_free(o->subnets, o->n_subnets);
    np_aws_route_tables_free(o->rts, o->n_rts);
    np_aws_nacls_free(o->nacls, o->n_nacls);
    np_aws_flow_logs_free(o->fls, o->n_fls);
    np_aws_sg_free(o->dsg);
    o->subnets = NULL;
    o->rts = NULL;
    o->nacls = NULL;
    o->fls = NULL;
    o->dsg = NULL;
    o->n_subnets = o->n_rts = o->n_nacls = o->n_fls = 0;
    np_posture_ruleset_clean_up(&o->dsg_rules);
    for (size_t i = 0; i < o->n_views; i++)
        free(o->views[i]);
    free(o->views);
    o->views = NULL;
    o->n_views = 0;
    memset(&o->view, 0, sizeof(o->view));
    for (int k = 0; k < NP_OBSERVE_PIECE_KINDS; k++) { /* a match is of a reading */
        free(o->at[k]);
        o->at[k] = NULL;
    }
    o->read = false;
}

void np_observe_vpc_clean_up(struct np_observe_vpc *o)
{
    np_observe_vpc_forget(o);
    np_aws_vpcs_free(o->vpc, o->vpc ? 1 : 0);
    memset(o, 0, sizeof(*o));
}

/* The default security group of the VPC (o->dsg), if any. */
static int read_default_sg(struct np_observe_vpc *o, struct np_aws_ec2 *ec2)
{
    const char *vpc_ids[] = {o->vpc->vpc_id};
    const char *dflt[] = {"default"};
    struct np_aws_filter f[2] = {{"vpc-id", vpc_ids, 1}, {"group-name", dflt, 1}};
    struct np_aws_sg *sgs = NULL;
    size_t n = 0;
    int rc = np_aws_ec2_describe_security_groups(ec2, &sgs, &n, f, 2, NULL, 0);
    for (size_t i = 0; rc == 0 && !o->dsg && i < n; i++) /* the filter is not taken on trust */
        if (np_str_eq(sgs[i].vpc_id, o->vpc->vpc_id) && np_str_eq(sgs[i].group_name, "default"))
            o->dsg = np_aws_sg_dup(&sgs[i]);
    np_aws_sgs_free(sgs, n);
    return rc;
}

/* Keeps, of an array of n values of size bytes, those whose VPC (the char * member at offset
 * off) is vpc_id or unknown (NULL); frees the others with free_one. Returns the new count. */
static size_t keep_in_vpc(void *arr, size_t n, size_t size, size_t off, const char *vpc_id,
                          void (*free_one)(void *item))
{
    char *base = arr;
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        char *item = base + i * size;
        const char *id = *(char **)(void *)(item + off);
        if (id && !np_str_eq(id, vpc_id)) {
            free_one(item);
            continue;
        }
        if (w != i)
            memcpy(base + w * size, item, size);
        w++;
    }
    return w;
}

/* A heap copy of one array element, for the *_free(array, 1) functions (which free it too). */
static void *heap_copy(const void *item, size_t size)
{
    void *c = np_xcalloc(1, size);
    memcpy(c, item, size);
    return c;
}

static void free_subnet(void *s)
{
    np_aws_subnets_free(heap_copy(s, sizeof(struct np_aws_subnet)), 1);
}
static void free_route_table(void *t)
{
    np_aws_route_tables_free(heap_copy(t, sizeof(struct np_aws_route_table)), 1);
}
static void free_nacl(void *a)
{
    np_aws_nacls_free(heap_copy(a, sizeof(struct np_aws_nacl)), 1);
}
static void free_flow_log(void *f)
{
    np_aws_flow_logs_free(heap_copy(f, sizeof(struct np_aws_flow_log)), 1);
}

/* Drops what the answers list of another VPC (the filters are not taken on trust). */
static void drop_foreign(struct np_observe_vpc *o)
{
    const char *id = o->vpc->vpc_id;
    o->n_subnets = keep_in_vpc(o->subnets, o->n_subnets, sizeof(*o->subnets),
                               offsetof(struct np_aws_subnet, vpc_id), id, free_subnet);
    o->n_rts = keep_in_vpc(o->rts, o->n_rts, sizeof(*o->rts),
                           offsetof(struct np_aws_route_table, vpc_id), id, free_route_table);
    o->n_nacls = keep_in_vpc(o->nacls, o->n_nacls, sizeof(*o->nacls),
                             offsetof(struct np_aws_nacl, vpc_id), id, free_nacl);
    o->n_fls = keep_in_vpc(o->fls, o->n_fls, sizeof(*o->fls),
                           offsetof(struct np_aws_flow_log, resource_id), id, free_flow_log);
}

int np_observe_vpc_read(struct np_observe_vpc *o, struct np_aws_ec2 *ec2)
{
    np_observe_vpc_forget(o);
    const char *vpc_ids[] = {o->vpc->vpc_id};
    struct np_aws_filter by_vpc = {"vpc-id", vpc_ids, 1};
    struct np_aws_filter by_resource = {"resource-id", vpc_ids, 1};
    int rc = np_aws_ec2_describe_vpc_attribute(ec2, o->vpc->vpc_id, NP_AWS_VPC_DNS_SUPPORT,
                                               &o->dns_support);
    if (rc == 0)
        rc = np_aws_ec2_describe_vpc_attribute(ec2, o->vpc->vpc_id, NP_AWS_VPC_DNS_HOSTNAMES,
                                               &o->dns_hostnames);
    if (rc == 0)
        rc = np_aws_ec2_describe_subnets(ec2, &o->subnets, &o->n_subnets, &by_vpc, 1);
    if (rc == 0)
        rc = np_aws_ec2_describe_route_tables(ec2, &o->rts, &o->n_rts, &by_vpc, 1);
    if (rc == 0)
        rc = np_aws_ec2_describe_network_acls(ec2, &o->nacls, &o->n_nacls, &by_vpc, 1);
    if (rc == 0)
        rc = np_aws_ec2_describe_flow_logs(ec2, &o->fls, &o->n_fls, &by_resource, 1);
    if (rc == 0)
        rc = read_default_sg(o, ec2);
    if (rc) {
        np_observe_vpc_forget(o);
        return rc;
    }
    drop_foreign(o);
    o->read = true;
    return 0;
}

size_t np_observe_vpc_count(const struct np_observe_vpc *o, enum np_observe_piece_kind k)
{
    return k == NP_OBSERVE_SUBNET        ? o->n_subnets
           : k == NP_OBSERVE_ROUTE_TABLE ? o->n_rts
                                         : o->n_nacls;
}

const char *np_observe_vpc_object(const struct np_observe_vpc *o, enum np_observe_piece_kind k,
                                  size_t i, const struct np_aws_tag **tags, size_t *n)
{
    switch (k) {
    case NP_OBSERVE_SUBNET:
        *tags = o->subnets[i].tags;
        *n = o->subnets[i].n_tags;
        return o->subnets[i].subnet_id;
    case NP_OBSERVE_ROUTE_TABLE:
        *tags = o->rts[i].tags;
        *n = o->rts[i].n_tags;
        return o->rts[i].route_table_id;
    default:
        *tags = o->nacls[i].tags;
        *n = o->nacls[i].n_tags;
        return o->nacls[i].network_acl_id;
    }
}

/* ---------------------------------------------------------------- matching */

/* What a match looks at besides the objects read. */
struct match {
    const struct np_observe_vpc *o;
    const char *uid;
    json_object *old_status;
};

const char *np_observe_status_piece_id(json_object *status, struct np_observe_piece id)
{
    json_object *arr = np_json_path(status, piece_names[id.kind].status_list, NP_JSON_END);
    size_t n = arr && json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *it = json_object_array_get_idx(arr, i);
        if (np_str_eq(np_json_path_str(it, "name", NP_JSON_END), id.name))
            return np_json_path_str(it, piece_names[id.kind].status_id, NP_JSON_END);
    }
    return NULL;
}

/* Whether the i-th object of the kind carries our uid (and, when text is not NULL, the piece
 * tag text); with status_id, whether it is that object and no other posture's uid marks it. */
static bool observed_is(const struct match *m, enum np_observe_piece_kind k, size_t i,
                        const char *status_id, const char *text)
{
    const struct np_aws_tag *t = NULL;
    size_t nt = 0;
    const char *id = np_observe_vpc_object(m->o, k, i, &t, &nt);
    const char *uid = np_aws_tag_get(t, nt, NP_POSTURE_TAG_UID);
    if (status_id)
        return np_str_eq(id, status_id) && (!uid || np_str_eq(uid, m->uid));
    return m->uid && np_str_eq(uid, m->uid) &&
           np_str_eq(np_aws_tag_get(t, nt, NP_OBSERVE_TAG_PIECE), text);
}

/* Which object a declared piece is (index), -1 when none. */
static long match_piece(const struct match *m, struct np_observe_piece id, const char *adopt_id)
{
    size_t n = np_observe_vpc_count(m->o, id.kind);
    const struct np_aws_tag *t = NULL;
    size_t nt = 0;
    if (adopt_id) {
        for (size_t i = 0; i < n; i++)
            if (np_str_eq(np_observe_vpc_object(m->o, id.kind, i, &t, &nt), adopt_id))
                return (long)i;
        return -1;
    }
    const char *status_id = np_observe_status_piece_id(m->old_status, id);
    for (size_t i = 0; status_id && i < n; i++)
        if (observed_is(m, id.kind, i, status_id, NULL))
            return (long)i;
    char *text = np_observe_piece_text(id);
    long found = -1;
    for (size_t i = 0; found < 0 && i < n; i++)
        if (observed_is(m, id.kind, i, NULL, text))
            found = (long)i;
    free(text);
    return found;
}

void np_observe_vpc_match(struct np_observe_vpc *o, const struct np_posture_vpc_spec *spec,
                          const char *uid, json_object *old_status)
{
    struct match m = {o, uid, old_status};
    for (int k = 0; k < NP_OBSERVE_PIECE_KINDS; k++) {
        enum np_observe_piece_kind kind = (enum np_observe_piece_kind)k;
        size_t n = np_observe_declared_count(spec, kind);
        free(o->at[k]);
        o->at[k] = np_xcalloc(n + 1, sizeof(long));
        for (size_t i = 0; i < n; i++) {
            const char *adopt_id = NULL;
            struct np_observe_piece id = np_observe_declared(spec, kind, i, &adopt_id);
            o->at[k][i] = match_piece(&m, id, adopt_id);
        }
    }
}

/* ---------------------------------------------------------------- the view */

/* The object the i-th declared piece of kind k is, -1 when none (or nothing matched yet). */
static long matched(const struct np_observe_vpc *o, enum np_observe_piece_kind k, size_t i)
{
    return o->at[k] ? o->at[k][i] : -1;
}

static void *view_alloc(struct np_observe_vpc *o, size_t n, size_t size)
{
    void *mem = np_xcalloc(n ? n : 1, size);
    o->views = np_xrealloc(o->views, (o->n_views + 1) * sizeof(*o->views));
    o->views[o->n_views++] = mem;
    return mem;
}

static const struct np_posture_tag *tags_view(struct np_observe_vpc *o,
                                              const struct np_aws_tag *tags, size_t n)
{
    struct np_posture_tag *t = view_alloc(o, n, sizeof(*t));
    np_observe_tags(t, tags, n);
    return t;
}

/*
 * A flow log's destination ARN. A CloudWatch Logs flow log created by log group name (not by
 * ARN) lists only the name: it is the declared destination when that ARN names the group.
 */
static const char *flow_log_destination(const struct np_posture_vpc_spec *spec,
                                        const struct np_aws_flow_log *f)
{
    if (f->log_destination || !f->log_group_name)
        return f->log_destination;
    const char *want = spec->flow_logs.destination;
    const char *at = want ? strstr(want, ":log-group:") : NULL;
    if (at) {
        at += strlen(":log-group:");
        size_t n = strlen(f->log_group_name);
        if (strncmp(at, f->log_group_name, n) == 0 && (at[n] == '\0' || strcmp(at + n, ":*") == 0))
            return want;
    }
    return f->log_group_name;
}

static void view_subnets(struct np_observe_vpc *o, const struct np_posture_vpc_spec *s)
{
    struct np_posture_subnet_observed *so = view_alloc(o, s->n_subnets, sizeof(*so));
    for (size_t i = 0; i < s->n_subnets; i++) {
        long at = matched(o, NP_OBSERVE_SUBNET, i);
        if (at < 0)
            continue;
        const struct np_aws_subnet *a = &o->subnets[at];
        so[i] = (struct np_posture_subnet_observed){true,
                                                    a->subnet_id,
                                                    a->cidr_block,
                                                    a->availability_zone,
                                                    a->map_public_ip_on_launch,
                                                    tags_view(o, a->tags, a->n_tags),
                                                    a->n_tags};
    }
    o->view.subnets = so;
}

static void view_route_tables(struct np_observe_vpc *o, const struct np_posture_vpc_spec *s)
{
    struct np_posture_route_table_observed *ro = view_alloc(o, s->n_route_tables, sizeof(*ro));
    for (size_t i = 0; i < s->n_route_tables; i++) {
        long at = matched(o, NP_OBSERVE_ROUTE_TABLE, i);
        if (at < 0)
            continue;
        const struct np_aws_route_table *a = &o->rts[at];
        struct np_posture_raw_route *routes = view_alloc(o, a->n_routes, sizeof(*routes));
        for (size_t k = 0; k < a->n_routes; k++) {
            const struct np_aws_route *x = &a->routes[k];
            routes[k] = (struct np_posture_raw_route){
                (enum np_posture_route_dest)x->dest_kind,     x->destination, x->has_target,
                (enum np_posture_route_target)x->target_kind, x->target,      x->origin};
        }
        ro[i] = (struct np_posture_route_table_observed){
            true,     a->route_table_id, routes, a->n_routes, tags_view(o, a->tags, a->n_tags),
            a->n_tags};
    }
    o->view.route_tables = ro;
}

static void view_network_acls(struct np_observe_vpc *o, const struct np_posture_vpc_spec *s)
{
    struct np_posture_network_acl_observed *no = view_alloc(o, s->n_network_acls, sizeof(*no));
    for (size_t i = 0; i < s->n_network_acls; i++) {
        long at = matched(o, NP_OBSERVE_NETWORK_ACL, i);
        if (at < 0)
            continue;
        const struct np_aws_nacl *a = &o->nacls[at];
        struct np_posture_raw_nacl_entry *es = view_alloc(o, a->n_entries, sizeof(*es));
        for (size_t k = 0; k < a->n_entries; k++) {
            const struct np_aws_nacl_entry *e = &a->entries[k];
            es[k] = (struct np_posture_raw_nacl_entry){
                e->rule_number, e->egress,    e->protocol, e->allow,    e->cidr,      e->ipv6_cidr,
                e->has_ports,   e->from_port, e->to_port,  e->has_icmp, e->icmp_type, e->icmp_code};
        }
        no[i] = (struct np_posture_network_acl_observed){
            true, a->network_acl_id, es, a->n_entries, tags_view(o, a->tags, a->n_tags), a->n_tags};
    }
    o->view.network_acls = no;
}

/* The subnet associations of every route table and network ACL of the VPC (declared or not),
 * and which ACL is the default. */
static void view_associations(struct np_observe_vpc *o)
{
    struct np_posture_vpc_observed *v = &o->view;
    size_t n_rta = 0, n_na = 0;
    for (size_t i = 0; i < o->n_rts; i++)
        n_rta += o->rts[i].n_assocs;
    for (size_t i = 0; i < o->n_nacls; i++)
        n_na += o->nacls[i].n_assocs;
    struct np_posture_assoc *rta = view_alloc(o, n_rta, sizeof(*rta));
    struct np_posture_assoc *na = view_alloc(o, n_na, sizeof(*na));
    for (size_t i = 0; i < o->n_rts; i++)
        for (size_t k = 0; k < o->rts[i].n_assocs; k++)
            if (o->rts[i].assocs[k].subnet_id)
                rta[v->n_rt_assocs++] = (struct np_posture_assoc){
                    o->rts[i].assocs[k].subnet_id, o->rts[i].assocs[k].association_id,
                    o->rts[i].route_table_id};
    for (size_t i = 0; i < o->n_nacls; i++) {
        if (o->nacls[i].is_default)
            v->default_nacl_id = o->nacls[i].network_acl_id;
        for (size_t k = 0; k < o->nacls[i].n_assocs; k++)
            if (o->nacls[i].assocs[k].subnet_id)
                na[v->n_nacl_assocs++] = (struct np_posture_assoc){
                    o->nacls[i].assocs[k].subnet_id, o->nacls[i].assocs[k].association_id,
                    o->nacls[i].network_acl_id};
    }
    v->rt_assocs = rta;
    v->nacl_assocs = na;
}

static void view_flow_logs(struct np_observe_vpc *o, const struct np_posture_vpc_spec *s)
{
    struct np_posture_flow_log_observed *fo = view_alloc(o, o->n_fls, sizeof(*fo));
    for (size_t i = 0; i < o->n_fls; i++) {
        const struct np_aws_flow_log *f = &o->fls[i];
        fo[i] = (struct np_posture_flow_log_observed){
            f->flow_log_id, f->traffic_type, f->log_destination_type, flow_log_destination(s, f)};
    }
    o->view.flow_logs = fo;
    o->view.n_flow_logs = o->n_fls;
}

void np_observe_vpc_view(struct np_observe_vpc *o, const struct np_posture_vpc_spec *spec)
{
    struct np_posture_vpc_observed *v = &o->view;
    memset(v, 0, sizeof(*v));
    np_posture_ruleset_clean_up(&o->dsg_rules);
    v->vpc_id = o->vpc->vpc_id;
    v->cidr_block = o->vpc->cidr_block;
    v->enable_dns_support = o->dns_support;
    v->enable_dns_hostnames = o->dns_hostnames;
    v->tags = tags_view(o, o->vpc->tags, o->vpc->n_tags);
    v->n_tags = o->vpc->n_tags;
    view_subnets(o, spec);
    view_route_tables(o, spec);
    view_network_acls(o, spec);
    view_associations(o);
    view_flow_logs(o, spec);
    if (o->dsg) {
        np_observe_sg_rules(o->dsg, &o->dsg_rules);
        v->default_sg_id = o->dsg->group_id;
        v->default_sg_rules = &o->dsg_rules;
    }
}

void np_observe_vpc_settle(struct np_observe_vpc *o, const struct np_posture_vpc_spec *spec,
                           const char *uid, json_object *old_status)
{
    np_observe_vpc_match(o, spec, uid, old_status);
    np_observe_vpc_view(o, spec);
}
