/*
 * The controller's metrics fed by real reconcile passes (fixture.h) and by its observers: the
 * per-posture gauges (set by a pass, dropped once the posture is gone), AWS accounting through
 * the region's client (requests, latency, retries, AWS throttling, client-side waits, a 200
 * reporting a failure counted with its code), the workqueue's and the REST client's families.
 */
#include "fixture.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#define WEB "web"
#define SPEC(extra)                                                                                \
    "{\"groupName\":\"shop-web\",\"description\":\"web tier\",\"tags\":{\"team\":\"shop\"},"       \
    "\"ingress\":[{\"protocol\":\"tcp\",\"fromPort\":443,\"toPort\":443,"                          \
    "\"cidrs\":[\"10.0.0.0/8\"]}]" extra "}"
#define POSTURE "kind=\"SecurityGroupPosture\",namespace=\"" FX_NS "\",name=\"" WEB "\""

static struct fx fx;

static void setup(void)
{
    fx_start(&fx, NULL);
}

static void teardown(void)
{
    fx_stop(&fx);
}

static double value(const char *family, const char *labels)
{
    return np_metrics_value(fx.ctl->metrics, family, labels);
}

/* Whether the rendered registry has a series of family with exactly these labels. */
static bool has_series(const char *family, const char *labels)
{
    struct np_buf out = NP_BUF_INIT;
    np_metrics_render(fx.ctl->metrics, &out);
    char *line = np_strdupf("\n%s{%s} ", family, labels);
    bool found = strstr(np_buf_cstr(&out), line) != NULL;
    free(line);
    np_buf_clean_up(&out);
    return found;
}

Test(controller_metrics, posture_gauges_follow_the_posture, .init = setup, .fini = teardown)
{
    struct np_controller_result res;
    fx_put_posture(&fx, WEB, SPEC(""));
    cr_assert_eq(fx_reconcile(&fx, WEB, &res), 0, "%s", np_error_message());
    cr_expect_eq(value("netposture_posture_ready", POSTURE), 1);
    cr_expect(has_series("netposture_posture_drift_items", POSTURE));
    cr_expect_eq(value("netposture_posture_drift_items", POSTURE), 0);

    /* drift that Detect leaves standing */
    fx_set_spec(&fx, WEB, SPEC(",\"remediation\":{\"mode\":\"Detect\"}"));
    cr_assert_eq(fx_reconcile(&fx, WEB, &res), 0, "%s", np_error_message());
    json_object *obj = fx_get(&fx, WEB);
    char *gid = np_strdup(fx_group_id(obj));
    json_object_put(obj);
    cr_assert(fake_ec2_add_rule(fx.ec2, gid, false, "tcp", 22, 22, "0.0.0.0/0", NULL));
    cr_assert(fake_ec2_set_tag(fx.ec2, gid, "team", NULL));
    fx_notice(&fx, gid);
    cr_assert_eq(fx_reconcile(&fx, WEB, &res), 0, "%s", np_error_message());
    cr_expect_eq(value("netposture_posture_ready", POSTURE), 0);
    cr_expect_eq(value("netposture_posture_drift_items", POSTURE), 2);

    /* deleted: the series go with it */
    fx_delete(&fx, WEB);
    cr_assert_eq(fx_reconcile(&fx, WEB, &res), 0, "%s", np_error_message());
    cr_assert_null(fx_get(&fx, WEB), "the finalizer was not removed");
    cr_assert_eq(fx_reconcile(&fx, WEB, &res), 0, "%s", np_error_message());
    cr_expect(!has_series("netposture_posture_ready", POSTURE), "ready outlived its posture");
    cr_expect(!has_series("netposture_posture_drift_items", POSTURE));
    free(gid);
}

Test(controller_metrics, aws_calls_are_counted_and_timed, .init = setup, .fini = teardown)
{
    struct np_controller_result res;
    fx_put_posture(&fx, WEB, SPEC(""));
    cr_assert_eq(fx_reconcile(&fx, WEB, &res), 0, "%s", np_error_message());
    const char *create = "action=\"CreateSecurityGroup\"";
    cr_expect_eq(
        value("netposture_aws_requests_total", "action=\"CreateSecurityGroup\",code=\"OK\""), 1);
    cr_expect_eq(value("netposture_aws_request_duration_seconds", create), 1, "one observation");
    cr_expect_eq(value("netposture_aws_client_throttle_wait_seconds", create), 1);
    cr_expect_eq(value("netposture_aws_retries_total", create), 0);
}

/* An attempt as the AWS client reports it. */
static void attempt(const char *action, const char *code, long status, int n, int64_t wait_ms)
{
    struct np_aws_request_info info = {"ec2", action, code, status, 120, n, wait_ms};
    np_controller_aws_observer(fx.ctl, &info);
}

Test(controller_metrics, aws_observer_accounting, .init = setup, .fini = teardown)
{
    const char *a = "action=\"CreateFlowLogs\"";
    attempt("CreateFlowLogs", "RequestLimitExceeded", 503, 1, 0);
    attempt("CreateFlowLogs", "InvalidParameter", 200, 2, 250); /* a 200 reporting a failure */
    attempt("CreateFlowLogs", "ClientThrottled", 0, 3, 0);      /* nothing sent */
    cr_expect_eq(value("netposture_aws_requests_total",
                       "action=\"CreateFlowLogs\",code=\"RequestLimitExceeded\""),
                 1);
    cr_expect_eq(value("netposture_aws_requests_total",
                       "action=\"CreateFlowLogs\",code=\"InvalidParameter\""),
                 1);
    cr_expect_eq(value("netposture_aws_requests_total", "action=\"CreateFlowLogs\",code=\"OK\""),
                 0);
    cr_expect_eq(value("netposture_aws_throttled_total", a), 1, "AWS's throttling only");
    cr_expect_eq(value("netposture_aws_retries_total", a), 1, "the refused third was not sent");
    cr_expect_eq(value("netposture_aws_request_duration_seconds", a), 2, "sent attempts only");
    cr_expect_float_eq(
        np_metrics_sum(fx.ctl->metrics, "netposture_aws_request_duration_seconds", a), 0.24, 1e-9);
    cr_expect_float_eq(
        np_metrics_sum(fx.ctl->metrics, "netposture_aws_client_throttle_wait_seconds", a), 0.25,
        1e-9);
}

Test(controller_metrics, queue_and_rest_client_observers, .init = setup, .fini = teardown)
{
    struct np_kube_workqueue_observer o = np_controller_queue_observer(fx.ctl);
    o.added(o.ctx);
    o.added(o.ctx);
    o.taken(o.ctx, 1500);
    o.done(o.ctx, 40);
    o.retried(o.ctx);
    cr_expect_eq(value("netposture_workqueue_adds_total", NULL), 2);
    cr_expect_eq(value("netposture_workqueue_queue_duration_seconds", NULL), 1);
    cr_expect_float_eq(
        np_metrics_sum(fx.ctl->metrics, "netposture_workqueue_queue_duration_seconds", NULL), 1.5,
        1e-9);
    cr_expect_float_eq(
        np_metrics_sum(fx.ctl->metrics, "netposture_workqueue_work_duration_seconds", NULL), 0.04,
        1e-9);
    cr_expect_eq(value("netposture_workqueue_retries_total", NULL), 1);

    np_controller_kube_observer(fx.ctl, "PATCH", 409, 12);
    np_controller_kube_observer(fx.ctl, "GET", 0, 30000);
    cr_expect_eq(value("netposture_rest_client_requests_total", "verb=\"PATCH\",code=\"409\""), 1);
    cr_expect_eq(value("netposture_rest_client_requests_total", "verb=\"GET\",code=\"<error>\""),
                 1);
    cr_expect_eq(value("netposture_rest_client_request_duration_seconds", "verb=\"GET\""), 1);
    np_controller_kube_observer(fx.ctl, "WATCH", 200, -1); /* a stream's length is no latency */
    cr_expect_eq(value("netposture_rest_client_requests_total", "verb=\"WATCH\",code=\"200\""), 1);
    cr_expect_eq(value("netposture_rest_client_request_duration_seconds", "verb=\"WATCH\""), 0);

    np_controller_metrics_reconcile(fx.ctl, NP_CONTROLLER_WORK_SGP, "error", 0.5);
    cr_expect_eq(value("netposture_reconcile_errors_total", "kind=\"SecurityGroupPosture\""), 1);
    cr_expect_eq(
        value("netposture_reconcile_total", "kind=\"SecurityGroupPosture\",result=\"error\""), 1);
}

Test(controller_metrics, event_delay_from_event_time, .init = setup, .fini = teardown)
{
    int64_t now = np_controller_now_ms(fx.ctl);
    np_controller_metrics_event_delay(fx.ctl, now - 90 * 1000);
    np_controller_metrics_event_delay(fx.ctl, 0); /* unknown: not observed */
    cr_expect_eq(value("netposture_event_delay_seconds", NULL), 1);
    cr_expect_float_eq(np_metrics_sum(fx.ctl->metrics, "netposture_event_delay_seconds", NULL), 90,
                       1e-9);
}
