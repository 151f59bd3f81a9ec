/*
 * Unit tests of the pure pieces of pkg/kube: Status -> NP code mapping, resource paths, URL
 * query encoding, base64, YAML limits, object keys, the reconnect backoff and the string map.
 */
#include "helpers.h"
#include "kube/kube.h"
#include "kube/private/kube_private.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ status mapping */

struct status_case {
    long http;
    const char *body;
    int want;
    const char *needle; /* in the message */
};

Test(status, maps_code_and_reason)
{
    static const struct status_case cases[] = {
        {404,
         "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"message\":"
         "\"secrets \\\"aws\\\" not found\",\"reason\":\"NotFound\",\"code\":404}",
         NP_ENOTFOUND, "secrets \"aws\" not found"},
        {409,
         "{\"kind\":\"Status\",\"status\":\"Failure\",\"message\":\"Operation cannot be "
         "fulfilled: the object has been modified\",\"reason\":\"Conflict\",\"code\":409}",
         NP_ECONFLICT, "has been modified"},
        {409,
         "{\"kind\":\"Status\",\"status\":\"Failure\",\"message\":\"events \\\"x\\\" already "
         "exists\",\"reason\":\"AlreadyExists\",\"code\":409}",
         NP_EEXIST, "already exists"},
        {410,
         "{\"kind\":\"Status\",\"status\":\"Failure\",\"message\":\"The provided continue "
         "parameter is too old\",\"reason\":\"Expired\",\"code\":410}",
         NP_EGONE, "too old"},
        {401,
         "{\"kind\":\"Status\",\"message\":\"Unauthorized\",\"reason\":\"Unauthorized\","
         "\"code\":401}",
         NP_EAUTH, "Unauthorized"},
        {403,
         "{\"kind\":\"Status\",\"message\":\"secrets is forbidden: User \\\"np\\\" cannot get\","
         "\"reason\":\"Forbidden\",\"code\":403}",
         NP_EAUTH, "forbidden"},
        {422,
         "{\"kind\":\"Status\",\"message\":\"SecurityGroupPosture.netposture.dev \\\"web\\\" is "
         "invalid: spec.ingress[0].fromPort: Invalid value: 70000\",\"reason\":\"Invalid\","
         "\"code\":422}",
         NP_EINVAL, "spec.ingress[0].fromPort: Invalid value: 70000"},
        {400, "{\"kind\":\"Status\",\"message\":\"bad\",\"reason\":\"BadRequest\",\"code\":400}",
         NP_EINVAL, "BadRequest"},
        {429,
         "{\"kind\":\"Status\",\"message\":\"slow down\",\"reason\":\"TooManyRequests\","
         "\"code\":429}",
         NP_EAGAIN, "slow down"},
        {500,
         "{\"kind\":\"Status\",\"message\":\"etcd\",\"reason\":\"InternalError\",\"code\":500}",
         NP_EAGAIN, "InternalError"},
        {503, NULL, NP_EAGAIN, "HTTP 503"},
        {502, "<html>bad gateway</html>", NP_EAGAIN, "bad gateway"},
        {404, "", NP_ENOTFOUND, "HTTP 404"},
        {504,
         "{\"kind\":\"Status\",\"message\":\"Timeout: Too large resource version: 9, current: "
         "5\",\"reason\":\"Timeout\",\"details\":{\"causes\":[{\"reason\":"
         "\"ResourceVersionTooLarge\"}]},\"code\":504}",
         NP_EGONE, "Too large resource version"},
        {415,
         "{\"kind\":\"Status\",\"message\":\"the body of the request was in an unknown "
         "format\",\"reason\":\"UnsupportedMediaType\",\"code\":415}",
         NP_EINVAL, "unknown format"},
        /* The Status code wins over the HTTP status (watch ERROR events arrive in a 200). */
        {200, "{\"kind\":\"Status\",\"message\":\"gone\",\"reason\":\"Expired\",\"code\":410}",
         NP_EGONE, "gone"},
    };
    for (size_t i = 0; i < NP_ARRAY_LEN(cases); i++) {
        const struct status_case *c = &cases[i];
        np_error_clear();
        int rc = np_kube_status_to_error(c->http, c->body, c->body ? strlen(c->body) : 0,
                                         "GET /api/v1/x");
        cr_assert_eq(rc, c->want, "case %zu (HTTP %ld): got %s", i, c->http, np_error_name(rc));
        cr_assert(strstr(np_error_message(), c->needle) != NULL, "case %zu: \"%s\" lacks \"%s\"", i,
                  np_error_message(), c->needle);
        cr_assert(np_str_has_prefix(np_error_message(), "GET /api/v1/x: "), "case %zu", i);
    }
}

/* ------------------------------------------------------------ paths */

static const struct np_kube_resource sgp = {"netposture.dev", "v1alpha1", "securitygrouppostures",
                                            true};
static const struct np_kube_resource accounts = {"netposture.dev", "v1alpha1", "cloudaccounts",
                                                 false};

static void expect_path(const struct np_kube_resource *r, const char *ns, const char *name,
                        const char *sub, const char *want)
{
    char *path = NULL;
    int rc = np_kube_resource_path(&path, r, ns, name, sub);
    cr_assert_eq(rc, 0, "%s", np_error_message());
    cr_assert_str_eq(path, want);
    free(path);
}

Test(paths, built_by_one_function)
{
    expect_path(&np_kube_res_secrets, "ops", "aws", NULL, "/api/v1/namespaces/ops/secrets/aws");
    expect_path(&np_kube_res_secrets, NULL, NULL, NULL, "/api/v1/secrets");
    expect_path(&np_kube_res_namespaces, NULL, "shop", NULL, "/api/v1/namespaces/shop");
    expect_path(&sgp, "shop", NULL, NULL,
                "/apis/netposture.dev/v1alpha1/namespaces/shop/securitygrouppostures");
    expect_path(&sgp, NULL, NULL, NULL, "/apis/netposture.dev/v1alpha1/securitygrouppostures");
    expect_path(&sgp, "shop", "web", "status",
                "/apis/netposture.dev/v1alpha1/namespaces/shop/securitygrouppostures/web/status");
    expect_path(&accounts, NULL, "prod", "status",
                "/apis/netposture.dev/v1alpha1/cloudaccounts/prod/status");
    expect_path(&np_kube_res_events, "shop", "web.1a2b", NULL,
                "/apis/events.k8s.io/v1/namespaces/shop/events/web.1a2b");
    expect_path(&np_kube_res_leases, "kube-system", "netposture", NULL,
                "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/netposture");
    /* Segments are escaped, so a hostile name cannot change the path. */
    expect_path(&np_kube_res_secrets, "a b", "../x?y", NULL,
                "/api/v1/namespaces/a%20b/secrets/..%2Fx%3Fy");
}

Test(paths, refuses_bad_combinations)
{
    char *path = NULL;
    cr_assert_eq(np_kube_resource_path(&path, &sgp, NULL, "web", NULL), NP_EINVAL);
    cr_assert_eq(np_kube_resource_path(&path, &accounts, "shop", "prod", NULL), NP_EINVAL);
    cr_assert_eq(np_kube_resource_path(&path, &sgp, "shop", NULL, "status"), NP_EINVAL);
    struct np_kube_resource bad = {"", "", "x", true};
    cr_assert_eq(np_kube_resource_path(&path, &bad, NULL, NULL, NULL), NP_EINVAL);
    cr_assert_null(path);
}

Test(paths, query_encoding)
{
    struct np_buf q = NP_BUF_INIT;
    np_kube_query_add(&q, "labelSelector", "app=web,tier!=db");
    np_kube_query_add(&q, "continue", "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MX0=");
    np_kube_query_add(&q, "limit", "500");
    cr_assert_str_eq(np_buf_cstr(&q), "labelSelector=app%3Dweb%2Ctier%21%3Ddb&continue="
                                      "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MX0%3D&limit=500");
    np_buf_clean_up(&q);
}

/* ------------------------------------------------------------ base64 / yaml / json */

Test(codec, base64)
{
    unsigned char *out = NULL;
    size_t len = 0;
    cr_assert_eq(np_kube_base64_decode(&out, &len, "QUtJQUVYQU1QTEU=", 16), 0);
    cr_assert_eq(len, 11);
    cr_assert_str_eq((char *)out, "AKIAEXAMPLE");
    free(out);
    const char *wrapped = "aGVsbG8g\nd29ybGQ=\n";
    cr_assert_eq(np_kube_base64_decode(&out, &len, wrapped, strlen(wrapped)), 0);
    cr_assert_eq(len, 11);
    cr_assert_eq(memcmp(out, "hello world", 11), 0);
    free(out);
    /* Binary with NUL bytes keeps its length. */
    cr_assert_eq(np_kube_base64_decode(&out, &len, "AAEAAg==", 8), 0);
    cr_assert_eq(len, 4);
    cr_assert_eq(out[0], 0);
    cr_assert_eq(out[3], 2);
    free(out);
    cr_assert_eq(np_kube_base64_decode(&out, &len, "", 0), 0);
    cr_assert_eq(len, 0);
    free(out);
    cr_assert_eq(np_kube_base64_decode(&out, &len, "not*base64!", 11), NP_EPARSE);
    cr_assert_null(out);
}

Test(codec, yaml_aliases_and_limits)
{
    const char *ok = "base: &b {server: x}\ncopy: *b\nlist: [a, 'b', \"c\"]\nflag: true\n";
    json_object *o = NULL;
    cr_assert_eq(np_kube_yaml_parse(&o, ok, strlen(ok)), 0, "%s", np_error_message());
    cr_assert_str_eq(np_json_path_str(np_json_path(o, "copy", NP_JSON_END), "server", NP_JSON_END),
                     "x");
    cr_assert_str_eq(np_json_path_str(o, "flag", NP_JSON_END), "true");
    cr_assert_eq(json_object_array_length(np_json_path(o, "list", NP_JSON_END)), 3);
    json_object_put(o);

    /* A billion laughs stops at the node budget instead of eating the machine. */
    struct np_buf b = NP_BUF_INIT;
    np_buf_puts(&b, "a: &a [x,x,x,x,x,x,x,x,x,x]\n");
    for (char c = 'b'; c <= 'j'; c++) {
        np_buf_appendf(&b, "%c: &%c [", c, c);
        for (int i = 0; i < 10; i++)
            np_buf_appendf(&b, "%s*%c", i ? "," : "", c - 1);
        np_buf_puts(&b, "]\n");
    }
    cr_assert_eq(np_kube_yaml_parse(&o, b.data, b.len), NP_EPARSE);
    cr_assert_null(o);
    np_buf_clean_up(&b);

    const char *bad = "key: [unclosed\n";
    cr_assert_eq(np_kube_yaml_parse(&o, bad, strlen(bad)), NP_EPARSE);
    cr_assert(strstr(np_error_message(), "line") != NULL);
    cr_assert_eq(np_kube_yaml_parse(&o, "", 0), NP_EPARSE);
    const char *complex_key = "? [a]\n: b\n";
    cr_assert_eq(np_kube_yaml_parse(&o, complex_key, strlen(complex_key)), NP_EPARSE);
}

Test(codec, json_parse)
{
    json_object *o = NULL;
    cr_assert_eq(np_kube_json_parse(&o, "{\"a\":1} \n", 9), 0);
    json_object_put(o);
    cr_assert_eq(np_kube_json_parse(&o, "{\"a\":1} {}", 10), NP_EPARSE);
    cr_assert_eq(np_kube_json_parse(&o, "{\"a\":", 5), NP_EPARSE);
    cr_assert_eq(np_kube_json_parse(&o, "", 0), NP_EPARSE);
    cr_assert_null(o);
    /* Deeper than json-c's default of 32 levels (managedFields get there). */
    struct np_buf b = NP_BUF_INIT;
    for (int i = 0; i < 100; i++)
        np_buf_puts(&b, "{\"f\":");
    np_buf_puts(&b, "1");
    for (int i = 0; i < 100; i++)
        np_buf_putc(&b, '}');
    cr_assert_eq(np_kube_json_parse(&o, b.data, b.len), 0, "%s", np_error_message());
    json_object_put(o);
    np_buf_clean_up(&b);
}

/* ------------------------------------------------------------ keys */

Test(objects, keys)
{
    json_object *o = json_object_new_object();
    json_object *meta = json_object_new_object();
    json_object_object_add(o, "metadata", meta);
    char *key = NULL;
    cr_assert_eq(np_kube_object_key(&key, o), NP_EINVAL);
    json_object_object_add(meta, "name", json_object_new_string("prod"));
    cr_assert_eq(np_kube_object_key(&key, o), 0);
    cr_assert_str_eq(key, "prod");
    free(key);
    json_object_object_add(meta, "namespace", json_object_new_string("shop"));
    cr_assert_eq(np_kube_object_key(&key, o), 0);
    cr_assert_str_eq(key, "shop/prod");
    free(key);
    json_object_put(o);

    char *ns = NULL, *name = NULL;
    cr_assert_eq(np_kube_key_split("shop/web", &ns, &name), 0);
    cr_assert_str_eq(ns, "shop");
    cr_assert_str_eq(name, "web");
    free(ns);
    free(name);
    cr_assert_eq(np_kube_key_split("prod", &ns, &name), 0);
    cr_assert_null(ns);
    cr_assert_str_eq(name, "prod");
    free(name);
    cr_assert_eq(np_kube_key_split("a/b/c", &ns, &name), NP_EINVAL);
    cr_assert_eq(np_kube_key_split("/b", &ns, &name), NP_EINVAL);
    cr_assert_eq(np_kube_key_split("", &ns, &name), NP_EINVAL);
    cr_assert_null(ns);
    cr_assert_null(name);
}

/* ------------------------------------------------------------ backoff */

Test(backoff, doubles_caps_and_resets)
{
    struct np_kube_backoff b;
    np_kube_backoff_init(&b, 800, 30000, 120000);
    int64_t now = 0;
    static const int64_t bases[] = {800, 1600, 3200, 6400, 12800, 25600, 30000, 30000};
    for (size_t i = 0; i < NP_ARRAY_LEN(bases); i++) {
        int64_t d = np_kube_backoff_next(&b, now);
        int64_t hi = bases[i] + bases[i] / 4;
        if (hi > 30000)
            hi = 30000;
        cr_assert(d >= bases[i] && d <= hi, "attempt %zu: %lld not in [%lld, %lld]", i,
                  (long long)d, (long long)bases[i], (long long)hi);
        now += d;
    }
    /* Two healthy minutes later it starts over. */
    now += 120000;
    int64_t d = np_kube_backoff_next(&b, now);
    cr_assert(d >= 800 && d <= 1000, "after reset: %lld", (long long)d);
    /* Defaults. */
    np_kube_backoff_init(&b, 0, 0, 0);
    cr_assert_eq(b.initial_ms, 800);
    cr_assert_eq(b.reset_ms, 120000);
}

Test(backoff, jitter_varies)
{
    struct np_kube_backoff b;
    bool differs = false;
    int64_t first = -1;
    for (int i = 0; i < 50 && !differs; i++) {
        np_kube_backoff_init(&b, 10000, 60000, 120000);
        int64_t d = np_kube_backoff_next(&b, 0);
        if (first < 0)
            first = d;
        else if (d != first)
            differs = true;
    }
    cr_assert(differs, "no jitter in 50 draws");
}

/* ------------------------------------------------------------ strmap */

Test(strmap, insert_find_remove_grow)
{
    struct np_kube_strmap m;
    np_kube_strmap_init(&m);
    char key[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof(key), "ns/obj-%d", i);
        bool created = false;
        np_kube_strmap_upsert(&m, key, &created)->num = i;
        cr_assert(created);
    }
    cr_assert_eq(m.len, 1000);
    bool created = true;
    cr_assert_eq(np_kube_strmap_upsert(&m, "ns/obj-7", &created)->num, 7);
    cr_assert_not(created);
    for (int i = 0; i < 1000; i += 2) {
        snprintf(key, sizeof(key), "ns/obj-%d", i);
        cr_assert(np_kube_strmap_remove(&m, key));
    }
    cr_assert_not(np_kube_strmap_remove(&m, "ns/obj-0"));
    cr_assert_eq(m.len, 500);
    cr_assert_null(np_kube_strmap_find(&m, "ns/obj-10"));
    cr_assert_eq(np_kube_strmap_find(&m, "ns/obj-11")->num, 11);
    np_kube_strmap_clean_up(&m);
    cr_assert_null(np_kube_strmap_find(&m, "ns/obj-11"));
}
