/*
 * A thread-safe Prometheus metrics registry: families of counters, gauges and histograms,
 * each with series keyed by their rendered label set, rendered in the text format.
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

struct np_metrics {
    pthread_mutex_t lock;
    struct family *families;
};

struct np_metrics *np_metrics_new(void)
{
    struct np_metrics *m = np_xcalloc(1, sizeof(*m));
    pthread_mutex_init(&m->lock, NULL);
    return m;
}

void np_metrics_destroy(struct np_metrics *m)
{
    if (!m)
        return;
    struct family *f = m->families;
    while (f) {
        struct family *fn = f->next;
        struct series *s = f->series;
        while (s) {
            struct series *sn = s->next;
            free(s->labels);
            free(s->bucket_counts);
            free(s);
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

static void update(struct np_metrics *m, const char *name, const char *labels, double v,
                   enum np_metric_type want)
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
        if (v > 0)
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
    update(m, name, labels, v, NP_METRIC_COUNTER);
}

void np_metrics_gauge_set(struct np_metrics *m, const char *name, const char *labels, double v)
{
    update(m, name, labels, v, NP_METRIC_GAUGE);
}

void np_metrics_histogram_observe(struct np_metrics *m, const char *name, const char *labels,
                                  double v)
{
    update(m, name, labels, v, NP_METRIC_HISTOGRAM);
}

double np_metrics_value(struct np_metrics *m, const char *name, const char *labels)
{
    double v = 0;
    pthread_mutex_lock(&m->lock);
    struct family *f = find_family(m, name);
    if (f) {
        for (struct series *s = f->series; s; s = s->next) {
            if (strcmp(s->labels, labels ? labels : "") == 0) {
                v = f->type == NP_METRIC_HISTOGRAM ? (double)s->count : s->value;
                break;
            }
        }
    }
    pthread_mutex_unlock(&m->lock);
    return v;
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
    if (isinf(v))
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

void np_metrics_render(struct np_metrics *m, struct np_buf *out)
{
    static const char *type_names[] = {"counter", "gauge", "histogram"};
    pthread_mutex_lock(&m->lock);
    for (struct family *f = m->families; f; f = f->next) {
        np_buf_appendf(out, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name,
                       type_names[f->type]);
        for (struct series *s = f->series; s; s = s->next) {
            if (f->type != NP_METRIC_HISTOGRAM) {
                put_series_name(out, f->name, "", s->labels, NULL);
                put_number(out, s->value);
                np_buf_putc(out, '\n');
                continue;
            }
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
    }
    pthread_mutex_unlock(&m->lock);
}
