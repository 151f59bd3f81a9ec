/*
 * The informer's store: a mutex-protected map "namespace/name" -> object kept as compact
 * JSON text (json-c trees cost ~10-20x the text: ~15 KB per typical posture against ~1.5 KB),
 * with its resourceVersion beside it. Entries are immutable and refcounted, so a relist's
 * notifications read them outside the lock while workers write; a worker's write is never
 * undone by an older object. Readers get freshly parsed objects of their own.
 */
#include "kube/private/kube_private.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* Immutable once made; the map holds one reference, a pending notification another. */
struct entry {
    atomic_int refs;
    char *rv;   /* resourceVersion, or NULL */
    char *json; /* compact JSON text */
    size_t len;
    bool written; /* stored by np_kube_store_apply_written, not yet confirmed by the server */
};

struct np_kube_store {
    pthread_mutex_t lock;
    struct np_kube_strmap *map; /* key -> struct entry (ptr) */
    bool synced;
};

static void entry_release(struct entry *e)
{
    if (!e || atomic_fetch_sub(&e->refs, 1) != 1)
        return;
    free(e->rv);
    free(e->json);
    free(e);
}

static struct entry *entry_acquire(struct entry *e)
{
    if (e)
        atomic_fetch_add(&e->refs, 1);
    return e;
}

static struct entry *entry_new(json_object *obj)
{
    struct entry *e = np_xcalloc(1, sizeof(*e));
    size_t len = 0;
    const char *text = json_object_to_json_string_length(
        obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
    atomic_init(&e->refs, 1);
    e->json = np_strndup(text, len);
    e->len = len;
    e->rv = np_strdup(np_kube_object_resource_version(obj));
    return e;
}

/*
 * Orders two resourceVersions. The API calls them opaque, but every etcd-backed one is the
 * decimal revision of the write, so two decimal strings compare as numbers; anything else
 * (another storage, a missing one) is not comparable and *comparable is false.
 */
static int rv_compare(const char *a, const char *b, bool *comparable)
{
    *comparable = false;
    if (np_str_is_empty(a) || np_str_is_empty(b))
        return 0;
    for (const char *p = a; *p; p++)
        if (*p < '0' || *p > '9')
            return 0;
    for (const char *p = b; *p; p++)
        if (*p < '0' || *p > '9')
            return 0;
    while (*a == '0' && a[1])
        a++;
    while (*b == '0' && b[1])
        b++;
    *comparable = true;
    size_t la = strlen(a), lb = strlen(b);
    if (la != lb)
        return la < lb ? -1 : 1;
    int c = strcmp(a, b);
    return (c > 0) - (c < 0);
}

/* True when a is known to be older than b. */
static bool rv_older(const char *a, const char *b)
{
    bool comparable = false;
    return rv_compare(a, b, &comparable) < 0 && comparable;
}

static struct np_kube_strmap *map_new(void)
{
    struct np_kube_strmap *m = np_xcalloc(1, sizeof(*m));
    np_kube_strmap_init(m);
    return m;
}

static void map_destroy(struct np_kube_strmap *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nbuckets; i++)
        for (struct np_kube_strmap_entry *e = m->buckets[i]; e; e = e->next)
            entry_release(e->ptr);
    np_kube_strmap_clean_up(m);
    free(m);
}

/* Parses a stored text; the text was produced by json-c, so failure means memory trouble. */
static int entry_parse(json_object **out, const char *json, size_t len, const char *key)
{
    int rc = np_kube_json_parse(out, json, len);
    if (rc)
        rc = np_kube_error_wrap(rc, "store: %.256s", key);
    return rc;
}

int np_kube_store_new(struct np_kube_store **out)
{
    struct np_kube_store *s = np_xcalloc(1, sizeof(*s));
    *out = NULL;
    if (pthread_mutex_init(&s->lock, NULL) != 0) {
        free(s);
        return np_error_set(NP_ENOMEM, "cannot create a mutex");
    }
    s->map = map_new();
    *out = s;
    return 0;
}

void np_kube_store_destroy(struct np_kube_store *s)
{
    if (!s)
        return;
    map_destroy(s->map);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

/* Copies the text under key (owned) out of the lock. */
static int copy_text(struct np_kube_store *s, const char *key, char **text, size_t *len)
{
    int rc = 0;
    *text = NULL;
    pthread_mutex_lock(&s->lock);
    struct np_kube_strmap_entry *e = key ? np_kube_strmap_find(s->map, key) : NULL;
    if (!e) {
        rc = np_error_set(NP_ENOTFOUND, "%.256s not in the store", key ? key : "(null)");
    } else {
        struct entry *en = e->ptr;
        *text = np_strndup(en->json, en->len);
        *len = en->len;
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int np_kube_store_get(struct np_kube_store *s, json_object **out, const char *key)
{
    char *text = NULL;
    size_t len = 0;
    *out = NULL;
    int rc = copy_text(s, key, &text, &len);
    if (rc == 0)
        rc = entry_parse(out, text, len, key);
    free(text);
    return rc;
}

int np_kube_store_with(struct np_kube_store *s, const char *key, np_kube_store_fn fn, void *ctx)
{
    json_object *obj = NULL;
    int rc = np_kube_store_get(s, &obj, key);
    if (rc == 0)
        fn(ctx, key, obj);
    json_object_put(obj);
    return rc;
}

void np_kube_store_each(struct np_kube_store *s, np_kube_store_fn fn, void *ctx)
{
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->map->nbuckets; i++) {
        for (struct np_kube_strmap_entry *e = s->map->buckets[i]; e; e = e->next) {
            struct entry *en = e->ptr;
            json_object *obj = NULL;
            if (entry_parse(&obj, en->json, en->len, e->key) == 0)
                fn(ctx, e->key, obj);
            json_object_put(obj);
        }
    }
    pthread_mutex_unlock(&s->lock);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int np_kube_store_keys(struct np_kube_store *s, char ***keys, size_t *n)
{
    pthread_mutex_lock(&s->lock);
    size_t count = s->map->len, i = 0;
    char **v = np_xcalloc(count + 1, sizeof(*v));
    for (size_t b = 0; b < s->map->nbuckets; b++)
        for (struct np_kube_strmap_entry *e = s->map->buckets[b]; e; e = e->next)
            v[i++] = np_strdup(e->key);
    pthread_mutex_unlock(&s->lock);
    qsort(v, i, sizeof(*v), cmp_str);
    *keys = v;
    if (n)
        *n = i;
    return 0;
}

size_t np_kube_store_len(struct np_kube_store *s)
{
    pthread_mutex_lock(&s->lock);
    size_t n = s->map->len;
    pthread_mutex_unlock(&s->lock);
    return n;
}

bool np_kube_store_has_synced(struct np_kube_store *s)
{
    pthread_mutex_lock(&s->lock);
    bool synced = s->synced;
    pthread_mutex_unlock(&s->lock);
    return synced;
}

struct np_kube_store_stage {
    struct np_kube_strmap *map;
    char *rv; /* the list's resourceVersion, or NULL */
};

struct np_kube_store_stage *np_kube_store_stage_new(void)
{
    struct np_kube_store_stage *st = np_xcalloc(1, sizeof(*st));
    st->map = map_new();
    return st;
}

void np_kube_store_stage_free(struct np_kube_store_stage *st)
{
    if (!st)
        return;
    map_destroy(st->map);
    free(st->rv);
    free(st);
}

void np_kube_store_stage_set_resource_version(struct np_kube_store_stage *st, const char *rv)
{
    free(st->rv);
    st->rv = np_str_is_empty(rv) ? NULL : np_strdup(rv);
}

int np_kube_store_stage_add(struct np_kube_store_stage *st, json_object *items)
{
    char *key = NULL;
    if (!items || !json_object_is_type(items, json_type_array))
        return np_error_set(NP_EINVAL, "store: items is not an array");
    size_t n = json_object_array_length(items);
    for (size_t i = 0; i < n; i++) {
        json_object *item = json_object_array_get_idx(items, i);
        int rc = np_kube_object_key(&key, item);
        if (rc)
            return np_kube_error_wrap(rc, "store: item %zu", i);
        struct np_kube_strmap_entry *e = np_kube_strmap_upsert(st->map, key, NULL);
        entry_release(e->ptr); /* a duplicate key: the later item wins */
        e->ptr = entry_new(item);
        free(key);
        key = NULL;
    }
    return 0;
}

/* Calls fn(h, key, prev, obj) after parsing what it needs. */
static void notify(const struct np_kube_handlers *h, const char *key, const struct entry *prev,
                   const struct entry *cur)
{
    json_object *p = NULL, *c = NULL;
    if (cur && !prev) {
        if (h->on_add && entry_parse(&c, cur->json, cur->len, key) == 0)
            h->on_add(h->ctx, key, c);
    } else if (cur && prev) {
        if (h->on_update && entry_parse(&p, prev->json, prev->len, key) == 0 &&
            entry_parse(&c, cur->json, cur->len, key) == 0)
            h->on_update(h->ctx, key, p, c);
    } else if (prev) {
        if (h->on_delete && entry_parse(&p, prev->json, prev->len, key) == 0)
            h->on_delete(h->ctx, key, p);
    }
    json_object_put(p);
    json_object_put(c);
}

/* A notification decided under the lock and delivered after it (entries referenced). */
struct note {
    char *key;
    struct entry *prev, *cur;
};

struct notes {
    struct note *v;
    size_t n, cap;
};

static void notes_push(struct notes *ns, const char *key, struct entry *prev, struct entry *cur)
{
    if (ns->n == ns->cap) {
        ns->cap = ns->cap ? ns->cap * 2 : 16;
        ns->v = np_xrealloc(ns->v, ns->cap * sizeof(*ns->v));
    }
    ns->v[ns->n++] = (struct note){np_strdup(key), entry_acquire(prev), entry_acquire(cur)};
}

void np_kube_store_commit(struct np_kube_store *s, struct np_kube_store_stage *st,
                          const struct np_kube_handlers *h)
{
    struct np_kube_strmap *fresh = st->map, *old = NULL;
    char *list_rv = st->rv;
    struct notes notes = {0};
    st->map = NULL;
    st->rv = NULL;
    np_kube_store_stage_free(st);

    /*
     * Workers write into the map too (np_kube_store_apply_written), so everything that reads
     * it happens under the lock: merge, decide the notifications, swap. The handlers run after
     * it, on entries of their own (references), like client-go's Replace: new and changed
     * objects, then deletions.
     */
    pthread_mutex_lock(&s->lock);
    old = s->map;
    for (size_t b = 0; b < fresh->nbuckets; b++) {
        for (struct np_kube_strmap_entry *e = fresh->buckets[b]; e; e = e->next) {
            struct np_kube_strmap_entry *o = np_kube_strmap_find(old, e->key);
            struct entry *prev = o ? o->ptr : NULL;
            if (prev && prev->written && rv_older(((struct entry *)e->ptr)->rv, prev->rv)) {
                /* Written after the list was read (a worker's patch answer): keep it. */
                entry_release(e->ptr);
                e->ptr = entry_acquire(prev);
            }
            struct entry *cur = e->ptr;
            if (h && (!prev || !cur->rv || !np_str_eq(prev->rv, cur->rv)))
                notes_push(&notes, e->key, prev, cur);
            if (o)
                o->num = 1; /* seen */
        }
    }
    for (size_t b = 0; b < old->nbuckets; b++) {
        for (struct np_kube_strmap_entry *e = old->buckets[b]; e; e = e->next) {
            struct entry *prev = e->ptr;
            if (e->num != 0)
                continue;
            if (prev->written && list_rv && rv_older(list_rv, prev->rv)) {
                /* Newer than the list, so the watch from the list's version tells its fate. */
                np_kube_strmap_upsert(fresh, e->key, NULL)->ptr = entry_acquire(prev);
            } else if (h) {
                notes_push(&notes, e->key, prev, NULL);
            }
        }
    }
    s->map = fresh;
    s->synced = true;
    pthread_mutex_unlock(&s->lock);
    map_destroy(old);

    for (size_t i = 0; i < notes.n; i++) {
        notify(h, notes.v[i].key, notes.v[i].prev, notes.v[i].cur);
        entry_release(notes.v[i].prev);
        entry_release(notes.v[i].cur);
        free(notes.v[i].key);
    }
    free(notes.v);
    free(list_rv);
}

int np_kube_store_replace(struct np_kube_store *s, json_object *items,
                          const struct np_kube_handlers *h)
{
    struct np_kube_store_stage *st = np_kube_store_stage_new();
    int rc = items ? np_kube_store_stage_add(st, items) : 0;
    if (rc) {
        np_kube_store_stage_free(st);
        return np_kube_error_wrap(rc, "store replace");
    }
    np_kube_store_commit(s, st, h);
    return 0;
}

int np_kube_store_apply(struct np_kube_store *s, enum np_kube_event_type type, json_object *obj,
                        const struct np_kube_handlers *h)
{
    int rc = 0;
    char *key = NULL;
    struct entry *fresh = NULL, *old = NULL;
    json_object *prev = NULL;
    bool stale = false;

    if (type != NP_KUBE_ADDED && type != NP_KUBE_MODIFIED && type != NP_KUBE_DELETED)
        return 0;
    rc = np_kube_object_key(&key, obj);
    if (rc) {
        rc = np_kube_error_wrap(rc, "%s event", np_kube_event_type_name(type));
        goto out;
    }
    if (type != NP_KUBE_DELETED)
        fresh = entry_new(obj);
    pthread_mutex_lock(&s->lock);
    struct np_kube_strmap_entry *e = np_kube_strmap_find(s->map, key);
    /* Older than a worker's write we hold: the watch resends that write later. (Between the
     * server's own objects the watch's order wins, even should versions go back.) */
    struct entry *held = e ? e->ptr : NULL;
    stale = held && held->written && rv_older(np_kube_object_resource_version(obj), held->rv);
    if (!stale) {
        if (e) {
            old = e->ptr;
            e->ptr = NULL;
        }
        if (type == NP_KUBE_DELETED) {
            if (e)
                np_kube_strmap_remove(s->map, key);
        } else {
            if (!e)
                e = np_kube_strmap_upsert(s->map, key, NULL);
            e->ptr = fresh;
            fresh = NULL;
        }
    }
    pthread_mutex_unlock(&s->lock);

    if (h && !stale) {
        if (type == NP_KUBE_DELETED) {
            if (old && h->on_delete)
                h->on_delete(h->ctx, key, obj);
        } else if (old) {
            if (h->on_update && entry_parse(&prev, old->json, old->len, key) == 0)
                h->on_update(h->ctx, key, prev, obj);
        } else if (h->on_add) {
            h->on_add(h->ctx, key, obj);
        }
    }
out:
    json_object_put(prev);
    entry_release(fresh);
    entry_release(old);
    free(key);
    return rc;
}

int np_kube_store_apply_written(struct np_kube_store *s, json_object *obj, const char *base_rv)
{
    int rc = 0;
    char *key = NULL;
    struct entry *fresh = NULL;

    rc = np_kube_object_key(&key, obj);
    if (rc)
        goto out;
    fresh = entry_new(obj);
    fresh->written = true;
    pthread_mutex_lock(&s->lock);
    struct np_kube_strmap_entry *e = np_kube_strmap_find(s->map, key);
    if (!e) {
        /* Deleted meanwhile: the watch said so last, and a write never brings it back. */
        rc = np_error_set(NP_ENOTFOUND, "%.256s not in the store", key);
    } else {
        struct entry *cur = e->ptr;
        bool comparable = false;
        int order = rv_compare(fresh->rv, cur->rv, &comparable);
        bool newer = comparable ? order > 0 : base_rv && np_str_eq(cur->rv, base_rv);
        if (newer) {
            e->ptr = fresh;
            fresh = cur;
        } else {
            rc = np_error_set(NP_ECONFLICT, "%.256s: the store holds resourceVersion %.64s", key,
                              cur->rv ? cur->rv : "(none)");
        }
    }
    pthread_mutex_unlock(&s->lock);
out:
    entry_release(fresh);
    free(key);
    return rc;
}
