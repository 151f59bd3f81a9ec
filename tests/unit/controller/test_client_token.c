/*
 * Unit tests of the EC2 ClientToken a VPCPosture's creates carry: stable for retries of one
 * create, new once the piece had an id, distinct per posture and piece, within EC2's 64 ASCII.
 */
#include "controller/private/controller_private.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

Test(controller_client_token, stable_per_create_and_new_per_incarnation)
{
    struct np_controller_pass a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    a.uid = "6f1c2a1e-0000-4000-8000-000000000001";
    b.uid = "6f1c2a1e-0000-4000-8000-000000000002";
    char *t1 = np_controller_pass_client_token(&a, "routeTable/private", NULL);
    char *t2 = np_controller_pass_client_token(&a, "routeTable/private", NULL);
    char *t3 = np_controller_pass_client_token(&a, "routeTable/private", "rtb-0123456789abcdef0");
    char *t4 = np_controller_pass_client_token(&a, "networkAcl/private", NULL);
    char *t5 = np_controller_pass_client_token(&b, "routeTable/private", NULL);
    cr_assert_str_eq(t1, t2, "a retried create sends the same token");
    cr_assert_str_neq(t1, t3, "a piece deleted out of band is created anew");
    cr_assert_str_neq(t1, t4, "pieces differ");
    cr_assert_str_neq(t1, t5, "postures differ");
    cr_assert_eq(strncmp(t1, "np-", 3), 0);
    cr_assert_eq(strlen(t1), 43);
    for (const char *c = t1 + 3; *c; c++)
        cr_assert(strchr("0123456789abcdef", *c) != NULL, "%s", t1);
    free(t1);
    free(t2);
    free(t3);
    free(t4);
    free(t5);
}
