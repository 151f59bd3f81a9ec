/*
 * A controller restart, as its workers see it: every posture queued by the informer's initial
 * adds while the region's first poll is still under way, then the poll landing. Counts the
 * passes (netposture_reconcile_total) through the real worker step (np_controller_work_on) and
 * a workqueue on the fixture's clock, so requeue timers fire when the test moves the clock.
 * A restart costs one pass per posture (plus the one that builds the region), and a group that
 * drifted while the controller was down is still repaired.
 */
#include "fixture.h"

#include <criterion/criterion.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

#define N 6
#define SPEC_FMT                                                                                   \
    "{\"groupName\":\"shop-p%d\",\"description\":\"tier %d\",\"ingress\":[{\"protocol\":\"tcp\","  \
    "\"fromPort\":443,\"toPort\":443,\"cidrs\":[\"10.0.0.0/8\"]}]}"

static struct fx fx;

static void setup(void)
{
    fx_start(&fx, NULL);
    /* The same queue the controller builds, on the fixture's clock. */
    np_kube_workqueue_destroy(fx.ctl->queue);
    struct np_kube_workqueue_options qopts = {
        .clock = &fx.clock.clock, .base_delay_ms = 1000, .max_delay_ms = 60000};
    cr_assert_eq(np_kube_workqueue_new(&fx.ctl->queue, &qopts), 0);
}

static void teardown(void)
{
    fx_stop(&fx);
}

static char *name_of(int i)
{
    return np_strdupf("p%d", i);
}

/* SecurityGroupPosture passes counted so far, whatever their result. */
static double passes(void)
{
    static const char *const results[] = {"success", "requeue", "error"};
    double n = 0;
    for (size_t i = 0; i < NP_ARRAY_LEN(results); i++) {
        char *labels = np_strdupf("kind=\"SecurityGroupPosture\",result=\"%s\"", results[i]);
        n += np_metrics_value(fx.ctl->metrics, "netposture_reconcile_total", labels);
        free(labels);
    }
    return n;
}

/* Works the queue as a worker does until nothing is due. */
static void drain(void)
{
    char *text = NULL;
    for (int guard = 0; guard < 1000; guard++) {
        if (np_kube_workqueue_try_get(fx.ctl->queue, &text) != 0) {
            np_error_clear();
            return;
        }
        np_controller_work_on(fx.ctl, text);
        np_kube_workqueue_done(fx.ctl->queue, text);
        free(text);
    }
    cr_assert_fail("the queue never emptied");
}

/* Waits until the account's region has ended its first poll. */
static void wait_first_poll(void)
{
    struct np_controller_account_hold use;
    cr_assert_eq(np_controller_account_use(fx.ctl, "default", FX_NS, NULL, &use), 0);
    cr_assert_eq(use.reason, NP_CONTROLLER_REASON_NONE, "%s", use.message);
    int64_t deadline = np_time_mono_ms() + 10000;
    while (np_controller_region_first_poll_running(use.region) && np_time_mono_ms() < deadline)
        sched_yield();
    cr_assert(!np_controller_region_first_poll_running(use.region), "the first poll never ended");
    np_controller_account_hold_clean_up(&use);
}

/* The previous process's work: N converged postures; returns p0's group id (owned). */
static char *converge_all(void)
{
    for (int i = 0; i < N; i++) {
        char *name = name_of(i), *spec = np_strdupf(SPEC_FMT, i, i);
        struct np_controller_result res;
        fx_put_posture(&fx, name, spec);
        cr_assert_eq(fx_reconcile(&fx, name, &res), 0, "%s", np_error_message());
        json_object *obj = fx_get(&fx, name);
        cr_assert_str_eq(fx_cond(obj, "Ready", NULL), "True");
        json_object_put(obj);
        free(name);
        free(spec);
    }
    json_object *p0 = fx_get(&fx, "p0");
    char *gid = np_strdup(fx_group_id(p0));
    json_object_put(p0);
    return gid;
}

TestSuite(controller_restart, .init = setup, .fini = teardown);

Test(controller_restart, costs_one_pass_per_posture_and_repairs_what_drifted_meanwhile)
{
    char *gid = converge_all();
    /* The restart: the new process has built no region yet (the account is rebuilt)... */
    np_controller_accounts_invalidate(fx.ctl, "default");
    /* ...and while it was down someone opened ssh on one group. */
    cr_assert(fake_ec2_add_rule(fx.ec2, gid, false, "tcp", 22, 22, "0.0.0.0/0", NULL));
    fake_ec2_reset_calls(fx.ec2);
    double before = passes();

    /* The informer's initial adds; the region's first poll lasts while the workers start. */
    fake_ec2_hold_polls(fx.ec2, true);
    for (int i = 0; i < N; i++) {
        char *key = np_strdupf(FX_NS "/p%d", i);
        cr_assert(np_controller_enqueue(fx.ctl, NP_CONTROLLER_WORK_SGP, key));
        free(key);
    }
    drain();
    cr_expect_eq(fake_ec2_calls(fx.ec2, "DescribeSecurityGroups"), 0,
                 "passes read AWS one by one instead of waiting for the poll:\n%s",
                 fake_ec2_call_log(fx.ec2));
    /* The poll lands (its owners and the parked passes are enqueued), then every timer a pass
     * asked for is due. */
    fake_ec2_hold_polls(fx.ec2, false);
    wait_first_poll();
    drain();
    for (int i = 0; i < 3; i++) {
        fx_advance(&fx, 61 * 1000);
        drain();
    }

    double n = passes() - before;
    cr_expect_leq(n, N + 1,
                  "%g passes for %d postures at restart (want at most one each, plus "
                  "the one that builds the region)",
                  n, N);
    cr_expect_geq(n, N, "%g passes for %d postures: some were never reconciled", n, N);
    cr_expect(!fake_ec2_has_rule(fx.ec2, gid, false, "tcp", 22, 22, "0.0.0.0/0"),
              "the rule added while the controller was down was not revoked");
    for (int i = 0; i < N; i++) {
        char *name = name_of(i);
        json_object *obj = fx_get(&fx, name);
        cr_expect_str_eq(fx_cond(obj, "Ready", NULL), "True", "%s is not Ready", name);
        json_object_put(obj);
        free(name);
    }
    free(gid);
}

Test(controller_restart, a_parked_pass_runs_when_its_group_is_gone)
{
    char *gid = converge_all();
    np_controller_accounts_invalidate(fx.ctl, "default");
    /* The group vanished while the controller was down: the poll enqueues no owner for it. */
    cr_assert(fake_ec2_set_tag(fx.ec2, gid, NP_POSTURE_TAG_OWNER, NULL));
    cr_assert(fake_ec2_set_tag(fx.ec2, gid, NP_POSTURE_TAG_UID, NULL));
    fake_ec2_hold_polls(fx.ec2, true);
    for (int i = 0; i < N; i++) {
        char *key = np_strdupf(FX_NS "/p%d", i);
        np_controller_enqueue(fx.ctl, NP_CONTROLLER_WORK_SGP, key);
        free(key);
    }
    drain();
    double mid = passes();
    fake_ec2_hold_polls(fx.ec2, false);
    wait_first_poll();
    drain();
    /* p0's pass ran after the poll (no timer needed): it noticed its group lost our tags. */
    cr_expect_gt(passes(), mid, "no pass ran once the poll landed");
    char *owner = fake_ec2_tag(fx.ec2, gid, NP_POSTURE_TAG_OWNER);
    cr_expect_str_eq(owner ? owner : "(none)", FX_NS "/p0",
                     "p0's pass did not run after the poll (its ownership tag is not back)");
    free(owner);
    free(gid);
}

Test(controller_restart, an_aws_outage_while_reading_the_group_is_retried_not_dropped)
{
    char *gid = converge_all();
    /* The snapshot does not hold p0's group (as after a failed first poll): the pass reads it. */
    struct np_controller_account_hold use;
    cr_assert_eq(np_controller_account_use(fx.ctl, "default", FX_NS, NULL, &use), 0);
    np_controller_region_snapshot_remove(use.region, gid);
    np_controller_account_hold_clean_up(&use);
    fake_ec2_unavailable(fx.ec2, "DescribeSecurityGroups");
    struct np_controller_result res;
    int rc = fx_reconcile(&fx, "p0", &res);
    np_error_clear();
    fake_ec2_unavailable(fx.ec2, NULL);
    cr_expect_neq(rc, 0, "the pass hid the failure (requeue after %lld ms): nothing would retry it",
                  (long long)res.requeue_after_ms);
    free(gid);
}
