/*
 * The controller's metrics: every family it exports (declared once, here) and the seams that
 * feed them from the modules that know nothing of metrics — the AWS observer, the workqueue
 * observer, the REST client observer — plus the scrape-time collector (queue ages, managed
 * objects) and the per-posture gauges, one series per posture, dropped with the posture.
 */
#include "controller/private/controller_private.h"

#include <stdio.h>
#include <string.h>

/* Request and reconcile latencies: 5 ms to a minute. */
static const double latency_buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                         1,     2.5,  5,     10,   30,  60};
/* Queue waits and client-side token waits: 1 ms to 5 min. */
static const double wait_buckets[] = {0.001, 0.01, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300};
/* Drift detection, remediation and event-queue delays: a tenth of a second to ten hours. */
static const double mttr_buckets[] = {0.1, 0.25, 0.5, 1,    2.5,  5,    10,    30,   60,
                                      120, 300,  600, 1800, 3600, 7200, 14400, 36000};

struct family {
    const char *name;
    enum np_metric_type type;
    const char *help;
    const double *buckets;
    size_t nbuckets;
};

#define COUNTER(n, h)                                                                              \
    {                                                                                              \
        n, NP_METRIC_COUNTER, h, NULL, 0                                                           \
    }
#define GAUGE(n, h)                                                                                \
    {                                                                                              \
        n, NP_METRIC_GAUGE, h, NULL, 0                                                             \
    }
#define HISTOGRAM(n, h, b)                                                                         \
    {                                                                                              \
        n, NP_METRIC_HISTOGRAM, h, b, NP_ARRAY_LEN(b)                                              \
    }

static const struct family reconcile_families[] = {
    COUNTER("netposture_reconcile_total", "Reconciles by kind and result (success, error, "
                                          "requeue)."),
    COUNTER("netposture_reconcile_errors_total", "Reconciles that failed, by kind."),
    HISTOGRAM("netposture_reconcile_duration_seconds", "Time spent in one reconcile, by kind.",
              latency_buckets),
    GAUGE("netposture_workqueue_depth", "Keys waiting in the workqueue."),
    COUNTER("netposture_workqueue_adds_total", "Keys queued (a key already queued is not "
                                               "counted again)."),
    HISTOGRAM("netposture_workqueue_queue_duration_seconds",
              "How long a key waited in the workqueue before a worker took it.", wait_buckets),
    HISTOGRAM("netposture_workqueue_work_duration_seconds",
              "How long a worker held a key (reconcile and bookkeeping).", latency_buckets),
    COUNTER("netposture_workqueue_retries_total",
            "Keys queued again with backoff after a failed reconcile."),
    GAUGE("netposture_workqueue_unfinished_work_seconds",
          "Summed time the keys in the workers' hands have been worked on."),
    GAUGE("netposture_workqueue_longest_running_processor_seconds",
          "How long the longest-held key has been worked on."),
    COUNTER("netposture_rest_client_requests_total",
            "Kubernetes API requests by verb (WATCH for a watch stream, counted when it ends) "
            "and HTTP code (\"<error>\" without an answer)."),
    HISTOGRAM("netposture_rest_client_request_duration_seconds",
              "Kubernetes API request latency by verb (watch streams excepted).", latency_buckets),
    GAUGE("netposture_managed_objects", "Postures known to the controller by kind."),
    GAUGE("netposture_posture_ready",
          "1 while a posture's Ready condition is True, else 0 (one series per posture)."),
    GAUGE("netposture_posture_drift_items",
          "Unresolved drift items of a posture (one series per posture)."),
    GAUGE("netposture_build_info", "Always 1; the version and git revision built."),
};

static const struct family aws_families[] = {
    COUNTER("netposture_aws_requests_total",
            "AWS API requests (attempts) by action and result code: OK, the AWS error code "
            "(also of a 200 whose payload reports a failure), HTTP<status>, NetworkError, "
            "Timeout, Canceled or ClientThrottled."),
    HISTOGRAM("netposture_aws_request_duration_seconds",
              "AWS API request latency by action (attempts that were sent).", latency_buckets),
    COUNTER("netposture_aws_throttled_total",
            "AWS API requests AWS refused as throttled (RequestLimitExceeded, Throttling, ...) "
            "by action."),
    HISTOGRAM("netposture_aws_client_throttle_wait_seconds",
              "Time an AWS request waited for a client-side rate-limit token, by action.",
              wait_buckets),
    COUNTER("netposture_aws_retries_total", "AWS API retries sent, by action."),
};

static const struct family drift_families[] = {
    COUNTER("netposture_drift_detected_total", "Drift items detected by kind and change."),
    COUNTER("netposture_remediations_total",
            "Plans applied to repair drift (a difference that appeared after the posture "
            "converged for its generation), by kind and result."),
    COUNTER("netposture_spec_applies_total",
            "Plans applied to converge a new or changed spec (not drift), by kind and result."),
    HISTOGRAM("netposture_drift_time_to_detect_seconds",
              "From an out-of-band change to its detection, by kind and source: event (from the "
              "CloudTrail eventTime) or poll (an upper bound: from the read before, which did not "
              "show it).",
              mttr_buckets),
    HISTOGRAM("netposture_drift_time_to_remediate_seconds",
              "From the detection of a drift item to its verified repair, by kind and source.",
              mttr_buckets),
    COUNTER("netposture_policy_decisions_total",
            "Drift items by what the remediation policy decided for them (state: Applied, "
            "Pending, Reported, Proposed, Excepted, Contested), counted when an item enters "
            "the state."),
    COUNTER("netposture_guardrail_violations_total",
            "Guardrail violations found, by enforcement and where (desired, observed)."),
    COUNTER("netposture_events_total",
            "CloudTrail event messages by result: handled (postures enqueued), unmanaged (no "
            "posture of the account owns the resources), ignored (made by the controller "
            "itself, or refused by AWS), dropped (malformed or not an EC2 API call), forged "
            "(CloudTrail recorded something else), foreign (another AWS account), poison "
            "(received too often), other_shard (the postures named are another shard's)."),
    COUNTER("netposture_event_actors_total",
            "Actors of event messages by whether CloudTrail LookupEvents verified them (only a "
            "verified actor matches exceptions[].actors)."),
    COUNTER("netposture_event_ids_ignored_total",
            "Resource ids of event messages past the per-message cap."),
    COUNTER("netposture_event_describe_total",
            "Describes of the groups a receive batch of events names (one per region and "
            "batch)."),
    HISTOGRAM("netposture_event_delay_seconds",
              "From a CloudTrail event's eventTime to its receipt by the controller.",
              mttr_buckets),
    GAUGE("netposture_leader", "1 while this process holds the leader Lease (--leader-elect), "
                               "else 0."),
    COUNTER("netposture_leader_transitions_total",
            "Changes of the leader Lease's holder this process observed."),
};

static void describe_all(struct np_metrics *m, const struct family *f, size_t n)
{
    for (size_t i = 0; i < n; i++)
        np_metrics_describe(m, f[i].name, f[i].type, f[i].help, f[i].buckets, f[i].nbuckets);
}

void np_controller_metrics_describe(struct np_metrics *m)
{
    describe_all(m, reconcile_families, NP_ARRAY_LEN(reconcile_families));
    describe_all(m, aws_families, NP_ARRAY_LEN(aws_families));
    describe_all(m, drift_families, NP_ARRAY_LEN(drift_families));
    np_metrics_add_process_collector(m);
}

/* ---------------------------------------------------------------- small helpers */

enum update { COUNT, OBSERVE, SET };

/* One update of a series with at most one label (k NULL: none). */
static void update1(struct np_controller *ctl, enum update u, const char *family, const char *k,
                    const char *v, double x)
{
    struct np_buf l = NP_BUF_INIT;
    if (k)
        np_metrics_labels(&l, k, v);
    switch (u) {
    case COUNT: np_metrics_counter_add(ctl->metrics, family, np_buf_cstr(&l), x); break;
    case OBSERVE: np_metrics_histogram_observe(ctl->metrics, family, np_buf_cstr(&l), x); break;
    case SET: np_metrics_gauge_set(ctl->metrics, family, np_buf_cstr(&l), x); break;
    }
    np_buf_clean_up(&l);
}

static void count1(struct np_controller *ctl, const char *family, const char *k, const char *v)
{
    update1(ctl, COUNT, family, k, v, 1);
}

static void observe1(struct np_controller *ctl, const char *family, const char *k, const char *v,
                     double secs)
{
    update1(ctl, OBSERVE, family, k, v, secs);
}

/* ---------------------------------------------------------------- AWS */

/* Whether AWS refused an attempt as throttled (the client's own refusal is not AWS's). */
static bool aws_throttled(const struct np_aws_request_info *info)
{
    return info->http_status != 0 && strcmp(info->code, "OK") != 0 &&
           np_aws_error_map(info->code, info->http_status) == NP_ETHROTTLED;
}

void np_controller_aws_observer(void *ctx, const struct np_aws_request_info *info)
{
    struct np_controller *ctl = ctx;
    struct np_buf labels = NP_BUF_INIT;
    np_metrics_labels(&labels, "action", info->action, "code", info->code);
    np_metrics_counter_add(ctl->metrics, "netposture_aws_requests_total", np_buf_cstr(&labels), 1);
    np_buf_clean_up(&labels);
    if (strcmp(info->code, "ClientThrottled") == 0)
        return; /* nothing was sent */
    if (info->attempt > 1)
        count1(ctl, "netposture_aws_retries_total", "action", info->action);
    observe1(ctl, "netposture_aws_request_duration_seconds", "action", info->action,
             (double)info->duration_ms / 1000.0);
    observe1(ctl, "netposture_aws_client_throttle_wait_seconds", "action", info->action,
             (double)info->wait_ms / 1000.0);
    if (aws_throttled(info))
        count1(ctl, "netposture_aws_throttled_total", "action", info->action);
}

/* ---------------------------------------------------------------- workqueue */

static void queue_added(void *ctx)
{
    count1(ctx, "netposture_workqueue_adds_total", NULL, NULL);
}

static void queue_taken(void *ctx, int64_t queued_ms)
{
    observe1(ctx, "netposture_workqueue_queue_duration_seconds", NULL, NULL,
             (double)queued_ms / 1000.0);
}

static void queue_done(void *ctx, int64_t work_ms)
{
    observe1(ctx, "netposture_workqueue_work_duration_seconds", NULL, NULL,
             (double)work_ms / 1000.0);
}

static void queue_retried(void *ctx)
{
    count1(ctx, "netposture_workqueue_retries_total", NULL, NULL);
}

struct np_kube_workqueue_observer np_controller_queue_observer(struct np_controller *ctl)
{
    struct np_kube_workqueue_observer o = {queue_added, queue_taken, queue_done, queue_retried,
                                           ctl};
    return o;
}

/* ---------------------------------------------------------------- Kubernetes API */

void np_controller_kube_observer(void *ctx, const char *method, long status, int64_t duration_ms)
{
    struct np_controller *ctl = ctx;
    char code[24];
    if (status > 0)
        snprintf(code, sizeof(code), "%ld", status);
    else
        np_strlcpy(code, "<error>", sizeof(code));
    struct np_buf l = NP_BUF_INIT;
    np_metrics_labels(&l, "verb", method, "code", code);
    np_metrics_counter_add(ctl->metrics, "netposture_rest_client_requests_total", np_buf_cstr(&l),
                           1);
    np_buf_clean_up(&l);
    if (duration_ms >= 0)
        observe1(ctl, "netposture_rest_client_request_duration_seconds", "verb", method,
                 (double)duration_ms / 1000.0);
}

/* ---------------------------------------------------------------- reconciles */

void np_controller_metrics_reconcile(struct np_controller *ctl, enum np_controller_work_kind kind,
                                     const char *result, double secs)
{
    const char *k = np_controller_work_kind_name(kind);
    struct np_buf labels = NP_BUF_INIT;
    np_metrics_labels(&labels, "kind", k, "result", result);
    np_metrics_counter_add(ctl->metrics, "netposture_reconcile_total", np_buf_cstr(&labels), 1);
    np_buf_clean_up(&labels);
    if (strcmp(result, "error") == 0)
        count1(ctl, "netposture_reconcile_errors_total", "kind", k);
    observe1(ctl, "netposture_reconcile_duration_seconds", "kind", k, secs);
}

void np_controller_metrics_event_delay(struct np_controller *ctl, int64_t event_ms)
{
    if (event_ms <= 0)
        return;
    int64_t delay = np_controller_now_ms(ctl) - event_ms;
    observe1(ctl, "netposture_event_delay_seconds", NULL, NULL,
             delay > 0 ? (double)delay / 1000.0 : 0);
}

/* ---------------------------------------------------------------- drift */

const char *np_controller_detection_name(enum np_controller_detection d)
{
    return d == NP_CONTROLLER_DETECTED_BY_EVENT ? "event" : "poll";
}

static void observe_drift(struct np_controller *ctl, const char *family, const char *kind,
                          enum np_controller_detection source, double secs)
{
    struct np_buf l = NP_BUF_INIT;
    np_metrics_labels(&l, "kind", kind, "source", np_controller_detection_name(source));
    np_metrics_histogram_observe(ctl->metrics, family, np_buf_cstr(&l), secs);
    np_buf_clean_up(&l);
}

void np_controller_metrics_drift_detected(struct np_controller *ctl, const char *kind,
                                          enum np_controller_detection source, double secs)
{
    if (secs >= 0)
        observe_drift(ctl, "netposture_drift_time_to_detect_seconds", kind, source, secs);
}

void np_controller_metrics_drift_remediated(struct np_controller *ctl, const char *kind,
                                            enum np_controller_detection source, double secs)
{
    observe_drift(ctl, "netposture_drift_time_to_remediate_seconds", kind, source,
                  secs > 0 ? secs : 0);
}

/* ---------------------------------------------------------------- per posture */

static void posture_labels(struct np_buf *l, const char *kind, const char *ns, const char *name)
{
    np_metrics_labels(l, "kind", kind, "namespace", ns ? ns : "", "name", name);
}

void np_controller_metrics_posture(struct np_controller *ctl, const char *kind, const char *ns,
                                   const char *name, bool ready, int64_t drift_items)
{
    struct np_buf l = NP_BUF_INIT;
    posture_labels(&l, kind, ns, name);
    np_metrics_gauge_set(ctl->metrics, "netposture_posture_ready", np_buf_cstr(&l), ready ? 1 : 0);
    np_metrics_gauge_set(ctl->metrics, "netposture_posture_drift_items", np_buf_cstr(&l),
                         (double)drift_items);
    np_buf_clean_up(&l);
}

void np_controller_metrics_posture_gone(struct np_controller *ctl, const char *kind,
                                        const char *key)
{
    char *ns = NULL, *name = NULL;
    if (np_kube_key_split(key, &ns, &name) == 0) {
        struct np_buf l = NP_BUF_INIT;
        posture_labels(&l, kind, ns, name);
        np_metrics_remove(ctl->metrics, "netposture_posture_ready", np_buf_cstr(&l));
        np_metrics_remove(ctl->metrics, "netposture_posture_drift_items", np_buf_cstr(&l));
        np_buf_clean_up(&l);
    }
    free(ns);
    free(name);
}

/* ---------------------------------------------------------------- at scrape time */

static void set_gauge(struct np_controller *ctl, const char *family, const char *k, const char *v,
                      double value)
{
    update1(ctl, SET, family, k, v, value);
}

/* Queue ages and depth, and the postures in the informer stores, as of this scrape. */
static void collect(void *ctx, struct np_metrics *m)
{
    struct np_controller *ctl = ctx;
    (void)m;
    struct np_kube_workqueue_stats st;
    np_kube_workqueue_stats(ctl->queue, &st);
    set_gauge(ctl, "netposture_workqueue_depth", NULL, NULL, (double)st.depth);
    set_gauge(ctl, "netposture_workqueue_unfinished_work_seconds", NULL, NULL,
              (double)st.unfinished_ms / 1000.0);
    set_gauge(ctl, "netposture_workqueue_longest_running_processor_seconds", NULL, NULL,
              (double)st.longest_ms / 1000.0);
    struct np_kube_informer *const infs[] = {ctl->sgp_inf, ctl->vpcp_inf};
    const enum np_controller_work_kind kinds[] = {NP_CONTROLLER_WORK_SGP, NP_CONTROLLER_WORK_VPCP};
    for (size_t i = 0; i < NP_ARRAY_LEN(infs); i++)
        if (infs[i])
            set_gauge(ctl, "netposture_managed_objects", "kind",
                      np_controller_work_kind_name(kinds[i]),
                      (double)np_kube_store_len(np_kube_informer_store(infs[i])));
}

void np_controller_metrics_start(struct np_controller *ctl, const char *version,
                                 const char *revision)
{
    struct np_buf l = NP_BUF_INIT;
    np_metrics_labels(&l, "version", np_str_is_empty(version) ? "unknown" : version, "revision",
                      np_str_is_empty(revision) ? "unknown" : revision);
    np_metrics_gauge_set(ctl->metrics, "netposture_build_info", np_buf_cstr(&l), 1);
    np_buf_clean_up(&l);
    np_metrics_add_collector(ctl->metrics, collect, ctl);
}
