/*
 * Decoders for the VPC pieces: DescribeSubnets, DescribeRouteTables, DescribeNetworkAcls and
 * DescribeFlowLogs pages as np_aws_xml_list kinds (xml.c walks the list, ids and tags; the
 * handlers here fill the fields, routes, entries and associations), and Create/DeleteFlowLogs
 * answers.
 */
#include "aws/private/aws_private.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/*
 * A list nested in a Describe item (routes, associations, entries): <set> at depth 4, a child of
 * the item; its <item>s at depth 5; their fields at depth 6 and below. Every access to a nested
 * element goes through nested_open (an <item> of the set opens: append a zeroed element) and
 * nested_current (the element whose <item> encloses the current element), and both decide by
 * the same test of the path, so a field can only ever reach an element that was opened: in
 * <routeSet><x><destinationCidrBlock> nothing is inside an <item> of routeSet, and the field is
 * ignored like any unknown element.
 */
struct nested {
    const char *set; /* "routeSet" */
    size_t arr_off;  /* offsetof the array in the item struct */
    size_t n_off;    /* offsetof its size_t count */
    size_t elem;     /* sizeof an element */
};

#define NESTED(set, type, arr, n)                                                                  \
    {                                                                                              \
        set, offsetof(type, arr), offsetof(type, n), sizeof(*((type *)NULL)->arr)                  \
    }

static const struct nested route_set =
    NESTED("routeSet", struct np_aws_route_table, routes, n_routes);
static const struct nested rt_assoc_set =
    NESTED("associationSet", struct np_aws_route_table, assocs, n_assocs);
static const struct nested entry_set = NESTED("entrySet", struct np_aws_nacl, entries, n_entries);
static const struct nested nacl_assoc_set =
    NESTED("associationSet", struct np_aws_nacl, assocs, n_assocs);

/* True when the current element is an <item> of the list l (depth 5) or inside one. */
static bool in_nested_item(const struct np_aws_xw *w, const struct nested *l)
{
    return w->depth >= 5 && strcmp(np_aws_xw_at(w, 4), l->set) == 0 &&
           strcmp(np_aws_xw_at(w, 5), "item") == 0;
}

/* On an element opening below an item: appends a zeroed element to l when it is l's <item>. */
static bool nested_open(const struct np_aws_xw *w, void *item, const struct nested *l)
{
    if (w->depth != 5 || !in_nested_item(w, l))
        return false;
    char **arr = (char **)(void *)((char *)item + l->arr_off);
    size_t *n = (size_t *)(void *)((char *)item + l->n_off);
    char *grown = np_aws_xml_append(*arr, *n, 1, l->elem);
    memset(grown + *n * l->elem, 0, l->elem);
    *arr = grown;
    (*n)++;
    return true;
}

/* The element of l being read when the current element is its <item> or inside it; else NULL. */
static void *nested_current(const struct np_aws_xw *w, void *item, const struct nested *l)
{
    if (!in_nested_item(w, l))
        return NULL;
    char *arr = *(char **)(void *)((char *)item + l->arr_off);
    size_t n = *(size_t *)(void *)((char *)item + l->n_off);
    /* n > 0: nested_open ran when this <item> opened (same path test) */
    return n > 0 ? arr + (n - 1) * l->elem : NULL;
}

/* An association item closed: it must have named its id (id_name) in the table or ACL `owner`. */
static int check_assoc(const char *assoc_id, const char *id_name, const char *owner)
{
    if (np_str_is_empty(assoc_id))
        return np_error_set(NP_EPARSE, "XML: an association of %s has no %s",
                            owner ? owner : "an item", id_name);
    return 0;
}

/* ---------------------------------------------------------------- DescribeSubnets */

static int subnet_end(struct np_aws_xw *w, void *item, unsigned *seen, const char *name,
                      const char *text)
{
    struct np_aws_subnet *s = item;
    (void)seen;
    if (w->depth != 4)
        return 0;
    if (strcmp(name, "subnetId") == 0)
        np_aws_xml_set_str(&s->subnet_id, text);
    else if (strcmp(name, "vpcId") == 0)
        np_aws_xml_set_str(&s->vpc_id, text);
    else if (strcmp(name, "cidrBlock") == 0)
        np_aws_xml_set_str(&s->cidr_block, text);
    else if (strcmp(name, "availabilityZone") == 0)
        np_aws_xml_set_str(&s->availability_zone, text);
    else if (strcmp(name, "state") == 0)
        np_aws_xml_set_str(&s->state, text);
    else if (strcmp(name, "mapPublicIpOnLaunch") == 0)
        return np_aws_xml_parse_bool(text, "mapPublicIpOnLaunch", &s->map_public_ip_on_launch);
    return 0;
}

static void free_subnets(void *items, size_t n)
{
    np_aws_subnets_free(items, n);
}

const struct np_aws_xml_list np_aws_xml_subnets = {
    .root = "DescribeSubnetsResponse",
    .set = "subnetSet",
    .id_name = "subnetId",
    .elem = sizeof(struct np_aws_subnet),
    .id_off = offsetof(struct np_aws_subnet, subnet_id),
    .tags_off = offsetof(struct np_aws_subnet, tags),
    .n_tags_off = offsetof(struct np_aws_subnet, n_tags),
    .end = subnet_end,
    .free_items = free_subnets,
};

/* ---------------------------------------------------------------- DescribeRouteTables */

static int route_table_start(struct np_aws_xw *w, void *item, unsigned *seen, const char *name)
{
    struct np_aws_route_table *t = item;
    (void)seen, (void)name;
    if (!nested_open(w, t, &route_set))
        nested_open(w, t, &rt_assoc_set);
    return 0;
}

/* Keeps a destination or target only if none of a kind earlier in its enum was seen. */
static int route_field(struct np_aws_route *r, const char *name, const char *text)
{
    if (np_str_is_empty(text))
        return 0;
    for (int k = NP_AWS_ROUTE_DEST_CIDR4; k <= NP_AWS_ROUTE_DEST_PREFIX_LIST; k++) {
        if (strcmp(name, np_aws_route_dest_name((enum np_aws_route_dest)k)) != 0)
            continue;
        if (!r->destination || k < (int)r->dest_kind) {
            r->dest_kind = (enum np_aws_route_dest)k;
            np_aws_xml_set_str(&r->destination, text);
        }
        return 0;
    }
    for (int k = 0; k < NP_AWS_ROUTE_TARGET_COUNT; k++) {
        if (strcmp(name, np_aws_route_target_name((enum np_aws_route_target)k)) != 0)
            continue;
        if (!r->has_target || k < (int)r->target_kind) {
            r->has_target = true;
            r->target_kind = (enum np_aws_route_target)k;
            np_aws_xml_set_str(&r->target, text);
        }
        return 0;
    }
    if (strcmp(name, "origin") == 0)
        np_aws_xml_set_str(&r->origin, text);
    else if (strcmp(name, "state") == 0)
        np_aws_xml_set_str(&r->state, text);
    return 0;
}

static int route_table_end(struct np_aws_xw *w, void *item, unsigned *seen, const char *name,
                           const char *text)
{
    struct np_aws_route_table *t = item;
    struct np_aws_route *r = nested_current(w, t, &route_set);
    struct np_aws_rt_assoc *a = nested_current(w, t, &rt_assoc_set);
    (void)seen;
    if (w->depth == 4) {
        if (strcmp(name, "routeTableId") == 0)
            np_aws_xml_set_str(&t->route_table_id, text);
        else if (strcmp(name, "vpcId") == 0)
            np_aws_xml_set_str(&t->vpc_id, text);
    } else if (r && w->depth == 6) {
        return route_field(r, name, text);
    } else if (r && w->depth == 5) {
        if (!r->destination)
            return np_error_set(NP_EPARSE, "XML: a route of %s has no destination",
                                t->route_table_id ? t->route_table_id : "a route table");
    } else if (a && w->depth == 6) {
        if (strcmp(name, "routeTableAssociationId") == 0)
            np_aws_xml_set_str(&a->association_id, text);
        else if (strcmp(name, "subnetId") == 0)
            np_aws_xml_set_str(&a->subnet_id, text);
        else if (strcmp(name, "main") == 0)
            return np_aws_xml_parse_bool(text, "main", &a->main);
    } else if (a && w->depth == 5) {
        return check_assoc(a->association_id, "routeTableAssociationId", t->route_table_id);
    }
    return 0;
}

static void free_route_tables(void *items, size_t n)
{
    np_aws_route_tables_free(items, n);
}

const struct np_aws_xml_list np_aws_xml_route_tables = {
    .root = "DescribeRouteTablesResponse",
    .set = "routeTableSet",
    .id_name = "routeTableId",
    .elem = sizeof(struct np_aws_route_table),
    .id_off = offsetof(struct np_aws_route_table, route_table_id),
    .tags_off = offsetof(struct np_aws_route_table, tags),
    .n_tags_off = offsetof(struct np_aws_route_table, n_tags),
    .start = route_table_start,
    .end = route_table_end,
    .free_items = free_route_tables,
};

/* ---------------------------------------------------------------- DescribeNetworkAcls */

/* What an entry named (the scratch bits of the NACL kind). */
enum {
    SEEN_RULE_NUMBER = 1u << 0,
    SEEN_ACTION = 1u << 1,
    SEEN_EGRESS = 1u << 2,
    SEEN_PORT_FROM = 1u << 3,
    SEEN_PORT_TO = 1u << 4,
    SEEN_ICMP_TYPE = 1u << 5,
    SEEN_ICMP_CODE = 1u << 6,
};

static int nacl_start(struct np_aws_xw *w, void *item, unsigned *seen, const char *name)
{
    struct np_aws_nacl *a = item;
    (void)name;
    if (nested_open(w, a, &entry_set))
        *seen = 0;
    else
        nested_open(w, a, &nacl_assoc_set);
    return 0;
}

/* portRange/{from,to} and icmpTypeCode/{type,code} of an entry (depth 7). */
static int nacl_entry_pair(struct np_aws_xw *w, struct np_aws_nacl_entry *e, unsigned *seen,
                           const char *name, const char *text)
{
    if (np_aws_xw_up_is(w, 1, "portRange")) {
        if (strcmp(name, "from") == 0) {
            *seen |= SEEN_PORT_FROM;
            return np_aws_xml_parse_int(text, "portRange/from", -1, 65535, &e->from_port);
        }
        if (strcmp(name, "to") == 0) {
            *seen |= SEEN_PORT_TO;
            return np_aws_xml_parse_int(text, "portRange/to", -1, 65535, &e->to_port);
        }
    } else if (np_aws_xw_up_is(w, 1, "icmpTypeCode")) {
        if (strcmp(name, "type") == 0) {
            *seen |= SEEN_ICMP_TYPE;
            return np_aws_xml_parse_int(text, "icmpTypeCode/type", -1, 255, &e->icmp_type);
        }
        if (strcmp(name, "code") == 0) {
            *seen |= SEEN_ICMP_CODE;
            return np_aws_xml_parse_int(text, "icmpTypeCode/code", -1, 255, &e->icmp_code);
        }
    }
    return 0;
}

static int nacl_entry_field(struct np_aws_nacl_entry *e, unsigned *seen, const char *name,
                            const char *text)
{
    if (strcmp(name, "ruleNumber") == 0) {
        *seen |= SEEN_RULE_NUMBER;
        return np_aws_xml_parse_int(text, "ruleNumber", 1, 32767, &e->rule_number);
    }
    if (strcmp(name, "egress") == 0) {
        *seen |= SEEN_EGRESS;
        return np_aws_xml_parse_bool(text, "egress", &e->egress);
    }
    if (strcmp(name, "ruleAction") == 0) {
        *seen |= SEEN_ACTION;
        if (strcmp(text, "allow") != 0 && strcmp(text, "deny") != 0)
            return np_error_set(NP_EPARSE, "XML: ruleAction \"%.32s\" is not allow or deny", text);
        e->allow = strcmp(text, "allow") == 0;
    } else if (strcmp(name, "protocol") == 0) {
        np_aws_xml_set_str(&e->protocol, text);
    } else if (strcmp(name, "cidrBlock") == 0) {
        np_aws_xml_set_str(&e->cidr, text);
    } else if (strcmp(name, "ipv6CidrBlock") == 0) {
        np_aws_xml_set_str(&e->ipv6_cidr, text);
    }
    return 0;
}

/* Checks an entry once its item closes. */
static int nacl_entry_finish(const struct np_aws_nacl *a, struct np_aws_nacl_entry *e,
                             unsigned seen)
{
    const unsigned required = SEEN_RULE_NUMBER | SEEN_ACTION | SEEN_EGRESS;
    const unsigned ports = seen & (SEEN_PORT_FROM | SEEN_PORT_TO);
    const unsigned icmp = seen & (SEEN_ICMP_TYPE | SEEN_ICMP_CODE);
    const char *id = a->network_acl_id ? a->network_acl_id : "a network ACL";
    if ((seen & required) != required || np_str_is_empty(e->protocol))
        return np_error_set(NP_EPARSE,
                            "XML: an entry of %s lacks ruleNumber, protocol, "
                            "ruleAction or egress",
                            id);
    if ((ports && ports != (SEEN_PORT_FROM | SEEN_PORT_TO)) ||
        (icmp && icmp != (SEEN_ICMP_TYPE | SEEN_ICMP_CODE)))
        return np_error_set(NP_EPARSE,
                            "XML: entry %d of %s has half a portRange or "
                            "icmpTypeCode",
                            e->rule_number, id);
    e->has_ports = ports != 0;
    e->has_icmp = icmp != 0;
    return 0;
}

static int nacl_end(struct np_aws_xw *w, void *item, unsigned *seen, const char *name,
                    const char *text)
{
    struct np_aws_nacl *a = item;
    struct np_aws_nacl_entry *e = nested_current(w, a, &entry_set);
    struct np_aws_nacl_assoc *as = nested_current(w, a, &nacl_assoc_set);
    if (w->depth == 4) {
        if (strcmp(name, "networkAclId") == 0)
            np_aws_xml_set_str(&a->network_acl_id, text);
        else if (strcmp(name, "vpcId") == 0)
            np_aws_xml_set_str(&a->vpc_id, text);
        else if (strcmp(name, "default") == 0)
            return np_aws_xml_parse_bool(text, "default", &a->is_default);
    } else if (e && w->depth == 7) {
        return nacl_entry_pair(w, e, seen, name, text);
    } else if (e && w->depth == 6) {
        return nacl_entry_field(e, seen, name, text);
    } else if (e && w->depth == 5) {
        return nacl_entry_finish(a, e, *seen);
    } else if (as && w->depth == 6) {
        if (strcmp(name, "networkAclAssociationId") == 0)
            np_aws_xml_set_str(&as->association_id, text);
        else if (strcmp(name, "subnetId") == 0)
            np_aws_xml_set_str(&as->subnet_id, text);
    } else if (as && w->depth == 5) {
        return check_assoc(as->association_id, "networkAclAssociationId", a->network_acl_id);
    }
    return 0;
}

static void free_nacls(void *items, size_t n)
{
    np_aws_nacls_free(items, n);
}

const struct np_aws_xml_list np_aws_xml_nacls = {
    .root = "DescribeNetworkAclsResponse",
    .set = "networkAclSet",
    .id_name = "networkAclId",
    .elem = sizeof(struct np_aws_nacl),
    .id_off = offsetof(struct np_aws_nacl, network_acl_id),
    .tags_off = offsetof(struct np_aws_nacl, tags),
    .n_tags_off = offsetof(struct np_aws_nacl, n_tags),
    .start = nacl_start,
    .end = nacl_end,
    .free_items = free_nacls,
};

/* ---------------------------------------------------------------- DescribeFlowLogs */

static int flow_log_end(struct np_aws_xw *w, void *item, unsigned *seen, const char *name,
                        const char *text)
{
    struct np_aws_flow_log *f = item;
    static const struct {
        const char *name;
        size_t off;
    } fields[] = {
        {"flowLogId", offsetof(struct np_aws_flow_log, flow_log_id)},
        {"resourceId", offsetof(struct np_aws_flow_log, resource_id)},
        {"trafficType", offsetof(struct np_aws_flow_log, traffic_type)},
        {"logDestinationType", offsetof(struct np_aws_flow_log, log_destination_type)},
        {"logDestination", offsetof(struct np_aws_flow_log, log_destination)},
        {"logGroupName", offsetof(struct np_aws_flow_log, log_group_name)},
        {"deliverLogsPermissionArn", offsetof(struct np_aws_flow_log, deliver_logs_permission_arn)},
        {"flowLogStatus", offsetof(struct np_aws_flow_log, flow_log_status)},
    };
    (void)seen;
    if (w->depth != 4)
        return 0;
    for (size_t i = 0; i < NP_ARRAY_LEN(fields); i++) {
        if (strcmp(name, fields[i].name) == 0) {
            np_aws_xml_set_str((char **)(void *)((char *)f + fields[i].off), text);
            break;
        }
    }
    return 0;
}

static void free_flow_logs(void *items, size_t n)
{
    np_aws_flow_logs_free(items, n);
}

const struct np_aws_xml_list np_aws_xml_flow_logs = {
    .root = "DescribeFlowLogsResponse",
    .set = "flowLogSet",
    .id_name = "flowLogId",
    .elem = sizeof(struct np_aws_flow_log),
    .id_off = offsetof(struct np_aws_flow_log, flow_log_id),
    .tags_off = offsetof(struct np_aws_flow_log, tags),
    .n_tags_off = offsetof(struct np_aws_flow_log, n_tags),
    .end = flow_log_end,
    .free_items = free_flow_logs,
};

/* ---------------------------------------------------------------- Create/DeleteFlowLogs */

struct fl_result_ctx {
    char *id;
    size_t n_unsuccessful;
    char *code;
    char *message;
};

static int fl_result_end(struct np_aws_xw *w, const char *name, const char *text)
{
    struct fl_result_ctx *c = w->ctx;
    if (w->depth == 3 && strcmp(name, "item") == 0) {
        if (np_aws_xw_up_is(w, 1, "flowLogIdSet") && !c->id && !np_str_is_empty(text))
            c->id = np_strdup(text);
        else if (np_aws_xw_up_is(w, 1, "unsuccessful"))
            c->n_unsuccessful++;
    } else if (w->depth == 5 && c->n_unsuccessful == 0 && np_aws_xw_up_is(w, 1, "error") &&
               np_aws_xw_up_is(w, 3, "unsuccessful")) {
        /* only the first unsuccessful item's error is kept */
        if (strcmp(name, "code") == 0)
            np_aws_xml_set_str(&c->code, text);
        else if (strcmp(name, "message") == 0)
            np_aws_xml_set_str(&c->message, text);
    }
    return 0;
}

int np_aws_xml_decode_flow_logs_result(const char *xml, size_t len, const char *root,
                                       char **flow_log_id, size_t *n_unsuccessful,
                                       char **error_code, char **error_message)
{
    struct fl_result_ctx c = {NULL, 0, NULL, NULL};
    struct np_aws_xw w = {.root = root, .on_end = fl_result_end, .ctx = &c};
    int rc = np_aws_xw_parse(&w, xml, len);
    if (rc == 0) {
        if (flow_log_id) {
            *flow_log_id = c.id;
            c.id = NULL;
        }
        *n_unsuccessful = c.n_unsuccessful;
        *error_code = c.code;
        *error_message = c.message;
        c.code = c.message = NULL;
    }
    free(c.id);
    free(c.code);
    free(c.message);
    return rc;
}
