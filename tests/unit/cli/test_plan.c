/*
 * plan's computation without AWS: a posture against a group as Describe decodes it gives the
 * controller's plan text, the summary counts and the plan id (np_posture_plan_id over the text
 * and the group's fingerprint); exceptions leave their drift out; a missing group is created.
 * The same for a VPCPosture against a VPC as pkg/observe matched it, guardrails ordering it.
 */
#include "../observe/vpc_fixture.h"
#include "cli/private/cli_private.h"
#include "spec_helpers.h"

#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static void compute(struct np_cli_plan *p, const char *spec_json, const struct np_aws_sg *sg)
{
    struct np_posture_sg_spec *spec = test_spec_of(spec_json);
    struct np_posture_ruleset want = {0};
    cr_assert_eq(np_posture_desired(&want, spec), 0);
    cr_assert_eq(np_cli_sg_plan_compute(p, spec, &want, sg, NULL, "shop", "web", 1700000000000LL),
                 0);
    np_posture_ruleset_clean_up(&want);
    np_posture_sg_spec_destroy(spec);
}

Test(plan, a_converged_group_has_an_empty_plan_and_no_id)
{
    struct np_aws_sg sg = group();
    sg.n_ingress = 1;
    struct np_cli_plan p;
    compute(&p, WEB "}", &sg);
    cr_assert_eq(p.n, 0);
    cr_assert_null(p.id);
    cr_assert_eq(p.add + p.change + p.remove, 0);
    np_cli_plan_clean_up(&p);
}

Test(plan, drift_gives_the_controllers_plan_text_counts_and_id)
{
    struct np_aws_sg sg = group();
    struct np_cli_plan p;
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
    np_cli_plan_clean_up(&p);
}

Test(plan, the_id_binds_the_observed_state)
{
    struct np_aws_sg sg = group();
    struct np_cli_plan a, b;
    compute(&a, WEB "}", &sg);
    compute(&b, WEB "}", &sg);
    cr_assert_str_eq(a.id, b.id);
    np_cli_plan_clean_up(&b);
    sg.n_tags = 1; /* an ownership tag gone: same text, another state, another id */
    compute(&b, WEB "}", &sg);
    cr_assert_str_eq(a.lines[0], b.lines[0]);
    cr_assert_str_neq(a.id, b.id);
    np_cli_plan_clean_up(&a);
    np_cli_plan_clean_up(&b);
}

Test(plan, a_live_exception_leaves_its_drift_out)
{
    struct np_aws_sg sg = group();
    struct np_cli_plan p;
    compute(&p,
            WEB ", \"remediation\": {\"exceptions\": [{\"rule\": {\"direction\": \"ingress\", "
                "\"protocol\": \"tcp\", \"fromPort\": 22, \"toPort\": 22}, \"expires\": "
                "\"2099-01-01T00:00:00Z\"}]}}",
            &sg);
    cr_assert_eq(p.n, 0);
    cr_assert_eq(p.excepted, 1);
    np_cli_plan_clean_up(&p);
}

Test(plan, a_missing_group_is_created_with_its_rules)
{
    struct np_cli_plan p;
    compute(&p, WEB ", \"egress\": []}", NULL);
    cr_assert_eq(p.n, 4);
    cr_assert_str_eq(p.lines[0], "create security group web");
    cr_assert_str_eq(p.lines[1], "authorize ingress tcp 443 10.0.0.0/8");
    cr_assert_str_eq(p.lines[2], "tag set team=shop");
    cr_assert_str_eq(p.lines[3], "revoke egress all 0.0.0.0/0");
    cr_assert_null(p.id);
    cr_assert_eq(p.add, 3);
    cr_assert_eq(p.remove, 1);
    np_cli_plan_clean_up(&p);
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

/* ---------------------------------------------------------------- VPCPostures */

/* The plan of spec against the fixture VPC (o NULL: a VPC to create), and its delta. */
static void compute_vpc(struct np_cli_plan *p, const char *spec_json, bool exists,
                        const struct np_cli_guardrails *gr, struct np_posture_delta *delta)
{
    struct np_posture_vpc_spec *spec = test_vpc_spec(spec_json);
    struct np_observe_vpc o;
    test_vpc_fill(&o);
    np_observe_vpc_settle(&o, spec, TEST_VPC_UID, NULL);
    cr_assert_eq(
        np_cli_vpc_plan_compute(p, spec, exists ? &o : NULL, gr, "shop", "main", 1700000000000LL),
        0);
    if (delta) {
        cr_assert_eq(np_posture_vpc_diff(delta, spec, &o.view), 0);
        if (gr)
            np_posture_vpc_guardrail_mark(delta, spec, &o.view, gr->items, gr->n, "shop", "main");
    }
    test_vpc_release(&o);
    np_posture_vpc_spec_destroy(spec);
}

Test(plan_vpc, a_converged_vpc_has_an_empty_plan_and_no_id)
{
    struct np_cli_plan p;
    compute_vpc(&p, TEST_VPC_SPEC "}", true, NULL, NULL);
    cr_assert_eq(p.n, 0);
    cr_assert_null(p.id);
    np_cli_plan_clean_up(&p);
}

/* The route retargeted, an entry missing, a tag changed: the controller's plan text; the id is
 * np_posture_plan_id over it and the fingerprint of the drift as read. */
#define VPC_DRIFTED                                                                                \
    "{\"cidrBlock\": \"10.0.0.0/16\", \"tags\": {\"team\": \"web\"}, "                             \
    "\"subnets\": [{\"name\": \"a\", \"cidrBlock\": \"10.0.1.0/24\"}], "                           \
    "\"routeTables\": [{\"name\": \"private\", \"subnets\": [\"a\"], \"routes\": "                 \
    "[{\"destinationCidrBlock\": \"0.0.0.0/0\", \"natGatewayId\": \"nat-0a000002\"}]}], "          \
    "\"networkAcls\": [{\"name\": \"private\", \"subnets\": [\"a\"], \"entries\": []}]"

Test(plan_vpc, drift_gives_the_controllers_plan_text_counts_and_id)
{
    struct np_cli_plan p;
    struct np_posture_delta d = {0};
    compute_vpc(&p, VPC_DRIFTED "}", true, NULL, &d);
    cr_assert_eq(p.n, 3);
    cr_assert_str_eq(p.lines[0],
                     "route replace routeTable/private 0.0.0.0/0 natGatewayId nat-0a000002");
    cr_assert_str_eq(p.lines[1], "tag set vpc team=web");
    cr_assert_str_eq(p.lines[2], "entry delete networkAcl/private ingress 100");
    cr_assert_eq(p.add + p.change + p.remove, 3);
    cr_assert_eq(p.remove, 1);
    char *id = np_posture_plan_id(p.lines, np_posture_vpc_fingerprint(&d, "vpc-0a000001"),
                                  np_aws_sha256_hex);
    cr_assert_str_eq(p.id, id);
    free(id);
    np_posture_delta_clean_up(&d);
    np_cli_plan_clean_up(&p);
}

Test(plan_vpc, a_governing_guardrail_puts_its_removal_first)
{
    json_object *g = json_tokener_parse(
        "{\"rules\": [{\"id\": \"no-https-from-10\", \"deny\": {\"resources\": [\"networkAcls\"], "
        "\"cidrs\": [\"10.0.0.0/8\"]}}]}");
    struct np_posture_guardrail *gr = NULL;
    cr_assert_eq(np_posture_guardrail_parse(&gr, "corp", g), 0, "%s", np_error_message());
    const struct np_posture_guardrail *list[] = {gr};
    struct np_cli_guardrails gs = {list, 1};
    struct np_cli_plan plain, marked;
    compute_vpc(&plain, VPC_DRIFTED "}", true, NULL, NULL);
    compute_vpc(&marked, VPC_DRIFTED "}", true, &gs, NULL);
    cr_assert_str_eq(plain.lines[2], "entry delete networkAcl/private ingress 100");
    cr_assert_str_eq(marked.lines[0], "entry delete networkAcl/private ingress 100");
    cr_assert_str_neq(plain.id, marked.id, "the order is in the id");
    np_cli_plan_clean_up(&plain);
    np_cli_plan_clean_up(&marked);
    np_posture_guardrail_destroy(gr);
    json_object_put(g);
}

Test(plan_vpc, a_missing_vpc_is_created_with_its_pieces)
{
    struct np_cli_plan p;
    compute_vpc(&p, TEST_VPC_SPEC ", \"enableDnsHostnames\": true}", false, NULL, NULL);
    cr_assert_eq(p.n, 5);
    cr_assert_str_eq(p.lines[0], "create vpc 10.0.0.0/16");
    cr_assert_str_eq(p.lines[1], "create subnet/a 10.0.1.0/24");
    cr_assert_str_eq(p.lines[2], "create routeTable/private");
    cr_assert_str_eq(p.lines[3], "create networkAcl/private");
    cr_assert_str_eq(p.lines[4], "set vpc enableDnsHostnames true");
    cr_assert_null(p.id);
    cr_assert_eq(p.add, 4);
    np_cli_plan_clean_up(&p);
}

/* A posture a Deny guardrail forbids is refused before any AWS call, as the controller refuses
 * it (GuardrailViolation) and plans nothing; a Warn guardrail does not stop the plan. */
Test(plan_vpc, a_deny_guardrail_refuses_the_posture_before_aws)
{
    cr_redirect_stdout();
    cr_redirect_stderr();
    char gpath[] = "/tmp/np-plan-guardrail-XXXXXX";
    int fd = mkstemp(gpath);
    cr_assert_geq(fd, 0);
    static const char g[] = "apiVersion: netposture.dev/v1alpha1\nkind: PostureGuardrail\n"
                            "metadata: {name: corp}\nspec:\n  rules:\n  - id: no-corp-https\n"
                            "    deny: {resources: [networkAcls], cidrs: [172.16.0.0/12]}\n";
    cr_assert_eq(write(fd, g, sizeof(g) - 1), (ssize_t)(sizeof(g) - 1));
    close(fd);
    char *argv[] = {"netposturectl",
                    "plan",
                    "--region",
                    "us-east-1",
                    "--endpoint-url",
                    "http://127.0.0.1:1",
                    "--guardrails",
                    gpath,
                    "tests/fixtures/ctl/render/main.yaml",
                    NULL};
    cr_assert_eq(np_cli_main(9, argv), NP_CLI_EXIT_USAGE);
    fflush(stderr);
    unlink(gpath);
    cr_assert_stderr_eq_str(
        "netposturectl plan: VPCPosture shop/main: guardrail corp rule no-corp-https (Deny) "
        "forbids networkAcl/private ingress 110 allow tcp 443 172.16.0.0/12; the controller "
        "refuses the posture (Ready=False GuardrailViolation) and plans nothing\n");
}
