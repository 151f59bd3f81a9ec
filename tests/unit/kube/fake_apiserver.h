/*
 * A scripted HTTP/1.1 server on 127.0.0.1 for the kube client's unit tests: each request
 * runs the test's handler on its own thread, which answers with plain or chunked
 * (streaming) responses. Only for tests; the real API server is used end to end.
 */
#ifndef NP_TEST_FAKE_APISERVER_H
#define NP_TEST_FAKE_APISERVER_H

#include <stdbool.h>
#include <stddef.h>

struct fake_req {
    char method[16];
    char path[1024];  /* before '?' */
    char query[4096]; /* after '?', still encoded */
    char content_type[128];
    char authorization[256];
    char *body; /* NUL-terminated */
    size_t body_len;
};

struct fake_conn;
struct fake_server;

typedef void (*fake_handler)(void *ctx, const struct fake_req *req, struct fake_conn *conn);

/* Starts a server on a free port; aborts the test on failure. */
struct fake_server *fake_server_start(fake_handler handler, void *ctx);
/* "http://127.0.0.1:<port>". Borrowed. */
const char *fake_server_url(struct fake_server *s);
/* Stops accepting, ends streams that wait, joins every thread, frees. */
void fake_server_stop(struct fake_server *s);
/* Number of requests served so far. */
int fake_server_count(struct fake_server *s);
/* "METHOD path?query" of request i (0-based), or NULL. Borrowed until stop. */
const char *fake_server_request_line(struct fake_server *s, int i);
/* True when the server is stopping (for handlers that loop). */
bool fake_server_stopping(struct fake_conn *c);

void fake_reply(struct fake_conn *c, int status, const char *body);
void fake_stream_start(struct fake_conn *c);
void fake_stream_send(struct fake_conn *c, const char *data, size_t len);
void fake_stream_end(struct fake_conn *c);
/* Waits until the client closes the connection or the server stops; returns true for a
 * client close. */
bool fake_wait_closed(struct fake_conn *c);

/* The value of name=... in an encoded query, decoded, into out (empty when absent). */
void fake_query_get(const char *query, const char *name, char *out, size_t size);

#endif
