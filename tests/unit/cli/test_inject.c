/*
 * inject-drift without AWS: which change a run makes to a group (never to a rule or tag the
 * posture does not own), when the group read back shows it undone, the ownership check, and
 * the refusals that happen before anything is touched.
 */
#include "cli/private/cli_private.h"
#include "spec_helpers.h"

#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdlib.h>
#include <string.h>

#define SPEC                                                                                       \
    "{\"groupName\": \"web\", \"tags\": {\"team\": \"shop\"}, \"ingress\": [{\"protocol\": "       \
    "\"tcp\", \"fromPort\": 443, \"toPort\": 443, \"cidrs\": [\"10.0.0.0/8\"], \"description\": "  \
    "\"https\"}, {\"protocol\": \"tcp\", \"fromPort\": 22, \"toPort\": 22, \"cidrs\": "            \
    "[\"0.0.0.0/0\"]}]}"

/* The group: an undeclared rule first (tcp 80), then the two declared ones; tags. */
static struct np_aws_perm g_in[3];
static struct np_aws_tag g_tags[3];
static struct np_aws_sg group(void)
{
    g_in[0] = (struct np_aws_perm){"tcp", true, 80, 80, NP_AWS_PEER_CIDR4, "0.0.0.0/0", NULL, NULL};
    g_in[1] =
        (struct np_aws_perm){"tcp", true, 443, 443, NP_AWS_PEER_CIDR4, "10.0.0.0/8", NULL, "https"};
    g_in[2] = (struct np_aws_perm){"tcp", true, 22, 22, NP_AWS_PEER_CIDR4, "0.0.0.0/0", NULL, NULL};
    g_tags[0] = (struct np_aws_tag){"team", "shop"};
    g_tags[1] = (struct np_aws_tag){"netposture.dev/owner", "shop/web"};
    g_tags[2] = (struct np_aws_tag){"netposture.dev/uid", "u-1"};
    return (struct np_aws_sg){
        .group_id = "sg-0123", .tags = g_tags, .n_tags = 3, .ingress = g_in, .n_ingress = 3};
}

static struct np_cli_injection choose(enum np_cli_drift_kind kind, const struct np_aws_sg *sg,
                                      int round)
{
    struct np_posture_sg_spec *spec = test_spec_of(SPEC);
    struct np_cli_injection inj;
    cr_assert_eq(np_cli_injection_choose(&inj, kind, sg, spec, round), 0, "%s", np_error_message());
    np_posture_sg_spec_destroy(spec);
    return inj;
}

Test(inject, open_port_skips_ports_the_posture_allows_or_the_group_has)
{
    struct np_aws_sg sg = group();
    struct np_cli_injection inj = choose(NP_CLI_DRIFT_OPEN_PORT, &sg, 0);
    cr_assert_str_eq(inj.text, "authorize ingress tcp 3389 0.0.0.0/0"); /* 22 is declared */
    np_cli_injection_clean_up(&inj);
    inj = choose(NP_CLI_DRIFT_OPEN_PORT, &sg, 2);
    cr_assert_str_eq(inj.text, "authorize ingress tcp 445 0.0.0.0/0");
    np_cli_injection_clean_up(&inj);
}

Test(inject, open_port_is_undone_when_the_rule_is_gone)
{
    struct np_aws_sg sg = group();
    struct np_cli_injection inj = choose(NP_CLI_DRIFT_OPEN_PORT, &sg, 0);
    struct np_aws_perm with[4] = {g_in[0], g_in[1], g_in[2], inj.perm};
    struct np_aws_sg injected = sg;
    injected.ingress = with;
    injected.n_ingress = 4;
    cr_assert_not(np_cli_injection_undone(&inj, &injected));
    injected.n_ingress = 3;
    cr_assert(np_cli_injection_undone(&inj, &injected));
    np_cli_injection_clean_up(&inj);
}

Test(inject, remove_rule_takes_a_declared_rule_and_is_undone_when_it_is_back)
{
    struct np_aws_sg sg = group();
    struct np_cli_injection inj = choose(NP_CLI_DRIFT_REMOVE_RULE, &sg, 0);
    cr_assert_str_eq(inj.text, "revoke ingress tcp 443 10.0.0.0/8"); /* not the undeclared 80 */
    cr_assert(np_cli_injection_undone(&inj, &sg));
    struct np_aws_sg removed = sg;
    struct np_aws_perm left[2] = {g_in[0], g_in[2]};
    removed.ingress = left;
    removed.n_ingress = 2;
    cr_assert_not(np_cli_injection_undone(&inj, &removed));
    np_cli_injection_clean_up(&inj);
}

Test(inject, change_description_is_undone_when_the_original_is_back)
{
    struct np_aws_sg sg = group();
    struct np_cli_injection inj = choose(NP_CLI_DRIFT_CHANGE_DESCRIPTION, &sg, 0);
    cr_assert_str_eq(inj.text, "describe ingress tcp 443 10.0.0.0/8 \"changed by netposturectl "
                               "inject-drift (game day)\"");
    cr_assert(np_cli_injection_undone(&inj, &sg));
    g_in[1].description = "changed";
    cr_assert_not(np_cli_injection_undone(&inj, &sg));
    np_cli_injection_clean_up(&inj);
}

Test(inject, delete_tag_takes_a_declared_tag)
{
    struct np_aws_sg sg = group();
    struct np_cli_injection inj = choose(NP_CLI_DRIFT_DELETE_TAG, &sg, 0);
    cr_assert_str_eq(inj.text, "tag delete team");
    cr_assert(np_cli_injection_undone(&inj, &sg));
    g_tags[0].value = "other";
    cr_assert_not(np_cli_injection_undone(&inj, &sg));
    np_cli_injection_clean_up(&inj);
}

Test(inject, only_the_postures_own_group_is_touched)
{
    struct np_aws_sg sg = group();
    cr_assert_eq(np_cli_check_owner(&sg, "shop", "web", "u-1"), 0);
    cr_assert_eq(np_cli_check_owner(&sg, "shop", "web", "u-2"), NP_EDENIED);
    cr_assert_eq(np_cli_check_owner(&sg, "shop", "db", "u-1"), NP_EDENIED);
    cr_assert_eq(np_cli_check_owner(&sg, "shop", "web", NULL), NP_EDENIED);
    sg.n_tags = 1; /* no ownership tags: a group netposture does not manage */
    cr_assert_eq(np_cli_check_owner(&sg, "shop", "web", "u-1"), NP_EDENIED);
    cr_assert(strstr(np_error_message(), "is not managed by shop/web"));
}

Test(inject, nothing_to_change_and_vpc_kinds_are_errors)
{
    struct np_aws_sg sg = group();
    sg.n_tags = 0;
    struct np_posture_sg_spec *spec = test_spec_of(SPEC);
    struct np_cli_injection inj;
    cr_assert_eq(np_cli_injection_choose(&inj, NP_CLI_DRIFT_DELETE_TAG, &sg, spec, 0),
                 NP_ENOTFOUND);
    cr_assert_eq(np_cli_injection_choose(&inj, NP_CLI_DRIFT_ROUTE, &sg, spec, 0), NP_ENOTSUP);
    np_posture_sg_spec_destroy(spec);
}

Test(inject, usage_errors_exit_2_before_anything_is_touched)
{
    cr_redirect_stderr();
    char *no_kind[] = {"netposturectl", "inject-drift", "-n", "shop", "web", NULL};
    cr_assert_eq(np_cli_main(5, no_kind), NP_CLI_EXIT_USAGE);
    char *bad_kind[] = {"netposturectl", "inject-drift", "web", "--kind", "fire", NULL};
    cr_assert_eq(np_cli_main(5, bad_kind), NP_CLI_EXIT_USAGE);
    char *count[] = {"netposturectl", "inject-drift", "web", "--kind",
                     "open-port",     "--count",      "3",   NULL};
    cr_assert_eq(np_cli_main(7, count), NP_CLI_EXIT_USAGE); /* --count needs --wait */
    char *timeout[] = {"netposturectl", "inject-drift", "web",  "--kind", "open-port",
                       "--wait",        "--timeout",    "soon", NULL};
    cr_assert_eq(np_cli_main(8, timeout), NP_CLI_EXIT_USAGE);
}

/* ---------------------------------------------------------------- VPC pieces */

Test(inject, nacl_entry_takes_a_free_ingress_number_and_is_undone_when_gone)
{
    struct np_aws_nacl_entry entries[2] = {{.rule_number = 50, .egress = false},
                                           {.rule_number = 51, .egress = true}};
    struct np_aws_nacl acl = {.network_acl_id = "acl-0123", .entries = entries, .n_entries = 2};
    struct np_cli_injection inj;
    cr_assert_eq(np_cli_nacl_injection_choose(&inj, &acl, "private", 0), 0);
    cr_assert_str_eq(inj.text,
                     "nacl entry add networkAcl/private ingress 51 allow tcp 22 0.0.0.0/0");
    cr_assert_str_eq(inj.piece_id, "acl-0123");
    cr_assert(np_cli_nacl_injection_undone(&inj, &acl));
    entries[1].egress = false; /* the entry is there (as ingress 51) */
    cr_assert_not(np_cli_nacl_injection_undone(&inj, &acl));
    np_cli_injection_clean_up(&inj);
}

Test(inject, route_deletes_a_declared_route_and_is_undone_when_it_is_back)
{
    json_object *j = json_tokener_parse(
        "{\"cidrBlock\": \"10.9.0.0/16\", \"routeTables\": [{\"name\": \"private\", "
        "\"routes\": [{\"destinationCidrBlock\": \"172.16.0.0/12\", \"gatewayId\": "
        "\"igw-0abc\"}]}]}");
    struct np_posture_vpc_spec *spec = NULL;
    cr_assert_eq(np_posture_vpc_spec_parse(&spec, j), 0, "%s", np_error_message());
    struct np_aws_route routes[2] = {
        {.destination = "10.9.0.0/16", .has_target = true, .target = "local"},
        {.destination = "172.16.0.0/12", .has_target = true, .target = "igw-0abc"}};
    struct np_aws_route_table rt = {.route_table_id = "rtb-0123", .routes = routes, .n_routes = 2};
    struct np_cli_injection inj;
    cr_assert_eq(np_cli_route_injection_choose(&inj, &rt, &spec->route_tables[0]), 0);
    cr_assert_str_eq(inj.text,
                     "route delete routeTable/private 172.16.0.0/12 (gatewayId igw-0abc)");
    cr_assert(np_cli_route_injection_undone(&inj, &rt));
    routes[1].target = "igw-other"; /* retargeted: not the declared route */
    cr_assert_not(np_cli_route_injection_undone(&inj, &rt));
    np_cli_injection_clean_up(&inj);
    cr_assert_eq(np_cli_route_injection_choose(&inj, &rt, &spec->route_tables[0]), NP_ENOTFOUND);
    np_posture_vpc_spec_destroy(spec);
    json_object_put(j);
}

Test(inject, a_piece_without_the_postures_tags_is_refused)
{
    struct np_aws_tag tags[2] = {{"netposture.dev/owner", "net/main"},
                                 {"netposture.dev/uid", "u-1"}};
    cr_assert_eq(np_cli_check_tags_owner(tags, 2, "acl-0123", "net", "main", "u-1"), 0);
    cr_assert_eq(np_cli_check_tags_owner(tags, 1, "acl-0123", "net", "main", "u-1"), NP_EDENIED);
    cr_assert(strstr(np_error_message(), "acl-0123 is not managed by net/main"));
}
