/*
 * Watches: the incremental decoder that turns a chunked stream of {"type","object"} JSON
 * objects into events (json-c's tokener keeps state across arbitrary chunk boundaries), and
 * the streaming GET that drives it with a curl multi handle so a cancel token or the idle
 * timer can stop it at once.
 */
#include "kube/private/kube_private.h"

#include <curl/curl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *np_kube_event_type_name(enum np_kube_event_type type)
{
    switch (type) {
    case NP_KUBE_ADDED: return "ADDED";
    case NP_KUBE_MODIFIED: return "MODIFIED";
    case NP_KUBE_DELETED: return "DELETED";
    case NP_KUBE_BOOKMARK: return "BOOKMARK";
    case NP_KUBE_ERROR: return "ERROR";
    default: return "UNKNOWN";
    }
}

static int parse_type(const char *s, enum np_kube_event_type *out)
{
    static const enum np_kube_event_type all[] = {NP_KUBE_ADDED, NP_KUBE_MODIFIED, NP_KUBE_DELETED,
                                                  NP_KUBE_BOOKMARK, NP_KUBE_ERROR};
    for (size_t i = 0; i < NP_ARRAY_LEN(all); i++) {
        if (np_str_eq(s, np_kube_event_type_name(all[i]))) {
            *out = all[i];
            return 0;
        }
    }
    return NP_EPARSE;
}

/* ------------------------------------------------------------ decoder */

int np_kube_watch_decoder_init(struct np_kube_watch_decoder *d, np_kube_watch_fn fn, void *ctx,
                               const char *initial_rv)
{
    memset(d, 0, sizeof(*d));
    d->tok = json_tokener_new_ex(NP_KUBE_JSON_DEPTH);
    if (!d->tok)
        return np_error_set(NP_ENOMEM, "out of memory");
    json_tokener_set_flags(d->tok, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS);
    d->fn = fn;
    d->ctx = ctx;
    d->rv = np_str_is_empty(initial_rv) ? NULL : np_strdup(initial_rv);
    d->max_event = NP_KUBE_MAX_EVENT;
    return 0;
}

void np_kube_watch_decoder_clean_up(struct np_kube_watch_decoder *d)
{
    if (d->tok)
        json_tokener_free(d->tok);
    free(d->rv);
    memset(d, 0, sizeof(*d));
}

const char *np_kube_watch_decoder_rv(const struct np_kube_watch_decoder *d)
{
    return d->rv;
}

/* Handles one decoded JSON value. */
static int handle_event(struct np_kube_watch_decoder *d, json_object *ev)
{
    enum np_kube_event_type type;
    json_object *obj = NULL;

    if (!ev || !json_object_is_type(ev, json_type_object))
        return np_error_set(NP_EPARSE, "watch stream: event %zu is not a JSON object", d->events);
    const char *ts = np_json_path_str(ev, "type", NP_JSON_END);
    if (parse_type(ts, &type) != 0)
        return np_error_set(NP_EPARSE, "watch stream: event %zu has unknown type \"%.32s\"",
                            d->events, ts ? ts : "");
    if (!json_object_object_get_ex(ev, "object", &obj) ||
        !json_object_is_type(obj, json_type_object))
        return np_error_set(NP_EPARSE, "watch stream: %s event without an object", ts);
    if (type == NP_KUBE_ERROR)
        return np_kube_status_event_to_error(obj, "watch ERROR event");
    const char *rv = np_kube_object_resource_version(obj);
    if (d->fn) {
        int rc = d->fn(d->ctx, type, obj);
        if (rc)
            return rc;
    }
    /* Advance only after the event was taken, so a resumed watch does not skip it. */
    if (!np_str_is_empty(rv) && !np_str_eq(rv, d->rv)) {
        free(d->rv);
        d->rv = np_strdup(rv);
    }
    d->events++;
    return 0;
}

static bool is_ws(char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

int np_kube_watch_decoder_feed(struct np_kube_watch_decoder *d, const char *data, size_t len)
{
    size_t off = 0;

    if (d->err)
        return d->err;
    while (off < len) {
        if (!d->pending) {
            while (off < len && is_ws(data[off]))
                off++;
            if (off == len)
                break;
        }
        size_t avail = len - off;
        if (avail > INT_MAX / 2)
            avail = INT_MAX / 2;
        json_object *ev = json_tokener_parse_ex(d->tok, data + off, (int)avail);
        enum json_tokener_error jerr = json_tokener_get_error(d->tok);
        if (!ev && jerr == json_tokener_continue) {
            d->pending = true;
            d->event_size += avail;
            off += avail;
            if (d->event_size > d->max_event) {
                d->err = np_error_set(NP_EPARSE, "watch stream: event larger than %zu bytes",
                                      d->max_event);
                return d->err;
            }
            continue;
        }
        if (jerr != json_tokener_success) {
            d->err = np_error_set(NP_EPARSE, "watch stream: invalid JSON after %zu events: %s",
                                  d->events, json_tokener_error_desc(jerr));
            return d->err;
        }
        size_t used = json_tokener_get_parse_end(d->tok);
        if (used == 0 || used > avail)
            used = avail;
        off += used;
        d->pending = false;
        d->event_size = 0;
        int rc = handle_event(d, ev);
        json_object_put(ev);
        if (rc) {
            d->err = rc;
            return rc;
        }
    }
    return 0;
}

int np_kube_watch_decoder_finish(struct np_kube_watch_decoder *d)
{
    if (d->err)
        return d->err;
    if (d->pending) {
        d->err = np_error_set(NP_EPARSE, "watch stream ended inside an event (after %zu events)",
                              d->events);
        return d->err;
    }
    return 0;
}

/* ------------------------------------------------------------ streaming watch */

#define MAX_ERROR_BODY (1024u * 1024u)

/* How the transfer loop ended. */
enum watch_end { WATCH_END_DONE, WATCH_END_CANCELED, WATCH_END_IDLE };

struct watch_run {
    struct np_kube_watch_decoder dec;
    CURL *easy;
    long status;
    struct np_buf error_body; /* the body of a non-200 answer */
    int rc;                   /* decoder or callback error */
    int64_t last_rx_ms;
    CURLM *multi;
    bool dec_ok, added, attached; /* what the clean-up undoes */
};

static size_t watch_write(char *data, size_t size, size_t n, void *ctx)
{
    struct watch_run *w = ctx;
    size_t len = size * n;

    w->last_rx_ms = np_time_mono_ms();
    if (w->status == 0)
        curl_easy_getinfo(w->easy, CURLINFO_RESPONSE_CODE, &w->status);
    if (w->status != 200) {
        if (w->error_body.len + len <= MAX_ERROR_BODY)
            np_buf_append(&w->error_body, data, len);
        return len;
    }
    int rc = np_kube_watch_decoder_feed(&w->dec, data, len);
    if (rc) {
        w->rc = rc;
        return 0; /* aborts the transfer */
    }
    return len;
}

/* The query of a watch request: bookmarks on, the server-side timeout, resume point and
 * selectors. */
static void watch_query(struct np_buf *q, const struct np_kube_watch_options *o, int timeout_s)
{
    char num[24];
    np_kube_query_add(q, "watch", "1");
    np_kube_query_add(q, "allowWatchBookmarks", "true");
    if (o && !np_str_is_empty(o->resource_version))
        np_kube_query_add(q, "resourceVersion", o->resource_version);
    snprintf(num, sizeof(num), "%d", timeout_s);
    np_kube_query_add(q, "timeoutSeconds", num);
    if (o && !np_str_is_empty(o->label_selector))
        np_kube_query_add(q, "labelSelector", o->label_selector);
    if (o && !np_str_is_empty(o->field_selector))
        np_kube_query_add(q, "fieldSelector", o->field_selector);
}

/* Opens the streaming GET on a multi handle, with watch_write feeding the decoder, and lets the
 * cancel token wake the multi handle. */
static int watch_start(struct np_kube_client *c, struct np_kube_client_conn *conn,
                       struct watch_run *w, const struct np_kube_request *req,
                       struct np_kube_cancel *cancel, const char *what)
{
    int rc = np_kube_client_conn_open(c, conn, req, true);
    if (rc)
        return rc;
    w->easy = conn->easy;
    w->last_rx_ms = np_time_mono_ms();
    curl_easy_setopt(conn->easy, CURLOPT_WRITEFUNCTION, watch_write);
    curl_easy_setopt(conn->easy, CURLOPT_WRITEDATA, w);
    w->multi = curl_multi_init();
    if (!w->multi)
        return np_error_set(NP_ENOMEM, "cannot create a curl multi handle");
    if (curl_multi_add_handle(w->multi, conn->easy) != CURLM_OK)
        return np_error_set(NP_EIO, "%s: cannot start the transfer", what);
    w->added = true;
    np_kube_cancel_attach(cancel, w->multi);
    w->attached = true;
    return 0;
}

/* Drives the transfer until the server ends it, the token is fired or nothing arrives for
 * idle_ms. */
static int watch_pump(struct watch_run *w, struct np_kube_cancel *cancel, int64_t idle_ms,
                      const char *what, enum watch_end *end)
{
    *end = WATCH_END_DONE;
    for (;;) {
        int running = 0;
        CURLMcode mc = curl_multi_perform(w->multi, &running);
        if (mc != CURLM_OK)
            return np_error_set(NP_EIO, "%s: %s", what, curl_multi_strerror(mc));
        if (!running)
            return 0;
        if (np_kube_cancel_is_fired(cancel)) {
            *end = WATCH_END_CANCELED;
            return 0;
        }
        int64_t quiet = np_time_mono_ms() - w->last_rx_ms;
        if (quiet >= idle_ms) {
            *end = WATCH_END_IDLE;
            return 0;
        }
        int64_t wait = idle_ms - quiet;
        curl_multi_poll(w->multi, NULL, 0, wait < 1000 ? (int)wait : 1000, NULL);
    }
}

/* Turns how the transfer ended into the result: a callback error first, then cancellation,
 * idleness, an HTTP error, a transport error, else the decoder's verdict on the tail. */
static int watch_result(struct np_kube_client *c, struct np_kube_client_conn *conn,
                        struct watch_run *w, enum watch_end end, int64_t idle_ms, const char *what)
{
    CURLcode cc = CURLE_OK;
    int left = 0;
    CURLMsg *msg;
    while ((msg = curl_multi_info_read(w->multi, &left)) != NULL)
        if (msg->msg == CURLMSG_DONE)
            cc = msg->data.result;
    if (w->status == 0)
        curl_easy_getinfo(conn->easy, CURLINFO_RESPONSE_CODE, &w->status);
    np_kube_client_note_status(c, conn, w->status);
    np_kube_client_observe(c, "WATCH", w->status, -1);

    if (w->rc)
        return w->rc;
    if (end == WATCH_END_CANCELED || cc == CURLE_ABORTED_BY_CALLBACK)
        return np_error_set(NP_ECANCELED, "%s: canceled", what);
    if (end == WATCH_END_IDLE)
        return np_error_set(NP_ETIMEOUT, "%s: no data for %lld ms", what, (long long)idle_ms);
    if (w->status != 0 && w->status != 200)
        return np_kube_status_to_error(w->status, w->error_body.data, w->error_body.len, what);
    if (cc != CURLE_OK)
        return np_kube_curl_error(cc, conn->errbuf, what);
    return np_kube_watch_decoder_finish(&w->dec);
}

/* Releases the transfer and reports the last resourceVersion seen (or the one started from). */
static void watch_finish(struct np_kube_client *c, struct np_kube_client_conn *conn,
                         struct watch_run *w, struct np_kube_cancel *cancel,
                         const struct np_kube_watch_options *o, char **last_rv)
{
    if (w->attached)
        np_kube_cancel_detach(cancel, w->multi);
    if (w->added)
        curl_multi_remove_handle(w->multi, conn->easy);
    np_kube_client_conn_close(c, conn, false);
    if (w->multi)
        curl_multi_cleanup(w->multi);
    if (last_rv) {
        const char *rv = w->dec_ok ? np_kube_watch_decoder_rv(&w->dec) : NULL;
        if (!rv && o)
            rv = o->resource_version;
        *last_rv = np_strdup(rv ? rv : "");
    }
    if (w->dec_ok)
        np_kube_watch_decoder_clean_up(&w->dec);
    np_buf_clean_up(&w->error_body);
}

int np_kube_watch(struct np_kube_client *c, const struct np_kube_resource *r, const char *ns,
                  const struct np_kube_watch_options *o, np_kube_watch_fn fn, void *ctx,
                  char **last_rv)
{
    int rc = 0;
    char *path = NULL, *what = NULL;
    struct np_buf q = NP_BUF_INIT;
    struct np_kube_client_conn conn;
    struct watch_run w;
    struct np_kube_cancel *cancel = o ? o->cancel : NULL;

    memset(&conn, 0, sizeof(conn));
    memset(&w, 0, sizeof(w));
    if (last_rv)
        *last_rv = NULL;
    rc = np_kube_resource_path(&path, r, ns, NULL, NULL);
    if (rc)
        goto out;
    what = np_strdupf("watch %s", path);
    int timeout_s = o && o->timeout_seconds > 0 ? o->timeout_seconds : 290;
    int64_t idle_ms =
        o && o->idle_timeout_ms > 0 ? o->idle_timeout_ms : (int64_t)timeout_s * 1000 + 5000;
    watch_query(&q, o, timeout_s);

    rc = np_kube_watch_decoder_init(&w.dec, fn, ctx, o ? o->resource_version : NULL);
    if (rc)
        goto out;
    w.dec_ok = true;
    if (np_kube_cancel_is_fired(cancel)) {
        rc = np_error_set(NP_ECANCELED, "%s: canceled", what);
        goto out;
    }
    struct np_kube_request req = {"GET", path, np_buf_cstr(&q), NULL, NULL, 0, cancel};
    rc = watch_start(c, &conn, &w, &req, cancel, what);
    if (rc)
        goto out;
    enum watch_end end;
    rc = watch_pump(&w, cancel, idle_ms, what, &end);
    if (rc == 0)
        rc = watch_result(c, &conn, &w, end, idle_ms, what);
out:
    watch_finish(c, &conn, &w, cancel, o, last_rv);
    np_buf_clean_up(&q);
    free(path);
    free(what);
    return rc;
}
