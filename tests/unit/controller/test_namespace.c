/*
 * Unit tests of the namespace selectors' fail-closed rule: a namespace the informer cache has
 * not seen yet is read from the API server (here the scripted fake one), and when it cannot be
 * read the answer is "unknown" (NP_EAGAIN), never "a namespace without labels".
 */
#include "../kube/fake_apiserver.h"
#include "controller/private/controller_private.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

/* Serves GET /api/v1/namespaces/restricted with the label tier=restricted; 503 otherwise. */
static void handler(void *ctx, const struct fake_req *req, struct fake_conn *conn)
{
    (void)ctx;
    if (strcmp(req->method, "GET") == 0 && strcmp(req->path, "/api/v1/namespaces/restricted") == 0)
        fake_reply(conn, 200,
                   "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":"
                   "\"restricted\",\"resourceVersion\":\"7\",\"labels\":{\"tier\":"
                   "\"restricted\"}}}");
    else
        fake_reply(conn, 503, "{\"kind\":\"Status\",\"status\":\"Failure\",\"code\":503}");
}

struct fixture {
    struct fake_server *server;
    struct np_controller ctl;
};

static void fixture_init(struct fixture *f)
{
    memset(f, 0, sizeof(*f));
    f->server = fake_server_start(handler, NULL);
    struct np_kube_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.server = (char *)fake_server_url(f->server);
    struct np_kube_client_options o = {
        .user_agent = "netposture-test", .request_timeout_ms = 5000, .connect_timeout_ms = 2000};
    cr_assert_eq(np_kube_client_new(&f->ctl.kube, &cfg, &o), 0, "%s", np_error_message());
    /* A namespace informer that is never started: its cache stays empty, as in the moment a
     * namespace and a posture applied together reach the controller in the other order. */
    struct np_kube_informer_options io;
    memset(&io, 0, sizeof(io));
    io.resource = np_kube_res_namespaces;
    cr_assert_eq(np_kube_informer_new(&f->ctl.ns_inf, f->ctl.kube, &io), 0);
}

static void fixture_clean_up(struct fixture *f)
{
    np_kube_informer_destroy(f->ctl.ns_inf);
    np_kube_client_destroy(f->ctl.kube);
    fake_server_stop(f->server);
}

static json_object *parse(const char *s)
{
    json_object *o = json_tokener_parse(s);
    cr_assert_not_null(o, "bad test JSON: %s", s);
    return o;
}

Test(controller_namespace, uncached_namespace_is_read_not_taken_as_unlabelled, .timeout = 30)
{
    struct fixture f;
    fixture_init(&f);
    json_object *match = parse("{\"matchLabels\":{\"tier\":\"restricted\"}}");
    json_object *not_in = parse("{\"matchExpressions\":[{\"key\":\"tier\",\"operator\":"
                                "\"NotIn\",\"values\":[\"restricted\"]}]}");
    bool selected = false;
    cr_assert_eq(np_controller_namespace_selected(&f.ctl, match, "restricted", &selected), 0, "%s",
                 np_error_message());
    cr_assert(selected, "a Deny guardrail selecting tier=restricted must govern it");
    cr_assert_eq(np_controller_namespace_selected(&f.ctl, not_in, "restricted", &selected), 0);
    cr_assert_not(selected, "an allowedNamespaces with NotIn must not admit it");
    json_object_put(match);
    json_object_put(not_in);
    fixture_clean_up(&f);
}

Test(controller_namespace, unreadable_namespace_is_unknown, .timeout = 30)
{
    struct fixture f;
    fixture_init(&f);
    json_object *not_in = parse("{\"matchExpressions\":[{\"key\":\"tier\",\"operator\":"
                                "\"DoesNotExist\"}]}");
    bool selected = true;
    cr_assert_eq(np_controller_namespace_selected(&f.ctl, not_in, "elsewhere", &selected),
                 NP_EAGAIN);
    cr_assert_not(selected);
    cr_assert(strstr(np_error_message(), "namespace \"elsewhere\"") != NULL, "%s",
              np_error_message());
    json_object_put(not_in);
    fixture_clean_up(&f);
}
