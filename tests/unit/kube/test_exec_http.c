/*
 * Unit tests of a client whose kubeconfig user is an exec plugin, against the scripted
 * loopback server: the plugin's token is sent as a bearer token, a 401 makes the plugin run
 * again and the request is sent once more, a credential refused twice fails the request, and a
 * plugin that cannot run fails it with NP_EAUTH (never "not found").
 */
#include "fake_apiserver.h"
#include "helpers.h"
#include "kube/kube.h"
#include "kube/private/kube_private.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TestSuite(exec_http, .fini = kube_leak_check);

/* The server accepts only "Bearer <good>" (none: it refuses everything). */
struct auth_srv {
    pthread_mutex_t lock;
    const char *good;
    char seen[8][64]; /* Authorization of the first requests */
    int n;
};

static void auth_handler(void *ctx, const struct fake_req *req, struct fake_conn *c)
{
    struct auth_srv *a = ctx;
    char want[96] = "";
    if (a->good)
        snprintf(want, sizeof(want), "Bearer %s", a->good);
    pthread_mutex_lock(&a->lock);
    if (a->n < 8)
        np_strlcpy(a->seen[a->n++], req->authorization, sizeof(a->seen[0]));
    pthread_mutex_unlock(&a->lock);
    if (a->good && strcmp(req->authorization, want) == 0)
        fake_reply(c, 200, "{\"kind\":\"Namespace\",\"metadata\":{\"name\":\"shop\"}}");
    else
        fake_reply(c, 401,
                   "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
                   "\"message\":\"Unauthorized\",\"reason\":\"Unauthorized\",\"code\":401}");
}

/* A client for the server whose user runs plugin (a v1 exec stanza). */
static struct np_kube_client *exec_client(struct fake_server *s, const char *dir,
                                          const char *plugin)
{
    char *text = np_strdupf("apiVersion: v1\n"
                            "current-context: c\n"
                            "clusters: [{name: k, cluster: {server: \"%s\"}}]\n"
                            "contexts: [{name: c, context: {cluster: k, user: u}}]\n"
                            "users:\n"
                            "- name: u\n"
                            "  user:\n"
                            "    exec:\n"
                            "      apiVersion: client.authentication.k8s.io/v1\n"
                            "      interactiveMode: Never\n"
                            "      command: %s\n",
                            fake_server_url(s), plugin);
    char *path = np_strdupf("%s/kubeconfig", dir);
    struct np_kube_config *cfg = NULL;
    cr_assert_eq(np_kube_config_parse(&cfg, text, strlen(text), path), 0, "%s", np_error_message());
    struct np_kube_client_options o = {
        .user_agent = "netposture-test", .request_timeout_ms = 5000, .connect_timeout_ms = 2000};
    struct np_kube_client *c = NULL;
    cr_assert_eq(np_kube_client_new(&c, cfg, &o), 0, "%s", np_error_message());
    np_kube_config_destroy(cfg);
    free(path);
    free(text);
    return c;
}

/* A plugin printing token tok-<run number>. */
static char *counting_plugin(const char *dir)
{
    char *body = np_strdupf("n=$(( $(cat %s/count 2>/dev/null || echo 0) + 1 ))\n"
                            "echo $n > %s/count\n"
                            "printf '{\"apiVersion\":\"%s\",\"kind\":\"ExecCredential\","
                            "\"status\":{\"token\":\"tok-%%s\"}}' $n\n",
                            dir, dir, NP_KUBE_EXEC_V1);
    char *path = scratch_script(dir, "plugin", body);
    free(body);
    return path;
}

Test(exec_http, a_401_runs_the_plugin_again_and_retries_once, .timeout = 60)
{
    char *dir = scratch_new();
    char *plugin = counting_plugin(dir);
    struct auth_srv a = {PTHREAD_MUTEX_INITIALIZER, "tok-2", {{0}}, 0};
    struct fake_server *s = fake_server_start(auth_handler, &a);
    struct np_kube_client *c = exec_client(s, dir, plugin);
    json_object *ns = NULL;
    int rc = np_kube_get(c, &ns, &np_kube_res_namespaces, NULL, "shop");
    cr_assert_eq(rc, 0, "%s", np_error_message());
    cr_assert_str_eq(np_kube_object_name(ns), "shop");
    json_object_put(ns);
    cr_assert_eq(np_kube_exec_runs(np_kube_client_exec(c)), 2);
    cr_assert_eq(fake_server_count(s), 2);
    cr_assert_str_eq(a.seen[0], "Bearer tok-1");
    cr_assert_str_eq(a.seen[1], "Bearer tok-2");
    /* The new credential is kept: the next request runs nothing. */
    rc = np_kube_get(c, &ns, &np_kube_res_namespaces, NULL, "shop");
    cr_assert_eq(rc, 0, "%s", np_error_message());
    json_object_put(ns);
    cr_assert_eq(np_kube_exec_runs(np_kube_client_exec(c)), 2);
    cr_assert_eq(fake_server_count(s), 3);
    np_kube_client_destroy(c);
    fake_server_stop(s);
    free(plugin);
    scratch_remove(dir);
}

Test(exec_http, a_credential_refused_twice_fails_the_request, .timeout = 60)
{
    char *dir = scratch_new();
    char *plugin = counting_plugin(dir);
    struct auth_srv a = {PTHREAD_MUTEX_INITIALIZER, NULL, {{0}}, 0};
    struct fake_server *s = fake_server_start(auth_handler, &a);
    struct np_kube_client *c = exec_client(s, dir, plugin);
    json_object *ns = NULL;
    int rc = np_kube_get(c, &ns, &np_kube_res_namespaces, NULL, "shop");
    cr_assert_eq(rc, NP_EAUTH, "%s", np_error_message());
    cr_assert(strstr(np_error_message(), "Unauthorized") != NULL, "%s", np_error_message());
    cr_assert_null(strstr(np_error_message(), "tok-"), "%s", np_error_message());
    cr_assert_eq(fake_server_count(s), 2); /* one retry, no loop */
    cr_assert_eq(np_kube_exec_runs(np_kube_client_exec(c)), 2);
    np_kube_client_destroy(c);
    fake_server_stop(s);
    free(plugin);
    scratch_remove(dir);
}

Test(exec_http, a_401_on_a_watch_forgets_the_credential, .timeout = 60)
{
    char *dir = scratch_new();
    char *plugin = counting_plugin(dir);
    struct auth_srv a = {PTHREAD_MUTEX_INITIALIZER, NULL, {{0}}, 0};
    struct fake_server *s = fake_server_start(auth_handler, &a);
    struct np_kube_client *c = exec_client(s, dir, plugin);
    struct np_kube_watch_options o = {NULL, NULL, NULL, 30, 2000, NULL};
    int rc = np_kube_watch(c, &np_kube_res_namespaces, NULL, &o, NULL, NULL, NULL);
    cr_assert_eq(rc, NP_EAUTH, "%s", np_error_message());
    cr_assert_eq(np_kube_exec_runs(np_kube_client_exec(c)), 1);
    /* The watch is not retried inline (its informer backs off), but its next try runs the
     * plugin again. */
    rc = np_kube_watch(c, &np_kube_res_namespaces, NULL, &o, NULL, NULL, NULL);
    cr_assert_eq(rc, NP_EAUTH);
    cr_assert_eq(np_kube_exec_runs(np_kube_client_exec(c)), 2);
    cr_assert_str_eq(a.seen[1], "Bearer tok-2");
    np_kube_client_destroy(c);
    fake_server_stop(s);
    free(plugin);
    scratch_remove(dir);
}

Test(exec_http, a_missing_plugin_is_an_auth_failure_not_a_missing_object, .timeout = 60)
{
    char *dir = scratch_new();
    struct auth_srv a = {PTHREAD_MUTEX_INITIALIZER, "x", {{0}}, 0};
    struct fake_server *s = fake_server_start(auth_handler, &a);
    struct np_kube_client *c = exec_client(s, dir, "np-no-such-plugin-x3");
    json_object *ns = NULL;
    int rc = np_kube_get(c, &ns, &np_kube_res_namespaces, NULL, "shop");
    cr_assert_eq(rc, NP_EAUTH, "%s", np_error_message());
    cr_assert(strstr(np_error_message(), "exec plugin \"np-no-such-plugin-x3\": executable not "
                                         "found") != NULL,
              "%s", np_error_message());
    cr_assert_eq(fake_server_count(s), 0);
    np_kube_client_destroy(c);
    fake_server_stop(s);
    scratch_remove(dir);
}
