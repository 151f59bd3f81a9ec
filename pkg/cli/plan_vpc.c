/*
 * netposturectl plan for a VPCPosture: the VPC and its pieces read and matched as the
 * controller reads them (pkg/observe), diffed, marked by the guardrails and planned with
 * pkg/posture, the plan id over the same text and the same fingerprint of what was read — so
 * for a Propose-mode posture it equals status.plan.id. Nothing is changed.
 */
#include "cli/private/cli_private.h"

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- the plan (no I/O) */

/*
 * A VPC about to be created as the diff sees it: created with the spec's CIDR and tags, AWS's
 * defaults for the attributes (DNS support on, DNS hostnames off), no piece, no flow log.
 */
static void new_vpc_view(struct np_posture_vpc_observed *v, const struct np_posture_vpc_spec *spec)
{
    memset(v, 0, sizeof(*v));
    v->vpc_id = "(new)";
    v->cidr_block = spec->cidr_block;
    v->enable_dns_support = true;
    v->enable_dns_hostnames = false;
    v->tags = spec->tags;
    v->n_tags = spec->n_tags;
}

/* The delta of the VPC against the spec, marked by the guardrails. */
static int vpc_delta(struct np_posture_delta *delta, const struct np_posture_vpc_spec *spec,
                     const struct np_posture_vpc_observed *view, const struct np_cli_guardrails *gr,
                     const char *ns, const char *name)
{
    int rc = np_posture_vpc_diff(delta, spec, view);
    if (rc == 0 && gr && gr->n > 0)
        rc = np_posture_vpc_guardrail_mark(delta, spec, view, gr->items, gr->n, ns, name);
    return rc;
}

int np_cli_vpc_plan_compute(struct np_cli_plan *out, const struct np_posture_vpc_spec *spec,
                            const struct np_observe_vpc *o, const struct np_cli_guardrails *gr,
                            const char *ns, const char *name, int64_t now_ms)
{
    memset(out, 0, sizeof(*out));
    struct np_posture_vpc_observed fresh;
    const struct np_posture_vpc_observed *view = &fresh;
    if (o)
        view = &o->view;
    else
        new_vpc_view(&fresh, spec);
    struct np_posture_delta delta = {0}, sel = {0};
    struct np_posture_vpc_plan plan = {0};
    int rc = vpc_delta(&delta, spec, view, gr, ns, name);
    if (rc == 0)
        rc = np_cli_plan_select(out, &sel, &spec->remediation, &delta, now_ms);
    if (rc == 0) {
        np_posture_vpc_plan_build(&plan, &sel);
        rc = np_posture_vpc_plan_text(&out->lines, &out->n, &plan);
    }
    if (rc == 0 && o && out->n > 0)
        out->id = np_posture_plan_id(out->lines, np_posture_vpc_fingerprint(&delta, o->vpc->vpc_id),
                                     np_aws_sha256_hex);
    if (rc == 0 && !o)
        np_cli_plan_prepend(out, np_strdupf("create vpc %s", spec->cidr_block));
    np_posture_vpc_plan_clean_up(&plan);
    np_posture_delta_clean_up(&sel);
    np_posture_delta_clean_up(&delta);
    if (rc)
        np_cli_plan_clean_up(out);
    return rc;
}

/* ---------------------------------------------------------------- reading AWS */

/* The VPC with this id (*out owned, NULL when there is none). */
static int vpc_by_id(struct np_aws_ec2 *ec2, const char *id, struct np_aws_vpc **out)
{
    int rc = np_observe_vpc_describe(ec2, "vpc-id", id, out);
    if (rc == NP_ENOTFOUND) {
        np_error_clear();
        return 0;
    }
    return rc;
}

/* The VPC carrying tag key=value (*out owned, NULL when none); among several, the one with the
 * id prefer (the controller keeps the one its status names; the others are duplicates). */
static int vpc_by_tag(struct np_aws_ec2 *ec2, const char *key, const char *value,
                      const char *prefer, struct np_aws_vpc **out)
{
    char *filter = np_strdupf("tag:%s", key);
    const char *values[] = {value};
    struct np_aws_filter f = {filter, values, 1};
    struct np_aws_vpc *vpcs = NULL;
    size_t n = 0;
    long keep = -1;
    *out = NULL;
    int rc = np_aws_ec2_describe_vpcs(ec2, &vpcs, &n, &f, 1);
    for (size_t i = 0; rc == 0 && i < n; i++) /* the filter is not taken on trust */
        if (np_str_eq(np_aws_tag_get(vpcs[i].tags, vpcs[i].n_tags, key), value) &&
            (keep < 0 || np_str_eq(vpcs[i].vpc_id, prefer)))
            keep = (long)i;
    if (keep >= 0) {
        *out = np_xcalloc(1, sizeof(**out));
        **out = vpcs[keep];
        memset(&vpcs[keep], 0, sizeof(vpcs[keep]));
    }
    np_aws_vpcs_free(vpcs, n);
    free(filter);
    return rc;
}

/* The adopted VPC: it must exist and no other posture may own it (else the controller stops
 * with VPCNotFound or AdoptionRefused and plans nothing). */
static int adopted_vpc(struct np_aws_ec2 *ec2, const struct np_cli_plan_target *t, const char *id,
                       struct np_aws_vpc **out)
{
    int rc = vpc_by_id(ec2, id, out);
    if (rc == 0 && !*out)
        return np_error_set(NP_ENOTFOUND,
                            "VPC %s (to adopt) does not exist; the controller reports "
                            "VPCNotFound and plans nothing",
                            id);
    const char *owner =
        rc ? NULL : np_aws_tag_get((*out)->tags, (*out)->n_tags, NP_POSTURE_TAG_OWNER);
    char *self = np_strdupf("%s/%s", t->ns, t->name);
    if (owner && !np_str_eq(owner, self))
        rc = np_error_set(NP_EDENIED,
                          "VPC %s is owned by posture %s; the controller reports AdoptionRefused "
                          "and plans nothing",
                          id, owner);
    free(self);
    return rc;
}

/*
 * The posture's VPC as the controller finds it (*out owned; NULL when it would create one):
 * the adopted one; else, for a posture of the cluster, the one our uid tag marks (the one its
 * status names among several), else the one its status names unless another posture's uid
 * marks it now; for a file (no uid yet), the one tagged as the posture's owner.
 */
static int find_vpc(struct np_aws_ec2 *ec2, const struct np_cli_plan_target *t,
                    const struct np_posture_vpc_spec *spec, struct np_aws_vpc **out)
{
    *out = NULL;
    const char *status_id = np_json_path_str(t->obj, "status", "vpcId", NP_JSON_END);
    const char *uid = np_json_path_str(t->obj, "metadata", "uid", NP_JSON_END);
    if (spec->management.policy == NP_POSTURE_MANAGEMENT_ADOPT)
        return adopted_vpc(ec2, t, spec->management.vpc_id, out);
    if (!t->from_cluster) {
        char *owner = np_strdupf("%s/%s", t->ns, t->name);
        int rc = vpc_by_tag(ec2, NP_POSTURE_TAG_OWNER, owner, NULL, out);
        free(owner);
        return rc;
    }
    int rc = uid ? vpc_by_tag(ec2, NP_POSTURE_TAG_UID, uid, status_id, out) : 0;
    if (rc == 0 && !*out && status_id)
        rc = vpc_by_id(ec2, status_id, out);
    const char *theirs =
        *out ? np_aws_tag_get((*out)->tags, (*out)->n_tags, NP_POSTURE_TAG_UID) : NULL;
    if (rc == 0 && theirs && !np_str_eq(theirs, uid)) { /* re-tagged: not ours any more */
        np_aws_vpcs_free(*out, 1);
        *out = NULL;
    }
    return rc;
}

/* A piece the spec says to adopt that is not in the VPC: the controller stops there
 * (Ready=False PieceNotFound) and never creates it, so there is no plan either. */
static int check_adopted_pieces(const struct np_observe_vpc *o,
                                const struct np_posture_vpc_spec *spec)
{
    for (int k = 0; k < NP_OBSERVE_PIECE_KINDS; k++) {
        enum np_observe_piece_kind kind = (enum np_observe_piece_kind)k;
        for (size_t i = 0; i < np_observe_declared_count(spec, kind); i++) {
            const char *id = NULL;
            struct np_observe_piece piece = np_observe_declared(spec, kind, i, &id);
            if (id && o->at[k][i] < 0)
                return np_error_set(NP_ENOTFOUND,
                                    "%s (to adopt for %s \"%s\") is not in VPC %s; the "
                                    "controller reports PieceNotFound and changes nothing",
                                    id, np_observe_piece_names(kind)->prefix, piece.name,
                                    o->vpc->vpc_id);
        }
    }
    return 0;
}

/* Reads the VPC found and everything in it, matched as the controller matches (our uid: the
 * cluster's, or for a file the one the VPC carries). */
static int observe(struct np_aws_ec2 *ec2, const struct np_cli_plan_target *t,
                   const struct np_posture_vpc_spec *spec, struct np_observe_vpc *o)
{
    const char *uid = t->from_cluster
                          ? np_json_path_str(t->obj, "metadata", "uid", NP_JSON_END)
                          : np_aws_tag_get(o->vpc->tags, o->vpc->n_tags, NP_POSTURE_TAG_UID);
    json_object *status = t->from_cluster ? np_json_path(t->obj, "status", NP_JSON_END) : NULL;
    int rc = np_observe_vpc_read(o, ec2);
    if (rc == 0) {
        np_observe_vpc_settle(o, spec, uid, status);
        rc = check_adopted_pieces(o, spec);
    }
    return rc;
}

/* A Deny guardrail forbidding the declared state: the controller refuses to apply the posture
 * (Ready=False GuardrailViolation) and plans nothing. */
static int guardrails_refuse(const struct np_cli_plan_target *t,
                             const struct np_posture_vpc_spec *spec,
                             const struct np_cli_guardrails *gr)
{
    struct np_posture_vpc_violation *v = NULL;
    size_t n = 0;
    int rc = 0;
    if (gr && gr->n > 0)
        np_posture_vpc_guardrail_check(&v, &n, gr->items, gr->n, t->ns, t->name, spec);
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (v[i].guardrail->enforcement == NP_POSTURE_GUARDRAIL_DENY)
            rc = np_cli_guardrail_refusal(v[i].guardrail->name, v[i].rule->id, v[i].what);
    np_posture_vpc_violations_free(v, n);
    return rc;
}

int np_cli_plan_vpcp(struct np_aws_ec2 **ec2, const struct np_cli_aws_opts *aws,
                     const struct np_cli_plan_target *t, const struct np_cli_guardrails *gr,
                     json_object *plans)
{
    struct np_posture_vpc_spec *spec = NULL;
    struct np_observe_vpc o = {0};
    struct np_cli_plan p = {0};
    int rc = np_posture_vpc_spec_parse(&spec, np_json_path(t->obj, "spec", NP_JSON_END));
    if (rc == 0)
        rc = guardrails_refuse(t, spec, gr);
    if (rc == 0)
        rc = np_cli_ec2_for(ec2, aws, spec->region);
    if (rc == 0)
        rc = find_vpc(*ec2, t, spec, &o.vpc);
    if (rc == 0 && o.vpc)
        rc = observe(*ec2, t, spec, &o);
    if (rc == 0)
        rc = np_cli_vpc_plan_compute(&p, spec, o.vpc ? &o : NULL, gr, t->ns, t->name,
                                     np_time_now_ms());
    if (rc == 0)
        json_object_array_add(plans, np_cli_plan_json(t, "VPCPosture", "vpcId",
                                                      o.vpc ? o.vpc->vpc_id : NULL, &p,
                                                      np_aws_ec2_region(*ec2)));
    else
        rc = np_error_set(rc, "VPCPosture %s/%s: %s", t->ns, t->name, np_error_message());
    np_cli_plan_clean_up(&p);
    np_observe_vpc_clean_up(&o);
    np_posture_vpc_spec_destroy(spec);
    return rc;
}
