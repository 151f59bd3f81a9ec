/*
 * Unit tests for the event-hint store shared by the region pollers (group hints) and the VPC
 * postures: the newest hint of a key wins, hints expire after NP_CONTROLLER_HINT_TTL_MS and at
 * most NP_CONTROLLER_HINTS_MAX are kept.
 */
#include "controller/private/controller_private.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

Test(controller_hints, newest_hint_of_a_key_wins_and_is_taken_once)
{
    struct np_controller_hint_store s = {0};
    struct np_controller_hint h;
    np_controller_hint_store_put(&s, "sg-1", "alice", true, "CreateTags", 10, NULL, 1000);
    np_controller_hint_store_put(&s, "sg-1", "bob", false, "DeleteTags", 20, NULL, 2000);
    cr_expect_eq(s.n, 1);
    cr_assert(np_controller_hint_store_take(&s, "sg-1", 2500, &h));
    cr_expect_str_eq(h.actor, "bob");
    cr_expect_str_eq(h.event_name, "DeleteTags");
    cr_expect_not(h.actor_verified);
    cr_expect_eq(h.event_ms, 20);
    np_controller_hint_clean_up(&h);
    cr_expect_not(np_controller_hint_store_take(&s, "sg-1", 2500, &h), "taken once");
    cr_expect_null(h.actor);
    cr_expect_eq(s.n, 0);
    np_controller_hint_store_clean_up(&s);
}

Test(controller_hints, a_verified_actor_needs_an_actor)
{
    struct np_controller_hint_store s = {0};
    struct np_controller_hint h;
    np_controller_hint_store_put(&s, "ns/v", NULL, true, NULL, 0, NULL, 0);
    cr_assert(np_controller_hint_store_take(&s, "ns/v", 0, &h));
    cr_expect_null(h.actor);
    cr_expect_not(h.actor_verified);
    np_controller_hint_clean_up(&h);
    np_controller_hint_store_clean_up(&s);
}

Test(controller_hints, hints_expire)
{
    struct np_controller_hint_store s = {0};
    struct np_controller_hint h;
    np_controller_hint_store_put(&s, "old", "a", false, NULL, 0, NULL, 0);
    cr_expect_not(np_controller_hint_store_take(&s, "old", NP_CONTROLLER_HINT_TTL_MS + 1, &h),
                  "an expired hint is not taken");
    cr_expect_eq(s.n, 0, "and is dropped");
    np_controller_hint_store_put(&s, "old", "a", false, NULL, 0, NULL, 0);
    np_controller_hint_store_put(&s, "new", "b", false, NULL, 0, NULL,
                                 NP_CONTROLLER_HINT_TTL_MS + 1);
    cr_expect_eq(s.n, 1, "a put drops the expired ones");
    np_controller_hint_store_clean_up(&s);
}

Test(controller_hints, the_store_is_bounded_and_drops_the_oldest)
{
    struct np_controller_hint_store s = {0};
    struct np_controller_hint h;
    char key[32];
    for (int i = 0; i < NP_CONTROLLER_HINTS_MAX + 10; i++) {
        snprintf(key, sizeof(key), "sg-%d", i);
        np_controller_hint_store_put(&s, key, NULL, false, NULL, 0, NULL, i);
    }
    cr_expect_eq(s.n, NP_CONTROLLER_HINTS_MAX);
    cr_expect_not(np_controller_hint_store_take(&s, "sg-0", 0, &h), "the oldest went");
    snprintf(key, sizeof(key), "sg-%d", NP_CONTROLLER_HINTS_MAX + 9);
    cr_expect(np_controller_hint_store_take(&s, key, NP_CONTROLLER_HINTS_MAX + 9, &h));
    np_controller_hint_clean_up(&h);
    np_controller_hint_store_clean_up(&s);
}
