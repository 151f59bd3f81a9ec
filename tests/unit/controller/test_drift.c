/*
 * What counts as drift: a difference that appeared after the posture had converged for its
 * generation. Converging a new or changed spec is not drift (no Warning DriftDetected Event,
 * no netposture_drift_detected_total, no status drift item); an out-of-band change after
 * convergence is, exactly once. Security groups through real reconcile passes (fixture.h);
 * VPC postures through the shared decision (np_controller_pass_decide) with a VPC item.
 */
#include "fixture.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#define WEB "web"
#define SGP "SecurityGroupPosture"
#define HTTPS_RULE                                                                                 \
    "{\"protocol\":\"tcp\",\"fromPort\":443,\"toPort\":443,\"cidrs\":[\"10.0.0.0/8\"]}"
#define SSH_RULE "{\"protocol\":\"tcp\",\"fromPort\":22,\"toPort\":22,\"cidrs\":[\"10.0.0.0/8\"]}"
#define SPEC_WITH(rules, extra)                                                                    \
    "{\"groupName\":\"shop-web\",\"description\":\"web tier\",\"tags\":{\"team\":\"shop\"},"       \
    "\"ingress\":[" rules "]" extra "}"
#define SPEC SPEC_WITH(HTTPS_RULE, "")

static struct fx fx;

static void setup(void)
{
    fx_start(&fx, NULL);
}

static void teardown(void)
{
    fx_stop(&fx);
}

/* Drift detections counted for kind, all changes together. */
static double detections(const char *kind)
{
    static const char *const changes[] = {"Missing",    "Extra",      "DescriptionChanged",
                                          "TagMissing", "TagChanged", "TagExtra",
                                          "Changed"};
    double n = 0;
    for (size_t i = 0; i < NP_ARRAY_LEN(changes); i++) {
        char *l = np_strdupf("kind=\"%s\",change=\"%s\"", kind, changes[i]);
        n += np_metrics_value(fx.ctl->metrics, "netposture_drift_detected_total", l);
        free(l);
    }
    return n;
}

static int64_t drift_count(json_object *obj)
{
    json_object *items = np_json_path(obj, "status", "drift", "items", NP_JSON_END);
    return items ? (int64_t)json_object_array_length(items) : 0;
}

static void reconcile(const char *name)
{
    struct np_controller_result res;
    cr_assert_eq(fx_reconcile(&fx, name, &res), 0, "%s", np_error_message());
}

/* Asserts WEB shows no drift at all: no item, no Event, no count, Drifted=False. */
static void expect_no_drift(const char *when)
{
    json_object *obj = fx_get(&fx, WEB);
    char *log = fx_event_log(&fx);
    cr_assert_eq(fx_events(&fx, "DriftDetected", NULL), 0, "%s: %s", when, log);
    free(log);
    cr_assert_eq(detections(SGP), 0, "%s: drift counted", when);
    cr_assert_eq(drift_count(obj), 0, "%s: drift items %s", when,
                 json_object_to_json_string(np_json_path(obj, "status", "drift", NP_JSON_END)));
    const char *reason = NULL;
    cr_assert_str_eq(fx_cond(obj, "Drifted", &reason), "False", "%s", when);
    json_object_put(obj);
}

/* The group of WEB (owned). */
static char *group_of_web(void)
{
    json_object *obj = fx_get(&fx, WEB);
    char *gid = np_strdup(fx_group_id(obj));
    json_object_put(obj);
    cr_assert_not_null(gid);
    return gid;
}

Test(controller_drift, a_new_posture_is_not_drift, .init = setup, .fini = teardown)
{
    fx_put_posture(&fx, WEB, SPEC);
    reconcile(WEB);
    expect_no_drift("after creation");
    reconcile(WEB);
    expect_no_drift("after a second pass");
}

Test(controller_drift, a_changed_spec_is_not_drift, .init = setup, .fini = teardown)
{
    fx_put_posture(&fx, WEB, SPEC);
    reconcile(WEB);
    fx_set_spec(&fx, WEB, SPEC_WITH(HTTPS_RULE "," SSH_RULE, ",\"tags\":{\"team\":\"web\"}"));
    reconcile(WEB);
    char *gid = group_of_web();
    cr_assert(fake_ec2_has_rule(fx.ec2, gid, false, "tcp", 22, 22, "10.0.0.0/8"));
    free(gid);
    expect_no_drift("after a spec change");
}

/* In Detect mode a changed spec stays unapplied: not Ready, but still not drift. */
Test(controller_drift, an_unapplied_spec_in_detect_mode_is_not_drift, .init = setup,
     .fini = teardown)
{
    fx_put_posture(&fx, WEB, SPEC);
    reconcile(WEB);
    fx_set_spec(&fx, WEB,
                SPEC_WITH(HTTPS_RULE "," SSH_RULE, ",\"remediation\":{\"mode\":\"Detect\"}"));
    reconcile(WEB);
    reconcile(WEB);
    json_object *obj = fx_get(&fx, WEB);
    const char *reason = NULL;
    cr_assert_str_eq(fx_cond(obj, "Ready", &reason), "False");
    json_object_put(obj);
    expect_no_drift("Detect with a spec not applied");
}

Test(controller_drift, an_out_of_band_change_is_drift_once, .init = setup, .fini = teardown)
{
    fx_put_posture(&fx, WEB, SPEC);
    reconcile(WEB);
    char *gid = group_of_web();
    cr_assert(fake_ec2_remove_rule(fx.ec2, gid, false, "tcp", 443, 443, "10.0.0.0/8"));
    fx_notice(&fx, gid);
    reconcile(WEB);
    reconcile(WEB);
    cr_assert_eq(fx_events(&fx, "DriftDetected", "Warning"), 1);
    cr_assert_eq(detections(SGP), 1);
    cr_assert_eq(np_metrics_value(fx.ctl->metrics, "netposture_drift_detected_total",
                                  "kind=\"" SGP "\",change=\"Missing\""),
                 1);
    json_object *obj = fx_get(&fx, WEB);
    cr_assert_not_null(fx_drift_item(obj, "ingress", "Missing"));
    json_object_put(obj);
    free(gid);
}

/* A changed spec and, in the next generation, drift: only the drift is counted. */
Test(controller_drift, drift_after_a_changed_spec_converged_is_drift, .init = setup,
     .fini = teardown)
{
    fx_put_posture(&fx, WEB, SPEC);
    reconcile(WEB);
    fx_set_spec(&fx, WEB, SPEC_WITH(HTTPS_RULE "," SSH_RULE, ""));
    reconcile(WEB);
    char *gid = group_of_web();
    cr_assert(fake_ec2_remove_rule(fx.ec2, gid, false, "tcp", 22, 22, "10.0.0.0/8"));
    fx_notice(&fx, gid);
    reconcile(WEB);
    cr_assert_eq(fx_events(&fx, "DriftDetected", "Warning"), 1);
    cr_assert_eq(detections(SGP), 1);
    free(gid);
}

/* ---------------------------------------------------------------- VPC postures */

#define VPC_ID "vpc-0abc"

static const struct np_controller_pass_kind vpc_kind = {
    .kind = "VPCPosture",
    .res = &np_controller_res_vpcp,
    .scope_key = "piece",
    .text_key = "item",
    .id_key = "vpcId",
    .ctx_size = sizeof(struct np_controller_pass),
};

static int stub_build(struct np_controller_pass *p, const struct np_posture_delta *sel, void **plan,
                      char ***lines)
{
    (void)p;
    *plan = NULL;
    *lines = np_xcalloc(sel->n + 1, sizeof(**lines));
    for (size_t i = 0; i < sel->n; i++)
        (*lines)[i] = np_posture_drift_text(&sel->items[i]);
    return 0;
}

static int stub_apply(struct np_controller_pass *p, void *plan)
{
    (void)p;
    (void)plan;
    return 0;
}

static void stub_free(void *plan)
{
    (void)plan;
}

/* The repair took: nothing differs on the read back. */
static int stub_residual(struct np_controller_pass *p, struct np_posture_delta *out)
{
    (void)p;
    memset(out, 0, sizeof(*out));
    return 0;
}

static const struct np_controller_pass_plan_ops vpc_ops = {
    .subject = "VPC " VPC_ID,
    .build = stub_build,
    .apply = stub_apply,
    .free_plan = stub_free,
    .residual = stub_residual,
};

/* One VPC item: enableDnsHostnames differs. */
static void attribute_delta(struct np_posture_delta *d)
{
    d->n = 1;
    d->items = np_xcalloc(1, sizeof(*d->items));
    d->items[0].change = NP_POSTURE_CHANGED;
    struct np_posture_vpc_drift *v = np_xcalloc(1, sizeof(*v));
    v->item = NP_POSTURE_VPC_ITEM_ATTRIBUTE;
    v->piece_kind = NP_POSTURE_PIECE_VPC;
    v->piece = np_strdup("vpc");
    v->piece_index = -1;
    v->resource_id = np_strdup(VPC_ID);
    v->key = np_strdup("enableDnsHostnames");
    v->value = true;
    d->items[0].vpc = v;
}

/* A VPCPosture "main" whose status says generation `converged` converged (0: never). */
static json_object *vpc_posture(int64_t converged)
{
    char *s = np_strdupf("{\"apiVersion\":\"netposture.dev/v1alpha1\",\"kind\":\"VPCPosture\","
                         "\"metadata\":{\"name\":\"main\",\"namespace\":\"" FX_NS "\","
                         "\"uid\":\"uid-main\",\"generation\":2,\"finalizers\":[\"%s\"]},"
                         "\"status\":{\"vpcId\":\"" VPC_ID "\",\"convergedGeneration\":%lld}}",
                         NP_KUBE_FINALIZER, (long long)converged);
    json_object *o = json_tokener_parse(s);
    free(s);
    cr_assert_not_null(o);
    return o;
}

/* One decision on a VPC posture with one attribute item; returns the drift items written. */
static size_t decide_vpc(int64_t converged)
{
    struct np_controller_pass p = {.ctl = fx.ctl, .kind = &vpc_kind, .now = FX_START_MS};
    p.obj = vpc_posture(converged);
    p.old_status = np_json_path(p.obj, "status", NP_JSON_END);
    p.generation = 2;
    p.spec_changed = converged != p.generation;
    p.ns = np_strdup(FX_NS);
    p.name = np_strdup("main");
    np_kube_object_ref_from(&p.ref, p.obj);
    struct np_posture_delta delta = {0};
    attribute_delta(&delta);
    struct np_posture_remediation rem = {.mode = NP_POSTURE_MODE_ENFORCE};
    struct np_controller_result res = {0};
    cr_assert_eq(np_controller_pass_decide(&p, &delta, &rem, &vpc_ops, &res), 0, "%s",
                 np_error_message());
    cr_assert(p.out.decision.verified);
    size_t n = p.drift_items ? json_object_array_length(p.drift_items) : 0;
    np_posture_delta_clean_up(&delta);
    np_controller_pass_outcome_clean_up(&p.out);
    json_object_put(p.drift_items);
    json_object_put(p.obj);
    free(p.ns);
    free(p.name);
    return n;
}

static double vpc_detections(void)
{
    return np_metrics_value(fx.ctl->metrics, "netposture_drift_detected_total",
                            "kind=\"VPCPosture\",change=\"Changed\"");
}

Test(controller_drift, a_vpc_spec_converging_is_not_drift, .init = setup, .fini = teardown)
{
    cr_assert_eq(decide_vpc(1), 0, "a drift item for a generation never converged");
    cr_assert_eq(decide_vpc(0), 0, "a drift item for a new posture");
    cr_assert_eq(fx_events(&fx, "DriftDetected", NULL), 0);
    cr_assert_eq(vpc_detections(), 0);
}

Test(controller_drift, a_vpc_difference_after_convergence_is_drift, .init = setup, .fini = teardown)
{
    cr_assert_eq(decide_vpc(2), 1);
    cr_assert_eq(fx_events(&fx, "DriftDetected", "Warning"), 1);
    cr_assert_eq(vpc_detections(), 1);
}
