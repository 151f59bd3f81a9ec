/*
 * Unit tests for work items (workitem.c): the queue text round-trips through the table of
 * kinds, and malformed or unknown text is refused rather than guessed.
 */
#include "controller/private/controller_private.h"

#include <criterion/criterion.h>
#include <stdlib.h>

Test(controller_workitem, every_kind_round_trips)
{
    static const char *const names[] = {"SecurityGroupPosture", "VPCPosture", "CloudAccount",
                                        "PostureGuardrail"};
    for (int k = 0; k < NP_CONTROLLER_WORK_KIND_COUNT; k++) {
        const char *key =
            k == NP_CONTROLLER_WORK_ACCOUNT ? "prod:eu" : "shop/web:a"; /* ':' in a key */
        char *text = np_controller_work_item_text((enum np_controller_work_kind)k, key);
        struct np_controller_work_item w;
        cr_assert_eq(np_controller_work_item_parse(text, &w), 0, "%s: %s", text,
                     np_error_message());
        cr_expect_eq(w.kind, (enum np_controller_work_kind)k, "%s", text);
        cr_expect_str_eq(w.key, key, "%s", text);
        cr_expect_str_eq(np_controller_work_kind_name((enum np_controller_work_kind)k), names[k]);
        free(text);
    }
    cr_expect_str_eq(np_controller_work_kind_name(NP_CONTROLLER_WORK_KIND_COUNT), "Unknown");
}

Test(controller_workitem, malformed_or_unknown_text_is_refused)
{
    static const char *const bad[] = {
        "shop/web",        /* no kind */
        "sgp:",            /* no key */
        ":shop/web",       /* empty kind */
        "sg:shop/web",     /* a prefix of a kind is not the kind */
        "sgpx:shop/web",   /* nor is a longer word */
        "Account:prod",    /* tokens are exact */
        "guardrails:deny", /* plural */
        "",
    };
    for (size_t i = 0; i < NP_ARRAY_LEN(bad); i++) {
        struct np_controller_work_item w = {NP_CONTROLLER_WORK_VPCP, "untouched"};
        cr_expect_eq(np_controller_work_item_parse(bad[i], &w), NP_EINVAL, "\"%s\"", bad[i]);
    }
    struct np_controller_work_item w;
    cr_expect_eq(np_controller_work_item_parse(NULL, &w), NP_EINVAL);
}
