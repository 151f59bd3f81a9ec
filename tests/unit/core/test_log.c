/*
 * The log format: one JSON object per line whose numeric fields are JSON numbers, the calling
 * thread's context fields (a reconcile's id and object) first and never twice, secret-named
 * keys redacted; the level can change while the process runs.
 */
#include "core/core.h"

#include <criterion/criterion.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* stderr goes to a temporary file while a test logs. */
static FILE *captured;
static int saved_stderr = -1;

static void capture(void)
{
    captured = tmpfile();
    cr_assert_not_null(captured);
    saved_stderr = dup(STDERR_FILENO);
    cr_assert(saved_stderr >= 0);
    cr_assert(dup2(fileno(captured), STDERR_FILENO) >= 0);
    np_log_configure(NP_LOG_INFO, NP_LOG_JSON);
}

/* What was logged since capture() (owned), stderr restored. */
static char *captured_text(void)
{
    dup2(saved_stderr, STDERR_FILENO);
    close(saved_stderr);
    long n = ftell(captured);
    char *text = np_xcalloc((size_t)n + 1, 1);
    rewind(captured);
    cr_assert_eq(fread(text, 1, (size_t)n, captured), (size_t)n);
    fclose(captured);
    return text;
}

/* The n-th line (0-based) parsed as JSON (owned). */
static json_object *line_json(const char *text, int n)
{
    const char *p = text;
    for (int i = 0; i < n && p; i++) {
        p = strchr(p, '\n');
        p = p ? p + 1 : NULL;
    }
    cr_assert(p && *p, "no line %d in:\n%s", n, text);
    const char *end = strchr(p, '\n');
    char *line = np_strndup(p, end ? (size_t)(end - p) : strlen(p));
    json_object *o = json_tokener_parse(line);
    cr_assert_not_null(o, "not JSON: %s", line);
    free(line);
    return o;
}

static size_t count_of(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

Test(log, numeric_fields_are_json_numbers)
{
    capture();
    np_log_info("polled", "region", "eu-west-1", NP_LOG_INT("groups", 42),
                NP_LOG_INT("delay_ms", -5));
    char *text = captured_text();
    json_object *o = line_json(text, 0);
    json_object *groups = np_json_path(o, "groups", NP_JSON_END);
    cr_assert(json_object_is_type(groups, json_type_int), "%s", text);
    cr_assert_eq(json_object_get_int64(groups), 42);
    cr_assert_eq(np_json_path_int(o, 0, "delay_ms", NP_JSON_END), -5);
    cr_assert_str_eq(np_json_path_str(o, "region", NP_JSON_END), "eu-west-1");
    json_object_put(o);
    free(text);
}

Test(log, context_fields_lead_every_line_of_the_thread_once)
{
    const char *kv[] = {"reconcileID", "0123456789abcdef",
                        "kind",        "SecurityGroupPosture",
                        "namespace",   "shop",
                        "name",        "web"};
    capture();
    np_log_context_set(kv, 4);
    np_log_info("remediated", "namespace", "shop", "name", "web", "action", "revoke");
    np_log_warn("second line");
    np_log_context_set(NULL, 0);
    np_log_info("after the pass");
    char *text = captured_text();
    for (int i = 0; i < 2; i++) {
        json_object *o = line_json(text, i);
        cr_assert_str_eq(np_json_path_str(o, "reconcileID", NP_JSON_END), "0123456789abcdef");
        cr_assert_str_eq(np_json_path_str(o, "kind", NP_JSON_END), "SecurityGroupPosture");
        cr_assert_str_eq(np_json_path_str(o, "namespace", NP_JSON_END), "shop");
        cr_assert_str_eq(np_json_path_str(o, "name", NP_JSON_END), "web");
        json_object_put(o);
    }
    cr_assert_eq(count_of(text, "\"name\":"), 2, "a key written twice on a line:\n%s", text);
    json_object *after = line_json(text, 2);
    cr_assert_null(np_json_path(after, "reconcileID", NP_JSON_END), "%s", text);
    json_object_put(after);
    free(text);
}

static void *log_elsewhere(void *arg)
{
    (void)arg;
    np_log_info("another thread");
    return NULL;
}

Test(log, context_is_the_calling_threads_own)
{
    const char *kv[] = {"reconcileID", "feedfacefeedface"};
    capture();
    np_log_context_set(kv, 1);
    pthread_t t;
    pthread_create(&t, NULL, log_elsewhere, NULL);
    pthread_join(t, NULL);
    np_log_context_set(NULL, 0);
    char *text = captured_text();
    cr_assert_eq(count_of(text, "feedface"), 0, "%s", text);
    free(text);
}

Test(log, secret_named_keys_are_redacted)
{
    capture();
    np_log_info("credentials", "sessionToken", "IQoJb3JpZ2luX2VjE", "SecretAccessKey", "wJalrX",
                "Authorization", "AWS4-HMAC-SHA256 Credential=AKIA", "account", "prod");
    char *text = captured_text();
    cr_assert_eq(count_of(text, "IQoJ") + count_of(text, "wJalrX") + count_of(text, "AKIA"), 0,
                 "%s", text);
    cr_assert_eq(count_of(text, "[redacted]"), 3, "%s", text);
    cr_assert_eq(count_of(text, "\"account\":\"prod\""), 1, "%s", text);
    free(text);
}

Test(log, level_changes_while_running)
{
    capture();
    np_log_set_level(NP_LOG_WARN);
    np_log_info("hidden at warn");
    cr_assert_eq(np_log_level(), NP_LOG_WARN);
    np_log_set_level(NP_LOG_DEBUG);
    np_log_debug("shown at debug");
    np_log_set_level((enum np_log_level)42); /* out of range: unchanged */
    cr_assert_eq(np_log_level(), NP_LOG_DEBUG);
    char *text = captured_text();
    cr_assert_eq(count_of(text, "hidden at warn"), 0, "%s", text);
    cr_assert_eq(count_of(text, "shown at debug"), 1, "%s", text);
    cr_assert_str_eq(np_log_level_name(NP_LOG_ERROR), "error");
    free(text);
}

Test(log, off_writes_nothing_and_is_not_a_level_to_log_at)
{
    capture();
    np_log_set_level(NP_LOG_OFF);
    cr_assert_eq(np_log_level(), NP_LOG_OFF);
    np_log_error("hidden when off");
    np_log(NP_LOG_OFF, "never a line", NP_LOG_END);
    np_log_set_level(NP_LOG_DEBUG);
    np_log(NP_LOG_OFF, "not even at debug", NP_LOG_END);
    char *text = captured_text();
    cr_assert_str_eq(text, "");
    cr_assert_str_eq(np_log_level_name(NP_LOG_OFF), "off");
    enum np_log_level l = NP_LOG_INFO;
    cr_assert_neq(np_log_level_parse("off", &l), 0); /* not for --log-level */
    free(text);
}

Test(log, text_format_writes_numbers_and_context)
{
    const char *kv[] = {"reconcileID", "00000000000000aa"};
    capture();
    np_log_configure(NP_LOG_INFO, NP_LOG_TEXT);
    np_log_context_set(kv, 1);
    np_log_info("polled", NP_LOG_INT("groups", 7), "token", "s3cr3t");
    np_log_context_set(NULL, 0);
    char *text = captured_text();
    cr_assert(strstr(text, " polled reconcileID=00000000000000aa groups=7 token=[redacted]\n"),
              "%s", text);
    free(text);
}
