/*
 * What counts as drift: a difference that appeared after the posture had converged for its
 * generation. Converging a new or changed spec is not drift (no Warning DriftDetected Event,
 * no netposture_drift_detected_total, no status drift item); an out-of-band change after
 * convergence is, exactly once. Only repairing drift is a remediation (Remediated Events,
 * netposture_remediations_total); applying a spec is SpecApplied, netposture_spec_applies_total.
 * Time-to-detect runs from a CloudTrail event's time (source
 * "event") or, found by a read, from the read before it (source "poll", an upper bound);
 * time-to-remediate from the detection to the verified repair. Security groups through real
 * reconcile passes (fixture.h); VPC postures through the shared decision
 * (np_controller_pass_decide) with a VPC item.
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

static double remediations(const char *kind, const char *family)
{
    char *l = np_strdupf("kind=\"%s\",result=\"success\"", kind);
    double n = np_metrics_value(fx.ctl->metrics, family, l);
    free(l);
    return n;
}

/* Asserts WEB shows no drift at all: no item, no Event, no count, Drifted=False; and nothing
 * applied was a remediation (no Remediated Event, no netposture_remediations_total). */
static void expect_no_drift(const char *when)
{
    json_object *obj = fx_get(&fx, WEB);
    char *log = fx_event_log(&fx);
    cr_assert_eq(fx_events(&fx, "DriftDetected", NULL), 0, "%s: %s", when, log);
    cr_assert_eq(fx_events(&fx, "Remediated", NULL), 0, "%s: %s", when, log);
    free(log);
    cr_assert_eq(detections(SGP), 0, "%s: drift counted", when);
    cr_assert_eq(remediations(SGP, "netposture_remediations_total"), 0, "%s: remediations counted",
                 when);
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

/* WEB converged, then its spec changed to spec and reconciled; returns its group (owned). */
static char *web_changed_to(const char *spec)
{
    fx_put_posture(&fx, WEB, SPEC);
    reconcile(WEB);
    fx_set_spec(&fx, WEB, spec);
    reconcile(WEB);
    return group_of_web();
}

Test(controller_drift, a_new_posture_is_not_drift, .init = setup, .fini = teardown)
{
    fx_put_posture(&fx, WEB, SPEC);
    reconcile(WEB);
    expect_no_drift("after creation");
    /* What converging applied is announced as such. */
    char *log = fx_event_log(&fx);
    cr_assert_gt(fx_events(&fx, "SpecApplied", "Normal"), 0, "%s", log);
    free(log);
    cr_assert_gt(remediations(SGP, "netposture_spec_applies_total"), 0);
    reconcile(WEB);
    expect_no_drift("after a second pass");
}

Test(controller_drift, a_changed_spec_is_not_drift, .init = setup, .fini = teardown)
{
    fx_put_posture(&fx, WEB, SPEC);
    reconcile(WEB);
    int applied = fx_events(&fx, "SpecApplied", "Normal");
    double applies = remediations(SGP, "netposture_spec_applies_total");
    fx_set_spec(&fx, WEB, SPEC_WITH(HTTPS_RULE "," SSH_RULE, ",\"tags\":{\"team\":\"web\"}"));
    reconcile(WEB);
    char *gid = group_of_web();
    cr_assert(fake_ec2_has_rule(fx.ec2, gid, false, "tcp", 22, 22, "10.0.0.0/8"));
    free(gid);
    expect_no_drift("after a spec change");
    char *log = fx_event_log(&fx);
    /* authorize tcp 22, tag set team=web */
    cr_assert_eq(fx_events(&fx, "SpecApplied", "Normal"), applied + 2, "%s", log);
    free(log);
    cr_assert_eq(remediations(SGP, "netposture_spec_applies_total"), applies + 1);
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
    /* The repair is a remediation: one plan, one Remediated Event (authorize tcp 443). */
    cr_assert_eq(remediations(SGP, "netposture_remediations_total"), 1);
    cr_assert_eq(fx_events(&fx, "Remediated", "Normal"), 1);
    json_object *obj = fx_get(&fx, WEB);
    cr_assert_not_null(fx_drift_item(obj, "ingress", "Missing"));
    json_object_put(obj);
    free(gid);
}

/* A changed spec and, in the next generation, drift: only the drift is counted. */
Test(controller_drift, drift_after_a_changed_spec_converged_is_drift, .init = setup,
     .fini = teardown)
{
    char *gid = web_changed_to(SPEC_WITH(HTTPS_RULE "," SSH_RULE, ""));
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

/* The repair takes this long on the fake clock. */
#define REPAIR_MS 1500

static int stub_apply(struct np_controller_pass *p, void *plan)
{
    (void)p;
    (void)plan;
    fx_advance(&fx, REPAIR_MS);
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

/* One decision on a VPC posture, with one attribute item or none; returns the drift items
 * written. */
static size_t decide_vpc_at(int64_t converged, bool item)
{
    struct np_controller_pass p = {.ctl = fx.ctl,
                                   .kind = &vpc_kind,
                                   .key = FX_NS "/main",
                                   .now = np_controller_now_ms(fx.ctl)};
    p.obj = vpc_posture(converged);
    p.old_status = np_json_path(p.obj, "status", NP_JSON_END);
    p.generation = 2;
    p.spec_changed = converged != p.generation;
    p.ns = np_strdup(FX_NS);
    p.name = np_strdup("main");
    np_kube_object_ref_from(&p.ref, p.obj);
    struct np_posture_delta delta = {0};
    if (item)
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

static size_t decide_vpc(int64_t converged)
{
    return decide_vpc_at(converged, true);
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
    /* Applied, but as the spec converging: not a remediation. */
    cr_assert_eq(fx_events(&fx, "Remediated", NULL), 0);
    cr_assert_eq(fx_events(&fx, "SpecApplied", "Normal"), 2);
    cr_assert_eq(remediations("VPCPosture", "netposture_remediations_total"), 0);
    cr_assert_eq(remediations("VPCPosture", "netposture_spec_applies_total"), 2);
}

Test(controller_drift, a_vpc_difference_after_convergence_is_drift, .init = setup, .fini = teardown)
{
    cr_assert_eq(decide_vpc(2), 1);
    cr_assert_eq(fx_events(&fx, "DriftDetected", "Warning"), 1);
    cr_assert_eq(vpc_detections(), 1);
    cr_assert_eq(fx_events(&fx, "Remediated", "Normal"), 1);
    cr_assert_eq(fx_events(&fx, "SpecApplied", NULL), 0);
    cr_assert_eq(remediations("VPCPosture", "netposture_remediations_total"), 1);
    cr_assert_eq(remediations("VPCPosture", "netposture_spec_applies_total"), 0);
}

/* ---------------------------------------------------------------- time to detect, remediate */

#define BY(kind, source) "kind=\"" kind "\",source=\"" source "\""
#define TTD "netposture_drift_time_to_detect_seconds"
#define TTR "netposture_drift_time_to_remediate_seconds"

static double count_of(const char *family, const char *labels)
{
    return np_metrics_value(fx.ctl->metrics, family, labels);
}

static double sum_of(const char *family, const char *labels)
{
    return np_metrics_sum(fx.ctl->metrics, family, labels);
}

/* WEB converged, then `later` ms pass; returns its group (owned). */
static char *converged_web_then(int64_t later)
{
    fx_put_posture(&fx, WEB, SPEC);
    reconcile(WEB);
    char *gid = group_of_web();
    fx_advance(&fx, later);
    return gid;
}

/* One SecurityGroupPosture detection from source, ttd seconds after the change, and its
 * repair were timed; none from the other source. */
static void expect_sg_timed(const char *source, const char *other, double ttd)
{
    char *by = np_strdupf("kind=\"" SGP "\",source=\"%s\"", source);
    char *by_other = np_strdupf("kind=\"" SGP "\",source=\"%s\"", other);
    cr_assert_eq(count_of(TTD, by), 1, "%s", by);
    cr_assert_float_eq(sum_of(TTD, by), ttd, 1e-9, "%s", by);
    cr_assert_eq(count_of(TTR, by), 1, "%s", by);
    cr_assert_eq(count_of(TTD, by_other), 0, "%s", by_other);
    free(by);
    free(by_other);
}

/* A VPC pass read it clean; 7 s later the next pass finds drift and repairs it in 1.5 s. */
Test(controller_drift, vpc_drift_found_by_a_read_is_timed_from_the_read_before, .init = setup,
     .fini = teardown)
{
    cr_assert_eq(decide_vpc_at(2, false), 0);
    fx_advance(&fx, 7000);
    cr_assert_eq(decide_vpc(2), 1);
    cr_assert_eq(count_of(TTD, BY("VPCPosture", "poll")), 1);
    cr_assert_float_eq(sum_of(TTD, BY("VPCPosture", "poll")), 7.0, 1e-9);
    cr_assert_eq(count_of(TTR, BY("VPCPosture", "poll")), 1);
    cr_assert_float_eq(sum_of(TTR, BY("VPCPosture", "poll")), REPAIR_MS / 1000.0, 1e-9);
    cr_assert_eq(count_of(TTD, BY("VPCPosture", "event")), 0);
}

/* The first read since the start bounds nothing: detected and repaired, no time-to-detect. */
Test(controller_drift, vpc_drift_without_a_read_before_has_no_time_to_detect, .init = setup,
     .fini = teardown)
{
    cr_assert_eq(decide_vpc(2), 1);
    cr_assert_eq(vpc_detections(), 1);
    cr_assert_eq(count_of(TTD, BY("VPCPosture", "poll")), 0);
    cr_assert_eq(count_of(TTR, BY("VPCPosture", "poll")), 1);
}

/* Converged, then 5 s later the group is read again (as a poll would) without its rule. */
Test(controller_drift, sg_drift_found_by_a_read_is_timed_from_the_read_before, .init = setup,
     .fini = teardown)
{
    char *gid = converged_web_then(5000);
    cr_assert(fake_ec2_remove_rule(fx.ec2, gid, false, "tcp", 443, 443, "10.0.0.0/8"));
    fx_notice(&fx, gid);
    reconcile(WEB);
    expect_sg_timed("poll", "event", 5.0);
    free(gid);
}

/* A CloudTrail event 3 s old names the group: timed from its eventTime, source "event". */
Test(controller_drift, sg_drift_from_an_event_is_timed_from_its_event_time, .init = setup,
     .fini = teardown)
{
    char *gid = converged_web_then(60 * 1000);
    cr_assert(fake_ec2_add_rule(fx.ec2, gid, false, "tcp", 22, 22, "0.0.0.0/0", NULL));
    int64_t event_ms = np_controller_now_ms(fx.ctl) - 3000;
    free(np_controller_account_note_event(fx.ctl, "default", NULL, gid, "arn:aws:iam::1:user/a",
                                          false, "AuthorizeSecurityGroupIngress", event_ms, NULL));
    reconcile(WEB);
    cr_assert(!fake_ec2_has_rule(fx.ec2, gid, false, "tcp", 22, 22, "0.0.0.0/0"));
    expect_sg_timed("event", "poll", 3.0);
    free(gid);
}

/* An event whose call cannot have made the change does not date it: the read before does. */
Test(controller_drift, an_event_that_does_not_explain_the_item_leaves_it_to_the_poll, .init = setup,
     .fini = teardown)
{
    char *gid = converged_web_then(4000);
    cr_assert(fake_ec2_add_rule(fx.ec2, gid, false, "tcp", 22, 22, "0.0.0.0/0", NULL));
    free(np_controller_account_note_event(fx.ctl, "default", NULL, gid, NULL, false, "CreateTags",
                                          np_controller_now_ms(fx.ctl) - 1000, NULL));
    reconcile(WEB);
    expect_sg_timed("poll", "event", 4.0);
    free(gid);
}

/* A spec converging is not drift: nothing is timed. */
Test(controller_drift, converging_a_spec_times_nothing, .init = setup, .fini = teardown)
{
    fx_put_posture(&fx, WEB, SPEC);
    reconcile(WEB);
    cr_assert_eq(decide_vpc(1), 0);
    const char *const families[] = {TTD, TTR};
    const char *const labels[] = {BY(SGP, "poll"), BY(SGP, "event"), BY("VPCPosture", "poll"),
                                  BY("VPCPosture", "event")};
    for (size_t f = 0; f < NP_ARRAY_LEN(families); f++)
        for (size_t l = 0; l < NP_ARRAY_LEN(labels); l++)
            cr_assert_eq(count_of(families[f], labels[l]), 0, "%s{%s}", families[f], labels[l]);
}
