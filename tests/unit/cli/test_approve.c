/*
 * approve against the scripted API server of tests/unit/kube: the annotation is written with
 * the resourceVersion the plan was printed at; on a conflict the posture is read again and
 * the approval goes on only while status.plan.id is still the one shown.
 */
#include "../kube/fake_apiserver.h"
#include "../kube/helpers.h"
#include "cli/private/cli_private.h"

#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The posture as the server holds it: GETs answer with plan ids[gets] (the last one repeats);
 * the first `conflicts` PATCHes answer 409. */
struct script {
    pthread_mutex_t lock;
    const char *ids[3];
    int gets;
    int conflicts;
    int patches;
    char last_patch[1024];
};

static void reply_posture(struct script *s, struct fake_conn *conn)
{
    int i = s->gets < 2 ? s->gets : 2;
    char *body = np_strdupf(
        "{\"kind\":\"SecurityGroupPosture\",\"metadata\":{\"name\":\"web\",\"namespace\":\"shop\","
        "\"resourceVersion\":\"%d\"},\"status\":{\"plan\":{\"id\":\"%s\",\"actions\":[\"revoke "
        "ingress tcp 22 0.0.0.0/0\"]}}}",
        10 + s->gets, s->ids[i]);
    s->gets++;
    fake_reply(conn, 200, body);
    free(body);
}

static void handler(void *ctx, const struct fake_req *req, struct fake_conn *conn)
{
    struct script *s = ctx;
    pthread_mutex_lock(&s->lock);
    if (strstr(req->path, "/securitygrouppostures/web") && strcmp(req->method, "GET") == 0) {
        reply_posture(s, conn);
    } else if (strcmp(req->method, "PATCH") == 0) {
        np_strlcpy(s->last_patch, req->body ? req->body : "", sizeof(s->last_patch));
        int status = s->patches++ < s->conflicts ? 409 : 200;
        fake_reply(conn, status,
                   status == 409 ? "{\"kind\":\"Status\",\"reason\":\"Conflict\",\"code\":409}"
                                 : "{}");
    } else {
        fake_reply(conn, 404, "{\"kind\":\"Status\",\"reason\":\"NotFound\",\"code\":404}");
    }
    pthread_mutex_unlock(&s->lock);
}

/* Runs `approve -n shop web --yes [--plan-id id]` against the script; returns the exit code. */
static int approve(struct script *s, const char *plan_id)
{
    struct fake_server *srv = fake_server_start(handler, s);
    char *dir = scratch_new();
    char *kc = np_strdupf("%s/kubeconfig", dir);
    FILE *f = fopen(kc, "w");
    cr_assert_not_null(f);
    fprintf(f,
            "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
            "clusters: [{name: c, cluster: {server: \"%s\"}}]\n"
            "users: [{name: u, user: {token: t}}]\n"
            "contexts: [{name: c, context: {cluster: c, user: u}}]\n",
            fake_server_url(srv));
    fclose(f);
    char *argv[] = {"netposturectl", "approve", "-n",        "shop",          "web", "--yes",
                    "--kubeconfig",  kc,        "--plan-id", (char *)plan_id, NULL};
    int argc = plan_id ? 10 : 8;
    int rc = np_cli_main(argc, argv);
    fake_server_stop(srv);
    scratch_remove(dir);
    free(kc);
    return rc;
}

Test(approve, writes_the_shown_id_conditional_on_its_resource_version)
{
    cr_redirect_stdout();
    struct script s = {
        PTHREAD_MUTEX_INITIALIZER, {"sha256:a", "sha256:a", "sha256:a"}, 0, 0, 0, ""};
    cr_expect_eq(approve(&s, "sha256:a"), NP_CLI_EXIT_OK);
    cr_expect_eq(s.patches, 1);
    cr_expect(strstr(s.last_patch, "\"resourceVersion\":\"10\"") != NULL, "%s", s.last_patch);
    cr_expect(strstr(s.last_patch, "\"netposture.dev/approve-plan\":\"sha256:a\""), "%s",
              s.last_patch);
}

Test(approve, a_conflict_with_the_same_plan_is_retried)
{
    cr_redirect_stdout();
    struct script s = {
        PTHREAD_MUTEX_INITIALIZER, {"sha256:a", "sha256:a", "sha256:a"}, 0, 1, 0, ""};
    cr_expect_eq(approve(&s, NULL), NP_CLI_EXIT_OK);
    cr_expect_eq(s.patches, 2);
    cr_expect(strstr(s.last_patch, "\"resourceVersion\":\"11\"") != NULL, "%s", s.last_patch);
}

Test(approve, a_plan_that_moved_after_printing_is_refused)
{
    cr_redirect_stdout();
    cr_redirect_stderr();
    struct script s = {
        PTHREAD_MUTEX_INITIALIZER, {"sha256:a", "sha256:b", "sha256:b"}, 0, 1, 0, ""};
    cr_expect_eq(approve(&s, NULL), NP_CLI_EXIT_FINDINGS);
    cr_expect_eq(s.patches, 1, "only the conflicting write was sent");
}

Test(approve, a_plan_id_other_than_the_held_one_is_refused_without_writing)
{
    cr_redirect_stdout();
    cr_redirect_stderr();
    struct script s = {
        PTHREAD_MUTEX_INITIALIZER, {"sha256:a", "sha256:a", "sha256:a"}, 0, 0, 0, ""};
    cr_expect_eq(approve(&s, "sha256:old"), NP_CLI_EXIT_FINDINGS);
    cr_expect_eq(s.patches, 0);
}
