/*
 * The Event recorder: events.k8s.io/v1 Events about our objects, deduplicated on the client
 * like client-go's tools/events and kube-rs: the same (object, type, reason, action, note)
 * within 6 minutes bumps the first Event's series {count, lastObservedTime} with a merge
 * patch instead of creating another Event.
 */
#include "kube/private/kube_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SERIES_WINDOW_MS (6 * 60 * 1000)
#define MAX_CACHE 4096
#define MAX_NOTE 1024
#define MAX_FIELD 128

struct series {
    char *ns;
    char *name;
    int64_t count;
    int64_t last_ms; /* clock mono */
};

struct np_kube_recorder {
    struct np_kube_client *client;
    char *controller;
    char *instance;
    const struct np_clock *clock;
    pthread_mutex_t lock;
    struct np_kube_strmap cache; /* dedup key -> struct series */
    uint64_t seq;
};

static void series_free(struct series *s)
{
    if (!s)
        return;
    free(s->ns);
    free(s->name);
    free(s);
}

int np_kube_recorder_new(struct np_kube_recorder **out, struct np_kube_client *client,
                         const struct np_kube_recorder_options *o)
{
    char host[256];
    *out = NULL;
    if (!client)
        return np_error_set(NP_EINVAL, "recorder needs a client");
    struct np_kube_recorder *r = np_xcalloc(1, sizeof(*r));
    if (pthread_mutex_init(&r->lock, NULL) != 0) {
        free(r);
        return np_error_set(NP_ENOMEM, "cannot create a mutex");
    }
    r->client = client;
    r->controller =
        np_strdup(o && !np_str_is_empty(o->reporting_controller) ? o->reporting_controller
                                                                 : NP_KUBE_REPORTING_CONTROLLER);
    if (o && !np_str_is_empty(o->reporting_instance)) {
        r->instance = np_strndup(o->reporting_instance, MAX_FIELD);
    } else {
        if (gethostname(host, sizeof(host)) != 0 || host[0] == '\0')
            np_strlcpy(host, "netposture", sizeof(host));
        host[sizeof(host) - 1] = '\0';
        r->instance = np_strndup(host, MAX_FIELD);
    }
    r->clock = o && o->clock ? o->clock : np_clock_system();
    np_kube_strmap_init(&r->cache);
    *out = r;
    return 0;
}

static void cache_clear(struct np_kube_recorder *r)
{
    for (size_t i = 0; i < r->cache.nbuckets; i++)
        for (struct np_kube_strmap_entry *e = r->cache.buckets[i]; e; e = e->next)
            series_free(e->ptr);
    np_kube_strmap_clean_up(&r->cache);
}

void np_kube_recorder_destroy(struct np_kube_recorder *r)
{
    if (!r)
        return;
    cache_clear(r);
    pthread_mutex_destroy(&r->lock);
    free(r->controller);
    free(r->instance);
    free(r);
}

/* Drops series whose last occurrence left the window; the whole cache when still full. */
static void cache_trim(struct np_kube_recorder *r, int64_t now)
{
    char **stale = np_xcalloc(r->cache.len + 1, sizeof(*stale));
    size_t n = 0;
    for (size_t i = 0; i < r->cache.nbuckets; i++) {
        for (struct np_kube_strmap_entry *e = r->cache.buckets[i]; e; e = e->next) {
            struct series *s = e->ptr;
            if (now - s->last_ms >= SERIES_WINDOW_MS)
                stale[n++] = e->key;
        }
    }
    for (size_t i = 0; i < n; i++) {
        struct np_kube_strmap_entry *e = np_kube_strmap_find(&r->cache, stale[i]);
        series_free(e->ptr);
        np_kube_strmap_remove(&r->cache, stale[i]); /* frees the key */
    }
    free(stale);
    if (r->cache.len >= MAX_CACHE)
        cache_clear(r);
}

static void put_str(json_object *o, const char *key, const char *value)
{
    if (!np_str_is_empty(value))
        json_object_object_add(o, key, json_object_new_string(value));
}

json_object *np_kube_event_new_body(const struct np_kube_object_ref *g, const char *ns,
                                    const char *name, const char *type, const char *reason,
                                    const char *action, const char *note, const char *controller,
                                    const char *instance, int64_t now_ms)
{
    char ts[40];
    np_time_format_micro(ts, sizeof(ts), now_ms);
    json_object *ev = json_object_new_object();
    put_str(ev, "apiVersion", "events.k8s.io/v1");
    put_str(ev, "kind", "Event");
    json_object *meta = json_object_new_object();
    put_str(meta, "name", name);
    put_str(meta, "namespace", ns);
    json_object_object_add(ev, "metadata", meta);
    put_str(ev, "eventTime", ts);
    put_str(ev, "reportingController", controller);
    put_str(ev, "reportingInstance", instance);
    put_str(ev, "action", action);
    put_str(ev, "reason", reason);
    put_str(ev, "type", type);
    put_str(ev, "note", note);
    json_object *reg = json_object_new_object();
    put_str(reg, "apiVersion", g->api_version);
    put_str(reg, "kind", g->kind);
    put_str(reg, "namespace", g->namespace);
    put_str(reg, "name", g->name);
    put_str(reg, "uid", g->uid);
    put_str(reg, "resourceVersion", g->resource_version);
    json_object_object_add(ev, "regarding", reg);
    return ev;
}

void np_kube_object_ref_from(struct np_kube_object_ref *ref, json_object *obj)
{
    ref->api_version = np_json_path_str(obj, "apiVersion", NP_JSON_END);
    ref->kind = np_json_path_str(obj, "kind", NP_JSON_END);
    ref->namespace = np_kube_object_namespace(obj);
    ref->name = np_kube_object_name(obj);
    ref->uid = np_kube_object_uid(obj);
    ref->resource_version = np_kube_object_resource_version(obj);
}

/* Truncates s to at most max bytes without splitting a UTF-8 sequence. Owned. */
static char *truncate_utf8(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n <= max)
        return np_strdup(s);
    n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return np_strndup(s, n);
}

static bool valid_field(const char *s)
{
    return !np_str_is_empty(s) && strlen(s) <= MAX_FIELD;
}

/* The arguments an Event needs: a regarding object with kind and name, a known type, and a
 * reason and action of bounded length. */
static int check_event(const struct np_kube_object_ref *g, const char *type, const char *reason,
                       const char *action)
{
    if (!g || np_str_is_empty(g->name) || np_str_is_empty(g->kind))
        return np_error_set(NP_EINVAL, "event: the regarding object needs a kind and a name");
    if (!np_str_eq(type, "Normal") && !np_str_eq(type, "Warning"))
        return np_error_set(NP_EINVAL, "event: type must be Normal or Warning, not \"%.32s\"",
                            type ? type : "");
    if (!valid_field(reason) || !valid_field(action))
        return np_error_set(NP_EINVAL, "event: reason and action must be 1 to %d bytes", MAX_FIELD);
    return 0;
}

/* A fresh Event name, <object name>.<hex time+sequence>, kept within 253 characters. Called
 * under r->lock (it advances the sequence). */
static char *event_name(struct np_kube_recorder *r, const char *name, int64_t wall)
{
    uint64_t stamp = (uint64_t)wall * 1000000u + (r->seq++ % 1000000u);
    return np_strdupf("%.230s.%llx", name, (unsigned long long)stamp);
}

/* Finds or starts the series of dedup: sets the Event's namespace and name (owned) and returns
 * how many times an existing series has now been seen (at least 2), or 0 for a new one. */
static int64_t series_note(struct np_kube_recorder *r, const char *dedup,
                           const struct np_kube_object_ref *g, const char *ns, int64_t now,
                           int64_t wall, char **ev_ns, char **ev_name)
{
    int64_t count = 0;
    pthread_mutex_lock(&r->lock);
    cache_trim(r, now);
    struct np_kube_strmap_entry *e = np_kube_strmap_find(&r->cache, dedup);
    if (e) {
        struct series *s = e->ptr;
        s->count++;
        s->last_ms = now;
        count = s->count;
        *ev_ns = np_strdup(s->ns);
        *ev_name = np_strdup(s->name);
    } else {
        *ev_name = event_name(r, g->name, wall);
        *ev_ns = np_strdup(ns);
        struct series *s = np_xcalloc(1, sizeof(*s));
        s->ns = np_strdup(*ev_ns);
        s->name = np_strdup(*ev_name);
        s->count = 1;
        s->last_ms = now;
        np_kube_strmap_upsert(&r->cache, dedup, NULL)->ptr = s;
    }
    pthread_mutex_unlock(&r->lock);
    return count;
}

/* Bumps an existing Event's series {count, lastObservedTime} with a merge patch. */
static int series_bump(struct np_kube_recorder *r, const char *ev_ns, const char *ev_name,
                       int64_t count, int64_t wall)
{
    char ts[40];
    np_time_format_micro(ts, sizeof(ts), wall);
    char *patch = np_strdupf("{\"series\":{\"count\":%lld,\"lastObservedTime\":\"%s\"}}",
                             (long long)count, ts);
    int rc = np_kube_patch(r->client, NULL, &np_kube_res_events, ev_ns, ev_name, NULL,
                           NP_KUBE_PATCH_MERGE, patch);
    free(patch);
    return rc;
}

/* The series' Event expired or was deleted: the series restarts under a new name (*ev_name
 * replaced). */
static void series_restart(struct np_kube_recorder *r, const char *dedup, const char *name,
                           int64_t wall, char **ev_name)
{
    pthread_mutex_lock(&r->lock);
    struct np_kube_strmap_entry *e = np_kube_strmap_find(&r->cache, dedup);
    if (e) {
        struct series *s = e->ptr;
        free(*ev_name);
        *ev_name = event_name(r, name, wall);
        free(s->name);
        s->name = np_strdup(*ev_name);
        s->count = 1;
    }
    pthread_mutex_unlock(&r->lock);
}

/* Forgets the series (if it still names ev_name) so the next emit tries to create again. */
static void series_forget(struct np_kube_recorder *r, const char *dedup, const char *ev_name)
{
    pthread_mutex_lock(&r->lock);
    struct np_kube_strmap_entry *e = np_kube_strmap_find(&r->cache, dedup);
    if (e && np_str_eq(((struct series *)e->ptr)->name, ev_name)) {
        series_free(e->ptr);
        np_kube_strmap_remove(&r->cache, dedup);
    }
    pthread_mutex_unlock(&r->lock);
}

int np_kube_recorder_emit(struct np_kube_recorder *r, const struct np_kube_object_ref *g,
                          const char *type, const char *reason, const char *action,
                          const char *note)
{
    char *dedup = NULL, *short_note = NULL, *ev_ns = NULL, *ev_name = NULL;
    json_object *body = NULL;
    int rc = check_event(g, type, reason, action);
    if (rc)
        goto out;
    short_note = truncate_utf8(note ? note : "", MAX_NOTE);
    const char *ns = np_str_is_empty(g->namespace) ? "default" : g->namespace;
    /* The resourceVersion is left out of the key on purpose: it changes with every status
     * write, which would defeat the deduplication of repeated Events. */
    dedup = np_strdupf("%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s",
                       g->api_version ? g->api_version : "", g->kind, ns, g->name,
                       g->uid ? g->uid : "", type, reason, action, short_note);

    int64_t now = r->clock->mono_ms(r->clock->ctx);
    int64_t wall = r->clock->now_ms(r->clock->ctx);
    int64_t count = series_note(r, dedup, g, ns, now, wall, &ev_ns, &ev_name);
    if (count > 1) {
        rc = series_bump(r, ev_ns, ev_name, count, wall);
        if (rc != NP_ENOTFOUND)
            goto out;
        series_restart(r, dedup, g->name, wall, &ev_name);
    }
    /* A new series (or a restarted one): create the Event. */
    body = np_kube_event_new_body(g, ev_ns, ev_name, type, reason, action, short_note,
                                  r->controller, r->instance, wall);
    rc = np_kube_create(r->client, NULL, &np_kube_res_events, ev_ns, body);
    if (rc)
        series_forget(r, dedup, ev_name);
out:
    if (rc)
        np_log_warn("kube: cannot record event", "reason", reason, "object", g ? g->name : NULL,
                    "error", np_error_message(), (const char *)NULL);
    json_object_put(body);
    free(dedup);
    free(short_note);
    free(ev_ns);
    free(ev_name);
    return rc;
}
