/*
 * Reconcile of one SecurityGroupPosture: find / create / adopt the group, observe (snapshot),
 * normalise, diff, then the shared pass (pass.c) decides by mode and policy, applies
 * make-before-break, verifies by reading again and reports. Deletion honours the deletion
 * policy. Level-based: every call starts from scratch.
 */
#include "controller/private/controller_private.h"

#include <stdlib.h>
#include <string.h>

/* One SecurityGroupPosture pass: the shared pass first (pass.c casts it back). */
struct rctx {
    struct np_controller_pass p;
    struct np_posture_sg_spec *spec;
    struct np_aws_sg *sg; /* observed group (owned) */
    char *group_id;
    char *vpc_id;
    struct np_posture_ruleset want; /* desired rules (converge): peer names until decide */
};

/* ---------------------------------------------------------------- group lookup */

static const char *tag_value(const struct np_aws_sg *sg, const char *key)
{
    return sg ? np_aws_tag_get(sg->tags, sg->n_tags, key) : NULL;
}

/* Takes a CloudTrail event's hint for the group (its actor, call and time into the pass):
 * true when there was one, with *fresh the group as read for it (owned) or NULL. */
static bool take_hint(struct rctx *r, const char *group_id, struct np_aws_sg **fresh)
{
    char *actor = NULL, *event_name = NULL;
    int64_t event_ms = 0;
    bool verified = false;
    if (!np_controller_region_take_event(r->p.use.region, group_id, &actor, &verified, &event_name,
                                         &event_ms, fresh))
        return false;
    free(r->p.event_actor);
    free(r->p.event_name);
    r->p.event_actor = actor;
    r->p.event_actor_verified = verified;
    r->p.event_name = event_name;
    r->p.event_ms = event_ms;
    return true;
}

/* Describes one group (*out owned). After a hint, a group gone leaves the snapshot, one read
 * is put in it, and a failed read keeps the hint for the retry. */
static int describe_group(struct rctx *r, const char *group_id, bool hinted, struct np_aws_sg **out)
{
    const char *ids[] = {group_id};
    struct np_aws_sg *sgs = NULL;
    size_t n = 0;
    int rc = np_aws_ec2_describe_security_groups(np_controller_region_ec2(r->p.use.region), &sgs,
                                                 &n, NULL, 0, ids, 1);
    if (rc == NP_ENOTFOUND || (rc == 0 && n == 0)) {
        np_aws_sgs_free(sgs, n);
        if (hinted) /* gone: the snapshot must not keep answering for it */
            np_controller_region_snapshot_remove(r->p.use.region, group_id);
        return NP_ENOTFOUND;
    }
    if (rc) {
        if (hinted) /* keep the hint for the retry, or the event would be lost */
            free(np_controller_region_note_event(r->p.use.region, group_id, r->p.event_actor,
                                                 r->p.event_actor_verified, r->p.event_name,
                                                 r->p.event_ms, NULL));
        return rc;
    }
    *out = np_aws_sg_dup(&sgs[0]);
    if (hinted)
        np_controller_region_snapshot_put(r->p.use.region, *out);
    np_aws_sgs_free(sgs, n);
    return 0;
}

/*
 * Reads one group: the snapshot first, AWS when the poller has not seen it (yet) or when a
 * CloudTrail event says it changed (an event is only a hint: the group is read again). With
 * may_defer, returns NP_EAGAIN while the region's first poll runs instead of reading AWS.
 */
static int observe_group_once(struct rctx *r, const char *group_id, struct np_aws_sg **out,
                              bool may_defer)
{
    *out = NULL;
    struct np_aws_sg *fresh = NULL;
    bool hinted = take_hint(r, group_id, &fresh);
    if (fresh) {
        /* read for this hint by the event consumer (one Describe for its whole batch) */
        np_controller_region_snapshot_put(r->p.use.region, fresh);
        *out = fresh;
        return 0;
    }
    int rc =
        hinted ? NP_ENOTFOUND : np_controller_region_snapshot_get(r->p.use.region, group_id, out);
    if (rc == 0)
        return 0;
    if (rc == NP_EAGAIN && may_defer &&
        np_controller_region_park(r->p.use.region, NP_CONTROLLER_WORK_SGP, r->p.key, group_id)) {
        r->p.deferred = true; /* the first poll brings it (and enqueues us): no Describe burst */
        return NP_EAGAIN;
    }
    return describe_group(r, group_id, hinted, out);
}

/* observe_group_once, and the instants of the read the pass diffs (the snapshot's dates). */
static int observe_group(struct rctx *r, const char *group_id, struct np_aws_sg **out,
                         bool may_defer)
{
    int rc = observe_group_once(r, group_id, out, may_defer);
    if (rc == 0)
        np_controller_region_snapshot_reads(r->p.use.region, group_id, &r->p.read_ms,
                                            &r->p.read_before_ms);
    return rc;
}

/* Reads one group from AWS (never the snapshot) into *out (owned) and records it in the
 * snapshot. NP_ENOTFOUND when it is gone. */
static int read_group(struct rctx *r, const char *group_id, struct np_aws_sg **out)
{
    const char *ids[] = {group_id};
    struct np_aws_sg *sgs = NULL;
    size_t n = 0;
    *out = NULL;
    int rc = np_aws_ec2_describe_security_groups(np_controller_region_ec2(r->p.use.region), &sgs,
                                                 &n, NULL, 0, ids, 1);
    if (rc == 0 && n == 0)
        rc = np_error_set(NP_ENOTFOUND, "group %s vanished", group_id);
    if (rc == 0) {
        *out = np_aws_sg_dup(&sgs[0]);
        np_controller_region_snapshot_put(r->p.use.region, *out);
    }
    np_aws_sgs_free(sgs, n);
    return rc;
}

/* Reads the group again from AWS (verification) into r->sg. */
static int reread_group(struct rctx *r)
{
    struct np_aws_sg *sg = NULL;
    int rc = read_group(r, r->group_id, &sg);
    if (rc == 0) {
        np_aws_sg_free(r->sg);
        r->sg = sg;
    }
    return rc;
}

/* Finds a group we created earlier by its uid tag (snapshot, then AWS). */
static int find_by_uid(struct rctx *r, struct np_aws_sg **out)
{
    int rc = np_controller_region_snapshot_find_uid(r->p.use.region, r->p.uid, out);
    if (rc == 0 || rc == NP_ENOTFOUND)
        return rc;
    const char *values[] = {r->p.uid};
    struct np_aws_filter f = {"tag:" NP_POSTURE_TAG_UID, values, 1};
    struct np_aws_sg *sgs = NULL;
    size_t n = 0;
    rc = np_aws_ec2_describe_security_groups(np_controller_region_ec2(r->p.use.region), &sgs, &n,
                                             &f, 1, NULL, 0);
    if (rc == 0 && n == 0)
        rc = NP_ENOTFOUND;
    if (rc == 0)
        *out = np_aws_sg_dup(&sgs[0]);
    np_aws_sgs_free(sgs, n);
    return rc;
}

/* Removes our ownership tags from a group (gone already counts as done) and forgets it. */
static int untag_group(struct rctx *r, const char *gid)
{
    const char *keys[] = {NP_POSTURE_TAG_OWNER, NP_POSTURE_TAG_UID};
    int rc = np_aws_ec2_delete_tags(np_controller_region_ec2(r->p.use.region), gid, keys, 2);
    if (rc && rc != NP_ENOTFOUND)
        return rc;
    np_controller_region_snapshot_remove(r->p.use.region, gid);
    return 0;
}

/*
 * management.groupId changed: the group adopted before keeps nothing of ours. Our ownership
 * tags are removed from it (only if it carries our uid), so it is no longer claimed.
 */
static int release_previous_group(struct rctx *r)
{
    const char *before = np_json_path_str(r->p.old_status, "groupId", NP_JSON_END);
    if (!before || np_str_eq(before, r->spec->management.group_id))
        return 0;
    struct np_aws_sg *old = NULL;
    int rc = read_group(r, before, &old); /* not the snapshot: its tags may be stale */
    bool ours = rc == 0 && np_str_eq(tag_value(old, NP_POSTURE_TAG_UID), r->p.uid);
    np_aws_sg_free(old);
    if (rc == NP_ENOTFOUND || (rc == 0 && !ours))
        return 0;
    if (rc)
        return rc;
    rc = untag_group(r, before);
    if (rc)
        return rc;
    char *note = np_strdupf("released security group %s (management.groupId is now %s); removed "
                            "the ownership tags",
                            before, r->spec->management.group_id);
    np_controller_pass_emit(&r->p, "Normal", "Released", "Adopt", note);
    free(note);
    return 0;
}

/* ---------------------------------------------------------------- converge: the group */

/*
 * The VPC a new group goes into (*vpc owned): spec.vpcRef's, spec.vpcId or the region's
 * default. 0 with *vpc NULL and Ready=False VPCNotReady while the VPCPosture has none yet.
 */
static int group_vpc(struct rctx *r, char **vpc, struct np_controller_result *res)
{
    const struct np_posture_sg_spec *spec = r->spec;
    *vpc = NULL;
    if (!spec->vpc_ref) {
        if (spec->vpc_id) {
            *vpc = np_strdup(spec->vpc_id);
            return 0;
        }
        return np_controller_region_default_vpc(r->p.use.region, vpc);
    }
    char *why = NULL;
    int rc =
        np_controller_vpc_of(r->p.ctl, r->p.ns, spec->vpc_ref,
                             spec->account_ref ? spec->account_ref : NP_POSTURE_DEFAULT_ACCOUNT,
                             r->p.use.region_name, vpc, &why);
    if (rc == NP_EAGAIN) {
        /* The VPCPosture's changes requeue us; the timer is a safety net. */
        np_controller_pass_stop(&r->p, NP_CONTROLLER_REASON_VPC_NOT_READY, why);
        np_controller_pass_synced(&r->p);
        res->requeue_after_ms = 60 * 1000;
        return 0;
    }
    return rc;
}

/* CreateSecurityGroup said the name is taken in the VPC: ours (r->sg set) only if the group
 * carries our uid, else Ready=False AdoptionRefused. */
static int group_name_taken(struct rctx *r, const char *vpc)
{
    const struct np_posture_sg_spec *spec = r->spec;
    const char *names[] = {spec->group_name};
    const char *vpcs[] = {vpc};
    struct np_aws_filter f[2] = {{"group-name", names, 1}, {"vpc-id", vpcs, 1}};
    struct np_aws_sg *sgs = NULL;
    size_t n = 0;
    int rc = np_aws_ec2_describe_security_groups(np_controller_region_ec2(r->p.use.region), &sgs,
                                                 &n, f, 2, NULL, 0);
    if (rc == 0 && n > 0 && np_str_eq(tag_value(&sgs[0], NP_POSTURE_TAG_UID), r->p.uid)) {
        r->sg = np_aws_sg_dup(&sgs[0]);
    } else if (rc == 0) {
        np_controller_pass_stop(
            &r->p, NP_CONTROLLER_REASON_ADOPTION_REFUSED,
            np_strdupf("a security group named \"%s\" already exists in %s (%s) and "
                       "is not ours; adopt it with management.policy: Adopt",
                       spec->group_name, vpc, n > 0 ? sgs[0].group_id : "?"));
        np_controller_pass_synced(&r->p);
    }
    np_aws_sgs_free(sgs, n);
    return rc;
}

/* Creates the group with our tags and reads it (r->sg); see np_controller_pass_object_ops.create.
 */
static int create_group(struct np_controller_pass *p, struct np_controller_result *res)
{
    struct rctx *r = (struct rctx *)p;
    const struct np_posture_sg_spec *spec = r->spec;
    char *vpc = NULL, *owner = NULL, *gid = NULL;
    struct np_aws_tag *tags = NULL;
    size_t nt = 0;
    int rc = group_vpc(r, &vpc, res);
    if (rc || !vpc)
        goto out;
    rc = np_controller_pass_ensure_finalizer(&r->p);
    if (rc)
        goto out;
    tags =
        np_controller_pass_tags_with_ownership(&r->p, &owner, NULL, spec->tags, spec->n_tags, &nt);
    rc = np_aws_ec2_create_security_group(np_controller_region_ec2(r->p.use.region), &gid,
                                          spec->group_name, spec->description, vpc, tags, nt);
    if (rc == NP_EEXIST) {
        rc = group_name_taken(r, vpc);
        goto out;
    }
    if (rc)
        goto out;
    char *note = np_strdupf("created security group %s (%s) in %s", gid, spec->group_name, vpc);
    np_controller_pass_emit(&r->p, "Normal", "Created", "Create", note);
    np_log_info("created security group", "namespace", r->p.ns, "name", r->p.name, "groupId", gid);
    free(note);
    r->group_id = gid;
    gid = NULL;
    rc = reread_group(r);
out:
    free(owner);
    free(tags);
    free(gid);
    free(vpc);
    return rc;
}

static int read_group_hook(struct np_controller_pass *p, const char *id, bool may_defer)
{
    struct rctx *r = (struct rctx *)p;
    return observe_group(r, id, &r->sg, may_defer);
}

static int find_group_by_uid(struct np_controller_pass *p, const char *status_id, bool enforce)
{
    (void)status_id; /* a group's uid is in the snapshot: no duplicates are looked for */
    (void)enforce;
    struct rctx *r = (struct rctx *)p;
    return find_by_uid(r, &r->sg);
}

static const char *found_group(struct np_controller_pass *p, const struct np_aws_tag **tags,
                               size_t *n)
{
    const struct np_aws_sg *sg = ((struct rctx *)p)->sg;
    if (tags)
        *tags = sg ? sg->tags : NULL;
    if (n)
        *n = sg ? sg->n_tags : 0;
    return sg ? sg->group_id : NULL;
}

static void forget_group(struct np_controller_pass *p)
{
    struct rctx *r = (struct rctx *)p;
    np_aws_sg_free(r->sg);
    r->sg = NULL;
}

static int adopted_group(struct np_controller_pass *p)
{
    return release_previous_group((struct rctx *)p);
}

static const struct np_controller_pass_object_ops group_ops = {
    .noun = "security group",
    .not_found = NP_CONTROLLER_REASON_GROUP_NOT_FOUND,
    .uid_first = false,
    .read = read_group_hook,
    .find_by_uid = find_group_by_uid,
    .found = found_group,
    .forget = forget_group,
    .create = create_group,
    .adopted = adopted_group,
};

/* Puts our ownership tags on the group if they are missing (adoption, or deleted out of band). */
static int ensure_ownership_tags(struct rctx *r)
{
    char *owner = NULL;
    struct np_aws_tag own[3];
    np_controller_pass_ownership_tags(&r->p, &owner, NULL, own);
    bool adopting =
        !tag_value(r->sg, NP_POSTURE_TAG_OWNER) && !tag_value(r->sg, NP_POSTURE_TAG_UID);
    int rc = 0;
    if (np_str_eq(tag_value(r->sg, NP_POSTURE_TAG_OWNER), owner) &&
        np_str_eq(tag_value(r->sg, NP_POSTURE_TAG_UID), r->p.uid))
        goto out;
    rc = np_controller_pass_ensure_finalizer(&r->p);
    if (rc)
        goto out;
    rc = np_aws_ec2_create_tags(np_controller_region_ec2(r->p.use.region), r->sg->group_id, own, 2);
    if (rc)
        goto out;
    char *note = adopting ? np_strdupf("adopted security group %s", r->sg->group_id)
                          : np_strdupf("restored the ownership tags on %s", r->sg->group_id);
    np_controller_pass_emit(&r->p, "Normal", adopting ? "Adopted" : "Remediated",
                            adopting ? "Adopt" : "Tag", note);
    free(note);
    rc = reread_group(r);
out:
    free(owner);
    return rc;
}

_Static_assert((int)NP_POSTURE_PEER_CIDR4 == (int)NP_AWS_PEER_CIDR4 &&
                   (int)NP_POSTURE_PEER_CIDR6 == (int)NP_AWS_PEER_CIDR6 &&
                   (int)NP_POSTURE_PEER_PREFIX_LIST == (int)NP_AWS_PEER_PREFIX_LIST &&
                   (int)NP_POSTURE_PEER_GROUP == (int)NP_AWS_PEER_GROUP,
               "peer kinds of pkg/posture and pkg/aws are cast into each other");

struct np_aws_perm np_controller_perm_of(const struct np_posture_rule *r)
{
    struct np_aws_perm p;
    memset(&p, 0, sizeof(p));
    p.protocol = r->protocol;
    p.has_ports = np_posture_protocol_has_ports(r->protocol);
    p.from_port = r->from_port;
    p.to_port = r->to_port;
    p.peer_kind = (enum np_aws_peer_kind)r->peer_kind;
    p.peer = r->peer;
    p.description = r->description;
    return p;
}

/* Looks up one peer posture (same namespace only) in the informer store: *gid its group id
 * from its status (owned), or *why (owned) why there is none. */
static void lookup_peer(struct rctx *r, const char *name, char **gid, char **why)
{
    char *key = np_strdupf("%s/%s", r->p.ns, name);
    json_object *peer = NULL;
    int rc = np_kube_store_get(np_kube_informer_store(r->p.ctl->sgp_inf), &peer, key);
    free(key);
    if (rc) {
        *why = np_strdupf("does not exist in namespace %s", r->p.ns);
        return;
    }
    const char *id = np_json_path_str(peer, "status", "groupId", NP_JSON_END);
    if (id)
        *gid = np_strdup(id);
    else
        *why = np_strdup("has no group yet");
    json_object_put(peer);
}

/* The peer postures the spec names, each looked up once: names borrowed from the spec, group
 * ids and reasons owned (peers_clean_up). */
static void lookup_peers(struct rctx *r, struct np_posture_peers *out)
{
    const char **names = NULL;
    size_t n = 0;
    np_posture_peer_names(&names, &n, r->spec);
    struct np_posture_peer *items = np_xcalloc(n ? n : 1, sizeof(*items));
    for (size_t i = 0; i < n; i++) {
        char *gid = NULL, *why = NULL;
        lookup_peer(r, names[i], &gid, &why);
        items[i] = (struct np_posture_peer){names[i], gid, why};
    }
    free(names);
    *out = (struct np_posture_peers){items, n};
}

static void peers_clean_up(struct np_posture_peers *peers)
{
    for (size_t i = 0; i < peers->n; i++) {
        free((char *)peers->items[i].group_id);
        free((char *)peers->items[i].why);
    }
    free((struct np_posture_peer *)peers->items);
    memset(peers, 0, sizeof(*peers));
}

/* A tag action: sets or deletes the tags on the group. */
static int apply_tags(struct rctx *r, const struct np_posture_action *a)
{
    struct np_aws_ec2 *ec2 = np_controller_region_ec2(r->p.use.region);
    int rc = 0;
    if (a->kind == NP_POSTURE_TAG_SET) {
        struct np_aws_tag *tags = np_xcalloc(a->n_tags, sizeof(*tags));
        np_controller_tags_to_aws(tags, a->tags, a->n_tags);
        rc = np_aws_ec2_create_tags(ec2, r->sg->group_id, tags, a->n_tags);
        free(tags);
    } else {
        const char **keys = np_xcalloc(a->n_tags, sizeof(*keys));
        for (size_t i = 0; i < a->n_tags; i++)
            keys[i] = a->tags[i].key;
        rc = np_aws_ec2_delete_tags(ec2, r->sg->group_id, keys, a->n_tags);
        free(keys);
    }
    return rc;
}

/* One rule call of a rule action's kind and direction for n permissions. */
static int rule_call(struct rctx *r, const struct np_posture_action *a,
                     const struct np_aws_perm *perms, size_t n)
{
    struct np_aws_ec2 *ec2 = np_controller_region_ec2(r->p.use.region);
    const char *gid = r->sg->group_id;
    bool eg = a->direction == NP_POSTURE_EGRESS;
    switch (a->kind) {
    case NP_POSTURE_AUTHORIZE:
        return eg ? np_aws_ec2_authorize_egress(ec2, gid, perms, n)
                  : np_aws_ec2_authorize_ingress(ec2, gid, perms, n);
    case NP_POSTURE_REVOKE:
        return eg ? np_aws_ec2_revoke_egress(ec2, gid, perms, n)
                  : np_aws_ec2_revoke_ingress(ec2, gid, perms, n);
    default:
        return eg ? np_aws_ec2_update_rule_descriptions_egress(ec2, gid, perms, n)
                  : np_aws_ec2_update_rule_descriptions_ingress(ec2, gid, perms, n);
    }
}

/* Whether a rule call failed only because a rule is there already (authorize) or gone already
 * (revoke; a group gone is not). */
static bool already_done(const struct np_posture_action *a, int rc)
{
    if (a->kind == NP_POSTURE_AUTHORIZE)
        return rc == NP_EEXIST;
    return a->kind == NP_POSTURE_REVOKE && rc == NP_ENOTFOUND &&
           np_aws_error_is("InvalidPermission.NotFound");
}

/* Runs one plan action against AWS; duplicates and already-gone rules count as done. */
static int apply_action(struct rctx *r, const struct np_posture_action *a)
{
    if (a->n_tags)
        return apply_tags(r, a);
    struct np_aws_perm *perms = np_xcalloc(a->n_rules ? a->n_rules : 1, sizeof(*perms));
    for (size_t i = 0; i < a->n_rules; i++)
        perms[i] = np_controller_perm_of(&a->rules[i]);
    int rc = rule_call(r, a, perms, a->n_rules);
    if (already_done(a, rc)) {
        /* One such rule fails the whole call on AWS: the rules go one by one. */
        rc = 0;
        for (size_t i = 0; i < a->n_rules && rc == 0; i++) {
            rc = rule_call(r, a, &perms[i], 1);
            if (already_done(a, rc))
                rc = 0;
        }
    }
    free(perms);
    return rc;
}

/* Computes the delta of the observed group against the desired rules and tags. */
static int compute_delta(struct rctx *r, const struct np_posture_ruleset *want,
                         struct np_posture_delta *delta)
{
    struct np_posture_ruleset got = {0};
    np_observe_sg_rules(r->sg, &got);
    struct np_posture_tag *have = np_xcalloc(r->sg->n_tags ? r->sg->n_tags : 1, sizeof(*have));
    np_observe_tags(have, r->sg->tags, r->sg->n_tags);
    int rc = np_posture_diff(delta, want, &got, r->spec->tags, r->spec->n_tags, have, r->sg->n_tags,
                             r->spec->ownership);
    if (rc == 0 && r->p.guardrails.n > 0)
        rc = np_posture_guardrail_mark(
            delta, want, &got, r->spec->ownership,
            (const struct np_posture_guardrail *const *)r->p.guardrails.items, r->p.guardrails.n,
            r->p.ns, r->p.name);
    free(have);
    np_posture_ruleset_clean_up(&got);
    return rc;
}

/*
 * Checks the desired rules (r->want, peer names not resolved yet: guardrails judge CIDRs only)
 * against the guardrails governing the posture. *deny is true when a Deny guardrail forbids
 * them, or when the namespace's labels are not known yet (the posture must not be applied);
 * sets the Compliant or the Ready condition.
 */
static int guardrails_forbid(struct rctx *r, struct np_controller_result *res, bool *deny)
{
    *deny = false;
    int rc = np_controller_pass_guardrails_for(&r->p, res, deny);
    if (rc || *deny || r->p.guardrails.n == 0)
        return rc;
    struct np_posture_violation *v = NULL;
    size_t nv = 0;
    np_posture_guardrail_check(&v, &nv,
                               (const struct np_posture_guardrail *const *)r->p.guardrails.items,
                               r->p.guardrails.n, r->p.ns, r->p.name, &r->want);
    struct np_controller_pass_violations pv = {0};
    for (size_t i = 0; i < nv; i++) {
        char *text = np_posture_rule_text(v[i].atomic);
        char *what = np_strdupf("%s %s", np_posture_direction_name(v[i].atomic->direction), text);
        np_controller_pass_violation_add(&pv, v[i].guardrail, v[i].rule, what);
        free(what);
        free(text);
    }
    *deny = np_controller_pass_guardrail_verdict(&r->p, &pv);
    free(v);
    return 0;
}

/* "<guardrail>/<rule id>" of the first governing guardrail rule the drift item violates. */
static char *guardrail_of(struct np_controller_pass *p, const struct np_posture_drift *d)
{
    struct rctx *r = (struct rctx *)p;
    if (!d->guardrail)
        return NULL;
    for (size_t g = 0; g < r->p.guardrails.n; g++) {
        const struct np_posture_guardrail *gr = r->p.guardrails.items[g];
        for (size_t i = 0; i < gr->n_rules; i++)
            if (np_posture_guardrail_rule_matches(&gr->rules[i], &d->rule) &&
                !np_posture_guardrail_exempts(&gr->rules[i], r->p.ns, r->p.name))
                return np_strdupf("%s/%s", gr->name, gr->rules[i].id);
    }
    return NULL;
}

/*
 * Whether the event's API call makes this kind of change (rule calls explain rule drift, tag
 * calls tag drift): the actor of an event is never pinned on drift it cannot have caused.
 */
static bool event_explains(const char *event_name, const struct np_posture_drift *d)
{
    if (!event_name)
        return false;
    bool tag_item = d->change == NP_POSTURE_TAG_MISSING || d->change == NP_POSTURE_TAG_CHANGED ||
                    d->change == NP_POSTURE_TAG_EXTRA;
    if (tag_item)
        return np_str_eq(event_name, "CreateTags") || np_str_eq(event_name, "DeleteTags");
    return np_str_has_prefix(event_name, "AuthorizeSecurityGroup") ||
           np_str_has_prefix(event_name, "RevokeSecurityGroup") ||
           np_str_has_prefix(event_name, "UpdateSecurityGroupRuleDescriptions") ||
           np_str_eq(event_name, "ModifySecurityGroupRules");
}

/* ---------------------------------------------------------------- plan hooks */

static int build_plan(struct np_controller_pass *p, const struct np_posture_delta *sel, void **plan,
                      char ***lines)
{
    (void)p;
    struct np_posture_plan *pl = np_xcalloc(1, sizeof(*pl));
    np_posture_plan_build(pl, sel);
    np_posture_plan_text(lines, NULL, pl);
    *plan = pl;
    return 0;
}

static void free_plan(void *plan)
{
    np_posture_plan_clean_up(plan);
    free(plan);
}

static int apply_plan_actions(struct np_controller_pass *p, void *plan)
{
    struct rctx *r = (struct rctx *)p;
    const struct np_posture_plan *pl = plan;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < pl->n; i++)
        rc = apply_action(r, &pl->actions[i]);
    return rc;
}

/* Verification: the group read again from AWS, diffed again. */
static int residual_delta(struct np_controller_pass *p, struct np_posture_delta *out)
{
    struct rctx *r = (struct rctx *)p;
    int rc = reread_group(r);
    if (rc == 0)
        rc = compute_delta(r, &r->want, out);
    return rc;
}

/* The group as read back after this pass's repairs (residual_delta re-read it). */
static uint64_t residual_fp(struct np_controller_pass *p, const struct np_posture_delta *residual)
{
    (void)residual;
    return np_aws_sg_fingerprint(((struct rctx *)p)->sg);
}

/* Resolves the peer names of the desired rules (looked up first), diffs the group against them
 * and lets the shared pass decide, apply and verify. A peer without a group yet: Ready=False
 * PeerNotReady. */
static int decide(struct rctx *r, struct np_controller_result *res)
{
    struct np_posture_delta delta = {0};
    char *subject = NULL;
    struct np_posture_peers peers = {0};
    lookup_peers(r, &peers);
    int rc = np_posture_ruleset_resolve(&r->want, r->spec, &peers);
    peers_clean_up(&peers);
    if (rc) {
        np_controller_pass_stop(&r->p, NP_CONTROLLER_REASON_PEER_NOT_READY,
                                np_strdup(np_error_message()));
        res->requeue_after_ms = 10 * 1000;
        return 0;
    }
    rc = compute_delta(r, &r->want, &delta);
    if (rc)
        goto out;
    subject = np_strdupf("security group %s", r->group_id);
    struct np_controller_pass_plan_ops ops = {
        .subject = subject,
        .observed_fp = np_aws_sg_fingerprint(r->sg),
        .build = build_plan,
        .apply = apply_plan_actions,
        .free_plan = free_plan,
        .residual = residual_delta,
        .residual_fp = residual_fp,
        .guardrail_of = guardrail_of,
        .event_explains = event_explains,
    };
    rc = np_controller_pass_decide(&r->p, &delta, &r->spec->remediation, &ops, res);
out:
    free(subject);
    np_posture_delta_clean_up(&delta);
    return rc;
}

/* The desired rules, expanded once per pass with peer names kept (resolved in decide). A spec
 * that does not expand (parse validates what expansion needs): Ready=False InvalidSpec. */
static bool expand_desired(struct rctx *r, struct np_controller_result *res)
{
    if (np_posture_desired(&r->want, r->spec) == 0)
        return true;
    np_controller_pass_stop(&r->p, NP_CONTROLLER_REASON_INVALID_SPEC,
                            np_strdup(np_error_message()));
    res->terminal = true;
    return false;
}

static int converge(struct rctx *r, struct np_controller_result *res)
{
    const struct np_posture_sg_spec *spec = r->spec;
    bool denied = false;
    if (!expand_desired(r, res))
        return 0;
    int rc = guardrails_forbid(r, res, &denied);
    if (rc || denied)
        return rc; /* denied: Ready=False GuardrailViolation; nothing is created or changed */
    bool adopt = spec->management.policy == NP_POSTURE_MANAGEMENT_ADOPT;
    rc = np_controller_pass_find_or_create(
        &r->p, &group_ops, adopt ? spec->management.group_id : NULL, spec->remediation.mode, res);
    if (rc || !r->sg)
        return rc;
    free(r->group_id);
    r->group_id = np_strdup(r->sg->group_id);
    if (spec->remediation.mode == NP_POSTURE_MODE_ENFORCE) {
        rc = ensure_ownership_tags(r);
        if (rc)
            return rc;
    }
    np_controller_pass_synced(&r->p);
    return decide(r, res);
}

/* ---------------------------------------------------------------- deletion */

/* Deletes the group (deletion policy Delete; gone counts as done). Returns 1 when done, 0 when
 * AWS refuses while it is in use (DeletionBlocked, requeued), or an error. */
static int delete_group(struct rctx *r, const char *gid, struct np_controller_result *res)
{
    int rc = np_aws_ec2_delete_security_group(np_controller_region_ec2(r->p.use.region), gid);
    if (rc == NP_ENOTFOUND)
        rc = 0;
    if (rc == NP_EDEPENDENCY)
        return np_controller_pass_deletion_blocked(
            &r->p,
            np_strdupf("AWS refuses to delete %s while it is in use: %s", gid, np_error_message()),
            res);
    if (rc)
        return rc;
    np_controller_region_snapshot_remove(r->p.use.region, gid);
    char *note = np_strdupf("deleted security group %s", gid);
    np_controller_pass_emit(&r->p, "Normal", "Deleted", "Delete", note);
    free(note);
    return 1;
}

/* Keeps the group: drops our ownership tags when it is ours, touches nothing when it is not
 * (foreign_owner: another owner's tags are on it). Returns 1 when done, or an error. */
static int retain_group(struct rctx *r, const char *gid, bool ours, bool foreign_owner)
{
    char *note = NULL;
    if (ours) {
        int rc = untag_group(r, gid);
        if (rc)
            return rc;
        note = np_strdupf("retained security group %s; removed the ownership tags", gid);
    } else {
        np_controller_region_snapshot_remove(r->p.use.region, gid);
        note = np_strdupf(foreign_owner
                              ? "retained security group %s; its ownership tags belong to "
                                "another owner and were left alone"
                              : "retained security group %s; it does not carry this posture's "
                                "uid tag (never adopted in Enforce mode), so nothing was changed",
                          gid);
    }
    np_controller_pass_emit(&r->p, "Normal", "Retained", "Delete", note);
    free(note);
    return 1;
}

/*
 * Lets the group of the status go by the deletion policy. Read from AWS, not the snapshot:
 * ours is what carries our uid tag now (created, or adopted and tagged). A refused or
 * Detect-only adoption, or a group re-tagged by someone, is never deleted.
 */
static int release_group(struct rctx *r, const char *gid, bool retain,
                         struct np_controller_result *res)
{
    r->group_id = np_strdup(gid);
    int rc = reread_group(r);
    if (rc && rc != NP_ENOTFOUND)
        return rc;
    bool gone = rc == NP_ENOTFOUND;
    bool ours = !gone && np_str_eq(tag_value(r->sg, NP_POSTURE_TAG_UID), r->p.uid);
    bool foreign_owner = !gone && tag_value(r->sg, NP_POSTURE_TAG_UID) && !ours;
    if (!retain && (gone || ours))
        return delete_group(r, gid, res);
    return retain_group(r, gid, ours, foreign_owner);
}

static int handle_deletion(struct rctx *r, struct np_controller_result *res)
{
    if (!np_kube_object_has_finalizer(r->p.obj, NP_KUBE_FINALIZER))
        return 0;
    const char *gid = np_json_path_str(r->p.old_status, "groupId", NP_JSON_END);
    if (!r->p.use.region) {
        char *what = np_strdupf("group %s", gid ? gid : "(none)");
        np_controller_pass_deletion_no_account(&r->p, what, res);
        free(what);
        return 0;
    }
    if (gid) {
        int rc = release_group(r, gid,
                               np_controller_pass_retains(r->spec->management.policy,
                                                          r->spec->management.deletion_policy),
                               res);
        if (rc <= 0)
            return rc; /* blocked (requeued) or failed */
    }
    int rc = np_kube_finalizer_remove(r->p.ctl->kube, &np_controller_res_sgp, r->p.obj,
                                      NP_KUBE_FINALIZER);
    return rc == NP_ENOTFOUND ? 0 : rc;
}

/* ---------------------------------------------------------------- entry point */

/* ---------------------------------------------------------------- kind */

static int sgp_parse(struct np_controller_pass *p, json_object *spec)
{
    return np_posture_sg_spec_parse(&((struct rctx *)p)->spec, spec);
}

static const char *sgp_account(struct np_controller_pass *p)
{
    return ((struct rctx *)p)->spec->account_ref;
}

static const char *sgp_region(struct np_controller_pass *p)
{
    return ((struct rctx *)p)->spec->region;
}

static int sgp_converge(struct np_controller_pass *p, struct np_controller_result *res)
{
    return converge((struct rctx *)p, res);
}

static int sgp_deletion(struct np_controller_pass *p, struct np_controller_result *res)
{
    return handle_deletion((struct rctx *)p, res);
}

static bool sgp_put_ids(struct np_controller_pass *p, json_object *st)
{
    struct rctx *r = (struct rctx *)p;
    if (!r->group_id)
        return false;
    np_json_put_str(st, "groupId", r->group_id);
    np_json_put_str(st, "vpcId", r->vpc_id ? r->vpc_id : (r->sg ? r->sg->vpc_id : NULL));
    np_json_put_str(st, "accountId", r->sg ? r->sg->owner_id : NULL);
    np_json_put_str(st, "region", r->p.use.region_name);
    return true;
}

static void sgp_clean_up(struct np_controller_pass *p)
{
    struct rctx *r = (struct rctx *)p;
    np_posture_sg_spec_destroy(r->spec);
    np_aws_sg_free(r->sg);
    free(r->group_id);
    free(r->vpc_id);
    np_posture_ruleset_clean_up(&r->want);
}

static struct np_kube_informer *sgp_informer(struct np_controller *ctl)
{
    return ctl->sgp_inf;
}

static const char *const sgp_status_keys[] = {"groupId", "vpcId", "accountId", "region", NULL};

static const struct np_controller_pass_kind sgp_kind = {
    .kind = "SecurityGroupPosture",
    .res = &np_controller_res_sgp,
    .scope_key = "direction",
    .text_key = "rule",
    .id_key = "groupId",
    .status_keys = sgp_status_keys,
    .ctx_size = sizeof(struct rctx),
    .informer = sgp_informer,
    .parse = sgp_parse,
    .account = sgp_account,
    .region = sgp_region,
    .converge = sgp_converge,
    .deletion = sgp_deletion,
    .put_ids = sgp_put_ids,
    .clean_up = sgp_clean_up,
};

int np_controller_reconcile_sgp(struct np_controller *ctl, const char *key,
                                struct np_controller_result *res)
{
    return np_controller_pass_reconcile(ctl, &sgp_kind, key, res);
}

bool np_controller_park_sgp(struct np_controller *ctl, const char *key)
{
    if (atomic_load(&ctl->first_polls) == 0)
        return false; /* the steady state: no region to wait for, no object read */
    json_object *obj = NULL;
    if (np_kube_store_get(np_kube_informer_store(ctl->sgp_inf), &obj, key) != 0)
        return false;
    json_object *spec = np_json_path(obj, "spec", NP_JSON_END);
    /* What makes find_or_create read by status (and defer): see np_controller_pass_find_or_create;
     * anything else runs now (a pass that stops earlier only waits a little longer). */
    const char *group_id = np_json_path_str(obj, "status", "groupId", NP_JSON_END);
    bool defers = group_id && !np_json_path(obj, "metadata", "deletionTimestamp", NP_JSON_END) &&
                  !np_json_path_str(spec, "management", "groupId", NP_JSON_END);
    bool parked = false;
    if (defers) {
        const char *account = np_json_path_str(spec, "accountRef", "name", NP_JSON_END);
        const char *region = np_json_path_str(spec, "region", NP_JSON_END);
        parked = np_controller_account_park(
            ctl, np_str_is_empty(account) ? NP_POSTURE_DEFAULT_ACCOUNT : account,
            np_str_is_empty(region) ? NULL : region, NP_CONTROLLER_WORK_SGP, key, group_id);
    }
    json_object_put(obj);
    return parked;
}
