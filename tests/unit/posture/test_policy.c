/*
 * The remediation safety policy, table-driven: per-item states for every mode, flapping
 * (history.contested and occurrence thresholds), exceptions (expiry, direction, protocol,
 * ports, every peer kind, actor globs), grace-period boundaries, guardrail items bypassing
 * contested/exceptions/grace, the blast radius, what is left standing of mixed deltas,
 * next_ms, np_posture_delta_select and the parsed-spec pipeline.
 */
#include "posture_test.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TestSuite(posture_policy_items, .fini = t_leak_check);
TestSuite(posture_policy_verdict, .fini = t_leak_check);

#define NOW 1700000000000LL
#define GRACE 60000LL

#define ENF NP_POSTURE_MODE_ENFORCE
#define DET NP_POSTURE_MODE_DETECT
#define PRO NP_POSTURE_MODE_PROPOSE

#define S_APPLY NP_POSTURE_ITEM_APPLY
#define S_PEND NP_POSTURE_ITEM_PENDING
#define S_REP NP_POSTURE_ITEM_REPORTED
#define S_PROP NP_POSTURE_ITEM_PROPOSED
#define S_EXC NP_POSTURE_ITEM_EXCEPTED
#define S_CONT NP_POSTURE_ITEM_CONTESTED

#define ST_CONV NP_POSTURE_STANDING_CONVERGED
#define ST_BLAST NP_POSTURE_STANDING_BLAST_RADIUS
#define ST_PROP NP_POSTURE_STANDING_PROPOSED
#define ST_REP NP_POSTURE_STANDING_REPORTED
#define ST_CONT NP_POSTURE_STANDING_CONTESTED
#define ST_GRACE NP_POSTURE_STANDING_GRACE

/* A drift item as a table row; built into an owned np_posture_drift by make_delta. */
struct item_def {
    enum np_posture_change change;
    enum np_posture_direction dir;
    const char *protocol;
    int from, to;
    enum np_posture_peer_kind kind;
    const char *peer; /* rule items; the tag key for tag items */
    bool guardrail;
};

#define RULE(change, dir, proto, from, to, kind, peer)                                             \
    {                                                                                              \
        change, dir, proto, from, to, kind, peer, false                                            \
    }
#define EXTRA_IN(proto, from, to, kind, peer)                                                      \
    RULE(NP_POSTURE_EXTRA, NP_POSTURE_INGRESS, proto, from, to, kind, peer)
#define GUARD_IN(proto, from, to, kind, peer)                                                      \
    {                                                                                              \
        NP_POSTURE_EXTRA, NP_POSTURE_INGRESS, proto, from, to, kind, peer, true                    \
    }
#define TAG(change, key)                                                                           \
    {                                                                                              \
        change, NP_POSTURE_INGRESS, NULL, 0, 0, C4, key, false                                     \
    }

/* The break-glass drift: someone opened ssh from one address. */
#define SSH EXTRA_IN("tcp", 22, 22, C4, "203.0.113.7/32")
#define SSH_GUARD GUARD_IN("tcp", 22, 22, C4, "203.0.113.7/32")
#define WORLD_22 GUARD_IN("tcp", 22, 22, C4, "0.0.0.0/0")
#define HTTPS_MISSING                                                                              \
    RULE(NP_POSTURE_MISSING, NP_POSTURE_INGRESS, "tcp", 443, 443, C4, "10.0.0.0/8")
#define HTTPS_DESC                                                                                 \
    RULE(NP_POSTURE_DESCRIPTION, NP_POSTURE_INGRESS, "tcp", 443, 443, C4, "10.0.0.0/8")
#define TAG_EXTRA TAG(NP_POSTURE_TAG_EXTRA, "env")
#define TAG_MISSING TAG(NP_POSTURE_TAG_MISSING, "team")

static void make_item(struct np_posture_drift *d, const struct item_def *def)
{
    memset(d, 0, sizeof(*d));
    d->change = def->change;
    d->guardrail = def->guardrail;
    switch (def->change) {
    case NP_POSTURE_MISSING:
    case NP_POSTURE_EXTRA:
    case NP_POSTURE_DESCRIPTION:
        d->rule.direction = def->dir;
        d->rule.protocol = np_strdup(def->protocol);
        d->rule.from_port = def->from;
        d->rule.to_port = def->to;
        d->rule.peer_kind = def->kind;
        d->rule.peer = np_strdup(def->peer);
        d->rule.description = np_strdup("desired");
        if (def->change == NP_POSTURE_DESCRIPTION)
            d->observed_description = np_strdup("observed");
        break;
    default:
        d->tag.key = np_strdup(def->peer);
        d->tag.value = np_strdup("v");
        if (def->change == NP_POSTURE_TAG_CHANGED)
            d->observed_value = np_strdup("old");
        break;
    }
}

static void make_delta(struct np_posture_delta *delta, const struct item_def *defs, size_t n)
{
    delta->n = n;
    delta->items = np_xcalloc(n ? n : 1, sizeof(*delta->items));
    for (size_t i = 0; i < n; i++)
        make_item(&delta->items[i], &defs[i]);
}

/* ---------------------------------------------------------------- exception patterns */

static char *ssh_cidr[] = {"203.0.113.7/32"};
static char *wide_cidr[] = {"10.1.2.3/8"}; /* not canonical: 10.0.0.0/8 */
static char *v6_cidr[] = {"2001:DB8:0:0::/32"};
static char *pl_ids[] = {"PL-0ABC"};
static struct np_posture_group_ref sg_ids[] = {{.group_id = "SG-0DEF"}};
static struct np_posture_group_ref sg_names[] = {{.name = "db"}};
static char *break_glass[] = {"arn:aws:sts::*:assumed-role/break-glass/*"};
static char *two_actors[] = {"arn:aws:iam::111111111111:user/bob", "arn:aws:iam::*:user/alice"};

#define SSH_PATTERN                                                                                \
    {                                                                                              \
        .protocol = "tcp", .has_from_port = true, .from_port = 22, .has_to_port = true,            \
        .to_port = 22, .cidrs = ssh_cidr, .n_cidrs = 1                                             \
    }
#define X_IN(...)                                                                                  \
    {                                                                                              \
        .direction = NP_POSTURE_INGRESS, .rule = { __VA_ARGS__ }                                   \
    }

static struct np_posture_exception x_ssh[] = {{.rule = SSH_PATTERN}};
static struct np_posture_exception x_ssh_egress[] = {
    {.direction = NP_POSTURE_EGRESS, .rule = SSH_PATTERN}};
static struct np_posture_exception x_ssh_later[] = {
    {.rule = SSH_PATTERN, .has_expires = true, .expires_ms = NOW + 1}};
static struct np_posture_exception x_ssh_now[] = {
    {.rule = SSH_PATTERN, .has_expires = true, .expires_ms = NOW}};
static struct np_posture_exception x_ssh_past[] = {
    {.rule = SSH_PATTERN, .has_expires = true, .expires_ms = NOW - 1}};
/* Several match: the one that lasts longest counts (no expiry lasts forever). */
static struct np_posture_exception x_ssh_two_expiries[] = {
    {.rule = SSH_PATTERN, .has_expires = true, .expires_ms = NOW + 10},
    {.rule = SSH_PATTERN, .has_expires = true, .expires_ms = NOW + 20},
    {.rule = SSH_PATTERN, .has_expires = true, .expires_ms = NOW - 5},
};
static struct np_posture_exception x_ssh_forever_and_later[] = {
    {.rule = SSH_PATTERN, .has_expires = true, .expires_ms = NOW + 10},
    {.rule = SSH_PATTERN},
};
static struct np_posture_exception x_ssh_break_glass[] = {
    {.rule = SSH_PATTERN, .actors = break_glass, .n_actors = 1}};
static struct np_posture_exception x_any_two_actors[] = {{.actors = two_actors, .n_actors = 2}};
static struct np_posture_exception x_any_ingress[] = {{.direction = NP_POSTURE_INGRESS}};
static struct np_posture_exception x_proto_6[] = {X_IN(.protocol = "6")};
static struct np_posture_exception x_proto_TCP[] = {X_IN(.protocol = "TCP")};
static struct np_posture_exception x_proto_all[] = {X_IN(.protocol = "all")};
static struct np_posture_exception x_proto_minus1[] = {X_IN(.protocol = "-1")};
static struct np_posture_exception x_ports_only[] = {
    X_IN(.has_from_port = true, .from_port = 22, .has_to_port = true, .to_port = 22)};
static struct np_posture_exception x_from_only[] = {
    X_IN(.protocol = "tcp", .has_from_port = true, .from_port = 22)};
static struct np_posture_exception x_wide[] = {X_IN(.cidrs = wide_cidr, .n_cidrs = 1)};
static struct np_posture_exception x_v6[] = {X_IN(.ipv6_cidrs = v6_cidr, .n_ipv6_cidrs = 1)};
static struct np_posture_exception x_pl[] = {
    X_IN(.prefix_list_ids = pl_ids, .n_prefix_list_ids = 1)};
static struct np_posture_exception x_sg[] = {
    X_IN(.security_groups = sg_ids, .n_security_groups = 1)};
static struct np_posture_exception x_sg_name[] = {
    X_IN(.security_groups = sg_names, .n_security_groups = 1)};
static struct np_posture_exception x_icmp_all_types[] = {
    X_IN(.protocol = "icmp", .has_from_port = true, .from_port = -1)};
static struct np_posture_exception x_icmp_echo[] = {
    X_IN(.protocol = "icmp", .has_from_port = true, .from_port = 8)};
/* GRE has no ports: the pattern's ports canonicalise to -1/-1 like the rule's. */
static struct np_posture_exception x_gre_ports[] = {X_IN(.protocol = "47", .has_from_port = true,
                                                         .from_port = 0, .has_to_port = true,
                                                         .to_port = 0)};

#define EXC(arr) .exceptions = (arr), .n_exceptions = NP_ARRAY_LEN(arr)

#define BREAK_GLASS_ALICE "arn:aws:sts::123456789012:assumed-role/break-glass/alice"
#define USER_ALICE "arn:aws:iam::123456789012:user/alice"

/* ---------------------------------------------------------------- the table */

#define MAX_ITEMS 6

struct policy_case {
    const char *what;
    struct np_posture_remediation rem;
    int flap_threshold;
    bool no_history; /* pass history = NULL */
    size_t n;
    struct item_def items[MAX_ITEMS];
    struct np_posture_item_history hist[MAX_ITEMS];
    enum np_posture_item_state want[MAX_ITEMS];
    int64_t until[MAX_ITEMS];
    enum np_posture_standing standing;
    int64_t next_ms;
    enum np_posture_blast blast; /* what the blast radius held (NONE unless said) */
};

static void run_cases(const struct policy_case *cases, size_t n_cases)
{
    for (size_t c = 0; c < n_cases; c++) {
        const struct policy_case *k = &cases[c];
        struct np_posture_delta delta = {0};
        make_delta(&delta, k->items, k->n);
        struct np_posture_policy_input in = {
            .remediation = &k->rem,
            .delta = &delta,
            .history = k->no_history ? NULL : k->hist,
            .flap_threshold = k->flap_threshold,
            .now_ms = NOW,
        };
        struct np_posture_verdict v;
        cr_assert_eq(np_posture_policy_decide(&v, &in), 0, "%s: %s", k->what, np_error_message());
        cr_assert_eq(v.n, k->n, "%s", k->what);
        cr_assert_not_null(v.states, "%s", k->what);
        cr_assert_not_null(v.until_ms, "%s", k->what);
        size_t counts[6] = {0};
        for (size_t i = 0; i < k->n; i++) {
            cr_expect_eq(v.states[i], k->want[i], "%s: item %zu is %s, want %s", k->what, i,
                         np_posture_item_state_name(v.states[i]),
                         np_posture_item_state_name(k->want[i]));
            cr_expect_eq(v.until_ms[i], k->until[i], "%s: item %zu until %lld, want %lld", k->what,
                         i, (long long)v.until_ms[i], (long long)k->until[i]);
            counts[k->want[i]]++;
        }
        cr_expect_eq(v.standing, k->standing, "%s: standing %s, want %s", k->what,
                     np_posture_standing_name(v.standing), np_posture_standing_name(k->standing));
        cr_expect_eq(v.next_ms, k->next_ms, "%s: next_ms %lld, want %lld", k->what,
                     (long long)v.next_ms, (long long)k->next_ms);
        cr_expect_eq(v.n_apply, counts[S_APPLY], "%s", k->what);
        cr_expect_eq(v.n_pending, counts[S_PEND], "%s", k->what);
        cr_expect_eq(v.n_reported, counts[S_REP], "%s", k->what);
        cr_expect_eq(v.n_proposed, counts[S_PROP], "%s", k->what);
        cr_expect_eq(v.n_excepted, counts[S_EXC], "%s", k->what);
        cr_expect_eq(v.n_contested, counts[S_CONT], "%s", k->what);
        cr_expect_eq(v.changes, counts[S_APPLY] + counts[S_PROP], "%s", k->what);
        int sub = k->rem.max_changes.subtractive, total = k->rem.max_changes.total;
        cr_expect_eq(v.limit, sub > 0 ? (size_t)sub : 20, "%s", k->what);
        cr_expect_eq(v.limit_total, total > 0 ? (size_t)total : 0, "%s", k->what);
        cr_expect_eq(v.blast, k->blast, "%s: blast %d, want %d", k->what, (int)v.blast,
                     (int)k->blast);
        np_posture_verdict_clean_up(&v);
        cr_expect_null(v.states);
        cr_expect_null(v.until_ms);
        np_posture_delta_clean_up(&delta);
    }
}

/*
 * One item, no history (the controller before it remembers anything), then its outcome:
 * state, until_ms, standing, next_ms (or one of the outcome macros below).
 */
#define ONE(what_, rem_, item_, ...)                                                               \
    {                                                                                              \
        .what = what_, .rem = rem_, .no_history = true, .n = 1, .items = {item_},                  \
        OUTCOME(__VA_ARGS__)                                                                       \
    }
/* One item with a history. */
#define ONE_H(what_, rem_, item_, hist_, ...)                                                      \
    {                                                                                              \
        .what = what_, .rem = rem_, .n = 1, .items = {item_}, .hist = {hist_},                     \
        OUTCOME(__VA_ARGS__)                                                                       \
    }
#define OUTCOME(...) OUTCOME_(__VA_ARGS__)
#define OUTCOME_(state_, until_, standing_, next_)                                                 \
    .want = {state_}, .until = {until_}, .standing = standing_, .next_ms = next_
#define REM(...)                                                                                   \
    {                                                                                              \
        __VA_ARGS__                                                                                \
    }
/* A history whose actor (when known) was verified; HU: claimed by an event message only. */
#define H(first_seen, actor, occurrences, contested)                                               \
    {                                                                                              \
        first_seen, actor, occurrences, contested, true                                            \
    }
#define HU(first_seen, actor, occurrences, contested)                                              \
    {                                                                                              \
        first_seen, actor, occurrences, contested, false                                           \
    }

/* The three outcomes of a single item that is simply applied, reported or proposed. */
#define APPLIED S_APPLY, 0, ST_CONV, 0
#define REPORTED S_REP, 0, ST_REP, 0
#define PROPOSED S_PROP, 0, ST_PROP, 0
#define CONTESTED S_CONT, 0, ST_CONT, 0
#define EXCEPTED_FOREVER S_EXC, 0, ST_CONV, 0

Test(posture_policy_items, modes)
{
    static const struct policy_case cases[] = {
        ONE("enforce: extra rule", REM(.mode = ENF), SSH, APPLIED),
        ONE("enforce: missing rule", REM(.mode = ENF), HTTPS_MISSING, APPLIED),
        ONE("enforce: description", REM(.mode = ENF), HTTPS_DESC, APPLIED),
        ONE("enforce: tag", REM(.mode = ENF), TAG_EXTRA, APPLIED),
        ONE("enforce: guardrail", REM(.mode = ENF), WORLD_22, APPLIED),
        ONE("detect: extra rule", REM(.mode = DET), SSH, REPORTED),
        ONE("detect: tag", REM(.mode = DET), TAG_MISSING, REPORTED),
        ONE("detect: guardrail is only reported too", REM(.mode = DET), WORLD_22, REPORTED),
        ONE("detect beats grace", REM(.mode = DET, .grace_ms = GRACE), SSH, REPORTED),
        ONE("detect beats exceptions", REM(.mode = DET, EXC(x_ssh)), SSH, REPORTED),
        ONE_H("detect beats contested", REM(.mode = DET), SSH, H(0, NULL, 9, true), REPORTED),
        ONE("propose: extra rule", REM(.mode = PRO), SSH, PROPOSED),
        ONE("propose: tag", REM(.mode = PRO), TAG_EXTRA, PROPOSED),
        ONE("propose: guardrail", REM(.mode = PRO), WORLD_22, PROPOSED),
        ONE("propose over the limit is still Propose",
            REM(.mode = PRO, .max_changes = {.subtractive = 0}), SSH, PROPOSED),
    };
    run_cases(cases, NP_ARRAY_LEN(cases));
}

Test(posture_policy_items, grace_period)
{
    static const struct policy_case cases[] = {
        ONE("new drift waits the whole grace period", REM(.grace_ms = GRACE), SSH, S_PEND,
            NOW + GRACE, ST_GRACE, NOW + GRACE),
        ONE_H("first_seen 0 means now", REM(.grace_ms = GRACE), SSH, H(0, NULL, 1, false), S_PEND,
              NOW + GRACE, ST_GRACE, NOW + GRACE),
        ONE_H("one ms before the end: pending", REM(.grace_ms = GRACE), SSH,
              H(NOW - GRACE + 1, NULL, 1, false), S_PEND, NOW + 1, ST_GRACE, NOW + 1),
        ONE_H("exactly at first_seen + grace: due", REM(.grace_ms = GRACE), SSH,
              H(NOW - GRACE, NULL, 1, false), APPLIED),
        ONE_H("after the grace period: due", REM(.grace_ms = GRACE), SSH,
              H(NOW - GRACE - 1, NULL, 1, false), APPLIED),
        ONE_H("first seen long ago", REM(.grace_ms = GRACE), SSH, H(1, NULL, 1, false), APPLIED),
        ONE("no grace period: due at once", REM(.grace_ms = 0), SSH, APPLIED),
        ONE_H("no grace period, first_seen in the future (clock skew): due", REM(.grace_ms = 0),
              SSH, H(NOW + 5000, NULL, 1, false), APPLIED),
        ONE_H("grace counts from a future first_seen", REM(.grace_ms = GRACE), SSH,
              H(NOW + 5000, NULL, 1, false), S_PEND, NOW + 5000 + GRACE, ST_GRACE,
              NOW + 5000 + GRACE),
        ONE("a huge grace period saturates", REM(.grace_ms = INT64_MAX), SSH, S_PEND, INT64_MAX,
            ST_GRACE, INT64_MAX),
        ONE("missing rules wait too", REM(.grace_ms = GRACE), HTTPS_MISSING, S_PEND, NOW + GRACE,
            ST_GRACE, NOW + GRACE),
        ONE("tag items wait too", REM(.grace_ms = GRACE), TAG_EXTRA, S_PEND, NOW + GRACE, ST_GRACE,
            NOW + GRACE),
        ONE("guardrail items skip the grace period", REM(.grace_ms = GRACE), WORLD_22, APPLIED),
        ONE_H("guardrail items skip it whatever first_seen", REM(.grace_ms = GRACE), WORLD_22,
              H(NOW, NULL, 1, false), APPLIED),
        ONE("propose: pending first", REM(.mode = PRO, .grace_ms = GRACE), SSH, S_PEND, NOW + GRACE,
            ST_GRACE, NOW + GRACE),
        ONE_H("propose: proposed once due", REM(.mode = PRO, .grace_ms = GRACE), SSH,
              H(NOW - GRACE, NULL, 1, false), PROPOSED),
        ONE("propose: guardrail proposed at once", REM(.mode = PRO, .grace_ms = GRACE), WORLD_22,
            PROPOSED),
    };
    run_cases(cases, NP_ARRAY_LEN(cases));
}

Test(posture_policy_items, contested)
{
    static const struct policy_case cases[] = {
        ONE_H("history.contested", REM(0), SSH, H(0, NULL, 1, true), CONTESTED),
        ONE_H("history.contested, tag item", REM(0), TAG_EXTRA, H(0, NULL, 0, true), CONTESTED),
        ONE_H("occurrences 0 (read as 1)", REM(0), SSH, H(0, NULL, 0, false), APPLIED),
        ONE_H("occurrences 2 < default 3", REM(0), SSH, H(0, NULL, 2, false), APPLIED),
        ONE_H("occurrences 3 = default 3", REM(0), SSH, H(0, NULL, 3, false), CONTESTED),
        ONE_H("occurrences 7 > default 3", REM(0), SSH, H(0, NULL, 7, false), CONTESTED),
        ONE_H("negative occurrences read as 1", REM(0), SSH, H(0, NULL, -4, false), APPLIED),
        {.what = "custom threshold 5, occurrences 4",
         .flap_threshold = 5,
         .n = 1,
         .items = {SSH},
         .hist = {H(0, NULL, 4, false)},
         .want = {S_APPLY},
         .standing = ST_CONV},
        {.what = "custom threshold 5, occurrences 5",
         .flap_threshold = 5,
         .n = 1,
         .items = {SSH},
         .hist = {H(0, NULL, 5, false)},
         .want = {S_CONT},
         .standing = ST_CONT},
        {.what = "custom threshold 2, occurrences 2",
         .flap_threshold = 2,
         .n = 1,
         .items = {SSH},
         .hist = {H(0, NULL, 2, false)},
         .want = {S_CONT},
         .standing = ST_CONT},
        {.what = "negative threshold means the default 3",
         .flap_threshold = -1,
         .n = 1,
         .items = {SSH},
         .hist = {H(0, NULL, 2, false)},
         .want = {S_APPLY},
         .standing = ST_CONV},
        {.what = "threshold 1, occurrences 0 read as 1",
         .flap_threshold = 1,
         .n = 1,
         .items = {SSH},
         .hist = {H(0, NULL, 0, false)},
         .want = {S_CONT},
         .standing = ST_CONT},
        {.what = "threshold 1, no history (every item seen once)",
         .flap_threshold = 1,
         .no_history = true,
         .n = 1,
         .items = {SSH},
         .want = {S_CONT},
         .standing = ST_CONT},
        ONE_H("guardrail keeps being repaired (contested)", REM(0), WORLD_22, H(0, NULL, 1, true),
              APPLIED),
        ONE_H("guardrail keeps being repaired (occurrences)", REM(0), WORLD_22,
              H(0, NULL, 50, false), APPLIED),
        ONE_H("contested beats exceptions and grace", REM(.grace_ms = GRACE, EXC(x_ssh)), SSH,
              H(0, NULL, 1, true), CONTESTED),
        ONE_H("propose: contested", REM(.mode = PRO), SSH, H(0, NULL, 3, false), CONTESTED),
    };
    run_cases(cases, NP_ARRAY_LEN(cases));
}

Test(posture_policy_items, exceptions)
{
    static const struct policy_case cases[] = {
        ONE("no expiry", REM(EXC(x_ssh)), SSH, EXCEPTED_FOREVER),
        ONE("expires one ms after now", REM(EXC(x_ssh_later)), SSH, S_EXC, NOW + 1, ST_CONV,
            NOW + 1),
        ONE("expires exactly now: expired", REM(EXC(x_ssh_now)), SSH, APPLIED),
        ONE("expired before now", REM(EXC(x_ssh_past)), SSH, APPLIED),
        ONE("expired, then grace applies", REM(.grace_ms = GRACE, EXC(x_ssh_past)), SSH, S_PEND,
            NOW + GRACE, ST_GRACE, NOW + GRACE),
        ONE("the latest live expiry counts", REM(EXC(x_ssh_two_expiries)), SSH, S_EXC, NOW + 20,
            ST_CONV, NOW + 20),
        ONE("an exception without expiry wins", REM(EXC(x_ssh_forever_and_later)), SSH,
            EXCEPTED_FOREVER),
        ONE("exception beats grace", REM(.grace_ms = GRACE, EXC(x_ssh)), SSH, EXCEPTED_FOREVER),
        ONE("propose: excepted", REM(.mode = PRO, EXC(x_ssh)), SSH, EXCEPTED_FOREVER),
        ONE("missing rule item", REM(EXC(x_any_ingress)), HTTPS_MISSING, EXCEPTED_FOREVER),
        ONE("description item", REM(EXC(x_any_ingress)), HTTPS_DESC, EXCEPTED_FOREVER),
        ONE("tag items never match (TagExtra)", REM(EXC(x_any_ingress)), TAG_EXTRA, APPLIED),
        ONE("tag items never match (TagMissing)", REM(EXC(x_any_ingress)), TAG_MISSING, APPLIED),
        ONE("guardrail items never match", REM(EXC(x_ssh)), SSH_GUARD, APPLIED),
        ONE("guardrail items never match a catch-all", REM(EXC(x_any_ingress)), WORLD_22, APPLIED),
        /* direction */
        ONE("other direction", REM(EXC(x_ssh_egress)), SSH, APPLIED),
        ONE("egress pattern, egress item", REM(EXC(x_ssh_egress)),
            RULE(NP_POSTURE_EXTRA, NP_POSTURE_EGRESS, "tcp", 22, 22, C4, "203.0.113.7/32"),
            EXCEPTED_FOREVER),
        ONE("catch-all ingress vs egress item", REM(EXC(x_any_ingress)),
            RULE(NP_POSTURE_EXTRA, NP_POSTURE_EGRESS, "-1", -1, -1, C4, "0.0.0.0/0"), APPLIED),
        /* protocol */
        ONE("protocol 6 is tcp", REM(EXC(x_proto_6)), SSH, EXCEPTED_FOREVER),
        ONE("protocol TCP is tcp", REM(EXC(x_proto_TCP)), SSH, EXCEPTED_FOREVER),
        ONE("protocol tcp vs udp item", REM(EXC(x_proto_6)),
            EXTRA_IN("udp", 22, 22, C4, "1.2.3.4/32"), APPLIED),
        ONE("protocol all matches -1 rules", REM(EXC(x_proto_all)),
            EXTRA_IN("-1", -1, -1, C4, "0.0.0.0/0"), EXCEPTED_FOREVER),
        ONE("protocol all does not match tcp rules", REM(EXC(x_proto_all)), SSH, APPLIED),
        ONE("protocol -1 matches -1 rules", REM(EXC(x_proto_minus1)),
            EXTRA_IN("-1", -1, -1, C4, "0.0.0.0/0"), EXCEPTED_FOREVER),
        ONE("protocol -1 does not match udp rules", REM(EXC(x_proto_minus1)),
            EXTRA_IN("udp", 53, 53, C4, "0.0.0.0/0"), APPLIED),
        ONE("absent protocol matches any", REM(EXC(x_any_ingress)),
            EXTRA_IN("47", -1, -1, C4, "10.0.0.0/8"), EXCEPTED_FOREVER),
        /* ports */
        ONE("same port", REM(EXC(x_ssh)), SSH, EXCEPTED_FOREVER),
        ONE("other port", REM(EXC(x_ssh)), EXTRA_IN("tcp", 23, 23, C4, "203.0.113.7/32"), APPLIED),
        ONE("a wider range is not the same range", REM(EXC(x_ssh)),
            EXTRA_IN("tcp", 22, 23, C4, "203.0.113.7/32"), APPLIED),
        ONE("a range holding the port is not the same range", REM(EXC(x_ssh)),
            EXTRA_IN("tcp", 0, 65535, C4, "203.0.113.7/32"), APPLIED),
        ONE("ports without protocol: tcp", REM(EXC(x_ports_only)), SSH, EXCEPTED_FOREVER),
        ONE("ports without protocol: udp", REM(EXC(x_ports_only)),
            EXTRA_IN("udp", 22, 22, C4, "10.0.0.0/8"), EXCEPTED_FOREVER),
        ONE("ports without protocol: not a rule without ports", REM(EXC(x_ports_only)),
            EXTRA_IN("-1", -1, -1, C4, "10.0.0.0/8"), APPLIED),
        ONE("only fromPort given: from must match", REM(EXC(x_from_only)),
            EXTRA_IN("tcp", 22, 30, C4, "10.0.0.0/8"), EXCEPTED_FOREVER),
        ONE("only fromPort given: other from", REM(EXC(x_from_only)),
            EXTRA_IN("tcp", 21, 22, C4, "10.0.0.0/8"), APPLIED),
        ONE("icmp type -1 matches all types", REM(EXC(x_icmp_all_types)),
            EXTRA_IN("icmp", -1, -1, C4, "10.0.0.0/8"), EXCEPTED_FOREVER),
        ONE("icmp type -1 is not type 8", REM(EXC(x_icmp_all_types)),
            EXTRA_IN("icmp", 8, 0, C4, "10.0.0.0/8"), APPLIED),
        ONE("icmp type 8, any code", REM(EXC(x_icmp_echo)),
            EXTRA_IN("icmp", 8, 0, C4, "10.0.0.0/8"), EXCEPTED_FOREVER),
        ONE("icmp pattern vs icmpv6 item", REM(EXC(x_icmp_echo)),
            EXTRA_IN("icmpv6", 8, 0, C6, "::/0"), APPLIED),
        ONE("ports of a protocol without ports canonicalise", REM(EXC(x_gre_ports)),
            EXTRA_IN("47", -1, -1, C4, "10.0.0.0/8"), EXCEPTED_FOREVER),
        /* peers */
        ONE("cidr canonicalised", REM(EXC(x_wide)), EXTRA_IN("tcp", 80, 80, C4, "10.0.0.0/8"),
            EXCEPTED_FOREVER),
        ONE("cidr: other cidr", REM(EXC(x_wide)), EXTRA_IN("tcp", 80, 80, C4, "10.1.0.0/16"),
            APPLIED),
        ONE("cidr list vs ipv6 peer", REM(EXC(x_wide)), EXTRA_IN("tcp", 80, 80, C6, "::/0"),
            APPLIED),
        ONE("cidr list vs group peer", REM(EXC(x_ssh)), EXTRA_IN("tcp", 22, 22, SG, "sg-0def"),
            APPLIED),
        ONE("ipv6 cidr canonicalised", REM(EXC(x_v6)), EXTRA_IN("tcp", 80, 80, C6, "2001:db8::/32"),
            EXCEPTED_FOREVER),
        ONE("ipv6 list vs ipv4 peer", REM(EXC(x_v6)), EXTRA_IN("tcp", 80, 80, C4, "10.0.0.0/8"),
            APPLIED),
        ONE("prefix list, case-insensitive", REM(EXC(x_pl)), EXTRA_IN("udp", 53, 53, PL, "pl-0abc"),
            EXCEPTED_FOREVER),
        ONE("prefix list: other list", REM(EXC(x_pl)), EXTRA_IN("udp", 53, 53, PL, "pl-0abd"),
            APPLIED),
        ONE("prefix list vs cidr peer", REM(EXC(x_pl)), EXTRA_IN("udp", 53, 53, C4, "0.0.0.0/0"),
            APPLIED),
        ONE("group id, case-insensitive", REM(EXC(x_sg)),
            EXTRA_IN("tcp", 5432, 5432, SG, "sg-0def"), EXCEPTED_FOREVER),
        ONE("group id: other group", REM(EXC(x_sg)), EXTRA_IN("tcp", 5432, 5432, SG, "sg-0abc"),
            APPLIED),
        ONE("group id vs prefix list peer", REM(EXC(x_sg)),
            EXTRA_IN("tcp", 5432, 5432, PL, "sg-0def"), APPLIED),
        ONE("group name vs a resolved group", REM(EXC(x_sg_name)),
            EXTRA_IN("tcp", 5432, 5432, SG, "sg-0db00000000000001"), APPLIED),
        ONE("group name vs the same unresolved name", REM(EXC(x_sg_name)),
            RULE(NP_POSTURE_MISSING, NP_POSTURE_INGRESS, "tcp", 5432, 5432,
                 NP_POSTURE_PEER_GROUP_NAME, "db"),
            EXCEPTED_FOREVER),
        /* actors */
        ONE_H("actor glob matches", REM(EXC(x_ssh_break_glass)), SSH,
              H(0, BREAK_GLASS_ALICE, 1, false), EXCEPTED_FOREVER),
        ONE_H("actor glob: another role", REM(EXC(x_ssh_break_glass)), SSH,
              H(0, "arn:aws:sts::123456789012:assumed-role/admin/alice", 1, false), APPLIED),
        ONE_H("actor glob: a user", REM(EXC(x_ssh_break_glass)), SSH, H(0, USER_ALICE, 1, false),
              APPLIED),
        ONE_H("actor unknown never matches actors", REM(EXC(x_ssh_break_glass)), SSH,
              H(0, NULL, 1, false), APPLIED),
        ONE("no history: actor unknown", REM(EXC(x_ssh_break_glass)), SSH, APPLIED),
        ONE_H("actor unknown, then grace", REM(.grace_ms = GRACE, EXC(x_ssh_break_glass)), SSH,
              H(0, NULL, 1, false), S_PEND, NOW + GRACE, ST_GRACE, NOW + GRACE),
        ONE_H("no actors in the exception: any known actor", REM(EXC(x_ssh)), SSH,
              H(0, USER_ALICE, 1, false), EXCEPTED_FOREVER),
        ONE_H("second actor pattern matches", REM(EXC(x_any_two_actors)), SSH,
              H(0, USER_ALICE, 1, false), EXCEPTED_FOREVER),
        ONE_H("first actor pattern matches exactly", REM(EXC(x_any_two_actors)), SSH,
              H(0, "arn:aws:iam::111111111111:user/bob", 1, false), EXCEPTED_FOREVER),
        ONE_H("no actor pattern matches", REM(EXC(x_any_two_actors)), SSH,
              H(0, "arn:aws:iam::111111111111:user/carol", 1, false), APPLIED),
        /* an actor only a message claims (forgeable) never matches actors */
        ONE_H("unverified actor never matches actors", REM(EXC(x_ssh_break_glass)), SSH,
              HU(0, BREAK_GLASS_ALICE, 1, false), APPLIED),
        ONE_H("unverified actor, second pattern", REM(EXC(x_any_two_actors)), SSH,
              HU(0, USER_ALICE, 1, false), APPLIED),
        ONE_H("unverified actor in Detect: reported", REM(.mode = DET, EXC(x_ssh_break_glass)), SSH,
              HU(0, BREAK_GLASS_ALICE, 1, false), REPORTED),
        ONE_H("unverified actor, exception without actors: the rule alone", REM(EXC(x_ssh)), SSH,
              HU(0, USER_ALICE, 1, false), EXCEPTED_FOREVER),
    };
    run_cases(cases, NP_ARRAY_LEN(cases));
}

#define EXTRA_22(peer) EXTRA_IN("tcp", 22, 22, C4, peer)
#define SUB NP_POSTURE_BLAST_SUBTRACTIVE
#define TOTAL NP_POSTURE_BLAST_TOTAL

Test(posture_policy_items, blast_radius)
{
    static const struct policy_case cases[] = {
        {.what = "exactly at the limit: applied",
         .rem = {.max_changes = {2}},
         .no_history = true,
         .n = 3,
         .items = {SSH, EXTRA_22("10.9.0.1/32"), TAG_EXTRA},
         .want = {S_APPLY, S_APPLY, S_APPLY},
         .standing = ST_CONV},
        {.what = "one over the limit: the revokes held, what cannot cut traffic applied",
         .rem = {.max_changes = {2}},
         .no_history = true,
         .n = 5,
         .items = {SSH, EXTRA_22("10.9.0.1/32"), EXTRA_22("10.9.0.2/32"), HTTPS_MISSING, TAG_EXTRA},
         .want = {S_PROP, S_PROP, S_PROP, S_APPLY, S_APPLY},
         .standing = ST_BLAST,
         .blast = SUB},
        {.what = "additive changes never count",
         .rem = {.max_changes = {1}},
         .no_history = true,
         .n = 5,
         .items = {HTTPS_MISSING,
                   RULE(NP_POSTURE_MISSING, NP_POSTURE_EGRESS, "-1", -1, -1, C4, "0.0.0.0/0"),
                   HTTPS_DESC, TAG_MISSING, TAG(NP_POSTURE_TAG_CHANGED, "env")},
         .want = {S_APPLY, S_APPLY, S_APPLY, S_APPLY, S_APPLY},
         .standing = ST_CONV},
        {.what = "guardrail items count and are held too",
         .rem = {.max_changes = {1}},
         .no_history = true,
         .n = 2,
         .items = {WORLD_22, SSH},
         .want = {S_PROP, S_PROP},
         .standing = ST_BLAST,
         .blast = SUB},
        {.what = "pending, excepted and contested items do not count",
         .rem = {.max_changes = {1}, .grace_ms = GRACE, EXC(x_proto_6)},
         .n = 4,
         .items = {SSH, EXTRA_IN("udp", 53, 53, C4, "0.0.0.0/0"),
                   EXTRA_IN("udp", 54, 54, C4, "0.0.0.0/0"),
                   EXTRA_IN("udp", 55, 55, C4, "0.0.0.0/0")},
         .hist = {H(0, NULL, 1, false), H(NOW, NULL, 1, false), H(0, NULL, 1, true),
                  H(1, NULL, 1, false)},
         .want = {S_EXC, S_PEND, S_CONT, S_APPLY},
         .until = {0, NOW + GRACE, 0, 0},
         .standing = ST_CONT,
         .next_ms = NOW + GRACE},
        {.what = "over the limit: only subtractive APPLY items become PROPOSED",
         .rem = {.max_changes = {1}, .grace_ms = GRACE, EXC(x_ssh_later)},
         .n = 6,
         .items = {SSH, EXTRA_IN("udp", 53, 53, C4, "0.0.0.0/0"),
                   EXTRA_IN("udp", 54, 54, C4, "0.0.0.0/0"), WORLD_22,
                   EXTRA_IN("udp", 56, 56, C4, "0.0.0.0/0"), TAG_EXTRA},
         .hist = {H(0, NULL, 1, false), H(NOW - 10, NULL, 1, false), H(0, NULL, 3, false),
                  H(0, NULL, 1, false), H(NOW - GRACE, NULL, 1, false),
                  H(NOW - GRACE, NULL, 1, false)},
         .want = {S_EXC, S_PEND, S_CONT, S_PROP, S_PROP, S_APPLY},
         .until = {NOW + 1, NOW - 10 + GRACE, 0, 0, 0, 0},
         .standing = ST_BLAST,
         .next_ms = NOW + 1,
         .blast = SUB},
        {.what = "total cap: everything held",
         .rem = {.max_changes = {.subtractive = 5, .total = 2}},
         .no_history = true,
         .n = 3,
         .items = {SSH, HTTPS_MISSING, TAG_EXTRA},
         .want = {S_PROP, S_PROP, S_PROP},
         .standing = ST_BLAST,
         .blast = TOTAL},
        {.what = "total cap exactly reached: applied",
         .rem = {.max_changes = {.subtractive = 5, .total = 3}},
         .no_history = true,
         .n = 3,
         .items = {SSH, HTTPS_MISSING, TAG_EXTRA},
         .want = {S_APPLY, S_APPLY, S_APPLY},
         .standing = ST_CONV},
        {.what = "both caps exceeded: the total one holds everything",
         .rem = {.max_changes = {.subtractive = 1, .total = 2}},
         .no_history = true,
         .n = 3,
         .items = {SSH, EXTRA_22("10.9.0.1/32"), HTTPS_MISSING},
         .want = {S_PROP, S_PROP, S_PROP},
         .standing = ST_BLAST,
         .blast = TOTAL},
        {.what = "total cap alone keeps the default subtractive cap",
         .rem = {.max_changes = {.total = 10}},
         .no_history = true,
         .n = 4,
         .items = {SSH, EXTRA_22("10.9.0.1/32"), HTTPS_MISSING, TAG_EXTRA},
         .want = {S_APPLY, S_APPLY, S_APPLY, S_APPLY},
         .standing = ST_CONV},
        {.what = "total cap counts only due items",
         .rem = {.max_changes = {.total = 1}, .grace_ms = GRACE},
         .n = 3,
         .items = {SSH, HTTPS_MISSING, TAG_EXTRA},
         .hist = {H(NOW, NULL, 1, false), H(NOW, NULL, 1, false), H(1, NULL, 1, false)},
         .want = {S_PEND, S_PEND, S_APPLY},
         .until = {NOW + GRACE, NOW + GRACE, 0},
         .standing = ST_GRACE,
         .next_ms = NOW + GRACE},
        {.what = "propose mode: the caps never apply",
         .rem = {.mode = PRO, .max_changes = {.subtractive = 1, .total = 1}},
         .no_history = true,
         .n = 3,
         .items = {SSH, EXTRA_22("10.9.0.1/32"), HTTPS_MISSING},
         .want = {S_PROP, S_PROP, S_PROP},
         .standing = ST_PROP},
    };
    run_cases(cases, NP_ARRAY_LEN(cases));
}

/* limit <= 0 means 20: 20 revokes are applied, 21 are held; authorizes never are. */
Test(posture_policy_items, default_limit)
{
    static const int limits[] = {0, -1, -1000, 20};
    for (size_t l = 0; l < NP_ARRAY_LEN(limits); l++) {
        for (size_t n = 19; n <= 22; n++) {
            struct item_def defs[44];
            char peers[22][24];
            for (size_t i = 0; i < n; i++) {
                snprintf(peers[i], sizeof(peers[i]), "10.0.0.%zu/32", i);
                defs[i] = (struct item_def)EXTRA_IN("tcp", 22, 22, C4, peers[i]);
                defs[n + i] = (struct item_def)RULE(NP_POSTURE_MISSING, NP_POSTURE_INGRESS, "tcp",
                                                    80, 80, C4, peers[i]);
            }
            struct np_posture_delta delta = {0};
            make_delta(&delta, defs, 2 * n);
            struct np_posture_remediation rem = {.max_changes = {limits[l]}};
            struct np_posture_verdict v;
            cr_assert_eq(
                np_posture_policy_decide(&v, &(struct np_posture_policy_input){.remediation = &rem,
                                                                               .delta = &delta,
                                                                               .now_ms = NOW}),
                0);
            bool over = n > 20;
            cr_expect_eq(v.limit, 20, "limit %d", limits[l]);
            cr_expect_eq(v.changes, 2 * n);
            cr_expect_eq(v.due, 2 * n);
            cr_expect_eq(v.due_subtractive, n);
            cr_expect_eq(v.n_apply, over ? n : 2 * n, "limit %d, %zu items", limits[l], n);
            cr_expect_eq(v.n_proposed, over ? n : 0, "limit %d, %zu items", limits[l], n);
            cr_expect_eq(v.n_held, over ? n : 0);
            for (size_t i = 0; i < n; i++) {
                cr_expect_eq(v.states[i], over ? S_PROP : S_APPLY);
                cr_expect_eq(v.states[n + i], S_APPLY, "an authorize was held");
            }
            cr_expect_eq(v.standing, over ? ST_BLAST : ST_CONV);
            np_posture_verdict_clean_up(&v);
            np_posture_delta_clean_up(&delta);
        }
    }
}

/* ---------------------------------------------------------------- what counts */

/* One drift item kind: a security-group change (vpc NULL) or a VPC item, with the entries'
 * actions where they matter. */
struct kind_case {
    const char *what;
    enum np_posture_change change;
    bool is_vpc;
    enum np_posture_vpc_item item;
    bool entry_allow, have_allow; /* NACL_ENTRY: the desired (or observed Extra) and AWS's */
    bool subtractive;
};

#define SGK(what, change, sub)                                                                     \
    {                                                                                              \
        what, change, false, 0, false, false, sub                                                  \
    }
#define VK(what, item, change, sub)                                                                \
    {                                                                                              \
        what, change, true, item, false, false, sub                                                \
    }
#define EK(what, change, allow, have, sub)                                                         \
    {                                                                                              \
        what, change, true, NP_POSTURE_VPC_ITEM_NACL_ENTRY, allow, have, sub                       \
    }

Test(posture_policy_items, what_counts_toward_the_blast_radius)
{
    static const struct kind_case cases[] = {
        SGK("authorize", NP_POSTURE_MISSING, false),
        SGK("revoke", NP_POSTURE_EXTRA, true),
        SGK("description in place", NP_POSTURE_DESCRIPTION, false),
        SGK("tag missing", NP_POSTURE_TAG_MISSING, false),
        SGK("tag changed", NP_POSTURE_TAG_CHANGED, false),
        SGK("tag extra", NP_POSTURE_TAG_EXTRA, false),
        SGK("a change of unknown shape counts", NP_POSTURE_CHANGED, true),
        VK("piece created", NP_POSTURE_VPC_ITEM_PIECE, NP_POSTURE_MISSING, false),
        VK("piece, other change", NP_POSTURE_VPC_ITEM_PIECE, NP_POSTURE_EXTRA, true),
        VK("attribute", NP_POSTURE_VPC_ITEM_ATTRIBUTE, NP_POSTURE_CHANGED, true),
        VK("VPC tag set", NP_POSTURE_VPC_ITEM_TAG, NP_POSTURE_TAG_MISSING, false),
        VK("VPC tag changed", NP_POSTURE_VPC_ITEM_TAG, NP_POSTURE_TAG_CHANGED, false),
        VK("VPC tag deleted", NP_POSTURE_VPC_ITEM_TAG, NP_POSTURE_TAG_EXTRA, false),
        VK("route created", NP_POSTURE_VPC_ITEM_ROUTE, NP_POSTURE_MISSING, true),
        VK("route replaced", NP_POSTURE_VPC_ITEM_ROUTE, NP_POSTURE_CHANGED, true),
        VK("route deleted", NP_POSTURE_VPC_ITEM_ROUTE, NP_POSTURE_EXTRA, true),
        VK("route table associated", NP_POSTURE_VPC_ITEM_ROUTE_ASSOC, NP_POSTURE_MISSING, true),
        VK("route table disassociated", NP_POSTURE_VPC_ITEM_ROUTE_ASSOC, NP_POSTURE_EXTRA, true),
        EK("allow entry added", NP_POSTURE_MISSING, true, false, false),
        EK("deny entry added", NP_POSTURE_MISSING, false, false, true),
        EK("allow entry removed", NP_POSTURE_EXTRA, true, false, true),
        EK("deny entry removed", NP_POSTURE_EXTRA, false, false, false),
        EK("allow replaced by allow", NP_POSTURE_CHANGED, true, true, true),
        EK("allow replaced by deny", NP_POSTURE_CHANGED, false, true, true),
        EK("deny replaced by deny", NP_POSTURE_CHANGED, false, false, true),
        EK("deny replaced by allow", NP_POSTURE_CHANGED, true, false, false),
        VK("network ACL associated", NP_POSTURE_VPC_ITEM_NACL_ASSOC, NP_POSTURE_MISSING, true),
        VK("network ACL disassociated", NP_POSTURE_VPC_ITEM_NACL_ASSOC, NP_POSTURE_EXTRA, true),
        VK("flow log created", NP_POSTURE_VPC_ITEM_FLOW_LOG, NP_POSTURE_MISSING, false),
        VK("default group rule revoked", NP_POSTURE_VPC_ITEM_DEFAULT_SG, NP_POSTURE_EXTRA, true),
    };
    for (size_t i = 0; i < NP_ARRAY_LEN(cases); i++) {
        const struct kind_case *k = &cases[i];
        struct np_posture_vpc_drift v = {.item = k->item};
        v.entry.allow = k->entry_allow;
        v.have_entry.allow = k->have_allow;
        struct np_posture_drift d = {.change = k->change, .vpc = k->is_vpc ? &v : NULL};
        cr_expect_eq(np_posture_drift_is_subtractive(&d), k->subtractive, "%s", k->what);
        d.guardrail = true; /* a guardrail mark never changes what counts */
        cr_expect_eq(np_posture_drift_is_subtractive(&d), k->subtractive, "%s (guardrail)",
                     k->what);
    }
    cr_expect(np_posture_drift_is_subtractive(NULL), "no item: counted");
}

/* A new posture: 60 rules to authorize and the default egress to revoke, under the default
 * cap, converge in one pass. */
Test(posture_policy_items, a_new_posture_with_60_rules_is_never_held)
{
    struct item_def defs[61];
    char peers[60][24];
    for (size_t i = 0; i < 60; i++) {
        snprintf(peers[i], sizeof(peers[i]), "10.1.%zu.0/24", i);
        defs[i] = (struct item_def)RULE(NP_POSTURE_MISSING, NP_POSTURE_INGRESS, "tcp", 443, 443, C4,
                                        peers[i]);
    }
    defs[60] =
        (struct item_def)RULE(NP_POSTURE_EXTRA, NP_POSTURE_EGRESS, "-1", -1, -1, C4, "0.0.0.0/0");
    struct np_posture_delta delta = {0};
    make_delta(&delta, defs, NP_ARRAY_LEN(defs));
    struct np_posture_remediation rem = {.max_changes = {0}};
    struct np_posture_verdict v;
    cr_assert_eq(np_posture_policy_decide(
                     &v, &(struct np_posture_policy_input){.remediation = &rem, .delta = &delta}),
                 0);
    cr_expect_eq(v.standing, ST_CONV);
    cr_expect_eq(v.n_apply, 61);
    cr_expect_eq(v.due_subtractive, 1);
    cr_expect_eq(v.blast, NP_POSTURE_BLAST_NONE);
    np_posture_verdict_clean_up(&v);
    np_posture_delta_clean_up(&delta);
}

Test(posture_policy_items, reasons_and_next_ms)
{
    static const struct policy_case cases[] = {
        {.what = "applied with the rest pending/excepted/contested: Enforce",
         .rem = {.grace_ms = GRACE, EXC(x_ssh)},
         .n = 4,
         .items = {SSH, HTTPS_MISSING, TAG_EXTRA, TAG_MISSING},
         .hist = {H(0, NULL, 1, false), H(NOW - 1, NULL, 1, false), H(0, NULL, 1, true),
                  H(NOW - GRACE, NULL, 1, false)},
         .want = {S_EXC, S_PEND, S_CONT, S_APPLY},
         .until = {0, NOW - 1 + GRACE, 0, 0},
         .standing = ST_CONT,
         .next_ms = NOW - 1 + GRACE},
        {.what = "propose beats contested, grace and exceptions",
         .rem = {.mode = PRO, .grace_ms = GRACE, EXC(x_ssh_later)},
         .n = 4,
         .items = {SSH, HTTPS_MISSING, TAG_EXTRA, TAG_MISSING},
         .hist = {H(0, NULL, 1, false), H(0, NULL, 1, false), H(0, NULL, 1, true),
                  H(1, NULL, 1, false)},
         .want = {S_EXC, S_PEND, S_CONT, S_PROP},
         .until = {NOW + 1, NOW + GRACE, 0, 0},
         .standing = ST_PROP,
         .next_ms = NOW + 1},
        {.what = "contested beats grace and exceptions",
         .rem = {.grace_ms = GRACE, EXC(x_ssh)},
         .n = 3,
         .items = {SSH, HTTPS_MISSING, TAG_EXTRA},
         .hist = {H(0, NULL, 1, false), H(0, NULL, 1, false), H(0, NULL, 4, false)},
         .want = {S_EXC, S_PEND, S_CONT},
         .until = {0, NOW + GRACE, 0},
         .standing = ST_CONT,
         .next_ms = NOW + GRACE},
        {.what = "grace beats exceptions; next_ms is the earliest",
         .rem = {.grace_ms = GRACE, EXC(x_ssh_two_expiries)},
         .n = 3,
         .items = {SSH, HTTPS_MISSING, TAG_EXTRA},
         .hist = {H(0, NULL, 1, false), H(NOW - 30, NULL, 1, false), H(NOW - 40, NULL, 1, false)},
         .want = {S_EXC, S_PEND, S_PEND},
         .until = {NOW + 20, NOW - 30 + GRACE, NOW - 40 + GRACE},
         .standing = ST_GRACE,
         .next_ms = NOW + 20},
        {.what = "pending items give the earliest next_ms",
         .rem = {.grace_ms = GRACE},
         .n = 3,
         .items = {SSH, HTTPS_MISSING, TAG_EXTRA},
         .hist = {H(NOW - 5, NULL, 1, false), H(NOW - 50, NULL, 1, false),
                  H(NOW - 7, NULL, 1, false)},
         .want = {S_PEND, S_PEND, S_PEND},
         .until = {NOW - 5 + GRACE, NOW - 50 + GRACE, NOW - 7 + GRACE},
         .standing = ST_GRACE,
         .next_ms = NOW - 50 + GRACE},
        {.what = "excepted only; an exception without expiry gives no next_ms",
         .rem = {EXC(x_any_ingress)},
         .no_history = true,
         .n = 2,
         .items = {SSH, HTTPS_DESC},
         .want = {S_EXC, S_EXC},
         .standing = ST_CONV},
        {.what = "excepted with expiry and forever",
         .rem = {EXC(x_ssh_later)},
         .no_history = true,
         .n = 2,
         .items = {SSH, EXTRA_IN("tcp", 22, 22, C4, "203.0.113.8/32")},
         .want = {S_EXC, S_APPLY},
         .until = {NOW + 1, 0},
         .standing = ST_CONV,
         .next_ms = NOW + 1},
        {.what = "blast radius beats contested",
         .rem = {.max_changes = {.total = 1}},
         .n = 3,
         .items = {SSH, HTTPS_MISSING, TAG_EXTRA},
         .hist = {H(0, NULL, 1, false), H(0, NULL, 1, false), H(0, NULL, 1, true)},
         .want = {S_PROP, S_PROP, S_CONT},
         .standing = ST_BLAST,
         .blast = NP_POSTURE_BLAST_TOTAL},
        {.what = "detect: everything reported, no next_ms",
         .rem = {.mode = DET, .grace_ms = GRACE, EXC(x_ssh_later)},
         .no_history = true,
         .n = 3,
         .items = {SSH, WORLD_22, TAG_EXTRA},
         .want = {S_REP, S_REP, S_REP},
         .standing = ST_REP},
        {.what = "guardrail applied among contested, excepted and pending items",
         .rem = {.grace_ms = GRACE, EXC(x_any_ingress)},
         .n = 4,
         .items = {WORLD_22, SSH, TAG_EXTRA, TAG_MISSING},
         .hist = {H(0, NULL, 9, true), H(0, NULL, 1, false), H(0, NULL, 1, false),
                  H(0, NULL, 3, false)},
         .want = {S_APPLY, S_EXC, S_PEND, S_CONT},
         .until = {0, 0, NOW + GRACE, 0},
         .standing = ST_CONT,
         .next_ms = NOW + GRACE},
        {.what = "empty delta, Enforce", .rem = {.mode = ENF}, .standing = ST_CONV},
        {.what = "empty delta, Propose", .rem = {.mode = PRO}, .standing = ST_CONV},
        {.what = "empty delta, Detect", .rem = {.mode = DET}, .standing = ST_CONV},
    };
    run_cases(cases, NP_ARRAY_LEN(cases));
}

/* ---------------------------------------------------------------- verdict API */

Test(posture_policy_verdict, state_names)
{
    static const struct {
        enum np_posture_item_state s;
        const char *name;
    } cases[] = {
        {S_APPLY, "Apply"},
        {S_PEND, "Pending"},
        {S_REP, "Reported"},
        {S_PROP, "Proposed"},
        {S_EXC, "Excepted"},
        {S_CONT, "Contested"},
        {(enum np_posture_item_state)42, "Unknown"},
    };
    for (size_t i = 0; i < NP_ARRAY_LEN(cases); i++)
        cr_expect_str_eq(np_posture_item_state_name(cases[i].s), cases[i].name);
}

Test(posture_policy_verdict, bad_input_and_clean_up)
{
    struct np_posture_remediation rem = {0};
    struct np_posture_delta delta = {0};
    struct np_posture_verdict v;
    memset(&v, 0xff, sizeof(v));
    cr_assert_eq(np_posture_policy_decide(&v, NULL), NP_EINVAL);
    cr_assert_null(v.states, "the verdict is zeroed on error");
    cr_assert_eq(np_posture_policy_decide(&v, &(struct np_posture_policy_input){.delta = &delta}),
                 NP_EINVAL);
    cr_assert_eq(
        np_posture_policy_decide(&v, &(struct np_posture_policy_input){.remediation = &rem}),
        NP_EINVAL);
    cr_assert_str_neq(np_error_message(), "");
    np_posture_verdict_clean_up(&v);

    /* A delta decides. */
    struct item_def defs[] = {SSH};
    make_delta(&delta, defs, 1);
    cr_assert_eq(np_posture_policy_decide(
                     &v, &(struct np_posture_policy_input){.remediation = &rem, .delta = &delta}),
                 0);
    cr_assert_eq(v.changes, 1);
    cr_assert_eq(v.n, 1);
    np_posture_verdict_clean_up(&v);
    np_posture_verdict_clean_up(&v);
    np_posture_verdict_clean_up(NULL);
    np_posture_delta_clean_up(&delta);
}

static char *delta_text(const struct np_posture_delta *d)
{
    struct np_buf b = NP_BUF_INIT;
    np_buf_puts(&b, "");
    for (size_t i = 0; i < d->n; i++) {
        char *t = np_posture_drift_text(&d->items[i]);
        np_buf_appendf(&b, "%s %s %s%s\n", np_posture_drift_scope(&d->items[i]),
                       np_posture_change_name(d->items[i].change), t,
                       d->items[i].guardrail ? " [guardrail]" : "");
        free(t);
    }
    return np_buf_take(&b);
}

Test(posture_policy_verdict, delta_select)
{
    struct item_def defs[] = {
        WORLD_22,
        SSH,
        HTTPS_DESC,
        EXTRA_IN("udp", 53, 53, C4, "0.0.0.0/0"),
        TAG(NP_POSTURE_TAG_CHANGED, "team"),
        TAG_EXTRA,
    };
    struct np_posture_item_history hist[] = {
        H(0, NULL, 1, false), H(0, NULL, 1, false), H(0, NULL, 1, false),
        H(0, NULL, 1, true),  H(1, NULL, 1, false), H(0, NULL, 1, false),
    };
    struct np_posture_delta delta = {0};
    make_delta(&delta, defs, NP_ARRAY_LEN(defs));
    struct np_posture_remediation rem = {.grace_ms = GRACE, EXC(x_ssh)};
    struct np_posture_verdict v;
    cr_assert_eq(np_posture_policy_decide(&v,
                                          &(struct np_posture_policy_input){
                                              .remediation = &rem,
                                              .delta = &delta,
                                              .history = hist,
                                              .now_ms = NOW,
                                          }),
                 0);
    static const struct {
        enum np_posture_item_state state;
        const char *want;
        const char *plan;
    } cases[] = {
        {S_APPLY, "ingress Extra tcp 22 0.0.0.0/0 [guardrail]\ntags TagChanged team=v\n",
         "revoke ingress tcp 22 0.0.0.0/0\ntag set team=v\n"},
        {S_EXC, "ingress Extra tcp 22 203.0.113.7/32\n", "revoke ingress tcp 22 203.0.113.7/32\n"},
        {S_PEND, "ingress DescriptionChanged tcp 443 10.0.0.0/8\ntags TagExtra env=v\n",
         "describe ingress tcp 443 10.0.0.0/8 \"desired\"\ntag delete env\n"},
        {S_CONT, "ingress Extra udp 53 0.0.0.0/0\n", "revoke ingress udp 53 0.0.0.0/0\n"},
        {S_PROP, "", ""},
        {S_REP, "", ""},
    };
    for (size_t i = 0; i < NP_ARRAY_LEN(cases); i++) {
        struct np_posture_delta sel;
        memset(&sel, 0xff, sizeof(sel));
        cr_assert_eq(np_posture_delta_select(&sel, &delta, &v, cases[i].state), 0);
        char *text = delta_text(&sel);
        cr_expect_str_eq(text, cases[i].want, "%s", np_posture_item_state_name(cases[i].state));
        free(text);
        if (sel.n == 0)
            cr_expect_null(sel.items);
        /* Deep copies: no string is shared with the source delta. */
        for (size_t j = 0; j < sel.n; j++)
            for (size_t k = 0; k < delta.n; k++) {
                const struct np_posture_drift *x = &sel.items[j], *y = &delta.items[k];
                cr_expect(!x->rule.protocol || x->rule.protocol != y->rule.protocol);
                cr_expect(!x->rule.peer || x->rule.peer != y->rule.peer);
                cr_expect(!x->tag.key || x->tag.key != y->tag.key);
            }
        struct np_posture_plan plan = {0};
        char **lines = NULL;
        cr_assert_eq(np_posture_plan_build(&plan, &sel), 0);
        cr_assert_eq(np_posture_plan_text(&lines, NULL, &plan), 0);
        char *got = t_join(lines);
        cr_expect_str_eq(got, cases[i].plan, "%s", np_posture_item_state_name(cases[i].state));
        free(got);
        np_posture_lines_free(lines);
        np_posture_plan_clean_up(&plan);
        np_posture_delta_clean_up(&sel);
    }
    /* Copies keep every field: the observed description and value survive. */
    struct np_posture_delta sel;
    cr_assert_eq(np_posture_delta_select(&sel, &delta, &v, S_PEND), 0);
    cr_assert_eq(sel.n, 2);
    cr_expect_str_eq(sel.items[0].observed_description, "observed");
    cr_expect_str_eq(sel.items[0].rule.description, "desired");
    cr_expect_null(sel.items[0].tag.key);
    cr_expect_null(sel.items[1].rule.protocol);
    np_posture_delta_clean_up(&sel);
    cr_assert_eq(np_posture_delta_select(&sel, &delta, &v, S_APPLY), 0);
    cr_assert_eq(sel.n, 2);
    cr_expect(sel.items[0].guardrail);
    cr_expect_not(sel.items[1].guardrail);
    cr_expect_str_eq(sel.items[1].observed_value, "old");
    cr_expect_eq(sel.items[1].change, NP_POSTURE_TAG_CHANGED);
    np_posture_delta_clean_up(&sel);
    np_posture_verdict_clean_up(&v);

    /* A verdict without per-item states (a cleaned-up one) selects nothing. */
    cr_assert_eq(np_posture_delta_select(&sel, &delta, &v, S_APPLY), 0);
    cr_expect_eq(sel.n, 0);
    cr_expect_null(sel.items);
    np_posture_delta_clean_up(&sel);
    np_posture_verdict_clean_up(&v);
    np_posture_delta_clean_up(&delta);
}

/* ---------------------------------------------------------------- the real pipeline */

/* spec -> desired, raw -> observed, diff, plan, policy (history NULL, like the controller). */
struct pipeline {
    struct np_posture_sg_spec *spec;
    struct np_posture_ruleset want, got;
    struct np_posture_delta delta;
    struct np_posture_plan plan;
};

static void pipeline_run(struct pipeline *p, const char *spec_json,
                         const struct np_posture_raw_rule *raw, size_t n_raw)
{
    memset(p, 0, sizeof(*p));
    p->spec = t_spec(spec_json);
    cr_assert_eq(t_desired(&p->want, p->spec), 0, "%s", np_error_message());
    cr_assert_eq(np_posture_observed(&p->got, raw, n_raw), 0);
    cr_assert_eq(np_posture_diff(&p->delta, &p->want, &p->got, p->spec->tags, p->spec->n_tags, NULL,
                                 0, p->spec->ownership),
                 0);
    cr_assert_eq(np_posture_plan_build(&p->plan, &p->delta), 0);
}

static void pipeline_clean_up(struct pipeline *p)
{
    np_posture_plan_clean_up(&p->plan);
    np_posture_delta_clean_up(&p->delta);
    np_posture_ruleset_clean_up(&p->want);
    np_posture_ruleset_clean_up(&p->got);
    np_posture_sg_spec_destroy(p->spec);
}

#define PIPE_RULES                                                                                 \
    "'ingress':[{'protocol':'tcp','fromPort':443,'toPort':443,'cidrs':['10.0.0.0/8']}]"

/* Without history or exceptions: one change per item, the mode and the blast radius decide. */
Test(posture_policy_verdict, no_history_modes_and_blast_radius)
{
    static const struct np_posture_raw_rule raw[] = {
        IN("tcp", 22, 22, C4, "0.0.0.0/0", NULL),
        IN("tcp", 3389, 3389, C4, "0.0.0.0/0", NULL),
        EG_DEFAULT,
    };
    static const struct {
        const char *remediation;
        enum np_posture_standing standing;
        size_t n_apply;
        size_t changes;
    } cases[] = {
        {"{}", ST_CONV, 4, 4},
        /* two revokes count; the authorize and the tag do not */
        {"{'maxChangesPerSync':2}", ST_CONV, 4, 4},
        {"{'maxChangesPerSync':1}", ST_BLAST, 2, 4},
        {"{'maxChangesPerSync':{'subtractive':1,'total':4}}", ST_BLAST, 2, 4},
        {"{'maxChangesPerSync':{'total':4}}", ST_CONV, 4, 4},
        {"{'maxChangesPerSync':{'total':3}}", ST_BLAST, 0, 4},
        {"{'mode':'Propose'}", ST_PROP, 0, 4},
        {"{'mode':'Detect'}", ST_REP, 0, 0}, /* nothing would be applied */
    };
    for (size_t i = 0; i < NP_ARRAY_LEN(cases); i++) {
        char *spec =
            np_strdupf("{'groupName':'g','tags':{'team':'shop'},'remediation':%s," PIPE_RULES "}",
                       cases[i].remediation);
        struct pipeline p;
        pipeline_run(&p, spec, raw, NP_ARRAY_LEN(raw));
        free(spec);
        cr_assert_eq(np_posture_plan_count(&p.plan), 4); /* 2 revokes, 1 authorize, 1 tag */
        struct np_posture_verdict v;
        cr_assert_eq(np_posture_policy_decide(&v,
                                              &(struct np_posture_policy_input){
                                                  .remediation = &p.spec->remediation,
                                                  .delta = &p.delta,
                                                  .now_ms = NOW,
                                              }),
                     0);
        cr_expect_eq(v.standing, cases[i].standing, "case %zu: %s", i,
                     np_posture_standing_name(v.standing));
        cr_expect_eq(v.n_apply, cases[i].n_apply, "case %zu", i);
        cr_expect_eq(v.changes, cases[i].changes, "case %zu", i);
        cr_expect_eq(np_posture_standing_once_approved(&v),
                     cases[i].standing == ST_REP ? ST_REP : ST_CONV, "case %zu", i);
        cr_expect_eq(v.n, 4);
        cr_expect_eq(v.next_ms, 0);
        np_posture_verdict_clean_up(&v);
        pipeline_clean_up(&p);
    }
}

/* Exceptions and a grace period written in a spec, through the whole pipeline. */
Test(posture_policy_verdict, from_a_parsed_spec)
{
    static const struct np_posture_raw_rule raw[] = {
        IN("6", 22, 22, C4, "203.0.113.7/32", NULL),    /* excepted, break-glass actor */
        IN("tcp", 22, 22, C4, "198.51.100.1/32", NULL), /* excepted until 2026-12-01 */
        IN("-1", -1, -1, C4, "0.0.0.0/0", NULL),        /* guardrail-marked below */
        EG_DEFAULT,
    };
    struct pipeline p;
    pipeline_run(
        &p,
        "{'groupName':'g','remediation':{'gracePeriod':'5m','exceptions':["
        "{'rule':{'direction':'ingress','protocol':'TCP','fromPort':22,'toPort':22,"
        "'cidrs':['203.0.113.7/32']},'actors':['arn:aws:sts::*:assumed-role/break-glass/*']},"
        "{'rule':{'direction':'ingress','protocol':'tcp','cidrs':['198.51.100.1/32']},"
        "'expires':'2026-12-01T00:00:00Z'}]}," PIPE_RULES "}",
        raw, NP_ARRAY_LEN(raw));
    cr_assert_eq(p.delta.n, 4);
    /* Identity order ("-1" sorts before "tcp"; 22 before 443). */
    char *text = delta_text(&p.delta);
    cr_assert_str_eq(text, "ingress Extra all 0.0.0.0/0\n"
                           "ingress Extra tcp 22 198.51.100.1/32\n"
                           "ingress Extra tcp 22 203.0.113.7/32\n"
                           "ingress Missing tcp 443 10.0.0.0/8\n");
    free(text);
    p.delta.items[0].guardrail = true; /* as np_posture_guardrail_mark would */
#define EXPIRES 1796083200000LL        /* 2026-12-01T00:00:00Z */
    struct np_posture_item_history hist[] = {
        H(0, NULL, 1, false),
        H(0, NULL, 1, false),
        H(0, BREAK_GLASS_ALICE, 1, false),
        H(0, NULL, 1, false),
    };
    static const struct {
        int64_t now;
        bool history;
        enum np_posture_item_state want[4];
        int64_t until[4];
        enum np_posture_standing standing;
        int64_t next_ms;
    } cases[] = {
        {EXPIRES - 1,
         true,
         {S_APPLY, S_EXC, S_EXC, S_PEND},
         {0, EXPIRES, 0, EXPIRES - 1 + 300000},
         ST_GRACE,
         EXPIRES},
        {EXPIRES,
         true,
         {S_APPLY, S_PEND, S_EXC, S_PEND},
         {0, EXPIRES + 300000, 0, EXPIRES + 300000},
         ST_GRACE,
         EXPIRES + 300000},
        {EXPIRES - 1,
         false,
         {S_APPLY, S_EXC, S_PEND, S_PEND},
         {0, EXPIRES, EXPIRES - 1 + 300000, EXPIRES - 1 + 300000},
         ST_GRACE,
         EXPIRES},
    };
    for (size_t i = 0; i < NP_ARRAY_LEN(cases); i++) {
        struct np_posture_verdict v;
        cr_assert_eq(np_posture_policy_decide(&v,
                                              &(struct np_posture_policy_input){
                                                  .remediation = &p.spec->remediation,
                                                  .delta = &p.delta,
                                                  .history = cases[i].history ? hist : NULL,
                                                  .now_ms = cases[i].now,
                                              }),
                     0);
        for (size_t j = 0; j < 4; j++) {
            cr_expect_eq(v.states[j], cases[i].want[j], "case %zu item %zu: %s", i, j,
                         np_posture_item_state_name(v.states[j]));
            cr_expect_eq(v.until_ms[j], cases[i].until[j], "case %zu item %zu", i, j);
        }
        cr_expect_eq(v.standing, cases[i].standing, "case %zu", i);
        cr_expect_eq(v.next_ms, cases[i].next_ms, "case %zu", i);
        cr_expect_eq(v.n_apply, 1);
        cr_expect_eq(v.changes, 1);

        /* The plan to apply now: only the guardrail revoke. */
        struct np_posture_delta sel;
        struct np_posture_plan plan = {0};
        char **lines = NULL;
        cr_assert_eq(np_posture_delta_select(&sel, &p.delta, &v, S_APPLY), 0);
        cr_assert_eq(np_posture_plan_build(&plan, &sel), 0);
        cr_assert_eq(np_posture_plan_text(&lines, NULL, &plan), 0);
        char *got = t_join(lines);
        cr_expect_str_eq(got, "revoke ingress all 0.0.0.0/0\n");
        cr_expect(plan.actions[0].guardrail);
        free(got);
        np_posture_lines_free(lines);
        np_posture_plan_clean_up(&plan);
        np_posture_delta_clean_up(&sel);
        np_posture_verdict_clean_up(&v);
    }
    pipeline_clean_up(&p);
}
