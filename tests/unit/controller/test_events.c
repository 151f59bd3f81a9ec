/*
 * Unit tests for the event consumer's account filter (an event only reaches postures of the
 * CloudAccount whose queue delivered it) and the bounds on text an event can put in status
 * (actors, condition messages).
 */
#include "controller/private/controller_private.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

static json_object *parse(const char *s)
{
    json_object *o = json_tokener_parse(s);
    cr_assert_not_null(o, "bad test JSON: %s", s);
    return o;
}

Test(controller_events, postures_are_matched_by_their_account)
{
    json_object *a = parse("{\"spec\":{\"accountRef\":{\"name\":\"team-a\"}}}");
    json_object *dflt = parse("{\"spec\":{\"groupName\":\"g\"}}");
    json_object *empty = parse("{\"spec\":{\"accountRef\":{\"name\":\"\"}}}");
    cr_expect(np_controller_events_posture_uses_account(a, "team-a"));
    cr_expect_not(np_controller_events_posture_uses_account(a, "team-b"));
    cr_expect(np_controller_events_posture_uses_account(dflt, "default"),
              "no accountRef is default");
    cr_expect_not(np_controller_events_posture_uses_account(dflt, "team-a"));
    cr_expect(np_controller_events_posture_uses_account(empty, "default"));
    json_object_put(a);
    json_object_put(dflt);
    json_object_put(empty);
}

Test(controller_events, text_from_events_is_bounded_in_status)
{
    char *s = np_controller_status_bounded("short", 64);
    cr_expect_str_eq(s, "short");
    free(s);
    cr_expect_null(np_controller_status_bounded(NULL, 64));
    char big[4096];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    s = np_controller_status_bounded(big, NP_CONTROLLER_STATUS_ACTOR_MAX);
    cr_expect_eq(strlen(s), NP_CONTROLLER_STATUS_ACTOR_MAX);
    cr_expect(strstr(s, NP_CONTROLLER_STATUS_TRUNCATED) != NULL);
    free(s);
    /* never cuts a UTF-8 sequence: "é" is two bytes */
    char utf[41];
    for (int i = 0; i < 20; i++)
        memcpy(utf + 2 * i, "\xc3\xa9", 2);
    utf[40] = '\0';
    s = np_controller_status_bounded(utf, 20);
    size_t keep = strlen(s) - strlen(NP_CONTROLLER_STATUS_TRUNCATED);
    cr_expect_eq(keep % 2, 0, "a whole number of characters kept: %s", s);
    free(s);
}

/* A condition message an event can grow (a contested actor, a long error) is bounded. */
Test(controller_events, condition_messages_are_bounded)
{
    char *msg = np_xcalloc(10000, 1);
    memset(msg, 'x', 9999);
    struct np_controller_condition conds[] = {{"Ready", "False", "Contested", msg}};
    json_object *arr = np_controller_status_conditions(NULL, conds, 1, 1, 1796083200000LL);
    const char *got = np_json_path_str(json_object_array_get_idx(arr, 0), "message", NP_JSON_END);
    cr_assert_not_null(got);
    cr_expect_eq(strlen(got), NP_CONTROLLER_STATUS_MESSAGE_MAX);
    cr_expect(strstr(got, NP_CONTROLLER_STATUS_TRUNCATED) != NULL);
    json_object_put(arr);
    free(msg);
}
