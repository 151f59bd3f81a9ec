/*
 * Reconcile passes of SecurityGroupPostures without servers (fixture.h): convergence from
 * nothing, every drift kind repaired, the modes (Detect, Propose and approval), grace periods
 * on the injected clock, exceptions, the blast radius, refused adoption, deletion with both
 * policies, a failed AWS call in the middle of a plan, and the requeue times a pass asks for.
 */
#include "fixture.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#define WEB "web"
#define HTTPS_RULE                                                                                 \
    "{\"protocol\":\"tcp\",\"fromPort\":443,\"toPort\":443,\"cidrs\":[\"10.0.0.0/8\"],"            \
    "\"description\":\"https from the VPC\"}"
#define SPEC(extra)                                                                                \
    "{\"groupName\":\"shop-web\",\"description\":\"web tier\",\"tags\":{\"team\":\"shop\"},"       \
    "\"ingress\":[" HTTPS_RULE "]" extra "}"

static struct fx fx;

static void setup(void)
{
    fx_start(&fx, NULL);
}

static void teardown(void)
{
    fx_stop(&fx);
}

/* Asserts a condition's status and reason on the server's copy of the posture. */
static void expect_cond(json_object *obj, const char *type, const char *status, const char *reason)
{
    const char *r = NULL;
    const char *s = fx_cond(obj, type, &r);
    cr_assert_str_eq(s ? s : "(none)", status, "%s: %s (%s), want %s (%s); status %s", type,
                     s ? s : "(none)", r ? r : "", status, reason,
                     json_object_to_json_string(np_json_path(obj, "status", NP_JSON_END)));
    cr_assert_str_eq(r ? r : "(none)", reason, "%s: reason %s, want %s; status %s", type,
                     r ? r : "(none)", reason,
                     json_object_to_json_string(np_json_path(obj, "status", NP_JSON_END)));
}

/* Creates WEB from spec and converges it; returns its group id (owned). */
static char *converged(const char *spec)
{
    struct np_result res;
    fx_put_posture(&fx, WEB, spec);
    int rc = fx_reconcile(&fx, WEB, &res);
    cr_assert_eq(rc, 0, "%s", np_error_message());
    json_object *obj = fx_get(&fx, WEB);
    expect_cond(obj, "Ready", "True", "Converged");
    char *gid = np_strdup(fx_group_id(obj));
    cr_assert_not_null(gid);
    json_object_put(obj);
    fake_ec2_reset_calls(fx.ec2);
    return gid;
}

/* ---------------------------------------------------------------- converge */

Test(controller_reconcile, converges_from_nothing, .init = setup, .fini = teardown)
{
    struct np_result res;
    fx_put_posture(&fx, WEB, SPEC(""));
    cr_assert_eq(fx_reconcile(&fx, WEB, &res), 0, "%s", np_error_message());

    json_object *obj = fx_get(&fx, WEB);
    expect_cond(obj, "Ready", "True", "Converged");
    expect_cond(obj, "Synced", "True", "Synced");
    expect_cond(obj, "Drifted", "False", "NoDrift");
    cr_assert(fx_has_finalizer(obj), "no finalizer before the first AWS mutation");
    const char *gid = fx_group_id(obj);
    cr_assert_not_null(gid, "status.groupId missing");
    cr_assert_str_eq(np_json_path_str(obj, "status", "vpcId", NP_JSON_END), FAKE_EC2_DEFAULT_VPC);
    cr_assert_str_eq(np_json_path_str(obj, "status", "region", NP_JSON_END), FX_REGION);
    cr_assert_str_eq(np_json_path_str(obj, "status", "accountId", NP_JSON_END), FAKE_EC2_OWNER);
    cr_assert_eq(np_json_path_int(obj, 0, "status", "observedGeneration", NP_JSON_END), 1);

    /* The group in EC2: ownership and declared tags, the declared rule, default egress. */
    cr_assert_eq(fake_ec2_group_count(fx.ec2), 1);
    char *owner = fake_ec2_tag(fx.ec2, gid, NP_TAG_OWNER);
    char *uid = fake_ec2_tag(fx.ec2, gid, NP_TAG_UID);
    char *team = fake_ec2_tag(fx.ec2, gid, "team");
    cr_assert_str_eq(owner, FX_NS "/" WEB);
    cr_assert_str_eq(uid, "uid-" WEB);
    cr_assert_str_eq(team, "shop");
    free(owner);
    free(uid);
    free(team);
    char *desc = fake_ec2_rule_description(fx.ec2, gid, false, "tcp", 443, 443, "10.0.0.0/8");
    cr_assert_str_eq(desc, "https from the VPC");
    free(desc);
    cr_assert_eq(fake_ec2_rule_count(fx.ec2, gid, false), 1);
    cr_assert(fake_ec2_has_rule(fx.ec2, gid, true, "-1", 0, 0, "0.0.0.0/0"));
    cr_assert_eq(fake_ec2_calls(fx.ec2, "CreateSecurityGroup"), 1);
    cr_assert_eq(fake_ec2_calls(fx.ec2, "AuthorizeSecurityGroupIngress"), 1);
    cr_assert_eq(fx_events(&fx, "Created", "Normal"), 1);
    cr_assert_eq(res.requeue_after_ms, 0, "a converged posture waits for changes, not a timer");
    json_object_put(obj);

    /* A second pass finds the group by its status id and changes nothing. */
    fake_ec2_reset_calls(fx.ec2);
    cr_assert_eq(fx_reconcile(&fx, WEB, &res), 0, "%s", np_error_message());
    char *log = fake_ec2_call_log(fx.ec2);
    cr_assert_eq(fake_ec2_mutations(fx.ec2), 0, "calls: %s", log);
    free(log);
    cr_assert_eq(fake_ec2_group_count(fx.ec2), 1, "created twice");
    obj = fx_get(&fx, WEB);
    expect_cond(obj, "Ready", "True", "Converged");
    json_object_put(obj);
}

/* ---------------------------------------------------------------- drift repaired */

/* After the test changed the group behind the controller's back: the change is noticed, one
 * pass repairs it; the drift item (scope, change) is reported in state, with Events. */
static void expect_repaired(const char *scope, const char *change, const char *state,
                            const char *text_part)
{
    struct np_result res;
    json_object *before = fx_get(&fx, WEB);
    int64_t count = np_json_path_int(before, 0, "status", "remediationCount", NP_JSON_END);
    json_object_put(before);
    int detected = fx_events(&fx, "DriftDetected", "Warning");
    int remediated = fx_events(&fx, "Remediated", "Normal");
    cr_assert_eq(fx_reconcile(&fx, WEB, &res), 0, "%s", np_error_message());
    json_object *obj = fx_get(&fx, WEB);
    expect_cond(obj, "Ready", "True", "Converged");
    expect_cond(obj, "Drifted", "False", "NoDrift");
    json_object *it = fx_drift_item(obj, scope, change);
    cr_assert_not_null(it, "no %s %s drift item: %s", scope, change,
                       json_object_to_json_string(np_json_path(obj, "status", NP_JSON_END)));
    cr_assert_str_eq(np_json_path_str(it, "state", NP_JSON_END), state);
    const char *text = np_json_path_str(it, "rule", NP_JSON_END);
    cr_assert(text && strstr(text, text_part), "item text \"%s\" lacks \"%s\"", text, text_part);
    cr_assert_not_null(np_json_path(it, "resolvedAt", NP_JSON_END));
    cr_assert_eq(np_json_path_int(obj, 0, "status", "remediationCount", NP_JSON_END), count + 1);
    cr_assert_not_null(np_json_path(obj, "status", "lastRemediationTime", NP_JSON_END));
    char *log = fx_event_log(&fx);
    cr_assert_eq(fx_events(&fx, "DriftDetected", "Warning"), detected + 1, "%s", log);
    cr_assert_eq(fx_events(&fx, "Remediated", "Normal"), remediated + 1, "%s", log);
    free(log);
    json_object_put(obj);
}

Test(controller_reconcile, missing_rule_is_authorized, .init = setup, .fini = teardown)
{
    char *gid = converged(SPEC(""));
    cr_assert(fake_ec2_remove_rule(fx.ec2, gid, false, "tcp", 443, 443, "10.0.0.0/8"));
    fx_notice(&fx, gid);
    expect_repaired("ingress", "Missing", "Authorized", "10.0.0.0/8");
    cr_assert(fake_ec2_has_rule(fx.ec2, gid, false, "tcp", 443, 443, "10.0.0.0/8"));
    cr_assert_eq(fake_ec2_calls(fx.ec2, "AuthorizeSecurityGroupIngress"), 1);
    cr_assert_eq(fake_ec2_mutations(fx.ec2), 1);
    free(gid);
}

Test(controller_reconcile, extra_rule_is_revoked, .init = setup, .fini = teardown)
{
    char *gid = converged(SPEC(""));
    cr_assert(fake_ec2_add_rule(fx.ec2, gid, false, "tcp", 22, 22, "0.0.0.0/0", "ssh"));
    fx_notice(&fx, gid);
    expect_repaired("ingress", "Extra", "Revoked", "0.0.0.0/0");
    cr_assert(!fake_ec2_has_rule(fx.ec2, gid, false, "tcp", 22, 22, "0.0.0.0/0"));
    cr_assert(fake_ec2_has_rule(fx.ec2, gid, false, "tcp", 443, 443, "10.0.0.0/8"));
    cr_assert_eq(fake_ec2_calls(fx.ec2, "RevokeSecurityGroupIngress"), 1);
    cr_assert_eq(fake_ec2_mutations(fx.ec2), 1);
    free(gid);
}

Test(controller_reconcile, extra_egress_rule_is_revoked, .init = setup, .fini = teardown)
{
    char *gid = converged(SPEC(""));
    cr_assert(fake_ec2_add_rule(fx.ec2, gid, true, "udp", 53, 53, "10.1.0.2/32", NULL));
    fx_notice(&fx, gid);
    expect_repaired("egress", "Extra", "Revoked", "10.1.0.2/32");
    cr_assert(!fake_ec2_has_rule(fx.ec2, gid, true, "udp", 53, 53, "10.1.0.2/32"));
    cr_assert(fake_ec2_has_rule(fx.ec2, gid, true, "-1", 0, 0, "0.0.0.0/0"),
              "the default egress of an omitted spec.egress was revoked");
    cr_assert_eq(fake_ec2_calls(fx.ec2, "RevokeSecurityGroupEgress"), 1);
    free(gid);
}

Test(controller_reconcile, changed_description_is_updated_in_place, .init = setup, .fini = teardown)
{
    char *gid = converged(SPEC(""));
    cr_assert(fake_ec2_set_rule_description(fx.ec2, gid, false, "tcp", 443, 443, "10.0.0.0/8",
                                            "edited by hand"));
    fx_notice(&fx, gid);
    expect_repaired("ingress", "DescriptionChanged", "Updated", "10.0.0.0/8");
    char *desc = fake_ec2_rule_description(fx.ec2, gid, false, "tcp", 443, 443, "10.0.0.0/8");
    cr_assert_str_eq(desc, "https from the VPC");
    free(desc);
    /* Never revoke-and-re-add for a description. */
    cr_assert_eq(fake_ec2_calls(fx.ec2, "UpdateSecurityGroupRuleDescriptionsIngress"), 1);
    cr_assert_eq(fake_ec2_mutations(fx.ec2), 1);
    free(gid);
}

Test(controller_reconcile, missing_declared_tag_is_restored, .init = setup, .fini = teardown)
{
    char *gid = converged(SPEC(""));
    cr_assert(fake_ec2_set_tag(fx.ec2, gid, "team", NULL));
    fx_notice(&fx, gid);
    expect_repaired("tags", "TagMissing", "Tagged", "team=shop");
    char *team = fake_ec2_tag(fx.ec2, gid, "team");
    cr_assert_str_eq(team, "shop");
    free(team);
    cr_assert_eq(fake_ec2_calls(fx.ec2, "CreateTags"), 1);
    free(gid);
}

Test(controller_reconcile, changed_declared_tag_is_reset, .init = setup, .fini = teardown)
{
    char *gid = converged(SPEC(""));
    cr_assert(fake_ec2_set_tag(fx.ec2, gid, "team", "payments"));
    fx_notice(&fx, gid);
    expect_repaired("tags", "TagChanged", "Tagged", "team=shop");
    char *team = fake_ec2_tag(fx.ec2, gid, "team");
    cr_assert_str_eq(team, "shop");
    free(team);
    free(gid);
}

Test(controller_reconcile, extra_tag_is_removed, .init = setup, .fini = teardown)
{
    char *gid = converged(SPEC(""));
    cr_assert(fake_ec2_set_tag(fx.ec2, gid, "cost-center", "42"));
    fx_notice(&fx, gid);
    expect_repaired("tags", "TagExtra", "Tagged", "cost-center=42");
    char *cc = fake_ec2_tag(fx.ec2, gid, "cost-center");
    cr_assert_null(cc, "the extra tag is still there");
    cr_assert_eq(fake_ec2_calls(fx.ec2, "DeleteTags"), 1);
    /* The ownership tags are never user tags: untouched. */
    char *owner = fake_ec2_tag(fx.ec2, gid, NP_TAG_OWNER);
    cr_assert_str_eq(owner, FX_NS "/" WEB);
    free(owner);
    free(gid);
}

Test(controller_reconcile, lost_ownership_tags_are_restored, .init = setup, .fini = teardown)
{
    char *gid = converged(SPEC(""));
    cr_assert(fake_ec2_set_tag(fx.ec2, gid, NP_TAG_OWNER, NULL));
    fx_notice(&fx, gid);
    struct np_result res;
    cr_assert_eq(fx_reconcile(&fx, WEB, &res), 0, "%s", np_error_message());
    char *owner = fake_ec2_tag(fx.ec2, gid, NP_TAG_OWNER);
    char *uid = fake_ec2_tag(fx.ec2, gid, NP_TAG_UID);
    cr_assert_str_eq(owner, FX_NS "/" WEB);
    cr_assert_str_eq(uid, "uid-" WEB);
    free(owner);
    free(uid);
    cr_assert_eq(fake_ec2_group_count(fx.ec2), 1, "a second group was created");
    json_object *obj = fx_get(&fx, WEB);
    expect_cond(obj, "Ready", "True", "Converged");
    /* Ownership tags are ours, never drift: no drift item, an Event says what was done. */
    cr_assert_null(fx_drift_item(obj, "tags", "TagMissing"));
    cr_assert_str_eq(fx_group_id(obj), gid);
    json_object_put(obj);
    char *log = fx_event_log(&fx);
    cr_assert_not_null(strstr(log, "restored the ownership tags"), "%s", log);
    free(log);
    free(gid);
}
