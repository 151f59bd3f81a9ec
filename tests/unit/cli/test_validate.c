/*
 * netposturectl validate: messages and line numbers on bad files, the admission corpus
 * (tests/fixtures/ctl/reject/ each refused on its expected field, accept/ and the shipped
 * samples passing), guardrail findings, every CRD rule having a C port, YAML typing and the
 * command line's exit codes. Run from the repository root.
 */
#include "cli/private/cli_private.h"

#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

static struct np_cli_validator *validator(void)
{
    struct np_cli_validator *v = NULL;
    cr_assert_eq(np_cli_validator_new(&v), 0, "%s", np_error_message());
    return v;
}

static void validate_str(struct np_cli_findings *out, const char *text)
{
    struct np_cli_validator *v = validator();
    np_cli_validate_text(v, "t.yaml", text, strlen(text), NULL, out);
    np_cli_validator_destroy(v);
}

/* All findings as text lines, one per line (owned). */
static char *lines_of(const struct np_cli_findings *f)
{
    struct np_buf b;
    np_buf_init(&b);
    for (size_t i = 0; i < f->n; i++) {
        char *t = np_cli_finding_text(&f->items[i]);
        np_buf_appendf(&b, "%s\n", t);
        free(t);
    }
    return np_buf_take(&b);
}

Test(validate, messages_carry_file_line_column_kind_and_field)
{
    const char *text =
        "apiVersion: netposture.dev/v1alpha1\n"
        "kind: SecurityGroupPosture\n"
        "metadata: {name: web, namespace: shop}\n"
        "spec:\n"
        "  groupName: sg-web\n"
        "  ingress:\n"
        "  - protocol: tcp\n"
        "    fromPort: 443\n"
        "    toPort: 443\n"
        "    cidrs: [10.0.0.0/33]\n"
        "  bogus: 1\n"
        "---\n"
        "apiVersion: netposture.dev/v1alpha1\n"
        "kind: VPCPosture\n"
        "metadata: {name: main}\n"
        "spec:\n"
        "  cidrBlock: 10.0.0.0/16\n"
        "  networkAcls:\n"
        "  - name: x\n"
        "    entries:\n"
        "    - {ruleNumber: 100, protocol: tcp, action: allow, cidrBlock: 10.0.0.0/8}\n";
    struct np_cli_findings f = {0};
    validate_str(&f, text);
    char *got = lines_of(&f);
    cr_expect_str_eq(
        got,
        "t.yaml:5:3: SecurityGroupPosture shop/web: spec.groupName: Invalid value: \"string\": "
        "groupName cannot start with sg- (AWS reserves it)\n"
        "t.yaml:10:13: SecurityGroupPosture shop/web: spec.ingress[0].cidrs[0]: Invalid value: "
        "\"string\": \"10.0.0.0/33\" is not an IPv4 CIDR such as 10.0.0.0/8 (IPv6 goes in "
        "ipv6Cidrs)\n"
        "t.yaml:11:3: SecurityGroupPosture shop/web: spec.bogus: unknown field \"spec.bogus\"\n"
        "t.yaml:21:7: VPCPosture default/main: spec.networkAcls[0].entries[0]: Invalid value: "
        "\"object\": tcp and udp entries need fromPort and toPort\n",
        "%s", got);
    free(got);
    np_cli_findings_clean_up(&f);
}

Test(validate, list_map_keys_are_unique)
{
    const char *text = "apiVersion: netposture.dev/v1alpha1\n"
                       "kind: VPCPosture\n"
                       "metadata: {name: main, namespace: net}\n"
                       "spec:\n"
                       "  cidrBlock: 10.0.0.0/16\n"
                       "  subnets:\n"
                       "  - {name: a, cidrBlock: 10.0.1.0/24}\n"
                       "  - {name: a, cidrBlock: 10.0.2.0/24}\n";
    struct np_cli_findings f = {0};
    validate_str(&f, text);
    cr_assert_eq(f.n, 1, "findings: %zu", f.n);
    cr_expect_str_eq(f.items[0].field, "spec.subnets[1]");
    cr_expect_str_eq(f.items[0].message, "Duplicate value: {\"name\":\"a\"}");
    cr_expect_eq(f.items[0].line, 8);
    np_cli_findings_clean_up(&f);
}

Test(validate, yaml_syntax_error_has_its_position)
{
    struct np_cli_findings f = {0};
    validate_str(&f, "apiVersion: v1\nkind: [unclosed\n");
    cr_assert_eq(f.n, 1);
    cr_expect_eq(f.items[0].line, 3);
    cr_expect_eq(f.items[0].severity, NP_CLI_ERROR);
    np_cli_findings_clean_up(&f);
}

Test(validate, other_kinds_are_skipped_and_unknown_netposture_kinds_refused)
{
    struct np_cli_findings f = {0};
    validate_str(&f, "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\n"
                     "apiVersion: netposture.dev/v1alpha1\nkind: Firewall\nmetadata: {name: x}\n");
    cr_assert_eq(f.n, 1);
    cr_expect(strstr(f.items[0].message, "Firewall") != NULL);
    cr_expect_eq(f.items[0].line, 5);
    np_cli_findings_clean_up(&f);
}

/* ---------------------------------------------------------------- guardrails */

Test(validate, guardrails_deny_is_an_error_warn_a_warning_on_the_rule_line)
{
    const char *rails =
        "apiVersion: netposture.dev/v1alpha1\nkind: PostureGuardrail\n"
        "metadata: {name: no-ssh}\nspec:\n  rules:\n"
        "  - {id: ssh, deny: {direction: ingress, ports: [22], cidrs: [0.0.0.0/0]}}\n"
        "---\napiVersion: netposture.dev/v1alpha1\nkind: PostureGuardrail\n"
        "metadata: {name: no-rdp}\nspec:\n  enforcement: Warn\n  rules:\n"
        "  - {id: rdp, deny: {direction: ingress, ports: [3389]}}\n";
    const char *sgp = "apiVersion: netposture.dev/v1alpha1\nkind: SecurityGroupPosture\n"
                      "metadata: {name: web, namespace: shop}\nspec:\n  groupName: web\n"
                      "  ingress:\n"
                      "  - {protocol: tcp, fromPort: 443, toPort: 443, cidrs: [0.0.0.0/0]}\n"
                      "  - {protocol: tcp, fromPort: 22, toPort: 22, cidrs: [0.0.0.0/0]}\n"
                      "  - {protocol: tcp, fromPort: 3389, toPort: 3389, cidrs: [10.0.0.0/8]}\n";
    struct np_cli_validator *v = validator();
    struct np_cli_findings f = {0};
    np_cli_validator_add_guardrails(v, "g.yaml", rails, strlen(rails), &f);
    cr_assert_eq(f.n, 0, "guardrail findings: %zu", f.n);
    np_cli_validate_text(v, "p.yaml", sgp, strlen(sgp), NULL, &f);
    char *got = lines_of(&f);
    cr_expect_str_eq(got,
                     "p.yaml:8:5: SecurityGroupPosture shop/web: spec.ingress[1]: guardrail no-ssh "
                     "rule ssh forbids ingress tcp 22 0.0.0.0/0\n"
                     "p.yaml:9:5: SecurityGroupPosture shop/web: spec.ingress[2]: warning: "
                     "guardrail no-rdp rule rdp forbids ingress tcp 3389 10.0.0.0/8\n",
                     "%s", got);
    cr_expect_eq(np_cli_findings_count(&f, NP_CLI_ERROR), 1);
    free(got);
    np_cli_findings_clean_up(&f);
    np_cli_validator_destroy(v);
}

/* ---------------------------------------------------------------- corpus */

/* The value of a `# key: value` header line of text (owned), NULL when absent. */
static char *header(const char *text, const char *key)
{
    char *tag = np_strdupf("# %s: ", key);
    const char *p = strstr(text, tag);
    char *v = NULL;
    if (p) {
        p += strlen(tag);
        v = np_strndup(p, strcspn(p, "\n"));
    }
    free(tag);
    return v;
}

/* Validates every *.yaml of dir; calls check(path, text, findings) on each; returns how many. */
static size_t each_file(const char *dir,
                        void (*check)(const char *, const char *, const struct np_cli_findings *))
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "cannot open %s (run from the repository root)", dir);
    struct dirent *e;
    size_t n = 0;
    struct np_cli_validator *v = validator();
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 5, ".yaml") != 0)
            continue;
        char *path = np_strdupf("%s/%s", dir, e->d_name), *text = NULL;
        size_t tlen = 0;
        cr_assert_eq(np_cli_read_input(&text, &tlen, path), 0, "%s", np_error_message());
        struct np_cli_findings f = {0};
        np_cli_validate_text(v, path, text, tlen, "corpus", &f);
        check(path, text, &f);
        np_cli_findings_clean_up(&f);
        free(text);
        free(path);
        n++;
    }
    closedir(d);
    np_cli_validator_destroy(v);
    return n;
}

static void expect_rejected(const char *path, const char *text, const struct np_cli_findings *f)
{
    char *want = header(text, "field");
    cr_assert_not_null(want, "%s has no `# field:` line", path);
    bool found = false;
    for (size_t i = 0; i < f->n; i++)
        found |= f->items[i].severity == NP_CLI_ERROR && strcmp(f->items[i].field, want) == 0 &&
                 f->items[i].line > 0;
    char *got = lines_of(f);
    cr_expect(found, "%s: no error on %s with a line; got:\n%s", path, want, got);
    free(got);
    free(want);
}

static void expect_accepted(const char *path, const char *text, const struct np_cli_findings *f)
{
    (void)text;
    char *got = lines_of(f);
    cr_expect_eq(np_cli_findings_count(f, NP_CLI_ERROR), 0, "%s refused:\n%s", path, got);
    free(got);
}

Test(corpus, every_admission_rejection_is_rejected_on_its_field)
{
    cr_expect_gt(each_file("tests/fixtures/ctl/reject", expect_rejected), 100);
}

Test(corpus, every_accepted_object_and_sample_passes)
{
    cr_expect_gt(each_file("tests/fixtures/ctl/accept", expect_accepted), 10);
    cr_expect_gt(each_file("manifests/samples", expect_accepted), 3);
    cr_expect_gt(each_file("manifests/guardrails", expect_accepted), 0);
}

/* ---------------------------------------------------------------- CEL ports */

static void expect_rule_ported(void *ctx, json_object *r, const char *rule)
{
    (void)r;
    json_object *empty = json_object_new_object();
    bool holds = false;
    char *msg = NULL;
    cr_expect_eq(np_cli_cel_check(rule, NULL, empty, &holds, &msg), 0, "%s", np_error_message());
    free(msg);
    json_object_put(empty);
    (*(size_t *)ctx)++;
}

static void expect_ported(json_object *schema, size_t *n)
{
    np_cli_schema_each_rule(schema, expect_rule_ported, n);
    json_object_object_foreach(schema, k, sub)
    {
        if (strcmp(k, "properties") == 0) {
            json_object_object_foreach(sub, pk, prop)
            {
                (void)pk;
                expect_ported(prop, n);
            }
        } else if ((strcmp(k, "items") == 0 || strcmp(k, "additionalProperties") == 0) &&
                   json_object_is_type(sub, json_type_object)) {
            expect_ported(sub, n);
        }
    }
}

Test(cel, every_crd_rule_has_a_c_port)
{
    struct np_cli_crds crds;
    cr_assert_eq(np_cli_crds_load(&crds), 0, "%s", np_error_message());
    cr_expect_eq(crds.n, 4);
    size_t n = 0;
    for (size_t i = 0; i < crds.n; i++)
        expect_ported(crds.items[i].schema, &n);
    cr_expect_gt(n, 60, "rules checked: %zu", n);
    np_cli_crds_clean_up(&crds);
}

Test(cel, message_expressions_are_evaluated)
{
    json_object *self = json_object_new_string("10.0.0.0/33");
    bool holds = true;
    char *msg = NULL;
    cr_assert_eq(np_cli_cel_check("isCIDR(self) && cidr(self).ip().family() == 4",
                                  "'\"' + self + '\" is not an IPv4 CIDR'", self, &holds, &msg),
                 0);
    cr_expect(!holds);
    cr_expect_str_eq(msg, "\"10.0.0.0/33\" is not an IPv4 CIDR");
    free(msg);
    json_object_put(self);
}

/* ---------------------------------------------------------------- pieces */

Test(match, ecma_patterns_run_as_posix)
{
    bool ok = false;
    const char *desc = "^[a-zA-Z0-9 ._\\-:/()#,@\\[\\]+=&;{}!$*]*$";
    cr_expect(np_cli_pattern_matches(desc, "web [prod] - a/b", &ok) && ok);
    cr_expect(!np_cli_pattern_matches(desc, "tab\there", &ok) && ok);
    cr_expect(np_cli_pattern_matches("^https?://[^\\s]+$", "https://x", &ok) && ok);
    cr_expect(!np_cli_pattern_matches("^https?://[^\\s]+$", "https://x y", &ok) && ok);
}

Test(match, cidrs_as_cel_reads_them)
{
    struct np_cli_cidr a, b;
    cr_expect(np_cli_cidr_parse("10.1.2.3/8", &a) && a.family == 4 && a.bits == 8);
    cr_expect(!np_cli_cidr_parse("10.0.0/16", &a));
    cr_expect(!np_cli_cidr_parse("10.0.0.0/33", &a));
    cr_expect(!np_cli_cidr_parse("010.0.0.0/8", &a));
    cr_expect(np_cli_cidr_parse("2001:db8::/32", &a) && a.family == 6);
    cr_assert(np_cli_cidr_parse("10.0.0.0/16", &a) && np_cli_cidr_parse("10.0.1.0/24", &b));
    cr_expect(np_cli_cidr_contains(&a, &b) && !np_cli_cidr_contains(&b, &a));
}

Test(yaml, scalars_are_typed_as_kubectl_types_them_and_marked)
{
    const char *text = "a: 5\nb: \"5\"\nc: true\nd: null\ne: 2.5\nf: [x, 0x10]\n";
    struct np_cli_docs docs;
    int line, col;
    cr_assert_eq(np_cli_yaml_load(&docs, text, strlen(text), &line, &col), 0);
    json_object *r = docs.items[0].root;
    cr_expect(json_object_is_type(json_object_object_get(r, "a"), json_type_int));
    cr_expect(json_object_is_type(json_object_object_get(r, "b"), json_type_string));
    cr_expect(json_object_is_type(json_object_object_get(r, "c"), json_type_boolean));
    cr_expect_null(json_object_object_get(r, "d"));
    cr_expect(json_object_is_type(json_object_object_get(r, "e"), json_type_double));
    cr_expect_eq(json_object_get_int(json_object_array_get_idx(json_object_object_get(r, "f"), 1)),
                 16);
    const struct np_cli_mark *m = np_cli_doc_mark(&docs.items[0], "f[1].deeper");
    cr_assert_not_null(m);
    cr_expect_str_eq(m->path, "f[1]");
    cr_expect_eq(m->line, 6);
    cr_expect_eq(m->column, 8);
    np_cli_docs_clean_up(&docs);
}

/* ---------------------------------------------------------------- command line */

static int run(int argc, const char **argv)
{
    return np_cli_main(argc, (char **)argv);
}

Test(command, exit_codes)
{
    cr_redirect_stdout();
    cr_redirect_stderr();
    cr_expect_eq(run(1, (const char *[]){"netposturectl", NULL}), NP_CLI_EXIT_USAGE);
    cr_expect_eq(run(2, (const char *[]){"netposturectl", "--help", NULL}), NP_CLI_EXIT_OK);
    cr_expect_eq(run(2, (const char *[]){"netposturectl", "nope", NULL}), NP_CLI_EXIT_USAGE);
    cr_expect_eq(run(3, (const char *[]){"kubectl-netposture", "validate", "--help", NULL}),
                 NP_CLI_EXIT_OK);
    cr_expect_eq(run(2, (const char *[]){"netposturectl", "validate", NULL}), NP_CLI_EXIT_USAGE);
    cr_expect_eq(run(3, (const char *[]){"netposturectl", "validate", "/nonexistent.yaml", NULL}),
                 NP_CLI_EXIT_USAGE);
    cr_expect_eq(run(4, (const char *[]){"netposturectl", "validate", "-o", "xml", "x.yaml", NULL}),
                 NP_CLI_EXIT_USAGE);
    cr_expect_eq(run(3, (const char *[]){"netposturectl", "validate",
                                         "manifests/samples/securitygroupposture-web.yaml", NULL}),
                 NP_CLI_EXIT_OK);
    cr_expect_eq(run(3, (const char *[]){"netposturectl", "validate",
                                         "tests/fixtures/ctl/reject/test_sgp-148.yaml", NULL}),
                 NP_CLI_EXIT_FINDINGS);
    cr_expect_str_eq(np_cli_prog("/usr/bin/kubectl-netposture"), "kubectl netposture");
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

Test(validate, a_finding_is_one_line_whatever_the_file_holds)
{
    struct np_cli_findings f = {0};
    validate_str(&f, "apiVersion: netposture.dev/v1alpha1\n"
                     "kind: SecurityGroupPosture\n"
                     "metadata: {name: \"web\\e[2J\", namespace: shop}\n"
                     "spec:\n"
                     "  groupName: sg-web\n"
                     "  ingress:\n"
                     "  - protocol: tcp\n"
                     "    fromPort: 443\n"
                     "    toPort: 443\n"
                     "    cidrs: [\"10.0.0.0/8\\nt.yaml:1:1: forged\"]\n");
    cr_assert_gt(f.n, 0);
    char *got = lines_of(&f);
    cr_expect_null(strchr(got, '\x1b'), "%s", got);
    cr_expect_eq(count_lines(got), f.n, "%s", got);
    cr_expect_not_null(strstr(got, "web\\x1b[2J"), "%s", got);
    free(got);
    np_cli_findings_clean_up(&f);

    np_cli_findings_add(&f, &(struct np_cli_finding){.severity = NP_CLI_WARNING,
                                                     .file = "a\tb.yaml",
                                                     .line = 1,
                                                     .column = 2,
                                                     .kind = "VPCPosture",
                                                     .ns = "n\r",
                                                     .name = "x\xc2\x9b",
                                                     .field = "spec\n",
                                                     .message = "m\x7f\xff"});
    got = np_cli_finding_text(&f.items[0]);
    cr_expect_str_eq(got,
                     "a\\tb.yaml:1:2: VPCPosture n\\r/x\\u009b: spec\\n: warning: m\\x7f\\xff");
    free(got);
    np_cli_findings_clean_up(&f);
}
