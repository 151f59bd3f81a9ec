/*
 * The scripted loopback HTTP server behind the kube client's unit tests (see
 * fake_apiserver.h): one thread accepts, one thread per connection parses a request and
 * calls the test's handler; every response closes the connection.
 */
#include "fake_apiserver.h"

#include "core/core.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CONNS 256

struct fake_conn {
    struct fake_server *server;
    int fd;
    pthread_t thread;
};

struct fake_server {
    int listen_fd;
    char url[64];
    fake_handler handler;
    void *ctx;
    pthread_t accept_thread;
    atomic_bool stopping;
    pthread_mutex_t lock;
    struct fake_conn *conns[MAX_CONNS];
    int nconns;
    char *lines[MAX_CONNS];
    int nlines;
};

static void write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; /* the client went away; tests check what they received */
        data += n;
        len -= (size_t)n;
    }
}

static void header_value(const char *headers, const char *name, char *out, size_t size)
{
    out[0] = '\0';
    size_t nlen = strlen(name);
    for (const char *p = headers; p && *p;) {
        const char *eol = strstr(p, "\r\n");
        if (!eol)
            break;
        if ((size_t)(eol - p) > nlen && strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
            const char *v = p + nlen + 1;
            while (*v == ' ')
                v++;
            size_t n = (size_t)(eol - v);
            if (n >= size)
                n = size - 1;
            memcpy(out, v, n);
            out[n] = '\0';
            return;
        }
        p = eol + 2;
    }
}

/* Reads one request; false when the client sent nothing usable. */
static bool read_request(int fd, struct fake_req *req)
{
    struct np_buf b = NP_BUF_INIT;
    char chunk[4096];
    char *end = NULL;
    bool ok = false;

    memset(req, 0, sizeof(*req));
    while (!(end = strstr(np_buf_cstr(&b), "\r\n\r\n"))) {
        ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            goto out;
        np_buf_append(&b, chunk, (size_t)n);
    }
    size_t head_len = (size_t)(end - b.data) + 4;
    char target[6000] = "";
    if (sscanf(b.data, "%15s %5999s", req->method, target) != 2)
        goto out;
    char *q = strchr(target, '?');
    if (q) {
        *q = '\0';
        np_strlcpy(req->query, q + 1, sizeof(req->query));
    }
    np_strlcpy(req->path, target, sizeof(req->path));
    char *headers = np_strndup(b.data, head_len);
    char clen[32];
    header_value(headers, "Content-Length", clen, sizeof(clen));
    header_value(headers, "Content-Type", req->content_type, sizeof(req->content_type));
    header_value(headers, "Authorization", req->authorization, sizeof(req->authorization));
    free(headers);
    int64_t want = 0;
    if (clen[0] && np_parse_int64(clen, 0, 64 * 1024 * 1024, &want) != 0)
        goto out;
    while (b.len - head_len < (size_t)want) {
        ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            goto out;
        np_buf_append(&b, chunk, (size_t)n);
    }
    req->body = np_strndup(b.data + head_len, (size_t)want);
    req->body_len = (size_t)want;
    ok = true;
out:
    np_buf_clean_up(&b);
    return ok;
}

static void *conn_main(void *arg)
{
    struct fake_conn *c = arg;
    struct fake_req req;
    if (read_request(c->fd, &req)) {
        struct fake_server *s = c->server;
        pthread_mutex_lock(&s->lock);
        if (s->nlines < MAX_CONNS)
            s->lines[s->nlines++] =
                np_strdupf("%s %s%s%s", req.method, req.path, req.query[0] ? "?" : "", req.query);
        pthread_mutex_unlock(&s->lock);
        s->handler(s->ctx, &req, c);
        free(req.body);
    }
    shutdown(c->fd, SHUT_RDWR);
    close(c->fd);
    c->fd = -1;
    return NULL;
}

static void *accept_main(void *arg)
{
    struct fake_server *s = arg;
    while (!atomic_load(&s->stopping)) {
        struct pollfd pfd = {s->listen_fd, POLLIN, 0};
        if (poll(&pfd, 1, 50) <= 0)
            continue;
        int fd = accept(s->listen_fd, NULL, NULL);
        if (fd < 0)
            continue;
        pthread_mutex_lock(&s->lock);
        if (s->nconns >= MAX_CONNS) {
            pthread_mutex_unlock(&s->lock);
            close(fd);
            continue;
        }
        struct fake_conn *c = np_xcalloc(1, sizeof(*c));
        c->server = s;
        c->fd = fd;
        s->conns[s->nconns++] = c;
        pthread_create(&c->thread, NULL, conn_main, c);
        pthread_mutex_unlock(&s->lock);
    }
    return NULL;
}

struct fake_server *fake_server_start(fake_handler handler, void *ctx)
{
    struct fake_server *s = np_xcalloc(1, sizeof(*s));
    s->handler = handler;
    s->ctx = ctx;
    pthread_mutex_init(&s->lock, NULL);
    atomic_init(&s->stopping, false);
    s->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert(s->listen_fd >= 0);
    int one = 1;
    setsockopt(s->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    cr_assert_eq(bind(s->listen_fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    cr_assert_eq(listen(s->listen_fd, 64), 0);
    socklen_t alen = sizeof(addr);
    getsockname(s->listen_fd, (struct sockaddr *)&addr, &alen);
    snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%d", ntohs(addr.sin_port));
    pthread_create(&s->accept_thread, NULL, accept_main, s);
    return s;
}

const char *fake_server_url(struct fake_server *s)
{
    return s->url;
}

void fake_server_stop(struct fake_server *s)
{
    atomic_store(&s->stopping, true);
    pthread_join(s->accept_thread, NULL);
    close(s->listen_fd);
    for (int i = 0; i < s->nconns; i++) {
        pthread_join(s->conns[i]->thread, NULL);
        free(s->conns[i]);
    }
    for (int i = 0; i < s->nlines; i++)
        free(s->lines[i]);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

int fake_server_count(struct fake_server *s)
{
    pthread_mutex_lock(&s->lock);
    int n = s->nlines;
    pthread_mutex_unlock(&s->lock);
    return n;
}

const char *fake_server_request_line(struct fake_server *s, int i)
{
    pthread_mutex_lock(&s->lock);
    const char *line = i >= 0 && i < s->nlines ? s->lines[i] : NULL;
    pthread_mutex_unlock(&s->lock);
    return line;
}

bool fake_server_stopping(struct fake_conn *c)
{
    return atomic_load(&c->server->stopping);
}

static const char *reason_phrase(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 404: return "Not Found";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 422: return "Unprocessable Entity";
    case 500: return "Internal Server Error";
    default: return "Status";
    }
}

void fake_reply(struct fake_conn *c, int status, const char *body)
{
    size_t len = body ? strlen(body) : 0;
    char *head = np_strdupf("HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
                            "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                            status, reason_phrase(status), len);
    write_all(c->fd, head, strlen(head));
    if (len)
        write_all(c->fd, body, len);
    free(head);
}

void fake_stream_start(struct fake_conn *c)
{
    static const char head[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                               "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
    write_all(c->fd, head, sizeof(head) - 1);
}

void fake_stream_send(struct fake_conn *c, const char *data, size_t len)
{
    if (len == 0)
        return;
    char size[32];
    snprintf(size, sizeof(size), "%zx\r\n", len);
    write_all(c->fd, size, strlen(size));
    write_all(c->fd, data, len);
    write_all(c->fd, "\r\n", 2);
}

void fake_stream_end(struct fake_conn *c)
{
    write_all(c->fd, "0\r\n\r\n", 5);
}

bool fake_wait_closed(struct fake_conn *c)
{
    char buf[256];
    while (!fake_server_stopping(c)) {
        struct pollfd pfd = {c->fd, POLLIN, 0};
        int n = poll(&pfd, 1, 50);
        if (n < 0 && errno != EINTR)
            return true;
        if (n > 0) {
            ssize_t r = recv(c->fd, buf, sizeof(buf), 0);
            if (r <= 0)
                return true;
        }
    }
    return false;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

void fake_query_get(const char *query, const char *name, char *out, size_t size)
{
    size_t nlen = strlen(name), o = 0;
    out[0] = '\0';
    for (const char *p = query; p && *p;) {
        const char *amp = strchr(p, '&');
        size_t seg = amp ? (size_t)(amp - p) : strlen(p);
        if (seg > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
            for (size_t i = nlen + 1; i < seg && o + 1 < size; i++) {
                if (p[i] == '%' && i + 2 < seg && hexval(p[i + 1]) >= 0 && hexval(p[i + 2]) >= 0) {
                    out[o++] = (char)(hexval(p[i + 1]) * 16 + hexval(p[i + 2]));
                    i += 2;
                } else {
                    out[o++] = p[i];
                }
            }
            out[o] = '\0';
            return;
        }
        p = amp ? amp + 1 : NULL;
    }
}
