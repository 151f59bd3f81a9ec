/*
 * Unit tests of the incremental watch decoder: recorded streams fed whole, byte by byte and
 * in random chunk sizes; bookmarks moving the RV; ERROR 410 and too-large RVs as NP_EGONE;
 * garbage, truncation and oversize events as NP_EPARSE.
 */
#include "helpers.h"
#include "kube/private/kube_private.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#define MAX_EVENTS 16

struct rec {
    int n;
    enum np_kube_event_type types[MAX_EVENTS];
    char names[MAX_EVENTS][64];
    char rvs[MAX_EVENTS][32];
    char notes[MAX_EVENTS][96];
    int stop_at; /* return NP_ECANCELED at this event (1-based); 0 = never */
};

static int record(void *ctx, enum np_kube_event_type type, json_object *obj)
{
    struct rec *r = ctx;
    cr_assert_lt(r->n, MAX_EVENTS);
    if (r->stop_at && r->n + 1 == r->stop_at)
        return NP_ECANCELED;
    r->types[r->n] = type;
    const char *name = np_kube_object_name(obj);
    const char *rv = np_kube_object_resource_version(obj);
    const char *note = np_json_path_str(np_json_path(obj, "metadata", "annotations", NP_JSON_END),
                                        "note", NP_JSON_END);
    np_strlcpy(r->names[r->n], name ? name : "", sizeof(r->names[0]));
    np_strlcpy(r->rvs[r->n], rv ? rv : "", sizeof(r->rvs[0]));
    np_strlcpy(r->notes[r->n], note ? note : "", sizeof(r->notes[0]));
    r->n++;
    return 0;
}

/* Feeds data in chunks: size 0 = all at once, 1 = byte by byte, <0 = random with seed -size. */
static int feed(struct np_kube_watch_decoder *d, const char *data, size_t len, int chunk)
{
    uint32_t seed = chunk < 0 ? (uint32_t)-chunk : 1;
    size_t off = 0;
    while (off < len) {
        size_t n = len - off;
        if (chunk > 0)
            n = (size_t)chunk;
        else if (chunk < 0)
            n = 1 + test_rand(&seed) % 97;
        if (n > len - off)
            n = len - off;
        int rc = np_kube_watch_decoder_feed(d, data + off, n);
        if (rc)
            return rc;
        off += n;
    }
    return np_kube_watch_decoder_finish(d);
}

static void check_stream_events(const struct rec *r)
{
    static const enum np_kube_event_type want[] = {NP_KUBE_ADDED,    NP_KUBE_ADDED,
                                                   NP_KUBE_MODIFIED, NP_KUBE_BOOKMARK,
                                                   NP_KUBE_DELETED,  NP_KUBE_BOOKMARK};
    static const char *names[] = {"web", "db", "web", "", "db", ""};
    static const char *rvs[] = {"101", "102", "105", "150", "160", "200"};
    cr_assert_eq(r->n, 6);
    for (int i = 0; i < 6; i++) {
        cr_assert_eq(r->types[i], want[i], "event %d type", i);
        cr_assert_str_eq(r->names[i], names[i], "event %d name", i);
        cr_assert_str_eq(r->rvs[i], rvs[i], "event %d rv", i);
    }
    /* Escapes inside strings survive every split. */
    cr_assert_str_eq(r->notes[0], "braces } { and \"quotes\" and a newline\n inside");
}

static void run_stream(int chunk)
{
    size_t len = 0;
    char *data = fixture_read("watch/stream.jsonl", &len);
    struct rec r = {0};
    struct np_kube_watch_decoder d;
    cr_assert_eq(np_kube_watch_decoder_init(&d, record, &r, "100"), 0);
    cr_assert_eq(feed(&d, data, len, chunk), 0, "chunk %d: %s", chunk, np_error_message());
    check_stream_events(&r);
    cr_assert_str_eq(np_kube_watch_decoder_rv(&d), "200");
    np_kube_watch_decoder_clean_up(&d);
    free(data);
}

Test(watch_decoder, whole_stream)
{
    run_stream(0);
}

Test(watch_decoder, byte_by_byte)
{
    run_stream(1);
}

Test(watch_decoder, random_chunks)
{
    for (int seed = 1; seed <= 200; seed++)
        run_stream(-seed);
}

Test(watch_decoder, every_split_point)
{
    /* Two chunks, cut at every possible offset (multi-byte UTF-8 included). */
    size_t len = 0;
    char *data = fixture_read("watch/stream.jsonl", &len);
    for (size_t cut = 0; cut <= len; cut++) {
        struct rec r = {0};
        struct np_kube_watch_decoder d;
        cr_assert_eq(np_kube_watch_decoder_init(&d, record, &r, NULL), 0);
        cr_assert_eq(np_kube_watch_decoder_feed(&d, data, cut), 0, "cut %zu", cut);
        cr_assert_eq(np_kube_watch_decoder_feed(&d, data + cut, len - cut), 0, "cut %zu", cut);
        cr_assert_eq(np_kube_watch_decoder_finish(&d), 0);
        check_stream_events(&r);
        np_kube_watch_decoder_clean_up(&d);
    }
    free(data);
}

Test(watch_decoder, concatenated_without_newlines)
{
    size_t len = 0;
    char *data = fixture_read("watch/concatenated.json", &len);
    for (int chunk = 0; chunk <= 1; chunk++) {
        struct rec r = {0};
        struct np_kube_watch_decoder d;
        cr_assert_eq(np_kube_watch_decoder_init(&d, record, &r, NULL), 0);
        cr_assert_eq(feed(&d, data, len, chunk), 0, "%s", np_error_message());
        cr_assert_eq(r.n, 3);
        cr_assert_eq(r.types[2], NP_KUBE_BOOKMARK);
        cr_assert_str_eq(np_kube_watch_decoder_rv(&d), "150");
        np_kube_watch_decoder_clean_up(&d);
    }
    free(data);
}

Test(watch_decoder, bookmark_moves_rv_only)
{
    static const char bm[] = "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Secret\","
                             "\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"777\"}}}\n";
    struct rec r = {0};
    struct np_kube_watch_decoder d;
    cr_assert_eq(np_kube_watch_decoder_init(&d, record, &r, "5"), 0);
    cr_assert_str_eq(np_kube_watch_decoder_rv(&d), "5");
    cr_assert_eq(np_kube_watch_decoder_feed(&d, bm, strlen(bm)), 0);
    cr_assert_eq(r.n, 1);
    cr_assert_eq(r.types[0], NP_KUBE_BOOKMARK);
    cr_assert_str_eq(np_kube_watch_decoder_rv(&d), "777");
    np_kube_watch_decoder_clean_up(&d);
}

static void expect_error(const char *fixture, int chunk, int want_rc, int want_events,
                         const char *want_rv)
{
    size_t len = 0;
    char *data = fixture_read(fixture, &len);
    struct rec r = {0};
    struct np_kube_watch_decoder d;
    cr_assert_eq(np_kube_watch_decoder_init(&d, record, &r, NULL), 0);
    int rc = feed(&d, data, len, chunk);
    cr_assert_eq(rc, want_rc, "%s chunk %d: got %s (%s)", fixture, chunk, np_error_name(rc),
                 np_error_message());
    cr_assert_eq(r.n, want_events, "%s: events", fixture);
    if (want_rv)
        cr_assert_str_eq(np_kube_watch_decoder_rv(&d), want_rv);
    /* Errors are sticky. */
    cr_assert_eq(np_kube_watch_decoder_feed(&d, "{}", 2), want_rc);
    np_kube_watch_decoder_clean_up(&d);
    free(data);
}

Test(watch_decoder, error_410_is_gone)
{
    for (int chunk = -3; chunk <= 1; chunk++) {
        expect_error("watch/error-410.jsonl", chunk, NP_EGONE, 1, "300");
    }
    /* The server's message is kept. */
    expect_error("watch/error-410.jsonl", 0, NP_EGONE, 1, "300");
    cr_assert(strstr(np_error_message(), "too old resource version") != NULL, "%s",
              np_error_message());
}

Test(watch_decoder, too_large_rv_is_gone)
{
    expect_error("watch/too-large-rv.jsonl", 1, NP_EGONE, 0, NULL);
}

Test(watch_decoder, error_500_is_again)
{
    expect_error("watch/error-500.jsonl", 0, NP_EAGAIN, 0, NULL);
    cr_assert(strstr(np_error_message(), "leader changed") != NULL);
}

Test(watch_decoder, garbage_is_parse_error)
{
    expect_error("watch/garbage.txt", 0, NP_EPARSE, 1, "101");
    expect_error("watch/garbage.txt", 1, NP_EPARSE, 1, "101");
}

Test(watch_decoder, truncated_stream_is_parse_error)
{
    expect_error("watch/truncated.jsonl", 1, NP_EPARSE, 1, "101");
    cr_assert(strstr(np_error_message(), "ended inside an event") != NULL);
}

Test(watch_decoder, bad_shapes_are_parse_errors)
{
    expect_error("watch/unknown-type.jsonl", 0, NP_EPARSE, 0, NULL);
    expect_error("watch/not-object.jsonl", 0, NP_EPARSE, 0, NULL);
    struct np_kube_watch_decoder d;
    cr_assert_eq(np_kube_watch_decoder_init(&d, NULL, NULL, NULL), 0);
    cr_assert_eq(np_kube_watch_decoder_feed(&d, "null\n", 5), NP_EPARSE);
    np_kube_watch_decoder_clean_up(&d);
    cr_assert_eq(np_kube_watch_decoder_init(&d, NULL, NULL, NULL), 0);
    cr_assert_eq(np_kube_watch_decoder_feed(&d, "{\"type\":\"ADDED\"}\n", 17), NP_EPARSE);
    np_kube_watch_decoder_clean_up(&d);
}

Test(watch_decoder, whitespace_only_is_clean)
{
    struct np_kube_watch_decoder d;
    cr_assert_eq(np_kube_watch_decoder_init(&d, NULL, NULL, "9"), 0);
    cr_assert_eq(np_kube_watch_decoder_feed(&d, "\n \r\n\t", 5), 0);
    cr_assert_eq(np_kube_watch_decoder_finish(&d), 0);
    cr_assert_str_eq(np_kube_watch_decoder_rv(&d), "9");
    np_kube_watch_decoder_clean_up(&d);
}

Test(watch_decoder, callback_stop_keeps_rv_before_event)
{
    size_t len = 0;
    char *data = fixture_read("watch/stream.jsonl", &len);
    struct rec r = {.stop_at = 2};
    struct np_kube_watch_decoder d;
    cr_assert_eq(np_kube_watch_decoder_init(&d, record, &r, NULL), 0);
    cr_assert_eq(feed(&d, data, len, 7), NP_ECANCELED);
    cr_assert_eq(r.n, 1);
    /* The refused event's RV is not taken: a resumed watch gets it again. */
    cr_assert_str_eq(np_kube_watch_decoder_rv(&d), "101");
    np_kube_watch_decoder_clean_up(&d);
    free(data);
}

Test(watch_decoder, oversize_event_is_parse_error)
{
    size_t len = 0;
    char *data = fixture_read("watch/stream.jsonl", &len);
    struct np_kube_watch_decoder d;
    cr_assert_eq(np_kube_watch_decoder_init(&d, NULL, NULL, NULL), 0);
    d.max_event = 64;
    cr_assert_eq(feed(&d, data, len, 16), NP_EPARSE);
    cr_assert(strstr(np_error_message(), "larger than") != NULL);
    np_kube_watch_decoder_clean_up(&d);
    free(data);
}
