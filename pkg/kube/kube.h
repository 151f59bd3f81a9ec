/*
 * kube: netposture's Kubernetes client and controller runtime — kubeconfig and in-cluster
 * config, a thread-safe REST client (get, paginated list, create, delete, patch, apply,
 * status), streaming watches, informers with a thread-safe store, a client-go style
 * workqueue, and the helpers a reconciler needs (finalizers, status, Events, Secrets).
 */
#ifndef NP_KUBE_KUBE_H
#define NP_KUBE_KUBE_H

#include "core/core.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Threading rules
 *  - A struct np_kube_client, np_kube_store, np_kube_workqueue, np_kube_recorder and
 *    np_kube_cancel may be used from any number of threads at once.
 *  - json-c objects are not thread-safe (reference counts are not atomic), so none is ever
 *    shared between threads: every json_object returned through an `**out` parameter is
 *    owned by the caller (release it with json_object_put) and shares nothing; objects
 *    handed to callbacks are borrowed for the call and belong to the calling thread: do not
 *    keep them past the call or pass them to another thread (take json_object_deep_copy()).
 *  - Errors: functions returning int give 0 or a negative NP_E* code, and set the
 *    thread-local message (np_error_message()) to say why, including the API server's own
 *    message when there is one. Tokens and keys never appear in messages or logs.
 */

#define NP_KUBE_FIELD_MANAGER "netposture"
#define NP_KUBE_FINALIZER "netposture.dev/finalizer"
#define NP_KUBE_REPORTING_CONTROLLER "netposture.dev/controller"

/* ---------------------------------------------------------------- config */

/* One exec.env entry of a kubeconfig user: set for the plugin only. */
struct np_kube_exec_env {
    char *name;
    char *value; /* may hold a secret: never log */
};

/*
 * An exec credential plugin (users[].user.exec), run as kubectl runs it: the process
 * environment plus env, KUBERNETES_EXEC_INFO, stdin /dev/null, never interactive. Every member
 * is owned by the config.
 */
struct np_kube_exec_config {
    char *command; /* looked up in $PATH; with a '/', relative to the kubeconfig's directory */
    char **args;   /* NULL-terminated, never NULL */
    struct np_kube_exec_env *env;
    size_t nenv;
    char *api_version;         /* client.authentication.k8s.io/v1 or .../v1beta1 */
    char *install_hint;        /* shown when the command is not found, or NULL */
    bool provide_cluster_info; /* put the cluster in KUBERNETES_EXEC_INFO */
    /* With provide_cluster_info: the cluster's extension client.authentication.k8s.io/exec as
     * JSON text (spec.cluster.config), or NULL. */
    char *cluster_config;
};

/* Where and as whom to talk to the API server. Every member is owned by the config. */
struct np_kube_config {
    char *server;                  /* "https://host:port" (maybe a path prefix), no trailing '/' */
    char *tls_server_name;         /* name used for SNI and certificate checks, or NULL */
    bool insecure_skip_tls_verify; /* only when the kubeconfig says so */
    unsigned char *ca_data;        /* PEM CA bundle, or NULL for the system store */
    size_t ca_len;
    unsigned char *cert_data; /* client certificate PEM, or NULL */
    size_t cert_len;
    unsigned char *key_data; /* client key PEM, or NULL (secret: never log) */
    size_t key_len;
    char *token;      /* static bearer token, or NULL (secret: never log) */
    char *token_file; /* bearer token file, re-read at most once a minute, or NULL */
    /* An exec credential plugin, or NULL; only when the user has no token, token file or client
     * certificate (those win, as with kubectl). */
    struct np_kube_exec_config *exec;
    char *namespace; /* the context's namespace or the pod's namespace, or NULL */
    char *context;   /* the kubeconfig context used, or NULL in-cluster */
    char *source;    /* the kubeconfig path or "in-cluster", for messages */
};

/*
 * Loads a kubeconfig: `path` if given, else the first path in $KUBECONFIG, else
 * ~/.kube/config; uses current-context. Files it names (certificate-authority,
 * client-certificate, client-key) are read now, relative paths against the kubeconfig's
 * directory. An exec plugin is checked now (command, apiVersion v1 or v1beta1, interactiveMode
 * Never or IfAvailable) and first run by the client's first request. *out is owned by the
 * caller (np_kube_config_destroy).
 * Errors: NP_ENOTFOUND (no file; a context, cluster or user that is named but missing),
 * NP_EINVAL (no current-context, no server, unsupported auth such as an auth-provider, an exec
 * plugin netposture cannot run), NP_EPARSE (bad YAML or base64), NP_EIO (a named file cannot
 * be read).
 */
int np_kube_config_load_kubeconfig(struct np_kube_config **out, const char *path);

/*
 * In-cluster config: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT, the CA and
 * token of /var/run/secrets/kubernetes.io/serviceaccount (the token is re-read at most once
 * a minute since projected tokens rotate), and the pod's namespace.
 * Errors: NP_ENOTFOUND (not running in a pod: the variables or files are missing), NP_EIO.
 */
int np_kube_config_load_in_cluster(struct np_kube_config **out);

/*
 * The controller-runtime order: `kubeconfig` if given, else $KUBECONFIG, else in-cluster
 * when KUBERNETES_SERVICE_HOST is set, else ~/.kube/config. Errors as above.
 */
int np_kube_config_load(struct np_kube_config **out, const char *kubeconfig);

void np_kube_config_destroy(struct np_kube_config *cfg);

/* ---------------------------------------------------------------- cancel */

/*
 * A cancellation token: fire it from any thread to stop the watches, requests and
 * backoff waits that use it. A running watch stops within milliseconds (it is woken);
 * a plain request within about a second (checked from libcurl's progress callback).
 */
struct np_kube_cancel;

int np_kube_cancel_new(struct np_kube_cancel **out);
void np_kube_cancel_destroy(struct np_kube_cancel *cancel);
void np_kube_cancel_fire(struct np_kube_cancel *cancel);
/* NULL-safe (false). */
bool np_kube_cancel_is_fired(struct np_kube_cancel *cancel);
/* Waits up to ms milliseconds or until fired; returns true when fired. */
bool np_kube_cancel_wait(struct np_kube_cancel *cancel, int64_t ms);

/* ---------------------------------------------------------------- client */

struct np_kube_client;

struct np_kube_client_options {
    const char *user_agent;       /* default "netposture" */
    int64_t request_timeout_ms;   /* whole non-watch request; default 30 000 */
    int64_t connect_timeout_ms;   /* default 10 000 */
    const struct np_clock *clock; /* default np_clock_system(); borrowed */
    /* Optional fence: every write (any method but GET) is refused with NP_EDENIED, sending
     * nothing, unless it returns true (leader election: only the lease holder writes). */
    bool (*write_gate)(void *ctx);
    void *write_gate_ctx;
    /* Optional: told of every request, for metrics: its method ("WATCH" for a watch stream),
     * HTTP status (0: no response) and duration (-1 for a watch: its length is no latency).
     * Thread-safe. */
    void (*observer)(void *ctx, const char *method, long status, int64_t duration_ms);
    void *observer_ctx;
};

/*
 * Creates a client from cfg (copied; cfg may be destroyed afterwards). TLS peer and host
 * verification stay on unless the config is insecure. opts may be NULL.
 * The client is safe to use from many threads; destroy it only after they are done.
 * Errors: NP_EINVAL (no server), NP_ENOMEM.
 */
int np_kube_client_new(struct np_kube_client **out, const struct np_kube_config *cfg,
                       const struct np_kube_client_options *opts);
void np_kube_client_destroy(struct np_kube_client *client);
/* The config's namespace, or "default". Borrowed. */
const char *np_kube_client_namespace(const struct np_kube_client *client);

struct np_kube_request {
    const char *method;       /* "GET", "POST", "PUT", "PATCH", "DELETE" */
    const char *path;         /* API path, e.g. "/api/v1/namespaces/a/secrets/b" */
    const char *query;        /* encoded query without '?', or NULL */
    const char *content_type; /* of the body; default application/json */
    const char *body;         /* or NULL */
    size_t body_len;
    struct np_kube_cancel *cancel; /* optional */
};

struct np_kube_response {
    long status; /* HTTP status, 0 when no response arrived */
    struct np_buf body;
};

void np_kube_response_clean_up(struct np_kube_response *resp);

/*
 * Sends one request. resp must be zero-initialised (or cleaned); it receives the status
 * and body whatever the outcome. Returns 0 for a 2xx answer; for other answers the code
 * mapped by np_kube_status_to_error(); NP_EIO (connect, TLS, read), NP_ETIMEOUT,
 * NP_ECANCELED for transport failures. With an exec plugin, the plugin runs when no credential
 * is cached or the cached one expires, and once more when the server answers 401 (the request
 * is then sent again once). A plugin that cannot give a credential (not found, failed, bad
 * output) makes the request fail with NP_EAUTH (never NP_ENOTFOUND, which means "no such
 * object"); one that does not finish in time with NP_ETIMEOUT.
 */
int np_kube_client_request(struct np_kube_client *client, const struct np_kube_request *req,
                           struct np_kube_response *resp);

/*
 * Maps a non-2xx answer to an NP code by the Status object's code and reason (falling back
 * to the HTTP status): 404 NP_ENOTFOUND; 409 AlreadyExists NP_EEXIST, other 409
 * NP_ECONFLICT; 410 NP_EGONE (also "too large resource version", which needs a relist);
 * 401/403 NP_EAUTH; 400/422 and other 4xx NP_EINVAL; 429/5xx NP_EAGAIN. Sets the
 * thread-local message to "<what>: <server message> (<reason>, <code>)". body may be NULL.
 */
int np_kube_status_to_error(long http_status, const char *body, size_t len, const char *what);

/* ---------------------------------------------------------------- resources */

/* A resource type: group ("" for the core group), version, plural, scope. */
struct np_kube_resource {
    const char *group;
    const char *version;
    const char *plural;
    bool namespaced;
};

extern const struct np_kube_resource np_kube_res_secrets;    /* v1 secrets */
extern const struct np_kube_resource np_kube_res_namespaces; /* v1 namespaces */
extern const struct np_kube_resource np_kube_res_events;     /* events.k8s.io/v1 events */
extern const struct np_kube_resource np_kube_res_leases;     /* coordination.k8s.io/v1 */

/*
 * Builds the path of a collection or object: /api/v1/... for the core group, else
 * /apis/<group>/<version>/...; namespaced resources add namespaces/<ns> (a NULL ns with a
 * NULL name means all namespaces). name and subresource ("status") are optional. Segments
 * are percent-encoded. *out is owned by the caller.
 * Errors: NP_EINVAL (missing version/plural, a name without ns for a namespaced resource, a
 * namespace for a cluster-scoped one, a subresource without a name).
 */
int np_kube_resource_path(char **out, const struct np_kube_resource *res, const char *ns,
                          const char *name, const char *subresource);

/* ---------------------------------------------------------------- requests */

/* GETs one object. *out is owned. Errors: NP_ENOTFOUND, the mapped codes, NP_EPARSE. */
int np_kube_get(struct np_kube_client *client, json_object **out,
                const struct np_kube_resource *res, const char *ns, const char *name);

struct np_kube_list_options {
    const char *label_selector;    /* or NULL */
    const char *field_selector;    /* or NULL */
    int limit;                     /* page size; default 500 */
    struct np_kube_cancel *cancel; /* or NULL */
};

/*
 * Lists every object (following `continue` tokens) of res in ns (NULL: all namespaces or
 * cluster-scoped). *items is an owned json array; *rv (owned, may be NULL to skip) the
 * list's resourceVersion, from which a watch starts. opts may be NULL.
 * Errors: NP_EGONE (a continue token expired: list again), the mapped codes, NP_EPARSE.
 */
int np_kube_list(struct np_kube_client *client, json_object **items, char **rv,
                 const struct np_kube_resource *res, const char *ns,
                 const struct np_kube_list_options *opts);

/*
 * Called with each non-empty page of a list (items: a borrowed json array, freed after the
 * call). A non-zero return stops the list, which returns that value.
 */
typedef int (*np_kube_page_fn)(void *ctx, json_object *items);

/*
 * The same list page by page, so at most one page of parsed objects is in memory: the way to
 * list large collections. *rv (owned, may be NULL to skip) as for np_kube_list.
 */
int np_kube_list_pages(struct np_kube_client *client, const struct np_kube_resource *res,
                       const char *ns, const struct np_kube_list_options *opts, np_kube_page_fn fn,
                       void *ctx, char **rv);

/* POSTs body (borrowed) to the collection; *out (optional) is the created object. */
int np_kube_create(struct np_kube_client *client, json_object **out,
                   const struct np_kube_resource *res, const char *ns, json_object *body);

/* PUTs body (borrowed; its metadata.resourceVersion makes it conditional) over ns/name;
 * *out (optional) is the stored object. Errors: NP_ECONFLICT (stale resourceVersion), ... */
int np_kube_replace(struct np_kube_client *client, json_object **out,
                    const struct np_kube_resource *res, const char *ns, const char *name,
                    json_object *body);

/* DELETEs an object. Errors: NP_ENOTFOUND when it is already gone, the mapped codes. */
int np_kube_delete(struct np_kube_client *client, const struct np_kube_resource *res,
                   const char *ns, const char *name);

enum np_kube_patch_type {
    NP_KUBE_PATCH_MERGE, /* application/merge-patch+json (RFC 7386) */
    NP_KUBE_PATCH_JSON,  /* application/json-patch+json (RFC 6902) */
    NP_KUBE_PATCH_APPLY, /* server-side apply, fieldManager=netposture, force=true */
};

/*
 * PATCHes an object (or its subresource, e.g. "status") with body (a JSON text; for apply
 * the whole intent with apiVersion, kind and metadata). Writes carry
 * fieldManager=netposture. *out (optional) is the updated object.
 * Errors: NP_ECONFLICT, NP_ENOTFOUND, NP_EINVAL (422: the server's message says why), ...
 */
int np_kube_patch(struct np_kube_client *client, json_object **out,
                  const struct np_kube_resource *res, const char *ns, const char *name,
                  const char *subresource, enum np_kube_patch_type type, const char *body);

/*
 * Merge-patches the status subresource with merge_patch (JSON text, e.g.
 * {"status":{...}}; add {"metadata":{"resourceVersion":"..."}} for optimistic locking).
 * Returns NP_ECONFLICT when the server reports a conflict so the caller re-reads and
 * retries; *out (optional) is the updated object.
 */
int np_kube_status_patch(struct np_kube_client *client, json_object **out,
                         const struct np_kube_resource *res, const char *ns, const char *name,
                         const char *merge_patch);

/* ---------------------------------------------------------------- objects */

/* metadata fields of obj, borrowed from it; NULL when absent. */
const char *np_kube_object_name(json_object *obj);
const char *np_kube_object_namespace(json_object *obj);
const char *np_kube_object_uid(json_object *obj);
const char *np_kube_object_resource_version(json_object *obj);

/* The store key: "namespace/name", or "name" without a namespace. Errors: NP_EINVAL. */
int np_kube_object_key(char **out, json_object *obj);
/* Splits a key; *ns is NULL for "name". Both owned. Errors: NP_EINVAL. */
int np_kube_key_split(const char *key, char **ns, char **name);
/* Frees a NULL-terminated vector of strings (as returned by np_kube_store_keys). */
void np_kube_strv_free(char **v);

/* ---------------------------------------------------------------- watch */

enum np_kube_event_type {
    NP_KUBE_ADDED,
    NP_KUBE_MODIFIED,
    NP_KUBE_DELETED,
    NP_KUBE_BOOKMARK,
    NP_KUBE_ERROR,
};

const char *np_kube_event_type_name(enum np_kube_event_type type);

/*
 * Called for each ADDED, MODIFIED, DELETED and BOOKMARK event, object borrowed for the
 * call. A non-zero return stops the watch, which returns that value. ERROR events are not
 * delivered: they end the watch with their mapped code (410 -> NP_EGONE).
 */
typedef int (*np_kube_watch_fn)(void *ctx, enum np_kube_event_type type, json_object *object);

struct np_kube_watch_options {
    const char *resource_version;  /* start after this RV (from a list); NULL = now */
    const char *label_selector;    /* or NULL */
    const char *field_selector;    /* or NULL */
    int timeout_seconds;           /* server-side watch length; default 290 */
    int64_t idle_timeout_ms;       /* client side: no byte for this long ends it; default
                                      timeout_seconds + 5 s */
    struct np_kube_cancel *cancel; /* or NULL */
};

/*
 * Streams a watch (watch=1, allowWatchBookmarks=true) and calls fn per event from the
 * calling thread. *last_rv (owned; may be NULL to skip) is set to the newest resourceVersion
 * seen, or the starting one. Returns 0 when the server ended the stream cleanly (watch again
 * from *last_rv), NP_EGONE (410 as HTTP status or ERROR event, or a too-large RV: relist),
 * NP_EPARSE (undecodable stream: relist), NP_ECANCELED, NP_ETIMEOUT (idle), NP_EIO, other
 * mapped codes, or fn's non-zero value.
 */
int np_kube_watch(struct np_kube_client *client, const struct np_kube_resource *res, const char *ns,
                  const struct np_kube_watch_options *opts, np_kube_watch_fn fn, void *ctx,
                  char **last_rv);

/* ---------------------------------------------------------------- store */

/*
 * Event handlers of a store or informer, called from the informer's thread with borrowed
 * objects (see the threading rules); any may be NULL. on_update gets the previous and the new
 * object. They must not block for long: enqueue the key and return.
 */
struct np_kube_handlers {
    void (*on_add)(void *ctx, const char *key, json_object *obj);
    void (*on_update)(void *ctx, const char *key, json_object *old_obj, json_object *new_obj);
    void (*on_delete)(void *ctx, const char *key, json_object *obj);
    void *ctx;
};

/* A thread-safe map "namespace/name" -> object. Objects are kept as compact JSON text (a
 * json-c tree costs 10-20x its text) and parsed for each reader. A store belongs to an
 * informer (np_kube_informer_store), whose thread is its writer; readers only read, apart from
 * np_kube_store_apply_written below. */
struct np_kube_store;

/* An owned copy (freshly parsed) of the object under key. Errors: NP_ENOTFOUND. */
int np_kube_store_get(struct np_kube_store *store, json_object **out, const char *key);

typedef void (*np_kube_store_fn)(void *ctx, const char *key, json_object *obj);

/* Calls fn with a borrowed copy of the object under key, freed after the call; fn may use
 * the store. Errors: NP_ENOTFOUND. */
int np_kube_store_with(struct np_kube_store *store, const char *key, np_kube_store_fn fn,
                       void *ctx);
/* Calls fn for every object (borrowed copies) under the store's lock: fn must not call
 * back into the store. */
void np_kube_store_each(struct np_kube_store *store, np_kube_store_fn fn, void *ctx);
/* All keys, sorted, as an owned NULL-terminated vector (np_kube_strv_free); *n optional. */
int np_kube_store_keys(struct np_kube_store *store, char ***keys, size_t *n);
size_t np_kube_store_len(struct np_kube_store *store);
/* Bytes its objects take in memory (deflated texts and their entries; not the map). */
size_t np_kube_store_bytes(struct np_kube_store *store);
/* True once a full list has been stored. */
bool np_kube_store_has_synced(struct np_kube_store *store);

/*
 * The one write a reader may make: any thread (a worker) stores obj (borrowed), the server's
 * answer to a write this process made on the object whose resourceVersion was base_rv, so a
 * reconcile right after sees it before its watch event arrives. Only ever moves forward: with
 * decimal versions, only when obj is newer than the object held; otherwise only when the store
 * still holds base_rv (a newer watch-delivered object is never replaced). Until the server
 * confirms the write (an event or list with that version or a newer one), the informer's older
 * events and lists do not undo it. Never re-adds a deleted key; calls no handler. Errors:
 * NP_ENOTFOUND (not in the store), NP_ECONFLICT (the store holds a newer or unrelated version),
 * NP_EINVAL (no name).
 */
int np_kube_store_apply_written(struct np_kube_store *store, json_object *obj, const char *base_rv);

/* ---------------------------------------------------------------- informer */

struct np_kube_informer;

struct np_kube_informer_options {
    struct np_kube_resource resource;
    const char *namespace;      /* NULL: all namespaces (or cluster-scoped) */
    const char *label_selector; /* or NULL */
    struct np_kube_handlers handlers;
    int page_size;              /* default 500 */
    int watch_timeout_seconds;  /* default 290 */
    int64_t backoff_initial_ms; /* default 800 */
    int64_t backoff_max_ms;     /* default 30 000 */
    int64_t backoff_reset_ms;   /* healthy this long resets the backoff; default 120 000 */
    /* Default false: metadata.managedFields is dropped before objects are stored, which saves
     * much of a typical object's memory (controller-runtime's usual cache transform). */
    bool keep_managed_fields;
    /* Optional: called on the informer's thread with each listed or watched object before it
     * is stored and handed to the handlers; it may modify obj (e.g. drop fields never read). */
    void (*transform)(void *ctx, json_object *obj);
    void *transform_ctx;
};

/*
 * Creates an informer for one resource: its thread lists (paginated), swaps the store,
 * watches from the list's RV, watches again on a clean end of stream, relists on 410, a
 * too-large RV or a decode error, and reconnects with jittered exponential backoff. The
 * client is borrowed and must outlive the informer; strings in opts are copied.
 */
int np_kube_informer_new(struct np_kube_informer **out, struct np_kube_client *client,
                         const struct np_kube_informer_options *opts);
/* Starts the thread. Errors: NP_EINVAL (already started), NP_ENOMEM. */
int np_kube_informer_start(struct np_kube_informer *inf);
/* Stops the thread promptly and joins it; the store stays readable. Idempotent. */
void np_kube_informer_stop(struct np_kube_informer *inf);
/* Stops if needed and frees everything, the store included. NULL-safe. */
void np_kube_informer_destroy(struct np_kube_informer *inf);
/* The informer's store, borrowed (valid until destroy). */
struct np_kube_store *np_kube_informer_store(struct np_kube_informer *inf);
bool np_kube_informer_has_synced(struct np_kube_informer *inf);
/* Waits until synced. Errors: NP_ETIMEOUT, NP_ECANCELED (stopped). */
int np_kube_informer_wait_synced(struct np_kube_informer *inf, int64_t timeout_ms);

/* ---------------------------------------------------------------- workqueue */

/*
 * A client-go style workqueue of string keys: a key is queued at most once (dirty set),
 * never handed to two workers at once (processing set; a key added while it is processed
 * is queued again by done()), FIFO, with delayed adds and per-key exponential backoff.
 */
struct np_kube_workqueue;

/*
 * Optional: told what the queue does, for metrics (client-go's workqueue metrics). Called with
 * the queue's lock held: a callback must be quick and must not call back into the queue. Any
 * callback may be NULL.
 */
struct np_kube_workqueue_observer {
    void (*added)(void *ctx);                    /* a key was queued (not a coalesced duplicate) */
    void (*taken)(void *ctx, int64_t queued_ms); /* a getter took a key queued this long ago */
    void (*done)(void *ctx, int64_t work_ms);    /* done() on a key taken this long ago */
    void (*retried)(void *ctx);                  /* add_rate_limited: a key backs off */
    void *ctx;
};

struct np_kube_workqueue_options {
    const struct np_clock *clock; /* monotonic time source; default np_clock_system() */
    int64_t base_delay_ms;        /* first rate-limited delay; default 1 000 */
    int64_t max_delay_ms;         /* cap; default 300 000 */
    struct np_kube_workqueue_observer observer;
};

/* What a queue holds now, by its clock (for metrics read at scrape time). */
struct np_kube_workqueue_stats {
    size_t depth;          /* keys waiting for a getter */
    size_t delayed;        /* keys waiting for their add_after time */
    size_t processing;     /* keys taken and not yet done */
    int64_t unfinished_ms; /* summed age of the keys in processing */
    int64_t longest_ms;    /* age of the oldest key in processing */
};

int np_kube_workqueue_new(struct np_kube_workqueue **out,
                          const struct np_kube_workqueue_options *opts);
/* Frees the queue; call after every getter has returned. NULL-safe. */
void np_kube_workqueue_destroy(struct np_kube_workqueue *q);
/* Queues key (copied) unless it is queued already. Ignored after shutdown. */
void np_kube_workqueue_add(struct np_kube_workqueue *q, const char *key);
/* Queues key after delay_ms (<= 0: now). A key already waiting keeps the earlier time. */
void np_kube_workqueue_add_after(struct np_kube_workqueue *q, const char *key, int64_t delay_ms);
/* add_after with the key's backoff: base * 2^failures, capped; counts a failure. */
void np_kube_workqueue_add_rate_limited(struct np_kube_workqueue *q, const char *key);
/* Resets the key's backoff (after a success). */
void np_kube_workqueue_forget(struct np_kube_workqueue *q, const char *key);
/* Failures counted for key since the last forget. */
int np_kube_workqueue_num_requeues(struct np_kube_workqueue *q, const char *key);
/*
 * Blocks until a key is ready and hands it to the caller (*key owned), marking it
 * processing; call done() when finished. Errors: NP_ECANCELED after shutdown.
 */
int np_kube_workqueue_get(struct np_kube_workqueue *q, char **key);
/* Non-blocking get: moves due delayed keys first. Errors: NP_EAGAIN (nothing ready),
 * NP_ECANCELED (shut down). */
int np_kube_workqueue_try_get(struct np_kube_workqueue *q, char **key);
/* Ends processing of key; queues it again if it was added meanwhile. */
void np_kube_workqueue_done(struct np_kube_workqueue *q, const char *key);
/* Queues the delayed keys whose time has come (by the queue's clock) and wakes getters;
 * for tests that move a fake clock. Returns how many were queued. */
size_t np_kube_workqueue_process_due(struct np_kube_workqueue *q);
/* Keys ready to be handed out (not counting delayed or processing ones). */
size_t np_kube_workqueue_len(struct np_kube_workqueue *q);
/* Keys waiting for their delay. */
size_t np_kube_workqueue_delayed_len(struct np_kube_workqueue *q);
/* Fills *out under the queue's lock. */
void np_kube_workqueue_stats(struct np_kube_workqueue *q, struct np_kube_workqueue_stats *out);
/* Refuses new keys and wakes every getter (they return NP_ECANCELED). */
void np_kube_workqueue_shutdown(struct np_kube_workqueue *q);
bool np_kube_workqueue_is_shutting_down(struct np_kube_workqueue *q);

/* ---------------------------------------------------------------- finalizers */

/* Whether obj's metadata.finalizers holds finalizer. */
bool np_kube_object_has_finalizer(json_object *obj, const char *finalizer);

/*
 * JSON Patch texts (owned) that add or remove finalizer, guarded by `test` ops on the list
 * as seen in obj so a concurrent change fails the patch instead of being clobbered:
 * add to an empty list: test null + add ["f"]; to a non-empty one: test the list + add at
 * /-; remove: test /metadata/finalizers/<i> == f + remove it.
 * Errors: NP_EEXIST (add: already there), NP_ENOTFOUND (remove: not there), NP_EINVAL.
 */
int np_kube_finalizer_add_patch(char **out, json_object *obj, const char *finalizer);
int np_kube_finalizer_remove_patch(char **out, json_object *obj, const char *finalizer);

/*
 * Adds / removes finalizer on the live object described by obj (borrowed; the version the
 * caller last saw). Returns 0 when done or nothing was to be done, NP_ECONFLICT when the
 * list changed meanwhile (a failed test: re-read and retry), NP_ENOTFOUND, ...
 */
int np_kube_finalizer_add(struct np_kube_client *client, const struct np_kube_resource *res,
                          json_object *obj, const char *finalizer);
int np_kube_finalizer_remove(struct np_kube_client *client, const struct np_kube_resource *res,
                             json_object *obj, const char *finalizer);

/*
 * Whether the API server records field manager `manager` (its main resource, not a
 * subresource) as owner of finalizer in obj's metadata.managedFields: whether that manager
 * added it. obj must come from a GET (the informer store drops managedFields).
 */
bool np_kube_object_finalizer_is_managed_by(json_object *obj, const char *finalizer,
                                            const char *manager);

/*
 * Makes this client's field manager an owner of finalizer on the live object named by obj
 * (kind, e.g. "SecurityGroupPosture"), with a server-side apply of metadata.finalizers = [f]:
 * a finalizer that someone else put there first becomes ours too, without touching the others.
 */
int np_kube_finalizer_claim(struct np_kube_client *client, const struct np_kube_resource *res,
                            const char *kind, json_object *obj, const char *finalizer);

/* ---------------------------------------------------------------- events */

/* The object an Event is about. Strings are borrowed; uid and resource_version optional. */
struct np_kube_object_ref {
    const char *api_version;
    const char *kind;
    const char *namespace; /* NULL for cluster-scoped objects */
    const char *name;
    const char *uid;
    const char *resource_version;
};

/* Fills ref from obj's apiVersion, kind and metadata (borrowed from obj). */
void np_kube_object_ref_from(struct np_kube_object_ref *ref, json_object *obj);

/* Records events.k8s.io/v1 Events with client-side deduplication. Thread-safe. */
struct np_kube_recorder;

struct np_kube_recorder_options {
    const char *reporting_controller; /* default NP_KUBE_REPORTING_CONTROLLER */
    const char *reporting_instance;   /* default the host name */
    const struct np_clock *clock;     /* default np_clock_system(); borrowed */
};

/* client is borrowed and must outlive the recorder. opts may be NULL. */
int np_kube_recorder_new(struct np_kube_recorder **out, struct np_kube_client *client,
                         const struct np_kube_recorder_options *opts);
void np_kube_recorder_destroy(struct np_kube_recorder *rec);

/*
 * Emits an Event about regarding: type "Normal" or "Warning", reason and action (CamelCase,
 * <= 128 bytes), note (truncated to 1 KiB). The same (regarding object, type, reason,
 * action, note) within 6 minutes merge-patches the earlier Event's series {count,
 * lastObservedTime} instead of creating one. Events of cluster-scoped objects go to the
 * "default" namespace. Errors: NP_EINVAL, the mapped request codes.
 */
int np_kube_recorder_emit(struct np_kube_recorder *rec, const struct np_kube_object_ref *regarding,
                          const char *type, const char *reason, const char *action,
                          const char *note);

/* ---------------------------------------------------------------- secrets */

/*
 * Reads data[key] of the Secret ns/name, base64-decoded. *out is owned, NUL-terminated
 * (not counted in *len), and holds secret material: wipe and free it when done.
 * Errors: NP_ENOTFOUND (no Secret, or no such key), NP_EPARSE (bad base64), NP_EAUTH, ...
 */
int np_kube_secret_get_data(struct np_kube_client *client, unsigned char **out, size_t *len,
                            const char *ns, const char *name, const char *key);
/* The same from an already fetched Secret object (borrowed). */
int np_kube_secret_data(unsigned char **out, size_t *len, json_object *secret, const char *key);

/* ---------------------------------------------------------------- leader election */

/* How the elector reads and writes its Lease (a seam for unit tests; see
 * np_kube_leader_new_for_client for the real one). update is conditional on the object's
 * metadata.resourceVersion (NP_ECONFLICT when stale); get gives NP_ENOTFOUND when absent. */
struct np_kube_lease_ops {
    int (*get)(void *ctx, json_object **lease);
    int (*create)(void *ctx, json_object *lease, json_object **out);
    int (*update)(void *ctx, json_object *lease, json_object **out);
    void *ctx;
};

struct np_kube_leader_options {
    const char *namespace, *name; /* of the Lease */
    const char *identity;         /* holderIdentity: "<hostname>_<random>" */
    int64_t lease_duration_ms;    /* 15000: a standby takes over this long after the last renew */
    int64_t renew_deadline_ms;    /* 10000: a leader gives up when no renew succeeded so long */
    int64_t retry_period_ms;      /* 2000: between tries */
    const struct np_clock *clock; /* NULL: the system clock */
    /* Called from the elector's thread, under its lock: must not call back into it nor block. */
    void (*on_leading)(void *ctx, bool leading);      /* became leader / lost the lease */
    void (*on_holder)(void *ctx, const char *holder); /* the holder seen changed ("" free) */
    void *ctx;
};

struct np_kube_leader;

/* An elector on ops (copied). NP_EINVAL unless retry period < renew deadline < duration. */
int np_kube_leader_new(struct np_kube_leader **out, const struct np_kube_lease_ops *ops,
                       const struct np_kube_leader_options *o);
/* The same on the Lease namespace/name through client (borrowed; a client of its own, with no
 * write gate: the elector must write while fenced). */
int np_kube_leader_new_for_client(struct np_kube_leader **out, struct np_kube_client *client,
                                  const struct np_kube_leader_options *o);
/* One acquire-or-renew round: 0 when we hold the Lease now; NP_EDENIED while another holder's
 * lease runs (on our clock since we saw its record change), NP_ECONFLICT when someone wrote
 * meanwhile, the request errors otherwise. For the loop and for tests. */
int np_kube_leader_try(struct np_kube_leader *le);
/* Clears the holder (leaseDurationSeconds 1) if the Lease is still ours; we stop leading. */
int np_kube_leader_release(struct np_kube_leader *le);
/* Starts the acquire/renew loop in a thread: every retry period (+ up to 20% jitter) it tries;
 * a leader that had no successful renew within the renew deadline loses the lease for good
 * (on_leading(false); np_kube_leader_lost). */
int np_kube_leader_start(struct np_kube_leader *le);
/* Waits up to timeout_ms until leading: 0, NP_ETIMEOUT, or NP_EDENIED once lost or stopped. */
int np_kube_leader_wait(struct np_kube_leader *le, int64_t timeout_ms);
/* The fence: leading, and the last successful renew started less than the renew deadline ago
 * (so before any standby can take over). Thread-safe, cheap. */
bool np_kube_leader_valid(struct np_kube_leader *le);
bool np_kube_leader_lost(struct np_kube_leader *le);
/* The Lease's metadata.uid once read (owned), else NULL: for Events about it. */
char *np_kube_leader_lease_uid(struct np_kube_leader *le);
/* Stops the loop (joined) and, with release, releases a lease still held. Idempotent. */
void np_kube_leader_stop(struct np_kube_leader *le, bool release);
void np_kube_leader_destroy(struct np_kube_leader *le);

#endif
