/*
 * plan's computation without AWS: a posture against a group as Describe decodes it gives the
 * controller's plan text, the summary counts and the plan id (np_posture_plan_id over the text
 * and the group's fingerprint); exceptions leave their drift out; a missing group is created.
 */
#include "cli/private/cli_private.h"
#include "spec_helpers.h"

#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdlib.h>
#include <string.h>

static struct np_aws_perm perm(const char *proto, int from, int to, const char *cidr,
                               const char *desc)
{
    return (struct np_aws_perm){.protocol = (char *)proto,
                                .has_ports = from >= 0,
                                .from_port = from,
                                .to_port = to,
                                .peer_kind = NP_AWS_PEER_CIDR4,
                                .peer = (char *)cidr,
                                .description = (char *)desc};
}

/* The group: tcp 443 from 10.0.0.0/8 ("https"), tcp 22 from anywhere, default egress, tags. */
static struct np_aws_perm g_in[2], g_out[1];
static struct np_aws_tag g_tags[2];
static struct np_aws_sg group(void)
{
    g_in[0] = perm("tcp", 443, 443, "10.0.0.0/8", "https");
    g_in[1] = perm("tcp", 22, 22, "0.0.0.0/0", NULL);
    g_out[0] = perm("-1", -1, -1, "0.0.0.0/0", NULL);
    g_tags[0] = (struct np_aws_tag){"team", "shop"};
    g_tags[1] = (struct np_aws_tag){"netposture.dev/owner", "shop/web"};
    return (struct np_aws_sg){.group_id = "sg-0123",
                              .tags = g_tags,
                              .n_tags = 2,
                              .ingress = g_in,
                              .n_ingress = 2,
                              .egress = g_out,
                              .n_egress = 1};
}

#define WEB                                                                                        \
    "{\"groupName\": \"web\", \"tags\": {\"team\": \"shop\"}, \"ingress\": [{\"protocol\": "       \
    "\"tcp\", \"fromPort\": 443, \"toPort\": 443, \"cidrs\": [\"10.0.0.0/8\"], \"description\": "  \
    "\"https\"}]"

static void compute(struct np_cli_sg_plan *p, const char *spec_json, const struct np_aws_sg *sg)
{
    struct np_posture_sg_spec *spec = test_spec_of(spec_json);
    struct np_posture_ruleset want = {0};
    cr_assert_eq(np_posture_desired(&want, spec), 0);
    cr_assert_eq(np_cli_sg_plan_compute(p, spec, &want, sg, 1700000000000LL), 0);
    np_posture_ruleset_clean_up(&want);
    np_posture_sg_spec_destroy(spec);
}

Test(plan, a_converged_group_has_an_empty_plan_and_no_id)
{
    struct np_aws_sg sg = group();
    sg.n_ingress = 1;
    struct np_cli_sg_plan p;
    compute(&p, WEB "}", &sg);
    cr_assert_eq(p.n, 0);
    cr_assert_null(p.id);
    cr_assert_eq(p.add + p.change + p.remove, 0);
    np_cli_sg_plan_clean_up(&p);
}

Test(plan, drift_gives_the_controllers_plan_text_counts_and_id)
{
    struct np_aws_sg sg = group();
    struct np_cli_sg_plan p;
    compute(&p, WEB ", \"tags\": {\"team\": \"shop\", \"env\": \"prod\"}}", &sg);
    cr_assert_eq(p.n, 2);
    cr_assert_str_eq(p.lines[0], "tag set env=prod");
    cr_assert_str_eq(p.lines[1], "revoke ingress tcp 22 0.0.0.0/0");
    cr_assert_eq(p.add, 1);
    cr_assert_eq(p.change, 0);
    cr_assert_eq(p.remove, 1);
    char *id = np_posture_plan_id(p.lines, np_aws_sg_fingerprint(&sg), np_aws_sha256_hex);
    cr_assert_str_eq(p.id, id);
    cr_assert(np_str_has_prefix(p.id, "sha256:") && strlen(p.id) == 7 + 64);
    free(id);
    np_cli_sg_plan_clean_up(&p);
}

Test(plan, the_id_binds_the_observed_state)
{
    struct np_aws_sg sg = group();
    struct np_cli_sg_plan a, b;
    compute(&a, WEB "}", &sg);
    compute(&b, WEB "}", &sg);
    cr_assert_str_eq(a.id, b.id);
    np_cli_sg_plan_clean_up(&b);
    sg.n_tags = 1; /* an ownership tag gone: same text, another state, another id */
    compute(&b, WEB "}", &sg);
    cr_assert_str_eq(a.lines[0], b.lines[0]);
    cr_assert_str_neq(a.id, b.id);
    np_cli_sg_plan_clean_up(&a);
    np_cli_sg_plan_clean_up(&b);
}

Test(plan, a_live_exception_leaves_its_drift_out)
{
    struct np_aws_sg sg = group();
    struct np_cli_sg_plan p;
    compute(&p,
            WEB ", \"remediation\": {\"exceptions\": [{\"rule\": {\"direction\": \"ingress\", "
                "\"protocol\": \"tcp\", \"fromPort\": 22, \"toPort\": 22}, \"expires\": "
                "\"2099-01-01T00:00:00Z\"}]}}",
            &sg);
    cr_assert_eq(p.n, 0);
    cr_assert_eq(p.excepted, 1);
    np_cli_sg_plan_clean_up(&p);
}

Test(plan, a_missing_group_is_created_with_its_rules)
{
    struct np_cli_sg_plan p;
    compute(&p, WEB ", \"egress\": []}", NULL);
    cr_assert_eq(p.n, 4);
    cr_assert_str_eq(p.lines[0], "create security group web");
    cr_assert_str_eq(p.lines[1], "authorize ingress tcp 443 10.0.0.0/8");
    cr_assert_str_eq(p.lines[2], "tag set team=shop");
    cr_assert_str_eq(p.lines[3], "revoke egress all 0.0.0.0/0");
    cr_assert_null(p.id);
    cr_assert_eq(p.add, 3);
    cr_assert_eq(p.remove, 1);
    np_cli_sg_plan_clean_up(&p);
}

Test(plan, usage_errors_exit_2)
{
    cr_redirect_stdout();
    cr_redirect_stderr();
    char *none[] = {"netposturectl", "plan", NULL};
    cr_assert_eq(np_cli_main(2, none), NP_CLI_EXIT_USAGE);
    char *bad[] = {"netposturectl", "plan", "-o", "xml", "f.yaml", NULL};
    cr_assert_eq(np_cli_main(5, bad), NP_CLI_EXIT_USAGE);
    char *missing[] = {"netposturectl", "plan", "--region", "us-east-1", "/nonexistent.yaml", NULL};
    cr_assert_eq(np_cli_main(5, missing), NP_CLI_EXIT_USAGE);
    char *help[] = {"netposturectl", "plan", "--help", NULL};
    cr_assert_eq(np_cli_main(3, help), NP_CLI_EXIT_OK);
}

Test(plan, a_vpc_posture_is_not_planned_and_said_so)
{
    cr_redirect_stderr();
    char *argv[] = {"netposturectl", "plan", "tests/fixtures/ctl/render/main.yaml", NULL};
    cr_assert_eq(np_cli_main(3, argv), NP_CLI_EXIT_USAGE);
    fflush(stderr);
    cr_assert_stderr_eq_str(
        "not planned: VPCPosture shop/main: plan handles SecurityGroupPostures only (not "
        "implemented for VPCPostures yet)\n"
        "netposturectl plan: tests/fixtures/ctl/render/main.yaml holds no SecurityGroupPosture\n");
}
