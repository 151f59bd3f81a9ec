/*
 * The observability HTTP server: libwebsockets serves /metrics, /healthz and /readyz on its
 * own service thread; probes and metrics are read through the callbacks of the config.
 */
#include "http/http.h"

#include <libwebsockets.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct np_http_server {
    struct np_http_server_config cfg;
    char host[256];
    struct lws_context *ctx;
    struct lws_vhost *vhost;
    pthread_t thread;
    bool thread_started;
    atomic_bool stop;
    int port;
};

/* Per-connection state: the response is built on the HTTP callback and written when writable. */
struct conn {
    struct np_buf body;
    int status;
    const char *content_type;
    size_t sent;
    bool headers_sent;
};

static void build_response(struct np_http_server *s, const char *uri, struct conn *c)
{
    np_buf_init(&c->body);
    c->content_type = "text/plain; charset=utf-8";
    np_http_probe_fn probe = NULL;
    if (strcmp(uri, "/metrics") == 0 && s->cfg.metrics) {
        c->status = HTTP_STATUS_OK;
        c->content_type = "text/plain; version=0.0.4; charset=utf-8";
        np_metrics_render(s->cfg.metrics, &c->body);
        return;
    }
    if (strcmp(uri, "/healthz") == 0 || strcmp(uri, "/livez") == 0)
        probe = s->cfg.healthz;
    else if (strcmp(uri, "/readyz") == 0)
        probe = s->cfg.readyz;
    if (!probe) {
        c->status = HTTP_STATUS_NOT_FOUND;
        np_buf_puts(&c->body, "not found\n");
        return;
    }
    struct np_buf msg = NP_BUF_INIT;
    bool ok = probe(s->cfg.probe_ctx, &msg);
    c->status = ok ? HTTP_STATUS_OK : HTTP_STATUS_SERVICE_UNAVAILABLE;
    np_buf_puts(&c->body, ok ? "ok" : "not ok");
    if (msg.len)
        np_buf_appendf(&c->body, ": %s", np_buf_cstr(&msg));
    np_buf_putc(&c->body, '\n');
    np_buf_clean_up(&msg);
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    struct conn *c = user;
    struct np_http_server *s = lws_context_user(lws_get_context(wsi));
    (void)len;
    switch (reason) {
    case LWS_CALLBACK_HTTP: {
        memset(c, 0, sizeof(*c));
        build_response(s, (const char *)in, c);
        lws_callback_on_writable(wsi);
        return 0;
    }
    case LWS_CALLBACK_HTTP_WRITEABLE: {
        if (!c)
            return -1;
        if (!c->headers_sent) {
            unsigned char hdr[LWS_PRE + 512];
            unsigned char *start = hdr + LWS_PRE, *p = start, *end = hdr + sizeof(hdr) - 1;
            if (lws_add_http_common_headers(wsi, (unsigned int)c->status, c->content_type,
                                            (lws_filepos_t)c->body.len, &p, end))
                return 1;
            if (lws_finalize_write_http_header(wsi, start, &p, end))
                return 1;
            c->headers_sent = true;
            lws_callback_on_writable(wsi);
            return 0;
        }
        size_t chunk = c->body.len - c->sent;
        if (chunk > 16384)
            chunk = 16384;
        unsigned char *buf = malloc(LWS_PRE + chunk + 1);
        if (!buf)
            return -1;
        memcpy(buf + LWS_PRE, c->body.data ? c->body.data + c->sent : "", chunk);
        bool last = c->sent + chunk >= c->body.len;
        int n = lws_write(wsi, buf + LWS_PRE, chunk, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP);
        free(buf);
        if (n < (int)chunk)
            return -1;
        c->sent += chunk;
        if (last) {
            if (lws_http_transaction_completed(wsi))
                return -1;
            return 0;
        }
        lws_callback_on_writable(wsi);
        return 0;
    }
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        if (c)
            np_buf_clean_up(&c->body);
        return 0;
    default: break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
    {"http", callback, sizeof(struct conn), 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void *service_thread(void *arg)
{
    struct np_http_server *s = arg;
    while (!atomic_load(&s->stop))
        if (lws_service(s->ctx, 0) < 0)
            break;
    return NULL;
}

int np_http_parse_addr(const char *addr, char *host, size_t host_size, int *port)
{
    if (np_str_is_empty(addr))
        return np_error_set(NP_EINVAL, "empty listen address");
    const char *colon = strrchr(addr, ':');
    if (!colon)
        return np_error_set(NP_EINVAL, "listen address \"%.64s\" needs host:port", addr);
    size_t hl = (size_t)(colon - addr);
    const char *h = addr;
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    if (hl >= host_size)
        return np_error_set(NP_EINVAL, "listen host too long");
    memcpy(host, h, hl);
    host[hl] = '\0';
    int64_t p;
    if (np_parse_int64(colon + 1, 0, 65535, &p) != 0)
        return np_error_set(NP_EINVAL, "bad port in listen address \"%.64s\"", addr);
    *port = (int)p;
    return 0;
}

static void lws_log_bridge(int level, const char *line)
{
    char msg[512];
    np_strlcpy(msg, line, sizeof(msg));
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    np_log(level == LLL_ERR ? NP_LOG_ERROR : NP_LOG_WARN, "libwebsockets", "detail", msg,
           NP_LOG_END);
}

int np_http_server_start(struct np_http_server **out, const struct np_http_server_config *cfg)
{
    int rc = 0;
    struct np_http_server *s = np_xcalloc(1, sizeof(*s));
    s->cfg = *cfg;
    rc = np_http_parse_addr(cfg->addr, s->host, sizeof(s->host), &s->port);
    if (rc)
        goto out;
    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_bridge);

    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    info.port = s->port;
    info.iface = s->host[0] ? s->host : NULL;
    info.protocols = protocols;
    info.user = s;
    info.options = LWS_SERVER_OPTION_HTTP_HEADERS_SECURITY_BEST_PRACTICES_ENFORCE;
    if (s->host[0] && strchr(s->host, ':') == NULL)
        info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    s->ctx = lws_create_context(&info);
    if (!s->ctx) {
        rc = np_error_set(NP_EIO, "cannot listen on %s", cfg->addr);
        goto out;
    }
    s->vhost = lws_get_vhost_by_name(s->ctx, "default");
    if (s->vhost)
        s->port = lws_get_vhost_listen_port(s->vhost);
    if (pthread_create(&s->thread, NULL, service_thread, s) != 0) {
        rc = np_error_set(NP_EIO, "cannot start the http thread");
        goto out;
    }
    s->thread_started = true;
out:
    if (rc) {
        np_http_server_destroy(s);
        s = NULL;
    }
    *out = s;
    return rc;
}

int np_http_server_port(const struct np_http_server *s)
{
    return s->port;
}

void np_http_server_destroy(struct np_http_server *s)
{
    if (!s)
        return;
    atomic_store(&s->stop, true);
    if (s->ctx)
        lws_cancel_service(s->ctx);
    if (s->thread_started)
        pthread_join(s->thread, NULL);
    if (s->ctx)
        lws_context_destroy(s->ctx);
    free(s);
}
