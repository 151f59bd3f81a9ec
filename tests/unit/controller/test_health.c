/*
 * /healthz: live while every worker moves on, wedged when one has held a single item past the
 * bound, and failing once the leader lease is lost.
 */
#include "controller/private/controller_private.h"

#include "../kube/helpers.h"

#include <criterion/criterion.h>
#include <string.h>

Test(health, a_worker_stuck_past_the_bound_fails_healthz)
{
    struct fake_clock fc;
    fake_clock_init(&fc, 1796083200000LL);
    struct np_controller ctl;
    memset(&ctl, 0, sizeof(ctl));
    struct np_controller_worker w[2];
    memset(w, 0, sizeof(w));
    ctl.clock = &fc.clock;
    ctl.opts.workers = 2;
    ctl.worker_state = w;
    struct np_buf msg = NP_BUF_INIT;
    cr_expect(np_controller_healthz(&ctl, &msg), "idle workers");
    atomic_store(&w[1].busy_since, (long long)np_controller_mono_ms(&ctl));
    fake_clock_advance(&fc, NP_CONTROLLER_WEDGED_MS);
    cr_expect(np_controller_healthz(&ctl, &msg), "at the bound, still live");
    fake_clock_advance(&fc, 1000);
    cr_expect_not(np_controller_healthz(&ctl, &msg), "one item for longer than the bound");
    cr_expect(strstr(np_buf_cstr(&msg), "worker 1") != NULL, "%s", np_buf_cstr(&msg));
    atomic_store(&w[1].busy_since, 0);
    np_buf_clean_up(&msg);
    cr_expect(np_controller_healthz(&ctl, &msg), "it moved on");
    np_buf_clean_up(&msg);
}
