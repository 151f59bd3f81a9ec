/*
 * Unit tests of the client over real sockets against the scripted loopback server: get,
 * paginated list, writes and their content types, Status mapping end to end, watches
 * (stream, 410 both ways, cancel from another thread, idle timeout), the informer's
 * list/watch/relist loop, Event deduplication, finalizer patches and Secrets.
 */
#include "fake_apiserver.h"
#include "helpers.h"
#include "kube/kube.h"
#include "kube/private/kube_private.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WAIT_MS 20000

static const struct np_kube_resource sgp = {"netposture.dev", "v1alpha1", "securitygrouppostures",
                                            true};

/* What the client's observer was told (methods joined, statuses). */
struct observed {
    char methods[64];
    long status[4];
    size_t n;
};

static void observe_request(void *ctx, const char *method, long status, int64_t duration_ms)
{
    struct observed *o = ctx;
    cr_assert_lt(o->n, 4);
    cr_assert_geq(duration_ms, strcmp(method, "WATCH") == 0 ? -1 : 0);
    o->status[o->n++] = status;
    size_t len = strlen(o->methods);
    snprintf(o->methods + len, sizeof(o->methods) - len, "%s%s", len ? "," : "", method);
}

static struct np_kube_client *client_for(struct fake_server *s, const char *token,
                                         const char *server_name)
{
    struct np_kube_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.server = (char *)fake_server_url(s);
    cfg.token = (char *)token;
    cfg.tls_server_name = (char *)server_name;
    struct np_kube_client_options o = {
        .user_agent = "netposture-test", .request_timeout_ms = 5000, .connect_timeout_ms = 2000};
    struct np_kube_client *c = NULL;
    cr_assert_eq(np_kube_client_new(&c, &cfg, &o), 0, "%s", np_error_message());
    return c;
}

static char *obj_json(const char *ns, const char *name, const char *rv)
{
    return np_strdupf("{\"apiVersion\":\"netposture.dev/v1alpha1\",\"kind\":"
                      "\"SecurityGroupPosture\",\"metadata\":{\"name\":\"%s\",\"namespace\":"
                      "\"%s\",\"uid\":\"uid-%s\",\"resourceVersion\":\"%s\"},\"spec\":{}}",
                      name, ns, name, rv);
}

static void reply_status(struct fake_conn *c, int code, const char *reason, const char *message)
{
    char *body = np_strdupf("{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
                            "\"status\":\"Failure\",\"message\":\"%s\",\"reason\":\"%s\","
                            "\"code\":%d}",
                            message, reason, code);
    fake_reply(c, code, body);
    free(body);
}

/* ------------------------------------------------------------ get / list / writes */

struct seen {
    pthread_mutex_t lock;
    char authorization[256];
    char user_query[4096];
};

static void basic_handler(void *ctx, const struct fake_req *req, struct fake_conn *c)
{
    struct seen *seen = ctx;
    pthread_mutex_lock(&seen->lock);
    np_strlcpy(seen->authorization, req->authorization, sizeof(seen->authorization));
    pthread_mutex_unlock(&seen->lock);
    if (strcmp(req->path, "/api/v1/namespaces/ops/secrets/aws") == 0) {
        fake_reply(c, 200,
                   "{\"kind\":\"Secret\",\"metadata\":{\"name\":\"aws\",\"namespace\":"
                   "\"ops\"},\"data\":{\"secretAccessKey\":\"c2VjcmV0LWtleQ==\"}}");
    } else if (strcmp(req->path, "/api/v1/namespaces/ops/secrets/forbidden") == 0) {
        reply_status(c, 403, "Forbidden",
                     "secrets \\\"forbidden\\\" is forbidden: User \\\"np\\\" cannot get");
    } else {
        reply_status(c, 404, "NotFound", "secrets \\\"missing\\\" not found");
    }
}

Test(http, get_secret_and_errors, .timeout = 60)
{
    struct seen seen = {PTHREAD_MUTEX_INITIALIZER, "", ""};
    struct fake_server *s = fake_server_start(basic_handler, &seen);
    struct np_kube_client *c = client_for(s, "tok-123", NULL);
    cr_assert_str_eq(np_kube_client_namespace(c), "default");

    json_object *o = NULL;
    cr_assert_eq(np_kube_get(c, &o, &np_kube_res_secrets, "ops", "aws"), 0, "%s",
                 np_error_message());
    cr_assert_str_eq(np_kube_object_name(o), "aws");
    json_object_put(o);
    cr_assert_str_eq(seen.authorization, "Bearer tok-123");

    unsigned char *data = NULL;
    size_t len = 0;
    cr_assert_eq(np_kube_secret_get_data(c, &data, &len, "ops", "aws", "secretAccessKey"), 0);
    cr_assert_str_eq((char *)data, "secret-key");
    free(data);

    cr_assert_eq(np_kube_get(c, &o, &np_kube_res_secrets, "ops", "missing"), NP_ENOTFOUND);
    cr_assert_null(o);
    cr_assert(strstr(np_error_message(), "secrets \"missing\" not found") != NULL, "%s",
              np_error_message());
    cr_assert_eq(np_kube_secret_get_data(c, &data, &len, "ops", "forbidden", "k"), NP_EAUTH);
    np_kube_client_destroy(c);
    fake_server_stop(s);
}

Test(http, tls_server_name_connects_to_the_real_host, .timeout = 60)
{
    struct seen seen = {PTHREAD_MUTEX_INITIALIZER, "", ""};
    struct fake_server *s = fake_server_start(basic_handler, &seen);
    /* kube.invalid does not resolve: the request only works through CONNECT_TO. */
    struct np_kube_client *c = client_for(s, NULL, "kube.invalid");
    json_object *o = NULL;
    cr_assert_eq(np_kube_get(c, &o, &np_kube_res_secrets, "ops", "aws"), 0, "%s",
                 np_error_message());
    json_object_put(o);
    cr_assert_str_eq(seen.authorization, ""); /* no token, no header */
    np_kube_client_destroy(c);
    fake_server_stop(s);
}

Test(http, transport_errors, .timeout = 60)
{
    /* Nothing listens on port 9 of loopback. */
    struct np_kube_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.server = "http://127.0.0.1:9";
    struct np_kube_client *c = NULL;
    cr_assert_eq(np_kube_client_new(&c, &cfg, NULL), 0);
    json_object *o = NULL;
    cr_assert_eq(np_kube_get(c, &o, &np_kube_res_secrets, "ops", "aws"), NP_EIO);
    cr_assert(strstr(np_error_message(), "GET /api/v1/namespaces/ops/secrets/aws") != NULL);
    np_kube_client_destroy(c);
    cfg.server = NULL;
    cr_assert_eq(np_kube_client_new(&c, &cfg, NULL), NP_EINVAL);
}

struct pages {
    pthread_mutex_t lock;
    int expire_second_page;
    char queries[8][512];
    int n;
};

static void list_handler(void *ctx, const struct fake_req *req, struct fake_conn *c)
{
    struct pages *p = ctx;
    char cont[64], limit[16];
    fake_query_get(req->query, "continue", cont, sizeof(cont));
    fake_query_get(req->query, "limit", limit, sizeof(limit));
    pthread_mutex_lock(&p->lock);
    if (p->n < 8)
        np_strlcpy(p->queries[p->n++], req->query, sizeof(p->queries[0]));
    pthread_mutex_unlock(&p->lock);
    cr_assert_str_eq(req->path, "/apis/netposture.dev/v1alpha1/namespaces/shop/"
                                "securitygrouppostures");
    cr_assert_str_eq(limit, "500");
    char *a = obj_json("shop", "a", "1"), *b = obj_json("shop", "b", "2");
    char *body = NULL;
    if (cont[0] == '\0') {
        body = np_strdupf("{\"kind\":\"SecurityGroupPostureList\",\"metadata\":{"
                          "\"resourceVersion\":\"500\",\"continue\":\"tok/1=\"},\"items\":[%s,%s]}",
                          a, b);
    } else if (strcmp(cont, "tok/1=") == 0 && !p->expire_second_page) {
        body = np_strdupf("{\"kind\":\"SecurityGroupPostureList\",\"metadata\":{"
                          "\"resourceVersion\":\"500\",\"continue\":\"tok2\"},\"items\":[%s]}",
                          a);
    } else if (strcmp(cont, "tok2") == 0) {
        body = np_strdupf("{\"kind\":\"SecurityGroupPostureList\",\"metadata\":{"
                          "\"resourceVersion\":\"500\"},\"items\":[%s]}",
                          b);
    }
    if (body)
        fake_reply(c, 200, body);
    else
        reply_status(c, 410, "Expired", "The provided continue parameter is too old");
    free(body);
    free(a);
    free(b);
}

static int count_page(void *ctx, json_object *items)
{
    cr_assert_gt(json_object_array_length(items), 0);
    (*(int *)ctx)++;
    return 0;
}

static int stop_page(void *ctx, json_object *items)
{
    (void)ctx;
    (void)items;
    return NP_ECANCELED;
}

Test(http, list_follows_continue_tokens, .timeout = 60)
{
    struct pages p = {PTHREAD_MUTEX_INITIALIZER, 0, {{0}}, 0};
    struct fake_server *s = fake_server_start(list_handler, &p);
    struct np_kube_client *c = client_for(s, NULL, NULL);
    json_object *items = NULL;
    char *rv = NULL;
    struct np_kube_list_options lo = {"app=web,tier!=db", NULL, 0, NULL};
    cr_assert_eq(np_kube_list(c, &items, &rv, &sgp, "shop", &lo), 0, "%s", np_error_message());
    cr_assert_eq(json_object_array_length(items), 4);
    cr_assert_str_eq(rv, "500");
    cr_assert_eq(p.n, 3);
    char sel[64];
    fake_query_get(p.queries[0], "labelSelector", sel, sizeof(sel));
    cr_assert_str_eq(sel, "app=web,tier!=db");
    json_object_put(items);
    free(rv);

    int pages = 0;
    cr_assert_eq(np_kube_list_pages(c, &sgp, "shop", NULL, count_page, &pages, NULL), 0);
    cr_assert_eq(pages, 3);
    cr_assert_eq(np_kube_list_pages(c, &sgp, "shop", NULL, stop_page, NULL, NULL), NP_ECANCELED);

    p.expire_second_page = 1;
    cr_assert_eq(np_kube_list(c, &items, &rv, &sgp, "shop", NULL), NP_EGONE);
    cr_assert_null(items);
    cr_assert_null(rv);
    np_kube_client_destroy(c);
    fake_server_stop(s);
}

/* Echoes the request back as JSON so the test can check it. */
static void echo_handler(void *ctx, const struct fake_req *req, struct fake_conn *c)
{
    (void)ctx;
    if (strstr(req->path, "/conflict")) {
        reply_status(c, 409, "Conflict",
                     "Operation cannot be fulfilled on securitygrouppostures.netposture.dev "
                     "\\\"web\\\": the object has been modified");
        return;
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "method", json_object_new_string(req->method));
    json_object_object_add(o, "path", json_object_new_string(req->path));
    json_object_object_add(o, "query", json_object_new_string(req->query));
    json_object_object_add(o, "ctype", json_object_new_string(req->content_type));
    json_object_object_add(o, "body", json_object_new_string(req->body ? req->body : ""));
    fake_reply(c, strcmp(req->method, "POST") == 0 ? 201 : 200, json_object_to_json_string(o));
    json_object_put(o);
}

static void expect_echo(json_object *o, const char *method, const char *path, const char *query,
                        const char *ctype, const char *body)
{
    cr_assert_not_null(o);
    cr_assert_str_eq(np_json_path_str(o, "method", NP_JSON_END), method);
    cr_assert_str_eq(np_json_path_str(o, "path", NP_JSON_END), path);
    cr_assert_str_eq(np_json_path_str(o, "query", NP_JSON_END), query);
    cr_assert_str_eq(np_json_path_str(o, "ctype", NP_JSON_END), ctype);
    cr_assert_str_eq(np_json_path_str(o, "body", NP_JSON_END), body);
    json_object_put(o);
}

Test(http, writes_use_the_right_content_types, .timeout = 60)
{
    struct fake_server *s = fake_server_start(echo_handler, NULL);
    struct np_kube_client *c = client_for(s, NULL, NULL);
    const char *base = "/apis/netposture.dev/v1alpha1/namespaces/shop/securitygrouppostures";
    char *web = np_strdupf("%s/web", base);
    json_object *o = NULL;

    json_object *body = json_object_new_object();
    json_object_object_add(body, "kind", json_object_new_string("SecurityGroupPosture"));
    cr_assert_eq(np_kube_create(c, &o, &sgp, "shop", body), 0, "%s", np_error_message());
    expect_echo(o, "POST", base, "fieldManager=netposture", "application/json",
                "{\"kind\":\"SecurityGroupPosture\"}");
    json_object_put(body);

    cr_assert_eq(np_kube_patch(c, &o, &sgp, "shop", "web", NULL, NP_KUBE_PATCH_MERGE,
                               "{\"spec\":{\"x\":1}}"),
                 0);
    expect_echo(o, "PATCH", web, "fieldManager=netposture", "application/merge-patch+json",
                "{\"spec\":{\"x\":1}}");

    cr_assert_eq(np_kube_patch(c, &o, &sgp, "shop", "web", NULL, NP_KUBE_PATCH_JSON, "[]"), 0);
    expect_echo(o, "PATCH", web, "fieldManager=netposture", "application/json-patch+json", "[]");

    cr_assert_eq(np_kube_patch(c, &o, &sgp, "shop", "web", "status", NP_KUBE_PATCH_APPLY,
                               "{\"apiVersion\":\"netposture.dev/v1alpha1\"}"),
                 0);
    char *status_path = np_strdupf("%s/web/status", base);
    expect_echo(o, "PATCH", status_path, "fieldManager=netposture&force=true",
                "application/apply-patch+yaml", "{\"apiVersion\":\"netposture.dev/v1alpha1\"}");

    cr_assert_eq(np_kube_status_patch(c, &o, &sgp, "shop", "web", "{\"status\":{\"a\":1}}"), 0);
    expect_echo(o, "PATCH", status_path, "fieldManager=netposture", "application/merge-patch+json",
                "{\"status\":{\"a\":1}}");

    cr_assert_eq(np_kube_delete(c, &sgp, "shop", "web"), 0);

    cr_assert_eq(np_kube_status_patch(c, &o, &sgp, "shop", "conflict", "{\"status\":{}}"),
                 NP_ECONFLICT);
    cr_assert(strstr(np_error_message(), "has been modified") != NULL);
    cr_assert_null(o);

    /* Raw request: status and body whatever the outcome. */
    struct np_kube_response resp = {0, NP_BUF_INIT};
    struct np_kube_request req = {"GET", "/conflict", "a=b", NULL, NULL, 0, NULL};
    cr_assert_eq(np_kube_client_request(c, &req, &resp), NP_ECONFLICT);
    cr_assert_eq(resp.status, 409);
    cr_assert(strstr(np_buf_cstr(&resp.body), "\"reason\":\"Conflict\"") != NULL);
    np_kube_response_clean_up(&resp);
    free(status_path);
    free(web);
    np_kube_client_destroy(c);
    fake_server_stop(s);
}

/* ------------------------------------------------------------ watch */

enum watch_mode { W_STREAM, W_HTTP_410, W_ERROR_410, W_HOLD, W_SILENT, W_GARBAGE };

struct watch_srv {
    enum watch_mode mode;
    char query[4096];
    bool client_closed;
};

static void stream_fixture(struct fake_conn *c, const char *fixture, uint32_t seed)
{
    size_t len = 0;
    char *data = fixture_read(fixture, &len);
    size_t off = 0;
    while (off < len) {
        size_t n = 1 + test_rand(&seed) % 61;
        if (n > len - off)
            n = len - off;
        fake_stream_send(c, data + off, n);
        off += n;
    }
    free(data);
}

static void watch_handler(void *ctx, const struct fake_req *req, struct fake_conn *c)
{
    struct watch_srv *w = ctx;
    np_strlcpy(w->query, req->query, sizeof(w->query));
    switch (w->mode) {
    case W_STREAM:
        fake_stream_start(c);
        stream_fixture(c, "watch/stream.jsonl", 7);
        fake_stream_end(c);
        break;
    case W_HTTP_410: reply_status(c, 410, "Expired", "too old resource version: 100 (900)"); break;
    case W_ERROR_410:
        fake_stream_start(c);
        stream_fixture(c, "watch/error-410.jsonl", 3);
        fake_stream_end(c);
        break;
    case W_HOLD: {
        fake_stream_start(c);
        char *a = obj_json("shop", "a", "101");
        char *ev = np_strdupf("{\"type\":\"ADDED\",\"object\":%s}\n", a);
        fake_stream_send(c, ev, strlen(ev));
        free(a);
        free(ev);
        w->client_closed = fake_wait_closed(c);
        break;
    }
    case W_SILENT:
        fake_stream_start(c);
        w->client_closed = fake_wait_closed(c);
        break;
    case W_GARBAGE:
        fake_stream_start(c);
        stream_fixture(c, "watch/garbage.txt", 5);
        fake_stream_end(c);
        break;
    }
}

struct collected {
    struct waiter events;
    int n;
    enum np_kube_event_type last;
};

static int collect(void *ctx, enum np_kube_event_type type, json_object *obj)
{
    struct collected *col = ctx;
    (void)obj;
    col->n++;
    col->last = type;
    waiter_bump(&col->events);
    return 0;
}

/* What the client's observer saw of the last run_watch. */
static struct observed watch_seen;

static int run_watch(enum watch_mode mode, struct collected *col, char **rv,
                     struct watch_srv *srv_out)
{
    struct watch_srv w = {mode, "", false};
    struct fake_server *s = fake_server_start(watch_handler, &w);
    struct np_kube_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.server = (char *)fake_server_url(s);
    memset(&watch_seen, 0, sizeof(watch_seen));
    struct np_kube_client_options co = {
        .request_timeout_ms = 5000, .observer = observe_request, .observer_ctx = &watch_seen};
    struct np_kube_client *c = NULL;
    cr_assert_eq(np_kube_client_new(&c, &cfg, &co), 0, "%s", np_error_message());
    struct np_kube_watch_options o = {"100", "team=shop", NULL, 30, 0, NULL};
    int rc = np_kube_watch(c, &sgp, "shop", &o, collect, col, rv);
    np_kube_client_destroy(c);
    fake_server_stop(s);
    if (srv_out)
        *srv_out = w;
    return rc;
}

Test(http_watch, stream_to_clean_end, .timeout = 60)
{
    struct collected col = {0};
    waiter_init(&col.events);
    char *rv = NULL;
    struct watch_srv srv;
    int rc = run_watch(W_STREAM, &col, &rv, &srv);
    cr_assert_eq(rc, 0, "%s", np_error_message());
    cr_assert_eq(col.n, 6);
    cr_assert_str_eq(rv, "200");
    cr_expect_str_eq(watch_seen.methods, "WATCH", "the stream is observed once, when it ends");
    cr_expect_eq(watch_seen.status[0], 200);
    char v[64];
    fake_query_get(srv.query, "watch", v, sizeof(v));
    cr_assert_str_eq(v, "1");
    fake_query_get(srv.query, "allowWatchBookmarks", v, sizeof(v));
    cr_assert_str_eq(v, "true");
    fake_query_get(srv.query, "resourceVersion", v, sizeof(v));
    cr_assert_str_eq(v, "100");
    fake_query_get(srv.query, "timeoutSeconds", v, sizeof(v));
    cr_assert_str_eq(v, "30");
    fake_query_get(srv.query, "labelSelector", v, sizeof(v));
    cr_assert_str_eq(v, "team=shop");
    free(rv);
    waiter_clean_up(&col.events);
}

Test(http_watch, gone_as_http_status_and_as_event, .timeout = 60)
{
    struct collected col = {0};
    waiter_init(&col.events);
    char *rv = NULL;
    cr_assert_eq(run_watch(W_HTTP_410, &col, &rv, NULL), NP_EGONE);
    cr_assert(strstr(np_error_message(), "too old resource version") != NULL);
    cr_assert_str_eq(rv, "100");
    cr_assert_eq(col.n, 0);
    cr_expect_eq(watch_seen.status[0], 410);
    free(rv);
    cr_assert_eq(run_watch(W_ERROR_410, &col, &rv, NULL), NP_EGONE);
    cr_assert_eq(col.n, 1);
    cr_assert_str_eq(rv, "300");
    free(rv);
    waiter_clean_up(&col.events);
}

Test(http_watch, garbage_is_parse_error, .timeout = 60)
{
    struct collected col = {0};
    waiter_init(&col.events);
    char *rv = NULL;
    cr_assert_eq(run_watch(W_GARBAGE, &col, &rv, NULL), NP_EPARSE);
    cr_assert_eq(col.n, 1);
    free(rv);
    waiter_clean_up(&col.events);
}

Test(http_watch, idle_timeout, .timeout = 60)
{
    struct watch_srv w = {W_SILENT, "", false};
    struct fake_server *s = fake_server_start(watch_handler, &w);
    struct np_kube_client *c = client_for(s, NULL, NULL);
    struct np_kube_watch_options o = {NULL, NULL, NULL, 30, 300, NULL};
    char *rv = NULL;
    int64_t start = np_time_mono_ms();
    cr_assert_eq(np_kube_watch(c, &sgp, NULL, &o, NULL, NULL, &rv), NP_ETIMEOUT);
    cr_assert_lt(np_time_mono_ms() - start, 5000);
    cr_assert_str_eq(rv, "");
    free(rv);
    np_kube_client_destroy(c);
    fake_server_stop(s);
    cr_assert(w.client_closed);
}

struct watch_thread {
    struct np_kube_client *client;
    struct np_kube_cancel *cancel;
    struct collected col;
    int rc;
};

static void *watch_main(void *arg)
{
    struct watch_thread *t = arg;
    struct np_kube_watch_options o = {NULL, NULL, NULL, 300, 0, t->cancel};
    t->rc = np_kube_watch(t->client, &sgp, "shop", &o, collect, &t->col, NULL);
    return NULL;
}

Test(http_watch, cancel_from_another_thread, .timeout = 60)
{
    struct watch_srv w = {W_HOLD, "", false};
    struct fake_server *s = fake_server_start(watch_handler, &w);
    struct watch_thread t;
    memset(&t, 0, sizeof(t));
    waiter_init(&t.col.events);
    t.client = client_for(s, NULL, NULL);
    cr_assert_eq(np_kube_cancel_new(&t.cancel), 0);
    pthread_t th;
    pthread_create(&th, NULL, watch_main, &t);
    cr_assert_eq(waiter_wait(&t.col.events, 1, WAIT_MS), 1);
    int64_t start = np_time_mono_ms();
    np_kube_cancel_fire(t.cancel);
    pthread_join(th, NULL);
    int64_t took = np_time_mono_ms() - start;
    cr_assert_eq(t.rc, NP_ECANCELED, "got %s", np_error_name(t.rc));
    cr_assert_lt(took, 900, "cancel took %lld ms", (long long)took);
    /* A canceled token stops the next watch before it connects. */
    t.rc = 0;
    watch_main(&t);
    cr_assert_eq(t.rc, NP_ECANCELED);
    np_kube_client_destroy(t.client);
    fake_server_stop(s);
    cr_assert(w.client_closed, "the server did not see the connection close");
    np_kube_cancel_destroy(t.cancel);
    waiter_clean_up(&t.col.events);
}

/* ------------------------------------------------------------ plain request cancel/timeout */

static void hold_handler(void *ctx, const struct fake_req *req, struct fake_conn *c)
{
    (void)ctx;
    (void)req;
    fake_wait_closed(c);
}

struct req_thread {
    struct np_kube_client *client;
    struct np_kube_cancel *cancel;
    int rc;
};

static void *list_main(void *arg)
{
    struct req_thread *t = arg;
    json_object *items = NULL;
    struct np_kube_list_options lo = {NULL, NULL, 0, t->cancel};
    t->rc = np_kube_list(t->client, &items, NULL, &sgp, NULL, &lo);
    json_object_put(items);
    return NULL;
}

Test(http, request_cancel_and_timeout, .timeout = 60)
{
    struct fake_server *s = fake_server_start(hold_handler, NULL);
    struct req_thread t = {client_for(s, NULL, NULL), NULL, 0};
    cr_assert_eq(np_kube_cancel_new(&t.cancel), 0);
    pthread_t th;
    pthread_create(&th, NULL, list_main, &t);
    np_kube_cancel_fire(t.cancel);
    pthread_join(th, NULL);
    cr_assert_eq(t.rc, NP_ECANCELED, "got %s: %s", np_error_name(t.rc), np_error_message());
    np_kube_cancel_destroy(t.cancel);
    np_kube_client_destroy(t.client);

    struct np_kube_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.server = (char *)fake_server_url(s);
    struct np_kube_client_options o = {.request_timeout_ms = 300, .connect_timeout_ms = 1000};
    struct np_kube_client *c = NULL;
    cr_assert_eq(np_kube_client_new(&c, &cfg, &o), 0);
    json_object *obj = NULL;
    cr_assert_eq(np_kube_get(c, &obj, &sgp, "shop", "web"), NP_ETIMEOUT);
    np_kube_client_destroy(c);
    fake_server_stop(s);
}

/* ------------------------------------------------------------ informer */

struct inf_srv {
    pthread_mutex_t lock;
    int lists;
    int watches;
    char watch_rvs[8][32];
    struct waiter third_watch;
};

static void informer_handler(void *ctx, const struct fake_req *req, struct fake_conn *c)
{
    struct inf_srv *srv = ctx;
    char watch[8], rv[32];
    fake_query_get(req->query, "watch", watch, sizeof(watch));
    fake_query_get(req->query, "resourceVersion", rv, sizeof(rv));
    cr_assert_str_eq(req->path, "/apis/netposture.dev/v1alpha1/securitygrouppostures");
    pthread_mutex_lock(&srv->lock);
    int n = watch[0] ? ++srv->watches : ++srv->lists;
    if (watch[0] && n <= 8)
        np_strlcpy(srv->watch_rvs[n - 1], rv, sizeof(srv->watch_rvs[0]));
    pthread_mutex_unlock(&srv->lock);

    if (!watch[0]) {
        char *a = obj_json("shop", "a", "1"), *cc = obj_json("shop", "c", "12");
        char *b = np_strdupf("{\"metadata\":{\"name\":\"b\",\"namespace\":\"shop\","
                             "\"resourceVersion\":\"2\",\"managedFields\":[{\"manager\":"
                             "\"kubectl\",\"fieldsV1\":{\"f:spec\":{}}}]},\"spec\":{}}");
        char *body = n == 1 ? np_strdupf("{\"metadata\":{\"resourceVersion\":\"10\"},"
                                         "\"items\":[%s,%s]}",
                                         a, b)
                            : np_strdupf("{\"metadata\":{\"resourceVersion\":\"20\"},"
                                         "\"items\":[%s,%s]}",
                                         b, cc);
        fake_reply(c, 200, body);
        free(body);
        free(a);
        free(b);
        free(cc);
        return;
    }
    fake_stream_start(c);
    if (n == 1) {
        char *a = obj_json("shop", "a", "11");
        char *ev = np_strdupf("{\"type\":\"MODIFIED\",\"object\":%s}\n{\"type\":\"ERROR\","
                              "\"object\":{\"kind\":\"Status\",\"code\":410,\"reason\":"
                              "\"Expired\",\"message\":\"too old resource version\"}}\n",
                              a);
        fake_stream_send(c, ev, strlen(ev));
        fake_stream_end(c);
        free(a);
        free(ev);
    } else if (n == 2) {
        char *d = obj_json("shop", "d", "21");
        char *ev = np_strdupf("{\"type\":\"ADDED\",\"object\":%s}\n", d);
        fake_stream_send(c, ev, strlen(ev));
        fake_stream_end(c); /* a clean end: watch again from 21, no relist */
        free(d);
        free(ev);
    } else {
        waiter_bump(&srv->third_watch);
        fake_wait_closed(c);
    }
}

struct inf_log {
    pthread_mutex_t lock;
    char lines[16][64];
    int n;
    struct waiter count;
};

static void log_line(struct inf_log *l, const char *what, const char *key, json_object *o)
{
    pthread_mutex_lock(&l->lock);
    if (l->n < 16)
        snprintf(l->lines[l->n++], sizeof(l->lines[0]), "%s %s %s", what, key,
                 np_kube_object_resource_version(o));
    pthread_mutex_unlock(&l->lock);
    waiter_bump(&l->count);
}

static void inf_add(void *ctx, const char *key, json_object *o)
{
    log_line(ctx, "add", key, o);
}

static void inf_update(void *ctx, const char *key, json_object *old_obj, json_object *new_obj)
{
    (void)old_obj;
    log_line(ctx, "update", key, new_obj);
}

static void inf_delete(void *ctx, const char *key, json_object *o)
{
    log_line(ctx, "delete", key, o);
}

static void mark(void *ctx, json_object *obj)
{
    json_object_object_add(obj, "transformed", json_object_new_boolean(1));
    (*(int *)ctx)++;
}

Test(informer, list_watch_relist_rewatch, .timeout = 60)
{
    struct inf_srv srv;
    memset(&srv, 0, sizeof(srv));
    pthread_mutex_init(&srv.lock, NULL);
    waiter_init(&srv.third_watch);
    struct inf_log log;
    memset(&log, 0, sizeof(log));
    pthread_mutex_init(&log.lock, NULL);
    waiter_init(&log.count);

    struct fake_server *s = fake_server_start(informer_handler, &srv);
    struct np_kube_client *c = client_for(s, NULL, NULL);
    struct np_kube_informer_options o;
    memset(&o, 0, sizeof(o));
    o.resource = sgp;
    o.handlers = (struct np_kube_handlers){inf_add, inf_update, inf_delete, &log};
    o.backoff_initial_ms = 1;
    o.backoff_max_ms = 5;
    int transformed = 0;
    o.transform = mark;
    o.transform_ctx = &transformed;
    struct np_kube_informer *inf = NULL;
    cr_assert_eq(np_kube_informer_new(&inf, c, &o), 0, "%s", np_error_message());
    cr_assert_not(np_kube_informer_has_synced(inf));
    cr_assert_eq(np_kube_informer_start(inf), 0);
    cr_assert_eq(np_kube_informer_start(inf), NP_EINVAL);
    cr_assert_eq(np_kube_informer_wait_synced(inf, WAIT_MS), 0, "%s", np_error_message());
    cr_assert_eq(waiter_wait(&srv.third_watch, 1, WAIT_MS), 1, "third watch never came");
    cr_assert_eq(waiter_wait(&log.count, 6, WAIT_MS), 6);

    /* Relist order as client-go's Replace: new and changed objects, then deletions. */
    static const char *want[] = {"add shop/a 1",  "add shop/b 2",     "update shop/a 11",
                                 "add shop/c 12", "delete shop/a 11", "add shop/d 21"};
    pthread_mutex_lock(&log.lock);
    cr_assert_eq(log.n, 6);
    /* The first list's two adds come in map order; the rest in stream order. */
    cr_assert((strcmp(log.lines[0], want[0]) == 0 && strcmp(log.lines[1], want[1]) == 0) ||
              (strcmp(log.lines[0], want[1]) == 0 && strcmp(log.lines[1], want[0]) == 0));
    for (int i = 2; i < 6; i++)
        cr_assert_str_eq(log.lines[i], want[i], "event %d", i);
    pthread_mutex_unlock(&log.lock);

    cr_assert_str_eq(srv.watch_rvs[0], "10");
    cr_assert_str_eq(srv.watch_rvs[1], "20");
    cr_assert_str_eq(srv.watch_rvs[2], "21");
    uint64_t lists = 0, watches = 0;
    np_kube_informer_counters(inf, &lists, &watches);
    cr_assert_eq(lists, 2);
    cr_assert_eq(watches, 3);

    char **keys = NULL;
    size_t n = 0;
    np_kube_store_keys(np_kube_informer_store(inf), &keys, &n);
    cr_assert_eq(n, 3);
    cr_assert_str_eq(keys[0], "shop/b");
    cr_assert_str_eq(keys[1], "shop/c");
    cr_assert_str_eq(keys[2], "shop/d");
    np_kube_strv_free(keys);

    int64_t start = np_time_mono_ms();
    np_kube_informer_stop(inf);
    cr_assert_lt(np_time_mono_ms() - start, 2000, "stop was not prompt");
    np_kube_informer_stop(inf); /* idempotent */
    cr_assert_eq(np_kube_informer_wait_synced(inf, 10), 0);
    /* The store stays readable after stop; objects went through the transform and lost
     * their managedFields. */
    json_object *d = NULL;
    cr_assert_eq(np_kube_store_get(np_kube_informer_store(inf), &d, "shop/d"), 0);
    cr_assert_not_null(np_json_path(d, "transformed", NP_JSON_END));
    json_object_put(d);
    cr_assert_eq(np_kube_store_get(np_kube_informer_store(inf), &d, "shop/b"), 0);
    cr_assert_not_null(np_json_path(d, "metadata", "name", NP_JSON_END));
    cr_assert_null(np_json_path(d, "metadata", "managedFields", NP_JSON_END));
    json_object_put(d);
    cr_assert_eq(transformed, 6); /* 2 listed, 1 modified, 2 relisted, 1 added */
    np_kube_informer_destroy(inf);
    np_kube_client_destroy(c);
    fake_server_stop(s);
    waiter_clean_up(&srv.third_watch);
    waiter_clean_up(&log.count);
}

static void refuse_handler(void *ctx, const struct fake_req *req, struct fake_conn *c)
{
    (void)req;
    waiter_bump(ctx);
    reply_status(c, 403, "Forbidden", "securitygrouppostures is forbidden");
}

Test(informer, retries_with_backoff_and_stops_unsynced, .timeout = 60)
{
    struct waiter attempts;
    waiter_init(&attempts);
    struct fake_server *s = fake_server_start(refuse_handler, &attempts);
    struct np_kube_client *c = client_for(s, NULL, NULL);
    struct np_kube_informer_options o;
    memset(&o, 0, sizeof(o));
    o.resource = sgp;
    o.namespace = "shop";
    o.backoff_initial_ms = 1;
    o.backoff_max_ms = 2;
    struct np_kube_informer *inf = NULL;
    cr_assert_eq(np_kube_informer_new(&inf, c, &o), 0);
    cr_assert_eq(np_kube_informer_start(inf), 0);
    cr_assert_geq(waiter_wait(&attempts, 3, WAIT_MS), 3, "the informer did not retry");
    cr_assert_not(np_kube_informer_has_synced(inf));
    np_kube_informer_stop(inf);
    cr_assert_eq(np_kube_informer_wait_synced(inf, 10), NP_ECANCELED);
    np_kube_informer_destroy(inf);

    /* A cluster-scoped resource refuses a namespace. */
    struct np_kube_informer_options bad;
    memset(&bad, 0, sizeof(bad));
    bad.resource = np_kube_res_namespaces;
    bad.namespace = "shop";
    cr_assert_eq(np_kube_informer_new(&inf, c, &bad), NP_EINVAL);
    cr_assert_null(inf);
    np_kube_client_destroy(c);
    fake_server_stop(s);
    waiter_clean_up(&attempts);
}

/* ------------------------------------------------------------ events */

struct ev_srv {
    pthread_mutex_t lock;
    int posts;
    int patches;
    bool patch_404;
    char last_post[2048];
    char last_patch[256];
    char last_path[256];
};

static void events_handler(void *ctx, const struct fake_req *req, struct fake_conn *c)
{
    struct ev_srv *e = ctx;
    pthread_mutex_lock(&e->lock);
    np_strlcpy(e->last_path, req->path, sizeof(e->last_path));
    bool notfound = false;
    if (strcmp(req->method, "POST") == 0) {
        e->posts++;
        np_strlcpy(e->last_post, req->body, sizeof(e->last_post));
    } else {
        e->patches++;
        np_strlcpy(e->last_patch, req->body, sizeof(e->last_patch));
        cr_assert_str_eq(req->content_type, "application/merge-patch+json");
        notfound = e->patch_404;
    }
    pthread_mutex_unlock(&e->lock);
    if (notfound)
        reply_status(c, 404, "NotFound", "events not found");
    else
        fake_reply(c, strcmp(req->method, "POST") == 0 ? 201 : 200, req->body);
}

Test(events, dedup_into_series, .timeout = 60)
{
    struct ev_srv e;
    memset(&e, 0, sizeof(e));
    pthread_mutex_init(&e.lock, NULL);
    struct fake_server *s = fake_server_start(events_handler, &e);
    struct np_kube_client *c = client_for(s, NULL, NULL);
    struct fake_clock fc;
    fake_clock_init(&fc, 1767323045678LL);
    struct np_kube_recorder_options ro = {NULL, "netposture-7d9f-abc", &fc.clock};
    struct np_kube_recorder *r = NULL;
    cr_assert_eq(np_kube_recorder_new(&r, c, &ro), 0);
    struct np_kube_object_ref ref = {
        "netposture.dev/v1alpha1", "SecurityGroupPosture", "shop", "web", "u-1", "42"};

    cr_assert_eq(np_kube_recorder_emit(r, &ref, "Warning", "DriftDetected", "Detect",
                                       "extra rule tcp 22 0.0.0.0/0"),
                 0, "%s", np_error_message());
    cr_assert_eq(e.posts, 1);
    cr_assert_str_eq(e.last_path, "/apis/events.k8s.io/v1/namespaces/shop/events");
    json_object *posted = NULL;
    cr_assert_eq(np_kube_json_parse(&posted, e.last_post, strlen(e.last_post)), 0);
    cr_assert_str_eq(np_json_path_str(posted, "reportingController", NP_JSON_END),
                     "netposture.dev/controller");
    cr_assert_str_eq(np_json_path_str(posted, "reportingInstance", NP_JSON_END),
                     "netposture-7d9f-abc");
    cr_assert_str_eq(np_json_path_str(posted, "eventTime", NP_JSON_END),
                     "2026-01-02T03:04:05.678000Z");
    cr_assert_str_eq(
        np_json_path_str(np_json_path(posted, "regarding", NP_JSON_END), "uid", NP_JSON_END),
        "u-1");
    const char *name = np_kube_object_name(posted);
    cr_assert(np_str_has_prefix(name, "web."), "%s", name);
    char *series_path = np_strdupf("/apis/events.k8s.io/v1/namespaces/shop/events/%s", name);
    json_object_put(posted);

    /* The same again (another resourceVersion of the object) within 6 minutes: a series. */
    ref.resource_version = "43";
    fake_clock_advance(&fc, 60000);
    cr_assert_eq(np_kube_recorder_emit(r, &ref, "Warning", "DriftDetected", "Detect",
                                       "extra rule tcp 22 0.0.0.0/0"),
                 0);
    cr_assert_eq(e.posts, 1);
    cr_assert_eq(e.patches, 1);
    cr_assert_str_eq(e.last_path, series_path);
    cr_assert_str_eq(
        e.last_patch,
        "{\"series\":{\"count\":2,\"lastObservedTime\":\"2026-01-02T03:05:05.678000Z\"}}");
    fake_clock_advance(&fc, 300000);
    cr_assert_eq(np_kube_recorder_emit(r, &ref, "Warning", "DriftDetected", "Detect",
                                       "extra rule tcp 22 0.0.0.0/0"),
                 0);
    cr_assert_eq(e.patches, 2);
    cr_assert(strstr(e.last_patch, "\"count\":3") != NULL);

    /* A different note is a different Event. */
    cr_assert_eq(np_kube_recorder_emit(r, &ref, "Warning", "DriftDetected", "Detect", "other"), 0);
    cr_assert_eq(e.posts, 2);

    /* Six quiet minutes end the series. */
    fake_clock_advance(&fc, 360000);
    cr_assert_eq(np_kube_recorder_emit(r, &ref, "Warning", "DriftDetected", "Detect",
                                       "extra rule tcp 22 0.0.0.0/0"),
                 0);
    cr_assert_eq(e.posts, 3);

    /* An Event that vanished (expired) is created again instead of patched. */
    e.patch_404 = true;
    cr_assert_eq(np_kube_recorder_emit(r, &ref, "Warning", "DriftDetected", "Detect",
                                       "extra rule tcp 22 0.0.0.0/0"),
                 0);
    cr_assert_eq(e.posts, 4);

    /* Cluster-scoped objects report into "default"; bad input is refused. */
    struct np_kube_object_ref acct = {
        "netposture.dev/v1alpha1", "CloudAccount", NULL, "prod", NULL, NULL};
    cr_assert_eq(np_kube_recorder_emit(r, &acct, "Normal", "Verified", "Verify", NULL), 0);
    cr_assert_str_eq(e.last_path, "/apis/events.k8s.io/v1/namespaces/default/events");
    cr_assert_eq(np_kube_recorder_emit(r, &acct, "Info", "Verified", "Verify", NULL), NP_EINVAL);
    cr_assert_eq(np_kube_recorder_emit(r, &acct, "Normal", "", "Verify", NULL), NP_EINVAL);

    /* Notes are cut to 1 KiB. */
    char big[3000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    cr_assert_eq(np_kube_recorder_emit(r, &acct, "Normal", "Big", "Verify", big), 0);
    cr_assert_eq(np_kube_json_parse(&posted, e.last_post, strlen(e.last_post)), 0);
    cr_assert_eq(strlen(np_json_path_str(posted, "note", NP_JSON_END)), 1024);
    json_object_put(posted);

    free(series_path);
    np_kube_recorder_destroy(r);
    np_kube_client_destroy(c);
    fake_server_stop(s);
}

/* ------------------------------------------------------------ finalizers */

struct fin_srv {
    pthread_mutex_t lock;
    int requests;
    int reject;
    char body[512];
    char ctype[128];
};

static void finalizer_handler(void *ctx, const struct fake_req *req, struct fake_conn *c)
{
    struct fin_srv *f = ctx;
    pthread_mutex_lock(&f->lock);
    f->requests++;
    np_strlcpy(f->body, req->body, sizeof(f->body));
    np_strlcpy(f->ctype, req->content_type, sizeof(f->ctype));
    int reject = f->reject;
    pthread_mutex_unlock(&f->lock);
    if (reject == 1)
        /* What kube-apiserver 1.34 answers when a JSON Patch `test` fails. */
        reply_status(c, 422, "Invalid",
                     "the server rejected our request due to an error in our request");
    else if (reject == 2)
        /* A validation failure names the field: not a conflict. */
        reply_status(c, 422, "Invalid",
                     "SecurityGroupPosture \\\"web\\\" is invalid: metadata.finalizers[0]: "
                     "Invalid value");
    else
        fake_reply(c, 200, "{\"metadata\":{\"name\":\"web\"}}");
}

Test(finalizer_http, add_remove_and_conflict, .timeout = 60)
{
    struct fin_srv f;
    memset(&f, 0, sizeof(f));
    pthread_mutex_init(&f.lock, NULL);
    struct fake_server *s = fake_server_start(finalizer_handler, &f);
    struct np_kube_client *c = client_for(s, NULL, NULL);
    json_object *obj = NULL, *done = NULL;
    const char *text = "{\"metadata\":{\"name\":\"web\",\"namespace\":\"shop\"}}";
    const char *text_done = "{\"metadata\":{\"name\":\"web\",\"namespace\":\"shop\","
                            "\"finalizers\":[\"netposture.dev/finalizer\"]}}";
    cr_assert_eq(np_kube_json_parse(&obj, text, strlen(text)), 0);
    cr_assert_eq(np_kube_json_parse(&done, text_done, strlen(text_done)), 0);

    cr_assert_eq(np_kube_finalizer_add(c, &sgp, obj, NP_KUBE_FINALIZER), 0, "%s",
                 np_error_message());
    cr_assert_eq(f.requests, 1);
    cr_assert_str_eq(f.ctype, "application/json-patch+json");
    cr_assert(strstr(f.body, "\"op\":\"test\"") != NULL);
    /* Nothing to do: no request. */
    cr_assert_eq(np_kube_finalizer_add(c, &sgp, done, NP_KUBE_FINALIZER), 0);
    cr_assert_eq(np_kube_finalizer_remove(c, &sgp, obj, NP_KUBE_FINALIZER), 0);
    cr_assert_eq(f.requests, 1);
    cr_assert_eq(np_kube_finalizer_remove(c, &sgp, done, NP_KUBE_FINALIZER), 0);
    cr_assert_eq(f.requests, 2);
    cr_assert(strstr(f.body, "\"op\":\"remove\"") != NULL);

    f.reject = 1;
    cr_assert_eq(np_kube_finalizer_add(c, &sgp, obj, NP_KUBE_FINALIZER), NP_ECONFLICT);
    cr_assert(strstr(np_error_message(), "finalizers changed meanwhile") != NULL, "%s",
              np_error_message());
    cr_assert_eq(np_kube_finalizer_remove(c, &sgp, done, NP_KUBE_FINALIZER), NP_ECONFLICT);
    f.reject = 2;
    cr_assert_eq(np_kube_finalizer_add(c, &sgp, obj, NP_KUBE_FINALIZER), NP_EINVAL);
    cr_assert(strstr(np_error_message(), "metadata.finalizers[0]") != NULL, "%s",
              np_error_message());
    json_object_put(obj);
    json_object_put(done);
    np_kube_client_destroy(c);
    fake_server_stop(s);
}

/* ------------------------------------------------------------ fencing */

static void reply_one(void *ctx, const struct fake_req *req, struct fake_conn *conn)
{
    (void)ctx;
    (void)req;
    char *body = obj_json("shop", "web", "7");
    fake_reply(conn, 200, body);
    free(body);
}

static bool closed_gate(void *ctx)
{
    return *(bool *)ctx;
}

Test(http, a_closed_write_gate_sends_no_write_but_lets_reads_through)
{
    struct fake_server *s = fake_server_start(reply_one, NULL);
    struct np_kube_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.server = (char *)fake_server_url(s);
    bool open = false;
    struct observed seen;
    memset(&seen, 0, sizeof(seen));
    struct np_kube_client_options o = {.request_timeout_ms = 5000,
                                       .write_gate = closed_gate,
                                       .write_gate_ctx = &open,
                                       .observer = observe_request,
                                       .observer_ctx = &seen};
    struct np_kube_client *c = NULL;
    cr_assert_eq(np_kube_client_new(&c, &cfg, &o), 0, "%s", np_error_message());
    json_object *obj = NULL;
    cr_expect_eq(np_kube_get(c, &obj, &np_kube_res_leases, "shop", "web"), 0, "%s",
                 np_error_message());
    json_object_put(obj);
    cr_expect_eq(fake_server_count(s), 1);
    cr_expect_eq(np_kube_status_patch(c, NULL, &np_kube_res_leases, "shop", "web", "{}"),
                 NP_EDENIED);
    cr_expect(strstr(np_error_message(), "leader lease") != NULL, "%s", np_error_message());
    cr_expect_eq(fake_server_count(s), 1, "nothing sent while fenced");
    open = true;
    cr_expect_eq(np_kube_status_patch(c, NULL, &np_kube_res_leases, "shop", "web", "{}"), 0, "%s",
                 np_error_message());
    cr_expect_eq(fake_server_count(s), 2);
    cr_expect_str_eq(seen.methods, "GET,PATCH", "requests observed; the fenced one was not sent");
    cr_expect_eq(seen.status[0], 200);
    cr_expect_eq(seen.status[1], 200);
    np_kube_client_destroy(c);
    fake_server_stop(s);
}
