/*
 * inject-drift on a VPCPosture's pieces: an entry opening tcp 22 to the world added to one of
 * its network ACLs (nacl-entry), or one of its declared routes deleted (route); the piece must
 * carry the posture's ownership tags. Choosing and recognising the undone change need no I/O;
 * reading and changing the pieces go through pkg/aws.
 */
#include "cli/private/cli_private.h"

#include <stdlib.h>
#include <string.h>

#define FIRST_RULE_NUMBER 50
#define LAST_RULE_NUMBER 32766

int np_cli_check_tags_owner(const struct np_aws_tag *tags, size_t n, const char *id, const char *ns,
                            const char *name, const char *uid)
{
    const char *owner = np_aws_tag_get(tags, n, NP_POSTURE_TAG_OWNER);
    const char *tag_uid = np_aws_tag_get(tags, n, NP_POSTURE_TAG_UID);
    char *want = np_strdupf("%s/%s", ns, name);
    bool ours = np_str_eq(owner, want) && uid && np_str_eq(tag_uid, uid);
    free(want);
    if (ours)
        return 0;
    return np_error_set(NP_EDENIED,
                        "%s is not managed by %s/%s (tags %s=%s, %s=%s): inject-drift changes "
                        "only resources netposture manages",
                        id, ns, name, NP_POSTURE_TAG_OWNER, owner ? owner : "(none)",
                        NP_POSTURE_TAG_UID, tag_uid ? tag_uid : "(none)");
}

/* ---------------------------------------------------------------- network ACL entries */

static bool ingress_number_used(const struct np_aws_nacl *acl, int number)
{
    for (size_t i = 0; i < acl->n_entries; i++)
        if (!acl->entries[i].egress && acl->entries[i].rule_number == number)
            return true;
    return false;
}

int np_cli_nacl_injection_choose(struct np_cli_injection *out, const struct np_aws_nacl *acl,
                                 const char *piece, int round)
{
    memset(out, 0, sizeof(*out));
    out->kind = NP_CLI_DRIFT_NACL_ENTRY;
    int number = FIRST_RULE_NUMBER + round;
    while (number <= LAST_RULE_NUMBER && ingress_number_used(acl, number))
        number++;
    if (number > LAST_RULE_NUMBER)
        return np_error_set(NP_ENOTFOUND, "%s has no free ingress rule number",
                            acl->network_acl_id);
    out->piece_id = np_strdup(acl->network_acl_id);
    out->entry = (struct np_aws_nacl_entry){.rule_number = number,
                                            .protocol = np_strdup("6"),
                                            .allow = true,
                                            .cidr = np_strdup("0.0.0.0/0"),
                                            .has_ports = true,
                                            .from_port = 22,
                                            .to_port = 22};
    out->text =
        np_strdupf("nacl entry add networkAcl/%s ingress %d allow tcp 22 0.0.0.0/0", piece, number);
    return 0;
}

bool np_cli_nacl_injection_undone(const struct np_cli_injection *inj, const struct np_aws_nacl *acl)
{
    return !ingress_number_used(acl, inj->entry.rule_number);
}

/* ---------------------------------------------------------------- routes */

/* The live route with this destination and target, or NULL. */
static const struct np_aws_route *find_route(const struct np_aws_route_table *rt, int dest_kind,
                                             const char *destination, int target_kind,
                                             const char *target)
{
    for (size_t i = 0; i < rt->n_routes; i++) {
        const struct np_aws_route *r = &rt->routes[i];
        if ((int)r->dest_kind == dest_kind && np_str_eq(r->destination, destination) &&
            r->has_target && (int)r->target_kind == target_kind && np_str_eq(r->target, target))
            return r;
    }
    return NULL;
}

int np_cli_route_injection_choose(struct np_cli_injection *out, const struct np_aws_route_table *rt,
                                  const struct np_posture_route_table_spec *spec)
{
    memset(out, 0, sizeof(*out));
    out->kind = NP_CLI_DRIFT_ROUTE;
    for (size_t i = 0; i < spec->n_routes; i++) {
        const struct np_posture_route *want = &spec->routes[i];
        const struct np_aws_route *r = find_route(rt, (int)want->dest_kind, want->destination,
                                                  (int)want->target_kind, want->target);
        if (!r)
            continue;
        out->piece_id = np_strdup(rt->route_table_id);
        out->route = (struct np_aws_route){.dest_kind = r->dest_kind,
                                           .destination = np_strdup(r->destination),
                                           .has_target = true,
                                           .target_kind = r->target_kind,
                                           .target = np_strdup(r->target)};
        out->text = np_strdupf("route delete routeTable/%s %s (%s %s)", spec->name, r->destination,
                               np_aws_route_target_name(r->target_kind), r->target);
        return 0;
    }
    return np_error_set(NP_ENOTFOUND, "%s holds none of the routes route table %s declares",
                        rt->route_table_id, spec->name);
}

bool np_cli_route_injection_undone(const struct np_cli_injection *inj,
                                   const struct np_aws_route_table *rt)
{
    const struct np_aws_route *r = &inj->route;
    return find_route(rt, (int)r->dest_kind, r->destination, (int)r->target_kind, r->target);
}

/* ---------------------------------------------------------------- AWS */

int np_cli_describe_piece(struct np_aws_ec2 *ec2, enum np_cli_drift_kind kind, const char *vpc_id,
                          const char *id, struct np_cli_piece *out)
{
    const char *vpcs[] = {vpc_id}; /* by VPC, as the controller reads them (moto refuses
                                      network-acl-id) */
    struct np_aws_filter f = {"vpc-id", vpcs, 1};
    memset(out, 0, sizeof(*out));
    int rc;
    if (kind == NP_CLI_DRIFT_NACL_ENTRY) {
        rc = np_aws_ec2_describe_network_acls(ec2, &out->acls, &out->n, &f, 1);
        for (size_t i = 0; rc == 0 && !out->acl && i < out->n; i++)
            if (np_str_eq(out->acls[i].network_acl_id, id))
                out->acl = &out->acls[i];
    } else {
        rc = np_aws_ec2_describe_route_tables(ec2, &out->rts, &out->n, &f, 1);
        for (size_t i = 0; rc == 0 && !out->rt && i < out->n; i++)
            if (np_str_eq(out->rts[i].route_table_id, id))
                out->rt = &out->rts[i];
    }
    if (rc == 0 && !out->acl && !out->rt)
        rc = np_error_set(NP_ENOTFOUND, "%s does not exist", id);
    return rc;
}

void np_cli_piece_clean_up(struct np_cli_piece *p)
{
    np_aws_nacls_free(p->acls, p->acls ? p->n : 0);
    np_aws_route_tables_free(p->rts, p->rts ? p->n : 0);
    memset(p, 0, sizeof(*p));
}

bool np_cli_piece_undone(const struct np_cli_injection *inj, const struct np_cli_piece *p)
{
    return p->acl ? np_cli_nacl_injection_undone(inj, p->acl)
                  : np_cli_route_injection_undone(inj, p->rt);
}

int np_cli_piece_change(struct np_aws_ec2 *ec2, const struct np_cli_injection *inj, bool forward)
{
    if (inj->kind == NP_CLI_DRIFT_NACL_ENTRY)
        return forward ? np_aws_ec2_create_network_acl_entry(ec2, inj->piece_id, &inj->entry)
                       : np_aws_ec2_delete_network_acl_entry(ec2, inj->piece_id,
                                                             inj->entry.rule_number, false);
    return forward ? np_aws_ec2_delete_route(ec2, inj->piece_id, inj->route.dest_kind,
                                             inj->route.destination)
                   : np_aws_ec2_create_route(ec2, inj->piece_id, &inj->route);
}
