/*
 * The remediation policy on VPC deltas: per-item states through np_posture_policy_decide
 * (grace, Detect, Propose, the blast radius, guardrail items skipping grace and exceptions),
 * exceptions matching network ACL entries and default-group rules through their rule and never
 * the items without one, and np_posture_delta_select feeding the VPC plan.
 */
#include "vpc_fixture.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

TestSuite(posture_vpc_policy, .fini = t_leak_check);

#define NOW 1700000000000LL

/* The fixture with drift of every kind that has a rule and a few that have none. */
static void drift(struct vpc_fixture *f)
{
    f->obs.enable_dns_hostnames = false; /* attribute */
    f->routes[1].target = "nat-0other";  /* route Changed */
    f->entries[f->n_entries++] = (struct np_posture_raw_nacl_entry)NACL_IN(
        150, "6", true, "203.0.113.7/32", true, 22, 22); /* entry Extra, allow */
    f->entries[f->n_entries++] = (struct np_posture_raw_nacl_entry)NACL_IN(
        160, "6", false, "0.0.0.0/0", true, 22, 22); /* entry Extra, deny */
    f->sg_rules[f->n_sg_rules++] =
        (struct np_posture_raw_rule)IN("tcp", 22, 22, C4, "203.0.113.7/32", NULL); /* default SG */
}

/* "<state> <scope> <change> <text>\n" per item (owned). */
static char *states(const struct np_posture_delta *d, const struct np_posture_verdict *v)
{
    struct np_buf b = NP_BUF_INIT;
    np_buf_puts(&b, "");
    for (size_t i = 0; i < d->n; i++) {
        char *text = np_posture_drift_text(&d->items[i]);
        np_buf_appendf(&b, "%s %s %s %s\n", np_posture_item_state_name(v->states[i]),
                       np_posture_drift_scope(&d->items[i]),
                       np_posture_change_name(d->items[i].change), text);
        free(text);
    }
    return np_buf_take(&b);
}

/* The plan text of the items of d in state (owned). */
static char *selected_plan(const struct np_posture_delta *d, const struct np_posture_verdict *v,
                           enum np_posture_item_state state)
{
    struct np_posture_delta sel = {0};
    struct np_posture_vpc_plan p = {0};
    char **lines = NULL;
    cr_assert_eq(np_posture_delta_select(&sel, d, v, state), 0);
    cr_assert_eq(np_posture_vpc_plan_build(&p, &sel), 0);
    cr_assert_eq(np_posture_vpc_plan_text(&lines, NULL, &p), 0);
    char *text = t_join(lines);
    np_posture_lines_free(lines);
    np_posture_vpc_plan_clean_up(&p);
    np_posture_delta_clean_up(&sel);
    return text;
}

struct run {
    struct vpc_fixture f;
    struct np_posture_vpc_spec *spec;
    struct np_posture_delta delta;
    struct np_posture_verdict verdict;
};

/* Diff of the drifted fixture under VPC_SPEC(extra), items marked by index (guardrail), and
 * the verdict at NOW with every item first seen now. */
static void run(struct run *r, const char *spec, const size_t *guardrail, size_t n_guardrail)
{
    memset(r, 0, sizeof(*r));
    t_vpc_fixture(&r->f);
    drift(&r->f);
    r->spec = t_vpc_diff(&r->delta, spec, &r->f);
    for (size_t i = 0; i < n_guardrail; i++)
        r->delta.items[guardrail[i]].guardrail = true;
    struct np_posture_item_history *h = np_xcalloc(r->delta.n ? r->delta.n : 1, sizeof(*h));
    for (size_t i = 0; i < r->delta.n; i++)
        h[i].first_seen_ms = NOW;
    struct np_posture_policy_input in = {
        .remediation = &r->spec->remediation, .delta = &r->delta, .history = h, .now_ms = NOW};
    cr_assert_eq(np_posture_policy_decide(&r->verdict, &in), 0);
    free(h);
}

static void run_clean_up(struct run *r)
{
    np_posture_verdict_clean_up(&r->verdict);
    np_posture_delta_clean_up(&r->delta);
    np_posture_vpc_spec_destroy(r->spec);
    t_vpc_fixture_clean_up(&r->f);
}

Test(posture_vpc_policy, grace_and_guardrails)
{
    struct run r;
    const size_t marked[] = {3}; /* the deny entry, as if a guardrail forbade it */
    run(&r, VPC_SPEC(",'remediation':{'gracePeriod':'1m'}"), marked, 1);
    char *got = states(&r.delta, &r.verdict);
    cr_expect_str_eq(got,
                     "Pending vpc Changed enableDnsHostnames=true (is false)\n"
                     "Pending routeTable/private Changed 0.0.0.0/0 natGatewayId nat-0abc "
                     "(is natGatewayId nat-0other)\n"
                     "Pending networkAcl/private Extra ingress 150 allow tcp 22 "
                     "203.0.113.7/32\n"
                     "Apply networkAcl/private Extra ingress 160 deny tcp 22 0.0.0.0/0\n"
                     "Pending defaultSecurityGroup Extra ingress tcp 22 203.0.113.7/32\n",
                     "got:\n%s", got);
    free(got);
    cr_assert_eq(r.verdict.n_apply, 1);
    cr_assert_eq(r.verdict.standing, NP_POSTURE_STANDING_GRACE);
    cr_assert_eq(r.verdict.n_pending, 4);
    cr_assert_eq(r.verdict.until_ms[0], NOW + 60000);
    cr_assert_eq(r.verdict.next_ms, NOW + 60000);
    got = selected_plan(&r.delta, &r.verdict, NP_POSTURE_ITEM_APPLY);
    cr_expect_str_eq(got, "entry delete networkAcl/private ingress 160\n");
    free(got);
    run_clean_up(&r);
}

Test(posture_vpc_policy, detect_and_propose)
{
    struct run r;
    run(&r, VPC_SPEC(",'remediation':{'mode':'Detect'}"), NULL, 0);
    cr_assert_eq(r.verdict.standing, NP_POSTURE_STANDING_REPORTED);
    cr_assert_eq(r.verdict.n_reported, r.delta.n);
    char *got = selected_plan(&r.delta, &r.verdict, NP_POSTURE_ITEM_APPLY);
    cr_expect_str_eq(got, "", "Detect never mutates");
    free(got);
    run_clean_up(&r);

    run(&r, VPC_SPEC(",'remediation':{'mode':'Propose'}"), NULL, 0);
    cr_assert_eq(r.verdict.standing, NP_POSTURE_STANDING_PROPOSED);
    cr_assert_eq(r.verdict.n_proposed, 5);
    got = selected_plan(&r.delta, &r.verdict, NP_POSTURE_ITEM_PROPOSED);
    /* The deny entry's removal only widens: it comes first. */
    cr_expect_str_eq(got, "entry delete networkAcl/private ingress 160\n"
                          "route replace routeTable/private 0.0.0.0/0 natGatewayId nat-0abc\n"
                          "set vpc enableDnsHostnames true\n"
                          "entry delete networkAcl/private ingress 150\n"
                          "revoke defaultSecurityGroup ingress tcp 22 203.0.113.7/32\n");
    free(got);
    run_clean_up(&r);

    /* Four of the five can reduce reachability (the deny entry's removal cannot): a cap of
     * four holds nothing. */
    run(&r, VPC_SPEC(",'remediation':{'maxChangesPerSync':4}"), NULL, 0);
    cr_assert_eq(r.verdict.standing, NP_POSTURE_STANDING_CONVERGED);
    cr_assert_eq(r.verdict.n_apply, 5);
    cr_assert_eq(r.verdict.due_subtractive, 4);
    cr_assert_eq(r.verdict.blast, NP_POSTURE_BLAST_NONE);
    run_clean_up(&r);

    /* Over the cap: the four wait for approval, the deny entry's removal goes through. */
    run(&r, VPC_SPEC(",'remediation':{'maxChangesPerSync':3}"), NULL, 0);
    cr_assert_eq(r.verdict.standing, NP_POSTURE_STANDING_BLAST_RADIUS);
    cr_assert_eq(r.verdict.blast, NP_POSTURE_BLAST_SUBTRACTIVE);
    cr_assert_eq(r.verdict.n_apply, 1);
    cr_assert_eq(r.verdict.n_held, 4);
    cr_assert_eq(np_posture_standing_once_approved(&r.verdict), NP_POSTURE_STANDING_CONVERGED,
                 "an approved plan leaves nothing standing");
    cr_assert_eq(r.verdict.n_proposed, 4);
    got = selected_plan(&r.delta, &r.verdict, NP_POSTURE_ITEM_APPLY);
    cr_expect_str_eq(got, "entry delete networkAcl/private ingress 160\n");
    free(got);
    run_clean_up(&r);

    /* A total cap holds everything. */
    run(&r, VPC_SPEC(",'remediation':{'maxChangesPerSync':{'subtractive':10,'total':4}}"), NULL, 0);
    cr_assert_eq(r.verdict.standing, NP_POSTURE_STANDING_BLAST_RADIUS);
    cr_assert_eq(r.verdict.blast, NP_POSTURE_BLAST_TOTAL);
    cr_assert_eq(r.verdict.n_apply, 0);
    cr_assert_eq(r.verdict.n_proposed, 5);
    cr_assert_eq(r.verdict.limit_total, 4);
    run_clean_up(&r);
}

Test(posture_vpc_policy, exceptions_match_entries_through_their_rule)
{
    struct run r;
    /* The break-glass ssh: tolerated as a network ACL entry and on the default group. */
    run(&r,
        VPC_SPEC(",'remediation':{'exceptions':[{'rule':{'direction':'ingress','protocol':'tcp',"
                 "'fromPort':22,'toPort':22,'cidrs':['203.0.113.7/32']}}]}"),
        NULL, 0);
    char *got = states(&r.delta, &r.verdict);
    cr_expect_str_eq(got,
                     "Apply vpc Changed enableDnsHostnames=true (is false)\n"
                     "Apply routeTable/private Changed 0.0.0.0/0 natGatewayId nat-0abc (is "
                     "natGatewayId nat-0other)\n"
                     "Excepted networkAcl/private Extra ingress 150 allow tcp 22 "
                     "203.0.113.7/32\n"
                     "Apply networkAcl/private Extra ingress 160 deny tcp 22 0.0.0.0/0\n"
                     "Excepted defaultSecurityGroup Extra ingress tcp 22 203.0.113.7/32\n",
                     "got:\n%s", got);
    free(got);
    got = selected_plan(&r.delta, &r.verdict, NP_POSTURE_ITEM_APPLY);
    cr_expect_str_eq(got, "entry delete networkAcl/private ingress 160\n"
                          "route replace routeTable/private 0.0.0.0/0 natGatewayId nat-0abc\n"
                          "set vpc enableDnsHostnames true\n");
    free(got);
    run_clean_up(&r);

    /* A pattern that matches any ingress rule still never matches items without a rule
     * (attributes, routes, deny entries); a guardrail-marked entry is never excepted. */
    const size_t marked[] = {2};
    run(&r, VPC_SPEC(",'remediation':{'exceptions':[{'rule':{'direction':'ingress'}}]}"), marked,
        1);
    got = states(&r.delta, &r.verdict);
    cr_expect_str_eq(got,
                     "Apply vpc Changed enableDnsHostnames=true (is false)\n"
                     "Apply routeTable/private Changed 0.0.0.0/0 natGatewayId nat-0abc (is "
                     "natGatewayId nat-0other)\n"
                     "Apply networkAcl/private Extra ingress 150 allow tcp 22 "
                     "203.0.113.7/32\n"
                     "Apply networkAcl/private Extra ingress 160 deny tcp 22 0.0.0.0/0\n"
                     "Excepted defaultSecurityGroup Extra ingress tcp 22 203.0.113.7/32\n",
                     "got:\n%s", got);
    free(got);
    run_clean_up(&r);

    /* Egress patterns do not match ingress entries. */
    run(&r, VPC_SPEC(",'remediation':{'exceptions':[{'rule':{'direction':'egress'}}]}"), NULL, 0);
    cr_assert_eq(r.verdict.n_excepted, 0);
    cr_assert_eq(r.verdict.n_apply, 5);
    run_clean_up(&r);
}
