/*
 * The reconcile fixture (see fixture.h): the controller assembled by hand, the fake API
 * server's handler (postures with their status subresource, merge / JSON / apply patches,
 * managedFields for the finalizer, Events, namespaces) and the in-memory EC2.
 */
#include "fixture.h"

#include "aws/private/aws_private.h"
#include "kube/private/store.h"

#include <criterion/criterion.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SGP_PREFIX "/apis/netposture.dev/v1alpha1/namespaces/"
#define EVENTS_PREFIX "/apis/events.k8s.io/v1/namespaces/"
#define DEADLINE_MS 10000

/* ---------------------------------------------------------------- JSON patches */

static json_object *copy(json_object *o)
{
    json_object *c = NULL;
    if (o)
        json_object_deep_copy(o, &c, NULL);
    return c;
}

/* RFC 7386 onto target (an object). */
static void merge_patch(json_object *target, json_object *patch)
{
    json_object_object_foreach(patch, k, v)
    {
        json_object *have = NULL;
        json_object_object_get_ex(target, k, &have);
        if (!v) {
            json_object_object_del(target, k);
        } else if (json_object_is_type(v, json_type_object) && have &&
                   json_object_is_type(have, json_type_object)) {
            merge_patch(have, v);
        } else if (json_object_is_type(v, json_type_object)) {
            json_object *fresh = json_object_new_object();
            merge_patch(fresh, v);
            json_object_object_add(target, k, fresh);
        } else {
            json_object_object_add(target, k, copy(v));
        }
    }
}

/* Resolves a JSON pointer to its parent container and last token (owned); NULL on failure. */
static json_object *pointer_parent(json_object *root, const char *path, char **last)
{
    *last = NULL;
    if (!path || path[0] != '/')
        return NULL;
    json_object *cur = root;
    char *dup = np_strdup(path + 1);
    char *p = dup;
    for (;;) {
        char *slash = strchr(p, '/');
        if (!slash) {
            *last = np_strdup(p);
            break;
        }
        *slash = '\0';
        json_object *next = NULL;
        if (json_object_is_type(cur, json_type_object))
            json_object_object_get_ex(cur, p, &next);
        else if (json_object_is_type(cur, json_type_array))
            next = json_object_array_get_idx(cur, (size_t)strtoul(p, NULL, 10));
        if (!next) {
            cur = NULL;
            break;
        }
        cur = next;
        p = slash + 1;
    }
    free(dup);
    return cur;
}

static json_object *pointer_get(json_object *parent, const char *last)
{
    json_object *v = NULL;
    if (json_object_is_type(parent, json_type_object))
        json_object_object_get_ex(parent, last, &v);
    else if (json_object_is_type(parent, json_type_array) && strcmp(last, "-") != 0 &&
             (size_t)strtoul(last, NULL, 10) < json_object_array_length(parent))
        v = json_object_array_get_idx(parent, (size_t)strtoul(last, NULL, 10));
    return v;
}

/* RFC 6902 (test, add, remove, replace) onto obj; false when an op fails. */
static bool json_patch(json_object *obj, json_object *ops)
{
    size_t n = json_object_is_type(ops, json_type_array) ? json_object_array_length(ops) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *op = json_object_array_get_idx(ops, i);
        const char *kind = np_json_path_str(op, "op", NP_JSON_END);
        json_object *value = np_json_path(op, "value", NP_JSON_END);
        char *last = NULL;
        json_object *parent = pointer_parent(obj, np_json_path_str(op, "path", NP_JSON_END), &last);
        bool ok = parent != NULL;
        if (ok && np_str_eq(kind, "test")) {
            json_object *have = pointer_get(parent, last);
            ok = (!have && !value) || (have && value && json_object_equal(have, value));
        } else if (ok && (np_str_eq(kind, "add") || np_str_eq(kind, "replace"))) {
            if (json_object_is_type(parent, json_type_object))
                json_object_object_add(parent, last, copy(value));
            else if (json_object_is_type(parent, json_type_array) && strcmp(last, "-") == 0)
                json_object_array_add(parent, copy(value));
            else
                ok = false; /* inserts in the middle of a list: not needed here */
        } else if (ok && np_str_eq(kind, "remove")) {
            ok = pointer_get(parent, last) != NULL;
            if (ok && json_object_is_type(parent, json_type_object))
                json_object_object_del(parent, last);
            else if (ok)
                json_object_array_del_idx(parent, (size_t)strtoul(last, NULL, 10), 1);
        } else if (ok) {
            ok = false;
        }
        free(last);
        if (!ok)
            return false;
    }
    return true;
}

/* ---------------------------------------------------------------- managedFields */

static bool list_has(json_object *list, const char *s)
{
    size_t n = json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
    for (size_t i = 0; i < n; i++)
        if (np_str_eq(json_object_get_string(json_object_array_get_idx(list, i)), s))
            return true;
    return false;
}

/*
 * What the API server records: the manager of a write that added a finalizer owns it
 * (f:metadata.f:finalizers.v:"<f>"); finalizers no longer listed are owned by nobody.
 */
static void track_finalizers(json_object *obj, json_object *before, const char *manager)
{
    json_object *meta = np_json_path(obj, "metadata", NP_JSON_END);
    json_object *now = np_json_path(meta, "finalizers", NP_JSON_END);
    json_object *mf = np_json_path(meta, "managedFields", NP_JSON_END);
    if (!mf) {
        mf = json_object_new_array();
        json_object_object_add(meta, "managedFields", mf);
    }
    size_t n = json_object_is_type(now, json_type_array) ? json_object_array_length(now) : 0;
    for (size_t i = 0; manager && i < n; i++) {
        const char *f = json_object_get_string(json_object_array_get_idx(now, i));
        if (list_has(before, f))
            continue;
        json_object *entry = NULL;
        for (size_t j = 0; j < json_object_array_length(mf) && !entry; j++) {
            json_object *e = json_object_array_get_idx(mf, j);
            if (np_str_eq(np_json_path_str(e, "manager", NP_JSON_END), manager))
                entry = e;
        }
        if (!entry) {
            entry = json_tokener_parse("{\"operation\":\"Update\",\"apiVersion\":"
                                       "\"netposture.dev/v1alpha1\",\"fieldsType\":\"FieldsV1\","
                                       "\"fieldsV1\":{\"f:metadata\":{\"f:finalizers\":{}}}}");
            json_object_object_add(entry, "manager", json_object_new_string(manager));
            json_object_array_add(mf, entry);
        }
        char *vk = np_strdupf("v:\"%s\"", f);
        json_object_object_add(
            np_json_path(entry, "fieldsV1", "f:metadata", "f:finalizers", NP_JSON_END), vk,
            json_object_new_object());
        free(vk);
    }
    for (size_t j = 0; j < json_object_array_length(mf); j++) {
        json_object *owned = np_json_path(json_object_array_get_idx(mf, j), "fieldsV1",
                                          "f:metadata", "f:finalizers", NP_JSON_END);
        if (!owned)
            continue;
        char **drop = NULL;
        size_t nd = 0;
        json_object_object_foreach(owned, k, v)
        {
            (void)v;
            char *f = np_strndup(k + 3, strlen(k) > 4 ? strlen(k) - 4 : 0);
            if (!list_has(now, f)) {
                drop = np_xrealloc(drop, (nd + 1) * sizeof(*drop));
                drop[nd++] = np_strdup(k);
            }
            free(f);
        }
        for (size_t d = 0; d < nd; d++) {
            json_object_object_del(owned, drop[d]);
            free(drop[d]);
        }
        free(drop);
    }
}

/* ---------------------------------------------------------------- the API server */

static void bump(struct fx *fx, json_object *obj)
{
    char rv[32];
    snprintf(rv, sizeof(rv), "%lld", (long long)++fx->rv);
    json_object_object_add(np_json_path(obj, "metadata", NP_JSON_END), "resourceVersion",
                           json_object_new_string(rv));
}

static void reply_obj(struct fake_conn *conn, int status, json_object *obj)
{
    fake_reply(conn, status, json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN));
}

static void reply_status(struct fake_conn *conn, int code, const char *reason, const char *msg)
{
    char *body = np_strdupf("{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
                            "\"reason\":\"%s\",\"message\":\"%s\",\"code\":%d}",
                            reason, msg, code);
    fake_reply(conn, code, body);
    free(body);
}

static void serve_patch(struct fx *fx, const struct fake_req *req, struct fake_conn *conn,
                        const char *key, bool status_sub)
{
    json_object *obj = NULL;
    json_object_object_get_ex(fx->objs, key, &obj);
    if (!obj) {
        reply_status(conn, 404, "NotFound", "not found");
        return;
    }
    json_object *body = json_tokener_parse(req->body ? req->body : "");
    char manager[64];
    fake_query_get(req->query, "fieldManager", manager, sizeof(manager));
    json_object *work = copy(obj);
    json_object *before = copy(np_json_path(work, "metadata", "finalizers", NP_JSON_END));
    bool ok = body != NULL;
    if (ok && status_sub) {
        fx->status_patches++;
        json_object *st = np_json_path(body, "status", NP_JSON_END);
        json_object *wrap = json_object_new_object();
        json_object_object_add(wrap, "status", copy(st));
        if (st)
            merge_patch(work, wrap);
        json_object_put(wrap);
    } else if (ok && strstr(req->content_type, "merge-patch")) {
        json_object_object_del(body, "status");
        merge_patch(work, body);
    } else if (ok && strstr(req->content_type, "json-patch")) {
        ok = json_patch(work, body);
    } else if (ok && strstr(req->content_type, "apply-patch")) {
        /* Server-side apply of metadata.finalizers (the claim): the listed ones are added. */
        json_object *want = np_json_path(body, "metadata", "finalizers", NP_JSON_END);
        json_object *meta = np_json_path(work, "metadata", NP_JSON_END);
        json_object *list = np_json_path(meta, "finalizers", NP_JSON_END);
        if (!list) {
            list = json_object_new_array();
            json_object_object_add(meta, "finalizers", list);
        }
        for (size_t i = 0; want && i < json_object_array_length(want); i++) {
            const char *f = json_object_get_string(json_object_array_get_idx(want, i));
            if (!list_has(list, f))
                json_object_array_add(list, json_object_new_string(f));
        }
        /* An apply makes its manager an owner even of a value that was there. */
        json_object_put(before);
        before = NULL;
    } else {
        ok = false;
    }
    json_object_put(body);
    if (!ok) {
        json_object_put(work);
        json_object_put(before);
        reply_status(conn, 422, "Invalid",
                     "the server rejected our request due to an error in our request (test "
                     "failed)");
        return;
    }
    track_finalizers(work, before, manager[0] ? manager : NULL);
    json_object_put(before);
    json_object *fins = np_json_path(work, "metadata", "finalizers", NP_JSON_END);
    if (fins && json_object_array_length(fins) == 0)
        json_object_object_del(np_json_path(work, "metadata", NP_JSON_END), "finalizers");
    bump(fx, work);
    if (np_json_path(work, "metadata", "deletionTimestamp", NP_JSON_END) &&
        !np_json_path(work, "metadata", "finalizers", NP_JSON_END)) {
        reply_obj(conn, 200, work); /* the last finalizer went: the object is gone */
        json_object_put(work);
        json_object_object_del(fx->objs, key);
        return;
    }
    json_object_object_add(fx->objs, key, work);
    reply_obj(conn, 200, work);
}

static void serve_event(struct fx *fx, const struct fake_req *req, struct fake_conn *conn,
                        const char *name)
{
    if (strcmp(req->method, "POST") == 0) {
        json_object *ev = json_tokener_parse(req->body ? req->body : "");
        if (!ev) {
            reply_status(conn, 400, "BadRequest", "not JSON");
            return;
        }
        fx->events = np_xrealloc(fx->events, (fx->n_events + 1) * sizeof(*fx->events));
        fx->events[fx->n_events++] = (struct fx_event){
            np_strdup(np_json_path_str(ev, "metadata", "name", NP_JSON_END)),
            np_strdup(np_json_path_str(ev, "type", NP_JSON_END)),
            np_strdup(np_json_path_str(ev, "reason", NP_JSON_END)),
            np_strdup(np_json_path_str(ev, "note", NP_JSON_END)),
        };
        reply_obj(conn, 201, ev);
        json_object_put(ev);
        return;
    }
    /* A series bump of an earlier Event: counts as one more. */
    for (size_t i = 0; name && i < fx->n_events; i++) {
        if (!np_str_eq(fx->events[i].name, name))
            continue;
        struct fx_event e = fx->events[i];
        fx->events = np_xrealloc(fx->events, (fx->n_events + 1) * sizeof(*fx->events));
        fx->events[fx->n_events++] = (struct fx_event){np_strdup(e.name), np_strdup(e.type),
                                                       np_strdup(e.reason), np_strdup(e.note)};
        fake_reply(conn, 200, "{}");
        return;
    }
    reply_status(conn, 404, "NotFound", "no such event");
}

static void handler(void *ctx, const struct fake_req *req, struct fake_conn *conn)
{
    struct fx *fx = ctx;
    pthread_mutex_lock(&fx->lock);
    char ns[64] = "", name[128] = "", sub[32] = "";
    if (strncmp(req->path, SGP_PREFIX, strlen(SGP_PREFIX)) == 0 &&
        sscanf(req->path + strlen(SGP_PREFIX), "%63[^/]/securitygrouppostures/%127[^/]/%31s", ns,
               name, sub) >= 2) {
        char *key = np_strdupf("%s/%s", ns, name);
        json_object *obj = NULL;
        json_object_object_get_ex(fx->objs, key, &obj);
        if (strcmp(req->method, "GET") == 0 && obj)
            reply_obj(conn, 200, obj);
        else if (strcmp(req->method, "GET") == 0)
            reply_status(conn, 404, "NotFound", "not found");
        else if (strcmp(req->method, "PATCH") == 0)
            serve_patch(fx, req, conn, key, strcmp(sub, "status") == 0);
        else
            reply_status(conn, 405, "MethodNotAllowed", "not served by the fixture");
        free(key);
    } else if (strncmp(req->path, EVENTS_PREFIX, strlen(EVENTS_PREFIX)) == 0) {
        int n = sscanf(req->path + strlen(EVENTS_PREFIX), "%63[^/]/events/%127s", ns, name);
        serve_event(fx, req, conn, n == 2 ? name : NULL);
    } else if (strcmp(req->method, "GET") == 0 &&
               sscanf(req->path, "/api/v1/namespaces/%63s", ns) == 1 && !strchr(ns, '/')) {
        char *body = np_strdupf("{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":"
                                "{\"name\":\"%s\",\"labels\":{\"team\":\"%s\"}}}",
                                ns, ns);
        fake_reply(conn, 200, body);
        free(body);
    } else {
        reply_status(conn, 404, "NotFound", "not served by the fixture");
    }
    pthread_mutex_unlock(&fx->lock);
}

/* ---------------------------------------------------------------- stores */

static char *key_of(const char *name)
{
    return np_strdupf("%s/%s", FX_NS, name);
}

/* Puts the server's object (or its absence) into the informer store, as the watch would. */
static void sync_store(struct fx *fx, const char *name)
{
    char *key = key_of(name);
    struct np_kube_store *store = np_kube_informer_store(fx->ctl->sgp_inf);
    pthread_mutex_lock(&fx->lock);
    json_object *obj = NULL;
    json_object_object_get_ex(fx->objs, key, &obj);
    json_object *c = copy(obj);
    pthread_mutex_unlock(&fx->lock);
    if (c) {
        json_object_object_del(np_json_path(c, "metadata", NP_JSON_END), "managedFields");
        cr_assert_eq(np_kube_store_apply(store, NP_KUBE_MODIFIED, c, NULL), 0, "%s",
                     np_error_message());
    } else {
        json_object *old = NULL;
        if (np_kube_store_get(store, &old, key) == 0)
            np_kube_store_apply(store, NP_KUBE_DELETED, old, NULL);
        json_object_put(old);
    }
    json_object_put(c);
    free(key);
}

static void put_store(struct np_kube_informer *inf, const char *text)
{
    json_object *obj = json_tokener_parse(text);
    cr_assert_not_null(obj, "bad test JSON: %s", text);
    cr_assert_eq(np_kube_store_apply(np_kube_informer_store(inf), NP_KUBE_MODIFIED, obj, NULL), 0);
    json_object_put(obj);
}

static void put_account(struct fx *fx, const char *extra)
{
    fx->account_generation++;
    char *text = np_strdupf(
        "{\"apiVersion\":\"netposture.dev/v1alpha1\",\"kind\":\"CloudAccount\",\"metadata\":"
        "{\"name\":\"default\",\"uid\":\"uid-account\",\"generation\":%lld,\"resourceVersion\":"
        "\"%lld\"},\"spec\":{\"aws\":{\"region\":\"" FX_REGION "\",\"endpoint\":"
        "\"http://127.0.0.1:9\",\"credentials\":{\"source\":\"Environment\"}}%s}}",
        (long long)fx->account_generation, (long long)fx->account_generation, extra ? extra : "");
    put_store(fx->ctl->acct_inf, text);
    free(text);
}

/* Builds the account's region (client and poller) and waits for its first poll, so passes
 * never race it (a pass defers to a first poll still running). */
static void warm_region(struct fx *fx)
{
    struct np_controller_account_hold use;
    cr_assert_eq(np_controller_account_use(fx->ctl, "default", FX_NS, NULL, &use), 0);
    cr_assert_eq(use.reason, NP_CONTROLLER_REASON_NONE, "%s", use.message);
    int64_t deadline = np_time_mono_ms() + DEADLINE_MS;
    while (np_controller_region_first_poll_running(use.region) && np_time_mono_ms() < deadline)
        sched_yield();
    cr_assert(!np_controller_region_first_poll_running(use.region), "the first poll never ended");
    np_controller_account_hold_clean_up(&use);
}

/* The controller's EC2 seam: every region client talks to the fake. */
static void install_fake_ec2(void *ctx, struct np_aws_ec2 *ec2)
{
    np_aws_ec2_set_test_hooks(ec2, fake_ec2_hooks(ctx));
}

/* ---------------------------------------------------------------- start and stop */

void fx_begin(struct fx *fx)
{
    memset(fx, 0, sizeof(*fx));
    pthread_mutex_init(&fx->lock, NULL);
    fx->objs = json_object_new_object();
    fx->rv = 100;
    fake_clock_init(&fx->clock, FX_START_MS);
    fx->server = fake_server_start(handler, fx);
    fx->ec2 = fake_ec2_new();
    setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
    unsetenv("AWS_SESSION_TOKEN");
    unsetenv("AWS_ENDPOINT_URL");
    unsetenv("AWS_ENDPOINT_URL_EC2");
    unsetenv("AWS_ENDPOINT_URL_STS");
    unsetenv("AWS_ENDPOINT_URL_SQS");

    struct np_controller *ctl = np_xcalloc(1, sizeof(*ctl));
    ctl->opts.resync_ms = 10 * 60 * 1000; /* no second poll while a test runs */
    ctl->opts.workers = 1;
    ctl->clock = &fx->clock.clock;
    ctl->ec2_test_seam = install_fake_ec2;
    ctl->ec2_test_seam_ctx = fx->ec2;
    struct np_kube_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.server = (char *)fake_server_url(fx->server);
    struct np_kube_client_options kopts = {.user_agent = "unit", .request_timeout_ms = 30000};
    cr_assert_eq(np_kube_client_new(&ctl->kube, &cfg, &kopts), 0, "%s", np_error_message());
    struct np_kube_recorder_options ropts = {.reporting_instance = "unit",
                                             .clock = &fx->clock.clock};
    cr_assert_eq(np_kube_recorder_new(&ctl->recorder, ctl->kube, &ropts), 0);
    struct np_kube_workqueue_options qopts = {.base_delay_ms = 1000, .max_delay_ms = 60000};
    cr_assert_eq(np_kube_workqueue_new(&ctl->queue, &qopts), 0);
    ctl->metrics = np_metrics_new();
    np_controller_metrics_describe(ctl->metrics);
    np_controller_reads_init(&ctl->reads);
    struct np_kube_informer_options io;
    memset(&io, 0, sizeof(io));
    io.resource = np_controller_res_accounts;
    cr_assert_eq(np_kube_informer_new(&ctl->acct_inf, ctl->kube, &io), 0); /* never started */
    io.resource = np_controller_res_sgp;
    cr_assert_eq(np_kube_informer_new(&ctl->sgp_inf, ctl->kube, &io), 0);
    io.resource = np_kube_res_namespaces;
    cr_assert_eq(np_kube_informer_new(&ctl->ns_inf, ctl->kube, &io), 0);
    io.resource = np_controller_res_guardrails;
    cr_assert_eq(np_kube_informer_new(&ctl->guardrail_inf, ctl->kube, &io), 0);
    put_store(ctl->ns_inf, "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":"
                           "\"" FX_NS "\",\"uid\":\"uid-ns\",\"resourceVersion\":\"1\"}}");
    np_controller_accounts_init(ctl);
    fx->ctl = ctl;
}

void fx_account(struct fx *fx, const char *account_extra, bool warm)
{
    put_account(fx, account_extra);
    if (warm)
        warm_region(fx);
    fake_ec2_reset_calls(fx->ec2); /* the first poll's Describe */
}

void fx_start(struct fx *fx, const char *account_extra)
{
    fx_begin(fx);
    fx_account(fx, account_extra, true);
}

void fx_stop(struct fx *fx)
{
    struct np_controller *ctl = fx->ctl;
    np_controller_pollers_stop(ctl);
    np_controller_accounts_clean_up(ctl);
    cr_expect_eq(atomic_load(&ctl->accounts_live), 0, "accounts leaked");
    cr_expect_eq(atomic_load(&ctl->regions_live), 0, "regions leaked");
    cr_expect_eq(atomic_load(&ctl->first_polls), 0, "first polls counted wrong");
    np_kube_informer_destroy(ctl->acct_inf);
    np_kube_informer_destroy(ctl->sgp_inf);
    np_kube_informer_destroy(ctl->ns_inf);
    np_kube_informer_destroy(ctl->guardrail_inf);
    np_kube_recorder_destroy(ctl->recorder);
    np_kube_workqueue_shutdown(ctl->queue);
    np_kube_workqueue_destroy(ctl->queue);
    np_metrics_destroy(ctl->metrics);
    np_controller_reads_clean_up(&ctl->reads);
    np_kube_client_destroy(ctl->kube);
    free(ctl);
    fake_server_stop(fx->server);
    fake_ec2_destroy(fx->ec2);
    for (size_t i = 0; i < fx->n_events; i++) {
        free(fx->events[i].name);
        free(fx->events[i].type);
        free(fx->events[i].reason);
        free(fx->events[i].note);
    }
    free(fx->events);
    json_object_put(fx->objs);
    pthread_mutex_destroy(&fx->lock);
}

/* ---------------------------------------------------------------- postures */

void fx_put_guardrail(struct fx *fx, const char *name, const char *spec)
{
    char *text = np_strdupf("{\"apiVersion\":\"netposture.dev/v1alpha1\",\"kind\":"
                            "\"PostureGuardrail\",\"metadata\":{\"name\":\"%s\",\"uid\":"
                            "\"uid-%s\",\"generation\":1,\"resourceVersion\":\"1\"},\"spec\":%s}",
                            name, name, spec);
    put_store(fx->ctl->guardrail_inf, text);
    free(text);
}

void fx_put_posture(struct fx *fx, const char *name, const char *spec)
{
    char *text = np_strdupf("{\"apiVersion\":\"netposture.dev/v1alpha1\",\"kind\":"
                            "\"SecurityGroupPosture\",\"metadata\":{\"name\":\"%s\",\"namespace\":"
                            "\"" FX_NS "\",\"uid\":\"uid-%s\",\"generation\":1},\"spec\":%s}",
                            name, name, spec);
    json_object *obj = json_tokener_parse(text);
    cr_assert_not_null(obj, "bad test JSON: %s", text);
    free(text);
    char *key = key_of(name);
    pthread_mutex_lock(&fx->lock);
    bump(fx, obj);
    json_object_object_add(fx->objs, key, obj);
    pthread_mutex_unlock(&fx->lock);
    free(key);
    sync_store(fx, name);
}

/* Runs fn on the server's object under the lock, bumps its version and syncs the store. */
static void edit(struct fx *fx, const char *name, void (*fn)(json_object *obj, const void *arg),
                 const void *arg)
{
    char *key = key_of(name);
    pthread_mutex_lock(&fx->lock);
    json_object *obj = NULL;
    json_object_object_get_ex(fx->objs, key, &obj);
    cr_assert_not_null(obj, "no posture %s", key);
    fn(obj, arg);
    bump(fx, obj);
    pthread_mutex_unlock(&fx->lock);
    free(key);
    sync_store(fx, name);
}

static void set_spec(json_object *obj, const void *arg)
{
    json_object *spec = json_tokener_parse(arg);
    cr_assert_not_null(spec, "bad test JSON: %s", (const char *)arg);
    json_object_object_add(obj, "spec", spec);
    json_object *meta = np_json_path(obj, "metadata", NP_JSON_END);
    int64_t gen = np_json_path_int(meta, 1, "generation", NP_JSON_END);
    json_object_object_add(meta, "generation", json_object_new_int64(gen + 1));
}

void fx_set_spec(struct fx *fx, const char *name, const char *spec)
{
    edit(fx, name, set_spec, spec);
}

struct annotation {
    const char *key, *value;
};

static void set_annotation(json_object *obj, const void *arg)
{
    const struct annotation *a = arg;
    json_object *meta = np_json_path(obj, "metadata", NP_JSON_END);
    json_object *ann = np_json_path(meta, "annotations", NP_JSON_END);
    if (!ann) {
        ann = json_object_new_object();
        json_object_object_add(meta, "annotations", ann);
    }
    if (a->value)
        json_object_object_add(ann, a->key, json_object_new_string(a->value));
    else
        json_object_object_del(ann, a->key);
}

void fx_set_annotation(struct fx *fx, const char *name, const char *key, const char *value)
{
    struct annotation a = {key, value};
    edit(fx, name, set_annotation, &a);
}

static void add_finalizer(json_object *obj, const void *arg)
{
    json_object *meta = np_json_path(obj, "metadata", NP_JSON_END);
    json_object *list = np_json_path(meta, "finalizers", NP_JSON_END);
    json_object *before = copy(list);
    if (!list) {
        list = json_object_new_array();
        json_object_object_add(meta, "finalizers", list);
    }
    json_object_array_add(list, json_object_new_string(NP_KUBE_FINALIZER));
    track_finalizers(obj, before, arg);
    json_object_put(before);
}

void fx_add_finalizer(struct fx *fx, const char *name, const char *manager)
{
    edit(fx, name, add_finalizer, manager);
}

static void mark_deleted(json_object *obj, const void *arg)
{
    char ts[40];
    np_time_format_rfc3339(ts, sizeof(ts), *(const int64_t *)arg);
    json_object_object_add(np_json_path(obj, "metadata", NP_JSON_END), "deletionTimestamp",
                           json_object_new_string(ts));
}

void fx_delete(struct fx *fx, const char *name)
{
    char *key = key_of(name);
    pthread_mutex_lock(&fx->lock);
    json_object *obj = NULL;
    json_object_object_get_ex(fx->objs, key, &obj);
    cr_assert_not_null(obj, "no posture %s", key);
    bool finalizers = np_json_path(obj, "metadata", "finalizers", NP_JSON_END) != NULL;
    if (!finalizers)
        json_object_object_del(fx->objs, key);
    pthread_mutex_unlock(&fx->lock);
    free(key);
    if (finalizers) {
        int64_t now = np_controller_now_ms(fx->ctl);
        edit(fx, name, mark_deleted, &now);
    } else {
        sync_store(fx, name);
    }
}

/* ---------------------------------------------------------------- the pass */

int fx_reconcile(struct fx *fx, const char *name, struct np_controller_result *res)
{
    memset(res, 0, sizeof(*res));
    char *key = key_of(name);
    int rc = np_controller_reconcile_sgp(fx->ctl, key, res);
    free(key);
    sync_store(fx, name);
    return rc;
}

void fx_notice(struct fx *fx, const char *group_id)
{
    free(np_controller_account_note_event(fx->ctl, "default", NULL, group_id, NULL, false, NULL, 0,
                                          NULL));
}

void fx_advance(struct fx *fx, int64_t ms)
{
    fake_clock_advance(&fx->clock, ms);
}

/* ---------------------------------------------------------------- reading results */

json_object *fx_get(struct fx *fx, const char *name)
{
    char *key = key_of(name);
    pthread_mutex_lock(&fx->lock);
    json_object *obj = NULL;
    json_object_object_get_ex(fx->objs, key, &obj);
    json_object *c = copy(obj);
    pthread_mutex_unlock(&fx->lock);
    free(key);
    return c;
}

const char *fx_cond(json_object *obj, const char *type, const char **reason)
{
    json_object *conds = np_json_path(obj, "status", "conditions", NP_JSON_END);
    size_t n = json_object_is_type(conds, json_type_array) ? json_object_array_length(conds) : 0;
    if (reason)
        *reason = NULL;
    for (size_t i = 0; i < n; i++) {
        json_object *c = json_object_array_get_idx(conds, i);
        if (!np_str_eq(np_json_path_str(c, "type", NP_JSON_END), type))
            continue;
        if (reason)
            *reason = np_json_path_str(c, "reason", NP_JSON_END);
        return np_json_path_str(c, "status", NP_JSON_END);
    }
    return NULL;
}

json_object *fx_drift_item(json_object *obj, const char *scope, const char *change)
{
    json_object *items = np_json_path(obj, "status", "drift", "items", NP_JSON_END);
    size_t n = json_object_is_type(items, json_type_array) ? json_object_array_length(items) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *it = json_object_array_get_idx(items, i);
        const char *s = np_json_path_str(it, "direction", NP_JSON_END);
        if (np_str_eq(s, scope) && np_str_eq(np_json_path_str(it, "change", NP_JSON_END), change))
            return it;
    }
    return NULL;
}

const char *fx_group_id(json_object *obj)
{
    return np_json_path_str(obj, "status", "groupId", NP_JSON_END);
}

bool fx_has_finalizer(json_object *obj)
{
    return np_kube_object_has_finalizer(obj, NP_KUBE_FINALIZER);
}

int fx_events(struct fx *fx, const char *reason, const char *type)
{
    int n = 0;
    pthread_mutex_lock(&fx->lock);
    for (size_t i = 0; i < fx->n_events; i++)
        n += np_str_eq(fx->events[i].reason, reason) &&
             (!type || np_str_eq(fx->events[i].type, type));
    pthread_mutex_unlock(&fx->lock);
    return n;
}

char *fx_event_log(struct fx *fx)
{
    struct np_buf b = NP_BUF_INIT;
    pthread_mutex_lock(&fx->lock);
    for (size_t i = 0; i < fx->n_events; i++)
        np_buf_appendf(&b, "%s %s: %s\n", fx->events[i].type, fx->events[i].reason,
                       fx->events[i].note);
    pthread_mutex_unlock(&fx->lock);
    return np_buf_take(&b);
}
