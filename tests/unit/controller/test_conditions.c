/*
 * Unit tests for conditions.c: the reason table, and the one function that derives every
 * condition of a posture from what its pass found and decided (the Ready ladder's precedence,
 * Synced, Drifted, Contested and Compliant).
 */
#include "controller/private/controller_private.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

Test(controller_conditions, every_reason_has_a_unique_name)
{
    for (int r = NP_CONTROLLER_REASON_NONE + 1; r < NP_CONTROLLER_REASON_COUNT; r++) {
        const char *name = np_controller_reason_name((enum np_controller_reason)r);
        cr_assert_str_neq(name, "Unknown", "reason %d has no name", r);
        for (int o = r + 1; o < NP_CONTROLLER_REASON_COUNT; o++)
            cr_expect_str_neq(name, np_controller_reason_name((enum np_controller_reason)o),
                              "%d and %d", r, o);
    }
    cr_expect_str_eq(np_controller_reason_name(NP_CONTROLLER_REASON_NONE), "Unknown");
    cr_expect_str_eq(np_controller_reason_name(NP_CONTROLLER_REASON_COUNT), "Unknown");
}

/* The condition of this type in c, or NULL. */
static const struct np_controller_condition *find(const struct np_controller_pass_conditions *c,
                                                  const char *type)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->items[i].type, type) == 0)
            return &c->items[i];
    return NULL;
}

static void expect_condition(const struct np_controller_pass_conditions *c, const char *type,
                             const char *status, const char *reason, const char *message)
{
    const struct np_controller_condition *x = find(c, type);
    cr_assert_not_null(x, "no %s condition", type);
    cr_expect_str_eq(x->status, status, "%s", type);
    cr_expect_str_eq(x->reason, reason, "%s", type);
    if (message)
        cr_expect_str_eq(x->message, message, "%s", type);
}

/* A pass whose policy decided: verified, with the given standing and counts. */
static void decided(struct np_controller_pass *p, enum np_posture_standing standing)
{
    p->out.decided = true;
    p->out.decision.verified = true;
    p->out.decision.standing = standing;
    p->out.decision.subject = np_strdup("security group sg-1");
}

Test(controller_conditions, nothing_decided_is_unknown_and_says_nothing_else)
{
    struct np_controller_pass p;
    memset(&p, 0, sizeof(p));
    struct np_controller_pass_conditions c;
    np_controller_pass_conditions(&p, &c);
    cr_assert_eq(c.n, 3);
    expect_condition(&c, "Ready", "Unknown", "Unknown", NULL);
    cr_expect_null(c.items[0].message);
    /* kstatus: still working on it (InProgress), not Current before anything was decided */
    expect_condition(&c, "Reconciling", "True", "Unknown", NULL);
    expect_condition(&c, "Stalled", "False", "Unknown", NULL);
    np_controller_pass_conditions_clean_up(&c);
    np_controller_pass_outcome_clean_up(&p.out);
}

Test(controller_conditions, a_stop_wins_over_everything_and_keeps_synced)
{
    struct np_controller_pass p;
    memset(&p, 0, sizeof(p));
    decided(&p, NP_POSTURE_STANDING_GRACE);
    np_controller_pass_synced(&p);
    np_controller_pass_aws_failed(&p, "boom");
    np_controller_pass_stop(&p, NP_CONTROLLER_REASON_ADOPTION_NOT_ALLOWED,
                            np_strdup("not allowed"));
    struct np_controller_pass_conditions c;
    np_controller_pass_conditions(&p, &c);
    expect_condition(&c, "Ready", "False", "AdoptionNotAllowed", "not allowed");
    expect_condition(&c, "Synced", "False", "AWSError", "boom");
    cr_expect_not(np_controller_pass_converged(&p));
    np_controller_pass_conditions_clean_up(&c);
    np_controller_pass_outcome_clean_up(&p.out);
}

Test(controller_conditions, ready_follows_the_standing_and_unverified_repairs_progress)
{
    static const struct {
        enum np_posture_standing standing;
        const char *reason;
    } cases[] = {
        {NP_POSTURE_STANDING_BLAST_RADIUS, "BlastRadiusExceeded"},
        {NP_POSTURE_STANDING_PROPOSED, "PlanProposed"},
        {NP_POSTURE_STANDING_REPORTED, "DriftDetected"},
        {NP_POSTURE_STANDING_CONTESTED, "Contested"},
        {NP_POSTURE_STANDING_GRACE, "GracePeriod"},
        {NP_POSTURE_STANDING_CONVERGED, "Converged"},
    };
    for (size_t i = 0; i < NP_ARRAY_LEN(cases); i++) {
        struct np_controller_pass p;
        memset(&p, 0, sizeof(p));
        decided(&p, cases[i].standing);
        p.out.decision.plan_id = np_strdup("sha256:abc");
        struct np_controller_pass_conditions c;
        np_controller_pass_conditions(&p, &c);
        bool conv = cases[i].standing == NP_POSTURE_STANDING_CONVERGED;
        expect_condition(&c, "Ready", conv ? "True" : "False", cases[i].reason, NULL);
        expect_condition(&c, "Synced", "True", "Synced", NULL);
        cr_expect_eq(np_controller_pass_converged(&p), conv, "%s", cases[i].reason);
        if (cases[i].standing == NP_POSTURE_STANDING_PROPOSED)
            cr_expect(strstr(find(&c, "Ready")->message, "approve-plan=sha256:abc"));
        np_controller_pass_conditions_clean_up(&c);

        /* Applied changes that did not all read back: Progressing, whatever is left. */
        p.out.decision.verified = false;
        p.out.decision.n_applied = 2;
        np_controller_pass_conditions(&p, &c);
        expect_condition(&c, "Ready", "False", "Progressing",
                         "2 change(s) applied, some still differ; retrying");
        expect_condition(&c, "Drifted", "True", "DriftDetected", NULL);
        np_controller_pass_conditions_clean_up(&c);
        np_controller_pass_outcome_clean_up(&p.out);
    }
}

Test(controller_conditions, aws_error_after_converging_and_kind_progress)
{
    struct np_controller_pass p;
    memset(&p, 0, sizeof(p));
    decided(&p, NP_POSTURE_STANDING_CONVERGED);
    p.out.decision.empty = true;
    struct np_controller_pass_conditions c;
    np_controller_pass_conditions(&p, &c);
    expect_condition(&c, "Ready", "True", "Converged", "security group sg-1 matches the spec");
    expect_condition(&c, "Drifted", "False", "NoDrift", NULL);
    cr_expect_null(find(&c, "Drifted")->message);
    expect_condition(&c, "Contested", "False", "NotContested", NULL);
    cr_expect_null(find(&c, "Compliant"), "no guardrail was checked");
    np_controller_pass_conditions_clean_up(&c);

    np_controller_pass_progressing(&p, np_strdup("created 2 piece(s)"));
    np_controller_pass_conditions(&p, &c);
    expect_condition(&c, "Ready", "False", "Progressing", "created 2 piece(s)");
    np_controller_pass_conditions_clean_up(&c);

    np_controller_pass_aws_failed(&p, "DescribeVpcs: throttled");
    np_controller_pass_conditions(&p, &c);
    expect_condition(&c, "Ready", "False", "AWSError", "DescribeVpcs: throttled");
    expect_condition(&c, "Synced", "False", "AWSError", "DescribeVpcs: throttled");
    np_controller_pass_conditions_clean_up(&c);
    np_controller_pass_outcome_clean_up(&p.out);
}

Test(controller_conditions, drift_contested_and_compliance)
{
    struct np_controller_pass p;
    memset(&p, 0, sizeof(p));
    decided(&p, NP_POSTURE_STANDING_CONTESTED);
    p.out.decision.n_left = 3;
    p.out.decision.n_contested = 1;
    p.out.decision.contested_text = np_strdup("ingress Extra tcp 22 appeared 3 times");
    np_controller_pass_set_compliance(&p, NP_CONTROLLER_REASON_GUARDRAIL_WARNING,
                                      np_strdup("guardrail g forbids x"));
    struct np_controller_pass_conditions c;
    np_controller_pass_conditions(&p, &c);
    cr_assert_eq(c.n, 7);
    const char *order[] = {"Ready",   "Reconciling", "Stalled",  "Synced",
                           "Drifted", "Contested",   "Compliant"};
    for (size_t i = 0; i < c.n; i++)
        cr_expect_str_eq(c.items[i].type, order[i]);
    expect_condition(&c, "Ready", "False", "Contested",
                     "1 item(s) are contested and no longer repaired; annotate "
                     "netposture.dev/retry-contested=true to try again");
    expect_condition(&c, "Drifted", "True", "DriftDetected", "3 item(s) differ from the spec");
    expect_condition(&c, "Contested", "True", "Flapping", "ingress Extra tcp 22 appeared 3 times");
    expect_condition(&c, "Compliant", "False", "GuardrailWarning", "guardrail g forbids x");
    expect_condition(&c, "Stalled", "True", "Contested",
                     "1 item(s) are contested and no longer repaired; annotate "
                     "netposture.dev/retry-contested=true to try again");
    expect_condition(&c, "Reconciling", "False", "Contested", NULL);
    np_controller_pass_conditions_clean_up(&c);

    np_controller_pass_set_compliance(&p, NP_CONTROLLER_REASON_COMPLIANT, np_strdup("ok"));
    np_controller_pass_conditions(&p, &c);
    expect_condition(&c, "Compliant", "True", "Compliant", "ok");
    np_controller_pass_conditions_clean_up(&c);
    np_controller_pass_outcome_clean_up(&p.out);
}

/* Reconciling and Stalled as kstatus reads them: working on its own, waiting for a person, or
 * neither (Current: converged, or reporting drift in Detect mode as told). */
Test(controller_conditions, reconciling_and_stalled_follow_the_ready_reason)
{
    static const struct {
        enum np_controller_reason stop; /* NONE: decided with `standing` */
        enum np_posture_standing standing;
        const char *ready, *reconciling, *stalled;
    } cases[] = {
        {NP_CONTROLLER_REASON_NONE, NP_POSTURE_STANDING_CONVERGED, "Converged", "False", "False"},
        {NP_CONTROLLER_REASON_NONE, NP_POSTURE_STANDING_REPORTED, "DriftDetected", "False",
         "False"},
        {NP_CONTROLLER_REASON_NONE, NP_POSTURE_STANDING_GRACE, "GracePeriod", "True", "False"},
        {NP_CONTROLLER_REASON_NONE, NP_POSTURE_STANDING_PROPOSED, "PlanProposed", "False", "True"},
        {NP_CONTROLLER_REASON_NONE, NP_POSTURE_STANDING_BLAST_RADIUS, "BlastRadiusExceeded",
         "False", "True"},
        {NP_CONTROLLER_REASON_INVALID_SPEC, NP_POSTURE_STANDING_CONVERGED, "InvalidSpec", "False",
         "True"},
        {NP_CONTROLLER_REASON_ACCOUNT_NOT_ALLOWED, NP_POSTURE_STANDING_CONVERGED,
         "AccountNotAllowed", "False", "True"},
        {NP_CONTROLLER_REASON_PEER_NOT_READY, NP_POSTURE_STANDING_CONVERGED, "PeerNotReady", "True",
         "False"},
        {NP_CONTROLLER_REASON_ACCOUNT_NOT_READY, NP_POSTURE_STANDING_CONVERGED, "AccountNotReady",
         "True", "False"},
    };
    for (size_t i = 0; i < NP_ARRAY_LEN(cases); i++) {
        struct np_controller_pass p;
        memset(&p, 0, sizeof(p));
        decided(&p, cases[i].standing);
        if (cases[i].stop != NP_CONTROLLER_REASON_NONE)
            np_controller_pass_stop(&p, cases[i].stop, np_strdup("why"));
        struct np_controller_pass_conditions c;
        np_controller_pass_conditions(&p, &c);
        cr_expect_str_eq(c.items[0].reason, cases[i].ready, "case %zu", i);
        cr_expect_str_eq(c.items[1].type, "Reconciling");
        cr_expect_str_eq(c.items[1].status, cases[i].reconciling, "%s", cases[i].ready);
        cr_expect_str_eq(c.items[2].type, "Stalled");
        cr_expect_str_eq(c.items[2].status, cases[i].stalled, "%s", cases[i].ready);
        np_controller_pass_conditions_clean_up(&c);
        np_controller_pass_outcome_clean_up(&p.out);
    }
}
