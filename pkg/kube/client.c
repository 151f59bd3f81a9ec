/*
 * The REST client: a pool of libcurl easy handles configured from the config (TLS with
 * verification on, inline PEM blobs, bearer tokens or an exec plugin's credential), one generic
 * request (sent again once when a 401 refuses an exec credential), the mapping of Status answers
 * to NP codes, resource paths, and get/list/create/delete/patch on top.
 */
#include "kube/private/kube_private.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POOL_MAX 16

struct np_kube_client {
    bool (*write_gate)(void *ctx); /* NULL: every write goes */
    void *write_gate_ctx;
    void (*observer)(void *ctx, const char *method, long status, int64_t duration_ms);
    void *observer_ctx;
    char *base; /* URL prefix for paths: the server, host swapped for tls-server-name */
    bool https;
    bool insecure;
    struct curl_slist *connect_to; /* tls-server-name: connect to the real host; immutable */
    unsigned char *ca;
    size_t ca_len;
    unsigned char *cert;
    size_t cert_len;
    unsigned char *key;
    size_t key_len;
    struct np_kube_token_source tokens;
    bool tokens_ok;
    struct np_kube_exec exec; /* with an exec plugin: its credential source */
    bool exec_ok;
    char *namespace;
    char *user_agent;
    int64_t request_timeout_ms;
    int64_t connect_timeout_ms;
    const struct np_clock *clock;
    pthread_mutex_t pool_lock;
    CURL *pool[POOL_MAX];
    size_t npool;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void init_curl(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static unsigned char *dup_bytes(const unsigned char *p, size_t n)
{
    if (!p)
        return NULL;
    unsigned char *d = np_xcalloc(1, n + 1);
    memcpy(d, p, n);
    return d;
}

static void free_wiped(void *p, size_t n)
{
    if (p) {
        memset(p, 0, n);
        free(p);
    }
}

/* Builds the base URL and CONNECT_TO entry when tls-server-name overrides the host. */
static int setup_server(struct np_kube_client *c, const struct np_kube_config *cfg)
{
    int rc = 0;
    CURLU *u = NULL;
    char *host = NULL, *port = NULL, *url = NULL, *entry = NULL;

    c->https = np_str_has_prefix(cfg->server, "https://");
    if (np_str_is_empty(cfg->tls_server_name)) {
        c->base = np_strdup(cfg->server);
        goto out;
    }
    u = curl_url();
    if (!u || curl_url_set(u, CURLUPART_URL, cfg->server, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK ||
        curl_url_set(u, CURLUPART_HOST, cfg->tls_server_name, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_URL, &url, 0) != CURLUE_OK) {
        rc = np_error_set(NP_EINVAL, "cannot use server \"%.200s\" with tls-server-name \"%.200s\"",
                          cfg->server, cfg->tls_server_name);
        goto out;
    }
    c->base = np_strdup(url);
    for (size_t n = strlen(c->base); n > 0 && c->base[n - 1] == '/'; n--)
        c->base[n - 1] = '\0';
    entry = np_strdupf("%s:%s:%s:%s", cfg->tls_server_name, port, host, port);
    c->connect_to = curl_slist_append(NULL, entry);
    if (!c->connect_to)
        rc = np_error_set(NP_ENOMEM, "out of memory");
out:
    curl_free(host);
    curl_free(port);
    curl_free(url);
    free(entry);
    if (u)
        curl_url_cleanup(u);
    return rc;
}

int np_kube_client_new(struct np_kube_client **out, const struct np_kube_config *cfg,
                       const struct np_kube_client_options *opts)
{
    int rc = 0;
    struct np_kube_client *c = NULL;

    *out = NULL;
    pthread_once(&curl_once, init_curl);
    if (curl_init_rc != CURLE_OK) {
        rc = np_error_set(NP_EIO, "libcurl initialisation failed");
        goto out;
    }
    if (!cfg || np_str_is_empty(cfg->server)) {
        rc = np_error_set(NP_EINVAL, "kube client: the config has no server");
        goto out;
    }
    c = np_xcalloc(1, sizeof(*c));
    if (pthread_mutex_init(&c->pool_lock, NULL) != 0) {
        free(c);
        c = NULL;
        rc = np_error_set(NP_ENOMEM, "cannot create a mutex");
        goto out;
    }
    c->clock = opts && opts->clock ? opts->clock : np_clock_system();
    if (opts) {
        c->write_gate = opts->write_gate;
        c->write_gate_ctx = opts->write_gate_ctx;
        c->observer = opts->observer;
        c->observer_ctx = opts->observer_ctx;
    }
    rc = np_kube_token_source_init(&c->tokens, cfg->token, cfg->token_file, c->clock);
    if (rc)
        goto out;
    c->tokens_ok = true;
    if (cfg->exec) {
        rc = np_kube_exec_init(&c->exec, cfg, c->clock);
        if (rc)
            goto out;
        c->exec_ok = true;
    }
    rc = setup_server(c, cfg);
    if (rc)
        goto out;
    c->insecure = cfg->insecure_skip_tls_verify;
    c->ca = dup_bytes(cfg->ca_data, cfg->ca_len);
    c->ca_len = cfg->ca_len;
    c->cert = dup_bytes(cfg->cert_data, cfg->cert_len);
    c->cert_len = cfg->cert_len;
    c->key = dup_bytes(cfg->key_data, cfg->key_len);
    c->key_len = cfg->key_len;
    c->namespace = np_strdup(np_str_is_empty(cfg->namespace) ? "default" : cfg->namespace);
    c->user_agent =
        np_strdup(opts && !np_str_is_empty(opts->user_agent) ? opts->user_agent : "netposture");
    c->request_timeout_ms = opts && opts->request_timeout_ms > 0 ? opts->request_timeout_ms : 30000;
    c->connect_timeout_ms = opts && opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms : 10000;
    *out = c;
    c = NULL;
out:
    np_kube_client_destroy(c);
    return rc;
}

void np_kube_client_destroy(struct np_kube_client *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->npool; i++)
        curl_easy_cleanup(c->pool[i]);
    pthread_mutex_destroy(&c->pool_lock);
    if (c->tokens_ok)
        np_kube_token_source_clean_up(&c->tokens);
    if (c->exec_ok)
        np_kube_exec_clean_up(&c->exec);
    curl_slist_free_all(c->connect_to);
    free(c->base);
    free(c->ca);
    free(c->cert);
    free_wiped(c->key, c->key_len);
    free(c->namespace);
    free(c->user_agent);
    free(c);
}

const char *np_kube_client_namespace(const struct np_kube_client *c)
{
    return c->namespace;
}

const struct np_clock *np_kube_client_clock(const struct np_kube_client *c)
{
    return c->clock;
}

bool np_kube_client_note_status(struct np_kube_client *c, const struct np_kube_client_conn *conn,
                                long status)
{
    if (status != 401)
        return false;
    np_kube_token_source_invalidate(&c->tokens);
    if (!conn->exec_cred)
        return false;
    np_kube_exec_invalidate(&c->exec, conn->exec_gen);
    return true;
}

struct np_kube_exec *np_kube_client_exec(struct np_kube_client *c)
{
    return c->exec_ok ? &c->exec : NULL;
}

void np_kube_response_clean_up(struct np_kube_response *resp)
{
    /* Bodies may carry Secret data: wipe before freeing. */
    if (resp->body.data)
        memset(resp->body.data, 0, resp->body.cap);
    np_buf_clean_up(&resp->body);
    resp->status = 0;
}

/* ------------------------------------------------------------ connections */

static int xferinfo_cancel(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                           curl_off_t ulnow)
{
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    return np_kube_cancel_is_fired(ctx) ? 1 : 0;
}

static bool method_is(const char *m, const char *want)
{
    return strcmp(m, want) == 0;
}

/* A handle from the client's pool (reset, its connection kept) or a new one; NULL when out of
 * memory. */
static CURL *pooled_handle(struct np_kube_client *c)
{
    CURL *h = NULL;
    pthread_mutex_lock(&c->pool_lock);
    if (c->npool > 0)
        h = c->pool[--c->npool];
    pthread_mutex_unlock(&c->pool_lock);
    if (h)
        curl_easy_reset(h);
    else
        h = curl_easy_init();
    return h;
}

/* Timeouts (none overall for a stream), keep-alive, compression, protocols and cancellation. */
static void set_transfer_options(struct np_kube_client *c, CURL *h,
                                 struct np_kube_client_conn *conn,
                                 const struct np_kube_request *req, bool streaming)
{
    curl_easy_setopt(h, CURLOPT_URL, conn->url);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, conn->errbuf);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, c->user_agent);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)c->connect_timeout_ms);
    if (!streaming)
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)c->request_timeout_ms);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 30L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 10L);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    if (c->connect_to)
        curl_easy_setopt(h, CURLOPT_CONNECT_TO, c->connect_to);
    if (req->cancel) {
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, xferinfo_cancel);
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, req->cancel);
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    }
}

/* The credential of one request: the static or file token, or the exec plugin's credential
 * (secrets, wiped by auth_clean_up). */
struct auth {
    char *token;
    struct np_kube_exec_cred exec;
};

static void auth_clean_up(struct auth *a)
{
    free_wiped(a->token, a->token ? strlen(a->token) : 0);
    np_kube_exec_cred_clean_up(&a->exec);
}

/* Gets the request's credential: from the exec plugin when there is one (noting its generation
 * on conn for a 401), else from the token source. */
static int auth_get(struct np_kube_client *c, struct np_kube_client_conn *conn,
                    const struct np_kube_request *req, struct auth *a)
{
    memset(a, 0, sizeof(*a));
    if (!c->exec_ok)
        return np_kube_token_source_get(&c->tokens, &a->token);
    int rc = np_kube_exec_get(&c->exec, &a->exec, &conn->exec_gen, req->cancel);
    if (rc)
        return rc;
    conn->exec_cred = true;
    a->token = np_strdup(a->exec.token);
    return 0;
}

/* Server verification (CA bundle) and the client certificate (the config's or the exec
 * plugin's), for an https server. */
static void set_tls_options(struct np_kube_client *c, CURL *h, const struct auth *a)
{
    if (!c->https)
        return;
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, c->insecure ? 0L : 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, c->insecure ? 0L : 2L);
    if (c->ca) {
        struct curl_blob blob = {c->ca, c->ca_len, CURL_BLOB_COPY};
        curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
    }
    unsigned char *cert_data = a->exec.cert ? a->exec.cert : c->cert;
    unsigned char *key_data = a->exec.cert ? a->exec.key : c->key;
    if (cert_data) {
        size_t cert_len = a->exec.cert ? a->exec.cert_len : c->cert_len;
        size_t key_len = a->exec.cert ? a->exec.key_len : c->key_len;
        struct curl_blob cert = {cert_data, cert_len, CURL_BLOB_COPY};
        struct curl_blob key = {key_data, key_len, CURL_BLOB_COPY};
        curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &cert);
        curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
        curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &key);
        curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
    }
}

/* The request headers: Accept, no 100-continue, the bearer token (wiped after use) and the
 * body's Content-Type. */
static int set_headers(CURL *h, struct np_kube_client_conn *conn, const struct np_kube_request *req,
                       const char *token)
{
    int rc = 0;
    char *auth = NULL, *ctype = NULL;
    conn->headers = curl_slist_append(conn->headers, "Accept: application/json");
    conn->headers = curl_slist_append(conn->headers, "Expect:");
    if (token) {
        auth = np_strdupf("Authorization: Bearer %s", token);
        conn->headers = curl_slist_append(conn->headers, auth);
    }
    if (req->body) {
        ctype = np_strdupf("Content-Type: %s",
                           req->content_type ? req->content_type : "application/json");
        conn->headers = curl_slist_append(conn->headers, ctype);
    }
    if (!conn->headers) {
        rc = np_error_set(NP_ENOMEM, "out of memory");
        goto out;
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, conn->headers);
out:
    free_wiped(auth, auth ? strlen(auth) : 0);
    free(ctype);
    return rc;
}

/* The method and the body: a plain GET, a POST, or a custom method with its body. */
static void set_method(CURL *h, const struct np_kube_request *req)
{
    if (method_is(req->method, "GET") && !req->body) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
        return;
    }
    if (!method_is(req->method, "POST"))
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
    if (req->body || method_is(req->method, "POST")) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? req->body : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)(req->body ? req->body_len : 0));
    }
}

int np_kube_client_conn_open(struct np_kube_client *c, struct np_kube_client_conn *conn,
                             const struct np_kube_request *req, bool streaming)
{
    struct auth a;
    memset(conn, 0, sizeof(*conn));
    if (!req->method || !req->path || req->path[0] != '/')
        return np_error_set(NP_EINVAL, "kube request needs a method and an absolute path");
    int rc = auth_get(c, conn, req, &a);
    if (rc) {
        auth_clean_up(&a);
        return rc;
    }
    CURL *h = pooled_handle(c);
    if (!h) {
        auth_clean_up(&a);
        return np_error_set(NP_ENOMEM, "cannot create a curl handle");
    }
    conn->easy = h;
    conn->url = np_str_is_empty(req->query) ? np_strdupf("%s%s", c->base, req->path)
                                            : np_strdupf("%s%s?%s", c->base, req->path, req->query);
    set_transfer_options(c, h, conn, req, streaming);
    set_tls_options(c, h, &a);
    rc = set_headers(h, conn, req, a.token);
    auth_clean_up(&a);
    if (rc) {
        np_kube_client_conn_close(c, conn, false);
        return rc;
    }
    set_method(h, req);
    return 0;
}

void np_kube_client_conn_close(struct np_kube_client *c, struct np_kube_client_conn *conn,
                               bool reuse)
{
    /* The Authorization header lives in this list: wipe it before freeing. */
    for (struct curl_slist *s = conn->headers; s; s = s->next)
        memset(s->data, 0, strlen(s->data));
    curl_slist_free_all(conn->headers);
    conn->headers = NULL;
    free(conn->url);
    conn->url = NULL;
    if (conn->easy) {
        bool pooled = false;
        if (reuse) {
            /* Drop references to the request's memory before parking the handle. */
            curl_easy_setopt(conn->easy, CURLOPT_HTTPHEADER, NULL);
            curl_easy_setopt(conn->easy, CURLOPT_ERRORBUFFER, NULL);
            pthread_mutex_lock(&c->pool_lock);
            if (c->npool < POOL_MAX) {
                c->pool[c->npool++] = conn->easy;
                pooled = true;
            }
            pthread_mutex_unlock(&c->pool_lock);
        }
        if (!pooled)
            curl_easy_cleanup(conn->easy);
        conn->easy = NULL;
    }
}

int np_kube_curl_error(int code, const char *errbuf, const char *what)
{
    const char *detail = errbuf && errbuf[0] ? errbuf : curl_easy_strerror((CURLcode)code);
    switch ((CURLcode)code) {
    case CURLE_OPERATION_TIMEDOUT:
        return np_error_set(NP_ETIMEOUT, "%s: timed out: %s", what, detail);
    case CURLE_ABORTED_BY_CALLBACK: return np_error_set(NP_ECANCELED, "%s: canceled", what);
    default: return np_error_set(NP_EIO, "%s: %s", what, detail);
    }
}

/* ------------------------------------------------------------ status mapping */

static int map_code(long code, const char *reason, bool too_large)
{
    if (too_large)
        return NP_EGONE;
    switch (code) {
    case 404: return NP_ENOTFOUND;
    case 409: return np_str_eq(reason, "AlreadyExists") ? NP_EEXIST : NP_ECONFLICT;
    case 410: return NP_EGONE;
    case 401:
    case 403: return NP_EAUTH;
    case 429: return NP_EAGAIN;
    default: break;
    }
    if (code >= 500)
        return NP_EAGAIN;
    if (code >= 400)
        return NP_EINVAL;
    return NP_EIO;
}

/* Whether a Status says "too large resource version" (needs a relist like 410). */
static bool status_too_large(json_object *status, const char *message)
{
    json_object *causes = np_json_path(status, "details", "causes", NP_JSON_END);
    if (causes && json_object_is_type(causes, json_type_array)) {
        size_t n = json_object_array_length(causes);
        for (size_t i = 0; i < n; i++)
            if (np_str_eq(
                    np_json_path_str(json_object_array_get_idx(causes, i), "reason", NP_JSON_END),
                    "ResourceVersionTooLarge"))
                return true;
    }
    return message && strstr(message, "Too large resource version") != NULL;
}

/* Maps a parsed Status object (http_status is the fallback code). */
static int status_object_to_error(json_object *st, long http_status, const char *what)
{
    const char *reason = np_json_path_str(st, "reason", NP_JSON_END);
    const char *message = np_json_path_str(st, "message", NP_JSON_END);
    json_object *jcode = np_json_path(st, "code", NP_JSON_END);
    long code = http_status;
    if (jcode && json_object_is_type(jcode, json_type_int) && json_object_get_int64(jcode) > 0)
        code = (long)json_object_get_int64(jcode);
    int rc = map_code(code, reason, status_too_large(st, message));
    return np_error_set(rc, "%s: %s (%s, %ld)", what, message ? message : "no message",
                        reason ? reason : "no reason", code);
}

int np_kube_status_to_error(long http_status, const char *body, size_t len, const char *what)
{
    json_object *st = NULL;
    int rc;

    if (!what)
        what = "request";
    if (body && len > 0 && np_kube_json_parse(&st, body, len) == 0 &&
        json_object_is_type(st, json_type_object) &&
        (np_str_eq(np_json_path_str(st, "kind", NP_JSON_END), "Status") ||
         np_json_path(st, "code", NP_JSON_END))) {
        rc = status_object_to_error(st, http_status, what);
        json_object_put(st);
        return rc;
    }
    json_object_put(st);
    /* Not a Status: quote the start of the body, printable bytes only. */
    char snippet[201];
    size_t n = 0;
    for (size_t i = 0; body && i < len && n < sizeof(snippet) - 1; i++)
        snippet[n++] = (body[i] >= 0x20 && body[i] < 0x7f) ? body[i] : ' ';
    snippet[n] = '\0';
    rc = map_code(http_status, NULL, false);
    return np_error_set(rc, "%s: HTTP %ld%s%s", what, http_status, n ? ": " : "", snippet);
}

int np_kube_status_event_to_error(json_object *status, const char *what)
{
    return status_object_to_error(status, 500, what);
}

/* ------------------------------------------------------------ requests */

static size_t write_body(char *data, size_t size, size_t n, void *ctx)
{
    struct np_buf *b = ctx;
    size_t len = size * n;
    if (b->len + len > NP_KUBE_MAX_BODY)
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    np_buf_append(b, data, len);
    return len;
}

/* One attempt of a request; *again says a 401 refused an exec credential. */
static int request_once(struct np_kube_client *c, const struct np_kube_request *req,
                        struct np_kube_response *resp, const char *what, bool *again)
{
    int rc = 0;
    struct np_kube_client_conn conn;
    bool reuse = false;

    *again = false;
    np_buf_reset(&resp->body);
    resp->status = 0;
    rc = np_kube_client_conn_open(c, &conn, req, false);
    if (rc)
        goto out;
    curl_easy_setopt(conn.easy, CURLOPT_WRITEFUNCTION, write_body);
    curl_easy_setopt(conn.easy, CURLOPT_WRITEDATA, &resp->body);
    CURLcode cc = curl_easy_perform(conn.easy);
    long status = 0;
    curl_easy_getinfo(conn.easy, CURLINFO_RESPONSE_CODE, &status);
    if (cc != CURLE_OK) {
        if (cc == CURLE_WRITE_ERROR)
            rc = np_error_set(NP_EIO, "%s: response larger than %u bytes", what, NP_KUBE_MAX_BODY);
        else
            rc = np_kube_curl_error(cc, conn.errbuf, what);
        goto out;
    }
    resp->status = status;
    reuse = true;
    *again = np_kube_client_note_status(c, &conn, status);
    if (status < 200 || status > 299)
        rc = np_kube_status_to_error(status, resp->body.data, resp->body.len, what);
out:
    np_kube_client_conn_close(c, &conn, reuse);
    return rc;
}

void np_kube_client_observe(struct np_kube_client *c, const char *method, long status,
                            int64_t duration_ms)
{
    if (c->observer)
        c->observer(c->observer_ctx, method ? method : "?", status, duration_ms);
}

/* request_once, told to the observer. */
static int request_observed(struct np_kube_client *c, const struct np_kube_request *req,
                            struct np_kube_response *resp, const char *what, bool *again)
{
    int64_t t0 = c->clock->mono_ms(c->clock->ctx);
    int rc = request_once(c, req, resp, what, again);
    np_kube_client_observe(c, req->method, resp->status, c->clock->mono_ms(c->clock->ctx) - t0);
    return rc;
}

int np_kube_client_request(struct np_kube_client *c, const struct np_kube_request *req,
                           struct np_kube_response *resp)
{
    bool again = false;
    bool write = req->method && strcmp(req->method, "GET") != 0;
    if (write && c->write_gate && !c->write_gate(c->write_gate_ctx))
        return np_error_set(NP_EDENIED,
                            "%s %s refused: this process does not hold the leader "
                            "lease (fenced)",
                            req->method, req->path ? req->path : "?");
    char *what = np_strdupf("%s %s", req->method ? req->method : "?", req->path ? req->path : "?");
    int rc = request_observed(c, req, resp, what, &again);
    if (again) /* the plugin runs again (unless another request already did) */
        rc = request_observed(c, req, resp, what, &again);
    free(what);
    return rc;
}

/* ------------------------------------------------------------ resources */

const struct np_kube_resource np_kube_res_secrets = {"", "v1", "secrets", true};
const struct np_kube_resource np_kube_res_namespaces = {"", "v1", "namespaces", false};
const struct np_kube_resource np_kube_res_events = {"events.k8s.io", "v1", "events", true};
const struct np_kube_resource np_kube_res_leases = {"coordination.k8s.io", "v1", "leases", true};

int np_kube_resource_path(char **out, const struct np_kube_resource *r, const char *ns,
                          const char *name, const char *subresource)
{
    struct np_buf b = NP_BUF_INIT;

    *out = NULL;
    if (!r || np_str_is_empty(r->version) || np_str_is_empty(r->plural))
        return np_error_set(NP_EINVAL, "resource needs a version and a plural");
    if (r->namespaced && !np_str_is_empty(name) && np_str_is_empty(ns))
        return np_error_set(NP_EINVAL, "%s is namespaced: \"%s\" needs a namespace", r->plural,
                            name);
    if (!r->namespaced && !np_str_is_empty(ns))
        return np_error_set(NP_EINVAL, "%s is cluster-scoped: no namespace allowed", r->plural);
    if (!np_str_is_empty(subresource) && np_str_is_empty(name))
        return np_error_set(NP_EINVAL, "subresource %s needs an object name", subresource);
    if (np_str_is_empty(r->group)) {
        np_buf_puts(&b, "/api/");
    } else {
        np_buf_puts(&b, "/apis/");
        np_kube_url_escape(&b, r->group);
        np_buf_putc(&b, '/');
    }
    np_kube_url_escape(&b, r->version);
    if (!np_str_is_empty(ns)) {
        np_buf_puts(&b, "/namespaces/");
        np_kube_url_escape(&b, ns);
    }
    np_buf_putc(&b, '/');
    np_kube_url_escape(&b, r->plural);
    if (!np_str_is_empty(name)) {
        np_buf_putc(&b, '/');
        np_kube_url_escape(&b, name);
    }
    if (!np_str_is_empty(subresource)) {
        np_buf_putc(&b, '/');
        np_kube_url_escape(&b, subresource);
    }
    *out = np_buf_take(&b);
    return 0;
}

/* Sends a request and parses a JSON answer into *out (when out is given). */
static int do_json(struct np_kube_client *c, json_object **out, const char *method,
                   const char *path, const char *query, const char *ctype, const char *body,
                   struct np_kube_cancel *cancel)
{
    int rc = 0;
    struct np_kube_response resp = {0, NP_BUF_INIT};
    struct np_kube_request req = {method, path, query, ctype, body, body ? strlen(body) : 0,
                                  cancel};

    if (out)
        *out = NULL;
    rc = np_kube_client_request(c, &req, &resp);
    if (rc || !out)
        goto out;
    rc = np_kube_json_parse(out, resp.body.data, resp.body.len);
    if (rc)
        rc = np_kube_error_wrap(rc, "%s %s", method, path);
out:
    np_kube_response_clean_up(&resp);
    return rc;
}

int np_kube_get(struct np_kube_client *c, json_object **out, const struct np_kube_resource *r,
                const char *ns, const char *name)
{
    int rc = 0;
    char *path = NULL;

    *out = NULL;
    if (np_str_is_empty(name)) {
        rc = np_error_set(NP_EINVAL, "get %s: no name", r ? r->plural : "?");
        goto out;
    }
    rc = np_kube_resource_path(&path, r, ns, name, NULL);
    if (rc)
        goto out;
    rc = do_json(c, out, "GET", path, NULL, NULL, NULL, NULL);
out:
    free(path);
    return rc;
}

/* The query of one list page: its size, the selectors and the continue token of the last. */
static void page_query(struct np_buf *q, const struct np_kube_list_options *o, const char *limit,
                       const char *cont)
{
    np_buf_reset(q);
    np_kube_query_add(q, "limit", limit);
    if (o && !np_str_is_empty(o->label_selector))
        np_kube_query_add(q, "labelSelector", o->label_selector);
    if (o && !np_str_is_empty(o->field_selector))
        np_kube_query_add(q, "fieldSelector", o->field_selector);
    if (cont)
        np_kube_query_add(q, "continue", cont);
}

/* Reads a list page: its items (borrowed; NULL when absent), the list's resourceVersion (from
 * the first page; later pages repeat it) and the next continue token (*cont replaced; NULL on
 * the last page). Errors: NP_EPARSE (items is not an array). */
static int page_read(json_object *page, const char *path, json_object **arr, char **list_rv,
                     char **cont)
{
    *arr = np_json_path(page, "items", NP_JSON_END);
    if (*arr && !json_object_is_type(*arr, json_type_array))
        return np_error_set(NP_EPARSE, "list %s: items is not an array", path);
    json_object *meta = np_json_path(page, "metadata", NP_JSON_END);
    if (!*list_rv)
        *list_rv = np_strdup(np_json_path_str(meta, "resourceVersion", NP_JSON_END));
    const char *next = np_json_path_str(meta, "continue", NP_JSON_END);
    free(*cont);
    *cont = np_str_is_empty(next) ? NULL : np_strdup(next);
    return 0;
}

int np_kube_list_pages(struct np_kube_client *c, const struct np_kube_resource *r, const char *ns,
                       const struct np_kube_list_options *o, np_kube_page_fn fn, void *ctx,
                       char **rv)
{
    int rc = 0;
    char *path = NULL, *cont = NULL, *list_rv = NULL;
    json_object *page = NULL;
    struct np_buf q = NP_BUF_INIT;
    char limit[24];

    if (rv)
        *rv = NULL;
    rc = np_kube_resource_path(&path, r, ns, NULL, NULL);
    if (rc)
        goto out;
    snprintf(limit, sizeof(limit), "%d", o && o->limit > 0 ? o->limit : 500);
    for (;;) {
        page_query(&q, o, limit, cont);
        json_object_put(page);
        page = NULL;
        rc = do_json(c, &page, "GET", path, np_buf_cstr(&q), NULL, NULL, o ? o->cancel : NULL);
        if (rc)
            goto out;
        json_object *arr = NULL;
        rc = page_read(page, path, &arr, &list_rv, &cont);
        if (rc)
            goto out;
        if (arr && json_object_array_length(arr) > 0) {
            rc = fn(ctx, arr);
            if (rc)
                goto out;
        }
        if (!cont)
            break;
        if (np_kube_cancel_is_fired(o ? o->cancel : NULL)) {
            rc = np_error_set(NP_ECANCELED, "list %s: canceled", path);
            goto out;
        }
    }
    if (rv) {
        *rv = list_rv ? list_rv : np_strdup("");
        list_rv = NULL;
    }
out:
    json_object_put(page);
    np_buf_clean_up(&q);
    free(path);
    free(cont);
    free(list_rv);
    return rc;
}

static int collect_page(void *ctx, json_object *items)
{
    json_object *all = ctx;
    size_t n = json_object_array_length(items);
    for (size_t i = 0; i < n; i++)
        json_object_array_add(all, json_object_get(json_object_array_get_idx(items, i)));
    return 0;
}

int np_kube_list(struct np_kube_client *c, json_object **items, char **rv,
                 const struct np_kube_resource *r, const char *ns,
                 const struct np_kube_list_options *o)
{
    json_object *all = json_object_new_array();
    *items = NULL;
    int rc = np_kube_list_pages(c, r, ns, o, collect_page, all, rv);
    if (rc) {
        json_object_put(all);
        return rc;
    }
    *items = all;
    return 0;
}

static const char field_manager_query[] = "fieldManager=" NP_KUBE_FIELD_MANAGER;

int np_kube_create(struct np_kube_client *c, json_object **out, const struct np_kube_resource *r,
                   const char *ns, json_object *body)
{
    int rc = 0;
    char *path = NULL;
    const char *text = NULL;

    if (out)
        *out = NULL;
    rc = np_kube_resource_path(&path, r, ns, NULL, NULL);
    if (rc)
        goto out;
    if (!body) {
        rc = np_error_set(NP_EINVAL, "create %s: no body", path);
        goto out;
    }
    text = json_object_to_json_string_ext(body,
                                          JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    rc = do_json(c, out, "POST", path, field_manager_query, "application/json", text, NULL);
out:
    free(path);
    return rc;
}

int np_kube_replace(struct np_kube_client *c, json_object **out, const struct np_kube_resource *r,
                    const char *ns, const char *name, json_object *body)
{
    char *path = NULL;
    if (out)
        *out = NULL;
    int rc = np_kube_resource_path(&path, r, ns, name, NULL);
    if (rc == 0 && !body)
        rc = np_error_set(NP_EINVAL, "replace %s: no body", path);
    if (rc == 0) {
        const char *text = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN |
                                                                    JSON_C_TO_STRING_NOSLASHESCAPE);
        rc = do_json(c, out, "PUT", path, field_manager_query, "application/json", text, NULL);
    }
    free(path);
    return rc;
}

int np_kube_delete(struct np_kube_client *c, const struct np_kube_resource *r, const char *ns,
                   const char *name)
{
    int rc = 0;
    char *path = NULL;

    if (np_str_is_empty(name)) {
        rc = np_error_set(NP_EINVAL, "delete %s: no name", r ? r->plural : "?");
        goto out;
    }
    rc = np_kube_resource_path(&path, r, ns, name, NULL);
    if (rc)
        goto out;
    rc = do_json(c, NULL, "DELETE", path, NULL, NULL, NULL, NULL);
out:
    free(path);
    return rc;
}

int np_kube_patch(struct np_kube_client *c, json_object **out, const struct np_kube_resource *r,
                  const char *ns, const char *name, const char *subresource,
                  enum np_kube_patch_type type, const char *body)
{
    int rc = 0;
    char *path = NULL;
    const char *ctype = NULL, *query = field_manager_query;

    if (out)
        *out = NULL;
    if (np_str_is_empty(name) || !body) {
        rc = np_error_set(NP_EINVAL, "patch %s: needs a name and a body", r ? r->plural : "?");
        goto out;
    }
    switch (type) {
    case NP_KUBE_PATCH_MERGE: ctype = "application/merge-patch+json"; break;
    case NP_KUBE_PATCH_JSON: ctype = "application/json-patch+json"; break;
    case NP_KUBE_PATCH_APPLY:
        ctype = "application/apply-patch+yaml";
        query = "fieldManager=" NP_KUBE_FIELD_MANAGER "&force=true";
        break;
    default: rc = np_error_set(NP_EINVAL, "unknown patch type %d", (int)type); goto out;
    }
    rc = np_kube_resource_path(&path, r, ns, name, subresource);
    if (rc)
        goto out;
    rc = do_json(c, out, "PATCH", path, query, ctype, body, NULL);
out:
    free(path);
    return rc;
}

int np_kube_status_patch(struct np_kube_client *c, json_object **out,
                         const struct np_kube_resource *r, const char *ns, const char *name,
                         const char *merge_patch)
{
    return np_kube_patch(c, out, r, ns, name, "status", NP_KUBE_PATCH_MERGE, merge_patch);
}
