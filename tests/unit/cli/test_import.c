/*
 * import from a recorded DescribeSecurityGroups answer (tests/fixtures/aws, recorded from moto)
 * served on loopback: the postures written (golden files under tests/fixtures/ctl/import/,
 * themselves valid postures), the ownership refusal, --all-in-vpc, and the names.
 */
#include "../kube/fake_apiserver.h"
#include "../kube/helpers.h"
#include "../observe/recorded_ec2.h"
#include "../observe/vpc_fixture.h"
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

/* Runs `import ARGS --endpoint-url <the recorded answers> --region us-east-1`. */
static int run_import(char **args, int n_args)
{
    struct fake_server *srv = recorded_ec2_start();
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

Test(import, all_in_vpc_writes_the_vpc_and_its_groups_but_the_default_and_owned_ones)
{
    cr_redirect_stdout();
    cr_redirect_stderr();
    char *args[] = {"--vpc-id", "vpc-c454068d884c361e2", "--all-in-vpc", "-n", "shop"};
    cr_assert_eq(run_import(args, 5), NP_CLI_EXIT_OK);
    /* The VPC (named after its Name tag; the recorded pieces belong to another VPC: none is
     * taken), then shop-db; shop-web is another posture's, default the VPCPosture's. */
    char *db = read_file("tests/fixtures/ctl/import/shop-db.yaml");
    char *want = np_strdupf("apiVersion: netposture.dev/v1alpha1\n"
                            "kind: VPCPosture\n"
                            "metadata:\n"
                            "  name: shop\n"
                            "  namespace: shop\n"
                            "spec:\n"
                            "  region: us-east-1\n"
                            "  cidrBlock: 10.1.0.0/16\n"
                            "  management:\n"
                            "    policy: Adopt\n"
                            "    vpcId: vpc-c454068d884c361e2\n"
                            "  enableDnsSupport: true\n"
                            "  enableDnsHostnames: true\n"
                            "  tags:\n"
                            "    Name: shop\n"
                            "    env: test\n"
                            "  subnets: []\n"
                            "  routeTables: []\n"
                            "  networkAcls: []\n"
                            "  remediation:\n"
                            "    mode: Detect\n"
                            "---\n%s",
                            db);
    cr_assert_stdout_eq_str(want);
    free(want);
    free(db);
}

/* The mapping: the fixture VPC becomes a VPCPosture adopting every piece by id that, parsed and
 * matched as the controller does, has no drift at all. */
Test(import, a_vpc_becomes_a_posture_with_no_drift)
{
    struct np_observe_vpc o;
    test_vpc_fill(&o);
    struct np_cli_import_opts opts = {.ns = "shop", .region = "us-east-1"};
    json_object *obj = np_cli_import_vpc(&o, &opts);
    cr_assert_str_eq(np_json_path_str(obj, "metadata", "name", NP_JSON_END), "vpc-0a000001");
    cr_assert_str_eq(np_json_path_str(obj, "spec", "management", "vpcId", NP_JSON_END),
                     "vpc-0a000001");
    json_object *spec_obj = np_json_path(obj, "spec", NP_JSON_END);
    json_object *want_rts = json_tokener_parse(
        "[{\"name\": \"rtb-0a000001\", \"subnets\": [\"subnet-0a00000a\"], \"routes\": "
        "[{\"destinationCidrBlock\": \"0.0.0.0/0\", \"natGatewayId\": "
        "\"nat-0a000001\"}], \"routeTableId\": \"rtb-0a000001\"}, {\"name\": \"main\", "
        "\"subnets\": [], \"routes\": [], \"routeTableId\": \"rtb-0a0000aa\"}]");
    cr_assert_str_eq(json_object_get_string(np_json_path(spec_obj, "routeTables", NP_JSON_END)),
                     json_object_get_string(want_rts));
    json_object_put(want_rts);
    struct np_posture_vpc_spec *spec = NULL;
    cr_assert_eq(np_posture_vpc_spec_parse(&spec, spec_obj), 0, "%s", np_error_message());
    np_observe_vpc_settle(&o, spec, NULL, NULL);
    struct np_posture_delta d = {0};
    cr_assert_eq(np_posture_vpc_diff(&d, spec, &o.view), 0);
    for (size_t i = 0; i < d.n; i++) {
        char *t = np_posture_drift_text(&d.items[i]);
        cr_log_error("drift: %s %s", np_posture_drift_scope(&d.items[i]), t);
        free(t);
    }
    cr_assert_eq(d.n, 0);
    np_posture_delta_clean_up(&d);
    np_posture_vpc_spec_destroy(spec);
    json_object_put(obj);
    test_vpc_release(&o);
}

Test(import, a_posture_the_api_server_would_refuse_is_not_written)
{
    /* A subnet in a secondary CIDR (EKS custom networking) cannot be declared: the output is
     * validated as `validate` does and refused naming the field. */
    struct np_observe_vpc o;
    test_vpc_fill(&o);
    o.subnets[1].cidr_block = "100.64.1.0/24";
    struct np_cli_import_opts opts = {.ns = "shop", .region = "us-east-1"};
    json_object *items = json_object_new_array();
    json_object_array_add(items, np_cli_import_vpc(&o, &opts));
    cr_assert_eq(np_cli_import_validate(items, "shop"), NP_EINVAL);
    cr_assert(strstr(np_error_message(), "spec.subnets: ") &&
                  strstr(np_error_message(), "must be inside the VPC cidrBlock 10.0.0.0/16"),
              "%s", np_error_message());
    json_object_put(items);
    o.subnets[1].cidr_block = "10.0.9.0/24";
    items = json_object_new_array();
    json_object_array_add(items, np_cli_import_vpc(&o, &opts));
    cr_assert_eq(np_cli_import_validate(items, "shop"), 0, "%s", np_error_message());
    json_object_put(items);
    test_vpc_release(&o);
}

Test(import, a_missing_group_and_bad_usage_exit_2)
{
    cr_redirect_stderr();
    char *missing[] = {"--group-id", "sg-0000000000000000"};
    cr_assert_eq(run_import(missing, 2), NP_CLI_EXIT_USAGE);
    char *both[] = {"netposturectl", "import",       "--group-id", "sg-1",
                    "--vpc-id",      "vpc-0a000001", NULL};
    cr_assert_eq(np_cli_main(6, both), NP_CLI_EXIT_USAGE);
    char *all[] = {"netposturectl", "import", "--group-id", "sg-1", "--all-in-vpc", NULL};
    cr_assert_eq(np_cli_main(5, all), NP_CLI_EXIT_USAGE);
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
