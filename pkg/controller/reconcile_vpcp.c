/*
 * Reconcile of one VPCPosture: find / create / adopt the VPC, read it and every piece inside
 * it (attributes, subnets, route tables, network ACLs, flow logs, the default security group),
 * match the declared pieces to the AWS objects we own, diff and plan with pkg/posture, then
 * the shared pass (pass.c) decides, applies make-before-break, verifies and reports. Deletion
 * goes in dependency order (flow logs, ACLs, route tables, subnets, VPC) or drops our tags.
 */
#include "controller/private/controller_private.h"

#include <stdlib.h>
#include <string.h>

/* One VPCPosture pass: the shared pass first (pass.c casts it back). */
struct vctx {
    struct np_controller_pass p;
    struct np_posture_vpc_spec *spec;
    struct np_observe_vpc o; /* the VPC and its pieces as read, matched and viewed */
    char *created_vpc_id;    /* the VPC created in this pass (kept in status even if unread) */
    int created;             /* pieces created in this pass: their insides are planned next pass */
};

/* ---------------------------------------------------------------- reading AWS */

static struct np_aws_ec2 *region_ec2(struct vctx *v)
{
    return np_controller_region_ec2(v->p.use.region);
}

static int read_vpc(struct vctx *v, const char *vpc_id, struct np_aws_vpc **out)
{
    return np_observe_vpc_describe(region_ec2(v), "vpc-id", vpc_id, out);
}

/* The VPC our uid tag marks, if any. */
static int find_vpc_by_uid(struct vctx *v, struct np_aws_vpc **out)
{
    return np_observe_vpc_describe(region_ec2(v), "tag:" NP_POSTURE_TAG_UID, v->p.uid, out);
}

/* Delete calls of the declared piece kinds (what a CloudTrail event names). */
static const char *const delete_call[NP_OBSERVE_PIECE_KINDS] = {
    [NP_OBSERVE_SUBNET] = "DeleteSubnet",
    [NP_OBSERVE_ROUTE_TABLE] = "DeleteRouteTable",
    [NP_OBSERVE_NETWORK_ACL] = "DeleteNetworkAcl",
};

/* Reads the VPC (v->o.vpc set) and everything inside it, and matches the declared pieces. */
static int observe(struct vctx *v)
{
    int rc = np_observe_vpc_read(&v->o, region_ec2(v));
    if (rc == 0)
        np_observe_vpc_settle(&v->o, v->spec, v->p.uid, v->p.old_status);
    return rc;
}

/* Reads everything again (after a change): the VPC by id, then its pieces. */
static int reobserve(struct vctx *v)
{
    char *id = np_strdup(v->o.vpc->vpc_id);
    np_observe_vpc_forget(&v->o);
    np_aws_vpcs_free(v->o.vpc, 1);
    v->o.vpc = NULL;
    int rc = read_vpc(v, id, &v->o.vpc);
    if (rc == NP_ENOTFOUND)
        rc = np_error_set(NP_ENOTFOUND, "VPC %s vanished", id);
    free(id);
    return rc ? rc : observe(v);
}

/* ---------------------------------------------------------------- the VPC */

/*
 * A second VPC carrying our uid (two controllers created at once, or a create whose answer was
 * lost): reported, and in Enforce mode deleted, since the uid tag proves it is ours (Detect
 * and Propose never change AWS). One that AWS refuses to delete (pieces in it) stays reported
 * every pass until a human removes it.
 */
static void handle_duplicate(struct vctx *v, const char *keep, const char *extra, bool enforce)
{
    int rc = enforce ? np_aws_ec2_delete_vpc(region_ec2(v), extra) : 0;
    bool deleted = enforce && (rc == 0 || rc == NP_ENOTFOUND);
    char *note =
        deleted   ? np_strdupf("deleted VPC %s: a duplicate carrying this posture's uid (the "
                                 "posture's VPC is %s)",
                               extra, keep)
        : enforce ? np_strdupf("VPC %s is a duplicate carrying this posture's uid (the "
                               "posture's VPC is %s); it could not be deleted: %s",
                               extra, keep, np_error_message())
                  : np_strdupf("VPC %s is a duplicate carrying this posture's uid (the "
                               "posture's VPC is %s); left alone in mode %s",
                               extra, keep, np_posture_mode_name(v->spec->remediation.mode));
    np_controller_pass_emit(&v->p, deleted ? "Normal" : "Warning", "DuplicateFound", "Delete",
                            note);
    np_log_warn("duplicate VPC carrying our uid", "namespace", v->p.ns, "name", v->p.name, "vpcId",
                extra, "kept", keep);
    free(note);
    np_error_clear();
}

/*
 * The VPC carrying our uid tag (one filtered read): the one the status names when several do,
 * else the first; every other one is a duplicate (handle_duplicate). NP_ENOTFOUND when none.
 */
static int find_vpc_with_uid(struct vctx *v, const char *status_id, bool enforce,
                             struct np_aws_vpc **out)
{
    const char *values[] = {v->p.uid};
    struct np_aws_filter f = {"tag:" NP_POSTURE_TAG_UID, values, 1};
    struct np_aws_vpc *vpcs = NULL;
    size_t n = 0, keep = 0;
    *out = NULL;
    int rc = np_aws_ec2_describe_vpcs(region_ec2(v), &vpcs, &n, &f, 1);
    /* The filter is not taken on trust: only a VPC carrying our uid is ours (duplicates are
     * deleted in Enforce mode). */
    size_t w = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (!np_str_eq(np_aws_tag_get(vpcs[i].tags, vpcs[i].n_tags, NP_POSTURE_TAG_UID),
                       v->p.uid)) {
            np_aws_vpc_clean_up(&vpcs[i]);
            continue;
        }
        vpcs[w++] = vpcs[i];
    }
    if (rc == 0)
        n = w;
    if (rc == 0 && n == 0)
        rc = NP_ENOTFOUND;
    if (rc) {
        np_aws_vpcs_free(vpcs, n);
        return rc;
    }
    for (size_t i = 0; status_id && i < n; i++)
        if (np_str_eq(vpcs[i].vpc_id, status_id))
            keep = i;
    for (size_t i = 0; i < n; i++)
        if (i != keep)
            handle_duplicate(v, vpcs[keep].vpc_id, vpcs[i].vpc_id, enforce);
    *out = np_xcalloc(1, sizeof(**out));
    **out = vpcs[keep];
    memset(&vpcs[keep], 0, sizeof(vpcs[keep]));
    np_aws_vpcs_free(vpcs, n);
    return 0;
}

/* Creates the VPC with our tags and reads it (v->o.vpc); see np_controller_pass_object_ops.create.
 */
static int create_vpc(struct np_controller_pass *p, struct np_controller_result *res)
{
    (void)res;
    struct vctx *v = (struct vctx *)p;
    const struct np_posture_vpc_spec *spec = v->spec;
    char *owner = NULL, *vpc_id = NULL;
    struct np_aws_tag *tags = NULL;
    size_t nt = 0;
    int rc = np_controller_pass_ensure_finalizer(&v->p);
    if (rc)
        goto out;
    tags =
        np_controller_pass_tags_with_ownership(&v->p, &owner, NULL, spec->tags, spec->n_tags, &nt);
    rc = np_aws_ec2_create_vpc(region_ec2(v), &vpc_id, spec->cidr_block, tags, nt);
    if (rc)
        goto out;
    char *note = np_strdupf("created VPC %s (%s)", vpc_id, spec->cidr_block);
    np_controller_pass_emit(&v->p, "Normal", "Created", "Create", note);
    np_log_info("created VPC", "namespace", v->p.ns, "name", v->p.name, "vpcId", vpc_id);
    free(note);
    v->created_vpc_id = np_strdup(vpc_id); /* in status even if the read below fails */
    rc = read_vpc(v, vpc_id, &v->o.vpc);
out:
    free(owner);
    free(tags);
    free(vpc_id);
    return rc;
}

static int read_vpc_hook(struct np_controller_pass *p, const char *id, bool may_defer)
{
    (void)may_defer; /* no poller reads VPCs: nothing to wait for */
    struct vctx *v = (struct vctx *)p;
    return read_vpc(v, id, &v->o.vpc);
}

static int find_vpc_hook(struct np_controller_pass *p, const char *status_id, bool enforce)
{
    struct vctx *v = (struct vctx *)p;
    return find_vpc_with_uid(v, status_id, enforce, &v->o.vpc);
}

static const char *found_vpc(struct np_controller_pass *p, const struct np_aws_tag **tags,
                             size_t *n)
{
    const struct np_aws_vpc *vpc = ((struct vctx *)p)->o.vpc;
    if (tags)
        *tags = vpc ? vpc->tags : NULL;
    if (n)
        *n = vpc ? vpc->n_tags : 0;
    return vpc ? vpc->vpc_id : NULL;
}

static void forget_vpc(struct np_controller_pass *p)
{
    struct vctx *v = (struct vctx *)p;
    np_aws_vpcs_free(v->o.vpc, v->o.vpc ? 1 : 0);
    v->o.vpc = NULL;
}

/* The uid lookup runs first: it is one filtered read and finds duplicates too. */
static const struct np_controller_pass_object_ops vpc_ops = {
    .noun = "VPC",
    .not_found = NP_CONTROLLER_REASON_VPC_NOT_FOUND,
    .uid_first = true,
    .read = read_vpc_hook,
    .find_by_uid = find_vpc_hook,
    .found = found_vpc,
    .forget = forget_vpc,
    .create = create_vpc,
    .adopted = NULL,
};

/* Restores our ownership tags on an AWS object (adoption, or deleted out of band); sets
 * *changed when it put them. */
static int ensure_owned(struct vctx *v, const char *id, const char *piece,
                        const struct np_aws_tag *have, size_t n_have, bool *changed)
{
    char *owner = NULL;
    struct np_aws_tag own[3];
    size_t n = np_controller_pass_ownership_tags(&v->p, &owner, piece, own);
    bool missing = false;
    for (size_t i = 0; i < n; i++)
        if (!np_str_eq(np_aws_tag_get(have, n_have, own[i].key), own[i].value))
            missing = true;
    int rc = 0;
    if (missing) {
        bool adopting = !np_aws_tag_get(have, n_have, NP_POSTURE_TAG_UID);
        rc = np_controller_pass_ensure_finalizer(&v->p);
        if (rc == 0)
            rc = np_aws_ec2_create_tags(region_ec2(v), id, own, n);
        if (rc == 0) {
            *changed = true;
            char *note = adopting ? np_strdupf("adopted %s", id)
                                  : np_strdupf("restored the ownership tags on %s", id);
            np_controller_pass_emit(&v->p, "Normal", adopting ? "Adopted" : "Remediated",
                                    adopting ? "Adopt" : "Tag", note);
            free(note);
        }
    }
    free(owner);
    return rc;
}

/* Ownership tags on the VPC and every matched piece; true in *changed when tags were put. */
static int ensure_all_owned(struct vctx *v, bool *changed)
{
    *changed = false;
    int rc = ensure_owned(v, v->o.vpc->vpc_id, NULL, v->o.vpc->tags, v->o.vpc->n_tags, changed);
    for (int k = 0; k < NP_OBSERVE_PIECE_KINDS; k++)
        for (size_t i = 0;
             rc == 0 && i < np_observe_declared_count(v->spec, (enum np_observe_piece_kind)k);
             i++) {
            if (v->o.at[k][i] < 0)
                continue;
            const char *adopt_id = NULL;
            const struct np_aws_tag *tags = NULL;
            size_t nt = 0;
            char *text = np_observe_piece_text(
                np_observe_declared(v->spec, (enum np_observe_piece_kind)k, i, &adopt_id));
            const char *id = np_observe_vpc_object(&v->o, (enum np_observe_piece_kind)k,
                                                   (size_t)v->o.at[k][i], &tags, &nt);
            rc = ensure_owned(v, id, text, tags, nt, changed);
            free(text);
        }
    return rc;
}

/* ---------------------------------------------------------------- applying */

/* Gone already counts as done. */
static int done_if_gone(int rc)
{
    return rc == NP_ENOTFOUND ? 0 : rc;
}

/* NACL entries travel with protocol numbers. */
static const char *protocol_number(const char *canonical)
{
    if (np_str_eq(canonical, "tcp"))
        return "6";
    if (np_str_eq(canonical, "udp"))
        return "17";
    if (np_str_eq(canonical, "icmp"))
        return "1";
    if (np_str_eq(canonical, "icmpv6"))
        return "58";
    return canonical; /* "-1" or a number */
}

static struct np_aws_nacl_entry aws_entry(const struct np_posture_nacl_entry *e)
{
    struct np_aws_nacl_entry a;
    memset(&a, 0, sizeof(a));
    a.rule_number = e->rule_number;
    a.egress = e->egress;
    a.protocol = (char *)protocol_number(e->protocol);
    a.allow = e->allow;
    a.cidr = e->ipv6 ? NULL : e->cidr;
    a.ipv6_cidr = e->ipv6 ? e->cidr : NULL;
    a.has_ports = np_str_eq(e->protocol, "tcp") || np_str_eq(e->protocol, "udp");
    a.from_port = e->from_port;
    a.to_port = e->to_port;
    a.has_icmp = np_str_eq(e->protocol, "icmp") || np_str_eq(e->protocol, "icmpv6");
    a.icmp_type = e->icmp_type;
    a.icmp_code = e->icmp_code;
    return a;
}

static struct np_aws_route aws_route(const struct np_posture_route *r)
{
    struct np_aws_route a;
    memset(&a, 0, sizeof(a));
    a.dest_kind = (enum np_aws_route_dest)r->dest_kind;
    a.destination = r->destination;
    a.has_target = true;
    a.target_kind = (enum np_aws_route_target)r->target_kind;
    a.target = r->target;
    return a;
}

/* Creates the i-th declared piece of kind k with its tags (and a subnet's
 * mapPublicIpOnLaunch); a table or ACL with a client token, so a retry creates no second. */
static int create_piece(struct vctx *v, enum np_observe_piece_kind k, int index)
{
    size_t i = (size_t)index;
    struct np_aws_ec2 *ec2 = region_ec2(v);
    const struct np_posture_vpc_spec *s = v->spec;
    const char *adopt_id = NULL, *vpc_id = v->o.vpc->vpc_id;
    struct np_observe_piece pid = np_observe_declared(s, k, i, &adopt_id);
    char *text = np_observe_piece_text(pid), *owner = NULL, *id = NULL, *token = NULL;
    struct np_aws_tag *tags = NULL;
    size_t nt = 0;
    int rc = 0;
    if (k != NP_OBSERVE_SUBNET)
        token = np_controller_pass_client_token(&v->p, text,
                                                np_observe_status_piece_id(v->p.old_status, pid));
    switch (k) {
    case NP_OBSERVE_SUBNET: {
        const struct np_posture_subnet_spec *sn = &s->subnets[i];
        tags =
            np_controller_pass_tags_with_ownership(&v->p, &owner, text, sn->tags, sn->n_tags, &nt);
        rc = np_aws_ec2_create_subnet(ec2, &id, vpc_id, sn->cidr_block, sn->availability_zone, tags,
                                      nt);
        if (rc == 0 && sn->has_map_public_ip && sn->map_public_ip)
            rc = np_aws_ec2_modify_subnet_map_public_ip(ec2, id, true);
        break;
    }
    case NP_OBSERVE_ROUTE_TABLE: {
        const struct np_posture_route_table_spec *rt = &s->route_tables[i];
        tags =
            np_controller_pass_tags_with_ownership(&v->p, &owner, text, rt->tags, rt->n_tags, &nt);
        rc = np_aws_ec2_create_route_table(ec2, &id, vpc_id, token, tags, nt);
        break;
    }
    default: {
        const struct np_posture_network_acl_spec *na = &s->network_acls[i];
        tags =
            np_controller_pass_tags_with_ownership(&v->p, &owner, text, na->tags, na->n_tags, &nt);
        rc = np_aws_ec2_create_network_acl(ec2, &id, vpc_id, token, tags, nt);
        break;
    }
    }
    if (rc == 0) {
        char *note = np_strdupf("created %s %s", text, id);
        np_controller_pass_emit(&v->p, "Normal", "Created", "Create", note);
        free(note);
        v->created++;
    }
    free(text);
    free(owner);
    free(tags);
    free(id);
    free(token);
    return rc;
}

/* Attributes and tags of the VPC or a piece. */
static int apply_setting(struct vctx *v, const struct np_posture_vpc_action *a)
{
    struct np_aws_ec2 *ec2 = region_ec2(v);
    const struct np_posture_drift *it = &a->item;
    const struct np_posture_vpc_drift *d = it->vpc;
    if (a->kind == NP_POSTURE_VPC_TAG_SET) {
        struct np_aws_tag t = {it->tag.key, it->tag.value};
        return np_aws_ec2_create_tags(ec2, d->resource_id, &t, 1);
    }
    if (a->kind == NP_POSTURE_VPC_TAG_DELETE) {
        const char *keys[] = {it->tag.key};
        return np_aws_ec2_delete_tags(ec2, d->resource_id, keys, 1);
    }
    if (np_str_eq(d->key, "mapPublicIpOnLaunch"))
        return np_aws_ec2_modify_subnet_map_public_ip(ec2, d->resource_id, d->value);
    return np_aws_ec2_modify_vpc_attribute(
        ec2, d->resource_id,
        np_str_eq(d->key, "enableDnsSupport") ? NP_AWS_VPC_DNS_SUPPORT : NP_AWS_VPC_DNS_HOSTNAMES,
        d->value);
}

/* Routes and route table associations. */
static int apply_routing(struct vctx *v, const struct np_posture_vpc_action *a)
{
    struct np_aws_ec2 *ec2 = region_ec2(v);
    const struct np_posture_vpc_drift *d = a->item.vpc;
    struct np_aws_route r = aws_route(&d->route);
    int rc = 0;
    switch (a->kind) {
    case NP_POSTURE_VPC_ROUTE_CREATE:
        rc = np_aws_ec2_create_route(ec2, d->resource_id, &r);
        if (rc == NP_EEXIST) /* someone added it meanwhile, maybe elsewhere: retarget */
            rc = np_aws_ec2_replace_route(ec2, d->resource_id, &r);
        return rc;
    case NP_POSTURE_VPC_ROUTE_REPLACE: return np_aws_ec2_replace_route(ec2, d->resource_id, &r);
    case NP_POSTURE_VPC_ROUTE_DELETE:
        rc = np_aws_ec2_delete_route(
            ec2, d->resource_id, (enum np_aws_route_dest)d->route.dest_kind, d->route.destination);
        return done_if_gone(rc);
    case NP_POSTURE_VPC_RT_ASSOCIATE:
        if (d->association_id)
            return np_aws_ec2_replace_route_table_association(ec2, d->association_id, d->target_id,
                                                              NULL);
        return np_aws_ec2_associate_route_table(ec2, d->target_id, d->subnet_id, NULL);
    default: /* NP_POSTURE_VPC_RT_DISASSOCIATE */
        return done_if_gone(np_aws_ec2_disassociate_route_table(ec2, d->association_id));
    }
}

/* Network ACL entries and associations. */
static int apply_acl(struct vctx *v, const struct np_posture_vpc_action *a)
{
    struct np_aws_ec2 *ec2 = region_ec2(v);
    const struct np_posture_vpc_drift *d = a->item.vpc;
    struct np_aws_nacl_entry e = aws_entry(&d->entry);
    int rc = 0;
    switch (a->kind) {
    case NP_POSTURE_VPC_ENTRY_CREATE:
        rc = np_aws_ec2_create_network_acl_entry(ec2, d->resource_id, &e);
        if (rc == NP_EEXIST)
            rc = np_aws_ec2_replace_network_acl_entry(ec2, d->resource_id, &e);
        return rc;
    case NP_POSTURE_VPC_ENTRY_REPLACE:
        return np_aws_ec2_replace_network_acl_entry(ec2, d->resource_id, &e);
    case NP_POSTURE_VPC_ENTRY_DELETE:
        return done_if_gone(np_aws_ec2_delete_network_acl_entry(
            ec2, d->resource_id, d->entry.rule_number, d->entry.egress));
    default: /* NP_POSTURE_VPC_NACL_ASSOCIATE, NP_POSTURE_VPC_NACL_DISASSOCIATE */
        if (!d->association_id)
            return np_error_set(NP_EINVAL, "subnet %s has no network ACL association to move",
                                d->subnet_id ? d->subnet_id : d->key);
        if (!d->target_id)
            return np_error_set(NP_EINVAL,
                                "VPC %s has no default network ACL to move subnet %s back to",
                                v->o.vpc->vpc_id, d->subnet_id ? d->subnet_id : d->key);
        return np_aws_ec2_replace_network_acl_association(ec2, d->association_id, d->target_id,
                                                          NULL);
    }
}

/* The declared flow log, with our tags and a client token. */
static int create_flow_log(struct vctx *v)
{
    const struct np_posture_flow_logs_spec *fl = &v->spec->flow_logs;
    struct np_aws_flow_log_spec fs = {v->o.vpc->vpc_id, fl->traffic_type, fl->destination_type,
                                      fl->destination, fl->deliver_logs_permission_arn};
    char *owner = NULL, *id = NULL;
    struct np_aws_tag own[3];
    size_t n = np_controller_pass_ownership_tags(&v->p, &owner, NP_OBSERVE_PIECE_FLOW_LOGS, own);
    /* FlowLogAlreadyExists is an error here: the diff saw no such flow log, so reading
     * and AWS disagree and repeating the call would not help. */
    json_object *before = np_json_path(v->p.old_status, "flowLogIds", NP_JSON_END);
    char *token = np_controller_pass_client_token(
        &v->p, NP_OBSERVE_PIECE_FLOW_LOGS,
        json_object_is_type(before, json_type_array) && json_object_array_length(before) > 0
            ? json_object_get_string(json_object_array_get_idx(before, 0))
            : NULL);
    int rc = np_aws_ec2_create_flow_log(region_ec2(v), &id, &fs, token, own, n);
    free(token);
    free(owner);
    free(id);
    return rc;
}

/* Revokes a rule of the default security group (already gone counts as done). */
static int revoke_default_sg_rule(struct vctx *v, const struct np_posture_drift *it)
{
    struct np_aws_ec2 *ec2 = region_ec2(v);
    struct np_aws_perm perm = np_controller_perm_of(&it->rule);
    int rc = it->rule.direction == NP_POSTURE_EGRESS
                 ? np_aws_ec2_revoke_egress(ec2, it->vpc->resource_id, &perm, 1)
                 : np_aws_ec2_revoke_ingress(ec2, it->vpc->resource_id, &perm, 1);
    return rc == NP_ENOTFOUND && np_aws_error_is("InvalidPermission.NotFound") ? 0 : rc;
}

/* Runs one plan action; already-done and already-gone count as done. */
static int apply_action(struct vctx *v, const struct np_posture_vpc_action *a)
{
    const struct np_posture_vpc_drift *d = a->item.vpc;
    switch (a->kind) {
    case NP_POSTURE_VPC_CREATE_SUBNET: return create_piece(v, NP_OBSERVE_SUBNET, d->piece_index);
    case NP_POSTURE_VPC_CREATE_ROUTE_TABLE:
        return create_piece(v, NP_OBSERVE_ROUTE_TABLE, d->piece_index);
    case NP_POSTURE_VPC_CREATE_NETWORK_ACL:
        return create_piece(v, NP_OBSERVE_NETWORK_ACL, d->piece_index);
    case NP_POSTURE_VPC_SET_ATTRIBUTE:
    case NP_POSTURE_VPC_TAG_SET:
    case NP_POSTURE_VPC_TAG_DELETE: return apply_setting(v, a);
    case NP_POSTURE_VPC_ROUTE_CREATE:
    case NP_POSTURE_VPC_ROUTE_REPLACE:
    case NP_POSTURE_VPC_ROUTE_DELETE:
    case NP_POSTURE_VPC_RT_ASSOCIATE:
    case NP_POSTURE_VPC_RT_DISASSOCIATE: return apply_routing(v, a);
    case NP_POSTURE_VPC_ENTRY_CREATE:
    case NP_POSTURE_VPC_ENTRY_REPLACE:
    case NP_POSTURE_VPC_ENTRY_DELETE:
    case NP_POSTURE_VPC_NACL_ASSOCIATE:
    case NP_POSTURE_VPC_NACL_DISASSOCIATE: return apply_acl(v, a);
    case NP_POSTURE_VPC_FLOW_LOG_CREATE: return create_flow_log(v);
    case NP_POSTURE_VPC_REVOKE_DEFAULT_SG: return revoke_default_sg_rule(v, &a->item);
    }
    return np_error_set(NP_EINVAL, "unknown VPC plan action %d", (int)a->kind);
}

/* ---------------------------------------------------------------- guardrails */

static const struct np_posture_guardrail *const *guardrail_list(struct vctx *v)
{
    return (const struct np_posture_guardrail *const *)v->p.guardrails.items;
}

/* Checks the declared state against the governing guardrails (see guardrails_forbid of the
 * security groups). *deny is true when it must not be applied. */
static int guardrails_forbid(struct vctx *v, struct np_controller_result *res, bool *deny)
{
    *deny = false;
    int rc = np_controller_pass_guardrails_for(&v->p, res, deny);
    if (rc || *deny || v->p.guardrails.n == 0)
        return rc;
    struct np_posture_vpc_violation *vi = NULL;
    size_t nv = 0;
    np_posture_vpc_guardrail_check(&vi, &nv, guardrail_list(v), v->p.guardrails.n, v->p.ns,
                                   v->p.name, v->spec);
    struct np_controller_pass_violations pv = {0};
    for (size_t i = 0; i < nv; i++)
        np_controller_pass_violation_add(&pv, vi[i].guardrail, vi[i].rule, vi[i].what);
    *deny = np_controller_pass_guardrail_verdict(&v->p, &pv);
    np_posture_vpc_violations_free(vi, nv);
    return 0;
}

static char *guardrail_of(struct np_controller_pass *p, const struct np_posture_drift *d)
{
    if (!d->guardrail || !d->vpc)
        return NULL;
    for (size_t g = 0; g < p->guardrails.n; g++) {
        const struct np_posture_guardrail *gr = p->guardrails.items[g];
        for (size_t i = 0; i < gr->n_rules; i++)
            if (np_posture_vpc_guardrail_forbids(&gr->rules[i], d) &&
                !np_posture_guardrail_exempts(&gr->rules[i], p->ns, p->name))
                return np_strdupf("%s/%s", gr->name, gr->rules[i].id);
    }
    return NULL;
}

/* Whether the event's API call can have made this change. */
static bool event_explains(const char *ev, const struct np_posture_drift *d)
{
    if (!ev || !d->vpc)
        return false;
    switch (d->vpc->item) {
    case NP_POSTURE_VPC_ITEM_PIECE: {
        enum np_observe_piece_kind kind;
        return np_observe_piece_kind_of(d->vpc->piece_kind, &kind) &&
               np_str_eq(ev, delete_call[kind]);
    }
    case NP_POSTURE_VPC_ITEM_ATTRIBUTE:
        return np_str_eq(ev, "ModifyVpcAttribute") || np_str_eq(ev, "ModifySubnetAttribute");
    case NP_POSTURE_VPC_ITEM_TAG: return np_str_eq(ev, "CreateTags") || np_str_eq(ev, "DeleteTags");
    case NP_POSTURE_VPC_ITEM_ROUTE:
        return np_str_eq(ev, "CreateRoute") || np_str_eq(ev, "ReplaceRoute") ||
               np_str_eq(ev, "DeleteRoute");
    case NP_POSTURE_VPC_ITEM_ROUTE_ASSOC:
        return np_str_eq(ev, "AssociateRouteTable") || np_str_eq(ev, "DisassociateRouteTable") ||
               np_str_eq(ev, "ReplaceRouteTableAssociation");
    case NP_POSTURE_VPC_ITEM_NACL_ENTRY: return strstr(ev, "NetworkAclEntry") != NULL;
    case NP_POSTURE_VPC_ITEM_NACL_ASSOC: return np_str_eq(ev, "ReplaceNetworkAclAssociation");
    case NP_POSTURE_VPC_ITEM_FLOW_LOG: return np_str_eq(ev, "DeleteFlowLogs");
    case NP_POSTURE_VPC_ITEM_DEFAULT_SG:
        return np_str_has_prefix(ev, "AuthorizeSecurityGroup") ||
               np_str_eq(ev, "ModifySecurityGroupRules");
    }
    return false;
}

/* ---------------------------------------------------------------- converge */

static int compute_delta(struct vctx *v, struct np_posture_delta *out)
{
    int rc = np_posture_vpc_diff(out, v->spec, &v->o.view);
    if (rc == 0 && v->p.guardrails.n > 0)
        rc = np_posture_vpc_guardrail_mark(out, v->spec, &v->o.view, guardrail_list(v),
                                           v->p.guardrails.n, v->p.ns, v->p.name);
    return rc;
}

static int build_plan(struct np_controller_pass *p, const struct np_posture_delta *sel, void **plan,
                      char ***lines)
{
    (void)p;
    struct np_posture_vpc_plan *pl = np_xcalloc(1, sizeof(*pl));
    np_posture_vpc_plan_build(pl, sel);
    np_posture_vpc_plan_text(lines, NULL, pl);
    *plan = pl;
    return 0;
}

static void free_plan(void *plan)
{
    np_posture_vpc_plan_clean_up(plan);
    free(plan);
}

static int apply_plan_actions(struct np_controller_pass *p, void *plan)
{
    struct vctx *v = (struct vctx *)p;
    const struct np_posture_vpc_plan *pl = plan;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < pl->n; i++)
        rc = apply_action(v, &pl->actions[i]);
    return rc;
}

static int residual_delta(struct np_controller_pass *p, struct np_posture_delta *out)
{
    struct vctx *v = (struct vctx *)p;
    int rc = reobserve(v);
    return rc ? rc : compute_delta(v, out);
}

/* The state read back after this pass's repairs: the residual delta's texts. */
static uint64_t residual_fp(struct np_controller_pass *p, const struct np_posture_delta *residual)
{
    return np_posture_vpc_fingerprint(residual, ((struct vctx *)p)->o.vpc->vpc_id);
}

/* A declared piece to adopt (subnetId, routeTableId, networkAclId) that is not in the VPC:
 * sets Ready=False PieceNotFound and returns true. */
static bool adopted_piece_missing(struct vctx *v, struct np_controller_result *res)
{
    for (int k = 0; k < NP_OBSERVE_PIECE_KINDS; k++)
        for (size_t i = 0; i < np_observe_declared_count(v->spec, (enum np_observe_piece_kind)k);
             i++) {
            const char *id = NULL;
            struct np_observe_piece pid =
                np_observe_declared(v->spec, (enum np_observe_piece_kind)k, i, &id);
            if (!id || v->o.at[k][i] >= 0)
                continue;
            np_controller_pass_stop(&v->p, NP_CONTROLLER_REASON_PIECE_NOT_FOUND,
                                    np_strdupf("%s (to adopt for \"%s\") is not in VPC %s", id,
                                               pid.name, v->o.vpc->vpc_id));
            np_controller_pass_synced(&v->p);
            res->requeue_after_ms = 60 * 1000;
            return true;
        }
    return false;
}

/*
 * Finds or creates the VPC, reads it and its pieces and, in Enforce mode, puts our ownership
 * tags on them. *go is false when the pass stops here (Ready says why, or nothing was found).
 */
static int find_and_observe(struct vctx *v, struct np_controller_result *res, bool *go)
{
    const struct np_posture_vpc_spec *spec = v->spec;
    *go = false;
    bool adopt = spec->management.policy == NP_POSTURE_MANAGEMENT_ADOPT;
    int rc = np_controller_pass_find_or_create(
        &v->p, &vpc_ops, adopt ? spec->management.vpc_id : NULL, spec->remediation.mode, res);
    if (rc || !v->o.vpc)
        return rc;
    rc = observe(v);
    if (rc)
        return rc;
    if (adopted_piece_missing(v, res))
        return 0; /* Ready=False PieceNotFound: never create a piece we were told to adopt */
    if (spec->remediation.mode == NP_POSTURE_MODE_ENFORCE) {
        bool changed = false;
        rc = ensure_all_owned(v, &changed);
        if (rc == 0 && changed)
            rc = reobserve(v);
        if (rc)
            return rc;
    }
    *go = true;
    return 0;
}

/* Diffs what was read and lets the shared pass decide, apply and verify; pieces created in
 * this pass leave it Progressing (what is inside them is planned next pass). */
static int decide(struct vctx *v, struct np_controller_result *res)
{
    struct np_posture_delta delta = {0};
    char *subject = NULL;
    int rc = compute_delta(v, &delta);
    if (rc)
        goto out;
    subject = np_strdupf("VPC %s", v->o.vpc->vpc_id);
    struct np_controller_pass_plan_ops ops = {
        .subject = subject,
        .observed_fp = np_posture_vpc_fingerprint(&delta, v->o.vpc->vpc_id),
        .build = build_plan,
        .apply = apply_plan_actions,
        .free_plan = free_plan,
        .residual = residual_delta,
        .residual_fp = residual_fp,
        .guardrail_of = guardrail_of,
        .event_explains = event_explains,
    };
    rc = np_controller_pass_decide(&v->p, &delta, &v->spec->remediation, &ops, res);
    if (rc)
        goto out;
    if (v->created > 0 && np_controller_pass_converged(&v->p)) {
        /* New pieces: their routes, entries, associations and tags are planned next pass. */
        np_controller_pass_progressing(
            &v->p, np_strdupf("created %d piece(s); converging what is inside them", v->created));
        res->requeue_after_ms = 500;
    }
out:
    free(subject);
    np_posture_delta_clean_up(&delta);
    return rc;
}

static int converge(struct vctx *v, struct np_controller_result *res)
{
    bool denied = false, go = false;
    int rc = guardrails_forbid(v, res, &denied);
    if (rc || denied)
        return rc; /* denied: Ready=False GuardrailViolation; nothing is created or changed */
    /* A CloudTrail event named one of our pieces: who did it (the pieces are read anyway). */
    np_controller_take_vpc_event(v->p.ctl, v->p.key, &v->p.event_actor, &v->p.event_actor_verified,
                                 &v->p.event_name, &v->p.event_ms);
    rc = find_and_observe(v, res, &go);
    if (rc == 0 && go) {
        np_controller_pass_synced(&v->p);
        rc = decide(v, res);
    }
    /* A failed pass keeps the event's actor for the retry. */
    if (rc && v->p.event_actor)
        np_controller_note_vpc_event(v->p.ctl, v->p.key, v->p.event_actor,
                                     v->p.event_actor_verified, v->p.event_name, v->p.event_ms);
    return rc;
}

/* ---------------------------------------------------------------- deletion */

/* SecurityGroupPostures of the namespace that name this VPCPosture in spec.vpcRef. */
struct users {
    const char *ns;
    const char *name;
    struct np_buf names;
    size_t n;
};

static void collect_user(void *ctx, const char *key, json_object *obj)
{
    (void)key;
    struct users *u = ctx;
    if (np_controller_uses_vpc_posture(obj, u->ns, u->name)) {
        np_buf_appendf(&u->names, "%s%s", u->n ? ", " : "", np_kube_object_name(obj));
        u->n++;
    }
}

static bool ours(struct vctx *v, const struct np_aws_tag *tags, size_t n)
{
    return np_str_eq(np_aws_tag_get(tags, n, NP_POSTURE_TAG_UID), v->p.uid);
}

/* Our route tables: their subnet associations, then the tables (the main one goes with the
 * VPC). */
static int delete_route_tables(struct vctx *v, struct np_aws_ec2 *ec2)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < v->o.n_rts; i++) {
        const struct np_aws_route_table *a = &v->o.rts[i];
        if (!ours(v, a->tags, a->n_tags))
            continue;
        bool main_table = false;
        for (size_t k = 0; rc == 0 && k < a->n_assocs; k++) {
            if (a->assocs[k].main)
                main_table = true;
            else
                rc = done_if_gone(
                    np_aws_ec2_disassociate_route_table(ec2, a->assocs[k].association_id));
        }
        if (rc == 0 && !main_table)
            rc = done_if_gone(np_aws_ec2_delete_route_table(ec2, a->route_table_id));
    }
    return rc;
}

/* Our network ACLs: subnets still associated go back to the default ACL, then the ACLs. */
static int delete_network_acls(struct vctx *v, struct np_aws_ec2 *ec2)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < v->o.n_nacls; i++) {
        const struct np_aws_nacl *a = &v->o.nacls[i];
        if (a->is_default || !ours(v, a->tags, a->n_tags))
            continue;
        for (size_t k = 0; rc == 0 && v->o.view.default_nacl_id && k < a->n_assocs; k++)
            rc = done_if_gone(np_aws_ec2_replace_network_acl_association(
                ec2, a->assocs[k].association_id, v->o.view.default_nacl_id, NULL));
        if (rc == 0)
            rc = done_if_gone(np_aws_ec2_delete_network_acl(ec2, a->network_acl_id));
    }
    return rc;
}

/*
 * Deletes what carries our uid tag in the VPC, dependents first: subnets (AWS drops their
 * associations with them; while one is in use nothing else has been touched), route tables,
 * network ACLs, flow logs, and the VPC when delete_vpc. Returns 1 when done, 0 when blocked
 * (requeued), or an error.
 */
static int delete_pieces(struct vctx *v, const char *vpc_id, bool delete_vpc,
                         struct np_controller_result *res)
{
    struct np_aws_ec2 *ec2 = region_ec2(v);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < v->o.n_subnets; i++)
        if (ours(v, v->o.subnets[i].tags, v->o.subnets[i].n_tags))
            rc = done_if_gone(np_aws_ec2_delete_subnet(ec2, v->o.subnets[i].subnet_id));
    if (rc == 0)
        rc = delete_route_tables(v, ec2);
    if (rc == 0)
        rc = delete_network_acls(v, ec2);
    for (size_t i = 0; rc == 0 && i < v->o.n_fls; i++)
        if (ours(v, v->o.fls[i].tags, v->o.fls[i].n_tags)) {
            const char *ids[] = {v->o.fls[i].flow_log_id};
            rc = done_if_gone(np_aws_ec2_delete_flow_logs(ec2, ids, 1));
        }
    if (rc == 0 && delete_vpc)
        rc = done_if_gone(np_aws_ec2_delete_vpc(ec2, vpc_id));
    if (rc == NP_EDEPENDENCY)
        return np_controller_pass_deletion_blocked(
            &v->p,
            np_strdupf("AWS refuses to delete a piece of VPC %s while it is in use: %s", vpc_id,
                       np_error_message()),
            res);
    if (rc)
        return rc;
    char *note = delete_vpc ? np_strdupf("deleted VPC %s and the pieces we created in it", vpc_id)
                            : np_strdupf("deleted the pieces we created in VPC %s", vpc_id);
    np_controller_pass_emit(&v->p, "Normal", "Deleted", "Delete", note);
    free(note);
    return 1;
}

/* Drops our ownership tags from one object if it carries our uid. */
static int untag_if_ours(struct vctx *v, const char *id, const struct np_aws_tag *tags, size_t n)
{
    const char *keys[] = {NP_POSTURE_TAG_OWNER, NP_POSTURE_TAG_UID, NP_OBSERVE_TAG_PIECE};
    if (!ours(v, tags, n))
        return 0;
    return done_if_gone(np_aws_ec2_delete_tags(region_ec2(v), id, keys, 3));
}

/* Drops our ownership tags from every piece carrying them (flow logs, network ACLs, route
 * tables, subnets) and from the VPC. */
static int untag_pieces(struct vctx *v, const char *vpc_id)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < v->o.n_fls; i++)
        rc = untag_if_ours(v, v->o.fls[i].flow_log_id, v->o.fls[i].tags, v->o.fls[i].n_tags);
    for (int k = NP_OBSERVE_PIECE_KINDS - 1; k >= 0; k--)
        for (size_t i = 0;
             rc == 0 && i < np_observe_vpc_count(&v->o, (enum np_observe_piece_kind)k); i++) {
            const struct np_aws_tag *tags = NULL;
            size_t nt = 0;
            const char *id =
                np_observe_vpc_object(&v->o, (enum np_observe_piece_kind)k, i, &tags, &nt);
            rc = untag_if_ours(v, id, tags, nt);
        }
    if (rc == 0)
        rc = untag_if_ours(v, vpc_id, v->o.vpc->tags, v->o.vpc->n_tags);
    if (rc)
        return rc;
    char *note = np_strdupf("retained VPC %s and its pieces; removed the ownership tags", vpc_id);
    np_controller_pass_emit(&v->p, "Normal", "Retained", "Delete", note);
    free(note);
    return 0;
}

/* Whether SecurityGroupPostures place groups in this VPC through spec.vpcRef: then deleting
 * it is blocked (Ready=False DeletionBlocked, requeued). */
static bool used_by_groups(struct vctx *v, struct np_controller_result *res)
{
    struct users u = {v->p.ns, v->p.name, NP_BUF_INIT, 0};
    np_kube_store_each(np_kube_informer_store(v->p.ctl->sgp_inf), collect_user, &u);
    if (u.n > 0)
        np_controller_pass_deletion_blocked(
            &v->p,
            np_strdupf("SecurityGroupPosture(s) %s use this VPC through "
                       "spec.vpcRef; delete them first",
                       np_buf_cstr(&u.names)),
            res);
    np_buf_clean_up(&u.names);
    return u.n > 0;
}

/* Deletes (or, retaining, untags) the pieces of the VPC found (v->o.vpc) and the VPC when it
 * carries our uid. Returns 1 when done, 0 when blocked (requeued), or an error. */
static int clean_up_vpc(struct vctx *v, bool retain, struct np_controller_result *res)
{
    const char *vpc_id = v->o.vpc->vpc_id;
    bool mine = ours(v, v->o.vpc->tags, v->o.vpc->n_tags);
    if (!retain && used_by_groups(v, res))
        return 0; /* security groups placed in this VPC through vpcRef must go first */
    int rc = observe(v);
    if (rc)
        return rc;
    if (retain) {
        rc = untag_pieces(v, vpc_id);
        return rc ? rc : 1;
    }
    /* Only what carries our uid tag is deleted: the VPC too (created, or adopted in Enforce
     * mode and told to delete); a refused or Detect-only adoption never. */
    return delete_pieces(v, vpc_id, mine, res);
}

static int handle_deletion(struct vctx *v, struct np_controller_result *res)
{
    if (!np_kube_object_has_finalizer(v->p.obj, NP_KUBE_FINALIZER))
        return 0;
    const struct np_posture_vpc_spec *spec = v->spec;
    bool retain =
        np_controller_pass_retains(spec->management.policy, spec->management.deletion_policy);
    const char *vpc_id = np_json_path_str(v->p.old_status, "vpcId", NP_JSON_END);
    int rc = 0;
    if (!v->p.use.region) {
        char *what = np_strdupf("VPC %s", vpc_id ? vpc_id : "(none)");
        np_controller_pass_deletion_no_account(&v->p, what, res);
        free(what);
        return 0;
    }
    /* Never spec.management.vpcId: an adoption that was refused must not lead us to a VPC. */
    if (vpc_id)
        rc = read_vpc(v, vpc_id, &v->o.vpc);
    else /* the status never got its id: our uid tag says which, if any */
        rc = find_vpc_by_uid(v, &v->o.vpc);
    if (rc && rc != NP_ENOTFOUND)
        return rc;
    if (v->o.vpc) {
        rc = clean_up_vpc(v, retain, res);
        if (rc <= 0)
            return rc; /* blocked (requeued) or failed */
    }
    return done_if_gone(np_kube_finalizer_remove(v->p.ctl->kube, &np_controller_res_vpcp, v->p.obj,
                                                 NP_KUBE_FINALIZER));
}

/* ---------------------------------------------------------------- references */

int np_controller_vpc_of(struct np_controller *ctl, const char *ns, const char *name,
                         const char *account, const char *region, char **vpc_id, char **why)
{
    *vpc_id = NULL;
    *why = NULL;
    char *key = np_strdupf("%s/%s", ns, name);
    json_object *obj = NULL;
    int rc = ctl->vpcp_inf ? np_kube_store_get(np_kube_informer_store(ctl->vpcp_inf), &obj, key)
                           : NP_ENOTFOUND;
    free(key);
    if (rc) {
        *why = np_strdupf("VPCPosture %s does not exist in namespace %s (spec.vpcRef)", name, ns);
        return NP_EAGAIN;
    }
    const char *id = np_json_path_str(obj, "status", "vpcId", NP_JSON_END);
    const char *their_account = np_json_path_str(obj, "spec", "accountRef", "name", NP_JSON_END);
    const char *their_region = np_json_path_str(obj, "status", "region", NP_JSON_END);
    rc = NP_EAGAIN;
    if (!id)
        *why = np_strdupf("VPCPosture %s has no VPC yet", name);
    else if (!np_str_eq(their_account ? their_account : NP_POSTURE_DEFAULT_ACCOUNT, account))
        *why = np_strdupf("VPCPosture %s uses account %s, this posture %s", name,
                          their_account ? their_account : NP_POSTURE_DEFAULT_ACCOUNT, account);
    else if (their_region && region && !np_str_eq(their_region, region))
        *why = np_strdupf("VPCPosture %s is in region %s, this posture in %s", name, their_region,
                          region);
    else {
        *vpc_id = np_strdup(id);
        rc = 0;
    }
    json_object_put(obj);
    return rc;
}

/* ---------------------------------------------------------------- kind */

static int vpcp_parse(struct np_controller_pass *p, json_object *spec)
{
    struct vctx *v = (struct vctx *)p;
    return np_posture_vpc_spec_parse(&v->spec, spec);
}

static const char *vpcp_account(struct np_controller_pass *p)
{
    return ((struct vctx *)p)->spec->account_ref;
}

static const char *vpcp_region(struct np_controller_pass *p)
{
    return ((struct vctx *)p)->spec->region;
}

static int vpcp_converge(struct np_controller_pass *p, struct np_controller_result *res)
{
    int rc = converge((struct vctx *)p, res);
    /* No poller reads VPCs: the resync interval is the safety net, whatever this pass found. */
    int64_t resync = np_controller_region_resync_ms(p->use.region);
    if (rc == 0 && (res->requeue_after_ms <= 0 || res->requeue_after_ms > resync))
        res->requeue_after_ms = resync;
    return rc;
}

static int vpcp_deletion(struct np_controller_pass *p, struct np_controller_result *res)
{
    return handle_deletion((struct vctx *)p, res);
}

/* {name, <id member>} for each declared piece of kind k found. */
static json_object *piece_ids(struct vctx *v, enum np_observe_piece_kind k)
{
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < np_observe_declared_count(v->spec, k); i++) {
        if (v->o.at[k][i] < 0)
            continue;
        const char *adopt_id = NULL;
        const struct np_aws_tag *tags = NULL;
        size_t nt = 0;
        json_object *o = json_object_new_object();
        np_json_put_str(o, "name", np_observe_declared(v->spec, k, i, &adopt_id).name);
        np_json_put_str(o, np_observe_piece_names(k)->status_id,
                        np_observe_vpc_object(&v->o, k, (size_t)v->o.at[k][i], &tags, &nt));
        json_object_array_add(arr, o);
    }
    return arr;
}

static bool vpcp_put_ids(struct np_controller_pass *p, json_object *st)
{
    struct vctx *v = (struct vctx *)p;
    if (!v->o.vpc && !v->created_vpc_id)
        return false;
    np_json_put_str(st, "vpcId", v->o.vpc ? v->o.vpc->vpc_id : v->created_vpc_id);
    np_json_put_str(st, "accountId", v->o.vpc ? v->o.vpc->owner_id : NULL);
    np_json_put_str(st, "region", v->p.use.region_name);
    if (!v->o.read)
        return true; /* the pieces were not read in this pass: none listed */
    for (int k = 0; k < NP_OBSERVE_PIECE_KINDS; k++)
        json_object_object_add(st, np_observe_piece_names(k)->status_list,
                               piece_ids(v, (enum np_observe_piece_kind)k));
    json_object *fl = json_object_new_array();
    for (size_t i = 0; i < v->o.n_fls; i++)
        if (np_str_eq(np_aws_tag_get(v->o.fls[i].tags, v->o.fls[i].n_tags, NP_POSTURE_TAG_UID),
                      v->p.uid))
            json_object_array_add(fl, json_object_new_string(v->o.fls[i].flow_log_id));
    json_object_object_add(st, "flowLogIds", fl);
    if (v->o.dsg)
        np_json_put_str(st, "defaultSecurityGroupId", v->o.dsg->group_id);
    return true;
}

static void vpcp_clean_up(struct np_controller_pass *p)
{
    struct vctx *v = (struct vctx *)p;
    np_observe_vpc_clean_up(&v->o);
    np_posture_vpc_spec_destroy(v->spec);
    free(v->created_vpc_id);
}

static struct np_kube_informer *vpcp_informer(struct np_controller *ctl)
{
    return ctl->vpcp_inf;
}

static const char *const vpcp_status_keys[] = {
    "vpcId",       "accountId",   "region",     "subnets",
    "routeTables", "networkAcls", "flowLogIds", "defaultSecurityGroupId",
    NULL};

static const struct np_controller_pass_kind vpcp_kind = {
    .kind = "VPCPosture",
    .res = &np_controller_res_vpcp,
    .scope_key = "piece",
    .text_key = "item",
    .id_key = "vpcId",
    .status_keys = vpcp_status_keys,
    .ctx_size = sizeof(struct vctx),
    .informer = vpcp_informer,
    .parse = vpcp_parse,
    .account = vpcp_account,
    .region = vpcp_region,
    .converge = vpcp_converge,
    .deletion = vpcp_deletion,
    .put_ids = vpcp_put_ids,
    .clean_up = vpcp_clean_up,
};

int np_controller_reconcile_vpcp(struct np_controller *ctl, const char *key,
                                 struct np_controller_result *res)
{
    return np_controller_pass_reconcile(ctl, &vpcp_kind, key, res);
}
