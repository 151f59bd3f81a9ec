/*
 * import from a recorded DescribeSecurityGroups answer (tests/fixtures/aws, recorded from moto)
 * served on loopback: the postures written (golden files under tests/fixtures/ctl/import/,
 * themselves valid postures), the ownership refusal, --all-in-vpc, and the names.
 */
#include "../kube/fake_apiserver.h"
#include "../kube/helpers.h"
#include "cli/private/cli_private.h"

#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *read_file(const char *path)
{
    char *data = NULL;
    size_t n = 0;
    cr_assert_eq(np_cli_read_input(&data, &n, path), 0, "%s: %s", path, np_error_message());
    return data;
}

static void answer(void *ctx, const struct fake_req *req, struct fake_conn *conn)
{
    (void)req;
    fake_reply(conn, 200, ctx);
}

/* Runs `import ARGS --endpoint-url <the recorded answer> --region us-east-1`. */
static int run_import(char **args, int n_args)
{
    char *xml = read_file("tests/fixtures/aws/describe-security-groups.xml");
    struct fake_server *srv = fake_server_start(answer, xml);
    setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
    unsetenv("AWS_SESSION_TOKEN");
    char *argv[16] = {"netposturectl", "import"};
    int argc = 2;
    for (int i = 0; i < n_args; i++)
        argv[argc++] = args[i];
    argv[argc++] = "--endpoint-url";
    argv[argc++] = (char *)fake_server_url(srv);
    argv[argc++] = "--region";
    argv[argc++] = "us-east-1";
    int rc = np_cli_main(argc, argv);
    fflush(stdout);
    fake_server_stop(srv);
    free(xml);
    return rc;
}

static void expect_golden(const char *golden)
{
    char *want = read_file(golden);
    cr_assert_stdout_eq_str(want);
    free(want);
}

Test(import, a_group_becomes_an_adopting_posture_in_canonical_form)
{
    cr_redirect_stdout();
    char *args[] = {"--group-id", "sg-2198c3f71b2a36740", "-n", "shop"};
    cr_assert_eq(run_import(args, 4), NP_CLI_EXIT_OK);
    expect_golden("tests/fixtures/ctl/import/shop-db.yaml");
}

Test(import, icmp_ipv6_prefix_lists_descriptions_and_user_tags_are_kept)
{
    cr_redirect_stdout();
    char *args[] = {"--group-id", "sg-e5c230b73102e5a27", "-n", "shop", "--name", "web"};
    cr_assert_eq(run_import(args, 6), NP_CLI_EXIT_OK);
    expect_golden("tests/fixtures/ctl/import/shop-web.yaml");
}

Test(import, a_group_another_posture_owns_is_refused)
{
    cr_redirect_stdout();
    cr_redirect_stderr();
    char *args[] = {"--group-id", "sg-e5c230b73102e5a27", "-n", "other"};
    cr_assert_eq(run_import(args, 4), NP_CLI_EXIT_USAGE);
    fflush(stderr);
    cr_assert_stderr_eq_str("netposturectl import: security group sg-e5c230b73102e5a27 is owned "
                            "by the posture shop/web (tag netposture.dev/owner): a posture may "
                            "not adopt it\n");
}

Test(import, all_in_vpc_skips_the_default_group_and_owned_groups)
{
    cr_redirect_stdout();
    cr_redirect_stderr();
    char *args[] = {"--vpc-id", "vpc-c454068d884c361e2", "--all-in-vpc", "-n", "shop"};
    cr_assert_eq(run_import(args, 5), NP_CLI_EXIT_OK);
    expect_golden("tests/fixtures/ctl/import/shop-db.yaml");
}

Test(import, a_missing_group_and_bad_usage_exit_2)
{
    cr_redirect_stderr();
    char *missing[] = {"--group-id", "sg-0000000000000000"};
    cr_assert_eq(run_import(missing, 2), NP_CLI_EXIT_USAGE);
    char *both[] = {"netposturectl", "import", "--group-id", "sg-1", "--vpc-id", "vpc-1", NULL};
    cr_assert_eq(np_cli_main(6, both), NP_CLI_EXIT_USAGE);
    char *vpc_only[] = {"netposturectl", "import", "--vpc-id", "vpc-1", NULL};
    cr_assert_eq(np_cli_main(4, vpc_only), NP_CLI_EXIT_USAGE);
    char *mode[] = {"netposturectl", "import", "--group-id", "sg-1", "--mode", "Fix", NULL};
    cr_assert_eq(np_cli_main(6, mode), NP_CLI_EXIT_USAGE);
}

Test(import, the_golden_postures_are_valid)
{
    struct np_cli_validator *v = NULL;
    cr_assert_eq(np_cli_validator_new(&v), 0);
    const char *files[] = {"tests/fixtures/ctl/import/shop-db.yaml",
                           "tests/fixtures/ctl/import/shop-web.yaml"};
    for (size_t i = 0; i < NP_ARRAY_LEN(files); i++) {
        char *data = read_file(files[i]);
        struct np_cli_findings f = {0};
        np_cli_validate_text(v, files[i], data, strlen(data), "default", &f);
        cr_assert_eq(f.n, 0, "%s: %s", files[i], f.n ? np_cli_finding_text(&f.items[0]) : "");
        np_cli_findings_clean_up(&f);
        free(data);
    }
    np_cli_validator_destroy(v);
}

Test(import, names_are_dns_labels)
{
    const char *cases[][3] = {{"Shop Web_01", "sg-1", "shop-web-01"},
                              {"--x--", "sg-1", "x"},
                              {"!!!", "sg-0abc", "sg-0abc"},
                              {"a.b", "sg-1", "a-b"}};
    for (size_t i = 0; i < NP_ARRAY_LEN(cases); i++) {
        char *got = np_cli_import_name(cases[i][0], cases[i][1]);
        cr_assert_str_eq(got, cases[i][2]);
        free(got);
    }
    char long_name[200];
    memset(long_name, 'a', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    char *got = np_cli_import_name(long_name, "sg-1");
    cr_assert_eq(strlen(got), 63);
    free(got);
}
