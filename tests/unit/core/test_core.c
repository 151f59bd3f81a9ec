/*
 * Unit tests for pkg/core: buffers, strings, numbers, time formats, durations and hashes.
 */
#include "core/core.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

Test(core_buf, append_and_take)
{
    struct np_buf b = NP_BUF_INIT;
    cr_assert_str_eq(np_buf_cstr(&b), "");
    np_buf_puts(&b, "hello");
    np_buf_appendf(&b, " %d %s", 42, "world");
    cr_assert_str_eq(np_buf_cstr(&b), "hello 42 world");
    cr_assert_eq(b.len, 14);
    np_buf_consume(&b, 6);
    cr_assert_str_eq(np_buf_cstr(&b), "42 world");
    char *s = np_buf_take(&b);
    cr_assert_str_eq(s, "42 world");
    cr_assert_null(b.data);
    free(s);
}

Test(core_buf, grows_past_initial_capacity)
{
    struct np_buf b = NP_BUF_INIT;
    for (int i = 0; i < 10000; i++)
        np_buf_putc(&b, (char)('a' + i % 26));
    cr_assert_eq(b.len, 10000);
    cr_assert_eq(b.data[9999], 'a' + 9999 % 26);
    cr_assert_eq(b.data[10000], '\0');
    np_buf_clean_up(&b);
}

Test(core_str, parse_int64_bounds)
{
    int64_t v = 0;
    cr_assert_eq(np_parse_int64("443", 0, 65535, &v), 0);
    cr_assert_eq(v, 443);
    cr_assert_eq(np_parse_int64("70000", 0, 65535, &v), NP_EINVAL);
    cr_assert(strstr(np_error_message(), "out of range") != NULL);
    cr_assert_eq(np_parse_int64("12a", 0, 100, &v), NP_EINVAL);
    cr_assert_eq(np_parse_int64("", 0, 100, &v), NP_EINVAL);
    cr_assert_eq(np_parse_int64("-1", -1, 255, &v), 0);
    cr_assert_eq(v, -1);
}

Test(core_str, strlcpy_truncates)
{
    char out[4];
    cr_assert_eq(np_strlcpy(out, "abcdef", sizeof(out)), 6);
    cr_assert_str_eq(out, "abc");
}

Test(core_time, rfc3339_round_trip)
{
    int64_t ms = 0;
    cr_assert_eq(np_time_parse_rfc3339("2026-12-01T00:00:00Z", &ms), 0);
    cr_assert_eq(ms, 1796083200000LL);
    char out[40];
    np_time_format_rfc3339(out, sizeof(out), ms);
    cr_assert_str_eq(out, "2026-12-01T00:00:00Z");
    cr_assert_eq(np_time_parse_rfc3339("2026-12-01T01:00:00.250+01:00", &ms), 0);
    cr_assert_eq(ms, 1796083200250LL);
    np_time_format_micro(out, sizeof(out), ms);
    cr_assert_str_eq(out, "2026-12-01T00:00:00.250000Z");
    cr_assert_eq(np_time_parse_rfc3339("2026-12-01 00:00:00", &ms), NP_EINVAL);
    cr_assert_eq(np_time_parse_rfc3339("2026-12-01T00:00:00", &ms), NP_EINVAL);
}

static int64_t ts_ms(struct timespec ts)
{
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

Test(core_time, mono_after_is_normalised_and_between_bounds)
{
    static const int64_t cases[] = {0, 1, 999, 1000, 1500, 61999, -5};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t want = cases[i] < 0 ? 0 : cases[i];
        int64_t before = np_time_mono_ms();
        struct timespec ts = np_time_mono_after(cases[i]);
        int64_t after = np_time_mono_ms();
        cr_assert(ts.tv_nsec >= 0 && ts.tv_nsec < 1000000000L, "case %zu: nsec %ld", i, ts.tv_nsec);
        cr_assert(ts_ms(ts) >= before + want && ts_ms(ts) <= after + want,
                  "case %zu: %lld not in [%lld, %lld]", i, (long long)ts_ms(ts),
                  (long long)(before + want), (long long)(after + want));
    }
}

Test(core_time, durations)
{
    int64_t ms = -1;
    cr_assert_eq(np_duration_parse("0s", &ms), 0);
    cr_assert_eq(ms, 0);
    cr_assert_eq(np_duration_parse("5m", &ms), 0);
    cr_assert_eq(ms, 300000);
    cr_assert_eq(np_duration_parse("1h30m15s", &ms), 0);
    cr_assert_eq(ms, 5415000);
    cr_assert_eq(np_duration_parse("250ms", &ms), 0);
    cr_assert_eq(ms, 250);
    cr_assert_eq(np_duration_parse("5x", &ms), NP_EINVAL);
    cr_assert_eq(np_duration_parse("m", &ms), NP_EINVAL);
    cr_assert_eq(np_duration_parse("", &ms), NP_EINVAL);
}

Test(core_error, message_is_thread_local_and_named)
{
    cr_assert_eq(np_error_set(NP_ENOTFOUND, "group %s not found", "sg-1"), NP_ENOTFOUND);
    cr_assert_str_eq(np_error_message(), "group sg-1 not found");
    cr_assert_str_eq(np_error_name(NP_ENOTFOUND), "ENOTFOUND");
    np_error_set(NP_EINVAL, "wrapped: %s", np_error_message());
    cr_assert_str_eq(np_error_message(), "wrapped: group sg-1 not found");
    np_error_clear();
    cr_assert_str_eq(np_error_message(), "");
}

Test(core_rand, below_bound)
{
    for (int i = 0; i < 1000; i++)
        cr_assert_lt(np_rand_below(7), 7);
    cr_assert_eq(np_rand_below(0), 0);
}

#include <json-c/json.h>

Test(core_json, paths)
{
    json_object *o = json_tokener_parse("{\"a\":{\"b\":{\"c\":\"x\",\"n\":7}},\"s\":1}");
    cr_assert_not_null(o);
    cr_assert_str_eq(np_json_path_str(o, "a", "b", "c", NP_JSON_END), "x");
    cr_assert_eq(np_json_path_int(o, -1, "a", "b", "n", NP_JSON_END), 7);
    cr_assert_eq(np_json_path_int(o, -1, "a", "b", "c", NP_JSON_END), -1);
    cr_assert_null(np_json_path_str(o, "a", "missing", "c", NP_JSON_END));
    cr_assert_null(np_json_path(o, "s", "deeper", NP_JSON_END));
    cr_assert_eq(np_json_path(o, NP_JSON_END), o);
    json_object_put(o);
}

Test(core_hash, fnv1a64_reference_vectors)
{
    /* The published FNV-1a 64 test vectors; a hash continues across pieces. */
    cr_assert_eq(NP_FNV1A64_OFFSET, 0xcbf29ce484222325ull);
    cr_assert_eq(np_fnv1a64("", 0, NP_FNV1A64_OFFSET), 0xcbf29ce484222325ull);
    cr_assert_eq(np_fnv1a64("a", 1, NP_FNV1A64_OFFSET), 0xaf63dc4c8601ec8cull);
    cr_assert_eq(np_fnv1a64("foobar", 6, NP_FNV1A64_OFFSET), 0x85944171f73967e8ull);
    cr_assert_eq(np_fnv1a64("bar", 3, np_fnv1a64("foo", 3, NP_FNV1A64_OFFSET)),
                 0x85944171f73967e8ull);
    cr_assert_eq(np_hash_str("foobar"), 0x85944171f73967e8ull);
}
