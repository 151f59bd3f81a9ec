/*
 * A thread-safe Prometheus metrics registry: families of counters, gauges and histograms,
 * each with series keyed by their rendered label set (removable), collectors run before each
 * render, and the text exposition format.
 */
#include "http/http.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct series {
    char *labels;
    double value;   /* counter/gauge value; histogram sum */
    uint64_t count; /* histogram count */
    uint64_t *bucket_counts;
    struct series *next;
};

struct family {
    char *name;
    char *help;
    enum np_metric_type type;
    double *buckets;
    size_t nbuckets;
    struct series *series;
    struct family *next;
};

struct collector {
    np_metrics_collect_fn fn;
    void *ctx;
    struct collector *next;
};

struct np_metrics {
    pthread_mutex_t lock;
    struct family *families;
    struct collector *collectors; /* appended only; freed with the registry */
};

struct np_metrics *np_metrics_new(void)
{
    struct np_metrics *m = np_xcalloc(1, sizeof(*m));
    pthread_mutex_init(&m->lock, NULL);
    return m;
}

static void series_free(struct series *s)
{
    free(s->labels);
    free(s->bucket_counts);
    free(s);
}

void np_metrics_destroy(struct np_metrics *m)
{
    if (!m)
        return;
    struct collector *c = m->collectors;
    while (c) {
        struct collector *cn = c->next;
        free(c);
        c = cn;
    }
    struct family *f = m->families;
    while (f) {
        struct family *fn = f->next;
        struct series *s = f->series;
        while (s) {
            struct series *sn = s->next;
            series_free(s);
            s = sn;
        }
        free(f->name);
        free(f->help);
        free(f->buckets);
        free(f);
        f = fn;
    }
    pthread_mutex_destroy(&m->lock);
    free(m);
}

static struct family *find_family(struct np_metrics *m, const char *name)
{
    for (struct family *f = m->families; f; f = f->next)
        if (strcmp(f->name, name) == 0)
            return f;
    return NULL;
}

void np_metrics_describe(struct np_metrics *m, const char *name, enum np_metric_type type,
                         const char *help, const double *buckets, size_t nbuckets)
{
    pthread_mutex_lock(&m->lock);
    if (find_family(m, name)) {
        pthread_mutex_unlock(&m->lock);
        return;
    }
    struct family *f = np_xcalloc(1, sizeof(*f));
    f->name = np_strdup(name);
    f->help = np_strdup(help ? help : "");
    f->type = type;
    if (type == NP_METRIC_HISTOGRAM && nbuckets) {
        f->buckets = np_xcalloc(nbuckets, sizeof(double));
        memcpy(f->buckets, buckets, nbuckets * sizeof(double));
        f->nbuckets = nbuckets;
    }
    /* Keep families sorted by name so rendering is stable. */
    struct family **pp = &m->families;
    while (*pp && strcmp((*pp)->name, name) < 0)
        pp = &(*pp)->next;
    f->next = *pp;
    *pp = f;
    pthread_mutex_unlock(&m->lock);
}

static struct series *get_series(struct family *f, const char *labels)
{
    const char *l = labels ? labels : "";
    struct series **pp = &f->series;
    while (*pp) {
        int c = strcmp((*pp)->labels, l);
        if (c == 0)
            return *pp;
        if (c > 0)
            break;
        pp = &(*pp)->next;
    }
    struct series *s = np_xcalloc(1, sizeof(*s));
    s->labels = np_strdup(l);
    if (f->type == NP_METRIC_HISTOGRAM)
        s->bucket_counts = np_xcalloc(f->nbuckets + 1, sizeof(uint64_t));
    s->next = *pp;
    *pp = s;
    return s;
}

/* How update() changes a series: the type's own way, or a counter set to a total read
 * elsewhere (never lowered). */
enum op { OP_TYPE, OP_COUNTER_TOTAL };

static void update(struct np_metrics *m, const char *name, const char *labels, double v,
                   enum np_metric_type want, enum op op)
{
    if (!m)
        return;
    pthread_mutex_lock(&m->lock);
    struct family *f = find_family(m, name);
    if (!f || f->type != want) {
        pthread_mutex_unlock(&m->lock);
        np_log_debug("metric not declared or of another type", "metric", name);
        return;
    }
    struct series *s = get_series(f, labels);
    switch (want) {
    case NP_METRIC_COUNTER:
        if (op == OP_COUNTER_TOTAL && v > s->value)
            s->value = v;
        else if (op == OP_TYPE && v > 0)
            s->value += v;
        break;
    case NP_METRIC_GAUGE: s->value = v; break;
    case NP_METRIC_HISTOGRAM:
        s->value += v;
        s->count++;
        for (size_t i = 0; i < f->nbuckets; i++)
            if (v <= f->buckets[i])
                s->bucket_counts[i]++;
        break;
    }
    pthread_mutex_unlock(&m->lock);
}

void np_metrics_counter_add(struct np_metrics *m, const char *name, const char *labels, double v)
{
    update(m, name, labels, v, NP_METRIC_COUNTER, OP_TYPE);
}

void np_metrics_counter_set_total(struct np_metrics *m, const char *name, const char *labels,
                                  double v)
{
    update(m, name, labels, v, NP_METRIC_COUNTER, OP_COUNTER_TOTAL);
}

void np_metrics_gauge_set(struct np_metrics *m, const char *name, const char *labels, double v)
{
    update(m, name, labels, v, NP_METRIC_GAUGE, OP_TYPE);
}

void np_metrics_histogram_observe(struct np_metrics *m, const char *name, const char *labels,
                                  double v)
{
    update(m, name, labels, v, NP_METRIC_HISTOGRAM, OP_TYPE);
}

/* The series of a family with exactly these labels (NULL: none); *prev_next is the link that
 * points at it (for removal). */
static struct series *find_series(struct family *f, const char *labels, struct series ***prev_next)
{
    const char *l = labels ? labels : "";
    for (struct series **pp = &f->series; *pp; pp = &(*pp)->next) {
        if (strcmp((*pp)->labels, l) == 0) {
            if (prev_next)
                *prev_next = pp;
            return *pp;
        }
    }
    return NULL;
}

/* A series' value (sum: a histogram's sum, else its count); 0 if absent. */
static double read_value(struct np_metrics *m, const char *name, const char *labels, bool sum)
{
    double v = 0;
    pthread_mutex_lock(&m->lock);
    struct family *f = find_family(m, name);
    struct series *s = f ? find_series(f, labels, NULL) : NULL;
    if (s)
        v = f->type == NP_METRIC_HISTOGRAM && !sum ? (double)s->count : s->value;
    pthread_mutex_unlock(&m->lock);
    return v;
}

double np_metrics_value(struct np_metrics *m, const char *name, const char *labels)
{
    return read_value(m, name, labels, false);
}

double np_metrics_sum(struct np_metrics *m, const char *name, const char *labels)
{
    return read_value(m, name, labels, true);
}

void np_metrics_remove(struct np_metrics *m, const char *name, const char *labels)
{
    if (!m)
        return;
    pthread_mutex_lock(&m->lock);
    struct family *f = find_family(m, name);
    struct series **link = NULL;
    struct series *s = f ? find_series(f, labels, &link) : NULL;
    if (s) {
        *link = s->next;
        series_free(s);
    }
    pthread_mutex_unlock(&m->lock);
}

void np_metrics_add_collector(struct np_metrics *m, np_metrics_collect_fn fn, void *ctx)
{
    struct collector *c = np_xcalloc(1, sizeof(*c));
    c->fn = fn;
    c->ctx = ctx;
    pthread_mutex_lock(&m->lock);
    struct collector **pp = &m->collectors;
    while (*pp)
        pp = &(*pp)->next;
    *pp = c;
    pthread_mutex_unlock(&m->lock);
}

/* Runs the collectors without the lock (they update series); the list only ever grows. */
static void run_collectors(struct np_metrics *m)
{
    pthread_mutex_lock(&m->lock);
    struct collector *c = m->collectors;
    pthread_mutex_unlock(&m->lock);
    while (c) {
        c->fn(c->ctx, m);
        pthread_mutex_lock(&m->lock);
        c = c->next;
        pthread_mutex_unlock(&m->lock);
    }
}

void np_metrics_labels_list(struct np_buf *out, ...)
{
    np_buf_reset(out);
    va_list ap;
    va_start(ap, out);
    for (;;) {
        const char *k = va_arg(ap, const char *);
        if (!k)
            break;
        const char *v = va_arg(ap, const char *);
        if (out->len)
            np_buf_putc(out, ',');
        np_buf_appendf(out, "%s=\"", k);
        for (const char *p = v ? v : ""; *p; p++) {
            if (*p == '\\' || *p == '"')
                np_buf_putc(out, '\\');
            if (*p == '\n') {
                np_buf_puts(out, "\\n");
                continue;
            }
            np_buf_putc(out, *p);
        }
        np_buf_putc(out, '"');
    }
    va_end(ap);
}

static void put_number(struct np_buf *out, double v)
{
    if (isnan(v))
        np_buf_puts(out, "NaN");
    else if (isinf(v))
        np_buf_puts(out, v > 0 ? "+Inf" : "-Inf");
    else if (v == floor(v) && fabs(v) < 1e15)
        np_buf_appendf(out, "%.0f", v);
    else
        np_buf_appendf(out, "%.9g", v);
}

static void put_series_name(struct np_buf *out, const char *name, const char *suffix,
                            const char *labels, const char *extra)
{
    np_buf_appendf(out, "%s%s", name, suffix);
    bool has_labels = labels && *labels;
    if (has_labels || extra) {
        np_buf_putc(out, '{');
        if (has_labels)
            np_buf_puts(out, labels);
        if (extra) {
            if (has_labels)
                np_buf_putc(out, ',');
            np_buf_puts(out, extra);
        }
        np_buf_putc(out, '}');
    }
    np_buf_putc(out, ' ');
}

/* The HELP line: backslash and newline escaped, as the text format asks. */
static void put_help(struct np_buf *out, const struct family *f)
{
    np_buf_appendf(out, "# HELP %s ", f->name);
    for (const char *p = f->help; *p; p++) {
        if (*p == '\\')
            np_buf_puts(out, "\\\\");
        else if (*p == '\n')
            np_buf_puts(out, "\\n");
        else
            np_buf_putc(out, *p);
    }
    np_buf_putc(out, '\n');
}

/* A histogram series: cumulative buckets, +Inf (the count), _sum and _count. */
static void put_histogram(struct np_buf *out, const struct family *f, const struct series *s)
{
    char le[64];
    for (size_t i = 0; i < f->nbuckets; i++) {
        struct np_buf num = NP_BUF_INIT;
        put_number(&num, f->buckets[i]);
        snprintf(le, sizeof(le), "le=\"%s\"", np_buf_cstr(&num));
        np_buf_clean_up(&num);
        put_series_name(out, f->name, "_bucket", s->labels, le);
        np_buf_appendf(out, "%llu\n", (unsigned long long)s->bucket_counts[i]);
    }
    put_series_name(out, f->name, "_bucket", s->labels, "le=\"+Inf\"");
    np_buf_appendf(out, "%llu\n", (unsigned long long)s->count);
    put_series_name(out, f->name, "_sum", s->labels, NULL);
    put_number(out, s->value);
    np_buf_putc(out, '\n');
    put_series_name(out, f->name, "_count", s->labels, NULL);
    np_buf_appendf(out, "%llu\n", (unsigned long long)s->count);
}

void np_metrics_render(struct np_metrics *m, struct np_buf *out)
{
    static const char *type_names[] = {"counter", "gauge", "histogram"};
    run_collectors(m);
    pthread_mutex_lock(&m->lock);
    for (struct family *f = m->families; f; f = f->next) {
        put_help(out, f);
        np_buf_appendf(out, "# TYPE %s %s\n", f->name, type_names[f->type]);
        for (struct series *s = f->series; s; s = s->next) {
            if (f->type == NP_METRIC_HISTOGRAM) {
                put_histogram(out, f, s);
                continue;
            }
            put_series_name(out, f->name, "", s->labels, NULL);
            put_number(out, s->value);
            np_buf_putc(out, '\n');
        }
    }
    pthread_mutex_unlock(&m->lock);
}
