/*
 * The informer's store: a mutex-protected map "namespace/name" -> object kept as compact
 * JSON text, deflated (zlib, raw deflate) with a preset dictionary: the text of the first
 * object the store met (a relist's stage: the longest of its first page), which shares nearly
 * every key and many values with its siblings. json-c trees cost ~10-20x the text (~15 KB per
 * typical posture against ~2 KB); deflated against a sibling the same posture is ~150-400 bytes,
 * which is what lets one process hold 10,000 postures in a few MiB. The resourceVersion is kept
 * beside it. Entries are immutable and refcounted, so a relist's notifications read them outside
 * the lock while workers write; a worker's write is never undone by an older object. Readers get
 * freshly parsed objects of their own.
 */
#include "kube/private/kube_private.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#define ZLIB_CONST /* next_in is const */
#include <zlib.h>

/* 8 KiB window: a dictionary is at most that long (its tail: zlib would use no more). */
#define ZWINDOW_BITS 13
#define ZMEM_LEVEL 7
#define ZDICT_MAX ((size_t)1 << ZWINDOW_BITS)

/* A preset dictionary, shared by the entries deflated with it. */
struct zdict {
    atomic_int refs;
    size_t len;
    unsigned char text[];
};

/* Immutable once made; the map holds one reference, a pending notification another. */
struct entry {
    atomic_int refs;
    char *rv;           /* resourceVersion (inside this allocation), or NULL */
    struct zdict *dict; /* the dictionary z was deflated with; NULL: z is the plain text */
    size_t len;         /* length of the JSON text */
    size_t zlen;        /* bytes in z */
    bool written;       /* stored by np_kube_store_apply_written, not yet confirmed */
    unsigned char z[];  /* the deflated text, then rv's bytes */
};

struct np_kube_store {
    pthread_mutex_t lock;
    struct np_kube_strmap *map; /* key -> struct entry (ptr) */
    bool synced;
    struct zdict *dict; /* for the objects the watch and workers add; set once */
};

static struct zdict *zdict_acquire(struct zdict *d)
{
    if (d)
        atomic_fetch_add(&d->refs, 1);
    return d;
}

static void zdict_release(struct zdict *d)
{
    if (d && atomic_fetch_sub(&d->refs, 1) == 1)
        free(d);
}

/* A dictionary from an object's text (its last ZDICT_MAX bytes). */
static struct zdict *zdict_new(const char *text, size_t len)
{
    size_t n = len < ZDICT_MAX ? len : ZDICT_MAX;
    struct zdict *d = np_xcalloc(1, sizeof(*d) + n);
    atomic_init(&d->refs, 1);
    d->len = n;
    memcpy(d->text, text + (len - n), n);
    return d;
}

static void entry_release(struct entry *e)
{
    if (!e || atomic_fetch_sub(&e->refs, 1) != 1)
        return;
    zdict_release(e->dict);
    free(e);
}

static struct entry *entry_acquire(struct entry *e)
{
    if (e)
        atomic_fetch_add(&e->refs, 1);
    return e;
}

/* Deflates text against d into out (capacity *olen, set to the length). False if it does not
 * fit or zlib fails (no memory): the caller keeps the text as it is. */
static bool deflate_text(const struct zdict *d, const char *text, size_t len, unsigned char *out,
                         size_t *olen)
{
    z_stream zs = {0};
    if (len > UINT32_MAX || deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -ZWINDOW_BITS,
                                         ZMEM_LEVEL, Z_DEFAULT_STRATEGY) != Z_OK)
        return false;
    bool ok = deflateSetDictionary(&zs, d->text, (uInt)d->len) == Z_OK;
    zs.next_in = (const Bytef *)text;
    zs.avail_in = (uInt)len;
    zs.next_out = out;
    zs.avail_out = (uInt)*olen;
    ok = ok && deflate(&zs, Z_FINISH) == Z_STREAM_END;
    *olen = zs.total_out;
    deflateEnd(&zs);
    return ok;
}

/* An entry for obj: its text deflated against dict, or kept plain when dict is NULL or
 * deflating does not make it shorter. */
static struct entry *entry_new(json_object *obj, struct zdict *dict)
{
    size_t len = 0;
    const char *text = json_object_to_json_string_length(
        obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
    const char *rv = np_kube_object_resource_version(obj);
    size_t rvlen = rv ? strlen(rv) + 1 : 0;
    unsigned char *buf = np_xcalloc(1, len + 64);
    size_t zlen = len + 64;
    bool packed = dict && deflate_text(dict, text, len, buf, &zlen) && zlen < len;
    const unsigned char *body = packed ? buf : (const unsigned char *)text;
    size_t blen = packed ? zlen : len;

    struct entry *e = np_xcalloc(1, sizeof(*e) + blen + rvlen);
    *e = (struct entry){.len = len, .zlen = blen, .dict = packed ? zdict_acquire(dict) : NULL};
    atomic_init(&e->refs, 1);
    memcpy(e->z, body, blen);
    if (rv) {
        e->rv = (char *)e->z + blen;
        memcpy(e->rv, rv, rvlen);
    }
    free(buf);
    return e;
}

/* The entry's JSON text (owned, NUL-terminated). */
static int entry_text(const struct entry *e, char **out)
{
    char *text = np_xcalloc(1, e->len + 1);
    *out = NULL;
    if (!e->dict) {
        memcpy(text, e->z, e->len);
    } else {
        z_stream zs = {0};
        int zrc = inflateInit2(&zs, -ZWINDOW_BITS);
        if (zrc == Z_OK)
            zrc = inflateSetDictionary(&zs, e->dict->text, (uInt)e->dict->len);
        zs.next_in = e->z;
        zs.avail_in = (uInt)e->zlen;
        zs.next_out = (Bytef *)text;
        zs.avail_out = (uInt)e->len;
        if (zrc == Z_OK)
            zrc = inflate(&zs, Z_FINISH);
        size_t got = zs.total_out;
        inflateEnd(&zs);
        if (zrc != Z_STREAM_END || got != e->len) {
            free(text);
            return np_error_set(NP_ENOMEM, "cannot inflate a stored object (zlib %d)", zrc);
        }
    }
    text[e->len] = '\0';
    *out = text;
    return 0;
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

/* Parses a stored object; its text was produced by json-c, so failure means memory trouble. */
static int entry_parse(json_object **out, const struct entry *e, const char *key)
{
    char *text = NULL;
    *out = NULL;
    int rc = entry_text(e, &text);
    if (rc == 0)
        rc = np_kube_json_parse(out, text, e->len);
    free(text);
    if (rc)
        rc = np_kube_error_wrap(rc, "store: %.256s", key);
    return rc;
}

/* A dictionary from obj's text. */
static struct zdict *dict_of(json_object *obj)
{
    size_t len = 0;
    const char *text = json_object_to_json_string_length(
        obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
    return zdict_new(text, len);
}

/* An entry for obj deflated against the store's dictionary (obj's own text when the store
 * has none yet: the first object names it). */
static struct entry *store_entry_new(struct np_kube_store *s, json_object *obj)
{
    pthread_mutex_lock(&s->lock);
    struct zdict *d = zdict_acquire(s->dict);
    pthread_mutex_unlock(&s->lock);
    if (!d) {
        d = dict_of(obj);
        pthread_mutex_lock(&s->lock);
        if (!s->dict)
            s->dict = zdict_acquire(d);
        pthread_mutex_unlock(&s->lock);
    }
    struct entry *e = entry_new(obj, d);
    zdict_release(d);
    return e;
}

/* Bytes the store's objects take (deflated texts, their entries and dictionaries; not the
 * map itself), for tests and sizing. */
size_t np_kube_store_bytes(struct np_kube_store *s)
{
    size_t n = 0;
    pthread_mutex_lock(&s->lock);
    for (size_t b = 0; b < s->map->nbuckets; b++) {
        for (struct np_kube_strmap_entry *e = s->map->buckets[b]; e; e = e->next) {
            const struct entry *en = e->ptr;
            n += sizeof(*en) + en->zlen + (en->rv ? strlen(en->rv) + 1 : 0);
        }
    }
    n += s->dict ? sizeof(*s->dict) + s->dict->len : 0;
    pthread_mutex_unlock(&s->lock);
    return n;
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
    zdict_release(s->dict);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

/* The entry under key (a reference of the caller's), or NULL. */
static struct entry *find_entry(struct np_kube_store *s, const char *key)
{
    pthread_mutex_lock(&s->lock);
    struct np_kube_strmap_entry *e = key ? np_kube_strmap_find(s->map, key) : NULL;
    struct entry *en = e ? entry_acquire(e->ptr) : NULL;
    pthread_mutex_unlock(&s->lock);
    return en;
}

int np_kube_store_get(struct np_kube_store *s, json_object **out, const char *key)
{
    *out = NULL;
    struct entry *en = find_entry(s, key);
    if (!en)
        return np_error_set(NP_ENOTFOUND, "%.256s not in the store", key ? key : "(null)");
    int rc = entry_parse(out, en, key);
    entry_release(en);
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
            if (entry_parse(&obj, en, e->key) == 0)
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
    char *rv;           /* the list's resourceVersion, or NULL */
    struct zdict *dict; /* the first item's text */
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
    zdict_release(st->dict);
    free(st->rv);
    free(st);
}

void np_kube_store_stage_set_resource_version(struct np_kube_store_stage *st, const char *rv)
{
    free(st->rv);
    st->rv = np_str_is_empty(rv) ? NULL : np_strdup(rv);
}

/* The longest object of a page (NULL when empty): the best dictionary for its siblings (an
 * object cut down by the informer's transform, or not reconciled yet, shares less). */
static json_object *longest_item(json_object *items, size_t n)
{
    json_object *best = NULL;
    size_t best_len = 0;
    for (size_t i = 0; i < n; i++) {
        json_object *item = json_object_array_get_idx(items, i);
        size_t len = 0;
        json_object_to_json_string_length(
            item, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
        if (!best || len > best_len) {
            best = item;
            best_len = len;
        }
    }
    return best;
}

int np_kube_store_stage_add(struct np_kube_store_stage *st, json_object *items)
{
    char *key = NULL;
    if (!items || !json_object_is_type(items, json_type_array))
        return np_error_set(NP_EINVAL, "store: items is not an array");
    size_t n = json_object_array_length(items);
    if (!st->dict && n > 0)
        st->dict = dict_of(longest_item(items, n));
    for (size_t i = 0; i < n; i++) {
        json_object *item = json_object_array_get_idx(items, i);
        int rc = np_kube_object_key(&key, item);
        if (rc)
            return np_kube_error_wrap(rc, "store: item %zu", i);
        struct np_kube_strmap_entry *e = np_kube_strmap_upsert(st->map, key, NULL);
        entry_release(e->ptr); /* a duplicate key: the later item wins */
        if (!st->dict)
            st->dict = dict_of(item);
        e->ptr = entry_new(item, st->dict);
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
        if (h->on_add && entry_parse(&c, cur, key) == 0)
            h->on_add(h->ctx, key, c);
    } else if (cur && prev) {
        if (h->on_update && entry_parse(&p, prev, key) == 0 && entry_parse(&c, cur, key) == 0)
            h->on_update(h->ctx, key, p, c);
    } else if (prev) {
        if (h->on_delete && entry_parse(&p, prev, key) == 0)
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
    struct zdict *dict = st->dict;
    struct notes notes = {0};
    st->map = NULL;
    st->rv = NULL;
    st->dict = NULL;
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
    if (!s->dict) {
        s->dict = dict;
        dict = NULL;
    }
    pthread_mutex_unlock(&s->lock);
    map_destroy(old);
    zdict_release(dict);

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
        fresh = store_entry_new(s, obj);
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
            if (h->on_update && entry_parse(&prev, old, key) == 0)
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
    fresh = store_entry_new(s, obj);
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
