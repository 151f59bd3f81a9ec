/*
 * http: the controller's observability surface — a thread-safe Prometheus metrics registry
 * (counters, gauges, histograms) rendered in the text exposition format, and a small
 * libwebsockets HTTP server for /metrics, /healthz and /readyz.
 */
#ifndef NP_HTTP_HTTP_H
#define NP_HTTP_HTTP_H

#include "core/core.h"

#include <stdbool.h>

/* ---------------------------------------------------------------- metrics */

enum np_metric_type { NP_METRIC_COUNTER, NP_METRIC_GAUGE, NP_METRIC_HISTOGRAM };

struct np_metrics;

/* A new empty registry (caller destroys). */
struct np_metrics *np_metrics_new(void);
void np_metrics_destroy(struct np_metrics *m);

/*
 * Declares a family once (name, type, help). Histograms take their upper bucket bounds
 * (ascending, without +Inf); other types pass NULL, 0. Re-declaring is a no-op.
 */
void np_metrics_describe(struct np_metrics *m, const char *name, enum np_metric_type type,
                         const char *help, const double *buckets, size_t nbuckets);

/*
 * Updates a series of a declared family. `labels` is the rendered label set without braces,
 * e.g. `kind="SecurityGroupPosture",result="success"`, built with np_metrics_labels(); NULL
 * or "" means no labels. Unknown families are ignored (and logged once at debug level).
 */
void np_metrics_counter_add(struct np_metrics *m, const char *name, const char *labels, double v);
/* A counter kept elsewhere (CPU seconds): sets its total, never lowering it. */
void np_metrics_counter_set_total(struct np_metrics *m, const char *name, const char *labels,
                                  double v);
void np_metrics_gauge_set(struct np_metrics *m, const char *name, const char *labels, double v);
void np_metrics_histogram_observe(struct np_metrics *m, const char *name, const char *labels,
                                  double v);
/* Reads a series' value (counter/gauge value, histogram count); 0 if absent. For tests. */
double np_metrics_value(struct np_metrics *m, const char *name, const char *labels);
/* Reads a histogram series' sum of observations; 0 if absent. For tests. */
double np_metrics_sum(struct np_metrics *m, const char *name, const char *labels);
/*
 * Removes one series of a family (e.g. a per-object gauge once its object is gone); absent
 * series and unknown families are a no-op.
 */
void np_metrics_remove(struct np_metrics *m, const char *name, const char *labels);

/*
 * A collector sets values that are only worth computing when scraped (queue ages, process
 * figures): np_metrics_render calls every collector first, in the order added, without the
 * registry's lock held, so it may update any series. It must be thread-safe (scrapes run on
 * the server's thread). ctx must outlive the registry.
 */
typedef void (*np_metrics_collect_fn)(void *ctx, struct np_metrics *m);
void np_metrics_add_collector(struct np_metrics *m, np_metrics_collect_fn fn, void *ctx);

/*
 * Declares the process_* families of the Prometheus client conventions (resident memory, CPU
 * seconds, open and maximum file descriptors, start time) and a collector that reads them
 * from /proc/self and getrusage at every scrape.
 */
void np_metrics_add_process_collector(struct np_metrics *m);

/*
 * Renders label pairs (key, value, ...) into out (cleared first) with Prometheus escaping of
 * values: `k1="v1",k2="v2"`. The macro appends the typed NULL terminator.
 */
void np_metrics_labels_list(struct np_buf *out, ...);
#define np_metrics_labels(out, ...) np_metrics_labels_list((out), __VA_ARGS__, (const char *)NULL)

/* Runs the collectors, then appends the whole registry in the Prometheus text format
 * (families sorted by name; HELP text escaped). */
void np_metrics_render(struct np_metrics *m, struct np_buf *out);

/* ---------------------------------------------------------------- server */

/* Returns true when the process is healthy / ready; message explains a false answer. */
typedef bool (*np_http_probe_fn)(void *ctx, struct np_buf *message);

struct np_http_server_config {
    const char *addr;           /* "127.0.0.1:8080", ":8080" (all interfaces) or "host:0" */
    struct np_metrics *metrics; /* serves /metrics when non-NULL */
    np_http_probe_fn healthz;   /* serves /healthz when non-NULL */
    np_http_probe_fn readyz;    /* serves /readyz when non-NULL */
    void *probe_ctx;
};

struct np_http_server;

/*
 * Binds and starts serving on a thread of its own. *out is owned by the caller (destroy).
 * Errors: NP_EINVAL (bad address), NP_EIO (cannot listen).
 */
int np_http_server_start(struct np_http_server **out, const struct np_http_server_config *cfg);
/* The port actually bound (useful with port 0). */
int np_http_server_port(const struct np_http_server *s);
/* Stops serving, joins the thread and frees the server. NULL is a no-op. */
void np_http_server_destroy(struct np_http_server *s);

/* Splits "host:port" (host may be empty or [v6]) into host (static-size) and port. */
int np_http_parse_addr(const char *addr, char *host, size_t host_size, int *port);

#endif
