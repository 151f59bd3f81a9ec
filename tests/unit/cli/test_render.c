/*
 * render terraform: golden HCL for the postures of tests/fixtures/ctl/render/ (every peer kind,
 * ICMP, protocol numbers, the default egress, a peer by name, escapes, import blocks; a VPC with
 * every piece), and the errors.
 */
#include "cli/private/cli_private.h"

#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdlib.h>
#include <string.h>

static char *read_file(const char *path)
{
    char *data = NULL;
    size_t n = 0;
    cr_assert_eq(np_cli_read_input(&data, &n, path), 0, "%s: %s", path, np_error_message());
    return data;
}

/* Renders the YAML text; returns the rc and the HCL in *out (owned). */
static int render(const char *yaml, bool imports, char **out)
{
    struct np_cli_docs docs = {0};
    int line = 0, col = 0;
    cr_assert_eq(np_cli_yaml_load(&docs, yaml, strlen(yaml), &line, &col), 0);
    struct np_buf b = NP_BUF_INIT;
    int rc = np_cli_render_terraform(&b, &docs, imports);
    *out = np_strdup(np_buf_cstr(&b));
    np_buf_clean_up(&b);
    np_cli_docs_clean_up(&docs);
    return rc;
}

static void expect_golden(const char *name)
{
    char *in = np_strdupf("tests/fixtures/ctl/render/%s.yaml", name);
    char *golden = np_strdupf("tests/fixtures/ctl/render/%s.tf", name);
    char *yaml = read_file(in), *want = read_file(golden), *got = NULL;
    cr_assert_eq(render(yaml, true, &got), 0, "%s", np_error_message());
    cr_assert_str_eq(got, want, "%s differs from %s", in, golden);
    free(got);
    free(want);
    free(yaml);
    free(golden);
    free(in);
}

Test(render, security_groups_one_resource_per_atomic_rule)
{
    expect_golden("shop");
}

Test(render, a_vpc_and_its_pieces)
{
    expect_golden("main");
}

Test(render, import_blocks_only_when_asked)
{
    char *yaml = read_file("tests/fixtures/ctl/render/shop.yaml"), *got = NULL;
    cr_assert_eq(render(yaml, false, &got), 0);
    cr_assert_null(strstr(got, "import {"));
    cr_assert_not_null(strstr(got, "resource \"aws_security_group\" \"db\""));
    free(got);
    free(yaml);
}

Test(render, names_become_identifiers_and_strings_cannot_interpolate)
{
    char *got = NULL;
    cr_assert_eq(render("kind: SecurityGroupPosture\nmetadata: {name: 1st.web}\nspec:\n"
                        "  groupName: a\n  tags: {k: \"%{x} ${y}\"}\n  egress: []\n",
                        false, &got),
                 0);
    cr_assert_not_null(strstr(got, "resource \"aws_security_group\" \"_1st_web\""), "%s", got);
    cr_assert_not_null(strstr(got, "\"k\" = \"%%{x} $${y}\""), "%s", got);
    free(got);
}

Test(render, a_posture_that_does_not_parse_is_an_error)
{
    char *got = NULL;
    cr_assert_eq(render("kind: SecurityGroupPosture\nmetadata: {name: web}\nspec:\n"
                        "  groupName: a\n  ingress: [{protocol: tcp, fromPort: 9, toPort: 1, "
                        "cidrs: [10.0.0.0/8]}]\n",
                        false, &got),
                 NP_EINVAL);
    cr_assert_not_null(strstr(np_error_message(), "SecurityGroupPosture web: spec.ingress[0]"));
    free(got);
    cr_assert_eq(render("kind: ConfigMap\nmetadata: {name: x}\n", false, &got), NP_EINVAL);
    free(got);
}

Test(render, usage_errors_exit_2)
{
    cr_redirect_stderr();
    char *no_target[] = {"netposturectl", "render", "f.yaml", NULL};
    cr_assert_eq(np_cli_main(3, no_target), NP_CLI_EXIT_USAGE);
    char *other[] = {"netposturectl", "render", "pulumi", "f.yaml", NULL};
    cr_assert_eq(np_cli_main(4, other), NP_CLI_EXIT_USAGE);
    char *missing[] = {"netposturectl", "render", "terraform", "/nonexistent.yaml", NULL};
    cr_assert_eq(np_cli_main(4, missing), NP_CLI_EXIT_USAGE);
}
