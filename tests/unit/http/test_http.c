/*
 * Unit tests for pkg/http: metrics rendering in the Prometheus text format, label escaping,
 * and the libwebsockets server answering /metrics, /healthz and /readyz on loopback.
 */
#include "http/http.h"

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

Test(http_metrics, renders_counters_gauges_histograms)
{
    struct np_metrics *m = np_metrics_new();
    static const double buckets[] = {0.5, 1, 2.5};
    np_metrics_describe(m, "np_requests_total", NP_METRIC_COUNTER, "Requests.", NULL, 0);
    np_metrics_describe(m, "np_depth", NP_METRIC_GAUGE, "Depth.", NULL, 0);
    np_metrics_describe(m, "np_latency_seconds", NP_METRIC_HISTOGRAM, "Latency.", buckets, 3);
    struct np_buf l = NP_BUF_INIT;
    np_metrics_labels(&l, "action", "Describe", "code", "OK");
    np_metrics_counter_add(m, "np_requests_total", np_buf_cstr(&l), 1);
    np_metrics_counter_add(m, "np_requests_total", np_buf_cstr(&l), 2);
    np_metrics_counter_add(m, "np_requests_total", np_buf_cstr(&l), -5); /* ignored */
    np_metrics_gauge_set(m, "np_depth", NULL, 7);
    np_metrics_histogram_observe(m, "np_latency_seconds", NULL, 0.2);
    np_metrics_histogram_observe(m, "np_latency_seconds", NULL, 2);
    np_metrics_histogram_observe(m, "np_latency_seconds", NULL, 30);
    np_metrics_counter_add(m, "np_undeclared_total", NULL, 1);
    cr_assert_eq(np_metrics_value(m, "np_requests_total", np_buf_cstr(&l)), 3);

    struct np_buf out = NP_BUF_INIT;
    np_metrics_render(m, &out);
    const char *want = "# HELP np_depth Depth.\n"
                       "# TYPE np_depth gauge\n"
                       "np_depth 7\n"
                       "# HELP np_latency_seconds Latency.\n"
                       "# TYPE np_latency_seconds histogram\n"
                       "np_latency_seconds_bucket{le=\"0.5\"} 1\n"
                       "np_latency_seconds_bucket{le=\"1\"} 1\n"
                       "np_latency_seconds_bucket{le=\"2.5\"} 2\n"
                       "np_latency_seconds_bucket{le=\"+Inf\"} 3\n"
                       "np_latency_seconds_sum 32.2\n"
                       "np_latency_seconds_count 3\n"
                       "# HELP np_requests_total Requests.\n"
                       "# TYPE np_requests_total counter\n"
                       "np_requests_total{action=\"Describe\",code=\"OK\"} 3\n";
    cr_assert_str_eq(np_buf_cstr(&out), want);
    np_buf_clean_up(&out);
    np_buf_clean_up(&l);
    np_metrics_destroy(m);
}

Test(http_metrics, removes_a_series)
{
    struct np_metrics *m = np_metrics_new();
    np_metrics_describe(m, "np_ready", NP_METRIC_GAUGE, "Ready.", NULL, 0);
    np_metrics_gauge_set(m, "np_ready", "name=\"a\"", 1);
    np_metrics_gauge_set(m, "np_ready", "name=\"b\"", 0);
    np_metrics_gauge_set(m, "np_ready", "name=\"c\"", 1);
    np_metrics_remove(m, "np_ready", "name=\"b\"");
    np_metrics_remove(m, "np_ready", "name=\"zz\"");  /* absent: no-op */
    np_metrics_remove(m, "np_unknown", "name=\"a\""); /* unknown family: no-op */
    struct np_buf out = NP_BUF_INIT;
    np_metrics_render(m, &out);
    cr_assert_str_eq(np_buf_cstr(&out), "# HELP np_ready Ready.\n"
                                        "# TYPE np_ready gauge\n"
                                        "np_ready{name=\"a\"} 1\n"
                                        "np_ready{name=\"c\"} 1\n");
    np_metrics_remove(m, "np_ready", "name=\"a\"");
    np_metrics_remove(m, "np_ready", "name=\"c\"");
    np_buf_reset(&out);
    np_metrics_render(m, &out);
    cr_assert_str_eq(np_buf_cstr(&out), "# HELP np_ready Ready.\n# TYPE np_ready gauge\n",
                     "the family stays declared with no series");
    np_buf_clean_up(&out);
    np_metrics_destroy(m);
}

Test(http_metrics, histogram_of_one_labelled_series)
{
    struct np_metrics *m = np_metrics_new();
    static const double buckets[] = {0.005, 0.1, 60};
    np_metrics_describe(m, "np_d_seconds", NP_METRIC_HISTOGRAM, "D.", buckets, 3);
    np_metrics_histogram_observe(m, "np_d_seconds", "action=\"X\"", 0.005); /* le is inclusive */
    np_metrics_histogram_observe(m, "np_d_seconds", "action=\"X\"", 61);
    cr_assert_eq(np_metrics_value(m, "np_d_seconds", "action=\"X\""), 2);
    cr_assert_float_eq(np_metrics_sum(m, "np_d_seconds", "action=\"X\""), 61.005, 1e-9);
    struct np_buf out = NP_BUF_INIT;
    np_metrics_render(m, &out);
    cr_assert_str_eq(np_buf_cstr(&out), "# HELP np_d_seconds D.\n"
                                        "# TYPE np_d_seconds histogram\n"
                                        "np_d_seconds_bucket{action=\"X\",le=\"0.005\"} 1\n"
                                        "np_d_seconds_bucket{action=\"X\",le=\"0.1\"} 1\n"
                                        "np_d_seconds_bucket{action=\"X\",le=\"60\"} 1\n"
                                        "np_d_seconds_bucket{action=\"X\",le=\"+Inf\"} 2\n"
                                        "np_d_seconds_sum{action=\"X\"} 61.005\n"
                                        "np_d_seconds_count{action=\"X\"} 2\n");
    np_buf_clean_up(&out);
    np_metrics_destroy(m);
}

static void collect_count(void *ctx, struct np_metrics *m)
{
    int *calls = ctx;
    (*calls)++;
    np_metrics_gauge_set(m, "np_scrapes", NULL, *calls);
    np_metrics_counter_set_total(m, "np_cpu_total", NULL, *calls == 1 ? 5 : 3); /* never lowered */
}

Test(http_metrics, collectors_run_before_each_render)
{
    struct np_metrics *m = np_metrics_new();
    int calls = 0;
    np_metrics_describe(m, "np_scrapes", NP_METRIC_GAUGE, "Scrapes.", NULL, 0);
    np_metrics_describe(m, "np_cpu_total", NP_METRIC_COUNTER, "CPU.", NULL, 0);
    np_metrics_add_collector(m, collect_count, &calls);
    struct np_buf out = NP_BUF_INIT;
    np_metrics_render(m, &out);
    np_buf_reset(&out);
    np_metrics_render(m, &out);
    cr_assert_eq(calls, 2);
    cr_assert_str_eq(np_buf_cstr(&out), "# HELP np_cpu_total CPU.\n"
                                        "# TYPE np_cpu_total counter\n"
                                        "np_cpu_total 5\n"
                                        "# HELP np_scrapes Scrapes.\n"
                                        "# TYPE np_scrapes gauge\n"
                                        "np_scrapes 2\n");
    np_buf_clean_up(&out);
    np_metrics_destroy(m);
}

Test(http_metrics, escapes_help)
{
    struct np_metrics *m = np_metrics_new();
    np_metrics_describe(m, "np_x", NP_METRIC_GAUGE, "a\\b\nc", NULL, 0);
    struct np_buf out = NP_BUF_INIT;
    np_metrics_render(m, &out);
    cr_assert_str_eq(np_buf_cstr(&out), "# HELP np_x a\\\\b\\nc\n# TYPE np_x gauge\n");
    np_buf_clean_up(&out);
    np_metrics_destroy(m);
}

Test(http_metrics, process_collector)
{
    struct np_metrics *m = np_metrics_new();
    np_metrics_add_process_collector(m);
    struct np_buf out = NP_BUF_INIT;
    np_metrics_render(m, &out);
    np_buf_clean_up(&out);
    cr_expect_gt(np_metrics_value(m, "process_resident_memory_bytes", NULL), 0);
    cr_expect_gt(np_metrics_value(m, "process_open_fds", NULL), 2, "stdin, stdout, stderr");
    double start = np_metrics_value(m, "process_start_time_seconds", NULL);
    double now = (double)np_time_now_ms() / 1000;
    cr_expect(start > now - 3600 && start <= now + 1, "start %f, now %f", start, now);
    cr_expect_geq(np_metrics_value(m, "process_cpu_seconds_total", NULL), 0);
    np_metrics_destroy(m);
}

Test(http_metrics, escapes_label_values)
{
    struct np_buf l = NP_BUF_INIT;
    np_metrics_labels(&l, "msg", "a\"b\\c\nd");
    cr_assert_str_eq(np_buf_cstr(&l), "msg=\"a\\\"b\\\\c\\nd\"");
    np_buf_clean_up(&l);
}

Test(http_server, parses_addresses)
{
    char host[64];
    int port = -1;
    cr_assert_eq(np_http_parse_addr("127.0.0.1:8080", host, sizeof(host), &port), 0);
    cr_assert_str_eq(host, "127.0.0.1");
    cr_assert_eq(port, 8080);
    cr_assert_eq(np_http_parse_addr(":9090", host, sizeof(host), &port), 0);
    cr_assert_str_eq(host, "");
    cr_assert_eq(np_http_parse_addr("[::1]:0", host, sizeof(host), &port), 0);
    cr_assert_str_eq(host, "::1");
    cr_assert_eq(np_http_parse_addr("localhost", host, sizeof(host), &port), NP_EINVAL);
    cr_assert_eq(np_http_parse_addr("h:99999", host, sizeof(host), &port), NP_EINVAL);
}

static bool ready_flag;

static bool healthy(void *ctx, struct np_buf *msg)
{
    (void)ctx;
    (void)msg;
    return true;
}

static bool ready(void *ctx, struct np_buf *msg)
{
    (void)ctx;
    if (!ready_flag)
        np_buf_puts(msg, "caches not synced");
    return ready_flag;
}

static size_t collect(char *p, size_t size, size_t n, void *ud)
{
    np_buf_append(ud, p, size * n);
    return size * n;
}

static long get(int port, const char *path, struct np_buf *body)
{
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    long code = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(c);
    return code;
}

Test(http_server, serves_metrics_and_probes)
{
    struct np_metrics *m = np_metrics_new();
    np_metrics_describe(m, "np_up", NP_METRIC_GAUGE, "Up.", NULL, 0);
    np_metrics_gauge_set(m, "np_up", NULL, 1);
    struct np_http_server_config cfg = {"127.0.0.1:0", m, healthy, ready, NULL};
    struct np_http_server *s = NULL;
    cr_assert_eq(np_http_server_start(&s, &cfg), 0, "%s", np_error_message());
    int port = np_http_server_port(s);
    cr_assert_gt(port, 0);

    struct np_buf body = NP_BUF_INIT;
    cr_assert_eq(get(port, "/metrics", &body), 200);
    cr_assert(strstr(np_buf_cstr(&body), "np_up 1\n") != NULL);
    np_buf_reset(&body);
    cr_assert_eq(get(port, "/healthz", &body), 200);
    cr_assert_str_eq(np_buf_cstr(&body), "ok\n");
    np_buf_reset(&body);
    ready_flag = false;
    cr_assert_eq(get(port, "/readyz", &body), 503);
    cr_assert_str_eq(np_buf_cstr(&body), "not ok: caches not synced\n");
    np_buf_reset(&body);
    ready_flag = true;
    cr_assert_eq(get(port, "/readyz", &body), 200);
    np_buf_reset(&body);
    cr_assert_eq(get(port, "/nope", &body), 404);
    np_buf_clean_up(&body);
    np_http_server_destroy(s);
    np_metrics_destroy(m);
}
