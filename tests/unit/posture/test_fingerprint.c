/*
 * The observed-state fingerprint: independent of rule, permission and tag order and of
 * server spellings, pinned to a known value (so it stays stable across builds), and
 * different for every kind of real change.
 */
#include "posture_test.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

TestSuite(posture_fingerprint, .fini = t_leak_check);

static uint64_t fp(const struct np_posture_raw_rule *raw, size_t n,
                   const struct np_posture_tag *tags, size_t n_tags)
{
    struct np_posture_ruleset rs = {0};
    cr_assert_eq(np_posture_observed(&rs, raw, n), 0);
    uint64_t h = np_posture_fingerprint(&rs, tags, n_tags);
    np_posture_ruleset_clean_up(&rs);
    return h;
}

#define BASE_RULES                                                                                 \
    IN("tcp", 443, 443, C4, "10.0.0.0/8", "https"), IN("tcp", 22, 22, C4, "10.0.0.0/8", NULL),     \
        IN("udp", 53, 53, PL, "pl-0abc", NULL), EG_DEFAULT
#define BASE_TAGS                                                                                  \
    {"team", "shop"},                                                                              \
    {                                                                                              \
        "netposture.dev/owner", "shop/web"                                                         \
    }

static const struct np_posture_raw_rule base_raw[] = {BASE_RULES};
static const struct np_posture_tag base_tags[] = {BASE_TAGS};

static uint64_t base(void)
{
    return fp(base_raw, NP_ARRAY_LEN(base_raw), base_tags, NP_ARRAY_LEN(base_tags));
}

Test(posture_fingerprint, order_and_spelling_independent)
{
    uint64_t h = base();
    struct np_posture_raw_rule shuffled[] = {
        EG_NP("all", C4, "0.0.0.0/0", NULL),
        IN("17", 53, 53, PL, "PL-0ABC", ""),
        IN("6", 443, 443, C4, "10.1.2.3/8", "https"),
        IN("tcp", 22, 22, C4, "10.0.0.0/8", NULL),
    };
    struct np_posture_tag tags[] = {{"netposture.dev/owner", "shop/web"}, {"team", "shop"}};
    cr_assert_eq(fp(shuffled, NP_ARRAY_LEN(shuffled), tags, NP_ARRAY_LEN(tags)), h);
    cr_assert_eq(base(), h, "the same input twice");

    /* A hand-built, unsorted rule set gives the same value as the normalised one. */
    struct np_posture_rule rules[] = {
        {NP_POSTURE_EGRESS, "-1", -1, -1, C4, "0.0.0.0/0", NULL},
        {NP_POSTURE_INGRESS, "udp", 53, 53, PL, "pl-0abc", NULL},
        {NP_POSTURE_INGRESS, "tcp", 22, 22, C4, "10.0.0.0/8", NULL},
        {NP_POSTURE_INGRESS, "tcp", 443, 443, C4, "10.0.0.0/8", "https"},
    };
    struct np_posture_ruleset rs = {rules, NP_ARRAY_LEN(rules)};
    cr_assert_eq(np_posture_fingerprint(&rs, tags, NP_ARRAY_LEN(tags)), h);
}

Test(posture_fingerprint, pinned_value)
{
    /* FNV-1a over the canonical serialisation, cross-checked with an independent Python
     * implementation; a change here changes every value a poller may hold. */
    cr_assert_eq(base(), 0xade59da7e6c20c4bULL, "fingerprint changed: 0x%016llx",
                 (unsigned long long)base());
    struct np_posture_ruleset empty = {0};
    cr_assert_eq(np_posture_fingerprint(&empty, NULL, 0), np_posture_fingerprint(NULL, NULL, 0));
}

Test(posture_fingerprint, every_change_is_seen)
{
    static const struct {
        const char *name;
        struct np_posture_raw_rule raw[6];
        size_t n_raw;
        struct np_posture_tag tags[3];
        size_t n_tags;
    } variants[] = {
        {"description changed",
         {IN("tcp", 443, 443, C4, "10.0.0.0/8", "HTTPS"), IN("tcp", 22, 22, C4, "10.0.0.0/8", NULL),
          IN("udp", 53, 53, PL, "pl-0abc", NULL), EG_DEFAULT},
         4,
         {BASE_TAGS},
         2},
        {"description removed",
         {IN("tcp", 443, 443, C4, "10.0.0.0/8", NULL), IN("tcp", 22, 22, C4, "10.0.0.0/8", NULL),
          IN("udp", 53, 53, PL, "pl-0abc", NULL), EG_DEFAULT},
         4,
         {BASE_TAGS},
         2},
        {"description added",
         {IN("tcp", 443, 443, C4, "10.0.0.0/8", "https"),
          IN("tcp", 22, 22, C4, "10.0.0.0/8", "ssh"), IN("udp", 53, 53, PL, "pl-0abc", NULL),
          EG_DEFAULT},
         4,
         {BASE_TAGS},
         2},
        {"port changed",
         {IN("tcp", 443, 443, C4, "10.0.0.0/8", "https"), IN("tcp", 23, 23, C4, "10.0.0.0/8", NULL),
          IN("udp", 53, 53, PL, "pl-0abc", NULL), EG_DEFAULT},
         4,
         {BASE_TAGS},
         2},
        {"protocol changed",
         {IN("tcp", 443, 443, C4, "10.0.0.0/8", "https"), IN("udp", 22, 22, C4, "10.0.0.0/8", NULL),
          IN("udp", 53, 53, PL, "pl-0abc", NULL), EG_DEFAULT},
         4,
         {BASE_TAGS},
         2},
        {"CIDR changed",
         {IN("tcp", 443, 443, C4, "10.0.0.0/8", "https"), IN("tcp", 22, 22, C4, "10.0.0.0/9", NULL),
          IN("udp", 53, 53, PL, "pl-0abc", NULL), EG_DEFAULT},
         4,
         {BASE_TAGS},
         2},
        {"peer kind changed, same text",
         {IN("tcp", 443, 443, C4, "10.0.0.0/8", "https"), IN("tcp", 22, 22, C4, "10.0.0.0/8", NULL),
          IN("udp", 53, 53, SG, "pl-0abc", NULL), EG_DEFAULT},
         4,
         {BASE_TAGS},
         2},
        {"direction flipped",
         {IN("tcp", 443, 443, C4, "10.0.0.0/8", "https"), EG("tcp", 22, 22, C4, "10.0.0.0/8", NULL),
          IN("udp", 53, 53, PL, "pl-0abc", NULL), EG_DEFAULT},
         4,
         {BASE_TAGS},
         2},
        {"rule added",
         {IN("tcp", 443, 443, C4, "10.0.0.0/8", "https"), IN("tcp", 22, 22, C4, "10.0.0.0/8", NULL),
          IN("udp", 53, 53, PL, "pl-0abc", NULL), EG_DEFAULT,
          IN("tcp", 22, 22, C4, "0.0.0.0/0", NULL)},
         5,
         {BASE_TAGS},
         2},
        {"rule removed",
         {IN("tcp", 443, 443, C4, "10.0.0.0/8", "https"), IN("tcp", 22, 22, C4, "10.0.0.0/8", NULL),
          IN("udp", 53, 53, PL, "pl-0abc", NULL)},
         3,
         {BASE_TAGS},
         2},
        {"tag value changed",
         {BASE_RULES},
         4,
         {{"team", "ops"}, {"netposture.dev/owner", "shop/web"}},
         2},
        {"ownership tag changed",
         {BASE_RULES},
         4,
         {{"team", "shop"}, {"netposture.dev/owner", "other/web"}},
         2},
        {"tag removed", {BASE_RULES}, 4, {{"team", "shop"}}, 1},
        {"tag added", {BASE_RULES}, 4, {BASE_TAGS, {"env", "prod"}}, 3},
        {"tag key and value boundary moved",
         {BASE_RULES},
         4,
         {{"tea", "mshop"}, {"netposture.dev/owner", "shop/web"}},
         2},
    };
    uint64_t h = base();
    uint64_t seen[NP_ARRAY_LEN(variants)];
    for (size_t i = 0; i < NP_ARRAY_LEN(variants); i++) {
        seen[i] = fp(variants[i].raw, variants[i].n_raw, variants[i].tags, variants[i].n_tags);
        cr_expect_neq(seen[i], h, "\"%s\" is not seen", variants[i].name);
        for (size_t j = 0; j < i; j++)
            cr_expect_neq(seen[i], seen[j], "\"%s\" and \"%s\" collide", variants[i].name,
                          variants[j].name);
    }
}
