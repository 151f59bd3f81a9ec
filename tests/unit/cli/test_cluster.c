/*
 * The pure parts of status and approve: a posture object as a status row, the table with drift
 * items and the held plan under each row, the plan as approve prints it, and the commands'
 * usage errors (no cluster needed for those).
 */
#include "cli/private/cli_private.h"

#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdlib.h>
#include <string.h>

static const char POSTURE[] =
    "{\"kind\":\"SecurityGroupPosture\",\"metadata\":{\"name\":\"web\",\"namespace\":\"shop\"},"
    "\"spec\":{\"remediation\":{\"mode\":\"Propose\"}},"
    "\"status\":{\"conditions\":["
    "{\"type\":\"Ready\",\"status\":\"False\",\"reason\":\"PlanProposed\"},"
    "{\"type\":\"Drifted\",\"status\":\"True\",\"reason\":\"DriftDetected\"},"
    "{\"type\":\"Contested\",\"status\":\"False\",\"reason\":\"NotContested\"}],"
    "\"drift\":{\"count\":1,\"items\":[{\"direction\":\"ingress\",\"change\":\"Extra\","
    "\"rule\":\"tcp 22 0.0.0.0/0\",\"state\":\"Proposed\",\"firstSeen\":\"2026-01-02T03:04:05Z\","
    "\"actor\":\"arn:aws:iam::123456789012:user/bob\"}]},"
    "\"plan\":{\"id\":\"sha256:abc\",\"reason\":\"Propose mode: approve to apply\","
    "\"actions\":[\"revoke ingress tcp 22 0.0.0.0/0\"]}}}";

static char *render_table(json_object *rows)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_not_null(f);
    np_cli_status_table(f, rows);
    fclose(f);
    return buf;
}

Test(status, a_row_and_its_drift_items_and_plan)
{
    json_object *obj = json_tokener_parse(POSTURE);
    json_object *rows = json_object_new_array();
    json_object_array_add(rows, np_cli_status_row(obj));
    char *got = render_table(rows);
    cr_expect_str_eq(
        got,
        "KIND                  NAMESPACE  NAME  READY  REASON        DRIFTED  CONTESTED  MODE\n"
        "SecurityGroupPosture  shop       web   False  PlanProposed  True     False      Propose\n"
        "    ingress Extra tcp 22 0.0.0.0/0: Proposed, actor arn:aws:iam::123456789012:user/bob, "
        "first seen 2026-01-02T03:04:05Z\n"
        "    plan sha256:abc held (approve: kubectl netposture approve -n shop web)\n",
        "%s", got);
    free(got);
    json_object_put(rows);
    json_object_put(obj);
}

Test(status, a_posture_without_status_shows_dashes)
{
    json_object *obj = json_tokener_parse(
        "{\"kind\":\"VPCPosture\",\"metadata\":{\"name\":\"main\",\"namespace\":\"n\"}}");
    json_object *row = np_cli_status_row(obj);
    cr_expect_str_eq(json_object_get_string(json_object_object_get(row, "ready")), "-");
    cr_expect_str_eq(json_object_get_string(json_object_object_get(row, "mode")), "Enforce");
    cr_expect_eq(np_cli_len(json_object_object_get(row, "drift")), 0);
    json_object_put(row);
    json_object_put(obj);
}

Test(approve, the_plan_is_printed_action_by_action)
{
    json_object *obj = json_tokener_parse(POSTURE);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    np_cli_plan_print(f, obj);
    fclose(f);
    cr_expect_str_eq(buf, "plan sha256:abc of SecurityGroupPosture shop/web\n"
                          "  Propose mode: approve to apply\n"
                          "  revoke ingress tcp 22 0.0.0.0/0\n");
    free(buf);
    json_object_put(obj);
}

Test(approve, usage_errors_need_no_cluster)
{
    cr_redirect_stderr();
    cr_redirect_stdout();
    cr_expect_eq(np_cli_main(2, (char *[]){"netposturectl", "approve", NULL}), NP_CLI_EXIT_USAGE);
    cr_expect_eq(np_cli_main(3, (char *[]){"netposturectl", "approve", "--help", NULL}),
                 NP_CLI_EXIT_OK);
    cr_expect_eq(np_cli_main(5, (char *[]){"netposturectl", "approve", "a", "b", "--yes", NULL}),
                 NP_CLI_EXIT_USAGE);
    cr_expect_eq(np_cli_main(4, (char *[]){"netposturectl", "status", "-o", "xml", NULL}),
                 NP_CLI_EXIT_USAGE);
    cr_expect_eq(np_cli_main(3, (char *[]){"netposturectl", "status", "--help", NULL}),
                 NP_CLI_EXIT_OK);
}

/* ---------------------------------------------------------------- untrusted strings */

Test(visible, control_characters_and_invalid_utf8_are_escaped)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"plain-name", "plain-name"},
        {"a\nb\tc\rd", "a\\nb\\tc\\rd"},
        {"\x1b[2J\x07\x7f", "\\x1b[2J\\x07\\x7f"},
        {"csi\xc2\x9b"
         "31m nel\xc2\x85",
         "csi\\u009b31m nel\\u0085"}, /* C1 as UTF-8 */
        {"raw\x9b"
         "31m",
         "raw\\x9b31m"},                                       /* C1 as one byte */
        {"bad\xff\xc3", "bad\\xff\\xc3"},                      /* invalid, truncated */
        {"\xc0\xaf\xed\xa0\x80", "\\xc0\\xaf\\xed\\xa0\\x80"}, /* overlong, surrogate */
        {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92 \xc2\xa0", "caf\xc3\xa9 \xe2\x82\xac "
                                                               "\xf0\x9f\x94\x92 \xc2\xa0"},
        {"back\\slash", "back\\slash"},
    };
    for (size_t i = 0; i < NP_ARRAY_LEN(cases); i++) {
        char *got = np_cli_visible(cases[i].in);
        cr_expect_str_eq(got, cases[i].want, "case %zu", i);
        free(got);
    }
    char *none = np_cli_visible(NULL);
    cr_expect_str_eq(none, "");
    free(none);
}

/* A posture whose every cluster-sourced string tries to reach the terminal or forge a row. */
static const char HOSTILE[] =
    "{\"kind\":\"SecurityGroupPosture\",\"metadata\":{\"name\":\"web\\u001b[2J\","
    "\"namespace\":\"shop\"},"
    "\"status\":{\"conditions\":["
    "{\"type\":\"Ready\",\"status\":\"True\",\"reason\":\"Converged\\nSecurityGroupPosture  "
    "shop  forged  True\"}],"
    "\"drift\":{\"count\":1,\"items\":[{\"direction\":\"ingress\",\"change\":\"Extra\","
    "\"rule\":\"tcp 22 0.0.0.0/0\\r\",\"state\":\"Revoked\\u009b2K\","
    "\"actor\":\"arn:aws:iam::1:user/\\u001b]8;;http://x\\u0007eve\"}]},"
    "\"plan\":{\"id\":\"sha256:abc\\n    plan sha256:fake\",\"reason\":\"why\\u001b[1A\","
    "\"actions\":[\"revoke ingress tcp 22 0.0.0.0/0\\nauthorize ingress all 0.0.0.0/0\"]}}}";

static size_t count_char(const char *s, char c)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == c;
    return n;
}

Test(status, cluster_strings_cannot_forge_rows_or_reach_the_terminal)
{
    json_object *obj = json_tokener_parse(HOSTILE);
    cr_assert_not_null(obj);
    json_object *rows = json_object_new_array();
    json_object_array_add(rows, np_cli_status_row(obj));
    char *got = render_table(rows);
    cr_expect_str_eq(
        got,
        "KIND                  NAMESPACE  NAME        READY  "
        "REASON                                               DRIFTED  CONTESTED  MODE\n"
        "SecurityGroupPosture  shop       web\\x1b[2J  True   "
        "Converged\\nSecurityGroupPosture  shop  forged  True  -        -          Enforce\n"
        "    ingress Extra tcp 22 0.0.0.0/0\\r: Revoked\\u009b2K, actor "
        "arn:aws:iam::1:user/\\x1b]8;;http://x\\x07eve\n"
        "    plan sha256:abc\\n    plan sha256:fake held (approve: kubectl netposture approve "
        "-n shop web\\x1b[2J)\n",
        "%s", got);
    cr_expect_eq(count_char(got, '\n'), 4); /* header, row, drift item, plan */
    cr_expect_null(strchr(got, '\x1b'));
    cr_expect_null(strchr(got, '\r'));
    free(got);

    /* JSON output stays exact: the same strings, escaped only as JSON escapes them. */
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_eq(np_cli_print_data(f, rows, NP_CLI_JSON), 0);
    fclose(f);
    json_object *back = json_tokener_parse(buf);
    cr_expect(json_object_equal(back, rows), "%s", buf);
    json_object_put(back);
    free(buf);
    json_object_put(rows);
    json_object_put(obj);
}

Test(approve, the_printed_plan_cannot_forge_lines)
{
    json_object *obj = json_tokener_parse(HOSTILE);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    np_cli_plan_print(f, obj);
    fclose(f);
    cr_expect_str_eq(buf, "plan sha256:abc\\n    plan sha256:fake of SecurityGroupPosture "
                          "shop/web\\x1b[2J\n"
                          "  why\\x1b[1A\n"
                          "  revoke ingress tcp 22 0.0.0.0/0\\nauthorize ingress all 0.0.0.0/0\n");
    free(buf);
    json_object_put(obj);
}
