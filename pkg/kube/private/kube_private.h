/*
 * Internals of pkg/kube shared between its files and its unit tests: YAML to json-c,
 * base64, a small string map, the incremental watch decoder, the reconnect backoff, the
 * token source, and test hooks for in-cluster config and event bodies.
 */
#ifndef NP_KUBE_PRIVATE_H
#define NP_KUBE_PRIVATE_H

#include "core/core.h"
#include "kube/kube.h"
#include "kube/private/store.h"

#include <json-c/json.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct curl_slist;

/* Deepest JSON nesting accepted (json-c's default of 32 is too low for managedFields). */
#define NP_KUBE_JSON_DEPTH 128
/* Largest response body accepted. */
#define NP_KUBE_MAX_BODY (64u * 1024u * 1024u)
/* Largest single watch event accepted. */
#define NP_KUBE_MAX_EVENT (16u * 1024u * 1024u)

/* ------------------------------------------------------------ errors */

/*
 * Prefixes the current thread-local error message: sets "<fmt...>: <previous message>"
 * and returns code. (np_error_set must not be given np_error_message() as an argument:
 * it formats into the same buffer.)
 */
int np_kube_error_wrap(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ------------------------------------------------------------ json / yaml / base64 */

/* Parses one JSON document (the whole of data). *out owned. Errors: NP_EPARSE. */
int np_kube_json_parse(json_object **out, const char *data, size_t len);
/* Plain JSON text of obj (owned); for objects private to the calling thread. */
char *np_kube_json_text(json_object *obj);
/* Members by path: np_json_path / np_json_path_str (core). */

/*
 * Parses the first YAML document of data into json-c: mappings to objects, sequences to
 * arrays, every scalar to a string (callers interpret "true"). Aliases are followed with a
 * bounded node budget. *out owned. Errors: NP_EPARSE with line and column.
 */
int np_kube_yaml_parse(json_object **out, const char *data, size_t len);

/* Standard base64 (newlines ignored). *out owned, NUL-terminated. Errors: NP_EPARSE. */
int np_kube_base64_decode(unsigned char **out, size_t *out_len, const char *in, size_t in_len);

/* Reads a whole file (at most max bytes). *out owned, NUL-terminated.
 * Errors: NP_ENOTFOUND, NP_EIO, NP_EINVAL (too big). */
int np_kube_read_file(char **out, size_t *len, const char *path, size_t max);

/* A kubeconfig's text (read from path, which names it in messages and anchors its relative
 * file references) into a config: everything np_kube_config_load_kubeconfig does but finding
 * and reading the file (also the fuzz target's entry point). Errors as that function. */
int np_kube_config_parse(struct np_kube_config **out, const char *text, size_t len,
                         const char *path);

/* Appends key=value to an encoded query (with '&' when needed), percent-encoding both. */
void np_kube_query_add(struct np_buf *q, const char *key, const char *value);
/* Percent-encodes s (RFC 3986 unreserved characters kept) onto b. */
void np_kube_url_escape(struct np_buf *b, const char *s);

/* ------------------------------------------------------------ string map */

/* A chained hash map from owned string keys to an int64 and a pointer. Not thread-safe. */
struct np_kube_strmap_entry {
    char *key;
    int64_t num;
    void *ptr;
    struct np_kube_strmap_entry *next;
};

struct np_kube_strmap {
    struct np_kube_strmap_entry **buckets;
    size_t nbuckets;
    size_t len;
};

void np_kube_strmap_init(struct np_kube_strmap *m);
/* Frees the keys and entries (not the pointers). */
void np_kube_strmap_clean_up(struct np_kube_strmap *m);
struct np_kube_strmap_entry *np_kube_strmap_find(struct np_kube_strmap *m, const char *key);
/* Finds or inserts (num 0, ptr NULL); *created says which. */
struct np_kube_strmap_entry *np_kube_strmap_upsert(struct np_kube_strmap *m, const char *key,
                                                   bool *created);
/* Removes key; returns whether it was there. */
bool np_kube_strmap_remove(struct np_kube_strmap *m, const char *key);

/* ------------------------------------------------------------ watch decoder */

/*
 * Turns the bytes of a watch response body, cut at arbitrary points, into events. Pure:
 * no I/O and no threads, so unit tests feed it byte by byte.
 */
struct np_kube_watch_decoder {
    struct json_tokener *tok;
    np_kube_watch_fn fn;
    void *ctx;
    char *rv;          /* newest resourceVersion seen, owned, or NULL */
    bool pending;      /* part of an event has been fed */
    size_t event_size; /* bytes of the event being decoded */
    size_t max_event;  /* limit per event */
    int err;           /* sticky error */
    size_t events;     /* events delivered (BOOKMARK included) */
};

/* initial_rv may be NULL. Errors: NP_ENOMEM. */
int np_kube_watch_decoder_init(struct np_kube_watch_decoder *d, np_kube_watch_fn fn, void *ctx,
                               const char *initial_rv);
void np_kube_watch_decoder_clean_up(struct np_kube_watch_decoder *d);
/*
 * Feeds bytes. Returns 0, NP_EPARSE (not a stream of watch events), NP_EGONE (ERROR 410 or
 * a too-large RV), another code mapped from an ERROR event, or fn's non-zero value. After
 * an error every later call returns the same error.
 */
int np_kube_watch_decoder_feed(struct np_kube_watch_decoder *d, const char *data, size_t len);
/* End of stream: NP_EPARSE when an event was cut short, else the sticky error or 0. */
int np_kube_watch_decoder_finish(struct np_kube_watch_decoder *d);
/* Newest resourceVersion (borrowed) or NULL. */
const char *np_kube_watch_decoder_rv(const struct np_kube_watch_decoder *d);

/* ------------------------------------------------------------ backoff */

/* Jittered exponential backoff, reset after a healthy period. Times are monotonic ms. */
struct np_kube_backoff {
    int64_t initial_ms;
    int64_t max_ms;
    int64_t reset_ms;
    int64_t current_ms; /* next base delay; 0 = initial */
    int64_t last_ms;    /* when next() last ran, or INT64_MIN */
};

void np_kube_backoff_init(struct np_kube_backoff *b, int64_t initial_ms, int64_t max_ms,
                          int64_t reset_ms);
/* The delay before the next attempt: base in [initial, max] doubling each call, plus up to
 * a quarter of jitter, capped at max; a call reset_ms or more after the previous one
 * starts again from initial. */
int64_t np_kube_backoff_next(struct np_kube_backoff *b, int64_t now_ms);

/* ------------------------------------------------------------ token source */

/* A bearer token, static or from a file re-read at most every refresh_ms. Thread-safe. */
struct np_kube_token_source {
    pthread_mutex_t lock;
    char *token;
    char *file;
    int64_t read_at_ms; /* monotonic; INT64_MIN = never */
    int64_t refresh_ms;
    const struct np_clock *clock;
};

int np_kube_token_source_init(struct np_kube_token_source *ts, const char *token, const char *file,
                              const struct np_clock *clock);
void np_kube_token_source_clean_up(struct np_kube_token_source *ts);
/* The current token (owned; NULL when there is none). Errors: reading the file failed and
 * there is no earlier token (NP_ENOTFOUND, NP_EIO). */
int np_kube_token_source_get(struct np_kube_token_source *ts, char **out);
/* Forces a re-read on the next get (after a 401). */
void np_kube_token_source_invalidate(struct np_kube_token_source *ts);

/* ------------------------------------------------------------ exec credential plugins */

/* The API versions of ExecCredential netposture speaks. */
#define NP_KUBE_EXEC_V1 "client.authentication.k8s.io/v1"
#define NP_KUBE_EXEC_V1BETA1 "client.authentication.k8s.io/v1beta1"
/* Defaults of a plugin run: whole run, stdout kept, re-run this long before expiry. */
#define NP_KUBE_EXEC_TIMEOUT_MS 60000
#define NP_KUBE_EXEC_MAX_STDOUT (1024u * 1024u)
#define NP_KUBE_EXEC_EXPIRY_MARGIN_MS 10000

/* Resolves path against dir unless it is absolute (or dir is empty). Owned. */
char *np_kube_path_resolve(const char *dir, const char *path);
/* Whether a YAML scalar means true ("true", "yes", "on"; any case). */
bool np_kube_yaml_true(const char *s);

/*
 * Reads a user's exec stanza (exec: the json-c form of the YAML; cluster: the selected cluster
 * entry, for its exec extension) into *out (owned; np_kube_exec_config_destroy). dir anchors a
 * relative command, what prefixes messages. Errors: NP_EINVAL (no command, an apiVersion other
 * than v1/v1beta1, interactiveMode missing for v1, Always or unknown; a malformed args/env).
 */
int np_kube_exec_config_parse(struct np_kube_exec_config **out, json_object *exec,
                              json_object *cluster, const char *dir, const char *what);
struct np_kube_exec_config *np_kube_exec_config_dup(const struct np_kube_exec_config *ec);
void np_kube_exec_config_destroy(struct np_kube_exec_config *ec);

/* A credential an exec plugin returned. Secrets: wiped by clean_up, never logged. */
struct np_kube_exec_cred {
    char *token;         /* bearer token, or NULL */
    unsigned char *cert; /* client certificate PEM, or NULL (then key is NULL too) */
    size_t cert_len;
    unsigned char *key; /* client key PEM, or NULL */
    size_t key_len;
    int64_t expires_ms; /* wall ms of status.expirationTimestamp; INT64_MAX: none given */
};

void np_kube_exec_cred_clean_up(struct np_kube_exec_cred *cred);
/* A deep copy of src into dst. */
void np_kube_exec_cred_copy(struct np_kube_exec_cred *dst, const struct np_kube_exec_cred *src);

/*
 * Decodes a plugin's stdout (an ExecCredential of api_version) into cred (cleaned first).
 * Errors: NP_EPARSE (not JSON, kind is not ExecCredential, another apiVersion, no status, a
 * member of the wrong type, neither token nor certificate and key, only one of certificate and
 * key, a pair OpenSSL refuses, a bad expirationTimestamp). Messages name what was wrong, never
 * the secret values.
 */
int np_kube_exec_cred_parse(struct np_kube_exec_cred *cred, const char *text, size_t len,
                            const char *api_version);

/*
 * KUBERNETES_EXEC_INFO for a plugin (owned JSON text): apiVersion, kind ExecCredential,
 * spec.interactive false and, with provide_cluster_info, spec.cluster (server,
 * tls-server-name, insecure-skip-tls-verify, certificate-authority-data, config) from cfg.
 */
char *np_kube_exec_info(const struct np_kube_exec_config *ec, const struct np_kube_config *cfg);

/* How one run of a command went. */
struct np_kube_exec_result {
    struct np_buf out;  /* stdout (at most the limit asked for) */
    char err_line[201]; /* the first line of stderr, cut to 200 bytes, printable ASCII only */
    int exit_code;      /* the exit status, or -1 when a signal ended it */
    int signal;         /* the signal that ended it, or 0 */
};

void np_kube_exec_result_clean_up(struct np_kube_exec_result *res);

/* One run of a command: argv[0] is looked up in $PATH unless it holds a '/'. */
struct np_kube_exec_spec {
    char *const *argv;             /* NULL-terminated */
    char *const *envp;             /* the whole environment, NULL-terminated */
    size_t max_stdout;             /* more kills the command */
    int64_t timeout_ms;            /* longer kills the command (its process group) */
    struct np_kube_cancel *cancel; /* optional: firing kills the command */
};

/*
 * Runs a command with stdin /dev/null, default signal handling and an empty signal mask, in a
 * process group of its own, capturing stdout and the first line of stderr; res (zeroed first)
 * holds what was seen whatever the outcome. Returns 0 when the command exited (any status).
 * Errors: NP_ENOTFOUND (no such command), NP_EIO (it cannot be started), NP_ETIMEOUT,
 * NP_EPARSE (more stdout than max_stdout), NP_ECANCELED.
 */
int np_kube_exec_run(struct np_kube_exec_result *res, const struct np_kube_exec_spec *spec);

/*
 * The credential source of a client with an exec plugin: the plugin's last credential, cached
 * until it expires (less a margin) or a 401 proves it stale. Thread-safe: one run at a time,
 * threads that waited for a run share its credential.
 */
struct np_kube_exec {
    pthread_mutex_t lock;
    struct np_kube_exec_config *config;
    char *info; /* KUBERNETES_EXEC_INFO */
    char *what; /* "exec plugin \"<command>\"", for messages */
    struct np_kube_exec_cred cred;
    bool have;     /* cred holds a credential */
    uint64_t gen;  /* bumped by every credential taken */
    uint64_t runs; /* plugin runs so far */
    const struct np_clock *clock;
    int64_t timeout_ms;
    size_t max_stdout;
    int64_t margin_ms;
};

/* cfg->exec must be set; the clock's wall time judges expiry. Errors: NP_ENOMEM. */
int np_kube_exec_init(struct np_kube_exec *x, const struct np_kube_config *cfg,
                      const struct np_clock *clock);
void np_kube_exec_clean_up(struct np_kube_exec *x);
/*
 * A copy of the current credential in *cred (cleaned by the caller) and its generation in *gen,
 * running the plugin first when none is cached or the cached one expires within the margin.
 * Errors: NP_EAUTH (the plugin is not found, fails or prints no valid credential; the message
 * says why, with the install hint and the first line of its stderr), NP_ETIMEOUT, NP_ECANCELED.
 */
int np_kube_exec_get(struct np_kube_exec *x, struct np_kube_exec_cred *cred, uint64_t *gen,
                     struct np_kube_cancel *cancel);
/* The server refused the credential of generation gen (401): forget it, so the next get runs
 * the plugin, unless a newer one was taken meanwhile. */
void np_kube_exec_invalidate(struct np_kube_exec *x, uint64_t gen);
/* Plugin runs so far (for tests). */
uint64_t np_kube_exec_runs(struct np_kube_exec *x);

/* ------------------------------------------------------------ hooks for tests */

/* In-cluster config from explicit values instead of the environment and the standard
 * directory; dir holds token, ca.crt and optionally namespace. */
int np_kube_config_in_cluster_at(struct np_kube_config **out, const char *host, const char *port,
                                 const char *dir);

/* The POST body of a new Event (owned). name is the Event's name, now_ms wall time. */
json_object *np_kube_event_new_body(const struct np_kube_object_ref *regarding, const char *ns,
                                    const char *name, const char *type, const char *reason,
                                    const char *action, const char *note, const char *controller,
                                    const char *instance, int64_t now_ms);

/* Counters of an informer, for tests: full lists and watch requests made so far. */
void np_kube_informer_counters(struct np_kube_informer *inf, uint64_t *lists, uint64_t *watches);

/* Registers / unregisters a curl multi handle woken by np_kube_cancel_fire (watch.c). */
void np_kube_cancel_attach(struct np_kube_cancel *cancel, void *multi);
void np_kube_cancel_detach(struct np_kube_cancel *cancel, void *multi);

/* The client's curl easy handle pool and settings (client.c), for watch.c. */
struct np_kube_client_conn {
    void *easy;                 /* CURL * */
    struct curl_slist *headers; /* owned */
    char *url;                  /* owned */
    char errbuf[256];           /* CURL_ERROR_SIZE */
    bool exec_cred;             /* the request carries an exec plugin's credential */
    uint64_t exec_gen;          /* its generation */
};
int np_kube_client_conn_open(struct np_kube_client *client, struct np_kube_client_conn *conn,
                             const struct np_kube_request *req, bool streaming);
void np_kube_client_conn_close(struct np_kube_client *client, struct np_kube_client_conn *conn,
                               bool reuse);
const struct np_clock *np_kube_client_clock(const struct np_kube_client *client);
/* Maps a libcurl result to NP_EIO / NP_ETIMEOUT / NP_ECANCELED with a message. */
int np_kube_curl_error(int curl_code, const char *errbuf, const char *what);
/* Maps the Status object of a watch ERROR event like np_kube_status_to_error (its code
 * wins; 500 when it has none). */
int np_kube_status_event_to_error(json_object *status, const char *what);
/* After an answer on conn: a 401 lets the token source re-read and forgets the exec plugin's
 * credential the request carried. Returns true when a 401 refused an exec credential, so that
 * sending the request again may succeed. */
bool np_kube_client_note_status(struct np_kube_client *client,
                                const struct np_kube_client_conn *conn, long status);
/* Tells the client's observer (if any) of a request: its method, HTTP status (0: no answer)
 * and duration (-1: not timed, e.g. a watch stream). */
void np_kube_client_observe(struct np_kube_client *client, const char *method, long status,
                            int64_t duration_ms);
/* The client's exec credential source, or NULL (for tests). */
struct np_kube_exec *np_kube_client_exec(struct np_kube_client *client);

#endif
