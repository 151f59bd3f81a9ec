/*
 * VPC plans and texts: the drift items of a VPC delta become one atomic action each, ordered
 * make-before-break (guardrail removals first, creations before replacements, removals last),
 * with one stable text line per action; and the texts of routes, network ACL entries and VPC
 * drift items that the status, the plan and the history all share.
 */
#include "posture/private/posture_private.h"

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- texts */

const char *np_posture_route_target_name(enum np_posture_route_target t)
{
    static const char *const names[] = {
        "gatewayId",
        "natGatewayId",
        "transitGatewayId",
        "vpcPeeringConnectionId",
        "egressOnlyInternetGatewayId",
        "carrierGatewayId",
        "localGatewayId",
        "coreNetworkArn",
        "instanceId",
        "networkInterfaceId",
    };
    return (size_t)t < NP_ARRAY_LEN(names) ? names[t] : "unknownTarget";
}

/* "natGatewayId nat-0abc", or "no target" (a blackhole route whose target is gone). */
static void put_route_target(struct np_buf *b, const struct np_posture_route *r)
{
    if (!r->target) {
        np_buf_puts(b, "no target");
        return;
    }
    np_buf_appendf(b, "%s ", np_posture_route_target_name(r->target_kind));
    np_posture_put_escaped(b, r->target, false);
}

char *np_posture_route_text(const struct np_posture_route *r)
{
    struct np_buf b = NP_BUF_INIT;
    np_posture_put_escaped(&b, r->destination, false);
    np_buf_putc(&b, ' ');
    put_route_target(&b, r);
    return np_buf_take(&b);
}

/* The entry as an atomic rule view (borrowed strings): the rule text is the entry's text. */
static struct np_posture_rule entry_view(const struct np_posture_nacl_entry *e)
{
    bool icmp = np_posture_protocol_is_icmp(e->protocol);
    return (struct np_posture_rule){
        e->egress ? NP_POSTURE_EGRESS : NP_POSTURE_INGRESS,
        e->protocol,
        icmp ? e->icmp_type : e->from_port,
        icmp ? e->icmp_code : e->to_port,
        e->ipv6 ? NP_POSTURE_PEER_CIDR6 : NP_POSTURE_PEER_CIDR4,
        e->cidr,
        NULL,
    };
}

/* "allow tcp 443 10.0.0.0/8" */
static void put_entry(struct np_buf *b, const struct np_posture_nacl_entry *e)
{
    struct np_posture_rule view = entry_view(e);
    char *rule = np_posture_rule_text(&view);
    np_buf_appendf(b, "%s %s", e->allow ? "allow" : "deny", rule);
    free(rule);
}

char *np_posture_nacl_entry_text(const struct np_posture_nacl_entry *e)
{
    struct np_buf b = NP_BUF_INIT;
    put_entry(&b, e);
    return np_buf_take(&b);
}

bool np_posture_nacl_entry_rule(const struct np_posture_nacl_entry *e, struct np_posture_rule *out)
{
    if (!e || !e->allow || !e->protocol)
        return false;
    struct np_posture_rule view = entry_view(e);
    np_posture_rule_copy(out, &view);
    return true;
}

/* "ingress all 0.0.0.0/0": a rule with its direction. */
static void put_directed_rule(struct np_buf *b, const struct np_posture_rule *r)
{
    char *rule = np_posture_rule_text(r);
    np_buf_appendf(b, "%s %s", np_posture_direction_name(r->direction), rule);
    free(rule);
}

/* "ALL to s3 arn:aws:s3:::b" */
static void put_flow_log(struct np_buf *b, const struct np_posture_vpc_drift *v)
{
    const char *type = np_posture_flow_log_destination_type(v->target_id);
    np_posture_put_escaped(b, v->key, false);
    np_buf_appendf(b, " to %s ", type ? type : "unknown");
    np_posture_put_escaped(b, v->target_id, false);
}

char *np_posture_vpc_drift_text(const struct np_posture_drift *d)
{
    const struct np_posture_vpc_drift *v = d->vpc;
    struct np_buf b = NP_BUF_INIT;
    np_buf_puts(&b, "");
    switch (v->item) {
    case NP_POSTURE_VPC_ITEM_PIECE: np_posture_put_escaped(&b, v->key, false); break;
    case NP_POSTURE_VPC_ITEM_ATTRIBUTE:
        np_posture_put_escaped(&b, v->key, false);
        np_buf_appendf(&b, "=%s (is %s)", v->value ? "true" : "false", v->value ? "false" : "true");
        break;
    case NP_POSTURE_VPC_ITEM_TAG:
        np_posture_put_escaped(&b, d->tag.key, false);
        np_buf_putc(&b, '=');
        np_posture_put_escaped(&b, d->tag.value, false);
        break;
    case NP_POSTURE_VPC_ITEM_ROUTE: {
        char *route = np_posture_route_text(&v->route);
        np_buf_puts(&b, route);
        free(route);
        if (d->change == NP_POSTURE_CHANGED) {
            np_buf_puts(&b, " (is ");
            put_route_target(&b, &v->have_route);
            np_buf_putc(&b, ')');
        }
        break;
    }
    case NP_POSTURE_VPC_ITEM_NACL_ENTRY:
        np_posture_put_escaped(&b, v->key, false);
        np_buf_putc(&b, ' ');
        put_entry(&b, &v->entry);
        if (d->change == NP_POSTURE_CHANGED) {
            np_buf_puts(&b, " (is ");
            put_entry(&b, &v->have_entry);
            np_buf_putc(&b, ')');
        }
        break;
    case NP_POSTURE_VPC_ITEM_ROUTE_ASSOC:
    case NP_POSTURE_VPC_ITEM_NACL_ASSOC:
        np_buf_puts(&b, "subnet ");
        np_posture_put_escaped(&b, v->key, false);
        break;
    case NP_POSTURE_VPC_ITEM_FLOW_LOG: put_flow_log(&b, v); break;
    case NP_POSTURE_VPC_ITEM_DEFAULT_SG: put_directed_rule(&b, &d->rule); break;
    }
    return np_buf_take(&b);
}

/* ---------------------------------------------------------------- plan */

/* The action that repairs a VPC drift item; false when there is none here (the VPC itself is
 * created by the controller; combinations the diff never makes). */
static bool action_kind(const struct np_posture_drift *d, enum np_posture_vpc_action_kind *kind)
{
    const struct np_posture_vpc_drift *v = d->vpc;
    bool missing = d->change == NP_POSTURE_MISSING, extra = d->change == NP_POSTURE_EXTRA;
    bool changed = d->change == NP_POSTURE_CHANGED;
    switch (v->item) {
    case NP_POSTURE_VPC_ITEM_PIECE:
        if (!missing || !v->piece)
            return false;
        if (np_str_has_prefix(v->piece, "subnet/"))
            *kind = NP_POSTURE_VPC_CREATE_SUBNET;
        else if (np_str_has_prefix(v->piece, "routeTable/"))
            *kind = NP_POSTURE_VPC_CREATE_ROUTE_TABLE;
        else if (np_str_has_prefix(v->piece, "networkAcl/"))
            *kind = NP_POSTURE_VPC_CREATE_NETWORK_ACL;
        else
            return false;
        return true;
    case NP_POSTURE_VPC_ITEM_ATTRIBUTE: *kind = NP_POSTURE_VPC_SET_ATTRIBUTE; return changed;
    case NP_POSTURE_VPC_ITEM_TAG:
        *kind =
            d->change == NP_POSTURE_TAG_EXTRA ? NP_POSTURE_VPC_TAG_DELETE : NP_POSTURE_VPC_TAG_SET;
        return d->change == NP_POSTURE_TAG_EXTRA || d->change == NP_POSTURE_TAG_MISSING ||
               d->change == NP_POSTURE_TAG_CHANGED;
    case NP_POSTURE_VPC_ITEM_ROUTE:
        *kind = missing   ? NP_POSTURE_VPC_ROUTE_CREATE
                : changed ? NP_POSTURE_VPC_ROUTE_REPLACE
                          : NP_POSTURE_VPC_ROUTE_DELETE;
        return missing || changed || extra;
    case NP_POSTURE_VPC_ITEM_ROUTE_ASSOC:
        *kind = missing ? NP_POSTURE_VPC_RT_ASSOCIATE : NP_POSTURE_VPC_RT_DISASSOCIATE;
        return missing || extra;
    case NP_POSTURE_VPC_ITEM_NACL_ENTRY:
        *kind = missing   ? NP_POSTURE_VPC_ENTRY_CREATE
                : changed ? NP_POSTURE_VPC_ENTRY_REPLACE
                          : NP_POSTURE_VPC_ENTRY_DELETE;
        return missing || changed || extra;
    case NP_POSTURE_VPC_ITEM_NACL_ASSOC:
        *kind = missing ? NP_POSTURE_VPC_NACL_ASSOCIATE : NP_POSTURE_VPC_NACL_DISASSOCIATE;
        return missing || extra;
    case NP_POSTURE_VPC_ITEM_FLOW_LOG: *kind = NP_POSTURE_VPC_FLOW_LOG_CREATE; return missing;
    case NP_POSTURE_VPC_ITEM_DEFAULT_SG: *kind = NP_POSTURE_VPC_REVOKE_DEFAULT_SG; return extra;
    }
    return false;
}

/* Network ACL entries by what they do to reachability: entries that only widen it (an allow
 * created, a deny deleted or replaced by an allow) rank with the creations, so every flow the
 * new spec adds is allowed before any the old spec had goes; entries that narrow it (a deny
 * created, an allow deleted) rank with the removals; other replacements stay in place. -1: not
 * an entry action. */
static int entry_rank(const struct np_posture_vpc_action *a)
{
    bool widens = !np_posture_drift_is_subtractive(&a->item);
    switch (a->kind) {
    case NP_POSTURE_VPC_ENTRY_CREATE:
    case NP_POSTURE_VPC_ENTRY_DELETE: return widens ? 6 : 16;
    case NP_POSTURE_VPC_ENTRY_REPLACE: return widens ? 6 : 9;
    default: return -1;
    }
}

/*
 * The ordering rule, one rank per kind: guardrail-marked removals first (entry deletes and
 * replaces, then default-SG revokes: security before availability), then make-before-break:
 * creations (and entries that widen), replacements, associations, attributes, tags, and the
 * removals (and entries that narrow) last.
 */
static int action_rank(const struct np_posture_vpc_action *a)
{
    static const int ranks[] = {
        [NP_POSTURE_VPC_CREATE_SUBNET] = 2,      [NP_POSTURE_VPC_CREATE_ROUTE_TABLE] = 3,
        [NP_POSTURE_VPC_CREATE_NETWORK_ACL] = 4, [NP_POSTURE_VPC_ROUTE_CREATE] = 5,
        [NP_POSTURE_VPC_ENTRY_CREATE] = 6,       [NP_POSTURE_VPC_FLOW_LOG_CREATE] = 7,
        [NP_POSTURE_VPC_ROUTE_REPLACE] = 8,      [NP_POSTURE_VPC_ENTRY_REPLACE] = 9,
        [NP_POSTURE_VPC_RT_ASSOCIATE] = 10,      [NP_POSTURE_VPC_NACL_ASSOCIATE] = 11,
        [NP_POSTURE_VPC_SET_ATTRIBUTE] = 12,     [NP_POSTURE_VPC_TAG_SET] = 13,
        [NP_POSTURE_VPC_TAG_DELETE] = 14,        [NP_POSTURE_VPC_ROUTE_DELETE] = 15,
        [NP_POSTURE_VPC_ENTRY_DELETE] = 16,      [NP_POSTURE_VPC_RT_DISASSOCIATE] = 17,
        [NP_POSTURE_VPC_NACL_DISASSOCIATE] = 18, [NP_POSTURE_VPC_REVOKE_DEFAULT_SG] = 19,
    };
    if (a->item.guardrail) {
        if (a->kind == NP_POSTURE_VPC_ENTRY_DELETE || a->kind == NP_POSTURE_VPC_ENTRY_REPLACE)
            return 0;
        if (a->kind == NP_POSTURE_VPC_REVOKE_DEFAULT_SG)
            return 1;
    }
    int entry = entry_rank(a);
    if (entry >= 0)
        return entry;
    return (size_t)a->kind < NP_ARRAY_LEN(ranks) ? ranks[a->kind] : 20;
}

struct ranked_action {
    int rank;
    size_t index; /* delta order: the sort is stable */
    struct np_posture_vpc_action action;
};

static int ranked_action_cmp(const void *x, const void *y)
{
    const struct ranked_action *a = x, *b = y;
    if (a->rank != b->rank)
        return a->rank < b->rank ? -1 : 1;
    return a->index < b->index ? -1 : a->index > b->index;
}

int np_posture_vpc_plan_build(struct np_posture_vpc_plan *out, const struct np_posture_delta *delta)
{
    struct ranked_action *ranked = NULL;
    size_t n = 0;
    memset(out, 0, sizeof(*out));
    if (!delta || delta->n == 0)
        goto out;
    ranked = np_xcalloc(delta->n, sizeof(*ranked));
    for (size_t i = 0; i < delta->n; i++) {
        const struct np_posture_drift *d = &delta->items[i];
        enum np_posture_vpc_action_kind kind = NP_POSTURE_VPC_CREATE_SUBNET;
        if (!d->vpc || !action_kind(d, &kind))
            continue;
        struct ranked_action *r = &ranked[n++];
        r->action.kind = kind;
        np_posture_drift_copy(&r->action.item, d);
        r->rank = action_rank(&r->action);
        r->index = i;
    }
    if (n == 0)
        goto out;
    qsort(ranked, n, sizeof(*ranked), ranked_action_cmp);
    out->actions = np_xcalloc(n, sizeof(*out->actions));
    for (size_t i = 0; i < n; i++)
        out->actions[i] = ranked[i].action; /* moved */
    out->n = n;
out:
    free(ranked);
    return 0;
}

void np_posture_vpc_plan_clean_up(struct np_posture_vpc_plan *p)
{
    for (size_t i = 0; i < p->n; i++)
        np_posture_drift_clean_up(&p->actions[i].item);
    free(p->actions);
    p->actions = NULL;
    p->n = 0;
}

/* The text line of one action (owned). */
static char *vpc_action_line(const struct np_posture_vpc_action *a)
{
    static const char *const verbs[] = {
        [NP_POSTURE_VPC_CREATE_SUBNET] = "create",
        [NP_POSTURE_VPC_CREATE_ROUTE_TABLE] = "create",
        [NP_POSTURE_VPC_CREATE_NETWORK_ACL] = "create",
        [NP_POSTURE_VPC_SET_ATTRIBUTE] = "set",
        [NP_POSTURE_VPC_TAG_SET] = "tag set",
        [NP_POSTURE_VPC_TAG_DELETE] = "tag delete",
        [NP_POSTURE_VPC_ROUTE_CREATE] = "route create",
        [NP_POSTURE_VPC_ROUTE_REPLACE] = "route replace",
        [NP_POSTURE_VPC_ROUTE_DELETE] = "route delete",
        [NP_POSTURE_VPC_RT_ASSOCIATE] = "associate",
        [NP_POSTURE_VPC_RT_DISASSOCIATE] = "disassociate",
        [NP_POSTURE_VPC_ENTRY_CREATE] = "entry create",
        [NP_POSTURE_VPC_ENTRY_REPLACE] = "entry replace",
        [NP_POSTURE_VPC_ENTRY_DELETE] = "entry delete",
        [NP_POSTURE_VPC_NACL_ASSOCIATE] = "associate",
        [NP_POSTURE_VPC_NACL_DISASSOCIATE] = "disassociate",
        [NP_POSTURE_VPC_FLOW_LOG_CREATE] = "flow-log create",
        [NP_POSTURE_VPC_REVOKE_DEFAULT_SG] = "revoke",
    };
    const struct np_posture_drift *d = &a->item;
    const struct np_posture_vpc_drift *v = d->vpc;
    struct np_buf b = NP_BUF_INIT;
    np_buf_puts(&b, (size_t)a->kind < NP_ARRAY_LEN(verbs) ? verbs[a->kind] : "unknown");
    np_buf_putc(&b, ' ');
    if (a->kind == NP_POSTURE_VPC_FLOW_LOG_CREATE) {
        np_buf_puts(&b, "vpc ");
        np_posture_put_escaped(&b, v->key, false);
        const char *type = np_posture_flow_log_destination_type(v->target_id);
        np_buf_appendf(&b, " %s ", type ? type : "unknown");
        np_posture_put_escaped(&b, v->target_id, false);
        return np_buf_take(&b);
    }
    np_posture_put_escaped(&b, v->piece, false);
    switch (a->kind) {
    case NP_POSTURE_VPC_CREATE_SUBNET:
    case NP_POSTURE_VPC_ROUTE_DELETE:
    case NP_POSTURE_VPC_ENTRY_DELETE:
    case NP_POSTURE_VPC_RT_DISASSOCIATE:
    case NP_POSTURE_VPC_NACL_DISASSOCIATE:
        np_buf_putc(&b, ' ');
        np_posture_put_escaped(&b, v->key, false);
        break;
    case NP_POSTURE_VPC_SET_ATTRIBUTE:
        np_buf_putc(&b, ' ');
        np_posture_put_escaped(&b, v->key, false);
        np_buf_puts(&b, v->value ? " true" : " false");
        break;
    case NP_POSTURE_VPC_TAG_SET:
        np_buf_putc(&b, ' ');
        np_posture_put_escaped(&b, d->tag.key, false);
        np_buf_putc(&b, '=');
        np_posture_put_escaped(&b, d->tag.value, false);
        break;
    case NP_POSTURE_VPC_TAG_DELETE:
        np_buf_putc(&b, ' ');
        np_posture_put_escaped(&b, d->tag.key, false);
        break;
    case NP_POSTURE_VPC_ROUTE_CREATE:
    case NP_POSTURE_VPC_ROUTE_REPLACE: {
        char *route = np_posture_route_text(&v->route);
        np_buf_appendf(&b, " %s", route);
        free(route);
        break;
    }
    case NP_POSTURE_VPC_RT_ASSOCIATE:
    case NP_POSTURE_VPC_NACL_ASSOCIATE:
        np_buf_puts(&b, " subnet/");
        np_posture_put_escaped(&b, v->key, false);
        break;
    case NP_POSTURE_VPC_ENTRY_CREATE:
    case NP_POSTURE_VPC_ENTRY_REPLACE:
        np_buf_putc(&b, ' ');
        np_posture_put_escaped(&b, v->key, false);
        np_buf_putc(&b, ' ');
        put_entry(&b, &v->entry);
        break;
    case NP_POSTURE_VPC_REVOKE_DEFAULT_SG:
        np_buf_putc(&b, ' ');
        put_directed_rule(&b, &d->rule);
        break;
    default: break;
    }
    return np_buf_take(&b);
}

int np_posture_vpc_plan_text(char ***lines, size_t *n, const struct np_posture_vpc_plan *p)
{
    *lines = np_xcalloc(p->n + 1, sizeof(char *));
    for (size_t i = 0; i < p->n; i++)
        (*lines)[i] = vpc_action_line(&p->actions[i]);
    if (n)
        *n = p->n;
    return 0;
}

uint64_t np_posture_vpc_fingerprint(const struct np_posture_delta *delta, const char *vpc_id)
{
    struct np_buf b = NP_BUF_INIT;
    np_buf_appendf(&b, "%s\n", vpc_id ? vpc_id : "");
    for (size_t i = 0; i < delta->n; i++) {
        char *t = np_posture_drift_text(&delta->items[i]);
        np_buf_appendf(&b, "%s %s %s\n", np_posture_drift_scope(&delta->items[i]),
                       np_posture_change_name(delta->items[i].change), t);
        free(t);
    }
    uint64_t h = np_hash_str(np_buf_cstr(&b));
    np_buf_clean_up(&b);
    return h;
}
