/*
 * Parsing and validating a VPCPosture spec (json-c): the VPC, its subnets, route tables,
 * network ACLs, flow logs and default security group, canonicalised (CIDRs masked, protocols
 * as np_posture_protocol_canonical, ids lowercase, routes and entries sorted by identity),
 * with errors that name the field path. Tags, management and remediation parse as in spec.c.
 */
#include "posture/private/posture_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH_LEN 128
#define MAX_SUBNETS 200     /* AWS's default subnets per VPC */
#define MAX_TABLES 200      /* route tables or network ACLs per VPC */
#define MAX_ROUTES 1000     /* AWS's hard limit of routes per table */
#define MAX_ENTRIES 80      /* 40 per direction, AWS's hard limit */
#define MIN_BLOCK_PREFIX 16 /* AWS: a VPC or subnet IPv4 block is /16 to /28 */
#define MAX_BLOCK_PREFIX 28

/* ---------------------------------------------------------------- values */

const char *np_posture_flow_log_destination_type(const char *arn)
{
    /* arn:<partition>:<service>:<region>:<account>:<resource> */
    if (!arn || !np_str_has_prefix(arn, "arn:"))
        return NULL;
    const char *service = strchr(arn + 4, ':');
    if (!service || service == arn + 4)
        return NULL;
    service++;
    if (np_str_has_prefix(service, "s3:::") && service[5] != '\0')
        return "s3";
    if (np_str_has_prefix(service, "logs:"))
        return "cloud-watch-logs";
    if (np_str_has_prefix(service, "firehose:"))
        return "kinesis-data-firehose";
    return NULL;
}

/* A required IPv4 block o.k (VPC or subnet): canonical into *out, netmask /16 to /28. */
static int parse_block(json_object *o, const char *path, char **out)
{
    const char *v = NULL;
    unsigned char bytes[16];
    int prefix = 0, rc = np_posture_json_string(o, "cidrBlock", path, &v);
    if (rc)
        return rc;
    if (np_str_is_empty(v))
        return np_error_set(NP_EINVAL, "%s.cidrBlock: required", path);
    if ((rc = np_posture_cidr_canonical(out, v, false)) != 0)
        return np_error_set(rc, "%s.cidrBlock: %s", path, np_error_message());
    np_posture_cidr_parse(*out, false, bytes, &prefix);
    if (prefix < MIN_BLOCK_PREFIX || prefix > MAX_BLOCK_PREFIX)
        return np_error_set(NP_EINVAL,
                            "%s.cidrBlock: %s is not allowed by AWS (the netmask must be /%d to "
                            "/%d)",
                            path, *out, MIN_BLOCK_PREFIX, MAX_BLOCK_PREFIX);
    return 0;
}

/* Whether canonical IPv4 CIDR a contains b. */
static bool block_covers(const char *a, const char *b)
{
    unsigned char x[16], y[16];
    int xl = 0, yl = 0;
    return np_posture_cidr_parse(a, false, x, &xl) && np_posture_cidr_parse(b, false, y, &yl) &&
           np_posture_net_covers(x, xl, y, yl);
}

/* An optional AWS id o.k with the given prefix, lowercase into *out. */
static int parse_id(json_object *o, const char *k, const char *path, const char *prefix,
                    const char *what, char **out)
{
    const char *v = NULL;
    int rc = np_posture_json_string(o, k, path, &v);
    if (rc || !v)
        return rc;
    if (!np_posture_is_aws_id(v, prefix))
        return np_error_set(NP_EINVAL, "%s.%s: \"%.64s\" is not a %s (%s...)", path, k, v, what,
                            prefix);
    *out = np_strdup(v);
    np_posture_lower(*out);
    return 0;
}

static int check_piece_name(const char *s, const char *path)
{
    if (!np_posture_is_dns_label(s, 63))
        return np_error_set(NP_EINVAL,
                            "%s: \"%.64s\" must be 1-63 lowercase letters, digits or '-', "
                            "starting and ending with a letter or digit",
                            path, s);
    return 0;
}

/*
 * The required name of item i of spec.<list> (a DNS label), unique in the list. Every piece
 * spec starts with its name, so items/size read the names of the items before it.
 */
static int parse_name(json_object *o, const char *path, const char *list, const void *items,
                      size_t size, size_t i, char **out)
{
    const char *v = NULL;
    char npath[PATH_LEN];
    int rc = np_posture_json_string(o, "name", path, &v);
    if (rc)
        return rc;
    snprintf(npath, sizeof(npath), "%s.name", path);
    if (!v)
        return np_error_set(NP_EINVAL, "%s: required", npath);
    if ((rc = check_piece_name(v, npath)) != 0)
        return rc;
    for (size_t j = 0; j < i; j++) {
        const char *other = *(char *const *)(const void *)((const char *)items + j * size);
        if (np_str_eq(other, v))
            return np_error_set(NP_EINVAL, "%s: \"%s\" is already the name of spec.%s[%zu]", npath,
                                v, list, j);
    }
    *out = np_strdup(v);
    return 0;
}

/* Calls fn(ctx, item, "<path>.<k>[i]", i, m) for each object of the optional list o.k (at most
 * max items); fn counts the item in its owner before parsing it. */
static int each_item(json_object *o, const char *k, const char *path, size_t max,
                     int (*fn)(void *ctx, json_object *item, const char *path, size_t i, size_t m),
                     void *ctx)
{
    json_object *arr = NULL;
    int rc = np_posture_json_array(o, k, path, &arr);
    if (rc || !arr)
        return rc;
    size_t m = json_object_array_length(arr);
    if (m > max)
        return np_error_set(NP_EINVAL, "%s.%s: %zu items, at most %zu", path, k, m, max);
    for (size_t i = 0; i < m; i++) {
        char ipath[PATH_LEN];
        snprintf(ipath, sizeof(ipath), "%s.%s[%zu]", path, k, i);
        json_object *item = json_object_array_get_idx(arr, i);
        if (!item || !json_object_is_type(item, json_type_object))
            return np_error_set(NP_EINVAL, "%s: must be an object", ipath);
        if ((rc = fn(ctx, item, ipath, i, m)) != 0)
            return rc;
    }
    return 0;
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static bool listed(char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (np_str_eq(names[i], name))
            return true;
    return false;
}

/* ---------------------------------------------------------------- subnets */

static int parse_subnet(void *ctx, json_object *js, const char *path, size_t i, size_t m)
{
    struct np_posture_vpc_spec *s = ctx;
    const char *az = NULL;
    int rc = 0;
    if (i == 0)
        s->subnets = np_xcalloc(m, sizeof(*s->subnets));
    struct np_posture_subnet_spec *sn = &s->subnets[s->n_subnets++];
    if ((rc = parse_name(js, path, "subnets", s->subnets, sizeof(*sn), i, &sn->name)) != 0 ||
        (rc = parse_block(js, path, &sn->cidr_block)) != 0)
        return rc;
    if (!block_covers(s->cidr_block, sn->cidr_block))
        return np_error_set(NP_EINVAL, "%s.cidrBlock: %s is not inside the VPC's %s", path,
                            sn->cidr_block, s->cidr_block);
    for (size_t j = 0; j < i; j++) {
        const char *other = s->subnets[j].cidr_block;
        if (block_covers(other, sn->cidr_block) || block_covers(sn->cidr_block, other))
            return np_error_set(NP_EINVAL, "%s.cidrBlock: %s overlaps spec.subnets[%zu] (%s)", path,
                                sn->cidr_block, j, other);
    }
    if ((rc = np_posture_json_string(js, "availabilityZone", path, &az)) != 0)
        return rc;
    if (az && !*az)
        return np_error_set(NP_EINVAL,
                            "%s.availabilityZone: must not be empty (omit it to let "
                            "AWS pick)",
                            path);
    sn->availability_zone = np_strdup(az);
    if ((rc = np_posture_json_bool(js, "mapPublicIpOnLaunch", path, &sn->has_map_public_ip,
                                   &sn->map_public_ip)) != 0 ||
        (rc = np_posture_json_tags(js, path, &sn->tags, &sn->n_tags)) != 0)
        return rc;
    return parse_id(js, "subnetId", path, "subnet-", "subnet id", &sn->subnet_id);
}

/*
 * spec.<list>[index].subnets: names of declared subnets, each listed once, and in no earlier
 * item of the list (a subnet has one route table and one network ACL).
 */
static int parse_subnet_refs(json_object *o, const char *path, const struct np_posture_vpc_spec *s,
                             bool acl, size_t index, char ***names, size_t *n)
{
    int rc = np_posture_json_string_list(o, "subnets", path, names, n, check_piece_name);
    if (rc)
        return rc;
    for (size_t k = 0; k < *n; k++) {
        const char *name = (*names)[k];
        bool declared = false;
        for (size_t j = 0; j < s->n_subnets && !declared; j++)
            declared = np_str_eq(s->subnets[j].name, name);
        if (!declared)
            return np_error_set(NP_EINVAL, "%s.subnets[%zu]: no subnet \"%s\" in spec.subnets",
                                path, k, name);
        if (listed(*names, k, name))
            return np_error_set(NP_EINVAL, "%s.subnets[%zu]: subnet \"%s\" is listed twice", path,
                                k, name);
        for (size_t j = 0; j < index; j++) {
            bool taken =
                acl ? listed(s->network_acls[j].subnets, s->network_acls[j].n_subnets, name)
                    : listed(s->route_tables[j].subnets, s->route_tables[j].n_subnets, name);
            if (taken)
                return np_error_set(NP_EINVAL,
                                    "%s.subnets[%zu]: subnet \"%s\" is already in spec.%s[%zu]",
                                    path, k, name, acl ? "networkAcls" : "routeTables", j);
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- route tables */

/* Ids a route target takes (NULL-terminated prefixes), indexed by enum np_posture_route_target. */
static const char *const target_prefixes[NP_POSTURE_ROUTE_TARGET_COUNT][4] = {
    [NP_POSTURE_ROUTE_GATEWAY] = {"igw-", "vgw-", "vpce-", NULL},
    [NP_POSTURE_ROUTE_NAT_GATEWAY] = {"nat-", NULL},
    [NP_POSTURE_ROUTE_TRANSIT_GATEWAY] = {"tgw-", NULL},
    [NP_POSTURE_ROUTE_VPC_PEERING] = {"pcx-", NULL},
    [NP_POSTURE_ROUTE_EGRESS_ONLY_IGW] = {"eigw-", NULL},
    [NP_POSTURE_ROUTE_CARRIER_GATEWAY] = {"cagw-", NULL},
    [NP_POSTURE_ROUTE_LOCAL_GATEWAY] = {"lgw-", NULL},
    [NP_POSTURE_ROUTE_CORE_NETWORK] = {NULL},
    [NP_POSTURE_ROUTE_INSTANCE] = {"i-", NULL},
    [NP_POSTURE_ROUTE_NETWORK_INTERFACE] = {"eni-", NULL},
};

static int check_target(enum np_posture_route_target kind, const char *v, const char *path)
{
    const char *field = np_posture_route_target_name(kind);
    if (kind == NP_POSTURE_ROUTE_CORE_NETWORK) {
        if (!np_str_has_prefix(v, "arn:") || strstr(v, ":networkmanager:") == NULL)
            return np_error_set(NP_EINVAL, "%s.%s: \"%.64s\" is not a core network ARN", path,
                                field, v);
        return 0;
    }
    if (kind == NP_POSTURE_ROUTE_GATEWAY && strcmp(v, "local") == 0)
        return np_error_set(NP_EINVAL,
                            "%s.gatewayId: the local route is AWS's; it is never declared", path);
    for (size_t i = 0; target_prefixes[kind][i]; i++)
        if (np_posture_is_aws_id(v, target_prefixes[kind][i]))
            return 0;
    struct np_buf b = NP_BUF_INIT;
    for (size_t i = 0; target_prefixes[kind][i]; i++)
        np_buf_appendf(&b, "%s%s...", i ? ", " : "", target_prefixes[kind][i]);
    int rc = np_error_set(NP_EINVAL, "%s.%s: \"%.64s\" is not a %s id (%s)", path, field, v, field,
                          np_buf_cstr(&b));
    np_buf_clean_up(&b);
    return rc;
}

static int parse_destination(json_object *jr, const char *path, struct np_posture_route *r)
{
    static const struct {
        const char *field;
        enum np_posture_route_dest kind;
    } dests[] = {
        {"destinationCidrBlock", NP_POSTURE_DEST_CIDR4},
        {"destinationIpv6CidrBlock", NP_POSTURE_DEST_CIDR6},
        {"destinationPrefixListId", NP_POSTURE_DEST_PREFIX_LIST},
    };
    const char *dest = NULL, *field = NULL;
    size_t n = 0;
    int rc = 0;
    for (size_t i = 0; i < NP_ARRAY_LEN(dests); i++) {
        const char *v = NULL;
        if ((rc = np_posture_json_string(jr, dests[i].field, path, &v)) != 0)
            return rc;
        if (!v)
            continue;
        n++;
        dest = v;
        field = dests[i].field;
        r->dest_kind = dests[i].kind;
    }
    if (n != 1)
        return np_error_set(NP_EINVAL,
                            "%s: set exactly one of destinationCidrBlock, "
                            "destinationIpv6CidrBlock and destinationPrefixListId",
                            path);
    if (r->dest_kind == NP_POSTURE_DEST_PREFIX_LIST && !np_posture_is_aws_id(dest, "pl-"))
        return np_error_set(NP_EINVAL, "%s.%s: \"%.64s\" is not a prefix list id (pl-...)", path,
                            field, dest);
    if ((rc = np_posture_route_dest_canonical(&r->destination, r->dest_kind, dest)) != 0)
        return np_error_set(rc, "%s.%s: %s", path, field, np_error_message());
    return 0;
}

static int parse_route(json_object *jr, const char *path, struct np_posture_route *r)
{
    const char *target = NULL;
    size_t n_targets = 0;
    int rc = parse_destination(jr, path, r);
    if (rc)
        return rc;
    for (int t = 0; t < NP_POSTURE_ROUTE_TARGET_COUNT; t++) {
        const char *v = NULL;
        enum np_posture_route_target kind = (enum np_posture_route_target)t;
        if ((rc = np_posture_json_string(jr, np_posture_route_target_name(kind), path, &v)) != 0)
            return rc;
        if (!v)
            continue;
        n_targets++;
        target = v;
        r->target_kind = kind;
    }
    if (n_targets != 1) {
        struct np_buf b = NP_BUF_INIT;
        for (int t = 0; t < NP_POSTURE_ROUTE_TARGET_COUNT; t++)
            np_buf_appendf(&b, "%s%s", t ? ", " : "",
                           np_posture_route_target_name((enum np_posture_route_target)t));
        rc = np_error_set(NP_EINVAL, "%s: set exactly one target (%s)", path, np_buf_cstr(&b));
        np_buf_clean_up(&b);
        return rc;
    }
    if ((rc = check_target(r->target_kind, target, path)) != 0)
        return rc;
    r->target = np_posture_route_target_canonical(r->target_kind, target);
    return 0;
}

static int parse_route_item(void *ctx, json_object *jr, const char *path, size_t i, size_t m)
{
    struct np_posture_route_table_spec *t = ctx;
    if (i == 0)
        t->routes = np_xcalloc(m, sizeof(*t->routes));
    struct np_posture_route *r = &t->routes[t->n_routes++];
    int rc = parse_route(jr, path, r);
    if (rc)
        return rc;
    for (size_t j = 0; j < i; j++)
        if (np_posture_route_identity_cmp(&t->routes[j], r) == 0)
            return np_error_set(NP_EINVAL,
                                "%s: destination %s is declared twice (first in "
                                "routes[%zu])",
                                path, r->destination, j);
    return 0;
}

static int route_qcmp(const void *x, const void *y)
{
    return np_posture_route_identity_cmp(x, y);
}

static int parse_route_table(void *ctx, json_object *js, const char *path, size_t i, size_t m)
{
    struct np_posture_vpc_spec *s = ctx;
    int rc = 0;
    if (i == 0)
        s->route_tables = np_xcalloc(m, sizeof(*s->route_tables));
    struct np_posture_route_table_spec *t = &s->route_tables[s->n_route_tables++];
    if ((rc = parse_name(js, path, "routeTables", s->route_tables, sizeof(*t), i, &t->name)) != 0 ||
        (rc = parse_subnet_refs(js, path, s, false, i, &t->subnets, &t->n_subnets)) != 0 ||
        (rc = each_item(js, "routes", path, MAX_ROUTES, parse_route_item, t)) != 0 ||
        (rc = np_posture_json_tags(js, path, &t->tags, &t->n_tags)) != 0)
        return rc;
    if (t->n_routes > 1)
        qsort(t->routes, t->n_routes, sizeof(*t->routes), route_qcmp);
    return parse_id(js, "routeTableId", path, "rtb-", "route table id", &t->route_table_id);
}

/* ---------------------------------------------------------------- network ACLs */

/* fromPort/toPort (tcp and udp only, both required there) and icmpType/icmpCode (icmp and
 * icmpv6 only) of an entry whose canonical protocol is set. */
static int parse_entry_ranges(json_object *je, const char *path, struct np_posture_nacl_entry *e)
{
    bool has_from = false, has_to = false, has_type = false, has_code = false;
    int64_t from = 0, to = 0, type = -1, code = -1;
    int rc = 0;
    if ((rc = np_posture_json_int(je, "fromPort", path, 0, 65535, &has_from, &from)) != 0 ||
        (rc = np_posture_json_int(je, "toPort", path, 0, 65535, &has_to, &to)) != 0 ||
        (rc = np_posture_json_int(je, "icmpType", path, -1, 255, &has_type, &type)) != 0 ||
        (rc = np_posture_json_int(je, "icmpCode", path, -1, 255, &has_code, &code)) != 0)
        return rc;
    bool icmp = np_posture_protocol_is_icmp(e->protocol);
    bool ports = np_posture_protocol_has_ports(e->protocol) && !icmp;
    if (ports && (!has_from || !has_to))
        return np_error_set(NP_EINVAL, "%s: %s entries need fromPort and toPort", path,
                            e->protocol);
    if (!ports && (has_from || has_to))
        return np_error_set(NP_EINVAL, "%s.%s: only tcp and udp entries have ports", path,
                            has_from ? "fromPort" : "toPort");
    if (ports && from > to)
        return np_error_set(NP_EINVAL, "%s: fromPort %lld > toPort %lld", path, (long long)from,
                            (long long)to);
    if (!icmp && (has_type || has_code))
        return np_error_set(NP_EINVAL, "%s.%s: only icmp and icmpv6 entries have a type and code",
                            path, has_type ? "icmpType" : "icmpCode");
    if (icmp && type == -1 && code != -1)
        return np_error_set(NP_EINVAL,
                            "%s: ICMP type -1 (all types) needs code -1, not icmpCode %lld", path,
                            (long long)code);
    np_posture_nacl_entry_ranges(e, ports, (int)from, (int)to, icmp, (int)type, (int)code);
    return 0;
}

static int parse_entry(json_object *je, const char *path, struct np_posture_nacl_entry *e)
{
    static const char *const actions[] = {"allow", "deny"};
    const char *proto = NULL, *v4 = NULL, *v6 = NULL;
    bool has = false;
    int64_t number = 0;
    int action = -1, rc = 0;
    char canon[8];
    if ((rc = np_posture_json_int(je, "ruleNumber", path, 1, 32766, &has, &number)) != 0)
        return rc;
    if (!has)
        return np_error_set(NP_EINVAL, "%s.ruleNumber: required", path);
    e->rule_number = (int)number;
    if ((rc = np_posture_json_bool(je, "egress", path, &has, &e->egress)) != 0 ||
        (rc = np_posture_json_string(je, "protocol", path, &proto)) != 0)
        return rc;
    if (!proto)
        return np_error_set(NP_EINVAL, "%s.protocol: required", path);
    if ((rc = np_posture_protocol_canonical(proto, canon)) != 0)
        return np_error_set(rc, "%s.protocol: %s", path, np_error_message());
    e->protocol = np_strdup(canon);
    if ((rc = np_posture_json_enum(je, "action", path, actions, 2, -1, &action)) != 0)
        return rc;
    if (action < 0)
        return np_error_set(NP_EINVAL, "%s.action: required", path);
    e->allow = action == 0;
    if ((rc = np_posture_json_string(je, "cidrBlock", path, &v4)) != 0 ||
        (rc = np_posture_json_string(je, "ipv6CidrBlock", path, &v6)) != 0)
        return rc;
    if (!v4 == !v6)
        return np_error_set(NP_EINVAL, "%s: set exactly one of cidrBlock and ipv6CidrBlock", path);
    e->ipv6 = v6 != NULL;
    if ((rc = np_posture_cidr_canonical(&e->cidr, v6 ? v6 : v4, e->ipv6)) != 0)
        return np_error_set(rc, "%s.%s: %s", path, v6 ? "ipv6CidrBlock" : "cidrBlock",
                            np_error_message());
    return parse_entry_ranges(je, path, e);
}

static int parse_entry_item(void *ctx, json_object *je, const char *path, size_t i, size_t m)
{
    struct np_posture_network_acl_spec *a = ctx;
    if (i == 0)
        a->entries = np_xcalloc(m, sizeof(*a->entries));
    struct np_posture_nacl_entry *e = &a->entries[a->n_entries++];
    int rc = parse_entry(je, path, e);
    if (rc)
        return rc;
    for (size_t j = 0; j < i; j++)
        if (np_posture_nacl_entry_identity_cmp(&a->entries[j], e) == 0)
            return np_error_set(NP_EINVAL, "%s: ruleNumber %d is used twice for %s", path,
                                e->rule_number, e->egress ? "egress" : "ingress");
    return 0;
}

static int entry_qcmp(const void *x, const void *y)
{
    return np_posture_nacl_entry_identity_cmp(x, y);
}

static int parse_network_acl(void *ctx, json_object *js, const char *path, size_t i, size_t m)
{
    struct np_posture_vpc_spec *s = ctx;
    int rc = 0;
    if (i == 0)
        s->network_acls = np_xcalloc(m, sizeof(*s->network_acls));
    struct np_posture_network_acl_spec *a = &s->network_acls[s->n_network_acls++];
    if ((rc = parse_name(js, path, "networkAcls", s->network_acls, sizeof(*a), i, &a->name)) != 0 ||
        (rc = parse_subnet_refs(js, path, s, true, i, &a->subnets, &a->n_subnets)) != 0 ||
        (rc = each_item(js, "entries", path, MAX_ENTRIES, parse_entry_item, a)) != 0 ||
        (rc = np_posture_json_tags(js, path, &a->tags, &a->n_tags)) != 0)
        return rc;
    if (a->n_entries > 1)
        qsort(a->entries, a->n_entries, sizeof(*a->entries), entry_qcmp);
    return parse_id(js, "networkAclId", path, "acl-", "network ACL id", &a->network_acl_id);
}

/* ---------------------------------------------------------------- flow logs, default SG */

static int parse_flow_logs(json_object *js, struct np_posture_vpc_spec *s)
{
    static const char *const traffic[] = {"ACCEPT", "REJECT", "ALL"};
    const char *path = "spec.flowLogs";
    struct np_posture_flow_logs_spec *f = &s->flow_logs;
    json_object *jf = NULL;
    const char *dest = NULL, *role = NULL;
    bool has = false;
    int v = 0, rc = np_posture_json_object(js, "flowLogs", "spec", &jf);
    if (rc || !jf)
        return rc;
    s->has_flow_logs = true;
    f->enabled = true; /* declaring flow logs asks for them unless enabled: false */
    if ((rc = np_posture_json_bool(jf, "enabled", path, &has, &f->enabled)) != 0 ||
        (rc = np_posture_json_enum(jf, "trafficType", path, traffic, 3, 2, &v)) != 0)
        return rc;
    f->traffic_type = np_strdup(traffic[v]);
    if ((rc = np_posture_json_string(jf, "destination", path, &dest)) != 0 ||
        (rc = np_posture_json_string(jf, "deliverLogsPermissionArn", path, &role)) != 0)
        return rc;
    if (!dest && f->enabled)
        return np_error_set(NP_EINVAL, "%s.destination: required when flow logs are enabled", path);
    if (dest) {
        const char *type = np_posture_flow_log_destination_type(dest);
        if (!type)
            return np_error_set(NP_EINVAL,
                                "%s.destination: \"%.128s\" is not the ARN of an S3 bucket, a "
                                "CloudWatch Logs log group or a Kinesis Data Firehose stream",
                                path, dest);
        f->destination = np_strdup(dest);
        f->destination_type = np_strdup(type);
    }
    bool cwl = np_str_eq(f->destination_type, "cloud-watch-logs");
    if (role && (!np_str_has_prefix(role, "arn:") || !strstr(role, ":iam::")))
        return np_error_set(NP_EINVAL,
                            "%s.deliverLogsPermissionArn: \"%.128s\" is not an IAM role ARN", path,
                            role);
    if (role && np_str_eq(f->destination_type, "s3"))
        return np_error_set(NP_EINVAL,
                            "%s.deliverLogsPermissionArn: not used for an S3 destination", path);
    if (!role && cwl && f->enabled)
        return np_error_set(NP_EINVAL,
                            "%s.deliverLogsPermissionArn: required for a CloudWatch Logs "
                            "destination",
                            path);
    f->deliver_logs_permission_arn = np_strdup(role);
    return 0;
}

static int parse_default_sg(json_object *js, struct np_posture_vpc_spec *s)
{
    json_object *jd = NULL;
    bool has = false;
    int rc = np_posture_json_object(js, "defaultSecurityGroup", "spec", &jd);
    if (rc || !jd)
        return rc;
    return np_posture_json_bool(jd, "restrictAll", "spec.defaultSecurityGroup", &has,
                                &s->restrict_default_sg);
}

/* ---------------------------------------------------------------- spec */

int np_posture_vpc_spec_parse(struct np_posture_vpc_spec **out, json_object *js)
{
    static const char *const ownership[] = {"Exclusive", "Additive"};
    static const struct np_posture_id_kind vpc_id = {"vpcId", "vpc-", "VPC id"};
    int v = 0, rc = 0;
    struct np_posture_vpc_spec *s = np_xcalloc(1, sizeof(*s));
    *out = NULL;
    if ((rc = np_posture_json_placement(js, &s->account_ref, &s->region)) != 0)
        goto out;
    if ((rc = parse_block(js, "spec", &s->cidr_block)) != 0 ||
        (rc = np_posture_json_management(js, &vpc_id, &s->management.policy, &s->management.vpc_id,
                                         &s->management.deletion_policy)) != 0)
        goto out;
    np_posture_lower(s->management.vpc_id);
    if ((rc = np_posture_json_bool(js, "enableDnsSupport", "spec", &s->has_enable_dns_support,
                                   &s->enable_dns_support)) != 0 ||
        (rc = np_posture_json_bool(js, "enableDnsHostnames", "spec", &s->has_enable_dns_hostnames,
                                   &s->enable_dns_hostnames)) != 0 ||
        (rc = np_posture_json_tags(js, "spec", &s->tags, &s->n_tags)) != 0 ||
        (rc = parse_flow_logs(js, s)) != 0 || (rc = parse_default_sg(js, s)) != 0 ||
        (rc = each_item(js, "subnets", "spec", MAX_SUBNETS, parse_subnet, s)) != 0 ||
        (rc = each_item(js, "routeTables", "spec", MAX_TABLES, parse_route_table, s)) != 0 ||
        (rc = each_item(js, "networkAcls", "spec", MAX_TABLES, parse_network_acl, s)) != 0 ||
        (rc = np_posture_json_enum(js, "ownership", "spec", ownership, 2, 0, &v)) != 0)
        goto out;
    s->ownership = (enum np_posture_ownership)v;
    rc = np_posture_json_remediation(js, &s->remediation);
out:
    if (rc) {
        np_posture_vpc_spec_destroy(s);
        return rc;
    }
    *out = s;
    return 0;
}

void np_posture_vpc_spec_destroy(struct np_posture_vpc_spec *s)
{
    if (!s)
        return;
    free(s->account_ref);
    free(s->region);
    free(s->cidr_block);
    free(s->management.vpc_id);
    np_posture_tags_free(s->tags, s->n_tags);
    free(s->flow_logs.traffic_type);
    free(s->flow_logs.destination);
    free(s->flow_logs.destination_type);
    free(s->flow_logs.deliver_logs_permission_arn);
    for (size_t i = 0; i < s->n_subnets; i++) {
        struct np_posture_subnet_spec *sn = &s->subnets[i];
        free(sn->name);
        free(sn->cidr_block);
        free(sn->availability_zone);
        np_posture_tags_free(sn->tags, sn->n_tags);
        free(sn->subnet_id);
    }
    free(s->subnets);
    for (size_t i = 0; i < s->n_route_tables; i++) {
        struct np_posture_route_table_spec *t = &s->route_tables[i];
        free(t->name);
        free_names(t->subnets, t->n_subnets);
        for (size_t j = 0; j < t->n_routes; j++)
            np_posture_route_clean_up(&t->routes[j]);
        free(t->routes);
        np_posture_tags_free(t->tags, t->n_tags);
        free(t->route_table_id);
    }
    free(s->route_tables);
    for (size_t i = 0; i < s->n_network_acls; i++) {
        struct np_posture_network_acl_spec *a = &s->network_acls[i];
        free(a->name);
        free_names(a->subnets, a->n_subnets);
        for (size_t j = 0; j < a->n_entries; j++)
            np_posture_nacl_entry_clean_up(&a->entries[j]);
        free(a->entries);
        np_posture_tags_free(a->tags, a->n_tags);
        free(a->network_acl_id);
    }
    free(s->network_acls);
    np_posture_remediation_clean_up(&s->remediation);
    free(s);
}
