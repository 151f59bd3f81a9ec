/*
 * netposturectl import --vpc-id: baselining a VPC. The VPC and every piece in it (subnets,
 * route tables with their routes and associations, network ACLs with their entries and
 * associations, a flow log, the default security group's restriction) become one VPCPosture
 * that adopts them by id, read as pkg/observe reads them for the controller, so that applying
 * it yields a posture with no drift and — in Detect mode, the default — no AWS change.
 */
#include "cli/private/cli_private.h"

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- names */

/* The names given so far to the pieces of one kind (their spec names are unique). */
struct names {
    char **items;
    size_t n;
};

static bool name_taken(const struct names *ns, const char *name)
{
    for (size_t i = 0; i < ns->n; i++)
        if (strcmp(ns->items[i], name) == 0)
            return true;
    return false;
}

/* A piece's spec name: its Name tag as a DNS label, else fallback (when given and free), else
 * its id; the id when the name is taken already. Kept in ns (owned there). */
static const char *piece_name(struct names *ns, const struct np_aws_tag *tags, size_t n,
                              const char *fallback, const char *id)
{
    const char *tag = np_aws_tag_get(tags, n, "Name");
    char *name = np_cli_import_name(tag ? tag : fallback, id);
    if (name_taken(ns, name)) {
        free(name);
        name = np_cli_import_name(id, id);
    }
    ns->items = np_xrealloc(ns->items, (ns->n + 1) * sizeof(*ns->items));
    ns->items[ns->n++] = name;
    return name;
}

static void names_clean_up(struct names *ns)
{
    for (size_t i = 0; i < ns->n; i++)
        free(ns->items[i]);
    free(ns->items);
}

/* What the mapping carries along: the subnets' names by index, for associations. */
struct vmap {
    const struct np_observe_vpc *o;
    const struct np_cli_import_opts *opts;
    struct names subnet_names, rt_names, acl_names;
    const char **subnet_of; /* parallel to o->subnets */
};

/* The spec name of the subnet with this id, or NULL (not in the VPC's answer). */
static const char *subnet_name(const struct vmap *m, const char *subnet_id)
{
    for (size_t i = 0; subnet_id && i < m->o->n_subnets; i++)
        if (np_str_eq(m->o->subnets[i].subnet_id, subnet_id))
            return m->subnet_of[i];
    return NULL;
}

static void put_tags(json_object *o, const struct np_aws_tag *tags, size_t n)
{
    json_object *t = np_cli_user_tags(tags, n);
    if (t)
        json_object_object_add(o, "tags", t);
}

/* ---------------------------------------------------------------- pieces */

static json_object *subnets(struct vmap *m)
{
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < m->o->n_subnets; i++) {
        const struct np_aws_subnet *s = &m->o->subnets[i];
        json_object *o = json_object_new_object();
        m->subnet_of[i] = piece_name(&m->subnet_names, s->tags, s->n_tags, NULL, s->subnet_id);
        np_json_put_str(o, "name", m->subnet_of[i]);
        np_json_put_str(o, "cidrBlock", s->cidr_block);
        np_json_put_str(o, "availabilityZone", s->availability_zone);
        json_object_object_add(o, "mapPublicIpOnLaunch",
                               json_object_new_boolean(s->map_public_ip_on_launch));
        put_tags(o, s->tags, s->n_tags);
        np_json_put_str(o, "subnetId", s->subnet_id);
        json_object_array_add(arr, o);
    }
    return arr;
}

/* A route the posture declares: one AWS or another service put there (the local route,
 * propagated routes) is never drift, and one without a target cannot be declared. */
static bool declarable_route(const struct np_aws_route *r, const char *rt_id)
{
    if (r->origin && strcmp(r->origin, "CreateRoute") != 0)
        return false;
    if (r->has_target && r->target_kind == NP_AWS_ROUTE_GATEWAY && np_str_eq(r->target, "local"))
        return false;
    if (!r->has_target || !r->target)
        fprintf(stderr,
                "not imported: route %s of %s has no target AWS names (it will show as "
                "drift)\n",
                r->destination ? r->destination : "?", rt_id);
    return r->has_target && r->target;
}

static json_object *route_entry(const struct np_aws_route *r)
{
    static const char *const dest[] = {"destinationCidrBlock", "destinationIpv6CidrBlock",
                                       "destinationPrefixListId"};
    json_object *o = json_object_new_object();
    size_t d = (size_t)r->dest_kind < NP_ARRAY_LEN(dest) ? (size_t)r->dest_kind : 0;
    np_json_put_str(o, dest[d], r->destination);
    np_json_put_str(o, np_posture_route_target_name((enum np_posture_route_target)r->target_kind),
                    r->target);
    return o;
}

/* The names of the subnets explicitly associated with a route table or ACL. */
static json_object *assoc_names(const struct vmap *m, const char *const *subnet_ids, size_t n)
{
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        const char *name = subnet_name(m, subnet_ids[i]);
        if (name)
            json_object_array_add(arr, json_object_new_string(name));
    }
    return arr;
}

static json_object *route_table(struct vmap *m, const struct np_aws_route_table *t)
{
    bool main_table = false;
    const char **ids = np_xcalloc(t->n_assocs + 1, sizeof(*ids));
    for (size_t k = 0; k < t->n_assocs; k++) {
        main_table = main_table || t->assocs[k].main;
        ids[k] = t->assocs[k].subnet_id;
    }
    json_object *o = json_object_new_object();
    np_json_put_str(o, "name",
                    piece_name(&m->rt_names, t->tags, t->n_tags, main_table ? "main" : NULL,
                               t->route_table_id));
    json_object_object_add(o, "subnets", assoc_names(m, ids, t->n_assocs));
    json_object *routes = json_object_new_array();
    for (size_t k = 0; k < t->n_routes; k++)
        if (declarable_route(&t->routes[k], t->route_table_id))
            json_object_array_add(routes, route_entry(&t->routes[k]));
    json_object_object_add(o, "routes", routes);
    put_tags(o, t->tags, t->n_tags);
    np_json_put_str(o, "routeTableId", t->route_table_id);
    free(ids);
    return o;
}

static void put_int(json_object *o, const char *key, int v)
{
    json_object_object_add(o, key, json_object_new_int(v));
}

/* One entry as the spec writes it (AWS's default "*" entry, 32767, is never declared). */
static json_object *acl_entry(const struct np_aws_nacl_entry *e)
{
    char proto[8];
    json_object *o = json_object_new_object();
    put_int(o, "ruleNumber", e->rule_number);
    if (e->egress)
        json_object_object_add(o, "egress", json_object_new_boolean(true));
    if (np_posture_protocol_canonical(e->protocol, proto) != 0) {
        /* never widened to "all": written as AWS gave it, for validation to refuse */
        np_error_clear();
        np_json_put_str(o, "protocol", e->protocol ? e->protocol : "");
        proto[0] = '\0';
    } else {
        np_json_put_str(o, "protocol", strcmp(proto, "-1") == 0 ? "all" : proto);
    }
    np_json_put_str(o, "action", e->allow ? "allow" : "deny");
    if (e->cidr)
        np_json_put_str(o, "cidrBlock", e->cidr);
    else
        np_json_put_str(o, "ipv6CidrBlock", e->ipv6_cidr);
    bool icmp = strcmp(proto, "icmp") == 0 || strcmp(proto, "icmpv6") == 0;
    if (!icmp && np_posture_protocol_has_ports(proto) && e->has_ports) {
        put_int(o, "fromPort", e->from_port);
        put_int(o, "toPort", e->to_port);
    }
    if (icmp && e->has_icmp && e->icmp_type != -1) {
        put_int(o, "icmpType", e->icmp_type);
        put_int(o, "icmpCode", e->icmp_code);
    }
    return o;
}

static json_object *network_acl(struct vmap *m, const struct np_aws_nacl *a)
{
    const char **ids = np_xcalloc(a->n_assocs + 1, sizeof(*ids));
    for (size_t k = 0; k < a->n_assocs; k++)
        ids[k] = a->assocs[k].subnet_id;
    json_object *o = json_object_new_object();
    np_json_put_str(o, "name",
                    piece_name(&m->acl_names, a->tags, a->n_tags, a->is_default ? "default" : NULL,
                               a->network_acl_id));
    json_object_object_add(o, "subnets", assoc_names(m, ids, a->n_assocs));
    json_object *entries = json_object_new_array();
    for (size_t k = 0; k < a->n_entries; k++)
        if (a->entries[k].rule_number < 32767)
            json_object_array_add(entries, acl_entry(&a->entries[k]));
    json_object_object_add(o, "entries", entries);
    put_tags(o, a->tags, a->n_tags);
    np_json_put_str(o, "networkAclId", a->network_acl_id);
    free(ids);
    return o;
}

/* The ARN partition of a region. */
static const char *partition(const char *region)
{
    if (np_str_has_prefix(region, "cn-"))
        return "aws-cn";
    if (np_str_has_prefix(region, "us-gov-"))
        return "aws-us-gov";
    return "aws";
}

/* spec.flowLogs from the first active flow log of the VPC that a spec can state, or NULL. */
static json_object *flow_logs(const struct vmap *m)
{
    for (size_t i = 0; i < m->o->n_fls; i++) {
        const struct np_aws_flow_log *f = &m->o->fls[i];
        char *dest =
            f->log_destination ? np_strdup(f->log_destination)
            : f->log_group_name
                ? np_strdupf("arn:%s:logs:%s:%s:log-group:%s", partition(m->opts->region),
                             m->opts->region, m->o->vpc->owner_id ? m->o->vpc->owner_id : "",
                             f->log_group_name)
                : NULL;
        const char *type = np_posture_flow_log_destination_type(dest);
        bool cwl = np_str_eq(type, "cloud-watch-logs");
        bool ok = type && (!f->flow_log_status || np_str_eq(f->flow_log_status, "ACTIVE")) &&
                  (!cwl || f->deliver_logs_permission_arn);
        if (!ok) {
            free(dest);
            continue;
        }
        json_object *o = json_object_new_object();
        json_object_object_add(o, "enabled", json_object_new_boolean(true));
        np_json_put_str(o, "trafficType", f->traffic_type ? f->traffic_type : "ALL");
        np_json_put_str(o, "destination", dest);
        if (!np_str_eq(type, "s3") && f->deliver_logs_permission_arn)
            np_json_put_str(o, "deliverLogsPermissionArn", f->deliver_logs_permission_arn);
        free(dest);
        return o;
    }
    return NULL;
}

/* ---------------------------------------------------------------- the posture */

static void put_pieces(json_object *spec, struct vmap *m)
{
    json_object_object_add(spec, "subnets", subnets(m));
    json_object *rts = json_object_new_array();
    for (size_t i = 0; i < m->o->n_rts; i++)
        json_object_array_add(rts, route_table(m, &m->o->rts[i]));
    json_object_object_add(spec, "routeTables", rts);
    json_object *acls = json_object_new_array();
    for (size_t i = 0; i < m->o->n_nacls; i++)
        json_object_array_add(acls, network_acl(m, &m->o->nacls[i]));
    json_object_object_add(spec, "networkAcls", acls);
}

json_object *np_cli_import_vpc(const struct np_observe_vpc *o,
                               const struct np_cli_import_opts *opts)
{
    const struct np_aws_vpc *vpc = o->vpc;
    char *name = opts->name ? np_strdup(opts->name)
                            : np_cli_import_name(np_aws_tag_get(vpc->tags, vpc->n_tags, "Name"),
                                                 vpc->vpc_id);
    json_object *obj = np_cli_new_object("VPCPosture", name, opts->ns);
    json_object *spec = json_object_new_object();
    struct vmap m = {o, opts, {0}, {0}, {0}, np_xcalloc(o->n_subnets + 1, sizeof(char *))};
    np_json_put_str(spec, "region", opts->region);
    np_json_put_str(spec, "cidrBlock", vpc->cidr_block);
    json_object *mgmt = json_object_new_object();
    np_json_put_str(mgmt, "policy", "Adopt");
    np_json_put_str(mgmt, "vpcId", vpc->vpc_id);
    json_object_object_add(spec, "management", mgmt);
    json_object_object_add(spec, "enableDnsSupport", json_object_new_boolean(o->dns_support));
    json_object_object_add(spec, "enableDnsHostnames", json_object_new_boolean(o->dns_hostnames));
    put_tags(spec, vpc->tags, vpc->n_tags);
    json_object *fl = flow_logs(&m);
    if (fl)
        json_object_object_add(spec, "flowLogs", fl);
    if (o->dsg && o->dsg->n_ingress + o->dsg->n_egress == 0) {
        json_object *d = json_object_new_object();
        json_object_object_add(d, "restrictAll", json_object_new_boolean(true));
        json_object_object_add(spec, "defaultSecurityGroup", d);
    }
    put_pieces(spec, &m);
    json_object *rem = json_object_new_object();
    np_json_put_str(rem, "mode", opts->mode ? opts->mode : "Detect");
    json_object_object_add(spec, "remediation", rem);
    json_object_object_add(obj, "spec", spec);
    names_clean_up(&m.subnet_names);
    names_clean_up(&m.rt_names);
    names_clean_up(&m.acl_names);
    free(m.subnet_of);
    free(name);
    return obj;
}

/* ---------------------------------------------------------------- reading AWS */

int np_cli_import_vpc_id(struct np_aws_ec2 *ec2, const struct np_cli_import_opts *opts,
                         json_object *items)
{
    struct np_observe_vpc o = {0};
    int rc = np_observe_vpc_describe(ec2, "vpc-id", opts->vpc_id, &o.vpc);
    if (rc == NP_ENOTFOUND || (rc == 0 && !np_str_eq(o.vpc->vpc_id, opts->vpc_id)))
        rc = np_error_set(NP_ENOTFOUND, "VPC %s does not exist", opts->vpc_id);
    if (rc == 0) {
        const char *owner = np_aws_tag_get(o.vpc->tags, o.vpc->n_tags, NP_POSTURE_TAG_OWNER);
        char *name = opts->name
                         ? np_strdup(opts->name)
                         : np_cli_import_name(np_aws_tag_get(o.vpc->tags, o.vpc->n_tags, "Name"),
                                              o.vpc->vpc_id);
        rc = np_cli_check_import_owner(owner, "VPC", o.vpc->vpc_id, opts->ns, name);
        free(name);
    }
    if (rc == 0)
        rc = np_observe_vpc_read(&o, ec2);
    if (rc == 0)
        json_object_array_add(items, np_cli_import_vpc(&o, opts));
    np_observe_vpc_clean_up(&o);
    return rc;
}
